//! HyperLogLog values in Redis's exact byte layout (Redis's hyperloglog.c), so that
//! GET of an HLL key, DUMP and RDB files carry the same bytes as Redis's and PFCOUNT
//! answers the same integer.
//!
//! A value is a string: a 16-byte header (`HYLL`, an encoding byte, three unused
//! bytes, the cached cardinality as 8 little-endian bytes whose top bit marks the
//! cache stale) followed by the registers, 16384 of them, either
//!
//! - dense: 6 bits each, packed from the least significant bit of each byte up
//!   (12288 bytes), or
//! - sparse: run-length opcodes, `00xxxxxx` ZERO (1-64 zero registers),
//!   `01xxxxxx yyyyyyyy` XZERO (1-16384 zero registers) and `1vvvvvxx` VAL (1-4
//!   registers holding 1-32).
//!
//! Strings arrive from clients (SET, SETRANGE, RESTORE), so every reader here is
//! bounds-checked and reports corruption instead of panicking. Where Redis reads the
//! byte just past a sparse string (its terminating NUL), the readers here read 0,
//! which gives the same answers on truncated opcodes.

/// Index bits: 2^14 registers.
pub const P: u32 = 14;
/// Hash bits left for the run of zeroes.
pub const Q: u32 = 64 - P;
pub const REGISTERS: usize = 1 << P;
const P_MASK: u64 = REGISTERS as u64 - 1;
/// Bits per dense register and its largest value.
const REGISTER_BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << REGISTER_BITS) - 1;
pub const HEADER_BYTES: usize = 16;
pub const DENSE_REGISTER_BYTES: usize = (REGISTERS * REGISTER_BITS).div_ceil(8);
/// Length of a dense value, header included.
pub const DENSE_BYTES: usize = HEADER_BYTES + DENSE_REGISTER_BYTES;

const MAGIC: &[u8; 4] = b"HYLL";
const ENCODING_OFFSET: usize = 4;
const CARD_OFFSET: usize = 8;
const CACHE_STALE_BIT: u8 = 0x80;

const DENSE: u8 = 0;
const SPARSE: u8 = 1;

/// Sparse opcode limits.
const ZERO_LEN_MAX: usize = 64;
const XZERO_LEN_MAX: usize = 16384;
const VAL_VALUE_MAX: u8 = 32;
const VAL_LEN_MAX: usize = 4;

/// Redis's seed for MurmurHash64A in HyperLogLogs.
const HASH_SEED: u64 = 0xadc8_3b19;
/// 1 / (2 ln 2), the estimator's bias constant for an infinite register count.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// The two stored encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Dense,
    Sparse,
}

impl Encoding {
    /// PFDEBUG ENCODING's answer.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Dense => "dense",
            Encoding::Sparse => "sparse",
        }
    }
}

/// The register data does not describe exactly 16384 registers (Redis's
/// "Corrupted HLL object detected").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// A fresh empty HLL as Redis creates it: sparse, one XZERO of all registers,
/// cached cardinality 0.
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HEADER_BYTES + 2);
    v.extend_from_slice(MAGIC);
    v.push(SPARSE);
    v.extend_from_slice(&[0; 3 + 8]);
    let mut left = REGISTERS;
    while left > 0 {
        let run = left.min(XZERO_LEN_MAX);
        push_xzero(&mut v, run);
        left -= run;
    }
    v
}

/// Whether a string is an HLL Redis would accept (isHLLObjectOrReply): the
/// magic, a known encoding, and a dense value of exactly the dense size.
pub fn encoding_of(bytes: &[u8]) -> Option<Encoding> {
    if bytes.len() < HEADER_BYTES || &bytes[..4] != MAGIC {
        return None;
    }
    match bytes[ENCODING_OFFSET] {
        DENSE if bytes.len() == DENSE_BYTES => Some(Encoding::Dense),
        SPARSE => Some(Encoding::Sparse),
        _ => None,
    }
}

/// The cached cardinality, if it is not marked stale.
pub fn cached_cardinality(hll: &[u8]) -> Option<u64> {
    let card: [u8; 8] = hll.get(CARD_OFFSET..CARD_OFFSET + 8)?.try_into().ok()?;
    (card[7] & CACHE_STALE_BIT == 0).then(|| u64::from_le_bytes(card))
}

/// Stores a freshly computed cardinality in the header.
pub fn set_cached_cardinality(hll: &mut [u8], card: u64) {
    if let Some(slot) = hll.get_mut(CARD_OFFSET..CARD_OFFSET + 8) {
        slot.copy_from_slice(&card.to_le_bytes());
    }
}

/// Marks the cached cardinality stale.
pub fn invalidate_cache(hll: &mut [u8]) {
    if let Some(b) = hll.get_mut(CARD_OFFSET + 7) {
        *b |= CACHE_STALE_BIT;
    }
}

// ---------------------------------------------------------------------------------
// Hashing

/// MurmurHash64A as Redis uses it (little-endian block reads).
pub fn murmurhash64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut blocks = key.chunks_exact(8);
    for block in &mut blocks {
        let mut k = u64::from_le_bytes(block.try_into().unwrap_or([0; 8]));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element falls in and the value it offers there: the position
/// of the first set bit in the hash bits above the index (1-based, at most Q+1).
pub fn register_of(element: &[u8]) -> (usize, u8) {
    let hash = murmurhash64a(element, HASH_SEED);
    let index = (hash & P_MASK) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---------------------------------------------------------------------------------
// Dense registers

/// Register `i` of a dense register array.
#[inline]
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let bit = i * REGISTER_BITS;
    let (byte, shift) = (bit / 8, bit % 8);
    let b0 = u16::from(regs.get(byte).copied().unwrap_or(0));
    let b1 = u16::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 | (b1 << 8)) >> shift) as u8) & REGISTER_MAX
}

/// Sets register `i` of a dense register array to `value` (at most 63).
#[inline]
pub fn dense_put(regs: &mut [u8], i: usize, value: u8) {
    let bit = i * REGISTER_BITS;
    let (byte, shift) = (bit / 8, bit % 8);
    let value = u16::from(value & REGISTER_MAX) << shift;
    let mask = u16::from(REGISTER_MAX) << shift;
    if let Some(b) = regs.get_mut(byte) {
        *b = (*b & !(mask as u8)) | value as u8;
    }
    if let Some(b) = regs.get_mut(byte + 1) {
        *b = (*b & !((mask >> 8) as u8)) | (value >> 8) as u8;
    }
}

/// Raises register `i` to `count` if it is lower; whether it changed.
fn dense_raise(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_put(regs, i, count);
        true
    } else {
        false
    }
}

/// Calls `f` with every register of a dense array, in order, four per three bytes.
fn for_each_dense(regs: &[u8], mut f: impl FnMut(usize, u8)) {
    for (group, b) in regs.chunks_exact(3).enumerate() {
        let i = group * 4;
        f(i, b[0] & REGISTER_MAX);
        f(i + 1, ((b[0] >> 6) | (b[1] << 2)) & REGISTER_MAX);
        f(i + 2, ((b[1] >> 4) | (b[2] << 4)) & REGISTER_MAX);
        f(i + 3, b[2] >> 2);
    }
}

// ---------------------------------------------------------------------------------
// Sparse opcodes

/// One decoded sparse opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Zero(usize),
    XZero(usize),
    Val(u8, usize),
}

impl Op {
    /// Decodes the opcode at `p`, reading 0 past the end as Redis reads its NUL.
    fn at(sparse: &[u8], p: usize) -> Op {
        let b = sparse.get(p).copied().unwrap_or(0);
        if b & 0x80 != 0 {
            Op::Val(((b >> 2) & 0x1f) + 1, usize::from(b & 0x3) + 1)
        } else if b & 0x40 != 0 {
            let low = sparse.get(p + 1).copied().unwrap_or(0);
            Op::XZero(((usize::from(b & 0x3f) << 8) | usize::from(low)) + 1)
        } else {
            Op::Zero(usize::from(b & 0x3f) + 1)
        }
    }

    fn bytes(self) -> usize {
        match self {
            Op::XZero(_) => 2,
            _ => 1,
        }
    }

    fn run(self) -> usize {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }
}

fn push_val(out: &mut Vec<u8>, value: u8, len: usize) {
    debug_assert!((1..=VAL_VALUE_MAX).contains(&value) && (1..=VAL_LEN_MAX).contains(&len));
    out.push(0x80 | ((value - 1) << 2) | (len as u8 - 1));
}

fn push_xzero(out: &mut Vec<u8>, len: usize) {
    let l = len - 1;
    out.push(0x40 | (l >> 8) as u8);
    out.push((l & 0xff) as u8);
}

/// A zero run as Redis writes it: ZERO when it fits, XZERO otherwise.
fn push_zeros(out: &mut Vec<u8>, len: usize) {
    if len > ZERO_LEN_MAX {
        push_xzero(out, len);
    } else {
        out.push((len - 1) as u8);
    }
}

/// Walks sparse opcodes, calling `f(first_register, op)` for each; stops at the
/// first run that would pass the last register (returning `None`), as Redis's
/// patched hllSparseToDense/hllMerge do (CVE-2025-32023), so a value of many
/// runs costs at most 16384 registers' worth of opcodes. Returns the number of
/// registers covered otherwise.
fn walk_sparse(sparse: &[u8], mut f: impl FnMut(usize, Op)) -> Option<usize> {
    let mut p = 0;
    let mut idx = 0usize;
    while p < sparse.len() {
        let op = Op::at(sparse, p);
        if idx + op.run() > REGISTERS {
            return None;
        }
        f(idx, op);
        idx += op.run();
        p += op.bytes();
    }
    Some(idx)
}

// ---------------------------------------------------------------------------------
// Adding

/// PFADD of one element; whether a register changed. `sparse_bytes_max` is
/// `hll-sparse-max-bytes`.
pub fn add(hll: &mut Vec<u8>, element: &[u8], sparse_bytes_max: u64) -> Result<bool, Corrupt> {
    let (index, count) = register_of(element);
    set_register(hll, index, count, sparse_bytes_max)
}

/// Raises register `index` to `count` (1..=Q+1) in either encoding, promoting a
/// sparse value to dense as Redis does; whether it changed.
pub fn set_register(
    hll: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_bytes_max: u64,
) -> Result<bool, Corrupt> {
    match encoding_of(hll) {
        Some(Encoding::Dense) => Ok(dense_raise(&mut hll[HEADER_BYTES..], index, count)),
        Some(Encoding::Sparse) => sparse_set(hll, index, count, sparse_bytes_max),
        None => Err(Corrupt),
    }
}

/// What the sparse update needs to do.
enum SparseEdit {
    Unchanged,
    Updated { prev: Option<usize> },
    Promote,
}

fn sparse_set(
    hll: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_bytes_max: u64,
) -> Result<bool, Corrupt> {
    let edit = if count > VAL_VALUE_MAX {
        SparseEdit::Promote
    } else {
        sparse_edit(hll, index, count, sparse_bytes_max)?
    };
    match edit {
        SparseEdit::Unchanged => Ok(false),
        SparseEdit::Updated { prev } => {
            merge_adjacent_vals(hll, prev.unwrap_or(HEADER_BYTES));
            invalidate_cache(hll);
            Ok(true)
        }
        SparseEdit::Promote => {
            to_dense(hll)?;
            dense_raise(&mut hll[HEADER_BYTES..], index, count);
            Ok(true)
        }
    }
}

/// Finds the opcode covering `index` and rewrites it in place (Redis's
/// hllSparseSet steps 1-3), or says the value must become dense.
fn sparse_edit(
    hll: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_bytes_max: u64,
) -> Result<SparseEdit, Corrupt> {
    let end = hll.len();
    let (mut p, mut first, mut prev) = (HEADER_BYTES, 0usize, None);
    let mut found = None;
    while p < end {
        let op = Op::at(hll, p);
        if index < first + op.run() {
            found = Some(op);
            break;
        }
        prev = Some(p);
        p += op.bytes();
        first += op.run();
    }
    let Some(op) = found else {
        return Err(Corrupt);
    };
    if p + op.bytes() > end {
        // A truncated XZERO: refuse rather than guess.
        return Err(Corrupt);
    }
    match op {
        Op::Val(value, _) if value >= count => return Ok(SparseEdit::Unchanged),
        Op::Val(_, 1) | Op::Zero(1) => {
            hll[p] = 0x80 | ((count - 1) << 2);
            return Ok(SparseEdit::Updated { prev });
        }
        _ => {}
    }
    let last = first + op.run() - 1;
    let mut seq = Vec::with_capacity(5);
    match op {
        Op::Val(value, _) => {
            if index != first {
                push_val(&mut seq, value, index - first);
            }
            push_val(&mut seq, count, 1);
            if index != last {
                push_val(&mut seq, value, last - index);
            }
        }
        Op::Zero(_) | Op::XZero(_) => {
            if index != first {
                push_zeros(&mut seq, index - first);
            }
            push_val(&mut seq, count, 1);
            if index != last {
                push_zeros(&mut seq, last - index);
            }
        }
    }
    let grows = seq.len() > op.bytes();
    if grows && (end - op.bytes() + seq.len()) as u64 > sparse_bytes_max {
        return Ok(SparseEdit::Promote);
    }
    hll.splice(p..p + op.bytes(), seq);
    Ok(SparseEdit::Updated { prev })
}

/// Redis's step 4: looking at up to five opcodes from `p`, joins neighbouring VAL
/// runs of the same value while the joined run fits one opcode.
fn merge_adjacent_vals(hll: &mut Vec<u8>, mut p: usize) {
    let mut scan = 5;
    while p < hll.len() && scan > 0 {
        scan -= 1;
        let op = Op::at(hll, p);
        let Op::Val(v1, len1) = op else {
            p += op.bytes();
            continue;
        };
        if p + 1 < hll.len() {
            if let Op::Val(v2, len2) = Op::at(hll, p + 1) {
                if v1 == v2 && len1 + len2 <= VAL_LEN_MAX {
                    hll.remove(p);
                    hll[p] = 0x80 | ((v1 - 1) << 2) | (len1 + len2 - 1) as u8;
                    continue;
                }
            }
        }
        p += 1;
    }
}

/// Converts a sparse value to dense in place (the header, cached cardinality
/// included, is kept). Returns whether it converted; a dense value is left alone.
pub fn to_dense(hll: &mut Vec<u8>) -> Result<bool, Corrupt> {
    if hll.get(ENCODING_OFFSET) == Some(&DENSE) {
        return Ok(false);
    }
    let header = hll.get(..HEADER_BYTES).ok_or(Corrupt)?;
    let mut dense = vec![0u8; DENSE_BYTES];
    dense[..HEADER_BYTES].copy_from_slice(header);
    dense[ENCODING_OFFSET] = DENSE;
    let regs = &mut dense[HEADER_BYTES..];
    let covered = walk_sparse(&hll[HEADER_BYTES..], |first, op| {
        if let Op::Val(value, run) = op {
            for i in first..first + run {
                dense_put(regs, i, value);
            }
        }
    });
    if covered != Some(REGISTERS) {
        return Err(Corrupt);
    }
    *hll = dense;
    Ok(true)
}

// ---------------------------------------------------------------------------------
// Merging and counting

/// Raises each of `max` (one byte per register) to the value's register (Redis's
/// hllMerge). The value must have passed [`encoding_of`].
pub fn merge_into(max: &mut [u8; REGISTERS], hll: &[u8]) -> Result<(), Corrupt> {
    match encoding_of(hll) {
        Some(Encoding::Dense) => {
            for_each_dense(&hll[HEADER_BYTES..], |i, v| max[i] = max[i].max(v));
            Ok(())
        }
        Some(Encoding::Sparse) => {
            let covered = walk_sparse(&hll[HEADER_BYTES..], |first, op| {
                if let Op::Val(value, run) = op {
                    for m in &mut max[first..first + run] {
                        *m = (*m).max(value);
                    }
                }
            });
            if covered == Some(REGISTERS) {
                Ok(())
            } else {
                Err(Corrupt)
            }
        }
        None => Err(Corrupt),
    }
}

/// How many registers hold each value 0..=63.
type Histogram = [u32; 64];

/// The cardinality estimate of a stored value (Redis's hllCount).
pub fn count(hll: &[u8]) -> Result<u64, Corrupt> {
    let mut histo: Histogram = [0; 64];
    match encoding_of(hll) {
        Some(Encoding::Dense) => {
            for_each_dense(&hll[HEADER_BYTES..], |_, v| histo[usize::from(v)] += 1);
        }
        Some(Encoding::Sparse) => sparse_histogram(&hll[HEADER_BYTES..], &mut histo)?,
        None => return Err(Corrupt),
    }
    Ok(estimate(&histo))
}

/// The cardinality estimate of a plain register array (PFCOUNT of several keys).
pub fn count_registers(max: &[u8; REGISTERS]) -> u64 {
    let mut histo: Histogram = [0; 64];
    for &v in max {
        histo[usize::from(v & REGISTER_MAX)] += 1;
    }
    estimate(&histo)
}

fn sparse_histogram(sparse: &[u8], histo: &mut Histogram) -> Result<(), Corrupt> {
    let covered = walk_sparse(sparse, |_, op| {
        let run = op.run() as u32;
        match op {
            Op::Val(value, _) => histo[usize::from(value)] += run,
            Op::Zero(_) | Op::XZero(_) => histo[0] += run,
        }
    });
    if covered == Some(REGISTERS) {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Ertl's improved estimator ("New cardinality estimation algorithms for
/// HyperLogLog sketches", 2017), as Redis 7 computes it.
fn estimate(histo: &Histogram) -> u64 {
    let m = REGISTERS as f64;
    let q = Q as usize;
    let mut z = m * tau((m - f64::from(histo[q + 1])) / m);
    for j in (1..=q).rev() {
        z += f64::from(histo[j]);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histo[0]) / m);
    (ALPHA_INF * m * m / z).round() as u64
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if before == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if before == z {
            return z / 3.0;
        }
    }
}

// ---------------------------------------------------------------------------------
// Debugging

/// PFDEBUG DECODE's text for a sparse value: `z:N` ZERO, `Z:N` XZERO, `v:V,N` VAL,
/// space separated.
pub fn decode_sparse(hll: &[u8]) -> String {
    let sparse = hll.get(HEADER_BYTES..).unwrap_or(&[]);
    let mut parts = Vec::new();
    let mut p = 0;
    while p < sparse.len() {
        let op = Op::at(sparse, p);
        parts.push(match op {
            Op::Zero(n) => format!("z:{n}"),
            Op::XZero(n) => format!("Z:{n}"),
            Op::Val(v, n) => format!("v:{v},{n}"),
        });
        p += op.bytes();
    }
    parts.join(" ")
}

/// The 16384 registers of a dense value, for PFDEBUG GETREG.
pub fn dense_registers(hll: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; REGISTERS];
    if let Some(regs) = hll.get(HEADER_BYTES..) {
        for_each_dense(regs, |i, v| {
            if let Some(slot) = out.get_mut(i) {
                *slot = v;
            }
        });
    }
    out
}

/// PFSELFTEST: checks register packing, that sparse and dense agree, and that
/// estimates stay within the expected error. Returns what failed.
pub fn self_test() -> Result<(), String> {
    // Every register holds what was written, without disturbing its neighbours.
    let mut regs = vec![0u8; DENSE_REGISTER_BYTES];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let values: Vec<u8> = (0..REGISTERS).map(|_| (next() % 64) as u8).collect();
    for (i, &v) in values.iter().enumerate() {
        dense_put(&mut regs, i, v);
    }
    if let Some(i) = (0..REGISTERS).find(|&i| dense_get(&regs, i) != values[i]) {
        return Err(format!("TESTFAILED Register error at {i}"));
    }
    // Sparse and dense representations of the same elements agree.
    let mut sparse = new_sparse();
    let mut dense = new_sparse();
    to_dense(&mut dense).map_err(|_| "TESTFAILED empty HLL is corrupt".to_string())?;
    let mut added = 0u64;
    for checkpoint in [10u64, 100, 1000, 5000, 20_000, 50_000] {
        while added < checkpoint {
            let element = added.to_le_bytes();
            let fail = |_| "TESTFAILED add failed".to_string();
            // The sparse copy stops at 5000 elements, where it is still sparse.
            if checkpoint <= 5000 {
                add(&mut sparse, &element, u64::MAX).map_err(fail)?;
            }
            add(&mut dense, &element, u64::MAX).map_err(fail)?;
            added += 1;
        }
        let cd = count(&dense).map_err(|_| "TESTFAILED dense HLL is corrupt".to_string())?;
        if checkpoint <= 5000 && count(&sparse) != Ok(cd) {
            return Err(format!("TESTFAILED sparse/dense count mismatch at {added}"));
        }
        // Standard error 1.04/sqrt(m) is 0.81%; allow five of them.
        let rel = (cd as f64 - added as f64).abs() / added as f64;
        if added >= 1000 && rel > 5.0 * 1.04 / (REGISTERS as f64).sqrt() {
            return Err(format!(
                "TESTFAILED too big error. card:{added} relerr:{rel}"
            ));
        }
        if checkpoint == 5000 {
            let mut promoted = sparse.clone();
            let _ = to_dense(&mut promoted);
            if promoted[HEADER_BYTES..] != dense[HEADER_BYTES..] {
                return Err("TESTFAILED sparse to dense conversion differs".into());
            }
        }
    }
    Ok(())
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_hll_is_an_18_byte_sparse_string() {
        let v = new_sparse();
        assert_eq!(v, b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff");
        assert_eq!(count(&v), Ok(0));
        assert_eq!(cached_cardinality(&v), Some(0));
    }

    #[test]
    fn elements_land_where_redis_puts_them() {
        // Registers and values read from PFDEBUG DECODE on redis-server 7.0.15.
        assert_eq!(register_of(b"a"), (12711, 2));
        assert_eq!(register_of(b"hello"), (9216, 1));
        assert_eq!(register_of(b"abcdefghij"), (12228, 1));
    }

    #[test]
    fn sparse_adds_produce_redis_bytes() {
        // PFADD h a b c d e f g on redis-server 7.0.15, then PFCOUNT (cache set).
        let mut v = new_sparse();
        for e in [b"a", b"b", b"c", b"d", b"e", b"f", b"g"] {
            assert_eq!(add(&mut v, e, 3000), Ok(true));
        }
        let tail: &[u8] = b"\x46\x6d\x80\x56\x0c\x80\x44\x3c\x84\x38\x80\x50\xb1\x84\x49\x8c\x80\x42\x6d\x80\x42\x5a";
        assert_eq!(&v[HEADER_BYTES..], tail);
        assert_eq!(v[15], 0x80);
        assert_eq!(count(&v), Ok(7));
    }

    #[test]
    fn dense_registers_pack_four_per_three_bytes() {
        let mut regs = vec![0u8; DENSE_REGISTER_BYTES];
        dense_put(&mut regs, 1, 63);
        assert_eq!(&regs[..2], &[0xc0, 0x0f]);
        dense_put(&mut regs, REGISTERS - 1, 63);
        assert_eq!(regs[DENSE_REGISTER_BYTES - 1], 0xfc);
        assert_eq!(dense_get(&regs, REGISTERS - 1), 63);
        assert_eq!(dense_get(&regs, 0), 0);
    }

    #[test]
    fn self_test_passes() {
        assert_eq!(self_test(), Ok(()));
    }

    #[test]
    fn truncated_or_overlong_sparse_values_are_corrupt() {
        let mut v = new_sparse();
        v.pop();
        assert_eq!(count(&v), Err(Corrupt));
        let mut v = new_sparse();
        v.push(0x80);
        assert_eq!(count(&v), Err(Corrupt));
        assert_eq!(to_dense(&mut v), Err(Corrupt));
        let mut max = [0u8; REGISTERS];
        assert_eq!(merge_into(&mut max, &v), Err(Corrupt));
    }

    #[test]
    fn runs_past_the_register_count_are_corrupt_whatever_follows() {
        // CVE-2025-32023's shapes: more XZERO or ZERO runs than registers (enough
        // to overflow a 32-bit index), then a VAL opcode.
        let header = &new_sparse()[..HEADER_BYTES];
        for (op, times) in [(&[0x7f, 0xff][..], 132_072), (&[0x3f][..], 1 << 20)] {
            let mut v = header.to_vec();
            for _ in 0..times {
                v.extend_from_slice(op);
            }
            v.push(0xff);
            assert_eq!(count(&v), Err(Corrupt));
            let mut max = [0u8; REGISTERS];
            assert_eq!(merge_into(&mut max, &v), Err(Corrupt));
            assert_eq!(to_dense(&mut v.clone()), Err(Corrupt));
        }
    }

    #[test]
    fn cache_flag_is_the_top_bit_of_the_last_header_byte() {
        let mut v = new_sparse();
        set_cached_cardinality(&mut v, 0x0102);
        assert_eq!(cached_cardinality(&v), Some(0x0102));
        invalidate_cache(&mut v);
        assert_eq!(v[15], 0x80);
        assert_eq!(cached_cardinality(&v), None);
    }

    /// One step of a random HLL workload.
    #[derive(Debug, Clone)]
    enum Step {
        Add(Vec<u8>),
        /// A register write as PFMERGE makes it, clustered so runs split and merge.
        Raise(usize, u8),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            3 => prop::collection::vec(any::<u8>(), 0..12).prop_map(Step::Add),
            2 => (0usize..64, 1u8..=33).prop_map(|(i, c)| Step::Raise(i, c)),
            1 => (0usize..REGISTERS, 1u8..=(Q as u8 + 1)).prop_map(|(i, c)| Step::Raise(i, c)),
        ]
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// The same writes to a sparse and a dense value leave the same registers,
        /// the same count, and the sparse one converts to the dense one's bytes.
        #[test]
        fn sparse_and_dense_values_agree(
            steps in prop::collection::vec(step(), 0..120),
            sparse_max in prop_oneof![Just(3000u64), 20u64..200],
        ) {
            let mut sparse = new_sparse();
            let mut dense = new_sparse();
            to_dense(&mut dense).unwrap();
            let mut model = [0u8; REGISTERS];
            for step in &steps {
                let (i, c) = match step {
                    Step::Add(e) => register_of(e),
                    Step::Raise(i, c) => (*i, *c),
                };
                let changed = c > model[i];
                model[i] = model[i].max(c);
                prop_assert_eq!(set_register(&mut sparse, i, c, sparse_max), Ok(changed));
                prop_assert_eq!(set_register(&mut dense, i, c, sparse_max), Ok(changed));
                if encoding_of(&sparse) == Some(Encoding::Sparse) {
                    prop_assert!(sparse.len() as u64 <= sparse_max.max(18));
                }
            }
            prop_assert_eq!(count(&sparse), count(&dense));
            prop_assert_eq!(count(&dense), Ok(count_registers(&model)));
            prop_assert_eq!(&dense_registers(&dense)[..], &model[..]);
            let mut merged = [0u8; REGISTERS];
            merge_into(&mut merged, &sparse).unwrap();
            prop_assert_eq!(&merged[..], &model[..]);
            let mut converted = sparse.clone();
            to_dense(&mut converted).unwrap();
            prop_assert_eq!(&converted[HEADER_BYTES..], &dense[HEADER_BYTES..]);
        }
    }
}
