//! Expiry: a key never comes back after it was observed gone (expired or deleted)
//! unless something wrote it since, a key is never seen alive once the node's own
//! clock is past its deadline, a key known present never vanishes before its deadline
//! with no write since, and TTL/PTTL replies follow the node's clock exactly.
//!
//! It works in each node's execution order, so it needs no guesses about concurrency:
//! what it knows of a key comes from replies (GET nil, EXISTS 0, TYPE none, TTL -2 say
//! absent; values, WRONGTYPE, TTL >= -1 say present) and from writes whose effect on
//! the deadline is certain (SET with or without EX/PX, EXPIRE family, PERSIST, DEL).
//! Any other write makes the key unknown again.

use std::collections::BTreeMap;

use super::{command_name, Checker, Exec, Observation};
use crate::model::parse_i64;
use crate::probes::{Probe, Probes};
use crate::resp::Reply;

const WRONGTYPE_PREFIX: &str = "WRONGTYPE";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    /// Seen gone, and nothing wrote it since.
    Absent,
    /// Present, with this deadline (`None`: no TTL).
    Present(Option<u64>),
    /// Present or absent; if present, this deadline.
    MaybeWithDeadline(Option<u64>),
}

/// Writes that keep a key's TTL and never delete the key (Redis resets a TTL only on
/// SET-like overwrites; pops and removals may empty a collection, which deletes it).
const TTL_KEEPING: &[&str] = &[
    "append",
    "incr",
    "decr",
    "incrby",
    "decrby",
    "incrbyfloat",
    "setrange",
    "lpush",
    "rpush",
    "lpushx",
    "rpushx",
    "lset",
    "linsert",
    "hset",
    "hincrby",
    "hincrbyfloat",
    "hsetnx",
    "sadd",
    "zadd",
    "zincrby",
];

/// Commands that name more than one key: a WRONGTYPE error does not say which.
const MULTI_KEY: &[&str] = &[
    "mget",
    "mset",
    "del",
    "exists",
    "blpop",
    "brpop",
    "blmove",
    "lmove",
    "rpoplpush",
    "bzpopmin",
    "bzpopmax",
    "smove",
    "sinter",
    "sunion",
    "sdiff",
    "rename",
    "copy",
    "sinterstore",
    "sunionstore",
    "zunionstore",
];

/// Commands that run a script: an error reply does not mean nothing was written.
const SCRIPT_CALLS: &[&str] = &["eval", "evalsha", "fcall"];

/// Commands that only read.
const READS: &[&str] = &[
    "get",
    "strlen",
    "mget",
    "exists",
    "type",
    "ttl",
    "pttl",
    "llen",
    "lrange",
    "lindex",
    "hget",
    "hlen",
    "hexists",
    "hgetall",
    "scard",
    "sismember",
    "smembers",
    "zscore",
    "zcard",
    "zrange",
    "zrank",
    "srandmember",
    "hrandfield",
    "randomkey",
    "scan",
    "ping",
    "zrangebyscore",
    "object",
    "dbsize",
    "keys",
    "lpos",
    "getrange",
];

/// A watched key and the deadline it had when WATCHed.
type WatchedKey = (Vec<u8>, u64);

#[derive(Default)]
pub struct ExpiryChecker {
    /// Per node, per key.
    keys: Vec<BTreeMap<Vec<u8>, Known>>,
    /// Per (node, client): keys it WATCHes that were alive with a known deadline.
    watched: BTreeMap<(usize, usize), Vec<WatchedKey>>,
}

impl ExpiryChecker {
    pub fn new(nodes: usize) -> ExpiryChecker {
        ExpiryChecker {
            keys: vec![BTreeMap::new(); nodes],
            watched: BTreeMap::new(),
        }
    }

    /// WATCH and EXEC: a key alive when watched whose deadline has passed by EXEC
    /// makes EXEC abort (Redis 7.0's isWatchedKeyExpired, or the expiry's deletion
    /// touching the key), whatever else happened to it.
    fn on_watch_or_exec(
        &mut self,
        e: &Exec<'_>,
        name: &str,
        probes: &mut Probes,
    ) -> Result<(), String> {
        let client = (e.node, e.client);
        match name {
            "watch" if matches!(e.reply, Reply::Status(s) if s == "OK") => {
                for key in &e.request.args[1..] {
                    if let Some(Known::Present(Some(d))) = self.keys[e.node].get(key) {
                        if !crate::model::expired(*d, e.node_ms) {
                            self.watched
                                .entry(client)
                                .or_default()
                                .push((key.clone(), *d));
                        }
                    }
                }
            }
            "unwatch" | "discard" if !e.reply.is_error() => {
                self.watched.remove(&client);
            }
            "exec" if !e.reply.is_error() => {
                let watched = self.watched.remove(&client).unwrap_or_default();
                let expired = watched
                    .iter()
                    .find(|(_, d)| crate::model::expired(*d, e.node_ms));
                if let Some((key, d)) = expired {
                    probes.hit(Probe::WatchedKeyExpired);
                    if *e.reply != Reply::NullArray {
                        return Err(format!(
                            "node {} client {} EXEC at node clock {} ran ({}) although its watched key {:?} expired at {d}",
                            e.node,
                            e.client,
                            e.node_ms,
                            e.reply,
                            String::from_utf8_lossy(key)
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn on_exec(&mut self, e: &Exec<'_>, probes: &mut Probes) -> Result<(), String> {
        let name = command_name(e.request);
        let args = &e.request.args;
        if matches!(e.reply, Reply::Status(s) if s == "QUEUED") {
            // Runs at EXEC.
            return Ok(());
        }
        self.on_watch_or_exec(e, &name, probes)?;
        if name == "exec" && !e.reply.is_error() {
            // What the transaction did is in the EXEC reply; forget rather than guess.
            self.keys[e.node].clear();
            return Ok(());
        }
        if let Reply::Error(msg) = e.reply {
            if SCRIPT_CALLS.contains(&name.as_str()) {
                // A script may have written before it failed: what it named is unknown.
                for k in &args[1..] {
                    self.keys[e.node].remove(k);
                }
                return Ok(());
            }
            if msg.starts_with(WRONGTYPE_PREFIX)
                && args.len() > 1
                && !MULTI_KEY.contains(&name.as_str())
            {
                probes.hit(Probe::WrongType);
                return self.seen_present(e, &args[1], probes);
            }
            return Ok(());
        }
        if READS.contains(&name.as_str()) {
            return self.on_read(e, &name, probes);
        }
        if args.len() < 2 && name != "flushdb" && name != "flushall" {
            return Ok(());
        }
        if name == "flushdb" || name == "flushall" {
            self.keys[e.node].clear();
            return Ok(());
        }
        let keys = &mut self.keys[e.node];
        let key = args[1].clone();
        match (name.as_str(), e.reply) {
            ("del" | "getdel" | "unlink", _) => {
                for k in &args[1..] {
                    keys.insert(k.clone(), Known::Absent);
                }
            }
            ("set", Reply::Status(_)) => {
                keys.insert(key, Known::Present(set_deadline(args, e.node_ms)));
            }
            ("setnx", Reply::Int(1)) => {
                keys.insert(key, Known::Present(None));
            }
            ("mset", _) => {
                for k in args[1..].iter().step_by(2) {
                    keys.insert(k.clone(), Known::Present(None));
                }
            }
            ("expire" | "pexpire" | "pexpireat", Reply::Int(1)) => {
                let when = expire_when(&name, args, e.node_ms);
                keys.insert(
                    key,
                    match when {
                        Some(w) if w <= e.node_ms as i64 => Known::Absent,
                        Some(w) => Known::Present(Some(w as u64)),
                        None => Known::MaybeWithDeadline(None),
                    },
                );
            }
            ("persist", Reply::Int(1)) => {
                keys.insert(key, Known::Present(None));
            }
            // Without NX/XX/GT/LT (the workload sends none), 0 means no such key.
            ("expire" | "pexpire" | "pexpireat", Reply::Int(0)) => {
                keys.insert(key, Known::Absent);
            }
            ("persist", Reply::Int(0)) => {
                if let Some(Known::Present(_) | Known::MaybeWithDeadline(_)) = keys.get(&key) {
                    keys.insert(key, Known::MaybeWithDeadline(None));
                }
            }
            ("set" | "setnx" | "expire" | "pexpire" | "pexpireat" | "persist", _) => {}
            _ => {
                let keep = TTL_KEEPING.contains(&name.as_str());
                for k in &args[1..] {
                    let next = match (keep, keys.get(k)) {
                        // A write to a key past its deadline finds it expired and
                        // creates a new one without a TTL.
                        (
                            true,
                            Some(Known::Present(Some(d)) | Known::MaybeWithDeadline(Some(d))),
                        ) if crate::model::expired(*d, e.node_ms) => Known::MaybeWithDeadline(None),
                        (true, Some(Known::Present(d) | Known::MaybeWithDeadline(d))) => {
                            Known::MaybeWithDeadline(*d)
                        }
                        (true, Some(Known::Absent)) => Known::MaybeWithDeadline(None),
                        _ => {
                            keys.remove(k);
                            continue;
                        }
                    };
                    keys.insert(k.clone(), next);
                }
            }
        }
        Ok(())
    }

    fn on_read(&mut self, e: &Exec<'_>, name: &str, probes: &mut Probes) -> Result<(), String> {
        let args = &e.request.args;
        if args.len() != 2 {
            return Ok(());
        }
        let key = &args[1];
        let present = match (name, e.reply) {
            ("get", Reply::Bulk(v)) => Some(v.is_some()),
            ("exists", Reply::Int(n)) => Some(*n > 0),
            ("type", Reply::Status(t)) => Some(t != "none"),
            ("ttl" | "pttl", Reply::Int(n)) => Some(*n != -2),
            ("llen" | "scard" | "hlen" | "zcard", Reply::Int(n)) => Some(*n > 0),
            _ => None,
        };
        match present {
            Some(true) => {
                self.seen_present(e, key, probes)?;
                if let ("ttl" | "pttl", Reply::Int(n)) = (name, e.reply) {
                    self.check_ttl(e, key, name == "pttl", *n, probes)?;
                }
            }
            Some(false) => {
                self.seen_absent(e, key)?;
                if let Some(Known::Present(Some(d)) | Known::MaybeWithDeadline(Some(d))) =
                    self.keys[e.node].get(key)
                {
                    if crate::model::expired(*d, e.node_ms) {
                        probes.hit(Probe::KeyExpiredObserved);
                    }
                }
                self.keys[e.node].insert(key.clone(), Known::Absent);
            }
            None => {}
        }
        Ok(())
    }

    /// A key known present must not vanish before its deadline with no write since
    /// (an active cycle or lazy check on the wrong clock would delete it early).
    fn seen_absent(&self, e: &Exec<'_>, key: &[u8]) -> Result<(), String> {
        let Some(Known::Present(deadline)) = self.keys[e.node].get(key).copied() else {
            return Ok(());
        };
        if deadline.is_some_and(|d| crate::model::expired(d, e.node_ms)) {
            return Ok(());
        }
        Err(format!(
            "node {} key {:?} vanished (`{}` -> {}) at node clock {} before its deadline {deadline:?}, with no write since",
            e.node,
            String::from_utf8_lossy(key),
            crate::resp::show_args(&e.request.args),
            e.reply,
            e.node_ms
        ))
    }

    fn seen_present(
        &mut self,
        e: &Exec<'_>,
        key: &[u8],
        _probes: &mut Probes,
    ) -> Result<(), String> {
        let show = String::from_utf8_lossy(key);
        match self.keys[e.node].get(key).copied() {
            Some(Known::Absent) => Err(format!(
                "node {} key {show:?} came back (`{}` at node clock {}) after it was seen gone with no write since",
                e.node,
                crate::resp::show_args(&e.request.args),
                e.node_ms
            )),
            Some(Known::Present(Some(d)) | Known::MaybeWithDeadline(Some(d))) if e.node_ms > d => Err(format!(
                "node {} key {show:?} is alive (`{}` -> {}) at node clock {} past its deadline {d}",
                e.node,
                crate::resp::show_args(&e.request.args),
                e.reply,
                e.node_ms
            )),
            Some(Known::MaybeWithDeadline(d)) => {
                self.keys[e.node].insert(key.to_vec(), Known::Present(d));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn check_ttl(
        &mut self,
        e: &Exec<'_>,
        key: &[u8],
        ms: bool,
        got: i64,
        probes: &mut Probes,
    ) -> Result<(), String> {
        let Some(Known::Present(deadline)) = self.keys[e.node].get(key).copied() else {
            return Ok(());
        };
        let want = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_sub(e.node_ms) as i64;
                if ms {
                    left
                } else {
                    (left + 500) / 1000
                }
            }
        };
        probes.hit(Probe::TtlObserved);
        if want != got {
            return Err(format!(
                "node {} {} {:?} at node clock {} answered {got}, the deadline {deadline:?} says {want}",
                e.node,
                if ms { "PTTL" } else { "TTL" },
                String::from_utf8_lossy(key),
                e.node_ms
            ));
        }
        Ok(())
    }
}

/// The deadline a successful `SET key value [NX|XX] [EX s|PX ms]` gave.
fn set_deadline(args: &[Vec<u8>], now: u64) -> Option<u64> {
    let mut i = 3;
    while i + 1 < args.len() {
        let unit = match args[i].to_ascii_lowercase().as_slice() {
            b"ex" => 1000,
            b"px" => 1,
            _ => {
                i += 1;
                continue;
            }
        };
        return parse_i64(&args[i + 1]).map(|n| now + (n * unit) as u64);
    }
    None
}

fn expire_when(name: &str, args: &[Vec<u8>], now: u64) -> Option<i64> {
    let n = parse_i64(args.get(2)?)?;
    match name {
        "expire" => n.checked_mul(1000)?.checked_add(now as i64),
        "pexpire" => n.checked_add(now as i64),
        _ => Some(n),
    }
}

impl Checker for ExpiryChecker {
    fn name(&self) -> &'static str {
        "expiry"
    }

    fn observe(&mut self, obs: &Observation<'_>, probes: &mut Probes) -> Result<(), String> {
        match obs {
            Observation::Exec(e) => self.on_exec(e, probes),
            // What survives a restart is the durability checker's business.
            Observation::Restarted { node, .. } => {
                self.keys[*node].clear();
                self.watched.retain(|(n, _), _| n != node);
                Ok(())
            }
            // A new connection watches nothing.
            Observation::Disconnected { client, .. } => {
                self.watched.retain(|(_, c), _| c != client);
                Ok(())
            }
            Observation::ClockJumped {
                node,
                from_ms,
                to_ms,
            } => {
                let (lo, hi) = (*from_ms.min(to_ms), *from_ms.max(to_ms));
                let crossed = self.keys[*node].values().any(|k| {
                    matches!(k, Known::Present(Some(d)) | Known::MaybeWithDeadline(Some(d)) if lo <= *d && *d < hi)
                });
                if crossed {
                    probes.hit(Probe::ClockJumpAcrossExpiry);
                }
                if to_ms < from_ms {
                    // A watched key's deadline may now lie ahead again.
                    self.watched.retain(|(n, _), _| n != node);
                    // Keys whose deadline the clock had passed may have been expired
                    // by the active cycle; now that the clock reads earlier again a
                    // write cannot tell an old key from a new one.
                    self.keys[*node].retain(|_, k| {
                        !matches!(k, Known::Present(Some(d)) | Known::MaybeWithDeadline(Some(d)) if *to_ms <= *d && *d < *from_ms)
                    });
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
