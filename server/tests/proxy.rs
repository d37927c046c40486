//! The reverse proxy (`--proxy`) over real loopback sockets: what it forwards each way, how
//! it fails, retries, streams, pipelines and reuses upstream connections.

mod common;
use common::upstream::{FakeUpstream, Reply, dead_addr};
use common::*;
use server::{Config, ProxyRoute, ServerHandle};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// A one-worker proxy sending every path (`/`) to `upstreams`.
fn proxy_to(upstreams: &[SocketAddr], timeout: Duration) -> ServerHandle {
    let urls: Vec<String> = upstreams.iter().map(|a| format!("http://{a}")).collect();
    start(Config {
        workers: 1,
        proxy: vec![ProxyRoute::parse(&format!("/={}", urls.join(","))).unwrap()],
        upstream_timeout: timeout,
        ..Config::default()
    })
}

const OK_HELLO: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

#[test]
fn hop_by_hop_fields_are_dropped_and_forwarding_fields_added() {
    let upstream = FakeUpstream::spawn(|_| {
        Reply::Bytes(
            b"HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Resp-Hop\r\nX-Resp-Hop: 1\r\nKeep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\nUpgrade: h2c\r\nTrailer: X-T\r\nX-App: yes\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n"
                .to_vec(),
        )
    });
    let proxy = proxy_to(&[upstream.addr], Duration::from_secs(5));
    let mut c = Client::connect(proxy.addr());
    let r = c.request(
        b"POST /app/x?q=1 HTTP/1.1\r\nHost: example.test\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=9\r\nTE: trailers\r\nUpgrade: websocket\r\nProxy-Authorization: Basic eA==\r\nProxy-Connection: keep-alive\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\nVia: 1.0 edge\r\nX-Custom: kept\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n",
    );
    assert_eq!(
        upstream.requests(),
        [
            "POST /app/x?q=1 HTTP/1.1\r\nHost: example.test\r\nX-Custom: kept\r\nX-Forwarded-For: 10.0.0.1, 127.0.0.1\r\nX-Forwarded-Proto: http\r\nVia: 1.0 edge, 1.1 evloop\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        ]
    );
    assert_eq!((r.status, r.body.as_slice()), (200, &b"abcde"[..]));
    let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["X-App", "Via", "Transfer-Encoding"]);
    assert_eq!(r.header("via"), Some("1.1 evloop"));
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
}

#[test]
fn upstream_down_is_502_within_the_connect_timeout() {
    let timeout = Duration::from_secs(3);
    let proxy = proxy_to(&[dead_addr()], timeout);
    let mut c = Client::connect(proxy.addr());
    let started = Instant::now();
    let r = c.request(GET_PLAINTEXT);
    assert_eq!((r.status, r.body_text()), (502, "502 Bad Gateway\n"));
    assert!(started.elapsed() < timeout, "{:?}", started.elapsed());
    // The client's connection stays usable.
    assert_eq!(c.request(GET_PLAINTEXT).status, 502);
    let s = proxy.stats();
    assert_eq!((s.upstream_bad_gateway, s.proxied, s.requests), (2, 0, 2));
}

#[test]
fn slow_upstream_is_504() {
    let upstream = FakeUpstream::spawn(|_| Reply::Silent);
    let timeout = Duration::from_millis(300);
    let proxy = proxy_to(&[upstream.addr], timeout);
    let mut c = Client::connect(proxy.addr());
    let started = Instant::now();
    let r = c.request(GET_PLAINTEXT);
    assert_eq!(
        (r.status, r.body_text()),
        (504, "504 Gateway Timeout: the upstream did not answer in time\n")
    );
    let waited = started.elapsed();
    assert!(waited >= timeout && waited < Duration::from_secs(3), "{waited:?}");
    assert_eq!(proxy.stats().upstream_gateway_timeout, 1);
}

#[test]
fn upstream_answering_with_content_length_and_chunked_is_502_and_nothing_of_it_leaks() {
    let upstream = FakeUpstream::spawn(|_| {
        Reply::Bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nSMUGG\r\n0\r\n\r\n".to_vec())
    });
    let proxy = proxy_to(&[upstream.addr], Duration::from_secs(5));
    let mut c = Client::connect(proxy.addr());
    for _ in 0..2 {
        let r = c.request(GET_PLAINTEXT);
        assert_eq!((r.status, r.body_text()), (502, "502 Bad Gateway\n"));
        assert_eq!(r.header("content-length"), Some("16"));
    }
    c.send(b"GET /plaintext HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let rest = String::from_utf8(c.read_to_end()).unwrap();
    assert!(rest.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{rest}");
    assert!(rest.ends_with("\r\n\r\n502 Bad Gateway\n"), "{rest}");
    assert!(!rest.contains("SMUGG"), "{rest}");
}

#[test]
fn idempotent_request_is_retried_on_another_upstream_after_a_refused_connect() {
    let live = FakeUpstream::spawn(|_| Reply::Bytes(OK_HELLO.to_vec()));
    let proxy = proxy_to(&[dead_addr(), live.addr], Duration::from_secs(5));
    let mut c = Client::connect(proxy.addr());
    // The dead upstream is tried first (ties go round-robin, and each retry's pick moves the
    // cursor too) until its third failure puts it in back-off; each retry after the first
    // takes the live upstream's pooled connection rather than opening another.
    for _ in 0..4 {
        let r = c.request(GET_PLAINTEXT);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
    }
    assert_eq!(live.requests().len(), 4);
    assert_eq!(live.accepts.load(Ordering::SeqCst), 1);
    let s = proxy.stats();
    assert_eq!(
        (s.upstream_retries, s.upstream_connects, s.upstream_reused),
        (3, 4, 3)
    );
}

#[test]
fn post_is_not_retried_once_its_bytes_were_sent() {
    // The first upstream takes the request and closes without answering.
    let first = FakeUpstream::spawn(|_| Reply::BytesThenClose(Vec::new()));
    let second = FakeUpstream::spawn(|_| Reply::Bytes(OK_HELLO.to_vec()));
    let proxy = proxy_to(&[first.addr, second.addr], Duration::from_secs(5));
    let mut c = Client::connect(proxy.addr());
    let r = c.request(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
    assert_eq!(r.status, 502);
    assert_eq!(first.requests().len(), 1);
    assert!(first.requests()[0].ends_with("\r\n\r\nabc"));
    assert_eq!(second.accepts.load(Ordering::SeqCst), 0, "no retry");
    assert_eq!(proxy.stats().upstream_retries, 0);
}

#[test]
fn client_abort_mid_download_closes_the_upstream_connection() {
    let upstream = FakeUpstream::spawn(|_| {
        Reply::Endless(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n".to_vec())
    });
    let proxy = proxy_to(&[upstream.addr], Duration::from_secs(5));
    let mut c = Client::connect(proxy.addr());
    c.send(GET_PLAINTEXT);
    let mut got = [0u8; 64 * 1024];
    std::io::Read::read_exact(&mut c.stream, &mut got).unwrap();
    assert!(got.starts_with(b"HTTP/1.1 200 OK\r\n"));
    // Bounded: the proxy holds at most its write limit plus one read for this client.
    let pending = proxy.stats().peak_conn_write_pending;
    assert!(pending <= (server::WRITE_LIMIT + 128 * 1024) as u64, "{pending}");
    drop(c);
    eventually("the upstream sees its connection closed", || {
        upstream.gone.load(Ordering::SeqCst) == 1
    });
    // (The worker counts the close just after closing the upstream socket.)
    eventually("no connection, pooled upstream or lent buffer left", || {
        let s = proxy.stats();
        (s.upstream_idle, s.open, s.buffers_lent) == (0, 0, 0)
    });
    assert_eq!(proxy.stats().upstream_idle, 0);
}

#[test]
fn pipelined_requests_through_the_proxy_are_answered_in_order() {
    let backend = start_default();
    let proxy = proxy_to(&[backend.addr()], Duration::from_secs(5));
    let mut c = Client::connect(proxy.addr());
    c.send(
        b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\nPOST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\ntwoGET /json HTTP/1.1\r\nHost: t\r\n\r\nHEAD /plaintext HTTP/1.1\r\nHost: t\r\n\r\nGET /nothing HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    let bodies: Vec<(u16, Vec<u8>)> = (0..5)
        .map(|i| {
            let r = c.try_read_response(i == 3).unwrap();
            (r.status, r.body)
        })
        .collect();
    assert_eq!(
        bodies,
        [
            (200, b"Hello, World!".to_vec()),
            (200, b"two".to_vec()),
            (200, br#"{"message":"Hello, World!"}"#.to_vec()),
            (200, Vec::new()),
            (404, b"404 Not Found\n".to_vec()),
        ]
    );
    assert_eq!(proxy.stats().proxied, 5);
}

#[test]
fn upstream_connections_are_kept_alive_and_reused() {
    let backend = start_default();
    let proxy = proxy_to(&[backend.addr()], Duration::from_secs(5));
    for _ in 0..5 {
        let mut c = Client::connect(proxy.addr());
        for _ in 0..4 {
            assert_eq!(c.request(GET_PLAINTEXT).body, b"Hello, World!");
        }
    }
    assert_eq!(backend.stats().accepted, 1, "one upstream connection for all 20");
    let s = proxy.stats();
    assert_eq!(
        (s.upstream_connects, s.upstream_reused, s.upstream_idle),
        (1, 19, 1)
    );
}

/// A proxy that allows large bodies, to an upstream that answers with the size of each
/// request it got (head and body as they arrived).
fn sizing_proxy() -> (FakeUpstream, ServerHandle) {
    let upstream = FakeUpstream::spawn(|req| {
        let size = req.len().to_string();
        Reply::Bytes(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{size}", size.len()).into_bytes())
    });
    let proxy = start(Config {
        workers: 1,
        proxy: vec![ProxyRoute::parse(&format!("/=http://{}", upstream.addr)).unwrap()],
        max_body_bytes: 64 << 20,
        ..Config::default()
    });
    (upstream, proxy)
}

/// Sends `head` and then `body` from another thread (the proxy reads only as fast as the
/// upstream takes), and reads the response.
fn upload(proxy: &ServerHandle, head: String, body: Vec<u8>) -> Response {
    let mut c = Client::connect(proxy.addr());
    let mut writer = c.stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        std::io::Write::write_all(&mut writer, head.as_bytes()).unwrap();
        std::io::Write::write_all(&mut writer, &body).unwrap();
    });
    let r = c.read_response();
    sender.join().unwrap();
    r
}

#[test]
fn a_large_upload_streams_through_in_bounded_memory() {
    let (upstream, proxy) = sizing_proxy();
    let size = 32 << 20;
    let head = format!("PUT /big HTTP/1.1\r\nHost: t\r\nContent-Length: {size}\r\n\r\n");
    let r = upload(&proxy, head, vec![b'u'; size]);
    let forwarded = upstream.requests.lock().unwrap()[0].clone();
    let head_len = forwarded.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(r.body_text(), forwarded.len().to_string());
    assert_eq!(forwarded.len() - head_len, size);
    assert!(forwarded[..head_len].ends_with(format!("Content-Length: {size}\r\n\r\n").as_bytes()));
    assert!(forwarded[head_len..].iter().all(|&b| b == b'u'));
    // Read a piece at a time, never held whole.
    let peak = proxy.stats().peak_conn_read_buffer;
    assert!(peak <= 64 * 1024, "peak read buffer {peak}");
}

#[test]
fn a_chunked_upload_streams_through_rechunked() {
    let (upstream, proxy) = sizing_proxy();
    let mut body = Vec::new();
    for i in 0..2000u32 {
        let piece = vec![b'a' + (i % 26) as u8; 1000 + (i as usize % 7) * 1000];
        body.extend_from_slice(format!("{:x};ext=1\r\n", piece.len()).as_bytes());
        body.extend_from_slice(&piece);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\nX-Trailer: t\r\n\r\n");
    let mut decoded = body.clone();
    let mut cur = http_wire::chunked::Cursor { out: 0, input: 0 };
    http_wire::chunked::ChunkedDecoder::default()
        .decode_in_place(&mut decoded, &mut cur, u64::MAX)
        .unwrap();
    decoded.truncate(cur.out);
    let head = "POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_string();
    let r = upload(&proxy, head, body);
    assert_eq!(r.status, 200);
    let mut forwarded = upstream.requests.lock().unwrap()[0].clone();
    let head_len = forwarded.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(forwarded[..head_len].ends_with(b"Transfer-Encoding: chunked\r\n\r\n"));
    let mut cur = http_wire::chunked::Cursor {
        out: head_len,
        input: head_len,
    };
    let done = http_wire::chunked::ChunkedDecoder::default()
        .decode_in_place(&mut forwarded, &mut cur, u64::MAX)
        .unwrap();
    assert!(done && cur.input == forwarded.len());
    assert!(
        forwarded[head_len..cur.out] == decoded[..],
        "the same bytes, re-chunked"
    );
    assert!(!String::from_utf8_lossy(&forwarded).contains("X-Trailer"));
    let peak = proxy.stats().peak_conn_read_buffer;
    assert!(peak <= 64 * 1024, "peak read buffer {peak}");
}

#[test]
fn a_chunked_download_streams_through_rechunked_and_the_connection_is_pooled() {
    let mut body = Vec::new();
    let mut response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for i in 0..512u32 {
        let piece = vec![b'a' + (i % 26) as u8; 8192 + i as usize];
        body.extend_from_slice(&piece);
        response.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        response.extend_from_slice(&piece);
        response.extend_from_slice(b"\r\n");
    }
    response.extend_from_slice(b"0\r\n\r\n");
    let upstream = FakeUpstream::spawn(move |_| Reply::Bytes(response.clone()));
    let proxy = proxy_to(&[upstream.addr], Duration::from_secs(5));
    let mut c = Client::connect(proxy.addr());
    for _ in 0..2 {
        let r = c.request(GET_PLAINTEXT);
        assert_eq!(r.header("transfer-encoding"), Some("chunked"));
        assert!(r.body == body, "{} bytes, expected {}", r.body.len(), body.len());
    }
    let s = proxy.stats();
    assert_eq!(
        (s.proxied, s.upstream_connects, s.upstream_reused, s.upstream_idle),
        (2, 1, 1, 1)
    );
    let pending = s.peak_conn_write_pending;
    assert!(pending <= (server::WRITE_LIMIT + 128 * 1024) as u64, "{pending}");
}
