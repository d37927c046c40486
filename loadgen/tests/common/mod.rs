//! Test servers over real loopback sockets: plain std::net, one thread per connection,
//! each with a behaviour given by the test. They count what they saw so tests can compare
//! the report with the truth.

#![allow(dead_code)] // each test binary uses a different subset

pub mod fixed_cost;

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_wire::framing::Framing;
use loadgen::Config;

/// Counters shared by all connections of one server.
#[derive(Default)]
pub struct Seen {
    pub requests: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub connections: AtomicU64,
    /// Head and body of the latest request.
    pub last_request: Mutex<(String, Vec<u8>)>,
}

pub struct TestServer {
    pub url: String,
    pub seen: Arc<Seen>,
}

impl TestServer {
    pub fn requests(&self) -> u64 {
        self.seen.requests.load(Ordering::SeqCst)
    }

    pub fn bytes_sent(&self) -> u64 {
        self.seen.bytes_sent.load(Ordering::SeqCst)
    }

    /// A config for this server: one thread, short and bounded.
    pub fn config(&self) -> Config {
        let mut config = Config::new(&self.url);
        config.threads = 1;
        config.connections = 4;
        config.duration = Some(Duration::from_secs(1));
        config.timeout = Duration::from_secs(2);
        config
    }
}

/// Writes replies and counts the bytes.
pub struct Replier<'a> {
    stream: &'a mut TcpStream,
    seen: &'a Seen,
}

impl Replier<'_> {
    /// Connections this server has accepted so far.
    pub fn connections(&self) -> u64 {
        self.seen.connections.load(Ordering::SeqCst)
    }

    pub fn send(&mut self, bytes: &[u8]) {
        if self.stream.write_all(bytes).is_ok() {
            self.seen
                .bytes_sent
                .fetch_add(bytes.len() as u64, Ordering::SeqCst);
        }
    }
}

/// What to do after answering a request.
#[derive(PartialEq, Eq)]
pub enum After {
    KeepOpen,
    Close,
}

/// Serve on 127.0.0.1:0; `respond(index, replier)` runs for every request (index counts
/// requests over all connections, from 0). Requests are split on the blank line; test
/// requests carry no body.
pub fn serve<F>(respond: F) -> TestServer
where
    F: Fn(u64, &mut Replier<'_>) -> After + Send + Sync + 'static,
{
    serve_on(TcpListener::bind("127.0.0.1:0").unwrap(), respond)
}

/// `serve` on a listener made by the test (e.g. with a small backlog).
pub fn serve_on<F>(listener: TcpListener, respond: F) -> TestServer
where
    F: Fn(u64, &mut Replier<'_>) -> After + Send + Sync + 'static,
{
    let url = format!("http://{}/test", listener.local_addr().unwrap());
    let seen = Arc::new(Seen::default());
    let respond = Arc::new(respond);
    let counters = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            counters.connections.fetch_add(1, Ordering::SeqCst);
            let (respond, counters) = (respond.clone(), counters.clone());
            std::thread::spawn(move || handle(stream, &*respond, &counters));
        }
    });
    TestServer { url, seen }
}

fn handle<F>(mut stream: TcpStream, respond: &F, seen: &Seen)
where
    F: Fn(u64, &mut Replier<'_>) -> After,
{
    stream.set_nodelay(true).unwrap();
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        while let Some((end, total)) = next_request(&buffer) {
            let head = String::from_utf8_lossy(&buffer[..end]).to_string();
            let body = buffer[end..total].to_vec();
            buffer.drain(..total);
            *seen.last_request.lock().unwrap() = (head, body);
            let index = seen.requests.fetch_add(1, Ordering::SeqCst);
            let mut replier = Replier {
                stream: &mut stream,
                seen,
            };
            if respond(index, &mut replier) == After::Close {
                return close_gracefully(stream);
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Closes as a careful server does: FIN first, then read what the client still sends until it
/// closes too. Closing with unread requests in the socket would send a reset, which can
/// destroy the response before the client reads it.
fn close_gracefully(mut stream: TcpStream) {
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut sink = [0u8; 4096];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
}

/// Where the next whole request in `buffer` ends, `(head length, head + body length)`, read
/// with http-wire's server-role parser: a malformed request from loadgen fails the test (the
/// connection's thread panics and loadgen sees it go).
pub fn next_request(buffer: &[u8]) -> Option<(usize, usize)> {
    let head = match http_wire::request::parse(buffer, 64 * 1024) {
        Ok(None) => return None,
        Ok(Some(head)) => head,
        Err(e) => panic!(
            "loadgen sent a malformed request ({}): {:?}",
            e.detail(),
            String::from_utf8_lossy(buffer)
        ),
    };
    let body = match head.framing {
        Framing::None => 0,
        Framing::Length(n) => n as usize,
        other => panic!("the test servers read no {other:?} bodies"),
    };
    let total = head.len + body;
    (buffer.len() >= total).then_some((head.len, total))
}

/// `HTTP/1.1 <status>` with a small Content-Length body.
pub fn response(status: u16) -> Vec<u8> {
    let body: &[u8] = if status == 204 || status == 304 {
        b""
    } else {
        b"hello"
    };
    let mut out = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    if status == 204 || status == 304 {
        out = format!("HTTP/1.1 {status} X\r\n\r\n").into_bytes();
    }
    out.extend_from_slice(body);
    out
}

/// A server answering 200 "hello" to everything, at once.
pub fn ok_server() -> TestServer {
    serve(|_, r| {
        r.send(&response(200));
        After::KeepOpen
    })
}

/// Runs the built `loadgen` binary with `args` and waits for it to exit.
pub fn loadgen<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(args)
        .output()
        .unwrap()
}

/// A port nothing listens on: a run against it exits 1 ("cannot connect").
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}/", listener.local_addr().unwrap())
}

/// A scratch directory for this test process, created.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("loadgen-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every text node of an SVG file, trimmed; panics unless it is well-formed XML.
pub fn svg_texts(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("well-formed SVG");
    doc.descendants()
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .collect()
}

/// The workspace's own server with one worker, on a free loopback port.
pub fn one_worker_server() -> server::ServerHandle {
    server::start(server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        workers: 1,
        ..Default::default()
    })
    .unwrap()
}

/// The run exited with `code` and one line on stderr that says `says` (e.g. the flag).
pub fn assert_one_line_error(out: &Output, code: i32, says: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert!(stderr.contains(says), "{stderr:?} should say {says}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr:?}");
}
