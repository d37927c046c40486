//! Which upstream of a group gets the next request: **least in-flight**, ties broken
//! round-robin, skipping upstreams in back-off (passive health).
//!
//! Why least in-flight: each worker balances its own share with its own counts (no shared
//! state), and a count of requests waiting on an upstream is what a slow or stalled upstream
//! shows first; round-robin keeps sending it its full share, so one slow upstream holds a
//! third of the requests of a three-upstream group. With equal upstreams the counts tie and
//! the rotating start makes it plain round-robin.

use std::time::{Duration, Instant};

/// Failures in a row after which an upstream is skipped (nginx's `max_fails`, counted in a
/// row rather than per window).
pub const MAX_FAILS: u32 = 3;
/// How long an upstream that failed `MAX_FAILS` times in a row is skipped (nginx's
/// `fail_timeout`); after it, the next request tries it again.
pub const BACKOFF: Duration = Duration::from_secs(10);

/// One upstream's state in one worker.
#[derive(Debug, Default)]
pub struct Member {
    /// Idle keep-alive connections (upstream slab keys), most recently used last.
    pub idle: Vec<usize>,
    pub in_flight: u32,
    fails: u32,
    down_until: Option<Instant>,
}

impl Member {
    pub fn failed(&mut self, now: Instant) {
        self.fails += 1;
        if self.fails >= MAX_FAILS {
            self.down_until = Some(now + BACKOFF);
        }
    }

    pub fn succeeded(&mut self) {
        self.fails = 0;
        self.down_until = None;
    }

    fn is_up(&self, now: Instant) -> bool {
        self.down_until.is_none_or(|t| t <= now)
    }
}

/// Picks a member not in `tried` (a bit per member) that is up; `None` when none is.
pub fn pick(members: &[Member], next: &mut usize, tried: u64, now: Instant) -> Option<usize> {
    let n = members.len();
    let start = *next % n;
    *next = next.wrapping_add(1);
    (0..n)
        .map(|i| (start + i) % n)
        .filter(|&m| m >= 64 || tried & (1 << m) == 0)
        .filter(|&m| members[m].is_up(now))
        .min_by_key(|&m| members[m].in_flight)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_in_flight_then_round_robin_and_back_off() {
        let now = Instant::now();
        let mut members: Vec<Member> = (0..3).map(|_| Member::default()).collect();
        let mut next = 0;
        let picks: Vec<_> = (0..4)
            .map(|_| pick(&members, &mut next, 0, now).unwrap())
            .collect();
        assert_eq!(picks, [0, 1, 2, 0]);
        members[1].in_flight = 5;
        members[2].in_flight = 1;
        assert_eq!(pick(&members, &mut next, 0, now), Some(0));
        assert_eq!(
            pick(&members, &mut next, 0b001, now),
            Some(2),
            "tried ones are skipped"
        );
        for _ in 0..MAX_FAILS {
            members[0].failed(now);
        }
        assert_eq!(pick(&members, &mut next, 0, now), Some(2), "0 is in back-off");
        assert_eq!(pick(&members, &mut next, 0b110, now), None);
        assert_eq!(pick(&members, &mut next, 0, now + BACKOFF), Some(0));
        members[0].succeeded();
        assert!(members[0].is_up(now));
    }
}
