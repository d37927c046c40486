//! Every error status: exact code, a text body, and whether the connection closes.

mod common;
use common::*;
use server::Config;
use std::time::{Duration, Instant};

/// Sends `req` on a fresh connection; returns the response and whether the server then closed.
fn exchange(cfg: Config, req: &[u8]) -> (Response, bool) {
    let server = start(cfg);
    let mut c = Client::connect(server.addr());
    let r = c.request(req);
    let closed = c.is_closed();
    (r, closed)
}

fn one_worker() -> Config {
    Config {
        workers: 1,
        ..Config::default()
    }
}

fn assert_error(req: &[u8], status: u16, body_starts: &str) {
    let (r, closed) = exchange(one_worker(), req);
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(req));
    assert!(r.body_text().starts_with(body_starts), "body {:?}", r.body_text());
    assert_eq!(r.header("connection"), Some("close"));
    assert!(closed, "connection should close after {status}");
}

#[test]
fn malformed_requests_get_400_and_close() {
    assert_error(
        b"GET /plaintext HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n",
        400,
        "400 Bad Request: malformed header",
    );
    assert_error(b"GET\r\n\r\n", 400, "400 Bad Request");
    assert_error(
        b"GET /plaintext HTTP/1.1\r\n\r\n",
        400,
        "400 Bad Request: missing Host header",
    );
}

#[test]
fn smuggling_attempts_get_400_and_close() {
    for req in [
        &b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"[..],
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3x\r\n\r\nabc",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: +3\r\n\r\nabc",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n",
    ] {
        assert_error(req, 400, "400 Bad Request");
    }
}

#[test]
fn unsupported_transfer_coding_gets_501() {
    assert_error(
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        501,
        "501 Not Implemented",
    );
}

#[test]
fn other_http_versions_get_505() {
    assert_error(
        b"GET /plaintext HTTP/2.0\r\nHost: t\r\n\r\n",
        505,
        "505 HTTP Version Not Supported",
    );
}

#[test]
fn long_request_line_gets_414() {
    let req = format!(
        "GET /{} HTTP/1.1\r\nHost: t\r\n\r\n",
        "a".repeat(server::MAX_REQUEST_LINE)
    );
    assert_error(req.as_bytes(), 414, "414 URI Too Long");
}

#[test]
fn header_section_over_the_limit_gets_431() {
    let cfg = Config {
        max_header_bytes: 1024,
        ..one_worker()
    };
    let req = format!(
        "GET /plaintext HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
        "b".repeat(1100)
    );
    let (r, closed) = exchange(cfg, req.as_bytes());
    assert_eq!(r.status, 431);
    assert!(closed);
    let many: String = (0..70).map(|i| format!("X-{i}: v\r\n")).collect();
    assert_error(
        format!("GET /plaintext HTTP/1.1\r\nHost: t\r\n{many}\r\n").as_bytes(),
        431,
        "431",
    );
}

#[test]
fn body_over_the_limit_gets_413_without_being_read() {
    let cfg = Config {
        max_body_bytes: 1000,
        ..one_worker()
    };
    let server = start(cfg);
    let mut c = Client::connect(server.addr());
    // Declares 1 GB and sends none of it: the answer comes from the head alone.
    let r = c.request(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000000\r\n\r\n");
    assert_eq!((r.status, r.header("connection")), (413, Some("close")));
    assert!(c.is_closed());
    assert!(server.stats().peak_conn_read_buffer < 64 * 1024);

    let mut c = Client::connect(server.addr());
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    c.send(b"400\r\n");
    c.send(&[b'x'; 1024]);
    assert_eq!(c.read_response().status, 413);
    assert!(c.is_closed());
}

#[test]
fn wrong_method_gets_405_with_allow_and_keeps_the_connection() {
    let server = start_default();
    let mut c = Client::connect(server.addr());
    let r = c.request(b"DELETE /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD")));
    assert_eq!(r.body_text(), "405 Method Not Allowed\n");
    let r = c.request(b"GET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    let r = c.request(b"GET /nowhere?x=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!((r.status, r.body_text()), (404, "404 Not Found\n"));
    assert_eq!(r.header("connection"), None);
    assert_eq!(c.request(GET_PLAINTEXT).status, 200);
}

#[test]
fn slow_head_gets_408_then_close() {
    let cfg = Config {
        header_timeout: Duration::from_millis(200),
        ..one_worker()
    };
    let server = start(cfg);
    let mut c = Client::connect(server.addr());
    // A keep-alive request first: the header clock starts at the next request's first byte.
    assert_eq!(c.request(GET_PLAINTEXT).status, 200);
    let started = Instant::now();
    c.send(b"GET /plaintext HTTP/1.1\r\nHost:");
    let r = c.read_response();
    assert_eq!((r.status, r.header("connection")), (408, Some("close")));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(190) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    assert!(c.is_closed());
}

#[test]
fn idle_keep_alive_connection_is_closed_quietly() {
    let cfg = Config {
        keepalive_timeout: Duration::from_millis(200),
        ..one_worker()
    };
    let server = start(cfg);
    let mut c = Client::connect(server.addr());
    assert_eq!(c.request(GET_PLAINTEXT).status, 200);
    let started = Instant::now();
    assert!(c.is_closed(), "closed without a response");
    assert!(started.elapsed() >= Duration::from_millis(190));
    eventually("connection counted closed", || server.stats().open == 0);
}

#[test]
fn a_silent_new_connection_is_closed_at_the_header_timeout() {
    let cfg = Config {
        header_timeout: Duration::from_millis(150),
        ..one_worker()
    };
    let server = start(cfg);
    let mut c = Client::connect(server.addr());
    let started = Instant::now();
    assert!(c.is_closed());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(140) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
}

#[test]
fn error_answers_to_head_have_no_body() {
    let long_header = format!("HEAD / HTTP/1.1\r\nHost: t\r\nX: {}\r\n\r\n", "a".repeat(20_000));
    let long_line = format!("HEAD /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(9_000));
    for (req, status) in [
        (&b"HEAD /plaintext HTTP/1.1\r\n\r\n"[..], 400),
        (b"HEAD / HTTP/1.1\r\nHost: t\r\nHost: u\r\n\r\n", 400),
        (b"HEAD / HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n", 400),
        (b"HEAD / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
        (
            b"HEAD / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999\r\n\r\n",
            413,
        ),
        (
            b"HEAD / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            501,
        ),
        (long_header.as_bytes(), 431),
        (long_line.as_bytes(), 414),
    ] {
        let server = start(one_worker());
        let mut c = Client::connect(server.addr());
        c.send(req);
        let all = c.read_to_end();
        let text = String::from_utf8_lossy(&all);
        let head_end = text.find("\r\n\r\n").expect("a complete head") + 4;
        assert!(text.starts_with(&format!("HTTP/1.1 {status} ")), "{text}");
        assert!(
            text.contains("Content-Length: "),
            "HEAD keeps GET's headers: {text}"
        );
        assert_eq!(&text[head_end..], "", "no body after the head for {status}");
    }
}

#[test]
fn a_head_request_that_times_out_gets_408_without_a_body() {
    let server = start(Config {
        header_timeout: Duration::from_millis(100),
        ..one_worker()
    });
    let mut c = Client::connect(server.addr());
    c.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n");
    let all = c.read_to_end();
    let text = String::from_utf8_lossy(&all);
    assert!(text.starts_with("HTTP/1.1 408 "), "{text}");
    assert!(text.ends_with("\r\n\r\n"), "no body: {text}");
}
