//! Time across shards: the union of the recorded windows (what merged rates are over) and
//! the per-second timelines aligned on absolute (wall-clock) time.

use std::collections::BTreeMap;

use super::read::Input;
use crate::report::timeline::Second;

/// Total length covered by `spans` (start, end), overlaps counted once.
pub fn union(spans: &[(f64, f64)]) -> f64 {
    let mut spans = spans.to_vec();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut total = 0.0;
    let mut reach = f64::NEG_INFINITY;
    for (start, end) in spans {
        let from = start.max(reach);
        if end > from {
            total += end - from;
        }
        reach = reach.max(end);
    }
    total
}

/// The shards' timelines added second by second: a shard's second `t` is second
/// `t + round(its start - earliest)` of the merged run. Counts and rates add; the
/// percentiles of a merged second are the highest of the shards' (an upper bound: the
/// reports carry per-second figures, not per-second histograms); the target's CPU per
/// request is left out (shards may measure different targets or none).
pub fn timeline(inputs: &[Input], earliest: f64) -> Vec<Second> {
    let mut merged: BTreeMap<u64, Second> = BTreeMap::new();
    for input in inputs {
        let offset = (input.started() - earliest).round().max(0.0) as u64;
        for second in &input.report.timeline {
            let t = second.t + offset;
            let count = |rate: f64| rate * second.length_s;
            let entry = merged.entry(t).or_insert_with(|| Second {
                t,
                length_s: second.length_s,
                rps: 0.0,
                sent_rps: 0.0,
                errors: 0,
                p50_us: 0.0,
                p99_us: 0.0,
                offered_rps: None,
                target_cpu_us_per_req: None,
            });
            // Rates back to counts over the merged second's length.
            let length = entry.length_s.max(second.length_s);
            let rescale = entry.length_s / length;
            entry.rps = entry.rps * rescale + count(second.rps) / length;
            entry.sent_rps = entry.sent_rps * rescale + count(second.sent_rps) / length;
            entry.offered_rps = match (entry.offered_rps, second.offered_rps) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0.0) * rescale + count(b.unwrap_or(0.0)) / length),
            };
            entry.length_s = length;
            entry.errors += second.errors;
            entry.p50_us = entry.p50_us.max(second.p50_us);
            entry.p99_us = entry.p99_us.max(second.p99_us);
        }
    }
    merged.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_windows_count_once() {
        assert_eq!(union(&[(10.0, 20.0), (12.0, 21.0), (30.0, 31.0)]), 12.0);
        assert_eq!(union(&[(5.0, 6.0)]), 1.0);
        assert_eq!(union(&[(0.0, 10.0), (2.0, 3.0)]), 10.0);
    }
}
