//! Functions (Redis 7): FCALL, FCALL_RO and FUNCTION (Redis's functions.c).
//! Libraries live in their own Lua state (`Scripts::functions`), apart from
//! EVAL's, as in Redis; `crate::script::functions` loads them.

use bytes::Bytes;

use crate::command::{Acl, CommandSpec, Flag, Group, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::node::Ctx;
use crate::script::functions::{flag_names, LoadLimit};
use crate::script::{Engine, RunMode};

pub const FUNCTION_NOT_FOUND: &str = "ERR Function not found";
pub const WRITE_FLAG_WITH_RO: &str =
    "ERR Can not execute a script with write flag using *_ro command.";
pub const LIBRARY_NOT_FOUND: &str = "ERR Library not found";
pub const BAD_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";
pub const BAD_NUMKEYS: &str = "ERR Bad number of keys provided";
pub const RESTORE_BAD_POLICY: &str =
    "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.";
pub const FLUSH_BAD_OPTION: &str = "ERR FUNCTION FLUSH only supports SYNC|ASYNC option";

const FCALL_FLAGS: &[Flag] = &[
    Flag::Noscript,
    Flag::Stale,
    Flag::SkipMonitor,
    Flag::MayReplicate,
    Flag::NoMandatoryKeys,
    Flag::MovableKeys,
];

const FCALL_RO_FLAGS: &[Flag] = &[
    Flag::Readonly,
    Flag::Noscript,
    Flag::Stale,
    Flag::SkipMonitor,
    Flag::NoMandatoryKeys,
    Flag::MovableKeys,
];

const FCALL: CommandSpec = CommandSpec {
    name: "fcall",
    arity: -3,
    flags: FCALL_FLAGS,
    acl: &[Acl::Scripting],
    key_specs: &[KeySpec::keynum(&["RW", "access", "update"], 2)],
    group: Group::Scripting,
    since: "7.0.0",
    summary: "Invoke a function",
    complexity: "Depends on the function that is executed.",
    handler: Some(fcall),
    ..CommandSpec::DEFAULT
};

const SUB: CommandSpec = CommandSpec {
    arity: 2,
    flags: &[Flag::Noscript],
    acl: &[Acl::Scripting],
    group: Group::Scripting,
    since: "7.0.0",
    ..CommandSpec::DEFAULT
};

const ALL_SHARDS: &[&str] = &["request_policy:all_shards", "response_policy:all_succeeded"];

pub static COMMANDS: &[CommandSpec] = &[
    FCALL,
    CommandSpec {
        name: "fcall_ro",
        flags: FCALL_RO_FLAGS,
        key_specs: &[KeySpec::keynum(&["RO", "access"], 2)],
        summary: "Invoke a read-only function",
        handler: Some(fcall_ro),
        ..FCALL
    },
    CommandSpec {
        name: "function",
        arity: -2,
        group: Group::Scripting,
        since: "7.0.0",
        summary: "A container for function commands",
        complexity: "Depends on subcommand.",
        subcommands: &[
            CommandSpec {
                name: "delete",
                arity: 3,
                flags: &[Flag::Write, Flag::Noscript],
                summary: "Delete a function by name",
                tips: ALL_SHARDS,
                handler: Some(function_delete),
                ..SUB
            },
            CommandSpec {
                name: "dump",
                summary: "Dump all functions into a serialized binary payload",
                complexity: "O(N) where N is the number of functions",
                handler: Some(function_dump),
                ..SUB
            },
            CommandSpec {
                name: "flush",
                arity: -2,
                flags: &[Flag::Write, Flag::Noscript],
                summary: "Deleting all functions",
                complexity: "O(N) where N is the number of functions deleted",
                tips: ALL_SHARDS,
                handler: Some(function_flush),
                ..SUB
            },
            CommandSpec {
                name: "help",
                flags: &[Flag::Loading, Flag::Stale],
                summary: "Show helpful text about the different subcommands",
                handler: Some(function_help),
                ..SUB
            },
            CommandSpec {
                name: "kill",
                flags: &[Flag::Noscript, Flag::AllowBusy],
                summary: "Kill the function currently in execution.",
                tips: &["request_policy:all_shards", "response_policy:one_succeeded"],
                handler: Some(function_kill),
                ..SUB
            },
            CommandSpec {
                name: "list",
                arity: -2,
                summary: "List information about all the functions",
                complexity: "O(N) where N is the number of functions",
                tips: &["nondeterministic_output_order"],
                handler: Some(function_list),
                ..SUB
            },
            CommandSpec {
                name: "load",
                arity: -3,
                flags: &[Flag::Write, Flag::Denyoom, Flag::Noscript],
                summary: "Create a function with the given arguments (name, code, description)",
                complexity: "O(1) (considering compilation time is redundant)",
                tips: ALL_SHARDS,
                handler: Some(function_load),
                ..SUB
            },
            CommandSpec {
                name: "restore",
                arity: -3,
                flags: &[Flag::Write, Flag::Denyoom, Flag::Noscript],
                summary: "Restore all the functions on the given payload",
                complexity: "O(N) where N is the number of functions on the payload",
                tips: ALL_SHARDS,
                handler: Some(function_restore),
                ..SUB
            },
            CommandSpec {
                name: "stats",
                flags: &[Flag::Noscript, Flag::AllowBusy],
                summary: "Return information about the function currently running (name, description, duration)",
                tips: &[
                    "nondeterministic_output",
                    "request_policy:all_shards",
                    "response_policy:special",
                ],
                handler: Some(function_stats),
                ..SUB
            },
        ],
        ..CommandSpec::DEFAULT
    },
];

/// Runs `f` with the node's functions engine, creating it on first use (see
/// `scripting::with_engine` for why it leaves the server meanwhile).
pub fn with_functions<R>(
    ctx: &mut Ctx<'_>,
    f: impl FnOnce(&mut Engine, &mut Ctx<'_>) -> R,
) -> Result<R, CmdError> {
    let mut engine = match ctx.srv.scripts.functions.take() {
        Some(engine) => engine,
        None => Box::new(
            ctx.srv
                .scripts
                .new_functions_engine()
                .map_err(|e| CmdError::Owned(format!("ERR Lua engine failed to start: {e}")))?,
        ),
    };
    let result = f(&mut engine, ctx);
    ctx.srv.scripts.functions = Some(engine);
    Ok(result)
}

/// FCALL function numkeys [key [key ...]] [arg [arg ...]]
fn fcall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    fcall_generic(ctx, args, false)
}

/// FCALL_RO function numkeys [key [key ...]] [arg [arg ...]]
fn fcall_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    fcall_generic(ctx, args, true)
}

/// Redis's fcallCommandGeneric order: the function, then numkeys, then the
/// read-only check.
fn fcall_generic(ctx: &mut Ctx<'_>, args: &[Bytes], read_only: bool) -> CmdResult {
    if let Some(e) = crate::script::start_refusal(ctx, args) {
        return Err(e);
    }
    ctx.prevent_propagation();
    let name = String::from_utf8_lossy(&args[1]).into_owned();
    with_functions(ctx, |engine, ctx| {
        let Some((callback, flags)) = engine.function(&name) else {
            return Err(FUNCTION_NOT_FOUND.into());
        };
        let (keys, argv) = super::scripting::keys_and_args(args, BAD_NUMKEYS)?;
        if read_only && !flags.no_writes {
            return Err(WRITE_FLAG_WITH_RO.into());
        }
        let mode = RunMode {
            read_only: flags.no_writes,
            is_eval: false,
            command: args,
        };
        engine
            .call_function(ctx, &name, callback, keys, argv, mode)
            .into_result(ctx)
    })?
}

/// FUNCTION LOAD [REPLACE] function-code
fn function_load(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mut replace = false;
    let mut i = 2;
    while i < args.len() - 1 {
        if args[i].eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else {
            let mut msg = b"ERR Unknown option given: ".to_vec();
            msg.extend_from_slice(&args[i]);
            return Err(CmdError::Bytes(msg));
        }
        i += 1;
    }
    let code = &args[args.len() - 1];
    let limit = load_limit(ctx);
    let name = with_functions(ctx, |engine, _| engine.load_library(code, replace, limit))??;
    ctx.force_propagation();
    ctx.srv.dirty += 1;
    ctx.out().bulk(name.as_bytes());
    Ok(())
}

/// How long a library's code may run while this command loads it: the AOF's
/// replay has no limit (Redis's mustObeyClient), clients get Redis's 500 ms.
fn load_limit(ctx: &Ctx<'_>) -> LoadLimit {
    if ctx.client.is_aof_loader() {
        LoadLimit::Unlimited
    } else {
        LoadLimit::timeout(crate::busy::host_clock(ctx.srv), ctx.now)
    }
}

/// FUNCTION DELETE library-name
fn function_delete(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let name = String::from_utf8_lossy(&args[2]).into_owned();
    let deleted = with_functions(ctx, |engine, _| engine.delete_library(&name))?;
    if !deleted {
        return Err(LIBRARY_NOT_FOUND.into());
    }
    ctx.force_propagation();
    ctx.srv.dirty += 1;
    ctx.out().ok();
    Ok(())
}

/// FUNCTION FLUSH [ASYNC|SYNC]
fn function_flush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len() > 3 {
        return Err(super::client::sub_syntax_error(args));
    }
    let valid = args.len() == 2
        || args[2].eq_ignore_ascii_case(b"sync")
        || args[2].eq_ignore_ascii_case(b"async");
    if !valid {
        return Err(FLUSH_BAD_OPTION.into());
    }
    // A fresh Lua state, as Redis makes one.
    ctx.srv.scripts.functions = None;
    ctx.force_propagation();
    ctx.srv.dirty += 1;
    ctx.out().ok();
    Ok(())
}

/// FUNCTION KILL: a function always runs to its end within one event here.
fn function_kill(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    crate::busy::kill(ctx.srv, false)?;
    ctx.out().ok();
    Ok(())
}

/// FUNCTION STATS
/// While a function runs long it names the function, its command and how long it
/// has run; while an EVAL does, it answers -BUSY as Redis does.
fn function_stats(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    let running = ctx.srv.busy.timed_out();
    if running.is_some_and(|r| r.is_eval) {
        return Err(crate::error::BUSY_EVAL.into());
    }
    let (libraries, functions) = match (running, ctx.srv.scripts.functions.as_ref()) {
        (Some(run), _) => (run.libraries, run.functions),
        (None, Some(engine)) => (engine.libraries.len(), engine.functions_count()),
        (None, None) => (0, 0),
    };
    let running = running.map(|r| {
        let duration = r.now.saturating_sub(r.started) as i64;
        (r.name.clone(), r.command.clone(), duration)
    });
    let out = ctx.out();
    out.map(2);
    out.bulk(b"running_script");
    match running {
        Some((name, command, duration)) => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(name.as_bytes());
            out.bulk(b"command");
            out.array(command.len());
            for arg in &command {
                out.bulk(arg);
            }
            out.bulk(b"duration_ms");
            out.int(duration);
        }
        None => out.null(),
    }
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(libraries as i64);
    out.bulk(b"functions_count");
    out.int(functions as i64);
    Ok(())
}

/// FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE]
fn function_list(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        let arg = &args[i];
        if arg.eq_ignore_ascii_case(b"withcode") && !with_code {
            with_code = true;
        } else if arg.eq_ignore_ascii_case(b"libraryname") && pattern.is_none() {
            let Some(p) = args.get(i + 1) else {
                return Err("ERR library name argument was not given".into());
            };
            pattern = Some(p);
            i += 1;
        } else {
            let mut msg = b"ERR Unknown argument ".to_vec();
            msg.extend_from_slice(arg);
            return Err(CmdError::Bytes(msg));
        }
        i += 1;
    }
    let Some(engine) = ctx.srv.scripts.functions.as_ref() else {
        ctx.client.out.array(0);
        return Ok(());
    };
    let libraries: Vec<_> = engine
        .libraries
        .values()
        .filter(|lib| {
            pattern.is_none_or(|p| crate::util::glob::glob_match(p, lib.name.as_bytes(), true))
        })
        .collect();
    let out = &mut ctx.client.out;
    out.array(libraries.len());
    for lib in libraries {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(lib.name.as_bytes());
        out.bulk(b"engine");
        out.bulk(b"LUA");
        out.bulk(b"functions");
        out.array(lib.functions.len());
        for f in &lib.functions {
            out.map(3);
            out.bulk(b"name");
            out.bulk(f.name.as_bytes());
            out.bulk(b"description");
            match &f.description {
                Some(d) => out.bulk(d),
                None => out.null(),
            }
            out.bulk(b"flags");
            let names = flag_names(&f.flags);
            out.set(names.len());
            for name in names {
                out.status(name);
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&lib.code);
        }
    }
    Ok(())
}

/// FUNCTION DUMP: each library as a FUNCTION2 record, then the RDB version and
/// a CRC64, as DUMP payloads end.
fn function_dump(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    let codes: Vec<Bytes> = match ctx.srv.scripts.functions.as_ref() {
        Some(engine) => engine.libraries.values().map(|l| l.code.clone()).collect(),
        None => Vec::new(),
    };
    let payload = crate::rdb::RdbWriter::functions_payload(&codes, ctx.srv.config.rdbcompression);
    ctx.out().bulk(&payload);
    Ok(())
}

/// FUNCTION RESTORE serialized-value [FLUSH|APPEND|REPLACE]
fn function_restore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len() > 4 {
        return Err(super::client::sub_syntax_error(args));
    }
    let policy = match args.get(3) {
        None => Restore::Append,
        Some(p) if p.eq_ignore_ascii_case(b"append") => Restore::Append,
        Some(p) if p.eq_ignore_ascii_case(b"replace") => Restore::Replace,
        Some(p) if p.eq_ignore_ascii_case(b"flush") => Restore::Flush,
        Some(_) => return Err(RESTORE_BAD_POLICY.into()),
    };
    let Some(codes) = crate::rdb::functions_payload(&args[2]) else {
        return Err(BAD_PAYLOAD.into());
    };
    let limit = load_limit(ctx);
    with_functions(ctx, |engine, _| {
        restore_libraries(engine, &codes, policy, limit)
    })??;
    ctx.force_propagation();
    ctx.srv.dirty += 1;
    ctx.out().ok();
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Restore {
    Append,
    Replace,
    Flush,
}

/// Loads every library of a payload, all or nothing: on an error the libraries
/// in place before stay as they were.
///
/// The payload's libraries run under `limit` (Redis sets none for FUNCTION
/// RESTORE, so a library that never stops loading hangs it; Ember refuses it
/// as FUNCTION LOAD does); libraries already loaded are run again without one.
fn restore_libraries(
    engine: &mut Engine,
    codes: &[Vec<u8>],
    policy: Restore,
    limit: LoadLimit,
) -> CmdResult {
    let mut staged = engine
        .flushed()
        .map_err(|e| CmdError::Owned(format!("ERR {e}")))?;
    for code in codes {
        staged.load_library(code, false, limit)?;
    }
    if policy == Restore::Flush {
        *engine = staged;
        return Ok(());
    }
    let names: Vec<String> = staged.libraries.keys().cloned().collect();
    if policy == Restore::Append {
        if let Some(name) = names.iter().find(|n| engine.libraries.contains_key(*n)) {
            return Err(CmdError::Owned(format!(
                "ERR Library {name} already exists"
            )));
        }
    }
    let mut merged = engine
        .flushed()
        .map_err(|e| CmdError::Owned(format!("ERR {e}")))?;
    for lib in engine.libraries.values() {
        if !names.contains(&lib.name) {
            merged.load_library(&lib.code, false, LoadLimit::Unlimited)?;
        }
    }
    for code in codes {
        merged.load_library(code, false, limit)?;
    }
    *engine = merged;
    Ok(())
}

/// FUNCTION HELP
fn function_help(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    const LINES: &[&str] = &[
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
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
