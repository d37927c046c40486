//! Graceful shutdown through the library handle.

mod common;
use common::*;

#[test]
fn shutdown_finishes_requests_in_flight_closes_idle_ones_and_joins() {
    let server = start_default();
    let mut idle = Client::connect(server.addr());
    assert_eq!(idle.request(GET_PLAINTEXT).status, 200);
    let mut busy = Client::connect(server.addr());
    busy.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nabc");
    eventually("first half read", || server.stats().bytes_in > 80);
    server.shutdown();
    assert!(idle.is_closed());
    // No new connections are taken once draining.
    eventually("listener closed", || {
        std::net::TcpStream::connect(server.addr()).is_err()
    });
    busy.send(b"def");
    let r = busy.read_response();
    assert_eq!(
        (r.status, r.body_text(), r.header("connection")),
        (200, "abcdef", Some("close"))
    );
    assert!(busy.is_closed());
    eventually("workers finished", || server.is_finished());
    server.join().unwrap();
}

#[test]
fn pipelined_requests_already_received_are_all_answered_on_shutdown() {
    let server = start_default();
    let mut c = Client::connect(server.addr());
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nx");
    eventually("partial request read", || server.stats().bytes_in > 0);
    server.shutdown();
    c.send(b"yGET /plaintext HTTP/1.1\r\nHost: t\r\n\r\nGET /json HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.read_response().body_text(), "xy");
    assert_eq!(c.read_response().body_text(), "Hello, World!");
    let last = c.read_response();
    assert_eq!(last.header("connection"), Some("close"));
    assert!(c.is_closed());
    server.join().unwrap();
}
