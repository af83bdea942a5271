//! Ending a blocked client's wait from outside: CLIENT UNBLOCK (TIMEOUT, ERROR or
//! neither) on every blocking command in RESP2 and RESP3, and the blocked
//! XREADGROUP whose stream is deleted. CLIENT UNBLOCK needs the blocked client's
//! id, which a differential script cannot name, so each scenario runs on
//! redis-server and ember-server and every reply is compared, then the counters
//! INFO shows (calls and failed calls of each command, error codes).

use std::thread;
use std::time::Duration;

use ember_tests::{RawConn, Server};

/// Time for the server to take a request sent on another connection first.
const SETTLE: Duration = Duration::from_millis(50);

const BLOCKING_COMMANDS: &[&[&str]] = &[
    &["BLPOP", "l", "0"],
    &["BRPOP", "l", "0"],
    &["BLMOVE", "l", "d", "LEFT", "RIGHT", "0"],
    &["BRPOPLPUSH", "l", "d", "0"],
    &["BLMPOP", "0", "1", "l", "LEFT"],
    &["BZPOPMIN", "z", "0"],
    &["BZPOPMAX", "z", "0"],
    &["BZMPOP", "0", "1", "z", "MIN"],
    &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
    &[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ],
];

fn client_id(conn: &mut RawConn) -> String {
    conn.send_command(&["CLIENT", "ID"]);
    let reply = conn.read_reply();
    String::from_utf8_lossy(&reply[1..reply.len() - 2]).into_owned()
}

/// The `calls=` and `failed_calls=` of every command INFO commandstats lists
/// (durations differ between servers), and INFO errorstats.
fn counters(admin: &mut RawConn) -> Vec<Vec<u8>> {
    admin.send_command(&["INFO", "commandstats"]);
    let stats = String::from_utf8_lossy(&admin.read_reply()).into_owned();
    let mut calls: Vec<String> = stats
        .lines()
        .filter(|line| line.starts_with("cmdstat_"))
        .map(|line| {
            let (name, fields) = line.split_once(':').unwrap_or((line, ""));
            let kept: Vec<&str> = fields.split(',').filter(|f| f.contains("calls=")).collect();
            format!("{name}:{}", kept.join(","))
        })
        .collect();
    calls.sort();
    admin.send_command(&["INFO", "errorstats"]);
    vec![calls.join("\n").into_bytes(), admin.read_reply()]
}

fn client_unblock_on_every_blocking_command(server: &Server) -> Vec<Vec<u8>> {
    let mut replies = Vec::new();
    let mut admin = server.connect();
    for setup in [
        &["XADD", "s", "1-1", "f", "v"][..],
        &["XGROUP", "CREATE", "s", "g", "$"],
        &["CONFIG", "RESETSTAT"],
    ] {
        admin.send_command(setup);
        replies.push(admin.read_reply());
    }
    for protocol in ["2", "3"] {
        for reason in [Some("TIMEOUT"), Some("ERROR"), Some("error"), None] {
            for command in BLOCKING_COMMANDS {
                let mut waiter = server.connect();
                waiter.send_command(&["HELLO", protocol]);
                let _ = waiter.read_reply();
                let id = client_id(&mut waiter);
                waiter.send_command(command);
                waiter.send_command(&["PING"]);
                thread::sleep(SETTLE);
                let mut unblock = vec!["CLIENT", "UNBLOCK", id.as_str()];
                unblock.extend(reason);
                admin.send_command(&unblock);
                replies.push(admin.read_reply());
                replies.push(waiter.read_reply());
                replies.push(waiter.read_reply());
                // A client no longer blocked is not unblocked again.
                admin.send_command(&unblock);
                replies.push(admin.read_reply());
            }
        }
    }
    replies.extend(counters(&mut admin));
    replies
}

#[test]
fn client_unblock_answers_every_blocking_command_as_redis_does() {
    let redis = client_unblock_on_every_blocking_command(&Server::start_redis(&[]));
    let ember = client_unblock_on_every_blocking_command(&Server::start_ember(&[]));
    assert_same(&redis, &ember);
}

/// A group reader whose stream goes gets -UNBLOCKED, a reader whose group goes
/// -NOGROUP, a BLMOVE served into a destination of the wrong type -WRONGTYPE: each
/// counts as a failed call of its command and in errorstats, as in Redis.
fn blocked_calls_ending_in_errors(server: &Server) -> Vec<Vec<u8>> {
    let mut replies = Vec::new();
    let mut admin = server.connect();
    let mut waiter = server.connect();
    let run = |admin: &mut RawConn, args: &[&str]| {
        admin.send_command(args);
        admin.read_reply()
    };
    replies.push(run(&mut admin, &["CONFIG", "RESETSTAT"]));
    for (setup, blocked, action) in [
        (
            &[&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"][..]][..],
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                "0",
                "STREAMS",
                "s",
                ">",
            ][..],
            &["DEL", "s"][..],
        ),
        (
            &[&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"][..]],
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                "0",
                "STREAMS",
                "s",
                ">",
            ],
            &["XGROUP", "DESTROY", "s", "g"],
        ),
        (
            &[&["SET", "d", "x"][..]],
            &["BLMOVE", "l", "d", "LEFT", "RIGHT", "0"],
            &["RPUSH", "l", "a"],
        ),
        (&[&["DEL", "l"][..]], &["BLPOP", "l", "0.05"], &["PING"]),
    ] {
        for args in setup {
            replies.push(run(&mut admin, args));
        }
        waiter.send_command(blocked);
        thread::sleep(SETTLE);
        replies.push(run(&mut admin, action));
        replies.push(waiter.read_reply());
    }
    replies.extend(counters(&mut admin));
    replies
}

#[test]
fn blocked_calls_ending_in_errors_count_as_failed_calls_as_in_redis() {
    let redis = blocked_calls_ending_in_errors(&Server::start_redis(&[]));
    let ember = blocked_calls_ending_in_errors(&Server::start_ember(&[]));
    assert_same(&redis, &ember);
}

fn assert_same(redis: &[Vec<u8>], ember: &[Vec<u8>]) {
    let show = |replies: &[Vec<u8>]| -> Vec<String> {
        replies
            .iter()
            .map(|r| String::from_utf8_lossy(r).into_owned())
            .collect()
    };
    assert_eq!(show(ember), show(redis));
}
