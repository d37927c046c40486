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
