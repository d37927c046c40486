//! Open-loop schedule: one per thread (not one per connection, the wrk2 flaw), so a slow
//! connection never delays the schedule; the next free connection takes the request.
//! At a constant rate intended send time k is `start + k * interval` in integer
//! nanoseconds, computed, never accumulated, so it cannot drift and lines up exactly with
//! the periodic send timer; with `--stages` it is where the ramp's integral reaches k.

use std::collections::VecDeque;

use crate::timer::MIN_PERIOD_NS;

pub mod ramp;

use ramp::{Ramp, Stage};

/// The rate a thread sends at: its share of `-R` or of `--stages`.
#[derive(Debug, Clone, PartialEq)]
pub enum Rate {
    Constant(f64),
    Stages(Vec<Stage>),
}

/// How intended times are spaced.
enum Pace {
    Constant { interval_ns: u64 },
    Ramp(Ramp),
}

pub struct Schedule {
    start_ns: u64,
    pace: Pace,
    /// Index of the next scheduled request not yet handed out.
    next: u64,
    /// Intended times of requests handed out but given back unanswered (their connection
    /// was closed by the server); they go out first, still measured from their original
    /// intended time.
    returned: VecDeque<u64>,
}

impl Schedule {
    /// `rate` is the whole run's; this thread sends `share` of it.
    pub fn new(start_ns: u64, rate: &Rate, share: f64, pipeline_slots: usize) -> Schedule {
        let pace = match rate {
            Rate::Constant(rate) => Pace::Constant {
                interval_ns: (1e9 / (rate * share)).round().max(1.0) as u64,
            },
            Rate::Stages(stages) => Pace::Ramp(Ramp::new(stages, share)),
        };
        Schedule {
            start_ns,
            pace,
            next: 0,
            returned: VecDeque::with_capacity(pipeline_slots),
        }
    }

    /// Move the start (before anything was handed out), e.g. to when the first
    /// connection is up, so connection set-up is not charged to the first requests.
    pub fn begin_at(&mut self, start_ns: u64) {
        if self.next == 0 {
            self.start_ns = start_ns;
        }
    }

    /// Timer period at a constant rate: the interval, or the smallest multiple of it that
    /// is not too short. A ramp has none: its timer is set for each next intended time.
    pub fn tick_ns(&self) -> Option<u64> {
        match self.pace {
            Pace::Constant { interval_ns } => Some(interval_ns * MIN_PERIOD_NS.div_ceil(interval_ns)),
            Pace::Ramp(_) => None,
        }
    }

    pub fn start_ns(&self) -> u64 {
        self.start_ns
    }

    /// Intended time of request k; `u64::MAX` (never) past the end of a ramp.
    fn intended(&self, k: u64) -> u64 {
        match &self.pace {
            Pace::Constant { interval_ns } => self.start_ns + k * interval_ns,
            Pace::Ramp(ramp) => ramp
                .time_of(k)
                .map_or(u64::MAX, |t| self.start_ns + (t * 1e9).round() as u64),
        }
    }

    /// Intended time of the oldest request not yet sent.
    pub fn next_due(&self) -> u64 {
        match self.returned.front() {
            Some(&t) => t,
            None => self.intended(self.next),
        }
    }

    /// The oldest request whose intended time has come, if any.
    pub fn pop_due(&mut self, now: u64) -> Option<u64> {
        if let Some(t) = self.returned.pop_front() {
            return Some(t);
        }
        let t = self.intended(self.next);
        if t <= now {
            self.next += 1;
            Some(t)
        } else {
            None
        }
    }

    pub fn give_back(&mut self, intended: u64) {
        self.returned.push_back(intended);
    }

    /// Requests due before `now` but never sent (the backlog when the run stops).
    pub fn backlog(&self, now: u64) -> u64 {
        let elapsed = now.saturating_sub(self.start_ns);
        let due = match &self.pace {
            Pace::Constant { interval_ns } => elapsed.div_ceil(*interval_ns),
            Pace::Ramp(ramp) => ramp.due(elapsed as f64 / 1e9).ceil() as u64,
        };
        due.saturating_sub(self.next) + self.returned.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_requests_at_their_intended_times() {
        let mut s = Schedule::new(1_000, &Rate::Constant(1_000.0), 1.0, 1); // one per ms
        assert_eq!(s.pop_due(999), None);
        assert_eq!(s.pop_due(1_000), Some(1_000));
        assert_eq!(s.next_due(), 1_001_000);
        // 3.5 ms late: three requests are due, each keeps its own intended time.
        let now = 1_000 + 3_500_000;
        assert_eq!(s.backlog(now), 3);
        assert_eq!(s.pop_due(now), Some(1_001_000));
        assert_eq!(s.pop_due(now), Some(2_001_000));
        s.give_back(1_001_000);
        assert_eq!(s.pop_due(now), Some(1_001_000));
        assert_eq!(s.pop_due(now), Some(3_001_000));
        assert_eq!(s.pop_due(now), None);
        assert_eq!(s.backlog(now), 0);
    }

    #[test]
    fn timer_ticks_on_the_schedule_grid() {
        let mut s = Schedule::new(0, &Rate::Constant(2_000.0), 0.5, 1);
        assert_eq!(s.tick_ns(), Some(1_000_000));
        s.begin_at(5);
        assert_eq!(s.pop_due(5), Some(5));
        s.begin_at(99); // too late: requests were handed out
        assert_eq!(s.next_due(), 1_000_005);
        // 100k/s: 10 us interval, ticks every 50 us (five requests per tick).
        let tick = |rate| Schedule::new(0, &Rate::Constant(rate), 1.0, 1).tick_ns();
        assert_eq!(tick(100_000.0), Some(50_000));
        assert_eq!(tick(30_000.0), Some(66_666));
    }

    #[test]
    fn a_ramp_hands_out_its_integral_and_then_nothing() {
        let stages = ramp::parse("1s:1000,1s:0").unwrap();
        let mut s = Schedule::new(5, &Rate::Stages(stages), 0.5, 1);
        assert_eq!(s.tick_ns(), None);
        // 0 -> 500/s -> 0 over 2 s: 500 requests, the first at the start.
        assert_eq!(s.pop_due(5), Some(5));
        let mut sent = 1;
        while s.pop_due(u64::MAX - 1).is_some() {
            sent += 1;
        }
        assert_eq!(sent, 500);
        assert_eq!(s.next_due(), u64::MAX);
        assert_eq!(s.backlog(5 + 2_000_000_000), 0);
    }
}
