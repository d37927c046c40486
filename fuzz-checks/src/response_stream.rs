//! loadgen's response parser over a stream of responses, fed as its connection feeds it: a
//! partial head is carried over to the next read, everything else is consumed.

use crate::pieces::{pieces, split_input};
use loadgen::response::{Response, ResponseParser, Step};

#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    responses: Vec<Response>,
    failed: bool,
}

/// `head_mask` bit i (mod 8): response i answers a HEAD request.
fn drive<'a>(input: impl Iterator<Item = &'a [u8]>, head_mask: u8) -> Parsed {
    let mut parser = ResponseParser::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut responses = Vec::new();
    for piece in input {
        pending.extend_from_slice(piece);
        while !pending.is_empty() {
            let head = head_mask >> (responses.len() % 8) & 1 == 1;
            match parser.step(&pending, head) {
                Err(_) => {
                    return Parsed {
                        responses,
                        failed: true,
                    };
                }
                Ok(Step::Done { consumed, response }) => {
                    assert!(consumed <= pending.len());
                    pending.drain(..consumed);
                    responses.push(response);
                }
                Ok(Step::NeedMore { consumed }) => {
                    assert!(consumed <= pending.len());
                    pending.drain(..consumed);
                    if !parser.awaiting_head() {
                        assert!(pending.is_empty(), "only a partial head is carried over");
                    }
                    break;
                }
            }
        }
    }
    responses.extend(parser.on_eof());
    Parsed {
        responses,
        failed: false,
    }
}

pub fn check(data: &[u8]) {
    let (config, stream) = split_input(data);
    let head_mask = config.first().copied().unwrap_or(0);
    let whole = drive(std::iter::once(stream), head_mask);
    let split = drive(pieces(config, stream), head_mask);
    assert_eq!(whole, split, "split reads give the same responses");
    for r in &whole.responses {
        assert!((100..=999).contains(&r.status), "status {}", r.status);
    }
}
