//! The per-upstream keep-alive pools: connections go in after a clean response and come
//! out for the next request; they leave when the upstream closes them (noticed on their
//! event, or with the response that carried the FIN), when they sit idle longer than
//! `--upstream-idle-timeout`, or when one handed out turns out stale.
//!
//! A stale connection is the race every keep-alive client meets: the upstream closes an
//! idle connection just as a request is written on it, and the request meets EOF or a reset
//! before any response byte. Like nginx, that is no failure of the upstream: a request that
//! may be sent again (idempotent, its body here whole) goes out again on a fresh connection
//! to the same upstream, and the upstream's health is not charged.
//!
//! `--upstream-keepalive N` bounds the idle connections a pool keeps once the load has
//! passed; while the load lasts, connections beyond N that went idle less than
//! `EXCESS_GRACE` ago stay. Cutting back at once (as nginx does) closes a connection that
//! the next burst, a few hundred microseconds later, must open again: with 100 busy clients
//! and N = 64 that was 22% of requests paying a connect and a close, about half the proxy's
//! CPU (bench-results/compare-proxy-keepalive128-20261202T1217Z).

use super::upstream::{Stage, UpstreamConn};
use super::{Proxy, UPSTREAM_TOKENS, return_buffers};
use crate::buffers::BufferPool;
use mio::{Interest, Token};
use std::time::{Duration, Instant};

/// How long a connection beyond `--upstream-keepalive` may stay idle in its pool (less if
/// `--upstream-idle-timeout` is shorter).
pub const EXCESS_GRACE: Duration = Duration::from_secs(1);
use transport::Transport;

impl Proxy {
    /// An idle connection of this member, most recently used first, marked as reused.
    pub(super) fn take_idle(&mut self, group: usize, member: usize) -> Option<usize> {
        let key = self.members[group][member].idle.pop()?;
        self.stats.upstream_idle.sub(1);
        self.stats.upstream_reused.add(1);
        let up = &mut self.conns[key];
        up.stage = Stage::Sending;
        up.reused = true;
        Some(key)
    }

    /// After a clean response: into the pool if the upstream allows it and did not close it;
    /// else closed. Returns whether it was pooled. The pool may hold more than
    /// `--upstream-keepalive` for `EXCESS_GRACE` (see `tidy`): a request of the same burst
    /// takes the connection instead of opening another.
    pub(super) fn put_idle(&mut self, key: usize, pool: &mut BufferPool, now: Instant) -> bool {
        let up = &mut self.conns[key];
        let member = &mut self.members[up.group][up.member];
        if !up.reusable || up.hup || up.early || self.keepalive == 0 {
            self.close(key, pool);
            return false;
        }
        member.in_flight -= 1;
        member.idle.push(key);
        self.stats.upstream_idle.add(1);
        up.stage = Stage::Idle;
        up.owner = None;
        up.ready = false;
        up.idle_since = now;
        return_buffers(up, pool);
        true
    }

    /// An idle pooled connection had an event: anything readable (EOF, an error, bytes no
    /// request asked for) means it can no longer be used, so it leaves the pool.
    pub(super) fn idle_event(&mut self, key: usize) {
        let up = &mut self.conns[key];
        if up.still_usable(&mut self.tls_scratch) {
            return;
        }
        let (group, member) = (up.group, up.member);
        self.members[group][member].idle.retain(|&k| k != key);
        self.stats.upstream_idle.sub(1);
        self.conns.remove(key);
    }

    /// When the oldest idle connection of any pool reaches the idle timeout, or, in a pool
    /// over `--upstream-keepalive`, the end of its grace.
    pub fn next_idle_expiry(&self) -> Option<Instant> {
        // Each pool is pushed and popped at its end, so its front is its oldest.
        let excess_wait = EXCESS_GRACE.min(self.idle_timeout);
        self.members
            .iter()
            .flatten()
            .filter_map(|m| {
                let wait = match m.idle.len() > self.keepalive {
                    true => excess_wait,
                    false => self.idle_timeout,
                };
                Some(self.conns[*m.idle.first()?].idle_since + wait)
            })
            .min()
    }

    /// After the worker has handled its events: closes the idle connections that have waited
    /// `--upstream-idle-timeout`, and the oldest of any pool over `--upstream-keepalive` that
    /// have waited `EXCESS_GRACE`.
    pub fn tidy(&mut self, now: Instant) {
        let excess_wait = EXCESS_GRACE.min(self.idle_timeout);
        for member in self.members.iter_mut().flatten() {
            let over = member.idle.len().saturating_sub(self.keepalive);
            let waited = |key: &usize, wait| self.conns[*key].idle_since + wait <= now;
            let excess = member
                .idle
                .iter()
                .take(over)
                .take_while(|k| waited(k, excess_wait))
                .count();
            let expired = excess
                + member
                    .idle
                    .iter()
                    .skip(excess)
                    .take_while(|k| waited(k, self.idle_timeout))
                    .count();
            for key in member.idle.drain(..expired) {
                self.conns.remove(key).io.close_notify();
                self.stats.upstream_idle.sub(1);
            }
        }
    }

    /// Whether the failed exchange on `key` met a stale pooled connection with a request
    /// that may be sent again.
    pub(super) fn is_stale(&self, key: usize) -> bool {
        let up = &self.conns[key];
        up.reused && up.replayable && !up.received_any && matches!(up.stage, Stage::Sending | Stage::Head)
    }

    /// Sends the request on `key` again on a fresh connection to the same upstream. False
    /// when the connection cannot be opened (then nothing of the request has been sent on
    /// it, and it may go elsewhere).
    pub(super) fn reconnect(&mut self, key: usize) -> bool {
        let up = &mut self.conns[key];
        up.reused = false;
        up.reusable = true;
        up.sent_any = false;
        up.out_pos = 0;
        up.filled = 0;
        up.hup = false;
        up.stage = Stage::Sending;
        let (group, member) = (up.group, up.member);
        let Ok(mut socket) = self.connect_socket(group, member) else {
            return false;
        };
        let token = Token(UPSTREAM_TOKENS + key);
        if self
            .registry
            .register(&mut socket, token, Interest::READABLE | Interest::WRITABLE)
            .is_err()
        {
            return false;
        }
        let up: &mut UpstreamConn = &mut self.conns[key];
        // The stale socket is closed as it is dropped, which also takes it out of epoll.
        up.io = Transport::plain(socket);
        up.stage = Stage::Connecting;
        up.ready = false;
        self.stats.upstream_retries.add(1);
        true
    }
}
