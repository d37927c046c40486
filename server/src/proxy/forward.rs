//! The request as it goes upstream (RFC 9110 §7.6): hop-by-hop fields dropped, `Host`
//! kept, `X-Forwarded-For`, `X-Forwarded-Proto` and `Via` added, and the body re-framed: a
//! body already here whole gets the `Content-Length` of its decoded size, one that streams
//! keeps its length or goes out chunked (decoded and encoded again). Whatever framing the
//! client used (and any CL/TE ambiguity, refused before this anyway) never reaches the
//! upstream as it came.

use http_wire::fields::{self, HopByHop};
use http_wire::framing::Framing;
use http_wire::request::Head;
use http_wire::write;
use std::io::Write;
use std::net::IpAddr;

/// Who the request came from, for the forwarding fields.
#[derive(Clone, Copy, Debug)]
pub struct Origin<'a> {
    pub client: Option<IpAddr>,
    pub https: bool,
    /// The upstream's `host:port`, the `Host` of a request that came without one (HTTP/1.0).
    pub authority: &'a str,
}

/// A request body as the proxy has it when it starts forwarding.
#[derive(Clone, Copy, Debug)]
pub enum RequestBody<'a> {
    /// All of it, decoded (or none).
    Whole(&'a [u8]),
    /// It follows as it arrives: `Length(n)` bytes, or chunked to its end.
    Streamed(Framing),
}

/// Our pseudonym in `Via` (RFC 9110 §7.6.3).
const VIA_NAME: &[u8] = b" evloop";

/// Appends the forwarded request: `head_bytes` is the client's head (`h` parsed from it).
/// `cache_fields`: the request is asked for the cache, which wants a whole response it can
/// store, so the client's conditional fields give way to these (the cache's validators).
/// `scratch` collects the `X-Forwarded-For` values already present.
pub fn write_request(
    out: &mut Vec<u8>,
    head_bytes: &[u8],
    h: &Head<'_>,
    body: RequestBody<'_>,
    origin: Origin<'_>,
    cache_fields: Option<&[u8]>,
    scratch: &mut Vec<u8>,
) {
    write::request_line(out, h.method.as_bytes(), h.target.as_bytes());
    let hop = HopByHop::of(head_bytes);
    let (mut host_seen, mut via_seen) = (false, false);
    scratch.clear();
    fields::each(head_bytes, |name, value| {
        if hop.contains(name) || is_replaced(name) || (cache_fields.is_some() && is_conditional(name)) {
            return;
        }
        if name.eq_ignore_ascii_case(b"x-forwarded-for") {
            scratch.extend_from_slice(value);
            scratch.extend_from_slice(b", ");
            return;
        }
        host_seen |= name.eq_ignore_ascii_case(b"host");
        if name.eq_ignore_ascii_case(b"via") {
            via_seen = true;
            return;
        }
        write::field(out, name, value);
    });
    if !host_seen {
        write::field(out, b"Host", origin.authority.as_bytes());
    }
    out.extend_from_slice(b"X-Forwarded-For: ");
    out.extend_from_slice(scratch);
    match origin.client {
        Some(ip) => {
            let _ = write!(out, "{ip}");
        }
        None => out.extend_from_slice(b"unknown"),
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(match origin.https {
        true => b"X-Forwarded-Proto: https\r\n",
        false => b"X-Forwarded-Proto: http\r\n",
    });
    write_via(out, head_bytes, via_seen, h.minor_version);
    out.extend_from_slice(cache_fields.unwrap_or_default());
    match body {
        RequestBody::Whole(body) => {
            if !body.is_empty() || matches!(h.method, "POST" | "PUT" | "PATCH") {
                write::content_length(out, body.len() as u64);
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(body);
        }
        RequestBody::Streamed(Framing::Length(n)) => {
            write::content_length(out, n);
            out.extend_from_slice(b"\r\n");
        }
        RequestBody::Streamed(_) => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n"),
    }
}

/// Fields the proxy writes itself (framing, scheme) or has already acted on (`Expect`: the
/// server answered `100 Continue` and holds the whole body).
fn is_replaced(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"content-length")
        || name.eq_ignore_ascii_case(b"x-forwarded-proto")
        || name.eq_ignore_ascii_case(b"expect")
}

fn is_conditional(name: &[u8]) -> bool {
    [
        "if-none-match",
        "if-modified-since",
        "if-match",
        "if-unmodified-since",
        "if-range",
    ]
    .iter()
    .any(|n| name.eq_ignore_ascii_case(n.as_bytes()))
}

/// `Via: <earlier hops>, 1.x evloop` as one field, with the version the message came in.
pub fn write_via(out: &mut Vec<u8>, head_bytes: &[u8], via_seen: bool, minor_version: u8) {
    out.extend_from_slice(b"Via: ");
    if via_seen {
        fields::each(head_bytes, |name, value| {
            if name.eq_ignore_ascii_case(b"via") {
                out.extend_from_slice(value);
                out.extend_from_slice(b", ");
            }
        });
    }
    out.extend_from_slice(if minor_version == 0 { b"1.0" } else { b"1.1" });
    out.extend_from_slice(VIA_NAME);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_a_request() {
        let head = b"POST /app/x?q=1 HTTP/1.1\r\nHost: example\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nTE: trailers\r\nTransfer-Encoding: chunked\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\nVia: 1.0 edge\r\nX-End: e\r\n\r\n";
        let h = http_wire::request::parse(head, 16384).unwrap().unwrap();
        let mut out = Vec::new();
        let origin = Origin {
            client: Some("127.0.0.1".parse().unwrap()),
            https: false,
            authority: "up:1",
        };
        write_request(
            &mut out,
            head,
            &h,
            RequestBody::Whole(b"hello"),
            origin,
            None,
            &mut Vec::new(),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "POST /app/x?q=1 HTTP/1.1\r\nHost: example\r\nX-End: e\r\nX-Forwarded-For: 10.0.0.1, 127.0.0.1\r\nX-Forwarded-Proto: http\r\nVia: 1.0 edge, 1.1 evloop\r\nContent-Length: 5\r\n\r\nhello"
        );
        let head = b"GET / HTTP/1.0\r\n\r\n";
        let h = http_wire::request::parse(head, 16384).unwrap().unwrap();
        let mut out = Vec::new();
        write_request(
            &mut out,
            head,
            &h,
            RequestBody::Whole(b""),
            origin,
            None,
            &mut Vec::new(),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "GET / HTTP/1.1\r\nHost: up:1\r\nX-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\nVia: 1.0 evloop\r\n\r\n"
        );
    }
}
