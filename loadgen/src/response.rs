//! Response framing over a byte stream: where each response ends, with http-wire's
//! response-head parser and chunked decoder (the rules the server holds requests to).
//! Bodies are skipped, never copied; a split head is the caller's to carry over to the next
//! read.

use http_wire::chunked::ChunkedDecoder;
use http_wire::framing::Framing;
use http_wire::response;

/// One complete response, as far as the load generator cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// The server will close the connection after this response.
    pub close: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A response ended after `consumed` bytes.
    Done { consumed: usize, response: Response },
    /// `consumed` bytes were used; the rest (a partial head) needs more data.
    NeedMore { consumed: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    Head,
    Length(u64),
    Chunked(ChunkedDecoder),
    UntilClose,
}

#[derive(Debug, Clone, Copy)]
pub struct ResponseParser {
    body: Body,
    current: Response,
}

impl Default for ResponseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl ResponseParser {
    pub fn new() -> ResponseParser {
        ResponseParser {
            body: Body::Head,
            current: Response {
                status: 0,
                close: false,
            },
        }
    }

    /// Forget a half-read response (the connection is being replaced).
    pub fn reset(&mut self) {
        self.body = Body::Head;
    }

    /// True while waiting for a head: only then are leftover bytes kept by the caller.
    pub fn awaiting_head(&self) -> bool {
        self.body == Body::Head
    }

    /// Advance over `buf` until one response completes or the bytes run out.
    /// `head_request`: the response answers a HEAD, so it has no body whatever its headers
    /// say (it is the request's method, not the connection's: a mix may hold both).
    pub fn step(&mut self, buf: &[u8], head_request: bool) -> Result<Step, ParseError> {
        let mut pos = 0;
        loop {
            match &mut self.body {
                Body::Head => match self.parse_head(&buf[pos..], head_request)? {
                    None => return Ok(Step::NeedMore { consumed: pos }),
                    Some(used) => pos += used,
                },
                Body::Length(left) => {
                    let take = (*left).min((buf.len() - pos) as u64);
                    pos += take as usize;
                    *left -= take;
                    if *left > 0 {
                        return Ok(Step::NeedMore { consumed: pos });
                    }
                    return Ok(self.finish(pos));
                }
                Body::Chunked(decoder) => {
                    let (used, done) = decoder.skip(&buf[pos..]).map_err(|_| ParseError)?;
                    pos += used;
                    if !done {
                        return Ok(Step::NeedMore { consumed: pos });
                    }
                    return Ok(self.finish(pos));
                }
                Body::UntilClose => return Ok(Step::NeedMore { consumed: buf.len() }),
            }
        }
    }

    /// The peer closed the connection: a close-delimited body ends here.
    pub fn on_eof(&mut self) -> Option<Response> {
        if self.body == Body::UntilClose {
            self.body = Body::Head;
            Some(self.current)
        } else {
            None
        }
    }

    fn finish(&mut self, consumed: usize) -> Step {
        self.body = Body::Head;
        Step::Done {
            consumed,
            response: self.current,
        }
    }

    /// Parse one head. `Some(len)` when complete; sets up the body (a bodiless response
    /// is represented as `Length(0)`). Interim 1xx heads are consumed and skipped.
    fn parse_head(&mut self, buf: &[u8], head_request: bool) -> Result<Option<usize>, ParseError> {
        let Some(head) = response::parse(buf, head_request).map_err(|_| ParseError)? else {
            return Ok(None);
        };
        if head.is_interim() {
            return Ok(Some(head.len)); // the real response follows
        }
        self.body = match head.framing {
            Framing::None => Body::Length(0),
            Framing::Length(n) => Body::Length(n),
            Framing::Chunked => Body::Chunked(ChunkedDecoder::default()),
            Framing::UntilClose => Body::UntilClose,
        };
        self.current = Response {
            status: head.status,
            close: head.close,
        };
        Ok(Some(head.len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed `stream` split at `split` the way a connection does (leftover head bytes are
    /// carried over) and collect the responses; EOF is signalled at the end.
    fn parse_split(parser: &mut ResponseParser, stream: &[u8], split: usize, head: bool) -> Vec<Response> {
        let mut out = Vec::new();
        let mut carry = Vec::new();
        for part in [&stream[..split], &stream[split..]] {
            carry.extend_from_slice(part);
            let mut pos = 0;
            loop {
                match parser.step(&carry[pos..], head).expect("valid stream") {
                    Step::Done { consumed, response } => {
                        pos += consumed;
                        out.push(response);
                    }
                    Step::NeedMore { consumed } => {
                        pos += consumed;
                        break;
                    }
                }
            }
            carry.drain(..pos);
        }
        out.extend(parser.on_eof());
        out
    }

    fn ok(status: u16, close: bool) -> Response {
        Response { status, close }
    }

    #[test]
    fn content_length_chunked_and_close_at_every_split() {
        let stream = b"HTTP/1.1 100 Continue\r\n\r\n\
            HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello\
            HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n\
            HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n\
            HTTP/1.1 304 Not Modified\r\n\r\n\
            HTTP/1.1 500 Oops\r\nConnection: close\r\nContent-Length: 0\r\n\r\n\
            HTTP/1.0 200 OK\r\n\r\nuntil close";
        let expected = vec![
            ok(200, false),
            ok(404, false),
            ok(204, false),
            ok(304, false),
            ok(500, true),
            ok(200, true),
        ];
        for split in 0..=stream.len() {
            let mut parser = ResponseParser::new();
            assert_eq!(
                parse_split(&mut parser, stream, split, false),
                expected,
                "split {split}"
            );
        }
    }

    #[test]
    fn chunked_body_split_at_every_byte() {
        let stream = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n\
            4\r\nWiki\r\n6;x=y\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nT: 1\r\n\r\n\
            HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
        for split in 0..=stream.len() {
            let mut parser = ResponseParser::new();
            let got = parse_split(&mut parser, stream, split, false);
            assert_eq!(got, vec![ok(200, false), ok(201, false)], "split {split}");
        }
    }

    #[test]
    fn head_responses_have_no_body() {
        let stream =
            b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n";
        let mut parser = ResponseParser::new();
        let got = parse_split(&mut parser, stream, 10, true);
        assert_eq!(got, vec![ok(200, false), ok(200, false)]);
    }

    #[test]
    fn keep_alive_http10_and_close_token_lists() {
        let stream = b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx\
            HTTP/1.1 200 OK\r\nConnection: upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n";
        let mut parser = ResponseParser::new();
        let got = parse_split(&mut parser, stream, 0, false);
        assert_eq!(got, vec![ok(200, false), ok(200, true)]);
    }

    #[test]
    fn malformed_heads_are_errors() {
        for bad in [
            &b"HTTX/1.1 200 OK\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
            b"HTTP/1.1 099 Continue\r\nContent-Length: 0\r\n\r\n",
            b"HTTP/1.1 000 OK\r\nContent-Length: 0\r\n\r\n",
            // What the server refuses in a request, a load generator refuses in a response.
            b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n",
        ] {
            let mut parser = ResponseParser::new();
            assert_eq!(parser.step(bad, false), Err(ParseError), "{bad:?}");
        }
    }

    #[test]
    fn partial_head_consumes_nothing() {
        let mut parser = ResponseParser::new();
        let step = parser.step(b"HTTP/1.1 200 OK\r\nContent-Le", false).unwrap();
        assert_eq!(step, Step::NeedMore { consumed: 0 });
        assert!(parser.awaiting_head());
    }
}
