//! Keep-alive, pipelining, HEAD, HTTP/1.0, bodies: the normal paths over real sockets.

mod common;
use common::*;
use std::time::Duration;

#[test]
fn plaintext_and_json_meet_techempower_headers() {
    let server = start_default();
    let mut c = Client::connect(server.addr());
    let r = c.request(GET_PLAINTEXT);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"Hello, World!");
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.header("content-length"), Some("13"));
    assert_eq!(r.header("server"), Some("evloop"));
    assert_eq!(r.header("date").map(str::len), Some(29));
    assert_eq!(r.header("connection"), None);

    let r = c.request(b"GET /json HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v, serde_json::json!({"message": "Hello, World!"}));
    assert_eq!(r.header("content-length"), Some("27"));
}

#[test]
fn sixteen_pipelined_requests_in_one_write_get_sixteen_ordered_responses() {
    let server = start_default();
    let mut c = Client::connect(server.addr());
    let mut batch = Vec::new();
    for i in 0..16 {
        let path = if i % 2 == 0 { "/plaintext" } else { "/json" };
        batch.extend_from_slice(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
    }
    c.send(&batch);
    for i in 0..16 {
        let r = c.read_response();
        assert_eq!(r.status, 200);
        let expected: &[u8] = if i % 2 == 0 {
            b"Hello, World!"
        } else {
            br#"{"message":"Hello, World!"}"#
        };
        assert_eq!(r.body, expected, "response {i}");
    }
    // One read, one parse pass, one write: the client sees them in one or very few reads.
    assert!(c.reads <= 3, "took {} reads", c.reads);
    // Counters are bumped right after the syscall returns, which can be after we read.
    eventually("16 requests counted", || server.stats().requests == 16);
    eventually("one write counted", || server.stats().writes == 1);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(server.stats().writes, 1, "16 responses went out in one write");
}

#[test]
fn a_request_sent_one_byte_at_a_time_gets_one_response() {
    let server = start_default();
    let mut c = Client::connect(server.addr());
    let req =
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: text/x\r\nContent-Length: 11\r\n\r\nhello world";
    for b in req.iter() {
        c.send(std::slice::from_ref(b));
        std::thread::sleep(Duration::from_micros(200));
    }
    let r = c.read_response();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"hello world"[..]));
    assert_eq!(r.header("content-type"), Some("text/x"));
    assert_eq!(c.request(GET_PLAINTEXT).status, 200);
}

#[test]
fn http10_closes_unless_keep_alive_is_asked_for() {
    let server = start_default();
    let mut c = Client::connect(server.addr());
    let r = c.request(b"GET /plaintext HTTP/1.0\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed());

    let mut c = Client::connect(server.addr());
    let r = c.request(b"GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(r.header("connection"), Some("keep-alive"));
    let r = c.request(b"GET /json HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(r.status, 200);
}

#[test]
fn connection_close_is_honoured() {
    let server = start_default();
    let mut c = Client::connect(server.addr());
    let r = c.request(b"GET /plaintext HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed());
}

#[test]
fn head_gets_get_headers_and_no_body() {
    let server = start_default();
    let mut c = Client::connect(server.addr());
    c.send(b"HEAD /json HTTP/1.1\r\nHost: t\r\n\r\nHEAD /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.try_read_response(true).unwrap();
    assert_eq!((r.status, r.header("content-length")), (200, Some("27")));
    assert!(r.body.is_empty());
    let r = c.try_read_response(true).unwrap();
    assert_eq!((r.status, r.header("content-length")), (200, Some("13")));
    // Nothing else arrives: the bodies were not sent.
    assert_eq!(c.request(GET_PLAINTEXT).body, b"Hello, World!");
}

#[test]
fn chunked_body_with_extensions_and_trailers_is_decoded() {
    let server = start_default();
    let mut c = Client::connect(server.addr());
    c.send(
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n",
    );
    c.send(b"5;ext=1\r\nhello\r\n");
    c.send(b"6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n");
    let r = c.read_response();
    assert_eq!((r.status, r.body_text()), (200, "hello world"));
    assert_eq!(r.header("content-length"), Some("11"));
    // The stream stays in sync after the trailers.
    assert_eq!(c.request(GET_PLAINTEXT).status, 200);
}

#[test]
fn expect_100_continue_is_answered_before_the_body() {
    let server = start_default();
    let mut c = Client::connect(server.addr());
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    let interim = c.read_response();
    assert_eq!(interim.status, 100);
    c.send(b"ping");
    let r = c.read_response();
    assert_eq!((r.status, r.body_text()), (200, "ping"));

    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(c.read_response().status, 100);
    c.send(b"2\r\nok\r\n0\r\n\r\n");
    assert_eq!(c.read_response().body_text(), "ok");
}

#[test]
fn bodies_sent_to_other_routes_are_skipped_and_the_stream_stays_in_sync() {
    let server = start_default();
    let mut c = Client::connect(server.addr());
    c.send(b"GET /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nXXXXXGET /json HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.read_response().body, b"Hello, World!");
    assert_eq!(c.read_response().header("content-type"), Some("application/json"));
}

#[test]
fn two_thousand_concurrent_connections_are_all_answered() {
    let server = start(server::Config {
        workers: 2,
        ..Default::default()
    });
    let mut clients: Vec<Client> = (0..2000).map(|_| Client::connect(server.addr())).collect();
    for c in &mut clients {
        c.send(GET_PLAINTEXT);
    }
    for c in &mut clients {
        assert_eq!(c.read_response().body, b"Hello, World!");
    }
    eventually("2000 requests counted", || server.stats().requests == 2000);
    let stats = server.stats();
    assert_eq!((stats.accepted, stats.open), (2000, 2000));
}

#[test]
fn date_header_follows_the_clock_from_one_second_to_the_next() {
    let server = start_default();
    let mut c = Client::connect(server.addr());
    let first = c.request(GET_PLAINTEXT).header("date").unwrap().to_string();
    let parsed = httpdate::parse_http_date(&first).unwrap();
    let now = std::time::SystemTime::now();
    assert!(
        now.duration_since(parsed).unwrap() < Duration::from_secs(2),
        "{first} is not now"
    );
    // Wait for the next wall-clock second (at most ~1 s), then the header must differ.
    let nanos = now.duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    std::thread::sleep(Duration::from_nanos(u64::from(1_000_000_000 - nanos)) + Duration::from_millis(20));
    let second = c.request(GET_PLAINTEXT).header("date").unwrap().to_string();
    assert_ne!(first, second);
    assert_eq!(
        httpdate::parse_http_date(&second).unwrap(),
        parsed + Duration::from_secs(1)
    );
}

#[test]
fn absolute_form_targets_are_routed_by_their_path() {
    let server = start_default();
    let mut c = Client::connect(server.addr());
    let r = c.request(b"GET http://localhost/json?q=1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("application/json"))
    );
}
