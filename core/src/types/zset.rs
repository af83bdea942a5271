//! Sorted sets: a listpack of (member, score) pairs in score order while small, a
//! skiplist plus hash index beyond `zset-max-listpack-entries` members or a member
//! longer than `zset-max-listpack-value` bytes, as Redis encodes them.
//!
//! A set converts from listpack to skiplist when an insertion crosses a threshold
//! and never back, except that results built whole (ZRANGESTORE, ZUNIONSTORE, ...)
//! pick their encoding by size, as Redis does.
//!
//! Positions ([`Pos`]) let the command layer walk either encoding in order without
//! knowing which one it holds.

use crate::hash::HashKey;
use crate::util::num::{i64_digits, write_f64_g17};
use crate::util::smallbytes::SmallBytes;

pub use super::skiplist::{LexBound, LexRange, NodeId, ScoreRange, SkipList};

/// The thresholds that decide the encoding (from the server's config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub entries: u64,
    pub value: u64,
}

impl Limits {
    /// Whether `len` members, the longest `max_member` bytes, fit the listpack.
    pub fn fits_listpack(&self, len: usize, max_member: usize) -> bool {
        len as u64 <= self.entries && max_member as u64 <= self.value
    }
}

/// The compact encoding: pairs in (score, member) order.
///
/// Stored as a vector for now; it moves to the shared listpack bytes when those
/// land, keeping this interface (positions are then byte offsets).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Packed {
    items: Vec<(SmallBytes, f64)>,
}

impl Packed {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn first(&self) -> Option<usize> {
        (!self.items.is_empty()).then_some(0)
    }

    fn last(&self) -> Option<usize> {
        self.items.len().checked_sub(1)
    }

    fn next(&self, pos: usize) -> Option<usize> {
        (pos + 1 < self.items.len()).then_some(pos + 1)
    }

    fn prev(&self, pos: usize) -> Option<usize> {
        pos.checked_sub(1)
    }

    fn seek(&self, rank: usize) -> Option<usize> {
        (rank < self.items.len()).then_some(rank)
    }

    fn member(&self, pos: usize) -> &[u8] {
        &self.items[pos].0
    }

    fn score(&self, pos: usize) -> f64 {
        self.items[pos].1
    }

    fn find(&self, member: &[u8]) -> Option<usize> {
        self.items.iter().position(|(m, _)| m.as_slice() == member)
    }

    /// Inserts before the first pair that sorts after (score, member), as zzlInsert.
    /// A listpack keeps scores as their d2string text, so -0 reads back as 0.
    fn insert(&mut self, member: &[u8], score: f64) {
        let score = if score == 0.0 { 0.0 } else { score };
        let at = self
            .items
            .iter()
            .position(|(m, s)| *s > score || (*s == score && m.as_slice() > member))
            .unwrap_or(self.items.len());
        self.items.insert(at, (SmallBytes::new(member), score));
    }

    fn delete(&mut self, pos: usize) {
        self.items.remove(pos);
    }

    /// Deletes `count` pairs starting at rank `start`.
    fn delete_ranks(&mut self, start: usize, count: usize) {
        let end = (start + count).min(self.items.len());
        self.items.drain(start..end);
    }

    fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], f64)> + '_ {
        self.items.iter().map(|(m, s)| (m.as_slice(), *s))
    }
}

/// A sorted set in one of its two encodings.
#[derive(Debug, Clone)]
pub enum ZSet {
    Listpack(Packed),
    Skiplist(Box<SkipList>),
}

/// A place in a sorted set, valid until the set is modified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pos {
    Packed(usize),
    Node(NodeId),
}

/// What ZADD's options allow (Redis's ZADD_IN_* flags).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// What one ZADD element did (Redis's ZADD_OUT_* flags).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AddOutcome {
    /// Not processed (NX/XX/GT/LT said no).
    Nop,
    /// A new member with this score.
    Added(f64),
    /// An existing member now with this (different) score.
    Updated(f64),
    /// An existing member whose score stays this.
    Same(f64),
    /// INCR made the score NaN; nothing changed.
    Nan,
}

impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Listpack(Packed::default())
    }
}

impl ZSet {
    /// An empty set as ZADD creates it for a key: a listpack unless the config
    /// allows no listpack or the first member is already too long.
    pub fn for_first_member(first_member_len: usize, limits: Limits, hasher: HashKey) -> Self {
        if limits.entries == 0 || first_member_len as u64 > limits.value {
            ZSet::Skiplist(Box::new(SkipList::new(hasher)))
        } else {
            ZSet::Listpack(Packed::default())
        }
    }

    /// A set from unique members already in (score, member) order, encoded by
    /// size as Redis encodes computed results.
    pub fn from_sorted(items: Vec<(SmallBytes, f64)>, limits: Limits, hasher: HashKey) -> Self {
        let longest = items.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        if limits.fits_listpack(items.len(), longest) {
            let mut packed = Packed::default();
            for (member, score) in &items {
                packed.insert(member, *score);
            }
            ZSet::Listpack(packed)
        } else {
            ZSet::Skiplist(Box::new(SkipList::from_sorted(hasher, items.into_iter())))
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ZSet::Listpack(p) => p.len(),
            ZSet::Skiplist(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `OBJECT ENCODING`'s answer.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            ZSet::Listpack(_) => "listpack",
            ZSet::Skiplist(_) => "skiplist",
        }
    }

    /// Every (member, score) in order.
    pub fn iter(&self) -> Box<dyn DoubleEndedIterator<Item = (&[u8], f64)> + '_> {
        match self {
            ZSet::Listpack(p) => Box::new(p.iter()),
            ZSet::Skiplist(s) => Box::new(s.iter()),
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(p) => p.find(member).map(|pos| p.score(pos)),
            ZSet::Skiplist(s) => s.get_score(member),
        }
    }

    /// Redis's zsetAdd: adds or updates one member under ZADD's flags, converting
    /// the encoding when a new member crosses a threshold.
    pub fn add(
        &mut self,
        member: &[u8],
        score: f64,
        flags: AddFlags,
        limits: Limits,
        hasher: HashKey,
    ) -> AddOutcome {
        let Some(current) = self.score(member) else {
            if flags.xx {
                return AddOutcome::Nop;
            }
            self.insert_new(member, score, limits, hasher);
            return AddOutcome::Added(score);
        };
        if flags.nx {
            return AddOutcome::Nop;
        }
        let new = if flags.incr { current + score } else { score };
        if new.is_nan() {
            return AddOutcome::Nan;
        }
        if (flags.lt && new >= current) || (flags.gt && new <= current) {
            return AddOutcome::Nop;
        }
        if new == current {
            return AddOutcome::Same(new);
        }
        match self {
            ZSet::Listpack(p) => {
                if let Some(pos) = p.find(member) {
                    p.delete(pos);
                }
                p.insert(member, new);
            }
            ZSet::Skiplist(s) => {
                if let Some(x) = s.find(member) {
                    s.update_score(x, new);
                }
            }
        }
        AddOutcome::Updated(new)
    }

    /// Inserts a member the caller knows is absent.
    fn insert_new(&mut self, member: &[u8], score: f64, limits: Limits, hasher: HashKey) {
        if let ZSet::Listpack(p) = self {
            if p.len() as u64 >= limits.entries || member.len() as u64 > limits.value {
                self.convert_to_skiplist(hasher);
            }
        }
        match self {
            ZSet::Listpack(p) => p.insert(member, score),
            ZSet::Skiplist(s) => {
                s.insert(member, score);
            }
        }
    }

    fn convert_to_skiplist(&mut self, hasher: HashKey) {
        if let ZSet::Listpack(p) = self {
            let items = std::mem::take(&mut p.items);
            *self = ZSet::Skiplist(Box::new(SkipList::from_sorted(hasher, items.into_iter())));
        }
    }

    /// Removes a member; returns whether it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            ZSet::Listpack(p) => match p.find(member) {
                Some(pos) => {
                    p.delete(pos);
                    true
                }
                None => false,
            },
            ZSet::Skiplist(s) => s.remove(member).is_some(),
        }
    }

    /// The 0-based rank of a member in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match self {
            ZSet::Listpack(p) => p.find(member),
            ZSet::Skiplist(s) => s.find(member).map(|x| s.rank_of(x)),
        }
    }

    // --- positions --------------------------------------------------------------

    pub fn first(&self) -> Option<Pos> {
        match self {
            ZSet::Listpack(p) => p.first().map(Pos::Packed),
            ZSet::Skiplist(s) => s.first().map(Pos::Node),
        }
    }

    pub fn last(&self) -> Option<Pos> {
        match self {
            ZSet::Listpack(p) => p.last().map(Pos::Packed),
            ZSet::Skiplist(s) => s.last().map(Pos::Node),
        }
    }

    /// The next position in ascending order, or in descending order if `reverse`.
    pub fn step(&self, pos: Pos, reverse: bool) -> Option<Pos> {
        match (self, pos) {
            (ZSet::Listpack(p), Pos::Packed(i)) => {
                if reverse { p.prev(i) } else { p.next(i) }.map(Pos::Packed)
            }
            (ZSet::Skiplist(s), Pos::Node(x)) => {
                if reverse { s.prev(x) } else { s.next(x) }.map(Pos::Node)
            }
            _ => None,
        }
    }

    /// The member and score at a position.
    pub fn get(&self, pos: Pos) -> (&[u8], f64) {
        match (self, pos) {
            (ZSet::Listpack(p), Pos::Packed(i)) => (p.member(i), p.score(i)),
            (ZSet::Skiplist(s), Pos::Node(x)) => (s.member(x), s.score(x)),
            _ => (&[], 0.0),
        }
    }

    /// The position of 0-based ascending rank `rank`.
    pub fn at_rank(&self, rank: usize) -> Option<Pos> {
        match self {
            ZSet::Listpack(p) => p.seek(rank).map(Pos::Packed),
            ZSet::Skiplist(s) => s.at_rank(rank).map(Pos::Node),
        }
    }

    /// Calls `visit` from `from` onwards (descending if `reverse`) until it
    /// returns false or the set ends.
    pub fn walk(
        &self,
        from: Option<Pos>,
        reverse: bool,
        mut visit: impl FnMut(&[u8], f64) -> bool,
    ) {
        let mut pos = from;
        while let Some(p) = pos {
            let (member, score) = self.get(p);
            if !visit(member, score) {
                return;
            }
            pos = self.step(p, reverse);
        }
    }

    // --- score and lex ranges ---------------------------------------------------

    /// The first position in the score range (zzlFirstInRange / zslFirstInRange).
    pub fn first_in_score_range(&self, range: &ScoreRange) -> Option<Pos> {
        match self {
            ZSet::Listpack(p) => {
                if !self.could_hold_scores(range) {
                    return None;
                }
                let pos = (0..p.len()).find(|&i| range.above_min(p.score(i)))?;
                range.below_max(p.score(pos)).then_some(Pos::Packed(pos))
            }
            ZSet::Skiplist(s) => s.first_in_score_range(range).map(Pos::Node),
        }
    }

    pub fn last_in_score_range(&self, range: &ScoreRange) -> Option<Pos> {
        match self {
            ZSet::Listpack(p) => {
                if !self.could_hold_scores(range) {
                    return None;
                }
                let pos = (0..p.len()).rev().find(|&i| range.below_max(p.score(i)))?;
                range.above_min(p.score(pos)).then_some(Pos::Packed(pos))
            }
            ZSet::Skiplist(s) => s.last_in_score_range(range).map(Pos::Node),
        }
    }

    /// zzlIsInRange: the range is not empty, the last score reaches its min and
    /// the first its max.
    fn could_hold_scores(&self, range: &ScoreRange) -> bool {
        if range.is_empty() {
            return false;
        }
        match (self.last(), self.first()) {
            (Some(last), Some(first)) => {
                range.above_min(self.get(last).1) && range.below_max(self.get(first).1)
            }
            _ => false,
        }
    }

    fn could_hold_members(&self, range: &LexRange) -> bool {
        if range.is_empty() {
            return false;
        }
        match (self.last(), self.first()) {
            (Some(last), Some(first)) => {
                range.above_min(self.get(last).0) && range.below_max(self.get(first).0)
            }
            _ => false,
        }
    }

    pub fn first_in_lex_range(&self, range: &LexRange) -> Option<Pos> {
        match self {
            ZSet::Listpack(p) => {
                if !self.could_hold_members(range) {
                    return None;
                }
                let pos = (0..p.len()).find(|&i| range.above_min(p.member(i)))?;
                range.below_max(p.member(pos)).then_some(Pos::Packed(pos))
            }
            ZSet::Skiplist(s) => s.first_in_lex_range(range).map(Pos::Node),
        }
    }

    pub fn last_in_lex_range(&self, range: &LexRange) -> Option<Pos> {
        match self {
            ZSet::Listpack(p) => {
                if !self.could_hold_members(range) {
                    return None;
                }
                let pos = (0..p.len()).rev().find(|&i| range.below_max(p.member(i)))?;
                range.above_min(p.member(pos)).then_some(Pos::Packed(pos))
            }
            ZSet::Skiplist(s) => s.last_in_lex_range(range).map(Pos::Node),
        }
    }

    /// ZCOUNT: members whose score is in the range.
    pub fn count_in_score_range(&self, range: &ScoreRange) -> usize {
        match self {
            ZSet::Skiplist(s) => match s.first_in_score_range(range) {
                Some(first) => {
                    // The last one exists whenever the first does.
                    let last = s.last_in_score_range(range).unwrap_or(first);
                    s.rank_of(last) + 1 - s.rank_of(first)
                }
                None => 0,
            },
            ZSet::Listpack(_) => {
                let mut n = 0;
                self.walk(self.first_in_score_range(range), false, |_, score| {
                    let more = range.below_max(score);
                    n += usize::from(more);
                    more
                });
                n
            }
        }
    }

    /// ZLEXCOUNT: members in the lex range.
    pub fn count_in_lex_range(&self, range: &LexRange) -> usize {
        match self {
            ZSet::Skiplist(s) => match s.first_in_lex_range(range) {
                Some(first) => {
                    let last = s.last_in_lex_range(range).unwrap_or(first);
                    (s.rank_of(last) + 1).saturating_sub(s.rank_of(first))
                }
                None => 0,
            },
            ZSet::Listpack(_) => {
                let mut n = 0;
                self.walk(self.first_in_lex_range(range), false, |member, _| {
                    let more = range.below_max(member);
                    n += usize::from(more);
                    more
                });
                n
            }
        }
    }

    // --- removals ---------------------------------------------------------------

    /// Removes 0-based ranks `start..=end` (already clamped to the set).
    pub fn remove_rank_range(&mut self, start: usize, end: usize) -> usize {
        match self {
            ZSet::Listpack(p) => {
                let before = p.len();
                p.delete_ranks(start, end + 1 - start);
                before - p.len()
            }
            ZSet::Skiplist(s) => s.delete_rank_range(start, end),
        }
    }

    pub fn remove_score_range(&mut self, range: &ScoreRange) -> usize {
        match self {
            ZSet::Listpack(_) => {
                let Some(Pos::Packed(start)) = self.first_in_score_range(range) else {
                    return 0;
                };
                self.remove_packed_run(start, |_, score| range.below_max(score))
            }
            ZSet::Skiplist(s) => s.delete_score_range(range),
        }
    }

    pub fn remove_lex_range(&mut self, range: &LexRange) -> usize {
        match self {
            ZSet::Listpack(_) => {
                let Some(Pos::Packed(start)) = self.first_in_lex_range(range) else {
                    return 0;
                };
                self.remove_packed_run(start, |member, _| range.below_max(member))
            }
            ZSet::Skiplist(s) => s.delete_lex_range(range),
        }
    }

    /// Deletes listpack pairs from `start` while `keep` accepts them.
    fn remove_packed_run(&mut self, start: usize, keep: impl Fn(&[u8], f64) -> bool) -> usize {
        let ZSet::Listpack(p) = self else {
            return 0;
        };
        let count = (start..p.len())
            .take_while(|&i| keep(p.member(i), p.score(i)))
            .count();
        p.delete_ranks(start, count);
        count
    }

    /// Removes and returns the lowest (or with `max`, highest) member.
    pub fn pop(&mut self, max: bool) -> Option<(Vec<u8>, f64)> {
        let pos = if max { self.last() } else { self.first() }?;
        let (member, score) = self.get(pos);
        let member = member.to_vec();
        match self {
            ZSet::Listpack(p) => {
                if let Pos::Packed(i) = pos {
                    p.delete(i);
                }
            }
            ZSet::Skiplist(s) => {
                s.remove(&member);
            }
        }
        Some((member, score))
    }

    /// One ZSCAN step: a listpack returns everything with cursor 0; a skiplist
    /// visits its hash index from `cursor`. Scores come as ZSCAN prints them.
    pub fn scan(&self, cursor: u64, mut visit: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            ZSet::Listpack(p) => {
                for (member, score) in p.iter() {
                    visit(member, score);
                }
                0
            }
            ZSet::Skiplist(s) => s.scan(cursor, visit),
        }
    }

    /// How ZSCAN prints a score of this encoding: a listpack holds the d2string
    /// text (an integer when the score is one within ±2^62), a skiplist the double.
    pub fn scan_score_text(&self, score: f64, out: &mut Vec<u8>) {
        match self {
            ZSet::Listpack(_) => write_d2string(score, out),
            ZSet::Skiplist(_) => write_f64_g17(score, out),
        }
    }
}

/// Redis's d2string: integral values within ±(i64::MAX/2) as integers, the rest
/// with "%.17g".
pub fn write_d2string(score: f64, out: &mut Vec<u8>) {
    const LIMIT: f64 = (i64::MAX / 2) as f64;
    if (-LIMIT..=LIMIT).contains(&score) {
        let n = score as i64;
        if n as f64 == score {
            out.extend_from_slice(i64_digits(n, &mut [0u8; 20]));
            return;
        }
    }
    write_f64_g17(score, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        entries: 4,
        value: 8,
    };

    fn hasher() -> HashKey {
        HashKey::new(1, 2)
    }

    fn add(z: &mut ZSet, member: &str, score: f64) -> AddOutcome {
        z.add(
            member.as_bytes(),
            score,
            AddFlags::default(),
            LIMITS,
            hasher(),
        )
    }

    #[test]
    fn a_listpack_converts_when_it_outgrows_the_entry_limit() {
        let mut z = ZSet::for_first_member(1, LIMITS, hasher());
        for (i, m) in ["a", "b", "c", "d"].iter().enumerate() {
            add(&mut z, m, i as f64);
        }
        assert_eq!(z.encoding_name(), "listpack");
        add(&mut z, "e", 0.5);
        assert_eq!(z.encoding_name(), "skiplist");
        let members: Vec<&[u8]> = z.iter().map(|(m, _)| m).collect();
        assert_eq!(members, [&b"a"[..], b"e", b"b", b"c", b"d"]);
    }

    #[test]
    fn a_long_member_converts_and_updates_do_not() {
        let mut z = ZSet::for_first_member(1, LIMITS, hasher());
        add(&mut z, "a", 1.0);
        assert_eq!(add(&mut z, "a", 2.0), AddOutcome::Updated(2.0));
        assert_eq!(z.encoding_name(), "listpack");
        add(&mut z, "123456789", 1.0);
        assert_eq!(z.encoding_name(), "skiplist");
    }

    #[test]
    fn flags_gate_additions_and_updates() {
        let mut z = ZSet::default();
        let gt = AddFlags {
            gt: true,
            ..AddFlags::default()
        };
        add(&mut z, "a", 5.0);
        assert_eq!(z.add(b"a", 4.0, gt, LIMITS, hasher()), AddOutcome::Nop);
        assert_eq!(
            z.add(b"a", 6.0, gt, LIMITS, hasher()),
            AddOutcome::Updated(6.0)
        );
        let incr = AddFlags {
            incr: true,
            ..AddFlags::default()
        };
        z.add(b"b", f64::INFINITY, AddFlags::default(), LIMITS, hasher());
        assert_eq!(
            z.add(b"b", f64::NEG_INFINITY, incr, LIMITS, hasher()),
            AddOutcome::Nan
        );
    }

    #[test]
    fn listpack_stores_negative_zero_as_zero() {
        let mut z = ZSet::default();
        add(&mut z, "a", -0.0);
        assert!(z.score(b"a").is_some_and(|s| s.is_sign_positive()));
    }

    #[test]
    fn d2string_prints_integers_within_the_safe_range() {
        let text = |v: f64| {
            let mut out = Vec::new();
            write_d2string(v, &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(text(1e17), "100000000000000000");
        assert_eq!(text(-0.0), "0");
        assert_eq!(text(1.5), "1.5");
        assert_eq!(text(1e20), "1e+20");
        assert_eq!(text(f64::INFINITY), "inf");
    }
}
