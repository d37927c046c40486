//! Connection deadlines as a lazy min-heap.
//!
//! A connection keeps its current deadline in itself and has at most one live heap entry;
//! moving a deadline later costs nothing (the entry is re-armed when it pops), so the
//! per-request path never touches the heap.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// One heap entry: when, which slab slot, and which connection (slots are reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub at: Instant,
    pub key: usize,
    pub conn_id: u64,
}

#[derive(Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<Entry>>,
}

impl Timers {
    pub fn arm(&mut self, entry: Entry) {
        self.heap.push(Reverse(entry));
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(e)| e.at)
    }

    /// The earliest entry due at `now`, removed from the heap.
    pub fn pop_due(&mut self, now: Instant) -> Option<Entry> {
        match self.heap.peek() {
            Some(Reverse(e)) if e.at <= now => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }
}
