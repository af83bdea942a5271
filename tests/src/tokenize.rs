//! Splitting a script line into arguments exactly as `redis-cli` does (`sdssplitargs`),
//! so a line can be pasted between a script and a redis-cli session unchanged.

use std::fmt;

/// Why a line could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenizeError {
    /// A `"` or `'` opened at this byte offset is never closed.
    UnterminatedQuote { offset: usize },
    /// A closing quote at this byte offset is followed by something other than space.
    TextAfterClosingQuote { offset: usize },
}

impl fmt::Display for TokenizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnterminatedQuote { offset } => {
                write!(f, "unterminated quote opened at byte {offset}")
            }
            Self::TextAfterClosingQuote { offset } => {
                write!(
                    f,
                    "closing quote at byte {offset} must be followed by a space"
                )
            }
        }
    }
}

impl std::error::Error for TokenizeError {}

/// Splits `line` into arguments: whitespace separates them; `"..."` takes the escapes
/// `\n \r \t \b \a \\ \" \xHH` (any other `\c` is `c`); `'...'` takes only `\'`.
pub fn split_args(line: &[u8]) -> Result<Vec<Vec<u8>>, TokenizeError> {
    let mut args = Vec::new();
    let mut pos = 0;
    loop {
        while pos < line.len() && is_space(line[pos]) {
            pos += 1;
        }
        if pos == line.len() {
            return Ok(args);
        }
        let (arg, next) = split_one_arg(line, pos)?;
        args.push(arg);
        pos = next;
    }
}

/// Decodes `text` as the inside of a double-quoted string (no quote ends it), for
/// `!raw` lines where every byte, spaces included, is sent as written.
pub fn unescape(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut pos = 0;
    while pos < text.len() {
        let (byte, used) = decode_double_quoted(text, pos);
        out.push(byte);
        pos += used;
    }
    out
}

/// Reads one argument starting at `start` (not a space); returns it and the offset after it.
fn split_one_arg(line: &[u8], start: usize) -> Result<(Vec<u8>, usize), TokenizeError> {
    let mut arg = Vec::new();
    let mut pos = start;
    while pos < line.len() && !is_space(line[pos]) {
        match line[pos] {
            quote @ (b'"' | b'\'') => pos = read_quoted(line, pos, quote, &mut arg)?,
            byte => {
                arg.push(byte);
                pos += 1;
            }
        }
    }
    Ok((arg, pos))
}

/// Appends the quoted section opened at `open` to `arg`; returns the offset after the
/// closing quote. As in redis-cli, a quote may open mid-argument (`a"b c"` is `ab c`)
/// but must close at the end of one.
fn read_quoted(
    line: &[u8],
    open: usize,
    quote: u8,
    arg: &mut Vec<u8>,
) -> Result<usize, TokenizeError> {
    let mut pos = open + 1;
    while pos < line.len() {
        if line[pos] == quote {
            return match line.get(pos + 1) {
                Some(&next) if !is_space(next) => {
                    Err(TokenizeError::TextAfterClosingQuote { offset: pos })
                }
                _ => Ok(pos + 1),
            };
        }
        let (byte, used) = if quote == b'"' {
            decode_double_quoted(line, pos)
        } else {
            decode_single_quoted(line, pos)
        };
        arg.push(byte);
        pos += used;
    }
    Err(TokenizeError::UnterminatedQuote { offset: open })
}

/// One byte of double-quoted text at `pos`: the decoded byte and how many input bytes it used.
fn decode_double_quoted(text: &[u8], pos: usize) -> (u8, usize) {
    if text[pos] != b'\\' || pos + 1 == text.len() {
        return (text[pos], 1);
    }
    if let Some(byte) = decode_hex_escape(&text[pos + 1..]) {
        return (byte, 4);
    }
    let byte = match text[pos + 1] {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 0x08,
        b'a' => 0x07,
        other => other,
    };
    (byte, 2)
}

fn decode_single_quoted(text: &[u8], pos: usize) -> (u8, usize) {
    if text[pos] == b'\\' && text.get(pos + 1) == Some(&b'\'') {
        (b'\'', 2)
    } else {
        (text[pos], 1)
    }
}

/// `xHH` (after the backslash) as a byte; `None` when the two hex digits are not there,
/// in which case redis-cli reads `\x` as a plain `x`.
fn decode_hex_escape(after_backslash: &[u8]) -> Option<u8> {
    match after_backslash {
        [b'x', high, low, ..] => Some(hex_value(*high)? << 4 | hex_value(*low)?),
        _ => None,
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|value| value as u8)
}

/// C's `isspace`, which redis-cli uses to separate arguments.
fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn split(line: &str) -> Vec<Vec<u8>> {
        split_args(line.as_bytes()).unwrap()
    }

    #[test]
    fn whitespace_separates_plain_arguments() {
        assert_eq!(split("  SET\tfoo   bar "), [&b"SET"[..], b"foo", b"bar"]);
        assert!(split("   ").is_empty());
    }

    #[test]
    fn double_quotes_take_c_escapes_and_hex() {
        assert_eq!(
            split(r#""a b\n\r\t\b\a\\\"\x41\xfFz\q""#),
            [b"a b\n\r\t\x08\x07\\\"A\xffzq".to_vec()]
        );
    }

    #[test]
    fn incomplete_hex_escape_is_a_plain_x() {
        assert_eq!(split(r#""\x4" "\xzz""#), [&b"x4"[..], b"xzz"]);
    }

    #[test]
    fn single_quotes_take_only_escaped_quote() {
        assert_eq!(split(r"'it\'s \n'"), [b"it's \\n".to_vec()]);
    }

    #[test]
    fn quotes_may_open_mid_argument() {
        assert_eq!(split(r#"a"b c" x'y z'"#), [&b"ab c"[..], b"xy z"]);
    }

    #[test]
    fn empty_quoted_argument_is_kept() {
        assert_eq!(split(r#"SET "" ''"#), [&b"SET"[..], b"", b""]);
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        assert_eq!(
            split_args(br#"SET "foo"#),
            Err(TokenizeError::UnterminatedQuote { offset: 4 })
        );
        assert_eq!(
            split_args(br#"'a\'"#),
            Err(TokenizeError::UnterminatedQuote { offset: 0 })
        );
    }

    #[test]
    fn text_after_closing_quote_is_an_error() {
        assert_eq!(
            split_args(br#""foo"bar"#),
            Err(TokenizeError::TextAfterClosingQuote { offset: 4 })
        );
    }

    #[test]
    fn unescape_keeps_spaces_and_quotes_literal() {
        assert_eq!(
            unescape(br#"*1\r\n$4\r\nPING\r\n"#),
            b"*1\r\n$4\r\nPING\r\n"
        );
        assert_eq!(unescape(br#" "a" \x00\"#), b" \"a\" \x00\\");
    }

    /// The quoting `escape_bytes` produces, read back by the tokenizer, gives the bytes.
    fn quote(arg: &[u8]) -> String {
        format!("\"{}\"", crate::escape::escape_bytes(arg))
    }

    proptest! {
        #[test]
        fn quoted_arguments_round_trip(args in proptest::collection::vec(
            proptest::collection::vec(any::<u8>(), 0..40), 0..8)) {
            let line: Vec<String> = args.iter().map(|arg| quote(arg)).collect();
            prop_assert_eq!(split_args(line.join(" ").as_bytes()).unwrap(), args);
        }
    }
}
