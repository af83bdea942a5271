//! Replies crossing the Lua boundary, both ways, as Redis converts them
//! (script_lua.c): a command's RESP reply becomes Lua values for `redis.call`,
//! and the script's return value becomes the caller's reply.

use mlua::{Lua, Table, Value};

use crate::resp::ReplyBuf;

/// Nesting a returned table may have before the reply stops with an error:
/// where Redis's Lua stack (LUAI_MAXCSTACK, 8000 slots) runs out for nested
/// arrays.
pub const REPLY_DEPTH_MAX: usize = 7995;
/// Nesting a command reply may have when parsed into Lua values (Ember's own
/// replies nest a few levels at most).
const PARSE_DEPTH_MAX: usize = 1000;

/// A C `(long long)` cast of a double on x86-64: truncation, and the
/// "integer indefinite" value for NaN and out-of-range numbers.
pub fn number_to_i64(n: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !(-LIMIT..LIMIT).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

/// `{err = msg}`, as redis.pcall returns a failed command; `ignore_stats` marks
/// errors already counted when the command failed.
pub fn error_table(lua: &Lua, msg: &[u8], ignore_stats: bool) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    let msg = msg.strip_prefix(b"-").unwrap_or(msg);
    t.raw_set("err", lua.create_string(trim_crlf(msg))?)?;
    if ignore_stats {
        t.raw_set("ignore_error_stats_update", true)?;
    }
    Ok(Value::Table(t))
}

fn trim_crlf(mut s: &[u8]) -> &[u8] {
    while let [b'\r' | b'\n', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b'\r' | b'\n'] = s {
        s = rest;
    }
    s
}

/// The `err` field of a table, when it is a string.
pub fn error_field(t: &Table) -> Option<Vec<u8>> {
    match t.raw_get::<Value>("err") {
        Ok(Value::String(s)) => Some(s.as_bytes().to_vec()),
        _ => None,
    }
}

/// Parses one RESP2/RESP3 reply (written by Ember's own encoder) into Lua values.
pub fn resp_to_lua(lua: &Lua, reply: &[u8]) -> mlua::Result<Value> {
    let mut parser = Parser {
        lua,
        buf: reply,
        pos: 0,
    };
    parser.value(0)
}

struct Parser<'a> {
    lua: &'a Lua,
    buf: &'a [u8],
    pos: usize,
}

fn malformed() -> mlua::Error {
    mlua::Error::RuntimeError("malformed reply".into())
}

impl Parser<'_> {
    fn line(&mut self) -> mlua::Result<&[u8]> {
        let rest = self.buf.get(self.pos..).ok_or_else(malformed)?;
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(malformed)?;
        self.pos += end + 2;
        Ok(&rest[..end])
    }

    fn number(&mut self) -> mlua::Result<i64> {
        let line = self.line()?;
        crate::util::num::parse_i64(line).ok_or_else(malformed)
    }

    fn bulk(&mut self, len: i64) -> mlua::Result<&[u8]> {
        let len = usize::try_from(len).map_err(|_| malformed())?;
        let start = self.pos;
        let end = start.checked_add(len).ok_or_else(malformed)?;
        let data = self.buf.get(start..end).ok_or_else(malformed)?;
        self.pos = start + len + 2;
        Ok(data)
    }

    fn tagged(&self, tag: &str, value: Value) -> mlua::Result<Value> {
        let t = self.lua.create_table()?;
        t.raw_set(tag, value)?;
        Ok(Value::Table(t))
    }

    fn value(&mut self, depth: usize) -> mlua::Result<Value> {
        if depth > PARSE_DEPTH_MAX {
            return Err(malformed());
        }
        let kind = *self.buf.get(self.pos).ok_or_else(malformed)?;
        self.pos += 1;
        let lua = self.lua;
        match kind {
            b'+' => {
                let s = lua.create_string(self.line()?)?;
                self.tagged("ok", Value::String(s))
            }
            b'-' => {
                let msg = self.line()?.to_vec();
                error_table(lua, &msg, true)
            }
            b':' => Ok(Value::Number(self.number()? as f64)),
            b'$' => match self.number()? {
                -1 => Ok(Value::Boolean(false)),
                len => Ok(Value::String(lua.create_string(self.bulk(len)?)?)),
            },
            b'*' | b'>' => match self.number()? {
                -1 => Ok(Value::Boolean(false)),
                len => self.array(len, depth),
            },
            b'%' => {
                let len = self.number()?;
                let map = lua.create_table()?;
                for _ in 0..len {
                    let k = self.value(depth + 1)?;
                    let v = self.value(depth + 1)?;
                    map.raw_set(k, v)?;
                }
                self.tagged("map", Value::Table(map))
            }
            b'~' => {
                let len = self.number()?;
                let set = lua.create_table()?;
                for _ in 0..len {
                    let k = self.value(depth + 1)?;
                    set.raw_set(k, true)?;
                }
                self.tagged("set", Value::Table(set))
            }
            b'_' => {
                self.line()?;
                Ok(Value::Nil)
            }
            b'#' => Ok(Value::Boolean(self.line()? == b"t")),
            b',' => {
                let line = self.line()?;
                let d = parse_double(line);
                self.tagged("double", Value::Number(d))
            }
            b'(' => {
                let s = lua.create_string(self.line()?)?;
                self.tagged("big_number", Value::String(s))
            }
            b'=' => {
                let len = self.number()?;
                let data = self.bulk(len)?.to_vec();
                let (format, text) = data.split_at(data.len().min(4));
                let inner = lua.create_table()?;
                inner.raw_set("string", lua.create_string(text)?)?;
                inner.raw_set("format", lua.create_string(&format[..format.len().min(3)])?)?;
                self.tagged("verbatim_string", Value::Table(inner))
            }
            b'|' => {
                // Attributes are parsed and dropped; the reply after them counts.
                let len = self.number()?;
                for _ in 0..len * 2 {
                    self.value(depth + 1)?;
                }
                self.value(depth)
            }
            _ => Err(malformed()),
        }
    }

    fn array(&mut self, len: i64, depth: usize) -> mlua::Result<Value> {
        let t = self.lua.create_table()?;
        for i in 0..len {
            let v = self.value(depth + 1)?;
            t.raw_set(i + 1, v)?;
        }
        Ok(Value::Table(t))
    }
}

fn parse_double(line: &[u8]) -> f64 {
    match line {
        b"inf" => f64::INFINITY,
        b"-inf" => f64::NEG_INFINITY,
        b"nan" => f64::NAN,
        _ => crate::util::num::parse_f64(line).unwrap_or(0.0),
    }
}

/// Writes a script's return value as the caller's reply (Redis's
/// luaReplyToRedisReply). `resp3` is what the script chose with redis.setresp:
/// it decides how booleans convert. Iterative, so a table that contains itself
/// ends with Redis's stack-limit error instead of exhausting the native stack.
pub fn lua_to_reply(out: &mut ReplyBuf, value: &Value, resp3: bool) {
    let mut work: Vec<(Value, usize)> = vec![(value.clone(), 0)];
    while let Some((value, depth)) = work.pop() {
        if depth >= REPLY_DEPTH_MAX {
            out.error("ERR reached lua stack limit");
            continue;
        }
        match value {
            Value::String(s) => out.bulk(&s.as_bytes()),
            Value::Boolean(b) if resp3 => out.boolean(b),
            Value::Boolean(true) => out.int(1),
            Value::Integer(i) => out.int(i),
            Value::Number(n) => out.int(number_to_i64(n)),
            Value::Table(t) => {
                let children = table_to_reply(out, &t);
                work.extend(children.into_iter().rev().map(|v| (v, depth + 1)));
            }
            _ => out.null(),
        }
    }
}

/// Writes a table's reply header (or the whole reply when it is a leaf such as
/// an error or status) and returns the values still to write, in order.
fn table_to_reply(out: &mut ReplyBuf, t: &Table) -> Vec<Value> {
    if let Some(err) = error_field(t) {
        out.error(err);
        return Vec::new();
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("ok") {
        let mut line = b"+".to_vec();
        line.extend(
            s.as_bytes()
                .iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
        line.extend_from_slice(b"\r\n");
        out.raw(&line);
        return Vec::new();
    }
    match t.raw_get::<Value>("double") {
        Ok(Value::Number(d)) => {
            double_reply(out, d);
            return Vec::new();
        }
        Ok(Value::Integer(d)) => {
            double_reply(out, d as f64);
            return Vec::new();
        }
        _ => {}
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("big_number") {
        let text: Vec<u8> = s
            .as_bytes()
            .iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
            .collect();
        big_number_reply(out, &text);
        return Vec::new();
    }
    if let Ok(Value::Table(v)) = t.raw_get::<Value>("verbatim_string") {
        if let (Ok(Value::String(format)), Ok(Value::String(text))) =
            (v.raw_get::<Value>("format"), v.raw_get::<Value>("string"))
        {
            verbatim_reply(out, &format.as_bytes(), &text.as_bytes());
            return Vec::new();
        }
    }
    if let Ok(Value::Table(map)) = t.raw_get::<Value>("map") {
        let pairs: Vec<(Value, Value)> =
            map.pairs::<Value, Value>().filter_map(Result::ok).collect();
        out.map(pairs.len());
        return pairs.into_iter().flat_map(|(k, v)| [k, v]).collect();
    }
    if let Ok(Value::Table(set)) = t.raw_get::<Value>("set") {
        let keys: Vec<Value> = set
            .pairs::<Value, Value>()
            .filter_map(|p| p.ok().map(|(k, _)| k))
            .collect();
        out.set(keys.len());
        return keys;
    }
    let mut items = Vec::new();
    for i in 1.. {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(v),
        }
    }
    out.array(items.len());
    items
}

/// addReplyDouble: `%.17g`, infinities spelled out.
fn double_reply(out: &mut ReplyBuf, d: f64) {
    let text = if d.is_infinite() {
        if d > 0.0 {
            "inf".to_string()
        } else {
            "-inf".to_string()
        }
    } else {
        crate::util::num::format_f64_g17(d)
    };
    out.double_str(&text);
}

/// addReplyBigNum: `(` in RESP3, a bulk string in RESP2.
fn big_number_reply(out: &mut ReplyBuf, text: &[u8]) {
    if out.is_resp3() {
        let mut line = b"(".to_vec();
        line.extend_from_slice(text);
        line.extend_from_slice(b"\r\n");
        out.raw(&line);
    } else {
        out.bulk(text);
    }
}

/// addReplyVerbatim: `=` with the format in RESP3, a bulk string in RESP2.
fn verbatim_reply(out: &mut ReplyBuf, format: &[u8], text: &[u8]) {
    if out.is_resp3() {
        let mut bytes = format!("={}\r\n", text.len() + 4).into_bytes();
        let mut fmt = [b' '; 3];
        for (d, s) in fmt.iter_mut().zip(format) {
            *d = *s;
        }
        bytes.extend_from_slice(&fmt);
        bytes.push(b':');
        bytes.extend_from_slice(text);
        bytes.extend_from_slice(b"\r\n");
        out.raw(&bytes);
    } else {
        out.bulk(text);
    }
}
