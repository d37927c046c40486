//! Backpressure and connection limits: one bad client cannot hurt the others.

mod common;
use common::*;
use server::Config;
use std::io::{Read, Write};
use std::time::Duration;

#[test]
fn a_client_pipelining_100k_requests_without_reading_stays_bounded_and_loses_nothing() {
    const N: usize = 100_000;
    let server = start_default();
    let addr = server.addr();
    let hog = Client::connect(addr);
    let mut writer = hog.stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let batch = GET_PLAINTEXT.repeat(1000);
        for _ in 0..N / 1000 {
            writer.write_all(&batch).unwrap();
        }
    });
    // While the hog is not reading, the server stops reading from it...
    let mut last = u64::MAX;
    eventually("server stops answering the hog", || {
        let now = server.stats().requests;
        std::thread::sleep(Duration::from_millis(100));
        std::mem::replace(&mut last, now) == now
    });
    assert!(last < N as u64);
    // ...and everyone else is still served promptly.
    for _ in 0..20 {
        let mut other = Client::connect(addr);
        assert_eq!(other.request(GET_PLAINTEXT).body, b"Hello, World!");
    }
    let stats = server.stats();
    assert_eq!(
        stats.requests,
        last + 20,
        "the server kept parsing for a client that does not read"
    );
    let one_response = 140;
    assert!(
        stats.peak_conn_write_pending < (server::WRITE_LIMIT + one_response) as u64,
        "{stats:?}"
    );
    assert!(stats.peak_conn_read_buffer <= 64 * 1024, "{stats:?}");

    // Now the hog reads: every one of its responses arrives, in full.
    let mut reader = hog.stream;
    reader.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut first = vec![0u8; 4096];
    let n = reader.read(&mut first).unwrap();
    let per_response = first
        .windows(4)
        .position(|w| w == b"!HTT")
        .map(|p| p + 1)
        .unwrap();
    let mut total = n;
    let mut buf = vec![0u8; 1 << 16];
    while total < N * per_response {
        let n = reader.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "server closed after {} of {} bytes",
            total,
            N * per_response
        );
        total += n;
    }
    assert_eq!(total, N * per_response);
    sender.join().unwrap();
    eventually("all requests counted", || {
        server.stats().requests == N as u64 + 20
    });
}

/// A big body grows the connection's read buffer (it is kept up to 64 KiB), so a burst
/// that follows is read in one or two reads and its responses pile up past the write limit.
fn grow_read_buffer(c: &mut Client) {
    let body = vec![b'x'; 40_000];
    let head = format!(
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut echo = head.into_bytes();
    echo.extend_from_slice(&body);
    assert_eq!(c.request(&echo).body.len(), body.len());
}

/// Sends a burst whose responses pass the write limit while the client keeps reading
/// (after shutting down its side, with `half_close`): every request left in the read buffer
/// once the socket is drained must still be answered, and with `half_close` the server then
/// closes.
fn burst_is_answered_in_full(half_close: bool) {
    let server = start_default();
    let mut c = Client::connect(server.addr());
    c.stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    grow_read_buffer(&mut c);
    let n = 3 * server::WRITE_LIMIT / 100;
    c.send(&GET_PLAINTEXT.repeat(n));
    if half_close {
        c.stream.shutdown(std::net::Shutdown::Write).unwrap();
    }
    for i in 0..n {
        let r = c
            .try_read_response(false)
            .unwrap_or_else(|e| panic!("response {i} of {n}: {e}"));
        assert_eq!(r.body, b"Hello, World!", "response {i}");
    }
    if half_close {
        assert!(c.is_closed());
    }
    assert_eq!(server.stats().requests, n as u64 + 1);
}

#[test]
fn a_pipelined_burst_larger_than_the_write_limit_is_answered_in_full() {
    burst_is_answered_in_full(false);
}

#[test]
fn a_burst_followed_by_a_half_close_is_answered_in_full_then_closed() {
    burst_is_answered_in_full(true);
}

#[test]
fn past_max_conns_new_connections_wait_in_the_backlog() {
    let server = start(Config {
        workers: 1,
        max_conns: 2,
        ..Config::default()
    });
    let mut a = Client::connect(server.addr());
    let mut b = Client::connect(server.addr());
    assert_eq!(a.request(GET_PLAINTEXT).status, 200);
    assert_eq!(b.request(GET_PLAINTEXT).status, 200);
    let mut waiting = Client::connect(server.addr());
    waiting.send(GET_PLAINTEXT);
    waiting
        .stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    assert!(
        waiting.try_read_response(false).is_err(),
        "a third connection was served"
    );
    assert_eq!(server.stats().accepted, 2);
    drop(a);
    waiting
        .stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(waiting.read_response().body, b"Hello, World!");
    assert_eq!(server.stats().accepted, 3);
}
