//! Roberto Ierusalimschy's struct library as Redis ships it (lua_struct.c 0.2):
//! struct.pack, struct.unpack and struct.size over C-like format strings, on a
//! 64-bit little-endian host (long and size_t are 8 bytes, int 4).

use mlua::{Lua, Table, Value, Variadic};

use super::{argerror, check_number, check_string};
use crate::script::api::lua_error;

/// Largest integer size a format may ask for (MAXINTSIZE).
const MAX_INT_SIZE: usize = 32;
/// Largest alignment (the alignment of a union of double, pointer, integer).
const MAX_ALIGN: usize = 8;
/// sizeof(lua_Integer / long): integers wider than this keep only their low bytes.
const SZINT: usize = 8;

#[derive(Clone, Copy)]
struct Header {
    big_endian: bool,
    align: usize,
}

const DEFAULT_HEADER: Header = Header {
    big_endian: false,
    align: 1,
};

/// A format string being read.
struct Format<'a> {
    lua: &'a Lua,
    fmt: &'a [u8],
    pos: usize,
}

impl Format<'_> {
    fn next(&mut self) -> Option<u8> {
        let c = self.fmt.get(self.pos).copied();
        self.pos += usize::from(c.is_some());
        c
    }

    /// getnum: a decimal count following an option, or `default`.
    fn number(&mut self, default: usize) -> mlua::Result<usize> {
        if !self.fmt.get(self.pos).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: usize = 0;
        while let Some(&d) = self.fmt.get(self.pos).filter(|d| d.is_ascii_digit()) {
            let digit = usize::from(d - b'0');
            if a > (i32::MAX as usize) / 10 || a * 10 > i32::MAX as usize - digit {
                return Err(lua_error(self.lua, "integral size overflow"));
            }
            a = a * 10 + digit;
            self.pos += 1;
        }
        Ok(a)
    }

    /// optsize: the size of option `opt`, 0 for those that need no alignment.
    fn size(&mut self, opt: u8) -> mlua::Result<usize> {
        Ok(match opt {
            b'B' | b'b' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'x' => 1,
            b'c' => self.number(1)?,
            b'i' | b'I' => {
                let size = self.number(4)?;
                if size > MAX_INT_SIZE {
                    return Err(lua_error(
                        self.lua,
                        &format!("integral size {size} is larger than limit of {MAX_INT_SIZE}"),
                    ));
                }
                size
            }
            _ => 0,
        })
    }

    /// controloptions: endianness, alignment and spaces; anything else is an error.
    fn control(&mut self, opt: u8, h: &mut Header) -> mlua::Result<()> {
        match opt {
            b' ' => {}
            b'>' => h.big_endian = true,
            b'<' | b'=' => h.big_endian = false,
            b'!' => {
                let a = self.number(MAX_ALIGN)?;
                if !a.is_power_of_two() {
                    return Err(lua_error(
                        self.lua,
                        &format!("alignment {a} is not a power of 2"),
                    ));
                }
                h.align = a;
            }
            _ => {
                let msg = format!("invalid format option '{}'", char::from(opt));
                return Err(argerror(self.lua, 1, &msg));
            }
        }
        Ok(())
    }
}

/// `(size_t)d` as x86-64 converts a double: negative values wrap from their
/// 64-bit integer, values past the range saturate.
fn size_from_number(d: f64) -> usize {
    if d < 0.0 {
        crate::script::convert::number_to_i64(d) as usize
    } else {
        d as usize
    }
}

/// gettoalign: padding before an item of `size` at offset `len`.
fn to_align(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let align = size.min(h.align);
    (align - (len & (align - 1))) & (align - 1)
}

fn put_integer(out: &mut Vec<u8>, n: f64, big_endian: bool, size: usize) {
    let value: u64 = if n < 0.0 {
        crate::script::convert::number_to_i64(n) as u64
    } else if n >= 18_446_744_073_709_551_616.0 || n.is_nan() {
        0
    } else {
        n as u64
    };
    let mut bytes = vec![0u8; size];
    let mut v = value;
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (v & 0xff) as u8;
        v = if i + 1 < SZINT { v >> 8 } else { 0 };
    }
    // Wider than a C integer: sign-extend as the C code's (value >> 8) of a
    // negative number leaves the high bytes set.
    if size > SZINT && n < 0.0 {
        for b in &mut bytes[SZINT..] {
            *b = 0xff;
        }
    }
    if big_endian {
        bytes.reverse();
    }
    out.extend_from_slice(&bytes);
}

fn get_integer(data: &[u8], big_endian: bool, signed: bool, size: usize) -> f64 {
    if size == 0 {
        return 0.0;
    }
    let mut l: u64 = 0;
    let bytes: Vec<u8> = if big_endian {
        data.to_vec()
    } else {
        data.iter().rev().copied().collect()
    };
    for &b in &bytes {
        l = (l << 8) | u64::from(b);
    }
    if !signed {
        return l as f64;
    }
    if size < SZINT {
        let mask = 1u64 << (size * 8 - 1);
        l = (l ^ mask).wrapping_sub(mask);
    }
    l as i64 as f64
}

/// struct.pack(fmt, ...)
fn pack(lua: &Lua, args: &[Value]) -> mlua::Result<mlua::String> {
    let fmt = check_string(lua, args, 1)?;
    // b_pack pushes a nil marker after its arguments, so the first missing
    // argument reads as nil rather than "no value".
    let mut args = args.to_vec();
    args.push(Value::Nil);
    let args = &args[..];
    let mut f = Format {
        lua,
        fmt: &fmt,
        pos: 0,
    };
    let mut h = DEFAULT_HEADER;
    let mut arg = 2;
    let mut out = Vec::new();
    while let Some(opt) = f.next() {
        super::check_output(&out)?;
        let mut size = f.size(opt)?;
        let pad = to_align(out.len(), &h, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = check_number(lua, args, arg)?;
                arg += 1;
                put_integer(&mut out, n, h.big_endian, size);
            }
            b'x' => out.push(0),
            b'f' => {
                let v = check_number(lua, args, arg)? as f32;
                arg += 1;
                let bytes = if h.big_endian {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                };
                out.extend_from_slice(&bytes);
            }
            b'd' => {
                let v = check_number(lua, args, arg)?;
                arg += 1;
                let bytes = if h.big_endian {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                };
                out.extend_from_slice(&bytes);
            }
            b'c' | b's' => {
                let s = check_string(lua, args, arg)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    return Err(argerror(lua, arg, "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => f.control(opt, &mut h)?,
        }
    }
    lua.create_string(out)
}

/// struct.unpack(fmt, s [, pos])
fn unpack(lua: &Lua, args: &[Value]) -> mlua::Result<Variadic<Value>> {
    let fmt = check_string(lua, args, 1)?;
    let data = check_string(lua, args, 2)?;
    let start = match args.get(2) {
        None | Some(Value::Nil) => 1.0,
        _ => check_number(lua, args, 3)?,
    };
    // Redis reads the offset into a size_t: only 0 is refused here; a negative
    // one wraps to a position past any string ("data string too short" below).
    let start = crate::script::convert::number_to_i64(start);
    if start == 0 {
        return Err(argerror(lua, 3, "offset must be 1 or greater"));
    }
    let mut pos = (start as usize).wrapping_sub(1);
    let ld = data.len();
    let mut f = Format {
        lua,
        fmt: &fmt,
        pos: 0,
    };
    let mut h = DEFAULT_HEADER;
    let mut results: Vec<Value> = Vec::new();
    let too_short = || argerror(lua, 2, "data string too short");
    while let Some(opt) = f.next() {
        let mut size = f.size(opt)?;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size));
        if size > ld || pos > ld - size {
            return Err(too_short());
        }
        // Room for this item and the next position, above the arguments.
        super::check_stack(lua, args.len() + results.len(), 2, "too many results")?;
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let signed = opt.is_ascii_lowercase();
                let v = get_integer(&data[pos..pos + size], h.big_endian, signed, size);
                results.push(Value::Number(v));
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[pos..pos + 4]);
                let v = if h.big_endian {
                    f32::from_be_bytes(b)
                } else {
                    f32::from_le_bytes(b)
                };
                results.push(Value::Number(f64::from(v)));
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                let v = if h.big_endian {
                    f64::from_be_bytes(b)
                } else {
                    f64::from_le_bytes(b)
                };
                results.push(Value::Number(v));
            }
            b'c' => {
                if size == 0 {
                    let Some(n) = results.last().and_then(|v| super::to_number(Some(v))) else {
                        return Err(lua_error(lua, "format 'c0' needs a previous size"));
                    };
                    results.pop();
                    // A negative count wraps as Redis's cast to size_t does.
                    size = size_from_number(n);
                    if size > ld || pos > ld - size {
                        return Err(too_short());
                    }
                }
                results.push(Value::String(lua.create_string(&data[pos..pos + size])?));
            }
            b's' => {
                let Some(end) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err(lua_error(lua, "unfinished string in data"));
                };
                results.push(Value::String(lua.create_string(&data[pos..pos + end])?));
                size = end + 1;
            }
            _ => f.control(opt, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    results.push(Value::Number(pos.wrapping_add(1) as i64 as f64));
    Ok(Variadic::from_iter(results))
}

/// struct.size(fmt)
fn size(lua: &Lua, args: &[Value]) -> mlua::Result<f64> {
    let fmt = check_string(lua, args, 1)?;
    let mut f = Format {
        lua,
        fmt: &fmt,
        pos: 0,
    };
    let mut h = DEFAULT_HEADER;
    let mut pos = 0usize;
    while let Some(opt) = f.next() {
        let size = f.size(opt)?;
        pos += to_align(pos, &h, opt, size);
        if opt == b's' {
            return Err(argerror(lua, 1, "option 's' has no fixed size"));
        }
        if opt == b'c' && size == 0 {
            return Err(argerror(lua, 1, "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            f.control(opt, &mut h)?;
        }
        pos += size;
    }
    Ok(pos as f64)
}

pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "pack",
        lua.create_function(|lua, args: Variadic<Value>| pack(lua, &args))?,
    )?;
    t.raw_set(
        "unpack",
        lua.create_function(|lua, args: Variadic<Value>| unpack(lua, &args))?,
    )?;
    t.raw_set(
        "size",
        lua.create_function(|lua, args: Variadic<Value>| size(lua, &args))?,
    )?;
    Ok(t)
}
