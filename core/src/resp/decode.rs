//! Request framing, in two passes as Redis's processMultibulkBuffer/processInlineBuffer:
//! first check that a whole request is buffered (recording where each argument lies),
//! then slice the arguments out of the shared buffer without copying. "Need more
//! bytes" is a normal result, not an error.

use bytes::Bytes;

/// Longest inline request, and longest `*<n>`/`$<n>` header line, Redis accepts
/// (PROTO_INLINE_MAX_SIZE).
pub const INLINE_BYTES_MAX: usize = 64 * 1024;

/// Multibulk and bulk lengths allowed before a client has authenticated.
const UNAUTH_MULTIBULK_MAX: i64 = 10;
const UNAUTH_BULK_BYTES_MAX: i64 = 16 * 1024;

/// Limits that come from configuration and the client's state.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `proto-max-bulk-len`.
    pub bulk_bytes_max: i64,
    /// Whether the client still has to authenticate (tighter limits apply).
    pub unauthenticated: bool,
}

/// A protocol violation. Redis replies `-ERR Protocol error: <reason>` and closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    TooBigMultibulkCount,
    InvalidMultibulkLength,
    UnauthenticatedMultibulkLength,
    TooBigBulkCount,
    ExpectedDollar(u8),
    InvalidBulkLength,
    UnauthenticatedBulkLength,
    TooBigInline,
    UnbalancedQuotes,
}

impl ProtocolError {
    /// The error line Redis sends, without the leading `-` and trailing CRLF.
    pub fn message(self) -> String {
        let reason = match self {
            Self::TooBigMultibulkCount => "too big mbulk count string".to_string(),
            Self::InvalidMultibulkLength => "invalid multibulk length".to_string(),
            Self::UnauthenticatedMultibulkLength => "unauthenticated multibulk length".to_string(),
            Self::TooBigBulkCount => "too big bulk count string".to_string(),
            Self::ExpectedDollar(got) => format!("expected '$', got '{}'", got as char),
            Self::InvalidBulkLength => "invalid bulk length".to_string(),
            Self::UnauthenticatedBulkLength => "unauthenticated bulk length".to_string(),
            Self::TooBigInline => "too big inline request".to_string(),
            Self::UnbalancedQuotes => "unbalanced quotes in request".to_string(),
        };
        format!("ERR Protocol error: {reason}")
    }
}

/// Where a complete request lies in the buffer (first pass).
#[derive(Debug, PartialEq, Eq)]
pub enum Framed {
    /// A multibulk request: the byte ranges of its arguments.
    Multibulk {
        spans: Vec<(usize, usize)>,
        consumed: usize,
    },
    /// An inline request, already split and unescaped.
    Inline { args: Vec<Vec<u8>>, consumed: usize },
}

impl Framed {
    /// How many bytes of the buffer the request used.
    pub fn consumed(&self) -> usize {
        match self {
            Framed::Multibulk { consumed, .. } | Framed::Inline { consumed, .. } => *consumed,
        }
    }

    /// Second pass: the arguments, sliced out of `buf` (the buffer that was framed)
    /// without copying. Empty for a blank inline line or `*0`, which Redis skips.
    pub fn into_args(self, buf: &Bytes) -> Vec<Bytes> {
        match self {
            Framed::Multibulk { spans, .. } => {
                spans.into_iter().map(|(s, e)| buf.slice(s..e)).collect()
            }
            Framed::Inline { args, .. } => args.into_iter().map(Bytes::from).collect(),
        }
    }
}

/// First pass: checks whether a whole request is buffered at the start of `buf`.
/// `Ok(None)` means it is not complete yet.
pub fn frame(buf: &[u8], limits: Limits) -> Result<Option<Framed>, ProtocolError> {
    match buf.first() {
        None => Ok(None),
        Some(b'*') => frame_multibulk(buf, limits),
        Some(_) => frame_inline(buf),
    }
}

/// Finds the `\r` ending the header line that starts at `from`. Like Redis, only the
/// `\r` is searched for and the byte after it is taken to be `\n`, but it must be
/// buffered already.
///
/// Redis searches with strchr, which stops at a NUL byte: a NUL before the `\r` means
/// "not found yet", so the same bytes wait here too.
fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let at = from
        + buf
            .get(from..)?
            .iter()
            .position(|&b| b == b'\r' || b == 0)?;
    (buf[at] == b'\r' && at + 1 < buf.len()).then_some(at)
}

/// Parses a header number the way Redis's string2ll does (strict decimal).
fn parse_len(digits: &[u8]) -> Option<i64> {
    crate::util::num::parse_i64(digits)
}

fn frame_multibulk(buf: &[u8], limits: Limits) -> Result<Option<Framed>, ProtocolError> {
    let Some(cr) = find_crlf(buf, 0) else {
        return if buf.len() > INLINE_BYTES_MAX {
            Err(ProtocolError::TooBigMultibulkCount)
        } else {
            Ok(None)
        };
    };
    let count = match parse_len(&buf[1..cr]) {
        Some(n) if n <= i64::from(i32::MAX) => n,
        _ => return Err(ProtocolError::InvalidMultibulkLength),
    };
    if count > UNAUTH_MULTIBULK_MAX && limits.unauthenticated {
        return Err(ProtocolError::UnauthenticatedMultibulkLength);
    }
    let mut pos = cr + 2;
    if count <= 0 {
        return Ok(Some(Framed::Multibulk {
            spans: Vec::new(),
            consumed: pos,
        }));
    }
    // First pass: locate every argument; bail out early if something is missing.
    // The capacity is bounded so a huge declared count cannot allocate up front.
    let mut spans = Vec::with_capacity((count as usize).min(1024));
    for _ in 0..count {
        match bulk_span(buf, pos, limits)? {
            Some((start, end)) => {
                spans.push((start, end));
                pos = end + 2;
            }
            None => return Ok(None),
        }
    }
    Ok(Some(Framed::Multibulk {
        spans,
        consumed: pos,
    }))
}

/// Locates one `$<len>\r\n<data>\r\n` starting at `pos`: `Some((data_start, data_end))`.
fn bulk_span(
    buf: &[u8],
    pos: usize,
    limits: Limits,
) -> Result<Option<(usize, usize)>, ProtocolError> {
    let Some(cr) = find_crlf(buf, pos) else {
        return if buf.len() - pos.min(buf.len()) > INLINE_BYTES_MAX {
            Err(ProtocolError::TooBigBulkCount)
        } else {
            Ok(None)
        };
    };
    if buf[pos] != b'$' {
        return Err(ProtocolError::ExpectedDollar(buf[pos]));
    }
    let len = match parse_len(&buf[pos + 1..cr]) {
        Some(n) if n >= 0 && n <= limits.bulk_bytes_max => n as usize,
        _ => return Err(ProtocolError::InvalidBulkLength),
    };
    if len as i64 > UNAUTH_BULK_BYTES_MAX && limits.unauthenticated {
        return Err(ProtocolError::UnauthenticatedBulkLength);
    }
    let start = cr + 2;
    let end = start + len;
    if buf.len() < end + 2 {
        return Ok(None);
    }
    Ok(Some((start, end)))
}

fn frame_inline(buf: &[u8]) -> Result<Option<Framed>, ProtocolError> {
    // As Redis's strchr, the search for the newline stops at a NUL byte: a line with
    // a NUL in it never completes and ends as a too big inline request.
    let newline = buf
        .iter()
        .position(|&b| b == b'\n' || b == 0)
        .filter(|&at| buf[at] == b'\n');
    let Some(lf) = newline else {
        return if buf.len() > INLINE_BYTES_MAX {
            Err(ProtocolError::TooBigInline)
        } else {
            Ok(None)
        };
    };
    let line_end = if lf > 0 && buf[lf - 1] == b'\r' {
        lf - 1
    } else {
        lf
    };
    let args = split_inline_args(&buf[..line_end]).ok_or(ProtocolError::UnbalancedQuotes)?;
    Ok(Some(Framed::Inline {
        args,
        consumed: lf + 1,
    }))
}

/// Splits an inline request line as Redis's sdssplitargs does: whitespace separates,
/// "double quotes" understand \n \r \t \b \a \\ \" and \xHH, 'single quotes' only \',
/// and a closing quote must be followed by whitespace or the end. `None` means
/// unbalanced quotes.
///
/// The line is a C string to Redis: a NUL byte ends it.
pub fn split_inline_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // Redis splits a C string: a NUL byte ends the line.
    let line = line.split(|&b| b == 0).next().unwrap_or_default();
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && is_c_space(line[i]) {
            i += 1;
        }
        if i >= line.len() {
            return Some(args);
        }
        let (arg, next) = split_one_arg(line, i)?;
        args.push(arg);
        i = next;
    }
}

fn split_one_arg(line: &[u8], mut i: usize) -> Option<(Vec<u8>, usize)> {
    let mut cur = Vec::new();
    let mut in_double = false;
    let mut in_single = false;
    loop {
        let c = line.get(i).copied();
        if in_double {
            let c = c?;
            if c == b'\\' && line.get(i + 1) == Some(&b'x') {
                if let Some(byte) = hex_pair(line.get(i + 2..i + 4)) {
                    cur.push(byte);
                    i += 4;
                    continue;
                }
            }
            if c == b'\\' && i + 1 < line.len() {
                cur.push(unescape(line[i + 1]));
                i += 2;
                continue;
            }
            if c == b'"' {
                // The closing quote must be followed by a space or the end.
                if line.get(i + 1).is_some_and(|&b| !is_c_space(b)) {
                    return None;
                }
                return Some((cur, i + 1));
            }
            cur.push(c);
        } else if in_single {
            let c = c?;
            if c == b'\\' && line.get(i + 1) == Some(&b'\'') {
                cur.push(b'\'');
                i += 2;
                continue;
            }
            if c == b'\'' {
                if line.get(i + 1).is_some_and(|&b| !is_c_space(b)) {
                    return None;
                }
                return Some((cur, i + 1));
            }
            cur.push(c);
        } else {
            match c {
                None => return Some((cur, i)),
                Some(b' ' | b'\n' | b'\r' | b'\t') => return Some((cur, i)),
                Some(b'"') => in_double = true,
                Some(b'\'') => in_single = true,
                Some(c) => cur.push(c),
            }
        }
        i += 1;
    }
}

/// C's isspace: space, \t, \n, \v, \f, \r (Rust's is_ascii_whitespace lacks \v).
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_pair(pair: Option<&[u8]>) -> Option<u8> {
    let pair = pair?;
    let hi = (pair[0] as char).to_digit(16)?;
    let lo = (pair[1] as char).to_digit(16)?;
    Some((hi * 16 + lo) as u8)
}

fn unescape(c: u8) -> u8 {
    match c {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 8,
        b'a' => 7,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: Limits = Limits {
        bulk_bytes_max: 512 * 1024 * 1024,
        unauthenticated: false,
    };

    fn args_of(input: &[u8]) -> Vec<Vec<u8>> {
        let buf = Bytes::copy_from_slice(input);
        let framed = frame(&buf, OPEN).unwrap().unwrap();
        assert_eq!(framed.consumed(), input.len());
        framed.into_args(&buf).iter().map(|a| a.to_vec()).collect()
    }

    #[test]
    fn multibulk_request_is_framed_and_sliced() {
        assert_eq!(
            args_of(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"),
            vec![b"GET".to_vec(), b"k".to_vec()]
        );
    }

    #[test]
    fn every_incomplete_prefix_asks_for_more_bytes() {
        let full = b"*2\r\n$3\r\nSET\r\n$5\r\nhello\r\n";
        for cut in 1..full.len() {
            let buf = Bytes::copy_from_slice(&full[..cut]);
            assert_eq!(frame(&buf, OPEN), Ok(None), "prefix of {cut} bytes");
        }
    }

    #[test]
    fn inline_request_splits_on_whitespace_and_quotes() {
        assert_eq!(
            args_of(b"set k \"a b\\x41\" 'c\\'d'\r\n"),
            vec![
                b"set".to_vec(),
                b"k".to_vec(),
                b"a bA".to_vec(),
                b"c'd".to_vec()
            ]
        );
    }

    #[test]
    fn a_nul_byte_ends_an_inline_line_as_in_redis() {
        // Redis 7.0 looks for the newline with strchr, so with a NUL before it the
        // request never completes (checked against redis-server 7.0.15); the split
        // itself also stops at a NUL.
        assert_eq!(frame(b"\0\n", OPEN), Ok(None));
        assert_eq!(frame(b"PING\0junk\r\n", OPEN), Ok(None));
        assert_eq!(
            split_inline_args(b"PING\0junk"),
            Some(vec![b"PING".to_vec()])
        );
    }

    #[test]
    fn unbalanced_quotes_are_a_protocol_error() {
        let buf = Bytes::from_static(b"set k \"abc\r\n");
        assert_eq!(frame(&buf, OPEN), Err(ProtocolError::UnbalancedQuotes));
    }

    #[test]
    fn bad_lengths_are_protocol_errors() {
        let cases: [(&[u8], ProtocolError); 4] = [
            (b"*x\r\n", ProtocolError::InvalidMultibulkLength),
            (b"*1\r\n$-5\r\n", ProtocolError::InvalidBulkLength),
            (b"*1\r\n:5\r\n", ProtocolError::ExpectedDollar(b':')),
            (b"*3000000000\r\n", ProtocolError::InvalidMultibulkLength),
        ];
        for (input, expected) in cases {
            assert_eq!(frame(input, OPEN), Err(expected));
        }
    }

    #[test]
    fn a_nul_before_the_newline_keeps_an_inline_request_waiting() {
        let buf = Bytes::from_static(b"echo a\x00b\r\nPING\r\n");
        assert_eq!(frame(&buf, OPEN), Ok(None));
        let mut big = b"PING \x00".to_vec();
        big.resize(INLINE_BYTES_MAX + 1, b'x');
        big.extend_from_slice(b"\r\n");
        assert_eq!(frame(&big, OPEN), Err(ProtocolError::TooBigInline));
    }

    #[test]
    fn a_nul_in_a_header_line_keeps_the_request_waiting() {
        let buf = Bytes::from_static(b"*1\x00\r\n$4\r\nPING\r\n");
        assert_eq!(frame(&buf, OPEN), Ok(None));
    }

    #[test]
    fn vertical_tab_and_form_feed_separate_inline_arguments_like_isspace() {
        assert_eq!(
            split_inline_args(b"\x0becho \"x\"\x0c"),
            Some(vec![b"echo".to_vec(), b"x".to_vec()])
        );
        // Unquoted, they are part of the argument, as in sdssplitargs.
        assert_eq!(
            split_inline_args(b"echo\x0bx"),
            Some(vec![b"echo\x0bx".to_vec()])
        );
    }

    #[test]
    fn unauthenticated_clients_get_tighter_limits() {
        let limits = Limits {
            unauthenticated: true,
            ..OPEN
        };
        let buf = Bytes::from_static(b"*11\r\n");
        assert_eq!(
            frame(&buf, limits),
            Err(ProtocolError::UnauthenticatedMultibulkLength)
        );
    }
}
