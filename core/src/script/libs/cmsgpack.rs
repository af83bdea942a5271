//! lua-cmsgpack 0.4.0 (`cmsgpack`): MessagePack encoding of Lua values, as
//! Redis ships it.

use mlua::{Lua, Table, Value, Variadic};

use super::argerror;
use crate::script::api::lua_error;

/// Tables nested deeper than this encode as nil (LUACMSGPACK_MAX_NESTING).
const MAX_NESTING: usize = 16;
/// Nesting a decoded value may have; deeper input is refused as bad data
/// (Redis's decoder recurses without a bound and can exhaust its C stack).
const DECODE_DEPTH_MAX: usize = 1000;

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

fn encode_value(out: &mut Vec<u8>, value: &Value, level: usize) -> mlua::Result<()> {
    match value {
        Value::String(s) => encode_bytes(out, &s.as_bytes()),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_number(out, *i as f64),
        Value::Number(n) => encode_number(out, *n),
        Value::Table(t) if level < MAX_NESTING => {
            if is_array(t)? {
                let len = t.raw_len();
                header(out, len, 0x90, 0xdc, 0xdd);
                for i in 1..=len {
                    let v: Value = t.raw_get(i)?;
                    encode_value(out, &v, level + 1)?;
                }
            } else {
                let pairs: Vec<(Value, Value)> = t
                    .clone()
                    .pairs::<Value, Value>()
                    .collect::<mlua::Result<_>>()?;
                header(out, pairs.len(), 0x80, 0xde, 0xdf);
                for (k, v) in &pairs {
                    encode_value(out, k, level + 1)?;
                    encode_value(out, v, level + 1)?;
                }
            }
        }
        _ => out.push(0xc0),
    }
    Ok(())
}

/// cmsgpack.pack(...)
fn pack(lua: &Lua, args: &[Value]) -> mlua::Result<mlua::String> {
    if args.is_empty() {
        return Err(argerror(lua, 0, "pack", "MessagePack pack needs input."));
    }
    let mut out = Vec::new();
    for arg in args {
        encode_value(&mut out, arg, 0)?;
    }
    lua.create_string(out)
}

/// Why decoding stopped.
enum DecodeError {
    Eof,
    BadFormat,
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

    fn lua_err(e: mlua::Error) -> DecodeError {
        let _ = e;
        DecodeError::BadFormat
    }

    fn string(&mut self, len: usize) -> Result<Value, DecodeError> {
        let bytes = self.take(len)?.to_vec();
        self.lua
            .create_string(bytes)
            .map(Value::String)
            .map_err(Self::lua_err)
    }

    fn array(&mut self, len: usize, depth: usize) -> Result<Value, DecodeError> {
        let t = self.lua.create_table().map_err(Self::lua_err)?;
        for i in 1..=len {
            let v = self.value(depth + 1)?;
            t.raw_set(i, v).map_err(Self::lua_err)?;
        }
        Ok(Value::Table(t))
    }

    fn map(&mut self, len: usize, depth: usize) -> Result<Value, DecodeError> {
        let t = self.lua.create_table().map_err(Self::lua_err)?;
        for _ in 0..len {
            let k = self.value(depth + 1)?;
            let v = self.value(depth + 1)?;
            t.raw_set(k, v).map_err(Self::lua_err)?;
        }
        Ok(Value::Table(t))
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        if depth > DECODE_DEPTH_MAX {
            return Err(DecodeError::BadFormat);
        }
        let tag = self.take(1)?[0];
        let num = |v: f64| Ok(Value::Number(v));
        match tag {
            0x00..=0x7f => num(f64::from(tag)),
            0x80..=0x8f => self.map(usize::from(tag & 0x0f), depth),
            0x90..=0x9f => self.array(usize::from(tag & 0x0f), depth),
            0xa0..=0xbf => self.string(usize::from(tag & 0x1f)),
            0xc0 => Ok(Value::Nil),
            0xc2 => Ok(Value::Boolean(false)),
            0xc3 => Ok(Value::Boolean(true)),
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
            0xdc => {
                let len = self.be(2)? as usize;
                self.array(len, depth)
            }
            0xdd => {
                let len = self.be(4)? as usize;
                self.array(len, depth)
            }
            0xde => {
                let len = self.be(2)? as usize;
                self.map(len, depth)
            }
            0xdf => {
                let len = self.be(4)? as usize;
                self.map(len, depth)
            }
            0xe0..=0xff => num(f64::from(tag as i8)),
            _ => Err(DecodeError::BadFormat),
        }
    }
}

/// mp_unpack_full: up to `limit` values from `offset` (0/0: all, no offset in
/// the results).
fn unpack_full(lua: &Lua, data: &[u8], limit: i64, offset: i64) -> mlua::Result<Variadic<Value>> {
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        return Err(lua_error(
            lua,
            &format!(
                "Invalid request to unpack with offset of {offset} and limit of {}.",
                data.len()
            ),
        ));
    }
    if offset as u64 > data.len() as u64 {
        return Err(lua_error(
            lua,
            &format!(
                "Start offset {offset} greater than input length {}.",
                data.len()
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
        match cursor.value(0) {
            Ok(v) => values.push(v),
            Err(DecodeError::Eof) => return Err(lua_error(lua, "Missing bytes in input.")),
            Err(DecodeError::BadFormat) => return Err(lua_error(lua, "Bad data format in input.")),
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

fn int_arg(lua: &Lua, args: &[Value], n: usize, name: &str) -> mlua::Result<i64> {
    let v = super::check_number(lua, args, n, name)?;
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
            let data = super::check_string(lua, &args, 1, "unpack")?;
            unpack_full(lua, &data, 0, 0)
        })?,
    )?;
    t.raw_set(
        "unpack_one",
        lua.create_function(|lua, args: Variadic<Value>| {
            let data = super::check_string(lua, &args, 1, "unpack_one")?;
            let offset = match args.get(1) {
                None | Some(Value::Nil) => 0,
                _ => int_arg(lua, &args, 2, "unpack_one")?,
            };
            unpack_full(lua, &data, 1, offset)
        })?,
    )?;
    t.raw_set(
        "unpack_limit",
        lua.create_function(|lua, args: Variadic<Value>| {
            let data = super::check_string(lua, &args, 1, "unpack_limit")?;
            let limit = int_arg(lua, &args, 2, "unpack_limit")?;
            let offset = match args.get(2) {
                None | Some(Value::Nil) => 0,
                _ => int_arg(lua, &args, 3, "unpack_limit")?,
            };
            unpack_full(lua, &data, limit, offset)
        })?,
    )?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}
