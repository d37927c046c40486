//! `loadgen compare` through the built binary, over real reports: a run against itself is
//! `~` everywhere (exit 0), the same run with its seconds 20% slower fails (exit 3), several
//! runs a side switch to the run as the unit, too few seconds say so, and reports of other
//! targets, unreadable files and bad flags are usage errors (exit 2, one line).

mod common;

use common::{loadgen, scratch_dir};

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// A copy of `report` with every second's throughput times `rps` and latency times `lat`.
fn scaled(report: &Value, rps: f64, lat: f64) -> Value {
    let mut copy = report.clone();
    for second in copy["timeline"].as_array_mut().unwrap() {
        for (key, factor) in [("rps", rps), ("p50_us", lat), ("p99_us", lat)] {
            second[key] = (second[key].as_f64().unwrap() * factor).into();
        }
    }
    copy
}

fn write(dir: &Path, name: &str, report: &Value) -> String {
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, report.to_string()).unwrap();
    path.to_str().unwrap().to_string()
}

/// The verdict column of `metric`'s row in the table.
fn row<'a>(table: &'a str, metric: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.starts_with(&format!("{metric} ")))
        .unwrap_or_else(|| panic!("no {metric} row: {table}"))
}

#[test]
fn compare_over_real_reports() {
    let server = common::ok_server();
    let dir = scratch_dir("compare-real");
    let run_json = dir.join("run.json");
    let run_json = run_json.to_str().unwrap();
    // Five full seconds at a steady rate: enough for a within-run test.
    let out = loadgen(&[
        "-t",
        "1",
        "-c",
        "2",
        "-d",
        "5s",
        "-R",
        "400",
        "--json",
        run_json,
        &server.url,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(run_json).unwrap()).unwrap();

    // Against itself: no significant change anywhere.
    let verdict_json = dir.join("verdict.json");
    let verdict_json = verdict_json.to_str().unwrap();
    let out = loadgen(&["compare", run_json, run_json, "--json", verdict_json]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = stdout(&out);
    for metric in ["rps", "p50", "p99", "errors"] {
        let line = row(&table, metric);
        assert!(line.contains(" ~ ") && line.contains("block bootstrap"), "{line}");
    }
    assert!(table.contains("no metric significantly worse"), "{table}");
    let verdict: Value = serde_json::from_str(&std::fs::read_to_string(verdict_json).unwrap()).unwrap();
    let rps = &verdict["metrics"][0];
    assert_eq!(
        (rps["metric"].as_str(), rps["verdict"].as_str()),
        (Some("rps"), Some("~"))
    );
    assert_eq!(rps["samples"]["base"].as_u64(), Some(5));
    assert!(rps["ci_low"].as_f64().unwrap() <= 0.0 && rps["ci_high"].as_f64().unwrap() >= 0.0);

    // The same seconds 20% slower: worse, beyond 5%, exit 3; within a 30% band, exit 0.
    let slow = write(&dir, "slow.json", &scaled(&report, 0.8, 1.25));
    let out = loadgen(&["compare", run_json, &slow]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let table = stdout(&out);
    assert!(
        row(&table, "rps").contains("-20.00%") && row(&table, "rps").contains("worse"),
        "{table}"
    );
    // Latency jumps between seconds of a real run on a busy machine: +25% of it may or may
    // not be significant. The open-loop throughput is steady, so -20% always is.
    assert!(row(&table, "p50").contains("+25.00%") && row(&table, "p99").contains("+25.00%"));
    assert!(
        table.contains("of 4 metrics significantly worse by more than 5%"),
        "{table}"
    );
    let out = loadgen(&["compare", run_json, &slow, "--max-regression", "30%"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = loadgen(&["compare", &slow, run_json, "--metric", "rps", "--json", "-"]);
    assert_eq!(out.status.code(), Some(0));
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["metrics"][0]["verdict"], "better");

    // Three runs a side: the run is the unit (Welch t on the run means).
    let fast = [1.0, 1.01, 0.99].map(|f| scaled(&report, f, 1.0));
    let slower = [0.9, 0.91, 0.89].map(|f| scaled(&report, f, 1.0));
    let base: Vec<String> = fast
        .iter()
        .enumerate()
        .map(|(i, r)| write(&dir, &format!("b{i}.json"), r))
        .collect();
    let new: Vec<String> = slower
        .iter()
        .enumerate()
        .map(|(i, r)| write(&dir, &format!("n{i}.json"), r))
        .collect();
    let mut args = vec!["compare", "--metric", "rps", "--base"];
    args.extend(base.iter().map(String::as_str));
    args.push("--new");
    args.extend(new.iter().map(String::as_str));
    let out = loadgen(&args);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let line = row(&stdout(&out), "rps").to_string();
    assert!(
        line.contains("worse") && line.contains("Welch t on run means, 3/3 runs, 15/15 s"),
        "{line}"
    );

    // The same runs as pairs made in turns: every pair is ~10% slower, so paired t says so.
    args.push("--paired");
    let out = loadgen(&args);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let line = row(&stdout(&out), "rps").to_string();
    assert!(
        line.contains("worse") && line.contains("paired t on run ratios, 3/3 runs"),
        "{line}"
    );
    let out = loadgen(&["compare", "--paired", "--base", run_json, &slow, "--new", &slow]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--paired: 2 base reports but 1 new"),
        "{}",
        stderr(&out)
    );

    // Too few seconds: an explicit verdict, and nothing fails.
    let mut short = report.clone();
    short["timeline"].as_array_mut().unwrap().truncate(3);
    let short = write(&dir, "short.json", &short);
    let out = loadgen(&["compare", &short, &slow]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        row(&stdout(&out), "rps").contains("not enough samples"),
        "{}",
        stdout(&out)
    );

    // Another path on the same server is another target.
    let mut other = report.clone();
    other["url"] = format!("{}json", server.url).into();
    let other = write(&dir, "other.json", &other);
    let out = loadgen(&["compare", run_json, &other]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("reports of different targets cannot be compared"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compare_usage_errors_exit_2_with_one_line() {
    let dir = scratch_dir("compare-usage");
    let broken = write(&dir, "broken.json", &Value::String("{not json".into()));
    std::fs::write(&broken, "{not json").unwrap();
    let other = write(&dir, "other.json", &serde_json::json!({"hello": 1}));
    let good = write(
        &dir,
        "good.json",
        &serde_json::json!({"url": "http://h/", "rps": 1.0, "latency_us": {"p50": 1.0}}),
    );
    for (args, needle) in [
        (vec!["compare", &good, &broken], "not valid JSON"),
        (vec!["compare", &good, &other], "not a loadgen JSON report"),
        (vec!["compare", &good, "/nonexistent/x.json"], "cannot read"),
        (vec!["compare", &good, &good, "--metric", "p42x"], "--metric"),
        (
            vec!["compare", &good, &good, "--metric", "service_p99"],
            "--metric",
        ),
        (
            vec!["compare", &good, &good, "--max-regression=-3%"],
            "--max-regression",
        ),
        (
            vec!["compare", &good, &good, "--max-regression", "lots"],
            "--max-regression",
        ),
        (vec!["compare", &good], "BASE.json NEW.json"),
        (
            vec!["compare", "--base", &good],
            "--base FILE... and --new FILE...",
        ),
        (vec!["compare", &good, &good, "--new", &good], "not both"),
    ] {
        let out = loadgen(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
