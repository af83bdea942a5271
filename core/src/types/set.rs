//! Sets (Redis 7.0's t_set.c object layer): an intset while every member is a
//! canonical integer and there are at most `set-max-intset-entries` of them, a hash
//! table of members otherwise. A set only ever converts from intset to hash table, as
//! in Redis 7.0 (which has no listpack sets).

use std::fmt;

use super::intset::{self, Intset};
use crate::dict::{Dict, DictEntry};
use crate::hash::HashKey;
use crate::util::num::{i64_digits, parse_i64};
use crate::util::smallbytes::SmallBytes;

/// Redis caps set-max-intset-entries at 2^30 because of intset internals.
const INTSET_ENTRIES_CAP: u64 = 1 << 30;

/// What a set needs from the server to grow: the conversion threshold and the
/// keyed hasher for a hash table.
#[derive(Debug, Clone, Copy)]
pub struct SetLimits {
    pub max_intset_entries: u64,
    pub hasher: HashKey,
}

impl SetLimits {
    fn intset_entries_max(&self) -> u64 {
        self.max_intset_entries.min(INTSET_ENTRIES_CAP)
    }
}

/// One member, as read from either encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl<'a> Elem<'a> {
    /// The member's bytes, formatting an integer into `scratch`.
    pub fn bytes<'s>(&'s self, scratch: &'s mut [u8; 20]) -> &'s [u8] {
        match *self {
            Elem::Int(v) => i64_digits(v, scratch),
            Elem::Bytes(b) => b,
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.bytes(&mut [0u8; 20]).to_vec()
    }
}

/// A hash-table member: its bytes and the chain link.
pub struct Member {
    next: Option<Box<Member>>,
    bytes: SmallBytes,
}

impl Member {
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl DictEntry for Member {
    fn key(&self) -> &[u8] {
        &self.bytes
    }
    fn next(&self) -> Option<&Self> {
        self.next.as_deref()
    }
    fn next_mut(&mut self) -> &mut Option<Box<Self>> {
        &mut self.next
    }
}

/// The hash-table encoding. The hasher is kept to build a copy (COPY, SORT...).
pub struct Table {
    dict: Dict<Member>,
    hasher: HashKey,
}

impl Table {
    fn new(hasher: HashKey) -> Self {
        Table {
            dict: Dict::new(hasher),
            hasher,
        }
    }

    fn contains(&self, member: &[u8]) -> bool {
        self.dict.get(member).is_some()
    }

    fn insert(&mut self, member: &[u8]) -> bool {
        if self.contains(member) {
            return false;
        }
        self.dict.insert_new(Box::new(Member {
            next: None,
            bytes: SmallBytes::new(member),
        }));
        true
    }

    fn remove(&mut self, member: &[u8]) -> bool {
        let removed = self.dict.remove(member).is_some();
        if removed {
            // As Redis's setTypeRemove resizes a mostly empty table.
            self.dict.shrink_if_sparse();
        }
        removed
    }
}

pub enum Set {
    Ints(Intset),
    Table(Box<Table>),
}

impl Set {
    /// An empty intset (what SINTERSTORE and friends start from).
    pub fn new_intset() -> Set {
        Set::Ints(Intset::new())
    }

    /// An empty hash-table set.
    pub fn new_table(hasher: HashKey) -> Set {
        Set::Table(Box::new(Table::new(hasher)))
    }

    /// An empty set of the encoding its first member calls for (Redis's
    /// setTypeCreate): an intset for an integer, a hash table otherwise.
    pub fn for_first(member: &[u8], hasher: HashKey) -> Set {
        if parse_i64(member).is_some() {
            Set::new_intset()
        } else {
            Set::new_table(hasher)
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Set::Ints(s) => s.len(),
            Set::Table(t) => t.dict.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `OBJECT ENCODING`'s answer.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Set::Ints(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    /// The intset, when that is the encoding (for RDB).
    pub fn as_intset(&self) -> Option<&Intset> {
        match self {
            Set::Ints(s) => Some(s),
            Set::Table(_) => None,
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            Set::Ints(s) => parse_i64(member).is_some_and(|v| s.contains(v)),
            Set::Table(t) => t.contains(member),
        }
    }

    pub fn contains_elem(&self, elem: Elem<'_>) -> bool {
        match (self, elem) {
            (Set::Ints(s), Elem::Int(v)) => s.contains(v),
            (_, Elem::Bytes(b)) => self.contains(b),
            (Set::Table(t), Elem::Int(v)) => t.contains(i64_digits(v, &mut [0u8; 20])),
        }
    }

    /// Adds a member (Redis's setTypeAdd); false if it was there already. An intset
    /// becomes a hash table when the member is not an integer or the intset grows
    /// past the limit.
    pub fn insert(&mut self, member: &[u8], limits: SetLimits) -> bool {
        match self {
            Set::Table(t) => t.insert(member),
            Set::Ints(s) => match parse_i64(member) {
                Some(v) => {
                    let added = s.insert(v);
                    if added && s.len() as u64 > limits.intset_entries_max() {
                        self.convert_to_table(limits.hasher);
                    }
                    added
                }
                None => {
                    self.convert_to_table(limits.hasher);
                    self.insert(member, limits)
                }
            },
        }
    }

    /// Adds a member read from another set, without formatting integers for an
    /// intset.
    pub fn insert_elem(&mut self, elem: Elem<'_>, limits: SetLimits) -> bool {
        match (&mut *self, elem) {
            (Set::Ints(s), Elem::Int(v)) => {
                let added = s.insert(v);
                if added && s.len() as u64 > limits.intset_entries_max() {
                    self.convert_to_table(limits.hasher);
                }
                added
            }
            (_, elem) => self.insert(elem.bytes(&mut [0u8; 20]), limits),
        }
    }

    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Set::Ints(s) => parse_i64(member).is_some_and(|v| s.remove(v)),
            Set::Table(t) => t.remove(member),
        }
    }

    pub fn remove_elem(&mut self, elem: Elem<'_>) -> bool {
        match (&mut *self, elem) {
            (Set::Ints(s), Elem::Int(v)) => s.remove(v),
            (_, elem) => self.remove(elem.bytes(&mut [0u8; 20])),
        }
    }

    /// Rewrites an intset as a hash table (Redis's setTypeConvert).
    pub fn convert_to_table(&mut self, hasher: HashKey) {
        let Set::Ints(s) = self else {
            return;
        };
        let mut table = Table::new(hasher);
        let mut scratch = [0u8; 20];
        for v in s.iter() {
            table.insert(i64_digits(v, &mut scratch));
        }
        *self = Set::Table(Box::new(table));
    }

    pub fn iter(&self) -> Iter<'_> {
        match self {
            Set::Ints(s) => Iter::Ints(s.iter()),
            Set::Table(t) => Iter::Table(t.dict.iter()),
        }
    }

    /// A random member: a uniform index of an intset, Redis's bucket-then-chain
    /// pick of a hash table. `pick(n)` draws uniformly below `n`.
    pub fn random(&self, mut pick: impl FnMut(u64) -> u64) -> Option<Elem<'_>> {
        match self {
            Set::Ints(s) => s.get(pick(s.len() as u64) as usize).map(Elem::Int),
            Set::Table(t) => t.dict.random_entry(pick).map(|m| Elem::Bytes(m.bytes())),
        }
    }

    /// One SSCAN step over a hash table (see `Dict::scan`); an intset visits every
    /// member and returns cursor 0, as Redis returns a compact set whole.
    pub fn scan(&self, cursor: u64, mut visit: impl FnMut(Elem<'_>)) -> u64 {
        match self {
            Set::Ints(s) => {
                s.iter().for_each(|v| visit(Elem::Int(v)));
                0
            }
            Set::Table(t) => t.dict.scan(cursor, |m| visit(Elem::Bytes(m.bytes()))),
        }
    }

    /// Heap bytes owned beyond the `Set` itself, approximately, for MEMORY USAGE-like
    /// accounting.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Set::Ints(s) => s.heap_bytes(),
            Set::Table(t) => {
                std::mem::size_of::<Table>()
                    + t.dict.bucket_count() * std::mem::size_of::<usize>()
                    + t.dict
                        .iter()
                        .map(|m| std::mem::size_of::<Member>() + m.bytes.heap_bytes())
                        .sum::<usize>()
            }
        }
    }
}

impl Default for Set {
    fn default() -> Self {
        Set::new_intset()
    }
}

impl Clone for Set {
    fn clone(&self) -> Self {
        match self {
            Set::Ints(s) => Set::Ints(s.clone()),
            Set::Table(t) => {
                let mut copy = Table::new(t.hasher);
                for m in t.dict.iter() {
                    copy.insert(m.bytes());
                }
                Set::Table(Box::new(copy))
            }
        }
    }
}

impl PartialEq for Set {
    /// Equal when they hold the same members, whatever the encodings.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|e| other.contains_elem(e))
    }
}

impl fmt::Debug for Set {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_set();
        for e in self.iter() {
            match e {
                Elem::Int(v) => list.entry(&v),
                Elem::Bytes(b) => list.entry(&String::from_utf8_lossy(b)),
            };
        }
        list.finish()
    }
}

/// Members in storage order: ascending for an intset, table order otherwise.
pub enum Iter<'a> {
    Ints(intset::Iter<'a>),
    Table(crate::dict::Iter<'a, Member>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        match self {
            Iter::Ints(it) => it.next().map(Elem::Int),
            Iter::Table(it) => it.next().map(|m| Elem::Bytes(m.bytes())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> SetLimits {
        SetLimits {
            max_intset_entries: 4,
            hasher: HashKey::new(1, 2),
        }
    }

    #[test]
    fn a_set_is_one_48_byte_malloc_chunk() {
        assert_eq!(std::mem::size_of::<Set>(), 40);
    }

    #[test]
    fn integers_stay_an_intset_up_to_the_limit() {
        let mut s = Set::for_first(b"1", limits().hasher);
        for m in ["1", "2", "3", "4"] {
            assert!(s.insert(m.as_bytes(), limits()));
        }
        assert!(!s.insert(b"4", limits()));
        assert_eq!(s.encoding_name(), "intset");
        assert!(s.insert(b"5", limits()));
        assert_eq!(s.encoding_name(), "hashtable");
        assert_eq!(s.len(), 5);
        assert!(s.contains(b"5") && s.contains(b"1"));
    }

    #[test]
    fn a_non_canonical_integer_makes_a_hash_table() {
        let mut s = Set::for_first(b"1", limits().hasher);
        s.insert(b"1", limits());
        assert!(s.insert(b"01", limits()));
        assert_eq!(s.encoding_name(), "hashtable");
        assert!(s.contains(b"1") && s.contains(b"01"));
        assert!(!s.contains(b"+1"));
        assert_eq!(
            Set::for_first(b"x", limits().hasher).encoding_name(),
            "hashtable"
        );
    }

    #[test]
    fn intset_lookups_only_match_canonical_integers() {
        let mut s = Set::new_intset();
        s.insert(b"10", limits());
        assert!(s.contains(b"10"));
        assert!(!s.contains(b"010"));
        assert!(!s.contains(b"10 "));
        assert!(!s.remove(b"1e1"));
        assert!(s.remove(b"10"));
        assert!(s.is_empty());
    }

    #[test]
    fn elements_cross_encodings() {
        let mut ints = Set::new_intset();
        ints.insert(b"7", limits());
        let mut table = Set::new_table(limits().hasher);
        table.insert(b"7", limits());
        assert!(table.contains_elem(Elem::Int(7)));
        assert!(ints.contains_elem(Elem::Bytes(b"7")));
        assert_eq!(ints, table);
        assert!(table.remove_elem(Elem::Int(7)));
        assert!(table.insert_elem(Elem::Int(-3), limits()));
        assert!(table.contains(b"-3"));
    }

    #[test]
    fn a_clone_is_deep_and_equal() {
        let mut s = Set::new_table(limits().hasher);
        for m in ["a", "b", "a-much-longer-member-than-the-inline-limit"] {
            s.insert(m.as_bytes(), limits());
        }
        let mut copy = s.clone();
        assert_eq!(copy, s);
        copy.remove(b"a");
        assert_ne!(copy, s);
        assert!(s.contains(b"a"));
    }
}
