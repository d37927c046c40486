//! `loadgen capacity` command line → [`Settings`] and where to write the results. Bad
//! input is one line naming the flag (exit 2), before any load is applied.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;

use super::Settings;
use crate::assert::Assertion;
use crate::cli::load::{LoadArgs, parse_duration};
use crate::cli::{CliError, check_parent, parse_subcommand};
use crate::config::UsageError;
use crate::metric::Metric;

#[derive(Parser, Debug)]
#[command(
    name = "loadgen capacity",
    bin_name = "loadgen capacity",
    about = "Find the highest request rate at which the target meets its SLOs (open loop, \
             coordinated-omission-corrected)",
    after_help = "Steps grow the rate x2 from the start until one fails, then bisect until the \
                  highest pass and lowest failure are within --precision. A step passes when \
                  every SLO holds and loadgen delivered the rate (99% sent, median send lag \
                  under 1ms); a step loadgen itself could not deliver bounds the search too, and the \
                  result then says the capacity is above loadgen's limit.\n\
                  Exit codes: 0 a capacity was found, 1 the target could not be reached, loadgen \
                  could not deliver even the start rate (or a file was not written), 2 usage \
                  error, 3 even the start rate failed the SLOs."
)]
struct Args {
    #[command(flatten)]
    load: LoadArgs,
    /// Service level objective, METRIC OP VALUE as for --assert, e.g. 'p99<5ms',
    /// 'p99.9<20ms', 'errors==0', 'error_rate<0.1%' (repeatable; all must hold). Without
    /// an error SLO, 'error_rate<1%' is added
    #[arg(long = "slo", value_name = "EXPR", required = true)]
    slos: Vec<String>,
    /// First step's rate [default: a 1 s closed-loop probe's rate / 10]
    #[arg(long, value_name = "RPS")]
    start_rate: Option<f64>,
    /// Stop when the lowest failing rate is within this of the highest passing one
    #[arg(long, default_value = "2%", value_name = "PERCENT", value_parser = parse_percent)]
    precision: f64,
    /// At most this many steps
    #[arg(long, default_value_t = 20, value_name = "N")]
    max_steps: usize,
    /// Recorded length of each step
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = parse_duration)]
    step_duration: Duration,
    /// Load applied before each step's recording (connections opened and warmed)
    #[arg(long, default_value = "1s", value_name = "DURATION", value_parser = parse_duration)]
    step_warmup: Duration,
    /// Never offer more than this; reaching it with a pass ends the search
    #[arg(long, value_name = "RPS")]
    max_rate: Option<f64>,
    /// Write the result as JSON to PATH ('-' for stdout, which then carries only the JSON)
    #[arg(long, value_name = "PATH")]
    json: Option<String>,
    /// Write the latency-vs-throughput chart (SVG) to PATH
    #[arg(long, value_name = "PATH")]
    svg: Option<PathBuf>,
    /// No live line per step on stderr
    #[arg(long)]
    no_progress: bool,
}

/// Where the results go.
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub json: Option<String>,
    pub svg: Option<PathBuf>,
    pub no_progress: bool,
}

/// SLO used when none of the given ones bounds errors.
const DEFAULT_ERROR_SLO: &str = "error_rate<1%";
const MAX_STEPS: usize = 1_000;

/// Parse `loadgen capacity ...` (argv[0] and `capacity` included).
pub fn parse<I, T>(args: I) -> Result<(Settings, Output), CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Args = parse_subcommand(args)?;
    into_settings(args).map_err(CliError::usage)
}

fn into_settings(args: Args) -> Result<(Settings, Output), UsageError> {
    let shard = args.load.shard;
    let mut config = args.load.into_config()?;
    if let Some(shard) = shard {
        // Every shard must take the same steps: their own probes would each find another start.
        if args.start_rate.is_none() {
            return Err(UsageError::new(
                "--shard",
                "loadgen capacity --shard needs --start-rate (each shard's probe would find a different one)",
            ));
        }
        shard.apply(&mut config)?;
    }
    for (flag, rate) in [("--start-rate", args.start_rate), ("--max-rate", args.max_rate)] {
        if let Some(rate) = rate
            && !(rate >= 1.0 && rate.is_finite())
        {
            return Err(UsageError::new(
                flag,
                format!("must be at least 1 request per second (got {rate})"),
            ));
        }
    }
    if let (Some(start), Some(max)) = (args.start_rate, args.max_rate)
        && start > max
    {
        return Err(UsageError::new(
            "--start-rate",
            format!("{start} is above --max-rate {max}"),
        ));
    }
    if !(1..=MAX_STEPS).contains(&args.max_steps) {
        return Err(UsageError::new(
            "--max-steps",
            format!("must be 1 to {MAX_STEPS} (got {})", args.max_steps),
        ));
    }
    if args.step_duration.is_zero() {
        return Err(UsageError::new("--step-duration", "must be longer than zero"));
    }
    // Every step is an open-loop run of this shape: check it now, not after the probe.
    (config.rate, config.duration, config.warmup) = (
        Some(args.start_rate.unwrap_or(1.0)),
        Some(args.step_duration),
        args.step_warmup,
    );
    config.validate()?;
    let mut slos = args
        .slos
        .iter()
        .map(|expr| {
            let slo = Assertion::parse(expr).map_err(|e| UsageError::new("--slo", e.message))?;
            slo.check_against(&config)
                .map_err(|e| UsageError::new("--slo", e.message))?;
            Ok(slo)
        })
        .collect::<Result<Vec<_>, UsageError>>()?;
    let bounds_errors = |slo: &Assertion| {
        matches!(
            slo.metric,
            Metric::Errors | Metric::ErrorRate | Metric::Timeouts | Metric::Non2xx | Metric::Incomplete
        )
    };
    let default_slos = match slos.iter().any(bounds_errors) {
        true => 0,
        false => {
            slos.push(Assertion::parse(DEFAULT_ERROR_SLO).expect("the default SLO parses"));
            1
        }
    };
    if let Some(json) = args.json.as_deref().filter(|p| *p != "-") {
        check_parent("--json", Path::new(json))?;
    }
    if let Some(svg) = &args.svg {
        check_parent("--svg", svg)?;
    }
    let settings = Settings {
        config,
        slos,
        default_slos,
        start_rate: args.start_rate,
        precision: args.precision,
        max_steps: args.max_steps,
        step_duration: args.step_duration,
        step_warmup: args.step_warmup,
        max_rate: args.max_rate,
    };
    let output = Output {
        json: args.json,
        svg: args.svg,
        no_progress: args.no_progress,
    };
    Ok((settings, output))
}

/// `2%` or `2` (percent) → 0.02; more than 0 and less than 100%.
fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%');
    match number.parse::<f64>() {
        Ok(p) if p > 0.0 && p < 100.0 => Ok(p / 100.0),
        _ => Err(format!("'{text}' is not a percentage between 0 and 100, e.g. 2%")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(args: &[&str]) -> String {
        let all = ["loadgen", "capacity"].into_iter().chain(args.iter().copied());
        match parse(all) {
            Err(CliError::Usage(message)) => message,
            other => panic!("expected a usage error for {args:?}, got {other:?}"),
        }
    }

    #[test]
    fn defaults_and_the_default_error_slo() {
        let (settings, _) = parse(["loadgen", "capacity", "--slo", "p99<5ms", "http://h:1/"]).unwrap();
        assert_eq!(settings.precision, 0.02);
        assert_eq!(settings.step_duration, Duration::from_secs(5));
        assert_eq!(settings.step_warmup, Duration::from_secs(1));
        let texts: Vec<&str> = settings.slos.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["p99<5ms", "error_rate<1%"]);
        assert_eq!(settings.default_slos, 1);
        let (settings, _) = parse([
            "loadgen",
            "capacity",
            "--slo",
            "p99<5ms",
            "--slo",
            "errors==0",
            "http://h:1/",
        ])
        .unwrap();
        assert_eq!((settings.slos.len(), settings.default_slos), (2, 0));
    }

    #[test]
    fn bad_input_names_the_flag() {
        for (args, flag) in [
            (&["--slo", "p99<5", "http://h/"][..], "--slo"),
            (&["--slo", "latency<5ms", "http://h/"], "--slo"),
            (&["--slo", "error_rate<1", "http://h/"], "--slo"),
            (&["http://h/"], "--slo"),
            (
                &["--slo", "p99<5ms", "--precision", "0", "http://h/"],
                "--precision",
            ),
            (
                &["--slo", "p99<5ms", "--precision", "x%", "http://h/"],
                "--precision",
            ),
            (
                &["--slo", "p99<5ms", "--start-rate", "0.5", "http://h/"],
                "--start-rate",
            ),
            (
                &["--slo", "p99<5ms", "--max-rate", "inf", "http://h/"],
                "--max-rate",
            ),
            (
                &[
                    "--slo",
                    "p99<5ms",
                    "--start-rate",
                    "10",
                    "--max-rate",
                    "5",
                    "http://h/",
                ],
                "--start-rate",
            ),
            (
                &["--slo", "p99<5ms", "--max-steps", "0", "http://h/"],
                "--max-steps",
            ),
            (
                &["--slo", "p99<5ms", "--step-duration", "0s", "http://h/"],
                "--step-duration",
            ),
            (&["--slo", "p99<5ms", "-c", "0", "http://h/"], "--connections"),
            (
                &["--slo", "p99<5ms", "--svg", "/nonexistent/x.svg", "http://h/"],
                "--svg",
            ),
        ] {
            let message = usage(args);
            assert!(message.contains(flag), "{message:?} should name {flag}");
            assert!(!message.contains('\n'), "{message:?}");
        }
    }
}
