//! When connections fail or time out: what happens to the requests in flight (counted
//! once, or sent again) and when to reconnect.

use super::Worker;
use crate::conn::{InFlight, State};
use crate::stats::{ConnectReason, FailureKind};

impl Worker {
    /// Timeouts, connect timeouts and reconnects, checked every few milliseconds.
    pub(super) fn scan(&mut self, now: u64) {
        self.admit(now);
        for i in 0..self.conns.len() {
            let conn = &self.conns[i];
            match conn.state {
                State::Idle if self.wants_connections() && conn.since <= now => self.start_connect(i, now),
                State::Connecting if now.saturating_sub(conn.since) >= self.shared.connect_timeout_ns => {
                    self.attempt_failed(i, FailureKind::Connect(ConnectReason::TimedOut), now)
                }
                State::Handshaking if now.saturating_sub(conn.since) >= self.shared.connect_timeout_ns => {
                    self.attempt_failed(i, FailureKind::TlsHandshake, now)
                }
                State::Open => {
                    if let Some(oldest) = conn.inflight.front()
                        && now.saturating_sub(oldest.sent) >= self.shared.timeout_ns
                    {
                        self.time_out(i, now);
                    }
                }
                _ => {}
            }
        }
    }

    /// Closes connection `i` (with RST when `abort`), keeping `unused`, `open` and the
    /// connect pacing right.
    pub(super) fn close(&mut self, i: usize, abort: bool) {
        self.answered(i);
        let conn = &mut self.conns[i];
        self.open -= usize::from(conn.state == State::Open);
        if conn.state != State::Idle {
            self.unused -= u64::from(conn.queued_here == 0);
            let per_conn = self.shared.requests_per_conn.unwrap_or(0);
            self.room -= per_conn.saturating_sub(conn.queued_here);
        }
        conn.close(self.poll.registry(), abort);
    }

    /// A connection attempt failed: the connect (`Connect`), or the TLS handshake
    /// (`TlsHandshake`), or either did not finish within the connect timeout.
    pub(super) fn attempt_failed(&mut self, i: usize, kind: FailureKind, now: u64) {
        if now >= self.shared.record_from {
            self.stats.errors.add(kind, 1);
        }
        self.close(i, true);
        self.conns[i].back_off(now);
    }

    /// The connection broke: every request in flight on it failed with `kind`.
    pub(super) fn fail(&mut self, i: usize, kind: FailureKind, now: u64) {
        let failed = self.settle(i, |_| true);
        self.stats.errors.add(kind, failed);
        self.close(i, true);
        self.conns[i].back_off(now);
        if failed > 0 {
            self.last_progress = now;
        }
    }

    /// Requests past `--timeout` are counted (once) as timeouts; younger ones on the same
    /// connection are sent again on a fresh connection.
    pub(super) fn time_out(&mut self, i: usize, now: u64) {
        let timeout_ns = self.shared.timeout_ns;
        let expired = self.settle(i, |r| now.saturating_sub(r.sent) >= timeout_ns);
        self.stats.errors.add(FailureKind::Timeout, expired);
        self.last_progress = now;
        self.replace(i, now, true);
    }

    /// Orderly close by the server: unanswered requests go out again on a new connection.
    pub(super) fn reconnect(&mut self, i: usize, now: u64) {
        self.settle(i, |_| false);
        self.replace(i, now, false);
    }

    /// Closes connection `i` (with RST when `abort`) and, while there is more to send, opens
    /// a new one: at once after an orderly close (the target's pace clocks those), paced
    /// after a timeout.
    fn replace(&mut self, i: usize, now: u64, abort: bool) {
        let retried = std::mem::take(&mut self.retried);
        self.close(i, abort);
        if self.wants_connections() {
            match abort {
                true => self.start_connect(i, now),
                false => self.connect(i, now, false),
            }
        } else if retried && self.schedule.is_none() {
            // The requests given back go to connections already open and idle (opened when
            // the budget was spent, so nothing else would wake them).
            for j in 0..self.conns.len() {
                if self.conns[j].state == State::Open && self.conns[j].inflight.is_empty() {
                    self.fill(j);
                }
            }
        }
    }

    /// Sending, and the `--requests` budget (if any) not spent: a connection opened after
    /// the last request went out would only be closed again (and with `--no-keepalive` the
    /// server would count one connection per request plus those).
    pub(super) fn wants_connections(&self) -> bool {
        self.sending
            && match (self.budget, self.shared.requests_per_conn) {
                (None, _) => true,
                (Some(left), None) => left > self.unused,
                (Some(left), Some(_)) => left > self.room,
            }
    }

    /// Empty connection `i`'s in-flight queue. Requests for which `failed` holds are
    /// returned as a count of recorded failures; the others are retried (budget and
    /// intended time given back), or counted incomplete once sending has stopped.
    pub(super) fn settle(&mut self, i: usize, failed: impl Fn(&InFlight) -> bool) -> u64 {
        let mut failures = 0;
        while let Some(request) = self.conns[i].inflight.pop_front() {
            self.inflight -= 1;
            if failed(&request) {
                failures += u64::from(request.recorded);
                self.stats
                    .record_group_errors(request.group, u64::from(request.recorded));
            } else if !self.sending {
                self.summary.incomplete += u64::from(request.recorded);
            } else {
                if request.recorded
                    && let Some(left) = &mut self.budget
                {
                    *left += 1;
                }
                if let Some(schedule) = self.schedule.as_mut() {
                    schedule.give_back(request.intended);
                }
                self.retried = true;
            }
        }
        failures
    }
}
