//! A chained hash table with power-of-two buckets, as Redis's dict, so that SCAN can
//! use Redis's reverse-binary cursor: an entry present for a whole iteration is
//! returned at least once even if the table grows or shrinks between calls.
//!
//! Entries are boxed nodes that carry their own `next` link (`DictEntry`), so a key
//! costs one allocation. Resizing rehashes the whole table at once (Redis does it
//! incrementally); a cursor stays valid across it because both tables are powers of two.

use crate::hash::HashKey;

/// A node stored in a [`Dict`]: it knows its key and holds the chain link.
pub trait DictEntry {
    fn key(&self) -> &[u8];
    fn next(&self) -> Option<&Self>;
    fn next_mut(&mut self) -> &mut Option<Box<Self>>;
}

/// Fewest buckets a non-empty table has (Redis's DICT_HT_INITIAL_SIZE).
const BUCKETS_MIN: usize = 4;

/// While resizing is frozen, a table still grows once it holds this many entries per
/// bucket (Redis's dict_force_resize_ratio), so a frozen table cannot degrade
/// without bound. The owner must be ready for it (see [`Dict::grow_would_force`]).
pub const FROZEN_LOAD_FACTOR_MAX: usize = 5;

pub struct Dict<E: DictEntry> {
    buckets: Vec<Option<Box<E>>>,
    len: usize,
    hasher: HashKey,
    /// Set while a snapshot walks the table by bucket index: no resize, so every
    /// entry keeps its bucket until the walk has passed it.
    resize_frozen: bool,
}

impl<E: DictEntry> Dict<E> {
    pub fn new(hasher: HashKey) -> Self {
        Dict {
            buckets: Vec::new(),
            len: 0,
            hasher,
            resize_frozen: false,
        }
    }

    /// Grows the bucket array to hold `n` entries without further resizing (a
    /// loader that knows the count, as Redis's dictExpand on RESIZEDB).
    pub fn reserve(&mut self, n: usize) {
        let want = n.checked_next_power_of_two().unwrap_or(n).max(BUCKETS_MIN);
        if !self.resize_frozen && want > self.buckets.len() {
            self.resize(want);
        }
    }

    /// The table's hash key.
    pub fn hasher(&self) -> HashKey {
        self.hasher
    }

    /// Stops (or allows again) resizing; see [`FROZEN_LOAD_FACTOR_MAX`].
    pub fn set_resize_frozen(&mut self, frozen: bool) {
        self.resize_frozen = frozen;
    }

    /// Whether inserting one more entry would resize the table although resizing is
    /// frozen (the load factor reached [`FROZEN_LOAD_FACTOR_MAX`]) or because the
    /// table has no buckets yet.
    pub fn grow_would_force(&self) -> bool {
        self.buckets.is_empty() || self.len + 1 > self.buckets.len() * FROZEN_LOAD_FACTOR_MAX
    }

    /// The bucket `key` lives in (or would be inserted into); None while the table
    /// has no buckets.
    pub fn bucket_index(&self, key: &[u8]) -> Option<usize> {
        (!self.buckets.is_empty()).then(|| self.bucket_of(key))
    }

    /// Calls `visit` on every entry of bucket `idx` (nothing past the end).
    pub fn visit_bucket(&self, idx: usize, mut visit: impl FnMut(&E)) {
        let mut node = self.buckets.get(idx).and_then(|b| b.as_deref());
        while let Some(n) = node {
            visit(n);
            node = n.next();
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of buckets (for memory accounting and DEBUG HTSTATS-like output).
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    fn bucket_of(&self, key: &[u8]) -> usize {
        (self.hasher.hash(key) as usize) & (self.buckets.len() - 1)
    }

    pub fn get(&self, key: &[u8]) -> Option<&E> {
        if self.buckets.is_empty() {
            return None;
        }
        let mut node = self.buckets[self.bucket_of(key)].as_deref();
        while let Some(n) = node {
            if n.key() == key {
                return Some(n);
            }
            node = n.next();
        }
        None
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut E> {
        if self.buckets.is_empty() {
            return None;
        }
        let idx = self.bucket_of(key);
        let mut node = self.buckets[idx].as_deref_mut();
        while let Some(n) = node {
            if n.key() == key {
                return Some(n);
            }
            node = n.next_mut().as_deref_mut();
        }
        None
    }

    /// Adds an entry whose key the caller knows is absent.
    pub fn insert_new(&mut self, mut entry: Box<E>) {
        debug_assert!(self.get(entry.key()).is_none(), "duplicate key inserted");
        let grow = if self.resize_frozen {
            self.grow_would_force()
        } else {
            self.len >= self.buckets.len()
        };
        if grow {
            self.resize((self.len + 1).next_power_of_two().max(BUCKETS_MIN));
        }
        let idx = self.bucket_of(entry.key());
        *entry.next_mut() = self.buckets[idx].take();
        self.buckets[idx] = Some(entry);
        self.len += 1;
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Box<E>> {
        if self.buckets.is_empty() {
            return None;
        }
        let idx = self.bucket_of(key);
        let mut slot = &mut self.buckets[idx];
        loop {
            let found = match slot {
                None => return None,
                Some(n) => n.key() == key,
            };
            if found {
                let mut node = slot.take()?;
                *slot = node.next_mut().take();
                self.len -= 1;
                return Some(node);
            }
            slot = match slot {
                Some(n) => n.next_mut(),
                None => return None,
            };
        }
    }

    /// Drops every entry and the bucket array.
    pub fn clear(&mut self) {
        // Unlink chains iteratively: dropping a long chain recursively could overflow
        // the stack.
        for bucket in self.buckets.iter_mut() {
            let mut node = bucket.take();
            while let Some(mut n) = node {
                node = n.next_mut().take();
            }
        }
        self.buckets = Vec::new();
        self.len = 0;
    }

    /// Shrinks the bucket array when it is mostly empty (under 1/8 full, a little
    /// lazier than Redis's 1/10), as Redis's databasesCron does.
    pub fn shrink_if_sparse(&mut self) {
        let buckets = self.buckets.len();
        if !self.resize_frozen && buckets > BUCKETS_MIN && self.len * 8 < buckets {
            let target = self.len.next_power_of_two().max(BUCKETS_MIN);
            self.resize(target);
        }
    }

    fn resize(&mut self, buckets: usize) {
        let old = std::mem::take(&mut self.buckets);
        self.buckets.resize_with(buckets, || None);
        for mut head in old {
            while let Some(mut node) = head {
                head = node.next_mut().take();
                let idx = self.bucket_of(node.key());
                *node.next_mut() = self.buckets[idx].take();
                self.buckets[idx] = Some(node);
            }
        }
    }

    pub fn iter(&self) -> Iter<'_, E> {
        Iter {
            buckets: &self.buckets,
            idx: 0,
            node: None,
        }
    }

    /// Visits the bucket chosen by `cursor` and returns the next cursor (0 when the
    /// iteration is complete), using Redis's reverse-binary increment so that resizes
    /// between calls neither skip nor lose entries present throughout.
    pub fn scan(&self, cursor: u64, mut visit: impl FnMut(&E)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = (self.buckets.len() - 1) as u64;
        let mut node = self.buckets[(cursor & mask) as usize].as_deref();
        while let Some(n) = node {
            visit(n);
            node = n.next();
        }
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// A random entry: a random non-empty bucket, then a random node of its chain,
    /// as Redis's dictGetRandomKey. `pick(n)` returns a uniform number below `n`.
    pub fn random_entry(&self, mut pick: impl FnMut(u64) -> u64) -> Option<&E> {
        if self.len == 0 {
            return None;
        }
        let buckets = self.buckets.len() as u64;
        // Load factor is at least 1/8 after shrinking, so this ends quickly; the scan
        // fallback keeps it bounded regardless.
        let mut head = None;
        for _ in 0..1000 {
            if let Some(n) = self.buckets[pick(buckets) as usize].as_deref() {
                head = Some(n);
                break;
            }
        }
        let head = match head {
            Some(h) => h,
            None => self.buckets.iter().find_map(|b| b.as_deref())?,
        };
        let mut chain_len = 0;
        let mut node = Some(head);
        while let Some(n) = node {
            chain_len += 1;
            node = n.next();
        }
        let mut n = head;
        for _ in 0..pick(chain_len) {
            n = n.next()?;
        }
        Some(n)
    }
}

impl<E: DictEntry> Drop for Dict<E> {
    fn drop(&mut self) {
        self.clear();
    }
}

pub struct Iter<'a, E: DictEntry> {
    buckets: &'a [Option<Box<E>>],
    idx: usize,
    node: Option<&'a E>,
}

impl<'a, E: DictEntry> Iterator for Iter<'a, E> {
    type Item = &'a E;
    fn next(&mut self) -> Option<&'a E> {
        loop {
            if let Some(n) = self.node {
                self.node = n.next();
                return Some(n);
            }
            let bucket = self.buckets.get(self.idx)?;
            self.idx += 1;
            self.node = bucket.as_deref();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    struct Node {
        key: Vec<u8>,
        next: Option<Box<Node>>,
    }

    impl DictEntry for Node {
        fn key(&self) -> &[u8] {
            &self.key
        }
        fn next(&self) -> Option<&Self> {
            self.next.as_deref()
        }
        fn next_mut(&mut self) -> &mut Option<Box<Self>> {
            &mut self.next
        }
    }

    fn node(key: String) -> Box<Node> {
        Box::new(Node {
            key: key.into_bytes(),
            next: None,
        })
    }

    #[test]
    fn insert_get_remove_round_trip() {
        let mut d = Dict::new(HashKey::new(1, 2));
        for i in 0..1000 {
            d.insert_new(node(format!("k{i}")));
        }
        assert_eq!(d.len(), 1000);
        assert!(d.get(b"k999").is_some());
        assert!(d.remove(b"k5").is_some());
        assert!(d.remove(b"k5").is_none());
        assert!(d.get(b"k5").is_none());
        assert_eq!(d.len(), 999);
        assert_eq!(d.iter().count(), 999);
    }

    #[test]
    fn scan_returns_every_key_present_throughout_despite_resizes() {
        let mut d = Dict::new(HashKey::new(3, 4));
        for i in 0..100 {
            d.insert_new(node(format!("stay{i}")));
        }
        let mut seen = BTreeSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            cursor = d.scan(cursor, |n| {
                seen.insert(n.key.clone());
            });
            // Grow hard, then shrink, between calls.
            round += 1;
            if round == 3 {
                for i in 0..5000 {
                    d.insert_new(node(format!("tmp{i}")));
                }
            }
            if round == 20 {
                for i in 0..5000 {
                    d.remove(format!("tmp{i}").as_bytes());
                }
                d.shrink_if_sparse();
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..100 {
            assert!(
                seen.contains(format!("stay{i}").as_bytes()),
                "stay{i} missed"
            );
        }
    }

    #[test]
    fn random_entry_finds_an_existing_key() {
        let mut d = Dict::new(HashKey::new(5, 6));
        d.insert_new(node("only".into()));
        let mut state = 7u64;
        let picked = d.random_entry(|n| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            (state >> 33) % n
        });
        assert_eq!(picked.map(|n| n.key.as_slice()), Some(&b"only"[..]));
    }
}
