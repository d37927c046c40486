//! The search's results for people (a live line per step, the step table and the
//! headline) and for programs (the JSON document).

use std::fmt::Write;
use std::io::Write as _;

use serde::Serialize;

use super::search::{LimitedBy, Verdict};
use super::step::Step;
use super::{Outcome, PROBE_DIVISOR, Settings};
use crate::report::units::time_us;

/// The SLOs as one list, defaults marked.
pub fn slo_list(settings: &Settings) -> String {
    let given = settings.slos.len() - settings.default_slos;
    settings
        .slos
        .iter()
        .enumerate()
        .map(|(i, s)| match i < given {
            true => s.text.clone(),
            false => format!("{} (default)", s.text),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the search is about to do, before the first step.
pub fn banner(settings: &Settings) -> String {
    let c = &settings.config;
    let url = c.load_name();
    let start = match settings.start_rate {
        Some(rate) => format!("from {rate:.0} req/s"),
        None => format!("from a 1s closed-loop probe's rate / {PROBE_DIVISOR:.0}"),
    };
    let shard = match &c.shard {
        Some(s) => format!(
            "\n  shard {}: each step offers this shard's part of the rate (the steps below show it)",
            s.shard
        ),
        None => String::new(),
    };
    format!(
        "Capacity search @ {url}\n  SLO: {}\n  {} connections, steps of {:?} after {:?} warm-up, {start}, precision {}%{shard}\n",
        slo_list(settings),
        c.connections,
        settings.step_duration,
        settings.step_warmup,
        settings.precision * 100.0,
    )
}

/// The live line after step `n` (1-based).
pub fn step_line(n: usize, step: &Step) -> String {
    let verdict = verdict_word(step);
    let why = match step.why.is_empty() {
        true => String::new(),
        false => format!(": {}", step.why),
    };
    format!(
        "step {n}: {:.0} req/s offered, {:.0} sent/s, p99 {}, {verdict}{why}",
        step.rate,
        step.achieved_rps,
        time_us(step.latency_us.p99)
    )
}

fn verdict_word(step: &Step) -> &'static str {
    match step.verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "FAIL",
        Verdict::Generator => "loadgen-limited",
    }
}

/// The step table, the headline and the reasons for failed steps.
pub fn text(settings: &Settings, outcome: &Outcome) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  step    offered   achieved   p50        p90        p99        p99.9      max        errors  verdict"
    );
    for (i, s) in outcome.steps.iter().enumerate() {
        let l = &s.latency_us;
        let _ = writeln!(
            out,
            "  {:>4} {:>10.0} {:>10.0}   {:<10} {:<10} {:<10} {:<10} {:<10} {:>6}  {}",
            i + 1,
            s.rate,
            s.achieved_rps,
            time_us(l.p50),
            time_us(l.p90),
            time_us(l.p99),
            time_us(l.p99_9),
            time_us(l.max),
            s.errors,
            verdict_word(s)
        );
    }
    for (i, s) in outcome.steps.iter().enumerate().filter(|(_, s)| !s.pass) {
        let _ = writeln!(out, "  step {}: {}", i + 1, s.why);
    }
    let _ = writeln!(out, "{}", headline(settings, outcome));
    out
}

/// `Capacity at <SLOs>: N req/s`, or why there is no such number.
pub fn headline(settings: &Settings, outcome: &Outcome) -> String {
    let slo = slo_list(settings);
    let found = &outcome.found;
    let steps = outcome.steps.len();
    let Some(pass) = found.pass else {
        return match found.limited_by {
            LimitedBy::Generator => generator_limit(outcome, "loadgen could not deliver even the start rate"),
            _ => format!(
                "No capacity at {slo}: even the start rate {:.0} req/s fails (lower --start-rate)",
                outcome.start_rate
            ),
        };
    };
    match found.limited_by {
        LimitedBy::Slo if found.converged => format!(
            "Capacity at {slo}: {pass:.0} req/s ({:.0} req/s failed; within {}%, {steps} steps)",
            found.fail.unwrap_or(pass),
            settings.precision * 100.0
        ),
        LimitedBy::Slo => format!(
            "Capacity at {slo}: {pass:.0} req/s, not converged: {:.0} req/s failed, wider than \
             --precision {}% after --max-steps {steps}",
            found.fail.unwrap_or(pass),
            settings.precision * 100.0
        ),
        LimitedBy::MaxRate => format!("Capacity at {slo}: at least {pass:.0} req/s (--max-rate reached)"),
        LimitedBy::MaxSteps => format!(
            "Capacity at {slo}: at least {pass:.0} req/s (--max-steps {steps} spent before a step failed)"
        ),
        LimitedBy::Generator => generator_limit(outcome, &format!("the target met {slo} at {pass:.0} req/s")),
    }
}

fn generator_limit(outcome: &Outcome, so_far: &str) -> String {
    let threads = outcome.threads;
    let plural = if threads == 1 { "" } else { "s" };
    let limit = outcome.found.generator.unwrap_or(0.0);
    format!(
        "loadgen saturated at {limit:.0} req/s on {threads} thread{plural}; capacity is above \
         that ({so_far}; add loadgen threads, cores or machines)"
    )
}

/// The JSON document (`--json`).
#[derive(Serialize)]
pub struct Document<'a> {
    pub url: &'a str,
    /// The highest rate that passed (`null` when none did).
    pub max_rate: Option<f64>,
    pub slo: Vec<&'a str>,
    pub precision: f64,
    pub limited_by: LimitedBy,
    /// The highest pass and the lowest failure are within the precision.
    pub converged: bool,
    pub lowest_failing_rate: Option<f64>,
    /// The lowest rate loadgen could not deliver (its limit on this machine).
    pub loadgen_limit: Option<f64>,
    pub start_rate: f64,
    pub probe_rps: Option<f64>,
    pub connections: usize,
    pub threads: usize,
    pub step_duration_s: f64,
    pub step_warmup_s: f64,
    pub steps: &'a [Step],
}

impl<'a> Document<'a> {
    pub fn new(settings: &'a Settings, outcome: &'a Outcome) -> Document<'a> {
        let c = &settings.config;
        Document {
            url: c.load_name(),
            max_rate: outcome.max_rate(),
            slo: settings.slos.iter().map(|s| s.text.as_str()).collect(),
            precision: settings.precision,
            limited_by: outcome.found.limited_by,
            converged: outcome.found.converged,
            lowest_failing_rate: outcome.found.fail,
            loadgen_limit: outcome.found.generator,
            start_rate: outcome.start_rate,
            probe_rps: outcome.probe_rps,
            connections: c.connections,
            threads: outcome.threads,
            step_duration_s: settings.step_duration.as_secs_f64(),
            step_warmup_s: settings.step_warmup.as_secs_f64(),
            steps: &outcome.steps,
        }
    }
}

/// Write the results where the command line asked: the table on stdout (stderr when stdout
/// carries the JSON), `--json`, `--svg`.
pub fn emit(settings: &Settings, outcome: &Outcome, output: &super::cli::Output) -> Result<(), String> {
    say(output, &text(settings, outcome));
    if let Some(path) = &output.json {
        let document = Document::new(settings, outcome);
        let json = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())? + "\n";
        match path.as_str() {
            "-" => std::io::stdout()
                .write_all(json.as_bytes())
                .map_err(|e| format!("--json: cannot write to stdout: {e}"))?,
            _ => std::fs::write(path, json).map_err(|e| format!("--json: cannot write '{path}': {e}"))?,
        }
    }
    if let Some(path) = &output.svg {
        let curve = super::chart::Curve {
            name: "",
            steps: &outcome.steps,
            capacity: outcome.max_rate(),
        };
        let title = format!("Latency vs throughput: {}", Document::new(settings, outcome).url);
        let svg = super::chart::render(&title, &[curve], &super::chart::slo_lines(&settings.slos))?;
        std::fs::write(path, svg).map_err(|e| format!("--svg: cannot write '{}': {e}", path.display()))?;
    }
    Ok(())
}

/// Human text: stdout, or stderr when stdout carries the JSON (a closed pipe is ignored).
pub fn say(output: &super::cli::Output, text: &str) {
    let _ = match output.json.as_deref() {
        Some("-") => std::io::stderr().write_all(text.as_bytes()),
        _ => std::io::stdout().write_all(text.as_bytes()),
    };
}
