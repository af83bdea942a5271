//! Blocking commands (BLPOP, BLMOVE, BLMPOP, later BZPOPMIN, BZMPOP, XREAD BLOCK):
//! clients parked on keys with a deadline, woken in FIFO order.
//!
//! A handler that finds nothing to serve calls [`crate::node::Ctx::block`]: the
//! client writes no reply, is registered here under each of its keys (once per key)
//! and under its deadline, and the node stops running its pipelined input. A write
//! that could serve a waiter calls [`crate::node::Ctx::signal_key_ready`]; after every
//! command the node takes the ready keys in the order they were signalled and, for
//! each, re-runs the command of each client waiting on that key (oldest first) as
//! long as the key holds a value of the type the client waits for, which is how
//! Redis's handleClientsBlockedOnKeys serves them. A re-run that would block again
//! leaves the client where it was in the queues. During a re-run the ready key is
//! known ([`Blocking::serving_key`]): a woken stream reader is served from that key
//! alone, as Redis serves it. Served and timed-out clients get
//! their reply at once and then resume their pending input.
//!
//! A key that stops holding a stream (deleted, expired, overwritten, renamed or
//! moved away, flushed, swapped out) is signalled too, as Redis 7.0's
//! dbGenericDelete/dbOverwrite/scanDatabaseForDeletedStreams do: the `Db` logs
//! such keys and the node signals them after each command and cron run. A
//! signalled key that does not hold the type a waiter wants ends the wait of the
//! waiters that carry a `gone_error` (XREADGROUP: `-UNBLOCKED the stream key no
//! longer exists`); list, sorted set and XREAD waiters keep waiting, as in Redis.
//!
//! Everything here is keyed by connection; the per-client flag `Client::blocked`
//! lets the node's hot path skip a lookup.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bytes::Bytes;

use crate::command::CommandSpec;
use crate::db::Millis;
use crate::error::{CmdError, TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT};
use crate::io::ConnId;
use crate::resp::ReplyBuf;
use crate::util::longdouble::LongDouble;
use crate::util::num::{parse_f64, parse_i64};
use crate::value::ValueType;

/// XREAD BLOCK / WAIT style timeouts in milliseconds.
pub const TIMEOUT_NOT_INTEGER: &str = "ERR timeout is not an integer or out of range";

/// What a blocked client waits for.
#[derive(Debug, Clone)]
pub struct BlockOn<'a> {
    /// The keys that can serve it, in the command's order (duplicates are ignored).
    pub keys: &'a [Bytes],
    /// Absolute deadline in Unix ms; `None` waits forever.
    pub deadline: Option<Millis>,
    /// The type a key must hold for the client to be served from it.
    pub wait_type: ValueType,
    /// The reply sent when the deadline passes.
    pub on_timeout: fn(&mut ReplyBuf),
    /// The error that ends the wait when a key it waits on is signalled and no
    /// longer holds `wait_type` (XREADGROUP's `-UNBLOCKED`: its group went with the
    /// stream); `None` keeps waiting, as list and sorted set waiters do.
    pub gone_error: Option<&'static str>,
}

/// A parked client: enough to re-run its command and to time it out.
#[derive(Debug, Clone)]
pub struct Blocked {
    pub db: usize,
    pub keys: Vec<Bytes>,
    pub deadline: Option<Millis>,
    pub wait_type: ValueType,
    /// The command to re-run (a handler may record a rewritten argv).
    pub argv: Vec<Bytes>,
    pub cmd: &'static CommandSpec,
    pub on_timeout: fn(&mut ReplyBuf),
    pub gone_error: Option<&'static str>,
}

/// The registry of blocked clients, their keys and their deadlines.
#[derive(Debug, Default)]
pub struct Blocking {
    clients: BTreeMap<ConnId, Blocked>,
    /// db -> key -> clients waiting on it, oldest first.
    waiting: BTreeMap<usize, BTreeMap<Bytes, VecDeque<ConnId>>>,
    deadlines: BTreeSet<(Millis, ConnId)>,
    /// Keys signalled since the node last served, in signal order, each once.
    ready: VecDeque<(usize, Bytes)>,
    /// The client whose command is being re-run, and whether it asked to block again.
    serving: Option<ConnId>,
    reblocked: bool,
    /// The ready key being served (streams serve a woken reader from it alone).
    serving_key: Option<Bytes>,
    /// Clients unblocked by another client's command (CLIENT UNBLOCK) whose reply
    /// the node sends once that command is done.
    woken: Vec<ConnId>,
    /// Blocked clients with a `gone_error` (XREADGROUP readers).
    gone_waiters: usize,
}

impl Blocking {
    /// Number of blocked clients (INFO `blocked_clients`).
    pub fn blocked_count(&self) -> usize {
        self.clients.len()
    }

    /// Blocked clients with a deadline (INFO `clients_in_timeout_table`).
    pub fn deadline_count(&self) -> usize {
        self.deadlines.len()
    }

    pub fn is_blocked(&self, conn: ConnId) -> bool {
        self.clients.contains_key(&conn)
    }

    pub fn get(&self, conn: ConnId) -> Option<&Blocked> {
        self.clients.get(&conn)
    }

    /// Parks `conn`. If that client's command is being re-run, it keeps its place
    /// instead and this returns false.
    pub fn block(&mut self, conn: ConnId, blocked: Blocked) -> bool {
        if self.serving == Some(conn) {
            self.reblocked = true;
            return false;
        }
        self.remove(conn);
        let per_db = self.waiting.entry(blocked.db).or_default();
        for key in &blocked.keys {
            per_db.entry(key.clone()).or_default().push_back(conn);
        }
        if let Some(at) = blocked.deadline {
            self.deadlines.insert((at, conn));
        }
        if blocked.gone_error.is_some() {
            self.gone_waiters += 1;
        }
        self.clients.insert(conn, blocked);
        true
    }

    /// Unparks `conn` (served, timed out, disconnected), returning what it waited for.
    pub fn remove(&mut self, conn: ConnId) -> Option<Blocked> {
        let blocked = self.clients.remove(&conn)?;
        if let Some(per_db) = self.waiting.get_mut(&blocked.db) {
            for key in &blocked.keys {
                if let Some(queue) = per_db.get_mut(key.as_ref()) {
                    queue.retain(|&c| c != conn);
                    if queue.is_empty() {
                        per_db.remove(key.as_ref());
                    }
                }
            }
            if per_db.is_empty() {
                self.waiting.remove(&blocked.db);
            }
        }
        if let Some(at) = blocked.deadline {
            self.deadlines.remove(&(at, conn));
        }
        if blocked.gone_error.is_some() {
            self.gone_waiters -= 1;
        }
        Some(blocked)
    }

    /// Notes that `key` in `db` may now serve waiters (Redis's signalKeyAsReady).
    /// Cheap when nobody waits, so writers may call it on every push.
    #[inline]
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if self.waiting.is_empty() {
            return;
        }
        let waited = self
            .waiting
            .get(&db)
            .is_some_and(|per_db| per_db.contains_key(key));
        if waited && !self.ready.iter().any(|(d, k)| *d == db && k == key) {
            self.ready.push_back((db, Bytes::copy_from_slice(key)));
        }
    }

    /// Whether some blocked client ends its wait when its key goes (XREADGROUP).
    pub fn has_gone_waiters(&self) -> bool {
        self.gone_waiters > 0
    }

    /// The keys clients wait on in `db` (SWAPDB and FLUSHDB rescan them).
    pub fn waited_keys(&self, db: usize) -> Vec<Bytes> {
        self.waiting
            .get(&db)
            .map(|per_db| per_db.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    pub fn pop_ready(&mut self) -> Option<(usize, Bytes)> {
        self.ready.pop_front()
    }

    /// The clients waiting on `key`, oldest first (a snapshot: serving changes it).
    pub fn waiters(&self, db: usize, key: &[u8]) -> Vec<ConnId> {
        self.waiting
            .get(&db)
            .and_then(|per_db| per_db.get(key))
            .map(|queue| queue.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Notes a client unblocked by someone else's command, for the node to flush.
    pub fn push_woken(&mut self, conn: ConnId) {
        self.woken.push(conn);
    }

    pub fn take_woken(&mut self) -> Vec<ConnId> {
        std::mem::take(&mut self.woken)
    }

    /// Marks `conn`'s command as being re-run: see [`Blocking::block`].
    pub fn start_serving(&mut self, conn: ConnId) {
        self.serving = Some(conn);
        self.reblocked = false;
    }

    /// Whether `conn`'s blocked command is being re-run (XREADGROUP then reports a
    /// destroyed group as Redis's blocked readers see it).
    pub fn is_serving(&self, conn: ConnId) -> bool {
        self.serving == Some(conn)
    }

    /// Notes which ready key the re-runs that follow serve from.
    pub fn set_serving_key(&mut self, key: Option<Bytes>) {
        self.serving_key = key;
    }

    /// The ready key `conn`'s re-run serves from, if it is being re-run.
    pub fn serving_key(&self, conn: ConnId) -> Option<&Bytes> {
        self.serving_key
            .as_ref()
            .filter(|_| self.serving == Some(conn))
    }

    /// Ends a re-run; true if the command asked to block again.
    pub fn finish_serving(&mut self) -> bool {
        self.serving = None;
        std::mem::take(&mut self.reblocked)
    }

    /// The earliest deadline of any blocked client.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.deadlines.first().map(|&(at, _)| at)
    }

    /// Clients whose deadline is at or before `now`, earliest first.
    pub fn expired(&self, now: Millis) -> Vec<ConnId> {
        self.deadlines
            .iter()
            .take_while(|&&(at, _)| at <= now)
            .map(|&(_, conn)| conn)
            .collect()
    }
}

/// A blocking command's timeout in seconds (fractional), as Redis's
/// getTimeoutFromObjectOrReply reads it: a long double times 1000 truncated to
/// integer milliseconds; 0 means forever. Returns the absolute deadline.
pub fn parse_timeout_secs(arg: &[u8], now: Millis) -> Result<Option<Millis>, CmdError> {
    let Some(ld) = LongDouble::parse(arg) else {
        return Err(TIMEOUT_NOT_FLOAT.into());
    };
    let ms = match parse_f64(arg) {
        Some(secs) => secs_to_ms(secs),
        // Valid as a long double but beyond a double: huge values overflow the
        // conversion to an integer (which yields i64::MIN, "negative"), tiny ones
        // truncate to 0.
        None if ld.to_human_string() == "0" => 0,
        None => i64::MIN,
    };
    deadline_from_ms(ms, now)
}

/// A timeout in integer milliseconds (XREAD BLOCK, WAIT).
pub fn parse_timeout_ms(arg: &[u8], now: Millis) -> Result<Option<Millis>, CmdError> {
    let ms = parse_i64(arg).ok_or(CmdError::Static(TIMEOUT_NOT_INTEGER))?;
    deadline_from_ms(ms, now)
}

/// `(long long)(secs * 1000)`: out-of-range and infinite values become i64::MIN as
/// the x86 conversion makes them.
fn secs_to_ms(secs: f64) -> i64 {
    /// 2^63 as a double: the first value an i64 cannot hold.
    const I64_LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let ms = (secs * 1000.0).trunc();
    if (-I64_LIMIT..I64_LIMIT).contains(&ms) {
        ms as i64
    } else {
        i64::MIN
    }
}

fn deadline_from_ms(ms: i64, now: Millis) -> Result<Option<Millis>, CmdError> {
    match ms {
        ..=-1 => Err(TIMEOUT_NEGATIVE.into()),
        0 => Ok(None),
        // Redis adds the clock with wrapping arithmetic; a deadline that far out
        // never comes either way.
        ms => Ok(Some(now.saturating_add(ms as u64))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_700_000_000_000;

    #[test]
    fn fractional_seconds_become_a_deadline_in_milliseconds() {
        assert_eq!(parse_timeout_secs(b"0.1", NOW), Ok(Some(NOW + 100)));
        assert_eq!(parse_timeout_secs(b"2", NOW), Ok(Some(NOW + 2000)));
        assert_eq!(parse_timeout_secs(b"0x10", NOW), Ok(Some(NOW + 16000)));
    }

    #[test]
    fn zero_and_sub_millisecond_timeouts_wait_forever() {
        for arg in ["0", "-0", "0.0001", "-0.0001", "1e-400"] {
            assert_eq!(parse_timeout_secs(arg.as_bytes(), NOW), Ok(None), "{arg}");
        }
    }

    #[test]
    fn bad_and_negative_timeouts_are_refused_as_redis_does() {
        for arg in ["abc", "", " 1", "1 ", "nan"] {
            assert_eq!(
                parse_timeout_secs(arg.as_bytes(), NOW),
                Err(CmdError::Static(TIMEOUT_NOT_FLOAT)),
                "{arg}"
            );
        }
        for arg in ["-1", "inf", "-inf", "1e300", "1e400", "100000000000000000"] {
            assert_eq!(
                parse_timeout_secs(arg.as_bytes(), NOW),
                Err(CmdError::Static(TIMEOUT_NEGATIVE)),
                "{arg}"
            );
        }
    }

    fn blocked(keys: &[&str], deadline: Option<Millis>) -> Blocked {
        Blocked {
            db: 0,
            keys: keys
                .iter()
                .map(|k| Bytes::copy_from_slice(k.as_bytes()))
                .collect(),
            deadline,
            wait_type: ValueType::List,
            argv: Vec::new(),
            cmd: &crate::command::CommandSpec::DEFAULT,
            on_timeout: ReplyBuf::null_array,
            gone_error: None,
        }
    }

    #[test]
    fn waiters_queue_in_arrival_order_and_leave_every_queue_when_removed() {
        let mut b = Blocking::default();
        b.block(1, blocked(&["k", "j"], None));
        b.block(2, blocked(&["k"], Some(NOW)));
        assert_eq!(b.waiters(0, b"k"), [1, 2]);
        assert_eq!(b.next_deadline(), Some(NOW));
        b.remove(1);
        assert_eq!(b.waiters(0, b"k"), [2]);
        assert!(b.waiters(0, b"j").is_empty());
        b.remove(2);
        assert_eq!(b.next_deadline(), None);
        assert_eq!(b.blocked_count(), 0);
    }

    #[test]
    fn a_key_is_ready_once_and_only_when_someone_waits_on_it() {
        let mut b = Blocking::default();
        b.signal(0, b"k");
        assert!(!b.has_ready());
        b.block(1, blocked(&["k"], None));
        b.signal(1, b"k");
        b.signal(0, b"k");
        b.signal(0, b"k");
        assert_eq!(b.pop_ready(), Some((0, Bytes::from_static(b"k"))));
        assert!(!b.has_ready());
    }

    #[test]
    fn blocking_again_while_being_served_keeps_the_place() {
        let mut b = Blocking::default();
        b.block(1, blocked(&["k"], None));
        b.block(2, blocked(&["k"], None));
        b.start_serving(1);
        assert!(!b.block(1, blocked(&["k"], None)));
        assert!(b.finish_serving());
        assert_eq!(b.waiters(0, b"k"), [1, 2]);
    }

    #[test]
    fn expired_lists_deadlines_up_to_now() {
        let mut b = Blocking::default();
        b.block(1, blocked(&["a"], Some(NOW + 10)));
        b.block(2, blocked(&["b"], Some(NOW + 5)));
        b.block(3, blocked(&["c"], None));
        assert_eq!(b.expired(NOW + 4), Vec::<ConnId>::new());
        assert_eq!(b.expired(NOW + 10), [2, 1]);
    }
}
