//! Sorted-set commands (Redis's t_zset.c): ZADD/ZINCRBY, lookups (ZSCORE, ZMSCORE,
//! ZCARD, ZRANK, ZCOUNT, ZLEXCOUNT), the ZRANGE family and ZRANGESTORE, removals
//! (ZREM, ZREMRANGEBY*), pops (ZPOPMIN/MAX, ZMPOP), ZRANDMEMBER, the set operations
//! (ZUNION/ZINTER/ZDIFF, their STORE forms, ZINTERCARD) and ZSCAN.
//!
//! As in Redis, one generic function serves each group: [`zadd_generic`] for ZADD
//! and ZINCRBY, [`zrange_generic`] for the eight range commands and ZRANGESTORE,
//! [`zremrange_generic`] for the three removals by range, [`zsetop_generic`] for the
//! seven set operations, [`zpop_generic`] for every pop.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use bytes::Bytes;

use crate::config::notify;

use super::args;
use super::keys::{parse_scan_cursor, parse_scan_options};
use super::{Acl, BeginSearch, CommandSpec, DocFlag, FindKeys, Flag, Group, KeySpec};
use crate::blocking::{parse_timeout_secs, BlockOn};
use crate::command::RANDOM_REPLY_BYTES_MAX;
use crate::db::{Entry, Millis, Touch};
use crate::error::{
    CmdError, CmdResult, MUST_BE_POSITIVE, NOT_IN_SYMMETRIC_LONG_RANGE, OUT_OF_RANGE, SYNTAX,
    WRONGTYPE,
};
use crate::listpack::LpValue;
use crate::node::Ctx;
use crate::resp::ReplyBuf;
use crate::types::set::Set;
use crate::types::zset::{AddFlags, AddOutcome, LexBound, LexRange, Limits, Pos, ScoreRange, ZSet};
use crate::util::glob::glob_match;
use crate::util::num::{i64_digits, parse_f64, parse_i64, write_f64_g17};
use crate::util::smallbytes::SmallBytes;
use crate::value::{Value, ValueType};

const XX_AND_NX: &str = "ERR XX and NX options at the same time are not compatible";
const GT_LT_NX: &str = "ERR GT, LT, and/or NX options at the same time are not compatible";
const INCR_ONE_PAIR: &str = "ERR INCR option supports a single increment-element pair";
const SCORE_NAN: &str = "ERR resulting score is not a number (NaN)";
const MIN_MAX_FLOAT: &str = "ERR min or max is not a float";
const MIN_MAX_LEX: &str = "ERR min or max not valid string range item";
const LIMIT_NEEDS_BY: &str =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
const WITHSCORES_BYLEX: &str =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
const WEIGHT_NOT_FLOAT: &str = "ERR weight value is not a float";
const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";
const NUMKEYS_POSITIVE: &str = "ERR numkeys should be greater than 0";
const COUNT_POSITIVE: &str = "ERR count should be greater than 0";

// ---------------------------------------------------------------------------------
// Command table

const fn index_range(flags: &'static [&'static str], index: i32, last_key: i32) -> KeySpec {
    KeySpec {
        flags,
        begin_search: BeginSearch::Index(index),
        find_keys: FindKeys::Range {
            last_key,
            step: 1,
            limit: 0,
        },
    }
}

const fn index_keynum(flags: &'static [&'static str], index: i32) -> KeySpec {
    KeySpec {
        flags,
        begin_search: BeginSearch::Index(index),
        find_keys: FindKeys::Keynum {
            keynum_idx: 0,
            first_key: 1,
            step: 1,
        },
    }
}

const ONE_KEY: CommandSpec = CommandSpec {
    first_key: 1,
    last_key: 1,
    step: 1,
    acl: &[Acl::SortedSet],
    group: Group::SortedSet,
    ..CommandSpec::DEFAULT
};

/// ZUNION, ZINTER, ZDIFF, ZINTERCARD, ZMPOP: keys counted by a numkeys argument.
const NUMKEYS: CommandSpec = CommandSpec {
    first_key: 0,
    last_key: 0,
    step: 0,
    ..ONE_KEY
};

const READ_FAST: &[Flag] = &[Flag::Readonly, Flag::Fast];
const WRITE_DENYOOM: &[Flag] = &[Flag::Write, Flag::Denyoom];
const RO: &[KeySpec] = &[index_range(&["RO"], 1, 0)];
const RO_ACCESS: &[KeySpec] = &[index_range(&["RO", "ACCESS"], 1, 0)];
const RW_DELETE: &[KeySpec] = &[index_range(&["RW", "DELETE"], 1, 0)];
const RW_ACCESS_DELETE: &[KeySpec] = &[index_range(&["RW", "ACCESS", "DELETE"], 1, 0)];
const RO_ACCESS_KEYNUM: &[KeySpec] = &[index_keynum(&["RO", "ACCESS"], 1)];
const STORE_KEYNUM: &[KeySpec] = &[
    index_range(&["OW", "UPDATE"], 1, 0),
    index_keynum(&["RO", "ACCESS"], 2),
];
const BLOCKING_POP_FLAGS: &[Flag] = &[Flag::Write, Flag::Noscript, Flag::Blocking, Flag::Fast];
const BLOCKING_POP_KEYS: &[KeySpec] = &[index_range(&["RW", "ACCESS", "DELETE"], 1, -2)];
const TIMEOUT_IS_DOUBLE: &[(&str, &str)] =
    &[("6.0.0", "`timeout` is a double instead of an integer.")];
const RANGE_COMPLEXITY: &str = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.";

/// A read-only range command of the ZRANGE family.
const RANGE: CommandSpec = CommandSpec {
    arity: -4,
    flags: &[Flag::Readonly],
    key_specs: RO_ACCESS,
    complexity: RANGE_COMPLEXITY,
    ..ONE_KEY
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "zadd",
        arity: -4,
        flags: &[Flag::Write, Flag::Denyoom, Flag::Fast],
        key_specs: &[index_range(&["RW", "UPDATE"], 1, 0)],
        since: "1.2.0",
        summary: "Adds members with scores to a sorted set, or updates their scores.",
        complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        history: &[
            ("2.4.0", "Accepts several members."),
            ("3.0.2", "Added `XX`, `NX`, `CH` and `INCR`."),
            ("6.2.0", "Added `GT` and `LT`."),
        ],
        handler: Some(zadd),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zincrby",
        arity: 4,
        flags: &[Flag::Write, Flag::Denyoom, Flag::Fast],
        key_specs: &[index_range(&["RW", "ACCESS", "UPDATE"], 1, 0)],
        since: "1.2.0",
        summary: "Adds an increment to a member's score in a sorted set.",
        complexity: "O(log(N)) where N is the number of elements in the sorted set.",
        handler: Some(zincrby),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zscore",
        arity: 3,
        flags: READ_FAST,
        key_specs: RO_ACCESS,
        since: "1.2.0",
        summary: "Returns a member's score in a sorted set.",
        handler: Some(zscore),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zmscore",
        arity: -3,
        flags: READ_FAST,
        key_specs: RO_ACCESS,
        since: "6.2.0",
        summary: "Returns the scores of several members of a sorted set.",
        complexity: "O(N) where N is the number of members being requested.",
        handler: Some(zmscore),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zcard",
        arity: 2,
        flags: READ_FAST,
        key_specs: RO,
        since: "1.2.0",
        summary: "Returns the number of members in a sorted set.",
        handler: Some(zcard),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zcount",
        arity: 4,
        flags: READ_FAST,
        key_specs: RO_ACCESS,
        since: "2.0.0",
        summary: "Counts the members of a sorted set whose scores are in a range.",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        handler: Some(zcount),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zlexcount",
        arity: 4,
        flags: READ_FAST,
        key_specs: RO_ACCESS,
        since: "2.8.9",
        summary: "Counts the members of a sorted set within a lexicographical range.",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        handler: Some(zlexcount),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zrange",
        since: "1.2.0",
        summary: "Returns members of a sorted set in a range of ranks, scores or strings.",
        history: &[("6.2.0", "Added `REV`, `BYSCORE`, `BYLEX` and `LIMIT`.")],
        handler: Some(zrange),
        ..RANGE
    },
    CommandSpec {
        name: "zrangestore",
        arity: -5,
        flags: WRITE_DENYOOM,
        last_key: 2,
        key_specs: &[
            index_range(&["OW", "UPDATE"], 1, 0),
            index_range(&["RO", "ACCESS"], 2, 0),
        ],
        since: "6.2.0",
        summary: "Stores a range of a sorted set's members in another key.",
        complexity: RANGE_COMPLEXITY,
        handler: Some(zrangestore),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zrevrange",
        since: "1.2.0",
        summary: "Returns members of a sorted set in a range of ranks, highest score first.",
        doc_flags: &[DocFlag::Deprecated],
        deprecated_since: "6.2.0",
        replaced_by: "`ZRANGE` with the `REV` argument",
        handler: Some(zrevrange),
        ..RANGE
    },
    CommandSpec {
        name: "zrangebyscore",
        since: "1.0.5",
        summary: "Returns members of a sorted set in a range of scores.",
        doc_flags: &[DocFlag::Deprecated],
        deprecated_since: "6.2.0",
        replaced_by: "`ZRANGE` with the `BYSCORE` argument",
        history: &[("2.0.0", "Added `WITHSCORES`.")],
        handler: Some(zrangebyscore),
        ..RANGE
    },
    CommandSpec {
        name: "zrevrangebyscore",
        since: "2.2.0",
        summary: "Returns members of a sorted set in a range of scores, highest first.",
        doc_flags: &[DocFlag::Deprecated],
        deprecated_since: "6.2.0",
        replaced_by: "`ZRANGE` with the `REV` and `BYSCORE` arguments",
        history: &[("2.1.6", "`min` and `max` may be exclusive.")],
        handler: Some(zrevrangebyscore),
        ..RANGE
    },
    CommandSpec {
        name: "zrangebylex",
        since: "2.8.9",
        summary: "Returns members of a sorted set in a lexicographical range.",
        doc_flags: &[DocFlag::Deprecated],
        deprecated_since: "6.2.0",
        replaced_by: "`ZRANGE` with the `BYLEX` argument",
        handler: Some(zrangebylex),
        ..RANGE
    },
    CommandSpec {
        name: "zrevrangebylex",
        since: "2.8.9",
        summary: "Returns members of a sorted set in a lexicographical range, highest first.",
        doc_flags: &[DocFlag::Deprecated],
        deprecated_since: "6.2.0",
        replaced_by: "`ZRANGE` with the `REV` and `BYLEX` arguments",
        handler: Some(zrevrangebylex),
        ..RANGE
    },
    CommandSpec {
        name: "zrank",
        arity: 3,
        flags: READ_FAST,
        key_specs: RO_ACCESS,
        since: "2.0.0",
        summary: "Returns a member's rank in a sorted set, lowest score first.",
        complexity: "O(log(N))",
        handler: Some(zrank),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zrevrank",
        arity: 3,
        flags: READ_FAST,
        key_specs: RO_ACCESS,
        since: "2.0.0",
        summary: "Returns a member's rank in a sorted set, highest score first.",
        complexity: "O(log(N))",
        handler: Some(zrevrank),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zrem",
        arity: -3,
        flags: &[Flag::Write, Flag::Fast],
        key_specs: RW_DELETE,
        since: "1.2.0",
        summary: "Removes members from a sorted set.",
        complexity: "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
        history: &[("2.4.0", "Accepts several members.")],
        handler: Some(zrem),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zremrangebyrank",
        arity: 4,
        flags: &[Flag::Write],
        key_specs: RW_DELETE,
        since: "2.0.0",
        summary: "Removes the members of a sorted set in a range of ranks.",
        complexity: RANGE_COMPLEXITY,
        handler: Some(zremrangebyrank),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zremrangebyscore",
        arity: 4,
        flags: &[Flag::Write],
        key_specs: RW_DELETE,
        since: "1.2.0",
        summary: "Removes the members of a sorted set in a range of scores.",
        complexity: RANGE_COMPLEXITY,
        handler: Some(zremrangebyscore),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zremrangebylex",
        arity: 4,
        flags: &[Flag::Write],
        key_specs: RW_DELETE,
        since: "2.8.9",
        summary: "Removes the members of a sorted set in a lexicographical range.",
        complexity: RANGE_COMPLEXITY,
        handler: Some(zremrangebylex),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zpopmin",
        arity: -2,
        flags: &[Flag::Write, Flag::Fast],
        key_specs: RW_ACCESS_DELETE,
        since: "5.0.0",
        summary: "Removes and returns the members with the lowest scores.",
        complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        handler: Some(zpopmin),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zpopmax",
        arity: -2,
        flags: &[Flag::Write, Flag::Fast],
        key_specs: RW_ACCESS_DELETE,
        since: "5.0.0",
        summary: "Removes and returns the members with the highest scores.",
        complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        handler: Some(zpopmax),
        ..ONE_KEY
    },
    CommandSpec {
        name: "bzpopmin",
        arity: -3,
        flags: BLOCKING_POP_FLAGS,
        last_key: -2,
        key_specs: BLOCKING_POP_KEYS,
        since: "5.0.0",
        summary: "Removes and returns the lowest-scored member of the first non-empty sorted set, or waits for one.",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        history: TIMEOUT_IS_DOUBLE,
        handler: Some(bzpopmin),
        ..ONE_KEY
    },
    CommandSpec {
        name: "bzpopmax",
        arity: -3,
        flags: BLOCKING_POP_FLAGS,
        last_key: -2,
        key_specs: BLOCKING_POP_KEYS,
        since: "5.0.0",
        summary: "Removes and returns the highest-scored member of the first non-empty sorted set, or waits for one.",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        history: TIMEOUT_IS_DOUBLE,
        handler: Some(bzpopmax),
        ..ONE_KEY
    },
    CommandSpec {
        name: "bzmpop",
        arity: -5,
        flags: &[Flag::Write, Flag::Blocking],
        key_specs: &[index_keynum(&["RW", "ACCESS", "DELETE"], 2)],
        since: "7.0.0",
        summary: "Removes and returns members from the first non-empty sorted set of several, or waits for one.",
        complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        handler: Some(bzmpop),
        ..NUMKEYS
    },
    CommandSpec {
        name: "zmpop",
        arity: -4,
        flags: &[Flag::Write],
        key_specs: &[index_keynum(&["RW", "ACCESS", "DELETE"], 1)],
        since: "7.0.0",
        summary: "Removes and returns members from the first non-empty sorted set of several.",
        complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        handler: Some(zmpop),
        ..NUMKEYS
    },
    CommandSpec {
        name: "zrandmember",
        arity: -2,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS,
        since: "6.2.0",
        summary: "Returns random members of a sorted set.",
        complexity: "O(N) where N is the number of elements returned",
        tips: &["nondeterministic_output"],
        handler: Some(zrandmember),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zunion",
        arity: -3,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS_KEYNUM,
        since: "6.2.0",
        summary: "Returns the union of sorted sets.",
        complexity: "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        handler: Some(zunion),
        ..NUMKEYS
    },
    CommandSpec {
        name: "zinter",
        arity: -3,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS_KEYNUM,
        since: "6.2.0",
        summary: "Returns the intersection of sorted sets.",
        complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        handler: Some(zinter),
        ..NUMKEYS
    },
    CommandSpec {
        name: "zdiff",
        arity: -3,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS_KEYNUM,
        since: "6.2.0",
        summary: "Returns the members of the first sorted set missing from the others.",
        complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        handler: Some(zdiff),
        ..NUMKEYS
    },
    CommandSpec {
        name: "zunionstore",
        arity: -4,
        flags: WRITE_DENYOOM,
        key_specs: STORE_KEYNUM,
        since: "2.0.0",
        summary: "Stores the union of sorted sets in a key.",
        complexity: "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        handler: Some(zunionstore),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zinterstore",
        arity: -4,
        flags: WRITE_DENYOOM,
        key_specs: STORE_KEYNUM,
        since: "2.0.0",
        summary: "Stores the intersection of sorted sets in a key.",
        complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        handler: Some(zinterstore),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zdiffstore",
        arity: -4,
        flags: WRITE_DENYOOM,
        key_specs: STORE_KEYNUM,
        since: "6.2.0",
        summary: "Stores the difference of sorted sets in a key.",
        complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        handler: Some(zdiffstore),
        ..ONE_KEY
    },
    CommandSpec {
        name: "zintercard",
        arity: -3,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS_KEYNUM,
        since: "7.0.0",
        summary: "Returns the number of members in the intersection of sorted sets.",
        complexity: "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
        handler: Some(zintercard),
        ..NUMKEYS
    },
    CommandSpec {
        name: "zscan",
        arity: -3,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS,
        since: "2.8.0",
        summary: "Iterates over the members and scores of a sorted set.",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
        tips: &["nondeterministic_output"],
        handler: Some(zscan),
        ..ONE_KEY
    },
];

// ---------------------------------------------------------------------------------
// Shared helpers

/// The encoding thresholds as configured now.
fn limits(ctx: &Ctx<'_>) -> Limits {
    Limits {
        entries: ctx.srv.config.zset_max_listpack_entries,
        value: ctx.srv.config.zset_max_listpack_value,
    }
}

/// Looks a key up for reading (expiry, access time, hit/miss stats) and hands back
/// its sorted set together with the reply buffer, so replies can stream from it.
pub(super) fn read_zset<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
) -> Result<(Option<&'c ZSet>, &'c mut ReplyBuf), CmdError> {
    let policy = ctx.srv.access_policy();
    let draw = ctx.srv.access_draw();
    let srv = &mut *ctx.srv;
    let stats = &mut srv.keyspace_stats;
    let found = srv.dbs[ctx.client.db].lookup_read(key, ctx.now, Touch::Yes, policy, stats, draw);
    if found.is_some() {
        srv.keyspace_stats.keyspace_hits += 1;
    } else {
        srv.keyspace_stats.keyspace_misses += 1;
        let (flags, db) = (srv.config.notify_keyspace_events, ctx.client.db);
        crate::notify::queue_in(flags, &mut srv.pubsub, db, notify::KEY_MISS, "keymiss", key);
    }
    let zset = match found {
        None => None,
        Some(Entry {
            value: Value::ZSet(z),
            ..
        }) => Some(&**z),
        Some(_) => return Err(CmdError::Static(WRONGTYPE)),
    };
    Ok((zset, &mut ctx.client.out))
}

/// Looks a key up for writing; `None` when absent, WRONGTYPE when not a zset.
fn write_zset<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c mut ZSet>, CmdError> {
    match ctx.lookup_write(key) {
        None => Ok(None),
        Some(Entry {
            value: Value::ZSet(z),
            ..
        }) => Ok(Some(&mut **z)),
        Some(_) => Err(CmdError::Static(WRONGTYPE)),
    }
}

/// After a write: deletes the key if its set is now empty, and records `changes`
/// modifications (Redis adds each changed element to `dirty`) with the keyspace
/// event `event`, then `del` if the key went away.
fn finish_write(ctx: &mut Ctx<'_>, key: &[u8], changes: usize, event: &'static str) {
    let empty =
        matches!(ctx.db().peek(key).map(|e| &e.value), Some(Value::ZSet(z)) if z.is_empty());
    if empty {
        ctx.db().remove(key);
    }
    if changes > 0 {
        ctx.modified(key);
        ctx.srv.dirty += changes as u64 - 1;
        ctx.notify(notify::ZSET, event, key);
        if empty {
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
}

/// A score as Redis's addReplyDouble sends it ("%.17g").
fn reply_score(out: &mut ReplyBuf, score: f64) {
    // Integral scores below 10^17 print as plain integers under "%.17g" (but -0
    // keeps its sign): the common case, without the exact decimal expansion.
    if score.fract() == 0.0 && score.abs() < 1e17 && !(score == 0.0 && score.is_sign_negative()) {
        let mut digits = [0u8; 20];
        let text = i64_digits(score as i64, &mut digits);
        out.double_str(std::str::from_utf8(text).unwrap_or("0"));
        return;
    }
    let mut text = Vec::with_capacity(32);
    write_f64_g17(score, &mut text);
    out.double_str(std::str::from_utf8(&text).unwrap_or("nan"));
}

/// Members with optional scores: a flat array in RESP2, pairs in RESP3.
fn reply_members<'a>(
    out: &mut ReplyBuf,
    withscores: bool,
    items: impl ExactSizeIterator<Item = (LpValue<'a>, f64)>,
) {
    let mut scratch = [0u8; 20];
    let nested = withscores && out.is_resp3();
    out.array(if withscores && !nested {
        items.len() * 2
    } else {
        items.len()
    });
    for (member, score) in items {
        if nested {
            out.array(2);
        }
        out.bulk(member.to_bytes(&mut scratch));
        if withscores {
            reply_score(out, score);
        }
    }
}

/// C's strtod over a whole C string, as zslParseRange uses it: leading spaces are
/// skipped, the text ends at a NUL, overflow gives infinity, and an empty string
/// is 0 (nothing converted, but nothing left over either).
fn strtod_whole(arg: &[u8]) -> Option<f64> {
    let text = arg.split(|&b| b == 0).next().unwrap_or_default();
    if text.is_empty() {
        return Some(0.0);
    }
    let start = text
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let text = &text[start..];
    parse_f64(text).or_else(|| std::str::from_utf8(text).ok()?.parse::<f64>().ok())
}

/// One end of a score range: `(` makes it exclusive.
fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let (exclusive, text) = match arg.split_first() {
        Some((b'(', rest)) => (true, rest),
        _ => (false, arg),
    };
    let value = strtod_whole(text).filter(|v| !v.is_nan())?;
    Some((value, exclusive))
}

/// zslParseRange: `ERR min or max is not a float` on failure.
fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    let bad = || CmdError::Static(MIN_MAX_FLOAT);
    let (min, min_ex) = parse_score_bound(min).ok_or_else(bad)?;
    let (max, max_ex) = parse_score_bound(max).ok_or_else(bad)?;
    Ok(ScoreRange {
        min,
        max,
        min_ex,
        max_ex,
    })
}

/// One end of a lex range: `-`, `+`, `[string` or `(string`. As Redis reads a C
/// string, a NUL right after `-` or `+` still ends it.
fn parse_lex_bound(arg: &[u8]) -> Option<LexBound> {
    let (&first, rest) = arg.split_first()?;
    let alone = rest.first().is_none_or(|&b| b == 0);
    match first {
        b'+' if alone => Some(LexBound::Max),
        b'-' if alone => Some(LexBound::Min),
        b'(' => Some(LexBound::Excl(rest.to_vec())),
        b'[' => Some(LexBound::Incl(rest.to_vec())),
        _ => None,
    }
}

/// zslParseLexRange: `ERR min or max not valid string range item` on failure.
fn parse_lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, CmdError> {
    match (parse_lex_bound(min), parse_lex_bound(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(CmdError::Static(MIN_MAX_LEX)),
    }
}

/// getPositiveLongFromObjectOrReply with Redis's default message.
fn positive_count(arg: &[u8], err: &'static str) -> Result<i64, CmdError> {
    parse_i64(arg)
        .filter(|&n| n >= 0)
        .ok_or(CmdError::Static(err))
}

/// getRangeLongFromObjectOrReply(1, LONG_MAX) with a custom message.
fn at_least_one(arg: &[u8], err: &'static str) -> Result<i64, CmdError> {
    parse_i64(arg)
        .filter(|&n| n >= 1)
        .ok_or(CmdError::Static(err))
}

// ---------------------------------------------------------------------------------
// ZADD, ZINCRBY

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
pub(super) fn zadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zadd_generic(ctx, args, false)
}

/// ZINCRBY key increment member
fn zincrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zadd_generic(ctx, args, true)
}

/// ZADD's options, then its score/member pairs, checked as Redis checks them.
fn parse_zadd(args: &[Bytes], incr: bool) -> Result<(AddFlags, bool, Vec<f64>), CmdError> {
    let mut flags = AddFlags {
        incr,
        ..AddFlags::default()
    };
    let mut ch = false;
    let mut at = 2;
    while let Some(arg) = args.get(at) {
        match arg.to_ascii_uppercase().as_slice() {
            b"NX" => flags.nx = true,
            b"XX" => flags.xx = true,
            b"GT" => flags.gt = true,
            b"LT" => flags.lt = true,
            b"CH" => ch = true,
            b"INCR" => flags.incr = true,
            _ => break,
        }
        at += 1;
    }
    let elements = args.len() - at;
    if elements == 0 || !elements.is_multiple_of(2) {
        return Err(CmdError::Static(SYNTAX));
    }
    if flags.nx && flags.xx {
        return Err(CmdError::Static(XX_AND_NX));
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Err(CmdError::Static(GT_LT_NX));
    }
    if flags.incr && elements > 2 {
        return Err(CmdError::Static(INCR_ONE_PAIR));
    }
    let scores = args[at..]
        .chunks(2)
        .map(|pair| args::float(&pair[0]))
        .collect::<Result<Vec<f64>, CmdError>>()?;
    Ok((flags, ch, scores))
}

fn zadd_generic(ctx: &mut Ctx<'_>, args: &[Bytes], incr: bool) -> CmdResult {
    let (flags, ch, scores) = parse_zadd(args, incr)?;
    let key = &args[1];
    let members: Vec<&Bytes> = args[args.len() - 2 * scores.len()..]
        .chunks(2)
        .map(|pair| &pair[1])
        .collect();
    let (limits, hasher) = (limits(ctx), ctx.srv.hasher);
    let mut created = None;
    let zset = match write_zset(ctx, key)? {
        Some(z) => z,
        None if flags.xx => {
            reply_zadd(ctx.out(), flags.incr, None, 0);
            return Ok(());
        }
        None => created.insert(ZSet::for_first_member(members[0].len(), limits, hasher)),
    };
    let (mut added, mut updated, mut last) = (0, 0, None);
    for (member, &score) in members.iter().zip(&scores) {
        match zset.add(member, score, flags, limits, hasher) {
            AddOutcome::Nop => {}
            AddOutcome::Nan => return Err(CmdError::Static(SCORE_NAN)),
            AddOutcome::Added(s) => (added, last) = (added + 1, Some(s)),
            AddOutcome::Updated(s) => (updated, last) = (updated + 1, Some(s)),
            AddOutcome::Same(s) => last = Some(s),
        }
    }
    if let Some(z) = created.filter(|z| !z.is_empty()) {
        let policy = ctx.srv.access_policy();
        let now = ctx.now;
        ctx.db()
            .insert_new(key, Value::ZSet(Box::new(z)), None, now, policy);
        ctx.signal_key_ready(key);
    }
    let event = if flags.incr { "zincr" } else { "zadd" };
    finish_write(ctx, key, added + updated, event);
    reply_zadd(
        ctx.out(),
        flags.incr,
        last,
        if ch { added + updated } else { added },
    );
    Ok(())
}

/// ZADD's reply: the new score with INCR (nil when not applied), else a count.
fn reply_zadd(out: &mut ReplyBuf, incr: bool, score: Option<f64>, count: usize) {
    match (incr, score) {
        (true, Some(score)) => reply_score(out, score),
        (true, None) => out.null(),
        (false, _) => out.int(count as i64),
    }
}

// ---------------------------------------------------------------------------------
// Lookups

/// ZSCORE key member
fn zscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (zset, out) = read_zset(ctx, &args[1])?;
    match zset.and_then(|z| z.score(&args[2])) {
        Some(score) => reply_score(out, score),
        None => out.null(),
    }
    Ok(())
}

/// ZMSCORE key member [member ...]
fn zmscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (zset, out) = read_zset(ctx, &args[1])?;
    out.array(args.len() - 2);
    for member in &args[2..] {
        match zset.and_then(|z| z.score(member)) {
            Some(score) => reply_score(out, score),
            None => out.null(),
        }
    }
    Ok(())
}

/// ZCARD key
fn zcard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (zset, out) = read_zset(ctx, &args[1])?;
    out.int(zset.map_or(0, |z| z.len() as i64));
    Ok(())
}

/// ZRANK key member
fn zrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zrank_generic(ctx, args, false)
}

/// ZREVRANK key member
fn zrevrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zrank_generic(ctx, args, true)
}

fn zrank_generic(ctx: &mut Ctx<'_>, args: &[Bytes], reverse: bool) -> CmdResult {
    let (zset, out) = read_zset(ctx, &args[1])?;
    let rank = zset.and_then(|z| {
        let rank = z.rank(&args[2])?;
        Some(if reverse { z.len() - 1 - rank } else { rank })
    });
    match rank {
        Some(rank) => out.int(rank as i64),
        None => out.null(),
    }
    Ok(())
}

/// ZCOUNT key min max
fn zcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let range = parse_score_range(&args[2], &args[3])?;
    let (zset, out) = read_zset(ctx, &args[1])?;
    out.int(zset.map_or(0, |z| z.count_in_score_range(&range)) as i64);
    Ok(())
}

/// ZLEXCOUNT key min max
fn zlexcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let range = parse_lex_range(&args[2], &args[3])?;
    let (zset, out) = read_zset(ctx, &args[1])?;
    out.int(zset.map_or(0, |z| z.count_in_lex_range(&range)) as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------
// The ZRANGE family

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeBy {
    Rank,
    Score,
    Lex,
}

/// A parsed range request.
#[derive(Debug, Clone)]
struct RangeRequest {
    by: RangeBy,
    reverse: bool,
    withscores: bool,
    offset: i64,
    /// Negative: no limit.
    limit: i64,
    ranks: (i64, i64),
    scores: Option<ScoreRange>,
    lex: Option<LexRange>,
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
fn zrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, None, None, None)
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
fn zrangestore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, Some(&args[1]), None, None)
}

/// ZREVRANGE key start stop [WITHSCORES]
fn zrevrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, None, Some(RangeBy::Rank), Some(true))
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
fn zrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, None, Some(RangeBy::Score), Some(false))
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, None, Some(RangeBy::Score), Some(true))
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
fn zrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, None, Some(RangeBy::Lex), Some(false))
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
fn zrevrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, None, Some(RangeBy::Lex), Some(true))
}

/// Redis's zrangeGenericCommand: `by` and `reverse` are fixed by the legacy
/// commands and chosen by options (BYSCORE, BYLEX, REV) for ZRANGE/ZRANGESTORE.
fn zrange_generic(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    store: Option<&Bytes>,
    by: Option<RangeBy>,
    reverse: Option<bool>,
) -> CmdResult {
    let first = if store.is_some() { 2 } else { 1 };
    let req = parse_range_request(&args[first..], store.is_some(), by, reverse)?;
    let key = &args[first];
    let (zset, out) = read_zset(ctx, key)?;
    let Some(zset) = zset else {
        return match store {
            Some(dst) => store_result(ctx, dst, Vec::new()),
            None => {
                out.array(0);
                Ok(())
            }
        };
    };
    let positions = range_positions(zset, &req);
    let Some(dst) = store else {
        let items = positions.iter().map(|&pos| zset.get(pos));
        reply_members(out, req.withscores, items);
        return Ok(());
    };
    let mut items: Vec<(SmallBytes, f64)> = positions
        .iter()
        .map(|&pos| {
            let (member, score) = zset.get(pos);
            (SmallBytes::new(member.to_bytes(&mut [0u8; 20])), score)
        })
        .collect();
    unsign_listpack_phase(&mut items, req.by == RangeBy::Rank, limits(ctx));
    if req.reverse {
        items.reverse();
    }
    store_result(ctx, dst, items)
}

/// ZRANGESTORE builds its result by adding the elements in reply order to a new set
/// that starts as a listpack, unless a rank range already knows it will be too
/// long. Elements added while it is a listpack lose the sign of a -0 score (the
/// listpack writes "0"), even if it converts later; this reproduces that.
fn unsign_listpack_phase(items: &mut [(SmallBytes, f64)], sized: bool, limits: Limits) {
    if sized && items.len() as u64 > limits.entries {
        return;
    }
    for (i, (member, score)) in items.iter_mut().enumerate() {
        if i as u64 >= limits.entries || member.len() as u64 > limits.value {
            return;
        }
        if *score == 0.0 {
            *score = 0.0;
        }
    }
}

/// Options after `key min max`, then the range itself, with Redis's errors in
/// Redis's order. `args` starts at the source key.
fn parse_range_request(
    args: &[Bytes],
    store: bool,
    by: Option<RangeBy>,
    reverse: Option<bool>,
) -> Result<RangeRequest, CmdError> {
    let (mut by_opt, mut rev_opt) = (by, reverse);
    let (mut withscores, mut offset, mut limit) = (false, 0, -1);
    let mut i = 3;
    while i < args.len() {
        let arg = &args[i];
        let left = args.len() - i - 1;
        if !store && args::is(arg, "WITHSCORES") {
            withscores = true;
        } else if args::is(arg, "LIMIT") && left >= 2 {
            offset = args::int(&args[i + 1])?;
            limit = args::int(&args[i + 2])?;
            i += 2;
        } else if rev_opt.is_none() && args::is(arg, "REV") {
            rev_opt = Some(true);
        } else if by_opt.is_none() && args::is(arg, "BYLEX") {
            by_opt = Some(RangeBy::Lex);
        } else if by_opt.is_none() && args::is(arg, "BYSCORE") {
            by_opt = Some(RangeBy::Score);
        } else {
            return Err(CmdError::Static(SYNTAX));
        }
        i += 1;
    }
    let by = by_opt.unwrap_or(RangeBy::Rank);
    let reverse = rev_opt.unwrap_or(false);
    if limit != -1 && by == RangeBy::Rank {
        return Err(CmdError::Static(LIMIT_NEEDS_BY));
    }
    if withscores && by == RangeBy::Lex {
        return Err(CmdError::Static(WITHSCORES_BYLEX));
    }
    let (min, max) = if reverse && by != RangeBy::Rank {
        (&args[2], &args[1])
    } else {
        (&args[1], &args[2])
    };
    let mut req = RangeRequest {
        by,
        reverse,
        withscores,
        offset,
        limit,
        ranks: (0, 0),
        scores: None,
        lex: None,
    };
    match by {
        RangeBy::Rank => req.ranks = (args::int(min)?, args::int(max)?),
        RangeBy::Score => req.scores = Some(parse_score_range(min, max)?),
        RangeBy::Lex => req.lex = Some(parse_lex_range(min, max)?),
    }
    Ok(req)
}

/// The positions a range request selects, in reply order.
fn range_positions(zset: &ZSet, req: &RangeRequest) -> Vec<Pos> {
    let reverse = req.reverse;
    let (start, count) = match (req.by, &req.scores, &req.lex) {
        (RangeBy::Rank, _, _) => match clamp_ranks(req.ranks.0, req.ranks.1, zset.len()) {
            None => return Vec::new(),
            Some((start, end)) => {
                let rank = if reverse {
                    zset.len() - 1 - start
                } else {
                    start
                };
                (zset.at_rank(rank), Some(end - start + 1))
            }
        },
        (RangeBy::Score, Some(range), _) => {
            let from = if reverse {
                zset.last_in_score_range(range)
            } else {
                zset.first_in_score_range(range)
            };
            (from, None)
        }
        (RangeBy::Lex, _, Some(range)) => {
            let from = if reverse {
                zset.last_in_lex_range(range)
            } else {
                zset.first_in_lex_range(range)
            };
            (from, None)
        }
        _ => return Vec::new(),
    };
    if let Some(count) = count {
        return walk_positions(zset, start, reverse, count, |_| true);
    }
    // A negative offset never finishes skipping in Redis: nothing is returned.
    let Ok(offset) = usize::try_from(req.offset) else {
        return Vec::new();
    };
    let mut pos = start;
    for _ in 0..offset {
        let Some(p) = pos else { break };
        pos = zset.step(p, reverse);
    }
    let limit = usize::try_from(req.limit).unwrap_or(usize::MAX);
    let in_range = |p: Pos| {
        let (member, score) = zset.get(p);
        let mut scratch = [0u8; 20];
        let member = member.to_bytes(&mut scratch);
        match (&req.scores, &req.lex, reverse) {
            (Some(r), _, false) => r.below_max(score),
            (Some(r), _, true) => r.above_min(score),
            (_, Some(r), false) => r.below_max(member),
            (_, Some(r), true) => r.above_min(member),
            _ => false,
        }
    };
    walk_positions(zset, pos, reverse, limit, in_range)
}

/// Up to `count` positions from `from` while `keep` accepts them.
fn walk_positions(
    zset: &ZSet,
    from: Option<Pos>,
    reverse: bool,
    count: usize,
    keep: impl Fn(Pos) -> bool,
) -> Vec<Pos> {
    let mut found = Vec::with_capacity(count.min(zset.len()));
    let mut pos = from;
    while let Some(p) = pos {
        if found.len() >= count || !keep(p) {
            break;
        }
        found.push(p);
        pos = zset.step(p, reverse);
    }
    found
}

/// Redis's rank sanitising: negative ranks count from the end; `None` when the
/// range is empty, else 0-based `(start, end)` within the set.
fn clamp_ranks(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    let end = end.min(len - 1);
    Some((start as usize, end as usize))
}

/// Stores a computed result in `dst` (or deletes `dst` when empty) and replies with
/// its size, as ZRANGESTORE and the *STORE set operations do.
pub(super) fn store_result(
    ctx: &mut Ctx<'_>,
    dst: &[u8],
    items: Vec<(SmallBytes, f64)>,
) -> CmdResult {
    let len = items.len();
    if len == 0 {
        if ctx.db().remove(dst).is_some() {
            ctx.modified(dst);
            ctx.notify(notify::GENERIC, "del", dst);
        }
        ctx.out().int(0);
        return Ok(());
    }
    let zset = ZSet::from_sorted(items, limits(ctx), ctx.srv.hasher);
    let policy = ctx.srv.access_policy();
    let now = ctx.now;
    // Redis's setKey signals waiters only when it adds the key (dbAdd), not when it
    // overwrites one.
    let added = !ctx.db().is_live(dst, now);
    ctx.db()
        .set(dst, Value::ZSet(Box::new(zset)), false, now, policy);
    if added {
        ctx.signal_key_ready(dst);
    }
    ctx.modified(dst);
    ctx.notify(notify::ZSET, store_event(ctx.cmd.name), dst);
    ctx.out().int(len as i64);
    Ok(())
}

/// The event a store fires: the command's name (zunionstore, zrangestore,
/// geosearchstore...), but `georadiusstore` for GEORADIUS[BYMEMBER] ... STORE.
fn store_event(cmd: &'static str) -> &'static str {
    match cmd {
        "georadius" | "georadiusbymember" => "georadiusstore",
        name => name,
    }
}

// ---------------------------------------------------------------------------------
// Removals

/// ZREM key member [member ...]
fn zrem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let Some(zset) = write_zset(ctx, key)? else {
        ctx.out().int(0);
        return Ok(());
    };
    let mut removed = 0;
    for member in &args[2..] {
        if zset.remove(member) {
            removed += 1;
            if zset.is_empty() {
                break;
            }
        }
    }
    finish_write(ctx, key, removed, "zrem");
    ctx.out().int(removed as i64);
    Ok(())
}

/// ZREMRANGEBYRANK key start stop
fn zremrangebyrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zremrange_generic(ctx, args, RangeBy::Rank)
}

/// ZREMRANGEBYSCORE key min max
fn zremrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zremrange_generic(ctx, args, RangeBy::Score)
}

/// ZREMRANGEBYLEX key min max
fn zremrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zremrange_generic(ctx, args, RangeBy::Lex)
}

fn zremrange_generic(ctx: &mut Ctx<'_>, args: &[Bytes], by: RangeBy) -> CmdResult {
    let key = &args[1];
    let (mut ranks, mut scores, mut lex) = ((0, 0), None, None);
    match by {
        RangeBy::Rank => ranks = (args::int(&args[2])?, args::int(&args[3])?),
        RangeBy::Score => scores = Some(parse_score_range(&args[2], &args[3])?),
        RangeBy::Lex => lex = Some(parse_lex_range(&args[2], &args[3])?),
    }
    let Some(zset) = write_zset(ctx, key)? else {
        ctx.out().int(0);
        return Ok(());
    };
    let removed = match (by, scores, lex) {
        (RangeBy::Rank, _, _) => match clamp_ranks(ranks.0, ranks.1, zset.len()) {
            Some((start, end)) => zset.remove_rank_range(start, end),
            None => 0,
        },
        (RangeBy::Score, Some(range), _) => zset.remove_score_range(&range),
        (RangeBy::Lex, _, Some(range)) => zset.remove_lex_range(&range),
        _ => 0,
    };
    // The event is the command's name: zremrangebyrank, zremrangebyscore, ...
    let event = ctx.cmd.name;
    finish_write(ctx, key, removed, event);
    ctx.out().int(removed as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------
// Pops

/// How a pop replies (Redis's genericZpopCommand arguments).
#[derive(Debug, Clone, Copy)]
struct PopReply {
    /// Name the key first (ZMPOP, BZPOP*).
    emit_key: bool,
    /// Each element as a [member, score] pair.
    nested: bool,
    /// Null array instead of an empty one when nothing was found (ZMPOP).
    nil_when_empty: bool,
}

/// ZPOPMIN key [count]
fn zpopmin(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zpop_command(ctx, args, false)
}

/// ZPOPMAX key [count]
fn zpopmax(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zpop_command(ctx, args, true)
}

fn zpop_command(ctx: &mut Ctx<'_>, args: &[Bytes], max: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Static(SYNTAX));
    }
    let count = match args.get(2) {
        Some(arg) => Some(positive_count(arg, MUST_BE_POSITIVE)?),
        None => None,
    };
    let reply = PopReply {
        emit_key: false,
        nested: ctx.out().is_resp3() && count.is_some(),
        nil_when_empty: false,
    };
    zpop_generic(ctx, &args[1..2], max, count, reply)
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
fn zmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (keys, max, count) = parse_mpop(args, 1)?;
    let reply = PopReply {
        emit_key: true,
        nested: true,
        nil_when_empty: true,
    };
    zpop_generic(ctx, keys, max, Some(count), reply)
}

/// BZPOPMIN key [key ...] timeout
fn bzpopmin(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    bzpop_command(ctx, args, false)
}

/// BZPOPMAX key [key ...] timeout
fn bzpopmax(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    bzpop_command(ctx, args, true)
}

fn bzpop_command(ctx: &mut Ctx<'_>, args: &[Bytes], max: bool) -> CmdResult {
    let last = args.len() - 1;
    let deadline = parse_timeout_secs(&args[last], ctx.now)?;
    let reply = PopReply {
        emit_key: true,
        nested: false,
        nil_when_empty: true,
    };
    blocking_pop(ctx, args, &args[1..last], max, None, reply, deadline)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]: the timeout is read
/// after the other arguments, as Redis does.
fn bzmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (keys, max, count) = parse_mpop(args, 2)?;
    let deadline = parse_timeout_secs(&args[1], ctx.now)?;
    let reply = PopReply {
        emit_key: true,
        nested: true,
        nil_when_empty: true,
    };
    blocking_pop(ctx, args, keys, max, Some(count), reply, deadline)
}

/// Pops from the first non-empty key like ZPOP*/ZMPOP, or parks the client on
/// `keys` until one holds a sorted set (then the command runs again) or the
/// deadline passes (a null array).
///
/// Inside MULTI or a script Redis does not block but replies as on a timeout; that
/// check joins [`Ctx::block`] with transactions.
fn blocking_pop(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    keys: &[Bytes],
    max: bool,
    count: Option<i64>,
    reply: PopReply,
    deadline: Option<Millis>,
) -> CmdResult {
    for key in keys {
        if write_zset(ctx, key)?.is_some_and(|z| !z.is_empty()) {
            let popped = pop_members(ctx, key, max, count.unwrap_or(1));
            reply_popped(ctx.out(), reply, key, &popped);
            let propagated_count = count.map(|_| popped.len());
            rewrite_as_zpop(ctx, key, max, propagated_count);
            return Ok(());
        }
    }
    ctx.block(
        args,
        BlockOn {
            keys,
            deadline,
            wait_type: ValueType::ZSet,
            on_timeout: ReplyBuf::null_array,
            gone_error: None,
        },
    );
    Ok(())
}

/// ZMPOP's (and BZMPOP's) arguments from `numkeys_at`: keys, MIN/MAX, count.
fn parse_mpop(args: &[Bytes], numkeys_at: usize) -> Result<(&[Bytes], bool, i64), CmdError> {
    let numkeys = at_least_one(&args[numkeys_at], NUMKEYS_POSITIVE)?;
    let where_at = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(numkeys_at + 1))
        .filter(|&at| at < args.len())
        .ok_or(CmdError::Static(SYNTAX))?;
    let max = match &args[where_at] {
        w if args::is(w, "MIN") => false,
        w if args::is(w, "MAX") => true,
        _ => return Err(CmdError::Static(SYNTAX)),
    };
    let mut count = None;
    let mut i = where_at + 1;
    while i < args.len() {
        if count.is_none() && args::is(&args[i], "COUNT") && i + 1 < args.len() {
            count = Some(at_least_one(&args[i + 1], COUNT_POSITIVE)?);
            i += 2;
        } else {
            return Err(CmdError::Static(SYNTAX));
        }
    }
    Ok((&args[numkeys_at + 1..where_at], max, count.unwrap_or(1)))
}

/// Pops up to `count` members (one and a flat reply when `None`) from the first
/// existing key, after type-checking the keys before it.
fn zpop_generic(
    ctx: &mut Ctx<'_>,
    keys: &[Bytes],
    max: bool,
    count: Option<i64>,
    reply: PopReply,
) -> CmdResult {
    let mut found = None;
    for key in keys {
        if write_zset(ctx, key)?.is_some() {
            found = Some(key);
            break;
        }
    }
    let Some(key) = found else {
        if reply.nil_when_empty {
            ctx.out().null_array();
        } else {
            ctx.out().array(0);
        }
        return Ok(());
    };
    if count == Some(0) {
        ctx.out().array(0);
        return Ok(());
    }
    let popped = pop_members(ctx, key, max, count.unwrap_or(1));
    reply_popped(ctx.out(), reply, key, &popped);
    if reply.emit_key {
        // ZMPOP propagates as ZPOPMIN/ZPOPMAX with the count popped.
        rewrite_as_zpop(ctx, key, max, Some(popped.len()));
    }
    Ok(())
}

/// The blocking and multi-key pops propagate as ZPOPMIN/ZPOPMAX, with a count for
/// the MPOP forms.
fn rewrite_as_zpop(ctx: &mut Ctx<'_>, key: &[u8], max: bool, count: Option<usize>) {
    let name: &'static [u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
    let mut argv = vec![Bytes::from_static(name), Bytes::copy_from_slice(key)];
    if let Some(n) = count {
        argv.push(Bytes::from(n.to_string()));
    }
    ctx.rewrite_argv(argv);
}

/// Pops up to `count` members from the zset at `key` (which exists).
fn pop_members(ctx: &mut Ctx<'_>, key: &[u8], max: bool, count: i64) -> Vec<(Vec<u8>, f64)> {
    let mut popped = Vec::new();
    if let Ok(Some(zset)) = write_zset(ctx, key) {
        let count = usize::try_from(count).unwrap_or(usize::MAX).min(zset.len());
        popped.reserve(count);
        for _ in 0..count {
            match zset.pop(max) {
                Some(item) => popped.push(item),
                None => break,
            }
        }
    }
    let event = if max { "zpopmax" } else { "zpopmin" };
    finish_write(ctx, key, popped.len(), event);
    popped
}

fn reply_popped(out: &mut ReplyBuf, reply: PopReply, key: &[u8], popped: &[(Vec<u8>, f64)]) {
    match (reply.emit_key, reply.nested) {
        (false, false) => out.array(popped.len() * 2),
        (false, true) => out.array(popped.len()),
        (true, false) => {
            out.array(popped.len() * 2 + 1);
            out.bulk(key);
        }
        (true, true) => {
            out.array(2);
            out.bulk(key);
            out.array(popped.len());
        }
    }
    for (member, score) in popped {
        if reply.nested {
            out.array(2);
        }
        out.bulk(member);
        reply_score(out, *score);
    }
}

// ---------------------------------------------------------------------------------
// ZRANDMEMBER

/// ZRANDMEMBER key [count [WITHSCORES]]
fn zrandmember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len() < 3 {
        let (zset, _) = read_zset(ctx, &args[1])?;
        let Some(len) = zset.map(|z| z.len() as u64) else {
            ctx.out().null();
            return Ok(());
        };
        let rank = ctx.srv.random_below(len) as usize;
        let (zset, out) = read_zset_again(ctx, &args[1]);
        if let Some(pos) = zset.and_then(|z| z.at_rank(rank).map(|p| (z, p))) {
            out.bulk(pos.0.get(pos.1).0.to_bytes(&mut [0u8; 20]));
        }
        return Ok(());
    }
    let count = args::int(&args[2])?;
    if count == i64::MIN {
        return Err(CmdError::Static(NOT_IN_SYMMETRIC_LONG_RANGE));
    }
    let withscores = match args.get(3) {
        None => false,
        Some(arg) if args.len() == 4 && args::is(arg, "WITHSCORES") => true,
        Some(_) => return Err(CmdError::Static(SYNTAX)),
    };
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::Static(OUT_OF_RANGE));
    }
    zrandmember_count(ctx, &args[1], count, withscores)
}

/// The set at `key` again, without counting a second lookup.
fn read_zset_again<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> (Option<&'c ZSet>, &'c mut ReplyBuf) {
    let zset = match ctx.srv.dbs[ctx.client.db].peek(key).map(|e| &e.value) {
        Some(Value::ZSet(z)) => Some(&**z),
        _ => None,
    };
    (zset, &mut ctx.client.out)
}

/// Ranks drawn per batch when members may repeat, bounding the scratch memory of
/// a huge negative count.
const RANDOM_BATCH_RANKS: u64 = 1024;

/// ZRANDMEMBER with a count: negative counts may repeat members and come in
/// random order; positive ones are distinct, the whole set when count >= size.
fn zrandmember_count(ctx: &mut Ctx<'_>, key: &[u8], count: i64, withscores: bool) -> CmdResult {
    let (zset, out) = read_zset(ctx, key)?;
    let Some(len) = zset.map(|z| z.len()) else {
        out.array(0);
        return Ok(());
    };
    if count == 0 {
        out.array(0);
        return Ok(());
    }
    if count < 0 || count == 1 {
        let n = count.unsigned_abs();
        if crate::command::random_reply_too_big(n) {
            ctx.client.close_asap();
            return Ok(());
        }
        let resp2_pairs = withscores && !out.is_resp3();
        // Redis's header, whatever the count; the elements follow in batches.
        out.array(if resp2_pairs { n.saturating_mul(2) } else { n } as usize);
        let start = out.len();
        let mut left = n;
        while left > 0 {
            let batch = left.min(RANDOM_BATCH_RANKS);
            left -= batch;
            let ranks: Vec<usize> = (0..batch)
                .map(|_| ctx.srv.random_below(len as u64) as usize)
                .collect();
            let (zset, out) = read_zset_again(ctx, key);
            if let Some(zset) = zset {
                reply_ranks(out, zset, &ranks, withscores, false);
            }
            if out.len() - start > RANDOM_REPLY_BYTES_MAX {
                ctx.client.close_asap();
                break;
            }
        }
        return Ok(());
    }
    let ranks: Vec<usize> = if count as u64 >= len as u64 {
        // The whole set, walked from the top as Redis's zuiNext walks a zset.
        (0..len).rev().collect()
    } else {
        distinct_ranks(ctx, len, count as usize)
    };
    let (zset, out) = read_zset_again(ctx, key);
    if let Some(zset) = zset {
        reply_ranks(out, zset, &ranks, withscores, true);
    }
    Ok(())
}

/// The members at `ranks`, with the array header when `header`.
fn reply_ranks(out: &mut ReplyBuf, zset: &ZSet, ranks: &[usize], withscores: bool, header: bool) {
    let mut scratch = [0u8; 20];
    let nested = withscores && out.is_resp3();
    if header {
        out.array(if withscores && !nested {
            ranks.len() * 2
        } else {
            ranks.len()
        });
    }
    for &rank in ranks {
        let (member, score) = zset
            .at_rank(rank)
            .map_or((LpValue::Str(&[]), 0.0), |p| zset.get(p));
        if nested {
            out.array(2);
        }
        out.bulk(member.to_bytes(&mut scratch));
        if withscores {
            reply_score(out, score);
        }
    }
}

/// `count` distinct ranks below `len` (count < len), in random order: a partial
/// Fisher-Yates shuffle of the ranks.
fn distinct_ranks(ctx: &mut Ctx<'_>, len: usize, count: usize) -> Vec<usize> {
    let mut picked: BTreeMap<usize, usize> = BTreeMap::new();
    let mut ranks = Vec::with_capacity(count);
    for i in 0..count {
        let j = i + ctx.srv.random_below((len - i) as u64) as usize;
        let at_j = picked.get(&j).copied().unwrap_or(j);
        let at_i = picked.get(&i).copied().unwrap_or(i);
        picked.insert(j, at_i);
        ranks.push(at_j);
    }
    ranks
}

// ---------------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF and their STORE forms, ZINTERCARD

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// One input of a set operation: a sorted set, a plain set (every member scoring
/// 1), or a missing key.
enum Source<'a> {
    Missing,
    ZSet(&'a ZSet),
    Set(&'a Set),
}

/// The score every member of a plain set has in a set operation.
const SET_MEMBER_SCORE: f64 = 1.0;

impl Source<'_> {
    fn len(&self) -> usize {
        match self {
            Source::ZSet(z) => z.len(),
            Source::Set(s) => s.len(),
            Source::Missing => 0,
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Source::ZSet(z) => z.score(member),
            Source::Set(s) => s.contains(member).then_some(SET_MEMBER_SCORE),
            Source::Missing => None,
        }
    }

    fn for_each(&self, mut visit: impl FnMut(&[u8], f64)) {
        match self {
            Source::ZSet(z) => z.for_each(visit),
            Source::Set(s) => {
                let mut scratch = [0u8; 20];
                for member in s.iter() {
                    visit(member.bytes(&mut scratch), SET_MEMBER_SCORE);
                }
            }
            Source::Missing => {}
        }
    }
}

/// Options of a set operation.
struct SetOpOptions {
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
    limit: u64,
}

/// ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
fn zunion(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, args, None, SetOp::Union, false)
}

/// ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
fn zinter(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, args, None, SetOp::Inter, false)
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
fn zdiff(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, args, None, SetOp::Diff, false)
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE ...]
fn zunionstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, args, Some(&args[1]), SetOp::Union, false)
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE ...]
fn zinterstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, args, Some(&args[1]), SetOp::Inter, false)
}

/// ZDIFFSTORE destination numkeys key [key ...]
fn zdiffstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, args, Some(&args[1]), SetOp::Diff, false)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
fn zintercard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, args, None, SetOp::Inter, true)
}

/// Redis's zunionInterDiffGenericCommand: numkeys, then each key's type (in
/// order, before any option), then the options, then the operation.
fn zsetop_generic(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    dst: Option<&Bytes>,
    op: SetOp,
    card_only: bool,
) -> CmdResult {
    let numkeys_at = if dst.is_some() { 2 } else { 1 };
    let numkeys = args::int(&args[numkeys_at])?;
    if numkeys < 1 {
        return Err(CmdError::Owned(format!(
            "ERR at least 1 input key is needed for '{}' command",
            ctx.cmd.name
        )));
    }
    let keys_end = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(numkeys_at + 1))
        .filter(|&end| end <= args.len())
        .ok_or(CmdError::Static(SYNTAX))?;
    let keys = &args[numkeys_at + 1..keys_end];
    for key in keys {
        match ctx.lookup_read(key).map(|e| &e.value) {
            None | Some(Value::ZSet(_)) | Some(Value::Set(_)) => {}
            Some(_) => return Err(CmdError::Static(WRONGTYPE)),
        }
    }
    let opts = parse_setop_options(&args[keys_end..], keys.len(), op, dst.is_some(), card_only)?;
    let db = &ctx.srv.dbs[ctx.client.db];
    let sources: Vec<Source<'_>> = keys
        .iter()
        .map(|key| match db.peek(key).map(|e| &e.value) {
            Some(Value::ZSet(z)) => Source::ZSet(z),
            Some(Value::Set(s)) => Source::Set(s),
            _ => Source::Missing,
        })
        .collect();
    if card_only {
        let card = inter_card(&sources, opts.limit);
        ctx.out().int(card as i64);
        return Ok(());
    }
    let result = match op {
        SetOp::Union => union(&sources, &opts),
        SetOp::Inter => inter(&sources, &opts),
        SetOp::Diff => diff(&sources, keys),
    };
    match dst {
        Some(dst) => store_result(ctx, dst, result),
        None => {
            let items = result.iter().map(|(m, s)| (LpValue::Str(m), *s));
            reply_members(ctx.out(), opts.withscores, items);
            Ok(())
        }
    }
}

/// WEIGHTS, AGGREGATE, WITHSCORES and LIMIT, where the command allows them.
fn parse_setop_options(
    opts: &[Bytes],
    setnum: usize,
    op: SetOp,
    store: bool,
    card_only: bool,
) -> Result<SetOpOptions, CmdError> {
    let mut parsed = SetOpOptions {
        weights: vec![1.0; setnum],
        aggregate: Aggregate::Sum,
        withscores: false,
        limit: 0,
    };
    let weighted = op != SetOp::Diff && !card_only;
    let mut i = 0;
    while i < opts.len() {
        let left = opts.len() - i;
        let arg = &opts[i];
        if weighted && left > setnum && args::is(arg, "WEIGHTS") {
            for (w, text) in parsed.weights.iter_mut().zip(&opts[i + 1..]) {
                *w = parse_f64(text).ok_or(CmdError::Static(WEIGHT_NOT_FLOAT))?;
            }
            i += setnum + 1;
        } else if weighted && left >= 2 && args::is(arg, "AGGREGATE") {
            parsed.aggregate = match &opts[i + 1] {
                a if args::is(a, "SUM") => Aggregate::Sum,
                a if args::is(a, "MIN") => Aggregate::Min,
                a if args::is(a, "MAX") => Aggregate::Max,
                _ => return Err(CmdError::Static(SYNTAX)),
            };
            i += 2;
        } else if !store && !card_only && args::is(arg, "WITHSCORES") {
            parsed.withscores = true;
            i += 1;
        } else if card_only && left >= 2 && args::is(arg, "LIMIT") {
            parsed.limit = positive_count(&opts[i + 1], LIMIT_NEGATIVE)? as u64;
            i += 2;
        } else {
            return Err(CmdError::Static(SYNTAX));
        }
    }
    Ok(parsed)
}

/// Redis's zunionInterAggregate.
fn aggregate(target: &mut f64, value: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += value;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if value < *target {
                *target = value;
            }
        }
        Aggregate::Max => {
            if value > *target {
                *target = value;
            }
        }
    }
}

/// A weighted score, with NaN (0 * inf) read as 0.
fn weighted(score: f64, weight: f64) -> f64 {
    let v = score * weight;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// The inputs from smallest to largest, as Redis sorts them (a stable sort, as
/// glibc's qsort merge sort is).
fn by_size<'a>(sources: &'a [Source<'a>], weights: &[f64]) -> Vec<(&'a Source<'a>, f64)> {
    let mut order: Vec<(&Source<'_>, f64)> = sources.iter().zip(weights.iter().copied()).collect();
    order.sort_by_key(|(s, _)| s.len());
    order
}

fn union(sources: &[Source<'_>], opts: &SetOpOptions) -> Vec<(SmallBytes, f64)> {
    let mut acc: BTreeMap<Vec<u8>, f64> = BTreeMap::new();
    for (source, weight) in by_size(sources, &opts.weights) {
        source.for_each(|member, score| {
            let score = weighted(score, weight);
            match acc.get_mut(member) {
                Some(target) => aggregate(target, score, opts.aggregate),
                None => {
                    acc.insert(member.to_vec(), score);
                }
            }
        });
    }
    sorted_result(
        acc.into_iter()
            .map(|(m, s)| (SmallBytes::from_vec(m), s))
            .collect(),
    )
}

fn inter(sources: &[Source<'_>], opts: &SetOpOptions) -> Vec<(SmallBytes, f64)> {
    let order = by_size(sources, &opts.weights);
    let mut result = Vec::new();
    let Some(((first, first_weight), rest)) = order.split_first() else {
        return result;
    };
    first.for_each(|member, score| {
        let mut total = weighted(score, *first_weight);
        for (other, weight) in rest {
            match other.score(member) {
                Some(s) => aggregate(&mut total, s * weight, opts.aggregate),
                None => return,
            }
        }
        result.push((SmallBytes::new(member), total));
    });
    sorted_result(result)
}

/// ZINTERCARD: how many members are in every input, stopping at `limit` (0: none).
fn inter_card(sources: &[Source<'_>], limit: u64) -> u64 {
    let weights = vec![1.0; sources.len()];
    let order = by_size(sources, &weights);
    let Some(((first, _), rest)) = order.split_first() else {
        return 0;
    };
    let mut card = 0;
    let in_all = |member: &[u8]| rest.iter().all(|(other, _)| other.score(member).is_some());
    match first {
        Source::ZSet(z) => z.walk(z.first(), false, |member, _| {
            card += u64::from(in_all(member));
            limit == 0 || card < limit
        }),
        Source::Set(set) => {
            let mut scratch = [0u8; 20];
            for member in set.iter() {
                card += u64::from(in_all(member.bytes(&mut scratch)));
                if limit != 0 && card >= limit {
                    break;
                }
            }
        }
        Source::Missing => {}
    }
    card
}

/// The members of the first input missing from every other, with their scores.
/// The same key given again as a later input empties the result.
fn diff(sources: &[Source<'_>], keys: &[Bytes]) -> Vec<(SmallBytes, f64)> {
    let mut result = Vec::new();
    let Some((first, rest)) = sources.split_first() else {
        return result;
    };
    if keys[1..].iter().any(|k| *k == keys[0]) {
        return result;
    }
    first.for_each(|member, score| {
        if rest.iter().all(|other| other.score(member).is_none()) {
            result.push((SmallBytes::new(member), score));
        }
    });
    sorted_result(result)
}

/// Orders a result as a skiplist would: by score, then member.
fn sorted_result(mut items: Vec<(SmallBytes, f64)>) -> Vec<(SmallBytes, f64)> {
    items.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.0.as_slice().cmp(b.0.as_slice()))
    });
    items
}

// ---------------------------------------------------------------------------------
// ZSCAN

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
fn zscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let cursor = parse_scan_cursor(&args[2])?;
    let (zset, out) = read_zset(ctx, &args[1])?;
    let Some(zset) = zset else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let opts = parse_scan_options(&args[3..], false)?;
    let mut found: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut next = cursor;
    let mut budget = opts.count.saturating_mul(10);
    loop {
        next = zset.scan(next, |member, score| found.push((member.to_vec(), score)));
        // Redis counts members and scores alike against COUNT.
        if next == 0 || budget == 0 || found.len() as u64 * 2 >= opts.count {
            break;
        }
        budget -= 1;
    }
    if let Some(pattern) = opts.pattern {
        found.retain(|(member, _)| glob_match(pattern, member, false));
    }
    out.array(2);
    out.bulk_i64(next as i64);
    out.array(found.len() * 2);
    let mut text = Vec::with_capacity(24);
    for (member, score) in &found {
        out.bulk(member);
        text.clear();
        zset.scan_score_text(*score, &mut text);
        out.bulk(&text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::keys::harness::Harness;
    use super::*;

    fn bulk(s: &str) -> String {
        format!("${}\r\n{}\r\n", s.len(), s)
    }

    #[test]
    fn zadd_then_range_with_scores() {
        let mut h = Harness::new();
        assert_eq!(h.run("ZADD z 1 a 2 b 1.5 c"), ":3\r\n");
        assert_eq!(
            h.run("ZRANGE z 0 -1 WITHSCORES"),
            format!(
                "*6\r\n{}{}{}{}{}{}",
                bulk("a"),
                bulk("1"),
                bulk("c"),
                bulk("1.5"),
                bulk("b"),
                bulk("2")
            )
        );
    }

    #[test]
    fn integral_scores_take_the_fast_path_with_g17_text() {
        use crate::util::num::format_f64_g17;
        for v in [
            0.0,
            -0.0,
            1.0,
            -7.0,
            1e16,
            -99999999999999990.0,
            1e17,
            123456.0,
            0.5,
            1e300,
        ] {
            let mut out = ReplyBuf::new();
            reply_score(&mut out, v);
            let g = format_f64_g17(v);
            assert_eq!(
                out.take().to_vec(),
                format!("${}\r\n{}\r\n", g.len(), g).into_bytes()
            );
        }
    }

    #[test]
    fn score_parsing_follows_strtod() {
        assert_eq!(strtod_whole(b""), Some(0.0));
        assert_eq!(strtod_whole(b" 1"), Some(1.0));
        assert_eq!(strtod_whole(b" "), None);
        assert_eq!(strtod_whole(b"1e400"), Some(f64::INFINITY));
        assert_eq!(strtod_whole(b"1\0junk"), Some(1.0));
        assert_eq!(strtod_whole(b"1x"), None);
        assert!(parse_score_bound(b"nan").is_none());
        assert_eq!(parse_score_bound(b"(5"), Some((5.0, true)));
    }

    #[test]
    fn lex_bounds_accept_only_their_four_forms() {
        assert_eq!(parse_lex_bound(b"-"), Some(LexBound::Min));
        assert_eq!(parse_lex_bound(b"+"), Some(LexBound::Max));
        assert_eq!(parse_lex_bound(b"+a"), None);
        assert_eq!(parse_lex_bound(b"[a"), Some(LexBound::Incl(b"a".to_vec())));
        assert_eq!(parse_lex_bound(b"(a"), Some(LexBound::Excl(b"a".to_vec())));
        assert_eq!(parse_lex_bound(b"a"), None);
        assert_eq!(parse_lex_bound(b""), None);
    }

    #[test]
    fn ranks_are_clamped_as_redis_does() {
        assert_eq!(clamp_ranks(0, -1, 5), Some((0, 4)));
        assert_eq!(clamp_ranks(-100, 100, 5), Some((0, 4)));
        assert_eq!(clamp_ranks(3, 1, 5), None);
        assert_eq!(clamp_ranks(5, 10, 5), None);
        assert_eq!(clamp_ranks(0, 0, 0), None);
    }

    #[test]
    fn zrandmember_with_a_count_returns_distinct_members_or_repeats_when_negative() {
        let mut h = Harness::new();
        h.run("ZADD z 1 a 2 b 3 c 4 d 5 e 6 f 7 g 8 h 9 i 10 j");
        for count in [2, 4, 8, 9] {
            let reply = h.run(&format!("ZRANDMEMBER z {count}"));
            let mut members: Vec<&str> = reply.split("\r\n").skip(2).step_by(2).collect();
            members.retain(|m| !m.is_empty());
            assert_eq!(members.len(), count, "{reply}");
            members.sort_unstable();
            members.dedup();
            assert_eq!(members.len(), count, "{reply}");
        }
        assert!(h.run("ZRANDMEMBER z -30").starts_with("*30\r\n"));
        assert!(h.run("ZRANDMEMBER z 30").starts_with("*10\r\n$1\r\nj\r\n"));
    }

    #[test]
    fn a_huge_negative_zrandmember_count_stops_and_closes_the_connection() {
        let mut h = Harness::new();
        h.run("ZADD z 1 a-member-of-some-length");
        let reply = h.run("ZRANDMEMBER z -9223372036854775807");
        assert_eq!(reply, "", "the oversized reply is dropped");
        assert!(h.client.close_asap);
    }

    #[test]
    fn zrandmember_refuses_a_count_of_long_min_instead_of_looping() {
        let mut h = Harness::new();
        h.run("ZADD z 0 a");
        let refused = format!("-{NOT_IN_SYMMETRIC_LONG_RANGE}\r\n");
        assert_eq!(h.run("ZRANDMEMBER z -9223372036854775808"), refused);
        assert_eq!(h.run("ZRANDMEMBER missing -9223372036854775808"), refused);
        assert_eq!(
            h.run("ZRANDMEMBER z -9223372036854775808 WITHSCORES"),
            refused
        );
        assert_eq!(
            h.run("ZRANDMEMBER z -9223372036854770000 WITHSCORES"),
            format!("-{OUT_OF_RANGE}\r\n")
        );
    }
}
