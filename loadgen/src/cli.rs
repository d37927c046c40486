//! Command line → [`Config`] + output options. Every bad input becomes one line naming
//! the flag; `main` turns it into exit code 2.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;

use crate::assert::Assertion;
use crate::config::{Config, UsageError};
use crate::plan::Plan;
use crate::report::output::Output;
use crate::tls::TlsOptions;

#[derive(Parser, Debug)]
#[command(
    name = "loadgen",
    version,
    about = "HTTP/1.1 load generator: closed and open loop, coordinated-omission-corrected latencies",
    after_help = "Exit codes: 0 the run completed, 1 the target could never be reached \
                  (or a report could not be written), 2 usage error, 3 an --assert failed.\n\
                  Compare two JSON reports: loadgen compare BASE.json NEW.json (see loadgen compare --help)."
)]
struct Args {
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
    /// Recorded run length, e.g. 10s, 1m, 500ms [default: 10s, or unlimited with -n]
    #[arg(short = 'd', long, value_name = "DURATION", value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Stop after N requests (with -d, whichever comes first)
    #[arg(short = 'n', long, value_name = "N")]
    requests: Option<u64>,
    /// Open loop: total requests per second, latency measured from intended send times
    #[arg(short = 'R', long, value_name = "RPS")]
    rate: Option<f64>,
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
    /// Apply load for this long before recording
    #[arg(long, default_value = "0s", value_name = "DURATION", value_parser = parse_duration)]
    warmup: Duration,
    /// Print the full percentile spectrum (.hgrm layout, milliseconds)
    #[arg(long)]
    latency: bool,
    /// Write the JSON report to PATH ('-' for stdout, which then carries only the JSON)
    #[arg(long, value_name = "PATH")]
    json: Option<String>,
    /// Write the response-time percentile spectrum (.hgrm) to PATH
    #[arg(long, value_name = "PATH")]
    hgrm: Option<PathBuf>,
    /// Write the per-second response-time interval log (HdrHistogram .hlog, ns) to PATH
    #[arg(long, value_name = "PATH")]
    hlog: Option<PathBuf>,
    /// Write a Bencher Metric Format JSON (latency ns, throughput req/s) to PATH
    #[arg(long, value_name = "PATH")]
    bmf: Option<PathBuf>,
    /// Benchmark name in the BMF file [default: METHOD path]
    #[arg(long, value_name = "NAME", requires = "bmf")]
    bmf_name: Option<String>,
    /// Write the latency percentile chart (SVG) to PATH
    #[arg(long, value_name = "PATH")]
    svg: Option<PathBuf>,
    /// Measure this process's CPU (with all its threads and descendants) (repeatable)
    #[arg(long = "server-pid", value_name = "PID")]
    server_pids: Vec<u32>,
    /// Check METRIC OP VALUE after the run, e.g. 'p99 < 2ms' (repeatable; exit 3 if one fails)
    #[arg(long = "assert", value_name = "EXPR")]
    asserts: Vec<String>,
    /// No progress lines on stderr
    #[arg(long)]
    no_progress: bool,
}

#[derive(Debug)]
pub struct Cli {
    pub config: Config,
    /// What validating `config` derived, for `prepare_plan` (so nothing is checked twice).
    pub plan: Plan,
    pub output: Output,
    /// Checked after the run (exit 3 if one fails).
    pub assertions: Vec<Assertion>,
}

#[derive(Debug)]
pub enum CliError {
    /// --help / --version: print to stdout, exit 0.
    Info(String),
    /// Bad input: one line, exit 2.
    Usage(String),
}

impl CliError {
    /// A usage error in the house form, `error: <message>`.
    pub fn usage(message: impl std::fmt::Display) -> CliError {
        CliError::Usage(format!("error: {message}"))
    }
}

/// Parses a subcommand's arguments (argv[0] and the subcommand's name included): clap sees
/// the subcommand as the program name.
pub(crate) fn parse_subcommand<A, I, T>(args: I) -> Result<A, CliError>
where
    A: Parser,
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    A::try_parse_from(args.into_iter().skip(1)).map_err(clap_error)
}

pub fn parse<I, T>(args: I) -> Result<Cli, CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = Args::try_parse_from(args).map_err(clap_error)?;
    into_cli(args).map_err(CliError::usage)
}

fn into_cli(args: Args) -> Result<Cli, UsageError> {
    let targets = match &args.targets {
        Some(path) => crate::mix::read(path).map_err(|m| UsageError::new("--targets", m))?,
        None => Vec::new(),
    };
    let url = match (&args.url, targets.first()) {
        (Some(url), _) => url.clone(),
        (None, Some(first)) => first.url.clone(),
        (None, None) => return Err(UsageError::new("URL", "give a URL or --targets FILE")),
    };
    let mut config = Config::new(url);
    config.targets = targets;
    config.targets_file = args
        .targets
        .as_ref()
        .map_or(String::new(), |p| p.display().to_string());
    config.connections = args.connections;
    if let Some(threads) = args.threads {
        config.threads = threads;
    }
    // -n alone runs until the count is reached; otherwise -d (default 10s) bounds the run.
    config.duration = match (args.duration, args.requests) {
        (Some(d), _) => Some(d),
        (None, Some(_)) => None,
        (None, None) => Some(Duration::from_secs(10)),
    };
    config.requests = args.requests;
    config.rate = args.rate;
    config.pipeline = args.pipeline;
    config.method = args.method;
    config.headers = args
        .headers
        .iter()
        .map(|h| parse_header(h))
        .collect::<Result<_, _>>()?;
    config.body = match (args.body, args.body_file) {
        (Some(body), _) => body.into_bytes(),
        (None, Some(path)) => std::fs::read(&path)
            .map_err(|e| UsageError::new("--body-file", format!("cannot read '{}': {e}", path.display())))?,
        (None, None) => Vec::new(),
    };
    config.timeout = args.timeout;
    config.connect_timeout = args.connect_timeout;
    config.connect_concurrency = args.connect_concurrency;
    config.warmup = args.warmup;
    config.server_pids = args.server_pids;
    config.tls = TlsOptions {
        cacert: args.cacert,
        insecure: args.insecure,
        no_resume: args.no_tls_resume,
    };
    config.requests_per_conn = if args.no_keepalive {
        Some(1)
    } else {
        args.requests_per_conn
    };
    let plan = config.validate()?;
    let assertions = args
        .asserts
        .iter()
        .map(|expr| {
            let assertion = Assertion::parse(expr)?;
            assertion.check_against(&config)?;
            Ok(assertion)
        })
        .collect::<Result<Vec<_>, UsageError>>()?;
    if let Some(json) = args.json.as_deref().filter(|p| *p != "-") {
        check_parent("--json", Path::new(json))?;
    }
    for (flag, path) in [
        ("--hgrm", &args.hgrm),
        ("--hlog", &args.hlog),
        ("--bmf", &args.bmf),
        ("--svg", &args.svg),
    ] {
        if let Some(path) = path {
            check_parent(flag, path)?;
        }
    }
    if args.bmf_name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(UsageError::new("--bmf-name", "must not be empty"));
    }
    Ok(Cli {
        config,
        plan,
        output: Output {
            latency: args.latency,
            json: args.json,
            hgrm: args.hgrm,
            hlog: args.hlog,
            bmf: args.bmf,
            bmf_name: args.bmf_name,
            svg: args.svg,
            no_progress: args.no_progress,
        },
        assertions,
    })
}

fn parse_duration(text: &str) -> Result<Duration, String> {
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

/// Catch a misspelt output directory before the run rather than after it.
fn check_parent(flag: &'static str, path: &Path) -> Result<(), UsageError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => Err(UsageError::new(
            flag,
            format!("directory '{}' does not exist", dir.display()),
        )),
        _ => Ok(()),
    }
}

/// --help / --version become `Info` (stdout, exit 0); anything else a one-line usage error.
pub(crate) fn clap_error(e: clap::Error) -> CliError {
    match e.kind() {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
            CliError::Info(e.render().to_string())
        }
        _ => CliError::Usage(one_line(&e.render().to_string())),
    }
}

/// clap renders multi-line errors with usage hints; keep the message on one line.
pub(crate) fn one_line(rendered: &str) -> String {
    rendered
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("tip:"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(args: &[&str]) -> String {
        match parse(std::iter::once("loadgen").chain(args.iter().copied())) {
            Err(CliError::Usage(message)) => message,
            other => panic!("expected a usage error for {args:?}, got {other:?}"),
        }
    }

    #[test]
    fn parses_a_full_command_line() {
        let cli = parse([
            "loadgen",
            "-c",
            "10",
            "-t",
            "2",
            "-d",
            "500ms",
            "-R",
            "100",
            "--pipeline",
            "4",
            "-H",
            "X-A: b",
            "-m",
            "POST",
            "--body",
            "hi",
            "--latency",
            "http://h:1/x",
        ])
        .unwrap();
        let c = &cli.config;
        assert_eq!((c.connections, c.threads, c.pipeline), (10, 2, 4));
        assert_eq!(c.duration, Some(Duration::from_millis(500)));
        assert_eq!(c.rate, Some(100.0));
        assert_eq!(c.headers, vec![("X-A".to_string(), "b".to_string())]);
        assert_eq!((c.method.as_str(), c.body.as_slice()), ("POST", &b"hi"[..]));
        assert!(cli.output.latency);
    }

    #[test]
    fn requests_alone_lift_the_duration_limit() {
        let cli = parse(["loadgen", "-n", "5", "http://h/"]).unwrap();
        assert_eq!(cli.config.duration, None);
        let cli = parse(["loadgen", "http://h/"]).unwrap();
        assert_eq!(cli.config.duration, Some(Duration::from_secs(10)));
    }

    #[test]
    fn errors_are_one_line_and_name_the_flag() {
        for (args, flag) in [
            (&["-c", "x", "http://h/"][..], "--connections"),
            (&["-d", "soon", "http://h/"], "--duration"),
            (&["-H", "novalue", "http://h/"], "--header"),
            (&["--body-file", "/nonexistent/x", "http://h/"], "--body-file"),
            (&["--json", "/nonexistent/x.json", "http://h/"], "--json"),
            (&["--svg", "/nonexistent/x.svg", "http://h/"], "--svg"),
            (&["--hlog", "/nonexistent/x.hlog", "http://h/"], "--hlog"),
            (&["--bmf-name", "x", "http://h/"], "--bmf"),
            (&["--server-pid", "abc", "http://h/"], "--server-pid"),
            (
                &["--connect-concurrency", "0", "http://h/"],
                "--connect-concurrency",
            ),
            (&["--assert", "p99 < 2", "http://h/"], "--assert"),
            (&["--assert", "service_p99 < 2ms", "http://h/"], "--assert"),
            (&[], "<URL>"),
        ] {
            let message = usage(args);
            assert!(message.contains(flag), "{message:?} should name {flag}");
            assert!(!message.contains('\n'), "{message:?}");
        }
    }
}
