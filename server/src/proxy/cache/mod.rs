//! The response cache (`--cache-size`): proxied GET and HEAD responses kept in memory, one
//! cache per worker so that a lookup takes no lock on the reactor path (the size is split
//! evenly across workers; a response may be stored once per worker).
//!
//! - [`policy`]: what RFC 9111 allows (directives, freshness, age).
//! - [`entry`]: a stored response, how it is served and refreshed.
//! - [`store`]: the entries by key and `Vary`, in LRU order, within the budget.
//! - [`fill`]: a response on its way in; [`lock`]: one upstream request per key.
//!
//! Every proxied response carries `X-Cache` (see [`label`]). The key is the proxy route,
//! the `Host` and the request target.

mod entry;
mod fill;
mod lock;
mod policy;
mod store;

pub use fill::Fill;
pub use lock::{LOCK_WAIT, Waiter};

use crate::files::preconditions::weak_match;
use crate::http::response::Persistence;
use crate::stats::WorkerCounters;
use entry::{Entry, Serve};
use http_wire::framing::Framing;
use http_wire::request::Head;
use lock::Locks;
use policy::RequestFacts;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::Store;

/// The `X-Cache` values.
pub mod label {
    /// Served from the cache.
    pub const HIT: &[u8] = b"HIT";
    /// Nothing stored: from the upstream (and stored if it may be).
    pub const MISS: &[u8] = b"MISS";
    /// A stale entry, confirmed by the upstream (`304`), served.
    pub const REVALIDATED: &[u8] = b"REVALIDATED";
    /// A stale entry replaced by the upstream's new response.
    pub const EXPIRED: &[u8] = b"EXPIRED";
    /// Not for the cache: a method other than GET/HEAD, a body, `Range`, request
    /// `no-store`.
    pub const BYPASS: &[u8] = b"BYPASS";
}

/// No object larger than this share of a worker's cache is stored.
const MAX_OBJECT_SHARE: usize = 8;

/// A request the cache is asked about.
pub struct Ask<'a, 'h> {
    pub route: usize,
    pub head: &'a Head<'h>,
    pub head_bytes: &'a [u8],
    pub persistence: Persistence,
    /// The client connection (slab key, id), should the request wait for another's fill.
    pub conn: (usize, u64),
    /// False after a wait that gave nothing: go upstream without waiting again.
    pub may_wait: bool,
    pub now: Instant,
}

/// What became of it.
pub enum Consult {
    /// Answered from the cache: the response is in the output buffer.
    Hit,
    /// Another request for the key is being filled: this one waits for it.
    Wait,
    /// Goes upstream, with what the cache makes of it.
    Forward(Box<Fill>),
}

pub struct Cache {
    store: Store,
    locks: Locks,
    max_object: usize,
    /// `--cache-valid`: the freshness of a response that gives none.
    heuristic: Option<Duration>,
    stats: Arc<WorkerCounters>,
    /// The key of the request being looked up (reused: no allocation for a hit).
    key: Vec<u8>,
    serial: u64,
}

impl Cache {
    pub fn new(capacity: usize, heuristic: Option<Duration>, stats: Arc<WorkerCounters>) -> Cache {
        Cache {
            heuristic,
            store: Store::new(capacity),
            locks: Locks::default(),
            max_object: capacity / MAX_OBJECT_SHARE,
            stats,
            key: Vec::new(),
            serial: 0,
        }
    }

    /// Looks a request up: a fresh entry is written to `out`.
    pub fn consult(&mut self, ask: Ask<'_, '_>, out: &mut Vec<u8>) -> Consult {
        let h = ask.head;
        let get = h.method == "GET";
        let req = RequestFacts::of(ask.head_bytes);
        self.key.clear();
        self.key.extend_from_slice(&(ask.route as u32).to_le_bytes());
        self.key.extend_from_slice(req.host);
        self.key.push(b' ');
        self.key.extend_from_slice(h.target.as_bytes());
        if !matches!(h.method, "GET" | "HEAD" | "OPTIONS" | "TRACE") {
            // An unsafe method: a success drops what is stored for its URI (RFC 9111 §4.4).
            let mut fill = self.bypass(ask.now);
            fill.invalidates = true;
            fill.key = self.key.as_slice().into();
            return Consult::Forward(fill);
        }
        if !(get || h.is_head()) || h.framing != Framing::None || h.conditions.range.is_some() || req.no_store
        {
            return Consult::Forward(self.bypass(ask.now));
        }
        let Some(id) = self.store.find(&self.key, ask.head_bytes) else {
            if !get {
                // A HEAD response has no body to store; the GET that fills comes later.
                self.stats.cache_misses.add(1);
                return Consult::Forward(Box::new(Fill::new(label::MISS, Box::default(), ask.now)));
            }
            return self.fill(ask, label::MISS, None);
        };
        let Some(e) = self.store.get(id) else {
            return Consult::Forward(self.bypass(ask.now));
        };
        let acceptable = !req.no_cache
            && req
                .max_age
                .is_none_or(|max| e.age(ask.now) <= Duration::from_secs(max));
        if e.is_fresh(ask.now) && acceptable {
            let etag = e.stored.facts.etag.as_deref();
            let not_modified = h
                .conditions
                .if_none_match
                .zip(etag)
                .is_some_and(|(list, tag)| weak_match(list, tag));
            let serve = Serve {
                age: e.age(ask.now),
                label: label::HIT,
                persistence: ask.persistence,
                head_only: h.is_head(),
                not_modified,
            };
            entry::write_response(out, &e.stored, serve);
            self.store.touch(id);
            self.stats.cache_hits.add(1);
            return Consult::Hit;
        }
        if !get {
            self.stats.cache_expired.add(1);
            return Consult::Forward(Box::new(Fill::new(label::EXPIRED, Box::default(), ask.now)));
        }
        if !e.stored.facts.has_validator() {
            return self.fill(ask, label::EXPIRED, None);
        }
        let revalidate = (id, e.serial, e.stored.clone());
        self.fill(ask, label::EXPIRED, Some(revalidate))
    }

    /// The request goes upstream for the cache: it waits instead if the key is being filled
    /// and it may wait; else it fills (holding the key's lock if no one does).
    fn fill(
        &mut self,
        ask: Ask<'_, '_>,
        label: &'static [u8],
        revalidate: Option<(usize, u64, Arc<entry::Stored>)>,
    ) -> Consult {
        let held = self.locks.is_held(&self.key);
        if held && ask.may_wait {
            let waiter = Waiter {
                conn: ask.conn,
                head: ask.head_bytes.to_vec(),
                persistence: ask.persistence,
                may_wait: true,
            };
            self.locks.wait(&self.key, waiter);
            return Consult::Wait;
        }
        let key: Box<[u8]> = self.key.as_slice().into();
        if !held {
            self.locks.acquire(key.clone());
        }
        // A revalidation is counted by how it ends (revalidated, or expired).
        match (&revalidate, label == label::MISS) {
            (Some(_), _) => {}
            (None, true) => self.stats.cache_misses.add(1),
            (None, false) => self.stats.cache_expired.add(1),
        }
        let mut fill = Fill::new(label, key, ask.now);
        fill.locked = !held;
        fill.request = ask.head_bytes.to_vec();
        fill.authorized = ask.head.authorization.is_some();
        if let Some((_, _, stored)) = &revalidate {
            let facts = &stored.facts;
            if let Some(etag) = &facts.etag {
                http_wire::write::field(&mut fill.conditionals, b"If-None-Match", etag);
            }
            if let Some(date) = &facts.last_modified {
                http_wire::write::field(&mut fill.conditionals, b"If-Modified-Since", date);
            }
        }
        fill.revalidating = revalidate;
        Consult::Forward(Box::new(fill))
    }

    fn bypass(&mut self, now: Instant) -> Box<Fill> {
        self.stats.cache_bypass.add(1);
        Box::new(Fill::new(label::BYPASS, Box::default(), now))
    }

    /// Stores an entry no larger than the object limit, counting what it evicted; whether
    /// it was stored.
    fn insert(&mut self, entry: Entry) -> bool {
        if entry.size() > self.max_object {
            return false;
        }
        let evicted = self.store.insert(entry);
        self.stats.cache_evictions.add(evicted as u64);
        true
    }

    fn sync_gauges(&self) {
        self.stats.cache_stored_bytes.set(self.store.used() as u64);
        self.stats.cache_entries.set(self.store.len() as u64);
    }

    /// Adds `X-Cache` to a relayed head just written at the end of `out` (its empty line
    /// last).
    pub fn relayed_head(out: &mut Vec<u8>, fill: &Fill) {
        out.truncate(out.len() - 2);
        out.extend_from_slice(b"X-Cache: ");
        out.extend_from_slice(fill.label);
        out.extend_from_slice(b"\r\n\r\n");
    }

    /// The next request woken from a wait, for the worker to resume.
    pub fn next_woken(&mut self) -> Option<Waiter> {
        self.locks.next_woken()
    }

    /// A connection's wait ran out: its request, to go upstream on its own.
    pub fn stop_waiting(&mut self, conn: (usize, u64)) -> Option<Waiter> {
        self.locks.take(conn)
    }
}
