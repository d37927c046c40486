//! The built binary: exit codes, one-line usage errors, and the JSON report.

mod common;

use common::{loadgen, scratch_dir};

#[test]
fn bad_input_exits_2_with_one_line_naming_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (&["not a url"], "URL"),
        (&["ftp://127.0.0.1/"], "scheme must be http or https"),
        (&["-c", "0", "http://127.0.0.1:1/"], "--connections"),
        (&["-R", "0.5", "http://127.0.0.1:1/"], "--rate"),
        (&["-R", "fast", "http://127.0.0.1:1/"], "--rate"),
        (
            &["--body-file", "/nonexistent/body", "http://127.0.0.1:1/"],
            "--body-file",
        ),
        (&["-d", "forever", "http://127.0.0.1:1/"], "--duration"),
        (&["-H", "NoColon", "http://127.0.0.1:1/"], "--header"),
        (&["--pipeline", "0", "http://127.0.0.1:1/"], "--pipeline"),
        (&["-t", "0", "http://127.0.0.1:1/"], "--threads"),
        (&["--timeout", "0s", "http://127.0.0.1:1/"], "--timeout"),
        (&["-n", "0", "http://127.0.0.1:1/"], "--requests"),
    ];
    for (args, flag) in cases {
        let out = loadgen(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr:?} should name {flag}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr:?}");
    }
}

#[test]
fn unreachable_target_exits_1() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = loadgen(&["-d", "1s", &format!("http://127.0.0.1:{port}/")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect"));
}

#[test]
fn json_report_parses_and_matches_the_server() {
    let server = common::ok_server();
    let dir = scratch_dir("cli");
    let json_path = dir.join("report.json");
    let hgrm_path = dir.join("report.hgrm");
    let out = loadgen(&[
        "-t",
        "1",
        "-c",
        "4",
        "-n",
        "300",
        "--no-progress",
        "--latency",
        "--json",
        json_path.to_str().unwrap(),
        "--hgrm",
        hgrm_path.to_str().unwrap(),
        &server.url,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("300 requests in"), "{text}");
    assert!(text.contains("Detailed Percentile spectrum"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(json["requests"], 300);
    assert_eq!(json["requests"].as_u64(), Some(server.requests()));
    assert_eq!(json["status"]["200"], 300);
    assert_eq!(json["bytes_read"].as_u64(), Some(server.bytes_sent()));
    assert_eq!(json["errors"]["timeout"], 0);
    assert_eq!(json["mode"], "closed");
    for key in [
        "min", "mean", "stdev", "p50", "p75", "p90", "p99", "p99_9", "p99_99", "max",
    ] {
        assert!(json["latency_us"][key].as_f64().unwrap() > 0.0, "{key}");
    }
    assert!(json["generator"]["cpu_us_per_request"].as_f64().is_some());
    let hgrm = std::fs::read_to_string(&hgrm_path).unwrap();
    assert!(hgrm.contains("Total count    =          300]"), "{hgrm}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn json_to_stdout_keeps_stdout_pure() {
    let server = common::ok_server();
    let out = loadgen(&[
        "-t",
        "1",
        "-c",
        "2",
        "-n",
        "50",
        "-R",
        "1000",
        "--json",
        "-",
        &server.url,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["requests"], 50);
    assert_eq!(json["rate_target"], 1000.0);
    assert!(json["service_time_us"]["p99"].as_f64().is_some());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Requests/sec"));
}
