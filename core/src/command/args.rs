//! Argument parsing shared by every family, with Redis's error for each failure.

use bytes::Bytes;

use crate::error::{CmdError, NOT_FLOAT, NOT_INTEGER};
use crate::util::num::{parse_f64, parse_i64};

/// Whether `arg` is `keyword`, ignoring ASCII case (`keyword` is upper-case).
#[inline]
pub fn is(arg: &[u8], keyword: &str) -> bool {
    arg.eq_ignore_ascii_case(keyword.as_bytes())
}

/// An integer argument (`ERR value is not an integer or out of range` otherwise).
pub fn int(arg: &[u8]) -> Result<i64, CmdError> {
    parse_i64(arg).ok_or(CmdError::Static(NOT_INTEGER))
}

/// An integer argument with a caller-chosen error.
pub fn int_or(arg: &[u8], err: &'static str) -> Result<i64, CmdError> {
    parse_i64(arg).ok_or(CmdError::Static(err))
}

/// A float argument (`ERR value is not a valid float` otherwise).
pub fn float(arg: &[u8]) -> Result<f64, CmdError> {
    parse_f64(arg).ok_or(CmdError::Static(NOT_FLOAT))
}

/// The argument as UTF-8 text for messages (lossy: errors are text).
pub fn text(arg: &Bytes) -> String {
    String::from_utf8_lossy(arg).into_owned()
}
