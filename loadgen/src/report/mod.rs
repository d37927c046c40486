//! The end-of-run report: one struct holding every figure (serialised as the JSON report)
//! plus the merged histograms, built from the threads' merged stats.

pub mod bars;
pub mod bmf;
mod bottleneck;
pub mod hgrm;
pub mod histograms;
pub mod hlog;
pub mod output;
pub mod shards;
pub mod svg;
pub mod text;
pub mod timechart;
pub mod timeline;
pub mod units;

use std::collections::BTreeMap;

use crate::tls::Negotiated;

pub use bottleneck::{LAG_LIMIT_US, LateSends};

use hdrhistogram::Histogram;
use serde::{Deserialize, Deserializer, Serialize};

use crate::config::Config;
use crate::intervals::Intervals;
use crate::server_cpu::ServerCpu;
use crate::shard::Sharding;
use crate::start::StartTimes;
use crate::stats::{Errors, Stats};
use oscalls::cpu::CpuTime;

/// Latency summary in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub min: f64,
    pub mean: f64,
    pub stdev: f64,
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
    pub p99: f64,
    pub p99_9: f64,
    pub p99_99: f64,
    pub max: f64,
}

impl Percentiles {
    /// From a nanosecond histogram.
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        if h.is_empty() {
            return Percentiles::default();
        }
        let us = |ns: u64| ns as f64 / 1_000.0;
        let q = |quantile: f64| us(h.value_at_quantile(quantile));
        Percentiles {
            min: us(h.min()),
            mean: h.mean() / 1_000.0,
            stdev: h.stdev() / 1_000.0,
            p50: q(0.5),
            p75: q(0.75),
            p90: q(0.9),
            p99: q(0.99),
            p99_9: q(0.999),
            p99_99: q(0.9999),
            max: us(h.max()),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorCounts {
    #[serde(flatten)]
    pub by_kind: Errors,
    pub total: u64,
}

/// The load generator's own cost over the recorded phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Generator {
    pub cpu_user_s: f64,
    pub cpu_system_s: f64,
    pub cpu_us_per_request: f64,
    /// CPU of the busiest thread as a share of the run (100 = one full core).
    pub busiest_thread_cpu_pct: f64,
    /// Share of the run the most saturated thread was not waiting for events (working, or
    /// ready but not given a CPU): near 100 it could not have done more.
    pub busiest_thread_saturation_pct: f64,
}

/// The target server's cost over the recorded phase (`--server-pid`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TargetReport {
    pub pids: Vec<u32>,
    /// User + system CPU of the processes and their descendants.
    pub cpu_s: f64,
    /// `cpu_s` as a share of the sampling window (100 = one full core).
    pub cpu_util_pct: f64,
    pub cpu_us_per_request: f64,
}

/// The target's CPU and the wall-clock window it was sampled over.
pub struct TargetWindow {
    pub cpu: ServerCpu,
    pub window_s: f64,
    /// (time from the start of recording in ns, CPU seconds so far) at each sample.
    pub marks: Vec<(u64, f64)>,
}

/// What the threads handed back, before it is turned into a report.
pub struct RunTotals {
    pub stats: Stats,
    pub threads: usize,
    /// From the start of recording until the last thread stopped sending.
    pub duration_s: f64,
    /// After that, until the last request in flight was answered, failed or given up.
    pub drain_s: f64,
    pub incomplete: u64,
    pub backlog: u64,
    pub cpu: CpuTime,
    pub busiest_thread_cpu_ns: u64,
    /// The highest share (0-1) of the window a thread spent outside poll.
    pub busiest_thread_saturation: f64,
    /// Per-second figures (and histograms when asked for, for `--hlog`).
    pub intervals: Option<Intervals>,
    pub target: Option<TargetWindow>,
    /// With https: what the handshake before the run agreed on.
    pub tls: Option<Negotiated>,
    /// From the start of the run until every connection was open at once (never, e.g.
    /// with `--no-keepalive`: `None`).
    pub all_open_s: Option<f64>,
    /// When recording was to begin and when it did.
    pub start: Option<StartTimes>,
}

/// With https: the protocol and cipher suite, and the handshakes of the recorded phase.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TlsReport {
    pub version: String,
    pub cipher: String,
    /// Every connection opened in the recorded phase made one (`connections_opened`).
    pub handshakes: u64,
    /// Of those, how many resumed a session instead of a full handshake.
    pub resumed: u64,
}

/// One `--stages` stage: reach `rate` over `duration_s`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageReport {
    pub duration_s: f64,
    pub rate: f64,
}

/// One `--targets` group (targets sharing a name).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetBreakdown {
    pub name: String,
    pub requests: u64,
    pub errors: u64,
    pub p50_us: f64,
    pub p99_us: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// The machine that ran it (shards run on many).
    pub host: String,
    /// `--shard I/N`: which part of which whole run this is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<Sharding>,
    /// When the recorded phase was to begin and when it did (wall clock).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<StartTimes>,
    pub url: String,
    pub method: String,
    /// "closed" or "open".
    #[serde(deserialize_with = "mode")]
    pub mode: Word,
    pub threads: usize,
    pub connections: usize,
    pub pipeline: usize,
    /// The recorded window: end of warmup until the last thread stopped sending.
    pub duration_s: f64,
    /// The wait after the window for requests still in flight (up to `--timeout`).
    pub drain_s: f64,
    pub warmup_s: f64,
    /// Complete responses (any status).
    pub requests: u64,
    /// Requests written during the recorded phase.
    pub sent: u64,
    /// Sent but neither answered nor failed when the run ended.
    pub incomplete: u64,
    pub rps: f64,
    pub bytes_read: u64,
    pub bytes_per_s: f64,
    pub errors: ErrorCounts,
    /// Exact status code → count.
    pub status: BTreeMap<String, u64>,
    /// "2xx" etc. → count; codes outside 100-599 count as "other".
    pub status_class: BTreeMap<String, u64>,
    /// Response time: from the intended send time (closed loop: the write).
    pub latency_us: Percentiles,
    /// Open loop: the offered rate (with `--stages`, its average over the run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_target: Option<f64>,
    /// `--stages`, as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_achieved: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_time_us: Option<Percentiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_lag_us: Option<Percentiles>,
    /// Open loop: the part of the send lag after a connection was free (loadgen's threads
    /// were late); the rest was a wait for a connection (the target was slow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generator_lag_us: Option<Percentiles>,
    /// Open loop: requests due before the end but never sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backlog: Option<u64>,
    /// Connections established in the recorded phase.
    pub connections_opened: u64,
    /// From `connect` to established (with TLS: handshake done), per connection opened in
    /// the recorded phase.
    pub connect_us: Percentiles,
    /// From the start of the run (warmup included) until every connection was open at
    /// once: how long the connect storm took. Absent if that never happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all_open_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsReport>,
    pub generator: Generator,
    /// Present with `--server-pid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetReport>,
    /// `--targets`: count, errors and latency per target name, in file order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetBreakdown>,
    pub warnings: Vec<String>,
    /// Per second of the recorded phase: the samples `loadgen compare` tests.
    pub timeline: Vec<timeline::Second>,
    /// The histograms themselves, lossless, for merging and comparing reports exactly.
    pub histograms: histograms::EncodedHistograms,
    /// `loadgen merge`: one row per shard merged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<shards::ShardRow>,
    /// Response-time histogram, nanoseconds.
    #[serde(skip, default = "empty")]
    pub latency: Histogram<u64>,
    /// Service-time histogram, nanoseconds (open loop only; empty in closed loop).
    #[serde(skip, default = "empty")]
    pub service: Histogram<u64>,
    /// Per-second response-time histograms (only when `RunOptions::intervals` was set;
    /// the per-second figures are in `timeline` either way).
    #[serde(skip)]
    pub intervals: Option<Intervals>,
}

/// One of a field's fixed words ("open", "ns"). A named type, because serde's derive would
/// take a literal `&'static str` field as borrowed from the input (which must then be
/// 'static); these are read through a function that returns the constant instead.
pub type Word = &'static str;

/// A report read back (`loadgen merge`) gets its histograms from `histograms`.
fn empty() -> Histogram<u64> {
    Histogram::new(crate::stats::SIGFIGS).expect("constant precision is valid")
}

fn mode<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    match String::deserialize(d)?.as_str() {
        "open" => Ok("open"),
        "closed" => Ok("closed"),
        other => Err(serde::de::Error::custom(format!(
            "mode '{other}' is not open or closed"
        ))),
    }
}

fn breakdown(config: &Config, stats: &Stats) -> Vec<TargetBreakdown> {
    let (names, _) = config.target_groups();
    let us = |h: &Histogram<u64>, q: f64| {
        if h.is_empty() {
            0.0
        } else {
            h.value_at_quantile(q) as f64 / 1_000.0
        }
    };
    names
        .into_iter()
        .zip(&stats.groups)
        .map(|(name, g)| TargetBreakdown {
            name,
            requests: g.responses,
            errors: g.errors,
            p50_us: us(&g.latency, 0.5),
            p99_us: us(&g.latency, 0.99),
        })
        .collect()
}

impl Report {
    pub fn build(config: &Config, mut totals: RunTotals) -> Report {
        let stats = &totals.stats;
        let open = config.open_loop_rate().is_some();
        let duration = totals.duration_s.max(1e-9);
        let requests = stats.responses;
        let mut status = BTreeMap::new();
        let mut status_class = BTreeMap::new();
        for (code, count) in stats.status_counts() {
            status.insert(code.to_string(), count);
            *status_class.entry(format!("{}xx", code / 100)).or_insert(0) += count;
        }
        if stats.status_other > 0 {
            status_class.insert("other".to_string(), stats.status_other);
        }
        let cpu = totals.cpu;
        let generator = Generator {
            cpu_user_s: cpu.user_ns as f64 / 1e9,
            cpu_system_s: cpu.system_ns as f64 / 1e9,
            cpu_us_per_request: match requests {
                0 => 0.0,
                n => cpu.total_ns() as f64 / 1_000.0 / n as f64,
            },
            busiest_thread_cpu_pct: totals.busiest_thread_cpu_ns as f64 / 1e9 / duration * 100.0,
            busiest_thread_saturation_pct: totals.busiest_thread_saturation * 100.0,
        };
        let send_lag = open.then(|| Percentiles::of(&stats.send_lag));
        let mut target_warnings = Vec::new();
        let intervals = totals.intervals.take();
        let timeline = timeline::build(
            config,
            intervals.as_ref().map_or(&[], |i| &i.intervals),
            totals.target.as_ref().map(|t| t.marks.as_slice()),
        );
        let target = totals.target.take().map(|window| {
            for pid in window.cpu.vanished() {
                target_warnings.push(format!(
                    "--server-pid {pid} exited during the run: its CPU after the last \
                     sample (taken once a second) is missing from the target figures"
                ));
            }
            let cpu_s = window.cpu.cpu_s();
            TargetReport {
                pids: window.cpu.pids().to_vec(),
                cpu_s,
                cpu_util_pct: cpu_s / window.window_s.max(1e-9) * 100.0,
                cpu_us_per_request: match requests {
                    0 => 0.0,
                    n => cpu_s * 1e6 / n as f64,
                },
            }
        });
        // A mix has no one method either (see `Config::load_name`).
        let method = match config.targets.is_empty() {
            true => config.method.clone(),
            false => "MIX".to_string(),
        };
        let mut report = Report {
            host: crate::start::host_name(),
            shard: config.shard.clone(),
            start: totals.start,
            url: config.load_name().to_string(),
            method,
            mode: if open { "open" } else { "closed" },
            threads: totals.threads,
            connections: config.connections,
            pipeline: config.pipeline,
            duration_s: totals.duration_s,
            drain_s: totals.drain_s,
            warmup_s: config.warmup.as_secs_f64(),
            requests,
            sent: stats.sent,
            incomplete: totals.incomplete,
            rps: requests as f64 / duration,
            bytes_read: stats.bytes_read,
            bytes_per_s: stats.bytes_read as f64 / duration,
            errors: ErrorCounts {
                by_kind: stats.errors,
                total: stats.errors.total(),
            },
            status,
            status_class,
            latency_us: Percentiles::of(&stats.response),
            rate_target: config.offered_rate(),
            stages: config
                .stages
                .iter()
                .map(|s| StageReport {
                    duration_s: s.duration.as_secs_f64(),
                    rate: s.rate,
                })
                .collect(),
            rate_achieved: open.then(|| stats.sent as f64 / duration),
            service_time_us: open.then(|| Percentiles::of(&stats.service)),
            send_lag_us: send_lag,
            generator_lag_us: open.then(|| Percentiles::of(&stats.generator_lag)),
            backlog: open.then_some(totals.backlog),
            connections_opened: stats.connect.len(),
            connect_us: Percentiles::of(&stats.connect),
            all_open_s: totals.all_open_s,
            tls: totals.tls.take().map(|n| TlsReport {
                version: n.version,
                cipher: n.cipher,
                handshakes: stats.connect.len(),
                resumed: stats.tls_resumed,
            }),
            generator,
            target,
            targets: breakdown(config, &totals.stats),
            warnings: Vec::new(),
            timeline,
            histograms: histograms::EncodedHistograms::of(stats, open),
            latency: stats.response.clone(),
            service: stats.service.clone(),
            intervals: intervals.filter(|i| i.histograms),
            shards: Vec::new(),
        };
        report.warnings = report.bottleneck_warnings();
        report.warnings.extend(target_warnings);
        report
    }
}
