//! Corrupt stream DUMP payloads: random byte changes and truncations of a real
//! stream payload (with a valid footer, so they reach the decoder) are either refused
//! or load into a stream that every stream command can then use without panicking.

mod support;

use ember_core::rdb::crc64;
use ember_core::{Config, Node};
use proptest::prelude::*;
use support::{call, connect, Reply, START_MS};

/// A stream with two blocks, a deleted entry, a group with two consumers' PELs.
const BUILD: &[&[&str]] = &[
    &["CONFIG", "SET", "stream-node-max-entries", "2"],
    &["XADD", "s", "1-1", "f", "1", "g", "a"],
    &["XADD", "s", "1-2", "f", "2", "g", "b"],
    &["XADD", "s", "2-0", "other", "300"],
    &["XDEL", "s", "1-2"],
    &["XGROUP", "CREATE", "s", "grp", "0"],
    &[
        "XREADGROUP",
        "GROUP",
        "grp",
        "alice",
        "COUNT",
        "1",
        "STREAMS",
        "s",
        ">",
    ],
    &["XREADGROUP", "GROUP", "grp", "bob", "STREAMS", "s", ">"],
];

/// Commands a loaded stream must survive.
const USE: &[&[&str]] = &[
    &["XRANGE", "r", "-", "+"],
    &["XREVRANGE", "r", "+", "-", "COUNT", "2"],
    &["XLEN", "r"],
    &["XINFO", "STREAM", "r", "FULL"],
    &["XINFO", "STREAM", "r"],
    &["XINFO", "GROUPS", "r"],
    &["XINFO", "CONSUMERS", "r", "grp"],
    &["XPENDING", "r", "grp"],
    &["XPENDING", "r", "grp", "-", "+", "10"],
    &["XREADGROUP", "GROUP", "grp", "carol", "STREAMS", "r", "0"],
    &["XREADGROUP", "GROUP", "grp", "carol", "STREAMS", "r", ">"],
    &["XAUTOCLAIM", "r", "grp", "dave", "0", "0"],
    &["XCLAIM", "r", "grp", "erin", "0", "1-1", "2-0"],
    &["XACK", "r", "grp", "1-1"],
    &["XADD", "r", "*", "f", "v"],
    &["XADD", "r", "MAXLEN", "~", "1", "*", "f", "v"],
    &["XDEL", "r", "2-0", "1-1"],
    &["XTRIM", "r", "MINID", "3"],
    &["XTRIM", "r", "MAXLEN", "0"],
    &["XSETID", "r", "18446744073709551615-18446744073709551615"],
    &["XADD", "r", "*", "f", "v"],
    &["DEBUG", "DIGEST-VALUE", "r"],
    &["DUMP", "r"],
];

fn node() -> Node {
    let config = Config {
        enable_debug_command: ember_core::config::ProtectedAction::Yes,
        ..Config::default()
    };
    let mut node = Node::new(config, [3; 32], START_MS);
    connect(&mut node, START_MS, 1);
    node
}

fn payload() -> Vec<u8> {
    let mut n = node();
    for args in BUILD {
        call(&mut n, START_MS, 1, args);
    }
    match call(&mut n, START_MS, 1, &["DUMP", "s"]) {
        Reply::Bulk(Some(p)) => p,
        other => panic!("DUMP: {other:?}"),
    }
}

/// `body` (type byte and value) with a fresh version and CRC64 footer.
fn with_footer(body: &[u8], version: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(version);
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn restore_and_use(bytes: &[u8]) {
    let mut n = node();
    let restored = call(&mut n, START_MS, 1, &[&b"RESTORE"[..], b"r", b"0", bytes]);
    if restored == Reply::Status("OK".into()) {
        for args in USE {
            call(&mut n, START_MS, 1, args);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn corrupt_stream_payloads_are_refused_or_safe_to_use(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let good = payload();
        let (body, footer) = good.split_at(good.len() - 10);
        let mut body = body.to_vec();
        for (at, byte) in edits {
            let i = at.index(body.len());
            body[i] = byte;
        }
        if let Some(cut) = cut {
            body.truncate(cut.index(body.len()).max(1));
        }
        restore_and_use(&with_footer(&body, &footer[..2]));
    }
}

#[test]
fn the_uncorrupted_payload_restores_and_serves_every_command() {
    let good = payload();
    let mut n = node();
    assert_eq!(
        call(&mut n, START_MS, 1, &[&b"RESTORE"[..], b"r", b"0", &good]),
        Reply::Status("OK".into())
    );
    // Up to XSETID to the last ID, after which XADD rightly refuses.
    for args in USE.iter().take_while(|a| a[0] != "XSETID") {
        let reply = call(&mut n, START_MS, 1, args);
        assert!(!matches!(reply, Reply::Error(_)), "{args:?}: {reply:?}");
    }
}
