//! Command-line flags, turned into a `Config`.

use crate::api::auth::{Secret, USERS};
use crate::config::{Config, DEFAULT_DATA_DIR};
use crate::proxy::spec::ProxyRoute;
use crate::tls::TlsFiles;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "server",
    version,
    about = "HTTP/1.1 event-loop server: GET /plaintext, GET /json, POST /echo, static files, the Like API",
    args_conflicts_with_subcommands = true,
    after_help = "Durations take units: 500ms, 10s, 2m. On start one line is printed to stdout:\n  listening on http://ADDR (N workers)\nSIGTERM or SIGINT drains in-flight requests and exits 0; a second signal exits at once."
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,

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

    /// File holding the key that signs API tokens (at least 16 bytes); turns the Like API
    /// (/api/...) on. Without it the key may come from $EVLOOP_AUTH_SECRET.
    #[arg(long, value_name = "FILE", value_parser = parse_secret_file)]
    pub auth_secret_file: Option<Secret>,

    /// Directory of the Like API's SQLite database (created if missing).
    #[arg(long, default_value = DEFAULT_DATA_DIR, value_name = "DIR")]
    pub data_dir: PathBuf,

    /// Commit every API write in its own transaction instead of grouping the writes that
    /// wait (for measuring what group commit is worth).
    #[arg(long)]
    pub no_group_commit: bool,

    /// Serve HTTPS (TLS 1.3 and 1.2): the certificate chain, leaf first, in PEM.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert in PEM: PKCS#8, RSA or SEC1 (RSA, ECDSA or Ed25519).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Forward requests whose path starts with PREFIX to one of the upstreams (http://
    /// host[:port]; several are balanced by least in-flight). Repeatable; the longest
    /// matching prefix wins.
    #[arg(long, value_name = "PREFIX=URL[,URL...]", value_parser = ProxyRoute::parse)]
    pub proxy: Vec<ProxyRoute>,

    /// Idle keep-alive connections each worker keeps per upstream once the load has passed
    /// (more wait up to 1 s while it lasts; 0: close after each response).
    #[arg(long, default_value_t = 32, value_name = "N", allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub upstream_keepalive: u32,

    /// Time allowed to connect to an upstream; past it the client gets 504.
    #[arg(long, default_value = "5s", value_name = "DUR", value_parser = parse_duration)]
    pub upstream_connect_timeout: Duration,

    /// Time allowed for an upstream's response to begin once the request is sent, and
    /// between two reads of it; past it the client gets 504 (or, mid-body, a closed
    /// connection).
    #[arg(long, default_value = "30s", value_name = "DUR", value_parser = parse_duration)]
    pub upstream_timeout: Duration,

    /// Keep cacheable proxied GET/HEAD responses in memory, up to SIZE bytes in all (512k,
    /// 64m, 1g; split evenly across workers, each with its own LRU); 0 turns it off.
    #[arg(long, default_value = "0", value_name = "SIZE", value_parser = parse_size)]
    pub cache_size: u64,

    /// With --cache-size: a response of a status cacheable by default (200, 203, 204, 300,
    /// 301, 308, 404, 405, 410, 414, 501) that gives no freshness (no max-age, s-maxage or
    /// Expires) stays fresh for DUR (heuristic freshness, like nginx's proxy_cache_valid);
    /// without it such responses are not stored.
    #[arg(long, value_name = "DUR", value_parser = parse_duration, requires = "cache_size")]
    pub cache_valid: Option<Duration>,
    /// How long an idle pooled upstream connection is kept before it is closed.
    #[arg(long, default_value = "60s", value_name = "DUR", value_parser = parse_duration)]
    pub upstream_idle_timeout: Duration,

    /// https:// upstreams: CA certificates (PEM) trusted besides the system's roots.
    #[arg(long, value_name = "FILE", value_parser = parse_ca_file)]
    pub upstream_ca: Option<PathBuf>,

    /// https:// upstreams: accept any certificate (the handshake is still checked against
    /// the certificate's key). For testing only.
    #[arg(long)]
    pub upstream_insecure: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print one bearer token for the Like API on stdout.
    Token {
        /// The user id the token speaks for (1 or more: 0 is nobody).
        #[arg(long, value_name = "ID", value_parser = clap::value_parser!(u64).range(*USERS.start()..=*USERS.end()))]
        user: u64,
        /// File holding the signing key (else $EVLOOP_AUTH_SECRET).
        #[arg(long, value_name = "FILE", value_parser = parse_secret_file)]
        auth_secret_file: Option<Secret>,
        /// How long the token stays valid.
        #[arg(long, default_value = "24h", value_name = "DUR", value_parser = parse_duration)]
        ttl: Duration,
    },
}

/// The environment variable that can carry the signing key itself.
pub const SECRET_ENV: &str = "EVLOOP_AUTH_SECRET";

fn parse_secret_file(path: &str) -> Result<Secret, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    Secret::new(&bytes)
}

/// `--auth-secret-file` if given, else `$EVLOOP_AUTH_SECRET` if set.
pub fn resolve_secret(from_file: Option<Secret>) -> Result<Option<Secret>, String> {
    match (from_file, std::env::var_os(SECRET_ENV)) {
        (Some(secret), _) => Ok(Some(secret)),
        (None, Some(value)) => Secret::new(value.as_encoded_bytes())
            .map(Some)
            .map_err(|e| format!("{SECRET_ENV}: {e}")),
        (None, None) => Ok(None),
    }
}

/// A CA file is read now, so that a bad one is an error naming the flag.
fn parse_ca_file(path: &str) -> Result<PathBuf, String> {
    transport::client::config(Some(Path::new(path)), false)?;
    Ok(PathBuf::from(path))
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

/// `N`, `Nk`, `Nm` or `Ng` (binary multiples).
fn parse_size(s: &str) -> Result<u64, String> {
    let lower = s.trim().to_ascii_lowercase();
    let (digits, shift) = match lower.as_bytes().last() {
        Some(b'k') => (&lower[..lower.len() - 1], 10),
        Some(b'm') => (&lower[..lower.len() - 1], 20),
        Some(b'g') => (&lower[..lower.len() - 1], 30),
        _ => (&lower[..], 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?}: expected a size such as 512k, 64m, 1g or 1048576"))?;
    n.checked_mul(1 << shift)
        .filter(|&bytes| bytes <= 1 << 40)
        .ok_or_else(|| format!("{s:?}: at most 1024g"))
}

impl Args {
    /// The server's settings; fails on a bad `$EVLOOP_AUTH_SECRET` or TLS file.
    pub fn into_config(self) -> Result<Config, String> {
        let defaults = Config::default();
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles::load(cert, key)?),
            _ => None,
        };
        Ok(Config {
            listen: self.listen,
            workers: self.workers.map_or(defaults.workers, usize::from),
            max_conns: self.max_conns as usize,
            header_timeout: self.header_timeout,
            keepalive_timeout: self.keepalive_timeout,
            max_header_bytes: self.max_header_bytes as usize,
            max_body_bytes: self.max_body_bytes as usize,
            shutdown_timeout: self.shutdown_timeout,
            root: self.root,
            auth_secret: resolve_secret(self.auth_secret_file)?,
            data_dir: self.data_dir,
            group_commit: !self.no_group_commit,
            tls,
            proxy: self.proxy,
            upstream_keepalive: self.upstream_keepalive as usize,
            upstream_connect_timeout: self.upstream_connect_timeout,
            upstream_timeout: self.upstream_timeout,
            cache_size: self.cache_size,
            cache_valid: self.cache_valid,
            upstream_idle_timeout: self.upstream_idle_timeout,
            upstream_ca: self.upstream_ca,
            upstream_insecure: self.upstream_insecure,
            db_delay: Duration::ZERO,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flags' defaults are written in the clap attributes and in `Config::default()`
    /// (which library users get); they must not drift apart.
    #[test]
    fn flag_defaults_are_the_config_defaults() {
        let cfg = Args::try_parse_from(["server"]).unwrap().into_config().unwrap();
        let d = Config::default();
        let pick = |c: &Config| {
            (
                c.listen,
                c.workers,
                c.max_conns,
                (c.header_timeout, c.keepalive_timeout, c.shutdown_timeout),
                (c.max_header_bytes, c.max_body_bytes),
                (c.root.clone(), c.data_dir.clone(), c.group_commit),
                (c.proxy.clone(), c.upstream_keepalive),
                (c.cache_size, c.cache_valid),
                (
                    c.upstream_connect_timeout,
                    c.upstream_timeout,
                    c.upstream_idle_timeout,
                ),
                (c.upstream_ca.clone(), c.upstream_insecure),
            )
        };
        assert_eq!(pick(&cfg), pick(&d));
    }

    #[test]
    fn cache_sizes() {
        for (text, bytes) in [
            ("0", 0),
            ("4096", 4096),
            ("512k", 512 << 10),
            ("64M", 64 << 20),
            ("1g", 1 << 30),
        ] {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
        for bad in ["", "m", "-1", "1.5m", "64mb", "2000g"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        let e = Args::try_parse_from(["server", "--cache-size", "lots"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--cache-size") && e.contains("expected a size"), "{e}");
    }
}
