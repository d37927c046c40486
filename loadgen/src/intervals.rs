//! Per-second response-time histograms for the interval log (`--hlog`), built on the main
//! thread from the threads' once-a-second messages.
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

/// One finished second, compressed.
#[derive(Debug, Clone)]
pub struct Interval {
    /// Offset of the interval from the start of the recorded phase.
    pub start: Duration,
    pub length: Duration,
    /// `V2DeflateSerializer` encoding of the response-time histogram (nanoseconds).
    pub histogram: Vec<u8>,
}

/// The whole recorded phase as intervals.
#[derive(Debug, Clone)]
pub struct Intervals {
    /// Wall-clock time of the start of the recorded phase.
    pub start_time: SystemTime,
    pub intervals: Vec<Interval>,
}

pub struct IntervalBuilder {
    record_from: u64,
    start_time: SystemTime,
    /// Seconds not yet final, by index.
    open: BTreeMap<u64, Histogram<u64>>,
    done: Vec<Interval>,
    serializer: V2DeflateSerializer,
}

impl IntervalBuilder {
    /// `record_from` and `now` on the monotonic clock; `now` is read together with the
    /// wall clock to place the recorded phase in real time.
    pub fn new(record_from: u64, now: u64) -> IntervalBuilder {
        let wall = SystemTime::now();
        let start_time = if record_from >= now {
            wall + Duration::from_nanos(record_from - now)
        } else {
            wall - Duration::from_nanos(now - record_from)
        };
        IntervalBuilder {
            record_from,
            start_time,
            open: BTreeMap::new(),
            done: Vec::new(),
            serializer: V2DeflateSerializer::new(),
        }
    }

    /// A once-a-second tick that arrived at `arrival`: it holds the second that just ended.
    pub fn add_tick(&mut self, histogram: &Histogram<u64>, arrival: u64) {
        let ended = (arrival + SECOND_NS / 2).saturating_sub(self.record_from) / SECOND_NS;
        self.add(histogram, ended.saturating_sub(1));
    }

    /// A thread's final message: what it recorded since its last tick, up to `finished_at`.
    pub fn add_final(&mut self, histogram: &Histogram<u64>, finished_at: u64) {
        self.add(
            histogram,
            finished_at.saturating_sub(self.record_from) / SECOND_NS,
        );
    }

    fn add(&mut self, histogram: &Histogram<u64>, second: u64) {
        match self.open.get_mut(&second) {
            // Same bounds on both sides: cannot fail.
            Some(h) => drop(h.add(histogram)),
            None => drop(self.open.insert(second, histogram.clone())),
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
        }
    }

    fn close(&mut self, second: u64, end_ns: Option<u64>) {
        let Some(histogram) = self.open.remove(&second) else {
            return;
        };
        let start_ns = second * SECOND_NS;
        let length_ns = end_ns.map_or(SECOND_NS, |end| end.saturating_sub(start_ns).clamp(1, SECOND_NS));
        // The threads' final messages can open a last second that got nothing (the run
        // ended on the boundary): an empty sliver, not an interval worth writing.
        if length_ns < SECOND_NS && histogram.is_empty() {
            return;
        }
        let mut bytes = Vec::new();
        // Serialising into a Vec only fails for histograms that cannot be encoded (none
        // of ours); an empty interval is written rather than lost count silently.
        if self.serializer.serialize(&histogram, &mut bytes).is_err() {
            bytes.clear();
        }
        self.done.push(Interval {
            start: Duration::from_nanos(start_ns),
            length: Duration::from_nanos(length_ns),
            histogram: bytes,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Stats;
    use hdrhistogram::serialization::Deserializer;

    fn histogram(values: &[u64]) -> Histogram<u64> {
        let mut stats = Stats::new();
        for v in values {
            stats.record_response(200, *v, None);
        }
        stats.response
    }

    #[test]
    fn messages_go_to_the_second_they_cover() {
        let base = 10 * SECOND_NS;
        let mut builder = IntervalBuilder::new(base, base);
        // A warmup tick, two threads' ticks at 1 s (one late), one at 2 s, a final
        // message at 2.4 s and the other thread's late final message for 1.9 s.
        builder.add_tick(&histogram(&[]), base - 1_000);
        builder.add_tick(&histogram(&[1_000]), base + SECOND_NS + 3_000);
        builder.add_tick(&histogram(&[2_000, 3_000]), base + SECOND_NS + 90_000_000);
        builder.add_tick(&histogram(&[4_000]), base + 2 * SECOND_NS + 1_000);
        builder.add_final(&histogram(&[5_000]), base + 2 * SECOND_NS + 400_000_000);
        builder.add_final(&histogram(&[6_000]), base + SECOND_NS + 900_000_000);
        builder.add_final(&histogram(&[]), base + 3 * SECOND_NS + 1_000);
        let log = builder.finish(3 * SECOND_NS + 1_000);
        let counts: Vec<(u64, u64, u64)> = log
            .intervals
            .iter()
            .map(|i| {
                let h: Histogram<u64> = Deserializer::new().deserialize(&mut &i.histogram[..]).unwrap();
                (i.start.as_millis() as u64, i.length.as_millis() as u64, h.len())
            })
            .collect();
        assert_eq!(counts, vec![(0, 1_000, 3), (1_000, 1_000, 2), (2_000, 1_000, 1)]);
    }
}
