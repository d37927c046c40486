//! The proxy's upstream keep-alive pools over real loopback sockets: a pooled connection
//! the upstream closed is never handed out (or, when the close races the request, the
//! request goes out again on a fresh connection), and idle ones close after
//! `--upstream-idle-timeout`.

mod common;
use common::upstream::{FakeUpstream, Reply};
use common::*;
use server::{Config, ProxyRoute, ServerHandle};
use std::net::SocketAddr;
use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const OK_HELLO: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

fn proxy_with(upstream: SocketAddr, idle_timeout: Duration) -> ServerHandle {
    start(Config {
        workers: 1,
        proxy: vec![ProxyRoute::parse(&format!("/=http://{upstream}")).unwrap()],
        upstream_idle_timeout: idle_timeout,
        ..Config::default()
    })
}

#[test]
fn a_burst_leaves_no_more_idle_connections_than_upstream_keepalive() {
    // Three requests held upstream at once need three connections; once they are answered
    // the pool keeps all three for the next burst, then, after the grace (1 s), one.
    let together = Barrier::new(3);
    let upstream = FakeUpstream::spawn(move |_| {
        together.wait();
        Reply::Bytes(OK_HELLO.to_vec())
    });
    let proxy = start(Config {
        workers: 1,
        proxy: vec![ProxyRoute::parse(&format!("/=http://{}", upstream.addr)).unwrap()],
        upstream_keepalive: 1,
        ..Config::default()
    });
    let addr = proxy.addr();
    let clients: Vec<_> = (0..3)
        .map(|_| std::thread::spawn(move || Client::connect(addr).request(GET_PLAINTEXT).body))
        .collect();
    for c in clients {
        assert_eq!(c.join().unwrap(), b"hello");
    }
    let answered = Instant::now();
    eventually("all three are pooled", || proxy.stats().upstream_idle == 3);
    assert_eq!(upstream.closed.load(Ordering::SeqCst), 0);
    eventually("two of the three upstream connections are closed", || {
        upstream.closed.load(Ordering::SeqCst) == 2
    });
    assert!(
        answered.elapsed() >= Duration::from_millis(900),
        "cut back before the grace"
    );
    let s = proxy.stats();
    assert_eq!((s.upstream_connects, s.upstream_idle, s.proxied), (3, 1, 3));
}

/// An upstream that answers the first request with a kept-alive response, then closes that
/// connection when the second request arrives on it, without a byte of response; and a
/// proxy to it.
fn closing_at_the_second_request() -> (FakeUpstream, ServerHandle) {
    let seen = AtomicUsize::new(0);
    let upstream = FakeUpstream::spawn(move |_| match seen.fetch_add(1, Ordering::SeqCst) {
        1 => Reply::BytesThenClose(Vec::new()),
        _ => Reply::Bytes(OK_HELLO.to_vec()),
    });
    let proxy = proxy_with(upstream.addr, Duration::from_secs(60));
    (upstream, proxy)
}

#[test]
fn a_pooled_connection_closed_as_the_next_request_arrives_is_retried_on_a_fresh_one() {
    let (upstream, proxy) = closing_at_the_second_request();
    let mut c = Client::connect(proxy.addr());
    for _ in 0..2 {
        let r = c.request(GET_PLAINTEXT);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
    }
    assert_eq!(upstream.requests().len(), 3, "the second request went out twice");
    assert_eq!(upstream.accepts.load(Ordering::SeqCst), 2);
    let s = proxy.stats();
    assert_eq!(
        (s.upstream_connects, s.upstream_reused, s.upstream_retries),
        (2, 1, 1)
    );
    assert_eq!((s.upstream_bad_gateway, s.proxied, s.upstream_idle), (0, 2, 1));
}

#[test]
fn a_stale_pooled_connection_does_not_resend_a_post() {
    let (upstream, proxy) = closing_at_the_second_request();
    let mut c = Client::connect(proxy.addr());
    assert_eq!(c.request(GET_PLAINTEXT).status, 200);
    let r = c.request(b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
    assert_eq!((r.status, r.body_text()), (502, "502 Bad Gateway\n"));
    assert_eq!(upstream.requests().len(), 2);
    assert_eq!(proxy.stats().upstream_retries, 0);
}

#[test]
fn a_response_that_comes_with_the_upstreams_close_keeps_its_connection_out_of_the_pool() {
    // No `Connection: close`: only the FIN says the connection is over.
    let upstream = FakeUpstream::spawn(|_| Reply::BytesThenClose(OK_HELLO.to_vec()));
    let proxy = proxy_with(upstream.addr, Duration::from_secs(60));
    let mut c = Client::connect(proxy.addr());
    assert_eq!(c.request(GET_PLAINTEXT).body, b"hello");
    eventually("the closed connection leaves the pool", || {
        proxy.stats().upstream_idle == 0
    });
    the_next_request_opens_a_fresh_connection(&mut c, &proxy);
}

#[test]
fn a_pooled_connection_the_upstream_closes_while_idle_leaves_the_pool() {
    let upstream =
        FakeUpstream::spawn(|_| Reply::BytesThenIdleClose(OK_HELLO.to_vec(), Duration::from_millis(50)));
    let proxy = proxy_with(upstream.addr, Duration::from_secs(60));
    let mut c = Client::connect(proxy.addr());
    assert_eq!(c.request(GET_PLAINTEXT).body, b"hello");
    eventually("the upstream closes its idle connection", || {
        upstream.closed.load(Ordering::SeqCst) == 1
    });
    eventually("the proxy drops it from the pool", || {
        proxy.stats().upstream_idle == 0
    });
    the_next_request_opens_a_fresh_connection(&mut c, &proxy);
}

#[test]
fn idle_pooled_connections_are_closed_after_the_idle_timeout() {
    let upstream = FakeUpstream::spawn(|_| Reply::Bytes(OK_HELLO.to_vec()));
    let idle = Duration::from_millis(200);
    let proxy = proxy_with(upstream.addr, idle);
    let mut c = Client::connect(proxy.addr());
    assert_eq!(c.request(GET_PLAINTEXT).body, b"hello");
    let pooled = Instant::now();
    assert_eq!(proxy.stats().upstream_idle, 1);
    eventually("the upstream sees its idle connection closed", || {
        upstream.closed.load(Ordering::SeqCst) == 1
    });
    let waited = pooled.elapsed();
    assert!(waited >= idle && waited < idle * 5, "{waited:?}");
    assert_eq!(proxy.stats().upstream_idle, 0);
    assert_eq!(c.request(GET_PLAINTEXT).body, b"hello");
    let s = proxy.stats();
    assert_eq!(
        (s.upstream_connects, s.upstream_reused, s.upstream_idle),
        (2, 0, 1)
    );
}

/// The second request found no pooled connection: a new one, nothing reused or retried.
fn the_next_request_opens_a_fresh_connection(c: &mut Client, proxy: &ServerHandle) {
    assert_eq!(c.request(GET_PLAINTEXT).body, b"hello");
    let s = proxy.stats();
    assert_eq!(
        (s.upstream_connects, s.upstream_reused, s.upstream_retries),
        (2, 0, 0)
    );
}
