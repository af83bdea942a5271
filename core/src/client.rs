//! Per-connection state: identity, selected database, protocol, authentication, the
//! unparsed query bytes and the pending reply bytes.

use bytes::{Bytes, BytesMut};

use crate::db::Millis;
use crate::io::ConnId;
use crate::resp::ReplyBuf;

#[derive(Debug)]
pub struct Client {
    /// CLIENT ID: unique, increasing, never reused.
    pub id: u64,
    pub conn: ConnId,
    pub peer: String,
    pub local: String,
    pub name: Option<Bytes>,
    pub lib_name: Option<Bytes>,
    pub lib_ver: Option<Bytes>,
    /// Selected database index.
    pub db: usize,
    pub authenticated: bool,
    pub created_at: Millis,
    pub last_interaction: Millis,
    /// Full name of the last command run (CLIENT LIST `cmd=`).
    pub last_cmd: &'static str,
    /// The table row of the last command run (CLIENT LIST shows `client|list`).
    pub last_spec: Option<&'static crate::command::CommandSpec>,
    /// Query bytes received but not yet framed into a whole request.
    pub pending: BytesMut,
    pub out: ReplyBuf,
    /// Stop reading and close once the pending reply has been written
    /// (QUIT, protocol errors, CLIENT KILL of oneself).
    pub close_after_reply: bool,
    /// CLIENT NO-EVICT, CLIENT REPLY ON/OFF/SKIP and friends.
    pub reply_mode: ReplyMode,
    pub no_evict: bool,
    /// Parked by a blocking command (see `blocking.rs`): its pending input waits.
    pub blocked: bool,
    pub tot_net_in: u64,
    pub tot_net_out: u64,
    pub tot_cmds: u64,
    /// Inside MULTI: the queued commands (Redis's CLIENT_MULTI and `mstate`).
    pub multi: Option<Box<MultiState>>,
    /// Running EXEC's queue: blocking commands reply as on a timeout instead of
    /// blocking (Redis's CLIENT_DENY_BLOCKING).
    pub in_exec: bool,
}

/// The commands a client queued after MULTI.
#[derive(Debug, Default)]
pub struct MultiState {
    pub commands: Vec<(&'static crate::command::CommandSpec, Vec<Bytes>)>,
    /// A command was refused while queueing: EXEC aborts (CLIENT_DIRTY_EXEC).
    pub aborted: bool,
}

impl MultiState {
    /// Bytes the queued arguments hold (CLIENT LIST `multi-mem`, roughly).
    pub fn argv_bytes(&self) -> usize {
        self.commands
            .iter()
            .flat_map(|(_, argv)| argv.iter())
            .map(|a| a.len())
            .sum()
    }
}

/// CLIENT REPLY's modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    SkipNext,
    /// Set while running the command whose reply is skipped.
    Skipping,
}

impl Client {
    /// Sets CLIENT REPLY's mode; the reply buffer learns whether replies are being
    /// dropped, so pushes written meanwhile survive.
    pub fn set_reply_mode(&mut self, mode: ReplyMode) {
        self.reply_mode = mode;
        self.out
            .set_silenced(matches!(mode, ReplyMode::Off | ReplyMode::Skipping));
    }

    pub fn new(id: u64, conn: ConnId, peer: String, local: String, now: Millis) -> Self {
        Client {
            id,
            conn,
            peer,
            local,
            name: None,
            lib_name: None,
            lib_ver: None,
            db: 0,
            authenticated: false,
            created_at: now,
            last_interaction: now,
            last_cmd: "NULL",
            last_spec: None,
            pending: BytesMut::new(),
            out: ReplyBuf::new(),
            close_after_reply: false,
            reply_mode: ReplyMode::On,
            no_evict: false,
            blocked: false,
            tot_net_in: 0,
            tot_net_out: 0,
            tot_cmds: 0,
            multi: None,
            in_exec: false,
        }
    }
}
