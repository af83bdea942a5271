//! State shared by every connection of a node: configuration, databases, counters,
//! the seeded generators, and the handful of facts INFO reports.

use std::collections::BTreeMap;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::blocking::Blocking;
use crate::command::CommandSpec;
use crate::config::Config;
use crate::db::{AccessPolicy, Db, KeyspaceStats, Millis};
use crate::hash::HashKey;

/// Sub-stream numbers of the node's generator. Each component draws from its own,
/// so new randomness in one place does not shift another's.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub enum RandStream {
    Hashing = 1,
    RunId = 2,
    Commands = 3,
    Expiry = 4,
    Access = 5,
    Eviction = 6,
}

/// A generator for one component, derived from the node's seed.
pub fn rand_stream(seed: [u8; 32], stream: RandStream) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::from_seed(seed);
    rng.set_stream(stream as u64);
    rng
}

/// Server-wide counters (INFO stats).
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub total_connections_received: u64,
    pub total_commands_processed: u64,
    pub total_net_input_bytes: u64,
    pub total_net_output_bytes: u64,
    pub rejected_connections: u64,
    pub total_error_replies: u64,
    pub unexpected_error_replies: u64,
    pub total_reads_processed: u64,
    pub total_writes_processed: u64,
    /// INFO errorstats: error replies by code (the first word), in code order.
    pub errors: BTreeMap<String, u64>,
    /// INFO commandstats, by table row (its address: rows are statics).
    pub commands: BTreeMap<usize, CommandStats>,
    /// The handler just run replied an error that was counted already (a script
    /// ending in its redis.call's error): the call still counts as failed.
    pub failed_quietly: bool,
}

/// One command's INFO commandstats counters.
#[derive(Debug, Clone, Copy)]
pub struct CommandStats {
    pub spec: &'static CommandSpec,
    /// Times it ran, failed or not.
    pub calls: u64,
    /// Runs that ended in an error reply.
    pub failed_calls: u64,
    /// Requests refused before running (arity, authentication...).
    pub rejected_calls: u64,
}

/// How a request for a command ended, for INFO commandstats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    Succeeded,
    Failed,
    Rejected,
    /// A blocked call (already counted when it blocked) that ended in an error,
    /// or by CLIENT UNBLOCK: Redis's updateStatsOnUnblock counts it as failed.
    FailedWhenUnblocked,
}

impl Stats {
    /// Counts an error reply in INFO errorstats under its code: the first word when a
    /// space appears within 32 bytes, else `ERR` (as Redis's afterErrorReply).
    pub fn count_error(&mut self, message: &[u8]) {
        let head = &message[..message.len().min(32)];
        let code = match head.iter().position(|&b| b == b' ') {
            Some(end) => String::from_utf8_lossy(&message[..end]),
            None => "ERR".into(),
        };
        if let Some(count) = self.errors.get_mut(code.as_ref()) {
            *count += 1;
        } else if self.errors.len() < ERROR_STATS_CODES_MAX {
            self.errors.insert(code.into_owned(), 1);
        }
    }

    /// Counts a call of `cmd` (None: an unknown command, which has no counters).
    pub fn count_command(&mut self, cmd: Option<&'static CommandSpec>, outcome: CallOutcome) {
        let Some(spec) = cmd else {
            return;
        };
        let entry = self
            .commands
            .entry(spec as *const CommandSpec as usize)
            .or_insert(CommandStats {
                spec,
                calls: 0,
                failed_calls: 0,
                rejected_calls: 0,
            });
        match outcome {
            CallOutcome::Succeeded => entry.calls += 1,
            CallOutcome::Failed => {
                entry.calls += 1;
                entry.failed_calls += 1;
            }
            CallOutcome::Rejected => entry.rejected_calls += 1,
            CallOutcome::FailedWhenUnblocked => entry.failed_calls += 1,
        }
    }
}

/// Redis 7.0 hands ids 1 and 2 to its internal clients (the Lua and the functions
/// engines) at startup, so its first connection gets 3; Ember numbers the same way.
const FIRST_CLIENT_ID: u64 = 3;

/// Distinct error codes INFO errorstats tracks before it stops adding new ones
/// (ERROR_STATS_NUMBER).
pub const ERROR_STATS_CODES_MAX: usize = 128;

/// Facts about the host process that INFO reports and only the runtime knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostInfo {
    /// `uname -s -r -m`, e.g. "Linux 6.1.0 x86_64".
    pub os: String,
    pub process_id: u32,
    /// Absolute path of the running binary.
    pub executable: String,
    /// Absolute path of the config file, empty when started without one.
    pub config_file: String,
    pub total_system_memory: u64,
    /// Name of the allocator behind `used_memory`, e.g. "libc".
    pub mem_allocator: String,
}

/// CLIENT PAUSE in force: until when, and whether only writes are paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientPause {
    pub until: Millis,
    pub writes_only: bool,
}

pub struct Server {
    pub config: Config,
    pub dbs: Vec<Db>,
    pub stats: Stats,
    pub keyspace_stats: KeyspaceStats,
    /// Changes since the last save (Redis's `dirty`), for save points and INFO.
    pub dirty: u64,
    pub hasher: HashKey,
    /// 40 hex characters, fresh per start.
    pub run_id: String,
    pub started_at: Millis,
    next_client_id: u64,
    commands_rng: ChaCha8Rng,
    access_rng: ChaCha8Rng,
    pub expiry_rng: ChaCha8Rng,
    /// Asks the host how many bytes are allocated (INFO used_memory). The runtime
    /// counts its allocator; the simulator gives a deterministic figure.
    pub memory_probe: Option<fn() -> usize>,
    /// Set by SHUTDOWN and signals; the node stops once replies are out.
    pub shutdown_requested: Option<i32>,
    /// Clients parked by blocking commands, their keys and deadlines.
    pub blocking: Blocking,
    /// DEBUG SET-ACTIVE-EXPIRE: whether serverCron expires keys in the background.
    pub active_expire_enabled: bool,
    /// DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE takes a payload whose CRC64 is
    /// wrong (the version is still checked), as Redis's skip_checksum_validation.
    pub skip_checksum_validation: bool,
    /// CLIENT PAUSE, recorded (clients are not held back yet).
    pub client_pause: Option<ClientPause>,
    /// Highest `used_memory` seen (INFO used_memory_peak).
    pub used_memory_peak: usize,
    /// Set by the runtime through `Node::set_host_info`.
    pub host: HostInfo,
    /// The outbox of propagated effects, in execution order, not yet taken by the
    /// AOF or replication (see `propagate`).
    pub effects: Vec<crate::propagate::Effect>,
    /// RDB persistence: saves in progress, save-point state, loading.
    pub persist: crate::persist::Persist,
    /// The append-only file.
    pub aof: crate::aof::Aof,
    next_disk_op: crate::io::DiskOpId,
    /// The effects of the execution unit in progress, before they reach `effects`.
    pub propagation: crate::propagate::Propagation,
    /// WATCHed keys and the clients watching them.
    pub watches: crate::command::transaction::Watches,
    /// A deliberate fault for the simulator's mutation check (none in real builds).
    pub planted: crate::planted::Planted,
    /// Pub/Sub subscriptions (see `pubsub`).
    pub pubsub: crate::pubsub::PubSub,
    /// The Lua engine and its cached scripts (EVAL, SCRIPT).
    pub scripts: crate::script::Scripts,
    /// The script in execution and the clients served meanwhile (`busy.rs`).
    pub busy: crate::busy::BusyState,
    /// maxmemory eviction: the candidate pool, counters, the OOM verdict (`evict`).
    pub evict: crate::evict::Evict,
}

impl Server {
    pub fn new(config: Config, seed: [u8; 32], now: Millis) -> Self {
        let mut hashing = rand_stream(seed, RandStream::Hashing);
        let hasher = HashKey::new(hashing.next_u64(), hashing.next_u64());
        let mut run_id_rng = rand_stream(seed, RandStream::RunId);
        let run_id = (0..40)
            .map(|_| char::from(b"0123456789abcdef"[(run_id_rng.next_u32() % 16) as usize]))
            .collect();
        let dbs = (0..config.databases).map(|_| Db::new(hasher)).collect();
        Server {
            config,
            dbs,
            stats: Stats::default(),
            keyspace_stats: KeyspaceStats::default(),
            dirty: 0,
            hasher,
            run_id,
            started_at: now,
            next_client_id: FIRST_CLIENT_ID,
            commands_rng: rand_stream(seed, RandStream::Commands),
            access_rng: rand_stream(seed, RandStream::Access),
            expiry_rng: rand_stream(seed, RandStream::Expiry),
            memory_probe: None,
            shutdown_requested: None,
            blocking: Blocking::default(),
            active_expire_enabled: true,
            skip_checksum_validation: false,
            client_pause: None,
            used_memory_peak: 0,
            host: HostInfo::default(),
            effects: Vec::new(),
            persist: crate::persist::Persist::new(now),
            aof: Default::default(),
            next_disk_op: 1,
            propagation: Default::default(),
            watches: Default::default(),
            planted: Default::default(),
            pubsub: Default::default(),
            scripts: Default::default(),
            busy: Default::default(),
            evict: crate::evict::Evict::new(rand_stream(seed, RandStream::Eviction)),
        }
    }

    /// A fresh id for a disk request (shared by every subsystem that asks for one).
    pub fn next_disk_op_id(&mut self) -> crate::io::DiskOpId {
        let id = self.next_disk_op;
        self.next_disk_op += 1;
        id
    }

    pub fn next_client_id(&mut self) -> u64 {
        let id = self.next_client_id;
        self.next_client_id += 1;
        id
    }

    /// How per-key access metadata is kept under the current `maxmemory-policy`.
    pub fn access_policy(&self) -> AccessPolicy {
        if self.config.maxmemory_policy.is_lfu() {
            AccessPolicy::Lfu {
                log_factor: self.config.lfu_log_factor,
                decay_minutes: self.config.lfu_decay_time,
            }
        } else {
            AccessPolicy::Lru
        }
    }

    /// A uniform draw for commands (RANDOMKEY, later SPOP, SRANDMEMBER, ...).
    pub fn random_below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        self.commands_rng.next_u64() % n
    }

    /// A draw for the LFU counter's logarithmic increment.
    pub fn access_draw(&mut self) -> u32 {
        if self.config.maxmemory_policy.is_lfu() {
            self.access_rng.next_u32()
        } else {
            0
        }
    }

    pub fn used_memory(&self) -> usize {
        self.memory_probe.map(|probe| probe()).unwrap_or(0)
    }

    /// Replaces the databases with `n` empty ones (FLUSHALL, `databases` at start).
    pub fn reset_databases(&mut self) {
        for db in &mut self.dbs {
            db.clear();
        }
    }
}
