//! The big sorted-set encoding: Redis's skiplist with spans (so a rank is found in
//! O(log n)) plus a hash index for member lookup, both over one arena of nodes.
//!
//! Nodes live in a `Vec` and refer to each other by `u32` index, so the structure
//! needs no `unsafe` and no per-node allocation. A node holds its member, score,
//! level-0 links and its hash-chain link (48 bytes); the forward links and spans of
//! its upper levels (a quarter of the nodes have any) sit in a second `Vec`, in one
//! block per node. The hash index is a power-of-two bucket array of node indices,
//! chained through the nodes themselves, so member lookup costs 4-8 bytes per member
//! and ZSCAN can use Redis's reverse-binary cursor over the buckets.
//!
//! Freed nodes and level blocks go to free lists and are reused; when more than a
//! third of the arena is free it is rebuilt compactly, keeping each node's height.

use std::fmt;

use crate::hash::HashKey;
use crate::util::smallbytes::SmallBytes;

/// A node's index in the arena.
pub type NodeId = u32;

/// "No node".
const NIL: u32 = u32::MAX;
/// The header node, always at index 0 with the full height.
const HEAD: u32 = 0;
/// Redis's ZSKIPLIST_MAXLEVEL.
const LEVELS_MAX: usize = 32;
/// `Node::upper` keeps height-1 in its top bits and the level block offset below.
const HEIGHT_SHIFT: u32 = 27;
const UPPER_OFFSET_MASK: u32 = (1 << HEIGHT_SHIFT) - 1;
/// Fewest hash buckets of a non-empty index (Redis's DICT_HT_INITIAL_SIZE).
const BUCKETS_MIN: usize = 4;
/// Free arena slots tolerated before a rebuild, beyond a third of the nodes.
const FREE_SLACK_NODES: usize = 64;

/// One upper-level link. It caches the next node's score and level block, so a
/// search walks the levels touching one record per step (as Redis's node holds its
/// levels inline) instead of also visiting every node it passes over.
#[derive(Clone, Copy, Debug)]
struct Level {
    next: u32,
    /// Level-0 steps from this node to `next` (to the end of the list when NIL).
    span: u32,
    /// `next`'s `Node::upper`.
    next_upper: u32,
    /// `next`'s score.
    next_score: f64,
}

const LEVEL_UNLINKED: Level = Level {
    next: NIL,
    span: 0,
    next_upper: 0,
    next_score: 0.0,
};

#[derive(Clone)]
struct Node {
    member: SmallBytes,
    score: f64,
    /// Level-0 forward link (free list link once freed).
    next: u32,
    prev: u32,
    /// Next node in the same hash bucket.
    chain: u32,
    upper: u32,
}

/// A score range as ZRANGEBYSCORE takes it (`(` makes a bound exclusive).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub min_ex: bool,
    pub max_ex: bool,
}

impl ScoreRange {
    pub fn above_min(&self, score: f64) -> bool {
        if self.min_ex {
            score > self.min
        } else {
            score >= self.min
        }
    }

    pub fn below_max(&self, score: f64) -> bool {
        if self.max_ex {
            score < self.max
        } else {
            score <= self.max
        }
    }

    /// Whether no score can be in the range (Redis's first check in zslIsInRange).
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.min_ex || self.max_ex))
    }
}

/// One end of a lex range: `-`, `+`, or a string, inclusive (`[`) or not (`(`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    Min,
    Max,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

/// A member range as ZRANGEBYLEX takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

/// Orders bounds' strings with `-` below and `+` above everything (sdscmplex).
fn cmp_lex(a: &[u8], a_kind: i8, b: &[u8], b_kind: i8) -> std::cmp::Ordering {
    // kind: -1 is "-", 1 is "+", 0 is a string.
    if a_kind != 0 || b_kind != 0 {
        return a_kind.cmp(&b_kind);
    }
    a.cmp(b)
}

impl LexBound {
    fn parts(&self) -> (&[u8], i8) {
        match self {
            LexBound::Min => (&[], -1),
            LexBound::Max => (&[], 1),
            LexBound::Incl(s) | LexBound::Excl(s) => (s, 0),
        }
    }

    fn exclusive(&self) -> bool {
        matches!(self, LexBound::Excl(_))
    }
}

impl LexRange {
    pub fn above_min(&self, member: &[u8]) -> bool {
        match &self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Incl(s) => member >= &s[..],
            LexBound::Excl(s) => member > &s[..],
        }
    }

    pub fn below_max(&self, member: &[u8]) -> bool {
        match &self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Incl(s) => member <= &s[..],
            LexBound::Excl(s) => member < &s[..],
        }
    }

    /// Whether no member can be in the range (the first check of zslIsInLexRange).
    pub fn is_empty(&self) -> bool {
        let (a, ak) = self.min.parts();
        let (b, bk) = self.max.parts();
        match cmp_lex(a, ak, b, bk) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => self.min.exclusive() || self.max.exclusive(),
            std::cmp::Ordering::Less => false,
        }
    }
}

/// Whether (s1, m1) sorts before (s2, m2): by score, then by member bytes.
#[inline]
fn precedes(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> bool {
    s1 < s2 || (s1 == s2 && m1 < m2)
}

#[derive(Clone)]
pub struct SkipList {
    nodes: Vec<Node>,
    levels: Vec<Level>,
    buckets: Vec<u32>,
    tail: u32,
    len: u32,
    /// Height of the tallest node (at least 1), Redis's `zsl->level`.
    level: usize,
    free_node: u32,
    free_nodes: u32,
    /// Heads of the free level blocks, by node height (chained through `Level::next`).
    free_blocks: [u32; LEVELS_MAX + 1],
    hasher: HashKey,
    rng: u64,
}

impl fmt::Debug for SkipList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(m, s)| (String::from_utf8_lossy(m), s)))
            .finish()
    }
}

impl SkipList {
    pub fn new(hasher: HashKey) -> Self {
        let mut list = SkipList {
            nodes: Vec::new(),
            levels: Vec::new(),
            buckets: Vec::new(),
            tail: NIL,
            len: 0,
            level: 1,
            free_node: NIL,
            free_nodes: 0,
            free_blocks: [NIL; LEVELS_MAX + 1],
            hasher,
            // The level draws only shape the structure; seeding them from the
            // (secret) hash key keeps them deterministic per node yet unguessable.
            rng: hasher.hash(b"skiplist-levels") | 1,
        };
        list.push_head();
        list
    }

    fn push_head(&mut self) {
        self.levels.resize(LEVELS_MAX - 1, LEVEL_UNLINKED);
        self.nodes.push(Node {
            member: SmallBytes::new(b""),
            score: 0.0,
            next: NIL,
            prev: NIL,
            chain: NIL,
            upper: ((LEVELS_MAX as u32 - 1) << HEIGHT_SHIFT),
        });
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of the arrays behind this list, for memory estimates.
    pub fn allocated_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.levels.capacity() * std::mem::size_of::<Level>()
            + self.buckets.capacity() * 4
    }

    // --- node accessors -------------------------------------------------------

    pub fn member(&self, x: NodeId) -> &[u8] {
        &self.nodes[x as usize].member
    }

    pub fn score(&self, x: NodeId) -> f64 {
        self.nodes[x as usize].score
    }

    /// The first node, in (score, member) order.
    pub fn first(&self) -> Option<NodeId> {
        self.link(self.nodes[HEAD as usize].next)
    }

    pub fn last(&self) -> Option<NodeId> {
        self.link(self.tail)
    }

    pub fn next(&self, x: NodeId) -> Option<NodeId> {
        self.link(self.nodes[x as usize].next)
    }

    pub fn prev(&self, x: NodeId) -> Option<NodeId> {
        self.link(self.nodes[x as usize].prev)
    }

    fn link(&self, x: u32) -> Option<NodeId> {
        (x != NIL).then_some(x)
    }

    fn height(&self, x: u32) -> usize {
        (self.nodes[x as usize].upper >> HEIGHT_SHIFT) as usize + 1
    }

    fn block(&self, x: u32) -> usize {
        (self.nodes[x as usize].upper & UPPER_OFFSET_MASK) as usize
    }

    fn next_at(&self, x: u32, lvl: usize) -> u32 {
        if lvl == 0 {
            self.nodes[x as usize].next
        } else {
            self.levels[self.block(x) + lvl - 1].next
        }
    }

    fn span_at(&self, x: u32, lvl: usize) -> u32 {
        if lvl == 0 {
            u32::from(self.nodes[x as usize].next != NIL)
        } else {
            self.levels[self.block(x) + lvl - 1].span
        }
    }

    fn set_next_at(&mut self, x: u32, lvl: usize, next: u32) {
        if lvl == 0 {
            self.nodes[x as usize].next = next;
        } else {
            let (next_upper, next_score) = match self.nodes.get(next as usize) {
                Some(n) => (n.upper, n.score),
                None => (0, 0.0),
            };
            let at = self.block(x) + lvl - 1;
            let level = &mut self.levels[at];
            level.next = next;
            level.next_upper = next_upper;
            level.next_score = next_score;
        }
    }

    /// Index in `levels` of upper level `lvl` of the node whose `upper` is `upper`.
    #[inline]
    fn level_at(upper: u32, lvl: usize) -> usize {
        (upper & UPPER_OFFSET_MASK) as usize + lvl - 1
    }

    /// The level record of an upper level (`lvl >= 1`).
    fn upper_mut(&mut self, x: u32, lvl: usize) -> &mut Level {
        let at = self.block(x) + lvl - 1;
        &mut self.levels[at]
    }

    fn node_precedes(&self, x: u32, score: f64, member: &[u8]) -> bool {
        let n = &self.nodes[x as usize];
        precedes(n.score, &n.member, score, member)
    }

    // --- hash index -------------------------------------------------------------

    fn bucket_of(&self, member: &[u8]) -> usize {
        (self.hasher.hash(member) as usize) & (self.buckets.len() - 1)
    }

    /// The node holding `member`.
    pub fn find(&self, member: &[u8]) -> Option<NodeId> {
        if self.buckets.is_empty() {
            return None;
        }
        let mut x = self.buckets[self.bucket_of(member)];
        while x != NIL {
            let node = &self.nodes[x as usize];
            if node.member.as_slice() == member {
                return Some(x);
            }
            x = node.chain;
        }
        None
    }

    /// The score of `member`, if present.
    pub fn get_score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|x| self.score(x))
    }

    fn index_insert(&mut self, x: u32) {
        let b = self.bucket_of(&self.nodes[x as usize].member);
        self.nodes[x as usize].chain = self.buckets[b];
        self.buckets[b] = x;
    }

    fn index_remove(&mut self, x: u32) {
        let b = self.bucket_of(&self.nodes[x as usize].member);
        let after = self.nodes[x as usize].chain;
        if self.buckets[b] == x {
            self.buckets[b] = after;
            return;
        }
        let mut y = self.buckets[b];
        while y != NIL {
            let next = self.nodes[y as usize].chain;
            if next == x {
                self.nodes[y as usize].chain = after;
                return;
            }
            y = next;
        }
    }

    /// Rebuilds the index with `buckets` buckets (a power of two) from the list.
    fn rehash(&mut self, buckets: usize) {
        self.buckets = vec![NIL; buckets];
        let mut x = self.nodes[HEAD as usize].next;
        while x != NIL {
            self.index_insert(x);
            x = self.nodes[x as usize].next;
        }
    }

    /// Grows the index before the list reaches `len` members (load factor 1).
    fn reserve_index(&mut self, len: usize) {
        if len > self.buckets.len() {
            self.rehash(len.next_power_of_two().max(BUCKETS_MIN));
        }
    }

    /// Shrinks the index once under a tenth full, as Redis resizes a zset's dict.
    fn shrink_index(&mut self) {
        let buckets = self.buckets.len();
        if buckets > BUCKETS_MIN && self.len() * 10 < buckets {
            self.rehash(self.len().next_power_of_two().max(BUCKETS_MIN));
        }
    }

    /// One SCAN step over the index with Redis's reverse-binary cursor: visits the
    /// bucket `cursor` selects and returns the next cursor (0 once done).
    pub fn scan(&self, cursor: u64, mut visit: impl FnMut(&[u8], f64)) -> u64 {
        if self.buckets.is_empty() || self.len == 0 {
            return 0;
        }
        let mask = (self.buckets.len() - 1) as u64;
        let mut x = self.buckets[(cursor & mask) as usize];
        while x != NIL {
            let node = &self.nodes[x as usize];
            visit(&node.member, node.score);
            x = node.chain;
        }
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    // --- arena ------------------------------------------------------------------

    /// Redis's zslRandomLevel: each level with probability 1/4, up to 32.
    fn random_height(&mut self) -> usize {
        let mut height = 1;
        while height < LEVELS_MAX {
            // xorshift64*
            self.rng ^= self.rng >> 12;
            self.rng ^= self.rng << 25;
            self.rng ^= self.rng >> 27;
            let draw = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 48;
            if draw >= 0x4000 {
                break;
            }
            height += 1;
        }
        height
    }

    /// A level block for a node of `height`, from the free list or the arena end.
    /// `None` when the arena's offset space is exhausted.
    fn alloc_block(&mut self, height: usize) -> Option<u32> {
        let head = self.free_blocks[height];
        if head != NIL {
            self.free_blocks[height] = self.levels[head as usize].next;
            return Some(head);
        }
        let at = self.levels.len();
        if at + height - 1 > UPPER_OFFSET_MASK as usize {
            return None;
        }
        self.levels.resize(at + height - 1, LEVEL_UNLINKED);
        Some(at as u32)
    }

    fn alloc_node(&mut self, member: &[u8], score: f64, mut height: usize) -> u32 {
        let mut block = 0;
        if height > 1 {
            match self.alloc_block(height) {
                Some(b) => block = b,
                None => height = 1,
            }
        }
        let node = Node {
            member: SmallBytes::new(member),
            score,
            next: NIL,
            prev: NIL,
            chain: NIL,
            upper: ((height as u32 - 1) << HEIGHT_SHIFT) | block,
        };
        if self.free_node != NIL {
            let x = self.free_node;
            self.free_node = self.nodes[x as usize].next;
            self.free_nodes -= 1;
            self.nodes[x as usize] = node;
            x
        } else {
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        }
    }

    fn free_node(&mut self, x: u32) {
        let height = self.height(x);
        if height > 1 {
            let block = self.block(x);
            self.levels[block].next = self.free_blocks[height];
            self.free_blocks[height] = block as u32;
        }
        let node = &mut self.nodes[x as usize];
        node.member = SmallBytes::new(b"");
        node.next = self.free_node;
        node.upper = 0;
        self.free_node = x;
        self.free_nodes += 1;
    }

    // --- insertion and deletion ----------------------------------------------

    /// For every level, the last node before (score, member), and its rank.
    fn search(&self, score: f64, member: &[u8]) -> ([u32; LEVELS_MAX], [u32; LEVELS_MAX]) {
        let mut update = [HEAD; LEVELS_MAX];
        let mut rank = [0u32; LEVELS_MAX];
        let mut x = HEAD;
        let mut upper = self.nodes[HEAD as usize].upper;
        for i in (1..self.level).rev() {
            rank[i] = if i + 1 == self.level { 0 } else { rank[i + 1] };
            loop {
                let level = &self.levels[Self::level_at(upper, i)];
                let ahead = level.next != NIL
                    && (level.next_score < score
                        || (level.next_score == score
                            && self.nodes[level.next as usize].member.as_slice() < member));
                if !ahead {
                    break;
                }
                rank[i] += level.span;
                x = level.next;
                upper = level.next_upper;
            }
            update[i] = x;
        }
        rank[0] = if self.level > 1 { rank[1] } else { 0 };
        loop {
            let next = self.nodes[x as usize].next;
            if next != NIL && self.node_precedes(next, score, member) {
                rank[0] += 1;
                x = next;
            } else {
                break;
            }
        }
        update[0] = x;
        (update, rank)
    }

    /// Adds a member the caller knows is absent.
    pub fn insert(&mut self, member: &[u8], score: f64) -> NodeId {
        debug_assert!(self.find(member).is_none(), "member inserted twice");
        self.reserve_index(self.len() + 1);
        let (mut update, mut rank) = self.search(score, member);
        let height = self.random_height();
        if height > self.level {
            for i in self.level..height {
                rank[i] = 0;
                update[i] = HEAD;
                self.upper_mut(HEAD, i).span = self.len;
            }
            self.level = height;
        }
        let x = self.alloc_node(member, score, height);
        let height = self.height(x);
        for i in 0..height {
            let before = update[i];
            let after = self.next_at(before, i);
            self.set_next_at(x, i, after);
            self.set_next_at(before, i, x);
            if i > 0 {
                let gap = rank[0] - rank[i];
                let before_span = self.span_at(before, i);
                self.upper_mut(x, i).span = before_span - gap;
                self.upper_mut(before, i).span = gap + 1;
            }
        }
        for (i, &before) in update.iter().enumerate().take(self.level).skip(height) {
            self.upper_mut(before, i).span += 1;
        }
        self.nodes[x as usize].prev = if update[0] == HEAD { NIL } else { update[0] };
        let after = self.nodes[x as usize].next;
        if after != NIL {
            self.nodes[after as usize].prev = x;
        } else {
            self.tail = x;
        }
        self.len += 1;
        self.index_insert(x);
        x
    }

    /// Unlinks `x` from the list given the nodes before it at each level (Redis's
    /// zslDeleteNode); the caller removes it from the index and frees it.
    fn unlink(&mut self, x: u32, update: &[u32; LEVELS_MAX]) {
        for (i, &before) in update.iter().enumerate().take(self.level) {
            if self.next_at(before, i) == x {
                if i > 0 {
                    let merged = self.span_at(before, i) + self.span_at(x, i) - 1;
                    self.upper_mut(before, i).span = merged;
                }
                let after = self.next_at(x, i);
                self.set_next_at(before, i, after);
            } else if i > 0 {
                self.upper_mut(before, i).span -= 1;
            }
        }
        let after = self.nodes[x as usize].next;
        let prev = self.nodes[x as usize].prev;
        if after != NIL {
            self.nodes[after as usize].prev = prev;
        } else {
            self.tail = prev;
        }
        while self.level > 1 && self.next_at(HEAD, self.level - 1) == NIL {
            self.level -= 1;
        }
        self.len -= 1;
    }

    /// Unlinks, unindexes and frees `x`.
    fn delete_node(&mut self, x: u32, update: &[u32; LEVELS_MAX]) {
        self.unlink(x, update);
        self.index_remove(x);
        self.free_node(x);
    }

    /// Removes `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let x = self.find(member)?;
        let score = self.score(x);
        let (update, _) = self.search(score, member);
        self.delete_node(x, &update);
        self.after_removals();
        Some(score)
    }

    /// Changes the score of an existing member (Redis's zslUpdateScore: in place
    /// when the order does not change).
    pub fn update_score(&mut self, x: NodeId, score: f64) {
        let node = &self.nodes[x as usize];
        let prev_ok = node.prev == NIL || self.nodes[node.prev as usize].score < score;
        let next_ok = node.next == NIL || self.nodes[node.next as usize].score > score;
        let member = self.nodes[x as usize].member.clone();
        let (update, _) = self.search(node.score, &member);
        if prev_ok && next_ok {
            // In place: the order holds; the links into `x` cache its score.
            self.nodes[x as usize].score = score;
            for (i, &before) in update.iter().enumerate().take(self.height(x)).skip(1) {
                self.set_next_at(before, i, x);
            }
            return;
        }
        self.delete_node(x, &update);
        self.insert(&member, score);
    }

    /// Shrinks the index and the arena after deletions, when they are sparse.
    fn after_removals(&mut self) {
        self.shrink_index();
        let free = self.free_nodes as usize;
        if free > FREE_SLACK_NODES && free * 2 > self.len() {
            self.compact();
        }
    }

    /// Rebuilds the arena without free slots, keeping every node's height.
    fn compact(&mut self) {
        let mut nodes = Vec::with_capacity(self.len() + 1);
        let mut heights = Vec::with_capacity(self.len());
        let mut x = self.nodes[HEAD as usize].next;
        while x != NIL {
            heights.push(self.height(x));
            let node = &mut self.nodes[x as usize];
            nodes.push((
                std::mem::replace(&mut node.member, SmallBytes::new(b"")),
                node.score,
            ));
            x = node.next;
        }
        let upper_levels: usize = heights.iter().map(|h| h - 1).sum();
        let mut rebuilt = SkipList {
            nodes: Vec::with_capacity(self.len() + 1),
            levels: Vec::with_capacity(LEVELS_MAX - 1 + upper_levels),
            buckets: Vec::new(),
            tail: NIL,
            len: 0,
            level: 1,
            free_node: NIL,
            free_nodes: 0,
            free_blocks: [NIL; LEVELS_MAX + 1],
            hasher: self.hasher,
            rng: self.rng,
        };
        rebuilt.push_head();
        rebuilt.append_sorted(nodes.into_iter().zip(heights));
        *self = rebuilt;
    }

    /// Builds the list from members in (score, member) order with given heights.
    fn append_sorted(&mut self, sorted: impl Iterator<Item = ((SmallBytes, f64), usize)>) {
        // The last node at each level and its rank.
        let mut last = [HEAD; LEVELS_MAX];
        let mut last_rank = [0u32; LEVELS_MAX];
        let mut rank = 0u32;
        for ((member, score), height) in sorted {
            rank += 1;
            let x = self.alloc_node(&[], score, height);
            self.nodes[x as usize].member = member;
            let height = self.height(x);
            self.level = self.level.max(height);
            for i in 0..height {
                self.set_next_at(last[i], i, x);
                if i > 0 {
                    self.upper_mut(last[i], i).span = rank - last_rank[i];
                }
                last[i] = x;
                last_rank[i] = rank;
            }
            self.nodes[x as usize].prev = if last[0] == x && rank > 1 {
                self.tail
            } else {
                NIL
            };
            self.tail = x;
        }
        self.len = rank;
        for i in 1..self.level {
            let x = last[i];
            self.set_next_at(x, i, NIL);
            self.upper_mut(x, i).span = rank - last_rank[i];
        }
        self.rehash(self.len().next_power_of_two().max(BUCKETS_MIN));
    }

    // --- ranks --------------------------------------------------------------------

    /// The 0-based rank of `x`, which must be in the list.
    pub fn rank_of(&self, x: NodeId) -> usize {
        let score = self.score(x);
        let member = self.member(x);
        let mut rank = 0u32;
        let mut y = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.next_at(y, i);
                if next == NIL {
                    break;
                }
                let n = &self.nodes[next as usize];
                if n.score < score || (n.score == score && n.member.as_slice() <= member) {
                    rank += self.span_at(y, i);
                    y = next;
                } else {
                    break;
                }
            }
            if y == x {
                break;
            }
        }
        rank as usize - 1
    }

    /// The node at 0-based `rank`.
    pub fn at_rank(&self, rank: usize) -> Option<NodeId> {
        if rank >= self.len() {
            return None;
        }
        let target = rank as u32 + 1;
        let mut traversed = 0u32;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.next_at(x, i);
                if next != NIL && traversed + self.span_at(x, i) <= target {
                    traversed += self.span_at(x, i);
                    x = next;
                } else {
                    break;
                }
            }
            if traversed == target {
                return Some(x);
            }
        }
        None
    }

    // --- ranges -------------------------------------------------------------------

    /// Whether some member could be in the range (Redis's zslIsInRange).
    fn in_score_range(&self, range: &ScoreRange) -> bool {
        if range.is_empty() {
            return false;
        }
        match (self.last(), self.first()) {
            (Some(last), Some(first)) => {
                range.above_min(self.score(last)) && range.below_max(self.score(first))
            }
            _ => false,
        }
    }

    /// The first node within the score range (zslNthInRange for n=0).
    pub fn first_in_score_range(&self, range: &ScoreRange) -> Option<NodeId> {
        if !self.in_score_range(range) {
            return None;
        }
        let x = self.last_where(|score| !range.above_min(score));
        let x = self.next_at(x, 0);
        (x != NIL && range.below_max(self.score(x))).then_some(x)
    }

    /// The last node within the score range.
    pub fn last_in_score_range(&self, range: &ScoreRange) -> Option<NodeId> {
        if !self.in_score_range(range) {
            return None;
        }
        let x = self.last_where(|score| range.below_max(score));
        (x != HEAD && range.above_min(self.score(x))).then_some(x)
    }

    /// The last node (or the header) of the run of nodes from the start whose
    /// scores satisfy `before`, which must hold for a prefix of the list.
    fn last_where(&self, before: impl Fn(f64) -> bool) -> u32 {
        let mut x = HEAD;
        let mut upper = self.nodes[HEAD as usize].upper;
        for i in (1..self.level).rev() {
            loop {
                let level = &self.levels[Self::level_at(upper, i)];
                if level.next == NIL || !before(level.next_score) {
                    break;
                }
                x = level.next;
                upper = level.next_upper;
            }
        }
        loop {
            let next = self.nodes[x as usize].next;
            if next == NIL || !before(self.score(next)) {
                return x;
            }
            x = next;
        }
    }

    fn in_lex_range(&self, range: &LexRange) -> bool {
        if range.is_empty() {
            return false;
        }
        match (self.last(), self.first()) {
            (Some(last), Some(first)) => {
                range.above_min(self.member(last)) && range.below_max(self.member(first))
            }
            _ => false,
        }
    }

    pub fn first_in_lex_range(&self, range: &LexRange) -> Option<NodeId> {
        if !self.in_lex_range(range) {
            return None;
        }
        let x = self.last_where_member(|member| !range.above_min(member));
        let x = self.next_at(x, 0);
        (x != NIL && range.below_max(self.member(x))).then_some(x)
    }

    pub fn last_in_lex_range(&self, range: &LexRange) -> Option<NodeId> {
        if !self.in_lex_range(range) {
            return None;
        }
        let x = self.last_where_member(|member| range.below_max(member));
        (x != HEAD && range.above_min(self.member(x))).then_some(x)
    }

    /// Like [`Self::last_where`], over members: the last node (or the header) of the
    /// run from the start whose members satisfy `before`.
    fn last_where_member(&self, before: impl Fn(&[u8]) -> bool) -> u32 {
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.next_at(x, i);
                if next == NIL || !before(self.member(next)) {
                    break;
                }
                x = next;
            }
        }
        x
    }

    /// Deletes the nodes from the first one `skip_while` rejects, for as long as
    /// `keep_going` accepts them (the shape of zslDeleteRangeBy{Score,Lex}).
    fn delete_while(
        &mut self,
        skip_while: impl Fn(&Self, u32) -> bool,
        keep_going: impl Fn(&Self, u32) -> bool,
    ) -> usize {
        let mut update = [HEAD; LEVELS_MAX];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.next_at(x, i);
                if next != NIL && skip_while(self, next) {
                    x = next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        let mut removed = 0;
        let mut x = self.next_at(x, 0);
        while x != NIL && keep_going(self, x) {
            let next = self.nodes[x as usize].next;
            self.delete_node(x, &update);
            removed += 1;
            x = next;
        }
        if removed > 0 {
            self.after_removals();
        }
        removed
    }

    pub fn delete_score_range(&mut self, range: &ScoreRange) -> usize {
        self.delete_while(
            |s, x| !range.above_min(s.score(x)),
            |s, x| range.below_max(s.score(x)),
        )
    }

    pub fn delete_lex_range(&mut self, range: &LexRange) -> usize {
        self.delete_while(
            |s, x| !range.above_min(s.member(x)),
            |s, x| range.below_max(s.member(x)),
        )
    }

    /// Deletes 0-based ranks `start..=end` (both within the list).
    pub fn delete_rank_range(&mut self, start: usize, end: usize) -> usize {
        let mut update = [HEAD; LEVELS_MAX];
        let mut traversed = 0u32;
        let mut x = HEAD;
        let start = start as u32 + 1;
        for i in (0..self.level).rev() {
            loop {
                let next = self.next_at(x, i);
                if next != NIL && traversed + self.span_at(x, i) < start {
                    traversed += self.span_at(x, i);
                    x = next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        let mut removed = 0;
        let mut rank = traversed as usize;
        let mut x = self.next_at(x, 0);
        while x != NIL && rank <= end {
            let next = self.nodes[x as usize].next;
            self.delete_node(x, &update);
            removed += 1;
            rank += 1;
            x = next;
        }
        if removed > 0 {
            self.after_removals();
        }
        removed
    }

    /// Every (member, score) in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], f64)> + '_ {
        Iter {
            list: self,
            front: self.nodes[HEAD as usize].next,
            back: self.tail,
            left: self.len(),
        }
    }

    /// Builds a list from members already in (score, member) order and unique.
    pub fn from_sorted(hasher: HashKey, sorted: impl Iterator<Item = (SmallBytes, f64)>) -> Self {
        let mut list = SkipList::new(hasher);
        let items: Vec<(SmallBytes, f64)> = sorted.collect();
        list.nodes.reserve_exact(items.len());
        let heights: Vec<usize> = (0..items.len()).map(|_| list.random_height()).collect();
        list.append_sorted(items.into_iter().zip(heights));
        list
    }

    /// Checks every structural invariant (tests only).
    #[cfg(test)]
    pub(crate) fn check(&self) {
        let mut x = self.nodes[HEAD as usize].next;
        let mut prev = NIL;
        let mut order = Vec::new();
        while x != NIL {
            assert_eq!(self.nodes[x as usize].prev, prev);
            if prev != NIL {
                let p = &self.nodes[prev as usize];
                assert!(
                    self.node_precedes(prev, self.score(x), self.member(x)) || p.score.is_nan()
                );
            }
            assert_eq!(self.find(self.member(x)), Some(x));
            order.push(x);
            prev = x;
            x = self.nodes[x as usize].next;
        }
        assert_eq!(self.tail, prev);
        assert_eq!(order.len(), self.len());
        for (rank, &x) in order.iter().enumerate() {
            assert_eq!(self.rank_of(x), rank);
            assert_eq!(self.at_rank(rank), Some(x));
        }
        // Spans: each upper link's span equals the rank distance.
        let rank_of = |x: u32| -> u32 {
            if x == HEAD {
                0
            } else {
                order
                    .iter()
                    .position(|&y| y == x)
                    .map_or(0, |r| r as u32 + 1)
            }
        };
        for i in 1..self.level {
            let mut x = HEAD;
            loop {
                let next = self.next_at(x, i);
                let want = if next == NIL {
                    self.len - rank_of(x)
                } else {
                    rank_of(next) - rank_of(x)
                };
                assert_eq!(self.span_at(x, i), want, "span at level {i}");
                if next != NIL {
                    let level = self.levels[self.block(x) + i - 1];
                    assert_eq!(level.next_score.to_bits(), self.score(next).to_bits());
                    assert_eq!(level.next_upper, self.nodes[next as usize].upper);
                }
                if next == NIL {
                    break;
                }
                x = next;
            }
        }
    }
}

struct Iter<'a> {
    list: &'a SkipList,
    front: u32,
    back: u32,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let node = &self.list.nodes[self.front as usize];
        self.front = node.next;
        self.left -= 1;
        Some((&node.member, node.score))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let node = &self.list.nodes[self.back as usize];
        self.back = node.prev;
        self.left -= 1;
        Some((&node.member, node.score))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> SkipList {
        SkipList::new(HashKey::new(11, 12))
    }

    #[test]
    fn inserts_keep_score_then_member_order_and_ranks() {
        let mut l = list();
        for i in 0..500u32 {
            let score = f64::from((i * 7919) % 97);
            l.insert(format!("m{i}").as_bytes(), score);
        }
        l.check();
        let items: Vec<(Vec<u8>, f64)> = l.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        let mut sorted = items.clone();
        sorted.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        assert_eq!(items, sorted);
        let rev: Vec<f64> = l.iter().rev().map(|(_, s)| s).collect();
        assert_eq!(rev.len(), 500);
    }

    #[test]
    fn removals_and_score_updates_keep_the_structure_consistent() {
        let mut l = list();
        for i in 0..300 {
            l.insert(format!("m{i}").as_bytes(), f64::from(i));
        }
        for i in (0..300).step_by(3) {
            assert_eq!(l.remove(format!("m{i}").as_bytes()), Some(f64::from(i)));
        }
        assert_eq!(l.remove(b"m0"), None);
        l.check();
        for i in (1..300).step_by(3) {
            let x = l.find(format!("m{i}").as_bytes()).unwrap();
            l.update_score(x, f64::from(300 - i));
        }
        l.check();
        assert_eq!(l.len(), 200);
    }

    #[test]
    fn mass_removal_compacts_the_arena() {
        let mut l = list();
        for i in 0..2000 {
            l.insert(format!("m{i}").as_bytes(), f64::from(i));
        }
        for i in 0..1900 {
            l.remove(format!("m{i}").as_bytes());
        }
        l.check();
        assert!(l.nodes.len() < 400, "arena holds {} nodes", l.nodes.len());
        assert!(l.buckets.len() <= 256);
        assert_eq!(
            l.first().map(|x| l.member(x).to_vec()),
            Some(b"m1900".to_vec())
        );
    }

    #[test]
    fn range_deletions_remove_exactly_the_range() {
        let mut l = list();
        for i in 0..100 {
            l.insert(format!("m{i:03}").as_bytes(), f64::from(i / 10));
        }
        let range = ScoreRange {
            min: 2.0,
            max: 4.0,
            min_ex: false,
            max_ex: true,
        };
        assert_eq!(l.delete_score_range(&range), 20);
        l.check();
        assert_eq!(l.delete_rank_range(0, 9), 10);
        l.check();
        let lex = LexRange {
            min: LexBound::Incl(b"m050".to_vec()),
            max: LexBound::Excl(b"m060".to_vec()),
        };
        assert_eq!(l.delete_lex_range(&lex), 10);
        l.check();
        assert_eq!(l.len(), 60);
    }

    #[test]
    fn range_lookups_find_the_bounds() {
        let mut l = list();
        for i in 0..50 {
            l.insert(format!("m{i}").as_bytes(), f64::from(i));
        }
        let r = ScoreRange {
            min: 10.0,
            max: 20.0,
            min_ex: true,
            max_ex: false,
        };
        let first = l.first_in_score_range(&r).unwrap();
        let last = l.last_in_score_range(&r).unwrap();
        assert_eq!((l.score(first), l.score(last)), (11.0, 20.0));
        assert_eq!(l.rank_of(last) - l.rank_of(first) + 1, 10);
        let empty = ScoreRange {
            min: 5.0,
            max: 5.0,
            min_ex: true,
            max_ex: false,
        };
        assert_eq!(l.first_in_score_range(&empty), None);
    }

    #[test]
    fn scan_visits_every_member_once_without_resizes() {
        let mut l = list();
        for i in 0..1000 {
            l.insert(format!("m{i}").as_bytes(), 1.0);
        }
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            cursor = l.scan(cursor, |m, _| seen.push(m.to_vec()));
            if cursor == 0 {
                break;
            }
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 1000);
    }

    #[test]
    fn random_operations_match_a_sorted_model() {
        use std::collections::BTreeMap;
        let mut l = list();
        let mut model: BTreeMap<Vec<u8>, f64> = BTreeMap::new();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut draw = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for step in 0..30_000 {
            let member = format!("m{}", draw(600)).into_bytes();
            let score = (draw(40) as f64) / 4.0;
            match draw(10) {
                0..=4 => match l.find(&member) {
                    Some(x) => l.update_score(x, score),
                    None => {
                        l.insert(&member, score);
                    }
                },
                5..=7 => {
                    assert_eq!(l.remove(&member), model.remove(&member));
                    continue;
                }
                8 => {
                    let lo = draw(40) as f64 / 4.0;
                    let range = ScoreRange {
                        min: lo,
                        max: lo + 0.5,
                        min_ex: false,
                        max_ex: false,
                    };
                    let n = l.delete_score_range(&range);
                    let before = model.len();
                    model.retain(|_, v| !(*v >= lo && *v <= lo + 0.5));
                    assert_eq!(n, before - model.len());
                    continue;
                }
                _ => {
                    if !l.is_empty() {
                        let start = draw(l.len() as u64) as usize;
                        let end = (start + draw(5) as usize).min(l.len() - 1);
                        let mut sorted: Vec<(Vec<u8>, f64)> =
                            model.iter().map(|(m, s)| (m.clone(), *s)).collect();
                        sorted.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                        for (m, _) in &sorted[start..=end] {
                            model.remove(m);
                        }
                        assert_eq!(l.delete_rank_range(start, end), end - start + 1);
                    }
                    continue;
                }
            }
            model.insert(member, score);
            if step % 1000 == 0 {
                l.check();
            }
        }
        l.check();
        let got: Vec<(Vec<u8>, f64)> = l.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        let mut want: Vec<(Vec<u8>, f64)> = model.into_iter().collect();
        want.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        assert_eq!(got, want);
    }

    #[test]
    fn built_from_sorted_input_is_consistent() {
        let items = (0..1000).map(|i| (SmallBytes::new(format!("m{i:04}").as_bytes()), 1.0));
        let l = SkipList::from_sorted(HashKey::new(1, 1), items);
        l.check();
        assert_eq!(l.len(), 1000);
    }
}
