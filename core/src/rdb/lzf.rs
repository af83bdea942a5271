//! LZF, the byte-oriented LZ77 variant Redis uses to compress RDB strings.
//!
//! A stream is a sequence of runs. A control byte below 32 starts a literal run of
//! `ctrl + 1` bytes; otherwise its top 3 bits are a match length (7 = "read one more
//! length byte and add it") and its low 5 bits are the high bits of the match
//! distance, whose low 8 bits follow. A match copies `length + 2` bytes from
//! `distance + 1` bytes back in the output, possibly overlapping what it writes.
//!
//! The decompressor takes untrusted input: every read and every back reference is
//! bounds-checked, and the output may not exceed the length the caller expects.

use std::fmt;

/// Longest literal run one control byte describes.
const LITERAL_RUN_MAX: usize = 32;
/// Longest match: 7 + 255 in the length fields, plus 2.
const MATCH_MAX: usize = 264;
/// Farthest back a match may point (13 distance bits).
const DISTANCE_MAX: usize = 1 << 13;
/// Hash table size for finding matches, as Redis builds liblzf (HLOG 16).
const HASH_BITS: u32 = 16;
/// Past this many input bytes the match table is cleared instead of re-based.
const STAMP_LIMIT: u32 = u32::MAX / 2;

/// Why a stream did not decompress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LzfError {
    /// A run or a length byte runs past the end of the input.
    Truncated,
    /// A back reference points before the start of the output.
    BadReference,
    /// The output would grow past the expected length.
    TooLong,
    /// The input ended before the output reached the expected length.
    TooShort,
}

impl fmt::Display for LzfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            LzfError::Truncated => "truncated input",
            LzfError::BadReference => "back reference before the start",
            LzfError::TooLong => "output longer than declared",
            LzfError::TooShort => "output shorter than declared",
        };
        f.write_str(what)
    }
}

/// Decompresses `input`, which must produce exactly `expected_len` bytes.
pub fn decompress(input: &[u8], expected_len: usize) -> Result<Vec<u8>, LzfError> {
    let mut out = Vec::with_capacity(expected_len);
    let mut ip = 0;
    while let Some(&ctrl) = input.get(ip) {
        ip += 1;
        let ctrl = usize::from(ctrl);
        if ctrl < LITERAL_RUN_MAX {
            ip = copy_literal(input, ip, ctrl + 1, &mut out, expected_len)?;
        } else {
            ip = copy_match(input, ip, ctrl, &mut out, expected_len)?;
        }
    }
    if out.len() != expected_len {
        return Err(LzfError::TooShort);
    }
    Ok(out)
}

fn copy_literal(
    input: &[u8],
    ip: usize,
    n: usize,
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<usize, LzfError> {
    let run = input.get(ip..ip + n).ok_or(LzfError::Truncated)?;
    if out.len() + n > limit {
        return Err(LzfError::TooLong);
    }
    out.extend_from_slice(run);
    Ok(ip + n)
}

fn copy_match(
    input: &[u8],
    mut ip: usize,
    ctrl: usize,
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<usize, LzfError> {
    let mut len = ctrl >> 5;
    if len == 7 {
        len += usize::from(*input.get(ip).ok_or(LzfError::Truncated)?);
        ip += 1;
    }
    let low = usize::from(*input.get(ip).ok_or(LzfError::Truncated)?);
    ip += 1;
    let distance = ((ctrl & 0x1f) << 8 | low) + 1;
    let len = len + 2;
    let start = out
        .len()
        .checked_sub(distance)
        .ok_or(LzfError::BadReference)?;
    if out.len() + len > limit {
        return Err(LzfError::TooLong);
    }
    for i in start..start + len {
        let b = out[i];
        out.push(b);
    }
    Ok(ip)
}

/// A compressor that makes the same choices as the liblzf Redis links (VERY_FAST
/// mode, a 2^16-entry table of the last position of each 3-byte hash, matches
/// looked for at each position, the two positions before a match's end re-hashed),
/// so a DUMP or RDB string compresses to Redis's bytes.
///
/// The table is reused between calls. An entry holds a stamp (`base` of the call
/// plus the position), so entries of earlier calls fall below the current `base`
/// and read as empty without clearing the table each time. Redis's table is
/// uninitialized stack memory; an empty table is what it holds in effect, since a
/// stale pointer only counts when it points into the current input.
pub struct Compressor {
    table: Vec<u32>,
    base: u32,
}

impl Default for Compressor {
    fn default() -> Self {
        Self::new()
    }
}

/// liblzf's hash of the three bytes in the low 24 bits of `h` (higher bits of `h`
/// do not change the result).
fn slot(h: u32) -> usize {
    let mask = (1u32 << HASH_BITS) - 1;
    ((h >> (24 - HASH_BITS)).wrapping_sub(h.wrapping_mul(5)) & mask) as usize
}

/// The output buffer and run bookkeeping of one compression.
struct Out {
    buf: Vec<u8>,
    /// Where the next byte goes; the current literal run's control byte is at
    /// `op - lit - 1`.
    op: usize,
    lit: usize,
    end: usize,
}

impl Out {
    fn put(&mut self, b: u8) {
        self.buf[self.op] = b;
        self.op += 1;
    }

    /// Closes the literal run at its control byte (liblzf writes `lit - 1`).
    fn close_run(&mut self) {
        self.buf[self.op - self.lit - 1] = (self.lit as u8).wrapping_sub(1);
    }

    /// Closes the run and drops its control byte if it is empty.
    fn end_run(&mut self) {
        self.close_run();
        if self.lit == 0 {
            self.op -= 1;
        }
    }

    fn literal(&mut self, b: u8) {
        self.lit += 1;
        self.put(b);
        if self.lit == LITERAL_RUN_MAX {
            self.close_run();
            self.lit = 0;
            self.op += 1;
        }
    }
}

impl Compressor {
    pub fn new() -> Self {
        Compressor {
            table: vec![0; 1 << HASH_BITS],
            base: 1,
        }
    }

    /// Starts a call over `len` input bytes: positions are stamped from `base`.
    fn rebase(&mut self, len: usize) -> u32 {
        let fits = u32::try_from(len)
            .ok()
            .and_then(|n| self.base.checked_add(n + 1))
            .filter(|&next| next < STAMP_LIMIT);
        match fits {
            Some(_) => {}
            None => {
                self.table.fill(0);
                self.base = 1;
            }
        }
        let base = self.base;
        self.base = self.base.saturating_add(len as u32 + 1);
        base
    }

    /// Compresses `input` into at most `max_out` bytes; `None` if it does not fit
    /// (where liblzf's `lzf_compress` returns 0, with the same conservative checks),
    /// so the caller stores it plain.
    pub fn compress(&mut self, input: &[u8], max_out: usize) -> Option<Vec<u8>> {
        let n = input.len();
        if n == 0 || max_out == 0 || n >= STAMP_LIMIT as usize {
            return None;
        }
        let base = self.rebase(n);
        // Two spare bytes: liblzf may open a run's control byte just past the end
        // before its next check refuses to write there.
        let mut out = Out {
            buf: vec![0; max_out + 2],
            op: 1,
            lit: 0,
            end: max_out,
        };
        let mut ip = 0;
        let mut h = if n >= 2 {
            u32::from(input[0]) << 8 | u32::from(input[1])
        } else {
            0
        };
        while ip + 2 < n {
            h = h << 8 | u32::from(input[ip + 2]);
            let s = slot(h);
            let stamp = self.table[s];
            self.table[s] = base + ip as u32;
            let candidate = stamp.checked_sub(base).map(|r| r as usize);
            let Some(r) = candidate.filter(|&r| is_match(input, r, ip)) else {
                if out.op >= out.end {
                    return None;
                }
                out.literal(input[ip]);
                ip += 1;
                continue;
            };
            out.end_run();
            if out.op + 4 >= out.end {
                return None;
            }
            let len = match_len(input, r, ip);
            push_match(&mut out, ip - r - 1, len - 2);
            ip += len;
            if ip + 2 >= n {
                break;
            }
            // Re-hash the two positions before the match's end.
            ip -= 2;
            h = u32::from(input[ip]) << 8 | u32::from(input[ip + 1]);
            for _ in 0..2 {
                h = h << 8 | u32::from(input[ip + 2]);
                self.table[slot(h)] = base + ip as u32;
                ip += 1;
            }
        }
        if out.op + 3 > out.end {
            return None;
        }
        for &b in &input[ip..] {
            out.literal(b);
        }
        out.end_run();
        (out.op <= max_out).then(|| {
            out.buf.truncate(out.op);
            out.buf
        })
    }
}

/// Whether a back reference from `ip` to `r` may start here: it points back at
/// most [`DISTANCE_MAX`] bytes, not to the first byte, and the three bytes agree.
fn is_match(input: &[u8], r: usize, ip: usize) -> bool {
    r < ip && ip - r - 1 < DISTANCE_MAX && r > 0 && input[r..r + 3] == input[ip..ip + 3]
}

/// The length of the match at `ip` against `r`, as liblzf measures it: up to
/// `input.len() - ip - 2` bytes (and [`MATCH_MAX`]), except that its unrolled
/// first 16 comparisons run without that bound and may take up to 2 more.
fn match_len(input: &[u8], r: usize, ip: usize) -> usize {
    let max = (input.len() - ip - 2).min(MATCH_MAX);
    let mut len = 2;
    if max > 16 {
        for _ in 0..16 {
            len += 1;
            if input[r + len] != input[ip + len] {
                return len;
            }
        }
    }
    loop {
        len += 1;
        if !(len < max && input[r + len] == input[ip + len]) {
            return len;
        }
    }
}

/// A back reference of `len + 2` bytes, `off + 1` back; then a new literal run.
fn push_match(out: &mut Out, off: usize, len: usize) {
    let high = (off >> 8) as u8;
    if len < 7 {
        out.put(high + ((len as u8) << 5));
    } else {
        out.put(high + (7 << 5));
        out.put((len - 7) as u8);
    }
    out.put(off as u8);
    out.lit = 0;
    out.op += 1;
}

/// Compresses with a fresh table (see [`Compressor::compress`]).
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    Compressor::new().compress(input, max_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(data: &[u8]) {
        let packed = compress(data, data.len() + data.len() / 16 + 16).expect("fits");
        assert_eq!(decompress(&packed, data.len()).as_deref(), Ok(data));
    }

    fn xorshift_bytes(n: usize) -> Vec<u8> {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect()
    }

    #[test]
    fn repetitive_text_shrinks_and_comes_back() {
        let data = b"abcabcabcabcabcabcabcabcabcabcabcabcabcabc".repeat(50);
        let packed = compress(&data, data.len() - 4).expect("compressible");
        assert!(packed.len() < data.len() / 10);
        assert_eq!(decompress(&packed, data.len()).unwrap(), data);
    }

    #[test]
    fn varied_inputs_round_trip() {
        round_trip(b"a");
        round_trip(b"hello world");
        round_trip(&[0u8; 10_000]);
        round_trip(&xorshift_bytes(20_000));
        let mixed: Vec<u8> = (0..30_000u32).map(|i| (i % 97 + i / 1000) as u8).collect();
        round_trip(&mixed);
    }

    #[test]
    fn incompressible_input_does_not_fit_below_its_length() {
        let noise = xorshift_bytes(100);
        assert_eq!(compress(&noise, noise.len() - 4), None);
    }

    #[test]
    fn a_known_liblzf_stream_decodes() {
        // "aaaaaaaaaa": literal "a", then a match of 9 at distance 1.
        assert_eq!(
            decompress(&[0, b'a', 0xe0, 0, 0], 10).unwrap(),
            b"a".repeat(10)
        );
    }

    #[test]
    fn compression_matches_the_bytes_redis_writes() {
        // LZF bodies of DUMP payloads from redis-server 7.0.15. No match may start
        // at the first byte, so "abc..." repeats only from the second copy's "b".
        let text = b"abcdefgh".repeat(4);
        let want = b"\x08abcdefgha\xe0\x0c\x07\x01gh";
        assert_eq!(compress(&text, text.len() - 4).as_deref(), Some(&want[..]));
        let run = b"a".repeat(104);
        let want = b"\x01aa\xe0\x5b\x00\x01aa";
        assert_eq!(compress(&run, run.len() - 4).as_deref(), Some(&want[..]));
    }

    #[test]
    fn a_reused_compressor_ignores_earlier_inputs() {
        let mut c = Compressor::new();
        let first = b"xyzxyzxyzxyzxyzxyzxyzxyzxyz".to_vec();
        let second = b"qqxyzxyzxyzxyzxyzxyzxyzxyzxyzxyz".to_vec();
        let _ = c.compress(&first, first.len());
        assert_eq!(
            c.compress(&second, second.len()),
            compress(&second, second.len())
        );
    }

    #[test]
    fn bad_streams_are_errors_not_panics() {
        assert_eq!(decompress(&[5, b'a'], 6), Err(LzfError::Truncated));
        assert_eq!(decompress(&[0x20, 0], 3), Err(LzfError::BadReference));
        assert_eq!(decompress(&[0, b'a', 0x20, 0], 2), Err(LzfError::TooLong));
        assert_eq!(decompress(&[0, b'a'], 2), Err(LzfError::TooShort));
        assert_eq!(decompress(&[0xe0], 9), Err(LzfError::Truncated));
        assert_eq!(decompress(&[], 0), Ok(vec![]));
    }
}
