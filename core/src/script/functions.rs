//! Function libraries (Redis 7's functions.c and function_lua.c): FUNCTION LOAD
//! runs a library's code once, in an environment where `redis` offers only
//! `register_function`, and keeps the callbacks it registered.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use bytes::Bytes;
use mlua::{Function, HookTriggers, Lua, Table, Value, Variadic, VmState};

use super::api::raise;
use super::{Engine, ScriptFlags};
use crate::error::CmdError;

/// One registered function. Its callback lives in the Lua state
/// ([`Engine::callbacks`]): mlua can hold only so many references at once.
pub struct LibraryFunction {
    pub name: String,
    pub description: Option<Vec<u8>>,
    pub flags: ScriptFlags,
}

/// A loaded library.
pub struct Library {
    pub name: String,
    pub code: Bytes,
    pub functions: Vec<LibraryFunction>,
}

/// Redis's LOAD_TIMEOUT_MS: how long FUNCTION LOAD lets a library's top-level
/// code run before it fails with [`LOAD_TIMEOUT`].
pub const LOAD_TIMEOUT_MS: u64 = 500;

/// Without a host clock (the simulator) a load is bounded by count-hook calls
/// instead, each after [`crate::busy::HOOK_INSTRUCTIONS`] Lua instructions: 50
/// million instructions, roughly what 500 ms runs here, so a library that
/// never stops loading still fails, the same way on every run.
pub const LOAD_HOOK_CALLS_MAX: u32 = 500;

/// The error a library load gets past its limit (Redis raises it from its load
/// hook, so it reads "ERR Error registering functions: ERR FUNCTION LOAD timeout").
pub const LOAD_TIMEOUT: &str = "ERR FUNCTION LOAD timeout";

/// What stops a library's top-level code that runs too long while it loads.
#[derive(Clone, Copy)]
pub enum LoadLimit {
    /// Libraries from an RDB file or replayed from the AOF: Redis loads them
    /// with no timeout, and neither does Ember (they loaded in time once).
    Unlimited,
    /// FUNCTION LOAD (and FUNCTION RESTORE, where Redis has no limit and a
    /// library that never stops loading would hang the server for good).
    Timeout {
        clock: Option<crate::busy::HostClock>,
        started: crate::db::Millis,
    },
}

impl LoadLimit {
    /// The limit for a load a client asked for, starting now by the host's
    /// clock.
    pub fn timeout(clock: Option<crate::busy::HostClock>, now: crate::db::Millis) -> Self {
        let started = clock.map_or(now, |c| c.now());
        LoadLimit::Timeout { clock, started }
    }

    /// Whether a load that has made `hook_calls` count-hook calls is past it.
    fn expired(&self, hook_calls: u32) -> bool {
        match *self {
            LoadLimit::Unlimited => false,
            LoadLimit::Timeout {
                clock: Some(clock),
                started,
            } => clock.now().saturating_sub(started) > LOAD_TIMEOUT_MS,
            LoadLimit::Timeout { clock: None, .. } => hook_calls > LOAD_HOOK_CALLS_MAX,
        }
    }
}

/// Installs the load hook (Redis's luaEngineLoadHook): it counts its calls and,
/// once the limit has passed, raises [`LOAD_TIMEOUT`] and moves to every line,
/// so a `pcall` in the library cannot swallow the timeout for good.
fn set_load_hook(lua: &Lua, limit: LoadLimit, calls: Rc<Cell<u32>>, every_line: bool) {
    let triggers = if every_line {
        HookTriggers::EVERY_LINE
    } else {
        HookTriggers::new().every_nth_instruction(crate::busy::HOOK_INSTRUCTIONS)
    };
    lua.set_hook(triggers, move |lua, _| {
        calls.set(calls.get().saturating_add(1));
        if !limit.expired(calls.get()) {
            return Ok(VmState::Continue);
        }
        if !every_line {
            set_load_hook(lua, limit, calls.clone(), true);
        }
        Err(raise(LOAD_TIMEOUT))
    });
}

pub const NAME_RULE: &str =
    "letters, numbers, or underscores(_) and must be at least one character long";

fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The library name from the code's `#!<engine> name=<name>` line (Redis's
/// functionExtractLibMetaData, then the name and engine checks of
/// functionsCreateWithLibraryCtx). The line is split as sdssplitargs splits
/// (quotes allowed), `name=` is matched in any case, the engine is the first
/// word less its `#!`, and the payload is a C string (a NUL ends it).
pub fn library_name(code: &[u8]) -> Result<String, CmdError> {
    if !code.starts_with(b"#!") {
        return Err("ERR Missing library metadata".into());
    }
    let text = &code[..code.iter().position(|&b| b == 0).unwrap_or(code.len())];
    let parts = text
        .iter()
        .position(|&b| b == b'\n')
        .and_then(|end| crate::resp::decode::split_inline_args(&text[..end]))
        .filter(|parts| !parts.is_empty());
    let Some(parts) = parts else {
        return Err("ERR Invalid library metadata".into());
    };
    let engine = parts[0].get(2..).unwrap_or(&[]);
    let mut name: Option<&[u8]> = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "ERR Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(&part[5..]);
            continue;
        }
        let mut msg = b"ERR Invalid metadata value given: ".to_vec();
        msg.extend_from_slice(part);
        return Err(CmdError::Bytes(msg));
    }
    let Some(name) = name else {
        return Err("ERR Library name was not given".into());
    };
    if !valid_name(name) {
        return Err(CmdError::Owned(format!(
            "ERR Library names can only contain {NAME_RULE}"
        )));
    }
    if !engine.eq_ignore_ascii_case(b"lua") {
        let mut msg = b"ERR Engine '".to_vec();
        msg.extend_from_slice(engine);
        msg.extend_from_slice(b"' not found");
        return Err(CmdError::Bytes(msg));
    }
    Ok(String::from_utf8_lossy(name).into_owned())
}

/// Where the load in progress keeps its register_function (see
/// [`register_dispatcher`]).
const REGISTER_KEY: &str = "ember.register_function";

/// The `redis.register_function` every library sees: it registers into the
/// load in progress, whichever library captured it, as Redis's looks up its
/// load context; called later (from a function) it fails as Redis's does.
pub fn register_dispatcher(lua: &Lua) -> mlua::Result<Function> {
    lua.create_function(|lua, args: mlua::MultiValue| {
        match lua.named_registry_value::<Option<Function>>(REGISTER_KEY)? {
            Some(register) => register.call::<()>(args),
            None => Err(raise(
                "ERR redis.register_function can only be called on FUNCTION LOAD command",
            )),
        }
    })
}

/// lua_isstring's string: a string, or a number in Lua's `%.14g` form.
fn lua_string(lua: &Lua, v: &Value) -> mlua::Result<Option<Vec<u8>>> {
    Ok(match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(_) | Value::Number(_) => {
            lua.coerce_string(v.clone())?.map(|s| s.as_bytes().to_vec())
        }
        _ => None,
    })
}

/// strcasecmp of a C string (up to a NUL) with `word`.
fn c_str_eq_ignore_case(s: &[u8], word: &str) -> bool {
    let s = &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())];
    s.eq_ignore_ascii_case(word.as_bytes())
}

/// Parses one `redis.register_function` call: the function and its callback.
fn registration(lua: &Lua, args: &[Value]) -> mlua::Result<(LibraryFunction, Function)> {
    let (name, callback, flags, description) = match args {
        [Value::Table(t)] => named_registration(lua, t)?,
        [_] => return Err(raise("ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")),
        [name, callback] => {
            let Some(name) = lua_string(lua, name)? else {
                return Err(raise("ERR first argument to redis.register_function must be a string"));
            };
            let Value::Function(callback) = callback else {
                return Err(raise("ERR second argument to redis.register_function must be a function"));
            };
            (name, callback.clone(), ScriptFlags::default(), None)
        }
        _ => return Err(raise("ERR wrong number of arguments to redis.register_function")),
    };
    if !valid_name(&name) {
        // Redis words this check as for library names.
        return Err(raise(&format!(
            "ERR Library names can only contain {NAME_RULE}"
        )));
    }
    let function = LibraryFunction {
        name: String::from_utf8_lossy(&name).into_owned(),
        description,
        flags,
    };
    Ok((function, callback))
}

type Registration = (Vec<u8>, Function, ScriptFlags, Option<Vec<u8>>);

/// luaRegisterFunctionReadNamedArgs: the table's pairs in `next` order, names
/// matched in any case.
fn named_registration(lua: &Lua, t: &Table) -> mlua::Result<Registration> {
    let mut name = None;
    let mut callback = None;
    let mut flags = ScriptFlags::default();
    let mut description = None;
    for pair in t.pairs::<Value, Value>() {
        let (k, v) = pair?;
        let Some(key) = lua_string(lua, &k)? else {
            return Err(raise(
                "ERR named argument key given to redis.register_function is not a string",
            ));
        };
        let is = |word| c_str_eq_ignore_case(&key, word);
        if is("function_name") {
            let Some(s) = lua_string(lua, &v)? else {
                return Err(raise(
                    "ERR function_name argument given to redis.register_function must be a string",
                ));
            };
            name = Some(s);
        } else if is("description") {
            let Some(s) = lua_string(lua, &v)? else {
                return Err(raise(
                    "ERR description argument given to redis.register_function must be a string",
                ));
            };
            description = Some(s);
        } else if is("callback") {
            let Value::Function(f) = v else {
                return Err(raise(
                    "ERR callback argument given to redis.register_function must be a function",
                ));
            };
            callback = Some(f);
        } else if is("flags") {
            let Value::Table(f) = v else {
                return Err(raise("ERR flags argument to redis.register_function must be a table representing function flags"));
            };
            flags = function_flags(lua, &f)?;
        } else {
            return Err(raise(
                "ERR unknown argument given to redis.register_function",
            ));
        }
    }
    let Some(name) = name else {
        return Err(raise(
            "ERR redis.register_function must get a function name argument",
        ));
    };
    let Some(callback) = callback else {
        return Err(raise(
            "ERR redis.register_function must get a callback argument",
        ));
    };
    Ok((name, callback, flags, description))
}

/// luaRegisterFunctionReadFlags: `t[1]`, `t[2]`... (metamethods honoured)
/// until nil, each a flag name in any case.
fn function_flags(lua: &Lua, t: &Table) -> mlua::Result<ScriptFlags> {
    let mut flags = ScriptFlags {
        shebang: true,
        ..ScriptFlags::default()
    };
    for i in 1.. {
        let v: Value = t.get(i)?;
        if v == Value::Nil {
            break;
        }
        let Some(flag) = lua_string(lua, &v)? else {
            return Err(raise("ERR unknown flag given"));
        };
        let is = |word| c_str_eq_ignore_case(&flag, word);
        if is("no-writes") {
            flags.no_writes = true;
        } else if is("allow-oom") {
            flags.allow_oom = true;
        } else if is("allow-stale") {
            flags.allow_stale = true;
        } else if is("no-cluster") {
            flags.no_cluster = true;
        } else if is("allow-cross-slot-keys") {
            flags.allow_cross_slot_keys = true;
        } else {
            return Err(raise("ERR unknown flag given"));
        }
    }
    Ok(flags)
}

/// Flag names as FUNCTION LIST reports them, in Redis's order.
pub fn flag_names(flags: &ScriptFlags) -> Vec<&'static str> {
    let mut names = Vec::new();
    for (on, name) in [
        (flags.no_writes, "no-writes"),
        (flags.allow_oom, "allow-oom"),
        (flags.allow_stale, "allow-stale"),
        (flags.no_cluster, "no-cluster"),
        (flags.allow_cross_slot_keys, "allow-cross-slot-keys"),
    ] {
        if on {
            names.push(name);
        }
    }
    names
}

impl Engine {
    /// FUNCTION LOAD: compiles and runs a library, keeping what it registered.
    pub fn load_library(
        &mut self,
        code: &[u8],
        replace: bool,
        limit: LoadLimit,
    ) -> Result<String, CmdError> {
        let name = library_name(code)?;
        if self.libraries.contains_key(&name) && !replace {
            return Err(CmdError::Owned(format!(
                "ERR Library '{name}' already exists"
            )));
        }
        let (functions, callbacks) = self.run_library_code(code, limit)?;
        if functions.is_empty() {
            return Err("ERR No functions registered".into());
        }
        for f in &functions {
            if self
                .function_index
                .get(&f.name.to_ascii_lowercase())
                .is_some_and(|lib| *lib != name)
            {
                return Err(CmdError::Owned(format!(
                    "ERR Function {} already exists",
                    f.name
                )));
            }
        }
        self.delete_library(&name);
        for f in &functions {
            let key = f.name.to_ascii_lowercase();
            let callback: Value = callbacks.raw_get(key.as_str()).map_err(lua_failure)?;
            self.callbacks
                .raw_set(key.as_str(), callback)
                .map_err(lua_failure)?;
            self.function_index.insert(key, name.clone());
        }
        let library = Library {
            name: name.clone(),
            code: Bytes::copy_from_slice(code),
            functions,
        };
        self.libraries.insert(name.clone(), library);
        Ok(name)
    }

    /// Runs a library's code with a register_function that collects: the
    /// functions, and a Lua table of their callbacks by lower-case name.
    fn run_library_code(
        &mut self,
        code: &[u8],
        limit: LoadLimit,
    ) -> Result<(Vec<LibraryFunction>, Table), CmdError> {
        let end = code.iter().position(|&b| b == b'\n').unwrap_or(code.len());
        let body = &code[end..];
        let registered: RefCell<Vec<LibraryFunction>> = RefCell::new(Vec::new());
        let callbacks = self.lua.create_table().map_err(lua_failure)?;
        let result = self.lua.scope(|scope| {
            let register = scope.create_function(|lua, args: Variadic<Value>| {
                let (f, callback) = registration(lua, &args)?;
                let mut list = registered.borrow_mut();
                if list.iter().any(|g| g.name.eq_ignore_ascii_case(&f.name)) {
                    return Err(raise("ERR Function already exists in the library"));
                }
                callbacks.raw_set(f.name.to_ascii_lowercase(), callback)?;
                list.push(f);
                Ok(())
            })?;
            self.lua.set_named_registry_value(REGISTER_KEY, register)?;
            let (env, loaded): (Table, Function) =
                self.library_env.call(self.register_function.clone())?;
            let chunk = match self
                .lua
                .load(body)
                .set_name("@user_function")
                .set_environment(env)
                .into_function()
            {
                Ok(f) => f,
                Err(e) => return Ok(Err(compile_message(e))),
            };
            if !matches!(limit, LoadLimit::Unlimited) {
                set_load_hook(&self.lua, limit, Rc::new(Cell::new(0)), false);
            }
            let ran = self.run.call(chunk);
            self.lua.remove_hook();
            let (ok, value): (bool, Value) = ran?;
            loaded.call::<()>(())?;
            Ok(Ok((ok, value)))
        });
        // The scoped register_function is gone: later calls fail.
        let _ = self.lua.unset_named_registry_value(REGISTER_KEY);
        match result {
            Ok(Ok((true, _))) => Ok((registered.into_inner(), callbacks)),
            Ok(Ok((false, value))) => {
                let msg = match &value {
                    Value::Table(t) => super::convert::error_field(t).unwrap_or_default(),
                    _ => b"execution failure".to_vec(),
                };
                let mut full = b"ERR Error registering functions: ".to_vec();
                full.extend_from_slice(&msg);
                Err(CmdError::Bytes(full))
            }
            Ok(Err(message)) => Err(CmdError::Owned(format!(
                "ERR Error compiling function: {message}"
            ))),
            Err(e) => Err(CmdError::Owned(format!(
                "ERR Error registering functions: {e}"
            ))),
        }
    }

    /// Removes a library and its functions; false if there was none.
    pub fn delete_library(&mut self, name: &str) -> bool {
        let Some(old) = self.libraries.remove(name) else {
            return false;
        };
        for f in &old.functions {
            let key = f.name.to_ascii_lowercase();
            let _ = self.callbacks.raw_set(key.as_str(), Value::Nil);
            self.function_index.remove(&key);
        }
        true
    }

    /// The callback and flags of a registered function (names ignore case, as
    /// Redis's function dictionary does).
    pub fn function(&self, name: &str) -> Option<(Function, ScriptFlags)> {
        let key = name.to_ascii_lowercase();
        let lib = self.libraries.get(self.function_index.get(&key)?)?;
        let f = lib
            .functions
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))?;
        let callback = self.callbacks.raw_get::<Option<Function>>(key).ok()??;
        Some((callback, f.flags))
    }

    pub fn functions_count(&self) -> usize {
        self.function_index.len()
    }
}

/// A Lua failure while storing a library (memory): the command's error.
fn lua_failure(e: mlua::Error) -> CmdError {
    CmdError::Owned(format!("ERR {e}"))
}

fn compile_message(e: mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message,
        other => other.to_string(),
    }
}
