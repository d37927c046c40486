//! The flags that say what load to apply and to what (target, connections, request, TLS,
//! timeouts): shared by `loadgen` and `loadgen capacity`, turned into a [`Config`] in one place.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::config::{Config, UsageError};
use crate::shard::Shard;
use crate::tls::TlsOptions;

#[derive(Args, Debug)]
pub(crate) struct LoadArgs {
    /// Target, e.g. http://127.0.0.1:8080/plaintext or https://example.com/
    #[arg(required_unless_present = "targets")]
    url: Option<String>,
    /// A request mix instead of one URL: a file of targets (method, URL, headers, body),
    /// sent round-robin with optional weights; the report breaks results down per target name
    #[arg(long, value_name = "FILE", conflicts_with_all = ["url", "method", "headers", "body", "body_file"])]
    targets: Option<PathBuf>,
    /// Connections to keep open, shared over the threads
    #[arg(short = 'c', long, default_value_t = 64, value_name = "N")]
    connections: usize,
    /// Reactor threads [default: number of cores]
    #[arg(short = 't', long, value_name = "N")]
    threads: Option<usize>,
    /// Requests in flight per connection
    #[arg(long, default_value_t = 1, value_name = "N")]
    pipeline: usize,
    /// A new connection for every request (each sends `Connection: close`)
    #[arg(long, conflicts_with = "requests_per_conn")]
    no_keepalive: bool,
    /// Close each connection after N requests (the last sends `Connection: close`) and open a new one
    #[arg(long, value_name = "N")]
    requests_per_conn: Option<u64>,
    /// https: trust the CA certificates in FILE (PEM) besides the system's
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
    /// https: do not verify the server's certificate
    #[arg(short = 'k', long)]
    insecure: bool,
    /// https: a full handshake on every connection (no session resumption)
    #[arg(long)]
    no_tls_resume: bool,
    /// Extra request header (repeatable)
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Request method
    #[arg(short = 'm', long, default_value = "GET")]
    method: String,
    /// Request body
    #[arg(long, value_name = "STRING", conflicts_with = "body_file")]
    body: Option<String>,
    /// Request body read from a file
    #[arg(long, value_name = "PATH")]
    body_file: Option<PathBuf>,
    /// Per-request timeout, counted from the write
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = parse_duration)]
    timeout: Duration,
    /// Connect timeout
    #[arg(long, default_value = "2s", value_name = "DURATION", value_parser = parse_duration)]
    connect_timeout: Duration,
    /// Connections being opened or not yet answered, at most N at once (shared over the
    /// threads, at least one each); the others wait their turn, so a connect storm does not
    /// overrun the target's listen queues
    #[arg(long, default_value_t = crate::config::DEFAULT_CONNECT_CONCURRENCY, value_name = "N")]
    connect_concurrency: usize,
    /// Do shard I of N of the run (1 <= I <= N): 1/N of the connections, of -n, of the rate
    /// (or of each stage's rate), continuing the --targets mix where shard I-1 leaves off
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    pub(crate) shard: Option<Shard>,
    /// Measure this process's CPU (with all its threads and descendants) (repeatable)
    #[arg(long = "server-pid", value_name = "PID")]
    server_pids: Vec<u32>,
}

impl LoadArgs {
    /// The config these flags describe (run length and rate are the caller's to set).
    pub(crate) fn into_config(self) -> Result<Config, UsageError> {
        let targets = match &self.targets {
            Some(path) => crate::mix::read(path).map_err(|m| UsageError::new("--targets", m))?,
            None => Vec::new(),
        };
        let url = match (&self.url, targets.first()) {
            (Some(url), _) => url.clone(),
            (None, Some(first)) => first.url.clone(),
            (None, None) => return Err(UsageError::new("URL", "give a URL or --targets FILE")),
        };
        let mut config = Config::new(url);
        config.targets = targets;
        config.targets_file = self
            .targets
            .as_ref()
            .map_or(String::new(), |p| p.display().to_string());
        config.connections = self.connections;
        if let Some(threads) = self.threads {
            config.threads = threads;
        }
        config.pipeline = self.pipeline;
        config.method = self.method;
        config.headers = self
            .headers
            .iter()
            .map(|h| parse_header(h))
            .collect::<Result<_, _>>()?;
        config.body = match (self.body, self.body_file) {
            (Some(body), _) => body.into_bytes(),
            (None, Some(path)) => std::fs::read(&path).map_err(|e| {
                UsageError::new("--body-file", format!("cannot read '{}': {e}", path.display()))
            })?,
            (None, None) => Vec::new(),
        };
        config.timeout = self.timeout;
        config.connect_timeout = self.connect_timeout;
        config.connect_concurrency = self.connect_concurrency;
        config.server_pids = self.server_pids;
        config.tls = TlsOptions {
            cacert: self.cacert,
            insecure: self.insecure,
            no_resume: self.no_tls_resume,
        };
        config.requests_per_conn = if self.no_keepalive {
            Some(1)
        } else {
            self.requests_per_conn
        };
        Ok(config)
    }
}

pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (examples: 10s, 1m, 500ms)"))
}

fn parse_header(text: &str) -> Result<(String, String), UsageError> {
    match text.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.trim().to_string()))
        }
        _ => Err(UsageError::new(
            "--header",
            format!("expected 'Name: value', got '{text}'"),
        )),
    }
}
