//! Model-based test of WATCH: client A watches keys, client B writes (or fails to
//! write) while the clock moves, then A runs MULTI ... EXEC. A reference model of
//! Redis 7.0's rules decides whether EXEC aborts and what the queued commands reply:
//!
//! - a key is touched by every write that changes it (touchWatchedKey), including
//!   its deletion by lazy expiry, never by a write that fails or changes nothing;
//! - FLUSHDB, FLUSHALL and SWAPDB touch the watched keys that exist in the emptied
//!   database or in the one swapped in (touchAllWatchedKeysInDb);
//! - a key that was already expired (still stored) when watched is flagged: its
//!   deletion is no change and clears the flag, swapping in another expired key
//!   keeps it; a key alive when watched that is expired by EXEC aborts it
//!   (isWatchedKeyExpired).
//!
//! Time only moves by `Advance` and no cron tick is sent, so keys are deleted only
//! lazily and the model knows exactly which expired keys are still stored.

mod support;

use std::collections::BTreeMap;

use ember_core::{Config, Node};
use proptest::prelude::*;
use support::{bulk, call, connect, err, strict_i64, Reply, START_MS, WRONGTYPE};

const KEYS: [&str; 4] = ["a", "b", "c", "d"];
const A: u64 = 1;
const B: u64 = 2;
const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
const NO_SUCH_KEY: &str = "ERR no such key";
const WATCH_IN_MULTI: &str = "ERR WATCH inside MULTI is not allowed";

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
}

#[derive(Debug, Clone)]
struct Entry {
    val: Val,
    deadline: Option<u64>,
}

/// One of A's watches.
#[derive(Debug, Clone)]
struct Watched {
    db: usize,
    key: &'static str,
    /// Stored but already expired when watched (Redis's `watchedKey.expired`).
    expired: bool,
}

/// A command one of the clients sends.
#[derive(Debug, Clone)]
enum Cmd {
    Get(&'static str),
    Set(&'static str, u8, Option<u64>),
    Incr(&'static str),
    Del(&'static str),
    Expire(&'static str, u64),
    Lpush(&'static str, u8),
    Rename(&'static str, &'static str),
    Move(&'static str),
    FlushDb,
    FlushAll,
    SwapDb,
}

/// One step of the run.
#[derive(Debug, Clone)]
enum Op {
    /// A: WATCH these keys in its database (0).
    Watch(Vec<&'static str>),
    /// A: UNWATCH.
    Unwatch,
    /// A runs a command outside a transaction (its own writes count too).
    ByA(Cmd),
    /// B selects a database.
    Select(usize),
    /// B runs a command in its database.
    ByB(Cmd),
    /// The clock moves on.
    Advance(u64),
    /// A: MULTI, the queued commands (with a WATCH inside, refused), then EXEC or
    /// DISCARD.
    Transaction {
        queued: Vec<Cmd>,
        watch_inside: bool,
        discard: bool,
    },
}

struct Model {
    dbs: [BTreeMap<&'static str, Entry>; 2],
    watched: Vec<Watched>,
    dirty: bool,
    b_db: usize,
}

fn value(v: u8) -> Vec<u8> {
    if v.is_multiple_of(3) {
        format!("x{v}").into_bytes()
    } else {
        v.to_string().into_bytes()
    }
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
    fn lookup(&mut self, db: usize, key: &'static str, now: u64) -> Option<&mut Entry> {
        if self.stored_expired(db, key, now) {
            self.dbs[db].remove(key);
            self.touch(db, key);
        }
        self.dbs[db].get_mut(key)
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

    fn watch(&mut self, keys: &[&'static str], now: u64) {
        for &key in keys {
            if self.watched.iter().any(|w| w.db == 0 && w.key == key) {
                continue;
            }
            let expired = self.stored_expired(0, key, now);
            self.watched.push(Watched {
                db: 0,
                key,
                expired,
            });
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
        match cmd {
            Cmd::Get(k) => match self.lookup(db, k, now) {
                None => Reply::Bulk(None),
                Some(Entry {
                    val: Val::Str(s), ..
                }) => bulk(s),
                Some(_) => err(WRONGTYPE),
            },
            Cmd::Set(k, v, px) => {
                self.lookup(db, k, now);
                let deadline = px.map(|ms| now + ms);
                self.dbs[db].insert(
                    k,
                    Entry {
                        val: Val::Str(value(*v)),
                        deadline,
                    },
                );
                self.touch(db, k);
                Reply::Status("OK".into())
            }
            Cmd::Incr(k) => {
                let next = match self.lookup(db, k, now) {
                    None => 1,
                    Some(Entry {
                        val: Val::Str(s), ..
                    }) => match strict_i64(s) {
                        Some(n) => n + 1,
                        None => return err(NOT_INTEGER),
                    },
                    Some(_) => return err(WRONGTYPE),
                };
                let deadline = self.dbs[db].get(k).and_then(|e| e.deadline);
                let val = Val::Str(next.to_string().into_bytes());
                self.dbs[db].insert(k, Entry { val, deadline });
                self.touch(db, k);
                Reply::Int(next)
            }
            Cmd::Del(k) => {
                if self.lookup(db, k, now).is_none() {
                    return Reply::Int(0);
                }
                self.dbs[db].remove(k);
                self.touch(db, k);
                Reply::Int(1)
            }
            Cmd::Expire(k, secs) => match self.lookup(db, k, now) {
                None => Reply::Int(0),
                Some(e) => {
                    e.deadline = Some(now + secs * 1000);
                    self.touch(db, k);
                    Reply::Int(1)
                }
            },
            Cmd::Lpush(k, v) => {
                let len = match self.lookup(db, k, now) {
                    None => {
                        let val = Val::List(vec![value(*v)]);
                        self.dbs[db].insert(
                            k,
                            Entry {
                                val,
                                deadline: None,
                            },
                        );
                        1
                    }
                    Some(Entry {
                        val: Val::List(items),
                        ..
                    }) => {
                        items.insert(0, value(*v));
                        items.len()
                    }
                    Some(_) => return err(WRONGTYPE),
                };
                self.touch(db, k);
                Reply::Int(len as i64)
            }
            Cmd::Rename(src, dst) => {
                if self.lookup(db, src, now).is_none() {
                    return err(NO_SUCH_KEY);
                }
                self.lookup(db, dst, now);
                let entry = self.dbs[db].remove(src).expect("looked up");
                self.dbs[db].insert(dst, entry);
                self.touch(db, src);
                self.touch(db, dst);
                Reply::Status("OK".into())
            }
            Cmd::Move(k) => {
                let to = 1 - db;
                if self.lookup(db, k, now).is_none() || self.lookup(to, k, now).is_some() {
                    return Reply::Int(0);
                }
                let entry = self.dbs[db].remove(k).expect("looked up");
                self.dbs[to].insert(k, entry);
                self.touch(db, k);
                self.touch(to, k);
                Reply::Int(1)
            }
            Cmd::FlushDb => {
                self.touch_all(db, None, now);
                self.dbs[db].clear();
                Reply::Status("OK".into())
            }
            Cmd::FlushAll => {
                for d in 0..2 {
                    self.touch_all(d, None, now);
                    self.dbs[d].clear();
                }
                Reply::Status("OK".into())
            }
            Cmd::SwapDb => {
                self.touch_all(0, Some(1), now);
                self.touch_all(1, Some(0), now);
                self.dbs.swap(0, 1);
                Reply::Status("OK".into())
            }
        }
    }
}

fn args(cmd: &Cmd) -> Vec<Vec<u8>> {
    let b = |s: &str| s.as_bytes().to_vec();
    match cmd {
        Cmd::Get(k) => vec![b("GET"), b(k)],
        Cmd::Set(k, v, None) => vec![b("SET"), b(k), value(*v)],
        Cmd::Set(k, v, Some(ms)) => vec![b("SET"), b(k), value(*v), b("PX"), b(&ms.to_string())],
        Cmd::Incr(k) => vec![b("INCR"), b(k)],
        Cmd::Del(k) => vec![b("DEL"), b(k)],
        Cmd::Expire(k, secs) => vec![b("EXPIRE"), b(k), b(&secs.to_string())],
        Cmd::Lpush(k, v) => vec![b("LPUSH"), b(k), value(*v)],
        Cmd::Rename(s, d) => vec![b("RENAME"), b(s), b(d)],
        Cmd::Move(k) => vec![b("MOVE"), b(k), b("1")],
        Cmd::FlushDb => vec![b("FLUSHDB")],
        Cmd::FlushAll => vec![b("FLUSHALL")],
        Cmd::SwapDb => vec![b("SWAPDB"), b("0"), b("1")],
    }
}

/// MOVE always targets database 1, so it is only drawn for commands run in db 0.
fn move_target_ok(cmd: &Cmd, db: usize) -> bool {
    !matches!(cmd, Cmd::Move(_)) || db == 0
}

fn key() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&KEYS[..])
}

fn keyspace_cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        key().prop_map(Cmd::Get),
        (key(), any::<u8>()).prop_map(|(k, v)| Cmd::Set(k, v, None)),
        (key(), any::<u8>(), 1u64..40).prop_map(|(k, v, ms)| Cmd::Set(k, v, Some(ms))),
        key().prop_map(Cmd::Incr),
        key().prop_map(Cmd::Del),
        (key(), 1u64..3).prop_map(|(k, s)| Cmd::Expire(k, s)),
        (key(), any::<u8>()).prop_map(|(k, v)| Cmd::Lpush(k, v)),
        (key(), key())
            .prop_filter("distinct keys", |(s, d)| s != d)
            .prop_map(|(s, d)| Cmd::Rename(s, d)),
        key().prop_map(Cmd::Move),
    ]
}

fn b_cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        12 => keyspace_cmd(),
        1 => Just(Cmd::FlushDb),
        1 => Just(Cmd::FlushAll),
        1 => Just(Cmd::SwapDb),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => prop::collection::vec(key(), 1..4).prop_map(Op::Watch),
        1 => Just(Op::Unwatch),
        1 => keyspace_cmd().prop_map(Op::ByA),
        1 => (0usize..2).prop_map(Op::Select),
        6 => b_cmd().prop_map(Op::ByB),
        2 => prop_oneof![1u64..20, 1000u64..2500].prop_map(Op::Advance),
        3 => (
            prop::collection::vec(keyspace_cmd(), 0..4),
            prop::bool::weighted(0.1),
            prop::bool::weighted(0.1)
        )
            .prop_map(|(queued, watch_inside, discard)| Op::Transaction {
                queued,
                watch_inside,
                discard
            }),
    ]
}

/// Runs A's transaction on the node and the model; returns (got, expected) EXEC
/// (or DISCARD) replies after checking the queueing replies.
fn run_transaction(
    node: &mut Node,
    model: &mut Model,
    now: u64,
    queued: &[Cmd],
    watch_inside: bool,
    discard: bool,
) -> (Reply, Reply) {
    assert_eq!(call(node, now, A, &["MULTI"]), Reply::Status("OK".into()));
    if watch_inside {
        assert_eq!(call(node, now, A, &["WATCH", "a"]), err(WATCH_IN_MULTI));
    }
    let queued: Vec<&Cmd> = queued.iter().filter(|c| move_target_ok(c, 0)).collect();
    for cmd in &queued {
        assert_eq!(
            call(node, now, A, &args(cmd)),
            Reply::Status("QUEUED".into())
        );
    }
    if discard {
        model.unwatch();
        return (call(node, now, A, &["DISCARD"]), Reply::Status("OK".into()));
    }
    let got = call(node, now, A, &["EXEC"]);
    let expected = if model.exec_aborts(now) {
        Reply::NullArray
    } else {
        Reply::Array(queued.iter().map(|c| model.apply(0, c, now)).collect())
    };
    model.unwatch();
    (got, expected)
}

fn check(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut node = Node::new(Config::default(), [7; 32], START_MS);
    let mut now = START_MS;
    connect(&mut node, now, A);
    connect(&mut node, now, B);
    let mut model = Model::new();
    for (step, op) in ops.iter().enumerate() {
        let (got, expected) = match op {
            Op::Watch(keys) => {
                model.watch(keys, now);
                let mut argv = vec!["WATCH"];
                argv.extend(keys.iter().copied());
                (call(&mut node, now, A, &argv), Reply::Status("OK".into()))
            }
            Op::Unwatch => {
                model.unwatch();
                (
                    call(&mut node, now, A, &["UNWATCH"]),
                    Reply::Status("OK".into()),
                )
            }
            Op::ByA(cmd) if move_target_ok(cmd, 0) => (
                call(&mut node, now, A, &args(cmd)),
                model.apply(0, cmd, now),
            ),
            Op::ByA(_) => continue,
            Op::Select(db) => {
                model.b_db = *db;
                let db = db.to_string();
                (
                    call(&mut node, now, B, &["SELECT", db.as_str()]),
                    Reply::Status("OK".into()),
                )
            }
            Op::ByB(cmd) if move_target_ok(cmd, model.b_db) => {
                let db = model.b_db;
                (
                    call(&mut node, now, B, &args(cmd)),
                    model.apply(db, cmd, now),
                )
            }
            Op::ByB(_) => continue,
            Op::Advance(ms) => {
                now += ms;
                continue;
            }
            Op::Transaction {
                queued,
                watch_inside,
                discard,
            } => run_transaction(&mut node, &mut model, now, queued, *watch_inside, *discard),
        };
        prop_assert_eq!(got, expected, "step {}: {:?}", step, op);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn watch_follows_redis_rules(ops in prop::collection::vec(op(), 1..60)) {
        check(&ops)?;
    }
}

/// The rules the random runs rely on, one scenario each, so a broken rule names
/// itself.
#[test]
fn a_key_already_expired_when_watched_is_no_change_when_deleted_but_is_when_rewritten() {
    let ops = [
        Op::ByB(Cmd::Set("a", 1, Some(5))),
        Op::Advance(10),
        Op::Watch(vec!["a"]),
        Op::ByB(Cmd::Get("a")),
        Op::Transaction {
            queued: vec![Cmd::Get("b")],
            watch_inside: false,
            discard: false,
        },
        Op::ByB(Cmd::Set("a", 1, Some(5))),
        Op::Advance(10),
        Op::Watch(vec!["a"]),
        Op::ByB(Cmd::Set("a", 2, None)),
        Op::Transaction {
            queued: vec![Cmd::Get("a")],
            watch_inside: false,
            discard: false,
        },
    ];
    check(&ops).unwrap();
}

#[test]
fn failed_writes_and_no_op_writes_leave_watches_alone() {
    let ops = [
        Op::ByB(Cmd::Set("a", 3, None)),
        Op::ByB(Cmd::Lpush("b", 1)),
        Op::Watch(vec!["a", "b", "c"]),
        Op::ByB(Cmd::Incr("a")),
        Op::ByB(Cmd::Incr("b")),
        Op::ByB(Cmd::Lpush("a", 1)),
        Op::ByB(Cmd::Del("c")),
        Op::ByB(Cmd::Expire("c", 1)),
        Op::ByB(Cmd::Rename("c", "a")),
        Op::Transaction {
            queued: vec![Cmd::Get("a")],
            watch_inside: true,
            discard: false,
        },
    ];
    check(&ops).unwrap();
}

#[test]
fn swapping_in_an_expired_key_is_no_change_but_a_live_one_is() {
    let ops = [
        Op::Select(1),
        Op::ByB(Cmd::Set("a", 1, Some(5))),
        Op::Advance(10),
        Op::Watch(vec!["a"]),
        Op::ByB(Cmd::SwapDb),
        Op::Transaction {
            queued: vec![Cmd::Get("b")],
            watch_inside: false,
            discard: false,
        },
        Op::ByB(Cmd::FlushAll),
        Op::ByB(Cmd::Set("a", 1, None)),
        Op::Watch(vec!["a"]),
        Op::ByB(Cmd::SwapDb),
        Op::Transaction {
            queued: vec![Cmd::Get("b")],
            watch_inside: false,
            discard: false,
        },
    ];
    check(&ops).unwrap();
}
