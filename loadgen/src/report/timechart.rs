//! The over-time chart of a ramped run (`--svg` with `--stages`): on top the rate the
//! schedule offered and the rates sent and answered, below p50 and p99 of each second, on
//! one time axis, from the report's per-second timeline.

use plotters::prelude::*;

use super::svg::{COLORS, SIZE, legend, line};
use super::timeline::Second;

type Read = fn(&Second) -> Option<f64>;

const RATES: [(&str, Read); 3] = [
    ("offered", |s| s.offered_rps),
    ("sent", |s| Some(s.sent_rps)),
    ("answered", |s| Some(s.rps)),
];
const LATENCIES: [(&str, Read); 2] = [
    ("p50", |s| Some(s.p50_us / 1_000.0)),
    ("p99", |s| Some(s.p99_us / 1_000.0)),
];

pub fn render(title: &str, timeline: &[Second]) -> Result<String, String> {
    let x_max = timeline
        .iter()
        .map(|s| s.t as f64 + s.length_s)
        .fold(1.0, f64::max);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let root = root
            .titled(title, ("sans-serif", 20))
            .map_err(|e| e.to_string())?;
        let (top, bottom) = root.split_vertically(SIZE.1 / 2 - 20);
        panel(&top, timeline, x_max, "Requests per second", &RATES, 0)?;
        panel(
            &bottom,
            timeline,
            x_max,
            "Response time (ms)",
            &LATENCIES,
            RATES.len(),
        )?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// One panel: the given series of each second, drawn at the second's middle.
fn panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    timeline: &[Second],
    x_max: f64,
    y_label: &str,
    series: &[(&str, Read)],
    first_color: usize,
) -> Result<(), String> {
    let points = |read: Read| -> Vec<(f64, f64)> {
        timeline
            .iter()
            .filter_map(|s| read(s).map(|y| (s.t as f64 + s.length_s / 2.0, y)))
            .collect()
    };
    let y_max = series
        .iter()
        .flat_map(|(_, read)| points(*read))
        .map(|(_, y)| y)
        .fold(0.001, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(area)
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("Seconds into the recorded run")
        .y_desc(y_label)
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, (name, read)) in series.iter().enumerate() {
        let color = COLORS[(first_color + i) % COLORS.len()];
        line(&mut chart, points(*read), name, color.stroke_width(2))?;
    }
    legend(&mut chart)
}
