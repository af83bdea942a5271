//! The AOF command stream as Redis 7.0's `loadSingleAppendOnlyFile` reads it: lines
//! read as `fgets` does (at most [`LINE_BYTES_MAX`] - 1 bytes, up to a newline), `#`
//! annotation lines skipped, then `*<argc>` and `argc` times `$<len>`, the bytes and
//! two more bytes (the CRLF, not checked).
//!
//! The reader is pure: it yields commands with the offset just past each, and ends
//! with how the file ended. An incomplete last command is [`End::Truncated`] with
//! the offset of the last whole command (or of the MULTI that opened a transaction
//! the file never closed), which is where `aof-load-truncated` cuts the file.

use bytes::Bytes;

/// Redis's AOF_ANNOTATION_LINE_MAX_LEN: the `fgets` buffer, terminator included.
pub const LINE_BYTES_MAX: usize = 1024;

/// How reading a file ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Every command was whole.
    Clean,
    /// The file stops inside a command, or inside a MULTI without EXEC.
    /// `valid_up_to` is where the last whole command (or that MULTI) ended.
    Truncated {
        valid_up_to: usize,
        /// A MULTI was open at the end (Redis logs "Revert incomplete MULTI/EXEC").
        in_multi: bool,
    },
    /// A line that is not `*<argc>` (or `$<len>` inside a command) at `offset`.
    BadFormat { offset: usize },
}

/// One item of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A whole command; `end` is the offset just past it.
    Command { args: Vec<Bytes>, end: usize },
    /// The stream is over.
    End(End),
}

/// Reads commands from `bytes` starting at `start` (past an RDB preamble).
pub struct Reader<'a> {
    bytes: &'a Bytes,
    pos: usize,
    valid_up_to: usize,
    valid_before_multi: usize,
    in_multi: bool,
    done: bool,
}

enum Line<'b> {
    /// `fgets` returned NULL: nothing left.
    Eof,
    Text(&'b [u8]),
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a Bytes, start: usize) -> Self {
        let start = start.min(bytes.len());
        Reader {
            bytes,
            pos: start,
            valid_up_to: start,
            valid_before_multi: start,
            in_multi: false,
            done: false,
        }
    }

    /// Offset where reading stands.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The next command, or how the stream ended (then `End` again forever).
    pub fn next_item(&mut self) -> Item {
        if self.done {
            return Item::End(End::Clean);
        }
        let item = self.read_command();
        if let Item::End(_) = item {
            self.done = true;
        }
        item
    }

    fn read_command(&mut self) -> Item {
        let line_start = loop {
            let at = self.pos;
            match self.line() {
                Line::Eof => return Item::End(self.at_eof()),
                Line::Text(l) if l.first() == Some(&b'#') => continue,
                Line::Text(l) if l.first() != Some(&b'*') => {
                    return Item::End(End::BadFormat { offset: at });
                }
                Line::Text(l) if l.len() == 1 => return Item::End(self.truncated()),
                Line::Text(l) => break (at, atoi(&l[1..])),
            }
        };
        let (at, argc) = line_start;
        if argc < 1 {
            return Item::End(End::BadFormat { offset: at });
        }
        let mut args = Vec::with_capacity((argc as usize).min(1024));
        for _ in 0..argc {
            let at = self.pos;
            let len = match self.line() {
                Line::Eof => return Item::End(self.truncated()),
                Line::Text(l) if l.first() != Some(&b'$') => {
                    return Item::End(End::BadFormat { offset: at });
                }
                Line::Text(l) => strtol(&l[1..]),
            };
            let Ok(len) = usize::try_from(len) else {
                return Item::End(End::BadFormat { offset: at });
            };
            match self.take(len) {
                Some(arg) => args.push(arg),
                None => return Item::End(self.truncated()),
            }
            if self.take(2).is_none() {
                return Item::End(self.truncated());
            }
        }
        self.note_transaction(&args);
        self.valid_up_to = self.pos;
        Item::Command {
            args,
            end: self.pos,
        }
    }

    /// Follows MULTI/EXEC so a transaction the file never closes can be cut off.
    fn note_transaction(&mut self, args: &[Bytes]) {
        let name = &args[0];
        if name.eq_ignore_ascii_case(b"multi") {
            if !self.in_multi {
                self.valid_before_multi = self.valid_up_to;
            }
            self.in_multi = true;
        } else if name.eq_ignore_ascii_case(b"exec") || name.eq_ignore_ascii_case(b"discard") {
            self.in_multi = false;
        }
    }

    fn at_eof(&self) -> End {
        if self.in_multi {
            End::Truncated {
                valid_up_to: self.valid_before_multi,
                in_multi: true,
            }
        } else {
            End::Clean
        }
    }

    fn truncated(&self) -> End {
        End::Truncated {
            valid_up_to: if self.in_multi {
                self.valid_before_multi
            } else {
                self.valid_up_to
            },
            in_multi: self.in_multi,
        }
    }

    /// One line as `fgets(buf, LINE_BYTES_MAX)` reads it.
    fn line(&mut self) -> Line<'a> {
        let rest = &self.bytes[self.pos..];
        if rest.is_empty() {
            return Line::Eof;
        }
        let limit = rest.len().min(LINE_BYTES_MAX - 1);
        let len = match rest[..limit].iter().position(|&b| b == b'\n') {
            Some(i) => i + 1,
            None => limit,
        };
        self.pos += len;
        let bytes: &'a Bytes = self.bytes;
        Line::Text(&bytes[self.pos - len..self.pos])
    }

    /// `n` bytes as a shared slice, or None (and nothing consumed) if fewer remain.
    fn take(&mut self, n: usize) -> Option<Bytes> {
        let end = self.pos.checked_add(n)?;
        if end > self.bytes.len() {
            self.pos = self.bytes.len();
            return None;
        }
        let arg = self.bytes.slice(self.pos..end);
        self.pos = end;
        Some(arg)
    }
}

/// C's `atoi` on a line: optional spaces and sign, then digits; 0 when none. Values
/// past `i32` saturate (a count that large cannot be read anyway).
fn atoi(s: &[u8]) -> i64 {
    strtol(s).clamp(i64::from(i32::MIN), i64::from(i32::MAX))
}

/// C's `strtol(s, NULL, 10)`: leading whitespace, a sign, digits; saturating.
fn strtol(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut n: i64 = 0;
    while let Some(d) = s.get(i).filter(|c| c.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(d - b'0'));
        i += 1;
    }
    if negative {
        -n
    } else {
        n
    }
}

/// The RESP form of one command as the AOF holds it (catAppendOnlyGenericCommand).
pub fn encode_command(out: &mut Vec<u8>, args: &[Bytes]) {
    push_count(out, b'*', args.len());
    for a in args {
        push_count(out, b'$', a.len());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// `<prefix><n>\r\n` without a temporary string (this runs for every argument).
fn push_count(out: &mut Vec<u8>, prefix: u8, n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push(prefix);
    out.extend_from_slice(&digits[at..]);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &[u8]) -> Vec<Item> {
        let bytes = Bytes::copy_from_slice(text);
        let mut r = Reader::new(&bytes, 0);
        let mut out = Vec::new();
        loop {
            let item = r.next_item();
            let end = matches!(item, Item::End(_));
            out.push(item);
            if end {
                return out;
            }
        }
    }

    fn cmd(args: &[&str], end: usize) -> Item {
        Item::Command {
            args: args
                .iter()
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect(),
            end,
        }
    }

    #[test]
    fn commands_and_annotations_read_in_order() {
        let text = b"#TS:1700000000\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n";
        assert_eq!(
            items(text),
            [
                cmd(&["SELECT", "0"], 39),
                cmd(&["set", "a", "1"], text.len()),
                Item::End(End::Clean)
            ]
        );
    }

    #[test]
    fn a_torn_last_command_is_truncated_after_the_last_whole_one() {
        let whole = b"*1\r\n$4\r\nPING\r\n";
        for cut in 1..whole.len() {
            let mut text = whole.to_vec();
            text.extend_from_slice(&whole[..cut]);
            let got = items(&text);
            assert_eq!(
                got.last(),
                Some(&Item::End(End::Truncated {
                    valid_up_to: whole.len(),
                    in_multi: false
                })),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn an_open_multi_at_the_end_reverts_to_before_it() {
        let text = b"*1\r\n$4\r\nPING\r\n*1\r\n$5\r\nMULTI\r\n*1\r\n$4\r\nPING\r\n";
        assert_eq!(
            items(text).last(),
            Some(&Item::End(End::Truncated {
                valid_up_to: 14,
                in_multi: true
            }))
        );
    }

    #[test]
    fn lines_that_are_not_commands_are_format_errors_at_their_offset() {
        assert_eq!(
            items(b"*1\r\n$4\r\nPING\r\nhello\r\n").last(),
            Some(&Item::End(End::BadFormat { offset: 14 }))
        );
        assert_eq!(
            items(b"*0\r\n").last(),
            Some(&Item::End(End::BadFormat { offset: 0 }))
        );
        assert_eq!(
            items(b"*1\r\nx4\r\n").last(),
            Some(&Item::End(End::BadFormat { offset: 4 }))
        );
    }

    #[test]
    fn encoded_commands_read_back() {
        let args = vec![Bytes::from_static(b"SET"), Bytes::from_static(b"k\r\n")];
        let mut out = Vec::new();
        encode_command(&mut out, &args);
        assert_eq!(out, b"*2\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n");
        assert_eq!(items(&out)[0], cmd(&["SET", "k\r\n"], out.len()));
    }
}
