//! Cross-check against the workspace's own server: loadgen's counts equal the server's.

use std::time::Duration;

use loadgen::Config;

fn our_server() -> server::ServerHandle {
    let cfg = server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        workers: 1,
        ..Default::default()
    };
    server::start(cfg).expect("server starts")
}

/// The server counts a request when it answers it; wait for the last answers to be counted.
fn settled_requests(server: &server::ServerHandle) -> u64 {
    let mut last = u64::MAX;
    loop {
        let now = server.stats().requests;
        if now == last {
            return now;
        }
        last = now;
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn closed_loop_response_count_equals_the_servers_request_counter() {
    let server = our_server();
    let mut config = Config::new(format!("http://{}/plaintext", server.addr()));
    config.threads = 2;
    config.connections = 20;
    config.duration = Some(Duration::from_millis(500));
    let report = loadgen::run(&config).unwrap();
    assert!(report.requests > 1000, "{}", report.requests);
    assert_eq!((report.errors.total, report.incomplete), (0, 0));
    assert_eq!(report.status.get("200"), Some(&report.requests));
    assert_eq!(report.requests, settled_requests(&server));
}

#[test]
fn pipelined_and_counted_runs_match_exactly() {
    let server = our_server();
    let mut config = Config::new(format!("http://{}/json", server.addr()));
    config.threads = 1;
    config.connections = 8;
    config.pipeline = 16;
    config.duration = None;
    config.requests = Some(5000);
    let report = loadgen::run(&config).unwrap();
    assert_eq!(report.requests, 5000);
    assert_eq!(settled_requests(&server), 5000);
    assert_eq!(report.bytes_read, server.stats().bytes_out);
}
