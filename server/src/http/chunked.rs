//! Incremental, in-place decoder for `Transfer-Encoding: chunked` request bodies.
//!
//! Decoded data is moved down over the framing in the same buffer, so a chunked body
//! costs no second buffer and the read buffer holds at most head + decoded body + one read.
//! Chunk extensions and trailer fields are consumed and dropped.

use super::error::HttpError;

/// Longest chunk-size line (size plus extensions) and trailer section accepted.
const MAX_LINE: usize = 4096;
const MAX_TRAILERS: usize = 8192;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Size {
        digits: u8,
    },
    /// After the size digits: optional whitespace and `;ext` up to CR.
    Extension,
    SizeLf,
    Data(u64),
    DataCr,
    DataLf,
    TrailerLine,
    TrailerLf {
        empty_line: bool,
    },
    Done,
}

#[derive(Clone, Debug)]
pub struct ChunkedDecoder {
    state: State,
    /// Size of the chunk whose size line is being read.
    chunk_size: u64,
    decoded: u64,
    line_len: usize,
    trailer_len: usize,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder {
            state: State::Size { digits: 0 },
            chunk_size: 0,
            decoded: 0,
            line_len: 0,
            trailer_len: 0,
        }
    }
}

/// Where the decoder stands in a buffer: body bytes end at `out`, unread input starts at `input`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub out: usize,
    pub input: usize,
}

const BAD_FRAMING: HttpError = HttpError::BadRequest("malformed chunked body");

impl ChunkedDecoder {
    /// Consumes `buf[cur.input..]`, moving chunk data down to `cur.out`. Returns true once the
    /// last chunk and the trailers are read; `cur.input` then points just past the body.
    pub fn decode(&mut self, buf: &mut [u8], cur: &mut Cursor, max_body: u64) -> Result<bool, HttpError> {
        while cur.input < buf.len() {
            if let State::Data(remaining) = self.state {
                let n = remaining.min((buf.len() - cur.input) as u64) as usize;
                buf.copy_within(cur.input..cur.input + n, cur.out);
                cur.input += n;
                cur.out += n;
                self.state = if remaining == n as u64 {
                    State::DataCr
                } else {
                    State::Data(remaining - n as u64)
                };
                continue;
            }
            let byte = buf[cur.input];
            cur.input += 1;
            self.state = self.step(byte, max_body)?;
            if self.state == State::Done {
                return Ok(true);
            }
        }
        Ok(self.state == State::Done)
    }

    fn step(&mut self, byte: u8, max_body: u64) -> Result<State, HttpError> {
        Ok(match self.state {
            State::Size { digits } => match byte {
                b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                    if digits >= 15 {
                        return Err(HttpError::BadRequest("chunk size too large"));
                    }
                    let d = (byte as char).to_digit(16).unwrap_or(0);
                    self.chunk_size = self.chunk_size << 4 | u64::from(d);
                    self.line_len += 1;
                    State::Size { digits: digits + 1 }
                }
                _ if digits == 0 => return Err(BAD_FRAMING),
                b'\r' => State::SizeLf,
                b';' | b' ' | b'\t' => State::Extension,
                _ => return Err(BAD_FRAMING),
            },
            State::Extension => {
                self.line_len += 1;
                if self.line_len > MAX_LINE {
                    return Err(HttpError::BadRequest("chunk extension too long"));
                }
                match byte {
                    b'\r' => State::SizeLf,
                    b'\n' => return Err(BAD_FRAMING),
                    _ => State::Extension,
                }
            }
            State::SizeLf if byte == b'\n' => {
                self.line_len = 0;
                let size = std::mem::take(&mut self.chunk_size);
                if size == 0 {
                    State::TrailerLine
                } else {
                    self.decoded = self.decoded.saturating_add(size);
                    if self.decoded > max_body {
                        return Err(HttpError::BodyTooLarge);
                    }
                    State::Data(size)
                }
            }
            State::DataCr if byte == b'\r' => State::DataLf,
            State::DataLf if byte == b'\n' => State::Size { digits: 0 },
            State::TrailerLine => {
                self.trailer_len += 1;
                if self.trailer_len > MAX_TRAILERS {
                    return Err(HttpError::HeadersTooLarge("trailer section too large"));
                }
                match byte {
                    b'\r' => State::TrailerLf {
                        empty_line: self.line_len == 0,
                    },
                    b'\n' => return Err(BAD_FRAMING),
                    _ => {
                        self.line_len += 1;
                        State::TrailerLine
                    }
                }
            }
            State::TrailerLf { empty_line } if byte == b'\n' => {
                self.line_len = 0;
                if empty_line {
                    State::Done
                } else {
                    State::TrailerLine
                }
            }
            _ => return Err(BAD_FRAMING),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `wire` in pieces of `step` bytes into a growing buffer, as a connection would.
    fn decode_in_steps(wire: &[u8], step: usize, max: u64) -> Result<(Vec<u8>, usize), HttpError> {
        let mut buf = Vec::new();
        let mut cur = Cursor { out: 0, input: 0 };
        let mut dec = ChunkedDecoder::default();
        for piece in wire.chunks(step) {
            buf.extend_from_slice(piece);
            if dec.decode(&mut buf, &mut cur, max)? {
                return Ok((buf[..cur.out].to_vec(), cur.input));
            }
        }
        Err(HttpError::BadRequest("incomplete"))
    }

    const WIRE: &[u8] =
        b"5;name=val\r\nhello\r\n7\r\n, world\r\nA \r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";

    #[test]
    fn decodes_at_every_split() {
        for step in 1..=WIRE.len() {
            let (body, used) = decode_in_steps(WIRE, step, 1 << 20).unwrap();
            assert_eq!(body, b"hello, world0123456789", "step {step}");
            assert_eq!(&WIRE[used..], b"NEXT", "step {step}");
        }
    }

    #[test]
    fn rejects_bad_framing_and_oversize() {
        for bad in [
            &b"x\r\n"[..],
            b"5\nhello\r\n",
            b"5\r\nhelloXX",
            b"1\r\na\r\n0\r\nbad\nline\r\n\r\n",
            b"fffffffffffffffff\r\n",
        ] {
            assert!(
                matches!(decode_in_steps(bad, 1, 1 << 20), Err(HttpError::BadRequest(_))),
                "{bad:?}"
            );
        }
        assert_eq!(
            decode_in_steps(b"b\r\nhello world\r\n0\r\n\r\n", 4, 10),
            Err(HttpError::BodyTooLarge)
        );
    }
}
