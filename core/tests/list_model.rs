//! Model-based tests for lists: random operations against a `VecDeque` model.
//!
//! * `list_type_agrees_with_a_deque`: the quicklist type itself, with its structural
//!   invariants checked after every step, across node-size settings small enough that
//!   lists cross node boundaries all the time.
//! * `list_commands_agree_with_the_model`: every list command as RESP bytes through
//!   `ember_core::Node`, including clients blocked with BLPOP/BRPOP on other
//!   connections (served oldest first by pushes, or timed out by ticks).

mod support;

use std::collections::{BTreeMap, VecDeque};

use ember_core::types::list::{value_to_vec, End, List};
use ember_core::{Config, Input, Node};
use proptest::prelude::*;
use support::{bulk, connect, replies, send, Replies, Reply, START_MS};

const KEYS: [&str; 3] = ["a", "b", "c"];
/// The connection running ordinary commands; waiters use 2, 3 and 4.
const MAIN: u64 = 1;
const WAITERS: [u64; 3] = [2, 3, 4];

fn element() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::sample::select(&["x", "y", "z", "1", "-7", "007", "", "12345678901234567890"][..])
            .prop_map(|s| s.as_bytes().to_vec()),
        1 => (0u8..3).prop_map(|n| vec![b'L' + n; 300]),
        1 => Just(vec![b'H'; 5000]),
    ]
}

fn fill() -> impl Strategy<Value = i64> {
    prop::sample::select(&[-2i64, -1, 1, 2, 3, 5, 128][..])
}

// ---------------------------------------------------------------------------
// The type against a deque

#[derive(Debug, Clone)]
enum TypeOp {
    Push(bool, Vec<u8>),
    Pop(bool),
    Set(i64, Vec<u8>),
    Insert(Vec<u8>, Vec<u8>, bool),
    Remove(Vec<u8>, bool, Option<usize>),
    DeleteRange(usize, usize),
}

fn type_op() -> impl Strategy<Value = TypeOp> {
    prop_oneof![
        6 => (any::<bool>(), element()).prop_map(|(h, v)| TypeOp::Push(h, v)),
        2 => any::<bool>().prop_map(TypeOp::Pop),
        1 => (-40i64..40, element()).prop_map(|(i, v)| TypeOp::Set(i, v)),
        1 => (element(), element(), any::<bool>()).prop_map(|(p, v, a)| TypeOp::Insert(p, v, a)),
        1 => (element(), any::<bool>(), prop::option::of(1usize..4))
            .prop_map(|(v, t, l)| TypeOp::Remove(v, t, l)),
        1 => (0usize..40, 0usize..20).prop_map(|(s, n)| TypeOp::DeleteRange(s, n)),
    ]
}

fn apply_type_op(list: &mut List, model: &mut VecDeque<Vec<u8>>, op: &TypeOp) {
    match op {
        TypeOp::Push(true, v) => {
            list.push_front(v);
            model.push_front(v.clone());
        }
        TypeOp::Push(false, v) => {
            list.push_back(v);
            model.push_back(v.clone());
        }
        TypeOp::Pop(head) => {
            let (end, expected) = match head {
                true => (End::Head, model.pop_front()),
                false => (End::Tail, model.pop_back()),
            };
            assert_eq!(list.pop(end), expected);
        }
        TypeOp::Set(i, v) => {
            let len = model.len() as i64;
            let at = if *i < 0 { i + len } else { *i };
            let ok = (0..len).contains(&at);
            if ok {
                model[at as usize] = v.clone();
            }
            assert_eq!(list.set(*i, v), ok);
        }
        TypeOp::Insert(pivot, v, after) => {
            let found = model.iter().position(|e| e == pivot);
            if let Some(at) = found {
                model.insert(at + usize::from(*after), v.clone());
            }
            assert_eq!(list.insert_at_pivot(pivot, v, *after), found.is_some());
        }
        TypeOp::Remove(v, from_tail, limit) => {
            let limit_n = limit.unwrap_or(usize::MAX);
            let mut removed = 0;
            let mut kept: VecDeque<Vec<u8>> = VecDeque::new();
            let items: Vec<Vec<u8>> = if *from_tail {
                model.iter().rev().cloned().collect()
            } else {
                model.iter().cloned().collect()
            };
            for item in items {
                if removed < limit_n && &item == v {
                    removed += 1;
                } else if *from_tail {
                    kept.push_front(item);
                } else {
                    kept.push_back(item);
                }
            }
            *model = kept;
            assert_eq!(list.remove_matching(v, *from_tail, *limit), removed);
        }
        TypeOp::DeleteRange(start, count) => {
            if *start < model.len() {
                let n = (*count).min(model.len() - start);
                model.drain(*start..start + n);
                list.delete_range(*start, *count);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn list_type_agrees_with_a_deque(fill in fill(), ops in prop::collection::vec(type_op(), 1..150)) {
        let mut list = List::new(fill);
        let mut model = VecDeque::new();
        for (i, op) in ops.iter().enumerate() {
            apply_type_op(&mut list, &mut model, op);
            prop_assert_eq!(list.check_invariants(), Ok(()), "step {}: {:?}", i, op);
            prop_assert_eq!(list.len(), model.len());
            let forward: Vec<Vec<u8>> = list.iter().map(|v| value_to_vec(&v)).collect();
            prop_assert_eq!(&forward, &model.iter().cloned().collect::<Vec<_>>(), "step {}: {:?}", i, op);
            let mut backward: Vec<Vec<u8>> = list.iter().rev().map(|v| value_to_vec(&v)).collect();
            backward.reverse();
            prop_assert_eq!(backward, forward);
        }
    }
}

// ---------------------------------------------------------------------------
// Commands through the node against a model

fn pair(key: &str, v: &[u8]) -> Reply {
    Reply::Array(vec![bulk(key.as_bytes()), bulk(v)])
}

#[derive(Debug, Clone)]
enum Cmd {
    Push {
        key: &'static str,
        head: bool,
        only_existing: bool,
        elements: Vec<Vec<u8>>,
    },
    Pop {
        key: &'static str,
        head: bool,
        count: Option<i64>,
    },
    Len(&'static str),
    Range(&'static str, i64, i64),
    Index(&'static str, i64),
    Set(&'static str, i64, Vec<u8>),
    Insert {
        key: &'static str,
        after: bool,
        pivot: Vec<u8>,
        element: Vec<u8>,
    },
    Rem(&'static str, i64, Vec<u8>),
    Trim(&'static str, i64, i64),
    Pos {
        key: &'static str,
        element: Vec<u8>,
        rank: Option<i64>,
        count: Option<i64>,
        maxlen: Option<i64>,
    },
    Move {
        src: &'static str,
        dst: &'static str,
        from_head: bool,
        to_head: bool,
    },
    Mpop {
        keys: Vec<&'static str>,
        head: bool,
        count: Option<i64>,
    },
    /// BLPOP/BRPOP on waiter connection `waiter`, with a timeout in whole seconds.
    Block {
        waiter: usize,
        keys: Vec<&'static str>,
        head: bool,
        timeout_s: u64,
    },
    /// Let time pass (timeouts fire).
    Advance(u64),
}

fn side(head: bool) -> &'static str {
    if head {
        "LEFT"
    } else {
        "RIGHT"
    }
}

impl Cmd {
    fn args(&self) -> Vec<Vec<u8>> {
        let s = |x: &str| x.as_bytes().to_vec();
        let n = |x: i64| x.to_string().into_bytes();
        match self {
            Cmd::Push {
                key,
                head,
                only_existing,
                elements,
            } => {
                let name = match (head, only_existing) {
                    (true, false) => "LPUSH",
                    (false, false) => "RPUSH",
                    (true, true) => "LPUSHX",
                    (false, true) => "RPUSHX",
                };
                [s(name), s(key)]
                    .into_iter()
                    .chain(elements.iter().cloned())
                    .collect()
            }
            Cmd::Pop { key, head, count } => {
                let mut a = vec![s(if *head { "LPOP" } else { "RPOP" }), s(key)];
                a.extend(count.map(n));
                a
            }
            Cmd::Len(k) => vec![s("LLEN"), s(k)],
            Cmd::Range(k, a, b) => vec![s("LRANGE"), s(k), n(*a), n(*b)],
            Cmd::Index(k, i) => vec![s("LINDEX"), s(k), n(*i)],
            Cmd::Set(k, i, v) => vec![s("LSET"), s(k), n(*i), v.clone()],
            Cmd::Insert {
                key,
                after,
                pivot,
                element,
            } => vec![
                s("LINSERT"),
                s(key),
                s(if *after { "AFTER" } else { "BEFORE" }),
                pivot.clone(),
                element.clone(),
            ],
            Cmd::Rem(k, c, v) => vec![s("LREM"), s(k), n(*c), v.clone()],
            Cmd::Trim(k, a, b) => vec![s("LTRIM"), s(k), n(*a), n(*b)],
            Cmd::Pos {
                key,
                element,
                rank,
                count,
                maxlen,
            } => {
                let mut a = vec![s("LPOS"), s(key), element.clone()];
                for (name, v) in [("RANK", rank), ("COUNT", count), ("MAXLEN", maxlen)] {
                    if let Some(v) = v {
                        a.extend([s(name), n(*v)]);
                    }
                }
                a
            }
            Cmd::Move {
                src,
                dst,
                from_head,
                to_head,
            } => {
                vec![
                    s("LMOVE"),
                    s(src),
                    s(dst),
                    s(side(*from_head)),
                    s(side(*to_head)),
                ]
            }
            Cmd::Mpop { keys, head, count } => {
                let mut a = vec![s("LMPOP"), n(keys.len() as i64)];
                a.extend(keys.iter().map(|k| s(k)));
                a.push(s(side(*head)));
                if let Some(c) = count {
                    a.extend([s("COUNT"), n(*c)]);
                }
                a
            }
            Cmd::Block {
                keys,
                head,
                timeout_s,
                ..
            } => {
                let mut a = vec![s(if *head { "BLPOP" } else { "BRPOP" })];
                a.extend(keys.iter().map(|k| s(k)));
                a.push(n(*timeout_s as i64));
                a
            }
            Cmd::Advance(_) => Vec::new(),
        }
    }
}

fn key() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&KEYS[..])
}

fn keys() -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(key(), 1..3)
}

fn cmd() -> impl Strategy<Value = Cmd> {
    let small = || -6i64..6;
    prop_oneof![
        6 => (key(), any::<bool>(), prop::bool::weighted(0.2), prop::collection::vec(element(), 1..5))
            .prop_map(|(key, head, only_existing, elements)| Cmd::Push { key, head, only_existing, elements }),
        3 => (key(), any::<bool>(), prop::option::of(-1i64..5)).prop_map(|(key, head, count)| Cmd::Pop { key, head, count }),
        1 => key().prop_map(Cmd::Len),
        2 => (key(), small(), small()).prop_map(|(k, a, b)| Cmd::Range(k, a, b)),
        1 => (key(), small()).prop_map(|(k, i)| Cmd::Index(k, i)),
        1 => (key(), small(), element()).prop_map(|(k, i, v)| Cmd::Set(k, i, v)),
        1 => (key(), any::<bool>(), element(), element())
            .prop_map(|(key, after, pivot, element)| Cmd::Insert { key, after, pivot, element }),
        1 => (key(), -3i64..3, element()).prop_map(|(k, c, v)| Cmd::Rem(k, c, v)),
        1 => (key(), small(), small()).prop_map(|(k, a, b)| Cmd::Trim(k, a, b)),
        1 => (key(), element(), prop::option::of(prop_oneof![-3i64..0, 1i64..4]), prop::option::of(0i64..3), prop::option::of(0i64..6))
            .prop_map(|(key, element, rank, count, maxlen)| Cmd::Pos { key, element, rank, count, maxlen }),
        2 => (key(), key(), any::<bool>(), any::<bool>())
            .prop_map(|(src, dst, from_head, to_head)| Cmd::Move { src, dst, from_head, to_head }),
        1 => (keys(), any::<bool>(), prop::option::of(1i64..4)).prop_map(|(keys, head, count)| Cmd::Mpop { keys, head, count }),
        2 => (0usize..3, keys(), any::<bool>(), prop::sample::select(&[0u64, 1, 2][..]))
            .prop_map(|(waiter, keys, head, timeout_s)| Cmd::Block { waiter, keys, head, timeout_s }),
        1 => (100u64..2500).prop_map(Cmd::Advance),
    ]
}

struct Waiter {
    conn: u64,
    keys: Vec<&'static str>,
    head: bool,
    deadline: Option<u64>,
}

/// The reference: plain deques, and the blocked clients in arrival order.
#[derive(Default)]
struct Model {
    lists: BTreeMap<&'static str, VecDeque<Vec<u8>>>,
    waiters: Vec<Waiter>,
}

fn norm_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { start + len } else { start }.max(0);
    let stop = if stop < 0 { stop + len } else { stop };
    if start > stop || start >= len {
        return None;
    }
    Some((start as usize, (stop.min(len - 1) - start + 1) as usize))
}

impl Model {
    fn list(&mut self, key: &'static str) -> &mut VecDeque<Vec<u8>> {
        self.lists.entry(key).or_default()
    }

    fn len(&self, key: &str) -> usize {
        self.lists.get(key).map_or(0, VecDeque::len)
    }

    fn pop(&mut self, key: &'static str, head: bool) -> Option<Vec<u8>> {
        let list = self.lists.get_mut(key)?;
        let v = if head {
            list.pop_front()
        } else {
            list.pop_back()
        };
        if list.is_empty() {
            self.lists.remove(key);
        }
        v
    }

    fn push(&mut self, key: &'static str, head: bool, v: Vec<u8>) {
        let list = self.list(key);
        if head {
            list.push_front(v);
        } else {
            list.push_back(v);
        }
    }

    fn apply(&mut self, cmd: &Cmd, now: u64, out: &mut Replies) {
        let main = match cmd {
            Cmd::Block {
                waiter,
                keys,
                head,
                timeout_s,
            } => {
                let conn = WAITERS[*waiter];
                if let Some(key) = keys.iter().find(|k| self.len(k) > 0) {
                    let v = self.pop(key, *head).unwrap_or_default();
                    out.entry(conn).or_default().push(pair(key, &v));
                } else {
                    let deadline = (*timeout_s > 0).then(|| now + timeout_s * 1000);
                    self.waiters.push(Waiter {
                        conn,
                        keys: keys.clone(),
                        head: *head,
                        deadline,
                    });
                }
                return;
            }
            Cmd::Advance(_) => {
                self.time_out(now, out);
                return;
            }
            _ => self.apply_command(cmd),
        };
        out.entry(MAIN).or_default().push(main);
        self.serve(out);
    }

    fn time_out(&mut self, now: u64, out: &mut Replies) {
        let mut due: Vec<(u64, u64)> = self
            .waiters
            .iter()
            .filter_map(|w| w.deadline.filter(|&d| d <= now).map(|d| (d, w.conn)))
            .collect();
        due.sort();
        for (_, conn) in due {
            self.waiters.retain(|w| w.conn != conn);
            out.entry(conn).or_default().push(Reply::NullArray);
        }
    }

    /// Waiters whose keys now hold elements are served oldest first.
    fn serve(&mut self, out: &mut Replies) {
        let mut i = 0;
        while i < self.waiters.len() {
            let w = &self.waiters[i];
            match w.keys.iter().copied().find(|k| self.len(k) > 0) {
                Some(key) => {
                    let (conn, head) = (w.conn, w.head);
                    self.waiters.remove(i);
                    let v = self.pop(key, head).unwrap_or_default();
                    out.entry(conn).or_default().push(pair(key, &v));
                }
                None => i += 1,
            }
        }
    }

    fn apply_command(&mut self, cmd: &Cmd) -> Reply {
        match cmd {
            Cmd::Push {
                key,
                head,
                only_existing,
                elements,
            } => {
                if *only_existing && self.len(key) == 0 {
                    return Reply::Int(0);
                }
                for e in elements {
                    self.push(key, *head, e.clone());
                }
                Reply::Int(self.len(key) as i64)
            }
            Cmd::Pop { key, head, count } => self.pop_reply(key, *head, *count),
            Cmd::Len(k) => Reply::Int(self.len(k) as i64),
            Cmd::Range(k, a, b) => {
                let list = self.lists.get(k).cloned().unwrap_or_default();
                let items = match norm_range(*a, *b, list.len()) {
                    Some((s, n)) => list.iter().skip(s).take(n).map(|v| bulk(v)).collect(),
                    None => Vec::new(),
                };
                Reply::Array(items)
            }
            Cmd::Index(k, i) => {
                let list = self.lists.get(k).cloned().unwrap_or_default();
                let len = list.len() as i64;
                let at = if *i < 0 { i + len } else { *i };
                Reply::Bulk(list.get(usize::try_from(at).unwrap_or(usize::MAX)).cloned())
            }
            Cmd::Set(k, i, v) => {
                let Some(list) = self.lists.get_mut(k) else {
                    return Reply::Error("ERR no such key".into());
                };
                let len = list.len() as i64;
                let at = if *i < 0 { i + len } else { *i };
                match list.get_mut(usize::try_from(at).unwrap_or(usize::MAX)) {
                    Some(slot) => {
                        *slot = v.clone();
                        Reply::Status("OK".into())
                    }
                    None => Reply::Error("ERR index out of range".into()),
                }
            }
            Cmd::Insert {
                key,
                after,
                pivot,
                element,
            } => {
                let Some(list) = self.lists.get_mut(key) else {
                    return Reply::Int(0);
                };
                match list.iter().position(|e| e == pivot) {
                    Some(at) => {
                        list.insert(at + usize::from(*after), element.clone());
                        Reply::Int(list.len() as i64)
                    }
                    None => Reply::Int(-1),
                }
            }
            Cmd::Rem(k, c, v) => self.rem(k, *c, v),
            Cmd::Trim(k, a, b) => {
                if let Some(list) = self.lists.get_mut(k) {
                    match norm_range(*a, *b, list.len()) {
                        Some((s, n)) => *list = list.iter().skip(s).take(n).cloned().collect(),
                        None => list.clear(),
                    }
                    if list.is_empty() {
                        self.lists.remove(k);
                    }
                }
                Reply::Status("OK".into())
            }
            Cmd::Pos {
                key,
                element,
                rank,
                count,
                maxlen,
            } => self.pos(key, element, *rank, *count, *maxlen),
            Cmd::Move {
                src,
                dst,
                from_head,
                to_head,
            } => match self.pop(src, *from_head) {
                None => Reply::Bulk(None),
                Some(v) => {
                    self.push(dst, *to_head, v.clone());
                    Reply::Bulk(Some(v))
                }
            },
            Cmd::Mpop { keys, head, count } => {
                let Some(key) = keys.iter().copied().find(|k| self.len(k) > 0) else {
                    return Reply::NullArray;
                };
                let n = count.unwrap_or(1) as usize;
                let popped: Vec<Reply> = (0..n)
                    .filter_map(|_| self.pop(key, *head))
                    .map(|v| bulk(&v))
                    .collect();
                Reply::Array(vec![bulk(key.as_bytes()), Reply::Array(popped)])
            }
            Cmd::Block { .. } | Cmd::Advance(_) => unreachable!("handled by apply"),
        }
    }

    fn pop_reply(&mut self, key: &'static str, head: bool, count: Option<i64>) -> Reply {
        match count {
            Some(c) if c < 0 => Reply::Error("ERR value is out of range, must be positive".into()),
            None => Reply::Bulk(self.pop(key, head)),
            Some(_) if self.len(key) == 0 => Reply::NullArray,
            Some(c) => Reply::Array(
                (0..c)
                    .filter_map(|_| self.pop(key, head))
                    .map(|v| bulk(&v))
                    .collect(),
            ),
        }
    }

    fn rem(&mut self, key: &'static str, count: i64, v: &[u8]) -> Reply {
        let Some(list) = self.lists.get_mut(key) else {
            return Reply::Int(0);
        };
        let limit = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs() as usize
        };
        let positions: Vec<usize> = if count < 0 {
            (0..list.len())
                .rev()
                .filter(|&i| list[i] == v)
                .take(limit)
                .collect()
        } else {
            (0..list.len())
                .filter(|&i| list[i] == v)
                .take(limit)
                .collect()
        };
        let removed = positions.len();
        let mut kept = VecDeque::new();
        for (i, e) in list.iter().enumerate() {
            if !positions.contains(&i) {
                kept.push_back(e.clone());
            }
        }
        *list = kept;
        if list.is_empty() {
            self.lists.remove(key);
        }
        Reply::Int(removed as i64)
    }

    fn pos(
        &self,
        key: &str,
        v: &[u8],
        rank: Option<i64>,
        count: Option<i64>,
        maxlen: Option<i64>,
    ) -> Reply {
        let list = self.lists.get(key).cloned().unwrap_or_default();
        let rank = rank.unwrap_or(1);
        let maxlen = maxlen.unwrap_or(0) as usize;
        let len = list.len();
        let order: Vec<usize> = if rank < 0 {
            (0..len).rev().collect()
        } else {
            (0..len).collect()
        };
        let scanned = if maxlen == 0 {
            order.len()
        } else {
            maxlen.min(order.len())
        };
        let matches: Vec<i64> = order[..scanned]
            .iter()
            .filter(|&&i| list[i] == v)
            .skip(rank.unsigned_abs() as usize - 1)
            .map(|&i| i as i64)
            .collect();
        match count {
            None => matches
                .first()
                .map_or(Reply::Bulk(None), |&i| Reply::Int(i)),
            Some(0) => Reply::Array(matches.into_iter().map(Reply::Int).collect()),
            Some(c) => Reply::Array(
                matches
                    .into_iter()
                    .take(c as usize)
                    .map(Reply::Int)
                    .collect(),
            ),
        }
    }
}

/// Runs one step on the node and decodes every reply it sends, by connection.
fn run_on_node(node: &mut Node, now: u64, cmd: &Cmd) -> Replies {
    match cmd {
        Cmd::Advance(_) => node.handle(now, Input::Tick),
        Cmd::Block { waiter, .. } => send(node, now, WAITERS[*waiter], &cmd.args()),
        _ => send(node, now, MAIN, &cmd.args()),
    }
    replies(node)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn list_commands_agree_with_the_model(fill in fill(), steps in prop::collection::vec(cmd(), 1..80)) {
        let config = Config { list_max_listpack_size: fill, ..Config::default() };
        let mut node = Node::new(config, [3; 32], START_MS);
        for conn in [MAIN].into_iter().chain(WAITERS) {
            connect(&mut node, START_MS, conn);
        }
        let mut model = Model::default();
        let mut now = START_MS;
        for (i, cmd) in steps.iter().enumerate() {
            if let Cmd::Advance(ms) = cmd {
                now += ms;
            }
            // A waiter that is still blocked sends nothing new (its input would queue).
            if let Cmd::Block { waiter, .. } = cmd {
                if model.waiters.iter().any(|w| w.conn == WAITERS[*waiter]) {
                    continue;
                }
            }
            let mut expected = Replies::new();
            model.apply(cmd, now, &mut expected);
            let got = run_on_node(&mut node, now, cmd);
            prop_assert_eq!(got, expected, "step {}: {:?} at +{}ms", i, cmd, now - START_MS);
            if let (Cmd::Advance(_), Some(at)) = (cmd, node.poll_timeout()) {
                prop_assert!(at > now, "poll_timeout {} is not in the future", at);
            }
        }
    }
}
