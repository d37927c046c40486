//! Connection churn: `--no-keepalive` (a new connection per request) and
//! `--requests-per-conn N`, counted by the server that received them, and the connect-time
//! figures in the report.

mod common;

use common::{After, loadgen, response, serve};

fn our_server() -> server::ServerHandle {
    server::start(server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        workers: 1,
        ..Default::default()
    })
    .unwrap()
}

fn config(server: &server::ServerHandle, requests: u64) -> loadgen::Config {
    let mut config = loadgen::Config::new(format!("http://{}/plaintext", server.addr()));
    config.threads = 1;
    config.connections = 4;
    config.duration = None;
    config.requests = Some(requests);
    config
}

/// Connections the server accepted, less loadgen's one reachability check before the run.
fn connections_for_the_run(server: &server::ServerHandle) -> u64 {
    server.stats().accepted - 1
}

#[test]
fn no_keepalive_makes_exactly_one_connection_per_request() {
    let server = our_server();
    let mut config = config(&server, 200);
    config.requests_per_conn = Some(1);
    let report = loadgen::run(&config).unwrap();
    assert_eq!((report.requests, report.errors.total), (200, 0));
    assert_eq!(report.status.get("200"), Some(&200));
    assert_eq!(report.connections_opened, 200);
    assert_eq!(connections_for_the_run(&server), 200);
    assert!(report.connect_us.p50 > 0.0 && report.connect_us.p99 >= report.connect_us.p50);
}

#[test]
fn requests_per_conn_closes_after_n_also_when_pipelining_and_in_open_loop() {
    for (pipeline, rate) in [(1, None), (3, None), (1, Some(2000.0))] {
        let server = our_server();
        let mut config = config(&server, 200);
        config.requests_per_conn = Some(10);
        config.pipeline = pipeline;
        config.rate = rate;
        let report = loadgen::run(&config).unwrap();
        assert_eq!(
            (report.requests, report.errors.total),
            (200, 0),
            "{pipeline} {rate:?}"
        );
        assert_eq!(report.connections_opened, 20, "{pipeline} {rate:?}");
        assert_eq!(connections_for_the_run(&server), 20, "{pipeline} {rate:?}");
    }
}

#[test]
fn a_server_that_ignores_connection_close_is_closed_by_loadgen() {
    // Keeps every connection open whatever the request says.
    let server = serve(|_, r| {
        r.send(&response(200));
        After::KeepOpen
    });
    let mut config = server.config();
    config.duration = None;
    config.requests = Some(50);
    config.requests_per_conn = Some(5);
    let report = loadgen::run(&config).unwrap();
    assert_eq!((report.requests, report.errors.total), (50, 0));
    // One reachability check, then ten connections of five requests.
    assert_eq!(
        server.seen.connections.load(std::sync::atomic::Ordering::SeqCst),
        11
    );
    let (head, _) = server.seen.last_request.lock().unwrap().clone();
    assert!(
        head.contains("\r\nConnection: close\r\n"),
        "the fifth request says so: {head}"
    );
}

#[test]
fn the_report_shows_connections_and_bad_flags_are_usage_errors() {
    let server = our_server();
    let url = format!("http://{}/plaintext", server.addr());
    let out = loadgen(&["-t1", "-c2", "-n", "20", "--no-keepalive", "--no-progress", &url]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Connections: 20 opened, connect p50 "), "{text}");
    for (args, flag) in [
        (
            &["--no-keepalive", "--requests-per-conn", "3"][..],
            "--requests-per-conn",
        ),
        (&["--requests-per-conn", "0"], "--requests-per-conn"),
    ] {
        let mut all = vec!["-n", "5"];
        all.extend_from_slice(args);
        all.push(&url);
        let out = loadgen(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?}: {err}");
    }
}
