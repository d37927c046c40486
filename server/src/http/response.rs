//! Response assembly: every response of a read batch is appended to one write buffer.
//!
//! Constant header lines are static bytes; the Date line comes from the worker's cache;
//! numbers go through itoa. Nothing here allocates once the buffers have grown.

use http_wire::error::HttpError;
use http_wire::status::{self, Status};
use http_wire::write;
use std::fs::File;
use std::sync::Arc;

pub const SERVER_LINE: &[u8] = b"Server: evloop\r\n";

/// The `Connection` header a response carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Persistence {
    /// HTTP/1.1 keep-alive: no header needed.
    Implicit,
    /// HTTP/1.0 client that asked to keep the connection.
    KeepAlive,
    /// The server closes after this response.
    Close,
}

impl Persistence {
    /// The `Connection` field line that says it (none for HTTP/1.1 keep-alive).
    pub fn line(self) -> &'static [u8] {
        match self {
            Persistence::Implicit => b"",
            Persistence::KeepAlive => b"Connection: keep-alive\r\n",
            Persistence::Close => b"Connection: close\r\n",
        }
    }
}

/// Where and how one response is written; handed to a route handler, consumed by `send`.
pub struct Responder<'a> {
    pub out: &'a mut Vec<u8>,
    /// Reused space for bodies that must be rendered before their length is known.
    pub scratch: &'a mut Vec<u8>,
    pub date_line: &'a [u8],
    pub persistence: Persistence,
    /// HEAD: all the headers of GET, no body.
    pub head_only: bool,
    /// Where a response whose body is sent from a file leaves that body for the connection.
    pub file_slot: &'a mut Option<FileBody>,
}

/// A response body still to be sent from a file, with sendfile(2).
#[derive(Debug)]
pub struct FileBody {
    pub file: Arc<File>,
    pub offset: u64,
    pub remaining: u64,
}

impl FileBody {
    pub fn new(file: Arc<File>, offset: u64, len: u64) -> FileBody {
        FileBody {
            file,
            offset,
            remaining: len,
        }
    }
}

impl<'a> Responder<'a> {
    /// The one way to make a `Responder`: the connection's output (its write buffer and the
    /// slot a file body goes to), the worker's scratch space and Date line, and how this
    /// response ends.
    pub fn new(
        (out, file_slot): (&'a mut Vec<u8>, &'a mut Option<FileBody>),
        scratch: &'a mut Vec<u8>,
        date_line: &'a [u8],
        persistence: Persistence,
        head_only: bool,
    ) -> Responder<'a> {
        Responder {
            out,
            scratch,
            date_line,
            persistence,
            head_only,
            file_slot,
        }
    }

    fn meta(&self) -> Meta<'a> {
        Meta {
            date_line: self.date_line,
            persistence: self.persistence,
        }
    }

    /// Writes a complete response with a Content-Length body.
    pub fn send(self, status: Status, content_type: &[u8], extra: &[(&str, &[u8])], body: &[u8]) {
        write_head(
            self.out,
            self.meta(),
            status,
            Some(content_type),
            Some(body.len() as u64),
            extra,
        );
        if !self.head_only {
            self.out.extend_from_slice(body);
        }
    }

    /// Writes the head now; the body follows from `file` once the head is written.
    pub fn send_file(self, status: Status, content_type: &[u8], extra: &[(&str, &[u8])], file: FileBody) {
        write_head(
            self.out,
            self.meta(),
            status,
            Some(content_type),
            Some(file.remaining),
            extra,
        );
        if !self.head_only && file.remaining > 0 {
            *self.file_slot = Some(file);
        }
    }

    /// A response that never has a body (304): no Content-Type, no Content-Length.
    pub fn send_bodiless(self, status: Status, extra: &[(&str, &[u8])]) {
        write_head(self.out, self.meta(), status, None, None, extra);
    }

    /// Serialises `value` with serde_json (per request, as TechEmpower requires) and sends it.
    pub fn send_json<T: serde::Serialize>(self, status: Status, value: &T) {
        self.send_json_with(status, &[], value);
    }

    /// `send_json` with extra header fields.
    pub fn send_json_with<T: serde::Serialize>(self, status: Status, extra: &[(&str, &[u8])], value: &T) {
        self.scratch.clear();
        if serde_json::to_writer(&mut *self.scratch, value).is_err() {
            // Only a failing Serialize impl gets here; no route has one.
            self.scratch.clear();
        }
        let len = Some(self.scratch.len() as u64);
        write_head(
            self.out,
            self.meta(),
            status,
            Some(b"application/json"),
            len,
            extra,
        );
        if !self.head_only {
            self.out.extend_from_slice(self.scratch);
        }
    }

    /// A short text body naming the status, for 404/405 and friends.
    pub fn send_text_status(self, status: Status, extra: &[(&str, &[u8])]) {
        let mut body = [0u8; 96];
        let len = status_text(status, None, &mut body);
        self.send(status, TEXT_PLAIN, extra, &body[..len]);
    }

    /// Like `send_text_status`, with the reason after the status: `400 Bad Request: why`.
    pub fn send_text_detail(self, status: Status, detail: &str, extra: &[(&str, &[u8])]) {
        let mut body = [0u8; 160];
        let len = status_text(status, Some(detail), &mut body);
        self.send(status, TEXT_PLAIN, extra, &body[..len]);
    }

    /// The answer to a request the connection cannot go on past; always `Connection: close`.
    pub fn send_error(mut self, err: HttpError) {
        self.persistence = Persistence::Close;
        self.send_text_detail(err.status(), err.detail(), &[]);
    }
}

pub const TEXT_PLAIN: &[u8] = b"text/plain; charset=utf-8";

/// What every response head carries besides its own fields.
struct Meta<'a> {
    date_line: &'a [u8],
    persistence: Persistence,
}

fn write_head(
    out: &mut Vec<u8>,
    meta: Meta<'_>,
    status: Status,
    content_type: Option<&[u8]>,
    content_length: Option<u64>,
    extra: &[(&str, &[u8])],
) {
    out.extend_from_slice(status.line);
    out.extend_from_slice(SERVER_LINE);
    out.extend_from_slice(meta.date_line);
    if let Some(ct) = content_type {
        write::content_type(out, ct);
    }
    if let Some(len) = content_length {
        write::content_length(out, len);
    }
    out.extend_from_slice(meta.persistence.line());
    for (name, value) in extra {
        write::field(out, name.as_bytes(), value);
    }
    out.extend_from_slice(b"\r\n");
}

/// `404 Not Found\n` or `400 Bad Request: why\n`, into a stack buffer.
fn status_text(status: Status, detail: Option<&str>, buf: &mut [u8]) -> usize {
    use std::io::Write;
    let mut w = &mut buf[..];
    let room = w.len();
    let _ = match detail {
        Some(d) => writeln!(w, "{} {}: {}", status.code, status.reason, d),
        None => writeln!(w, "{} {}", status.code, status.reason),
    };
    room - w.len()
}

/// The interim response to `Expect: 100-continue`.
pub fn write_continue(out: &mut Vec<u8>) {
    out.extend_from_slice(status::CONTINUE.line);
    out.extend_from_slice(b"\r\n");
}
