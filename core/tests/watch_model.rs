//! Model-based test of WATCH. Client A runs rounds: it WATCHes some keys (in one of
//! two databases), maybe reads or writes, then client B (in either database) writes,
//! fails to write or changes nothing while the clock moves, then A runs MULTI, some
//! queued commands and EXEC (or DISCARD). A reference model of Redis 7.0's rules
//! decides whether EXEC aborts and, from its copy of the dataset, what the queued
//! commands reply:
//!
//! - a key is touched by every write that changes it (signalModifiedKey), including
//!   its deletion by lazy expiry, never by a write that fails (WRONGTYPE, not an
//!   integer) or changes nothing (DEL or EXPIRE of a missing key, SREM of a
//!   non-member, SADD of a member, PERSIST without a TTL, SET NX on an existing key,
//!   RENAME of a key onto itself, COPY or MOVE onto an existing key); HSET touches
//!   even when the value is the same;
//! - FLUSHDB, FLUSHALL and SWAPDB touch the watched keys that exist in the emptied
//!   database or in the one swapped in (touchAllWatchedKeysInDb);
//! - a key that was already expired (still stored) when watched is flagged: its
//!   deletion is no change and clears the flag, swapping in another expired key
//!   keeps it; a key alive when watched that is expired by EXEC aborts it
//!   (isWatchedKeyExpired);
//! - UNWATCH, DISCARD and EXEC forget the watches and the dirty mark; WATCH inside
//!   MULTI is an error; a command refused while queueing makes EXEC abort with
//!   EXECABORT.
//!
//! Rounds come in three kinds: busy ones (anything goes), quiet ones (both clients
//! in one database, B sending commands that often change nothing, so a no-op
//! counted as a write shows) and stale ones (keys stored with short TTLs in both
//! databases and the clock past them before A watches, then flushes and swaps: the
//! `expired` flag's rules).
//!
//! Each "changes nothing" rule above was checked on redis-server 7.0.15 (and is a
//! case in `tests/scripts/transactions.txt`). Time only
//! moves by `Advance` and no cron tick is sent, so keys are deleted only lazily and
//! the model knows exactly which expired keys are still stored.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use ember_core::{Config, Node};
use proptest::prelude::*;
use support::{bulk, call, connect, err, strict_i64, Reply, START_MS, WRONGTYPE};

const KEYS: [&str; 5] = ["a", "b", "c", "d", "e"];
const FIELDS: [&str; 2] = ["f", "g"];
const MEMBERS: [&str; 3] = ["m", "n", "o"];
const DBS: usize = 2;
const A: u64 = 1;
const B: u64 = 2;
const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
const NO_SUCH_KEY: &str = "ERR no such key";
const SAME_OBJECT: &str = "ERR source and destination objects are the same";
const WATCH_IN_MULTI: &str = "ERR WATCH inside MULTI is not allowed";
const GET_ARITY: &str = "ERR wrong number of arguments for 'get' command";
const EXEC_ABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

type Key = &'static str;

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
    Hash(BTreeMap<&'static str, Vec<u8>>),
    Set(BTreeSet<&'static str>),
}

impl Val {
    fn type_name(&self) -> &'static str {
        match self {
            Val::Str(_) => "string",
            Val::List(_) => "list",
            Val::Hash(_) => "hash",
            Val::Set(_) => "set",
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    val: Val,
    deadline: Option<u64>,
}

impl Entry {
    fn persistent(val: Val) -> Entry {
        Entry {
            val,
            deadline: None,
        }
    }
}

/// One of A's watches.
#[derive(Debug, Clone)]
struct Watched {
    db: usize,
    key: Key,
    /// Stored but already expired when watched (Redis's `watchedKey.expired`).
    expired: bool,
}

/// A command one of the clients sends, in its current database.
#[derive(Debug, Clone)]
enum Cmd {
    Get(Key),
    Exists(Key),
    Type(Key),
    Pttl(Key),
    /// SET key value [PX ms] [NX]
    Set {
        key: Key,
        v: u8,
        px: Option<u64>,
        nx: bool,
    },
    Incr(Key),
    Del(Key),
    /// EXPIRE key seconds; 0 deletes the key at once.
    Expire(Key, u64),
    Persist(Key),
    Lpush(Key, u8),
    Hset(Key, &'static str, u8),
    Sadd(Key, &'static str),
    Srem(Key, &'static str),
    Rename(Key, Key),
    /// MOVE key to the other database.
    Move(Key),
    /// COPY src dst [DB other] [REPLACE]
    Copy {
        src: Key,
        dst: Key,
        other_db: bool,
        replace: bool,
    },
    FlushDb,
    FlushAll,
    SwapDb,
}

/// One step of the run.
#[derive(Debug, Clone)]
enum Op {
    /// A selects a database (its later WATCHes and commands go there).
    SelectA(usize),
    /// A: WATCH these keys (repeats allowed) in its database.
    Watch(Vec<Key>),
    /// A: UNWATCH.
    Unwatch,
    /// A runs a command outside a transaction (its own writes count too).
    ByA(Cmd),
    /// B selects a database.
    SelectB(usize),
    /// B runs a command in its database.
    ByB(Cmd),
    /// The clock moves on.
    Advance(u64),
    /// A: MULTI, the queued commands (with a WATCH inside, refused, and a command
    /// refused while queueing), then EXEC or DISCARD.
    Transaction {
        queued: Vec<Cmd>,
        watch_inside: bool,
        refused: bool,
        discard: bool,
    },
}

struct Model {
    dbs: [BTreeMap<Key, Entry>; DBS],
    watched: Vec<Watched>,
    dirty: bool,
    a_db: usize,
    b_db: usize,
}

fn value(v: u8) -> Vec<u8> {
    if v.is_multiple_of(3) {
        format!("x{v}").into_bytes()
    } else {
        v.to_string().into_bytes()
    }
}

fn ok() -> Reply {
    Reply::Status("OK".into())
}

fn is_expired(e: &Entry, now: u64) -> bool {
    e.deadline.is_some_and(|d| now > d)
}

impl Model {
    fn new() -> Model {
        Model {
            dbs: [BTreeMap::new(), BTreeMap::new()],
            watched: Vec::new(),
            dirty: false,
            a_db: 0,
            b_db: 0,
        }
    }

    fn stored_expired(&self, db: usize, key: &str, now: u64) -> bool {
        self.dbs[db].get(key).is_some_and(|e| is_expired(e, now))
    }

    /// touchWatchedKey: `key` in `db` was written (or deleted).
    fn touch(&mut self, db: usize, key: &str) {
        let exists = self.dbs[db].contains_key(key);
        for w in self
            .watched
            .iter_mut()
            .filter(|w| w.db == db && w.key == key)
        {
            if w.expired && !exists {
                w.expired = false;
            } else {
                self.dirty = true;
            }
        }
    }

    /// Lazy expiry on lookup: the deletion touches the key.
    fn lookup(&mut self, db: usize, key: Key, now: u64) -> Option<&mut Entry> {
        if self.stored_expired(db, key, now) {
            self.dbs[db].remove(key);
            self.touch(db, key);
        }
        self.dbs[db].get_mut(key)
    }

    /// Stores `entry` at `key` and touches it.
    fn store(&mut self, db: usize, key: Key, entry: Entry) {
        self.dbs[db].insert(key, entry);
        self.touch(db, key);
    }

    /// Removes `key` and touches it.
    fn delete(&mut self, db: usize, key: Key) {
        self.dbs[db].remove(key);
        self.touch(db, key);
    }

    /// touchAllWatchedKeysInDb, before `emptied` is flushed or swapped.
    fn touch_all(&mut self, emptied: usize, replaced_with: Option<usize>, now: u64) {
        for i in 0..self.watched.len() {
            let w = self.watched[i].clone();
            if w.db != emptied {
                continue;
            }
            let in_emptied = self.dbs[emptied].contains_key(w.key);
            let in_other = replaced_with.is_some_and(|r| self.dbs[r].contains_key(w.key));
            if !in_emptied && !in_other {
                continue;
            }
            let other_expired = replaced_with.is_some_and(|r| self.stored_expired(r, w.key, now));
            if w.expired {
                if !in_other {
                    self.watched[i].expired = false;
                    continue;
                }
                if other_expired {
                    continue;
                }
            } else if !in_emptied && other_expired {
                self.watched[i].expired = true;
                continue;
            }
            self.dirty = true;
        }
    }

    /// WATCH in A's database: a key watched twice is one watch, and once dirty
    /// nothing more matters until EXEC.
    fn watch(&mut self, keys: &[Key], now: u64) {
        let db = self.a_db;
        for &key in keys {
            if self.watched.iter().any(|w| w.db == db && w.key == key) {
                continue;
            }
            let expired = self.stored_expired(db, key, now);
            self.watched.push(Watched { db, key, expired });
        }
    }

    fn unwatch(&mut self) {
        self.watched.clear();
        self.dirty = false;
    }

    /// EXEC's verdict: the transaction aborts.
    fn exec_aborts(&self, now: u64) -> bool {
        self.dirty
            || self
                .watched
                .iter()
                .any(|w| !w.expired && self.stored_expired(w.db, w.key, now))
    }

    fn apply(&mut self, db: usize, cmd: &Cmd, now: u64) -> Reply {
        match *cmd {
            Cmd::Get(k) => self.get(db, k, now),
            Cmd::Exists(k) => Reply::Int(self.lookup(db, k, now).is_some().into()),
            Cmd::Type(k) => {
                let name = self
                    .lookup(db, k, now)
                    .map_or("none", |e| e.val.type_name());
                Reply::Status(name.into())
            }
            Cmd::Pttl(k) => Reply::Int(match self.lookup(db, k, now) {
                None => -2,
                Some(Entry { deadline: None, .. }) => -1,
                Some(Entry {
                    deadline: Some(d), ..
                }) => (*d - now) as i64,
            }),
            Cmd::Set { key, v, px, nx } => self.set(db, key, v, px, nx, now),
            Cmd::Incr(k) => self.incr(db, k, now),
            Cmd::Del(k) => {
                if self.lookup(db, k, now).is_none() {
                    return Reply::Int(0);
                }
                self.delete(db, k);
                Reply::Int(1)
            }
            Cmd::Expire(k, secs) => self.expire(db, k, secs, now),
            Cmd::Persist(k) => match self.lookup(db, k, now) {
                Some(e) if e.deadline.is_some() => {
                    e.deadline = None;
                    self.touch(db, k);
                    Reply::Int(1)
                }
                _ => Reply::Int(0),
            },
            Cmd::Lpush(k, v) => self.lpush(db, k, v, now),
            Cmd::Hset(k, f, v) => self.hset(db, k, f, v, now),
            Cmd::Sadd(k, m) => self.sadd(db, k, m, now),
            Cmd::Srem(k, m) => self.srem(db, k, m, now),
            Cmd::Rename(src, dst) => self.rename(db, src, dst, now),
            Cmd::Move(k) => self.move_key(db, k, now),
            Cmd::Copy {
                src,
                dst,
                other_db,
                replace,
            } => {
                let to = if other_db { 1 - db } else { db };
                self.copy(db, src, to, dst, replace, now)
            }
            Cmd::FlushDb => {
                self.touch_all(db, None, now);
                self.dbs[db].clear();
                ok()
            }
            Cmd::FlushAll => {
                for d in 0..DBS {
                    self.touch_all(d, None, now);
                    self.dbs[d].clear();
                }
                ok()
            }
            Cmd::SwapDb => {
                self.touch_all(0, Some(1), now);
                self.touch_all(1, Some(0), now);
                self.dbs.swap(0, 1);
                ok()
            }
        }
    }

    fn get(&mut self, db: usize, k: Key, now: u64) -> Reply {
        match self.lookup(db, k, now) {
            None => Reply::Bulk(None),
            Some(Entry {
                val: Val::Str(s), ..
            }) => bulk(s),
            Some(_) => err(WRONGTYPE),
        }
    }

    /// SET always looks the key up for writing (lazy expiry), NX or not.
    fn set(&mut self, db: usize, k: Key, v: u8, px: Option<u64>, nx: bool, now: u64) -> Reply {
        if self.lookup(db, k, now).is_some() && nx {
            return Reply::Bulk(None);
        }
        let entry = Entry {
            val: Val::Str(value(v)),
            deadline: px.map(|ms| now + ms),
        };
        self.store(db, k, entry);
        ok()
    }

    /// INCR keeps the key's TTL.
    fn incr(&mut self, db: usize, k: Key, now: u64) -> Reply {
        let (next, deadline) = match self.lookup(db, k, now) {
            None => (1, None),
            Some(Entry {
                val: Val::Str(s),
                deadline,
            }) => match strict_i64(s).and_then(|n| n.checked_add(1)) {
                Some(n) => (n, *deadline),
                None => return err(NOT_INTEGER),
            },
            Some(_) => return err(WRONGTYPE),
        };
        let val = Val::Str(next.to_string().into_bytes());
        self.store(db, k, Entry { val, deadline });
        Reply::Int(next)
    }

    fn expire(&mut self, db: usize, k: Key, secs: u64, now: u64) -> Reply {
        let Some(e) = self.lookup(db, k, now) else {
            return Reply::Int(0);
        };
        if secs == 0 {
            // A deadline not in the future deletes the key at once.
            self.delete(db, k);
        } else {
            e.deadline = Some(now + secs * 1000);
            self.touch(db, k);
        }
        Reply::Int(1)
    }

    fn lpush(&mut self, db: usize, k: Key, v: u8, now: u64) -> Reply {
        let len = match self.lookup(db, k, now) {
            None => {
                self.dbs[db].insert(k, Entry::persistent(Val::List(vec![value(v)])));
                1
            }
            Some(Entry {
                val: Val::List(items),
                ..
            }) => {
                items.insert(0, value(v));
                items.len()
            }
            Some(_) => return err(WRONGTYPE),
        };
        self.touch(db, k);
        Reply::Int(len as i64)
    }

    /// HSET touches the key even when the field already held this value.
    fn hset(&mut self, db: usize, k: Key, f: &'static str, v: u8, now: u64) -> Reply {
        let added = match self.lookup(db, k, now) {
            None => {
                let hash = BTreeMap::from([(f, value(v))]);
                self.dbs[db].insert(k, Entry::persistent(Val::Hash(hash)));
                true
            }
            Some(Entry {
                val: Val::Hash(h), ..
            }) => h.insert(f, value(v)).is_none(),
            Some(_) => return err(WRONGTYPE),
        };
        self.touch(db, k);
        Reply::Int(added.into())
    }

    /// SADD of a member already there changes nothing.
    fn sadd(&mut self, db: usize, k: Key, m: &'static str, now: u64) -> Reply {
        let added = match self.lookup(db, k, now) {
            None => {
                let set = BTreeSet::from([m]);
                self.dbs[db].insert(k, Entry::persistent(Val::Set(set)));
                true
            }
            Some(Entry {
                val: Val::Set(s), ..
            }) => s.insert(m),
            Some(_) => return err(WRONGTYPE),
        };
        if added {
            self.touch(db, k);
        }
        Reply::Int(added.into())
    }

    /// SREM of a non-member changes nothing; removing the last member deletes the key.
    fn srem(&mut self, db: usize, k: Key, m: &'static str, now: u64) -> Reply {
        let emptied = match self.lookup(db, k, now) {
            None => return Reply::Int(0),
            Some(Entry {
                val: Val::Set(s), ..
            }) => {
                if !s.remove(m) {
                    return Reply::Int(0);
                }
                s.is_empty()
            }
            Some(_) => return err(WRONGTYPE),
        };
        if emptied {
            self.dbs[db].remove(k);
        }
        self.touch(db, k);
        Reply::Int(1)
    }

    /// RENAME moves the value with its TTL; onto itself it changes nothing.
    fn rename(&mut self, db: usize, src: Key, dst: Key, now: u64) -> Reply {
        if self.lookup(db, src, now).is_none() {
            return err(NO_SUCH_KEY);
        }
        if src == dst {
            return ok();
        }
        self.lookup(db, dst, now);
        let Some(entry) = self.dbs[db].remove(src) else {
            unreachable!("looked up");
        };
        self.dbs[db].insert(dst, entry);
        self.touch(db, src);
        self.touch(db, dst);
        ok()
    }

    /// MOVE to the other database, with the TTL; not onto an existing key.
    fn move_key(&mut self, db: usize, k: Key, now: u64) -> Reply {
        let to = 1 - db;
        if self.lookup(db, k, now).is_none() || self.lookup(to, k, now).is_some() {
            return Reply::Int(0);
        }
        let Some(entry) = self.dbs[db].remove(k) else {
            unreachable!("looked up");
        };
        self.dbs[to].insert(k, entry);
        self.touch(db, k);
        self.touch(to, k);
        Reply::Int(1)
    }

    /// COPY with the TTL; onto an existing key only with REPLACE.
    fn copy(&mut self, db: usize, src: Key, to: usize, dst: Key, replace: bool, now: u64) -> Reply {
        if db == to && src == dst {
            return err(SAME_OBJECT);
        }
        let Some(entry) = self.lookup(db, src, now).cloned() else {
            return Reply::Int(0);
        };
        if self.lookup(to, dst, now).is_some() && !replace {
            return Reply::Int(0);
        }
        self.store(to, dst, entry);
        Reply::Int(1)
    }
}

fn args(cmd: &Cmd) -> Vec<String> {
    let line = match *cmd {
        Cmd::Get(k) => format!("GET {k}"),
        Cmd::Exists(k) => format!("EXISTS {k}"),
        Cmd::Type(k) => format!("TYPE {k}"),
        Cmd::Pttl(k) => format!("PTTL {k}"),
        Cmd::Set { key, v, px, nx } => {
            let px = px.map(|ms| format!(" PX {ms}")).unwrap_or_default();
            let nx = if nx { " NX" } else { "" };
            format!("SET {key} {}{px}{nx}", String::from_utf8_lossy(&value(v)))
        }
        Cmd::Incr(k) => format!("INCR {k}"),
        Cmd::Del(k) => format!("DEL {k}"),
        Cmd::Expire(k, secs) => format!("EXPIRE {k} {secs}"),
        Cmd::Persist(k) => format!("PERSIST {k}"),
        Cmd::Lpush(k, v) => format!("LPUSH {k} {}", String::from_utf8_lossy(&value(v))),
        Cmd::Hset(k, f, v) => format!("HSET {k} {f} {}", String::from_utf8_lossy(&value(v))),
        Cmd::Sadd(k, m) => format!("SADD {k} {m}"),
        Cmd::Srem(k, m) => format!("SREM {k} {m}"),
        Cmd::Rename(s, d) => format!("RENAME {s} {d}"),
        Cmd::Move(k) => format!("MOVE {k} OTHER"),
        Cmd::Copy {
            src,
            dst,
            other_db,
            replace,
        } => {
            let db = if other_db { " DB OTHER" } else { "" };
            let replace = if replace { " REPLACE" } else { "" };
            format!("COPY {src} {dst}{db}{replace}")
        }
        Cmd::FlushDb => "FLUSHDB".into(),
        Cmd::FlushAll => "FLUSHALL".into(),
        Cmd::SwapDb => "SWAPDB 0 1".into(),
    };
    line.split(' ').map(str::to_owned).collect()
}

/// The arguments of `cmd` run in database `db` (MOVE and COPY name the other one).
fn args_in(cmd: &Cmd, db: usize) -> Vec<String> {
    let other = (1 - db).to_string();
    let mut argv = args(cmd);
    for a in &mut argv {
        if a == "OTHER" {
            a.clone_from(&other);
        }
    }
    argv
}

fn key() -> impl Strategy<Value = Key> {
    prop::sample::select(&KEYS[..])
}

/// Mostly `home`, the key a command family keeps its type in (strings in "a" and
/// "b", a list in "c", a hash in "d", a set in "e"), so writes that change nothing
/// (SADD of a member, HSET of the same value...) find a value of their type; else
/// any key, for WRONGTYPE.
fn key_near(home: &'static [Key]) -> impl Strategy<Value = Key> {
    prop_oneof![3 => prop::sample::select(home), 1 => key()]
}

/// Few values, so writes of the value already there (SET, HSET) are common.
fn small_value() -> impl Strategy<Value = u8> {
    0u8..4
}

fn member() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&MEMBERS[..])
}

fn db() -> impl Strategy<Value = usize> {
    0..DBS
}

fn read_cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        key().prop_map(Cmd::Get),
        key().prop_map(Cmd::Exists),
        key().prop_map(Cmd::Type),
        key().prop_map(Cmd::Pttl),
    ]
}

fn set_cmd() -> impl Strategy<Value = Cmd> {
    (
        key_near(&["a", "b"]),
        small_value(),
        prop::option::weighted(0.4, 1u64..40),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(key, v, px, nx)| Cmd::Set { key, v, px, nx })
}

fn copy_cmd() -> impl Strategy<Value = Cmd> {
    (key(), key(), any::<bool>(), any::<bool>()).prop_map(|(src, dst, other_db, replace)| {
        Cmd::Copy {
            src,
            dst,
            other_db,
            replace,
        }
    })
}

/// Writes to the keys: ones that change them, ones that fail on the wrong type
/// or value, and ones that find nothing to change.
fn write_cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        3 => set_cmd(),
        2 => key_near(&["a", "b"]).prop_map(Cmd::Incr),
        2 => key().prop_map(Cmd::Del),
        2 => (key(), 0u64..3).prop_map(|(k, s)| Cmd::Expire(k, s)),
        1 => key().prop_map(Cmd::Persist),
        2 => (key_near(&["c"]), small_value()).prop_map(|(k, v)| Cmd::Lpush(k, v)),
        2 => (key_near(&["d"]), prop::sample::select(&FIELDS[..]), small_value())
            .prop_map(|(k, f, v)| Cmd::Hset(k, f, v)),
        2 => (key_near(&["e"]), member()).prop_map(|(k, m)| Cmd::Sadd(k, m)),
        2 => (key_near(&["e"]), member()).prop_map(|(k, m)| Cmd::Srem(k, m)),
        2 => (key(), key()).prop_map(|(s, d)| Cmd::Rename(s, d)),
        1 => key().prop_map(Cmd::Move),
        2 => copy_cmd(),
    ]
}

fn keyspace_cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![1 => read_cmd(), 3 => write_cmd()]
}

fn any_cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        16 => keyspace_cmd(),
        1 => Just(Cmd::FlushDb),
        1 => Just(Cmd::FlushAll),
        1 => Just(Cmd::SwapDb),
    ]
}

fn advance() -> impl Strategy<Value = Op> {
    prop_oneof![1u64..20, 1000u64..2500].prop_map(Op::Advance)
}

/// What A does between its WATCHes and MULTI.
fn a_between() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => read_cmd().prop_map(Op::ByA),
        2 => write_cmd().prop_map(Op::ByA),
        1 => Just(Op::Unwatch),
        1 => prop::collection::vec(key(), 1..3).prop_map(Op::Watch),
    ]
}

/// What B does while A waits.
fn b_step() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => db().prop_map(Op::SelectB),
        10 => any_cmd().prop_map(Op::ByB),
        3 => advance(),
    ]
}

fn transaction() -> impl Strategy<Value = Op> {
    (
        prop::collection::vec(any_cmd(), 0..4),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.05),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(queued, watch_inside, refused, discard)| Op::Transaction {
            queued,
            watch_inside,
            refused,
            discard,
        })
}

/// Commands that often change nothing: SET NX, writes on the wrong type, SADD of
/// a member, SREM, DEL, EXPIRE and PERSIST of missing keys, RENAME of a key onto
/// itself, COPY and MOVE onto existing keys (the model decides which really do).
fn quiet_cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        2 => read_cmd(),
        1 => (key(), small_value()).prop_map(|(key, v)| Cmd::Set { key, v, px: None, nx: true }),
        1 => key().prop_map(Cmd::Incr),
        1 => (key_near(&["a", "b"]), small_value()).prop_map(|(k, v)| Cmd::Lpush(k, v)),
        2 => (key_near(&["d"]), prop::sample::select(&FIELDS[..]), small_value())
            .prop_map(|(k, f, v)| Cmd::Hset(k, f, v)),
        1 => (key_near(&["e"]), member()).prop_map(|(k, m)| Cmd::Sadd(k, m)),
        1 => (key_near(&["e"]), member()).prop_map(|(k, m)| Cmd::Srem(k, m)),
        1 => key().prop_map(Cmd::Del),
        1 => (key(), 1u64..3).prop_map(|(k, s)| Cmd::Expire(k, s)),
        1 => key().prop_map(Cmd::Persist),
        1 => key().prop_map(|k| Cmd::Rename(k, k)),
        1 => (key(), key(), any::<bool>()).prop_map(|(src, dst, other_db)| Cmd::Copy {
            src,
            dst,
            other_db,
            replace: false,
        }),
        1 => key().prop_map(Cmd::Move),
    ]
}

/// A busy round: A maybe changes database, WATCHes (or not), maybe reads or
/// writes; B does anything; A runs its transaction.
fn busy_round() -> impl Strategy<Value = Vec<Op>> {
    (
        prop::option::weighted(0.3, db()),
        prop::collection::vec(prop::collection::vec(key(), 1..4), 0..3),
        prop::collection::vec(a_between(), 0..3),
        prop::collection::vec(b_step(), 0..5),
        transaction(),
    )
        .prop_map(|(select, watches, between, by_b, txn)| {
            let mut ops: Vec<Op> = select.map(Op::SelectA).into_iter().collect();
            ops.extend(watches.into_iter().map(Op::Watch));
            ops.extend(between);
            ops.extend(by_b);
            ops.push(txn);
            ops
        })
}

/// A quiet round: both clients in one database, A watches and reads, B sends
/// commands that often change nothing, so a no-op counted as a write shows.
fn quiet_round() -> impl Strategy<Value = Vec<Op>> {
    (
        db(),
        prop::collection::vec(key(), 1..5),
        prop::collection::vec(read_cmd(), 0..2),
        prop::collection::vec(quiet_cmd(), 1..4),
        transaction(),
    )
        .prop_map(|(db, watched, reads, by_b, txn)| {
            let mut ops = vec![Op::SelectA(db), Op::SelectB(db), Op::Watch(watched)];
            ops.extend(reads.into_iter().map(Op::ByA));
            ops.extend(by_b.into_iter().map(Op::ByB));
            ops.push(txn);
            ops
        })
}

/// SET key value PX ms with a TTL shorter than a stale round's clock step.
fn short_lived_set() -> impl Strategy<Value = Cmd> {
    (key(), small_value(), 1u64..10).prop_map(|(k, v, ms)| set(k, v, Some(ms)))
}

/// A stale round: B stores keys with short TTLs in both databases and the clock
/// passes them, so A watches keys that are expired but still stored; then B reads,
/// writes, flushes or swaps (the rules for the `expired` flag).
fn stale_round() -> impl Strategy<Value = Vec<Op>> {
    let b_cmd = prop_oneof![
        2 => Just(Cmd::SwapDb),
        1 => Just(Cmd::FlushDb),
        1 => Just(Cmd::FlushAll),
        2 => read_cmd(),
        1 => set_cmd(),
        1 => key().prop_map(Cmd::Del),
    ];
    (
        prop::collection::vec(short_lived_set(), 1..4),
        prop::collection::vec(short_lived_set(), 0..4),
        db(),
        prop::collection::vec(key(), 1..4),
        db(),
        prop::collection::vec(b_cmd, 0..3),
        transaction(),
    )
        .prop_map(|(in_0, in_1, a_db, watched, b_db, by_b, txn)| {
            let mut ops = vec![Op::SelectB(0)];
            ops.extend(in_0.into_iter().map(Op::ByB));
            ops.push(Op::SelectB(1));
            ops.extend(in_1.into_iter().map(Op::ByB));
            ops.extend([Op::Advance(10), Op::SelectA(a_db), Op::Watch(watched)]);
            ops.push(Op::SelectB(b_db));
            ops.extend(by_b.into_iter().map(Op::ByB));
            ops.push(txn);
            ops
        })
}

fn round() -> impl Strategy<Value = Vec<Op>> {
    prop_oneof![4 => busy_round(), 2 => quiet_round(), 1 => stale_round()]
}

fn rounds() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(round(), 1..16).prop_map(|r| r.into_iter().flatten().collect())
}

/// Runs A's transaction on the node and the model; returns (got, expected) EXEC
/// (or DISCARD) replies after checking the queueing replies.
fn run_transaction(node: &mut Node, model: &mut Model, now: u64, txn: &Op) -> (Reply, Reply) {
    let Op::Transaction {
        queued,
        watch_inside,
        refused,
        discard,
    } = txn
    else {
        unreachable!("a transaction");
    };
    assert_eq!(call(node, now, A, &["MULTI"]), ok());
    if *watch_inside {
        assert_eq!(call(node, now, A, &["WATCH", "a"]), err(WATCH_IN_MULTI));
    }
    if *refused {
        assert_eq!(call(node, now, A, &["GET"]), err(GET_ARITY));
    }
    let db = model.a_db;
    for cmd in queued {
        let reply = call(node, now, A, &args_in(cmd, db));
        assert_eq!(reply, Reply::Status("QUEUED".into()), "{cmd:?}");
    }
    if *discard {
        model.unwatch();
        return (call(node, now, A, &["DISCARD"]), ok());
    }
    let got = call(node, now, A, &["EXEC"]);
    let expected = if *refused {
        err(EXEC_ABORT)
    } else if model.exec_aborts(now) {
        Reply::NullArray
    } else {
        // EXEC unwatches before running the queue, so its own writes touch nothing.
        model.unwatch();
        Reply::Array(queued.iter().map(|c| model.apply(db, c, now)).collect())
    };
    model.unwatch();
    (got, expected)
}

fn select(node: &mut Node, now: u64, conn: u64, db: usize) -> Reply {
    call(node, now, conn, &["SELECT", db.to_string().as_str()])
}

fn check(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut node = Node::new(Config::default(), [7; 32], START_MS);
    let mut now = START_MS;
    connect(&mut node, now, A);
    connect(&mut node, now, B);
    let mut model = Model::new();
    for (step, op) in ops.iter().enumerate() {
        let (got, expected) = match op {
            Op::SelectA(db) => {
                model.a_db = *db;
                (select(&mut node, now, A, *db), ok())
            }
            Op::Watch(keys) => {
                model.watch(keys, now);
                let mut argv = vec!["WATCH"];
                argv.extend(keys.iter().copied());
                (call(&mut node, now, A, &argv), ok())
            }
            Op::Unwatch => {
                model.unwatch();
                (call(&mut node, now, A, &["UNWATCH"]), ok())
            }
            Op::ByA(cmd) => {
                let db = model.a_db;
                let got = call(&mut node, now, A, &args_in(cmd, db));
                (got, model.apply(db, cmd, now))
            }
            Op::SelectB(db) => {
                model.b_db = *db;
                (select(&mut node, now, B, *db), ok())
            }
            Op::ByB(cmd) => {
                let db = model.b_db;
                let got = call(&mut node, now, B, &args_in(cmd, db));
                (got, model.apply(db, cmd, now))
            }
            Op::Advance(ms) => {
                now += ms;
                continue;
            }
            Op::Transaction { .. } => run_transaction(&mut node, &mut model, now, op),
        };
        prop_assert_eq!(got, expected, "step {}: {:?}", step, op);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn watch_follows_redis_rules(ops in rounds()) {
        check(&ops)?;
    }
}

// The rules the random runs rely on, one scenario each, so a broken rule names
// itself. Each was run on redis-server 7.0.15 with the same outcome.

fn exec_of(queued: Vec<Cmd>) -> Op {
    Op::Transaction {
        queued,
        watch_inside: false,
        refused: false,
        discard: false,
    }
}

fn set(key: Key, v: u8, px: Option<u64>) -> Cmd {
    Cmd::Set {
        key,
        v,
        px,
        nx: false,
    }
}

#[test]
fn a_key_already_expired_when_watched_is_no_change_when_deleted_but_is_when_rewritten() {
    let ops = [
        Op::ByB(set("a", 1, Some(5))),
        Op::Advance(10),
        Op::Watch(vec!["a"]),
        Op::ByB(Cmd::Get("a")),
        exec_of(vec![Cmd::Get("b")]),
        Op::ByB(set("a", 1, Some(5))),
        Op::Advance(10),
        Op::Watch(vec!["a"]),
        Op::ByB(set("a", 2, None)),
        exec_of(vec![Cmd::Get("a")]),
    ];
    check(&ops).unwrap();
}

#[test]
fn failed_writes_and_no_op_writes_leave_watches_alone() {
    let ops = [
        Op::ByB(set("a", 3, None)),
        Op::ByB(Cmd::Lpush("b", 1)),
        Op::ByB(Cmd::Sadd("d", "m")),
        Op::Watch(vec!["a", "b", "c", "d", "a"]),
        Op::ByB(Cmd::Incr("a")),
        Op::ByB(Cmd::Incr("b")),
        Op::ByB(Cmd::Lpush("a", 1)),
        Op::ByB(Cmd::Hset("b", "f", 1)),
        Op::ByB(Cmd::Del("c")),
        Op::ByB(Cmd::Expire("c", 1)),
        Op::ByB(Cmd::Persist("a")),
        Op::ByB(Cmd::Rename("c", "a")),
        Op::ByB(Cmd::Rename("a", "a")),
        Op::ByB(Cmd::Srem("d", "n")),
        Op::ByB(Cmd::Sadd("d", "m")),
        Op::ByB(Cmd::Set {
            key: "a",
            v: 1,
            px: None,
            nx: true,
        }),
        Op::ByB(Cmd::Copy {
            src: "b",
            dst: "a",
            other_db: false,
            replace: false,
        }),
        Op::ByB(Cmd::Move("e")),
        Op::Transaction {
            queued: vec![Cmd::Get("a")],
            watch_inside: true,
            refused: false,
            discard: false,
        },
    ];
    check(&ops).unwrap();
}

#[test]
fn hset_of_the_same_value_and_copy_replace_are_changes() {
    let ops = [
        Op::ByB(Cmd::Hset("a", "f", 1)),
        Op::Watch(vec!["a"]),
        Op::ByB(Cmd::Hset("a", "f", 1)),
        exec_of(vec![Cmd::Type("a")]),
        Op::ByB(set("b", 1, None)),
        Op::Watch(vec!["a"]),
        Op::ByB(Cmd::Copy {
            src: "b",
            dst: "a",
            other_db: false,
            replace: true,
        }),
        exec_of(vec![Cmd::Type("a")]),
    ];
    check(&ops).unwrap();
}

#[test]
fn writes_from_another_database_reach_watches_through_move_and_copy() {
    let ops = [
        Op::SelectA(1),
        Op::Watch(vec!["a", "b"]),
        Op::ByB(set("a", 1, None)),
        exec_of(vec![Cmd::Exists("a")]),
        Op::Watch(vec!["a"]),
        Op::ByB(Cmd::Move("a")),
        exec_of(vec![Cmd::Exists("a")]),
        Op::ByB(set("b", 1, Some(5000))),
        Op::Watch(vec!["b"]),
        Op::ByB(Cmd::Copy {
            src: "b",
            dst: "b",
            other_db: true,
            replace: false,
        }),
        exec_of(vec![Cmd::Pttl("b")]),
    ];
    check(&ops).unwrap();
}

#[test]
fn swapping_in_an_expired_key_is_no_change_but_a_live_one_is() {
    let ops = [
        Op::SelectB(1),
        Op::ByB(set("a", 1, Some(5))),
        Op::Advance(10),
        Op::Watch(vec!["a"]),
        Op::ByB(Cmd::SwapDb),
        exec_of(vec![Cmd::Get("b")]),
        Op::ByB(Cmd::FlushAll),
        Op::ByB(set("a", 1, None)),
        Op::Watch(vec!["a"]),
        Op::ByB(Cmd::SwapDb),
        exec_of(vec![Cmd::Get("b")]),
    ];
    check(&ops).unwrap();
}

#[test]
fn own_writes_discard_and_a_refused_command_end_the_watch() {
    let ops = [
        Op::ByA(set("a", 1, None)),
        Op::Watch(vec!["a"]),
        Op::ByA(Cmd::Incr("a")),
        exec_of(vec![Cmd::Get("a")]),
        Op::Watch(vec!["a"]),
        Op::ByB(Cmd::Del("a")),
        Op::Transaction {
            queued: vec![Cmd::Get("a")],
            watch_inside: false,
            refused: false,
            discard: true,
        },
        exec_of(vec![Cmd::Get("a")]),
        Op::Watch(vec!["b"]),
        Op::ByB(set("b", 1, None)),
        Op::Transaction {
            queued: vec![Cmd::Get("b")],
            watch_inside: false,
            refused: true,
            discard: false,
        },
        exec_of(vec![Cmd::Get("b")]),
    ];
    check(&ops).unwrap();
}
