//! Per-connection state: identity, selected database, protocol, authentication, the
//! unparsed query bytes and the pending reply bytes.

use bytes::{Bytes, BytesMut};

use crate::db::Millis;
use crate::io::ConnId;
use crate::resp::ReplyBuf;

/// The connection id of the fake client that replays the AOF at start (Redis's
/// AOF client, which "must be obeyed": no limits apply to what it runs).
pub const AOF_LOADER_CONN: ConnId = ConnId::MAX;

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
    /// Output the runtime reported as not yet written to the socket
    /// (`Input::OutputBacklog`), counted against output buffer limits with what
    /// the running batch wrote into `out`.
    pub obuf_backlog: u64,
    /// Since when the output has been at or over the soft output buffer limit.
    pub obuf_soft_since: Option<Millis>,
    /// Over an output buffer limit (Redis's CLIENT_CLOSE_ASAP): nothing more of its
    /// input runs, and the node drops its output and disconnects it.
    pub close_asap: bool,
}

/// Redis keeps a client's first 16KB of output in a static buffer and counts
/// only what overflows into its reply list, in blocks of at least this many bytes
/// (PROTO_REPLY_CHUNK_BYTES), against output buffer limits.
pub const REPLY_CHUNK_BYTES: u64 = 16 * 1024;

/// The counted output past which a client that must authenticate and has not is
/// disconnected whatever the limits say (Redis 7.0.15's fix for CVE-2025-21605):
/// in effect, any output that overflows the static buffer.
pub const UNAUTHENTICATED_OUTPUT_BYTES_MAX: u64 = 1024;

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
    /// Marks the client to be disconnected at once (Redis's CLIENT_CLOSE_ASAP):
    /// its unsent output and unparsed input are dropped and no more of its
    /// input runs.
    pub fn close_asap(&mut self) {
        self.close_asap = true;
        self.close_after_reply = true;
        self.out.truncate(0);
        self.pending.clear();
    }

    /// Whether this is the fake client replaying the AOF.
    pub fn is_aof_loader(&self) -> bool {
        self.conn == AOF_LOADER_CONN
    }

    /// Sets CLIENT REPLY's mode; the reply buffer learns whether replies are being
    /// dropped, so pushes written meanwhile survive.
    pub fn set_reply_mode(&mut self, mode: ReplyMode) {
        self.reply_mode = mode;
        self.out
            .set_silenced(matches!(mode, ReplyMode::Off | ReplyMode::Skipping));
    }

    /// Output counted against output buffer limits: the unwritten bytes beyond
    /// Redis's 16KB static buffer, rounded up to whole reply blocks.
    pub fn output_counted(&self) -> u64 {
        let unwritten = self.obuf_backlog.saturating_add(self.out.len() as u64);
        let overflow = unwritten.saturating_sub(REPLY_CHUNK_BYTES);
        overflow
            .div_ceil(REPLY_CHUNK_BYTES)
            .saturating_mul(REPLY_CHUNK_BYTES)
    }

    /// Whether the client's output breaks `limit` now (Redis's
    /// checkClientOutputBufferLimits): past the unauthenticated bound when
    /// `auth_required`, at or over the hard limit, or at or over the soft limit
    /// for longer than its seconds (the clock starts at the first check that
    /// finds it over and restarts once under). 0 disables a limit.
    pub fn output_limit_reached(
        &mut self,
        limit: crate::config::ObufLimit,
        auth_required: bool,
        now: Millis,
    ) -> bool {
        let used = self.output_counted();
        if auth_required && used > UNAUTHENTICATED_OUTPUT_BYTES_MAX {
            return true;
        }
        if limit.hard_bytes > 0 && used >= limit.hard_bytes {
            return true;
        }
        if limit.soft_bytes == 0 || used < limit.soft_bytes {
            self.obuf_soft_since = None;
            return false;
        }
        let since = *self.obuf_soft_since.get_or_insert(now);
        let soft_ms = u64::try_from(limit.soft_secs)
            .unwrap_or(0)
            .saturating_mul(1000);
        now.saturating_sub(since) > soft_ms
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
            obuf_backlog: 0,
            obuf_soft_since: None,
            close_asap: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ObufLimit;

    fn client_with_backlog(bytes: u64) -> Client {
        let mut c = Client::new(3, 1, String::new(), String::new(), 0);
        c.obuf_backlog = bytes;
        c
    }

    #[test]
    fn output_counts_only_what_overflows_the_static_buffer_in_whole_blocks() {
        assert_eq!(client_with_backlog(0).output_counted(), 0);
        assert_eq!(client_with_backlog(REPLY_CHUNK_BYTES).output_counted(), 0);
        let one_more = client_with_backlog(REPLY_CHUNK_BYTES + 1);
        assert_eq!(one_more.output_counted(), REPLY_CHUNK_BYTES);
        let mut c = client_with_backlog(REPLY_CHUNK_BYTES);
        c.out.raw(&[b'x'; 20_000]);
        assert_eq!(c.output_counted(), 2 * REPLY_CHUNK_BYTES);
    }

    #[test]
    fn hard_limits_disconnect_at_once_and_soft_ones_after_their_seconds() {
        let limit = ObufLimit {
            hard_bytes: 4 * REPLY_CHUNK_BYTES,
            soft_bytes: 2 * REPLY_CHUNK_BYTES,
            soft_secs: 2,
        };
        let mut c = client_with_backlog(5 * REPLY_CHUNK_BYTES);
        assert!(c.output_limit_reached(limit, false, 0));
        c.obuf_backlog = 3 * REPLY_CHUNK_BYTES;
        assert!(!c.output_limit_reached(limit, false, 10_000));
        assert!(!c.output_limit_reached(limit, false, 12_000));
        assert!(c.output_limit_reached(limit, false, 12_001));
        c.obuf_backlog = 0;
        assert!(!c.output_limit_reached(limit, false, 12_002));
        c.obuf_backlog = 3 * REPLY_CHUNK_BYTES;
        assert!(
            !c.output_limit_reached(limit, false, 14_003),
            "the clock restarts"
        );
        let off = ObufLimit {
            hard_bytes: 0,
            soft_bytes: 0,
            soft_secs: 0,
        };
        c.obuf_backlog = u64::MAX;
        assert!(!c.output_limit_reached(off, false, 0));
    }

    #[test]
    fn an_unauthenticated_client_may_not_overflow_the_static_buffer() {
        let off = ObufLimit {
            hard_bytes: 0,
            soft_bytes: 0,
            soft_secs: 0,
        };
        let mut c = client_with_backlog(REPLY_CHUNK_BYTES);
        assert!(!c.output_limit_reached(off, true, 0));
        c.obuf_backlog += 1;
        assert!(c.output_limit_reached(off, true, 0));
        assert!(!c.output_limit_reached(off, false, 0));
    }
}
