//! Model test for bitmaps: random SETBIT / GETBIT / BITCOUNT / BITPOS / BITFIELD
//! sequences go through `ember_core::Node` as RESP bytes and through a model (the
//! string as a plain byte vector, read and written one bit at a time, with field
//! arithmetic in i128), and every reply and the final bytes must agree.
//!
//! The model states the commands' documented meaning; where Redis 7.0's overflow
//! check differs from plain arithmetic (BITFIELD SET with OVERFLOW SAT of values far
//! outside the field) the model says so in a comment.

use ember_core::{Config, Node};
use proptest::prelude::*;

mod support;
use support::{call, connect, Reply, START_MS};

const KEY: &[u8] = b"bm";
/// Bit offsets stay within the first few bytes so operations overlap often.
const OFFSET_MAX: u64 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Debug, Clone)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

#[derive(Debug, Clone)]
struct Field {
    overflow: Option<Overflow>,
    op: FieldOp,
    signed: bool,
    bits: u32,
    /// The offset as sent: `#n` (field index) or a bit offset.
    offset: (bool, u64),
}

#[derive(Debug, Clone)]
enum Range {
    None,
    Start(i64),
    StartEnd(i64, i64, Option<bool>),
}

#[derive(Debug, Clone)]
enum Op {
    SetBit(u64, bool),
    GetBit(u64),
    BitCount(Range),
    BitPos(bool, Range),
    BitField(Vec<Field>),
    BitFieldRo(Vec<Field>),
    /// SET of a whole string: runs of set or clear bytes, or digits (an int value).
    Set(Vec<u8>),
    Get,
}

// ---------------------------------------------------------------------------------
// The model

#[derive(Debug, Default)]
struct Model {
    bytes: Option<Vec<u8>>,
}

fn bit(bytes: &[u8], i: u64) -> bool {
    bytes
        .get((i / 8) as usize)
        .is_some_and(|b| b & (0x80 >> (i % 8)) != 0)
}

fn put(bytes: &mut Vec<u8>, i: u64, on: bool) {
    let byte = (i / 8) as usize;
    if bytes.len() <= byte {
        bytes.resize(byte + 1, 0);
    }
    if on {
        bytes[byte] |= 0x80 >> (i % 8);
    } else {
        bytes[byte] &= !(0x80 >> (i % 8));
    }
}

/// A start/end pair resolved to a bit interval, `None` when empty.
fn bit_interval(len: usize, start: i64, end: i64, in_bits: bool) -> Option<(u64, u64)> {
    let total = if in_bits { len as i64 * 8 } else { len as i64 };
    let start = if start < 0 { total + start } else { start }.max(0);
    let end = if end < 0 { total + end } else { end }
        .max(0)
        .min(total - 1);
    if start > end {
        return None;
    }
    Some(if in_bits {
        (start as u64, end as u64)
    } else {
        (start as u64 * 8, end as u64 * 8 + 7)
    })
}

fn field_range(signed: bool, bits: u32) -> (i128, i128) {
    if signed {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    }
}

fn read_field(bytes: &[u8], offset: u64, signed: bool, bits: u32) -> i128 {
    let mut v: i128 = 0;
    for i in 0..u64::from(bits) {
        v = (v << 1) | i128::from(bit(bytes, offset + i));
    }
    if signed && v >= 1i128 << (bits - 1) {
        v -= 1i128 << bits;
    }
    v
}

fn write_field(bytes: &mut Vec<u8>, offset: u64, bits: u32, value: i128) {
    let modulus = 1i128 << bits;
    let v = value.rem_euclid(modulus);
    for i in 0..u64::from(bits) {
        put(bytes, offset + i, (v >> (u64::from(bits) - 1 - i)) & 1 == 1);
    }
}

/// What a field ends up holding under an overflow policy, `None` when FAIL refuses.
fn overflowed(
    value: i128,
    signed: bool,
    bits: u32,
    policy: Overflow,
    set_value: Option<i64>,
) -> Option<i128> {
    let (min, max) = field_range(signed, bits);
    if (min..=max).contains(&value) {
        return Some(value);
    }
    match policy {
        Overflow::Fail => None,
        Overflow::Wrap => {
            let m = 1i128 << bits;
            let v = value.rem_euclid(m);
            Some(if signed && v > max { v - m } else { v })
        }
        Overflow::Sat => {
            let high = match set_value {
                // Redis's quirks for SET: an unsigned field reads the value as a
                // u64, so any negative value saturates high; a signed field compares
                // through `max - value` in wrapping 64-bit arithmetic, so values
                // within `max` of i64::MIN saturate high too.
                Some(v) if !signed => v < 0 || value > max,
                Some(v) if signed && value < min => i128::from(v) <= i128::from(i64::MIN) + max,
                _ => value > max,
            };
            Some(if high { max } else { min })
        }
    }
}

impl Model {
    fn apply(&mut self, op: &Op) -> Reply {
        let empty = Vec::new();
        let cur = self.bytes.as_ref().unwrap_or(&empty);
        match op {
            Op::SetBit(offset, on) => {
                let old = bit(cur, *offset);
                let mut bytes = cur.clone();
                put(&mut bytes, *offset, *on);
                self.bytes = Some(bytes);
                Reply::Int(i64::from(old))
            }
            Op::GetBit(offset) => Reply::Int(i64::from(bit(cur, *offset))),
            Op::Set(bytes) => {
                self.bytes = Some(bytes.clone());
                Reply::Status("OK".into())
            }
            Op::Get => match &self.bytes {
                Some(b) => Reply::Bulk(Some(b.clone())),
                None => Reply::Bulk(None),
            },
            Op::BitCount(range) => Reply::Int(self.bitcount(range)),
            Op::BitPos(b, range) => Reply::Int(self.bitpos(*b, range)),
            Op::BitField(fields) => self.bitfield(fields, false),
            Op::BitFieldRo(fields) => self.bitfield(fields, true),
        }
    }

    fn bitcount(&self, range: &Range) -> i64 {
        let Some(bytes) = &self.bytes else {
            return 0;
        };
        let (s, e) = match *range {
            Range::None => (0, bytes.len() as i64 * 8 - 1),
            Range::Start(_) => unreachable!("not generated"),
            Range::StartEnd(start, end, unit) => {
                if start < 0 && end < 0 && start > end {
                    return 0;
                }
                match bit_interval(bytes.len(), start, end, unit == Some(true)) {
                    Some((s, e)) => (s as i64, e as i64),
                    None => return 0,
                }
            }
        };
        (s..=e).filter(|&i| bit(bytes, i as u64)).count() as i64
    }

    fn bitpos(&self, target: bool, range: &Range) -> i64 {
        let Some(bytes) = &self.bytes else {
            return if target { -1 } else { 0 };
        };
        let len = bytes.len();
        let (interval, end_given) = match *range {
            Range::None => (bit_interval(len, 0, -1, false), false),
            Range::Start(start) => (bit_interval(len, start, -1, false), false),
            Range::StartEnd(start, end, unit) => {
                (bit_interval(len, start, end, unit == Some(true)), true)
            }
        };
        let Some((s, e)) = interval else {
            return -1;
        };
        match (s..=e).find(|&i| bit(bytes, i) == target) {
            Some(i) => i as i64,
            // Without an end, the string reads as followed by zeroes.
            None if !target && !end_given => e as i64 + 1,
            None => -1,
        }
    }

    fn bitfield(&mut self, fields: &[Field], read_only: bool) -> Reply {
        let writes = fields.iter().any(|f| !matches!(f.op, FieldOp::Get));
        if writes && read_only {
            return Reply::Error("ERR BITFIELD_RO only supports the GET subcommand".into());
        }
        let mut bytes = self.bytes.clone().unwrap_or_default();
        let mut policy = Overflow::Wrap;
        let mut replies = Vec::new();
        let offset_of = |f: &Field| match f.offset {
            (true, n) => n * u64::from(f.bits),
            (false, n) => n,
        };
        if writes {
            let highest = fields
                .iter()
                .filter(|f| !matches!(f.op, FieldOp::Get))
                .map(|f| offset_of(f) + u64::from(f.bits) - 1)
                .max()
                .unwrap_or(0);
            let len = (highest / 8 + 1) as usize;
            if bytes.len() < len {
                bytes.resize(len, 0);
            }
        }
        for f in fields {
            if let Some(p) = f.overflow {
                policy = p;
            }
            let offset = offset_of(f);
            let old = read_field(&bytes, offset, f.signed, f.bits);
            let (target, reply_new, set_value) = match f.op {
                FieldOp::Get => {
                    replies.push(Reply::Int(old as i64));
                    continue;
                }
                FieldOp::Set(v) => {
                    let v128 = if f.signed {
                        i128::from(v)
                    } else {
                        i128::from(v as u64)
                    };
                    (v128, false, Some(v))
                }
                FieldOp::IncrBy(by) => (old + i128::from(by), true, None),
            };
            match overflowed(target, f.signed, f.bits, policy, set_value) {
                Some(new) => {
                    write_field(&mut bytes, offset, f.bits, new);
                    let shown = if reply_new { new } else { old };
                    replies.push(Reply::Int(shown as i64));
                }
                None => replies.push(Reply::Bulk(None)),
            }
        }
        if writes {
            self.bytes = Some(bytes);
        }
        Reply::Array(replies)
    }
}

// ---------------------------------------------------------------------------------
// Requests

fn range_args(range: &Range, args: &mut Vec<Vec<u8>>) {
    match *range {
        Range::None => {}
        Range::Start(s) => args.push(s.to_string().into_bytes()),
        Range::StartEnd(s, e, unit) => {
            args.push(s.to_string().into_bytes());
            args.push(e.to_string().into_bytes());
            match unit {
                Some(true) => args.push(b"BIT".to_vec()),
                Some(false) => args.push(b"byte".to_vec()),
                None => {}
            }
        }
    }
}

fn field_args(fields: &[Field], args: &mut Vec<Vec<u8>>) {
    for f in fields {
        if let Some(p) = f.overflow {
            args.push(b"OVERFLOW".to_vec());
            args.push(format!("{p:?}").to_uppercase().into_bytes());
        }
        let (name, value) = match f.op {
            FieldOp::Get => ("GET", None),
            FieldOp::Set(v) => ("set", Some(v)),
            FieldOp::IncrBy(v) => ("IncrBy", Some(v)),
        };
        args.push(name.as_bytes().to_vec());
        args.push(format!("{}{}", if f.signed { 'i' } else { 'u' }, f.bits).into_bytes());
        args.push(match f.offset {
            (true, n) => format!("#{n}").into_bytes(),
            (false, n) => n.to_string().into_bytes(),
        });
        if let Some(v) = value {
            args.push(v.to_string().into_bytes());
        }
    }
}

fn request(op: &Op) -> Vec<Vec<u8>> {
    let mut args: Vec<Vec<u8>> = Vec::new();
    let mut cmd = |name: &str| {
        args.push(name.as_bytes().to_vec());
        args.push(KEY.to_vec());
    };
    match op {
        Op::SetBit(o, b) => {
            cmd("SETBIT");
            args.push(o.to_string().into_bytes());
            args.push(if *b { b"1".to_vec() } else { b"0".to_vec() });
        }
        Op::GetBit(o) => {
            cmd("GETBIT");
            args.push(o.to_string().into_bytes());
        }
        Op::Get => cmd("GET"),
        Op::Set(bytes) => {
            cmd("SET");
            args.push(bytes.clone());
        }
        Op::BitCount(r) => {
            cmd("BITCOUNT");
            range_args(r, &mut args);
        }
        Op::BitPos(b, r) => {
            cmd("BITPOS");
            args.push(if *b { b"1".to_vec() } else { b"0".to_vec() });
            range_args(r, &mut args);
        }
        Op::BitField(fields) => {
            cmd("BITFIELD");
            field_args(fields, &mut args);
        }
        Op::BitFieldRo(fields) => {
            cmd("BITFIELD_RO");
            field_args(fields, &mut args);
        }
    }
    args
}

// ---------------------------------------------------------------------------------
// Strategies

fn index() -> impl Strategy<Value = i64> {
    prop_oneof![-30i64..30, -250i64..250, Just(i64::MIN), Just(i64::MAX)]
}

fn count_range() -> impl Strategy<Value = Range> {
    prop_oneof![
        Just(Range::None),
        (index(), index(), prop::option::of(any::<bool>()))
            .prop_map(|(s, e, u)| Range::StartEnd(s, e, u)),
    ]
}

fn pos_range() -> impl Strategy<Value = Range> {
    prop_oneof![
        Just(Range::None),
        index().prop_map(Range::Start),
        (index(), index(), prop::option::of(any::<bool>()))
            .prop_map(|(s, e, u)| Range::StartEnd(s, e, u)),
    ]
}

fn field_value() -> impl Strategy<Value = i64> {
    prop_oneof![
        -300i64..300,
        any::<i64>(),
        Just(i64::MIN),
        Just(i64::MIN + 5),
        Just(i64::MAX),
        Just(-1),
    ]
}

fn field() -> impl Strategy<Value = Field> {
    let overflow = prop::option::of(prop_oneof![
        Just(Overflow::Wrap),
        Just(Overflow::Sat),
        Just(Overflow::Fail)
    ]);
    let op = prop_oneof![
        Just(FieldOp::Get),
        field_value().prop_map(FieldOp::Set),
        field_value().prop_map(FieldOp::IncrBy),
    ];
    let width = prop_oneof![(Just(true), 1u32..=64), (Just(false), 1u32..=63)];
    (overflow, op, width, any::<bool>(), 0u64..OFFSET_MAX).prop_map(
        |(overflow, op, (signed, bits), hash, n)| Field {
            overflow,
            op,
            signed,
            bits,
            offset: if hash { (true, n % 4) } else { (false, n) },
        },
    )
}

fn string() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(prop_oneof![Just(0xffu8), Just(0), any::<u8>()], 0..20),
        prop::collection::vec(Just(0xffu8), 0..20),
        (0u64..100_000).prop_map(|n| n.to_string().into_bytes()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u64..OFFSET_MAX, any::<bool>()).prop_map(|(o, b)| Op::SetBit(o, b)),
        2 => (0u64..OFFSET_MAX + 50).prop_map(Op::GetBit),
        2 => count_range().prop_map(Op::BitCount),
        3 => (any::<bool>(), pos_range()).prop_map(|(b, r)| Op::BitPos(b, r)),
        3 => prop::collection::vec(field(), 0..5).prop_map(Op::BitField),
        1 => prop::collection::vec(field(), 0..3).prop_map(Op::BitFieldRo),
        1 => Just(Op::Get),
        1 => string().prop_map(Op::Set),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn bitmap_commands_agree_with_a_bit_vector(ops in prop::collection::vec(op(), 1..40)) {
        let mut node = Node::new(Config::default(), [3; 32], START_MS);
        connect(&mut node, START_MS, 1);
        let mut model = Model::default();
        for op in &ops {
            let got = call(&mut node, START_MS, 1, &request(op));
            let want = model.apply(op);
            prop_assert_eq!(got, want, "after {:?}", op);
        }
        let got = call(&mut node, START_MS, 1, &request(&Op::Get));
        prop_assert_eq!(got, model.apply(&Op::Get));
    }
}
