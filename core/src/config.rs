//! Server configuration: the typed values the core reads. The directive table that
//! parses redis.conf text and serves CONFIG GET/SET lives in `config_table.rs`.

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
}

/// Who may run a protected command such as DEBUG (`enable-debug-command`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectedAccess {
    No,
    Yes,
    /// Only clients connected over loopback or a unix socket.
    Local,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
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
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    pub active_expire_effort: u32,
    pub loglevel: crate::io::LogLevel,
    pub logfile: String,
    pub pidfile: String,
    pub enable_debug_command: ProtectedAccess,
}

impl Default for Config {
    fn default() -> Self {
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
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            active_expire_effort: 1,
            loglevel: crate::io::LogLevel::Notice,
            logfile: String::new(),
            pidfile: String::new(),
            enable_debug_command: ProtectedAccess::No,
        }
    }
}
