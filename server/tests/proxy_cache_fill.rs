//! The proxy's response cache (`--cache-size`) as it fills: one upstream request for
//! concurrent misses, waiters going upstream when the fill cannot be stored, LRU eviction and
//! the object limit, and the binary's flags and exit summary.

mod common;
use common::caching::*;
use common::upstream::{FakeUpstream, Reply};
use common::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a request waits for another's fill at most (the server's `LOCK_WAIT`).
const LOCK_WAIT: Duration = Duration::from_secs(5);

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
