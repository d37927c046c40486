//! `--proxy PREFIX=URL[,URL...]`: which paths go to which upstream group, checked and
//! resolved once at start-up.

use std::net::{SocketAddr, ToSocketAddrs};

/// One upstream server of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
    pub addr: SocketAddr,
    /// `host:port` as written, for the `Host` of a request that came without one.
    pub authority: String,
}

/// Requests whose path starts with `prefix` go to one of `upstreams`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyRoute {
    pub prefix: String,
    pub upstreams: Vec<Upstream>,
}

impl ProxyRoute {
    /// Parses `PREFIX=URL[,URL...]`; the error says what is wrong (the caller names the flag).
    pub fn parse(spec: &str) -> Result<ProxyRoute, String> {
        let Some((prefix, urls)) = spec.split_once('=') else {
            return Err(format!("{spec:?}: expected PREFIX=URL[,URL...]"));
        };
        if !prefix.starts_with('/') {
            return Err(format!("{spec:?}: the prefix must start with '/'"));
        }
        let upstreams = urls
            .split(',')
            .map(|url| parse_url(url.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ProxyRoute {
            prefix: prefix.to_string(),
            upstreams,
        })
    }
}

/// `http://host[:port][/]`, resolved now (the first address the resolver gives).
fn parse_url(url: &str) -> Result<Upstream, String> {
    if url.starts_with("https://") {
        return Err(format!("{url:?}: https:// upstreams are not supported yet"));
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(format!("{url:?}: an upstream URL must start with http://"));
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() {
        return Err(format!("{url:?}: no host"));
    }
    if authority.contains(['/', '?', '#', '@']) {
        return Err(format!(
            "{url:?}: only scheme, host and port (the request's own path is forwarded)"
        ));
    }
    let with_port = if authority.ends_with(']') || !authority.contains(':') {
        format!("{authority}:80")
    } else {
        authority.to_string()
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(|e| format!("{url:?}: cannot resolve: {e}"))?
        .next()
        .ok_or_else(|| format!("{url:?}: the host has no address"))?;
    Ok(Upstream {
        addr,
        authority: authority.to_string(),
    })
}

/// The proxy routes, longest prefix first so that `/api/v2` wins over `/api`.
pub fn sorted(mut routes: Vec<ProxyRoute>) -> Vec<ProxyRoute> {
    routes.sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
    routes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        let r = ProxyRoute::parse("/app=http://127.0.0.1:9000,http://127.0.0.1:9001/").unwrap();
        assert_eq!(r.prefix, "/app");
        assert_eq!(r.upstreams.len(), 2);
        assert_eq!(r.upstreams[1].addr, "127.0.0.1:9001".parse().unwrap());
        assert_eq!(r.upstreams[1].authority, "127.0.0.1:9001");
        let r = ProxyRoute::parse("/=http://127.0.0.1").unwrap();
        assert_eq!(r.upstreams[0].addr.port(), 80);
        for (bad, says) in [
            ("/app", "expected PREFIX=URL"),
            ("app=http://127.0.0.1:1", "must start with '/'"),
            ("/a=https://127.0.0.1:1", "https:// upstreams are not supported"),
            ("/a=127.0.0.1:1", "must start with http://"),
            ("/a=http://", "no host"),
            ("/a=http://127.0.0.1:1/x", "only scheme, host and port"),
            ("/a=http://127.0.0.1:99999", "cannot resolve"),
            ("/a=http://127.0.0.1:1,", "must start with http://"),
        ] {
            let e = ProxyRoute::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
