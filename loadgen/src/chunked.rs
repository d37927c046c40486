//! Incremental decoder for `Transfer-Encoding: chunked` bodies. It only finds where the
//! body ends (the payload is skipped, never copied), and it keeps its whole state in a few
//! integers so a body may be split across reads at any byte.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Hex digits of a chunk size; `digits` counts them to reject an empty size.
    Size {
        value: u64,
        digits: u8,
    },
    /// Chunk extension (`;name=value`) up to the end of the size line.
    Extension {
        value: u64,
    },
    /// CR seen at the end of the size line, LF expected.
    SizeLf {
        value: u64,
    },
    /// Payload bytes still to skip.
    Data {
        left: u64,
    },
    DataCr,
    DataLf,
    /// At the start of a trailer line (an empty line ends the body).
    TrailerStart,
    TrailerLine,
    FinalLf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkedDecoder {
    state: State,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder {
            state: State::Size { value: 0, digits: 0 },
        }
    }
}

impl ChunkedDecoder {
    /// Consume body bytes. Returns how many bytes were used and whether the body ended
    /// (bytes after the end belong to the next response).
    pub fn feed(&mut self, buf: &[u8]) -> Result<(usize, bool), ChunkError> {
        let mut pos = 0;
        while pos < buf.len() {
            if let State::Data { left } = self.state {
                // Skip payload in one step rather than byte by byte.
                let take = left.min((buf.len() - pos) as u64);
                pos += take as usize;
                self.state = if take == left {
                    State::DataCr
                } else {
                    State::Data { left: left - take }
                };
                continue;
            }
            let byte = buf[pos];
            pos += 1;
            self.state = match self.state {
                State::Size { value, digits } => match byte {
                    b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                        let digit = (byte as char).to_digit(16).unwrap_or(0) as u64;
                        if digits >= 15 {
                            return Err(ChunkError); // size would not fit in u64
                        }
                        State::Size {
                            value: value * 16 + digit,
                            digits: digits + 1,
                        }
                    }
                    _ if digits == 0 => return Err(ChunkError),
                    b';' | b' ' | b'\t' => State::Extension { value },
                    b'\r' => State::SizeLf { value },
                    b'\n' => after_size_line(value),
                    _ => return Err(ChunkError),
                },
                State::Extension { value } => match byte {
                    b'\r' => State::SizeLf { value },
                    b'\n' => after_size_line(value),
                    _ => State::Extension { value },
                },
                State::SizeLf { value } => match byte {
                    b'\n' => after_size_line(value),
                    _ => return Err(ChunkError),
                },
                State::Data { .. } => unreachable!("handled above"),
                State::DataCr => match byte {
                    b'\r' => State::DataLf,
                    b'\n' => State::Size { value: 0, digits: 0 },
                    _ => return Err(ChunkError),
                },
                State::DataLf => match byte {
                    b'\n' => State::Size { value: 0, digits: 0 },
                    _ => return Err(ChunkError),
                },
                State::TrailerStart => match byte {
                    b'\r' => State::FinalLf,
                    b'\n' => return self.finish(pos),
                    _ => State::TrailerLine,
                },
                State::TrailerLine => match byte {
                    b'\n' => State::TrailerStart,
                    _ => State::TrailerLine,
                },
                State::FinalLf => match byte {
                    b'\n' => return self.finish(pos),
                    _ => return Err(ChunkError),
                },
            };
        }
        Ok((pos, false))
    }

    fn finish(&mut self, used: usize) -> Result<(usize, bool), ChunkError> {
        *self = ChunkedDecoder::default();
        Ok((used, true))
    }
}

fn after_size_line(value: u64) -> State {
    if value == 0 {
        State::TrailerStart
    } else {
        State::Data { left: value }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] =
        b"5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";

    fn feed_all(parts: &[&[u8]]) -> Result<usize, ChunkError> {
        let mut decoder = ChunkedDecoder::default();
        let mut used = 0;
        for part in parts {
            let (n, done) = decoder.feed(part)?;
            used += n;
            if done {
                return Ok(used);
            }
            assert_eq!(n, part.len(), "an unfinished body consumes every byte");
        }
        panic!("body did not finish");
    }

    #[test]
    fn finds_the_end_at_every_split_point() {
        let end = BODY.len() - 4;
        for split in 0..=BODY.len() {
            let (a, b) = BODY.split_at(split);
            assert_eq!(feed_all(&[a, b]), Ok(end), "split at {split}");
        }
    }

    #[test]
    fn byte_by_byte() {
        let parts: Vec<&[u8]> = BODY.chunks(1).collect();
        assert_eq!(feed_all(&parts), Ok(BODY.len() - 4));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [&b"zz\r\n"[..], b"\r\n", b"5\r\nhelloXX", b"0\r\n\rX"] {
            assert_eq!(ChunkedDecoder::default().feed(bad), Err(ChunkError), "{bad:?}");
        }
        let too_big = b"1234567890abcdef0\r\n";
        assert_eq!(ChunkedDecoder::default().feed(too_big), Err(ChunkError));
    }
}
