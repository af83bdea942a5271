//! Set commands (Redis 7.0's t_set.c): SADD, SREM, SCARD, SISMEMBER, SMISMEMBER,
//! SMEMBERS, SMOVE, SPOP, SRANDMEMBER, the SINTER/SUNION/SDIFF families, SINTERCARD
//! and SSCAN.
//!
//! Results that Redis builds as a temporary set (SUNION, SDIFF, the STORE forms, SPOP
//! of the whole set) are built here the same way, starting from an intset and adding
//! members in Redis's order, so that the reply order of an all-integer result and the
//! encoding of a stored result agree with Redis.

use bytes::Bytes;

use crate::config::notify;

use super::keys::{parse_scan_cursor, parse_scan_options, range_key_spec};
use super::{args, Acl, BeginSearch, CommandSpec, FindKeys, Flag, Group, KeySpec};
use crate::db::Db;
use crate::error::{
    CmdError, CmdResult, MUST_BE_POSITIVE, NOT_IN_SYMMETRIC_LONG_RANGE, SYNTAX, WRONGTYPE,
};
use crate::node::Ctx;
use crate::resp::ReplyBuf;
use crate::types::set::{Elem, Set, SetLimits};
use crate::util::glob::glob_match;
use crate::value::Value;

const NUMKEYS_MUST_BE_POSITIVE: &str = "ERR numkeys should be greater than 0";
const NUMKEYS_TOO_MANY: &str = "ERR Number of keys can't be greater than number of args";
const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";

/// SPOP with a count extracts members one by one while the members left would be
/// more than count/5, and otherwise rebuilds the set from the members that stay
/// (Redis's SPOP_MOVE_STRATEGY_MUL).
const SPOP_MOVE_STRATEGY_MUL: u64 = 5;
/// SRANDMEMBER with a count copies the whole set and drops members when the set is
/// at most 3 times the count (Redis's SRANDMEMBER_SUB_STRATEGY_MUL).
const SRANDMEMBER_SUB_STRATEGY_MUL: u64 = 3;
/// SSCAN visits at most COUNT times this many buckets per call, as Redis's scan does.
const SCAN_BUCKETS_PER_COUNT: u64 = 10;
const fn first_key(flags: &'static [&'static str]) -> KeySpec {
    range_key_spec(flags, 1, 0)
}

const RO: &[KeySpec] = &[first_key(&["RO"])];
const RO_ACCESS: &[KeySpec] = &[first_key(&["RO", "access"])];
const RO_ACCESS_ALL: &[KeySpec] = &[range_key_spec(&["RO", "access"], 1, -1)];
const READ_FAST: &[Flag] = &[Flag::Readonly, Flag::Fast];
const WRITE_FAST: &[Flag] = &[Flag::Write, Flag::Fast];
const WRITE_DENYOOM: &[Flag] = &[Flag::Write, Flag::Denyoom];
const ORDER_TIPS: &[&str] = &["nondeterministic_output_order"];
const RANDOM_TIPS: &[&str] = &["nondeterministic_output"];

/// A row for a command whose first key is argument 1 and whose keys run to `last_key`.
const SET_ROW: CommandSpec = CommandSpec {
    first_key: 1,
    last_key: 1,
    step: 1,
    acl: &[Acl::Set],
    group: Group::Set,
    ..CommandSpec::DEFAULT
};

/// The key specs of SxxxSTORE: the destination (`dest_flags`), then the sources.
const fn store_specs(dest_flags: &'static [&'static str]) -> [KeySpec; 2] {
    [
        first_key(dest_flags),
        range_key_spec(&["RO", "access"], 2, -1),
    ]
}

const SINTERSTORE_SPECS: [KeySpec; 2] = store_specs(&["RW", "update"]);
const SUNIONSTORE_SPECS: [KeySpec; 2] = store_specs(&["OW", "update"]);

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "sadd",
        arity: -3,
        flags: &[Flag::Write, Flag::Denyoom, Flag::Fast],
        key_specs: &[first_key(&["RW", "insert"])],
        summary: "Adds members to a set, creating it if needed.",
        complexity: "O(1) per member added.",
        history: &[("2.4.0", "Takes several members.")],
        handler: Some(sadd),
        ..SET_ROW
    },
    CommandSpec {
        name: "srem",
        arity: -3,
        flags: WRITE_FAST,
        key_specs: &[first_key(&["RW", "delete"])],
        summary: "Removes members from a set, deleting it when it empties.",
        complexity: "O(N) for N members removed.",
        history: &[("2.4.0", "Takes several members.")],
        handler: Some(srem),
        ..SET_ROW
    },
    CommandSpec {
        name: "scard",
        arity: 2,
        flags: READ_FAST,
        key_specs: RO,
        summary: "Returns the number of members of a set.",
        handler: Some(scard),
        ..SET_ROW
    },
    CommandSpec {
        name: "sismember",
        arity: 3,
        flags: READ_FAST,
        key_specs: RO,
        summary: "Tells whether a value is a member of a set.",
        handler: Some(sismember),
        ..SET_ROW
    },
    CommandSpec {
        name: "smismember",
        arity: -3,
        flags: READ_FAST,
        key_specs: RO_ACCESS,
        since: "6.2.0",
        summary: "Tells, for each value, whether it is a member of a set.",
        complexity: "O(N) for N values.",
        handler: Some(smismember),
        ..SET_ROW
    },
    CommandSpec {
        name: "smembers",
        arity: 2,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS,
        summary: "Returns every member of a set.",
        complexity: "O(N) for N members.",
        tips: ORDER_TIPS,
        handler: Some(smembers),
        ..SET_ROW
    },
    CommandSpec {
        name: "smove",
        arity: 4,
        flags: WRITE_FAST,
        last_key: 2,
        key_specs: &[
            first_key(&["RW", "access", "delete"]),
            range_key_spec(&["RW", "insert"], 2, 0),
        ],
        summary: "Moves a member from one set to another.",
        handler: Some(smove),
        ..SET_ROW
    },
    CommandSpec {
        name: "spop",
        arity: -2,
        flags: WRITE_FAST,
        key_specs: &[first_key(&["RW", "access", "delete"])],
        summary: "Removes and returns random members of a set.",
        complexity: "O(1) without a count, O(N) for a count of N.",
        tips: RANDOM_TIPS,
        history: &[("3.2.0", "Takes a count.")],
        handler: Some(spop),
        ..SET_ROW
    },
    CommandSpec {
        name: "srandmember",
        arity: -2,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS,
        summary: "Returns random members of a set, with repeats for a negative count.",
        complexity: "O(1) without a count, O(N) for a count of N.",
        tips: RANDOM_TIPS,
        history: &[("2.6.0", "Takes a count.")],
        handler: Some(srandmember),
        ..SET_ROW
    },
    CommandSpec {
        name: "sinter",
        arity: -2,
        flags: &[Flag::Readonly],
        last_key: -1,
        key_specs: RO_ACCESS_ALL,
        summary: "Returns the members common to every given set.",
        complexity: "O(N*M): N the smallest set's size, M the number of sets.",
        tips: ORDER_TIPS,
        handler: Some(sinter),
        ..SET_ROW
    },
    CommandSpec {
        name: "sintercard",
        arity: -3,
        flags: &[Flag::Readonly],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_specs: &[KeySpec {
            flags: &["RO", "access"],
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Keynum {
                keynum_idx: 0,
                first_key: 1,
                step: 1,
            },
        }],
        since: "7.0.0",
        summary: "Counts the members common to every given set, up to an optional limit.",
        complexity: "O(N*M): N the smallest set's size, M the number of sets.",
        handler: Some(sintercard),
        ..SET_ROW
    },
    CommandSpec {
        name: "sinterstore",
        arity: -3,
        flags: WRITE_DENYOOM,
        last_key: -1,
        key_specs: &SINTERSTORE_SPECS,
        summary: "Stores the intersection of sets at a key.",
        complexity: "O(N*M): N the smallest set's size, M the number of sets.",
        handler: Some(sinterstore),
        ..SET_ROW
    },
    CommandSpec {
        name: "sunion",
        arity: -2,
        flags: &[Flag::Readonly],
        last_key: -1,
        key_specs: RO_ACCESS_ALL,
        summary: "Returns the members of any of the given sets.",
        complexity: "O(N) for N members in all the sets.",
        tips: ORDER_TIPS,
        handler: Some(sunion),
        ..SET_ROW
    },
    CommandSpec {
        name: "sunionstore",
        arity: -3,
        flags: WRITE_DENYOOM,
        last_key: -1,
        key_specs: &SUNIONSTORE_SPECS,
        summary: "Stores the union of sets at a key.",
        complexity: "O(N) for N members in all the sets.",
        handler: Some(sunionstore),
        ..SET_ROW
    },
    CommandSpec {
        name: "sdiff",
        arity: -2,
        flags: &[Flag::Readonly],
        last_key: -1,
        key_specs: RO_ACCESS_ALL,
        summary: "Returns the members of the first set that no other given set has.",
        complexity: "O(N) for N members in all the sets.",
        tips: ORDER_TIPS,
        handler: Some(sdiff),
        ..SET_ROW
    },
    CommandSpec {
        name: "sdiffstore",
        arity: -3,
        flags: WRITE_DENYOOM,
        last_key: -1,
        key_specs: &SUNIONSTORE_SPECS,
        summary: "Stores the difference of sets at a key.",
        complexity: "O(N) for N members in all the sets.",
        handler: Some(sdiffstore),
        ..SET_ROW
    },
    CommandSpec {
        name: "sscan",
        arity: -3,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS,
        since: "2.8.0",
        summary: "Walks a set's members a few per call with a cursor.",
        complexity: "O(1) per call, O(N) for a whole iteration.",
        tips: RANDOM_TIPS,
        handler: Some(sscan),
        ..SET_ROW
    },
];

// ---------------------------------------------------------------------------------
// Shared helpers

/// The limits a set grows under, from the server's configuration.
pub(crate) fn limits(ctx: &Ctx<'_>) -> SetLimits {
    SetLimits {
        max_intset_entries: ctx.srv.config.set_max_intset_entries,
        hasher: ctx.srv.hasher,
    }
}

/// The set in a value, or WRONGTYPE.
pub(crate) fn as_set(value: &Value) -> Result<&Set, CmdError> {
    match value {
        Value::Set(s) => Ok(s),
        _ => Err(CmdError::Static(WRONGTYPE)),
    }
}

fn as_set_mut(value: &mut Value) -> Result<&mut Set, CmdError> {
    match value {
        Value::Set(s) => Ok(s),
        _ => Err(CmdError::Static(WRONGTYPE)),
    }
}

/// Runs `f` with the reply buffer moved out of the client, so that it can be written
/// while a set borrowed from the database is read.
fn with_out<R>(ctx: &mut Ctx<'_>, f: impl FnOnce(&mut Ctx<'_>, &mut ReplyBuf) -> R) -> R {
    let mut out = std::mem::take(&mut ctx.client.out);
    let result = f(ctx, &mut out);
    ctx.client.out = out;
    result
}

/// Looks `key` up for reading (lazy expiry, hit/miss stats): `Ok(false)` when
/// missing, `Ok(true)` when it holds a set, WRONGTYPE otherwise.
fn read_exists(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<bool, CmdError> {
    match ctx.lookup_read(key) {
        None => Ok(false),
        Some(e) => as_set(&e.value).map(|_| true),
    }
}

/// A set already looked up (so live), borrowed from the database.
fn peek_set<'d>(db: &'d Db, key: &[u8]) -> Option<&'d Set> {
    match db.peek(key).map(|e| &e.value) {
        Some(Value::Set(s)) => Some(s),
        _ => None,
    }
}

fn reply_elem(out: &mut ReplyBuf, elem: Elem<'_>) {
    match elem {
        Elem::Int(v) => out.bulk_i64(v),
        Elem::Bytes(b) => out.bulk(b),
    }
}

/// Replies with every member of `set` as a RESP3 set (an array in RESP2).
fn reply_members(out: &mut ReplyBuf, set: &Set) {
    out.set(set.len());
    for elem in set.iter() {
        reply_elem(out, elem);
    }
}

/// Random draws for one command. The set being read is borrowed from the server, so
/// one draw from the server's commands stream seeds a local splitmix64 sequence.
struct Draws {
    state: u64,
}

impl Draws {
    fn new(ctx: &mut Ctx<'_>) -> Self {
        Draws {
            state: ctx.srv.random_below(u64::MAX),
        }
    }

    /// A uniform-enough draw below `n` (0 when `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        z % n.max(1)
    }
}

/// A member picked at random, owned so that the set can then be changed.
enum Owned {
    Int(i64),
    Bytes(Vec<u8>),
}

impl Owned {
    fn of(elem: Elem<'_>) -> Owned {
        match elem {
            Elem::Int(v) => Owned::Int(v),
            Elem::Bytes(b) => Owned::Bytes(b.to_vec()),
        }
    }

    fn elem(&self) -> Elem<'_> {
        match self {
            Owned::Int(v) => Elem::Int(*v),
            Owned::Bytes(b) => Elem::Bytes(b),
        }
    }
}

// ---------------------------------------------------------------------------------
// SADD, SREM, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS, SMOVE

/// SADD key member [member ...]
fn sadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let members = &args[2..];
    let limits = limits(ctx);
    let added = match ctx.lookup_write(key) {
        Some(entry) => {
            let set = as_set_mut(&mut entry.value)?;
            members.iter().filter(|m| set.insert(m, limits)).count()
        }
        None => {
            let mut set = Set::for_first(&members[0], limits.hasher);
            let added = members.iter().filter(|m| set.insert(m, limits)).count();
            let (now, policy) = (ctx.now, ctx.srv.access_policy());
            ctx.db()
                .insert_new(key, Value::Set(Box::new(set)), None, now, policy);
            added
        }
    };
    if added > 0 {
        ctx.modified(key);
        ctx.notify(notify::SET, "sadd", key);
    }
    ctx.out().int(added as i64);
    Ok(())
}

/// SREM key member [member ...]
fn srem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let Some(entry) = ctx.lookup_write(key) else {
        ctx.out().int(0);
        return Ok(());
    };
    let set = as_set_mut(&mut entry.value)?;
    let mut removed = 0;
    for member in &args[2..] {
        if set.remove(member) {
            removed += 1;
            if set.is_empty() {
                break;
            }
        }
    }
    let emptied = set.is_empty();
    if emptied {
        ctx.db().remove(key);
    }
    if removed > 0 {
        ctx.modified(key);
        ctx.notify(notify::SET, "srem", key);
        if emptied {
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
    ctx.out().int(removed);
    Ok(())
}

/// SCARD key
fn scard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let len = match ctx.lookup_read(&args[1]) {
        Some(entry) => as_set(&entry.value)?.len(),
        None => 0,
    };
    ctx.out().int(len as i64);
    Ok(())
}

/// SISMEMBER key member
fn sismember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let found = match ctx.lookup_read(&args[1]) {
        Some(entry) => as_set(&entry.value)?.contains(&args[2]),
        None => false,
    };
    ctx.out().int(i64::from(found));
    Ok(())
}

/// SMISMEMBER key member [member ...]
fn smismember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let exists = read_exists(ctx, &args[1])?;
    let Ctx { srv, client, .. } = ctx;
    let set = exists
        .then(|| peek_set(&srv.dbs[client.db], &args[1]))
        .flatten();
    let out = &mut client.out;
    out.array(args.len() - 2);
    for member in &args[2..] {
        out.int(i64::from(set.is_some_and(|s| s.contains(member))));
    }
    Ok(())
}

/// SMEMBERS key: Redis serves it as a one-set SINTER.
fn smembers(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    inter_generic(ctx, &args[1..2], Inter::Reply)
}

/// SMOVE source destination member
fn smove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (src, dst, member) = (&args[1], &args[2], &args[3]);
    let src_is_set = ctx.lookup_write(src).map(|e| as_set(&e.value).is_ok());
    let dst_is_set = ctx.lookup_write(dst).map(|e| as_set(&e.value).is_ok());
    let Some(src_is_set) = src_is_set else {
        ctx.out().int(0);
        return Ok(());
    };
    if !src_is_set || dst_is_set == Some(false) {
        return Err(CmdError::Static(WRONGTYPE));
    }
    let src_set = set_mut_looked_up(ctx, src)?;
    if src == dst {
        let found = src_set.contains(member);
        ctx.out().int(i64::from(found));
        return Ok(());
    }
    if !src_set.remove(member) {
        ctx.out().int(0);
        return Ok(());
    }
    let src_emptied = src_set.is_empty();
    if src_emptied {
        ctx.db().remove(src);
    }
    ctx.modified(src);
    ctx.notify(notify::SET, "srem", src);
    if src_emptied {
        ctx.notify(notify::GENERIC, "del", src);
    }
    let limits = limits(ctx);
    let added = match dst_is_set {
        Some(_) => set_mut_looked_up(ctx, dst)?.insert(member, limits),
        None => {
            let mut set = Set::for_first(member, limits.hasher);
            set.insert(member, limits);
            let (now, policy) = (ctx.now, ctx.srv.access_policy());
            ctx.db()
                .insert_new(dst, Value::Set(Box::new(set)), None, now, policy);
            true
        }
    };
    if added {
        ctx.modified(dst);
        ctx.notify(notify::SET, "sadd", dst);
    }
    ctx.out().int(1);
    Ok(())
}

/// A set this command already looked up (so live and of the right type), for
/// changing it: no second expiry check or access update.
fn set_mut_looked_up<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<&'c mut Set, CmdError> {
    match ctx.lookup_write_untouched(key) {
        Some(entry) => as_set_mut(&mut entry.value),
        None => Err(CmdError::Static(WRONGTYPE)),
    }
}

// ---------------------------------------------------------------------------------
// SPOP, SRANDMEMBER

/// SPOP key [count]
fn spop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    match args.len() {
        2 => spop_one(ctx, &args[1]),
        3 => {
            let count = args::int_or(&args[2], MUST_BE_POSITIVE)?;
            let count = u64::try_from(count).map_err(|_| CmdError::Static(MUST_BE_POSITIVE))?;
            spop_count(ctx, &args[1], count)
        }
        _ => Err(CmdError::Static(SYNTAX)),
    }
}

fn spop_one(ctx: &mut Ctx<'_>, key: &[u8]) -> CmdResult {
    let mut draws = Draws::new(ctx);
    let popped = match ctx.lookup_write(key) {
        None => None,
        Some(entry) => {
            let set = as_set_mut(&mut entry.value)?;
            let picked = set.random(|n| draws.below(n)).map(Owned::of);
            if let Some(p) = &picked {
                set.remove_elem(p.elem());
            }
            picked.map(|p| (p, set.is_empty()))
        }
    };
    let Some((popped, now_empty)) = popped else {
        ctx.out().null();
        return Ok(());
    };
    if now_empty {
        ctx.db().remove(key);
    }
    ctx.modified(key);
    ctx.notify(notify::SET, "spop", key);
    if now_empty {
        ctx.notify(notify::GENERIC, "del", key);
    }
    let member = Bytes::from(popped.elem().to_vec());
    ctx.rewrite_argv(vec![srem_name(), Bytes::copy_from_slice(key), member]);
    reply_elem(ctx.out(), popped.elem());
    Ok(())
}

fn spop_count(ctx: &mut Ctx<'_>, key: &[u8], count: u64) -> CmdResult {
    let size = match ctx.lookup_write(key) {
        None => {
            ctx.out().set(0);
            return Ok(());
        }
        Some(entry) => as_set(&entry.value)?.len() as u64,
    };
    if count == 0 {
        ctx.out().set(0);
        return Ok(());
    }
    if count >= size {
        // The whole set, replied as Redis does it: through a one-set SUNION.
        let union = {
            let limits = limits(ctx);
            let db = ctx.db();
            let set = peek_set(db, key).ok_or(CmdError::Static(WRONGTYPE))?;
            union_of(&[Some(set)], limits)
        };
        ctx.db().remove(key);
        ctx.modified(key);
        ctx.notify(notify::SET, "spop", key);
        ctx.notify(notify::GENERIC, "del", key);
        // Redis 7.0 propagates DEL here whatever lazyfree-lazy-server-del says.
        ctx.rewrite_argv(vec![
            Bytes::from_static(b"DEL"),
            Bytes::copy_from_slice(key),
        ]);
        reply_members(ctx.out(), &union);
        return Ok(());
    }
    let mut draws = Draws::new(ctx);
    let limits = limits(ctx);
    // Each popped member propagates as its own SREM, in reply order.
    let mut popped: Vec<Bytes> = Vec::with_capacity(count as usize);
    with_out(ctx, |ctx, out| {
        let set = set_mut_looked_up(ctx, key)?;
        out.set(count as usize);
        let remaining = size - count;
        if remaining * SPOP_MOVE_STRATEGY_MUL > count {
            for _ in 0..count {
                let Some(picked) = set.random(|n| draws.below(n)).map(Owned::of) else {
                    break;
                };
                reply_elem(out, picked.elem());
                popped.push(Bytes::from(picked.elem().to_vec()));
                set.remove_elem(picked.elem());
            }
        } else {
            // Move the members that stay into a new set, reply with the rest.
            let mut kept: Option<Set> = None;
            for _ in 0..remaining {
                let Some(picked) = set.random(|n| draws.below(n)).map(Owned::of) else {
                    break;
                };
                let elem = picked.elem();
                let new_set = kept.get_or_insert_with(|| {
                    Set::for_first(elem.bytes(&mut [0u8; 20]), limits.hasher)
                });
                new_set.insert_elem(elem, limits);
                set.remove_elem(elem);
            }
            for elem in set.iter() {
                reply_elem(out, elem);
                popped.push(Bytes::from(elem.to_vec()));
            }
            if let Some(kept) = kept {
                *set = kept;
            }
        }
        Ok::<(), CmdError>(())
    })?;
    ctx.modified(key);
    ctx.notify(notify::SET, "spop", key);
    let key = Bytes::copy_from_slice(key);
    for member in popped {
        ctx.also_propagate(vec![srem_name(), key.clone(), member]);
    }
    ctx.prevent_propagation();
    Ok(())
}

fn srem_name() -> Bytes {
    Bytes::from_static(b"SREM")
}

/// SRANDMEMBER key [count]
fn srandmember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    match args.len() {
        2 => srandmember_one(ctx, &args[1]),
        3 => {
            let count = args::int(&args[2])?;
            if count == i64::MIN {
                return Err(CmdError::Static(NOT_IN_SYMMETRIC_LONG_RANGE));
            }
            srandmember_count(ctx, &args[1], count)
        }
        _ => Err(CmdError::Static(SYNTAX)),
    }
}

fn srandmember_one(ctx: &mut Ctx<'_>, key: &[u8]) -> CmdResult {
    let mut draws = Draws::new(ctx);
    with_out(ctx, |ctx, out| {
        match ctx.lookup_read(key) {
            None => out.null(),
            Some(entry) => {
                let set = as_set(&entry.value)?;
                match set.random(|n| draws.below(n)) {
                    Some(elem) => reply_elem(out, elem),
                    None => out.null(),
                }
            }
        }
        Ok(())
    })
}

fn srandmember_count(ctx: &mut Ctx<'_>, key: &[u8], count: i64) -> CmdResult {
    let mut draws = Draws::new(ctx);
    let hasher = ctx.srv.hasher;
    with_out(ctx, |ctx, out| {
        let Some(entry) = ctx.lookup_read(key) else {
            out.array(0);
            return Ok(None);
        };
        let set = as_set(&entry.value)?;
        let size = set.len() as u64;
        let (count, unique) = (count.unsigned_abs(), count >= 0);
        if count == 0 {
            out.array(0);
            return Ok(None);
        }
        if !unique && crate::command::random_reply_too_big(count) {
            return Ok(Some(()));
        }
        if !unique || count == 1 {
            out.array(count as usize);
            let start = out.len();
            for _ in 0..count {
                if let Some(elem) = set.random(|n| draws.below(n)) {
                    reply_elem(out, elem);
                }
                if out.len() - start > crate::command::RANDOM_REPLY_BYTES_MAX {
                    return Ok(Some(()));
                }
            }
            return Ok(None);
        }
        if count >= size {
            out.array(size as usize);
            set.iter().for_each(|elem| reply_elem(out, elem));
            return Ok(None);
        }
        let picked = if count * SRANDMEMBER_SUB_STRATEGY_MUL > size {
            // Copy everything, then drop random members down to count.
            let mut all = set.clone();
            all.convert_to_table(hasher);
            while all.len() as u64 > count {
                let Some(victim) = all.random(|n| draws.below(n)).map(Owned::of) else {
                    break;
                };
                all.remove_elem(victim.elem());
            }
            all
        } else {
            let mut picked = Set::new_table(hasher);
            let limits = SetLimits {
                max_intset_entries: 0,
                hasher,
            };
            while (picked.len() as u64) < count {
                let Some(elem) = set.random(|n| draws.below(n)) else {
                    break;
                };
                picked.insert_elem(elem, limits);
            }
            picked
        };
        out.array(picked.len());
        picked.iter().for_each(|elem| reply_elem(out, elem));
        Ok(None)
    })
    .map(|overflow| {
        if overflow.is_some() {
            ctx.client.close_asap();
        }
    })
}

// ---------------------------------------------------------------------------------
// SINTER, SINTERCARD, SINTERSTORE

/// What an intersection is for.
#[derive(Clone, Copy)]
enum Inter<'a> {
    /// Reply with the members (SINTER, SMEMBERS).
    Reply,
    /// Reply with how many, stopping at `limit` when not 0 (SINTERCARD).
    Count { limit: u64 },
    /// Store at a key and reply with the size (SINTERSTORE).
    Store(&'a [u8]),
}

/// SINTER key [key ...]
fn sinter(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    inter_generic(ctx, &args[1..], Inter::Reply)
}

/// SINTERSTORE destination key [key ...]
fn sinterstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    inter_generic(ctx, &args[2..], Inter::Store(&args[1]))
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn sintercard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let numkeys = args::int_or(&args[1], NUMKEYS_MUST_BE_POSITIVE)?;
    if numkeys < 1 {
        return Err(CmdError::Static(NUMKEYS_MUST_BE_POSITIVE));
    }
    let numkeys = usize::try_from(numkeys).unwrap_or(usize::MAX);
    if numkeys > args.len() - 2 {
        return Err(CmdError::Static(NUMKEYS_TOO_MANY));
    }
    let keys = &args[2..2 + numkeys];
    let mut limit = 0;
    let mut opts = args[2 + numkeys..].iter();
    while let Some(opt) = opts.next() {
        match opts.as_slice().first() {
            Some(value) if args::is(opt, "LIMIT") => {
                opts.next();
                limit = args::int_or(value, LIMIT_NEGATIVE)?;
                if limit < 0 {
                    return Err(CmdError::Static(LIMIT_NEGATIVE));
                }
            }
            _ => return Err(CmdError::Static(SYNTAX)),
        }
    }
    inter_generic(
        ctx,
        keys,
        Inter::Count {
            limit: limit as u64,
        },
    )
}

/// Looks every key up for reading, in order: WRONGTYPE for any that is not a set;
/// returns whether any is missing.
fn lookup_all(ctx: &mut Ctx<'_>, keys: &[Bytes]) -> Result<bool, CmdError> {
    let mut missing = false;
    for key in keys {
        missing |= !read_exists(ctx, key)?;
    }
    Ok(missing)
}

/// Redis's sinterGenericCommand.
fn inter_generic(ctx: &mut Ctx<'_>, keys: &[Bytes], mode: Inter<'_>) -> CmdResult {
    if lookup_all(ctx, keys)? {
        match mode {
            Inter::Reply => ctx.out().set(0),
            Inter::Count { .. } => ctx.out().int(0),
            Inter::Store(dst) => {
                store_result(ctx, dst, Set::new_intset());
            }
        }
        return Ok(());
    }
    let limits = limits(ctx);
    let Ctx { srv, client, .. } = &mut *ctx;
    let db = &srv.dbs[client.db];
    let mut sets: Vec<&Set> = keys.iter().filter_map(|k| peek_set(db, k)).collect();
    // Smallest first: every member of the result is in it (a stable sort, as glibc's
    // qsort is a merge sort here).
    sets.sort_by_key(|s| s.len());
    let Some((&first, rest)) = sets.split_first() else {
        return Ok(());
    };
    let in_all = |elem: Elem<'_>| {
        rest.iter()
            .all(|s| std::ptr::eq(*s, first) || s.contains_elem(elem))
    };
    let (dst, result) = match mode {
        Inter::Reply => {
            let found: Vec<Elem<'_>> = first.iter().filter(|e| in_all(*e)).collect();
            let out = &mut client.out;
            out.set(found.len());
            found.into_iter().for_each(|e| reply_elem(out, e));
            return Ok(());
        }
        Inter::Count { limit } => {
            let mut n = 0u64;
            for elem in first.iter() {
                if in_all(elem) {
                    n += 1;
                    if n == limit {
                        break;
                    }
                }
            }
            client.out.int(n as i64);
            return Ok(());
        }
        Inter::Store(dst) => {
            let mut result = Set::new_intset();
            for elem in first.iter().filter(|e| in_all(*e)) {
                result.insert_elem(elem, limits);
            }
            (dst, result)
        }
    };
    store_result(ctx, dst, result);
    Ok(())
}

/// Stores a computed set at `dst` (replacing any value and deadline), or deletes
/// `dst` when the result is empty; replies with the size.
fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], result: Set) {
    let len = result.len();
    if len > 0 {
        let (now, policy) = (ctx.now, ctx.srv.access_policy());
        ctx.db()
            .set(dst, Value::Set(Box::new(result)), false, now, policy);
        ctx.modified(dst);
        // The event is the command's name: sinterstore, sunionstore, sdiffstore.
        let event = ctx.cmd.name;
        ctx.notify(notify::SET, event, dst);
    } else if ctx.lookup_write(dst).is_some() {
        ctx.db().remove(dst);
        ctx.modified(dst);
        ctx.notify(notify::GENERIC, "del", dst);
    }
    ctx.out().int(len as i64);
}

// ---------------------------------------------------------------------------------
// SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Diff,
}

/// SUNION key [key ...]
fn sunion(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    union_diff_generic(ctx, &args[1..], None, SetOp::Union)
}

/// SUNIONSTORE destination key [key ...]
fn sunionstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    union_diff_generic(ctx, &args[2..], Some(&args[1]), SetOp::Union)
}

/// SDIFF key [key ...]
fn sdiff(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    union_diff_generic(ctx, &args[1..], None, SetOp::Diff)
}

/// SDIFFSTORE destination key [key ...]
fn sdiffstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    union_diff_generic(ctx, &args[2..], Some(&args[1]), SetOp::Diff)
}

/// Redis's sunionDiffGenericCommand: the result is built as a new set (starting as
/// an intset), then replied or stored.
fn union_diff_generic(
    ctx: &mut Ctx<'_>,
    keys: &[Bytes],
    dst: Option<&[u8]>,
    op: SetOp,
) -> CmdResult {
    lookup_all(ctx, keys)?;
    let limits = limits(ctx);
    let result = {
        let db = &ctx.srv.dbs[ctx.client.db];
        let sets: Vec<Option<&Set>> = keys.iter().map(|k| peek_set(db, k)).collect();
        match op {
            SetOp::Union => union_of(&sets, limits),
            SetOp::Diff => diff_of(&sets, limits),
        }
    };
    match dst {
        Some(dst) => store_result(ctx, dst, result),
        None => reply_members(ctx.out(), &result),
    }
    Ok(())
}

fn union_of(sets: &[Option<&Set>], limits: SetLimits) -> Set {
    let mut result = Set::new_intset();
    for set in sets.iter().flatten() {
        for elem in set.iter() {
            result.insert_elem(elem, limits);
        }
    }
    result
}

/// The members of the first set in none of the others, by whichever of Redis's two
/// algorithms it would pick (they can leave the result in different encodings).
fn diff_of(sets: &[Option<&Set>], limits: SetLimits) -> Set {
    let mut result = Set::new_intset();
    let Some(Some(first)) = sets.first().copied() else {
        return result;
    };
    let rest = &sets[1..];
    if rest.iter().flatten().any(|s| std::ptr::eq(*s, first)) {
        return result;
    }
    let present = || sets.iter().flatten();
    let one_work = present().count() as u64 * first.len() as u64 / 2;
    let two_work: u64 = present().map(|s| s.len() as u64).sum();
    if one_work <= two_work {
        // Keep each member of the first set that no other set has.
        for elem in first.iter() {
            if !rest.iter().flatten().any(|s| s.contains_elem(elem)) {
                result.insert_elem(elem, limits);
            }
        }
    } else {
        // Add the whole first set, then remove every member of the others.
        first.iter().for_each(|elem| {
            result.insert_elem(elem, limits);
        });
        for set in rest.iter().flatten() {
            if result.is_empty() {
                break;
            }
            for elem in set.iter() {
                result.remove_elem(elem);
            }
        }
    }
    result
}

// ---------------------------------------------------------------------------------
// SSCAN

/// SSCAN key cursor [MATCH pattern] [COUNT count]
fn sscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let cursor = parse_scan_cursor(&args[2])?;
    if !read_exists(ctx, &args[1])? {
        let out = ctx.out();
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    }
    let opts = parse_scan_options(&args[3..], false)?;
    let Ctx { srv, client, .. } = ctx;
    let set = peek_set(&srv.dbs[client.db], &args[1]).ok_or(CmdError::Static(WRONGTYPE))?;
    let mut found: Vec<Owned> = Vec::new();
    let mut next = set.scan(cursor, |e| found.push(Owned::of(e)));
    let mut budget = opts.count.saturating_mul(SCAN_BUCKETS_PER_COUNT);
    while next != 0 && budget > 0 && (found.len() as u64) < opts.count {
        next = set.scan(next, |e| found.push(Owned::of(e)));
        budget -= 1;
    }
    if let Some(pattern) = opts.pattern {
        let mut scratch = [0u8; 20];
        found.retain(|e| glob_match(pattern, e.elem().bytes(&mut scratch), false));
    }
    let out = &mut client.out;
    out.array(2);
    // Redis sends the unsigned cursor through a signed formatter.
    out.bulk_i64(next as i64);
    out.array(found.len());
    found.iter().for_each(|e| reply_elem(out, e.elem()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::keys::harness::Harness;

    fn sadd_range(h: &mut Harness, key: &str, n: usize) {
        let members: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        h.run(&format!("SADD {key} {}", members.join(" ")));
    }

    #[test]
    fn spop_and_srandmember_replay_exactly_for_a_seed() {
        let run = || {
            let mut h = Harness::new();
            sadd_range(&mut h, "s", 100);
            h.run("SADD t a b c d e f g h i j");
            [
                h.run("SPOP s"),
                h.run("SPOP s 7"),
                h.run("SRANDMEMBER t -5"),
                h.run("SRANDMEMBER t 4"),
                h.run("SPOP t 9"),
            ]
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn spop_count_leaves_exactly_the_members_not_returned() {
        for count in [1, 10, 40, 49, 50, 51] {
            let mut h = Harness::new();
            sadd_range(&mut h, "s", 50);
            let popped = h.run(&format!("SPOP s {count}"));
            let returned = popped.matches("\r\n$").count();
            assert_eq!(returned, count.min(50), "count {count}: {popped}");
            let left = h.run("SCARD s");
            assert_eq!(left, format!(":{}\r\n", 50 - count.min(50)));
            let remaining = h.run("SMEMBERS s");
            for line in popped
                .split("\r\n")
                .filter(|l| !l.starts_with(['*', '$', '~']))
            {
                if !line.is_empty() {
                    assert!(
                        !remaining.contains(&format!("\r\n{line}\r\n")),
                        "{line} popped but still there"
                    );
                }
            }
        }
    }

    #[test]
    fn srandmember_distinct_counts_return_distinct_members() {
        let mut h = Harness::new();
        sadd_range(&mut h, "s", 30);
        for count in [2, 9, 10, 11, 29] {
            let reply = h.run(&format!("SRANDMEMBER s {count}"));
            let mut members: Vec<&str> = reply
                .split("\r\n")
                .skip(1)
                .filter(|l| !l.starts_with('$') && !l.is_empty())
                .collect();
            assert_eq!(members.len(), count);
            members.sort_unstable();
            members.dedup();
            assert_eq!(members.len(), count, "duplicates for count {count}");
        }
    }

    #[test]
    fn a_negative_srandmember_count_whose_reply_outgrows_the_bound_is_dropped() {
        let mut h = Harness::new();
        let member = "m".repeat(100);
        h.run(&format!("SADD s {member}"));
        // Under the count refused up front, but 100-byte members pass the bound.
        let reply = h.run("SRANDMEMBER s -10000");
        assert_eq!(reply, "", "the oversized reply is dropped");
        assert!(h.client.close_asap);
        let mut h = Harness::new();
        h.run(&format!("SADD s {member}"));
        assert!(h.run("SRANDMEMBER s -100").starts_with("*100\r\n"));
        assert!(!h.client.close_asap);
    }

    #[test]
    fn a_huge_negative_srandmember_count_stops_and_closes_the_connection() {
        let mut h = Harness::new();
        h.run("SADD s a-member-of-some-length");
        let reply = h.run("SRANDMEMBER s -9223372036854775807");
        assert_eq!(reply, "", "the oversized reply is dropped");
        assert!(h.client.close_asap);
    }

    #[test]
    fn sscan_walks_a_hash_table_in_several_calls() {
        let mut h = Harness::new();
        h.run("SADD s x");
        sadd_range(&mut h, "s", 200);
        let mut cursor = "0".to_string();
        let mut seen = std::collections::BTreeSet::new();
        let mut calls = 0;
        loop {
            let reply = h.run(&format!("SSCAN s {cursor} COUNT 5"));
            let lines: Vec<&str> = reply.split("\r\n").collect();
            cursor = lines[2].to_string();
            for pair in lines[4..].chunks(2) {
                if let [_, member] = pair {
                    if !member.is_empty() {
                        seen.insert(member.to_string());
                    }
                }
            }
            calls += 1;
            if cursor == "0" {
                break;
            }
        }
        assert!(calls > 5);
        assert_eq!(seen.len(), 201);
    }
}
