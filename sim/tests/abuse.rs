//! Every abusive input the workload draws (`ember_sim::abuse::ABUSE`), sent once to a
//! fresh node holding one key of each type, whatever the swarm's seeds happen to
//! draw: each request gets exactly one well-formed reply (a blocked one by its
//! timeout), and one that closes the connection gets at most one before the close.
//! Inputs that hang or crash a node wait in `ABUSE_UNTIL_FIXED` until their fixes
//! land; moving one into `ABUSE` makes this test run it.

use std::time::{Duration, Instant};

use bytes::Bytes;
use ember_core::{Config, Input, Node, Output};
use ember_sim::abuse::{requests, ABUSE};
use ember_sim::resp::{decode, encode_multibulk, Reply};
use ember_sim::workload::{Request, RequestKind};

const START_MS: u64 = 1_700_000_000_000;
const CONN: u64 = 1;
/// One key of each type the placeholders name (`{s}` is `s:0`, ...).
const DATASET: &[&[&str]] = &[
    &["SET", "s:0", "hello"],
    &["RPUSH", "l:0", "a", "b", "c"],
    &["HSET", "h:0", "m1", "1", "f", "v"],
    &["SADD", "t:0", "1", "2", "3"],
    &["ZADD", "z:0", "1", "a", "2", "b"],
    &["XADD", "x:0", "1-1", "f", "v"],
    &["XGROUP", "CREATE", "x:0", "g", "0"],
    &["XREADGROUP", "GROUP", "g", "c0", "STREAMS", "x:0", ">"],
];
/// Inputs slower than this against a fresh node are listed (the swarm pays for
/// them in every run that draws them).
const SLOW: Duration = Duration::from_millis(200);

/// What the node sent on the connection and whether it closed it.
struct Sent {
    bytes: Vec<u8>,
    closed: bool,
}

fn feed(node: &mut Node, now: u64, input: Input) -> Sent {
    node.handle(now, input);
    let mut sent = Sent {
        bytes: Vec::new(),
        closed: false,
    };
    while let Some(output) = node.poll_output() {
        match output {
            Output::Send { conn: CONN, bytes } => sent.bytes.extend_from_slice(&bytes),
            Output::Close { conn: CONN } | Output::Disconnect { conn: CONN } => sent.closed = true,
            _ => {}
        }
    }
    sent
}

fn replies(mut bytes: &[u8]) -> Vec<Reply> {
    let mut replies = Vec::new();
    while !bytes.is_empty() {
        match decode(bytes) {
            Ok(Some((reply, used))) => {
                replies.push(reply);
                bytes = &bytes[used..];
            }
            other => panic!(
                "not a whole reply: {other:?} in {:?}",
                String::from_utf8_lossy(bytes)
            ),
        }
    }
    replies
}

fn fresh_node() -> Node {
    let mut node = Node::new(Config::default(), [7; 32], START_MS);
    let accepted = Input::Accepted {
        conn: CONN,
        peer: "127.0.0.1:50000".into(),
        local: "127.0.0.1:6379".into(),
    };
    feed(&mut node, START_MS, accepted);
    for command in DATASET {
        let args: Vec<Vec<u8>> = command.iter().map(|a| a.as_bytes().to_vec()).collect();
        let bytes = Bytes::from(encode_multibulk(&args));
        let sent = feed(&mut node, START_MS, Input::Received { conn: CONN, bytes });
        let [reply] = &replies(&sent.bytes)[..] else {
            panic!("{command:?}: one reply");
        };
        assert!(!reply.is_error(), "{command:?}: {reply}");
    }
    node
}

/// Sends `request` and checks how it was answered; false once the node closed.
fn answer(node: &mut Node, now: &mut u64, request: &Request, name: &str) -> bool {
    let bytes = Bytes::from(request.wire.clone());
    let mut sent = feed(node, *now, Input::Received { conn: CONN, bytes });
    if let RequestKind::Blocking { timeout_ms } = request.kind {
        if sent.bytes.is_empty() {
            *now += timeout_ms + 1;
            sent = feed(node, *now, Input::Tick);
        }
    }
    let replies = replies(&sent.bytes);
    if request.kind.closes_connection() {
        assert!(sent.closed, "{name}: the connection stays open");
        assert!(
            replies.len() <= 1,
            "{name}: {} replies before the close",
            replies.len()
        );
        return false;
    }
    assert_eq!(
        replies.len(),
        1,
        "{name}: {replies:?} to {:?}",
        request.args
    );
    assert!(!sent.closed, "{name}: closed the connection");
    true
}

#[test]
fn every_abusive_input_the_workload_draws_gets_its_replies_from_a_fresh_node() {
    let mut slow = Vec::new();
    for abuse in ABUSE {
        let started = Instant::now();
        let mut node = fresh_node();
        let mut now = START_MS;
        for request in requests(abuse, 50, &mut |prefix| format!("{prefix}:0").into_bytes()) {
            if !answer(&mut node, &mut now, &request, abuse.name) {
                break;
            }
        }
        if started.elapsed() > SLOW {
            slow.push(format!("{} ({:?})", abuse.name, started.elapsed()));
        }
    }
    eprintln!("abusive inputs slower than {SLOW:?}: {slow:?}");
}
