//! Reading a shard's JSON report back, histograms decoded, with errors that name the file.

use std::path::Path;

use hdrhistogram::Histogram;

use crate::report::Report;
use crate::report::histograms::decode;

/// A report as written by `--json`, its histograms decoded, and the file it came from.
pub struct Input {
    pub path: String,
    /// With `latency` and `service` filled in from `histograms`.
    pub report: Report,
    pub connect: Histogram<u64>,
    pub send_lag: Option<Histogram<u64>>,
    pub generator_lag: Option<Histogram<u64>>,
    /// Per target name, in the breakdown's order.
    pub targets: Vec<Histogram<u64>>,
}

impl Input {
    /// When this shard's recorded phase began (wall clock, seconds since the epoch).
    pub fn started(&self) -> f64 {
        self.report.start.map_or(0.0, |s| s.actual_unix_s)
    }
}

/// Read and decode `path`; every failure says which file and what is wrong with it.
pub fn read(path: &Path) -> Result<Input, String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
    let mut report: Report = serde_json::from_str(&text)
        .map_err(|e| format!("{name}: not a loadgen JSON report with histograms: {e}"))?;
    if report.start.is_none() {
        return Err(format!(
            "{name}: the report has no start time (written by a loadgen older than --start-at)"
        ));
    }
    let h = &report.histograms;
    let decode = |what: &str, text: &str| decode(text).map_err(|e| format!("{name}: histograms.{what}: {e}"));
    let optional = |what: &str, text: &Option<String>| text.as_deref().map(|t| decode(what, t)).transpose();
    let latency = decode("response", &h.response)?;
    let service = optional("service", &h.service)?;
    let connect = decode("connect", &h.connect)?;
    let send_lag = optional("send_lag", &h.send_lag)?;
    let generator_lag = optional("generator_lag", &h.generator_lag)?;
    let targets = h
        .targets
        .iter()
        .map(|t| decode("targets", t))
        .collect::<Result<Vec<_>, _>>()?;
    if targets.len() != report.targets.len() {
        return Err(format!(
            "{name}: {} target histograms for {} targets",
            targets.len(),
            report.targets.len()
        ));
    }
    report.latency = latency;
    if let Some(service) = service {
        report.service = service;
    }
    Ok(Input {
        path: name,
        report,
        connect,
        send_lag,
        generator_lag,
        targets,
    })
}
