//! The chunked decoder skipping (loadgen's mode): where a body ends must not depend on the
//! reads, and must be where the in-place mode ends it, with the same verdict.

use crate::chunked_request::{self, Decoded as InPlace};
use crate::pieces::{pieces, split_input};
use http_wire::chunked::ChunkedDecoder;

#[derive(Debug, PartialEq, Eq)]
enum Skipped {
    Done { used: usize, decoded: u64 },
    Incomplete,
    Failed,
}

fn skip<'a>(input: impl Iterator<Item = &'a [u8]>) -> Skipped {
    let mut decoder = ChunkedDecoder::default();
    let mut total = 0;
    for piece in input {
        match decoder.skip(piece) {
            Err(_) => return Skipped::Failed,
            Ok((used, true)) => {
                return Skipped::Done {
                    used: total + used,
                    decoded: decoder.decoded(),
                };
            }
            Ok((used, false)) => {
                assert_eq!(used, piece.len(), "an unfinished body uses all its input");
                total += used;
            }
        }
    }
    Skipped::Incomplete
}

pub fn check(data: &[u8]) {
    let (config, stream) = split_input(data);
    let whole = skip(std::iter::once(stream));
    assert_eq!(
        whole,
        skip(pieces(config, stream)),
        "split reads end the body at the same byte"
    );
    // One state machine, two drivers: they agree on the end, the size and the verdict (the
    // in-place limit is 1 MiB, so only a larger body may differ, as too large).
    match (&whole, chunked_request::decode(std::iter::once(stream))) {
        (
            Skipped::Done { used, decoded },
            InPlace::Done {
                body,
                used: used_in_place,
            },
        ) => {
            assert_eq!((*used, *decoded), (used_in_place, body.len() as u64));
        }
        (Skipped::Incomplete, InPlace::Incomplete { .. }) | (Skipped::Failed, InPlace::Failed(_)) => {}
        (_, InPlace::Failed(http_wire::chunked::ChunkError::BodyTooLarge)) => {}
        (skipped, in_place) => panic!("skip says {skipped:?}, in place says {in_place:?}"),
    }
    if let Skipped::Done { used, decoded } = whole {
        // The body ends exactly there: its own bytes are complete, one fewer is not.
        assert_eq!(
            skip(std::iter::once(&stream[..used])),
            Skipped::Done { used, decoded }
        );
        assert_eq!(skip(std::iter::once(&stream[..used - 1])), Skipped::Incomplete);
    }
}
