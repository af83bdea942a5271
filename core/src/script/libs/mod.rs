//! The C libraries Redis links into its Lua (deps/lua/src: lua_bit.c, lua_cjson.c,
//! lua_struct.c, lua_cmsgpack.c), rewritten in Rust as Lua-callable tables with
//! the same results and error texts.

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod structlib;

use mlua::{Lua, Table, Value};

use super::api::lua_error;

/// Installs `bit`, `cjson`, `struct` and `cmsgpack` into the real globals.
pub fn install(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    globals.raw_set("bit", bit::table(lua)?)?;
    globals.raw_set("cjson", cjson::table(lua)?)?;
    globals.raw_set("struct", structlib::table(lua)?)?;
    globals.raw_set("cmsgpack", cmsgpack::table(lua)?)?;
    Ok(())
}

/// `bad argument #n to 'name' (msg)`, located at the calling script line.
pub fn argerror(lua: &Lua, n: usize, name: &str, msg: &str) -> mlua::Error {
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
pub fn check_number(lua: &Lua, args: &[Value], n: usize, name: &str) -> mlua::Result<f64> {
    to_number(args.get(n - 1)).ok_or_else(|| {
        argerror(
            lua,
            n,
            name,
            &format!("number expected, got {}", typename(args, n)),
        )
    })
}

/// luaL_checklstring: strings, and numbers in Lua's `%.14g` form.
pub fn check_string(lua: &Lua, args: &[Value], n: usize, name: &str) -> mlua::Result<Vec<u8>> {
    match args.get(n - 1) {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(v @ (Value::Integer(_) | Value::Number(_))) => Ok(lua
            .coerce_string(v.clone())?
            .map(|s| s.as_bytes().to_vec())
            .unwrap_or_default()),
        _ => Err(argerror(
            lua,
            n,
            name,
            &format!("string expected, got {}", typename(args, n)),
        )),
    }
}
