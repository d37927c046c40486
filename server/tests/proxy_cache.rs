//! The proxy's response cache (`--cache-size`) over real loopback sockets: what it stores
//! and for how long, what it never stores, `Vary`, revalidation, `Age`, invalidation, and
//! `X-Cache` and the counters on the way. (Filling, waiting and eviction: proxy_cache_fill.rs.)

mod common;
use common::caching::*;
use common::upstream::{FakeUpstream, Reply};
use common::*;
use server::{Config, ProxyRoute};
use std::time::Duration;

#[test]
fn max_age_is_honoured_then_the_entry_expires() {
    let upstream = FakeUpstream::spawn(|_| ok("Cache-Control: max-age=1\r\n", "fresh"));
    let proxy = caching_proxy(upstream.addr, 1 << 20);
    let mut c = Client::connect(proxy.addr());
    assert_eq!(seen(&c.request(&get("/a", ""))), triple(200, "MISS", "fresh"));
    let hit = c.request(&get("/a", ""));
    assert_eq!(seen(&hit), triple(200, "HIT", "fresh"));
    assert_eq!(hit.header("cache-control"), Some("max-age=1"));
    assert_eq!(hit.header("content-length"), Some("5"));
    assert_eq!(
        upstream.requests().len(),
        1,
        "a fresh hit never reaches the upstream"
    );
    // A client that takes nothing older than 0 s (a browser's reload) goes upstream.
    let reload = c.request(&get("/a", "Cache-Control: max-age=0\r\n"));
    assert_eq!(seen(&reload), triple(200, "EXPIRED", "fresh"));
    assert_eq!(upstream.requests().len(), 2);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(seen(&c.request(&get("/a", ""))), triple(200, "EXPIRED", "fresh"));
    assert_eq!(upstream.requests().len(), 3);
    let s = proxy.stats();
    assert_eq!((s.cache_hits, s.cache_misses, s.cache_expired), (1, 1, 2));
    assert_eq!((s.cache_entries, s.requests, s.proxied), (1, 4, 3));
}

#[test]
fn no_store_private_set_cookie_and_authorized_responses_are_not_stored() {
    let upstream = FakeUpstream::spawn(|req| {
        let req = String::from_utf8_lossy(req);
        match req.split(' ').nth(1).unwrap() {
            "/no-store" => ok("Cache-Control: no-store, max-age=60\r\n", "n"),
            "/private" => ok("Cache-Control: private, max-age=60\r\n", "p"),
            "/cookie" => ok("Cache-Control: max-age=60\r\nSet-Cookie: s=1\r\n", "c"),
            "/star" => ok("Cache-Control: max-age=60\r\nVary: *\r\n", "v"),
            _ => ok("Cache-Control: max-age=60\r\n", "a"),
        }
    });
    let proxy = caching_proxy(upstream.addr, 1 << 20);
    let mut c = Client::connect(proxy.addr());
    for path in ["/no-store", "/private", "/cookie", "/star"] {
        for _ in 0..2 {
            assert_eq!(seen(&c.request(&get(path, ""))).1, "MISS", "{path}");
        }
    }
    // A request with Authorization: its response needs public, s-maxage or must-revalidate.
    for _ in 0..2 {
        assert_eq!(
            seen(&c.request(&get("/auth", "Authorization: Bearer x\r\n"))).1,
            "MISS"
        );
    }
    // A request's own no-store: the cache stays out of it.
    for _ in 0..2 {
        assert_eq!(
            seen(&c.request(&get("/req", "Cache-Control: no-store\r\n"))).1,
            "BYPASS"
        );
    }
    assert_eq!(upstream.requests().len(), 12);
    let s = proxy.stats();
    assert_eq!(
        (s.cache_hits, s.cache_misses, s.cache_bypass, s.cache_entries),
        (0, 10, 2, 0)
    );
}

#[test]
fn vary_separates_entries() {
    let upstream = FakeUpstream::spawn(|req| {
        let req = String::from_utf8_lossy(req);
        let lang = req
            .lines()
            .find_map(|l| l.strip_prefix("Accept-Language: "))
            .unwrap_or("none");
        ok("Cache-Control: max-age=60\r\nVary: Accept-Language\r\n", lang)
    });
    let proxy = caching_proxy(upstream.addr, 1 << 20);
    let mut c = Client::connect(proxy.addr());
    let en = get("/v", "Accept-Language: en\r\n");
    let fr = get("/v", "Accept-Language: fr\r\n");
    assert_eq!(seen(&c.request(&en)), triple(200, "MISS", "en"));
    assert_eq!(seen(&c.request(&fr)), triple(200, "MISS", "fr"));
    assert_eq!(seen(&c.request(&get("/v", ""))), triple(200, "MISS", "none"));
    assert_eq!(seen(&c.request(&en)), triple(200, "HIT", "en"));
    assert_eq!(seen(&c.request(&fr)), triple(200, "HIT", "fr"));
    assert_eq!(seen(&c.request(&get("/v", ""))), triple(200, "HIT", "none"));
    assert_eq!(upstream.requests().len(), 3);
    assert_eq!(proxy.stats().cache_entries, 3);
}

#[test]
fn a_stale_entry_is_revalidated_with_its_etag_and_a_304_refreshes_it() {
    let upstream = FakeUpstream::spawn(|req| {
        let req = String::from_utf8_lossy(req);
        if req.contains("\r\nIf-None-Match: \"v1\"\r\n") {
            return Reply::Bytes(
                b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nCache-Control: max-age=60\r\nX-Checked: yes\r\n\r\n".to_vec(),
            );
        }
        ok(
            "ETag: \"v1\"\r\nCache-Control: max-age=0\r\nX-Checked: no\r\n",
            "body-v1",
        )
    });
    let proxy = caching_proxy(upstream.addr, 1 << 20);
    let mut c = Client::connect(proxy.addr());
    assert_eq!(seen(&c.request(&get("/r", ""))), triple(200, "MISS", "body-v1"));
    // Stale at once (max-age=0): asked again, with the stored validator.
    let r = c.request(&get("/r", ""));
    assert_eq!(seen(&r), triple(200, "REVALIDATED", "body-v1"));
    assert_eq!(
        r.header("x-checked"),
        Some("yes"),
        "the 304's fields replace the stored ones"
    );
    assert_eq!(r.header("cache-control"), Some("max-age=60"));
    assert_eq!(r.header("content-length"), Some("7"));
    let sent = upstream.requests();
    assert_eq!(sent.len(), 2);
    assert!(sent[1].contains("\r\nIf-None-Match: \"v1\"\r\n"), "{}", sent[1]);
    // Refreshed: fresh for 60 s now.
    let r = c.request(&get("/r", ""));
    assert_eq!(seen(&r), triple(200, "HIT", "body-v1"));
    assert_eq!(r.header("x-checked"), Some("yes"));
    // The client's own conditional request against the fresh entry: 304 from the cache.
    let r = c.request(&get("/r", "If-None-Match: \"v0\", \"v1\"\r\n"));
    assert_eq!(seen(&r), triple(304, "HIT", ""));
    assert_eq!(r.header("etag"), Some("\"v1\""));
    // HEAD is served from the GET's entry.
    c.send(b"HEAD /r HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.try_read_response(true).unwrap();
    assert_eq!(
        (seen(&r), r.header("content-length")),
        (triple(200, "HIT", ""), Some("7"))
    );
    assert_eq!(upstream.requests().len(), 2);
    let s = proxy.stats();
    assert_eq!((s.cache_misses, s.cache_revalidated, s.cache_hits), (1, 1, 3));
}

#[test]
fn hits_carry_the_age_stored_plus_resident() {
    let upstream = FakeUpstream::spawn(|_| ok("Cache-Control: max-age=100\r\nAge: 10\r\n", "aged"));
    let proxy = caching_proxy(upstream.addr, 1 << 20);
    let mut c = Client::connect(proxy.addr());
    let r = c.request(&get("/age", ""));
    assert_eq!(
        (seen(&r), r.header("age")),
        (triple(200, "MISS", "aged"), Some("10"))
    );
    let r = c.request(&get("/age", ""));
    assert_eq!(
        (seen(&r), r.header("age")),
        (triple(200, "HIT", "aged"), Some("10"))
    );
    let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["Cache-Control", "Via", "Age", "X-Cache", "Content-Length"]
    );
}

#[test]
fn cache_valid_gives_responses_without_freshness_a_heuristic_lifetime() {
    let upstream = FakeUpstream::spawn(|_| ok("Content-Type: text/plain\r\n", "plain"));
    let without = caching_proxy(upstream.addr, 1 << 20);
    let with = start(Config {
        workers: 1,
        proxy: vec![ProxyRoute::parse(&format!("/=http://{}", upstream.addr)).unwrap()],
        cache_size: 1 << 20,
        cache_valid: Some(Duration::from_secs(60)),
        ..Config::default()
    });
    for (proxy, second) in [(&without, "MISS"), (&with, "HIT")] {
        let mut c = Client::connect(proxy.addr());
        assert_eq!(seen(&c.request(&get("/p", ""))), triple(200, "MISS", "plain"));
        assert_eq!(seen(&c.request(&get("/p", ""))), triple(200, second, "plain"));
    }
    assert_eq!(upstream.requests().len(), 3);
}

#[test]
fn a_successful_unsafe_request_drops_the_stored_responses_for_its_uri() {
    let upstream = FakeUpstream::spawn(|req| match req.starts_with(b"POST /u/fail") {
        true => Reply::Bytes(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".to_vec()),
        false => ok("Cache-Control: max-age=60\r\nVary: Accept\r\n", "u"),
    });
    let proxy = caching_proxy(upstream.addr, 1 << 20);
    let mut c = Client::connect(proxy.addr());
    for path in ["/u", "/u/fail"] {
        for accept in ["Accept: a\r\n", "Accept: b\r\n"] {
            assert_eq!(seen(&c.request(&get(path, accept))).1, "MISS");
        }
    }
    assert_eq!(proxy.stats().cache_entries, 4);
    let post = |path: &str| format!("POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx");
    assert_eq!(
        seen(&c.request(post("/u").as_bytes())),
        triple(200, "BYPASS", "u")
    );
    assert_eq!(seen(&c.request(post("/u/fail").as_bytes())).1, "BYPASS");
    // Both variants of /u are gone; /u/fail's POST failed, so its entries stay.
    assert_eq!(proxy.stats().cache_entries, 2);
    assert_eq!(seen(&c.request(&get("/u", "Accept: b\r\n"))).1, "MISS");
    assert_eq!(seen(&c.request(&get("/u/fail", "Accept: b\r\n"))).1, "HIT");
}

#[test]
fn a_stale_entry_whose_new_response_may_not_be_stored_is_dropped() {
    let upstream = FakeUpstream::spawn(|req| match req.windows(13).any(|w| w == b"If-None-Match") {
        true => ok("Cache-Control: no-store\r\n", "new"),
        false => ok("ETag: \"v1\"\r\nCache-Control: max-age=0\r\n", "old"),
    });
    let proxy = caching_proxy(upstream.addr, 1 << 20);
    let mut c = Client::connect(proxy.addr());
    assert_eq!(seen(&c.request(&get("/s", ""))), triple(200, "MISS", "old"));
    assert_eq!(proxy.stats().cache_entries, 1);
    assert_eq!(seen(&c.request(&get("/s", ""))), triple(200, "EXPIRED", "new"));
    let s = proxy.stats();
    assert_eq!(
        (s.cache_entries, s.cache_stored_bytes, s.cache_expired),
        (0, 0, 1)
    );
}
