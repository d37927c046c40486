//! `loadgen compare BASE.json NEW.json`: two JSON reports side by side, with a verdict per
//! metric. A metric regresses when it moves in its bad direction by more than the band
//! (`--max-regression`, default 5%); from a base of zero any bad move is a regression (one
//! error where there were none is never "within 5%").

use std::fmt::Write;
use std::path::{Path, PathBuf};

use clap::Parser;
use serde_json::Value;

use crate::cli::CliError;
use crate::metric::{Metric, NAMES};

/// Metrics compared when `--metric` is not given (plus target CPU when both runs have it).
const DEFAULT_METRICS: [&str; 5] = ["rps", "p50", "p99", "p99.9", "errors"];
const TARGET_CPU: &str = "target_cpu_us_per_req";

#[derive(Parser, Debug)]
#[command(
    name = "loadgen compare",
    bin_name = "loadgen compare",
    about = "Compare two JSON reports written by --json",
    after_help = "Exit codes: 0 no metric regressed, 3 at least one regressed, 2 usage error."
)]
struct Args {
    /// The reference report
    base: PathBuf,
    /// The report to judge against it
    new: PathBuf,
    /// Allowed move in the bad direction before a metric counts as regressed, e.g. 5%
    #[arg(long, default_value = "5%", value_name = "PERCENT", value_parser = parse_band)]
    max_regression: f64,
    /// Metrics to compare (several after one flag, repeated, or comma-separated) [default:
    /// rps p50 p99 p99.9 errors, and target_cpu_us_per_req when both reports have it]
    #[arg(long = "metric", value_name = "NAME", value_delimiter = ',', num_args = 1..)]
    metrics: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Regressed,
    Improved,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub name: String,
    pub metric: Metric,
    pub base: f64,
    pub new: f64,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub band_pct: f64,
    pub rows: Vec<Row>,
}

/// Parse `loadgen compare ...` (argv[0] and the word `compare` included), read both
/// reports and compare them. Every failure is a usage error (exit 2).
pub fn run<I, T>(args: I) -> Result<Comparison, CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Args = crate::cli::parse_subcommand(args)?;
    let base = read_report(&args.base).map_err(CliError::usage)?;
    let new = read_report(&args.new).map_err(CliError::usage)?;
    compare(&base, &new, &args.metrics, args.max_regression).map_err(CliError::usage)
}

/// Compare the named metrics (defaults when `names` is empty); `band_pct` in percent.
pub fn compare(base: &Value, new: &Value, names: &[String], band_pct: f64) -> Result<Comparison, String> {
    let mut names: Vec<String> = names.to_vec();
    if names.is_empty() {
        names = DEFAULT_METRICS.iter().map(|n| n.to_string()).collect();
        let target = Metric::TargetCpuUsPerReq;
        if target.of_json(base).is_some() && target.of_json(new).is_some() {
            names.push(TARGET_CPU.to_string());
        }
    }
    let mut rows = Vec::with_capacity(names.len());
    for name in names {
        let metric = Metric::parse(&name)
            .ok_or_else(|| format!("--metric: unknown metric '{name}' (known: {NAMES})"))?;
        let missing = |which: &str| format!("--metric: '{name}' is not in the {which} report");
        let b = metric.of_json(base).ok_or_else(|| missing("base"))?;
        let n = metric.of_json(new).ok_or_else(|| missing("new"))?;
        rows.push(Row {
            verdict: verdict(metric, b, n, band_pct),
            name,
            metric,
            base: b,
            new: n,
        });
    }
    Ok(Comparison { band_pct, rows })
}

fn verdict(metric: Metric, base: f64, new: f64, band_pct: f64) -> Verdict {
    // Positive `worse` = moved in the bad direction.
    let worse = if metric.higher_is_better() {
        base - new
    } else {
        new - base
    };
    let band = base.abs() * band_pct / 100.0;
    if base == 0.0 {
        return match worse {
            w if w > 0.0 => Verdict::Regressed,
            w if w < 0.0 => Verdict::Improved,
            _ => Verdict::Ok,
        };
    }
    if worse > band {
        Verdict::Regressed
    } else if -worse > band {
        Verdict::Improved
    } else {
        Verdict::Ok
    }
}

impl Comparison {
    pub fn regressed(&self) -> bool {
        self.rows.iter().any(|r| r.verdict == Verdict::Regressed)
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<24} {:>14} {:>14} {:>9}  {:<17} verdict",
            "metric", "base", "new", "delta", "direction"
        );
        for row in &self.rows {
            let delta = match row.base {
                0.0 if row.new == 0.0 => "0.00%".to_string(),
                0.0 => "n/a".to_string(),
                base => format!("{:+.2}%", (row.new - base) / base.abs() * 100.0),
            };
            let direction = if row.metric.higher_is_better() {
                "higher-is-better"
            } else {
                "lower-is-better"
            };
            let verdict = match row.verdict {
                Verdict::Ok => "ok",
                Verdict::Regressed => "regressed",
                Verdict::Improved => "improved",
            };
            let _ = writeln!(
                out,
                "{:<24} {:>14} {:>14} {delta:>9}  {direction:<17} {verdict}",
                row.name,
                row.metric.format(row.base),
                row.metric.format(row.new)
            );
        }
        let regressed = self
            .rows
            .iter()
            .filter(|r| r.verdict == Verdict::Regressed)
            .count();
        let _ = writeln!(
            out,
            "{regressed} of {} metrics regressed (band {}%)",
            self.rows.len(),
            self.band_pct
        );
        out
    }
}

fn read_report(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
    let json: Value =
        serde_json::from_str(&text).map_err(|e| format!("'{}' is not valid JSON: {e}", path.display()))?;
    if json.get("latency_us").is_none() || json.get("rps").is_none() {
        return Err(format!(
            "'{}' is not a loadgen JSON report (written by --json)",
            path.display()
        ));
    }
    Ok(json)
}

/// `5%`, `5` (both percent) or `0.5%`; never negative.
fn parse_band(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%');
    match number.parse::<f64>() {
        Ok(pct) if pct.is_finite() && pct >= 0.0 => Ok(pct),
        _ => Err(format!("expected a percentage such as 5%, got '{text}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(rps: f64, p99: f64, errors: u64) -> Value {
        json!({
            "rps": rps, "requests": 1000,
            "errors": {"connect": 0, "read": errors, "write": 0, "timeout": 0, "parse": 0},
            "latency_us": {"p50": 100.0, "p99": p99, "p99_9": 900.0},
        })
    }

    fn verdicts(c: &Comparison) -> Vec<(&str, Verdict)> {
        c.rows.iter().map(|r| (r.name.as_str(), r.verdict)).collect()
    }

    #[test]
    fn bands_directions_and_zero_bases() {
        let base = report(1000.0, 500.0, 0);
        let new = report(940.0, 520.0, 1);
        let c = compare(&base, &new, &[], 5.0).unwrap();
        assert_eq!(
            verdicts(&c),
            vec![
                ("rps", Verdict::Regressed),
                ("p50", Verdict::Ok),
                ("p99", Verdict::Ok),
                ("p99.9", Verdict::Ok),
                ("errors", Verdict::Regressed),
            ]
        );
        assert!(c.regressed());
        let c = compare(&new, &base, &["rps".into(), "errors".into()], 5.0).unwrap();
        assert_eq!(
            verdicts(&c),
            vec![("rps", Verdict::Improved), ("errors", Verdict::Improved)]
        );
        assert!(!c.regressed());
        assert!(c.render().contains("0 of 2 metrics regressed"));
    }

    #[test]
    fn unknown_or_missing_metrics_and_bad_bands_are_refused() {
        let base = report(1.0, 1.0, 0);
        assert!(
            compare(&base, &base, &["p42x".into()], 5.0)
                .unwrap_err()
                .contains("--metric")
        );
        assert!(compare(&base, &base, &["service_p99".into()], 5.0).is_err());
        assert_eq!(parse_band("2.5%"), Ok(2.5));
        assert_eq!(parse_band("10"), Ok(10.0));
        assert!(parse_band("-1%").is_err() && parse_band("lots").is_err());
    }
}
