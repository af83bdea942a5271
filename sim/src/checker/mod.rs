//! Checkers judge a run from what the world observed, in the order it happened.
//!
//! The world reports every [`Observation`] to every checker: a request executed by a
//! node (with the reply the node produced and the node's clock at that moment, in the
//! node's execution order), a client sending a request, receiving its reply or losing
//! it to a broken connection, nodes crashing and restarting, clocks jumping, faults
//! stopping. A checker returns a [`Violation`] to fail the run.
//!
//! Built: [`model::ModelChecker`] (replies equal a reference model's),
//! [`expiry::ExpiryChecker`] (keys never come back, TTLs follow the node's clock),
//! [`liveness::LivenessChecker`] (every request answered once faults stop).
//! Determinism is checked by running a seed twice and comparing trace hashes.
//! Durability of RDB saves: the model checker re-seeds a restarted node's model with
//! the image of its last completed save (`SaveStarted`/`SaveCompleted`), so the
//! recovered dataset must equal the state at that point of the history, nothing
//! invented or lost; a node that cannot load its own dump fails the run
//! (`durability`, in the world). The AOF's acknowledged-write check plugs in with
//! `Acked`, `Crashed`/`Restarted` and the `Exec`s after a restart.

pub mod durability;
pub mod expiry;
pub mod liveness;
pub mod model;

use std::fmt;

use crate::probes::Probes;
use crate::resp::Reply;
use crate::workload::{Request, RequestKind};

/// Identifies one request for the whole run.
pub type RequestId = u64;

/// A node ran a request and produced its reply.
#[derive(Debug, Clone, Copy)]
pub struct Exec<'a> {
    pub node: usize,
    pub client: usize,
    pub id: RequestId,
    pub request: &'a Request,
    pub reply: &'a Reply,
    /// The node's clock when it produced the reply (Unix ms).
    pub node_ms: u64,
    pub vt: u64,
}

#[derive(Debug, Clone, Copy)]
pub enum Observation<'a> {
    /// A client wrote a request (it may never reach the node).
    Sent {
        client: usize,
        /// The node the client's connection goes to.
        node: usize,
        id: RequestId,
        kind: RequestKind,
        /// Whether it is FLUSHDB/FLUSHALL: an unanswered one may still have run.
        flush: bool,
        vt: u64,
    },
    /// A node executed a request; these arrive in each node's execution order.
    Exec(Exec<'a>),
    /// The client received the reply: the request is acknowledged.
    Acked {
        client: usize,
        id: RequestId,
        vt: u64,
    },
    /// The client's connection broke before the reply arrived.
    Lost {
        client: usize,
        id: RequestId,
        vt: u64,
    },
    /// A disk request of a node failed (fsync error, full disk).
    DiskFailed { node: usize, vt: u64 },
    /// A client's connection is gone (it reconnects later with a fresh one).
    Disconnected { client: usize, vt: u64 },
    /// A node went down; `power_loss` says whether unsynced bytes were at risk.
    Crashed {
        node: usize,
        power_loss: bool,
        vt: u64,
    },
    /// A node came back (a new `Node` over the surviving files).
    Restarted { node: usize, vt: u64 },
    /// A node began an RDB save: the image is its dataset as of now (every `Exec`
    /// already shown). Saves in the workload start only from serverCron's save
    /// points, between commands, so this is exact.
    SaveStarted { node: usize, vt: u64 },
    /// The last save a node began is durable on its disk (renamed into place).
    SaveCompleted { node: usize, vt: u64 },
    /// A node's clock jumped from `from_ms` to `to_ms`.
    ClockJumped {
        node: usize,
        from_ms: u64,
        to_ms: u64,
    },
    /// No fault happens after this.
    FaultsStopped { vt: u64 },
}

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub checker: &'static str,
    pub vt: u64,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.vt / 1000;
        write!(
            f,
            "[{}] at {}.{:03} s: {}",
            self.checker,
            ms / 1000,
            ms % 1000,
            self.message
        )
    }
}

pub trait Checker {
    fn name(&self) -> &'static str;
    /// Sees one observation; an error fails the run.
    fn observe(&mut self, obs: &Observation<'_>, probes: &mut Probes) -> Result<(), String>;
    /// The run ended at `end_vt`.
    fn finish(&mut self, _end_vt: u64) -> Result<(), String> {
        Ok(())
    }
}

/// The lowercase command name of a request.
pub fn command_name(request: &Request) -> String {
    request
        .args
        .first()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .unwrap_or_default()
}
