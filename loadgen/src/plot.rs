//! `loadgen plot`: charts from earlier runs, for scripts that compare runs.
//!
//! - `loadgen plot --out F.svg NAME=RUN.hlog[,RUN2.hlog...] ...`: one latency percentile
//!   curve per name (all intervals of its `--hlog` files summed), on the same axes as `--svg`.
//! - `loadgen plot --bars --out F.svg LABEL=VALUE[:LOW:HIGH] ...`: a bar chart, e.g. the
//!   ours/nginx throughput ratio per scenario with its spread over rounds.
//! - `loadgen plot --capacity --out F.svg NAME=RESULT.json ...`: latency against throughput
//!   of several `loadgen capacity --json` searches on one chart, each with its capacity.

use std::path::{Path, PathBuf};

use base64::Engine;
use clap::Parser;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

use crate::capacity::chart;
use crate::cli::CliError;
use crate::report::bars::{self, Bar};
use crate::report::svg::{self, Series};

#[derive(Parser, Debug)]
#[command(
    name = "loadgen plot",
    about = "Draw latency curves from --hlog files, latency-vs-throughput curves from capacity \
             results, or a bar chart of labelled values, as SVG"
)]
struct Args {
    /// The SVG file to write.
    #[arg(long, value_name = "PATH")]
    out: PathBuf,
    /// Chart title.
    #[arg(long, default_value = "", value_name = "TEXT")]
    title: String,
    /// Draw bars from LABEL=VALUE[:LOW:HIGH] items instead of curves from NAME=FILE.hlog.
    #[arg(long, conflicts_with = "capacity")]
    bars: bool,
    /// Draw latency-vs-throughput curves from NAME=RESULT.json items (loadgen capacity --json).
    #[arg(long)]
    capacity: bool,
    /// Y-axis label of a bar chart.
    #[arg(long, default_value = "value", value_name = "TEXT")]
    y_label: String,
    /// A horizontal line at this value on a bar chart (1 = parity for ratios).
    #[arg(long, value_name = "Y")]
    reference: Option<f64>,
    /// NAME=FILE.hlog[,FILE.hlog...] (curves), LABEL=VALUE[:LOW:HIGH] (bars) or
    /// NAME=RESULT.json (capacity).
    #[arg(required = true, value_name = "ITEM")]
    items: Vec<String>,
}

/// Parse `loadgen plot ...` (argv[0] and `plot` included) and write the chart.
pub fn run<I, T>(args: I) -> Result<PathBuf, CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Args = crate::cli::parse_subcommand(args)?;
    let svg = if args.bars {
        let parsed = args
            .items
            .iter()
            .map(|i| parse_bar(i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(CliError::usage)?;
        bars::render(&args.title, &args.y_label, &parsed, args.reference).map_err(CliError::usage)?
    } else if args.capacity {
        let runs = args
            .items
            .iter()
            .map(|item| {
                let (name, file) = item
                    .split_once('=')
                    .ok_or_else(|| format!("'{item}': expected NAME=RESULT.json"))?;
                Ok((name, chart::Saved::read(Path::new(file))?))
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(CliError::usage)?;
        chart::render_saved(&args.title, &runs).map_err(CliError::usage)?
    } else {
        let mut runs = Vec::with_capacity(args.items.len());
        for item in &args.items {
            let (name, files) = item.split_once('=').ok_or_else(|| {
                CliError::usage(format!("'{item}': expected NAME=FILE.hlog[,FILE.hlog...]"))
            })?;
            let mut total = Histogram::<u64>::new(3).map_err(|e| CliError::usage(e.to_string()))?;
            for file in files.split(',') {
                read_hlog(Path::new(file), &mut total).map_err(CliError::usage)?;
            }
            runs.push((name, total));
        }
        let series: Vec<Series<'_>> = runs
            .iter()
            .map(|(name, h)| Series { name, histogram: h })
            .collect();
        svg::render(&args.title, &series).map_err(CliError::usage)?
    };
    std::fs::write(&args.out, svg)
        .map_err(|e| CliError::usage(format!("--out: cannot write {}: {e}", args.out.display())))?;
    Ok(args.out)
}

/// `LABEL=VALUE` or `LABEL=VALUE:LOW:HIGH`.
fn parse_bar(item: &str) -> Result<Bar<'_>, String> {
    let bad = || format!("'{item}': expected LABEL=VALUE or LABEL=VALUE:LOW:HIGH with numbers");
    let (label, numbers) = item.split_once('=').ok_or_else(bad)?;
    let values: Vec<f64> = numbers
        .split(':')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    if values.iter().any(|v| !v.is_finite() || *v < 0.0) {
        return Err(bad());
    }
    match values[..] {
        [value] => Ok(Bar {
            label,
            value,
            spread: None,
        }),
        [value, low, high] if low <= value && value <= high => Ok(Bar {
            label,
            value,
            spread: Some((low, high)),
        }),
        _ => Err(bad()),
    }
}

/// Adds every interval of an interval log into `total` (values in nanoseconds).
fn read_hlog(path: &Path, total: &mut Histogram<u64>) -> Result<(), String> {
    let text = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut deserializer = Deserializer::new();
    let mut intervals = 0;
    for entry in IntervalLogIterator::new(&text) {
        let entry = entry.map_err(|e| format!("{} is not an interval log: {e:?}", path.display()))?;
        let LogEntry::Interval(interval) = entry else {
            continue;
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(interval.encoded_histogram())
            .map_err(|e| format!("{}: bad histogram encoding: {e}", path.display()))?;
        let h: Histogram<u64> = deserializer
            .deserialize(&mut &bytes[..])
            .map_err(|e| format!("{}: bad histogram: {e:?}", path.display()))?;
        total.add(&h).map_err(|e| format!("{}: {e:?}", path.display()))?;
        intervals += 1;
    }
    if intervals == 0 {
        return Err(format!("{} holds no intervals", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_bar;

    #[test]
    fn bar_items() {
        let b = parse_bar("json=1.74:1.60:1.88").unwrap();
        assert_eq!((b.label, b.value, b.spread), ("json", 1.74, Some((1.60, 1.88))));
        assert_eq!(parse_bar("x=2").unwrap().spread, None);
        for bad in ["x", "x=", "x=a", "x=1:2", "x=3:1:2", "x=-1", "x=1:0:NaN"] {
            assert!(parse_bar(bad).is_err(), "{bad}");
        }
    }
}
