//! Request errors that end a connection: each maps to a status and a short explanation.

use crate::chunked::ChunkError;
use crate::framing::FramingError;
use crate::status::{self, Status};

/// A request the server cannot go on reading past; answered, then the connection closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpError {
    /// 400, with what was wrong.
    BadRequest(&'static str),
    /// 408: the head (or the next piece of the body) did not arrive in time.
    Timeout,
    /// 413: the body is over `--max-body-bytes`.
    BodyTooLarge,
    /// 414: the request line is over its limit.
    UriTooLong,
    /// 431: the head is over `--max-header-bytes`, or has too many fields.
    HeadersTooLarge(&'static str),
    /// 501: a transfer-coding other than chunked, with what was wrong.
    UnsupportedCoding,
    /// 505: an HTTP version other than 1.0 and 1.1.
    Version,
    /// 400: plain HTTP arrived where TLS was expected (answered in plain text).
    PlainHttpToTls,
}

impl From<FramingError> for HttpError {
    fn from(e: FramingError) -> HttpError {
        match e {
            FramingError::UnsupportedCoding => HttpError::UnsupportedCoding,
            other => HttpError::BadRequest(other.detail()),
        }
    }
}

impl From<ChunkError> for HttpError {
    fn from(e: ChunkError) -> HttpError {
        match e {
            ChunkError::BodyTooLarge => HttpError::BodyTooLarge,
            ChunkError::TrailersTooLarge => HttpError::HeadersTooLarge(e.detail()),
            other => HttpError::BadRequest(other.detail()),
        }
    }
}

impl HttpError {
    pub fn status(self) -> Status {
        match self {
            HttpError::BadRequest(_) | HttpError::PlainHttpToTls => status::BAD_REQUEST,
            HttpError::Timeout => status::REQUEST_TIMEOUT,
            HttpError::BodyTooLarge => status::PAYLOAD_TOO_LARGE,
            HttpError::UriTooLong => status::URI_TOO_LONG,
            HttpError::HeadersTooLarge(_) => status::HEADERS_TOO_LARGE,
            HttpError::UnsupportedCoding => status::NOT_IMPLEMENTED,
            HttpError::Version => status::VERSION_NOT_SUPPORTED,
        }
    }

    /// The human-readable reason, used in the response body and the log line.
    pub fn detail(self) -> &'static str {
        match self {
            HttpError::BadRequest(why) | HttpError::HeadersTooLarge(why) => why,
            HttpError::Timeout => "request not received in time",
            HttpError::BodyTooLarge => "request body too large",
            HttpError::UriTooLong => "request line too long",
            HttpError::UnsupportedCoding => "only the chunked transfer-coding is supported",
            HttpError::Version => "only HTTP/1.0 and HTTP/1.1 are supported",
            // nginx's words, which users search for.
            HttpError::PlainHttpToTls => "The plain HTTP request was sent to HTTPS port",
        }
    }
}
