//! One client connection: connect, shake hands (TLS), write queued requests, read and frame
//! responses.
//! Policy (what a failure means for the requests in flight, when to reconnect) belongs to
//! the worker; this file only moves bytes and reports what happened.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use rustls::{ClientConnection, HandshakeKind};
use transport::{Got, Transport, reason};

use crate::clock::now_ns;
use crate::response::{ResponseParser, Step};
use crate::stats::FailureKind;

/// First retry delay after a failure; doubles per consecutive failure up to the cap.
const BACKOFF_START_NS: u64 = 10_000_000;
const BACKOFF_MAX_NS: u64 = 1_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No socket; (re)connect at `since`.
    Idle,
    Connecting,
    /// Connected; the TLS handshake is under way.
    Handshaking,
    Open,
}

/// A request written (or queued for writing) and not yet answered.
#[derive(Debug, Clone, Copy)]
pub struct InFlight {
    /// When it should have been sent (open loop) or was sent (closed loop).
    pub intended: u64,
    /// When it was handed to the socket.
    pub sent: u64,
    /// Sent after warmup: counts in the report.
    pub recorded: bool,
    /// Which `--targets` group it belongs to (0 with a single URL).
    pub group: u16,
    /// A HEAD request: its response has no body.
    pub head: bool,
}

/// How a read pass ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadEnd {
    /// Everything available was read; the connection stays up.
    Open,
    /// The server closed in an orderly way (announced `Connection: close`, a
    /// close-delimited body, or EOF with nothing outstanding).
    Closed,
    /// The connection broke; requests still in flight failed this way.
    Failed(FailureKind),
}

pub struct Conn {
    pub state: State,
    io: Option<Transport<ClientConnection>>,
    parser: ResponseParser,
    /// Oldest first; capacity = pipeline depth, never grows.
    pub inflight: VecDeque<InFlight>,
    /// Queued request bytes; `out[out_pos..]` is not yet accepted by the socket. Requests
    /// are copied in (tens of bytes each), so a batch of any mix goes out in one write.
    /// Allocated by the first batch, at its size (a fixed 256 B per request was most of
    /// a connection's memory), and kept: later batches reuse it.
    out: Vec<u8>,
    out_pos: usize,
    /// A response head split across reads (rare; its capacity is kept for reuse).
    carry: Vec<u8>,
    /// Connecting or handshaking: when the attempt began. Idle: when to try again.
    pub since: u64,
    backoff_ns: u64,
    /// Listed in the worker's free-connection queue (open loop).
    pub listed_free: bool,
    /// Requests queued on this connection since it was opened (for `--requests-per-conn`).
    pub queued_here: u64,
    /// Counted by connect pacing until the target answers it.
    pub unproven: bool,
}

impl Conn {
    pub fn new(pipeline: usize) -> Conn {
        Conn {
            state: State::Idle,
            io: None,
            parser: ResponseParser::new(),
            inflight: VecDeque::with_capacity(pipeline),
            out: Vec::new(),
            out_pos: 0,
            carry: Vec::new(),
            since: 0,
            backoff_ns: BACKOFF_START_NS,
            listed_free: false,
            queued_here: 0,
            unproven: false,
        }
    }

    pub fn connect(
        &mut self,
        addr: SocketAddr,
        registry: &Registry,
        token: Token,
        now: u64,
    ) -> io::Result<()> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        registry.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)?;
        self.io = Some(Transport::plain(stream));
        self.state = State::Connecting;
        self.since = now;
        self.queued_here = 0;
        Ok(())
    }

    /// After a readiness event while connecting: `Ok(true)` once established (the worker
    /// then starts TLS or calls `opened`).
    pub fn finish_connect(&mut self) -> io::Result<bool> {
        let Some(stream) = self.io.as_ref().map(|io| &io.socket) else {
            return Ok(false);
        };
        if let Some(error) = stream.take_error()? {
            return Err(error);
        }
        match stream.peer_addr() {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Connected: start the TLS handshake (call `handshake` to drive it).
    pub fn start_tls(&mut self, session: ClientConnection) -> io::Result<()> {
        if let Some(io) = &mut self.io {
            io.start_tls(session, &[])?;
            self.state = State::Handshaking;
        }
        Ok(())
    }

    /// Drives the handshake: `Ok(true)` once it is done (the worker then calls `opened`).
    /// The error is the TLS failure, in words.
    pub fn handshake(&mut self, scratch: &mut [u8], cipher: &mut [u8]) -> Result<bool, String> {
        let Some(io) = &mut self.io else {
            return Ok(false);
        };
        io.handshake(scratch, cipher)
            .map_err(|e| match reason::tls_error(&e) {
                Some(tls) => reason::describe(tls),
                None if e.kind() == io::ErrorKind::UnexpectedEof => "the server closed the connection".into(),
                None => e.to_string(),
            })
    }

    /// The attempt succeeded: the connection carries requests from now on.
    pub fn opened(&mut self) {
        self.state = State::Open;
    }

    /// Whether the TLS handshake just made resumed a session (`None` without TLS).
    pub fn resumed(&self) -> Option<bool> {
        let kind = self.io.as_ref()?.tls()?.handshake_kind()?;
        Some(kind == HandshakeKind::Resumed)
    }

    /// Drop the socket and any half-read response. `abort` sends RST instead of FIN so a
    /// connection we give up on leaves no TIME_WAIT behind; an orderly close sends TLS's
    /// close_notify first. In-flight requests stay for the caller to account for.
    pub fn close(&mut self, registry: &Registry, abort: bool) {
        if let Some(mut io) = self.io.take() {
            let _ = registry.deregister(&mut io.socket);
            if abort {
                oscalls::socket::set_linger_zero(&io.socket);
            } else {
                io.close_notify();
            }
        }
        self.state = State::Idle;
        self.parser.reset();
        self.carry.clear();
        self.out.clear();
        self.out_pos = 0;
    }

    /// Schedule the next attempt after a failure, backing off while failures repeat.
    pub fn back_off(&mut self, now: u64) {
        self.since = now + self.backoff_ns;
        self.backoff_ns = (self.backoff_ns * 2).min(BACKOFF_MAX_NS);
    }

    pub fn reset_backoff(&mut self) {
        self.backoff_ns = BACKOFF_START_NS;
    }

    /// Add one request to the write queue (call `flush` after queueing a batch).
    pub fn queue(&mut self, request: &[u8], in_flight: InFlight) {
        self.out.extend_from_slice(request);
        self.inflight.push_back(in_flight);
        self.queued_here += 1;
    }

    /// Whether another request may go on this connection under `--requests-per-conn`.
    pub fn has_room(&self, per_conn: Option<u64>) -> bool {
        per_conn.is_none_or(|n| self.queued_here < n)
    }

    /// Write queued request bytes until done or the socket is full.
    pub fn flush(&mut self) -> Result<(), FailureKind> {
        let Some(io) = self.io.as_mut() else {
            return Ok(());
        };
        let failed = |e: io::Error| match reason::tls_error(&e) {
            Some(_) => FailureKind::Tls,
            None => FailureKind::Write,
        };
        while self.out_pos < self.out.len() {
            match io.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err(FailureKind::Write),
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(failed(e)),
            }
        }
        self.out.clear();
        self.out_pos = 0;
        match io.flush() {
            Ok(_) => Ok(()), // what TLS still holds goes out on the next writable edge
            Err(e) => Err(failed(e)),
        }
    }

    /// Read until the socket is drained, calling `on_response(request, status, now)` for
    /// every complete response. `scratch` is the thread's shared read buffer, `cipher` its
    /// buffer for TLS records.
    /// `peer_closed`: the readiness event reported the peer's FIN (or an error), which
    /// will raise no further edge, so read on to the EOF.
    pub fn read(
        &mut self,
        scratch: &mut [u8],
        cipher: &mut [u8],
        peer_closed: bool,
        bytes_read: &mut u64,
        mut on_response: impl FnMut(InFlight, u16, u64),
    ) -> ReadEnd {
        let Some(io) = self.io.as_mut() else {
            return ReadEnd::Open;
        };
        loop {
            let carried = self.carry.len();
            if carried == scratch.len() {
                return ReadEnd::Failed(FailureKind::Parse); // head larger than the buffer
            }
            scratch[..carried].copy_from_slice(&self.carry);
            let got = match io.read(&mut scratch[carried..], cipher) {
                Ok(Got { n: 0, .. }) => {
                    let ended = self.parser.on_eof();
                    if let Some(response) = ended
                        && let Some(request) = self.inflight.pop_front()
                    {
                        on_response(request, response.status, now_ns());
                    }
                    // A close-delimited body announces the close as `Connection: close` does:
                    // what was pipelined behind it was never answered and goes out again.
                    // A bare EOF with requests outstanding fails them.
                    return if self.inflight.is_empty() || ended.is_some() {
                        ReadEnd::Closed
                    } else {
                        ReadEnd::Failed(FailureKind::Read)
                    };
                }
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ReadEnd::Open,
                Err(e) if reason::tls_error(&e).is_some() => return ReadEnd::Failed(FailureKind::Tls),
                Err(_) => return ReadEnd::Failed(FailureKind::Read),
            };
            let n = got.n;
            let now = now_ns();
            *bytes_read += n as u64;
            self.carry.clear();
            let data = &scratch[..carried + n];
            let mut pos = 0;
            loop {
                let head = self.inflight.front().is_some_and(|r| r.head);
                match self.parser.step(&data[pos..], head) {
                    Err(_) => return ReadEnd::Failed(FailureKind::Parse),
                    Ok(Step::NeedMore { consumed }) => {
                        pos += consumed;
                        break;
                    }
                    Ok(Step::Done { consumed, response }) => {
                        pos += consumed;
                        let Some(request) = self.inflight.pop_front() else {
                            return ReadEnd::Failed(FailureKind::Parse); // unsolicited response
                        };
                        on_response(request, response.status, now);
                        if response.close {
                            return ReadEnd::Closed;
                        }
                    }
                }
            }
            if self.parser.awaiting_head() {
                self.carry.extend_from_slice(&data[pos..]);
            }
            // A short read drained the socket: anything arriving later raises a new edge,
            // so skip the read that would only return WouldBlock (tokio does the same).
            if got.drained && !peer_closed {
                return ReadEnd::Open;
            }
        }
    }
}
