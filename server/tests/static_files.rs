//! `--root`: the web-server role, checked against what nginx does.

mod common;
use common::*;
use server::Config;
use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant, UNIX_EPOCH};

/// A document root inside a temp dir, with a secret file beside it (outside the root).
struct Site {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
}

const SECRET: &str = "TOP-SECRET-OUTSIDE-ROOT";

fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("www");
    fs::create_dir_all(root.join("docs")).unwrap();
    fs::create_dir_all(root.join("empty")).unwrap();
    fs::write(dir.path().join("secret.txt"), SECRET).unwrap();
    fs::write(root.join("hello.txt"), "hello, file\n").unwrap();
    fs::write(root.join("docs/index.html"), "<h1>docs</h1>").unwrap();
    fs::write(root.join("data.json"), "{}").unwrap();
    fs::write(root.join("blob.zzzunknown"), [1u8, 2, 3]).unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("leak.txt")).unwrap();
    std::os::unix::fs::symlink(root.join("hello.txt"), root.join("alias.txt")).unwrap();
    Site { _dir: dir, root }
}

fn serve(site: &Site) -> server::ServerHandle {
    start(Config {
        workers: 1,
        root: Some(site.root.clone()),
        ..Config::default()
    })
}

fn get(c: &mut Client, path: &str, extra: &str) -> Response {
    c.request(format!("GET {path} HTTP/1.1\r\nHost: t\r\n{extra}\r\n").as_bytes())
}

fn etag_of(path: &Path) -> String {
    let meta = fs::metadata(path).unwrap();
    let mtime = meta
        .modified()
        .unwrap()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!("\"{mtime:x}-{:x}\"", meta.len())
}

#[test]
fn a_file_comes_with_nginx_style_headers() {
    let site = site();
    let server = serve(&site);
    let mut c = Client::connect(server.addr());
    let r = get(&mut c, "/hello.txt?ignored=1", "");
    assert_eq!((r.status, r.body_text()), (200, "hello, file\n"));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.header("content-length"), Some("12"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    assert_eq!(
        r.header("etag"),
        Some(etag_of(&site.root.join("hello.txt")).as_str())
    );
    let modified = fs::metadata(site.root.join("hello.txt"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        r.header("last-modified"),
        Some(httpdate::fmt_http_date(modified).as_str())
    );
    for (path, ctype) in [
        ("/data.json", "application/json"),
        ("/docs/index.html", "text/html; charset=utf-8"),
        ("/blob.zzzunknown", "application/octet-stream"),
    ] {
        assert_eq!(
            get(&mut c, path, "").header("content-type"),
            Some(ctype),
            "{path}"
        );
    }
    // The built-in routes still answer beside the root.
    assert_eq!(c.request(GET_PLAINTEXT).body, b"Hello, World!");
}

#[test]
fn head_has_the_headers_and_no_body() {
    let site = site();
    fs::write(site.root.join("big.bin"), vec![7u8; 200_000]).unwrap();
    let server = serve(&site);
    let mut c = Client::connect(server.addr());
    for (path, len) in [("/hello.txt", "12"), ("/big.bin", "200000")] {
        c.send(format!("HEAD {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
        let r = c.try_read_response(true).unwrap();
        assert_eq!((r.status, r.header("content-length")), (200, Some(len)));
    }
    // Had a body been sent, it would be read here instead of the next response.
    assert_eq!(get(&mut c, "/hello.txt", "").body_text(), "hello, file\n");
}

#[test]
fn other_methods_on_files_get_405() {
    let site = site();
    let server = serve(&site);
    let mut c = Client::connect(server.addr());
    let r = c.request(b"DELETE /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD")));
    let r = c.request(b"POST /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi");
    assert_eq!(r.status, 405);
    assert_eq!(
        c.request(b"POST /missing HTTP/1.1\r\nHost: t\r\n\r\n").status,
        404
    );
}

#[test]
fn traversal_attempts_never_leak_a_file_from_outside_the_root() {
    let site = site();
    let server = serve(&site);
    for (path, status) in [
        ("/../etc/passwd", 400),
        ("/%2e%2e/%2e%2e/etc/passwd", 400),
        ("/..%2f..%2fetc/passwd", 400),
        ("//etc/passwd", 404),
        ("/a/../../etc/passwd", 400),
        ("/%00", 400),
        ("/hello.txt%00.html", 400),
        ("/../secret.txt", 400),
        ("/docs/../../secret.txt", 400),
        ("/leak.txt", 403),
        ("/%ff", 400),
    ] {
        let mut c = Client::connect(server.addr());
        let r = get(&mut c, path, "");
        assert_eq!(r.status, status, "{path}");
        let body = r.body_text();
        assert!(
            !body.contains(SECRET) && !body.contains("root:"),
            "{path} leaked: {body}"
        );
    }
    // A symlink that stays inside the root is followed.
    let mut c = Client::connect(server.addr());
    assert_eq!(get(&mut c, "/alias.txt", "").body_text(), "hello, file\n");
}

#[test]
fn directories_redirect_serve_their_index_or_refuse() {
    let site = site();
    let server = serve(&site);
    let mut c = Client::connect(server.addr());
    let r = get(&mut c, "/docs?x=1&y=2", "");
    assert_eq!((r.status, r.header("location")), (301, Some("/docs/?x=1&y=2")));
    let r = get(&mut c, "/docs/", "");
    assert_eq!((r.status, r.body_text()), (200, "<h1>docs</h1>"));
    assert_eq!(get(&mut c, "/empty/", "").status, 403);
    assert_eq!(get(&mut c, "/", "").status, 403);
    assert_eq!(get(&mut c, "/nothing-here", "").status, 404);
    assert_eq!(get(&mut c, "/hello.txt/", "").status, 404);
    assert_eq!(get(&mut c, "/hello.txt/more", "").status, 404);
}

#[test]
fn not_a_regular_file_is_404() {
    let site = site();
    oscalls::fs::make_fifo(&site.root.join("pipe"), 0o644).unwrap();
    let server = serve(&site);
    let mut c = Client::connect(server.addr());
    assert_eq!(get(&mut c, "/pipe", "").status, 404);
}

#[test]
fn conditional_requests_follow_rfc_9110() {
    let site = site();
    let server = serve(&site);
    let mut c = Client::connect(server.addr());
    let full = get(&mut c, "/hello.txt", "");
    let etag = full.header("etag").unwrap().to_string();
    let lm = full.header("last-modified").unwrap().to_string();
    let earlier = httpdate::fmt_http_date(httpdate::parse_http_date(&lm).unwrap() - Duration::from_secs(60));

    for cond in [
        format!("If-None-Match: {etag}"),
        format!("If-None-Match: \"x\", W/{etag}"),
        "If-None-Match: *".to_string(),
        format!("If-Modified-Since: {lm}"),
    ] {
        let r = get(&mut c, "/hello.txt", &format!("{cond}\r\n"));
        assert_eq!(r.status, 304, "{cond}");
        assert_eq!(
            (r.header("etag"), r.header("last-modified")),
            (Some(etag.as_str()), Some(lm.as_str()))
        );
        assert!(r.header("date").is_some() && r.header("content-length").is_none() && r.body.is_empty());
    }
    for cond in [
        "If-None-Match: \"other\"".to_string(),
        format!("If-Modified-Since: {earlier}"),
        // If-None-Match present: If-Modified-Since is not consulted.
        format!("If-None-Match: \"other\"\r\nIf-Modified-Since: {lm}"),
        format!("If-Match: {etag}"),
    ] {
        let r = get(&mut c, "/hello.txt", &format!("{cond}\r\n"));
        assert_eq!((r.status, r.body_text()), (200, "hello, file\n"), "{cond}");
    }
    for cond in [
        "If-Match: \"other\"".to_string(),
        format!("If-Unmodified-Since: {earlier}"),
    ] {
        let r = get(&mut c, "/hello.txt", &format!("{cond}\r\n"));
        assert_eq!(r.status, 412, "{cond}");
    }
}

#[test]
fn ranges_on_a_1mib_file_are_byte_exact() {
    let site = site();
    let data: Vec<u8> = (0..1_048_576u32).map(|i| (i * 7 % 251) as u8).collect();
    fs::write(site.root.join("mib.bin"), &data).unwrap();
    let server = serve(&site);
    let mut c = Client::connect(server.addr());
    let size = data.len();
    for (spec, start, end) in [
        ("bytes=0-0", 0, 0),
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=1048000-", 1_048_000, size - 1),
        ("bytes=-4096", size - 4096, size - 1),
        ("bytes=500000-9999999", 500_000, size - 1),
    ] {
        let r = get(&mut c, "/mib.bin", &format!("Range: {spec}\r\n"));
        assert_eq!(r.status, 206, "{spec}");
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes {start}-{end}/{size}").as_str())
        );
        assert_eq!(r.body, &data[start..=end], "{spec}");
    }
    let r = get(&mut c, "/mib.bin", "Range: bytes=2000000-\r\n");
    assert_eq!(
        (r.status, r.header("content-range")),
        (416, Some("bytes */1048576"))
    );
    // Several ranges: the whole file with 200 (documented choice).
    let r = get(&mut c, "/mib.bin", "Range: bytes=0-1,5-9\r\n");
    assert_eq!((r.status, r.body.len()), (200, size));
    let etag = r.header("etag").unwrap().to_string();
    let r = get(
        &mut c,
        "/mib.bin",
        &format!("Range: bytes=10-19\r\nIf-Range: {etag}\r\n"),
    );
    assert_eq!((r.status, r.body.as_slice()), (206, &data[10..20]));
    let r = get(
        &mut c,
        "/mib.bin",
        "Range: bytes=10-19\r\nIf-Range: \"stale\"\r\n",
    );
    assert_eq!((r.status, r.body.len()), (200, size));
    let r = get(
        &mut c,
        "/mib.bin",
        "Range: bytes=10-19\r\nIf-Range: Mon, 01 Jan 2001 00:00:00 GMT\r\n",
    );
    assert_eq!(r.status, 200);
    // Ranges on an in-memory file too.
    let r = get(&mut c, "/hello.txt", "Range: bytes=-5\r\n");
    assert_eq!((r.status, r.body_text()), (206, "file\n"));
}

#[test]
fn a_10mib_download_is_byte_exact_while_other_requests_keep_being_answered() {
    let site = site();
    let data: Vec<u8> = (0..10 * 1_048_576u32).map(|i| (i % 253) as u8).collect();
    fs::write(site.root.join("ten.bin"), &data).unwrap();
    let server = serve(&site);
    let mut big = Client::connect(server.addr());
    big.send(b"GET /ten.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    // Read the head and a little body, then stall: the server must not stall with us.
    let mut got = vec![0u8; 4096];
    let n = big.stream.read(&mut got).unwrap();
    got.truncate(n);
    let mut small = Client::connect(server.addr());
    for _ in 0..50 {
        let started = Instant::now();
        assert_eq!(small.request(GET_PLAINTEXT).status, 200);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    let mut buf = vec![0u8; 1 << 16];
    let head_end = loop {
        if let Some(p) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = big.stream.read(&mut buf).unwrap();
        got.extend_from_slice(&buf[..n]);
    };
    assert!(got.starts_with(b"HTTP/1.1 200 OK\r\n"));
    while got.len() < head_end + data.len() {
        let n = big.stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed early");
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got.len(), head_end + data.len());
    assert!(got[head_end..] == data[..], "10 MiB body differs");
    // And the connection goes on.
    assert_eq!(get(&mut big, "/hello.txt", "").body_text(), "hello, file\n");
}

#[test]
fn a_file_changed_on_disk_is_served_fresh_within_about_a_second() {
    let site = site();
    let server = serve(&site);
    let mut c = Client::connect(server.addr());
    assert_eq!(get(&mut c, "/hello.txt", "").body_text(), "hello, file\n");
    let mut f = fs::File::create(site.root.join("hello.txt")).unwrap();
    f.write_all(b"changed!!!!!\n").unwrap();
    drop(f);
    let changed = Instant::now();
    loop {
        let r = get(&mut c, "/hello.txt", "");
        if r.body_text() == "changed!!!!!\n" {
            assert_eq!(r.header("content-length"), Some("13"));
            break;
        }
        assert!(
            changed.elapsed() < Duration::from_millis(1500),
            "stale after {:?}",
            changed.elapsed()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Deleted files stop being served too.
    fs::remove_file(site.root.join("data.json")).unwrap();
    let deleted = Instant::now();
    while get(&mut c, "/data.json", "").status != 404 {
        assert!(deleted.elapsed() < Duration::from_millis(1500));
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn root_must_be_a_directory() {
    let bin = SERVER_BIN;
    for bad in ["/definitely/not/here", "/etc/hostname"] {
        let out = std::process::Command::new(bin)
            .args(["--root", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("--root"));
    }
}
