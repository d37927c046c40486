//! `--server-pid`: the target's CPU (its threads and descendants, from /proc) in the text
//! and JSON reports; a missing PID is a usage error, a target that exits mid-run is not.

mod common;

use common::loadgen;

use std::process::{Child, Command};

use serde_json::Value;

/// Kills the child when the test ends, pass or fail.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_child_process_gets_a_target_section_with_the_cpu_it_burned() {
    let server = common::ok_server();
    // A target that spins for the whole run: most of a core, never none.
    let child = Reaped(
        Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .unwrap(),
    );
    let pid = child.0.id().to_string();
    let out = loadgen(&[
        "-t",
        "1",
        "-c",
        "2",
        "-d",
        "1s",
        "--server-pid",
        &pid,
        "--json",
        "-",
        &server.url,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let target = &json["target"];
    assert_eq!(target["pids"], serde_json::json!([child.0.id()]));
    let (cpu_s, util) = (
        target["cpu_s"].as_f64().unwrap(),
        target["cpu_util_pct"].as_f64().unwrap(),
    );
    // One spinning thread: up to one core (ticks round up a little), at least a fifth of it
    // on two cores shared with loadgen and the test server.
    assert!((0.2..=1.2).contains(&cpu_s), "cpu_s = {cpu_s}");
    assert!((20.0..=110.0).contains(&util), "cpu_util_pct = {util}");
    let requests = json["requests"].as_f64().unwrap();
    let per_request = target["cpu_us_per_request"].as_f64().unwrap();
    assert!((per_request - cpu_s * 1e6 / requests).abs() < 1e-6 * per_request.max(1.0));
    // The timeline's one full second has its own share, sampled on its boundaries.
    let second = &json["timeline"][0];
    let second_cpu_s =
        second["target_cpu_us_per_req"].as_f64().unwrap() * second["rps"].as_f64().unwrap() / 1e6;
    assert!(
        (0.2..=cpu_s + 0.011).contains(&second_cpu_s),
        "{second} vs {cpu_s}"
    );
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("Target CPU: ") && text.contains("% of a core), "),
        "{text}"
    );
    // Without the flag there is no target section at all.
    let out = loadgen(&["-t", "1", "-c", "2", "-n", "20", "--json", "-", &server.url]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json.get("target").is_none());
}

#[test]
fn the_test_process_itself_serves_so_its_cpu_is_counted() {
    // The test server's threads live in this process, so it is the target.
    let server = common::ok_server();
    let mut config = server.config();
    config.duration = Some(std::time::Duration::from_millis(500));
    config.server_pids = vec![std::process::id()];
    let report = loadgen::run(&config).unwrap();
    let target = report.target.expect("a target section");
    assert_eq!(target.pids, vec![std::process::id()]);
    assert!(target.cpu_s > 0.0, "{target:?}");
    assert!(
        target.cpu_util_pct > 0.0 && target.cpu_util_pct < 100.0 * 64.0,
        "{target:?}"
    );
    let per_request = target.cpu_s * 1e6 / report.requests as f64;
    assert!(
        (target.cpu_us_per_request - per_request).abs() < 1e-9,
        "{target:?}"
    );
}

#[test]
fn a_missing_pid_is_a_usage_error_before_the_run() {
    let server = common::ok_server();
    let out = loadgen(&["-n", "10", "--server-pid", "999999999", &server.url]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--server-pid") && err.contains("999999999"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1);
    assert_eq!(server.requests(), 0);
}

#[test]
fn a_target_that_exits_mid_run_is_reported_with_a_warning() {
    let server = common::ok_server();
    let mut child = Command::new("sleep").arg("0.3").spawn().unwrap();
    let pid = child.id().to_string();
    // Reap it as soon as it exits, or its zombie would still show in /proc.
    let reaper = std::thread::spawn(move || child.wait());
    let out = loadgen(&[
        "-t",
        "1",
        "-c",
        "2",
        "-d",
        "1500ms",
        "--server-pid",
        &pid,
        "--json",
        "-",
        &server.url,
    ]);
    reaper.join().unwrap().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!("--server-pid {pid} exited during the run")),
        "{err}"
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["target"]["cpu_s"].as_f64().unwrap() >= 0.0);
    assert!(
        json["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("exited"))
    );
}
