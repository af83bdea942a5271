//! Load errors: what went wrong, and at which byte of the file.

use std::fmt;

use super::lzf::LzfError;
use crate::listpack::ListpackErrorKind;

/// A dump that could not be loaded; `offset` is where the bad item starts (or where
/// reading stopped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdbLoadError {
    pub offset: usize,
    pub kind: RdbErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdbErrorKind {
    /// The file does not start with "REDIS" and four digits.
    BadMagic,
    /// A version this loader does not read.
    UnsupportedVersion(u32),
    /// The file ends in the middle of something.
    UnexpectedEof,
    /// A length or count larger than the file could hold, or than is sane.
    LengthTooLarge(u64),
    /// A string encoding byte Redis never writes.
    BadStringEncoding(u8),
    /// An LZF-compressed string that does not decompress.
    Lzf(LzfError),
    /// A value type this loader does not read (streams, modules).
    UnsupportedValueType(u8),
    /// Module data (MODULE_AUX or a module value) from module `name`.
    ModuleData { name: String },
    /// The pre-GA FUNCTION opcode of Redis 7.0 release candidates.
    PreGaFunction,
    /// A listpack blob that fails validation.
    BadListpack(ListpackErrorKind),
    /// A ziplist blob that fails validation.
    BadZiplist(&'static str),
    /// A zipmap blob that fails validation.
    BadZipmap(&'static str),
    /// An intset blob that fails validation.
    BadIntset(&'static str),
    /// A quicklist node container other than plain (1) or packed (2).
    BadQuicklistContainer(u64),
    /// A quicklist node of zero bytes (Redis refuses it whatever its container).
    EmptyQuicklistNode,
    /// A field/value or member/score blob with an odd number of entries.
    OddPairs,
    /// A member or field that appears twice in one collection.
    Duplicate,
    /// A sorted set score that is NaN or not a number.
    BadScore,
    /// An expire time that overflows milliseconds.
    BadExpire,
    /// A DUMP payload whose version or checksum is wrong (RESTORE's "DUMP payload
    /// version or checksum are wrong").
    BadDumpFooter,
    /// A DUMP payload holding an empty collection.
    EmptyValue,
    /// The checksum after EOF differs from the file's CRC64.
    ChecksumMismatch { stored: u64, computed: u64 },
    /// A stream whose blocks, counters or consumer groups do not hold together.
    BadStream(&'static str),
}

impl fmt::Display for RdbErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadMagic => f.write_str("wrong signature, not an RDB file"),
            Self::UnsupportedVersion(v) => write!(f, "can't handle RDB format version {v}"),
            Self::UnexpectedEof => f.write_str("unexpected end of file"),
            Self::LengthTooLarge(n) => write!(f, "length {n} is too large"),
            Self::BadStringEncoding(e) => write!(f, "unknown string encoding {e}"),
            Self::Lzf(e) => write!(f, "invalid LZF data: {e}"),
            Self::UnsupportedValueType(t) => write!(f, "unsupported value type {t}"),
            Self::ModuleData { name } => write!(f, "module data from unknown module '{name}'"),
            Self::PreGaFunction => f.write_str("pre-GA function format not supported"),
            Self::BadListpack(k) => write!(f, "listpack integrity check failed: {k:?}"),
            Self::BadZiplist(why) => write!(f, "ziplist integrity check failed: {why}"),
            Self::BadZipmap(why) => write!(f, "zipmap integrity check failed: {why}"),
            Self::BadIntset(why) => write!(f, "intset integrity check failed: {why}"),
            Self::BadQuicklistContainer(c) => write!(f, "unknown quicklist node container {c}"),
            Self::EmptyQuicklistNode => f.write_str("quicklist node of zero bytes"),
            Self::OddPairs => f.write_str("odd number of entries in a pair encoding"),
            Self::Duplicate => f.write_str("duplicate member or field"),
            Self::BadScore => f.write_str("invalid sorted set score"),
            Self::BadExpire => f.write_str("expire time out of range"),
            Self::BadDumpFooter => f.write_str("DUMP payload version or checksum are wrong"),
            Self::EmptyValue => f.write_str("empty collection"),
            Self::BadStream(why) => write!(f, "stream integrity check failed: {why}"),
            Self::ChecksumMismatch { stored, computed } => write!(
                f,
                "wrong RDB checksum: stored {stored:016x}, computed {computed:016x}"
            ),
        }
    }
}

impl fmt::Display for RdbLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.kind, self.offset)
    }
}

impl std::error::Error for RdbLoadError {}
