//! Readers for the compact encodings of older Redis versions, all from untrusted
//! bytes: ziplist (2.6 to 6.2), zipmap (2.x hashes) and intset (sets of integers).
//! Each walks its blob once, checking every header field and every bound.

use crate::listpack::LpValue;

/// zlbytes (u32), zltail (u32), zllen (u16).
const ZL_HEADER: usize = 10;
const ZL_END: u8 = 0xFF;
/// A prevlen byte announcing a 4-byte prevlen.
const ZL_PREVLEN_WIDE: u8 = 254;
/// zllen when the count does not fit.
const ZL_COUNT_UNKNOWN: u16 = u16::MAX;

const ZM_BIGLEN: u8 = 254;
const ZM_END: u8 = 255;

type Checked<T> = Result<T, &'static str>;

fn le_u32(buf: &[u8], at: usize) -> Checked<u32> {
    let b = buf.get(at..at + 4).ok_or("truncated")?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn le_int(bytes: &[u8]) -> i64 {
    let mut v: i64 = 0;
    for (i, &b) in bytes.iter().enumerate() {
        v |= i64::from(b) << (8 * i);
    }
    let bits = 64 - 8 * bytes.len() as u32;
    (v << bits) >> bits
}

/// Every entry of a ziplist, validated.
pub fn ziplist_entries(buf: &[u8]) -> Checked<Vec<LpValue<'_>>> {
    if buf.len() < ZL_HEADER + 1 {
        return Err("shorter than a header");
    }
    if le_u32(buf, 0)? as usize != buf.len() {
        return Err("zlbytes differs from the blob length");
    }
    let tail = le_u32(buf, 4)? as usize;
    let count = u16::from_le_bytes([buf[8], buf[9]]);
    if buf[buf.len() - 1] != ZL_END {
        return Err("missing end marker");
    }
    let mut entries = Vec::new();
    let (mut pos, mut prev_len, mut last) = (ZL_HEADER, 0usize, ZL_HEADER);
    while buf[pos] != ZL_END {
        let (value, len) = ziplist_entry(buf, pos, prev_len)?;
        entries.push(value);
        last = pos;
        prev_len = len;
        pos += len;
    }
    if pos != buf.len() - 1 {
        return Err("end marker before the end");
    }
    if tail != last {
        return Err("zltail does not point at the last entry");
    }
    if count != ZL_COUNT_UNKNOWN && usize::from(count) != entries.len() {
        return Err("zllen differs from the entries");
    }
    Ok(entries)
}

/// The entry at `pos` and its total length; it must end before the end marker.
fn ziplist_entry(buf: &[u8], pos: usize, prev_len: usize) -> Checked<(LpValue<'_>, usize)> {
    let body_end = buf.len() - 1;
    let (prevlen, mut p) = match buf[pos] {
        ZL_PREVLEN_WIDE => (le_u32(buf, pos + 1)? as usize, pos + 5),
        ZL_END => return Err("bad prevlen"),
        b => (usize::from(b), pos + 1),
    };
    if prevlen != prev_len {
        return Err("prevlen differs from the previous entry");
    }
    let enc = *buf
        .get(p)
        .filter(|_| p < body_end)
        .ok_or("truncated entry")?;
    p += 1;
    let take = |p: usize, n: usize| -> Checked<&[u8]> {
        buf.get(p..p + n)
            .filter(|_| p + n <= body_end)
            .ok_or("entry past the end")
    };
    let (value, end) = match enc >> 6 {
        0 => {
            let n = usize::from(enc & 0x3f);
            (LpValue::Str(take(p, n)?), p + n)
        }
        1 => {
            let n = usize::from(enc & 0x3f) << 8 | usize::from(take(p, 1)?[0]);
            (LpValue::Str(take(p + 1, n)?), p + 1 + n)
        }
        2 if enc == 0x80 => {
            let b = take(p, 4)?;
            let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
            (LpValue::Str(take(p + 4, n)?), p + 4 + n)
        }
        2 => return Err("bad string encoding"),
        _ => {
            let width = match enc {
                0xC0 => 2,
                0xD0 => 4,
                0xE0 => 8,
                0xF0 => 3,
                0xFE => 1,
                0xF1..=0xFD => 0,
                _ => return Err("bad integer encoding"),
            };
            let v = if width == 0 {
                i64::from(enc & 0x0f) - 1
            } else {
                le_int(take(p, width)?)
            };
            (LpValue::Int(v), p + width)
        }
    };
    Ok((value, end - pos))
}

/// Every (key, value) of a zipmap, validated.
pub fn zipmap_pairs(buf: &[u8]) -> Checked<Vec<(&[u8], &[u8])>> {
    if buf.len() < 2 {
        return Err("shorter than a header");
    }
    let mut pos = 1;
    let mut pairs = Vec::new();
    while let Some(klen) = zipmap_len(buf, &mut pos)? {
        let key = zipmap_take(buf, &mut pos, klen)?;
        let vlen = zipmap_len(buf, &mut pos)?.ok_or("key without a value")?;
        let free = usize::from(*buf.get(pos).ok_or("truncated")?);
        pos += 1;
        let value = zipmap_take(buf, &mut pos, vlen)?;
        zipmap_take(buf, &mut pos, free)?;
        pairs.push((key, value));
    }
    if pos != buf.len() {
        return Err("bytes after the end marker");
    }
    let count = buf[0];
    if count < ZM_BIGLEN && usize::from(count) != pairs.len() {
        return Err("zmlen differs from the entries");
    }
    Ok(pairs)
}

/// A zipmap length, or `None` at the end marker (which it consumes).
fn zipmap_len(buf: &[u8], pos: &mut usize) -> Checked<Option<usize>> {
    let b = *buf.get(*pos).ok_or("missing end marker")?;
    *pos += 1;
    match b {
        ZM_END => Ok(None),
        ZM_BIGLEN => {
            let n = le_u32(buf, *pos)? as usize;
            *pos += 4;
            // Redis's zipmapValidateIntegrity (CVE-2026-25243): a length that fits
            // in one byte written in five is corrupt.
            if n < usize::from(ZM_BIGLEN) {
                return Err("a length under 254 in five bytes");
            }
            Ok(Some(n))
        }
        n => Ok(Some(usize::from(n))),
    }
}

fn zipmap_take<'a>(buf: &'a [u8], pos: &mut usize, n: usize) -> Checked<&'a [u8]> {
    let out = pos
        .checked_add(n)
        .and_then(|end| buf.get(*pos..end))
        .ok_or("entry past the end")?;
    *pos += n;
    Ok(out)
}

/// The integers of an intset, validated (strictly ascending).
pub fn intset_values(buf: &[u8]) -> Checked<Vec<i64>> {
    let width = le_u32(buf, 0)? as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err("bad encoding width");
    }
    let count = le_u32(buf, 4)? as usize;
    let body = &buf[8..];
    if count.checked_mul(width) != Some(body.len()) {
        return Err("length differs from the blob");
    }
    let values: Vec<i64> = body.chunks_exact(width).map(le_int).collect();
    if values.windows(2).any(|w| w[0] >= w[1]) {
        return Err("not sorted or has duplicates");
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ziplist(entries: &[&[u8]]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut last = ZL_HEADER;
        for e in entries {
            last = ZL_HEADER + body.len();
            let mut entry = vec![prev as u8, e.len() as u8];
            entry.extend_from_slice(e);
            prev = entry.len();
            body.extend_from_slice(&entry);
        }
        let total = ZL_HEADER + body.len() + 1;
        let mut out = (total as u32).to_le_bytes().to_vec();
        out.extend_from_slice(&(last as u32).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&body);
        out.push(ZL_END);
        out
    }

    #[test]
    fn a_built_ziplist_reads_back() {
        let zl = ziplist(&[b"a", b"bc", b""]);
        let got = ziplist_entries(&zl).unwrap();
        assert_eq!(
            got,
            vec![LpValue::Str(b"a"), LpValue::Str(b"bc"), LpValue::Str(b"")]
        );
    }

    #[test]
    fn every_truncation_of_a_ziplist_is_an_error() {
        let zl = ziplist(&[b"hello", b"world"]);
        for n in 0..zl.len() {
            assert!(ziplist_entries(&zl[..n]).is_err(), "prefix {n}");
        }
    }

    #[test]
    fn ziplist_integers_sign_extend() {
        assert_eq!(le_int(&[0xff, 0xff, 0xff]), -1);
        assert_eq!(le_int(&[0x00, 0x80]), -32768);
        assert_eq!(le_int(&[0x7f]), 127);
    }

    #[test]
    fn an_intset_must_be_sorted() {
        let mut blob = 2u32.to_le_bytes().to_vec();
        blob.extend_from_slice(&2u32.to_le_bytes());
        blob.extend_from_slice(&[5, 0, 3, 0]);
        assert!(intset_values(&blob).is_err());
        blob[8..].copy_from_slice(&[3, 0, 5, 0]);
        assert_eq!(intset_values(&blob).unwrap(), vec![3, 5]);
    }

    #[test]
    fn a_zipmap_reads_pairs_and_skips_free_bytes() {
        let blob = [2, 1, b'a', 1, 2, b'x', 0, 0, 1, b'b', 1, 0, b'y', ZM_END];
        let got = zipmap_pairs(&blob).unwrap();
        assert_eq!(got, vec![(&b"a"[..], &b"x"[..]), (&b"b"[..], &b"y"[..])]);
        assert!(zipmap_pairs(&blob[..blob.len() - 1]).is_err());
    }

    #[test]
    fn a_zipmap_length_under_254_in_five_bytes_is_corrupt() {
        let field = [1, ZM_BIGLEN, 1, 0, 0, 0, b'k', 1, 0, b'v', ZM_END];
        assert_eq!(
            zipmap_pairs(&field),
            Err("a length under 254 in five bytes")
        );
        let value = [1, 1, b'k', ZM_BIGLEN, 1, 0, 0, 0, 0, b'v', ZM_END];
        assert!(zipmap_pairs(&value).is_err());
        let big = [
            &[1, ZM_BIGLEN, 254, 0, 0, 0][..],
            &[b'k'; 254],
            &[1, 0, b'v', ZM_END],
        ]
        .concat();
        assert_eq!(zipmap_pairs(&big).unwrap().len(), 1);
    }
}
