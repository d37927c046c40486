//! Which timeout a connection is under, and what happens when it expires.

use super::proxied::Awaiting;
use super::{Conn, Ctx, Life, Phase, Verdict, WRITE_LIMIT};
use http_wire::error::HttpError;
use std::time::Duration;

/// How long an erroring connection keeps discarding input before it is closed.
pub const LINGER: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    /// Accepted, nothing received: closed quietly at `--header-timeout`.
    Fresh,
    /// Between requests: closed quietly at `--keepalive-timeout`.
    Idle,
    /// Part of a head received: 408 at `--header-timeout` from its first byte.
    Head,
    /// Part of a body received: 408 when no more arrives within `--header-timeout`.
    Body,
    /// Bytes were just written; the stall clock restarts.
    WriteProgress,
    /// Output waiting and the client not reading: closed at `--keepalive-timeout`.
    WriteStall,
    /// Waiting for an upstream connection to be accepted: 504 at `--upstream-connect-timeout`.
    UpstreamConnect,
    /// Waiting on an upstream (response, next piece of the body): 504 (or a close once the
    /// response is under way) at `--upstream-timeout`.
    Upstream,
    /// Waiting for another request's response to fill the cache: at the end of the wait
    /// the request goes upstream itself.
    CacheLock,
}

impl Conn {
    /// Sets the deadline for the state the connection is now in.
    pub(super) fn update_deadline(&mut self, ctx: &Ctx<'_>) {
        let cfg = ctx.cfg;
        if self.life == Life::Lingering {
            return; // its deadline is the linger's end
        }
        if let Some(Awaiting::Upstream { key, .. }) = self.awaiting {
            let (kind, limit) = if self.wbuf.len() - self.wpos >= WRITE_LIMIT {
                // The client is the one not keeping up.
                (TimerKind::WriteStall, cfg.keepalive_timeout)
            } else if ctx
                .proxy
                .as_deref()
                .is_some_and(|p| p.is_connecting(key as usize))
            {
                (TimerKind::UpstreamConnect, cfg.upstream_connect_timeout)
            } else {
                (TimerKind::Upstream, cfg.upstream_timeout)
            };
            if self.timer != kind {
                self.deadline = ctx.now + limit;
                self.timer = kind;
            }
            return;
        }
        if self.awaiting == Some(Awaiting::CacheLock) {
            if self.timer != TimerKind::CacheLock {
                self.deadline = ctx.now + Conn::cache_wait_limit(ctx);
                self.timer = TimerKind::CacheLock;
            }
            return;
        }
        if self.awaiting.is_some() {
            // The database answers; the keep-alive clock only guards against it never doing so.
            self.deadline = ctx.now + cfg.keepalive_timeout;
            self.timer = TimerKind::Idle;
            return;
        }
        if self.output_pending() {
            if self.timer != TimerKind::WriteStall {
                self.deadline = ctx.now + cfg.keepalive_timeout;
                self.timer = TimerKind::WriteStall;
            }
            return;
        }
        match self.phase {
            Phase::Head if self.rstart == self.rend => {
                if self.served_any || self.timer != TimerKind::Fresh {
                    self.deadline = ctx.now + cfg.keepalive_timeout;
                    self.timer = TimerKind::Idle;
                }
            }
            Phase::Head => match self.timer {
                TimerKind::Head => {}
                // The header clock of a new connection started when it was accepted.
                TimerKind::Fresh => self.timer = TimerKind::Head,
                _ => {
                    self.deadline = ctx.now + cfg.header_timeout;
                    self.timer = TimerKind::Head;
                }
            },
            Phase::AwaitBody { .. } | Phase::Chunked(_) | Phase::Upload(_) => {
                self.deadline = ctx.now + cfg.header_timeout;
                self.timer = TimerKind::Body;
            }
        }
    }

    /// The deadline passed: close quietly, or answer 408 first if a request was under way.
    pub fn on_deadline(&mut self, ctx: &mut Ctx<'_>) -> Verdict {
        match self.timer {
            TimerKind::Head | TimerKind::Body if self.life == Life::Open => {
                self.borrow_buffers(ctx.pool);
                self.fail(ctx, HttpError::Timeout);
                self.on_ready(ctx, false)
            }
            TimerKind::Upstream | TimerKind::UpstreamConnect => self.upstream_deadline(ctx),
            TimerKind::CacheLock => self.cache_wait_over(ctx),
            _ => Verdict::Close,
        }
    }
}
