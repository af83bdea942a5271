//! The append-only file: Redis 7.0's multi-part AOF (`appenddirname` holding a
//! manifest, one base file and incr files), written from the propagated effects and
//! loaded at start.
//!
//! * **Writing.** At the end of every event the node hands the effects of that event
//!   to [`after_event`]: they are encoded (SELECT where the database changes, `#TS:`
//!   annotations with `aof-timestamp-enabled`) into a buffer, and the buffer leaves as
//!   one [`DiskOp::Append`] to the current incr file; one request is in flight at a
//!   time. Under `appendfsync always` every append is followed by an fsync; under
//!   `everysec` an fsync is issued when the second changes (checked on every event and
//!   every cron tick); under `no` never.
//! * **Replies wait.** Outputs to clients (and Stop) produced by an event that added
//!   bytes are held until those bytes are written (`everysec`, `no`: in the page cache,
//!   as Redis writes before replying) or fsynced (`always`), and leave in order. So no
//!   reply to a write leaves before its data is where the policy promises.
//! * **Loading.** [`start_loading`] reads the manifest, then the base and incr files in
//!   order; the node replays each ([`Node`](crate::Node) runs the commands as Redis's
//!   fake AOF client). A single `appendonly.aof` in `dir` with no manifest is moved
//!   into the directory first, as Redis's upgrade does. Then, as
//!   aofOpenIfNeededOnServerStart, a base file is created if there is none, the last
//!   incr file (or a new one) is opened and the manifest written.

pub mod check;
pub mod info;
pub mod manifest;
pub mod parse;
pub mod rewrite;

use std::collections::{BTreeSet, VecDeque};

use bytes::Bytes;

use crate::config::AppendFsync;
use crate::db::Millis;
use crate::io::{ConnId, DiskData, DiskError, DiskOp, DiskOpId, LogLevel, Output};
use crate::server::Server;
use manifest::{AofFile, FileType, Manifest};
use parse::{End, Item};

/// Whether the AOF is written (Redis's aof_state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum State {
    #[default]
    Off,
    On,
    /// CONFIG SET appendonly yes: on once the first rewrite made a base.
    WaitRewrite,
}

/// What the request in flight for the incr file is.
#[derive(Debug, Clone)]
enum Write {
    /// The bytes are kept (shared) so a failed append can be tried again.
    Append {
        bytes: Bytes,
    },
    Fsync {
        upto: u64,
    },
}

/// Bytes for one incr file.
struct Segment {
    /// Path under `dir`.
    path: String,
    bytes: Vec<u8>,
    /// The file exists and the manifest names it: bytes may go there.
    ready: bool,
    /// Bytes appended to the file so far (aof_last_incr_size).
    written: u64,
}

impl Segment {
    fn new(path: String, ready: bool) -> Segment {
        Segment {
            path,
            bytes: Vec::new(),
            ready,
            written: 0,
        }
    }
}

/// What a chain of requests leads to once every one succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// The files are in place at start: the AOF is on.
    Opened,
    /// The single-file AOF was moved into the directory.
    Upgraded,
    /// A rewrite's new incr file exists (and the manifest names it).
    IncrReady,
    /// A rewrite's base is in place and the history removed.
    Rewritten,
}

/// Requests issued one at a time (create the directory, write a file, fsync,
/// rename...), with what follows when they all succeed.
struct Chain {
    ops: VecDeque<DiskOp>,
    in_flight: Option<DiskOpId>,
    then: Then,
    /// Logged (notice) once every request succeeded.
    logs: Vec<String>,
}

/// Which start-up read is in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LoadStep {
    /// With `appendonly no`: only the manifest, so a later rewrite numbers on.
    ManifestOnly,
    Manifest,
    OldFile,
    /// File `index` of the manifest's base-then-incr list.
    File {
        index: usize,
    },
}

/// A file read at start, for the node to replay.
pub struct LoadFile {
    pub name: String,
    pub bytes: Bytes,
    /// Redis says "base file" or "incr file" in its log lines.
    pub kind: FileType,
    index: usize,
}

/// How replaying one file went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replayed {
    Ok,
    /// The file ends inside a command (or an open MULTI): `valid_up_to` is where the
    /// last whole command ends.
    Truncated {
        valid_up_to: usize,
        in_multi: bool,
    },
    /// Loading stops; the lines are logged as warnings before the process exits.
    Failed(Vec<String>),
}

/// Why the node refused to replay a command.
pub enum Rejected {
    UnknownCommand(String),
    WrongArity(String),
}

/// AOF state and INFO persistence counters.
#[derive(Default)]
pub struct Aof {
    pub state: State,
    pub manifest: Manifest,
    /// Effects encoded and not yet handed to the disk (Redis's aof_buf), by the
    /// incr file they belong to: a rewrite starts a new file, and bytes from before
    /// it still go to the old one.
    segments: VecDeque<Segment>,
    selected_db: Option<usize>,
    /// The last `#TS:` annotation's Unix seconds.
    timestamp_secs: u64,
    /// Bytes ever put in `buf`, written by completed appends, covered by an fsync.
    accepted: u64,
    written: u64,
    synced: u64,
    write: Option<(DiskOpId, Write)>,
    /// Outputs waiting for `accepted` offsets to be written or synced.
    held: VecDeque<Held>,
    /// Whether released replies record the event that produced them (for the
    /// simulator, which checks each reply against the clock its command ran at).
    track_origins: bool,
    /// Replies released since the host last asked, with their events, in order.
    released_origins: Vec<ReplyOrigin>,
    /// Outputs released, to leave at the end of the event.
    released: Vec<Output>,
    /// A fatal error stopped the process (Redis's exit(1)): nothing held leaves.
    exiting: bool,
    chain: Option<Chain>,
    /// A rewrite's switch to a new incr file, waiting until every older file is
    /// written and fsynced: once the manifest names a newer incr file, a torn tail
    /// in an older one cannot be cut at load (found by the simulator, seed 169).
    switch_waiting: Option<Chain>,
    load: Option<(DiskOpId, LoadStep)>,
    stray_ops: BTreeSet<DiskOpId>,
    /// Unix seconds of the last fsync request (everysec issues one per second).
    last_fsync_secs: u64,
    /// INFO: aof_current_size, aof_base_size, aof_last_write_status.
    pub current_size: u64,
    pub base_size: u64,
    pub last_write_failed: bool,
    /// The failed write's error, as strerror words it (for -MISCONF).
    last_write_error: String,
    /// A write failed: the next try waits for serverCron (no retry storm).
    retry_on_cron: bool,
    /// The process is to stop: what is written is fsynced first, whatever the policy.
    stopping: bool,
    /// Total bytes of the files loaded at start.
    loaded_bytes: u64,
    rewrite: Option<rewrite::Rewrite>,
    /// BGREWRITEAOF during a save, or appendonly turned on: start when possible.
    pub rewrite_scheduled: bool,
    pub rewrites: u64,
    rewrite_failures: u64,
    last_rewrite_failed: bool,
    last_rewrite_secs: Option<u64>,
    cow_peak_bytes: usize,
    last_cow_bytes: usize,
    /// The manifest to restore if the rewrite's done step fails.
    manifest_before_rewrite: Option<Manifest>,
}

impl Aof {
    /// Whether `id` is one of the AOF's disk requests.
    pub fn owns(&self, id: DiskOpId) -> bool {
        self.write.as_ref().is_some_and(|(w, _)| *w == id)
            || self.chain.as_ref().is_some_and(|c| c.in_flight == Some(id))
            || self.load.as_ref().is_some_and(|(l, _)| *l == id)
            || self.stray_ops.contains(&id)
            || self.rewrite.as_ref().is_some_and(|r| r.owns(id))
    }

    /// Whether a chain of file work runs or a switch to a new incr file waits.
    pub(crate) fn switching(&self) -> bool {
        self.chain.is_some() || self.switch_waiting.is_some()
    }

    pub fn rewrite_in_progress(&self) -> bool {
        self.rewrite.is_some()
    }

    /// Whether a rewrite's snapshot wants a tick as soon as possible.
    pub fn wants_prompt_tick(&self) -> bool {
        self.rewrite.as_ref().is_some_and(|r| r.wants_prompt_tick())
    }

    /// Bytes in the buffer not yet handed to the disk (INFO aof_buffer_length).
    pub fn buffer_len(&self) -> usize {
        self.segments.iter().map(|s| s.bytes.len()).sum()
    }

    /// Whether an fsync is in flight (INFO aof_pending_bio_fsync).
    pub fn fsync_in_flight(&self) -> bool {
        matches!(self.write, Some((_, Write::Fsync { .. })))
    }

    /// What INFO says about rewrites.
    pub fn rewrite_info(&self, now: Millis) -> info::RewriteInfo {
        let secs = |s: Option<u64>| s.map_or(-1, |s| s as i64);
        let current = self
            .rewrite
            .as_ref()
            .map(|r| now.saturating_sub(r.started_at()) / 1000);
        info::RewriteInfo {
            in_progress: self.rewrite.is_some(),
            scheduled: self.rewrite_scheduled,
            last_time_secs: secs(self.last_rewrite_secs),
            current_time_secs: secs(current),
            last_failed: self.last_rewrite_failed,
            rewrites: self.rewrites,
            consecutive_failures: self.rewrite_failures,
            last_cow_bytes: self.last_cow_bytes,
        }
    }

    /// Whether the end of an event has anything to do.
    fn busy(&self) -> bool {
        self.state != State::Off
            || !self.held.is_empty()
            || !self.released.is_empty()
            || !self.segments.is_empty()
    }
}

fn log(srv: &Server, outputs: &mut VecDeque<Output>, level: LogLevel, line: String) {
    if level >= srv.config.loglevel {
        outputs.push_back(Output::Log { level, line });
    }
}

/// `appenddirname/name`: AOF files live in the directory, paths relative to `dir`.
fn in_dir(srv: &Server, name: &str) -> String {
    format!("{}/{name}", srv.config.appenddirname)
}

fn manifest_name(srv: &Server) -> String {
    format!("{}.manifest", srv.config.appendfilename)
}

/// Logs why the start failed and stops the process, as Redis's exit(1).
fn fatal(srv: &mut Server, outputs: &mut VecDeque<Output>, lines: Vec<String>) {
    for line in lines {
        log(srv, outputs, LogLevel::Warning, line);
    }
    srv.aof.load = None;
    srv.aof.chain = None;
    srv.aof.switch_waiting = None;
    srv.aof.exiting = true;
    outputs.push_back(Output::Stop { code: 1 });
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/// An output waiting for the AOF bytes that were accepted before it.
#[derive(Debug)]
struct Held {
    /// The `accepted` offset that must be written (or synced) first.
    needs: u64,
    output: Output,
    /// The event that produced it: its number (`Node::events_handled`) and clock.
    event: u64,
    now: Millis,
}

/// Which event produced a reply that the AOF held and released later: a host that
/// checks replies against the clock their commands ran at (the simulator) needs it,
/// since the reply leaves in a later event. Per connection, released replies leave
/// before that connection's replies of the current event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyOrigin {
    pub conn: ConnId,
    pub event: u64,
    pub now: Millis,
}

impl Aof {
    /// Starts recording [`ReplyOrigin`]s for released replies.
    pub(crate) fn track_origins(&mut self) {
        self.track_origins = true;
    }

    /// The origins recorded since the last call.
    pub(crate) fn take_origins(&mut self) -> Vec<ReplyOrigin> {
        std::mem::take(&mut self.released_origins)
    }
}

/// The end of an event: the event's effects join the buffer, the buffer goes to
/// the disk, and outputs produced since `mark` wait if the bytes they depend on
/// are not yet where the fsync policy promises.
pub fn after_event(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    mark: usize,
    now: Millis,
    event: u64,
) {
    if !srv.aof.busy() {
        return;
    }
    let feeding = match srv.aof.state {
        State::On => true,
        // Before the rewrite starts its snapshot has every write anyway.
        State::WaitRewrite => srv.aof.rewrite.is_some(),
        State::Off => false,
    };
    if feeding {
        feed_effects(srv, now);
    } else if srv.aof.state != State::Off {
        srv.effects.clear();
    }
    hold_outputs(srv, outputs, mark, event, now);
    if srv.aof.stopping && srv.aof.rewrite.is_some() {
        let line = "There is a child rewriting the AOF. Killing it!";
        log(srv, outputs, LogLevel::Warning, line.into());
        rewrite::kill(srv, outputs);
    }
    pump(srv, outputs, now);
    release(srv);
    outputs.extend(srv.aof.released.drain(..));
}

/// Encodes the outbox of effects as Redis's feedAppendOnlyFile does.
fn feed_effects(srv: &mut Server, now: Millis) {
    let effects = std::mem::take(&mut srv.effects);
    if effects.is_empty() {
        return;
    }
    let timestamps = srv.config.aof_timestamp_enabled;
    let aof = &mut srv.aof;
    let Some(segment) = aof.segments.back_mut() else {
        return;
    };
    let buf = &mut segment.bytes;
    let before = buf.len();
    for effect in effects {
        if timestamps && now / 1000 > aof.timestamp_secs {
            aof.timestamp_secs = now / 1000;
            buf.extend_from_slice(format!("#TS:{}\r\n", aof.timestamp_secs).as_bytes());
        }
        if aof.selected_db != Some(effect.db) {
            let db = Bytes::from(effect.db.to_string());
            parse::encode_command(buf, &[Bytes::from_static(b"SELECT"), db]);
            aof.selected_db = Some(effect.db);
        }
        parse::encode_command(buf, &effect.argv);
    }
    aof.accepted += (buf.len() - before) as u64;
}

/// The offset that outputs may leave at under the fsync policy.
/// While writes fail (not under `always`, where that is fatal) replies go out as
/// Redis sends them, and writes get -MISCONF.
fn released_upto(srv: &Server) -> u64 {
    match srv.config.appendfsync {
        AppendFsync::Always if srv.planted.is(crate::planted::Bug::ReplyBeforeFsync) => {
            srv.aof.written
        }
        AppendFsync::Always => srv.aof.synced,
        _ if srv.aof.last_write_failed => srv.aof.accepted,
        _ => srv.aof.written,
    }
}

/// Moves outputs produced since `mark` behind the bytes they depend on, or lets
/// them (and outputs released earlier) leave now.
fn hold_outputs(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    mark: usize,
    event: u64,
    now: Millis,
) {
    if srv.aof.exiting {
        // Redis exits at once: replies waiting for bytes that never reached the
        // disk are never sent, and the stop does not wait behind the failed write
        // (it used to, forever; found by the simulator, seed 190).
        srv.aof.held.clear();
        srv.aof.released.clear();
        let produced: Vec<Output> = outputs.drain(mark.min(outputs.len())..).collect();
        outputs.extend(
            produced
                .into_iter()
                .filter(|o| !matches!(o, Output::Send { .. } | Output::Close { .. })),
        );
        return;
    }
    let upto = released_upto(srv);
    let aof = &mut srv.aof;
    let stop_seen = || {
        outputs
            .iter()
            .skip(mark)
            .any(|o| matches!(o, Output::Stop { .. }))
    };
    if aof.held.is_empty() && aof.released.is_empty() && aof.accepted <= upto && !stop_seen() {
        return;
    }
    let produced: Vec<Output> = outputs.drain(mark.min(outputs.len())..).collect();
    outputs.extend(aof.released.drain(..));
    for output in produced {
        let stop = matches!(output, Output::Stop { .. });
        if stop && aof.state != State::Off && !aof.stopping {
            aof.stopping = true;
            outputs.push_back(Output::Log {
                level: LogLevel::Notice,
                line: "Calling fsync() on the AOF file.".into(),
            });
        }
        let waits = (stop && aof.stopping)
            || matches!(output, Output::Send { .. } | Output::Close { .. })
                && (!aof.held.is_empty() || aof.accepted > upto);
        if waits {
            aof.held.push_back(Held {
                needs: aof.accepted,
                output,
                event,
                now,
            });
        } else {
            outputs.push_back(output);
        }
    }
}

/// Releases held outputs whose bytes are now written or synced.
fn release(srv: &mut Server) {
    let upto = released_upto(srv);
    let aof = &mut srv.aof;
    while let Some(held) = aof.held.front() {
        let ready = match held.output {
            // Stop waits for the fsync (finishShutdown), unless writing failed.
            Output::Stop { .. } => aof.last_write_failed || held.needs <= aof.synced,
            _ => held.needs <= upto,
        };
        if !ready {
            return;
        }
        if let Some(held) = aof.held.pop_front() {
            if let (true, Output::Send { conn, .. }) = (aof.track_origins, &held.output) {
                aof.released_origins.push(ReplyOrigin {
                    conn: *conn,
                    event: held.event,
                    now: held.now,
                });
            }
            aof.released.push(held.output);
        }
    }
}

/// Issues the next request for the incr files: the oldest segment's bytes, else
/// an fsync the policy wants; a finished segment (an old file after a rewrite
/// started) is fsynced, then dropped, and then a waiting switch to the new file
/// starts. One request at a time, and none while a chain (a manifest switch) runs.
fn pump(srv: &mut Server, outputs: &mut VecDeque<Output>, now: Millis) {
    loop {
        let aof = &mut srv.aof;
        if aof.write.is_some() || aof.chain.is_some() {
            return;
        }
        // A finished file: an old one after a switch, or the last when turned off.
        let more = aof.segments.len() > 1 || aof.state == State::Off;
        let Some(front) = aof.segments.front_mut().filter(|s| s.ready) else {
            // No older file to finish (AOF being turned on): the switch may start.
            return start_waiting_switch(srv, outputs, now);
        };
        let path = front.path.clone();
        let (op, write) = if !front.bytes.is_empty() && !aof.retry_on_cron {
            let bytes = Bytes::from(std::mem::take(&mut front.bytes));
            let write = Write::Append {
                bytes: bytes.clone(),
            };
            (DiskOp::Append { path, bytes }, write)
        } else if fsync_due(srv, now, more) {
            srv.aof.last_fsync_secs = now / 1000;
            (
                DiskOp::Fsync { path },
                Write::Fsync {
                    upto: srv.aof.written,
                },
            )
        } else if more && srv.aof.segments.get(1).is_some_and(|s| !s.ready) {
            // The old file is written and fsynced: the switch to the new one may
            // start. The old segment stays until it is done (a failed switch
            // sends the new file's bytes back to it).
            return start_waiting_switch(srv, outputs, now);
        } else if more {
            srv.aof.segments.pop_front();
            continue;
        } else {
            return;
        };
        let id = srv.next_disk_op_id();
        srv.aof.write = Some((id, write));
        outputs.push_back(Output::Disk { id, op });
        return;
    }
}

/// Starts the switch to a new incr file that waited for the older files.
fn start_waiting_switch(srv: &mut Server, outputs: &mut VecDeque<Output>, now: Millis) {
    if let Some(chain) = srv.aof.switch_waiting.take() {
        srv.aof.chain = Some(chain);
        chain_next(srv, outputs, now);
    }
}

/// Whether the written bytes want an fsync now; `closing` the file they went to.
fn fsync_due(srv: &Server, now: Millis, closing: bool) -> bool {
    let aof = &srv.aof;
    if aof.written <= aof.synced {
        return false;
    }
    if aof.stopping {
        return true;
    }
    match srv.config.appendfsync {
        AppendFsync::Always => true,
        AppendFsync::Everysec => closing || now / 1000 > aof.last_fsync_secs,
        // A file that is closing is fsynced whatever the policy, before the
        // manifest moves on to a newer one.
        AppendFsync::No => closing,
    }
}

fn on_write_done(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    write: Write,
    result: Result<DiskData, DiskError>,
) {
    let always = srv.config.appendfsync == AppendFsync::Always;
    match (write, result) {
        (Write::Append { bytes }, Ok(_)) => {
            let len = bytes.len() as u64;
            let aof = &mut srv.aof;
            if let Some(front) = aof.segments.front_mut() {
                front.written += len;
            }
            aof.written += len;
            aof.current_size += len;
            if aof.last_write_failed {
                aof.last_write_failed = false;
                log(
                    srv,
                    outputs,
                    LogLevel::Warning,
                    "AOF write error looks solved, Redis can write again.".into(),
                );
            }
        }
        (Write::Fsync { upto }, Ok(_)) => srv.aof.synced = srv.aof.synced.max(upto),
        (Write::Append { .. }, Err(e)) if always => {
            return fatal(srv, outputs, vec![
                format!("Error writing to the AOF file: {}", e.message),
                "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...".into(),
            ]);
        }
        (Write::Fsync { .. }, Err(e)) if always => {
            return fatal(srv, outputs, vec![format!(
                "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}. Exiting...",
                e.message
            )]);
        }
        (Write::Append { bytes }, Err(e)) => {
            // The bytes go back in front of the buffer and are tried again.
            if let Some(front) = srv.aof.segments.front_mut() {
                let mut again = bytes.to_vec();
                again.append(&mut front.bytes);
                front.bytes = again;
            }
            srv.aof.last_write_failed = true;
            srv.aof.retry_on_cron = true;
            srv.aof.last_write_error = strerror(&e.message);
            log(
                srv,
                outputs,
                LogLevel::Warning,
                format!(
                    "Error writing to the AOF file: {}",
                    srv.aof.last_write_error
                ),
            );
            release(srv);
            return;
        }
        (Write::Fsync { .. }, Err(e)) => {
            srv.aof.last_write_failed = true;
            srv.aof.last_write_error = strerror(&e.message);
            log(
                srv,
                outputs,
                LogLevel::Warning,
                format!("Fsync failed on the AOF file: {}", e.message),
            );
        }
    }
    release(srv);
    if srv
        .aof
        .chain
        .as_ref()
        .is_some_and(|c| c.in_flight.is_none())
    {
        chain_next(srv, outputs, now);
    }
    pump(srv, outputs, now);
}

/// A runtime error as C's strerror words it: without Rust's " (os error N)".
fn strerror(message: &str) -> String {
    match message.rfind(" (os error ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// Why writes are refused (writeCommandsDeniedByDiskError): the AOF is on and its
/// last write or fsync failed.
pub fn write_error(srv: &Server) -> Option<&str> {
    let aof = &srv.aof;
    (aof.state != State::Off && aof.last_write_failed).then_some(aof.last_write_error.as_str())
}

/// serverCron's part: an everysec fsync when writes stopped, a failed write retried.
pub fn cron(srv: &mut Server, outputs: &mut VecDeque<Output>, now: Millis) {
    srv.aof.retry_on_cron = false;
    pump(srv, outputs, now);
    rewrite::cron(srv, outputs, now);
}

/// Every tick: a running rewrite takes its next step.
pub fn tick(srv: &mut Server, outputs: &mut VecDeque<Output>, now: Millis) {
    rewrite::tick(srv, outputs, now);
}

// ---------------------------------------------------------------------------
// Disk completions
// ---------------------------------------------------------------------------

/// What a finished AOF request asks of the node.
pub enum DiskOutcome {
    Nothing,
    /// Replay this file, then call [`file_replayed`].
    Replay(LoadFile),
}

/// Routes the result of one of the AOF's requests.
pub fn on_disk_done(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    id: DiskOpId,
    result: Result<DiskData, DiskError>,
) -> DiskOutcome {
    if srv.aof.stray_ops.remove(&id) {
        return DiskOutcome::Nothing;
    }
    if srv.aof.write.as_ref().is_some_and(|(w, _)| *w == id) {
        if let Some((_, write)) = srv.aof.write.take() {
            on_write_done(srv, outputs, now, write, result);
        }
        return DiskOutcome::Nothing;
    }
    if srv.aof.rewrite.as_ref().is_some_and(|r| r.owns(id)) {
        return rewrite::on_disk_done(srv, outputs, now, result);
    }
    if srv
        .aof
        .chain
        .as_ref()
        .is_some_and(|c| c.in_flight == Some(id))
    {
        on_chain_step(srv, outputs, now, result);
        return DiskOutcome::Nothing;
    }
    match srv.aof.load.take() {
        Some((l, step)) if l == id => on_load_read(srv, outputs, now, step, result),
        other => {
            srv.aof.load = other;
            DiskOutcome::Nothing
        }
    }
}

// ---------------------------------------------------------------------------
// Chains of requests
// ---------------------------------------------------------------------------

fn start_chain(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    ops: Vec<DiskOp>,
    then: Then,
    logs: Vec<String>,
) {
    let chain = Chain {
        ops: ops.into(),
        in_flight: None,
        then,
        logs,
    };
    if then == Then::IncrReady {
        // The new file's segment is the last one; the older ones go first.
        srv.aof.switch_waiting = Some(chain);
        return pump(srv, outputs, now);
    }
    srv.aof.chain = Some(chain);
    // After the write in flight: the chain may switch the file it goes to.
    if srv.aof.write.is_none() {
        chain_next(srv, outputs, now);
    }
}

fn chain_next(srv: &mut Server, outputs: &mut VecDeque<Output>, now: Millis) {
    let next = srv.aof.chain.as_mut().and_then(|c| c.ops.pop_front());
    match next {
        Some(op) => {
            let id = srv.next_disk_op_id();
            if let Some(chain) = srv.aof.chain.as_mut() {
                chain.in_flight = Some(id);
            }
            outputs.push_back(Output::Disk { id, op });
        }
        None => {
            if let Some(chain) = srv.aof.chain.take() {
                for line in chain.logs {
                    log(srv, outputs, LogLevel::Notice, line);
                }
                chain_done(srv, outputs, now, chain.then);
            }
        }
    }
}

fn on_chain_step(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    result: Result<DiskData, DiskError>,
) {
    if let Some(chain) = srv.aof.chain.as_mut() {
        chain.in_flight = None;
    }
    match result {
        Ok(_) => chain_next(srv, outputs, now),
        Err(e) => {
            let then = srv.aof.chain.as_ref().map(|c| c.then);
            if let Some(then @ (Then::IncrReady | Then::Rewritten)) = then {
                return rewrite_chain_failed(srv, outputs, now, then, &e.message);
            }
            let line = match then {
                Some(Then::Upgraded) => {
                    format!(
                        "Error trying to move the old AOF file into dir: {}",
                        e.message
                    )
                }
                _ => format!("Can't open or create the append-only files: {}", e.message),
            };
            fatal(srv, outputs, vec![line]);
        }
    }
}

fn chain_done(srv: &mut Server, outputs: &mut VecDeque<Output>, now: Millis, then: Then) {
    match then {
        Then::Upgraded => read_next_file(srv, outputs, now, 0),
        Then::Opened => {
            if let Some(path) = srv.aof.manifest.last_incr().map(|name| in_dir(srv, name)) {
                srv.aof.segments.push_back(Segment::new(path, true));
            }
            srv.aof.state = State::On;
            srv.effects.clear();
            srv.propagation.enabled = true;
            srv.persist.loading = false;
            pump(srv, outputs, now);
        }
        Then::IncrReady => {
            for segment in &mut srv.aof.segments {
                segment.ready = true;
            }
            pump(srv, outputs, now);
            rewrite::tick(srv, outputs, now);
        }
        Then::Rewritten => {
            rewrite::finished(srv, now);
            pump(srv, outputs, now);
        }
    }
}

/// A step of a rewrite's file work failed: the rewrite fails; bytes meant for a
/// new incr file that never became ready go back to the file before it.
fn rewrite_chain_failed(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    then: Then,
    message: &str,
) {
    srv.aof.chain = None;
    if then == Then::IncrReady {
        if srv.aof.state == State::On {
            srv.aof.manifest.incrs.pop();
            srv.aof.manifest.incr_seq -= 1;
        }
        let unready = srv.aof.segments.back().is_some_and(|s| !s.ready);
        if unready {
            if let Some(last) = srv.aof.segments.pop_back() {
                if let Some(prev) = srv.aof.segments.back_mut() {
                    prev.bytes.extend_from_slice(&last.bytes);
                }
            }
        }
    }
    let line = format!("Can't rewrite append only file in background: {message}");
    log(srv, outputs, LogLevel::Warning, line);
    rewrite::fail(srv, outputs, "Background AOF rewrite terminated with error");
    pump(srv, outputs, now);
}

/// Write `contents` to `temp` (under `dir`), fsync it and rename it over `target`.
fn write_file_ops(temp: String, target: String, contents: Bytes) -> Vec<DiskOp> {
    vec![
        DiskOp::Write {
            path: temp.clone(),
            bytes: contents,
        },
        DiskOp::Fsync { path: temp.clone() },
        DiskOp::Rename {
            from: temp,
            to: target,
        },
    ]
}

/// The requests that persist a manifest's `text` (writeAofManifestFile).
fn manifest_ops(srv: &Server, text: String) -> Vec<DiskOp> {
    let temp = in_dir(srv, &format!("temp-{}", manifest_name(srv)));
    let target = in_dir(srv, &manifest_name(srv));
    write_file_ops(temp, target, Bytes::from(text))
}

// ---------------------------------------------------------------------------
// Loading at start
// ---------------------------------------------------------------------------

/// Starts loading the AOF (appendonly yes): commands get -LOADING until the files
/// are loaded and the incr file is open.
pub fn start_loading(srv: &mut Server, outputs: &mut VecDeque<Output>) {
    srv.persist.loading = true;
    let path = in_dir(srv, &manifest_name(srv));
    issue_read(srv, outputs, path, LoadStep::Manifest);
}

/// With `appendonly no` Redis still reads the manifest at start
/// (aofLoadManifestFromDisk), so a later BGREWRITEAOF or `CONFIG SET appendonly
/// yes` numbers its files after the existing ones; a bad manifest stops the start.
pub fn read_manifest(srv: &mut Server, outputs: &mut VecDeque<Output>) {
    let path = in_dir(srv, &manifest_name(srv));
    issue_read(srv, outputs, path, LoadStep::ManifestOnly);
}

fn issue_read(srv: &mut Server, outputs: &mut VecDeque<Output>, path: String, step: LoadStep) {
    let id = srv.next_disk_op_id();
    srv.aof.load = Some((id, step));
    outputs.push_back(Output::Disk {
        id,
        op: DiskOp::Read { path },
    });
}

fn on_load_read(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    step: LoadStep,
    result: Result<DiskData, DiskError>,
) -> DiskOutcome {
    let contents = match result {
        Ok(DiskData::Contents(bytes)) => Some(bytes),
        Ok(_) => None,
        Err(e) => {
            let what = match &step {
                LoadStep::Manifest | LoadStep::ManifestOnly => format!(
                    "Fatal error: can't open the AOF manifest file {} for reading: {}",
                    manifest_name(srv),
                    e.message
                ),
                _ => format!(
                    "Fatal error: can't open the append log file for reading: {}",
                    e.message
                ),
            };
            fatal(srv, outputs, vec![what]);
            return DiskOutcome::Nothing;
        }
    };
    match (step, contents) {
        (LoadStep::ManifestOnly, Some(bytes)) => match Manifest::parse(&bytes) {
            Ok(manifest) => srv.aof.manifest = manifest,
            Err(e) => fatal(srv, outputs, e.log_lines()),
        },
        (LoadStep::ManifestOnly, None) => {}
        (LoadStep::Manifest, Some(bytes)) => match Manifest::parse(&bytes) {
            Ok(manifest) => {
                srv.aof.manifest = manifest;
                read_next_file(srv, outputs, now, 0);
            }
            Err(e) => fatal(srv, outputs, e.log_lines()),
        },
        (LoadStep::Manifest, None) => {
            let path = srv.config.appendfilename.clone();
            issue_read(srv, outputs, path, LoadStep::OldFile);
        }
        (LoadStep::OldFile, Some(_)) => upgrade_old_file(srv, outputs, now),
        (LoadStep::OldFile, None) => open_after_loading(srv, outputs, now),
        (LoadStep::File { index }, Some(bytes)) => {
            let files = srv.aof.manifest.files_to_load();
            let Some(file) = files.get(index) else {
                return DiskOutcome::Nothing;
            };
            srv.aof.loaded_bytes += bytes.len() as u64;
            return DiskOutcome::Replay(LoadFile {
                name: file.name.clone(),
                bytes,
                kind: file.kind,
                index,
            });
        }
        (LoadStep::File { index }, None) => {
            let name = srv
                .aof
                .manifest
                .files_to_load()
                .get(index)
                .map(|f| f.name.clone())
                .unwrap_or_default();
            fatal(
                srv,
                outputs,
                vec![format!(
                    "Unable to obtain the AOF file {name} length. stat: No such file or directory"
                )],
            );
        }
    }
    DiskOutcome::Nothing
}

/// aofUpgradePrepare: a single-file AOF in `dir` becomes the base of a new
/// directory's manifest, and is moved there.
fn upgrade_old_file(srv: &mut Server, outputs: &mut VecDeque<Output>, now: Millis) {
    let name = srv.config.appendfilename.clone();
    srv.aof.manifest = Manifest {
        base: Some(AofFile {
            name: name.clone(),
            seq: 1,
            kind: FileType::Base,
        }),
        base_seq: 1,
        ..Manifest::default()
    };
    let mut ops = vec![DiskOp::CreateDir {
        path: srv.config.appenddirname.clone(),
    }];
    ops.extend(manifest_ops(srv, srv.aof.manifest.format()));
    ops.push(DiskOp::Rename {
        from: name.clone(),
        to: in_dir(srv, &name),
    });
    let line = format!(
        "Successfully migrated an old-style AOF file ({name}) into the AOF directory ({}).",
        srv.config.appenddirname
    );
    start_chain(srv, outputs, now, ops, Then::Upgraded, vec![line]);
}

fn read_next_file(srv: &mut Server, outputs: &mut VecDeque<Output>, now: Millis, index: usize) {
    let files = srv.aof.manifest.files_to_load();
    match files.get(index) {
        Some(file) => {
            let path = in_dir(srv, &file.name);
            issue_read(srv, outputs, path, LoadStep::File { index });
        }
        None => {
            if srv.aof.loaded_bytes > 0 {
                log(
                    srv,
                    outputs,
                    LogLevel::Notice,
                    "DB loaded from append only file: 0.000 seconds".into(),
                );
            }
            open_after_loading(srv, outputs, now);
        }
    }
}

/// Loads an RDB preamble (a base file, or an old single file that starts with
/// one); returns where the command stream starts.
pub fn load_preamble(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    file: &LoadFile,
    now: Millis,
) -> Result<usize, Replayed> {
    if !file.bytes.starts_with(b"REDIS") {
        return Ok(0);
    }
    let old_style = file.name == srv.config.appendfilename;
    let line = if old_style {
        "Reading RDB preamble from AOF file..."
    } else {
        "Reading RDB base file on AOF loading..."
    };
    log(srv, outputs, LogLevel::Notice, line.into());
    match crate::persist::load_rdb(srv, &file.bytes, now) {
        Ok((_, _, end)) => {
            if old_style {
                log(
                    srv,
                    outputs,
                    LogLevel::Notice,
                    "Reading the remaining AOF tail...".into(),
                );
            }
            Ok(end)
        }
        Err(message) => {
            let aborted = if old_style {
                format!(
                    "Error reading the RDB preamble of the AOF file {}, AOF loading aborted",
                    file.name
                )
            } else {
                format!(
                    "Error reading the RDB base file {}, AOF loading aborted",
                    file.name
                )
            };
            Err(Replayed::Failed(vec![message, aborted]))
        }
    }
}

/// Replays the command stream of `bytes` from `start`, running each command with
/// `run`; reports how the file ended.
pub fn replay_commands(
    name: &str,
    bytes: &Bytes,
    start: usize,
    run: &mut dyn FnMut(Vec<Bytes>) -> Result<(), Rejected>,
) -> Replayed {
    let mut reader = parse::Reader::new(bytes, start);
    loop {
        match reader.next_item() {
            Item::Command { args, .. } => match run(args) {
                Ok(()) => {}
                Err(Rejected::UnknownCommand(cmd)) => {
                    return Replayed::Failed(vec![format!(
                        "Unknown command '{cmd}' reading the append only file {name}"
                    )]);
                }
                Err(Rejected::WrongArity(cmd)) => {
                    return Replayed::Failed(vec![format!(
                        "Wrong number of arguments for '{cmd}' reading the append only file {name}"
                    )]);
                }
            },
            Item::End(End::Clean) => return Replayed::Ok,
            Item::End(End::Truncated {
                valid_up_to,
                in_multi,
            }) => {
                return Replayed::Truncated {
                    valid_up_to,
                    in_multi,
                }
            }
            Item::End(End::BadFormat { .. }) => {
                return Replayed::Failed(vec![format!(
                    "Bad file format reading the append only file {name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"
                )]);
            }
        }
    }
}

/// The node replayed `file`: log it, cut a torn tail when allowed, read the next.
pub fn file_replayed(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    file: LoadFile,
    outcome: Replayed,
) {
    let total = srv.aof.manifest.files_to_load().len();
    let last = file.index + 1 == total;
    let kind = if file.kind == FileType::Base {
        "base"
    } else {
        "incr"
    };
    match outcome {
        Replayed::Ok => {}
        Replayed::Failed(lines) => return fatal(srv, outputs, lines),
        Replayed::Truncated {
            valid_up_to,
            in_multi,
        } => {
            if !truncate_torn_tail(srv, outputs, &file, valid_up_to, in_multi, last) {
                return;
            }
        }
    }
    log(
        srv,
        outputs,
        LogLevel::Notice,
        format!("DB loaded from {kind} file {}: 0.000 seconds", file.name),
    );
    if file.kind == FileType::Base {
        srv.aof.base_size = file.bytes.len() as u64;
    }
    read_next_file(srv, outputs, now, file.index + 1);
}

/// `aof-load-truncated`: a torn last file is cut after its last whole command and
/// loading goes on; otherwise (or for a file that is not the last) loading fails.
fn truncate_torn_tail(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    file: &LoadFile,
    valid_up_to: usize,
    in_multi: bool,
    last: bool,
) -> bool {
    let name = &file.name;
    let mut lines = Vec::new();
    if in_multi {
        lines.push(format!(
            "Revert incomplete MULTI/EXEC transaction in AOF file {name}"
        ));
    }
    if !srv.config.aof_load_truncated {
        lines.push(format!("Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."));
        fatal(srv, outputs, lines);
        return false;
    }
    lines.push(format!(
        "!!! Warning: short read while loading the AOF file {name}!!!"
    ));
    lines.push(format!(
        "!!! Truncating the AOF {name} at offset {valid_up_to} !!!"
    ));
    lines.push(format!(
        "AOF {name} loaded anyway because aof-load-truncated is enabled"
    ));
    if !last {
        lines.push("Fatal error: the truncated file is not the last file".into());
        fatal(srv, outputs, lines);
        return false;
    }
    for line in lines {
        log(srv, outputs, LogLevel::Warning, line);
    }
    if srv.planted.is(crate::planted::Bug::AofKeepsTornTail) {
        return true;
    }
    let id = srv.next_disk_op_id();
    srv.aof.stray_ops.insert(id);
    srv.aof.loaded_bytes -= (file.bytes.len() - valid_up_to) as u64;
    outputs.push_back(Output::Disk {
        id,
        op: DiskOp::Truncate {
            path: in_dir(srv, name),
            len: valid_up_to as u64,
        },
    });
    true
}

/// aofOpenIfNeededOnServerStart: create a base when there is none (an empty start),
/// open the last incr file or a new one, and persist the manifest.
fn open_after_loading(srv: &mut Server, outputs: &mut VecDeque<Output>, now: Millis) {
    let mut ops = vec![DiskOp::CreateDir {
        path: srv.config.appenddirname.clone(),
    }];
    let mut logs = Vec::new();
    let mut dirty = false;
    if srv.aof.manifest.base.is_none() && srv.aof.manifest.incrs.is_empty() {
        let preamble = srv.config.aof_use_rdb_preamble;
        let name = srv
            .aof
            .manifest
            .new_base(&srv.config.appendfilename, preamble);
        let temp = format!("temp-rewriteaof-{}.aof", srv.host.process_id);
        let base = empty_base_contents(srv, now);
        ops.extend(write_file_ops(temp, in_dir(srv, &name), base));
        logs.push(format!("Creating AOF base file {name} on server start"));
        dirty = true;
    }
    let (incr, created) = match srv.aof.manifest.last_incr() {
        Some(name) => {
            logs.push(format!("Opening AOF incr file {name} on server start"));
            (name.to_owned(), false)
        }
        None => {
            let name = srv.aof.manifest.new_incr(&srv.config.appendfilename);
            logs.push(format!("Creating AOF incr file {name} on server start"));
            dirty = true;
            (name, true)
        }
    };
    ops.push(DiskOp::Append {
        path: in_dir(srv, &incr),
        bytes: Bytes::new(),
    });
    if created {
        ops.push(created_file_sync(srv, &incr));
    }
    // aofDelHistoryFiles: history left by a rewrite that crashed before its cleanup.
    for file in std::mem::take(&mut srv.aof.manifest.history) {
        logs.push(format!(
            "Removing the history file {} in the background",
            file.name
        ));
        ops.push(DiskOp::Remove {
            path: in_dir(srv, &file.name),
        });
        dirty = true;
    }
    if dirty {
        ops.extend(manifest_ops(srv, srv.aof.manifest.format()));
    }
    srv.aof.current_size = srv.aof.loaded_bytes;
    start_chain(srv, outputs, now, ops, Then::Opened, logs);
}

/// Makes a newly created (empty) incr file durable before a manifest names it. Redis
/// 7.0 does not, so after a power loss its manifest can name an incr file that is
/// gone and the start fails ("Unable to obtain the AOF file ... length"); one fsync
/// per new file is cheap (found by the simulator, whose disk drops unsynced files).
pub(crate) fn created_file_sync(srv: &Server, name: &str) -> DiskOp {
    DiskOp::Fsync {
        path: in_dir(srv, name),
    }
}

/// The base file created at an empty start: an RDB of the (empty) keyspace with
/// `aof-base`, or with `aof-use-rdb-preamble no` an AOF holding at most the
/// timestamp annotation (there are no keys to write as commands).
fn empty_base_contents(srv: &mut Server, now: Millis) -> Bytes {
    if !srv.config.aof_use_rdb_preamble {
        let mut out = Vec::new();
        if srv.config.aof_timestamp_enabled {
            out.extend_from_slice(format!("#TS:{}\r\n", now / 1000).as_bytes());
        }
        return Bytes::from(out);
    }
    let mut opts = crate::persist::snapshot_options(srv, now);
    opts.aof_base = true;
    let snap = crate::persist::snapshot::Snapshot::start(&mut srv.dbs, &opts);
    Bytes::from(snap.run_to_end(&mut srv.dbs))
}
#[cfg(test)]
mod tests;

/// CONFIG SET appendonly: Redis's startAppendOnly (the AOF waits for a rewrite to
/// make its first base) and stopAppendOnly (what is buffered is still written and
/// fsynced, a running rewrite is killed).
pub fn set_appendonly(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    on: bool,
    in_exec: bool,
) -> Result<(), String> {
    match (on, srv.aof.state) {
        (false, State::Off) | (true, State::On | State::WaitRewrite) => {}
        (false, _) => {
            srv.aof.state = State::Off;
            srv.aof.rewrite_scheduled = false;
            srv.aof.selected_db = None;
            srv.propagation.enabled = false;
            rewrite::kill(srv, outputs);
            pump(srv, outputs, now);
        }
        (true, State::Off) => start_append_only(srv, outputs, now, in_exec),
    }
    Ok(())
}

fn start_append_only(srv: &mut Server, outputs: &mut VecDeque<Output>, now: Millis, in_exec: bool) {
    srv.aof.state = State::WaitRewrite;
    srv.aof.selected_db = None;
    srv.aof.last_fsync_secs = now / 1000;
    srv.propagation.enabled = true;
    srv.effects.clear();
    let scheduled = if srv.persist.save_in_progress() || srv.aof.switching() {
        Some("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.")
    } else if in_exec {
        Some("AOF was enabled during a transaction. An AOF background was scheduled to start when possible.")
    } else {
        None
    };
    if let Some(line) = scheduled {
        srv.aof.rewrite_scheduled = true;
        return log(srv, outputs, LogLevel::Warning, line.into());
    }
    if srv.aof.rewrite.is_some() {
        log(srv, outputs, LogLevel::Warning, "AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.".into());
        rewrite::kill(srv, outputs);
    }
    rewrite::start(srv, outputs, now);
}
