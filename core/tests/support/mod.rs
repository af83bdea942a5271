//! What the model-based tests share: a RESP2 request encoder, a reply decoder, and
//! helpers that drive an `ember_core::Node` as clients would (bytes in, bytes out, no
//! sockets). Each test keeps its own commands, model and strategies.
//!
//! Use it from a file in `core/tests/` with `mod support;`:
//!
//! ```ignore
//! mod support;
//! use support::{call, connect, Reply, START_MS};
//!
//! let mut node = Node::new(Config::default(), [1; 32], START_MS);
//! connect(&mut node, START_MS, 1);
//! let reply = call(&mut node, START_MS, 1, &[&b"SET"[..], b"k", b"v"]);
//! assert_eq!(reply, Reply::Status("OK".into()));
//! ```
//!
//! Commands are slices of arguments (`&[Vec<u8>]`, `&[&[u8]]`, `&[&str]`...): anything
//! whose items are `AsRef<[u8]>`.

// Each test file compiles this module on its own and uses part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;

use bytes::Bytes;
use ember_core::{Input, Node, Output};

/// A fixed start for the virtual clock (2023-11-14T22:13:20Z), in Unix ms.
pub const START_MS: u64 = 1_700_000_000_000;

/// Redis's error for a command on a key holding another type.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// A decoded RESP2 reply. `Ord` lets tests sort replies whose order Redis leaves
/// open (HKEYS, SMEMBERS...) before comparing them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reply {
    /// `+...`
    Status(String),
    /// `-...`
    Error(String),
    /// `:n`
    Int(i64),
    /// `$n` with its bytes, or `None` for the null bulk `$-1`.
    Bulk(Option<Vec<u8>>),
    /// `*n` with its elements.
    Array(Vec<Reply>),
    /// The null array `*-1` (BLPOP timed out, LMPOP found nothing).
    NullArray,
}

/// A bulk-string reply holding `b`.
pub fn bulk(b: &[u8]) -> Reply {
    Reply::Bulk(Some(b.to_vec()))
}

/// An error reply with message `msg` (without the leading `-`).
pub fn err(msg: &str) -> Reply {
    Reply::Error(msg.to_owned())
}

/// Encodes one command as a RESP multibulk request.
pub fn encode<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Decodes the reply that starts at `*pos` in `buf` and moves `*pos` past it.
/// Panics on anything but a whole, well-formed RESP2 reply.
pub fn parse(buf: &[u8], pos: &mut usize) -> Reply {
    let line_end = buf[*pos..]
        .windows(2)
        .position(|w| w == b"\r\n")
        .expect("CRLF")
        + *pos;
    let line = std::str::from_utf8(&buf[*pos + 1..line_end])
        .expect("ascii header")
        .to_string();
    let kind = buf[*pos];
    *pos = line_end + 2;
    match kind {
        b'+' => Reply::Status(line),
        b'-' => Reply::Error(line),
        b':' => Reply::Int(line.parse().expect("int")),
        b'$' => {
            let len: i64 = line.parse().expect("bulk len");
            if len < 0 {
                return Reply::Bulk(None);
            }
            let data = buf[*pos..*pos + len as usize].to_vec();
            *pos += len as usize + 2;
            Reply::Bulk(Some(data))
        }
        b'*' => {
            let n: i64 = line.parse().expect("array len");
            if n < 0 {
                return Reply::NullArray;
            }
            Reply::Array((0..n).map(|_| parse(buf, pos)).collect())
        }
        other => panic!("unexpected reply type {}", other as char),
    }
}

/// Decodes every reply in `buf`, in order.
pub fn parse_all(buf: &[u8]) -> Vec<Reply> {
    let mut pos = 0;
    let mut replies = Vec::new();
    while pos < buf.len() {
        replies.push(parse(buf, &mut pos));
    }
    replies
}

/// Opens connection `conn` (peer `127.0.0.1:<conn>`).
pub fn connect(node: &mut Node, now: u64, conn: u64) {
    node.handle(
        now,
        Input::Accepted {
            conn,
            peer: format!("127.0.0.1:{conn}"),
            local: "127.0.0.1:6379".into(),
        },
    );
}

/// Sends one command on `conn`, without reading anything back.
pub fn send<A: AsRef<[u8]>>(node: &mut Node, now: u64, conn: u64, args: &[A]) {
    let bytes = Bytes::from(encode(args));
    node.handle(now, Input::Received { conn, bytes });
}

/// The replies of one step, by connection; connections sent nothing are absent.
pub type Replies = BTreeMap<u64, Vec<Reply>>;

/// Drains the node's outputs and decodes what each connection was sent. Outputs
/// other than `Send` (Close, Log...) are dropped.
pub fn replies(node: &mut Node) -> Replies {
    let mut raw: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    while let Some(o) = node.poll_output() {
        if let Output::Send { conn, bytes } = o {
            raw.entry(conn).or_default().extend_from_slice(&bytes);
        }
    }
    raw.into_iter()
        .map(|(conn, bytes)| (conn, parse_all(&bytes)))
        .collect()
}

/// Runs one command on `conn` and returns its reply, asserting that it is the only
/// thing the node sent, to any connection.
pub fn call<A: AsRef<[u8]>>(node: &mut Node, now: u64, conn: u64, args: &[A]) -> Reply {
    send(node, now, conn, args);
    let mut sent = replies(node);
    let mine = sent.remove(&conn).unwrap_or_default();
    assert!(sent.is_empty(), "replies to other connections: {sent:?}");
    let [reply] = <[Reply; 1]>::try_from(mine)
        .unwrap_or_else(|m| panic!("exactly one reply per command, got {m:?}"));
    reply
}

/// Redis's string2ll acceptance (the canonical decimal form of an i64 only),
/// written independently of the core's parser.
pub fn strict_i64(b: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(b).ok()?;
    let n: i64 = s.parse().ok()?;
    (n.to_string() == s).then_some(n)
}
