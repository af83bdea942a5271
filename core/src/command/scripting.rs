//! Scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (Redis's eval.c).
//! The Lua engine itself lives in `crate::script`; this module parses the
//! commands, finds or compiles the script and hands it to the engine.

use bytes::Bytes;

use crate::command::{Acl, CommandSpec, Flag, Group, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::node::Ctx;
use crate::script::{Engine, RunMode};

pub const NEGATIVE_KEYS: &str = "ERR Number of keys can't be negative";
pub const TOO_MANY_KEYS: &str = "ERR Number of keys can't be greater than number of args";
pub const FLUSH_BAD_OPTION: &str = "ERR SCRIPT FLUSH only support SYNC|ASYNC option";
pub const NOT_BUSY: &str = "NOTBUSY No scripts in execution right now.";
pub const DEBUG_USAGE: &str = "ERR Use SCRIPT DEBUG YES/SYNC/NO";
pub const DEBUG_UNSUPPORTED: &str = "ERR SCRIPT DEBUG YES/SYNC is not supported by this server";

const EVAL_FLAGS: &[Flag] = &[
    Flag::Noscript,
    Flag::Stale,
    Flag::SkipMonitor,
    Flag::MayReplicate,
    Flag::NoMandatoryKeys,
    Flag::MovableKeys,
];

const EVAL_RO_FLAGS: &[Flag] = &[
    Flag::Readonly,
    Flag::Noscript,
    Flag::Stale,
    Flag::SkipMonitor,
    Flag::NoMandatoryKeys,
    Flag::MovableKeys,
];

const EVAL_KEYS: &[KeySpec] = &[KeySpec::keynum(&["RW", "access", "update"], 2)];
const EVAL_RO_KEYS: &[KeySpec] = &[KeySpec::keynum(&["RO", "access"], 2)];

const EVAL: CommandSpec = CommandSpec {
    name: "eval",
    arity: -3,
    flags: EVAL_FLAGS,
    acl: &[Acl::Scripting],
    key_specs: EVAL_KEYS,
    group: Group::Scripting,
    since: "2.6.0",
    summary: "Execute a Lua script server side",
    complexity: "Depends on the script that is executed.",
    handler: Some(eval),
    ..CommandSpec::DEFAULT
};

const SCRIPT_SUB: CommandSpec = CommandSpec {
    arity: 2,
    flags: &[Flag::Noscript],
    acl: &[Acl::Scripting],
    group: Group::Scripting,
    since: "2.6.0",
    ..CommandSpec::DEFAULT
};

pub static COMMANDS: &[CommandSpec] = &[
    EVAL,
    CommandSpec {
        name: "evalsha",
        handler: Some(evalsha),
        ..EVAL
    },
    CommandSpec {
        name: "eval_ro",
        flags: EVAL_RO_FLAGS,
        key_specs: EVAL_RO_KEYS,
        since: "7.0.0",
        summary: "Execute a read-only Lua script server side",
        handler: Some(eval_ro),
        ..EVAL
    },
    CommandSpec {
        name: "evalsha_ro",
        flags: EVAL_RO_FLAGS,
        key_specs: EVAL_RO_KEYS,
        since: "7.0.0",
        summary: "Execute a read-only Lua script server side",
        handler: Some(evalsha_ro),
        ..EVAL
    },
    CommandSpec {
        name: "script",
        arity: -2,
        group: Group::Scripting,
        since: "2.6.0",
        summary: "A container for Lua scripts management commands",
        complexity: "Depends on subcommand.",
        subcommands: &[
            CommandSpec {
                name: "debug",
                arity: 3,
                since: "3.2.0",
                summary: "Set the debug mode for executed scripts.",
                handler: Some(script_debug),
                ..SCRIPT_SUB
            },
            CommandSpec {
                name: "exists",
                arity: -3,
                summary: "Check existence of scripts in the script cache.",
                complexity: "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
                tips: &["request_policy:all_shards", "response_policy:agg_logical_and"],
                handler: Some(script_exists),
                ..SCRIPT_SUB
            },
            CommandSpec {
                name: "flush",
                arity: -2,
                summary: "Remove all the scripts from the script cache.",
                complexity: "O(N) with N being the number of scripts in cache",
                tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
                history: &[("6.2.0", "Added the `ASYNC` and `SYNC` flushing mode modifiers.")],
                handler: Some(script_flush),
                ..SCRIPT_SUB
            },
            CommandSpec {
                name: "help",
                flags: &[Flag::Loading, Flag::Stale],
                since: "5.0.0",
                summary: "Show helpful text about the different subcommands",
                handler: Some(script_help),
                ..SCRIPT_SUB
            },
            CommandSpec {
                name: "kill",
                flags: &[Flag::Noscript, Flag::AllowBusy],
                summary: "Kill the script currently in execution.",
                tips: &["request_policy:all_shards", "response_policy:one_succeeded"],
                handler: Some(script_kill),
                ..SCRIPT_SUB
            },
            CommandSpec {
                name: "load",
                arity: 3,
                flags: &[Flag::Noscript, Flag::Stale],
                summary: "Load the specified Lua script into the script cache.",
                complexity: "O(N) with N being the length in bytes of the script body.",
                tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
                handler: Some(script_load),
                ..SCRIPT_SUB
            },
        ],
        ..CommandSpec::DEFAULT
    },
];

/// Runs `f` with the node's Lua engine, creating it on first use. The engine
/// leaves the server while `f` runs, so a script can hold the context and the
/// engine at once; nothing a script calls touches the engine (scripting commands
/// are `noscript`).
pub fn with_engine<R>(
    ctx: &mut Ctx<'_>,
    f: impl FnOnce(&mut Engine, &mut Ctx<'_>) -> R,
) -> Result<R, CmdError> {
    let mut engine = match ctx.srv.scripts.engine.take() {
        Some(engine) => engine,
        None => Box::new(
            Engine::new(ctx.srv.scripts.rand.clone())
                .map_err(|e| CmdError::Owned(format!("ERR Lua engine failed to start: {e}")))?,
        ),
    };
    let result = f(&mut engine, ctx);
    ctx.srv.scripts.engine = Some(engine);
    Ok(result)
}

/// The KEYS and ARGV of `EVAL script numkeys key... arg...`.
/// `not_integer` is the error for a count that is not a number (FCALL words it
/// differently from EVAL).
pub(crate) fn keys_and_args<'a>(
    args: &'a [Bytes],
    not_integer: &'static str,
) -> Result<(&'a [Bytes], &'a [Bytes]), CmdError> {
    let numkeys = crate::util::num::parse_i64(&args[2]).ok_or(not_integer)?;
    if numkeys < 0 {
        return Err(NEGATIVE_KEYS.into());
    }
    let rest = &args[3..];
    if numkeys as u64 > rest.len() as u64 {
        return Err(TOO_MANY_KEYS.into());
    }
    Ok(rest.split_at(numkeys as usize))
}

/// EVAL script numkeys [key [key ...]] [arg [arg ...]]
fn eval(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    eval_generic(ctx, args, false, false)
}

/// EVALSHA sha1 numkeys [key [key ...]] [arg [arg ...]]
fn evalsha(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    eval_generic(ctx, args, true, false)
}

/// EVAL_RO script numkeys [key [key ...]] [arg [arg ...]]
fn eval_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    eval_generic(ctx, args, false, true)
}

/// EVALSHA_RO sha1 numkeys [key [key ...]] [arg [arg ...]]
fn evalsha_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    eval_generic(ctx, args, true, true)
}

/// The shared body of the four EVAL forms (Redis's evalGenericCommand). The
/// script's writes propagate as themselves (wrapped in MULTI/EXEC when more than
/// one), never the EVAL.
fn eval_generic(ctx: &mut Ctx<'_>, args: &[Bytes], by_sha: bool, read_only: bool) -> CmdResult {
    if let Some(e) = crate::script::start_refusal(ctx, args) {
        return Err(e);
    }
    let (keys, argv) = keys_and_args(args, crate::error::NOT_INTEGER)?;
    ctx.prevent_propagation();
    with_engine(ctx, |engine, ctx| {
        let sha = if by_sha {
            cached_sha(engine, &args[1])?
        } else {
            engine.load(&args[1])?
        };
        let flags = engine.flags(&sha).unwrap_or_default();
        // A script that declares its flags must declare no-writes to run read-only
        // (scripts without a shebang run in Redis's compatibility mode).
        if read_only && flags.shebang && !flags.no_writes {
            return Err(super::function::WRITE_FLAG_WITH_RO.into());
        }
        let mode = RunMode {
            read_only: read_only || flags.no_writes,
            is_eval: true,
            command: args,
        };
        engine.run(ctx, &sha, keys, argv, mode).into_result(ctx)
    })?
}

/// The cache key for EVALSHA's argument: 40 hex digits in any case.
fn cached_sha(engine: &Engine, arg: &[u8]) -> Result<String, CmdError> {
    if arg.len() != 40 {
        return Err(crate::script::NO_SCRIPT.into());
    }
    let sha = String::from_utf8_lossy(arg).to_ascii_lowercase();
    if engine.exists(&sha) {
        Ok(sha)
    } else {
        Err(crate::script::NO_SCRIPT.into())
    }
}

/// SCRIPT LOAD script
fn script_load(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let sha = with_engine(ctx, |engine, _| engine.load(&args[2]))??;
    ctx.out().bulk(sha.as_bytes());
    Ok(())
}

/// SCRIPT EXISTS sha1 [sha1 ...]
fn script_exists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let shas = &args[2..];
    let found: Vec<bool> = match ctx.srv.scripts.engine.as_ref() {
        Some(engine) => shas
            .iter()
            .map(|s| engine.exists(&String::from_utf8_lossy(s).to_ascii_lowercase()))
            .collect(),
        None => vec![false; shas.len()],
    };
    let out = ctx.out();
    out.array(found.len());
    for f in found {
        out.int(i64::from(f));
    }
    Ok(())
}

/// SCRIPT FLUSH [ASYNC|SYNC]
fn script_flush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let valid = match args.len() {
        2 => true,
        3 => args[2].eq_ignore_ascii_case(b"sync") || args[2].eq_ignore_ascii_case(b"async"),
        _ => false,
    };
    if !valid {
        return Err(FLUSH_BAD_OPTION.into());
    }
    // A fresh Lua state: whatever a script left in the old one goes with it.
    ctx.srv.scripts.engine = None;
    ctx.out().ok();
    Ok(())
}

/// SCRIPT KILL. A script always runs to its end within one event here, so no
/// other command can ever see one running.
fn script_kill(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    crate::busy::kill(ctx.srv, true)?;
    ctx.out().ok();
    Ok(())
}

/// SCRIPT DEBUG YES|SYNC|NO. The Lua debugger is not implemented: NO is accepted.
fn script_debug(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mode = &args[2];
    if mode.eq_ignore_ascii_case(b"no") {
        ctx.out().ok();
        Ok(())
    } else if mode.eq_ignore_ascii_case(b"yes") || mode.eq_ignore_ascii_case(b"sync") {
        Err(DEBUG_UNSUPPORTED.into())
    } else {
        Err(DEBUG_USAGE.into())
    }
}

/// SCRIPT HELP
fn script_help(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    const LINES: &[&str] = &[
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
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

#[cfg(test)]
mod tests {
    use crate::command::testkit::TestNode;
    use crate::config::Config;

    fn node() -> TestNode {
        let mut t = TestNode::new(Config::default());
        t.connect(1);
        t
    }

    /// Redis 7.0.15 counts an EVAL as failed whenever its reply is an error, even
    /// one already counted by the redis.call inside: after these four EVALs it
    /// reports `cmdstat_eval:calls=4,...,failed_calls=3` and
    /// `cmdstat_incr:calls=3,...,failed_calls=3`.
    #[test]
    fn an_eval_ending_in_an_error_is_a_failed_call() {
        let mut t = node();
        t.cmd(1, &["SET", "s", "abc"]);
        for script in [
            "return redis.call('incr','s')",
            "redis.pcall('incr','s') return 1",
            "return redis.pcall('incr','s')",
            "error('x')",
        ] {
            t.cmd(1, &["EVAL", script, "0"]);
        }
        let info = t.cmd(1, &["INFO", "commandstats"]);
        for want in [
            "cmdstat_eval:calls=4,usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=3",
            "cmdstat_incr:calls=3,usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=3",
        ] {
            assert!(info.contains(want), "{want} not in {info}");
        }
    }

    #[test]
    fn eval_converts_replies_both_ways() {
        let mut t = node();
        assert_eq!(t.cmd(1, &["eval", "return 1", "0"]), ":1\r\n");
        assert_eq!(
            t.cmd(1, &["eval", "return {1,2,3.7,'x',nil,5}", "0"]),
            "*4\r\n:1\r\n:2\r\n:3\r\n$1\r\nx\r\n"
        );
        assert_eq!(
            t.cmd(
                1,
                &[
                    "eval",
                    "return redis.call('set', KEYS[1], ARGV[1])",
                    "1",
                    "k",
                    "v"
                ]
            ),
            "+OK\r\n"
        );
        assert_eq!(
            t.cmd(1, &["eval", "return redis.call('get', KEYS[1])", "1", "k"]),
            "$1\r\nv\r\n"
        );
        assert_eq!(
            t.cmd(1, &["eval", "return redis.call('get', 'nokey')", "0"]),
            "$-1\r\n"
        );
    }

    #[test]
    fn script_errors_name_the_script_and_line() {
        let mut t = node();
        let got = t.cmd(1, &["eval", "return x", "0"]);
        assert_eq!(got, "-ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: 03c387736bb5cc009ff35151572cee04677aa374, on @user_script:1.\r\n");
        t.cmd(1, &["set", "s", "abc"]);
        let got = t.cmd(1, &["eval", "return redis.call('incr','s')", "0"]);
        assert_eq!(got, "-ERR value is not an integer or out of range script: c243b9f46db13ba8f69da41b45a77708832babed, on @user_script:1.\r\n");
        let got = t.cmd(1, &["eval", "a=5 return a", "0"]);
        assert_eq!(got, "-ERR user_script:1: Attempt to modify a readonly table script: 5f2737ecdb3f8fa17d982773a2901a4015443ed7, on @user_script:1.\r\n");
        let got = t.cmd(1, &["eval", "return 1+", "0"]);
        assert_eq!(got, "-ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'\r\n");
    }

    fn effects(t: &mut TestNode) -> Vec<String> {
        t.node
            .take_effects()
            .into_iter()
            .map(|e| {
                let argv: Vec<String> = e
                    .argv
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                argv.join(" ")
            })
            .collect()
    }

    #[test]
    fn a_script_propagates_its_writes_wrapped_in_multi_exec_not_itself() {
        let mut t = node();
        t.node.set_propagation(true);
        let body = "redis.call('set', KEYS[1], 'v') redis.call('incr', 'n') redis.call('get', 'n') return 1";
        assert_eq!(t.cmd(1, &["eval", body, "1", "k"]), ":1\r\n");
        assert_eq!(effects(&mut t), ["MULTI", "set k v", "incr n", "EXEC"]);
        // One write goes alone; relative expiry becomes absolute as outside scripts.
        let one = "return redis.call('set', 'e', 'v', 'ex', '100')";
        assert_eq!(t.cmd(1, &["eval", one, "0"]), "+OK\r\n");
        let at = crate::command::testkit::T0 + 100_000;
        assert_eq!(effects(&mut t), [format!("SET e v PXAT {at}")]);
        // A script that writes nothing, or fails before writing, propagates nothing.
        t.cmd(1, &["eval", "return redis.call('get', 'k')", "0"]);
        t.cmd(1, &["eval", "return x", "0"]);
        assert!(effects(&mut t).is_empty());
    }

    #[test]
    fn a_failing_script_keeps_the_writes_it_made_before_the_error() {
        let mut t = node();
        t.node.set_propagation(true);
        let body = "redis.call('set', 'a', '1') redis.call('set', 'b', '2') error('late')";
        let got = t.cmd(1, &["eval", body, "0"]);
        assert!(
            got.starts_with("-ERR user_script:1: late script: "),
            "{got}"
        );
        assert_eq!(effects(&mut t), ["MULTI", "set a 1", "set b 2", "EXEC"]);
        assert_eq!(t.cmd(1, &["get", "b"]), "$1\r\n2\r\n");
    }

    #[test]
    fn math_random_is_the_same_sequence_on_every_node() {
        let draw = |t: &mut TestNode| {
            t.cmd(
                1,
                &[
                    "eval",
                    "return {math.random(1000000), math.random(1000000)}",
                    "0",
                ],
            )
        };
        let mut a = node();
        let mut b = node();
        let first = draw(&mut a);
        assert_eq!(first, draw(&mut b));
        assert_ne!(
            first,
            draw(&mut a),
            "the sequence carries on across scripts, as in Redis"
        );
    }

    #[test]
    fn hostile_scripts_get_errors_not_crashes() {
        let mut t = node();
        for body in [
            "local t = {} t[1] = t return t",
            "error({})",
            "error(nil)",
            "return string.rep('x', 2^31)",
            "local s = string.dump(function() return 1 end) return loadstring(s)",
            "return redis.call(string.rep('x', 100000))",
            "local function f() return f() + 1 end return f()",
            "return coroutine.wrap(function() redis.call('get', 'x') error('in co') end)()",
            "return setmetatable({}, {__index = function(t, k) return t[k] end}).x",
            "return pcall(string.rep)",
        ] {
            let got = t.cmd(1, &["eval", body, "0"]);
            assert!(!got.is_empty(), "{body}");
            assert_eq!(t.cmd(1, &["ping"]), "+PONG\r\n", "{body}");
        }
    }

    #[test]
    fn redis_log_lines_reach_the_log_at_their_level() {
        let mut t = node();
        let body = "redis.log(redis.LOG_WARNING, 'seen', 42) redis.log(redis.LOG_DEBUG, 'hidden') return 1";
        assert_eq!(t.cmd(1, &["eval", body, "0"]), ":1\r\n");
        let lines: Vec<String> = std::iter::from_fn(|| t.node.poll_output())
            .filter_map(|o| match o {
                crate::io::Output::Log { line, .. } => Some(line),
                _ => None,
            })
            .chain(t.effects.iter().filter_map(|o| match o {
                crate::io::Output::Log { line, .. } => Some(line.clone()),
                _ => None,
            }))
            .collect();
        assert_eq!(lines, ["seen 42"]);
    }

    #[test]
    fn set_repl_none_keeps_the_following_writes_out_of_the_effects() {
        let mut t = node();
        t.node.set_propagation(true);
        let body = "redis.set_repl(redis.REPL_NONE) redis.call('set', 'a', '1') \
                    redis.set_repl(redis.REPL_ALL) redis.call('set', 'b', '2') return 1";
        assert_eq!(t.cmd(1, &["eval", body, "0"]), ":1\r\n");
        assert_eq!(effects(&mut t), ["set b 2"]);
        assert_eq!(t.cmd(1, &["get", "a"]), "$1\r\n1\r\n");
    }
}
