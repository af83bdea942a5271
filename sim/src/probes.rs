//! Coverage probes: how often each fault fired and each interesting interleaving was
//! reached, per run and summed over a swarm. A probe that never fires in a swarm points
//! at a part of the state space the simulator does not reach.

use std::fmt;

macro_rules! probes {
    ($($name:ident: $doc:literal,)*) => {
        /// Something worth reaching.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub enum Probe { $(#[doc = $doc] $name,)* }

        impl Probe {
            pub const ALL: &'static [Probe] = &[$(Probe::$name,)*];
            pub fn name(self) -> &'static str {
                match self { $(Probe::$name => stringify!($name),)* }
            }
        }
    };
}

probes! {
    ConnectionReset: "a connection was reset",
    ResetMidRequest: "a reset hit a connection with a request not yet answered",
    PartitionStarted: "a client was cut off from its node",
    DelayedByPartition: "bytes waited for a partition to heal",
    StallStarted: "a client stopped reading",
    DelayedByStall: "a reply waited for a stalled reader",
    SlowLink: "a connection was opened on a slow link",
    SplitRequest: "a request reached the node in more than one piece",
    PipelinedBatch: "one delivery carried more than one whole request",
    ClockJumpForward: "a node's clock jumped forward",
    ClockJumpBackward: "a node's clock jumped backward",
    ClockJumpAcrossExpiry: "a clock jump crossed the deadline of a key with a known TTL",
    NodeCrash: "a node crashed",
    NodeRestart: "a node restarted over its surviving files",
    DiskTornWrite: "a crash kept only a prefix of unsynced bytes",
    DiskUnsyncedLoss: "a crash dropped unsynced bytes",
    DiskFsyncError: "an fsync failed",
    DiskFull: "a write hit a full disk",
    BlockedServed: "a blocked client was served by another client's write",
    BlockedTimedOut: "a blocked client timed out",
    BlockedClientDisconnected: "a blocked client's connection went away",
    KeyExpiredObserved: "a key was seen gone after its known deadline",
    TtlObserved: "a TTL reply was checked against the node's clock",
    WrongType: "a command hit a key of another type",
    ArityError: "a command had the wrong number of arguments",
    UnknownCommand: "an unknown command was sent",
    ProtocolError: "broken framing closed a connection",
    InlineCommand: "a request was sent inline",
    ModelChecked: "a reply was compared with the reference model",
    TransactionExecuted: "EXEC ran a queued transaction",
    TransactionAborted: "EXEC found a watched key changed and ran nothing",
    WatchedKeyExpired: "EXEC ran after the deadline of a watched key",
    DurabilityChecked: "a durable list was read back after its node restarted",
    SaveCompleted: "an RDB save reached the disk",
    CrashDuringSave: "a node crashed while an RDB save was in progress",
    CrashDuringFsync: "a node lost power while an fsync it asked for was in flight",
    CrashDuringAofRewrite: "a node crashed while an AOF rewrite was in progress",
    AofRewriteCompleted: "an AOF rewrite finished and switched the manifest",
    AofTornTailLoaded: "a restarted node cut a torn AOF tail and loaded the rest",
    DumpLoaded: "a restarted node loaded keys from its dump",
    LoadingRefused: "a command got -LOADING while a restarted node read its dump",
    HeldRepliesReleased: "replies the AOF held left in a later event and were checked at their command's clock",
    ScriptWrote: "a Lua script's redis.call wrote and the script succeeded",
    ScriptFailedAfterWrite: "a Lua script failed after one of its calls wrote",
    ScriptCacheMissed: "EVALSHA found no cached script (NOSCRIPT)",
    FunctionCalled: "FCALL ran a library function loaded before (maybe before a restart)",
    StreamBlockServed: "an XREAD BLOCK was served by an entry another client added",
    AbuseAnswered: "a node answered an abusive input of issue 14 (a huge count, offset, pattern or payload)",
}

/// Counts per probe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Probes {
    counts: Vec<u64>,
}

impl Probes {
    pub fn new() -> Probes {
        Probes {
            counts: vec![0; Probe::ALL.len()],
        }
    }

    pub fn hit(&mut self, probe: Probe) {
        self.add(probe, 1);
    }

    pub fn add(&mut self, probe: Probe, n: u64) {
        if self.counts.is_empty() {
            self.counts = vec![0; Probe::ALL.len()];
        }
        self.counts[probe as usize] += n;
    }

    pub fn get(&self, probe: Probe) -> u64 {
        self.counts.get(probe as usize).copied().unwrap_or(0)
    }

    pub fn merge(&mut self, other: &Probes) {
        for &p in Probe::ALL {
            self.add(p, other.get(p));
        }
    }

    /// Probes that never fired.
    pub fn missing(&self) -> Vec<Probe> {
        Probe::ALL
            .iter()
            .copied()
            .filter(|&p| self.get(p) == 0)
            .collect()
    }
}

impl fmt::Display for Probes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fired: Vec<String> = Probe::ALL
            .iter()
            .filter(|&&p| self.get(p) > 0)
            .map(|&p| format!("{}={}", p.name(), self.get(p)))
            .collect();
        write!(f, "{}", fired.join(" "))
    }
}
