//! The `Range` header: one `bytes=` range of the three forms; anything else is ignored.

/// What a `Range` header asks of a representation of `size` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeAsk {
    /// No usable range (absent, not `bytes=`, malformed, or several ranges): send it all.
    Whole,
    /// Bytes `start..=end`.
    Part { start: u64, end: u64 },
    /// A well-formed range that selects nothing: 416.
    Unsatisfiable,
}

pub fn parse(header: Option<&[u8]>, size: u64) -> RangeAsk {
    let Some(spec) = header.and_then(|h| h.trim_ascii().strip_prefix(b"bytes=")) else {
        return RangeAsk::Whole;
    };
    // Several ranges: a plain 200 with the whole file (RFC 9110 lets a server ignore Range).
    if spec.contains(&b',') {
        return RangeAsk::Whole;
    }
    let Some(dash) = spec.iter().position(|&b| b == b'-') else {
        return RangeAsk::Whole;
    };
    let (first, last) = (spec[..dash].trim_ascii(), spec[dash + 1..].trim_ascii());
    match (number(first), number(last)) {
        // bytes=-n: the last n bytes.
        (None, Some(n)) if first.is_empty() => {
            if n == 0 || size == 0 {
                RangeAsk::Unsatisfiable
            } else {
                RangeAsk::Part {
                    start: size - n.min(size),
                    end: size - 1,
                }
            }
        }
        // bytes=a- and bytes=a-b
        (Some(start), end) if end.is_some() || last.is_empty() => {
            if end.is_some_and(|e| e < start) {
                RangeAsk::Whole
            } else if start >= size {
                RangeAsk::Unsatisfiable
            } else {
                RangeAsk::Part {
                    start,
                    end: end.map_or(size - 1, |e| e.min(size - 1)),
                }
            }
        }
        _ => RangeAsk::Whole,
    }
}

fn number(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(h: &str, size: u64) -> RangeAsk {
        parse(Some(h.as_bytes()), size)
    }

    #[test]
    fn the_three_forms() {
        assert_eq!(p("bytes=0-99", 1000), RangeAsk::Part { start: 0, end: 99 });
        assert_eq!(p("bytes=990-2000", 1000), RangeAsk::Part { start: 990, end: 999 });
        assert_eq!(p("bytes=500-", 1000), RangeAsk::Part { start: 500, end: 999 });
        assert_eq!(p("bytes=-100", 1000), RangeAsk::Part { start: 900, end: 999 });
        assert_eq!(p("bytes=-5000", 1000), RangeAsk::Part { start: 0, end: 999 });
    }

    #[test]
    fn unsatisfiable_and_ignored() {
        assert_eq!(p("bytes=1000-", 1000), RangeAsk::Unsatisfiable);
        assert_eq!(p("bytes=-0", 1000), RangeAsk::Unsatisfiable);
        assert_eq!(p("bytes=0-0", 0), RangeAsk::Unsatisfiable);
        for ignored in [
            "bytes=5-1",
            "bytes=0-1,5-9",
            "items=0-1",
            "bytes=a-b",
            "bytes=-",
            "bytes=1",
        ] {
            assert_eq!(p(ignored, 1000), RangeAsk::Whole, "{ignored}");
        }
        assert_eq!(parse(None, 10), RangeAsk::Whole);
    }
}
