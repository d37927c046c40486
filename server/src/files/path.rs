//! Request path → a normalised path relative to the root, or 400.
//!
//! Percent-decoded first (so `%2e%2e` and `%2f` cannot sneak past), then `.`/`..` resolved
//! and empty segments dropped; a `..` that would climb above the root is refused, not clamped.

use http_wire::error::HttpError;
use percent_encoding::percent_decode_str;

/// The normalised form of one request path.
#[derive(Debug, PartialEq, Eq)]
pub struct Normalised {
    /// Whether the request named a directory (`/dir/`, `/dir/.`).
    pub dir_intent: bool,
}

/// Writes the root-relative path (`a/b.txt`, empty for the root) into `out`, reusing its buffer.
pub fn normalise(path: &str, decoded: &mut Vec<u8>, out: &mut String) -> Result<Normalised, HttpError> {
    decoded.clear();
    decoded.extend(percent_decode_str(path));
    if decoded.contains(&0) {
        return Err(HttpError::BadRequest("NUL byte in path"));
    }
    let text = std::str::from_utf8(decoded).map_err(|_| HttpError::BadRequest("path is not UTF-8"))?;
    if !text.starts_with('/') {
        return Err(HttpError::BadRequest("path does not start with /"));
    }
    out.clear();
    let mut last = "";
    for segment in text.split('/') {
        last = segment;
        match segment {
            "" | "." => {}
            ".." => {
                if out.is_empty() {
                    return Err(HttpError::BadRequest("path climbs above the root"));
                }
                let cut = out.rfind('/').unwrap_or(0);
                out.truncate(cut);
            }
            name => {
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str(name);
            }
        }
    }
    Ok(Normalised {
        dir_intent: matches!(last, "" | "." | ".."),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(p: &str) -> Result<(String, bool), HttpError> {
        let (mut d, mut o) = (Vec::new(), String::new());
        normalise(p, &mut d, &mut o).map(|n| (o, n.dir_intent))
    }

    #[test]
    fn resolves_dots_and_slashes() {
        assert_eq!(norm("/"), Ok((String::new(), true)));
        assert_eq!(norm("/a//b/./c.txt"), Ok(("a/b/c.txt".into(), false)));
        assert_eq!(norm("/a/b/../c"), Ok(("a/c".into(), false)));
        assert_eq!(norm("/a/b/.."), Ok(("a".into(), true)));
        assert_eq!(norm("/a%20b/%41"), Ok(("a b/A".into(), false)));
        assert_eq!(norm("//etc/passwd"), Ok(("etc/passwd".into(), false)));
    }

    #[test]
    fn refuses_climbing_nul_and_bad_utf8() {
        for bad in [
            "/../etc/passwd",
            "/%2e%2e/%2e%2e/etc/passwd",
            "/..%2f..%2fetc/passwd",
            "/a/../../etc/passwd",
            "/%00",
            "/%ff",
            "x",
        ] {
            assert!(matches!(norm(bad), Err(HttpError::BadRequest(_))), "{bad}");
        }
    }
}
