//! `ember-server --check-rdb FILE` against the real redis-check-rdb 7.0 on the same
//! files: identical reports and exit status on good files; on bad ones the same
//! status and lines, except the error line (Ember's own wording, with the offset)
//! and the timestamp of the closing log line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const EMBER: &str = env!("CARGO_BIN_EXE_ember-server");

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/redis-rdb")
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("ember-check-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).expect("write file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(program: &Path, args: &[&Path]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()))
}

fn ember_check(file: &Path) -> Output {
    Command::new(EMBER)
        .arg("--check-rdb")
        .arg(file)
        .output()
        .expect("run ember-server --check-rdb")
}

fn redis_check(file: &Path) -> Output {
    run(Path::new("redis-check-rdb"), &[file])
}

/// A report with the error line replaced by its offset-free marker and the log
/// line's pid and time dropped; and the error line itself.
fn normalize(out: &Output) -> (Vec<String>, Option<String>) {
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = Vec::new();
    let mut error = None;
    let mut after_banner = false;
    for line in text.lines() {
        if after_banner {
            error = Some(line.to_owned());
            lines.push("<error line>".to_owned());
        } else if let Some((_, rest)) = line.split_once(" # ") {
            lines.push(format!("<log> {rest}"));
        } else {
            lines.push(line.to_owned());
        }
        after_banner = line == "--- RDB ERROR DETECTED ---";
    }
    (lines, error)
}

/// Checks one file with both tools and compares; returns Ember's error line.
fn compare(file: &Path) -> Option<String> {
    let (ours, theirs) = (ember_check(file), redis_check(file));
    assert_eq!(
        ours.status.code(),
        theirs.status.code(),
        "{}",
        file.display()
    );
    let (ours_lines, ours_error) = normalize(&ours);
    let (their_lines, their_error) = normalize(&theirs);
    assert_eq!(ours_lines, their_lines, "{}", file.display());
    assert_eq!(ours_error.is_some(), their_error.is_some());
    ours_error
}

/// `[offset N] message`: N, with a message after it.
fn error_offset(line: &str) -> usize {
    let rest = line
        .strip_prefix("[offset ")
        .expect("starts with the offset");
    let (n, message) = rest.split_once("] ").expect("offset then message");
    assert!(!message.is_empty());
    n.parse().expect("a number")
}

#[test]
fn good_files_get_redis_check_rdbs_report_and_status() {
    for name in [
        "encodings.rdb",
        "hash-zipmap.rdb",
        "hash-ziplist.rdb",
        "zset-ziplist.rdb",
        "list-quicklist.rdb",
        "scriptbackup.rdb",
        "rdb-preamble.aof",
    ] {
        let file = assets().join(name);
        let ours = ember_check(&file);
        assert_eq!(ours.status.code(), Some(0), "{name}");
        let theirs = redis_check(&file);
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&theirs.stdout),
            "{name}"
        );
    }
}

#[test]
fn corrupt_files_fail_with_the_offset_and_the_error() {
    let corrupt = compare(&assets().join("corrupt_ziplist.rdb")).expect("an error");
    assert_eq!(error_offset(&corrupt), 488);
    assert!(
        corrupt.contains("iplist integrity check failed"),
        "{corrupt}"
    );
    let empty = compare(&assets().join("corrupt_empty_keys.rdb")).expect("an error");
    assert_eq!(error_offset(&empty), 100);
    assert!(empty.contains("Empty key"), "{empty}");
}

#[test]
fn every_truncation_fails_as_redis_check_rdb_does() {
    let dir = TempDir::new("trunc");
    let whole = std::fs::read(assets().join("encodings.rdb")).expect("asset");
    for n in 0..whole.len() {
        let file = dir.write("prefix.rdb", &whole[..n]);
        let error = compare(&file).unwrap_or_else(|| panic!("prefix {n} passed"));
        assert!(error_offset(&error) <= n, "prefix {n}: {error}");
    }
}

#[test]
fn a_bad_checksum_magic_or_version_is_reported() {
    let dir = TempDir::new("header");
    let good = std::fs::read(assets().join("scriptbackup.rdb")).expect("asset");
    let mut crc = good.clone();
    let last = crc.len() - 1;
    crc[last] ^= 0xff;
    let mut magic = good.clone();
    magic[0] = b'X';
    let mut version = good;
    version[5..9].copy_from_slice(b"0011");
    let cases = [
        ("crc", crc, "RDB CRC error"),
        ("magic", magic, "Wrong signature"),
        ("version", version, "Can't handle RDB format version 11"),
    ];
    for (name, bytes, want) in cases {
        let error = compare(&dir.write(name, &bytes)).expect("an error");
        assert!(error.contains(want), "{name}: {error}");
    }
}

#[test]
fn the_checker_runs_under_redis_check_rdbs_name_and_needs_a_file() {
    let dir = TempDir::new("alias");
    let alias = dir.0.join("redis-check-rdb");
    std::os::unix::fs::symlink(EMBER, &alias).expect("symlink");
    let file = assets().join("encodings.rdb");
    let out = run(&alias, &[&file]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("RDB looks OK"));
    let usage = run(&alias, &[]);
    assert_eq!(usage.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&usage.stdout).starts_with("Usage: "));
    let missing = ember_check(&dir.0.join("nope.rdb"));
    assert_eq!(missing.status.code(), Some(1));
}
