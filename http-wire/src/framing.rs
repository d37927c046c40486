//! How a message body is delimited (RFC 9112 §6): the decision both roles make, written
//! once. Framing is where request smuggling and response splitting live, so every
//! ambiguous case is an error: Content-Length with Transfer-Encoding, differing or
//! malformed Content-Length values (only digits: no sign, no hex, no spaces inside),
//! `chunked` twice, and Transfer-Encoding on HTTP/1.0.

use crate::token::list_items;

/// How the body that follows a head is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    None,
    Length(u64),
    Chunked,
    /// A response body that ends when the server closes the connection.
    UntilClose,
}

/// Why a head's framing fields were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FramingError {
    MalformedLength,
    ConflictingLengths,
    LengthAndChunked,
    ChunkedTwice,
    /// A request whose codings do not end in `chunked`: its length cannot be known.
    NotChunkedLast,
    /// HTTP/1.0 has no Transfer-Encoding (RFC 9112 §6.1: the framing is faulty).
    CodingOnHttp10,
    /// A request coding other than `chunked` (the server decodes no other).
    UnsupportedCoding,
}

impl FramingError {
    pub fn detail(self) -> &'static str {
        match self {
            FramingError::MalformedLength => "malformed Content-Length",
            FramingError::ConflictingLengths => "conflicting Content-Length values",
            FramingError::LengthAndChunked => "both Content-Length and Transfer-Encoding",
            FramingError::ChunkedTwice => "chunked applied more than once",
            FramingError::NotChunkedLast => "Transfer-Encoding does not end in chunked",
            FramingError::CodingOnHttp10 => "Transfer-Encoding in an HTTP/1.0 message",
            FramingError::UnsupportedCoding => "only the chunked transfer-coding is supported",
        }
    }
}

/// The framing fields of one head, collected field by field.
#[derive(Clone, Copy, Debug, Default)]
pub struct FramingFields {
    content_length: Option<u64>,
    transfer_encoding: bool,
    chunked_seen: bool,
    chunked_last: bool,
    other_coding: bool,
}

impl FramingFields {
    /// A `Content-Length` field: `5`, or the list form `5, 5`.
    pub fn content_length(&mut self, value: &[u8]) -> Result<(), FramingError> {
        let n = parse_content_length(value)?;
        if self.content_length.is_some_and(|prev| prev != n) {
            return Err(FramingError::ConflictingLengths);
        }
        self.content_length = Some(n);
        Ok(())
    }

    /// A `Transfer-Encoding` field (several fields form one list).
    pub fn transfer_encoding(&mut self, value: &[u8]) -> Result<(), FramingError> {
        self.transfer_encoding = true;
        for coding in list_items(value) {
            if coding.eq_ignore_ascii_case(b"chunked") {
                // Anywhere, not just twice in a row: `chunked, gzip, chunked` too.
                if self.chunked_seen {
                    return Err(FramingError::ChunkedTwice);
                }
                self.chunked_seen = true;
                self.chunked_last = true;
            } else {
                self.other_coding = true;
                self.chunked_last = false;
            }
        }
        Ok(())
    }

    fn coded(&self, minor: u8) -> Result<bool, FramingError> {
        if !self.transfer_encoding {
            return Ok(false);
        }
        if self.content_length.is_some() {
            return Err(FramingError::LengthAndChunked);
        }
        if minor == 0 {
            return Err(FramingError::CodingOnHttp10);
        }
        Ok(true)
    }

    /// A request's body (RFC 9112 §6.3, as a server must read it).
    pub fn request(&self, minor: u8) -> Result<Framing, FramingError> {
        if !self.coded(minor)? {
            return Ok(match self.content_length {
                None | Some(0) => Framing::None,
                Some(n) => Framing::Length(n),
            });
        }
        if !self.chunked_last {
            return Err(FramingError::NotChunkedLast);
        }
        if self.other_coding {
            return Err(FramingError::UnsupportedCoding);
        }
        Ok(Framing::Chunked)
    }

    /// A response's body. `bodiless`: it answers a HEAD, or its status is 1xx, 204 or 304,
    /// so no body follows whatever the fields say.
    pub fn response(&self, minor: u8, bodiless: bool) -> Result<Framing, FramingError> {
        let coded = self.coded(minor)?;
        if bodiless {
            return Ok(Framing::None);
        }
        Ok(match (coded, self.content_length) {
            // Other codings under chunked (gzip, chunked) are the content's business.
            (true, _) if self.chunked_last => Framing::Chunked,
            (true, _) => Framing::UntilClose,
            (false, Some(0)) => Framing::None,
            (false, Some(n)) => Framing::Length(n),
            (false, None) => Framing::UntilClose,
        })
    }
}

fn parse_content_length(value: &[u8]) -> Result<u64, FramingError> {
    let mut result = None;
    for item in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
        if item.is_empty() || item.len() > 18 || !item.iter().all(u8::is_ascii_digit) {
            return Err(FramingError::MalformedLength);
        }
        let n = item.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
        if result.is_some_and(|prev| prev != n) {
            return Err(FramingError::ConflictingLengths);
        }
        result = Some(n);
    }
    result.ok_or(FramingError::MalformedLength)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(cl: &[&[u8]], te: &[&[u8]]) -> Result<FramingFields, FramingError> {
        let mut f = FramingFields::default();
        for v in cl {
            f.content_length(v)?;
        }
        for v in te {
            f.transfer_encoding(v)?;
        }
        Ok(f)
    }

    #[test]
    fn content_length_is_digits_only() {
        for bad in [
            &b"+5"[..],
            b"-5",
            b"0x5",
            b"5 5",
            b"",
            b" ",
            b"5,",
            b"1234567890123456789",
        ] {
            assert_eq!(
                fields(&[bad], &[]).unwrap_err(),
                FramingError::MalformedLength,
                "{bad:?}"
            );
        }
        assert_eq!(
            fields(&[b"5, 6"], &[]).unwrap_err(),
            FramingError::ConflictingLengths
        );
        assert_eq!(
            fields(&[b"5", b"6"], &[]).unwrap_err(),
            FramingError::ConflictingLengths
        );
        assert_eq!(
            fields(&[b" 5 , 5"], &[]).unwrap().request(1),
            Ok(Framing::Length(5))
        );
    }

    #[test]
    fn request_and_response_rules() {
        let f = |cl: &[&[u8]], te: &[&[u8]]| fields(cl, te).unwrap();
        assert_eq!(f(&[], &[]).request(1), Ok(Framing::None));
        assert_eq!(f(&[], &[]).response(1, false), Ok(Framing::UntilClose));
        assert_eq!(f(&[b"0"], &[]).response(1, false), Ok(Framing::None));
        assert_eq!(f(&[], &[b"chunked"]).request(1), Ok(Framing::Chunked));
        assert_eq!(
            f(&[], &[b"gzip, chunked"]).request(1),
            Err(FramingError::UnsupportedCoding)
        );
        assert_eq!(
            f(&[], &[b"gzip, chunked"]).response(1, false),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            f(&[], &[b"chunked, gzip"]).request(1),
            Err(FramingError::NotChunkedLast)
        );
        assert_eq!(
            f(&[], &[b"chunked, gzip"]).response(1, false),
            Ok(Framing::UntilClose)
        );
        assert_eq!(
            f(&[b"3"], &[b"chunked"]).request(1),
            Err(FramingError::LengthAndChunked)
        );
        assert_eq!(
            f(&[b"3"], &[b"chunked"]).response(1, false),
            Err(FramingError::LengthAndChunked)
        );
        assert_eq!(
            f(&[], &[b"chunked"]).response(0, false),
            Err(FramingError::CodingOnHttp10)
        );
        assert_eq!(f(&[b"10"], &[]).response(1, true), Ok(Framing::None));
        assert_eq!(
            fields(&[], &[b"chunked", b"chunked"]).unwrap_err(),
            FramingError::ChunkedTwice
        );
        assert_eq!(
            fields(&[], &[b"chunked, gzip, chunked"]).unwrap_err(),
            FramingError::ChunkedTwice
        );
    }
}
