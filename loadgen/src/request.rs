//! Request bytes, built once per run (one per `--targets` target): the hot path only copies
//! them into a connection's write buffer.

use crate::url::Url;
use http_wire::write;

/// Serialise the request: request line, Host (unless the user set one), user headers,
/// Content-Length when there is a body (unless the user framed it), then the body.
pub fn build(method: &str, target: &Url, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let has = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let mut out = Vec::with_capacity(128 + body.len());
    write::request_line(&mut out, method.as_bytes(), target.path.as_bytes());
    if !has("host") {
        write::field(&mut out, b"Host", target.authority.as_bytes());
    }
    for (name, value) in headers {
        write::field(&mut out, name.as_bytes(), value.as_bytes());
    }
    if !body.is_empty() && !has("content-length") && !has("transfer-encoding") {
        write::content_length(&mut out, body.len() as u64);
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Url {
        Url::parse("http://127.0.0.1:8080/p?q=1").unwrap()
    }

    #[test]
    fn builds_get_with_host() {
        let req = build("GET", &target(), &[], b"");
        assert_eq!(req, b"GET /p?q=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
    }

    #[test]
    fn user_host_and_body_length() {
        let headers = vec![("Host".to_string(), "example".to_string())];
        let req = build("POST", &target(), &headers, b"abc");
        assert_eq!(
            req,
            b"POST /p?q=1 HTTP/1.1\r\nHost: example\r\nContent-Length: 3\r\n\r\nabc"
        );
    }
}
