//! The differential script format: one command per line, run against both servers.
//!
//! ```text
//! !args --databases 4          # first step only: extra server arguments
//! SET key "two words\r\n"      # a command, split as redis-cli splits it
//! !sorted                      # modifier for the next command or !raw
//! !sorted-pairs                # like !sorted, elements taken two at a time
//! !monitor-line                # a MONITOR line: timestamp and client port masked
//! KEYS *
//! !sleep 120                   # wait, e.g. for a key to expire
//! !conn other                  # switch to (or open) a named connection
//! !raw PING\r\n                # send raw bytes, compare the next reply
//! !raw-close *1\r\n$-5\r\n     # send raw bytes, compare all until the close
//! !send BLPOP list 0           # send a command without reading its reply
//! !read                        # read one reply on this connection and compare it
//! ```
//!
//! `!send` and `!read` express blocking commands: send on one connection, act on
//! another, then read the first one's reply. Requests on different connections are
//! not ordered, so a `!sleep` after `!send` lets the server take it first.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::tokenize::{split_args, unescape};

/// How a step's replies are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// Byte for byte.
    Exact,
    /// Not at all (`!skip-compare`): TIME, INFO, CLIENT ID...
    Skip,
    /// Only the type byte, and for aggregates the element count (`!compare-type`).
    Type,
    /// Top-level elements as a multiset (`!sorted`): KEYS, SMEMBERS, HGETALL...
    Sorted,
    /// Consecutive pairs of top-level elements as a multiset (`!sorted-pairs`), for
    /// RESP2 flat field/value arrays (HGETALL, HRANDFIELD WITHVALUES, ZRANGE
    /// WITHSCORES). A SCAN reply (a two-element array of a bulk cursor and an array)
    /// compares its cursor exactly and the inner array's pairs as a multiset (HSCAN,
    /// ZSCAN). A map's pairs are its elements already.
    SortedPairs,
    /// A MONITOR line (`!monitor-line`): `+<secs>.<micros> [<db> <ip>:<port>] args`
    /// compared with the timestamp's digits and the client's port masked (they
    /// differ between servers); the database, address and argument quoting exactly.
    MonitorLine,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Command(Vec<Vec<u8>>),
    Raw(Vec<u8>),
    RawClose(Vec<u8>),
    Sleep(Duration),
    SwitchConn(String),
    /// Send a command and read nothing (`!send`).
    Send(Vec<Vec<u8>>),
    /// Read one reply without sending (`!read`).
    Read,
}

impl Action {
    fn has_reply(&self) -> bool {
        matches!(
            self,
            Self::Command(_) | Self::Raw(_) | Self::RawClose(_) | Self::Read
        )
    }
}

/// One executable line of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// 1-based line number in the script file.
    pub line: usize,
    /// The line as written, for reports.
    pub source: String,
    pub action: Action,
    pub compare: Compare,
}

/// A parsed script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// File name, for reports.
    pub name: String,
    /// Extra arguments for both servers, from `!args`.
    pub server_args: Vec<String>,
    pub steps: Vec<Step>,
}

/// A script that cannot be run, located at its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    pub name: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.name, self.line, self.message)
    }
}

impl std::error::Error for ScriptError {}

impl Script {
    /// Reads and parses a script file, panicking with file:line on any error.
    pub fn load(path: &Path) -> Script {
        let text = std::fs::read(path)
            .unwrap_or_else(|error| panic!("cannot read script {}: {error}", path.display()));
        let name = path
            .file_name()
            .unwrap_or(path.as_os_str())
            .to_string_lossy();
        Script::parse(&name, &text).unwrap_or_else(|error| panic!("bad script: {error}"))
    }

    pub fn parse(name: &str, text: &[u8]) -> Result<Script, ScriptError> {
        let mut parser = Parser {
            script: Script {
                name: name.to_owned(),
                server_args: Vec::new(),
                steps: Vec::new(),
            },
            pending_compare: None,
        };
        for (index, line) in text.split(|&byte| byte == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            parser
                .parse_line(index + 1, line)
                .map_err(|message| ScriptError {
                    name: name.to_owned(),
                    line: index + 1,
                    message,
                })?;
        }
        parser.finish()
    }
}

struct Parser {
    script: Script,
    /// A modifier (`!sorted`...) waiting for the command it applies to, with its line.
    pending_compare: Option<(Compare, usize)>,
}

impl Parser {
    fn parse_line(&mut self, line_number: usize, line: &[u8]) -> Result<(), String> {
        let trimmed = line.trim_ascii_start();
        if trimmed.is_empty() || trimmed.starts_with(b"#") {
            return Ok(());
        }
        let action = match trimmed.strip_prefix(b"!") {
            Some(directive) => match self.parse_directive(line_number, directive)? {
                Some(action) => action,
                None => return Ok(()),
            },
            None => Action::Command(split_args(trimmed).map_err(|error| error.to_string())?),
        };
        self.push_step(line_number, line, action)
    }

    /// Modifiers and `!args` change parser state and yield no step (`None`).
    fn parse_directive(
        &mut self,
        line_number: usize,
        directive: &[u8],
    ) -> Result<Option<Action>, String> {
        let (name, rest) = split_directive(directive);
        let modifier = match name {
            "skip-compare" => Compare::Skip,
            "compare-type" => Compare::Type,
            "sorted" => Compare::Sorted,
            "sorted-pairs" => Compare::SortedPairs,
            "monitor-line" => Compare::MonitorLine,
            _ => return self.parse_action_directive(name, rest),
        };
        expect_no_operand(name, rest)?;
        if self.pending_compare.is_some() {
            return Err(format!("!{name} follows another modifier"));
        }
        self.pending_compare = Some((modifier, line_number));
        Ok(None)
    }

    fn parse_action_directive(
        &mut self,
        name: &str,
        rest: &[u8],
    ) -> Result<Option<Action>, String> {
        let action = match name {
            "args" => return self.set_server_args(rest).map(|()| None),
            "sleep" => Action::Sleep(Duration::from_millis(parse_millis(rest)?)),
            "conn" => Action::SwitchConn(parse_conn_name(rest)?),
            "raw" => Action::Raw(unescape(rest)),
            "raw-close" => Action::RawClose(unescape(rest)),
            "send" => match split_args(rest).map_err(|error| error.to_string())? {
                args if args.is_empty() => return Err("!send takes a command".into()),
                args => Action::Send(args),
            },
            "read" => {
                expect_no_operand(name, rest)?;
                Action::Read
            }
            _ => return Err(format!("unknown directive !{name}")),
        };
        Ok(Some(action))
    }

    fn set_server_args(&mut self, rest: &[u8]) -> Result<(), String> {
        if !self.script.steps.is_empty() || !self.script.server_args.is_empty() {
            return Err("!args must come before every command, once".into());
        }
        for arg in split_args(rest).map_err(|error| error.to_string())? {
            let arg = String::from_utf8(arg).map_err(|_| "!args must be UTF-8".to_owned())?;
            self.script.server_args.push(arg);
        }
        Ok(())
    }

    fn push_step(&mut self, line: usize, source: &[u8], action: Action) -> Result<(), String> {
        let compare = match self.pending_compare.take() {
            Some(_) if !action.has_reply() => {
                return Err("a compare modifier must be followed by a command or !raw".into())
            }
            Some((compare, _)) => compare,
            None => Compare::Exact,
        };
        let source = String::from_utf8_lossy(source).trim().to_owned();
        self.script.steps.push(Step {
            line,
            source,
            action,
            compare,
        });
        Ok(())
    }

    fn finish(self) -> Result<Script, ScriptError> {
        match self.pending_compare {
            Some((_, line)) => Err(ScriptError {
                name: self.script.name,
                line,
                message: "compare modifier at the end, with no command after it".into(),
            }),
            None => Ok(self.script),
        }
    }
}

/// `name rest`: the directive name up to the first space, and the bytes after that
/// one space kept verbatim (a `!raw` payload may start or end with spaces).
fn split_directive(directive: &[u8]) -> (&str, &[u8]) {
    let name_end = directive
        .iter()
        .position(|&byte| byte == b' ' || byte == b'\t')
        .unwrap_or(directive.len());
    let name = std::str::from_utf8(&directive[..name_end]).unwrap_or("");
    let rest = directive.get(name_end + 1..).unwrap_or(b"");
    (name, rest)
}

fn expect_no_operand(name: &str, rest: &[u8]) -> Result<(), String> {
    match rest.trim_ascii() {
        [] => Ok(()),
        _ => Err(format!("!{name} takes no operand")),
    }
}

fn parse_millis(rest: &[u8]) -> Result<u64, String> {
    std::str::from_utf8(rest.trim_ascii())
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| "!sleep takes a number of milliseconds".to_owned())
}

fn parse_conn_name(rest: &[u8]) -> Result<String, String> {
    let name = std::str::from_utf8(rest.trim_ascii()).unwrap_or("");
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err("!conn takes one connection name".into());
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Script, ScriptError> {
        Script::parse("t.txt", text.as_bytes())
    }

    fn actions(text: &str) -> Vec<(usize, Action, Compare)> {
        let script = parse(text).unwrap();
        let steps = script.steps.into_iter();
        steps
            .map(|step| (step.line, step.action, step.compare))
            .collect()
    }

    fn command(args: &[&str]) -> Action {
        Action::Command(args.iter().map(|arg| arg.as_bytes().to_vec()).collect())
    }

    #[test]
    fn comments_and_blank_lines_are_skipped_but_counted() {
        let steps = actions("# title\n\n   # indented\r\nSET k \"a b\"\r\n  GET k\n");
        assert_eq!(
            steps,
            [
                (4, command(&["SET", "k", "a b"]), Compare::Exact),
                (5, command(&["GET", "k"]), Compare::Exact)
            ]
        );
    }

    #[test]
    fn modifiers_apply_to_the_next_command_only() {
        let text = "!sorted\nKEYS *\n!skip-compare\nTIME\n!compare-type\n!raw PING\\r\\n\nPING";
        let compares: Vec<Compare> = actions(text).into_iter().map(|step| step.2).collect();
        assert_eq!(
            compares,
            [
                Compare::Sorted,
                Compare::Skip,
                Compare::Type,
                Compare::Exact
            ]
        );
    }

    #[test]
    fn directives_parse_their_operands() {
        let steps = actions("!sleep 150\n!conn second\n!raw  PING \\x00\n!raw-close *1\\r\\n");
        let actions: Vec<Action> = steps.into_iter().map(|step| step.1).collect();
        assert_eq!(
            actions,
            [
                Action::Sleep(Duration::from_millis(150)),
                Action::SwitchConn("second".into()),
                Action::Raw(b" PING \x00".to_vec()),
                Action::RawClose(b"*1\r\n".to_vec()),
            ]
        );
    }

    #[test]
    fn send_and_read_split_a_command_from_its_reply() {
        let steps = actions("!send BLPOP k 0\n!sorted\n!read\n");
        assert_eq!(
            steps,
            [
                (
                    1,
                    Action::Send(vec![b"BLPOP".to_vec(), b"k".to_vec(), b"0".to_vec()]),
                    Compare::Exact
                ),
                (3, Action::Read, Compare::Sorted),
            ]
        );
        assert!(parse("!read now").is_err());
        assert!(parse("!send").is_err());
        assert!(parse("!sorted\n!send PING").is_err());
    }

    #[test]
    fn args_set_server_arguments_before_any_step() {
        let script = parse("# header\n!args --databases 4 --hz \"100\"\nPING").unwrap();
        assert_eq!(script.server_args, ["--databases", "4", "--hz", "100"]);
        let late = parse("PING\n!args --hz 10").unwrap_err();
        assert_eq!(late.line, 2);
    }

    #[test]
    fn errors_name_their_line() {
        let cases = [
            ("PING\nSET \"open", 2, "unterminated quote"),
            ("!frobnicate", 1, "unknown directive !frobnicate"),
            ("!sleep soon", 1, "!sleep takes a number"),
            ("!conn", 1, "!conn takes one connection name"),
            ("!sorted\n!sleep 1", 2, "must be followed by a command"),
            (
                "!sorted\n!skip-compare\nPING",
                2,
                "follows another modifier",
            ),
            ("!sorted extra", 1, "takes no operand"),
            ("PING\n!sorted\n", 2, "at the end"),
        ];
        for (text, line, message) in cases {
            let error = parse(text).unwrap_err();
            assert_eq!(error.line, line, "{text:?}: {error}");
            assert!(error.message.contains(message), "{text:?}: {error}");
        }
    }
}
