//! Model-based test: random sequences of string, key and expiry commands run on the
//! core (through its public sans-IO API, as bytes on a connection) and on a small
//! reference model, with virtual time advancing between commands and the active
//! expiry cycle ticking. Every reply must agree.

mod support;

use std::collections::BTreeMap;

use ember_core::{Config, Input, Node};
use proptest::prelude::*;
use support::{call, connect, strict_i64, Reply, START_MS};

const KEYS: [&str; 4] = ["a", "b", "c", "d"];

/// The reference model: key -> (value, deadline).
#[derive(Default)]
struct Model {
    keys: BTreeMap<String, (Vec<u8>, Option<u64>)>,
}

impl Model {
    /// Redis keeps a key through its deadline millisecond: it is gone once `now > at`.
    fn expire_due(&mut self, now: u64) {
        self.keys.retain(|_, (_, at)| at.is_none_or(|at| at >= now));
    }

    fn apply(&mut self, cmd: &Cmd, now: u64) -> Reply {
        self.expire_due(now);
        match cmd {
            Cmd::Set {
                key,
                value,
                ttl_ms,
                nx,
                xx,
                keep_ttl,
            } => {
                let exists = self.keys.contains_key(*key);
                if (*nx && exists) || (*xx && !exists) {
                    return Reply::Bulk(None);
                }
                let old_deadline = self.keys.get(*key).and_then(|(_, at)| *at);
                let deadline = match (ttl_ms, keep_ttl) {
                    (Some(ms), _) => Some(now + ms),
                    (None, true) => old_deadline,
                    (None, false) => None,
                };
                self.keys.insert(key.to_string(), (value.clone(), deadline));
                Reply::Status("OK".into())
            }
            Cmd::Get(key) => Reply::Bulk(self.keys.get(*key).map(|(v, _)| v.clone())),
            Cmd::Del(key) => Reply::Int(i64::from(self.keys.remove(*key).is_some())),
            Cmd::Exists(key) => Reply::Int(i64::from(self.keys.contains_key(*key))),
            Cmd::Append(key, suffix) => {
                let entry = self
                    .keys
                    .entry(key.to_string())
                    .or_insert((Vec::new(), None));
                entry.0.extend_from_slice(suffix);
                Reply::Int(entry.0.len() as i64)
            }
            Cmd::IncrBy(key, by) => {
                let current = match self.keys.get(*key) {
                    None => 0,
                    Some((v, _)) => match strict_i64(v) {
                        Some(n) => n,
                        None => {
                            return Reply::Error(
                                "ERR value is not an integer or out of range".into(),
                            )
                        }
                    },
                };
                let Some(next) = current.checked_add(*by) else {
                    return Reply::Error("ERR increment or decrement would overflow".into());
                };
                let deadline = self.keys.get(*key).and_then(|(_, at)| *at);
                self.keys
                    .insert(key.to_string(), (next.to_string().into_bytes(), deadline));
                Reply::Int(next)
            }
            Cmd::Strlen(key) => Reply::Int(self.keys.get(*key).map_or(0, |(v, _)| v.len() as i64)),
            Cmd::PExpire(key, ms) => match self.keys.get_mut(*key) {
                None => Reply::Int(0),
                Some(_) if *ms <= 0 => {
                    self.keys.remove(*key);
                    Reply::Int(1)
                }
                Some((_, at)) => {
                    *at = Some(now + *ms as u64);
                    Reply::Int(1)
                }
            },
            Cmd::Persist(key) => match self.keys.get_mut(*key) {
                Some((_, at @ Some(_))) => {
                    *at = None;
                    Reply::Int(1)
                }
                _ => Reply::Int(0),
            },
            Cmd::PTtl(key) => Reply::Int(match self.keys.get(*key) {
                None => -2,
                Some((_, None)) => -1,
                Some((_, Some(at))) => (*at - now) as i64,
            }),
            Cmd::GetDel(key) => Reply::Bulk(self.keys.remove(*key).map(|(v, _)| v)),
            Cmd::Rename(from, to) => match self.keys.remove(*from) {
                None => Reply::Error("ERR no such key".into()),
                Some(entry) => {
                    self.keys.insert(to.to_string(), entry);
                    Reply::Status("OK".into())
                }
            },
            Cmd::MGet => Reply::Array(
                KEYS.iter()
                    .map(|k| Reply::Bulk(self.keys.get(*k).map(|(v, _)| v.clone())))
                    .collect(),
            ),
        }
    }
}

#[derive(Debug, Clone)]
enum Cmd {
    Set {
        key: &'static str,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
        nx: bool,
        xx: bool,
        keep_ttl: bool,
    },
    Get(&'static str),
    Del(&'static str),
    Exists(&'static str),
    Append(&'static str, Vec<u8>),
    IncrBy(&'static str, i64),
    Strlen(&'static str),
    PExpire(&'static str, i64),
    Persist(&'static str),
    PTtl(&'static str),
    GetDel(&'static str),
    Rename(&'static str, &'static str),
    MGet,
}

impl Cmd {
    fn args(&self) -> Vec<Vec<u8>> {
        let s = |x: &str| x.as_bytes().to_vec();
        match self {
            Cmd::Set {
                key,
                value,
                ttl_ms,
                nx,
                xx,
                keep_ttl,
            } => {
                let mut a = vec![s("SET"), s(key), value.clone()];
                if let Some(ms) = ttl_ms {
                    a.extend([s("PX"), ms.to_string().into_bytes()]);
                }
                if *nx {
                    a.push(s("NX"));
                }
                if *xx {
                    a.push(s("XX"));
                }
                if *keep_ttl {
                    a.push(s("KEEPTTL"));
                }
                a
            }
            Cmd::Get(k) => vec![s("GET"), s(k)],
            Cmd::Del(k) => vec![s("DEL"), s(k)],
            Cmd::Exists(k) => vec![s("EXISTS"), s(k)],
            Cmd::Append(k, v) => vec![s("APPEND"), s(k), v.clone()],
            Cmd::IncrBy(k, by) => vec![s("INCRBY"), s(k), by.to_string().into_bytes()],
            Cmd::Strlen(k) => vec![s("STRLEN"), s(k)],
            Cmd::PExpire(k, ms) => vec![s("PEXPIRE"), s(k), ms.to_string().into_bytes()],
            Cmd::Persist(k) => vec![s("PERSIST"), s(k)],
            Cmd::PTtl(k) => vec![s("PTTL"), s(k)],
            Cmd::GetDel(k) => vec![s("GETDEL"), s(k)],
            Cmd::Rename(a, b) => vec![s("RENAME"), s(a), s(b)],
            Cmd::MGet => std::iter::once(s("MGET"))
                .chain(KEYS.iter().map(|k| s(k)))
                .collect(),
        }
    }
}

fn key() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&KEYS[..])
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (-1000i64..1000).prop_map(|n| n.to_string().into_bytes()),
        Just(i64::MAX.to_string().into_bytes()),
        Just(b"007".to_vec()),
        Just(b"".to_vec()),
        prop::collection::vec(any::<u8>(), 0..50),
    ]
}

fn cmd() -> impl Strategy<Value = Cmd> {
    let set = (
        key(),
        value(),
        prop::option::of(1u64..3000),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(key, value, ttl_ms, nx, xx, keep)| Cmd::Set {
            key,
            value,
            ttl_ms,
            nx,
            // Redis rejects NX with XX, and KEEPTTL with PX: keep the model to valid forms.
            xx: xx && !nx,
            keep_ttl: keep && ttl_ms.is_none(),
        });
    prop_oneof![
        4 => set,
        3 => key().prop_map(Cmd::Get),
        1 => key().prop_map(Cmd::Del),
        1 => key().prop_map(Cmd::Exists),
        1 => (key(), prop::collection::vec(any::<u8>(), 0..8)).prop_map(|(k, v)| Cmd::Append(k, v)),
        2 => (key(), prop_oneof![-5i64..5, Just(i64::MAX), Just(i64::MIN)]).prop_map(|(k, n)| Cmd::IncrBy(k, n)),
        1 => key().prop_map(Cmd::Strlen),
        2 => (key(), -10i64..3000).prop_map(|(k, ms)| Cmd::PExpire(k, ms)),
        1 => key().prop_map(Cmd::Persist),
        2 => key().prop_map(Cmd::PTtl),
        1 => key().prop_map(Cmd::GetDel),
        1 => (key(), key()).prop_map(|(a, b)| Cmd::Rename(a, b)),
        1 => Just(Cmd::MGet),
    ]
}

fn run_on_node(node: &mut Node, now: u64, cmd: &Cmd) -> Reply {
    node.handle(now, Input::Tick);
    while node.poll_output().is_some() {}
    call(node, now, 1, &cmd.args())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn core_agrees_with_the_model(steps in prop::collection::vec((cmd(), 0u64..800), 1..80), seed in any::<u8>()) {
        let mut node = Node::new(Config { hz: 100, ..Config::default() }, [seed; 32], START_MS);
        connect(&mut node, START_MS, 1);
        let mut model = Model::default();
        let mut now = START_MS;
        for (i, (cmd, advance)) in steps.iter().enumerate() {
            now += advance;
            let expected = model.apply(cmd, now);
            let got = run_on_node(&mut node, now, cmd);
            prop_assert_eq!(got, expected, "step {}: {:?} at +{}ms", i, cmd, now - START_MS);
        }
    }
}
