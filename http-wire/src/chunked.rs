//! The `Transfer-Encoding: chunked` state machine (RFC 9112 §7.1), one for both roles, with
//! two ways to drive it:
//!
//! - [`ChunkedDecoder::decode_in_place`] (the server, reading request bodies): decoded data
//!   is moved down over the framing in the same buffer, so a chunked body costs no second
//!   buffer and the read buffer holds at most head + decoded body + one read.
//! - [`ChunkedDecoder::skip`] (loadgen, reading response bodies): only finds where the body
//!   ends and counts its bytes; the payload is never copied.
//!
//! And the encoding side ([`write_chunk`], [`LAST_CHUNK`]) for whoever re-frames a body
//! (the server's proxy).
//!
//! Both are strict: every line ends in CRLF (a bare LF is malformed framing, not a line
//! end), sizes are 1 to 15 hex digits. Extensions and trailer fields are consumed and
//! dropped. The whole state is a few integers, so input may be split at any byte.

/// Longest chunk-size line (size plus extensions) and trailer section accepted.
const MAX_LINE: usize = 4096;
const MAX_TRAILERS: usize = 8192;

/// Why a chunked body was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkError {
    /// Not chunked framing: a bad size, a bare LF, data not followed by CRLF.
    Malformed,
    /// A size of more than 15 hex digits.
    SizeTooLarge,
    /// A size line (size plus extensions) over 4 KiB.
    ExtensionTooLong,
    /// Trailer fields over 8 KiB.
    TrailersTooLarge,
    /// More decoded bytes than the caller's limit.
    BodyTooLarge,
}

impl ChunkError {
    pub fn detail(self) -> &'static str {
        match self {
            ChunkError::Malformed => "malformed chunked body",
            ChunkError::SizeTooLarge => "chunk size too large",
            ChunkError::ExtensionTooLong => "chunk extension too long",
            ChunkError::TrailersTooLarge => "trailer section too large",
            ChunkError::BodyTooLarge => "body too large",
        }
    }
}

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

const BAD_FRAMING: ChunkError = ChunkError::Malformed;

impl ChunkedDecoder {
    /// Consumes `buf[cur.input..]`, moving chunk data down to `cur.out`. Returns true once the
    /// last chunk and the trailers are read; `cur.input` then points just past the body.
    pub fn decode_in_place(
        &mut self,
        buf: &mut [u8],
        cur: &mut Cursor,
        max_body: u64,
    ) -> Result<bool, ChunkError> {
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

    /// Consumes body bytes without copying them: how many of `buf` belong to the body, and
    /// whether it ended (bytes after the end belong to the next message).
    pub fn skip(&mut self, buf: &[u8]) -> Result<(usize, bool), ChunkError> {
        let mut pos = 0;
        while pos < buf.len() {
            if let State::Data(remaining) = self.state {
                let n = remaining.min((buf.len() - pos) as u64);
                pos += n as usize;
                self.state = if remaining == n {
                    State::DataCr
                } else {
                    State::Data(remaining - n)
                };
                continue;
            }
            let byte = buf[pos];
            pos += 1;
            self.state = self.step(byte, u64::MAX)?;
            if self.state == State::Done {
                return Ok((pos, true));
            }
        }
        Ok((pos, self.state == State::Done))
    }

    /// Payload bytes announced so far (whole chunks, counted at their size lines).
    pub fn decoded(&self) -> u64 {
        self.decoded
    }

    fn step(&mut self, byte: u8, max_body: u64) -> Result<State, ChunkError> {
        Ok(match self.state {
            State::Size { digits } => match byte {
                b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                    if digits >= 15 {
                        return Err(ChunkError::SizeTooLarge);
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
                    return Err(ChunkError::ExtensionTooLong);
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
                        return Err(ChunkError::BodyTooLarge);
                    }
                    State::Data(size)
                }
            }
            State::DataCr if byte == b'\r' => State::DataLf,
            State::DataLf if byte == b'\n' => State::Size { digits: 0 },
            State::TrailerLine => {
                self.trailer_len += 1;
                if self.trailer_len > MAX_TRAILERS {
                    return Err(ChunkError::TrailersTooLarge);
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

/// The last chunk with an empty trailer section: the end of a chunked body.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Appends `data` as one chunk (`<hex size>\r\n<data>\r\n`); nothing for empty data, which
/// would read as the last chunk.
pub fn write_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let mut hex = [0u8; 16];
    let mut i = hex.len();
    let mut n = data.len();
    loop {
        i -= 1;
        hex[i] = b"0123456789abcdef"[n % 16];
        n /= 16;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&hex[i..]);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `wire` in pieces of `step` bytes into a growing buffer, as a connection would.
    fn decode_in_steps(wire: &[u8], step: usize, max: u64) -> Result<(Vec<u8>, usize), ChunkError> {
        let mut buf = Vec::new();
        let mut cur = Cursor { out: 0, input: 0 };
        let mut dec = ChunkedDecoder::default();
        for piece in wire.chunks(step) {
            buf.extend_from_slice(piece);
            if dec.decode_in_place(&mut buf, &mut cur, max)? {
                return Ok((buf[..cur.out].to_vec(), cur.input));
            }
        }
        panic!("incomplete: {wire:?}")
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
                matches!(
                    decode_in_steps(bad, 1, 1 << 20),
                    Err(ChunkError::Malformed | ChunkError::SizeTooLarge)
                ),
                "{bad:?}"
            );
            assert!(ChunkedDecoder::default().skip(bad).is_err(), "skip: {bad:?}");
        }
        assert_eq!(
            decode_in_steps(b"b\r\nhello world\r\n0\r\n\r\n", 4, 10),
            Err(ChunkError::BodyTooLarge)
        );
    }

    #[test]
    fn skip_finds_the_end_at_every_split_and_counts_the_payload() {
        for split in 0..=WIRE.len() {
            let mut dec = ChunkedDecoder::default();
            let (a, b) = WIRE.split_at(split);
            let (used_a, done_a) = dec.skip(a).unwrap();
            assert!(!done_a || split >= WIRE.len() - 4, "split {split}");
            let used = if done_a {
                used_a
            } else {
                used_a + dec.skip(b).unwrap().0
            };
            assert_eq!(&WIRE[used..], b"NEXT", "split {split}");
            assert_eq!(dec.decoded(), 22);
        }
    }

    #[test]
    fn a_bare_lf_is_not_a_line_end_in_either_mode() {
        for bad in [
            &b"5\nhello\r\n0\r\n\r\n"[..],
            b"5\r\nhello\n0\r\n\r\n",
            b"0\r\n\n",
            b"0\n\n",
        ] {
            assert_eq!(
                ChunkedDecoder::default().skip(bad),
                Err(ChunkError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn written_chunks_decode_back() {
        let mut body = Vec::new();
        for piece in [&b"a"[..], &[b'x'; 300], b"", b"end"] {
            write_chunk(&mut body, piece);
        }
        body.extend_from_slice(LAST_CHUNK);
        assert!(body.starts_with(b"1\r\na\r\n12c\r\n"));
        let mut cur = Cursor { out: 0, input: 0 };
        let done = ChunkedDecoder::default()
            .decode_in_place(&mut body, &mut cur, u64::MAX)
            .unwrap();
        assert!(done && cur.input == body.len() && cur.out == 304);
    }
}
