//! The target URL: `http[s]://host[:port][/path][?query]`, parsed without a URL crate
//! because the request line needs the path verbatim and nothing else of URLs is used.

use std::net::{SocketAddr, ToSocketAddrs};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `https`: the connection speaks TLS, with `host` as the server name.
    pub tls: bool,
    /// Host as written, brackets kept for IPv6 (used for resolution and the Host header).
    pub host: String,
    pub port: u16,
    /// Request target: path plus query, always starting with `/`.
    pub path: String,
    /// Value of the Host header: host, plus `:port` when the URL named one.
    pub authority: String,
}

impl Url {
    pub fn parse(url: &str) -> Result<Url, String> {
        let bad = |why: &str| format!("malformed URL '{url}': {why}");
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(bad("expected http://host[:port]/path"));
        };
        let tls = scheme.eq_ignore_ascii_case("https");
        if !tls && !scheme.eq_ignore_ascii_case("http") {
            return Err(bad("scheme must be http or https"));
        }
        let rest = rest.split('#').next().unwrap_or_default();
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        if authority.contains('@') {
            return Err(bad("user info is not supported"));
        }
        let (host, port) = split_host_port(authority, if tls { 443 } else { 80 }).map_err(bad)?;
        let path = match path.chars().next() {
            None => "/".to_string(),
            Some('?') => format!("/{path}"),
            Some(_) => path.to_string(),
        };
        if path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(bad("the path contains spaces or control characters"));
        }
        Ok(Url {
            tls,
            host: host.to_string(),
            port,
            path,
            authority: authority.to_string(),
        })
    }

    /// The host without IPv6 brackets: what is resolved, and the TLS server name.
    pub fn bare_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    /// Resolve once, before the run; the first address is used for every connection.
    pub fn resolve(&self) -> Result<SocketAddr, String> {
        let mut addrs = (self.bare_host(), self.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve '{}': {e}", self.host))?;
        addrs
            .next()
            .ok_or_else(|| format!("cannot resolve '{}': no addresses", self.host))
    }
}

fn split_host_port(authority: &str, default_port: u16) -> Result<(&str, u16), &'static str> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']').ok_or("unterminated IPv6 address")?;
        let (host, after) = authority.split_at(end + 1);
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err("unexpected text after the IPv6 address"),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err("missing host");
    }
    if host.bytes().any(|b| b <= b' ' || b == b'/' || b == 0x7f) {
        return Err("invalid character in host");
    }
    let port = match port {
        None => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => return Err("port must be a number from 1 to 65535"),
            Ok(p) => p,
        },
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_port_path_and_query() {
        let t = Url::parse("http://127.0.0.1:8080/plaintext?a=1#frag").unwrap();
        assert_eq!(t.host, "127.0.0.1");
        assert_eq!(t.port, 8080);
        assert_eq!(t.path, "/plaintext?a=1");
        assert_eq!(t.authority, "127.0.0.1:8080");
    }

    #[test]
    fn defaults_port_and_path() {
        let t = Url::parse("http://example.com").unwrap();
        assert_eq!((t.port, t.path.as_str()), (80, "/"));
        let t = Url::parse("http://example.com?x").unwrap();
        assert_eq!(t.path, "/?x");
    }

    #[test]
    fn parses_ipv6() {
        let t = Url::parse("http://[::1]:9000/x").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("[::1]", 9000));
        assert_eq!(t.resolve().unwrap().port(), 9000);
    }

    #[test]
    fn rejects_bad_urls() {
        for url in [
            "127.0.0.1:80",
            "ftp://x/",
            "http://",
            "http://:80/",
            "http://h:0/",
            "http://h:99999/",
            "http://h:x/",
            "http://u@h/",
            "http://h/a b",
        ] {
            assert!(Url::parse(url).is_err(), "{url} should be rejected");
        }
    }

    #[test]
    fn https_defaults_to_port_443() {
        let t = Url::parse("HTTPS://example.com/x").unwrap();
        assert!(t.tls);
        assert_eq!((t.port, t.authority.as_str()), (443, "example.com"));
        assert!(!Url::parse("http://example.com/").unwrap().tls);
        assert_eq!(Url::parse("https://[::1]/").unwrap().bare_host(), "::1");
    }
}
