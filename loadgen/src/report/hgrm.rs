//! The HdrHistogram `.hgrm` percentile distribution (the layout of Java's
//! `outputPercentileDistribution` and wrk2's `--latency`), values in milliseconds.

use std::fmt::Write;

use hdrhistogram::Histogram;

use crate::stats::SIGFIGS;

/// Recorded values are nanoseconds; the file speaks milliseconds.
const NS_PER_MS: f64 = 1_000_000.0;
/// Rows per halving of the remaining distance to 100%, as wrk2 and the Java tools use.
const TICKS_PER_HALF_DISTANCE: u32 = 5;

pub fn render(histogram: &Histogram<u64>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total = 0u64;
    if !histogram.is_empty() {
        for step in histogram.iter_quantiles(TICKS_PER_HALF_DISTANCE) {
            total += step.count_since_last_iteration();
            let value = step.value_iterated_to() as f64 / NS_PER_MS;
            let quantile = step.quantile_iterated_to();
            if quantile < 1.0 {
                let inverse = 1.0 / (1.0 - quantile);
                let _ = writeln!(out, "{value:12.3} {quantile:2.12} {total:10} {inverse:14.2}");
            } else {
                let _ = writeln!(out, "{value:12.3} {quantile:2.12} {total:10}");
            }
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
