//! Response assembly: every response of a read batch is appended to one write buffer.
//!
//! Constant header lines are static bytes; the Date line comes from the worker's cache;
//! numbers go through itoa. Nothing here allocates once the buffers have grown.

use super::error::HttpError;
use super::status::{self, Status};

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

/// Where and how one response is written; handed to a route handler, consumed by `send`.
pub struct Responder<'a> {
    pub out: &'a mut Vec<u8>,
    /// Reused space for bodies that must be rendered before their length is known.
    pub scratch: &'a mut Vec<u8>,
    pub date_line: &'a [u8],
    pub persistence: Persistence,
    /// HEAD: all the headers of GET, no body.
    pub head_only: bool,
}

impl Responder<'_> {
    /// Writes a complete response with a Content-Length body.
    pub fn send(self, status: Status, content_type: &[u8], extra: &[(&str, &[u8])], body: &[u8]) {
        let meta = (self.date_line, self.persistence, self.head_only);
        write_response(self.out, meta, status, content_type, extra, body);
    }

    /// Serialises `value` with serde_json (per request, as TechEmpower requires) and sends it.
    pub fn send_json<T: serde::Serialize>(self, status: Status, value: &T) {
        self.scratch.clear();
        if serde_json::to_writer(&mut *self.scratch, value).is_err() {
            // Only a failing Serialize impl gets here; no route has one.
            self.scratch.clear();
        }
        let meta = (self.date_line, self.persistence, self.head_only);
        write_response(self.out, meta, status, b"application/json", &[], self.scratch);
    }

    /// A short text body naming the status, for 404/405 and friends.
    pub fn send_text_status(self, status: Status, extra: &[(&str, &[u8])]) {
        let mut body = [0u8; 96];
        let len = status_text(status, None, &mut body);
        self.send(status, TEXT_PLAIN, extra, &body[..len]);
    }

    /// The answer to a request the connection cannot go on past; always `Connection: close`.
    pub fn send_error(mut self, err: HttpError) {
        let mut body = [0u8; 160];
        let len = status_text(err.status(), Some(err.detail()), &mut body);
        self.persistence = Persistence::Close;
        self.send(err.status(), TEXT_PLAIN, &[], &body[..len]);
    }
}

pub const TEXT_PLAIN: &[u8] = b"text/plain; charset=utf-8";

fn write_response(
    out: &mut Vec<u8>,
    (date_line, persistence, head_only): (&[u8], Persistence, bool),
    status: Status,
    content_type: &[u8],
    extra: &[(&str, &[u8])],
    body: &[u8],
) {
    out.extend_from_slice(status.line);
    out.extend_from_slice(SERVER_LINE);
    out.extend_from_slice(date_line);
    out.extend_from_slice(b"Content-Type: ");
    out.extend_from_slice(content_type);
    out.extend_from_slice(b"\r\nContent-Length: ");
    out.extend_from_slice(itoa::Buffer::new().format(body.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    match persistence {
        Persistence::Implicit => {}
        Persistence::KeepAlive => out.extend_from_slice(b"Connection: keep-alive\r\n"),
        Persistence::Close => out.extend_from_slice(b"Connection: close\r\n"),
    }
    for (name, value) in extra {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !head_only {
        out.extend_from_slice(body);
    }
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
