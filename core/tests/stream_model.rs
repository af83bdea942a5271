//! Model check of streams: random XADD/XDEL/XTRIM and consumer-group commands run on
//! a node and on a plain model (a BTreeMap of entries, and per group its last ID and
//! pending entries list), which must agree on every entry, every pending entry and
//! its owner and delivery count. The node's effects are applied to a second node (as
//! a replica would apply them), which must end with the same entries, group
//! positions and pending entries lists.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use ember_core::{Config, Node};
use proptest::prelude::*;
use support::{bulk, call, connect, Reply, START_MS};

type Id = (u64, u64);

const GROUPS: [&str; 2] = ["g0", "g1"];
const CONSUMERS: [&str; 3] = ["alice", "bob", "42"];

#[derive(Debug, Clone)]
enum Op {
    Add {
        ms: u64,
        seq: Option<u64>,
        field: u8,
    },
    Del(Id),
    TrimMaxLen(u64),
    TrimMinId(Id),
    Create {
        group: usize,
        at: Option<Id>,
        mkstream: bool,
    },
    SetId {
        group: usize,
        at: Id,
    },
    ReadNew {
        group: usize,
        consumer: usize,
        count: u64,
        noack: bool,
    },
    ReadHistory {
        group: usize,
        consumer: usize,
    },
    Ack {
        group: usize,
        id: Id,
    },
    Claim {
        group: usize,
        consumer: usize,
        id: Id,
        justid: bool,
    },
    AutoClaim {
        group: usize,
        consumer: usize,
        count: u64,
    },
    DelConsumer {
        group: usize,
        consumer: usize,
    },
    CreateConsumer {
        group: usize,
        consumer: usize,
    },
}

#[derive(Debug, Default, Clone)]
struct Group {
    last_id: Id,
    /// id -> (owner, delivery count)
    pending: BTreeMap<Id, (usize, u64)>,
    consumers: BTreeSet<usize>,
}

#[derive(Debug, Default)]
struct Model {
    exists: bool,
    entries: BTreeMap<Id, u8>,
    last_id: Id,
    groups: BTreeMap<usize, Group>,
}

fn id_text((ms, seq): Id) -> String {
    format!("{ms}-{seq}")
}

fn small_id() -> impl Strategy<Value = Id> {
    (0..8u64, 0..3u64)
}

fn op() -> impl Strategy<Value = Op> {
    let g = 0..GROUPS.len();
    let c = 0..CONSUMERS.len();
    prop_oneof![
        6 => (0..8u64, prop::option::of(0..3u64), 0..3u8)
            .prop_map(|(ms, seq, field)| Op::Add { ms, seq, field }),
        2 => small_id().prop_map(Op::Del),
        1 => (0..5u64).prop_map(Op::TrimMaxLen),
        1 => small_id().prop_map(Op::TrimMinId),
        2 => (g.clone(), prop::option::of(small_id()), any::<bool>())
            .prop_map(|(group, at, mkstream)| Op::Create { group, at, mkstream }),
        1 => (g.clone(), small_id()).prop_map(|(group, at)| Op::SetId { group, at }),
        4 => (g.clone(), c.clone(), 0..3u64, prop::bool::weighted(0.2))
            .prop_map(|(group, consumer, count, noack)| Op::ReadNew { group, consumer, count, noack }),
        2 => (g.clone(), c.clone()).prop_map(|(group, consumer)| Op::ReadHistory { group, consumer }),
        2 => (g.clone(), small_id()).prop_map(|(group, id)| Op::Ack { group, id }),
        2 => (g.clone(), c.clone(), small_id(), any::<bool>())
            .prop_map(|(group, consumer, id, justid)| Op::Claim { group, consumer, id, justid }),
        1 => (g.clone(), c.clone(), 1..4u64)
            .prop_map(|(group, consumer, count)| Op::AutoClaim { group, consumer, count }),
        1 => (g.clone(), c.clone()).prop_map(|(group, consumer)| Op::DelConsumer { group, consumer }),
        1 => (g, c).prop_map(|(group, consumer)| Op::CreateConsumer { group, consumer }),
    ]
}

fn args(op: &Op) -> Vec<String> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match *op {
        Op::Add { ms, seq, field } => {
            let id = seq.map_or(format!("{ms}-*"), |q| format!("{ms}-{q}"));
            s(&["XADD", "s", &id, &format!("f{field}"), &format!("v{ms}")])
        }
        Op::Del(id) => s(&["XDEL", "s", &id_text(id)]),
        Op::TrimMaxLen(n) => s(&["XTRIM", "s", "MAXLEN", &n.to_string()]),
        Op::TrimMinId(id) => s(&["XTRIM", "s", "MINID", &id_text(id)]),
        Op::Create {
            group,
            at,
            mkstream,
        } => {
            let at = at.map_or("$".to_string(), id_text);
            let mut v = s(&["XGROUP", "CREATE", "s", GROUPS[group], &at]);
            if mkstream {
                v.push("MKSTREAM".into());
            }
            v
        }
        Op::SetId { group, at } => s(&["XGROUP", "SETID", "s", GROUPS[group], &id_text(at)]),
        Op::ReadNew {
            group,
            consumer,
            count,
            noack,
        } => {
            let mut v = s(&["XREADGROUP", "GROUP", GROUPS[group], CONSUMERS[consumer]]);
            if count > 0 {
                v.extend(s(&["COUNT", &count.to_string()]));
            }
            if noack {
                v.push("NOACK".into());
            }
            v.extend(s(&["STREAMS", "s", ">"]));
            v
        }
        Op::ReadHistory { group, consumer } => s(&[
            "XREADGROUP",
            "GROUP",
            GROUPS[group],
            CONSUMERS[consumer],
            "STREAMS",
            "s",
            "0",
        ]),
        Op::Ack { group, id } => s(&["XACK", "s", GROUPS[group], &id_text(id)]),
        Op::Claim {
            group,
            consumer,
            id,
            justid,
        } => {
            let mut v = s(&[
                "XCLAIM",
                "s",
                GROUPS[group],
                CONSUMERS[consumer],
                "0",
                &id_text(id),
            ]);
            if justid {
                v.push("JUSTID".into());
            }
            v
        }
        Op::AutoClaim {
            group,
            consumer,
            count,
        } => s(&[
            "XAUTOCLAIM",
            "s",
            GROUPS[group],
            CONSUMERS[consumer],
            "0",
            "0",
            "COUNT",
            &count.to_string(),
        ]),
        Op::DelConsumer { group, consumer } => s(&[
            "XGROUP",
            "DELCONSUMER",
            "s",
            GROUPS[group],
            CONSUMERS[consumer],
        ]),
        Op::CreateConsumer { group, consumer } => s(&[
            "XGROUP",
            "CREATECONSUMER",
            "s",
            GROUPS[group],
            CONSUMERS[consumer],
        ]),
    }
}

impl Model {
    /// Applies `op`; false if Redis refuses it (an error reply).
    fn apply(&mut self, op: &Op) -> bool {
        match *op {
            Op::Add { ms, seq, field } => self.add(ms, seq, field),
            Op::Del(id) => {
                self.entries.remove(&id);
                true
            }
            Op::TrimMaxLen(n) => {
                while self.entries.len() as u64 > n {
                    self.entries.pop_first();
                }
                true
            }
            Op::TrimMinId(min) => {
                self.entries.retain(|id, _| *id >= min);
                true
            }
            Op::Create {
                group,
                at,
                mkstream,
            } => {
                if !self.exists && !mkstream {
                    return false;
                }
                self.exists = true;
                if self.groups.contains_key(&group) {
                    return false;
                }
                let last_id = at.unwrap_or(self.last_id);
                self.groups.insert(
                    group,
                    Group {
                        last_id,
                        ..Group::default()
                    },
                );
                true
            }
            Op::SetId { group, at } => match self.groups.get_mut(&group) {
                Some(g) => {
                    g.last_id = at;
                    true
                }
                None => false,
            },
            Op::ReadNew {
                group,
                consumer,
                count,
                noack,
            } => {
                let entries = &self.entries;
                let Some(g) = self.groups.get_mut(&group) else {
                    return false;
                };
                g.consumers.insert(consumer);
                let new: Vec<Id> = entries
                    .range((
                        std::ops::Bound::Excluded(g.last_id),
                        std::ops::Bound::Unbounded,
                    ))
                    .map(|(id, _)| *id)
                    .take(if count == 0 {
                        usize::MAX
                    } else {
                        count as usize
                    })
                    .collect();
                for id in new {
                    g.last_id = id;
                    if !noack {
                        g.pending.insert(id, (consumer, 1));
                    }
                }
                true
            }
            Op::ReadHistory { group, consumer } => {
                let entries = &self.entries;
                let Some(g) = self.groups.get_mut(&group) else {
                    return false;
                };
                g.consumers.insert(consumer);
                for (id, (owner, count)) in g.pending.iter_mut() {
                    if *owner == consumer && entries.contains_key(id) {
                        *count += 1;
                    }
                }
                true
            }
            Op::Ack { group, id } => {
                if let Some(g) = self.groups.get_mut(&group) {
                    g.pending.remove(&id);
                }
                true
            }
            Op::Claim {
                group,
                consumer,
                id,
                justid,
            } => {
                let entries = &self.entries;
                let Some(g) = self.groups.get_mut(&group) else {
                    return false;
                };
                if let Some(&(_, count)) = g.pending.get(&id) {
                    if entries.contains_key(&id) {
                        g.consumers.insert(consumer);
                        g.pending
                            .insert(id, (consumer, if justid { count } else { count + 1 }));
                    } else {
                        g.pending.remove(&id);
                    }
                }
                true
            }
            Op::AutoClaim {
                group,
                consumer,
                count,
            } => {
                let entries = &self.entries;
                let Some(g) = self.groups.get_mut(&group) else {
                    return false;
                };
                let mut left = count;
                let ids: Vec<Id> = g.pending.keys().copied().collect();
                for id in ids {
                    if left == 0 {
                        break;
                    }
                    left -= 1;
                    if entries.contains_key(&id) {
                        g.consumers.insert(consumer);
                        let n = g.pending[&id].1;
                        g.pending.insert(id, (consumer, n + 1));
                    } else {
                        g.pending.remove(&id);
                    }
                }
                true
            }
            Op::DelConsumer { group, consumer } => match self.groups.get_mut(&group) {
                Some(g) => {
                    g.consumers.remove(&consumer);
                    g.pending.retain(|_, (owner, _)| *owner != consumer);
                    true
                }
                None => false,
            },
            Op::CreateConsumer { group, consumer } => match self.groups.get_mut(&group) {
                Some(g) => {
                    g.consumers.insert(consumer);
                    true
                }
                None => false,
            },
        }
    }

    fn add(&mut self, ms: u64, seq: Option<u64>, field: u8) -> bool {
        let id = match seq {
            Some(0) if ms == 0 => return false,
            Some(q) => (ms, q),
            None if ms == self.last_id.0 && self.exists => (ms, self.last_id.1 + 1),
            None if ms == 0 => (0, 1),
            None => (ms, 0),
        };
        self.exists = true;
        if id <= self.last_id {
            return false;
        }
        self.entries.insert(id, field);
        self.last_id = id;
        true
    }

    fn xrange(&self) -> Reply {
        if !self.exists {
            return Reply::Array(vec![]);
        }
        Reply::Array(
            self.entries
                .iter()
                .map(|(&(ms, seq), field)| {
                    Reply::Array(vec![
                        bulk(id_text((ms, seq)).as_bytes()),
                        Reply::Array(vec![
                            bulk(format!("f{field}").as_bytes()),
                            bulk(format!("v{ms}").as_bytes()),
                        ]),
                    ])
                })
                .collect(),
        )
    }

    /// XPENDING s g - + 1000 without the idle times: (id, owner, count).
    fn pending(&self, group: usize) -> Option<Vec<(String, String, i64)>> {
        let g = self.groups.get(&group)?;
        Some(
            g.pending
                .iter()
                .map(|(id, (owner, count))| {
                    (id_text(*id), CONSUMERS[*owner].to_string(), *count as i64)
                })
                .collect(),
        )
    }
}

/// Small blocks, so that trims and deletes cross block boundaries.
fn node(seed: u8) -> Node {
    let config = Config {
        stream_node_max_entries: 3,
        ..Config::default()
    };
    let mut node = Node::new(config, [seed; 32], START_MS);
    node.set_propagation(true);
    connect(&mut node, START_MS, 1);
    node
}

/// XPENDING's extended rows without the idle column.
fn node_pending(node: &mut Node, group: usize) -> Option<Vec<(String, String, i64)>> {
    let reply = call(
        node,
        START_MS,
        1,
        &["XPENDING", "s", GROUPS[group], "-", "+", "1000"],
    );
    let Reply::Array(rows) = reply else {
        return None;
    };
    Some(
        rows.into_iter()
            .map(|row| match row {
                Reply::Array(r) => match (&r[0], &r[1], &r[3]) {
                    (Reply::Bulk(Some(id)), Reply::Bulk(Some(c)), Reply::Int(n)) => (
                        String::from_utf8_lossy(id).into_owned(),
                        String::from_utf8_lossy(c).into_owned(),
                        *n,
                    ),
                    other => panic!("bad XPENDING row {other:?}"),
                },
                other => panic!("bad XPENDING row {other:?}"),
            })
            .collect(),
    )
}

/// What a replica must agree on, as far as Redis 7.0's effects carry it: the
/// entries, and per group its last delivered ID and pending entries with their
/// owners and (unless history reads bumped them on the primary only, as in Redis)
/// delivery counts. Consumers that only read nothing, entries-read counters and
/// seen times are not propagated by Redis 7.0 either.
fn replica_view(node: &mut Node, counts: bool) -> Vec<String> {
    let mut view = vec![format!(
        "{:?}",
        call(node, START_MS, 1, &["XRANGE", "s", "-", "+"])
    )];
    for group in 0..GROUPS.len() {
        let rows = node_pending(node, group).map(|rows| {
            rows.into_iter()
                .map(|(id, owner, n)| {
                    if counts {
                        format!("{id} {owner} {n}")
                    } else {
                        format!("{id} {owner}")
                    }
                })
                .collect::<Vec<_>>()
        });
        view.push(format!("{rows:?}"));
    }
    if let Reply::Array(groups) = call(node, START_MS, 1, &["XINFO", "GROUPS", "s"]) {
        for g in groups {
            if let Reply::Array(fields) = g {
                view.push(format!("{:?} {:?}", fields[1], fields[7]));
            }
        }
    }
    view
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut primary = node(1);
    let mut replica = node(2);
    connect(&mut replica, START_MS, 2);
    let mut model = Model::default();
    for op in ops {
        let argv = args(op);
        let reply = call(&mut primary, START_MS, 1, &argv);
        let accepted = model.apply(op);
        prop_assert_eq!(
            !matches!(reply, Reply::Error(_)),
            accepted,
            "{:?} replied {:?}",
            argv,
            reply
        );
        prop_assert_eq!(
            call(&mut primary, START_MS, 1, &["XRANGE", "s", "-", "+"]),
            model.xrange()
        );
        for group in 0..GROUPS.len() {
            prop_assert_eq!(
                node_pending(&mut primary, group),
                model.pending(group),
                "{:?}",
                argv
            );
        }
        for effect in primary.take_effects() {
            let reply = call(&mut replica, START_MS, 2, &effect.argv);
            prop_assert!(
                !matches!(reply, Reply::Error(_)),
                "{:?}: {:?}",
                effect.argv,
                reply
            );
        }
    }
    let counts = !ops.iter().any(|op| matches!(op, Op::ReadHistory { .. }));
    prop_assert_eq!(
        replica_view(&mut replica, counts),
        replica_view(&mut primary, counts)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn streams_and_groups_match_the_model_and_replicate(ops in prop::collection::vec(op(), 1..40)) {
        run(&ops)?;
    }
}
