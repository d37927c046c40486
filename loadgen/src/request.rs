//! Request bytes, built once per run (one per `--targets` target): the hot path only copies
//! them into a connection's write buffer.

use crate::target::Target;

/// Serialise the request: request line, Host (unless the user set one), user headers,
/// Content-Length when there is a body (unless the user framed it), then the body.
pub fn build(method: &str, target: &Target, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let has = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let mut out = Vec::with_capacity(128 + body.len());
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if !has("host") {
        out.extend_from_slice(b"Host: ");
        out.extend_from_slice(target.authority.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !body.is_empty() && !has("content-length") && !has("transfer-encoding") {
        out.extend_from_slice(b"Content-Length: ");
        out.extend_from_slice(itoa::Buffer::new().format(body.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target::parse("http://127.0.0.1:8080/p?q=1").unwrap()
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
