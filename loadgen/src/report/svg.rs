//! Latency percentile chart (`--svg`) on the HdrHistogram plotter's axes: x is the
//! percentile on a log scale of 1/(1-p) (labelled 50%, 90%, 99%, ...), y is latency in
//! milliseconds. Takes any number of named histograms, so one chart can hold several runs.

use std::ops::Range;

use hdrhistogram::Histogram;
use plotters::coord::CoordTranslate;
use plotters::coord::ranged1d::{AsRangedCoord, DefaultFormatting, KeyPointHint};
use plotters::prelude::*;

pub(crate) const SIZE: (u32, u32) = (1000, 600);
/// Right end of the x axis: 99.999% (10^5 "nines" scale).
const MAX_NINES: f64 = 5.0;
pub(crate) const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// One line on the chart: a latency histogram in nanoseconds and its legend name.
pub struct Series<'a> {
    pub name: &'a str,
    pub histogram: &'a Histogram<u64>,
}

/// The chart as an SVG document.
pub fn render(title: &str, series: &[Series<'_>]) -> Result<String, String> {
    let curves: Vec<Vec<(f64, f64)>> = series.iter().map(|s| curve(s.histogram)).collect();
    let y_max = curves
        .iter()
        .flatten()
        .map(|(_, ms)| *ms)
        .fold(0.0, f64::max)
        .max(0.001)
        * 1.05;
    chart_svg(title, NinesAxis, 0f64..y_max, |mut chart| {
        chart
            .configure_mesh()
            .x_desc("Percentile")
            .y_desc("Latency (ms)")
            .x_label_formatter(&|nines| percent_label(*nines))
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, (s, points)) in series.iter().zip(curves).enumerate() {
            line(
                &mut chart,
                points,
                s.name,
                COLORS[i % COLORS.len()].stroke_width(2),
            )?;
        }
        legend(&mut chart)
    })
}

/// The charts' common frame: an SVG of SIZE, white, `title` on top, room for axis labels;
/// `draw` fills in the chart on the given axes.
pub(crate) fn chart_svg<X: AsRangedCoord, Y: AsRangedCoord>(
    title: &str,
    x: X,
    y: Y,
    draw: impl for<'a> FnOnce(
        ChartContext<'a, SVGBackend<'a>, Cartesian2d<X::CoordDescType, Y::CoordDescType>>,
    ) -> Result<(), String>,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(20)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x, y)
            .map_err(|e| e.to_string())?;
        draw(chart)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// A named line with its legend entry.
pub(crate) fn line<CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, CT>,
    points: Vec<(f64, f64)>,
    name: &str,
    style: ShapeStyle,
) -> Result<(), String> {
    chart
        .draw_series(LineSeries::new(points, style))
        .map_err(|e| e.to_string())?
        .label(name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    Ok(())
}

/// The charts' legend: top left, over a light background.
pub(crate) fn legend<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())
}

/// The x axis: x = log10(1/(1-p)), so 0 is 0%, 1 is 90%, 2 is 99%, ..., with tick marks
/// at the HdrHistogram plotter's percentiles (50% sits at log10(2)).
struct NinesAxis;

impl Ranged for NinesAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let share = value.clamp(0.0, MAX_NINES) / MAX_NINES;
        limit.0 + (share * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        let ticks = [2f64.log10(), 1.0, 2.0, 3.0, 4.0, 5.0];
        ticks.into_iter().take(hint.max_num_points().max(2)).collect()
    }

    fn range(&self) -> Range<f64> {
        0.0..MAX_NINES
    }
}

/// (log10(1/(1-p)), latency ms) along the histogram's percentiles, cut at the axis end.
fn curve(histogram: &Histogram<u64>) -> Vec<(f64, f64)> {
    let mut points = Vec::new();
    for (ms, quantile, _) in super::hgrm::spectrum(histogram) {
        // p = 1 is infinitely far right: the max is drawn at the axis end instead.
        let nines = if quantile < 1.0 {
            (1.0 / (1.0 - quantile)).log10().min(MAX_NINES)
        } else {
            MAX_NINES
        };
        points.push((nines, ms));
        if nines >= MAX_NINES {
            break;
        }
    }
    points
}

/// 1 → "90%", 2 → "99%", log10(2) → "50%".
fn percent_label(nines: f64) -> String {
    let p = 100.0 * (1.0 - 10f64.powf(-nines));
    let decimals = (nines.round() as usize).saturating_sub(2);
    format!("{p:.decimals$}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_labels_read_as_percentiles() {
        let labels: Vec<String> = [2f64.log10(), 1.0, 2.0, 3.0, 4.0, 5.0]
            .into_iter()
            .map(percent_label)
            .collect();
        assert_eq!(labels, ["50%", "90%", "99%", "99.9%", "99.99%", "99.999%"]);
    }

    #[test]
    fn curve_rises_and_stops_at_the_axis_end() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        for ms in 1..=1000u64 {
            h.record(ms * 1_000_000).unwrap();
        }
        let points = curve(&h);
        assert!(points.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
        let last = points.last().unwrap();
        assert_eq!(last.0, MAX_NINES);
        assert!((last.1 - 1000.0).abs() < 1.0, "{last:?}");
    }
}
