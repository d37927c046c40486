//! Test helpers: an in-process server on port 0, the server binary, and the shared
//! blocking client (http-wire's).
#![allow(dead_code)] // each test binary uses its own subset

#[allow(unused_imports)] // each test binary uses its own subset
pub use http_wire::client::{Client, Response};
pub mod caching;
pub mod upstream;
use server::{Config, ServerHandle};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
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
    let rest = line.strip_prefix("listening on ").expect(&line);
    let rest = rest.split_once("://").expect(&line).1;
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
