//! Turning buffered bytes into answered requests: every complete request is answered in
//! order (pipelining), each response appended to the connection's write buffer.

use super::proxied::{self, Awaiting, Upload, UploadStep};
use super::{ChunkedBody, Conn, Ctx, Life, Phase, WRITE_LIMIT};
use crate::api::Routed;
use crate::http::response::{FileBody, Persistence, Responder, write_continue};
use crate::log::{self, LogKind};
use crate::proxy::RequestBody;
use crate::routes::{self, Services};
use http_wire::chunked::{ChunkedDecoder, Cursor};
use http_wire::error::HttpError;
use http_wire::framing::Framing;
use http_wire::request::{self, Head};

/// Where `answer` writes, built from disjoint fields so the read buffer can stay borrowed.
pub(super) struct Sink<'a> {
    pub out: &'a mut Vec<u8>,
    pub file_slot: &'a mut Option<FileBody>,
    pub awaiting: &'a mut Option<Awaiting>,
    pub key: usize,
    pub conn_id: u64,
    /// The client's socket (its address goes into `X-Forwarded-For`).
    pub socket: &'a mio::net::TcpStream,
}

macro_rules! sink {
    ($conn:ident) => {
        Sink {
            out: &mut $conn.wbuf,
            file_slot: &mut $conn.file_out,
            awaiting: &mut $conn.awaiting,
            key: $conn.key,
            conn_id: $conn.id,
            socket: &$conn.io.socket,
        }
    };
}

/// What to do after looking at the current request.
enum Step {
    /// A whole request (head and body) was answered; it spanned `used` bytes.
    Answered {
        used: usize,
        close: bool,
    },
    /// Need more bytes.
    Wait,
    /// Start decoding a chunked body after a head of this length.
    StartChunked {
        head_len: usize,
    },
    /// The head went upstream; its body follows as it arrives.
    Upload {
        head_len: usize,
        upload: Upload,
    },
    /// A streamed body is all queued for its upstream.
    Uploaded,
    /// Nothing more can be read from this connection: close once the output is written,
    /// discarding input first when `linger`.
    Stop {
        linger: bool,
    },
    Fail(HttpError),
}

impl Conn {
    /// Answers every complete request in the read buffer, stopping at backpressure. True when
    /// it stopped for pending output with input left: once that is written, call it again.
    pub(super) fn process(&mut self, ctx: &mut Ctx<'_>) -> bool {
        while self.life == Life::Open
            && self.rstart < self.rend
            && self.wbuf.len() - self.wpos < WRITE_LIMIT
            && self.file_out.is_none()
            && (self.awaiting.is_none() || matches!(self.phase, Phase::Upload(_)))
        {
            let step = match self.phase {
                Phase::Head => self.head_step(ctx),
                Phase::AwaitBody { total } => self.body_step(ctx, total),
                Phase::Chunked(_) => self.chunked_step(ctx),
                Phase::Upload(_) => match self.upload_step(ctx) {
                    UploadStep::Wait => Step::Wait,
                    UploadStep::Done => Step::Uploaded,
                    UploadStep::Abort => Step::Stop { linger: false },
                },
            };
            match step {
                Step::Answered { used, close } => {
                    self.rstart += used;
                    self.phase = Phase::Head;
                    self.served_any = true;
                    if close {
                        self.life = Life::Closing { linger: false };
                    }
                }
                Step::Wait => return false,
                Step::Upload { head_len, upload } => {
                    self.rstart += head_len;
                    self.phase = Phase::Upload(Box::new(upload));
                }
                Step::Uploaded => self.phase = Phase::Head,
                Step::Stop { linger } => {
                    self.life = Life::Closing { linger };
                    return false;
                }
                Step::StartChunked { head_len } => {
                    let cur = Cursor {
                        out: head_len,
                        input: head_len,
                    };
                    self.phase = Phase::Chunked(Box::new(ChunkedBody {
                        head_len,
                        decoder: ChunkedDecoder::default(),
                        cur,
                    }));
                }
                Step::Fail(e) => {
                    self.fail(ctx, e);
                    return false;
                }
            }
        }
        self.life == Life::Open
            && self.rstart < self.rend
            && self.awaiting.is_none()
            && (self.wbuf.len() - self.wpos >= WRITE_LIMIT || self.file_out.is_some())
    }

    /// A new request: parse its head, then answer it, wait for its body, or start decoding.
    fn head_step(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let buf = &self.rbuf[self.rstart..self.rend];
        // Borrowed where it lies: moving the head out of the Result cost a memcpy per request.
        let parsed = request::parse(buf, ctx.cfg.max_header_bytes);
        let h = match &parsed {
            Ok(None) => return Step::Wait,
            Err(e) => return Step::Fail(*e),
            Ok(Some(h)) => h,
        };
        let total = match body_extent(h, ctx.cfg.max_body_bytes as u64) {
            Err(e) => return Step::Fail(e),
            Ok(Framing::Chunked) => {
                if h.expect_continue && buf.len() == h.len {
                    write_continue(&mut self.wbuf);
                }
                let upload = Upload::Chunked(Default::default());
                if let Some(step) = upload_start(h, &buf[..h.len], upload, sink!(self), ctx) {
                    return step;
                }
                return Step::StartChunked { head_len: h.len };
            }
            Ok(Framing::Length(n)) => h.len + n as usize,
            Ok(_) => h.len,
        };
        if buf.len() >= total {
            let more = buf.len() > total;
            let close = answer(h, &buf[..h.len], &buf[h.len..total], sink!(self), ctx, more);
            return Step::Answered { used: total, close };
        }
        if h.expect_continue && buf.len() == h.len {
            write_continue(&mut self.wbuf);
        }
        if let Framing::Length(n) = h.framing {
            if let Some(step) = upload_start(h, &buf[..h.len], Upload::Length(n), sink!(self), ctx) {
                return step;
            }
        }
        self.phase = Phase::AwaitBody { total };
        Step::Wait
    }

    /// A Content-Length body: answer once all `total` bytes (head and body) are here.
    fn body_step(&mut self, ctx: &mut Ctx<'_>, total: usize) -> Step {
        let buf = &self.rbuf[self.rstart..self.rend];
        if buf.len() < total {
            return Step::Wait;
        }
        match request::parse(buf, ctx.cfg.max_header_bytes) {
            Ok(Some(h)) => {
                let more = buf.len() > total;
                let close = answer(&h, &buf[..h.len], &buf[h.len..total], sink!(self), ctx, more);
                Step::Answered { used: total, close }
            }
            _ => Step::Fail(HttpError::BadRequest("malformed request")),
        }
    }

    /// A chunked body, decoded in place; answer once the last chunk and trailers are in.
    fn chunked_step(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let Phase::Chunked(body) = &mut self.phase else {
            unreachable!("chunked_step outside a chunked body");
        };
        let ChunkedBody {
            head_len,
            decoder,
            cur,
        } = &mut **body;
        let buf = &mut self.rbuf[self.rstart..self.rend];
        match decoder.decode_in_place(buf, cur, ctx.cfg.max_body_bytes as u64) {
            Err(e) => Step::Fail(e.into()),
            Ok(false) => {
                // Close the gap the framing left, so the buffer holds only body.
                buf.copy_within(cur.input.., cur.out);
                self.rend -= cur.input - cur.out;
                cur.input = cur.out;
                Step::Wait
            }
            Ok(true) => {
                let (head_len, body_end, used) = (*head_len, cur.out, cur.input);
                let buf = &self.rbuf[self.rstart..self.rend];
                match request::parse(&buf[..head_len], ctx.cfg.max_header_bytes) {
                    Ok(Some(h)) => {
                        let more = buf.len() > used;
                        let body = &buf[head_len..body_end];
                        let close = answer(&h, &buf[..head_len], body, sink!(self), ctx, more);
                        Step::Answered { used, close }
                    }
                    _ => Step::Fail(HttpError::BadRequest("malformed request")),
                }
            }
        }
    }

    /// Answers with the error's status and closes once it is written.
    pub(super) fn fail(&mut self, ctx: &mut Ctx<'_>, err: HttpError) {
        let stream = &self.io.socket;
        log::warn(log_kind(err), || {
            let peer = stream
                .peer_addr()
                .map_or_else(|_| "a closed peer".into(), |a| a.to_string());
            let status = err.status();
            format!("{} {} from {peer}: {}", status.code, status.reason, err.detail())
        });
        // The head may not have parsed, but a HEAD request is known by its first bytes, and
        // its answer has no body whatever the status (RFC 9110 §9.3.2).
        let head_only = request::starts_head_request(&self.rbuf[self.rstart..self.rend]);
        let out = (&mut self.wbuf, &mut self.file_out);
        Responder::new(out, ctx.scratch, ctx.date.line(), Persistence::Close, head_only).send_error(err);
        self.life = Life::Closing { linger: true };
        self.rstart = self.rend;
    }
}

/// Checks the declared body against the limit before any of it is read.
fn body_extent(h: &Head<'_>, max_body: u64) -> Result<Framing, HttpError> {
    match h.framing {
        Framing::Length(n) if n > max_body => Err(HttpError::BodyTooLarge),
        other => Ok(other),
    }
}

/// A body that is not here whole, on a proxy route: streamed upstream (`None`: not a proxy
/// route, so it is read whole as usual).
fn upload_start(
    h: &Head<'_>,
    head_bytes: &[u8],
    upload: Upload,
    sink: Sink<'_>,
    ctx: &mut Ctx<'_>,
) -> Option<Step> {
    let framing = match upload {
        Upload::Length(n) => Framing::Length(n),
        Upload::Chunked(_) => Framing::Chunked,
    };
    let persistence = persistence(h, ctx, false);
    Some(
        match proxied::start_upload(h, head_bytes, framing, sink, ctx, persistence)? {
            true => Step::Upload {
                head_len: h.len,
                upload,
            },
            false => Step::Stop { linger: true },
        },
    )
}

/// The `Connection` answer to a request: the client's wish, and a close while draining
/// unless more requests are already here.
fn persistence(h: &Head<'_>, ctx: &Ctx<'_>, more_buffered: bool) -> Persistence {
    let close = !h.keep_alive || (ctx.draining && !more_buffered);
    match (close, h.minor_version) {
        (true, _) => Persistence::Close,
        (false, 0) => Persistence::KeepAlive,
        (false, _) => Persistence::Implicit,
    }
}

/// Routes one complete request (`head_bytes` as received, `body` decoded); returns whether
/// the connection closes after it. A request the database or an upstream must act on
/// leaves `awaiting` set; its response is written when that answer comes.
fn answer(
    h: &Head<'_>,
    head_bytes: &[u8],
    body: &[u8],
    sink: Sink<'_>,
    ctx: &mut Ctx<'_>,
    more_buffered: bool,
) -> bool {
    let persistence = persistence(h, ctx, more_buffered);
    let close = persistence == Persistence::Close;
    let out = (&mut *sink.out, &mut *sink.file_slot);
    let res = Responder::new(out, ctx.scratch, ctx.date.line(), persistence, h.is_head());
    let services = Services {
        files: ctx.files.as_deref_mut(),
        api: ctx.api,
        proxy: ctx.proxy.as_deref(),
        now: ctx.now,
    };
    match routes::dispatch(h, body, res, services) {
        Routed::Answered => {
            ctx.stats.requests.add(1);
            close
        }
        Routed::Deferred(api, op) => {
            api.submit(op, sink.key, sink.conn_id);
            *sink.awaiting = Some(Awaiting::Database(persistence));
            false
        }
        Routed::Proxied(route) => {
            let body = RequestBody::Whole(body);
            proxied::hand_upstream(route, h, head_bytes, body, sink, ctx, persistence, true)
        }
    }
}

fn log_kind(err: HttpError) -> LogKind {
    match err {
        HttpError::BadRequest(_) | HttpError::PlainHttpToTls => LogKind::BadRequest,
        HttpError::Timeout => LogKind::Timeout,
        HttpError::BodyTooLarge => LogKind::BodyTooLarge,
        HttpError::UriTooLong => LogKind::UriTooLong,
        HttpError::HeadersTooLarge(_) => LogKind::HeadersTooLarge,
        HttpError::UnsupportedCoding => LogKind::NotImplemented,
        HttpError::Version => LogKind::Version,
    }
}
