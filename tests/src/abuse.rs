//! The abuse harness: abusive inputs as data, each sent to a real ember-server (and,
//! where Redis answers something definite, to redis-server too), followed by a health
//! check. A case that crashes, hangs or bloats the server is reported by name and the
//! server is restarted, so one run reports every failing input.
//!
//! After each case ember-server must answer PING within [`PING_TIMEOUT`] on a fresh
//! connection, and its peak resident memory during the case must stay under
//! [`PEAK_RSS_BYTES_MAX`]. Where the case has Redis as its oracle, every reply must
//! also equal redis-server 7.0.15's byte for byte.
//!
//! ```no_run
//! use ember_tests::abuse::{case, run_cases};
//!
//! let cases = vec![case("unpack of the whole int range", "CVE-2025-46817")
//!     .eval("return unpack({1,2,3}, -2147483648, 2147483647)")];
//! let report = run_cases(&cases);
//! assert!(report.passed(), "{report}");
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io::ErrorKind;
use std::thread;
use std::time::{Duration, Instant};

use crate::conn::{RawConn, ReadError};
use crate::escape::escape_bytes;
use crate::resp::encode_command;
use crate::server::{Server, ServerKind};

/// The most resident memory ember-server may reach during one case. Redis's own
/// largest single value is `proto-max-bulk-len`, 512 MiB by default, and no case here
/// stores anything near it: the biggest legitimate working set (a 32 MiB HyperLogLog
/// string read three times) peaks under 100 MiB even in a debug build, while a count
/// or an offset taken at face value allocates gigabytes. It also keeps a failing
/// run from eating the memory of a machine shared by several builds.
pub const PEAK_RSS_BYTES_MAX: u64 = 512 << 20;
/// ember-server's address space (`ulimit -v`): a runaway allocation fails in the
/// server, which is then reported as a crash, instead of exhausting the machine.
/// Above the RSS bound so that growth shows as "memory" while it is still survivable.
pub const ADDRESS_SPACE_BYTES_MAX: u64 = 2 << 30;
/// redis-server gets only definite cases, but runs capped too in case one is not.
const REDIS_ADDRESS_SPACE_BYTES_MAX: u64 = 4 << 30;
/// How long the health check's PING may take.
pub const PING_TIMEOUT: Duration = Duration::from_secs(1);
/// How long one reply may take by default (a debug build on a loaded machine).
const REPLY_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a server that failed its PING gets to show that it exited.
const EXIT_GRACE: Duration = Duration::from_millis(200);
/// Cases slower than this are listed in the report, to keep the whole run fast.
const SLOW_CASE: Duration = Duration::from_secs(1);
/// How long a step that expects no reply listens for one.
const QUIET_WINDOW: Duration = Duration::from_millis(200);
/// How long `wait_blocked` polls INFO for the blocked client.
const BLOCKED_WAIT_MAX: Duration = Duration::from_secs(2);
const BLOCKED_POLL_INTERVAL: Duration = Duration::from_millis(10);
/// How long one flood write may wait for a server that stopped reading.
const FLOOD_WRITE_TIMEOUT: Duration = Duration::from_secs(1);
/// The connection steps use until a case says `.on(name)`.
const MAIN_CONN: &str = "main";
/// The default server configuration: DEBUG is on for DEBUG POPULATE.
const DEFAULT_CONFIG: &[&str] = &["--enable-debug-command", "yes"];

/// What a step waits for after sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// This many reply frames.
    Replies(usize),
    /// Nothing: whatever arrives within a short window is recorded (a partial
    /// request the server must keep waiting on).
    Quiet,
    /// One reply, not compared (it names a client id or another per-run value).
    Uncompared,
    /// Everything until the server closes the connection.
    Close,
}

/// One thing a case does.
#[derive(Debug, Clone)]
pub enum Step {
    /// Sends `bytes` on connection `conn` (opened on first use), then waits.
    Send {
        conn: &'static str,
        bytes: Vec<u8>,
        expect: Expect,
    },
    /// Waits on `conn` without sending.
    Read { conn: &'static str, expect: Expect },
    /// Polls `INFO clients` until `blocked_clients` reaches `clients`.
    WaitBlocked { clients: usize },
    /// Sends `bytes` over and over without reading, up to `total_bytes`: records
    /// whether the server read it all, stopped reading, or closed the connection.
    Flood {
        conn: &'static str,
        bytes: Vec<u8>,
        total_bytes: usize,
    },
    /// Opens `count` connections that send `bytes` and go away without reading.
    Churn { bytes: Vec<u8>, count: usize },
}

/// Whose replies a case's replies must equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Oracle {
    /// redis-server 7.0.15's, byte for byte.
    Redis,
    /// None: Redis itself hangs, crashes or answers by its free memory (the reason).
    /// Only ember-server's health is checked.
    Unchecked(&'static str),
}

/// One abusive input: a name, the CVE or issue it comes from, what it sends, and
/// what its replies are checked against.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub issue: &'static str,
    pub steps: Vec<Step>,
    pub oracle: Oracle,
    /// Extra `--directive value` pairs both servers start with.
    pub config: &'static [&'static str],
    /// The case changes the servers' configuration: both restart after it.
    pub changes_config: bool,
    /// How long each reply may take.
    pub reply_timeout: Duration,
    conn: &'static str,
}

/// Starts a case with Redis as its oracle, the default configuration and no steps.
pub fn case(name: impl Into<String>, issue: &'static str) -> Case {
    Case {
        name: name.into(),
        issue,
        steps: Vec::new(),
        oracle: Oracle::Redis,
        config: DEFAULT_CONFIG,
        changes_config: false,
        reply_timeout: REPLY_TIMEOUT,
        conn: MAIN_CONN,
    }
}

impl Case {
    /// Sends a command and reads its reply.
    pub fn cmd<I, A>(self, args: I) -> Case
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        let args: Vec<A> = args.into_iter().collect();
        self.send(encode_command(&args), Expect::Replies(1))
    }

    /// Sends a command whose reply is read but not compared (HELLO names the
    /// client's id, which differs between the servers).
    pub fn prepare<I, A>(self, args: I) -> Case
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        let args: Vec<A> = args.into_iter().collect();
        self.send(encode_command(&args), Expect::Uncompared)
    }

    /// `EVAL script 0` and its reply.
    pub fn eval(self, script: &str) -> Case {
        self.cmd(["EVAL", script, "0"])
    }

    /// Sends raw bytes on the current connection and waits as `expect` says.
    pub fn send(mut self, bytes: impl Into<Vec<u8>>, expect: Expect) -> Case {
        let conn = self.conn;
        self.steps.push(Step::Send {
            conn,
            bytes: bytes.into(),
            expect,
        });
        self
    }

    /// Waits on the current connection without sending.
    pub fn read(mut self, expect: Expect) -> Case {
        let conn = self.conn;
        self.steps.push(Step::Read { conn, expect });
        self
    }

    /// Later steps go to connection `conn` (opened on first use).
    pub fn on(mut self, conn: &'static str) -> Case {
        self.conn = conn;
        self
    }

    /// Waits until `clients` clients are blocked (a BLPOP-like command is parked).
    pub fn wait_blocked(mut self, clients: usize) -> Case {
        self.steps.push(Step::WaitBlocked { clients });
        self
    }

    /// Pipelines `bytes` without reading, up to `total_bytes` in all.
    pub fn flood(mut self, bytes: impl Into<Vec<u8>>, total_bytes: usize) -> Case {
        let conn = self.conn;
        self.steps.push(Step::Flood {
            conn,
            bytes: bytes.into(),
            total_bytes,
        });
        self
    }

    /// `count` connections that each send `bytes` and disconnect without reading.
    pub fn churn(mut self, bytes: impl Into<Vec<u8>>, count: usize) -> Case {
        self.steps.push(Step::Churn {
            bytes: bytes.into(),
            count,
        });
        self
    }

    /// No reply comparison: Redis does not answer this definitely (`why`).
    pub fn unchecked(mut self, why: &'static str) -> Case {
        self.oracle = Oracle::Unchecked(why);
        self
    }

    /// Both servers start with these extra directives (instead of the default).
    pub fn config(mut self, args: &'static [&'static str]) -> Case {
        self.config = args;
        self
    }

    /// Each reply may take up to `timeout`: for a case that moves tens of MiB, which
    /// a debug build on a loaded machine takes seconds to parse.
    pub fn patience(mut self, timeout: Duration) -> Case {
        self.reply_timeout = timeout;
        self
    }

    /// The case runs CONFIG SET: both servers restart after it.
    pub fn changes_config(mut self) -> Case {
        self.changes_config = true;
        self
    }

    fn password(&self) -> Option<&'static str> {
        let at = self.config.iter().position(|arg| *arg == "--requirepass")?;
        self.config.get(at + 1).copied()
    }
}

/// What one step saw on one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    Reply(Vec<u8>),
    /// A reply that is not compared.
    Uncompared,
    /// No (complete) reply in time; what had arrived.
    NoReply(Vec<u8>),
    /// The server closed the connection; what it sent first.
    Closed(Vec<u8>),
    /// What arrived while listening for nothing (normally nothing).
    Quiet(Vec<u8>),
    Blocked(bool),
    Flood(FloodOutcome),
    Churned,
    ConnectFailed,
    SendFailed,
    /// Not run: an earlier step of the case got no reply.
    Skipped,
}

/// How a server took a flood of pipelined requests it could not answer into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloodOutcome {
    /// It read everything.
    ReadAll,
    /// It stopped reading (the connection stays open).
    StoppedReading,
    /// It closed the connection.
    Closed,
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Reply(bytes) => write!(f, "\"{}\"", escape_bytes(bytes)),
            Self::Uncompared => write!(f, "a reply (not compared)"),
            Self::NoReply(bytes) => write!(f, "no reply in time (had \"{}\")", escape_bytes(bytes)),
            Self::Closed(bytes) => write!(f, "closed after \"{}\"", escape_bytes(bytes)),
            Self::Quiet(bytes) => write!(f, "quiet, got \"{}\"", escape_bytes(bytes)),
            Self::Blocked(blocked) => write!(f, "client blocked: {blocked}"),
            Self::Flood(outcome) => write!(f, "flood: {outcome:?}"),
            Self::Churned => write!(f, "connections churned"),
            Self::ConnectFailed => write!(f, "cannot connect"),
            Self::SendFailed => write!(f, "send failed"),
            Self::Skipped => write!(f, "skipped"),
        }
    }
}

/// Why a case failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The process exited (the exit status and the last lines it logged).
    Crash(String),
    /// No PONG within [`PING_TIMEOUT`] after the case (what came instead).
    Hang(String),
    /// Peak resident memory over [`PEAK_RSS_BYTES_MAX`].
    Memory { peak_bytes: u64 },
    /// A reply differs from redis-server's.
    WrongBytes {
        step: usize,
        redis: String,
        ember: String,
    },
    /// redis-server itself failed the health check: the case's oracle is wrong.
    Oracle(String),
}

impl Problem {
    /// The failure's class, as the report's table shows it.
    pub fn class(&self) -> &'static str {
        match self {
            Self::Crash(_) => "crash",
            Self::Hang(_) => "hang",
            Self::Memory { .. } => "memory",
            Self::WrongBytes { .. } => "wrong bytes",
            Self::Oracle(_) => "oracle failed",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Crash(detail) => write!(f, "crash: {detail}"),
            Self::Hang(detail) => write!(f, "hang: no PONG within {PING_TIMEOUT:?} ({detail})"),
            Self::Memory { peak_bytes } => write!(
                f,
                "memory: peak RSS {} MiB over the {} MiB bound",
                peak_bytes >> 20,
                PEAK_RSS_BYTES_MAX >> 20
            ),
            Self::WrongBytes { step, redis, ember } => write!(
                f,
                "wrong bytes at step {step}:\n        redis-server: {redis}\n        ember-server: {ember}"
            ),
            Self::Oracle(detail) => write!(f, "redis-server failed this case: {detail}"),
        }
    }
}

/// One case's result.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub issue: &'static str,
    pub problems: Vec<Problem>,
    pub elapsed: Duration,
    /// ember-server's peak resident memory during the case, when it survived.
    pub peak_bytes: Option<u64>,
}

/// Every case's result, in order.
#[derive(Debug, Clone)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
    pub elapsed: Duration,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.failures().next().is_none()
    }

    pub fn failures(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(|o| !o.problems.is_empty())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failed = self.failures().count();
        let failing: Duration = self.failures().map(|o| o.elapsed).sum();
        writeln!(
            f,
            "{failed} of {} abusive inputs failed ({:.1} s, {:.1} s of it in failing cases):",
            self.outcomes.len(),
            self.elapsed.as_secs_f64(),
            failing.as_secs_f64()
        )?;
        for outcome in self.failures() {
            let classes: Vec<&str> = outcome.problems.iter().map(Problem::class).collect();
            writeln!(
                f,
                "  {} [{}]: {}",
                outcome.name,
                outcome.issue,
                classes.join(", ")
            )?;
            for problem in &outcome.problems {
                writeln!(f, "      {problem}")?;
            }
        }
        let slow: Vec<String> = self
            .outcomes
            .iter()
            .filter(|o| o.elapsed > SLOW_CASE)
            .map(|o| format!("{} ({:.1} s)", o.name, o.elapsed.as_secs_f64()))
            .collect();
        if !slow.is_empty() {
            writeln!(f, "slow cases: {}", slow.join(", "))?;
        }
        if let Some(largest) = self.outcomes.iter().max_by_key(|o| o.peak_bytes) {
            let mib = largest.peak_bytes.unwrap_or(0) >> 20;
            writeln!(f, "largest peak RSS: {mib} MiB ({})", largest.name)?;
        }
        Ok(())
    }
}

/// Runs every case against ember-server (and redis-server where it is the oracle),
/// restarting a server that crashed, hung or bloated, and reports each case.
pub fn run_cases(cases: &[Case]) -> Report {
    let started = Instant::now();
    let mut ember = Side::new(ServerKind::Ember, ADDRESS_SPACE_BYTES_MAX);
    let mut redis = Side::new(ServerKind::Redis, REDIS_ADDRESS_SPACE_BYTES_MAX);
    let outcomes = cases
        .iter()
        .map(|case| run_case(case, &mut ember, &mut redis))
        .collect();
    Report {
        outcomes,
        elapsed: started.elapsed(),
    }
}

fn run_case(case: &Case, ember: &mut Side, redis: &mut Side) -> Outcome {
    let started = Instant::now();
    let mut problems = Vec::new();
    let expected = match case.oracle {
        Oracle::Redis => {
            let observed = redis.run(case);
            if let Some(problem) = redis.health_problem(case) {
                problems.push(Problem::Oracle(problem.to_string()));
                redis.stop();
            }
            Some(observed)
        }
        Oracle::Unchecked(_) => None,
    };
    let observed = ember.run(case);
    let health = ember.health_problem(case);
    let peak_bytes = ember.peak_bytes();
    if let Some(expected) = expected {
        problems.extend(first_difference(&expected, &observed));
    }
    if let Some(problem) = health {
        problems.insert(0, problem);
        ember.stop();
    }
    if case.changes_config {
        ember.stop();
        redis.stop();
    }
    Outcome {
        name: case.name.clone(),
        issue: case.issue,
        problems,
        elapsed: started.elapsed(),
        peak_bytes,
    }
}

fn first_difference(redis: &[Observed], ember: &[Observed]) -> Option<Problem> {
    let step = redis.iter().zip(ember).position(|(r, e)| r != e)?;
    Some(Problem::WrongBytes {
        step: step + 1,
        redis: redis[step].to_string(),
        ember: ember[step].to_string(),
    })
}

/// One implementation: its server (started on first use, restarted after a failure)
/// and what it runs with.
struct Side {
    kind: ServerKind,
    address_space_bytes: u64,
    server: Option<Server>,
    config: &'static [&'static str],
    /// The kernel lets us reset the peak RSS (else the current RSS is checked).
    peak_resettable: bool,
}

impl Side {
    fn new(kind: ServerKind, address_space_bytes: u64) -> Side {
        Side {
            kind,
            address_space_bytes,
            server: None,
            config: DEFAULT_CONFIG,
            peak_resettable: false,
        }
    }

    fn stop(&mut self) {
        self.server = None;
    }

    /// The server for `case`'s configuration with an empty dataset, fresh if the
    /// configuration changed or the old one does not answer.
    fn prepare(&mut self, case: &Case) -> &Server {
        if self.config != case.config {
            self.server = None;
            self.config = case.config;
        }
        let clean = self
            .server
            .as_ref()
            .is_some_and(|server| flush(server, case.password()));
        if !clean {
            self.server = None;
            let server =
                Server::start_limited(self.kind, case.config, Some(self.address_space_bytes));
            assert!(
                flush(&server, case.password()),
                "a fresh {} does not answer FLUSHALL",
                self.kind.name()
            );
            self.server = Some(server);
        }
        let server = self.server.as_ref().expect("started above");
        self.peak_resettable = server.reset_peak_memory();
        server
    }

    fn run(&mut self, case: &Case) -> Vec<Observed> {
        let server = self.prepare(case);
        let mut run = CaseRun {
            port: server.port(),
            admin_password: case.password(),
            reply_timeout: case.reply_timeout,
            conns: HashMap::new(),
            stalled: false,
        };
        case.steps.iter().map(|step| run.step(step)).collect()
    }

    /// The peak (or, where it cannot be reset, current) resident memory.
    fn peak_bytes(&self) -> Option<u64> {
        let memory = self.server.as_ref()?.memory()?;
        Some(match self.peak_resettable {
            true => memory.peak_bytes,
            false => memory.rss_bytes,
        })
    }

    /// Crash, hang or memory problem after a case, if any.
    fn health_problem(&mut self, case: &Case) -> Option<Problem> {
        let server = self.server.as_mut()?;
        if let Some(status) = server.exit_status() {
            return Some(Problem::Crash(format!(
                "{status}; {}",
                last_log_lines(server)
            )));
        }
        if let Err(detail) = ping(server.port(), case.password()) {
            // A server on its way down (an abort) refuses connections before it
            // is reaped.
            thread::sleep(EXIT_GRACE);
            if let Some(status) = server.exit_status() {
                return Some(Problem::Crash(format!(
                    "{status}; {}",
                    last_log_lines(server)
                )));
            }
            return Some(Problem::Hang(detail));
        }
        let peak_bytes = self.peak_bytes()?;
        (peak_bytes > PEAK_RSS_BYTES_MAX).then_some(Problem::Memory { peak_bytes })
    }
}

/// The connections of one case on one server. They never authenticate: under
/// `requirepass` a case plays an unauthenticated client, and only the harness's own
/// connections (INFO, the health check's PING) log in.
struct CaseRun {
    port: u16,
    admin_password: Option<&'static str>,
    reply_timeout: Duration,
    conns: HashMap<&'static str, Option<RawConn>>,
    /// A step got no reply: the rest of the case is skipped (it would only time out).
    stalled: bool,
}

impl CaseRun {
    fn step(&mut self, step: &Step) -> Observed {
        if self.stalled {
            return Observed::Skipped;
        }
        let observed = match step {
            Step::Send {
                conn,
                bytes,
                expect,
            } => self.send(conn, bytes, *expect),
            Step::Read { conn, expect } => {
                let timeout = self.reply_timeout;
                match self.conn(conn) {
                    Some(c) => wait(c, *expect, timeout),
                    None => Observed::ConnectFailed,
                }
            }
            Step::WaitBlocked { clients } => Observed::Blocked(self.wait_blocked(*clients)),
            Step::Flood {
                conn,
                bytes,
                total_bytes,
            } => match self.conn(conn) {
                Some(c) => Observed::Flood(flood(c, bytes, *total_bytes)),
                None => Observed::ConnectFailed,
            },
            Step::Churn { bytes, count } => churn(self.port, bytes, *count),
        };
        self.stalled = matches!(
            observed,
            Observed::NoReply(_) | Observed::ConnectFailed | Observed::Blocked(false)
        );
        observed
    }

    fn send(&mut self, conn: &'static str, bytes: &[u8], expect: Expect) -> Observed {
        let timeout = self.reply_timeout;
        let Some(c) = self.conn(conn) else {
            return Observed::ConnectFailed;
        };
        if c.try_send_raw(bytes).is_err() {
            return Observed::SendFailed;
        }
        wait(c, expect, timeout)
    }

    /// Connection `name`, opened on first use.
    fn conn(&mut self, name: &'static str) -> Option<&mut RawConn> {
        let port = self.port;
        self.conns
            .entry(name)
            .or_insert_with(|| connect(port, None).ok())
            .as_mut()
    }

    fn wait_blocked(&mut self, clients: usize) -> bool {
        let Ok(mut admin) = connect(self.port, self.admin_password) else {
            return false;
        };
        let needle = format!("blocked_clients:{clients}\r\n");
        let deadline = Instant::now() + BLOCKED_WAIT_MAX;
        while Instant::now() < deadline {
            if admin
                .try_send_raw(&encode_command(&["INFO", "clients"]))
                .is_err()
            {
                return false;
            }
            match admin.try_read_reply() {
                Ok(info) if contains(&info, needle.as_bytes()) => return true,
                Ok(_) => thread::sleep(BLOCKED_POLL_INTERVAL),
                Err(_) => return false,
            }
        }
        false
    }
}

fn wait(conn: &mut RawConn, expect: Expect, timeout: Duration) -> Observed {
    conn.set_reply_timeout(timeout);
    match expect {
        Expect::Replies(1) => read_one(conn),
        Expect::Replies(n) => {
            let replies: Vec<Observed> = (0..n).map(|_| read_one(conn)).collect();
            match replies.iter().find(|r| !matches!(r, Observed::Reply(_))) {
                Some(failure) => failure.clone(),
                None => Observed::Reply(
                    replies
                        .into_iter()
                        .flat_map(|r| match r {
                            Observed::Reply(bytes) => bytes,
                            _ => Vec::new(),
                        })
                        .collect(),
                ),
            }
        }
        Expect::Uncompared => match read_one(conn) {
            Observed::Reply(_) => Observed::Uncompared,
            other => other,
        },
        Expect::Quiet => {
            conn.set_reply_timeout(QUIET_WINDOW);
            match conn.try_read_reply() {
                Ok(bytes) => Observed::Quiet(bytes),
                Err(ReadError::Timeout { buffered }) => Observed::Quiet(buffered),
                Err(ReadError::Closed { buffered }) => Observed::Closed(buffered),
                Err(ReadError::Malformed { buffered, .. }) => Observed::Quiet(buffered),
                Err(ReadError::Io(_)) => Observed::Closed(Vec::new()),
            }
        }
        Expect::Close => match conn.try_read_until_close() {
            Ok(bytes) => Observed::Closed(bytes),
            Err(ReadError::Timeout { buffered }) => Observed::NoReply(buffered),
            Err(ReadError::Closed { buffered } | ReadError::Malformed { buffered, .. }) => {
                Observed::Closed(buffered)
            }
            Err(ReadError::Io(_)) => Observed::Closed(Vec::new()),
        },
    }
}

fn read_one(conn: &mut RawConn) -> Observed {
    match conn.try_read_reply() {
        Ok(bytes) => Observed::Reply(bytes),
        Err(ReadError::Timeout { buffered }) => Observed::NoReply(buffered),
        Err(ReadError::Closed { buffered }) => Observed::Closed(buffered),
        Err(ReadError::Malformed { buffered, .. }) => Observed::Reply(buffered),
        Err(ReadError::Io(_)) => Observed::Closed(Vec::new()),
    }
}

fn flood(conn: &mut RawConn, bytes: &[u8], total_bytes: usize) -> FloodOutcome {
    if conn.set_write_timeout(FLOOD_WRITE_TIMEOUT).is_err() {
        return FloodOutcome::Closed;
    }
    let mut sent = 0;
    while sent < total_bytes {
        match conn.try_send_raw(bytes) {
            Ok(()) => sent += bytes.len(),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return FloodOutcome::StoppedReading
            }
            Err(_) => return FloodOutcome::Closed,
        }
    }
    FloodOutcome::ReadAll
}

fn churn(port: u16, bytes: &[u8], count: usize) -> Observed {
    for _ in 0..count {
        let Ok(mut conn) = RawConn::try_connect(port) else {
            return Observed::ConnectFailed;
        };
        // Leaving the reply unread makes the close a reset, once it has arrived.
        let _ = conn.try_send_raw(bytes);
    }
    Observed::Churned
}

fn connect(port: u16, password: Option<&str>) -> Result<RawConn, String> {
    let mut conn = RawConn::try_connect(port).map_err(|error| error.to_string())?;
    conn.set_reply_timeout(REPLY_TIMEOUT);
    if let Some(password) = password {
        conn.try_send_raw(&encode_command(&["AUTH", password]))
            .map_err(|error| error.to_string())?;
        match conn.try_read_reply() {
            Ok(reply) if reply == b"+OK\r\n" => {}
            Ok(reply) => return Err(format!("AUTH: \"{}\"", escape_bytes(&reply))),
            Err(error) => return Err(format!("AUTH: {error}")),
        }
    }
    Ok(conn)
}

/// PING on a fresh connection, answered with +PONG within [`PING_TIMEOUT`].
fn ping(port: u16, password: Option<&str>) -> Result<(), String> {
    let started = Instant::now();
    let mut conn = connect(port, password)?;
    let left = PING_TIMEOUT.saturating_sub(started.elapsed());
    conn.set_reply_timeout(left.max(Duration::from_millis(1)));
    conn.try_send_raw(b"PING\r\n")
        .map_err(|error| error.to_string())?;
    match conn.try_read_reply() {
        Ok(reply) if reply == b"+PONG\r\n" => Ok(()),
        Ok(reply) => Err(format!("got \"{}\"", escape_bytes(&reply))),
        Err(error) => Err(error.to_string()),
    }
}

/// Empties every database, the script cache and the function libraries; false if the
/// server does not answer.
fn flush(server: &Server, password: Option<&str>) -> bool {
    let Ok(mut conn) = connect(server.port(), password) else {
        return false;
    };
    let requests: [&[&str]; 3] = [&["FLUSHALL"], &["SCRIPT", "FLUSH"], &["FUNCTION", "FLUSH"]];
    requests.iter().all(|args| {
        conn.try_send_raw(&encode_command(args)).is_ok()
            && conn.try_read_reply().is_ok_and(|reply| reply == b"+OK\r\n")
    })
}

/// The log lines that say why a server died: a Rust panic and its message, a failed
/// allocation, a C assertion; else the last line.
fn last_log_lines(server: &Server) -> String {
    let output = server.output();
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let telling = [
        "panicked at",
        "memory allocation",
        "Assertion",
        "PANIC",
        "fatal",
    ];
    match lines
        .iter()
        .position(|line| telling.iter().any(|word| line.contains(word)))
    {
        Some(at) => lines[at..lines.len().min(at + 2)].join(" "),
        None => lines.last().copied().unwrap_or("(no log)").to_owned(),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_is_data_built_step_by_step() {
        let c = case("zrandmember", "CVE-2023-25155")
            .cmd(["ZADD", "z", "0", "a"])
            .on("other")
            .send(b"*2147483647\r\n".to_vec(), Expect::Quiet)
            .unchecked("Redis streams the reply forever");
        assert_eq!(c.steps.len(), 2);
        assert!(matches!(
            &c.steps[1],
            Step::Send {
                conn: "other",
                expect: Expect::Quiet,
                ..
            }
        ));
        assert_eq!(
            c.oracle,
            Oracle::Unchecked("Redis streams the reply forever")
        );
        assert_eq!(c.password(), None);
        let c = c.config(&["--requirepass", "pw"]);
        assert_eq!(c.password(), Some("pw"));
    }

    #[test]
    fn the_first_differing_step_is_reported() {
        let redis = [
            Observed::Reply(b"+OK\r\n".to_vec()),
            Observed::Reply(b":1\r\n".to_vec()),
        ];
        let ember = [
            Observed::Reply(b"+OK\r\n".to_vec()),
            Observed::NoReply(Vec::new()),
        ];
        let problem = first_difference(&redis, &ember).expect("they differ");
        assert!(
            matches!(problem, Problem::WrongBytes { step: 2, .. }),
            "{problem}"
        );
        assert_eq!(first_difference(&redis, &redis), None);
    }
}
