//! RDB files: Redis's snapshot format, read and written as pure byte transformations.
//!
//! [`load`] turns the bytes of a dump.rdb (RDB versions 1 to 10, every encoding Redis
//! 2.x to 7.0 writes except modules) into [`RdbContents`]; [`RdbWriter`]
//! produces RDB version 10 as Redis 7.0 writes it. Neither touches a file: the runtime
//! reads and writes the bytes.
//!
//! ```text
//! "REDIS" <4 digit version> { <opcode> ... | [<expire>] [<lru/lfu>] <type> <key> <value> } 0xFF <crc64 LE>
//! ```

mod crc64;
mod decode;
mod encode;
mod error;
pub mod lzf;
mod reader;
mod stream;
mod values;
mod ziplist;

pub use crc64::{crc64, update as crc64_update};
pub use decode::{
    functions_payload, load, load_observed, load_with, restore_payload, LoadEvent, LoadOptions,
};
pub use encode::{AuxInfo, KeyMeta, RdbWriter, SetEncoding, UnsupportedValue, ZSetEncoding};
pub use error::{RdbErrorKind, RdbLoadError};

use crate::types::set::SetLimits;
use crate::types::zset::Limits as ZSetLimits;
use crate::types::{Set, ZSet};
use crate::util::smallbytes::SmallBytes;
use crate::value::Value;

/// The version this crate writes (Redis 7.0).
pub const RDB_VERSION: u32 = 10;
/// The newest version [`load`] reads.
pub const RDB_VERSION_MAX: u32 = 10;

/// Opcodes: bytes that stand where a value type would, announcing something else.
pub mod opcode {
    /// Function library (Redis 7.0 GA): the library's code.
    pub const FUNCTION2: u8 = 245;
    /// Function, the Redis 7.0 release-candidate form.
    pub const FUNCTION_PRE_GA: u8 = 246;
    /// Module auxiliary data.
    pub const MODULE_AUX: u8 = 247;
    /// LRU idle time of the next key, in seconds.
    pub const IDLE: u8 = 248;
    /// LFU frequency counter of the next key.
    pub const FREQ: u8 = 249;
    /// An auxiliary field: two strings.
    pub const AUX: u8 = 250;
    /// Hash table size hints for the current database.
    pub const RESIZEDB: u8 = 251;
    /// Expire time of the next key, in milliseconds.
    pub const EXPIRETIME_MS: u8 = 252;
    /// Expire time of the next key, in seconds (RDB < 9 writers).
    pub const EXPIRETIME: u8 = 253;
    /// Switch to a database.
    pub const SELECTDB: u8 = 254;
    /// End of the file, followed by the checksum (version >= 5).
    pub const EOF: u8 = 255;
}

/// Value type bytes.
pub mod value_type {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE_PRE_GA: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    pub const SET_LISTPACK: u8 = 20;
    pub const STREAM_LISTPACKS_3: u8 = 21;
}

/// Everything a dump holds.
#[derive(Debug, Default, PartialEq)]
pub struct RdbContents {
    /// The file's RDB version.
    pub version: u32,
    /// AUX fields in file order (redis-ver, ctime, lua scripts, ...).
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    /// Function libraries' code (FUNCTION2 opcodes), for FUNCTION RESTORE-like loading.
    pub functions: Vec<Vec<u8>>,
    /// Databases in the order they first appear.
    pub dbs: Vec<RdbDb>,
    /// Empty collections found and dropped, as Redis does ("skipping empty key").
    pub empty_keys_skipped: u64,
    /// Offset just past the checksum: where an AOF with an RDB preamble continues.
    pub end_offset: usize,
}

impl RdbContents {
    /// The value of AUX field `name`.
    pub fn aux_field(&self, name: &[u8]) -> Option<&[u8]> {
        self.aux
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_slice())
    }

    /// Total keys over every database.
    pub fn key_count(&self) -> usize {
        self.dbs.iter().map(|db| db.entries.len()).sum()
    }
}

/// One database's keys.
#[derive(Debug, Default, PartialEq)]
pub struct RdbDb {
    pub index: u64,
    /// RESIZEDB hints: (keys, keys with an expire).
    pub resize: Option<(u64, u64)>,
    pub entries: Vec<RdbEntry>,
}

/// One key with its value and metadata.
#[derive(Debug, PartialEq)]
pub struct RdbEntry {
    pub key: Vec<u8>,
    pub value: RdbValue,
    /// Absolute expire time, Unix milliseconds.
    pub expire_ms: Option<i64>,
    /// LRU idle time in seconds (IDLE opcode).
    pub idle_secs: Option<u64>,
    /// LFU counter (FREQ opcode).
    pub freq: Option<u8>,
}

/// A loaded value: strings, lists and hashes as Ember values; sets and sorted sets in
/// a neutral form until their types can be built from it.
#[derive(Debug, Clone, PartialEq)]
pub enum RdbValue {
    Value(Value),
    /// Set members (distinct), in file order.
    Set(Vec<Vec<u8>>),
    /// Sorted set (member, score) pairs (distinct members, no NaN), in file order.
    ZSet(Vec<(Vec<u8>, f64)>),
}

impl RdbValue {
    /// The value as a key holds it, sets and sorted sets built in the encoding
    /// Redis 7.0's loader picks under `opts`' thresholds: an intset while every
    /// member is an integer and they fit `set-max-intset-entries`, a listpack
    /// sorted set while it fits the `zset-max-listpack-*` limits.
    pub fn into_value(self, opts: &LoadOptions) -> Value {
        match self {
            RdbValue::Value(v) => v,
            RdbValue::Set(members) => Value::Set(Box::new(build_set(&members, opts))),
            RdbValue::ZSet(pairs) => Value::ZSet(Box::new(build_zset(pairs, opts))),
        }
    }
}

fn build_set(members: &[Vec<u8>], opts: &LoadOptions) -> Set {
    let limits = SetLimits {
        max_intset_entries: opts.set_max_intset_entries,
        hasher: opts.hasher,
    };
    let mut set = match members.first() {
        Some(first) if members.len() as u64 <= opts.set_max_intset_entries => {
            Set::for_first(first, opts.hasher)
        }
        _ => Set::new_table(opts.hasher),
    };
    for member in members {
        set.insert(member, limits);
    }
    set
}

/// The loader refuses NaN scores and duplicate members, so a total order by
/// (score, member) is the set's rank order.
fn build_zset(mut pairs: Vec<(Vec<u8>, f64)>, opts: &LoadOptions) -> ZSet {
    pairs.sort_by(|(m1, s1), (m2, s2)| {
        s1.partial_cmp(s2)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| m1.cmp(m2))
    });
    let limits = ZSetLimits {
        entries: opts.zset_max_listpack_entries,
        value: opts.zset_max_listpack_value,
    };
    let items = pairs
        .into_iter()
        .map(|(m, s)| (SmallBytes::from_vec(m), s))
        .collect();
    ZSet::from_sorted(items, limits, opts.hasher)
}
