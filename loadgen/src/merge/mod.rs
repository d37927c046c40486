//! `loadgen merge REPORT.json...`: the shards of one distributed run (`--shard I/N`) added
//! into one exact report. Histograms add, so the merged percentiles are those of the union
//! of all samples (never an average of percentiles); counts, statuses, errors, bytes and
//! the per-target breakdown add; rates are over the union of the recorded windows; the
//! per-second timelines align on wall-clock time. `--assert` and `loadgen compare` work on
//! the result as on any report. Shards of different runs, an index given twice, or a
//! missing shard (one that failed writes no report) are refused.

mod check;
mod combine;
mod read;
mod table;
mod windows;

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use clap::Parser;

use crate::assert::Assertion;
use crate::cli::{CliError, check_parent, parse_subcommand};
use crate::intervals::{Interval, Intervals};
use crate::report::Report;
use crate::report::histograms::v2_deflate;
use crate::report::output::Output;

#[derive(Parser, Debug)]
#[command(
    name = "loadgen merge",
    bin_name = "loadgen merge",
    about = "Merge the JSON reports of a run's shards (--shard I/N) into one exact report",
    after_help = "Exit codes: 0 merged, 1 a shard is missing (it failed, or its report was not \
                  given; --partial merges the rest) or a file could not be written, 2 usage error \
                  (unreadable reports, shards of different runs, an index given twice), 3 an \
                  --assert failed."
)]
struct Args {
    /// The shards' reports, written by loadgen --shard I/N --json
    #[arg(required = true, value_name = "REPORT.json")]
    reports: Vec<PathBuf>,
    /// Write the merged JSON report to PATH ('-' for stdout)
    #[arg(long, value_name = "PATH")]
    json: Option<String>,
    /// Write an HdrHistogram interval log: one interval per shard (its whole recorded window,
    /// response time in ns); together they are the merged histogram
    #[arg(long, value_name = "PATH")]
    hlog: Option<PathBuf>,
    /// Write the merged latency percentile chart (SVG) to PATH
    #[arg(long, value_name = "PATH")]
    svg: Option<PathBuf>,
    /// Check METRIC OP VALUE on the merged report, e.g. 'p99 < 2ms' (repeatable; exit 3)
    #[arg(long = "assert", value_name = "EXPR")]
    asserts: Vec<String>,
    /// Merge even when shards are missing, with a warning naming them
    #[arg(long)]
    partial: bool,
    /// Print the full percentile spectrum of the merged histogram
    #[arg(long)]
    latency: bool,
}

pub enum MergeError {
    /// Bad input (exit 2).
    Usage(CliError),
    /// A shard is missing (exit 1): the run is incomplete.
    Missing(String),
}

/// The merged report and what to do with it.
pub struct Merged {
    pub report: Report,
    pub output: Output,
    pub assertions: Vec<Assertion>,
    /// What was merged (before the report) and the per-shard table (after it).
    pub banner: String,
    pub table: String,
}

pub fn run<I, T>(args: I) -> Result<Merged, MergeError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let usage = |m: String| MergeError::Usage(CliError::usage(m));
    let args: Args = parse_subcommand(args).map_err(MergeError::Usage)?;
    let assertions = args
        .asserts
        .iter()
        .map(|expr| Assertion::parse(expr))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| usage(e.to_string()))?;
    if let Some(json) = args.json.as_deref().filter(|p| *p != "-") {
        check_parent("--json", std::path::Path::new(json)).map_err(|e| usage(e.to_string()))?;
    }
    for (flag, path) in [("--hlog", &args.hlog), ("--svg", &args.svg)] {
        if let Some(path) = path {
            check_parent(flag, path).map_err(|e| usage(e.to_string()))?;
        }
    }
    let inputs = args
        .reports
        .iter()
        .map(|path| read::read(path))
        .collect::<Result<Vec<_>, _>>()
        .map_err(usage)?;
    let set = check::check(&inputs).map_err(usage)?;
    if !set.missing.is_empty() && !args.partial {
        return Err(MergeError::Missing(format!(
            "{} (a shard that failed writes no report); --partial merges the rest",
            set.missing_text()
        )));
    }
    let mut report = combine::combine(&inputs);
    if !set.missing.is_empty() {
        report.warnings.push(format!(
            "{}: these figures are of {} of {} shards",
            set.missing_text(),
            inputs.len(),
            set.count
        ));
    }
    if let Some(warning) = skew_warning(&report) {
        report.warnings.push(warning);
    }
    for row in &report.shards {
        if let Some(warning) = row.warnings.first() {
            report
                .warnings
                .push(format!("shard {} on {}: {warning}", row.shard, row.host));
        }
    }
    if args.hlog.is_some() {
        report.intervals = Some(shard_intervals(&inputs));
    }
    let run = inputs[0].report.shard.as_ref().map_or("", |s| s.run.as_str());
    Ok(Merged {
        banner: table::banner(&report, run),
        table: table::render(&report.shards),
        report,
        output: Output {
            latency: args.latency,
            json: args.json,
            hlog: args.hlog,
            svg: args.svg,
            no_progress: true,
            ..Output::default()
        },
        assertions,
    })
}

/// Shards that started far apart (no common `--start-at`, or clocks out of sync) cover a
/// longer union of windows than one run would, which lowers the merged rates: say so.
fn skew_warning(report: &Report) -> Option<String> {
    let skew_ms = report.shards.iter().map(|r| r.start_skew_ms).fold(0.0, f64::max);
    let shortest_s = report
        .shards
        .iter()
        .map(|r| r.duration_s)
        .fold(f64::INFINITY, f64::min);
    (skew_ms / 1e3 > SKEW_SHARE * shortest_s).then(|| {
        format!(
            "the shards started up to {skew_ms:.1}ms apart, more than {:.0}% of a shard's run: \
             the merged rates are over the union of their windows (start them with one \
             --start-at, on synchronised clocks)",
            SKEW_SHARE * 100.0
        )
    })
}

/// Start skew above this share of a shard's run is worth a warning.
const SKEW_SHARE: f64 = 0.01;

/// Each shard's whole window as one interval of an interval log, placed in wall-clock time
/// from the earliest start.
fn shard_intervals(inputs: &[read::Input]) -> Intervals {
    let earliest = inputs
        .iter()
        .map(read::Input::started)
        .fold(f64::INFINITY, f64::min);
    let mut intervals: Vec<Interval> = inputs
        .iter()
        .map(|input| {
            let r = &input.report;
            Interval {
                start: Duration::from_secs_f64(input.started() - earliest),
                length: Duration::from_secs_f64(r.duration_s),
                responses: r.requests,
                sent: r.sent,
                errors: r.errors.by_kind.requests(),
                p50_ns: (r.latency_us.p50 * 1e3) as u64,
                p99_ns: (r.latency_us.p99 * 1e3) as u64,
                histogram: v2_deflate(&r.latency),
            }
        })
        .collect();
    intervals.sort_by_key(|i| i.start);
    Intervals {
        start_time: UNIX_EPOCH + Duration::from_secs_f64(earliest),
        intervals,
        histograms: true,
    }
}
