//! Driving one request through its upstream connection for the client connection that
//! waits on it: connect, send, read the response head, stream the body into the client's
//! write buffer while it has room (backpressure: a client that does not read stops the
//! upstream reads), then pool or close the connection. Failures become 502/504 while
//! nothing of the response has reached the client, and a cut-off response otherwise.

use super::cache::Cache;
use super::relay;
use super::upstream::Stage;
use super::{Proxy, UPSTREAM_TOKENS};
use crate::buffers::BufferPool;
use crate::http::response::Persistence;
use http_wire::response;
use http_wire::status::{self, Status};
use mio::{Interest, Token};
use std::time::Instant;
use transport::Transport;

/// A response head larger than this is refused (502), like a request head over the limit.
pub(super) const MAX_RESPONSE_HEAD: usize = 64 * 1024;
/// Upstream reads of a response body take up to this much at a time.
const BODY_READ: usize = 64 * 1024;

/// Where an exchange stands after being driven.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pumped {
    /// Waiting for the upstream (or for room in the client's buffer).
    Pending,
    /// The whole response is in the client's buffer; `close`: the client connection ends
    /// after it (close-delimited body, or the client asked).
    Done { close: bool },
    /// Nothing of the response reached the client: answer with this status instead.
    Failed(Status),
    /// Nothing of the response reached the client before the upstream timed out: answer
    /// 504 with this reason.
    TimedOut(&'static str),
    /// The response was cut off after its head went to the client: close the client.
    Broken,
}

/// Why an exchange failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cause {
    /// Connecting, writing or reading failed, or the upstream closed early.
    Io,
    /// The response was not HTTP, or its framing was ambiguous (CL with TE...).
    Malformed,
}

impl Proxy {
    /// Moves the exchange on `key` forward as far as it goes without blocking, appending
    /// the client's bytes to `out` until it holds `limit` bytes.
    pub fn pump(
        &mut self,
        key: usize,
        out: &mut Vec<u8>,
        limit: usize,
        pool: &mut BufferPool,
        now: Instant,
    ) -> Pumped {
        loop {
            let up = &mut self.conns[key];
            match &up.stage {
                Stage::Idle => return Pumped::Pending,
                Stage::Connecting => {
                    if !up.ready {
                        return Pumped::Pending;
                    }
                    // The connect's first event says it completed or failed; a failure comes
                    // back from the first write (ECONNREFUSED...), so neither SO_ERROR nor
                    // the peer's address is asked for (two syscalls per new connection).
                    if self.connected(key).is_err() {
                        return self.fail(key, Cause::Io, pool, now);
                    }
                }
                Stage::Handshaking => {
                    if !up.ready {
                        return Pumped::Pending;
                    }
                    match self.handshake(key) {
                        Ok(true) => {}
                        Ok(false) => return Pumped::Pending,
                        Err(_) => return self.fail(key, Cause::Io, pool, now),
                    }
                }
                Stage::Sending if up.ready && up.sent_any => match self.response_began(key) {
                    // A response before the request is all sent (an upload refused early).
                    Ok(true) => {
                        if let Some(done) = self.take_input(key, out, pool, now) {
                            return done;
                        }
                    }
                    Ok(false) => self.conns[key].ready = false,
                    Err(_) => return self.fail(key, Cause::Io, pool, now),
                },
                Stage::Sending => match up.send() {
                    Ok(true) if !up.body_done => {
                        // A streamed body: what was queued is out; room for more, and
                        // nothing to do until more comes (`send_body` marks it ready).
                        up.out.clear();
                        up.out_pos = 0;
                        up.ready = false;
                        return Pumped::Pending;
                    }
                    Ok(true) => {
                        if !(up.reused && up.replayable) {
                            pool.give_write(std::mem::take(&mut up.out));
                        } // else kept until the response, to send again if the connection is stale
                        up.stage = Stage::Head;
                        // Nothing can be in the socket before the request is: the response
                        // brings a new edge, so no read need try first (and meet EAGAIN).
                        up.ready = false;
                    }
                    Ok(false) => return Pumped::Pending,
                    // The upstream may have answered and closed before taking it all.
                    Err(_) => match self.response_began(key) {
                        Ok(true) => {
                            if let Some(done) = self.take_input(key, out, pool, now) {
                                return done;
                            }
                        }
                        _ => return self.fail(key, Cause::Io, pool, now),
                    },
                },
                Stage::Head | Stage::Body(_) => {
                    if out.len() >= limit || !up.ready {
                        return Pumped::Pending;
                    }
                    match up.receive(&mut self.tls_scratch) {
                        Ok(None) => return Pumped::Pending,
                        Ok(Some(0)) => return self.at_eof(key, out, pool, now),
                        Ok(Some(_)) => {
                            if let Some(done) = self.take_input(key, out, pool, now) {
                                return done;
                            }
                        }
                        Err(_) => return self.fail(key, Cause::Io, pool, now),
                    }
                }
            }
        }
    }

    /// Relays what was read; `Some` when the exchange ended.
    fn take_input(
        &mut self,
        key: usize,
        out: &mut Vec<u8>,
        pool: &mut BufferPool,
        now: Instant,
    ) -> Option<Pumped> {
        let up = &mut self.conns[key];
        let mut start = 0;
        if matches!(up.stage, Stage::Head) {
            let mut client = up.facts.client;
            if up.early && !up.body_done {
                // The client is still sending a body no one will read (see `early`).
                client.persistence = Persistence::Close;
            }
            let head = match response::parse(&up.input[..up.filled], client.head_request) {
                Ok(None) if up.filled < MAX_RESPONSE_HEAD => return None,
                Ok(Some(h)) if h.status == 101 => return Some(self.fail(key, Cause::Malformed, pool, now)),
                Ok(Some(h)) => h,
                Ok(None) | Err(_) => return Some(self.fail(key, Cause::Malformed, pool, now)),
            };
            if head.is_interim() {
                // 100 Continue and 103 Early Hints: the real response follows.
                up.input.copy_within(head.len..up.filled, 0);
                up.filled -= head.len;
                return self.take_input(key, out, pool, now);
            }
            if let (Some(fill), Some(cache)) = (up.fill.as_deref_mut(), self.cache.as_mut()) {
                if cache.on_head(fill, &up.input[..head.len], &head, client, out, now) {
                    // A 304 refreshed the entry, which answered the client.
                    up.reusable = !head.close && !up.early && up.filled == head.len;
                    up.close_client = client.persistence == Persistence::Close;
                    return Some(self.finish(key, pool, now));
                }
            }
            let (body, close) = relay::write_head(out, &up.input[..head.len], &head, client);
            if let Some(fill) = &up.fill {
                Cache::relayed_head(out, fill);
            }
            up.reusable = !head.close && !up.early;
            up.close_client = close;
            start = head.len;
            match body {
                None => {
                    up.reusable &= up.filled == head.len;
                    return Some(self.finish(key, pool, now));
                }
                Some(body) => up.stage = Stage::Body(body),
            }
        }
        let Stage::Body(body) = &mut up.stage else {
            unreachable!("a response past its head has a body")
        };
        let filled = up.filled;
        up.filled = 0;
        let relayed = body.relay(&mut up.input[start..filled], out);
        if let (Ok(r), Some(fill), Some(cache)) = (relayed, up.fill.as_deref_mut(), self.cache.as_mut()) {
            cache.on_body(fill, &up.input[start..start + r.data]);
        }
        match relayed {
            Ok(r) if r.done => {
                up.reusable &= start + r.used == filled;
                Some(self.finish(key, pool, now))
            }
            Ok(_) => {
                // More body to come: read it in larger pieces. Not before: most bodies come
                // whole with their head, and growing (zeroing) 60 KiB for each of them was
                // the proxy's largest cost outside the kernel.
                if up.input.len() < BODY_READ {
                    up.input.resize(BODY_READ, 0);
                }
                None
            }
            Err(_) => Some(self.fail(key, Cause::Malformed, pool, now)),
        }
    }

    fn at_eof(&mut self, key: usize, out: &mut Vec<u8>, pool: &mut BufferPool, now: Instant) -> Pumped {
        let up = &mut self.conns[key];
        up.reusable = false;
        let complete = match &mut up.stage {
            Stage::Body(body) => body.at_eof(out),
            _ => false,
        };
        match complete {
            true => self.finish(key, pool, now),
            false => self.fail(key, Cause::Io, pool, now),
        }
    }

    /// The response is relayed: the connection goes back to its pool if it may be used
    /// again and the pool has room, else it is closed.
    fn finish(&mut self, key: usize, pool: &mut BufferPool, now: Instant) -> Pumped {
        let up = &mut self.conns[key];
        if let (Some(fill), Some(cache)) = (up.fill.take(), &mut self.cache) {
            cache.complete(fill);
        }
        let close = up.close_client;
        self.members[up.group][up.member].succeeded();
        self.stats.proxied.add(1);
        self.put_idle(key, pool, now);
        Pumped::Done { close }
    }

    /// The exchange failed: retried on another member when it is idempotent and nothing
    /// of it was sent, else 502 (or a cut-off response once the head went out).
    fn fail(&mut self, key: usize, cause: Cause, pool: &mut BufferPool, now: Instant) -> Pumped {
        if cause == Cause::Io && self.is_stale(key) && self.reconnect(key) {
            return Pumped::Pending;
        }
        let up = &self.conns[key];
        let (group, member) = (up.group, up.member);
        self.members[group][member].failed(now);
        if matches!(up.stage, Stage::Body(_)) {
            self.close(key, pool);
            return Pumped::Broken;
        }
        if cause == Cause::Io && !up.sent_any && up.facts.idempotent && self.retry(key, now) {
            return Pumped::Pending;
        }
        self.close(key, pool);
        self.stats.upstream_bad_gateway.add(1);
        Pumped::Failed(status::BAD_GATEWAY)
    }

    /// Moves the request on `key` to a new connection to a member not tried yet.
    fn retry(&mut self, key: usize, now: Instant) -> bool {
        let up = &self.conns[key];
        let (group, old, mut tried) = (up.group, up.member, up.tried | 1 << up.member.min(63));
        while let Some(member) = super::balance::pick(&self.members[group], &mut self.next[group], tried, now)
        {
            tried |= 1 << member.min(63);
            // An idle pooled connection of that member takes over, else a new one.
            let (io, stage) = match self.members[group][member].idle.pop() {
                Some(idle) => {
                    self.stats.upstream_idle.sub(1);
                    self.stats.upstream_reused.add(1);
                    (self.conns.remove(idle).io, Stage::Sending)
                }
                None => match self.connect_socket(group, member) {
                    Ok(socket) => (Transport::plain(socket), Stage::Connecting),
                    Err(_) => {
                        self.members[group][member].failed(now);
                        continue;
                    }
                },
            };
            let mut io = io;
            let token = Token(UPSTREAM_TOKENS + key);
            let interest = Interest::READABLE | Interest::WRITABLE;
            let registered = match stage {
                Stage::Sending => self.registry.reregister(&mut io.socket, token, interest),
                _ => self.registry.register(&mut io.socket, token, interest),
            };
            if registered.is_err() {
                continue;
            }
            self.members[group][old].in_flight -= 1;
            self.members[group][member].in_flight += 1;
            let up = &mut self.conns[key];
            up.io = io;
            up.member = member;
            up.tried = tried;
            // A pooled connection is writable now; a new one says so with an event.
            up.ready = matches!(stage, Stage::Sending);
            up.reused = matches!(stage, Stage::Sending);
            up.hup = false; // that was the old socket's
            up.stage = stage;
            up.out_pos = 0;
            self.stats.upstream_retries.add(1);
            return true;
        }
        false
    }

    /// The client's upstream deadline passed: 504 while nothing was relayed, else cut off.
    pub fn timed_out(&mut self, key: usize, pool: &mut BufferPool, now: Instant) -> Pumped {
        let up = &self.conns[key];
        self.members[up.group][up.member].failed(now);
        let stage_reason = match up.stage {
            Stage::Body(_) => None,
            Stage::Connecting => Some("connecting to the upstream timed out"),
            Stage::Handshaking => Some("the TLS handshake with the upstream timed out"),
            _ => Some("the upstream did not answer in time"),
        };
        self.close(key, pool);
        let Some(reason) = stage_reason else {
            return Pumped::Broken;
        };
        self.stats.upstream_gateway_timeout.add(1);
        Pumped::TimedOut(reason)
    }

    /// Whether the exchange on `key` is still connecting, TLS handshake included (the
    /// connect timeout applies, as nginx's proxy_connect_timeout does).
    pub fn is_connecting(&self, key: usize) -> bool {
        self.conns
            .get(key)
            .is_some_and(|up| matches!(up.stage, Stage::Connecting | Stage::Handshaking))
    }
}
