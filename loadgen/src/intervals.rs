//! Per-second figures of the recorded phase, built on the main thread from the threads'
//! once-a-second messages: responses, requests sent, failed requests and the response-time
//! median and p99 of every second (always: they are the report's `timeline`, the samples
//! `loadgen compare` tests), and the second's histogram itself for the interval log
//! (`--hlog`) when asked for. The cost is one histogram per second, off the request path.
//!
//! The threads tick on whole seconds of the recorded phase (`record_from + k s`), so the
//! tick that arrives near `k s` holds second `k - 1`; a thread's final message holds the
//! rest of its run, up to when it finished. A second stays open until a message two
//! seconds later arrives (threads' ticks may cross on the channel), then it is compressed
//! (V2 + deflate) so memory stays small however long the run.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};

use crate::clock::SECOND_NS;
use crate::start::wall_of;
use crate::stats::Stats;

/// One finished second.
#[derive(Debug, Clone)]
pub struct Interval {
    /// Offset of the interval from the start of the recorded phase.
    pub start: Duration,
    pub length: Duration,
    /// Complete responses, requests written and failed requests (not connection attempts).
    pub responses: u64,
    pub sent: u64,
    pub errors: u64,
    /// Response time, nanoseconds (0 when the second had no response).
    pub p50_ns: u64,
    pub p99_ns: u64,
    /// `V2DeflateSerializer` encoding of the response-time histogram (nanoseconds); empty
    /// unless the builder was asked to keep histograms.
    pub histogram: Vec<u8>,
}

/// The whole recorded phase as intervals.
#[derive(Debug, Clone)]
pub struct Intervals {
    /// Wall-clock time of the start of the recorded phase.
    pub start_time: SystemTime,
    pub intervals: Vec<Interval>,
    /// Whether each interval holds its histogram (for `--hlog`).
    pub histograms: bool,
}

/// A second still open to late messages.
struct Open {
    histogram: Histogram<u64>,
    sent: u64,
    errors: u64,
}

pub struct IntervalBuilder {
    record_from: u64,
    start_time: SystemTime,
    keep_histograms: bool,
    /// Seconds not yet final, by index.
    open: BTreeMap<u64, Open>,
    done: Vec<Interval>,
    serializer: V2DeflateSerializer,
}

impl IntervalBuilder {
    /// `record_from` on the monotonic clock. `keep_histograms`: compress and keep each
    /// second's histogram (for `--hlog`).
    pub fn new(record_from: u64, keep_histograms: bool) -> IntervalBuilder {
        IntervalBuilder {
            record_from,
            start_time: wall_of(record_from),
            keep_histograms,
            open: BTreeMap::new(),
            done: Vec::new(),
            serializer: V2DeflateSerializer::new(),
        }
    }

    /// A once-a-second tick that arrived at `arrival`: it holds the second that just ended.
    pub fn add_tick(&mut self, stats: &Stats, arrival: u64) {
        let ended = (arrival + SECOND_NS / 2).saturating_sub(self.record_from) / SECOND_NS;
        self.add(stats, ended.saturating_sub(1));
    }

    /// A thread's final message: what it recorded since its last tick, up to `finished_at`.
    pub fn add_final(&mut self, stats: &Stats, finished_at: u64) {
        self.add(stats, finished_at.saturating_sub(self.record_from) / SECOND_NS);
    }

    fn add(&mut self, stats: &Stats, second: u64) {
        let (sent, errors) = (stats.sent, stats.errors.requests());
        match self.open.get_mut(&second) {
            Some(open) => {
                // Same bounds on both sides: cannot fail.
                let _ = open.histogram.add(&stats.response);
                open.sent += sent;
                open.errors += errors;
            }
            None => {
                let histogram = stats.response.clone();
                self.open.insert(
                    second,
                    Open {
                        histogram,
                        sent,
                        errors,
                    },
                );
            }
        }
        while let Some(first) = self.open.keys().next().copied()
            && first + 2 <= second
        {
            self.close(first, None);
        }
    }

    /// Close every second: the last one ends `recorded_ns` after the start of the phase.
    pub fn finish(mut self, recorded_ns: u64) -> Intervals {
        while let Some(first) = self.open.keys().next().copied() {
            self.close(first, Some(recorded_ns));
        }
        Intervals {
            start_time: self.start_time,
            intervals: self.done,
            histograms: self.keep_histograms,
        }
    }

    fn close(&mut self, second: u64, end_ns: Option<u64>) {
        let Some(Open {
            histogram,
            sent,
            errors,
        }) = self.open.remove(&second)
        else {
            return;
        };
        let start_ns = second * SECOND_NS;
        let length_ns = end_ns.map_or(SECOND_NS, |end| end.saturating_sub(start_ns).clamp(1, SECOND_NS));
        // The threads' final messages can open a last second that got nothing (the run
        // ended on the boundary): an empty sliver, not an interval worth writing.
        if length_ns < SECOND_NS && histogram.is_empty() && sent == 0 && errors == 0 {
            return;
        }
        let mut bytes = Vec::new();
        // Serialising into a Vec only fails for histograms that cannot be encoded (none
        // of ours); an empty interval is written rather than lost count silently.
        if self.keep_histograms && self.serializer.serialize(&histogram, &mut bytes).is_err() {
            bytes.clear();
        }
        let quantile = |q: f64| match histogram.is_empty() {
            true => 0,
            false => histogram.value_at_quantile(q),
        };
        self.done.push(Interval {
            start: Duration::from_nanos(start_ns),
            length: Duration::from_nanos(length_ns),
            responses: histogram.len(),
            sent,
            errors,
            p50_ns: quantile(0.5),
            p99_ns: quantile(0.99),
            histogram: bytes,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::FailureKind;
    use hdrhistogram::serialization::Deserializer;

    /// A thread's message: these response times, one request sent per response plus
    /// `failed` requests that timed out.
    fn message(values: &[u64], failed: u64) -> Stats {
        let mut stats = Stats::new();
        for v in values {
            stats.record_send(None);
            stats.record_response(200, *v, None);
        }
        for _ in 0..failed {
            stats.record_send(None);
        }
        stats.errors.add(FailureKind::Timeout, failed);
        stats
    }

    #[test]
    fn messages_go_to_the_second_they_cover() {
        let base = 10 * SECOND_NS;
        let mut builder = IntervalBuilder::new(base, true);
        // A warmup tick, two threads' ticks at 1 s (one late), one at 2 s, a final
        // message at 2.4 s and the other thread's late final message for 1.9 s.
        builder.add_tick(&message(&[], 0), base - 1_000);
        builder.add_tick(&message(&[1_000], 1), base + SECOND_NS + 3_000);
        builder.add_tick(&message(&[2_000, 3_000], 0), base + SECOND_NS + 90_000_000);
        builder.add_tick(&message(&[4_000], 2), base + 2 * SECOND_NS + 1_000);
        builder.add_final(&message(&[5_000], 0), base + 2 * SECOND_NS + 400_000_000);
        builder.add_final(&message(&[6_000], 0), base + SECOND_NS + 900_000_000);
        builder.add_final(&message(&[], 0), base + 3 * SECOND_NS + 1_000);
        let log = builder.finish(3 * SECOND_NS + 1_000);
        assert!(log.histograms);
        let counts: Vec<(u64, u64, u64)> = log
            .intervals
            .iter()
            .map(|i| {
                let h: Histogram<u64> = Deserializer::new().deserialize(&mut &i.histogram[..]).unwrap();
                assert_eq!(h.len(), i.responses);
                (i.start.as_millis() as u64, i.length.as_millis() as u64, h.len())
            })
            .collect();
        assert_eq!(counts, vec![(0, 1_000, 3), (1_000, 1_000, 2), (2_000, 1_000, 1)]);
        let figures: Vec<(u64, u64, u64, u64)> = log
            .intervals
            .iter()
            .map(|i| (i.sent, i.errors, i.p50_ns / 1_000, i.p99_ns / 1_000))
            .collect();
        assert_eq!(figures, vec![(4, 1, 2, 3), (4, 2, 4, 6), (1, 0, 5, 5)]);
    }

    #[test]
    fn histograms_are_kept_only_when_asked() {
        let mut builder = IntervalBuilder::new(0, false);
        builder.add_final(&message(&[1_000], 0), SECOND_NS / 2);
        let log = builder.finish(SECOND_NS / 2);
        assert!(!log.histograms);
        let i = &log.intervals[0];
        assert_eq!(
            (i.responses, i.sent, i.p50_ns, i.length),
            (1, 1, 1_000, Duration::from_millis(500))
        );
        assert!(i.histogram.is_empty());
    }
}
