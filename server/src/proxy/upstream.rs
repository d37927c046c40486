//! One connection to an upstream server, in the worker's `mio::Poll` like a client
//! connection: its transport (plain, or TLS to an https:// upstream), the request bytes
//! still to send, the response bytes not yet relayed, and where it is in its life.

use super::relay::{BodyRelay, ClientSide};
use rustls::ClientConnection;
use std::io;
use std::time::Instant;
use transport::{Got, Transport};

/// The client connection an upstream connection works for (slab key and id, as database
/// replies find theirs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owner {
    pub key: usize,
    pub conn_id: u64,
}

/// Where an upstream connection is in its life.
#[derive(Debug)]
pub enum Stage {
    /// Non-blocking connect under way.
    Connecting,
    /// Connected to an https:// upstream; TLS handshake under way.
    Handshaking,
    /// Writing the request.
    Sending,
    /// Request sent; reading the response head.
    Head,
    /// Head relayed; streaming the body.
    Body(BodyRelay),
    /// In its upstream's keep-alive pool.
    Idle,
}

/// What the request is, as far as retries and the response's form depend on it.
#[derive(Clone, Copy, Debug)]
pub struct RequestFacts {
    pub idempotent: bool,
    pub client: ClientSide,
}

pub struct UpstreamConn {
    pub io: Transport<ClientConnection>,
    /// Its proxy route (group) and member.
    pub group: usize,
    pub member: usize,
    pub stage: Stage,
    pub owner: Option<Owner>,
    pub facts: RequestFacts,
    /// Request bytes; `out_pos..` are not yet written. Lent from the worker's pool.
    pub out: Vec<u8>,
    pub out_pos: usize,
    /// Response bytes received and not yet relayed: `input[..filled]`. Lent too.
    pub input: Vec<u8>,
    pub filled: usize,
    /// An event came since the socket last proved drained (or unwritable).
    pub ready: bool,
    /// The whole request is in `out` (a streamed body has ended).
    pub body_done: bool,
    /// Some request byte reached the socket: the request may not be retried elsewhere.
    pub sent_any: bool,
    /// Members already tried for this request (a bit per member).
    pub tried: u64,
    /// The response allows the connection to be used again.
    pub reusable: bool,
    /// The client's connection ends after this response.
    pub close_client: bool,
    /// With `--cache-size`: what the response means to the cache.
    pub fill: Option<Box<super::cache::Fill>>,
    /// Taken from the keep-alive pool for this request: the upstream may have closed it
    /// just as the request went out (a stale connection, not a failing upstream).
    pub reused: bool,
    /// The request may be sent again on a fresh connection if a reused one turns out
    /// stale: it is idempotent and its body was here whole (nothing streamed from the
    /// client was consumed), so `out` keeps the whole request until the response comes.
    pub replayable: bool,
    /// Some response byte arrived.
    pub received_any: bool,
    /// The upstream's FIN (or an error) was reported: never pooled again.
    pub hup: bool,
    /// The response began before the request was all sent: the rest of the request is
    /// dropped, and the connection never pooled again.
    pub early: bool,
    /// When it went into the pool (the idle timeout counts from here).
    pub idle_since: Instant,
}

impl UpstreamConn {
    pub fn new(
        io: Transport<ClientConnection>,
        group: usize,
        member: usize,
        facts: RequestFacts,
        now: Instant,
    ) -> UpstreamConn {
        UpstreamConn {
            io,
            group,
            member,
            stage: Stage::Connecting,
            owner: None,
            facts,
            out: Vec::new(),
            out_pos: 0,
            input: Vec::new(),
            filled: 0,
            ready: false,
            body_done: true,
            sent_any: false,
            tried: 0,
            reusable: true,
            close_client: false,
            fill: None,
            reused: false,
            replayable: false,
            received_any: false,
            hup: false,
            early: false,
            idle_since: now,
        }
    }

    /// Writes what is queued of the request; `Ok(true)` once all of it is out (and, over
    /// TLS, out of the session too).
    pub fn send(&mut self) -> io::Result<bool> {
        while self.out_pos < self.out.len() {
            match self.io.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.out_pos += n;
                    self.sent_any = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.ready = false;
                    return Ok(false);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let flushed = self.io.flush()?;
        self.ready &= flushed;
        Ok(flushed)
    }

    /// Reads once into the free end of the input buffer: the byte count (0 is EOF), or
    /// `None` when nothing is there. A short read proves the socket drained. `scratch`
    /// takes TLS ciphertext.
    pub fn receive(&mut self, scratch: &mut [u8]) -> io::Result<Option<usize>> {
        if self.filled == self.input.len() {
            let grown = (self.input.len() * 2).max(4096);
            self.input.resize(grown, 0);
        }
        match self.io.read(&mut self.input[self.filled..], scratch) {
            Ok(Got { n, drained }) => {
                self.ready &= !drained;
                self.filled += n;
                self.received_any |= n > 0;
                Ok(Some(n))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.ready = false;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Moves the TLS handshake on: `Ok(true)` once it is done.
    pub fn handshake(&mut self, scratch: &mut [u8]) -> io::Result<bool> {
        let done = self.io.handshake(&mut self.input, scratch)?;
        self.ready &= done; // else the next flight comes with an event
        Ok(done)
    }

    /// An idle pooled connection got an event: anything readable (EOF, an error, bytes no
    /// request asked for) means it can no longer be used. (A TLS session ticket is read
    /// and kept by the session, and leaves it usable.)
    pub fn still_usable(&mut self, scratch: &mut [u8]) -> bool {
        let mut probe = [0u8; 1];
        matches!(self.io.read(&mut probe, scratch), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}
