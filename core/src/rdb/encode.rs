//! The writer: RDB version 10 bytes as Redis 7.0 produces them.
//!
//! [`RdbWriter`] appends to an internal buffer; [`RdbWriter::take`] drains what is
//! written so far (for a snapshot written in pieces across ticks) while the running
//! CRC64 keeps covering every byte, and [`RdbWriter::finish`] appends EOF and the
//! checksum.

use super::lzf::Compressor;
use super::reader::{ENC_INT16, ENC_INT32, ENC_INT8, ENC_LZF};
use super::{crc64, opcode, value_type as ty, RDB_VERSION};
use crate::listpack::{Listpack, LpValue};
use crate::types::hash::Item;
use crate::types::{Hash, List, Set, Stream, ZSet};
use crate::util::num::{format_f64_g17, i64_digits, parse_i64};
use crate::value::Value;

/// Redis tries the integer encodings on strings this short or shorter.
const INT_ENCODING_BYTES_MAX: usize = 11;
/// Redis compresses strings longer than this when `rdbcompression` is on.
const COMPRESS_BYTES_MIN: usize = 21;
/// Compressed output must save at least this many bytes to be used.
const COMPRESS_SAVING_MIN: usize = 4;
/// Quicklist node containers.
const NODE_PLAIN: u64 = 1;
const NODE_PACKED: u64 = 2;
/// A single element this big is written as a plain node, as Redis 7.0 does.
const PLAIN_NODE_BYTES_MIN: usize = 1 << 30;
/// Integral scores in this open range are formatted as integers (Redis's d2string).
const SCORE_INT_RANGE: (f64, f64) = (-4_503_599_627_370_495.0, 4_503_599_627_370_496.0);
const LEN_14BIT: u8 = 0x40;
const LEN_32BIT: u8 = 0x80;
const LEN_64BIT: u8 = 0x81;
const LEN_ENCODED: u8 = 0xC0;

/// The aux fields Redis 7.0 writes at the top of a dump.
#[derive(Debug, Clone)]
pub struct AuxInfo<'a> {
    /// "redis-ver": the version Ember reports (7.0.15).
    pub redis_ver: &'a str,
    /// "ctime": Unix seconds when the save started.
    pub ctime_secs: i64,
    /// "used-mem".
    pub used_mem: u64,
    /// "repl-stream-db", "repl-id", "repl-offset" (SAVE, BGSAVE and full syncs).
    pub repl: Option<(i64, &'a str, i64)>,
    /// "aof-base": 1 in an AOF's RDB preamble.
    pub aof_base: bool,
}

/// What precedes a key: its expire and its LRU or LFU information.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyMeta {
    /// Absolute expire time in Unix milliseconds.
    pub expire_ms: Option<i64>,
    /// LRU idle seconds (written under an LRU maxmemory-policy).
    pub idle_secs: Option<u64>,
    /// LFU counter (written under an LFU maxmemory-policy).
    pub freq: Option<u8>,
}

/// How to write a set given as members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetEncoding {
    /// Type 11; falls back to a plain set if a member is not a canonical integer.
    Intset,
    /// Type 2.
    Hashtable,
}

/// How to write a sorted set given as (member, score) pairs in rank order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZSetEncoding {
    /// Type 17.
    Listpack,
    /// Type 5 (ZSET_2, binary scores).
    Skiplist,
}

/// A value type the writer cannot serialise yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsupportedValue(pub &'static str);

pub struct RdbWriter {
    buf: Vec<u8>,
    crc: u64,
    compress: bool,
    lzf: Compressor,
}

impl RdbWriter {
    /// A writer; `compress` is `rdbcompression`.
    pub fn new(compress: bool) -> Self {
        RdbWriter {
            buf: Vec::new(),
            crc: 0,
            compress,
            lzf: Compressor::new(),
        }
    }

    /// Bytes written and not yet taken.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Drains the bytes written so far; the checksum still covers them.
    pub fn take(&mut self) -> Vec<u8> {
        self.crc = crc64::update(self.crc, &self.buf);
        std::mem::take(&mut self.buf)
    }

    /// Appends EOF and the checksum (zero when `checksum` is off, as with
    /// `rdbchecksum no`) and returns the bytes not yet taken.
    pub fn finish(mut self, checksum: bool) -> Vec<u8> {
        self.buf.push(opcode::EOF);
        let crc = crc64::update(self.crc, &self.buf);
        let stored = if checksum { crc } else { 0 };
        self.buf.extend_from_slice(&stored.to_le_bytes());
        self.buf
    }

    /// "REDIS0010".
    pub fn header(&mut self) {
        self.buf
            .extend_from_slice(format!("REDIS{RDB_VERSION:04}").as_bytes());
    }

    pub fn aux(&mut self, key: &[u8], value: &[u8]) {
        self.buf.push(opcode::AUX);
        self.string(key);
        self.string(value);
    }

    pub fn aux_int(&mut self, key: &[u8], value: i64) {
        self.aux(key, i64_digits(value, &mut [0u8; 20]));
    }

    /// The aux fields in Redis 7.0's order.
    pub fn redis_aux(&mut self, info: &AuxInfo<'_>) {
        self.aux(b"redis-ver", info.redis_ver.as_bytes());
        self.aux_int(b"redis-bits", 64);
        self.aux_int(b"ctime", info.ctime_secs);
        self.aux_int(
            b"used-mem",
            i64::try_from(info.used_mem).unwrap_or(i64::MAX),
        );
        if let Some((db, id, offset)) = info.repl {
            self.aux_int(b"repl-stream-db", db);
            self.aux(b"repl-id", id.as_bytes());
            self.aux_int(b"repl-offset", offset);
        }
        self.aux_int(b"aof-base", i64::from(info.aof_base));
    }

    /// A function library's code (FUNCTION2).
    pub fn function(&mut self, code: &[u8]) {
        self.buf.push(opcode::FUNCTION2);
        self.string(code);
    }

    pub fn select_db(&mut self, db: u64) {
        self.buf.push(opcode::SELECTDB);
        self.len(db);
    }

    pub fn resize_db(&mut self, keys: u64, expires: u64) {
        self.buf.push(opcode::RESIZEDB);
        self.len(keys);
        self.len(expires);
    }

    /// A key and its value, in the encoding the value holds.
    pub fn key_value(
        &mut self,
        key: &[u8],
        value: &Value,
        meta: &KeyMeta,
    ) -> Result<(), UnsupportedValue> {
        let t = value_type_byte(value)?;
        self.key_prefix(key, t, meta);
        self.value_body(value);
        Ok(())
    }

    /// A DUMP payload: type, value, RDB version (2 bytes LE) and CRC64 (8 bytes LE).
    pub fn dump_payload(value: &Value, compress: bool) -> Result<Vec<u8>, UnsupportedValue> {
        let mut w = RdbWriter::new(compress);
        w.buf.push(value_type_byte(value)?);
        w.value_body(value);
        w.buf.extend_from_slice(&(RDB_VERSION as u16).to_le_bytes());
        let crc = crc64::crc64(&w.buf);
        w.buf.extend_from_slice(&crc.to_le_bytes());
        Ok(w.buf)
    }

    /// A FUNCTION DUMP payload: each library's code as a FUNCTION2 record, then
    /// the RDB version and CRC64 as in DUMP payloads.
    pub fn functions_payload(codes: &[bytes::Bytes], compress: bool) -> Vec<u8> {
        let mut w = RdbWriter::new(compress);
        for code in codes {
            w.function(code);
        }
        w.buf.extend_from_slice(&(RDB_VERSION as u16).to_le_bytes());
        let crc = crc64::crc64(&w.buf);
        w.buf.extend_from_slice(&crc.to_le_bytes());
        w.buf
    }

    /// The value after its type byte (and key).
    fn value_body(&mut self, value: &Value) {
        match value {
            Value::List(list) => self.list(list),
            Value::Hash(hash) => self.hash(hash),
            Value::Set(set) => self.set(set),
            Value::ZSet(zset) => self.zset(zset),
            Value::Stream(stream) => self.stream(stream),
            other => {
                let mut scratch = [0u8; 20];
                let bytes = other.as_string_bytes(&mut scratch).unwrap_or_default();
                self.string(bytes);
            }
        }
    }

    /// A set from its members (distinct).
    pub fn key_set(
        &mut self,
        key: &[u8],
        members: &[&[u8]],
        encoding: SetEncoding,
        meta: &KeyMeta,
    ) {
        let ints: Option<Vec<i64>> = match encoding {
            SetEncoding::Intset => members.iter().map(|m| parse_i64(m)).collect(),
            SetEncoding::Hashtable => None,
        };
        match ints {
            Some(mut ints) => {
                self.key_prefix(key, ty::SET_INTSET, meta);
                ints.sort_unstable();
                self.string(&intset_blob(&ints));
            }
            None => {
                self.key_prefix(key, ty::SET, meta);
                self.len(members.len() as u64);
                for m in members {
                    self.string(m);
                }
            }
        }
    }

    /// A sorted set from (member, score) pairs in rank order (lowest score first).
    pub fn key_zset(
        &mut self,
        key: &[u8],
        pairs: &[(&[u8], f64)],
        encoding: ZSetEncoding,
        meta: &KeyMeta,
    ) {
        match encoding {
            ZSetEncoding::Listpack => {
                self.key_prefix(key, ty::ZSET_LISTPACK, meta);
                let mut lp = Listpack::new();
                for (member, score) in pairs {
                    lp.push_back(member);
                    lp.push_back(score_text(*score).as_bytes());
                }
                self.string(lp.as_bytes());
            }
            ZSetEncoding::Skiplist => {
                self.key_prefix(key, ty::ZSET_2, meta);
                self.len(pairs.len() as u64);
                // Highest score first, as Redis walks its skiplist from the tail.
                for (member, score) in pairs.iter().rev() {
                    self.string(member);
                    self.buf.extend_from_slice(&score.to_le_bytes());
                }
            }
        }
    }

    fn key_prefix(&mut self, key: &[u8], t: u8, meta: &KeyMeta) {
        if let Some(ms) = meta.expire_ms {
            self.buf.push(opcode::EXPIRETIME_MS);
            self.buf.extend_from_slice(&ms.to_le_bytes());
        }
        if let Some(idle) = meta.idle_secs {
            self.buf.push(opcode::IDLE);
            self.len(idle);
        }
        if let Some(freq) = meta.freq {
            self.buf.extend_from_slice(&[opcode::FREQ, freq]);
        }
        self.buf.push(t);
        self.string(key);
    }

    fn list(&mut self, list: &List) {
        self.len(list.nodes().len() as u64);
        for node in list.nodes() {
            let mut items = node.iter();
            match (items.next(), items.next()) {
                (Some(LpValue::Str(big)), None) if big.len() >= PLAIN_NODE_BYTES_MIN => {
                    self.len(NODE_PLAIN);
                    self.string(big);
                }
                _ => {
                    self.len(NODE_PACKED);
                    self.string(node.as_bytes());
                }
            }
        }
    }

    fn hash(&mut self, hash: &Hash) {
        let (mut a, mut b) = ([0u8; 20], [0u8; 20]);
        if hash.is_listpack() {
            let mut lp = Listpack::new();
            for (f, v) in hash.iter() {
                push_item(&mut lp, f);
                push_item(&mut lp, v);
            }
            self.string(lp.as_bytes());
        } else {
            self.len(hash.len() as u64);
            for (f, v) in hash.iter() {
                self.string(f.bytes(&mut a));
                self.string(v.bytes(&mut b));
            }
        }
    }

    /// A set: an intset blob as stored, or the members of a hash table.
    fn set(&mut self, set: &Set) {
        if let Some(ints) = set.as_intset() {
            self.string(ints.as_bytes());
            return;
        }
        self.len(set.len() as u64);
        let mut scratch = [0u8; 20];
        for member in set.iter() {
            self.string(member.bytes(&mut scratch));
        }
    }

    /// A sorted set: its listpack as stored, or (member, binary score) pairs from
    /// the highest score down, as Redis walks its skiplist from the tail.
    fn zset(&mut self, zset: &ZSet) {
        if let ZSet::Listpack(packed) = zset {
            self.string(packed.as_listpack().as_bytes());
            return;
        }
        self.len(zset.len() as u64);
        let mut scratch = [0u8; 20];
        for (member, score) in zset.iter().rev() {
            self.string(member.to_bytes(&mut scratch));
            self.buf.extend_from_slice(&score.to_le_bytes());
        }
    }

    /// A stream as Redis 7.0's rdbSaveObject writes it (type 19): the blocks with
    /// their master IDs, the counters, then each group with its PEL and consumers.
    fn stream(&mut self, s: &Stream) {
        self.len(s.block_count() as u64);
        for (master, lp) in s.blocks() {
            self.string(&master.to_be_bytes());
            self.string(lp.as_bytes());
        }
        self.len(s.len());
        for id in [s.last_id, s.first_id, s.max_deleted_entry_id] {
            self.len(id.ms);
            self.len(id.seq);
        }
        self.len(s.entries_added);
        self.len(s.groups.len() as u64);
        for (name, g) in &s.groups {
            self.string(name);
            self.len(g.last_id.ms);
            self.len(g.last_id.seq);
            // -1 (unknown) is written as the 64-bit length 2^64-1, as Redis casts it.
            self.len(g.entries_read as u64);
            self.len(g.pending.len() as u64);
            for (id, pe) in &g.pending {
                self.buf.extend_from_slice(&id.to_be_bytes());
                self.buf.extend_from_slice(&pe.delivery_time.to_le_bytes());
                self.len(pe.delivery_count);
            }
            self.len(g.consumers.len() as u64);
            for (cname, c) in &g.consumers {
                self.string(cname);
                self.buf.extend_from_slice(&c.seen_time.to_le_bytes());
                self.len(c.pending.len() as u64);
                for id in &c.pending {
                    self.buf.extend_from_slice(&id.to_be_bytes());
                }
            }
        }
    }

    /// A length in the 6-bit, 14-bit, 32-bit or 64-bit form.
    fn len(&mut self, n: u64) {
        if n < 1 << 6 {
            self.buf.push(n as u8);
        } else if n < 1 << 14 {
            self.buf
                .extend_from_slice(&[LEN_14BIT | (n >> 8) as u8, n as u8]);
        } else if let Ok(n32) = u32::try_from(n) {
            self.buf.push(LEN_32BIT);
            self.buf.extend_from_slice(&n32.to_be_bytes());
        } else {
            self.buf.push(LEN_64BIT);
            self.buf.extend_from_slice(&n.to_be_bytes());
        }
    }

    /// A string as Redis's rdbSaveRawString writes it: integer-encoded when short
    /// and canonical, LZF-compressed when long and it saves space, plain otherwise.
    fn string(&mut self, s: &[u8]) {
        if s.len() <= INT_ENCODING_BYTES_MAX {
            if let Some(n) = parse_i64(s) {
                if self.int_encoded(n) {
                    return;
                }
            }
        }
        if self.compress && s.len() >= COMPRESS_BYTES_MIN {
            if let Some(packed) = self.lzf.compress(s, s.len() - COMPRESS_SAVING_MIN) {
                self.buf.push(LEN_ENCODED | ENC_LZF);
                self.len(packed.len() as u64);
                self.len(s.len() as u64);
                self.buf.extend_from_slice(&packed);
                return;
            }
        }
        self.len(s.len() as u64);
        self.buf.extend_from_slice(s);
    }

    /// Writes `n` in the smallest integer encoding; false if it needs more than 32 bits.
    fn int_encoded(&mut self, n: i64) -> bool {
        if let Ok(v) = i8::try_from(n) {
            self.buf.push(LEN_ENCODED | ENC_INT8);
            self.buf.extend_from_slice(&v.to_le_bytes());
        } else if let Ok(v) = i16::try_from(n) {
            self.buf.push(LEN_ENCODED | ENC_INT16);
            self.buf.extend_from_slice(&v.to_le_bytes());
        } else if let Ok(v) = i32::try_from(n) {
            self.buf.push(LEN_ENCODED | ENC_INT32);
            self.buf.extend_from_slice(&v.to_le_bytes());
        } else {
            return false;
        }
        true
    }
}

/// The type byte a value is written with.
fn value_type_byte(value: &Value) -> Result<u8, UnsupportedValue> {
    match value {
        Value::Set(s) if s.as_intset().is_some() => Ok(ty::SET_INTSET),
        Value::Set(_) => Ok(ty::SET),
        Value::ZSet(z) if matches!(**z, ZSet::Listpack(_)) => Ok(ty::ZSET_LISTPACK),
        Value::ZSet(_) => Ok(ty::ZSET_2),
        Value::List(_) => Ok(ty::LIST_QUICKLIST_2),
        Value::Hash(h) if h.is_listpack() => Ok(ty::HASH_LISTPACK),
        Value::Hash(_) => Ok(ty::HASH),
        // Redis 7.0 writes streams as type 19 (21 is Redis 7.2's, which 7.0 refuses).
        Value::Stream(_) => Ok(ty::STREAM_LISTPACKS_2),
        _ => Ok(ty::STRING),
    }
}

fn push_item(lp: &mut Listpack, item: Item<'_>) {
    match item {
        Item::Int(n) => lp.push_back_int(n),
        Item::Str(s) => lp.push_back(s),
    }
}

/// An intset blob of sorted values in the narrowest width that holds them all.
fn intset_blob(sorted: &[i64]) -> Vec<u8> {
    let fits = |lo: i64, hi: i64| sorted.iter().all(|v| (lo..=hi).contains(v));
    let width: usize = if fits(i16::MIN.into(), i16::MAX.into()) {
        2
    } else if fits(i32::MIN.into(), i32::MAX.into()) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + width * sorted.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for v in sorted {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

/// A score as Redis 7.0's d2string formats it for a listpack.
pub fn score_text(score: f64) -> String {
    if score.is_nan() {
        "nan".into()
    } else if score.is_infinite() {
        if score > 0.0 { "inf" } else { "-inf" }.into()
    } else if score == 0.0 {
        if score.is_sign_negative() { "-0" } else { "0" }.into()
    } else if score > SCORE_INT_RANGE.0 && score < SCORE_INT_RANGE.1 && score.trunc() == score {
        (score as i64).to_string()
    } else {
        format_f64_g17(score)
    }
}
