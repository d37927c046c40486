//! One upstream request per key at a time (nginx's `proxy_cache_lock`): while a response
//! for a key is on its way into the cache, other requests for that key wait here, holding
//! a copy of their request head. When the fill ends they are woken: to look again (it was
//! stored) or to go upstream themselves (it failed, or could not be stored). A waiter whose
//! wait runs out (`LOCK_WAIT`) goes upstream on its own.

use crate::http::response::Persistence;
use std::collections::HashMap;
use std::time::Duration;

/// The longest a request waits for another's fill (nginx's `proxy_cache_lock_timeout`).
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// A request waiting for a fill.
#[derive(Debug)]
pub struct Waiter {
    /// The client connection's slab key and id.
    pub conn: (usize, u64),
    pub head: Vec<u8>,
    pub persistence: Persistence,
    /// When woken: may it wait again (the fill was stored, so look first), or must it go
    /// upstream without the lock.
    pub may_wait: bool,
}

#[derive(Default)]
pub struct Locks {
    held: HashMap<Box<[u8]>, Vec<Waiter>>,
    woken: Vec<Waiter>,
}

impl Locks {
    pub fn is_held(&self, key: &[u8]) -> bool {
        self.held.contains_key(key)
    }

    pub fn acquire(&mut self, key: Box<[u8]>) {
        self.held.entry(key).or_default();
    }

    /// Queues a waiter behind the fill of `key` (which must be held).
    pub fn wait(&mut self, key: &[u8], waiter: Waiter) {
        if let Some(queue) = self.held.get_mut(key) {
            queue.push(waiter);
        }
    }

    /// The fill of `key` ended; `stored`: an entry is there to be found.
    pub fn release(&mut self, key: &[u8], stored: bool) {
        if let Some(queue) = self.held.remove(key) {
            self.woken.extend(queue.into_iter().map(|w| Waiter {
                may_wait: stored,
                ..w
            }));
        }
    }

    /// The next woken waiter, for the worker to resume.
    pub fn next_woken(&mut self) -> Option<Waiter> {
        self.woken.pop()
    }

    /// Takes a connection's waiter out of its queue (its wait ran out).
    pub fn take(&mut self, conn: (usize, u64)) -> Option<Waiter> {
        for queue in self.held.values_mut() {
            if let Some(i) = queue.iter().position(|w| w.conn == conn) {
                return Some(queue.swap_remove(i));
            }
        }
        let i = self.woken.iter().position(|w| w.conn == conn)?;
        Some(self.woken.swap_remove(i))
    }
}
