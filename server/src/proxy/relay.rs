//! The upstream's response as it goes to the client: the head rewritten (hop-by-hop fields
//! dropped, `Via` added, framing and persistence our own) and the body re-framed as it
//! streams: a sized body stays sized, a chunked or close-delimited one goes out chunked
//! (decoded and encoded again, trailers dropped) or, to an HTTP/1.0 client, close-delimited.

use super::forward::write_via;
use crate::http::response::Persistence;
use http_wire::chunked::{self, ChunkError, ChunkedDecoder, Cursor};
use http_wire::fields::{self, HopByHop};
use http_wire::framing::Framing;
use http_wire::response::ResponseHead;
use http_wire::write;

/// What the client asked for, as far as the response's form depends on it.
#[derive(Clone, Copy, Debug)]
pub struct ClientSide {
    pub minor_version: u8,
    pub persistence: Persistence,
    pub head_request: bool,
}

/// How the rest of the upstream body is read.
#[derive(Debug)]
enum BodyIn {
    Length(u64),
    /// Boxed: the decoder is several words and most responses are sized.
    Chunked(Box<ChunkedDecoder>),
    UntilClose,
}

/// A response body on its way: read one way, written another.
#[derive(Debug)]
pub struct BodyRelay {
    input: BodyIn,
    /// Each piece goes out as one chunk (else as it is: sized, or close-delimited).
    chunked_out: bool,
}

/// What one piece of upstream input amounted to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Relayed {
    /// Input bytes consumed; the rest follows the body (an upstream protocol error).
    pub used: usize,
    pub done: bool,
    /// Decoded body bytes, at the start of the input: what went to the client.
    pub data: usize,
}

/// Writes the client's head for the upstream head at the start of `head_bytes`. Returns the
/// body relay (none when the response has no body) and whether the client's connection
/// must close after this response (its body is close-delimited, or it asked to).
pub fn write_head(
    out: &mut Vec<u8>,
    head_bytes: &[u8],
    resp: &ResponseHead,
    client: ClientSide,
) -> (Option<BodyRelay>, bool) {
    write_status_line(out, head_bytes);
    // A bodiless answer's Content-Length describes what a GET would get: pass it on.
    let bodiless = client.head_request || matches!(resp.status, 204 | 304);
    let hop = HopByHop::of(head_bytes);
    let mut via_seen = false;
    fields::each(head_bytes, |name, value| {
        if hop.contains(name) || (!bodiless && name.eq_ignore_ascii_case(b"content-length")) {
            return;
        }
        if name.eq_ignore_ascii_case(b"via") {
            via_seen = true;
            return;
        }
        write::field(out, name, value);
    });
    write_via(out, head_bytes, via_seen, resp.minor_version);
    let to_http10 = client.minor_version == 0;
    let (input, mut close) = match resp.framing {
        Framing::None => {
            if !bodiless {
                write::content_length(out, 0);
            }
            (None, false)
        }
        Framing::Length(n) => {
            write::content_length(out, n);
            (Some(BodyIn::Length(n)), false)
        }
        Framing::Chunked => (Some(BodyIn::Chunked(Box::default())), to_http10),
        Framing::UntilClose => (Some(BodyIn::UntilClose), to_http10),
    };
    let chunked_out = input.as_ref().is_some_and(|i| !matches!(i, BodyIn::Length(_))) && !to_http10;
    if chunked_out {
        out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
    }
    close |= client.persistence == Persistence::Close;
    let persistence = if close {
        Persistence::Close
    } else {
        client.persistence
    };
    out.extend_from_slice(persistence.line());
    out.extend_from_slice(b"\r\n");
    let relay = input.map(|input| BodyRelay { input, chunked_out });
    (relay, close)
}

/// The upstream's status line as ours: its code and reason, our `HTTP/1.1`.
pub fn write_status_line(out: &mut Vec<u8>, head_bytes: &[u8]) {
    let line_end = head_bytes
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(head_bytes.len());
    // `HTTP/1.x` is 8 bytes; the parser accepted the line, so " code reason" follows.
    out.extend_from_slice(b"HTTP/1.1");
    out.extend_from_slice(&head_bytes[8.min(line_end)..line_end]);
    out.extend_from_slice(b"\r\n");
}

impl BodyRelay {
    /// Relays `input` (freshly read upstream bytes, decoded in place when chunked) to `out`.
    pub fn relay(&mut self, input: &mut [u8], out: &mut Vec<u8>) -> Result<Relayed, ChunkError> {
        let (data_end, used, done) = match &mut self.input {
            BodyIn::Length(remaining) => {
                let n = (*remaining).min(input.len() as u64) as usize;
                *remaining -= n as u64;
                (n, n, *remaining == 0)
            }
            BodyIn::Chunked(decoder) => {
                let mut cur = Cursor { out: 0, input: 0 };
                let done = decoder.decode_in_place(input, &mut cur, u64::MAX)?;
                (cur.out, cur.input, done)
            }
            BodyIn::UntilClose => (input.len(), input.len(), false),
        };
        self.emit(&input[..data_end], out);
        if done {
            self.finish(out);
        }
        Ok(Relayed {
            used,
            done,
            data: data_end,
        })
    }

    /// The upstream closed: a close-delimited body is complete, any other is cut short.
    pub fn at_eof(&mut self, out: &mut Vec<u8>) -> bool {
        let complete = matches!(self.input, BodyIn::UntilClose);
        if complete {
            self.finish(out);
        }
        complete
    }

    fn emit(&self, data: &[u8], out: &mut Vec<u8>) {
        match self.chunked_out {
            true => chunked::write_chunk(out, data),
            false => out.extend_from_slice(data),
        }
    }

    fn finish(&self, out: &mut Vec<u8>) {
        if self.chunked_out {
            out.extend_from_slice(chunked::LAST_CHUNK);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(minor_version: u8) -> ClientSide {
        ClientSide {
            minor_version,
            persistence: Persistence::Implicit,
            head_request: false,
        }
    }

    #[test]
    fn rechunks_and_rewrites() {
        let up = b"HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nTransfer-Encoding: chunked\r\nKeep-Alive: timeout=5\r\nX-App: a\r\n\r\n";
        let resp = http_wire::response::parse(up, false).unwrap().unwrap();
        let mut out = Vec::new();
        let (relay, close) = write_head(&mut out, up, &resp, client(1));
        assert!(!close);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "HTTP/1.1 200 OK\r\nX-App: a\r\nVia: 1.1 evloop\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        let mut relay = relay.unwrap();
        out.clear();
        let mut body = *b"3;x=y\r\nabc\r\n11\r\n0123456789abcdefg\r\n0\r\nT: 1\r\n\r\nEXTRA";
        let r = relay.relay(&mut body, &mut out).unwrap();
        assert_eq!(
            r,
            Relayed {
                used: body.len() - 5,
                done: true,
                data: 20
            }
        );
        // What one read brought goes out as one chunk.
        assert_eq!(out, b"14\r\nabc0123456789abcdefg\r\n0\r\n\r\n");

        // To an HTTP/1.0 client: close-delimited, and the connection closes.
        let mut out = Vec::new();
        let (relay, close) = write_head(&mut out, up, &resp, client(0));
        assert!(close && !relay.unwrap().chunked_out);
        assert!(out.ends_with(b"Connection: close\r\n\r\n"));
    }

    #[test]
    fn sized_and_bodiless() {
        let up = b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n";
        let resp = http_wire::response::parse(up, false).unwrap().unwrap();
        let mut out = Vec::new();
        let (relay, _) = write_head(&mut out, up, &resp, client(1));
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "HTTP/1.1 200 OK\r\nVia: 1.0 evloop\r\nContent-Length: 5\r\n\r\n"
        );
        let mut relay = relay.unwrap();
        out.clear();
        let r = relay.relay(&mut b"hel".to_vec(), &mut out).unwrap();
        assert_eq!(
            r,
            Relayed {
                used: 3,
                done: false,
                data: 3
            }
        );
        let r = relay.relay(&mut b"loX".to_vec(), &mut out).unwrap();
        assert_eq!(
            (r, out.as_slice()),
            (
                Relayed {
                    used: 2,
                    done: true,
                    data: 2
                },
                &b"hello"[..]
            )
        );

        let up = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\nETag: \"x\"\r\n\r\n";
        let resp = http_wire::response::parse(up, false).unwrap().unwrap();
        let mut out = Vec::new();
        let (relay, _) = write_head(&mut out, up, &resp, client(1));
        assert!(relay.is_none());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\nETag: \"x\"\r\nVia: 1.1 evloop\r\n\r\n"
        );
    }
}
