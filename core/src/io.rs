//! The core's inputs and outputs: plain data exchanged with a runtime (tokio) or the
//! simulator. The core never performs I/O itself; it asks for it with an [`Output`]
//! and learns the outcome through a later [`Input`].

use bytes::Bytes;

/// Identifies one connection for its whole life. Chosen by the core for outgoing
/// connections and by the runtime for accepted ones; never reused within a run.
pub type ConnId = u64;

/// The unwritten output at which the runtime starts reporting
/// [`Input::OutputBacklog`]; below it, output buffers are too small to matter.
pub const OUTPUT_BACKLOG_REPORT_BYTES: u64 = 64 * 1024;

/// Identifies one disk request so its completion can be matched to it.
pub type DiskOpId = u64;

/// Something that happened outside the core.
#[derive(Debug, Clone)]
pub enum Input {
    /// A client connected. `peer` and `local` are `ip:port` strings as CLIENT LIST shows them.
    Accepted {
        conn: ConnId,
        peer: String,
        local: String,
    },
    /// Bytes arrived on a connection, in order.
    Received { conn: ConnId, bytes: Bytes },
    /// The peer closed the connection or it broke; the core forgets it.
    Closed { conn: ConnId },
    /// An outgoing connection asked for with [`Output::Connect`] is established.
    Connected { conn: ConnId },
    /// An outgoing connection could not be established.
    ConnectFailed { conn: ConnId, error: String },
    /// A disk request finished (or failed).
    DiskDone {
        id: DiskOpId,
        result: Result<DiskData, DiskError>,
    },
    /// Time passed; the core runs whatever timers are due at `now`.
    Tick,
    /// `bytes` of output sent to `conn` are not yet written to its socket. The
    /// runtime reports this when the backlog reaches [`OUTPUT_BACKLOG_REPORT_BYTES`]
    /// (each time it grows or shrinks there) and once when it falls back below, so
    /// the core can enforce `client-output-buffer-limit` on clients that read too
    /// slowly.
    OutputBacklog { conn: ConnId, bytes: u64 },
    /// The process received a signal asking it to stop.
    Signal(Signal),
}

/// What the core and the host exchange while a script runs past
/// `busy-reply-threshold` (see [`crate::config::BusyPollHook`]).
#[derive(Debug, Default)]
pub struct BusyIo {
    /// False: the core only wants the clock. True: the host performs `outputs` at
    /// once without blocking, then fills `inputs` with what arrived meanwhile
    /// (only `Accepted`, `Received` and `Closed`; everything else waits for the
    /// script to end).
    pub exchange: bool,
    /// The script's caller: the host does not read it (Redis's protectClient), so
    /// what it sends stays in its socket, bounded by the kernel, until the
    /// script ends.
    pub protected: Option<ConnId>,
    pub outputs: std::collections::VecDeque<Output>,
    pub inputs: Vec<Input>,
}

/// Signals Redis reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT.
    Interrupt,
    /// SIGTERM.
    Terminate,
}

/// What a successful disk request gives back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskData {
    /// The request completed and carries no data (write, fsync, rename, remove).
    Done,
    /// The whole content of a file read with [`DiskOp::Read`].
    Contents(Bytes),
    /// The file asked for does not exist.
    NotFound,
}

/// Why a disk request failed, as the runtime saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskError {
    pub message: String,
}

/// Something the core wants done. Drained with `Node::poll_output` in the order produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Write these bytes on the connection, after everything sent before.
    Send { conn: ConnId, bytes: Bytes },
    /// Close the connection once everything queued for it has been written.
    Close { conn: ConnId },
    /// Close the connection now, dropping whatever is still queued for it (a client
    /// over its output buffer limit, which Redis frees without writing the rest).
    Disconnect { conn: ConnId },
    /// Open an outgoing connection (replication, cluster bus, Sentinel).
    Connect { conn: ConnId, addr: String },
    /// Carry out a disk request and report it with [`Input::DiskDone`].
    Disk { id: DiskOpId, op: DiskOp },
    /// Write a line to the log, as Redis's serverLog does.
    Log { level: LogLevel, line: String },
    /// Block the whole server for this long (DEBUG SLEEP): Redis freezes, so does Ember.
    Sleep { ms: u64 },
    /// Stop the process with this exit code (SHUTDOWN, fatal errors).
    Stop { code: i32 },
}

/// File operations persistence needs. Paths are relative to the server's `dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskOp {
    /// Read a whole file.
    Read { path: String },
    /// Create or truncate a file and write these bytes.
    Write { path: String, bytes: Bytes },
    /// Append to a file, creating it if needed.
    Append { path: String, bytes: Bytes },
    /// Flush a file's data to stable storage.
    Fsync { path: String },
    /// Atomically replace `to` with `from`.
    Rename { from: String, to: String },
    /// Delete a file.
    Remove { path: String },
    /// Create a directory if it does not exist (the AOF's `appenddirname`).
    CreateDir { path: String },
    /// Cut a file to `len` bytes (a torn AOF tail, `aof-load-truncated`).
    Truncate { path: String, len: u64 },
}

/// Log severity, with Redis's names (`loglevel` directive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
}
