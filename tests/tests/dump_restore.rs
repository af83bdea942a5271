//! DUMP payloads crossing between redis-server 7.0 and Ember: a payload Redis
//! writes RESTOREs into Ember with the same contents and encoding, Ember DUMPs it
//! back (byte for byte the same where Redis's layout does not follow hash-table
//! order), and Redis RESTOREs Ember's payload with the same contents again.

mod common;

use ember_tests::Server;

use common::{cmd, incompressible};

fn connect(server: &Server) -> redis::Connection {
    redis::Client::open(server.url())
        .expect("client")
        .get_connection()
        .expect("connect")
}

fn bytes_list(v: redis::Value) -> Vec<Vec<u8>> {
    redis::from_redis_value(&v).expect("array of bulk strings")
}

fn text(v: redis::Value) -> String {
    redis::from_redis_value(&v).expect("text")
}

/// A key's type, encoding and contents as replies show them (hash fields and set
/// members sorted, since their order follows each server's hash tables).
fn view(con: &mut redis::Connection, key: &[u8]) -> (String, String, Vec<Vec<u8>>) {
    let kind = text(cmd(con, &[b"TYPE", key]));
    let encoding = text(cmd(con, &[b"OBJECT", b"ENCODING", key]));
    let contents = match kind.as_str() {
        "string" => vec![redis::from_redis_value(&cmd(con, &[b"GET", key])).unwrap()],
        "list" => bytes_list(cmd(con, &[b"LRANGE", key, b"0", b"-1"])),
        "hash" => {
            let flat = bytes_list(cmd(con, &[b"HGETALL", key]));
            let mut pairs: Vec<Vec<u8>> = flat.chunks(2).map(|p| p.concat()).collect();
            pairs.sort();
            pairs
        }
        "set" => {
            let mut m = bytes_list(cmd(con, &[b"SMEMBERS", key]));
            m.sort();
            m
        }
        "zset" => bytes_list(cmd(con, &[b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"])),
        other => panic!("unexpected type {other}"),
    };
    (kind, encoding, contents)
}

/// Text that LZF compresses part of: words from a small vocabulary.
fn wordy(n: usize, seed: u64) -> Vec<u8> {
    const WORDS: [&[u8]; 8] = [
        b"alpha ", b"beta ", b"gamma ", b"redis ", b"ember ", b"0", b"\n", b"xyz",
    ];
    let noise = incompressible(n, seed);
    let mut out = Vec::new();
    for b in noise {
        if out.len() >= n {
            break;
        }
        out.extend_from_slice(WORDS[usize::from(b) % WORDS.len()]);
    }
    out.truncate(n);
    out
}

/// The same commands on either server: every type on both sides of its encoding
/// thresholds, strings of every size class, and a few keys with a TTL.
fn fill(con: &mut redis::Connection) {
    let mut strings: Vec<(String, Vec<u8>)> = vec![
        ("s:int8".into(), b"12".to_vec()),
        ("s:int16".into(), b"-1234".to_vec()),
        ("s:int32".into(), b"123456789".to_vec()),
        ("s:int64".into(), b"-12345678901234".to_vec()),
        ("s:lead0".into(), b"007".to_vec()),
        ("s:empty".into(), b"".to_vec()),
        ("s:embstr".into(), b"hello world".to_vec()),
        ("s:20".into(), b"a".repeat(20)),
        ("s:21".into(), b"a".repeat(21)),
        ("s:raw".into(), b"r".repeat(45)),
        ("s:big".into(), b"abcdefgh".repeat(5000)),
        ("s:noise".into(), incompressible(3000, 7)),
        ("s:binary".into(), b"a\0b\r\n\xff".to_vec()),
    ];
    for (i, n) in [21usize, 24, 30, 64, 100, 300, 1000, 5000, 20_000, 70_000]
        .into_iter()
        .enumerate()
    {
        strings.push((format!("s:wordy{n}"), wordy(n, i as u64 + 1)));
    }
    for (k, v) in &strings {
        cmd(con, &[b"SET", k.as_bytes(), v]);
    }
    cmd(con, &[b"INCRBYFLOAT", b"s:float", b"2.5"]);
    common::fill_collections(con);
    cmd(con, &[b"PEXPIRE", b"s:embstr", b"100000000"]);
    cmd(con, &[b"PEXPIRE", b"l:small", b"100000000"]);
}

/// Encodings whose DUMP follows hash-table order, so only contents compare.
fn order_depends_on_hashing(encoding: &str) -> bool {
    encoding == "hashtable"
}

fn dump(con: &mut redis::Connection, key: &[u8]) -> Vec<u8> {
    redis::from_redis_value(&cmd(con, &[b"DUMP", key])).expect("a payload")
}

fn restore(con: &mut redis::Connection, key: &[u8], payload: &[u8]) {
    let reply = text(cmd(con, &[b"RESTORE", key, b"0", payload, b"REPLACE"]));
    assert_eq!(reply, "OK");
}

/// DUMP `key` on `from`, RESTORE it as `key` on `to`, check both views agree;
/// returns the payload.
fn carry(from: &mut redis::Connection, to: &mut redis::Connection, key: &[u8]) -> Vec<u8> {
    let payload = dump(from, key);
    restore(to, key, &payload);
    let name = String::from_utf8_lossy(key);
    assert_eq!(view(from, key), view(to, key), "{name}");
    payload
}

#[test]
fn redis_payloads_restore_into_ember_and_back_unchanged() {
    let redis_server = Server::start_redis(&[]);
    let ember_server = Server::start_ember(&[]);
    let (mut redis, mut ember) = (connect(&redis_server), connect(&ember_server));
    fill(&mut redis);
    let keys = bytes_list(cmd(&mut redis, &[b"KEYS", b"*"]));
    assert!(keys.len() > 30);
    for key in &keys {
        let name = String::from_utf8_lossy(key).into_owned();
        let from_redis = carry(&mut redis, &mut ember, key);
        let (_, encoding, _) = view(&mut ember, key);
        let from_ember = carry(&mut ember, &mut redis, key);
        if !order_depends_on_hashing(&encoding) {
            assert!(
                from_ember == from_redis,
                "{name}: Ember's DUMP differs from Redis's"
            );
        }
    }
}

#[test]
fn ember_payloads_of_values_built_by_commands_restore_into_redis() {
    let redis_server = Server::start_redis(&[]);
    let ember_server = Server::start_ember(&[]);
    let (mut redis, mut ember) = (connect(&redis_server), connect(&ember_server));
    fill(&mut ember);
    fill(&mut redis);
    let keys = bytes_list(cmd(&mut ember, &[b"KEYS", b"*"]));
    for key in &keys {
        let name = String::from_utf8_lossy(key).into_owned();
        let ours = dump(&mut ember, key);
        let theirs = dump(&mut redis, key);
        let (_, encoding, _) = view(&mut redis, key);
        if !order_depends_on_hashing(&encoding) {
            assert!(ours == theirs, "{name}: Ember's DUMP differs from Redis's");
        }
        let mut copy = b"copy:".to_vec();
        copy.extend_from_slice(key);
        restore(&mut redis, &copy, &ours);
        assert_eq!(view(&mut redis, &copy), view(&mut ember, key), "{name}");
    }
}

#[test]
fn payloads_follow_rdbcompression_on_both_servers() {
    let redis_server = Server::start_redis(&["--rdbcompression", "no"]);
    let ember_server = Server::start_ember(&["--rdbcompression", "no"]);
    let (mut redis, mut ember) = (connect(&redis_server), connect(&ember_server));
    for con in [&mut redis, &mut ember] {
        cmd(con, &[b"SET", b"text", &b"abcdefgh".repeat(100)]);
        cmd(con, &[b"RPUSH", b"list", &b"q".repeat(500), b"x"]);
    }
    for key in [&b"text"[..], b"list"] {
        let ours = dump(&mut ember, key);
        assert!(ours == dump(&mut redis, key));
        assert!(ours.len() > 500, "stored plain");
    }
}
