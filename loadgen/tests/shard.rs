//! `--shard I/N`: shards of a run against the workspace's server add up to the whole run.

mod common;

use loadgen::Config;
use loadgen::shard::Shard;

/// Requests per target name of one run of `config` (one thread, one connection per shard,
/// so requests leave in the mix's order).
fn per_target(config: &Config) -> Vec<(String, u64)> {
    let report = loadgen::run(config).unwrap();
    assert_eq!(report.errors.total, 0);
    report
        .targets
        .iter()
        .map(|t| (t.name.clone(), t.requests))
        .collect()
}

#[test]
fn the_union_of_shards_sends_the_mix_one_process_sends() {
    let server = common::one_worker_server();
    let a = server.addr();
    let dir = common::scratch_dir("shard-mix");
    let path = dir.join("targets.txt");
    std::fs::write(
        &path,
        format!(
            "GET http://{a}/plaintext name=a\n\nGET http://{a}/json weight=2 name=b\n\n\
             GET http://{a}/missing weight=3 name=c\n"
        ),
    )
    .unwrap();
    let mut whole = Config::new(format!("http://{a}/"));
    whole.targets = loadgen::mix::read(&path).unwrap();
    whole.targets_file = path.display().to_string();
    (whole.threads, whole.connections, whole.duration) = (1, 3, None);
    for n in [10, 17] {
        whole.requests = Some(n);
        let mut one = whole.clone();
        one.connections = 1;
        let expected = per_target(&one);
        for count in 2..=3 {
            let mut sum: Vec<(String, u64)> = expected.iter().map(|(n, _)| (n.clone(), 0)).collect();
            for index in 1..=count {
                let mut part = whole.clone();
                Shard { index, count }.apply(&mut part).unwrap();
                for (total, (_, got)) in sum.iter_mut().zip(per_target(&part)) {
                    total.1 += got;
                }
            }
            assert_eq!(sum, expected, "-n {n} over {count} shards");
        }
    }
}

#[test]
fn shards_of_a_closed_and_an_open_loop_run_add_up() {
    let server = common::one_worker_server();
    let mut whole = Config::new(format!("http://{}/plaintext", server.addr()));
    (whole.threads, whole.connections, whole.duration) = (2, 7, None);
    whole.requests = Some(101);
    let mut requests = 0;
    for index in 1..=3 {
        let mut part = whole.clone();
        Shard { index, count: 3 }.apply(&mut part).unwrap();
        let report = loadgen::run(&part).unwrap();
        assert_eq!(report.connections, [3, 2, 2][index as usize - 1]);
        requests += report.requests;
    }
    assert_eq!(requests, 101);
    // Open loop: each shard offers its third of the rate.
    whole.rate = Some(600.0);
    whole.requests = Some(60);
    let mut part = whole.clone();
    Shard { index: 2, count: 3 }.apply(&mut part).unwrap();
    let report = loadgen::run(&part).unwrap();
    assert_eq!((report.rate_target, report.requests), (Some(200.0), 20));
}

#[test]
fn bad_shards_are_usage_errors_naming_the_flag() {
    for args in [
        &["--shard", "4/3", "http://127.0.0.1:1/"][..],
        &["--shard", "x", "http://127.0.0.1:1/"],
        &["--shard", "3/3", "-c", "2", "http://127.0.0.1:1/"],
        &["--shard", "1/3", "-R", "2", "http://127.0.0.1:1/"],
        &[
            "capacity",
            "--slo",
            "p99<5ms",
            "--shard",
            "1/2",
            "http://127.0.0.1:1/",
        ],
    ] {
        let out = common::loadgen(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("--shard"), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    }
}
