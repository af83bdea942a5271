//! The configuration directive table: every directive Redis 7.0 accepts, with its
//! aliases, type, bounds, default and mutability, and the rules that parse redis.conf
//! text, command-line options and CONFIG SET values into a [`Config`]. Pure: the
//! few things that need the outside world (changing directory, reading an included
//! file) go through a [`LoadHost`] or the config's [`crate::config::Hooks`].

use std::fmt;

use crate::config::{
    notify, shutdown_flags, AppendFsync, Config, MaxmemoryPolicy, ObufLimit, ProtectedAction,
    ReplDisklessLoad, SanitizeDumpPayload,
};
use crate::io::LogLevel;
use crate::resp::decode::split_inline_args;

/// The version named in fatal config errors (Redis prints its own version there).
pub const REDIS_VERSION: &str = "7.0.15";

/// CONFIG SET refuses it.
pub const IMMUTABLE: u8 = 1;
/// Only an exact CONFIG GET name shows it; patterns skip it.
pub const HIDDEN: u8 = 2;
/// CONFIG SET needs `enable-protected-configs`.
pub const PROTECTED: u8 = 4;
/// Takes several arguments (space separated in CONFIG SET).
pub const MULTI_ARG: u8 = 8;
/// The value is a secret (redacted from logs).
pub const SENSITIVE: u8 = 16;
/// CONFIG SET is refused while loading a dataset.
pub const DENY_LOADING: u8 = 32;
/// An empty string means "not set" (CONFIG REWRITE leaves it out).
pub const NULLABLE: u8 = 64;

/// Most `bind` addresses Redis accepts.
const BIND_ADDRS_MAX: usize = 16;
/// Redis's CONFIG_MIN_HZ and CONFIG_MAX_HZ: `hz` is clamped into this range.
const HZ_MIN: u32 = 1;
const HZ_MAX: u32 = 500;
/// Hostnames must be shorter than Redis's NET_HOST_STR_LEN.
const HOSTNAME_BYTES_MAX: usize = 256;
/// `oom-score-adj-values` elements stay within this magnitude.
const OOM_SCORE_ADJ_MAX: i64 = 2000;

const INT_MIN: i128 = i32::MIN as i128;
const INT_MAX: i128 = i32::MAX as i128;
const UINT_MAX: i128 = u32::MAX as i128;
const LONG_MAX: i128 = i64::MAX as i128;
const ULLONG_MAX: i128 = u64::MAX as i128;

/// A directive's value, in the shape its type needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Bool(bool),
    /// Numbers, enum values and flag sets. Unsigned 64-bit values are stored
    /// bit-for-bit, as Redis keeps them in a `long long` while parsing.
    Int(i64),
    Str(Vec<u8>),
    List(Vec<String>),
    Save(Vec<(i64, i64)>),
    Obuf([ObufLimit; 3]),
    Oom([i64; 3]),
    Floats(Vec<f64>),
    ReplicaOf(Option<(String, u16)>),
}

/// How a number is written and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumFmt {
    Int,
    /// Accepts `k`, `kb`, `m`, `mb`, `g`, `gb` units.
    Memory,
    /// A memory value or `N%` (stored as `-N`).
    MemoryPercent,
    Octal,
}

/// Directives whose parsing and printing are their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    Dir,
    Save,
    ClientOutputBufferLimit,
    OomScoreAdjValues,
    NotifyKeyspaceEvents,
    Bind,
    ReplicaOf,
    LatencyTrackingInfoPercentiles,
}

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Bool(bool),
    Num {
        min: i128,
        max: i128,
        /// Bounds compare as unsigned (Redis's unsigned int, size_t and
        /// unsigned long long types).
        unsigned: bool,
        fmt: NumFmt,
        default: i64,
    },
    Enum {
        options: &'static [(&'static str, i64)],
        default: i64,
    },
    /// Several enum names OR-ed together (`shutdown-on-sigint save now`).
    Flags {
        options: &'static [(&'static str, i64)],
        default: i64,
    },
    Str(&'static str),
    Special(Special),
}

/// Extra validation a directive's value must pass; the error is Redis's text.
pub type Check = fn(&Val) -> Result<(), &'static str>;

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Directive {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub flags: u8,
    pub kind: Kind,
    pub check: Option<Check>,
}

impl Directive {
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

const fn row(name: &'static str, alias: Option<&'static str>, flags: u8, kind: Kind) -> Directive {
    Directive {
        name,
        alias,
        flags,
        kind,
        check: None,
    }
}

const fn checked(mut d: Directive, check: Check) -> Directive {
    d.check = Some(check);
    d
}

const fn boolean(
    name: &'static str,
    alias: Option<&'static str>,
    flags: u8,
    default: bool,
) -> Directive {
    row(name, alias, flags, Kind::Bool(default))
}

const fn string(
    name: &'static str,
    alias: Option<&'static str>,
    flags: u8,
    default: &'static str,
) -> Directive {
    row(name, alias, flags, Kind::Str(default))
}

const fn num(
    name: &'static str,
    alias: Option<&'static str>,
    flags: u8,
    (min, max, unsigned): (i128, i128, bool),
    fmt: NumFmt,
    default: i64,
) -> Directive {
    row(
        name,
        alias,
        flags,
        Kind::Num {
            min,
            max,
            unsigned,
            fmt,
            default,
        },
    )
}

const fn enumeration(
    name: &'static str,
    flags: u8,
    options: &'static [(&'static str, i64)],
    default: i64,
) -> Directive {
    row(name, None, flags, Kind::Enum { options, default })
}

const fn special(
    name: &'static str,
    alias: Option<&'static str>,
    flags: u8,
    kind: Special,
) -> Directive {
    row(name, alias, flags, Kind::Special(kind))
}

/// Signed bounds.
const fn s(min: i128, max: i128) -> (i128, i128, bool) {
    (min, max, false)
}

/// Unsigned bounds.
const fn u(min: i128, max: i128) -> (i128, i128, bool) {
    (min, max, true)
}

const M: u8 = 0; // modifiable
const I: u8 = IMMUTABLE;
const INT: NumFmt = NumFmt::Int;
const MEM: NumFmt = NumFmt::Memory;

pub const LOGLEVEL_OPTIONS: &[(&str, i64)] =
    &[("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3)];
pub const MAXMEMORY_POLICY_OPTIONS: &[(&str, i64)] = &[
    ("volatile-lru", 0),
    ("volatile-lfu", 1),
    ("volatile-random", 2),
    ("volatile-ttl", 3),
    ("allkeys-lru", 4),
    ("allkeys-lfu", 5),
    ("allkeys-random", 6),
    ("noeviction", 7),
];
const SYSLOG_FACILITY_OPTIONS: &[(&str, i64)] = &[
    ("user", 0),
    ("local0", 1),
    ("local1", 2),
    ("local2", 3),
    ("local3", 4),
    ("local4", 5),
    ("local5", 6),
    ("local6", 7),
    ("local7", 8),
];
const SUPERVISED_OPTIONS: &[(&str, i64)] =
    &[("upstart", 0), ("systemd", 1), ("auto", 2), ("no", 3)];
const APPENDFSYNC_OPTIONS: &[(&str, i64)] = &[("everysec", 0), ("always", 1), ("no", 2)];
const REPL_DISKLESS_LOAD_OPTIONS: &[(&str, i64)] =
    &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)];
const TLS_AUTH_CLIENTS_OPTIONS: &[(&str, i64)] = &[("no", 0), ("yes", 1), ("optional", 2)];
const OOM_SCORE_ADJ_OPTIONS: &[(&str, i64)] =
    &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];
const ACL_PUBSUB_DEFAULT_OPTIONS: &[(&str, i64)] = &[("allchannels", 1), ("resetchannels", 0)];
const SANITIZE_DUMP_PAYLOAD_OPTIONS: &[(&str, i64)] = &[("no", 0), ("yes", 1), ("clients", 2)];
const PROTECTED_ACTION_OPTIONS: &[(&str, i64)] = &[("no", 0), ("yes", 1), ("local", 2)];
const CLUSTER_ENDPOINT_TYPE_OPTIONS: &[(&str, i64)] =
    &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)];
const PROPAGATION_ERROR_BEHAVIOR_OPTIONS: &[(&str, i64)] =
    &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)];
const SHUTDOWN_ON_SIG_OPTIONS: &[(&str, i64)] = &[
    ("default", 0),
    ("save", shutdown_flags::SAVE as i64),
    ("nosave", shutdown_flags::NOSAVE as i64),
    ("now", shutdown_flags::NOW as i64),
    ("force", shutdown_flags::FORCE as i64),
];

/// Every directive of Redis 7.0.15 (a build with TLS support, as Debian ships it).
pub static DIRECTIVES: &[Directive] = &[
    // Booleans.
    boolean("rdbchecksum", None, I, true),
    boolean("daemonize", None, I, false),
    boolean("io-threads-do-reads", None, I, false),
    boolean("always-show-logo", None, I, false),
    boolean("protected-mode", None, M, true),
    boolean("rdbcompression", None, M, true),
    boolean("rdb-del-sync-files", None, M, false),
    boolean("activerehashing", None, M, true),
    boolean("stop-writes-on-bgsave-error", None, M, true),
    boolean("set-proc-title", None, I, true),
    boolean("dynamic-hz", None, M, true),
    boolean("lazyfree-lazy-eviction", None, M, false),
    boolean("lazyfree-lazy-expire", None, M, false),
    boolean("lazyfree-lazy-server-del", None, M, false),
    boolean("lazyfree-lazy-user-del", None, M, false),
    boolean("lazyfree-lazy-user-flush", None, M, false),
    boolean("repl-disable-tcp-nodelay", None, M, false),
    boolean("repl-diskless-sync", None, M, true),
    boolean("aof-rewrite-incremental-fsync", None, M, true),
    boolean("no-appendfsync-on-rewrite", None, M, false),
    boolean("cluster-require-full-coverage", None, M, true),
    boolean("rdb-save-incremental-fsync", None, M, true),
    boolean("aof-load-truncated", None, M, true),
    boolean("aof-use-rdb-preamble", None, M, true),
    boolean("aof-timestamp-enabled", None, M, false),
    boolean(
        "cluster-replica-no-failover",
        Some("cluster-slave-no-failover"),
        M,
        false,
    ),
    boolean("replica-lazy-flush", Some("slave-lazy-flush"), M, false),
    boolean(
        "replica-serve-stale-data",
        Some("slave-serve-stale-data"),
        M,
        true,
    ),
    boolean("replica-read-only", Some("slave-read-only"), M, true),
    boolean(
        "replica-ignore-maxmemory",
        Some("slave-ignore-maxmemory"),
        M,
        true,
    ),
    boolean("jemalloc-bg-thread", None, M, true),
    checked(boolean("activedefrag", None, M, false), check_activedefrag),
    boolean("syslog-enabled", None, I, false),
    boolean("cluster-enabled", None, I, false),
    boolean("appendonly", None, DENY_LOADING, false),
    boolean("cluster-allow-reads-when-down", None, M, false),
    boolean("cluster-allow-pubsubshard-when-down", None, M, true),
    boolean("crash-log-enabled", None, M, true),
    boolean("crash-memcheck-enabled", None, M, true),
    boolean("use-exit-on-panic", None, HIDDEN, false),
    boolean("disable-thp", None, I, true),
    boolean("cluster-allow-replica-migration", None, M, true),
    boolean("replica-announced", None, M, true),
    boolean("latency-tracking", None, M, true),
    boolean("aof-disable-auto-gc", None, M, false),
    boolean("replica-ignore-disk-write-errors", None, M, false),
    // Strings.
    string("aclfile", None, I, ""),
    string("unixsocket", None, I | NULLABLE, ""),
    string("pidfile", None, I | NULLABLE, ""),
    string(
        "replica-announce-ip",
        Some("slave-announce-ip"),
        NULLABLE,
        "",
    ),
    string("masteruser", None, SENSITIVE | NULLABLE, ""),
    string("cluster-announce-ip", None, NULLABLE, ""),
    string("cluster-config-file", None, I, "nodes.conf"),
    checked(
        string("cluster-announce-hostname", None, NULLABLE, ""),
        check_hostname,
    ),
    string("syslog-ident", None, I, "redis"),
    checked(
        string("dbfilename", None, PROTECTED, "dump.rdb"),
        check_dbfilename,
    ),
    checked(
        string("appendfilename", None, I, "appendonly.aof"),
        check_appendfilename,
    ),
    checked(
        string("appenddirname", None, I, "appendonlydir"),
        check_appenddirname,
    ),
    string("server_cpulist", None, I | NULLABLE, ""),
    string("bio_cpulist", None, I | NULLABLE, ""),
    string("aof_rewrite_cpulist", None, I | NULLABLE, ""),
    string("bgsave_cpulist", None, I | NULLABLE, ""),
    string("ignore-warnings", None, M, ""),
    checked(
        string(
            "proc-title-template",
            None,
            M,
            "{title} {listen-addr} {server-mode}",
        ),
        check_proc_title_template,
    ),
    string("bind-source-addr", None, NULLABLE, ""),
    string("logfile", None, I, ""),
    string("masterauth", None, SENSITIVE | NULLABLE, ""),
    string("requirepass", None, SENSITIVE | NULLABLE, ""),
    // Enums.
    enumeration("supervised", I, SUPERVISED_OPTIONS, 3),
    enumeration("syslog-facility", I, SYSLOG_FACILITY_OPTIONS, 1),
    enumeration(
        "repl-diskless-load",
        DENY_LOADING,
        REPL_DISKLESS_LOAD_OPTIONS,
        0,
    ),
    enumeration("loglevel", M, LOGLEVEL_OPTIONS, 2),
    enumeration("maxmemory-policy", M, MAXMEMORY_POLICY_OPTIONS, 7),
    enumeration("appendfsync", M, APPENDFSYNC_OPTIONS, 0),
    enumeration("oom-score-adj", M, OOM_SCORE_ADJ_OPTIONS, 0),
    enumeration("acl-pubsub-default", M, ACL_PUBSUB_DEFAULT_OPTIONS, 0),
    enumeration("sanitize-dump-payload", M, SANITIZE_DUMP_PAYLOAD_OPTIONS, 0),
    enumeration("enable-protected-configs", I, PROTECTED_ACTION_OPTIONS, 0),
    enumeration("enable-debug-command", I, PROTECTED_ACTION_OPTIONS, 0),
    enumeration("enable-module-command", I, PROTECTED_ACTION_OPTIONS, 0),
    enumeration(
        "cluster-preferred-endpoint-type",
        M,
        CLUSTER_ENDPOINT_TYPE_OPTIONS,
        0,
    ),
    enumeration(
        "propagation-error-behavior",
        M,
        PROPAGATION_ERROR_BEHAVIOR_OPTIONS,
        0,
    ),
    checked(
        row(
            "shutdown-on-sigint",
            None,
            MULTI_ARG,
            Kind::Flags {
                options: SHUTDOWN_ON_SIG_OPTIONS,
                default: 0,
            },
        ),
        check_shutdown_flags,
    ),
    checked(
        row(
            "shutdown-on-sigterm",
            None,
            MULTI_ARG,
            Kind::Flags {
                options: SHUTDOWN_ON_SIG_OPTIONS,
                default: 0,
            },
        ),
        check_shutdown_flags,
    ),
    // Integers.
    num("databases", None, I, s(1, INT_MAX), INT, 16),
    num("port", None, M, s(0, 65535), INT, 6379),
    num("io-threads", None, I, s(1, 128), INT, 1),
    num(
        "auto-aof-rewrite-percentage",
        None,
        M,
        s(0, INT_MAX),
        INT,
        100,
    ),
    num(
        "cluster-replica-validity-factor",
        Some("cluster-slave-validity-factor"),
        M,
        s(0, INT_MAX),
        INT,
        10,
    ),
    num(
        "list-max-listpack-size",
        Some("list-max-ziplist-size"),
        M,
        s(INT_MIN, INT_MAX),
        INT,
        -2,
    ),
    num("tcp-keepalive", None, M, s(0, INT_MAX), INT, 300),
    num("cluster-migration-barrier", None, M, s(0, INT_MAX), INT, 1),
    num("active-defrag-cycle-min", None, M, s(1, 99), INT, 1),
    num("active-defrag-cycle-max", None, M, s(1, 99), INT, 25),
    num(
        "active-defrag-threshold-lower",
        None,
        M,
        s(0, 1000),
        INT,
        10,
    ),
    num(
        "active-defrag-threshold-upper",
        None,
        M,
        s(0, 1000),
        INT,
        100,
    ),
    num("lfu-log-factor", None, M, s(0, INT_MAX), INT, 10),
    num("lfu-decay-time", None, M, s(0, INT_MAX), INT, 1),
    num(
        "replica-priority",
        Some("slave-priority"),
        M,
        s(0, INT_MAX),
        INT,
        100,
    ),
    num("repl-diskless-sync-delay", None, M, s(0, INT_MAX), INT, 5),
    num("maxmemory-samples", None, M, s(1, INT_MAX), INT, 5),
    num("maxmemory-eviction-tenacity", None, M, s(0, 100), INT, 10),
    num("timeout", None, M, s(0, INT_MAX), INT, 0),
    num(
        "replica-announce-port",
        Some("slave-announce-port"),
        M,
        s(0, 65535),
        INT,
        0,
    ),
    num("tcp-backlog", None, I, s(0, INT_MAX), INT, 511),
    num("cluster-port", None, I, s(0, 65535), INT, 0),
    num("cluster-announce-bus-port", None, M, s(0, 65535), INT, 0),
    num("cluster-announce-port", None, M, s(0, 65535), INT, 0),
    num("cluster-announce-tls-port", None, M, s(0, 65535), INT, 0),
    num("repl-timeout", None, M, s(1, INT_MAX), INT, 60),
    num(
        "repl-ping-replica-period",
        Some("repl-ping-slave-period"),
        M,
        s(1, INT_MAX),
        INT,
        10,
    ),
    num("list-compress-depth", None, M, s(0, INT_MAX), INT, 0),
    num(
        "rdb-key-save-delay",
        None,
        HIDDEN,
        s(INT_MIN, INT_MAX),
        INT,
        0,
    ),
    num("key-load-delay", None, HIDDEN, s(INT_MIN, INT_MAX), INT, 0),
    num("active-expire-effort", None, M, s(1, 10), INT, 1),
    num("hz", None, M, s(0, INT_MAX), INT, 10),
    num(
        "min-replicas-to-write",
        Some("min-slaves-to-write"),
        M,
        s(0, INT_MAX),
        INT,
        0,
    ),
    num(
        "min-replicas-max-lag",
        Some("min-slaves-max-lag"),
        M,
        s(0, INT_MAX),
        INT,
        10,
    ),
    num("watchdog-period", None, HIDDEN, s(0, INT_MAX), INT, 0),
    num("shutdown-timeout", None, M, s(0, INT_MAX), INT, 10),
    num(
        "repl-diskless-sync-max-replicas",
        None,
        M,
        s(0, INT_MAX),
        INT,
        0,
    ),
    num("maxclients", None, M, u(1, UINT_MAX), INT, 10000),
    num("unixsocketperm", None, I, u(0, 0o777), NumFmt::Octal, 0),
    num("socket-mark-id", None, I, u(0, UINT_MAX), INT, 0),
    num(
        "active-defrag-max-scan-fields",
        None,
        M,
        s(1, LONG_MAX),
        INT,
        1000,
    ),
    num("slowlog-max-len", None, M, s(0, LONG_MAX), INT, 128),
    num("acllog-max-len", None, M, s(0, LONG_MAX), INT, 128),
    num(
        "busy-reply-threshold",
        Some("lua-time-limit"),
        M,
        s(0, LONG_MAX),
        INT,
        5000,
    ),
    num("cluster-node-timeout", None, M, s(0, LONG_MAX), INT, 15000),
    num(
        "slowlog-log-slower-than",
        None,
        M,
        s(-1, LONG_MAX),
        INT,
        10000,
    ),
    num("latency-monitor-threshold", None, M, s(0, LONG_MAX), INT, 0),
    num(
        "proto-max-bulk-len",
        None,
        M,
        s(1024 * 1024, LONG_MAX),
        MEM,
        512 * 1024 * 1024,
    ),
    num("stream-node-max-entries", None, M, s(0, LONG_MAX), INT, 100),
    num(
        "repl-backlog-size",
        None,
        M,
        s(1, LONG_MAX),
        MEM,
        1024 * 1024,
    ),
    num("maxmemory", None, M, u(0, ULLONG_MAX), MEM, 0),
    num(
        "cluster-link-sendbuf-limit",
        None,
        M,
        u(0, ULLONG_MAX),
        MEM,
        0,
    ),
    num(
        "hash-max-listpack-entries",
        Some("hash-max-ziplist-entries"),
        M,
        u(0, LONG_MAX),
        INT,
        512,
    ),
    num("set-max-intset-entries", None, M, u(0, LONG_MAX), INT, 512),
    num(
        "zset-max-listpack-entries",
        Some("zset-max-ziplist-entries"),
        M,
        u(0, LONG_MAX),
        INT,
        128,
    ),
    num(
        "active-defrag-ignore-bytes",
        None,
        M,
        u(1, LONG_MAX),
        MEM,
        100 << 20,
    ),
    num(
        "hash-max-listpack-value",
        Some("hash-max-ziplist-value"),
        M,
        u(0, LONG_MAX),
        MEM,
        64,
    ),
    num("stream-node-max-bytes", None, M, u(0, LONG_MAX), MEM, 4096),
    num(
        "zset-max-listpack-value",
        Some("zset-max-ziplist-value"),
        M,
        u(0, LONG_MAX),
        MEM,
        64,
    ),
    num("hll-sparse-max-bytes", None, M, u(0, LONG_MAX), MEM, 3000),
    num(
        "tracking-table-max-keys",
        None,
        M,
        u(0, LONG_MAX),
        INT,
        1_000_000,
    ),
    num(
        "client-query-buffer-limit",
        None,
        M,
        u(1024 * 1024, LONG_MAX),
        MEM,
        1024 * 1024 * 1024,
    ),
    num(
        "maxmemory-clients",
        None,
        M,
        s(-100, LONG_MAX),
        NumFmt::MemoryPercent,
        0,
    ),
    num("repl-backlog-ttl", None, M, s(0, LONG_MAX), INT, 3600),
    num(
        "auto-aof-rewrite-min-size",
        None,
        M,
        s(0, LONG_MAX),
        MEM,
        64 * 1024 * 1024,
    ),
    num(
        "loading-process-events-interval-bytes",
        None,
        HIDDEN,
        s(1024, INT_MAX),
        INT,
        2 * 1024 * 1024,
    ),
    // TLS (stored; Ember serves plain TCP).
    num("tls-port", None, M, s(0, 65535), INT, 0),
    num(
        "tls-session-cache-size",
        None,
        M,
        s(0, INT_MAX),
        INT,
        20 * 1024,
    ),
    num(
        "tls-session-cache-timeout",
        None,
        M,
        s(0, INT_MAX),
        INT,
        300,
    ),
    boolean("tls-cluster", None, M, false),
    boolean("tls-replication", None, M, false),
    enumeration("tls-auth-clients", M, TLS_AUTH_CLIENTS_OPTIONS, 1),
    boolean("tls-prefer-server-ciphers", None, M, false),
    boolean("tls-session-caching", None, M, true),
    string("tls-cert-file", None, NULLABLE, ""),
    string("tls-key-file", None, NULLABLE, ""),
    string("tls-key-file-pass", None, NULLABLE, ""),
    string("tls-client-cert-file", None, NULLABLE, ""),
    string("tls-client-key-file", None, NULLABLE, ""),
    string("tls-client-key-file-pass", None, NULLABLE, ""),
    string("tls-dh-params-file", None, NULLABLE, ""),
    string("tls-ca-cert-file", None, NULLABLE, ""),
    string("tls-ca-cert-dir", None, NULLABLE, ""),
    string("tls-protocols", None, NULLABLE, ""),
    string("tls-ciphers", None, NULLABLE, ""),
    string("tls-ciphersuites", None, NULLABLE, ""),
    // Special.
    special("dir", None, PROTECTED | DENY_LOADING, Special::Dir),
    special("save", None, MULTI_ARG, Special::Save),
    special(
        "client-output-buffer-limit",
        None,
        MULTI_ARG,
        Special::ClientOutputBufferLimit,
    ),
    special(
        "oom-score-adj-values",
        None,
        MULTI_ARG,
        Special::OomScoreAdjValues,
    ),
    special(
        "notify-keyspace-events",
        None,
        M,
        Special::NotifyKeyspaceEvents,
    ),
    special("bind", None, MULTI_ARG, Special::Bind),
    special(
        "replicaof",
        Some("slaveof"),
        I | MULTI_ARG,
        Special::ReplicaOf,
    ),
    special(
        "latency-tracking-info-percentiles",
        None,
        MULTI_ARG,
        Special::LatencyTrackingInfoPercentiles,
    ),
];

/// Directives Redis 7.0 still accepts in a config file (with exactly one argument)
/// and ignores.
const DEPRECATED: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

/// Finds a directive by name or alias, ASCII case-insensitively.
pub fn find(name: &[u8]) -> Option<usize> {
    DIRECTIVES.iter().position(|d| {
        d.name.as_bytes().eq_ignore_ascii_case(name)
            || d.alias
                .is_some_and(|a| a.as_bytes().eq_ignore_ascii_case(name))
    })
}

/// Every name CONFIG GET can match: each directive's name, then its alias.
pub fn names() -> impl Iterator<Item = (usize, &'static str)> {
    DIRECTIVES
        .iter()
        .enumerate()
        .flat_map(|(i, d)| std::iter::once((i, d.name)).chain(d.alias.map(|a| (i, a))))
}

/// The default value of every directive, indexed like [`DIRECTIVES`].
pub fn default_values() -> Vec<Val> {
    DIRECTIVES.iter().map(default_val).collect()
}

fn default_val(d: &Directive) -> Val {
    match d.kind {
        Kind::Bool(b) => Val::Bool(b),
        Kind::Num { default, .. } => Val::Int(default),
        Kind::Enum { default, .. } | Kind::Flags { default, .. } => Val::Int(default),
        Kind::Str(s) => Val::Str(s.as_bytes().to_vec()),
        Kind::Special(sp) => match sp {
            Special::Dir => Val::Str(b".".to_vec()),
            Special::Save => Val::Save(vec![(3600, 1), (300, 100), (60, 10000)]),
            Special::ClientOutputBufferLimit => Val::Obuf(Config::default_obuf()),
            Special::OomScoreAdjValues => Val::Oom([0, 200, 800]),
            Special::NotifyKeyspaceEvents => Val::Int(0),
            Special::Bind => Val::List(vec!["*".into(), "-::*".into()]),
            Special::ReplicaOf => Val::ReplicaOf(None),
            Special::LatencyTrackingInfoPercentiles => Val::Floats(vec![50.0, 99.0, 99.9]),
        },
    }
}

impl Config {
    fn default_obuf() -> [ObufLimit; 3] {
        [
            ObufLimit {
                hard_bytes: 0,
                soft_bytes: 0,
                soft_secs: 0,
            },
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
        ]
    }
}

// ---------------------------------------------------------------------------
// Typed fields: the directives the core acts upon live in `Config`'s fields.

/// Conversion between a typed `Config` field and a [`Val`].
trait Slot {
    fn to_val(&self) -> Val;
    fn put(&mut self, v: Val);
}

impl Slot for bool {
    fn to_val(&self) -> Val {
        Val::Bool(*self)
    }
    fn put(&mut self, v: Val) {
        if let Val::Bool(b) = v {
            *self = b;
        }
    }
}

macro_rules! int_slot {
    ($($t:ty),*) => {$(
        impl Slot for $t {
            fn to_val(&self) -> Val {
                Val::Int(*self as i64)
            }
            fn put(&mut self, v: Val) {
                if let Val::Int(n) = v {
                    *self = n as $t;
                }
            }
        }
    )*};
}
int_slot!(u16, u32, u64, i64, usize);

impl Slot for String {
    fn to_val(&self) -> Val {
        Val::Str(self.as_bytes().to_vec())
    }
    fn put(&mut self, v: Val) {
        if let Val::Str(s) = v {
            *self = String::from_utf8_lossy(&s).into_owned();
        }
    }
}

impl Slot for Option<Vec<u8>> {
    fn to_val(&self) -> Val {
        Val::Str(self.clone().unwrap_or_default())
    }
    fn put(&mut self, v: Val) {
        if let Val::Str(s) = v {
            *self = if s.is_empty() { None } else { Some(s) };
        }
    }
}

impl Slot for Option<String> {
    fn to_val(&self) -> Val {
        Val::Str(self.clone().unwrap_or_default().into_bytes())
    }
    fn put(&mut self, v: Val) {
        if let Val::Str(s) = v {
            *self = if s.is_empty() {
                None
            } else {
                Some(String::from_utf8_lossy(&s).into_owned())
            };
        }
    }
}

impl Slot for Vec<String> {
    fn to_val(&self) -> Val {
        Val::List(self.clone())
    }
    fn put(&mut self, v: Val) {
        if let Val::List(l) = v {
            *self = l;
        }
    }
}

impl Slot for Vec<(i64, i64)> {
    fn to_val(&self) -> Val {
        Val::Save(self.clone())
    }
    fn put(&mut self, v: Val) {
        if let Val::Save(l) = v {
            *self = l;
        }
    }
}

impl Slot for Vec<f64> {
    fn to_val(&self) -> Val {
        Val::Floats(self.clone())
    }
    fn put(&mut self, v: Val) {
        if let Val::Floats(l) = v {
            *self = l;
        }
    }
}

impl Slot for [ObufLimit; 3] {
    fn to_val(&self) -> Val {
        Val::Obuf(*self)
    }
    fn put(&mut self, v: Val) {
        if let Val::Obuf(l) = v {
            *self = l;
        }
    }
}

impl Slot for Option<(String, u16)> {
    fn to_val(&self) -> Val {
        Val::ReplicaOf(self.clone())
    }
    fn put(&mut self, v: Val) {
        if let Val::ReplicaOf(r) = v {
            *self = r;
        }
    }
}

/// Enums stored as the option values of their directive's table.
macro_rules! enum_slot {
    ($t:ty, $($variant:expr => $id:expr),* $(,)?) => {
        impl Slot for $t {
            fn to_val(&self) -> Val {
                $(if *self == $variant { return Val::Int($id); })*
                Val::Int(0)
            }
            fn put(&mut self, v: Val) {
                if let Val::Int(n) = v {
                    $(if n == $id { *self = $variant; return; })*
                }
            }
        }
    };
}

enum_slot!(LogLevel,
    LogLevel::Debug => 0, LogLevel::Verbose => 1, LogLevel::Notice => 2, LogLevel::Warning => 3);
enum_slot!(MaxmemoryPolicy,
    MaxmemoryPolicy::VolatileLru => 0, MaxmemoryPolicy::VolatileLfu => 1,
    MaxmemoryPolicy::VolatileRandom => 2, MaxmemoryPolicy::VolatileTtl => 3,
    MaxmemoryPolicy::AllkeysLru => 4, MaxmemoryPolicy::AllkeysLfu => 5,
    MaxmemoryPolicy::AllkeysRandom => 6, MaxmemoryPolicy::Noeviction => 7);
enum_slot!(AppendFsync,
    AppendFsync::Everysec => 0, AppendFsync::Always => 1, AppendFsync::No => 2);
enum_slot!(ProtectedAction,
    ProtectedAction::No => 0, ProtectedAction::Yes => 1, ProtectedAction::Local => 2);
enum_slot!(SanitizeDumpPayload,
    SanitizeDumpPayload::No => 0, SanitizeDumpPayload::Yes => 1, SanitizeDumpPayload::Clients => 2);
enum_slot!(ReplDisklessLoad,
    ReplDisklessLoad::Disabled => 0, ReplDisklessLoad::OnEmptyDb => 1, ReplDisklessLoad::Swapdb => 2);

macro_rules! typed_fields {
    ($($name:literal => $field:ident),* $(,)?) => {
        fn typed_get(c: &Config, name: &str) -> Option<Val> {
            match name {
                $($name => Some(Slot::to_val(&c.$field)),)*
                _ => None,
            }
        }

        fn typed_put(c: &mut Config, name: &str, v: Val) -> Result<(), Val> {
            match name {
                $($name => {
                    Slot::put(&mut c.$field, v);
                    Ok(())
                })*
                _ => Err(v),
            }
        }

        #[cfg(test)]
        const TYPED_NAMES: &[&str] = &[$($name),*];
    };
}

typed_fields! {
    "port" => port,
    "bind" => bind,
    "dir" => dir,
    "requirepass" => requirepass,
    "databases" => databases,
    "hz" => hz,
    "dynamic-hz" => dynamic_hz,
    "daemonize" => daemonize,
    "proto-max-bulk-len" => proto_max_bulk_len,
    "client-query-buffer-limit" => client_query_buffer_limit,
    "maxclients" => maxclients,
    "timeout" => timeout_secs,
    "maxmemory" => maxmemory,
    "maxmemory-policy" => maxmemory_policy,
    "maxmemory-samples" => maxmemory_samples,
    "maxmemory-eviction-tenacity" => maxmemory_eviction_tenacity,
    "maxmemory-clients" => maxmemory_clients,
    "lfu-log-factor" => lfu_log_factor,
    "lfu-decay-time" => lfu_decay_time,
    "active-expire-effort" => active_expire_effort,
    "activerehashing" => activerehashing,
    "loglevel" => loglevel,
    "logfile" => logfile,
    "pidfile" => pidfile,
    "always-show-logo" => always_show_logo,
    "set-proc-title" => set_proc_title,
    "syslog-enabled" => syslog_enabled,
    "protected-mode" => protected_mode,
    "tcp-backlog" => tcp_backlog,
    "tcp-keepalive" => tcp_keepalive,
    "unixsocket" => unixsocket,
    "unixsocketperm" => unixsocketperm,
    "io-threads" => io_threads,
    "save" => save_params,
    "dbfilename" => dbfilename,
    "rdbcompression" => rdbcompression,
    "rdbchecksum" => rdbchecksum,
    "rdb-del-sync-files" => rdb_del_sync_files,
    "stop-writes-on-bgsave-error" => stop_writes_on_bgsave_error,
    "appendonly" => appendonly,
    "appendfsync" => appendfsync,
    "appendfilename" => appendfilename,
    "appenddirname" => appenddirname,
    "aof-use-rdb-preamble" => aof_use_rdb_preamble,
    "aof-load-truncated" => aof_load_truncated,
    "aof-timestamp-enabled" => aof_timestamp_enabled,
    "aof-rewrite-incremental-fsync" => aof_rewrite_incremental_fsync,
    "rdb-save-incremental-fsync" => rdb_save_incremental_fsync,
    "no-appendfsync-on-rewrite" => no_appendfsync_on_rewrite,
    "auto-aof-rewrite-percentage" => auto_aof_rewrite_percentage,
    "auto-aof-rewrite-min-size" => auto_aof_rewrite_min_size,
    "sanitize-dump-payload" => sanitize_dump_payload,
    "hash-max-listpack-entries" => hash_max_listpack_entries,
    "hash-max-listpack-value" => hash_max_listpack_value,
    "zset-max-listpack-entries" => zset_max_listpack_entries,
    "zset-max-listpack-value" => zset_max_listpack_value,
    "set-max-intset-entries" => set_max_intset_entries,
    "list-max-listpack-size" => list_max_listpack_size,
    "list-compress-depth" => list_compress_depth,
    "stream-node-max-bytes" => stream_node_max_bytes,
    "stream-node-max-entries" => stream_node_max_entries,
    "hll-sparse-max-bytes" => hll_sparse_max_bytes,
    "lazyfree-lazy-eviction" => lazyfree_lazy_eviction,
    "lazyfree-lazy-expire" => lazyfree_lazy_expire,
    "lazyfree-lazy-server-del" => lazyfree_lazy_server_del,
    "lazyfree-lazy-user-del" => lazyfree_lazy_user_del,
    "lazyfree-lazy-user-flush" => lazyfree_lazy_user_flush,
    "slowlog-log-slower-than" => slowlog_log_slower_than,
    "slowlog-max-len" => slowlog_max_len,
    "latency-monitor-threshold" => latency_monitor_threshold,
    "latency-tracking" => latency_tracking,
    "latency-tracking-info-percentiles" => latency_tracking_info_percentiles,
    "notify-keyspace-events" => notify_keyspace_events,
    "acllog-max-len" => acllog_max_len,
    "aclfile" => aclfile,
    "tracking-table-max-keys" => tracking_table_max_keys,
    "busy-reply-threshold" => busy_reply_threshold,
    "client-output-buffer-limit" => client_output_buffer_limit,
    "enable-debug-command" => enable_debug_command,
    "enable-protected-configs" => enable_protected_configs,
    "enable-module-command" => enable_module_command,
    "shutdown-timeout" => shutdown_timeout,
    "shutdown-on-sigint" => shutdown_on_sigint,
    "shutdown-on-sigterm" => shutdown_on_sigterm,
    "replicaof" => replicaof,
    "masterauth" => masterauth,
    "masteruser" => masteruser,
    "replica-read-only" => replica_read_only,
    "replica-serve-stale-data" => replica_serve_stale_data,
    "replica-lazy-flush" => replica_lazy_flush,
    "replica-priority" => replica_priority,
    "replica-announce-ip" => replica_announce_ip,
    "replica-announce-port" => replica_announce_port,
    "repl-backlog-size" => repl_backlog_size,
    "repl-backlog-ttl" => repl_backlog_ttl,
    "repl-timeout" => repl_timeout,
    "repl-ping-replica-period" => repl_ping_replica_period,
    "repl-diskless-sync" => repl_diskless_sync,
    "repl-diskless-sync-delay" => repl_diskless_sync_delay,
    "repl-diskless-sync-max-replicas" => repl_diskless_sync_max_replicas,
    "repl-diskless-load" => repl_diskless_load,
    "repl-disable-tcp-nodelay" => repl_disable_tcp_nodelay,
    "min-replicas-to-write" => min_replicas_to_write,
    "min-replicas-max-lag" => min_replicas_max_lag,
    "cluster-enabled" => cluster_enabled,
    "cluster-config-file" => cluster_config_file,
    "cluster-node-timeout" => cluster_node_timeout,
    "cluster-port" => cluster_port,
    "cluster-require-full-coverage" => cluster_require_full_coverage,
    "cluster-allow-reads-when-down" => cluster_allow_reads_when_down,
}

/// The current value of directive `index`.
pub fn read(config: &Config, index: usize) -> Val {
    let d = &DIRECTIVES[index];
    typed_get(config, d.name)
        .or_else(|| config.values.get(index).cloned())
        .unwrap_or_else(|| default_val(d))
}

/// Replaces the value of directive `index` (no validation: see [`set_from_args`]).
pub fn write(config: &mut Config, index: usize, v: Val) {
    let name = DIRECTIVES[index].name;
    if let Err(v) = typed_put(config, name, v) {
        if config.values.len() != DIRECTIVES.len() {
            config.values = default_values();
        }
        config.values[index] = v;
    }
}

// ---------------------------------------------------------------------------
// Printing (CONFIG GET).

/// Directive `index`'s value as CONFIG GET prints it.
pub fn get(config: &Config, index: usize) -> Vec<u8> {
    let d = &DIRECTIVES[index];
    format_val(d, &read(config, index))
}

fn format_val(d: &Directive, v: &Val) -> Vec<u8> {
    match (d.kind, v) {
        (Kind::Bool(_), Val::Bool(b)) => yes_no(*b).as_bytes().to_vec(),
        (Kind::Num { fmt, .. }, Val::Int(n)) => format_num(fmt, *n).into_bytes(),
        (Kind::Enum { options, .. }, Val::Int(n)) => enum_name(options, *n).as_bytes().to_vec(),
        (Kind::Flags { options, .. }, Val::Int(n)) => flags_names(options, *n).into_bytes(),
        (Kind::Special(Special::NotifyKeyspaceEvents), Val::Int(n)) => {
            notify_flags_to_string(*n as u32).into_bytes()
        }
        (_, Val::Str(s)) => s.clone(),
        (_, Val::List(l)) => l.join(" ").into_bytes(),
        (_, Val::Save(points)) => points
            .iter()
            .map(|(secs, changes)| format!("{secs} {changes}"))
            .collect::<Vec<_>>()
            .join(" ")
            .into_bytes(),
        (_, Val::Obuf(limits)) => format_obuf(limits).into_bytes(),
        (_, Val::Oom(values)) => format!("{} {} {}", values[0], values[1], values[2]).into_bytes(),
        (_, Val::Floats(values)) => values
            .iter()
            .map(|v| format_percentile(*v))
            .collect::<Vec<_>>()
            .join(" ")
            .into_bytes(),
        (_, Val::ReplicaOf(Some((host, port)))) => format!("{host} {port}").into_bytes(),
        _ => Vec::new(),
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn format_num(fmt: NumFmt, n: i64) -> String {
    match fmt {
        NumFmt::MemoryPercent if n < 0 => format!("{}%", n.unsigned_abs()),
        NumFmt::Memory | NumFmt::MemoryPercent => (n as u64).to_string(),
        NumFmt::Octal => format!("{:o}", n as u64),
        NumFmt::Int => n.to_string(),
    }
}

/// The first option with this value (`oom-score-adj relative` prints `yes`).
fn enum_name(options: &[(&'static str, i64)], n: i64) -> &'static str {
    options
        .iter()
        .find(|(_, v)| *v == n)
        .map_or("unknown", |(name, _)| name)
}

fn flags_names(options: &[(&'static str, i64)], n: i64) -> String {
    if n == 0 {
        return enum_name(options, 0).to_string();
    }
    options
        .iter()
        .filter(|(_, v)| *v != 0 && n & v == *v)
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(" ")
}

fn format_obuf(limits: &[ObufLimit; 3]) -> String {
    ["normal", "slave", "pubsub"]
        .iter()
        .zip(limits)
        .map(|(class, l)| format!("{class} {} {} {}", l.hard_bytes, l.soft_bytes, l.soft_secs))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `%f` with trailing zeros (and a trailing dot) removed, as Redis's trimDoubleString.
fn format_percentile(v: f64) -> String {
    let text = format!("{v:.6}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Redis's keyspaceEventsFlagsToString.
pub fn notify_flags_to_string(flags: u32) -> String {
    let mut out = String::new();
    if flags & notify::ALL == notify::ALL {
        out.push('A');
    } else {
        for (bit, c) in [
            (notify::GENERIC, 'g'),
            (notify::STRING, '$'),
            (notify::LIST, 'l'),
            (notify::SET, 's'),
            (notify::HASH, 'h'),
            (notify::ZSET, 'z'),
            (notify::EXPIRED, 'x'),
            (notify::EVICTED, 'e'),
            (notify::STREAM, 't'),
            (notify::MODULE, 'd'),
            (notify::NEW, 'n'),
        ] {
            if flags & bit != 0 {
                out.push(c);
            }
        }
    }
    for (bit, c) in [
        (notify::KEYSPACE, 'K'),
        (notify::KEYEVENT, 'E'),
        (notify::KEY_MISS, 'm'),
    ] {
        if flags & bit != 0 {
            out.push(c);
        }
    }
    out
}

/// Redis's keyspaceEventsStringToFlags; `None` for an unknown class character.
pub fn notify_flags_from_string(classes: &[u8]) -> Option<u32> {
    let mut flags = 0;
    for &c in classes {
        flags |= match c {
            b'A' => notify::ALL,
            b'g' => notify::GENERIC,
            b'$' => notify::STRING,
            b'l' => notify::LIST,
            b's' => notify::SET,
            b'h' => notify::HASH,
            b'z' => notify::ZSET,
            b'x' => notify::EXPIRED,
            b'e' => notify::EVICTED,
            b'K' => notify::KEYSPACE,
            b'E' => notify::KEYEVENT,
            b't' => notify::STREAM,
            b'm' => notify::KEY_MISS,
            b'd' => notify::MODULE,
            b'n' => notify::NEW,
            _ => return None,
        };
    }
    Some(flags)
}

// ---------------------------------------------------------------------------
// Parsing (config file, command line, CONFIG SET).

/// What a set is part of: loading the config file (where `save` lines accumulate and
/// `dir` changes directory through the host) or a CONFIG SET.
pub enum SetMode<'a> {
    File {
        save_loaded: &'a mut bool,
        host: &'a mut dyn LoadHost,
    },
    Runtime,
}

/// Parses `args` for directive `index` and stores the value. Returns whether the
/// value changed (Redis runs a directive's apply step only then).
pub fn set_from_args(
    config: &mut Config,
    index: usize,
    args: &[&[u8]],
    mode: SetMode<'_>,
) -> Result<bool, String> {
    let d = &DIRECTIVES[index];
    let old = read(config, index);
    let new = parse(config, d, &old, args, mode)?;
    if let Some(check) = d.check {
        check(&new).map_err(str::to_string)?;
    }
    let changed = match d.kind {
        Kind::Special(Special::OomScoreAdjValues) => new != old,
        Kind::Special(_) => true,
        _ => new != old,
    };
    write(config, index, new);
    Ok(changed)
}

/// CONFIG SET's form: one value, split on single spaces for multi-argument
/// directives (as sdssplitlen does: `""` gives no arguments).
pub fn set_from_value(config: &mut Config, index: usize, value: &[u8]) -> Result<bool, String> {
    let d = &DIRECTIVES[index];
    let args: Vec<&[u8]> = if d.has(MULTI_ARG) {
        if value.is_empty() {
            Vec::new()
        } else {
            value.split(|&b| b == b' ').collect()
        }
    } else {
        vec![value]
    };
    set_from_args(config, index, &args, SetMode::Runtime)
}

fn parse(
    config: &mut Config,
    d: &Directive,
    old: &Val,
    args: &[&[u8]],
    mode: SetMode<'_>,
) -> Result<Val, String> {
    let first = args.first().copied().unwrap_or_default();
    match d.kind {
        Kind::Bool(_) => parse_yes_no(first).map(Val::Bool),
        Kind::Num {
            min,
            max,
            unsigned,
            fmt,
            ..
        } => {
            let n = parse_num(fmt, first)?;
            check_bounds(n, min, max, unsigned, fmt)?;
            Ok(Val::Int(n))
        }
        Kind::Enum { options, .. } => enum_value(options, first)
            .map(Val::Int)
            .ok_or_else(|| enum_error(options)),
        Kind::Flags { options, .. } => {
            if args.is_empty() {
                return Err(enum_error(options));
            }
            let mut flags = 0;
            for arg in args {
                flags |= enum_value(options, arg).ok_or_else(|| enum_error(options))?;
            }
            Ok(Val::Int(flags))
        }
        Kind::Str(_) => Ok(Val::Str(c_string(first).to_vec())),
        Kind::Special(sp) => parse_special(config, sp, old, args, mode),
    }
}

fn parse_special(
    config: &mut Config,
    sp: Special,
    old: &Val,
    args: &[&[u8]],
    mode: SetMode<'_>,
) -> Result<Val, String> {
    match sp {
        Special::Dir => {
            let path =
                String::from_utf8_lossy(args.first().copied().unwrap_or_default()).into_owned();
            let new = match mode {
                SetMode::File { host, .. } => host.chdir(&path).map(|()| path)?,
                SetMode::Runtime => match config.hooks.chdir {
                    Some(chdir) => chdir(&path)?,
                    None => path,
                },
            };
            Ok(Val::Str(new.into_bytes()))
        }
        Special::Save => {
            let points = parse_save(args)?;
            match (mode, old) {
                // While reading the file, the first `save` line replaces the defaults
                // and later ones add to it.
                (SetMode::File { save_loaded, .. }, Val::Save(existing)) if *save_loaded => {
                    let mut all = existing.clone();
                    all.extend(points);
                    Ok(Val::Save(all))
                }
                (SetMode::File { save_loaded, .. }, _) => {
                    *save_loaded = true;
                    Ok(Val::Save(points))
                }
                (SetMode::Runtime, _) => Ok(Val::Save(points)),
            }
        }
        Special::ClientOutputBufferLimit => {
            let Val::Obuf(current) = old else {
                return Err("Wrong number of arguments in buffer limit configuration.".into());
            };
            parse_obuf(*current, args).map(Val::Obuf)
        }
        Special::OomScoreAdjValues => parse_oom(args).map(Val::Oom),
        Special::NotifyKeyspaceEvents => {
            if args.len() != 1 {
                return Err("wrong number of arguments".into());
            }
            notify_flags_from_string(args[0])
                .map(|f| Val::Int(i64::from(f)))
                .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into())
        }
        Special::Bind => {
            if args.len() > BIND_ADDRS_MAX {
                return Err("Too many bind addresses specified.".into());
            }
            let args = if args.len() == 1 && args[0].is_empty() {
                &[][..]
            } else {
                args
            };
            Ok(Val::List(
                args.iter()
                    .map(|a| String::from_utf8_lossy(c_string(a)).into_owned())
                    .collect(),
            ))
        }
        Special::ReplicaOf => parse_replicaof(args).map(Val::ReplicaOf),
        Special::LatencyTrackingInfoPercentiles => parse_percentiles(args).map(Val::Floats),
    }
}

/// C strings end at the first NUL, as Redis's `char *` configs do.
fn c_string(s: &[u8]) -> &[u8] {
    s.iter().position(|&b| b == 0).map_or(s, |end| &s[..end])
}

fn parse_yes_no(arg: &[u8]) -> Result<bool, String> {
    if arg.eq_ignore_ascii_case(b"yes") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"no") {
        Ok(false)
    } else {
        Err("argument must be 'yes' or 'no'".into())
    }
}

fn enum_value(options: &[(&str, i64)], arg: &[u8]) -> Option<i64> {
    options
        .iter()
        .find(|(name, _)| name.as_bytes().eq_ignore_ascii_case(arg))
        .map(|(_, v)| *v)
}

fn enum_error(options: &[(&str, i64)]) -> String {
    let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
    format!(
        "argument(s) must be one of the following: {}",
        names.join(", ")
    )
}

/// Redis's numericParseString.
fn parse_num(fmt: NumFmt, arg: &[u8]) -> Result<i64, String> {
    match fmt {
        NumFmt::Memory => mem_to_u64(arg)
            .map(|v| v as i64)
            .ok_or_else(|| "argument must be a memory value".into()),
        NumFmt::MemoryPercent => {
            if let Some(v) = mem_to_u64(arg) {
                return Ok(v as i64);
            }
            if arg.len() > 1 && arg.ends_with(b"%") {
                if let Some(p) = crate::util::num::parse_i64(&arg[..arg.len() - 1]) {
                    if p >= 0 {
                        return Ok(-p);
                    }
                }
            }
            Err("argument must be a memory or percent value".into())
        }
        NumFmt::Octal => c_strtoll(arg, 8)
            .filter(|&(_, all, overflow)| all && !overflow)
            .map(|(v, _, _)| v)
            .ok_or_else(|| "argument couldn't be parsed as an octal number".into()),
        NumFmt::Int => crate::util::num::parse_i64(arg)
            .ok_or_else(|| "argument couldn't be parsed into an integer".into()),
    }
}

fn check_bounds(n: i64, min: i128, max: i128, unsigned: bool, fmt: NumFmt) -> Result<(), String> {
    if unsigned {
        let v = i128::from(n as u64);
        if v > max || v < min {
            return Err(if fmt == NumFmt::Octal {
                format!("argument must be between {min:o} and {max:o} inclusive")
            } else {
                format!("argument must be between {min} and {max} inclusive")
            });
        }
        return Ok(());
    }
    let v = i128::from(n);
    if fmt == NumFmt::MemoryPercent && n < 0 {
        if v < min {
            return Err(format!(
                "percentage argument must be less or equal to {}",
                -min
            ));
        }
        return Ok(());
    }
    if v > max || v < min {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(())
}

/// Redis's memtoull: digits then an optional unit (b, k, kb, m, mb, g, gb, any case).
/// Digits saturate like strtoull and the unit multiplication wraps, as in C.
pub fn mem_to_u64(arg: &[u8]) -> Option<u64> {
    if arg.first() == Some(&b'-') {
        return None;
    }
    let digits_end = arg
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(arg.len());
    let unit = &arg[digits_end..];
    let mul: u64 = match unit.to_ascii_lowercase().as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits_end >= 128 {
        return None;
    }
    let mut value: u64 = 0;
    for &d in &arg[..digits_end] {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .unwrap_or(u64::MAX);
        if value == u64::MAX {
            break;
        }
    }
    Some(value.wrapping_mul(mul))
}

/// C's strtoll: leading whitespace, optional sign, digits in `base`; returns the value
/// (saturated), whether the whole input was consumed, and whether it overflowed.
fn c_strtoll(s: &[u8], base: u32) -> Option<(i64, bool, bool)> {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut value: i128 = 0;
    let mut overflow = false;
    while i < s.len() {
        let Some(d) = (s[i] as char).to_digit(base) else {
            break;
        };
        value = value * i128::from(base) + i128::from(d);
        if value > i128::from(i64::MAX) + 1 {
            overflow = true;
            value = i128::from(i64::MAX) + 1;
        }
        i += 1;
    }
    if i == start {
        // No digits: the end pointer stays at the very start of the input.
        return Some((0, s.is_empty(), false));
    }
    let signed = if negative { -value } else { value };
    let clamped = signed.clamp(i128::from(i64::MIN), i128::from(i64::MAX));
    overflow |= clamped != signed;
    Some((clamped as i64, i == s.len(), overflow))
}

fn parse_save(args: &[&[u8]]) -> Result<Vec<(i64, i64)>, String> {
    const INVALID: &str = "Invalid save parameters";
    let args = if args.len() == 1 && args[0].is_empty() {
        &[][..]
    } else {
        args
    };
    if args.len() % 2 == 1 {
        return Err(INVALID.into());
    }
    let mut values = Vec::with_capacity(args.len());
    for (j, arg) in args.iter().enumerate() {
        let (v, all, _) = c_strtoll(arg, 10).unwrap_or((0, false, false));
        let min = if j % 2 == 0 { 1 } else { 0 };
        if !all || v < min {
            return Err(INVALID.into());
        }
        values.push(v);
    }
    // Redis stores the change count in an int.
    Ok(values
        .chunks(2)
        .map(|pair| (pair[0], i64::from(pair[1] as i32)))
        .collect())
}

fn parse_obuf(mut limits: [ObufLimit; 3], args: &[&[u8]]) -> Result<[ObufLimit; 3], String> {
    if !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    for chunk in args.chunks(4) {
        let class = match chunk[0].to_ascii_lowercase().as_slice() {
            b"normal" => 0,
            b"slave" | b"replica" => 1,
            b"pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let hard = mem_to_u64(chunk[1]);
        let soft = mem_to_u64(chunk[2]);
        // Redis keeps soft_seconds in an int: the strtoll result is truncated first
        // and only then refused when negative (2^31 is refused, 2^32 reads as 0).
        let secs = c_strtoll(chunk[3], 10).filter(|&(v, all, _)| all && v as i32 >= 0);
        let (Some(hard), Some(soft), Some((secs, _, _))) = (hard, soft, secs) else {
            return Err(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.".into(),
            );
        };
        limits[class] = ObufLimit {
            hard_bytes: hard,
            soft_bytes: soft,
            soft_secs: i64::from(secs as i32),
        };
    }
    Ok(limits)
}

fn parse_oom(args: &[&[u8]]) -> Result<[i64; 3], String> {
    if args.len() != 3 {
        return Err("wrong number of arguments".into());
    }
    let mut values = [0; 3];
    for (slot, arg) in values.iter_mut().zip(args) {
        match c_strtoll(arg, 10) {
            Some((v, true, _)) if (-OOM_SCORE_ADJ_MAX..=OOM_SCORE_ADJ_MAX).contains(&v) => {
                *slot = v;
            }
            _ => {
                return Err(
                    "Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into(),
                )
            }
        }
    }
    Ok(values)
}

fn parse_replicaof(args: &[&[u8]]) -> Result<Option<(String, u16)>, String> {
    if args.len() != 2 {
        return Err("wrong number of arguments".into());
    }
    if args[0].eq_ignore_ascii_case(b"no") && args[1].eq_ignore_ascii_case(b"one") {
        return Ok(None);
    }
    match c_strtoll(args[1], 10) {
        Some((port, true, false)) if (0..=65535).contains(&port) => Ok(Some((
            String::from_utf8_lossy(c_string(args[0])).into_owned(),
            port as u16,
        ))),
        _ => Err("Invalid master port".into()),
    }
}

fn parse_percentiles(args: &[&[u8]]) -> Result<Vec<f64>, String> {
    if args.len() == 1 && args[0].is_empty() {
        return Ok(Vec::new());
    }
    args.iter()
        .map(|arg| {
            let v = crate::util::num::parse_f64(arg)
                .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
            if !(0.0..=100.0).contains(&v) {
                return Err(
                    "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
                );
            }
            Ok(v)
        })
        .collect::<Result<_, &str>>()
        .map_err(str::to_string)
}

// ---------------------------------------------------------------------------
// Validity checks with Redis's messages.

fn check_activedefrag(v: &Val) -> Result<(), &'static str> {
    if *v == Val::Bool(true) {
        return Err("Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution");
    }
    Ok(())
}

fn str_of(v: &Val) -> &[u8] {
    match v {
        Val::Str(s) => s,
        _ => &[],
    }
}

fn check_dbfilename(v: &Val) -> Result<(), &'static str> {
    if str_of(v).contains(&b'/') {
        return Err("dbfilename can't be a path, just a filename");
    }
    Ok(())
}

fn check_appendfilename(v: &Val) -> Result<(), &'static str> {
    match str_of(v) {
        [] => Err("appendfilename can't be empty"),
        s if s.contains(&b'/') => Err("appendfilename can't be a path, just a filename"),
        _ => Ok(()),
    }
}

fn check_appenddirname(v: &Val) -> Result<(), &'static str> {
    match str_of(v) {
        [] => Err("appenddirname can't be empty"),
        s if s.contains(&b'/') => Err("appenddirname can't be a path, just a dirname"),
        _ => Ok(()),
    }
}

fn check_hostname(v: &Val) -> Result<(), &'static str> {
    let s = str_of(v);
    if s.len() >= HOSTNAME_BYTES_MAX {
        return Err("Hostnames must be less than 256 characters");
    }
    if !s
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'.')
    {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots");
    }
    Ok(())
}

/// A template is valid when every `{variable}` is known, braces are closed, and the
/// expansion is not empty.
fn check_proc_title_template(v: &Val) -> Result<(), &'static str> {
    const INVALID: &str = "template format is invalid or contains unknown variables";
    const VARIABLES: &[&[u8]] = &[
        b"title",
        b"listen-addr",
        b"server-mode",
        b"port",
        b"tls-port",
        b"unixsocket",
        b"config-file",
    ];
    let s = str_of(v);
    if s.is_empty() {
        return Err(INVALID);
    }
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'{' {
            if s.get(i + 1) == Some(&b'{') {
                i += 2;
                continue;
            }
            let Some(len) = s[i + 1..].iter().position(|&c| c == b'}') else {
                return Err(INVALID);
            };
            if !VARIABLES.contains(&&s[i + 1..i + 1 + len]) {
                return Err(INVALID);
            }
            i += len + 2;
        } else {
            i += 1;
        }
    }
    Ok(())
}

fn check_shutdown_flags(v: &Val) -> Result<(), &'static str> {
    let both = i64::from(shutdown_flags::SAVE | shutdown_flags::NOSAVE);
    if let Val::Int(n) = v {
        if n & both == both {
            return Err("shutdown options SAVE and NOSAVE can't be used simultaneously");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Loading a config file.

/// What loading needs from the outside world. The defaults do nothing, so tests and
/// the simulator can load text without a file system.
pub trait LoadHost {
    /// `dir`: Redis changes directory while it reads the file.
    fn chdir(&mut self, _path: &str) -> Result<(), String> {
        Ok(())
    }

    /// `include path`: the file's text, or the system's error text.
    fn include(&mut self, path: &str) -> Result<String, String> {
        Err(format!("can't open config file '{path}'"))
    }

    /// Called once at the end with `logfile`, which Redis checks it can open.
    fn check_logfile(&mut self, _path: &str) -> Result<(), String> {
        Ok(())
    }
}

/// A host with no file system: includes fail, everything else is accepted.
pub struct NoHost;

impl LoadHost for NoHost {}

/// Why a configuration could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// Redis's "FATAL CONFIG FILE ERROR" block, printed to stderr; exit code 1.
    Fatal {
        /// The 1-based line number and the (trimmed) line text.
        line: Option<(usize, String)>,
        message: String,
    },
    /// An included file could not be opened: Redis logs this and exits with 1.
    CantOpen { path: String, reason: String },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Fatal { line, message } => {
                writeln!(
                    f,
                    "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***"
                )?;
                if let Some((number, text)) = line {
                    writeln!(f, "Reading the configuration file, at line {number}")?;
                    writeln!(f, ">>> '{text}'")?;
                }
                writeln!(f, "{message}")
            }
            LoadError::CantOpen { path, reason } => {
                write!(f, "Fatal error, can't open config file '{path}': {reason}")
            }
        }
    }
}

/// Loads a configuration from a config file's text (`None` without a file) and the
/// command-line options already turned into config lines. The text Redis parses is
/// the file, a newline, then the options, so the first option is on line 2 when
/// there is no file.
pub fn load(file_text: Option<&str>, cli_lines: &str) -> Result<Config, LoadError> {
    load_with(file_text, cli_lines, &mut NoHost)
}

/// [`load`] with a host for `dir`, `include` and the logfile check.
pub fn load_with(
    file_text: Option<&str>,
    cli_lines: &str,
    host: &mut dyn LoadHost,
) -> Result<Config, LoadError> {
    let mut text = String::from(file_text.unwrap_or(""));
    text.push('\n');
    text.push_str(cli_lines);
    let mut config = Config::default();
    let mut state = LoadState {
        save_loaded: false,
        include_depth: 0,
    };
    load_text(&mut config, &text, host, &mut state)?;
    let fatal = |message: &str| LoadError::Fatal {
        line: None,
        message: message.to_string(),
    };
    if !config.logfile.is_empty() {
        host.check_logfile(&config.logfile)
            .map_err(|e| fatal(&format!("Can't open the log file: {e}")))?;
    }
    if config.cluster_enabled && config.replicaof.is_some() {
        return Err(fatal("replicaof directive not allowed in cluster mode"));
    }
    config.hz = config.hz.clamp(HZ_MIN, HZ_MAX);
    Ok(config)
}

struct LoadState {
    save_loaded: bool,
    include_depth: usize,
}

/// Nested `include`s deeper than this are refused (a file including itself).
const INCLUDE_DEPTH_MAX: usize = 16;

fn load_text(
    config: &mut Config,
    text: &str,
    host: &mut dyn LoadHost,
    state: &mut LoadState,
) -> Result<(), LoadError> {
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fatal = |message: String| LoadError::Fatal {
            line: Some((i + 1, line.to_string())),
            message,
        };
        let Some(argv) = split_inline_args(line.as_bytes()) else {
            return Err(fatal("Unbalanced quotes in configuration line".into()));
        };
        if argv.is_empty() {
            continue;
        }
        load_line(config, &argv, host, state).map_err(|e| match e {
            LineError::Fatal(message) => fatal(message),
            LineError::Other(e) => e,
        })?;
    }
    Ok(())
}

enum LineError {
    Fatal(String),
    Other(LoadError),
}

impl From<String> for LineError {
    fn from(s: String) -> Self {
        LineError::Fatal(s)
    }
}

fn load_line(
    config: &mut Config,
    argv: &[Vec<u8>],
    host: &mut dyn LoadHost,
    state: &mut LoadState,
) -> Result<(), LineError> {
    let name = argv[0].to_ascii_lowercase();
    let argc = argv.len();
    if let Some(index) = find(&name) {
        if !DIRECTIVES[index].has(MULTI_ARG) && argc != 2 {
            return Err("wrong number of arguments".to_string().into());
        }
        // A multi-argument directive given one argument (`save "900 1"`, or
        // `--save "900 1"` on the command line) has that argument split again.
        let resplit = match DIRECTIVES[index].has(MULTI_ARG) && argc == 2 {
            true => split_inline_args(&argv[1]),
            false => None,
        };
        let args: Vec<&[u8]> = match &resplit {
            Some(parts) => parts.iter().map(Vec::as_slice).collect(),
            None => argv[1..].iter().map(Vec::as_slice).collect(),
        };
        let mode = SetMode::File {
            save_loaded: &mut state.save_loaded,
            host,
        };
        set_from_args(config, index, &args, mode)?;
        return Ok(());
    }
    if argc == 2 && DEPRECATED.iter().any(|d| d.as_bytes() == name.as_slice()) {
        return Ok(());
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match (name.as_slice(), argc) {
        (b"include", 2) => {
            let path = text(&argv[1]);
            if state.include_depth >= INCLUDE_DEPTH_MAX {
                return Err(format!("Too many nested includes at '{path}'").into());
            }
            let content = host.include(&path).map_err(|reason| {
                LineError::Other(LoadError::CantOpen {
                    path: path.clone(),
                    reason,
                })
            })?;
            state.include_depth += 1;
            let result = load_text(config, &content, host, state);
            state.include_depth -= 1;
            result.map_err(LineError::Other)
        }
        (b"rename-command", 3) => rename_command(config, &text(&argv[1]), &text(&argv[2])),
        (b"user", n) if n >= 2 => {
            config.users.push(argv[1..].to_vec());
            Ok(())
        }
        (b"loadmodule", n) if n >= 2 => Err(format!(
            "Module {} failed to load: Ember does not load Redis modules",
            text(&argv[1])
        )
        .into()),
        (b"sentinel", 1) => Ok(()),
        (b"sentinel", _) => Err("sentinel directive while not in sentinel mode"
            .to_string()
            .into()),
        (n, _) if n.contains(&b'.') => {
            if argc != 2 {
                return Err("Module config specified without value".to_string().into());
            }
            Err("Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting".to_string().into())
        }
        _ => Err("Bad directive or wrong number of arguments"
            .to_string()
            .into()),
    }
}

/// `rename-command old new`: the command must exist under `old` (after earlier
/// renames), and `new` (unless empty, which removes it) must not.
fn rename_command(config: &mut Config, old: &str, new: &str) -> Result<(), LineError> {
    if !command_name_taken(config, old) {
        return Err("No such command in rename-command".to_string().into());
    }
    config
        .renamed_commands
        .push((old.to_ascii_lowercase(), String::new()));
    if !new.is_empty() {
        if command_name_taken(config, new) {
            return Err("Target command name already exists".to_string().into());
        }
        if let Some(last) = config.renamed_commands.last_mut() {
            last.1 = new.to_string();
        }
    }
    Ok(())
}

/// Every top-level command of Redis 7.0 (`COMMAND LIST`), so `rename-command` accepts
/// the commands Redis knows even before Ember implements them.
const REDIS_COMMANDS: &str = concat!(
    "acl append asking auth bgrewriteaof bgsave bitcount bitfield bitfield_ro bitop ",
    "bitpos blmove blmpop blpop brpop brpoplpush bzmpop bzpopmax bzpopmin client cluster ",
    "command config copy dbsize debug decr decrby del discard dump echo eval eval_ro ",
    "evalsha evalsha_ro exec exists expire expireat expiretime failover fcall fcall_ro ",
    "flushall flushdb function geoadd geodist geohash geopos georadius georadius_ro ",
    "georadiusbymember georadiusbymember_ro geosearch geosearchstore get getbit getdel ",
    "getex getrange getset hdel hello hexists hget hgetall hincrby hincrbyfloat hkeys ",
    "hlen hmget hmset hrandfield hscan hset hsetnx hstrlen hvals incr incrby incrbyfloat ",
    "info keys lastsave latency lcs lindex linsert llen lmove lmpop lolwut lpop lpos ",
    "lpush lpushx lrange lrem lset ltrim memory mget migrate module monitor move mset ",
    "msetnx multi object persist pexpire pexpireat pexpiretime pfadd pfcount pfdebug ",
    "pfmerge pfselftest ping psetex psubscribe psync pttl publish pubsub punsubscribe ",
    "quit randomkey readonly readwrite rename renamenx replconf replicaof reset restore ",
    "restore-asking role rpop rpoplpush rpush rpushx sadd save scan scard script sdiff ",
    "sdiffstore select set setbit setex setnx setrange shutdown sinter sintercard ",
    "sinterstore sismember slaveof slowlog smembers smismember smove sort sort_ro spop ",
    "spublish srandmember srem sscan ssubscribe strlen subscribe substr sunion ",
    "sunionstore sunsubscribe swapdb sync time touch ttl type unlink unsubscribe unwatch ",
    "wait watch xack xadd xautoclaim xclaim xdel xgroup xinfo xlen xpending xrange xread ",
    "xreadgroup xrevrange xsetid xtrim zadd zcard zcount zdiff zdiffstore zincrby zinter ",
    "zintercard zinterstore zlexcount zmpop zmscore zpopmax zpopmin zrandmember zrange ",
    "zrangebylex zrangebyscore zrangestore zrank zrem zremrangebylex zremrangebyrank ",
    "zremrangebyscore zrevrange zrevrangebylex zrevrangebyscore zrevrank zscan zscore ",
    "zunion zunionstore ",
);

/// Whether `name` names a command once the renames so far are applied.
fn command_name_taken(config: &Config, name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let mut present = crate::command::lookup(lower.as_bytes()).is_some()
        || REDIS_COMMANDS.split(' ').any(|c| c == lower);
    for (from, to) in &config.renamed_commands {
        if *from == lower {
            present = false;
        }
        if to.eq_ignore_ascii_case(&lower) {
            present = true;
        }
    }
    present
}

/// Redis's `hz` apply step: values out of range are accepted and clamped.
pub fn clamp_hz(config: &mut Config) {
    config.hz = config.hz.clamp(HZ_MIN, HZ_MAX);
}

// ---------------------------------------------------------------------------
// CONFIG REWRITE.

/// Marks where lines added by CONFIG REWRITE begin.
const REWRITE_SIGNATURE: &str = "# Generated by CONFIG REWRITE";

/// The state of a rewrite: the old file's lines and where each option appeared.
struct Rewrite {
    lines: Vec<String>,
    /// Option name (lower case, "slave" spelled "replica") -> line indexes, in order.
    option_lines: Vec<(String, std::collections::VecDeque<usize>)>,
    processed: Vec<String>,
    needs_signature: bool,
}

impl Rewrite {
    fn read(old: &str) -> Rewrite {
        let mut state = Rewrite {
            lines: Vec::new(),
            option_lines: Vec::new(),
            processed: Vec::new(),
            needs_signature: true,
        };
        let mut parts: Vec<&str> = old.split('\n').collect();
        if old.is_empty() {
            parts.clear();
        }
        for raw in parts {
            let line = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
            if line.is_empty() || line.starts_with('#') {
                if state.needs_signature && line == REWRITE_SIGNATURE {
                    state.needs_signature = false;
                }
                state.lines.push(line.to_string());
                continue;
            }
            let Some(argv) = split_inline_args(line.as_bytes()).filter(|a| !a.is_empty()) else {
                state.lines.push(format!("# ??? {line}"));
                continue;
            };
            let mut option = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
            if let Some(at) = option.find("slave") {
                option.replace_range(at..at + 5, "replica");
            }
            let index = state.lines.len();
            state.lines.push(line.to_string());
            match state.option_lines.iter_mut().find(|(o, _)| *o == option) {
                Some((_, l)) => l.push_back(index),
                None => state
                    .option_lines
                    .push((option, std::collections::VecDeque::from([index]))),
            }
        }
        state
    }

    fn mark(&mut self, option: &str) {
        if !self.processed.iter().any(|o| o == option) {
            self.processed.push(option.to_string());
        }
    }

    /// Puts `line` where `option` was last seen in the old file, or appends it when
    /// `force` says the value differs from the default.
    fn line(&mut self, option: &str, line: String, force: bool) {
        self.mark(option);
        let slot = self
            .option_lines
            .iter_mut()
            .find(|(o, _)| o == option)
            .and_then(|(_, l)| l.pop_front());
        match slot {
            Some(index) => self.lines[index] = line,
            None if force => {
                if self.needs_signature {
                    self.lines.push(REWRITE_SIGNATURE.to_string());
                    self.needs_signature = false;
                }
                self.lines.push(line);
            }
            None => {}
        }
    }

    /// Blanks the old lines of processed options that were not reused, then joins
    /// the lines, collapsing runs of empty lines into one.
    fn finish(mut self) -> String {
        for (option, rest) in &self.option_lines {
            if self.processed.iter().any(|o| o == option) {
                for &index in rest {
                    self.lines[index].clear();
                }
            }
        }
        let mut out = String::new();
        let mut was_empty = false;
        for line in &self.lines {
            if line.is_empty() {
                if was_empty {
                    continue;
                }
                was_empty = true;
            } else {
                was_empty = false;
            }
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

/// `bytes` as CONFIG REWRITE writes memory values: with a gb/mb/kb unit when exact.
fn format_memory(bytes: i64) -> String {
    const KB: i64 = 1024;
    for (unit, size) in [("gb", KB * KB * KB), ("mb", KB * KB), ("kb", KB)] {
        if bytes != 0 && bytes % size == 0 {
            return format!("{}{unit}", bytes / size);
        }
    }
    bytes.to_string()
}

/// CONFIG REWRITE's new file content from the old one: options keep their place,
/// options at their default that were not in the file stay out, others are
/// appended after a signature line, and duplicate lines of rewritten options go.
pub fn rewrite(old: &str, config: &Config) -> String {
    let mut state = Rewrite::read(old);
    for (index, d) in DIRECTIVES.iter().enumerate() {
        rewrite_directive(&mut state, config, index, d);
    }
    // ACL users and modules are rewritten by their own features (none yet).
    state.mark("user");
    state.mark("loadmodule");
    state.finish()
}

fn rewrite_directive(state: &mut Rewrite, config: &Config, index: usize, d: &Directive) {
    let name = d.name;
    let value = read(config, index);
    let default = default_val(d);
    let force = value != default;
    match (d.kind, &value) {
        (Kind::Bool(_), Val::Bool(b)) => state.line(name, format!("{name} {}", yes_no(*b)), force),
        (Kind::Num { fmt, .. }, Val::Int(n)) => {
            let text = match fmt {
                NumFmt::MemoryPercent if *n < 0 => format!("{}%", n.unsigned_abs()),
                NumFmt::Memory | NumFmt::MemoryPercent => format_memory(*n),
                NumFmt::Octal => format!("{n:o}"),
                NumFmt::Int => n.to_string(),
            };
            state.line(name, format!("{name} {text}"), force);
        }
        (Kind::Enum { .. } | Kind::Flags { .. }, _) => {
            let text = String::from_utf8_lossy(&format_val(d, &value)).into_owned();
            state.line(name, format!("{name} {text}"), force);
        }
        (Kind::Str(default), Val::Str(s)) => {
            if s.is_empty() && d.has(NULLABLE) {
                state.mark(name);
                return;
            }
            // Strings that can be unset have no default to compare with.
            let force = d.has(NULLABLE) || s != default.as_bytes();
            state.line(name, format!("{name} {}", repr(s)), force);
        }
        (Kind::Special(sp), _) => rewrite_special(state, sp, name, &value, force),
        _ => state.mark(name),
    }
}

fn rewrite_special(state: &mut Rewrite, sp: Special, name: &str, value: &Val, force: bool) {
    match (sp, value) {
        (Special::Dir, Val::Str(s)) => state.line(name, format!("{name} {}", repr(s)), true),
        (Special::Save, Val::Save(points)) => {
            if points.is_empty() {
                state.line(name, format!("{name} \"\""), true);
            }
            for (secs, changes) in points {
                state.line(name, format!("{name} {secs} {changes}"), true);
            }
            state.mark(name);
        }
        (Special::ClientOutputBufferLimit, Val::Obuf(limits)) => {
            let defaults = Config::default_obuf();
            for (j, class) in ["normal", "slave", "pubsub"].iter().enumerate() {
                let l = limits[j];
                state.line(
                    name,
                    format!(
                        "{name} {class} {} {} {}",
                        format_memory(l.hard_bytes as i64),
                        format_memory(l.soft_bytes as i64),
                        l.soft_secs
                    ),
                    l != defaults[j],
                );
            }
        }
        (Special::OomScoreAdjValues, Val::Oom(v)) => {
            state.line(name, format!("{name} {} {} {}", v[0], v[1], v[2]), force);
        }
        (Special::NotifyKeyspaceEvents, Val::Int(flags)) => {
            let text = notify_flags_to_string(*flags as u32);
            state.line(
                name,
                format!("{name} {}", repr(text.as_bytes())),
                *flags != 0,
            );
        }
        (Special::Bind, Val::List(addrs)) => {
            if !force {
                state.mark(name);
                return;
            }
            let text = if addrs.is_empty() {
                "\"\"".to_string()
            } else {
                addrs.join(" ")
            };
            state.line(name, format!("{name} {text}"), true);
        }
        (Special::ReplicaOf, Val::ReplicaOf(Some((host, port)))) => {
            state.line(name, format!("{name} {host} {port}"), true);
        }
        (Special::LatencyTrackingInfoPercentiles, Val::Floats(values)) => {
            let text = if values.is_empty() {
                "\"\"".to_string()
            } else {
                values
                    .iter()
                    .map(|v| format_percentile(*v))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            state.line(name, format!("{name} {text}"), true);
        }
        _ => state.mark(name),
    }
}

// ---------------------------------------------------------------------------
// Command line.

/// Turns redis-server's arguments after the optional config file path into config
/// lines, exactly as Redis's main() does: each `--name` starts a line, other
/// arguments are appended quoted; `--save` followed by another option (or last)
/// means `save ""`. Returns the lines and whether `-` asked for stdin.
///
/// `at_first_argument` says `args[0]` is the process's first argument (there was no
/// config file path), where a lone `-` also means "read the config from stdin".
pub fn cli_options(args: &[String], at_first_argument: bool) -> (String, bool) {
    let mut options = String::new();
    let mut from_stdin = false;
    let mut handled_last_arg = true;
    for (j, arg) in args.iter().enumerate() {
        let last = j + 1 == args.len();
        if arg == "-" && ((j == 0 && at_first_argument) || last) {
            from_stdin = true;
        } else if handled_last_arg && arg.starts_with("--") {
            if !options.is_empty() {
                options.push('\n');
            }
            options.push_str(&arg[2..]);
            options.push(' ');
            let single = split_inline_args(arg.as_bytes()).is_some_and(|a| a.len() == 1);
            if single {
                handled_last_arg = false;
                let next_is_option = args.get(j + 1).is_some_and(|n| n.starts_with("--"));
                let is_save = arg.eq_ignore_ascii_case("--save");
                let is_sentinel = arg.eq_ignore_ascii_case("--sentinel");
                if is_save && (next_is_option || last) {
                    options.push_str("\"\"");
                    handled_last_arg = next_is_option;
                } else if is_sentinel && next_is_option {
                    handled_last_arg = true;
                }
            } else {
                handled_last_arg = true;
            }
        } else {
            options.push_str(&repr(arg.as_bytes()));
            options.push(' ');
            handled_last_arg = true;
        }
    }
    (options, from_stdin)
}

/// Redis's sdscatrepr: a double-quoted string with C escapes.
pub fn repr(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests;
