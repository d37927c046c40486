//! The proxy's response cache (`--cache-size`) over real loopback sockets: what it stores
//! and for how long, what it never stores, `Vary`, revalidation, one upstream request for
//! concurrent misses, LRU eviction, `Age`, `X-Cache` and the counters.

mod common;
use common::upstream::{FakeUpstream, Reply};
use common::*;
use server::{Config, ProxyRoute, ServerHandle};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// How long a request waits for another's fill at most (the server's `LOCK_WAIT`).
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// A one-worker proxy with a cache of `cache_size` bytes in front of `upstream`.
fn caching_proxy(upstream: SocketAddr, cache_size: u64) -> ServerHandle {
    start(Config {
        workers: 1,
        proxy: vec![ProxyRoute::parse(&format!("/=http://{upstream}")).unwrap()],
        upstream_timeout: Duration::from_secs(5),
        cache_size,
        ..Config::default()
    })
}

fn get(path: &str, fields: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\n{fields}\r\n").into_bytes()
}

fn ok(fields: &str, body: &str) -> Reply {
    Reply::Bytes(
        format!(
            "HTTP/1.1 200 OK\r\n{fields}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// Status, `X-Cache`, body.
fn seen(r: &Response) -> (u16, String, String) {
    let label = r.header("x-cache").unwrap_or("-").to_string();
    (r.status, label, r.body_text().to_string())
}

fn triple(status: u16, label: &str, body: &str) -> (u16, String, String) {
    (status, label.to_string(), body.to_string())
}

/// `clients` connections, connected first, each sending one GET of `path` at the same moment.
fn at_once(addr: SocketAddr, clients: usize, path: &'static str) -> Vec<(u16, String, String)> {
    let start = Arc::new(Barrier::new(clients));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let start = start.clone();
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                start.wait();
                seen(&c.request(&get(path, "")))
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

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
fn a_hundred_concurrent_misses_make_one_upstream_request() {
    let upstream = FakeUpstream::spawn(|_| {
        // Slow enough that every client asks while the first response is on its way.
        std::thread::sleep(Duration::from_millis(400));
        ok("Cache-Control: max-age=60\r\n", "shared")
    });
    let proxy = caching_proxy(upstream.addr, 1 << 20);
    let mut labels: Vec<String> = at_once(proxy.addr(), 100, "/hot")
        .into_iter()
        .map(|(status, label, body)| {
            assert_eq!((status, body.as_str()), (200, "shared"));
            label
        })
        .collect();
    labels.sort();
    labels.dedup();
    assert_eq!(labels, ["HIT", "MISS"]);
    assert_eq!(upstream.requests().len(), 1, "the backend's count");
    let s = proxy.stats();
    assert_eq!((s.cache_misses, s.cache_hits, s.requests), (1, 99, 100));
}

#[test]
fn waiters_go_upstream_themselves_when_the_fill_cannot_be_stored() {
    let (busy, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (b, m) = (busy.clone(), most.clone());
    let upstream = FakeUpstream::spawn(move |_| {
        m.fetch_max(b.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(300));
        b.fetch_sub(1, Ordering::SeqCst);
        ok("Cache-Control: no-store\r\n", "mine")
    });
    let proxy = caching_proxy(upstream.addr, 1 << 20);
    let started = Instant::now();
    for answer in at_once(proxy.addr(), 10, "/cold") {
        assert_eq!(answer, triple(200, "MISS", "mine"));
    }
    // Woken when the first response proved uncacheable, the other nine went together: not
    // one after another behind the lock, nor at the end of the lock's wait.
    assert_eq!(upstream.requests().len(), 10);
    assert!(most.load(Ordering::SeqCst) >= 2, "{most:?}");
    assert!(started.elapsed() < LOCK_WAIT, "{:?}", started.elapsed());
    assert_eq!(proxy.stats().cache_entries, 0);
}

#[test]
fn least_recently_used_entries_are_evicted_within_the_size() {
    let body = "x".repeat(3000);
    let upstream = FakeUpstream::spawn(move |req| {
        let path = String::from_utf8_lossy(req)
            .split(' ')
            .nth(1)
            .unwrap()
            .to_string();
        if path == "/big" {
            // Chunked: no length to refuse it by, so the copy is dropped as it grows.
            let chunk = format!("3e8\r\n{}\r\n", "y".repeat(1000));
            let head = "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nTransfer-Encoding: chunked\r\n\r\n";
            return Reply::Bytes(format!("{head}{}0\r\n\r\n", chunk.repeat(5)).into_bytes());
        }
        ok("Cache-Control: max-age=60\r\n", &body)
    });
    // 32000 bytes: objects up to 4000 are stored.
    let proxy = caching_proxy(upstream.addr, 32000);
    let mut c = Client::connect(proxy.addr());
    assert_eq!(seen(&c.request(&get("/lru/0", ""))).1, "MISS");
    let one = proxy.stats().cache_stored_bytes;
    assert!(one > 3000 && 9 * one <= 32000 && 10 * one > 32000, "{one}");
    for i in 1..9 {
        assert_eq!(seen(&c.request(&get(&format!("/lru/{i}"), ""))).1, "MISS");
    }
    // /lru/0 is used again, so /lru/1 is now the least recently used.
    assert_eq!(seen(&c.request(&get("/lru/0", ""))).1, "HIT");
    assert_eq!(seen(&c.request(&get("/lru/9", ""))).1, "MISS");
    let s = proxy.stats();
    assert_eq!(
        (s.cache_evictions, s.cache_entries, s.cache_stored_bytes),
        (1, 9, 9 * one)
    );
    assert_eq!(seen(&c.request(&get("/lru/0", ""))).1, "HIT");
    assert_eq!(seen(&c.request(&get("/lru/1", ""))).1, "MISS");
    // Larger than an eighth of the cache: streamed whole, never stored.
    for _ in 0..2 {
        let r = c.request(&get("/big", ""));
        assert_eq!(
            (r.status, r.body.len(), r.header("x-cache")),
            (200, 5000, Some("MISS"))
        );
    }
    assert_eq!(proxy.stats().cache_evictions, 2);
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

#[test]
fn the_binary_takes_the_flags_and_its_exit_summary_counts_the_cache() {
    let upstream = FakeUpstream::spawn(|_| ok("Cache-Control: max-age=60\r\n", "counted"));
    let mut cmd = std::process::Command::new(SERVER_BIN);
    cmd.args(["--listen", "127.0.0.1:0", "--workers", "1", "--cache-size", "1m"])
        .arg("--proxy")
        .arg(format!("/=http://{}", upstream.addr))
        .stderr(std::process::Stdio::piped());
    let (mut child, addr, _) = spawn_listening(cmd);
    let mut c = Client::connect(addr);
    for label in ["MISS", "HIT", "HIT"] {
        assert_eq!(seen(&c.request(&get("/x", ""))), triple(200, label, "counted"));
    }
    drop(c);
    oscalls::process::signal(child.id(), libc::SIGTERM);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(child.wait().unwrap().success(), "{stderr}");
    let summary = stderr
        .lines()
        .find(|l| l.contains("connections accepted"))
        .expect(&stderr);
    let cache = summary.split_once(", cache ").expect(summary).1;
    let (counts, stored) = cache.split_once(", stored ").expect(summary);
    assert_eq!(
        counts,
        "hits 2 misses 1 revalidated 0 expired 0 bypass 0 evictions 0"
    );
    assert!(stored.ends_with(" bytes in 1 entries"), "{summary}");
}
