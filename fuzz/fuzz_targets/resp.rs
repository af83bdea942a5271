//! Feeds arbitrary bytes to a node as one client's input, split at an arbitrary
//! point, and checks that the node never panics and that framing agrees with
//! itself: the same bytes framed whole and framed in two reads give the same replies.

#![no_main]

use bytes::Bytes;
use ember_core::resp::{frame, Limits};
use ember_core::{Config, Input, Node, Output};
use libfuzzer_sys::fuzz_target;

fn replies(data: &[u8], split: usize) -> Vec<u8> {
    let mut node = Node::new(Config::default(), [1; 32], 1_700_000_000_000);
    node.handle(
        1_700_000_000_000,
        Input::Accepted {
            conn: 1,
            peer: "127.0.0.1:1".into(),
            local: "127.0.0.1:6379".into(),
        },
    );
    let (a, b) = data.split_at(split.min(data.len()));
    let mut out = Vec::new();
    for part in [a, b] {
        node.handle(
            1_700_000_000_000,
            Input::Received {
                conn: 1,
                bytes: Bytes::copy_from_slice(part),
            },
        );
        while let Some(o) = node.poll_output() {
            if let Output::Send { bytes, .. } = o {
                out.extend_from_slice(&bytes);
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    // The framer alone, with both limit settings.
    for unauthenticated in [false, true] {
        let limits = Limits {
            bulk_bytes_max: 1 << 20,
            unauthenticated,
        };
        if let Ok(Some(framed)) = frame(data, limits) {
            assert!(framed.consumed() <= data.len());
            let _ = framed.into_args(&Bytes::copy_from_slice(data));
        }
    }
    // The whole node: splitting the input must not change the replies, except that
    // commands whose replies depend on time or identity are avoided by the fuzzer's
    // luck; compare only when the input has no such command names.
    let split = data.first().copied().unwrap_or(0) as usize;
    let whole = replies(data, data.len());
    let halves = replies(data, split);
    let lowered = data.to_ascii_lowercase();
    let volatile = [&b"time"[..], b"info", b"client", b"debug", b"randomkey", b"scan", b"lastsave", b"hello", b"command"];
    if !volatile.iter().any(|w| lowered.windows(w.len()).any(|x| x == *w)) {
        assert_eq!(whole, halves, "replies differ when the input is split at {split}");
    }
});
