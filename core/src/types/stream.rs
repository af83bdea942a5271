//! Streams (Redis's stream.h / t_stream.c): entries in ID order, stored as Redis
//! stores them, so RDB can write the blocks verbatim.
//!
//! The entries live in listpack blocks keyed by their master ID (Redis keeps them in a
//! rax keyed by the big-endian ID; an ordered map gives the same order). Each block is
//! Redis's exact layout:
//!
//! ```text
//! master entry: <count> <deleted> <num-fields> <field>... <0>
//! entry:        <flags> <ms-diff> <seq-diff> [<num-fields> <field> <value>]... | <value>...
//!               <lp-count>
//! ```
//!
//! An entry whose fields equal the master entry's (flag SAMEFIELDS) stores only its
//! values; a deleted entry keeps its bytes with flag DELETED until its whole block is
//! empty, as in Redis. Consumer groups keep their pending entries lists (PEL) in ordered
//! maps, one per group and one per consumer, as Redis's rax trees do.

use std::collections::{BTreeMap, BTreeSet};

use crate::listpack::{Listpack, LpValue};
use crate::util::num::{parse_i64, u64_digits};

/// Redis's STREAM_ITEM_FLAG_DELETED.
pub const FLAG_DELETED: i64 = 1;
/// Redis's STREAM_ITEM_FLAG_SAMEFIELDS.
pub const FLAG_SAMEFIELDS: i64 = 2;
/// Redis's STREAM_LISTPACK_MAX_SIZE: the cap on a block's bytes.
pub const BLOCK_BYTES_MAX: u64 = 1 << 30;
/// Redis's SCG_INVALID_ENTRIES_READ: a group's read counter is unknown.
pub const ENTRIES_READ_UNKNOWN: i64 = -1;

/// A stream entry ID: milliseconds and a sequence number, ordered as a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next ID (Redis's streamIncrID); `None` past the last one.
    pub fn incr(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous ID (streamDecrID); `None` before 0-0.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// `<ms>-<seq>`, as replies and propagated commands spell it.
    pub fn to_bytes(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(41);
        let mut buf = [0u8; 20];
        out.extend_from_slice(u64_digits(self.ms, &mut buf));
        out.push(b'-');
        out.extend_from_slice(u64_digits(self.seq, &mut buf));
        out
    }

    /// The 16-byte big-endian form Redis uses as rax keys and in RDB.
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.ms.to_be_bytes());
        out[8..].copy_from_slice(&self.seq.to_be_bytes());
        out
    }

    pub fn from_be_bytes(b: &[u8; 16]) -> StreamId {
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&b[..8]);
        seq.copy_from_slice(&b[8..]);
        StreamId::new(u64::from_be_bytes(ms), u64::from_be_bytes(seq))
    }
}

/// One field/value pair of an entry, owned.
pub type Pair = (Vec<u8>, Vec<u8>);

/// An entry of the stream as commands see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: StreamId,
    pub fields: Vec<Pair>,
}

/// A pending entry of a consumer group: delivered, not yet acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// Unix ms of the last delivery.
    pub delivery_time: u64,
    pub delivery_count: u64,
    pub consumer: Vec<u8>,
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Consumer {
    /// Unix ms the consumer last read or claimed (7.0's seen-time).
    pub seen_time: u64,
    /// The IDs pending for this consumer; details in the group's PEL.
    pub pending: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    pub last_id: StreamId,
    /// Entries the group has read, or [`ENTRIES_READ_UNKNOWN`].
    pub entries_read: i64,
    pub pending: BTreeMap<StreamId, PendingEntry>,
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            ..Group::default()
        }
    }

    /// The consumer named `name`, created (seen now) if new; true when created.
    pub fn consumer_or_create(&mut self, name: &[u8], now: u64) -> (&mut Consumer, bool) {
        let created = !self.consumers.contains_key(name);
        let consumer = self.consumers.entry(name.to_vec()).or_insert(Consumer {
            seen_time: now,
            pending: BTreeSet::new(),
        });
        (consumer, created)
    }

    /// Removes `id` from the group's PEL and its consumer's; true if it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        let Some(pe) = self.pending.remove(&id) else {
            return false;
        };
        if let Some(c) = self.consumers.get_mut(&pe.consumer) {
            c.pending.remove(&id);
        }
        true
    }

    /// Deletes a consumer, dropping its pending entries from the group; returns how
    /// many it had, or `None` if there was no such consumer.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let consumer = self.consumers.remove(name)?;
        for id in &consumer.pending {
            self.pending.remove(id);
        }
        Some(consumer.pending.len())
    }

    /// Makes `id` pending for `consumer` (delivered now), moving it from another
    /// consumer if it was pending there. `count` replaces the delivery count.
    pub fn assign(&mut self, id: StreamId, consumer: &[u8], delivery_time: u64, count: u64) {
        if let Some(old) = self.pending.get(&id) {
            if old.consumer != consumer {
                let old_owner = old.consumer.clone();
                if let Some(c) = self.consumers.get_mut(&old_owner) {
                    c.pending.remove(&id);
                }
            }
        }
        self.pending.insert(
            id,
            PendingEntry {
                delivery_time,
                delivery_count: count,
                consumer: consumer.to_vec(),
            },
        );
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pending.insert(id);
        }
    }
}

/// What [`Stream::check_block`] found in a sound block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockCheck {
    pub live: u64,
    /// IDs of its first and last entries, deleted or not.
    pub first: StreamId,
    pub last: StreamId,
}

/// How XADD/XTRIM trim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    MaxLen(u64),
    MinId(StreamId),
}

/// A stream value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stream {
    /// Blocks keyed by master ID (the ID of their first entry ever added).
    blocks: BTreeMap<StreamId, Listpack>,
    length: u64,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted_entry_id: StreamId,
    pub entries_added: u64,
    /// Groups by name, in name order as Redis's rax keeps them.
    pub groups: BTreeMap<Vec<u8>, Group>,
}

/// One decoded entry of a block.
struct Slot<'a> {
    id: StreamId,
    flags: i64,
    /// Offset of the entry's flags element.
    flags_off: usize,
    pairs: Vec<(LpValue<'a>, LpValue<'a>)>,
}

impl Slot<'_> {
    fn deleted(&self) -> bool {
        self.flags & FLAG_DELETED != 0
    }

    fn to_entry(&self) -> Entry {
        Entry {
            id: self.id,
            fields: self
                .pairs
                .iter()
                .map(|(f, v)| (f.to_vec(), v.to_vec()))
                .collect(),
        }
    }
}

fn lp_int(v: LpValue<'_>) -> Option<i64> {
    match v {
        LpValue::Int(n) => Some(n),
        LpValue::Str(s) => parse_i64(s),
    }
}

/// Reads the integer at `off` and the offset after it.
fn int_at(lp: &Listpack, off: usize) -> Option<(i64, Option<usize>)> {
    Some((lp_int(lp.get(off))?, lp.next(off)))
}

/// Decodes every entry of a block (deleted ones too); `None` if the bytes do not
/// follow the stream layout (only possible for a block loaded from outside).
fn decode_block(master: StreamId, lp: &Listpack) -> Option<Vec<Slot<'_>>> {
    let (_count, off) = int_at(lp, lp.first()?)?;
    let (_deleted, off) = int_at(lp, off?)?;
    let (nfields, mut off) = int_at(lp, off?)?;
    let mut master_fields = Vec::new();
    for _ in 0..nfields {
        let at = off?;
        master_fields.push(lp.get(at));
        off = lp.next(at);
    }
    // The master entry's zero terminator.
    let (zero, mut off) = int_at(lp, off?)?;
    if zero != 0 {
        return None;
    }
    let mut slots = Vec::new();
    while let Some(flags_off) = off {
        let (flags, next) = int_at(lp, flags_off)?;
        let (ms_diff, next) = int_at(lp, next?)?;
        let (seq_diff, mut next) = int_at(lp, next?)?;
        let id = StreamId::new(
            master.ms.wrapping_add(ms_diff as u64),
            master.seq.wrapping_add(seq_diff as u64),
        );
        let mut pairs = Vec::new();
        if flags & FLAG_SAMEFIELDS != 0 {
            for field in &master_fields {
                let at = next?;
                pairs.push((*field, lp.get(at)));
                next = lp.next(at);
            }
        } else {
            let (n, mut at) = int_at(lp, next?)?;
            if n < 0 {
                return None;
            }
            for _ in 0..n {
                let f = at?;
                let v = lp.next(f)?;
                pairs.push((lp.get(f), lp.get(v)));
                at = lp.next(v);
            }
            next = at;
        }
        // lp-count: the entry's element count, as Redis's deep check wants it.
        let (lp_count, after) = int_at(lp, next?)?;
        let values = pairs.len() as i64;
        let expected = if flags & FLAG_SAMEFIELDS != 0 {
            values + 3
        } else {
            2 * values + 4
        };
        if lp_count != expected {
            return None;
        }
        slots.push(Slot {
            id,
            flags,
            flags_off,
            pairs,
        });
        off = after;
    }
    Some(slots)
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    /// Live entries.
    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Number of blocks (XINFO STREAM's radix-tree-keys).
    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }

    /// Nodes of the rax Redis would hold for these block keys (XINFO STREAM's
    /// radix-tree-nodes): the compressed trie over the 16-byte big-endian IDs.
    pub fn rax_node_count(&self) -> usize {
        let keys: Vec<[u8; 16]> = self.blocks.keys().map(|id| id.to_be_bytes()).collect();
        if keys.is_empty() {
            return 1;
        }
        rax_nodes_from(&keys, 0)
    }

    /// The blocks with their master IDs, in order (for RDB).
    pub fn blocks(&self) -> impl Iterator<Item = (&StreamId, &Listpack)> {
        self.blocks.iter()
    }

    /// Rebuilds a stream from loaded parts; the caller has checked the blocks decode.
    pub fn from_parts(
        blocks: BTreeMap<StreamId, Listpack>,
        length: u64,
        last_id: StreamId,
        first_id: StreamId,
        max_deleted_entry_id: StreamId,
        entries_added: u64,
    ) -> Stream {
        Stream {
            blocks,
            length,
            last_id,
            first_id,
            max_deleted_entry_id,
            entries_added,
            groups: BTreeMap::new(),
        }
    }

    /// Checks that a block's bytes follow the stream layout, its counters add up
    /// and its IDs ascend (RDB and RESTORE check every block).
    pub fn check_block(master: StreamId, lp: &Listpack) -> Option<BlockCheck> {
        let slots = decode_block(master, lp)?;
        let first = lp.first()?;
        let count = lp_int(lp.get(first))?;
        let deleted = lp_int(lp.get(lp.next(first)?))?;
        let live = slots.iter().filter(|s| !s.deleted()).count() as i64;
        let in_order = slots.windows(2).all(|w| w[0].id < w[1].id);
        let sound = count == live && deleted == slots.len() as i64 - live && in_order;
        // A block with no live entry is removed, never stored.
        if !sound || live == 0 {
            return None;
        }
        Some(BlockCheck {
            live: live as u64,
            first: slots.first()?.id,
            last: slots.last()?.id,
        })
    }

    /// The ID the next auto-generated entry gets at `now_ms` (streamNextID), or
    /// `None` when the stream has used the last possible ID.
    pub fn next_auto_id(&self, now_ms: u64) -> Option<StreamId> {
        if self.last_id.ms < now_ms {
            Some(StreamId::new(now_ms, 0))
        } else {
            self.last_id.incr()
        }
    }

    /// Appends an entry with `id`, which the caller has checked is above `last_id`
    /// (streamAppendItem after its checks). `node_max_bytes`/`node_max_entries` are
    /// the stream-node-max-* settings.
    pub fn append(
        &mut self,
        id: StreamId,
        fields: &[(&[u8], &[u8])],
        node_max_bytes: u64,
        node_max_entries: i64,
    ) {
        let node_max_bytes = if node_max_bytes == 0 || node_max_bytes > BLOCK_BYTES_MAX {
            BLOCK_BYTES_MAX
        } else {
            node_max_bytes
        };
        let fields_bytes: u64 = fields.iter().map(|(f, v)| (f.len() + v.len()) as u64).sum();
        let reuse = self.blocks.iter().next_back().and_then(|(master, lp)| {
            let full = lp.bytes_len() as u64 + fields_bytes >= node_max_bytes
                || (node_max_entries > 0 && block_count_all(lp) >= node_max_entries);
            (!full).then_some(*master)
        });
        let (master, same_fields) = match reuse {
            Some(master) => {
                let lp = self.blocks.get_mut(&master);
                let same = lp.map(|lp| bump_block_count(lp, fields)).unwrap_or(false);
                (master, same)
            }
            None => {
                self.blocks.insert(id, new_block(fields));
                (id, true)
            }
        };
        if let Some(lp) = self.blocks.get_mut(&master) {
            append_slot(lp, master, id, fields, same_fields);
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
    }

    /// The live entries from `start` to `end` inclusive, ascending or (`rev`)
    /// descending, at most `count` of them (0: all).
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool, count: usize) -> Vec<Entry> {
        let mut out = Vec::new();
        if start > end {
            return out;
        }
        let full = |out: &Vec<Entry>| count != 0 && out.len() >= count;
        if rev {
            for (master, lp) in self.blocks.range(..=end).rev() {
                let Some(slots) = decode_block(*master, lp) else {
                    continue;
                };
                for slot in slots.iter().rev() {
                    if slot.deleted() || slot.id > end {
                        continue;
                    }
                    if slot.id < start || full(&out) {
                        return out;
                    }
                    out.push(slot.to_entry());
                }
                if *master <= start {
                    break;
                }
            }
        } else {
            let from = self
                .blocks
                .range(..=start)
                .next_back()
                .map_or(StreamId::MIN, |(m, _)| *m);
            for (master, lp) in self.blocks.range(from..) {
                if *master > end {
                    break;
                }
                let Some(slots) = decode_block(*master, lp) else {
                    continue;
                };
                for slot in &slots {
                    if slot.deleted() || slot.id < start {
                        continue;
                    }
                    if slot.id > end || full(&out) {
                        return out;
                    }
                    out.push(slot.to_entry());
                }
            }
        }
        out
    }

    /// The live entry `id`, if any.
    pub fn get(&self, id: StreamId) -> Option<Entry> {
        self.range(id, id, false, 1).pop()
    }

    /// The first (or with `last`, the last) live entry's ID (streamGetEdgeID).
    pub fn edge_id(&self, last: bool) -> Option<StreamId> {
        let found = if last {
            self.range(StreamId::MIN, StreamId::MAX, true, 1)
        } else {
            self.range(StreamId::MIN, StreamId::MAX, false, 1)
        };
        found.first().map(|e| e.id)
    }

    /// The last live entry's ID, 0-0 when empty (streamLastValidID).
    pub fn last_valid_id(&self) -> StreamId {
        self.edge_id(true).unwrap_or_default()
    }

    /// Marks entry `id` deleted (streamDeleteItem); true if it was live. Keeps
    /// `first_id` and `max_deleted_entry_id` as XDEL does.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&master, _)) = self.blocks.range(..=id).next_back() else {
            return false;
        };
        let Some(lp) = self.blocks.get_mut(&master) else {
            return false;
        };
        let flags_off = match decode_block(master, lp) {
            Some(slots) => slots
                .iter()
                .find(|s| s.id == id && !s.deleted())
                .map(|s| (s.flags_off, s.flags)),
            None => None,
        };
        let Some((off, flags)) = flags_off else {
            return false;
        };
        if mark_deleted(lp, off, flags) == 0 {
            self.blocks.remove(&master);
        }
        self.length = self.length.saturating_sub(1);
        if id > self.max_deleted_entry_id {
            self.max_deleted_entry_id = id;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if id == self.first_id {
            self.first_id = self.edge_id(false).unwrap_or_default();
        }
        true
    }

    /// Trims as streamTrim does: whole blocks while they may go, then (unless
    /// `approx`) entries within the first block that must keep some. `limit` caps
    /// the entries removed (0: none). Returns how many were removed.
    pub fn trim(&mut self, trim: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        while let Some((&master, lp)) = self.blocks.iter().next() {
            if let Trim::MaxLen(max) = trim {
                if self.length <= max {
                    break;
                }
            }
            let entries = block_count_live(lp).max(0) as u64;
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let remove_block = match trim {
                Trim::MaxLen(max) => self.length.saturating_sub(entries) >= max,
                Trim::MinId(min) => block_last_id(master, lp).is_some_and(|last| last < min),
            };
            if remove_block {
                self.blocks.remove(&master);
                self.length = self.length.saturating_sub(entries);
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            deleted += self.trim_within_block(master, trim);
            break;
        }
        self.first_id = if self.length == 0 {
            StreamId::MIN
        } else {
            self.edge_id(false).unwrap_or_default()
        };
        deleted
    }

    /// Marks entries of the block at `master` deleted from its start while the trim
    /// asks (the block keeps at least one live entry).
    fn trim_within_block(&mut self, master: StreamId, trim: Trim) -> u64 {
        let Some(lp) = self.blocks.get_mut(&master) else {
            return 0;
        };
        let Some(slots) = decode_block(master, lp) else {
            return 0;
        };
        let mut to_mark = Vec::new();
        let mut length = self.length;
        for slot in &slots {
            let stop = match trim {
                Trim::MaxLen(max) => length <= max,
                Trim::MinId(min) => slot.id >= min,
            };
            if stop {
                break;
            }
            if !slot.deleted() {
                to_mark.push((slot.flags_off, slot.flags));
                length = length.saturating_sub(1);
            }
        }
        // Back to front, so earlier offsets stay valid while later elements change.
        let marked = to_mark.len() as u64;
        for &(off, flags) in to_mark.iter().rev() {
            lp.replace(off, &int_text(flags | FLAG_DELETED));
        }
        adjust_counts(lp, -(marked as i64), marked as i64);
        self.length = length;
        marked
    }

    /// Whether deleted entries may lie within `start..=end` (streamRangeHasTombstones).
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.length == 0 || self.max_deleted_entry_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_entry_id {
            return false;
        }
        start <= self.max_deleted_entry_id && self.max_deleted_entry_id <= end
    }

    /// How many entries were added up to and including `id`, or
    /// [`ENTRIES_READ_UNKNOWN`] (streamEstimateDistanceFromFirstEverEntry).
    pub fn estimate_entries_read(&self, id: StreamId) -> i64 {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return added;
        }
        if id == self.last_id {
            return added;
        }
        if id > self.last_id {
            return ENTRIES_READ_UNKNOWN;
        }
        if self.max_deleted_entry_id.is_zero() || self.max_deleted_entry_id < self.first_id {
            if id < self.first_id {
                return added.wrapping_sub(self.length as i64);
            }
            if id == self.first_id {
                return added.wrapping_sub(self.length as i64).wrapping_add(1);
            }
        }
        ENTRIES_READ_UNKNOWN
    }

    /// A group's lag (XINFO GROUPS/STREAM FULL), `None` when unknown (streamCGLag).
    pub fn group_lag(&self, group: &Group) -> Option<i64> {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return Some(0);
        }
        if group.entries_read != ENTRIES_READ_UNKNOWN
            && !self.range_has_tombstones(group.last_id, StreamId::MAX)
        {
            return Some(added.wrapping_sub(group.entries_read));
        }
        match self.estimate_entries_read(group.last_id) {
            ENTRIES_READ_UNKNOWN => None,
            read => Some(added.wrapping_sub(read)),
        }
    }

    /// Moves a group's last-delivered ID forward to `id` after delivering it, keeping
    /// its read counter as streamReplyWithRange does; true if it moved.
    pub fn advance_group(&self, group: &mut Group, id: StreamId) -> bool {
        if id <= group.last_id {
            return false;
        }
        if group.entries_read != ENTRIES_READ_UNKNOWN
            && !self.range_has_tombstones(id, StreamId::MAX)
        {
            group.entries_read = group.entries_read.wrapping_add(1);
        } else if self.entries_added != 0 {
            group.entries_read = self.estimate_entries_read(id);
        }
        group.last_id = id;
        true
    }
}

/// Nodes of the compressed trie for sorted, distinct, equal-length `keys` sharing
/// their first `depth` bytes, counting the node that starts at `depth`: a node
/// compresses the run of bytes all keys share, then branches (rax's shape, which
/// its inserts and deletes keep).
fn rax_nodes_from(keys: &[[u8; 16]], depth: usize) -> usize {
    if depth == 16 {
        return 1;
    }
    let (first, last) = (&keys[0], &keys[keys.len() - 1]);
    let common = (depth..16).take_while(|&i| first[i] == last[i]).count();
    if common > 0 {
        // A compressed node for the shared run, then the node where it ends.
        return 1 + rax_branch_nodes(keys, depth + common);
    }
    rax_branch_nodes(keys, depth)
}

/// The node at `depth` (a leaf at the end of the keys, else a branch), plus what
/// hangs under each of its children.
fn rax_branch_nodes(keys: &[[u8; 16]], depth: usize) -> usize {
    if depth == 16 {
        return 1;
    }
    let mut total = 1;
    let mut start = 0;
    while start < keys.len() {
        let byte = keys[start][depth];
        let end = start
            + keys[start..]
                .iter()
                .take_while(|k| k[depth] == byte)
                .count();
        total += rax_nodes_from(&keys[start..end], depth + 1);
        start = end;
    }
    total
}

fn int_text(v: i64) -> Vec<u8> {
    let mut buf = [0u8; 20];
    crate::util::num::i64_digits(v, &mut buf).to_vec()
}

/// Live plus deleted entries of a block (the master entry's first two counters).
fn block_count_all(lp: &Listpack) -> i64 {
    let Some(first) = lp.first() else { return 0 };
    let count = lp_int(lp.get(first)).unwrap_or(0);
    let deleted = lp.next(first).and_then(|o| lp_int(lp.get(o))).unwrap_or(0);
    count + deleted
}

fn block_count_live(lp: &Listpack) -> i64 {
    lp.first().and_then(|o| lp_int(lp.get(o))).unwrap_or(0)
}

/// The ID of a block's last entry, deleted or not (lpGetEdgeStreamID).
fn block_last_id(master: StreamId, lp: &Listpack) -> Option<StreamId> {
    decode_block(master, lp)?.last().map(|s| s.id)
}

/// A new block holding the master entry for `fields` (its first entry is added next).
fn new_block(fields: &[(&[u8], &[u8])]) -> Listpack {
    let mut lp = Listpack::new();
    lp.push_back_int(0); // live count, bumped when the entry is added
    lp.push_back_int(0);
    lp.push_back_int(fields.len() as i64);
    for (f, _) in fields {
        lp.push_back(f);
    }
    lp.push_back_int(0);
    lp
}

/// Adds one to a block's live count; returns whether `fields` match the master's.
fn bump_block_count(lp: &mut Listpack, fields: &[(&[u8], &[u8])]) -> bool {
    let Some(first) = lp.first() else {
        return false;
    };
    let same = master_fields_equal(lp, first, fields);
    let count = lp_int(lp.get(first)).unwrap_or(0);
    lp.replace(first, &int_text(count + 1));
    same
}

fn master_fields_equal(lp: &Listpack, first: usize, fields: &[(&[u8], &[u8])]) -> bool {
    let Some(nf_off) = lp.next(first).and_then(|o| lp.next(o)) else {
        return false;
    };
    if lp_int(lp.get(nf_off)) != Some(fields.len() as i64) {
        return false;
    }
    let mut off = lp.next(nf_off);
    for (f, _) in fields {
        let Some(at) = off else { return false };
        let mut buf = [0u8; 20];
        if lp.get(at).to_bytes(&mut buf) != *f {
            return false;
        }
        off = lp.next(at);
    }
    true
}

/// Appends an entry's elements to its block (the tail of streamAppendItem).
fn append_slot(
    lp: &mut Listpack,
    master: StreamId,
    id: StreamId,
    fields: &[(&[u8], &[u8])],
    same_fields: bool,
) {
    if master == id {
        // A new block: its live count starts here.
        if let Some(first) = lp.first() {
            lp.replace(first, b"1");
        }
    }
    let flags = if same_fields { FLAG_SAMEFIELDS } else { 0 };
    lp.push_back_int(flags);
    lp.push_back_int(id.ms.wrapping_sub(master.ms) as i64);
    lp.push_back_int(id.seq.wrapping_sub(master.seq) as i64);
    if !same_fields {
        lp.push_back_int(fields.len() as i64);
    }
    for (f, v) in fields {
        if !same_fields {
            lp.push_back(f);
        }
        lp.push_back(v);
    }
    let n = fields.len() as i64;
    let lp_count = if same_fields { n + 3 } else { n + 3 + n + 1 };
    lp.push_back_int(lp_count);
}

/// Flags the entry at `off` deleted and moves it from the live to the deleted
/// count; returns the block's remaining live count.
fn mark_deleted(lp: &mut Listpack, off: usize, flags: i64) -> i64 {
    lp.replace(off, &int_text(flags | FLAG_DELETED));
    adjust_counts(lp, -1, 1)
}

/// Adds to a block's live and deleted counters; returns the new live count.
fn adjust_counts(lp: &mut Listpack, live: i64, deleted: i64) -> i64 {
    // The deleted counter sits after the live one: change it first so the live
    // counter's offset stays valid.
    let Some(first) = lp.first() else { return 0 };
    let count = lp_int(lp.get(first)).unwrap_or(0) + live;
    if let Some(del_off) = lp.next(first) {
        let d = lp_int(lp.get(del_off)).unwrap_or(0) + deleted;
        lp.replace(del_off, &int_text(d));
    }
    if let Some(first) = lp.first() {
        lp.replace(first, &int_text(count));
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(s: &mut Stream, ms: u64, seq: u64, fields: &[(&[u8], &[u8])]) {
        s.append(StreamId::new(ms, seq), fields, 4096, 100);
    }

    #[test]
    fn entries_come_back_in_id_order_with_their_fields() {
        let mut s = Stream::new();
        add(&mut s, 1, 0, &[(b"a", b"1"), (b"b", b"x")]);
        add(&mut s, 1, 1, &[(b"a", b"2"), (b"b", b"y")]);
        add(&mut s, 2, 0, &[(b"c", b"3")]);
        let all = s.range(StreamId::MIN, StreamId::MAX, false, 0);
        assert_eq!(all.len(), 3);
        assert_eq!(
            all[1].fields,
            vec![
                (b"a".to_vec(), b"2".to_vec()),
                (b"b".to_vec(), b"y".to_vec())
            ]
        );
        assert_eq!(all[2].fields, vec![(b"c".to_vec(), b"3".to_vec())]);
        let rev = s.range(StreamId::MIN, StreamId::MAX, true, 2);
        assert_eq!(
            rev.iter().map(|e| e.id).collect::<Vec<_>>(),
            [StreamId::new(2, 0), StreamId::new(1, 1)]
        );
        assert_eq!(s.block_count(), 1);
    }

    #[test]
    fn a_block_holds_at_most_node_max_entries() {
        let mut s = Stream::new();
        for i in 1..=250 {
            add(&mut s, i, 0, &[(b"f", b"v")]);
        }
        assert_eq!(s.block_count(), 3);
        assert_eq!(
            s.range(StreamId::new(99, 0), StreamId::new(102, 0), false, 0)
                .len(),
            4
        );
        assert_eq!(
            s.range(StreamId::new(99, 0), StreamId::new(102, 0), true, 0)
                .len(),
            4
        );
    }

    #[test]
    fn deleting_every_entry_of_a_block_drops_the_block() {
        let mut s = Stream::new();
        for i in 1..=3 {
            add(&mut s, i, 0, &[(b"f", b"v")]);
        }
        assert!(s.delete(StreamId::new(2, 0)));
        assert!(!s.delete(StreamId::new(2, 0)));
        assert_eq!(s.len(), 2);
        assert!(s.delete(StreamId::new(1, 0)));
        assert_eq!(s.first_id, StreamId::new(3, 0));
        assert!(s.delete(StreamId::new(3, 0)));
        assert_eq!(s.block_count(), 0);
        assert_eq!(s.first_id, StreamId::MIN);
        assert_eq!(s.max_deleted_entry_id, StreamId::new(3, 0));
    }

    #[test]
    fn exact_trim_marks_entries_inside_a_block() {
        let mut s = Stream::new();
        for i in 1..=10 {
            add(&mut s, i, 0, &[(b"f", b"v")]);
        }
        assert_eq!(s.trim(Trim::MaxLen(4), false, 0), 6);
        assert_eq!(s.len(), 4);
        assert_eq!(s.first_id, StreamId::new(7, 0));
        assert_eq!(s.trim(Trim::MinId(StreamId::new(9, 0)), false, 0), 2);
        assert_eq!(s.edge_id(false), Some(StreamId::new(9, 0)));
        assert_eq!(
            Stream::check_block(StreamId::new(1, 0), s.blocks().next().unwrap().1).map(|c| c.live),
            Some(2)
        );
    }
}
