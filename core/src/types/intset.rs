//! Redis's intset: a sorted array of unique integers, all stored with the width the
//! largest magnitude needs, kept in Redis's exact bytes so that RDB can write and read
//! it as is:
//!
//! ```text
//! encoding: u32 LE (2, 4 or 8: bytes per value) | length: u32 LE | values, ascending, LE
//! ```
//!
//! Adding a value that needs a wider encoding rewrites every value at the new width
//! (an intset never narrows again, as in Redis). Small intsets live inline, so a
//! set of a few small integers costs one allocation, as Redis's robj + intset do.

use std::fmt;

/// Bytes per value (Redis's INTSET_ENC_INT16/32/64).
const ENC_INT16: u32 = 2;
const ENC_INT32: u32 = 4;
const ENC_INT64: u32 = 8;

/// The encoding and length fields.
pub const HEADER_BYTES: usize = 8;

/// Intset bytes kept inline before moving to the heap: 15 int16, 7 int32 or 3 int64
/// values. Chosen so that a whole `Set` is 40 bytes, one 48-byte malloc chunk.
const INLINE_BYTES_MAX: usize = 38;

/// The bytes of an empty intset of 16-bit values.
const EMPTY: [u8; HEADER_BYTES] = [2, 0, 0, 0, 0, 0, 0, 0];

/// Why bytes from outside (RDB, DUMP) are not a valid intset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntsetError {
    /// Fewer than the 8 header bytes.
    Truncated,
    /// An encoding other than 2, 4 or 8.
    BadEncoding(u32),
    /// The length field does not match the byte count.
    BadLength,
    /// Values are not strictly ascending.
    NotSorted,
}

impl fmt::Display for IntsetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntsetError::Truncated => f.write_str("intset shorter than its header"),
            IntsetError::BadEncoding(e) => write!(f, "intset encoding {e} is not 2, 4 or 8"),
            IntsetError::BadLength => f.write_str("intset length does not match its size"),
            IntsetError::NotSorted => f.write_str("intset values are not strictly ascending"),
        }
    }
}

/// The bytes, inline while short.
#[derive(Clone)]
enum Buf {
    Inline {
        len: u8,
        data: [u8; INLINE_BYTES_MAX],
    },
    Heap(Vec<u8>),
}

impl Buf {
    fn from_slice(bytes: &[u8]) -> Buf {
        if bytes.len() <= INLINE_BYTES_MAX {
            let mut data = [0u8; INLINE_BYTES_MAX];
            data[..bytes.len()].copy_from_slice(bytes);
            Buf::Inline {
                len: bytes.len() as u8,
                data,
            }
        } else {
            Buf::Heap(bytes.to_vec())
        }
    }

    #[inline]
    fn as_slice(&self) -> &[u8] {
        match self {
            Buf::Inline { len, data } => &data[..usize::from(*len)],
            Buf::Heap(v) => v,
        }
    }

    #[inline]
    fn as_mut_slice(&mut self) -> &mut [u8] {
        match self {
            Buf::Inline { len, data } => &mut data[..usize::from(*len)],
            Buf::Heap(v) => v,
        }
    }

    /// Grows (zero-filled) or shrinks to `new_len` bytes, with an exact-size heap
    /// buffer as Redis's intsetResize reallocates exactly.
    fn resize(&mut self, new_len: usize) {
        match self {
            Buf::Inline { len, data } if new_len <= INLINE_BYTES_MAX => {
                let old = usize::from(*len);
                if new_len > old {
                    data[old..new_len].fill(0);
                }
                *len = new_len as u8;
            }
            Buf::Inline { len, data } => {
                let mut v = Vec::with_capacity(new_len);
                v.extend_from_slice(&data[..usize::from(*len)]);
                v.resize(new_len, 0);
                *self = Buf::Heap(v);
            }
            Buf::Heap(v) if new_len <= INLINE_BYTES_MAX => {
                *self = Buf::from_slice(&v[..new_len]);
            }
            Buf::Heap(v) => {
                if new_len > v.len() {
                    v.reserve_exact(new_len - v.len());
                }
                v.resize(new_len, 0);
                if v.capacity() > new_len {
                    v.shrink_to_fit();
                }
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Buf::Inline { .. } => 0,
            Buf::Heap(v) => v.capacity(),
        }
    }
}

/// A sorted set of unique integers in Redis's intset bytes.
#[derive(Clone)]
pub struct Intset {
    buf: Buf,
}

impl Default for Intset {
    fn default() -> Self {
        Intset::new()
    }
}

impl PartialEq for Intset {
    /// Equal when they hold the same values, whatever their widths.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Intset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// Bytes per value `v` needs.
fn width_of(v: i64) -> u32 {
    if i32::try_from(v).is_err() {
        ENC_INT64
    } else if i16::try_from(v).is_err() {
        ENC_INT32
    } else {
        ENC_INT16
    }
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

/// The value at index `i` of `values` (the bytes after the header) at width `enc`.
#[inline]
fn value_at(values: &[u8], enc: u32, i: usize) -> i64 {
    match enc {
        ENC_INT16 => {
            let at = i * 2;
            i64::from(i16::from_le_bytes([values[at], values[at + 1]]))
        }
        ENC_INT32 => {
            let at = i * 4;
            let mut w = [0u8; 4];
            w.copy_from_slice(&values[at..at + 4]);
            i64::from(i32::from_le_bytes(w))
        }
        _ => {
            let at = i * 8;
            let mut w = [0u8; 8];
            w.copy_from_slice(&values[at..at + 8]);
            i64::from_le_bytes(w)
        }
    }
}

/// Writes `v` at index `i` of `values` at width `enc` (which `v` fits).
#[inline]
fn write_at(values: &mut [u8], enc: u32, i: usize, v: i64) {
    let width = enc as usize;
    let at = i * width;
    values[at..at + width].copy_from_slice(&v.to_le_bytes()[..width]);
}

impl Intset {
    pub fn new() -> Self {
        Intset {
            buf: Buf::from_slice(&EMPTY),
        }
    }

    /// An intset from Redis's bytes (an RDB or DUMP payload), checked: encoding,
    /// length against size, strictly ascending values.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IntsetError> {
        if bytes.len() < HEADER_BYTES {
            return Err(IntsetError::Truncated);
        }
        let enc = read_u32(bytes, 0);
        if !matches!(enc, ENC_INT16 | ENC_INT32 | ENC_INT64) {
            return Err(IntsetError::BadEncoding(enc));
        }
        let len = read_u32(bytes, 4) as usize;
        let size = len
            .checked_mul(enc as usize)
            .and_then(|n| n.checked_add(HEADER_BYTES));
        if size != Some(bytes.len()) {
            return Err(IntsetError::BadLength);
        }
        let values = &bytes[HEADER_BYTES..];
        for i in 1..len {
            if value_at(values, enc, i - 1) >= value_at(values, enc, i) {
                return Err(IntsetError::NotSorted);
            }
        }
        Ok(Intset {
            buf: Buf::from_slice(bytes),
        })
    }

    /// Redis's exact intset bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_slice()
    }

    /// Bytes per value: 2, 4 or 8.
    pub fn encoding(&self) -> u32 {
        read_u32(self.buf.as_slice(), 0)
    }

    pub fn len(&self) -> usize {
        read_u32(self.buf.as_slice(), 4) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes beyond the inline buffer, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.buf.heap_bytes()
    }

    /// The `i`th smallest value.
    pub fn get(&self, i: usize) -> Option<i64> {
        (i < self.len()).then(|| value_at(self.values(), self.encoding(), i))
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            values: self.values(),
            enc: self.encoding(),
            front: 0,
            back: self.len(),
        }
    }

    pub fn contains(&self, v: i64) -> bool {
        width_of(v) <= self.encoding() && self.search(v).is_ok()
    }

    /// Adds `v`; false if it was already there.
    pub fn insert(&mut self, v: i64) -> bool {
        let enc = self.encoding();
        if width_of(v) > enc {
            self.upgrade_and_insert(v);
            return true;
        }
        let Err(pos) = self.search(v) else {
            return false;
        };
        let len = self.len();
        let width = enc as usize;
        self.buf.resize(HEADER_BYTES + (len + 1) * width);
        let bytes = self.buf.as_mut_slice();
        let values = &mut bytes[HEADER_BYTES..];
        values.copy_within(pos * width..len * width, (pos + 1) * width);
        write_at(values, enc, pos, v);
        self.set_len(len + 1);
        true
    }

    /// Removes `v`; false if it was not there.
    pub fn remove(&mut self, v: i64) -> bool {
        if width_of(v) > self.encoding() {
            return false;
        }
        let Ok(pos) = self.search(v) else {
            return false;
        };
        let len = self.len();
        let width = self.encoding() as usize;
        let values = &mut self.buf.as_mut_slice()[HEADER_BYTES..];
        values.copy_within((pos + 1) * width..len * width, pos * width);
        self.buf.resize(HEADER_BYTES + (len - 1) * width);
        self.set_len(len - 1);
        true
    }

    fn values(&self) -> &[u8] {
        &self.buf.as_slice()[HEADER_BYTES..]
    }

    fn set_len(&mut self, len: usize) {
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        self.buf.as_mut_slice()[4..8].copy_from_slice(&len.to_le_bytes());
    }

    /// Binary search: `Ok(index)` when present, `Err(insertion point)` otherwise.
    fn search(&self, v: i64) -> Result<usize, usize> {
        let values = self.values();
        let enc = self.encoding();
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match value_at(values, enc, mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// Widens every value to fit `v`, which (needing more bytes than any value
    /// present) is either below all of them or above all of them.
    fn upgrade_and_insert(&mut self, v: i64) {
        let old_enc = self.encoding();
        let new_enc = width_of(v);
        let len = self.len();
        let prepend = usize::from(v < 0);
        self.buf.resize(HEADER_BYTES + (len + 1) * new_enc as usize);
        let bytes = self.buf.as_mut_slice();
        bytes[0..4].copy_from_slice(&new_enc.to_le_bytes());
        let values = &mut bytes[HEADER_BYTES..];
        // From the back, so no value is overwritten before it is read.
        for i in (0..len).rev() {
            let x = value_at(values, old_enc, i);
            write_at(values, new_enc, i + prepend, x);
        }
        let at = if prepend == 1 { 0 } else { len };
        write_at(values, new_enc, at, v);
        self.set_len(len + 1);
    }
}

/// The values in ascending order.
pub struct Iter<'a> {
    values: &'a [u8],
    enc: u32,
    front: usize,
    back: usize,
}

impl Iterator for Iter<'_> {
    type Item = i64;

    fn next(&mut self) -> Option<i64> {
        if self.front >= self.back {
            return None;
        }
        let v = value_at(self.values, self.enc, self.front);
        self.front += 1;
        Some(v)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<i64> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        Some(value_at(self.values, self.enc, self.back))
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn of(values: &[i64]) -> Intset {
        let mut s = Intset::new();
        for &v in values {
            s.insert(v);
        }
        s
    }

    #[test]
    fn an_empty_intset_is_redis_s_eight_header_bytes() {
        assert_eq!(Intset::new().as_bytes(), &[2, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn small_values_are_stored_as_sorted_little_endian_int16() {
        let s = of(&[5, -1, 300]);
        assert_eq!(
            s.as_bytes(),
            &[2, 0, 0, 0, 3, 0, 0, 0, 0xff, 0xff, 5, 0, 0x2c, 0x01]
        );
    }

    #[test]
    fn a_wide_value_upgrades_every_value_and_lands_at_the_right_end() {
        let mut s = of(&[1, 2]);
        assert!(s.insert(70_000));
        assert_eq!(s.encoding(), 4);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![1, 2, 70_000]);
        assert!(s.insert(i64::MIN));
        assert_eq!(s.encoding(), 8);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![i64::MIN, 1, 2, 70_000]);
        assert_eq!(s.as_bytes().len(), HEADER_BYTES + 4 * 8);
    }

    #[test]
    fn removing_values_never_narrows_the_encoding() {
        let mut s = of(&[1, i64::MAX]);
        assert!(s.remove(i64::MAX));
        assert!(!s.remove(i64::MAX));
        assert_eq!(s.encoding(), 8);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![1]);
        assert!(!s.contains(i64::MAX));
        assert!(s.contains(1));
    }

    #[test]
    fn duplicates_are_refused_and_lookups_of_wider_values_miss() {
        let mut s = of(&[7]);
        assert!(!s.insert(7));
        assert!(!s.contains(1 << 40));
        assert!(!s.remove(1 << 40));
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn large_intsets_move_to_the_heap_and_back_inline() {
        let mut s = Intset::new();
        for v in 0..100 {
            s.insert(v * 3);
        }
        assert!(s.heap_bytes() > 0);
        for v in 0..100 {
            assert!(s.contains(v * 3));
            assert!(!s.contains(v * 3 + 1));
        }
        for v in 5..100 {
            s.remove(v * 3);
        }
        assert_eq!(s.heap_bytes(), 0);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![0, 3, 6, 9, 12]);
    }

    #[test]
    fn from_bytes_round_trips_and_rejects_bad_input() {
        let s = of(&[-5, 10, 1 << 33]);
        assert_eq!(Intset::from_bytes(s.as_bytes()).as_ref(), Ok(&s));
        assert_eq!(Intset::from_bytes(&[2, 0]), Err(IntsetError::Truncated));
        assert_eq!(
            Intset::from_bytes(&[3, 0, 0, 0, 0, 0, 0, 0]),
            Err(IntsetError::BadEncoding(3))
        );
        assert_eq!(
            Intset::from_bytes(&[2, 0, 0, 0, 2, 0, 0, 0, 1, 0]),
            Err(IntsetError::BadLength)
        );
        assert_eq!(
            Intset::from_bytes(&[2, 0, 0, 0, 255, 255, 255, 255]),
            Err(IntsetError::BadLength)
        );
        assert_eq!(
            Intset::from_bytes(&[2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 1, 0]),
            Err(IntsetError::NotSorted)
        );
    }

    #[test]
    fn matches_a_btreeset_under_random_operations() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut s = Intset::new();
        let mut model = BTreeSet::new();
        for _ in 0..5000 {
            let r = next();
            let v = match r % 4 {
                0 => (r >> 8) as i64 % 100,
                1 => (r >> 8) as i64 % 100_000,
                2 => (r >> 8) as i64,
                _ => -((r >> 8) as i64 % 40_000),
            };
            if next() % 3 == 0 {
                assert_eq!(s.remove(v), model.remove(&v));
            } else {
                assert_eq!(s.insert(v), model.insert(v));
            }
            assert_eq!(s.len(), model.len());
        }
        assert!(s.iter().eq(model.iter().copied()));
        assert!(s.iter().rev().eq(model.iter().rev().copied()));
        assert_eq!(Intset::from_bytes(s.as_bytes()).as_ref(), Ok(&s));
    }
}
