//! Test helpers: an in-process server on port 0 and a raw HTTP/1.1 client.
#![allow(dead_code)] // each test binary uses its own subset

use server::{Config, ServerHandle};
use std::io::{self, Read, Write};
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The `server` binary this package builds.
pub const SERVER_BIN: &str = env!("CARGO_BIN_EXE_server");

/// Spawns `cmd` (the server binary, directly or through a shell) with stdout piped and waits
/// for its listening line; returns the child, the address it names and the whole line.
pub fn spawn_listening(mut cmd: Command) -> (Child, SocketAddr, String) {
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let rest = line.strip_prefix("listening on http://").expect(&line);
    let addr = rest.split_once(' ').unwrap().0.parse().unwrap();
    (child, addr, line)
}

pub fn start(cfg: Config) -> ServerHandle {
    server::start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..cfg
    })
    .expect("server starts")
}

pub fn start_default() -> ServerHandle {
    start(Config {
        workers: 1,
        ..Config::default()
    })
}

pub const GET_PLAINTEXT: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n";

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
    pub reads: usize,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            buf: Vec::new(),
            reads: 0,
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 65536];
        let n = self.stream.read(&mut chunk)?;
        self.reads += 1;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Reads one response; `head_request` means no body follows whatever Content-Length says.
    pub fn try_read_response(&mut self, head_request: bool) -> io::Result<Response> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut parsed = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(head_len) =
                parsed.parse(&self.buf).expect("valid response head")
            {
                let status = parsed.code.unwrap();
                let headers: Vec<(String, String)> = parsed
                    .headers
                    .iter()
                    .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned()))
                    .collect();
                let len = if head_request || status == 100 || status == 304 {
                    0
                } else {
                    let cl = headers
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"));
                    cl.expect("Content-Length on every response")
                        .1
                        .parse::<usize>()
                        .unwrap()
                };
                while self.buf.len() < head_len + len {
                    if self.fill()? == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                }
                let body = self.buf[head_len..head_len + len].to_vec();
                self.buf.drain(..head_len + len);
                return Ok(Response {
                    status,
                    headers,
                    body,
                });
            }
            if self.fill()? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    pub fn read_response(&mut self) -> Response {
        self.try_read_response(false).expect("a response")
    }

    pub fn request(&mut self, bytes: &[u8]) -> Response {
        self.send(bytes);
        self.read_response()
    }

    /// Everything the server sends until it closes the connection (EOF or reset).
    pub fn read_to_end(&mut self) -> Vec<u8> {
        loop {
            match self.fill() {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break,
                Err(e) => panic!("reading to EOF: {e}"),
            }
        }
        std::mem::take(&mut self.buf)
    }

    /// True when the server has closed the connection (EOF or reset) with nothing more to read.
    pub fn is_closed(&mut self) -> bool {
        self.buf.is_empty()
            && match self.fill() {
                Ok(0) => true,
                Ok(_) => false,
                Err(e) => matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                ),
            }
    }
}

/// Polls `cond` every few milliseconds for up to 5 s.
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
