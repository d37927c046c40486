//! The latency-vs-throughput chart of a capacity search (`--svg`, and `loadgen plot
//! --capacity` for several searches on one chart): p50, p99 and p99.9 of each step against
//! the rate loadgen delivered, on a log latency axis, with the latency SLOs as horizontal
//! lines and each search's capacity (the knee) as a vertical one.

use std::path::Path;

use plotters::prelude::*;
use serde::Deserialize;

use super::step::Step;
use crate::assert::{Assertion, Op};
use crate::metric::{Metric, Stat};
use crate::report::svg::{COLORS, chart_svg, legend, line};

/// One search on the chart.
pub struct Curve<'a> {
    pub name: &'a str,
    pub steps: &'a [Step],
    /// The capacity found (the highest passing rate).
    pub capacity: Option<f64>,
}

/// Reads one latency figure (microseconds) of a step.
type Read = fn(&Step) -> f64;

/// The percentiles drawn, with how each reads from a step.
const PERCENTILES: [(&str, Read); 3] = [
    ("p50", |s| s.latency_us.p50),
    ("p99", |s| s.latency_us.p99),
    ("p99.9", |s| s.latency_us.p99_9),
];

/// Latency SLOs that bound a percentile from above: `(label, milliseconds)`.
pub fn slo_lines(slos: &[Assertion]) -> Vec<(String, f64)> {
    slos.iter()
        .filter(|s| matches!(s.metric, Metric::Latency(Stat::Percentile(_))))
        .filter(|s| matches!(s.op, Op::Lt | Op::Le))
        .map(|s| (format!("SLO {}", s.text), s.value / 1_000.0))
        .collect()
}

pub fn render(title: &str, curves: &[Curve<'_>], slos: &[(String, f64)]) -> Result<String, String> {
    let points = |c: &Curve<'_>, read: Read| -> Vec<(f64, f64)> {
        let mut p: Vec<(f64, f64)> = c
            .steps
            .iter()
            .map(|s| (s.achieved_rps, (read(s) / 1_000.0).max(0.001)))
            .collect();
        p.sort_by(|a, b| a.0.total_cmp(&b.0));
        p
    };
    let all_x = curves.iter().flat_map(|c| c.steps.iter().map(|s| s.achieved_rps));
    let x_max = all_x.fold(1.0, f64::max) * 1.05;
    let all_y = curves
        .iter()
        .flat_map(|c| PERCENTILES.iter().flat_map(move |(_, read)| points(c, *read)))
        .map(|(_, ms)| ms)
        .chain(slos.iter().map(|(_, ms)| *ms));
    let (y_min, y_max) = all_y.fold((f64::MAX, 0.001f64), |(lo, hi), ms| (lo.min(ms), hi.max(ms)));
    let (lo, hi) = ((y_min.min(y_max) / 1.5).max(0.001), y_max * 1.5);
    chart_svg(title, 0f64..x_max, (lo..hi).log_scale(), |mut chart| {
        chart
            .configure_mesh()
            .x_desc("Throughput: requests sent per second")
            .y_desc("Response time (ms, log)")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .draw()
            .map_err(|e| e.to_string())?;
        let mut color = 0;
        for curve in curves {
            for (label, read) in PERCENTILES {
                let c = COLORS[color % COLORS.len()];
                color += 1;
                let name = match curves.len() {
                    1 => label.to_string(),
                    _ => format!("{} {label}", curve.name),
                };
                let points = points(curve, read);
                line(&mut chart, points.clone(), &name, c.stroke_width(2))?;
                chart
                    .draw_series(points.into_iter().map(|p| Circle::new(p, 3, c.filled())))
                    .map_err(|e| e.to_string())?;
            }
            if let Some(capacity) = curve.capacity {
                let label = match curves.len() {
                    1 => format!("capacity {capacity:.0} req/s"),
                    _ => format!("{} capacity {capacity:.0} req/s", curve.name),
                };
                line(
                    &mut chart,
                    vec![(capacity, lo), (capacity, hi)],
                    &label,
                    BLACK.stroke_width(1),
                )?;
            }
        }
        for (label, ms) in slos {
            let red = RGBColor(200, 0, 0).stroke_width(1);
            line(&mut chart, vec![(0.0, *ms), (x_max, *ms)], label, red)?;
        }
        legend(&mut chart)
    })
}

/// What `loadgen plot --capacity` needs of a `loadgen capacity --json` file.
#[derive(Debug, Deserialize)]
pub struct Saved {
    pub max_rate: Option<f64>,
    pub slo: Vec<String>,
    pub steps: Vec<Step>,
}

impl Saved {
    pub fn read(path: &Path) -> Result<Saved, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a loadgen capacity --json file: {e}", path.display()))
    }
}

/// Several searches on one chart (e.g. our server and nginx), with the first one's SLOs.
pub fn render_saved(title: &str, runs: &[(&str, Saved)]) -> Result<String, String> {
    let slos = match runs.first() {
        Some((_, first)) => first
            .slo
            .iter()
            .map(|text| Assertion::parse(text).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let curves: Vec<Curve<'_>> = runs
        .iter()
        .map(|(name, saved)| Curve {
            name,
            steps: &saved.steps,
            capacity: saved.max_rate,
        })
        .collect();
    render(title, &curves, &slo_lines(&slos))
}
