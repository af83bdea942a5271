//! Hashes: a listpack while small, a hash table beyond hash-max-listpack-entries/value.
//!
//! As in Redis 7.0, a hash starts as a listpack of alternating fields and values and
//! becomes a hash table once it holds more than `hash-max-listpack-entries` fields or
//! is given a field or value longer than `hash-max-listpack-value` bytes. It never
//! converts back. A table entry is one boxed node holding the field, the value and
//! the chain link, so a field costs one allocation while both strings are short.

use std::fmt;

use crate::dict::{Dict, DictEntry};
use crate::hash::HashKey;
use crate::listpack::{Listpack, LpValue};
use crate::util::num::{i64_digits, parse_i64};
use crate::util::smallbytes::SmallBytes;

/// A field or value as stored: the listpack keeps canonical integers as integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> Item<'a> {
    /// The item's bytes, formatting an integer into `scratch`.
    pub fn bytes<'b>(&self, scratch: &'b mut [u8; 20]) -> &'b [u8]
    where
        'a: 'b,
    {
        match *self {
            Item::Int(n) => i64_digits(n, scratch),
            Item::Str(s) => s,
        }
    }

    /// Length in bytes of the string form.
    pub fn len(&self) -> usize {
        self.bytes(&mut [0u8; 20]).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The item as an integer, as Redis's string2ll reads a stored value.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Item::Int(n) => Some(n),
            Item::Str(s) => parse_i64(s),
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.bytes(&mut [0u8; 20]).to_vec()
    }
}

/// What decides the encoding, read from the configuration at each write.
#[derive(Debug, Clone, Copy)]
pub struct HashLimits {
    /// `hash-max-listpack-entries`: most fields a listpack hash may hold.
    pub entries_max: u64,
    /// `hash-max-listpack-value`: longest field or value a listpack hash may hold.
    pub value_bytes_max: u64,
    /// Key of the table's hasher, for when the hash converts.
    pub hasher: HashKey,
}

pub struct Hash {
    repr: Repr,
}

enum Repr {
    Listpack(Small),
    Table(Box<Table>),
}

struct Table {
    dict: Dict<FieldNode>,
    hasher: HashKey,
}

/// One field of a table-encoded hash.
pub struct FieldNode {
    next: Option<Box<FieldNode>>,
    field: SmallBytes,
    value: SmallBytes,
}

impl DictEntry for FieldNode {
    fn key(&self) -> &[u8] {
        &self.field
    }
    fn next(&self) -> Option<&Self> {
        self.next.as_deref()
    }
    fn next_mut(&mut self) -> &mut Option<Box<Self>> {
        &mut self.next
    }
}

impl Default for Hash {
    fn default() -> Self {
        Hash::new()
    }
}

impl Hash {
    /// An empty hash, listpack-encoded.
    pub fn new() -> Self {
        Hash {
            repr: Repr::Listpack(Small::new()),
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp.pairs(),
            Repr::Table(t) => t.dict.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `OBJECT ENCODING`'s answer.
    pub fn encoding_name(&self) -> &'static str {
        match &self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    pub fn is_listpack(&self) -> bool {
        matches!(self.repr, Repr::Listpack(_))
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<Item<'_>> {
        match &self.repr {
            Repr::Listpack(lp) => lp.get(field),
            Repr::Table(t) => t.dict.get(field).map(|n| Item::Str(&n.value)),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Sets `field` to `value`; true if the field is new. Converts to a table first if
    /// either string is too long for a listpack, and after if the hash has too many
    /// fields, as Redis's hashTypeSet does.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &HashLimits) -> bool {
        if let Repr::Listpack(lp) = &self.repr {
            let too_long = |s: &[u8]| s.len() as u64 > limits.value_bytes_max;
            let unsafe_size = !lp.safe_to_add(field.len() + value.len());
            if too_long(field) || too_long(value) || unsafe_size {
                self.convert(limits.hasher);
            }
        }
        match &mut self.repr {
            Repr::Listpack(lp) => {
                let added = lp.set(field, value);
                if lp.pairs() as u64 > limits.entries_max {
                    self.convert(limits.hasher);
                }
                added
            }
            Repr::Table(t) => match t.dict.get_mut(field) {
                Some(node) => {
                    node.value = SmallBytes::new(value);
                    false
                }
                None => {
                    t.dict.insert_new(Box::new(FieldNode {
                        next: None,
                        field: SmallBytes::new(field),
                        value: SmallBytes::new(value),
                    }));
                    true
                }
            },
        }
    }

    /// Deletes `field`; true if it was there. A table shrinks when it becomes sparse,
    /// as Redis's hashTypeDelete resizes.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(lp) => lp.remove(field),
            Repr::Table(t) => {
                let removed = t.dict.remove(field).is_some();
                if removed {
                    t.dict.shrink_if_sparse();
                }
                removed
            }
        }
    }

    /// Every (field, value) pair: insertion order for a listpack, table order otherwise.
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Listpack(lp) => Iter::Listpack(lp.iter()),
            Repr::Table(t) => Iter::Table(t.dict.iter()),
        }
    }

    /// A uniformly chosen pair (a random bucket then a random chain node for a table,
    /// as Redis's dictGetFairRandomKey approximates). `pick(n)` draws below `n`.
    pub fn random_pair(&self, pick: impl FnMut(u64) -> u64) -> Option<(Item<'_>, Item<'_>)> {
        let mut pick = pick;
        match &self.repr {
            Repr::Listpack(lp) => {
                let n = lp.pairs();
                if n == 0 {
                    return None;
                }
                lp.pair_at(pick(n as u64) as usize)
            }
            Repr::Table(t) => t
                .dict
                .random_entry(pick)
                .map(|n| (Item::Str(&n.field), Item::Str(&n.value))),
        }
    }

    /// One SCAN step over a table (see [`Dict::scan`]); a listpack visits everything
    /// and returns 0, as Redis returns a compact encoding whole.
    pub fn scan(&self, cursor: u64, mut visit: impl FnMut(Item<'_>, Item<'_>)) -> u64 {
        match &self.repr {
            Repr::Listpack(lp) => {
                for (f, v) in lp.iter() {
                    visit(f, v);
                }
                0
            }
            Repr::Table(t) => t
                .dict
                .scan(cursor, |n| visit(Item::Str(&n.field), Item::Str(&n.value))),
        }
    }

    /// Listpack to table (the only direction Redis converts).
    fn convert(&mut self, hasher: HashKey) {
        let Repr::Listpack(lp) = &self.repr else {
            return;
        };
        let mut dict = Dict::new(hasher);
        let mut scratch = ([0u8; 20], [0u8; 20]);
        for (f, v) in lp.iter() {
            dict.insert_new(Box::new(FieldNode {
                next: None,
                field: SmallBytes::new(f.bytes(&mut scratch.0)),
                value: SmallBytes::new(v.bytes(&mut scratch.1)),
            }));
        }
        self.repr = Repr::Table(Box::new(Table { dict, hasher }));
    }
}

impl Clone for Hash {
    fn clone(&self) -> Self {
        let repr = match &self.repr {
            Repr::Listpack(lp) => Repr::Listpack(lp.clone()),
            Repr::Table(t) => {
                let mut dict = Dict::new(t.hasher);
                for n in t.dict.iter() {
                    dict.insert_new(Box::new(FieldNode {
                        next: None,
                        field: n.field.clone(),
                        value: n.value.clone(),
                    }));
                }
                Repr::Table(Box::new(Table {
                    dict,
                    hasher: t.hasher,
                }))
            }
        };
        Hash { repr }
    }
}

/// Equal when both hold the same pairs (whatever the encoding or order).
impl PartialEq for Hash {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.iter().all(|(f, v)| {
                let mut a = [0u8; 20];
                let mut b = [0u8; 20];
                other
                    .get(f.bytes(&mut a))
                    .is_some_and(|o| o.bytes(&mut b) == v.bytes(&mut a))
            })
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (k, v) in self.iter() {
            map.entry(
                &String::from_utf8_lossy(&k.to_vec()),
                &String::from_utf8_lossy(&v.to_vec()),
            );
        }
        map.finish()
    }
}

pub enum Iter<'a> {
    Listpack(SmallIter<'a>),
    Table(crate::dict::Iter<'a, FieldNode>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (Item<'a>, Item<'a>);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Listpack(it) => it.next(),
            Iter::Table(it) => it
                .next()
                .map(|n| (Item::Str(&n.field), Item::Str(&n.value))),
        }
    }
}

// ---------------------------------------------------------------------------
// The small encoding
// ---------------------------------------------------------------------------

/// A listpack of alternating fields and values, in insertion order, byte for byte
/// what Redis keeps (so RDB can store it verbatim).
#[derive(Clone)]
struct Small {
    lp: Listpack,
}

fn item(v: LpValue<'_>) -> Item<'_> {
    match v {
        LpValue::Int(n) => Item::Int(n),
        LpValue::Str(s) => Item::Str(s),
    }
}

pub struct SmallIter<'a> {
    inner: crate::listpack::Iter<'a>,
}

impl<'a> Iterator for SmallIter<'a> {
    type Item = (Item<'a>, Item<'a>);
    fn next(&mut self) -> Option<Self::Item> {
        let field = self.inner.next()?;
        let value = self.inner.next()?;
        Some((item(field), item(value)))
    }
}

impl Small {
    fn new() -> Self {
        Small {
            lp: Listpack::new(),
        }
    }

    fn pairs(&self) -> usize {
        self.lp.len() / 2
    }

    fn safe_to_add(&self, bytes: usize) -> bool {
        self.lp.safe_to_add(bytes)
    }

    /// Offset of `field`'s entry: every other entry is a field.
    fn find(&self, field: &[u8]) -> Option<usize> {
        let first = self.lp.first()?;
        self.lp.find(first, field, 1)
    }

    fn get(&self, field: &[u8]) -> Option<Item<'_>> {
        let at = self.find(field)?;
        self.lp.next(at).map(|v| item(self.lp.get(v)))
    }

    fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        match self.find(field).and_then(|at| self.lp.next(at)) {
            Some(value_at) => {
                self.lp.replace(value_at, value);
                false
            }
            None => {
                self.lp.push_back(field);
                self.lp.push_back(value);
                true
            }
        }
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        let Some(at) = self.find(field) else {
            return false;
        };
        if let Some(value_at) = self.lp.delete(at) {
            self.lp.delete(value_at);
        }
        true
    }

    fn pair_at(&self, index: usize) -> Option<(Item<'_>, Item<'_>)> {
        let at = self.lp.seek(i64::try_from(index).ok()?.checked_mul(2)?)?;
        let value_at = self.lp.next(at)?;
        Some((item(self.lp.get(at)), item(self.lp.get(value_at))))
    }

    fn iter(&self) -> SmallIter<'_> {
        SmallIter {
            inner: self.lp.iter(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(entries_max: u64, value_bytes_max: u64) -> HashLimits {
        HashLimits {
            entries_max,
            value_bytes_max,
            hasher: HashKey::new(1, 2),
        }
    }

    #[test]
    fn a_hash_converts_when_it_holds_more_fields_than_the_limit() {
        let lim = limits(3, 64);
        let mut h = Hash::new();
        for f in ["a", "b", "c"] {
            assert!(h.set(f.as_bytes(), b"1", &lim));
        }
        assert_eq!(h.encoding_name(), "listpack");
        assert!(!h.set(b"a", b"2", &lim));
        assert_eq!(h.encoding_name(), "listpack");
        assert!(h.set(b"d", b"4", &lim));
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.len(), 4);
        assert_eq!(h.get(b"a"), Some(Item::Str(b"2")));
    }

    #[test]
    fn a_long_field_or_value_converts_and_deletes_never_convert_back() {
        let lim = limits(128, 4);
        let mut h = Hash::new();
        h.set(b"f", b"1234", &lim);
        assert_eq!(h.encoding_name(), "listpack");
        h.set(b"g", b"12345", &lim);
        assert_eq!(h.encoding_name(), "hashtable");
        assert!(h.remove(b"g"));
        assert_eq!(h.encoding_name(), "hashtable");
        assert!(!h.remove(b"g"));
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn a_hash_is_one_word_triple_so_its_box_is_a_small_chunk() {
        assert_eq!(std::mem::size_of::<Hash>(), 24);
        assert_eq!(std::mem::size_of::<FieldNode>(), 56);
    }

    #[test]
    fn listpack_hashes_keep_insertion_order_and_store_integers_compactly() {
        let lim = limits(128, 64);
        let mut h = Hash::new();
        h.set(b"b", b"12", &lim);
        h.set(b"a", b"x", &lim);
        h.set(b"b", b"007", &lim);
        let pairs: Vec<(Vec<u8>, Vec<u8>)> =
            h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
        assert_eq!(
            pairs,
            [
                (b"b".to_vec(), b"007".to_vec()),
                (b"a".to_vec(), b"x".to_vec())
            ]
        );
        h.set(b"a", b"-5", &lim);
        assert_eq!(h.get(b"a"), Some(Item::Int(-5)));
        assert!(h.remove(b"b"));
        assert_eq!(h.len(), 1);
        assert_eq!(h.random_pair(|_| 0), Some((Item::Str(b"a"), Item::Int(-5))));
    }

    #[test]
    fn equality_ignores_encoding_and_order() {
        let mut a = Hash::new();
        let mut b = Hash::new();
        a.set(b"x", b"1", &limits(128, 64));
        a.set(b"y", b"2", &limits(128, 64));
        b.set(b"y", b"2", &limits(0, 64));
        b.set(b"x", b"1", &limits(0, 64));
        assert_eq!(b.encoding_name(), "hashtable");
        assert_eq!(a, b);
        assert_eq!(a.clone(), b.clone());
        b.set(b"x", b"3", &limits(0, 64));
        assert_ne!(a, b);
    }
}
