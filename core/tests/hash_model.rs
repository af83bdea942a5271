//! Model-based test of the hash commands: random command sequences run on the core
//! (through its public sans-IO API, as RESP bytes on a connection) and on a
//! `HashMap` model that also predicts `OBJECT ENCODING` (listpack until a field or
//! value is longer than hash-max-listpack-value or there are more fields than
//! hash-max-listpack-entries, never back). Thresholds are small and change at run
//! time through CONFIG SET, so sequences cross them in both configurations.

mod support;

use std::collections::{HashMap, HashSet};

use ember_core::{Config, Node};
use proptest::prelude::*;
use support::{bulk, call, connect, err, strict_i64, Reply, START_MS, WRONGTYPE};

const KEYS: [&str; 3] = ["h1", "h2", "str"];
const FIELDS: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "007"];

#[derive(Debug, Clone)]
enum Cmd {
    HSet(&'static str, Vec<(Vec<u8>, Vec<u8>)>),
    HSetNx(&'static str, Vec<u8>, Vec<u8>),
    HGet(&'static str, Vec<u8>),
    HMGet(&'static str, Vec<Vec<u8>>),
    HDel(&'static str, Vec<Vec<u8>>),
    HLen(&'static str),
    HStrLen(&'static str, Vec<u8>),
    HExists(&'static str, Vec<u8>),
    HKeys(&'static str),
    HVals(&'static str),
    HGetAll(&'static str),
    HIncrBy(&'static str, Vec<u8>, i64),
    HIncrByFloat(&'static str, Vec<u8>, i64),
    HRandField(&'static str, i64, bool),
    HScanAll(&'static str, u64),
    Encoding(&'static str),
    Del(&'static str),
    SetString(&'static str),
    ConfigSet(&'static str, u64),
}

impl Cmd {
    fn args(&self) -> Vec<Vec<u8>> {
        let s = |x: &str| x.as_bytes().to_vec();
        let n = |x: i64| x.to_string().into_bytes();
        let mut a = Vec::new();
        match self {
            Cmd::HSet(k, pairs) => {
                a.extend([s("HSET"), s(k)]);
                for (f, v) in pairs {
                    a.extend([f.clone(), v.clone()]);
                }
            }
            Cmd::HSetNx(k, f, v) => a.extend([s("HSETNX"), s(k), f.clone(), v.clone()]),
            Cmd::HGet(k, f) => a.extend([s("HGET"), s(k), f.clone()]),
            Cmd::HMGet(k, fs) => {
                a.extend([s("HMGET"), s(k)]);
                a.extend(fs.iter().cloned());
            }
            Cmd::HDel(k, fs) => {
                a.extend([s("HDEL"), s(k)]);
                a.extend(fs.iter().cloned());
            }
            Cmd::HLen(k) => a.extend([s("HLEN"), s(k)]),
            Cmd::HStrLen(k, f) => a.extend([s("HSTRLEN"), s(k), f.clone()]),
            Cmd::HExists(k, f) => a.extend([s("HEXISTS"), s(k), f.clone()]),
            Cmd::HKeys(k) => a.extend([s("HKEYS"), s(k)]),
            Cmd::HVals(k) => a.extend([s("HVALS"), s(k)]),
            Cmd::HGetAll(k) => a.extend([s("HGETALL"), s(k)]),
            Cmd::HIncrBy(k, f, by) => a.extend([s("HINCRBY"), s(k), f.clone(), n(*by)]),
            Cmd::HIncrByFloat(k, f, by) => a.extend([s("HINCRBYFLOAT"), s(k), f.clone(), n(*by)]),
            Cmd::HRandField(k, count, with_values) => {
                a.extend([s("HRANDFIELD"), s(k), n(*count)]);
                if *with_values {
                    a.push(s("WITHVALUES"));
                }
            }
            Cmd::HScanAll(..) => unreachable!("HSCAN is driven call by call"),
            Cmd::Encoding(k) => a.extend([s("OBJECT"), s("ENCODING"), s(k)]),
            Cmd::Del(k) => a.extend([s("DEL"), s(k)]),
            Cmd::SetString(k) => a.extend([s("SET"), s(k), s("plain")]),
            Cmd::ConfigSet(name, v) => a.extend([s("CONFIG"), s("SET"), s(name), n(*v as i64)]),
        }
        a
    }
}

/// One hash of the model: its pairs and whether it has become a hashtable.
#[derive(Debug, Default, Clone)]
struct ModelHash {
    pairs: HashMap<Vec<u8>, Vec<u8>>,
    table: bool,
}

enum Slot {
    Hash(ModelHash),
    Str,
}

struct Model {
    keys: HashMap<&'static str, Slot>,
    entries_max: u64,
    value_max: u64,
}

/// The values this test stores are integers or words, so long double arithmetic on
/// them is exact integer arithmetic (they stay far below 2^64).
fn float_operand(b: &[u8]) -> Option<i128> {
    let s = std::str::from_utf8(b).ok()?;
    if s.is_empty()
        || !s
            .trim_start_matches('-')
            .bytes()
            .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    s.parse().ok()
}

impl Model {
    fn hash(&mut self, key: &'static str) -> Result<Option<&mut ModelHash>, Reply> {
        match self.keys.get_mut(key) {
            None => Ok(None),
            Some(Slot::Str) => Err(err(WRONGTYPE)),
            Some(Slot::Hash(h)) => Ok(Some(h)),
        }
    }

    /// Redis's hashTypeSet: long strings convert before, too many fields after.
    fn set(&self, h: &mut ModelHash, f: &[u8], v: &[u8]) -> bool {
        if f.len() as u64 > self.value_max || v.len() as u64 > self.value_max {
            h.table = true;
        }
        let added = h.pairs.insert(f.to_vec(), v.to_vec()).is_none();
        if h.pairs.len() as u64 > self.entries_max {
            h.table = true;
        }
        added
    }

    /// Runs `f` on the hash at `key`, created if absent; a created hash is kept only
    /// if `f` succeeded and left it non-empty.
    fn upsert(
        &mut self,
        key: &'static str,
        f: impl FnOnce(&Model, &mut ModelHash) -> Reply,
    ) -> Reply {
        let mut h = match self.keys.remove(key) {
            Some(Slot::Str) => {
                self.keys.insert(key, Slot::Str);
                return err(WRONGTYPE);
            }
            Some(Slot::Hash(h)) => h,
            None => ModelHash::default(),
        };
        let reply = f(self, &mut h);
        if !h.pairs.is_empty() {
            self.keys.insert(key, Slot::Hash(h));
        }
        reply
    }

    fn apply(&mut self, cmd: &Cmd) -> Reply {
        match self.read(cmd) {
            Ok(reply) => reply,
            Err(reply) => reply,
        }
    }

    fn read(&mut self, cmd: &Cmd) -> Result<Reply, Reply> {
        let empty = ModelHash::default();
        Ok(match cmd {
            Cmd::HSet(k, pairs) => self.upsert(k, |m, h| {
                Reply::Int(pairs.iter().filter(|(f, v)| m.set(h, f, v)).count() as i64)
            }),
            Cmd::HSetNx(k, f, v) => self.upsert(k, |m, h| {
                Reply::Int(i64::from(!h.pairs.contains_key(f) && m.set(h, f, v)))
            }),
            Cmd::HIncrBy(k, f, by) => self.upsert(k, |m, h| {
                let current = match h.pairs.get(f) {
                    None => 0,
                    Some(v) => match strict_i64(v) {
                        Some(n) => n,
                        None => return err("ERR hash value is not an integer"),
                    },
                };
                match current.checked_add(*by) {
                    None => err("ERR increment or decrement would overflow"),
                    Some(sum) => {
                        m.set(h, f, sum.to_string().as_bytes());
                        Reply::Int(sum)
                    }
                }
            }),
            Cmd::HIncrByFloat(k, f, by) => self.upsert(k, |m, h| {
                let current = match h.pairs.get(f) {
                    None => 0,
                    Some(v) => match float_operand(v) {
                        Some(n) => n,
                        None => return err("ERR hash value is not a float"),
                    },
                };
                let text = (current + i128::from(*by)).to_string();
                m.set(h, f, text.as_bytes());
                bulk(text.as_bytes())
            }),
            Cmd::HDel(k, fields) => {
                let Some(h) = self.hash(k)? else {
                    return Ok(Reply::Int(0));
                };
                let n = fields
                    .iter()
                    .filter(|f| h.pairs.remove(*f).is_some())
                    .count();
                if h.pairs.is_empty() {
                    self.keys.remove(k);
                }
                Reply::Int(n as i64)
            }
            Cmd::HGet(k, f) => {
                let h = self.hash(k)?.map_or(&empty, |h| &*h);
                Reply::Bulk(h.pairs.get(f).cloned())
            }
            Cmd::HMGet(k, fields) => {
                let h = self.hash(k)?.map_or(&empty, |h| &*h);
                Reply::Array(
                    fields
                        .iter()
                        .map(|f| Reply::Bulk(h.pairs.get(f).cloned()))
                        .collect(),
                )
            }
            Cmd::HLen(k) => Reply::Int(self.hash(k)?.map_or(0, |h| h.pairs.len() as i64)),
            Cmd::HStrLen(k, f) => {
                let h = self.hash(k)?.map_or(&empty, |h| &*h);
                Reply::Int(h.pairs.get(f).map_or(0, |v| v.len() as i64))
            }
            Cmd::HExists(k, f) => {
                let h = self.hash(k)?.map_or(&empty, |h| &*h);
                Reply::Int(i64::from(h.pairs.contains_key(f)))
            }
            Cmd::HKeys(k) | Cmd::HVals(k) | Cmd::HGetAll(k) => {
                let h = self.hash(k)?.map_or(&empty, |h| &*h);
                let mut items: Vec<Vec<Reply>> = h
                    .pairs
                    .iter()
                    .map(|(f, v)| match cmd {
                        Cmd::HKeys(_) => vec![bulk(f)],
                        Cmd::HVals(_) => vec![bulk(v)],
                        _ => vec![bulk(f), bulk(v)],
                    })
                    .collect();
                items.sort();
                Reply::Array(items.into_iter().flatten().collect())
            }
            Cmd::Encoding(k) => match self.keys.get(k) {
                None => Reply::Bulk(None),
                Some(Slot::Str) => bulk(b"embstr"),
                Some(Slot::Hash(h)) => bulk(if h.table { b"hashtable" } else { b"listpack" }),
            },
            Cmd::Del(k) => Reply::Int(i64::from(self.keys.remove(k).is_some())),
            Cmd::SetString(k) => {
                self.keys.insert(k, Slot::Str);
                Reply::Status("OK".into())
            }
            Cmd::ConfigSet(name, v) => {
                match *name {
                    "hash-max-listpack-entries" => self.entries_max = *v,
                    _ => self.value_max = *v,
                }
                Reply::Status("OK".into())
            }
            Cmd::HRandField(..) | Cmd::HScanAll(..) => unreachable!("checked by property"),
        })
    }
}

fn key() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&KEYS[..])
}

fn field() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => prop::sample::select(&FIELDS[..]).prop_map(|f| f.as_bytes().to_vec()),
        1 => (1usize..12).prop_map(|n| vec![b'F'; n]),
    ]
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => (-1000i64..1000).prop_map(|n| n.to_string().into_bytes()),
        1 => Just(i64::MAX.to_string().into_bytes()),
        1 => Just(b"007".to_vec()),
        1 => Just(b"".to_vec()),
        1 => Just(b"word".to_vec()),
        1 => (1usize..12).prop_map(|n| vec![b'x'; n]),
    ]
}

fn cmd() -> impl Strategy<Value = Cmd> {
    let fields = || prop::collection::vec(field(), 1..4);
    prop_oneof![
        6 => (key(), prop::collection::vec((field(), value()), 1..5)).prop_map(|(k, p)| Cmd::HSet(k, p)),
        2 => (key(), field(), value()).prop_map(|(k, f, v)| Cmd::HSetNx(k, f, v)),
        2 => (key(), field()).prop_map(|(k, f)| Cmd::HGet(k, f)),
        1 => (key(), fields()).prop_map(|(k, f)| Cmd::HMGet(k, f)),
        3 => (key(), fields()).prop_map(|(k, f)| Cmd::HDel(k, f)),
        1 => key().prop_map(Cmd::HLen),
        1 => (key(), field()).prop_map(|(k, f)| Cmd::HStrLen(k, f)),
        1 => (key(), field()).prop_map(|(k, f)| Cmd::HExists(k, f)),
        1 => key().prop_map(Cmd::HKeys),
        1 => key().prop_map(Cmd::HVals),
        2 => key().prop_map(Cmd::HGetAll),
        2 => (key(), field(), prop_oneof![-5i64..5, Just(i64::MAX), Just(i64::MIN)])
            .prop_map(|(k, f, by)| Cmd::HIncrBy(k, f, by)),
        1 => (key(), field(), -5i64..5).prop_map(|(k, f, by)| Cmd::HIncrByFloat(k, f, by)),
        2 => (key(), -12i64..12, any::<bool>()).prop_map(|(k, n, v)| Cmd::HRandField(k, n, v)),
        1 => (key(), 1u64..6).prop_map(|(k, c)| Cmd::HScanAll(k, c)),
        2 => key().prop_map(Cmd::Encoding),
        1 => key().prop_map(Cmd::Del),
        1 => Just(Cmd::SetString("str")),
        1 => (prop::sample::select(&["hash-max-listpack-entries", "hash-max-listpack-value"][..]), 0u64..9)
            .prop_map(|(name, v)| Cmd::ConfigSet(name, v)),
    ]
}

fn run(node: &mut Node, args: &[Vec<u8>]) -> Reply {
    call(node, START_MS, 1, args)
}

/// Sorts an array reply's elements, taken `group` at a time.
fn sorted(reply: Reply, group: usize) -> Reply {
    match reply {
        Reply::Array(items) => {
            let mut chunks: Vec<Vec<Reply>> = items.chunks(group).map(<[_]>::to_vec).collect();
            chunks.sort();
            Reply::Array(chunks.into_iter().flatten().collect())
        }
        other => other,
    }
}

/// What the model expects of an unordered reply, in its sorted form.
fn expected_unordered(model: &mut Model, cmd: &Cmd) -> Reply {
    model.apply(cmd)
}

/// HRANDFIELD: right size, fields (and values) from the hash, distinct when the count
/// is positive, the whole hash when it asks for at least that many.
fn check_hrandfield(
    model: &mut Model,
    k: &'static str,
    count: i64,
    with_values: bool,
    got: &Reply,
) -> Result<(), String> {
    let h = match model.hash(k) {
        Err(e) => {
            return if *got == e {
                Ok(())
            } else {
                Err(format!("expected {e:?}"))
            }
        }
        Ok(None) => {
            return if *got == Reply::Array(vec![]) {
                Ok(())
            } else {
                Err("expected empty".into())
            }
        }
        Ok(Some(h)) => h.clone(),
    };
    let Reply::Array(items) = got else {
        return Err("not an array".into());
    };
    let group = if with_values { 2 } else { 1 };
    let want = if count >= 0 {
        (count as usize).min(h.pairs.len())
    } else {
        count.unsigned_abs() as usize
    };
    if items.len() != want * group {
        return Err(format!(
            "{} elements, expected {}",
            items.len(),
            want * group
        ));
    }
    let mut seen = HashSet::new();
    for chunk in items.chunks(group) {
        let Reply::Bulk(Some(f)) = &chunk[0] else {
            return Err("field not a bulk".into());
        };
        let Some(v) = h.pairs.get(f) else {
            return Err(format!("{f:?} is not a field"));
        };
        if with_values && chunk[1] != bulk(v) {
            return Err(format!("{f:?} paired with the wrong value"));
        }
        if !seen.insert(f.clone()) && count >= 0 {
            return Err(format!("{f:?} repeated"));
        }
    }
    Ok(())
}

/// A whole HSCAN iteration: every pair exactly as the model has it.
fn check_hscan(
    node: &mut Node,
    model: &mut Model,
    k: &'static str,
    count: u64,
) -> Result<(), String> {
    let mut cursor = b"0".to_vec();
    let mut found = HashMap::new();
    for _ in 0..10_000 {
        let args = [
            b"HSCAN".to_vec(),
            k.as_bytes().to_vec(),
            cursor.clone(),
            b"COUNT".to_vec(),
            count.to_string().into_bytes(),
        ];
        let reply = run(node, &args);
        let expected_error = model.hash(k).err();
        if let Some(e) = expected_error {
            return if reply == e {
                Ok(())
            } else {
                Err(format!("{reply:?}, expected {e:?}"))
            };
        }
        let Reply::Array(parts) = reply else {
            return Err(format!("not an array: {reply:?}"));
        };
        let [Reply::Bulk(Some(next)), Reply::Array(items)] = &parts[..] else {
            return Err(format!("bad scan reply {parts:?}"));
        };
        for pair in items.chunks(2) {
            if let [Reply::Bulk(Some(f)), Reply::Bulk(Some(v))] = pair {
                found.insert(f.clone(), v.clone());
            }
        }
        if next == b"0" {
            let expected = model
                .hash(k)
                .ok()
                .flatten()
                .map(|h| h.pairs.clone())
                .unwrap_or_default();
            return if found == expected {
                Ok(())
            } else {
                Err(format!("scanned {found:?}, expected {expected:?}"))
            };
        }
        cursor = next.clone();
    }
    Err("HSCAN did not finish".into())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hash_commands_agree_with_the_model(
        steps in prop::collection::vec(cmd(), 1..120),
        entries_max in prop_oneof![Just(0u64), 1u64..6, Just(512)],
        value_max in prop_oneof![Just(0u64), 1u64..8, Just(64)],
        seed in any::<u8>(),
    ) {
        let config = Config {
            hash_max_listpack_entries: entries_max,
            hash_max_listpack_value: value_max,
            ..Config::default()
        };
        let mut node = Node::new(config, [seed; 32], START_MS);
        connect(&mut node, START_MS, 1);
        let mut model = Model { keys: HashMap::new(), entries_max, value_max };
        for (i, cmd) in steps.iter().enumerate() {
            match cmd {
                Cmd::HRandField(k, count, with_values) => {
                    let got = run(&mut node, &cmd.args());
                    let checked = check_hrandfield(&mut model, k, *count, *with_values, &got);
                    prop_assert!(checked.is_ok(), "step {}: {:?} -> {:?}: {:?}", i, cmd, got, checked);
                }
                Cmd::HScanAll(k, count) => {
                    let checked = check_hscan(&mut node, &mut model, k, *count);
                    prop_assert!(checked.is_ok(), "step {}: {:?}: {:?}", i, cmd, checked);
                }
                Cmd::HKeys(_) | Cmd::HVals(_) => {
                    let got = sorted(run(&mut node, &cmd.args()), 1);
                    prop_assert_eq!(got, expected_unordered(&mut model, cmd), "step {}: {:?}", i, cmd);
                }
                Cmd::HGetAll(_) => {
                    let got = sorted(run(&mut node, &cmd.args()), 2);
                    prop_assert_eq!(got, expected_unordered(&mut model, cmd), "step {}: {:?}", i, cmd);
                }
                _ => {
                    let got = run(&mut node, &cmd.args());
                    prop_assert_eq!(got, model.apply(cmd), "step {}: {:?}", i, cmd);
                }
            }
        }
    }
}
