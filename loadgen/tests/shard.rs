//! `--shard I/N`: shards of a run against the workspace's server add up to the whole run.

mod common;

use std::time::{Duration, SystemTime};

use loadgen::Config;
use loadgen::shard::Shard;
use loadgen::start::unix_s;

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
fn bad_shards_and_start_times_are_usage_errors_naming_the_flag() {
    let capacity = [
        "capacity",
        "--slo",
        "p99<5ms",
        "--shard",
        "1/2",
        "http://127.0.0.1:1/",
    ];
    for args in [
        &["--shard", "4/3", "http://127.0.0.1:1/"][..],
        &["--shard", "x", "http://127.0.0.1:1/"],
        &["--shard", "3/3", "-c", "2", "http://127.0.0.1:1/"],
        &["--shard", "1/3", "-R", "2", "http://127.0.0.1:1/"],
        &capacity,
    ] {
        usage_error(args, "--shard");
    }
    for args in [
        &["--start-at", "2020-01-01T00:00:00Z", "http://127.0.0.1:1/"][..],
        &["--start-at", "1000", "http://127.0.0.1:1/"],
        &["--start-at", "tomorrow", "http://127.0.0.1:1/"],
        &["--start-at", "+", "http://127.0.0.1:1/"],
    ] {
        usage_error(args, "--start-at");
    }
}

/// Exit 2 with one line naming `flag`.
fn usage_error(args: &[&str], flag: &str) {
    common::assert_one_line_error(&common::loadgen(args), 2, flag);
}

#[test]
fn start_at_begins_the_recorded_phase_at_that_instant_and_the_report_says_when() {
    let server = common::one_worker_server();
    let mut config = Config::new(format!("http://{}/plaintext", server.addr()));
    (config.threads, config.connections) = (1, 2);
    config.duration = Some(Duration::from_millis(300));
    let at = SystemTime::now() + Duration::from_millis(1_500);
    config.start_at = Some(at);
    let report = loadgen::run(&config).unwrap();
    let start = report.start.unwrap();
    assert!(start.start_at);
    assert_eq!(start.intended_unix_s, unix_s(at));
    // Recording did not begin before the instant (the lateness is the figure the report
    // gives; its size depends on the machine, so only a loose bound here).
    assert!((0.0..500.0).contains(&start.late_ms()), "{start:?}");
    assert!(SystemTime::now() >= at + Duration::from_millis(300));
    assert!(report.requests > 0 && report.errors.total == 0);
    // Connections opened a second early, but nothing was sent before the start: the server
    // saw exactly the recorded requests.
    assert_eq!(server.stats().requests, report.requests);
    assert!(!report.host.is_empty());
    // Without --start-at the intended start is the end of the warmup, not a given instant.
    config.start_at = None;
    assert!(!loadgen::run(&config).unwrap().start.unwrap().start_at);
}

#[test]
fn capacity_shards_offer_their_part_of_each_step() {
    let server = common::ok_server();
    let out = common::loadgen(&[
        "capacity",
        "-t1",
        "-c6",
        "--shard",
        "2/3",
        "--slo",
        "p99<1s",
        "--start-rate",
        "300",
        "--max-rate",
        "300",
        "--step-duration",
        "300ms",
        "--step-warmup",
        "0s",
        "--no-progress",
        "--json",
        "-",
        &server.url,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // The search is in whole-run rates; the step this shard ran offered a third of it.
    assert_eq!(doc["max_rate"], 300.0);
    assert_eq!(doc["steps"][0]["rate"], 100.0);
}
