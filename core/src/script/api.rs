//! The parts of the `redis` API and math library written in Rust. To Lua they
//! are C functions, as Redis's are, so an error they raise is located at the
//! script's line even from `return f(...)` (a Lua wrapper would be tail-called
//! away). Two kinds of errors cross back: Redis's error tables ({err=...}, as
//! `luaPushError` + `lua_error` raise) and Lua's positioned string errors (as
//! `luaL_error`); [`normalize`] turns either into the Lua value Redis would have.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use mlua::{Lua, Table, Value, Variadic};

use super::convert::{self, number_to_i64};
use super::libs::{argerror, to_number, typename};
use super::rand::Lrand48;

/// A Redis error table raised from Rust: `{err = msg}`, flagged when the error
/// was already counted in the error stats.
#[derive(Debug)]
pub struct RaisedTable {
    pub msg: Vec<u8>,
    pub ignore_stats: bool,
}

impl fmt::Display for RaisedTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.msg))
    }
}

impl std::error::Error for RaisedTable {}

/// Raises `{err = msg}`.
pub fn raise(msg: &str) -> mlua::Error {
    mlua::Error::external(RaisedTable {
        msg: msg.as_bytes().to_vec(),
        ignore_stats: false,
    })
}

/// Raises a command's error table as redis.call does.
pub fn raise_table(t: &Table) -> mlua::Error {
    let msg = convert::error_field(t).unwrap_or_default();
    let ignore_stats = matches!(
        t.raw_get::<Value>("ignore_error_stats_update"),
        Ok(Value::Boolean(true))
    );
    mlua::Error::external(RaisedTable { msg, ignore_stats })
}

/// A Lua error string located at the calling script line, as luaL_error words it.
pub fn lua_error(lua: &Lua, msg: &str) -> mlua::Error {
    mlua::Error::RuntimeError(format!("{}{msg}", where_prefix(lua)))
}

/// luaL_where(L, 1): `chunk:line: ` of the function that called us.
fn where_prefix(lua: &Lua) -> String {
    let Some(frame) = lua.inspect_stack(1) else {
        return String::new();
    };
    let line = frame.curr_line();
    if line <= 0 {
        return String::new();
    }
    let source = frame.source();
    let short = source.short_src.as_deref().unwrap_or("?");
    format!("{short}:{line}: ")
}

/// luaL_checkint.
fn checkint(lua: &Lua, args: &[Value], n: usize) -> mlua::Result<i32> {
    match to_number(args.get(n - 1)) {
        Some(v) => Ok(number_to_i64(v) as i32),
        None => Err(argerror(
            lua,
            n,
            &format!("number expected, got {}", typename(args, n)),
        )),
    }
}

/// Turns an error value raised from Rust into what Lua code would see in
/// Redis: an error table, or the message string.
pub fn normalize(lua: &Lua, v: Value) -> mlua::Result<Value> {
    let Value::Error(e) = v else {
        return Ok(v);
    };
    let e = innermost(&e);
    if let Some(raised) = e.downcast_ref::<RaisedTable>() {
        return convert::error_table(lua, &raised.msg, raised.ignore_stats);
    }
    let text = match e {
        mlua::Error::RuntimeError(s) => s.clone(),
        mlua::Error::MemoryError(_) => "not enough memory".to_string(),
        other => other.to_string(),
    };
    Ok(Value::String(lua.create_string(text)?))
}

fn innermost(e: &mlua::Error) -> &mlua::Error {
    match e {
        mlua::Error::CallbackError { cause, .. } => innermost(cause),
        other => other,
    }
}

/// redis.setresp's argument check; the version asked for.
pub fn resp_version(args: &[Value]) -> mlua::Result<i64> {
    if args.len() != 1 {
        return Err(raise("ERR redis.setresp() requires one argument."));
    }
    let v = number_to_i64(to_number(args.first()).unwrap_or(0.0)) as i32;
    if v != 2 && v != 3 {
        return Err(raise("ERR RESP version must be 2 or 3."));
    }
    Ok(i64::from(v))
}

/// math.random: Lua 5.1's, with rand() replaced by redisLrand48.
fn random(lua: &Lua, rand: &RefCell<Lrand48>, args: &[Value]) -> mlua::Result<f64> {
    let max = f64::from(i32::MAX);
    let r = f64::from(rand.borrow_mut().draw() % i32::MAX) / max;
    match args.len() {
        0 => Ok(r),
        1 => {
            let u = checkint(lua, args, 1)?;
            if u < 1 {
                return Err(argerror(lua, 1, "interval is empty"));
            }
            Ok((r * f64::from(u)).floor() + 1.0)
        }
        2 => {
            let l = checkint(lua, args, 1)?;
            let u = checkint(lua, args, 2)?;
            if l > u {
                return Err(argerror(lua, 2, "interval is empty"));
            }
            Ok((r * (f64::from(u) - f64::from(l) + 1.0)).floor() + f64::from(l))
        }
        _ => Err(lua_error(lua, "wrong number of arguments")),
    }
}

pub const REPL_NONE: i32 = 0;
pub const REPL_ALL: i32 = 3;

/// redis.set_repl's argument checked: the flags (REPL_AOF 1 | REPL_REPLICA 2).
pub fn repl_flags(args: &[Value]) -> mlua::Result<i32> {
    if args.len() != 1 {
        return Err(raise("ERR redis.set_repl() requires two arguments."));
    }
    let flags = number_to_i64(to_number(args.first()).unwrap_or(0.0)) as i32;
    if flags & !REPL_ALL != 0 {
        return Err(raise(
            "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
        ));
    }
    Ok(flags)
}

/// redis.log's arguments checked (Redis's luaLogCommand): the level and the
/// line, its arguments after the level joined by spaces (non-strings skipped).
pub fn log_line(lua: &Lua, args: &[Value]) -> mlua::Result<(crate::io::LogLevel, String)> {
    use crate::io::LogLevel;
    if args.len() < 2 {
        return Err(raise("ERR redis.log() requires two arguments or more."));
    }
    let Some(level) = to_number(args.first()) else {
        return Err(raise("ERR First argument must be a number (log level)."));
    };
    let level = match number_to_i64(level) {
        0 => LogLevel::Debug,
        1 => LogLevel::Verbose,
        2 => LogLevel::Notice,
        3 => LogLevel::Warning,
        _ => return Err(raise("ERR Invalid debug level.")),
    };
    let mut line = Vec::new();
    for (j, arg) in args.iter().enumerate().skip(1) {
        let text = match arg {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            v @ (Value::Integer(_) | Value::Number(_)) => {
                lua.coerce_string(v.clone())?.map(|s| s.as_bytes().to_vec())
            }
            _ => None,
        };
        if let Some(text) = text {
            if j != 1 {
                line.push(b' ');
            }
            line.extend_from_slice(&text);
        }
    }
    Ok((level, String::from_utf8_lossy(&line).into_owned()))
}

/// redis.sha1hex(s)
fn sha1hex(lua: &Lua, args: &[Value]) -> mlua::Result<String> {
    if args.len() != 1 {
        return Err(raise("ERR wrong number of arguments"));
    }
    let data = match &args[0] {
        Value::String(s) => s.as_bytes().to_vec(),
        v @ (Value::Integer(_) | Value::Number(_)) => lua
            .coerce_string(v.clone())?
            .map(|s| s.as_bytes().to_vec())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    Ok(super::sha1_hex(&data))
}

/// redis.acl_check_cmd: Ember has no ACL users yet, so every known command is
/// allowed.
fn acl_check_cmd(args: &[Value]) -> mlua::Result<bool> {
    let argv = super::script_argv(args).map_err(raise)?;
    match crate::node::resolve(&argv) {
        Ok(_) => Ok(true),
        Err(_) => Err(raise("ERR Invalid command passed to redis.acl_check_cmd()")),
    }
}

/// The table of Rust functions the sandbox installs.
pub fn table(lua: &Lua, rand: &Rc<RefCell<Lrand48>>) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("base_functions", lua.create_function(base_functions)?)?;
    t.raw_set("version", crate::config_table::REDIS_VERSION)?;
    t.raw_set(
        "version_num",
        version_num(crate::config_table::REDIS_VERSION),
    )?;
    t.raw_set("normalize", lua.create_function(normalize)?)?;
    let r = rand.clone();
    t.raw_set(
        "random",
        lua.create_function(move |lua, args: Variadic<Value>| random(lua, &r, &args))?,
    )?;
    let r = rand.clone();
    t.raw_set(
        "randomseed",
        lua.create_function(move |lua, args: Variadic<Value>| {
            let seed = checkint(lua, &args, 1)?;
            r.borrow_mut().seed(seed);
            Ok(())
        })?,
    )?;
    t.raw_set(
        "set_repl",
        lua.create_function(|_, args: Variadic<Value>| repl_flags(&args).map(|_| ()))?,
    )?;
    // Outside a run (FUNCTION LOAD) lines are checked but go nowhere; each run
    // installs a redis.log that logs.
    t.raw_set(
        "log",
        lua.create_function(|lua, args: Variadic<Value>| log_line(lua, &args).map(|_| ()))?,
    )?;
    t.raw_set(
        "sha1hex",
        lua.create_function(|lua, args: Variadic<Value>| sha1hex(lua, &args))?,
    )?;
    t.raw_set(
        "acl_check_cmd",
        lua.create_function(|_, args: Variadic<Value>| acl_check_cmd(&args))?,
    )?;
    Ok(t)
}

/// REDIS_VERSION_NUM: 0x00MMmmpp.
fn version_num(version: &str) -> i64 {
    version
        .split('.')
        .take(3)
        .fold(0, |acc, part| (acc << 8) | part.parse::<i64>().unwrap_or(0))
}

/// luaL_checktype(L, n, LUA_TTABLE): the table, or Lua's argument error.
fn check_table(lua: &Lua, args: &[Value], n: usize) -> mlua::Result<Table> {
    match args.get(n - 1) {
        Some(Value::Table(t)) => Ok(t.clone()),
        _ => Err(argerror(
            lua,
            n,
            &format!("table expected, got {}", typename(args, n)),
        )),
    }
}

/// The real table behind a sandbox proxy, or the table itself.
fn unwrap_proxy(real_of: &Table, t: &Table) -> mlua::Result<Table> {
    match real_of.raw_get::<Value>(t.clone())? {
        Value::Table(real) => Ok(real),
        _ => Ok(t.clone()),
    }
}

fn is_proxy(real_of: &Table, t: &Table) -> mlua::Result<bool> {
    Ok(matches!(
        real_of.raw_get::<Value>(t.clone())?,
        Value::Table(_)
    ))
}

/// luaL_checkany: argument `n` must be given (nil counts).
fn check_any(lua: &Lua, args: &[Value], n: usize) -> mlua::Result<()> {
    if args.len() < n {
        return Err(argerror(lua, n, "value expected"));
    }
    Ok(())
}

/// An error a stock Lua function raised when Rust called it, as the script
/// would see it had it called the function itself: without the traceback
/// mlua appends.
fn without_traceback(e: mlua::Error) -> mlua::Error {
    match e {
        mlua::Error::RuntimeError(s) => match s.find("\nstack traceback:") {
            Some(at) => mlua::Error::RuntimeError(s[..at].to_string()),
            None => mlua::Error::RuntimeError(s),
        },
        other => other,
    }
}

/// next, pairs, ipairs, rawget, rawset and setmetatable as Lua's (lbaselib.c:
/// the same checks in the same order, the same errors), except that they read
/// through the sandbox's proxies and refuse to write to them. `real_of` maps
/// proxies to their tables; the `raw_*` are Lua's originals. `pairs` of a
/// table that is no proxy hands out Lua's own `next`, so iterating passes keys
/// and values straight from Lua to Lua: through Rust, mlua would read -0 and
/// numbers within EPSILON of an integer as that integer.
pub fn base_functions(
    lua: &Lua,
    (real_of, raw_next, raw_ipairs, raw_setmetatable, readonly): (
        Table,
        mlua::Function,
        mlua::Function,
        mlua::Function,
        String,
    ),
) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let r = real_of.clone();
    let stock_next = raw_next.clone();
    let next = lua.create_function(move |lua, args: Variadic<Value>| {
        let table = check_table(lua, &args, 1)?;
        let key = args.get(1).cloned().unwrap_or(Value::Nil);
        raw_next
            .call::<mlua::MultiValue>((unwrap_proxy(&r, &table)?, key))
            .map_err(without_traceback)
    })?;
    t.raw_set("next", next.clone())?;
    let r = real_of.clone();
    t.raw_set(
        "pairs",
        lua.create_function(move |lua, args: Variadic<Value>| {
            let table = check_table(lua, &args, 1)?;
            let iterator = if is_proxy(&r, &table)? {
                next.clone()
            } else {
                stock_next.clone()
            };
            Ok((iterator, table, Value::Nil))
        })?,
    )?;
    let r = real_of.clone();
    t.raw_set(
        "ipairs",
        lua.create_function(move |lua, args: Variadic<Value>| {
            let table = check_table(lua, &args, 1)?;
            raw_ipairs.call::<mlua::MultiValue>(unwrap_proxy(&r, &table)?)
        })?,
    )?;
    let r = real_of.clone();
    t.raw_set(
        "rawget",
        lua.create_function(move |lua, args: Variadic<Value>| {
            let table = check_table(lua, &args, 1)?;
            check_any(lua, &args, 2)?;
            unwrap_proxy(&r, &table)?.raw_get::<Value>(args[1].clone())
        })?,
    )?;
    let r = real_of.clone();
    let denied = readonly.clone();
    t.raw_set(
        "rawset",
        lua.create_function(move |lua, args: Variadic<Value>| {
            let table = check_table(lua, &args, 1)?;
            check_any(lua, &args, 2)?;
            check_any(lua, &args, 3)?;
            if is_proxy(&r, &table)? {
                return Err(mlua::Error::RuntimeError(denied.clone()));
            }
            // luaH_set's errors, raised from a C function: no position.
            match &args[1] {
                Value::Nil => return Err(mlua::Error::RuntimeError("table index is nil".into())),
                Value::Number(n) if n.is_nan() => {
                    return Err(mlua::Error::RuntimeError("table index is NaN".into()))
                }
                _ => {}
            }
            table.raw_set(args[1].clone(), args[2].clone())?;
            Ok(table)
        })?,
    )?;
    let r = real_of;
    t.raw_set(
        "setmetatable",
        lua.create_function(move |lua, args: Variadic<Value>| {
            let table = check_table(lua, &args, 1)?;
            let meta = match args.get(1) {
                Some(v @ (Value::Nil | Value::Table(_))) => v.clone(),
                _ => return Err(argerror(lua, 2, "nil or table expected")),
            };
            let protected = table
                .metatable()
                .map(|m| m.raw_get::<Value>("__metatable"))
                .transpose()?
                .is_some_and(|v| !v.is_nil());
            if protected {
                return Err(lua_error(lua, "cannot change a protected metatable"));
            }
            if is_proxy(&r, &table)? {
                return Err(mlua::Error::RuntimeError(readonly.clone()));
            }
            raw_setmetatable
                .call::<Value>((table, meta))
                .map_err(without_traceback)
        })?,
    )?;
    Ok(t)
}
