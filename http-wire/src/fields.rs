//! A head's field lines one by one, and which of them are hop-by-hop (RFC 9110 §7.6.1): what
//! a proxy needs to forward a message it has already accepted with `request::parse` or
//! `response::parse`. The rules are the same for both directions, so they live here once.

use crate::token::has_token;
use std::mem::MaybeUninit;

/// Field names a proxy never forwards, whatever `Connection` says. `Transfer-Encoding` and
/// `Trailer` go too: the proxy re-frames every message it forwards (and drops trailers).
const ALWAYS_HOP_BY_HOP: [&[u8]; 6] = [
    b"connection",
    b"keep-alive",
    b"te",
    b"transfer-encoding",
    b"trailer",
    b"upgrade",
];

/// Calls `f(name, value)` for each field of the head at the start of `head` (request or
/// response), in order. The head must be complete; one that does not parse yields nothing.
pub fn each<'h>(head: &'h [u8], mut f: impl FnMut(&'h [u8], &'h [u8])) {
    // Uninitialised slots, as the parsers do: no 2 KiB memset per forwarded message.
    let mut fields = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; crate::request::MAX_HEADERS];
    let parsed = if head.starts_with(b"HTTP/") {
        let mut res = httparse::Response::new(&mut []);
        let config = httparse::ParserConfig::default();
        match config.parse_response_with_uninit_headers(&mut res, head, &mut fields) {
            Ok(httparse::Status::Complete(_)) => res.headers,
            _ => return,
        }
    } else {
        let mut req = httparse::Request::new(&mut []);
        match req.parse_with_uninit_headers(head, &mut fields) {
            Ok(httparse::Status::Complete(_)) => req.headers,
            _ => return,
        }
    };
    for field in parsed.iter() {
        f(field.name.as_bytes(), field.value);
    }
}

/// The hop-by-hop fields of one message: the fixed set, `Proxy-*`, and whatever its
/// `Connection` fields name.
#[derive(Debug, Default)]
pub struct HopByHop {
    /// The `Connection` field values, joined: short, and only looked at per field name.
    named: Vec<u8>,
}

impl HopByHop {
    /// Collects the `Connection` options of the head at the start of `head`.
    pub fn of(head: &[u8]) -> HopByHop {
        let mut hop = HopByHop::default();
        each(head, |name, value| {
            if name.eq_ignore_ascii_case(b"connection") {
                hop.named.extend_from_slice(value);
                hop.named.push(b',');
            }
        });
        hop
    }

    /// Whether a field of this name stays on this hop.
    pub fn contains(&self, name: &[u8]) -> bool {
        ALWAYS_HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h))
            || (name.len() > 6 && name[..6].eq_ignore_ascii_case(b"proxy-"))
            || (!self.named.is_empty() && has_token(&self.named, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_fields_and_knows_hop_by_hop() {
        let head = b"HTTP/1.1 200 OK\r\nConnection: X-Trace, close\r\nX-Trace: 1\r\nKeep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\nX-Kept: a\r\nConnection: x-other\r\nX-Other: 2\r\n\r\n";
        let mut names = Vec::new();
        each(head, |n, v| names.push((n.to_vec(), v.to_vec())));
        assert_eq!(names.len(), 7);
        assert_eq!(names[4], (b"X-Kept".to_vec(), b"a".to_vec()));
        let hop = HopByHop::of(head);
        let kept: Vec<&[u8]> = names
            .iter()
            .map(|(n, _)| n.as_slice())
            .filter(|n| !hop.contains(n))
            .collect();
        assert_eq!(kept, [&b"X-Kept"[..]]);
        for name in [
            &b"TE"[..],
            b"Transfer-Encoding",
            b"Upgrade",
            b"Proxy-Connection",
            b"Trailer",
        ] {
            assert!(hop.contains(name), "{name:?}");
        }
        assert!(!hop.contains(b"Proxy") && !hop.contains(b"Host") && !hop.contains(b"Content-Length"));
        assert!(!HopByHop::of(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n").contains(b"host"));
    }
}
