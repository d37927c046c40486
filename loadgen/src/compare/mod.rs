//! `loadgen compare`: two sets of JSON reports (one or more runs a side), a verdict per
//! metric that knows the runs' own noise. Each metric's change comes with a 95% confidence
//! interval (see [`crate::significance`] for the test and why): `better` or `worse` when the
//! interval excludes no change, `~` when it does not, "not enough samples" when there is
//! too little to tell. A regression fails the comparison (exit 3) only when it is
//! significant **and** its estimated size is past `--max-regression`; from a base of zero
//! (errors where there were none) any significant rise fails.

mod render;
mod samples;

use std::path::PathBuf;

use clap::Parser;

use crate::cli::CliError;
use crate::metric::{Metric, NAMES};
use crate::significance::{self, Outcome};
use samples::Side;
pub use samples::Unit;

/// Metrics compared when `--metric` is not given (plus target CPU when every report has it).
const DEFAULT_METRICS: [&str; 4] = ["rps", "p50", "p99", "errors"];
const TARGET_CPU: &str = "target_cpu_us_per_req";

#[derive(Parser, Debug)]
#[command(
    name = "loadgen compare",
    bin_name = "loadgen compare",
    about = "Compare JSON reports written by --json: BASE.json NEW.json, or --base FILE... --new FILE... \
             (several runs a side)",
    after_help = "Exit codes: 0 no significant regression past --max-regression, 3 at least one, 2 usage error."
)]
struct Args {
    /// BASE.json NEW.json: one report a side
    #[arg(value_name = "REPORT", num_args = 0..=2)]
    files: Vec<PathBuf>,
    /// The reference reports (rounds of the same run)
    #[arg(long, value_name = "FILE", num_args = 1..)]
    base: Vec<PathBuf>,
    /// The reports to judge against them
    #[arg(long, value_name = "FILE", num_args = 1..)]
    new: Vec<PathBuf>,
    /// Fail (exit 3) when a metric is significantly worse and its estimated change is past
    /// this, e.g. 5%
    #[arg(long, default_value = "5%", value_name = "PERCENT", value_parser = parse_band)]
    max_regression: f64,
    /// Metrics to compare (several after one flag, repeated, or comma-separated) [default:
    /// rps p50 p99 errors, and target_cpu_us_per_req when every report has it]
    #[arg(long = "metric", value_name = "NAME", value_delimiter = ',', num_args = 1..)]
    metrics: Vec<String>,
    /// The runs were made in turns (base 1, new 1, base 2, ...): compare them pair by pair,
    /// so what the machine was doing in each pair's minute cancels out
    #[arg(long)]
    paired: bool,
    /// Also write the comparison as JSON to PATH ('-' for stdout instead of the table)
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Better,
    Worse,
    /// No significant change.
    Same,
    NotEnoughSamples,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub name: String,
    pub metric: Metric,
    pub unit: Unit,
    /// Samples on each side (seconds or runs) and runs on each side.
    pub samples: (usize, usize),
    pub runs: (usize, usize),
    /// Mean of each side's samples (of its run means with three runs or more).
    pub means: (f64, f64),
    pub outcome: Outcome,
    pub verdict: Verdict,
    /// Significantly worse and past `--max-regression`.
    pub fails: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub band_pct: f64,
    pub base_files: Vec<PathBuf>,
    pub new_files: Vec<PathBuf>,
    pub rows: Vec<Row>,
}

/// Parse `loadgen compare ...` (argv[0] and the word `compare` included), read the reports,
/// compare them and write `--json` if asked. Every failure is a usage error (exit 2).
pub fn run<I, T>(args: I) -> Result<(Comparison, Option<PathBuf>), CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Args = crate::cli::parse_subcommand(args)?;
    let (base, new) = match (args.files.as_slice(), args.base.is_empty(), args.new.is_empty()) {
        ([b, n], true, true) => (vec![b.clone()], vec![n.clone()]),
        ([], false, false) => (args.base, args.new),
        ([], _, _) => {
            return Err(CliError::usage(
                "give BASE.json NEW.json, or both --base FILE... and --new FILE...",
            ));
        }
        _ => {
            return Err(CliError::usage(
                "give either two reports (BASE.json NEW.json) or --base/--new, not both",
            ));
        }
    };
    let base = samples::read_side(&base).map_err(CliError::usage)?;
    let new = samples::read_side(&new).map_err(CliError::usage)?;
    if args.paired && base.files.len() != new.files.len() {
        return Err(CliError::usage(format!(
            "--paired: {} base reports but {} new ones (pairs need one of each)",
            base.files.len(),
            new.files.len()
        )));
    }
    let how = How {
        band_pct: args.max_regression,
        paired: args.paired,
    };
    let comparison = compare(&base, &new, &args.metrics, how).map_err(CliError::usage)?;
    if let Some(path) = &args.json {
        let text = render::json(&comparison);
        let written = match path.to_str() {
            Some("-") => std::io::Write::write_all(&mut std::io::stdout(), (text + "\n").as_bytes()),
            _ => std::fs::write(path, text + "\n"),
        };
        written.map_err(|e| CliError::usage(format!("--json {}: {e}", path.display())))?;
    }
    Ok((comparison, args.json))
}

/// `--max-regression` in percent, and whether runs are paired.
#[derive(Debug, Clone, Copy)]
struct How {
    band_pct: f64,
    paired: bool,
}

/// Compare the named metrics (defaults when `names` is empty).
fn compare(base: &Side, new: &Side, names: &[String], how: How) -> Result<Comparison, String> {
    let band_pct = how.band_pct;
    samples::check_same_target(base, new)?;
    let mut names: Vec<String> = names.to_vec();
    if names.is_empty() {
        names = DEFAULT_METRICS.iter().map(|n| n.to_string()).collect();
        let target = Metric::TargetCpuUsPerReq;
        if base
            .reports
            .iter()
            .chain(&new.reports)
            .all(|r| target.of_json(r).is_some())
        {
            names.push(TARGET_CPU.to_string());
        }
    }
    let mut rows = Vec::with_capacity(names.len());
    for name in names {
        let metric = Metric::parse(&name)
            .ok_or_else(|| format!("--metric: unknown metric '{name}' (known: {NAMES})"))?;
        let (base_rounds, unit) = samples::rounds(metric, &name, base, "base")?;
        let (new_rounds, new_unit) = samples::rounds(metric, &name, new, "new")?;
        // One side without a timeline (an older report): both sides by run.
        let (base_rounds, new_rounds, unit) = match unit == new_unit {
            true => (base_rounds, new_rounds, unit),
            false => (
                samples::rounds_by_run(metric, &name, base, "base")?,
                samples::rounds_by_run(metric, &name, new, "new")?,
                Unit::Runs,
            ),
        };
        let outcome = match how.paired {
            true => significance::compare_paired(&base_rounds, &new_rounds),
            false => significance::compare(&base_rounds, &new_rounds),
        };
        let verdict = verdict(metric, &outcome);
        let fails = verdict == Verdict::Worse
            && match outcome {
                Outcome::Estimate(e) if e.relative => e.change.abs() * 100.0 > band_pct,
                _ => true,
            };
        let means = match outcome {
            Outcome::Estimate(e) => (e.base_mean, e.new_mean),
            Outcome::NotEnoughSamples => (mean(&base_rounds), mean(&new_rounds)),
        };
        rows.push(Row {
            name,
            metric,
            unit,
            means,
            samples: (
                significance::samples(&base_rounds),
                significance::samples(&new_rounds),
            ),
            runs: (base_rounds.len(), new_rounds.len()),
            outcome,
            verdict,
            fails,
        });
    }
    Ok(Comparison {
        band_pct,
        base_files: base.files.clone(),
        new_files: new.files.clone(),
        rows,
    })
}

fn mean(rounds: &[Vec<f64>]) -> f64 {
    rounds.iter().flatten().sum::<f64>() / significance::samples(rounds).max(1) as f64
}

/// Worse when the whole interval lies on the metric's bad side of no change.
fn verdict(metric: Metric, outcome: &Outcome) -> Verdict {
    let Outcome::Estimate(e) = outcome else {
        return Verdict::NotEnoughSamples;
    };
    let (up, down) = (e.low > 0.0, e.high < 0.0);
    match (metric.higher_is_better(), up, down) {
        (true, true, _) | (false, _, true) => Verdict::Better,
        (true, _, true) | (false, true, _) => Verdict::Worse,
        _ => Verdict::Same,
    }
}

impl Comparison {
    /// At least one metric is significantly worse by more than `--max-regression`.
    pub fn regressed(&self) -> bool {
        self.rows.iter().any(|r| r.fails)
    }

    pub fn render(&self) -> String {
        render::text(self)
    }
}

/// `5%`, `5` (both percent) or `0.5%`; never negative.
pub(crate) fn parse_band(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%');
    match number.parse::<f64>() {
        Ok(pct) if pct.is_finite() && pct >= 0.0 => Ok(pct),
        _ => Err(format!("expected a percentage such as 5%, got '{text}'")),
    }
}

#[cfg(test)]
mod tests;
