//! Lua CJSON 2.1.0 (`cjson`) with Redis's defaults: numbers as `%.14g`, `/`
//! escaped, empty tables as objects, sparse arrays refused past ratio 2 / safe
//! 10, nesting limited to 1000 both ways, `cjson.null` a NULL light userdata.

use mlua::{LightUserData, Lua, Table, Value, Variadic};

use super::argerror;
use crate::script::api::lua_error;

const MAX_DEPTH: usize = 1000;
const SPARSE_RATIO: usize = 2;
const SPARSE_SAFE: usize = 10;

fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

/// Lua's `%.14g` (LUAI_NUMFFORMAT), as cjson formats numbers.
fn format_number(lua: &Lua, n: f64) -> mlua::Result<Vec<u8>> {
    Ok(lua
        .coerce_string(Value::Number(n))?
        .map(|s| s.as_bytes().to_vec())
        .unwrap_or_default())
}

fn encode_exception(lua: &Lua, value: &Value, reason: &str) -> mlua::Error {
    lua_error(
        lua,
        &format!("Cannot serialise {}: {reason}", super::lua_type_name(value)),
    )
}

/// How many bytes `c` takes inside a JSON string.
fn escaped_width(c: u8) -> usize {
    match c {
        b'"' | b'\\' | b'/' | b'\x08' | b'\t' | b'\n' | b'\x0c' | b'\r' => 2,
        0..=0x1f | 0x7f => 6,
        _ => 1,
    }
}

/// Appends `s` as a JSON string, unless that would pass what a Lua string may
/// hold (checked before the escapes grow the buffer up to six-fold).
fn append_string(out: &mut Vec<u8>, s: &[u8]) -> mlua::Result<()> {
    let width: usize = s.iter().map(|&c| escaped_width(c)).sum();
    super::check_output_len(out.len().saturating_add(width).saturating_add(2))?;
    out.reserve(width + 2);
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\x08' => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\x0c' => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            _ => out.push(c),
        }
    }
    out.push(b'"');
    Ok(())
}

fn append_number(lua: &Lua, out: &mut Vec<u8>, value: &Value, n: f64) -> mlua::Result<()> {
    if !n.is_finite() {
        return Err(encode_exception(lua, value, "must not be NaN or Inf"));
    }
    out.extend_from_slice(&format_number(lua, n)?);
    Ok(())
}

/// The array length of `t`, or None when it must be an object (cjson's
/// lua_array_length).
fn array_length(lua: &Lua, t: &Table) -> mlua::Result<Option<usize>> {
    let mut max = 0usize;
    let mut items = 0usize;
    for pair in t.clone().pairs::<Value, Value>() {
        let (k, _) = pair?;
        let index = match k {
            Value::Integer(i) if i >= 1 => i as usize,
            Value::Number(n) if n >= 1.0 && n.floor() == n => n as usize,
            _ => return Ok(None),
        };
        max = max.max(index);
        items += 1;
    }
    if max > items.saturating_mul(SPARSE_RATIO) && max > SPARSE_SAFE {
        return Err(encode_exception(
            lua,
            &Value::Table(t.clone()),
            "excessively sparse array",
        ));
    }
    Ok(Some(max))
}

fn encode_value(lua: &Lua, out: &mut Vec<u8>, value: &Value, depth: usize) -> mlua::Result<()> {
    super::check_output(out)?;
    match value {
        Value::String(s) => append_string(out, &s.as_bytes())?,
        Value::Integer(i) => append_number(lua, out, value, *i as f64)?,
        Value::Number(n) => append_number(lua, out, value, *n)?,
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Table(t) => {
            let depth = depth + 1;
            if depth > MAX_DEPTH {
                return Err(lua_error(
                    lua,
                    &format!("Cannot serialise, excessive nesting ({depth})"),
                ));
            }
            match array_length(lua, t)? {
                Some(len) if len > 0 => encode_array(lua, out, t, len, depth)?,
                _ => encode_object(lua, out, t, depth)?,
            }
        }
        other => return Err(encode_exception(lua, other, "type not supported")),
    }
    Ok(())
}

fn encode_array(
    lua: &Lua,
    out: &mut Vec<u8>,
    t: &Table,
    len: usize,
    depth: usize,
) -> mlua::Result<()> {
    out.push(b'[');
    for i in 1..=len {
        if i > 1 {
            out.push(b',');
        }
        let v: Value = t.raw_get(i)?;
        encode_value(lua, out, &v, depth)?;
    }
    out.push(b']');
    Ok(())
}

fn encode_object(lua: &Lua, out: &mut Vec<u8>, t: &Table, depth: usize) -> mlua::Result<()> {
    out.push(b'{');
    let mut first = true;
    for pair in t.clone().pairs::<Value, Value>() {
        let (k, v) = pair?;
        if !first {
            out.push(b',');
        }
        first = false;
        match &k {
            Value::String(s) => append_string(out, &s.as_bytes())?,
            Value::Integer(_) | Value::Number(_) => {
                out.push(b'"');
                let n = match k {
                    Value::Integer(i) => i as f64,
                    Value::Number(n) => n,
                    _ => 0.0,
                };
                append_number(lua, out, &k, n)?;
                out.push(b'"');
            }
            other => {
                return Err(encode_exception(
                    lua,
                    other,
                    "table key must be a number or string",
                ))
            }
        }
        out.push(b':');
        encode_value(lua, out, &v, depth)?;
    }
    out.push(b'}');
    Ok(())
}

/// cjson.encode(value)
fn encode(lua: &Lua, args: &[Value]) -> mlua::Result<mlua::String> {
    if args.len() != 1 {
        return Err(argerror(lua, 1, "expected 1 argument"));
    }
    let mut out = Vec::new();
    encode_value(lua, &mut out, &args[0], 0)?;
    lua.create_string(out)
}

// ---------------------------------------------------------------------------
// Decoding

#[derive(Debug, Clone, Copy, PartialEq)]
enum Token {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Number(f64),
    Boolean(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl Token {
    fn name(self) -> &'static str {
        match self {
            Token::ObjBegin => "T_OBJ_BEGIN",
            Token::ObjEnd => "T_OBJ_END",
            Token::ArrBegin => "T_ARR_BEGIN",
            Token::ArrEnd => "T_ARR_END",
            Token::Str => "T_STRING",
            Token::Number(_) => "T_NUMBER",
            Token::Boolean(_) => "T_BOOLEAN",
            Token::Null => "T_NULL",
            Token::Colon => "T_COLON",
            Token::Comma => "T_COMMA",
            Token::End => "T_END",
            Token::Error(msg) => msg,
        }
    }
}

struct Decoder<'a> {
    lua: &'a Lua,
    /// The text up to its first NUL, as the C parser sees it.
    data: &'a [u8],
    pos: usize,
    /// Where the current token started.
    index: usize,
    string: Vec<u8>,
    depth: usize,
}

fn hex4(s: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(s.get(..4)?).ok()?;
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

impl Decoder<'_> {
    fn peek(&self) -> u8 {
        self.data.get(self.pos).copied().unwrap_or(0)
    }

    fn next_token(&mut self) -> Token {
        while matches!(self.peek(), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        self.index = self.pos;
        let rest = &self.data[self.pos.min(self.data.len())..];
        let single = match self.peek() {
            0 => return Token::End,
            b'{' => Some(Token::ObjBegin),
            b'}' => Some(Token::ObjEnd),
            b'[' => Some(Token::ArrBegin),
            b']' => Some(Token::ArrEnd),
            b':' => Some(Token::Colon),
            b',' => Some(Token::Comma),
            _ => None,
        };
        if let Some(token) = single {
            self.pos += 1;
            return token;
        }
        match self.peek() {
            b'"' => self.string_token(),
            b'-' | b'0'..=b'9' => self.number_token(),
            _ if rest.starts_with(b"true") => {
                self.pos += 4;
                Token::Boolean(true)
            }
            _ if rest.starts_with(b"false") => {
                self.pos += 5;
                Token::Boolean(false)
            }
            _ if rest.starts_with(b"null") => {
                self.pos += 4;
                Token::Null
            }
            _ if is_invalid_number_word(rest) => self.number_token(),
            _ => Token::Error("invalid token"),
        }
    }

    /// strtod over the rest of the text, as cjson reads numbers.
    fn number_token(&mut self) -> Token {
        let rest = &self.data[self.pos..];
        let len = rest
            .iter()
            .position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E' | b'x' | b'X' | b'a'..=b'f' | b'A'..=b'F' | b'n' | b'N' | b'i' | b'I' | b't' | b'T' | b'y' | b'Y'))
            .unwrap_or(rest.len());
        for end in (1..=len).rev() {
            if let Some(n) = parse_strtod(&rest[..end]) {
                self.pos += end;
                return Token::Number(n);
            }
        }
        Token::Error("invalid number")
    }

    fn string_token(&mut self) -> Token {
        self.pos += 1;
        self.string.clear();
        loop {
            let c = self.peek();
            match c {
                0 => {
                    self.index = self.pos;
                    return Token::Error("unexpected end of string");
                }
                b'"' => {
                    self.pos += 1;
                    return Token::Str;
                }
                b'\\' => {
                    let escaped = self.data.get(self.pos + 1).copied().unwrap_or(0);
                    let ch = match escaped {
                        b'b' => b'\x08',
                        b'f' => b'\x0c',
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'"' | b'\\' | b'/' => escaped,
                        b'u' => {
                            if !self.unicode_escape() {
                                self.index = self.pos;
                                return Token::Error("invalid unicode escape code");
                            }
                            continue;
                        }
                        _ => {
                            self.index = self.pos;
                            return Token::Error("invalid escape code");
                        }
                    };
                    self.string.push(ch);
                    self.pos += 2;
                }
                _ => {
                    self.string.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// `\uXXXX`, with a surrogate pair when the first is a high surrogate.
    fn unicode_escape(&mut self) -> bool {
        let Some(mut cp) = hex4(&self.data[self.pos + 2..]) else {
            return false;
        };
        let mut len = 6;
        if (0xDC00..=0xDFFF).contains(&cp) {
            return false;
        }
        if (0xD800..=0xDBFF).contains(&cp) {
            let tail = &self.data[self.pos + 6..];
            if !tail.starts_with(b"\\u") {
                return false;
            }
            let Some(low) = hex4(&tail[2..]) else {
                return false;
            };
            if !(0xDC00..=0xDFFF).contains(&low) {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        let Some(ch) = char::from_u32(cp) else {
            return false;
        };
        let mut buf = [0u8; 4];
        self.string
            .extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        self.pos += len;
        true
    }

    fn parse_error(&self, expected: &str, found: Token) -> mlua::Error {
        lua_error(
            self.lua,
            &format!(
                "Expected {expected} but found {} at character {}",
                found.name(),
                self.index + 1
            ),
        )
    }

    fn value(&mut self, token: Token) -> mlua::Result<Value> {
        match token {
            Token::Str => Ok(Value::String(self.lua.create_string(&self.string)?)),
            Token::Number(n) => Ok(Value::Number(n)),
            Token::Boolean(b) => Ok(Value::Boolean(b)),
            Token::Null => Ok(null()),
            Token::ObjBegin => self.object(),
            Token::ArrBegin => self.array(),
            other => Err(self.parse_error("value", other)),
        }
    }

    fn descend(&mut self) -> mlua::Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(lua_error(
                self.lua,
                &format!(
                    "Found too many nested data structures ({}) at character {}",
                    self.depth,
                    self.index + 1
                ),
            ));
        }
        Ok(())
    }

    fn object(&mut self) -> mlua::Result<Value> {
        self.descend()?;
        let t = self.lua.create_table()?;
        let mut token = self.next_token();
        if token == Token::ObjEnd {
            self.depth -= 1;
            return Ok(Value::Table(t));
        }
        loop {
            if token != Token::Str {
                return Err(self.parse_error("object key string", token));
            }
            let key = self.lua.create_string(&self.string)?;
            token = self.next_token();
            if token != Token::Colon {
                return Err(self.parse_error("colon", token));
            }
            token = self.next_token();
            let v = self.value(token)?;
            t.raw_set(key, v)?;
            token = self.next_token();
            if token == Token::ObjEnd {
                self.depth -= 1;
                return Ok(Value::Table(t));
            }
            if token != Token::Comma {
                return Err(self.parse_error("comma or object end", token));
            }
            token = self.next_token();
        }
    }

    fn array(&mut self) -> mlua::Result<Value> {
        self.descend()?;
        let t = self.lua.create_table()?;
        let mut token = self.next_token();
        if token == Token::ArrEnd {
            self.depth -= 1;
            return Ok(Value::Table(t));
        }
        for i in 1.. {
            let v = self.value(token)?;
            t.raw_set(i, v)?;
            token = self.next_token();
            if token == Token::ArrEnd {
                break;
            }
            if token != Token::Comma {
                return Err(self.parse_error("comma or array end", token));
            }
            token = self.next_token();
        }
        self.depth -= 1;
        Ok(Value::Table(t))
    }
}

/// "inf", "nan" and hex numbers, which cjson hands to strtod (with
/// decode_invalid_numbers on, its default).
fn is_invalid_number_word(s: &[u8]) -> bool {
    let lower: Vec<u8> = s.iter().take(3).map(u8::to_ascii_lowercase).collect();
    lower == b"inf" || lower == b"nan"
}

/// C strtod over exactly these bytes: decimal, hex, inf and nan.
fn parse_strtod(s: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(s).ok()?;
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let lower = body.to_ascii_lowercase();
    let v = if lower == "inf" || lower == "infinity" {
        f64::INFINITY
    } else if lower == "nan" {
        f64::NAN
    } else if let Some(hex) = lower.strip_prefix("0x") {
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u64::from_str_radix(hex, 16).ok()? as f64
    } else {
        if body.is_empty()
            || !body
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_digit() || b == b'.')
        {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// cjson.decode(text)
fn decode(lua: &Lua, args: &[Value]) -> mlua::Result<Value> {
    if args.len() != 1 {
        return Err(argerror(lua, 1, "expected 1 argument"));
    }
    let text = super::check_string(lua, args, 1)?;
    let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
    let mut decoder = Decoder {
        lua,
        data: &text[..end],
        pos: 0,
        index: 0,
        string: Vec::new(),
        depth: 0,
    };
    let token = decoder.next_token();
    let value = decoder.value(token)?;
    let token = decoder.next_token();
    if token != Token::End {
        return Err(decoder.parse_error("the end", token));
    }
    Ok(value)
}

/// The configuration functions answer Redis's defaults; changing them is not
/// supported (the table is shared by every script, so a change would leak).
fn config_getter(lua: &Lua, values: &'static [i64]) -> mlua::Result<mlua::Function> {
    lua.create_function(move |_, _args: Variadic<Value>| {
        Ok(Variadic::from_iter(
            values.iter().map(|&v| Value::Integer(v)),
        ))
    })
}

pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("new", lua.create_function(|lua, ()| table(lua))?)?;
    t.raw_set(
        "encode",
        lua.create_function(|lua, args: Variadic<Value>| encode(lua, &args))?,
    )?;
    t.raw_set(
        "decode",
        lua.create_function(|lua, args: Variadic<Value>| decode(lua, &args))?,
    )?;
    t.raw_set("encode_max_depth", config_getter(lua, &[1000])?)?;
    t.raw_set("decode_max_depth", config_getter(lua, &[1000])?)?;
    t.raw_set("encode_number_precision", config_getter(lua, &[14])?)?;
    t.raw_set("encode_keep_buffer", config_getter(lua, &[1])?)?;
    t.raw_set("encode_sparse_array", config_getter(lua, &[0, 2, 10])?)?;
    t.raw_set("encode_invalid_numbers", config_getter(lua, &[0])?)?;
    t.raw_set("decode_invalid_numbers", config_getter(lua, &[1])?)?;
    t.raw_set("null", null())?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    Ok(t)
}
