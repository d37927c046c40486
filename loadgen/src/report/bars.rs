//! Bar chart of labelled values with optional low-high whiskers (e.g. ours/nginx ratios per
//! scenario with their spread over rounds), and an optional reference line (1.0 = parity).

use plotters::prelude::*;

use super::svg::{COLORS, chart_svg};

/// One bar: its label, value and optional (low, high) spread.
pub struct Bar<'a> {
    pub label: &'a str,
    pub value: f64,
    pub spread: Option<(f64, f64)>,
}

pub fn render(
    title: &str,
    y_label: &str,
    bars: &[Bar<'_>],
    reference: Option<f64>,
) -> Result<String, String> {
    let top = bars
        .iter()
        .map(|b| b.spread.map_or(b.value, |(_, hi)| hi.max(b.value)))
        .chain(reference)
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE)
        * 1.15;
    let n = bars.len() as u32;
    // A segmented 0..=last range has one segment per bar.
    let last = n.saturating_sub(1);
    chart_svg(title, (0u32..last).into_segmented(), 0f64..top, |mut chart| {
        let label_of = |v: &SegmentValue<u32>| match v {
            SegmentValue::CenterOf(i) => bars
                .get(*i as usize)
                .map_or(String::new(), |b| b.label.to_owned()),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(bars.len())
            .x_label_formatter(&label_of)
            .y_desc(y_label)
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| {
                let i = i as u32;
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), 0.0),
                        (SegmentValue::Exact(i + 1), b.value),
                    ],
                    COLORS[0].mix(0.8).filled(),
                );
                bar.set_margin(0, 0, 18, 18);
                bar
            }))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(bars.iter().enumerate().filter_map(|(i, b)| {
                let (lo, hi) = b.spread?;
                Some(ErrorBar::new_vertical(
                    SegmentValue::CenterOf(i as u32),
                    lo,
                    b.value,
                    hi,
                    BLACK.filled(),
                    12,
                ))
            }))
            .map_err(|e| e.to_string())?;
        if let Some(level) = reference {
            let line = vec![(SegmentValue::Exact(0), level), (SegmentValue::Last, level)];
            chart
                .draw_series(std::iter::once(PathElement::new(line, RED.stroke_width(2))))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}
