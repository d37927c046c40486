//! `--targets`: request mixes against the workspace's server, including the Like API.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use http_wire::client::Client;
use loadgen::Config;

fn write_targets(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("targets.txt");
    std::fs::write(&path, text).unwrap();
    path
}

/// One raw request on a fresh connection; returns the response body.
fn request(addr: std::net::SocketAddr, raw: &str) -> String {
    Client::connect(addr)
        .request(raw.as_bytes())
        .body_text()
        .to_string()
}

fn loadgen_config(targets: &Path) -> Config {
    let specs = loadgen::mix::read(targets).unwrap();
    let mut config = Config::new(specs[0].url.clone());
    config.targets = specs;
    config.targets_file = targets.display().to_string();
    config.threads = 1;
    config.connections = 4;
    config.duration = None;
    config
}

/// 400 requests of the mix in `path`: every one answered 200, no errors.
fn run_400(path: &Path) -> loadgen::Report {
    let mut config = loadgen_config(path);
    config.requests = Some(400);
    let report = loadgen::run(&config).unwrap();
    assert_eq!((report.requests, report.errors.total), (400, 0));
    assert_eq!(report.status.get("200"), Some(&400));
    report
}

#[test]
fn weights_and_names_give_an_exact_per_target_breakdown() {
    let server = common::one_worker_server();
    let a = server.addr();
    let dir = common::scratch_dir("targets-weights");
    let path = write_targets(
        &dir,
        &format!(
            "# three plaintext for every echo\nGET http://{a}/plaintext weight=3 name=plain\n\n\
             POST http://{a}/echo name=echo\nContent-Type: text/plain\n< ping\n"
        ),
    );
    let report = run_400(&path);
    let got: Vec<(&str, u64, u64)> = report
        .targets
        .iter()
        .map(|t| (t.name.as_str(), t.requests, t.errors))
        .collect();
    assert_eq!(got, vec![("plain", 300, 0), ("echo", 100, 0)]);
    // The report names the mix, not its first target.
    assert_eq!(
        (report.method.as_str(), report.url.as_str()),
        ("MIX", path.to_str().unwrap())
    );
    assert!(
        report
            .targets
            .iter()
            .all(|t| t.p50_us > 0.0 && t.p99_us >= t.p50_us)
    );
    // Every byte the server sent was read: plaintext and the 4-byte echo, each exactly.
    assert_eq!(report.bytes_read, server.stats().bytes_out);
    // A Bencher metric named after the mix's file, not "MIX /".
    let bmf = loadgen::report::bmf::render(&report, &loadgen::report::bmf::default_name(&report));
    assert!(bmf.get("MIX targets.txt").is_some(), "{bmf}");
}

/// A HEAD response carries Content-Length but no body; in a mix with GETs on the same
/// connections each response must be framed by its own request's method.
#[test]
fn head_and_get_targets_share_connections_without_misframing() {
    let server = common::one_worker_server();
    let a = server.addr();
    let dir = common::scratch_dir("targets-head");
    let path = write_targets(
        &dir,
        &format!("GET http://{a}/plaintext name=get\n\nHEAD http://{a}/plaintext name=head\n"),
    );
    let report = run_400(&path);
    let got: Vec<(&str, u64)> = report
        .targets
        .iter()
        .map(|t| (t.name.as_str(), t.requests))
        .collect();
    assert_eq!(got, vec![("get", 200), ("head", 200)]);
    assert_eq!(report.bytes_read, server.stats().bytes_out);
}

#[test]
fn a_like_mix_of_fifty_users_counts_exactly_fifty() {
    let dir = common::scratch_dir("targets-likes");
    let key = b"loadgen-test-key-0123456789";
    let secret = server::api::auth::Secret::new(key).unwrap();
    let server = server::start(server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        workers: 1,
        auth_secret: Some(secret.clone()),
        data_dir: dir.join("data"),
        ..Default::default()
    })
    .unwrap();
    let a = server.addr();
    let token = |user: u64| secret.mint(user, Duration::from_secs(600));
    let created = request(
        a,
        &format!(
            "POST /api/posts HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\nContent-Length: 15\r\n\r\n{{\"title\":\"mix\"}}",
            token(1)
        ),
    );
    assert!(created.contains("\"id\":1"), "{created}");
    let mut text = String::new();
    for user in 1..=50 {
        text += &format!(
            "POST http://{a}/api/posts/1/like name=like\nAuthorization: Bearer {}\n\n",
            token(user)
        );
    }
    text += &format!("GET http://{a}/api/posts/1 weight=10 name=read\n");
    let path = write_targets(&dir, &text);
    let mut config = loadgen_config(&path);
    config.requests = Some(60); // exactly one pass over the mix
    let report = loadgen::run(&config).unwrap();
    assert_eq!((report.requests, report.errors.total), (60, 0));
    let got: Vec<(&str, u64)> = report
        .targets
        .iter()
        .map(|t| (t.name.as_str(), t.requests))
        .collect();
    assert_eq!(got, vec![("like", 50), ("read", 10)]);
    let post = request(a, "GET /api/posts/1 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(post.contains("\"like_count\":50"), "{post}");
}

#[test]
fn bad_targets_are_usage_errors_naming_the_line() {
    let dir = common::scratch_dir("targets-bad");
    let path = write_targets(&dir, "GET http://127.0.0.1:1/a\n\nGET http://127.0.0.2:1/b\n");
    let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .arg("--targets")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--targets") && err.contains("targets.txt:3"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .arg("--targets")
        .arg(&path)
        .arg("http://127.0.0.1:1/")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let missing = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(["--targets", "/nonexistent"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--targets"));
}
