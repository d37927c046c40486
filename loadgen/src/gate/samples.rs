//! What the gate judges, read from disk: a samples file (one JSON object a line, written by
//! `scripts/perf-gate.sh`) naming, per scenario and side, the measurement files — callgrind
//! outputs and `strace -c` tables at two or more request counts (the exact signal), loadgen
//! JSON reports of timed rounds (the timing signal) — and the parsers for those files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    Base,
    Head,
}

/// An exact signal: counted, so one run a request count suffices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Counted {
    Instructions,
    Syscalls,
}

/// One side's counts of one scenario and signal: (requests, count), and for instructions
/// the per-function counts at each request count (from callgrind_annotate), when given.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Counts {
    pub points: Vec<(u64, u64)>,
    pub functions: Vec<(u64, BTreeMap<String, u64>)>,
}

/// One timed round's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Round {
    pub cpu_us_per_req: f64,
    pub rps: f64,
}

/// Everything one samples file holds, keyed by scenario (in the file's order of first
/// appearance) and side.
#[derive(Debug, Default)]
pub struct Samples {
    pub scenarios: Vec<String>,
    pub counted: BTreeMap<(String, Counted, Side), Counts>,
    /// By round number, which pairs a base round with head's (both sides are loaded at once
    /// in a round).
    pub timed: BTreeMap<(String, Side), BTreeMap<u64, Round>>,
}

pub fn read(path: &Path) -> Result<Samples, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read samples '{}': {e}", path.display()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut samples = Samples::default();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = || format!("{}:{}", path.display(), n + 1);
        let json: Value = serde_json::from_str(line).map_err(|e| format!("{}: not JSON: {e}", at()))?;
        samples.add(&json, dir).map_err(|e| format!("{}: {e}", at()))?;
    }
    if samples.scenarios.is_empty() {
        return Err(format!("samples '{}' hold no measurement", path.display()));
    }
    Ok(samples)
}

impl Samples {
    fn add(&mut self, json: &Value, dir: &Path) -> Result<(), String> {
        let text = |key: &str| {
            json.get(key)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("no \"{key}\""))
        };
        let scenario = text("scenario")?.to_string();
        let side = match text("side")? {
            "base" => Side::Base,
            "head" => Side::Head,
            other => return Err(format!("side must be base or head, not '{other}'")),
        };
        let file = |key: &str| text(key).map(|f| dir.join(f));
        match text("signal")? {
            "instructions" | "syscalls" => {
                let requests = json
                    .get("requests")
                    .and_then(Value::as_u64)
                    .ok_or("no \"requests\" (a whole number)")?;
                let counts = self
                    .counted
                    .entry((scenario.clone(), counted_of(text("signal")?), side))
                    .or_default();
                let measured = file("file")?;
                let contents = read_text(&measured)?;
                let count = match text("signal")? {
                    "instructions" => callgrind_total(&contents),
                    _ => strace_total(&contents),
                }
                .ok_or_else(|| format!("no total in '{}'", measured.display()))?;
                counts.points.push((requests, count));
                if let Ok(annotate) = file("annotate") {
                    counts
                        .functions
                        .push((requests, annotate_functions(&read_text(&annotate)?)));
                }
            }
            "timing" => {
                let number = json
                    .get("round")
                    .and_then(Value::as_u64)
                    .ok_or("no \"round\" (a whole number)")?;
                let rounds = self.timed.entry((scenario.clone(), side)).or_default();
                if rounds.contains_key(&number) {
                    return Err(format!("round {number} of {scenario} is listed twice"));
                }
                rounds.insert(number, timed_round(&file("report")?)?);
            }
            other => {
                return Err(format!(
                    "signal must be instructions, syscalls or timing, not '{other}'"
                ));
            }
        }
        if !self.scenarios.contains(&scenario) {
            self.scenarios.push(scenario);
        }
        Ok(())
    }
}

fn counted_of(signal: &str) -> Counted {
    if signal == "instructions" {
        Counted::Instructions
    } else {
        Counted::Syscalls
    }
}

fn read_text(path: &PathBuf) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read '{}': {e}", path.display()))
}

/// Instructions (the first event, Ir) of a callgrind output: its `summary:` line (or
/// `totals:`, which a dump also carries).
pub fn callgrind_total(contents: &str) -> Option<u64> {
    let line = contents
        .lines()
        .find(|l| l.starts_with("summary:"))
        .or_else(|| contents.lines().find(|l| l.starts_with("totals:")))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Calls whose number follows the timing of the two processes, not the work: how often a
/// loop found nothing to do and waited (a faster client leaves less to wait for).
const WAITS: [&str; 6] = [
    "epoll_wait",
    "epoll_pwait",
    "futex",
    "sched_yield",
    "nanosleep",
    "clock_nanosleep",
];
/// Calls whose failures (EAGAIN: nothing was there yet) follow timing the same way.
const EMPTY_WHEN_FAILED: [&str; 2] = ["accept", "accept4"];

/// System calls counted by `strace -c` that do work: every call but the waits, and but
/// the accepts that found no connection. Both are timing, not work: on one connection, a
/// new-connection-per-request run's `accept4` that found the next client already waiting
/// (and so the wakes it spared) changes from run to run by ~1.5% of all calls, while
/// every other count repeats exactly. A failed `read` (EAGAIN) still counts: one more per
/// request is a regression. None without the `total` line.
pub fn strace_total(contents: &str) -> Option<u64> {
    contents
        .lines()
        .rev()
        .find(|l| l.split_whitespace().last() == Some("total"))?;
    let mut work = 0;
    for line in contents.lines() {
        // % time, seconds, usecs/call, calls, [errors,] syscall
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(name), Some(Ok(calls))) = (fields.last(), fields.get(3).map(|c| c.parse::<u64>())) else {
            continue;
        };
        if fields.len() < 5 || *name == "total" || fields[0].parse::<f64>().is_err() || WAITS.contains(name) {
            continue;
        }
        let errors = if fields.len() == 6 {
            fields[4].parse::<u64>().unwrap_or(0)
        } else {
            0
        };
        work += if EMPTY_WHEN_FAILED.contains(name) {
            calls - errors.min(calls)
        } else {
            calls
        };
    }
    Some(work)
}

/// Per-function instruction counts from `callgrind_annotate --threshold=100` output
/// (`4,188,000 (20.87%)  ???:crate::f [/path/bin]`). The binary's path is dropped: base and
/// head are built in different directories.
pub fn annotate_functions(contents: &str) -> BTreeMap<String, u64> {
    let mut functions = BTreeMap::new();
    for line in contents.lines() {
        let line = line.trim();
        let Some((count, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(count) = count.replace(',', "").parse::<u64>() else {
            continue;
        };
        let rest = rest.trim_start();
        let rest = match rest.strip_prefix('(') {
            Some(after) => after.split_once(')').map_or("", |(_, name)| name),
            None => rest,
        };
        let name = rest.trim();
        if name.is_empty() || name == "PROGRAM TOTALS" {
            continue;
        }
        let name = match name.rfind(" [") {
            Some(i) if name.ends_with(']') => &name[..i],
            _ => name,
        };
        *functions.entry(name.to_string()).or_insert(0) += count;
    }
    functions
}

/// One round from a loadgen JSON report: the target's CPU per request (needs
/// `--server-pid`) and rps. A round with any error cannot be judged.
fn timed_round(path: &Path) -> Result<Round, String> {
    let text = read_text(&path.to_path_buf())?;
    let report: Value =
        serde_json::from_str(&text).map_err(|e| format!("'{}' is not JSON: {e}", path.display()))?;
    let number = |pointer: &str| report.pointer(pointer).and_then(Value::as_f64);
    let errors =
        number("/errors/total").ok_or_else(|| format!("'{}' is not a loadgen report", path.display()))?;
    if errors > 0.0 {
        return Err(format!(
            "'{}': {errors} errors in a timed round (the gate needs none)",
            path.display()
        ));
    }
    let requests = number("/requests").unwrap_or(0.0);
    if requests <= 0.0 {
        return Err(format!("'{}': no request was answered", path.display()));
    }
    let cpu_us_per_req = number("/target/cpu_us_per_request")
        .filter(|v| *v > 0.0)
        .ok_or_else(|| {
            format!(
                "'{}' has no target CPU (run loadgen with --server-pid)",
                path.display()
            )
        })?;
    Ok(Round {
        cpu_us_per_req,
        rps: number("/rps").unwrap_or(0.0),
    })
}
