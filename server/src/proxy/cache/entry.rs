//! One stored response: the head the client gets (hop-by-hop fields, framing and `Age` left
//! out, our `Via` in), the decoded body, and its clock. A hit is a few copies of it into the
//! client's write buffer; an upstream `304` swaps in a head with the new fields (RFC 9111
//! §4.3.4) and keeps the body.

use super::policy::ResponseFacts;
use crate::http::response::Persistence;
use crate::proxy::forward::write_via;
use crate::proxy::relay::write_status_line;
use http_wire::fields::{self, HopByHop};
use http_wire::status;
use http_wire::write;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes an entry costs besides its key, head and body: its bookkeeping, the index slot,
/// allocator slack (counted so that many tiny entries cannot exceed the budget).
pub const OVERHEAD: usize = 256;

/// What is served; shared (not copied) with a revalidation under way.
#[derive(Debug)]
pub struct Stored {
    /// Status line and fields, without the empty line.
    pub head: Vec<u8>,
    /// The status line's length, CRLF included.
    pub line_len: usize,
    pub status: u16,
    pub body: Arc<Vec<u8>>,
    pub facts: ResponseFacts,
}

/// A field `Vary` names (lowercased) and the request's value of it.
pub type VaryField = (Box<[u8]>, Box<[u8]>);

#[derive(Debug)]
pub struct Entry {
    /// The primary key (route, host, target).
    pub key: Box<[u8]>,
    /// The secondary key: each field `Vary` names (lowercased) and the request's value.
    pub vary: Vec<VaryField>,
    pub stored: Arc<Stored>,
    pub lifetime: Duration,
    /// Its age when it arrived, and when that was.
    pub initial_age: Duration,
    pub stored_at: Instant,
    /// Tells this entry from a later one in the same slot.
    pub serial: u64,
}

impl Entry {
    /// The current age (RFC 9111 §4.2.3): the age on arrival plus the time resident here.
    pub fn age(&self, now: Instant) -> Duration {
        self.initial_age + now.saturating_duration_since(self.stored_at)
    }

    pub fn is_fresh(&self, now: Instant) -> bool {
        self.lifetime > self.age(now)
    }

    /// What the entry counts against the cache size.
    pub fn size(&self) -> usize {
        let vary: usize = self.vary.iter().map(|(n, v)| n.len() + v.len()).sum();
        self.key.len() + vary + self.stored.head.len() + self.stored.body.len() + OVERHEAD
    }
}

/// Fields never stored: the proxy writes them per response (framing, `Age`, `Via`,
/// `X-Cache`) or they belong to one hop.
fn stored_field(hop: &HopByHop, name: &[u8]) -> bool {
    !hop.contains(name)
        && !["content-length", "age", "via", "x-cache"]
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n.as_bytes()))
}

/// The stored head for an upstream response head (`minor_version` its HTTP version).
pub fn stored_head(up: &[u8], minor_version: u8) -> (Vec<u8>, usize) {
    let mut head = Vec::with_capacity(up.len() + 32);
    write_status_line(&mut head, up);
    let line_len = head.len();
    write_stored_fields(&mut head, up, &HopByHop::of(up), minor_version);
    (head, line_len)
}

/// The stored head after a `304` (RFC 9111 §4.3.4): each field the 304 carries replaces
/// the stored ones of that name; the others stay.
pub fn refreshed_head(stored: &Stored, not_modified: &[u8], minor_version: u8) -> Vec<u8> {
    let mut old = stored.head.clone();
    old.extend_from_slice(b"\r\n");
    let hop = HopByHop::of(not_modified);
    let mut named: Vec<&[u8]> = Vec::new();
    fields::each(not_modified, |name, _| {
        if stored_field(&hop, name) {
            named.push(name);
        }
    });
    let mut head = stored.head[..stored.line_len].to_vec();
    fields::each(&old, |name, value| {
        let replaced = named.iter().any(|n| name.eq_ignore_ascii_case(n));
        if !replaced && !name.eq_ignore_ascii_case(b"via") {
            write::field(&mut head, name, value);
        }
    });
    write_stored_fields(&mut head, not_modified, &hop, minor_version);
    head
}

/// The fields of the upstream head `up` (`hop` its hop-by-hop fields) that are stored,
/// then our `Via`.
fn write_stored_fields(head: &mut Vec<u8>, up: &[u8], hop: &HopByHop, minor_version: u8) {
    let mut via_seen = false;
    fields::each(up, |name, value| {
        via_seen |= name.eq_ignore_ascii_case(b"via");
        if stored_field(hop, name) {
            write::field(head, name, value);
        }
    });
    write_via(head, up, via_seen, minor_version);
}

/// How a stored response goes out.
#[derive(Clone, Copy, Debug)]
pub struct Serve<'a> {
    pub age: Duration,
    /// The `X-Cache` value.
    pub label: &'a [u8],
    pub persistence: Persistence,
    /// The request was HEAD: the head alone.
    pub head_only: bool,
    /// The client's `If-None-Match` matched: `304` with the stored fields and no body.
    pub not_modified: bool,
}

/// Appends the stored response, as `serve` says, to `out`.
pub fn write_response(out: &mut Vec<u8>, stored: &Stored, serve: Serve<'_>) {
    if serve.not_modified {
        out.extend_from_slice(status::NOT_MODIFIED.line);
        out.extend_from_slice(&stored.head[stored.line_len..]);
    } else {
        out.extend_from_slice(&stored.head);
    }
    out.extend_from_slice(b"Age: ");
    out.extend_from_slice(itoa::Buffer::new().format(serve.age.as_secs()).as_bytes());
    out.extend_from_slice(b"\r\nX-Cache: ");
    out.extend_from_slice(serve.label);
    out.extend_from_slice(b"\r\n");
    if !serve.not_modified && stored.status != 204 {
        write::content_length(out, stored.body.len() as u64);
    }
    out.extend_from_slice(serve.persistence.line());
    out.extend_from_slice(b"\r\n");
    if !(serve.head_only || serve.not_modified) {
        out.extend_from_slice(&stored.body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_refreshes_and_serves() {
        let up = b"HTTP/1.0 200 OK\r\nConnection: X-Hop\r\nX-Hop: 1\r\nContent-Length: 5\r\nAge: 3\r\nETag: \"v1\"\r\nCache-Control: max-age=60\r\nX-Cache: HIT\r\nVia: 1.1 origin\r\n\r\n";
        let (head, line_len) = stored_head(up, 0);
        assert_eq!(
            String::from_utf8(head.clone()).unwrap(),
            "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nCache-Control: max-age=60\r\nVia: 1.1 origin, 1.0 evloop\r\n"
        );
        let stored = Stored {
            head,
            line_len,
            status: 200,
            body: Arc::new(b"hello".to_vec()),
            facts: ResponseFacts::of(up),
        };
        let not_modified = b"HTTP/1.1 304 Not Modified\r\nCache-Control: max-age=90\r\nX-New: n\r\nContent-Length: 0\r\n\r\n";
        let head = refreshed_head(&stored, not_modified, 1);
        assert_eq!(
            String::from_utf8(head).unwrap(),
            "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nCache-Control: max-age=90\r\nX-New: n\r\nVia: 1.1 evloop\r\n"
        );
        let mut serve = Serve {
            age: Duration::from_millis(12_900),
            label: b"HIT",
            persistence: Persistence::Close,
            head_only: false,
            not_modified: false,
        };
        let mut out = Vec::new();
        write_response(&mut out, &stored, serve);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with(
                "1.0 evloop\r\nAge: 12\r\nX-Cache: HIT\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
            ),
            "{text}"
        );
        serve.not_modified = true;
        serve.persistence = Persistence::Implicit;
        let mut out = Vec::new();
        write_response(&mut out, &stored, serve);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n"),
            "{text}"
        );
        assert!(text.ends_with("X-Cache: HIT\r\n\r\n"), "{text}");
    }
}
