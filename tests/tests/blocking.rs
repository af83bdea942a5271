//! Blocking list commands with several clients against the real `ember-server`:
//! FIFO wake-up, timeouts, disconnects while blocked, and pipelined input held back
//! until the client is served. The differential script (tests/scripts/lists.txt)
//! compares the same situations with Redis byte for byte; these tests check timing
//! and ordering properties a reply comparison cannot see.

use std::thread;
use std::time::{Duration, Instant};

use ember_tests::{RawConn, ReadError, Server};

/// Time for the server to take a request sent on another connection first.
const SETTLE: Duration = Duration::from_millis(50);

fn bulk_pair(key: &str, value: &str) -> Vec<u8> {
    format!(
        "*2\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n",
        key.len(),
        value.len()
    )
    .into_bytes()
}

fn send(conn: &mut RawConn, args: &[&str]) {
    conn.send_command(args);
    thread::sleep(SETTLE);
}

/// Asserts that no reply arrives within `wait`.
fn assert_silent(conn: &mut RawConn, wait: Duration) {
    conn.set_reply_timeout(wait);
    match conn.try_read_reply() {
        Err(ReadError::Timeout { buffered }) => assert!(buffered.is_empty(), "{buffered:?}"),
        other => panic!("expected no reply yet, got {other:?}"),
    }
    conn.set_reply_timeout(Duration::from_secs(5));
}

#[test]
fn blpop_serves_clients_in_arrival_order() {
    let server = Server::start_ember(&[]);
    let mut waiters: Vec<RawConn> = (0..4).map(|_| server.connect()).collect();
    for waiter in &mut waiters {
        send(waiter, &["BLPOP", "queue", "0"]);
    }
    let mut pusher = server.connect();
    pusher.send_command(&["RPUSH", "queue", "a", "b", "c"]);
    assert_eq!(pusher.read_reply(), b":3\r\n");
    for (waiter, value) in waiters.iter_mut().zip(["a", "b", "c"]) {
        assert_eq!(waiter.read_reply(), bulk_pair("queue", value));
    }
    // The fourth is still waiting, and is next.
    assert_silent(&mut waiters[3], Duration::from_millis(100));
    pusher.send_command(&["LPUSH", "queue", "d"]);
    assert_eq!(pusher.read_reply(), b":1\r\n");
    assert_eq!(waiters[3].read_reply(), bulk_pair("queue", "d"));
    pusher.send_command(&["EXISTS", "queue"]);
    assert_eq!(pusher.read_reply(), b":0\r\n");
}

#[test]
fn blpop_times_out_with_a_null_array_after_its_timeout() {
    let server = Server::start_ember(&[]);
    let mut conn = server.connect();
    let started = Instant::now();
    conn.send_command(&["BLPOP", "nothing", "0.1"]);
    assert_eq!(conn.read_reply(), b"*-1\r\n");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(100), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1000), "{elapsed:?}");
}

#[test]
fn every_blocking_command_times_out_at_its_own_deadline() {
    let server = Server::start_ember(&[]);
    let commands: [(f64, &[&str]); 5] = [
        (0.3, &["BLPOP", "k", "0.3"]),
        (0.1, &["BRPOP", "k", "0.1"]),
        (0.2, &["BLMPOP", "0.2", "1", "k", "LEFT"]),
        (0.15, &["BLMOVE", "k", "d", "LEFT", "RIGHT", "0.15"]),
        (0.25, &["BRPOPLPUSH", "k", "d", "0.25"]),
    ];
    let mut conns: Vec<RawConn> = commands.iter().map(|_| server.connect()).collect();
    let started = Instant::now();
    for (conn, (_, args)) in conns.iter_mut().zip(commands) {
        conn.send_command(args);
    }
    for (conn, (secs, args)) in conns.iter_mut().zip(commands) {
        assert_eq!(conn.read_reply(), b"*-1\r\n", "{args:?}");
        let elapsed = started.elapsed().as_secs_f64();
        assert!(elapsed >= secs, "{args:?} answered after {elapsed}s");
    }
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_short_timeout_does_not_disturb_the_waiters_behind_it() {
    let server = Server::start_ember(&[]);
    let mut first = server.connect();
    let mut impatient = server.connect();
    let mut last = server.connect();
    send(&mut first, &["BLPOP", "q", "0"]);
    send(&mut impatient, &["BLPOP", "q", "0.05"]);
    send(&mut last, &["BLPOP", "q", "0"]);
    assert_eq!(impatient.read_reply(), b"*-1\r\n");
    let mut pusher = server.connect();
    pusher.send_command(&["RPUSH", "q", "1", "2"]);
    assert_eq!(pusher.read_reply(), b":2\r\n");
    assert_eq!(first.read_reply(), bulk_pair("q", "1"));
    assert_eq!(last.read_reply(), bulk_pair("q", "2"));
}

#[test]
fn a_client_that_disconnects_while_blocked_is_forgotten() {
    let server = Server::start_ember(&[]);
    let mut gone = server.connect();
    send(&mut gone, &["BLPOP", "q", "0"]);
    drop(gone);
    let mut waiter = server.connect();
    send(&mut waiter, &["BRPOP", "q", "0"]);
    let mut pusher = server.connect();
    pusher.send_command(&["RPUSH", "q", "only"]);
    assert_eq!(pusher.read_reply(), b":1\r\n");
    assert_eq!(waiter.read_reply(), bulk_pair("q", "only"));
    pusher.send_command(&["LLEN", "q"]);
    assert_eq!(pusher.read_reply(), b":0\r\n");
}

#[test]
fn pipelined_commands_wait_for_the_blocked_one_then_run() {
    let server = Server::start_ember(&[]);
    let mut waiter = server.connect();
    waiter.send_raw(
        b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nLLEN\r\n$1\r\nq\r\n",
    );
    thread::sleep(SETTLE);
    assert_silent(&mut waiter, Duration::from_millis(100));
    let mut pusher = server.connect();
    pusher.send_command(&["RPUSH", "q", "x", "y"]);
    assert_eq!(pusher.read_reply(), b":2\r\n");
    assert_eq!(waiter.read_reply(), bulk_pair("q", "x"));
    assert_eq!(waiter.read_reply(), b"+PONG\r\n");
    assert_eq!(waiter.read_reply(), b":1\r\n");
}

#[test]
fn a_served_move_wakes_the_client_waiting_on_its_destination() {
    let server = Server::start_ember(&[]);
    let mut end_waiter = server.connect();
    send(&mut end_waiter, &["BLPOP", "end", "0"]);
    let mut mover = server.connect();
    send(
        &mut mover,
        &["BLMOVE", "start", "end", "LEFT", "RIGHT", "0"],
    );
    let mut pusher = server.connect();
    pusher.send_command(&["RPUSH", "start", "token"]);
    assert_eq!(pusher.read_reply(), b":1\r\n");
    assert_eq!(mover.read_reply(), b"$5\r\ntoken\r\n");
    assert_eq!(end_waiter.read_reply(), bulk_pair("end", "token"));
    pusher.send_command(&["EXISTS", "start", "end"]);
    assert_eq!(pusher.read_reply(), b":0\r\n");
}

#[test]
fn many_clients_on_many_keys_are_each_served_once() {
    let server = Server::start_ember(&[]);
    let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
    let mut waiters: Vec<RawConn> = keys
        .iter()
        .map(|key| {
            let mut conn = server.connect();
            conn.send_command(&["BRPOP", key.as_str(), "other", "0"]);
            conn
        })
        .collect();
    thread::sleep(SETTLE * 2);
    let mut pusher = server.connect();
    for key in keys.iter().rev() {
        pusher.send_command(&["LPUSH", key.as_str(), "v1", "v2"]);
        assert_eq!(pusher.read_reply(), b":2\r\n");
    }
    for (waiter, key) in waiters.iter_mut().zip(&keys) {
        assert_eq!(waiter.read_reply(), bulk_pair(key, "v1"));
        pusher.send_command(&["LRANGE", key.as_str(), "0", "-1"]);
        assert_eq!(pusher.read_reply(), b"*1\r\n$2\r\nv2\r\n");
    }
}

/// CLIENT UNBLOCK needs the blocked client's id, which a differential script cannot
/// name, so this runs the same scenario on redis-server and ember-server and
/// compares every reply (plus the blocked counts INFO and CLIENT LIST show).
#[test]
fn client_unblock_and_blocked_counts_match_redis() {
    let scenario = |server: &Server| -> Vec<Vec<u8>> {
        let mut replies = Vec::new();
        let (mut a, mut b, mut admin) = (server.connect(), server.connect(), server.connect());
        let id_of = |conn: &mut RawConn| {
            conn.send_command(&["CLIENT", "ID"]);
            let reply = conn.read_reply();
            String::from_utf8_lossy(&reply[1..reply.len() - 2]).into_owned()
        };
        let (id_a, id_b) = (id_of(&mut a), id_of(&mut b));
        a.send_command(&["BLPOP", "k", "0"]);
        a.send_command(&["PING"]);
        send(&mut b, &["BLMOVE", "k", "d", "LEFT", "LEFT", "5"]);
        let blocked_facts = |admin: &mut RawConn| {
            admin.send_command(&["INFO", "clients"]);
            let info = String::from_utf8_lossy(&admin.read_reply()).into_owned();
            let counts: Vec<&str> = info
                .lines()
                .filter(|l| l.starts_with("blocked_clients") || l.starts_with("clients_in_timeout"))
                .collect();
            admin.send_command(&["CLIENT", "LIST"]);
            let list = String::from_utf8_lossy(&admin.read_reply()).into_owned();
            let flags: Vec<&str> = list
                .split(' ')
                .filter(|w| w.starts_with("flags="))
                .collect();
            format!("{counts:?} {flags:?}").into_bytes()
        };
        replies.push(blocked_facts(&mut admin));
        for args in [
            vec!["CLIENT", "UNBLOCK", &id_a],
            vec!["CLIENT", "UNBLOCK", &id_a],
            vec!["CLIENT", "UNBLOCK", &id_b, "error"],
            vec!["CLIENT", "UNBLOCK", "x"],
            vec!["CLIENT", "UNBLOCK", &id_b, "later"],
        ] {
            admin.send_command(&args);
            replies.push(admin.read_reply());
        }
        replies.push(a.read_reply());
        replies.push(a.read_reply());
        replies.push(b.read_reply());
        replies.push(blocked_facts(&mut admin));
        admin.send_command(&["INFO", "errorstats"]);
        replies.push(admin.read_reply());
        replies
    };
    let redis = scenario(&Server::start_redis(&[]));
    let ember = scenario(&Server::start_ember(&[]));
    assert_eq!(
        ember
            .iter()
            .map(|r| String::from_utf8_lossy(r))
            .collect::<Vec<_>>(),
        redis
            .iter()
            .map(|r| String::from_utf8_lossy(r))
            .collect::<Vec<_>>()
    );
}

/// Clients blocked on `k` (lists) and `z` (sorted sets) see nothing of a
/// transaction that fills a key and empties it again: readiness is checked after
/// EXEC, as Redis does. A transaction whose pushes leave the key non-empty serves
/// them after EXEC, oldest first.
fn filled_and_emptied_in_one_transaction(server: &Server) {
    let mut waiters: Vec<RawConn> = (0..3).map(|_| server.connect()).collect();
    for waiter in &mut waiters {
        send(waiter, &["BLPOP", "k", "0"]);
    }
    let mut zwaiter = server.connect();
    send(&mut zwaiter, &["BZPOPMIN", "z", "0"]);
    let mut writer = server.connect();
    let transaction = |writer: &mut RawConn, commands: &[&[&str]]| {
        writer.send_command(&["MULTI"]);
        assert_eq!(writer.read_reply(), b"+OK\r\n");
        for command in commands {
            writer.send_command(command);
            assert_eq!(writer.read_reply(), b"+QUEUED\r\n");
        }
        writer.send_command(&["EXEC"]);
        writer.read_reply()
    };
    let reply = transaction(
        &mut writer,
        &[
            &["RPUSH", "k", "a", "b"],
            &["DEL", "k"],
            &["ZADD", "z", "1", "m"],
            &["ZREM", "z", "m"],
        ],
    );
    assert_eq!(reply, b"*4\r\n:2\r\n:1\r\n:1\r\n:1\r\n");
    let reply = transaction(&mut writer, &[&["RPUSH", "k", "c"], &["LPOP", "k"]]);
    assert_eq!(reply, b"*2\r\n:1\r\n$1\r\nc\r\n");
    for waiter in &mut waiters {
        assert_silent(waiter, Duration::from_millis(100));
    }
    assert_silent(&mut zwaiter, Duration::from_millis(50));
    let reply = transaction(
        &mut writer,
        &[
            &["RPUSH", "k", "x"],
            &["RPUSH", "k", "y"],
            &["LPUSH", "k", "w"],
            &["ZADD", "z", "2", "n"],
        ],
    );
    assert_eq!(reply, b"*4\r\n:1\r\n:2\r\n:3\r\n:1\r\n");
    for (waiter, value) in waiters.iter_mut().zip(["w", "x", "y"]) {
        assert_eq!(waiter.read_reply(), bulk_pair("k", value));
    }
    assert_eq!(
        zwaiter.read_reply(),
        b"*3\r\n$1\r\nz\r\n$1\r\nn\r\n$1\r\n2\r\n"
    );
    writer.send_command(&["EXISTS", "k", "z"]);
    assert_eq!(writer.read_reply(), b":0\r\n");
}

#[test]
fn a_key_filled_and_emptied_in_one_transaction_serves_nobody() {
    filled_and_emptied_in_one_transaction(&Server::start_ember(&[]));
}

#[test]
fn a_key_filled_and_emptied_in_one_transaction_serves_nobody_on_redis_too() {
    filled_and_emptied_in_one_transaction(&Server::start_redis(&[]));
}

#[test]
fn xread_and_xreadgroup_time_out_at_their_own_deadlines() {
    let server = Server::start_ember(&[]);
    let mut setup = server.connect();
    setup.send_command(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    assert_eq!(setup.read_reply(), b"+OK\r\n");
    let commands: [(u64, &[&str]); 3] = [
        (300, &["XREAD", "BLOCK", "300", "STREAMS", "s", "$"]),
        (
            100,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                "100",
                "STREAMS",
                "s",
                ">",
            ],
        ),
        (200, &["XREAD", "BLOCK", "200", "STREAMS", "missing", "0"]),
    ];
    let mut conns: Vec<RawConn> = commands.iter().map(|_| server.connect()).collect();
    let started = Instant::now();
    for (conn, (_, args)) in conns.iter_mut().zip(commands) {
        conn.send_command(args);
    }
    for (conn, (ms, args)) in conns.iter_mut().zip(commands) {
        assert_eq!(conn.read_reply(), b"*-1\r\n", "{args:?}");
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(ms),
            "{args:?} answered after {elapsed:?}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn one_xadd_serves_every_xread_waiter_and_one_group_reader_per_entry() {
    let server = Server::start_ember(&[]);
    let mut admin = server.connect();
    admin.send_command(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    assert_eq!(admin.read_reply(), b"+OK\r\n");
    let mut readers: Vec<RawConn> = (0..3).map(|_| server.connect()).collect();
    for reader in &mut readers {
        send(reader, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    }
    let mut group_readers: Vec<RawConn> = (0..2).map(|_| server.connect()).collect();
    for (i, reader) in group_readers.iter_mut().enumerate() {
        let consumer = format!("c{i}");
        send(
            reader,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                &consumer,
                "BLOCK",
                "0",
                "STREAMS",
                "s",
                ">",
            ],
        );
    }
    admin.send_command(&["XADD", "s", "1-1", "f", "v"]);
    assert_eq!(admin.read_reply(), b"$3\r\n1-1\r\n");
    let entry = b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n";
    for reader in &mut readers {
        assert_eq!(reader.read_reply(), entry);
    }
    // The group delivers the entry once: to the reader that came first.
    assert_eq!(group_readers[0].read_reply(), entry);
    assert_silent(&mut group_readers[1], Duration::from_millis(100));
    admin.send_command(&["XADD", "s", "1-2", "f", "w"]);
    assert_eq!(admin.read_reply(), b"$3\r\n1-2\r\n");
    let second = b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nf\r\n$1\r\nw\r\n";
    assert_eq!(group_readers[1].read_reply(), second);
    admin.send_command(&["XPENDING", "s", "g"]);
    assert_eq!(
        admin.read_reply(),
        b"*4\r\n:2\r\n$3\r\n1-1\r\n$3\r\n1-2\r\n*2\r\n*2\r\n$2\r\nc0\r\n$1\r\n1\r\n*2\r\n$2\r\nc1\r\n$1\r\n1\r\n"
    );
}
