//! The entries of one worker's cache: found by primary key and then by the request's values
//! of the fields their `Vary` names, kept in least-recently-used order, and evicted from
//! the cold end when a new entry would take the total past the budget.

use super::entry::{Entry, VaryField};
use http_wire::fields;
use slab::Slab;
use std::collections::HashMap;

const NIL: usize = usize::MAX;

struct Node {
    entry: Entry,
    size: usize,
    /// Towards the most and the least recently used.
    newer: usize,
    older: usize,
}

pub struct Store {
    nodes: Slab<Node>,
    /// Primary key → the entries (variants) stored under it.
    index: HashMap<Box<[u8]>, Vec<usize>>,
    newest: usize,
    oldest: usize,
    used: usize,
    capacity: usize,
}

impl Store {
    pub fn new(capacity: usize) -> Store {
        Store {
            nodes: Slab::new(),
            index: HashMap::new(),
            newest: NIL,
            oldest: NIL,
            used: 0,
            capacity,
        }
    }

    pub fn used(&self) -> usize {
        self.used
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn get(&self, id: usize) -> Option<&Entry> {
        self.nodes.get(id).map(|n| &n.entry)
    }

    /// The entry stored under `key` whose secondary key the request (`req_head`) matches.
    pub fn find(&self, key: &[u8], req_head: &[u8]) -> Option<usize> {
        let ids = self.index.get(key)?;
        ids.iter()
            .copied()
            .find(|&id| vary_matches(&self.nodes[id].entry.vary, req_head))
    }

    /// Marks an entry just used.
    pub fn touch(&mut self, id: usize) {
        if self.newest != id {
            self.unlink(id);
            self.link_newest(id);
        }
    }

    /// Stores `entry` in place of any with the same keys; returns how many others were
    /// evicted to make room. `size` must be within the capacity.
    pub fn insert(&mut self, entry: Entry) -> usize {
        let size = entry.size();
        let same = self.index.get(&entry.key).and_then(|ids| {
            ids.iter()
                .copied()
                .find(|&id| self.nodes[id].entry.vary == entry.vary)
        });
        if let Some(id) = same {
            self.remove(id);
        }
        let mut evicted = 0;
        while self.used + size > self.capacity && self.oldest != NIL {
            self.remove(self.oldest);
            evicted += 1;
        }
        let key = entry.key.clone();
        let id = self.nodes.insert(Node {
            entry,
            size,
            newer: NIL,
            older: NIL,
        });
        self.link_newest(id);
        self.used += size;
        self.index.entry(key).or_default().push(id);
        evicted
    }

    pub fn remove(&mut self, id: usize) {
        self.unlink(id);
        let node = self.nodes.remove(id);
        self.used -= node.size;
        if let Some(ids) = self.index.get_mut(&node.entry.key) {
            ids.retain(|&i| i != id);
            if ids.is_empty() {
                self.index.remove(&node.entry.key);
            }
        }
    }

    /// Removes every entry stored under `key`.
    pub fn remove_key(&mut self, key: &[u8]) {
        while let Some(&id) = self.index.get(key).and_then(|ids| ids.first()) {
            self.remove(id);
        }
    }

    fn unlink(&mut self, id: usize) {
        let (newer, older) = (self.nodes[id].newer, self.nodes[id].older);
        match newer {
            NIL => self.newest = older,
            n => self.nodes[n].older = older,
        }
        match older {
            NIL => self.oldest = newer,
            o => self.nodes[o].newer = newer,
        }
    }

    fn link_newest(&mut self, id: usize) {
        self.nodes[id].newer = NIL;
        self.nodes[id].older = self.newest;
        match self.newest {
            NIL => self.oldest = id,
            n => self.nodes[n].newer = id,
        }
        self.newest = id;
    }
}

/// Whether a request has the same values for the `Vary` fields as the stored one.
fn vary_matches(vary: &[VaryField], req_head: &[u8]) -> bool {
    vary.is_empty()
        || vary_values(vary.iter().map(|(n, _)| &**n), req_head)
            .iter()
            .eq(vary.iter())
}

/// The request's value of each named field (lowercase names): several lines of one field
/// joined with ", ", an absent field empty.
pub fn vary_values<'n>(names: impl Iterator<Item = &'n [u8]>, req_head: &[u8]) -> Vec<VaryField> {
    let mut values: Vec<(Box<[u8]>, Vec<u8>)> = names.map(|n| (n.into(), Vec::new())).collect();
    fields::each(req_head, |name, value| {
        for (_, v) in values.iter_mut().filter(|(n, _)| name.eq_ignore_ascii_case(n)) {
            if !v.is_empty() {
                v.extend_from_slice(b", ");
            }
            v.extend_from_slice(value);
        }
    });
    values.into_iter().map(|(n, v)| (n, v.into())).collect()
}

#[cfg(test)]
mod tests {
    use super::super::entry::{OVERHEAD, Stored};
    use super::*;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    fn entry(key: &str, vary: &[(&str, &str)], body: usize) -> Entry {
        Entry {
            key: key.as_bytes().into(),
            vary: vary
                .iter()
                .map(|(n, v)| (n.as_bytes().into(), v.as_bytes().into()))
                .collect(),
            stored: Arc::new(Stored {
                head: Vec::new(),
                line_len: 0,
                status: 200,
                body: Arc::new(vec![0; body]),
                facts: Default::default(),
            }),
            lifetime: Duration::from_secs(60),
            initial_age: Duration::ZERO,
            stored_at: Instant::now(),
            serial: 0,
        }
    }

    #[test]
    fn lru_order_and_variants() {
        let unit = 100 + OVERHEAD + 1;
        let mut s = Store::new(3 * unit);
        for k in ["a", "b", "c"] {
            assert_eq!(s.insert(entry(k, &[], 100)), 0);
        }
        let req = b"GET / HTTP/1.1\r\nAccept-Language: fr\r\n\r\n";
        s.touch(s.find(b"a", req).unwrap());
        assert_eq!(s.insert(entry("d", &[], 100)), 1);
        assert!(s.find(b"b", req).is_none(), "the least recently used goes first");
        assert!(s.find(b"a", req).is_some() && s.find(b"c", req).is_some());
        assert_eq!((s.len(), s.used()), (3, 3 * unit));
        s.remove(s.find(b"c", req).unwrap());
        s.remove(s.find(b"d", req).unwrap());
        s.insert(entry("v", &[("accept-language", "en")], 80));
        s.insert(entry("v", &[("accept-language", "fr")], 80));
        let fr = s.find(b"v", req).unwrap();
        assert_eq!(&*s.get(fr).unwrap().vary[0].1, b"fr");
        let none = b"GET / HTTP/1.1\r\n\r\n";
        assert!(s.find(b"v", none).is_none());
        // The same keys again replace, they do not add.
        s.insert(entry("v", &[("accept-language", "fr")], 80));
        assert_eq!(s.len(), 3);
    }
}
