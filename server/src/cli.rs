//! Command-line flags, turned into a `Config`.

use crate::config::Config;
use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "server",
    version,
    about = "HTTP/1.1 event-loop server: GET /plaintext, GET /json, POST /echo",
    after_help = "Durations take units: 500ms, 10s, 2m. On start one line is printed to stdout:\n  listening on http://ADDR (N workers)\nSIGTERM or SIGINT drains in-flight requests and exits 0; a second signal exits at once."
)]
pub struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,

    /// Worker threads, each with its own event loop [default: available cores]
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: Option<u16>,

    /// Maximum open connections in total (split evenly across workers); past it new
    /// connections wait in the listen backlog.
    #[arg(long, default_value_t = 10_000, value_name = "N", allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_conns: u32,

    /// Time allowed to receive a whole request head (also the limit between body reads);
    /// past it the server answers 408 and closes.
    #[arg(long, default_value = "10s", value_name = "DUR", value_parser = parse_duration)]
    pub header_timeout: Duration,

    /// Idle time allowed between requests on a keep-alive connection before it is closed
    /// (also how long a client may leave a response unread).
    #[arg(long, default_value = "75s", value_name = "DUR", value_parser = parse_duration)]
    pub keepalive_timeout: Duration,

    /// Largest request head (request line + headers) in bytes; larger gets 431.
    #[arg(long, default_value_t = 16_384, value_name = "BYTES", allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(256..=(1 << 24)))]
    pub max_header_bytes: u32,

    /// Largest request body in bytes; larger gets 413 without being read.
    #[arg(long, default_value_t = 1_048_576, value_name = "BYTES", allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(0..=(1 << 30)))]
    pub max_body_bytes: u32,

    /// Time allowed after SIGTERM/SIGINT to finish in-flight requests before exiting.
    #[arg(long, default_value = "10s", value_name = "DUR", value_parser = parse_duration)]
    pub shutdown_timeout: Duration,

    /// Serve the files under DIR (GET and HEAD) for paths no built-in route claims.
    #[arg(long, value_name = "DIR", value_parser = parse_root)]
    pub root: Option<PathBuf>,
}

fn parse_root(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s).canonicalize().map_err(|e| format!("{e}"))?;
    if !path.is_dir() {
        return Err("not a directory".into());
    }
    Ok(path)
}

/// Durations must be positive: a zero timeout would close every connection at once.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("{e} (expected a duration such as 500ms, 10s or 2m)"))?;
    if d.is_zero() {
        return Err("must be greater than zero".into());
    }
    Ok(d)
}

impl Args {
    pub fn into_config(self) -> Config {
        let defaults = Config::default();
        Config {
            listen: self.listen,
            workers: self.workers.map_or(defaults.workers, usize::from),
            max_conns: self.max_conns as usize,
            header_timeout: self.header_timeout,
            keepalive_timeout: self.keepalive_timeout,
            max_header_bytes: self.max_header_bytes as usize,
            max_body_bytes: self.max_body_bytes as usize,
            shutdown_timeout: self.shutdown_timeout,
            root: self.root,
        }
    }
}
