//! Generic keyspace commands (Redis's db.c and object.c): DEL, UNLINK, EXISTS, TYPE,
//! RENAME, RENAMENX, KEYS, SCAN, RANDOMKEY, TOUCH, OBJECT, MOVE, COPY.

use bytes::Bytes;

use crate::config::notify;

use super::client::write_help;
use super::{args, Acl, CommandSpec, Flag, KeySpec};
use crate::config::{Config, MaxmemoryPolicy};
use crate::db::{self, Entry, Millis, Touch};
use crate::error::{
    CmdError, CmdResult, DB_INDEX_OUT_OF_RANGE, INVALID_CURSOR, NO_SUCH_KEY, SAME_OBJECT, SYNTAX,
};
use crate::node::Ctx;
use crate::server::Server;
use crate::util::glob::glob_match;
use crate::value::Value;

/// A database index (SELECT, MOVE) that does not fit Redis's C int.
pub(crate) const NOT_INT32: &str =
    "ERR value is out of range, value must between -2147483648 and 2147483647";
const IDLETIME_UNDER_LFU: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
const FREQ_WITHOUT_LFU: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/// Integers Redis keeps as shared objects (OBJ_SHARED_INTEGERS): 0 up to this, excluded.
const SHARED_INTEGERS_END: i64 = 10_000;
/// OBJECT REFCOUNT of a shared object (OBJ_SHARED_REFCOUNT, C's INT_MAX).
const SHARED_REFCOUNT: i64 = i32::MAX as i64;
/// SCAN's COUNT when none is given.
const SCAN_COUNT_DEFAULT: u64 = 10;
/// SCAN visits at most COUNT times this many buckets per call, as Redis does, so a
/// sparse table cannot make one call walk it all.
const SCAN_BUCKETS_PER_COUNT: u64 = 10;

/// [`KeySpec::range`] under the name the sets and zsets branches import from here.
#[allow(dead_code)]
pub(crate) const fn range_key_spec(
    flags: &'static [&'static str],
    index: i32,
    last_key: i32,
) -> KeySpec {
    KeySpec::range(flags, index, last_key)
}

const MULTI_KEY_TIPS: &[&str] = &["request_policy:multi_shard", "response_policy:agg_sum"];

const OBJECT_KEY: &[KeySpec] = &[KeySpec::range(&["RO"], 2, 0)];

/// One OBJECT subcommand that reads the key in argument 2.
const fn object_sub(
    name: &'static str,
    since: &'static str,
    summary: &'static str,
    handler: super::Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity: 3,
        flags: &[Flag::Readonly],
        acl: &[Acl::Keyspace],
        first_key: 2,
        last_key: 2,
        step: 1,
        key_specs: OBJECT_KEY,
        since,
        summary,
        tips: &["nondeterministic_output"],
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "del",
        arity: -2,
        flags: &[Flag::Write],
        acl: &[Acl::Keyspace],
        first_key: 1,
        last_key: -1,
        step: 1,
        key_specs: &[KeySpec::range(&["RM", "delete"], 1, -1)],
        summary: "Deletes keys and returns how many existed.",
        complexity: "O(N) for N keys, plus the size of each collection removed.",
        tips: MULTI_KEY_TIPS,
        handler: Some(del),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "unlink",
        arity: -2,
        flags: &[Flag::Write, Flag::Fast],
        acl: &[Acl::Keyspace],
        first_key: 1,
        last_key: -1,
        step: 1,
        key_specs: &[KeySpec::range(&["RM", "delete"], 1, -1)],
        since: "4.0.0",
        summary: "Deletes keys, reclaiming their memory lazily.",
        complexity: "O(1) per key; freeing memory is deferred.",
        tips: MULTI_KEY_TIPS,
        handler: Some(unlink),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "exists",
        arity: -2,
        flags: &[Flag::Readonly, Flag::Fast],
        acl: &[Acl::Keyspace],
        first_key: 1,
        last_key: -1,
        step: 1,
        key_specs: &[KeySpec::range(&["RO"], 1, -1)],
        summary: "Counts how many of the given keys exist.",
        complexity: "O(N) for N keys.",
        tips: MULTI_KEY_TIPS,
        handler: Some(exists),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "type",
        arity: 2,
        flags: &[Flag::Readonly, Flag::Fast],
        acl: &[Acl::Keyspace],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_specs: &[KeySpec::first(&["RO"])],
        summary: "Returns the type of the value at a key.",
        handler: Some(type_),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "rename",
        arity: 3,
        flags: &[Flag::Write],
        acl: &[Acl::Keyspace],
        first_key: 1,
        last_key: 2,
        step: 1,
        key_specs: &[
            KeySpec::first(&["RW", "access", "delete"]),
            KeySpec::range(&["OW", "update"], 2, 0),
        ],
        summary: "Renames a key, replacing any key with the new name.",
        handler: Some(rename),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "renamenx",
        arity: 3,
        flags: &[Flag::Write, Flag::Fast],
        acl: &[Acl::Keyspace],
        first_key: 1,
        last_key: 2,
        step: 1,
        key_specs: &[
            KeySpec::first(&["RW", "access", "delete"]),
            KeySpec::range(&["OW", "insert"], 2, 0),
        ],
        summary: "Renames a key unless the new name is taken.",
        handler: Some(renamenx),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "keys",
        arity: 2,
        flags: &[Flag::Readonly],
        acl: &[Acl::Keyspace, Acl::Dangerous],
        summary: "Lists every key matching a glob pattern.",
        complexity: "O(N) for N keys in the database.",
        tips: &["request_policy:all_shards", "nondeterministic_output_order"],
        handler: Some(keys),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "scan",
        arity: -2,
        flags: &[Flag::Readonly],
        acl: &[Acl::Keyspace],
        since: "2.8.0",
        summary: "Walks the keyspace a few keys per call with a cursor.",
        complexity: "O(1) per call, O(N) for a whole iteration.",
        tips: &["nondeterministic_output", "request_policy:special"],
        handler: Some(scan),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "randomkey",
        arity: 1,
        flags: &[Flag::Readonly],
        acl: &[Acl::Keyspace],
        summary: "Returns a random key name.",
        tips: &["request_policy:all_shards", "nondeterministic_output"],
        handler: Some(randomkey),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "touch",
        arity: -2,
        flags: &[Flag::Readonly, Flag::Fast],
        acl: &[Acl::Keyspace],
        first_key: 1,
        last_key: -1,
        step: 1,
        key_specs: &[KeySpec::range(&["RO"], 1, -1)],
        since: "3.2.1",
        summary: "Refreshes the access time of keys and counts those that exist.",
        complexity: "O(N) for N keys.",
        tips: MULTI_KEY_TIPS,
        handler: Some(touch),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "object",
        arity: -2,
        since: "2.2.3",
        summary: "Inspects how a key's value is stored.",
        complexity: "Depends on the subcommand.",
        subcommands: &[
            object_sub(
                "encoding",
                "2.2.3",
                "Returns the internal encoding of a value.",
                object_encoding,
            ),
            object_sub(
                "freq",
                "4.0.0",
                "Returns the LFU access counter of a key.",
                object_freq,
            ),
            CommandSpec {
                name: "help",
                arity: 2,
                flags: &[Flag::Loading, Flag::Stale],
                acl: &[Acl::Keyspace],
                since: "6.2.0",
                summary: "Lists the OBJECT subcommands.",
                handler: Some(object_help),
                ..CommandSpec::DEFAULT
            },
            object_sub(
                "idletime",
                "2.2.3",
                "Returns the seconds since a key was last accessed.",
                object_idletime,
            ),
            object_sub(
                "refcount",
                "2.2.3",
                "Returns the reference count of a value.",
                object_refcount,
            ),
        ],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "move",
        arity: 3,
        flags: &[Flag::Write, Flag::Fast],
        acl: &[Acl::Keyspace],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_specs: &[KeySpec::first(&["RW", "access", "update"])],
        summary: "Moves a key to another database.",
        handler: Some(move_),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "copy",
        arity: -3,
        flags: &[Flag::Write, Flag::Denyoom],
        acl: &[Acl::Keyspace],
        first_key: 1,
        last_key: 2,
        step: 1,
        key_specs: &[
            KeySpec::first(&["RO", "access"]),
            KeySpec::range(&["OW", "update"], 2, 0),
        ],
        since: "6.2.0",
        summary: "Copies a key's value, optionally to another database.",
        complexity: "O(N) for a collection of N items, O(1) for a string.",
        handler: Some(copy),
        ..CommandSpec::DEFAULT
    },
];

// ---------------------------------------------------------------------------------
// Lookups shared with the expire family

/// Looks a key up for reading without refreshing its access data, but counting a
/// keyspace hit or miss and expiring it if due (Redis's lookupKeyReadWithFlags with
/// LOOKUP_NOTOUCH): TYPE, EXISTS, TTL and OBJECT read keys this way.
pub(crate) fn lookup_read_notouch<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Option<&'c Entry> {
    lookup_notouch(ctx, key, true)
}

/// OBJECT's lookup: as [`lookup_read_notouch`] but a miss fires no `keymiss` event
/// (Redis's LOOKUP_NONOTIFY).
fn lookup_for_object<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Option<&'c Entry> {
    lookup_notouch(ctx, key, false)
}

fn lookup_notouch<'c>(ctx: &'c mut Ctx<'_>, key: &[u8], notify_miss: bool) -> Option<&'c Entry> {
    let policy = ctx.srv.access_policy();
    let srv = &mut *ctx.srv;
    let stats = &mut srv.keyspace_stats;
    let found = srv.dbs[ctx.client.db].lookup_read(key, ctx.now, Touch::No, policy, stats, 0);
    if found.is_some() {
        stats.keyspace_hits += 1;
    } else {
        stats.keyspace_misses += 1;
        let flags = if notify_miss {
            srv.config.notify_keyspace_events
        } else {
            0
        };
        let db = ctx.client.db;
        crate::notify::queue_in(flags, &mut srv.pubsub, db, notify::KEY_MISS, "keymiss", key);
    }
    found
}

// ---------------------------------------------------------------------------------
// DEL, UNLINK, EXISTS, TYPE, TOUCH

/// DEL key [key ...]
fn del(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    delete_keys(ctx, &args[1..]);
    Ok(())
}

/// UNLINK key [key ...]: DEL; Ember frees memory at once either way.
fn unlink(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    delete_keys(ctx, &args[1..]);
    Ok(())
}

/// Deletes the live keys among `keys` (expiring the due ones first) and replies
/// with how many went.
fn delete_keys(ctx: &mut Ctx<'_>, keys: &[Bytes]) {
    let mut deleted = 0;
    for key in keys {
        if ctx.lookup_peek(key).is_some() {
            ctx.db().remove(key);
            ctx.modified(key);
            ctx.notify(notify::GENERIC, "del", key);
            deleted += 1;
        }
    }
    ctx.out().int(deleted);
}

/// EXISTS key [key ...]: a key named twice counts twice.
fn exists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mut count = 0;
    for key in &args[1..] {
        if lookup_read_notouch(ctx, key).is_some() {
            count += 1;
        }
    }
    ctx.out().int(count);
    Ok(())
}

/// TYPE key
fn type_(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let name = type_name(lookup_read_notouch(ctx, &args[1]));
    ctx.out().status(name);
    Ok(())
}

/// The name TYPE and SCAN TYPE use; "none" for a missing key.
fn type_name(entry: Option<&Entry>) -> &'static str {
    entry.map_or("none", |e| e.value.value_type().name())
}

/// TOUCH key [key ...]
fn touch(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mut count = 0;
    for key in &args[1..] {
        if ctx.lookup_read(key).is_some() {
            count += 1;
        }
    }
    ctx.out().int(count);
    Ok(())
}

// ---------------------------------------------------------------------------------
// RENAME, RENAMENX, MOVE, COPY

/// RENAME key newkey
fn rename(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    rename_generic(ctx, &args[1], &args[2], false)
}

/// RENAMENX key newkey
fn renamenx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    rename_generic(ctx, &args[1], &args[2], true)
}

/// Renaming keeps the value, its deadline and its access data, as Redis moves the
/// object itself. Renaming a key to itself only checks that it exists.
fn rename_generic(ctx: &mut Ctx<'_>, src: &[u8], dst: &[u8], nx: bool) -> CmdResult {
    if ctx.lookup_write(src).is_none() {
        return Err(CmdError::Static(NO_SUCH_KEY));
    }
    if src == dst || (nx && ctx.lookup_write(dst).is_some()) {
        reply_rename(ctx, nx, false);
        return Ok(());
    }
    // RENAME replaces the destination; looking it up first expires it if due.
    if ctx.lookup_write(dst).is_some() {
        ctx.db().remove(dst);
    }
    let db = ctx.client.db;
    let entry = ctx.db().remove(src).ok_or(CmdError::Static(NO_SUCH_KEY))?;
    reinsert(ctx.srv, db, dst, *entry, ctx.now);
    ctx.modified(src);
    ctx.modified(dst);
    ctx.notify(notify::GENERIC, "rename_from", src);
    ctx.notify(notify::GENERIC, "rename_to", dst);
    ctx.signal_key_ready(dst);
    reply_rename(ctx, nx, true);
    Ok(())
}

/// RENAME answers +OK; RENAMENX answers whether it renamed.
fn reply_rename(ctx: &mut Ctx<'_>, nx: bool, renamed: bool) {
    match (nx, renamed) {
        (false, _) => ctx.out().ok(),
        (true, renamed) => ctx.out().int(i64::from(renamed)),
    }
}

/// Puts a removed entry back under `key` in database `db`, keeping its deadline and
/// its LRU/LFU data.
fn reinsert(srv: &mut Server, db: usize, key: &[u8], entry: Entry, now: Millis) {
    let policy = srv.access_policy();
    let expire_at = entry.expire_at();
    let Entry { value, access, .. } = entry;
    let db = &mut srv.dbs[db];
    db.insert_new(key, value, expire_at, now, policy);
    let stats = &mut srv.keyspace_stats;
    if let Some(e) = db.lookup(key, now, Touch::No, policy, stats, 0) {
        e.access = access;
    }
}

/// MOVE key db
fn move_(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let dst = db_index(ctx.srv, &args[2])?;
    let src = ctx.client.db;
    if dst == src {
        return Err(CmdError::Static(SAME_OBJECT));
    }
    if ctx.lookup_write(key).is_none() || lookup_write_in(ctx, dst, key) {
        ctx.out().int(0);
        return Ok(());
    }
    let entry = ctx.db().remove(key).ok_or(CmdError::Static(NO_SUCH_KEY))?;
    reinsert(ctx.srv, dst, key, *entry, ctx.now);
    // Redis signals the key in both databases, counting one change.
    ctx.modified(key);
    ctx.touch_watched(dst, key);
    ctx.notify_in(src, notify::GENERIC, "move_from", key);
    ctx.notify_in(dst, notify::GENERIC, "move_to", key);
    ctx.srv.blocking.signal(dst, key);
    ctx.out().int(1);
    Ok(())
}

/// A database number argument: an int (`ERR value is not an integer...`), then a
/// configured database (`ERR DB index is out of range`).
fn db_index(srv: &Server, arg: &[u8]) -> Result<usize, CmdError> {
    let n = args::int(arg)?;
    if i32::try_from(n).is_err() {
        return Err(CmdError::Static(NOT_INT32));
    }
    match usize::try_from(n) {
        Ok(i) if i < srv.dbs.len() => Ok(i),
        _ => Err(CmdError::Static(DB_INDEX_OUT_OF_RANGE)),
    }
}

/// Whether `key` exists in database `db`, expiring it there if due and refreshing
/// its access data (lookupKeyWrite on another database).
fn lookup_write_in(ctx: &mut Ctx<'_>, db: usize, key: &[u8]) -> bool {
    let policy = ctx.srv.access_policy();
    let draw = ctx.srv.access_draw();
    let srv = &mut *ctx.srv;
    let stats = &mut srv.keyspace_stats;
    srv.dbs[db]
        .lookup(key, ctx.now, Touch::Yes, policy, stats, draw)
        .is_some()
}

/// What COPY's options ask for.
struct CopyOptions {
    db: usize,
    replace: bool,
}

/// `[DB destination-db] [REPLACE]`, in any order, each possibly repeated.
fn parse_copy_options(ctx: &Ctx<'_>, opts: &[Bytes]) -> Result<CopyOptions, CmdError> {
    let mut parsed = CopyOptions {
        db: ctx.client.db,
        replace: false,
    };
    let mut i = 0;
    while i < opts.len() {
        if args::is(&opts[i], "REPLACE") {
            parsed.replace = true;
        } else if args::is(&opts[i], "DB") && i + 1 < opts.len() {
            parsed.db = db_index(ctx.srv, &opts[i + 1])?;
            i += 1;
        } else {
            return Err(CmdError::Static(SYNTAX));
        }
        i += 1;
    }
    Ok(parsed)
}

/// COPY source destination [DB destination-db] [REPLACE]
fn copy(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (src, dst) = (&args[1], &args[2]);
    let opts = parse_copy_options(ctx, &args[3..])?;
    if opts.db == ctx.client.db && src == dst {
        return Err(CmdError::Static(SAME_OBJECT));
    }
    let Some((value, expire_at)) = ctx
        .lookup_read(src)
        .map(|e| (e.value.clone(), e.expire_at()))
    else {
        ctx.out().int(0);
        return Ok(());
    };
    if lookup_write_in(ctx, opts.db, dst) {
        if !opts.replace {
            ctx.out().int(0);
            return Ok(());
        }
        ctx.srv.dbs[opts.db].remove(dst);
    }
    // The copy is a new object: fresh access data, as Redis's dup*Object gives.
    let policy = ctx.srv.access_policy();
    ctx.srv.dbs[opts.db].insert_new(dst, value, expire_at, ctx.now, policy);
    ctx.modified_in(opts.db, dst);
    ctx.notify_in(opts.db, notify::GENERIC, "copy_to", dst);
    ctx.srv.blocking.signal(opts.db, dst);
    ctx.out().int(1);
    Ok(())
}

// ---------------------------------------------------------------------------------
// KEYS, SCAN, RANDOMKEY

/// KEYS pattern: expired keys are left out but not deleted (Redis 7.0's keysCommand).
/// The pattern `*` alone matches every key, the empty one included.
fn keys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let pattern = &args[1][..];
    let all = pattern == b"*";
    let now = ctx.now;
    let db = &ctx.srv.dbs[ctx.client.db];
    let matched: Vec<&[u8]> = db
        .iter()
        .filter(|e| all || glob_match(pattern, e.key(), false))
        .filter(|e| !e.is_expired_at(now))
        .map(Entry::key)
        .collect();
    let out = &mut ctx.client.out;
    out.array(matched.len());
    for key in matched {
        out.bulk(key);
    }
    Ok(())
}

/// Parses a SCAN cursor as Redis's strtoul-based check does: the argument read as a
/// C string (up to any NUL), an optional sign, then decimal digits to the end, within
/// 64 bits. A minus sign negates modulo 2^64, and the empty string is cursor 0.
pub(crate) fn parse_scan_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let invalid = CmdError::Static(INVALID_CURSOR);
    let arg = arg.split(|&b| b == 0).next().unwrap_or_default();
    let (negative, digits) = match arg.split_first() {
        None => return Ok(0),
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        Some(_) => (false, arg),
    };
    if digits.is_empty() {
        return Err(invalid);
    }
    let mut n: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(invalid);
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or(invalid.clone())?;
    }
    Ok(if negative { n.wrapping_neg() } else { n })
}

/// The options SCAN and its per-collection cousins take.
pub(crate) struct ScanOptions<'a> {
    /// `None` when absent or `*`, which Redis treats as no filter at all.
    pub pattern: Option<&'a [u8]>,
    pub count: u64,
    /// SCAN's TYPE filter (only when `allow_type`).
    pub type_name: Option<&'a [u8]>,
}

/// `[MATCH pattern] [COUNT count] [TYPE type]`, in any order, the last one winning.
pub(crate) fn parse_scan_options(
    opts: &[Bytes],
    allow_type: bool,
) -> Result<ScanOptions<'_>, CmdError> {
    let mut parsed = ScanOptions {
        pattern: None,
        count: SCAN_COUNT_DEFAULT,
        type_name: None,
    };
    for pair in opts.chunks(2) {
        let [name, value] = pair else {
            return Err(CmdError::Static(SYNTAX));
        };
        if args::is(name, "COUNT") {
            parsed.count = u64::try_from(args::int(value)?)
                .ok()
                .filter(|&n| n >= 1)
                .ok_or(CmdError::Static(SYNTAX))?;
        } else if args::is(name, "MATCH") {
            parsed.pattern = (&value[..] != b"*").then_some(&value[..]);
        } else if args::is(name, "TYPE") && allow_type {
            parsed.type_name = Some(&value[..]);
        } else {
            return Err(CmdError::Static(SYNTAX));
        }
    }
    Ok(parsed)
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
fn scan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let cursor = parse_scan_cursor(&args[1])?;
    let opts = parse_scan_options(&args[2..], true)?;
    let (next, mut found) = scan_buckets(ctx.db(), cursor, opts.count);
    found.retain(|key| opts.pattern.is_none_or(|p| glob_match(p, key, false)));
    if let Some(wanted) = opts.type_name {
        found.retain(|key| {
            type_name(lookup_read_notouch(ctx, key))
                .as_bytes()
                .eq_ignore_ascii_case(wanted)
        });
    }
    // A key the TYPE filter already expired is gone, and (as in Redis) stays listed.
    found.retain(|key| ctx.db().peek(key).is_none() || ctx.lookup_peek(key).is_some());
    let out = ctx.out();
    out.array(2);
    // Redis sends the unsigned cursor through a signed formatter.
    out.bulk_i64(next as i64);
    out.array(found.len());
    for key in &found {
        out.bulk(key);
    }
    Ok(())
}

/// Visits buckets from `cursor` until COUNT keys are collected, the iteration ends,
/// or COUNT*10 more buckets were visited. Returns the next cursor and the keys.
fn scan_buckets(db: &db::Db, cursor: u64, count: u64) -> (u64, Vec<Vec<u8>>) {
    let mut found = Vec::new();
    // An empty table ends the iteration whatever the cursor, as Redis's dictScan.
    if db.is_empty() {
        return (0, found);
    }
    let next = scan_with_budget(cursor, count, &mut found, |cursor, found| {
        db.scan(cursor, |e| found.push(e.key().to_vec()))
    });
    (next, found)
}

/// The bucket walk of every SCAN form (Redis's scanGenericCommand): `step` visits
/// the bucket at a cursor, pushing what it finds, and returns the next cursor. The
/// walk stops when the iteration ends, `count` items are found, or `count` times
/// [`SCAN_BUCKETS_PER_COUNT`] more buckets were visited; returns the next cursor.
pub(crate) fn scan_with_budget<T>(
    mut cursor: u64,
    count: u64,
    found: &mut Vec<T>,
    mut step: impl FnMut(u64, &mut Vec<T>) -> u64,
) -> u64 {
    let mut budget = count.saturating_mul(SCAN_BUCKETS_PER_COUNT);
    loop {
        cursor = step(cursor, found);
        if cursor == 0 || budget == 0 || found.len() as u64 >= count {
            return cursor;
        }
        budget -= 1;
    }
}

/// RANDOMKEY: draws keys until one is live, deleting the expired ones it meets;
/// each miss removes a key, so this ends within len+1 draws.
fn randomkey(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    let draws_max = ctx.db().len() + 1;
    for _ in 0..draws_max {
        let Some(key) = random_key(ctx) else {
            break;
        };
        if ctx.lookup_peek(&key).is_some() {
            ctx.out().bulk(&key);
            return Ok(());
        }
    }
    ctx.out().null();
    Ok(())
}

/// A random key of the selected database. One draw from the commands stream seeds
/// the bucket and chain picks, which cannot borrow the server's generator while the
/// database is borrowed.
fn random_key(ctx: &mut Ctx<'_>) -> Option<Vec<u8>> {
    let mut state = ctx.srv.random_below(u64::MAX);
    let db = &ctx.srv.dbs[ctx.client.db];
    let entry = db.random_entry(|n| {
        state = splitmix64(state);
        state % n.max(1)
    });
    entry.map(|e| e.key().to_vec())
}

/// One step of the SplitMix64 generator.
fn splitmix64(state: u64) -> u64 {
    let mut z = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

// ---------------------------------------------------------------------------------
// OBJECT

/// OBJECT ENCODING key
fn object_encoding(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    match lookup_for_object(ctx, &args[2]).map(|e| e.value.encoding_name()) {
        Some(name) => ctx.out().bulk(name.as_bytes()),
        None => ctx.out().null(),
    }
    Ok(())
}

/// OBJECT REFCOUNT key: small integers are shared objects in Redis, with the shared
/// count, unless an LRU/LFU policy with a memory limit forbids sharing.
fn object_refcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let shared_ok = shares_integers(&ctx.srv.config);
    let refcount = lookup_for_object(ctx, &args[2]).map(|e| refcount(&e.value, shared_ok));
    match refcount {
        Some(n) => ctx.out().int(n),
        None => ctx.out().null(),
    }
    Ok(())
}

/// The refcount Redis reports for a value (OBJECT REFCOUNT, DEBUG OBJECT): the
/// shared count for a small integer when `shared_ok`, else 1.
pub(crate) fn refcount(value: &Value, shared_ok: bool) -> i64 {
    match *value {
        Value::Int(n) if shared_ok && (0..SHARED_INTEGERS_END).contains(&n) => SHARED_REFCOUNT,
        _ => 1,
    }
}

/// Whether Redis would store a small integer as a shared object under this config:
/// not once maxmemory evicts by LRU or LFU, since shared objects cannot carry
/// per-key access data.
pub(crate) fn shares_integers(config: &Config) -> bool {
    let policy_tracks_objects = config.maxmemory_policy.is_lfu()
        || matches!(
            config.maxmemory_policy,
            MaxmemoryPolicy::VolatileLru | MaxmemoryPolicy::AllkeysLru
        );
    config.maxmemory == 0 || !policy_tracks_objects
}

/// OBJECT IDLETIME key: seconds since last access (not tracked under LFU).
fn object_idletime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let now = ctx.now;
    let lfu = ctx.srv.config.maxmemory_policy.is_lfu();
    let Some(access) = lookup_for_object(ctx, &args[2]).map(|e| e.access) else {
        ctx.out().null();
        return Ok(());
    };
    if lfu {
        return Err(CmdError::Static(IDLETIME_UNDER_LFU));
    }
    ctx.out().int((db::idle_ms(access, now) / 1000) as i64);
    Ok(())
}

/// OBJECT FREQ key: the LFU counter after decay (only tracked under LFU).
fn object_freq(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let now = ctx.now;
    let lfu = ctx.srv.config.maxmemory_policy.is_lfu();
    let decay = ctx.srv.config.lfu_decay_time;
    let Some(access) = lookup_for_object(ctx, &args[2]).map(|e| e.access) else {
        ctx.out().null();
        return Ok(());
    };
    if !lfu {
        return Err(CmdError::Static(FREQ_WITHOUT_LFU));
    }
    ctx.out()
        .int(i64::from(db::lfu_counter(access, now, decay)));
    Ok(())
}

/// OBJECT HELP: the subcommands, laid out as every Redis HELP reply is (a header line,
/// then each syntax line followed by indented description lines, then HELP).
const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Name the internal representation that stores the value at <key>",
    "    (for example int, embstr or raw for strings).",
    "FREQ <key>",
    "    Report the logarithmic access-frequency counter of <key>; only kept",
    "    while an LFU maxmemory policy is in use.",
    "IDLETIME <key>",
    "    Report about how many seconds passed since <key> was last read or",
    "    written; not kept while an LFU maxmemory policy is in use.",
    "REFCOUNT <key>",
    "    Report how many references point at the value stored at",
    "    <key>.",
    "HELP",
    "    Print this help.",
];

/// OBJECT HELP
fn object_help(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    write_help(ctx, OBJECT_HELP);
    Ok(())
}

/// The handler-level test harness at the path the family tests first used, kept
/// for branches still importing it from here; new tests use `command::testkit`.
#[cfg(test)]
#[allow(unused_imports)]
pub(crate) mod harness {
    pub(crate) use crate::command::testkit::{Harness, T0 as START};
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::command::testkit::{Harness, T0};
    use crate::config::MaxmemoryPolicy;

    fn lfu_harness() -> Harness {
        Harness::with_config(Config {
            maxmemory_policy: MaxmemoryPolicy::AllkeysLfu,
            ..Config::default()
        })
    }

    /// The keys of a SCAN reply, and its next cursor.
    fn scan_reply(reply: &str) -> (u64, Vec<String>) {
        let lines: Vec<&str> = reply.split("\r\n").collect();
        let cursor = lines[2].parse().unwrap();
        let keys = lines[4..]
            .chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| c[1].to_owned())
            .collect();
        (cursor, keys)
    }

    #[test]
    fn del_counts_each_live_key_once_and_skips_expired_ones() {
        let mut h = Harness::new();
        h.set("a", "1", None);
        h.set("b", "1", Some(T0 - 1));
        assert_eq!(h.run("DEL a a b missing"), ":1\r\n");
        assert_eq!(h.srv.dbs[0].len(), 0);
        assert_eq!(h.srv.keyspace_stats.expired_keys, 1);
        assert_eq!(h.srv.dirty, 1);
    }

    #[test]
    fn exists_counts_a_key_named_twice_twice() {
        let mut h = Harness::new();
        h.set("a", "1", None);
        assert_eq!(h.run("EXISTS a a nope"), ":2\r\n");
        assert_eq!(h.srv.keyspace_stats.keyspace_hits, 2);
        assert_eq!(h.srv.keyspace_stats.keyspace_misses, 1);
    }

    #[test]
    fn type_of_a_missing_or_expired_key_is_none() {
        let mut h = Harness::new();
        h.set("s", "v", None);
        h.set("gone", "v", Some(T0 - 1));
        assert_eq!(h.run("TYPE s"), "+string\r\n");
        assert_eq!(h.run("TYPE gone"), "+none\r\n");
        assert_eq!(h.run("TYPE nope"), "+none\r\n");
    }

    #[test]
    fn rename_moves_value_deadline_and_access_data() {
        let mut h = lfu_harness();
        h.set("src", "v", Some(T0 + 5_000));
        h.set("dst", "old", None);
        // The lookup of the source counts as an access (5 -> 6), and the renamed key
        // keeps that counter rather than starting afresh at 5.
        assert_eq!(h.run("RENAME src dst"), "+OK\r\n");
        assert_eq!(h.run("OBJECT FREQ dst"), ":6\r\n");
        let moved = h.srv.dbs[0].peek(b"dst").unwrap();
        assert_eq!(moved.expire_at(), Some(T0 + 5_000));
        assert_eq!(moved.value, Value::from_bytes(b"v"));
        assert!(h.srv.dbs[0].peek(b"src").is_none());
        assert_eq!(h.srv.dbs[0].volatile_len(), 1);
    }

    #[test]
    fn rename_errors_and_same_name_cases() {
        let mut h = Harness::new();
        assert_eq!(h.run("RENAME nope x"), "-ERR no such key\r\n");
        assert_eq!(h.run("RENAMENX nope nope"), "-ERR no such key\r\n");
        h.set("k", "v", None);
        assert_eq!(h.run("RENAME k k"), "+OK\r\n");
        assert_eq!(h.run("RENAMENX k k"), ":0\r\n");
        h.set("taken", "v", None);
        assert_eq!(h.run("RENAMENX k taken"), ":0\r\n");
        h.set("expired", "v", Some(T0 - 1));
        assert_eq!(h.run("RENAMENX k expired"), ":1\r\n");
    }

    #[test]
    fn keys_star_matches_the_empty_key_and_skips_expired_keys_without_deleting() {
        let mut h = Harness::new();
        h.set("", "empty", None);
        h.set("a", "1", None);
        h.set("dead", "1", Some(T0 - 1));
        let reply = h.run("KEYS *");
        assert!(reply.starts_with("*2\r\n"), "{reply}");
        assert!(reply.contains("$0\r\n\r\n"));
        assert_eq!(h.run("KEYS ?"), "*1\r\n$1\r\na\r\n");
        assert_eq!(h.srv.dbs[0].len(), 3, "KEYS deletes nothing");
    }

    #[test]
    fn scan_cursor_parses_like_strtoul() {
        assert_eq!(parse_scan_cursor(b"").ok(), Some(0));
        assert_eq!(parse_scan_cursor(b"+7").ok(), Some(7));
        assert_eq!(parse_scan_cursor(b"-1").ok(), Some(u64::MAX));
        assert_eq!(parse_scan_cursor(b"-0").ok(), Some(0));
        assert_eq!(
            parse_scan_cursor(b"18446744073709551615").ok(),
            Some(u64::MAX)
        );
        assert_eq!(
            parse_scan_cursor(b"12\x00junk").ok(),
            Some(12),
            "a C string"
        );
        assert_eq!(parse_scan_cursor(b"\x00").ok(), Some(0));
        for bad in [
            &b"18446744073709551616"[..],
            b" 1",
            b"1 ",
            b"+",
            b"-",
            b"0x1",
        ] {
            assert!(parse_scan_cursor(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn scan_option_errors_match_redis() {
        let mut h = Harness::new();
        assert_eq!(h.run("SCAN x"), "-ERR invalid cursor\r\n");
        assert_eq!(h.run("SCAN 0 COUNT 0"), "-ERR syntax error\r\n");
        assert_eq!(h.run("SCAN 0 COUNT -1"), "-ERR syntax error\r\n");
        assert_eq!(
            h.run("SCAN 0 COUNT x"),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(h.run("SCAN 0 MATCH"), "-ERR syntax error\r\n");
        assert_eq!(h.run("SCAN 0 FOO bar"), "-ERR syntax error\r\n");
        assert_eq!(h.run("SCAN 0"), "*2\r\n$1\r\n0\r\n*0\r\n");
    }

    #[test]
    fn scan_returns_every_key_present_throughout_despite_writes_between_calls() {
        let mut h = Harness::new();
        for i in 0..200 {
            h.set(&format!("stay{i}"), "v", None);
        }
        let mut seen = BTreeSet::new();
        let mut cursor = 0;
        let mut calls = 0;
        loop {
            let (next, keys) = scan_reply(&h.run(&format!("SCAN {cursor} COUNT 7")));
            seen.extend(keys);
            calls += 1;
            // Grow the table several times over, then shrink it back, mid-iteration.
            if calls == 3 {
                for i in 0..3000 {
                    h.set(&format!("tmp{i}"), "v", None);
                }
            }
            if calls == 40 {
                let keys: Vec<String> = (0..3000).map(|i| format!("tmp{i} ")).collect();
                h.run(&format!("DEL {}", keys.concat().trim_end()));
                h.srv.dbs[0].shrink_tables();
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
            assert!(calls < 10_000, "SCAN never finished");
        }
        for i in 0..200 {
            assert!(seen.contains(&format!("stay{i}")), "stay{i} missed");
        }
    }

    #[test]
    fn scan_filters_by_pattern_type_and_expiry() {
        let mut h = Harness::new();
        h.set("user:1", "v", None);
        h.set("user:2", "v", Some(T0 - 1));
        h.set("other", "v", None);
        let (cursor, keys) = scan_reply(&h.run("SCAN 0 MATCH user:* COUNT 100"));
        assert_eq!((cursor, keys), (0, vec!["user:1".to_owned()]));
        assert_eq!(h.srv.dbs[0].len(), 2, "the expired key was deleted");
        let (_, keys) = scan_reply(&h.run("SCAN 0 TYPE STRING"));
        assert_eq!(keys.len(), 2);
        let (_, keys) = scan_reply(&h.run("SCAN 0 TYPE hash"));
        assert!(keys.is_empty());
    }

    #[test]
    fn scan_type_none_lists_keys_it_just_expired_as_redis_does() {
        let mut h = Harness::new();
        h.set("dead", "v", Some(T0 - 1));
        h.set("live", "v", None);
        let (_, keys) = scan_reply(&h.run("SCAN 0 TYPE none"));
        assert_eq!(keys, vec!["dead".to_owned()]);
        assert_eq!(h.srv.dbs[0].len(), 1);
    }

    #[test]
    fn scan_stops_after_count_keys_and_hands_back_a_cursor() {
        let mut h = Harness::new();
        for i in 0..100 {
            h.set(&format!("k{i}"), "v", None);
        }
        let (cursor, keys) = scan_reply(&h.run("SCAN 0 COUNT 1"));
        assert_ne!(cursor, 0);
        assert!(!keys.is_empty() && keys.len() < 100);
    }

    #[test]
    fn scan_of_a_database_emptied_by_deletes_ends_at_once_whatever_the_cursor() {
        let mut h = Harness::new();
        let names: Vec<String> = (0..500).map(|i| format!("k{i}")).collect();
        for name in &names {
            h.set(name, "v", None);
        }
        h.run(&format!("DEL {}", names.join(" ")));
        assert_eq!(h.run("SCAN 0"), "*2\r\n$1\r\n0\r\n*0\r\n");
        assert_eq!(h.run("SCAN 77"), "*2\r\n$1\r\n0\r\n*0\r\n");
    }

    #[test]
    fn randomkey_deletes_the_expired_keys_it_meets() {
        let mut h = Harness::new();
        assert_eq!(h.run("RANDOMKEY"), "$-1\r\n");
        for i in 0..20 {
            h.set(&format!("dead{i}"), "v", Some(T0 - 1));
        }
        assert_eq!(h.run("RANDOMKEY"), "$-1\r\n");
        assert_eq!(h.srv.dbs[0].len(), 0);
        for i in 0..20 {
            h.set(&format!("dead{i}"), "v", Some(T0 - 1));
        }
        h.set("live", "v", None);
        assert_eq!(h.run("RANDOMKEY"), "$4\r\nlive\r\n");
    }

    #[test]
    fn touch_counts_live_keys_and_refreshes_them() {
        let mut h = Harness::new();
        h.set("a", "v", None);
        h.now += 5_000;
        assert_eq!(h.run("OBJECT IDLETIME a"), ":5\r\n");
        assert_eq!(h.run("TOUCH a a nope"), ":2\r\n");
        assert_eq!(h.run("OBJECT IDLETIME a"), ":0\r\n");
    }

    #[test]
    fn object_refcount_reports_shared_small_integers() {
        let mut h = Harness::new();
        h.set("small", "100", None);
        h.set("big", "10000", None);
        h.set("neg", "-1", None);
        h.set("text", "abc", None);
        assert_eq!(h.run("OBJECT REFCOUNT small"), ":2147483647\r\n");
        assert_eq!(h.run("OBJECT REFCOUNT big"), ":1\r\n");
        assert_eq!(h.run("OBJECT REFCOUNT neg"), ":1\r\n");
        assert_eq!(h.run("OBJECT REFCOUNT text"), ":1\r\n");
        assert_eq!(h.run("OBJECT REFCOUNT nope"), "$-1\r\n");
        h.srv.config.maxmemory = 1 << 20;
        h.srv.config.maxmemory_policy = MaxmemoryPolicy::AllkeysLru;
        assert_eq!(h.run("OBJECT REFCOUNT small"), ":1\r\n");
    }

    #[test]
    fn object_freq_and_idletime_depend_on_the_policy() {
        let mut h = Harness::new();
        h.set("k", "v", None);
        assert!(h
            .run("OBJECT FREQ k")
            .starts_with("-ERR An LFU maxmemory policy is not selected"));
        assert_eq!(h.run("OBJECT ENCODING k"), "$6\r\nembstr\r\n");
        let mut h = lfu_harness();
        h.set("k", "v", None);
        assert_eq!(h.run("OBJECT FREQ k"), ":5\r\n");
        h.run("TOUCH k");
        assert_eq!(h.run("OBJECT FREQ k"), ":6\r\n");
        assert!(h
            .run("OBJECT IDLETIME k")
            .starts_with("-ERR An LFU maxmemory policy is selected"));
        assert_eq!(h.run("OBJECT FREQ nope"), "$-1\r\n");
    }

    #[test]
    fn object_help_has_redis_layout() {
        let mut h = Harness::new();
        let reply = h.run("OBJECT HELP");
        assert!(reply.starts_with("*15\r\n+OBJECT <subcommand>"));
        assert!(reply.ends_with("+HELP\r\n+    Print this help.\r\n"));
    }

    #[test]
    fn move_checks_the_index_then_the_keys() {
        let mut h = Harness::new();
        h.set("k", "v", Some(T0 + 9_000));
        assert_eq!(
            h.run("MOVE k x"),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            h.run("MOVE k 4294967296"),
            "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
        );
        assert_eq!(h.run("MOVE k 16"), "-ERR DB index is out of range\r\n");
        assert_eq!(h.run("MOVE k -1"), "-ERR DB index is out of range\r\n");
        assert_eq!(
            h.run("MOVE k 0"),
            "-ERR source and destination objects are the same\r\n"
        );
        assert_eq!(h.run("MOVE nope 1"), ":0\r\n");
        assert_eq!(h.run("MOVE k 1"), ":1\r\n");
        assert_eq!(
            h.srv.dbs[1].peek(b"k").and_then(Entry::expire_at),
            Some(T0 + 9_000)
        );
        h.set("k", "again", None);
        assert_eq!(h.run("MOVE k 1"), ":0\r\n");
        assert!(h.srv.dbs[0].peek(b"k").is_some());
    }

    #[test]
    fn copy_duplicates_into_any_database_with_replace() {
        let mut h = Harness::new();
        h.set("src", "v", Some(T0 + 1_000));
        assert_eq!(
            h.run("COPY src src"),
            "-ERR source and destination objects are the same\r\n"
        );
        assert_eq!(h.run("COPY src dst DB"), "-ERR syntax error\r\n");
        assert_eq!(
            h.run("COPY src dst DB 99"),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(h.run("COPY src dst BOGUS"), "-ERR syntax error\r\n");
        assert_eq!(h.run("COPY nope dst"), ":0\r\n");
        assert_eq!(h.run("COPY src src DB 2"), ":1\r\n");
        assert_eq!(
            h.srv.dbs[2].peek(b"src").and_then(Entry::expire_at),
            Some(T0 + 1_000)
        );
        h.set("dst", "old", None);
        assert_eq!(h.run("COPY src dst"), ":0\r\n");
        assert_eq!(h.run("COPY src dst replace"), ":1\r\n");
        let copied = h.srv.dbs[0].peek(b"dst").unwrap();
        assert_eq!(copied.value, Value::from_bytes(b"v"));
        assert_eq!(copied.expire_at(), Some(T0 + 1_000));
    }
}
