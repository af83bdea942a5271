//! INFO [section ...]: Redis 7.0's report, with its sections, field names and order.
//! Fields about subsystems Ember does not have yet (persistence, replication, Lua,
//! defrag...) carry the values an idle Redis shows. CPU times, command `usec` and the
//! latency percentiles are absent or zero: the core has no clock to time itself with.

use std::fmt::Write;

use bytes::Bytes;

use super::client::spec_full_name;
use super::{Acl, CommandSpec, Flag, Group};
use crate::config_table::REDIS_VERSION;
use crate::db::lru_clock;
use crate::error::CmdResult;
use crate::node::Ctx;
use crate::server::CommandStats;

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "info",
    arity: -1,
    flags: &[Flag::Loading, Flag::Stale],
    acl: &[Acl::Dangerous],
    tips: &[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ],
    group: Group::Server,
    summary: "Returns information and statistics about the server.",
    history: &[(
        "7.0.0",
        "Added support for taking multiple section arguments.",
    )],
    handler: Some(info),
    ..CommandSpec::DEFAULT
}];

/// The sections, in the order INFO prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Server,
    Clients,
    Memory,
    Persistence,
    Stats,
    Replication,
    Cpu,
    Modules,
    Commandstats,
    Errorstats,
    Latencystats,
    Cluster,
    Keyspace,
}

impl Section {
    const ALL: [Section; 13] = [
        Section::Server,
        Section::Clients,
        Section::Memory,
        Section::Persistence,
        Section::Stats,
        Section::Replication,
        Section::Cpu,
        Section::Modules,
        Section::Commandstats,
        Section::Errorstats,
        Section::Latencystats,
        Section::Cluster,
        Section::Keyspace,
    ];

    fn title(self) -> &'static str {
        match self {
            Section::Server => "Server",
            Section::Clients => "Clients",
            Section::Memory => "Memory",
            Section::Persistence => "Persistence",
            Section::Stats => "Stats",
            Section::Replication => "Replication",
            Section::Cpu => "CPU",
            Section::Modules => "Modules",
            Section::Commandstats => "Commandstats",
            Section::Errorstats => "Errorstats",
            Section::Latencystats => "Latencystats",
            Section::Cluster => "Cluster",
            Section::Keyspace => "Keyspace",
        }
    }

    /// Whether `default` (and INFO with no argument) includes it.
    fn is_default(self) -> bool {
        !matches!(self, Section::Commandstats | Section::Latencystats)
    }
}

/// Which sections a request asks for, in print order.
fn requested(args: &[Bytes]) -> Vec<Section> {
    if args.is_empty() {
        return Section::ALL
            .into_iter()
            .filter(|s| s.is_default())
            .collect();
    }
    let mut wanted = [false; Section::ALL.len()];
    for arg in args {
        let arg = arg.to_ascii_lowercase();
        for (i, section) in Section::ALL.iter().enumerate() {
            let name = section.title().to_ascii_lowercase();
            wanted[i] |= match &arg[..] {
                b"all" | b"everything" => true,
                b"default" => section.is_default(),
                other => other == name.as_bytes(),
            };
        }
    }
    Section::ALL
        .into_iter()
        .zip(wanted)
        .filter_map(|(s, w)| w.then_some(s))
        .collect()
}

/// INFO [section [section ...]]
fn info(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let used = ctx.srv.used_memory();
    ctx.srv.used_memory_peak = ctx.srv.used_memory_peak.max(used);
    let text = render(ctx, &requested(&args[1..]));
    ctx.out().verbatim(text.as_bytes());
    Ok(())
}

/// The report for `sections`: each is `# Title` and its fields, and sections are
/// separated by an empty line.
fn render(ctx: &Ctx<'_>, sections: &[Section]) -> String {
    let mut text = String::new();
    for (i, &section) in sections.iter().enumerate() {
        if i > 0 {
            text.push_str("\r\n");
        }
        let _ = write!(text, "# {}\r\n", section.title());
        let mut fields = Fields(&mut text);
        match section {
            Section::Server => server(ctx, &mut fields),
            Section::Clients => clients(ctx, &mut fields),
            Section::Memory => memory(ctx, &mut fields),
            Section::Persistence => persistence(ctx, &mut fields),
            Section::Stats => stats(ctx, &mut fields),
            Section::Replication => replication(ctx, &mut fields),
            Section::Cpu => cpu(&mut fields),
            Section::Errorstats => errorstats(ctx, &mut fields),
            Section::Cluster => fields.add("cluster_enabled", 0),
            Section::Keyspace => keyspace(ctx, &mut fields),
            Section::Commandstats => commandstats(ctx, &mut fields),
            Section::Modules | Section::Latencystats => {}
        }
    }
    text
}

/// Appends `name:value\r\n` lines.
struct Fields<'a>(&'a mut String);

impl Fields<'_> {
    fn add(&mut self, name: &str, value: impl std::fmt::Display) {
        let _ = write!(self.0, "{name}:{value}\r\n");
    }

    /// Several fields that are all zero.
    fn zeros(&mut self, names: &[&str]) {
        for name in names {
            self.add(name, 0);
        }
    }
}

fn server(ctx: &Ctx<'_>, f: &mut Fields<'_>) {
    let srv = &*ctx.srv;
    let uptime_secs = ctx.now.saturating_sub(srv.started_at) / 1000;
    f.add("redis_version", REDIS_VERSION);
    f.add("redis_git_sha1", "00000000");
    f.add("redis_git_dirty", 0);
    f.add("redis_build_id", "0");
    f.add("redis_mode", "standalone");
    f.add("os", &srv.host.os);
    f.add("arch_bits", usize::BITS);
    f.add("monotonic_clock", "POSIX clock_gettime");
    f.add("multiplexing_api", "epoll");
    f.add("atomicvar_api", "c11-builtin");
    f.add("gcc_version", "0.0.0");
    f.add("process_id", srv.host.process_id);
    f.add("process_supervised", "no");
    f.add("run_id", &srv.run_id);
    f.add("tcp_port", srv.config.port);
    f.add("server_time_usec", ctx.now.saturating_mul(1000));
    f.add("uptime_in_seconds", uptime_secs);
    f.add("uptime_in_days", uptime_secs / 86_400);
    f.add("hz", srv.config.hz);
    f.add("configured_hz", srv.config.hz);
    f.add("lru_clock", lru_clock(ctx.now));
    f.add("executable", &srv.host.executable);
    f.add("config_file", &srv.host.config_file);
    f.add("io_threads_active", 0);
}

fn clients(ctx: &Ctx<'_>, f: &mut Fields<'_>) {
    let max_input = ctx
        .others
        .values()
        .map(|c| c.pending.len())
        .chain([ctx.client.pending.len()])
        .max()
        .unwrap_or(0);
    f.add("connected_clients", ctx.others.len() + 1);
    f.add("cluster_connections", 0);
    f.add("maxclients", ctx.srv.config.maxclients);
    f.add("client_recent_max_input_buffer", max_input);
    f.add("client_recent_max_output_buffer", 0);
    f.add("blocked_clients", ctx.srv.blocking.blocked_count());
    f.add("tracking_clients", 0);
    f.add(
        "clients_in_timeout_table",
        ctx.srv.blocking.deadline_count(),
    );
}

fn memory(ctx: &Ctx<'_>, f: &mut Fields<'_>) {
    let srv = &*ctx.srv;
    let used = srv.used_memory();
    let peak = srv.used_memory_peak.max(used);
    f.add("used_memory", used);
    f.add("used_memory_human", bytes_to_human(used as u64));
    f.add("used_memory_rss", used);
    f.add("used_memory_rss_human", bytes_to_human(used as u64));
    f.add("used_memory_peak", peak);
    f.add("used_memory_peak_human", bytes_to_human(peak as u64));
    f.add("used_memory_peak_perc", percent(used as f64, peak as f64));
    f.add("used_memory_overhead", 0);
    f.add("used_memory_startup", 0);
    f.add("used_memory_dataset", used);
    f.add(
        "used_memory_dataset_perc",
        percent(used as f64, used.max(1) as f64),
    );
    f.add("allocator_allocated", used);
    f.add("allocator_active", used);
    f.add("allocator_resident", used);
    f.add("total_system_memory", srv.host.total_system_memory);
    f.add(
        "total_system_memory_human",
        bytes_to_human(srv.host.total_system_memory),
    );
    scripting_memory(&srv.scripts, f);
    f.add("maxmemory", srv.config.maxmemory);
    f.add("maxmemory_human", bytes_to_human(srv.config.maxmemory));
    f.add("maxmemory_policy", srv.config.maxmemory_policy.name());
    for (ratio, bytes) in [
        ("allocator_frag_ratio", "allocator_frag_bytes"),
        ("allocator_rss_ratio", "allocator_rss_bytes"),
        ("rss_overhead_ratio", "rss_overhead_bytes"),
        ("mem_fragmentation_ratio", "mem_fragmentation_bytes"),
    ] {
        f.add(ratio, "1.00");
        f.add(bytes, 0);
    }
    f.zeros(&[
        "mem_not_counted_for_evict",
        "mem_replication_backlog",
        "mem_total_replication_buffers",
        "mem_clients_slaves",
        "mem_clients_normal",
        "mem_cluster_links",
        "mem_aof_buffer",
    ]);
    let allocator = if srv.host.mem_allocator.is_empty() {
        "libc"
    } else {
        &srv.host.mem_allocator
    };
    f.add("mem_allocator", allocator);
    f.zeros(&[
        "active_defrag_running",
        "lazyfree_pending_objects",
        "lazyfreed_objects",
    ]);
}

/// The Lua engines' counters. Lua memory is reported as 0 (Ember's Lua states
/// are created on first use and their size is not tracked here).
fn scripting_memory(scripts: &crate::script::Scripts, f: &mut Fields<'_>) {
    let cached = scripts.engine.as_ref().map_or(0, |e| e.len());
    let (functions, libraries) = scripts
        .functions
        .as_ref()
        .map_or((0, 0), |e| (e.functions_count(), e.libraries.len()));
    f.add("used_memory_lua", 0);
    f.add("used_memory_vm_eval", 0);
    f.add("used_memory_lua_human", "0B");
    f.add("used_memory_scripts_eval", 0);
    f.add("number_of_cached_scripts", cached);
    f.add("number_of_functions", functions);
    f.add("number_of_libraries", libraries);
    f.zeros(&["used_memory_vm_functions", "used_memory_vm_total"]);
    f.add("used_memory_vm_total_human", "0B");
    f.zeros(&["used_memory_functions", "used_memory_scripts"]);
    f.add("used_memory_scripts_human", "0B");
}

/// Ember has no fork: the "cow" fields report the bytes serialised ahead of the
/// snapshot walker (its copy-on-write cost) and "fork_perc" the walk's progress.
fn persistence(ctx: &Ctx<'_>, f: &mut Fields<'_>) {
    let p = &ctx.srv.persist;
    let bgsave_started = p.bgsave_started_at();
    let (processed, total) = p.save_progress();
    let cow_now = crate::persist::snapshot::Snapshot::copied_bytes(&ctx.srv.dbs);
    f.add("loading", u8::from(p.loading));
    f.add("async_loading", 0);
    f.add(
        "current_cow_peak",
        p.cow_peak_bytes.max(cow_now) * usize::from(bgsave_started.is_some()),
    );
    f.add("current_cow_size", cow_now);
    f.add("current_cow_size_age", 0);
    let perc = if total > 0 {
        processed as f64 * 100.0 / total as f64
    } else {
        0.0
    };
    f.add("current_fork_perc", format!("{perc:.2}"));
    f.add("current_save_keys_processed", processed);
    f.add("current_save_keys_total", total);
    f.add("rdb_changes_since_last_save", ctx.srv.dirty);
    f.add("rdb_bgsave_in_progress", u8::from(bgsave_started.is_some()));
    f.add("rdb_last_save_time", p.lastsave_secs);
    f.add(
        "rdb_last_bgsave_status",
        if p.last_bgsave_failed { "err" } else { "ok" },
    );
    match p.last_bgsave_time_secs {
        Some(secs) => f.add("rdb_last_bgsave_time_sec", secs),
        None => f.add("rdb_last_bgsave_time_sec", -1),
    }
    match bgsave_started {
        Some(at) => f.add(
            "rdb_current_bgsave_time_sec",
            ctx.now.saturating_sub(at) / 1000,
        ),
        None => f.add("rdb_current_bgsave_time_sec", -1),
    }
    f.add("rdb_saves", p.rdb_saves);
    f.add("rdb_last_cow_size", p.last_cow_bytes);
    f.add("rdb_last_load_keys_expired", p.load_keys_expired);
    f.add("rdb_last_load_keys_loaded", p.load_keys_loaded);
    crate::aof::info::persistence_fields(ctx.srv, ctx.now, &mut |name, value| f.add(name, value));
}

fn stats(ctx: &Ctx<'_>, f: &mut Fields<'_>) {
    let s = &ctx.srv.stats;
    let k = &ctx.srv.keyspace_stats;
    f.add("total_connections_received", s.total_connections_received);
    f.add("total_commands_processed", s.total_commands_processed);
    f.add("instantaneous_ops_per_sec", 0);
    f.add("total_net_input_bytes", s.total_net_input_bytes);
    f.add("total_net_output_bytes", s.total_net_output_bytes);
    f.zeros(&["total_net_repl_input_bytes", "total_net_repl_output_bytes"]);
    for name in [
        "instantaneous_input_kbps",
        "instantaneous_output_kbps",
        "instantaneous_input_repl_kbps",
        "instantaneous_output_repl_kbps",
    ] {
        f.add(name, "0.00");
    }
    f.add("rejected_connections", s.rejected_connections);
    f.zeros(&["sync_full", "sync_partial_ok", "sync_partial_err"]);
    f.add("expired_keys", k.expired_keys);
    f.add("expired_stale_perc", format!("{:.2}", k.expired_stale_perc));
    f.add(
        "expired_time_cap_reached_count",
        k.expired_time_cap_reached_count,
    );
    f.zeros(&["expire_cycle_cpu_milliseconds"]);
    f.add("evicted_keys", ctx.srv.evict.evicted_keys);
    f.zeros(&[
        "evicted_clients",
        "total_eviction_exceeded_time",
        "current_eviction_exceeded_time",
    ]);
    f.add("keyspace_hits", k.keyspace_hits);
    f.add("keyspace_misses", k.keyspace_misses);
    let ps = &ctx.srv.pubsub;
    f.add(
        "pubsub_channels",
        ps.active_count(crate::pubsub::Kind::Channel),
    );
    f.add("pubsub_patterns", ps.pattern_count());
    f.add(
        "pubsubshard_channels",
        ps.active_count(crate::pubsub::Kind::Shard),
    );
    f.zeros(&[
        "latest_fork_usec",
        "total_forks",
        "migrate_cached_sockets",
        "slave_expires_tracked_keys",
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
        "tracking_total_keys",
        "tracking_total_items",
        "tracking_total_prefixes",
    ]);
    f.add("unexpected_error_replies", s.unexpected_error_replies);
    f.add("total_error_replies", s.total_error_replies);
    f.add("dump_payload_sanitizations", 0);
    f.add("total_reads_processed", s.total_reads_processed);
    f.add("total_writes_processed", s.total_writes_processed);
    f.zeros(&[
        "io_threaded_reads_processed",
        "io_threaded_writes_processed",
        "reply_buffer_shrinks",
        "reply_buffer_expands",
    ]);
}

/// A master with no replicas and no backlog, as Redis is before its first replica.
fn replication(ctx: &Ctx<'_>, f: &mut Fields<'_>) {
    f.add("role", "master");
    f.add("connected_slaves", 0);
    f.add("master_failover_state", "no-failover");
    f.add("master_replid", &ctx.srv.run_id);
    f.add("master_replid2", "0".repeat(40));
    f.add("master_repl_offset", 0);
    f.add("second_repl_offset", -1);
    f.add("repl_backlog_active", 0);
    f.add("repl_backlog_size", 1_048_576);
    f.add("repl_backlog_first_byte_offset", 0);
    f.add("repl_backlog_histlen", 0);
}

fn cpu(f: &mut Fields<'_>) {
    for name in [
        "used_cpu_sys",
        "used_cpu_user",
        "used_cpu_sys_children",
        "used_cpu_user_children",
        "used_cpu_sys_main_thread",
        "used_cpu_user_main_thread",
    ] {
        f.add(name, "0.000000");
    }
}

/// Calls per command, by name. The core has no clock to time commands with, so
/// `usec` stays 0.
fn commandstats(ctx: &Ctx<'_>, f: &mut Fields<'_>) {
    let mut rows: Vec<(String, &CommandStats)> = ctx
        .srv
        .stats
        .commands
        .values()
        .map(|stats| (spec_full_name(stats.spec), stats))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, s) in rows {
        f.add(
            &format!("cmdstat_{name}"),
            format!(
                "calls={},usec=0,usec_per_call=0.00,rejected_calls={},failed_calls={}",
                s.calls, s.rejected_calls, s.failed_calls
            ),
        );
    }
}

fn errorstats(ctx: &Ctx<'_>, f: &mut Fields<'_>) {
    for (code, count) in &ctx.srv.stats.errors {
        f.add(&format!("errorstat_{code}"), format!("count={count}"));
    }
}

fn keyspace(ctx: &Ctx<'_>, f: &mut Fields<'_>) {
    for (i, db) in ctx.srv.dbs.iter().enumerate() {
        if !db.is_empty() || db.volatile_len() > 0 {
            f.add(
                &format!("db{i}"),
                format!(
                    "keys={},expires={},avg_ttl={}",
                    db.len(),
                    db.volatile_len(),
                    db.avg_ttl
                ),
            );
        }
    }
}

/// `used * 100 / total` as Redis prints percentages: two decimals and a `%`.
fn percent(part: f64, total: f64) -> String {
    if total <= 0.0 {
        return "0.00%".into();
    }
    format!("{:.2}%", part * 100.0 / total)
}

/// Redis's bytesToHuman: B, then K, M, G, T, P with two decimals.
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: [(&str, f64); 5] = [
        ("K", 1024.0),
        ("M", 1024.0 * 1024.0),
        ("G", 1024.0 * 1024.0 * 1024.0),
        ("T", 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("P", 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0),
    ];
    if n < 1024 {
        return format!("{n}B");
    }
    let d = n as f64;
    for (i, (unit, size)) in UNITS.iter().enumerate() {
        let next = UNITS.get(i + 1).map_or(f64::INFINITY, |(_, s)| *s);
        if d < next {
            return format!("{:.2}{unit}", d / size);
        }
    }
    format!("{n}B")
}

#[cfg(test)]
mod tests {
    use super::bytes_to_human;
    use crate::command::testkit::{TestNode, T0};
    use crate::config::Config;

    fn node() -> TestNode {
        let mut t = TestNode::new(Config::default());
        t.connect(1);
        t
    }

    /// The bulk's text without its header and trailing CRLF.
    fn body(reply: &str) -> String {
        let (_, rest) = reply.split_once("\r\n").unwrap_or(("", ""));
        rest.strip_suffix("\r\n").unwrap_or(rest).to_owned()
    }

    #[test]
    fn info_everything_layout_matches_the_snapshot() {
        let mut t = node();
        t.cmd(1, &["SET", "a", "1"]);
        t.cmd(1, &["SET", "b", "2"]);
        t.cmd(1, &["SELECT", "3"]);
        t.cmd(1, &["SET", "c", "3"]);
        t.cmd(1, &["NOSUCHCOMMAND"]);
        t.cmd(1, &["HELLO", "9"]);
        t.now = T0 + 90_061_000;
        insta::assert_snapshot!(body(&t.cmd(1, &["INFO", "everything"])));
    }

    #[test]
    fn sections_print_in_redis_order_whatever_the_request_order() {
        let mut t = node();
        assert_eq!(
            body(&t.cmd(1, &["INFO", "CLUSTER", "modules", "cluster"])),
            "# Modules\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n"
        );
        assert_eq!(t.cmd(1, &["INFO", "nosuchsection"]), "$0\r\n\r\n");
        let titles = |reply: String| -> Vec<String> {
            reply
                .lines()
                .filter(|l| l.starts_with("# "))
                .map(str::to_owned)
                .collect()
        };
        let default = titles(body(&t.cmd(1, &["INFO"])));
        assert_eq!(
            default.join(","),
            "# Server,# Clients,# Memory,# Persistence,# Stats,# Replication,# CPU,\
             # Modules,# Errorstats,# Cluster,# Keyspace"
        );
        let all = titles(body(&t.cmd(1, &["INFO", "all"])));
        assert_eq!(all.len(), 13);
    }

    #[test]
    fn errorstats_count_replies_by_their_first_word() {
        let mut t = node();
        t.cmd(1, &["HELLO", "9"]);
        t.cmd(1, &["GET"]);
        t.cmd(1, &["AUTH", "x"]);
        assert_eq!(
            body(&t.cmd(1, &["INFO", "errorstats"])),
            "# Errorstats\r\nerrorstat_ERR:count=2\r\nerrorstat_NOPROTO:count=1\r\n"
        );
    }

    #[test]
    fn commandstats_count_calls_failures_and_rejections() {
        let mut t = node();
        t.cmd(1, &["SELECT", "1"]);
        t.cmd(1, &["SELECT", "x"]);
        t.cmd(1, &["GET"]);
        t.cmd(1, &["CLIENT", "ID", "x"]);
        t.cmd(1, &["CLIENT", "nosuch"]);
        t.cmd(1, &["DEBUG", "HELP"]);
        assert_eq!(
            body(&t.cmd(1, &["INFO", "commandstats"])),
            "# Commandstats\r\n\
             cmdstat_client|id:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0\r\n\
             cmdstat_debug:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0\r\n\
             cmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0\r\n\
             cmdstat_select:calls=2,usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=1\r\n"
        );
    }

    #[test]
    fn bytes_to_human_uses_binary_units_with_two_decimals() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1024), "1.00K");
        assert_eq!(bytes_to_human(1_634_856), "1.56M");
        assert_eq!(bytes_to_human(25_276_502_016), "23.54G");
    }
}
