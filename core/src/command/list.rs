//! List commands (Redis's t_list.c): pushes and pops at either end, indexed access,
//! LINSERT/LREM/LTRIM/LPOS, moves between lists, the multi-key LMPOP and the
//! blocking BLPOP, BRPOP, BRPOPLPUSH, BLMOVE and BLMPOP.
//!
//! Shared shapes get one function as in Redis: [`push_generic`] serves LPUSH, RPUSH,
//! LPUSHX and RPUSHX; [`lmove_generic`] serves RPOPLPUSH, LMOVE and the served or
//! immediate case of BRPOPLPUSH/BLMOVE; [`mpop_generic`] serves BLPOP, BRPOP, LMPOP
//! and BLMPOP. Every push that may create a key signals it ready, so clients blocked
//! on it are served after the command (see `blocking.rs`). Arguments are checked in
//! Redis's order, which decides which error a bad request gets.

use bytes::Bytes;

use crate::config::notify;

use super::args::{int, is};
use super::{Acl, CommandSpec, DocFlag, Flag, Group, KeySpec};
use crate::blocking::{parse_timeout_secs, BlockOn};
use crate::error::{wrong_arity, CmdError, CmdResult, NO_SUCH_KEY, SYNTAX, WRONGTYPE};
use crate::node::Ctx;
use crate::resp::ReplyBuf;
use crate::types::list::{End, List, LpValue};
use crate::value::{Value, ValueType};

const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from \
     the second ... or use negative to start from the end of the list";
const COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
const MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";
const NUMKEYS_NOT_POSITIVE: &str = "ERR numkeys should be greater than 0";
const COUNT_NOT_POSITIVE: &str = "ERR count should be greater than 0";

// ---------------------------------------------------------------------------
// The table

const ONE_KEY: CommandSpec = CommandSpec {
    first_key: 1,
    last_key: 1,
    step: 1,
    acl: &[Acl::List],
    group: Group::List,
    ..CommandSpec::DEFAULT
};

const TWO_KEYS: CommandSpec = CommandSpec {
    last_key: 2,
    key_specs: SOURCE_DESTINATION,
    ..ONE_KEY
};

const NO_FIXED_KEYS: CommandSpec = CommandSpec {
    first_key: 0,
    last_key: 0,
    step: 0,
    ..ONE_KEY
};

const PUSH_FLAGS: &[Flag] = &[Flag::Write, Flag::Denyoom, Flag::Fast];
const BLOCKING_MOVE_FLAGS: &[Flag] = &[Flag::Write, Flag::Denyoom, Flag::Noscript, Flag::Blocking];
const INSERT: &[KeySpec] = &[KeySpec::first(&["RW", "INSERT"])];
const POP: &[KeySpec] = &[KeySpec::first(&["RW", "ACCESS", "DELETE"])];
const READ: &[KeySpec] = &[KeySpec::first(&["RO", "ACCESS"])];
const SOURCE_DESTINATION: &[KeySpec] = &[
    KeySpec::first(&["RW", "ACCESS", "DELETE"]),
    KeySpec::range(&["RW", "INSERT"], 2, 0),
];
const BLOCKING_POP: &[KeySpec] = &[KeySpec::range(&["RW", "ACCESS", "DELETE"], 1, -2)];
const PUSH_COMPLEXITY: &str = "O(1) per element pushed.";
const TIMEOUT_IS_DOUBLE: &[(&str, &str)] = &[("6.0.0", "The timeout is a double, not an integer.")];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "lpush",
        arity: -3,
        flags: PUSH_FLAGS,
        key_specs: INSERT,
        summary: "Prepends elements to a list, creating it if needed.",
        complexity: PUSH_COMPLEXITY,
        history: &[("2.4.0", "Takes several elements.")],
        handler: Some(lpush),
        ..ONE_KEY
    },
    CommandSpec {
        name: "rpush",
        arity: -3,
        flags: PUSH_FLAGS,
        key_specs: INSERT,
        summary: "Appends elements to a list, creating it if needed.",
        complexity: PUSH_COMPLEXITY,
        history: &[("2.4.0", "Takes several elements.")],
        handler: Some(rpush),
        ..ONE_KEY
    },
    CommandSpec {
        name: "lpushx",
        arity: -3,
        flags: PUSH_FLAGS,
        key_specs: INSERT,
        since: "2.2.0",
        summary: "Prepends elements to a list that exists.",
        complexity: PUSH_COMPLEXITY,
        history: &[("4.0.0", "Takes several elements.")],
        handler: Some(lpushx),
        ..ONE_KEY
    },
    CommandSpec {
        name: "rpushx",
        arity: -3,
        flags: PUSH_FLAGS,
        key_specs: INSERT,
        since: "2.2.0",
        summary: "Appends elements to a list that exists.",
        complexity: PUSH_COMPLEXITY,
        history: &[("4.0.0", "Takes several elements.")],
        handler: Some(rpushx),
        ..ONE_KEY
    },
    CommandSpec {
        name: "lpop",
        arity: -2,
        flags: &[Flag::Write, Flag::Fast],
        key_specs: POP,
        summary: "Removes and returns elements from the head of a list.",
        complexity: "O(N), N being the number of elements popped.",
        history: &[("6.2.0", "Takes a count.")],
        handler: Some(lpop),
        ..ONE_KEY
    },
    CommandSpec {
        name: "rpop",
        arity: -2,
        flags: &[Flag::Write, Flag::Fast],
        key_specs: POP,
        summary: "Removes and returns elements from the tail of a list.",
        complexity: "O(N), N being the number of elements popped.",
        history: &[("6.2.0", "Takes a count.")],
        handler: Some(rpop),
        ..ONE_KEY
    },
    CommandSpec {
        name: "llen",
        arity: 2,
        flags: &[Flag::Readonly, Flag::Fast],
        key_specs: &[KeySpec::first(&["RO"])],
        summary: "Returns the number of elements of a list.",
        handler: Some(llen),
        ..ONE_KEY
    },
    CommandSpec {
        name: "lrange",
        arity: 4,
        flags: &[Flag::Readonly],
        key_specs: READ,
        summary: "Returns the elements of a list between two indexes.",
        complexity: "O(S+N), S being the walk to the start index from the nearer end \
            (from the head for small lists) and N the number of elements returned.",
        handler: Some(lrange),
        ..ONE_KEY
    },
    CommandSpec {
        name: "lindex",
        arity: 3,
        flags: &[Flag::Readonly],
        key_specs: READ,
        summary: "Returns the element of a list at an index.",
        complexity: "O(N), N being the elements walked to reach the index; O(1) at either end.",
        handler: Some(lindex),
        ..ONE_KEY
    },
    CommandSpec {
        name: "lset",
        arity: 4,
        flags: &[Flag::Write, Flag::Denyoom],
        key_specs: &[KeySpec::first(&["RW", "UPDATE"])],
        summary: "Replaces the element of a list at an index.",
        complexity: "O(N), N being the length of the list; O(1) at either end.",
        handler: Some(lset),
        ..ONE_KEY
    },
    CommandSpec {
        name: "linsert",
        arity: 5,
        flags: &[Flag::Write, Flag::Denyoom],
        key_specs: INSERT,
        since: "2.2.0",
        summary: "Inserts an element before or after the first occurrence of another.",
        complexity: "O(N), N being the elements walked before the pivot is found.",
        handler: Some(linsert),
        ..ONE_KEY
    },
    CommandSpec {
        name: "lrem",
        arity: 4,
        flags: &[Flag::Write],
        key_specs: &[KeySpec::first(&["RW", "DELETE"])],
        summary: "Removes occurrences of an element from a list.",
        complexity: "O(N+M), N being the length of the list and M the elements removed.",
        handler: Some(lrem),
        ..ONE_KEY
    },
    CommandSpec {
        name: "ltrim",
        arity: 4,
        flags: &[Flag::Write],
        key_specs: &[KeySpec::first(&["RW", "DELETE"])],
        summary: "Keeps only the elements of a list between two indexes.",
        complexity: "O(N), N being the number of elements removed.",
        handler: Some(ltrim),
        ..ONE_KEY
    },
    CommandSpec {
        name: "lpos",
        arity: -3,
        flags: &[Flag::Readonly],
        key_specs: READ,
        since: "6.0.6",
        summary: "Returns the indexes of the elements of a list equal to a value.",
        complexity: "O(N), N being the length of the list; less near the ends or with MAXLEN.",
        handler: Some(lpos),
        ..ONE_KEY
    },
    CommandSpec {
        name: "rpoplpush",
        arity: 3,
        flags: &[Flag::Write, Flag::Denyoom],
        since: "1.2.0",
        summary: "Moves the last element of a list to the head of another and returns it.",
        doc_flags: &[DocFlag::Deprecated],
        deprecated_since: "6.2.0",
        replaced_by: "`LMOVE` with the `RIGHT` and `LEFT` arguments",
        handler: Some(rpoplpush),
        ..TWO_KEYS
    },
    CommandSpec {
        name: "lmove",
        arity: 5,
        flags: &[Flag::Write, Flag::Denyoom],
        since: "6.2.0",
        summary: "Moves an element from either end of a list to either end of another.",
        handler: Some(lmove),
        ..TWO_KEYS
    },
    CommandSpec {
        name: "lmpop",
        arity: -4,
        flags: &[Flag::Write],
        key_specs: &[KeySpec::keynum(&["RW", "ACCESS", "DELETE"], 1)],
        since: "7.0.0",
        summary: "Pops elements from the first non-empty list of several.",
        complexity: "O(N+M), N being the number of keys and M the elements popped.",
        handler: Some(lmpop),
        ..NO_FIXED_KEYS
    },
    CommandSpec {
        name: "blpop",
        arity: -3,
        flags: &[Flag::Write, Flag::Noscript, Flag::Blocking],
        last_key: -2,
        key_specs: BLOCKING_POP,
        since: "2.0.0",
        summary: "Pops the head of the first non-empty list, or waits for one.",
        complexity: "O(N), N being the number of keys.",
        history: TIMEOUT_IS_DOUBLE,
        handler: Some(blpop),
        ..ONE_KEY
    },
    CommandSpec {
        name: "brpop",
        arity: -3,
        flags: &[Flag::Write, Flag::Noscript, Flag::Blocking],
        last_key: -2,
        key_specs: BLOCKING_POP,
        since: "2.0.0",
        summary: "Pops the tail of the first non-empty list, or waits for one.",
        complexity: "O(N), N being the number of keys.",
        history: TIMEOUT_IS_DOUBLE,
        handler: Some(brpop),
        ..ONE_KEY
    },
    CommandSpec {
        name: "brpoplpush",
        arity: 4,
        flags: BLOCKING_MOVE_FLAGS,
        since: "2.2.0",
        summary: "Moves the last element of a list to the head of another, or waits for one.",
        doc_flags: &[DocFlag::Deprecated],
        deprecated_since: "6.2.0",
        replaced_by: "`BLMOVE` with the `RIGHT` and `LEFT` arguments",
        history: TIMEOUT_IS_DOUBLE,
        handler: Some(brpoplpush),
        ..TWO_KEYS
    },
    CommandSpec {
        name: "blmove",
        arity: 6,
        flags: BLOCKING_MOVE_FLAGS,
        since: "6.2.0",
        summary: "Moves an element between the ends of two lists, or waits for one.",
        handler: Some(blmove),
        ..TWO_KEYS
    },
    CommandSpec {
        name: "blmpop",
        arity: -5,
        flags: &[Flag::Write, Flag::Blocking],
        key_specs: &[KeySpec::keynum(&["RW", "ACCESS", "DELETE"], 2)],
        since: "7.0.0",
        summary: "Pops elements from the first non-empty list of several, or waits for one.",
        complexity: "O(N+M), N being the number of keys and M the elements popped.",
        handler: Some(blmpop),
        ..NO_FIXED_KEYS
    },
];

// ---------------------------------------------------------------------------
// Shared helpers

/// Runs `f` on the list at `key` (`None` if there is none) with the reply buffer at
/// hand; WRONGTYPE if the key holds something else. `write` picks Redis's
/// lookupKeyWrite over lookupKeyRead (no hit/miss counting).
fn with_list<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    write: bool,
    f: impl FnOnce(Option<&mut List>, &mut ReplyBuf) -> R,
) -> Result<R, CmdError> {
    debug_assert!(write, "reads use read_list");
    let mut out = std::mem::take(&mut ctx.client.out);
    let result = match ctx.lookup_write(key).map(|e| &mut e.value) {
        None => Ok(f(None, &mut out)),
        Some(Value::List(list)) => Ok(f(Some(list), &mut out)),
        Some(_) => Err(CmdError::Static(WRONGTYPE)),
    };
    ctx.client.out = out;
    result
}

/// Runs `f` on the list at `key` looked up for reading (Redis's lookupKeyRead:
/// hit/miss counting); WRONGTYPE if the key holds something else.
fn read_list<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(Option<&List>, &mut ReplyBuf) -> R,
) -> Result<R, CmdError> {
    let mut out = std::mem::take(&mut ctx.client.out);
    let result = match ctx.lookup_read(key).map(|e| &e.value) {
        None => Ok(f(None, &mut out)),
        Some(Value::List(list)) => Ok(f(Some(list), &mut out)),
        Some(_) => Err(CmdError::Static(WRONGTYPE)),
    };
    ctx.client.out = out;
    result
}

/// Whether `key` holds a list (`Some(len)`), nothing (`None`), or WRONGTYPE.
fn list_len_for_write(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<usize>, CmdError> {
    match ctx.lookup_write(key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::List(list)) => Ok(Some(list.len())),
        Some(_) => Err(CmdError::Static(WRONGTYPE)),
    }
}

/// The list at `key`, known to exist (looked up just before).
fn list_mut<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Option<&'c mut List> {
    match ctx.lookup_write(key).map(|e| &mut e.value) {
        Some(Value::List(list)) => Some(list),
        _ => None,
    }
}

/// A new, empty list with the configured node size.
fn new_list(ctx: &Ctx<'_>) -> List {
    List::new(ctx.srv.config.list_max_listpack_size)
}

fn insert_list(ctx: &mut Ctx<'_>, key: &[u8], list: List) {
    let (now, policy) = (ctx.now, ctx.srv.access_policy());
    ctx.db()
        .insert_new(key, Value::List(Box::new(list)), None, now, policy);
}

/// After a write: Redis's signalModifiedKey plus `server.dirty += changes` (lists
/// count their changes per element).
fn modified(ctx: &mut Ctx<'_>, key: &[u8], changes: u64) {
    ctx.modified(key);
    ctx.srv.dirty = ctx.srv.dirty.saturating_sub(1) + changes;
}

/// The keyspace event of a push at `end`.
fn push_event(end: End) -> &'static str {
    match end {
        End::Head => "lpush",
        End::Tail => "rpush",
    }
}

/// The keyspace events of a pop at `end`: the pop, then `del` if it emptied the list.
fn notify_pop(ctx: &mut Ctx<'_>, key: &[u8], end: End, emptied: bool) {
    let event = match end {
        End::Head => "lpop",
        End::Tail => "rpop",
    };
    ctx.notify(notify::LIST, event, key);
    notify_del_if_emptied(ctx, key, emptied);
}

fn notify_del_if_emptied(ctx: &mut Ctx<'_>, key: &[u8], emptied: bool) {
    if emptied {
        ctx.notify(notify::GENERIC, "del", key);
    }
}

/// Deletes `key` if its list was emptied.
fn drop_if_empty(ctx: &mut Ctx<'_>, key: &[u8], emptied: bool) {
    if emptied {
        ctx.db().remove(key);
    }
}

fn reply_value(out: &mut ReplyBuf, value: &LpValue<'_>) {
    match value {
        LpValue::Int(n) => out.bulk_i64(*n),
        LpValue::Str(s) => out.bulk(s),
    }
}

/// LEFT or RIGHT (Redis's getListPositionFromObjectOrReply).
fn parse_end(arg: &[u8]) -> Result<End, CmdError> {
    if is(arg, "LEFT") {
        Ok(End::Head)
    } else if is(arg, "RIGHT") {
        Ok(End::Tail)
    } else {
        Err(SYNTAX.into())
    }
}

/// An integer in `min..`, any failure answered with `err` (Redis's
/// getRangeLongFromObjectOrReply with a message).
fn int_at_least(arg: &[u8], min: i64, err: &'static str) -> Result<i64, CmdError> {
    match crate::util::num::parse_i64(arg) {
        Some(n) if n >= min => Ok(n),
        _ => Err(err.into()),
    }
}

/// Redis's range normalisation (addListRangeReply, LTRIM): `Some((start, len))` of
/// the elements `start..=end` selects, `None` when it selects nothing.
fn normalize_range(start: i64, end: i64, llen: usize) -> Option<(usize, usize)> {
    let llen = llen as i64;
    let start = if start < 0 { start + llen } else { start }.max(0);
    let end = if end < 0 { end + llen } else { end };
    if start > end || start >= llen {
        return None;
    }
    let end = end.min(llen - 1);
    Some((start as usize, (end - start + 1) as usize))
}

// ---------------------------------------------------------------------------
// Pushes

/// LPUSH key element [element ...]
fn lpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, args, End::Head, false)
}

/// RPUSH key element [element ...]
fn rpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, args, End::Tail, false)
}

/// LPUSHX key element [element ...]
fn lpushx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, args, End::Head, true)
}

/// RPUSHX key element [element ...]
fn rpushx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, args, End::Tail, true)
}

/// Redis's pushGenericCommand: `existing_only` for the X forms.
fn push_generic(ctx: &mut Ctx<'_>, args: &[Bytes], end: End, existing_only: bool) -> CmdResult {
    let key = &args[1];
    let elements = &args[2..];
    let len = match ctx.lookup_write(key).map(|e| &mut e.value) {
        Some(Value::List(list)) => {
            for element in elements {
                list.push(end, element);
            }
            list.len()
        }
        Some(_) => return Err(WRONGTYPE.into()),
        None if existing_only => {
            ctx.out().int(0);
            return Ok(());
        }
        None => {
            let mut list = new_list(ctx);
            for element in elements {
                list.push(end, element);
            }
            let len = list.len();
            insert_list(ctx, key, list);
            len
        }
    };
    ctx.out().int(len as i64);
    modified(ctx, key, elements.len() as u64);
    ctx.notify(notify::LIST, push_event(end), key);
    ctx.signal_key_ready(key);
    Ok(())
}

// ---------------------------------------------------------------------------
// Pops

/// LPOP key [count]
fn lpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    pop_generic(ctx, args, End::Head)
}

/// RPOP key [count]
fn rpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    pop_generic(ctx, args, End::Tail)
}

/// Redis's popGenericCommand: one element as a bulk string, or with a count an array
/// (null when the key is missing, empty for a count of 0).
fn pop_generic(ctx: &mut Ctx<'_>, args: &[Bytes], end: End) -> CmdResult {
    if args.len() > 3 {
        return Err(wrong_arity(ctx.cmd.name));
    }
    let count = match args.get(2) {
        Some(arg) => Some(int_at_least(arg, 0, crate::error::MUST_BE_POSITIVE)?),
        None => None,
    };
    let key = &args[1];
    let popped = with_list(ctx, key, true, |list, out| {
        let Some(list) = list else {
            match count {
                Some(_) => out.null_array(),
                None => out.null(),
            }
            return None;
        };
        match count {
            None => {
                list.pop_with(end, |v| reply_value(out, &v));
                Some((1, list.is_empty()))
            }
            Some(0) => {
                out.array(0);
                None
            }
            Some(n) => {
                let n = pop_range_reply(list, end, n as u64, out);
                Some((n, list.is_empty()))
            }
        }
    })?;
    if let Some((n, emptied)) = popped {
        drop_if_empty(ctx, key, emptied);
        modified(ctx, key, n as u64);
        notify_pop(ctx, key, end, emptied);
    }
    Ok(())
}

/// Pops up to `count` elements from `end`, replying with them as an array in pop
/// order. Returns how many were popped.
fn pop_range_reply(list: &mut List, end: End, count: u64, out: &mut ReplyBuf) -> usize {
    let n = usize::try_from(count).unwrap_or(usize::MAX).min(list.len());
    out.array(n);
    let start = match end {
        End::Head => 0,
        End::Tail => list.len() - n,
    };
    match end {
        End::Head => list.range(start, n).for_each(|v| reply_value(out, &v)),
        End::Tail => list
            .range(start, n)
            .rev()
            .for_each(|v| reply_value(out, &v)),
    }
    list.delete_range(start, n);
    n
}

// ---------------------------------------------------------------------------
// Reads

/// LLEN key
fn llen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let len = read_list(ctx, &args[1], |list, _| list.map_or(0, |l| l.len()))?;
    ctx.out().int(len as i64);
    Ok(())
}

/// LRANGE key start stop
fn lrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let start = int(&args[2])?;
    let stop = int(&args[3])?;
    read_list(ctx, &args[1], |list, out| {
        let range = list.and_then(|l| Some((normalize_range(start, stop, l.len())?, l)));
        let Some(((first, n), list)) = range else {
            out.array(0);
            return;
        };
        out.array(n);
        list.range(first, n).for_each(|v| reply_value(out, &v));
    })
}

/// LINDEX key index: the key is looked up before the index is checked.
fn lindex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let index_arg = &args[2];
    read_list(ctx, &args[1], |list, out| {
        let Some(list) = list else {
            out.null();
            return Ok(());
        };
        match list.get(int(index_arg)?) {
            Some(v) => reply_value(out, &v),
            None => out.null(),
        }
        Ok(())
    })?
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
fn lpos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let opts = LposOptions::parse(&args[3..])?;
    let element = &args[2];
    read_list(ctx, &args[1], |list, out| {
        let Some(list) = list else {
            match opts.count {
                Some(_) => out.array(0),
                None => out.null(),
            }
            return;
        };
        let found = lpos_search(list, element, &opts);
        match opts.count {
            Some(_) => {
                out.array(found.len());
                found.iter().for_each(|&i| out.int(i));
            }
            None => match found.first() {
                Some(&i) => out.int(i),
                None => out.null(),
            },
        }
    })
}

struct LposOptions {
    rank: i64,
    /// `None` without COUNT; `Some(0)` means every match.
    count: Option<i64>,
    /// 0 means no limit.
    maxlen: i64,
}

impl LposOptions {
    fn parse(opts: &[Bytes]) -> Result<Self, CmdError> {
        let mut parsed = LposOptions {
            rank: 1,
            count: None,
            maxlen: 0,
        };
        let mut i = 0;
        while i < opts.len() {
            let (opt, value) = (&opts[i], opts.get(i + 1));
            match value {
                Some(v) if is(opt, "RANK") => {
                    parsed.rank = int(v)?;
                    if parsed.rank == 0 {
                        return Err(RANK_ZERO.into());
                    }
                }
                Some(v) if is(opt, "COUNT") => {
                    parsed.count = Some(int_at_least(v, 0, COUNT_NEGATIVE)?);
                }
                Some(v) if is(opt, "MAXLEN") => {
                    parsed.maxlen = int_at_least(v, 0, MAXLEN_NEGATIVE)?
                }
                _ => return Err(SYNTAX.into()),
            }
            i += 2;
        }
        Ok(parsed)
    }
}

/// The matching indexes LPOS reports: from the tail for a negative rank, skipping
/// the first |rank|-1 matches, at most `count` of them (one without COUNT), looking
/// at no more than `maxlen` elements. Redis negates the rank and compares counts in
/// C `long` arithmetic, so i64::MIN wraps exactly as it does there.
fn lpos_search(list: &List, element: &[u8], opts: &LposOptions) -> Vec<i64> {
    let from_tail = opts.rank < 0;
    let rank = if from_tail {
        opts.rank.wrapping_neg()
    } else {
        opts.rank
    };
    let llen = list.len() as i64;
    let mut found = Vec::new();
    let mut matches: i64 = 0;
    let values: Box<dyn Iterator<Item = LpValue<'_>>> = if from_tail {
        Box::new(list.iter().rev())
    } else {
        Box::new(list.iter())
    };
    for (index, value) in (0_i64..).zip(values) {
        if opts.maxlen != 0 && index >= opts.maxlen {
            break;
        }
        if !value.eq_bytes(element) {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        found.push(if from_tail { llen - index - 1 } else { index });
        match opts.count {
            None => break,
            Some(count) => {
                if count != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= count {
                    break;
                }
            }
        }
    }
    found
}

// ---------------------------------------------------------------------------
// In-place changes

/// LSET key index element: the key is looked up before the index is checked.
fn lset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let (index_arg, element) = (&args[2], &args[3]);
    with_list(ctx, key, true, |list, out| {
        let list = list.ok_or(CmdError::Static(NO_SUCH_KEY))?;
        if !list.set(int(index_arg)?, element) {
            return Err(CmdError::Static(INDEX_OUT_OF_RANGE));
        }
        out.ok();
        Ok(())
    })??;
    modified(ctx, key, 1);
    ctx.notify(notify::LIST, "lset", key);
    Ok(())
}

/// LINSERT key BEFORE|AFTER pivot element
fn linsert(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let after = if is(&args[2], "AFTER") {
        true
    } else if is(&args[2], "BEFORE") {
        false
    } else {
        return Err(SYNTAX.into());
    };
    let key = &args[1];
    let (pivot, element) = (&args[3], &args[4]);
    let inserted = with_list(ctx, key, true, |list, out| {
        let Some(list) = list else {
            out.int(0);
            return false;
        };
        let inserted = list.insert_at_pivot(pivot, element, after);
        out.int(if inserted { list.len() as i64 } else { -1 });
        inserted
    })?;
    if inserted {
        modified(ctx, key, 1);
        ctx.notify(notify::LIST, "linsert", key);
    }
    Ok(())
}

/// LREM key count element: count > 0 from the head, < 0 from the tail, 0 all.
fn lrem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let count = int(&args[2])?;
    let key = &args[1];
    let element = &args[3];
    // Redis negates a negative count in C `long`: i64::MIN stays negative and
    // never equals the removed count, so it removes every match.
    let limit = match count {
        0 | i64::MIN => None,
        n => Some(n.unsigned_abs() as usize),
    };
    let removed = with_list(ctx, key, true, |list, out| {
        let Some(list) = list else {
            out.int(0);
            return None;
        };
        let removed = list.remove_matching(element, count < 0, limit);
        out.int(removed as i64);
        Some((removed, list.is_empty()))
    })?;
    if let Some((removed, emptied)) = removed {
        drop_if_empty(ctx, key, emptied);
        if removed > 0 {
            modified(ctx, key, removed as u64);
            ctx.notify(notify::LIST, "lrem", key);
            notify_del_if_emptied(ctx, key, emptied);
        }
    }
    Ok(())
}

/// LTRIM key start stop
fn ltrim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let start = int(&args[2])?;
    let stop = int(&args[3])?;
    let key = &args[1];
    let trimmed = with_list(ctx, key, true, |list, out| {
        out.ok();
        let list = list?;
        let llen = list.len();
        let (keep_start, keep_len) = normalize_range(start, stop, llen).unwrap_or((llen, 0));
        list.delete_range(keep_start + keep_len, llen - keep_start - keep_len);
        list.delete_range(0, keep_start);
        Some((llen - keep_len, list.is_empty()))
    })?;
    if let Some((removed, emptied)) = trimmed {
        drop_if_empty(ctx, key, emptied);
        modified(ctx, key, removed as u64);
        ctx.notify(notify::LIST, "ltrim", key);
        notify_del_if_emptied(ctx, key, emptied);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Moves

/// RPOPLPUSH source destination
fn rpoplpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    lmove_generic(ctx, &args[1], &args[2], End::Tail, End::Head)
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
fn lmove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let from = parse_end(&args[3])?;
    let to = parse_end(&args[4])?;
    lmove_generic(ctx, &args[1], &args[2], from, to)
}

/// Redis's lmoveGenericCommand: null if the source is missing, WRONGTYPE if either
/// key holds something else (the destination is checked only when the source has
/// an element), otherwise the moved element.
fn lmove_generic(ctx: &mut Ctx<'_>, src: &[u8], dst: &[u8], from: End, to: End) -> CmdResult {
    if list_len_for_write(ctx, src)?.is_none() {
        ctx.out().null();
        return Ok(());
    }
    let dst_exists = list_len_for_write(ctx, dst)?.is_some();
    let Some(source) = list_mut(ctx, src) else {
        return Ok(());
    };
    let Some(value) = source.pop(from) else {
        return Ok(());
    };
    let mut emptied = false;
    if src == dst {
        source.push(to, &value);
    } else {
        emptied = source.is_empty();
        drop_if_empty(ctx, src, emptied);
        match list_mut(ctx, dst) {
            Some(destination) if dst_exists => destination.push(to, &value),
            _ => {
                let mut list = new_list(ctx);
                list.push(to, &value);
                insert_list(ctx, dst, list);
            }
        }
    }
    ctx.out().bulk(&value);
    ctx.modified(dst);
    ctx.signal_key_ready(dst);
    modified(ctx, src, 1);
    // Redis pushes (and notifies) before it notifies the pop.
    ctx.notify(notify::LIST, push_event(to), dst);
    notify_pop(ctx, src, from, emptied);
    Ok(())
}

/// BRPOPLPUSH source destination timeout
fn brpoplpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let deadline = parse_timeout_secs(&args[3], ctx.now)?;
    blmove_generic(ctx, args, End::Tail, End::Head, deadline)
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
fn blmove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let from = parse_end(&args[3])?;
    let to = parse_end(&args[4])?;
    let deadline = parse_timeout_secs(&args[5], ctx.now)?;
    blmove_generic(ctx, args, from, to, deadline)
}

/// Moves at once if the source has an element, otherwise blocks on the source.
/// (Inside MULTI or a script Redis does not block: BLMOVE/BRPOPLPUSH then reply a
/// null bulk string, the pops a null array; see `Ctx::block`.)
fn blmove_generic(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    from: End,
    to: End,
    deadline: Option<crate::db::Millis>,
) -> CmdResult {
    if list_len_for_write(ctx, &args[1])?.is_some() {
        lmove_generic(ctx, &args[1], &args[2], from, to)?;
        // Served: it propagates as its non-blocking form.
        let argv = if args.len() == 4 {
            vec![
                Bytes::from_static(b"RPOPLPUSH"),
                args[1].clone(),
                args[2].clone(),
            ]
        } else {
            let mut argv = vec![Bytes::from_static(b"LMOVE")];
            argv.extend_from_slice(&args[1..5]);
            argv
        };
        ctx.rewrite_argv(argv);
        return Ok(());
    }
    if ctx.client.in_exec {
        ctx.out().null();
        return Ok(());
    }
    ctx.block(
        args,
        BlockOn {
            keys: &args[1..2],
            deadline,
            wait_type: ValueType::List,
            on_timeout: ReplyBuf::null_array,
            gone_error: None,
        },
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Multi-key pops

/// How a multi-key pop replies.
#[derive(Clone, Copy)]
enum MpopReply {
    /// BLPOP/BRPOP: `[key, element]`.
    One,
    /// LMPOP/BLMPOP: `[key, [elements...]]` with up to this many elements.
    Count(i64),
}

/// BLPOP key [key ...] timeout
fn blpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    blocking_pop(ctx, args, End::Head)
}

/// BRPOP key [key ...] timeout
fn brpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    blocking_pop(ctx, args, End::Tail)
}

fn blocking_pop(ctx: &mut Ctx<'_>, args: &[Bytes], end: End) -> CmdResult {
    let last = args.len() - 1;
    let deadline = parse_timeout_secs(&args[last], ctx.now)?;
    let keys = &args[1..last];
    if !mpop_generic(ctx, keys, end, MpopReply::One)? {
        block_on_lists(ctx, args, keys, deadline);
    }
    Ok(())
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn lmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (keys, end, count) = parse_mpop(args, 1)?;
    if !mpop_generic(ctx, keys, end, MpopReply::Count(count))? {
        ctx.out().null_array();
    }
    Ok(())
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]: the timeout is
/// checked after the other arguments, as Redis does.
fn blmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (keys, end, count) = parse_mpop(args, 2)?;
    let deadline = parse_timeout_secs(&args[1], ctx.now)?;
    if !mpop_generic(ctx, keys, end, MpopReply::Count(count))? {
        block_on_lists(ctx, args, keys, deadline);
    }
    Ok(())
}

/// Redis's lmpopGenericCommand parsing: numkeys at `numkeys_at`, then the keys, the
/// end, and an optional COUNT (once).
fn parse_mpop(args: &[Bytes], numkeys_at: usize) -> Result<(&[Bytes], End, i64), CmdError> {
    let numkeys = int_at_least(&args[numkeys_at], 1, NUMKEYS_NOT_POSITIVE)?;
    let first_key = numkeys_at + 1;
    let end_at = usize::try_from(numkeys)
        .ok()
        .and_then(|n| first_key.checked_add(n))
        .filter(|&at| at < args.len())
        .ok_or(CmdError::Static(SYNTAX))?;
    let end = parse_end(&args[end_at])?;
    let mut count = None;
    let mut i = end_at + 1;
    while i < args.len() {
        match args.get(i + 1) {
            Some(value) if count.is_none() && is(&args[i], "COUNT") => {
                count = Some(int_at_least(value, 1, COUNT_NOT_POSITIVE)?);
            }
            _ => return Err(SYNTAX.into()),
        }
        i += 2;
    }
    Ok((&args[first_key..end_at], end, count.unwrap_or(1)))
}

/// Pops from the first key holding a non-empty list, replying as `reply` says.
/// WRONGTYPE stops at the first key holding something else. False if every key
/// was missing (nothing was written).
fn mpop_generic(
    ctx: &mut Ctx<'_>,
    keys: &[Bytes],
    end: End,
    reply: MpopReply,
) -> Result<bool, CmdError> {
    for key in keys {
        let popped = with_list(ctx, key, true, |list, out| {
            let list = list.filter(|l| !l.is_empty())?;
            out.array(2);
            out.bulk(key);
            let n = match reply {
                MpopReply::One => {
                    list.pop_with(end, |v| reply_value(out, &v));
                    1
                }
                MpopReply::Count(count) => pop_range_reply(list, end, count as u64, out),
            };
            Some((n, list.is_empty()))
        })?;
        if let Some((n, emptied)) = popped {
            drop_if_empty(ctx, key, emptied);
            modified(ctx, key, n as u64);
            notify_pop(ctx, key, end, emptied);
            // Propagates as LPOP/RPOP: with the count popped for the MPOP forms.
            let name: &'static [u8] = match end {
                End::Head => b"LPOP",
                End::Tail => b"RPOP",
            };
            let mut argv = vec![Bytes::from_static(name), key.clone()];
            if let MpopReply::Count(_) = reply {
                argv.push(Bytes::from(n.to_string()));
            }
            ctx.rewrite_argv(argv);
            return Ok(true);
        }
    }
    Ok(false)
}

fn block_on_lists(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    keys: &[Bytes],
    deadline: Option<crate::db::Millis>,
) {
    ctx.block(
        args,
        BlockOn {
            keys,
            deadline,
            wait_type: ValueType::List,
            on_timeout: ReplyBuf::null_array,
            gone_error: None,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::testkit::argv;

    #[test]
    fn ranges_follow_redis_normalisation() {
        assert_eq!(normalize_range(0, -1, 5), Some((0, 5)));
        assert_eq!(normalize_range(-2, -1, 5), Some((3, 2)));
        assert_eq!(normalize_range(-100, 1, 5), Some((0, 2)));
        assert_eq!(normalize_range(3, 100, 5), Some((3, 2)));
        assert_eq!(normalize_range(4, 3, 5), None);
        assert_eq!(normalize_range(5, 10, 5), None);
        assert_eq!(normalize_range(i64::MIN, i64::MAX, 5), Some((0, 5)));
        assert_eq!(normalize_range(0, -1, 0), None);
    }

    #[test]
    fn mpop_parsing_reports_redis_errors() {
        let err = |s: &str| parse_mpop(&argv(s), 1).map(|_| ()).unwrap_err();
        assert_eq!(
            err("lmpop 0 k left"),
            CmdError::Static(NUMKEYS_NOT_POSITIVE)
        );
        assert_eq!(err("lmpop 2 k left"), CmdError::Static(SYNTAX));
        assert_eq!(
            err("lmpop 9223372036854775807 k left"),
            CmdError::Static(SYNTAX)
        );
        assert_eq!(err("lmpop 1 k up"), CmdError::Static(SYNTAX));
        assert_eq!(
            err("lmpop 1 k left count 0"),
            CmdError::Static(COUNT_NOT_POSITIVE)
        );
        assert_eq!(
            err("lmpop 1 k left count 1 count 1"),
            CmdError::Static(SYNTAX)
        );
        let args = argv("lmpop 2 a b RIGHT COUNT 3");
        let (keys, end, count) = parse_mpop(&args, 1).unwrap();
        assert_eq!((keys.len(), end, count), (2, End::Tail, 3));
    }
}
