//! Writing heads: field lines and numbers, appended to a reused buffer without allocating.
//! The fields every response has are written with their whole `Name: ` prefix as one
//! constant, and everything is inlined: built from parts, out of line, they cost the server
//! ~3% more instructions per request (measured with callgrind).

/// `Name: value\r\n`.
#[inline]
pub fn field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// `Content-Length: n\r\n`, the number through itoa.
#[inline]
pub fn content_length(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(b"Content-Length: ");
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// `Content-Type: value\r\n`.
#[inline]
pub fn content_type(out: &mut Vec<u8>, value: &[u8]) {
    out.extend_from_slice(b"Content-Type: ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// `METHOD target HTTP/1.1\r\n`.
#[inline]
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
        super::content_type(&mut out, b"text/plain");
        assert_eq!(
            out,
            b"GET /p?q HTTP/1.1\r\nHost: h\r\nContent-Length: 1234\r\nContent-Type: text/plain\r\n"
        );
    }
}
