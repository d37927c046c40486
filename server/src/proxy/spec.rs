//! `--proxy PREFIX=URL[,URL...]`: which paths go to which upstream group, checked and
//! resolved once at start-up.

use rustls::pki_types::ServerName;
use std::net::{SocketAddr, ToSocketAddrs};

/// One upstream server of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
    pub addr: SocketAddr,
    /// `host:port` as written, for the `Host` of a request that came without one.
    pub authority: String,
    /// An https:// upstream: the name its certificate must carry, sent as SNI (the URL's
    /// host).
    pub tls: Option<ServerName<'static>>,
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

/// `http://host[:port][/]` or `https://...`, resolved now (the first address the resolver
/// gives).
fn parse_url(url: &str) -> Result<Upstream, String> {
    let (rest, tls) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
        (Some(rest), _) => (rest, false),
        (_, Some(rest)) => (rest, true),
        _ => {
            return Err(format!(
                "{url:?}: an upstream URL must start with http:// or https://"
            ));
        }
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
    let has_port = !authority.ends_with(']') && authority.contains(':');
    let with_port = match (has_port, tls) {
        (true, _) => authority.to_string(),
        (false, false) => format!("{authority}:80"),
        (false, true) => format!("{authority}:443"),
    };
    let tls = match tls {
        false => None,
        true => {
            let host = if has_port {
                authority.rsplit_once(':').map_or(authority, |(h, _)| h)
            } else {
                authority
            };
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let name = ServerName::try_from(host.to_string())
                .map_err(|_| format!("{url:?}: '{host}' is not a valid TLS server name"))?;
            Some(name)
        }
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(|e| format!("{url:?}: cannot resolve: {e}"))?
        .next()
        .ok_or_else(|| format!("{url:?}: the host has no address"))?;
    Ok(Upstream {
        addr,
        authority: authority.to_string(),
        tls,
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
        assert_eq!((r.upstreams[0].addr.port(), &r.upstreams[0].tls), (80, &None));
        let r = ProxyRoute::parse("/=https://localhost,https://[::1]:8443").unwrap();
        let names: Vec<_> = r
            .upstreams
            .iter()
            .map(|u| (u.addr.port(), u.tls.clone()))
            .collect();
        assert_eq!(
            names,
            [
                (443, Some(ServerName::try_from("localhost").unwrap())),
                (8443, Some(ServerName::try_from("::1").unwrap()))
            ]
        );
        for (bad, says) in [
            ("/app", "expected PREFIX=URL"),
            ("app=http://127.0.0.1:1", "must start with '/'"),
            ("/a=ftp://127.0.0.1:1", "must start with http:// or https://"),
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
