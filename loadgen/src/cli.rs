//! Command line → [`Config`] + output options. Every bad input becomes one line naming
//! the flag; `main` turns it into exit code 2.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::Parser;

use crate::assert::Assertion;
use crate::config::{Config, UsageError};
use crate::plan::Plan;
use crate::report::output::Output;
use crate::schedule::ramp::Stage;

pub(crate) mod load;

use load::{LoadArgs, parse_duration};

#[derive(Parser, Debug)]
#[command(
    name = "loadgen",
    version,
    about = "HTTP/1.1 load generator: closed and open loop, coordinated-omission-corrected latencies",
    after_help = "Exit codes: 0 the run completed, 1 the target could never be reached \
                  (or a report could not be written), 2 usage error, 3 an --assert failed.\n\
                  Compare two JSON reports: loadgen compare BASE.json NEW.json (see loadgen compare --help).\n\
                  Find the highest rate meeting an SLO: loadgen capacity --slo 'p99<2ms' URL (see loadgen capacity --help).\n\
                  Judge a CI performance gate's measurements: loadgen gate --samples FILE (see scripts/perf-gate.sh)."
)]
struct Args {
    #[command(flatten)]
    load: LoadArgs,
    /// Recorded run length, e.g. 10s, 1m, 500ms [default: 10s, or unlimited with -n]
    #[arg(short = 'd', long, value_name = "DURATION", value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Stop after N requests (with -d, whichever comes first)
    #[arg(short = 'n', long, value_name = "N")]
    requests: Option<u64>,
    /// Open loop: total requests per second, latency measured from intended send times
    #[arg(short = 'R', long, value_name = "RPS")]
    rate: Option<f64>,
    /// Open loop with a ramping rate: each stage goes linearly from the previous rate (0 at
    /// first) to RATE over DURATION, e.g. '10s:1000,30s:1000,10s:0'; the run lasts as long
    #[arg(long, value_name = "DUR:RATE,...", conflicts_with_all = ["rate", "duration", "warmup"], value_parser = parse_stages)]
    stages: Option<Stages>,
    /// Begin the recorded phase at this wall-clock time (RFC 3339, unix seconds, or +10s
    /// from now), after connecting and warming up: shards on many hosts start together
    #[arg(long, value_name = "TIME", value_parser = parse_start_at)]
    start_at: Option<SystemTime>,
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
    /// Write the latency percentile chart (SVG) to PATH (with --stages: rates and latency over time)
    #[arg(long, value_name = "PATH")]
    svg: Option<PathBuf>,
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
    let shard = args.load.shard;
    let mut config = args.load.into_config()?;
    config.stages = args.stages.map_or_else(Vec::new, |s| s.0);
    // -n alone runs until the count is reached; otherwise -d (default 10s) bounds the run.
    config.duration = match (args.duration, args.requests) {
        _ if !config.stages.is_empty() => Some(crate::schedule::ramp::length(&config.stages)),
        (Some(d), _) => Some(d),
        (None, Some(_)) => None,
        (None, None) => Some(Duration::from_secs(10)),
    };
    config.requests = args.requests;
    config.rate = args.rate;
    config.warmup = args.warmup;
    config.start_at = args.start_at;
    if let Some(shard) = shard {
        shard.apply(&mut config)?;
    }
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

/// `--stages` as one value (a bare `Vec` would make clap expect the flag repeated).
#[derive(Debug, Clone)]
struct Stages(Vec<Stage>);

fn parse_stages(text: &str) -> Result<Stages, String> {
    crate::schedule::ramp::parse(text).map(Stages)
}

fn parse_start_at(text: &str) -> Result<SystemTime, String> {
    crate::start::parse(text, SystemTime::now())
}

/// Catch a misspelt output directory before the run rather than after it.
pub(crate) fn check_parent(flag: &'static str, path: &Path) -> Result<(), UsageError> {
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
            (&["--stages", "10s", "http://h/"], "--stages"),
            (&["--stages", "10s:-5", "http://h/"], "--stages"),
            (&["--stages", "1s:10", "-d", "5s", "http://h/"], "--stages"),
            (&["--stages", "1s:10", "--warmup", "1s", "http://h/"], "--stages"),
            (&["--start-at", "soon", "http://h/"], "--start-at"),
            (&["--start-at", "2020-01-01T00:00:00Z", "http://h/"], "--start-at"),
            (&["--start-at", "1000", "http://h/"], "--start-at"),
            (&[], "<URL>"),
        ] {
            let message = usage(args);
            assert!(message.contains(flag), "{message:?} should name {flag}");
            assert!(!message.contains('\n'), "{message:?}");
        }
    }
}
