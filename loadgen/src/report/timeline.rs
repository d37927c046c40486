//! The report's `timeline`: one entry per second of the recorded phase (throughput, sends,
//! errors, median and p99, and in open loop the rate the schedule offered). These are the
//! samples `loadgen compare` tests: requests within a run are autocorrelated, seconds much
//! less so, which makes the second (or the whole run) the unit of evidence.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::intervals::Interval;
use crate::schedule::Rate;
use crate::schedule::ramp::{Ramp, Stage};

/// How far a target CPU sample may be from a second's boundary and still delimit it (the
/// main thread samples on whole seconds, a little late when it was busy merging).
const MARK_SLACK_NS: u64 = 100_000_000;
/// /proc counts CPU in 10 ms ticks: a second shorter than this (the run's last sliver) gets
/// no CPU figure rather than a meaningless one.
const MIN_CPU_SPAN: Duration = Duration::from_millis(500);

/// One second (the last one can be shorter: `length_s`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Second {
    /// Offset from the start of recording, in whole seconds.
    pub t: u64,
    pub length_s: f64,
    /// Responses in this second, per second of its length.
    pub rps: f64,
    /// Requests written, per second.
    pub sent_rps: f64,
    /// Failed requests (read, write, timeout, parse, TLS; not connection attempts).
    pub errors: u64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Open loop: the rate the schedule asked for over this second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offered_rps: Option<f64>,
    /// With `--server-pid`: the target's CPU over this second per response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_cpu_us_per_req: Option<f64>,
}

/// `target_marks`: (time from the start of recording in ns, the target's CPU seconds so far).
pub fn build(config: &Config, intervals: &[Interval], target_marks: Option<&[(u64, f64)]>) -> Vec<Second> {
    let offered = offered(config);
    intervals
        .iter()
        .map(|i| {
            let length_s = i.length.as_secs_f64().max(1e-9);
            let end = i.start + i.length;
            let target_cpu_s = target_marks
                .filter(|_| i.length >= MIN_CPU_SPAN)
                .and_then(|marks| cpu_between(marks, i.start, end));
            Second {
                t: i.start.as_secs(),
                length_s,
                rps: i.responses as f64 / length_s,
                sent_rps: i.sent as f64 / length_s,
                errors: i.errors,
                p50_us: i.p50_ns as f64 / 1_000.0,
                p99_us: i.p99_ns as f64 / 1_000.0,
                offered_rps: offered.as_ref().and_then(|ramp| offered_rps(ramp, i.start, end)),
                target_cpu_us_per_req: target_cpu_s
                    .filter(|_| i.responses > 0)
                    .map(|cpu_s| cpu_s * 1e6 / i.responses as f64),
            }
        })
        .collect()
}

/// What the schedule intends to send over the run (`None` in closed loop): a constant rate
/// intends `rate * t` requests by time t, a ramp its integral.
fn offered(config: &Config) -> Option<Ramp> {
    Some(match config.open_loop_rate()? {
        Rate::Constant(rate) => {
            let jump = Stage {
                duration: Duration::ZERO,
                rate,
            };
            let hold = Stage {
                duration: Duration::MAX,
                rate,
            };
            Ramp::new(&[jump, hold], 1.0)
        }
        Rate::Stages(stages) => Ramp::new(&stages, 1.0),
    })
}

/// The schedule's mean rate over `[from, to)` of the recorded phase: the requests it
/// intends to send in that span over the span's length.
fn offered_rps(ramp: &Ramp, from: Duration, to: Duration) -> Option<f64> {
    let intended_by = |t: Duration| ramp.due(t.as_secs_f64());
    let span = (to - from).as_secs_f64();
    // Rounded to a thousandth of a request per second: the difference of two products
    // would otherwise print a constant rate as 500.0000000000001.
    (span > 0.0).then(|| ((intended_by(to) - intended_by(from)) / span * 1e3).round() / 1e3)
}

/// The target's CPU seconds between two samples taken at `from` and `to` (each within
/// `MARK_SLACK_NS`); `None` when either boundary was not sampled.
fn cpu_between(marks: &[(u64, f64)], from: Duration, to: Duration) -> Option<f64> {
    let at = |t: Duration| {
        let t = t.as_nanos() as u64;
        marks
            .iter()
            .find(|(when, _)| when.abs_diff(t) <= MARK_SLACK_NS)
            .map(|(_, cpu_s)| *cpu_s)
    };
    Some(at(to)? - at(from)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(start_ms: u64, length_ms: u64, responses: u64) -> Interval {
        Interval {
            start: Duration::from_millis(start_ms),
            length: Duration::from_millis(length_ms),
            responses,
            sent: responses + 2,
            errors: 1,
            p50_ns: 250_000,
            p99_ns: 1_500_000,
            histogram: Vec::new(),
        }
    }

    #[test]
    fn seconds_carry_rates_percentiles_and_target_cpu() {
        let mut config = Config::new("http://127.0.0.1:1/");
        let intervals = [interval(0, 1_000, 1_000), interval(1_000, 250, 200)];
        // The target used 0.25 s in the first second; the second boundary was sampled late
        // (30 ms); the last second is a sliver of 0.25 s, too short for /proc's ticks.
        let marks = [(2_000_000, 1.0), (1_030_000_000, 1.25), (1_250_000_000, 1.5)];
        let timeline = build(&config, &intervals, Some(&marks));
        assert_eq!(
            timeline[0],
            Second {
                t: 0,
                length_s: 1.0,
                rps: 1_000.0,
                sent_rps: 1_002.0,
                errors: 1,
                p50_us: 250.0,
                p99_us: 1_500.0,
                offered_rps: None,
                target_cpu_us_per_req: Some(250.0),
            }
        );
        assert_eq!(
            (timeline[1].t, timeline[1].rps, timeline[1].sent_rps),
            (1, 800.0, 808.0)
        );
        assert_eq!(timeline[1].target_cpu_us_per_req, None);
        config.rate = Some(5_000.0);
        let open = build(&config, &intervals, None);
        assert_eq!(
            (open[0].offered_rps, open[1].offered_rps),
            (Some(5_000.0), Some(5_000.0))
        );
    }
}
