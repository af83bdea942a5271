//! lua-cmsgpack 0.4.0 (`cmsgpack`): MessagePack encoding of Lua values, as
//! Redis ships it.

use mlua::{Lua, Table, Value, Variadic};

use super::{argerror, check_stack};
use crate::script::api::lua_error;

/// Tables nested deeper than this encode as nil (LUACMSGPACK_MAX_NESTING).
const MAX_NESTING: usize = 16;

const TOO_MANY_RESULTS: &str =
    "too many return values at once; use unpack_one or unpack_limit instead.";

fn encode_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        match n {
            0..=127 => out.push(n as u8),
            128..=0xff => out.extend_from_slice(&[0xcc, n as u8]),
            0x100..=0xffff => {
                out.push(0xcd);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                out.push(0xce);
                out.extend_from_slice(&(n as u32).to_be_bytes());
            }
            _ => {
                out.push(0xcf);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_number(out: &mut Vec<u8>, n: f64) {
    let as_int = crate::script::convert::number_to_i64(n);
    if !n.is_infinite() && as_int as f64 == n {
        return encode_int(out, as_int);
    }
    let f = n as f32;
    if f64::from(f) == n {
        out.push(0xca);
        out.extend_from_slice(&f.to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn header(out: &mut Vec<u8>, len: usize, fix: u8, b16: u8, b32: u8) {
    if len <= 15 {
        out.push(fix | len as u8);
    } else if len <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(b32);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

/// table_is_an_array: every key a positive integer and as many keys as the
/// largest one.
fn is_array(t: &Table) -> mlua::Result<bool> {
    let mut count = 0usize;
    let mut max = 0usize;
    for pair in t.clone().pairs::<Value, Value>() {
        let (k, _) = pair?;
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(false),
        };
        if n <= 0.0 || n != n.trunc() {
            return Ok(false);
        }
        count += 1;
        max = max.max(n as usize);
    }
    Ok(max == count)
}

/// mp_encode_lua_type for a value that the C code holds in its stack slot
/// `used` (the slots in use, counting the value's own).
fn encode_value(
    lua: &Lua,
    out: &mut Vec<u8>,
    value: &Value,
    level: usize,
    used: usize,
) -> mlua::Result<()> {
    super::check_output(out)?;
    match value {
        Value::String(s) => {
            let s = s.as_bytes();
            super::check_output_len(out.len().saturating_add(s.len()).saturating_add(5))?;
            encode_bytes(out, &s);
        }
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_number(out, *i as f64),
        Value::Number(n) => encode_number(out, *n),
        Value::Table(t) if level < MAX_NESTING => encode_table(lua, out, t, level, used)?,
        _ => out.push(0xc0),
    }
    Ok(())
}

/// mp_encode_lua_table: a list when the keys are exactly 1..n, else a map.
fn encode_table(
    lua: &Lua,
    out: &mut Vec<u8>,
    t: &Table,
    level: usize,
    used: usize,
) -> mlua::Result<()> {
    check_stack(lua, used, 2, "in function table_is_an_array")?;
    if is_array(t)? {
        let len = t.raw_len();
        header(out, len, 0x90, 0xdc, 0xdd);
        check_stack(lua, used, 1, "in function mp_encode_lua_table_as_array")?;
        for i in 1..=len {
            let v: Value = t.raw_get(i)?;
            encode_value(lua, out, &v, level + 1, used + 1)?;
        }
        return Ok(());
    }
    check_stack(lua, used, 3, "in function mp_encode_lua_table_as_map")?;
    let pairs: Vec<(Value, Value)> = t
        .clone()
        .pairs::<Value, Value>()
        .collect::<mlua::Result<_>>()?;
    header(out, pairs.len(), 0x80, 0xde, 0xdf);
    for (k, v) in &pairs {
        // The C code holds the key, the value and a copy of the key.
        encode_value(lua, out, k, level + 1, used + 3)?;
        encode_value(lua, out, v, level + 1, used + 2)?;
    }
    Ok(())
}

/// cmsgpack.pack(...)
fn pack(lua: &Lua, args: &[Value]) -> mlua::Result<mlua::String> {
    if args.is_empty() {
        return Err(argerror(lua, 0, "MessagePack pack needs input."));
    }
    // lua_checkstack(L, nargs) with the nargs arguments already there.
    if 2 * args.len() > super::C_STACK_SLOTS_MAX {
        return Err(argerror(lua, 0, "Too many arguments for MessagePack pack."));
    }
    let mut out = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        // The arguments, the encodings of the earlier ones, and a copy of this one.
        encode_value(lua, &mut out, arg, 0, args.len() + i + 1)?;
    }
    lua.create_string(out)
}

/// Why decoding stopped.
enum DecodeError {
    /// The input ended inside a value ("Missing bytes in input.").
    Eof,
    /// A byte that starts no MessagePack value ("Bad data format in input.").
    BadFormat,
    /// A Lua error raised on the spot (stack overflow, a nil or NaN map key,
    /// memory).
    Lua(mlua::Error),
}

impl From<mlua::Error> for DecodeError {
    fn from(e: mlua::Error) -> Self {
        DecodeError::Lua(e)
    }
}

/// What one MessagePack item starts.
enum Item {
    Value(Value),
    Array(usize),
    Map(usize),
}

/// A list or map being filled. Redis decodes nested values by recursion; here
/// an explicit stack does it, so nesting costs no native stack. `used` is the
/// C stack slots in use when the container's own item began.
enum Open {
    Array {
        table: Table,
        len: usize,
        next: usize,
        used: usize,
    },
    Map {
        table: Table,
        left: usize,
        key: Option<Value>,
        used: usize,
    },
}

/// What a finished value does to the innermost open container.
enum Fill {
    /// The container wants another item, begun with these slots in use.
    More(usize),
    /// The container is complete: it is the finished value now.
    Done,
}

impl Open {
    fn fill(&mut self, value: Value) -> mlua::Result<Fill> {
        match self {
            Open::Array {
                table,
                len,
                next,
                used,
            } => {
                table.raw_set(*next, value)?;
                *next += 1;
                // The table and the next index sit on the stack.
                Ok(if *next > *len {
                    Fill::Done
                } else {
                    Fill::More(*used + 2)
                })
            }
            Open::Map {
                table,
                left,
                key,
                used,
            } => match key.take() {
                None => {
                    *key = Some(value);
                    // The table and the key.
                    Ok(Fill::More(*used + 2))
                }
                Some(k) => {
                    set_entry(table, k, value)?;
                    *left -= 1;
                    Ok(if *left == 0 {
                        Fill::Done
                    } else {
                        Fill::More(*used + 1)
                    })
                }
            },
        }
    }

    fn into_table(self) -> Value {
        match self {
            Open::Array { table, .. } | Open::Map { table, .. } => Value::Table(table),
        }
    }
}

/// lua_settable into a fresh table: a nil or NaN key is Lua's runtime error,
/// raised by the VM without a position (the running function is C).
fn set_entry(table: &Table, key: Value, value: Value) -> mlua::Result<()> {
    match key {
        Value::Nil => Err(mlua::Error::RuntimeError("table index is nil".into())),
        Value::Number(n) if n.is_nan() => {
            Err(mlua::Error::RuntimeError("table index is NaN".into()))
        }
        key => table.raw_set(key, value),
    }
}

struct Cursor<'a> {
    lua: &'a Lua,
    data: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Eof)?;
        let bytes = self.data.get(self.pos..end).ok_or(DecodeError::Eof)?;
        self.pos = end;
        Ok(bytes)
    }

    fn be(&mut self, n: usize) -> Result<u64, DecodeError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    fn string(&mut self, len: usize) -> Result<Item, DecodeError> {
        let bytes = self.take(len)?.to_vec();
        Ok(Item::Value(Value::String(self.lua.create_string(bytes)?)))
    }

    /// mp_decode_to_lua_type: one whole value, begun with `used` C stack slots
    /// in use.
    fn value(&mut self, used: usize) -> Result<Value, DecodeError> {
        let mut open: Vec<Open> = Vec::new();
        let mut used = used;
        loop {
            let mut value = match self.item(used)? {
                Item::Value(v) => v,
                Item::Array(len) => {
                    let table = self.lua.create_table()?;
                    check_stack(self.lua, used + 1, 1, "in function mp_decode_to_lua_array")?;
                    if len == 0 {
                        Value::Table(table)
                    } else {
                        open.push(Open::Array {
                            table,
                            len,
                            next: 1,
                            used,
                        });
                        used += 2;
                        continue;
                    }
                }
                Item::Map(len) => {
                    let table = self.lua.create_table()?;
                    if len == 0 {
                        Value::Table(table)
                    } else {
                        open.push(Open::Map {
                            table,
                            left: len,
                            key: None,
                            used,
                        });
                        used += 1;
                        continue;
                    }
                }
            };
            loop {
                let Some(innermost) = open.last_mut() else {
                    return Ok(value);
                };
                match innermost.fill(value)? {
                    Fill::More(at) => {
                        used = at;
                        break;
                    }
                    Fill::Done => {
                        value = open.pop().map(Open::into_table).unwrap_or(Value::Nil);
                    }
                }
            }
        }
    }

    /// Reads one item's header (a whole scalar, or a list or map's length).
    fn item(&mut self, used: usize) -> Result<Item, DecodeError> {
        if self.pos >= self.data.len() {
            return Err(DecodeError::Eof);
        }
        check_stack(self.lua, used, 1, TOO_MANY_RESULTS)?;
        let tag = self.take(1)?[0];
        let num = |v: f64| Ok(Item::Value(Value::Number(v)));
        match tag {
            0x00..=0x7f => num(f64::from(tag)),
            0x80..=0x8f => Ok(Item::Map(usize::from(tag & 0x0f))),
            0x90..=0x9f => Ok(Item::Array(usize::from(tag & 0x0f))),
            0xa0..=0xbf => self.string(usize::from(tag & 0x1f)),
            0xc0 => Ok(Item::Value(Value::Nil)),
            0xc2 => Ok(Item::Value(Value::Boolean(false))),
            0xc3 => Ok(Item::Value(Value::Boolean(true))),
            0xca => num(f64::from(f32::from_bits(self.be(4)? as u32))),
            0xcb => num(f64::from_bits(self.be(8)?)),
            0xcc => num(self.be(1)? as f64),
            0xcd => num(self.be(2)? as f64),
            0xce => num(self.be(4)? as f64),
            0xcf => num(self.be(8)? as f64),
            0xd0 => num(f64::from(self.be(1)? as u8 as i8)),
            0xd1 => num(f64::from(self.be(2)? as u16 as i16)),
            0xd2 => num(f64::from(self.be(4)? as u32 as i32)),
            0xd3 => num(self.be(8)? as i64 as f64),
            0xd9 => {
                let len = self.be(1)? as usize;
                self.string(len)
            }
            0xda => {
                let len = self.be(2)? as usize;
                self.string(len)
            }
            0xdb => {
                let len = self.be(4)? as usize;
                self.string(len)
            }
            0xdc => Ok(Item::Array(self.be(2)? as usize)),
            0xdd => Ok(Item::Array(self.be(4)? as usize)),
            0xde => Ok(Item::Map(self.be(2)? as usize)),
            0xdf => Ok(Item::Map(self.be(4)? as usize)),
            0xe0..=0xff => num(f64::from(tag as i8)),
            _ => Err(DecodeError::BadFormat),
        }
    }
}

/// mp_unpack_full: up to `limit` values from `offset` (0/0: all, no offset in
/// the results). `args` is how many arguments the C function still holds on
/// its stack (unpack keeps them all, unpack_one and unpack_limit pop to one).
fn unpack_full(
    lua: &Lua,
    data: &[u8],
    limit: i64,
    offset: i64,
    args: usize,
) -> mlua::Result<Variadic<Value>> {
    let decode_all = limit == 0 && offset == 0;
    // Redis prints these with %d after casting to int.
    if offset < 0 || limit < 0 {
        return Err(lua_error(
            lua,
            &format!(
                "Invalid request to unpack with offset of {} and limit of {}.",
                offset as i32,
                data.len() as i32
            ),
        ));
    }
    if offset as u64 > data.len() as u64 {
        return Err(lua_error(
            lua,
            &format!(
                "Start offset {} greater than input length {}.",
                offset as i32,
                data.len() as i32
            ),
        ));
    }
    let limit = if decode_all { i64::MAX } else { limit };
    let mut cursor = Cursor {
        lua,
        data,
        pos: offset as usize,
    };
    let mut values = Vec::new();
    while cursor.pos < data.len() && (values.len() as i64) < limit {
        // Each value decoded so far waits on the stack above the arguments.
        match cursor.value(args + values.len()) {
            Ok(v) => values.push(v),
            Err(DecodeError::Eof) => return Err(lua_error(lua, "Missing bytes in input.")),
            Err(DecodeError::BadFormat) => return Err(lua_error(lua, "Bad data format in input.")),
            Err(DecodeError::Lua(e)) => return Err(e),
        }
    }
    if !decode_all {
        let next = if cursor.pos >= data.len() {
            -1
        } else {
            cursor.pos as i64
        };
        values.insert(0, Value::Number(next as f64));
    }
    Ok(Variadic::from_iter(values))
}

fn int_arg(lua: &Lua, args: &[Value], n: usize) -> mlua::Result<i64> {
    let v = super::check_number(lua, args, n)?;
    Ok(crate::script::convert::number_to_i64(v))
}

pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "pack",
        lua.create_function(|lua, args: Variadic<Value>| pack(lua, &args))?,
    )?;
    t.raw_set(
        "unpack",
        lua.create_function(|lua, args: Variadic<Value>| {
            let data = super::check_string(lua, &args, 1)?;
            unpack_full(lua, &data, 0, 0, args.len())
        })?,
    )?;
    t.raw_set(
        "unpack_one",
        lua.create_function(|lua, args: Variadic<Value>| {
            let data = super::check_string(lua, &args, 1)?;
            let offset = match args.get(1) {
                None | Some(Value::Nil) => 0,
                _ => int_arg(lua, &args, 2)?,
            };
            unpack_full(lua, &data, 1, offset, 1)
        })?,
    )?;
    t.raw_set(
        "unpack_limit",
        lua.create_function(|lua, args: Variadic<Value>| {
            let data = super::check_string(lua, &args, 1)?;
            let limit = int_arg(lua, &args, 2)?;
            let offset = match args.get(2) {
                None | Some(Value::Nil) => 0,
                _ => int_arg(lua, &args, 3)?,
            };
            unpack_full(lua, &data, limit, offset, 1)
        })?,
    )?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}
