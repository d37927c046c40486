//! Once-a-second progress line on stderr while the run goes on.

use crate::clock::{SECOND_NS, now_ns};
use crate::stats::Stats;

/// Thread ticks arrive about once a second but jitter; print slightly early rather than
/// skip a second.
const EARLY: u64 = 100_000_000;

pub struct Progress {
    enabled: bool,
    record_from: u64,
    next_print: u64,
    last_print: u64,
    last_responses: u64,
}

impl Progress {
    pub fn new(enabled: bool, start: u64, record_from: u64) -> Progress {
        Progress {
            enabled,
            record_from,
            next_print: start + SECOND_NS,
            last_print: start,
            last_responses: 0,
        }
    }

    /// Called whenever the running totals change (and at least once a second).
    pub fn update(&mut self, total: &Stats) {
        let now = now_ns();
        if !self.enabled || now + EARLY < self.next_print {
            return;
        }
        while self.next_print <= now + EARLY {
            self.next_print += SECOND_NS;
        }
        if now < self.record_from + EARLY {
            eprintln!("[warmup] load applied, not recorded");
        } else {
            let seconds = (now - self.last_print.max(self.record_from)) as f64 / 1e9;
            let rps = (total.responses - self.last_responses) as f64 / seconds.max(1e-3);
            let elapsed = (now - self.record_from) as f64 / 1e9;
            eprintln!(
                "[{elapsed:6.1}s] {} requests, {rps:.0} req/s, {} errors",
                total.responses,
                total.errors.total()
            );
        }
        self.last_print = now;
        self.last_responses = total.responses;
    }
}
