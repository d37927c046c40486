//! What RFC 9111 lets a shared cache do with a request and a response: the directives of
//! `Cache-Control` (and `Pragma`), whether a response may be stored (§3, §3.5), how long it
//! stays fresh (§4.2.1: `s-maxage`, `max-age`, `Expires` − `Date`; heuristic freshness
//! (§4.2.2) only as configured with `--cache-valid`) and how old it was on arrival (§4.2.3).

use http_wire::fields;
use http_wire::token::list_items;
use std::time::{Duration, SystemTime};

/// What the cache needs from a request head, found in one pass over its fields.
#[derive(Debug, Default)]
pub struct RequestFacts<'a> {
    pub host: &'a [u8],
    /// `Cache-Control: no-store`: nothing of the exchange may be stored.
    pub no_store: bool,
    /// `Cache-Control: no-cache` or `Pragma: no-cache`: no stored response without asking
    /// the origin.
    pub no_cache: bool,
    /// `Cache-Control: max-age=N`: no stored response older than N seconds.
    pub max_age: Option<u64>,
}

impl<'a> RequestFacts<'a> {
    pub fn of(head: &'a [u8]) -> RequestFacts<'a> {
        let mut facts = RequestFacts::default();
        fields::each(head, |name, value| {
            if name.eq_ignore_ascii_case(b"host") {
                facts.host = value;
            } else if name.eq_ignore_ascii_case(b"cache-control") {
                for (d, arg) in directives(value) {
                    facts.no_store |= d.eq_ignore_ascii_case(b"no-store");
                    facts.no_cache |= d.eq_ignore_ascii_case(b"no-cache");
                    if d.eq_ignore_ascii_case(b"max-age") {
                        facts.max_age = seconds(arg).or(Some(0));
                    }
                }
            } else if name.eq_ignore_ascii_case(b"pragma") {
                facts.no_cache |= directives(value).any(|(d, _)| d.eq_ignore_ascii_case(b"no-cache"));
            }
        });
        facts
    }
}

/// What the cache needs from a response head.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ResponseFacts {
    pub no_store: bool,
    pub private: bool,
    pub no_cache: bool,
    pub public: bool,
    pub must_revalidate: bool,
    pub s_maxage: Option<u64>,
    pub max_age: Option<u64>,
    /// `Some(None)`: an `Expires` that is not a date, which means already expired.
    pub expires: Option<Option<SystemTime>>,
    pub date: Option<SystemTime>,
    pub age: u64,
    pub set_cookie: bool,
    /// The request fields named by `Vary`, lowercased; `vary_any`: `Vary: *`.
    pub vary: Vec<Box<[u8]>>,
    pub vary_any: bool,
    pub etag: Option<Box<[u8]>>,
    pub last_modified: Option<Box<[u8]>>,
}

impl ResponseFacts {
    pub fn of(head: &[u8]) -> ResponseFacts {
        let mut r = ResponseFacts::default();
        fields::each(head, |name, value| r.field(name, value));
        r
    }

    fn field(&mut self, name: &[u8], value: &[u8]) {
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        if is("cache-control") {
            for (d, arg) in directives(value) {
                let d = d.to_ascii_lowercase();
                match d.as_slice() {
                    b"no-store" => self.no_store = true,
                    // Qualified `private="f"` / `no-cache="f"` are taken as unqualified:
                    // stricter, and always allowed.
                    b"private" => self.private = true,
                    b"no-cache" => self.no_cache = true,
                    b"public" => self.public = true,
                    b"must-revalidate" | b"proxy-revalidate" => self.must_revalidate = true,
                    b"s-maxage" => self.s_maxage = seconds(arg).or(Some(0)),
                    b"max-age" => self.max_age = seconds(arg).or(Some(0)),
                    _ => {}
                }
            }
        } else if is("expires") {
            self.expires = Some(http_date(value));
        } else if is("date") {
            self.date = http_date(value);
        } else if is("age") {
            self.age = seconds(Some(value)).unwrap_or(0);
        } else if is("set-cookie") {
            self.set_cookie = true;
        } else if is("vary") {
            for (field, _) in directives(value) {
                self.vary_any |= field == b"*";
                self.vary.push(field.to_ascii_lowercase().into());
            }
        } else if is("etag") {
            self.etag = Some(value.into());
        } else if is("last-modified") {
            self.last_modified = Some(value.into());
        }
    }

    pub fn has_validator(&self) -> bool {
        self.etag.is_some() || self.last_modified.is_some()
    }

    /// How long the response is fresh (§4.2.1); when it says nothing, the `heuristic`
    /// lifetime (`--cache-valid`), or `None` (not stored). `no-cache`: fresh for 0 s (every
    /// use asks the origin), which needs a validator to be worth storing.
    pub fn lifetime(&self, received: SystemTime, heuristic: Option<Duration>) -> Option<Duration> {
        if self.no_cache {
            return Some(Duration::ZERO);
        }
        if let Some(s) = self.s_maxage.or(self.max_age) {
            return Some(Duration::from_secs(s));
        }
        let Some(expires) = self.expires else {
            return heuristic;
        };
        let date = self.date.unwrap_or(received);
        Some(
            expires
                .and_then(|e| e.duration_since(date).ok())
                .unwrap_or_default(),
        )
    }

    /// Why a shared cache may not store this response to a GET, if it may not (§3, §3.5).
    /// `status` is the response's; `authorized`: the request carried `Authorization`.
    pub fn refusal(
        &self,
        status: u16,
        authorized: bool,
        received: SystemTime,
        heuristic: Option<Duration>,
    ) -> Option<&'static str> {
        if !heuristically_cacheable(status) {
            return Some("status");
        }
        if self.no_store || self.private {
            return Some("no-store or private");
        }
        if self.set_cookie {
            return Some("Set-Cookie");
        }
        if self.vary_any {
            return Some("Vary: *");
        }
        if authorized && !(self.public || self.s_maxage.is_some() || self.must_revalidate) {
            return Some("Authorization");
        }
        match self.lifetime(received, heuristic) {
            None => Some("no explicit freshness"),
            Some(d) if d.is_zero() && !self.has_validator() => Some("stale at once, no validator"),
            Some(_) => None,
        }
    }

    /// The age the response had on arrival (§4.2.3): the larger of `now − Date` and `Age`
    /// plus the time the request took.
    pub fn initial_age(&self, received: SystemTime, response_delay: Duration) -> Duration {
        let apparent = self
            .date
            .and_then(|d| received.duration_since(d).ok())
            .unwrap_or_default();
        apparent.max(Duration::from_secs(self.age) + response_delay)
    }
}

/// Statuses cacheable by default (RFC 9110 §15.1): only these are stored, and only with
/// explicit freshness.
pub fn heuristically_cacheable(status: u16) -> bool {
    matches!(
        status,
        200 | 203 | 204 | 300 | 301 | 308 | 404 | 405 | 410 | 414 | 501
    )
}

/// The comma-separated items of a field value, each `name[=value]` (quotes dropped).
pub fn directives(value: &[u8]) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
    list_items(value).map(|item| match item.iter().position(|&b| b == b'=') {
        Some(eq) => {
            let arg = item[eq + 1..].trim_ascii();
            let arg = arg
                .strip_prefix(b"\"")
                .and_then(|a| a.strip_suffix(b"\""))
                .unwrap_or(arg);
            (item[..eq].trim_ascii(), Some(arg))
        }
        None => (item, None),
    })
}

/// Delta-seconds (§1.2.2); too large a number saturates.
fn seconds(arg: Option<&[u8]>) -> Option<u64> {
    let digits = arg?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        std::str::from_utf8(digits)
            .ok()?
            .parse()
            .unwrap_or(u64::from(u32::MAX)),
    )
}

fn http_date(value: &[u8]) -> Option<SystemTime> {
    httpdate::parse_http_date(std::str::from_utf8(value).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(fields: &str) -> ResponseFacts {
        ResponseFacts::of(format!("HTTP/1.1 200 OK\r\n{fields}\r\n").as_bytes())
    }

    #[test]
    fn freshness_and_refusals() {
        let now = SystemTime::now();
        let f = facts("Cache-Control: public, max-age=60, s-maxage=\"30\"\r\n");
        assert_eq!(f.lifetime(now, None), Some(Duration::from_secs(30)));
        assert_eq!(f.refusal(200, true, now, None), None);
        assert_eq!(f.refusal(302, false, now, None), Some("status"));
        let date = httpdate::fmt_http_date(now);
        let later = httpdate::fmt_http_date(now + Duration::from_secs(100));
        let f = facts(&format!("Date: {date}\r\nExpires: {later}\r\n"));
        let life = f.lifetime(now, None).unwrap().as_secs();
        assert!((99..=100).contains(&life), "{life}");
        assert_eq!(f.refusal(200, true, now, None), Some("Authorization"));
        assert_eq!(facts("Expires: 0\r\n").lifetime(now, None), Some(Duration::ZERO));
        // Heuristic freshness (--cache-valid) only where the response says nothing.
        let minute = Some(Duration::from_secs(60));
        assert_eq!(facts("X: y\r\n").lifetime(now, minute), minute);
        assert_eq!(facts("X: y\r\n").refusal(200, false, now, minute), None);
        assert_eq!(facts("X: y\r\n").refusal(302, false, now, minute), Some("status"));
        let explicit = facts("Cache-Control: max-age=5\r\n").lifetime(now, minute);
        assert_eq!(explicit, Some(Duration::from_secs(5)));
        assert_eq!(
            facts("X: y\r\n").refusal(200, false, now, None),
            Some("no explicit freshness")
        );
        for (fields, why) in [
            ("Cache-Control: max-age=60, no-store\r\n", "no-store or private"),
            ("Cache-Control: private, max-age=60\r\n", "no-store or private"),
            ("Cache-Control: max-age=60\r\nSet-Cookie: a=b\r\n", "Set-Cookie"),
            ("Cache-Control: max-age=60\r\nVary: Accept, *\r\n", "Vary: *"),
            (
                "Cache-Control: no-cache, max-age=60\r\n",
                "stale at once, no validator",
            ),
        ] {
            assert_eq!(
                facts(fields).refusal(200, false, now, None),
                Some(why),
                "{fields}"
            );
        }
        let f =
            facts("Cache-Control: no-cache\r\nETag: \"a\"\r\nVary: Accept-Encoding,  X-Lang\r\nAge: 7\r\n");
        assert_eq!(
            (f.refusal(200, false, now, None), f.lifetime(now, None)),
            (None, Some(Duration::ZERO))
        );
        assert_eq!(
            f.vary,
            [b"accept-encoding".as_slice().into(), b"x-lang".as_slice().into()]
        );
        assert_eq!(
            f.initial_age(now, Duration::from_millis(5)),
            Duration::from_millis(7005)
        );
    }

    #[test]
    fn request_directives() {
        let head = b"GET / HTTP/1.1\r\nHost: a.test\r\nPragma: no-cache\r\n\r\n";
        let r = RequestFacts::of(head);
        assert_eq!((r.host, r.no_store, r.no_cache), (&b"a.test"[..], false, true));
        let r = RequestFacts::of(b"GET / HTTP/1.1\r\nCache-Control: max-age=0, no-store\r\n\r\n");
        assert_eq!(
            (r.host, r.no_store, r.no_cache, r.max_age),
            (&b""[..], true, false, Some(0))
        );
    }
}
