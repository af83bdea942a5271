//! redis-check-aof 7.0's reading of a command stream (its `process`), which is
//! stricter than the server's loader: every line must end in CRLF and every
//! argument be followed by CRLF, and MULTI/EXEC must pair up.
//!
//! It reports how far the file is whole (`ok_up_to`: the start of the command that
//! failed, or of the MULTI whose transaction did; that is where `--fix` cuts), the
//! running line count (shared by every file of one check, as in Redis), and the
//! first error with its offset, formatted as redis-check-aof prints it.

/// readLong's `fgets` buffer (128 bytes, terminator included).
const LONG_LINE_BYTES_MAX: usize = 128;

/// What checking one file's command stream found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// Offset up to which the file is whole.
    pub ok_up_to: usize,
    /// A line that is neither a command nor an annotation (printed as "AOF <path>
    /// format error", without an offset).
    pub format_error: bool,
    /// The first error, as printed (`0x<offset>: <what>`), if any.
    pub error: Option<String>,
}

struct Checker<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Where the failing read started (Redis's epos).
    epos: usize,
    line: &'a mut u64,
    error: Option<String>,
}

impl Checker<'_> {
    fn fail(&mut self, what: String) -> bool {
        if self.error.is_none() {
            self.error = Some(format!("0x{:>16x}: {what}", self.epos));
        }
        false
    }

    fn at_eof(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// `fgets(buf, max)`: up to `max - 1` bytes, through a newline.
    fn fgets(&mut self, max: usize) -> Option<&[u8]> {
        if self.at_eof() {
            return None;
        }
        let rest = &self.bytes[self.pos..];
        let limit = rest.len().min(max - 1);
        let len = rest[..limit]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(limit, |i| i + 1);
        self.pos += len;
        Some(&self.bytes[self.pos - len..self.pos])
    }

    fn newline_at(&mut self, two: [u8; 2]) -> bool {
        if two != *b"\r\n" {
            let got = format!("{:02x}{:02x}", two[0], two[1]);
            return self.fail(format!("Expected \\r\\n, got: {got}"));
        }
        *self.line += 1;
        true
    }

    /// readLong: `<prefix><number>\r\n`; None at a clean end of file.
    fn long(&mut self, prefix: u8) -> Option<i64> {
        self.epos = self.pos;
        let line = self.fgets(LONG_LINE_BYTES_MAX)?.to_vec();
        if line.first() != Some(&prefix) {
            let got = char::from(line.first().copied().unwrap_or(0));
            self.fail(format!(
                "Expected prefix '{}', got: '{got}'",
                char::from(prefix)
            ));
            return None;
        }
        let (n, digits_end) = strtol(&line[1..]);
        let rest = &line[1 + digits_end..];
        let two = [
            rest.first().copied().unwrap_or(0),
            rest.get(1).copied().unwrap_or(0),
        ];
        self.newline_at(two).then_some(n)
    }

    /// readString: `$<len>\r\n<bytes>\r\n`.
    fn string(&mut self) -> Option<Vec<u8>> {
        let len = self.long(b'$')?;
        if !(0..=i64::MAX - 2).contains(&len) {
            self.fail(format!(
                "Expected to read string of {len} bytes, which is not in the suitable range"
            ));
            return None;
        }
        let want = len as u64 + 2;
        self.epos = self.pos;
        let avail = (self.bytes.len() - self.pos) as u64;
        if avail < want {
            self.pos = self.bytes.len();
            self.fail(format!("Expected to read {want} bytes, got {avail} bytes"));
            return None;
        }
        let end = self.pos + want as usize;
        let arg = self.bytes[self.pos..end - 2].to_vec();
        let two = [self.bytes[end - 2], self.bytes[end - 1]];
        self.pos = end;
        self.newline_at(two).then_some(arg)
    }
}

/// Checks the command stream of `bytes` from `start` as redis-check-aof's
/// checkSingleAof loop: one annotation line or one command per turn; `line` is the
/// running line count, `path` names the file in the MULTI/EXEC errors.
pub fn process(bytes: &[u8], start: usize, line: &mut u64, path: &str) -> Processed {
    let mut c = Checker {
        bytes,
        pos: start.min(bytes.len()),
        epos: start.min(bytes.len()),
        line,
        error: None,
    };
    let mut ok_up_to = c.pos;
    let mut multi: i64 = 0;
    let mut format_error = false;
    loop {
        if multi == 0 {
            ok_up_to = c.pos;
        }
        match c.bytes.get(c.pos) {
            None => break,
            Some(b'#') => {
                c.epos = c.pos;
                c.fgets(super::parse::LINE_BYTES_MAX);
            }
            Some(b'*') => {
                if !c.command(&mut multi, path) {
                    break;
                }
            }
            Some(_) => {
                format_error = true;
                break;
            }
        }
    }
    if c.at_eof() && multi != 0 && c.error.is_none() {
        c.fail("Reached EOF before reading EXEC for MULTI".into());
    }
    Processed {
        ok_up_to,
        format_error,
        error: c.error,
    }
}

impl Checker<'_> {
    /// processRESP: one command, following MULTI/EXEC nesting.
    fn command(&mut self, multi: &mut i64, path: &str) -> bool {
        let Some(argc) = self.long(b'*') else {
            return false;
        };
        for i in 0..argc.max(0) {
            let Some(arg) = self.string() else {
                return false;
            };
            if i != 0 {
                continue;
            }
            if arg.eq_ignore_ascii_case(b"multi") {
                *multi += 1;
                if *multi > 1 {
                    return self.fail(format!("Unexpected MULTI in AOF {path}"));
                }
            } else if arg.eq_ignore_ascii_case(b"exec") {
                *multi -= 1;
                if *multi != 0 {
                    return self.fail(format!("Unexpected EXEC in AOF {path}"));
                }
            }
        }
        true
    }
}

/// C's strtol on a line: whitespace, sign, digits; returns the value and how many
/// bytes it consumed (0 when there are no digits).
fn strtol(s: &[u8]) -> (i64, usize) {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let negative = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let digits_start = i;
    let mut n: i64 = 0;
    while let Some(d) = s.get(i).filter(|c| c.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(d - b'0'));
        i += 1;
    }
    if i == digits_start {
        return (0, 0);
    }
    (if negative { -n } else { n }, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8]) -> (Processed, u64) {
        let mut line = 1;
        let p = process(bytes, 0, &mut line, "t.aof");
        (p, line)
    }

    /// Expected outputs are redis-check-aof 7.0.15's on the same bytes.
    #[test]
    fn a_torn_argument_reports_the_bytes_it_could_read() {
        let (p, line) = check(b"*3\r\n$3\r\nSET\r\n$1\r\nx");
        assert_eq!(p.ok_up_to, 0);
        assert_eq!(line, 5);
        assert_eq!(
            p.error.as_deref(),
            Some("0x              11: Expected to read 3 bytes, got 1 bytes")
        );
    }

    #[test]
    fn a_missing_crlf_after_an_argument_is_reported() {
        let (p, _) = check(b"*3\r\n$3\r\nSET\r\n$1\r\nxgarbage\r\n");
        assert_eq!(
            p.error.as_deref(),
            Some("0x              11: Expected \\r\\n, got: 6761")
        );
    }

    #[test]
    fn whole_files_are_ok_to_the_end() {
        let text = b"#TS:1\r\n*1\r\n$5\r\nMULTI\r\n*1\r\n$4\r\nEXEC\r\n";
        let (p, _) = check(text);
        assert_eq!(
            p,
            Processed {
                ok_up_to: text.len(),
                format_error: false,
                error: None
            }
        );
    }

    #[test]
    fn an_unclosed_multi_stops_before_it() {
        let (p, _) = check(b"*1\r\n$4\r\nPING\r\n*1\r\n$5\r\nMULTI\r\n");
        assert_eq!(p.ok_up_to, 14);
        assert!(p
            .error
            .is_some_and(|e| e.ends_with("Reached EOF before reading EXEC for MULTI")));
    }
}
