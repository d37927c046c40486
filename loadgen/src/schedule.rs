//! Open-loop schedule: one per thread (not one per connection, the wrk2 flaw), so a slow
//! connection never delays the schedule; the next free connection takes the request.
//! Intended send time k is `start + k * interval` in integer nanoseconds, computed, never
//! accumulated, so it cannot drift and lines up exactly with the periodic send timer.

use std::collections::VecDeque;

use crate::timer::MIN_PERIOD_NS;

pub struct Schedule {
    start_ns: u64,
    interval_ns: u64,
    /// Index of the next scheduled request not yet handed out.
    next: u64,
    /// Intended times of requests handed out but given back unanswered (their connection
    /// was closed by the server); they go out first, still measured from their original
    /// intended time.
    returned: VecDeque<u64>,
}

impl Schedule {
    /// `rate` is this thread's share, in requests per second (> 0).
    pub fn new(start_ns: u64, rate: f64, pipeline_slots: usize) -> Schedule {
        Schedule {
            start_ns,
            interval_ns: (1e9 / rate).round().max(1.0) as u64,
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

    /// Timer period: the interval, or the smallest multiple of it that is not too short.
    pub fn tick_ns(&self) -> u64 {
        self.interval_ns * MIN_PERIOD_NS.div_ceil(self.interval_ns)
    }

    pub fn start_ns(&self) -> u64 {
        self.start_ns
    }

    fn intended(&self, k: u64) -> u64 {
        self.start_ns + k * self.interval_ns
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
        let due = now.saturating_sub(self.start_ns).div_ceil(self.interval_ns);
        due.saturating_sub(self.next) + self.returned.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_requests_at_their_intended_times() {
        let mut s = Schedule::new(1_000, 1_000.0, 1); // one per ms
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
        let mut s = Schedule::new(0, 1_000.0, 1);
        assert_eq!(s.tick_ns(), 1_000_000);
        s.begin_at(5);
        assert_eq!(s.pop_due(5), Some(5));
        s.begin_at(99); // too late: requests were handed out
        assert_eq!(s.next_due(), 1_000_005);
        // 100k/s: 10 us interval, ticks every 50 us (five requests per tick).
        assert_eq!(Schedule::new(0, 100_000.0, 1).tick_ns(), 50_000);
        assert_eq!(Schedule::new(0, 30_000.0, 1).tick_ns(), 66_666);
    }
}
