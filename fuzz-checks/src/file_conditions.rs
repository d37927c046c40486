//! The static-file `Range` and conditional-request parsers: answers stay within the file,
//! and a condition only acts when its field was sent.

use crate::pieces::split_input;
use server::files::preconditions::{Conditions, Decision, Validators, evaluate};
use server::files::range::{self, RangeAsk};

pub fn check(data: &[u8]) {
    let (config, text) = split_input(data);
    let size = config.iter().fold(0u64, |n, &b| n << 8 | u64::from(b));
    match range::parse(Some(text), size) {
        RangeAsk::Part { start, end } => assert!(start <= end && end < size, "{start}-{end} of {size}"),
        RangeAsk::Whole | RangeAsk::Unsatisfiable => {}
    }
    // The text's lines, in turn, are the conditional fields.
    let mut lines = text.split(|&b| b == b'\n');
    let mut field = || lines.next().filter(|l| !l.is_empty());
    let c = Conditions {
        if_match: field(),
        if_none_match: field(),
        if_modified_since: field(),
        if_unmodified_since: field(),
        if_range: field(),
        range: field(),
    };
    let v = Validators {
        etag: "\"5f3a1b2c-400\"",
        mtime: size % (1 << 40),
    };
    // The file's own tag in If-None-Match, and nothing before it fails: 304.
    if c.if_match.is_none() && c.if_unmodified_since.is_none() && c.if_none_match == Some(v.etag.as_bytes()) {
        assert_eq!(evaluate(&c, &v, true), Decision::NotModified);
    }
    for get_or_head in [true, false] {
        match evaluate(&c, &v, get_or_head) {
            Decision::PreconditionFailed => {
                assert!(c.if_match.is_some() || c.if_unmodified_since.is_some() || c.if_none_match.is_some())
            }
            Decision::NotModified => {
                assert!(get_or_head && (c.if_none_match.is_some() || c.if_modified_since.is_some()))
            }
            // Only If-Range can veto the range.
            Decision::Proceed { use_range } => assert!(use_range || c.if_range.is_some()),
        }
    }
}
