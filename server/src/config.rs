//! Server settings, shared read-only by every worker.

use crate::api::auth::Secret;
use crate::proxy::spec::ProxyRoute;
use crate::tls::TlsFiles;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything a running server needs to know; `Config::default()` matches the CLI defaults.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub workers: usize,
    /// Total open connections; each worker gets an even share (rounded up).
    pub max_conns: usize,
    /// Time allowed to receive a whole request head (and between reads of a body).
    pub header_timeout: Duration,
    /// Idle time allowed between requests on a kept-alive connection.
    pub keepalive_timeout: Duration,
    /// Bytes allowed for the request line plus all header lines.
    pub max_header_bytes: usize,
    /// Bytes allowed for a (decoded) request body.
    pub max_body_bytes: usize,
    /// Time allowed after SIGTERM/SIGINT to finish requests in flight.
    pub shutdown_timeout: Duration,
    /// Serve the files under this directory for paths no built-in route claims.
    pub root: Option<PathBuf>,
    /// The Like API's token key; the API (and its database) is on only when set.
    pub auth_secret: Option<Secret>,
    /// Where the API's SQLite database lives.
    pub data_dir: PathBuf,
    /// One transaction (one fsync) per batch of waiting writes; off = one per write.
    pub group_commit: bool,
    /// Serve HTTPS with this certificate and key (`--tls-cert`, `--tls-key`).
    pub tls: Option<TlsFiles>,
    /// `--proxy`: paths forwarded to upstream groups (empty: no proxy at all).
    pub proxy: Vec<ProxyRoute>,
    /// Idle keep-alive connections each worker keeps per upstream once the load has passed
    /// (beyond it, idle connections are closed after `proxy::pool::EXCESS_GRACE`).
    pub upstream_keepalive: usize,
    /// Time allowed to connect to an upstream.
    pub upstream_connect_timeout: Duration,
    /// Time allowed for an upstream's response to begin once the request is sent, and
    /// between two reads of it (nginx's `proxy_read_timeout`).
    pub upstream_timeout: Duration,
    /// `--cache-size`: bytes of proxied responses kept in memory, split evenly across
    /// workers (0: no cache).
    pub cache_size: u64,
    /// `--cache-valid`: how long a cacheable response without freshness information stays
    /// fresh (none: such responses are not stored).
    pub cache_valid: Option<Duration>,
    /// How long a pooled upstream connection may sit idle before it is closed.
    pub upstream_idle_timeout: Duration,
    /// https:// upstreams: certificates trusted besides the system's roots (PEM).
    pub upstream_ca: Option<PathBuf>,
    /// https:// upstreams: any certificate is accepted (testing only).
    pub upstream_insecure: bool,
    /// Tests only: the database sleeps this long before each commit (a slow disk).
    #[doc(hidden)]
    pub db_delay: Duration,
}

/// The API's database directory unless `--data-dir` says otherwise (relative to the cwd).
pub const DEFAULT_DATA_DIR: &str = "evloop-data";

pub use http_wire::request::MAX_REQUEST_LINE;

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            max_conns: 10_000,
            header_timeout: Duration::from_secs(10),
            keepalive_timeout: Duration::from_secs(75),
            max_header_bytes: 16 * 1024,
            max_body_bytes: 1024 * 1024,
            shutdown_timeout: Duration::from_secs(10),
            root: None,
            auth_secret: None,
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            group_commit: true,
            tls: None,
            proxy: Vec::new(),
            upstream_keepalive: 32,
            upstream_connect_timeout: Duration::from_secs(5),
            upstream_timeout: Duration::from_secs(30),
            cache_size: 0,
            cache_valid: None,
            upstream_idle_timeout: Duration::from_secs(60),
            upstream_ca: None,
            upstream_insecure: false,
            db_delay: Duration::ZERO,
        }
    }
}

impl Config {
    /// The connection limit of one worker.
    pub fn max_conns_per_worker(&self) -> usize {
        self.max_conns.div_ceil(self.workers.max(1))
    }

    /// The largest a connection's read buffer may grow: one whole request plus one read.
    pub fn max_read_buffer(&self) -> usize {
        self.max_header_bytes + self.max_body_bytes + 64 * 1024
    }
}
