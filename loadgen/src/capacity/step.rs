//! One step of the search: a fixed-rate open-loop run judged against the SLOs and against
//! the schedule (did loadgen deliver the offered rate, and if not, whose fault was it).

use serde::{Deserialize, Serialize};

use super::search::Verdict;
use crate::assert::Assertion;
use crate::report::units::time_us;
use crate::report::{LAG_LIMIT_US, LateSends, Percentiles, Report};

/// The offered rate counts as delivered when at least this share of it was sent.
const DELIVERED: f64 = 0.99;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StepLatency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p99_9: f64,
    pub max: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Offered rate (requests per second).
    pub rate: f64,
    /// Requests sent per second: what loadgen delivered of `rate`.
    pub achieved_rps: f64,
    /// Responses per second.
    pub throughput_rps: f64,
    /// Response times (from the intended send times), microseconds.
    pub latency_us: StepLatency,
    /// Failed requests (not connection attempts).
    pub errors: u64,
    pub pass: bool,
    pub verdict: Verdict,
    /// Why it did not pass (empty when it did).
    pub why: String,
    /// Median send lag, all of it and loadgen's own part, microseconds.
    pub send_lag_p50_us: f64,
    pub generator_lag_p50_us: f64,
    pub busiest_thread_cpu_pct: f64,
    /// With `--server-pid`: the target's CPU per response over the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_cpu_us_per_req: Option<f64>,
}

/// Judge a step's report: the generator's own lateness voids the step (nothing is known
/// about the target); otherwise a broken SLO or an undelivered rate (requests waited for a
/// connection) fails it.
pub fn judge(rate: f64, report: &Report, slos: &[Assertion]) -> Step {
    let achieved = report.rate_achieved.unwrap_or(0.0);
    // One request short is not a shortfall, however short the step.
    let delivered = achieved >= DELIVERED * rate - 1.0 / report.duration_s.max(1e-3);
    let broken: Vec<String> = slos
        .iter()
        .filter_map(|slo| {
            let actual = slo.metric.of_report(report);
            let checked = slo.evaluate(report);
            (!checked.passed).then(|| match actual {
                Some(value) => format!("{} = {} (SLO {})", slo.name, slo.metric.format(value), slo.text),
                None => format!("{} not measured (SLO {})", slo.name, slo.text),
            })
        })
        .collect();
    let share = achieved / rate * 100.0;
    let saturated = report.generator_saturated();
    let lag = |l: Option<Percentiles>| l.map_or(0.0, |l| l.p99);
    let (lag_p99, generator_p99) = (lag(report.send_lag_us), lag(report.generator_lag_us));
    // Requests that waited for a connection (all had one in flight) were held up by the
    // target; only a lag that is mostly loadgen's own is loadgen's.
    let waited = lag_p99 > LAG_LIMIT_US && lag_p99 > 2.0 * generator_p99;
    let (verdict, why) = match report.late_sends() {
        Some(LateSends::Generator(p50)) => (
            Verdict::Generator,
            format!(
                "loadgen delivered {share:.1}% of the rate, send lag p50 {} was its own",
                time_us(p50)
            ),
        ),
        // A shortfall with no busy thread and no wait for connections is loadgen's only while
        // the target looks healthy: once an SLO broke, an unsaturated loadgen whose own lag is
        // small (the arm above) points at the target, even if scheduling noise on a shared
        // machine inflated loadgen's lag tail.
        _ if (saturated && (!delivered || !broken.is_empty()))
            || (!delivered && !waited && broken.is_empty()) =>
        {
            (
                Verdict::Generator,
                format!(
                    "loadgen delivered {share:.1}% of the rate, its busiest thread never idle {:.0}% of the step",
                    report.generator.busiest_thread_saturation_pct
                ),
            )
        }
        late if !broken.is_empty() || !delivered || late.is_some() => {
            let mut why = broken;
            if waited {
                why.push(format!(
                    "requests waited for one of {} connections (send lag p99 {}; {share:.1}% of the rate sent)",
                    report.connections,
                    time_us(lag_p99)
                ));
            } else if !delivered {
                why.push(format!("{share:.1}% of the rate sent"));
            }
            (Verdict::Fail, why.join("; "))
        }
        _ => (Verdict::Pass, String::new()),
    };
    let p = &report.latency_us;
    Step {
        rate,
        achieved_rps: achieved,
        throughput_rps: report.rps,
        latency_us: StepLatency {
            p50: p.p50,
            p90: p.p90,
            p99: p.p99,
            p99_9: p.p99_9,
            max: p.max,
        },
        errors: report.errors.by_kind.requests(),
        pass: verdict == Verdict::Pass,
        verdict,
        why,
        send_lag_p50_us: report.send_lag_us.map_or(0.0, |l| l.p50),
        generator_lag_p50_us: report.generator_lag_us.map_or(0.0, |l| l.p50),
        busiest_thread_cpu_pct: report.generator.busiest_thread_cpu_pct,
        target_cpu_us_per_req: report.target.as_ref().map(|t| t.cpu_us_per_request),
    }
}
