//! `--assert` and `loadgen compare` through the built binary: exit codes 0 / 2 / 3, each
//! verdict printed, usage errors caught before any load is sent.

mod common;

use common::{loadgen, scratch_dir};

use std::process::Output;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// A port nothing listens on: a run that got that far would exit 1, not 2.
fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}/", listener.local_addr().unwrap())
}

#[test]
fn passing_assertions_exit_0_and_failing_ones_exit_3_with_the_report() {
    let server = common::ok_server();
    let run = |asserts: &[&str]| {
        let mut args = vec!["-t", "1", "-c", "2", "-n", "200", "--no-progress"];
        for a in asserts {
            args.extend(["--assert", a]);
        }
        args.push(&server.url);
        loadgen(&args)
    };
    let out = run(&[
        "errors == 0",
        "p99 < 5s",
        "requests==200",
        "non2xx==0",
        "timeouts<=0",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("assert errors==0: ok (errors = 0)"), "{err}");
    assert!(err.contains("assert requests==200: ok (requests = 200)"), "{err}");
    assert!(err.contains("assert p99<5s: ok (p99 = "), "{err}");

    let out = run(&["requests == 200", "rps > 1000000000", "max < 1ns"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("assert requests==200: ok"), "{err}");
    assert!(err.contains("assert rps>1000000000: FAILED (rps = "), "{err}");
    assert!(err.contains("assert max<1ns: FAILED (max = "), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("200 requests in"));
}

#[test]
fn bad_assertions_exit_2_before_the_run() {
    let url = closed_port_url();
    for (expr, extra) in [
        ("p99.9x < 2ms", None),
        ("p99 < 2", None),
        ("errors < 1s", None),
        ("p99 < 2h", None),
        ("p99 => 2ms", None),
        ("target_cpu_us_per_req < 10", None),
        ("service_p99 < 1ms", None),
        ("service_p99 < 1ms", Some("-R")),
    ] {
        let mut args = vec!["-d", "1s", "--assert", expr];
        if extra.is_some() {
            // Open loop makes service time legal, so only the unreachable target stops it.
            args.extend(["-R", "10"]);
        }
        args.push(&url);
        let out = loadgen(&args);
        let err = stderr(&out);
        if extra.is_some() {
            assert_eq!(out.status.code(), Some(1), "{expr}: {err}");
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{expr}: {err}");
        let metric = expr.split_whitespace().next().unwrap();
        assert!(err.contains("--assert") && err.contains(metric), "{expr}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(out.stdout.is_empty(), "no banner: nothing ran");
    }
}

fn report_json(rps: f64, p99_us: f64, errors: u64) -> String {
    serde_json::json!({
        "rps": rps, "requests": 1000, "incomplete": 0,
        "errors": {"connect": 0, "read": errors, "write": 0, "timeout": 0, "parse": 0, "total": errors},
        "status_class": {"2xx": 1000},
        "latency_us": {"min": 10.0, "mean": 50.0, "stdev": 5.0, "p50": 40.0, "p75": 45.0,
                       "p90": 60.0, "p99": p99_us, "p99_9": 300.0, "p99_99": 400.0, "max": 500.0},
        "target": {"pids": [1], "cpu_s": 1.0, "cpu_util_pct": 50.0, "cpu_us_per_request": 6.0},
    })
    .to_string()
}

#[test]
fn compare_exit_codes_on_crafted_reports() {
    let dir = scratch_dir("compare");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let base = write("base.json", &report_json(1000.0, 100.0, 0));
    let same = write("same.json", &report_json(980.0, 104.0, 0));
    let worse = write("worse.json", &report_json(1000.0, 120.0, 0));
    let errors = write("errors.json", &report_json(1000.0, 100.0, 1));
    let broken = write("broken.json", "{not json");
    let other = write("other.json", "{\"hello\": 1}");

    let out = loadgen(&["compare", &base, &same]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    for row in ["rps", "p50", "p99", "p99.9", "errors", "target_cpu_us_per_req"] {
        assert!(
            table.lines().any(|l| l.starts_with(&format!("{row} "))),
            "{row}: {table}"
        );
    }
    assert!(table.contains("lower-is-better") && table.contains("higher-is-better"));
    assert!(table.contains("0 of 6 metrics regressed (band 5%)"), "{table}");

    let out = loadgen(&["compare", &base, &worse]);
    assert_eq!(out.status.code(), Some(3));
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    let p99 = table.lines().find(|l| l.starts_with("p99 ")).unwrap();
    assert!(p99.contains("+20.00%") && p99.ends_with("regressed"), "{p99}");
    // Within a 25% band the same move is fine.
    let out = loadgen(&["compare", &base, &worse, "--max-regression", "25%"]);
    assert_eq!(out.status.code(), Some(0));
    // One error where there were none regresses whatever the band.
    let out = loadgen(&[
        "compare",
        &base,
        &errors,
        "--max-regression",
        "50%",
        "--metric",
        "errors",
    ]);
    assert_eq!(out.status.code(), Some(3));
    // The other way round is an improvement.
    let out = loadgen(&["compare", &worse, &base, "--metric", "p99,p50"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("improved"));
    let out = loadgen(&[
        "compare", &base, &worse, "--metric", "p50", "p99.99", "--metric", "rps",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    let names: Vec<&str> = table
        .lines()
        .skip(1)
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert_eq!(names, ["p50", "p99.99", "rps", "0"], "{table}");

    for (args, needle) in [
        (vec!["compare", &base, &broken], "not valid JSON"),
        (vec!["compare", &base, &other], "not a loadgen JSON report"),
        (vec!["compare", &base, "/nonexistent/x.json"], "cannot read"),
        (vec!["compare", &base, &same, "--metric", "p42x"], "--metric"),
        (
            vec!["compare", &base, &same, "--metric", "service_p99"],
            "--metric",
        ),
        (
            vec!["compare", &base, &same, "--max-regression=-3%"],
            "--max-regression",
        ),
        (
            vec!["compare", &base, &same, "--max-regression", "lots"],
            "--max-regression",
        ),
        (vec!["compare", &base], "<NEW>"),
    ] {
        let out = loadgen(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compare_reads_real_reports() {
    let server = common::ok_server();
    let dir = scratch_dir("compare-real");
    let json = dir.join("run.json");
    let json = json.to_str().unwrap();
    let out = loadgen(&["-t", "1", "-c", "2", "-n", "100", "--json", json, &server.url]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = loadgen(&["compare", json, json]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(table.contains("0 of 5 metrics regressed"), "{table}");
    std::fs::remove_dir_all(&dir).unwrap();
}
