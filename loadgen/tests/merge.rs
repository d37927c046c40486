//! `loadgen merge`: shards' reports (real runs of the built binary against the workspace's
//! server) merged exactly, and refused when they are not the shards of one run.

mod common;

use std::path::{Path, PathBuf};

use common::{loadgen, scratch_dir};
use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use loadgen::report::histograms::{decode, encode};
use serde_json::Value;

/// Runs shard `shard` of `-n 300` against `url` and returns its report's path.
fn shard(dir: &Path, name: &str, shard: &str, extra: &[&str], url: &str) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    let mut args = vec!["-t1", "-c3", "-n", "300", "--shard", shard, "--no-progress"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--json", path.to_str().unwrap(), url]);
    let out = loadgen(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn merge(args: &[&Path], extra: &[&str]) -> std::process::Output {
    let mut all: Vec<&str> = vec!["merge"];
    all.extend(args.iter().map(|p| p.to_str().unwrap()));
    all.extend_from_slice(extra);
    loadgen(&all)
}

fn histogram_of(report: &Value) -> Histogram<u64> {
    decode(report["histograms"]["response"].as_str().unwrap()).unwrap()
}

#[test]
fn three_shards_merge_to_what_the_server_served() {
    let server = common::one_worker_server();
    let url = format!("http://{}/plaintext", server.addr());
    let dir = scratch_dir("merge-exact");
    let parts: Vec<PathBuf> = (1..=3)
        .map(|i| shard(&dir, &format!("s{i}"), &format!("{i}/3"), &[], &url))
        .collect();
    let out_path = dir.join("merged.json");
    let hlog_path = dir.join("merged.hlog");
    let refs: Vec<&Path> = parts.iter().map(PathBuf::as_path).collect();
    let out = merge(
        &refs,
        &[
            "--json",
            out_path.to_str().unwrap(),
            "--hlog",
            hlog_path.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Merged 3 shards"), "{stdout}");
    let merged = read(&out_path);
    assert_eq!(merged["requests"], 300);
    assert_eq!(merged["requests"].as_u64(), Some(server.stats().requests));
    assert_eq!(merged["status"]["200"], 300);
    assert_eq!(merged["connections"], 3);
    assert_eq!(merged["shards"].as_array().unwrap().len(), 3);
    // Started one after the other, without --start-at: the skew is flagged.
    assert!(
        merged["warnings"].to_string().contains("started up to"),
        "{}",
        merged["warnings"]
    );
    // The shards' timelines, aligned on wall-clock time, still hold every response.
    let counted: f64 = merged["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rps"].as_f64().unwrap() * s["length_s"].as_f64().unwrap())
        .sum();
    assert_eq!(counted.round(), 300.0, "{}", merged["timeline"]);
    // The merged histogram is the sum of the shards' (read independently here), and its
    // percentiles are that sum's.
    let mut sum = histogram_of(&read(&parts[0]));
    for part in &parts[1..] {
        sum.add(histogram_of(&read(part))).unwrap();
    }
    assert_eq!(histogram_of(&merged), sum);
    // The interval log: one interval per shard, together the merged histogram.
    let log = std::fs::read(&hlog_path).unwrap();
    let mut from_log: Option<Histogram<u64>> = None;
    let mut intervals = 0;
    for entry in IntervalLogIterator::new(&log) {
        let Ok(LogEntry::Interval(interval)) = entry else {
            continue;
        };
        let h = decode(interval.encoded_histogram()).unwrap();
        intervals += 1;
        match &mut from_log {
            Some(total) => total.add(h).unwrap(),
            None => from_log = Some(h),
        }
    }
    assert_eq!((intervals, from_log), (3, Some(sum.clone())));
    let p99 = sum.value_at_quantile(0.99) as f64 / 1_000.0;
    assert_eq!(merged["latency_us"]["p99"].as_f64(), Some(p99));
    // compare and --assert work on the merged report.
    let same = loadgen(&["compare", out_path.to_str().unwrap(), out_path.to_str().unwrap()]);
    assert_eq!(same.status.code(), Some(0));
    assert_eq!(
        merge(&refs, &["--assert", "requests==300"]).status.code(),
        Some(0)
    );
    assert_eq!(merge(&refs, &["--assert", "requests<300"]).status.code(), Some(3));
}

#[test]
fn merging_two_reports_equals_one_run_of_the_same_samples() {
    let server = common::ok_server();
    let url = server.url.clone();
    let dir = scratch_dir("merge-samples");
    let samples: Vec<u64> = (0..20_000u64).map(|i| 1_000 + (i * 7_919) % 5_000_000).collect();
    let mut all = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
    let mut halves = [all.clone(), all.clone()];
    for (i, v) in samples.iter().enumerate() {
        all.record(*v).unwrap();
        halves[i % 2].record(*v).unwrap();
    }
    // Two real shard reports, their response histograms replaced by the two halves.
    let parts: Vec<PathBuf> = (0..2)
        .map(|i| {
            let path = shard(&dir, &format!("h{i}"), &format!("{}/2", i + 1), &[], &url);
            let mut report = read(&path);
            report["histograms"]["response"] = Value::from(encode(&halves[i]));
            std::fs::write(&path, report.to_string()).unwrap();
            path
        })
        .collect();
    let out_path = dir.join("merged.json");
    let out = merge(&[&parts[0], &parts[1]], &["--json", out_path.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged = read(&out_path);
    assert_eq!(histogram_of(&merged), all);
    for (key, q) in [("p50", 0.5), ("p99", 0.99), ("p99_9", 0.999)] {
        let expected = all.value_at_quantile(q) as f64 / 1_000.0;
        assert_eq!(merged["latency_us"][key].as_f64(), Some(expected), "{key}");
    }
}

#[test]
fn reports_of_different_runs_or_the_same_shard_twice_are_refused() {
    let server = common::ok_server();
    let url = server.url.clone();
    let dir = scratch_dir("merge-refuse");
    let one = shard(&dir, "one", "1/2", &[], &url);
    let other_run = shard(&dir, "other", "2/2", &["-m", "HEAD"], &url);
    let other_n = shard(&dir, "three", "2/3", &[], &url);
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "{\"not\": \"a report\"}").unwrap();
    for (files, says) in [
        (vec![&one, &other_run], "different runs"),
        (vec![&one, &one], "shard 1/2 given twice"),
        (vec![&one, &other_n], "the shards of one run share N"),
        (vec![&one, &garbage], "garbage.json: not a loadgen JSON report"),
    ] {
        let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
        common::assert_one_line_error(&merge(&paths, &[]), 2, says);
    }
}

#[test]
fn a_failed_shard_is_reported_missing() {
    let server = common::ok_server();
    let url = server.url.clone();
    let dir = scratch_dir("merge-missing");
    let first = shard(&dir, "s1", "1/3", &[], &url);
    let third = shard(&dir, "s3", "3/3", &[], &url);
    // Shard 2 cannot reach its target: it exits 1 and writes no report.
    let lost = dir.join("s2.json");
    let failed = loadgen(&[
        "-t1",
        "-c3",
        "-n",
        "300",
        "--shard",
        "2/3",
        "--json",
        lost.to_str().unwrap(),
        &common::closed_port_url(),
    ]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(!lost.exists());
    common::assert_one_line_error(&merge(&[&first, &third], &[]), 1, "shard 2/3 missing");
    // --partial merges what there is and says what is missing.
    let out_path = dir.join("partial.json");
    let out = merge(
        &[&first, &third],
        &["--partial", "--json", out_path.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0));
    let merged = read(&out_path);
    assert_eq!(merged["requests"], 200);
    let warnings = merged["warnings"].to_string();
    assert!(warnings.contains("shard 2/3 missing"), "{warnings}");
    // A shard that ran but got no response at all is flagged by name.
    let mut silent = read(&third);
    silent["requests"] = Value::from(0);
    std::fs::write(&third, silent.to_string()).unwrap();
    let out = merge(
        &[&first, &third],
        &["--partial", "--json", out_path.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0));
    let warnings = read(&out_path)["warnings"].to_string();
    assert!(
        warnings.contains("shard 3/3 on") && warnings.contains("no responses"),
        "{warnings}"
    );
}
