//! The reports a comparison is made of: reading them, refusing reports that did not measure
//! the same thing, and drawing each metric's samples out of them — per second from the
//! report's timeline where it has the metric, otherwise one value per report.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::metric::{Metric, Stat};

/// Seconds shorter than this (a run's last sliver, while in-flight requests drained) are
/// left out: a few responses are no measure of a second.
const MIN_SECOND_S: f64 = 0.5;

/// One side's reports, in the order given.
pub struct Side {
    pub files: Vec<PathBuf>,
    pub reports: Vec<Value>,
}

/// What one sample is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A second of a run (from the timeline).
    Seconds,
    /// A whole run (the report's own figure).
    Runs,
}

pub fn read_side(files: &[PathBuf]) -> Result<Side, String> {
    let reports = files.iter().map(|f| read_report(f)).collect::<Result<_, _>>()?;
    Ok(Side {
        files: files.to_vec(),
        reports,
    })
}

fn read_report(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
    let json: Value =
        serde_json::from_str(&text).map_err(|e| format!("'{}' is not valid JSON: {e}", path.display()))?;
    if json.get("latency_us").is_none() || json.get("rps").is_none() {
        return Err(format!(
            "'{}' is not a loadgen JSON report (written by --json)",
            path.display()
        ));
    }
    Ok(json)
}

/// What must be the same for two reports to be compared: the request (method, path; the
/// host and port may differ, e.g. two builds or our server and nginx on two ports) and the
/// load's shape.
fn identity(report: &Value) -> [(&'static str, String); 6] {
    let text = |key: &str| match report.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "none".to_string(),
        Some(other) => other.to_string(),
    };
    [
        ("method", text("method")),
        ("path", path_of(&text("url"))),
        ("mode", text("mode")),
        ("connections", text("connections")),
        ("pipeline", text("pipeline")),
        ("rate", text("rate_target")),
    ]
}

/// `http://host:port/p?q` → `/p?q`; anything else (a `--targets` file name) as it is.
fn path_of(url: &str) -> String {
    match url.split_once("://") {
        Some((_, rest)) => match rest.find('/') {
            Some(i) => rest[i..].to_string(),
            None => "/".to_string(),
        },
        None => url.to_string(),
    }
}

/// Every report on both sides measured the same target the same way, or an error naming
/// the first difference and the two files.
pub fn check_same_target(base: &Side, new: &Side) -> Result<(), String> {
    let first = (&base.files[0], identity(&base.reports[0]));
    let others = base
        .files
        .iter()
        .zip(&base.reports)
        .chain(new.files.iter().zip(&new.reports));
    for (file, report) in others {
        for ((field, want), (_, got)) in first.1.iter().zip(identity(report)) {
            if *want != got {
                return Err(format!(
                    "reports of different targets cannot be compared: '{}' has {field} {want}, '{}' has {field} {got}",
                    first.0.display(),
                    file.display()
                ));
            }
        }
    }
    Ok(())
}

/// The timeline field holding `metric` per second, if it has one.
fn per_second(metric: Metric) -> Option<&'static str> {
    Some(match metric {
        Metric::Rps => "rps",
        Metric::Latency(Stat::Percentile(50.0)) => "p50_us",
        Metric::Latency(Stat::Percentile(99.0)) => "p99_us",
        Metric::Errors => "errors",
        Metric::TargetCpuUsPerReq => "target_cpu_us_per_req",
        _ => return None,
    })
}

/// `metric`'s samples, one list per report: its seconds when every report's timeline has
/// them, else one value per report; an error when a report lacks the metric altogether.
pub fn rounds(metric: Metric, name: &str, side: &Side, which: &str) -> Result<(Vec<Vec<f64>>, Unit), String> {
    if let Some(field) = per_second(metric) {
        let seconds: Vec<Vec<f64>> = side.reports.iter().map(|r| seconds_of(r, field)).collect();
        if seconds.iter().all(|s| !s.is_empty()) {
            return Ok((seconds, Unit::Seconds));
        }
    }
    Ok((rounds_by_run(metric, name, side, which)?, Unit::Runs))
}

/// `metric` as each report gives it for the whole run: one sample per report.
pub fn rounds_by_run(metric: Metric, name: &str, side: &Side, which: &str) -> Result<Vec<Vec<f64>>, String> {
    side.files
        .iter()
        .zip(&side.reports)
        .map(|(file, report)| {
            metric.of_json(report).map(|v| vec![v]).ok_or_else(|| {
                format!(
                    "--metric: '{name}' is not in the {which} report '{}'",
                    file.display()
                )
            })
        })
        .collect()
}

/// A timeline field's values over the report's full seconds. Errors become a rate (per
/// second); latency and CPU per request are left out of seconds without a response.
fn seconds_of(report: &Value, field: &str) -> Vec<f64> {
    let Some(timeline) = report.get("timeline").and_then(Value::as_array) else {
        return Vec::new();
    };
    timeline
        .iter()
        .filter_map(|second| {
            let number = |key: &str| second.get(key).and_then(Value::as_f64);
            let length = number("length_s")?;
            if length < MIN_SECOND_S {
                return None;
            }
            let value = number(field)?;
            match field {
                "errors" => Some(value / length),
                "rps" => Some(value),
                _ => (number("rps")? > 0.0).then_some(value),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn side(reports: Vec<Value>) -> Side {
        let files = (0..reports.len())
            .map(|i| PathBuf::from(format!("r{i}.json")))
            .collect();
        Side { files, reports }
    }

    fn report(url: &str, connections: u64) -> Value {
        json!({
            "url": url, "method": "GET", "mode": "closed", "connections": connections, "pipeline": 1,
            "rps": 10.0, "latency_us": {"p50": 5.0, "p99": 9.0},
            "errors": {"read": 0, "write": 0, "timeout": 0, "parse": 0},
            "timeline": [
                {"t": 0, "length_s": 1.0, "rps": 10.0, "errors": 2, "p50_us": 4.0, "p99_us": 8.0},
                {"t": 1, "length_s": 1.0, "rps": 0.0, "errors": 0, "p50_us": 0.0, "p99_us": 0.0},
                {"t": 2, "length_s": 0.01, "rps": 300.0, "errors": 0, "p50_us": 7.0, "p99_us": 7.0}
            ]
        })
    }

    #[test]
    fn other_ports_compare_other_targets_do_not() {
        let ours = side(vec![report("http://127.0.0.1:1000/plaintext", 64)]);
        let nginx = side(vec![report("http://127.0.0.1:2000/plaintext", 64)]);
        assert_eq!(check_same_target(&ours, &nginx), Ok(()));
        let json = side(vec![report("http://127.0.0.1:1000/json", 64)]);
        let err = check_same_target(&ours, &json).unwrap_err();
        assert!(
            err.contains("path /plaintext") && err.contains("path /json"),
            "{err}"
        );
        let more = side(vec![report("http://127.0.0.1:1000/plaintext", 128)]);
        assert!(
            check_same_target(&ours, &more)
                .unwrap_err()
                .contains("connections 64")
        );
    }

    #[test]
    fn seconds_from_the_timeline_runs_from_the_report() {
        let s = side(vec![report("http://h/", 1), report("http://h/", 1)]);
        let get = |name: &str| rounds(Metric::parse(name).unwrap(), name, &s, "base").unwrap();
        assert_eq!(get("rps"), (vec![vec![10.0, 0.0]; 2], Unit::Seconds));
        assert_eq!(get("p99"), (vec![vec![8.0]; 2], Unit::Seconds));
        assert_eq!(get("errors"), (vec![vec![2.0, 0.0]; 2], Unit::Seconds));
        assert_eq!(get("p50").1, Unit::Seconds);
        // Not per second: the report's own figure, or an error naming the file without it.
        let p999 = Metric::parse("p99.9").unwrap();
        assert!(
            rounds(p999, "p99.9", &s, "base")
                .unwrap_err()
                .contains("'r0.json'")
        );
        let mut with = report("http://h/", 1);
        with["latency_us"]["p99_9"] = json!(12.0);
        assert_eq!(
            rounds(p999, "p99.9", &side(vec![with]), "base").unwrap(),
            (vec![vec![12.0]], Unit::Runs)
        );
    }
}
