//! Output and query buffer limits for ordinary clients, run against redis-server
//! and ember-server alike: a client that pipelines big replies and never reads is
//! disconnected at `client-output-buffer-limit normal` (hard at once, soft after
//! its seconds); a client that must authenticate and lets its errors pile up is
//! disconnected (CVE-2025-21605); a query buffer past `client-query-buffer-limit`
//! closes the connection. Each test owns its servers. Exact byte counts differ with
//! socket buffers, so the tests compare outcomes: disconnected or not, what the
//! client got, what the server still serves.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use ember_tests::{RawConn, Server, ServerKind};

/// Elements in the list each LRANGE returns, and their size: about 107KB a reply.
const LIST_LEN: usize = 1000;
const ELEMENT_BYTES: usize = 100;
/// LRANGEs per write: one batch stays under the 1mb limits used here.
const LRANGES_PER_WRITE: usize = 5;
/// Writes the slow reader makes at most (about 500MB of replies).
const WRITES_MAX: usize = 1000;

fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    out
}

fn cmd(conn: &mut RawConn, args: &[&str]) -> Vec<u8> {
    conn.send_command(args);
    conn.read_reply()
}

fn fill_big_list(server: &Server) {
    let mut conn = server.connect();
    let element = "x".repeat(ELEMENT_BYTES);
    for _ in 0..LIST_LEN / 100 {
        let mut args = vec!["RPUSH", "big"];
        args.extend(std::iter::repeat_n(element.as_str(), 100));
        conn.send_command(&args);
        let _ = conn.read_reply();
    }
    assert_eq!(
        cmd(&mut conn, &["LLEN", "big"]),
        format!(":{LIST_LEN}\r\n").into_bytes()
    );
}

/// How a client that sends LRANGEs and never reads ended.
#[derive(Debug)]
struct SlowReader {
    /// The server closed the connection while it was still sending.
    closed_while_sending: bool,
    /// Bytes it could read afterwards, and whether the connection was closed.
    received: usize,
    closed: bool,
}

/// Sends `LRANGE big 0 -1` in small pipelines for up to `sending_for`, never
/// reading, then reads what there is.
fn slow_reader(server: &Server, sending_for: Duration) -> SlowReader {
    let mut stream = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
    stream
        .set_write_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let batch = encode(&["LRANGE", "big", "0", "-1"]).repeat(LRANGES_PER_WRITE);
    let started = Instant::now();
    let mut closed_while_sending = false;
    for _ in 0..WRITES_MAX {
        if started.elapsed() > sending_for {
            break;
        }
        match stream.write_all(&batch) {
            Ok(()) => thread::sleep(Duration::from_millis(20)),
            // A full socket: the server holds the client's input back.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                thread::sleep(Duration::from_millis(20))
            }
            Err(_) => {
                closed_while_sending = true;
                break;
            }
        }
    }
    let (received, closed) = drain(&mut stream);
    SlowReader {
        closed_while_sending,
        received,
        closed,
    }
}

/// Reads until the server closes or stays silent for a second.
fn drain(stream: &mut TcpStream) -> (usize, bool) {
    stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .expect("timeout");
    let mut buf = vec![0u8; 1 << 20];
    let mut received = 0;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (received, true),
            Ok(n) => received += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (received, false)
            }
            Err(_) => return (received, true),
        }
    }
}

fn connected_clients(conn: &mut RawConn) -> String {
    let info = String::from_utf8_lossy(&cmd(conn, &["INFO", "clients"])).into_owned();
    info.lines()
        .find(|l| l.starts_with("connected_clients:"))
        .unwrap_or_default()
        .to_owned()
}

fn hard_limit_disconnects_a_client_that_never_reads(kind: ServerKind) {
    let server = Server::start(kind, &["--client-output-buffer-limit", "normal 1mb 0 0"]);
    fill_big_list(&server);
    let outcome = slow_reader(&server, Duration::from_secs(20));
    let name = kind.name();
    assert!(outcome.closed, "{name}: {outcome:?}");
    assert!(outcome.closed_while_sending, "{name}: {outcome:?}");
    // What the sockets held before the limit, far less than was asked for.
    assert!(outcome.received < 64 << 20, "{name}: {outcome:?}");
    let mut admin = server.connect();
    assert_eq!(
        connected_clients(&mut admin),
        "connected_clients:1",
        "{name}"
    );
    assert_eq!(cmd(&mut admin, &["LLEN", "big"]), b":1000\r\n", "{name}");
}

#[test]
fn redis_disconnects_a_client_that_never_reads_at_the_normal_hard_limit() {
    hard_limit_disconnects_a_client_that_never_reads(ServerKind::Redis);
}

#[test]
fn ember_disconnects_a_client_that_never_reads_at_the_normal_hard_limit() {
    hard_limit_disconnects_a_client_that_never_reads(ServerKind::Ember);
    let server = Server::start_ember(&["--client-output-buffer-limit", "normal 1mb 0 0"]);
    fill_big_list(&server);
    let _ = slow_reader(&server, Duration::from_secs(20));
    let log = server.log_tail();
    assert!(
        log.contains("scheduled to be closed ASAP for overcoming of output buffer limits."),
        "{log}"
    );
}

/// One reply bigger than the hard limit ends the client at once, even one that
/// reads: Redis builds the whole reply before writing any of it.
fn one_reply_over_the_hard_limit(kind: ServerKind) -> Vec<u8> {
    let server = Server::start(kind, &["--client-output-buffer-limit", "normal 64kb 0 0"]);
    fill_big_list(&server);
    let mut conn = server.connect();
    conn.send_command(&["LRANGE", "big", "0", "9"]);
    let small = conn.read_reply();
    conn.send_command(&["LRANGE", "big", "0", "-1"]);
    let mut replies = small;
    replies.extend_from_slice(&conn.read_until_close());
    replies
}

#[test]
fn one_reply_over_the_hard_limit_disconnects_as_in_redis() {
    let redis = one_reply_over_the_hard_limit(ServerKind::Redis);
    let ember = one_reply_over_the_hard_limit(ServerKind::Ember);
    assert_eq!(ember, redis);
    assert!(redis.starts_with(b"*10\r\n"));
}

fn soft_limit_disconnects_after_its_seconds(kind: ServerKind) {
    let server = Server::start(kind, &["--client-output-buffer-limit", "normal 0 512kb 2"]);
    fill_big_list(&server);
    let started = Instant::now();
    let outcome = slow_reader(&server, Duration::from_secs(15));
    let name = kind.name();
    assert!(outcome.closed, "{name}: {outcome:?}");
    assert!(
        started.elapsed() > Duration::from_secs(2),
        "{name}: closed before the soft limit's seconds"
    );
    let mut admin = server.connect();
    assert_eq!(
        connected_clients(&mut admin),
        "connected_clients:1",
        "{name}"
    );
}

#[test]
fn redis_disconnects_a_client_over_the_soft_limit_for_its_seconds() {
    soft_limit_disconnects_after_its_seconds(ServerKind::Redis);
}

#[test]
fn ember_disconnects_a_client_over_the_soft_limit_for_its_seconds() {
    soft_limit_disconnects_after_its_seconds(ServerKind::Ember);
}

/// With no normal limit (the default) neither server disconnects a client that
/// does not read; Ember holds its input back instead of buffering its replies.
#[test]
fn without_a_normal_limit_a_client_that_never_reads_stays_connected() {
    let server = Server::start_ember(&[]);
    fill_big_list(&server);
    let outcome = slow_reader(&server, Duration::from_secs(3));
    assert!(!outcome.closed_while_sending, "{outcome:?}");
    assert!(!outcome.closed, "{outcome:?}");
    let mut admin = server.connect();
    assert_eq!(cmd(&mut admin, &["LLEN", "big"]), b":1000\r\n");
}

/// With `requirepass` set, an unauthenticated client's -NOAUTH errors may not
/// overflow the 16KB static reply buffer: 5000 pipelined PINGs (170KB of errors)
/// end the connection before any is written, 400 (13.6KB) are all answered.
fn unauthenticated_errors_piling_up(kind: ServerKind) -> Vec<(usize, bool)> {
    let server = Server::start(kind, &["--requirepass", "pw"]);
    let mut outcomes = Vec::new();
    for pings in [400, 5000] {
        let mut stream = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
        stream
            .write_all(&b"PING\r\n".repeat(pings))
            .expect("pipeline");
        thread::sleep(Duration::from_millis(200));
        outcomes.push(drain(&mut stream));
    }
    let mut admin = server.connect();
    assert_eq!(cmd(&mut admin, &["AUTH", "pw"]), b"+OK\r\n");
    assert_eq!(connected_clients(&mut admin), "connected_clients:1");
    outcomes
}

#[test]
fn unauthenticated_clients_whose_errors_pile_up_are_disconnected_as_in_redis() {
    let redis = unauthenticated_errors_piling_up(ServerKind::Redis);
    let ember = unauthenticated_errors_piling_up(ServerKind::Ember);
    assert_eq!(ember, redis);
    assert_eq!(redis, [(400 * 34, false), (0, true)]);
}

/// A request that grows the query buffer past `client-query-buffer-limit` closes
/// the connection before it runs, for a blocked client's pipelined input too.
fn query_buffer_limit(kind: ServerKind) -> Vec<Vec<u8>> {
    let server = Server::start(kind, &["--client-query-buffer-limit", "1mb"]);
    let mut replies = Vec::new();
    let mut big = server.connect();
    replies.push(cmd(&mut big, &["PING"]));
    let mut request = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n".to_vec();
    request.extend(std::iter::repeat_n(b'y', 1_200_000));
    let _ = big.try_send_raw(&request);
    replies.push(big.read_until_close());
    let mut blocked = server.connect();
    blocked.send_command(&["BLPOP", "nothing", "0"]);
    thread::sleep(Duration::from_millis(50));
    let pipelined = encode(&["SET", "k", &"z".repeat(10_000)]).repeat(150);
    let _ = blocked.try_send_raw(&pipelined);
    replies.push(blocked.read_until_close());
    let mut admin = server.connect();
    replies.push(cmd(&mut admin, &["EXISTS", "k"]));
    replies.push(connected_clients(&mut admin).into_bytes());
    replies
}

#[test]
fn the_query_buffer_limit_closes_the_connection_as_in_redis() {
    let redis = query_buffer_limit(ServerKind::Redis);
    let ember = query_buffer_limit(ServerKind::Ember);
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
    assert_eq!(redis[1], b"");
    let server = Server::start_ember(&["--client-query-buffer-limit", "1mb"]);
    let mut conn = server.connect();
    let _ = conn.try_send_raw(b"*1\r\n$2000000\r\n");
    let _ = conn.try_send_raw(&vec![b'q'; 1_100_000]);
    let _ = conn.read_until_close();
    let log = server.log_tail();
    assert!(
        log.contains("Closing client that reached max query buffer length: id=")
            && log.contains("(qbuf initial bytes: \"*1\\r\\n$2000000\\r\\nqqqq"),
        "{log}"
    );
}
