//! `ember-server --check-rdb FILE` (also run when the binary is called
//! `redis-check-rdb` or `ember-check-rdb`): redis-check-rdb 7.0's report on an RDB
//! file, from Ember's loader.
//!
//! The report has redis-check-rdb's layout and lines: `[offset N] Checking RDB
//! file`, one `AUX FIELD` line per aux field and `Selecting DB ID` per database
//! (each at the offset just past it), `Checksum OK` (or the note that the file was
//! saved without one), `\o/ RDB looks OK! \o/`, then the counts of keys, keys with
//! an expire and keys already expired. Exit status 0.
//!
//! On a bad file it prints `--- RDB ERROR DETECTED ---`, then `[offset N]` and
//! Ember's description of the error, where N is the offset Ember's loader reports
//! (the start of the bad item, or where reading stopped; redis-check-rdb reports
//! where its reader stood, which can be further on), the `[additional info]` lines
//! (what was being read, the key and its type, named as Redis names them), the
//! counts, Redis's closing log line, and exits with status 1. Where Redis's
//! message names its own internals (C function and line, "Internal error in RDB
//! reading offset 0"), Ember's names the failed check instead. An empty collection
//! is an error here, as in redis-check-rdb (the server's loader skips such keys).

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use ember_core::rdb::{self, LoadEvent, LoadOptions, RdbLoadError};
use ember_core::LogLevel;

use crate::log::Logger;

/// Names of the value types as redis-check-rdb 7.0 prints them, by type byte.
const TYPE_NAMES: [&str; 20] = [
    "string",
    "list-linked",
    "set-hashtable",
    "zset-v1",
    "hash-hashtable",
    "zset-v2",
    "module-pre-release",
    "module-value",
    "",
    "hash-zipmap",
    "list-ziplist",
    "set-intset",
    "zset-ziplist",
    "hash-ziplist",
    "quicklist",
    "stream",
    "hash-listpack",
    "zset-listpack",
    "quicklist-v2",
    "stream-v2",
];

/// What the checker was doing, as redis-check-rdb's "While doing:" names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Doing {
    Start,
    ReadType,
    ReadExpire,
    ReadKey,
    ReadObjectValue,
    CheckSum,
    ReadLen,
    ReadAux,
    ReadModuleAux,
    ReadFunction,
}

impl Doing {
    fn name(self) -> &'static str {
        match self {
            Doing::Start => "start",
            Doing::ReadType => "read-type",
            Doing::ReadExpire => "read-expire",
            Doing::ReadKey => "read-key",
            Doing::ReadObjectValue => "read-object-value",
            Doing::CheckSum => "check-sum",
            Doing::ReadLen => "read-len",
            Doing::ReadAux => "read-aux",
            Doing::ReadModuleAux => "read-module-aux",
            Doing::ReadFunction => "read-function",
        }
    }

    /// What redis-check-rdb reads after type byte `t` (value types: the key).
    fn after_opcode(t: u8, version: u32) -> Doing {
        use ember_core::rdb::opcode as op;
        match t {
            op::EXPIRETIME | op::EXPIRETIME_MS => Doing::ReadExpire,
            op::SELECTDB | op::RESIZEDB => Doing::ReadLen,
            op::AUX => Doing::ReadAux,
            op::MODULE_AUX => Doing::ReadModuleAux,
            op::FUNCTION2 | op::FUNCTION_PRE_GA => Doing::ReadFunction,
            op::EOF if version >= CHECKSUM_SINCE_VERSION => Doing::CheckSum,
            op::IDLE | op::FREQ | op::EOF => Doing::ReadType,
            _ => Doing::ReadKey,
        }
    }
}

/// RDB versions from this one end with a checksum.
const CHECKSUM_SINCE_VERSION: u32 = 5;
/// Opcodes start here; lower bytes are value types.
const FIRST_OPCODE: u8 = 245;

/// The running counts and state of one check.
struct Check {
    out: String,
    now_ms: i64,
    doing: Doing,
    version: u32,
    /// The key being read, cleared once its value is.
    key: Option<Vec<u8>>,
    /// The type of the key being read; redis-check-rdb starts at 0 (string) and
    /// clears it after each key.
    value_type: Option<u8>,
    expire_ms: Option<i64>,
    keys: u64,
    expires: u64,
    already_expired: u64,
    /// The first empty collection: (offset past it), an error for the checker.
    empty_at: Option<usize>,
}

impl Check {
    fn new(path: &str, now_ms: i64) -> Check {
        let mut check = Check {
            out: String::new(),
            now_ms,
            doing: Doing::Start,
            version: 0,
            key: None,
            value_type: Some(0),
            expire_ms: None,
            keys: 0,
            expires: 0,
            already_expired: 0,
            empty_at: None,
        };
        check.line(0, &format!("Checking RDB file {path}"));
        check
    }

    fn line(&mut self, offset: usize, msg: &str) {
        let _ = writeln!(self.out, "[offset {offset}] {msg}");
    }

    /// Takes one loader event; after the first empty key nothing more is reported.
    fn event(&mut self, offset: usize, event: LoadEvent<'_>) {
        if self.empty_at.is_some() {
            return;
        }
        match event {
            LoadEvent::Header { version } => {
                self.version = version;
                self.doing = Doing::ReadType;
            }
            LoadEvent::Opcode(t) => {
                self.doing = Doing::after_opcode(t, self.version);
                if t < FIRST_OPCODE {
                    self.value_type = Some(t);
                }
            }
            LoadEvent::Done => self.doing = Doing::ReadType,
            LoadEvent::Aux { field, value } => {
                let msg = format!(
                    "AUX FIELD {} = '{}'",
                    String::from_utf8_lossy(field),
                    String::from_utf8_lossy(value)
                );
                self.line(offset, &msg);
            }
            LoadEvent::SelectDb(db) => self.line(offset, &format!("Selecting DB ID {db}")),
            LoadEvent::Key {
                value_type,
                key,
                expire_ms,
            } => {
                self.doing = Doing::ReadObjectValue;
                self.key = Some(key.to_vec());
                self.value_type = Some(value_type);
                self.expire_ms = expire_ms;
                self.keys += 1;
            }
            LoadEvent::Value { empty: true } => self.empty_at = Some(offset),
            LoadEvent::Value { empty: false } => {
                self.key = None;
                self.value_type = None;
                if let Some(at) = self.expire_ms {
                    self.expires += 1;
                    if at < self.now_ms {
                        self.already_expired += 1;
                    }
                }
            }
            LoadEvent::Checksum { stored: 0 } => self.line(
                offset,
                "RDB file was saved with checksum disabled: no check performed.",
            ),
            LoadEvent::Checksum { .. } => self.line(offset, "Checksum OK"),
        }
    }

    fn counts(&mut self) {
        let _ = writeln!(self.out, "[info] {} keys read", self.keys);
        let _ = writeln!(self.out, "[info] {} expires", self.expires);
        let _ = writeln!(self.out, "[info] {} already expired", self.already_expired);
    }

    fn error(&mut self, offset: usize, msg: &str) {
        self.out.push_str("--- RDB ERROR DETECTED ---\n");
        self.line(offset, msg);
        let _ = writeln!(
            self.out,
            "[additional info] While doing: {}",
            self.doing.name()
        );
        if let Some(key) = &self.key {
            let key = String::from_utf8_lossy(key).into_owned();
            let _ = writeln!(self.out, "[additional info] Reading key '{key}'");
        }
        if let Some(t) = self.value_type {
            let name = TYPE_NAMES.get(usize::from(t)).copied().unwrap_or("unknown");
            let _ = writeln!(self.out, "[additional info] Reading type {t} ({name})");
        }
        self.counts();
    }
}

/// What to say about a load error, and what redis-check-rdb was doing then.
fn describe(error: &RdbLoadError, check: &Check) -> (String, Doing) {
    use ember_core::rdb::RdbErrorKind as K;
    let doing = match error.kind {
        K::BadMagic | K::UnsupportedVersion(_) => Doing::Start,
        K::ChecksumMismatch { .. } => Doing::CheckSum,
        _ => check.doing,
    };
    let msg = match &error.kind {
        K::BadMagic => "Wrong signature trying to load DB from file".to_owned(),
        K::UnsupportedVersion(v) => format!("Can't handle RDB format version {v}"),
        K::UnexpectedEof => "Unexpected EOF reading RDB file".to_owned(),
        K::ChecksumMismatch { .. } => format!("RDB CRC error ({})", error.kind),
        other => {
            let mut text = other.to_string();
            if let Some(first) = text.get(..1) {
                text.replace_range(..1, &first.to_ascii_uppercase());
            }
            text
        }
    };
    (msg, doing)
}

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Ended early, at a truncation, a bad header or checksum, or an empty key.
    Failed,
    /// Data that fails a validation: redis-check-rdb then also logs that it
    /// terminates, as the server would.
    Corrupt,
}

/// Checks `bytes` (the file at `path`) as redis-check-rdb does at `now_ms`;
/// returns the report and the verdict.
pub fn check_bytes(path: &str, bytes: &[u8], now_ms: i64) -> (String, Verdict) {
    let mut check = Check::new(path, now_ms);
    let opts = LoadOptions::default();
    let result = rdb::load_observed(bytes, &opts, &mut |at, e| check.event(at, e));
    match (result, check.empty_at) {
        (Ok(_), Some(at)) => {
            let msg = "Empty key: a collection with no elements";
            check.error(at, msg);
            (check.out, Verdict::Failed)
        }
        (Ok(contents), None) => {
            check.line(contents.end_offset, "\\o/ RDB looks OK! \\o/");
            check.counts();
            (check.out, Verdict::Ok)
        }
        (Err(e), _) => {
            let (msg, doing) = describe(&e, &check);
            check.doing = doing;
            check.error(e.offset, &msg);
            (check.out, verdict_of(&e))
        }
    }
}

fn verdict_of(error: &RdbLoadError) -> Verdict {
    use ember_core::rdb::RdbErrorKind as K;
    match error.kind {
        K::BadMagic | K::UnsupportedVersion(_) | K::UnexpectedEof => Verdict::Failed,
        // A count or length past the end of the file: a truncation, which Redis
        // meets later, as an unexpected EOF.
        K::LengthTooLarge(_) => Verdict::Failed,
        K::ChecksumMismatch { .. } => Verdict::Failed,
        _ => Verdict::Corrupt,
    }
}

/// Runs the check from the command line: `args` are the arguments after the
/// program name (or after `--check-rdb`). Returns the exit status.
pub fn main(program: &str, args: &[String]) -> u8 {
    let Some(path) = args.first() else {
        println!("Usage: {program} <rdb-file-name>");
        return 1;
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(_) => {
            // redis-check-rdb says which file it opens, then gives up quietly.
            println!("[offset 0] Checking RDB file {path}");
            return 1;
        }
    };
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let (report, verdict) = check_bytes(path, &bytes, now_ms);
    print!("{report}");
    match verdict {
        Verdict::Ok => return 0,
        Verdict::Failed => return 1,
        Verdict::Corrupt => {}
    }
    let mut log = Logger::stdout();
    log.set_role('C');
    log.log(
        LogLevel::Warning,
        "Terminating server after rdb file reading failure.",
    );
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good_file() -> Vec<u8> {
        let mut w = rdb::RdbWriter::new(false);
        w.header();
        w.aux(b"redis-ver", b"7.0.15");
        w.select_db(0);
        let meta = rdb::KeyMeta {
            expire_ms: Some(1_000),
            ..rdb::KeyMeta::default()
        };
        let v = ember_core::value::Value::from_bytes(b"v");
        w.key_value(b"k", &v, &meta).unwrap();
        w.key_value(b"n", &v, &rdb::KeyMeta::default()).unwrap();
        w.finish(true)
    }

    #[test]
    fn a_good_file_reports_aux_fields_databases_and_counts() {
        let (report, verdict) = check_bytes("f.rdb", &good_file(), 2_000);
        assert_eq!(verdict, Verdict::Ok);
        let want = "[offset 0] Checking RDB file f.rdb\n\
                    [offset 27] AUX FIELD redis-ver = '7.0.15'\n\
                    [offset 29] Selecting DB ID 0\n\
                    [offset 57] Checksum OK\n\
                    [offset 57] \\o/ RDB looks OK! \\o/\n\
                    [info] 2 keys read\n\
                    [info] 1 expires\n\
                    [info] 1 already expired\n";
        assert_eq!(report, want);
    }

    #[test]
    fn a_truncated_file_names_the_key_being_read() {
        let file = good_file();
        let (report, verdict) = check_bytes("f.rdb", &file[..47], 0);
        assert_eq!(verdict, Verdict::Failed);
        assert!(report.contains("--- RDB ERROR DETECTED ---\n[offset 47] Unexpected EOF"));
        assert!(report.contains("While doing: read-object-value"));
        assert!(report.contains("Reading key 'n'\n[additional info] Reading type 0 (string)"));
        assert!(
            report.ends_with("[info] 2 keys read\n[info] 1 expires\n[info] 0 already expired\n")
        );
    }
}
