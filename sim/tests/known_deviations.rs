//! Each known deviation in `ember_sim::known` is checked against the core directly, so
//! this test fails once the core is fixed: then delete the entry (the reference model
//! goes back to holding the core to Redis's behaviour).

use bytes::Bytes;
use ember_core::{Config, Input, Node, Output};

const T: u64 = 1_700_000_000_000;

fn call(node: &mut Node, now: u64, wire: &'static [u8]) -> Vec<u8> {
    node.handle(
        now,
        Input::Received {
            conn: 1,
            bytes: Bytes::from_static(wire),
        },
    );
    let mut out = Vec::new();
    while let Some(o) = node.poll_output() {
        if let Output::Send { bytes, .. } = o {
            out.extend_from_slice(&bytes);
        }
    }
    out
}

#[test]
fn core_still_expires_keys_at_their_deadline() {
    let mut node = Node::new(Config::default(), [1; 32], T);
    node.handle(
        T,
        Input::Accepted {
            conn: 1,
            peer: "10.1.0.1:4000".into(),
            local: "10.0.0.1:6379".into(),
        },
    );
    call(
        &mut node,
        T,
        b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nPX\r\n$3\r\n100\r\n",
    );
    let at_deadline = call(&mut node, T + 100, b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    // Redis 7.0 answers "$1\r\nv\r\n" here (the key lives until the clock is past it).
    let redis = b"$1\r\nv\r\n".to_vec();
    assert_eq!(
        at_deadline != redis,
        ember_sim::known::EXPIRES_AT_DEADLINE,
        "the core now {} at the deadline: update ember_sim::known",
        if at_deadline == redis {
            "keeps the key"
        } else {
            "drops the key"
        }
    );
}
