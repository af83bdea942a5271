//! coroutine.resume and coroutine.wrap that carry the busy-script hook.
//!
//! Lua 5.1 gives a new thread its creator's hook, and Redis relies on that to stop
//! a loop inside a coroutine. mlua hooks one thread at a time (a hook firing on any
//! other thread removes itself), so here the hook moves onto the coroutine before it
//! runs and back onto the resumer when it yields or ends. Both functions are Rust
//! (C functions to Lua), like the stock ones, so a script's `return w()` keeps its
//! frame and errors keep Redis's positions.

use mlua::{Function, Lua, MultiValue, Table, Thread, Value};

use super::api;

/// The stock coroutine.resume, kept in the registry.
const RAW_RESUME_KEY: &str = "ember.raw_resume";

/// Replaces `resume` and `wrap` in the (not yet frozen) coroutine library.
pub fn install(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    let lib: Table = globals.raw_get("coroutine")?;
    let raw_resume: Function = lib.raw_get("resume")?;
    lua.set_named_registry_value(RAW_RESUME_KEY, raw_resume)?;
    lib.raw_set("resume", lua.create_function(resume)?)?;
    lib.raw_set("wrap", lua.create_function(wrap)?)?;
    Ok(())
}

/// Resumes `co` with the busy hook on it; the stock function's results, as is.
fn resume_hooked(lua: &Lua, co: &Thread, args: MultiValue) -> mlua::Result<MultiValue> {
    let raw_resume: Function = lua.named_registry_value(RAW_RESUME_KEY)?;
    super::hook_thread(lua, Some(co.clone()))?;
    let mut call_args = MultiValue::new();
    call_args.push_back(Value::Thread(co.clone()));
    call_args.extend(args);
    let results = raw_resume.call::<MultiValue>(call_args);
    super::hook_thread(lua, None)?;
    results
}

/// coroutine.resume(co, ...).
fn resume(lua: &Lua, mut args: MultiValue) -> mlua::Result<MultiValue> {
    let Some(Value::Thread(co)) = args.pop_front() else {
        return Err(api::lua_error(
            lua,
            "bad argument #1 to 'resume' (coroutine expected)",
        ));
    };
    resume_hooked(lua, &co, args)
}

/// coroutine.wrap(f): a function that resumes a new coroutine running `f` and
/// returns what it yields, or raises its error (a string located at the caller's
/// line, as Lua's auxwrap does).
fn wrap(lua: &Lua, f: Value) -> mlua::Result<Function> {
    let Value::Function(f) = f else {
        return Err(api::lua_error(
            lua,
            "bad argument #1 to 'wrap' (Lua function expected)",
        ));
    };
    let co = lua.create_thread(f)?;
    lua.create_function(move |lua, args: MultiValue| {
        let mut results = resume_hooked(lua, &co, args)?;
        match results.pop_front() {
            Some(Value::Boolean(true)) => Ok(results),
            _ => Err(wrapped_error(
                lua,
                results.pop_front().unwrap_or(Value::Nil),
            )),
        }
    })
}

/// The coroutine's error value raised again in the caller.
fn wrapped_error(lua: &Lua, value: Value) -> mlua::Error {
    match value {
        Value::Table(t) => api::raise_table(&t),
        // An error raised by Rust (a redis.call error, SCRIPT KILL) goes on as is.
        Value::Error(e) => *e,
        v @ (Value::String(_) | Value::Integer(_) | Value::Number(_)) => {
            match lua.coerce_string(v) {
                Ok(Some(s)) => api::lua_error(lua, &s.to_string_lossy()),
                _ => mlua::Error::RuntimeError(String::new()),
            }
        }
        // Lua raises other values unchanged; Ember's errors are strings or tables.
        other => mlua::Error::RuntimeError(other.type_name().to_string()),
    }
}
