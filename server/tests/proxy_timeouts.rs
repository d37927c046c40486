//! The proxy's two upstream clocks over real loopback sockets: `--upstream-connect-timeout`
//! while the upstream has not accepted the connection, `--upstream-timeout` once the request
//! is sent; each ends in a 504 that says which.

mod common;
use common::upstream::{FakeUpstream, Reply};
use common::*;
use server::{Config, ProxyRoute, ServerHandle};
use socket2::{Domain, Socket, Type};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

fn proxy_with(upstream: SocketAddr, connect: Duration, response: Duration) -> ServerHandle {
    start(Config {
        workers: 1,
        proxy: vec![ProxyRoute::parse(&format!("/=http://{upstream}")).unwrap()],
        upstream_connect_timeout: connect,
        upstream_timeout: response,
        ..Config::default()
    })
}

/// A listener whose accept queue is full: Linux drops further SYNs (no reset), so a connect
/// to it stays in progress. Returned with the one connection that fills the queue.
fn unaccepting_listener() -> (Socket, TcpStream) {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let filler = TcpStream::connect(addr).unwrap();
    (socket, filler)
}

#[test]
fn a_connect_the_upstream_never_accepts_is_504_at_the_connect_timeout() {
    let (listener, _filler) = unaccepting_listener();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let connect = Duration::from_millis(200);
    let proxy = proxy_with(addr, connect, Duration::from_secs(10));
    let mut c = Client::connect(proxy.addr());
    let started = Instant::now();
    let r = c.request(GET_PLAINTEXT);
    let waited = started.elapsed();
    assert_eq!(
        (r.status, r.body_text()),
        (504, "504 Gateway Timeout: connecting to the upstream timed out\n")
    );
    assert!(waited >= connect && waited < Duration::from_secs(3), "{waited:?}");
    let s = proxy.stats();
    assert_eq!((s.upstream_gateway_timeout, s.upstream_connects), (1, 1));
    // The client's connection goes on.
    assert_eq!(c.request(GET_PLAINTEXT).status, 504);
}

#[test]
fn the_connect_timeout_does_not_limit_the_wait_for_the_response() {
    let upstream = FakeUpstream::spawn(|_| {
        std::thread::sleep(Duration::from_millis(300));
        Reply::Bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow".to_vec())
    });
    let proxy = proxy_with(upstream.addr, Duration::from_millis(100), Duration::from_secs(5));
    let mut c = Client::connect(proxy.addr());
    let r = c.request(GET_PLAINTEXT);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"slow"[..]));
}
