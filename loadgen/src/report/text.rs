//! The human report, laid out like wrk's.

use std::fmt::Write;
use std::time::{Duration, UNIX_EPOCH};

use super::units::{bytes, time_us};
use super::{Percentiles, Report, hgrm};
use crate::config::Config;
use crate::schedule::Rate;

/// First line, printed before the run starts (as wrk does).
pub fn banner(config: &Config, threads: usize) -> String {
    let length = match (config.duration, config.requests) {
        (Some(d), Some(n)) => format!("{} (or {n} requests)", humantime::format_duration(d)),
        (Some(d), None) => humantime::format_duration(d).to_string(),
        (None, Some(n)) => format!("{n} requests"),
        (None, None) => String::new(),
    };
    let mode = match config.open_loop_rate() {
        Some(Rate::Constant(rate)) => format!("open loop at {rate} req/s"),
        Some(Rate::Stages(stages)) => format!(
            "open loop ramping through {}",
            stages
                .iter()
                .map(|s| format!("{}:{}", humantime::format_duration(s.duration), s.rate))
                .collect::<Vec<_>>()
                .join(",")
        ),
        None => "closed loop".to_string(),
    };
    let what = match config.targets.len() {
        0 => config.url.clone(),
        n => format!("{} ({n} targets)", config.targets_file),
    };
    let mut banner = format!(
        "Running {length} test @ {what}\n  {threads} threads and {} connections, {mode}, pipeline {}\n",
        config.connections, config.pipeline
    );
    if let Some(sharding) = &config.shard {
        let _ = writeln!(banner, "  shard {} of: {}", sharding.shard, sharding.run);
    }
    banner
}

pub fn render(report: &Report, spectrum: bool) -> String {
    let mut out = String::new();
    let open = report.service_time_us.is_some();
    let _ = writeln!(
        out,
        "  {:<10} {:>10} {:>10} {:>10} {:>10}",
        "Stats", "Avg", "Stdev", "Max", "+/- Stdev"
    );
    let name = if open { "Response" } else { "Latency" };
    stats_row(&mut out, name, &report.latency_us, within_stdev(report, false));
    if let Some(service) = &report.service_time_us {
        stats_row(&mut out, "Service", service, within_stdev(report, true));
    }
    let _ = writeln!(
        out,
        "  Latency Distribution{}",
        if open { " (response / service)" } else { "" }
    );
    let rows = |p: &Percentiles| [p.p50, p.p75, p.p90, p.p99, p.p99_9, p.p99_99];
    let labels = ["50%", "75%", "90%", "99%", "99.9%", "99.99%"];
    for (i, label) in labels.iter().enumerate() {
        let _ = write!(out, "  {label:>7} {:>10}", time_us(rows(&report.latency_us)[i]));
        if let Some(service) = &report.service_time_us {
            let _ = write!(out, " {:>10}", time_us(rows(service)[i]));
        }
        out.push('\n');
    }
    if spectrum {
        let _ = writeln!(out, "\n  Detailed Percentile spectrum (response time, ms):");
        out.push_str(&hgrm::render(&report.latency));
        if open {
            let _ = writeln!(out, "\n  Detailed Percentile spectrum (service time, ms):");
            out.push_str(&hgrm::render(&report.service));
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "  {} requests in {:.2}s, {} read",
        report.requests,
        report.duration_s,
        bytes(report.bytes_read as f64)
    );
    // Worth a line only when stragglers held the run up noticeably (the last answers of
    // a healthy run take a few milliseconds).
    if report.drain_s >= 0.1 {
        let _ = writeln!(
            out,
            "  then {:.2}s waiting for requests in flight (not part of the rates)",
            report.drain_s
        );
    }
    if let Some(start) = report.start.filter(|s| s.start_at || report.shard.is_some()) {
        let shard = report
            .shard
            .as_ref()
            .map_or(String::new(), |s| format!("shard {} ", s.shard));
        let intended = UNIX_EPOCH + Duration::from_secs_f64(start.intended_unix_s);
        let _ = writeln!(
            out,
            "  Start: {shard}on {}, intended {}, actual {:+.3}ms",
            report.host,
            humantime::format_rfc3339_micros(intended),
            start.late_ms()
        );
    }
    if let Some(tls) = &report.tls {
        let _ = writeln!(
            out,
            "  TLS: {} {}, {} handshakes ({} resumed)",
            tls.version, tls.cipher, tls.handshakes, tls.resumed
        );
    }
    if report.connections_opened > 0 {
        let c = &report.connect_us;
        let what = if report.tls.is_some() {
            "connect+handshake"
        } else {
            "connect"
        };
        let all_open = match report.all_open_s {
            Some(s) => format!("; all {} open after {}", report.connections, time_us(s * 1e6)),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "  Connections: {} opened, {what} p50 {}, p99 {}{all_open}",
            report.connections_opened,
            time_us(c.p50),
            time_us(c.p99)
        );
    }
    let e = &report.errors.by_kind;
    let tls = match report.tls.is_some() || e.tls + e.tls_handshake > 0 {
        true => format!(
            ", tls {} (handshakes {})",
            e.tls + e.tls_handshake,
            e.tls_handshake
        ),
        false => String::new(),
    };
    let reasons: Vec<String> = e
        .connect_reasons
        .seen()
        .iter()
        .map(|(r, n)| format!("{r} {n}"))
        .collect();
    let reasons = match reasons.is_empty() {
        true => String::new(),
        false => format!(" ({})", reasons.join(", ")),
    };
    let _ = writeln!(
        out,
        "  Errors: connect {}{reasons}, read {}, write {}, timeout {}, parse {}{tls}",
        e.connect, e.read, e.write, e.timeout, e.parse
    );
    let codes: Vec<String> = report.status.iter().map(|(c, n)| format!("{c}: {n}")).collect();
    let _ = writeln!(
        out,
        "  Status: {}",
        if codes.is_empty() {
            "none".into()
        } else {
            codes.join(", ")
        }
    );
    if !report.targets.is_empty() {
        let width = report
            .targets
            .iter()
            .map(|t| t.name.len())
            .max()
            .unwrap_or(0)
            .max(6);
        let _ = writeln!(out, "  Per target:");
        let _ = writeln!(
            out,
            "    {:<width$}  {:>10}  {:>8}  {:>10}  {:>10}",
            "target", "requests", "errors", "p50", "p99"
        );
        for t in &report.targets {
            let (p50, p99) = (time_us(t.p50_us), time_us(t.p99_us));
            let _ = writeln!(
                out,
                "    {:<width$}  {:>10}  {:>8}  {p50:>10}  {p99:>10}",
                t.name, t.requests, t.errors
            );
        }
    }
    if let Some(other) = report.status_class.get("other") {
        let _ = writeln!(out, "  Status outside 100-599: {other}");
    }
    if report.incomplete > 0 {
        let _ = writeln!(
            out,
            "  Incomplete (no answer when the run ended): {}",
            report.incomplete
        );
    }
    if let (Some(target), Some(achieved)) = (report.rate_target, report.rate_achieved) {
        let _ = writeln!(
            out,
            "  Target rate: {target:.2} req/s, achieved send rate: {achieved:.2} req/s"
        );
        if let (Some(lag), Some(generator)) = (&report.send_lag_us, &report.generator_lag_us) {
            let _ = writeln!(
                out,
                "  Send lag vs schedule: p50 {}, p99 {}, max {} (of it loadgen's own: p50 {}, p99 {})",
                time_us(lag.p50),
                time_us(lag.p99),
                time_us(lag.max),
                time_us(generator.p50),
                time_us(generator.p99)
            );
        }
        if let Some(backlog) = report.backlog.filter(|b| *b > 0) {
            let _ = writeln!(out, "  Backlog (due but never sent): {backlog}");
        }
    }
    let _ = writeln!(out, "Requests/sec: {:>12.2}", report.rps);
    let _ = writeln!(out, "Transfer/sec: {:>12}", bytes(report.bytes_per_s));
    let g = &report.generator;
    let _ = writeln!(
        out,
        "Generator CPU: {:.2}s user, {:.2}s system, {:.2}us per request, busiest thread {:.0}% (never idle {:.0}%)",
        g.cpu_user_s,
        g.cpu_system_s,
        g.cpu_us_per_request,
        g.busiest_thread_cpu_pct,
        g.busiest_thread_saturation_pct
    );
    if let Some(t) = &report.target {
        let _ = writeln!(
            out,
            "Target CPU: {:.2}s ({:.0}% of a core), {:.2}us per request",
            t.cpu_s, t.cpu_util_pct, t.cpu_us_per_request
        );
    }
    out
}

fn stats_row(out: &mut String, name: &str, p: &Percentiles, within: f64) {
    let _ = writeln!(
        out,
        "    {name:<8} {:>10} {:>10} {:>10} {:>9.2}%",
        time_us(p.mean),
        time_us(p.stdev),
        time_us(p.max),
        within
    );
}

/// Share of samples within one standard deviation of the mean (wrk's "+/- Stdev").
fn within_stdev(report: &Report, service: bool) -> f64 {
    let h = if service { &report.service } else { &report.latency };
    if h.is_empty() {
        return 0.0;
    }
    let low = (h.mean() - h.stdev()).max(0.0) as u64;
    let high = (h.mean() + h.stdev()) as u64;
    h.count_between(low, high) as f64 / h.len() as f64 * 100.0
}
