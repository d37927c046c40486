//! The text of a merge: what was merged, and one line per shard (host, start skew, rate,
//! p99, generator cost, warnings), so a slow or saturated shard stands out.

use std::fmt::Write;

use crate::report::Report;
use crate::report::shards::ShardRow;
use crate::report::units::time_us;

/// First lines: how many shards of which run.
pub fn banner(report: &Report, run: &str) -> String {
    format!(
        "Merged {} shards @ {}\n  of: {run}\n",
        report.shards.len(),
        report.url
    )
}

/// The per-shard table, after the merged report.
pub fn render(rows: &[ShardRow]) -> String {
    let mut out = String::from("Shards:\n");
    let _ = writeln!(
        out,
        "  {:<7} {:<20} {:>10} {:>10} {:>12} {:>10} {:>10} {:>6}",
        "shard", "host", "skew", "late", "rps", "p99", "gen us/req", "busy"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "  {:<7} {:<20} {:>8.3}ms {:>8.3}ms {:>12.2} {:>10} {:>10.2} {:>5.0}%",
            r.shard,
            r.host,
            r.start_skew_ms,
            r.start_late_ms,
            r.rps,
            time_us(r.p99_us),
            r.generator_cpu_us_per_request,
            r.busiest_thread_cpu_pct
        );
        for warning in &r.warnings {
            let _ = writeln!(out, "    warning ({}): {warning}", r.shard);
        }
    }
    out
}
