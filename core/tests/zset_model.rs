//! Model-based test of the sorted-set commands: random command sequences run on the
//! core (as RESP bytes on a connection) and on a reference model built on BTreeMap,
//! with low encoding thresholds so that sets cross from listpack to skiplist (and
//! computed results pick their encoding by size) all the time. Every reply must
//! agree, `OBJECT ENCODING` included.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use ember_core::util::num::format_f64_g17;
use ember_core::{Config, Node};
use proptest::prelude::*;

mod support;
use support::{bulk, call, connect, err, Reply, START_MS, WRONGTYPE};

const KEYS: [&str; 4] = ["z1", "z2", "z3", "str"];
/// Thresholds low enough to be crossed by a few commands.
const ENTRIES_MAX: usize = 6;
const VALUE_MAX: usize = 5;

fn score_reply(s: f64) -> Reply {
    bulk(format_f64_g17(s).as_bytes())
}

fn array(items: Vec<Reply>) -> Reply {
    Reply::Array(items)
}

/// A sorted set in the model: members with scores, and the encoding Redis would use.
#[derive(Debug, Clone, Default)]
struct ZModel {
    scores: BTreeMap<Vec<u8>, f64>,
    listpack: bool,
}

impl ZModel {
    /// Members in (score, member) order.
    fn sorted(&self) -> Vec<(Vec<u8>, f64)> {
        let mut v: Vec<(Vec<u8>, f64)> = self.scores.iter().map(|(m, s)| (m.clone(), *s)).collect();
        v.sort_by(cmp_elem);
        v
    }

    fn from_result(items: Vec<(Vec<u8>, f64)>) -> ZModel {
        let longest = items.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        let listpack = items.len() <= ENTRIES_MAX && longest <= VALUE_MAX;
        // A listpack keeps a score as text, where -0 is written "0".
        let unsign = |v: f64| if listpack && v == 0.0 { 0.0 } else { v };
        ZModel {
            listpack,
            scores: items.into_iter().map(|(m, v)| (m, unsign(v))).collect(),
        }
    }

    fn insert_new(&mut self, member: &[u8], score: f64) {
        if self.listpack && (self.scores.len() + 1 > ENTRIES_MAX || member.len() > VALUE_MAX) {
            self.listpack = false;
        }
        self.scores.insert(member.to_vec(), score);
    }

    /// Whether lex ranges are well defined (all scores equal).
    fn same_scores(&self) -> bool {
        let mut it = self.scores.values();
        match it.next() {
            None => true,
            Some(first) => it.all(|s| s == first),
        }
    }
}

fn cmp_elem(a: &(Vec<u8>, f64), b: &(Vec<u8>, f64)) -> Ordering {
    a.1.partial_cmp(&b.1)
        .unwrap_or(Ordering::Equal)
        .then_with(|| a.0.cmp(&b.0))
}

#[derive(Debug, Clone)]
enum Value {
    Str,
    Z(ZModel),
    /// A plain set: an input of the set operations where each member scores 1.
    PlainSet(&'static [&'static str]),
}

/// The plain set every run starts with, at key "ps".
const PLAIN_SET: &[&str] = &["a", "c", "e", "longer"];

#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

#[derive(Debug, Clone, Copy)]
enum By {
    Rank(i64, i64),
    Score(Bound, Bound),
    Lex(LexB, LexB),
}

#[derive(Debug, Clone, Copy)]
struct Bound {
    value: f64,
    exclusive: bool,
}

#[derive(Debug, Clone)]
enum LexB {
    Min,
    Max,
    Incl(&'static str),
    Excl(&'static str),
}

impl Copy for LexB {}

#[derive(Debug, Clone, Copy)]
enum Agg {
    Sum,
    Min,
    Max,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone)]
enum Cmd {
    Zadd(&'static str, Flags, Vec<(f64, Vec<u8>)>),
    Zincrby(&'static str, f64, Vec<u8>),
    Zrem(&'static str, Vec<Vec<u8>>),
    Zscore(&'static str, Vec<u8>),
    Zrank(&'static str, Vec<u8>, bool),
    Zcard(&'static str),
    Zcount(&'static str, Bound, Bound),
    Zlexcount(&'static str, LexB, LexB),
    Zrange {
        key: &'static str,
        by: By,
        rev: bool,
        limit: Option<(i64, i64)>,
        withscores: bool,
        store: Option<&'static str>,
    },
    Zremrange(&'static str, By),
    Zpop(&'static str, bool, Option<i64>),
    Zmpop(Vec<&'static str>, bool, Option<i64>),
    SetOp {
        op: Op,
        keys: Vec<&'static str>,
        weights: Option<Vec<f64>>,
        agg: Option<Agg>,
        store: Option<&'static str>,
        withscores: bool,
    },
    Zintercard(Vec<&'static str>, Option<i64>),
    ZrandAll(&'static str, bool),
    Zscan(&'static str),
    Encoding(&'static str),
    Del(&'static str),
}

fn s(x: &str) -> Vec<u8> {
    x.as_bytes().to_vec()
}

fn num(v: f64) -> Vec<u8> {
    format_f64_g17(v).into_bytes()
}

fn bound_arg(b: Bound) -> Vec<u8> {
    let mut out = if b.exclusive { s("(") } else { Vec::new() };
    out.extend(num(b.value));
    out
}

fn lex_arg(b: LexB) -> Vec<u8> {
    match b {
        LexB::Min => s("-"),
        LexB::Max => s("+"),
        LexB::Incl(x) => [b"[", x.as_bytes()].concat(),
        LexB::Excl(x) => [b"(", x.as_bytes()].concat(),
    }
}

fn range_args(by: By, rev: bool) -> (Vec<u8>, Vec<u8>) {
    match by {
        By::Rank(a, b) => (s(&a.to_string()), s(&b.to_string())),
        // REV takes max first.
        By::Score(min, max) if rev => (bound_arg(max), bound_arg(min)),
        By::Score(min, max) => (bound_arg(min), bound_arg(max)),
        By::Lex(min, max) if rev => (lex_arg(max), lex_arg(min)),
        By::Lex(min, max) => (lex_arg(min), lex_arg(max)),
    }
}

impl Cmd {
    fn args(&self) -> Vec<Vec<u8>> {
        match self {
            Cmd::Zadd(k, f, pairs) => {
                let mut a = vec![s("ZADD"), s(k)];
                for (on, name) in [
                    (f.nx, "NX"),
                    (f.xx, "XX"),
                    (f.gt, "GT"),
                    (f.lt, "LT"),
                    (f.ch, "CH"),
                    (f.incr, "INCR"),
                ] {
                    if on {
                        a.push(s(name));
                    }
                }
                for (score, member) in pairs {
                    a.push(num(*score));
                    a.push(member.clone());
                }
                a
            }
            Cmd::Zincrby(k, by, m) => vec![s("ZINCRBY"), s(k), num(*by), m.clone()],
            Cmd::Zrem(k, ms) => [vec![s("ZREM"), s(k)], ms.clone()].concat(),
            Cmd::Zscore(k, m) => vec![s("ZSCORE"), s(k), m.clone()],
            Cmd::Zrank(k, m, rev) => {
                vec![s(if *rev { "ZREVRANK" } else { "ZRANK" }), s(k), m.clone()]
            }
            Cmd::Zcard(k) => vec![s("ZCARD"), s(k)],
            Cmd::Zcount(k, a, b) => vec![s("ZCOUNT"), s(k), bound_arg(*a), bound_arg(*b)],
            Cmd::Zlexcount(k, a, b) => vec![s("ZLEXCOUNT"), s(k), lex_arg(*a), lex_arg(*b)],
            Cmd::Zrange {
                key,
                by,
                rev,
                limit,
                withscores,
                store,
            } => {
                let (min, max) = range_args(*by, *rev);
                let mut a = match store {
                    Some(dst) => vec![s("ZRANGESTORE"), s(dst), s(key)],
                    None => vec![s("ZRANGE"), s(key)],
                };
                a.push(min);
                a.push(max);
                match by {
                    By::Score(..) => a.push(s("BYSCORE")),
                    By::Lex(..) => a.push(s("BYLEX")),
                    By::Rank(..) => {}
                }
                if *rev {
                    a.push(s("REV"));
                }
                if let Some((off, cnt)) = limit {
                    a.extend([s("LIMIT"), s(&off.to_string()), s(&cnt.to_string())]);
                }
                if *withscores {
                    a.push(s("WITHSCORES"));
                }
                a
            }
            Cmd::Zremrange(k, by) => {
                let (min, max) = range_args(*by, false);
                let name = match by {
                    By::Rank(..) => "ZREMRANGEBYRANK",
                    By::Score(..) => "ZREMRANGEBYSCORE",
                    By::Lex(..) => "ZREMRANGEBYLEX",
                };
                vec![s(name), s(k), min, max]
            }
            Cmd::Zpop(k, max, count) => {
                let mut a = vec![s(if *max { "ZPOPMAX" } else { "ZPOPMIN" }), s(k)];
                if let Some(c) = count {
                    a.push(s(&c.to_string()));
                }
                a
            }
            Cmd::Zmpop(keys, max, count) => {
                let mut a = vec![s("ZMPOP"), s(&keys.len().to_string())];
                a.extend(keys.iter().map(|k| s(k)));
                a.push(s(if *max { "MAX" } else { "MIN" }));
                if let Some(c) = count {
                    a.extend([s("COUNT"), s(&c.to_string())]);
                }
                a
            }
            Cmd::SetOp {
                op,
                keys,
                weights,
                agg,
                store,
                withscores,
            } => {
                let name = match (op, store.is_some()) {
                    (Op::Union, false) => "ZUNION",
                    (Op::Inter, false) => "ZINTER",
                    (Op::Diff, false) => "ZDIFF",
                    (Op::Union, true) => "ZUNIONSTORE",
                    (Op::Inter, true) => "ZINTERSTORE",
                    (Op::Diff, true) => "ZDIFFSTORE",
                };
                let mut a = vec![s(name)];
                if let Some(dst) = store {
                    a.push(s(dst));
                }
                a.push(s(&keys.len().to_string()));
                a.extend(keys.iter().map(|k| s(k)));
                if let Some(w) = weights {
                    a.push(s("WEIGHTS"));
                    a.extend(w.iter().map(|x| num(*x)));
                }
                if let Some(g) = agg {
                    a.push(s("AGGREGATE"));
                    a.push(s(match g {
                        Agg::Sum => "SUM",
                        Agg::Min => "MIN",
                        Agg::Max => "MAX",
                    }));
                }
                if *withscores {
                    a.push(s("WITHSCORES"));
                }
                a
            }
            Cmd::Zintercard(keys, limit) => {
                let mut a = vec![s("ZINTERCARD"), s(&keys.len().to_string())];
                a.extend(keys.iter().map(|k| s(k)));
                if let Some(l) = limit {
                    a.extend([s("LIMIT"), s(&l.to_string())]);
                }
                a
            }
            Cmd::ZrandAll(k, withscores) => {
                let mut a = vec![s("ZRANDMEMBER"), s(k), s("100")];
                if *withscores {
                    a.push(s("WITHSCORES"));
                }
                a
            }
            Cmd::Zscan(k) => vec![s("ZSCAN"), s(k), s("0"), s("COUNT"), s("1000")],
            Cmd::Encoding(k) => vec![s("OBJECT"), s("ENCODING"), s(k)],
            Cmd::Del(k) => vec![s("DEL"), s(k)],
        }
    }
}

/// What the model expects of one command.
#[derive(Debug)]
enum Expect {
    Reply(Reply),
    /// Run it, but its reply is not predictable.
    Unchecked,
    /// Do not run it: its effect is not predictable.
    Skip,
}

/// The reference model: key -> value.
struct Model {
    keys: BTreeMap<&'static str, Value>,
}

fn members_reply(items: &[(Vec<u8>, f64)], withscores: bool) -> Reply {
    let mut out = Vec::new();
    for (m, sc) in items {
        out.push(bulk(m));
        if withscores {
            out.push(score_reply(*sc));
        }
    }
    array(out)
}

fn aggregate(target: &mut f64, v: f64, agg: Agg) {
    match agg {
        Agg::Sum => {
            *target += v;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Agg::Min => {
            if v < *target {
                *target = v;
            }
        }
        Agg::Max => {
            if v > *target {
                *target = v;
            }
        }
    }
}

fn lex_above_min(m: &[u8], b: LexB) -> bool {
    match b {
        LexB::Min => true,
        LexB::Max => false,
        LexB::Incl(x) => m >= x.as_bytes(),
        LexB::Excl(x) => m > x.as_bytes(),
    }
}

fn lex_below_max(m: &[u8], b: LexB) -> bool {
    match b {
        LexB::Min => false,
        LexB::Max => true,
        LexB::Incl(x) => m <= x.as_bytes(),
        LexB::Excl(x) => m < x.as_bytes(),
    }
}

fn score_above_min(v: f64, b: Bound) -> bool {
    if b.exclusive {
        v > b.value
    } else {
        v >= b.value
    }
}

fn score_below_max(v: f64, b: Bound) -> bool {
    if b.exclusive {
        v < b.value
    } else {
        v <= b.value
    }
}

/// Ranks selected by a rank range (Redis's sanitising), as 0-based indices.
fn rank_span(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

impl Model {
    fn zset(&self, key: &str) -> Result<Option<&ZModel>, Reply> {
        match self.keys.get(key) {
            None => Ok(None),
            Some(Value::Str | Value::PlainSet(_)) => Err(err(WRONGTYPE)),
            Some(Value::Z(z)) => Ok(Some(z)),
        }
    }

    fn store(&mut self, dst: &'static str, items: Vec<(Vec<u8>, f64)>) -> Reply {
        let n = items.len() as i64;
        if items.is_empty() {
            self.keys.remove(dst);
        } else {
            self.keys.insert(dst, Value::Z(ZModel::from_result(items)));
        }
        Reply::Int(n)
    }

    fn drop_if_empty(&mut self, key: &str) {
        if matches!(self.keys.get(key), Some(Value::Z(z)) if z.scores.is_empty()) {
            self.keys.remove(key);
        }
    }

    /// What the node should answer. Lex ranges over members with different scores
    /// are left undefined by Redis (the answer depends on the skiplist's shape), so
    /// reads of them run unchecked and writes of them are skipped.
    fn apply(&mut self, cmd: &Cmd) -> Expect {
        if self.lex_over_mixed_scores(cmd) {
            let writes = matches!(cmd, Cmd::Zremrange(..) | Cmd::Zrange { store: Some(_), .. });
            return if writes {
                Expect::Skip
            } else {
                Expect::Unchecked
            };
        }
        match self.try_apply(cmd) {
            Ok(Some(r)) | Err(r) => Expect::Reply(r),
            Ok(None) => Expect::Unchecked,
        }
    }

    fn lex_over_mixed_scores(&self, cmd: &Cmd) -> bool {
        let key = match cmd {
            Cmd::Zlexcount(k, ..) | Cmd::Zremrange(k, By::Lex(..)) => k,
            Cmd::Zrange {
                key,
                by: By::Lex(..),
                ..
            } => key,
            _ => return false,
        };
        matches!(self.keys.get(key), Some(Value::Z(z)) if !z.same_scores())
    }

    /// `Ok(None)`: the model cannot predict the reply (ZSCAN's hash order).
    fn try_apply(&mut self, cmd: &Cmd) -> Result<Option<Reply>, Reply> {
        Ok(Some(match cmd {
            Cmd::Zadd(k, f, pairs) => self.zadd(k, *f, pairs)?,
            Cmd::Zincrby(k, by, m) => {
                let f = Flags {
                    incr: true,
                    ..Flags::default()
                };
                self.zadd(k, f, &[(*by, m.clone())])?
            }
            Cmd::Zrem(k, ms) => {
                let Some(Value::Z(z)) = self.keys.get_mut(k) else {
                    self.zset(k)?;
                    return Ok(Some(Reply::Int(0)));
                };
                let mut n = 0;
                for m in ms {
                    n += i64::from(z.scores.remove(m).is_some());
                }
                self.drop_if_empty(k);
                Reply::Int(n)
            }
            Cmd::Zscore(k, m) => match self.zset(k)?.and_then(|z| z.scores.get(m)) {
                Some(sc) => score_reply(*sc),
                None => Reply::Bulk(None),
            },
            Cmd::Zrank(k, m, rev) => {
                let Some(z) = self.zset(k)? else {
                    return Ok(Some(Reply::Bulk(None)));
                };
                let sorted = z.sorted();
                match sorted.iter().position(|(x, _)| x == m) {
                    Some(r) if *rev => Reply::Int((sorted.len() - 1 - r) as i64),
                    Some(r) => Reply::Int(r as i64),
                    None => Reply::Bulk(None),
                }
            }
            Cmd::Zcard(k) => Reply::Int(self.zset(k)?.map_or(0, |z| z.scores.len() as i64)),
            Cmd::Zcount(k, a, b) => {
                let n = self.zset(k)?.map_or(0, |z| {
                    z.scores
                        .values()
                        .filter(|v| score_above_min(**v, *a) && score_below_max(**v, *b))
                        .count()
                });
                Reply::Int(n as i64)
            }
            Cmd::Zlexcount(k, a, b) => {
                let Some(z) = self.zset(k)? else {
                    return Ok(Some(Reply::Int(0)));
                };
                if !z.same_scores() {
                    return Ok(None);
                }
                let n = z
                    .scores
                    .keys()
                    .filter(|m| lex_above_min(m, *a) && lex_below_max(m, *b))
                    .count();
                Reply::Int(n as i64)
            }
            Cmd::Zrange {
                key,
                by,
                rev,
                limit,
                withscores,
                store,
            } => return self.zrange(key, *by, *rev, *limit, *withscores, *store),
            Cmd::Zremrange(k, by) => {
                let Some(z) = self.zset(k)? else {
                    return Ok(Some(Reply::Int(0)));
                };
                if matches!(by, By::Lex(..)) && !z.same_scores() {
                    return Ok(None);
                }
                let doomed = select(&z.sorted(), *by, false, None);
                let Some(Value::Z(z)) = self.keys.get_mut(k) else {
                    return Ok(Some(Reply::Int(0)));
                };
                for (m, _) in &doomed {
                    z.scores.remove(m);
                }
                self.drop_if_empty(k);
                Reply::Int(doomed.len() as i64)
            }
            Cmd::Zpop(k, max, count) => {
                if let Some(c) = count {
                    if *c < 0 {
                        return Err(err("ERR value is out of range, must be positive"));
                    }
                }
                let Some(z) = self.zset(k)? else {
                    return Ok(Some(array(vec![])));
                };
                let _ = z;
                let popped = self.pop(k, *max, count.unwrap_or(1));
                members_reply(&popped, true)
            }
            Cmd::Zmpop(keys, max, count) => {
                let mut found = None;
                for k in keys {
                    if self.zset(k)?.is_some() {
                        found = Some(*k);
                        break;
                    }
                }
                let Some(k) = found else {
                    return Ok(Some(Reply::NullArray));
                };
                let popped = self.pop(k, *max, count.unwrap_or(1));
                let pairs = popped
                    .iter()
                    .map(|(m, sc)| array(vec![bulk(m), score_reply(*sc)]))
                    .collect();
                array(vec![bulk(k.as_bytes()), array(pairs)])
            }
            Cmd::SetOp {
                op,
                keys,
                weights,
                agg,
                store,
                withscores,
            } => {
                let result = self.setop(*op, keys, weights.as_deref(), agg.unwrap_or(Agg::Sum))?;
                match store {
                    Some(dst) => self.store(dst, result),
                    None => members_reply(&result, *withscores),
                }
            }
            Cmd::Zintercard(keys, limit) => {
                if limit.is_some_and(|l| l < 0) {
                    for k in keys {
                        if !matches!(self.keys.get(k), Some(Value::PlainSet(_))) {
                            self.zset(k)?;
                        }
                    }
                    return Err(err("ERR LIMIT can't be negative"));
                }
                let n = self.setop(Op::Inter, keys, None, Agg::Sum)?.len() as i64;
                let n = match limit {
                    Some(l) if *l > 0 => n.min(*l),
                    _ => n,
                };
                Reply::Int(n)
            }
            Cmd::ZrandAll(k, withscores) => match self.zset(k)? {
                None => array(vec![]),
                Some(z) => {
                    let mut items = z.sorted();
                    items.reverse();
                    members_reply(&items, *withscores)
                }
            },
            Cmd::Zscan(k) => {
                let Some(z) = self.zset(k)? else {
                    return Ok(Some(array(vec![bulk(b"0"), array(vec![])])));
                };
                if !z.listpack {
                    // Hash order: the model cannot predict it.
                    return Ok(None);
                }
                let mut out = Vec::new();
                for (m, sc) in z.sorted() {
                    out.push(bulk(&m));
                    out.push(bulk(d2string(sc).as_bytes()));
                }
                array(vec![bulk(b"0"), array(out)])
            }
            Cmd::Encoding(k) => match self.keys.get(k) {
                None => Reply::Bulk(None),
                Some(Value::Str) => bulk(b"embstr"),
                Some(Value::PlainSet(_)) => bulk(b"hashtable"),
                Some(Value::Z(z)) => bulk(if z.listpack { b"listpack" } else { b"skiplist" }),
            },
            Cmd::Del(k) => Reply::Int(i64::from(self.keys.remove(k).is_some())),
        }))
    }

    fn zadd(
        &mut self,
        k: &'static str,
        f: Flags,
        pairs: &[(f64, Vec<u8>)],
    ) -> Result<Reply, Reply> {
        if f.nx && f.xx {
            return Err(err(
                "ERR XX and NX options at the same time are not compatible",
            ));
        }
        if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
            return Err(err(
                "ERR GT, LT, and/or NX options at the same time are not compatible",
            ));
        }
        if f.incr && pairs.len() > 1 {
            return Err(err(
                "ERR INCR option supports a single increment-element pair",
            ));
        }
        let created = self.zset(k)?.is_none();
        if created {
            if f.xx {
                return Ok(if f.incr {
                    Reply::Bulk(None)
                } else {
                    Reply::Int(0)
                });
            }
            let listpack = ENTRIES_MAX > 0 && pairs[0].1.len() <= VALUE_MAX;
            self.keys.insert(
                k,
                Value::Z(ZModel {
                    scores: BTreeMap::new(),
                    listpack,
                }),
            );
        }
        let Some(Value::Z(z)) = self.keys.get_mut(k) else {
            unreachable!()
        };
        let (mut added, mut updated, mut last) = (0, 0, None);
        for (score, member) in pairs {
            match z.scores.get(member).copied() {
                None => {
                    if f.xx {
                        continue;
                    }
                    z.insert_new(member, *score);
                    added += 1;
                    last = Some(*score);
                }
                Some(cur) => {
                    if f.nx {
                        continue;
                    }
                    let new = if f.incr { cur + score } else { *score };
                    if new.is_nan() {
                        return Err(err("ERR resulting score is not a number (NaN)"));
                    }
                    if (f.lt && new >= cur) || (f.gt && new <= cur) {
                        continue;
                    }
                    if new != cur {
                        z.scores.insert(member.clone(), new);
                        updated += 1;
                    }
                    last = Some(new);
                }
            }
        }
        Ok(if f.incr {
            last.map_or(Reply::Bulk(None), score_reply)
        } else {
            Reply::Int(if f.ch { added + updated } else { added })
        })
    }

    fn pop(&mut self, k: &str, max: bool, count: i64) -> Vec<(Vec<u8>, f64)> {
        let Some(Value::Z(z)) = self.keys.get_mut(k) else {
            return Vec::new();
        };
        let mut sorted = z.sorted();
        if max {
            sorted.reverse();
        }
        sorted.truncate(count as usize);
        for (m, _) in &sorted {
            z.scores.remove(m);
        }
        self.drop_if_empty(k);
        sorted
    }

    fn zrange(
        &mut self,
        key: &str,
        by: By,
        rev: bool,
        limit: Option<(i64, i64)>,
        withscores: bool,
        store: Option<&'static str>,
    ) -> Result<Option<Reply>, Reply> {
        let items = match self.zset(key)? {
            None => Vec::new(),
            Some(z) => {
                if matches!(by, By::Lex(..)) && !z.same_scores() {
                    return Ok(None);
                }
                select(&z.sorted(), by, rev, limit)
            }
        };
        Ok(Some(match store {
            Some(dst) => {
                let mut items = items;
                // Redis adds the elements in reply order to a set that starts as a
                // listpack (unless a rank range is known to be too long); those
                // added while it is one lose the sign of -0.
                let sized = matches!(by, By::Rank(..)) && items.len() > ENTRIES_MAX;
                if !sized {
                    for (i, (m, v)) in items.iter_mut().enumerate() {
                        if i >= ENTRIES_MAX || m.len() > VALUE_MAX {
                            break;
                        }
                        if *v == 0.0 {
                            *v = 0.0;
                        }
                    }
                }
                items.sort_by(cmp_elem);
                self.store(dst, items)
            }
            None => members_reply(&items, withscores),
        }))
    }

    fn setop(
        &self,
        op: Op,
        keys: &[&'static str],
        weights: Option<&[f64]>,
        agg: Agg,
    ) -> Result<Vec<(Vec<u8>, f64)>, Reply> {
        let mut sets = Vec::new();
        for k in keys {
            if let Some(Value::PlainSet(members)) = self.keys.get(k) {
                sets.push(members.iter().map(|m| (s(m), 1.0)).collect());
                continue;
            }
            sets.push(self.zset(k)?.map(|z| z.scores.clone()).unwrap_or_default());
        }
        let w = |i: usize| weights.map_or(1.0, |w| w[i]);
        let weighted = |v: f64, i: usize| {
            let x = v * w(i);
            if x.is_nan() {
                0.0
            } else {
                x
            }
        };
        // Redis visits the inputs from smallest to largest.
        let mut order: Vec<usize> = (0..sets.len()).collect();
        order.sort_by_key(|&i| sets[i].len());
        let mut out: Vec<(Vec<u8>, f64)> = Vec::new();
        match op {
            Op::Union => {
                let mut acc: BTreeMap<Vec<u8>, f64> = BTreeMap::new();
                for &i in &order {
                    for (m, v) in &sets[i] {
                        let v = weighted(*v, i);
                        match acc.get_mut(m) {
                            Some(t) => aggregate(t, v, agg),
                            None => {
                                acc.insert(m.clone(), v);
                            }
                        }
                    }
                }
                out.extend(acc);
            }
            Op::Inter => {
                let first = order[0];
                'members: for (m, v) in &sets[first] {
                    let mut total = weighted(*v, first);
                    for &i in &order[1..] {
                        match sets[i].get(m) {
                            Some(x) => aggregate(&mut total, x * w(i), agg),
                            None => continue 'members,
                        }
                    }
                    out.push((m.clone(), total));
                }
            }
            Op::Diff => {
                if !keys[1..].contains(&keys[0]) {
                    for (m, v) in &sets[0] {
                        if sets[1..].iter().all(|s| !s.contains_key(m)) {
                            out.push((m.clone(), *v));
                        }
                    }
                }
            }
        }
        out.sort_by(cmp_elem);
        Ok(out)
    }
}

/// The elements a range selects, in reply order.
fn select(
    sorted: &[(Vec<u8>, f64)],
    by: By,
    rev: bool,
    limit: Option<(i64, i64)>,
) -> Vec<(Vec<u8>, f64)> {
    let mut items: Vec<(Vec<u8>, f64)> = match by {
        By::Rank(a, b) => {
            let Some((start, end)) = rank_span(a, b, sorted.len()) else {
                return Vec::new();
            };
            let mut v: Vec<_> = sorted.to_vec();
            if rev {
                v.reverse();
            }
            return v[start..=end].to_vec();
        }
        By::Score(min, max) => sorted
            .iter()
            .filter(|(_, v)| score_above_min(*v, min) && score_below_max(*v, max))
            .cloned()
            .collect(),
        By::Lex(min, max) => sorted
            .iter()
            .filter(|(m, _)| lex_above_min(m, min) && lex_below_max(m, max))
            .cloned()
            .collect(),
    };
    if rev {
        items.reverse();
    }
    let (offset, count) = limit.unwrap_or((0, -1));
    if offset < 0 {
        return Vec::new();
    }
    let count = if count < 0 {
        usize::MAX
    } else {
        count as usize
    };
    items
        .into_iter()
        .skip(offset as usize)
        .take(count)
        .collect()
}

/// Redis's d2string, as a listpack stores a score.
fn d2string(v: f64) -> String {
    let limit = (i64::MAX / 2) as f64;
    if (-limit..=limit).contains(&v) && (v as i64) as f64 == v {
        return (v as i64).to_string();
    }
    format_f64_g17(v)
}

// --- strategies -------------------------------------------------------------------

fn zkey() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&KEYS[..])
}

fn member() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => prop::sample::select(&["a", "b", "c", "d", "e", "f", "g", "h"][..]).prop_map(s),
        1 => prop::sample::select(&["longer", "longest1", ""][..]).prop_map(s),
    ]
}

fn score() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => (-6i32..6).prop_map(|n| f64::from(n) / 2.0),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
    ]
}

fn bound() -> impl Strategy<Value = Bound> {
    (score(), any::<bool>()).prop_map(|(value, exclusive)| Bound { value, exclusive })
}

fn lexb() -> impl Strategy<Value = LexB> {
    prop_oneof![
        Just(LexB::Min),
        Just(LexB::Max),
        prop::sample::select(&["a", "c", "e", "g", "longer"][..]).prop_map(LexB::Incl),
        prop::sample::select(&["b", "d", "f", "h", ""][..]).prop_map(LexB::Excl),
    ]
}

fn by() -> impl Strategy<Value = By> {
    prop_oneof![
        (-10i64..10, -10i64..10).prop_map(|(a, b)| By::Rank(a, b)),
        (bound(), bound()).prop_map(|(a, b)| By::Score(a, b)),
        (lexb(), lexb()).prop_map(|(a, b)| By::Lex(a, b)),
    ]
}

fn flags() -> impl Strategy<Value = Flags> {
    prop::collection::vec(any::<bool>(), 6).prop_map(|b| Flags {
        nx: b[0] && b[1],
        xx: b[1] && !b[0],
        gt: b[2] && b[3],
        lt: b[3] && b[4] && b[5],
        ch: b[4],
        incr: b[5] && b[0],
    })
}

/// Keys of the multi-key commands: the sorted-set keys, plus the plain set.
fn keys_list() -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(
        prop::sample::select(&["z1", "z2", "z3", "str", "ps"][..]),
        1..4,
    )
}

fn cmd() -> impl Strategy<Value = Cmd> {
    let zadd = (
        zkey(),
        flags(),
        prop::collection::vec((score(), member()), 1..5),
    )
        .prop_map(|(k, f, pairs)| Cmd::Zadd(k, f, pairs));
    let zrange = (
        zkey(),
        by(),
        any::<bool>(),
        prop::option::of((-1i64..4, -1i64..4)),
        any::<bool>(),
        prop::option::of(zkey()),
    )
        .prop_map(|(key, by, rev, limit, withscores, store)| {
            let ranged = !matches!(by, By::Rank(..));
            Cmd::Zrange {
                key,
                by,
                rev,
                limit: limit.filter(|_| ranged),
                withscores: withscores && store.is_none() && !matches!(by, By::Lex(..)),
                store,
            }
        });
    let setop = (
        prop::sample::select(&[Op::Union, Op::Inter, Op::Diff][..]),
        keys_list(),
        any::<bool>(),
        prop::option::of(prop::sample::select(&[Agg::Sum, Agg::Min, Agg::Max][..])),
        prop::option::of(zkey()),
        any::<bool>(),
        prop::collection::vec(prop::sample::select(&[1.0, 2.0, -1.0, 0.5, 0.0][..]), 3),
    )
        .prop_map(|(op, keys, weighted, agg, store, withscores, w)| {
            let diff = matches!(op, Op::Diff);
            Cmd::SetOp {
                weights: (weighted && !diff).then(|| w[..keys.len()].to_vec()),
                agg: agg.filter(|_| !diff),
                withscores: withscores && store.is_none(),
                op,
                keys,
                store,
            }
        });
    prop_oneof![
        10 => zadd,
        2 => (zkey(), score(), member()).prop_map(|(k, by, m)| Cmd::Zincrby(k, by, m)),
        3 => (zkey(), prop::collection::vec(member(), 1..4)).prop_map(|(k, ms)| Cmd::Zrem(k, ms)),
        2 => (zkey(), member()).prop_map(|(k, m)| Cmd::Zscore(k, m)),
        2 => (zkey(), member(), any::<bool>()).prop_map(|(k, m, r)| Cmd::Zrank(k, m, r)),
        1 => zkey().prop_map(Cmd::Zcard),
        2 => (zkey(), bound(), bound()).prop_map(|(k, a, b)| Cmd::Zcount(k, a, b)),
        2 => (zkey(), lexb(), lexb()).prop_map(|(k, a, b)| Cmd::Zlexcount(k, a, b)),
        6 => zrange,
        2 => (zkey(), by()).prop_map(|(k, by)| Cmd::Zremrange(k, by)),
        2 => (zkey(), any::<bool>(), prop::option::of(-1i64..5)).prop_map(|(k, m, c)| Cmd::Zpop(k, m, c)),
        1 => (keys_list(), any::<bool>(), prop::option::of(1i64..5)).prop_map(|(ks, m, c)| Cmd::Zmpop(ks, m, c)),
        4 => setop,
        1 => (keys_list(), prop::option::of(-1i64..3)).prop_map(|(ks, l)| Cmd::Zintercard(ks, l)),
        1 => (zkey(), any::<bool>()).prop_map(|(k, w)| Cmd::ZrandAll(k, w)),
        1 => zkey().prop_map(Cmd::Zscan),
        3 => zkey().prop_map(Cmd::Encoding),
        1 => zkey().prop_map(Cmd::Del),
    ]
}

// --- driving the node -------------------------------------------------------------

fn run(node: &mut Node, args: &[Vec<u8>]) -> Reply {
    call(node, START_MS, 1, args)
}

fn new_node(seed: u8) -> Node {
    let config = Config {
        zset_max_listpack_entries: ENTRIES_MAX as u64,
        zset_max_listpack_value: VALUE_MAX as u64,
        ..Config::default()
    };
    let mut node = Node::new(config, [seed; 32], START_MS);
    connect(&mut node, START_MS, 1);
    node
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn core_agrees_with_the_sorted_set_model(steps in prop::collection::vec(cmd(), 1..120), seed in any::<u8>()) {
        let mut node = new_node(seed);
        let mut model = Model { keys: BTreeMap::new() };
        run(&mut node, &[s("SET"), s("str"), s("x")]);
        model.keys.insert("str", Value::Str);
        let sadd: Vec<Vec<u8>> = ["SADD", "ps"].iter().chain(PLAIN_SET).map(|m| s(m)).collect();
        run(&mut node, &sadd);
        model.keys.insert("ps", Value::PlainSet(PLAIN_SET));
        for (i, cmd) in steps.iter().enumerate() {
            match model.apply(cmd) {
                Expect::Skip => {}
                Expect::Unchecked => {
                    run(&mut node, &cmd.args());
                }
                Expect::Reply(expected) => {
                    let got = run(&mut node, &cmd.args());
                    prop_assert_eq!(got, expected, "step {}: {:?}", i, cmd);
                }
            }
        }
        // Every set ends with the same members, scores and encoding.
        for k in KEYS {
            let got = run(&mut node, &Cmd::Zrange { key: k, by: By::Rank(0, -1), rev: false, limit: None, withscores: true, store: None }.args());
            let expected = match model.keys.get(k) {
                Some(Value::Z(z)) => members_reply(&z.sorted(), true),
                Some(Value::Str | Value::PlainSet(_)) => err(WRONGTYPE),
                None => array(vec![]),
            };
            prop_assert_eq!(got, expected, "final contents of {}", k);
        }
    }
}

#[test]
fn a_large_set_survives_growth_and_mass_removal() {
    let mut node = new_node(1);
    let mut model = Model {
        keys: BTreeMap::new(),
    };
    for i in 0..3000u32 {
        let member = format!("m{}", (i * 7919) % 3001).into_bytes();
        let cmd = Cmd::Zadd("z1", Flags::default(), vec![(f64::from(i % 17), member)]);
        let Expect::Reply(expected) = model.apply(&cmd) else {
            panic!("{cmd:?}")
        };
        assert_eq!(run(&mut node, &cmd.args()), expected);
    }
    let checks = [
        Cmd::Zremrange("z1", By::Rank(100, 2500)),
        Cmd::Zrange {
            key: "z1",
            by: By::Rank(0, -1),
            rev: true,
            limit: None,
            withscores: true,
            store: None,
        },
        Cmd::Zcount(
            "z1",
            Bound {
                value: 3.0,
                exclusive: true,
            },
            Bound {
                value: 9.0,
                exclusive: false,
            },
        ),
        Cmd::Zpop("z1", true, Some(50)),
        Cmd::Zrank("z1", s("m5"), false),
        Cmd::Encoding("z1"),
        Cmd::Zrange {
            key: "z1",
            by: By::Score(
                Bound {
                    value: 2.0,
                    exclusive: false,
                },
                Bound {
                    value: 4.0,
                    exclusive: true,
                },
            ),
            rev: true,
            limit: Some((3, 20)),
            withscores: false,
            store: Some("z2"),
        },
        Cmd::Zrange {
            key: "z2",
            by: By::Rank(0, -1),
            rev: false,
            limit: None,
            withscores: true,
            store: None,
        },
        Cmd::Encoding("z2"),
    ];
    for cmd in &checks {
        let Expect::Reply(expected) = model.apply(cmd) else {
            panic!("{cmd:?}")
        };
        assert_eq!(run(&mut node, &cmd.args()), expected, "{cmd:?}");
    }
}
