//! Hash commands (Redis's t_hash.c): HSET/HMSET/HSETNX, HGET/HMGET, HDEL, HLEN,
//! HSTRLEN, HEXISTS, HKEYS/HVALS/HGETALL, HINCRBY/HINCRBYFLOAT, HRANDFIELD and HSCAN.
//!
//! Every write goes through [`Hash::set`], which applies Redis's conversion rules
//! (listpack to hashtable on a long field or value, or too many fields), so the
//! encoding `OBJECT ENCODING` reports follows Redis whatever command wrote the hash.

use std::collections::BTreeSet;

use bytes::Bytes;

use crate::config::notify;

use super::args;
use super::keys::{parse_scan_cursor, parse_scan_options, scan_with_budget};
use super::{Acl, CommandSpec, DocFlag, Flag, Group, KeySpec};
use crate::command::RANDOM_REPLY_BYTES_MAX;
use crate::error::{
    wrong_arity, CmdError, CmdResult, NAN_OR_INFINITY, NOT_FLOAT, NOT_IN_SYMMETRIC_LONG_RANGE,
    OUT_OF_RANGE, OVERFLOW, WRONGTYPE,
};
use crate::node::Ctx;
use crate::resp::ReplyBuf;
use crate::types::hash::{Hash, HashLimits, Item};
use crate::util::glob::glob_match;
use crate::util::longdouble::LongDouble;
use crate::util::num::i64_digits;
use crate::value::Value;

const HASH_NOT_INTEGER: &str = "ERR hash value is not an integer";
const HASH_NOT_FLOAT: &str = "ERR hash value is not a float";
const INCREMENT_NOT_FINITE: &str = "ERR value is NaN or Infinity";

/// HRANDFIELD with WITHVALUES refuses counts whose reply length would overflow.
const WITHVALUES_COUNT_MAX: i64 = i64::MAX / 2;

/// HRANDFIELD without duplicates copies the hash and removes random fields when the
/// count is more than a third of it, otherwise it draws until it has enough.
const RANDOM_SUB_STRATEGY_MUL: u64 = 3;

/// A row for a hash command with one key, at argument 1.
const ONE_KEY: CommandSpec = CommandSpec {
    first_key: 1,
    last_key: 1,
    step: 1,
    acl: &[Acl::Hash],
    group: Group::Hash,
    since: "2.0.0",
    ..CommandSpec::DEFAULT
};

const WRITE_FAST: &[Flag] = &[Flag::Write, Flag::Denyoom, Flag::Fast];
const READ_FAST: &[Flag] = &[Flag::Readonly, Flag::Fast];
const READ: &[Flag] = &[Flag::Readonly];
const RW_UPDATE: &[KeySpec] = &[KeySpec::first(&["RW", "UPDATE"])];
const RW_ACCESS_UPDATE: &[KeySpec] = &[KeySpec::first(&["RW", "ACCESS", "UPDATE"])];
const RO: &[KeySpec] = &[KeySpec::first(&["RO"])];
const RO_ACCESS: &[KeySpec] = &[KeySpec::first(&["RO", "ACCESS"])];
const WHOLE_HASH: &str = "O(N) where N is the size of the hash";
const ANY_ORDER: &[&str] = &["nondeterministic_output_order"];
const RANDOM_OUTPUT: &[&str] = &["nondeterministic_output"];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "hset",
        arity: -4,
        flags: WRITE_FAST,
        key_specs: RW_UPDATE,
        summary: "Sets fields of a hash to values, creating the hash if needed.",
        complexity: "O(1) per field/value pair",
        history: &[("4.0.0", "Takes several field/value pairs.")],
        handler: Some(hset),
        ..ONE_KEY
    },
    CommandSpec {
        name: "hsetnx",
        arity: 4,
        flags: WRITE_FAST,
        key_specs: &[KeySpec::first(&["RW", "INSERT"])],
        summary: "Sets a hash field only if it does not exist yet.",
        handler: Some(hsetnx),
        ..ONE_KEY
    },
    CommandSpec {
        name: "hget",
        arity: 3,
        flags: READ_FAST,
        key_specs: RO_ACCESS,
        summary: "Returns the value of a hash field.",
        handler: Some(hget),
        ..ONE_KEY
    },
    CommandSpec {
        name: "hmget",
        arity: -3,
        flags: READ_FAST,
        key_specs: RO_ACCESS,
        summary: "Returns the values of several hash fields.",
        complexity: "O(N) where N is the number of fields asked for",
        handler: Some(hmget),
        ..ONE_KEY
    },
    CommandSpec {
        name: "hmset",
        arity: -4,
        flags: WRITE_FAST,
        key_specs: RW_UPDATE,
        summary: "Sets several hash fields (older form of HSET).",
        complexity: "O(N) where N is the number of fields set",
        doc_flags: &[DocFlag::Deprecated],
        deprecated_since: "4.0.0",
        replaced_by: "`HSET` with multiple field-value pairs",
        handler: Some(hmset),
        ..ONE_KEY
    },
    CommandSpec {
        name: "hdel",
        arity: -3,
        flags: &[Flag::Write, Flag::Fast],
        key_specs: &[KeySpec::first(&["RW", "DELETE"])],
        summary: "Deletes fields from a hash; the hash goes when its last field does.",
        complexity: "O(N) where N is the number of fields deleted",
        history: &[("2.4.0", "Takes several fields.")],
        handler: Some(hdel),
        ..ONE_KEY
    },
    CommandSpec {
        name: "hlen",
        arity: 2,
        flags: READ_FAST,
        key_specs: RO,
        summary: "Returns the number of fields in a hash.",
        handler: Some(hlen),
        ..ONE_KEY
    },
    CommandSpec {
        name: "hstrlen",
        arity: 3,
        flags: READ_FAST,
        key_specs: RO,
        since: "3.2.0",
        summary: "Returns the length of a hash field's value.",
        handler: Some(hstrlen),
        ..ONE_KEY
    },
    CommandSpec {
        name: "hexists",
        arity: 3,
        flags: READ_FAST,
        key_specs: RO,
        summary: "Tells whether a hash has a field.",
        handler: Some(hexists),
        ..ONE_KEY
    },
    CommandSpec {
        name: "hkeys",
        arity: 2,
        flags: READ,
        key_specs: RO_ACCESS,
        summary: "Returns every field of a hash.",
        complexity: WHOLE_HASH,
        tips: ANY_ORDER,
        handler: Some(hkeys),
        ..ONE_KEY
    },
    CommandSpec {
        name: "hvals",
        arity: 2,
        flags: READ,
        key_specs: RO_ACCESS,
        summary: "Returns every value of a hash.",
        complexity: WHOLE_HASH,
        tips: ANY_ORDER,
        handler: Some(hvals),
        ..ONE_KEY
    },
    CommandSpec {
        name: "hgetall",
        arity: 2,
        flags: READ,
        key_specs: RO_ACCESS,
        summary: "Returns every field and value of a hash.",
        complexity: WHOLE_HASH,
        tips: ANY_ORDER,
        handler: Some(hgetall),
        ..ONE_KEY
    },
    CommandSpec {
        name: "hincrby",
        arity: 4,
        flags: WRITE_FAST,
        key_specs: RW_ACCESS_UPDATE,
        summary: "Adds an integer to a hash field's integer value.",
        handler: Some(hincrby),
        ..ONE_KEY
    },
    CommandSpec {
        name: "hincrbyfloat",
        arity: 4,
        flags: WRITE_FAST,
        key_specs: RW_ACCESS_UPDATE,
        since: "2.6.0",
        summary: "Adds a floating-point number to a hash field's value.",
        handler: Some(hincrbyfloat),
        ..ONE_KEY
    },
    CommandSpec {
        name: "hrandfield",
        arity: -2,
        flags: READ,
        key_specs: RO_ACCESS,
        since: "6.2.0",
        summary: "Returns one or more random fields of a hash, optionally with values.",
        complexity: "O(N) where N is the number of fields returned",
        tips: RANDOM_OUTPUT,
        handler: Some(hrandfield),
        ..ONE_KEY
    },
    CommandSpec {
        name: "hscan",
        arity: -3,
        flags: READ,
        key_specs: RO_ACCESS,
        since: "2.8.0",
        summary: "Iterates over the fields and values of a hash with a cursor.",
        complexity: "O(1) per call, O(N) for a whole iteration",
        tips: RANDOM_OUTPUT,
        handler: Some(hscan),
        ..ONE_KEY
    },
];

// ---------------------------------------------------------------------------
// Access helpers
// ---------------------------------------------------------------------------

/// The configured conversion thresholds.
fn limits(ctx: &Ctx<'_>) -> HashLimits {
    HashLimits {
        entries_max: ctx.srv.config.hash_max_listpack_entries,
        value_bytes_max: ctx.srv.config.hash_max_listpack_value,
        hasher: ctx.srv.hasher,
    }
}

/// Runs `f` on the hash at `key` looked up for reading (`None` if absent) with the
/// client's reply buffer; WRONGTYPE if the key holds something else.
fn with_hash<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(Option<&Hash>, &mut ReplyBuf) -> R,
) -> Result<R, CmdError> {
    let mut out = std::mem::take(&mut ctx.client.out);
    let result = match ctx.lookup_read(key) {
        None => Ok(f(None, &mut out)),
        Some(entry) => match &entry.value {
            Value::Hash(h) => Ok(f(Some(h), &mut out)),
            _ => Err(CmdError::Static(WRONGTYPE)),
        },
    };
    ctx.client.out = out;
    result
}

/// The hash at `key` looked up for writing; `None` if absent, WRONGTYPE if the key
/// holds something else.
fn hash_mut<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c mut Hash>, CmdError> {
    match ctx.lookup_write(key) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::Hash(h) => Ok(Some(h)),
            _ => Err(CmdError::Static(WRONGTYPE)),
        },
    }
}

/// Runs `f` on the hash at `key`, creating an empty one if absent (Redis's
/// hashTypeLookupWriteOrCreate); a created hash is stored only if `f` succeeded and
/// left it non-empty.
fn upsert<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&mut Hash, &HashLimits) -> Result<R, CmdError>,
) -> Result<R, CmdError> {
    let lim = limits(ctx);
    if let Some(h) = hash_mut(ctx, key)? {
        return f(h, &lim);
    }
    let mut h = Hash::new();
    let result = f(&mut h, &lim)?;
    if !h.is_empty() {
        let (now, policy) = (ctx.now, ctx.srv.access_policy());
        ctx.db()
            .insert_new(key, Value::Hash(Box::new(h)), None, now, policy);
    }
    Ok(result)
}

fn bulk_item(out: &mut ReplyBuf, item: Item<'_>) {
    match item {
        Item::Int(n) => out.bulk_i64(n),
        Item::Str(s) => out.bulk(s),
    }
}

// ---------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------

/// HSET key field value [field value ...]
fn hset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let added = set_pairs(ctx, args)?;
    ctx.out().int(added);
    Ok(())
}

/// HMSET key field value [field value ...]
fn hmset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    set_pairs(ctx, args)?;
    ctx.out().ok();
    Ok(())
}

/// HSET and HMSET: sets every pair, returns how many fields are new.
fn set_pairs(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<i64, CmdError> {
    if args.len() % 2 == 1 {
        return Err(wrong_arity(ctx.cmd.name));
    }
    let key = &args[1];
    let added = upsert(ctx, key, |h, lim| {
        Ok(args[2..]
            .chunks_exact(2)
            .filter(|pair| h.set(&pair[0], &pair[1], lim))
            .count())
    })?;
    ctx.modified(key);
    ctx.notify(notify::HASH, "hset", key);
    // Redis counts one change per pair, and one per deleted field in HDEL.
    ctx.srv.dirty += (args.len() as u64 - 2) / 2 - 1;
    Ok(added as i64)
}

/// HSETNX key field value
fn hsetnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (key, field, value) = (&args[1], &args[2], &args[3]);
    let added = upsert(ctx, key, |h, lim| {
        Ok(!h.contains(field) && h.set(field, value, lim))
    })?;
    if added {
        ctx.modified(key);
        ctx.notify(notify::HASH, "hset", key);
    }
    ctx.out().int(i64::from(added));
    Ok(())
}

/// HDEL key field [field ...]
fn hdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let (deleted, now_empty) = match hash_mut(ctx, key)? {
        None => (0, false),
        Some(h) => {
            let mut deleted = 0;
            for field in &args[2..] {
                if h.remove(field) {
                    deleted += 1;
                    if h.is_empty() {
                        break;
                    }
                }
            }
            (deleted, h.is_empty())
        }
    };
    if now_empty {
        ctx.db().remove(key);
    }
    if deleted > 0 {
        ctx.modified(key);
        ctx.srv.dirty += deleted as u64 - 1;
        ctx.notify(notify::HASH, "hdel", key);
        if now_empty {
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
    ctx.out().int(deleted);
    Ok(())
}

/// HINCRBY key field increment
fn hincrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (key, field) = (&args[1], &args[2]);
    let by = args::int(&args[3])?;
    let sum = upsert(ctx, key, |h, lim| {
        let current = match h.get(field) {
            None => 0,
            Some(item) => item.as_i64().ok_or(CmdError::Static(HASH_NOT_INTEGER))?,
        };
        let sum = current.checked_add(by).ok_or(CmdError::Static(OVERFLOW))?;
        h.set(field, i64_digits(sum, &mut [0u8; 20]), lim);
        Ok(sum)
    })?;
    ctx.modified(key);
    ctx.notify(notify::HASH, "hincrby", key);
    ctx.out().int(sum);
    Ok(())
}

/// HINCRBYFLOAT key field increment, in x87 long double arithmetic as Redis.
fn hincrbyfloat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (key, field) = (&args[1], &args[2]);
    let by = LongDouble::parse(&args[3]).ok_or(CmdError::Static(NOT_FLOAT))?;
    if !by.is_finite() {
        return Err(INCREMENT_NOT_FINITE.into());
    }
    let text = upsert(ctx, key, |h, lim| {
        let current = match h.get(field) {
            None => LongDouble::from_i64(0),
            Some(Item::Int(n)) => LongDouble::from_i64(n),
            Some(Item::Str(s)) => LongDouble::parse(s).ok_or(CmdError::Static(HASH_NOT_FLOAT))?,
        };
        let sum = current.add(by);
        if !sum.is_finite() {
            return Err(NAN_OR_INFINITY.into());
        }
        let text = sum.to_human_string();
        h.set(field, text.as_bytes(), lim);
        Ok(text)
    })?;
    ctx.modified(key);
    ctx.notify(notify::HASH, "hincrbyfloat", key);
    // Propagates the result as HSET, so float formatting cannot drift.
    ctx.rewrite_argv(vec![
        Bytes::from_static(b"HSET"),
        key.clone(),
        field.clone(),
        Bytes::from(text.clone()),
    ]);
    ctx.out().bulk(text.as_bytes());
    Ok(())
}

// ---------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------

/// HGET key field
fn hget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let field = &args[2];
    with_hash(ctx, &args[1], |h, out| match h.and_then(|h| h.get(field)) {
        Some(item) => bulk_item(out, item),
        None => out.null(),
    })
}

/// HMGET key field [field ...]
fn hmget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let fields = &args[2..];
    with_hash(ctx, &args[1], |h, out| {
        out.array(fields.len());
        for field in fields {
            match h.and_then(|h| h.get(field)) {
                Some(item) => bulk_item(out, item),
                None => out.null(),
            }
        }
    })
}

/// HLEN key
fn hlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    with_hash(ctx, &args[1], |h, out| {
        out.int(h.map_or(0, |h| h.len() as i64));
    })
}

/// HSTRLEN key field
fn hstrlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let field = &args[2];
    with_hash(ctx, &args[1], |h, out| {
        let len = h.and_then(|h| h.get(field)).map_or(0, |v| v.len());
        out.int(len as i64);
    })
}

/// HEXISTS key field
fn hexists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let field = &args[2];
    with_hash(ctx, &args[1], |h, out| {
        out.int(i64::from(h.is_some_and(|h| h.contains(field))));
    })
}

/// What HKEYS, HVALS and HGETALL reply with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parts {
    Fields,
    Values,
    Both,
}

/// HKEYS key
fn hkeys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    reply_all(ctx, &args[1], Parts::Fields)
}

/// HVALS key
fn hvals(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    reply_all(ctx, &args[1], Parts::Values)
}

/// HGETALL key: a map in RESP3.
fn hgetall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    reply_all(ctx, &args[1], Parts::Both)
}

/// Redis's genericHgetallCommand.
fn reply_all(ctx: &mut Ctx<'_>, key: &[u8], parts: Parts) -> CmdResult {
    with_hash(ctx, key, |h, out| {
        let len = h.map_or(0, Hash::len);
        match parts {
            Parts::Both => out.map(len),
            Parts::Fields | Parts::Values => out.array(len),
        }
        for (f, v) in h.iter().flat_map(|h| h.iter()) {
            if parts != Parts::Values {
                bulk_item(out, f);
            }
            if parts != Parts::Fields {
                bulk_item(out, v);
            }
        }
    })
}

// ---------------------------------------------------------------------------
// HRANDFIELD
// ---------------------------------------------------------------------------

/// HRANDFIELD key [count [WITHVALUES]]
fn hrandfield(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let Some(count_arg) = args.get(2) else {
        return random_field(ctx, &args[1]);
    };
    let count = args::int(count_arg)?;
    if count == i64::MIN {
        return Err(NOT_IN_SYMMETRIC_LONG_RANGE.into());
    }
    let with_values = match &args[3..] {
        [] => false,
        [opt] if args::is(opt, "WITHVALUES") => true,
        _ => return Err(CmdError::Static(crate::error::SYNTAX)),
    };
    if with_values && !(-WITHVALUES_COUNT_MAX..=WITHVALUES_COUNT_MAX).contains(&count) {
        return Err(OUT_OF_RANGE.into());
    }
    random_fields(ctx, &args[1], count, with_values)
}

/// HRANDFIELD key: one random field, or null.
fn random_field(ctx: &mut Ctx<'_>, key: &[u8]) -> CmdResult {
    with_taken_hash(ctx, key, |ctx, h| {
        let Some(h) = h else {
            ctx.out().null();
            return;
        };
        let (field, _) = random_pair(ctx, h);
        let field = field.to_vec();
        ctx.out().bulk(&field);
    })
}

/// Runs `f` with the hash at `key` lent out of the keyspace, so that `f` can draw
/// random numbers and reply while reading it; the hash goes back afterwards.
fn with_taken_hash<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&mut Ctx<'_>, Option<&Hash>) -> R,
) -> Result<R, CmdError> {
    let taken = match ctx.lookup_read(key) {
        None => None,
        Some(entry) if matches!(entry.value, Value::Hash(_)) => match ctx.lend_for_read(key) {
            Some(Value::Hash(h)) => Some(h),
            _ => None,
        },
        Some(_) => return Err(CmdError::Static(WRONGTYPE)),
    };
    let result = f(ctx, taken.as_deref());
    if let Some(h) = taken {
        ctx.restore_lent(key, Value::Hash(h));
    }
    Ok(result)
}

/// A uniformly drawn pair of a non-empty hash.
fn random_pair<'h>(ctx: &mut Ctx<'_>, h: &'h Hash) -> (Item<'h>, Item<'h>) {
    let srv = &mut *ctx.srv;
    h.random_pair(|n| srv.random_below(n))
        .unwrap_or((Item::Str(b""), Item::Str(b"")))
}

/// HRANDFIELD key count [WITHVALUES] (Redis's hrandfieldWithCountCommand).
fn random_fields(ctx: &mut Ctx<'_>, key: &[u8], count: i64, with_values: bool) -> CmdResult {
    with_taken_hash(ctx, key, |ctx, h| {
        let Some(h) = h else {
            ctx.out().array(0);
            return;
        };
        let size = h.len() as u64;
        let unique = count >= 0;
        let count = count.unsigned_abs();
        let pairs = PairReply {
            with_values,
            resp3: ctx.out().is_resp3(),
        };
        if count == 0 {
            ctx.out().array(0);
        } else if !unique && crate::command::random_reply_too_big(count) {
            ctx.client.close_asap();
        } else if !unique || count == 1 {
            // Draws with repetition, in draw order.
            pairs.header(ctx.out(), count);
            let start = ctx.client.out.len();
            for _ in 0..count {
                let (f, v) = random_pair(ctx, h);
                pairs.pair(&mut ctx.client.out, f, v);
                if ctx.client.out.len() - start > RANDOM_REPLY_BYTES_MAX {
                    ctx.client.close_asap();
                    break;
                }
            }
        } else if count >= size {
            pairs.header(ctx.out(), size);
            for (f, v) in h.iter() {
                pairs.pair(&mut ctx.client.out, f, v);
            }
        } else if count * RANDOM_SUB_STRATEGY_MUL > size {
            unique_by_removal(ctx, h, count, pairs);
        } else if h.is_listpack() {
            unique_in_order(ctx, h, count, pairs);
        } else {
            unique_by_drawing(ctx, h, count, pairs);
        }
    })
}

/// How HRANDFIELD's pairs are shaped: flat in RESP2, two-element arrays in RESP3.
#[derive(Clone, Copy)]
struct PairReply {
    with_values: bool,
    resp3: bool,
}

impl PairReply {
    fn header(self, out: &mut ReplyBuf, pairs: u64) {
        let n = pairs as usize;
        out.array(if self.with_values && !self.resp3 {
            n * 2
        } else {
            n
        });
    }

    fn pair(self, out: &mut ReplyBuf, field: Item<'_>, value: Item<'_>) {
        if self.with_values && self.resp3 {
            out.array(2);
        }
        bulk_item(out, field);
        if self.with_values {
            bulk_item(out, value);
        }
    }
}

/// Most of the hash asked for: drop random fields until `count` remain.
fn unique_by_removal(ctx: &mut Ctx<'_>, h: &Hash, count: u64, pairs: PairReply) {
    let mut kept: Vec<(Item<'_>, Item<'_>)> = h.iter().collect();
    while kept.len() as u64 > count {
        let i = ctx.srv.random_below(kept.len() as u64) as usize;
        kept.swap_remove(i);
    }
    pairs.header(ctx.out(), count);
    for (f, v) in kept {
        pairs.pair(&mut ctx.client.out, f, v);
    }
}

/// A small sample of a listpack: selection sampling, which keeps listpack order as
/// Redis's lpRandomPairsUnique does.
fn unique_in_order(ctx: &mut Ctx<'_>, h: &Hash, count: u64, pairs: PairReply) {
    pairs.header(ctx.out(), count);
    let size = h.len() as u64;
    let mut needed = count;
    for (seen, (f, v)) in (0u64..).zip(h.iter()) {
        if needed == 0 {
            break;
        }
        if ctx.srv.random_below(size - seen) < needed {
            needed -= 1;
            pairs.pair(&mut ctx.client.out, f, v);
        }
    }
}

/// A small sample of a table: draw until `count` distinct fields came up.
fn unique_by_drawing(ctx: &mut Ctx<'_>, h: &Hash, count: u64, pairs: PairReply) {
    pairs.header(ctx.out(), count);
    let mut seen = BTreeSet::new();
    while (seen.len() as u64) < count {
        let (f, v) = random_pair(ctx, h);
        let Item::Str(field) = f else {
            continue;
        };
        if seen.insert(field) {
            pairs.pair(&mut ctx.client.out, f, v);
        }
    }
}

// ---------------------------------------------------------------------------
// HSCAN
// ---------------------------------------------------------------------------

/// HSCAN key cursor [MATCH pattern] [COUNT count]
fn hscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let cursor = parse_scan_cursor(&args[2])?;
    let result = with_hash(ctx, &args[1], |h, out| {
        let Some(h) = h else {
            out.array(2);
            out.bulk(b"0");
            out.array(0);
            return Ok(());
        };
        let opts = parse_scan_options(&args[3..], false)?;
        let mut found = Vec::new();
        let cursor = scan_with_budget(cursor, opts.count, &mut found, |cursor, found| {
            h.scan(cursor, |f, v| found.push((f.to_vec(), v.to_vec())))
        });
        if let Some(pattern) = opts.pattern {
            found.retain(|(f, _)| glob_match(pattern, f, false));
        }
        out.array(2);
        // Redis sends the unsigned cursor through a signed formatter.
        out.bulk_i64(cursor as i64);
        out.array(found.len() * 2);
        for (f, v) in &found {
            out.bulk(f);
            out.bulk(v);
        }
        Ok(())
    });
    result?
}

#[cfg(test)]
mod tests {
    use super::super::keys::harness::Harness;
    use super::*;

    #[test]
    fn a_huge_negative_hrandfield_count_stops_and_closes_the_connection() {
        let mut h = Harness::new();
        h.run("HSET h a-field-of-some-length v");
        let reply = h.run("HRANDFIELD h -4611686018427387903 WITHVALUES");
        assert_eq!(reply, "", "the oversized reply is dropped");
        assert!(h.client.close_asap);
    }

    #[test]
    fn hrandfield_refuses_long_min_and_withvalues_counts_that_would_overflow() {
        let mut h = Harness::new();
        h.run("HSET h f v");
        let long_min = format!("-{NOT_IN_SYMMETRIC_LONG_RANGE}\r\n");
        assert_eq!(h.run("HRANDFIELD h -9223372036854775808"), long_min);
        assert_eq!(
            h.run("HRANDFIELD h -9223372036854775808 WITHVALUES"),
            long_min
        );
        let doubled = format!("-{OUT_OF_RANGE}\r\n");
        assert_eq!(
            h.run("HRANDFIELD h -9223372036854770000 WITHVALUES"),
            doubled
        );
        assert_eq!(
            h.run("HRANDFIELD h 4611686018427387904 WITHVALUES"),
            doubled
        );
    }
}
