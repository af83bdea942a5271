//! LuaBitOp 1.0.2 (`bit`): 32-bit operations on Lua numbers.

use mlua::{Lua, Table, Value, Variadic};

use super::check_number;

/// LuaBitOp's barg: the number rounded to an integer and taken modulo 2^32, by
/// the same double-add trick (the low word of `n + 2^52 + 2^51`).
fn barg(lua: &Lua, args: &[Value], n: usize) -> mlua::Result<u32> {
    let x = check_number(lua, args, n)?;
    Ok((x + 6_755_399_441_055_744.0).to_bits() as u32)
}

/// A result as LuaBitOp pushes it: the signed 32-bit value as a number.
fn push(b: u32) -> f64 {
    f64::from(b as i32)
}

fn fold(lua: &Lua, args: &[Value], op: fn(u32, u32) -> u32) -> mlua::Result<f64> {
    let mut acc = barg(lua, args, 1)?;
    for i in 2..=args.len() {
        acc = op(acc, barg(lua, args, i)?);
    }
    Ok(push(acc))
}

fn shift(lua: &Lua, args: &[Value], op: fn(u32, u32) -> u32) -> mlua::Result<f64> {
    let b = barg(lua, args, 1)?;
    let n = barg(lua, args, 2)? & 31;
    Ok(push(op(b, n)))
}

/// bit.tohex(x [, n])
fn tohex(lua: &Lua, args: &[Value]) -> mlua::Result<String> {
    let mut b = barg(lua, args, 1)?;
    let mut n = if args.len() < 2 {
        8
    } else {
        barg(lua, args, 2)? as i32
    };
    let digits: &[u8; 16] = if n < 0 {
        // -2^31 has no positive counterpart: it counts as -(2^31 - 1), i.e. 8
        // upper-case digits (Redis's fix for CVE-2024-31449).
        n = n.saturating_neg();
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let n = n.clamp(0, 8) as usize;
    let mut buf = [0u8; 8];
    for slot in buf[..n].iter_mut().rev() {
        *slot = digits[(b & 15) as usize];
        b >>= 4;
    }
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

type Op = fn(&Lua, &[Value]) -> mlua::Result<f64>;

pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let ops: [(&str, Op); 11] = [
        ("tobit", |l, a| Ok(push(barg(l, a, 1)?))),
        ("bnot", |l, a| Ok(push(!barg(l, a, 1)?))),
        ("band", |l, a| fold(l, a, |x, y| x & y)),
        ("bor", |l, a| fold(l, a, |x, y| x | y)),
        ("bxor", |l, a| fold(l, a, |x, y| x ^ y)),
        ("lshift", |l, a| shift(l, a, |b, n| b << n)),
        ("rshift", |l, a| shift(l, a, |b, n| b >> n)),
        ("arshift", |l, a| {
            shift(l, a, |b, n| ((b as i32) >> n) as u32)
        }),
        ("rol", |l, a| shift(l, a, |b, n| b.rotate_left(n))),
        ("ror", |l, a| shift(l, a, |b, n| b.rotate_right(n))),
        ("bswap", |l, a| Ok(push(barg(l, a, 1)?.swap_bytes()))),
    ];
    for (name, op) in ops {
        t.raw_set(
            name,
            lua.create_function(move |lua, args: Variadic<Value>| op(lua, &args))?,
        )?;
    }
    t.raw_set(
        "tohex",
        lua.create_function(|lua, args: Variadic<Value>| tohex(lua, &args))?,
    )?;
    Ok(t)
}
