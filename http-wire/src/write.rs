//! Writing heads: field lines and numbers, appended to a reused buffer without allocating.

/// `Name: value\r\n`.
pub fn field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// `Content-Length: n\r\n`, the number through itoa.
pub fn content_length(out: &mut Vec<u8>, n: u64) {
    field(out, b"Content-Length", itoa::Buffer::new().format(n).as_bytes());
}

/// `METHOD target HTTP/1.1\r\n`.
pub fn request_line(out: &mut Vec<u8>, method: &[u8], target: &[u8]) {
    out.extend_from_slice(method);
    out.push(b' ');
    out.extend_from_slice(target);
    out.extend_from_slice(b" HTTP/1.1\r\n");
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_lines() {
        let mut out = Vec::new();
        super::request_line(&mut out, b"GET", b"/p?q");
        super::field(&mut out, b"Host", b"h");
        super::content_length(&mut out, 1234);
        assert_eq!(out, b"GET /p?q HTTP/1.1\r\nHost: h\r\nContent-Length: 1234\r\n");
    }
}
