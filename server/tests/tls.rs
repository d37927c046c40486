//! HTTPS: real handshakes over loopback with a CA and certificates made by the test; every
//! HTTP behaviour holds through TLS, and what is not TLS is refused clearly.
mod common;
use common::*;
use http_wire::client::tcp;
use server::Config;
use server::tls::TlsFiles;
use std::io::{Read, Write};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use transport::test_pki::{self, ServerCert, TestCa};

struct Pki {
    dir: tempfile::TempDir,
    ca: TestCa,
    leaf: ServerCert,
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "main");
    let leaf = ca.server_cert("localhost", &["localhost", "127.0.0.1"], false);
    Pki { dir, ca, leaf }
}

fn tls_config(p: &Pki, cfg: Config) -> Config {
    Config {
        workers: 1,
        tls: Some(TlsFiles::load(&p.leaf.cert, &p.leaf.key).expect("TLS files load")),
        ..cfg
    }
}

fn https(p: &Pki) -> server::ServerHandle {
    start(tls_config(p, Config::default()))
}

type TlsClient = Client<rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>>;

fn connect(handle: &server::ServerHandle, client: &Arc<rustls::ClientConfig>) -> TlsClient {
    Client::over(test_pki::connect(handle.addr(), client, "localhost"))
}

#[test]
fn keep_alive_and_16_pipelined_requests_over_tls() {
    let p = pki();
    let handle = https(&p);
    let client = test_pki::client_config(&p.ca.ca_pem);
    let mut c = connect(&handle, &client);
    assert_eq!(c.stream.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    let r = c.request(GET_PLAINTEXT);
    assert_eq!((r.status, r.body_text()), (200, "Hello, World!"));
    c.send(&GET_PLAINTEXT.repeat(16));
    for _ in 0..16 {
        let r = c.read_response();
        assert_eq!((r.status, r.body_text()), (200, "Hello, World!"));
    }
    let r = c.request(
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    );
    assert_eq!((r.status, r.body_text()), (200, "hello"));
    let stats = handle.stats();
    assert_eq!((stats.accepted, stats.requests), (1, 18));
    assert_eq!(
        (
            stats.tls_full_handshakes,
            stats.tls_resumed_handshakes,
            stats.tls_errors
        ),
        (1, 0, 0)
    );
}

#[test]
fn tls_1_2_works_and_resumes_too() {
    let p = pki();
    let handle = https(&p);
    let client = test_pki::client_config_for(&p.ca.ca_pem, &[&rustls::version::TLS12]);
    for _ in 0..2 {
        let mut c = connect(&handle, &client);
        assert_eq!(
            c.stream.conn.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_2)
        );
        let r = c.request(GET_PLAINTEXT);
        assert_eq!((r.status, r.body_text()), (200, "Hello, World!"));
    }
    let s = handle.stats();
    assert_eq!((s.tls_full_handshakes, s.tls_resumed_handshakes), (1, 1));
}

#[test]
fn rsa_and_ed25519_keys_serve_too() {
    let p = pki();
    for (name, alg) in [
        ("rsa", &rcgen::PKCS_RSA_SHA256),
        ("ed25519", &rcgen::PKCS_ED25519),
    ] {
        let leaf = p.ca.server_cert_with(name, &["localhost"], false, alg);
        let handle = start(Config {
            workers: 1,
            tls: Some(TlsFiles::load(&leaf.cert, &leaf.key).expect(name)),
            ..Config::default()
        });
        let client = test_pki::client_config(&p.ca.ca_pem);
        assert_eq!(
            connect(&handle, &client).request(GET_PLAINTEXT).status,
            200,
            "{name}"
        );
    }
}

#[test]
fn limits_hold_over_tls() {
    let p = pki();
    let handle = start(tls_config(
        &p,
        Config {
            max_body_bytes: 10,
            ..Config::default()
        },
    ));
    let client = test_pki::client_config(&p.ca.ca_pem);
    let mut c = connect(&handle, &client);
    let r = c.request(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world");
    assert_eq!((r.status, r.header("connection")), (413, Some("close")));
    let mut c = connect(&handle, &client);
    let r = c.request(b"GET /plaintext HTTP/1.7\r\nHost: t\r\n\r\n");
    assert_eq!(r.status, 505);
}

/// The Like API answers from the database thread, after the request's event has passed:
/// the reply must still go out through the connection's TLS session, pipelined or not.
#[test]
fn the_like_api_over_tls() {
    let p = pki();
    let data = tempfile::tempdir().unwrap();
    let secret = server::api::auth::Secret::new(b"test-secret-0123456789abcdef").unwrap();
    let token = secret.mint(7, Duration::from_secs(3600));
    let handle = start(tls_config(
        &p,
        Config {
            auth_secret: Some(secret),
            data_dir: data.path().to_path_buf(),
            ..Config::default()
        },
    ));
    let client = test_pki::client_config(&p.ca.ca_pem);
    let mut c = connect(&handle, &client);
    let body = r#"{"title":"tls"}"#;
    let create = format!(
        "POST /api/posts HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let r = c.request(create.as_bytes());
    assert_eq!(r.status, 201, "{}", r.body_text());
    let post: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let like = format!(
        "POST /api/posts/{}/like HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n",
        post["id"]
    );
    // A like, and a read pipelined behind it: both answers in order.
    c.send(format!("{like}GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
    let r = c.read_response();
    assert_eq!(r.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        (v["like_count"].as_u64(), v["liked_by_me"].as_bool()),
        (Some(1), Some(true))
    );
    assert_eq!(c.read_response().body_text(), "Hello, World!");
}

#[test]
fn a_10_mib_static_file_is_byte_exact_over_tls_with_ranges() {
    let p = pki();
    let root = p.dir.path().join("www");
    std::fs::create_dir(&root).unwrap();
    // Not a repeating pattern: a misplaced piece would show.
    let mut state = 0x9e3779b97f4a7c15u64;
    let data: Vec<u8> = (0..10 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(root.join("big.bin"), &data).unwrap();
    let handle = start(tls_config(
        &p,
        Config {
            root: Some(root),
            ..Config::default()
        },
    ));
    let client = test_pki::client_config(&p.ca.ca_pem);
    let mut c = connect(&handle, &client);
    let r = c.request(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), data.len());
    assert!(r.body == data, "the body differs from the file");
    let r = c.request(b"GET /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=5000000-5999999\r\n\r\n");
    assert_eq!(r.status, 206);
    assert!(r.body == data[5_000_000..6_000_000]);
    let etag = r.header("etag").unwrap().to_string();
    let r =
        c.request(format!("GET /big.bin HTTP/1.1\r\nHost: t\r\nIf-None-Match: {etag}\r\n\r\n").as_bytes());
    assert_eq!((r.status, r.body.len()), (304, 0));
}

#[test]
fn plain_http_to_the_tls_port_gets_a_plain_400_and_a_close() {
    let p = pki();
    let handle = https(&p);
    let mut c = Client::connect(handle.addr());
    c.send(GET_PLAINTEXT);
    let r = c.read_response();
    assert_eq!(r.status, 400);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(
        r.body_text()
            .contains("The plain HTTP request was sent to HTTPS port"),
        "{}",
        r.body_text()
    );
    assert!(c.is_closed());
    // HEAD gets the status without a body.
    let mut c = Client::connect(handle.addr());
    c.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.try_read_response(true).unwrap();
    assert_eq!((r.status, r.body.len()), (400, 0));
    assert!(c.is_closed());
}

#[test]
fn a_garbage_client_hello_is_closed_and_counted() {
    let p = pki();
    let handle = https(&p);
    let mut raw = tcp(handle.addr());
    // A handshake record header, then bytes that are no ClientHello.
    raw.write_all(&[0x16, 0x03, 0x01, 0x00, 0x08, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])
        .unwrap();
    let mut rest = Vec::new();
    let _ = raw.read_to_end(&mut rest); // an alert, then EOF (or a reset)
    assert!(
        rest.len() < 64,
        "expected at most an alert, got {} bytes",
        rest.len()
    );
    eventually("the TLS error is counted", || handle.stats().tls_errors == 1);
    // The server goes on serving.
    let client = test_pki::client_config(&p.ca.ca_pem);
    let r = connect(&handle, &client).request(GET_PLAINTEXT);
    assert_eq!(r.status, 200);
}

#[test]
fn a_second_connection_resumes_the_session() {
    let p = pki();
    let handle = https(&p);
    let client = test_pki::client_config(&p.ca.ca_pem);
    for _ in 0..3 {
        // Reading a response also reads the tickets sent before it.
        let mut c = connect(&handle, &client);
        assert_eq!(c.request(GET_PLAINTEXT).status, 200);
    }
    eventually("three handshakes", || {
        let s = handle.stats();
        s.tls_full_handshakes + s.tls_resumed_handshakes == 3
    });
    let s = handle.stats();
    assert_eq!((s.tls_full_handshakes, s.tls_resumed_handshakes), (1, 2));
}

#[test]
fn a_handshake_unfinished_within_the_header_timeout_is_closed() {
    let p = pki();
    let handle = start(tls_config(
        &p,
        Config {
            header_timeout: Duration::from_millis(300),
            ..Config::default()
        },
    ));
    let mut raw = tcp(handle.addr());
    raw.write_all(&[0x16, 0x03, 0x01, 0x01, 0x00, 0x01]).unwrap(); // a ClientHello's first bytes
    let began = Instant::now();
    let mut rest = Vec::new();
    let _ = raw.read_to_end(&mut rest);
    let waited = began.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    assert!(rest.is_empty(), "closed quietly, got {rest:?}");
}

#[test]
fn shutdown_sends_close_notify_to_idle_connections() {
    let p = pki();
    let handle = https(&p);
    let client = test_pki::client_config(&p.ca.ca_pem);
    let mut c = connect(&handle, &client);
    assert_eq!(c.request(GET_PLAINTEXT).status, 200);
    handle.shutdown();
    let mut buf = [0u8; 64];
    // Ok(0) from rustls means close_notify came; a bare EOF would be UnexpectedEof.
    assert_eq!(c.stream.read(&mut buf).unwrap(), 0);
    handle.join().unwrap();
}

#[test]
fn a_reload_serves_the_new_certificate_to_new_connections() {
    let p = pki();
    let handle = https(&p);
    let old = test_pki::client_config(&p.ca.ca_pem);
    let mut kept = connect(&handle, &old);
    let other = TestCa::new(p.dir.path(), "other");
    let renewed = other.server_cert("renewed", &["localhost"], false);
    std::fs::copy(&renewed.cert, &p.leaf.cert).unwrap();
    std::fs::copy(&renewed.key, &p.leaf.key).unwrap();
    handle.reload();
    let new = test_pki::client_config(&other.ca_pem);
    eventually("a handshake verifies against the new CA", || {
        let tcp = tcp(handle.addr());
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let session = rustls::ClientConnection::new(new.clone(), name).unwrap();
        let mut s = rustls::StreamOwned::new(session, tcp);
        s.write_all(GET_PLAINTEXT).and_then(|_| s.flush()).is_ok() && s.read(&mut [0u8; 16]).is_ok()
    });
    // The connection made before the reload is untouched.
    assert_eq!(kept.request(GET_PLAINTEXT).status, 200);
}

#[test]
fn bad_certificate_or_key_files_exit_2_naming_the_flag() {
    let p = pki();
    let other = p.ca.server_cert("other", &["localhost"], false);
    let garbage = p.dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a pem file\n").unwrap();
    let missing = p.dir.path().join("missing.pem");
    let cases = [
        (&missing, &p.leaf.key, "--tls-cert"),
        (&garbage, &p.leaf.key, "--tls-cert"),
        (&p.leaf.cert, &garbage, "--tls-key"),
        (&p.leaf.cert, &other.key, "does not belong to the certificate"),
    ];
    for (cert, key, expected) in cases {
        let out = Command::new(SERVER_BIN)
            .args(["--listen", "127.0.0.1:0", "--tls-cert"])
            .arg(cert)
            .arg("--tls-key")
            .arg(key)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "expected {expected:?} in: {stderr}");
        assert!(out.stdout.is_empty(), "it must not listen: {:?}", out.stdout);
    }
}

/// curl (OpenSSL) against the server: the check a user would make. CI installs curl; on
/// a machine without it the test says so and passes.
#[test]
fn curl_with_cacert_fetches_over_https() {
    let p = pki();
    let handle = https(&p);
    let url = format!("https://localhost:{}/plaintext", handle.addr().port());
    let out = match Command::new("curl")
        .args(["-sS", "--http1.1", "--cacert"])
        .arg(&p.ca.ca_pem)
        .args(["-w", " %{http_code} %{ssl_verify_result}", &url])
        .output()
    {
        Ok(out) => out,
        Err(e) if std::env::var_os("CI").is_none() => return eprintln!("skipped: no curl ({e})"),
        Err(e) => panic!("curl is required in CI: {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout, "Hello, World! 200 0");
}

#[test]
fn the_listening_line_says_https() {
    let p = pki();
    let mut cmd = Command::new(SERVER_BIN);
    cmd.args(["--listen", "127.0.0.1:0", "--workers", "1", "--tls-cert"])
        .arg(&p.leaf.cert)
        .arg("--tls-key")
        .arg(&p.leaf.key);
    let (mut child, addr, line) = spawn_listening(cmd);
    assert!(line.starts_with("listening on https://"), "{line}");
    let client = test_pki::client_config(&p.ca.ca_pem);
    let mut c = Client::over(test_pki::connect(addr, &client, "localhost"));
    assert_eq!(c.request(GET_PLAINTEXT).status, 200);
    child.kill().unwrap();
    child.wait().unwrap();
}
