//! One client connection: its buffers, its socket I/O and its state between events.
//!
//! Per readiness event: read until the socket is drained (or the read buffer is full),
//! answer every complete request in the buffer into one write buffer, write once.
//! While more than `WRITE_LIMIT` bytes wait to be written nothing more is read or parsed,
//! so a client that sends without reading cannot grow server memory.

mod deadline;
mod file_send;
mod lending;
mod proxied;
mod requests;
mod tls_start;

pub use deadline::TimerKind;

use crate::api::jobs::Answer;
use crate::api::{self, Api};
use crate::buffers::BufferPool;
use crate::config::Config;
use crate::files::StaticFiles;
use crate::http::response::{FileBody, Persistence, Responder};
use crate::proxy::Proxy;
use crate::stats::WorkerCounters;
use http_wire::chunked::{ChunkedDecoder, Cursor};
use http_wire::date::DateCache;
use mio::net::TcpStream;
use proxied::Awaiting;
use rustls::{ServerConfig, ServerConnection};
use std::io::{self, Read};
use std::net::Shutdown;
use std::sync::Arc;
use std::time::Instant;
use transport::{Got, Transport};

/// Response bytes a connection may have waiting before it stops reading and parsing.
pub const WRITE_LIMIT: usize = 64 * 1024;
/// Buffers grown past these by one big request are given back once it is answered.
const KEEP_READ_BUFFER: usize = 64 * 1024;
const KEEP_WRITE_BUFFER: usize = 256 * 1024;

/// What the worker shares with a connection while it handles an event.
pub struct Ctx<'a> {
    pub cfg: &'a Config,
    pub date: &'a DateCache,
    pub scratch: &'a mut Vec<u8>,
    /// The worker's buffer for TLS ciphertext and for file bodies sent through TLS.
    pub tls_buf: &'a mut [u8],
    /// Where this connection's read and write buffers come from, per event.
    pub pool: &'a mut BufferPool,
    pub stats: &'a WorkerCounters,
    pub files: Option<&'a mut StaticFiles>,
    pub api: Option<&'a Api>,
    /// The worker's upstream connections (with `--proxy`).
    pub proxy: Option<&'a mut Proxy>,
    pub now: Instant,
    /// The server is shutting down: answer what was received, then close.
    pub draining: bool,
}

/// Whether the worker should keep a connection after handling an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    Close,
}

/// Where a connection is in reading the current request.
#[derive(Debug)]
enum Phase {
    Head,
    /// Head parsed; waiting until `total` bytes (head + Content-Length body) are buffered.
    AwaitBody {
        total: usize,
    },
    /// Decoding a chunked body in place (boxed: rare, and it would triple every idle
    /// connection's size).
    Chunked(Box<ChunkedBody>),
    /// Streaming a body to the upstream its request went to (boxed for the same reason).
    Upload(Box<proxied::Upload>),
}

/// A chunked body under way after a head of `head_len` bytes.
#[derive(Debug)]
struct ChunkedBody {
    head_len: usize,
    decoder: ChunkedDecoder,
    cur: Cursor,
}

/// Where a connection is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Life {
    /// Reading and answering requests.
    Open,
    /// The last response is queued; once it is written, close (the client asked for it, or
    /// the server is draining) or, after an error response, linger.
    Closing { linger: bool },
    /// After an error response: the write side is shut and input is discarded until EOF or
    /// `LINGER`, so the client reads the response before a reset could destroy it.
    Lingering,
}

pub struct Conn {
    pub id: u64,
    /// This connection's slot in the worker's slab (database replies come back by it).
    key: usize,
    io: Transport<ServerConnection>,
    /// Accepted on a TLS listener and nothing read yet: the first byte tells a ClientHello
    /// from plain HTTP sent to the wrong port.
    tls_expected: Option<Arc<ServerConfig>>,
    /// The TLS handshake has finished and been counted (or there is none).
    handshake_counted: bool,
    /// Read buffer; bytes `rstart..rend` are received but not yet consumed. Lent by the
    /// worker's pool during an event; between events empty, or only a partial request.
    rbuf: Vec<u8>,
    rstart: usize,
    rend: usize,
    /// Write buffer; bytes `wpos..` are not yet written. Lent while there is output.
    wbuf: Vec<u8>,
    wpos: usize,
    rbuf_lent: bool,
    wbuf_lent: bool,
    /// A file body that follows the bytes in `wbuf`; nothing more is parsed until it is sent.
    file_out: Option<FileBody>,
    /// A request is with the database or an upstream; its response comes first.
    awaiting: Option<Awaiting>,
    phase: Phase,
    life: Life,
    peer_closed: bool,
    /// The peer's FIN was reported; a short read no longer proves the socket is drained.
    hup_seen: bool,
    /// The last read drained the socket and no readiness event came since: resuming after a
    /// database reply need not try another read (it would only return EAGAIN).
    drained: bool,
    served_any: bool,
    pub deadline: Instant,
    /// The deadline of this connection's live timer entry, if it has one.
    pub armed_at: Option<Instant>,
    pub timer: TimerKind,
}

enum Fill {
    Data {
        short: bool,
    },
    WouldBlock,
    Eof,
    Full,
    /// Plain HTTP arrived on a TLS listener (its bytes are in the read buffer).
    NotTls,
}

impl Conn {
    pub fn new(
        id: u64,
        key: usize,
        stream: TcpStream,
        tls: Option<Arc<ServerConfig>>,
        now: Instant,
        cfg: &Config,
    ) -> Conn {
        Conn {
            id,
            key,
            io: Transport::plain(stream),
            // Nothing to count on a plain connection: one flag test per read.
            handshake_counted: tls.is_none(),
            tls_expected: tls,
            rbuf: Vec::new(),
            rstart: 0,
            rend: 0,
            wbuf: Vec::new(),
            wpos: 0,
            rbuf_lent: false,
            wbuf_lent: false,
            file_out: None,
            awaiting: None,
            phase: Phase::Head,
            life: Life::Open,
            peer_closed: false,
            hup_seen: false,
            drained: false,
            served_any: false,
            deadline: now + cfg.header_timeout,
            armed_at: None,
            timer: TimerKind::Fresh,
        }
    }

    /// Handles a readiness event (or a resumption): read, answer, write.
    pub fn on_ready(&mut self, ctx: &mut Ctx<'_>, hup: bool) -> Verdict {
        self.hup_seen |= hup;
        self.drained = false;
        self.resume(ctx)
    }

    /// Goes on after a state change without a new event: answer, write, and read only if the
    /// socket may still hold data.
    fn resume(&mut self, ctx: &mut Ctx<'_>) -> Verdict {
        self.borrow_buffers(ctx.pool);
        let progressed = self.drive(ctx);
        let verdict = match progressed {
            Ok(v) => v,
            Err(_) => Verdict::Close,
        };
        ctx.stats.peak_conn_read_buffer.raise_to(self.rbuf.len() as u64);
        if verdict == Verdict::Keep {
            self.update_deadline(ctx);
            self.return_idle_buffers(ctx.pool);
        }
        verdict
    }

    /// Asks epoll for this connection's events (edge-triggered, both directions). Readiness
    /// at registration is reported at once, so nothing that arrived before is missed.
    pub fn register(&mut self, registry: &mio::Registry, token: mio::Token) -> io::Result<()> {
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        registry.register(&mut self.io.socket, token, interest)
    }

    /// True when no request is partly received and no response is waiting.
    pub fn is_idle(&self) -> bool {
        matches!(self.phase, Phase::Head) && self.rstart == self.rend && !self.output_pending()
    }

    fn output_pending(&self) -> bool {
        self.wpos < self.wbuf.len()
            || self.file_out.is_some()
            || self.awaiting.is_some()
            || self.io.output_pending()
    }

    /// The database answered this connection's deferred request: write it, then go on
    /// with whatever was pipelined behind it.
    pub fn on_db_reply(&mut self, ctx: &mut Ctx<'_>, answer: &Answer) -> Verdict {
        let Some(Awaiting::Database(persistence)) = self.awaiting else {
            return Verdict::Keep;
        };
        self.awaiting = None;
        self.borrow_buffers(ctx.pool);
        let out = (&mut self.wbuf, &mut self.file_out);
        api::respond(
            answer,
            Responder::new(out, ctx.scratch, ctx.date.line(), persistence, false),
        );
        ctx.stats.requests.add(1);
        if persistence == Persistence::Close {
            self.life = Life::Closing { linger: false };
        }
        self.resume(ctx)
    }

    fn drive(&mut self, ctx: &mut Ctx<'_>) -> io::Result<Verdict> {
        let mut may_read = !self.drained || self.hup_seen;
        loop {
            self.pump_upstream(ctx)?;
            let backlog = self.process(ctx);
            let pending = (self.wbuf.len() - self.wpos) as u64;
            ctx.stats.peak_conn_write_pending.raise_to(pending);
            if !self.flush(ctx)? {
                return Ok(Verdict::Keep); // WRITABLE will bring us back
            }
            match self.life {
                Life::Open => {}
                Life::Closing { linger: false } => return Ok(Verdict::Close),
                Life::Closing { linger: true } => {
                    self.begin_linger(ctx);
                    return self.discard_input(ctx);
                }
                Life::Lingering => return self.discard_input(ctx),
            }
            // Requests held back by the output just written need no new event, nor does an
            // upstream response the full write buffer held back.
            if (backlog && !may_read) || self.upstream_can_progress(ctx) {
                continue;
            }
            if self.peer_closed || (ctx.draining && self.is_idle()) {
                return Ok(Verdict::Close);
            }
            if !may_read {
                return Ok(Verdict::Keep);
            }
            match self.fill(ctx)? {
                // A short read drained the socket: the next data brings a new edge.
                Fill::Data { short } => {
                    self.drained = short;
                    may_read = !short || self.hup_seen;
                }
                Fill::WouldBlock => {
                    self.drained = true;
                    return Ok(Verdict::Keep);
                }
                // Complete requests still get answered, then the connection closes; a
                // partial one is abandoned.
                Fill::Eof => {
                    self.peer_closed = true;
                    may_read = false;
                }
                // Behind a request that waits for the database nothing is parsed, so a full
                // buffer is pipelined requests, not an oversized one: read on after the reply.
                Fill::NotTls => self.fail(ctx, http_wire::error::HttpError::PlainHttpToTls),
                Fill::Full if self.awaiting.is_some() => return Ok(Verdict::Keep),
                Fill::Full => {
                    self.process(ctx);
                    if self.rend == self.rbuf.len() && self.rstart == 0 {
                        self.fail(
                            ctx,
                            http_wire::error::HttpError::HeadersTooLarge("request too large"),
                        );
                    }
                }
            }
        }
    }

    /// Reads once into the free end of the read buffer, compacting or growing it first.
    fn fill(&mut self, ctx: &mut Ctx<'_>) -> io::Result<Fill> {
        if self.rstart == self.rend {
            self.rstart = 0;
            self.rend = 0;
            if self.rbuf.len() > KEEP_READ_BUFFER && matches!(self.phase, Phase::Head) {
                self.rbuf.truncate(crate::buffers::READ_SIZE);
                self.rbuf.shrink_to_fit();
            }
        } else if self.rend == self.rbuf.len() {
            if self.rstart > 0 {
                self.rbuf.copy_within(self.rstart..self.rend, 0);
                self.rend -= self.rstart;
                self.rstart = 0;
            } else if self.rbuf.len() < ctx.cfg.max_read_buffer() && !matches!(self.phase, Phase::Upload(_)) {
                // A body streaming upstream never grows the buffer: it waits for the upstream.
                let grown = (self.rbuf.len() * 2).min(ctx.cfg.max_read_buffer());
                self.rbuf.resize(grown, 0);
            } else {
                return Ok(Fill::Full);
            }
        }
        loop {
            let got = self.io.read(&mut self.rbuf[self.rend..], ctx.tls_buf);
            self.count_handshake(ctx);
            match got {
                Ok(Got { n: 0, .. }) => {
                    ctx.stats.reads.add(1);
                    return Ok(Fill::Eof);
                }
                Ok(Got { n, drained }) => {
                    ctx.stats.reads.add(1);
                    if self.tls_expected.is_some() {
                        match self.start_tls(ctx, n)? {
                            true => continue, // the ClientHello is in; read plaintext now
                            false => return Ok(Fill::NotTls),
                        }
                    }
                    ctx.stats.bytes_in.add(n as u64);
                    self.rend += n;
                    return Ok(Fill::Data { short: drained });
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Fill::WouldBlock),
                Err(e) => return Err(self.tls_failed(ctx, e)),
            }
        }
    }

    /// Writes pending output (buffer, then any file body); true when all of it went out.
    fn flush(&mut self, ctx: &mut Ctx<'_>) -> io::Result<bool> {
        let tls = self.io.tls().is_some();
        while self.wpos < self.wbuf.len() {
            let pending = &self.wbuf[self.wpos..];
            let written = if self.file_out.is_some() && !tls {
                file_send::send_more(&self.io.socket, pending)
            } else {
                self.io.write(pending)
            };
            match written {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    ctx.stats.writes.add(1);
                    ctx.stats.bytes_out.add(n as u64);
                    self.wpos += n;
                    self.timer = TimerKind::WriteProgress;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        self.wbuf.clear();
        self.wpos = 0;
        if self.wbuf.capacity() > KEEP_WRITE_BUFFER {
            self.wbuf.shrink_to(KEEP_WRITE_BUFFER / 4);
        }
        while let Some(body) = &mut self.file_out {
            let sent = match tls {
                true => file_send::through_tls(&mut self.io, body, ctx.tls_buf),
                false => file_send::sendfile(&self.io.socket, body),
            };
            match sent {
                Ok(n) => {
                    ctx.stats.writes.add(1);
                    ctx.stats.bytes_out.add(n as u64);
                    self.timer = TimerKind::WriteProgress;
                    if body.remaining == 0 {
                        self.file_out = None;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        // Under TLS the last records may still be in the session.
        self.io.flush()
    }

    fn begin_linger(&mut self, ctx: &Ctx<'_>) {
        // Errors here only mean the peer is already gone; discard_input finds out.
        self.io.close_notify();
        let _ = self.io.socket.shutdown(Shutdown::Write);
        self.deadline = ctx.now + deadline::LINGER;
        self.life = Life::Lingering;
    }

    /// Reads and drops whatever the client still sends, until EOF.
    fn discard_input(&mut self, ctx: &mut Ctx<'_>) -> io::Result<Verdict> {
        self.rstart = 0;
        self.rend = 0;
        loop {
            match self.io.socket.read(&mut self.rbuf) {
                Ok(0) => return Ok(Verdict::Close),
                Ok(n) => ctx.stats.bytes_in.add(n as u64),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Verdict::Keep),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}
