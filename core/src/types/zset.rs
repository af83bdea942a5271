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
use crate::listpack::{Listpack, LpValue};
use crate::util::num::{i64_digits, parse_f64, write_f64_g17};
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

/// The compact encoding: Redis's listpack of member, score, member, score... in
/// (score, member) order, each score kept as its d2string text (an integer entry when
/// the score is integral). Positions are byte offsets of member entries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Packed {
    lp: Listpack,
}

impl Packed {
    pub fn len(&self) -> usize {
        self.lp.len() / 2
    }

    pub fn is_empty(&self) -> bool {
        self.lp.is_empty()
    }

    /// The listpack bytes, as an RDB file stores them.
    pub fn as_listpack(&self) -> &Listpack {
        &self.lp
    }

    fn first(&self) -> Option<usize> {
        self.lp.first()
    }

    fn last(&self) -> Option<usize> {
        self.lp.prev(self.lp.last()?)
    }

    fn next(&self, pos: usize) -> Option<usize> {
        self.lp.next(self.lp.next(pos)?)
    }

    fn prev(&self, pos: usize) -> Option<usize> {
        self.lp.prev(self.lp.prev(pos)?)
    }

    fn seek(&self, rank: usize) -> Option<usize> {
        self.lp.seek(i64::try_from(rank).ok()?.checked_mul(2)?)
    }

    fn member(&self, pos: usize) -> LpValue<'_> {
        self.lp.get(pos)
    }

    /// The score of the pair at `pos` (Redis's zzlGetScore).
    fn score(&self, pos: usize) -> f64 {
        self.lp
            .next(pos)
            .map_or(0.0, |at| stored_score(self.lp.get(at)))
    }

    fn find(&self, member: &[u8]) -> Option<usize> {
        self.lp.find(self.lp.first()?, member, 1)
    }

    /// Inserts before the first pair that sorts after (score, member), as zzlInsert.
    fn insert(&mut self, member: &[u8], score: f64) {
        let mut scratch = [0u8; 20];
        let mut pos = self.first();
        while let Some(at) = pos {
            let s = self.score(at);
            if s > score || (s == score && self.member(at).to_bytes(&mut scratch) > member) {
                break;
            }
            pos = self.next(at);
        }
        let mut text = Vec::with_capacity(24);
        write_d2string(score, &mut text);
        match pos {
            Some(at) => {
                self.lp.insert_before(at, member);
                self.lp.insert_after(at, &text);
            }
            None => {
                self.lp.push_back(member);
                self.lp.push_back(&text);
            }
        }
    }

    /// Deletes the pair at `pos`; returns the position of the pair that followed.
    fn delete(&mut self, pos: usize) -> Option<usize> {
        let score_at = self.lp.delete(pos)?;
        self.lp.delete(score_at)
    }

    /// Deletes `count` pairs starting at rank `start`.
    fn delete_ranks(&mut self, start: usize, count: usize) {
        self.lp
            .delete_range(start.saturating_mul(2), count.saturating_mul(2));
    }

    fn iter(&self) -> PackedIter<'_> {
        PackedIter {
            inner: self.lp.iter(),
        }
    }
}

/// A listpack score entry as a double: integers as themselves, text through strtod.
fn stored_score(v: LpValue<'_>) -> f64 {
    match v {
        LpValue::Int(n) => n as f64,
        LpValue::Str(s) => parse_f64(s).unwrap_or(0.0),
    }
}

/// (member, score) pairs of a listpack, from either end.
pub struct PackedIter<'a> {
    inner: crate::listpack::Iter<'a>,
}

impl<'a> Iterator for PackedIter<'a> {
    type Item = (LpValue<'a>, f64);

    fn next(&mut self) -> Option<Self::Item> {
        let member = self.inner.next()?;
        let score = self.inner.next().map_or(0.0, stored_score);
        Some((member, score))
    }
}

impl DoubleEndedIterator for PackedIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let score = self.inner.next_back().map_or(0.0, stored_score);
        let member = self.inner.next_back()?;
        Some((member, score))
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
        let (mut a, mut b) = ([0u8; 20], [0u8; 20]);
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|((m1, s1), (m2, s2))| s1 == s2 && m1.to_bytes(&mut a) == m2.to_bytes(&mut b))
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
            let mut text = Vec::with_capacity(24);
            for (member, score) in &items {
                text.clear();
                write_d2string(*score, &mut text);
                packed.lp.push_back(member);
                packed.lp.push_back(&text);
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
    pub fn iter(&self) -> Box<dyn DoubleEndedIterator<Item = (LpValue<'_>, f64)> + '_> {
        match self {
            ZSet::Listpack(p) => Box::new(p.iter()),
            ZSet::Skiplist(s) => Box::new(s.iter().map(|(m, s)| (LpValue::Str(m), s))),
        }
    }

    /// Calls `visit` with every (member, score) in order.
    pub fn for_each(&self, mut visit: impl FnMut(&[u8], f64)) {
        let mut scratch = [0u8; 20];
        for (member, score) in self.iter() {
            visit(member.to_bytes(&mut scratch), score);
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
            if p.len() as u64 >= limits.entries
                || member.len() as u64 > limits.value
                || !p.lp.safe_to_add(member.len())
            {
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

    /// Switches a listpack set to the skiplist encoding (no-op if it already is one);
    /// SORT does this to every sorted set it reads, as Redis's sortCommand does.
    pub fn convert_to_skiplist(&mut self, hasher: HashKey) {
        if let ZSet::Listpack(p) = self {
            let mut scratch = [0u8; 20];
            let items = p
                .iter()
                .map(|(m, s)| (SmallBytes::new(m.to_bytes(&mut scratch)), s));
            let list = SkipList::from_sorted(hasher, items);
            *self = ZSet::Skiplist(Box::new(list));
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
            ZSet::Listpack(p) => {
                let target = p.find(member)?;
                let mut rank = 0;
                let mut pos = p.first();
                while let Some(at) = pos {
                    if at == target {
                        return Some(rank);
                    }
                    rank += 1;
                    pos = p.next(at);
                }
                None
            }
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
    pub fn get(&self, pos: Pos) -> (LpValue<'_>, f64) {
        match (self, pos) {
            (ZSet::Listpack(p), Pos::Packed(i)) => (p.member(i), p.score(i)),
            (ZSet::Skiplist(s), Pos::Node(x)) => (LpValue::Str(s.member(x)), s.score(x)),
            _ => (LpValue::Str(&[]), 0.0),
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
        let mut scratch = [0u8; 20];
        let mut pos = from;
        while let Some(p) = pos {
            let (member, score) = self.get(p);
            if !visit(member.to_bytes(&mut scratch), score) {
                return;
            }
            pos = self.step(p, reverse);
        }
    }

    /// The first position, walking from one end, whose element `hit` accepts.
    fn find_from(&self, reverse: bool, hit: impl Fn(&[u8], f64) -> bool) -> Option<Pos> {
        let mut found = None;
        let start = if reverse { self.last() } else { self.first() };
        let mut pos = start;
        self.walk(start, reverse, |member, score| {
            if hit(member, score) {
                found = pos;
                return false;
            }
            pos = pos.and_then(|p| self.step(p, reverse));
            true
        });
        found
    }

    // --- score and lex ranges ---------------------------------------------------

    /// The first position in the score range (zzlFirstInRange / zslFirstInRange).
    pub fn first_in_score_range(&self, range: &ScoreRange) -> Option<Pos> {
        match self {
            ZSet::Listpack(_) => {
                if !self.could_hold_scores(range) {
                    return None;
                }
                let pos = self.find_from(false, |_, score| range.above_min(score))?;
                range.below_max(self.get(pos).1).then_some(pos)
            }
            ZSet::Skiplist(s) => s.first_in_score_range(range).map(Pos::Node),
        }
    }

    pub fn last_in_score_range(&self, range: &ScoreRange) -> Option<Pos> {
        match self {
            ZSet::Listpack(_) => {
                if !self.could_hold_scores(range) {
                    return None;
                }
                let pos = self.find_from(true, |_, score| range.below_max(score))?;
                range.above_min(self.get(pos).1).then_some(pos)
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
        let (mut a, mut b) = ([0u8; 20], [0u8; 20]);
        match (self.last(), self.first()) {
            (Some(last), Some(first)) => {
                range.above_min(self.get(last).0.to_bytes(&mut a))
                    && range.below_max(self.get(first).0.to_bytes(&mut b))
            }
            _ => false,
        }
    }

    fn member_in(&self, pos: Pos, test: impl Fn(&[u8]) -> bool) -> bool {
        let mut scratch = [0u8; 20];
        test(self.get(pos).0.to_bytes(&mut scratch))
    }

    pub fn first_in_lex_range(&self, range: &LexRange) -> Option<Pos> {
        match self {
            ZSet::Listpack(_) => {
                if !self.could_hold_members(range) {
                    return None;
                }
                let pos = self.find_from(false, |member, _| range.above_min(member))?;
                self.member_in(pos, |m| range.below_max(m)).then_some(pos)
            }
            ZSet::Skiplist(s) => s.first_in_lex_range(range).map(Pos::Node),
        }
    }

    pub fn last_in_lex_range(&self, range: &LexRange) -> Option<Pos> {
        match self {
            ZSet::Listpack(_) => {
                if !self.could_hold_members(range) {
                    return None;
                }
                let pos = self.find_from(true, |member, _| range.below_max(member))?;
                self.member_in(pos, |m| range.above_min(m)).then_some(pos)
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
                    (s.rank_of(last) + 1).saturating_sub(s.rank_of(first))
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
                let start = self.first_in_score_range(range);
                self.remove_packed_run(start, |_, score| range.below_max(score))
            }
            ZSet::Skiplist(s) => s.delete_score_range(range),
        }
    }

    pub fn remove_lex_range(&mut self, range: &LexRange) -> usize {
        match self {
            ZSet::Listpack(_) => {
                let start = self.first_in_lex_range(range);
                self.remove_packed_run(start, |member, _| range.below_max(member))
            }
            ZSet::Skiplist(s) => s.delete_lex_range(range),
        }
    }

    /// Deletes listpack pairs from `start` while `keep` accepts them.
    fn remove_packed_run(
        &mut self,
        start: Option<Pos>,
        keep: impl Fn(&[u8], f64) -> bool,
    ) -> usize {
        let (ZSet::Listpack(p), Some(Pos::Packed(mut at))) = (self, start) else {
            return 0;
        };
        let mut scratch = [0u8; 20];
        let mut removed = 0;
        loop {
            let (member, score) = (p.member(at), p.score(at));
            if !keep(member.to_bytes(&mut scratch), score) {
                break;
            }
            removed += 1;
            match p.delete(at) {
                Some(next) => at = next,
                None => break,
            }
        }
        removed
    }

    /// Removes and returns the lowest (or with `max`, highest) member.
    pub fn pop(&mut self, max: bool) -> Option<(Vec<u8>, f64)> {
        let pos = if max { self.last() } else { self.first() }?;
        let (member, score) = self.get(pos);
        let member = member.to_vec();
        match (self, pos) {
            (ZSet::Listpack(p), Pos::Packed(at)) => {
                p.delete(at);
            }
            (ZSet::Skiplist(s), _) => {
                s.remove(&member);
            }
            _ => {}
        }
        Some((member, score))
    }

    /// One ZSCAN step: a listpack returns everything with cursor 0; a skiplist
    /// visits its hash index from `cursor`. Scores come as ZSCAN prints them.
    pub fn scan(&self, cursor: u64, mut visit: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            ZSet::Listpack(_) => {
                self.for_each(visit);
                0
            }
            ZSet::Skiplist(s) => s.scan(cursor, &mut visit),
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
        let members: Vec<Vec<u8>> = z.iter().map(|(m, _)| m.to_vec()).collect();
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
