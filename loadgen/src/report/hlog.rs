//! The HdrHistogram interval log (`--hlog`): one response-time histogram per second of
//! the recorded phase, V2 + deflate compressed, as read by `HistogramLogProcessor` (Java)
//! and the hdrhistogram crate's `IntervalLogIterator`.
//!
//! Values are nanoseconds, like jHiccup's logs, so `HistogramLogProcessor`'s default
//! `-outputValueUnitRatio 1000000` prints milliseconds (the unit of our `.hgrm`). The
//! interval max column is divided by 10^6 (milliseconds), as the Java writer does.

use std::io::Write;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::IntervalLogWriterBuilder;
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};

use crate::clock::NS_PER_MS;
use crate::intervals::Intervals;

/// Write `intervals` as an interval log. Timestamps count from the start of the recorded
/// phase (BaseTime = StartTime = its wall-clock time).
pub fn write<W: Write>(out: &mut W, intervals: &Intervals, url: &str) -> Result<(), String> {
    let mut serializer = V2DeflateSerializer::new();
    let mut writer = IntervalLogWriterBuilder::new()
        .add_comment(&format!("loadgen response time @ {url}, values in nanoseconds"))
        .add_comment("[Histogram log format version 1.3]")
        .with_start_time(intervals.start_time)
        .with_base_time(intervals.start_time)
        .with_max_value_divisor(NS_PER_MS)
        .begin_log_with(out, &mut serializer)
        .map_err(|e| e.to_string())?;
    let mut deserializer = Deserializer::new();
    for interval in &intervals.intervals {
        let histogram: Histogram<u64> = deserializer
            .deserialize(&mut &interval.histogram[..])
            .map_err(|e| format!("cannot decode an interval: {e:?}"))?;
        writer
            .write_histogram(&histogram, interval.start, interval.length, None)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
