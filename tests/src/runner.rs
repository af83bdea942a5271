//! Runs a script against a fresh redis-server (the oracle) and a fresh candidate
//! server, step by step on both, and reports every reply that differs.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::thread;

use crate::conn::RawConn;
use crate::escape::escape_bytes;
use crate::resp::{encode_command, split_aggregate};
use crate::script::{Action, Compare, Script, Step};
use crate::server::{Server, ServerKind};

/// Connection used until a script says `!conn NAME`.
pub const MAIN_CONN: &str = "main";
/// Consecutive steps on which a side got no reply at all before the run gives up,
/// so a hung or crashed server costs seconds, not a timeout per remaining line.
const TRANSPORT_FAILURES_MAX: u32 = 5;

/// Runs the script at `path` against redis-server and ember-server; panics with the
/// full list of mismatches if any reply differs.
pub fn run_script_file(path: impl AsRef<Path>) {
    let script = Script::load(path.as_ref());
    if let Err(report) = run_script(&script, ServerKind::Ember) {
        panic!("{report}");
    }
}

/// Runs `script` against redis-server and `candidate`; `Err` holds the report.
pub fn run_script(script: &Script, candidate: ServerKind) -> Result<(), String> {
    let args: Vec<&str> = script.server_args.iter().map(String::as_str).collect();
    let mut run = Run {
        oracle: Side::new(Server::start(ServerKind::Redis, &args)),
        candidate: Side::new(Server::start(candidate, &args)),
        conn: MAIN_CONN.to_owned(),
        mismatches: Vec::new(),
    };
    let mut stopped_at = None;
    for step in &script.steps {
        run.execute(&script.name, step);
        if run.oracle.gave_up() || run.candidate.gave_up() {
            stopped_at = Some(step.line);
            break;
        }
    }
    run.into_result(&script.name, stopped_at)
}

/// One reply difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub script: String,
    pub line: usize,
    pub conn: String,
    pub source: String,
    /// The oracle's reply (redis-server), escaped.
    pub oracle: String,
    /// The candidate's name (`ember-server`) and reply, escaped.
    pub candidate_name: &'static str,
    pub candidate: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}:{} (conn {}): {}",
            self.script, self.line, self.conn, self.source
        )?;
        writeln!(f, "    redis-server: {}", self.oracle)?;
        writeln!(f, "    {}: {}", self.candidate_name, self.candidate)
    }
}

/// What a side answered: the raw reply bytes, or why there were none.
type Answer = Result<Vec<u8>, String>;

struct Run {
    oracle: Side,
    candidate: Side,
    /// The connection name commands currently go to.
    conn: String,
    mismatches: Vec<Mismatch>,
}

impl Run {
    fn execute(&mut self, script: &str, step: &Step) {
        let (request, until_close) = match &step.action {
            Action::Command(args) => (encode_command(args), false),
            Action::Raw(bytes) => (bytes.clone(), false),
            Action::RawClose(bytes) => (bytes.clone(), true),
            Action::Sleep(duration) => return thread::sleep(*duration),
            Action::SwitchConn(name) => return self.conn = name.clone(),
            Action::Send(args) => return self.send(script, step, &encode_command(args)),
            Action::Read => {
                let oracle = self.oracle.read(&self.conn);
                let candidate = self.candidate.read(&self.conn);
                return self.compare(script, step, oracle, candidate);
            }
        };
        let oracle = self.oracle.exchange(&self.conn, &request, until_close);
        let candidate = self.candidate.exchange(&self.conn, &request, until_close);
        self.compare(script, step, oracle, candidate);
    }

    /// `!send`: both sides get the request; only a failure to send is reported.
    fn send(&mut self, script: &str, step: &Step, request: &[u8]) {
        let oracle = self.oracle.send(&self.conn, request).map(|()| Vec::new());
        let candidate = self
            .candidate
            .send(&self.conn, request)
            .map(|()| Vec::new());
        self.compare(script, step, oracle, candidate);
    }

    fn compare(&mut self, script: &str, step: &Step, oracle: Answer, candidate: Answer) {
        if !answers_match(step.compare, &oracle, &candidate) {
            self.mismatches.push(Mismatch {
                script: script.to_owned(),
                line: step.line,
                conn: self.conn.clone(),
                source: step.source.clone(),
                oracle: show_answer(&oracle),
                candidate_name: self.candidate.server.kind().name(),
                candidate: show_answer(&candidate),
            });
        }
    }

    fn into_result(mut self, script: &str, stopped_at: Option<usize>) -> Result<(), String> {
        if self.mismatches.is_empty() && stopped_at.is_none() {
            return Ok(());
        }
        let candidate = self.candidate.server.kind().name();
        let mut report = format!(
            "{} mismatch(es) in {script}, redis-server vs {candidate}:\n\n",
            self.mismatches.len()
        );
        self.mismatches
            .iter()
            .for_each(|m| report.push_str(&format!("{m}\n")));
        if let Some(line) = stopped_at {
            let limit = TRANSPORT_FAILURES_MAX;
            report.push_str(&format!(
                "stopped at line {line}: {limit} steps in a row without a reply\n"
            ));
        }
        for side in [&mut self.oracle, &mut self.candidate] {
            if let Some(status) = side.server.exit_status() {
                let name = side.server.kind().name();
                report.push_str(&format!(
                    "{name} exited with {status}\n{}",
                    side.server.log_tail()
                ));
            }
        }
        Err(report)
    }
}

/// One server and the script's named connections to it, opened on first use.
struct Side {
    server: Server,
    /// `None` when the connection could not be (re)opened.
    conns: HashMap<String, Option<RawConn>>,
    transport_failures_consecutive: u32,
}

impl Side {
    fn new(server: Server) -> Side {
        Side {
            server,
            conns: HashMap::new(),
            transport_failures_consecutive: 0,
        }
    }

    fn gave_up(&self) -> bool {
        self.transport_failures_consecutive >= TRANSPORT_FAILURES_MAX
    }

    /// Sends `request` on connection `name` and reads one reply (or, with
    /// `until_close`, everything until the server closes). A connection that failed
    /// or was closed is replaced by a fresh one, so a late reply cannot shift every
    /// later comparison.
    fn exchange(&mut self, name: &str, request: &[u8], until_close: bool) -> Answer {
        let answer = self.try_exchange(name, request, until_close);
        if answer.is_err() || until_close {
            let port = self.server.port();
            self.conns
                .insert(name.to_owned(), RawConn::try_connect(port).ok());
        }
        match answer {
            Ok(_) => self.transport_failures_consecutive = 0,
            Err(_) => self.transport_failures_consecutive += 1,
        }
        answer
    }

    /// Sends `request` on connection `name` without reading (`!send`).
    fn send(&mut self, name: &str, request: &[u8]) -> Result<(), String> {
        let conn = self.conn(name)?;
        conn.try_send_raw(request)
            .map_err(|error| format!("send failed: {error}"))
    }

    /// Reads one reply on connection `name` (`!read`), counting a missing one as a
    /// transport failure.
    fn read(&mut self, name: &str) -> Answer {
        let answer = self
            .conn(name)
            .and_then(|conn| conn.try_read_reply().map_err(|error| error.to_string()));
        match answer {
            Ok(_) => self.transport_failures_consecutive = 0,
            Err(_) => self.transport_failures_consecutive += 1,
        }
        answer
    }

    /// Connection `name`, opened on first use.
    fn conn(&mut self, name: &str) -> Result<&mut RawConn, String> {
        let port = self.server.port();
        self.conns
            .entry(name.to_owned())
            .or_insert_with(|| RawConn::try_connect(port).ok())
            .as_mut()
            .ok_or_else(|| format!("cannot connect to port {port}"))
    }

    fn try_exchange(&mut self, name: &str, request: &[u8], until_close: bool) -> Answer {
        let conn = self.conn(name)?;
        conn.try_send_raw(request)
            .map_err(|error| format!("send failed: {error}"))?;
        let reply = match until_close {
            true => conn.try_read_until_close(),
            false => conn.try_read_reply(),
        };
        reply.map_err(|error| error.to_string())
    }
}

fn answers_match(compare: Compare, oracle: &Answer, candidate: &Answer) -> bool {
    match (oracle, candidate) {
        (Ok(oracle), Ok(candidate)) => replies_match(compare, oracle, candidate),
        (Err(oracle), Err(candidate)) => compare == Compare::Skip || oracle == candidate,
        _ => compare == Compare::Skip,
    }
}

fn replies_match(compare: Compare, oracle: &[u8], candidate: &[u8]) -> bool {
    match compare {
        Compare::Exact => oracle == candidate,
        Compare::Skip => true,
        Compare::Type => type_header(oracle) == type_header(candidate),
        Compare::Sorted => sorted_elements(oracle) == sorted_elements(candidate),
        Compare::SortedPairs => sorted_pairs(oracle) == sorted_pairs(candidate),
        Compare::MonitorLine => monitor_shape(oracle) == monitor_shape(candidate),
    }
}

/// The type byte, plus the count line for aggregates.
/// A MONITOR line with its timestamp digits and client port replaced by `#`, or
/// the reply unchanged when it is not one.
fn monitor_shape(reply: &[u8]) -> Vec<u8> {
    let Some(rest) = reply.strip_prefix(b"+") else {
        return reply.to_vec();
    };
    let Some(space) = rest.iter().position(|&b| b == b' ') else {
        return reply.to_vec();
    };
    let (stamp, after) = rest.split_at(space);
    let Some(close) = after.iter().position(|&b| b == b']') else {
        return reply.to_vec();
    };
    let (client, args) = after.split_at(close);
    let port_at = client
        .iter()
        .rposition(|&b| b == b':')
        .map_or(client.len(), |i| i + 1);
    let masked = |bytes: &[u8]| bytes.iter().all(|b| b.is_ascii_digit() || *b == b'.');
    if !masked(stamp) || !masked(&client[port_at..]) {
        return reply.to_vec();
    }
    let mut shape = b"+#".to_vec();
    shape.extend_from_slice(&client[..port_at]);
    shape.push(b'#');
    shape.extend_from_slice(args);
    shape
}

fn type_header(reply: &[u8]) -> &[u8] {
    match split_aggregate(reply) {
        Some((header, _)) => header,
        None => reply.get(..1).unwrap_or(b""),
    }
}

/// The header and the elements in sorted order; a non-aggregate stays whole.
fn sorted_elements(reply: &[u8]) -> (&[u8], Vec<&[u8]>) {
    match split_aggregate(reply) {
        Some((header, mut elements)) => {
            elements.sort_unstable();
            (header, elements)
        }
        None => (reply, Vec::new()),
    }
}

/// The header and the elements grouped in pairs, in sorted order; for a SCAN reply,
/// its header and cursor followed by the inner array's sorted pairs. A map already
/// groups its pairs; a non-aggregate (or an odd array) stays whole.
fn sorted_pairs(reply: &[u8]) -> (Vec<&[u8]>, Vec<Vec<&[u8]>>) {
    let Some((header, elements)) = split_aggregate(reply) else {
        return (vec![reply], Vec::new());
    };
    if let [cursor, inner] = elements[..] {
        if cursor.first() == Some(&b'$') && inner.first() == Some(&b'*') {
            let (inner_header, pairs) = sorted_pairs(inner);
            return ([vec![header, cursor], inner_header].concat(), pairs);
        }
    }
    let group = if header.first() == Some(&b'%') { 1 } else { 2 };
    if elements.len() % group != 0 {
        return (vec![reply], Vec::new());
    }
    let mut pairs: Vec<Vec<&[u8]>> = elements.chunks(group).map(<[_]>::to_vec).collect();
    pairs.sort_unstable();
    (vec![header], pairs)
}

fn show_answer(answer: &Answer) -> String {
    match answer {
        Ok(reply) => escape_bytes(reply),
        Err(reason) => format!("<no reply: {reason}>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_compare_ignores_top_level_order_only() {
        let ab = b"*2\r\n$1\r\na\r\n$1\r\nb\r\n";
        let ba = b"*2\r\n$1\r\nb\r\n$1\r\na\r\n";
        assert!(replies_match(Compare::Sorted, ab, ba));
        assert!(!replies_match(Compare::Exact, ab, ba));
        let aa = b"*2\r\n$1\r\na\r\n$1\r\na\r\n";
        assert!(
            !replies_match(Compare::Sorted, ab, aa),
            "a multiset, not a set"
        );
        let map_ab = b"%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n";
        let map_swapped_values = b"%2\r\n+a\r\n:2\r\n+b\r\n:1\r\n";
        assert!(!replies_match(Compare::Sorted, map_ab, map_swapped_values));
    }

    #[test]
    fn sorted_pairs_compare_keeps_fields_with_their_values() {
        let ab = b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n";
        let ba = b"*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n";
        let swapped = b"*4\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\n1\r\n";
        assert!(replies_match(Compare::SortedPairs, ab, ba));
        assert!(!replies_match(Compare::SortedPairs, ab, swapped));
        assert!(
            replies_match(Compare::Sorted, ab, swapped),
            "why pairs exist"
        );
    }

    #[test]
    fn sorted_pairs_compare_looks_inside_a_scan_reply_but_keeps_its_cursor() {
        let scan = |cursor: &str, body: &str| format!("*2\r\n$1\r\n{cursor}\r\n{body}");
        let ab = "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n";
        let ba = "*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n";
        let swapped = "*4\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\n1\r\n";
        let same =
            |a: String, b: String| replies_match(Compare::SortedPairs, a.as_bytes(), b.as_bytes());
        assert!(same(scan("0", ab), scan("0", ba)));
        assert!(!same(scan("0", ab), scan("7", ba)));
        assert!(!same(scan("0", ab), scan("0", swapped)));
    }

    #[test]
    fn monitor_line_compare_masks_only_the_timestamp_and_port() {
        let a = b"+1700000000.123456 [0 127.0.0.1:4000] \"set\" \"k\"\r\n";
        let b = b"+1800000000.000001 [0 127.0.0.1:51234] \"set\" \"k\"\r\n";
        let other_db = b"+1800000000.000001 [1 127.0.0.1:51234] \"set\" \"k\"\r\n";
        let other_arg = b"+1800000000.000001 [0 127.0.0.1:51234] \"set\" \"K\"\r\n";
        assert!(replies_match(Compare::MonitorLine, a, b));
        assert!(!replies_match(Compare::MonitorLine, a, other_db));
        assert!(!replies_match(Compare::MonitorLine, a, other_arg));
    }

    #[test]
    fn type_compare_checks_type_and_count() {
        assert!(replies_match(Compare::Type, b":1\r\n", b":99\r\n"));
        assert!(!replies_match(Compare::Type, b":1\r\n", b"$1\r\n1\r\n"));
        assert!(replies_match(
            Compare::Type,
            b"*1\r\n:1\r\n",
            b"*1\r\n+x\r\n"
        ));
        assert!(!replies_match(
            Compare::Type,
            b"*1\r\n:1\r\n",
            b"*2\r\n:1\r\n:2\r\n"
        ));
    }

    #[test]
    fn a_missing_reply_never_matches_a_reply() {
        let reply: Answer = Ok(b"+OK\r\n".to_vec());
        let failure: Answer = Err("timed out".into());
        assert!(!answers_match(Compare::Exact, &reply, &failure));
        assert!(!answers_match(Compare::Sorted, &failure, &reply));
        assert!(answers_match(Compare::Skip, &failure, &reply));
    }

    /// Every directive, run redis against redis: a correct harness finds no mismatch.
    const EVERY_DIRECTIVE: &str = r#"
!args --databases 4
SET greeting "hello\r\nworld \x00\xff"
GET greeting
!skip-compare
TIME
!compare-type
TIME
RPUSH list c a b
!sorted
LRANGE list 0 -1
SET shortlived v PX 50
!sleep 120
GET shortlived
!conn second
SELECT 3
SET only-in-3 x
!conn main
EXISTS only-in-3
!conn second
EXISTS only-in-3
HELLO 3
!sorted
HGETALL nosuch
!raw PING\r\n
!raw *1\r\n$4\r\nPING\r\n
!raw-close *1\r\n$-5\r\n
EXISTS only-in-3
SELECT 4
!conn waiter
!send BLPOP queue 0
!sleep 50
!conn main
RPUSH queue job
!conn waiter
!read
"#;

    #[test]
    fn redis_against_itself_matches_on_every_directive() {
        let script = Script::parse("every-directive.txt", EVERY_DIRECTIVE.as_bytes()).unwrap();
        run_script(&script, ServerKind::Redis).unwrap();
    }

    #[test]
    fn differences_are_all_collected_with_line_and_both_replies() {
        let text = "TIME\nPING\nTIME\n";
        let script = Script::parse("diff.txt", text.as_bytes()).unwrap();
        let report = run_script(&script, ServerKind::Redis).unwrap_err();
        assert!(report.starts_with("2 mismatch(es) in diff.txt"), "{report}");
        assert!(
            report.contains("diff.txt:1 (conn main): TIME\n    redis-server: *2\\r\\n$10\\r\\n")
        );
        assert!(report.contains("diff.txt:3 (conn main): TIME"), "{report}");
    }
}
