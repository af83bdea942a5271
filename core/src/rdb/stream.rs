//! Stream values in RDB (types 15, 19 and 21), read as Redis 7.0's rdbLoadObject
//! reads them, with every block and PEL cross-checked so that a corrupt file is
//! refused rather than loaded into a stream that breaks later.
//!
//! ```text
//! <blocks> { <master id: 16-byte string> <listpack string> }...
//! <length> <last id> [<first id> <max deleted id> <entries added>]   (15: no [...])
//! <groups> { <name> <last id> [<entries read>]
//!            <pel> { <16-byte id> <delivery ms: u64 LE> <delivery count> }...
//!            <consumers> { <name> <seen ms: u64 LE> [<active ms: u64 LE>] (21 only)
//!                          <pel> { <16-byte id> }... }... }...
//! ```

use std::collections::{BTreeMap, BTreeSet};

use super::error::RdbErrorKind;
use super::reader::{Reader, Result};
use super::value_type as ty;
use crate::listpack::Listpack;
use crate::types::stream::{Consumer, Group, PendingEntry, Stream, StreamId};

/// Smallest encoding of one block: a 16-byte key string and a listpack string.
const BLOCK_BYTES_MIN: usize = 17 + 8;
/// Smallest encodings of a PEL entry, a consumer and a group.
const PEL_ENTRY_BYTES_MIN: usize = 16 + 8 + 1;
const CONSUMER_BYTES_MIN: usize = 1 + 8 + 1;
const GROUP_BYTES_MIN: usize = 1 + 2 + 2;

fn bad(r: &Reader<'_>, why: &'static str) -> super::RdbLoadError {
    r.error(RdbErrorKind::BadStream(why))
}

fn id_pair(r: &mut Reader<'_>) -> Result<StreamId> {
    Ok(StreamId::new(r.length()?, r.length()?))
}

fn raw_id(r: &mut Reader<'_>) -> Result<StreamId> {
    Ok(StreamId::from_be_bytes(&r.array::<16>()?))
}

fn millis(r: &mut Reader<'_>) -> Result<u64> {
    Ok(u64::from_le_bytes(r.array::<8>()?))
}

/// Reads a stream value of type `t` (the type byte is at `start`).
pub fn read_stream(r: &mut Reader<'_>, start: usize, t: u8) -> Result<Stream> {
    let (blocks, live) = read_blocks(r)?;
    let length = r.length()?;
    let last_id = id_pair(r)?;
    let (first_id, max_deleted, entries_added) = if t >= ty::STREAM_LISTPACKS_2 {
        (id_pair(r)?, id_pair(r)?, r.length()?)
    } else {
        (StreamId::MIN, StreamId::MIN, length)
    };
    if length != live {
        return Err(Reader::error_at(
            start,
            RdbErrorKind::BadStream("length differs from the entries in the blocks"),
        ));
    }
    let mut stream = Stream::from_parts(
        blocks,
        length,
        last_id,
        first_id,
        max_deleted,
        entries_added,
    );
    if t < ty::STREAM_LISTPACKS_2 {
        stream.first_id = stream.edge_id(false).unwrap_or_default();
    }
    let groups = r.count(GROUP_BYTES_MIN)?;
    for _ in 0..groups {
        let name = r.string_vec()?;
        let group_last = id_pair(r)?;
        let entries_read = if t >= ty::STREAM_LISTPACKS_2 {
            r.length()? as i64
        } else {
            stream.estimate_entries_read(group_last)
        };
        let group = read_group(r, t, Group::new(group_last, entries_read))?;
        if stream.groups.insert(name, group).is_some() {
            return Err(bad(r, "duplicated consumer group name"));
        }
    }
    Ok(stream)
}

/// The blocks by master ID, each checked, and the live entries they hold.
fn read_blocks(r: &mut Reader<'_>) -> Result<(BTreeMap<StreamId, Listpack>, u64)> {
    let n = r.count(BLOCK_BYTES_MIN)?;
    let mut blocks = BTreeMap::new();
    let mut live = 0u64;
    let mut previous_last: Option<StreamId> = None;
    for _ in 0..n {
        let key = r.string()?;
        let Ok(key) = <[u8; 16]>::try_from(&key[..]) else {
            return Err(bad(r, "node key is not the size of a stream ID"));
        };
        let master = StreamId::from_be_bytes(&key);
        let at = r.pos();
        let bytes = r.string_vec()?;
        let lp = Listpack::from_bytes(bytes)
            .map_err(|e| Reader::error_at(at, RdbErrorKind::BadListpack(e.kind)))?;
        let Some(check) = Stream::check_block(master, &lp) else {
            return Err(Reader::error_at(
                at,
                RdbErrorKind::BadStream("listpack integrity check failed"),
            ));
        };
        if previous_last.is_some_and(|last| check.first <= last) {
            return Err(Reader::error_at(
                at,
                RdbErrorKind::BadStream("blocks out of order"),
            ));
        }
        previous_last = Some(check.last);
        live += check.live;
        if blocks.insert(master, lp).is_some() {
            return Err(bad(r, "listpack re-added with existing key"));
        }
    }
    Ok((blocks, live))
}

/// A group's PEL and consumers; every pending entry must belong to one consumer.
fn read_group(r: &mut Reader<'_>, t: u8, mut group: Group) -> Result<Group> {
    let pel = r.count(PEL_ENTRY_BYTES_MIN)?;
    for _ in 0..pel {
        let id = raw_id(r)?;
        let delivery_time = millis(r)?;
        let delivery_count = r.length()?;
        let entry = PendingEntry {
            delivery_time,
            delivery_count,
            consumer: Vec::new(),
        };
        if group.pending.insert(id, entry).is_some() {
            return Err(bad(r, "duplicated global PEL entry"));
        }
    }
    let consumers = r.count(CONSUMER_BYTES_MIN)?;
    let mut owned = BTreeSet::new();
    for _ in 0..consumers {
        let name = r.string_vec()?;
        let seen_time = millis(r)?;
        if t >= ty::STREAM_LISTPACKS_3 {
            // Redis 7.2's active-time: Ember keeps 7.0's consumer fields only.
            millis(r)?;
        }
        let n = r.count(16)?;
        let mut pending = BTreeSet::new();
        for _ in 0..n {
            let id = raw_id(r)?;
            let Some(entry) = group.pending.get_mut(&id) else {
                return Err(bad(r, "consumer entry not found in group global PEL"));
            };
            if !owned.insert(id) || !pending.insert(id) {
                return Err(bad(r, "duplicated consumer PEL entry"));
            }
            entry.consumer = name.clone();
        }
        let consumer = Consumer { seen_time, pending };
        if group.consumers.insert(name, consumer).is_some() {
            return Err(bad(r, "duplicated consumer name"));
        }
    }
    if owned.len() != group.pending.len() {
        return Err(bad(r, "pending entry without a consumer"));
    }
    Ok(group)
}
