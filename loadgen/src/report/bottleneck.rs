//! Whether the figures describe the target or the load generator: a saturated loadgen
//! thread, or open-loop requests sent late, and whose fault the lateness was.

use super::Report;

/// Thread CPU above this share of the run means the generator itself was saturated.
const BUSY_THREAD: f64 = 0.9;
/// Open-loop send lag above this means the schedule was not kept; below it, it is
/// nobody's fault.
pub const LAG_LIMIT_US: f64 = 1_000.0;

impl Report {
    /// Say so when the figures describe the load generator rather than the target.
    pub(super) fn bottleneck_warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let busiest = self.generator.busiest_thread_cpu_pct;
        if busiest >= BUSY_THREAD * 100.0 {
            warnings.push(format!(
                "a loadgen thread was busy {busiest:.0}% of the run: the generator is probably \
                 the bottleneck, so these figures describe the load generator, not the target \
                 (add threads or cores)"
            ));
        }
        if let Some(lag) = self.late_sends() {
            warnings.push(lag.warning(self.connections));
        }
        warnings
    }

    /// Whether a loadgen thread was (nearly) never idle: it could not have done more.
    pub fn generator_saturated(&self) -> bool {
        self.generator.busiest_thread_saturation_pct >= BUSY_THREAD * 100.0
    }

    /// Open loop: why requests left late, when the median was more than 1 ms late. A
    /// saturated thread also reads responses late, which keeps connections from coming
    /// free: then the whole lag is the generator's.
    pub fn late_sends(&self) -> Option<LateSends> {
        let (total, generator) = (self.send_lag_us?, self.generator_lag_us?);
        if generator.p50 > LAG_LIMIT_US {
            Some(LateSends::Generator(generator.p50))
        } else if total.p50 > LAG_LIMIT_US && self.generator_saturated() {
            Some(LateSends::Generator(total.p50))
        } else if total.p50 > LAG_LIMIT_US {
            Some(LateSends::NoFreeConnection(total.p50))
        } else {
            None
        }
    }
}

/// Two kinds of open-loop send lag, with their median in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LateSends {
    /// A connection was free but loadgen's threads were busy: the generator is the limit.
    Generator(f64),
    /// Every connection already had a request in flight: the target is too slow for the
    /// offered rate, and the wait is rightly part of the response times.
    NoFreeConnection(f64),
}

impl LateSends {
    pub fn warning(self, connections: usize) -> String {
        match self {
            LateSends::Generator(p50) => format!(
                "median open-loop send lag is {:.2}ms (> 1ms) and loadgen was the cause (its \
                 threads were busy, or never idle): it could not keep the schedule, so these \
                 figures describe the load generator, not the target (add threads or cores)",
                p50 / 1_000.0
            ),
            LateSends::NoFreeConnection(p50) => format!(
                "requests waited a median {:.2}ms for a free connection: all {connections} had \
                 a request in flight, so the target is slower than the offered rate on {connections} \
                 connections; the wait counts in the response times, as a real client's would \
                 (add connections with -c to offer more concurrency)",
                p50 / 1_000.0
            ),
        }
    }
}
