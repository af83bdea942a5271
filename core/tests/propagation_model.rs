//! Model check of propagation: random command sequences run on a primary node, and
//! its effects, applied as they come to a second node with another seed (as a
//! replica in sync would apply them), must leave both with the same dataset. A
//! random choice (SPOP) or a float formatted differently would show up as a
//! difference; relative times, which an in-sync replica cannot tell apart, are
//! checked in the stream itself.

mod support;

use ember_core::{Config, Input, Node};
use proptest::prelude::*;
use support::{call, connect, Reply, START_MS};

const KEYS: [&str; 4] = ["k0", "k1", "k2", "k3"];
const MEMBERS: [&str; 5] = ["a", "b", "c", "1", "2"];

/// One step: a command line for client 1, or the clock moving on.
#[derive(Debug, Clone)]
enum Step {
    Cmd(Vec<String>),
    Multi(Vec<Vec<String>>),
    Advance(u64),
    /// serverCron on the primary: active expiry.
    Tick,
}

fn key() -> impl Strategy<Value = String> {
    prop::sample::select(&KEYS[..]).prop_map(str::to_string)
}

fn member() -> impl Strategy<Value = String> {
    prop::sample::select(&MEMBERS[..]).prop_map(str::to_string)
}

fn line(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| p.to_string()).collect()
}

fn command() -> impl Strategy<Value = Vec<String>> {
    let set_opt = prop::sample::select(vec![
        "",
        "EX 1",
        "PX 150",
        "NX",
        "XX",
        "KEEPTTL",
        "GET",
        "EXAT 1",
        "PX 50 GET",
    ]);
    prop_oneof![
        (key(), member(), set_opt).prop_map(|(k, v, o)| {
            let mut l = line(&["SET", &k, &v]);
            l.extend(o.split_whitespace().map(str::to_string));
            l
        }),
        (key(), 1..3u32).prop_map(|(k, s)| line(&["SETEX", &k, &s.to_string(), "v"])),
        (
            key(),
            prop::sample::select(vec![
                "EX 2",
                "PX 80",
                "PERSIST",
                "PXAT 1",
                "EXAT 1900000000"
            ])
        )
            .prop_map(|(k, o)| {
                let mut l = line(&["GETEX", &k]);
                l.extend(o.split_whitespace().map(str::to_string));
                l
            }),
        key().prop_map(|k| line(&["GETDEL", &k])),
        key().prop_map(|k| line(&["INCRBYFLOAT", &k, "0.1"])),
        (key(), member()).prop_map(|(k, f)| line(&["HINCRBYFLOAT", &k, &f, "1.5"])),
        (key(), prop::collection::vec(member(), 1..4)).prop_map(|(k, ms)| {
            let mut l = line(&["SADD", &k]);
            l.extend(ms);
            l
        }),
        (key(), prop::option::of(0..6u32)).prop_map(|(k, n)| match n {
            Some(n) => line(&["SPOP", &k, &n.to_string()]),
            None => line(&["SPOP", &k]),
        }),
        (key(), prop::collection::vec(member(), 1..4)).prop_map(|(k, ms)| {
            let mut l = line(&["RPUSH", &k]);
            l.extend(ms);
            l
        }),
        (key(), key(), 1..4u32).prop_map(|(a, b, n)| line(&[
            "LMPOP",
            "2",
            &a,
            &b,
            "LEFT",
            "COUNT",
            &n.to_string()
        ])),
        (key(), member(), 0..5u32).prop_map(|(k, m, s)| line(&["ZADD", &k, &s.to_string(), &m])),
        (key(), 1..4u32).prop_map(|(k, n)| line(&[
            "ZMPOP",
            "1",
            &k,
            "MAX",
            "COUNT",
            &n.to_string()
        ])),
        (key(), prop::sample::select(vec!["1", "-1", "0"]))
            .prop_map(|(k, s)| line(&["EXPIRE", &k, s])),
        (key(), prop::sample::select(vec!["100", "5000"]))
            .prop_map(|(k, s)| line(&["PEXPIRE", &k, s, "GT"])),
        key().prop_map(|k| line(&["PERSIST", &k])),
        key().prop_map(|k| line(&["DEL", &k])),
        key().prop_map(|k| line(&["GET", &k])),
        (key(), key()).prop_map(|(a, b)| line(&["RENAME", &a, &b])),
        (key(), key()).prop_map(|(a, b)| line(&["COPY", &a, &b, "DB", "1"])),
    ]
}

/// Blocking commands, queued inside MULTI only: there they never block (client 1
/// must not block, the test has no one to serve it).
fn blocking() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        (key(), key()).prop_map(|(a, b)| line(&["BLMOVE", &a, &b, "LEFT", "RIGHT", "0"])),
        key().prop_map(|k| line(&["BZPOPMIN", &k, "0"])),
        (key(), key())
            .prop_map(|(a, b)| line(&["BLMPOP", "0", "2", &a, &b, "RIGHT", "COUNT", "2"])),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let queued = prop_oneof![3 => command(), 1 => blocking()];
    prop_oneof![
        6 => command().prop_map(Step::Cmd),
        1 => prop::collection::vec(queued, 1..4).prop_map(Step::Multi),
        1 => (1..120u64).prop_map(Step::Advance),
        1 => Just(Step::Tick),
    ]
}

fn node(seed: u8, now: u64) -> Node {
    let mut node = Node::new(Config::default(), [seed; 32], now);
    node.set_propagation(true);
    connect(&mut node, now, 1);
    connect(&mut node, now, 2);
    node
}

/// Commands that never reach the effect stream in their own form: their result
/// depends on the clock, randomness, float formatting or blocking.
const NEVER_PROPAGATED: [&str; 13] = [
    "EXPIRE",
    "PEXPIRE",
    "EXPIREAT",
    "SETEX",
    "PSETEX",
    "SPOP",
    "INCRBYFLOAT",
    "HINCRBYFLOAT",
    "GETDEL",
    "LMPOP",
    "ZMPOP",
    "BLMOVE",
    "BZPOPMIN",
];

/// Whether an effect still carries a relative or second-based time.
fn relative_time(argv: &[Vec<u8>]) -> bool {
    let upper: Vec<String> = argv
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_uppercase())
        .collect();
    match upper[0].as_str() {
        "SET" | "GETEX" => upper[1..]
            .iter()
            .any(|a| ["EX", "PX", "EXAT"].contains(&a.as_str())),
        _ => false,
    }
}

/// Applies the primary's effects to the replica: SELECT where the database changes.
fn forward(
    primary: &mut Node,
    replica: &mut Node,
    now: u64,
    db: &mut usize,
) -> Result<(), TestCaseError> {
    for effect in primary.take_effects() {
        let argv: Vec<Vec<u8>> = effect.argv.iter().map(|a| a.to_vec()).collect();
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_uppercase();
        prop_assert!(!NEVER_PROPAGATED.contains(&name.as_str()), "{name}");
        prop_assert!(!relative_time(&argv), "{argv:?}");
        if effect.db != *db {
            *db = effect.db;
            call(replica, now, 1, &["SELECT", &db.to_string()]);
        }
        call(replica, now, 1, &effect.argv);
    }
    Ok(())
}

/// Every live key of databases 0 and 1: type, deadline and contents in an order
/// that does not depend on hash tables.
fn dataset(node: &mut Node, now: u64) -> Vec<(usize, String, Vec<Reply>)> {
    let mut seen = Vec::new();
    for db in 0..2 {
        call(node, now, 2, &["SELECT", &db.to_string()]);
        for key in KEYS {
            let kind = call(node, now, 2, &["TYPE", key]);
            let mut contents = match &kind {
                Reply::Status(t) if t == "none" => continue,
                Reply::Status(t) if t == "string" => vec![call(node, now, 2, &["GET", key])],
                Reply::Status(t) if t == "list" => {
                    vec![call(node, now, 2, &["LRANGE", key, "0", "-1"])]
                }
                Reply::Status(t) if t == "zset" => {
                    vec![call(
                        node,
                        now,
                        2,
                        &["ZRANGE", key, "0", "-1", "WITHSCORES"],
                    )]
                }
                Reply::Status(t) if t == "set" => sorted(call(node, now, 2, &["SMEMBERS", key])),
                _ => sorted(call(node, now, 2, &["HGETALL", key])),
            };
            contents.push(kind);
            contents.push(call(node, now, 2, &["PEXPIRETIME", key]));
            seen.push((db, key.to_string(), contents));
        }
    }
    seen
}

fn sorted(reply: Reply) -> Vec<Reply> {
    match reply {
        Reply::Array(mut items) => {
            items.sort();
            items
        }
        other => vec![other],
    }
}

fn run(steps: &[Step]) -> Result<(), TestCaseError> {
    let mut now = START_MS;
    let mut primary = node(1, now);
    let mut replica = node(2, now);
    let mut db = 0;
    for step in steps {
        match step {
            Step::Cmd(args) => {
                call(&mut primary, now, 1, args);
            }
            Step::Multi(commands) => {
                call(&mut primary, now, 1, &["MULTI"]);
                for args in commands {
                    call(&mut primary, now, 1, args);
                }
                let exec = call(&mut primary, now, 1, &["EXEC"]);
                prop_assert!(matches!(exec, Reply::Array(_)), "{exec:?}");
            }
            Step::Advance(ms) => now += ms,
            Step::Tick => primary.handle(now, Input::Tick),
        }
        forward(&mut primary, &mut replica, now, &mut db)?;
    }
    let expected = dataset(&mut primary, now);
    let got = dataset(&mut replica, now);
    prop_assert_eq!(got, expected);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_replica_applying_the_effects_keeps_the_same_dataset(
        steps in prop::collection::vec(step(), 1..40)
    ) {
        run(&steps)?;
    }
}
