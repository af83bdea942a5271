//! Model test for sets: random command sequences go through `ember_core::Node` as
//! RESP bytes and through a model (a map of `HashSet`s), and every reply must agree
//! with the model. A small `set-max-intset-entries` makes sequences cross the
//! intset -> hash table threshold often; `OBJECT ENCODING` is checked against the
//! encoding the model says Redis would have.

use std::collections::{BTreeSet, HashMap, HashSet};

use ember_core::{Config, Node};
use proptest::prelude::*;

mod support;
use support::{call, connect, Reply, WRONGTYPE};

const NOW: u64 = 1_700_000_000_000;
const MAX_INTSET: usize = 6;
const KEYS: &[&str] = &["k0", "k1", "k2", "k3"];
/// How many of MEMBERS, from the start, are canonical integers.
const INT_MEMBERS: usize = 13;
/// Members: canonical integers of every intset width, non-canonical integers and
/// plain strings, including binary ones.
const MEMBERS: &[&[u8]] = &[
    b"0",
    b"1",
    b"2",
    b"3",
    b"-4",
    b"5",
    b"6",
    b"7",
    b"40000",
    b"-3000000000",
    b"9223372036854775807",
    b"8",
    b"-9",
    b"01",
    b"-0",
    b"a",
    b"b",
    b"",
    b"x\x00y",
];

// ---------------------------------------------------------------------------------
// Reading replies.

impl Reply {
    fn int(&self) -> i64 {
        match self {
            Reply::Int(n) => *n,
            other => panic!("expected an integer, got {other:?}"),
        }
    }

    fn members(&self) -> Vec<Vec<u8>> {
        match self {
            Reply::Array(items) => items
                .iter()
                .map(|i| match i {
                    Reply::Bulk(Some(b)) => b.clone(),
                    other => panic!("expected a bulk string, got {other:?}"),
                })
                .collect(),
            other => panic!("expected an array, got {other:?}"),
        }
    }

    fn member_set(&self) -> BTreeSet<Vec<u8>> {
        let members = self.members();
        let set: BTreeSet<Vec<u8>> = members.iter().cloned().collect();
        assert_eq!(set.len(), members.len(), "duplicates in {self:?}");
        set
    }
}

struct Server {
    node: Node,
}

impl Server {
    fn new() -> Self {
        let config = Config {
            set_max_intset_entries: MAX_INTSET as u64,
            ..Config::default()
        };
        let mut node = Node::new(config, [3; 32], NOW);
        connect(&mut node, NOW, 1);
        Server { node }
    }

    fn run(&mut self, args: &[&[u8]]) -> Reply {
        call(&mut self.node, NOW, 1, args)
    }
}

// ---------------------------------------------------------------------------------
// The model.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Enc {
    Intset,
    Hashtable,
    /// After operations whose encoding depends on random picks.
    Unknown,
}

#[derive(Default)]
struct Model {
    sets: HashMap<Vec<u8>, (HashSet<Vec<u8>>, Enc)>,
}

/// Redis's string2ll test: is this member stored in an intset?
fn is_int(m: &[u8]) -> bool {
    let s = match std::str::from_utf8(m) {
        Ok(s) => s,
        Err(_) => return false,
    };
    s.parse::<i64>().is_ok_and(|v| v.to_string() == s)
}

impl Model {
    fn get(&self, key: &[u8]) -> HashSet<Vec<u8>> {
        self.sets.get(key).map(|s| s.0.clone()).unwrap_or_default()
    }

    /// setTypeAdd's encoding rules.
    fn add(&mut self, key: &[u8], member: &[u8]) -> bool {
        let entry = self.sets.entry(key.to_vec()).or_insert_with(|| {
            let enc = if is_int(member) {
                Enc::Intset
            } else {
                Enc::Hashtable
            };
            (HashSet::new(), enc)
        });
        let added = entry.0.insert(member.to_vec());
        if added && entry.1 == Enc::Intset && (!is_int(member) || entry.0.len() > MAX_INTSET) {
            entry.1 = Enc::Hashtable;
        }
        added
    }

    fn remove(&mut self, key: &[u8], member: &[u8]) -> bool {
        let Some(entry) = self.sets.get_mut(key) else {
            return false;
        };
        let removed = entry.0.remove(member);
        if entry.0.is_empty() {
            self.sets.remove(key);
        }
        removed
    }

    /// A result built from an empty intset by adding `members` (SxxxSTORE);
    /// `surely_intset` when no member added on the way was a string and at most
    /// MAX_INTSET were there at once.
    fn store(&mut self, key: &[u8], members: HashSet<Vec<u8>>, surely_intset: bool) {
        self.sets.remove(key);
        if members.is_empty() {
            return;
        }
        let all_int = members.iter().all(|m| is_int(m));
        let enc = if surely_intset {
            Enc::Intset
        } else if !all_int || members.len() > MAX_INTSET {
            Enc::Hashtable
        } else {
            Enc::Unknown
        };
        self.sets.insert(key.to_vec(), (members, enc));
    }
}

// ---------------------------------------------------------------------------------
// Commands.

#[derive(Debug, Clone)]
enum Cmd {
    Sadd(usize, Vec<usize>),
    Srem(usize, Vec<usize>),
    Scard(usize),
    Sismember(usize, usize),
    Smismember(usize, Vec<usize>),
    Smembers(usize),
    Smove(usize, usize, usize),
    Spop(usize),
    SpopCount(usize, u8),
    Srandmember(usize, i8),
    Sinter(Vec<usize>),
    Sintercard(Vec<usize>, u8),
    Sunion(Vec<usize>),
    Sdiff(Vec<usize>),
    Store(u8, usize, Vec<usize>),
    Encoding(usize),
    Sscan(usize),
    SetString(usize),
}

fn key() -> impl Strategy<Value = usize> {
    0..KEYS.len()
}

/// Mostly integers, so that intsets grow past the threshold.
fn member() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 0..INT_MEMBERS, 1 => INT_MEMBERS..MEMBERS.len()]
}

fn cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        6 => (key(), prop::collection::vec(member(), 1..6)).prop_map(|(k, m)| Cmd::Sadd(k, m)),
        3 => (key(), prop::collection::vec(member(), 1..4)).prop_map(|(k, m)| Cmd::Srem(k, m)),
        1 => key().prop_map(Cmd::Scard),
        2 => (key(), member()).prop_map(|(k, m)| Cmd::Sismember(k, m)),
        1 => (key(), prop::collection::vec(member(), 1..4)).prop_map(|(k, m)| Cmd::Smismember(k, m)),
        2 => key().prop_map(Cmd::Smembers),
        2 => (key(), key(), member()).prop_map(|(a, b, m)| Cmd::Smove(a, b, m)),
        1 => key().prop_map(Cmd::Spop),
        1 => (key(), 0u8..12).prop_map(|(k, n)| Cmd::SpopCount(k, n)),
        2 => (key(), -12i8..12).prop_map(|(k, n)| Cmd::Srandmember(k, n)),
        2 => prop::collection::vec(key(), 1..4).prop_map(Cmd::Sinter),
        1 => (prop::collection::vec(key(), 1..4), 0u8..5).prop_map(|(k, l)| Cmd::Sintercard(k, l)),
        2 => prop::collection::vec(key(), 1..4).prop_map(Cmd::Sunion),
        2 => prop::collection::vec(key(), 1..4).prop_map(Cmd::Sdiff),
        2 => (0u8..3, key(), prop::collection::vec(key(), 1..4)).prop_map(|(op, d, k)| Cmd::Store(op, d, k)),
        2 => key().prop_map(Cmd::Encoding),
        1 => key().prop_map(Cmd::Sscan),
        1 => key().prop_map(Cmd::SetString),
    ]
}

fn k(i: usize) -> &'static [u8] {
    KEYS[i].as_bytes()
}

fn m(i: usize) -> &'static [u8] {
    MEMBERS[i]
}

/// State: which keys hold a string (for WRONGTYPE checks).
struct Harness {
    server: Server,
    model: Model,
    strings: HashSet<usize>,
}

impl Harness {
    fn wrong_type(&self, keys: &[usize]) -> bool {
        keys.iter().any(|i| self.strings.contains(i))
    }

    fn expect_wrongtype(reply: &Reply) {
        assert_eq!(reply, &Reply::Error(WRONGTYPE.into()));
    }

    fn union(&self, keys: &[usize]) -> HashSet<Vec<u8>> {
        keys.iter().flat_map(|&i| self.model.get(k(i))).collect()
    }

    fn inter(&self, keys: &[usize]) -> HashSet<Vec<u8>> {
        let mut sets = keys.iter().map(|&i| self.model.get(k(i)));
        let first = sets.next().unwrap_or_default();
        sets.fold(first, |acc, s| acc.intersection(&s).cloned().collect())
    }

    fn diff(&self, keys: &[usize]) -> HashSet<Vec<u8>> {
        let first = self.model.get(k(keys[0]));
        let rest = self.union(&keys[1..]);
        first.difference(&rest).cloned().collect()
    }

    fn apply(&mut self, cmd: &Cmd) {
        match cmd {
            Cmd::Sadd(key, members) => {
                let mut args: Vec<&[u8]> = vec![b"SADD", k(*key)];
                args.extend(members.iter().map(|&i| m(i)));
                let reply = self.server.run(&args);
                if self.wrong_type(&[*key]) {
                    return Self::expect_wrongtype(&reply);
                }
                let added = members
                    .iter()
                    .filter(|&&i| self.model.add(k(*key), m(i)))
                    .count();
                assert_eq!(reply.int(), added as i64);
            }
            Cmd::Srem(key, members) => {
                let mut args: Vec<&[u8]> = vec![b"SREM", k(*key)];
                args.extend(members.iter().map(|&i| m(i)));
                let reply = self.server.run(&args);
                if self.wrong_type(&[*key]) {
                    return Self::expect_wrongtype(&reply);
                }
                let removed = members
                    .iter()
                    .filter(|&&i| self.model.remove(k(*key), m(i)))
                    .count();
                assert_eq!(reply.int(), removed as i64);
            }
            Cmd::Scard(key) => {
                let reply = self.server.run(&[b"SCARD", k(*key)]);
                if self.wrong_type(&[*key]) {
                    return Self::expect_wrongtype(&reply);
                }
                assert_eq!(reply.int(), self.model.get(k(*key)).len() as i64);
            }
            Cmd::Sismember(key, member) => {
                let reply = self.server.run(&[b"SISMEMBER", k(*key), m(*member)]);
                if self.wrong_type(&[*key]) {
                    return Self::expect_wrongtype(&reply);
                }
                let found = self.model.get(k(*key)).contains(m(*member));
                assert_eq!(reply.int(), i64::from(found));
            }
            Cmd::Smismember(key, members) => {
                let mut args: Vec<&[u8]> = vec![b"SMISMEMBER", k(*key)];
                args.extend(members.iter().map(|&i| m(i)));
                let reply = self.server.run(&args);
                if self.wrong_type(&[*key]) {
                    return Self::expect_wrongtype(&reply);
                }
                let set = self.model.get(k(*key));
                let expected: Vec<Reply> = members
                    .iter()
                    .map(|&i| Reply::Int(i64::from(set.contains(m(i)))))
                    .collect();
                assert_eq!(reply, Reply::Array(expected));
            }
            Cmd::Smembers(key) => {
                let reply = self.server.run(&[b"SMEMBERS", k(*key)]);
                if self.wrong_type(&[*key]) {
                    return Self::expect_wrongtype(&reply);
                }
                self.check_members(&reply, &self.model.get(k(*key)));
                if self.model.sets.get(k(*key)).map(|s| s.1) == Some(Enc::Intset) {
                    let ints: Vec<i64> = reply
                        .members()
                        .iter()
                        .map(|b| std::str::from_utf8(b).unwrap().parse().unwrap())
                        .collect();
                    assert!(ints.windows(2).all(|w| w[0] < w[1]), "intset order");
                }
            }
            Cmd::Smove(src, dst, member) => self.smove(*src, *dst, *member),
            Cmd::Spop(key) => {
                let reply = self.server.run(&[b"SPOP", k(*key)]);
                if self.wrong_type(&[*key]) {
                    return Self::expect_wrongtype(&reply);
                }
                match reply {
                    Reply::Bulk(None) => assert!(self.model.get(k(*key)).is_empty()),
                    Reply::Bulk(Some(b)) => assert!(self.model.remove(k(*key), &b)),
                    other => panic!("SPOP replied {other:?}"),
                }
            }
            Cmd::SpopCount(key, count) => {
                let count_arg = count.to_string();
                let reply = self.server.run(&[b"SPOP", k(*key), count_arg.as_bytes()]);
                if self.wrong_type(&[*key]) {
                    return Self::expect_wrongtype(&reply);
                }
                let before = self.model.get(k(*key));
                let popped = reply.member_set();
                assert_eq!(popped.len(), (*count as usize).min(before.len()));
                for p in &popped {
                    assert!(self.model.remove(k(*key), p), "popped a non-member");
                }
                if let Some(entry) = self.model.sets.get_mut(k(*key)) {
                    if *count > 0 {
                        entry.1 = Enc::Unknown;
                    }
                }
            }
            Cmd::Srandmember(key, count) => {
                let count_arg = count.to_string();
                let reply = self
                    .server
                    .run(&[b"SRANDMEMBER", k(*key), count_arg.as_bytes()]);
                if self.wrong_type(&[*key]) {
                    return Self::expect_wrongtype(&reply);
                }
                let set = self.model.get(k(*key));
                let picked = reply.members();
                assert!(picked.iter().all(|p| set.contains(p)));
                if *count >= 0 {
                    assert_eq!(picked.len(), (*count as usize).min(set.len()));
                    reply.member_set();
                } else if set.is_empty() {
                    assert!(picked.is_empty());
                } else {
                    assert_eq!(picked.len(), count.unsigned_abs() as usize);
                }
            }
            Cmd::Sinter(keys) => self.read_op(b"SINTER", keys, Self::inter),
            Cmd::Sunion(keys) => self.read_op(b"SUNION", keys, Self::union),
            Cmd::Sdiff(keys) => self.read_op(b"SDIFF", keys, Self::diff),
            Cmd::Sintercard(keys, limit) => {
                let n = keys.len().to_string();
                let limit_arg = limit.to_string();
                let mut args: Vec<&[u8]> = vec![b"SINTERCARD", n.as_bytes()];
                args.extend(keys.iter().map(|&i| k(i)));
                args.extend([&b"LIMIT"[..], limit_arg.as_bytes()]);
                let reply = self.server.run(&args);
                if self.wrong_type(keys) {
                    return Self::expect_wrongtype(&reply);
                }
                let mut expected = self.inter(keys).len();
                if *limit > 0 {
                    expected = expected.min(*limit as usize);
                }
                assert_eq!(reply.int(), expected as i64);
            }
            Cmd::Store(op, dst, keys) => self.store(*op, *dst, keys),
            Cmd::Encoding(key) => {
                let reply = self.server.run(&[b"OBJECT", b"ENCODING", k(*key)]);
                if self.strings.contains(key) {
                    return;
                }
                let enc = self.model.sets.get(k(*key)).map(|s| s.1);
                let expected = match enc {
                    None => Reply::Bulk(None),
                    Some(Enc::Intset) => Reply::Bulk(Some(b"intset".to_vec())),
                    Some(Enc::Hashtable) => Reply::Bulk(Some(b"hashtable".to_vec())),
                    Some(Enc::Unknown) => return,
                };
                assert_eq!(reply, expected, "encoding of {}", KEYS[*key]);
            }
            Cmd::Sscan(key) => self.sscan(*key),
            Cmd::SetString(key) => {
                let reply = self.server.run(&[b"SET", k(*key), b"text"]);
                assert_eq!(reply, Reply::Status("OK".into()));
                self.model.sets.remove(k(*key));
                self.strings.insert(*key);
            }
        }
    }

    fn check_members(&self, reply: &Reply, expected: &HashSet<Vec<u8>>) {
        let got = reply.member_set();
        let want: BTreeSet<Vec<u8>> = expected.iter().cloned().collect();
        assert_eq!(got, want);
    }

    fn read_op(&mut self, name: &[u8], keys: &[usize], f: fn(&Self, &[usize]) -> HashSet<Vec<u8>>) {
        let mut args: Vec<&[u8]> = vec![name];
        args.extend(keys.iter().map(|&i| k(i)));
        let reply = self.server.run(&args);
        if self.wrong_type(keys) {
            return Self::expect_wrongtype(&reply);
        }
        self.check_members(&reply, &f(self, keys));
    }

    fn store(&mut self, op: u8, dst: usize, keys: &[usize]) {
        let name: &[u8] = match op {
            0 => b"SINTERSTORE",
            1 => b"SUNIONSTORE",
            _ => b"SDIFFSTORE",
        };
        let mut args: Vec<&[u8]> = vec![name, k(dst)];
        args.extend(keys.iter().map(|&i| k(i)));
        let reply = self.server.run(&args);
        if self.wrong_type(keys) {
            return Self::expect_wrongtype(&reply);
        }
        let result = match op {
            0 => self.inter(keys),
            1 => self.union(keys),
            _ => self.diff(keys),
        };
        // Redis's SDIFF may add the whole first set before removing (its second
        // algorithm), so what passed through the result can be the first set.
        let passed = match op {
            2 => self.model.get(k(keys[0])),
            _ => result.clone(),
        };
        let surely_intset = passed.len() <= MAX_INTSET
            && passed.iter().all(|m| is_int(m))
            && result.iter().all(|m| is_int(m));
        assert_eq!(reply.int(), result.len() as i64);
        self.strings.remove(&dst);
        self.model.store(k(dst), result, surely_intset);
    }

    fn smove(&mut self, src: usize, dst: usize, member: usize) {
        let reply = self.server.run(&[b"SMOVE", k(src), k(dst), m(member)]);
        let src_set = self.model.sets.contains_key(k(src));
        if !src_set && !self.strings.contains(&src) {
            return assert_eq!(reply.int(), 0);
        }
        if self.wrong_type(&[src, dst]) {
            return Self::expect_wrongtype(&reply);
        }
        let present = self.model.get(k(src)).contains(m(member));
        assert_eq!(reply.int(), i64::from(present));
        if present && src != dst {
            self.model.remove(k(src), m(member));
            self.model.add(k(dst), m(member));
        }
    }

    fn sscan(&mut self, key: usize) {
        let mut cursor = b"0".to_vec();
        let mut seen = BTreeSet::new();
        for _ in 0..1000 {
            let reply = self
                .server
                .run(&[b"SSCAN", k(key), &cursor, b"COUNT", b"3"]);
            if self.wrong_type(&[key]) {
                return Self::expect_wrongtype(&reply);
            }
            let Reply::Array(parts) = reply else {
                panic!("SSCAN replied {reply:?}");
            };
            let Reply::Bulk(Some(next)) = &parts[0] else {
                panic!("SSCAN cursor {parts:?}");
            };
            seen.extend(parts[1].members());
            cursor = next.clone();
            if cursor == b"0" {
                break;
            }
        }
        assert_eq!(cursor, b"0", "SSCAN did not finish");
        let want: BTreeSet<Vec<u8>> = self.model.get(k(key)).into_iter().collect();
        assert_eq!(seen, want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn set_commands_agree_with_a_hashset_model(cmds in prop::collection::vec(cmd(), 1..80)) {
        let mut h = Harness {
            server: Server::new(),
            model: Model::default(),
            strings: HashSet::new(),
        };
        for c in &cmds {
            h.apply(c);
        }
        for key in 0..KEYS.len() {
            h.apply(&Cmd::Smembers(key));
            h.apply(&Cmd::Encoding(key));
        }
    }
}
