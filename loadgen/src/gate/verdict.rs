//! From samples to verdicts. Exact signals: the slope of count against requests (start-up
//! and shutdown cancel), judged by the threshold alone — a count has no noise to test
//! against. Timing: per-round ratios judged by [`stats::log_paired`], Holm-corrected across
//! every timing test of the run; a regression must be significant, past the threshold, and
//! seen again in the confirmation re-run when one was made.

use std::collections::BTreeMap;

use super::samples::{Counted, Counts, Round, Samples, Side};
use super::stats::{self, RatioTest};

/// Family-wise error rate of one gate run's timing tests.
pub const ALPHA: f64 = 0.05;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Instructions,
    Syscalls,
    CpuUsPerReq,
    Rps,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::Instructions => "instructions/req",
            Metric::Syscalls => "syscalls/req",
            Metric::CpuUsPerReq => "target CPU-us/req",
            Metric::Rps => "rps",
        }
    }

    /// The key in the JSON and BMF outputs.
    pub fn key(self) -> &'static str {
        match self {
            Metric::Instructions => "instructions_per_request",
            Metric::Syscalls => "syscalls_per_request",
            Metric::CpuUsPerReq => "cpu_us_per_request",
            Metric::Rps => "requests_per_second",
        }
    }

    fn higher_is_worse(self) -> bool {
        self != Metric::Rps
    }

    pub fn exact(self) -> bool {
        matches!(self, Metric::Instructions | Metric::Syscalls)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Regression,
    Improvement,
    /// No change past the threshold, or none that is significant.
    Same,
    /// The first run flagged a regression, the confirmation re-run did not.
    NotConfirmed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub scenario: String,
    pub metric: Metric,
    pub base: f64,
    pub head: f64,
    /// `head/base - 1` (for timing: of the geometric means).
    pub change: f64,
    /// Timing only: the test of the first run, and its Holm-adjusted p-value.
    pub test: Option<RatioTest>,
    pub p_holm: Option<f64>,
    /// Timing only, when re-run: the confirmation's test and adjusted p-value.
    pub confirmation: Option<(RatioTest, f64)>,
    pub verdict: Verdict,
    pub samples: String,
}

/// A function whose instructions per request changed (base, head).
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionDelta {
    pub name: String,
    pub base: f64,
    pub head: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub exact: f64,
    pub timing: f64,
}

#[derive(Debug, Default)]
pub struct Judgement {
    pub rows: Vec<Row>,
    /// Per scenario with an instruction regression: the functions that changed most.
    pub functions: BTreeMap<String, Vec<FunctionDelta>>,
    /// Scenarios whose timing was flagged before confirmation (what a re-run must repeat).
    pub candidates: Vec<String>,
}

impl Judgement {
    pub fn regressed(&self) -> bool {
        self.rows.iter().any(|r| r.verdict == Verdict::Regression)
    }
}

/// Functions listed per regressed scenario.
const TOP_FUNCTIONS: usize = 12;

pub fn judge(
    samples: &Samples,
    confirm: Option<&Samples>,
    thresholds: Thresholds,
) -> Result<Judgement, String> {
    let mut judgement = Judgement::default();
    for scenario in &samples.scenarios {
        for (counted, metric) in [
            (Counted::Instructions, Metric::Instructions),
            (Counted::Syscalls, Metric::Syscalls),
        ] {
            let key = |side| (scenario.clone(), counted, side);
            match (
                samples.counted.get(&key(Side::Base)),
                samples.counted.get(&key(Side::Head)),
            ) {
                (None, None) => {}
                (Some(base), Some(head)) => {
                    let row = exact_row(scenario, metric, base, head, thresholds.exact)?;
                    if row.verdict == Verdict::Regression && metric == Metric::Instructions {
                        judgement
                            .functions
                            .insert(scenario.clone(), function_deltas(base, head));
                    }
                    judgement.rows.push(row);
                }
                _ => return Err(format!("{scenario}: {} counted on one side only", metric.name())),
            }
        }
    }
    judge_timing(samples, confirm, thresholds.timing, &mut judgement)?;
    Ok(judgement)
}

/// Least-squares slope of count on requests: with two points, their difference quotient.
pub fn slope(points: &[(u64, u64)]) -> Option<f64> {
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0 as f64).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1 as f64).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 as f64 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 as f64 - mx) * (p.1 as f64 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

fn exact_row(
    scenario: &str,
    metric: Metric,
    base: &Counts,
    head: &Counts,
    threshold: f64,
) -> Result<Row, String> {
    let per_request = |counts: &Counts, side: &str| {
        slope(&counts.points).ok_or_else(|| {
            format!(
                "{scenario}: {side}'s {} needs runs at two different request counts",
                metric.name()
            )
        })
    };
    let (b, h) = (per_request(base, "base")?, per_request(head, "head")?);
    let change = if b > 0.0 {
        h / b - 1.0
    } else if h > 0.0 {
        f64::INFINITY
    } else {
        0.0
    };
    let verdict = if change >= threshold {
        Verdict::Regression
    } else if change <= -threshold {
        Verdict::Improvement
    } else {
        Verdict::Same
    };
    let requests: Vec<String> = base.points.iter().map(|p| p.0.to_string()).collect();
    Ok(Row {
        scenario: scenario.to_string(),
        metric,
        base: b,
        head: h,
        change,
        test: None,
        p_holm: None,
        confirmation: None,
        verdict,
        samples: format!("counts at {} requests", requests.join(", ")),
    })
}

/// Per function, instructions per request on each side (the slope between the smallest and
/// the largest request count), the largest changes first. Frames that hold nearly the whole
/// count on both sides (a thread's entry and its clone, on the stack when the counts were
/// zeroed after warm-up) are left out: they say nothing about where the change is.
fn function_deltas(base: &Counts, head: &Counts) -> Vec<FunctionDelta> {
    let whole = |counts: &Counts| slope(&counts.points).unwrap_or(f64::INFINITY) * 0.95;
    let (base_whole, head_whole) = (whole(base), whole(head));
    let per_request = |counts: &Counts| -> BTreeMap<String, f64> {
        let (Some(lo), Some(hi)) = (
            counts.functions.iter().min_by_key(|f| f.0),
            counts.functions.iter().max_by_key(|f| f.0),
        ) else {
            return BTreeMap::new();
        };
        let span = hi.0.saturating_sub(lo.0) as f64;
        if span == 0.0 {
            return BTreeMap::new();
        }
        hi.1.iter()
            .map(|(name, count)| {
                let before = lo.1.get(name).copied().unwrap_or(0) as f64;
                (name.clone(), (*count as f64 - before) / span)
            })
            .collect()
    };
    let (b, h) = (per_request(base), per_request(head));
    let mut names: Vec<&String> = b.keys().chain(h.keys()).collect();
    names.sort();
    names.dedup();
    let mut deltas: Vec<FunctionDelta> = names
        .into_iter()
        .map(|name| FunctionDelta {
            name: name.clone(),
            base: b.get(name).copied().unwrap_or(0.0),
            head: h.get(name).copied().unwrap_or(0.0),
        })
        .filter(|d| (d.head - d.base).abs() >= 0.5)
        .filter(|d| d.base < base_whole || d.head < head_whole)
        .collect();
    deltas.sort_by(|x, y| (y.head - y.base).abs().total_cmp(&(x.head - x.base).abs()));
    deltas.truncate(TOP_FUNCTIONS);
    deltas
}

/// One scenario-metric test: the (base, head) value of each round.
type TimingTest = (String, Metric, Vec<(f64, f64)>);

fn timing_tests(samples: &Samples, only: Option<&[String]>) -> Result<Vec<TimingTest>, String> {
    let mut tests = Vec::new();
    for scenario in &samples.scenarios {
        if only.is_some_and(|only| !only.contains(scenario)) {
            continue;
        }
        let rounds = |side| samples.timed.get(&(scenario.clone(), side));
        let pairs: Vec<(&Round, &Round)> = match (rounds(Side::Base), rounds(Side::Head)) {
            (None, None) => continue,
            (Some(base), Some(head)) => pair_rounds(scenario, base, head)?,
            (b, h) => {
                return Err(format!(
                    "{scenario}: timing needs both sides' rounds, has {} base and {} head",
                    b.map_or(0, BTreeMap::len),
                    h.map_or(0, BTreeMap::len)
                ));
            }
        };
        if pairs.len() < 3 {
            return Err(format!(
                "{scenario}: timing needs at least 3 rounds, has {}",
                pairs.len()
            ));
        }
        let values = |f: fn(&Round) -> f64| pairs.iter().map(|(b, h)| (f(b), f(h))).collect();
        tests.push((
            scenario.clone(),
            Metric::CpuUsPerReq,
            values(|r| r.cpu_us_per_req),
        ));
        tests.push((scenario.clone(), Metric::Rps, values(|r| r.rps)));
    }
    Ok(tests)
}

/// Base's and head's figures of each round, matched by round number.
fn pair_rounds<'a>(
    scenario: &str,
    base: &'a BTreeMap<u64, Round>,
    head: &'a BTreeMap<u64, Round>,
) -> Result<Vec<(&'a Round, &'a Round)>, String> {
    let lone = |mine: &BTreeMap<u64, Round>, theirs: &BTreeMap<u64, Round>| {
        mine.keys().copied().find(|n| !theirs.contains_key(n))
    };
    if let Some(n) = lone(base, head).or_else(|| lone(head, base)) {
        return Err(format!(
            "{scenario}: round {n} was timed on one side only (rounds pair base with head)"
        ));
    }
    Ok(base.iter().map(|(n, b)| (b, &head[n])).collect())
}

/// Each test's estimate and Holm-adjusted p-value.
fn run_tests(tests: &[TimingTest]) -> Result<Vec<(RatioTest, f64)>, String> {
    let estimates = tests
        .iter()
        .map(|(scenario, metric, pairs)| {
            stats::log_paired(pairs)
                .ok_or_else(|| format!("{scenario}: {} has a value that is not positive", metric.name()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let adjusted = stats::holm(&estimates.iter().map(|e| e.p).collect::<Vec<_>>());
    Ok(estimates.into_iter().zip(adjusted).collect())
}

/// Worse, significant and past the threshold (or better, likewise).
fn flagged(metric: Metric, test: &RatioTest, p_holm: f64, threshold: f64) -> Option<bool> {
    let worse_by = if metric.higher_is_worse() {
        test.change
    } else {
        -test.change
    };
    (p_holm < ALPHA && worse_by.abs() >= threshold).then_some(worse_by > 0.0)
}

fn judge_timing(
    samples: &Samples,
    confirm: Option<&Samples>,
    threshold: f64,
    judgement: &mut Judgement,
) -> Result<(), String> {
    let tests = timing_tests(samples, None)?;
    let results = run_tests(&tests)?;
    let mut flagged_worse = Vec::new();
    for ((scenario, metric, _), (test, p)) in tests.iter().zip(&results) {
        if flagged(*metric, test, *p, threshold) == Some(true) && !judgement.candidates.contains(scenario) {
            judgement.candidates.push(scenario.clone());
        }
        flagged_worse.push(flagged(*metric, test, *p, threshold));
    }
    // The confirmation re-runs only the candidates; Holm runs over its own tests.
    let confirmed: BTreeMap<(String, &'static str), (RatioTest, f64)> = match confirm {
        Some(again) => {
            let retests = timing_tests(again, Some(&judgement.candidates))?;
            let reresults = run_tests(&retests)?;
            retests
                .iter()
                .zip(reresults)
                .map(|((s, m, _), r)| ((s.clone(), m.key()), r))
                .collect()
        }
        None => BTreeMap::new(),
    };
    for (((scenario, metric, pairs), (test, p)), flag) in tests.into_iter().zip(results).zip(flagged_worse) {
        let confirmation = confirmed.get(&(scenario.clone(), metric.key())).copied();
        let verdict = match (flag, confirm.is_some(), confirmation) {
            (Some(true), false, _) => Verdict::Regression,
            (Some(true), true, Some((again, p_again)))
                if flagged(metric, &again, p_again, threshold) == Some(true) =>
            {
                Verdict::Regression
            }
            (Some(true), true, _) => Verdict::NotConfirmed,
            (Some(false), _, _) => Verdict::Improvement,
            (None, _, _) => Verdict::Same,
        };
        let geo = |f: fn(&(f64, f64)) -> f64| {
            (pairs.iter().map(|p| f(p).ln()).sum::<f64>() / pairs.len() as f64).exp()
        };
        let mut samples = format!("{} paired rounds", pairs.len());
        if let Some(again) = confirm.and_then(|c| c.timed.get(&(scenario.clone(), Side::Base))) {
            if confirmation.is_some() {
                samples.push_str(&format!(", re-run {}", again.len()));
            }
        }
        judgement.rows.push(Row {
            scenario,
            metric,
            base: geo(|p| p.0),
            head: geo(|p| p.1),
            change: test.change,
            test: Some(test),
            p_holm: Some(p),
            confirmation,
            verdict,
            samples,
        });
    }
    Ok(())
}
