//! Lists: Redis 7.0's quicklist, a deque of listpack nodes.
//!
//! Redis 7.0 stores every list as a quicklist, so `OBJECT ENCODING` always answers
//! "quicklist" (the single-listpack list encoding arrived in Redis 7.2). What
//! `list-max-listpack-size` decides is how big each node may grow: a positive value
//! caps the entries per node (and a node never grows past 8 KiB while it has more
//! than one entry), -1..-5 cap a node's bytes at 4/8/16/32/64 KiB. Like Redis, a list
//! keeps the limit it was created with (`CONFIG SET` affects new lists only), and
//! values outside -5..=32767 are clamped.
//!
//! `list-compress-depth` is accepted but nodes are never compressed: that changes
//! memory use only, never a reply.
//!
//! Node positions inside a listpack are entry offsets as the listpack API gives
//! them; an offset is only reused while nothing before it in the same node changed.

use std::collections::VecDeque;

use crate::listpack::Listpack;
pub use crate::listpack::LpValue;

/// Byte limits for `list-max-listpack-size` -1..-5 (Redis's optimization_level).
const NODE_BYTES_LIMITS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// A node with a count limit still never grows past this many bytes
/// (Redis's SIZE_SAFETY_LIMIT), unless it holds a single entry.
const NODE_BYTES_SAFETY_MAX: usize = 8192;
/// Redis clamps the fill factor to a 16-bit field: FILL_MAX, and -5 at the bottom.
const FILL_MAX: i64 = (1 << 15) - 1;
const FILL_MIN: i64 = -5;

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// LEFT, the head.
    Head,
    /// RIGHT, the tail.
    Tail,
}

#[derive(Debug, Clone, PartialEq)]
pub struct List {
    nodes: VecDeque<Listpack>,
    len: usize,
    /// `list-max-listpack-size` when the list was created, clamped as Redis does.
    fill: i16,
}

impl Default for List {
    fn default() -> Self {
        List::new(-2)
    }
}

impl List {
    /// An empty list whose nodes follow `list-max-listpack-size` = `fill`.
    pub fn new(fill: i64) -> Self {
        List {
            nodes: VecDeque::new(),
            len: 0,
            fill: fill.clamp(FILL_MIN, FILL_MAX) as i16,
        }
    }

    /// A list made of ready listpack nodes, as an RDB file stores them (empty nodes
    /// are dropped); `fill` applies to the nodes that later inserts create or grow.
    pub fn from_nodes(fill: i64, nodes: Vec<Listpack>) -> Self {
        let mut list = List::new(fill);
        list.nodes = nodes.into_iter().filter(|n| !n.is_empty()).collect();
        list.len = list.nodes.iter().map(Listpack::len).sum();
        list
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `OBJECT ENCODING`'s answer: always "quicklist" in Redis 7.0.
    pub fn encoding_name(&self) -> &'static str {
        "quicklist"
    }

    /// Number of listpack nodes (for tests and memory accounting).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The listpack nodes, head to tail (an RDB file stores them as they are).
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = &Listpack> + '_ {
        self.nodes.iter()
    }

    /// Bytes owned outside the `List` itself (node table plus listpacks).
    pub fn heap_bytes(&self) -> usize {
        let table = self.nodes.capacity() * std::mem::size_of::<Listpack>();
        table + self.nodes.iter().map(Listpack::bytes_len).sum::<usize>()
    }

    pub fn push(&mut self, end: End, value: &[u8]) {
        match end {
            End::Head => self.push_front(value),
            End::Tail => self.push_back(value),
        }
    }

    pub fn push_front(&mut self, value: &[u8]) {
        let fill = self.fill;
        match self.nodes.front_mut() {
            Some(node) if node_allows_insert(node, fill, value.len()) => node.push_front(value),
            _ => {
                let node = single(value);
                self.reserve_node();
                self.nodes.push_front(node);
            }
        }
        self.len += 1;
    }

    pub fn push_back(&mut self, value: &[u8]) {
        let fill = self.fill;
        match self.nodes.back_mut() {
            Some(node) if node_allows_insert(node, fill, value.len()) => node.push_back(value),
            _ => {
                let node = single(value);
                self.reserve_node();
                self.nodes.push_back(node);
            }
        }
        self.len += 1;
    }

    /// Most lists have one node: allocate the node table for exactly that.
    fn reserve_node(&mut self) {
        if self.nodes.capacity() == 0 {
            self.nodes.reserve_exact(1);
        }
    }

    /// Removes the element at `end`, handing it to `f` first.
    pub fn pop_with<R>(&mut self, end: End, f: impl FnOnce(LpValue<'_>) -> R) -> Option<R> {
        let ni = match end {
            End::Head => 0,
            End::Tail => self.nodes.len().checked_sub(1)?,
        };
        let node = self.nodes.get_mut(ni)?;
        let off = match end {
            End::Head => node.first()?,
            End::Tail => node.last()?,
        };
        let result = f(node.get(off));
        node.delete(off);
        if node.is_empty() {
            self.nodes.remove(ni);
        }
        self.len -= 1;
        Some(result)
    }

    /// Removes the element at `end` and returns its bytes.
    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        self.pop_with(end, |v| value_to_vec(&v))
    }

    /// Redis's index rules: negative counts from the tail. `None` when out of range.
    pub fn resolve_index(&self, index: i64) -> Option<usize> {
        let len = self.len as i64;
        let i = if index < 0 {
            index.checked_add(len)?
        } else {
            index
        };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// The node holding element `index` (< len) and the element's position in it,
    /// walking from the nearer end of the list.
    fn locate(&self, index: usize) -> (usize, usize) {
        debug_assert!(index < self.len);
        if index < self.len / 2 {
            let mut rest = index;
            for (ni, node) in self.nodes.iter().enumerate() {
                if rest < node.len() {
                    return (ni, rest);
                }
                rest -= node.len();
            }
        } else {
            let mut from_tail = self.len - 1 - index;
            for (ni, node) in self.nodes.iter().enumerate().rev() {
                if from_tail < node.len() {
                    return (ni, node.len() - 1 - from_tail);
                }
                from_tail -= node.len();
            }
        }
        (self.nodes.len().saturating_sub(1), 0)
    }

    /// The element at `index` (negative counts from the tail).
    pub fn get(&self, index: i64) -> Option<LpValue<'_>> {
        let (ni, i) = self.locate(self.resolve_index(index)?);
        let node = &self.nodes[ni];
        node.seek(i as i64).map(|off| node.get(off))
    }

    /// Replaces the element at `index`; false when out of range (LSET).
    pub fn set(&mut self, index: i64, value: &[u8]) -> bool {
        let Some(index) = self.resolve_index(index) else {
            return false;
        };
        let (ni, i) = self.locate(index);
        let node = &mut self.nodes[ni];
        let Some(off) = node.seek(i as i64) else {
            return false;
        };
        node.replace(off, value);
        self.split_if_oversized(ni);
        true
    }

    /// Inserts `value` before or after the first element equal to `pivot` (LINSERT);
    /// false when there is no such element.
    pub fn insert_at_pivot(&mut self, pivot: &[u8], value: &[u8], after: bool) -> bool {
        for ni in 0..self.nodes.len() {
            let node = &mut self.nodes[ni];
            let mut cursor = node.first();
            while let Some(off) = cursor {
                if node.get(off).eq_bytes(pivot) {
                    if after {
                        node.insert_after(off, value);
                    } else {
                        node.insert_before(off, value);
                    }
                    self.len += 1;
                    self.split_if_oversized(ni);
                    return true;
                }
                cursor = node.next(off);
            }
        }
        false
    }

    /// Removes elements equal to `value` (LREM): from the head, or from the tail with
    /// `from_tail`, at most `limit` of them (`None`: all). Returns how many went.
    pub fn remove_matching(
        &mut self,
        value: &[u8],
        from_tail: bool,
        limit: Option<usize>,
    ) -> usize {
        let limit = limit.unwrap_or(usize::MAX);
        let mut removed = 0;
        if from_tail {
            let mut ni = self.nodes.len();
            while ni > 0 && removed < limit {
                ni -= 1;
                removed += remove_in_node_backward(&mut self.nodes[ni], value, limit - removed);
                if self.nodes[ni].is_empty() {
                    self.nodes.remove(ni);
                }
            }
        } else {
            let mut ni = 0;
            while ni < self.nodes.len() && removed < limit {
                removed += remove_in_node_forward(&mut self.nodes[ni], value, limit - removed);
                if self.nodes[ni].is_empty() {
                    self.nodes.remove(ni);
                } else {
                    ni += 1;
                }
            }
        }
        self.len -= removed;
        removed
    }

    /// Removes `count` elements starting at `start` (both already in range).
    pub fn delete_range(&mut self, start: usize, count: usize) {
        let count = count.min(self.len.saturating_sub(start));
        if count == 0 {
            return;
        }
        if count == self.len {
            self.nodes.clear();
            self.len = 0;
            return;
        }
        let (mut ni, mut i) = self.locate(start);
        let mut left = count;
        while left > 0 && ni < self.nodes.len() {
            let node_len = self.nodes[ni].len();
            let take = left.min(node_len - i);
            if i == 0 && take == node_len {
                self.nodes.remove(ni);
            } else {
                self.nodes[ni].delete_range(i, take);
                ni += 1;
            }
            i = 0;
            left -= take;
        }
        self.len -= count - left;
    }

    /// Every element from head to tail; `.rev()` walks from the tail.
    pub fn iter(&self) -> Iter<'_> {
        self.range(0, self.len)
    }

    /// `count` elements from index `start` (clamped to the list).
    pub fn range(&self, start: usize, count: usize) -> Iter<'_> {
        let count = count.min(self.len.saturating_sub(start));
        if count == 0 {
            return Iter {
                nodes: &self.nodes,
                front: (0, None),
                back: (0, None),
                remaining: 0,
            };
        }
        let (fni, fi) = self.locate(start);
        let (bni, bi) = self.locate(start + count - 1);
        Iter {
            nodes: &self.nodes,
            front: (fni, self.nodes[fni].seek(fi as i64)),
            back: (bni, self.nodes[bni].seek(bi as i64)),
            remaining: count,
        }
    }

    /// Splits node `ni` in halves until every part fits the fill limit (after an
    /// insert or a replace made it grow).
    fn split_if_oversized(&mut self, ni: usize) {
        if !node_oversized(&self.nodes[ni], self.fill) {
            return;
        }
        let node = &mut self.nodes[ni];
        let keep = node.len() / 2;
        let mut tail = Listpack::new();
        let mut scratch = [0u8; 20];
        let mut cursor = node.seek(keep as i64);
        while let Some(off) = cursor {
            tail.push_back(node.get(off).to_bytes(&mut scratch));
            cursor = node.next(off);
        }
        let moved = node.len() - keep;
        node.delete_range(keep, moved);
        self.nodes.insert(ni + 1, tail);
        self.split_if_oversized(ni + 1);
        self.split_if_oversized(ni);
    }

    /// Checks the structure's invariants (tests): lengths add up, no empty node,
    /// every node within the fill limit unless it holds a single entry.
    pub fn check_invariants(&self) -> Result<(), String> {
        let total: usize = self.nodes.iter().map(Listpack::len).sum();
        if total != self.len {
            return Err(format!("len {} but nodes hold {total}", self.len));
        }
        for (ni, node) in self.nodes.iter().enumerate() {
            if node.is_empty() {
                return Err(format!("node {ni} is empty"));
            }
            if node_oversized(node, self.fill) {
                return Err(format!(
                    "node {ni} has {} entries, {} bytes over fill {}",
                    node.len(),
                    node.bytes_len(),
                    self.fill
                ));
            }
        }
        Ok(())
    }
}

/// The owned bytes of a listpack value.
pub fn value_to_vec(value: &LpValue<'_>) -> Vec<u8> {
    value.to_vec()
}

fn single(value: &[u8]) -> Listpack {
    let mut node = Listpack::new();
    node.push_back(value);
    node
}

/// Whether a node may take one more element of `len` bytes (Redis's
/// _quicklistNodeAllowInsert): it overestimates the entry's header and backlen as a
/// flat 8 bytes (SIZE_ESTIMATE_OVERHEAD), so nodes split exactly where Redis's do and
/// RDB files carry the same node boundaries.
fn node_allows_insert(node: &Listpack, fill: i16, len: usize) -> bool {
    let new_bytes = node.bytes_len() + len + SIZE_ESTIMATE_OVERHEAD;
    if fill < 0 {
        return new_bytes <= bytes_limit(fill);
    }
    new_bytes <= NODE_BYTES_SAFETY_MAX && node.len() < fill as usize
}

/// Redis's flat estimate of one entry's encoding overhead when deciding whether it
/// fits a node.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;

fn bytes_limit(fill: i16) -> usize {
    let level = (-i32::from(fill) - 1).clamp(0, 4) as usize;
    NODE_BYTES_LIMITS[level]
}

fn node_oversized(node: &Listpack, fill: i16) -> bool {
    if node.len() <= 1 {
        return false;
    }
    if fill < 0 {
        node.bytes_len() > bytes_limit(fill)
    } else {
        node.bytes_len() > NODE_BYTES_SAFETY_MAX || node.len() > fill.max(1) as usize
    }
}

fn remove_in_node_forward(node: &mut Listpack, value: &[u8], limit: usize) -> usize {
    let mut removed = 0;
    let mut cursor = node.first();
    while let Some(off) = cursor {
        if removed == limit {
            break;
        }
        if node.get(off).eq_bytes(value) {
            cursor = node.delete(off);
            removed += 1;
        } else {
            cursor = node.next(off);
        }
    }
    removed
}

fn remove_in_node_backward(node: &mut Listpack, value: &[u8], limit: usize) -> usize {
    let mut removed = 0;
    let mut cursor = node.last();
    while let Some(off) = cursor {
        if removed == limit {
            break;
        }
        // Entries before `off` keep their offsets when `off` is deleted.
        let prev = node.prev(off);
        if node.get(off).eq_bytes(value) {
            node.delete(off);
            removed += 1;
        }
        cursor = prev;
    }
    removed
}

/// A walk over a range of a list, from either end.
pub struct Iter<'a> {
    nodes: &'a VecDeque<Listpack>,
    /// Node index and entry offset of the next element from the front.
    front: (usize, Option<usize>),
    back: (usize, Option<usize>),
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpValue<'a>;

    fn next(&mut self) -> Option<LpValue<'a>> {
        if self.remaining == 0 {
            return None;
        }
        let nodes = self.nodes;
        while self.front.1.is_none() {
            self.front.0 += 1;
            self.front.1 = nodes.get(self.front.0)?.first();
        }
        let (ni, off) = (self.front.0, self.front.1?);
        let node = &nodes[ni];
        self.front.1 = node.next(off);
        self.remaining -= 1;
        Some(node.get(off))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<LpValue<'a>> {
        if self.remaining == 0 {
            return None;
        }
        let nodes = self.nodes;
        while self.back.1.is_none() {
            self.back.0 = self.back.0.checked_sub(1)?;
            self.back.1 = nodes.get(self.back.0)?.last();
        }
        let (ni, off) = (self.back.0, self.back.1?);
        let node = &nodes[ni];
        self.back.1 = node.prev(off);
        self.remaining -= 1;
        Some(node.get(off))
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(list: &List) -> Vec<Vec<u8>> {
        list.iter().map(|v| value_to_vec(&v)).collect()
    }

    fn list_of(fill: i64, n: usize) -> List {
        let mut list = List::new(fill);
        for i in 0..n {
            list.push_back(format!("v{i}").as_bytes());
        }
        list
    }

    #[test]
    fn every_list_reports_the_quicklist_encoding() {
        assert_eq!(List::new(-2).encoding_name(), "quicklist");
        assert_eq!(list_of(4, 100).encoding_name(), "quicklist");
    }

    #[test]
    fn a_count_fill_caps_entries_per_node() {
        let list = list_of(4, 10);
        assert_eq!(list.node_count(), 3);
        list.check_invariants().unwrap();
    }

    #[test]
    fn a_size_fill_caps_bytes_per_node() {
        let mut list = List::new(-1);
        for _ in 0..100 {
            list.push_front(&[b'x'; 100]);
        }
        assert!(list.node_count() >= 3, "{} nodes", list.node_count());
        list.check_invariants().unwrap();
    }

    #[test]
    fn fill_is_clamped_as_redis_does() {
        assert_eq!(List::new(-100).fill, -5);
        assert_eq!(List::new(1 << 40).fill, i16::MAX);
    }

    #[test]
    fn an_element_larger_than_the_node_limit_gets_its_own_node() {
        let mut list = List::new(-1);
        list.push_back(b"a");
        list.push_back(&[b'x'; 5000]);
        list.push_back(b"b");
        assert_eq!(list.node_count(), 3);
        list.check_invariants().unwrap();
    }

    #[test]
    fn iteration_crosses_nodes_both_ways() {
        let list = list_of(3, 10);
        let forward: Vec<_> = items(&list);
        let mut backward: Vec<Vec<u8>> = list.iter().rev().map(|v| value_to_vec(&v)).collect();
        backward.reverse();
        assert_eq!(forward, backward);
        let mid: Vec<Vec<u8>> = list.range(2, 5).map(|v| value_to_vec(&v)).collect();
        assert_eq!(mid, forward[2..7].to_vec());
        let mut both = list.range(1, 4);
        assert_eq!(value_to_vec(&both.next().unwrap()), b"v1");
        assert_eq!(value_to_vec(&both.next_back().unwrap()), b"v4");
        assert_eq!(both.count(), 2);
    }

    #[test]
    fn pops_empty_nodes_away() {
        let mut list = list_of(2, 5);
        assert_eq!(list.pop(End::Head).unwrap(), b"v0");
        assert_eq!(list.pop(End::Tail).unwrap(), b"v4");
        assert_eq!(list.pop(End::Head).unwrap(), b"v1");
        assert_eq!(list.len(), 2);
        list.check_invariants().unwrap();
        list.pop(End::Head);
        list.pop(End::Head);
        assert!(list.pop(End::Head).is_none());
        assert_eq!(list.node_count(), 0);
    }

    #[test]
    fn insert_splits_a_full_node() {
        let mut list = list_of(4, 4);
        assert!(list.insert_at_pivot(b"v1", b"new", true));
        assert_eq!(list.node_count(), 2);
        list.check_invariants().unwrap();
        assert_eq!(value_to_vec(&list.get(2).unwrap()), b"new");
        assert!(!list.insert_at_pivot(b"nope", b"x", false));
    }

    #[test]
    fn remove_matching_respects_direction_and_limit() {
        let mut list = List::new(2);
        for v in ["a", "b", "a", "c", "a", "a"] {
            list.push_back(v.as_bytes());
        }
        assert_eq!(list.remove_matching(b"a", true, Some(2)), 2);
        assert_eq!(
            items(&list),
            [b"a".to_vec(), b"b".to_vec(), b"a".to_vec(), b"c".to_vec()]
        );
        assert_eq!(list.remove_matching(b"a", false, None), 2);
        assert_eq!(items(&list), [b"b".to_vec(), b"c".to_vec()]);
        list.check_invariants().unwrap();
    }

    #[test]
    fn delete_range_spans_nodes() {
        let mut list = list_of(3, 10);
        list.delete_range(2, 6);
        assert_eq!(
            items(&list),
            [
                b"v0".to_vec(),
                b"v1".to_vec(),
                b"v8".to_vec(),
                b"v9".to_vec()
            ]
        );
        list.check_invariants().unwrap();
    }

    #[test]
    fn negative_indexes_count_from_the_tail() {
        let list = list_of(3, 5);
        assert_eq!(value_to_vec(&list.get(-1).unwrap()), b"v4");
        assert_eq!(value_to_vec(&list.get(-5).unwrap()), b"v0");
        assert!(list.get(-6).is_none());
        assert!(list.get(5).is_none());
        assert!(list.get(i64::MIN).is_none());
    }

    #[test]
    fn set_replaces_in_place() {
        let mut list = list_of(-1, 5);
        assert!(list.set(-2, b"x"));
        assert_eq!(value_to_vec(&list.get(3).unwrap()), b"x");
        assert!(!list.set(5, b"y"));
    }
}
