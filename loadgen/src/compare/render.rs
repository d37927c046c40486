//! A comparison as a text table (stdout) and as JSON (`--json`).

use std::fmt::Write;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::{Comparison, Row, Unit, Verdict};
use crate::metric::Metric;
use crate::significance::{CONFIDENCE, MIN_RUNS, MIN_SECONDS, Outcome, Test};

pub fn text(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "base: {}", files(&c.base_files));
    let _ = writeln!(out, "new:  {}", files(&c.new_files));
    let _ = writeln!(
        out,
        "{:<22} {:>12} {:>12} {:>9}  {:<20} {:<18} test",
        "metric", "base", "new", "change", "95% CI", "verdict"
    );
    for row in &c.rows {
        let (change, ci) = match row.outcome {
            Outcome::Estimate(e) => (
                change(row, e.relative, e.change),
                format!(
                    "{} .. {}",
                    change(row, e.relative, e.low),
                    change(row, e.relative, e.high)
                ),
            ),
            Outcome::NotEnoughSamples => ("-".to_string(), "-".to_string()),
        };
        let _ = writeln!(
            out,
            "{:<22} {:>12} {:>12} {change:>9}  {ci:<20} {:<18} {}",
            row.name,
            value(row, row.means.0),
            value(row, row.means.1),
            verdict(row.verdict),
            test(row)
        );
    }
    let failed: Vec<&str> = c
        .rows
        .iter()
        .filter(|r| r.fails)
        .map(|r| r.name.as_str())
        .collect();
    let _ = match failed.is_empty() {
        true => writeln!(
            out,
            "no metric significantly worse by more than {}% (--max-regression)",
            c.band_pct
        ),
        false => writeln!(
            out,
            "{} of {} metrics significantly worse by more than {}% (--max-regression): {}",
            failed.len(),
            c.rows.len(),
            c.band_pct,
            failed.join(", ")
        ),
    };
    out
}

fn files(files: &[PathBuf]) -> String {
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    match names.len() {
        1 => names[0].clone(),
        n => format!("{n} runs: {}", names.join(" ")),
    }
}

/// Errors are compared per second; other metrics in their own unit.
fn value(row: &Row, v: f64) -> String {
    match (row.metric, row.unit) {
        (Metric::Errors, Unit::Seconds) => format!("{v:.2}/s"),
        (metric, _) => metric.format(v),
    }
}

fn change(row: &Row, relative: bool, v: f64) -> String {
    match (relative, row.metric, row.unit) {
        (true, _, _) => format!("{:+.2}%", v * 100.0),
        (false, Metric::Errors, Unit::Seconds) => format!("{v:+.2}/s"),
        (false, _, _) => format!("{v:+.2}"),
    }
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Better => "better",
        Verdict::Worse => "worse",
        Verdict::Same => "~",
        Verdict::NotEnoughSamples => "not enough samples",
    }
}

fn counts(row: &Row) -> String {
    match row.unit {
        Unit::Seconds => format!(
            "{}/{} runs, {}/{} s",
            row.runs.0, row.runs.1, row.samples.0, row.samples.1
        ),
        Unit::Runs => format!("{}/{} runs", row.runs.0, row.runs.1),
    }
}

fn test(row: &Row) -> String {
    match row.outcome {
        Outcome::Estimate(e) => match e.test {
            Test::WelchRuns => format!("Welch t on run means, {}", counts(row)),
            Test::PairedRuns => format!("paired t on run ratios, {}", counts(row)),
            Test::BlockBootstrap { block } => format!(
                "block bootstrap of seconds ({block} s blocks), {}: within-run noise only",
                counts(row)
            ),
        },
        Outcome::NotEnoughSamples => format!(
            "needs {MIN_RUNS} runs or {MIN_SECONDS} s a side, has {}",
            counts(row)
        ),
    }
}

pub fn json(c: &Comparison) -> String {
    let metrics: Vec<Value> = c.rows.iter().map(row_json).collect();
    let doc = json!({
        "confidence": CONFIDENCE,
        "max_regression_pct": c.band_pct,
        "base": c.base_files,
        "new": c.new_files,
        "regressed": c.regressed(),
        "metrics": metrics,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

fn row_json(row: &Row) -> Value {
    let mut v = json!({
        "metric": row.name,
        "better": if row.metric.higher_is_better() { "higher" } else { "lower" },
        "base": row.means.0,
        "new": row.means.1,
        "verdict": verdict(row.verdict),
        "fails": row.fails,
        "unit": match row.unit { Unit::Seconds => "seconds", Unit::Runs => "runs" },
        "samples": {"base": row.samples.0, "new": row.samples.1},
        "runs": {"base": row.runs.0, "new": row.runs.1},
    });
    if let Outcome::Estimate(e) = row.outcome {
        let scale = if e.relative { 100.0 } else { 1.0 };
        v["change_unit"] = json!(if e.relative { "%" } else { "absolute" });
        v["change"] = json!(e.change * scale);
        v["ci_low"] = json!(e.low * scale);
        v["ci_high"] = json!(e.high * scale);
        v["test"] = json!(match e.test {
            Test::WelchRuns => "welch-t-run-means".to_string(),
            Test::PairedRuns => "paired-t-run-ratios".to_string(),
            Test::BlockBootstrap { block } => format!("block-bootstrap-seconds-{block}s"),
        });
    }
    v
}
