//! A client connection whose request went to an upstream (`--proxy`): it parses nothing
//! more until the response is relayed (so pipelined responses stay in order), a request body
//! that is not here whole streams to the upstream as it arrives and the response streams
//! into the write buffer, each only while the other side keeps up (backpressure both ways),
//! and a failure before anything was relayed becomes a 502/504 like any other response.
//! With `--cache-size` the cache is asked first: it may answer, or make the request wait
//! for another one's response to the same key (then it is handed on once that is in).

use super::requests::Sink;
use super::{Conn, Ctx, Life, Phase, TimerKind, Verdict, WRITE_LIMIT};
use crate::http::response::{Persistence, Responder};
use crate::proxy::cache::{Ask, Consult, LOCK_WAIT, Waiter};
use crate::proxy::{ClientSide, Origin, Outgoing, Pumped, RequestBody};
use http_wire::chunked::{ChunkedDecoder, Cursor};
use http_wire::framing::Framing;
use http_wire::request::{self, Head};
use http_wire::status;
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
    /// The cache's answer: another request's response for the same key is on its way.
    CacheLock,
}

/// A request body on its way upstream as it arrives.
#[derive(Debug)]
pub(super) enum Upload {
    /// Bytes still to come.
    Length(u64),
    Chunked(ChunkedDecoder),
}

/// What moving a streamed request body on led to.
pub(super) enum UploadStep {
    /// Waiting for more of it, or for the upstream to take what it has.
    Wait,
    /// All of it is queued for the upstream.
    Done,
    /// Malformed or too large after its head went upstream: nothing to answer, close.
    Abort,
}

/// For a request on a proxy route whose body is not here whole: starts the exchange with
/// the head alone, so the body streams. `None` when the path is no proxy route; else
/// whether it started (if not, the 502 is written and the unread body means a close).
pub(super) fn start_upload(
    h: &Head<'_>,
    head_bytes: &[u8],
    framing: Framing,
    sink: Sink<'_>,
    ctx: &mut Ctx<'_>,
    persistence: Persistence,
) -> Option<bool> {
    let route = ctx.proxy.as_deref()?.route(h.path())?;
    let body = RequestBody::Streamed(framing);
    Some(!hand_upstream(
        route,
        h,
        head_bytes,
        body,
        sink,
        ctx,
        persistence,
        true,
    ))
}

/// Hands a request to the proxy (its cache first, if any); returns whether the connection
/// closes after it (only when it is answered at once: from the cache, or no upstream could
/// be tried). `may_wait`: it may wait for another request's fill of the cache.
#[allow(clippy::too_many_arguments)]
pub(super) fn hand_upstream(
    route: usize,
    h: &Head<'_>,
    head_bytes: &[u8],
    body: RequestBody<'_>,
    sink: Sink<'_>,
    ctx: &mut Ctx<'_>,
    persistence: Persistence,
    may_wait: bool,
) -> bool {
    let Some(proxy) = ctx.proxy.as_deref_mut() else {
        unreachable!("a proxy route without a proxy");
    };
    let fill = match proxy.cache_mut() {
        None => None,
        Some(cache) => {
            let ask = Ask {
                route,
                head: h,
                head_bytes,
                persistence,
                conn: (sink.key, sink.conn_id),
                may_wait,
                now: ctx.now,
            };
            match cache.consult(ask, sink.out) {
                Consult::Hit => {
                    ctx.stats.requests.add(1);
                    return persistence == Persistence::Close;
                }
                Consult::Wait => {
                    *sink.awaiting = Some(Awaiting::CacheLock);
                    return false;
                }
                Consult::Forward(fill) => Some(fill),
            }
        }
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
            client: proxy.client_ip(sink.key, sink.conn_id, sink.socket),
            https: ctx.cfg.tls.is_some(),
            authority: "",
        },
        client,
        owner: (sink.key, sink.conn_id),
        cache_fields: fill.as_deref().and_then(|f| f.upstream_fields()),
    };
    match proxy.start(req, ctx.pool, ctx.now, ctx.scratch) {
        Ok(key) => {
            if let Some(fill) = fill {
                proxy.attach(key, fill);
            }
            *sink.awaiting = Some(Awaiting::Upstream {
                key: key as u32,
                persistence,
                head_only: h.is_head(),
            });
            false
        }
        Err(status) => {
            if let (Some(fill), Some(cache)) = (fill, proxy.cache_mut()) {
                cache.abandon(fill);
            }
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

    /// Queues what has arrived of a streamed request body for its upstream, while the
    /// upstream keeps up.
    pub(super) fn upload_step(&mut self, ctx: &mut Ctx<'_>) -> UploadStep {
        let (Some(Awaiting::Upstream { key, .. }), Some(proxy)) = (self.awaiting, ctx.proxy.as_deref_mut())
        else {
            return UploadStep::Abort;
        };
        let key = key as usize;
        let Phase::Upload(upload) = &mut self.phase else {
            return UploadStep::Abort;
        };
        if !proxy.body_room(key) {
            return UploadStep::Wait;
        }
        self.timer = TimerKind::WriteProgress; // the upstream clock restarts
        let buf = &mut self.rbuf[self.rstart..self.rend];
        let (used, done) = match &mut **upload {
            Upload::Length(remaining) => {
                let n = (*remaining).min(buf.len() as u64) as usize;
                proxy.send_body(key, &buf[..n], false);
                *remaining -= n as u64;
                (n, *remaining == 0)
            }
            Upload::Chunked(decoder) => {
                let mut cur = Cursor { out: 0, input: 0 };
                let Ok(done) = decoder.decode_in_place(buf, &mut cur, ctx.cfg.max_body_bytes as u64) else {
                    return UploadStep::Abort;
                };
                proxy.send_body(key, &buf[..cur.out], true);
                (cur.input, done)
            }
        };
        self.rstart += used;
        if !done {
            return UploadStep::Wait;
        }
        proxy.end_body(key, matches!(**upload, Upload::Chunked(_)));
        UploadStep::Done
    }

    /// The wait for another request's fill of the cache is over: this request is looked up
    /// again (or, when `may_wait` is false, goes upstream at once).
    pub fn on_cache_wake(&mut self, ctx: &mut Ctx<'_>, waiter: Waiter) -> Verdict {
        if self.awaiting != Some(Awaiting::CacheLock) {
            return Verdict::Keep;
        }
        self.awaiting = None;
        self.borrow_buffers(ctx.pool);
        let route = request::parse(&waiter.head, ctx.cfg.max_header_bytes)
            .ok()
            .flatten()
            .and_then(|h| Some((ctx.proxy.as_deref()?.route(h.path())?, h)));
        let Some((route, h)) = route else {
            return Verdict::Close; // it parsed and routed before it waited
        };
        let sink = Sink {
            out: &mut self.wbuf,
            file_slot: &mut self.file_out,
            awaiting: &mut self.awaiting,
            key: self.key,
            conn_id: self.id,
            socket: &self.io.socket,
        };
        let body = RequestBody::Whole(b"");
        if hand_upstream(
            route,
            &h,
            &waiter.head,
            body,
            sink,
            ctx,
            waiter.persistence,
            waiter.may_wait,
        ) {
            self.life = Life::Closing { linger: false };
        }
        self.resume(ctx)
    }

    /// The wait for another request's fill ran out (`LOCK_WAIT`): go upstream alone.
    pub(super) fn cache_wait_over(&mut self, ctx: &mut Ctx<'_>) -> Verdict {
        let conn = (self.key, self.id);
        let cache = ctx.proxy.as_deref_mut().and_then(|p| p.cache_mut());
        match cache.and_then(|c| c.stop_waiting(conn)) {
            Some(waiter) => self.on_cache_wake(
                ctx,
                Waiter {
                    may_wait: false,
                    ..waiter
                },
            ),
            None => Verdict::Close,
        }
    }

    /// How long a request may wait for another's fill of the cache.
    pub(super) fn cache_wait_limit(ctx: &Ctx<'_>) -> std::time::Duration {
        LOCK_WAIT.min(ctx.cfg.upstream_timeout)
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
        // Ended while the client's body is still arriving (answered early, or failed): the
        // rest of the body is not read through; the connection closes after a linger.
        let mid_upload = matches!(self.phase, Phase::Upload(_));
        let persistence = if mid_upload {
            Persistence::Close
        } else {
            persistence
        };
        let out = (&mut self.wbuf, &mut self.file_out);
        let res = Responder::new(out, ctx.scratch, ctx.date.line(), persistence, head_only);
        let close = match pumped {
            Pumped::Pending => return Ok(()),
            Pumped::Broken => {
                // Forget the exchange: the proxy has closed its upstream connection.
                self.awaiting = None;
                return Err(io::Error::other("upstream response cut off"));
            }
            Pumped::Done { close } => close,
            Pumped::Failed(status) => {
                res.send_text_status(status, &[]);
                persistence == Persistence::Close
            }
            Pumped::TimedOut(reason) => {
                res.send_text_detail(status::GATEWAY_TIMEOUT, reason, &[]);
                persistence == Persistence::Close
            }
        };
        self.awaiting = None;
        ctx.stats.requests.add(1);
        if mid_upload {
            self.phase = Phase::Head;
            self.rstart = self.rend;
        }
        if close || mid_upload {
            self.life = Life::Closing { linger: mid_upload };
        }
        Ok(())
    }
}
