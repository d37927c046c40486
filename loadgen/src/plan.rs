//! What validation derives from a `Config`, handed to the run as it is: the target URL and
//! the request mix — each request's bytes (built once), report group and whether it is a
//! HEAD, and the weighted sending order. Nothing is validated or parsed twice.

use crate::mix::TargetSpec;
use crate::request;
use crate::url::Url;

#[derive(Debug)]
pub struct Plan {
    /// The URL; with `--targets`, the first target's (all share its host and port).
    pub target: Url,
    pub mix: Mix,
}

/// The requests a run sends.
#[derive(Debug)]
pub struct Mix {
    /// Request bytes per target (one target with a single URL).
    pub requests: Vec<Box<[u8]>>,
    /// With `--requests-per-conn`: the same requests saying `Connection: close`, for the last
    /// one on each connection (empty otherwise).
    pub closing: Vec<Box<[u8]>>,
    /// The report group of each target.
    pub groups: Vec<u16>,
    /// Whether each target is a HEAD request (its response has no body).
    pub heads: Vec<bool>,
    /// Target indices in sending order, weights expanded; cycled round robin.
    pub order: Vec<u32>,
    /// Report groups (names); 0 = no per-target breakdown.
    pub group_count: usize,
}

impl Mix {
    /// The one request of a single-URL run.
    pub fn single(method: &str, target: &Url, headers: &[(String, String)], body: &[u8]) -> Mix {
        Mix {
            requests: vec![request::build(method, target, headers, body).into()],
            closing: Vec::new(),
            groups: vec![0],
            heads: vec![method.eq_ignore_ascii_case("HEAD")],
            order: vec![0],
            group_count: 0,
        }
    }

    /// A `--targets` mix, from each target's parsed URL and report group (same order).
    pub fn of_targets(targets: &[TargetSpec], urls: &[Url], groups: Vec<u16>, group_count: usize) -> Mix {
        let requests = targets
            .iter()
            .zip(urls)
            .map(|(t, url)| request::build(&t.method, url, &t.headers, &t.body).into())
            .collect();
        let order = targets
            .iter()
            .enumerate()
            .flat_map(|(i, t)| std::iter::repeat_n(i as u32, t.weight as usize))
            .collect();
        let heads = targets
            .iter()
            .map(|t| t.method.eq_ignore_ascii_case("HEAD"))
            .collect();
        Mix {
            requests,
            closing: Vec::new(),
            groups,
            heads,
            order,
            group_count,
        }
    }

    /// Adds the `Connection: close` variant of every request (a `Connection` header the user
    /// gave is replaced, so the last request says one thing).
    pub fn with_closing(
        mut self,
        method: &str,
        target: &Url,
        headers: &[(String, String)],
        body: &[u8],
        targets: &[TargetSpec],
        urls: &[Url],
    ) -> Mix {
        let closing = |method: &str, url: &Url, headers: &[(String, String)], body: &[u8]| -> Box<[u8]> {
            let mut headers: Vec<(String, String)> = headers
                .iter()
                .filter(|(n, _)| !n.eq_ignore_ascii_case("connection"))
                .cloned()
                .collect();
            headers.push(("Connection".into(), "close".into()));
            request::build(method, url, &headers, body).into()
        };
        self.closing = if targets.is_empty() {
            vec![closing(method, target, headers, body)]
        } else {
            targets
                .iter()
                .zip(urls)
                .map(|(t, url)| closing(&t.method, url, &t.headers, &t.body))
                .collect()
        };
        self
    }
}
