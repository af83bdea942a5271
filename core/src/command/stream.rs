//! Stream commands (Redis's t_stream.c): XADD, XLEN, XRANGE/XREVRANGE, XDEL, XTRIM,
//! XSETID and XREAD.
//!
//! Arguments are parsed as Redis parses them (streamGenericParseIDOrReply,
//! streamParseAddOrTrimArgsOrReply), which decides which error a bad request gets.
//! XADD with an auto or partial ID propagates the concrete ID; an approximate trim
//! propagates as the exact trim it turned out to be (`=` and the resulting length or
//! first ID), as Redis rewrites them.

use bytes::Bytes;

use super::args::{int, is};
use super::{Acl, CommandSpec, Flag, Group, KeySpec};
use crate::blocking::{parse_timeout_ms, BlockOn};
use crate::error::{wrong_arity, CmdError, CmdResult, NO_SUCH_KEY, SYNTAX, WRONGTYPE};
use crate::node::Ctx;
use crate::resp::ReplyBuf;
use crate::types::stream::{Entry, Stream, StreamId, Trim};
use crate::util::num::parse_i64;
use crate::value::{Value, ValueType};

pub(crate) const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";
const ID_NOT_ABOVE_TOP: &str =
    "ERR The ID specified in XADD is equal or smaller than the target stream top item";
const ID_ZERO: &str = "ERR The ID specified in XADD must be greater than 0-0";
const ID_EXHAUSTED: &str =
    "ERR The stream has exhausted the last possible ID, unable to add more items";
const TOO_LARGE: &str = "ERR Elements are too large to be stored";
const MAXLEN_AND_MINID: &str =
    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
const MAXLEN_NEGATIVE: &str = "ERR The MAXLEN argument must be >= 0.";
const LIMIT_NEGATIVE: &str = "ERR The LIMIT argument must be >= 0.";
const LIMIT_WITHOUT_STRATEGY: &str =
    "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy";
const XTRIM_WITHOUT_STRATEGY: &str =
    "ERR syntax error, XTRIM must be called with a trimming strategy";
const LIMIT_WITHOUT_APPROX: &str =
    "ERR syntax error, LIMIT cannot be used without the special ~ option";
const INVALID_START: &str = "ERR invalid start ID for the interval";
const INVALID_END: &str = "ERR invalid end ID for the interval";
const ENTRIES_ADDED_NEGATIVE: &str = "ERR entries_added must be positive";
const SETID_BELOW_MAX_DELETED_ARG: &str =
    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id";
const SETID_BELOW_TOP: &str =
    "ERR The ID specified in XSETID is smaller than the target stream top item";
const SETID_ENTRIES_BELOW_LENGTH: &str =
    "ERR The entries_added specified in XSETID is smaller than the target stream length";
const GROUP_ONLY_XREADGROUP: &str =
    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.";
const NOACK_ONLY_XREADGROUP: &str =
    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.";
const GT_ONLY_XREADGROUP: &str = "ERR The > ID can be specified only when calling XREADGROUP \
     using the GROUP <group> <consumer> option.";
const UNBALANCED: &str = "ERR Unbalanced XREAD list of streams: for each stream key an ID or \
     '$' must be specified.";
/// Redis's longest ID argument: 127 bytes (its parse buffer is 128).
const ID_BYTES_MAX: usize = 127;
/// XREAD_BLOCKED_DEFAULT_COUNT: a blocked XREAD without COUNT gets at most this many.
pub(crate) const BLOCKED_COUNT_DEFAULT: i64 = 1000;

// ---------------------------------------------------------------------------
// The table

const ONE_KEY: CommandSpec = CommandSpec {
    first_key: 1,
    last_key: 1,
    step: 1,
    acl: &[Acl::Stream],
    group: Group::Stream,
    since: "5.0.0",
    ..CommandSpec::DEFAULT
};

const READ: &[KeySpec] = &[KeySpec::first(&["RO", "ACCESS"])];
const UPDATE: &[KeySpec] = &[KeySpec::first(&["RW", "UPDATE"])];
const DELETE: &[KeySpec] = &[KeySpec::first(&["RW", "DELETE"])];
const NONDETERMINISTIC: &[&str] = &["nondeterministic_output"];
const RANGE_HISTORY: &[(&str, &str)] = &[("6.2.0", "Added exclusive ranges.")];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "xadd",
        arity: -5,
        flags: &[Flag::Write, Flag::Denyoom, Flag::Fast],
        key_specs: UPDATE,
        tips: NONDETERMINISTIC,
        summary: "Appends a new entry to a stream",
        complexity: "O(1) when adding a new entry, O(N) when trimming where N being the \
            number of entries evicted.",
        history: &[(
            "6.2.0",
            "Added the `NOMKSTREAM` option, `MINID` trimming strategy and the `LIMIT` option.",
        )],
        handler: Some(xadd),
        ..ONE_KEY
    },
    CommandSpec {
        name: "xlen",
        arity: 2,
        flags: &[Flag::Readonly, Flag::Fast],
        key_specs: &[KeySpec::first(&["RO"])],
        summary: "Return the number of entries in a stream",
        handler: Some(xlen),
        ..ONE_KEY
    },
    CommandSpec {
        name: "xrange",
        arity: -4,
        flags: &[Flag::Readonly],
        key_specs: READ,
        summary: "Return a range of elements in a stream, with IDs matching the specified \
            IDs interval",
        complexity: "O(N) with N being the number of elements being returned.",
        history: RANGE_HISTORY,
        handler: Some(xrange),
        ..ONE_KEY
    },
    CommandSpec {
        name: "xrevrange",
        arity: -4,
        flags: &[Flag::Readonly],
        key_specs: READ,
        summary: "Return a range of elements in a stream, with IDs matching the specified \
            IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
        complexity: "O(N) with N being the number of elements returned.",
        history: RANGE_HISTORY,
        handler: Some(xrevrange),
        ..ONE_KEY
    },
    CommandSpec {
        name: "xdel",
        arity: -3,
        flags: &[Flag::Write, Flag::Fast],
        key_specs: DELETE,
        summary: "Removes the specified entries from the stream.",
        complexity: "O(1) for each single item to delete in the stream.",
        handler: Some(xdel),
        ..ONE_KEY
    },
    CommandSpec {
        name: "xtrim",
        arity: -4,
        flags: &[Flag::Write],
        key_specs: DELETE,
        tips: NONDETERMINISTIC,
        summary: "Trims the stream to (approximately if '~' is passed) a certain size",
        complexity: "O(N), with N being the number of evicted entries.",
        history: &[(
            "6.2.0",
            "Added the `MINID` trimming strategy and the `LIMIT` option.",
        )],
        handler: Some(xtrim),
        ..ONE_KEY
    },
    CommandSpec {
        name: "xsetid",
        arity: -3,
        flags: &[Flag::Write, Flag::Denyoom, Flag::Fast],
        key_specs: UPDATE,
        summary: "An internal command for replicating stream values",
        history: &[(
            "7.0.0",
            "Added the `entries_added` and `max_deleted_entry_id` arguments.",
        )],
        handler: Some(xsetid),
        ..ONE_KEY
    },
    CommandSpec {
        name: "xread",
        arity: -4,
        flags: &[Flag::Readonly, Flag::Blocking, Flag::MovableKeys],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_specs: &[KeySpec::keyword(&["RO", "ACCESS"], "STREAMS", 1, -1, 2)],
        summary: "Return never seen elements in multiple streams, with IDs greater than the \
            ones reported by the caller for each stream. Can block.",
        complexity: "For each stream mentioned: O(N) with N being the number of elements \
            being returned.",
        handler: Some(xread),
        ..ONE_KEY
    },
];

// ---------------------------------------------------------------------------
// IDs

/// Redis's string2ull: string2ll, else C's strtoull over the whole string (which
/// allows leading spaces, a sign, and wraps a negated value).
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let mut rest = s;
    while let Some((&c, tail)) = rest.split_first() {
        if matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
            rest = tail;
        } else {
            break;
        }
    }
    let (negative, digits) = match rest.split_first() {
        Some((b'-', tail)) => (true, tail),
        Some((b'+', tail)) => (false, tail),
        _ => (false, rest),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

/// How an ID argument may be written.
#[derive(Clone, Copy)]
struct IdRules {
    /// The sequence used when only `<ms>` is given.
    missing_seq: u64,
    /// Refuse `-` and `+`.
    strict: bool,
    /// Accept `<ms>-*` (XADD): the result then says the sequence was not given.
    seq_star: bool,
}

/// streamGenericParseIDOrReply: `(id, seq_given)`.
fn parse_id_with(arg: &[u8], rules: IdRules) -> Result<(StreamId, bool), CmdError> {
    let invalid = CmdError::Static(INVALID_ID);
    if arg.len() > ID_BYTES_MAX {
        return Err(invalid);
    }
    // Redis copies the argument into a C string: a NUL ends it.
    let arg = match arg.iter().position(|&b| b == 0) {
        Some(nul) => &arg[..nul],
        None => arg,
    };
    match arg {
        b"-" | b"+" if rules.strict => return Err(invalid),
        b"-" => return Ok((StreamId::MIN, true)),
        b"+" => return Ok((StreamId::MAX, true)),
        _ => {}
    }
    let (ms_part, seq_part) = match arg.iter().position(|&b| b == b'-') {
        Some(dash) => (&arg[..dash], Some(&arg[dash + 1..])),
        None => (arg, None),
    };
    let ms = string2ull(ms_part).ok_or(invalid.clone())?;
    match seq_part {
        Some(b"*") if rules.seq_star => Ok((StreamId::new(ms, 0), false)),
        Some(seq) => Ok((StreamId::new(ms, string2ull(seq).ok_or(invalid)?), true)),
        None => Ok((StreamId::new(ms, rules.missing_seq), true)),
    }
}

/// streamParseStrictIDOrReply with a missing sequence of 0.
pub(crate) fn parse_strict_id(arg: &[u8]) -> Result<StreamId, CmdError> {
    parse_strict_id_seq(arg, 0)
}

pub(crate) fn parse_strict_id_seq(arg: &[u8], missing_seq: u64) -> Result<StreamId, CmdError> {
    let rules = IdRules {
        missing_seq,
        strict: true,
        seq_star: false,
    };
    parse_id_with(arg, rules).map(|(id, _)| id)
}

/// streamParseIntervalIDOrReply: `(id, exclusive)`; `(` marks an exclusive bound.
pub(crate) fn parse_interval_id(
    arg: &[u8],
    missing_seq: u64,
) -> Result<(StreamId, bool), CmdError> {
    if arg.len() > 1 && arg[0] == b'(' {
        return Ok((parse_strict_id_seq(&arg[1..], missing_seq)?, true));
    }
    let rules = IdRules {
        missing_seq,
        strict: false,
        seq_star: false,
    };
    Ok((parse_id_with(arg, rules)?.0, false))
}

pub(crate) fn id_bytes(id: StreamId) -> Bytes {
    Bytes::from(id.to_bytes())
}

// ---------------------------------------------------------------------------
// Shared helpers

/// The stream at `key` for writing: `None` if there is none, WRONGTYPE if the key
/// holds something else.
pub(crate) fn stream_mut<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
) -> Result<Option<&'c mut Stream>, CmdError> {
    match ctx.lookup_write(key).map(|e| &mut e.value) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(CmdError::Static(WRONGTYPE)),
    }
}

/// The stream at `key` looked up for reading (hit/miss counted).
pub(crate) fn stream_read<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
) -> Result<Option<&'c Stream>, CmdError> {
    match ctx.lookup_read(key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(CmdError::Static(WRONGTYPE)),
    }
}

/// After a write: signalModifiedKey plus `server.dirty += changes`.
pub(crate) fn modified(ctx: &mut Ctx<'_>, key: &[u8], changes: u64) {
    ctx.modified(key);
    ctx.srv.dirty = ctx.srv.dirty.saturating_sub(1) + changes;
}

/// One entry as `[id, [field, value, ...]]`.
pub(crate) fn reply_entry(out: &mut ReplyBuf, entry: &Entry) {
    out.array(2);
    out.bulk(&entry.id.to_bytes());
    out.array(entry.fields.len() * 2);
    for (f, v) in &entry.fields {
        out.bulk(f);
        out.bulk(v);
    }
}

pub(crate) fn reply_entries(out: &mut ReplyBuf, entries: &[Entry]) {
    out.array(entries.len());
    for e in entries {
        reply_entry(out, e);
    }
}

// ---------------------------------------------------------------------------
// XADD / XTRIM

/// What streamParseAddOrTrimArgsOrReply found.
#[derive(Debug, Default)]
struct AddTrimArgs {
    trim: Option<Trim>,
    approx: bool,
    limit: u64,
    /// Index of the MAXLEN/MINID value (the `~` is just before it when approx).
    trim_arg: usize,
    no_mkstream: bool,
    /// XADD: the ID (None for `*`) and whether its sequence was given.
    id: Option<(StreamId, bool)>,
    /// XADD: index of the ID argument.
    id_pos: usize,
}

/// `~` or `=` after MAXLEN/MINID: returns whether approx and advances `i` past it.
fn trim_operator(args: &[Bytes], i: &mut usize, more: usize) -> bool {
    let next = &args[*i + 1][..];
    if more >= 2 && next == b"~" {
        *i += 1;
        return true;
    }
    if more >= 2 && next == b"=" {
        *i += 1;
    }
    false
}

/// streamParseAddOrTrimArgsOrReply. `xadd` also reads NOMKSTREAM and the ID.
fn parse_add_trim(
    args: &[Bytes],
    xadd: bool,
    node_max_entries: i64,
) -> Result<AddTrimArgs, CmdError> {
    let mut a = AddTrimArgs::default();
    let mut limit: Option<i64> = None;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = &args[i][..];
        if xadd && opt == b"*" {
            break;
        } else if (is(opt, "MAXLEN") || is(opt, "MINID")) && more > 0 {
            if a.trim.is_some() {
                return Err(MAXLEN_AND_MINID.into());
            }
            a.approx = trim_operator(args, &mut i, more);
            let value = &args[i + 1];
            a.trim = Some(if is(opt, "MAXLEN") {
                let n = int(value)?;
                if n < 0 {
                    return Err(MAXLEN_NEGATIVE.into());
                }
                Trim::MaxLen(n as u64)
            } else {
                Trim::MinId(parse_strict_id(value)?)
            });
            i += 1;
            a.trim_arg = i;
        } else if is(opt, "LIMIT") && more > 0 {
            let n = int(&args[i + 1])?;
            if n < 0 {
                return Err(LIMIT_NEGATIVE.into());
            }
            limit = Some(n);
            i += 1;
        } else if xadd && is(opt, "NOMKSTREAM") {
            a.no_mkstream = true;
        } else if xadd {
            let rules = IdRules {
                missing_seq: 0,
                strict: true,
                seq_star: true,
            };
            a.id = Some(parse_id_with(opt, rules)?);
            break;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    a.id_pos = i;
    if limit.is_some_and(|n| n != 0) && a.trim.is_none() {
        return Err(LIMIT_WITHOUT_STRATEGY.into());
    }
    if !xadd && a.trim.is_none() {
        return Err(XTRIM_WITHOUT_STRATEGY.into());
    }
    a.limit = match limit {
        Some(_) if !a.approx => return Err(LIMIT_WITHOUT_APPROX.into()),
        Some(n) => n as u64,
        None if a.approx => {
            let n = node_max_entries.saturating_mul(100);
            if n <= 0 || n > 10_000 {
                10_000
            } else {
                n as u64
            }
        }
        None => 0,
    };
    Ok(a)
}

/// After an approximate trim, propagate the exact trim it became:
/// streamRewriteApproxSpecifier and streamRewriteTrimArgument.
fn rewrite_approx_trim(ctx: &mut Ctx<'_>, args: &[Bytes], a: &AddTrimArgs, key: &[u8]) {
    let value = match stream_mut(ctx, key) {
        Ok(Some(s)) => match a.trim {
            Some(Trim::MaxLen(_)) => Bytes::from(s.len().to_string()),
            _ => id_bytes(s.first_id),
        },
        _ => return,
    };
    ctx.rewrite_arg(args, a.trim_arg - 1, Bytes::from_static(b"="));
    ctx.rewrite_arg(args, a.trim_arg, value);
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
fn xadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let a = parse_add_trim(args, true, ctx.srv.config.stream_node_max_entries)?;
    let field_pos = a.id_pos + 1;
    let nfields = args.len().saturating_sub(field_pos);
    if nfields < 2 || !nfields.is_multiple_of(2) {
        return Err(wrong_arity("xadd"));
    }
    if let Some((id, true)) = a.id {
        if id.is_zero() {
            return Err(ID_ZERO.into());
        }
    }
    let key = &args[1];
    let (now, policy) = (ctx.now, ctx.srv.access_policy());
    if stream_mut(ctx, key)?.is_none() {
        if a.no_mkstream {
            ctx.out().null();
            return Ok(());
        }
        ctx.db().insert_new(
            key,
            Value::Stream(Box::new(Stream::new())),
            None,
            now,
            policy,
        );
    }
    let (node_bytes, node_entries) = (
        ctx.srv.config.stream_node_max_bytes,
        ctx.srv.config.stream_node_max_entries,
    );
    let fields: Vec<(&[u8], &[u8])> = args[field_pos..]
        .chunks_exact(2)
        .map(|p| (&p[0][..], &p[1][..]))
        .collect();
    let Some(stream) = stream_mut(ctx, key)? else {
        return Ok(());
    };
    if stream.last_id == StreamId::MAX {
        return Err(ID_EXHAUSTED.into());
    }
    let id = new_entry_id(stream, a.id, now)?;
    let total: u64 = fields.iter().map(|(f, v)| (f.len() + v.len()) as u64).sum();
    if total > crate::types::stream::BLOCK_BYTES_MAX {
        return Err(TOO_LARGE.into());
    }
    stream.append(id, &fields, node_bytes, node_entries);
    let trimmed = a.trim.map(|t| stream.trim(t, a.approx, a.limit));
    ctx.out().bulk(&id.to_bytes());
    ctx.modified(key);
    if trimmed.is_some() && a.approx {
        rewrite_approx_trim(ctx, args, &a, key);
    }
    if !matches!(a.id, Some((_, true))) {
        ctx.rewrite_arg(args, a.id_pos, id_bytes(id));
    }
    ctx.signal_key_ready(key);
    Ok(())
}

/// The ID an XADD entry gets (streamAppendItem's checks).
fn new_entry_id(
    stream: &Stream,
    given: Option<(StreamId, bool)>,
    now: u64,
) -> Result<StreamId, CmdError> {
    let id = match given {
        Some((id, true)) => id,
        Some((id, false)) if stream.last_id.ms == id.ms => {
            if stream.last_id.seq == u64::MAX {
                // Redis fails here without setting errno to EDOM.
                return Err(TOO_LARGE.into());
            }
            StreamId::new(id.ms, stream.last_id.seq + 1)
        }
        Some((id, false)) => id,
        None => stream
            .next_auto_id(now)
            .ok_or(CmdError::Static(ID_NOT_ABOVE_TOP))?,
    };
    if id <= stream.last_id {
        return Err(ID_NOT_ABOVE_TOP.into());
    }
    Ok(id)
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
fn xtrim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let a = parse_add_trim(args, false, ctx.srv.config.stream_node_max_entries)?;
    let key = &args[1];
    let Some(stream) = stream_mut(ctx, key)? else {
        ctx.out().int(0);
        return Ok(());
    };
    let deleted = match a.trim {
        Some(t) => stream.trim(t, a.approx, a.limit),
        None => 0,
    };
    if deleted > 0 {
        if a.approx {
            rewrite_approx_trim(ctx, args, &a, key);
        }
        modified(ctx, key, deleted);
    }
    ctx.out().int(deleted as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// XLEN, XRANGE, XREVRANGE, XDEL, XSETID

/// XLEN key
fn xlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let len = stream_read(ctx, &args[1])?.map_or(0, |s| s.len());
    ctx.out().int(len as i64);
    Ok(())
}

/// XRANGE key start end [COUNT count]
fn xrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    range_generic(ctx, args, false)
}

/// XREVRANGE key end start [COUNT count]
fn xrevrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    range_generic(ctx, args, true)
}

/// xrangeGenericCommand.
fn range_generic(ctx: &mut Ctx<'_>, args: &[Bytes], rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev {
        (&args[3], &args[2])
    } else {
        (&args[2], &args[3])
    };
    let (mut start, start_ex) = parse_interval_id(start_arg, 0)?;
    if start_ex {
        start = start.incr().ok_or(CmdError::Static(INVALID_START))?;
    }
    let (mut end, end_ex) = parse_interval_id(end_arg, u64::MAX)?;
    if end_ex {
        end = end.decr().ok_or(CmdError::Static(INVALID_END))?;
    }
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if is(&args[j], "COUNT") && j + 1 < args.len() {
            count = int(&args[j + 1])?.max(0);
            j += 2;
        } else {
            return Err(SYNTAX.into());
        }
    }
    let entries = match stream_read(ctx, &args[1])? {
        None => Vec::new(),
        Some(_) if count == 0 => {
            ctx.out().null_array();
            return Ok(());
        }
        Some(s) => s.range(start, end, rev, count.max(0) as usize),
    };
    reply_entries(ctx.out(), &entries);
    Ok(())
}

/// XDEL key id [id ...]
fn xdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    if stream_mut(ctx, key)?.is_none() {
        ctx.out().int(0);
        return Ok(());
    }
    let ids = args[2..]
        .iter()
        .map(|a| parse_strict_id(a))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(stream) = stream_mut(ctx, key)? else {
        return Ok(());
    };
    let deleted = ids.into_iter().filter(|&id| stream.delete(id)).count() as u64;
    if deleted > 0 {
        modified(ctx, key, deleted);
    }
    ctx.out().int(deleted as i64);
    Ok(())
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
fn xsetid(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let id = parse_strict_id(&args[2])?;
    let mut entries_added: Option<u64> = None;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = i + 1 < args.len();
        if is(&args[i], "ENTRIESADDED") && more {
            let n = int(&args[i + 1])?;
            if n < 0 {
                return Err(ENTRIES_ADDED_NEGATIVE.into());
            }
            entries_added = Some(n as u64);
        } else if is(&args[i], "MAXDELETEDID") && more {
            max_deleted = parse_strict_id(&args[i + 1])?;
            if id < max_deleted {
                return Err(SETID_BELOW_MAX_DELETED_ARG.into());
            }
        } else {
            return Err(SYNTAX.into());
        }
        i += 2;
    }
    let key = &args[1];
    let Some(stream) = stream_mut(ctx, key)? else {
        return Err(NO_SUCH_KEY.into());
    };
    if !stream.is_empty() {
        if id < stream.last_valid_id() {
            return Err(SETID_BELOW_TOP.into());
        }
        if entries_added.is_some_and(|n| stream.len() > n) {
            return Err(SETID_ENTRIES_BELOW_LENGTH.into());
        }
    }
    stream.last_id = id;
    if let Some(n) = entries_added {
        stream.entries_added = n;
    }
    if !max_deleted.is_zero() {
        stream.max_deleted_entry_id = max_deleted;
    }
    ctx.out().ok();
    ctx.modified(key);
    Ok(())
}

// ---------------------------------------------------------------------------
// XREAD

/// What XREAD's options say.
#[derive(Debug)]
struct ReadArgs {
    /// BLOCK's deadline: `None` without BLOCK, `Some(None)` to wait forever.
    block: Option<Option<u64>>,
    block_given: bool,
    count: i64,
    count_given: bool,
    /// Index of the first key.
    streams: usize,
    nstreams: usize,
}

/// xreadCommand's option loop for XREAD.
fn parse_read_args(args: &[Bytes], now: u64) -> Result<ReadArgs, CmdError> {
    let mut r = ReadArgs {
        block: None,
        block_given: false,
        count: 0,
        count_given: false,
        streams: 0,
        nstreams: 0,
    };
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let o = &args[i];
        if is(o, "BLOCK") && more > 0 {
            i += 1;
            r.block = Some(parse_timeout_ms(&args[i], now)?);
            r.block_given = true;
        } else if is(o, "COUNT") && more > 0 {
            i += 1;
            r.count = int(&args[i])?.max(0);
            r.count_given = true;
        } else if is(o, "STREAMS") && more > 0 {
            r.streams = i + 1;
            let n = args.len() - r.streams;
            if !n.is_multiple_of(2) {
                return Err(UNBALANCED.into());
            }
            r.nstreams = n / 2;
            break;
        } else if is(o, "GROUP") && more >= 2 {
            return Err(GROUP_ONLY_XREADGROUP.into());
        } else if is(o, "NOACK") {
            return Err(NOACK_ONLY_XREADGROUP.into());
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    if r.streams == 0 {
        return Err(SYNTAX.into());
    }
    Ok(r)
}

/// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
fn xread(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let r = parse_read_args(args, ctx.now)?;
    let keys = &args[r.streams..r.streams + r.nstreams];
    let mut ids = Vec::with_capacity(r.nstreams);
    for (key, arg) in keys.iter().zip(&args[r.streams + r.nstreams..]) {
        let last_id = stream_read(ctx, key)?.map(|s| s.last_id);
        let id = match &arg[..] {
            b"$" => last_id.unwrap_or_default(),
            b">" => return Err(GT_ONLY_XREADGROUP.into()),
            _ => parse_strict_id(arg)?,
        };
        ids.push(id);
    }
    let mut served: Vec<(&Bytes, Vec<Entry>)> = Vec::new();
    for (key, &after) in keys.iter().zip(&ids) {
        let Some(stream) = stream_read(ctx, key)? else {
            continue;
        };
        if stream.is_empty() || stream.last_valid_id() <= after {
            continue;
        }
        let start = after.incr().unwrap_or(StreamId::MAX);
        served.push((
            key,
            stream.range(start, StreamId::MAX, false, r.count as usize),
        ));
    }
    if !served.is_empty() {
        reply_read(ctx.out(), &served);
        return Ok(());
    }
    match r.block {
        Some(deadline) => block_read(ctx, args, &r, &ids, deadline),
        None => ctx.out().null_array(),
    }
    Ok(())
}

/// The XREAD/XREADGROUP reply: per stream `[key, entries]` (RESP3: a map).
pub(crate) fn reply_read(out: &mut ReplyBuf, served: &[(&Bytes, Vec<Entry>)]) {
    if out.is_resp3() {
        out.map(served.len());
    } else {
        out.array(served.len());
    }
    for (key, entries) in served {
        if !out.is_resp3() {
            out.array(2);
        }
        out.bulk(key);
        reply_entries(out, entries);
    }
}

/// Parks an XREAD. Its re-run reads after the IDs resolved now (`$` becomes the
/// last ID at this moment) with COUNT defaulting to 1000, as Redis stores them.
fn block_read(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    r: &ReadArgs,
    ids: &[StreamId],
    deadline: Option<u64>,
) {
    let count = if r.count > 0 {
        r.count
    } else {
        BLOCKED_COUNT_DEFAULT
    };
    let keys = &args[r.streams..r.streams + r.nstreams];
    let mut argv = vec![
        args[0].clone(),
        Bytes::from_static(b"COUNT"),
        Bytes::from(count.to_string()),
        Bytes::from_static(b"BLOCK"),
        Bytes::from_static(b"0"),
        Bytes::from_static(b"STREAMS"),
    ];
    argv.extend(keys.iter().cloned());
    argv.extend(ids.iter().map(|&id| id_bytes(id)));
    ctx.block(
        &argv,
        BlockOn {
            keys,
            deadline,
            wait_type: ValueType::Stream,
            on_timeout: ReplyBuf::null_array,
        },
    );
}
