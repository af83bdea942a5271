//! A reference model of one Redis database for a deterministic command subset:
//! strings, counters, lists, hashes, sets, sorted sets and the DEL/EXISTS/EXPIRE/TTL
//! basics. It answers with the reply Redis 7.0 gives, byte for byte; replies whose
//! element order Redis leaves open (SMEMBERS, HGETALL) are compared after
//! [`normalize`]. Expiry is lazy and exact: a key is gone once the node's clock is past
//! its deadline, as Redis decides it (`now > deadline`; see [`crate::known`] for where
//! the core still differs).

use std::collections::{BTreeMap, BTreeSet};

use crate::resp::Reply;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
const NOT_FLOAT: &str = "ERR value is not a valid float";
const SYNTAX: &str = "ERR syntax error";
const OVERFLOW: &str = "ERR increment or decrement would overflow";
const HASH_NOT_INTEGER: &str = "ERR hash value is not an integer";

type Bytes = Vec<u8>;

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(Bytes),
    List(std::collections::VecDeque<Bytes>),
    Hash(BTreeMap<Bytes, Bytes>),
    Set(BTreeSet<Bytes>),
    /// member -> score; ranks come from sorting by (score, member).
    ZSet(BTreeMap<Bytes, f64>),
}

#[derive(Debug, Clone, PartialEq)]
struct Key {
    value: Value,
    deadline: Option<u64>,
}

/// The commands the model answers, with Redis 7.0's arity (negative: at least).
pub const COMMANDS: &[(&str, i32)] = &[
    ("get", 2),
    ("set", -3),
    ("setnx", 3),
    ("append", 3),
    ("strlen", 2),
    ("incr", 2),
    ("decr", 2),
    ("incrby", 3),
    ("decrby", 3),
    ("mget", -2),
    ("mset", -3),
    ("getdel", 2),
    ("del", -2),
    ("exists", -2),
    ("type", 2),
    ("expire", -3),
    ("pexpire", -3),
    ("pexpireat", -3),
    ("ttl", 2),
    ("pttl", 2),
    ("persist", 2),
    ("lpush", -3),
    ("rpush", -3),
    ("lpop", -2),
    ("rpop", -2),
    ("llen", 2),
    ("lrange", 4),
    ("lindex", 3),
    ("hset", -4),
    ("hget", 3),
    ("hdel", -3),
    ("hlen", 2),
    ("hexists", 3),
    ("hincrby", 4),
    ("hgetall", 2),
    ("sadd", -3),
    ("srem", -3),
    ("scard", 2),
    ("sismember", 3),
    ("smembers", 2),
    ("zadd", -4),
    ("zrem", -3),
    ("zscore", 3),
    ("zcard", 2),
    ("zrange", -4),
    ("zincrby", 4),
    ("zrank", 3),
];

/// Whether the model knows this command (any case).
pub fn supports(name: &[u8]) -> bool {
    let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
    COMMANDS.iter().any(|(n, _)| *n == lower)
}

/// Commands whose reply lists elements in an order Redis leaves open.
pub fn unordered_reply(name: &[u8]) -> bool {
    matches!(
        String::from_utf8_lossy(name).to_ascii_lowercase().as_str(),
        "smembers" | "hgetall"
    )
}

/// Puts an unordered reply in a canonical order (HGETALL's pairs stay pairs).
pub fn normalize(name: &[u8], reply: &Reply) -> Reply {
    let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
    match (lower.as_str(), reply) {
        ("smembers", Reply::Array(items)) => {
            let mut items = items.clone();
            items.sort();
            Reply::Array(items)
        }
        ("hgetall", Reply::Array(items)) => {
            let mut pairs: Vec<&[Reply]> = items.chunks(2).collect();
            pairs.sort();
            Reply::Array(pairs.concat())
        }
        _ => reply.clone(),
    }
}

#[derive(Debug, Default, Clone)]
pub struct Model {
    keys: BTreeMap<Bytes, Key>,
}

/// Parses an integer as Redis's string2ll does: no sign but `-`, no leading zeros,
/// no spaces, within i64.
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits[0] == b'0' && (digits.len() > 1 || b.len() > 1) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Parses a score the way the workload writes them (decimal, finite).
fn parse_f64(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    let ok = !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_digit() || c == b'.' || c == b'-');
    let v: f64 = if ok { s.parse().ok()? } else { return None };
    v.is_finite().then_some(v)
}

/// A score as Redis prints it (`%.17g`); exact for the scores the workload uses.
pub fn format_score(v: f64) -> Vec<u8> {
    format!("{v}").into_bytes()
}

fn int_or(b: &[u8]) -> Result<i64, Reply> {
    parse_i64(b).ok_or_else(|| Reply::err(NOT_INTEGER))
}

impl Model {
    pub fn new() -> Model {
        Model::default()
    }

    /// Forgets everything (a node restarted with no persistence).
    pub fn clear(&mut self) {
        self.keys.clear();
    }

    /// Runs one command at the node's clock `now` and gives Redis's reply.
    pub fn apply(&mut self, args: &[Bytes], now: u64) -> Reply {
        let Some(name) = args.first() else {
            return Reply::err("ERR unknown command ''");
        };
        let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
        let Some(&(_, arity)) = COMMANDS.iter().find(|(n, _)| *n == lower) else {
            return unknown_command(args);
        };
        let n = args.len() as i32;
        if (arity > 0 && n != arity) || (arity < 0 && n < -arity) {
            return arity_error(&lower);
        }
        for key in key_args(&lower, args) {
            self.expire_if_needed(key, now);
        }
        match self.run(&lower, args, now) {
            Ok(reply) | Err(reply) => reply,
        }
    }

    fn expire_if_needed(&mut self, key: &[u8], now: u64) {
        if let Some(k) = self.keys.get(key) {
            if k.deadline.is_some_and(|d| expired(d, now)) {
                self.keys.remove(key);
            }
        }
    }

    fn run(&mut self, cmd: &str, a: &[Bytes], now: u64) -> Result<Reply, Reply> {
        match cmd {
            "get" => Ok(Reply::Bulk(self.string(&a[1])?)),
            "set" => self.set(a, now),
            "setnx" => {
                if self.keys.contains_key(&a[1]) {
                    return Ok(Reply::Int(0));
                }
                self.put_string(&a[1], a[2].clone(), None);
                Ok(Reply::Int(1))
            }
            "append" => {
                let mut v = self.string(&a[1])?.unwrap_or_default();
                v.extend_from_slice(&a[2]);
                let len = v.len() as i64;
                self.put_string_keep_ttl(&a[1], v);
                Ok(Reply::Int(len))
            }
            "strlen" => Ok(Reply::Int(
                self.string(&a[1])?.map_or(0, |v| v.len() as i64),
            )),
            "incr" => self.incr(&a[1], 1),
            "decr" => self.incr(&a[1], -1),
            "incrby" => self.incr(&a[1], int_or(&a[2])?),
            "decrby" => {
                let by = int_or(&a[2])?;
                self.incr(
                    &a[1],
                    by.checked_neg().ok_or_else(|| Reply::err(NOT_INTEGER))?,
                )
            }
            "mget" => Ok(Reply::Array(
                a[1..]
                    .iter()
                    .map(|k| Reply::Bulk(self.string(k).ok().flatten()))
                    .collect(),
            )),
            "mset" => {
                if a.len().is_multiple_of(2) {
                    return Err(arity_error("mset"));
                }
                for pair in a[1..].chunks(2) {
                    self.put_string(&pair[0], pair[1].clone(), None);
                }
                Ok(Reply::ok())
            }
            "getdel" => {
                let v = self.string(&a[1])?;
                self.keys.remove(&a[1]);
                Ok(Reply::Bulk(v))
            }
            "del" => Ok(Reply::Int(
                a[1..]
                    .iter()
                    .filter(|k| self.keys.remove(*k).is_some())
                    .count() as i64,
            )),
            "exists" => Ok(Reply::Int(
                a[1..].iter().filter(|k| self.keys.contains_key(*k)).count() as i64,
            )),
            "type" => Ok(Reply::Status(self.type_name(&a[1]).into())),
            "expire" | "pexpire" | "pexpireat" => self.expire(cmd, a, now),
            "ttl" | "pttl" => Ok(Reply::Int(self.ttl(&a[1], now, cmd == "pttl"))),
            "persist" => Ok(Reply::Int(match self.keys.get_mut(&a[1]) {
                Some(k) if k.deadline.is_some() => {
                    k.deadline = None;
                    1
                }
                _ => 0,
            })),
            _ => self.run_collection(cmd, a),
        }
    }

    fn run_collection(&mut self, cmd: &str, a: &[Bytes]) -> Result<Reply, Reply> {
        match cmd {
            "lpush" | "rpush" | "lpop" | "rpop" | "llen" | "lrange" | "lindex" => self.list(cmd, a),
            "hset" | "hget" | "hdel" | "hlen" | "hexists" | "hincrby" | "hgetall" => {
                self.hash(cmd, a)
            }
            "sadd" | "srem" | "scard" | "sismember" | "smembers" => self.set_cmd(cmd, a),
            _ => self.zset(cmd, a),
        }
    }

    fn type_name(&self, key: &[u8]) -> &'static str {
        match self.keys.get(key).map(|k| &k.value) {
            None => "none",
            Some(Value::Str(_)) => "string",
            Some(Value::List(_)) => "list",
            Some(Value::Hash(_)) => "hash",
            Some(Value::Set(_)) => "set",
            Some(Value::ZSet(_)) => "zset",
        }
    }

    fn string(&self, key: &[u8]) -> Result<Option<Bytes>, Reply> {
        match self.keys.get(key).map(|k| &k.value) {
            None => Ok(None),
            Some(Value::Str(v)) => Ok(Some(v.clone())),
            Some(_) => Err(Reply::err(WRONGTYPE)),
        }
    }

    fn put_string(&mut self, key: &[u8], v: Bytes, deadline: Option<u64>) {
        self.keys.insert(
            key.to_vec(),
            Key {
                value: Value::Str(v),
                deadline,
            },
        );
    }

    fn put_string_keep_ttl(&mut self, key: &[u8], v: Bytes) {
        let deadline = self.keys.get(key).and_then(|k| k.deadline);
        self.put_string(key, v, deadline);
    }

    /// SET key value [NX|XX] [EX seconds|PX milliseconds]
    fn set(&mut self, a: &[Bytes], now: u64) -> Result<Reply, Reply> {
        let (mut nx, mut xx, mut ttl): (bool, bool, Option<(bool, &[u8])>) = (false, false, None);
        let mut i = 3;
        while i < a.len() {
            let opt = String::from_utf8_lossy(&a[i]).to_ascii_lowercase();
            match opt.as_str() {
                "nx" if !xx => nx = true,
                "xx" if !nx => xx = true,
                "ex" | "px" if ttl.is_none() && i + 1 < a.len() => {
                    ttl = Some((opt == "px", &a[i + 1]));
                    i += 1;
                }
                _ => return Err(Reply::err(SYNTAX)),
            }
            i += 1;
        }
        let deadline = match ttl {
            None => None,
            Some((ms, raw)) => {
                let n = int_or(raw)?;
                let ms_n = if ms { Some(n) } else { n.checked_mul(1000) };
                match ms_n {
                    Some(v) if v > 0 => Some(now + v as u64),
                    _ => return Err(Reply::err("ERR invalid expire time in 'set' command")),
                }
            }
        };
        let exists = self.keys.contains_key(&a[1]);
        if (nx && exists) || (xx && !exists) {
            return Ok(Reply::Bulk(None));
        }
        self.put_string(&a[1], a[2].clone(), deadline);
        Ok(Reply::ok())
    }

    fn incr(&mut self, key: &[u8], by: i64) -> Result<Reply, Reply> {
        let old = match self.string(key)? {
            None => 0,
            Some(v) => parse_i64(&v).ok_or_else(|| Reply::err(NOT_INTEGER))?,
        };
        let new = old.checked_add(by).ok_or_else(|| Reply::err(OVERFLOW))?;
        self.put_string_keep_ttl(key, new.to_string().into_bytes());
        Ok(Reply::Int(new))
    }

    /// EXPIRE/PEXPIRE key time, PEXPIREAT key unix-ms (no NX/XX/GT/LT).
    fn expire(&mut self, cmd: &str, a: &[Bytes], now: u64) -> Result<Reply, Reply> {
        if a.len() > 3 {
            let opt = String::from_utf8_lossy(&a[3]);
            return Err(Reply::Error(format!("ERR Unsupported option {opt}")));
        }
        let n = int_or(&a[2])?;
        let when = match cmd {
            "expire" => n
                .checked_mul(1000)
                .and_then(|ms| ms.checked_add(now as i64)),
            "pexpire" => n.checked_add(now as i64),
            _ => Some(n),
        };
        let Some(when) = when else {
            return Err(Reply::Error(format!(
                "ERR invalid expire time in '{cmd}' command"
            )));
        };
        let Some(k) = self.keys.get_mut(&a[1]) else {
            return Ok(Reply::Int(0));
        };
        if when <= now as i64 {
            self.keys.remove(&a[1]);
        } else {
            k.deadline = Some(when as u64);
        }
        Ok(Reply::Int(1))
    }

    fn ttl(&self, key: &[u8], now: u64, ms: bool) -> i64 {
        match self.keys.get(key) {
            None => -2,
            Some(Key { deadline: None, .. }) => -1,
            Some(Key {
                deadline: Some(d), ..
            }) => {
                let left = d.saturating_sub(now) as i64;
                if ms {
                    left
                } else {
                    (left + 500) / 1000
                }
            }
        }
    }

    fn list(&mut self, cmd: &str, a: &[Bytes]) -> Result<Reply, Reply> {
        let key = &a[1];
        let mut count = None;
        if cmd == "lpop" || cmd == "rpop" {
            if a.len() > 3 {
                return Err(arity_error(cmd));
            }
            if let Some(raw) = a.get(2) {
                match parse_i64(raw) {
                    Some(n) if n >= 0 => count = Some(n as usize),
                    _ => return Err(Reply::err("ERR value is out of range, must be positive")),
                }
            }
        }
        let list = match self.keys.get(key).map(|k| &k.value) {
            Some(Value::List(l)) => Some(l.clone()),
            Some(_) => return Err(Reply::err(WRONGTYPE)),
            None => None,
        };
        let reply = match cmd {
            "lpush" | "rpush" => {
                let mut l = list.unwrap_or_default();
                for e in &a[2..] {
                    if cmd == "lpush" {
                        l.push_front(e.clone())
                    } else {
                        l.push_back(e.clone())
                    }
                }
                let len = l.len() as i64;
                self.put_collection(key, Value::List(l));
                Reply::Int(len)
            }
            "lpop" | "rpop" => {
                let Some(mut l) = list else {
                    return Ok(if count.is_some() {
                        Reply::NullArray
                    } else {
                        Reply::Bulk(None)
                    });
                };
                let mut popped = Vec::new();
                for _ in 0..count.unwrap_or(1) {
                    let e = if cmd == "lpop" {
                        l.pop_front()
                    } else {
                        l.pop_back()
                    };
                    popped.extend(e);
                }
                self.put_collection(key, Value::List(l));
                match count {
                    None => Reply::Bulk(popped.pop()),
                    Some(_) => Reply::Array(popped.iter().map(|e| Reply::bulk(e)).collect()),
                }
            }
            "llen" => Reply::Int(list.map_or(0, |l| l.len() as i64)),
            "lrange" => {
                let (start, stop) = (int_or(&a[2])?, int_or(&a[3])?);
                let l: Vec<Bytes> = list.unwrap_or_default().into_iter().collect();
                Reply::Array(
                    rank_range(l.len(), start, stop)
                        .map(|i| Reply::bulk(&l[i]))
                        .collect(),
                )
            }
            _ => {
                let idx = int_or(&a[2])?;
                let l = list.unwrap_or_default();
                let i = if idx < 0 { l.len() as i64 + idx } else { idx };
                Reply::Bulk(usize::try_from(i).ok().and_then(|i| l.get(i).cloned()))
            }
        };
        Ok(reply)
    }

    /// Stores a collection, deleting the key when it became empty; keeps the TTL.
    fn put_collection(&mut self, key: &[u8], value: Value) {
        let empty = match &value {
            Value::List(l) => l.is_empty(),
            Value::Hash(h) => h.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::ZSet(z) => z.is_empty(),
            Value::Str(_) => false,
        };
        if empty {
            self.keys.remove(key);
            return;
        }
        let deadline = self.keys.get(key).and_then(|k| k.deadline);
        self.keys.insert(key.to_vec(), Key { value, deadline });
    }

    fn hash(&mut self, cmd: &str, a: &[Bytes]) -> Result<Reply, Reply> {
        if cmd == "hset" && a.len() % 2 == 1 {
            return Err(arity_error("hset"));
        }
        let incr = if cmd == "hincrby" { int_or(&a[3])? } else { 0 };
        let key = &a[1];
        let mut h = match self.keys.get(key).map(|k| &k.value) {
            Some(Value::Hash(h)) => h.clone(),
            Some(_) => return Err(Reply::err(WRONGTYPE)),
            None => BTreeMap::new(),
        };
        let reply = match cmd {
            "hset" => {
                let added = a[2..]
                    .chunks(2)
                    .filter(|p| h.insert(p[0].clone(), p[1].clone()).is_none())
                    .count();
                Reply::Int(added as i64)
            }
            "hget" => return Ok(Reply::Bulk(h.get(&a[2]).cloned())),
            "hdel" => Reply::Int(a[2..].iter().filter(|f| h.remove(*f).is_some()).count() as i64),
            "hlen" => return Ok(Reply::Int(h.len() as i64)),
            "hexists" => return Ok(Reply::Int(i64::from(h.contains_key(&a[2])))),
            "hincrby" => {
                let old = match h.get(&a[2]) {
                    None => 0,
                    Some(v) => parse_i64(v).ok_or_else(|| Reply::err(HASH_NOT_INTEGER))?,
                };
                let new = old.checked_add(incr).ok_or_else(|| Reply::err(OVERFLOW))?;
                h.insert(a[2].clone(), new.to_string().into_bytes());
                Reply::Int(new)
            }
            _ => {
                return Ok(Reply::Array(
                    h.iter()
                        .flat_map(|(f, v)| [Reply::bulk(f), Reply::bulk(v)])
                        .collect(),
                ))
            }
        };
        self.put_collection(key, Value::Hash(h));
        Ok(reply)
    }

    fn set_cmd(&mut self, cmd: &str, a: &[Bytes]) -> Result<Reply, Reply> {
        let key = &a[1];
        let mut s = match self.keys.get(key).map(|k| &k.value) {
            Some(Value::Set(s)) => s.clone(),
            Some(_) => return Err(Reply::err(WRONGTYPE)),
            None => BTreeSet::new(),
        };
        let reply = match cmd {
            "sadd" => Reply::Int(a[2..].iter().filter(|m| s.insert((*m).clone())).count() as i64),
            "srem" => Reply::Int(a[2..].iter().filter(|m| s.remove(*m)).count() as i64),
            "scard" => return Ok(Reply::Int(s.len() as i64)),
            "sismember" => return Ok(Reply::Int(i64::from(s.contains(&a[2])))),
            _ => return Ok(Reply::Array(s.iter().map(|m| Reply::bulk(m)).collect())),
        };
        self.put_collection(key, Value::Set(s));
        Ok(reply)
    }

    fn zset(&mut self, cmd: &str, a: &[Bytes]) -> Result<Reply, Reply> {
        let key = &a[1];
        let mut scores = Vec::new();
        if cmd == "zadd" {
            if (a.len() - 2) % 2 == 1 {
                return Err(Reply::err(SYNTAX));
            }
            for pair in a[2..].chunks(2) {
                scores.push((
                    parse_f64(&pair[0]).ok_or_else(|| Reply::err(NOT_FLOAT))?,
                    pair[1].clone(),
                ));
            }
        }
        let incr = if cmd == "zincrby" {
            parse_f64(&a[2]).ok_or_else(|| Reply::err(NOT_FLOAT))?
        } else {
            0.0
        };
        let range = if cmd == "zrange" {
            Some(zrange_args(a)?)
        } else {
            None
        };
        let mut z = match self.keys.get(key).map(|k| &k.value) {
            Some(Value::ZSet(z)) => z.clone(),
            Some(_) => return Err(Reply::err(WRONGTYPE)),
            None => BTreeMap::new(),
        };
        let reply = match cmd {
            "zadd" => Reply::Int(
                scores
                    .into_iter()
                    .filter(|(s, m)| z.insert(m.clone(), *s).is_none())
                    .count() as i64,
            ),
            "zincrby" => {
                let new = z.get(&a[3]).copied().unwrap_or(0.0) + incr;
                z.insert(a[3].clone(), new);
                Reply::Bulk(Some(format_score(new)))
            }
            "zrem" => Reply::Int(a[2..].iter().filter(|m| z.remove(*m).is_some()).count() as i64),
            "zscore" => return Ok(Reply::Bulk(z.get(&a[2]).map(|s| format_score(*s)))),
            "zcard" => return Ok(Reply::Int(z.len() as i64)),
            "zrank" => {
                return Ok(match sorted(&z).iter().position(|(m, _)| *m == a[2]) {
                    Some(i) => Reply::Int(i as i64),
                    None => Reply::Bulk(None),
                })
            }
            _ => {
                let (start, stop, withscores) = range.expect("parsed above");
                let all = sorted(&z);
                let mut out = Vec::new();
                for i in rank_range(all.len(), start, stop) {
                    out.push(Reply::bulk(&all[i].0));
                    if withscores {
                        out.push(Reply::Bulk(Some(format_score(all[i].1))));
                    }
                }
                return Ok(Reply::Array(out));
            }
        };
        self.put_collection(key, Value::ZSet(z));
        Ok(reply)
    }
}

fn zrange_args(a: &[Bytes]) -> Result<(i64, i64, bool), Reply> {
    let mut withscores = false;
    for opt in &a[4..] {
        if opt.eq_ignore_ascii_case(b"withscores") {
            withscores = true;
        } else {
            return Err(Reply::err(SYNTAX));
        }
    }
    Ok((int_or(&a[2])?, int_or(&a[3])?, withscores))
}

fn sorted(z: &BTreeMap<Bytes, f64>) -> Vec<(Bytes, f64)> {
    let mut all: Vec<(Bytes, f64)> = z.iter().map(|(m, s)| (m.clone(), *s)).collect();
    all.sort_by(|x, y| x.1.total_cmp(&y.1).then_with(|| x.0.cmp(&y.0)));
    all
}

/// The indexes LRANGE/ZRANGE select, with Redis's negative-index rules.
fn rank_range(len: usize, start: i64, stop: i64) -> std::ops::Range<usize> {
    let len = len as i64;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let stop = if stop < 0 {
        len + stop
    } else {
        stop.min(len - 1)
    };
    if start > stop || start >= len {
        return 0..0;
    }
    start as usize..(stop + 1) as usize
}

/// The keys a command reads or writes (for lazy expiry).
fn key_args<'a>(cmd: &str, a: &'a [Bytes]) -> Vec<&'a [u8]> {
    match cmd {
        "mget" | "del" | "exists" => a[1..].iter().map(|k| k.as_slice()).collect(),
        "mset" => a[1..].iter().step_by(2).map(|k| k.as_slice()).collect(),
        _ => vec![a[1].as_slice()],
    }
}

fn arity_error(cmd: &str) -> Reply {
    Reply::Error(format!("ERR wrong number of arguments for '{cmd}' command"))
}

fn unknown_command(args: &[Bytes]) -> Reply {
    let mut msg = format!(
        "ERR unknown command '{}', with args beginning with: ",
        String::from_utf8_lossy(&args[0])
    );
    for arg in &args[1..] {
        msg.push_str(&format!("'{}' ", String::from_utf8_lossy(arg)));
    }
    Reply::Error(msg)
}

/// Whether a key with `deadline` is gone at `now`: Redis 7.0 keeps a key through its
/// deadline millisecond (`now > when` in keyIsExpired and the active cycle).
pub fn expired(deadline: u64, now: u64) -> bool {
    now > deadline
}
