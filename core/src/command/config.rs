//! CONFIG GET / SET / RESETSTAT / REWRITE / HELP over the directive table in
//! `config_table.rs`.

use bytes::Bytes;

use super::{CommandSpec, Flag, Group};
use crate::config_table::{self as table, DIRECTIVES, HIDDEN, IMMUTABLE, PROTECTED};
use crate::db::KeyspaceStats;
use crate::error::{self, CmdError, CmdResult};
use crate::io::{LogLevel, Output};
use crate::node::Ctx;
use crate::server::Stats;
use crate::util::glob::glob_match;

const NO_CONFIG_FILE: &str = "ERR The server is running without a config file";
const IMMUTABLE_CONFIG: &str = "can't set immutable config";
const PROTECTED_CONFIG: &str = "can't set protected config";
const DUPLICATE_PARAMETER: &str = "duplicate parameter";
const PORT_APPLY_FAILED: &str = "Unable to listen on this port. Check server logs.";
const BIND_APPLY_FAILED: &str = "Failed to bind to specified addresses.";

const ADMIN_FLAGS: &[Flag] = &[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale];

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "config",
    arity: -2,
    group: Group::Server,
    since: "2.0.0",
    summary: "A container for server configuration commands.",
    complexity: "Depends on subcommand.",
    subcommands: &[
        CommandSpec {
            name: "get",
            arity: -3,
            flags: ADMIN_FLAGS,
            group: Group::Server,
            since: "2.0.0",
            summary: "Returns the effective values of configuration parameters.",
            complexity: "O(N) when N is the number of configuration parameters provided",
            handler: Some(config_get),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "set",
            arity: -4,
            flags: ADMIN_FLAGS,
            group: Group::Server,
            since: "2.0.0",
            summary: "Sets configuration parameters in-flight.",
            complexity: "O(N) when N is the number of configuration parameters provided",
            tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
            handler: Some(config_set),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "resetstat",
            arity: 2,
            flags: ADMIN_FLAGS,
            group: Group::Server,
            since: "2.0.0",
            summary: "Resets the server's statistics.",
            handler: Some(config_resetstat),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "rewrite",
            arity: 2,
            flags: ADMIN_FLAGS,
            group: Group::Server,
            since: "2.8.0",
            summary: "Persists the effective configuration to file.",
            handler: Some(config_rewrite),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "help",
            arity: 2,
            flags: &[Flag::Loading, Flag::Stale],
            group: Group::Server,
            since: "5.0.0",
            summary: "Returns helpful text about the different subcommands.",
            handler: Some(config_help),
            ..CommandSpec::DEFAULT
        },
    ],
    ..CommandSpec::DEFAULT
}];

/// CONFIG GET parameter [parameter ...]
///
/// A name without glob characters is looked up exactly (hidden directives too) and
/// answered under the spelling asked for; a pattern matches every visible name and
/// alias, case-insensitively. Each directive appears once.
fn config_get(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mut matches: Vec<(Vec<u8>, usize)> = Vec::new();
    let seen = |matches: &[(Vec<u8>, usize)], name: &[u8]| {
        matches.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
    };
    for pattern in &args[2..] {
        if !pattern.iter().any(|c| matches!(c, b'[' | b'*' | b'?')) {
            if seen(&matches, pattern) {
                continue;
            }
            if let Some(index) = table::find(pattern) {
                matches.push((pattern.to_vec(), index));
            }
            continue;
        }
        for (index, name) in table::names() {
            if DIRECTIVES[index].has(HIDDEN) || seen(&matches, name.as_bytes()) {
                continue;
            }
            if glob_match(pattern, name.as_bytes(), true) {
                matches.push((name.as_bytes().to_vec(), index));
            }
        }
    }
    let config = &ctx.srv.config;
    let values: Vec<Vec<u8>> = matches
        .iter()
        .map(|(_, index)| table::get(config, *index))
        .collect();
    let out = &mut ctx.client.out;
    out.map(matches.len());
    for ((name, _), value) in matches.iter().zip(&values) {
        out.bulk(name);
        out.bulk(value);
    }
    Ok(())
}

/// One parameter of a CONFIG SET: the directive, and the name it was found under
/// (an alias counts as a different parameter, as in Redis).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Target {
    index: usize,
    via_alias: bool,
}

impl Target {
    fn name(self) -> &'static str {
        let d = &DIRECTIVES[self.index];
        match (self.via_alias, d.alias) {
            (true, Some(alias)) => alias,
            _ => d.name,
        }
    }
}

/// What runs after a changed value is stored.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Apply {
    Hz,
    Port,
    Bind,
    Maxmemory,
    Maxclients,
    Appendonly,
}

fn apply_of(index: usize) -> Option<Apply> {
    match DIRECTIVES[index].name {
        "hz" => Some(Apply::Hz),
        "port" => Some(Apply::Port),
        "bind" => Some(Apply::Bind),
        "maxmemory" => Some(Apply::Maxmemory),
        "maxclients" => Some(Apply::Maxclients),
        "appendonly" => Some(Apply::Appendonly),
        _ => None,
    }
}

fn set_failed(name: &str, reason: &str) -> CmdError {
    CmdError::Owned(format!(
        "ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}"
    ))
}

/// CONFIG SET parameter value [parameter value ...]
///
/// All or nothing: names are checked first (unknown, immutable, protected,
/// duplicate), then every value is parsed and stored, then the apply steps run; a
/// failure anywhere restores every previous value.
fn config_set(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len() % 2 == 1 {
        return Err(CmdError::Static(error::SYNTAX));
    }
    let targets = resolve_targets(ctx, args)?;
    let config = &mut ctx.srv.config;
    let old: Vec<table::Val> = targets
        .iter()
        .map(|t| table::read(config, t.index))
        .collect();
    let mut applies: Vec<(Apply, Target)> = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        match table::set_from_value(config, target.index, &args[3 + i * 2]) {
            Ok(changed) => {
                if let Some(apply) = apply_of(target.index).filter(|_| changed) {
                    if !applies.iter().any(|(a, _)| *a == apply) {
                        applies.push((apply, *target));
                    }
                }
            }
            Err(reason) => {
                restore(config, &targets[..=i], &old);
                return Err(set_failed(target.name(), &reason));
            }
        }
    }
    for (apply, target) in applies {
        if let Err(reason) = run_apply(ctx, apply) {
            restore(&mut ctx.srv.config, &targets, &old);
            ctx.outputs.push_back(Output::Log {
                level: LogLevel::Warning,
                line: format!(
                    "Failed applying new configuration. Possibly related to new {} setting. Restoring previous settings.",
                    target.name()
                ),
            });
            return Err(set_failed(target.name(), &reason));
        }
    }
    ctx.out().ok();
    Ok(())
}

/// Finds each parameter's directive, with Redis's first-error-wins order.
fn resolve_targets(ctx: &Ctx<'_>, args: &[Bytes]) -> Result<Vec<Target>, CmdError> {
    let config = &ctx.srv.config;
    let mut targets: Vec<Target> = Vec::new();
    let mut failure: Option<CmdError> = None;
    for pair in args[2..].chunks(2) {
        let name = &pair[0];
        let Some(index) = table::find(name) else {
            failure.get_or_insert_with(|| {
                CmdError::Owned(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                    String::from_utf8_lossy(name)
                ))
            });
            continue;
        };
        if failure.is_some() {
            continue;
        }
        let d = &DIRECTIVES[index];
        let typed = String::from_utf8_lossy(name);
        let protected_denied =
            d.has(PROTECTED) && !config.enable_protected_configs.allows(&ctx.client.peer);
        if d.has(IMMUTABLE) || protected_denied {
            let reason = if d.has(IMMUTABLE) {
                IMMUTABLE_CONFIG
            } else {
                PROTECTED_CONFIG
            };
            failure = Some(set_failed(&typed, reason));
            continue;
        }
        let target = Target {
            index,
            via_alias: !d.name.as_bytes().eq_ignore_ascii_case(name),
        };
        if targets.contains(&target) {
            failure = Some(set_failed(&typed, DUPLICATE_PARAMETER));
            continue;
        }
        targets.push(target);
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(targets),
    }
}

fn restore(config: &mut crate::config::Config, targets: &[Target], old: &[table::Val]) {
    for (target, value) in targets.iter().zip(old) {
        table::write(config, target.index, value.clone());
    }
}

fn run_apply(ctx: &mut Ctx<'_>, apply: Apply) -> Result<(), String> {
    let config = &mut ctx.srv.config;
    match apply {
        Apply::Hz => table::clamp_hz(config),
        Apply::Port | Apply::Bind => {
            if let Some(listen) = config.hooks.listen {
                if let Err(e) = listen(&config.bind, config.port) {
                    ctx.outputs.push_back(Output::Log {
                        level: LogLevel::Warning,
                        line: e,
                    });
                    return Err(if apply == Apply::Port {
                        PORT_APPLY_FAILED.to_string()
                    } else {
                        BIND_APPLY_FAILED.to_string()
                    });
                }
            }
        }
        Apply::Maxclients => {
            if let Some(adjust) = config.hooks.maxclients {
                if let Err(fits) = adjust(config.maxclients) {
                    return Err(format!(
                        "The operating system is not able to handle the specified number of clients, try with {fits}"
                    ));
                }
            }
        }
        Apply::Appendonly => {
            let on = config.appendonly;
            crate::aof::set_appendonly(ctx.srv, ctx.outputs, ctx.now, on, ctx.client.in_exec)?;
        }
        Apply::Maxmemory => {
            let maxmemory = config.maxmemory;
            let used = ctx.srv.used_memory() as u64;
            if maxmemory != 0 && maxmemory < used {
                ctx.outputs.push_back(Output::Log {
                    level: LogLevel::Warning,
                    line: format!(
                        "WARNING: the new maxmemory value set via CONFIG SET ({maxmemory}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy."
                    ),
                });
            }
        }
    }
    Ok(())
}

/// CONFIG RESETSTAT
fn config_resetstat(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    ctx.srv.stats = Stats::default();
    ctx.srv.keyspace_stats = KeyspaceStats::default();
    ctx.out().ok();
    Ok(())
}

/// CONFIG REWRITE: the host rewrites the file the server started from.
fn config_rewrite(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    if ctx.srv.config.config_file.is_none() {
        return Err(CmdError::Static(NO_CONFIG_FILE));
    }
    let result = match ctx.srv.config.hooks.rewrite {
        Some(rewrite) => rewrite(&ctx.srv.config),
        None => Err("rewriting is not available in this host".to_string()),
    };
    match result {
        Ok(()) => {
            ctx.outputs.push_back(Output::Log {
                level: LogLevel::Warning,
                line: "CONFIG REWRITE executed with success.".into(),
            });
            ctx.out().ok();
            Ok(())
        }
        Err(e) => {
            ctx.outputs.push_back(Output::Log {
                level: LogLevel::Warning,
                line: format!("CONFIG REWRITE failed: {e}"),
            });
            Err(CmdError::Owned(format!("ERR Rewriting config file: {e}")))
        }
    }
}

/// CONFIG HELP
fn config_help(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    const LINES: &[&str] = &[
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Prints this help.",
    ];
    let out = ctx.out();
    out.array(LINES.len());
    for line in LINES {
        out.status(line);
    }
    Ok(())
}
