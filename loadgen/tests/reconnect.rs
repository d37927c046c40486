//! Connections closed by the server, and a server that goes away mid-run.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::{After, serve};

fn close_after_one_response() -> common::TestServer {
    serve(|_, r| {
        r.send(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
        After::Close
    })
}

/// 100 requests pipelined 4 deep to a server that answers one per connection and closes:
/// the unanswered ones are re-sent on a new connection, never counted as errors.
fn assert_every_request_answered_once(server: common::TestServer) {
    let mut config = server.config();
    config.pipeline = 4;
    config.duration = None;
    config.requests = Some(100);
    let report = loadgen::run(&config).unwrap();
    assert_eq!((report.requests, server.requests()), (100, 100));
    assert_eq!(report.errors.total, 0, "{:?}", report.errors);
    assert_eq!(report.incomplete, 0);
}

#[test]
fn pipelined_requests_behind_a_close_are_sent_again() {
    assert_every_request_answered_once(close_after_one_response());
}

#[test]
fn pipelined_requests_behind_a_close_delimited_body_are_sent_again() {
    // No Content-Length: the body ends when the server closes, after one answer.
    assert_every_request_answered_once(serve(|_, r| {
        r.send(b"HTTP/1.1 200 OK\r\n\r\nuntil close");
        After::Close
    }));
}

#[test]
fn open_loop_survives_closes() {
    let server = close_after_one_response();
    let mut config = server.config();
    config.rate = Some(400.0);
    config.duration = None;
    config.requests = Some(200);
    let report = loadgen::run(&config).unwrap();
    assert_eq!((report.requests, server.requests()), (200, 200));
    assert_eq!(report.errors.total, 0);
}

#[test]
fn server_going_away_counts_errors_and_the_run_still_ends() {
    // Answers 50 requests, then closes every connection and stops listening.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let answered = Arc::new(AtomicU64::new(0));
    let gone = Arc::new(AtomicBool::new(false));
    let (count, down) = (answered.clone(), gone.clone());
    std::thread::spawn(move || {
        while !down.load(Ordering::SeqCst) {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(1));
                continue;
            };
            stream.set_nonblocking(false).unwrap();
            let (count, down) = (count.clone(), down.clone());
            std::thread::spawn(move || {
                let mut buffer = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buffer) {
                    if n == 0 || down.load(Ordering::SeqCst) {
                        return;
                    }
                    if count.fetch_add(1, Ordering::SeqCst) >= 49 {
                        down.store(true, Ordering::SeqCst);
                    }
                    let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
                    if stream.write_all(reply).is_err() {
                        return;
                    }
                }
            });
        }
        // Dropping the listener here refuses every later connection.
    });
    let mut config = loadgen::Config::new(url);
    config.threads = 1;
    config.connections = 1;
    config.duration = Some(Duration::from_millis(800));
    let started = std::time::Instant::now();
    let report = loadgen::run(&config).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(report.requests, 50);
    assert!(report.errors.by_kind.connect > 0, "{:?}", report.errors);
    // Every failed attempt has its reason: nothing listens any more.
    let reasons = report.errors.by_kind.connect_reasons;
    assert_eq!(reasons.refused, report.errors.by_kind.connect, "{reasons:?}");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["errors"]["connect_reasons"]["refused"], reasons.refused);
    assert_eq!(json["errors"]["connect_reasons"]["timed_out"], 0);
    // The one request that found the connection closing is counted once, as a read error.
    assert_eq!(report.errors.by_kind.read, 1, "{:?}", report.errors);
}
