//! The gate's outputs: a markdown table (for `$GITHUB_STEP_SUMMARY` and `summary.md`), JSON
//! with every figure, and Bencher Metric Format (head's values) for dashboards.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::verdict::{Judgement, Metric, Row, Thresholds, Verdict};

/// What the run was, for the header.
pub struct Labels<'a> {
    pub base: &'a str,
    pub head: &'a str,
    pub rig: Option<&'a str>,
}

pub fn markdown(judgement: &Judgement, thresholds: Thresholds, labels: &Labels) -> String {
    let mut md = String::new();
    let regressions = judgement
        .rows
        .iter()
        .filter(|r| r.verdict == Verdict::Regression)
        .count();
    let _ = writeln!(md, "## Performance gate: {}", headline(regressions));
    let _ = writeln!(md);
    let _ = writeln!(md, "base `{}` → head `{}`", labels.base, labels.head);
    if let Some(rig) = labels.rig {
        let _ = writeln!(md, "\nRig: {rig}");
    }
    let _ = writeln!(
        md,
        "\nThresholds: exact ±{} (instructions and syscalls per request, counted), timing ±{} \
         (significant after Holm at {:.0}% across the run's timing tests, then confirmed by a re-run).",
        percent(thresholds.exact),
        percent(thresholds.timing),
        super::verdict::ALPHA * 100.0
    );
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "| scenario | metric | base | head | delta | 95% CI | verdict | samples |"
    );
    let _ = writeln!(md, "|---|---|---:|---:|---:|---|---|---|");
    for row in &judgement.rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            row.scenario,
            row.metric.name(),
            value(row.metric, row.base),
            value(row.metric, row.head),
            signed_percent(row.change),
            interval(row),
            verdict_text(row),
            row.samples
        );
    }
    for (scenario, functions) in &judgement.functions {
        let _ = writeln!(
            md,
            "\n### {scenario}: where the instructions per request changed\n"
        );
        let _ = writeln!(md, "| function | base | head | delta |");
        let _ = writeln!(md, "|---|---:|---:|---:|");
        for f in functions {
            let _ = writeln!(
                md,
                "| `{}` | {:.1} | {:.1} | {:+.1} |",
                f.name,
                f.base,
                f.head,
                f.head - f.base
            );
        }
    }
    md
}

fn headline(regressions: usize) -> String {
    match regressions {
        0 => "no regression".to_string(),
        1 => "1 regression".to_string(),
        n => format!("{n} regressions"),
    }
}

fn percent(fraction: f64) -> String {
    format!("{}%", fraction * 100.0)
}

fn signed_percent(change: f64) -> String {
    if change.is_infinite() {
        "new".to_string()
    } else {
        format!("{:+.2}%", change * 100.0)
    }
}

fn value(metric: Metric, v: f64) -> String {
    match metric {
        Metric::Instructions => format!("{v:.1}"),
        Metric::Syscalls => format!("{v:.3}"),
        Metric::CpuUsPerReq => format!("{v:.3}"),
        Metric::Rps => format!("{v:.0}"),
    }
}

fn interval(row: &Row) -> String {
    match (&row.test, row.metric.exact()) {
        (_, true) => "exact".to_string(),
        (Some(t), false) => format!("[{}, {}]", signed_percent(t.low), signed_percent(t.high)),
        (None, false) => "—".to_string(),
    }
}

fn verdict_text(row: &Row) -> String {
    let p = match (row.p_holm, &row.confirmation) {
        (Some(p), Some((_, again))) => format!(" (p {} then {})", p_text(p), p_text(*again)),
        (Some(p), None) => format!(" (p {})", p_text(p)),
        _ => String::new(),
    };
    let word = match row.verdict {
        Verdict::Regression => "**regression**",
        Verdict::Improvement => "better",
        Verdict::Same => "~",
        Verdict::NotConfirmed => "~ (not confirmed)",
    };
    format!("{word}{p}")
}

fn p_text(p: f64) -> String {
    if p < 0.001 {
        "<0.001".to_string()
    } else {
        format!("{p:.3}")
    }
}

fn verdict_key(v: Verdict) -> &'static str {
    match v {
        Verdict::Regression => "regression",
        Verdict::Improvement => "improvement",
        Verdict::Same => "same",
        Verdict::NotConfirmed => "not_confirmed",
    }
}

pub fn json(judgement: &Judgement, thresholds: Thresholds, labels: &Labels) -> Value {
    let rows: Vec<Value> = judgement
        .rows
        .iter()
        .map(|r| {
            json!({
                "scenario": r.scenario,
                "metric": r.metric.key(),
                "base": r.base,
                "head": r.head,
                "change": if r.change.is_finite() { json!(r.change) } else { Value::Null },
                "ci": r.test.map(|t| [t.low, t.high]),
                "p": r.test.map(|t| t.p),
                "p_holm": r.p_holm,
                "df": r.test.map(|t| t.df).filter(|d| d.is_finite()),
                "confirmation": r.confirmation.map(|(t, p)| json!({"change": t.change, "ci": [t.low, t.high], "p_holm": p})),
                "verdict": verdict_key(r.verdict),
                "samples": r.samples,
            })
        })
        .collect();
    let functions: serde_json::Map<String, Value> = judgement
        .functions
        .iter()
        .map(|(s, fs)| {
            let list = fs
                .iter()
                .map(|f| json!({"function": f.name, "base": f.base, "head": f.head}))
                .collect();
            (s.clone(), Value::Array(list))
        })
        .collect();
    json!({
        "base": labels.base,
        "head": labels.head,
        "rig": labels.rig,
        "thresholds": {"exact": thresholds.exact, "timing": thresholds.timing},
        "verdict": if judgement.regressed() { "regression" } else { "pass" },
        "rows": rows,
        "functions": functions,
        "candidates": judgement.candidates,
    })
}

/// Bencher Metric Format: `{benchmark: {measure: {value, lower_value, upper_value}}}`, the
/// head's figures (for a timed metric, the bounds are base x the ratio's 95% interval).
pub fn bmf(judgement: &Judgement) -> Value {
    let mut out = serde_json::Map::new();
    for row in &judgement.rows {
        let entry = out.entry(row.scenario.clone()).or_insert_with(|| json!({}));
        let mut measure = json!({"value": row.head});
        if let Some(t) = row.test {
            measure["lower_value"] = json!(row.base * (1.0 + t.low));
            measure["upper_value"] = json!(row.base * (1.0 + t.high));
        }
        entry[row.metric.key()] = measure;
    }
    Value::Object(out)
}
