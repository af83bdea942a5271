//! The fork-free snapshot engine: a point-in-time RDB image of the keyspace, produced
//! in bounded steps while the node keeps serving writes.
//!
//! Redis forks and lets the kernel copy pages on write. Ember copies per key instead:
//!
//! * At the start every non-empty database gets a [`DbCow`] (kept inside its
//!   [`Db`]) and its table stops resizing, so every key keeps its bucket.
//! * The walker writes a database's buckets in index order; bucket `i` is *visited*
//!   once `i < cursor`. Databases before the one being walked are done, databases
//!   after it are wholly unvisited.
//! * Before a key in an unvisited bucket is modified, replaced, removed (expiry
//!   included) or created, [`Db`] calls [`DbCow::before_write`]: the key's current
//!   entry is serialised into the database's `copies` buffer (or, for a new key,
//!   nothing is written), and the key is remembered as *handled* so the walker skips
//!   it. Reads never copy.
//! * FLUSHDB/FLUSHALL hand the old table to the snapshot ([`DbCow::detach`]) instead
//!   of freeing it; SWAPDB moves `Db`s, and their `DbCow`s move with them, so each
//!   still describes the database index it had at the start.
//! * If a frozen table would pass [`crate::dict::FROZEN_LOAD_FACTOR_MAX`], that
//!   database is walked to the end at once (into `copies`) and unfrozen.
//!
//! The bytes leave in chunks ([`Snapshot::step`]); whoever owns the snapshot (BGSAVE
//! now, the AOF rewrite base and replication full syncs later) decides where they go.

use std::collections::BTreeMap;

use crate::db::{idle_ms, lfu_counter, Db, Entry, Millis};
use crate::dict::Dict;
use crate::rdb::{crc64_update, opcode, AuxInfo, KeyMeta, RdbWriter};

/// How a key's access data is written, fixed by `maxmemory-policy` at the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessMeta {
    /// Neither (noeviction, random and ttl policies): Redis writes nothing.
    None,
    /// LRU policies: idle seconds.
    Idle,
    /// LFU policies: the decayed counter.
    Freq { decay_minutes: u32 },
}

/// What serialising an entry depends on; fixed when the snapshot starts.
#[derive(Debug, Clone, Copy)]
pub struct EntryFormat {
    /// The snapshot's start time: idle times are measured against it.
    pub now: Millis,
    pub access: AccessMeta,
    /// `rdbcompression`.
    pub compress: bool,
}

impl EntryFormat {
    fn meta(&self, e: &Entry) -> KeyMeta {
        let (idle_secs, freq) = match self.access {
            AccessMeta::None => (None, None),
            AccessMeta::Idle => (Some(idle_ms(e.access, self.now) / 1000), None),
            AccessMeta::Freq { decay_minutes } => {
                let counter = lfu_counter(e.access, self.now, decay_minutes);
                (None, Some(counter.min(255) as u8))
            }
        };
        KeyMeta {
            expire_ms: e.expire_at().map(|at| at.min(i64::MAX as u64) as i64),
            idle_secs,
            freq,
        }
    }

    /// Writes one entry; false if its type cannot be serialised (it is skipped).
    fn write(&self, out: &mut RdbWriter, e: &Entry) -> bool {
        out.key_value(e.key(), &e.value, &self.meta(e)).is_ok()
    }
}

/// The snapshot's state inside one database (see the module doc).
pub struct DbCow {
    /// The database index this state describes (its index at the start).
    index: u64,
    /// RESIZEDB hints: keys and keys with a deadline at the start.
    sizes: (u64, u64),
    /// Buckets below this index have been written.
    cursor: usize,
    /// Keys of unvisited buckets whose start state is already settled (copied, or
    /// absent at the start), by bucket; the walker skips them.
    handled: BTreeMap<usize, Vec<Box<[u8]>>>,
    handled_keys: usize,
    /// Entries serialised ahead of the walker, not yet handed to the snapshot.
    copies: RdbWriter,
    fmt: EntryFormat,
    /// The start-time table, handed over by a flush; walked instead of the live one.
    detached: Option<Dict<Entry>>,
    /// Every remaining entry is in `copies`; live writes no longer concern us.
    finished: bool,
}

impl DbCow {
    fn new(index: u64, db: &Db, fmt: EntryFormat) -> Self {
        DbCow {
            index,
            sizes: (db.len() as u64, db.volatile_len() as u64),
            cursor: 0,
            handled: BTreeMap::new(),
            handled_keys: 0,
            copies: RdbWriter::new(fmt.compress),
            fmt,
            detached: None,
            finished: false,
        }
    }

    pub fn index(&self) -> u64 {
        self.index
    }

    /// Whether the live table still belongs to the snapshot (and must stay frozen).
    pub fn tracks_live_table(&self) -> bool {
        !self.finished && self.detached.is_none()
    }

    /// Bytes serialised ahead of the walker and not yet taken (the copy-on-write
    /// cost, reported as INFO's current_cow_size).
    pub fn copied_bytes(&self) -> usize {
        self.copies.pending()
    }

    /// Called by [`Db`] before `key` changes in `live` in any way: settles the key's
    /// start state if its bucket is not visited yet.
    pub fn before_write(&mut self, live: &Dict<Entry>, key: &[u8]) {
        if !self.tracks_live_table() {
            return;
        }
        let Some(idx) = live.bucket_index(key) else {
            return;
        };
        if idx < self.cursor || self.is_handled(idx, key) {
            return;
        }
        if let Some(entry) = live.get(key) {
            self.fmt.write(&mut self.copies, entry);
        }
        self.handled.entry(idx).or_default().push(key.into());
        self.handled_keys += 1;
    }

    fn is_handled(&self, idx: usize, key: &[u8]) -> bool {
        self.handled
            .get(&idx)
            .is_some_and(|keys| keys.iter().any(|k| &**k == key))
    }

    /// The live table is about to be dropped (FLUSHDB): keep it for the walker.
    pub fn detach(&mut self, table: Dict<Entry>) {
        if self.tracks_live_table() {
            self.detached = Some(table);
        }
    }

    /// One walker step over this database; see [`DbCow::walk`].
    pub fn walk_step(
        &mut self,
        live: &Dict<Entry>,
        out: &mut RdbWriter,
        keys_max: usize,
        bytes_max: usize,
    ) -> (usize, bool) {
        self.walk(live, out, keys_max, bytes_max)
    }

    /// Walks the rest of the live table into `copies` (the table must grow now).
    pub fn finish_now(&mut self, live: &Dict<Entry>) {
        if !self.tracks_live_table() {
            return;
        }
        let mut copies = std::mem::replace(&mut self.copies, RdbWriter::new(false));
        self.walk(live, &mut copies, usize::MAX, usize::MAX);
        self.copies = copies;
        self.finished = true;
    }

    /// Writes unvisited buckets into `out` until `keys_max` entries or `bytes_max`
    /// pending bytes; returns (entries written, whether the walk is complete).
    fn walk(
        &mut self,
        live: &Dict<Entry>,
        out: &mut RdbWriter,
        keys_max: usize,
        bytes_max: usize,
    ) -> (usize, bool) {
        if self.finished {
            return (0, true);
        }
        let table = self.detached.as_ref().unwrap_or(live);
        let buckets = table.bucket_count();
        let mut written = 0;
        while self.cursor < buckets && written < keys_max && out.pending() < bytes_max {
            let idx = self.cursor;
            let skip = match self.handled.first_key_value() {
                Some((&b, keys)) if b == idx => Some(keys),
                _ => None,
            };
            let fmt = self.fmt;
            table.visit_bucket(idx, |e| {
                let handled = skip.is_some_and(|keys| keys.iter().any(|k| **k == *e.key()));
                if !handled && fmt.write(out, e) {
                    written += 1;
                }
            });
            while let Some(entry) = self.handled.first_entry() {
                if *entry.key() > idx {
                    break;
                }
                self.handled_keys -= entry.remove().len();
            }
            self.cursor += 1;
        }
        (written, self.cursor >= buckets)
    }
}

/// Snapshot settings.
#[derive(Debug, Clone)]
pub struct SnapshotOptions {
    pub fmt: EntryFormat,
    /// `rdbchecksum`.
    pub checksum: bool,
    pub redis_ver: &'static str,
    pub used_mem: u64,
    /// repl-stream-db, repl-id, repl-offset.
    pub repl: Option<(i64, String, i64)>,
    /// Written as the base of an AOF (aof-base 1).
    pub aof_base: bool,
}

/// One snapshot in progress; see the module doc.
pub struct Snapshot {
    /// Databases that had keys at the start, in index order, and the next to walk.
    order: Vec<u64>,
    next: usize,
    /// Whether SELECTDB/RESIZEDB of `order[next]` are written.
    db_started: bool,
    out: RdbWriter,
    crc: u64,
    checksum: bool,
    done: bool,
    pub keys_total: u64,
    pub keys_processed: u64,
}

impl Snapshot {
    /// Starts a snapshot of `dbs` as they are now: writes the header and aux fields
    /// and puts every non-empty database under copy-on-write.
    pub fn start(dbs: &mut [Db], opts: &SnapshotOptions) -> Snapshot {
        Snapshot::start_with_functions(dbs, opts, &[])
    }

    /// [`Snapshot::start`], with the function libraries' code written after the
    /// aux fields as Redis 7.0 writes them (FUNCTION2 records).
    pub fn start_with_functions(
        dbs: &mut [Db],
        opts: &SnapshotOptions,
        functions: &[bytes::Bytes],
    ) -> Snapshot {
        let mut out = RdbWriter::new(opts.fmt.compress);
        out.header();
        out.redis_aux(&AuxInfo {
            redis_ver: opts.redis_ver,
            ctime_secs: (opts.fmt.now / 1000) as i64,
            used_mem: opts.used_mem,
            repl: opts
                .repl
                .as_ref()
                .map(|(db, id, off)| (*db, id.as_str(), *off)),
            aof_base: opts.aof_base,
        });
        for code in functions {
            out.function(code);
        }
        let mut order = Vec::new();
        let mut keys_total = 0;
        for (i, db) in dbs.iter_mut().enumerate() {
            db.end_snapshot();
            if db.is_empty() {
                continue;
            }
            keys_total += db.len() as u64;
            let cow = DbCow::new(i as u64, db, opts.fmt);
            db.begin_snapshot(Box::new(cow));
            order.push(i as u64);
        }
        Snapshot {
            order,
            next: 0,
            db_started: false,
            out,
            crc: 0,
            checksum: opts.checksum,
            done: false,
            keys_total,
            keys_processed: 0,
        }
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Produces up to about `keys_max` entries (and `bytes_max` bytes) more and
    /// returns the bytes made since the last call; the last call (after which
    /// [`Snapshot::is_done`]) includes EOF and the checksum.
    pub fn step(&mut self, dbs: &mut [Db], keys_max: usize, bytes_max: usize) -> Vec<u8> {
        let mut chunk = Vec::new();
        self.emit(&mut chunk);
        let mut budget = keys_max;
        while !self.done && budget > 0 && chunk.len() < bytes_max {
            let Some(&index) = self.order.get(self.next) else {
                self.append(&mut chunk, &[opcode::EOF]);
                let crc = if self.checksum { self.crc } else { 0 };
                chunk.extend_from_slice(&crc.to_le_bytes());
                self.done = true;
                break;
            };
            let Some(db) = dbs.iter_mut().find(|d| d.snapshot_index() == Some(index)) else {
                // Nothing describes this index any more (cannot happen today).
                self.next += 1;
                self.db_started = false;
                continue;
            };
            if !self.db_started {
                if let Some(cow) = db.cow() {
                    self.out.select_db(index);
                    self.out.resize_db(cow.sizes.0, cow.sizes.1);
                }
                self.db_started = true;
            }
            let room = bytes_max.saturating_sub(chunk.len());
            let (written, complete) = db.walk_snapshot(&mut self.out, budget, room);
            budget = budget.saturating_sub(written.max(1));
            self.keys_processed += written as u64;
            self.emit(&mut chunk);
            if let Some(cow) = db.cow_mut() {
                let copies = cow.copies.take();
                self.append(&mut chunk, &copies);
            }
            if complete {
                db.end_snapshot();
                self.next += 1;
                self.db_started = false;
            }
        }
        chunk
    }

    /// Moves the writer's pending bytes into `chunk`.
    fn emit(&mut self, chunk: &mut Vec<u8>) {
        let bytes = self.out.take();
        self.append(chunk, &bytes);
    }

    /// Appends file bytes to `chunk`, extending the checksum over them.
    fn append(&mut self, chunk: &mut Vec<u8>, bytes: &[u8]) {
        self.crc = crc64_update(self.crc, bytes);
        chunk.extend_from_slice(bytes);
    }

    /// Runs the snapshot to the end in one go (SAVE).
    pub fn run_to_end(mut self, dbs: &mut [Db]) -> Vec<u8> {
        let mut all = Vec::new();
        while !self.done {
            all.extend_from_slice(&self.step(dbs, usize::MAX, usize::MAX));
        }
        all
    }

    /// Stops the snapshot: every database leaves copy-on-write.
    pub fn abort(self, dbs: &mut [Db]) {
        for db in dbs {
            db.end_snapshot();
        }
    }

    /// Bytes copied ahead of the walker and still buffered, over every database.
    pub fn copied_bytes(dbs: &[Db]) -> usize {
        dbs.iter()
            .filter_map(|d| d.cow())
            .map(DbCow::copied_bytes)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::db::{AccessPolicy, KeyspaceStats, Touch};
    use crate::hash::HashKey;
    use crate::rdb::{load_with, LoadOptions, RdbValue};
    use crate::value::Value;

    const NOW: Millis = 1_700_000_000_000;
    const DBS: usize = 4;
    const LRU: AccessPolicy = AccessPolicy::Lru;

    /// (db, key) -> (value, deadline): what a snapshot must contain.
    type Image = BTreeMap<(u64, Vec<u8>), (Vec<u8>, Option<i64>)>;

    fn hasher() -> HashKey {
        HashKey::new(21, 34)
    }

    fn options(compress: bool) -> SnapshotOptions {
        SnapshotOptions {
            fmt: EntryFormat {
                now: NOW,
                access: AccessMeta::None,
                compress,
            },
            checksum: true,
            redis_ver: "7.0.15",
            used_mem: 0,
            repl: None,
            aof_base: false,
        }
    }

    fn image_of(dbs: &[Db]) -> Image {
        let mut image = Image::new();
        for (i, db) in dbs.iter().enumerate() {
            for e in db.iter() {
                let mut scratch = [0u8; 20];
                let v = e.value.as_string_bytes(&mut scratch).unwrap().to_vec();
                let at = e.expire_at().map(|at| at as i64);
                image.insert((i as u64, e.key().to_vec()), (v, at));
            }
        }
        image
    }

    fn image_of_file(bytes: &[u8]) -> Image {
        let opts = LoadOptions::from_config(&crate::config::Config::default(), hasher());
        let contents = load_with(bytes, &opts).expect("the snapshot loads");
        let mut image = Image::new();
        for db in contents.dbs {
            for e in db.entries {
                let RdbValue::Value(v) = e.value else {
                    panic!("strings only")
                };
                let mut scratch = [0u8; 20];
                let v = v.as_string_bytes(&mut scratch).unwrap().to_vec();
                let fresh = image.insert((db.index, e.key), (v, e.expire_ms));
                assert!(fresh.is_none(), "a key written twice");
            }
        }
        image
    }

    fn filled(keys: usize) -> Vec<Db> {
        let mut dbs: Vec<Db> = (0..DBS).map(|_| Db::new(hasher())).collect();
        for i in 0..keys {
            let db = &mut dbs[i % (DBS - 1)];
            let at = (i % 5 == 0).then_some(NOW + 1_000 * (i as u64 % 7));
            let value = Value::from_bytes(format!("v{i}").as_bytes());
            db.insert_new(format!("k{i}").as_bytes(), value, at, NOW, LRU);
        }
        dbs
    }

    /// A small deterministic generator (the test needs no crate for it).
    struct Lcg(u64);
    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n.max(1)
        }
    }

    /// One random write through `Db`'s methods, the way commands make them.
    fn random_write(dbs: &mut [Db], rng: &mut Lcg, round: u64) {
        let db = rng.below(DBS as u64) as usize;
        let key = format!("k{}", rng.below(400));
        let key = key.as_bytes();
        let fresh = Value::from_bytes(format!("new{round}").as_bytes());
        let mut stats = KeyspaceStats::default();
        match rng.below(100) {
            0..=24 => dbs[db].set(key, fresh, false, NOW, LRU),
            25..=44 => {
                dbs[db].remove(key);
            }
            45..=59 => {
                if let Some(e) = dbs[db].lookup(key, NOW, Touch::Yes, LRU, &mut stats, 0) {
                    e.value = fresh;
                }
            }
            60..=69 => {
                dbs[db].set_expire(key, Some(NOW + 10));
            }
            70..=79 => {
                // Lazy and active expiry, later than every deadline.
                let later = NOW + 60_000;
                dbs[db].lookup_read(key, later, Touch::Yes, LRU, &mut stats, 0);
                dbs[db].expire_step(later, 5);
            }
            80..=84 => {
                let other = rng.below(DBS as u64) as usize;
                dbs.swap(db, other);
            }
            85..=87 => dbs[db].clear(),
            88..=91 if dbs[db].len() < 1_000 => {
                // Enough new keys to force a frozen table to grow.
                for i in 0..(dbs[db].len() * 6 + 40) {
                    let k = format!("grow{round}-{i}");
                    if dbs[db].peek(k.as_bytes()).is_none() {
                        dbs[db].insert_new(k.as_bytes(), Value::Int(1), None, NOW, LRU);
                    }
                }
            }
            _ => {
                let k = format!("n{round}");
                if dbs[db].peek(k.as_bytes()).is_none() {
                    dbs[db].insert_new(k.as_bytes(), Value::Int(7), None, NOW, LRU);
                }
            }
        }
    }

    #[test]
    fn a_snapshot_run_in_one_go_holds_every_key() {
        let mut dbs = filled(300);
        let before = image_of(&dbs);
        let snap = Snapshot::start(&mut dbs, &options(true));
        let bytes = snap.run_to_end(&mut dbs);
        assert_eq!(image_of_file(&bytes), before);
        assert!(dbs.iter().all(|d| d.cow().is_none()));
    }

    #[test]
    fn writes_interleaved_with_the_walk_leave_the_image_of_the_start() {
        for seed in 0..24u64 {
            let mut dbs = filled(100 + seed as usize * 13);
            let before = image_of(&dbs);
            let mut snap = Snapshot::start(&mut dbs, &options(seed % 2 == 0));
            let mut rng = Lcg(seed);
            let mut bytes = Vec::new();
            let mut round = 0;
            while !snap.is_done() {
                let keys = 1 + rng.below(3) as usize;
                bytes.extend_from_slice(&snap.step(&mut dbs, keys, 64));
                for _ in 0..rng.below(4) {
                    round += 1;
                    random_write(&mut dbs, &mut rng, round);
                }
            }
            assert_eq!(image_of_file(&bytes), before, "seed {seed}");
            assert!(dbs.iter().all(|d| d.cow().is_none()), "seed {seed}");
        }
    }

    #[test]
    fn reads_copy_nothing() {
        let mut dbs = filled(100);
        let _snap = Snapshot::start(&mut dbs, &options(false));
        let mut stats = KeyspaceStats::default();
        for i in 0..100 {
            let key = format!("k{i}");
            // Before every deadline: a read that expires a key removes it (a write).
            let at = NOW - 1;
            dbs[i % (DBS - 1)].lookup_read(key.as_bytes(), at, Touch::Yes, LRU, &mut stats, 0);
        }
        assert_eq!(Snapshot::copied_bytes(&dbs), 0);
        dbs[0].set(b"k0", Value::Int(5), false, NOW, LRU);
        assert!(Snapshot::copied_bytes(&dbs) > 0);
    }

    #[test]
    fn an_aborted_snapshot_releases_every_database() {
        let mut dbs = filled(50);
        let snap = Snapshot::start(&mut dbs, &options(false));
        snap.abort(&mut dbs);
        assert!(dbs.iter().all(|d| d.cow().is_none()));
        // Tables resize again.
        for i in 0..1000 {
            let k = format!("x{i}");
            dbs[0].insert_new(k.as_bytes(), Value::Int(1), None, NOW, LRU);
        }
        assert_eq!(dbs[0].len(), 1000 + 17);
    }
}
