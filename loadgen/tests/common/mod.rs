//! Test servers over real loopback sockets: plain std::net, one thread per connection,
//! each with a behaviour given by the test. They count what they saw so tests can compare
//! the report with the truth.

#![allow(dead_code)] // each test binary uses a different subset

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
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
        while let Some(end) = find_head_end(&buffer) {
            let head = String::from_utf8_lossy(&buffer[..end]).to_string();
            let length = content_length(&head);
            if buffer.len() < end + length {
                break; // body not all here yet
            }
            let body = buffer[end..end + length].to_vec();
            buffer.drain(..end + length);
            *seen.last_request.lock().unwrap() = (head, body);
            let index = seen.requests.fetch_add(1, Ordering::SeqCst);
            let mut replier = Replier {
                stream: &mut stream,
                seen,
            };
            if respond(index, &mut replier) == After::Close {
                return;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

fn content_length(head: &str) -> usize {
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, value)| value.trim().parse().unwrap())
}

pub fn find_head_end(buffer: &[u8]) -> Option<usize> {
    buffer.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
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

/// A scratch directory for this test process, created.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("loadgen-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
