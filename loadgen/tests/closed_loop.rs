//! Closed-loop runs against test servers with known behaviour.

mod common;

use std::time::Duration;

use common::{After, ok_server, response, serve};

#[test]
fn fixed_5ms_server_has_p50_between_5_and_6_ms() {
    let server = serve(|_, r| {
        std::thread::sleep(Duration::from_millis(5));
        r.send(&response(200));
        After::KeepOpen
    });
    let report = loadgen::run(&server.config()).unwrap();
    assert!(report.requests > 100, "{}", report.requests);
    let p50_ms = report.latency_us.p50 / 1_000.0;
    assert!((5.0..=6.0).contains(&p50_ms), "p50 {p50_ms} ms");
    assert_eq!(report.errors.total, 0);
    assert_eq!(report.incomplete, 0);
    assert_eq!(report.requests, server.requests());
}

#[test]
fn request_count_is_exact() {
    let server = ok_server();
    let mut config = server.config();
    config.threads = 2;
    config.connections = 8;
    config.duration = None;
    config.requests = Some(1000);
    let report = loadgen::run(&config).unwrap();
    assert_eq!(server.requests(), 1000);
    assert_eq!(report.requests, 1000);
    assert_eq!(report.sent, 1000);
    assert_eq!(report.status.get("200"), Some(&1000));
    assert_eq!(report.bytes_read, server.bytes_sent());
}

#[test]
fn status_counts_are_exact() {
    const CODES: [u16; 5] = [200, 204, 304, 404, 503];
    let server = serve(|index, r| {
        r.send(&response(CODES[index as usize % CODES.len()]));
        After::KeepOpen
    });
    let mut config = server.config();
    config.requests = Some(500);
    let report = loadgen::run(&config).unwrap();
    for code in CODES {
        assert_eq!(report.status.get(&code.to_string()), Some(&100), "{code}");
    }
    let class = |c: &str| report.status_class.get(c).copied();
    assert_eq!((class("2xx"), class("3xx")), (Some(200), Some(100)));
    assert_eq!((class("4xx"), class("5xx")), (Some(100), Some(100)));
    assert_eq!(report.errors.total, 0);
}

#[test]
fn connection_close_on_every_response_loses_nothing() {
    let server = serve(|_, r| {
        r.send(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
        After::Close
    });
    let mut config = server.config();
    config.requests = Some(300);
    let report = loadgen::run(&config).unwrap();
    assert_eq!(report.requests, 300);
    assert_eq!(server.requests(), 300);
    assert_eq!(report.errors.total, 0);
    assert_eq!(report.incomplete, 0);
    assert!(server.seen.connections.load(std::sync::atomic::Ordering::SeqCst) >= 300);
}

#[test]
fn chunked_bodies_split_over_writes() {
    let server = serve(|_, r| {
        r.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
        r.send(b"lo\r\n3;ext\r\n, w\r");
        r.send(b"\n4\r\norld\r\n0\r\n\r\n");
        After::KeepOpen
    });
    let mut config = server.config();
    config.requests = Some(200);
    let report = loadgen::run(&config).unwrap();
    assert_eq!(report.requests, 200);
    assert_eq!(report.errors.total, 0);
    assert_eq!(report.bytes_read, server.bytes_sent());
}

#[test]
fn close_delimited_bodies() {
    let server = serve(|_, r| {
        r.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody until ");
        r.send(b"the connection closes");
        After::Close
    });
    let mut config = server.config();
    config.requests = Some(100);
    let report = loadgen::run(&config).unwrap();
    assert_eq!(report.requests, 100);
    assert_eq!(report.status.get("200"), Some(&100));
    assert_eq!(report.errors.total, 0);
    assert_eq!(report.bytes_read, server.bytes_sent());
}

#[test]
fn head_responses_carry_no_body() {
    let server = serve(|_, r| {
        r.send(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n");
        After::KeepOpen
    });
    let mut config = server.config();
    config.method = "HEAD".to_string();
    config.requests = Some(100);
    let report = loadgen::run(&config).unwrap();
    assert_eq!((report.requests, report.errors.total), (100, 0));
}

#[test]
fn malformed_responses_are_parse_errors() {
    let server = serve(|_, r| {
        r.send(b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n");
        After::KeepOpen
    });
    let mut config = server.config();
    config.connections = 1;
    config.duration = None;
    config.requests = Some(20);
    let report = loadgen::run(&config).unwrap();
    assert_eq!(report.errors.by_kind.parse, 20);
    assert_eq!((report.requests, server.requests()), (0, 20));
}

#[test]
fn silent_server_times_out_each_request_once_and_run_ends() {
    let server = serve(|_, _| After::KeepOpen); // reads requests, never answers
    let mut config = server.config();
    config.connections = 2;
    config.timeout = Duration::from_millis(400);
    let started = std::time::Instant::now();
    let report = loadgen::run(&config).unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(1000 + 400 + 1000), "{elapsed:?}");
    assert_eq!(report.requests, 0);
    assert!(report.errors.by_kind.timeout >= 4, "{:?}", report.errors);
    // Every request the server saw is counted exactly once: timed out or left unanswered.
    assert_eq!(
        report.errors.by_kind.timeout + report.incomplete,
        server.requests()
    );
    assert_eq!(report.errors.total, report.errors.by_kind.timeout);
}

#[test]
fn unreachable_target_is_an_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = loadgen::Config::new(format!("http://127.0.0.1:{port}/"));
    match loadgen::run(&config) {
        Err(loadgen::RunError::Unreachable(message)) => assert!(message.contains("connect")),
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[test]
fn method_headers_and_body_are_sent() {
    let server = ok_server();
    let mut config = server.config();
    config.method = "POST".to_string();
    config.headers = vec![("X-Test".to_string(), "yes".to_string())];
    config.body = b"{\"like\":true}".to_vec();
    config.requests = Some(50);
    let report = loadgen::run(&config).unwrap();
    assert_eq!((report.requests, server.requests()), (50, 50));
    let (head, body) = server.seen.last_request.lock().unwrap().clone();
    assert!(head.starts_with("POST /test HTTP/1.1\r\n"), "{head}");
    assert!(head.contains("\r\nX-Test: yes\r\n"), "{head}");
    assert!(head.contains("\r\nContent-Length: 13\r\n"), "{head}");
    assert_eq!(body, b"{\"like\":true}");
}

#[test]
fn a_request_stuck_until_the_timeout_does_not_lower_the_rate() {
    // The very first request is never answered; every other one is, at once.
    let server = serve(|index, r| {
        if index > 0 {
            r.send(&response(200));
        }
        After::KeepOpen
    });
    let mut config = server.config();
    config.connections = 2;
    config.duration = Some(Duration::from_millis(500));
    config.timeout = Duration::from_millis(1500);
    let report = loadgen::run(&config).unwrap();
    assert_eq!(report.errors.by_kind.timeout, 1, "{:?}", report.errors);
    // The window is the 500 ms of load; the wait for the stuck request comes after it.
    assert!(
        (0.45..0.7).contains(&report.duration_s),
        "duration_s {}",
        report.duration_s
    );
    assert!(report.drain_s >= 0.7, "drain_s {}", report.drain_s);
    let rps = report.requests as f64 / report.duration_s;
    assert!(
        (report.rps - rps).abs() < 1e-6 * rps,
        "rps {} vs {rps}",
        report.rps
    );
}
