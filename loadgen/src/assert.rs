//! `--assert EXPR`: `METRIC OP VALUE[UNIT]` checked against the finished report. Parsed
//! (and checked against the run's settings) before the run starts, so a typo is a usage
//! error, never an assertion that is silently true.

use crate::config::{Config, UsageError};
use crate::metric::{Kind, Metric, NAMES};
use crate::report::Report;

const FLAG: &str = "--assert";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    /// Longest first, so `<=` is not read as `<`.
    const ALL: [(&'static str, Op); 6] = [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];

    fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Op::Lt => left < right,
            Op::Le => left <= right,
            Op::Gt => left > right,
            Op::Ge => left >= right,
            Op::Eq => left == right,
            Op::Ne => left != right,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    /// As written, spaces removed.
    pub text: String,
    pub name: String,
    pub metric: Metric,
    pub op: Op,
    /// Microseconds for time metrics.
    pub value: f64,
}

/// The result of one assertion after the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub passed: bool,
    /// e.g. `assert p99<2ms: ok (p99 = 1.07ms)`.
    pub line: String,
}

impl Assertion {
    pub fn parse(expr: &str) -> Result<Assertion, UsageError> {
        let text: String = expr.chars().filter(|c| !c.is_whitespace()).collect();
        let bad = |why: String| UsageError::new(FLAG, format!("'{expr}': {why}"));
        let name_end = text
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .ok_or_else(|| bad("expected METRIC OP VALUE, e.g. 'p99 < 2ms'".into()))?;
        let (name, rest) = text.split_at(name_end);
        let metric =
            Metric::parse(name).ok_or_else(|| bad(format!("unknown metric '{name}' (known: {NAMES})")))?;
        let (op, value) = Op::ALL
            .iter()
            .find_map(|(symbol, op)| rest.strip_prefix(symbol).map(|v| (*op, v)))
            .ok_or_else(|| bad("expected an operator: < <= > >= == !=".into()))?;
        let number_end = value
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(value.len());
        let (number, unit) = value.split_at(number_end);
        let number: f64 = number
            .parse()
            .map_err(|_| bad(format!("'{value}' does not start with a number")))?;
        let value = match (metric.kind(), unit) {
            (Kind::Time, "") => {
                return Err(bad(format!("'{name}' is a time: give a unit (ns, us, ms, s)")));
            }
            (Kind::Time, unit) => {
                number
                    * unit_us(unit)
                        .ok_or_else(|| bad(format!("unknown time unit '{unit}' (ns, us, ms, s)")))?
            }
            (Kind::Number, "") => number,
            (Kind::Number, unit) => {
                return Err(bad(format!("'{name}' is not a time: drop the unit '{unit}'")));
            }
            (Kind::Percent, "%") => number,
            (Kind::Percent, _) => {
                return Err(bad(format!("'{name}' is a share: give it in percent, e.g. 0.1%")));
            }
        };
        Ok(Assertion {
            name: name.to_string(),
            text,
            metric,
            op,
            value,
        })
    }

    /// Refuse assertions the run cannot answer.
    pub fn check_against(&self, config: &Config) -> Result<(), UsageError> {
        let why = match self.metric {
            Metric::Service(_) if config.open_loop_rate().is_none() => {
                "service time exists in open loop only (-R or --stages)"
            }
            Metric::TargetCpuUsPerReq if config.server_pids.is_empty() => "needs --server-pid",
            _ => return Ok(()),
        };
        Err(UsageError::new(FLAG, format!("'{}': {why}", self.text)))
    }

    pub fn evaluate(&self, report: &Report) -> Checked {
        let Some(actual) = self.metric.of_report(report) else {
            return Checked {
                passed: false,
                line: format!("assert {}: FAILED ({} was not measured)", self.text, self.name),
            };
        };
        let passed = self.op.holds(actual, self.value);
        let verdict = if passed { "ok" } else { "FAILED" };
        Checked {
            passed,
            line: format!(
                "assert {}: {verdict} ({} = {})",
                self.text,
                self.name,
                self.metric.format(actual)
            ),
        }
    }
}

fn unit_us(unit: &str) -> Option<f64> {
    Some(match unit {
        "ns" => 0.001,
        "us" | "µs" => 1.0,
        "ms" => 1_000.0,
        "s" => 1_000_000.0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::Stat;

    #[test]
    fn parses_with_and_without_spaces() {
        let a = Assertion::parse(" p99.9 <= 2.5ms ").unwrap();
        assert_eq!(a.metric, Metric::Latency(Stat::Percentile(99.9)));
        assert_eq!(
            (a.op, a.value, a.text.as_str()),
            (Op::Le, 2_500.0, "p99.9<=2.5ms")
        );
        let a = Assertion::parse("errors==0").unwrap();
        assert_eq!((a.metric, a.op, a.value), (Metric::Errors, Op::Eq, 0.0));
        assert_eq!(Assertion::parse("rps > 1000").unwrap().op, Op::Gt);
        assert_eq!(Assertion::parse("mean != 3s").unwrap().value, 3_000_000.0);
        assert_eq!(Assertion::parse("min>=500ns").unwrap().value, 0.5);
        let a = Assertion::parse("error_rate < 0.1%").unwrap();
        assert_eq!((a.metric, a.op, a.value), (Metric::ErrorRate, Op::Lt, 0.1));
    }

    #[test]
    fn rejects_what_it_cannot_check() {
        for bad in [
            "p99 < 2",        // time without unit
            "errors < 2ms",   // count with a unit
            "p99 < 2 days",   // unknown unit
            "error_rate < 1", // a share without %
            "error_rate < 1ms",
            "latency < 2ms", // unknown metric
            "p99 =< 2ms",    // unknown operator
            "p99 = 2ms",     // unknown operator
            "p99 <",         // no value
            "p99 < -1ms",    // not a number
            "< 2ms",         // no metric
            "",
        ] {
            let error = Assertion::parse(bad).unwrap_err();
            assert_eq!(error.flag, FLAG, "{bad}");
        }
    }

    #[test]
    fn refuses_metrics_the_run_does_not_measure() {
        let config = Config::new("http://127.0.0.1:1/");
        let service = Assertion::parse("service_p99 < 1ms").unwrap();
        assert!(service.check_against(&config).is_err());
        let target = Assertion::parse("target_cpu_us_per_req < 10").unwrap();
        assert!(target.check_against(&config).is_err());
        let mut open = config.clone();
        open.rate = Some(10.0);
        assert!(service.check_against(&open).is_ok());
    }
}
