//! `client-output-buffer-limit pubsub`: a subscriber that stops reading is
//! disconnected once its unwritten output passes the hard limit, or stays past the
//! soft limit longer than its seconds, and memory never grows without bound. Each
//! scenario runs against redis-server and ember-server and must end the same way.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ember_tests::{Server, ServerKind};

/// Per message; the total sent is bounded by `SENT_BYTES_MAX`.
const PAYLOAD_BYTES: usize = 64 * 1024;
/// Enough to overflow the loopback socket buffers several times over.
const SENT_BYTES_MAX: usize = 256 * 1024 * 1024;

fn publisher(server: &Server) -> redis::Connection {
    redis::Client::open(server.url())
        .expect("client")
        .get_connection()
        .expect("connect")
}

/// A raw subscriber to `channel` that reads its confirmation and then nothing.
fn stalled_subscriber(server: &Server, channel: &str) -> TcpStream {
    let mut sub = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
    let request = format!(
        "*2\r\n$9\r\nSUBSCRIBE\r\n${}\r\n{channel}\r\n",
        channel.len()
    );
    sub.write_all(request.as_bytes()).expect("subscribe");
    let mut confirmation = [0u8; 64];
    let n = sub.read(&mut confirmation).expect("confirmation");
    assert!(confirmation[..n].starts_with(b"*3\r\n$9\r\nsubscribe\r\n"));
    sub
}

fn publish(con: &mut redis::Connection, channel: &str, payload: &[u8]) -> i64 {
    redis::cmd("PUBLISH")
        .arg(channel)
        .arg(payload)
        .query(con)
        .expect("publish")
}

fn numsub(con: &mut redis::Connection, channel: &str) -> i64 {
    let reply: (String, i64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(channel)
        .query(con)
        .expect("numsub");
    reply.1
}

/// Publishes until nobody receives the messages; returns the bytes it took.
fn publish_until_dropped(con: &mut redis::Connection, channel: &str) -> Option<usize> {
    let payload = vec![b'x'; PAYLOAD_BYTES];
    let mut sent = 0;
    while sent < SENT_BYTES_MAX {
        if publish(con, channel, &payload) == 0 {
            return Some(sent);
        }
        sent += PAYLOAD_BYTES;
    }
    None
}

/// Reads whatever the server managed to write, then expects the close.
fn assert_closed(mut sub: TcpStream) {
    sub.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = vec![0u8; 1 << 20];
    while Instant::now() < deadline {
        match sub.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
    panic!("the subscriber's connection stayed open");
}

fn hard_limit_disconnects_a_stalled_subscriber(kind: ServerKind) {
    let server = Server::start(kind, &["--client-output-buffer-limit", "pubsub 1mb 0 0"]);
    let sub = stalled_subscriber(&server, "flood");
    let mut con = publisher(&server);
    let sent = publish_until_dropped(&mut con, "flood");
    assert!(sent.is_some(), "{}: never disconnected", kind.name());
    assert_eq!(numsub(&mut con, "flood"), 0);
    assert_closed(sub);
}

fn soft_limit_disconnects_after_its_seconds(kind: ServerKind) {
    let server = Server::start(kind, &["--client-output-buffer-limit", "pubsub 0 1mb 4"]);
    let sub = stalled_subscriber(&server, "slow");
    let mut con = publisher(&server);
    let payload = vec![b'x'; PAYLOAD_BYTES];
    // Well past the soft limit beyond what the socket buffers hold...
    for _ in 0..(32 * 1024 * 1024 / PAYLOAD_BYTES) {
        assert_eq!(publish(&mut con, "slow", &payload), 1, "{}", kind.name());
    }
    // ...for longer than its four seconds: the next output disconnects it.
    std::thread::sleep(Duration::from_millis(5_000));
    let sent = publish_until_dropped(&mut con, "slow");
    assert!(
        sent.is_some_and(|s| s <= 2 * PAYLOAD_BYTES),
        "{}: {sent:?}",
        kind.name()
    );
    assert_eq!(numsub(&mut con, "slow"), 0);
    assert_closed(sub);
}

#[test]
fn redis_disconnects_a_subscriber_over_the_hard_limit() {
    hard_limit_disconnects_a_stalled_subscriber(ServerKind::Redis);
}

#[test]
fn ember_disconnects_a_subscriber_over_the_hard_limit() {
    hard_limit_disconnects_a_stalled_subscriber(ServerKind::Ember);
}

#[test]
fn redis_disconnects_a_subscriber_over_the_soft_limit_for_its_seconds() {
    soft_limit_disconnects_after_its_seconds(ServerKind::Redis);
}

#[test]
fn ember_disconnects_a_subscriber_over_the_soft_limit_for_its_seconds() {
    soft_limit_disconnects_after_its_seconds(ServerKind::Ember);
}
