//! Bitmap commands (Redis's bitops.c): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
//! BITFIELD and BITFIELD_RO. Bitmaps are string values; bit 0 is the most
//! significant bit of the first byte. A write makes the string raw (Redis's
//! dbUnshareStringValue) and grows it with zero bytes as far as the highest bit it
//! touches.
//!
//! Offsets are limited as Redis limits them: a bit offset whose byte is at or past
//! `proto-max-bulk-len` is refused. BITFIELD checks only where a field starts, so a
//! field may end a few bytes past that limit, as on Redis.

use bytes::Bytes;

use crate::config::notify;

use super::{args, Acl, CommandSpec, Flag, Group, KeySpec};
use crate::db::Entry;
use crate::error::{CmdError, CmdResult, SYNTAX, WRONGTYPE};
use crate::node::Ctx;
use crate::util::num::parse_i64;
use crate::value::Value;

const BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const BIT_VALUE: &str = "ERR bit is not an integer or out of range";
const BITPOS_BIT: &str = "ERR The bit argument must be 1 or 0.";
const BITOP_NOT_ONE_KEY: &str = "ERR BITOP NOT must be called with a single source key.";
const BITFIELD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
const BITFIELD_OVERFLOW: &str = "ERR Invalid OVERFLOW type specified";
const BITFIELD_RO_GET_ONLY: &str = "ERR BITFIELD_RO only supports the GET subcommand";

const BITMAP_ROW: CommandSpec = CommandSpec {
    first_key: 1,
    last_key: 1,
    step: 1,
    acl: &[Acl::Bitmap],
    group: Group::Bitmap,
    ..CommandSpec::DEFAULT
};

const RO_ACCESS: &[KeySpec] = &[KeySpec::first(&["RO", "ACCESS"])];
const BYTE_BIT_HISTORY: &[(&str, &str)] = &[("7.0.0", "Added the `BYTE|BIT` option.")];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "setbit",
        arity: 4,
        flags: &[Flag::Write, Flag::Denyoom],
        key_specs: &[KeySpec::first(&["RW", "ACCESS", "UPDATE"])],
        since: "2.2.0",
        summary: "Sets or clears one bit of a key's string value, growing it if needed.",
        handler: Some(setbit),
        ..BITMAP_ROW
    },
    CommandSpec {
        name: "getbit",
        arity: 3,
        flags: &[Flag::Readonly, Flag::Fast],
        key_specs: RO_ACCESS,
        since: "2.2.0",
        summary: "Returns one bit of a key's string value.",
        handler: Some(getbit),
        ..BITMAP_ROW
    },
    CommandSpec {
        name: "bitcount",
        arity: -2,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS,
        since: "2.6.0",
        summary: "Counts the set bits of a key's string value, optionally in a range.",
        complexity: "O(N)",
        history: BYTE_BIT_HISTORY,
        handler: Some(bitcount),
        ..BITMAP_ROW
    },
    CommandSpec {
        name: "bitpos",
        arity: -3,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS,
        since: "2.8.7",
        summary: "Finds the first set or clear bit of a key's string value.",
        complexity: "O(N)",
        history: BYTE_BIT_HISTORY,
        handler: Some(bitpos),
        ..BITMAP_ROW
    },
    CommandSpec {
        name: "bitop",
        arity: -4,
        flags: &[Flag::Write, Flag::Denyoom],
        first_key: 2,
        last_key: -1,
        key_specs: &[
            KeySpec::range(&["OW", "UPDATE"], 2, 0),
            KeySpec::range(&["RO", "ACCESS"], 3, -1),
        ],
        since: "2.6.0",
        summary: "Stores the bitwise AND, OR, XOR or NOT of string values at a key.",
        complexity: "O(N)",
        handler: Some(bitop),
        ..BITMAP_ROW
    },
    CommandSpec {
        name: "bitfield",
        arity: -2,
        flags: &[Flag::Write, Flag::Denyoom],
        key_specs: &[KeySpec::first(&[
            "RW",
            "ACCESS",
            "UPDATE",
            "VARIABLE_FLAGS",
        ])],
        since: "3.2.0",
        summary: "Reads, sets and increments integer fields of any width in a string.",
        complexity: "O(1) for each subcommand specified",
        handler: Some(bitfield),
        ..BITMAP_ROW
    },
    CommandSpec {
        name: "bitfield_ro",
        arity: -2,
        flags: &[Flag::Readonly, Flag::Fast],
        key_specs: RO_ACCESS,
        since: "6.0.0",
        summary: "Reads integer fields of any width in a string (BITFIELD's GET only).",
        complexity: "O(1) for each subcommand specified",
        handler: Some(bitfield_ro),
        ..BITMAP_ROW
    },
];

// ---------------------------------------------------------------------------------
// Shared helpers

/// `proto-max-bulk-len` in bytes: no bit offset may address a byte at or past it.
fn bytes_max(ctx: &Ctx<'_>) -> i64 {
    ctx.srv.config.proto_max_bulk_len
}

/// A bit offset argument (Redis's getBitOffsetFromArgument). With `field_bits`,
/// `#N` means the N-th field of that width (BITFIELD).
fn bit_offset(arg: &[u8], field_bits: Option<u32>, bytes_max: i64) -> Result<u64, CmdError> {
    let (digits, scale) = match (field_bits, arg.split_first()) {
        (Some(bits), Some((b'#', rest))) => (rest, i64::from(bits)),
        _ => (arg, 1),
    };
    let offset = parse_i64(digits).ok_or(BIT_OFFSET)?.wrapping_mul(scale);
    if offset < 0 || (offset >> 3) >= bytes_max {
        return Err(BIT_OFFSET.into());
    }
    Ok(offset as u64)
}

/// Runs `f` over the bytes of the string at `key` (looked up for reading; `None` when
/// absent); WRONGTYPE for other types.
fn with_string<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(Option<&[u8]>) -> R,
) -> Result<R, CmdError> {
    let mut scratch = [0u8; 20];
    match ctx.lookup_read(key) {
        None => Ok(f(None)),
        Some(entry) => {
            let bytes = entry
                .value
                .as_string_bytes(&mut scratch)
                .ok_or(CmdError::Static(WRONGTYPE))?;
            Ok(f(Some(bytes)))
        }
    }
}

/// Redis's lookupStringForBitCommand: the string at `key` made raw and grown with
/// zeroes to hold bit `highest_bit`, created if absent. Also says whether the key
/// was created or grew.
fn string_for_bits<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
    highest_bit: u64,
) -> Result<(&'c mut Vec<u8>, bool), CmdError> {
    let len = usize::try_from(highest_bit >> 3)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    let exists = match ctx.lookup_write(key) {
        Some(entry) if !is_string(entry) => return Err(WRONGTYPE.into()),
        found => found.is_some(),
    };
    if !exists {
        let (now, policy) = (ctx.now, ctx.srv.access_policy());
        let value = Value::Raw(Box::new(vec![0u8; len]));
        ctx.db().insert_new(key, value, None, now, policy);
    }
    let raw = ctx
        .lookup_write_untouched(key)
        .and_then(|entry| entry.value.make_raw())
        .ok_or(CmdError::Static(WRONGTYPE))?;
    let grew = raw.len() < len;
    if grew {
        raw.resize(len, 0);
    }
    Ok((raw, !exists || grew))
}

fn is_string(entry: &Entry) -> bool {
    matches!(entry.value, Value::Int(_) | Value::Str(_) | Value::Raw(_))
}

/// The bit at `offset` (0 past the end).
#[inline]
fn bit_at(bytes: &[u8], offset: u64) -> u8 {
    let byte = usize::try_from(offset >> 3).unwrap_or(usize::MAX);
    bytes.get(byte).map_or(0, |b| (b >> (7 - (offset & 7))) & 1)
}

/// Sets the bit at `offset`, which must be inside `bytes`.
#[inline]
fn set_bit_at(bytes: &mut [u8], offset: u64, on: bool) {
    let byte = usize::try_from(offset >> 3).unwrap_or(usize::MAX);
    if let Some(b) = bytes.get_mut(byte) {
        let mask = 1u8 << (7 - (offset & 7));
        if on {
            *b |= mask;
        } else {
            *b &= !mask;
        }
    }
}

/// Set bits in `bytes`, eight bytes at a time.
pub fn popcount(bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    let mut n: u64 = 0;
    for w in &mut words {
        n += u64::from(u64::from_ne_bytes(w.try_into().unwrap_or([0; 8])).count_ones());
    }
    n + words
        .remainder()
        .iter()
        .map(|b| u64::from(b.count_ones()))
        .sum::<u64>()
}

/// Redis's redisBitpos: the position of the first bit equal to `bit` in `bytes`;
/// when there is none, -1 looking for 1 and the bit just past the end looking for 0.
pub fn first_bit(bytes: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0u8 } else { 0xff };
    let skip_word = if bit { 0u64 } else { u64::MAX };
    let mut pos = 0usize;
    for w in bytes.chunks_exact(8) {
        if u64::from_ne_bytes(w.try_into().unwrap_or([0; 8])) != skip_word {
            break;
        }
        pos += 8;
    }
    while let Some(&b) = bytes.get(pos) {
        if b != skip {
            let lead = if bit {
                b.leading_zeros()
            } else {
                b.leading_ones()
            };
            return (pos as i64) * 8 + i64::from(lead);
        }
        pos += 1;
    }
    if bit {
        -1
    } else {
        (bytes.len() as i64) * 8
    }
}

/// A start/end range argument pair as BITCOUNT and BITPOS resolve it: clamped
/// byte indexes plus masks of the bits outside a BIT range in the edge bytes.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    start: i64,
    end: i64,
    first_mask: u8,
    last_mask: u8,
}

/// Resolves `start`/`end` (negative counting from the end) over a string of `len`
/// bytes, in bits when `in_bits`.
fn resolve_span(len: usize, mut start: i64, mut end: i64, in_bits: bool) -> Span {
    let mut total = len as i64;
    if in_bits {
        total <<= 3;
    }
    if start < 0 {
        start = total.wrapping_add(start);
    }
    if end < 0 {
        end = total.wrapping_add(end);
    }
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    let mut span = Span {
        start,
        end,
        ..Span::default()
    };
    if in_bits && start <= end {
        span.first_mask = !((1u16 << (8 - (start & 7))) - 1) as u8;
        span.last_mask = ((1u16 << (7 - (end & 7))) - 1) as u8;
        span.start >>= 3;
        span.end >>= 3;
    }
    span
}

/// An optional BYTE|BIT argument: whether it says BIT.
fn unit_is_bit(arg: &[u8]) -> Result<bool, CmdError> {
    if args::is(arg, "BIT") {
        Ok(true)
    } else if args::is(arg, "BYTE") {
        Ok(false)
    } else {
        Err(SYNTAX.into())
    }
}

// ---------------------------------------------------------------------------------
// SETBIT, GETBIT

/// SETBIT key offset value
fn setbit(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let offset = bit_offset(&args[2], None, bytes_max(ctx))?;
    let on = match parse_i64(&args[3]) {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(BIT_VALUE.into()),
    };
    let (raw, resized) = string_for_bits(ctx, &args[1], offset)?;
    let old = bit_at(raw, offset);
    let changed = resized || (old == 1) != on;
    if changed {
        set_bit_at(raw, offset, on);
        ctx.modified(&args[1]);
        ctx.notify(notify::STRING, "setbit", &args[1]);
    }
    ctx.out().int(i64::from(old));
    Ok(())
}

/// GETBIT key offset
fn getbit(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let offset = bit_offset(&args[2], None, bytes_max(ctx))?;
    let bit = with_string(ctx, &args[1], |s| s.map_or(0, |s| bit_at(s, offset)))?;
    ctx.out().int(i64::from(bit));
    Ok(())
}

// ---------------------------------------------------------------------------------
// BITCOUNT

/// BITCOUNT key [start end [BYTE|BIT]]: a missing key counts 0 whatever the
/// arguments, as in Redis 7.0.
fn bitcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let n = with_string(ctx, &args[1], |s| s.map(|s| count_in(s, args)))?;
    ctx.out().int(n.transpose()?.unwrap_or(0) as i64);
    Ok(())
}

fn count_in(bytes: &[u8], args: &[Bytes]) -> Result<u64, CmdError> {
    let span = match args.len() {
        2 => Span {
            start: 0,
            end: bytes.len() as i64 - 1,
            ..Span::default()
        },
        4 | 5 => {
            let start = args::int(&args[2])?;
            let end = args::int(&args[3])?;
            if start < 0 && end < 0 && start > end {
                return Ok(0);
            }
            let in_bits = match args.get(4) {
                Some(unit) => unit_is_bit(unit)?,
                None => false,
            };
            resolve_span(bytes.len(), start, end, in_bits)
        }
        _ => return Err(SYNTAX.into()),
    };
    if span.start > span.end {
        return Ok(0);
    }
    let (s, e) = (span.start as usize, span.end as usize);
    let outside =
        (bytes[s] & span.first_mask).count_ones() + (bytes[e] & span.last_mask).count_ones();
    Ok(popcount(&bytes[s..=e]) - u64::from(outside))
}

// ---------------------------------------------------------------------------------
// BITPOS

/// BITPOS key bit [start [end [BYTE|BIT]]]
fn bitpos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let bit = match args::int(&args[2])? {
        0 => false,
        1 => true,
        _ => return Err(BITPOS_BIT.into()),
    };
    let pos = with_string(ctx, &args[1], |s| match s {
        // A missing key is an endless run of zeroes.
        None => Ok(if bit { -1 } else { 0 }),
        Some(s) => position_in(s, bit, args),
    })??;
    ctx.out().int(pos);
    Ok(())
}

fn position_in(bytes: &[u8], bit: bool, args: &[Bytes]) -> Result<i64, CmdError> {
    let mut end_given = false;
    let span = match args.len() {
        3 => Span {
            start: 0,
            end: bytes.len() as i64 - 1,
            ..Span::default()
        },
        4..=6 => {
            let start = args::int(&args[3])?;
            let in_bits = match args.get(5) {
                Some(unit) => unit_is_bit(unit)?,
                None => false,
            };
            let end = match args.get(4) {
                Some(end) => {
                    end_given = true;
                    args::int(end)?
                }
                None if in_bits => ((bytes.len() as i64) << 3) + 7,
                None => bytes.len() as i64 - 1,
            };
            resolve_span(bytes.len(), start, end, in_bits)
        }
        _ => return Err(SYNTAX.into()),
    };
    if span.start > span.end {
        return Ok(-1);
    }
    let (start, pos, searched) = search_span(bytes, bit, span);
    // With an explicit end, running off the range finds no clear bit; without one,
    // the string reads as followed by zeroes.
    if end_given && !bit && pos == searched << 3 {
        return Ok(-1);
    }
    Ok(if pos == -1 { -1 } else { pos + (start << 3) })
}

/// Redis's three-step scan of a span (a masked first byte, whole middle bytes, a
/// masked last byte): the byte where the last step began, the position found
/// relative to it, and how many bytes that step covered.
fn search_span(bytes: &[u8], bit: bool, span: Span) -> (i64, i64, i64) {
    let mask = |b: u8, m: u8| if bit { b & !m } else { b | m };
    let (mut start, end) = (span.start, span.end);
    let mut count = end - start + 1;
    if span.first_mask != 0 {
        let mut b = mask(bytes[start as usize], span.first_mask);
        if span.last_mask != 0 && count == 1 {
            b = mask(b, span.last_mask);
        }
        let pos = first_bit(&[b], bit);
        if count == 1 || (pos != -1 && pos != 8) {
            return (start, pos, count);
        }
        start += 1;
        count -= 1;
    }
    let middle = count - i64::from(span.last_mask != 0);
    if middle > 0 {
        let from = start as usize;
        let pos = first_bit(&bytes[from..from + middle as usize], bit);
        if count == middle || (pos != -1 && pos != middle << 3) {
            return (start, pos, count);
        }
        start += middle;
        count -= middle;
    }
    let b = mask(bytes[end as usize], span.last_mask);
    (start, first_bit(&[b], bit), count)
}

// ---------------------------------------------------------------------------------
// BITOP

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// BITOP <AND|OR|XOR|NOT> destkey key [key ...]: missing keys read as empty
/// strings; shorter strings as padded with zeroes. An empty result deletes destkey.
fn bitop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let op = [
        ("AND", BitOp::And),
        ("OR", BitOp::Or),
        ("XOR", BitOp::Xor),
        ("NOT", BitOp::Not),
    ]
    .into_iter()
    .find(|(name, _)| args::is(&args[1], name))
    .map(|(_, op)| op)
    .ok_or(CmdError::Static(SYNTAX))?;
    if op == BitOp::Not && args.len() != 4 {
        return Err(BITOP_NOT_ONE_KEY.into());
    }
    let mut result: Vec<u8> = Vec::new();
    for (i, key) in args[3..].iter().enumerate() {
        with_string(ctx, key, |s| {
            combine(&mut result, s.unwrap_or(&[]), op, i == 0)
        })?;
    }
    let dest = &args[2];
    let len = result.len();
    if len > 0 {
        let (now, policy) = (ctx.now, ctx.srv.access_policy());
        ctx.db()
            .set(dest, Value::Raw(Box::new(result)), false, now, policy);
        ctx.modified(dest);
        ctx.notify(notify::STRING, "set", dest);
    } else if ctx.lookup_write(dest).is_some() {
        ctx.db().remove(dest);
        ctx.modified(dest);
        ctx.notify(notify::GENERIC, "del", dest);
    }
    ctx.out().int(len as i64);
    Ok(())
}

/// Folds one source into the result so far.
fn combine(result: &mut Vec<u8>, src: &[u8], op: BitOp, first: bool) {
    if first {
        result.extend_from_slice(src);
        if op == BitOp::Not {
            result.iter_mut().for_each(|b| *b = !*b);
        }
        return;
    }
    if result.len() < src.len() {
        // Earlier sources read as zeroes here.
        result.resize(src.len(), 0);
    }
    let (head, tail) = result.split_at_mut(src.len());
    match op {
        BitOp::And => {
            head.iter_mut().zip(src).for_each(|(r, s)| *r &= s);
            tail.fill(0);
        }
        BitOp::Or => head.iter_mut().zip(src).for_each(|(r, s)| *r |= s),
        BitOp::Xor => head.iter_mut().zip(src).for_each(|(r, s)| *r ^= s),
        BitOp::Not => {}
    }
}

// ---------------------------------------------------------------------------------
// BITFIELD

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// One parsed BITFIELD operation.
#[derive(Debug, Clone, Copy)]
struct Field {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    overflow: Overflow,
}

/// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset
/// increment] [OVERFLOW WRAP|SAT|FAIL] ...
fn bitfield(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    bitfield_generic(ctx, args, false)
}

/// BITFIELD_RO key [GET type offset] ...
fn bitfield_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    bitfield_generic(ctx, args, true)
}

fn bitfield_generic(ctx: &mut Ctx<'_>, args: &[Bytes], read_only: bool) -> CmdResult {
    let fields = parse_fields(&args[2..], bytes_max(ctx))?;
    let highest = fields
        .iter()
        .filter(|f| f.op != FieldOp::Get)
        .map(|f| f.offset + u64::from(f.bits) - 1)
        .max();
    let Some(highest) = highest else {
        // Only reads: a missing key reads as zeroes.
        let mut out = std::mem::take(&mut ctx.client.out);
        let read = with_string(ctx, &args[1], |s| {
            out.array(fields.len());
            for f in &fields {
                out.int(get_field(s.unwrap_or(&[]), f));
            }
        });
        ctx.client.out = out;
        return read;
    };
    if read_only {
        return Err(BITFIELD_RO_GET_ONLY.into());
    }
    let (raw, _) = string_for_bits(ctx, &args[1], highest)?;
    let replies: Vec<Option<i64>> = fields.iter().map(|f| apply_field(raw, f)).collect();
    let changes = fields.iter().filter(|f| f.op != FieldOp::Get).count() as u64;
    ctx.modified(&args[1]);
    ctx.srv.dirty += changes - 1;
    if changes > 0 {
        ctx.notify(notify::STRING, "setbit", &args[1]);
    }
    let out = ctx.out();
    out.array(replies.len());
    for reply in replies {
        match reply {
            Some(n) => out.int(n),
            None => out.null(),
        }
    }
    Ok(())
}

/// Parses the operations, with Redis's error for the first bad one.
fn parse_fields(args: &[Bytes], bytes_max: i64) -> Result<Vec<Field>, CmdError> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut i = 0;
    while i < args.len() {
        let left = args.len() - i - 1;
        let name = &args[i];
        let takes_value = if args::is(name, "GET") && left >= 2 {
            false
        } else if (args::is(name, "SET") || args::is(name, "INCRBY")) && left >= 3 {
            true
        } else if args::is(name, "OVERFLOW") && left >= 1 {
            overflow = parse_overflow(&args[i + 1])?;
            i += 2;
            continue;
        } else {
            return Err(SYNTAX.into());
        };
        let (signed, bits) = parse_type(&args[i + 1])?;
        let offset = bit_offset(&args[i + 2], Some(bits), bytes_max)?;
        let op = if takes_value {
            let value = args::int(&args[i + 3])?;
            if args::is(name, "SET") {
                FieldOp::Set(value)
            } else {
                FieldOp::IncrBy(value)
            }
        } else {
            FieldOp::Get
        };
        fields.push(Field {
            op,
            signed,
            bits,
            offset,
            overflow,
        });
        i += if takes_value { 4 } else { 3 };
    }
    Ok(fields)
}

fn parse_overflow(arg: &[u8]) -> Result<Overflow, CmdError> {
    if args::is(arg, "WRAP") {
        Ok(Overflow::Wrap)
    } else if args::is(arg, "SAT") {
        Ok(Overflow::Sat)
    } else if args::is(arg, "FAIL") {
        Ok(Overflow::Fail)
    } else {
        Err(BITFIELD_OVERFLOW.into())
    }
}

/// A field type: `i1`..`i64` or `u1`..`u63` (lower-case letter; the width is read
/// up to a NUL byte as Redis's C string is).
fn parse_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(BITFIELD_TYPE.into()),
    };
    let digits = arg[1..].split(|&b| b == 0).next().unwrap_or_default();
    match parse_i64(digits) {
        Some(bits @ 1..=64) if signed => Ok((true, bits as u32)),
        Some(bits @ 1..=63) if !signed => Ok((false, bits as u32)),
        _ => Err(BITFIELD_TYPE.into()),
    }
}

/// The unsigned value of `bits` bits from `offset`, most significant first;
/// bits past the end read as 0.
fn get_unsigned(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    (0..u64::from(bits)).fold(0u64, |v, i| (v << 1) | u64::from(bit_at(bytes, offset + i)))
}

fn get_signed(bytes: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_unsigned(bytes, offset, bits);
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

fn put_bits(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    for i in 0..u64::from(bits) {
        let bit = (value >> (u64::from(bits) - 1 - i)) & 1;
        set_bit_at(bytes, offset + i, bit == 1);
    }
}

fn get_field(bytes: &[u8], f: &Field) -> i64 {
    if f.signed {
        get_signed(bytes, f.offset, f.bits)
    } else {
        get_unsigned(bytes, f.offset, f.bits) as i64
    }
}

/// Runs one operation on the (grown) string: its reply, `None` when FAIL refused it.
fn apply_field(bytes: &mut [u8], f: &Field) -> Option<i64> {
    let (incr, set_to) = match f.op {
        FieldOp::Get => return Some(get_field(bytes, f)),
        FieldOp::Set(v) => (0, Some(v)),
        FieldOp::IncrBy(by) => (by, None),
    };
    let (new, reply, overflow) = if f.signed {
        let old = get_signed(bytes, f.offset, f.bits);
        let base = set_to.unwrap_or(old);
        let (overflowed, limit) = signed_overflow(base, incr, f.bits, f.overflow);
        let new = if overflowed {
            limit
        } else {
            base.wrapping_add(incr)
        };
        let reply = if set_to.is_some() { old } else { new };
        (new as u64, reply, overflowed)
    } else {
        let old = get_unsigned(bytes, f.offset, f.bits);
        let base = set_to.map_or(old, |v| v as u64);
        let (overflowed, limit) = unsigned_overflow(base, incr, f.bits, f.overflow);
        let new = if overflowed {
            limit
        } else {
            base.wrapping_add(incr as u64)
        };
        let reply = if set_to.is_some() { old } else { new };
        (new, reply as i64, overflowed)
    };
    if overflow && f.overflow == Overflow::Fail {
        return None;
    }
    put_bits(bytes, f.offset, f.bits, new);
    Some(reply)
}

/// Redis's checkUnsignedBitfieldOverflow: whether `value + incr` leaves the
/// field's range, and the value WRAP or SAT then stores. `value` may already be
/// out of range (SET). With FAIL the stored value does not matter.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, overflow: Overflow) -> (bool, u64) {
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = value.wrapping_neg() as i64;
    let wrapped = value.wrapping_add(incr as u64) & !(u64::MAX.checked_shl(bits).unwrap_or(0));
    if value > max || (incr > 0 && incr > max_incr) {
        (
            true,
            if overflow == Overflow::Sat {
                max
            } else {
                wrapped
            },
        )
    } else if incr < 0 && incr < min_incr {
        (
            true,
            if overflow == Overflow::Sat {
                0
            } else {
                wrapped
            },
        )
    } else {
        (false, 0)
    }
}

/// Redis's checkSignedBitfieldOverflow, with its wrapping arithmetic (so a SET
/// of a value far below the range saturates as Redis's does).
fn signed_overflow(value: i64, incr: i64, bits: u32, overflow: Overflow) -> (bool, i64) {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrapped = {
        let c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c | mask
            } else {
                c & !mask
            }
        } else {
            c
        }
    } as i64;
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr)
    {
        (
            true,
            if overflow == Overflow::Sat {
                max
            } else {
                wrapped
            },
        )
    } else if value < min
        || (bits != 64 && incr < min_incr)
        || (value < 0 && incr < 0 && incr < min_incr)
    {
        (
            true,
            if overflow == Overflow::Sat {
                min
            } else {
                wrapped
            },
        )
    } else {
        (false, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::Harness;
    use super::*;

    #[test]
    fn first_bit_skips_whole_words() {
        let mut v = vec![0u8; 40];
        assert_eq!(first_bit(&v, true), -1);
        assert_eq!(first_bit(&v, false), 0);
        v[33] = 0x10;
        assert_eq!(first_bit(&v, true), 33 * 8 + 3);
        let ones = vec![0xffu8; 20];
        assert_eq!(first_bit(&ones, false), 160);
    }

    #[test]
    fn setbit_makes_strings_raw_and_grows_them_with_zeroes() {
        let mut h = Harness::new();
        h.run("SET n 12");
        assert_eq!(h.run("SETBIT n 0 0"), ":0\r\n");
        assert_eq!(h.encoding("n"), Some("raw"));
        assert_eq!(h.run("SETBIT b 17 1"), ":0\r\n");
        assert_eq!(h.run("GET b"), "$3\r\n\0\0\x40\r\n");
        assert_eq!(h.encoding("b"), Some("raw"));
    }

    #[test]
    fn signed_sat_of_the_smallest_i64_saturates_high_as_redis_does() {
        assert_eq!(signed_overflow(i64::MIN, 0, 8, Overflow::Sat), (true, 127));
        assert_eq!(signed_overflow(-200, 0, 8, Overflow::Sat), (true, -128));
        assert_eq!(signed_overflow(100, 100, 8, Overflow::Wrap), (true, -56));
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Wrap), (true, 4));
        assert_eq!(unsigned_overflow(5, -10, 8, Overflow::Sat), (true, 0));
    }
}
