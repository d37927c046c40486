//! Named report figures shared by `--assert` and `loadgen compare`: how a name parses,
//! what unit it takes, which direction is better, and where its value comes from (a
//! finished [`Report`] or a JSON report read back from disk).

use serde_json::Value;

use crate::report::units::time_us;
use crate::report::{Percentiles, Report};

/// What a latency metric summarises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    /// Percentile in (0, 100].
    Percentile(f64),
    Mean,
    Min,
    Max,
    Stdev,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// Response time.
    Latency(Stat),
    /// Service time (open loop only).
    Service(Stat),
    Rps,
    Requests,
    /// Failed requests (read, write, timeout, parse; not connection attempts).
    Errors,
    Timeouts,
    /// Responses with a status outside 200-299.
    Non2xx,
    /// Failed requests as a share of requests that ended (answered or failed), in percent.
    ErrorRate,
    Incomplete,
    TargetCpuUsPerReq,
    GeneratorCpuUsPerReq,
}

/// How a metric's value reads and compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Microseconds; written with a time unit.
    Time,
    /// A plain number (count, rate, CPU-us per request).
    Number,
    /// A share in percent; written with `%`.
    Percent,
}

/// Names listed in error messages.
pub const NAMES: &str = "p50 p75 p90 p99 p99.9 p99.99 (any pN), max mean min stdev, \
    service_p50 ... service_stdev, rps, requests, errors, timeouts, non2xx, error_rate (%), \
    incomplete, target_cpu_us_per_req, generator_cpu_us_per_req";

impl Metric {
    pub fn parse(name: &str) -> Option<Metric> {
        if let Some(stat) = name.strip_prefix("service_").and_then(parse_stat) {
            return Some(Metric::Service(stat));
        }
        if let Some(stat) = parse_stat(name) {
            return Some(Metric::Latency(stat));
        }
        Some(match name {
            "rps" => Metric::Rps,
            "requests" => Metric::Requests,
            "errors" => Metric::Errors,
            "timeouts" => Metric::Timeouts,
            "non2xx" => Metric::Non2xx,
            "error_rate" => Metric::ErrorRate,
            "incomplete" => Metric::Incomplete,
            "target_cpu_us_per_req" => Metric::TargetCpuUsPerReq,
            "generator_cpu_us_per_req" => Metric::GeneratorCpuUsPerReq,
            _ => return None,
        })
    }

    pub fn kind(self) -> Kind {
        match self {
            Metric::Latency(_) | Metric::Service(_) => Kind::Time,
            Metric::ErrorRate => Kind::Percent,
            _ => Kind::Number,
        }
    }

    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::Rps | Metric::Requests)
    }

    /// Value in a finished run (time metrics in microseconds); `None` when the run has no
    /// such figure (service time in closed loop, target CPU without `--server-pid`).
    pub fn of_report(self, report: &Report) -> Option<f64> {
        let stat = |s: Stat, p: &Percentiles, h: &hdrhistogram::Histogram<u64>| match s {
            Stat::Percentile(_) if h.is_empty() => Some(0.0),
            Stat::Percentile(q) => Some(h.value_at_quantile(q / 100.0) as f64 / 1_000.0),
            Stat::Mean => Some(p.mean),
            Stat::Min => Some(p.min),
            Stat::Max => Some(p.max),
            Stat::Stdev => Some(p.stdev),
        };
        match self {
            Metric::Latency(s) => stat(s, &report.latency_us, &report.latency),
            Metric::Service(s) => stat(s, report.service_time_us.as_ref()?, &report.service),
            Metric::Rps => Some(report.rps),
            Metric::Requests => Some(report.requests as f64),
            Metric::Errors => Some(report.errors.by_kind.requests() as f64),
            Metric::Timeouts => Some(report.errors.by_kind.timeout as f64),
            Metric::Non2xx => Some(non_2xx(report.requests, report.status_class.get("2xx").copied())),
            Metric::ErrorRate => Some(error_rate(
                report.requests as f64,
                report.errors.by_kind.requests() as f64,
            )),
            Metric::Incomplete => Some(report.incomplete as f64),
            Metric::TargetCpuUsPerReq => report.target.as_ref().map(|t| t.cpu_us_per_request),
            Metric::GeneratorCpuUsPerReq => Some(report.generator.cpu_us_per_request),
        }
    }

    /// Value in a JSON report written by `--json`; `None` when the file lacks it (only the
    /// percentiles the JSON report holds are available here).
    pub fn of_json(self, json: &Value) -> Option<f64> {
        let number = |path: &[&str]| {
            path.iter()
                .try_fold(json, |v, key| v.get(key))
                .and_then(Value::as_f64)
        };
        let stat = |section: &str, s: Stat| {
            let key = match s {
                Stat::Percentile(q) => percentile_key(q)?,
                Stat::Mean => "mean",
                Stat::Min => "min",
                Stat::Max => "max",
                Stat::Stdev => "stdev",
            };
            number(&[section, key])
        };
        match self {
            Metric::Latency(s) => stat("latency_us", s),
            Metric::Service(s) => stat("service_time_us", s),
            Metric::Rps => number(&["rps"]),
            Metric::Requests => number(&["requests"]),
            Metric::Errors => ["read", "write", "timeout", "parse"]
                .iter()
                .map(|k| number(&["errors", k]))
                .sum(),
            Metric::Timeouts => number(&["errors", "timeout"]),
            Metric::Non2xx => {
                let two = json
                    .get("status_class")
                    .map(|c| c.get("2xx").and_then(Value::as_u64));
                Some(non_2xx(number(&["requests"])? as u64, two?))
            }
            Metric::ErrorRate => Some(error_rate(number(&["requests"])?, Metric::Errors.of_json(json)?)),
            Metric::Incomplete => number(&["incomplete"]),
            Metric::TargetCpuUsPerReq => number(&["target", "cpu_us_per_request"]),
            Metric::GeneratorCpuUsPerReq => number(&["generator", "cpu_us_per_request"]),
        }
    }

    /// Human form of a value: times with adaptive units, counts as integers.
    pub fn format(self, value: f64) -> String {
        match self {
            _ if self.kind() == Kind::Time => time_us(value),
            Metric::Rps => format!("{value:.2}"),
            Metric::TargetCpuUsPerReq | Metric::GeneratorCpuUsPerReq => format!("{value:.2}us"),
            Metric::ErrorRate => format!("{value:.3}%"),
            _ => format!("{value:.0}"),
        }
    }
}

/// Failed requests per request that ended, in percent (0 when nothing ended).
fn error_rate(responses: f64, failed: f64) -> f64 {
    match responses + failed {
        0.0 => 0.0,
        ended => failed / ended * 100.0,
    }
}

fn non_2xx(requests: u64, two_xx: Option<u64>) -> f64 {
    requests.saturating_sub(two_xx.unwrap_or(0)) as f64
}

/// `p99.9` → Percentile(99.9); `max`, `mean`, `min`, `stdev`.
fn parse_stat(name: &str) -> Option<Stat> {
    match name {
        "mean" => return Some(Stat::Mean),
        "min" => return Some(Stat::Min),
        "max" => return Some(Stat::Max),
        "stdev" => return Some(Stat::Stdev),
        _ => {}
    }
    let digits = name.strip_prefix('p')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let q: f64 = digits.parse().ok()?;
    (q > 0.0 && q <= 100.0).then_some(Stat::Percentile(q))
}

/// The JSON report's key for a percentile, for the ones it holds.
fn percentile_key(q: f64) -> Option<&'static str> {
    [
        (50.0, "p50"),
        (75.0, "p75"),
        (90.0, "p90"),
        (99.0, "p99"),
        (99.9, "p99_9"),
        (99.99, "p99_99"),
        (100.0, "max"),
    ]
    .into_iter()
    .find(|(p, _)| *p == q)
    .map(|(_, key)| key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        assert_eq!(
            Metric::parse("p99.9"),
            Some(Metric::Latency(Stat::Percentile(99.9)))
        );
        assert_eq!(
            Metric::parse("service_p50"),
            Some(Metric::Service(Stat::Percentile(50.0)))
        );
        assert_eq!(Metric::parse("service_max"), Some(Metric::Service(Stat::Max)));
        assert_eq!(Metric::parse("non2xx"), Some(Metric::Non2xx));
        for bad in ["p", "p0", "p101", "p9x", "latency", "service_rps", "P99", ""] {
            assert_eq!(Metric::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn reads_json_reports() {
        let json: Value = serde_json::from_str(
            r#"{"rps": 10.5, "requests": 100, "incomplete": 1,
                "errors": {"connect": 7, "read": 1, "write": 0, "timeout": 2, "parse": 0, "total": 10},
                "status_class": {"2xx": 90, "5xx": 10},
                "latency_us": {"p99_9": 1500.0, "mean": 3.0}}"#,
        )
        .unwrap();
        let of = |name: &str| Metric::parse(name).unwrap().of_json(&json);
        assert_eq!(of("rps"), Some(10.5));
        assert_eq!(of("errors"), Some(3.0));
        assert_eq!(of("timeouts"), Some(2.0));
        assert_eq!(of("non2xx"), Some(10.0));
        assert_eq!(of("error_rate"), Some(3.0 / 103.0 * 100.0));
        assert_eq!(of("p99.9"), Some(1500.0));
        assert_eq!(of("p95"), None);
        assert_eq!(of("service_p50"), None);
        assert_eq!(of("target_cpu_us_per_req"), None);
    }
}
