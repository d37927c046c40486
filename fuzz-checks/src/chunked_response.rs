//! loadgen's skip-only chunked decoder: where a body ends must not depend on the reads.

use crate::pieces::{pieces, split_input};
use loadgen::chunked::ChunkedDecoder;

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Done { used: usize },
    Incomplete,
    Failed,
}

fn feed<'a>(input: impl Iterator<Item = &'a [u8]>) -> Outcome {
    let mut decoder = ChunkedDecoder::default();
    let mut total = 0;
    for piece in input {
        match decoder.feed(piece) {
            Err(_) => return Outcome::Failed,
            Ok((used, true)) => return Outcome::Done { used: total + used },
            Ok((used, false)) => {
                assert_eq!(used, piece.len(), "an unfinished body uses all its input");
                total += used;
            }
        }
    }
    Outcome::Incomplete
}

pub fn check(data: &[u8]) {
    let (config, stream) = split_input(data);
    let whole = feed(std::iter::once(stream));
    assert_eq!(
        whole,
        feed(pieces(config, stream)),
        "split reads end the body at the same byte"
    );
    if let Outcome::Done { used } = whole {
        assert!(used <= stream.len());
        // The body ends exactly there: its own bytes are complete, one fewer is not.
        assert_eq!(feed(std::iter::once(&stream[..used])), Outcome::Done { used });
        assert_eq!(feed(std::iter::once(&stream[..used - 1])), Outcome::Incomplete);
    }
}
