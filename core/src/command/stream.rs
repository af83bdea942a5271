//! Stream commands (Redis's t_stream.c): XADD, XLEN, XRANGE/XREVRANGE, XDEL, XTRIM,
//! XSETID, XREAD, and the consumer groups: XGROUP, XREADGROUP, XACK, XPENDING,
//! XCLAIM, XAUTOCLAIM, XINFO.
//!
//! Arguments are parsed as Redis parses them (streamGenericParseIDOrReply,
//! streamParseAddOrTrimArgsOrReply), which decides which error a bad request gets.
//! XADD with an auto or partial ID propagates the concrete ID; an approximate trim
//! propagates as the exact trim it turned out to be (`=` and the resulting length or
//! first ID), as Redis rewrites them. XREADGROUP, XCLAIM and XAUTOCLAIM propagate
//! only their effects, as Redis 7.0 writes them to the AOF: an idempotent
//! `XCLAIM ... FORCE JUSTID LASTID` per delivered or claimed entry, plus
//! `XGROUP SETID`/`CREATECONSUMER` where no XCLAIM carries the change (NOACK reads,
//! LASTID without claims).
//!
//! Blocking: XREAD/XREADGROUP with BLOCK park the client (`blocking.rs`); the parked
//! argv has `$` resolved to the ID it meant at that moment and COUNT defaulting to
//! 1000 (XREAD_BLOCKED_DEFAULT_COUNT), and XADD (or XGROUP DESTROY, which answers
//! blocked group readers with -NOGROUP) signals the key.
//!
//! Keyspace events (class `t`) fire where t_stream.c fires them: `xadd` (then
//! `xtrim` if its trim removed entries), `xtrim`, `xdel`, `xsetid`, `xgroup-create`,
//! `-setid`, `-destroy`, `-delconsumer`, and `xgroup-createconsumer` wherever a
//! consumer comes into being (XGROUP CREATECONSUMER, and XREADGROUP, XCLAIM and
//! XAUTOCLAIM, which create one only when they serve or claim something).

use bytes::Bytes;

use super::args::{int, is};
use super::{Acl, CommandSpec, Flag, Group, KeySpec};
use crate::blocking::{parse_timeout_ms, BlockOn};
use crate::config::notify;
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
    CommandSpec {
        name: "xreadgroup",
        arity: -7,
        flags: &[Flag::Write, Flag::Blocking, Flag::MovableKeys],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_specs: &[KeySpec::keyword(&["RO", "ACCESS"], "STREAMS", 4, -1, 2)],
        summary: "Return new entries from a stream using a consumer group, or access the \
            history of the pending entries for a given consumer. Can block.",
        complexity: "For each stream mentioned: O(M) with M being the number of elements \
            returned.",
        handler: Some(xreadgroup),
        ..ONE_KEY
    },
    CommandSpec {
        name: "xack",
        arity: -4,
        flags: &[Flag::Write, Flag::Fast],
        key_specs: UPDATE,
        summary: "Marks a pending message as correctly processed, effectively removing it \
            from the pending entries list of the consumer group.",
        complexity: "O(1) for each message ID processed.",
        handler: Some(xack),
        ..ONE_KEY
    },
    CommandSpec {
        name: "xpending",
        arity: -3,
        flags: &[Flag::Readonly],
        key_specs: READ,
        tips: NONDETERMINISTIC,
        summary: "Return information and entries from a stream consumer group pending \
            entries list, that are messages fetched but never acknowledged.",
        complexity: "O(N) with N being the number of elements returned.",
        history: &[(
            "6.2.0",
            "Added the `IDLE` option and exclusive range intervals.",
        )],
        handler: Some(xpending),
        ..ONE_KEY
    },
    CommandSpec {
        name: "xclaim",
        arity: -6,
        flags: &[Flag::Write, Flag::Fast],
        key_specs: UPDATE,
        tips: NONDETERMINISTIC,
        summary: "Changes (or acquires) ownership of a message in a consumer group, as if \
            the message was delivered to the specified consumer.",
        complexity: "O(log N) with N being the number of messages in the PEL of the \
            consumer group.",
        handler: Some(xclaim),
        ..ONE_KEY
    },
    CommandSpec {
        name: "xautoclaim",
        arity: -6,
        flags: &[Flag::Write, Flag::Fast],
        key_specs: DELETE,
        tips: NONDETERMINISTIC,
        since: "6.2.0",
        summary: "Changes (or acquires) ownership of messages in a consumer group, as if \
            the messages were delivered to the specified consumer.",
        complexity: "O(1) if COUNT is small.",
        history: &[(
            "7.0.0",
            "Added an element to the reply array, containing deleted entries the command \
             cleared from the PEL",
        )],
        handler: Some(xautoclaim),
        ..ONE_KEY
    },
    CommandSpec {
        name: "xgroup",
        arity: -2,
        acl: &[],
        first_key: 0,
        last_key: 0,
        step: 0,
        summary: "A container for consumer groups commands",
        complexity: "Depends on subcommand.",
        subcommands: &[
            CommandSpec {
                name: "create",
                arity: -5,
                flags: &[Flag::Write, Flag::Denyoom],
                history: &[("7.0.0", "Added the `entries_read` named argument.")],
                summary: "Create a consumer group.",
                handler: Some(xgroup_create),
                ..GROUP_SUB
            },
            CommandSpec {
                name: "createconsumer",
                arity: 5,
                flags: &[Flag::Write, Flag::Denyoom],
                since: "6.2.0",
                summary: "Create a consumer in a consumer group.",
                handler: Some(xgroup_createconsumer),
                ..GROUP_SUB
            },
            CommandSpec {
                name: "delconsumer",
                arity: 5,
                key_specs: SUB_DELETE,
                summary: "Delete a consumer from a consumer group.",
                handler: Some(xgroup_delconsumer),
                ..GROUP_SUB
            },
            CommandSpec {
                name: "destroy",
                arity: 4,
                key_specs: SUB_DELETE,
                summary: "Destroy a consumer group.",
                complexity: "O(N) where N is the number of entries in the group's pending \
                    entries list (PEL).",
                handler: Some(xgroup_destroy),
                ..GROUP_SUB
            },
            CommandSpec {
                name: "setid",
                arity: -5,
                key_specs: &[KeySpec::range(&["RW", "UPDATE"], 2, 0)],
                history: &[("7.0.0", "Added the optional `entries_read` argument.")],
                summary: "Set a consumer group to an arbitrary last delivered ID value.",
                handler: Some(xgroup_setid),
                ..GROUP_SUB
            },
            CommandSpec {
                name: "help",
                arity: 2,
                flags: &[Flag::Loading, Flag::Stale],
                first_key: 0,
                last_key: 0,
                step: 0,
                key_specs: &[],
                summary: "Show helpful text about the different subcommands",
                handler: Some(xgroup_help),
                ..GROUP_SUB
            },
        ],
        ..ONE_KEY
    },
    CommandSpec {
        name: "xinfo",
        arity: -2,
        acl: &[],
        first_key: 0,
        last_key: 0,
        step: 0,
        summary: "A container for stream introspection commands",
        complexity: "Depends on subcommand.",
        subcommands: &[
            CommandSpec {
                name: "consumers",
                arity: 4,
                tips: NONDETERMINISTIC,
                summary: "List the consumers in a consumer group",
                handler: Some(xinfo_consumers),
                ..INFO_SUB
            },
            CommandSpec {
                name: "groups",
                arity: 3,
                history: &[("7.0.0", "Added the `entries-read` and `lag` fields")],
                summary: "List the consumer groups of a stream",
                handler: Some(xinfo_groups),
                ..INFO_SUB
            },
            CommandSpec {
                name: "stream",
                arity: -3,
                history: &[
                    ("6.0.0", "Added the `FULL` modifier."),
                    (
                        "7.0.0",
                        "Added the `max-deleted-entry-id`, `entries-added`, \
                         `recorded-first-entry-id`, `entries-read` and `lag` fields",
                    ),
                ],
                summary: "Get information about a stream",
                handler: Some(xinfo_stream),
                ..INFO_SUB
            },
            CommandSpec {
                name: "help",
                arity: 2,
                flags: &[Flag::Loading, Flag::Stale],
                first_key: 0,
                last_key: 0,
                step: 0,
                key_specs: &[],
                summary: "Show helpful text about the different subcommands",
                handler: Some(xinfo_help),
                ..INFO_SUB
            },
        ],
        ..ONE_KEY
    },
];

/// XGROUP's subcommands: the key at argument 2.
const GROUP_SUB: CommandSpec = CommandSpec {
    first_key: 2,
    last_key: 2,
    step: 1,
    flags: &[Flag::Write],
    key_specs: &[KeySpec::range(&["RW", "INSERT"], 2, 0)],
    ..ONE_KEY
};
const SUB_DELETE: &[KeySpec] = &[KeySpec::range(&["RW", "DELETE"], 2, 0)];

/// XINFO's subcommands: a read of the key at argument 2.
const INFO_SUB: CommandSpec = CommandSpec {
    first_key: 2,
    last_key: 2,
    step: 1,
    flags: &[Flag::Readonly],
    key_specs: &[KeySpec::range(&["RO", "ACCESS"], 2, 0)],
    complexity: "O(N)",
    ..ONE_KEY
};

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

/// Fires a stream-class keyspace event on `key` (notifyKeyspaceEvent NOTIFY_STREAM).
pub(crate) fn notify_stream(ctx: &mut Ctx<'_>, event: &'static str, key: &[u8]) {
    ctx.notify(notify::STREAM, event, key);
}

/// What streamCreateConsumer does besides creating: `dirty++` and the event.
fn consumer_created(ctx: &mut Ctx<'_>, key: &[u8]) {
    ctx.srv.dirty += 1;
    notify_stream(ctx, "xgroup-createconsumer", key);
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
/// `obey` is Redis's mustObeyClient (here: replaying the AOF): the trim was
/// rewritten exact, so LIMIT no longer applies and needs no `~`.
fn parse_add_trim(
    args: &[Bytes],
    xadd: bool,
    node_max_entries: i64,
    obey: bool,
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
        _ if obey => 0,
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
    let obey = ctx.srv.persist.loading;
    let a = parse_add_trim(args, true, ctx.srv.config.stream_node_max_entries, obey)?;
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
    // Redis announces the entry, then trims and announces the trim.
    notify_stream(ctx, "xadd", key);
    if trimmed.is_some_and(|deleted| deleted > 0) {
        notify_stream(ctx, "xtrim", key);
    }
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
    let obey = ctx.srv.persist.loading;
    let a = parse_add_trim(args, false, ctx.srv.config.stream_node_max_entries, obey)?;
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
        notify_stream(ctx, "xtrim", key);
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
        notify_stream(ctx, "xdel", key);
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
    notify_stream(ctx, "xsetid", key);
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

/// xreadCommand's option loop for XREAD; `script`: a script called it, which
/// may not BLOCK.
fn parse_read_args(args: &[Bytes], now: u64, script: bool) -> Result<ReadArgs, CmdError> {
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
            if script {
                return Err(crate::script::block_in_script(&args[0]));
            }
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
    let r = parse_read_args(args, ctx.now, crate::script::runs_for(ctx))?;
    let keys = &args[r.streams..r.streams + r.nstreams];
    let id_args = &args[r.streams + r.nstreams..];
    if let Some(ready) = ctx.srv.blocking.serving_key(ctx.client.conn).cloned() {
        // The parked argv holds concrete IDs, and Redis serves a woken reader
        // without looking its other keys up again (no keymiss events for them).
        let ids = id_args
            .iter()
            .map(|a| parse_strict_id(a))
            .collect::<Result<Vec<_>, _>>()?;
        return serve_woken_read(ctx, args, &r, &ids, &ready);
    }
    let mut ids = Vec::with_capacity(r.nstreams);
    for (key, arg) in keys.iter().zip(id_args) {
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

/// A blocked XREAD woken by `ready`: served from that key alone, once its last ID
/// passed the one waited for (even if those entries were deleted since), as
/// Redis's serveClientsBlockedOnStreamKey does; otherwise it keeps waiting.
fn serve_woken_read(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    r: &ReadArgs,
    ids: &[StreamId],
    ready: &Bytes,
) -> CmdResult {
    let keys = &args[r.streams..r.streams + r.nstreams];
    let Some(at) = keys.iter().position(|k| k == ready) else {
        block_read(ctx, args, r, ids, None);
        return Ok(());
    };
    let after = ids[at];
    let entries = match stream_read(ctx, ready)? {
        Some(s) if s.last_id > after => {
            let start = after.incr().unwrap_or(StreamId::MAX);
            s.range(start, StreamId::MAX, false, r.count as usize)
        }
        _ => {
            block_read(ctx, args, r, ids, None);
            return Ok(());
        }
    };
    reply_read(ctx.out(), &[(ready, entries)]);
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
            gone_error: None,
        },
    );
}

// ---------------------------------------------------------------------------
// Consumer groups: XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO

const NO_KEY_FOR_XGROUP: &str = "ERR The XGROUP subcommand requires the key to exist. Note that \
     for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";
const BUSYGROUP: &str = "BUSYGROUP Consumer Group name already exists";
const ENTRIESREAD_NEGATIVE: &str = "ERR value for ENTRIESREAD must be positive or -1";
const MISSING_GROUP: &str = "ERR Missing GROUP option for XREADGROUP";
const DOLLAR_IN_XREADGROUP: &str = "ERR The $ ID is meaningless in the context of XREADGROUP: \
     you want to read the history of this consumer by specifying a proper ID, or use the > ID \
     to get new messages. The $ ID would just return an empty result set.";
const GROUP_GONE: &str = "NOGROUP the consumer group this client was blocked on no longer exists";
/// What a blocked XREADGROUP gets when its stream is deleted or replaced by another
/// type (its group went with it).
const STREAM_GONE: &str = "UNBLOCKED the stream key no longer exists";
const AUTOCLAIM_COUNT: &str = "ERR COUNT must be > 0";
const AUTOCLAIM_TOO_HIGH: &str =
    "ERR Insufficient memory, failed allocating transient memory, COUNT too high.";

/// A client-quoting error: `prefix` then each (text, bytes) pair in turn.
fn quoted(parts: &[&[u8]]) -> CmdError {
    let mut msg = Vec::new();
    for part in parts {
        // Client bytes print as C's %s: up to a NUL.
        let end = part.iter().position(|&b| b == 0).unwrap_or(part.len());
        msg.extend_from_slice(&part[..end]);
    }
    CmdError::Bytes(msg)
}

/// `NOGROUP No such key '<key>' or consumer group '<group>'<suffix>`.
fn no_key_or_group(key: &[u8], group: &[u8], suffix: &str) -> CmdError {
    quoted(&[
        b"NOGROUP No such key '",
        key,
        b"' or consumer group '",
        group,
        b"'",
        suffix.as_bytes(),
    ])
}

/// `NOGROUP No such consumer group '<group>' for key name '<key>'`.
fn no_group_for_key(group: &[u8], key: &[u8]) -> CmdError {
    quoted(&[
        b"NOGROUP No such consumer group '",
        group,
        b"' for key name '",
        key,
        b"'",
    ])
}

/// addReplySubcommandSyntaxError for XGROUP/XINFO.
fn sub_syntax_error(args: &[Bytes]) -> CmdError {
    let sub = &args[1][..args[1].len().min(128)];
    let container = args[0].to_ascii_uppercase();
    quoted(&[
        b"ERR unknown subcommand or wrong number of arguments for '",
        sub,
        b"'. Try ",
        &container,
        b" HELP.",
    ])
}

/// A group's entries-read as XINFO shows it: null when unknown.
fn reply_entries_read(out: &mut ReplyBuf, n: i64) {
    if n == crate::types::stream::ENTRIES_READ_UNKNOWN {
        out.null();
    } else {
        out.int(n);
    }
}

fn reply_lag(out: &mut ReplyBuf, lag: Option<i64>) {
    match lag {
        Some(n) => out.int(n),
        None => out.null(),
    }
}

/// XGROUP SETID key group last_id ENTRIESREAD n: the group's position, propagated
/// after reads and claims move it (streamPropagateGroupID).
fn propagate_group_id(ctx: &mut Ctx<'_>, key: &Bytes, group: &Bytes, last_id: StreamId, read: i64) {
    ctx.also_propagate(vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"SETID"),
        key.clone(),
        group.clone(),
        id_bytes(last_id),
        Bytes::from_static(b"ENTRIESREAD"),
        Bytes::from(read.to_string()),
    ]);
}

/// The idempotent XCLAIM Redis propagates for a pending entry (streamPropagateXCLAIM).
fn propagate_xclaim(
    ctx: &mut Ctx<'_>,
    key: &Bytes,
    group: &Bytes,
    consumer: &[u8],
    id: StreamId,
    pe: (u64, u64),
    group_last: StreamId,
) {
    ctx.also_propagate(vec![
        Bytes::from_static(b"XCLAIM"),
        key.clone(),
        group.clone(),
        Bytes::copy_from_slice(consumer),
        Bytes::from_static(b"0"),
        id_bytes(id),
        Bytes::from_static(b"TIME"),
        Bytes::from(pe.0.to_string()),
        Bytes::from_static(b"RETRYCOUNT"),
        Bytes::from(pe.1.to_string()),
        Bytes::from_static(b"FORCE"),
        Bytes::from_static(b"JUSTID"),
        Bytes::from_static(b"LASTID"),
        id_bytes(group_last),
    ]);
}

/// XGROUP CREATECONSUMER, propagated when a read or claim creates a consumer.
fn propagate_consumer_creation(ctx: &mut Ctx<'_>, key: &Bytes, group: &Bytes, consumer: &Bytes) {
    ctx.also_propagate(vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"CREATECONSUMER"),
        key.clone(),
        group.clone(),
        consumer.clone(),
    ]);
}

/// The stream an XGROUP subcommand names (its key is argument 2): `None` if
/// missing, WRONGTYPE if the key holds something else.
fn xgroup_stream<'c>(
    ctx: &'c mut Ctx<'_>,
    args: &[Bytes],
) -> Result<Option<&'c mut Stream>, CmdError> {
    stream_mut(ctx, &args[2])
}

/// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries_read]
fn xgroup_create(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mut mkstream = false;
    let mut entries_read = crate::types::stream::ENTRIES_READ_UNKNOWN;
    let mut i = 5;
    while i < args.len() {
        if is(&args[i], "MKSTREAM") {
            mkstream = true;
            i += 1;
        } else if is(&args[i], "ENTRIESREAD") && i + 1 < args.len() {
            entries_read = int(&args[i + 1])?;
            if entries_read < 0 && entries_read != crate::types::stream::ENTRIES_READ_UNKNOWN {
                return Err(ENTRIESREAD_NEGATIVE.into());
            }
            i += 2;
        } else {
            return Err(sub_syntax_error(args));
        }
    }
    let key = &args[2];
    let last_id = xgroup_stream(ctx, args)?.map(|s| s.last_id);
    if last_id.is_none() && !mkstream {
        return Err(NO_KEY_FOR_XGROUP.into());
    }
    if args.len() > 8 {
        return Err(sub_syntax_error(args));
    }
    let id = if &args[4][..] == b"$" {
        last_id.unwrap_or_default()
    } else {
        parse_strict_id(&args[4])?
    };
    if last_id.is_none() {
        let (now, policy) = (ctx.now, ctx.srv.access_policy());
        ctx.db().insert_new(
            key,
            Value::Stream(Box::new(Stream::new())),
            None,
            now,
            policy,
        );
        // signalModifiedKey without a change of its own: the group creation counts.
        let db = ctx.client.db;
        ctx.touch_watched(db, key);
    }
    let Some(stream) = stream_mut(ctx, key)? else {
        return Ok(());
    };
    if stream.groups.contains_key(&args[3][..]) {
        return Err(BUSYGROUP.into());
    }
    stream.groups.insert(
        args[3].to_vec(),
        crate::types::stream::Group::new(id, entries_read),
    );
    ctx.out().ok();
    ctx.srv.dirty += 1;
    notify_stream(ctx, "xgroup-create", key);
    Ok(())
}

/// XGROUP SETID key group id|$ [ENTRIESREAD entries_read]
fn xgroup_setid(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (key, name) = (&args[2], &args[3]);
    let Some(stream) = xgroup_stream(ctx, args)? else {
        return Err(NO_KEY_FOR_XGROUP.into());
    };
    if !stream.groups.contains_key(&name[..]) {
        return Err(no_group_for_key(name, key));
    }
    if args.len() != 5 && args.len() != 7 {
        return Err(sub_syntax_error(args));
    }
    let id = if &args[4][..] == b"$" {
        stream.last_id
    } else {
        let rules = IdRules {
            missing_seq: 0,
            strict: false,
            seq_star: false,
        };
        parse_id_with(&args[4], rules)?.0
    };
    let mut entries_read = crate::types::stream::ENTRIES_READ_UNKNOWN;
    if args.len() == 7 {
        if !is(&args[5], "ENTRIESREAD") {
            return Err(sub_syntax_error(args));
        }
        entries_read = int(&args[6])?;
        if entries_read < 0 && entries_read != crate::types::stream::ENTRIES_READ_UNKNOWN {
            return Err(ENTRIESREAD_NEGATIVE.into());
        }
    }
    if let Some(group) = stream.groups.get_mut(&name[..]) {
        group.last_id = id;
        group.entries_read = entries_read;
    }
    ctx.out().ok();
    ctx.srv.dirty += 1;
    notify_stream(ctx, "xgroup-setid", key);
    Ok(())
}

/// XGROUP DESTROY key group
fn xgroup_destroy(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let Some(stream) = xgroup_stream(ctx, args)? else {
        return Err(NO_KEY_FOR_XGROUP.into());
    };
    let removed = stream.groups.remove(&args[3][..]).is_some();
    ctx.out().int(i64::from(removed));
    if removed {
        ctx.srv.dirty += 1;
        notify_stream(ctx, "xgroup-destroy", &args[2]);
        // Clients blocked in XREADGROUP on this group get -NOGROUP.
        ctx.signal_key_ready(&args[2]);
    }
    Ok(())
}

/// XGROUP CREATECONSUMER key group consumer
fn xgroup_createconsumer(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let now = ctx.now;
    let (key, name) = (&args[2], &args[3]);
    let Some(stream) = xgroup_stream(ctx, args)? else {
        return Err(NO_KEY_FOR_XGROUP.into());
    };
    let Some(group) = stream.groups.get_mut(&name[..]) else {
        return Err(no_group_for_key(name, key));
    };
    let (_, created) = group.consumer_or_create(&args[4], now);
    // streamCreateConsumer announces the consumer before the reply is written.
    if created {
        consumer_created(ctx, key);
    }
    ctx.out().int(i64::from(created));
    Ok(())
}

/// XGROUP DELCONSUMER key group consumer
fn xgroup_delconsumer(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (key, name) = (&args[2], &args[3]);
    let Some(stream) = xgroup_stream(ctx, args)? else {
        return Err(NO_KEY_FOR_XGROUP.into());
    };
    let Some(group) = stream.groups.get_mut(&name[..]) else {
        return Err(no_group_for_key(name, key));
    };
    let pending = group.delete_consumer(&args[4]);
    ctx.out().int(pending.unwrap_or(0) as i64);
    if pending.is_some() {
        ctx.srv.dirty += 1;
        notify_stream(ctx, "xgroup-delconsumer", key);
    }
    Ok(())
}

const XGROUP_HELP: &[&str] = &[
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
];

const XINFO_HELP: &[&str] = &[
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
];

fn xgroup_help(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    super::client::write_help(ctx, XGROUP_HELP);
    Ok(())
}

fn xinfo_help(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    super::client::write_help(ctx, XINFO_HELP);
    Ok(())
}

/// XACK key group id [id ...]
fn xack(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let has_group = stream_read(ctx, key)?.is_some_and(|s| s.groups.contains_key(&args[2][..]));
    if !has_group {
        ctx.out().int(0);
        return Ok(());
    }
    let ids = args[3..]
        .iter()
        .map(|a| parse_strict_id(a))
        .collect::<Result<Vec<_>, _>>()?;
    let mut acked = 0u64;
    if let Some(Value::Stream(s)) = ctx.lookup_write_untouched(key).map(|e| &mut e.value) {
        if let Some(group) = s.groups.get_mut(&args[2][..]) {
            acked = ids.into_iter().filter(|&id| group.ack(id)).count() as u64;
        }
    }
    ctx.srv.dirty += acked;
    ctx.out().int(acked as i64);
    Ok(())
}

/// The extended XPENDING form's arguments.
struct PendingRange {
    min_idle: i64,
    start: StreamId,
    end: StreamId,
    count: i64,
    consumer: Option<Bytes>,
}

/// `[IDLE min-idle-time] start end count [consumer]`, checked before the key.
fn parse_pending_range(args: &[Bytes]) -> Result<PendingRange, CmdError> {
    let mut at = 3;
    let mut min_idle = 0;
    if is(&args[3], "IDLE") {
        min_idle = int(&args[4])?;
        if args.len() < 8 {
            return Err(SYNTAX.into());
        }
        at += 2;
    }
    let count = int(&args[at + 2])?.max(0);
    let (mut start, start_ex) = parse_interval_id(&args[at], 0)?;
    if start_ex {
        start = start.incr().ok_or(CmdError::Static(INVALID_START))?;
    }
    let (mut end, end_ex) = parse_interval_id(&args[at + 1], u64::MAX)?;
    if end_ex {
        end = end.decr().ok_or(CmdError::Static(INVALID_END))?;
    }
    Ok(PendingRange {
        min_idle,
        start,
        end,
        count,
        consumer: args.get(at + 3).cloned(),
    })
}

/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
fn xpending(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len() != 3 && !(6..=9).contains(&args.len()) {
        return Err(SYNTAX.into());
    }
    let range = if args.len() >= 6 {
        Some(parse_pending_range(args)?)
    } else {
        None
    };
    let now = ctx.now;
    let mut out = std::mem::take(&mut ctx.client.out);
    let result = (|| {
        let stream = stream_read(ctx, &args[1])?;
        let Some(group) = stream.and_then(|s| s.groups.get(&args[2][..])) else {
            return Err(no_key_or_group(&args[1], &args[2], ""));
        };
        match &range {
            None => reply_pending_summary(&mut out, group),
            Some(r) => reply_pending_range(&mut out, group, r, now),
        }
        Ok(())
    })();
    ctx.client.out = out;
    result
}

fn reply_pending_summary(out: &mut ReplyBuf, group: &crate::types::stream::Group) {
    out.array(4);
    out.int(group.pending.len() as i64);
    let (Some((first, _)), Some((last, _))) = (
        group.pending.iter().next(),
        group.pending.iter().next_back(),
    ) else {
        out.null();
        out.null();
        out.null_array();
        return;
    };
    out.bulk(&first.to_bytes());
    out.bulk(&last.to_bytes());
    let busy: Vec<_> = group
        .consumers
        .iter()
        .filter(|(_, c)| !c.pending.is_empty())
        .collect();
    out.array(busy.len());
    for (name, c) in busy {
        out.array(2);
        out.bulk(name);
        out.bulk(c.pending.len().to_string().as_bytes());
    }
}

fn reply_pending_range(
    out: &mut ReplyBuf,
    group: &crate::types::stream::Group,
    r: &PendingRange,
    now: u64,
) {
    let ids: Vec<StreamId> = match &r.consumer {
        Some(name) => match group.consumers.get(&name[..]) {
            Some(c) if r.start <= r.end => c.pending.range(r.start..=r.end).copied().collect(),
            Some(_) => Vec::new(),
            None => {
                out.array(0);
                return;
            }
        },
        None if r.start <= r.end => group
            .pending
            .range(r.start..=r.end)
            .map(|(id, _)| *id)
            .collect(),
        None => Vec::new(),
    };
    let mut rows = Vec::new();
    for id in ids {
        if rows.len() as i64 >= r.count {
            break;
        }
        let Some(pe) = group.pending.get(&id) else {
            continue;
        };
        let idle = (now as i64).wrapping_sub(pe.delivery_time as i64);
        if r.min_idle != 0 && idle < r.min_idle {
            continue;
        }
        rows.push((id, pe, idle.max(0)));
    }
    out.array(rows.len());
    for (id, pe, idle) in rows {
        out.array(4);
        out.bulk(&id.to_bytes());
        out.bulk(&pe.consumer);
        out.int(idle);
        out.int(pe.delivery_count as i64);
    }
}

// --- XREADGROUP ----------------------------------------------------------------------

/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]
fn xreadgroup(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let r = parse_readgroup_args(args, ctx.now, crate::script::runs_for(ctx))?;
    // Only its effects (XCLAIM, XGROUP SETID/CREATECONSUMER) propagate.
    ctx.prevent_propagation();
    let (group_name, consumer) = (&r.group, &r.consumer);
    let keys = &args[r.read.streams..r.read.streams + r.read.nstreams];
    let id_args = &args[r.read.streams + r.read.nstreams..];
    if let Some(ready) = ctx.srv.blocking.serving_key(ctx.client.conn).cloned() {
        return serve_woken_read_group(ctx, args, &r, &ready);
    }
    // Every key must hold the group; `>` or an explicit ID per stream.
    let mut ids = Vec::with_capacity(keys.len());
    for (key, arg) in keys.iter().zip(id_args) {
        let has = stream_read(ctx, key)?.is_some_and(|s| s.groups.contains_key(&group_name[..]));
        if !has {
            return Err(no_key_or_group(
                key,
                group_name,
                " in XREADGROUP with GROUP option",
            ));
        }
        let id = match &arg[..] {
            b"$" => return Err(DOLLAR_IN_XREADGROUP.into()),
            b">" => None,
            _ => Some(parse_strict_id(arg)?),
        };
        ids.push(id);
    }
    let mut served: Vec<(&Bytes, Vec<Entry>)> = Vec::new();
    for (key, id) in keys.iter().zip(&ids) {
        if let Some(entries) = read_group_stream(ctx, key, group_name, consumer, *id, &r, false)? {
            served.push((key, entries));
        }
    }
    if !served.is_empty() {
        reply_read_group(ctx.out(), &served);
        return Ok(());
    }
    match r.read.block {
        Some(deadline) => block_read_group(ctx, args, &r, deadline),
        None => ctx.out().null_array(),
    }
    Ok(())
}

/// A blocked XREADGROUP woken by `ready` (its IDs are all `>`): -NOGROUP if the
/// group is gone, else served from that key alone once the stream's last ID passed
/// the group's, as serveClientsBlockedOnStreamKey does; otherwise it keeps waiting.
fn serve_woken_read_group(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    r: &ReadGroupArgs,
    ready: &Bytes,
) -> CmdResult {
    let passed = match stream_read(ctx, ready)? {
        Some(s) => match s.groups.get(&r.group[..]) {
            Some(g) => s.last_id > g.last_id,
            None => return Err(GROUP_GONE.into()),
        },
        None => false,
    };
    if !passed {
        block_read_group(ctx, args, r, None);
        return Ok(());
    }
    let entries = read_group_stream(ctx, ready, &r.group, &r.consumer, None, r, true)?;
    reply_read_group(ctx.out(), &[(ready, entries.unwrap_or_default())]);
    Ok(())
}

/// XREADGROUP's replies: history entries that were deleted show as `[id, nil]`.
fn reply_read_group(out: &mut ReplyBuf, served: &[(&Bytes, Vec<Entry>)]) {
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
        out.array(entries.len());
        for e in entries {
            reply_entry_or_gone(out, e);
        }
    }
}

/// A history entry: fields, or a null array when the entry was deleted (marked by
/// having no fields: a stream entry always has at least one).
fn reply_entry_or_gone(out: &mut ReplyBuf, e: &Entry) {
    if e.fields.is_empty() {
        out.array(2);
        out.bulk(&e.id.to_bytes());
        out.null_array();
    } else {
        reply_entry(out, e);
    }
}

struct ReadGroupArgs {
    read: ReadArgs,
    group: Bytes,
    consumer: Bytes,
    noack: bool,
}

/// xreadCommand's option loop for XREADGROUP; `script` as for XREAD.
fn parse_readgroup_args(args: &[Bytes], now: u64, script: bool) -> Result<ReadGroupArgs, CmdError> {
    let mut r = ReadArgs {
        block: None,
        block_given: false,
        count: 0,
        count_given: false,
        streams: 0,
        nstreams: 0,
    };
    let mut group = None;
    let mut noack = false;
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let o = &args[i];
        if is(o, "BLOCK") && more > 0 {
            if script {
                return Err(crate::script::block_in_script(&args[0]));
            }
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
            group = Some((args[i + 1].clone(), args[i + 2].clone()));
            i += 2;
        } else if is(o, "NOACK") {
            noack = true;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    if r.streams == 0 {
        return Err(SYNTAX.into());
    }
    let Some((group, consumer)) = group else {
        return Err(MISSING_GROUP.into());
    };
    Ok(ReadGroupArgs {
        read: r,
        group,
        consumer,
        noack,
    })
}

/// Serves one stream of an XREADGROUP: its history (`id` given) or new entries
/// (`>`), updating the PELs and propagating as Redis does. `None` when there is
/// nothing to serve from it now. A `woken` reader is served once the stream's last
/// ID passed the group's (even if those entries were deleted since), a reader that
/// just arrived once a live entry did.
#[allow(clippy::too_many_arguments)]
fn read_group_stream(
    ctx: &mut Ctx<'_>,
    key: &Bytes,
    group_name: &Bytes,
    consumer: &Bytes,
    id: Option<StreamId>,
    r: &ReadGroupArgs,
    woken: bool,
) -> Result<Option<Vec<Entry>>, CmdError> {
    let now = ctx.now;
    let count = r.read.count.max(0) as usize;
    let Some(Value::Stream(stream)) = ctx.lookup_write_untouched(key).map(|e| &mut e.value) else {
        return Ok(None);
    };
    let stream: &mut Stream = stream;
    let Some(mut group) = stream.groups.remove(&group_name[..]) else {
        return Ok(None);
    };
    let after = match id {
        Some(id) => Some(id),
        None if woken && stream.last_id > group.last_id => Some(group.last_id),
        None if !woken && !stream.is_empty() && stream.last_valid_id() > group.last_id => {
            Some(group.last_id)
        }
        None => None,
    };
    // Redis 7.0 looks the consumer up (creating it) only for a stream it serves
    // now: a reader that finds nothing, or blocks, creates no consumer yet.
    let Some(after) = after else {
        stream.groups.insert(group_name.to_vec(), group);
        return Ok(None);
    };
    let created = {
        let (c, created) = group.consumer_or_create(consumer, now);
        c.seen_time = now;
        created
    };
    let start = after.incr().unwrap_or(StreamId::MAX);
    let mut effects = Vec::new();
    let before = group.last_id;
    let entries = if id.is_some() {
        history_from_pel(stream, &mut group, consumer, start, count, now)
    } else {
        deliver_new(
            stream,
            &mut group,
            consumer,
            start,
            count,
            r.noack,
            now,
            &mut effects,
        )
    };
    let group_pos = (group.last_id, group.entries_read);
    stream.groups.insert(group_name.to_vec(), group);
    if created {
        consumer_created(ctx, key);
    }
    // Redis 7.0 propagates a new consumer only under NOACK: otherwise the XCLAIMs
    // of its deliveries create it on the replica.
    if created && r.noack {
        propagate_consumer_creation(ctx, key, group_name, consumer);
    }
    for (eid, pe) in &effects {
        propagate_xclaim(ctx, key, group_name, consumer, *eid, *pe, group_pos.0);
    }
    // The XCLAIMs carry the group's last ID; under NOACK there are none, so 7.0
    // propagates the new position itself.
    if r.noack && group_pos.0 != before {
        propagate_group_id(ctx, key, group_name, group_pos.0, group_pos.1);
    }
    ctx.srv.dirty += 1;
    Ok(Some(entries))
}

/// streamReplyWithRangeFromConsumerPEL: the consumer's pending entries from
/// `start`, each delivered once more; deleted ones come back without fields.
fn history_from_pel(
    stream: &Stream,
    group: &mut crate::types::stream::Group,
    consumer: &[u8],
    start: StreamId,
    count: usize,
    now: u64,
) -> Vec<Entry> {
    let ids: Vec<StreamId> = match group.consumers.get(consumer) {
        Some(c) => c
            .pending
            .range(start..)
            .take(if count == 0 { usize::MAX } else { count })
            .copied()
            .collect(),
        None => Vec::new(),
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match stream.get(id) {
            Some(e) => {
                if let Some(pe) = group.pending.get_mut(&id) {
                    pe.delivery_time = now;
                    pe.delivery_count = pe.delivery_count.wrapping_add(1);
                }
                out.push(e);
            }
            None => out.push(Entry {
                id,
                fields: Vec::new(),
            }),
        }
    }
    out
}

/// The `>` read: entries after the group's last ID, each made pending for the
/// consumer (unless NOACK) and noted for propagation as an XCLAIM.
#[allow(clippy::too_many_arguments)]
fn deliver_new(
    stream: &Stream,
    group: &mut crate::types::stream::Group,
    consumer: &[u8],
    start: StreamId,
    count: usize,
    noack: bool,
    now: u64,
    effects: &mut Vec<(StreamId, (u64, u64))>,
) -> Vec<Entry> {
    let entries = stream.range(start, StreamId::MAX, false, count);
    for e in &entries {
        stream.advance_group(group, e.id);
        if !noack {
            group.assign(e.id, consumer, now, 1);
            effects.push((e.id, (now, 1)));
        }
    }
    entries
}

/// Parks an XREADGROUP; its re-run keeps its arguments, with COUNT defaulting to
/// 1000 as Redis's blocked readers get.
fn block_read_group(ctx: &mut Ctx<'_>, args: &[Bytes], r: &ReadGroupArgs, deadline: Option<u64>) {
    let count = if r.read.count > 0 {
        r.read.count
    } else {
        BLOCKED_COUNT_DEFAULT
    };
    let keys = &args[r.read.streams..r.read.streams + r.read.nstreams];
    let mut argv = vec![
        args[0].clone(),
        Bytes::from_static(b"GROUP"),
        r.group.clone(),
        r.consumer.clone(),
        Bytes::from_static(b"COUNT"),
        Bytes::from(count.to_string()),
        Bytes::from_static(b"BLOCK"),
        Bytes::from_static(b"0"),
    ];
    if r.noack {
        argv.push(Bytes::from_static(b"NOACK"));
    }
    argv.push(Bytes::from_static(b"STREAMS"));
    argv.extend_from_slice(&args[r.read.streams..]);
    ctx.block(
        &argv,
        BlockOn {
            keys,
            deadline,
            wait_type: ValueType::Stream,
            on_timeout: ReplyBuf::null_array,
            gone_error: Some(STREAM_GONE),
        },
    );
}

// --- XCLAIM / XAUTOCLAIM --------------------------------------------------------------

/// XCLAIM's options after the IDs.
struct ClaimOptions {
    force: bool,
    justid: bool,
    delivery_time: Option<i64>,
    retry_count: Option<i64>,
    last_id: StreamId,
}

fn int_with(arg: &[u8], err: &'static str) -> Result<i64, CmdError> {
    parse_i64(arg).ok_or(CmdError::Static(err))
}

fn parse_claim_options(args: &[Bytes], from: usize, now: u64) -> Result<ClaimOptions, CmdError> {
    let mut o = ClaimOptions {
        force: false,
        justid: false,
        delivery_time: None,
        retry_count: None,
        last_id: StreamId::MIN,
    };
    let mut j = from;
    while j < args.len() {
        let more = j + 1 < args.len();
        let opt = &args[j];
        if is(opt, "FORCE") {
            o.force = true;
        } else if is(opt, "JUSTID") {
            o.justid = true;
        } else if is(opt, "IDLE") && more {
            j += 1;
            let idle = int_with(&args[j], "ERR Invalid IDLE option argument for XCLAIM")?;
            o.delivery_time = Some((now as i64).wrapping_sub(idle));
        } else if is(opt, "TIME") && more {
            j += 1;
            o.delivery_time = Some(int_with(
                &args[j],
                "ERR Invalid TIME option argument for XCLAIM",
            )?);
        } else if is(opt, "RETRYCOUNT") && more {
            j += 1;
            o.retry_count = Some(int_with(
                &args[j],
                "ERR Invalid RETRYCOUNT option argument for XCLAIM",
            )?);
        } else if is(opt, "LASTID") && more {
            j += 1;
            o.last_id = parse_strict_id(&args[j])?;
        } else {
            return Err(quoted(&[b"ERR Unrecognized XCLAIM option '", opt, b"'"]));
        }
        j += 1;
    }
    Ok(o)
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
fn xclaim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (key, group_name, consumer) = (&args[1], &args[2], &args[3]);
    let now = ctx.now;
    let has = stream_read(ctx, key)?.is_some_and(|s| s.groups.contains_key(&group_name[..]));
    if !has {
        return Err(no_key_or_group(key, group_name, ""));
    }
    let min_idle = int_with(&args[4], "ERR Invalid min-idle-time argument for XCLAIM")?.max(0);
    let ids_end = 5 + args[5..]
        .iter()
        .take_while(|a| parse_strict_id(a).is_ok())
        .count();
    let opts = parse_claim_options(args, ids_end, now)?;
    let ids: Vec<StreamId> = args[5..ids_end]
        .iter()
        .filter_map(|a| parse_strict_id(a).ok())
        .collect();
    let delivery_time = match opts.delivery_time {
        Some(t) if t >= 0 && t as u64 <= now => t as u64,
        _ => now,
    };
    let Some(Value::Stream(stream)) = ctx.lookup_write_untouched(key).map(|e| &mut e.value) else {
        return Ok(());
    };
    let stream: &mut Stream = stream;
    let Some(mut group) = stream.groups.remove(&group_name[..]) else {
        return Ok(());
    };
    let mut propagate_last_id = false;
    if opts.last_id > group.last_id {
        group.last_id = opts.last_id;
        propagate_last_id = true;
    }
    let mut claimed: Vec<(StreamId, Option<Entry>)> = Vec::new();
    let mut effects: Vec<(Vec<u8>, StreamId, (u64, u64))> = Vec::new();
    let mut created = false;
    for id in ids {
        let existing = group.pending.get(&id).cloned();
        let Some(entry) = stream.get(id) else {
            if let Some(pe) = existing {
                effects.push((
                    pe.consumer.clone(),
                    id,
                    (pe.delivery_time, pe.delivery_count),
                ));
                group.ack(id);
                propagate_last_id = false;
            }
            continue;
        };
        // FORCE makes a missing pending entry (delivered once) and skips MINIDLE.
        let count = match &existing {
            Some(pe) => {
                let idle = (now as i64).wrapping_sub(pe.delivery_time as i64);
                if min_idle != 0 && idle < min_idle {
                    continue;
                }
                pe.delivery_count
            }
            None if opts.force => 1,
            None => continue,
        };
        let (_, new) = group.consumer_or_create(consumer, now);
        if let Some(c) = group.consumers.get_mut(&consumer[..]) {
            c.seen_time = now;
        }
        created |= new;
        let count = match opts.retry_count {
            Some(n) if n >= 0 => n as u64,
            _ if !opts.justid => count.wrapping_add(1),
            _ => count,
        };
        group.assign(id, consumer, delivery_time, count);
        effects.push((consumer.to_vec(), id, (delivery_time, count)));
        claimed.push((id, (!opts.justid).then_some(entry)));
        propagate_last_id = false;
    }
    let group_pos = (group.last_id, group.entries_read);
    stream.groups.insert(group_name.to_vec(), group);
    // The XCLAIMs create the consumer on a replica: Redis propagates no
    // XGROUP CREATECONSUMER for it.
    if created {
        consumer_created(ctx, key);
    }
    let out = ctx.out();
    out.array(claimed.len());
    for (id, entry) in &claimed {
        match entry {
            Some(e) => reply_entry(out, e),
            None => out.bulk(&id.to_bytes()),
        }
    }
    for (owner, id, pe) in &effects {
        propagate_xclaim(ctx, key, group_name, owner, *id, *pe, group_pos.0);
        ctx.srv.dirty += 1;
    }
    if propagate_last_id {
        propagate_group_id(ctx, key, group_name, group_pos.0, group_pos.1);
        ctx.srv.dirty += 1;
    }
    ctx.prevent_propagation();
    Ok(())
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
fn xautoclaim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (key, group_name, consumer) = (&args[1], &args[2], &args[3]);
    let now = ctx.now;
    let min_idle = int_with(
        &args[4],
        "ERR Invalid min-idle-time argument for XAUTOCLAIM",
    )?
    .max(0);
    let (mut start, start_ex) = parse_interval_id(&args[5], 0)?;
    if start_ex {
        start = start.incr().ok_or(CmdError::Static(INVALID_START))?;
    }
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        if is(&args[j], "COUNT") && j + 1 < args.len() {
            // LONG_MAX / max(sizeof(streamID), attempts factor 10)
            let max = i64::MAX / 16;
            count = match parse_i64(&args[j + 1]) {
                Some(n) if (1..=max).contains(&n) => n,
                _ => return Err(AUTOCLAIM_COUNT.into()),
            };
            j += 1;
        } else if is(&args[j], "JUSTID") {
            justid = true;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    let has = stream_read(ctx, key)?.is_some_and(|s| s.groups.contains_key(&group_name[..]));
    if !has {
        return Err(no_key_or_group(key, group_name, ""));
    }
    if autoclaim_buffer_fails(count, ctx.srv.host.total_system_memory) {
        return Err(AUTOCLAIM_TOO_HIGH.into());
    }
    let Some(Value::Stream(stream)) = ctx.lookup_write_untouched(key).map(|e| &mut e.value) else {
        return Ok(());
    };
    let stream: &mut Stream = stream;
    let Some(mut group) = stream.groups.remove(&group_name[..]) else {
        return Ok(());
    };
    let mut attempts = count.saturating_mul(10);
    let candidates: Vec<StreamId> = group
        .pending
        .range(start..)
        .map(|(id, _)| *id)
        .take(
            usize::try_from(attempts)
                .unwrap_or(usize::MAX)
                .saturating_add(1),
        )
        .collect();
    let mut claimed: Vec<(StreamId, Option<Entry>)> = Vec::new();
    let mut deleted: Vec<StreamId> = Vec::new();
    let mut effects: Vec<(Vec<u8>, StreamId, (u64, u64))> = Vec::new();
    let mut created = false;
    let mut next = 0;
    while attempts > 0 && count > 0 && next < candidates.len() {
        attempts -= 1;
        let id = candidates[next];
        next += 1;
        let Some(pe) = group.pending.get(&id).cloned() else {
            continue;
        };
        let Some(entry) = stream.get(id) else {
            effects.push((
                pe.consumer.clone(),
                id,
                (pe.delivery_time, pe.delivery_count),
            ));
            group.ack(id);
            deleted.push(id);
            count -= 1;
            continue;
        };
        if min_idle != 0 && ((now as i64).wrapping_sub(pe.delivery_time as i64)) < min_idle {
            continue;
        }
        let (_, new) = group.consumer_or_create(consumer, now);
        if let Some(c) = group.consumers.get_mut(&consumer[..]) {
            c.seen_time = now;
        }
        created |= new;
        let delivery_count = if justid {
            pe.delivery_count
        } else {
            pe.delivery_count.wrapping_add(1)
        };
        group.assign(id, consumer, now, delivery_count);
        effects.push((consumer.to_vec(), id, (now, delivery_count)));
        claimed.push((id, (!justid).then_some(entry)));
        count -= 1;
    }
    let cursor = candidates.get(next).copied().unwrap_or_default();
    let group_last = group.last_id;
    stream.groups.insert(group_name.to_vec(), group);
    // The XCLAIMs create the consumer on a replica: Redis propagates no
    // XGROUP CREATECONSUMER for it.
    if created {
        consumer_created(ctx, key);
    }
    let out = ctx.out();
    out.array(3);
    out.bulk(&cursor.to_bytes());
    out.array(claimed.len());
    for (id, entry) in &claimed {
        match entry {
            Some(e) => reply_entry(out, e),
            None => out.bulk(&id.to_bytes()),
        }
    }
    out.array(deleted.len());
    for id in &deleted {
        out.bulk(&id.to_bytes());
    }
    for (owner, id, pe) in &effects {
        propagate_xclaim(ctx, key, group_name, owner, *id, *pe, group_last);
        ctx.srv.dirty += 1;
    }
    ctx.prevent_propagation();
    Ok(())
}

/// Redis allocates COUNT stream IDs (16 bytes each) up front for the deleted IDs
/// and refuses the command when that allocation fails; the kernel refuses an
/// allocation beyond the machine's memory (overcommit's heuristic), which is the
/// line drawn here. Unknown memory (0) refuses nothing.
fn autoclaim_buffer_fails(count: i64, total_memory: u64) -> bool {
    let bytes = (count as u64).saturating_mul(16);
    total_memory != 0 && bytes > total_memory
}

// --- XINFO ----------------------------------------------------------------------------

/// The stream at XINFO's key: ERR no such key when missing.
fn xinfo_stream_of<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<&'c Stream, CmdError> {
    stream_read(ctx, key)?.ok_or(CmdError::Static(NO_SUCH_KEY))
}

/// XINFO CONSUMERS key group
fn xinfo_consumers(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let now = ctx.now;
    let mut out = std::mem::take(&mut ctx.client.out);
    let result = (|| {
        let stream = xinfo_stream_of(ctx, &args[2])?;
        let Some(group) = stream.groups.get(&args[3][..]) else {
            return Err(no_group_for_key(&args[3], &args[2]));
        };
        out.array(group.consumers.len());
        for (name, c) in &group.consumers {
            out.map(3);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"pending");
            out.int(c.pending.len() as i64);
            out.bulk(b"idle");
            out.int(((now as i64).wrapping_sub(c.seen_time as i64)).max(0));
        }
        Ok(())
    })();
    ctx.client.out = out;
    result
}

/// XINFO GROUPS key
fn xinfo_groups(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mut out = std::mem::take(&mut ctx.client.out);
    let result = (|| {
        let stream = xinfo_stream_of(ctx, &args[2])?;
        out.array(stream.groups.len());
        for (name, g) in &stream.groups {
            out.map(6);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"consumers");
            out.int(g.consumers.len() as i64);
            out.bulk(b"pending");
            out.int(g.pending.len() as i64);
            out.bulk(b"last-delivered-id");
            out.bulk(&g.last_id.to_bytes());
            out.bulk(b"entries-read");
            reply_entries_read(&mut out, g.entries_read);
            out.bulk(b"lag");
            reply_lag(&mut out, stream.group_lag(g));
        }
        Ok(())
    })();
    ctx.client.out = out;
    result
}

/// XINFO STREAM key [FULL [COUNT count]]
fn xinfo_stream(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mut out = std::mem::take(&mut ctx.client.out);
    let result = (|| {
        // The key is looked up before the options are read.
        let stream = xinfo_stream_of(ctx, &args[2])?;
        let (full, count) = parse_xinfo_stream_options(args)?;
        reply_stream_info(&mut out, stream, full, count);
        Ok(())
    })();
    ctx.client.out = out;
    result
}

/// `[FULL [COUNT count]]`: (full, count); COUNT defaults to 10, negative means 10.
fn parse_xinfo_stream_options(args: &[Bytes]) -> Result<(bool, usize), CmdError> {
    let opts = &args[3..];
    if opts.is_empty() {
        return Ok((false, 10));
    }
    if (opts.len() != 1 && opts.len() != 3) || !is(&opts[0], "FULL") {
        return Err(sub_syntax_error(args));
    }
    if opts.len() == 1 {
        return Ok((true, 10));
    }
    if !is(&opts[1], "COUNT") {
        return Err(sub_syntax_error(args));
    }
    let count = int(&opts[2])?;
    Ok((true, if count < 0 { 10 } else { count as usize }))
}

fn reply_stream_info(out: &mut ReplyBuf, s: &Stream, full: bool, count: usize) {
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(s.len() as i64);
    out.bulk(b"radix-tree-keys");
    out.int(s.block_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(s.rax_node_count() as i64);
    out.bulk(b"last-generated-id");
    out.bulk(&s.last_id.to_bytes());
    out.bulk(b"max-deleted-entry-id");
    out.bulk(&s.max_deleted_entry_id.to_bytes());
    out.bulk(b"entries-added");
    out.int(s.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    out.bulk(&s.first_id.to_bytes());
    if !full {
        out.bulk(b"groups");
        out.int(s.groups.len() as i64);
        for (name, rev) in [(&b"first-entry"[..], false), (&b"last-entry"[..], true)] {
            out.bulk(name);
            match s.range(StreamId::MIN, StreamId::MAX, rev, 1).first() {
                Some(e) => reply_entry(out, e),
                None => out.null(),
            }
        }
        return;
    }
    out.bulk(b"entries");
    reply_entries(out, &s.range(StreamId::MIN, StreamId::MAX, false, count));
    out.bulk(b"groups");
    out.array(s.groups.len());
    let limit = if count == 0 { usize::MAX } else { count };
    for (name, g) in &s.groups {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        out.bulk(&g.last_id.to_bytes());
        out.bulk(b"entries-read");
        reply_entries_read(out, g.entries_read);
        out.bulk(b"lag");
        reply_lag(out, s.group_lag(g));
        out.bulk(b"pel-count");
        out.int(g.pending.len() as i64);
        out.bulk(b"pending");
        let rows: Vec<_> = g.pending.iter().take(limit).collect();
        out.array(rows.len());
        for (id, pe) in rows {
            out.array(4);
            out.bulk(&id.to_bytes());
            out.bulk(&pe.consumer);
            out.int(pe.delivery_time as i64);
            out.int(pe.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            out.map(4);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(c.seen_time as i64);
            out.bulk(b"pel-count");
            out.int(c.pending.len() as i64);
            out.bulk(b"pending");
            let ids: Vec<_> = c.pending.iter().take(limit).collect();
            out.array(ids.len());
            for id in ids {
                let (t, n) = g
                    .pending
                    .get(id)
                    .map_or((0, 0), |pe| (pe.delivery_time, pe.delivery_count));
                out.array(3);
                out.bulk(&id.to_bytes());
                out.int(t as i64);
                out.int(n as i64);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Effects checked against what redis-server 7.0.15 writes to its AOF for the
    //! same commands (appendonlydir/*.incr.aof, times aside).

    use crate::command::testkit::{TestNode, T0};
    use crate::config::Config;

    fn node() -> TestNode {
        let mut t = TestNode::new(Config::default());
        t.node.set_propagation(true);
        t.connect(1);
        t
    }

    /// Runs `lines` and returns the effects they produced, one line per command
    /// propagated, MULTI/EXEC included.
    fn effects(t: &mut TestNode, lines: &[&str]) -> Vec<String> {
        for line in lines {
            let args: Vec<&str> = line.split(' ').collect();
            t.cmd(1, &args);
        }
        t.node
            .take_effects()
            .into_iter()
            .map(|e| {
                let words: Vec<String> = e
                    .argv
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                words.join(" ")
            })
            .collect()
    }

    #[test]
    fn xadd_propagates_the_id_it_made_and_the_exact_trim_it_did() {
        let mut t = node();
        let got = effects(
            &mut t,
            &[
                "XADD s * f v",
                &format!("XADD s {T0}-* f v"),
                "XADD s 1799999999999-5 f v",
                "XADD s MAXLEN ~ 1 1799999999999-6 a b",
                "XTRIM s MAXLEN ~ 0",
                "XTRIM s MAXLEN ~ 0",
            ],
        );
        let want = [
            format!("XADD s {T0}-0 f v"),
            format!("XADD s {T0}-1 f v"),
            "XADD s 1799999999999-5 f v".to_string(),
            // Nothing could go (one block): `~` became `=` and the length kept.
            "XADD s MAXLEN = 4 1799999999999-6 a b".to_string(),
            // The whole block went: XTRIM propagates what it left.
            "XTRIM s MAXLEN = 0".to_string(),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn an_aof_replay_accepts_the_exact_trim_with_limit_that_redis_writes() {
        let mut h = crate::command::testkit::Harness::new();
        let refused = "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n";
        assert_eq!(h.run("XADD s MAXLEN = 1 LIMIT 10 1-1 f v"), refused);
        h.srv.persist.loading = true;
        assert_eq!(h.run("XADD s MAXLEN = 1 LIMIT 10 1-1 f v"), "$3\r\n1-1\r\n");
        assert_eq!(h.run("XADD s MAXLEN = 1 LIMIT 1 1-2 f v"), "$3\r\n1-2\r\n");
        assert_eq!(h.run("XTRIM s MAXLEN = 0 LIMIT 1"), ":1\r\n");
    }

    #[test]
    fn group_reads_and_claims_propagate_as_redis_7_0_writes_them() {
        let mut t = node();
        let got = effects(
            &mut t,
            &[
                "XADD s 1-1 f v",
                "XADD s 2-0 f v",
                "XGROUP CREATE s g 0",
                "XREADGROUP GROUP g c1 COUNT 1 STREAMS s >",
                "XREADGROUP GROUP g c1 STREAMS s 0",
                "XREADGROUP GROUP g c2 STREAMS s >",
                "XREADGROUP GROUP g c3 STREAMS s >",
                "XCLAIM s g c4 0 1-1",
                "XAUTOCLAIM s g c5 0 0",
                "XGROUP CREATECONSUMER s g c9",
                "XGROUP DELCONSUMER s g c9",
                "XGROUP DELCONSUMER s g nope",
                "XACK s g 1-1",
            ],
        );
        let claim = |c: &str, id: &str, n: u32, last: &str| {
            format!("XCLAIM s g {c} 0 {id} TIME {T0} RETRYCOUNT {n} FORCE JUSTID LASTID {last}")
        };
        let want = [
            "XADD s 1-1 f v".to_string(),
            "XADD s 2-0 f v".to_string(),
            "XGROUP CREATE s g 0".to_string(),
            claim("c1", "1-1", 1, "1-1"),
            claim("c2", "2-0", 1, "2-0"),
            claim("c4", "1-1", 3, "2-0"),
            "MULTI".to_string(),
            claim("c5", "1-1", 4, "2-0"),
            claim("c5", "2-0", 2, "2-0"),
            "EXEC".to_string(),
            "XGROUP CREATECONSUMER s g c9".to_string(),
            "XGROUP DELCONSUMER s g c9".to_string(),
            "XACK s g 1-1".to_string(),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn noack_reads_and_lastid_propagate_the_group_position() {
        let mut t = node();
        let got = effects(
            &mut t,
            &[
                "XADD n 1-1 f v",
                "XADD n 1-2 f v",
                "XGROUP CREATE n g 0",
                "XREADGROUP GROUP g c NOACK STREAMS n >",
                "XGROUP SETID n g 0 ENTRIESREAD 5",
                "XCLAIM n g c 0 1-1 LASTID 1-5 FORCE",
                "XCLAIM n g c 0 1-9 LASTID 1-6",
                "XGROUP CREATE n g2 $ MKSTREAM",
            ],
        );
        let want = [
            "XADD n 1-1 f v".to_string(),
            "XADD n 1-2 f v".to_string(),
            "XGROUP CREATE n g 0".to_string(),
            "MULTI".to_string(),
            "XGROUP CREATECONSUMER n g c".to_string(),
            "XGROUP SETID n g 1-2 ENTRIESREAD 2".to_string(),
            "EXEC".to_string(),
            "XGROUP SETID n g 0 ENTRIESREAD 5".to_string(),
            format!("XCLAIM n g c 0 1-1 TIME {T0} RETRYCOUNT 2 FORCE JUSTID LASTID 1-5"),
            "XGROUP SETID n g 1-6 ENTRIESREAD 5".to_string(),
            // `$` goes as sent, as Redis propagates it.
            "XGROUP CREATE n g2 $ MKSTREAM".to_string(),
        ];
        assert_eq!(got, want);
    }
}
