//! Streams through RDB and DUMP/RESTORE, both ways with the real Redis 7.0: a dump
//! Redis writes loads into Ember, a dump Ember writes passes `redis-check-rdb` and
//! loads into Redis, and DUMP payloads cross between the servers. The two servers
//! must then answer XINFO STREAM FULL, XINFO GROUPS, XRANGE and DEBUG DIGEST-VALUE
//! with the same bytes (delivery and seen times are stored absolute, so even those
//! agree).

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use ember_tests::{RawConn, Server};

/// Streams with several blocks, deleted entries, groups with pending entries over
/// several consumers, a NOACK group, an unknown entries-read counter, an empty
/// stream with a group, and integer-looking fields and names.
const DATASET: &[&[&str]] = &[
    &["CONFIG", "SET", "stream-node-max-entries", "3"],
    &["XADD", "s", "1-1", "f", "1", "g", "x"],
    &["XADD", "s", "1-2", "f", "2", "g", "y"],
    &["XADD", "s", "1-3", "other", "3"],
    &["XADD", "s", "2-0", "f", "4", "g", "z"],
    &["XADD", "s", "2-1", "12", "-5", "", ""],
    &["XADD", "s", "3-0", "f", "6"],
    &["XADD", "s", "4-0", "f", "7", "g", "w"],
    &["XDEL", "s", "1-2", "2-1"],
    &["XGROUP", "CREATE", "s", "readers", "0"],
    &[
        "XREADGROUP",
        "GROUP",
        "readers",
        "alice",
        "COUNT",
        "2",
        "STREAMS",
        "s",
        ">",
    ],
    &[
        "XREADGROUP",
        "GROUP",
        "readers",
        "bob",
        "COUNT",
        "1",
        "STREAMS",
        "s",
        ">",
    ],
    &["XREADGROUP", "GROUP", "readers", "42", "STREAMS", "s", ">"],
    &[
        "XCLAIM",
        "s",
        "readers",
        "carol",
        "0",
        "1-1",
        "TIME",
        "1000",
        "RETRYCOUNT",
        "5",
    ],
    &["XGROUP", "CREATECONSUMER", "s", "readers", "idle"],
    &["XGROUP", "CREATE", "s", "noack", "1-3"],
    &[
        "XREADGROUP",
        "GROUP",
        "noack",
        "n",
        "NOACK",
        "STREAMS",
        "s",
        ">",
    ],
    &["XGROUP", "CREATE", "s", "late", "$", "ENTRIESREAD", "-1"],
    &["XGROUP", "SETID", "s", "late", "1-3"],
    &["XADD", "one", "5-5", "only", "entry"],
    &["XADD", "emptied", "1-1", "f", "v"],
    &["XDEL", "emptied", "1-1"],
    &["XGROUP", "CREATE", "fresh", "g", "$", "MKSTREAM"],
    &[
        "XSETID",
        "fresh",
        "7-7",
        "ENTRIESADDED",
        "9",
        "MAXDELETEDID",
        "7-1",
    ],
];

const KEYS: &[&str] = &["s", "one", "emptied", "fresh"];

fn run(conn: &mut RawConn, args: &[&str]) -> Vec<u8> {
    conn.send_command(args);
    conn.read_reply()
}

fn fill(server: &Server) {
    let mut conn = server.connect();
    for args in DATASET {
        let reply = run(&mut conn, args);
        assert!(
            !reply.starts_with(b"-"),
            "{args:?}: {}",
            String::from_utf8_lossy(&reply)
        );
    }
}

/// Everything a client can see of the stream keys, as raw replies.
fn observe(server: &Server) -> Vec<(String, Vec<u8>)> {
    let mut conn = server.connect();
    let mut seen = Vec::new();
    for key in KEYS {
        for args in [
            vec!["XINFO", "STREAM", key, "FULL", "COUNT", "0"],
            vec!["XINFO", "STREAM", key],
            vec!["XINFO", "GROUPS", key],
            vec!["XRANGE", key, "-", "+"],
            vec!["XLEN", key],
            vec!["DEBUG", "DIGEST-VALUE", key],
        ] {
            seen.push((args.join(" "), run(&mut conn, &args)));
        }
    }
    seen
}

fn assert_same(expected: &[(String, Vec<u8>)], got: &[(String, Vec<u8>)], what: &str) {
    for ((cmd, want), (_, have)) in expected.iter().zip(got) {
        assert_eq!(
            String::from_utf8_lossy(have),
            String::from_utf8_lossy(want),
            "{what}: {cmd}"
        );
    }
}

fn save(server: &Server) -> Vec<u8> {
    save_in(server, &server.dir())
}

fn save_in(server: &Server, dir: &std::path::Path) -> Vec<u8> {
    let mut conn = server.connect();
    assert_eq!(run(&mut conn, &["SAVE"]), b"+OK\r\n");
    fs::read(dir.join("dump.rdb")).expect("dump.rdb after SAVE")
}

/// A temp dir removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("ember-stream-rdb-{}-{n}", std::process::id());
        let path = std::env::temp_dir().join(name);
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Starts `start` on a copy of `dump` in `dir`.
fn start_on(start: fn(&[&str]) -> Server, dir: &TempDir, dump: &[u8]) -> Server {
    fs::write(dir.0.join("dump.rdb"), dump).expect("write dump");
    let d = dir.0.to_string_lossy().into_owned();
    start(&["--enable-debug-command", "yes", "--dir", &d])
}

#[test]
fn a_redis_dump_of_streams_loads_into_ember_unchanged() {
    let redis = Server::start_redis(&["--enable-debug-command", "yes"]);
    fill(&redis);
    let dump = save(&redis);
    let (dir, dir2) = (TempDir::new(), TempDir::new());
    let ember = start_on(Server::start_ember, &dir, &dump);
    assert_same(
        &observe(&redis),
        &observe(&ember),
        "ember loading redis's dump",
    );
    // Saved again, Ember's dump holds the same stream bytes Redis wrote.
    let again = save_in(&ember, &dir.0);
    let reloaded = start_on(Server::start_redis, &dir2, &again);
    assert_same(
        &observe(&redis),
        &observe(&reloaded),
        "redis loading ember's rewrite",
    );
}

#[test]
fn an_ember_dump_of_streams_passes_redis_check_rdb_and_loads_into_redis() {
    let ember = Server::start_ember(&["--enable-debug-command", "yes"]);
    fill(&ember);
    let dump = save(&ember);
    let path = ember.dir().join("dump.rdb");
    let out = Command::new("redis-check-rdb")
        .arg(&path)
        .output()
        .expect("redis-check-rdb must be installed (apt-get install redis-tools)");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        report.contains("RDB looks OK"),
        "redis-check-rdb:\n{report}"
    );
    let dir = TempDir::new();
    let redis = start_on(Server::start_redis, &dir, &dump);
    assert_same(
        &observe(&ember),
        &observe(&redis),
        "redis loading ember's dump",
    );
}

#[test]
fn stream_dump_payloads_cross_between_redis_and_ember() {
    let redis = Server::start_redis(&["--enable-debug-command", "yes"]);
    let ember = Server::start_ember(&["--enable-debug-command", "yes"]);
    fill(&redis);
    fill(&ember);
    let (mut r, mut e) = (redis.connect(), ember.connect());
    for key in KEYS {
        // Redis's payload restores into Ember, whose DUMP gives the same bytes back.
        let payload = run(&mut r, &["DUMP", key]);
        let body = bulk_body(&payload);
        e.send_command(&[b"RESTORE".as_slice(), b"carried", b"0", body]);
        assert_eq!(e.read_reply(), b"+OK\r\n", "RESTORE into ember of {key}");
        assert_eq!(run(&mut e, &["DUMP", "carried"]), payload, "DUMP of {key}");
        // Ember's payload of its own value restores into Redis, equal to Ember's.
        let mine = run(&mut e, &["DUMP", key]);
        r.send_command(&[b"RESTORE".as_slice(), b"carried", b"0", bulk_body(&mine)]);
        assert_eq!(r.read_reply(), b"+OK\r\n", "RESTORE into redis of {key}");
        for args in [
            ["XINFO", "STREAM", "carried", "FULL"].as_slice(),
            &["XRANGE", "carried", "-", "+"],
            &["DEBUG", "DIGEST-VALUE", "carried"],
        ] {
            let mut own = args.to_vec();
            let pos = own.iter().position(|a| *a == "carried").unwrap_or(0);
            own[pos] = key;
            assert_eq!(
                String::from_utf8_lossy(&run(&mut r, args)),
                String::from_utf8_lossy(&run(&mut e, &own)),
                "{args:?} of {key}"
            );
        }
        run(&mut r, &["DEL", "carried"]);
        run(&mut e, &["DEL", "carried"]);
    }
}

/// The payload of a `$<len>\r\n<payload>\r\n` reply.
fn bulk_body(reply: &[u8]) -> &[u8] {
    let start = reply.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
    &reply[start..reply.len().saturating_sub(2)]
}

/// Writes with every kind of stream effect: auto IDs, approximate trims, group
/// reads (plain and NOACK), claims of live and deleted entries, XAUTOCLAIM.
const AOF_DATASET: &[&[&str]] = &[
    &["CONFIG", "SET", "stream-node-max-entries", "2"],
    &["XADD", "a", "*", "f", "1"],
    &["XADD", "a", "*", "f", "2"],
    &["XADD", "a", "MAXLEN", "~", "1", "*", "f", "3"],
    &["XADD", "a", "99999999999999-*", "f", "4"],
    &["XADD", "a", "99999999999999-*", "f", "5"],
    &["XADD", "b", "1-1", "f", "1"],
    &["XADD", "b", "1-2", "f", "2"],
    &["XADD", "b", "1-3", "f", "3"],
    &["XADD", "b", "1-4", "f", "4"],
    &["XADD", "b", "1-5", "f", "5"],
    &["XTRIM", "b", "MINID", "~", "1-3"],
    &["XGROUP", "CREATE", "b", "g", "0"],
    &[
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "COUNT",
        "2",
        "STREAMS",
        "b",
        ">",
    ],
    &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "b", ">"],
    &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "b", "0"],
    &["XDEL", "b", "1-4"],
    &["XCLAIM", "b", "g", "carol", "0", "1-4", "1-5"],
    &["XAUTOCLAIM", "b", "g", "dave", "0", "0", "COUNT", "1"],
    &["XACK", "b", "g", "1-3"],
    &["XGROUP", "CREATE", "b", "n", "0"],
    &[
        "XREADGROUP",
        "GROUP",
        "n",
        "erin",
        "NOACK",
        "STREAMS",
        "b",
        ">",
    ],
    &[
        "XCLAIM", "b", "n", "erin", "0", "1-5", "FORCE", "LASTID", "2-0",
    ],
    &["XCLAIM", "b", "n", "erin", "0", "9-9", "LASTID", "3-0"],
    &["XSETID", "b", "5-0", "ENTRIESADDED", "20"],
    &["XGROUP", "DELCONSUMER", "b", "g", "bob"],
];

/// What a replay must rebuild: everything but the times consumers were last seen.
fn observe_replayed(server: &Server) -> Vec<(String, Vec<u8>)> {
    let mut conn = server.connect();
    let mut seen = Vec::new();
    for key in ["a", "b"] {
        for args in [
            vec!["XINFO", "STREAM", key],
            vec!["XINFO", "GROUPS", key],
            vec!["XRANGE", key, "-", "+"],
            vec!["XPENDING", key, "g"],
            vec!["XPENDING", key, "n"],
        ] {
            seen.push((args.join(" "), run(&mut conn, &args)));
        }
    }
    seen
}

#[test]
fn the_effects_redis_writes_to_its_aof_rebuild_the_same_streams_in_ember() {
    let redis = Server::start_redis(&["--appendonly", "yes"]);
    let mut conn = redis.connect();
    for args in AOF_DATASET {
        let reply = run(&mut conn, args);
        assert!(
            !reply.starts_with(b"-"),
            "{args:?}: {}",
            String::from_utf8_lossy(&reply)
        );
    }
    let aof_dir = redis.dir().join("appendonlydir");
    let incr = fs::read_dir(&aof_dir)
        .expect("appendonlydir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.to_string_lossy().ends_with(".incr.aof"))
        .expect("an incr AOF file");
    let effects = fs::read(&incr).expect("read incr AOF");
    // Redis itself loading its AOF is the reference.
    let copy = TempDir::new();
    fs::create_dir_all(copy.0.join("appendonlydir")).expect("mkdir");
    for entry in fs::read_dir(&aof_dir).expect("appendonlydir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("file name").to_owned();
        fs::copy(&path, copy.0.join("appendonlydir").join(name)).expect("copy AOF");
    }
    let d = copy.0.to_string_lossy().into_owned();
    let reloaded = Server::start_redis(&["--appendonly", "yes", "--dir", &d]);
    // Ember gets the same effects as a client would send them.
    let ember = Server::start_ember(&[]);
    let mut e = ember.connect();
    e.send_raw(&effects);
    for _ in 0..frame_count(&effects) {
        let reply = e.read_reply();
        assert!(
            !reply.starts_with(b"-"),
            "{}",
            String::from_utf8_lossy(&reply)
        );
    }
    assert_same(
        &observe_replayed(&reloaded),
        &observe_replayed(&ember),
        "AOF effects replayed",
    );
}

/// How many whole RESP frames `bytes` holds (an AOF is one frame per command).
fn frame_count(bytes: &[u8]) -> usize {
    let mut at = 0;
    let mut n = 0;
    while let Ok(Some(len)) = ember_tests::resp::frame_len(&bytes[at..]) {
        at += len;
        n += 1;
    }
    n
}
