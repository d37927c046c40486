//! `loadgen capacity`: the highest open-loop rate at which the target still meets its SLOs.
//! A short closed-loop probe suggests the start rate; then fixed-rate steps (each with its
//! own warm-up, so connection set-up is never measured) are judged by [`step::judge`] and
//! steered by [`search::search`].

pub mod chart;
pub mod cli;
pub mod render;
pub mod search;
pub mod step;

use std::time::Duration;

use crate::assert::Assertion;
use crate::config::Config;
use crate::run::{RunError, RunOptions, prepare};
use search::{Bounds, Found};
use step::Step;

/// What to search, as the command line gave it.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The load template: target, connections, threads, request; each step sets its rate
    /// and length.
    pub config: Config,
    pub slos: Vec<Assertion>,
    /// SLOs added by default (shown as such), e.g. an error-rate bound.
    pub default_slos: usize,
    /// `None`: a tenth of the probe's closed-loop rate.
    pub start_rate: Option<f64>,
    pub precision: f64,
    pub max_steps: usize,
    pub step_duration: Duration,
    pub step_warmup: Duration,
    pub max_rate: Option<f64>,
}

impl Settings {
    /// `loadgen capacity`'s defaults: start from the probe, 2% precision, at most 20 steps of
    /// 5 s after 1 s of warm-up, no rate cap.
    pub fn new(config: Config, slos: Vec<Assertion>) -> Settings {
        Settings {
            config,
            slos,
            default_slos: 0,
            start_rate: None,
            precision: 0.02,
            max_steps: 20,
            step_duration: Duration::from_secs(5),
            step_warmup: Duration::from_secs(1),
            max_rate: None,
        }
    }
}

/// The closed-loop probe's length (when no start rate is given).
const PROBE: Duration = Duration::from_secs(1);
/// The default start rate is the probe's rate divided by this.
pub const PROBE_DIVISOR: f64 = 10.0;

#[derive(Debug, Clone)]
pub struct Outcome {
    /// The closed-loop probe's responses per second, when it ran.
    pub probe_rps: Option<f64>,
    pub start_rate: f64,
    pub threads: usize,
    pub found: Found,
    pub steps: Vec<Step>,
}

impl Outcome {
    /// The capacity to report: the highest passing rate.
    pub fn max_rate(&self) -> Option<f64> {
        self.found.pass
    }
}

/// Probe (unless a start rate is given), then search; `on_step` sees each step as it ends.
pub fn run(settings: &Settings, mut on_step: impl FnMut(&Step)) -> Result<Outcome, RunError> {
    let options = RunOptions::default();
    let mut threads = 1;
    let (start_rate, probe_rps) = match settings.start_rate {
        Some(rate) => (rate, None),
        None => {
            let mut probe = settings.config.clone();
            (probe.rate, probe.duration, probe.warmup) = (None, Some(PROBE), Duration::ZERO);
            let prepared = prepare(&probe)?;
            threads = prepared.threads();
            let report = prepared.run(&options)?;
            if report.requests == 0 {
                return Err(RunError::Unreachable(format!(
                    "the closed-loop probe got no responses from {} in {PROBE:?} (errors: {})",
                    report.url, report.errors.total
                )));
            }
            ((report.rps / PROBE_DIVISOR).max(1.0), Some(report.rps))
        }
    };
    let bounds = Bounds {
        start: start_rate,
        precision: settings.precision,
        max_steps: settings.max_steps,
        max_rate: settings.max_rate,
    };
    let mut steps = Vec::new();
    let mut failure = None;
    let found = search::search(bounds, |rate| {
        let mut config = settings.config.clone();
        // With --shard, this process offers its share of each step's rate and is judged on it.
        let rate = config.shard.as_ref().map_or(rate, |s| s.shard.rate(rate));
        config.rate = Some(rate);
        config.duration = Some(settings.step_duration);
        config.warmup = settings.step_warmup;
        let report = match prepare(&config).and_then(|prepared| {
            threads = prepared.threads();
            prepared.run(&options)
        }) {
            Ok(report) => report,
            Err(e) => {
                failure = Some(e);
                return None; // the error is returned below
            }
        };
        let step = step::judge(rate, &report, &settings.slos);
        on_step(&step);
        let verdict = step.verdict;
        steps.push(step);
        Some(verdict)
    });
    if let Some(error) = failure {
        return Err(error);
    }
    Ok(Outcome {
        probe_rps,
        start_rate,
        threads,
        found,
        steps,
    })
}
