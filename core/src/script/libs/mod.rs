//! The C libraries Redis links into its Lua (deps/lua/src: lua_bit.c, lua_cjson.c,
//! lua_struct.c, lua_cmsgpack.c), rewritten in Rust as Lua-callable tables with
//! the same results and error texts.

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod structlib;

use mlua::{Lua, Table, Value};

use super::api::lua_error;

/// Installs `bit`, `cjson` (configured by `cjson_config`), `struct` and
/// `cmsgpack` into the real globals, before the sandbox replaces `next`.
pub fn install(lua: &Lua, globals: &Table, cjson_config: cjson::Shared) -> mlua::Result<()> {
    globals.raw_set("bit", bit::table(lua)?)?;
    let next: mlua::Function = globals.raw_get("next")?;
    let cjson = cjson::table(lua, cjson::module(lua, cjson_config, next)?)?;
    globals.raw_set("cjson", cjson)?;
    globals.raw_set("struct", structlib::table(lua)?)?;
    globals.raw_set("cmsgpack", cmsgpack::table(lua)?)?;
    Ok(())
}

/// Lua 5.1's LUAI_MAXCSTACK: the stack slots a C function may hold. Redis's C
/// libraries ask for slots as they push (luaL_checkstack), so many arguments,
/// many results or deep nesting end in their "stack overflow (...)" errors
/// (the checks Redis added for CVE-2018-11218 in cmsgpack). The Rust versions
/// count the slots the C code would hold at each of its checks and fail where
/// it fails; this also bounds how many values they hand back at once.
pub const C_STACK_SLOTS_MAX: usize = 8000;

/// luaL_checkstack(L, space, what) with `used` slots already in use.
pub fn check_stack(lua: &Lua, used: usize, space: usize, what: &str) -> mlua::Result<()> {
    if used + space > C_STACK_SLOTS_MAX {
        return Err(lua_error(lua, &format!("stack overflow ({what})")));
    }
    Ok(())
}

/// Stops an encoder whose output, built in Rust memory before it becomes one
/// Lua string, has passed what the Lua state may hold: that string could never
/// be created, and without this a 512 MB string of control characters would
/// take 3 GB outside the limit on its way to failing (JSON escapes grow six-fold).
pub fn check_output(out: &[u8]) -> mlua::Result<()> {
    check_output_len(out.len())
}

/// [`check_output`] for output about to reach `len` bytes.
pub fn check_output_len(len: usize) -> mlua::Result<()> {
    if len > crate::script::LUA_MEMORY_BYTES_MAX {
        return Err(mlua::Error::MemoryError("not enough memory".into()));
    }
    Ok(())
}

/// `bad argument #n to 'name' (msg)` as luaL_argerror words it: the function
/// named as its caller spelled the call (`?` when a C function such as pcall
/// called it), `calling 'name' on bad self` or one argument less for a method
/// call, located at the calling script line.
pub fn argerror(lua: &Lua, n: usize, msg: &str) -> mlua::Error {
    let (name, method) = match lua.inspect_stack(0) {
        Some(frame) => {
            let names = frame.names();
            let method = names.name_what == Some("method");
            (names.name.map(|s| s.into_owned()), method)
        }
        None => (None, false),
    };
    let name = name.unwrap_or_else(|| "?".to_string());
    let mut n = n as i64;
    if method {
        n -= 1; // `self` is not counted
        if n == 0 {
            return lua_error(lua, &format!("calling '{name}' on bad self ({msg})"));
        }
    }
    lua_error(lua, &format!("bad argument #{n} to '{name}' ({msg})"))
}

/// Lua's type name for argument `n` (1-based), "no value" when absent.
pub fn typename(args: &[Value], n: usize) -> &'static str {
    match args.get(n - 1) {
        None => "no value",
        Some(v) => lua_type_name(v),
    }
}

/// lua_typename as Lua 5.1 spells it (mlua splits numbers into integer and
/// number, and names its own error values differently).
pub fn lua_type_name(v: &Value) -> &'static str {
    match v {
        Value::Integer(_) | Value::Number(_) => "number",
        Value::LightUserData(_) | Value::UserData(_) | Value::Error(_) => "userdata",
        other => other.type_name(),
    }
}

/// lua_tonumber: numbers, and strings that read as numbers.
pub fn to_number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => {
            let bytes = s.as_bytes();
            let text = std::str::from_utf8(&bytes).ok()?.trim();
            crate::util::num::parse_f64(text.as_bytes())
        }
        _ => None,
    }
}

/// luaL_checknumber.
pub fn check_number(lua: &Lua, args: &[Value], n: usize) -> mlua::Result<f64> {
    to_number(args.get(n - 1)).ok_or_else(|| {
        argerror(
            lua,
            n,
            &format!("number expected, got {}", typename(args, n)),
        )
    })
}

/// luaL_checkinteger: a number (or a string that reads as one) converted as
/// Lua 5.1 does on x86-64 (`(ptrdiff_t)d`: out of range gives i64::MIN).
pub fn check_integer(lua: &Lua, args: &[Value], n: usize) -> mlua::Result<i64> {
    match to_number(args.get(n - 1)) {
        Some(d) => Ok(crate::script::convert::number_to_i64(d)),
        None => Err(argerror(
            lua,
            n,
            &format!("number expected, got {}", typename(args, n)),
        )),
    }
}

/// luaL_checklstring: strings, and numbers in Lua's `%.14g` form.
pub fn check_string(lua: &Lua, args: &[Value], n: usize) -> mlua::Result<Vec<u8>> {
    match args.get(n - 1) {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(v @ (Value::Integer(_) | Value::Number(_))) => Ok(lua
            .coerce_string(v.clone())?
            .map(|s| s.as_bytes().to_vec())
            .unwrap_or_default()),
        _ => Err(argerror(
            lua,
            n,
            &format!("string expected, got {}", typename(args, n)),
        )),
    }
}
