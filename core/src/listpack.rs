//! Redis 7.0's listpack: a compact, byte-exact sequence of strings and integers.
//!
//! Lists, hashes and sorted sets keep small collections in this format, and RDB files
//! store it verbatim, so the bytes here are exactly the bytes Redis writes:
//!
//! ```text
//! <total-bytes: u32 LE> <count: u16 LE> <entry> ... <entry> <0xFF>
//! entry = <encoding + data> <backlen: length of encoding + data, 1-5 bytes>
//! ```
//!
//! A count of [`COUNT_UNKNOWN`] (65535) means "too many to count in the header; scan".
//! Strings that are canonical integers (as `string2ll` reads them) are stored as the
//! smallest integer encoding that holds them, as Redis does.
//!
//! Offsets handed out by [`Listpack::first`], [`Listpack::next`] and friends are byte
//! offsets of entries. Edits shift the offsets of the entries after the edited one.
//!
//! Memory: the buffer grows with `reserve_exact` (no doubling: across 100,000 small
//! listpacks doubling would waste a third of the memory on average), the way Redis
//! reallocates a listpack to its exact size on every insert. After an edit that makes
//! the listpack smaller, the buffer is shrunk to fit once its capacity exceeds 1.5x its
//! length, so a queue that pops and pushes does not reallocate on every operation.

use crate::util::num::{i64_digits, parse_i64};
use std::fmt;

/// Size of the header: total bytes (u32) and element count (u16).
pub const HEADER_BYTES: usize = 6;
/// The element count the header holds when the real count does not fit: scan to count.
pub const COUNT_UNKNOWN: u16 = u16::MAX;
/// The byte that ends every listpack.
pub const TERMINATOR: u8 = 0xFF;
/// Redis's `LISTPACK_MAX_SAFETY_SIZE`: callers convert to a bigger encoding first.
pub const SAFE_BYTES_MAX: usize = 1 << 30;

const EMPTY: [u8; 7] = [7, 0, 0, 0, 0, 0, TERMINATOR];

/// One element read from a listpack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LpValue<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> LpValue<'a> {
    /// The element as the string a client sees (integers in decimal).
    pub fn to_bytes<'b>(&'b self, buf: &'b mut [u8; 20]) -> &'b [u8] {
        match *self {
            LpValue::Int(v) => i64_digits(v, buf),
            LpValue::Str(s) => s,
        }
    }

    /// Whether the element equals the client string `v` (as `lpFind` compares).
    pub fn eq_bytes(&self, v: &[u8]) -> bool {
        match *self {
            LpValue::Int(i) => parse_i64(v) == Some(i),
            LpValue::Str(s) => s == v,
        }
    }

    /// The element as an owned string.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut buf = [0; 20];
        self.to_bytes(&mut buf).to_vec()
    }
}

/// Why [`Listpack::from_bytes`] rejected a blob, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListpackError {
    /// Byte offset of the problem in the blob.
    pub offset: usize,
    pub kind: ListpackErrorKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListpackErrorKind {
    /// Shorter than a header and a terminator.
    TooShort,
    /// The header's total-bytes field differs from the blob's length.
    TotalBytesMismatch,
    /// The last byte is not 0xFF.
    MissingTerminator,
    /// A 0xFF byte where an entry should start, before the end.
    EarlyTerminator,
    /// An encoding byte no listpack uses (0xF5..=0xFE).
    BadEncoding,
    /// An entry runs past the terminator.
    EntryOutOfBounds,
    /// An entry's backlen does not encode its length.
    BadBacklen,
    /// The header's element count differs from the entries found.
    CountMismatch,
}

impl fmt::Display for ListpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid listpack: {:?} at byte {}",
            self.kind, self.offset
        )
    }
}

impl std::error::Error for ListpackError {}

/// Redis's exact listpack bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Listpack {
    buf: Vec<u8>,
}

impl Default for Listpack {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Listpack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Listpack {
    /// An empty listpack (7 bytes).
    pub fn new() -> Self {
        Listpack {
            buf: EMPTY.to_vec(),
        }
    }

    /// Takes an untrusted blob (an RDB payload, RESTORE), checking every byte of it.
    pub fn from_bytes(mut bytes: Vec<u8>) -> Result<Self, ListpackError> {
        validate(&bytes)?;
        if bytes.capacity() > bytes.len() + bytes.len() / 2 {
            bytes.shrink_to_fit();
        }
        Ok(Listpack { buf: bytes })
    }

    /// The listpack's bytes, as Redis stores them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Number of elements (a scan when the header says [`COUNT_UNKNOWN`]).
    pub fn len(&self) -> usize {
        match self.header_count() {
            COUNT_UNKNOWN => self.scan_count(),
            n => usize::from(n),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.buf[HEADER_BYTES] == TERMINATOR
    }

    /// Total encoded size in bytes, header and terminator included.
    pub fn bytes_len(&self) -> usize {
        self.buf.len()
    }

    /// Bytes one entry holding `v` takes (encoding, body and backlen), as pushing
    /// it would add.
    pub fn entry_bytes(v: &[u8]) -> usize {
        Encoded::of_bytes(v).entry_size()
    }

    /// Whether adding `add` more bytes keeps the listpack under [`SAFE_BYTES_MAX`]
    /// (Redis's `lpSafeToAdd`).
    pub fn safe_to_add(&self, add: usize) -> bool {
        self.buf.len().saturating_add(add) <= SAFE_BYTES_MAX
    }

    /// Offset of the first entry.
    pub fn first(&self) -> Option<usize> {
        self.entry_at(HEADER_BYTES)
    }

    /// Offset of the last entry.
    pub fn last(&self) -> Option<usize> {
        self.prev(self.buf.len() - 1)
    }

    /// Offset of the entry after the one at `off`.
    pub fn next(&self, off: usize) -> Option<usize> {
        self.entry_at(off + self.entry_size(off))
    }

    /// Offset of the entry before the one at `off` (`off` may be the terminator's offset).
    pub fn prev(&self, off: usize) -> Option<usize> {
        if off <= HEADER_BYTES {
            return None;
        }
        Some(entry_start_before(&self.buf, off))
    }

    /// The element at entry offset `off`.
    pub fn get(&self, off: usize) -> LpValue<'_> {
        decode(&self.buf, off)
    }

    /// Offset of the element at `index`; negative indexes count from the tail (-1 = last).
    pub fn seek(&self, index: i64) -> Option<usize> {
        let n = i64::try_from(self.len()).ok()?;
        let index = if index < 0 {
            index.checked_add(n)?
        } else {
            index
        };
        if index < 0 || index >= n {
            return None;
        }
        if index <= n / 2 {
            let mut off = self.first()?;
            for _ in 0..index {
                off = self.next(off)?;
            }
            Some(off)
        } else {
            let mut off = self.last()?;
            for _ in index..n - 1 {
                off = self.prev(off)?;
            }
            Some(off)
        }
    }

    pub fn push_back(&mut self, v: &[u8]) {
        let at = self.buf.len() - 1;
        self.insert_encoded(at, &Encoded::of_bytes(v));
    }

    pub fn push_front(&mut self, v: &[u8]) {
        self.insert_encoded(HEADER_BYTES, &Encoded::of_bytes(v));
    }

    pub fn push_back_int(&mut self, v: i64) {
        let at = self.buf.len() - 1;
        self.insert_encoded(at, &Encoded::of_int(v));
    }

    /// Inserts `v` before the entry at `off` (or at the end if `off` is the terminator's
    /// offset); the new entry takes offset `off`.
    pub fn insert_before(&mut self, off: usize, v: &[u8]) {
        self.insert_encoded(off, &Encoded::of_bytes(v));
    }

    /// Inserts `v` after the entry at `off`.
    pub fn insert_after(&mut self, off: usize, v: &[u8]) {
        let at = off + self.entry_size(off);
        self.insert_encoded(at, &Encoded::of_bytes(v));
    }

    /// Replaces the element at `off` with `v`; the entry keeps offset `off`.
    pub fn replace(&mut self, off: usize, v: &[u8]) {
        self.debug_assert_entry(off);
        let enc = Encoded::of_bytes(v);
        let old = self.entry_size(off);
        self.resize_region(off, old, enc.entry_size());
        enc.write(&mut self.buf[off..]);
        self.set_total_bytes();
    }

    /// Deletes the entry at `off`; returns the offset of the entry that followed it
    /// (which is `off` itself), or `None` if it was the last.
    pub fn delete(&mut self, off: usize) -> Option<usize> {
        self.debug_assert_entry(off);
        let size = self.entry_size(off);
        self.resize_region(off, size, 0);
        self.set_total_bytes();
        self.update_count(-1);
        self.entry_at(off)
    }

    /// Deletes up to `count` elements starting at element `index`.
    pub fn delete_range(&mut self, index: usize, count: usize) {
        let Some(start) = i64::try_from(index).ok().and_then(|i| self.seek(i)) else {
            return;
        };
        let mut end = start;
        let mut removed = 0usize;
        while removed < count && self.buf[end] != TERMINATOR {
            end += self.entry_size(end);
            removed += 1;
        }
        if removed == 0 {
            return;
        }
        self.resize_region(start, end - start, 0);
        self.set_total_bytes();
        self.update_count(-(removed as isize));
    }

    /// Like Redis's `lpFind`: from the entry at `from`, compares every `(skip + 1)`th
    /// entry with `v` and returns the offset of the first equal one.
    pub fn find(&self, from: usize, v: &[u8], skip: usize) -> Option<usize> {
        let as_int = parse_i64(v);
        let mut off = from;
        let mut skipped = 0;
        while self.buf[off] != TERMINATOR {
            if skipped == 0 {
                let hit = match decode(&self.buf, off) {
                    LpValue::Str(s) => s == v,
                    LpValue::Int(i) => as_int == Some(i),
                };
                if hit {
                    return Some(off);
                }
                skipped = skip;
            } else {
                skipped -= 1;
            }
            off += self.entry_size(off);
        }
        None
    }

    /// Elements front to back; `.rev()` (or [`Listpack::iter_rev`]) goes back to front.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            buf: &self.buf,
            front: HEADER_BYTES,
            back: self.buf.len() - 1,
        }
    }

    /// Elements back to front.
    pub fn iter_rev(&self) -> std::iter::Rev<Iter<'_>> {
        self.iter().rev()
    }

    fn header_count(&self) -> u16 {
        u16::from_le_bytes([self.buf[4], self.buf[5]])
    }

    fn scan_count(&self) -> usize {
        self.iter().count()
    }

    fn entry_at(&self, off: usize) -> Option<usize> {
        (self.buf[off] != TERMINATOR).then_some(off)
    }

    /// Bytes taken by the entry at `off`: encoding, data and backlen.
    fn entry_size(&self, off: usize) -> usize {
        let body = body_len(&self.buf, off);
        body + backlen_size(body)
    }

    fn debug_assert_entry(&self, off: usize) {
        debug_assert!(off >= HEADER_BYTES && off < self.buf.len() - 1);
        debug_assert_ne!(self.buf[off], TERMINATOR);
    }

    fn insert_encoded(&mut self, at: usize, enc: &Encoded<'_>) {
        debug_assert!(at >= HEADER_BYTES && at < self.buf.len());
        self.resize_region(at, 0, enc.entry_size());
        enc.write(&mut self.buf[at..]);
        self.set_total_bytes();
        self.update_count(1);
    }

    /// Makes the `old` bytes at `off` into `new` bytes, moving the tail; the content of
    /// the region is left for the caller to write.
    fn resize_region(&mut self, off: usize, old: usize, new: usize) {
        let len = self.buf.len();
        if new > old {
            let grow = new - old;
            // Exact growth: the allocator's size classes give the slack, as in Redis.
            self.buf.reserve_exact(grow);
            self.buf.resize(len + grow, 0);
            self.buf.copy_within(off + old..len, off + new);
        } else if new < old {
            self.buf.copy_within(off + old..len, off + new);
            self.buf.truncate(len - (old - new));
            let len = self.buf.len();
            if self.buf.capacity() > len + len / 2 {
                self.buf.shrink_to_fit();
            }
        }
    }

    fn set_total_bytes(&mut self) {
        debug_assert!(self.buf.len() <= u32::MAX as usize);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
    }

    /// Keeps the header count exact while it fits; an unknown count is recounted.
    fn update_count(&mut self, delta: isize) {
        let count = match self.header_count() {
            COUNT_UNKNOWN => self.scan_count(),
            n => usize::from(n).wrapping_add_signed(delta),
        };
        let stored = u16::try_from(count).unwrap_or(COUNT_UNKNOWN);
        self.buf[4..6].copy_from_slice(&stored.to_le_bytes());
    }
}

/// Iterator over a listpack's elements, from both ends.
#[derive(Clone)]
pub struct Iter<'a> {
    buf: &'a [u8],
    /// Offset of the next entry from the front.
    front: usize,
    /// Offset just past the next entry from the back.
    back: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpValue<'a>;

    fn next(&mut self) -> Option<LpValue<'a>> {
        if self.front >= self.back {
            return None;
        }
        let v = decode(self.buf, self.front);
        let body = body_len(self.buf, self.front);
        self.front += body + backlen_size(body);
        Some(v)
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<LpValue<'a>> {
        if self.front >= self.back {
            return None;
        }
        self.back = entry_start_before(self.buf, self.back);
        Some(decode(self.buf, self.back))
    }
}

impl std::iter::FusedIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Listpack {
    type Item = LpValue<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// An element ready to write: encoding bytes (all of an integer), then string data.
struct Encoded<'a> {
    head: [u8; 9],
    head_len: usize,
    data: &'a [u8],
}

impl<'a> Encoded<'a> {
    /// Redis's `lpEncodeGetType`: canonical integers become integers.
    fn of_bytes(v: &'a [u8]) -> Self {
        match parse_i64(v) {
            Some(i) => Self::of_int(i),
            None => Self::of_str(v),
        }
    }

    fn of_int(v: i64) -> Self {
        let mut head = [0u8; 9];
        let head_len = if (0..=127).contains(&v) {
            head[0] = v as u8;
            1
        } else if (-4096..=4095).contains(&v) {
            let u = (v as u16) & 0x1FFF;
            head[0] = 0xC0 | (u >> 8) as u8;
            head[1] = u as u8;
            2
        } else if i64::from(i16::MIN) <= v && v <= i64::from(i16::MAX) {
            head[0] = 0xF1;
            head[1..3].copy_from_slice(&(v as i16).to_le_bytes());
            3
        } else if (-(1 << 23)..(1 << 23)).contains(&v) {
            head[0] = 0xF2;
            head[1..4].copy_from_slice(&(v as i32).to_le_bytes()[..3]);
            4
        } else if i64::from(i32::MIN) <= v && v <= i64::from(i32::MAX) {
            head[0] = 0xF3;
            head[1..5].copy_from_slice(&(v as i32).to_le_bytes());
            5
        } else {
            head[0] = 0xF4;
            head[1..9].copy_from_slice(&v.to_le_bytes());
            9
        };
        Encoded {
            head,
            head_len,
            data: &[],
        }
    }

    fn of_str(v: &'a [u8]) -> Self {
        let mut head = [0u8; 9];
        let n = v.len();
        let head_len = if n < 64 {
            head[0] = 0x80 | n as u8;
            1
        } else if n < 4096 {
            head[0] = 0xE0 | (n >> 8) as u8;
            head[1] = n as u8;
            2
        } else {
            debug_assert!(n <= u32::MAX as usize);
            head[0] = 0xF0;
            head[1..5].copy_from_slice(&(n as u32).to_le_bytes());
            5
        };
        Encoded {
            head,
            head_len,
            data: v,
        }
    }

    fn body_len(&self) -> usize {
        self.head_len + self.data.len()
    }

    fn entry_size(&self) -> usize {
        let body = self.body_len();
        body + backlen_size(body)
    }

    /// Writes the whole entry at the start of `dst`.
    fn write(&self, dst: &mut [u8]) {
        let (h, d) = (self.head_len, self.data.len());
        dst[..h].copy_from_slice(&self.head[..h]);
        dst[h..h + d].copy_from_slice(self.data);
        let mut back = [0u8; 5];
        let b = encode_backlen(h + d, &mut back);
        dst[h + d..h + d + b.len()].copy_from_slice(b);
    }
}

/// Bytes of the backlen for an entry body of `l` bytes (Redis's thresholds, including
/// its `<` at each step: a 16383-byte body takes three bytes).
fn backlen_size(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2_097_151 {
        3
    } else if l < 268_435_455 {
        4
    } else {
        5
    }
}

/// The backlen bytes in memory order: 7 bits each, most significant first, every byte
/// but the leftmost flagged with 0x80 (it is read right to left).
fn encode_backlen(l: usize, out: &mut [u8; 5]) -> &[u8] {
    let n = backlen_size(l);
    for (i, byte) in out[..n].iter_mut().enumerate() {
        let shift = 7 * (n - 1 - i);
        let bits = ((l >> shift) & 0x7F) as u8;
        *byte = if i == 0 { bits } else { bits | 0x80 };
    }
    &out[..n]
}

/// Offset of the entry whose backlen ends just before `end` (trusted bytes).
fn entry_start_before(buf: &[u8], end: usize) -> usize {
    let mut p = end - 1;
    let mut l = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[p];
        l |= usize::from(b & 0x7F) << shift;
        if b & 0x80 == 0 {
            break;
        }
        debug_assert!(shift < 28);
        shift += 7;
        p -= 1;
    }
    p - l
}

/// Length of encoding and data of the entry at `off` (trusted bytes).
fn body_len(buf: &[u8], off: usize) -> usize {
    let e = buf[off];
    match e {
        0x00..=0x7F => 1,
        0x80..=0xBF => 1 + usize::from(e & 0x3F),
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 2 + (usize::from(e & 0x0F) << 8 | usize::from(buf[off + 1])),
        0xF0 => 5 + u32_at(buf, off + 1) as usize,
        0xF1 => 3,
        0xF2 => 4,
        0xF3 => 5,
        0xF4 => 9,
        _ => {
            debug_assert!(false, "no entry at offset {off}");
            1
        }
    }
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
}

/// The element at `off` (trusted bytes).
fn decode(buf: &[u8], off: usize) -> LpValue<'_> {
    let e = buf[off];
    let b = |i: usize| buf[off + i];
    match e {
        0x00..=0x7F => LpValue::Int(i64::from(e)),
        0x80..=0xBF => {
            let n = usize::from(e & 0x3F);
            LpValue::Str(&buf[off + 1..off + 1 + n])
        }
        0xC0..=0xDF => {
            let u = i64::from(e & 0x1F) << 8 | i64::from(b(1));
            LpValue::Int(if u >= 1 << 12 { u - (1 << 13) } else { u })
        }
        0xE0..=0xEF => {
            let n = usize::from(e & 0x0F) << 8 | usize::from(b(1));
            LpValue::Str(&buf[off + 2..off + 2 + n])
        }
        0xF0 => {
            let n = u32_at(buf, off + 1) as usize;
            LpValue::Str(&buf[off + 5..off + 5 + n])
        }
        0xF1 => LpValue::Int(i64::from(i16::from_le_bytes([b(1), b(2)]))),
        0xF2 => {
            // Sign-extend 24 bits through the top of an i32.
            let v = i32::from_le_bytes([0, b(1), b(2), b(3)]) >> 8;
            LpValue::Int(i64::from(v))
        }
        0xF3 => LpValue::Int(i64::from(i32::from_le_bytes([b(1), b(2), b(3), b(4)]))),
        0xF4 => LpValue::Int(i64::from_le_bytes([
            b(1),
            b(2),
            b(3),
            b(4),
            b(5),
            b(6),
            b(7),
            b(8),
        ])),
        _ => {
            debug_assert!(false, "no entry at offset {off}");
            LpValue::Str(&[])
        }
    }
}

/// Checks an untrusted blob completely: header, every entry's bounds and backlen, the
/// terminator and the count. Never panics.
fn validate(buf: &[u8]) -> Result<(), ListpackError> {
    let err = |offset, kind| Err(ListpackError { offset, kind });
    if buf.len() < HEADER_BYTES + 1 {
        return err(0, ListpackErrorKind::TooShort);
    }
    let total = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
    if usize::try_from(total).ok() != Some(buf.len()) {
        return err(0, ListpackErrorKind::TotalBytesMismatch);
    }
    let end = buf.len() - 1;
    if buf[end] != TERMINATOR {
        return err(end, ListpackErrorKind::MissingTerminator);
    }
    let mut off = HEADER_BYTES;
    let mut count = 0usize;
    while off < end {
        off = validate_entry(buf, off, end)?;
        count += 1;
    }
    let header = u16::from_le_bytes([buf[4], buf[5]]);
    if header != COUNT_UNKNOWN && usize::from(header) != count {
        return err(4, ListpackErrorKind::CountMismatch);
    }
    Ok(())
}

/// Checks the entry at `off`, which must end by `end` (the terminator's offset);
/// returns the offset after it.
fn validate_entry(buf: &[u8], off: usize, end: usize) -> Result<usize, ListpackError> {
    let err = |offset, kind| Err(ListpackError { offset, kind });
    let e = buf[off];
    // Bytes of the encoding needed to know the body length (the whole header).
    let head = match e {
        TERMINATOR => return err(off, ListpackErrorKind::EarlyTerminator),
        0x00..=0xBF => 1,
        0xC0..=0xEF => 2,
        0xF0 => 5,
        0xF1..=0xF4 => 1,
        _ => return err(off, ListpackErrorKind::BadEncoding),
    };
    if off + head > end {
        return err(off, ListpackErrorKind::EntryOutOfBounds);
    }
    let body = body_len(buf, off);
    let Some(after) = off
        .checked_add(body)
        .and_then(|b| b.checked_add(backlen_size(body)))
        .filter(|&a| a <= end)
    else {
        return err(off, ListpackErrorKind::EntryOutOfBounds);
    };
    let mut expect = [0u8; 5];
    if &buf[off + body..after] != encode_backlen(body, &mut expect) {
        return err(off + body, ListpackErrorKind::BadBacklen);
    }
    Ok(after)
}

#[cfg(test)]
mod tests;
