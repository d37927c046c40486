//! Bencher Metric Format (`--bmf`): `{"<name>": {"latency": {...}, "throughput": {...}}}`
//! for `bencher run --adapter json`.
//!
//! Mapping (Bencher's built-in measures): `latency` is in nanoseconds: `value` = response
//! time p50, `lower_value` = min, `upper_value` = p99 (the band a regression check cares
//! about in a load test); `throughput` is operations per second: `value` = requests/s.

use serde_json::{Value, json};

use super::Report;

/// The benchmark name unless `--bmf-name` gives one: `METHOD path` of the URL, or for a
/// `--targets` mix `MIX` and the targets file's name.
pub fn default_name(report: &Report) -> String {
    if !report.targets.is_empty() {
        let file = std::path::Path::new(&report.url).file_name();
        return format!(
            "MIX {}",
            file.map_or(report.url.as_str().into(), |f| f.to_string_lossy())
        );
    }
    let path = crate::Url::parse(&report.url).map_or_else(|_| "/".to_string(), |t| t.path);
    format!("{} {path}", report.method)
}

pub fn render(report: &Report, name: &str) -> Value {
    // Straight from the nanosecond histogram, so the values are whole nanoseconds.
    let h = &report.latency;
    let (p50, min, p99) = if h.is_empty() {
        (0, 0, 0)
    } else {
        (h.value_at_quantile(0.5), h.min(), h.value_at_quantile(0.99))
    };
    json!({
        name: {
            "latency": { "value": p50, "lower_value": min, "upper_value": p99 },
            "throughput": { "value": report.rps },
        }
    })
}
