//! A client connection whose request went to an upstream (`--proxy`): it parses nothing
//! more until the response is relayed (so pipelined responses stay in order), the response
//! streams into its write buffer only while that has room (backpressure), and a failure
//! before anything was relayed becomes a 502/504 like any other response.

use super::requests::Sink;
use super::{Conn, Ctx, Life, TimerKind, Verdict, WRITE_LIMIT};
use crate::http::response::{Persistence, Responder};
use crate::proxy::{ClientSide, Origin, Outgoing, Pumped};
use http_wire::request::Head;
use std::io;

/// What a connection waits for before it answers anything more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Awaiting {
    /// The database's reply to an API write, answered with this persistence.
    Database(Persistence),
    /// The response of the upstream connection `key` (a slab key, bounded by open
    /// sockets; 32 bits keep an idle connection's `Conn` at its old size).
    Upstream {
        key: u32,
        persistence: Persistence,
        head_only: bool,
    },
}

/// Hands a complete request to the proxy; returns whether the connection closes after it
/// (only when it is answered at once: no upstream could be tried).
pub(super) fn hand_upstream(
    route: usize,
    h: &Head<'_>,
    head_bytes: &[u8],
    body: &[u8],
    sink: Sink<'_>,
    ctx: &mut Ctx<'_>,
    persistence: Persistence,
) -> bool {
    let Some(proxy) = ctx.proxy.as_deref_mut() else {
        unreachable!("a proxy route without a proxy");
    };
    let client = ClientSide {
        minor_version: h.minor_version,
        persistence,
        head_request: h.is_head(),
    };
    let req = Outgoing {
        route,
        head_bytes,
        head: h,
        body,
        origin: Origin {
            client: sink.socket.peer_addr().ok().map(|a| a.ip()),
            https: ctx.cfg.tls.is_some(),
            authority: "",
        },
        client,
        owner: (sink.key, sink.conn_id),
    };
    match proxy.start(req, ctx.pool, ctx.now, ctx.scratch) {
        Ok(key) => {
            *sink.awaiting = Some(Awaiting::Upstream {
                key: key as u32,
                persistence,
                head_only: h.is_head(),
            });
            false
        }
        Err(status) => {
            let out = (sink.out, sink.file_slot);
            Responder::new(out, ctx.scratch, ctx.date.line(), persistence, h.is_head())
                .send_text_status(status, &[]);
            ctx.stats.requests.add(1);
            persistence == Persistence::Close
        }
    }
}

impl Conn {
    /// The upstream connection this connection waits on, if any.
    pub fn upstream_key(&self) -> Option<usize> {
        match self.awaiting {
            Some(Awaiting::Upstream { key, .. }) => Some(key as usize),
            _ => None,
        }
    }

    /// The upstream socket had an event: relay what it brought, then go on as usual.
    pub fn on_upstream(&mut self, ctx: &mut Ctx<'_>) -> Verdict {
        self.resume(ctx)
    }

    /// Whether the exchange could move on now (the upstream had an event and the client's
    /// buffer has room), so the connection should not wait for another event.
    pub(super) fn upstream_can_progress(&self, ctx: &Ctx<'_>) -> bool {
        match (self.awaiting, &ctx.proxy) {
            (Some(Awaiting::Upstream { key, .. }), Some(proxy)) => {
                self.wbuf.len() - self.wpos < WRITE_LIMIT && proxy.is_ready(key as usize)
            }
            _ => false,
        }
    }

    /// Drives the exchange, if one is under way. An error closes the connection (the
    /// response was cut off after its head went out).
    pub(super) fn pump_upstream(&mut self, ctx: &mut Ctx<'_>) -> io::Result<()> {
        let Some(Awaiting::Upstream { key, .. }) = self.awaiting else {
            return Ok(());
        };
        let Some(proxy) = ctx.proxy.as_deref_mut() else {
            return Ok(());
        };
        let before = self.wbuf.len();
        let pumped = proxy.pump(
            key as usize,
            &mut self.wbuf,
            self.wpos + WRITE_LIMIT,
            ctx.pool,
            ctx.now,
        );
        if self.wbuf.len() > before {
            self.timer = TimerKind::WriteProgress; // the upstream clock restarts
        }
        self.exchange_ended(ctx, pumped)
    }

    /// The upstream timeout passed: 504, or a close if the response was already under way.
    pub(super) fn upstream_deadline(&mut self, ctx: &mut Ctx<'_>) -> Verdict {
        let (Some(Awaiting::Upstream { key, .. }), Some(proxy)) = (self.awaiting, ctx.proxy.as_deref_mut())
        else {
            return Verdict::Close;
        };
        self.borrow_buffers(ctx.pool);
        let pumped = proxy.timed_out(key as usize, ctx.pool, ctx.now);
        match self.exchange_ended(ctx, pumped) {
            Ok(()) => self.resume(ctx),
            Err(_) => Verdict::Close,
        }
    }

    fn exchange_ended(&mut self, ctx: &mut Ctx<'_>, pumped: Pumped) -> io::Result<()> {
        let Some(Awaiting::Upstream {
            persistence,
            head_only,
            ..
        }) = self.awaiting
        else {
            return Ok(());
        };
        let close = match pumped {
            Pumped::Pending => return Ok(()),
            Pumped::Broken => {
                // Forget the exchange: the proxy has closed its upstream connection.
                self.awaiting = None;
                return Err(io::Error::other("upstream response cut off"));
            }
            Pumped::Done { close } => close,
            Pumped::Failed(status) => {
                let out = (&mut self.wbuf, &mut self.file_out);
                Responder::new(out, ctx.scratch, ctx.date.line(), persistence, head_only)
                    .send_text_status(status, &[]);
                persistence == Persistence::Close
            }
        };
        self.awaiting = None;
        ctx.stats.requests.add(1);
        if close {
            self.life = Life::Closing { linger: false };
        }
        Ok(())
    }
}
