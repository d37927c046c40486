//! The HdrHistogram `.hgrm` percentile distribution (the layout of Java's
//! `outputPercentileDistribution` and wrk2's `--latency`), values in milliseconds.

use std::fmt::Write;

use hdrhistogram::Histogram;

use crate::clock::NS_PER_MS;
use crate::stats::SIGFIGS;

/// Rows per halving of the remaining distance to 100%, as wrk2 and the Java tools use.
const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// The percentile spectrum's steps: (latency ms, percentile reached, count since the last
/// step); none for an empty histogram.
pub(super) fn spectrum(histogram: &Histogram<u64>) -> impl Iterator<Item = (f64, f64, u64)> + '_ {
    let steps = (!histogram.is_empty()).then(|| histogram.iter_quantiles(TICKS_PER_HALF_DISTANCE));
    steps.into_iter().flatten().map(|step| {
        let ms = step.value_iterated_to() as f64 / NS_PER_MS;
        (ms, step.quantile_iterated_to(), step.count_since_last_iteration())
    })
}

pub fn render(histogram: &Histogram<u64>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total = 0u64;
    for (value, quantile, count) in spectrum(histogram) {
        total += count;
        if quantile < 1.0 {
            let inverse = 1.0 / (1.0 - quantile);
            let _ = writeln!(out, "{value:12.3} {quantile:2.12} {total:10} {inverse:14.2}");
        } else {
            let _ = writeln!(out, "{value:12.3} {quantile:2.12} {total:10}");
        }
    }
    let mean = histogram.mean() / NS_PER_MS;
    let stdev = histogram.stdev() / NS_PER_MS;
    let max = histogram.max() as f64 / NS_PER_MS;
    let _ = writeln!(out, "#[Mean    = {mean:12.3}, StdDeviation   = {stdev:12.3}]");
    let _ = writeln!(
        out,
        "#[Max     = {max:12.3}, Total count    = {:12}]",
        histogram.len()
    );
    let _ = writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        histogram.buckets(),
        sub_buckets()
    );
    out
}

/// Sub-buckets per bucket: 2 * 10^sigfigs rounded up to a power of two.
fn sub_buckets() -> u64 {
    (2 * 10u64.pow(u32::from(SIGFIGS))).next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rows_and_footer() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, SIGFIGS).unwrap();
        for ms in 1..=100u64 {
            h.record(ms * 1_000_000).unwrap();
        }
        let text = render(&h);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains("Value") && lines[0].contains("1/(1-Percentile)"));
        assert_eq!(lines[1], "");
        assert!(
            lines[2]
                .trim_start()
                .starts_with("1.000 0.000000000000          1           1.00"),
            "{}",
            lines[2]
        );
        let last_row = lines[lines.len() - 4];
        assert!(last_row.contains("1.000000000000") && last_row.trim_end().ends_with("100"));
        assert!(text.contains("#[Max     =      100.008, Total count    =          100]"));
        assert!(text.contains("SubBuckets     =         2048]"));
    }
}
