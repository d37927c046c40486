//! The chunked decoder in place (the server's mode), driven as the connection drives it:
//! bytes arrive in pieces, and between pieces the gap the framing left is closed.

use crate::pieces::{pieces, split_input};
use http_wire::chunked::{ChunkError, ChunkedDecoder, Cursor};

const MAX_BODY: u64 = 1 << 20;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// The body ended after `used` input bytes and decoded to `body`.
    Done {
        body: Vec<u8>,
        used: usize,
    },
    /// The input ran out; `body` is what was decoded so far.
    Incomplete {
        body: Vec<u8>,
    },
    Failed(ChunkError),
}

pub(crate) fn decode<'a>(input: impl Iterator<Item = &'a [u8]>) -> Decoded {
    let mut buf = Vec::new();
    let mut cur = Cursor { out: 0, input: 0 };
    let mut decoder = ChunkedDecoder::default();
    let mut dropped = 0; // framing bytes removed from the buffer between pieces
    for piece in input {
        buf.extend_from_slice(piece);
        match decoder.decode_in_place(&mut buf, &mut cur, MAX_BODY) {
            Err(e) => return Decoded::Failed(e),
            Ok(true) => {
                assert!(cur.out <= cur.input && cur.input <= buf.len());
                return Decoded::Done {
                    body: buf[..cur.out].to_vec(),
                    used: cur.input + dropped,
                };
            }
            Ok(false) => {
                assert_eq!(cur.input, buf.len(), "an unfinished body uses all its input");
                dropped += cur.input - cur.out;
                buf.truncate(cur.out);
                cur.input = cur.out;
            }
        }
    }
    Decoded::Incomplete {
        body: buf[..cur.out].to_vec(),
    }
}

pub fn check(data: &[u8]) {
    let (config, stream) = split_input(data);
    let whole = decode(std::iter::once(stream));
    let split = decode(pieces(config, stream));
    assert_eq!(whole, split, "split reads decode like one read");
    if let Decoded::Done { body, used } = &whole {
        assert!(body.len() <= *used && *used <= stream.len());
        // The same payload framed as one chunk decodes to the same bytes.
        let mut one = format!("{:x}\r\n", body.len()).into_bytes();
        one.extend_from_slice(body);
        one.extend_from_slice(b"\r\n0\r\n\r\n");
        if body.is_empty() {
            one = b"0\r\n\r\n".to_vec();
        }
        let used = one.len();
        assert_eq!(
            decode(std::iter::once(&one[..])),
            Decoded::Done {
                body: body.clone(),
                used
            }
        );
    }
}
