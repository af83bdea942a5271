//! Server configuration: the typed values the core reads. The directive table that
//! parses redis.conf text and serves CONFIG GET/SET lives in `config_table.rs`; every
//! directive Redis 7.0 knows is there, and the ones the core acts upon are mirrored
//! in the typed fields below (the table reads and writes them directly, so they are
//! the single source of truth). Directives not acted upon yet keep their value in
//! [`Config::values`] so CONFIG GET/SET round-trip them.

use crate::config_table::{self, Val};
use crate::io::LogLevel;

/// Eviction policies (`maxmemory-policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxmemoryPolicy {
    VolatileLru,
    AllkeysLru,
    VolatileLfu,
    AllkeysLfu,
    VolatileRandom,
    AllkeysRandom,
    VolatileTtl,
    Noeviction,
}

impl MaxmemoryPolicy {
    pub fn is_lfu(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::VolatileLfu | MaxmemoryPolicy::AllkeysLfu
        )
    }

    /// Only keys with a TTL are candidates.
    pub fn is_volatile(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::VolatileLru
                | MaxmemoryPolicy::VolatileLfu
                | MaxmemoryPolicy::VolatileRandom
                | MaxmemoryPolicy::VolatileTtl
        )
    }

    /// The directive's spelling (INFO `maxmemory_policy`).
    pub fn name(self) -> &'static str {
        match self {
            MaxmemoryPolicy::VolatileLru => "volatile-lru",
            MaxmemoryPolicy::AllkeysLru => "allkeys-lru",
            MaxmemoryPolicy::VolatileLfu => "volatile-lfu",
            MaxmemoryPolicy::AllkeysLfu => "allkeys-lfu",
            MaxmemoryPolicy::VolatileRandom => "volatile-random",
            MaxmemoryPolicy::AllkeysRandom => "allkeys-random",
            MaxmemoryPolicy::VolatileTtl => "volatile-ttl",
            MaxmemoryPolicy::Noeviction => "noeviction",
        }
    }
}

/// `appendfsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendFsync {
    Always,
    Everysec,
    No,
}

/// `enable-debug-command`, `enable-protected-configs`, `enable-module-command`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectedAction {
    No,
    Yes,
    /// Allowed for connections from loopback addresses and unix sockets.
    Local,
}

impl ProtectedAction {
    /// Whether a client connected from `peer` (`ip:port`) may use the feature.
    pub fn allows(self, peer: &str) -> bool {
        match self {
            ProtectedAction::Yes => true,
            ProtectedAction::No => false,
            ProtectedAction::Local => is_local_peer(peer),
        }
    }
}

/// Redis's islocalClient: unix socket, 127.0.0.1 or ::1.
fn is_local_peer(peer: &str) -> bool {
    peer.starts_with("127.0.0.1:") || peer.starts_with("[::1]:") || !peer.contains(':')
}

/// `sanitize-dump-payload`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SanitizeDumpPayload {
    No,
    Yes,
    Clients,
}

/// `repl-diskless-load`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplDisklessLoad {
    Disabled,
    OnEmptyDb,
    Swapdb,
}

/// One class of `client-output-buffer-limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObufLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_secs: i64,
}

/// Index of each class in [`Config::client_output_buffer_limit`].
pub const OBUF_NORMAL: usize = 0;
pub const OBUF_REPLICA: usize = 1;
pub const OBUF_PUBSUB: usize = 2;

/// `notify-keyspace-events` classes, as Redis's NOTIFY_* bits.
pub mod notify {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const KEYEVENT: u32 = 1 << 1;
    pub const GENERIC: u32 = 1 << 2;
    pub const STRING: u32 = 1 << 3;
    pub const LIST: u32 = 1 << 4;
    pub const SET: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const ZSET: u32 = 1 << 7;
    pub const EXPIRED: u32 = 1 << 8;
    pub const EVICTED: u32 = 1 << 9;
    pub const STREAM: u32 = 1 << 10;
    pub const KEY_MISS: u32 = 1 << 11;
    pub const MODULE: u32 = 1 << 12;
    pub const NEW: u32 = 1 << 13;
    /// What `A` stands for.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// `shutdown-on-sigint` / `shutdown-on-sigterm` flags (0 is `default`).
pub mod shutdown_flags {
    pub const SAVE: u32 = 1;
    pub const NOSAVE: u32 = 2;
    pub const NOW: u32 = 4;
    pub const FORCE: u32 = 8;
}

/// Things only the host can do, asked for synchronously while a CONFIG SET runs.
/// Plain function pointers keep the core free of I/O; the simulator leaves them unset.
/// CONFIG SET dir: changes directory, returns the new absolute path or strerror text.
pub type ChdirHook = fn(&str) -> Result<String, String>;
/// CONFIG SET port/bind: replaces the listening sockets for (bind, port).
pub type ListenHook = fn(&[String], u16) -> Result<(), String>;
/// CONFIG REWRITE: rewrites the config file from this configuration.
pub type RewriteHook = fn(&Config) -> Result<(), String>;
/// CONFIG SET maxclients: makes room for that many clients (open-files limit);
/// `Err` carries how many the system can take.
pub type MaxclientsHook = fn(u32) -> Result<(), u32>;
/// Called every few thousand Lua instructions while a script runs: the host's
/// clock (Unix ms), and when `io.exchange` is set a non-blocking I/O exchange, so
/// other clients get -BUSY and can send SCRIPT KILL (Redis's
/// processEventsWhileBlocked). The only hook that brings inputs back in.
pub type BusyPollHook = fn(&mut crate::io::BusyIo) -> crate::db::Millis;

#[derive(Debug, Clone, Copy, Default)]
pub struct Hooks {
    /// Changes the working directory (CONFIG SET dir); returns the new absolute path
    /// or the system's error text (strerror).
    pub chdir: Option<ChdirHook>,
    /// Replaces the listening sockets (CONFIG SET port / bind). On failure the old
    /// sockets stay in place and the error is logged by the host.
    pub listen: Option<ListenHook>,
    /// Rewrites the config file with the current configuration (CONFIG REWRITE).
    pub rewrite: Option<RewriteHook>,
    pub maxclients: Option<MaxclientsHook>,
    /// Serves other clients while a script runs long; unset, scripts run to their
    /// end without a look at the clock (the simulator).
    pub busy_poll: Option<BusyPollHook>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    /// The working directory (absolute once the runtime has changed into it).
    pub dir: String,
    pub requirepass: Option<Vec<u8>>,
    pub databases: usize,
    pub hz: u32,
    pub dynamic_hz: bool,
    pub daemonize: bool,
    pub proto_max_bulk_len: i64,
    pub client_query_buffer_limit: u64,
    pub maxclients: u32,
    pub timeout_secs: u64,
    pub maxmemory: u64,
    pub maxmemory_policy: MaxmemoryPolicy,
    pub maxmemory_samples: u32,
    pub maxmemory_eviction_tenacity: u32,
    /// Negative values are a percentage of `maxmemory`.
    pub maxmemory_clients: i64,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    pub active_expire_effort: u32,
    pub activerehashing: bool,
    pub loglevel: LogLevel,
    pub logfile: String,
    pub pidfile: String,
    pub always_show_logo: bool,
    pub set_proc_title: bool,
    pub syslog_enabled: bool,
    pub protected_mode: bool,
    pub tcp_backlog: u32,
    pub tcp_keepalive: i64,
    pub unixsocket: String,
    pub unixsocketperm: u32,
    pub io_threads: i64,

    // Persistence.
    /// `save` points: (seconds, changes).
    pub save_params: Vec<(i64, i64)>,
    pub dbfilename: String,
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    pub rdb_del_sync_files: bool,
    pub stop_writes_on_bgsave_error: bool,
    pub appendonly: bool,
    pub appendfsync: AppendFsync,
    pub appendfilename: String,
    pub appenddirname: String,
    pub aof_use_rdb_preamble: bool,
    pub aof_load_truncated: bool,
    pub aof_timestamp_enabled: bool,
    pub aof_rewrite_incremental_fsync: bool,
    pub rdb_save_incremental_fsync: bool,
    pub no_appendfsync_on_rewrite: bool,
    pub auto_aof_rewrite_percentage: i64,
    pub auto_aof_rewrite_min_size: i64,
    pub sanitize_dump_payload: SanitizeDumpPayload,

    // Encodings.
    pub hash_max_listpack_entries: u64,
    pub hash_max_listpack_value: u64,
    pub zset_max_listpack_entries: u64,
    pub zset_max_listpack_value: u64,
    pub set_max_intset_entries: u64,
    pub list_max_listpack_size: i64,
    pub list_compress_depth: i64,
    pub stream_node_max_bytes: u64,
    pub stream_node_max_entries: i64,
    pub hll_sparse_max_bytes: u64,

    // Lazy freeing.
    pub lazyfree_lazy_eviction: bool,
    pub lazyfree_lazy_expire: bool,
    pub lazyfree_lazy_server_del: bool,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,

    // Observability.
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    pub latency_monitor_threshold: i64,
    pub latency_tracking: bool,
    pub latency_tracking_info_percentiles: Vec<f64>,
    pub notify_keyspace_events: u32,
    pub acllog_max_len: u64,
    pub aclfile: String,
    pub tracking_table_max_keys: u64,
    pub busy_reply_threshold: i64,
    pub client_output_buffer_limit: [ObufLimit; 3],
    pub enable_debug_command: ProtectedAction,
    pub enable_protected_configs: ProtectedAction,
    pub enable_module_command: ProtectedAction,
    pub shutdown_timeout: i64,
    pub shutdown_on_sigint: u32,
    pub shutdown_on_sigterm: u32,

    // Replication.
    /// `replicaof host port`; `None` for a master.
    pub replicaof: Option<(String, u16)>,
    pub masterauth: Option<Vec<u8>>,
    pub masteruser: Option<String>,
    pub replica_read_only: bool,
    pub replica_serve_stale_data: bool,
    pub replica_lazy_flush: bool,
    pub replica_priority: i64,
    pub replica_announce_ip: String,
    pub replica_announce_port: i64,
    pub repl_backlog_size: i64,
    pub repl_backlog_ttl: i64,
    pub repl_timeout: i64,
    pub repl_ping_replica_period: i64,
    pub repl_diskless_sync: bool,
    pub repl_diskless_sync_delay: i64,
    pub repl_diskless_sync_max_replicas: i64,
    pub repl_diskless_load: ReplDisklessLoad,
    pub repl_disable_tcp_nodelay: bool,
    pub min_replicas_to_write: i64,
    pub min_replicas_max_lag: i64,

    // Cluster.
    pub cluster_enabled: bool,
    pub cluster_config_file: String,
    pub cluster_node_timeout: i64,
    pub cluster_port: u16,
    pub cluster_require_full_coverage: bool,
    pub cluster_allow_reads_when_down: bool,

    /// The config file the server started from (absolute path), for CONFIG REWRITE
    /// and INFO's `config_file`; `None` when started without one.
    pub config_file: Option<String>,
    /// `rename-command old new` lines, in order (`new` empty = removed).
    pub renamed_commands: Vec<(String, String)>,
    /// `user ...` lines, kept for ACL.
    pub users: Vec<Vec<Vec<u8>>>,
    /// Values of directives without a typed field, indexed like
    /// [`config_table::DIRECTIVES`] (entries of typed directives are unused).
    pub values: Vec<Val>,
    pub hooks: Hooks,
}

impl Config {
    /// The current value of a directive (or alias) as CONFIG GET prints it.
    pub fn get(&self, name: &str) -> Option<String> {
        let index = config_table::find(name.as_bytes())?;
        Some(String::from_utf8_lossy(&config_table::get(self, index)).into_owned())
    }

    /// Sets a directive as CONFIG SET would (without its side effects); for tests
    /// and for hosts that build a config programmatically.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let index = config_table::find(name.as_bytes())
            .ok_or_else(|| format!("Unknown option '{name}'"))?;
        config_table::set_from_value(self, index, value.as_bytes()).map(|_| ())
    }
}

impl Default for Config {
    fn default() -> Self {
        let normal = ObufLimit {
            hard_bytes: 0,
            soft_bytes: 0,
            soft_secs: 0,
        };
        Config {
            port: 6379,
            bind: vec!["*".into(), "-::*".into()],
            dir: ".".into(),
            requirepass: None,
            databases: 16,
            hz: 10,
            dynamic_hz: true,
            daemonize: false,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            maxclients: 10000,
            timeout_secs: 0,
            maxmemory: 0,
            maxmemory_policy: MaxmemoryPolicy::Noeviction,
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            maxmemory_clients: 0,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            active_expire_effort: 1,
            activerehashing: true,
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            pidfile: String::new(),
            always_show_logo: false,
            set_proc_title: true,
            syslog_enabled: false,
            protected_mode: true,
            tcp_backlog: 511,
            tcp_keepalive: 300,
            unixsocket: String::new(),
            unixsocketperm: 0,
            io_threads: 1,
            save_params: vec![(3600, 1), (300, 100), (60, 10000)],
            dbfilename: "dump.rdb".into(),
            rdbcompression: true,
            rdbchecksum: true,
            rdb_del_sync_files: false,
            stop_writes_on_bgsave_error: true,
            appendonly: false,
            appendfsync: AppendFsync::Everysec,
            appendfilename: "appendonly.aof".into(),
            appenddirname: "appendonlydir".into(),
            aof_use_rdb_preamble: true,
            aof_load_truncated: true,
            aof_timestamp_enabled: false,
            aof_rewrite_incremental_fsync: true,
            rdb_save_incremental_fsync: true,
            no_appendfsync_on_rewrite: false,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 * 1024 * 1024,
            sanitize_dump_payload: SanitizeDumpPayload::No,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            set_max_intset_entries: 512,
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
            hll_sparse_max_bytes: 3000,
            lazyfree_lazy_eviction: false,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_server_del: false,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            latency_monitor_threshold: 0,
            latency_tracking: true,
            latency_tracking_info_percentiles: vec![50.0, 99.0, 99.9],
            notify_keyspace_events: 0,
            acllog_max_len: 128,
            aclfile: String::new(),
            tracking_table_max_keys: 1_000_000,
            busy_reply_threshold: 5000,
            client_output_buffer_limit: [
                normal,
                ObufLimit {
                    hard_bytes: 256 * 1024 * 1024,
                    soft_bytes: 64 * 1024 * 1024,
                    soft_secs: 60,
                },
                ObufLimit {
                    hard_bytes: 32 * 1024 * 1024,
                    soft_bytes: 8 * 1024 * 1024,
                    soft_secs: 60,
                },
            ],
            enable_debug_command: ProtectedAction::No,
            enable_protected_configs: ProtectedAction::No,
            enable_module_command: ProtectedAction::No,
            shutdown_timeout: 10,
            shutdown_on_sigint: 0,
            shutdown_on_sigterm: 0,
            replicaof: None,
            masterauth: None,
            masteruser: None,
            replica_read_only: true,
            replica_serve_stale_data: true,
            replica_lazy_flush: false,
            replica_priority: 100,
            replica_announce_ip: String::new(),
            replica_announce_port: 0,
            repl_backlog_size: 1024 * 1024,
            repl_backlog_ttl: 3600,
            repl_timeout: 60,
            repl_ping_replica_period: 10,
            repl_diskless_sync: true,
            repl_diskless_sync_delay: 5,
            repl_diskless_sync_max_replicas: 0,
            repl_diskless_load: ReplDisklessLoad::Disabled,
            repl_disable_tcp_nodelay: false,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 10,
            cluster_enabled: false,
            cluster_config_file: "nodes.conf".into(),
            cluster_node_timeout: 15000,
            cluster_port: 0,
            cluster_require_full_coverage: true,
            cluster_allow_reads_when_down: false,
            config_file: None,
            renamed_commands: Vec::new(),
            users: Vec::new(),
            values: config_table::default_values(),
            hooks: Hooks::default(),
        }
    }
}
