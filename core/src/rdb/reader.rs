//! A bounds-checked cursor over RDB bytes: lengths, strings (plain, integer-encoded,
//! LZF-compressed) and doubles, each checked against what is left of the input.

use std::borrow::Cow;

use super::error::{RdbErrorKind, RdbLoadError};
use super::lzf;

/// Top two bits of a length byte.
const LEN_6BIT: u8 = 0;
const LEN_14BIT: u8 = 1;
const LEN_WIDE: u8 = 2;
/// Second-byte selectors of the wide forms.
const LEN_32BIT: u8 = 0x80;
const LEN_64BIT: u8 = 0x81;
/// Special string encodings (after a LEN_ENCODED byte).
pub const ENC_INT8: u8 = 0;
pub const ENC_INT16: u8 = 1;
pub const ENC_INT32: u8 = 2;
pub const ENC_LZF: u8 = 3;
/// An LZF back reference of 3 bytes yields at most 264: no stream expands more.
const LZF_EXPANSION_MAX: u64 = 88;
/// Score-length bytes of the old string-score zset form.
const SCORE_NAN: u8 = 253;
const SCORE_POS_INF: u8 = 254;
const SCORE_NEG_INF: u8 = 255;

pub type Result<T> = std::result::Result<T, RdbLoadError>;

/// A length, or a string that is specially encoded.
pub enum Len {
    Plain(u64),
    Encoded(u8),
}

pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn consumed(&self) -> &'a [u8] {
        &self.buf[..self.pos]
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn error_at(offset: usize, kind: RdbErrorKind) -> RdbLoadError {
        RdbLoadError { offset, kind }
    }

    pub fn error(&self, kind: RdbErrorKind) -> RdbLoadError {
        Self::error_at(self.pos, kind)
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.buf.len())
            .ok_or_else(|| self.error(RdbErrorKind::UnexpectedEof))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub fn len_or_encoding(&mut self) -> Result<Len> {
        let first = self.u8()?;
        let low = first & 0x3f;
        Ok(match first >> 6 {
            LEN_6BIT => Len::Plain(u64::from(low)),
            LEN_14BIT => Len::Plain(u64::from(low) << 8 | u64::from(self.u8()?)),
            LEN_WIDE => match first {
                LEN_32BIT => Len::Plain(u64::from(u32::from_be_bytes(self.array()?))),
                LEN_64BIT => Len::Plain(u64::from_be_bytes(self.array()?)),
                _ => return Err(self.error(RdbErrorKind::BadStringEncoding(first))),
            },
            _ => Len::Encoded(low),
        })
    }

    /// A plain length (an encoded-string marker here is an error).
    pub fn length(&mut self) -> Result<u64> {
        let start = self.pos;
        match self.len_or_encoding()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(e) => Err(Self::error_at(start, RdbErrorKind::BadStringEncoding(e))),
        }
    }

    /// A count of items that each take at least `min_bytes` bytes: never more than
    /// the rest of the input could hold, so no allocation is sized by a lie.
    pub fn count(&mut self, min_bytes: usize) -> Result<usize> {
        let start = self.pos;
        let n = self.length()?;
        let fits = n
            .checked_mul(min_bytes.max(1) as u64)
            .is_some_and(|need| need <= self.remaining() as u64);
        if !fits {
            return Err(Self::error_at(start, RdbErrorKind::LengthTooLarge(n)));
        }
        Ok(n as usize)
    }

    /// A string in any of its encodings; integers come back as their decimal text.
    pub fn string(&mut self) -> Result<Cow<'a, [u8]>> {
        let start = self.pos;
        match self.len_or_encoding()? {
            Len::Plain(n) => {
                let n = usize::try_from(n)
                    .map_err(|_| Self::error_at(start, RdbErrorKind::LengthTooLarge(n)))?;
                Ok(Cow::Borrowed(self.bytes(n)?))
            }
            Len::Encoded(ENC_INT8) => Ok(int_text(i64::from(i8::from_le_bytes(self.array()?)))),
            Len::Encoded(ENC_INT16) => Ok(int_text(i64::from(i16::from_le_bytes(self.array()?)))),
            Len::Encoded(ENC_INT32) => Ok(int_text(i64::from(i32::from_le_bytes(self.array()?)))),
            Len::Encoded(ENC_LZF) => self.lzf_string(start).map(Cow::Owned),
            Len::Encoded(e) => Err(Self::error_at(start, RdbErrorKind::BadStringEncoding(e))),
        }
    }

    /// An owned string.
    pub fn string_vec(&mut self) -> Result<Vec<u8>> {
        self.string().map(Cow::into_owned)
    }

    fn lzf_string(&mut self, start: usize) -> Result<Vec<u8>> {
        let clen = self.length()?;
        let ulen = self.length()?;
        let too_large = |n| Self::error_at(start, RdbErrorKind::LengthTooLarge(n));
        if clen > self.remaining() as u64 {
            return Err(too_large(clen));
        }
        if ulen > clen.saturating_mul(LZF_EXPANSION_MAX) {
            return Err(too_large(ulen));
        }
        let packed = self.bytes(clen as usize)?;
        // Redis checks that decompression yields the declared length, and liblzf
        // yields 0 on any error: a declared length of 0 loads as an empty string
        // whatever the compressed bytes hold.
        if ulen == 0 {
            return Ok(Vec::new());
        }
        lzf::decompress(packed, ulen as usize)
            .map_err(|e| Self::error_at(start, RdbErrorKind::Lzf(e)))
    }

    /// A score in the old form: a length byte then ASCII (or NaN/inf markers).
    pub fn string_double(&mut self) -> Result<f64> {
        let start = self.pos;
        let n = self.u8()?;
        match n {
            SCORE_NAN => Ok(f64::NAN),
            SCORE_POS_INF => Ok(f64::INFINITY),
            SCORE_NEG_INF => Ok(f64::NEG_INFINITY),
            _ => {
                let text = self.bytes(usize::from(n))?;
                parse_score_text(text).ok_or_else(|| Self::error_at(start, RdbErrorKind::BadScore))
            }
        }
    }

    /// A score as 8 little-endian bytes of an IEEE double.
    pub fn binary_double(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }
}

fn int_text(n: i64) -> Cow<'static, [u8]> {
    Cow::Owned(n.to_string().into_bytes())
}

/// Parses a score written with "%.17g" (or any strtod form); NaN stays an error
/// for the caller to report.
pub fn parse_score_text(text: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(text).ok()?;
    match s {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => crate::util::num::parse_f64(text).or_else(|| s.parse().ok()),
    }
}
