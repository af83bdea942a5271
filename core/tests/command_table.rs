//! The command table checked against facts from redis-server 7.0.15.
//!
//! `EXPECTED` below lists, for every command of the strings/keys/dump/expire/
//! connection/server/introspect/bitmap/hyperloglog/transactions/geo/stream families
//! (subcommands included, by full name `container|sub`), what `COMMAND INFO` and
//! `COMMAND DOCS` report on a real redis-server 7.0.15:
//! arity, flags, first/last/step, ACL categories, tips, key specs, subcommand names,
//! group, since, doc flags and deprecated_since. It was captured with `COMMAND` and
//! `COMMAND DOCS` (RESP3) on that server; more families are added the same way.
//!
//! A command not yet in Ember's table is skipped (and named in the test output);
//! one that is present must match exactly. Differential scripts compare the bytes
//! (tests/scripts/introspect.txt); these tests say which field is wrong, without a
//! server.

use ember_core::command::introspect::{
    key_spec_flags, key_spec_notes, lookup_fullname, reported_flags, Named,
};
use ember_core::command::{all_commands, BeginSearch, FindKeys};

/// One command as Redis 7.0.15 reports it.
struct E {
    name: &'static str,
    arity: i32,
    flags: &'static [&'static str],
    keys: (i32, i32, i32),
    acl: &'static [&'static str],
    tips: &'static [&'static str],
    group: &'static str,
    since: &'static str,
    doc_flags: &'static [&'static str],
    deprecated_since: &'static str,
    /// Names after the `|`, sorted (Redis's own order changes with its hash seed).
    subcommands: &'static [&'static str],
    key_specs: &'static [S],
}

/// One key spec as Redis reports it (`notes` empty when Redis sends none).
struct S {
    notes: &'static str,
    flags: &'static [&'static str],
    begin: BeginSearch,
    find: FindKeys,
}

const fn idx(index: i32) -> BeginSearch {
    BeginSearch::Index(index)
}

const fn kw(keyword: &'static str, start_from: i32) -> BeginSearch {
    BeginSearch::Keyword {
        keyword,
        start_from,
    }
}

const fn range(last_key: i32, step: i32, limit: i32) -> FindKeys {
    FindKeys::Range {
        last_key,
        step,
        limit,
    }
}

#[allow(dead_code)]
const fn keynum(keynum_idx: i32, first_key: i32, step: i32) -> FindKeys {
    FindKeys::Keynum {
        keynum_idx,
        first_key,
        step,
    }
}

/// Every top-level command and subcommand in Ember's table.
fn ember_commands() -> Vec<Named> {
    let mut found = Vec::new();
    for cmd in all_commands() {
        let top = lookup_fullname(cmd.name.as_bytes()).expect("top-level command");
        found.push(top);
        for sub in cmd.subcommands {
            let fullname = format!("{}|{}", cmd.name, sub.name);
            found.push(lookup_fullname(fullname.as_bytes()).expect("subcommand"));
        }
    }
    found
}

fn expected(name: &str) -> Option<&'static E> {
    EXPECTED.iter().find(|e| e.name == name)
}

/// Names of `EXPECTED` that Ember does not have yet, printed so a run shows them.
fn report_missing() {
    let missing: Vec<&str> = EXPECTED
        .iter()
        .map(|e| e.name)
        .filter(|name| lookup_fullname(name.as_bytes()).is_none())
        .collect();
    if !missing.is_empty() {
        println!(
            "not in Ember's table yet, skipped ({}): {}",
            missing.len(),
            missing.join(" ")
        );
    }
}

/// Compares one field and records a readable line when it differs.
fn check<T: PartialEq + std::fmt::Debug>(
    errors: &mut Vec<String>,
    name: &str,
    field: &str,
    ember: T,
    redis: T,
) {
    if ember != redis {
        errors.push(format!("{name}: {field}: Ember {ember:?}, Redis {redis:?}"));
    }
}

fn check_row(errors: &mut Vec<String>, cmd: &Named, e: &E) {
    let spec = cmd.spec;
    let name = e.name;
    check(errors, name, "arity", spec.arity, e.arity);
    let flags: Vec<&str> = reported_flags(spec).map(|f| f.name()).collect();
    check(errors, name, "flags", flags, e.flags.to_vec());
    let keys = (spec.first_key, spec.last_key, spec.step);
    check(errors, name, "first/last/step", keys, e.keys);
    let acl: Vec<String> = spec
        .acl_categories()
        .map(|c| format!("@{}", c.name()))
        .collect();
    let redis_acl: Vec<String> = e.acl.iter().map(|s| s.to_string()).collect();
    check(errors, name, "acl categories", acl, redis_acl);
    check(errors, name, "tips", spec.tips.to_vec(), e.tips.to_vec());
    check(errors, name, "group", spec.group.name(), e.group);
    check(errors, name, "since", spec.since, e.since);
    let doc_flags: Vec<&str> = spec.doc_flags.iter().map(|f| f.name()).collect();
    check(errors, name, "doc_flags", doc_flags, e.doc_flags.to_vec());
    check(
        errors,
        name,
        "deprecated_since",
        spec.deprecated_since,
        e.deprecated_since,
    );
    for sub in spec.subcommands {
        if !e.subcommands.contains(&sub.name) {
            errors.push(format!(
                "{name}: subcommand {} does not exist in Redis",
                sub.name
            ));
        }
    }
}

fn check_key_specs(errors: &mut Vec<String>, cmd: &Named, e: &E) {
    let name = e.name;
    let specs = cmd.spec.key_specs;
    if specs.len() != e.key_specs.len() {
        errors.push(format!(
            "{name}: {} key specs, Redis has {}",
            specs.len(),
            e.key_specs.len()
        ));
        return;
    }
    for (i, (spec, redis)) in specs.iter().zip(e.key_specs).enumerate() {
        let field = |part: &str| format!("key spec {i} {part}");
        let notes = key_spec_notes(name, i).unwrap_or("");
        check(errors, name, &field("notes"), notes, redis.notes);
        let flags = key_spec_flags(spec);
        check(errors, name, &field("flags"), flags, redis.flags.to_vec());
        check(
            errors,
            name,
            &field("begin_search"),
            spec.begin_search,
            redis.begin,
        );
        check(
            errors,
            name,
            &field("find_keys"),
            spec.find_keys,
            redis.find,
        );
    }
}

/// Runs `check` over every expected command Ember has; fails listing every difference.
fn check_all(what: &str, check: fn(&mut Vec<String>, &Named, &E)) {
    report_missing();
    let mut errors = Vec::new();
    for e in EXPECTED {
        if let Some(cmd) = lookup_fullname(e.name.as_bytes()) {
            check(&mut errors, &cmd, e);
        }
    }
    assert!(
        errors.is_empty(),
        "{what} differ from Redis 7.0.15:\n{}",
        errors.join("\n")
    );
}

#[test]
fn command_rows_match_redis_command_info() {
    check_all("command rows", check_row);
}

#[test]
fn key_specs_match_redis_command_info() {
    check_all("key specs", check_key_specs);
}

#[test]
fn subcommands_redis_lacks_are_not_in_the_table() {
    // Commands outside this file's families are checked when their data is added.
    for cmd in ember_commands() {
        let fullname = cmd.fullname();
        if let Some(parent) = cmd.parent {
            if let Some(e) = expected(parent.name) {
                assert!(
                    e.subcommands.contains(&cmd.spec.name),
                    "{fullname} is not a Redis 7.0 command"
                );
            }
        }
    }
}

#[test]
fn the_expected_data_is_sorted_and_unique() {
    let names: Vec<&str> = EXPECTED.iter().map(|e| e.name).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(names, sorted);
}

#[test]
fn the_rows_checked_here_include_ping_and_command() {
    for name in ["ping", "command", "command|info", "command|getkeys"] {
        assert!(lookup_fullname(name.as_bytes()).is_some(), "{name}");
        assert!(expected(name).is_some(), "{name}");
    }
}

/// Captured from redis-server 7.0.15 (`COMMAND`, `COMMAND DOCS`); sorted by name.
#[rustfmt::skip]
static EXPECTED: &[E] = &[
    E { name: "append", arity: 3, flags: &["write", "denyoom", "fast"], keys: (1, 1, 1), acl: &["@write", "@string", "@fast"], tips: &[],
        group: "string", since: "2.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "insert"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "auth", arity: -2, flags: &["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"], keys: (0, 0, 0), acl: &["@fast", "@connection"], tips: &[],
        group: "connection", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "bgsave", arity: -1, flags: &["admin", "noscript", "no_async_loading"], keys: (0, 0, 0), acl: &["@admin", "@slow", "@dangerous"], tips: &[],
        group: "server", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "bitcount", arity: -2, flags: &["readonly"], keys: (1, 1, 1), acl: &["@read", "@bitmap", "@slow"], tips: &[],
        group: "bitmap", since: "2.6.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "bitfield", arity: -2, flags: &["write", "denyoom"], keys: (1, 1, 1), acl: &["@write", "@bitmap", "@slow"], tips: &[],
        group: "bitmap", since: "3.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "This command allows both access and modification of the key", flags: &["RW", "access", "update", "variable_flags"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "bitfield_ro", arity: -2, flags: &["readonly", "fast"], keys: (1, 1, 1), acl: &["@read", "@bitmap", "@fast"], tips: &[],
        group: "bitmap", since: "6.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "bitop", arity: -4, flags: &["write", "denyoom"], keys: (2, -1, 1), acl: &["@write", "@bitmap", "@slow"], tips: &[],
        group: "bitmap", since: "2.6.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["OW", "update"], begin: idx(2), find: range(0, 1, 0) },
            S { notes: "", flags: &["RO", "access"], begin: idx(3), find: range(-1, 1, 0) },
        ] },
    E { name: "bitpos", arity: -3, flags: &["readonly"], keys: (1, 1, 1), acl: &["@read", "@bitmap", "@slow"], tips: &[],
        group: "bitmap", since: "2.8.7", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "client", arity: -2, flags: &[], keys: (0, 0, 0), acl: &["@slow"], tips: &[],
        group: "connection", since: "2.4.0", doc_flags: &[], deprecated_since: "",
        subcommands: &["caching", "getname", "getredir", "help", "id", "info", "kill", "list", "no-evict", "pause", "reply", "setname", "tracking", "trackinginfo", "unblock", "unpause"],
        key_specs: &[] },
    E { name: "client|caching", arity: 3, flags: &["noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@connection"], tips: &[],
        group: "connection", since: "6.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "client|getname", arity: 2, flags: &["noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@connection"], tips: &[],
        group: "connection", since: "2.6.9", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "client|getredir", arity: 2, flags: &["noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@connection"], tips: &[],
        group: "connection", since: "6.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "client|help", arity: 2, flags: &["loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@connection"], tips: &[],
        group: "connection", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "client|id", arity: 2, flags: &["noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@connection"], tips: &[],
        group: "connection", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "client|info", arity: 2, flags: &["noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@connection"], tips: &["nondeterministic_output"],
        group: "connection", since: "6.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "client|kill", arity: -3, flags: &["admin", "noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@admin", "@slow", "@dangerous", "@connection"], tips: &[],
        group: "connection", since: "2.4.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "client|list", arity: -2, flags: &["admin", "noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@admin", "@slow", "@dangerous", "@connection"], tips: &["nondeterministic_output"],
        group: "connection", since: "2.4.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "client|no-evict", arity: 3, flags: &["admin", "noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@admin", "@slow", "@dangerous", "@connection"], tips: &[],
        group: "connection", since: "7.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "client|pause", arity: -3, flags: &["admin", "noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@admin", "@slow", "@dangerous", "@connection"], tips: &[],
        group: "connection", since: "2.9.50", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "client|reply", arity: 3, flags: &["noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@connection"], tips: &[],
        group: "connection", since: "3.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "client|setname", arity: 3, flags: &["noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@connection"], tips: &[],
        group: "connection", since: "2.6.9", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "client|tracking", arity: -3, flags: &["noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@connection"], tips: &[],
        group: "connection", since: "6.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "client|trackinginfo", arity: 2, flags: &["noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@connection"], tips: &[],
        group: "connection", since: "6.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "client|unblock", arity: -3, flags: &["admin", "noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@admin", "@slow", "@dangerous", "@connection"], tips: &[],
        group: "connection", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "client|unpause", arity: 2, flags: &["admin", "noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@admin", "@slow", "@dangerous", "@connection"], tips: &[],
        group: "connection", since: "6.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "command", arity: -1, flags: &["loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@connection"], tips: &["nondeterministic_output_order"],
        group: "server", since: "2.8.13", doc_flags: &[], deprecated_since: "",
        subcommands: &["count", "docs", "getkeys", "getkeysandflags", "help", "info", "list"],
        key_specs: &[] },
    E { name: "command|count", arity: 2, flags: &["loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@connection"], tips: &[],
        group: "server", since: "2.8.13", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "command|docs", arity: -2, flags: &["loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@connection"], tips: &["nondeterministic_output_order"],
        group: "server", since: "7.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "command|getkeys", arity: -4, flags: &["loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@connection"], tips: &[],
        group: "server", since: "2.8.13", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "command|getkeysandflags", arity: -4, flags: &["loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@connection"], tips: &[],
        group: "server", since: "7.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "command|help", arity: 2, flags: &["loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@connection"], tips: &[],
        group: "server", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "command|info", arity: -2, flags: &["loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@connection"], tips: &["nondeterministic_output_order"],
        group: "server", since: "2.8.13", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "command|list", arity: -2, flags: &["loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@connection"], tips: &["nondeterministic_output_order"],
        group: "server", since: "7.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "config", arity: -2, flags: &[], keys: (0, 0, 0), acl: &["@slow"], tips: &[],
        group: "server", since: "2.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &["get", "help", "resetstat", "rewrite", "set"],
        key_specs: &[] },
    E { name: "config|get", arity: -3, flags: &["admin", "noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@admin", "@slow", "@dangerous"], tips: &[],
        group: "server", since: "2.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "config|help", arity: 2, flags: &["loading", "stale"], keys: (0, 0, 0), acl: &["@slow"], tips: &[],
        group: "server", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "config|resetstat", arity: 2, flags: &["admin", "noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@admin", "@slow", "@dangerous"], tips: &[],
        group: "server", since: "2.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "config|rewrite", arity: 2, flags: &["admin", "noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@admin", "@slow", "@dangerous"], tips: &[],
        group: "server", since: "2.8.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "config|set", arity: -4, flags: &["admin", "noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@admin", "@slow", "@dangerous"], tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        group: "server", since: "2.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "copy", arity: -3, flags: &["write", "denyoom"], keys: (1, 2, 1), acl: &["@keyspace", "@write", "@slow"], tips: &[],
        group: "generic", since: "6.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
            S { notes: "", flags: &["OW", "update"], begin: idx(2), find: range(0, 1, 0) },
        ] },
    E { name: "dbsize", arity: 1, flags: &["readonly", "fast"], keys: (0, 0, 0), acl: &["@keyspace", "@read", "@fast"], tips: &["request_policy:all_shards", "response_policy:agg_sum"],
        group: "server", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "debug", arity: -2, flags: &["admin", "noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@admin", "@slow", "@dangerous"], tips: &[],
        group: "server", since: "1.0.0", doc_flags: &["syscmd"], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "decr", arity: 2, flags: &["write", "denyoom", "fast"], keys: (1, 1, 1), acl: &["@write", "@string", "@fast"], tips: &[],
        group: "string", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "access", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "decrby", arity: 3, flags: &["write", "denyoom", "fast"], keys: (1, 1, 1), acl: &["@write", "@string", "@fast"], tips: &[],
        group: "string", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "access", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "del", arity: -2, flags: &["write"], keys: (1, -1, 1), acl: &["@keyspace", "@write", "@slow"], tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        group: "generic", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RM", "delete"], begin: idx(1), find: range(-1, 1, 0) },
        ] },
    E { name: "discard", arity: 1, flags: &["noscript", "loading", "stale", "fast", "allow_busy"], keys: (0, 0, 0), acl: &["@fast", "@transaction"], tips: &[],
        group: "transactions", since: "2.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "dump", arity: 2, flags: &["readonly"], keys: (1, 1, 1), acl: &["@keyspace", "@read", "@slow"], tips: &["nondeterministic_output"],
        group: "generic", since: "2.6.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "echo", arity: 2, flags: &["loading", "stale", "fast"], keys: (0, 0, 0), acl: &["@fast", "@connection"], tips: &[],
        group: "connection", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "exec", arity: 1, flags: &["noscript", "loading", "stale", "skip_slowlog"], keys: (0, 0, 0), acl: &["@slow", "@transaction"], tips: &[],
        group: "transactions", since: "1.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "exists", arity: -2, flags: &["readonly", "fast"], keys: (1, -1, 1), acl: &["@keyspace", "@read", "@fast"], tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        group: "generic", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO"], begin: idx(1), find: range(-1, 1, 0) },
        ] },
    E { name: "expire", arity: -3, flags: &["write", "fast"], keys: (1, 1, 1), acl: &["@keyspace", "@write", "@fast"], tips: &[],
        group: "generic", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "expireat", arity: -3, flags: &["write", "fast"], keys: (1, 1, 1), acl: &["@keyspace", "@write", "@fast"], tips: &[],
        group: "generic", since: "1.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "expiretime", arity: 2, flags: &["readonly", "fast"], keys: (1, 1, 1), acl: &["@keyspace", "@read", "@fast"], tips: &[],
        group: "generic", since: "7.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "flushall", arity: -1, flags: &["write"], keys: (0, 0, 0), acl: &["@keyspace", "@write", "@slow", "@dangerous"], tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        group: "server", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "flushdb", arity: -1, flags: &["write"], keys: (0, 0, 0), acl: &["@keyspace", "@write", "@slow", "@dangerous"], tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        group: "server", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "geoadd", arity: -5, flags: &["write", "denyoom"], keys: (1, 1, 1), acl: &["@write", "@geo", "@slow"], tips: &[],
        group: "geo", since: "3.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "geodist", arity: -4, flags: &["readonly"], keys: (1, 1, 1), acl: &["@read", "@geo", "@slow"], tips: &[],
        group: "geo", since: "3.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "geohash", arity: -2, flags: &["readonly"], keys: (1, 1, 1), acl: &["@read", "@geo", "@slow"], tips: &[],
        group: "geo", since: "3.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "geopos", arity: -2, flags: &["readonly"], keys: (1, 1, 1), acl: &["@read", "@geo", "@slow"], tips: &[],
        group: "geo", since: "3.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "georadius", arity: -6, flags: &["write", "denyoom", "movablekeys"], keys: (1, 1, 1), acl: &["@write", "@geo", "@slow"], tips: &[],
        group: "geo", since: "3.2.0", doc_flags: &["deprecated"], deprecated_since: "6.2.0",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
            S { notes: "", flags: &["OW", "update"], begin: kw("STORE", 6), find: range(0, 1, 0) },
            S { notes: "", flags: &["OW", "update"], begin: kw("STOREDIST", 6), find: range(0, 1, 0) },
        ] },
    E { name: "georadius_ro", arity: -6, flags: &["readonly"], keys: (1, 1, 1), acl: &["@read", "@geo", "@slow"], tips: &[],
        group: "geo", since: "3.2.10", doc_flags: &["deprecated"], deprecated_since: "6.2.0",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "georadiusbymember", arity: -5, flags: &["write", "denyoom", "movablekeys"], keys: (1, 1, 1), acl: &["@write", "@geo", "@slow"], tips: &[],
        group: "geo", since: "3.2.0", doc_flags: &["deprecated"], deprecated_since: "6.2.0",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
            S { notes: "", flags: &["OW", "update"], begin: kw("STORE", 5), find: range(0, 1, 0) },
            S { notes: "", flags: &["OW", "update"], begin: kw("STOREDIST", 5), find: range(0, 1, 0) },
        ] },
    E { name: "georadiusbymember_ro", arity: -5, flags: &["readonly"], keys: (1, 1, 1), acl: &["@read", "@geo", "@slow"], tips: &[],
        group: "geo", since: "3.2.10", doc_flags: &["deprecated"], deprecated_since: "6.2.0",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "geosearch", arity: -7, flags: &["readonly"], keys: (1, 1, 1), acl: &["@read", "@geo", "@slow"], tips: &[],
        group: "geo", since: "6.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "geosearchstore", arity: -8, flags: &["write", "denyoom"], keys: (1, 2, 1), acl: &["@write", "@geo", "@slow"], tips: &[],
        group: "geo", since: "6.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["OW", "update"], begin: idx(1), find: range(0, 1, 0) },
            S { notes: "", flags: &["RO", "access"], begin: idx(2), find: range(0, 1, 0) },
        ] },
    E { name: "get", arity: 2, flags: &["readonly", "fast"], keys: (1, 1, 1), acl: &["@read", "@string", "@fast"], tips: &[],
        group: "string", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "getbit", arity: 3, flags: &["readonly", "fast"], keys: (1, 1, 1), acl: &["@read", "@bitmap", "@fast"], tips: &[],
        group: "bitmap", since: "2.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "getdel", arity: 2, flags: &["write", "fast"], keys: (1, 1, 1), acl: &["@write", "@string", "@fast"], tips: &[],
        group: "string", since: "6.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "access", "delete"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "getex", arity: -2, flags: &["write", "fast"], keys: (1, 1, 1), acl: &["@write", "@string", "@fast"], tips: &[],
        group: "string", since: "6.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "RW and UPDATE because it changes the TTL", flags: &["RW", "access", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "getrange", arity: 4, flags: &["readonly"], keys: (1, 1, 1), acl: &["@read", "@string", "@slow"], tips: &[],
        group: "string", since: "2.4.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "getset", arity: 3, flags: &["write", "denyoom", "fast"], keys: (1, 1, 1), acl: &["@write", "@string", "@fast"], tips: &[],
        group: "string", since: "1.0.0", doc_flags: &["deprecated"], deprecated_since: "6.2.0",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "access", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "hello", arity: -1, flags: &["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"], keys: (0, 0, 0), acl: &["@fast", "@connection"], tips: &[],
        group: "connection", since: "6.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "incr", arity: 2, flags: &["write", "denyoom", "fast"], keys: (1, 1, 1), acl: &["@write", "@string", "@fast"], tips: &[],
        group: "string", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "access", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "incrby", arity: 3, flags: &["write", "denyoom", "fast"], keys: (1, 1, 1), acl: &["@write", "@string", "@fast"], tips: &[],
        group: "string", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "access", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "incrbyfloat", arity: 3, flags: &["write", "denyoom", "fast"], keys: (1, 1, 1), acl: &["@write", "@string", "@fast"], tips: &[],
        group: "string", since: "2.6.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "access", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "info", arity: -1, flags: &["loading", "stale"], keys: (0, 0, 0), acl: &["@slow", "@dangerous"], tips: &["nondeterministic_output", "request_policy:all_shards", "response_policy:special"],
        group: "server", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "keys", arity: 2, flags: &["readonly"], keys: (0, 0, 0), acl: &["@keyspace", "@read", "@slow", "@dangerous"], tips: &["request_policy:all_shards", "nondeterministic_output_order"],
        group: "generic", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "lastsave", arity: 1, flags: &["loading", "stale", "fast"], keys: (0, 0, 0), acl: &["@admin", "@fast", "@dangerous"], tips: &["nondeterministic_output"],
        group: "server", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "lcs", arity: -3, flags: &["readonly"], keys: (1, 2, 1), acl: &["@read", "@string", "@slow"], tips: &[],
        group: "string", since: "7.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(1, 1, 0) },
        ] },
    E { name: "mget", arity: -2, flags: &["readonly", "fast"], keys: (1, -1, 1), acl: &["@read", "@string", "@fast"], tips: &["request_policy:multi_shard"],
        group: "string", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(-1, 1, 0) },
        ] },
    E { name: "monitor", arity: 1, flags: &["admin", "noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@admin", "@slow", "@dangerous"], tips: &[],
        group: "server", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "move", arity: 3, flags: &["write", "fast"], keys: (1, 1, 1), acl: &["@keyspace", "@write", "@fast"], tips: &[],
        group: "generic", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "access", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "mset", arity: -3, flags: &["write", "denyoom"], keys: (1, -1, 2), acl: &["@write", "@string", "@slow"], tips: &["request_policy:multi_shard", "response_policy:all_succeeded"],
        group: "string", since: "1.0.1", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["OW", "update"], begin: idx(1), find: range(-1, 2, 0) },
        ] },
    E { name: "msetnx", arity: -3, flags: &["write", "denyoom"], keys: (1, -1, 2), acl: &["@write", "@string", "@slow"], tips: &["request_policy:multi_shard", "response_policy:agg_min"],
        group: "string", since: "1.0.1", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["OW", "insert"], begin: idx(1), find: range(-1, 2, 0) },
        ] },
    E { name: "multi", arity: 1, flags: &["noscript", "loading", "stale", "fast", "allow_busy"], keys: (0, 0, 0), acl: &["@fast", "@transaction"], tips: &[],
        group: "transactions", since: "1.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "object", arity: -2, flags: &[], keys: (0, 0, 0), acl: &["@slow"], tips: &[],
        group: "generic", since: "2.2.3", doc_flags: &[], deprecated_since: "",
        subcommands: &["encoding", "freq", "help", "idletime", "refcount"],
        key_specs: &[] },
    E { name: "object|encoding", arity: 3, flags: &["readonly"], keys: (2, 2, 1), acl: &["@keyspace", "@read", "@slow"], tips: &["nondeterministic_output"],
        group: "generic", since: "2.2.3", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO"], begin: idx(2), find: range(0, 1, 0) },
        ] },
    E { name: "object|freq", arity: 3, flags: &["readonly"], keys: (2, 2, 1), acl: &["@keyspace", "@read", "@slow"], tips: &["nondeterministic_output"],
        group: "generic", since: "4.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO"], begin: idx(2), find: range(0, 1, 0) },
        ] },
    E { name: "object|help", arity: 2, flags: &["loading", "stale"], keys: (0, 0, 0), acl: &["@keyspace", "@slow"], tips: &[],
        group: "generic", since: "6.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "object|idletime", arity: 3, flags: &["readonly"], keys: (2, 2, 1), acl: &["@keyspace", "@read", "@slow"], tips: &["nondeterministic_output"],
        group: "generic", since: "2.2.3", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO"], begin: idx(2), find: range(0, 1, 0) },
        ] },
    E { name: "object|refcount", arity: 3, flags: &["readonly"], keys: (2, 2, 1), acl: &["@keyspace", "@read", "@slow"], tips: &["nondeterministic_output"],
        group: "generic", since: "2.2.3", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO"], begin: idx(2), find: range(0, 1, 0) },
        ] },
    E { name: "persist", arity: 2, flags: &["write", "fast"], keys: (1, 1, 1), acl: &["@keyspace", "@write", "@fast"], tips: &[],
        group: "generic", since: "2.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "pexpire", arity: -3, flags: &["write", "fast"], keys: (1, 1, 1), acl: &["@keyspace", "@write", "@fast"], tips: &[],
        group: "generic", since: "2.6.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "pexpireat", arity: -3, flags: &["write", "fast"], keys: (1, 1, 1), acl: &["@keyspace", "@write", "@fast"], tips: &[],
        group: "generic", since: "2.6.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "pexpiretime", arity: 2, flags: &["readonly", "fast"], keys: (1, 1, 1), acl: &["@keyspace", "@read", "@fast"], tips: &[],
        group: "generic", since: "7.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "pfadd", arity: -2, flags: &["write", "denyoom", "fast"], keys: (1, 1, 1), acl: &["@write", "@hyperloglog", "@fast"], tips: &[],
        group: "hyperloglog", since: "2.8.9", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "insert"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "pfcount", arity: -2, flags: &["readonly"], keys: (1, -1, 1), acl: &["@read", "@hyperloglog", "@slow"], tips: &[],
        group: "hyperloglog", since: "2.8.9", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "RW because it may change the internal representation of the key, and propagate to replicas", flags: &["RW", "access"], begin: idx(1), find: range(-1, 1, 0) },
        ] },
    E { name: "pfdebug", arity: 3, flags: &["write", "denyoom", "admin"], keys: (2, 2, 1), acl: &["@write", "@hyperloglog", "@admin", "@slow", "@dangerous"], tips: &[],
        group: "hyperloglog", since: "2.8.9", doc_flags: &["syscmd"], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "access"], begin: idx(2), find: range(0, 1, 0) },
        ] },
    E { name: "pfmerge", arity: -2, flags: &["write", "denyoom"], keys: (1, -1, 1), acl: &["@write", "@hyperloglog", "@slow"], tips: &[],
        group: "hyperloglog", since: "2.8.9", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "access", "insert"], begin: idx(1), find: range(0, 1, 0) },
            S { notes: "", flags: &["RO", "access"], begin: idx(2), find: range(-1, 1, 0) },
        ] },
    E { name: "pfselftest", arity: 1, flags: &["admin"], keys: (0, 0, 0), acl: &["@hyperloglog", "@admin", "@slow", "@dangerous"], tips: &[],
        group: "hyperloglog", since: "2.8.9", doc_flags: &["syscmd"], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "ping", arity: -1, flags: &["fast"], keys: (0, 0, 0), acl: &["@fast", "@connection"], tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        group: "connection", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "psetex", arity: 4, flags: &["write", "denyoom"], keys: (1, 1, 1), acl: &["@write", "@string", "@slow"], tips: &[],
        group: "string", since: "2.6.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["OW", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "psubscribe", arity: -2, flags: &["pubsub", "noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@pubsub", "@slow"], tips: &[],
        group: "pubsub", since: "2.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "pttl", arity: 2, flags: &["readonly", "fast"], keys: (1, 1, 1), acl: &["@keyspace", "@read", "@fast"], tips: &["nondeterministic_output"],
        group: "generic", since: "2.6.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "publish", arity: 3, flags: &["pubsub", "loading", "stale", "fast"], keys: (0, 0, 0), acl: &["@pubsub", "@fast"], tips: &[],
        group: "pubsub", since: "2.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "pubsub", arity: -2, flags: &[], keys: (0, 0, 0), acl: &["@slow"], tips: &[],
        group: "pubsub", since: "2.8.0", doc_flags: &[], deprecated_since: "",
        subcommands: &["channels", "help", "numpat", "numsub", "shardchannels", "shardnumsub"],
        key_specs: &[] },
    E { name: "pubsub|channels", arity: -2, flags: &["pubsub", "loading", "stale"], keys: (0, 0, 0), acl: &["@pubsub", "@slow"], tips: &[],
        group: "pubsub", since: "2.8.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "pubsub|help", arity: 2, flags: &["loading", "stale"], keys: (0, 0, 0), acl: &["@slow"], tips: &[],
        group: "pubsub", since: "6.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "pubsub|numpat", arity: 2, flags: &["pubsub", "loading", "stale"], keys: (0, 0, 0), acl: &["@pubsub", "@slow"], tips: &[],
        group: "pubsub", since: "2.8.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "pubsub|numsub", arity: -2, flags: &["pubsub", "loading", "stale"], keys: (0, 0, 0), acl: &["@pubsub", "@slow"], tips: &[],
        group: "pubsub", since: "2.8.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "pubsub|shardchannels", arity: -2, flags: &["pubsub", "loading", "stale"], keys: (0, 0, 0), acl: &["@pubsub", "@slow"], tips: &[],
        group: "pubsub", since: "7.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "pubsub|shardnumsub", arity: -2, flags: &["pubsub", "loading", "stale"], keys: (0, 0, 0), acl: &["@pubsub", "@slow"], tips: &[],
        group: "pubsub", since: "7.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "punsubscribe", arity: -1, flags: &["pubsub", "noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@pubsub", "@slow"], tips: &[],
        group: "pubsub", since: "2.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "quit", arity: -1, flags: &["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"], keys: (0, 0, 0), acl: &["@fast", "@connection"], tips: &[],
        group: "connection", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "randomkey", arity: 1, flags: &["readonly"], keys: (0, 0, 0), acl: &["@keyspace", "@read", "@slow"], tips: &["request_policy:all_shards", "nondeterministic_output"],
        group: "generic", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "rename", arity: 3, flags: &["write"], keys: (1, 2, 1), acl: &["@keyspace", "@write", "@slow"], tips: &[],
        group: "generic", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "access", "delete"], begin: idx(1), find: range(0, 1, 0) },
            S { notes: "", flags: &["OW", "update"], begin: idx(2), find: range(0, 1, 0) },
        ] },
    E { name: "renamenx", arity: 3, flags: &["write", "fast"], keys: (1, 2, 1), acl: &["@keyspace", "@write", "@fast"], tips: &[],
        group: "generic", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "access", "delete"], begin: idx(1), find: range(0, 1, 0) },
            S { notes: "", flags: &["OW", "insert"], begin: idx(2), find: range(0, 1, 0) },
        ] },
    E { name: "reset", arity: 1, flags: &["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"], keys: (0, 0, 0), acl: &["@fast", "@connection"], tips: &[],
        group: "connection", since: "6.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "restore", arity: -4, flags: &["write", "denyoom"], keys: (1, 1, 1), acl: &["@keyspace", "@write", "@slow", "@dangerous"], tips: &[],
        group: "generic", since: "2.6.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["OW", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "save", arity: 1, flags: &["admin", "noscript", "no_async_loading", "no_multi"], keys: (0, 0, 0), acl: &["@admin", "@slow", "@dangerous"], tips: &[],
        group: "server", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "scan", arity: -2, flags: &["readonly"], keys: (0, 0, 0), acl: &["@keyspace", "@read", "@slow"], tips: &["nondeterministic_output", "request_policy:special"],
        group: "generic", since: "2.8.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "select", arity: 2, flags: &["loading", "stale", "fast"], keys: (0, 0, 0), acl: &["@fast", "@connection"], tips: &[],
        group: "connection", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "set", arity: -3, flags: &["write", "denyoom"], keys: (1, 1, 1), acl: &["@write", "@string", "@slow"], tips: &[],
        group: "string", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "RW and ACCESS due to the optional `GET` argument", flags: &["RW", "access", "update", "variable_flags"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "setbit", arity: 4, flags: &["write", "denyoom"], keys: (1, 1, 1), acl: &["@write", "@bitmap", "@slow"], tips: &[],
        group: "bitmap", since: "2.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "access", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "setex", arity: 4, flags: &["write", "denyoom"], keys: (1, 1, 1), acl: &["@write", "@string", "@slow"], tips: &[],
        group: "string", since: "2.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["OW", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "setnx", arity: 3, flags: &["write", "denyoom", "fast"], keys: (1, 1, 1), acl: &["@write", "@string", "@fast"], tips: &[],
        group: "string", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["OW", "insert"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "setrange", arity: 4, flags: &["write", "denyoom"], keys: (1, 1, 1), acl: &["@write", "@string", "@slow"], tips: &[],
        group: "string", since: "2.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "shutdown", arity: -1, flags: &["admin", "noscript", "loading", "stale", "no_multi", "allow_busy"], keys: (0, 0, 0), acl: &["@admin", "@slow", "@dangerous"], tips: &[],
        group: "server", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "spublish", arity: 3, flags: &["pubsub", "loading", "stale", "fast"], keys: (1, 1, 1), acl: &["@pubsub", "@fast"], tips: &[],
        group: "pubsub", since: "7.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["not_key"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "ssubscribe", arity: -2, flags: &["pubsub", "noscript", "loading", "stale"], keys: (1, -1, 1), acl: &["@pubsub", "@slow"], tips: &[],
        group: "pubsub", since: "7.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["not_key"], begin: idx(1), find: range(-1, 1, 0) },
        ] },
    E { name: "strlen", arity: 2, flags: &["readonly", "fast"], keys: (1, 1, 1), acl: &["@read", "@string", "@fast"], tips: &[],
        group: "string", since: "2.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "subscribe", arity: -2, flags: &["pubsub", "noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@pubsub", "@slow"], tips: &[],
        group: "pubsub", since: "2.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "substr", arity: 4, flags: &["readonly"], keys: (1, 1, 1), acl: &["@read", "@string", "@slow"], tips: &[],
        group: "string", since: "1.0.0", doc_flags: &["deprecated"], deprecated_since: "2.0.0",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "sunsubscribe", arity: -1, flags: &["pubsub", "noscript", "loading", "stale"], keys: (1, -1, 1), acl: &["@pubsub", "@slow"], tips: &[],
        group: "pubsub", since: "7.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["not_key"], begin: idx(1), find: range(-1, 1, 0) },
        ] },
    E { name: "swapdb", arity: 3, flags: &["write", "fast"], keys: (0, 0, 0), acl: &["@keyspace", "@write", "@fast", "@dangerous"], tips: &[],
        group: "server", since: "4.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "time", arity: 1, flags: &["loading", "stale", "fast"], keys: (0, 0, 0), acl: &["@fast"], tips: &["nondeterministic_output"],
        group: "server", since: "2.6.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "touch", arity: -2, flags: &["readonly", "fast"], keys: (1, -1, 1), acl: &["@keyspace", "@read", "@fast"], tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        group: "generic", since: "3.2.1", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO"], begin: idx(1), find: range(-1, 1, 0) },
        ] },
    E { name: "ttl", arity: 2, flags: &["readonly", "fast"], keys: (1, 1, 1), acl: &["@keyspace", "@read", "@fast"], tips: &["nondeterministic_output"],
        group: "generic", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "type", arity: 2, flags: &["readonly", "fast"], keys: (1, 1, 1), acl: &["@keyspace", "@read", "@fast"], tips: &[],
        group: "generic", since: "1.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "unlink", arity: -2, flags: &["write", "fast"], keys: (1, -1, 1), acl: &["@keyspace", "@write", "@fast"], tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        group: "generic", since: "4.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RM", "delete"], begin: idx(1), find: range(-1, 1, 0) },
        ] },
    E { name: "unsubscribe", arity: -1, flags: &["pubsub", "noscript", "loading", "stale"], keys: (0, 0, 0), acl: &["@pubsub", "@slow"], tips: &[],
        group: "pubsub", since: "2.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "unwatch", arity: 1, flags: &["noscript", "loading", "stale", "fast", "allow_busy"], keys: (0, 0, 0), acl: &["@fast", "@transaction"], tips: &[],
        group: "transactions", since: "2.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "watch", arity: -2, flags: &["noscript", "loading", "stale", "fast", "allow_busy"], keys: (1, -1, 1), acl: &["@fast", "@transaction"], tips: &[],
        group: "transactions", since: "2.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO"], begin: idx(1), find: range(-1, 1, 0) },
        ] },
    E { name: "xack", arity: -4, flags: &["write", "fast"], keys: (1, 1, 1), acl: &["@write", "@stream", "@fast"], tips: &[],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "xadd", arity: -5, flags: &["write", "denyoom", "fast"], keys: (1, 1, 1), acl: &["@write", "@stream", "@fast"], tips: &["nondeterministic_output"],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "UPDATE instead of INSERT because of the optional trimming feature", flags: &["RW", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "xautoclaim", arity: -6, flags: &["write", "fast"], keys: (1, 1, 1), acl: &["@write", "@stream", "@fast"], tips: &["nondeterministic_output"],
        group: "stream", since: "6.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "delete"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "xclaim", arity: -6, flags: &["write", "fast"], keys: (1, 1, 1), acl: &["@write", "@stream", "@fast"], tips: &["nondeterministic_output"],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "xdel", arity: -3, flags: &["write", "fast"], keys: (1, 1, 1), acl: &["@write", "@stream", "@fast"], tips: &[],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "delete"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "xgroup", arity: -2, flags: &[], keys: (0, 0, 0), acl: &["@slow"], tips: &[],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &["create", "createconsumer", "delconsumer", "destroy", "help", "setid"],
        key_specs: &[] },
    E { name: "xgroup|create", arity: -5, flags: &["write", "denyoom"], keys: (2, 2, 1), acl: &["@write", "@stream", "@slow"], tips: &[],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "insert"], begin: idx(2), find: range(0, 1, 0) },
        ] },
    E { name: "xgroup|createconsumer", arity: 5, flags: &["write", "denyoom"], keys: (2, 2, 1), acl: &["@write", "@stream", "@slow"], tips: &[],
        group: "stream", since: "6.2.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "insert"], begin: idx(2), find: range(0, 1, 0) },
        ] },
    E { name: "xgroup|delconsumer", arity: 5, flags: &["write"], keys: (2, 2, 1), acl: &["@write", "@stream", "@slow"], tips: &[],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "delete"], begin: idx(2), find: range(0, 1, 0) },
        ] },
    E { name: "xgroup|destroy", arity: 4, flags: &["write"], keys: (2, 2, 1), acl: &["@write", "@stream", "@slow"], tips: &[],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "delete"], begin: idx(2), find: range(0, 1, 0) },
        ] },
    E { name: "xgroup|help", arity: 2, flags: &["loading", "stale"], keys: (0, 0, 0), acl: &["@stream", "@slow"], tips: &[],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "xgroup|setid", arity: -5, flags: &["write"], keys: (2, 2, 1), acl: &["@write", "@stream", "@slow"], tips: &[],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "update"], begin: idx(2), find: range(0, 1, 0) },
        ] },
    E { name: "xinfo", arity: -2, flags: &[], keys: (0, 0, 0), acl: &["@slow"], tips: &[],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &["consumers", "groups", "help", "stream"],
        key_specs: &[] },
    E { name: "xinfo|consumers", arity: 4, flags: &["readonly"], keys: (2, 2, 1), acl: &["@read", "@stream", "@slow"], tips: &["nondeterministic_output"],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(2), find: range(0, 1, 0) },
        ] },
    E { name: "xinfo|groups", arity: 3, flags: &["readonly"], keys: (2, 2, 1), acl: &["@read", "@stream", "@slow"], tips: &[],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(2), find: range(0, 1, 0) },
        ] },
    E { name: "xinfo|help", arity: 2, flags: &["loading", "stale"], keys: (0, 0, 0), acl: &["@stream", "@slow"], tips: &[],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[] },
    E { name: "xinfo|stream", arity: -3, flags: &["readonly"], keys: (2, 2, 1), acl: &["@read", "@stream", "@slow"], tips: &[],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(2), find: range(0, 1, 0) },
        ] },
    E { name: "xlen", arity: 2, flags: &["readonly", "fast"], keys: (1, 1, 1), acl: &["@read", "@stream", "@fast"], tips: &[],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "xpending", arity: -3, flags: &["readonly"], keys: (1, 1, 1), acl: &["@read", "@stream", "@slow"], tips: &["nondeterministic_output"],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "xrange", arity: -4, flags: &["readonly"], keys: (1, 1, 1), acl: &["@read", "@stream", "@slow"], tips: &[],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "xread", arity: -4, flags: &["readonly", "blocking", "movablekeys"], keys: (0, 0, 0), acl: &["@read", "@stream", "@slow", "@blocking"], tips: &[],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: kw("STREAMS", 1), find: range(-1, 1, 2) },
        ] },
    E { name: "xreadgroup", arity: -7, flags: &["write", "blocking", "movablekeys"], keys: (0, 0, 0), acl: &["@write", "@stream", "@slow", "@blocking"], tips: &[],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: kw("STREAMS", 4), find: range(-1, 1, 2) },
        ] },
    E { name: "xrevrange", arity: -4, flags: &["readonly"], keys: (1, 1, 1), acl: &["@read", "@stream", "@slow"], tips: &[],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RO", "access"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "xsetid", arity: -3, flags: &["write", "denyoom", "fast"], keys: (1, 1, 1), acl: &["@write", "@stream", "@fast"], tips: &[],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "update"], begin: idx(1), find: range(0, 1, 0) },
        ] },
    E { name: "xtrim", arity: -4, flags: &["write"], keys: (1, 1, 1), acl: &["@write", "@stream", "@slow"], tips: &["nondeterministic_output"],
        group: "stream", since: "5.0.0", doc_flags: &[], deprecated_since: "",
        subcommands: &[],
        key_specs: &[
            S { notes: "", flags: &["RW", "delete"], begin: idx(1), find: range(0, 1, 0) },
        ] },
];
