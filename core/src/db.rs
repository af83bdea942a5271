//! The keyspace: numbered databases, each a [`Dict`] of entries, with lazy expiry on
//! access and Redis's adaptive active-expiry cycle, plus per-key LRU/LFU metadata.
//!
//! An entry carries its own deadline (`expire_at`) so that every access checks expiry
//! without a second lookup; the `volatile` set indexes the keys that have one so that
//! active expiry samples only those, as Redis samples its expires dict. The two are
//! only changed together, through [`Db`]'s methods.

use bytes::Bytes;

use crate::dict::{Dict, DictEntry};
use crate::hash::HashKey;
use crate::util::smallbytes::SmallBytes;
use crate::value::Value;

/// Unix milliseconds.
pub type Millis = u64;

/// A key and its value.
pub struct Entry {
    next: Option<Box<Entry>>,
    key: SmallBytes,
    pub value: Value,
    /// Absolute deadline in Unix ms; 0 means the key does not expire.
    expire_at: Millis,
    /// Redis's 24-bit `lru` field: LRU clock in seconds, or LFU minutes<<8 | counter.
    pub access: u32,
}

impl Entry {
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The deadline, if the key has one.
    pub fn expire_at(&self) -> Option<Millis> {
        (self.expire_at != 0).then_some(self.expire_at)
    }
}

impl DictEntry for Entry {
    fn key(&self) -> &[u8] {
        &self.key
    }
    fn next(&self) -> Option<&Self> {
        self.next.as_deref()
    }
    fn next_mut(&mut self) -> &mut Option<Box<Self>> {
        &mut self.next
    }
}

/// A member of the volatile index.
pub struct VolatileKey {
    next: Option<Box<VolatileKey>>,
    key: SmallBytes,
}

impl DictEntry for VolatileKey {
    fn key(&self) -> &[u8] {
        &self.key
    }
    fn next(&self) -> Option<&Self> {
        self.next.as_deref()
    }
    fn next_mut(&mut self) -> &mut Option<Box<Self>> {
        &mut self.next
    }
}

/// How an access updates a key's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touch {
    /// A normal read or write: refresh LRU/LFU data.
    Yes,
    /// OBJECT, TTL, TYPE, SCAN-like peeks: leave it alone (Redis's LOOKUP_NOTOUCH).
    No,
}

/// Counters INFO stats reports.
#[derive(Debug, Default, Clone)]
pub struct KeyspaceStats {
    pub expired_keys: u64,
    pub expired_stale_perc: f64,
    pub expired_time_cap_reached_count: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
}

/// The eviction policy decides how `access` is maintained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessPolicy {
    Lru,
    Lfu { log_factor: u32, decay_minutes: u32 },
}

/// Initial LFU counter of a new key (LFU_INIT_VAL), so new keys are not evicted at once.
const LFU_INIT_COUNTER: u32 = 5;

pub struct Db {
    keys: Dict<Entry>,
    volatile: Dict<VolatileKey>,
    /// Where the active expiry cycle resumes scanning `volatile`.
    expire_cursor: u64,
    /// Running average TTL of sampled keys (INFO keyspace avg_ttl).
    pub avg_ttl: u64,
    /// Keys deleted by expiry (lazily or by the active cycle) that the node has not
    /// yet propagated and shown to WATCH; it takes them after every command and cycle.
    pub expired_log: Vec<Bytes>,
}

impl Db {
    pub fn new(hasher: HashKey) -> Self {
        Db {
            keys: Dict::new(hasher),
            volatile: Dict::new(hasher),
            expire_cursor: 0,
            avg_ttl: 0,
            expired_log: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn volatile_len(&self) -> usize {
        self.volatile.len()
    }

    /// Looks a key up without expiring or touching it.
    pub fn peek(&self, key: &[u8]) -> Option<&Entry> {
        self.keys.get(key)
    }

    /// Looks a key up, deleting it first if its deadline has passed (lazy expiry).
    /// Returns `Some(true)`-like information through the entry; `expired` counts deletions.
    pub fn lookup(
        &mut self,
        key: &[u8],
        now: Millis,
        touch: Touch,
        policy: AccessPolicy,
        stats: &mut KeyspaceStats,
        rand: u32,
    ) -> Option<&mut Entry> {
        let expired = match self.keys.get(key) {
            None => return None,
            Some(e) => e.expire_at != 0 && e.expire_at <= now,
        };
        if expired {
            self.remove(key);
            self.expired_log.push(Bytes::copy_from_slice(key));
            stats.expired_keys += 1;
            return None;
        }
        let entry = self.keys.get_mut(key)?;
        if touch == Touch::Yes {
            entry.access = updated_access(entry.access, now, policy, rand);
        }
        Some(entry)
    }

    /// Whether a key exists and is not past its deadline, without deleting anything.
    pub fn is_live(&self, key: &[u8], now: Millis) -> bool {
        self.keys
            .get(key)
            .is_some_and(|e| e.expire_at == 0 || e.expire_at > now)
    }

    /// Adds a key the caller knows is absent (look it up first).
    pub fn insert_new(
        &mut self,
        key: &[u8],
        value: Value,
        expire_at: Option<Millis>,
        now: Millis,
        policy: AccessPolicy,
    ) {
        let at = expire_at.unwrap_or(0);
        if at != 0 {
            self.add_volatile(key);
        }
        self.keys.insert_new(Box::new(Entry {
            next: None,
            key: SmallBytes::new(key),
            value,
            expire_at: at,
            access: initial_access(now, policy),
        }));
    }

    /// Sets a key's value, creating it if needed. `keep_ttl` keeps an existing
    /// deadline (SET KEEPTTL); otherwise any deadline is cleared, as Redis's setKey does.
    pub fn set(
        &mut self,
        key: &[u8],
        value: Value,
        keep_ttl: bool,
        now: Millis,
        policy: AccessPolicy,
    ) {
        match self.keys.get_mut(key) {
            Some(entry) => {
                entry.value = value;
                entry.access = updated_access(entry.access, now, policy, 0);
                if !keep_ttl && entry.expire_at != 0 {
                    entry.expire_at = 0;
                    self.volatile.remove(key);
                }
            }
            None => self.insert_new(key, value, None, now, policy),
        }
    }

    /// Removes a key, returning its entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Box<Entry>> {
        let entry = self.keys.remove(key)?;
        if entry.expire_at != 0 {
            self.volatile.remove(key);
        }
        Some(entry)
    }

    /// Sets or clears a key's deadline. Returns false if the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at: Option<Millis>) -> bool {
        let Some(entry) = self.keys.get_mut(key) else {
            return false;
        };
        let had = entry.expire_at != 0;
        entry.expire_at = at.unwrap_or(0);
        match (had, at.is_some()) {
            (false, true) => self.add_volatile(key),
            (true, false) => {
                self.volatile.remove(key);
            }
            _ => {}
        }
        true
    }

    fn add_volatile(&mut self, key: &[u8]) {
        self.volatile.insert_new(Box::new(VolatileKey {
            next: None,
            key: SmallBytes::new(key),
        }));
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.keys.clear();
        self.volatile.clear();
        self.expire_cursor = 0;
        self.avg_ttl = 0;
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.keys.iter()
    }

    /// One SCAN step over the keys; see [`Dict::scan`].
    pub fn scan(&self, cursor: u64, visit: impl FnMut(&Entry)) -> u64 {
        self.keys.scan(cursor, visit)
    }

    pub fn random_entry(&self, pick: impl FnMut(u64) -> u64) -> Option<&Entry> {
        self.keys.random_entry(pick)
    }

    pub fn random_volatile_key(&self, pick: impl FnMut(u64) -> u64) -> Option<&[u8]> {
        self.volatile.random_entry(pick).map(|v| v.key.as_slice())
    }

    /// Shrinks tables that became mostly empty (databasesCron's resize step).
    pub fn shrink_tables(&mut self) {
        self.keys.shrink_if_sparse();
        self.volatile.shrink_if_sparse();
    }

    /// Examines up to `budget` volatile keys from where the last call stopped, deletes
    /// the expired ones, and returns (examined, expired, ttl_sum_of_live, live_count).
    /// The cursor walk is Redis 7's: resumable, so every volatile key is visited
    /// over successive cycles.
    pub fn expire_step(&mut self, now: Millis, budget: usize) -> ExpireStep {
        let mut step = ExpireStep::default();
        let mut due = Vec::new();
        let keys = &self.keys;
        while step.examined < budget {
            self.expire_cursor = self.volatile.scan(self.expire_cursor, |v| {
                step.examined += 1;
                if let Some(e) = keys.get(&v.key) {
                    if e.expire_at <= now {
                        due.push(v.key.clone());
                    } else {
                        step.ttl_sum += e.expire_at - now;
                        step.live_with_ttl += 1;
                    }
                }
            });
            if self.expire_cursor == 0 {
                break;
            }
        }
        for key in due {
            self.remove(&key);
            self.expired_log.push(Bytes::copy_from_slice(&key));
            step.expired += 1;
        }
        step
    }
}

/// What one active-expiry step did.
#[derive(Debug, Default, Clone, Copy)]
pub struct ExpireStep {
    pub examined: usize,
    pub expired: usize,
    pub ttl_sum: u64,
    pub live_with_ttl: u64,
}

/// Redis's LRU clock: seconds, modulo 2^24.
pub fn lru_clock(now: Millis) -> u32 {
    ((now / 1000) & 0xff_ffff) as u32
}

/// Idle milliseconds of a key whose LRU field is `access` (estimateObjectIdleTime).
pub fn idle_ms(access: u32, now: Millis) -> u64 {
    let clock = lru_clock(now);
    let secs = if clock >= access {
        clock - access
    } else {
        clock + (0xff_ffff - access)
    };
    u64::from(secs) * 1000
}

fn lfu_minutes(now: Millis) -> u32 {
    ((now / 60_000) & 0xffff) as u32
}

fn initial_access(now: Millis, policy: AccessPolicy) -> u32 {
    match policy {
        AccessPolicy::Lru => lru_clock(now),
        AccessPolicy::Lfu { .. } => (lfu_minutes(now) << 8) | LFU_INIT_COUNTER,
    }
}

/// The LFU counter after decay, as Redis's LFUDecrAndReturn.
pub fn lfu_counter(access: u32, now: Millis, decay_minutes: u32) -> u32 {
    let last = access >> 8;
    let counter = access & 0xff;
    let now_min = lfu_minutes(now);
    let elapsed = if now_min >= last {
        now_min - last
    } else {
        65535 - last + now_min
    };
    let periods = elapsed.checked_div(decay_minutes).unwrap_or(0);
    counter.saturating_sub(periods)
}

/// `rand` is a uniform 32-bit draw from the node's generator (LFU's logarithmic increment).
fn updated_access(access: u32, now: Millis, policy: AccessPolicy, rand: u32) -> u32 {
    match policy {
        AccessPolicy::Lru => lru_clock(now),
        AccessPolicy::Lfu {
            log_factor,
            decay_minutes,
        } => {
            let mut counter = lfu_counter(access, now, decay_minutes);
            if counter < 255 {
                let base = counter.saturating_sub(LFU_INIT_COUNTER) as f64;
                let p = 1.0 / (base * f64::from(log_factor) + 1.0);
                if f64::from(rand) / f64::from(u32::MAX) < p {
                    counter += 1;
                }
            }
            (lfu_minutes(now) << 8) | counter
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Db {
        Db::new(HashKey::new(11, 13))
    }

    #[test]
    fn lookup_deletes_a_key_past_its_deadline() {
        let mut db = db();
        let mut stats = KeyspaceStats::default();
        db.insert_new(b"k", Value::Int(1), Some(1_000), 0, AccessPolicy::Lru);
        assert!(db
            .lookup(b"k", 999, Touch::Yes, AccessPolicy::Lru, &mut stats, 0)
            .is_some());
        assert!(db
            .lookup(b"k", 1_000, Touch::Yes, AccessPolicy::Lru, &mut stats, 0)
            .is_none());
        assert_eq!(db.len(), 0);
        assert_eq!(db.volatile_len(), 0);
        assert_eq!(stats.expired_keys, 1);
    }

    #[test]
    fn set_clears_the_deadline_unless_kept() {
        let mut db = db();
        db.insert_new(b"k", Value::Int(1), Some(5_000), 0, AccessPolicy::Lru);
        db.set(b"k", Value::Int(2), true, 0, AccessPolicy::Lru);
        assert_eq!(db.peek(b"k").and_then(Entry::expire_at), Some(5_000));
        db.set(b"k", Value::Int(3), false, 0, AccessPolicy::Lru);
        assert_eq!(db.peek(b"k").and_then(Entry::expire_at), None);
        assert_eq!(db.volatile_len(), 0);
    }

    #[test]
    fn expire_step_removes_only_due_keys() {
        let mut db = db();
        for i in 0..50u64 {
            let key = format!("k{i}");
            db.insert_new(
                key.as_bytes(),
                Value::Int(0),
                Some(100 + i * 10),
                0,
                AccessPolicy::Lru,
            );
        }
        let mut total = 0;
        for _ in 0..10 {
            total += db.expire_step(300, 20).expired;
        }
        assert_eq!(total, 21); // deadlines 100..=300
        assert_eq!(db.len(), 29);
        assert_eq!(db.volatile_len(), 29);
    }
}
