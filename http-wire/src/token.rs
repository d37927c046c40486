//! Tokens and comma-separated field values (RFC 9110 §5.6).

/// RFC 9110 `tchar`: what methods, field names and codings are made of.
pub fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_token_byte(b))
}

/// The non-empty items of a list value (`a, b,,c`), whitespace trimmed.
pub fn list_items(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|t| !t.is_empty())
}

/// Whether a list value holds `token`, compared case-insensitively.
pub fn has_token(value: &[u8], token: &[u8]) -> bool {
    list_items(value).any(|item| item.eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_lists() {
        assert!(is_token(b"GET") && is_token(b"X-Trace_id.1~") && !is_token(b"") && !is_token(b"a b"));
        assert!(!is_token(b"a:b") && !is_token(b"(x)"));
        let items: Vec<&[u8]> = list_items(b" close ,, Keep-Alive,").collect();
        assert_eq!(items, [&b"close"[..], b"Keep-Alive"]);
        assert!(has_token(b"Upgrade, close", b"CLOSE") && !has_token(b"closed", b"close"));
    }
}
