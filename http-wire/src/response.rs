//! The client role: response-head parsing (httparse) and the framing decision, as strict as
//! the server is with requests: a load generator must flag a malformed response, not count
//! it as a success.

use crate::framing::{Framing, FramingError, FramingFields};
use crate::token::has_token;
use std::mem::MaybeUninit;

/// Enough for any sane response head; more fields than this is malformed.
pub const MAX_HEADERS: usize = 64;

/// What a client needs from a response head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// The server closes the connection after this response.
    pub close: bool,
    pub framing: Framing,
    /// Bytes of the head, final empty line included.
    pub len: usize,
}

impl ResponseHead {
    /// An interim response (100 Continue, 103 Early Hints): the real one follows.
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.status)
    }
}

/// Why a response head was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseError {
    /// Not an HTTP/1.x status line and fields (httparse's verdict), or a status under 100.
    Malformed,
    Framing(FramingError),
}

impl From<FramingError> for ResponseError {
    fn from(e: FramingError) -> ResponseError {
        ResponseError::Framing(e)
    }
}

/// Parses the head at the start of `buf`: `Ok(None)` while it is incomplete. `head_request`:
/// the response answers a HEAD, so no body follows whatever the fields say.
pub fn parse(buf: &[u8], head_request: bool) -> Result<Option<ResponseHead>, ResponseError> {
    // Uninitialised slots: no 2 KiB memset per response.
    let mut fields = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut []);
    let config = httparse::ParserConfig::default();
    let len = match config.parse_response_with_uninit_headers(&mut parsed, buf, &mut fields) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(ResponseError::Malformed),
    };
    let (Some(status), Some(minor_version)) = (parsed.code, parsed.version) else {
        return Err(ResponseError::Malformed);
    };
    // Three digits, but no status class below 1xx exists (RFC 9110 §15).
    if status < 100 {
        return Err(ResponseError::Malformed);
    }
    let mut framing = FramingFields::default();
    let (mut said_close, mut said_keep_alive) = (false, false);
    for field in parsed.headers.iter() {
        let name = field.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-length") {
            framing.content_length(field.value)?;
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            framing.transfer_encoding(field.value)?;
        } else if name.eq_ignore_ascii_case(b"connection") {
            said_close |= has_token(field.value, b"close");
            said_keep_alive |= has_token(field.value, b"keep-alive");
        }
    }
    // `close` anywhere wins; HTTP/1.0 closes unless it asked to keep the connection.
    let close = said_close || (minor_version == 0 && !said_keep_alive);
    let bodiless = head_request || (100..200).contains(&status) || status == 204 || status == 304;
    let framing = framing.response(minor_version, bodiless)?;
    Ok(Some(ResponseHead {
        status,
        minor_version,
        // A body that ends at EOF ends the connection too.
        close: close || framing == Framing::UntilClose,
        framing,
        len,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(s: &[u8]) -> Result<Option<ResponseHead>, ResponseError> {
        parse(s, false)
    }

    #[test]
    fn framing_and_persistence() {
        let h = head(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello")
            .unwrap()
            .unwrap();
        assert_eq!(
            (h.status, h.close, h.framing, h.len),
            (200, false, Framing::Length(13), 39)
        );
        let h = head(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(!h.close);
        let h = head(b"HTTP/1.1 200 OK\r\nConnection: Upgrade, close\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((h.close, h.framing), (true, Framing::Chunked));
        let h = head(b"HTTP/1.1 200 OK\r\n\r\n").unwrap().unwrap();
        assert_eq!((h.close, h.framing), (true, Framing::UntilClose));
        // A later keep-alive does not take a close back.
        let h = head(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert!(h.close);
        let h = head(b"HTTP/1.1 100 Continue\r\n\r\n").unwrap().unwrap();
        assert!(h.is_interim() && h.framing == Framing::None);
        let h = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", true)
            .unwrap()
            .unwrap();
        assert_eq!(h.framing, Framing::None);
        assert_eq!(head(b"HTTP/1.1 200 OK\r\nContent-Len"), Ok(None));
    }

    #[test]
    fn malformed_heads_are_refused() {
        for bad in [
            &b"HTTX/1.1 200 OK\r\n\r\n"[..],
            b"HTTP/1.1 099 Low\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
        ] {
            assert_eq!(head(bad), Err(ResponseError::Malformed), "{bad:?}");
        }
        for (bad, why) in [
            (
                &b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n"[..],
                FramingError::MalformedLength,
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                FramingError::ConflictingLengths,
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                FramingError::LengthAndChunked,
            ),
            (
                b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                FramingError::CodingOnHttp10,
            ),
        ] {
            assert_eq!(head(bad), Err(ResponseError::Framing(why)), "{bad:?}");
        }
    }
}
