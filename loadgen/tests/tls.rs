//! https:// targets: verification (and its failures, before any load), `-k`, resumption
//! counted by the server, churn and pipelining over TLS, and `tls` as an error kind.

mod common;

use common::{loadgen, scratch_dir};
use loadgen::RunError;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use transport::test_pki::{ServerCert, TestCa};

struct Pki {
    ca: TestCa,
    leaf: ServerCert,
    dir: PathBuf,
}

fn pki(name: &str) -> Pki {
    let dir = scratch_dir(&format!("tls-{name}"));
    let ca = TestCa::new(&dir, "main");
    let leaf = ca.server_cert("localhost", &["localhost"], false);
    Pki { ca, leaf, dir }
}

fn https_server(cert: &ServerCert) -> server::ServerHandle {
    server::start(server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        workers: 1,
        tls: Some(server::tls::TlsFiles::load(&cert.cert, &cert.key).unwrap()),
        ..Default::default()
    })
    .unwrap()
}

fn config(port: u16, p: &Pki, requests: u64) -> loadgen::Config {
    let mut config = loadgen::Config::new(format!("https://localhost:{port}/plaintext"));
    config.threads = 1;
    config.connections = 1;
    config.duration = None;
    config.requests = Some(requests);
    config.tls.cacert = Some(p.ca.ca_pem.clone());
    config
}

fn unreachable_message(result: Result<loadgen::Report, RunError>) -> String {
    match result {
        Err(RunError::Unreachable(m)) => m,
        other => panic!("expected the run to be refused before load, got {other:?}"),
    }
}

#[test]
fn a_verified_run_reports_the_protocol_and_the_handshakes() {
    let p = pki("verified");
    let server = https_server(&p.leaf);
    let mut config = config(server.addr().port(), &p, 300);
    config.connections = 4;
    let report = loadgen::run(&config).unwrap();
    assert_eq!((report.requests, report.errors.total), (300, 0));
    assert_eq!(report.status.get("200"), Some(&300));
    let tls = report.tls.as_ref().expect("a TLS section");
    assert_eq!(tls.version, "TLSv1.3");
    assert!(tls.cipher.starts_with("TLS13_"), "{}", tls.cipher);
    assert_eq!((tls.handshakes, report.connections_opened), (4, 4));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["tls"]["version"], "TLSv1.3");
    assert_eq!(json["errors"]["tls"], 0);
    // Four connections for the run and the check before it.
    assert_eq!(server.stats().accepted, 5);
}

#[test]
fn a_targets_file_of_https_urls() {
    let p = pki("targets");
    let server = https_server(&p.leaf);
    let port = server.addr().port();
    let file = p.dir.join("targets.txt");
    std::fs::write(
        &file,
        format!("GET https://localhost:{port}/plaintext name=text\n\nGET https://localhost:{port}/json name=json\n"),
    )
    .unwrap();
    let mut config = config(port, &p, 100);
    config.targets = loadgen::mix::read(&file).unwrap();
    config.targets_file = file.display().to_string();
    let report = loadgen::run(&config).unwrap();
    assert_eq!((report.requests, report.errors.total), (100, 0));
    let counts: Vec<(&str, u64)> = report
        .targets
        .iter()
        .map(|t| (t.name.as_str(), t.requests))
        .collect();
    assert_eq!(counts, vec![("text", 50), ("json", 50)]);
    // One scheme for every target: http:// beside https:// is refused, naming the line.
    std::fs::write(
        &file,
        format!("GET https://localhost:{port}/\n\nGET http://localhost:{port}/\n"),
    )
    .unwrap();
    config.targets = loadgen::mix::read(&file).unwrap();
    let err = config.validate().unwrap_err();
    assert_eq!(err.flag, "--targets");
    assert!(
        err.message
            .contains(&format!("every target must use https://localhost:{port}")),
        "{}",
        err.message
    );
}

#[test]
fn sixteen_pipelined_requests_per_connection_over_tls() {
    let p = pki("pipelined");
    let server = https_server(&p.leaf);
    let mut config = config(server.addr().port(), &p, 3_200);
    config.connections = 2;
    config.pipeline = 16;
    let report = loadgen::run(&config).unwrap();
    assert_eq!((report.requests, report.errors.total), (3_200, 0));
    assert_eq!(server.stats().requests, 3_200);
}

#[test]
fn certificates_that_do_not_verify_stop_the_run_before_load_with_the_reason() {
    let p = pki("refused");
    let stranger = TestCa::new(&p.dir, "stranger");
    let cases = [
        (
            stranger.server_cert("unknown-ca", &["localhost"], false),
            "unknown issuer",
        ),
        (
            p.ca.server_cert("wrong-host", &["other.example"], false),
            "not valid for",
        ),
        (p.ca.server_cert("expired", &["localhost"], true), "expired"),
    ];
    for (cert, reason) in cases {
        let server = https_server(&cert);
        let message = unreachable_message(loadgen::run(&config(server.addr().port(), &p, 10)));
        assert!(message.starts_with("certificate verify failed: "), "{message}");
        assert!(message.contains(reason), "expected {reason:?} in {message:?}");
        assert!(message.ends_with("(use --cacert or -k)"), "{message}");
        // Refused at the check: no connection for load was made.
        assert_eq!(server.stats().requests, 0);
        assert_eq!(server.stats().accepted, 1);
    }
}

#[test]
fn the_binary_exits_1_on_a_verify_failure_and_k_skips_verification() {
    let p = pki("insecure");
    let stranger = TestCa::new(&p.dir, "stranger");
    let cert = stranger.server_cert("unknown", &["localhost"], false);
    let server = https_server(&cert);
    let url = format!("https://localhost:{}/plaintext", server.addr().port());
    let out = loadgen(&[url.as_str(), "-n", "5", "-c", "1", "-t", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("certificate verify failed: unknown issuer"),
        "{stderr}"
    );
    let out = loadgen(&[url.as_str(), "-n", "5", "-c", "1", "-t", "1", "-k", "--json", "-"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["requests"].as_u64(), report["errors"]["total"].as_u64()),
        (Some(5), Some(0))
    );
}

#[test]
fn no_keepalive_resumes_every_session_unless_told_not_to() {
    let p = pki("resume");
    for resume in [true, false] {
        let server = https_server(&p.leaf);
        let mut config = config(server.addr().port(), &p, 100);
        config.requests_per_conn = Some(1);
        config.tls.no_resume = !resume;
        let report = loadgen::run(&config).unwrap();
        assert_eq!((report.requests, report.errors.total), (100, 0));
        let tls = report.tls.as_ref().unwrap();
        let stats = server.stats();
        // One connection per request, plus the check before the run (a full handshake).
        assert_eq!(
            (report.connections_opened, tls.handshakes, stats.accepted),
            (100, 100, 101)
        );
        if resume {
            // The check reads no tickets, so the run's first connection is a full handshake;
            // every later one resumes.
            assert_eq!(tls.resumed, 99);
            assert_eq!((stats.tls_full_handshakes, stats.tls_resumed_handshakes), (2, 99));
        } else {
            assert_eq!(tls.resumed, 0);
            assert_eq!(
                (stats.tls_full_handshakes, stats.tls_resumed_handshakes),
                (101, 0)
            );
        }
    }
}

/// rustls's default store keeps 8 tickets per server; with 16 connections reconnecting at
/// once a fifth of the handshakes were full. Now only the first one of each connection is.
#[test]
fn every_connection_finds_a_ticket_to_resume_with() {
    let p = pki("many");
    let server = https_server(&p.leaf);
    let mut config = config(server.addr().port(), &p, 400);
    config.connections = 16;
    config.requests_per_conn = Some(1);
    let report = loadgen::run(&config).unwrap();
    assert_eq!((report.requests, report.errors.total), (400, 0));
    let tls = report.tls.as_ref().unwrap();
    assert_eq!((tls.handshakes, tls.resumed), (400, 400 - 16));
}

#[test]
fn tls_to_a_plain_port_is_a_clear_tls_error() {
    let p = pki("plain-port");
    let server = server::start(server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        workers: 1,
        ..Default::default()
    })
    .unwrap();
    let message = unreachable_message(loadgen::run(&config(server.addr().port(), &p, 10)));
    assert!(message.contains("TLS handshake with"), "{message}");
    assert!(
        message.contains("did not answer in TLS (is this a plain HTTP port?)"),
        "{message}"
    );
}

/// A server that completes handshakes, reads a request, then answers with a record that
/// no key decrypts.
fn corrupting_server(cert: &ServerCert) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let config: Arc<rustls::ServerConfig> =
        server::tls::TlsFiles::load(&cert.cert, &cert.key).unwrap().config;
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { return };
            let config = config.clone();
            std::thread::spawn(move || {
                let mut tls = rustls::StreamOwned::new(rustls::ServerConnection::new(config).unwrap(), tcp);
                let mut request = [0u8; 1024];
                if matches!(tls.read(&mut request), Ok(n) if n > 0) {
                    let _ = tls.sock.write_all(&[0x17, 0x03, 0x03, 0x00, 0x20]);
                    let _ = tls.sock.write_all(&[0xa5; 32]);
                }
                let _ = tls.read(&mut request); // until loadgen hangs up
            });
        }
    });
    port
}

#[test]
fn a_bad_record_fails_its_requests_as_tls_errors() {
    let p = pki("bad-record");
    let port = corrupting_server(&p.leaf);
    let report = loadgen::run(&config(port, &p, 3)).unwrap();
    assert_eq!(report.requests, 0);
    assert_eq!((report.errors.by_kind.tls, report.errors.total), (3, 3));
}

#[test]
fn tls_flags_are_checked_before_the_run() {
    let p = pki("flags");
    let out = loadgen(&["http://127.0.0.1:1/", "--cacert", p.ca.ca_pem.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--cacert: applies to https:// targets only"),
        "{stderr}"
    );
    let server = https_server(&p.leaf);
    let url = format!("https://localhost:{}/", server.addr().port());
    let out = loadgen(&[url.as_str(), "--cacert", "/nonexistent/ca.pem", "-n", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--cacert: /nonexistent/ca.pem: cannot read"),
        "{stderr}"
    );
}
