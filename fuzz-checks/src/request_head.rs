//! The server role's request-head parser and framing decision.

use http_wire::framing::Framing;
use http_wire::request::{self as head, Head};

const LIMIT: usize = 16 * 1024;

/// What the server acts on, minus where in the buffer it was.
fn decision(h: &Head<'_>) -> String {
    format!(
        "{} {} 1.{} keep_alive={} {:?} continue={} ct={:?} auth={:?} {:?}",
        h.method,
        h.target,
        h.minor_version,
        h.keep_alive,
        h.framing,
        h.expect_continue,
        h.content_type,
        h.authorization,
        h.conditions
    )
}

pub fn check(data: &[u8]) {
    let Ok(Some(h)) = head::parse(data, LIMIT) else {
        return; // incomplete or refused: nothing more to agree with
    };
    assert!(h.len <= data.len());
    match h.framing {
        Framing::Chunked => assert_eq!(h.minor_version, 1, "chunked only on HTTP/1.1"),
        Framing::Length(n) => assert!(n > 0),
        Framing::None => {}
        Framing::UntilClose => panic!("a request body is never close-delimited"),
    }
    let want = decision(&h);
    // Nothing after the head was looked at.
    let alone = head::parse(&data[..h.len], LIMIT);
    assert_eq!(alone.map(|a| a.map(|a| decision(&a))), Ok(Some(want.clone())));
    // A strict prefix is incomplete: never an answer, never an error.
    for cut in [h.len - 1, h.len / 2] {
        assert!(
            matches!(head::parse(&data[..cut], LIMIT), Ok(None)),
            "prefix of {cut} bytes"
        );
    }
    // Written out again in canonical form, it means the same.
    let canonical = reserialise(&data[..h.len]);
    let again = head::parse(&canonical, LIMIT);
    assert_eq!(
        again.map(|a| a.map(|a| decision(&a))),
        Ok(Some(want)),
        "canonical form {:?}",
        String::from_utf8_lossy(&canonical)
    );
}

/// `METHOD TARGET HTTP/1.x`, then each field as `Name: value`, CRLF everywhere.
fn reserialise(head: &[u8]) -> Vec<u8> {
    let mut fields = [httparse::EMPTY_HEADER; head::MAX_HEADERS];
    let mut req = httparse::Request::new(&mut fields);
    assert!(req.parse(head).expect("it parsed before").is_complete());
    let mut out = Vec::new();
    let (method, target, minor) = (req.method.unwrap(), req.path.unwrap(), req.version.unwrap());
    out.extend_from_slice(format!("{method} {target} HTTP/1.{minor}\r\n").as_bytes());
    for f in req.headers.iter() {
        out.extend_from_slice(f.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(f.value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}
