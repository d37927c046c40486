//! Open loop: constant rate from one schedule per thread, latency from intended send time.

mod common;

use std::time::Duration;

use common::{After, ok_server, response, serve};

#[test]
fn a_stall_shows_in_response_time_not_in_service_time() {
    // One connection, so the 200 ms stall holds up every request scheduled behind it:
    // a closed-loop tool would record one slow sample, the open loop records them all.
    let server = serve(|index, r| {
        if index == 100 {
            std::thread::sleep(Duration::from_millis(200));
        }
        r.send(&response(200));
        After::KeepOpen
    });
    let mut config = server.config();
    config.connections = 1;
    config.rate = Some(200.0);
    config.duration = Some(Duration::from_secs(2));
    let report = loadgen::run(&config).unwrap();
    let service = report.service_time_us.unwrap();
    assert!(
        report.latency_us.p99 >= 100_000.0,
        "response p99 {} us",
        report.latency_us.p99
    );
    assert!(service.p99 < 20_000.0, "service p99 {} us", service.p99);
    assert!(service.max >= 200_000.0, "service max {} us", service.max);
    assert_eq!(report.errors.total, 0);
    assert_eq!(report.requests, server.requests());
}

#[test]
fn sends_at_the_target_rate() {
    let server = ok_server();
    let mut config = server.config();
    config.threads = 2;
    config.rate = Some(500.0);
    let report = loadgen::run(&config).unwrap();
    // 1 s at 500/s: intended times 0, 2 ms, ... 998 ms on each of two 250/s schedules.
    assert!((495..=500).contains(&report.sent), "sent {}", report.sent);
    assert_eq!(report.requests, report.sent);
    assert_eq!(report.requests, server.requests());
    let lag = report.send_lag_us.unwrap();
    assert!(lag.p50 < 1_000.0, "send lag p50 {} us", lag.p50);
    assert_eq!(report.mode, "open");
    assert_eq!(report.backlog, Some(0));
}

#[test]
fn open_loop_respects_the_request_count() {
    let server = ok_server();
    let mut config = server.config();
    config.rate = Some(2_000.0);
    config.duration = None;
    config.requests = Some(300);
    let report = loadgen::run(&config).unwrap();
    assert_eq!((report.sent, report.requests, server.requests()), (300, 300, 300));
}

#[test]
fn a_target_too_slow_for_the_rate_is_blamed_not_the_generator() {
    // 2 connections, 10 ms per answer: at most 200/s get through, 400/s are offered, so
    // requests wait for a connection. That lag is the target's, and it is in the latency.
    let server = serve(|_, r| {
        std::thread::sleep(Duration::from_millis(10));
        r.send(&response(200));
        After::KeepOpen
    });
    let mut config = server.config();
    config.connections = 2;
    config.rate = Some(400.0);
    let report = loadgen::run(&config).unwrap();
    let (lag, generator) = (report.send_lag_us.unwrap(), report.generator_lag_us.unwrap());
    assert!(lag.p50 > 100_000.0, "send lag p50 {} us", lag.p50);
    assert!(generator.p50 < 1_000.0, "generator lag p50 {} us", generator.p50);
    assert!(
        report.latency_us.p50 >= lag.p50,
        "the wait is in the response time"
    );
    assert!(
        matches!(
            report.late_sends(),
            Some(loadgen::report::LateSends::NoFreeConnection(_))
        ),
        "{:?}",
        report.warnings
    );
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(
        report.warnings[0].contains("waited a median"),
        "{:?}",
        report.warnings
    );
    assert!(!report.warnings[0].contains("describe the load generator"));
}

#[test]
fn stages_send_the_integral_of_the_ramp() {
    let server = ok_server();
    let mut config = server.config();
    config.threads = 2;
    // 0 -> 400/s over 1 s (200 requests), then 400/s for 1 s (400): 600 in all.
    config.stages = loadgen::schedule::ramp::parse("1s:400,1s:400").unwrap();
    config.duration = Some(Duration::from_secs(2));
    let report = loadgen::run(&config).unwrap();
    assert!((594..=606).contains(&report.sent), "sent {}", report.sent);
    assert_eq!(report.requests, report.sent);
    assert_eq!(report.requests, server.requests());
    assert_eq!(report.rate_target, Some(300.0));
    assert_eq!(report.mode, "open");
    assert_eq!(report.stages.len(), 2);
    let lag = report.send_lag_us.unwrap();
    assert!(lag.p50 < 1_000.0, "send lag p50 {} us", lag.p50);
    // The timeline follows the ramp: 200 requests in the first second, 400 in the second.
    let seconds: Vec<(u64, Option<f64>, f64)> = report
        .timeline
        .iter()
        .map(|s| (s.t, s.offered_rps, s.sent_rps * s.length_s))
        .collect();
    assert_eq!(seconds.len(), 2, "{seconds:?}");
    assert_eq!((seconds[0].0, seconds[0].1), (0, Some(200.0)));
    assert_eq!((seconds[1].0, seconds[1].1), (1, Some(400.0)));
    assert!((196.0..=204.0).contains(&seconds[0].2), "{seconds:?}");
    assert!((396.0..=404.0).contains(&seconds[1].2), "{seconds:?}");
}

#[test]
fn svg_with_stages_draws_rates_and_latency_over_time() {
    let server = ok_server();
    let dir = common::scratch_dir("stages-svg");
    let svg = dir.join("stages.svg");
    let out = common::loadgen(&[
        "-t1",
        "-c2",
        "--no-progress",
        "--stages",
        "1s:100,1s:100",
        "--svg",
        svg.to_str().unwrap(),
        &server.url,
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let texts = common::svg_texts(&svg);
    for label in [
        "offered",
        "sent",
        "answered",
        "p50",
        "p99",
        "Seconds into the recorded run",
    ] {
        assert!(texts.iter().any(|t| t == label), "{label}: {texts:?}");
    }
    assert!(String::from_utf8_lossy(&out.stdout).contains("open loop ramping through 1s:100,1s:100"));
}
