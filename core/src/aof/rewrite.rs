//! BGREWRITEAOF without fork: the snapshot engine writes the new base.
//!
//! As rewriteAppendOnlyFileBackground: the AOF switches to a new incr file (listed
//! in the manifest before any byte goes there; `temp-<appendfilename>.incr` while
//! `CONFIG SET appendonly yes` waits for its first base), and a snapshot of that
//! moment (with `aof-base`) is stepped on ticks into `temp-rewriteaof-bg-<pid>.aof`
//! in `dir`. When it is fsynced, as backgroundRewriteDoneHandler: it is renamed to
//! the next base name, the old base and the incr files written before the switch
//! become history, the manifest is persisted, the history files are removed and the
//! manifest persisted again. Writes made while the snapshot runs go to the new incr
//! file only, so base + incr is exactly the dataset.

use std::collections::VecDeque;

use bytes::Bytes;

use super::{
    feed_effects, in_dir, log, manifest_ops, start_chain, DiskOutcome, Segment, State, Then,
};
use crate::db::Millis;
use crate::io::{DiskData, DiskError, DiskOp, DiskOpId, LogLevel, Output};
use crate::persist::snapshot::Snapshot;
use crate::persist::{DISK_QUEUE_BYTES_MAX, SNAPSHOT_STEP_BYTES_MAX, SNAPSHOT_STEP_KEYS_MAX};
use crate::server::Server;

pub const STARTED: &str = "Background append only file rewriting started";
pub const SCHEDULED: &str = "Background append only file rewriting scheduled";
pub const IN_PROGRESS: &str = "ERR Background append only file rewriting already in progress";

/// A rewrite in progress.
pub struct Rewrite {
    /// None once every byte is queued.
    snapshot: Option<Snapshot>,
    /// The new base's temp file, under `dir`.
    temp: String,
    queue: VecDeque<DiskOp>,
    queued_bytes: usize,
    in_flight: Option<DiskOpId>,
    wrote_first: bool,
    /// Bytes of the new base.
    base_bytes: u64,
    started_at: Millis,
    /// The base is fsynced; the done chain waits for the running chain, if any.
    written: bool,
}

impl Rewrite {
    fn push_bytes(&mut self, bytes: Vec<u8>) {
        if bytes.is_empty() && self.wrote_first {
            return;
        }
        self.queued_bytes += bytes.len();
        self.base_bytes += bytes.len() as u64;
        let path = self.temp.clone();
        let bytes = Bytes::from(bytes);
        self.queue.push_back(if self.wrote_first {
            DiskOp::Append { path, bytes }
        } else {
            self.wrote_first = true;
            DiskOp::Write { path, bytes }
        });
    }

    fn seal(&mut self) {
        if !self.wrote_first {
            self.push_bytes(Vec::new());
        }
        self.queue.push_back(DiskOp::Fsync {
            path: self.temp.clone(),
        });
    }

    pub fn owns(&self, id: DiskOpId) -> bool {
        self.in_flight == Some(id)
    }

    /// Whether the snapshot wants a tick as soon as possible.
    pub fn wants_prompt_tick(&self) -> bool {
        self.snapshot.is_some() && self.queued_bytes < DISK_QUEUE_BYTES_MAX
    }

    pub fn started_at(&self) -> Millis {
        self.started_at
    }
}

fn temp_incr_name(srv: &Server) -> String {
    format!("temp-{}.incr", srv.config.appendfilename)
}

/// Whether a rewrite can start now, as Redis's hasActiveChildProcess: no save and
/// no other rewrite (or file switch) running.
pub fn can_start(srv: &Server) -> bool {
    srv.aof.rewrite.is_none() && !srv.aof.switching() && !srv.persist.save_in_progress()
}

/// BGREWRITEAOF: starts a rewrite now, or schedules it (Ok(false)) while a save
/// runs or inside EXEC.
pub fn bgrewriteaof(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    in_exec: bool,
) -> Result<bool, &'static str> {
    if srv.aof.rewrite.is_some() {
        return Err(IN_PROGRESS);
    }
    if !can_start(srv) || in_exec {
        srv.aof.rewrite_scheduled = true;
        srv.aof.rewrite_failures = 0;
        return Ok(false);
    }
    start(srv, outputs, now);
    Ok(true)
}

/// rewriteAppendOnlyFileBackground: switch to a new incr file, start the snapshot.
pub fn start(srv: &mut Server, outputs: &mut VecDeque<Output>, now: Millis) {
    // Effects of this event so far happened before the snapshot: they belong to
    // the old file (or, waiting for the first base, to the snapshot alone).
    if srv.aof.state == State::On {
        feed_effects(srv, now);
    } else {
        srv.effects.clear();
    }
    srv.aof.rewrite_scheduled = false;
    srv.aof.selected_db = None;
    let mut ops = vec![DiskOp::CreateDir {
        path: srv.config.appenddirname.clone(),
    }];
    let mut logs = Vec::new();
    let incr = match srv.aof.state {
        State::On => {
            let name = srv.aof.manifest.new_incr(&srv.config.appendfilename);
            ops.push(DiskOp::Write {
                path: in_dir(srv, &name),
                bytes: Bytes::new(),
            });
            ops.push(super::created_file_sync(srv, &name));
            ops.extend(manifest_ops(srv, srv.aof.manifest.format()));
            Some(name)
        }
        State::WaitRewrite => {
            let name = temp_incr_name(srv);
            ops.push(DiskOp::Write {
                path: in_dir(srv, &name),
                bytes: Bytes::new(),
            });
            Some(name)
        }
        State::Off => None,
    };
    if let Some(name) = incr {
        logs.push(format!(
            "Creating AOF incr file {name} on background rewrite"
        ));
        let path = in_dir(srv, &name);
        srv.aof.segments.push_back(Segment::new(path, false));
    }
    start_chain(srv, outputs, now, ops, Then::IncrReady, logs);
    let mut opts = crate::persist::snapshot_options(srv, now);
    opts.aof_base = true;
    // The base carries the function libraries as an RDB does (FUNCTION LOAD's own
    // propagation only reaches the incr files written after it).
    let functions = srv.scripts.library_codes();
    let snapshot = Snapshot::start_with_functions(&mut srv.dbs, &opts, &functions);
    srv.aof.rewrite = Some(Rewrite {
        snapshot: Some(snapshot),
        temp: format!("temp-rewriteaof-bg-{}.aof", srv.host.process_id),
        queue: VecDeque::new(),
        queued_bytes: 0,
        in_flight: None,
        wrote_first: false,
        base_bytes: 0,
        started_at: now,
        written: false,
    });
    srv.aof.rewrites += 1;
    srv.aof.cow_peak_bytes = 0;
    let pid = srv.host.process_id;
    log(
        srv,
        outputs,
        LogLevel::Notice,
        format!("Background append only file rewriting started by pid {pid}"),
    );
}

/// One rewrite step (every tick): serialise a bounded piece, queue it; when the
/// base is fsynced and no chain runs, put it in place.
pub fn tick(srv: &mut Server, outputs: &mut VecDeque<Output>, now: Millis) {
    let Some(job) = srv.aof.rewrite.as_mut() else {
        return;
    };
    if let Some(snap) = job.snapshot.as_mut() {
        if job.queued_bytes < DISK_QUEUE_BYTES_MAX {
            let cow = Snapshot::copied_bytes(&srv.dbs);
            srv.aof.cow_peak_bytes = srv.aof.cow_peak_bytes.max(cow);
            let chunk = snap.step(
                &mut srv.dbs,
                SNAPSHOT_STEP_KEYS_MAX,
                SNAPSHOT_STEP_BYTES_MAX,
            );
            let done = snap.is_done();
            job.push_bytes(chunk);
            if done {
                job.snapshot = None;
                job.seal();
            }
        }
    }
    pump_job(srv, outputs);
    finish_if_written(srv, outputs, now);
}

/// Another snapshot must start (SAVE, DEBUG RELOAD): the rewrite's is run to its
/// end at once, so the databases leave its copy-on-write.
pub fn settle_snapshot(srv: &mut Server) {
    let Some(job) = srv.aof.rewrite.as_mut() else {
        return;
    };
    if let Some(snap) = job.snapshot.take() {
        let bytes = snap.run_to_end(&mut srv.dbs);
        job.push_bytes(bytes);
        job.seal();
    }
}

fn pump_job(srv: &mut Server, outputs: &mut VecDeque<Output>) {
    let Some(job) = srv.aof.rewrite.as_mut() else {
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
    if let Some(job) = srv.aof.rewrite.as_mut() {
        job.in_flight = Some(id);
    }
    outputs.push_back(Output::Disk { id, op });
}

/// A request of the rewrite's temp file finished.
pub fn on_disk_done(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    result: Result<DiskData, DiskError>,
) -> DiskOutcome {
    let Some(job) = srv.aof.rewrite.as_mut() else {
        return DiskOutcome::Nothing;
    };
    job.in_flight = None;
    if let Err(e) = result {
        let line = format!(
            "Write error writing append only file on disk: {}",
            e.message
        );
        log(srv, outputs, LogLevel::Warning, line);
        fail(srv, outputs, "Background AOF rewrite terminated with error");
        return DiskOutcome::Nothing;
    }
    if job.snapshot.is_none() && job.queue.is_empty() && !job.written {
        job.written = true;
        let temp = job.temp.clone();
        log(
            srv,
            outputs,
            LogLevel::Notice,
            format!("Successfully created the temporary AOF base file {temp}"),
        );
        log(
            srv,
            outputs,
            LogLevel::Notice,
            "Background AOF rewrite terminated with success".into(),
        );
    }
    pump_job(srv, outputs);
    finish_if_written(srv, outputs, now);
    DiskOutcome::Nothing
}

/// backgroundRewriteDoneHandler's file work, once the base is fsynced and the
/// switch to the new incr file is done.
fn finish_if_written(srv: &mut Server, outputs: &mut VecDeque<Output>, now: Millis) {
    let ready = srv
        .aof
        .rewrite
        .as_ref()
        .is_some_and(|j| j.written && j.in_flight.is_none());
    if !ready || srv.aof.switching() {
        return;
    }
    let Some(job) = srv.aof.rewrite.as_ref() else {
        return;
    };
    let temp = job.temp.clone();
    srv.aof.manifest_before_rewrite = Some(srv.aof.manifest.clone());
    let preamble = true;
    let base = srv
        .aof
        .manifest
        .new_base(&srv.config.appendfilename, preamble);
    let mut ops = vec![DiskOp::Rename {
        from: temp.clone(),
        to: in_dir(srv, &base),
    }];
    let mut logs = vec![format!(
        "Successfully renamed the temporary AOF base file {temp} into {base}"
    )];
    if srv.aof.state == State::WaitRewrite {
        let temp_incr = temp_incr_name(srv);
        let incr = srv.aof.manifest.new_incr(&srv.config.appendfilename);
        ops.push(DiskOp::Rename {
            from: in_dir(srv, &temp_incr),
            to: in_dir(srv, &incr),
        });
        logs.push(format!(
            "Successfully renamed the temporary AOF incr file {temp_incr} into {incr}"
        ));
    }
    let keep_last = srv.aof.state != State::Off;
    srv.aof.manifest.mark_rewritten_incrs_as_history(keep_last);
    ops.extend(manifest_ops(srv, srv.aof.manifest.format()));
    {
        for file in std::mem::take(&mut srv.aof.manifest.history) {
            logs.push(format!(
                "Removing the history file {} in the background",
                file.name
            ));
            ops.push(DiskOp::Remove {
                path: in_dir(srv, &file.name),
            });
        }
        ops.extend(manifest_ops(srv, srv.aof.manifest.format()));
    }
    logs.push("Background AOF rewrite finished successfully".into());
    start_chain(srv, outputs, now, ops, Then::Rewritten, logs);
}

/// The done chain succeeded: the new base is in place.
pub fn finished(srv: &mut Server, now: Millis) {
    let Some(job) = srv.aof.rewrite.take() else {
        return;
    };
    let aof = &mut srv.aof;
    aof.manifest_before_rewrite = None;
    if aof.state == State::WaitRewrite {
        aof.state = State::On;
        if let Some(name) = aof.manifest.last_incr().map(str::to_owned) {
            let path = format!("{}/{name}", srv.config.appenddirname);
            if let Some(last) = aof.segments.back_mut() {
                last.path = path;
            }
        }
    }
    let incr_bytes = aof.segments.back().map_or(0, |s| s.written);
    aof.base_size = job.base_bytes + incr_bytes;
    aof.current_size = aof.base_size;
    aof.last_rewrite_failed = false;
    aof.rewrite_failures = 0;
    aof.last_rewrite_secs = Some(now.saturating_sub(job.started_at) / 1000);
    aof.last_cow_bytes = aof.cow_peak_bytes;
}

/// The rewrite failed (a write of its files, or a step of the done chain): the
/// manifest is restored, the temp file removed; `CONFIG SET appendonly yes` tries
/// again later.
pub fn fail(srv: &mut Server, outputs: &mut VecDeque<Output>, line: &str) {
    let Some(job) = srv.aof.rewrite.take() else {
        return;
    };
    log(srv, outputs, LogLevel::Warning, line.into());
    abort_job(srv, outputs, job);
    let aof = &mut srv.aof;
    if let Some(manifest) = aof.manifest_before_rewrite.take() {
        aof.manifest = manifest;
    }
    aof.last_rewrite_failed = true;
    aof.rewrite_failures += 1;
    if aof.state == State::WaitRewrite {
        aof.rewrite_scheduled = true;
    }
}

/// Stops the rewrite's snapshot and removes its temp file.
fn abort_job(srv: &mut Server, outputs: &mut VecDeque<Output>, mut job: Rewrite) {
    if let Some(snap) = job.snapshot.take() {
        snap.abort(&mut srv.dbs);
    }
    if let Some(id) = job.in_flight.take() {
        srv.aof.stray_ops.insert(id);
    }
    let id = srv.next_disk_op_id();
    srv.aof.stray_ops.insert(id);
    outputs.push_back(Output::Disk {
        id,
        op: DiskOp::Remove { path: job.temp },
    });
}

/// killAppendOnlyChild (CONFIG SET appendonly no/yes while one runs).
pub fn kill(srv: &mut Server, outputs: &mut VecDeque<Output>) {
    if let Some(job) = srv.aof.rewrite.take() {
        log(
            srv,
            outputs,
            LogLevel::Notice,
            format!("Killing running AOF rewrite child: {}", srv.host.process_id),
        );
        abort_job(srv, outputs, job);
        if let Some(manifest) = srv.aof.manifest_before_rewrite.take() {
            srv.aof.manifest = manifest;
        }
    }
}

/// serverCron's part: a scheduled rewrite, or an automatic one when the AOF grew
/// `auto-aof-rewrite-percentage` past its size after the last rewrite.
pub fn cron(srv: &mut Server, outputs: &mut VecDeque<Output>, now: Millis) {
    if !can_start(srv) || srv.persist.loading {
        return;
    }
    if srv.aof.rewrite_scheduled {
        start(srv, outputs, now);
        return;
    }
    let perc = srv.config.auto_aof_rewrite_percentage;
    let size = srv.aof.current_size;
    if srv.aof.state != State::On || perc <= 0 {
        return;
    }
    let min_size = u64::try_from(srv.config.auto_aof_rewrite_min_size).unwrap_or(0);
    if size <= min_size {
        return;
    }
    let base = srv.aof.base_size.max(1);
    let growth = (size * 100 / base) as i64 - 100;
    if growth >= perc {
        log(
            srv,
            outputs,
            LogLevel::Notice,
            format!("Starting automatic rewriting of AOF on {growth}% growth"),
        );
        start(srv, outputs, now);
    }
}
