//! A small blocking HTTP/1.1 client over std::net for the test suites: raw bytes out, parsed
//! responses in (with this crate's own response parser and chunked decoder), and ways to see
//! how the connection ended. Not for the hot path: it allocates per response.

use crate::chunked::{ChunkedDecoder, Cursor};
use crate::framing::Framing;
use crate::response::{self, ResponseError};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long a read may block before the test fails instead of hanging.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// One response: status, fields as sent (values lossily decoded), decoded body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub framing: Framing,
}

impl Response {
    /// The first field of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a UTF-8 body")
    }
}

/// Over plain TCP by default; `Client::over` takes any stream (a TLS one in the TLS tests).
pub struct Client<S = TcpStream> {
    pub stream: S,
    /// Received and not yet consumed.
    buf: Vec<u8>,
    /// `read` calls made, for tests about how the server batches its writes.
    pub reads: usize,
}

/// A TCP connection to `addr` whose reads fail after 5 s instead of hanging a test.
pub fn tcp(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        Client::over(tcp(addr))
    }
}

impl<S: Read + Write> Client<S> {
    pub fn over(stream: S) -> Client<S> {
        Client {
            stream,
            buf: Vec::new(),
            reads: 0,
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 65536];
        let n = self.stream.read(&mut chunk)?;
        self.reads += 1;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    fn fill_or_eof(&mut self) -> io::Result<()> {
        match self.fill()? {
            0 => Err(io::ErrorKind::UnexpectedEof.into()),
            _ => Ok(()),
        }
    }

    /// Reads one response (interim 1xx responses included: each is its own). `head_request`:
    /// it answers a HEAD, so no body follows whatever the fields say.
    pub fn try_read_response(&mut self, head_request: bool) -> io::Result<Response> {
        let head = loop {
            match response::parse(&self.buf, head_request) {
                Ok(Some(head)) => break head,
                Ok(None) => self.fill_or_eof()?,
                Err(e) => return Err(invalid(e, &self.buf)),
            }
        };
        let mut headers = [httparse::EMPTY_HEADER; response::MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut headers);
        parsed.parse(&self.buf[..head.len]).expect("parsed once already");
        let headers = parsed
            .headers
            .iter()
            .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned()))
            .collect();
        let body = self.read_body(head.len, head.framing)?;
        Ok(Response {
            status: head.status,
            headers,
            body,
            framing: head.framing,
        })
    }

    /// Takes the body after a head of `start` bytes out of the buffer (the head too).
    fn read_body(&mut self, start: usize, framing: Framing) -> io::Result<Vec<u8>> {
        let end = match framing {
            Framing::None => start,
            Framing::Length(n) => {
                let end = start + usize::try_from(n).expect("a body that fits in memory");
                while self.buf.len() < end {
                    self.fill_or_eof()?;
                }
                end
            }
            Framing::UntilClose => {
                while self.fill()? > 0 {}
                self.buf.len()
            }
            Framing::Chunked => {
                let mut decoder = ChunkedDecoder::default();
                let mut cur = Cursor {
                    out: start,
                    input: start,
                };
                loop {
                    let done = decoder
                        .decode_in_place(&mut self.buf, &mut cur, u64::MAX)
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.detail()))?;
                    if done {
                        break;
                    }
                    self.fill_or_eof()?;
                }
                let body = self.buf[start..cur.out].to_vec();
                self.buf.drain(..cur.input);
                return Ok(body);
            }
        };
        let body = self.buf[start..end].to_vec();
        self.buf.drain(..end);
        Ok(body)
    }

    pub fn read_response(&mut self) -> Response {
        self.try_read_response(false).expect("a response")
    }

    pub fn request(&mut self, bytes: &[u8]) -> Response {
        self.send(bytes);
        self.read_response()
    }

    /// Everything the server sends until it closes the connection (EOF or reset).
    pub fn read_to_end(&mut self) -> Vec<u8> {
        loop {
            match self.fill() {
                Ok(0) => break,
                Ok(_) => {}
                // A reset, or (under TLS) a close without close_notify.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof
                    ) =>
                {
                    break;
                }
                Err(e) => panic!("reading to EOF: {e}"),
            }
        }
        std::mem::take(&mut self.buf)
    }

    /// True when the server has closed the connection (EOF or reset) with nothing more to read.
    pub fn is_closed(&mut self) -> bool {
        self.buf.is_empty()
            && match self.fill() {
                Ok(0) => true,
                Ok(_) => false,
                Err(e) => matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                ),
            }
    }
}

fn invalid(e: ResponseError, buf: &[u8]) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("malformed response ({e:?}): {:?}", String::from_utf8_lossy(buf)),
    )
}
