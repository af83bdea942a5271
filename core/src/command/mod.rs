//! The command table and dispatch. Every command is described once, by a
//! [`CommandSpec`] row in its family's module (`string.rs` holds GET, `keys.rs` holds
//! DEL, ...); lookup, arity errors, COMMAND INFO/DOCS/COUNT/LIST/GETKEYS, key
//! extraction and (later) ACL checks, cluster routing and MULTI queuing all read it.

pub mod args;
pub mod bitmap;
pub mod client;
pub mod config;
pub mod connection;
pub mod debug;
pub mod dump;
pub mod expire;
pub mod function;
pub mod geo;
pub mod hash;
pub mod hyperloglog;
pub mod info;
pub mod introspect;
pub mod keys;
pub mod list;
pub mod monitor;
pub mod pubsub;
pub mod scripting;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
#[cfg(test)]
pub(crate) mod testkit;
pub mod transaction;
pub mod zset;

use bytes::Bytes;

use crate::error::CmdResult;
use crate::node::Ctx;

/// A command handler. `args[0]` is the command name as the client sent it.
pub type Handler = fn(&mut Ctx<'_>, &[Bytes]) -> CmdResult;

/// Command flags, in the order Redis lists them in COMMAND INFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Write,
    Readonly,
    Denyoom,
    Module,
    Admin,
    Pubsub,
    Noscript,
    Blocking,
    Loading,
    Stale,
    SkipMonitor,
    SkipSlowlog,
    Asking,
    Fast,
    NoAuth,
    MayReplicate,
    Sentinel,
    OnlySentinel,
    NoMandatoryKeys,
    Protected,
    NoAsyncLoading,
    NoMulti,
    MovableKeys,
    AllowBusy,
}

impl Flag {
    pub const ALL: [Flag; 24] = [
        Flag::Write,
        Flag::Readonly,
        Flag::Denyoom,
        Flag::Module,
        Flag::Admin,
        Flag::Pubsub,
        Flag::Noscript,
        Flag::Blocking,
        Flag::Loading,
        Flag::Stale,
        Flag::SkipMonitor,
        Flag::SkipSlowlog,
        Flag::Asking,
        Flag::Fast,
        Flag::NoAuth,
        Flag::MayReplicate,
        Flag::Sentinel,
        Flag::OnlySentinel,
        Flag::NoMandatoryKeys,
        Flag::Protected,
        Flag::NoAsyncLoading,
        Flag::NoMulti,
        Flag::MovableKeys,
        Flag::AllowBusy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Flag::Write => "write",
            Flag::Readonly => "readonly",
            Flag::Denyoom => "denyoom",
            Flag::Module => "module",
            Flag::Admin => "admin",
            Flag::Pubsub => "pubsub",
            Flag::Noscript => "noscript",
            Flag::Blocking => "blocking",
            Flag::Loading => "loading",
            Flag::Stale => "stale",
            Flag::SkipMonitor => "skip_monitor",
            Flag::SkipSlowlog => "skip_slowlog",
            Flag::Asking => "asking",
            Flag::Fast => "fast",
            Flag::NoAuth => "no_auth",
            Flag::MayReplicate => "may_replicate",
            Flag::Sentinel => "sentinel",
            Flag::OnlySentinel => "only_sentinel",
            Flag::NoMandatoryKeys => "no_mandatory_keys",
            Flag::Protected => "protected",
            Flag::NoAsyncLoading => "no_async_loading",
            Flag::NoMulti => "no_multi",
            Flag::MovableKeys => "movablekeys",
            Flag::AllowBusy => "allow_busy",
        }
    }
}

/// ACL categories, in the order Redis lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acl {
    Keyspace,
    Read,
    Write,
    Set,
    SortedSet,
    List,
    Hash,
    String,
    Bitmap,
    HyperLogLog,
    Geo,
    Stream,
    Pubsub,
    Admin,
    Fast,
    Slow,
    Blocking,
    Dangerous,
    Connection,
    Transaction,
    Scripting,
}

impl Acl {
    pub const ALL: [Acl; 21] = [
        Acl::Keyspace,
        Acl::Read,
        Acl::Write,
        Acl::Set,
        Acl::SortedSet,
        Acl::List,
        Acl::Hash,
        Acl::String,
        Acl::Bitmap,
        Acl::HyperLogLog,
        Acl::Geo,
        Acl::Stream,
        Acl::Pubsub,
        Acl::Admin,
        Acl::Fast,
        Acl::Slow,
        Acl::Blocking,
        Acl::Dangerous,
        Acl::Connection,
        Acl::Transaction,
        Acl::Scripting,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Acl::Keyspace => "keyspace",
            Acl::Read => "read",
            Acl::Write => "write",
            Acl::Set => "set",
            Acl::SortedSet => "sortedset",
            Acl::List => "list",
            Acl::Hash => "hash",
            Acl::String => "string",
            Acl::Bitmap => "bitmap",
            Acl::HyperLogLog => "hyperloglog",
            Acl::Geo => "geo",
            Acl::Stream => "stream",
            Acl::Pubsub => "pubsub",
            Acl::Admin => "admin",
            Acl::Fast => "fast",
            Acl::Slow => "slow",
            Acl::Blocking => "blocking",
            Acl::Dangerous => "dangerous",
            Acl::Connection => "connection",
            Acl::Transaction => "transaction",
            Acl::Scripting => "scripting",
        }
    }
}

/// The command groups COMMAND DOCS reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Generic,
    String,
    List,
    Set,
    SortedSet,
    Hash,
    Pubsub,
    Transactions,
    Connection,
    Server,
    Scripting,
    HyperLogLog,
    Cluster,
    Sentinel,
    Geo,
    Stream,
    Bitmap,
}

impl Group {
    pub fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::List => "list",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Hash => "hash",
            Group::Pubsub => "pubsub",
            Group::Transactions => "transactions",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::Scripting => "scripting",
            Group::HyperLogLog => "hyperloglog",
            Group::Cluster => "cluster",
            Group::Sentinel => "sentinel",
            Group::Geo => "geo",
            Group::Stream => "stream",
            Group::Bitmap => "bitmap",
        }
    }
}

/// Documentation flags COMMAND DOCS reports as `doc_flags`, in Redis's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocFlag {
    Deprecated,
    Syscmd,
}

impl DocFlag {
    pub const ALL: [DocFlag; 2] = [DocFlag::Deprecated, DocFlag::Syscmd];

    pub fn name(self) -> &'static str {
        match self {
            DocFlag::Deprecated => "deprecated",
            DocFlag::Syscmd => "syscmd",
        }
    }
}

/// Where a key-spec starts looking for keys (COMMAND INFO "begin_search").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    Index(i32),
    Keyword {
        keyword: &'static str,
        start_from: i32,
    },
    Unknown,
}

/// How a key-spec finds keys from there (COMMAND INFO "find_keys").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    Range {
        last_key: i32,
        step: i32,
        limit: i32,
    },
    Keynum {
        keynum_idx: i32,
        first_key: i32,
        step: i32,
    },
    Unknown,
}

/// One Redis 7 key specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// Flags such as "RW", "ACCESS", "UPDATE", in Redis's order.
    pub flags: &'static [&'static str],
    pub begin_search: BeginSearch,
    pub find_keys: FindKeys,
}

/// Constructors for the shapes family tables use, so a row reads
/// `KeySpec::first(&["RO", "ACCESS"])` rather than the whole struct.
impl KeySpec {
    /// The command's one key, at argument 1 (GET, HSET, LPUSH...).
    pub const fn first(flags: &'static [&'static str]) -> KeySpec {
        KeySpec::range(flags, 1, 0)
    }

    /// Keys from argument `index` on, one step apart, through `last_key`: 0 is
    /// just the key at `index`, a positive n that many more after it, -1 runs to
    /// the last argument and -2 to the one before (BLPOP's timeout).
    pub const fn range(flags: &'static [&'static str], index: i32, last_key: i32) -> KeySpec {
        KeySpec::range_step(flags, index, last_key, 1)
    }

    /// Like [`KeySpec::range`], with keys `step` arguments apart (MSET: 2).
    pub const fn range_step(
        flags: &'static [&'static str],
        index: i32,
        last_key: i32,
        step: i32,
    ) -> KeySpec {
        KeySpec {
            flags,
            begin_search: BeginSearch::Index(index),
            find_keys: FindKeys::Range {
                last_key,
                step,
                limit: 0,
            },
        }
    }

    /// `numkeys` keys: the count at argument `index`, the keys right after it
    /// (LMPOP, ZUNIONSTORE's sources).
    pub const fn keynum(flags: &'static [&'static str], index: i32) -> KeySpec {
        KeySpec {
            flags,
            begin_search: BeginSearch::Index(index),
            find_keys: FindKeys::Keynum {
                keynum_idx: 0,
                first_key: 1,
                step: 1,
            },
        }
    }

    /// Keys after `keyword`, searched for from argument `start_from` (negative:
    /// that far from the end, searching backwards), running as in
    /// [`KeySpec::range`] to `last_key`. With a negative `last_key`, a `limit` of
    /// n > 0 counts it within the first 1/n of the arguments after the keyword
    /// (XREAD's STREAMS: keys then as many ids, limit 2); 0 means no limit.
    pub const fn keyword(
        flags: &'static [&'static str],
        keyword: &'static str,
        start_from: i32,
        last_key: i32,
        limit: i32,
    ) -> KeySpec {
        KeySpec {
            flags,
            begin_search: BeginSearch::Keyword {
                keyword,
                start_from,
            },
            find_keys: FindKeys::Range {
                last_key,
                step: 1,
                limit,
            },
        }
    }
}

/// One row of the command table.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// Lower-case name (for subcommands, the part after the `|`).
    pub name: &'static str,
    /// Redis arity: N means exactly N arguments including the name, -N at least N.
    pub arity: i32,
    pub flags: &'static [Flag],
    /// Categories that are not implied by the flags (write/read/admin/fast/...).
    pub acl: &'static [Acl],
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub key_specs: &'static [KeySpec],
    pub group: Group,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    pub tips: &'static [&'static str],
    /// COMMAND DOCS extras, each reported only when set.
    pub doc_flags: &'static [DocFlag],
    pub deprecated_since: &'static str,
    pub replaced_by: &'static str,
    /// (version, what changed), oldest first.
    pub history: &'static [(&'static str, &'static str)],
    /// `None` for container commands (CONFIG, CLIENT, ...), which dispatch to
    /// `subcommands`. COMMAND has both: alone it runs its handler.
    pub handler: Option<Handler>,
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    /// A row with neutral defaults; family tables override what differs with
    /// struct-update syntax so each row says only what is particular to it.
    pub const DEFAULT: CommandSpec = CommandSpec {
        name: "",
        arity: 0,
        flags: &[],
        acl: &[],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_specs: &[],
        group: Group::Generic,
        since: "1.0.0",
        summary: "",
        complexity: "O(1)",
        tips: &[],
        doc_flags: &[],
        deprecated_since: "",
        replaced_by: "",
        history: &[],
        handler: None,
        subcommands: &[],
    };

    pub fn has_flag(&self, flag: Flag) -> bool {
        self.flags.contains(&flag)
    }

    /// ACL categories as Redis reports them: the explicit ones plus those implied by
    /// the flags (setImplicitACLCategories), in Redis's category order.
    pub fn acl_categories(&self) -> impl Iterator<Item = Acl> + '_ {
        Acl::ALL.into_iter().filter(move |&cat| {
            self.acl.contains(&cat)
                || match cat {
                    Acl::Write => self.has_flag(Flag::Write),
                    // Redis leaves @read off read-only scripting commands (EVAL_RO).
                    Acl::Read => {
                        self.has_flag(Flag::Readonly) && !self.acl.contains(&Acl::Scripting)
                    }
                    Acl::Admin | Acl::Dangerous => self.has_flag(Flag::Admin),
                    Acl::Pubsub => self.has_flag(Flag::Pubsub),
                    Acl::Fast => self.has_flag(Flag::Fast),
                    Acl::Blocking => self.has_flag(Flag::Blocking),
                    Acl::Slow => !self.has_flag(Flag::Fast),
                    _ => false,
                }
        })
    }

    /// Whether arity allows `argc` arguments.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = i64::from(self.arity);
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }
}

/// Every family's rows. Adding a family means adding its slice here.
pub static FAMILIES: &[&[CommandSpec]] = &[
    string::COMMANDS,
    keys::COMMANDS,
    dump::COMMANDS,
    expire::COMMANDS,
    list::COMMANDS,
    hash::COMMANDS,
    set::COMMANDS,
    zset::COMMANDS,
    sort::COMMANDS,
    bitmap::COMMANDS,
    hyperloglog::COMMANDS,
    geo::COMMANDS,
    stream::COMMANDS,
    connection::COMMANDS,
    client::COMMANDS,
    config::COMMANDS,
    server::COMMANDS,
    info::COMMANDS,
    debug::COMMANDS,
    introspect::COMMANDS,
    transaction::COMMANDS,
    pubsub::COMMANDS,
    monitor::COMMANDS,
    scripting::COMMANDS,
    function::COMMANDS,
];

/// Iterates over every top-level command.
pub fn all_commands() -> impl Iterator<Item = &'static CommandSpec> {
    FAMILIES.iter().flat_map(|family| family.iter())
}

/// Finds a top-level command by name, case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    COMMAND_INDEX
        .get_or_init(CommandIndex::build)
        .with_name(name)
}

/// Finds a subcommand of `container`.
pub fn lookup_sub(container: &CommandSpec, name: &[u8]) -> Option<&'static CommandSpec> {
    container
        .subcommands
        .iter()
        .find(|c| c.name.as_bytes().eq_ignore_ascii_case(name))
}

/// Longest command name the index holds (Redis's longest is under 32 bytes).
const NAME_BYTES_MAX: usize = 32;

/// A case-insensitive index over the table: an open-addressing hash table of the
/// lower-case names, built once, so lookup costs a short hash and one or two probes
/// (a binary search over the names cost ~440 instructions per request).
struct CommandIndex {
    slots: Vec<Option<&'static CommandSpec>>,
}

static COMMAND_INDEX: std::sync::OnceLock<CommandIndex> = std::sync::OnceLock::new();

/// FNV-1a: the names are ours, not the client's, so a keyed hash buys nothing here.
fn name_hash(name: &[u8]) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in name {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h as usize
}

/// SRANDMEMBER, ZRANDMEMBER and HRANDFIELD with a negative count repeat members
/// without bound; Redis stops when an output buffer limit closes the client
/// (CLIENT_CLOSE_ASAP, checked in their loops), and without one grows until the
/// kernel kills it. Ember stops once the reply passes this many bytes (about 5
/// million short members), drops it and closes the connection as an output
/// buffer limit does, so one request costs at most this much memory and the
/// time to build it (a small bound under test, to keep the test quick).
pub(crate) const RANDOM_REPLY_BYTES_MAX: usize = if cfg!(test) { 1 << 16 } else { 64 << 20 };

/// The fewest bytes one repeated member takes in such a reply (`$0\r\n\r\n`).
const RANDOM_REPLY_ELEMENT_BYTES_MIN: u64 = 6;

/// Whether `count` repeated members must pass [`RANDOM_REPLY_BYTES_MAX`]: such
/// a request is refused (the connection closed) before any of it is built.
pub(crate) fn random_reply_too_big(count: u64) -> bool {
    count > RANDOM_REPLY_BYTES_MAX as u64 / RANDOM_REPLY_ELEMENT_BYTES_MIN
}

impl CommandIndex {
    fn build() -> CommandIndex {
        let count = all_commands().count();
        let mut slots = vec![None; (count * 4).next_power_of_two()];
        let mask = slots.len() - 1;
        for cmd in all_commands() {
            let mut i = name_hash(cmd.name.as_bytes()) & mask;
            while slots[i].is_some() {
                i = (i + 1) & mask;
            }
            slots[i] = Some(cmd);
        }
        CommandIndex { slots }
    }

    fn with_name(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        if name.len() > NAME_BYTES_MAX {
            return None;
        }
        let mut lower = [0u8; NAME_BYTES_MAX];
        for (d, s) in lower.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        let lower = &lower[..name.len()];
        let mask = self.slots.len() - 1;
        let mut i = name_hash(lower) & mask;
        // The table is at most a quarter full, so an empty slot ends every probe.
        while let Some(cmd) = self.slots[i] {
            if cmd.name.as_bytes() == lower {
                return Some(cmd);
            }
            i = (i + 1) & mask;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_name_is_unique_and_lower_case() {
        let mut names: Vec<&str> = all_commands().map(|c| c.name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "duplicate command rows");
        assert!(names.iter().all(|n| *n == n.to_ascii_lowercase()));
    }

    #[test]
    fn every_command_is_found_by_its_name_in_any_case() {
        for c in all_commands() {
            assert!(lookup(c.name.as_bytes()).is_some_and(|f| f.name == c.name));
            let upper = c.name.to_ascii_uppercase();
            assert!(lookup(upper.as_bytes()).is_some_and(|f| f.name == c.name));
        }
        assert!(lookup(&[b'x'; 40]).is_none());
        assert!(lookup(b"").is_none());
    }

    #[test]
    fn lookup_ignores_case() {
        if let Some(first) = all_commands().next() {
            let upper = first.name.to_ascii_uppercase();
            assert!(lookup(upper.as_bytes()).is_some());
        }
        assert!(lookup(b"no-such-command").is_none());
    }

    #[test]
    fn every_command_has_a_handler_or_subcommands() {
        for c in all_commands() {
            assert!(
                c.handler.is_some() || !c.subcommands.is_empty(),
                "{} needs a handler or subcommands",
                c.name
            );
            for sub in c.subcommands {
                assert!(
                    sub.handler.is_some(),
                    "{}|{} needs a handler",
                    c.name,
                    sub.name
                );
            }
        }
    }
}
