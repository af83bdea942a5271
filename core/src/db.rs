//! The keyspace: numbered databases, each a [`Dict`] of entries, with lazy expiry on
//! access and Redis's adaptive active-expiry cycle, plus per-key LRU/LFU metadata.
//!
//! An entry carries its own deadline (`expire_at`) so that every access checks expiry
//! without a second lookup; the `volatile` set indexes the keys that have one so that
//! active expiry samples only those, as Redis samples its expires dict. The two are
//! only changed together, through [`Db`]'s methods.
//!
//! While a snapshot covers a database, every method that changes a key first lets
//! the snapshot's [`DbCow`] settle that key's start state (copy-on-write per key), so
//! no caller can forget it; reads never copy.

use bytes::Bytes;

use crate::dict::{Dict, DictEntry};
use crate::hash::HashKey;
use crate::persist::snapshot::DbCow;
use crate::util::smallbytes::SmallBytes;
use crate::value::{Value, ValueType};

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

    /// Whether the key's deadline has passed at `now`. A key lives through its
    /// deadline millisecond and is gone only once the clock is past it, as Redis's
    /// keyIsExpired and active expiry decide (`now > when`).
    pub fn is_expired_at(&self, now: Millis) -> bool {
        is_past_deadline(self.expire_at, now)
    }
}

/// Whether a key with `deadline` (0: none) is expired at `now` (see
/// [`Entry::is_expired_at`]). Commands that set a deadline already reached
/// (EXPIRE with a past time, SET PXAT, RESTORE) delete at `deadline <= now` instead,
/// as Redis's checkAlreadyExpired does; that is their own rule, not this one.
pub fn is_past_deadline(deadline: Millis, now: Millis) -> bool {
    deadline != 0 && now > deadline
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
    /// The snapshot's state while one covers this database (see `persist::snapshot`).
    cow: Option<Box<DbCow>>,
    /// Keys deleted by expiry (lazily or by the active cycle) that the node has not
    /// yet propagated and shown to WATCH; it takes them after every command and cycle.
    pub expired_log: Vec<Bytes>,
    /// A deliberate fault for the simulator's mutation check (none in real builds).
    pub planted: crate::planted::Planted,
    /// Keys created by commands (`insert_new`) while `new` keyspace events are on,
    /// for `notify` to announce; off, nothing is logged.
    pub created_log: Option<Vec<Bytes>>,
    /// Keys that held a stream and were deleted or overwritten, for the node to
    /// signal to blocked XREADGROUP readers (Redis signals them in dbGenericDelete
    /// and dbOverwrite); taken after every command and cron run.
    pub gone_streams: Vec<Bytes>,
}

/// Whether lazy or active expiry deletes `e` at `now` (Redis's keyIsExpired).
fn is_due(planted: crate::planted::Planted, e: &Entry, now: Millis) -> bool {
    if planted.is(crate::planted::Bug::ExpiryAtDeadline) {
        return e.expire_at != 0 && now >= e.expire_at;
    }
    e.is_expired_at(now)
}

impl Db {
    pub fn new(hasher: HashKey) -> Self {
        Db {
            keys: Dict::new(hasher),
            volatile: Dict::new(hasher),
            expire_cursor: 0,
            avg_ttl: 0,
            cow: None,
            expired_log: Vec::new(),
            planted: Default::default(),
            created_log: None,
            gone_streams: Vec::new(),
        }
    }

    /// Makes room for `n` keys at once (loading a dump).
    pub fn reserve(&mut self, n: usize) {
        self.keys.reserve(self.keys.len() + n);
    }

    /// Puts the database under a snapshot: its table stops resizing.
    pub fn begin_snapshot(&mut self, cow: Box<DbCow>) {
        self.keys.set_resize_frozen(true);
        self.cow = Some(cow);
    }

    /// Ends the snapshot's hold on this database (walked, or the snapshot stopped).
    pub fn end_snapshot(&mut self) -> Option<Box<DbCow>> {
        self.keys.set_resize_frozen(false);
        self.cow.take()
    }

    /// The database index the covering snapshot knows this database by.
    pub fn snapshot_index(&self) -> Option<u64> {
        self.cow.as_ref().map(|c| c.index())
    }

    pub fn cow(&self) -> Option<&DbCow> {
        self.cow.as_deref()
    }

    pub fn cow_mut(&mut self) -> Option<&mut DbCow> {
        self.cow.as_deref_mut()
    }

    /// One snapshot walker step over this database.
    pub fn walk_snapshot(
        &mut self,
        out: &mut crate::rdb::RdbWriter,
        keys_max: usize,
        bytes_max: usize,
    ) -> (usize, bool) {
        match self.cow.as_deref_mut() {
            Some(cow) => cow.walk_step(&self.keys, out, keys_max, bytes_max),
            None => (0, true),
        }
    }

    /// The copy-on-write hook: call before `key` is modified, replaced, removed or
    /// created.
    #[inline]
    fn before_write(&mut self, key: &[u8]) {
        if let Some(cow) = self.cow.as_deref_mut() {
            cow.before_write(&self.keys, key);
        }
    }

    /// Before an insert: if the frozen table must grow anyway, the snapshot walks
    /// the rest of it first, then the table may resize.
    fn before_insert(&mut self, key: &[u8]) {
        let Some(cow) = self.cow.as_deref_mut() else {
            return;
        };
        cow.before_write(&self.keys, key);
        if cow.tracks_live_table() && self.keys.grow_would_force() {
            cow.finish_now(&self.keys);
            self.keys.set_resize_frozen(false);
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

    /// Looks a key up for writing, deleting it first if its deadline has passed
    /// (lazy expiry; `stats` counts it). Under a snapshot the key's start state is
    /// settled first, since the caller may change the entry.
    pub fn lookup(
        &mut self,
        key: &[u8],
        now: Millis,
        touch: Touch,
        policy: AccessPolicy,
        stats: &mut KeyspaceStats,
        rand: u32,
    ) -> Option<&mut Entry> {
        if !self.expire_if_due(key, now, stats) {
            return None;
        }
        self.before_write(key);
        let entry = self.keys.get_mut(key)?;
        if touch == Touch::Yes {
            entry.access = updated_access(entry.access, now, policy, rand);
        }
        Some(entry)
    }

    /// Looks a key up for reading: as [`Db::lookup`], but the entry can only be
    /// read, so a snapshot copies nothing (except on lazy expiry, a removal). The
    /// access data is refreshed in place.
    pub fn lookup_read(
        &mut self,
        key: &[u8],
        now: Millis,
        touch: Touch,
        policy: AccessPolicy,
        stats: &mut KeyspaceStats,
        rand: u32,
    ) -> Option<&Entry> {
        if !self.expire_if_due(key, now, stats) {
            return None;
        }
        let entry = self.keys.get_mut(key)?;
        if touch == Touch::Yes {
            entry.access = updated_access(entry.access, now, policy, rand);
        }
        Some(entry)
    }

    /// Lazy expiry: false if the key is absent or was due (and is now deleted).
    fn expire_if_due(&mut self, key: &[u8], now: Millis, stats: &mut KeyspaceStats) -> bool {
        let expired = match self.keys.get(key) {
            None => return false,
            Some(e) => is_due(self.planted, e, now),
        };
        if expired {
            self.remove(key);
            self.expired_log.push(Bytes::copy_from_slice(key));
            stats.expired_keys += 1;
            return false;
        }
        true
    }

    /// Takes a value out for a read that must hold the whole server at once; see
    /// `Ctx::lend_for_read`. No snapshot copy: it goes back unchanged before any
    /// snapshot step can run.
    pub fn lend_value(&mut self, key: &[u8]) -> Option<Value> {
        let entry = self.keys.get_mut(key)?;
        Some(std::mem::replace(&mut entry.value, Value::Int(0)))
    }

    /// Puts back a value taken with [`Db::lend_value`].
    pub fn restore_value(&mut self, key: &[u8], value: Value) {
        if let Some(entry) = self.keys.get_mut(key) {
            entry.value = value;
        }
    }

    /// Whether a key exists and is not past its deadline, without deleting anything.
    pub fn is_live(&self, key: &[u8], now: Millis) -> bool {
        self.keys
            .get(key)
            .is_some_and(|e| !is_due(self.planted, e, now))
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
        if let Some(log) = &mut self.created_log {
            log.push(Bytes::copy_from_slice(key));
        }
        self.insert_with_access(key, value, expire_at, initial_access(now, policy));
    }

    /// Adds a key the caller knows is absent with the given access data (loading).
    pub fn insert_with_access(
        &mut self,
        key: &[u8],
        value: Value,
        expire_at: Option<Millis>,
        access: u32,
    ) {
        self.before_insert(key);
        let at = expire_at.unwrap_or(0);
        if at != 0 {
            self.add_volatile(key);
        }
        self.keys.insert_new(Box::new(Entry {
            next: None,
            key: SmallBytes::new(key),
            value,
            expire_at: at,
            access,
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
        self.before_write(key);
        match self.keys.get_mut(key) {
            Some(entry) => {
                if entry.value.value_type() == ValueType::Stream {
                    self.gone_streams.push(Bytes::copy_from_slice(key));
                }
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
        self.before_write(key);
        let entry = self.keys.remove(key)?;
        if entry.expire_at != 0 {
            self.volatile.remove(key);
        }
        if entry.value.value_type() == ValueType::Stream {
            self.gone_streams.push(Bytes::copy_from_slice(key));
        }
        Some(entry)
    }

    /// Sets or clears a key's deadline. Returns false if the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at: Option<Millis>) -> bool {
        self.before_write(key);
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

    /// Removes every key. Under a snapshot the old table goes to it, to be walked.
    pub fn clear(&mut self) {
        if let Some(cow) = self.cow.as_deref_mut() {
            let hasher = self.keys.hasher();
            let old = std::mem::replace(&mut self.keys, Dict::new(hasher));
            cow.detach(old);
        }
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

    /// Up to `count` keys taken from consecutive buckets of the main table (or of
    /// the volatile index), starting at bucket `start` (modulo the table size), as
    /// Redis's dictGetSomeKeys samples: at most `count * 10` buckets are looked
    /// at, and never one twice, so a table holding `count` keys or fewer is
    /// returned whole once its buckets fit in that budget.
    pub fn sample_keys(
        &self,
        volatile: bool,
        start: usize,
        count: usize,
        mut visit: impl FnMut(&Entry),
    ) {
        let buckets = if volatile {
            self.volatile.bucket_count()
        } else {
            self.keys.bucket_count()
        };
        if buckets == 0 || count == 0 {
            return;
        }
        let steps = count.saturating_mul(10).min(buckets);
        let mut seen = 0;
        for step in 0..steps {
            let idx = (start.wrapping_add(step)) % buckets;
            if volatile {
                let keys = &self.keys;
                self.volatile.visit_bucket(idx, |v| {
                    if seen < count {
                        if let Some(e) = keys.get(&v.key) {
                            seen += 1;
                            visit(e);
                        }
                    }
                });
            } else {
                self.keys.visit_bucket(idx, |e| {
                    if seen < count {
                        seen += 1;
                        visit(e);
                    }
                });
            }
            if seen >= count {
                break;
            }
        }
    }

    /// Shrinks tables that became mostly empty (databasesCron's resize step).
    pub fn shrink_tables(&mut self) {
        // A frozen table refuses by itself while a snapshot walks it.
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
        let planted = self.planted;
        while step.examined < budget {
            self.expire_cursor = self.volatile.scan(self.expire_cursor, |v| {
                step.examined += 1;
                if let Some(e) = keys.get(&v.key) {
                    if is_due(planted, e, now) {
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

/// A loaded key's access data from the dump's LFU counter or LRU idle seconds
/// (Redis's objectSetLRUOrLFU); a fresh key's when the dump has neither.
pub fn loaded_access(
    now: Millis,
    policy: AccessPolicy,
    idle_secs: Option<u64>,
    freq: Option<u8>,
) -> u32 {
    match (policy, freq, idle_secs) {
        (AccessPolicy::Lfu { .. }, Some(freq), _) => (lfu_minutes(now) << 8) | u32::from(freq),
        (AccessPolicy::Lru, _, Some(idle)) => {
            let clock = i64::from(lru_clock(now));
            let max = 0xff_ffff_i64;
            let idle = i64::try_from(idle).unwrap_or(max);
            let abs = clock - idle;
            let abs = if abs < 0 {
                (clock + max / 2) % max
            } else {
                abs
            };
            abs as u32
        }
        _ => initial_access(now, policy),
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
        // Redis keeps the key through its deadline millisecond (`now > when`).
        assert!(db
            .lookup(b"k", 1_000, Touch::Yes, AccessPolicy::Lru, &mut stats, 0)
            .is_some());
        assert!(db.is_live(b"k", 1_000));
        assert!(db
            .lookup(b"k", 1_001, Touch::Yes, AccessPolicy::Lru, &mut stats, 0)
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
        assert_eq!(total, 20); // deadlines 100..=290; 300 lives through its millisecond
        assert_eq!(db.len(), 30);
        assert_eq!(db.volatile_len(), 30);
    }
}
