//! The server role: request-head parsing (httparse), the fields a server acts on, and the
//! framing decision (`framing.rs`), each refusal an [`HttpError`] with its status.

use crate::error::HttpError;
use crate::framing::{Framing, FramingFields};
use crate::token::list_items;

/// Longest request line accepted; longer gets 414 (nginx's large_client_header_buffers).
pub const MAX_REQUEST_LINE: usize = 8 * 1024;

/// The request's conditional and range fields as sent, for whoever serves representations
/// (evaluated by the server's files module).
#[derive(Clone, Copy, Debug, Default)]
pub struct Conditions<'b> {
    pub if_match: Option<&'b [u8]>,
    pub if_none_match: Option<&'b [u8]>,
    pub if_modified_since: Option<&'b [u8]>,
    pub if_unmodified_since: Option<&'b [u8]>,
    pub if_range: Option<&'b [u8]>,
    pub range: Option<&'b [u8]>,
}

/// Header fields accepted in one request; more gets 431.
pub const MAX_HEADERS: usize = 64;

/// The parts of a request head the server acts on, borrowed from the read buffer.
#[derive(Debug)]
pub struct Head<'b> {
    pub method: &'b str,
    /// The request target as sent: path plus optional query.
    pub target: &'b str,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// Whether the client allows the connection to stay open after the response.
    pub keep_alive: bool,
    pub framing: Framing,
    pub expect_continue: bool,
    pub content_type: Option<&'b [u8]>,
    pub authorization: Option<&'b [u8]>,
    /// Conditional and range fields, for static files.
    pub conditions: Conditions<'b>,
    /// Bytes of the head, final empty line included.
    pub len: usize,
}

impl Head<'_> {
    /// The target's path: query dropped, and for the absolute form (`http://host/p`, which
    /// servers must accept) scheme and authority dropped too.
    pub fn path(&self) -> &str {
        let target = self.target.split_once('?').map_or(self.target, |(p, _)| p);
        match target
            .strip_prefix("http://")
            .or_else(|| target.strip_prefix("https://"))
        {
            Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
            None => target,
        }
    }

    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }
}

/// Whether the request starting at `buf` is a HEAD, known from its first bytes even when
/// its head is incomplete or malformed: an error answer to it has no body either.
pub fn starts_head_request(buf: &[u8]) -> bool {
    buf.starts_with(b"HEAD ")
}

/// Parses the head at the start of `buf`: `Ok(None)` while it is incomplete and within limits.
pub fn parse(buf: &[u8], max_header_bytes: usize) -> Result<Option<Head<'_>>, HttpError> {
    let max_line = MAX_REQUEST_LINE.min(max_header_bytes);
    // Uninitialised slots: zeroing 64 headers per request cost more than parsing them.
    let mut fields = [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut fields) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            check_request_line(buf, max_line)?;
            if buf.len() > max_header_bytes {
                return Err(HttpError::HeadersTooLarge("request head too large"));
            }
            return Ok(None);
        }
        Err(e) => {
            // A line over the limit is 414 even when httparse stumbled on it first.
            check_request_line(buf, max_line)?;
            return Err(classify(e, buf));
        }
    };
    check_request_line(buf, max_line)?;
    if len > max_header_bytes {
        return Err(HttpError::HeadersTooLarge("request head too large"));
    }
    let (Some(method), Some(target), Some(minor_version)) = (req.method, req.path, req.version) else {
        return Err(HttpError::BadRequest("malformed request line"));
    };
    let fields = fields_of(req.headers, minor_version)?;
    Ok(Some(Head {
        method,
        target,
        minor_version,
        keep_alive: fields.keep_alive(minor_version),
        framing: fields.framing(minor_version)?,
        expect_continue: fields.expect_continue,
        content_type: fields.content_type,
        authorization: fields.authorization,
        conditions: fields.conditions,
        len,
    }))
}

fn check_request_line(buf: &[u8], max_line: usize) -> Result<(), HttpError> {
    let scan = &buf[..buf.len().min(max_line + 1)];
    match scan.iter().position(|&b| b == b'\n') {
        None if buf.len() > max_line => Err(HttpError::UriTooLong),
        _ => Ok(()),
    }
}

fn classify(e: httparse::Error, buf: &[u8]) -> HttpError {
    match e {
        httparse::Error::TooManyHeaders => HttpError::HeadersTooLarge("too many header fields"),
        httparse::Error::Version if version_token_is_http(buf) => HttpError::Version,
        httparse::Error::Version | httparse::Error::Token => HttpError::BadRequest("malformed request line"),
        httparse::Error::HeaderName | httparse::Error::HeaderValue => {
            HttpError::BadRequest("malformed header field")
        }
        _ => HttpError::BadRequest("malformed request"),
    }
}

/// `HTTP/2.0` deserves 505; `FOO/1.1` is just malformed.
fn version_token_is_http(buf: &[u8]) -> bool {
    let line_end = buf
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(buf.len());
    let line = &buf[..line_end];
    line.rsplit(|&b| b == b' ')
        .next()
        .is_some_and(|v| v.starts_with(b"HTTP/"))
}

/// What the header fields say, before deciding framing and persistence.
#[derive(Default)]
struct Fields<'b> {
    framing: FramingFields,
    conn_close: bool,
    conn_keep_alive: bool,
    expect_continue: bool,
    content_type: Option<&'b [u8]>,
    authorization: Option<&'b [u8]>,
    conditions: Conditions<'b>,
}

fn fields_of<'b>(headers: &[httparse::Header<'b>], minor: u8) -> Result<Fields<'b>, HttpError> {
    let mut f = Fields::default();
    let mut hosts = 0;
    let mut authorizations = 0;
    for h in headers {
        let name = h.name.as_bytes();
        let is = |expected: &[u8]| name.eq_ignore_ascii_case(expected);
        // Dispatch on length first: most fields are compared against one name at most.
        match name.len() {
            4 if is(b"host") => hosts += 1,
            5 if is(b"range") => f.conditions.range = Some(h.value),
            6 if is(b"expect") => {
                f.expect_continue = minor == 1 && h.value.trim_ascii().eq_ignore_ascii_case(b"100-continue");
            }
            8 if is(b"if-match") => f.conditions.if_match = Some(h.value),
            8 if is(b"if-range") => f.conditions.if_range = Some(h.value),
            10 if is(b"connection") => {
                for token in list_items(h.value) {
                    f.conn_close |= token.eq_ignore_ascii_case(b"close");
                    f.conn_keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
                }
            }
            12 if is(b"content-type") => f.content_type = Some(h.value),
            13 if is(b"if-none-match") => f.conditions.if_none_match = Some(h.value),
            13 if is(b"authorization") => {
                authorizations += 1;
                f.authorization = Some(h.value);
            }
            14 if is(b"content-length") => f.framing.content_length(h.value)?,
            17 if is(b"transfer-encoding") => f.framing.transfer_encoding(h.value)?,
            17 if is(b"if-modified-since") => f.conditions.if_modified_since = Some(h.value),
            19 if is(b"if-unmodified-since") => f.conditions.if_unmodified_since = Some(h.value),
            _ => {}
        }
    }
    // Which of two credentials counts is a question a proxy and this server could answer
    // differently: refused, as a repeated Host is.
    if authorizations > 1 {
        return Err(HttpError::BadRequest("more than one Authorization header"));
    }
    match (minor, hosts) {
        (1, 0) => Err(HttpError::BadRequest("missing Host header")),
        (_, 2..) => Err(HttpError::BadRequest("more than one Host header")),
        _ => Ok(f),
    }
}

impl Fields<'_> {
    fn keep_alive(&self, minor: u8) -> bool {
        !self.conn_close && (minor == 1 || self.conn_keep_alive)
    }

    fn framing(&self, minor: u8) -> Result<Framing, HttpError> {
        Ok(self.framing.request(minor)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(req: &str) -> Result<Option<Head<'_>>, HttpError> {
        parse(req.as_bytes(), 16 * 1024)
    }

    #[test]
    fn parses_a_keep_alive_get() {
        let h = head("GET /json?x=1 HTTP/1.1\r\nHost: a\r\n\r\nrest")
            .unwrap()
            .unwrap();
        assert_eq!((h.method, h.path(), h.minor_version), ("GET", "/json", 1));
        assert!(h.keep_alive);
        assert_eq!(h.framing, Framing::None);
        assert_eq!(h.len, 35);
        let h = head("GET http://example.com/json?x HTTP/1.1\r\nHost: a\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(h.path(), "/json");
        let h = head("GET http://example.com HTTP/1.1\r\nHost: a\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(h.path(), "/");
    }

    #[test]
    fn http10_closes_unless_asked() {
        assert!(!head("GET / HTTP/1.0\r\n\r\n").unwrap().unwrap().keep_alive);
        let h = head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(h.keep_alive);
    }

    #[test]
    fn framing_rules() {
        let f = |r: &str| head(r).map(|h| h.unwrap().framing);
        assert_eq!(
            f("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"),
            Ok(Framing::Length(5))
        );
        assert_eq!(
            f("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n"),
            Ok(Framing::Length(5))
        );
        assert_eq!(
            f("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            Err(HttpError::UnsupportedCoding)
        );
        for bad in [
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            assert!(matches!(f(bad), Err(HttpError::BadRequest(_))), "{bad:?}");
        }
    }

    #[test]
    fn limits_and_versions() {
        assert_eq!(head("GET / HTTP/2.0\r\n\r\n").unwrap_err(), HttpError::Version);
        assert!(matches!(
            head("GET / FOO/1.1\r\n\r\n"),
            Err(HttpError::BadRequest(_))
        ));
        assert!(matches!(
            head("GET / HTTP/1.1\r\n\r\n"),
            Err(HttpError::BadRequest(_))
        ));
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(MAX_REQUEST_LINE));
        assert_eq!(head(&long).unwrap_err(), HttpError::UriTooLong);
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(16 * 1024));
        assert!(matches!(head(&big), Err(HttpError::HeadersTooLarge(_))));
        assert!(head("GET / HTTP/1.1\r\nHost: a\r\n").unwrap().is_none());
    }
}
