//! Helpers for the response-cache tests: a caching proxy in front of a scripted upstream,
//! requests and replies in a line, and what a client saw (status, `X-Cache`, body).

use super::start;
use super::upstream::Reply;
use http_wire::client::{Client, Response};
use server::{Config, ProxyRoute, ServerHandle};
use std::net::SocketAddr;
use std::sync::{Arc, Barrier};
use std::time::Duration;

/// A one-worker proxy with a cache of `cache_size` bytes in front of `upstream`.
pub fn caching_proxy(upstream: SocketAddr, cache_size: u64) -> ServerHandle {
    start(Config {
        workers: 1,
        proxy: vec![ProxyRoute::parse(&format!("/=http://{upstream}")).unwrap()],
        upstream_timeout: Duration::from_secs(5),
        cache_size,
        ..Config::default()
    })
}

pub fn get(path: &str, fields: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\n{fields}\r\n").into_bytes()
}

pub fn ok(fields: &str, body: &str) -> Reply {
    Reply::Bytes(
        format!(
            "HTTP/1.1 200 OK\r\n{fields}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// Status, `X-Cache`, body.
pub fn seen(r: &Response) -> (u16, String, String) {
    let label = r.header("x-cache").unwrap_or("-").to_string();
    (r.status, label, r.body_text().to_string())
}

pub fn triple(status: u16, label: &str, body: &str) -> (u16, String, String) {
    (status, label.to_string(), body.to_string())
}

/// `clients` connections, connected first, each sending one GET of `path` at the same moment.
pub fn at_once(addr: SocketAddr, clients: usize, path: &'static str) -> Vec<(u16, String, String)> {
    let start = Arc::new(Barrier::new(clients));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let start = start.clone();
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                start.wait();
                seen(&c.request(&get(path, "")))
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}
