//! `maxmemory` eviction against redis-server and ember-server. Memory figures
//! differ between the two, so the scenarios compare behaviour: the OOM reply
//! bytes under `noeviction`, and under `allkeys-lru` that writing far more than
//! the limit keeps used memory near it, evicts keys and announces them.

use std::thread;
use std::time::Duration;

use ember_tests::{RawConn, Server, ServerKind};

const KINDS: [ServerKind; 2] = [ServerKind::Redis, ServerKind::Ember];

const OOM_REPLY: &[u8] = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n";

/// Keys written in the allkeys-lru scenario and their value size: about 20 MB,
/// several times the room above the baseline.
const KEYS_WRITTEN: usize = 20_000;
const VALUE_BYTES: usize = 1024;
/// Room given above the memory in use at the start.
const HEADROOM_BYTES: u64 = 4 * 1024 * 1024;
/// How far used memory may stray from the limit: a pipelined batch of writes and
/// the servers' buffers, not the megabytes written.
const SLACK_BYTES: u64 = 2 * 1024 * 1024;
/// Writes sent per pipelined batch; memory is checked after each batch.
const BATCH: usize = 200;

fn call(conn: &mut RawConn, args: &[&str]) -> Vec<u8> {
    conn.send_command(args);
    conn.read_reply()
}

/// A numeric field of an INFO section.
fn info_field(conn: &mut RawConn, section: &str, field: &str) -> u64 {
    let reply = call(conn, &["INFO", section]);
    let text = String::from_utf8_lossy(&reply).into_owned();
    let prefix = format!("{field}:");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}: {text}"))
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{field} is not a number in: {text}"))
}

#[test]
fn noeviction_refuses_writes_with_redis_bytes_and_still_serves_reads() {
    let mut replies = Vec::new();
    for kind in KINDS {
        let server = Server::start(kind, &["--maxmemory-policy", "noeviction"]);
        let mut conn = server.connect();
        assert_eq!(call(&mut conn, &["SET", "k", "v"]), b"+OK\r\n");
        let used = info_field(&mut conn, "memory", "used_memory");
        let limit = (used / 2).to_string();
        assert_eq!(
            call(&mut conn, &["CONFIG", "SET", "maxmemory", &limit]),
            b"+OK\r\n"
        );
        let seen = [
            call(&mut conn, &["SET", "x", "y"]),
            call(&mut conn, &["GET", "k"]),
            call(&mut conn, &["EXISTS", "x"]),
            call(&mut conn, &["DEL", "k"]),
        ];
        assert_eq!(seen[0], OOM_REPLY, "{}", kind.name());
        assert_eq!(info_field(&mut conn, "stats", "evicted_keys"), 0);
        replies.push(seen);
    }
    assert_eq!(replies[0], replies[1], "redis vs ember");
}

fn dbsize(conn: &mut RawConn) -> u64 {
    let reply = call(conn, &["DBSIZE"]);
    let text = String::from_utf8_lossy(&reply);
    text.trim_start_matches(':')
        .trim_end()
        .parse()
        .unwrap_or_else(|_| panic!("DBSIZE replied {text}"))
}

/// Counts `evicted` keyevent messages until the connection stays silent.
fn count_evicted_messages(mut sub: RawConn) -> usize {
    sub.set_reply_timeout(Duration::from_secs(2));
    let mut count = 0;
    while let Ok(frame) = sub.try_read_reply() {
        if frame.windows(7).any(|w| w == b"evicted") {
            count += 1;
        }
    }
    count
}

/// Writes `KEYS_WRITTEN` keys in pipelined batches; returns the largest amount
/// used memory was seen above `limit` after a batch.
fn write_keys_and_watch_memory(conn: &mut RawConn, limit: u64) -> u64 {
    let value = "v".repeat(VALUE_BYTES);
    let mut overshoot = 0;
    for start in (0..KEYS_WRITTEN).step_by(BATCH) {
        for i in start..start + BATCH {
            conn.send_command(&["SET", &format!("key:{i:06}"), &value]);
        }
        for _ in 0..BATCH {
            assert_eq!(conn.read_reply(), b"+OK\r\n");
        }
        let used = info_field(conn, "memory", "used_memory");
        overshoot = overshoot.max(used.saturating_sub(limit));
    }
    overshoot
}

#[test]
fn allkeys_lru_keeps_memory_near_the_limit_and_announces_evictions() {
    for kind in KINDS {
        let name = kind.name();
        let server = Server::start(kind, &["--maxmemory-policy", "allkeys-lru"]);
        let mut conn = server.connect();
        call(
            &mut conn,
            &["CONFIG", "SET", "notify-keyspace-events", "Ee"],
        );
        let mut sub = server.connect();
        sub.send_command(&["SUBSCRIBE", "__keyevent@0__:evicted"]);
        assert!(sub.read_reply().starts_with(b"*3\r\n$9\r\nsubscribe\r\n"));
        let listener = thread::spawn(move || count_evicted_messages(sub));

        let limit = info_field(&mut conn, "memory", "used_memory") + HEADROOM_BYTES;
        let limit_arg = limit.to_string();
        call(&mut conn, &["CONFIG", "SET", "maxmemory", &limit_arg]);
        let overshoot = write_keys_and_watch_memory(&mut conn, limit);

        let used = info_field(&mut conn, "memory", "used_memory");
        let evicted = info_field(&mut conn, "stats", "evicted_keys");
        let keys = dbsize(&mut conn);
        eprintln!("{name}: limit {limit}, used {used}, most over {overshoot}, evicted {evicted}");
        assert!(overshoot < SLACK_BYTES, "{name}: {overshoot} bytes over");
        assert!(
            used + SLACK_BYTES > limit,
            "{name}: {used} far below {limit}"
        );
        assert!(evicted > 0, "{name}: nothing evicted");
        assert_eq!(keys + evicted, KEYS_WRITTEN as u64, "{name}");
        let messages = listener.join().expect("listener");
        assert_eq!(messages as u64, evicted, "{name}: evicted messages");
    }
}
