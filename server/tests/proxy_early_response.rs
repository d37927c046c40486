//! An upstream that answers an upload before taking all of it (RFC 9112 §9.6), over real
//! loopback sockets: the client gets that response with `Connection: close`, then a
//! lingering close, instead of a 502 or a hang.

mod common;
use common::*;
use server::{Config, ProxyRoute, ServerHandle};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener};
use std::time::{Duration, Instant};

const REFUSED: &[u8] = b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 8\r\n\r\ntoo big\n";

/// An upstream that reads one request head, answers `REFUSED` at once and then either
/// closes with the body unread (a reset) or reads the rest until the proxy closes.
fn refusing_upstream(drain: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "EOF before the head");
            got.extend_from_slice(&buf[..n]);
        }
        s.write_all(REFUSED).unwrap();
        if drain {
            while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
        }
    });
    addr
}

fn proxy_to(upstream: SocketAddr) -> ServerHandle {
    start(Config {
        workers: 1,
        proxy: vec![ProxyRoute::parse(&format!("/=http://{upstream}")).unwrap()],
        max_body_bytes: 1 << 30,
        ..Config::default()
    })
}

/// Sends a 64 MiB upload (sized or chunked) from another thread, ignoring write errors
/// once the proxy stops reading; returns the whole reply up to the proxy's close.
fn upload_refused(proxy: &ServerHandle, chunked: bool) -> String {
    let mut c = Client::connect(proxy.addr());
    let mut writer = c.stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let piece = vec![b'u'; 1 << 20];
        let head = match chunked {
            false => format!(
                "PUT /up HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
                64 << 20
            ),
            true => "PUT /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_string(),
        };
        let mut sent = writer.write_all(head.as_bytes());
        for _ in 0..64 {
            if chunked && sent.is_ok() {
                sent = writer.write_all(format!("{:x}\r\n", piece.len()).as_bytes());
            }
            sent = sent.and_then(|()| writer.write_all(&piece));
            if chunked && sent.is_ok() {
                sent = writer.write_all(b"\r\n");
            }
        }
        let _ = writer.shutdown(Shutdown::Write);
    });
    let reply = String::from_utf8(c.read_to_end()).unwrap();
    sender.join().unwrap();
    reply
}

/// The upstream's answer as relayed, and the proxy's close right after it.
const RELAYED: &str = "HTTP/1.1 413 Content Too Large\r\nVia: 1.1 evloop\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo big\n";

#[test]
fn an_upload_refused_at_its_head_gets_the_upstreams_answer_when_the_upstream_resets() {
    let proxy = proxy_to(refusing_upstream(false));
    let started = Instant::now();
    let reply = upload_refused(&proxy, false);
    assert_eq!(reply, RELAYED);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let s = proxy.stats();
    assert_eq!((s.proxied, s.upstream_bad_gateway, s.upstream_idle), (1, 0, 0));
}

#[test]
fn a_chunked_upload_refused_at_its_head_gets_the_upstreams_answer_when_the_upstream_drains() {
    let proxy = proxy_to(refusing_upstream(true));
    let reply = upload_refused(&proxy, true);
    assert_eq!(reply, RELAYED);
    let s = proxy.stats();
    assert_eq!((s.proxied, s.upstream_bad_gateway, s.upstream_idle), (1, 0, 0));
}

#[test]
fn an_interim_100_continue_during_an_upload_does_not_cut_it_short() {
    const BODY: usize = 8 << 20;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Reads the head, says 100 Continue, reads the whole body, answers with its size.
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let head_end = loop {
            if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = s.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
        };
        s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").unwrap();
        let mut body = got.len() - head_end;
        while body < BODY {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "EOF after {body} body bytes");
            body += n;
        }
        let size = body.to_string();
        let reply = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{size}", size.len());
        s.write_all(reply.as_bytes()).unwrap();
    });
    let proxy = proxy_to(addr);
    let mut c = Client::connect(proxy.addr());
    let mut writer = c.stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let head = format!("PUT /up HTTP/1.1\r\nHost: t\r\nContent-Length: {BODY}\r\n\r\n");
        writer.write_all(head.as_bytes()).unwrap();
        writer.write_all(&vec![b'u'; BODY]).unwrap();
    });
    let r = c.read_response();
    sender.join().unwrap();
    assert_eq!((r.status, r.body_text()), (200, BODY.to_string().as_str()));
    assert_eq!(r.header("connection"), None);
}
