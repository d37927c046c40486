//! `--assert` through the built binary: exit codes 0 / 2 / 3, each verdict printed, usage
//! errors caught before any load is sent (`loadgen compare`: tests/compare.rs).

mod common;

use common::{closed_port_url, loadgen};

use std::process::Output;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
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
    // A run that got as far as connecting would exit 1, not 2.
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
