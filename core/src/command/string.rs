//! String commands (Redis's t_string.c): SET and its relatives, the GET family,
//! MSET/MGET, APPEND, SETRANGE/GETRANGE, the INCR family, INCRBYFLOAT and LCS.
//!
//! SET, SETNX, SETEX, PSETEX and GETSET share [`set_generic`] as Redis's
//! setGenericCommand serves them, so their option checks, lookups and replies stay
//! in one place. Values are stored as Redis stores them so that `OBJECT ENCODING`
//! agrees: request arguments through [`Value::from_bytes`] (int / embstr / raw),
//! strings changed in place (APPEND, SETRANGE) as raw, counters as int, and
//! INCRBYFLOAT results as embstr or raw by length.

use bytes::Bytes;

use crate::config::notify;

use super::args;
use super::{Acl, CommandSpec, DocFlag, Flag, Group, KeySpec};
use crate::db::{Entry, Millis};
use crate::error::{
    invalid_expire, CmdError, CmdResult, NAN_OR_INFINITY, NOT_FLOAT, OFFSET_OUT_OF_RANGE, OVERFLOW,
    STRING_TOO_LONG, SYNTAX, WRONGTYPE,
};
use crate::node::Ctx;
use crate::resp::ReplyBuf;
use crate::util::longdouble::LongDouble;
use crate::util::smallbytes::SmallBytes;
use crate::value::{Value, EMBSTR_BYTES_MAX};

/// DECRBY cannot negate i64::MIN.
const DECREMENT_OVERFLOW: &str = "ERR decrement would overflow";
const LCS_NOT_STRINGS: &str = "ERR The specified keys must contain string values";
const LCS_LEN_AND_IDX: &str = "ERR If you want both the length and indexes, please just use IDX.";
const LCS_STRING_TOO_LONG: &str = "ERR String too long for LCS";
const LCS_TABLE_TOO_BIG: &str =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";

/// LCS indexes its table with u32, so neither string may reach this length.
const LCS_STRING_BYTES_MAX: usize = u32::MAX as usize - 1;

/// A row for a command with one key, at argument 1.
const ONE_KEY: CommandSpec = CommandSpec {
    first_key: 1,
    last_key: 1,
    step: 1,
    acl: &[Acl::String],
    group: Group::String,
    ..CommandSpec::DEFAULT
};

const WRITE: &[Flag] = &[Flag::Write, Flag::Denyoom];
const WRITE_FAST: &[Flag] = &[Flag::Write, Flag::Denyoom, Flag::Fast];
const READ_FAST: &[Flag] = &[Flag::Readonly, Flag::Fast];
const RW_ACCESS_UPDATE: &[KeySpec] = &[KeySpec::first(&["RW", "ACCESS", "UPDATE"])];
const RO_ACCESS: &[KeySpec] = &[KeySpec::first(&["RO", "ACCESS"])];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "set",
        arity: -3,
        flags: WRITE,
        key_specs: &[KeySpec::first(&[
            "RW",
            "ACCESS",
            "UPDATE",
            "VARIABLE_FLAGS",
        ])],
        summary:
            "Sets a key to a string value, with optional conditions, expiry and old-value reply.",
        handler: Some(set),
        ..ONE_KEY
    },
    CommandSpec {
        name: "get",
        arity: 2,
        flags: READ_FAST,
        key_specs: RO_ACCESS,
        summary: "Returns the string value of a key.",
        handler: Some(get),
        ..ONE_KEY
    },
    CommandSpec {
        name: "getset",
        arity: 3,
        flags: WRITE_FAST,
        key_specs: RW_ACCESS_UPDATE,
        summary: "Sets a key's string value and returns the previous one.",
        doc_flags: &[DocFlag::Deprecated],
        deprecated_since: "6.2.0",
        replaced_by: "`SET` with the `!GET` argument",
        handler: Some(getset),
        ..ONE_KEY
    },
    CommandSpec {
        name: "getdel",
        arity: 2,
        flags: &[Flag::Write, Flag::Fast],
        key_specs: &[KeySpec::first(&["RW", "ACCESS", "DELETE"])],
        since: "6.2.0",
        summary: "Returns a key's string value and deletes the key.",
        handler: Some(getdel),
        ..ONE_KEY
    },
    CommandSpec {
        name: "getex",
        arity: -2,
        flags: &[Flag::Write, Flag::Fast],
        key_specs: RW_ACCESS_UPDATE,
        since: "6.2.0",
        summary: "Returns a key's string value and optionally changes its expiry.",
        handler: Some(getex),
        ..ONE_KEY
    },
    CommandSpec {
        name: "setnx",
        arity: 3,
        flags: WRITE_FAST,
        key_specs: &[KeySpec::first(&["OW", "INSERT"])],
        summary: "Sets a key's string value only if the key is absent.",
        handler: Some(setnx),
        ..ONE_KEY
    },
    CommandSpec {
        name: "setex",
        arity: 4,
        flags: WRITE,
        key_specs: &[KeySpec::first(&["OW", "UPDATE"])],
        since: "2.0.0",
        summary: "Sets a key's string value with an expiry in seconds.",
        handler: Some(setex),
        ..ONE_KEY
    },
    CommandSpec {
        name: "psetex",
        arity: 4,
        flags: WRITE,
        key_specs: &[KeySpec::first(&["OW", "UPDATE"])],
        since: "2.6.0",
        summary: "Sets a key's string value with an expiry in milliseconds.",
        handler: Some(psetex),
        ..ONE_KEY
    },
    CommandSpec {
        name: "mset",
        arity: -3,
        flags: WRITE,
        last_key: -1,
        step: 2,
        key_specs: &[KeySpec::range_step(&["OW", "UPDATE"], 1, -1, 2)],
        since: "1.0.1",
        summary: "Sets several keys to string values.",
        complexity: "O(N), N being the number of keys set.",
        tips: &[
            "request_policy:multi_shard",
            "response_policy:all_succeeded",
        ],
        handler: Some(mset),
        ..ONE_KEY
    },
    CommandSpec {
        name: "msetnx",
        arity: -3,
        flags: WRITE,
        last_key: -1,
        step: 2,
        key_specs: &[KeySpec::range_step(&["OW", "INSERT"], 1, -1, 2)],
        since: "1.0.1",
        summary: "Sets several keys to string values only if none of them exists.",
        complexity: "O(N), N being the number of keys set.",
        tips: &["request_policy:multi_shard", "response_policy:agg_min"],
        handler: Some(msetnx),
        ..ONE_KEY
    },
    CommandSpec {
        name: "mget",
        arity: -2,
        flags: READ_FAST,
        last_key: -1,
        key_specs: &[KeySpec::range(&["RO", "ACCESS"], 1, -1)],
        summary: "Returns the string values of several keys.",
        complexity: "O(N), N being the number of keys read.",
        tips: &["request_policy:multi_shard"],
        handler: Some(mget),
        ..ONE_KEY
    },
    CommandSpec {
        name: "append",
        arity: 3,
        flags: WRITE_FAST,
        key_specs: &[KeySpec::first(&["RW", "INSERT"])],
        since: "2.0.0",
        summary: "Appends to a key's string value, creating the key if needed.",
        complexity: "O(1) amortized, as the buffer grows geometrically.",
        handler: Some(append),
        ..ONE_KEY
    },
    CommandSpec {
        name: "strlen",
        arity: 2,
        flags: READ_FAST,
        key_specs: &[KeySpec::first(&["RO"])],
        since: "2.2.0",
        summary: "Returns the length of a key's string value.",
        handler: Some(strlen),
        ..ONE_KEY
    },
    CommandSpec {
        name: "setrange",
        arity: 4,
        flags: WRITE,
        key_specs: &[KeySpec::first(&["RW", "UPDATE"])],
        since: "2.2.0",
        summary: "Overwrites part of a key's string value from an offset, zero-padding.",
        complexity: "O(M), M being the length of the written value (plus any padding).",
        handler: Some(setrange),
        ..ONE_KEY
    },
    CommandSpec {
        name: "getrange",
        arity: 4,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS,
        since: "2.4.0",
        summary: "Returns a byte range of a key's string value.",
        complexity: "O(N), N being the length of the returned range.",
        handler: Some(getrange),
        ..ONE_KEY
    },
    CommandSpec {
        name: "substr",
        arity: 4,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS,
        summary: "Returns a byte range of a key's string value (old name of GETRANGE).",
        complexity: "O(N), N being the length of the returned range.",
        doc_flags: &[DocFlag::Deprecated],
        deprecated_since: "2.0.0",
        replaced_by: "`GETRANGE`",
        handler: Some(getrange),
        ..ONE_KEY
    },
    CommandSpec {
        name: "incr",
        arity: 2,
        flags: WRITE_FAST,
        key_specs: RW_ACCESS_UPDATE,
        summary: "Adds one to a key's integer value.",
        handler: Some(incr),
        ..ONE_KEY
    },
    CommandSpec {
        name: "decr",
        arity: 2,
        flags: WRITE_FAST,
        key_specs: RW_ACCESS_UPDATE,
        summary: "Subtracts one from a key's integer value.",
        handler: Some(decr),
        ..ONE_KEY
    },
    CommandSpec {
        name: "incrby",
        arity: 3,
        flags: WRITE_FAST,
        key_specs: RW_ACCESS_UPDATE,
        summary: "Adds an integer to a key's integer value.",
        handler: Some(incrby),
        ..ONE_KEY
    },
    CommandSpec {
        name: "decrby",
        arity: 3,
        flags: WRITE_FAST,
        key_specs: RW_ACCESS_UPDATE,
        summary: "Subtracts an integer from a key's integer value.",
        handler: Some(decrby),
        ..ONE_KEY
    },
    CommandSpec {
        name: "incrbyfloat",
        arity: 3,
        flags: WRITE_FAST,
        key_specs: RW_ACCESS_UPDATE,
        since: "2.6.0",
        summary: "Adds a floating point number to a key's numeric value.",
        handler: Some(incrbyfloat),
        ..ONE_KEY
    },
    CommandSpec {
        name: "lcs",
        arity: -3,
        flags: &[Flag::Readonly],
        last_key: 2,
        key_specs: &[KeySpec::range(&["RO", "ACCESS"], 1, 1)],
        since: "7.0.0",
        summary: "Finds the longest common subsequence of two keys' string values.",
        complexity: "O(N*M), N and M being the lengths of the two strings.",
        handler: Some(lcs),
        ..ONE_KEY
    },
];

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

/// Runs `f` with the key's entry, looked up for reading (lazy expiry, hit/miss
/// counting), and the reply buffer at once, so a reply can be written straight from
/// the stored bytes without copying them first.
fn with_read<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(Option<&Entry>, &mut ReplyBuf) -> R,
) -> R {
    let mut out = std::mem::take(&mut ctx.client.out);
    let result = f(ctx.lookup_read(key), &mut out);
    ctx.client.out = out;
    result
}

/// Redis's getGenericCommand: the value as a bulk string, null if absent,
/// WRONGTYPE if the key holds something else. Returns whether a string was found.
fn reply_string(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<bool, CmdError> {
    with_read(ctx, key, |entry, out| {
        let Some(entry) = entry else {
            out.null();
            return Ok(false);
        };
        let mut scratch = [0u8; 20];
        let bytes = string_bytes(&entry.value, &mut scratch)?;
        out.bulk(bytes);
        Ok(true)
    })
}

/// The bytes of a string value (an integer is formatted into `scratch`), or
/// WRONGTYPE for any other type.
fn string_bytes<'a>(value: &'a Value, scratch: &'a mut [u8; 20]) -> Result<&'a [u8], CmdError> {
    value
        .as_string_bytes(scratch)
        .ok_or(CmdError::Static(WRONGTYPE))
}

/// The length of a string value, or WRONGTYPE.
fn string_len(value: &Value) -> Result<usize, CmdError> {
    string_bytes(value, &mut [0u8; 20]).map(<[u8]>::len)
}

/// `proto-max-bulk-len`: the longest string a command may build.
fn bulk_bytes_max(ctx: &Ctx<'_>) -> u64 {
    u64::try_from(ctx.srv.config.proto_max_bulk_len).unwrap_or(0)
}

/// Redis's checkStringLength: a string may not grow past `proto-max-bulk-len`.
fn check_string_length(limit: u64, size: usize, append: usize) -> CmdResult {
    match (size as u64).checked_add(append as u64) {
        Some(total) if total <= limit => Ok(()),
        _ => Err(STRING_TOO_LONG.into()),
    }
}

/// Adds a key the caller has just looked up and found absent.
fn insert(ctx: &mut Ctx<'_>, key: &[u8], value: Value) {
    let (now, policy) = (ctx.now, ctx.srv.access_policy());
    ctx.db().insert_new(key, value, None, now, policy);
}

/// A string value as Redis's createStringObject makes it: embstr when short, raw
/// otherwise, never int (INCRBYFLOAT's "3" stays embstr).
fn plain_string(bytes: &[u8]) -> Value {
    if bytes.len() <= EMBSTR_BYTES_MAX {
        Value::Str(SmallBytes::new(bytes))
    } else {
        Value::Raw(Box::new(bytes.to_vec()))
    }
}

// ---------------------------------------------------------------------------
// SET and its relatives
// ---------------------------------------------------------------------------

/// How an expiry argument is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExpireKind {
    /// EX: seconds from now.
    Ex,
    /// PX: milliseconds from now.
    Px,
    /// EXAT: a Unix time in seconds.
    ExAt,
    /// PXAT: a Unix time in milliseconds.
    PxAt,
}

impl ExpireKind {
    fn from_keyword(arg: &[u8]) -> Option<ExpireKind> {
        [
            ("EX", ExpireKind::Ex),
            ("PX", ExpireKind::Px),
            ("EXAT", ExpireKind::ExAt),
            ("PXAT", ExpireKind::PxAt),
        ]
        .into_iter()
        .find(|(word, _)| args::is(arg, word))
        .map(|(_, kind)| kind)
    }

    fn in_seconds(self) -> bool {
        matches!(self, ExpireKind::Ex | ExpireKind::ExAt)
    }

    fn relative(self) -> bool {
        matches!(self, ExpireKind::Ex | ExpireKind::Px)
    }
}

#[derive(Debug, Clone, Copy)]
struct Expiry<'a> {
    kind: ExpireKind,
    arg: &'a [u8],
}

impl Expiry<'_> {
    /// Redis's getExpireMillisecondsOrReply: the absolute deadline in Unix ms.
    /// Zero, negative and overflowing times are `invalid expire time in '<cmd>'`.
    fn deadline(self, now: Millis, cmd: &str) -> Result<Millis, CmdError> {
        let mut ms = args::int(self.arg)?;
        if ms <= 0 || (self.kind.in_seconds() && ms > i64::MAX / 1000) {
            return Err(invalid_expire(cmd));
        }
        if self.kind.in_seconds() {
            ms *= 1000;
        }
        if self.kind.relative() {
            // Redis adds in signed arithmetic; a wrap shows up as a negative time.
            ms = ms.wrapping_add(now as i64);
        }
        if ms <= 0 {
            return Err(invalid_expire(cmd));
        }
        Ok(ms as Millis)
    }
}

/// Which command's options are being parsed: SET accepts NX/XX/GET/KEEPTTL, GETEX
/// accepts PERSIST; both accept the expiry options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OptionsOf {
    Set,
    GetEx,
}

/// Options of SET and GETEX.
#[derive(Debug, Clone, Copy, Default)]
struct SetOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    persist: bool,
    expire: Option<Expiry<'a>>,
}

impl<'a> SetOptions<'a> {
    /// Redis's parseExtendedStringArgumentsOrReply. Options may repeat (the last
    /// expiry of the same kind wins); conflicting ones are a syntax error.
    fn parse(opts: &'a [Bytes], of: OptionsOf) -> Result<SetOptions<'a>, CmdError> {
        let mut o = SetOptions::default();
        let set = of == OptionsOf::Set;
        let mut i = 0;
        while i < opts.len() {
            let opt = &opts[i][..];
            let next = opts.get(i + 1);
            let expire_kind = o.expire.map(|e| e.kind);
            if args::is(opt, "NX") && !o.xx && set {
                o.nx = true;
            } else if args::is(opt, "XX") && !o.nx && set {
                o.xx = true;
            } else if args::is(opt, "GET") && set {
                o.get = true;
            } else if args::is(opt, "KEEPTTL") && !o.persist && o.expire.is_none() && set {
                o.keep_ttl = true;
            } else if args::is(opt, "PERSIST") && !set && o.expire.is_none() && !o.keep_ttl {
                o.persist = true;
            } else if let (Some(kind), Some(next)) = (ExpireKind::from_keyword(opt), next) {
                if o.keep_ttl || o.persist || expire_kind.is_some_and(|k| k != kind) {
                    return Err(SYNTAX.into());
                }
                o.expire = Some(Expiry { kind, arg: next });
                i += 1;
            } else {
                return Err(SYNTAX.into());
            }
            i += 1;
        }
        Ok(o)
    }
}

/// What SET-like commands answer on success and when NX/XX stops them.
#[derive(Debug, Clone, Copy)]
enum SetReply {
    Ok,
    Null,
    Int(i64),
}

impl SetReply {
    fn write(self, out: &mut ReplyBuf) {
        match self {
            SetReply::Ok => out.ok(),
            SetReply::Null => out.null(),
            SetReply::Int(n) => out.int(n),
        }
    }
}

/// Redis's setGenericCommand, shared by SET, SETNX, SETEX, PSETEX and GETSET:
/// validate the expiry, reply the old value if GET was asked (a non-string aborts
/// with WRONGTYPE), honour NX/XX, store, then set the deadline.
fn set_generic(
    ctx: &mut Ctx<'_>,
    opts: &SetOptions<'_>,
    key: &[u8],
    value: &[u8],
    ok: SetReply,
    abort: SetReply,
) -> CmdResult {
    let deadline = match opts.expire {
        Some(e) => Some(e.deadline(ctx.now, ctx.cmd.name)?),
        None => None,
    };
    if opts.get {
        reply_string(ctx, key)?;
    }
    let found = ctx.lookup_write(key).is_some();
    if (opts.nx && found) || (opts.xx && !found) {
        if !opts.get {
            abort.write(ctx.out());
        }
        return Ok(());
    }
    let (now, policy) = (ctx.now, ctx.srv.access_policy());
    let db = ctx.db();
    db.set(key, Value::from_bytes(value), opts.keep_ttl, now, policy);
    if deadline.is_some() {
        db.set_expire(key, deadline);
    }
    ctx.modified(key);
    ctx.notify(notify::STRING, "set", key);
    if deadline.is_some() {
        ctx.notify(notify::GENERIC, "expire", key);
    }
    // A relative or second expiry propagates as `SET key value PXAT ms`.
    if let (Some(at), Some(e)) = (deadline, opts.expire) {
        if e.kind != ExpireKind::PxAt {
            ctx.rewrite_argv(vec![
                Bytes::from_static(b"SET"),
                Bytes::copy_from_slice(key),
                Bytes::copy_from_slice(value),
                Bytes::from_static(b"PXAT"),
                Bytes::from(at.to_string()),
            ]);
        }
    }
    if !opts.get {
        ok.write(ctx.out());
    }
    Ok(())
}

/// SET key value [NX | XX] [GET] [EX seconds | PX milliseconds |
/// EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]
fn set(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let opts = SetOptions::parse(&args[3..], OptionsOf::Set)?;
    set_generic(ctx, &opts, &args[1], &args[2], SetReply::Ok, SetReply::Null)
}

/// SETNX key value
fn setnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let opts = SetOptions {
        nx: true,
        ..SetOptions::default()
    };
    set_generic(
        ctx,
        &opts,
        &args[1],
        &args[2],
        SetReply::Int(1),
        SetReply::Int(0),
    )
}

/// SETEX key seconds value
fn setex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    set_with_expiry(ctx, args, ExpireKind::Ex)
}

/// PSETEX key milliseconds value
fn psetex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    set_with_expiry(ctx, args, ExpireKind::Px)
}

fn set_with_expiry(ctx: &mut Ctx<'_>, args: &[Bytes], kind: ExpireKind) -> CmdResult {
    let opts = SetOptions {
        expire: Some(Expiry {
            kind,
            arg: &args[2],
        }),
        ..SetOptions::default()
    };
    set_generic(ctx, &opts, &args[1], &args[3], SetReply::Ok, SetReply::Null)
}

/// GETSET key value
fn getset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let opts = SetOptions {
        get: true,
        ..SetOptions::default()
    };
    set_generic(ctx, &opts, &args[1], &args[2], SetReply::Ok, SetReply::Null)
}

/// MSET key value [key value ...]
fn mset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    mset_generic(ctx, args, false)
}

/// MSETNX key value [key value ...]
fn msetnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    mset_generic(ctx, args, true)
}

fn mset_generic(ctx: &mut Ctx<'_>, args: &[Bytes], nx: bool) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(crate::error::wrong_arity(ctx.cmd.name));
    }
    let pairs = args[1..].chunks_exact(2);
    if nx {
        for pair in pairs.clone() {
            if ctx.lookup_write(&pair[0]).is_some() {
                ctx.out().int(0);
                return Ok(());
            }
        }
    }
    let policy = ctx.srv.access_policy();
    for pair in pairs {
        // As Redis's setKey, look the key up first so a stale one is expired.
        ctx.lookup_write(&pair[0]);
        let now = ctx.now;
        ctx.db()
            .set(&pair[0], Value::from_bytes(&pair[1]), false, now, policy);
        ctx.modified(&pair[0]);
        ctx.notify(notify::STRING, "set", &pair[0]);
    }
    if nx {
        ctx.out().int(1);
    } else {
        ctx.out().ok();
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The GET family
// ---------------------------------------------------------------------------

/// GET key
fn get(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    reply_string(ctx, &args[1]).map(drop)
}

/// GETDEL key
fn getdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    if reply_string(ctx, key)? && ctx.db().remove(key).is_some() {
        ctx.modified(key);
        ctx.notify(notify::GENERIC, "del", key);
        ctx.rewrite_argv(vec![Bytes::from_static(b"DEL"), key.clone()]);
    }
    Ok(())
}

/// GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | PERSIST]
fn getex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let opts = SetOptions::parse(&args[2..], OptionsOf::GetEx)?;
    let (now, cmd) = (ctx.now, ctx.cmd.name);
    // The expiry is validated after the type check but before the value is sent.
    let deadline = with_read(ctx, key, |entry, out| {
        let Some(entry) = entry else {
            out.null();
            return Ok(None);
        };
        let mut scratch = [0u8; 20];
        let bytes = string_bytes(&entry.value, &mut scratch)?;
        let deadline = opts.expire.map(|e| e.deadline(now, cmd)).transpose()?;
        out.bulk(bytes);
        Ok::<_, CmdError>(Some(deadline))
    })?;
    let Some(deadline) = deadline else {
        return Ok(());
    };
    let absolute = opts.expire.is_some_and(|e| !e.kind.relative());
    let (argv, event): (Vec<Bytes>, _) = match deadline {
        Some(at) if absolute && at <= now => {
            ctx.db().remove(key);
            let del = crate::propagate::deletion_command(ctx.srv.config.lazyfree_lazy_expire);
            (vec![del, key.clone()], "del")
        }
        Some(at) => {
            ctx.db().set_expire(key, Some(at));
            if opts.expire.is_some_and(|e| e.kind == ExpireKind::PxAt) {
                (args.to_vec(), "expire")
            } else {
                let at = Bytes::from(at.to_string());
                (
                    vec![Bytes::from_static(b"PEXPIREAT"), key.clone(), at],
                    "expire",
                )
            }
        }
        None if opts.persist && ctx.db().peek(key).and_then(Entry::expire_at).is_some() => {
            ctx.db().set_expire(key, None);
            (vec![Bytes::from_static(b"PERSIST"), key.clone()], "persist")
        }
        None => return Ok(()),
    };
    ctx.rewrite_argv(argv);
    ctx.modified(key);
    ctx.notify(notify::GENERIC, event, key);
    Ok(())
}

/// MGET key [key ...]: anything that is not a string reads as null.
fn mget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    ctx.out().array(args.len() - 1);
    for key in &args[1..] {
        with_read(ctx, key, |entry, out| {
            let mut scratch = [0u8; 20];
            match entry.and_then(|e| e.value.as_string_bytes(&mut scratch)) {
                Some(bytes) => out.bulk(bytes),
                None => out.null(),
            }
        });
    }
    Ok(())
}

/// STRLEN key
fn strlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let len = match ctx.lookup_read(&args[1]) {
        Some(entry) => string_len(&entry.value)?,
        None => 0,
    };
    ctx.out().int(len as i64);
    Ok(())
}

/// GETRANGE key start end (and its old name SUBSTR)
fn getrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let start = args::int(&args[2])?;
    let end = args::int(&args[3])?;
    with_read(ctx, &args[1], |entry, out| {
        let Some(entry) = entry else {
            out.bulk(b"");
            return Ok(());
        };
        let mut scratch = [0u8; 20];
        let bytes = string_bytes(&entry.value, &mut scratch)?;
        match byte_range(bytes.len(), start, end) {
            Some((from, to)) => out.bulk(&bytes[from..=to]),
            None => out.bulk(b""),
        }
        Ok(())
    })
}

/// GETRANGE's index rules: negative indexes count from the end, both are clamped
/// to the string, and an empty range is None. Redis adds a negative index to the
/// length in wrapping 64-bit arithmetic; so does this.
fn byte_range(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let len = len as i64;
    let mut start = if start < 0 {
        len.wrapping_add(start)
    } else {
        start
    };
    let mut end = if end < 0 { len.wrapping_add(end) } else { end };
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

// ---------------------------------------------------------------------------
// In-place modification
// ---------------------------------------------------------------------------

/// APPEND key value: a new key gets the value as SET would store it; an existing
/// one becomes raw and grows.
fn append(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (key, tail) = (&args[1], &args[2]);
    let limit = bulk_bytes_max(ctx);
    let total = match ctx.lookup_write(key) {
        Some(entry) => {
            check_string_length(limit, string_len(&entry.value)?, tail.len())?;
            let raw = raw_string(entry)?;
            raw.extend_from_slice(tail);
            raw.len()
        }
        None => {
            insert(ctx, key, Value::from_bytes(tail));
            tail.len()
        }
    };
    ctx.modified(key);
    ctx.notify(notify::STRING, "append", key);
    ctx.out().int(total as i64);
    Ok(())
}

/// The entry's string in its mutable raw form (Redis's dbUnshareStringValue).
fn raw_string(entry: &mut Entry) -> Result<&mut Vec<u8>, CmdError> {
    entry.value.make_raw().ok_or(CmdError::Static(WRONGTYPE))
}

/// SETRANGE key offset value
fn setrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (key, value) = (&args[1], &args[3]);
    let Ok(offset) = usize::try_from(args::int(&args[2])?) else {
        return Err(OFFSET_OUT_OF_RANGE.into());
    };
    let limit = bulk_bytes_max(ctx);
    let total = match ctx.lookup_write(key) {
        Some(entry) => {
            let len = string_len(&entry.value)?;
            // Writing nothing answers the current length and changes nothing.
            if value.is_empty() {
                ctx.out().int(len as i64);
                return Ok(());
            }
            check_string_length(limit, offset, value.len())?;
            let raw = raw_string(entry)?;
            let end = offset + value.len();
            if raw.len() < end {
                raw.resize(end, 0);
            }
            raw[offset..end].copy_from_slice(value);
            raw.len()
        }
        None => {
            if value.is_empty() {
                ctx.out().int(0);
                return Ok(());
            }
            check_string_length(limit, offset, value.len())?;
            let mut bytes = vec![0u8; offset + value.len()];
            bytes[offset..].copy_from_slice(value);
            insert(ctx, key, Value::Raw(Box::new(bytes)));
            offset + value.len()
        }
    };
    ctx.modified(key);
    ctx.notify(notify::STRING, "setrange", key);
    ctx.out().int(total as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------

/// INCR key
fn incr(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    incr_decr(ctx, &args[1], 1)
}

/// DECR key
fn decr(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    incr_decr(ctx, &args[1], -1)
}

/// INCRBY key increment
fn incrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let by = args::int(&args[2])?;
    incr_decr(ctx, &args[1], by)
}

/// DECRBY key decrement
fn decrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let by = args::int(&args[2])?;
    let by = by
        .checked_neg()
        .ok_or(CmdError::Static(DECREMENT_OVERFLOW))?;
    incr_decr(ctx, &args[1], by)
}

/// The integer a string value holds, by string2ll's strict rules.
fn integer_value(value: &Value) -> Result<i64, CmdError> {
    if let Value::Int(n) = value {
        return Ok(*n);
    }
    let mut scratch = [0u8; 20];
    let bytes = string_bytes(value, &mut scratch)?;
    args::int(bytes)
}

/// Redis's incrDecrCommand: an absent key counts as 0; the result is stored as an
/// integer and an existing key keeps its deadline.
fn incr_decr(ctx: &mut Ctx<'_>, key: &[u8], by: i64) -> CmdResult {
    let result = match ctx.lookup_write(key) {
        Some(entry) => {
            let n = integer_value(&entry.value)?
                .checked_add(by)
                .ok_or(CmdError::Static(OVERFLOW))?;
            entry.value = Value::Int(n);
            n
        }
        None => {
            insert(ctx, key, Value::Int(by));
            by
        }
    };
    ctx.modified(key);
    ctx.notify(notify::STRING, "incrby", key);
    ctx.out().int(result);
    Ok(())
}

/// The number a string value holds, as Redis reads it into a long double.
fn long_double_value(value: &Value) -> Result<LongDouble, CmdError> {
    if let Value::Int(n) = value {
        return Ok(LongDouble::from_i64(*n));
    }
    let mut scratch = [0u8; 20];
    let bytes = string_bytes(value, &mut scratch)?;
    LongDouble::parse(bytes).ok_or(CmdError::Static(NOT_FLOAT))
}

/// INCRBYFLOAT key increment: 80-bit long double arithmetic and formatting, as
/// Redis on x86-64. The key keeps its deadline.
fn incrbyfloat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (key, by) = (&args[1], &args[2]);
    let text = match ctx.lookup_write(key) {
        Some(entry) => {
            let text = float_sum(long_double_value(&entry.value)?, by)?;
            entry.value = plain_string(text.as_bytes());
            text
        }
        None => {
            let text = float_sum(LongDouble::from_i64(0), by)?;
            insert(ctx, key, plain_string(text.as_bytes()));
            text
        }
    };
    ctx.modified(key);
    ctx.notify(notify::STRING, "incrbyfloat", key);
    // Propagates the result, so float formatting cannot drift on a replica.
    ctx.rewrite_argv(vec![
        Bytes::from_static(b"SET"),
        key.clone(),
        Bytes::from(text.clone()),
        Bytes::from_static(b"KEEPTTL"),
    ]);
    ctx.out().bulk(text.as_bytes());
    Ok(())
}

/// `current + by` formatted as Redis stores it; the sum must be finite.
fn float_sum(current: LongDouble, by: &[u8]) -> Result<String, CmdError> {
    let by = LongDouble::parse(by).ok_or(CmdError::Static(NOT_FLOAT))?;
    let sum = current.add(by);
    if !sum.is_finite() {
        return Err(NAN_OR_INFINITY.into());
    }
    Ok(sum.to_human_string())
}

// ---------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
fn lcs(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let a = lcs_operand(ctx, &args[1]);
    let b = lcs_operand(ctx, &args[2]);
    let (Some(a), Some(b)) = (a, b) else {
        return Err(LCS_NOT_STRINGS.into());
    };
    let opts = LcsOptions::parse(&args[3..])?;
    if opts.len && opts.idx {
        return Err(LCS_LEN_AND_IDX.into());
    }
    if a.len() >= LCS_STRING_BYTES_MAX || b.len() >= LCS_STRING_BYTES_MAX {
        return Err(LCS_STRING_TOO_LONG.into());
    }
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    if cells.saturating_mul(4) > bulk_bytes_max(ctx) {
        return Err(LCS_TABLE_TOO_BIG.into());
    }
    let table = LcsTable::new(&a, &b);
    let out = ctx.out();
    if opts.len {
        out.int(i64::from(table.len()));
        return Ok(());
    }
    let (common, ranges) = table.backtrack(&a, &b, opts.min_match_len);
    if !opts.idx {
        out.bulk(&common);
        return Ok(());
    }
    out.map(2);
    out.bulk(b"matches");
    out.array(ranges.len());
    for r in &ranges {
        out.array(if opts.with_match_len { 3 } else { 2 });
        out.array(2);
        out.int(i64::from(r.a_start));
        out.int(i64::from(r.a_end));
        out.array(2);
        out.int(i64::from(r.b_start));
        out.int(i64::from(r.b_end));
        if opts.with_match_len {
            out.int(i64::from(r.a_end - r.a_start + 1));
        }
    }
    out.bulk(b"len");
    out.int(i64::from(table.len()));
    Ok(())
}

/// An LCS operand: the string (empty for a missing key), None if not a string.
fn lcs_operand(ctx: &mut Ctx<'_>, key: &[u8]) -> Option<Vec<u8>> {
    let mut scratch = [0u8; 20];
    match ctx.lookup_read(key) {
        Some(entry) => entry
            .value
            .as_string_bytes(&mut scratch)
            .map(<[u8]>::to_vec),
        None => Some(Vec::new()),
    }
}

#[derive(Debug, Default)]
struct LcsOptions {
    len: bool,
    idx: bool,
    with_match_len: bool,
    min_match_len: u64,
}

impl LcsOptions {
    fn parse(opts: &[Bytes]) -> Result<LcsOptions, CmdError> {
        let mut o = LcsOptions::default();
        let mut i = 0;
        while i < opts.len() {
            let opt = &opts[i][..];
            if args::is(opt, "IDX") {
                o.idx = true;
            } else if args::is(opt, "LEN") {
                o.len = true;
            } else if args::is(opt, "WITHMATCHLEN") {
                o.with_match_len = true;
            } else if args::is(opt, "MINMATCHLEN") && i + 1 < opts.len() {
                o.min_match_len = args::int(&opts[i + 1])?.max(0) as u64;
                i += 1;
            } else {
                return Err(SYNTAX.into());
            }
            i += 1;
        }
        Ok(o)
    }
}

/// One matching run: `a[a_start..=a_end] == b[b_start..=b_end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LcsRange {
    a_start: u32,
    a_end: u32,
    b_start: u32,
    b_end: u32,
}

/// The dynamic-programming table: `cell(i, j)` is the LCS length of `a[..i]` and
/// `b[..j]`.
struct LcsTable {
    cells: Vec<u32>,
    width: usize,
}

impl LcsTable {
    fn new(a: &[u8], b: &[u8]) -> LcsTable {
        let width = b.len() + 1;
        let mut cells = vec![0u32; (a.len() + 1) * width];
        for i in 1..=a.len() {
            let (above, row) = cells[(i - 1) * width..(i + 1) * width].split_at_mut(width);
            for j in 1..=b.len() {
                row[j] = if a[i - 1] == b[j - 1] {
                    above[j - 1] + 1
                } else {
                    above[j].max(row[j - 1])
                };
            }
        }
        LcsTable { cells, width }
    }

    fn cell(&self, i: usize, j: usize) -> u32 {
        self.cells[i * self.width + j]
    }

    fn len(&self) -> u32 {
        self.cells.last().copied().unwrap_or(0)
    }

    /// Walks back from the end as Redis does (on a tie, it steps back in `b`),
    /// collecting the common subsequence and the matching runs from last to
    /// first; runs shorter than `min_match_len` are left out.
    fn backtrack(&self, a: &[u8], b: &[u8], min_match_len: u64) -> (Vec<u8>, Vec<LcsRange>) {
        let mut common = vec![0u8; self.len() as usize];
        let mut left = common.len();
        let mut ranges = Vec::new();
        let mut current: Option<LcsRange> = None;
        let (mut i, mut j) = (a.len(), b.len());
        while i > 0 && j > 0 {
            let mut emit = false;
            if a[i - 1] == b[j - 1] {
                left -= 1;
                common[left] = a[i - 1];
                let (ai, bj) = ((i - 1) as u32, (j - 1) as u32);
                match &mut current {
                    None => {
                        current = Some(LcsRange {
                            a_start: ai,
                            a_end: ai,
                            b_start: bj,
                            b_end: bj,
                        })
                    }
                    Some(r) if r.a_start == ai + 1 && r.b_start == bj + 1 => {
                        r.a_start = ai;
                        r.b_start = bj;
                    }
                    Some(_) => emit = true,
                }
                if current.is_some_and(|r| r.a_start == 0 || r.b_start == 0) {
                    emit = true;
                }
                i -= 1;
                j -= 1;
            } else {
                if self.cell(i - 1, j) > self.cell(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                emit |= current.is_some();
            }
            if emit {
                if let Some(r) = current.take() {
                    if u64::from(r.a_end - r.a_start + 1) >= min_match_len {
                        ranges.push(r);
                    }
                }
            }
        }
        (common, ranges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::testkit::{argv, Harness, TestNode, T0};
    use crate::config::Config;
    use crate::io::{Input, Output};

    #[test]
    fn set_stores_values_with_redis_encodings() {
        let mut h = Harness::new();
        h.run("SET i 123");
        h.run("SET z 0123");
        h.run(&format!("SET e {}", "a".repeat(44)));
        h.run(&format!("SET r {}", "a".repeat(45)));
        h.run("SETNX n -5");
        h.run("SETEX x 100 12");
        h.run("PSETEX p 100000 abc");
        h.run("GETSET g 77");
        h.run("MSET m1 1 m2 one");
        let encodings: Vec<_> = ["i", "z", "e", "r", "n", "x", "p", "g", "m1", "m2"]
            .iter()
            .map(|k| h.encoding(k).unwrap_or("missing"))
            .collect();
        assert_eq!(
            encodings,
            ["int", "embstr", "embstr", "raw", "int", "int", "embstr", "int", "int", "embstr"]
        );
    }

    #[test]
    fn append_and_setrange_make_existing_strings_raw() {
        let mut h = Harness::new();
        assert_eq!(h.run("APPEND a 12"), ":2\r\n");
        assert_eq!(h.encoding("a"), Some("int"));
        assert_eq!(h.run("APPEND b xy"), ":2\r\n");
        assert_eq!(h.encoding("b"), Some("embstr"));
        h.run("APPEND a 3");
        assert_eq!(h.encoding("a"), Some("raw"));
        h.run("SET c 5");
        h.run_args(&[Bytes::from("APPEND"), Bytes::from("c"), Bytes::new()]);
        assert_eq!(h.encoding("c"), Some("raw"));
        h.run("SET d 5");
        assert_eq!(h.run("SETRANGE d 0 6"), ":1\r\n");
        assert_eq!(h.encoding("d"), Some("raw"));
        assert_eq!(h.run("SETRANGE new 2 x"), ":3\r\n");
        assert_eq!(h.encoding("new"), Some("raw"));
        assert_eq!(h.run("GET new"), "$3\r\n\0\0x\r\n");
    }

    #[test]
    fn setrange_with_nothing_to_write_changes_nothing() {
        let mut h = Harness::new();
        h.run("SET s 42");
        let empty = |cmd: &str, key: &str, offset: &str| {
            [cmd, key, offset, ""].map(|a| Bytes::copy_from_slice(a.as_bytes()))
        };
        assert_eq!(h.run_args(&empty("SETRANGE", "s", "100")), ":2\r\n");
        assert_eq!(h.run_args(&empty("SETRANGE", "none", "3")), ":0\r\n");
        assert_eq!(h.encoding("s"), Some("int"));
        assert_eq!(h.encoding("none"), None);
        assert_eq!(h.srv.dirty, 1);
    }

    #[test]
    fn counters_are_stored_as_integers_and_floats_as_strings() {
        let mut h = Harness::new();
        h.run("SET n 10");
        h.run("APPEND n 0");
        assert_eq!(h.run("INCR n"), ":101\r\n");
        assert_eq!(h.encoding("n"), Some("int"));
        assert_eq!(h.run("INCRBYFLOAT f 3"), "$1\r\n3\r\n");
        assert_eq!(h.encoding("f"), Some("embstr"));
        h.run("SET big 1e40");
        h.run("INCRBYFLOAT big 1e40");
        assert_eq!(h.encoding("big"), Some("embstr"));
        h.run("SET huge 1e300");
        h.run("INCRBYFLOAT huge 1");
        assert_eq!(h.encoding("huge"), Some("raw"));
    }

    #[test]
    fn relative_expiry_is_turned_into_a_deadline_from_now() {
        let mut h = Harness::new();
        h.run("SET a v EX 10");
        h.run("SET b v PX 1500");
        h.run("SET c v EXAT 1800000000");
        h.run("SET d v PXAT 1800000000123");
        h.run("SETEX e 7 v");
        h.run("PSETEX f 70 v");
        let deadlines: Vec<_> = ["a", "b", "c", "d", "e", "f"]
            .iter()
            .map(|k| h.expire_at(k))
            .collect();
        assert_eq!(
            deadlines,
            [
                Some(T0 + 10_000),
                Some(T0 + 1_500),
                Some(1_800_000_000_000),
                Some(1_800_000_000_123),
                Some(T0 + 7_000),
                Some(T0 + 70),
            ]
        );
    }

    #[test]
    fn keepttl_keeps_the_deadline_and_plain_set_clears_it() {
        let mut h = Harness::new();
        h.run("SET k v EX 10");
        h.run("SET k w KEEPTTL");
        assert_eq!(h.expire_at("k"), Some(T0 + 10_000));
        h.run("INCRBYFLOAT k2 1");
        h.run("SET k x");
        assert_eq!(h.expire_at("k"), None);
    }

    #[test]
    fn in_place_updates_keep_the_deadline() {
        let mut h = Harness::new();
        for (key, value) in [("i", "1"), ("f", "1.5"), ("a", "x"), ("r", "abc")] {
            h.run(&format!("SET {key} {value} PX 5000"));
        }
        h.run("INCR i");
        h.run("INCRBYFLOAT f 1");
        h.run("APPEND a y");
        h.run("SETRANGE r 1 Z");
        for key in ["i", "f", "a", "r"] {
            assert_eq!(h.expire_at(key), Some(T0 + 5_000), "{key}");
        }
        h.run("GETSET i 9");
        h.run("MSET f 1");
        assert_eq!(h.expire_at("i"), None);
        assert_eq!(h.expire_at("f"), None);
    }

    #[test]
    fn a_key_past_its_deadline_reads_as_absent() {
        let mut h = Harness::new();
        h.run("SET k 5 PX 100");
        h.now = T0 + 100;
        assert_eq!(h.run("GET k"), "$1\r\n5\r\n", "alive at its deadline");
        h.now = T0 + 101;
        assert_eq!(h.run("INCR k"), ":1\r\n");
        assert_eq!(h.expire_at("k"), None);
        assert_eq!(h.srv.keyspace_stats.expired_keys, 1);
    }

    #[test]
    fn getex_changes_or_removes_the_deadline() {
        let mut h = Harness::new();
        h.run("SET k v");
        assert_eq!(h.run("GETEX k EX 5"), "$1\r\nv\r\n");
        assert_eq!(h.expire_at("k"), Some(T0 + 5_000));
        h.run("GETEX k PERSIST");
        assert_eq!(h.expire_at("k"), None);
        let dirty = h.srv.dirty;
        h.run("GETEX k PERSIST");
        assert_eq!(h.srv.dirty, dirty, "PERSIST without a deadline is no write");
        assert_eq!(h.run("GETEX k PXAT 1"), "$1\r\nv\r\n");
        assert_eq!(h.encoding("k"), None);
        assert_eq!(h.srv.dirty, dirty + 1);
    }

    #[test]
    fn expiry_overflow_is_an_invalid_expire_time() {
        let mut h = Harness::new();
        let invalid = |cmd: &str| format!("-ERR invalid expire time in '{cmd}' command\r\n");
        assert_eq!(h.run("SET k v EX 9223372036854775"), invalid("set"));
        assert_eq!(h.run("SET k v PX 9223372036854775807"), invalid("set"));
        assert_eq!(h.run("SET k v EXAT 9223372036854776"), invalid("set"));
        assert_eq!(h.run("SETEX k 0 v"), invalid("setex"));
        assert_eq!(h.run("PSETEX k -1 v"), invalid("psetex"));
        assert_eq!(h.run("SET k v PXAT 9223372036854775807"), "+OK\r\n");
        assert_eq!(h.expire_at("k"), Some(i64::MAX as Millis));
    }

    #[test]
    fn reads_count_hits_and_misses_but_writes_do_not() {
        let mut h = Harness::new();
        h.run("SET a 1");
        h.run("INCR a");
        h.run("INCR b");
        h.run("APPEND c x");
        h.run("SETRANGE d 0 x");
        h.run("MSETNX a 1 e 2");
        assert_eq!(h.hits_misses(), (0, 0));
        h.run("GET a");
        h.run("GET nothing");
        h.run("MGET a b nothing");
        h.run("STRLEN a");
        h.run("GETRANGE nothing 0 1");
        h.run("LCS a nothing");
        assert_eq!(h.hits_misses(), (5, 4));
        h.run("SET a 2 GET");
        h.run("GETSET nothing2 1");
        h.run("GETDEL nothing3");
        h.run("GETEX a");
        assert_eq!(h.hits_misses(), (7, 6));
    }

    #[test]
    fn every_successful_write_counts_as_dirty() {
        let mut h = Harness::new();
        h.run("MSET a 1 b 2 c 3");
        assert_eq!(h.srv.dirty, 3);
        h.run("SET a 1 NX");
        h.run("SETNX a 1");
        h.run("MSETNX a 1 z 2");
        h.run("GETDEL missing");
        h.run("INCR c");
        assert_eq!(h.srv.dirty, 4, "only INCR c wrote");
        h.run("INCRBY a abc");
        h.run("SET k v EX 0");
        assert_eq!(h.srv.dirty, 4);
        h.run("GETDEL a");
        h.run("MSETNX x 1 y 2");
        assert_eq!(h.srv.dirty, 7);
    }

    #[test]
    fn string_limits_follow_proto_max_bulk_len() {
        let config = Config {
            proto_max_bulk_len: 1024 * 1024,
            ..Config::default()
        };
        let mut h = Harness::with_config(config);
        let too_long = format!("-{STRING_TOO_LONG}\r\n");
        assert_eq!(h.run("SETRANGE k 1048576 x"), too_long);
        assert_eq!(h.run("SETRANGE k 1048575 x"), ":1048576\r\n");
        assert_eq!(h.run("APPEND k y"), too_long);
        h.run("SETRANGE a 512 x");
        assert_eq!(h.run("LCS a a LEN"), format!("-{LCS_TABLE_TOO_BIG}\r\n"));
        h.run("SETRANGE b 510 x");
        assert_eq!(h.run("LCS b b LEN"), ":511\r\n");
    }

    #[test]
    fn decrby_refuses_to_negate_the_smallest_integer() {
        let mut h = Harness::new();
        assert_eq!(
            h.run("DECRBY k -9223372036854775808"),
            format!("-{DECREMENT_OVERFLOW}\r\n")
        );
        assert_eq!(h.encoding("k"), None);
        h.run("SET k -1");
        assert_eq!(
            h.run("DECRBY k 9223372036854775807"),
            ":-9223372036854775808\r\n"
        );
        assert_eq!(h.run("DECR k"), format!("-{OVERFLOW}\r\n"));
    }

    #[test]
    fn set_options_follow_redis_precedence() {
        let parse = |line: &str, of| {
            SetOptions::parse(&argv(line), of).map(|o| {
                (
                    o.nx,
                    o.xx,
                    o.get,
                    o.keep_ttl,
                    o.persist,
                    o.expire.map(|e| e.kind),
                )
            })
        };
        let syntax = Err(CmdError::Static(SYNTAX));
        assert_eq!(
            parse("nx NX get", OptionsOf::Set),
            Ok((true, false, true, false, false, None))
        );
        assert_eq!(parse("NX XX", OptionsOf::Set), syntax);
        assert_eq!(
            parse("EX 1 ex 2", OptionsOf::Set),
            Ok((false, false, false, false, false, Some(ExpireKind::Ex)))
        );
        assert_eq!(parse("EX 1 PX 2", OptionsOf::Set), syntax);
        assert_eq!(parse("KEEPTTL EX 1", OptionsOf::Set), syntax);
        assert_eq!(parse("PERSIST", OptionsOf::Set), syntax);
        assert_eq!(parse("EX", OptionsOf::Set), syntax);
        assert_eq!(parse("NX", OptionsOf::GetEx), syntax);
        assert_eq!(parse("PERSIST EX 1", OptionsOf::GetEx), syntax);
        assert_eq!(
            parse("persist PERSIST", OptionsOf::GetEx),
            Ok((false, false, false, false, true, None))
        );
    }

    #[test]
    fn getrange_clamps_and_counts_from_the_end() {
        assert_eq!(byte_range(5, 0, -1), Some((0, 4)));
        assert_eq!(byte_range(5, -3, -1), Some((2, 4)));
        assert_eq!(byte_range(5, -1, -5), None);
        assert_eq!(byte_range(5, 0, -100), Some((0, 0)));
        assert_eq!(byte_range(5, -100, 100), Some((0, 4)));
        assert_eq!(byte_range(5, 5, 5), None);
        assert_eq!(byte_range(5, 3, 1), None);
        assert_eq!(byte_range(0, 0, -1), None);
        assert_eq!(byte_range(5, i64::MIN, i64::MAX), Some((0, 4)));
    }

    #[test]
    fn lcs_walks_back_preferring_the_second_string_on_ties() {
        let (a, b) = (&b"ohmytext"[..], &b"mynewtext"[..]);
        let table = LcsTable::new(a, b);
        assert_eq!(table.len(), 6);
        let (common, ranges) = table.backtrack(a, b, 0);
        assert_eq!(common, b"mytext");
        let r = |a_start, a_end, b_start, b_end| LcsRange {
            a_start,
            a_end,
            b_start,
            b_end,
        };
        assert_eq!(ranges, [r(4, 7, 5, 8), r(2, 3, 0, 1)]);
        let (_, long_only) = table.backtrack(a, b, 4);
        assert_eq!(long_only, [r(4, 7, 5, 8)]);
        // With "ab" against "ba" both "a" and "b" are longest; Redis finds "b".
        let table = LcsTable::new(b"ab", b"ba");
        assert_eq!(table.backtrack(b"ab", b"ba", 0).0, b"b");
    }

    #[test]
    fn lcs_replies_a_map_in_resp3() {
        let mut h = Harness::new();
        h.client.out.proto = crate::resp::Protocol::Resp3;
        h.run("MSET a ab b ab");
        assert_eq!(
            h.run("LCS a b IDX WITHMATCHLEN"),
            "%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:0\r\n:1\r\n*2\r\n:0\r\n:1\r\n:2\r\n\
             $3\r\nlen\r\n:2\r\n"
        );
        assert_eq!(h.run("GET missing"), "_\r\n");
        assert_eq!(h.run("MGET a missing"), "*2\r\n$2\r\nab\r\n_\r\n");
    }

    #[test]
    fn a_node_serves_pipelined_string_commands() {
        let mut t = TestNode::new(Config::default());
        t.connect(1);
        let request = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n10\r\n\
            *2\r\n$4\r\nINCR\r\n$1\r\nk\r\n\
            *3\r\n$6\r\nAPPEND\r\n$1\r\nk\r\n$2\r\n\x00!\r\n\
            *4\r\n$8\r\nGETRANGE\r\n$1\r\nk\r\n$2\r\n-3\r\n$2\r\n-1\r\n";
        t.node.handle(
            T0,
            Input::Received {
                conn: 1,
                bytes: Bytes::from_static(request),
            },
        );
        assert_eq!(
            t.node.poll_output(),
            Some(Output::Send {
                conn: 1,
                bytes: Bytes::from_static(b"+OK\r\n:11\r\n:4\r\n$3\r\n1\x00!\r\n"),
            })
        );
    }
}
