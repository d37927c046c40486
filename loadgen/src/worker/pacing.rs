//! Connect pacing. A thread keeps at most `window` connections unproven: opened or being
//! opened, and not yet answered by the target. The rest wait in `held`, oldest first, and
//! start as others are answered. On loopback a TCP handshake completes inside `connect`,
//! so counting only handshakes in flight would bound nothing: what a storm overruns is the
//! target's accept queue, and only an answer shows that the target accepted a connection.
//! A connection is proven by its first response, or when it opens with nothing to send
//! (open loop), or when it closes. A connection replacing one the target closed in order
//! (`--no-keepalive`, `--requests-per-conn`) is not paced: the target's answers clock those.
//!
//! Until every connection has been started once (the ramp), load waits: in closed loop an
//! answered connection does not send its next request, in open loop the send clock has not
//! started (so a connection opens with nothing to send, and only connects in flight are
//! bounded). A target busy with load accepts slowly (nginx takes one connection per
//! event-loop pass), so load would starve the ramp, and an open loop short of connections
//! queues its requests. Connections first, then load.

use mio::Token;

use super::Worker;
use crate::stats::{ConnectReason, FailureKind};

/// `Conn::since` of a connection held back by pacing: no time makes it due, only `admit`
/// starts it.
const HELD: u64 = u64::MAX;

impl Worker {
    /// Connects `i` now, or holds it while `window` connections are unproven.
    pub(super) fn start_connect(&mut self, i: usize, now: u64) {
        if self.unproven >= self.window {
            self.conns[i].since = HELD;
            self.held.push_back(i as u32);
            return;
        }
        self.connect(i, now, true);
    }

    /// Starts held connections while there is room, oldest first; ends the ramp once none
    /// is left to start.
    pub(super) fn admit(&mut self, now: u64) {
        while self.unproven < self.window
            && let Some(&i) = self.held.front()
            && self.wants_connections()
        {
            self.held.pop_front();
            self.connect(i as usize, now, true);
        }
        if self.ramping && (self.held.is_empty() || !self.wants_connections()) {
            self.end_ramp(now);
        }
    }

    fn end_ramp(&mut self, now: u64) {
        self.ramping = false;
        self.held.shrink_to_fit(); // it held most connections for a moment
        if self.schedule.is_some() {
            if self.summary.ever_connected {
                self.start_send_clock(now);
            }
        } else {
            for j in 0..self.conns.len() {
                // Leave the `--requests` budget that connections still opening will use.
                if self.budget.is_some_and(|left| left <= self.unused) {
                    break;
                }
                if self.conns[j].inflight.is_empty() {
                    self.fill(j);
                }
            }
        }
    }

    /// Closed loop during the ramp: whether connection `i`, answered, waits for the ramp.
    #[inline]
    pub(super) fn waits_for_ramp(&self, i: usize) -> bool {
        let conn = &self.conns[i];
        self.ramping && !conn.unproven && conn.queued_here > 0
    }

    /// Connection `i` was answered (or closed): it no longer counts against the window.
    #[inline]
    pub(super) fn answered(&mut self, i: usize) {
        let conn = &mut self.conns[i];
        if conn.unproven {
            conn.unproven = false;
            self.unproven -= 1;
        }
    }

    pub(super) fn connect(&mut self, i: usize, now: u64, paced: bool) {
        self.conns[i].unproven = paced;
        self.unproven += usize::from(paced);
        let registry = self.poll.registry();
        match self.conns[i].connect(self.shared.addr, registry, Token(i), now) {
            Ok(()) => {
                self.unused += 1;
                self.room += self.shared.requests_per_conn.unwrap_or(0);
            }
            Err(e) => self.attempt_failed(i, FailureKind::Connect(ConnectReason::of(&e)), now),
        }
    }
}
