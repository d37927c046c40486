//! Per-worker counters: written only by their worker, readable from any thread.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A counter with a single writer: a plain load and store, no locked read-modify-write.
#[derive(Default, Debug)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }

    pub fn sub(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_sub(n), Relaxed);
    }

    pub fn set(&self, n: u64) {
        self.0.store(n, Relaxed);
    }

    pub fn raise_to(&self, n: u64) {
        if n > self.0.load(Relaxed) {
            self.0.store(n, Relaxed);
        }
    }

    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// The live counters of one worker.
#[derive(Default, Debug)]
pub struct WorkerCounters {
    pub accepted: Counter,
    pub open: Counter,
    pub requests: Counter,
    pub bytes_in: Counter,
    pub bytes_out: Counter,
    pub reads: Counter,
    pub writes: Counter,
    pub peak_conn_read_buffer: Counter,
    pub peak_conn_write_pending: Counter,
    pub tls_full_handshakes: Counter,
    pub tls_resumed_handshakes: Counter,
    pub tls_errors: Counter,
    pub buffers_lent: Counter,
    pub peak_buffers_lent: Counter,
    pub proxied: Counter,
    pub upstream_connects: Counter,
    pub upstream_reused: Counter,
    pub upstream_retries: Counter,
    pub upstream_bad_gateway: Counter,
    pub upstream_gateway_timeout: Counter,
    pub upstream_idle: Counter,
    pub cache_hits: Counter,
    pub cache_misses: Counter,
    pub cache_revalidated: Counter,
    pub cache_expired: Counter,
    pub cache_bypass: Counter,
    pub cache_evictions: Counter,
    pub cache_stored_bytes: Counter,
    pub cache_entries: Counter,
}

/// A snapshot of one worker's counters (or their sum over workers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub accepted: u64,
    pub open: u64,
    pub requests: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// read(2) calls that returned data, EOF or an error (not WouldBlock).
    pub reads: u64,
    /// write(2) calls that wrote bytes.
    pub writes: u64,
    /// Largest read buffer any one connection has held, in bytes.
    pub peak_conn_read_buffer: u64,
    /// Most response bytes any one connection has had waiting to be written.
    pub peak_conn_write_pending: u64,
    /// TLS handshakes completed without and with session resumption.
    pub tls_full_handshakes: u64,
    pub tls_resumed_handshakes: u64,
    /// TLS connections that failed: a handshake refused, a bad record, not TLS at all.
    pub tls_errors: u64,
    /// Read and write buffers lent to connections now (0 when every connection is idle),
    /// and the most ever lent at once.
    pub buffers_lent: u64,
    pub peak_buffers_lent: u64,
    /// Requests answered by an upstream (through `--proxy`).
    pub proxied: u64,
    /// Connections opened to upstreams, and requests that reused a pooled one.
    pub upstream_connects: u64,
    pub upstream_reused: u64,
    /// Requests moved to another upstream after a failed connect (nothing sent), or to a
    /// fresh connection after a pooled one turned out closed by its upstream.
    pub upstream_retries: u64,
    /// Proxied requests answered 502 (no upstream, refused, malformed response) and 504 (timeout).
    pub upstream_bad_gateway: u64,
    pub upstream_gateway_timeout: u64,
    /// Idle upstream connections in the keep-alive pools now.
    pub upstream_idle: u64,
    /// `--cache-size`: requests answered from the cache (a client's 304 included), sent
    /// upstream with no entry, answered after an upstream 304 refreshed a stale entry, sent
    /// upstream for a stale entry (no validator, or the revalidation brought a new
    /// response), and not cacheable by method or request directives.
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub cache_revalidated: u64,
    pub cache_expired: u64,
    pub cache_bypass: u64,
    /// Entries dropped to make room (LRU).
    pub cache_evictions: u64,
    /// What the cache holds now: bytes (heads, bodies, keys and per-entry overhead), entries.
    pub cache_stored_bytes: u64,
    pub cache_entries: u64,
}

impl WorkerCounters {
    pub fn snapshot(&self) -> Stats {
        Stats {
            accepted: self.accepted.get(),
            open: self.open.get(),
            requests: self.requests.get(),
            bytes_in: self.bytes_in.get(),
            bytes_out: self.bytes_out.get(),
            reads: self.reads.get(),
            writes: self.writes.get(),
            peak_conn_read_buffer: self.peak_conn_read_buffer.get(),
            peak_conn_write_pending: self.peak_conn_write_pending.get(),
            tls_full_handshakes: self.tls_full_handshakes.get(),
            tls_resumed_handshakes: self.tls_resumed_handshakes.get(),
            tls_errors: self.tls_errors.get(),
            buffers_lent: self.buffers_lent.get(),
            peak_buffers_lent: self.peak_buffers_lent.get(),
            proxied: self.proxied.get(),
            upstream_connects: self.upstream_connects.get(),
            upstream_reused: self.upstream_reused.get(),
            upstream_retries: self.upstream_retries.get(),
            upstream_bad_gateway: self.upstream_bad_gateway.get(),
            upstream_gateway_timeout: self.upstream_gateway_timeout.get(),
            upstream_idle: self.upstream_idle.get(),
            cache_hits: self.cache_hits.get(),
            cache_misses: self.cache_misses.get(),
            cache_revalidated: self.cache_revalidated.get(),
            cache_expired: self.cache_expired.get(),
            cache_bypass: self.cache_bypass.get(),
            cache_evictions: self.cache_evictions.get(),
            cache_stored_bytes: self.cache_stored_bytes.get(),
            cache_entries: self.cache_entries.get(),
        }
    }
}

impl Stats {
    /// Totals over workers; peaks take the maximum.
    pub fn sum(all: &[Stats]) -> Stats {
        all.iter().fold(Stats::default(), |a, s| Stats {
            accepted: a.accepted + s.accepted,
            open: a.open + s.open,
            requests: a.requests + s.requests,
            bytes_in: a.bytes_in + s.bytes_in,
            bytes_out: a.bytes_out + s.bytes_out,
            reads: a.reads + s.reads,
            writes: a.writes + s.writes,
            peak_conn_read_buffer: a.peak_conn_read_buffer.max(s.peak_conn_read_buffer),
            peak_conn_write_pending: a.peak_conn_write_pending.max(s.peak_conn_write_pending),
            tls_full_handshakes: a.tls_full_handshakes + s.tls_full_handshakes,
            tls_resumed_handshakes: a.tls_resumed_handshakes + s.tls_resumed_handshakes,
            tls_errors: a.tls_errors + s.tls_errors,
            buffers_lent: a.buffers_lent + s.buffers_lent,
            peak_buffers_lent: a.peak_buffers_lent + s.peak_buffers_lent,
            proxied: a.proxied + s.proxied,
            upstream_connects: a.upstream_connects + s.upstream_connects,
            upstream_reused: a.upstream_reused + s.upstream_reused,
            upstream_retries: a.upstream_retries + s.upstream_retries,
            upstream_bad_gateway: a.upstream_bad_gateway + s.upstream_bad_gateway,
            upstream_gateway_timeout: a.upstream_gateway_timeout + s.upstream_gateway_timeout,
            upstream_idle: a.upstream_idle + s.upstream_idle,
            cache_hits: a.cache_hits + s.cache_hits,
            cache_misses: a.cache_misses + s.cache_misses,
            cache_revalidated: a.cache_revalidated + s.cache_revalidated,
            cache_expired: a.cache_expired + s.cache_expired,
            cache_bypass: a.cache_bypass + s.cache_bypass,
            cache_evictions: a.cache_evictions + s.cache_evictions,
            cache_stored_bytes: a.cache_stored_bytes + s.cache_stored_bytes,
            cache_entries: a.cache_entries + s.cache_entries,
        })
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "connections accepted {} open {}, requests {}, bytes in {} out {}, read calls {}, write calls {}, buffers lent {} (peak {})",
            self.accepted,
            self.open,
            self.requests,
            self.bytes_in,
            self.bytes_out,
            self.reads,
            self.writes,
            self.buffers_lent,
            self.peak_buffers_lent
        )?;
        if self.tls_full_handshakes + self.tls_resumed_handshakes + self.tls_errors > 0 {
            write!(
                f,
                ", TLS handshakes full {} resumed {}, TLS errors {}",
                self.tls_full_handshakes, self.tls_resumed_handshakes, self.tls_errors
            )?;
        }
        if self.proxied + self.upstream_connects + self.upstream_bad_gateway + self.upstream_gateway_timeout
            > 0
        {
            write!(
                f,
                ", proxied {} (upstream connects {} reused {} retries {} idle {}, 502 {} 504 {})",
                self.proxied,
                self.upstream_connects,
                self.upstream_reused,
                self.upstream_retries,
                self.upstream_idle,
                self.upstream_bad_gateway,
                self.upstream_gateway_timeout
            )?;
        }
        if self.cache_hits + self.cache_misses + self.cache_expired + self.cache_bypass > 0 {
            write!(
                f,
                ", cache hits {} misses {} revalidated {} expired {} bypass {} evictions {}, stored {} bytes in {} entries",
                self.cache_hits,
                self.cache_misses,
                self.cache_revalidated,
                self.cache_expired,
                self.cache_bypass,
                self.cache_evictions,
                self.cache_stored_bytes,
                self.cache_entries
            )?;
        }
        Ok(())
    }
}
