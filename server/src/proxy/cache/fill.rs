//! A proxied response on its way into the cache. At its head the cache decides whether it
//! may be stored; its body is copied as it streams to the client, up to the object limit
//! (past it the copy is dropped and the client still gets everything); when it is complete
//! it becomes an entry. A `304` to a revalidation ends it at the head: the stored entry is
//! refreshed and served in its place.

use super::entry::{self, Entry, Serve, Stored, VaryField};
use super::policy::ResponseFacts;
use super::store::vary_values;
use super::{Cache, label};
use crate::proxy::relay::ClientSide;
use http_wire::response::ResponseHead;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// What a proxied request means to the cache.
#[derive(Debug)]
pub struct Fill {
    /// The `X-Cache` value of the relayed response.
    pub(super) label: &'static [u8],
    /// The primary key, and whether this fill holds its lock.
    pub(super) key: Box<[u8]>,
    pub(super) locked: bool,
    /// A copy of the request head when the response may be stored (its `Vary` values are
    /// taken once the response names the fields), else empty.
    pub(super) request: Vec<u8>,
    pub(super) authorized: bool,
    pub(super) sent_at: Instant,
    /// The stale entry being revalidated (its slot and serial, and what it serves).
    pub(super) revalidating: Option<(usize, u64, Arc<Stored>)>,
    /// An unsafe request: a success drops what is stored under the key.
    pub(super) invalidates: bool,
    capture: Option<Capture>,
    /// Conditional fields for the upstream request (`If-None-Match`, `If-Modified-Since`).
    pub conditionals: Vec<u8>,
}

#[derive(Debug)]
struct Capture {
    head: Vec<u8>,
    line_len: usize,
    status: u16,
    facts: ResponseFacts,
    vary: Vec<VaryField>,
    body: Vec<u8>,
    received: Instant,
    initial_age: std::time::Duration,
    lifetime: std::time::Duration,
}

impl Fill {
    pub(super) fn new(label: &'static [u8], key: Box<[u8]>, now: Instant) -> Fill {
        Fill {
            label,
            key,
            locked: false,
            request: Vec::new(),
            authorized: false,
            sent_at: now,
            revalidating: None,
            invalidates: false,
            capture: None,
            conditionals: Vec::new(),
        }
    }
}

impl Fill {
    /// The fields that replace the client's conditional ones upstream, when the response
    /// is wanted whole for the cache; `None`: the request goes as the client sent it.
    pub fn upstream_fields(&self) -> Option<&[u8]> {
        (!self.request.is_empty()).then_some(self.conditionals.as_slice())
    }
}

impl Cache {
    /// The upstream's response head is here (`up` its bytes). `true`: the cache answered
    /// the client instead (a `304` refreshed the entry): relay nothing. Else the relayed
    /// head, written next, gets the `X-Cache` field ([`Cache::relayed_head`]).
    pub fn on_head(
        &mut self,
        fill: &mut Fill,
        up: &[u8],
        head: &ResponseHead,
        client: ClientSide,
        out: &mut Vec<u8>,
        now: Instant,
    ) -> bool {
        let received = SystemTime::now();
        if fill.invalidates && head.status < 400 {
            self.store.remove_key(&fill.key);
            self.sync_gauges();
        }
        let mut replaced = None;
        if let Some((id, serial, stored)) = fill.revalidating.take() {
            if head.status == 304 {
                self.refresh(
                    fill,
                    (id, serial, &stored),
                    up,
                    head,
                    client,
                    out,
                    (now, received),
                );
                return true;
            }
            self.stats.cache_expired.add(1);
            fill.label = label::EXPIRED;
            replaced = Some((id, serial));
        }
        if !fill.request.is_empty() {
            let facts = ResponseFacts::of(up);
            let fits = match head.framing {
                http_wire::framing::Framing::Length(n) => n <= self.max_object as u64,
                _ => true,
            };
            if fits
                && facts
                    .refusal(head.status, fill.authorized, received, self.heuristic)
                    .is_none()
            {
                let lifetime = facts.lifetime(received, self.heuristic).unwrap_or_default();
                let initial_age = facts.initial_age(received, now.saturating_duration_since(fill.sent_at));
                let vary = vary_values(facts.vary.iter().map(|n| &**n), &fill.request);
                let (head_bytes, line_len) = entry::stored_head(up, head.minor_version);
                fill.capture = Some(Capture {
                    head: head_bytes,
                    line_len,
                    status: head.status,
                    facts,
                    vary,
                    body: Vec::new(),
                    received: now,
                    initial_age,
                    lifetime,
                });
            }
        }
        if fill.capture.is_none() {
            // A stale entry whose new response may not be stored goes: it says no more.
            if let Some((id, serial)) = replaced {
                if self.store.get(id).is_some_and(|e| e.serial == serial) {
                    self.store.remove(id);
                    self.sync_gauges();
                }
            }
            self.unlock(fill, false);
        }
        false
    }

    /// A `304` to a revalidation: the entry takes the new fields (and a new clock), and the
    /// client gets the whole refreshed response.
    #[allow(clippy::too_many_arguments)]
    fn refresh(
        &mut self,
        fill: &mut Fill,
        (id, serial, old): (usize, u64, &Stored),
        up: &[u8],
        head: &ResponseHead,
        client: ClientSide,
        out: &mut Vec<u8>,
        (now, received): (Instant, SystemTime),
    ) {
        let merged = entry::refreshed_head(old, up, head.minor_version);
        let mut complete = merged.clone();
        complete.extend_from_slice(b"\r\n");
        let facts = ResponseFacts::of(&complete);
        let initial_age = facts.initial_age(received, now.saturating_duration_since(fill.sent_at));
        let lifetime = facts.lifetime(received, self.heuristic).unwrap_or_default();
        let storable = facts
            .refusal(old.status, fill.authorized, received, self.heuristic)
            .is_none();
        let stored = Arc::new(Stored {
            head: merged,
            line_len: old.line_len,
            status: old.status,
            body: old.body.clone(),
            facts,
        });
        let current = self.store.get(id).filter(|e| e.serial == serial);
        let vary = current.map(|e| e.vary.clone());
        if current.is_some() {
            self.store.remove(id);
        }
        if let (true, Some(vary)) = (storable, vary) {
            self.serial += 1;
            let entry = Entry {
                key: fill.key.clone(),
                vary,
                stored: stored.clone(),
                lifetime,
                initial_age,
                stored_at: now,
                serial: self.serial,
            };
            self.insert(entry);
        }
        self.sync_gauges();
        let serve = Serve {
            age: initial_age,
            label: label::REVALIDATED,
            persistence: client.persistence,
            head_only: client.head_request,
            not_modified: false,
        };
        entry::write_response(out, &stored, serve);
        self.stats.cache_revalidated.add(1);
        self.unlock(fill, true);
    }

    /// A piece of the decoded body went to the client: a copy goes into the entry, unless
    /// that makes it too large (then the entry is given up and waiters go upstream).
    pub fn on_body(&mut self, fill: &mut Fill, data: &[u8]) {
        let Some(capture) = &mut fill.capture else {
            return;
        };
        if capture.body.len() + data.len() + capture.head.len() > self.max_object {
            fill.capture = None;
            self.unlock(fill, false);
            return;
        }
        capture.body.extend_from_slice(data);
    }

    /// The whole response was relayed: store it, if it is being kept.
    pub fn complete(&mut self, mut fill: Box<Fill>) {
        let Some(c) = fill.capture.take() else {
            self.unlock(&mut fill, false);
            return;
        };
        self.serial += 1;
        let entry = Entry {
            key: std::mem::take(&mut fill.key),
            vary: c.vary,
            stored: Arc::new(Stored {
                head: c.head,
                line_len: c.line_len,
                status: c.status,
                body: Arc::new(c.body),
                facts: c.facts,
            }),
            lifetime: c.lifetime,
            initial_age: c.initial_age,
            stored_at: c.received,
            serial: self.serial,
        };
        let key = entry.key.clone();
        let stored = self.insert(entry);
        self.sync_gauges();
        fill.key = key;
        self.unlock(&mut fill, stored);
    }

    /// The exchange failed or the client went away before the response was complete.
    pub fn abandon(&mut self, mut fill: Box<Fill>) {
        if fill.revalidating.is_some() {
            self.stats.cache_expired.add(1);
        }
        self.unlock(&mut fill, false);
    }

    fn unlock(&mut self, fill: &mut Fill, stored: bool) {
        if fill.locked {
            fill.locked = false;
            self.locks.release(&fill.key, stored);
        }
    }
}
