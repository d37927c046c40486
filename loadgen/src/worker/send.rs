//! Putting requests on connections: closed-loop top-ups, open-loop dispatch of due
//! requests to free connections, the `--requests` budget.

use super::Worker;
use crate::clock::now_ns;
use crate::conn::{InFlight, State};
use crate::schedule::Schedule;
use crate::stats::SendLag;

impl Worker {
    /// Closed loop: top the connection up to `--pipeline` requests, written in one go.
    pub(super) fn fill(&mut self, i: usize) {
        if self.holding || !self.sending || self.conns[i].state != State::Open || self.waits_for_ramp(i) {
            return;
        }
        // Read just before the write, so latency does not include our own parsing.
        let now = now_ns();
        let recorded = now >= self.shared.record_from;
        let mut queued = false;
        while self.conns[i].inflight.len() < self.shared.pipeline
            && self.conns[i].has_room(self.shared.requests_per_conn)
            && self.take_budget(recorded)
        {
            self.queue_next(i, now, now, recorded);
            queued = true;
        }
        if queued {
            self.flush(i, now);
        }
    }

    /// Open loop: hand every due request to a free connection, oldest first; `until` caps
    /// the intended times taken at the end of the window (also when the stop check ran a
    /// moment before the clock passed it).
    pub(super) fn dispatch(&mut self, until: u64) {
        if self.holding || !self.sending || self.schedule.is_none() || self.ramping {
            return;
        }
        self.dispatch_due(until);
        self.set_ramp_timer();
    }

    fn dispatch_due(&mut self, until: u64) {
        while let Some(&(i, free_since)) = self.free.front() {
            let now = now_ns();
            let conn = &self.conns[i];
            if conn.state != State::Open
                || conn.inflight.len() >= self.shared.pipeline
                || !conn.has_room(self.shared.requests_per_conn)
            {
                self.free.pop_front();
                self.conns[i].listed_free = false;
                continue;
            }
            let Some(next_due) = self.schedule.as_ref().map(Schedule::next_due) else {
                return;
            };
            let recorded = next_due >= self.shared.record_from;
            if next_due > now.min(until) || !self.take_budget(recorded) {
                return;
            }
            let Some(intended) = self.schedule.as_mut().and_then(|s| s.pop_due(now.min(until))) else {
                return;
            };
            self.queue_next(i, intended, now, recorded);
            if recorded {
                // Until the connection came free the request waited for the target; after
                // that, for this thread.
                let generator_ns = now.saturating_sub(intended.max(free_since));
                self.stats.record_send(Some(SendLag {
                    total_ns: now.saturating_sub(intended),
                    generator_ns,
                }));
            }
            // Rotate so consecutive requests spread over connections.
            self.free.pop_front();
            self.conns[i].listed_free = false;
            self.flush(i, now);
            self.list_free(i, now);
        }
    }

    /// Open loop: the schedule starts when the first connection is up (connection set-up
    /// is not the target's latency), with the timer ticking on the schedule's grid.
    pub(super) fn start_send_clock(&mut self, now: u64) {
        if let (Some(schedule), Some(timer)) = (self.schedule.as_mut(), self.timer.as_ref()) {
            schedule.begin_at(now.max(self.shared.send_from));
            if let Some(period) = schedule.tick_ns() {
                let _ = timer.start(schedule.start_ns(), period);
            }
        }
        self.set_ramp_timer();
    }

    /// A ramp's intended times are uneven: its one-shot timer is set for the next one
    /// (once per time, so requests waiting for a connection do not spin the loop).
    fn set_ramp_timer(&mut self) {
        let (Some(schedule), Some(timer)) = (self.schedule.as_ref(), self.timer.as_ref()) else {
            return;
        };
        // A constant rate's periodic timer needs nothing per dispatch.
        if schedule.tick_ns().is_some() {
            return;
        }
        let due = schedule.next_due();
        if due != self.timer_set_for && due != u64::MAX {
            let _ = timer.start(due, 0);
            self.timer_set_for = due;
        }
    }

    /// Connection `i` can take another request from `now` on.
    pub(super) fn list_free(&mut self, i: usize, now: u64) {
        let conn = &mut self.conns[i];
        if !conn.listed_free
            && conn.state == State::Open
            && conn.inflight.len() < self.shared.pipeline
            && conn.has_room(self.shared.requests_per_conn)
        {
            conn.listed_free = true;
            self.free.push_back((i, now));
        }
    }

    pub(super) fn take_budget(&mut self, recorded: bool) -> bool {
        match &mut self.budget {
            Some(left) if recorded => {
                if *left == 0 {
                    return false;
                }
                *left -= 1;
                true
            }
            _ => true,
        }
    }

    pub(super) fn flush(&mut self, i: usize, now: u64) {
        if let Err(kind) = self.conns[i].flush() {
            self.fail(i, kind, now);
        }
    }

    /// Queue the next target's request on connection `i` (written by the next `flush`).
    fn queue_next(&mut self, i: usize, intended: u64, now: u64, recorded: bool) {
        let target = self.pick_target();
        let group = self.shared.groups[target];
        // The connection's last request under --requests-per-conn says so.
        let last = self.shared.requests_per_conn == Some(self.conns[i].queued_here + 1);
        let bytes = if last {
            &self.shared.closing[target]
        } else {
            &self.shared.requests[target]
        };
        self.unused -= u64::from(self.conns[i].queued_here == 0);
        if self.shared.requests_per_conn.is_some() {
            self.room -= 1;
        }
        self.conns[i].queue(
            bytes,
            InFlight {
                intended,
                sent: now,
                recorded,
                group,
                head: self.shared.heads[target],
            },
        );
        self.inflight += 1;
        // Open loop records its send lag in `dispatch`.
        if recorded && self.schedule.is_none() {
            self.stats.record_send(None);
        }
    }

    /// The next target in the weighted round-robin order.
    fn pick_target(&mut self) -> usize {
        let order = &self.shared.order;
        let target = order[self.next_target] as usize;
        self.next_target = (self.next_target + 1) % order.len();
        target
    }
}
