//! Adding shards' reports into one: histograms add (so percentiles are those of the union
//! of all samples), counts add, rates are over the union of the recorded windows.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::read::Input;
use super::windows;
use crate::report::histograms::{ENCODING, EncodedHistograms, encode};
use crate::report::shards::ShardRow;
use crate::report::{
    ErrorCounts, Generator, Percentiles, Report, StageReport, TargetBreakdown, TargetReport, TlsReport,
};
use crate::start::StartTimes;

/// One report of the shards in `inputs` (at least one, checked to be of the same run).
pub fn combine(inputs: &[Input]) -> Report {
    let reports: Vec<&Report> = inputs.iter().map(|i| &i.report).collect();
    let first = reports[0];
    let sum = |f: &dyn Fn(&Report) -> u64| reports.iter().map(|r| f(r)).sum::<u64>();
    let fsum = |f: &dyn Fn(&Report) -> f64| reports.iter().map(|r| f(r)).sum::<f64>();
    let fmax = |f: &dyn Fn(&Report) -> f64| reports.iter().map(|r| f(r)).fold(0.0, f64::max);
    let latency = add(inputs.iter().map(|i| &i.report.latency));
    let service = add(inputs.iter().map(|i| &i.report.service));
    let connect = add(inputs.iter().map(|i| &i.connect));
    let send_lag = optional(inputs.iter().map(|i| i.send_lag.as_ref()));
    let generator_lag = optional(inputs.iter().map(|i| i.generator_lag.as_ref()));
    let targets: Vec<Histogram<u64>> = (0..first.targets.len())
        .map(|t| add(inputs.iter().map(|i| &i.targets[t])))
        .collect();
    let spans: Vec<(f64, f64)> = inputs
        .iter()
        .map(|i| (i.started(), i.started() + i.report.duration_s))
        .collect();
    let duration_s = windows::union(&spans);
    let per_s = |n: f64| n / duration_s.max(1e-9);
    let requests = sum(&|r| r.requests);
    let sent = sum(&|r| r.sent);
    let mut errors = first.errors.by_kind;
    for r in &reports[1..] {
        errors.merge(&r.errors.by_kind);
    }
    let cpu_s = fsum(&|r| r.generator.cpu_user_s + r.generator.cpu_system_s);
    let open = first.mode == "open";
    let mut hosts: Vec<&str> = Vec::new();
    for r in &reports {
        if !hosts.contains(&r.host.as_str()) {
            hosts.push(&r.host);
        }
    }
    let earliest = inputs.iter().map(Input::started).fold(f64::INFINITY, f64::min);
    Report {
        host: hosts.join(","),
        shard: None,
        start: Some(StartTimes {
            intended_unix_s: reports
                .iter()
                .filter_map(|r| r.start.map(|s| s.intended_unix_s))
                .fold(f64::INFINITY, f64::min),
            actual_unix_s: earliest,
            start_at: reports.iter().all(|r| r.start.is_some_and(|s| s.start_at)),
        }),
        url: first.url.clone(),
        method: first.method.clone(),
        mode: first.mode,
        threads: sum(&|r| r.threads as u64) as usize,
        connections: sum(&|r| r.connections as u64) as usize,
        pipeline: first.pipeline,
        duration_s,
        drain_s: fmax(&|r| r.drain_s),
        warmup_s: fmax(&|r| r.warmup_s),
        requests,
        sent,
        incomplete: sum(&|r| r.incomplete),
        rps: per_s(requests as f64),
        bytes_read: sum(&|r| r.bytes_read),
        bytes_per_s: per_s(sum(&|r| r.bytes_read) as f64),
        errors: ErrorCounts {
            by_kind: errors,
            total: errors.total(),
        },
        status: add_counts(reports.iter().map(|r| &r.status)),
        status_class: add_counts(reports.iter().map(|r| &r.status_class)),
        latency_us: Percentiles::of(&latency),
        rate_target: open.then(|| fsum(&|r| r.rate_target.unwrap_or(0.0))),
        stages: first
            .stages
            .iter()
            .enumerate()
            .map(|(i, stage)| StageReport {
                duration_s: stage.duration_s,
                rate: fsum(&|r| r.stages.get(i).map_or(0.0, |s| s.rate)),
            })
            .collect(),
        rate_achieved: open.then(|| per_s(sent as f64)),
        service_time_us: open.then(|| Percentiles::of(&service)),
        send_lag_us: send_lag.as_ref().map(Percentiles::of),
        generator_lag_us: generator_lag.as_ref().map(Percentiles::of),
        backlog: open.then(|| sum(&|r| r.backlog.unwrap_or(0))),
        connections_opened: sum(&|r| r.connections_opened),
        // Every shard's connections open: the last shard's moment (from its own start).
        all_open_s: reports
            .iter()
            .try_fold(0f64, |last, r| r.all_open_s.map(|s| last.max(s))),
        connect_us: Percentiles::of(&connect),
        tls: first.tls.as_ref().map(|tls| TlsReport {
            version: tls.version.clone(),
            cipher: tls.cipher.clone(),
            handshakes: sum(&|r| r.tls.as_ref().map_or(0, |t| t.handshakes)),
            resumed: sum(&|r| r.tls.as_ref().map_or(0, |t| t.resumed)),
        }),
        generator: Generator {
            cpu_user_s: fsum(&|r| r.generator.cpu_user_s),
            cpu_system_s: fsum(&|r| r.generator.cpu_system_s),
            cpu_us_per_request: match requests {
                0 => 0.0,
                n => cpu_s * 1e6 / n as f64,
            },
            busiest_thread_cpu_pct: fmax(&|r| r.generator.busiest_thread_cpu_pct),
            busiest_thread_saturation_pct: fmax(&|r| r.generator.busiest_thread_saturation_pct),
        },
        target: target(&reports, requests),
        targets: first
            .targets
            .iter()
            .zip(&targets)
            .enumerate()
            .map(|(t, (breakdown, histogram))| {
                let percentiles = Percentiles::of(histogram);
                TargetBreakdown {
                    name: breakdown.name.clone(),
                    requests: sum(&|r| r.targets[t].requests),
                    errors: sum(&|r| r.targets[t].errors),
                    p50_us: percentiles.p50,
                    p99_us: percentiles.p99,
                }
            })
            .collect(),
        warnings: Vec::new(),
        timeline: windows::timeline(inputs, earliest),
        histograms: EncodedHistograms {
            encoding: ENCODING,
            unit: first.histograms.unit,
            response: encode(&latency),
            service: open.then(|| encode(&service)),
            send_lag: send_lag.as_ref().map(encode),
            generator_lag: generator_lag.as_ref().map(encode),
            connect: encode(&connect),
            targets: targets.iter().map(encode).collect(),
        },
        shards: inputs.iter().map(|i| row(i, earliest)).collect(),
        latency,
        service,
        intervals: None,
    }
}

/// The target's CPU, when every shard that measured it measured the same processes on the
/// same host (shards beside one server): the longest window's, over all the responses.
fn target(reports: &[&Report], requests: u64) -> Option<TargetReport> {
    let measured: Vec<(&str, &TargetReport)> = reports
        .iter()
        .filter_map(|r| r.target.as_ref().map(|t| (r.host.as_str(), t)))
        .collect();
    let (host, first) = measured.first()?;
    if measured.iter().any(|(h, t)| h != host || t.pids != first.pids) {
        return None;
    }
    let widest = measured
        .iter()
        .map(|(_, t)| t)
        .max_by(|a, b| a.cpu_s.total_cmp(&b.cpu_s))?;
    Some(TargetReport {
        cpu_us_per_request: match requests {
            0 => 0.0,
            n => widest.cpu_s * 1e6 / n as f64,
        },
        ..(*widest).clone()
    })
}

fn row(input: &Input, earliest: f64) -> ShardRow {
    let r = &input.report;
    ShardRow {
        shard: r
            .shard
            .as_ref()
            .map_or("1/1".to_string(), |s| s.shard.to_string()),
        host: r.host.clone(),
        start_skew_ms: (input.started() - earliest) * 1e3,
        start_late_ms: r.start.map_or(0.0, |s| s.late_ms()),
        duration_s: r.duration_s,
        requests: r.requests,
        rps: r.rps,
        p99_us: r.latency_us.p99,
        generator_cpu_us_per_request: r.generator.cpu_us_per_request,
        busiest_thread_cpu_pct: r.generator.busiest_thread_cpu_pct,
        warnings: match r.requests {
            // It ran but measured nothing of the target: as good as failed.
            0 => [format!("no responses ({} errors)", r.errors.total)]
                .into_iter()
                .chain(r.warnings.iter().cloned())
                .collect(),
            _ => r.warnings.clone(),
        },
    }
}

/// The sum of histograms of one kind (same precision: written by the same code).
fn add<'a>(histograms: impl Iterator<Item = &'a Histogram<u64>>) -> Histogram<u64> {
    let mut histograms = histograms;
    let mut total = histograms
        .next()
        .cloned()
        .unwrap_or_else(|| Histogram::new(crate::stats::SIGFIGS).expect("constant precision is valid"));
    for h in histograms {
        // Auto-resizing histograms of one precision: adding cannot fail.
        let _ = total.add(h);
    }
    total
}

fn optional<'a>(histograms: impl Iterator<Item = Option<&'a Histogram<u64>>>) -> Option<Histogram<u64>> {
    let all: Option<Vec<&Histogram<u64>>> = histograms.collect();
    all.map(|all| add(all.into_iter()))
}

fn add_counts<'a>(maps: impl Iterator<Item = &'a BTreeMap<String, u64>>) -> BTreeMap<String, u64> {
    let mut total = BTreeMap::new();
    for map in maps {
        for (key, n) in map {
            *total.entry(key.clone()).or_insert(0) += n;
        }
    }
    total
}
