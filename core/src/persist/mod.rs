//! RDB persistence: SAVE, BGSAVE, save points, the final save at shutdown, and
//! loading the dump at start.
//!
//! Saves use the fork-free [`snapshot`] engine. A save is a *job*: the snapshot's
//! bytes go to `temp-<pid>-<n>.rdb` through [`DiskOp`]s issued one at a time
//! (write, appends, fsync), then the temp file is renamed over `dbfilename`, so a
//! crash or a failed write never leaves a half-written dump. BGSAVE steps the
//! snapshot on every tick with a bounded budget; SAVE runs it to the end at once.
//! Clients that wait for a save's outcome (SAVE, SHUTDOWN, DEBUG RELOAD) are
//! [`Waiter`]s, answered by the node when the job ends.

pub mod snapshot;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, VecDeque};

use bytes::Bytes;

use crate::command::{CommandSpec, Flag};
use crate::config_table::REDIS_VERSION;
use crate::db::{loaded_access, Millis};
use crate::error::CmdError;
use crate::io::{ConnId, DiskData, DiskError, DiskOp, DiskOpId, LogLevel, Output};
use crate::rdb::{self, LoadOptions, RdbLoadError};
use crate::server::Server;
use snapshot::{AccessMeta, EntryFormat, Snapshot, SnapshotOptions};

/// Most entries one BGSAVE tick serialises.
pub const SNAPSHOT_STEP_KEYS_MAX: usize = 4_096;
/// Most bytes one BGSAVE tick produces (about: one entry may pass it).
pub const SNAPSHOT_STEP_BYTES_MAX: usize = 1 << 20;
/// The snapshot pauses while this many bytes wait for the disk.
pub const DISK_QUEUE_BYTES_MAX: usize = 8 << 20;
/// SAVE writes its bytes in pieces of this size.
const SAVE_CHUNK_BYTES: usize = 8 << 20;
/// A failed background save is retried by save points only after this long
/// (CONFIG_BGSAVE_RETRY_DELAY).
const BGSAVE_RETRY_DELAY_SECS: u64 = 5;

pub const BGSAVE_STARTED: &str = "Background saving started";
pub const BGSAVE_SCHEDULED: &str = "Background saving scheduled";
pub const BGSAVE_IN_PROGRESS: &str = "ERR Background save already in progress";
/// Redis's shared.err: a bare error.
pub const SAVE_FAILED: &str = "ERR";
pub const SHUTDOWN_FAILED: &str = "ERR Errors trying to SHUTDOWN. Check logs.";
pub const RELOAD_FAILED: &str = "ERR Error trying to load the RDB dump";
pub const RELOAD_OPTIONS: &str =
    "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.";
pub const LOADING: &str = "LOADING Redis is loading the dataset in memory";
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's \
    currently unable to persist to disk. Commands that may modify the data set are \
    disabled, because this instance is configured to report errors during writes if RDB \
    snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs \
    for details about the RDB error.";

/// Someone waiting for the outcome of a save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiter {
    /// A client that gets +OK, or the bare -ERR on failure (SAVE, DEBUG RELOAD).
    Reply(ConnId),
    /// SHUTDOWN (from a client, or a signal when `conn` is None): the process stops
    /// once the dump is renamed into place, or anyway with `force`.
    Shutdown { conn: Option<ConnId>, force: bool },
    /// DEBUG RELOAD NOSAVE: +OK once the dump is read and loaded, else
    /// [`RELOAD_FAILED`].
    Reload(ConnId),
}

/// DEBUG RELOAD's options (debug.c): MERGE, NOFLUSH, NOSAVE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReloadOptions {
    /// Keys and libraries of the dump replace those with the same names
    /// (RDBFLAGS_ALLOW_DUP); without it a key already there stops the server.
    pub merge: bool,
    /// Empty the keyspace and the function libraries first.
    pub flush: bool,
    /// Save the dataset first; else load the file as it is on disk.
    pub save: bool,
}

impl Default for ReloadOptions {
    fn default() -> Self {
        ReloadOptions {
            merge: false,
            flush: true,
            save: true,
        }
    }
}

/// A job that ended: whether the dump is in place, and who waited for it.
#[derive(Debug)]
pub struct SaveDone {
    pub ok: bool,
    pub waiters: Vec<Waiter>,
}

/// Persistence state and INFO persistence counters.
#[derive(Default)]
pub struct Persist {
    /// Unix seconds of the last successful save (LASTSAVE); the start time at first.
    pub lastsave_secs: u64,
    pub last_bgsave_failed: bool,
    /// When the last background save started, Unix seconds.
    pub last_bgsave_try_secs: u64,
    /// Duration of the last background save (-1: none yet).
    pub last_bgsave_time_secs: Option<u64>,
    /// BGSAVE SCHEDULE: start one as soon as possible.
    pub bgsave_scheduled: bool,
    pub rdb_saves: u64,
    /// The dump is being read or loaded: commands without the `loading` flag get
    /// -LOADING.
    pub loading: bool,
    load_op: Option<DiskOpId>,
    /// DEBUG RELOAD NOSAVE reads in flight: who waits, with which options.
    reloads: Vec<(DiskOpId, ConnId, ReloadOptions)>,
    pub load_keys_loaded: u64,
    pub load_keys_expired: u64,
    /// Largest copy-on-write buffer of the current and of the last save.
    pub cow_peak_bytes: usize,
    pub last_cow_bytes: usize,
    job: Option<SaveJob>,
    /// Requests whose outcome nobody waits for (an aborted job's writes and removal).
    stray_ops: BTreeSet<DiskOpId>,
    jobs_started: u64,
    jobs_completed: u64,
}

/// One save in progress.
struct SaveJob {
    background: bool,
    /// None once every byte is queued.
    snapshot: Option<Snapshot>,
    temp: String,
    target: String,
    /// Requests not yet issued, in order.
    queue: VecDeque<DiskOp>,
    queued_bytes: usize,
    in_flight: Option<DiskOpId>,
    wrote_first: bool,
    started_at: Millis,
    dirty_at_start: u64,
    waiters: Vec<Waiter>,
}

impl SaveJob {
    fn push_bytes(&mut self, bytes: Bytes) {
        if bytes.is_empty() && self.wrote_first {
            return;
        }
        self.queued_bytes += bytes.len();
        let path = self.temp.clone();
        self.queue.push_back(if self.wrote_first {
            DiskOp::Append { path, bytes }
        } else {
            self.wrote_first = true;
            DiskOp::Write { path, bytes }
        });
    }

    /// Queues a whole dump's bytes in pieces, sealed.
    fn push_dump(&mut self, bytes: &Bytes, planted: crate::planted::Planted) {
        let mut at = 0;
        while at < bytes.len() {
            let end = (at + SAVE_CHUNK_BYTES).min(bytes.len());
            self.push_bytes(bytes.slice(at..end));
            at = end;
        }
        self.seal(planted);
    }

    /// Every byte is queued: make it durable, then put it in place.
    fn seal(&mut self, planted: crate::planted::Planted) {
        if !self.wrote_first {
            self.push_bytes(Bytes::new());
        }
        if !planted.is(crate::planted::Bug::SaveSkipsFsync) {
            self.queue.push_back(DiskOp::Fsync {
                path: self.temp.clone(),
            });
        }
        self.queue.push_back(DiskOp::Rename {
            from: self.temp.clone(),
            to: self.target.clone(),
        });
    }
}

impl Persist {
    /// Save jobs started and completed successfully.
    pub fn save_counts(&self) -> (u64, u64) {
        (self.jobs_started, self.jobs_completed)
    }

    pub fn new(now: Millis) -> Self {
        Persist {
            lastsave_secs: now / 1000,
            ..Persist::default()
        }
    }

    pub fn bgsave_in_progress(&self) -> bool {
        self.job.as_ref().is_some_and(|j| j.background)
    }

    pub fn save_in_progress(&self) -> bool {
        self.job.is_some()
    }

    /// Whether a running snapshot wants a tick as soon as possible.
    pub fn wants_prompt_tick(&self) -> bool {
        self.job
            .as_ref()
            .is_some_and(|j| j.snapshot.is_some() && j.queued_bytes < DISK_QUEUE_BYTES_MAX)
    }

    /// Whether `id` is a disk request of persistence (the node routes it here).
    pub fn owns(&self, id: DiskOpId) -> bool {
        self.load_op == Some(id)
            || self.reloads.iter().any(|r| r.0 == id)
            || self.stray_ops.contains(&id)
            || self.job.as_ref().is_some_and(|j| j.in_flight == Some(id))
    }

    /// (keys processed, keys total) of the running snapshot.
    pub fn save_progress(&self) -> (u64, u64) {
        match self.job.as_ref().and_then(|j| j.snapshot.as_ref()) {
            Some(s) => (s.keys_processed, s.keys_total),
            None => (0, 0),
        }
    }

    /// Unix ms when the running background save started.
    pub fn bgsave_started_at(&self) -> Option<Millis> {
        self.job
            .as_ref()
            .filter(|j| j.background)
            .map(|j| j.started_at)
    }
}

fn log(srv: &Server, outputs: &mut VecDeque<Output>, level: LogLevel, line: String) {
    if level >= srv.config.loglevel {
        outputs.push_back(Output::Log { level, line });
    }
}

/// Writes are refused with -MISCONF: the last background save failed, save points
/// exist and `stop-writes-on-bgsave-error` is on.
pub fn writes_denied(srv: &Server) -> bool {
    srv.config.stop_writes_on_bgsave_error
        && !srv.config.save_params.is_empty()
        && srv.persist.last_bgsave_failed
}

/// Why persistence refuses to run `cmd` now, as Redis's processCommand checks:
/// -MISCONF for writes (and PING) after a failed background save, -LOADING for
/// commands not allowed while the dump loads.
/// After a failed AOF write the same -MISCONF names the AOF's error instead.
pub fn refusal(srv: &Server, cmd: &CommandSpec) -> Option<CmdError> {
    let writes = cmd.has_flag(Flag::Write) || cmd.name == "ping";
    if writes && writes_denied(srv) {
        return Some(CmdError::Static(MISCONF));
    }
    if writes {
        if let Some(message) = crate::aof::write_error(srv) {
            return Some(CmdError::Owned(format!(
                "MISCONF Errors writing to the AOF file: {message}"
            )));
        }
    }
    if srv.persist.loading && !cmd.has_flag(Flag::Loading) {
        return Some(CmdError::Static(LOADING));
    }
    None
}

/// SHUTDOWN and SIGTERM: a running BGSAVE is killed; with `save` the final save
/// runs and the returned waiter list is empty until it ends (the caller waits);
/// without it the shutdown proceeds at once (the returned outcome says so).
pub fn shutdown(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    save: bool,
    conn: Option<ConnId>,
    force: bool,
) -> Option<SaveDone> {
    let killed = kill_bgsave(srv, outputs);
    debug_assert!(killed.is_empty(), "background saves have no waiters");
    let waiter = Waiter::Shutdown { conn, force };
    if save {
        log(
            srv,
            outputs,
            LogLevel::Notice,
            "Saving the final RDB snapshot before exiting.".into(),
        );
        if start_save(srv, outputs, now, false, vec![waiter]) {
            return None;
        }
        // A foreground save is already on its way to disk: wait for that one.
        if let Some(job) = srv.persist.job.as_mut() {
            job.waiters.push(waiter);
            return None;
        }
    }
    Some(SaveDone {
        ok: true,
        waiters: vec![waiter],
    })
}

/// How a snapshot of the keyspace is written now (BGSAVE, SAVE, the AOF base).
pub(crate) fn snapshot_options(srv: &Server, now: Millis) -> SnapshotOptions {
    let policy = srv.config.maxmemory_policy;
    let access = if policy.is_lfu() {
        AccessMeta::Freq {
            decay_minutes: srv.config.lfu_decay_time,
        }
    } else if matches!(
        policy,
        crate::config::MaxmemoryPolicy::AllkeysLru | crate::config::MaxmemoryPolicy::VolatileLru
    ) {
        AccessMeta::Idle
    } else {
        AccessMeta::None
    };
    SnapshotOptions {
        fmt: EntryFormat {
            now,
            access,
            compress: srv.config.rdbcompression,
        },
        checksum: srv.config.rdbchecksum,
        redis_ver: REDIS_VERSION,
        used_mem: srv.used_memory() as u64,
        // A master without a backlog writes no replication fields, as Redis does.
        repl: None,
        aof_base: false,
    }
}

/// Starts a save of the whole keyspace to `dbfilename`. A background save is
/// stepped by [`tick`]; a foreground one is serialised now. Refused (false) while
/// another save runs.
pub fn start_save(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    background: bool,
    waiters: Vec<Waiter>,
) -> bool {
    if srv.persist.job.is_some() {
        return false;
    }
    crate::aof::rewrite::settle_snapshot(srv);
    let opts = snapshot_options(srv, now);
    let functions = srv.scripts.library_codes();
    let snap = Snapshot::start_with_functions(&mut srv.dbs, &opts, &functions);
    if background {
        start_job(srv, outputs, now, Some(snap), None, waiters);
    } else {
        let bytes = Bytes::from(snap.run_to_end(&mut srv.dbs));
        start_job(srv, outputs, now, None, Some(bytes), waiters);
    }
    true
}

/// Starts a job: `snap` to be stepped (background), or the whole file's `bytes`.
fn start_job(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    snap: Option<Snapshot>,
    bytes: Option<Bytes>,
    waiters: Vec<Waiter>,
) {
    srv.persist.jobs_started += 1;
    srv.persist.rdb_saves += 1;
    srv.persist.cow_peak_bytes = 0;
    let mut job = SaveJob {
        background: snap.is_some(),
        snapshot: None,
        temp: format!(
            "temp-{}-{}.rdb",
            srv.host.process_id, srv.persist.jobs_started
        ),
        target: srv.config.dbfilename.clone(),
        queue: VecDeque::new(),
        queued_bytes: 0,
        in_flight: None,
        wrote_first: false,
        started_at: now,
        dirty_at_start: srv.dirty,
        waiters,
    };
    if let Some(snap) = snap {
        srv.persist.last_bgsave_try_secs = now / 1000;
        job.snapshot = Some(snap);
        log(
            srv,
            outputs,
            LogLevel::Notice,
            "Background saving started".into(),
        );
    }
    if let Some(bytes) = bytes {
        job.push_dump(&bytes, srv.planted);
    }
    srv.persist.job = Some(job);
    pump(srv, outputs);
}

/// DEBUG RELOAD: with `save` (the default) the dataset is written as SAVE
/// writes it (the client waits for the dump to be in place) and the very bytes
/// written are loaded back, else the file is read first ([`Waiter::Reload`]).
/// Loading empties the keyspace and the libraries first unless NOFLUSH. On
/// `Ok` the client waits for its reply.
pub fn debug_reload(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    conn: ConnId,
    opts: ReloadOptions,
) -> Result<(), CmdError> {
    if !opts.save {
        let id = srv.next_disk_op_id();
        srv.persist.loading = true;
        srv.persist.reloads.push((id, conn, opts));
        outputs.push_back(Output::Disk {
            id,
            op: DiskOp::Read {
                path: srv.config.dbfilename.clone(),
            },
        });
        return Ok(());
    }
    kill_bgsave(srv, outputs);
    crate::aof::rewrite::settle_snapshot(srv);
    let opts_snapshot = snapshot_options(srv, now);
    let functions = srv.scripts.library_codes();
    let snap = Snapshot::start_with_functions(&mut srv.dbs, &opts_snapshot, &functions);
    let bytes = Bytes::from(snap.run_to_end(&mut srv.dbs));
    let waiter = Waiter::Reply(conn);
    if !replace_pending_dump(srv, outputs, bytes.clone(), waiter) {
        start_job(srv, outputs, now, None, Some(bytes.clone()), vec![waiter]);
    }
    if let Err(failure) = reload_bytes(srv, outputs, &bytes, now, opts) {
        if let Some(job) = srv.persist.job.as_mut() {
            job.waiters.retain(|w| *w != waiter);
        }
        // A fatal failure stops the process before any reply, as Redis's panic.
        return failure.report(srv, outputs).map_or(Ok(()), Err);
    }
    Ok(())
}

/// A foreground save still on its way to disk gets `bytes` as its dump
/// instead (a later image of the same dataset, so its waiters lose nothing),
/// and `waiter` waits with them: the dump it was writing is never renamed into
/// place. False when there is no such save.
fn replace_pending_dump(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    bytes: Bytes,
    waiter: Waiter,
) -> bool {
    let dirty = srv.dirty;
    let planted = srv.planted;
    let Some(job) = srv.persist.job.as_mut().filter(|j| !j.background) else {
        return false;
    };
    job.queue.clear();
    job.queued_bytes = 0;
    job.wrote_first = false;
    job.dirty_at_start = dirty;
    job.push_dump(&bytes, planted);
    job.waiters.push(waiter);
    srv.persist.jobs_started += 1;
    srv.persist.rdb_saves += 1;
    pump(srv, outputs);
    true
}

/// Why DEBUG RELOAD could not load a dump.
enum ReloadFailure {
    /// The dump or one of its libraries did not load: the client gets
    /// [`RELOAD_FAILED`], the server goes on with what was loaded.
    Failed(String),
    /// Redis stops here (a key already in memory without MERGE: serverPanic;
    /// more databases than configured: exit).
    Fatal(String),
}

impl ReloadFailure {
    /// Logs the failure; the error to reply, or None for a fatal one, which
    /// stops the process instead.
    fn report(self, srv: &Server, outputs: &mut VecDeque<Output>) -> Option<CmdError> {
        match self {
            ReloadFailure::Failed(message) => {
                log(srv, outputs, LogLevel::Warning, message);
                let line = "Short read or OOM loading DB. Unrecoverable error, aborting now.";
                log(srv, outputs, LogLevel::Warning, line.into());
                Some(CmdError::Static(RELOAD_FAILED))
            }
            ReloadFailure::Fatal(message) => {
                log(srv, outputs, LogLevel::Warning, message);
                outputs.push_back(Output::Stop { code: 1 });
                None
            }
        }
    }
}

/// Empties the dataset (unless NOFLUSH) and loads `bytes` into it.
fn reload_bytes(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    bytes: &[u8],
    now: Millis,
    opts: ReloadOptions,
) -> Result<(), ReloadFailure> {
    if opts.flush {
        srv.reset_databases();
        srv.scripts.functions = None;
    }
    load_into(srv, bytes, now, opts.merge)?;
    log(
        srv,
        outputs,
        LogLevel::Warning,
        "DB reloaded by DEBUG RELOAD".into(),
    );
    Ok(())
}

/// A DEBUG RELOAD NOSAVE read ended: load what it read (a missing file is a
/// failed load) and tell the client.
fn finish_reload(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    conn: ConnId,
    opts: ReloadOptions,
    result: Result<DiskData, DiskError>,
) -> SaveDone {
    srv.persist.loading = srv.persist.load_op.is_some() || !srv.persist.reloads.is_empty();
    let ok = match result {
        Ok(DiskData::Contents(bytes)) => match reload_bytes(srv, outputs, &bytes, now, opts) {
            Ok(()) => true,
            Err(failure) => {
                if failure.report(srv, outputs).is_none() {
                    // Stopping: no reply, as Redis's panic.
                    return SaveDone {
                        ok: false,
                        waiters: Vec::new(),
                    };
                }
                false
            }
        },
        _ => {
            if opts.flush {
                srv.reset_databases();
                srv.scripts.functions = None;
            }
            false
        }
    };
    SaveDone {
        ok,
        waiters: vec![Waiter::Reload(conn)],
    }
}

/// One BGSAVE step (called on every tick): serialise a bounded piece, queue it.
pub fn tick(srv: &mut Server, outputs: &mut VecDeque<Output>) {
    let Some(job) = srv.persist.job.as_mut() else {
        return;
    };
    if job.queued_bytes >= DISK_QUEUE_BYTES_MAX {
        return;
    }
    let Some(snap) = job.snapshot.as_mut() else {
        return;
    };
    // Copies made since the last step are the peak: the step drains them.
    let cow = Snapshot::copied_bytes(&srv.dbs);
    srv.persist.cow_peak_bytes = srv.persist.cow_peak_bytes.max(cow);
    let chunk = snap.step(
        &mut srv.dbs,
        SNAPSHOT_STEP_KEYS_MAX,
        SNAPSHOT_STEP_BYTES_MAX,
    );
    let done = snap.is_done();
    job.push_bytes(Bytes::from(chunk));
    if done {
        job.snapshot = None;
        job.seal(srv.planted);
    }
    let cow = Snapshot::copied_bytes(&srv.dbs);
    srv.persist.cow_peak_bytes = srv.persist.cow_peak_bytes.max(cow);
    pump(srv, outputs);
}

/// Issues the job's next disk request if none is in flight.
fn pump(srv: &mut Server, outputs: &mut VecDeque<Output>) {
    let Some(job) = srv.persist.job.as_mut() else {
        return;
    };
    if job.in_flight.is_some() {
        return;
    }
    let Some(op) = job.queue.pop_front() else {
        return;
    };
    if let DiskOp::Write { bytes, .. } | DiskOp::Append { bytes, .. } = &op {
        job.queued_bytes -= bytes.len();
    }
    let id = srv.next_disk_op_id();
    if let Some(job) = srv.persist.job.as_mut() {
        job.in_flight = Some(id);
    }
    outputs.push_back(Output::Disk { id, op });
}

/// What a finished disk request of persistence meant.
pub enum DiskOutcome {
    /// Nothing for the node to do.
    Nothing,
    /// A save ended; the node answers its waiters.
    Saved(SaveDone),
}

/// Routes the result of one of persistence's disk requests.
pub fn on_disk_done(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    id: DiskOpId,
    result: Result<DiskData, DiskError>,
) -> DiskOutcome {
    if srv.persist.stray_ops.remove(&id) {
        return DiskOutcome::Nothing;
    }
    if srv.persist.load_op == Some(id) {
        srv.persist.load_op = None;
        finish_loading(srv, outputs, now, result);
        return DiskOutcome::Nothing;
    }
    if let Some(i) = srv.persist.reloads.iter().position(|r| r.0 == id) {
        let (_, conn, opts) = srv.persist.reloads.remove(i);
        return DiskOutcome::Saved(finish_reload(srv, outputs, now, conn, opts, result));
    }
    let Some(job) = srv.persist.job.as_mut() else {
        return DiskOutcome::Nothing;
    };
    if job.in_flight != Some(id) {
        return DiskOutcome::Nothing;
    }
    job.in_flight = None;
    if let Err(e) = result {
        return DiskOutcome::Saved(fail_job(srv, outputs, &e.message));
    }
    if job.snapshot.is_none() && job.queue.is_empty() {
        return DiskOutcome::Saved(complete_job(srv, outputs, now));
    }
    pump(srv, outputs);
    DiskOutcome::Nothing
}

fn complete_job(srv: &mut Server, outputs: &mut VecDeque<Output>, now: Millis) -> SaveDone {
    let Some(job) = srv.persist.job.take() else {
        return SaveDone {
            ok: false,
            waiters: Vec::new(),
        };
    };
    srv.dirty = srv.dirty.saturating_sub(job.dirty_at_start);
    let p = &mut srv.persist;
    p.lastsave_secs = now / 1000;
    p.last_bgsave_failed = false;
    p.jobs_completed += 1;
    p.last_cow_bytes = p.cow_peak_bytes;
    if job.background {
        p.last_bgsave_time_secs = Some(now.saturating_sub(job.started_at) / 1000);
        log(
            srv,
            outputs,
            LogLevel::Notice,
            "Background saving terminated with success".into(),
        );
    } else {
        log(srv, outputs, LogLevel::Notice, "DB saved on disk".into());
    }
    SaveDone {
        ok: true,
        waiters: job.waiters,
    }
}

fn fail_job(srv: &mut Server, outputs: &mut VecDeque<Output>, message: &str) -> SaveDone {
    let Some(job) = abort_job(srv, outputs) else {
        return SaveDone {
            ok: false,
            waiters: Vec::new(),
        };
    };
    if job.background {
        srv.persist.last_bgsave_failed = true;
        log(
            srv,
            outputs,
            LogLevel::Warning,
            format!("Write error saving DB on disk: {message}"),
        );
        log(
            srv,
            outputs,
            LogLevel::Warning,
            "Background saving error".into(),
        );
    } else {
        log(
            srv,
            outputs,
            LogLevel::Warning,
            format!("Write error saving DB on disk: {message}"),
        );
    }
    SaveDone {
        ok: false,
        waiters: job.waiters,
    }
}

/// Stops the running save, if any: the snapshot releases the databases and the
/// temp file is removed. Returns the job (its waiters are the caller's).
fn abort_job(srv: &mut Server, outputs: &mut VecDeque<Output>) -> Option<SaveJob> {
    let mut job = srv.persist.job.take()?;
    if let Some(snap) = job.snapshot.take() {
        snap.abort(&mut srv.dbs);
    }
    if let Some(id) = job.in_flight.take() {
        srv.persist.stray_ops.insert(id);
    }
    let id = srv.next_disk_op_id();
    srv.persist.stray_ops.insert(id);
    outputs.push_back(Output::Disk {
        id,
        op: DiskOp::Remove {
            path: job.temp.clone(),
        },
    });
    Some(job)
}

/// Adds a waiter to the running save; false when there is none.
pub fn wait_for_running_save(srv: &mut Server, waiter: Waiter) -> bool {
    match srv.persist.job.as_mut() {
        Some(job) => {
            job.waiters.push(waiter);
            true
        }
        None => false,
    }
}

/// Kills a running background save without counting it as failed (FLUSHALL,
/// SHUTDOWN, DEBUG RELOAD: Redis kills its child with SIGUSR1). Its waiters are
/// returned to be told it failed.
pub fn kill_bgsave(srv: &mut Server, outputs: &mut VecDeque<Output>) -> Vec<Waiter> {
    if !srv.persist.bgsave_in_progress() {
        return Vec::new();
    }
    log(
        srv,
        outputs,
        LogLevel::Warning,
        "Background saving terminated by signal 10".into(),
    );
    abort_job(srv, outputs)
        .map(|j| j.waiters)
        .unwrap_or_default()
}

/// serverCron's part: save points and a scheduled BGSAVE.
pub fn cron(srv: &mut Server, outputs: &mut VecDeque<Output>, now: Millis) {
    // One background snapshot at a time: a running AOF rewrite defers save points.
    if srv.persist.job.is_some() || srv.persist.loading || srv.aof.rewrite_in_progress() {
        return;
    }
    let now_secs = now / 1000;
    let p = &srv.persist;
    let retry_ok = now_secs.saturating_sub(p.last_bgsave_try_secs) > BGSAVE_RETRY_DELAY_SECS
        || !p.last_bgsave_failed;
    if !retry_ok {
        return;
    }
    let since_save = now_secs.saturating_sub(p.lastsave_secs) as i64;
    let due = srv
        .config
        .save_params
        .iter()
        .find(|&&(secs, changes)| srv.dirty as i64 >= changes && since_save > secs)
        .copied();
    if let Some((secs, changes)) = due {
        log(
            srv,
            outputs,
            LogLevel::Notice,
            format!("{changes} changes in {secs} seconds. Saving..."),
        );
        start_save(srv, outputs, now, true, Vec::new());
    } else if srv.persist.bgsave_scheduled {
        srv.persist.bgsave_scheduled = false;
        start_save(srv, outputs, now, true, Vec::new());
    }
}

/// Asks for the dump at start (no AOF): commands wait with -LOADING until it is in.
pub fn start_loading(srv: &mut Server, outputs: &mut VecDeque<Output>) {
    let id = srv.next_disk_op_id();
    srv.persist.loading = true;
    srv.persist.load_op = Some(id);
    outputs.push_back(Output::Disk {
        id,
        op: DiskOp::Read {
            path: srv.config.dbfilename.clone(),
        },
    });
}

fn finish_loading(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    result: Result<DiskData, DiskError>,
) {
    srv.persist.loading = false;
    match result {
        Ok(DiskData::Contents(bytes)) => match load(srv, &bytes, now) {
            Ok((loaded, expired)) => log(
                srv,
                outputs,
                LogLevel::Notice,
                format!("Done loading RDB, keys loaded: {loaded}, keys expired: {expired}."),
            ),
            Err(message) => {
                log(srv, outputs, LogLevel::Warning, message);
                log(
                    srv,
                    outputs,
                    LogLevel::Warning,
                    "Terminating server after rdb file reading failure.".into(),
                );
                outputs.push_back(Output::Stop { code: 1 });
            }
        },
        Ok(_) => {}
        Err(e) => {
            log(
                srv,
                outputs,
                LogLevel::Warning,
                format!("Fatal error loading the DB: {}. Exiting.", e.message),
            );
            outputs.push_back(Output::Stop { code: 1 });
        }
    }
}

/// Loads a dump's keys into the (empty) databases: keys already past their
/// deadline are dropped, as a master does; LRU idle time and LFU counters are
/// restored. Returns (loaded, expired) or the message to log before stopping.
pub fn load(srv: &mut Server, bytes: &[u8], now: Millis) -> Result<(u64, u64), String> {
    load_rdb(srv, bytes, now).map(|(loaded, expired, _)| (loaded, expired))
}

/// [`load`], also returning the offset just past the checksum, where the command
/// tail of an AOF with an RDB preamble starts.
pub fn load_rdb(srv: &mut Server, bytes: &[u8], now: Millis) -> Result<(u64, u64, usize), String> {
    load_into(srv, bytes, now, false).map_err(|f| match f {
        ReloadFailure::Failed(message) | ReloadFailure::Fatal(message) => message,
    })
}

/// Loads a dump into the databases and the function libraries, which may hold
/// data already (DEBUG RELOAD NOFLUSH): with `merge` the dump's keys and
/// libraries replace those with the same names, as RDBFLAGS_ALLOW_DUP.
fn load_into(
    srv: &mut Server,
    bytes: &[u8],
    now: Millis,
    merge: bool,
) -> Result<(u64, u64, usize), ReloadFailure> {
    let opts = LoadOptions::from_config(&srv.config, srv.hasher);
    let mut contents =
        rdb::load_with(bytes, &opts).map_err(|e| ReloadFailure::Failed(corrupt_message(e)))?;
    let functions = std::mem::take(&mut contents.functions);
    srv.scripts
        .load_libraries(&functions, merge)
        .map_err(ReloadFailure::Failed)?;
    let policy = srv.access_policy();
    let (mut loaded, mut expired) = (0, 0);
    for rdb_db in contents.dbs {
        let Some(db) = usize::try_from(rdb_db.index)
            .ok()
            .and_then(|i| srv.dbs.get_mut(i))
        else {
            return Err(ReloadFailure::Fatal(format!(
                "FATAL: Data file was created with a Redis server configured to handle more than {} databases. Exiting",
                srv.config.databases
            )));
        };
        db.reserve(rdb_db.entries.len());
        for e in rdb_db.entries {
            if e.expire_ms.is_some_and(|at| at < now as i64) {
                expired += 1;
                continue;
            }
            if db.peek(&e.key).is_some() {
                if !merge {
                    return Err(ReloadFailure::Fatal(format!(
                        "RDB has duplicated key '{}' in DB {}",
                        String::from_utf8_lossy(&e.key),
                        rdb_db.index
                    )));
                }
                db.remove(&e.key);
            }
            let access = loaded_access(now, policy, e.idle_secs, e.freq);
            let at = e.expire_ms.map(|at| at.max(0) as u64);
            db.insert_with_access(&e.key, e.value.into_value(&opts), at, access);
            loaded += 1;
        }
    }
    srv.persist.load_keys_loaded = loaded;
    srv.persist.load_keys_expired = expired;
    Ok((loaded, expired, contents.end_offset))
}

fn corrupt_message(e: RdbLoadError) -> String {
    format!(
        "Internal error in RDB reading offset {}, function at rdb.c:0 -> {:?}",
        e.offset, e.kind
    )
}
