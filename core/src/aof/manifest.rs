//! Redis 7.0's AOF manifest: which files of `appenddirname` make up the AOF.
//!
//! Each line is `file <name> seq <n> type <b|h|i>`: at most one base (`b`, always
//! first), then history files (`h`, left over from a rewrite until deleted), then
//! the incr files (`i`) in increasing sequence. Base files are named
//! `<appendfilename>.<seq>.base.rdb` (or `.base.aof` without the RDB preamble),
//! incr files `<appendfilename>.<seq>.incr.aof`.

/// The kind of one file in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Base,
    History,
    Incr,
}

impl FileType {
    fn letter(self) -> char {
        match self {
            FileType::Base => 'b',
            FileType::History => 'h',
            FileType::Incr => 'i',
        }
    }
}

/// One file the manifest names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofFile {
    pub name: String,
    pub seq: i64,
    pub kind: FileType,
}

/// The parsed manifest (Redis's aofManifest).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofFile>,
    pub incrs: Vec<AofFile>,
    pub history: Vec<AofFile>,
    pub base_seq: i64,
    pub incr_seq: i64,
}

/// Redis's MANIFEST_MAX_LINE.
const LINE_BYTES_MAX: usize = 1024;

/// Why a manifest was refused: the line (1-based) and text, when one is to blame,
/// and Redis's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    pub line: Option<(usize, String)>,
    pub message: &'static str,
}

impl ManifestError {
    /// The lines Redis logs before exiting.
    pub fn log_lines(&self) -> Vec<String> {
        let mut lines = vec!["\n*** FATAL AOF MANIFEST FILE ERROR ***\n".to_string()];
        if let Some((n, text)) = &self.line {
            lines.push(format!("Reading the manifest file, at line {n}\n"));
            lines.push(format!(">>> '{text}'\n"));
        }
        lines.push(format!("{}\n", self.message));
        lines
    }
}

impl Manifest {
    /// Reads a manifest as `aofLoadManifestFromFile` does.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        let mut am = Manifest::default();
        let mut max_seq = 0;
        let mut rest = bytes;
        let mut line_no = 0;
        while !rest.is_empty() {
            let limit = rest.len().min(LINE_BYTES_MAX);
            let len = rest[..limit]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(limit, |i| i + 1);
            let raw = &rest[..len];
            rest = &rest[len..];
            line_no += 1;
            if raw.first() == Some(&b'#') {
                continue;
            }
            let text = String::from_utf8_lossy(raw.trim_ascii()).into_owned();
            let fail = |message| ManifestError {
                line: Some((line_no, text.clone())),
                message,
            };
            if !raw.contains(&b'\n') {
                return Err(fail("The AOF manifest file contains too long line"));
            }
            let file = parse_line(&text).map_err(fail)?;
            am.add(file, &mut max_seq).map_err(fail)?;
        }
        if line_no == 0 {
            return Err(ManifestError {
                line: None,
                message: "Found an empty AOF manifest",
            });
        }
        Ok(am)
    }

    fn add(&mut self, file: AofFile, max_seq: &mut i64) -> Result<(), &'static str> {
        match file.kind {
            FileType::Base => {
                if self.base.is_some() {
                    return Err("Found duplicate base file information");
                }
                self.base_seq = file.seq;
                self.base = Some(file);
            }
            FileType::History => self.history.push(file),
            FileType::Incr => {
                if file.seq <= *max_seq {
                    return Err("Found a non-monotonic sequence number");
                }
                *max_seq = file.seq;
                self.incr_seq = file.seq;
                self.incrs.push(file);
            }
        }
        Ok(())
    }

    /// The manifest's text (getAofManifestAsString): base, history, incr files.
    pub fn format(&self) -> String {
        let mut out = String::new();
        for f in self.base.iter().chain(&self.history).chain(&self.incrs) {
            out.push_str(&format!(
                "file {} seq {} type {}\n",
                quote_if_needed(&f.name),
                f.seq,
                f.kind.letter()
            ));
        }
        out
    }

    /// Makes a new base the current one (the old becomes history), as
    /// getNewBaseFileNameAndMarkPreAsHistory does; returns its name.
    pub fn new_base(&mut self, appendfilename: &str, rdb_preamble: bool) -> String {
        if let Some(mut old) = self.base.take() {
            old.kind = FileType::History;
            self.history.insert(0, old);
        }
        self.base_seq += 1;
        let format = if rdb_preamble { "rdb" } else { "aof" };
        let name = format!("{appendfilename}.{}.base.{format}", self.base_seq);
        self.base = Some(AofFile {
            name: name.clone(),
            seq: self.base_seq,
            kind: FileType::Base,
        });
        name
    }

    /// Adds a new incr file (getNewIncrAofName); returns its name.
    pub fn new_incr(&mut self, appendfilename: &str) -> String {
        self.incr_seq += 1;
        let name = format!("{appendfilename}.{}.incr.aof", self.incr_seq);
        self.incrs.push(AofFile {
            name: name.clone(),
            seq: self.incr_seq,
            kind: FileType::Incr,
        });
        name
    }

    /// The incr file being appended to (the last), if any.
    pub fn last_incr(&self) -> Option<&str> {
        self.incrs.last().map(|f| f.name.as_str())
    }

    /// After a rewrite: every incr file but the one being written (the last, when
    /// `keep_last`) becomes history (markRewrittenIncrAofAsHistory).
    pub fn mark_rewritten_incrs_as_history(&mut self, keep_last: bool) {
        let keep = usize::from(keep_last && !self.incrs.is_empty());
        let cut = self.incrs.len() - keep;
        for mut f in self.incrs.drain(..cut).rev() {
            f.kind = FileType::History;
            self.history.insert(0, f);
        }
    }

    /// Files to read at start, in order: the base, then the incr files.
    pub fn files_to_load(&self) -> Vec<&AofFile> {
        self.base.iter().chain(&self.incrs).collect()
    }
}

fn parse_line(line: &str) -> Result<AofFile, &'static str> {
    const FORMAT: &str = "Invalid AOF manifest file format";
    if line.is_empty() {
        return Err(FORMAT);
    }
    let argv = split_args(line).ok_or(FORMAT)?;
    if argv.len() < 6 || argv.len() % 2 == 1 {
        return Err(FORMAT);
    }
    let (mut name, mut seq, mut kind) = (None, 0i64, None);
    for pair in argv.chunks(2) {
        let key = String::from_utf8_lossy(&pair[0]).to_ascii_lowercase();
        let value = &pair[1];
        match key.as_str() {
            "file" => {
                let n = String::from_utf8_lossy(value).into_owned();
                if n.contains('/') {
                    return Err("File can't be a path, just a filename");
                }
                name = Some(n);
            }
            "seq" => seq = atoll(value),
            "type" => kind = value.first().copied(),
            _ => {}
        }
    }
    let (Some(name), Some(kind)) = (name, kind) else {
        return Err(FORMAT);
    };
    if seq == 0 || name.is_empty() {
        return Err(FORMAT);
    }
    let kind = match kind {
        b'b' => FileType::Base,
        b'h' => FileType::History,
        b'i' => FileType::Incr,
        _ => return Err("Unknown AOF file type"),
    };
    Ok(AofFile { name, seq, kind })
}

/// C's atoll: optional sign and digits, 0 when none.
fn atoll(s: &[u8]) -> i64 {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for &d in digits.iter().take_while(|c| c.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(d - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}

/// Redis's sdssplitargs: words separated by spaces, "double quoted" with
/// backslash escapes (\n \r \t \b \a \\ \" \xHH) or 'single quoted' (only \'). None
/// on unbalanced quotes or a closing quote not followed by a space.
fn split_args(line: &str) -> Option<Vec<Vec<u8>>> {
    let b = line.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            return Some(out);
        }
        let mut word = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            if inq {
                let c = *b.get(i)?;
                if c == b'\\' && b.get(i + 1) == Some(&b'x') && is_hex_pair(b, i + 2) {
                    word.push(hex(b[i + 2]) * 16 + hex(b[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < b.len() {
                    i += 1;
                    word.push(match b[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if b.get(i + 1).is_some_and(|c| !c.is_ascii_whitespace()) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    word.push(c);
                }
            } else if insq {
                let c = *b.get(i)?;
                if c == b'\\' && b.get(i + 1) == Some(&b'\'') {
                    i += 1;
                    word.push(b'\'');
                } else if c == b'\'' {
                    if b.get(i + 1).is_some_and(|c| !c.is_ascii_whitespace()) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    word.push(c);
                }
            } else {
                match b.get(i) {
                    None => break,
                    Some(c) if c.is_ascii_whitespace() => break,
                    Some(b'"') => inq = true,
                    Some(b'\'') => insq = true,
                    Some(&c) => word.push(c),
                }
            }
            i += 1;
        }
        out.push(word);
    }
}

fn is_hex_pair(b: &[u8], i: usize) -> bool {
    i + 1 < b.len() && b[i].is_ascii_hexdigit() && b[i + 1].is_ascii_hexdigit()
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// A file name as the manifest writes it: sdscatrepr when it holds a space, a
/// quote, a backslash or a byte that is not printable (sdsneedsrepr).
fn quote_if_needed(name: &str) -> String {
    let needs = name
        .bytes()
        .any(|c| c == b'\\' || c == b'"' || c == b'\'' || !c.is_ascii_graphic());
    if !needs {
        return name.to_string();
    }
    let mut out = String::from("\"");
    for c in name.bytes() {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(char::from(c)),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_manifests_parse_and_format_back_the_same() {
        let text = "file appendonly.aof.2.base.rdb seq 2 type b\n\
                    file appendonly.aof.1.incr.aof seq 1 type h\n\
                    file appendonly.aof.3.incr.aof seq 3 type i\n\
                    file appendonly.aof.4.incr.aof seq 4 type i\n";
        let am = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(am.base_seq, 2);
        assert_eq!(am.incr_seq, 4);
        assert_eq!(am.last_incr(), Some("appendonly.aof.4.incr.aof"));
        assert_eq!(am.format(), text);
    }

    /// Both go to the head of the history list, the base first (as in aof.c).
    #[test]
    fn a_rewrite_moves_the_old_base_and_incrs_to_history() {
        let mut am = Manifest::default();
        am.new_base("appendonly.aof", true);
        am.new_incr("appendonly.aof");
        am.new_incr("appendonly.aof");
        let base = am.new_base("appendonly.aof", false);
        am.mark_rewritten_incrs_as_history(true);
        assert_eq!(base, "appendonly.aof.2.base.aof");
        assert_eq!(
            am.format(),
            "file appendonly.aof.2.base.aof seq 2 type b\n\
             file appendonly.aof.1.incr.aof seq 1 type h\n\
             file appendonly.aof.1.base.rdb seq 1 type h\n\
             file appendonly.aof.2.incr.aof seq 2 type i\n"
        );
    }

    #[test]
    fn bad_manifests_are_refused_with_redis_messages() {
        let cases: [(&str, &str); 6] = [
            ("", "Found an empty AOF manifest"),
            ("file a seq 1\n", "Invalid AOF manifest file format"),
            (
                "file a/b seq 1 type b\n",
                "File can't be a path, just a filename",
            ),
            ("file a seq 1 type x\n", "Unknown AOF file type"),
            (
                "file a seq 2 type i\nfile b seq 2 type i\n",
                "Found a non-monotonic sequence number",
            ),
            (
                "file a seq 1 type b\nfile b seq 2 type b\n",
                "Found duplicate base file information",
            ),
        ];
        for (text, message) in cases {
            let e = Manifest::parse(text.as_bytes()).unwrap_err();
            assert_eq!(e.message, message, "{text:?}");
        }
    }

    #[test]
    fn names_with_spaces_are_quoted_and_read_back() {
        let mut am = Manifest::default();
        am.new_incr("my file.aof");
        let text = am.format();
        assert_eq!(text, "file \"my file.aof.1.incr.aof\" seq 1 type i\n");
        assert_eq!(Manifest::parse(text.as_bytes()).unwrap(), am);
    }
}
