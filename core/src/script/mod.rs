//! The Lua engine behind EVAL/EVALSHA (Redis's eval.c and script_lua.c).
//!
//! One Lua 5.1 state per node, created on first use, holds the sandbox
//! (`sandbox.lua`: read-only globals and libraries, Redis's `redis` table, its
//! math.random) and the cached scripts by SHA-1. A script runs inside one
//! `handle()` call: `redis.call` is a function scoped to that run which executes
//! the command through [`Ctx::call`] with the reply going to a scratch buffer in
//! the protocol the script chose (`redis.setresp`), then parses that reply back
//! into Lua values as Redis does ([`convert`]). The script sees no clock and no
//! entropy: math.random is Redis's lrand48 sequence, node-wide, as in Redis.

pub(crate) mod api;
pub(crate) mod convert;
mod coroutine;
pub(crate) mod functions;
mod libs;
mod rand;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use bytes::Bytes;
use mlua::{
    ChunkMode, Function, HookTriggers, Lua, LuaOptions, StdLib, Table, Value, Variadic, VmState,
};

use crate::command::CommandSpec;
use crate::error::CmdError;
use crate::node::Ctx;
use crate::resp::{Protocol, ReplyBuf};

pub use rand::Lrand48;

/// The sandbox's source, run once per Lua state.
const SANDBOX: &str = include_str!("sandbox.lua");

/// Bytes of memory one Lua state may hold; past it allocations fail with a Lua
/// memory error instead of taking the server down (Redis sets no limit).
pub const LUA_MEMORY_BYTES_MAX: usize = 1 << 30;

pub const INVALID_SHEBANG: &str = "ERR Invalid script shebang";
/// A shebang line sdssplitargs cannot split (unbalanced quotes).
pub const INVALID_ENGINE: &str = "ERR Invalid engine in script shebang";
pub const NO_SCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";
pub const UNKNOWN_COMMAND: &str = "ERR Unknown Redis command called from script";
pub const WRONG_ARGS: &str = "ERR Wrong number of args calling Redis command from script";
pub const NOT_ALLOWED: &str = "ERR This Redis command is not allowed from script";
pub const WRITE_IN_READ_ONLY: &str = "ERR Write commands are not allowed from read-only scripts.";
pub const NO_ARGUMENTS: &str = "ERR Please specify at least one argument for this redis lib call";
pub const BAD_ARGUMENT: &str = "ERR Lua redis lib command arguments must be strings or integers";

/// Whether the command running in `ctx` was called by a script (Redis's
/// CLIENT_SCRIPT): the running script's caller is this client. (Clients served
/// while a script runs long are other clients.)
pub fn runs_for(ctx: &Ctx<'_>) -> bool {
    ctx.srv
        .busy
        .running
        .as_ref()
        .is_some_and(|run| run.caller == ctx.client.conn)
}

/// XREAD/XREADGROUP with BLOCK from a script, named as the script spelled it.
pub fn block_in_script(name: &[u8]) -> CmdError {
    let mut msg = b"ERR ".to_vec();
    msg.extend_from_slice(name);
    msg.extend_from_slice(b" command is not allowed with BLOCK option from scripts");
    CmdError::Bytes(msg)
}

/// Flags a script declares in its `#!lua flags=...` line (Redis's SCRIPT_FLAG_*).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScriptFlags {
    /// The script had a shebang line: flags below are explicit, not defaults.
    pub shebang: bool,
    pub no_writes: bool,
    pub allow_oom: bool,
    pub allow_stale: bool,
    pub no_cluster: bool,
    pub allow_cross_slot_keys: bool,
}

/// A cached script. Its compiled function lives in the Lua state
/// ([`Engine::compiled`]), not here: mlua can hold only so many references at
/// once (a few thousand), and the cache has no bound.
struct Script {
    body: Bytes,
    flags: ScriptFlags,
}

/// References mlua can hand out before it must grow its reference stack; made
/// once when the engine starts, so a script holding thousands of values (the
/// arguments of one redis.call can be 7997 strings) never grows it mid-run.
const REFERENCES_RESERVED: usize = 9_000;

/// The Lua state and what lives in it.
pub struct Engine {
    lua: Lua,
    /// The real globals table, behind the sandbox's read-only proxy.
    globals: Table,
    /// The proxy scripts run with as their environment.
    env: Table,
    /// The real `redis` table, where each run installs its `call`/`pcall`.
    redis: Table,
    /// The sandbox's runner: `xpcall` with Redis's error handler.
    run: Function,
    /// Builds a function library's load-time environment.
    library_env: Function,
    /// The `redis.register_function` libraries see while they load.
    register_function: Function,
    /// Runs a library function with its KEYS and ARGV tables.
    run_library_function: Function,
    scripts: BTreeMap<String, Script>,
    /// The cached scripts' compiled functions by SHA-1, in the Lua state.
    compiled: Table,
    /// Registered functions' callbacks by lower-case name, in the Lua state.
    pub(crate) callbacks: Table,
    /// Function libraries (FUNCTION LOAD) by name, and their functions by name.
    pub(crate) libraries: BTreeMap<String, functions::Library>,
    pub(crate) function_index: BTreeMap<String, String>,
    /// Redis's lrand48 state, kept across SCRIPT FLUSH as Redis's is static.
    rand: Rc<RefCell<Lrand48>>,
    /// The `cjson` table's configuration (see [`Scripts::functions_cjson`]).
    cjson: libs::cjson::Shared,
}

/// How a run ended, as the caller should reply.
pub enum Outcome {
    /// The reply was written.
    Replied,
    /// The script failed: reply this error.
    Failed(CmdError),
    /// The script failed with a command's error that the error stats counted
    /// already: reply it without counting it again (Redis's
    /// ERR_REPLY_FLAG_NO_STATS_UPDATE).
    FailedCounted(CmdError),
}

/// What one script invocation may do, and what it is (for SCRIPT KILL and
/// FUNCTION STATS).
#[derive(Debug, Clone, Copy)]
pub struct RunMode<'a> {
    /// EVAL_RO/EVALSHA_RO or `no-writes`: write commands are refused.
    pub read_only: bool,
    /// EVAL/EVALSHA (SCRIPT KILL stops it) rather than FCALL (FUNCTION KILL).
    pub is_eval: bool,
    /// The calling command's arguments.
    pub command: &'a [Bytes],
}

/// Where the run's busy poll function waits for the count hook (the hook is a
/// plain `'static` fn, the poll function is scoped to the run).
const BUSY_POLL_KEY: &str = "ember.busy_poll";

/// The count hook: calls the run's busy poll function, whose error (the kill)
/// ends the script. It tells the poll whether the sandbox's own Lua is running
/// (the wrappers around xpcall and pcall): a kill raised there would escape the
/// script's error handler, so it waits for the user's next line.
/// Set (to true) once a kill asked for the hook at every line.
const BUSY_EVERY_LINE_KEY: &str = "ember.busy_every_line";

/// The busy hook's triggers for the run in progress, if it has one.
fn busy_triggers(lua: &Lua) -> mlua::Result<Option<HookTriggers>> {
    if lua
        .named_registry_value::<Option<Function>>(BUSY_POLL_KEY)?
        .is_none()
    {
        return Ok(None);
    }
    Ok(Some(
        if lua
            .named_registry_value::<Option<bool>>(BUSY_EVERY_LINE_KEY)?
            .unwrap_or(false)
        {
            HookTriggers::EVERY_LINE
        } else {
            HookTriggers::new().every_nth_instruction(crate::busy::HOOK_INSTRUCTIONS)
        },
    ))
}

/// Puts the busy hook, if a run has one, on `thread` (`None`: the calling thread);
/// see [`coroutine`] for why it moves.
fn hook_thread(lua: &Lua, thread: Option<mlua::Thread>) -> mlua::Result<()> {
    let Some(triggers) = busy_triggers(lua)? else {
        return Ok(());
    };
    match thread {
        Some(thread) => thread.set_hook(triggers, count_hook),
        None => lua.set_hook(triggers, count_hook),
    }
    Ok(())
}

fn count_hook(lua: &Lua, debug: mlua::Debug) -> mlua::Result<VmState> {
    let in_sandbox = debug
        .source()
        .source
        .is_some_and(|name| name.starts_with("=ember"));
    if let Some(poll) = lua.named_registry_value::<Option<Function>>(BUSY_POLL_KEY)? {
        poll.call::<()>(in_sandbox)?;
    }
    Ok(VmState::Continue)
}

/// Makes mlua's reference stack hold [`REFERENCES_RESERVED`] slots: the
/// references made here are freed at once, and mlua reuses freed slots.
fn reserve_references(lua: &Lua) -> mlua::Result<()> {
    let empty = lua.create_string("")?;
    let held: Vec<mlua::String> = (0..REFERENCES_RESERVED).map(|_| empty.clone()).collect();
    drop(held);
    Ok(())
}

/// SHA-1 of a script body as 40 lower-case hex digits.
pub fn sha1_hex(body: &[u8]) -> String {
    crate::util::sha1::hex(&crate::util::sha1::sha1(body))
}

impl Engine {
    /// A fresh Lua state with the sandbox built, drawing math.random from `rand`;
    /// its `cjson` starts with the defaults.
    pub fn new(rand: Rc<RefCell<Lrand48>>) -> mlua::Result<Engine> {
        Engine::with_cjson(rand, libs::cjson::Shared::default())
    }

    /// [`Engine::new`] whose `cjson` uses (and changes) `cjson`.
    pub fn with_cjson(
        rand: Rc<RefCell<Lrand48>>,
        cjson: libs::cjson::Shared,
    ) -> mlua::Result<Engine> {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH,
            LuaOptions::default(),
        )?;
        lua.set_memory_limit(LUA_MEMORY_BYTES_MAX)?;
        let globals = lua.globals();
        let api = api::table(&lua, &rand)?;
        libs::install(&lua, &globals, cjson.clone())?;
        coroutine::install(&lua, &globals)?;
        let handler = error_handler(&lua)?;
        let sandbox = lua
            .load(SANDBOX)
            .set_name("=ember")
            .set_mode(ChunkMode::Text)
            .into_function()?;
        let (env, redis, run, library_env, run_library_function): (
            Table,
            Table,
            Function,
            Function,
            Function,
        ) = sandbox.call((globals.clone(), api, handler))?;
        reserve_references(&lua)?;
        let register_function = functions::register_dispatcher(&lua)?;
        let compiled = lua.create_table()?;
        let callbacks = lua.create_table()?;
        Ok(Engine {
            lua,
            globals,
            env,
            redis,
            run,
            library_env,
            register_function,
            run_library_function,
            scripts: BTreeMap::new(),
            compiled,
            callbacks,
            libraries: BTreeMap::new(),
            function_index: BTreeMap::new(),
            rand,
            cjson,
        })
    }

    /// A fresh state sharing this one's random sequence and `cjson`
    /// configuration (a functions engine's staging copy).
    pub fn flushed(&self) -> mlua::Result<Engine> {
        Engine::with_cjson(self.rand.clone(), self.cjson.clone())
    }

    pub fn exists(&self, sha: &str) -> bool {
        self.scripts.contains_key(sha)
    }

    /// Number of cached scripts (INFO memory's number_of_cached_scripts).
    pub fn len(&self) -> usize {
        self.scripts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }

    /// Bytes the Lua state holds (INFO used_memory_lua).
    pub fn used_memory(&self) -> usize {
        self.lua.used_memory()
    }

    /// Compiles and caches `body` unless already cached; returns its SHA-1.
    pub fn load(&mut self, body: &[u8]) -> Result<String, CmdError> {
        let sha = sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, code) = parse_shebang(body)?;
        let func = self
            .lua
            .load(code)
            .set_name("@user_script")
            // No mode: a body starting with Lua's binary signature reaches the
            // patched parser and gets Redis's syntax error (ember-lua, CVE-2015-4335).
            .set_environment(self.env.clone())
            .into_function()
            .map_err(compile_error)?;
        self.compiled
            .raw_set(sha.as_str(), func)
            .map_err(|e| CmdError::Owned(format!("ERR {e}")))?;
        let body = Bytes::copy_from_slice(body);
        self.scripts.insert(sha.clone(), Script { body, flags });
        Ok(sha)
    }

    /// The flags of a cached script.
    pub fn flags(&self, sha: &str) -> Option<ScriptFlags> {
        self.scripts.get(sha).map(|s| s.flags)
    }

    /// The body of a cached script.
    pub fn body(&self, sha: &str) -> Option<&Bytes> {
        self.scripts.get(sha).map(|s| &s.body)
    }

    /// Runs the cached script `sha` with KEYS and ARGV, writing its reply to the
    /// caller (or returning the error to reply).
    pub fn run(
        &mut self,
        ctx: &mut Ctx<'_>,
        sha: &str,
        keys: &[Bytes],
        args: &[Bytes],
        mode: RunMode<'_>,
    ) -> Outcome {
        let Ok(Some(func)) = self.compiled.raw_get::<Option<Function>>(sha) else {
            return Outcome::Failed(NO_SCRIPT.into());
        };
        match self.run_function(ctx, sha, func, keys, args, mode) {
            Ok(outcome) => outcome,
            Err(e) => Outcome::Failed(CmdError::Owned(format!(
                "ERR Error running script {sha}, {}",
                first_chars(&e.to_string(), 100)
            ))),
        }
    }

    fn run_function(
        &mut self,
        ctx: &mut Ctx<'_>,
        sha: &str,
        func: Function,
        keys: &[Bytes],
        args: &[Bytes],
        mode: RunMode<'_>,
    ) -> mlua::Result<Outcome> {
        self.globals.raw_set("KEYS", self.string_array(keys)?)?;
        self.globals.raw_set("ARGV", self.string_array(args)?)?;
        let run = self.run.clone();
        self.run_with(ctx, sha, mode, || run.call(func))
    }

    /// Runs a library function (FCALL): its callback gets KEYS and ARGV as
    /// arguments; errors name the function.
    pub fn call_function(
        &mut self,
        ctx: &mut Ctx<'_>,
        name: &str,
        func: Function,
        keys: &[Bytes],
        args: &[Bytes],
        mode: RunMode<'_>,
    ) -> Outcome {
        let run = self.run_library_function.clone();
        let keys_t = self.string_array(keys);
        let args_t = self.string_array(args);
        let (keys_t, args_t) = match (keys_t, args_t) {
            (Ok(k), Ok(a)) => (k, a),
            (Err(e), _) | (_, Err(e)) => {
                return Outcome::Failed(CmdError::Owned(format!("ERR {e}")));
            }
        };
        match self.run_with(ctx, name, mode, || run.call((func, keys_t, args_t))) {
            Ok(outcome) => outcome,
            Err(e) => Outcome::Failed(CmdError::Owned(format!(
                "ERR Error running script {name}, {}",
                first_chars(&e.to_string(), 100)
            ))),
        }
    }

    /// Runs `invoke` with `redis.call` and friends bound to the caller, then
    /// converts its result into the caller's reply.
    fn run_with(
        &mut self,
        ctx: &mut Ctx<'_>,
        name: &str,
        mode: RunMode<'_>,
        invoke: impl FnOnce() -> mlua::Result<(bool, Value)>,
    ) -> mlua::Result<Outcome> {
        let sha = name;
        let busy_hook = ctx.srv.config.hooks.busy_poll.is_some();
        crate::busy::begin(
            ctx,
            crate::busy::Start {
                is_eval: mode.is_eval,
                name,
                command: mode.command,
                libraries: self.libraries.len(),
                functions: self.functions_count(),
            },
        );
        let caller_db = ctx.client.db;
        let caller_in_exec = std::mem::replace(&mut ctx.client.in_exec, true);
        let resp3 = Cell::new(false);
        let cell = RefCell::new(Caller {
            ctx,
            mode,
            repl: api::REPL_ALL,
        });
        let command = |lua: &Lua, argv: Variadic<Value>| -> mlua::Result<(Value, bool)> {
            let Ok(mut caller) = cell.try_borrow_mut() else {
                return Err(mlua::Error::RuntimeError("recursive redis.call".into()));
            };
            caller.call_command(lua, resp3.get(), &argv)
        };
        let command = &command;
        let result = self.lua.scope(|scope| {
            let call = scope.create_function(move |lua, argv: Variadic<Value>| {
                match command(lua, argv)? {
                    (Value::Table(t), true) => Err(api::raise_table(&t)),
                    (value, _) => Ok(value),
                }
            })?;
            let pcall = scope
                .create_function(move |lua, argv: Variadic<Value>| Ok(command(lua, argv)?.0))?;
            let setresp = scope.create_function(|_, argv: Variadic<Value>| {
                resp3.set(api::resp_version(&argv)? == 3);
                Ok(())
            })?;
            self.redis.raw_set("call", call)?;
            self.redis.raw_set("pcall", pcall)?;
            let log = scope.create_function(|lua, argv: Variadic<Value>| {
                let (level, line) = api::log_line(lua, &argv)?;
                if let Ok(mut caller) = cell.try_borrow_mut() {
                    caller.log(level, line);
                }
                Ok(())
            })?;
            let set_repl = scope.create_function(|_, argv: Variadic<Value>| {
                let flags = api::repl_flags(&argv)?;
                if let Ok(mut caller) = cell.try_borrow_mut() {
                    caller.repl = flags;
                }
                Ok(())
            })?;
            self.redis.raw_set("set_repl", set_repl)?;
            self.redis.raw_set("setresp", setresp)?;
            self.redis.raw_set("log", log)?;
            if busy_hook {
                let killed = Cell::new(false);
                let cell = &cell;
                let poll = scope.create_function(move |lua, in_sandbox: bool| {
                    let Ok(mut caller) = cell.try_borrow_mut() else {
                        return Ok(());
                    };
                    if !crate::busy::poll(caller.ctx) || in_sandbox {
                        return Ok(());
                    }
                    if !killed.replace(true) {
                        caller.log(
                            crate::io::LogLevel::Warning,
                            "Lua script killed by user with SCRIPT KILL.".into(),
                        );
                        // From now on at every line, so a pcall in the script
                        // cannot catch the kill for good (as Redis does).
                        lua.set_named_registry_value(BUSY_EVERY_LINE_KEY, true)?;
                        lua.set_hook(HookTriggers::EVERY_LINE, count_hook);
                    }
                    Err(api::raise(crate::error::SCRIPT_KILLED))
                })?;
                self.lua.set_named_registry_value(BUSY_POLL_KEY, poll)?;
                self.lua.set_hook(
                    HookTriggers::new().every_nth_instruction(crate::busy::HOOK_INSTRUCTIONS),
                    count_hook,
                );
            }
            invoke()
        });
        if busy_hook {
            self.lua.remove_hook();
            let _ = self.lua.unset_named_registry_value(BUSY_POLL_KEY);
            let _ = self.lua.unset_named_registry_value(BUSY_EVERY_LINE_KEY);
        }
        let caller = cell.into_inner();
        let ctx = caller.ctx;
        crate::busy::end(ctx);
        ctx.client.in_exec = caller_in_exec;
        ctx.client.db = caller_db;
        let (ok, value) = result?;
        if !ok {
            let error = script_error(&self.lua, &value, sha);
            return Ok(if counted_already(&value) {
                Outcome::FailedCounted(error)
            } else {
                Outcome::Failed(error)
            });
        }
        if let Value::Table(t) = &value {
            if let Some(err) = convert::error_field(t) {
                let error = CmdError::Bytes(err);
                return Ok(if counted_already(&value) {
                    Outcome::FailedCounted(error)
                } else {
                    Outcome::Failed(error)
                });
            }
        }
        convert::lua_to_reply(ctx.out(), &value, resp3.get());
        Ok(Outcome::Replied)
    }

    fn string_array(&self, items: &[Bytes]) -> mlua::Result<Table> {
        let t = self.lua.create_table_with_capacity(items.len(), 0)?;
        for (i, item) in items.iter().enumerate() {
            t.raw_set(i + 1, self.lua.create_string(item)?)?;
        }
        Ok(t)
    }
}

/// The caller's context while its script runs, for `redis.call`.
struct Caller<'c, 'a, 'm> {
    ctx: &'c mut Ctx<'a>,
    mode: RunMode<'m>,
    /// redis.set_repl's flags (REPL_ALL at the start of every run).
    repl: i32,
}

impl Caller<'_, '_, '_> {
    /// A `redis.log` line, kept when the configured `loglevel` lets it through.
    fn log(&mut self, level: crate::io::LogLevel, line: String) {
        if level >= self.ctx.srv.config.loglevel {
            self.ctx
                .outputs
                .push_back(crate::io::Output::Log { level, line });
        }
    }

    /// `redis.call`/`redis.pcall`: returns the reply as a Lua value and whether it
    /// is an error (which `redis.call` raises).
    fn call_command(
        &mut self,
        lua: &Lua,
        resp3: bool,
        argv: &[Value],
    ) -> mlua::Result<(Value, bool)> {
        let argv = match script_argv(argv) {
            Ok(argv) => argv,
            Err(message) => {
                return Ok((convert::error_table(lua, message.as_bytes(), false)?, true))
            }
        };
        match self.execute(&argv, resp3) {
            Ok(reply) => {
                let failed = reply.first() == Some(&b'-');
                Ok((convert::resp_to_lua(lua, &reply)?, failed))
            }
            Err(e) => Ok((convert::error_table(lua, e.message(), true)?, true)),
        }
    }

    /// Checks and runs one command as Redis's scriptCall does; the reply bytes.
    /// A command the checks refuse counts as rejected, its error as replied.
    fn execute(&mut self, argv: &[Bytes], resp3: bool) -> Result<Bytes, CmdError> {
        let cmd = match self.check(argv) {
            Ok(cmd) => cmd,
            Err((cmd, e)) => {
                let stats = &mut self.ctx.srv.stats;
                stats.total_error_replies += 1;
                stats.count_error(e.message());
                stats.count_command(cmd, crate::server::CallOutcome::Rejected);
                return Err(e);
            }
        };
        if cmd.has_flag(crate::command::Flag::Write) {
            // From here on SCRIPT KILL answers UNKILLABLE (SCRIPT_WRITE_DIRTY).
            crate::busy::note_write(self.ctx.srv);
        }
        let ctx = &mut *self.ctx;
        let mut scratch = ReplyBuf::new();
        scratch.proto = if resp3 {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        };
        // The reply goes to the scratch buffer, what is pushed to the caller
        // meanwhile (its own Pub/Sub messages) to the caller, as Redis's
        // script client and real client have separate buffers.
        let caller_out = std::mem::take(&mut ctx.client.out);
        scratch.set_push_target(caller_out);
        ctx.client.out = scratch;
        let mark = ctx.srv.propagation.pending_len();
        let result = ctx.call(cmd, argv);
        // Ember has one effect stream for the AOF and replicas, so only
        // REPL_NONE (neither) can be honoured: AOF-only or replica-only
        // propagate to both.
        if self.repl == api::REPL_NONE {
            ctx.srv.propagation.drop_since(mark);
        }
        let mut scratch = std::mem::take(&mut ctx.client.out);
        ctx.client.out = scratch.take_push_target().unwrap_or_default();
        match result {
            Ok(()) => Ok(scratch.take()),
            Err(e) => {
                ctx.srv.stats.total_error_replies += 1;
                ctx.srv.stats.count_error(e.message());
                Err(e)
            }
        }
    }
}

impl Caller<'_, '_, '_> {
    /// scriptCall's checks before the command runs, in Redis's order: known
    /// command and arity, `noscript`, then scriptVerifyWriteCommandAllow (OOM
    /// comes in `Ctx::call`).
    fn check(&self, argv: &[Bytes]) -> Result<&'static CommandSpec, crate::node::Rejected> {
        use crate::command::Flag;
        let cmd = match crate::node::resolve(argv) {
            Ok(cmd) => cmd,
            Err((Some(cmd), _)) => return Err((Some(cmd), WRONG_ARGS.into())),
            Err((None, _)) => return Err((None, UNKNOWN_COMMAND.into())),
        };
        let refuse = |e: CmdError| Err((Some(cmd), e));
        if cmd.has_flag(Flag::Noscript)
            && (!self.ctx.srv.scripts.disable_deny_script || denied_anyway(cmd))
        {
            return refuse(NOT_ALLOWED.into());
        }
        // For scripts a command that may replicate counts as a write.
        if self.mode.read_only && (cmd.has_flag(Flag::Write) || cmd.has_flag(Flag::MayReplicate)) {
            return refuse(WRITE_IN_READ_ONLY.into());
        }
        let srv = &*self.ctx.srv;
        // Once the script wrote, the server's state cannot fail it any more.
        let wrote = srv.busy.running.as_ref().is_some_and(|run| run.wrote);
        if cmd.has_flag(Flag::Write) && !wrote {
            if let Some(e) = disk_error(srv) {
                return refuse(e);
            }
            if !enough_good_replicas(srv) {
                return refuse(crate::error::NOREPLICAS.into());
            }
        }
        Ok(cmd)
    }
}

/// writeCommandsDeniedByDiskError's error: writes stop after a failed
/// background save (with `stop-writes-on-bgsave-error`) or a failed AOF write.
fn disk_error(srv: &crate::server::Server) -> Option<CmdError> {
    if crate::persist::writes_denied(srv) {
        return Some(CmdError::Static(crate::persist::MISCONF));
    }
    crate::aof::write_error(srv).map(|message| {
        CmdError::Owned(format!("MISCONF Errors writing to the AOF file: {message}"))
    })
}

/// Redis's checkGoodReplicasStatus on a master: Ember has no replicas, so with
/// `min-replicas-to-write` and `min-replicas-max-lag` both set there are never
/// enough.
pub fn enough_good_replicas(srv: &crate::server::Server) -> bool {
    srv.config.min_replicas_to_write <= 0 || srv.config.min_replicas_max_lag == 0
}

/// What processCommand refuses before a script that declared its flags (a
/// shebang, or any function) and may write starts: after a disk error, or
/// without enough good replicas (Redis computes the command's flags from the
/// script's: getCommandFlags).
pub fn start_refusal(ctx: &Ctx<'_>, args: &[Bytes]) -> Option<CmdError> {
    let flags = crate::evict::declared_script_flags(ctx.srv, ctx.cmd, args)?;
    if flags.no_writes {
        return None;
    }
    if let Some(e) = disk_error(ctx.srv) {
        return Some(e);
    }
    (!enough_good_replicas(ctx.srv)).then_some(CmdError::Static(crate::error::NOREPLICAS))
}

/// Commands a script may not call even after DEBUG SET-DISABLE-DENY-SCRIPTS 1:
/// those that would run a script inside the script, or turn the caller's
/// connection into something else (a transaction, a subscriber, a monitor, a
/// replica, another protocol or user), and SHUTDOWN. Redis lets them through
/// (it is a debugging aid) and cannot run most of them there either.
fn denied_anyway(cmd: &CommandSpec) -> bool {
    matches!(
        cmd.group,
        crate::command::Group::Scripting
            | crate::command::Group::Transactions
            | crate::command::Group::Pubsub
    ) || matches!(
        cmd.name,
        "monitor" | "hello" | "auth" | "reset" | "quit" | "sync" | "psync" | "shutdown"
    )
}

/// The arguments of `redis.call`: strings as they are, numbers as `%.17g`.
pub(crate) fn script_argv(args: &[Value]) -> Result<Vec<Bytes>, &'static str> {
    if args.is_empty() {
        return Err(NO_ARGUMENTS);
    }
    args.iter()
        .map(|v| match v {
            Value::String(s) => Ok(Bytes::copy_from_slice(&s.as_bytes())),
            Value::Integer(i) => Ok(Bytes::from(crate::util::num::format_f64_g17(*i as f64))),
            Value::Number(n) => Ok(Bytes::from(crate::util::num::format_f64_g17(*n))),
            _ => Err(BAD_ARGUMENT),
        })
        .collect()
}

/// The error a failed script replies, from the table the error handler built:
/// `<err> script: <sha>, on <source>:<line>.` (Redis's luaCallFunction).
fn script_error(lua: &Lua, value: &Value, sha: &str) -> CmdError {
    let Value::Table(t) = value else {
        let text = match value {
            Value::String(s) => s.to_string_lossy(),
            _ => "execution failure".into(),
        };
        return CmdError::Owned(format!(
            "ERR Error running script {sha}, {}",
            first_chars(&text, 100)
        ));
    };
    // luaExtractErrorInformation takes `err` when lua_isstring (a number too,
    // in Lua's own form). Without one Redis 7.0.15 crashes (error({})); Ember
    // answers this.
    let mut msg = match t.raw_get::<Value>("err") {
        Ok(Value::String(s)) => s.as_bytes().to_vec(),
        Ok(n @ (Value::Integer(_) | Value::Number(_))) => match lua.coerce_string(n) {
            Ok(Some(s)) => s.as_bytes().to_vec(),
            _ => b"ERR unknown error".to_vec(),
        },
        _ => b"ERR unknown error".to_vec(),
    };
    let source: Option<mlua::String> = t.raw_get("source").ok();
    let line = match t.raw_get::<Value>("line") {
        Ok(Value::Integer(i)) => Some(i.to_string()),
        Ok(Value::Number(n)) => Some(crate::util::num::format_f64_g17(n)),
        Ok(Value::String(s)) => Some(s.to_string_lossy()),
        _ => None,
    };
    if let (Some(source), Some(line)) = (source, line) {
        msg.extend_from_slice(b" script: ");
        msg.extend_from_slice(sha.as_bytes());
        msg.extend_from_slice(b", on ");
        msg.extend_from_slice(&source.as_bytes());
        msg.push(b':');
        msg.extend_from_slice(line.as_bytes());
        msg.push(b'.');
    }
    CmdError::Bytes(msg)
}

/// Whether an error table carries `ignore_error_stats_update` (a command's
/// error, counted when the command failed).
fn counted_already(value: &Value) -> bool {
    match value {
        Value::Table(t) => matches!(
            t.raw_get::<Value>("ignore_error_stats_update"),
            Ok(Value::Boolean(true))
        ),
        _ => false,
    }
}

impl Outcome {
    /// The handler's result: errors to count go back to the node, errors
    /// already counted are written here.
    pub fn into_result(self, ctx: &mut Ctx<'_>) -> crate::error::CmdResult {
        match self {
            Outcome::Replied => Ok(()),
            Outcome::Failed(e) => Err(e),
            Outcome::FailedCounted(e) => {
                ctx.out().error(e.message());
                ctx.srv.stats.failed_quietly = true;
                Ok(())
            }
        }
    }
}

fn first_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// `__redis__err__handler`: turns any error into Redis's error table and records
/// where in the user's code it happened: the first frame that is neither a C
/// function nor the sandbox's own Lua (Redis looks one frame past a C function).
fn error_handler(lua: &Lua) -> mlua::Result<Function> {
    let tostring: Function = lua.globals().raw_get("tostring")?;
    lua.create_function(move |lua, err: Value| {
        let table = match api::normalize(lua, err)? {
            Value::Table(t) => t,
            other => {
                let text: mlua::String = tostring.call(other)?;
                let mut msg = b"ERR ".to_vec();
                msg.extend_from_slice(&text.as_bytes());
                let t = lua.create_table()?;
                t.raw_set("err", lua.create_string(&msg)?)?;
                t
            }
        };
        if let Some((source, line)) = user_frame(lua) {
            table.raw_set("source", source)?;
            table.raw_set("line", line)?;
        }
        Ok(table)
    })
}

/// Frames the error handler looks through for the user's code.
const ERROR_FRAMES_MAX: usize = 32;

fn user_frame(lua: &Lua) -> Option<(String, i32)> {
    for level in 1..ERROR_FRAMES_MAX {
        let frame = lua.inspect_stack(level)?;
        let source = frame.source();
        if source.what == "C" {
            continue;
        }
        let name = source.source.as_deref().unwrap_or("");
        if name.starts_with("=ember") {
            continue;
        }
        let name = name.to_string();
        return Some((name, frame.curr_line()));
    }
    None
}

/// A compile error as Redis words it.
fn compile_error(e: mlua::Error) -> CmdError {
    let message = match e {
        mlua::Error::SyntaxError { message, .. } => message,
        other => other.to_string(),
    };
    CmdError::Owned(format!(
        "ERR Error compiling script (new function): {message}"
    ))
}

/// Splits a `#!lua flags=a,b` first line off the body (Redis's
/// evalExtractShebangFlags). The line's bytes are replaced by nothing but its
/// newline stays, so line numbers in errors still match the body. The line is
/// split as sdssplitargs splits it (quoted words, a `\r` before the newline no
/// part of the last word) and the body is a C string (a NUL ends it); `flags=`
/// is split at every comma, so an empty flag is an unexpected one.
pub fn parse_shebang(body: &[u8]) -> Result<(ScriptFlags, &[u8]), CmdError> {
    if !body.starts_with(b"#!") {
        return Ok((ScriptFlags::default(), body));
    }
    let text = &body[..body.iter().position(|&b| b == 0).unwrap_or(body.len())];
    let Some(end) = text.iter().position(|&b| b == b'\n') else {
        return Err(INVALID_SHEBANG.into());
    };
    let parts = crate::resp::decode::split_inline_args(&text[..end]).unwrap_or_default();
    let Some((engine, options)) = parts.split_first() else {
        return Err(INVALID_ENGINE.into());
    };
    if engine.as_slice() != b"#!lua" {
        let mut msg = b"ERR Unexpected engine in script shebang: ".to_vec();
        msg.extend_from_slice(engine);
        return Err(CmdError::Bytes(msg));
    }
    let mut flags = ScriptFlags {
        shebang: true,
        ..ScriptFlags::default()
    };
    for part in options {
        let Some(list) = part.strip_prefix(b"flags=") else {
            let mut msg = b"ERR Unknown lua shebang option: ".to_vec();
            msg.extend_from_slice(part);
            return Err(CmdError::Bytes(msg));
        };
        if list.is_empty() {
            continue;
        }
        for flag in list.split(|&b| b == b',') {
            match flag {
                b"no-writes" => flags.no_writes = true,
                b"allow-oom" => flags.allow_oom = true,
                b"allow-stale" => flags.allow_stale = true,
                b"no-cluster" => flags.no_cluster = true,
                b"allow-cross-slot-keys" => flags.allow_cross_slot_keys = true,
                other => {
                    let mut msg = b"ERR Unexpected flag in script shebang: ".to_vec();
                    msg.extend_from_slice(other);
                    return Err(CmdError::Bytes(msg));
                }
            }
        }
    }
    Ok((flags, &body[end..]))
}

/// The node's scripting state: the engine (created on first use, dropped by
/// SCRIPT FLUSH) and the random sequence its math.random draws from.
#[derive(Default)]
pub struct Scripts {
    pub engine: Option<Box<Engine>>,
    /// The function libraries' own Lua state (FUNCTION LOAD, FCALL).
    pub functions: Option<Box<Engine>>,
    pub rand: Rc<RefCell<Lrand48>>,
    /// The functions engine's `cjson` configuration. Redis keeps that engine's
    /// Lua state for the life of the process, so what a function sets stays
    /// through FUNCTION FLUSH and RESTORE, which replace Ember's engine.
    pub functions_cjson: libs::cjson::Shared,
    /// DEBUG SET-DISABLE-DENY-SCRIPTS: scripts may call `noscript` commands
    /// (but see [`denied_anyway`]). Not reset by SCRIPT FLUSH, as in Redis.
    pub disable_deny_script: bool,
}

impl Scripts {
    /// A new functions engine (FUNCTION's first use, FUNCTION FLUSH).
    pub fn new_functions_engine(&self) -> mlua::Result<Engine> {
        Engine::with_cjson(self.rand.clone(), self.functions_cjson.clone())
    }

    /// Every function library's code, for RDB snapshots.
    pub fn library_codes(&self) -> Vec<Bytes> {
        self.functions
            .as_ref()
            .map(|engine| engine.libraries.values().map(|l| l.code.clone()).collect())
            .unwrap_or_default()
    }

    /// Loads the libraries an RDB file holds; with `replace` they replace
    /// same-named ones (DEBUG RELOAD MERGE), else such a library fails the
    /// load. The libraries before a failing one stay; the message to log.
    pub fn load_libraries(&mut self, codes: &[Vec<u8>], replace: bool) -> Result<(), String> {
        if codes.is_empty() {
            return Ok(());
        }
        let mut engine = match self.functions.take() {
            Some(engine) => engine,
            None => Box::new(
                self.new_functions_engine()
                    .map_err(|e| format!("Lua engine failed: {e}"))?,
            ),
        };
        let mut result = Ok(());
        for code in codes {
            // From a file: Redis loads these without a timeout.
            if let Err(e) = engine.load_library(code, replace, functions::LoadLimit::Unlimited) {
                let message = e.message();
                let message = message.strip_prefix(b"ERR ").unwrap_or(message);
                result = Err(format!(
                    "Failed loading library, {}",
                    String::from_utf8_lossy(message)
                ));
                break;
            }
        }
        self.functions = Some(engine);
        result
    }
}
