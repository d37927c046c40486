//! Buffers belong to work: an idle connection holds none (the server's `buffers_lent` is 0
//! once every connection is idle), a partial request survives its buffer going back, a slow
//! reader holds one write buffer, and thousands of idle connections all answer afterwards.
mod common;
use common::*;
use std::io::{BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

fn lent(handle: &server::ServerHandle) -> u64 {
    handle.stats().buffers_lent
}

#[test]
fn idle_connections_hold_no_buffers() {
    let handle = start_default();
    let mut clients: Vec<Client> = (0..50).map(|_| Client::connect(handle.addr())).collect();
    for c in &mut clients {
        assert_eq!(c.request(GET_PLAINTEXT).status, 200);
    }
    eventually("every buffer back", || lent(&handle) == 0);
    assert!(handle.stats().peak_buffers_lent >= 2, "{:?}", handle.stats());
    // And they are lent again on demand.
    for c in &mut clients {
        assert_eq!(c.request(GET_PLAINTEXT).body_text(), "Hello, World!");
    }
    eventually("every buffer back again", || lent(&handle) == 0);
}

#[test]
fn a_partial_request_survives_its_buffer_going_back() {
    let handle = start_default();
    let mut c = Client::connect(handle.addr());
    let request = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n, worl\r\n1\r\nd\r\n0\r\n\r\n";
    // Cut inside the head, inside a chunk-size line, inside chunk data, before the end.
    let cuts = [10, 40, 70, 78, request.len() - 3, request.len()];
    let mut from = 0;
    for to in cuts {
        c.send(&request[from..to]);
        from = to;
        if to < request.len() {
            // The server read the piece and gave its buffer back, keeping only the bytes.
            eventually("the piece is read and the buffer returned", || {
                let s = handle.stats();
                s.bytes_in as usize == to && s.buffers_lent == 0
            });
        }
    }
    let r = c.read_response();
    assert_eq!((r.status, r.body_text()), (200, "hello, world"));
    // A Content-Length body the same way.
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n01234");
    eventually("buffer returned mid-body", || lent(&handle) == 0);
    c.send(b"56789");
    assert_eq!(c.read_response().body_text(), "0123456789");
}

#[test]
fn a_reader_that_stops_reading_holds_at_most_its_two_buffers() {
    let handle = start_default();
    let mut c = Client::connect(handle.addr());
    c.stream.set_nonblocking(true).unwrap();
    let batch = GET_PLAINTEXT.repeat(2_000);
    // Pipeline without reading until the server has stopped reading: its output waits.
    let mut last_in = u64::MAX;
    eventually("the server stops reading", || {
        match c.stream.write(&batch) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e}"),
        }
        std::thread::sleep(Duration::from_millis(20));
        let bytes_in = handle.stats().bytes_in;
        let stopped = bytes_in == last_in;
        last_in = bytes_in;
        stopped
    });
    // Its unsent responses keep their write buffer, never more than the limit and one
    // response; unparsed requests keep the read buffer (or, when few, only their bytes).
    let s = handle.stats();
    assert!(
        s.peak_conn_write_pending < server::WRITE_LIMIT as u64 + 1024,
        "{s:?}"
    );
    assert!((1..=2).contains(&s.buffers_lent), "{s:?}");
}

/// 10,000 connections held idle against the server binary (the test holds one end of each,
/// the server the other: each process stays under a 20,000 descriptor limit), then a
/// request on every one of them; the exit summary says no buffer was left out.
#[test]
fn ten_thousand_idle_connections_then_traffic_on_all() {
    let mut cmd = Command::new(SERVER_BIN);
    cmd.args([
        "--listen",
        "127.0.0.1:0",
        "--workers",
        "1",
        "--max-conns",
        "20000",
    ])
    .stderr(Stdio::piped());
    let (mut child, addr, _) = spawn_listening(cmd);
    let mut clients = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        let mut c = Client::connect(addr);
        c.send(GET_PLAINTEXT);
        clients.push(c);
    }
    for c in &mut clients {
        assert_eq!(c.read_response().status, 200);
    }
    for c in &mut clients {
        c.send(GET_PLAINTEXT);
    }
    for c in &mut clients {
        assert_eq!(c.read_response().body_text(), "Hello, World!");
    }
    drop(clients);
    oscalls::process::signal(child.id(), libc::SIGTERM);
    let mut stderr = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(child.wait().unwrap().success(), "{stderr}");
    let summary = stderr
        .lines()
        .find(|l| l.contains("connections accepted"))
        .expect(&stderr);
    assert!(
        summary.contains("accepted 10000 open 0, requests 20000"),
        "{summary}"
    );
    assert!(summary.contains("buffers lent 0 (peak "), "{summary}");
}
