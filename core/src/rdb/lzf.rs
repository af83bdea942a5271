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
/// Shortest match worth a back reference.
const MATCH_MIN: usize = 3;
/// Longest match: 7 + 255 in the length fields, plus 2.
const MATCH_MAX: usize = 264;
/// Farthest back a match may point (13 distance bits).
const DISTANCE_MAX: usize = 1 << 13;
/// Hash table size for finding matches (entries).
const HASH_BITS: u32 = 14;

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

/// A compressor with a reusable match table. Stale entries from earlier inputs are
/// harmless: every candidate match is verified byte by byte.
pub struct Compressor {
    table: Vec<u32>,
}

impl Default for Compressor {
    fn default() -> Self {
        Self::new()
    }
}

impl Compressor {
    pub fn new() -> Self {
        Compressor {
            table: vec![0; 1 << HASH_BITS],
        }
    }

    /// Compresses `input` into at most `max_out` bytes; `None` if it does not fit
    /// (as liblzf's `lzf_compress` returns 0), so the caller stores it plain.
    pub fn compress(&mut self, input: &[u8], max_out: usize) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(max_out.min(input.len() + input.len() / 32 + 1));
        let mut lit_start = 0;
        let mut ip = 0;
        while ip + MATCH_MIN <= input.len() {
            match self.find_match(input, ip) {
                Some((distance, len)) => {
                    flush_literals(&input[lit_start..ip], &mut out);
                    push_match(distance, len, &mut out);
                    if out.len() > max_out {
                        return None;
                    }
                    self.remember(input, ip + len - 1);
                    ip += len;
                    lit_start = ip;
                }
                None => ip += 1,
            }
        }
        flush_literals(&input[lit_start..], &mut out);
        (out.len() <= max_out && !input.is_empty()).then_some(out)
    }

    /// The longest usable match for the bytes at `ip` (distance, length), and
    /// records `ip` in the table.
    fn find_match(&mut self, input: &[u8], ip: usize) -> Option<(usize, usize)> {
        let slot = hash3(input, ip);
        let candidate = self.table[slot] as usize;
        self.table[slot] = ip as u32;
        if candidate >= ip || ip - candidate > DISTANCE_MAX {
            return None;
        }
        let max = MATCH_MAX.min(input.len() - ip);
        let len = input[candidate..]
            .iter()
            .zip(&input[ip..ip + max])
            .take_while(|(a, b)| a == b)
            .count();
        (len >= MATCH_MIN).then_some((ip - candidate, len))
    }

    fn remember(&mut self, input: &[u8], pos: usize) {
        if pos + MATCH_MIN <= input.len() {
            self.table[hash3(input, pos)] = pos as u32;
        }
    }
}

fn hash3(input: &[u8], ip: usize) -> usize {
    let v = u32::from(input[ip]) << 16 | u32::from(input[ip + 1]) << 8 | u32::from(input[ip + 2]);
    (v.wrapping_mul(2_654_435_761) >> (32 - HASH_BITS)) as usize
}

fn flush_literals(lits: &[u8], out: &mut Vec<u8>) {
    for run in lits.chunks(LITERAL_RUN_MAX) {
        out.push((run.len() - 1) as u8);
        out.extend_from_slice(run);
    }
}

fn push_match(distance: usize, len: usize, out: &mut Vec<u8>) {
    let off = distance - 1;
    let len = len - 2;
    if len < 7 {
        out.push(((len << 5) | (off >> 8)) as u8);
    } else {
        out.push(((7 << 5) | (off >> 8)) as u8);
        out.push((len - 7) as u8);
    }
    out.push((off & 0xff) as u8);
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
    fn bad_streams_are_errors_not_panics() {
        assert_eq!(decompress(&[5, b'a'], 6), Err(LzfError::Truncated));
        assert_eq!(decompress(&[0x20, 0], 3), Err(LzfError::BadReference));
        assert_eq!(decompress(&[0, b'a', 0x20, 0], 2), Err(LzfError::TooLong));
        assert_eq!(decompress(&[0, b'a'], 2), Err(LzfError::TooShort));
        assert_eq!(decompress(&[0xe0], 9), Err(LzfError::Truncated));
        assert_eq!(decompress(&[], 0), Ok(vec![]));
    }
}
