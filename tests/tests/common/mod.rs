//! What several end-to-end test files share: a command helper for the `redis`
//! crate and one dataset of every collection type on both sides of its encoding
//! thresholds.
#![allow(dead_code)] // each test file uses its own subset

/// Runs one command, panicking with its name on an error reply.
pub fn cmd(con: &mut redis::Connection, args: &[&[u8]]) -> redis::Value {
    let mut c = redis::cmd(std::str::from_utf8(args[0]).expect("ascii command"));
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
        .unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(args[0])))
}

/// Bytes LZF cannot compress (xorshift noise).
pub fn incompressible(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Lists, hashes, sets and sorted sets on both sides of Redis's default encoding
/// thresholds (listpack/quicklist nodes, listpack/hashtable, intset widths and
/// hashtable, listpack/skiplist), with binary, long and special-score members.
pub fn fill_collections(con: &mut redis::Connection) {
    cmd(
        con,
        &[b"RPUSH", b"l:small", b"a", b"1", b"-2", b"12345678901", b""],
    );
    for i in 0..3000 {
        let item = format!("element-{i}-{}", "x".repeat(i % 40));
        cmd(con, &[b"RPUSH", b"l:nodes", item.as_bytes()]);
    }
    cmd(con, &[b"RPUSH", b"l:huge", &b"z".repeat(100_000), b"tail"]);
    cmd(
        con,
        &[
            b"HSET", b"h:small", b"f1", b"v1", b"n", b"42", b"neg", b"-7",
        ],
    );
    for i in 0..600 {
        let f = format!("field{i}");
        cmd(
            con,
            &[b"HSET", b"h:table", f.as_bytes(), i.to_string().as_bytes()],
        );
    }
    cmd(con, &[b"HSET", b"h:long", b"f", &b"v".repeat(100)]);
    cmd(con, &[b"SADD", b"set:int16", b"1", b"2", b"-3"]);
    cmd(
        con,
        &[
            b"SADD",
            b"set:int64",
            b"1",
            b"5000000000",
            b"-9000000000000",
        ],
    );
    cmd(con, &[b"SADD", b"set:strings", b"a", b"b", b"1"]);
    for i in 0..700 {
        cmd(con, &[b"SADD", b"set:bigint", i.to_string().as_bytes()]);
    }
    cmd(
        con,
        &[
            b"ZADD", b"z:small", b"1", b"one", b"2.5", b"two", b"-inf", b"low",
        ],
    );
    cmd(
        con,
        &[
            b"ZADD", b"z:small", b"inf", b"high", b"0.1", b"tenth", b"1e300", b"huge",
        ],
    );
    for i in 0..200 {
        let score = format!("{}.25", i * 3);
        let member = format!("m{i}");
        cmd(
            con,
            &[b"ZADD", b"z:skip", score.as_bytes(), member.as_bytes()],
        );
    }
    cmd(con, &[b"ZADD", b"z:long", b"3", &b"m".repeat(80)]);
}
