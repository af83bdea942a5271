//! Lua CJSON 2.1.0 (`cjson`) as Redis 7.0.15 links it (lua_cjson.c, fpconv.c).
//!
//! Each module table has its own configuration, as the C library keeps it in
//! an upvalue: the table a Lua state installs lives as long as the state, so a
//! script's `cjson.encode_max_depth(5)` holds for the later scripts until
//! SCRIPT FLUSH, and the functions engine keeps its own (see
//! [`crate::script::Scripts`]); `cjson.new()` makes a table with the defaults.
//!
//! Encoder and decoder keep nested tables on an explicit stack, never the
//! native one, and fail where the C code fails: past the configured depth, or
//! where its `lua_checkstack` would find no room in the C function's
//! LUAI_MAXCSTACK slots (see [`super::C_STACK_SLOTS_MAX`]).

use std::cell::Cell;
use std::rc::Rc;

use mlua::{Function, LightUserData, Lua, Table, Value, Variadic};

use super::{argerror, check_string, C_STACK_SLOTS_MAX};
use crate::script::api::lua_error;

/// json_config_t: what the configuration functions set.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    sparse_convert: i32,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    /// 0: refuse NaN and Inf; 1: write them (`nan`, `inf`); 2: as `null`.
    encode_invalid_numbers: i32,
    decode_invalid_numbers: i32,
    /// Only memory management in C; reported and set, nothing else.
    encode_keep_buffer: i32,
    encode_number_precision: i32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sparse_convert: 0,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: 0,
            decode_invalid_numbers: 1,
            encode_keep_buffer: 1,
            encode_number_precision: 14,
        }
    }
}

/// One module table's configuration, shared by its functions.
pub type Shared = Rc<Cell<Config>>;

/// What a module table's functions need besides their configuration.
#[derive(Clone)]
pub struct Module {
    config: Shared,
    /// Lists a table's keys and values with Lua's own `next` (see
    /// [`object_entries`]).
    entries: Function,
}

/// Lua code listing a table's pairs into two arrays, in `next` order. It runs
/// with the stock `next` captured at install time (the sandbox replaces the
/// global one).
const ENTRIES: &str = "local next = ...
return function(t)
    local keys, values, n = {}, {}, 0
    local k, v = next(t)
    while k ~= nil do
        n = n + 1
        keys[n] = k
        values[n] = v
        k, v = next(t, k)
    end
    return keys, values, n
end";

/// The helper behind [`Module::entries`], made once per Lua state with the
/// base library's `next`.
pub fn entries_helper(lua: &Lua, next: Function) -> mlua::Result<Function> {
    lua.load(ENTRIES)
        .set_name("=ember_cjson")
        .set_mode(mlua::ChunkMode::Text)
        .call(next)
}

/// The stack slots json_encode and json_decode hold before any nesting: their
/// argument.
const BASE_SLOTS: usize = 1;

fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

// ---------------------------------------------------------------------------
// Configuration

/// The `n`th argument (1-based), nil when absent (json_arg_init pads with nil).
fn arg(args: &[Value], n: usize) -> &Value {
    args.get(n - 1).unwrap_or(&Value::Nil)
}

/// json_arg_init: at most `max` arguments.
fn arg_init(lua: &Lua, args: &[Value], max: usize) -> mlua::Result<()> {
    if args.len() > max {
        return Err(argerror(lua, max + 1, "found too many arguments"));
    }
    Ok(())
}

/// json_integer_option: argument `n`, when given, must read as a C int in
/// `min..=max` (the range error names argument 1, as the C code does).
fn integer_option(
    lua: &Lua,
    args: &[Value],
    n: usize,
    setting: &mut i32,
    min: i32,
    max: i32,
) -> mlua::Result<Value> {
    if !matches!(arg(args, n), Value::Nil) {
        let value = super::check_integer(lua, args, n)? as i32;
        if value < min || value > max {
            let msg = format!("expected integer between {min} and {max}");
            return Err(argerror(lua, 1, &msg));
        }
        *setting = value;
    }
    Ok(Value::Integer(i64::from(*setting)))
}

/// json_enum_option with `bool_true` 1: a boolean, or one of `options`
/// (luaL_checkoption); answered as a boolean while 0 or 1.
fn enum_option(
    lua: &Lua,
    args: &[Value],
    n: usize,
    setting: &mut i32,
    options: &[&str],
) -> mlua::Result<Value> {
    match arg(args, n) {
        Value::Nil => {}
        Value::Boolean(b) => *setting = i32::from(*b),
        _ => *setting = check_option(lua, args, n, options)?,
    }
    Ok(match *setting {
        0 | 1 => Value::Boolean(*setting == 1),
        i => Value::String(lua.create_string(options.get(i as usize).unwrap_or(&""))?),
    })
}

/// luaL_checkoption without a default: the string (as C sees it, up to a NUL)
/// must be one of `options`.
fn check_option(lua: &Lua, args: &[Value], n: usize, options: &[&str]) -> mlua::Result<i32> {
    let name = check_string(lua, args, n)?;
    let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
    match options.iter().position(|o| o.as_bytes() == name) {
        Some(i) => Ok(i as i32),
        None => {
            let msg = format!("invalid option '{}'", String::from_utf8_lossy(name));
            Err(argerror(lua, n, &msg))
        }
    }
}

const BOOL_OPTIONS: &[&str] = &["off", "on"];
const INVALID_NUMBER_OPTIONS: &[&str] = &["off", "on", "null"];

/// Runs a configuration function on the module's settings; what it changed
/// before failing stays changed, as in C.
fn configure<R>(
    config: &Shared,
    f: impl FnOnce(&mut Config) -> mlua::Result<R>,
) -> mlua::Result<R> {
    let mut cfg = config.get();
    let result = f(&mut cfg);
    config.set(cfg);
    result
}

/// The configuration functions, by name.
fn config_function(lua: &Lua, config: &Shared, name: &'static str) -> mlua::Result<Function> {
    let config = config.clone();
    lua.create_function(move |lua, args: Variadic<Value>| {
        configure(&config, |cfg| {
            let one = |lua: &Lua, setting: &mut i32, min: i32, max: i32| {
                arg_init(lua, &args, 1)?;
                integer_option(lua, &args, 1, setting, min, max)
            };
            let values = match name {
                "encode_sparse_array" => {
                    arg_init(lua, &args, 3)?;
                    vec![
                        enum_option(lua, &args, 1, &mut cfg.sparse_convert, BOOL_OPTIONS)?,
                        integer_option(lua, &args, 2, &mut cfg.sparse_ratio, 0, i32::MAX)?,
                        integer_option(lua, &args, 3, &mut cfg.sparse_safe, 0, i32::MAX)?,
                    ]
                }
                "encode_max_depth" => vec![one(lua, &mut cfg.encode_max_depth, 1, i32::MAX)?],
                "decode_max_depth" => vec![one(lua, &mut cfg.decode_max_depth, 1, i32::MAX)?],
                "encode_number_precision" => {
                    vec![one(lua, &mut cfg.encode_number_precision, 1, 14)?]
                }
                "encode_keep_buffer" => {
                    arg_init(lua, &args, 1)?;
                    vec![enum_option(
                        lua,
                        &args,
                        1,
                        &mut cfg.encode_keep_buffer,
                        BOOL_OPTIONS,
                    )?]
                }
                "encode_invalid_numbers" => {
                    arg_init(lua, &args, 1)?;
                    let setting = &mut cfg.encode_invalid_numbers;
                    vec![enum_option(lua, &args, 1, setting, INVALID_NUMBER_OPTIONS)?]
                }
                _ => {
                    arg_init(lua, &args, 1)?;
                    let setting = &mut cfg.decode_invalid_numbers;
                    vec![enum_option(lua, &args, 1, setting, BOOL_OPTIONS)?]
                }
            };
            Ok(Variadic::from_iter(values))
        })
    })
}

const CONFIG_FUNCTIONS: &[&str] = &[
    "encode_sparse_array",
    "encode_max_depth",
    "decode_max_depth",
    "encode_number_precision",
    "encode_keep_buffer",
    "encode_invalid_numbers",
    "decode_invalid_numbers",
];

// ---------------------------------------------------------------------------
// Encoding

/// `printf("%.<precision>g", n)` as glibc prints it (fpconv_g_fmt), for
/// precision 1 to 14.
pub fn format_g(n: f64, precision: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(24);
    if n.is_sign_negative() {
        out.push(b'-');
    }
    if n.is_nan() {
        out.extend_from_slice(b"nan");
        return out;
    }
    if n.is_infinite() {
        out.extend_from_slice(b"inf");
        return out;
    }
    if n == 0.0 {
        out.push(b'0');
        return out;
    }
    // Rust's `{:.Ne}` rounds the exact binary value half to even, as glibc.
    let sci = format!("{:.*e}", precision.saturating_sub(1), n.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let kept = digits.iter().rposition(|&d| d != b'0').map_or(1, |i| i + 1);
    let digits = &digits[..kept];
    if exp < -4 || exp >= precision as i32 {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.extend_from_slice(
            format!("e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs()).as_bytes(),
        );
    } else if exp < 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-exp - 1) as usize));
        out.extend_from_slice(digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.extend_from_slice(digits);
            out.extend(std::iter::repeat_n(b'0', int_len - digits.len()));
        } else {
            out.extend_from_slice(&digits[..int_len]);
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        }
    }
    out
}

/// C's `(int)d` for a double that is at least 1 (cvttsd2si: out of range
/// gives INT_MIN).
fn c_int(d: f64) -> i32 {
    if d < 2_147_483_648.0 {
        d as i32
    } else {
        i32::MIN
    }
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

/// The number a Lua value holds, if it is one.
fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

/// mlua reads a Lua 5.1 number within EPSILON of an integer as that integer,
/// so `Integer(0)` may stand for -0 or a tiny number: re-read such a value
/// from `t[key]` as a float, which is exact.
fn exact<K: mlua::IntoLua + Clone>(t: &Table, key: K, v: Value) -> mlua::Result<Value> {
    if v == Value::Integer(0) {
        return Ok(Value::Number(t.raw_get::<f64>(key)?));
    }
    Ok(v)
}

/// A table being written.
enum Frame {
    /// Elements 1..=len, the next one to write.
    Array { table: Table, len: i32, next: i32 },
    /// The pairs in `next` order, the next one to write.
    Object {
        entries: Vec<(Value, Value)>,
        next: usize,
    },
}

impl Frame {
    /// Lua stack slots the C code holds while inside this table: the element,
    /// or the key and the value.
    fn slots(&self) -> usize {
        match self {
            Frame::Array { .. } => 1,
            Frame::Object { .. } => 2,
        }
    }
}

struct Encoder<'a> {
    lua: &'a Lua,
    module: &'a Module,
    cfg: Config,
    out: Vec<u8>,
    stack: Vec<Frame>,
    /// Slots the frames on the stack hold (the sum of their `slots`).
    held: usize,
}

impl Encoder<'_> {
    fn exception(&self, value: &Value, reason: &str) -> mlua::Error {
        let what = super::lua_type_name(value);
        lua_error(self.lua, &format!("Cannot serialise {what}: {reason}"))
    }

    /// json_append_number for `value` (a number, or a key holding one).
    fn number(&mut self, value: &Value, n: f64) -> mlua::Result<()> {
        match self.cfg.encode_invalid_numbers {
            0 if !n.is_finite() => return Err(self.exception(value, "must not be NaN or Inf")),
            0 => {}
            1 if n.is_nan() => {
                self.out.extend_from_slice(b"nan");
                return Ok(());
            }
            1 => {}
            _ if !n.is_finite() => {
                self.out.extend_from_slice(b"null");
                return Ok(());
            }
            _ => {}
        }
        let precision = self.cfg.encode_number_precision.clamp(1, 14) as usize;
        self.out.extend_from_slice(&format_g(n, precision));
        Ok(())
    }

    /// lua_array_length: the length of a table that is an array, else -1
    /// (an object), or the error for an excessively sparse array.
    fn array_length(&self, t: &Table) -> mlua::Result<i32> {
        let (mut max, mut items) = (0i32, 0i32);
        // Stops at the first key that is not a positive integer: every key
        // mlua may misread (see `exact`) is one, so no misread key is ever
        // handed back to `next`.
        for pair in t.pairs::<Value, Value>() {
            let (k, _) = pair?;
            match number_of(&k) {
                Some(k) if k != 0.0 && k.floor() == k && k >= 1.0 => {
                    if k > f64::from(max) {
                        max = c_int(k);
                    }
                    items = items.wrapping_add(1);
                }
                _ => return Ok(-1),
            }
        }
        let ratio = self.cfg.sparse_ratio;
        if ratio > 0 && max > items.wrapping_mul(ratio) && max > self.cfg.sparse_safe {
            if self.cfg.sparse_convert == 0 {
                return Err(self.exception(&Value::Table(t.clone()), "excessively sparse array"));
            }
            return Ok(-1);
        }
        Ok(max)
    }

    /// json_append_data for one value: scalars are written, a table is
    /// opened and pushed.
    fn value(&mut self, value: &Value) -> mlua::Result<()> {
        super::check_output(&self.out)?;
        match value {
            Value::String(s) => append_string(&mut self.out, &s.as_bytes())?,
            Value::Integer(i) => self.number(value, *i as f64)?,
            Value::Number(n) => self.number(value, *n)?,
            Value::Boolean(true) => self.out.extend_from_slice(b"true"),
            Value::Boolean(false) => self.out.extend_from_slice(b"false"),
            Value::Nil => self.out.extend_from_slice(b"null"),
            Value::LightUserData(p) if p.0.is_null() => self.out.extend_from_slice(b"null"),
            Value::Table(t) => self.open(t)?,
            other => return Err(self.exception(other, "type not supported")),
        }
        Ok(())
    }

    /// json_check_encode_depth, then the table's `[` or `{`.
    fn open(&mut self, t: &Table) -> mlua::Result<()> {
        let depth = self.stack.len() + 1;
        let used = BASE_SLOTS + self.held;
        if depth > self.cfg.encode_max_depth as usize || used + 3 > C_STACK_SLOTS_MAX {
            let msg = format!("Cannot serialise, excessive nesting ({depth})");
            return Err(lua_error(self.lua, &msg));
        }
        let len = self.array_length(t)?;
        let frame = if len > 0 {
            self.out.push(b'[');
            Frame::Array {
                table: t.clone(),
                len,
                next: 1,
            }
        } else {
            self.out.push(b'{');
            Frame::Object {
                entries: object_entries(&self.module.entries, t)?,
                next: 0,
            }
        };
        self.held += frame.slots();
        self.stack.push(frame);
        Ok(())
    }

    /// The next value of the innermost table (its key written), or None once
    /// the table is closed.
    fn step(&mut self) -> mlua::Result<Option<Value>> {
        let Some(frame) = self.stack.last_mut() else {
            return Ok(None);
        };
        match frame {
            Frame::Array { table, len, next } if *next <= *len => {
                let i = *next;
                *next += 1;
                if i > 1 {
                    self.out.push(b',');
                }
                let v: Value = table.raw_get(i)?;
                Ok(Some(exact(table, i, v)?))
            }
            Frame::Object { entries, next } if *next < entries.len() => {
                let (k, v) = std::mem::replace(&mut entries[*next], (Value::Nil, Value::Nil));
                *next += 1;
                if *next > 1 {
                    self.out.push(b',');
                }
                self.key(&k)?;
                Ok(Some(v))
            }
            Frame::Array { .. } => {
                self.close(b']');
                Ok(None)
            }
            Frame::Object { .. } => {
                self.close(b'}');
                Ok(None)
            }
        }
    }

    fn close(&mut self, end: u8) {
        self.out.push(end);
        if let Some(frame) = self.stack.pop() {
            self.held -= frame.slots();
        }
    }

    /// An object key and its colon: numbers quoted, strings as strings.
    fn key(&mut self, k: &Value) -> mlua::Result<()> {
        match k {
            Value::String(s) => append_string(&mut self.out, &s.as_bytes())?,
            Value::Integer(_) | Value::Number(_) => {
                self.out.push(b'"');
                self.number(k, number_of(k).unwrap_or(0.0))?;
                self.out.push(b'"');
            }
            other => return Err(self.exception(other, "table key must be a number or string")),
        }
        self.out.push(b':');
        Ok(())
    }

    fn run(mut self, value: &Value) -> mlua::Result<Vec<u8>> {
        self.value(value)?;
        while !self.stack.is_empty() {
            if let Some(v) = self.step()? {
                self.value(&v)?;
            }
        }
        Ok(self.out)
    }
}

/// A table's pairs in `next` order, numbers exact (see [`exact`]).
fn object_entries(helper: &Function, t: &Table) -> mlua::Result<Vec<(Value, Value)>> {
    let mut entries = Vec::new();
    let mut misread_key = false;
    t.for_each::<Value, Value>(|k, v| {
        misread_key |= k == Value::Integer(0);
        entries.push((k, v));
        Ok(())
    })?;
    if misread_key {
        let (keys, values, n): (Table, Table, usize) = helper.call(t)?;
        entries.clear();
        for i in 1..=n {
            let k = exact(&keys, i, keys.raw_get(i)?)?;
            let v = exact(&values, i, values.raw_get(i)?)?;
            entries.push((k, v));
        }
        return Ok(entries);
    }
    for (k, v) in &mut entries {
        if *v == Value::Integer(0) {
            *v = exact(t, k.clone(), Value::Integer(0))?;
        }
    }
    Ok(entries)
}

/// cjson.encode(value)
fn encode(lua: &Lua, module: &Module, args: &[Value]) -> mlua::Result<mlua::String> {
    if args.len() != 1 {
        return Err(argerror(lua, 1, "expected 1 argument"));
    }
    let encoder = Encoder {
        lua,
        module,
        cfg: module.config.get(),
        out: Vec::new(),
        stack: Vec::new(),
        held: 0,
    };
    lua.create_string(encoder.run(&args[0])?)
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

/// A table being read.
enum Open {
    Array { table: Table, next: i64 },
    Object { table: Table, key: mlua::String },
}

impl Open {
    /// Lua stack slots the C code holds while inside it: the table, and an
    /// object's key.
    fn slots(&self) -> usize {
        match self {
            Open::Array { .. } => 1,
            Open::Object { .. } => 2,
        }
    }
}

struct Decoder<'a> {
    lua: &'a Lua,
    cfg: Config,
    /// The text up to its first NUL, as the C parser sees it.
    data: &'a [u8],
    pos: usize,
    /// Where the current token started (or the error was found).
    index: usize,
    string: Vec<u8>,
    stack: Vec<Open>,
    held: usize,
}

fn hex4(s: &[u8]) -> Option<u32> {
    let digits = s.get(..4)?;
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

impl Decoder<'_> {
    fn peek(&self) -> u8 {
        self.data.get(self.pos).copied().unwrap_or(0)
    }

    fn rest(&self) -> &[u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    fn next_token(&mut self) -> Token {
        while matches!(self.peek(), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        self.index = self.pos;
        let single = match self.peek() {
            0 => return Token::End,
            b'{' => Token::ObjBegin,
            b'}' => Token::ObjEnd,
            b'[' => Token::ArrBegin,
            b']' => Token::ArrEnd,
            b':' => Token::Colon,
            b',' => Token::Comma,
            b'"' => return self.string_token(),
            b'-' | b'0'..=b'9' => {
                if self.cfg.decode_invalid_numbers == 0 && is_invalid_number(self.rest()) {
                    return Token::Error("invalid number");
                }
                return self.number_token();
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => return self.word_token(),
            _ => return Token::Error("invalid token"),
        };
        self.pos += 1;
        single
    }

    /// Tokens starting with a letter or `+`: literals, or the numbers
    /// strtod reads that JSON does not allow (when decode_invalid_numbers).
    fn word_token(&mut self) -> Token {
        let rest = self.rest();
        for (word, token) in [
            (&b"true"[..], Token::Boolean(true)),
            (b"false", Token::Boolean(false)),
            (b"null", Token::Null),
        ] {
            if rest.starts_with(word) {
                self.pos += word.len();
                return token;
            }
        }
        if self.cfg.decode_invalid_numbers != 0 && is_invalid_number(rest) {
            return self.number_token();
        }
        Token::Error("invalid token")
    }

    fn number_token(&mut self) -> Token {
        match strtod(self.rest()) {
            Some((n, len)) => {
                self.pos += len;
                Token::Number(n)
            }
            None => Token::Error("invalid number"),
        }
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
        let Some(mut cp) = hex4(self.data.get(self.pos + 2..).unwrap_or(&[])) else {
            return false;
        };
        let mut len = 6;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 {
                return false;
            }
            let tail = self.data.get(self.pos + 6..).unwrap_or(&[]);
            if !tail.starts_with(b"\\u") {
                return false;
            }
            let Some(low) = hex4(&tail[2..]) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
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
        let msg = format!(
            "Expected {expected} but found {} at character {}",
            found.name(),
            self.index + 1
        );
        lua_error(self.lua, &msg)
    }

    /// json_decode_descend: one level deeper, within the configured depth and
    /// the C function's stack (`slots` for the new table and its contents).
    fn descend(&mut self, slots: usize) -> mlua::Result<()> {
        let depth = self.stack.len() + 1;
        let used = BASE_SLOTS + self.held;
        if depth > self.cfg.decode_max_depth as usize || used + slots > C_STACK_SLOTS_MAX {
            let msg = format!(
                "Found too many nested data structures ({depth}) at character {}",
                self.pos
            );
            return Err(lua_error(self.lua, &msg));
        }
        Ok(())
    }

    fn push(&mut self, open: Open) {
        self.held += open.slots();
        self.stack.push(open);
    }

    fn pop(&mut self) -> Option<Value> {
        let open = self.stack.pop()?;
        self.held -= open.slots();
        Some(Value::Table(match open {
            Open::Array { table, .. } | Open::Object { table, .. } => table,
        }))
    }

    /// An object's key and the colon after it.
    fn object_key(&mut self, token: Token) -> mlua::Result<mlua::String> {
        if token != Token::Str {
            return Err(self.parse_error("object key string", token));
        }
        let key = self.lua.create_string(&self.string)?;
        let token = self.next_token();
        if token != Token::Colon {
            return Err(self.parse_error("colon", token));
        }
        Ok(key)
    }

    /// json_process_value for `token`: a whole value, or None when a
    /// non-empty table was opened (its first value's token is returned in
    /// `token`).
    fn value(&mut self, token: &mut Token) -> mlua::Result<Option<Value>> {
        Ok(Some(match *token {
            Token::Str => Value::String(self.lua.create_string(&self.string)?),
            Token::Number(n) => Value::Number(n),
            Token::Boolean(b) => Value::Boolean(b),
            Token::Null => null(),
            Token::ObjBegin => {
                self.descend(3)?;
                let table = self.lua.create_table()?;
                let next = self.next_token();
                if next == Token::ObjEnd {
                    return Ok(Some(Value::Table(table)));
                }
                let key = self.object_key(next)?;
                self.push(Open::Object { table, key });
                *token = self.next_token();
                return Ok(None);
            }
            Token::ArrBegin => {
                self.descend(2)?;
                let table = self.lua.create_table()?;
                let next = self.next_token();
                if next == Token::ArrEnd {
                    return Ok(Some(Value::Table(table)));
                }
                self.push(Open::Array { table, next: 1 });
                *token = next;
                return Ok(None);
            }
            other => return Err(self.parse_error("value", other)),
        }))
    }

    /// Stores a finished value in the innermost table and reads what follows
    /// it: the next value's token (Some), or None when that table ended too
    /// (it is then `value`, to store in turn).
    fn store(&mut self, value: &mut Value) -> mlua::Result<Option<Token>> {
        let is_array = match self.stack.last_mut() {
            Some(Open::Array { table, next }) => {
                table.raw_set(*next, std::mem::replace(value, Value::Nil))?;
                *next += 1;
                true
            }
            Some(Open::Object { table, key }) => {
                table.raw_set(key.clone(), std::mem::replace(value, Value::Nil))?;
                false
            }
            None => return Ok(None),
        };
        let (end, expected) = if is_array {
            (Token::ArrEnd, "comma or array end")
        } else {
            (Token::ObjEnd, "comma or object end")
        };
        let token = self.next_token();
        if token == end {
            *value = self.pop().unwrap_or(Value::Nil);
            return Ok(None);
        }
        if token != Token::Comma {
            return Err(self.parse_error(expected, token));
        }
        let token = self.next_token();
        if is_array {
            return Ok(Some(token));
        }
        let key = self.object_key(token)?;
        if let Some(Open::Object { key: slot, .. }) = self.stack.last_mut() {
            *slot = key;
        }
        Ok(Some(self.next_token()))
    }

    /// The whole text's value.
    fn run(&mut self) -> mlua::Result<Value> {
        let mut token = self.next_token();
        loop {
            let Some(mut value) = self.value(&mut token)? else {
                continue;
            };
            loop {
                if self.stack.is_empty() {
                    return Ok(value);
                }
                if let Some(next) = self.store(&mut value)? {
                    token = next;
                    break;
                }
            }
        }
    }
}

/// json_is_invalid_number: what strtod reads but strict JSON refuses (a
/// leading `+`, hex, leading zeros, inf and nan).
fn is_invalid_number(s: &[u8]) -> bool {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    if at(0) == b'+' {
        return true;
    }
    let p = usize::from(at(0) == b'-');
    if at(p) == b'0' {
        let c = at(p + 1);
        return (c | 0x20) == b'x' || c.is_ascii_digit();
    }
    if at(p) <= b'9' {
        return false;
    }
    let word = s.get(p..p + 3).unwrap_or(&[]);
    word.eq_ignore_ascii_case(b"inf") || word.eq_ignore_ascii_case(b"nan")
}

/// Digits of `s` from `at` that satisfy `pred`: their count.
fn run_of(s: &[u8], at: usize, pred: impl Fn(u8) -> bool) -> usize {
    s.get(at..)
        .map_or(0, |r| r.iter().take_while(|&&b| pred(b)).count())
}

/// An exponent after `at` (`e`/`p`, a sign, digits), as strtod takes it only
/// with a digit: its length and value (saturated).
fn exponent(s: &[u8], at: usize) -> (usize, i64) {
    let sign = usize::from(matches!(s.get(at + 1), Some(b'+' | b'-')));
    let digits = run_of(s, at + 1 + sign, |b| b.is_ascii_digit());
    if digits == 0 {
        return (0, 0);
    }
    let text = &s[at + 1 + sign..at + 1 + sign + digits];
    let v = text
        .iter()
        .fold(0i64, |v, &d| (v * 10 + i64::from(d - b'0')).min(1 << 40));
    let negative = s.get(at + 1) == Some(&b'-');
    (1 + sign + digits, if negative { -v } else { v })
}

/// glibc's strtod at the start of `s`: the value and how many bytes it read,
/// or None when it read nothing. Decimal and hex numbers (overflow gives inf,
/// underflow 0, as strtod with ERANGE), inf, infinity and nan(...).
pub fn strtod(s: &[u8]) -> Option<(f64, usize)> {
    let sign = usize::from(matches!(s.first(), Some(b'+' | b'-')));
    let negative = s.first() == Some(&b'-');
    let body = s.get(sign..).unwrap_or(&[]);
    let starts =
        |word: &[u8]| body.len() >= word.len() && body[..word.len()].eq_ignore_ascii_case(word);
    let (magnitude, len) = if starts(b"infinity") {
        (f64::INFINITY, 8)
    } else if starts(b"inf") {
        (f64::INFINITY, 3)
    } else if starts(b"nan") {
        nan_with_payload(body)
    } else if starts(b"0x") && hex_mantissa_follows(&body[2..]) {
        hex_number(body)
    } else {
        decimal_number(body)?
    };
    Some((if negative { -magnitude } else { magnitude }, sign + len))
}

fn hex_mantissa_follows(s: &[u8]) -> bool {
    match s {
        [b'.', d, ..] => d.is_ascii_hexdigit(),
        [d, ..] => d.is_ascii_hexdigit(),
        [] => false,
    }
}

/// `nan` or `nan(chars)`; glibc reads the chars as a number (strtoull, base
/// 0) into the NaN's payload bits.
fn nan_with_payload(body: &[u8]) -> (f64, usize) {
    let nan = f64::NAN;
    if body.get(3) != Some(&b'(') {
        return (nan, 3);
    }
    let chars = run_of(body, 4, |b| b.is_ascii_alphanumeric() || b == b'_');
    if body.get(4 + chars) != Some(&b')') {
        return (nan, 3);
    }
    let payload = std::str::from_utf8(&body[4..4 + chars]).ok().and_then(|t| {
        let (digits, radix) = if let Some(h) = t.strip_prefix("0x").or(t.strip_prefix("0X")) {
            (h, 16)
        } else if t.len() > 1 && t.starts_with('0') {
            (&t[1..], 8)
        } else {
            (t, 10)
        };
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        Some(u64::from_str_radix(digits, radix).unwrap_or(u64::MAX))
    });
    // The payload fills the mantissa below the quiet bit.
    let bits = nan.to_bits() | (payload.unwrap_or(0) & ((1 << 51) - 1));
    (f64::from_bits(bits), 4 + chars + 1)
}

/// `0x` hex digits, `.` hex digits, `p` exponent.
fn hex_number(body: &[u8]) -> (f64, usize) {
    let int = &body[2..2 + run_of(body, 2, |b| b.is_ascii_hexdigit())];
    let mut len = 2 + int.len();
    let mut frac: &[u8] = &[];
    if body.get(len) == Some(&b'.') {
        let n = run_of(body, len + 1, |b| b.is_ascii_hexdigit());
        frac = &body[len + 1..len + 1 + n];
        len += 1 + n;
    }
    let (exp_len, exp) = match body.get(len) {
        Some(b'p' | b'P') => exponent(body, len),
        _ => (0, 0),
    };
    let mut text = b"0x".to_vec();
    text.extend_from_slice(int);
    text.push(b'.');
    text.extend_from_slice(frac);
    text.extend_from_slice(format!("p{exp}").as_bytes());
    let value = crate::util::num::parse_f64(&text).unwrap_or_else(|| {
        // Out of range: overflow gives inf, underflow 0 (the place of the
        // first non-zero digit tells which).
        let first = int.iter().chain(frac).position(|&d| d != b'0');
        let first = first.unwrap_or(int.len()) as i64;
        if 4 * (int.len() as i64 - first) + exp > 0 {
            f64::INFINITY
        } else {
            0.0
        }
    });
    (value, len + exp_len)
}

/// Decimal digits, `.` digits, `e` exponent; None without a digit.
fn decimal_number(body: &[u8]) -> Option<(f64, usize)> {
    let int = run_of(body, 0, |b| b.is_ascii_digit());
    let mut len = int;
    let mut frac = 0;
    if body.get(len) == Some(&b'.') {
        frac = run_of(body, len + 1, |b| b.is_ascii_digit());
        len += 1 + frac;
    }
    if int + frac == 0 {
        return None;
    }
    let (exp_len, exp) = match body.get(len) {
        Some(b'e' | b'E') => exponent(body, len),
        _ => (0, 0),
    };
    let int_digits = std::str::from_utf8(&body[..int]).ok()?;
    let frac_digits = std::str::from_utf8(body.get(int + 1..int + 1 + frac).unwrap_or(&[])).ok()?;
    let text = format!("0{int_digits}.{frac_digits}0e{exp}");
    Some((text.parse().ok()?, len + exp_len))
}

/// cjson.decode(text)
fn decode(lua: &Lua, module: &Module, args: &[Value]) -> mlua::Result<Value> {
    if args.len() != 1 {
        return Err(argerror(lua, 1, "expected 1 argument"));
    }
    let text = check_string(lua, args, 1)?;
    if text.len() >= 2 && (text[0] == 0 || text[1] == 0) {
        return Err(lua_error(
            lua,
            "JSON parser does not support UTF-16 or UTF-32",
        ));
    }
    let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
    let mut decoder = Decoder {
        lua,
        cfg: module.config.get(),
        data: &text[..end],
        pos: 0,
        index: 0,
        string: Vec::new(),
        stack: Vec::new(),
        held: 0,
    };
    let value = decoder.run()?;
    let token = decoder.next_token();
    if token != Token::End {
        return Err(decoder.parse_error("the end", token));
    }
    Ok(value)
}

/// A `cjson` module table with its own configuration (`cjson.new()` makes
/// another with the defaults).
pub fn table(lua: &Lua, module: Module) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let m = module.clone();
    t.raw_set(
        "encode",
        lua.create_function(move |lua, args: Variadic<Value>| encode(lua, &m, &args))?,
    )?;
    let m = module.clone();
    t.raw_set(
        "decode",
        lua.create_function(move |lua, args: Variadic<Value>| decode(lua, &m, &args))?,
    )?;
    for name in CONFIG_FUNCTIONS {
        t.raw_set(*name, config_function(lua, &module.config, name)?)?;
    }
    let entries = module.entries.clone();
    t.raw_set(
        "new",
        lua.create_function(move |lua, _: Variadic<Value>| {
            table(
                lua,
                Module {
                    config: Shared::default(),
                    entries: entries.clone(),
                },
            )
        })?,
    )?;
    t.raw_set("null", null())?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    Ok(t)
}

/// The module for a Lua state whose base library's `next` is `next`,
/// configured by `config`.
pub fn module(lua: &Lua, config: Shared, next: Function) -> mlua::Result<Module> {
    Ok(Module {
        config,
        entries: entries_helper(lua, next)?,
    })
}

#[cfg(test)]
mod tests {
    use super::{format_g, strtod};

    #[test]
    fn format_g_prints_as_glibc_printf_at_every_precision() {
        let values = [
            0.5,
            1.5,
            2.5,
            0.125,
            1e-5,
            123_456_789.0,
            1e15,
            0.1,
            100.0,
            9.5,
            99.5,
            1e-300,
            5e-324,
            f64::MAX,
            -0.0,
            1.0 / 3.0,
            -2.5e-7,
            123_456.5,
        ];
        let expected: [(usize, [&str; 18]); 3] = [
            (
                1,
                [
                    "0.5", "2", "2", "0.1", "1e-05", "1e+08", "1e+15", "0.1", "1e+02", "1e+01",
                    "1e+02", "1e-300", "5e-324", "2e+308", "-0", "0.3", "-2e-07", "1e+05",
                ],
            ),
            (
                3,
                [
                    "0.5",
                    "1.5",
                    "2.5",
                    "0.125",
                    "1e-05",
                    "1.23e+08",
                    "1e+15",
                    "0.1",
                    "100",
                    "9.5",
                    "99.5",
                    "1e-300",
                    "4.94e-324",
                    "1.8e+308",
                    "-0",
                    "0.333",
                    "-2.5e-07",
                    "1.23e+05",
                ],
            ),
            (
                14,
                [
                    "0.5",
                    "1.5",
                    "2.5",
                    "0.125",
                    "1e-05",
                    "123456789",
                    "1e+15",
                    "0.1",
                    "100",
                    "9.5",
                    "99.5",
                    "1e-300",
                    "4.9406564584125e-324",
                    "1.7976931348623e+308",
                    "-0",
                    "0.33333333333333",
                    "-2.5e-07",
                    "123456.5",
                ],
            ),
        ];
        for (precision, texts) in expected {
            for (v, text) in values.iter().zip(texts) {
                assert_eq!(
                    format_g(*v, precision),
                    text.as_bytes(),
                    "%.{precision}g of {v}"
                );
            }
        }
        assert_eq!(format_g(f64::INFINITY, 14), b"inf");
        assert_eq!(format_g(f64::NEG_INFINITY, 14), b"-inf");
    }

    #[test]
    fn strtod_reads_the_prefix_glibc_reads() {
        type Case<'a> = (&'a [u8], Option<(f64, usize)>);
        let cases: [Case; 14] = [
            (b"12abc", Some((12.0, 2))),
            (b"-1.5e3,", Some((-1500.0, 6))),
            (b"1e", Some((1.0, 1))),
            (b"1e+", Some((1.0, 1))),
            (b"1.", Some((1.0, 2))),
            (b"-.5", Some((-0.5, 3))),
            (b"0x10", Some((16.0, 4))),
            (b"0x1p4]", Some((16.0, 5))),
            (b"0x.8", Some((0.5, 4))),
            (b"0xg", Some((0.0, 1))),
            (b"infinity", Some((f64::INFINITY, 8))),
            (b"-Infinit", Some((f64::NEG_INFINITY, 4))),
            (b"1e400", Some((f64::INFINITY, 5))),
            (b"- 1", None),
        ];
        for (text, expected) in cases {
            assert_eq!(strtod(text), expected, "{}", String::from_utf8_lossy(text));
        }
        let (nan, len) = strtod(b"nan(0x7)").unwrap_or((0.0, 0));
        assert_eq!((nan.to_bits(), len), (f64::NAN.to_bits() | 7, 8));
        let (nan, len) = strtod(b"-nan(").unwrap_or((0.0, 0));
        assert_eq!((nan.is_nan() && nan.is_sign_negative(), len), (true, 4));
        assert_eq!(strtod(b"0x1p-99999"), Some((0.0, 10)));
    }
}
