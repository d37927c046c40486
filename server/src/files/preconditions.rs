//! Conditional requests, evaluated in RFC 9110 §13.2.2 order: If-Match, If-Unmodified-Since,
//! If-None-Match, If-Modified-Since, then If-Range deciding whether Range is honoured.

pub use http_wire::request::Conditions;

/// The file's current validators.
pub struct Validators<'a> {
    /// A strong entity tag, quotes included.
    pub etag: &'a str,
    /// Last modification, whole seconds since the epoch.
    pub mtime: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Send the representation; `use_range` says whether a Range header may apply.
    Proceed {
        use_range: bool,
    },
    NotModified,
    PreconditionFailed,
}

pub fn evaluate(c: &Conditions<'_>, v: &Validators<'_>, get_or_head: bool) -> Decision {
    if let Some(list) = c.if_match {
        if !list_matches(list, v.etag, Comparison::Strong) {
            return Decision::PreconditionFailed;
        }
    } else if let Some(since) = c.if_unmodified_since.and_then(http_date) {
        if v.mtime > since {
            return Decision::PreconditionFailed;
        }
    }
    if let Some(list) = c.if_none_match {
        if list_matches(list, v.etag, Comparison::Weak) {
            return if get_or_head {
                Decision::NotModified
            } else {
                Decision::PreconditionFailed
            };
        }
    } else if let (true, Some(since)) = (get_or_head, c.if_modified_since.and_then(http_date)) {
        if v.mtime <= since {
            return Decision::NotModified;
        }
    }
    let use_range = match c.if_range.map(<[u8]>::trim_ascii) {
        None => true,
        Some(tag) if tag.starts_with(b"\"") || tag.starts_with(b"W/") => {
            list_matches(tag, v.etag, Comparison::Strong) && tag != b"*"
        }
        Some(date) => http_date(date) == Some(v.mtime),
    };
    Decision::Proceed { use_range }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Comparison {
    /// Both tags strong and equal (If-Match, If-Range).
    Strong,
    /// Opaque tags equal, W/ ignored (If-None-Match).
    Weak,
}

/// Whether an `If-None-Match` list matches an entity tag by the weak comparison (a
/// cached response's tag, `W/` or not).
pub fn weak_match(list: &[u8], etag: &[u8]) -> bool {
    let etag = etag.strip_prefix(b"W/").unwrap_or(etag);
    std::str::from_utf8(etag).is_ok_and(|tag| list_matches(list, tag, Comparison::Weak))
}

/// `*` or a comma-separated list of entity tags, each `"opaque"` or `W/"opaque"`.
fn list_matches(list: &[u8], etag: &str, cmp: Comparison) -> bool {
    let list = list.trim_ascii();
    if list == b"*" {
        return true;
    }
    let ours = etag.as_bytes();
    let mut rest = list;
    loop {
        rest = rest.trim_ascii_start();
        while let Some(r) = rest.strip_prefix(b",") {
            rest = r.trim_ascii_start();
        }
        if rest.is_empty() {
            return false;
        }
        let weak = rest.starts_with(b"W/");
        if weak {
            rest = &rest[2..];
        }
        let Some(body) = rest.strip_prefix(b"\"") else {
            return false;
        };
        let Some(close) = body.iter().position(|&b| b == b'"') else {
            return false;
        };
        let tag = &rest[..close + 2];
        if tag == ours && !(weak && cmp == Comparison::Strong) {
            return true;
        }
        rest = &rest[close + 2..];
    }
}

fn http_date(value: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(value).ok()?;
    let when = httpdate::parse_http_date(text.trim()).ok()?;
    when.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: Validators<'static> = Validators {
        etag: "\"5f5e1000-400\"",
        mtime: 1_600_000_000,
    };
    const AT: &[u8] = b"Sun, 13 Sep 2020 12:26:40 GMT"; // == mtime
    const BEFORE: &[u8] = b"Sun, 13 Sep 2020 12:26:39 GMT";

    fn eval(c: Conditions<'_>) -> Decision {
        evaluate(&c, &V, true)
    }

    #[test]
    fn rfc_9110_order() {
        let proceed = Decision::Proceed { use_range: true };
        assert_eq!(eval(Conditions::default()), proceed);
        assert_eq!(
            eval(Conditions {
                if_match: Some(b"\"other\""),
                ..Default::default()
            }),
            Decision::PreconditionFailed
        );
        assert_eq!(
            eval(Conditions {
                if_match: Some(b"\"x\", \"5f5e1000-400\""),
                ..Default::default()
            }),
            proceed
        );
        assert_eq!(
            eval(Conditions {
                if_match: Some(b"W/\"5f5e1000-400\""),
                ..Default::default()
            }),
            Decision::PreconditionFailed
        );
        assert_eq!(
            eval(Conditions {
                if_unmodified_since: Some(BEFORE),
                ..Default::default()
            }),
            Decision::PreconditionFailed
        );
        assert_eq!(
            eval(Conditions {
                if_none_match: Some(b"W/\"5f5e1000-400\""),
                ..Default::default()
            }),
            Decision::NotModified
        );
        assert_eq!(
            eval(Conditions {
                if_none_match: Some(b"*"),
                ..Default::default()
            }),
            Decision::NotModified
        );
        assert_eq!(
            eval(Conditions {
                if_none_match: Some(b"\"a\",\"b\""),
                ..Default::default()
            }),
            proceed
        );
        assert_eq!(
            eval(Conditions {
                if_modified_since: Some(AT),
                ..Default::default()
            }),
            Decision::NotModified
        );
        assert_eq!(
            eval(Conditions {
                if_modified_since: Some(BEFORE),
                ..Default::default()
            }),
            proceed
        );
        // If-None-Match wins over If-Modified-Since.
        let both = Conditions {
            if_none_match: Some(b"\"a\""),
            if_modified_since: Some(AT),
            ..Default::default()
        };
        assert_eq!(eval(both), proceed);
        assert_eq!(
            evaluate(
                &Conditions {
                    if_none_match: Some(b"*"),
                    ..Default::default()
                },
                &V,
                false
            ),
            Decision::PreconditionFailed
        );
    }

    #[test]
    fn if_range_by_tag_or_date() {
        let ir = |v: &'static [u8]| {
            eval(Conditions {
                if_range: Some(v),
                ..Default::default()
            })
        };
        assert_eq!(ir(b"\"5f5e1000-400\""), Decision::Proceed { use_range: true });
        assert_eq!(ir(b"W/\"5f5e1000-400\""), Decision::Proceed { use_range: false });
        assert_eq!(ir(b"\"old\""), Decision::Proceed { use_range: false });
        assert_eq!(ir(AT), Decision::Proceed { use_range: true });
        assert_eq!(ir(BEFORE), Decision::Proceed { use_range: false });
    }
}
