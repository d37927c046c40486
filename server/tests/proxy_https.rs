//! https:// upstreams over real loopback sockets: our own server as the TLS backend, its
//! certificate made by a test CA and verified by the proxy against `--upstream-ca`, with
//! the URL's host as the name it must carry.

mod common;
use common::*;
use server::tls::TlsFiles;
use server::{Config, ProxyRoute, ServerHandle};
use std::path::Path;
use std::time::Duration;
use transport::test_pki::{ServerCert, TestCa};

struct Pki {
    _dir: tempfile::TempDir,
    ca: TestCa,
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "upstream");
    Pki { _dir: dir, ca }
}

/// Our server over TLS with this certificate: the backend.
fn https_backend(leaf: &ServerCert) -> ServerHandle {
    start(Config {
        workers: 1,
        tls: Some(TlsFiles::load(&leaf.cert, &leaf.key).unwrap()),
        ..Config::default()
    })
}

/// A proxy sending every path to `url`, trusting `ca` (besides the system's roots).
fn proxy(url: &str, ca: Option<&Path>, insecure: bool) -> ServerHandle {
    start(Config {
        workers: 1,
        proxy: vec![ProxyRoute::parse(&format!("/={url}")).unwrap()],
        upstream_ca: ca.map(Path::to_path_buf),
        upstream_insecure: insecure,
        upstream_connect_timeout: Duration::from_secs(5),
        ..Config::default()
    })
}

#[test]
fn an_https_upstream_is_proxied_with_its_certificate_verified_and_its_connection_pooled() {
    let p = pki();
    let backend = https_backend(&p.ca.server_cert("leaf", &["127.0.0.1"], false));
    let url = format!("https://127.0.0.1:{}", backend.addr().port());
    let proxy = proxy(&url, Some(&p.ca.ca_pem), false);
    let mut c = Client::connect(proxy.addr());
    for _ in 0..3 {
        let r = c.request(GET_PLAINTEXT);
        assert_eq!((r.status, r.body_text()), (200, "Hello, World!"));
        assert_eq!(r.header("via"), Some("1.1 evloop"));
    }
    let r = c.request(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    assert_eq!((r.status, r.body_text()), (200, "hello"));
    // A body that streams through (it cannot all be in the proxy's first read).
    let body: Vec<u8> = (0..300 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    let head = format!(
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let r = c.request(&[head.as_bytes(), &body].concat());
    assert_eq!((r.status, r.body.len()), (200, body.len()));
    assert!(r.body == body);
    let s = proxy.stats();
    assert_eq!((s.upstream_connects, s.upstream_reused, s.proxied), (1, 4, 5));
    let b = backend.stats();
    assert_eq!((b.accepted, b.tls_full_handshakes, b.requests), (1, 1, 5));
}

#[test]
fn an_upstream_certificate_that_does_not_verify_is_502() {
    let p = pki();
    let cases = [
        // Signed by a CA the proxy was not told of.
        (p.ca.server_cert("unknown", &["127.0.0.1"], false), None),
        // For another name than the URL's host.
        (
            p.ca.server_cert("other", &["localhost"], false),
            Some(&p.ca.ca_pem),
        ),
        // Expired.
        (p.ca.server_cert("old", &["127.0.0.1"], true), Some(&p.ca.ca_pem)),
    ];
    for (leaf, ca) in cases {
        let backend = https_backend(&leaf);
        let url = format!("https://127.0.0.1:{}", backend.addr().port());
        let proxy = proxy(&url, ca.map(|p| p.as_path()), false);
        let mut c = Client::connect(proxy.addr());
        let r = c.request(GET_PLAINTEXT);
        assert_eq!(
            (r.status, r.body_text()),
            (502, "502 Bad Gateway\n"),
            "{}",
            leaf.cert.display()
        );
        assert_eq!(backend.stats().requests, 0);
    }
}

#[test]
fn upstream_insecure_accepts_any_certificate() {
    let p = pki();
    let backend = https_backend(&p.ca.server_cert("any", &["localhost"], true));
    let url = format!("https://127.0.0.1:{}", backend.addr().port());
    let proxy = proxy(&url, None, true);
    let r = Client::connect(proxy.addr()).request(GET_PLAINTEXT);
    assert_eq!((r.status, r.body_text()), (200, "Hello, World!"));
}

#[test]
fn an_https_upstream_that_speaks_plain_http_is_502() {
    let backend = start_default();
    let url = format!("https://127.0.0.1:{}", backend.addr().port());
    let proxy = proxy(&url, None, false);
    let r = Client::connect(proxy.addr()).request(GET_PLAINTEXT);
    assert_eq!((r.status, r.body_text()), (502, "502 Bad Gateway\n"));
}
