//! RDB interoperability with the real Redis 7.0: dumps Redis writes load into Ember's
//! decoder with the values Redis reports, and dumps Ember's encoder writes load into
//! Redis and pass `redis-check-rdb`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use ember_core::hash::HashKey;
use ember_core::rdb::{
    self, AuxInfo, KeyMeta, RdbContents, RdbValue, RdbWriter, SetEncoding, ZSetEncoding,
};
use ember_core::types::hash::HashLimits;
use ember_core::types::{Hash, List};
use ember_core::value::Value;
use ember_tests::Server;

/// A temp dir removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("ember-rdb-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

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

/// A value rendered the same way from Redis's replies and from Ember's decoder.
#[derive(Debug, PartialEq)]
enum View {
    String(Vec<u8>),
    List(Vec<Vec<u8>>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    Set(Vec<Vec<u8>>),
    /// (member, score) in rank order.
    ZSet(Vec<(Vec<u8>, f64)>),
}

fn redis_view(con: &mut redis::Connection, key: &[u8]) -> View {
    let kind: String = redis::from_redis_value(&cmd(con, &[b"TYPE", key])).expect("type");
    match kind.as_str() {
        "string" => View::String(redis::from_redis_value(&cmd(con, &[b"GET", key])).unwrap()),
        "list" => View::List(bytes_list(cmd(con, &[b"LRANGE", key, b"0", b"-1"]))),
        "hash" => {
            let flat = bytes_list(cmd(con, &[b"HGETALL", key]));
            let mut pairs: Vec<_> = flat
                .chunks(2)
                .map(|p| (p[0].clone(), p[1].clone()))
                .collect();
            pairs.sort();
            View::Hash(pairs)
        }
        "set" => {
            let mut m = bytes_list(cmd(con, &[b"SMEMBERS", key]));
            m.sort();
            View::Set(m)
        }
        "zset" => {
            let flat = bytes_list(cmd(con, &[b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"]));
            View::ZSet(
                flat.chunks(2)
                    .map(|p| (p[0].clone(), parse_score(&p[1])))
                    .collect(),
            )
        }
        other => panic!("unexpected type {other}"),
    }
}

fn parse_score(text: &[u8]) -> f64 {
    match text {
        b"inf" => f64::INFINITY,
        b"-inf" => f64::NEG_INFINITY,
        _ => std::str::from_utf8(text).unwrap().parse().unwrap(),
    }
}

fn ember_view(value: &RdbValue) -> View {
    match value {
        RdbValue::Value(Value::List(l)) => View::List(l.iter().map(|v| v.to_vec()).collect()),
        RdbValue::Value(Value::Hash(h)) => {
            let mut pairs: Vec<_> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
            pairs.sort();
            View::Hash(pairs)
        }
        RdbValue::Value(v) => {
            let mut scratch = [0u8; 20];
            View::String(v.as_string_bytes(&mut scratch).expect("a string").to_vec())
        }
        RdbValue::Set(m) => {
            let mut m = m.clone();
            m.sort();
            View::Set(m)
        }
        RdbValue::ZSet(pairs) => {
            let mut p = pairs.clone();
            p.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            View::ZSet(p)
        }
    }
}

/// Every key in every database of `contents` compared with what Redis reports; also
/// checks that Redis has no other keys and the same expire times.
fn assert_redis_matches(server: &Server, contents: &RdbContents) {
    let mut con = connect(server);
    let mut total = 0;
    for db in 0..16u64 {
        cmd(&mut con, &[b"SELECT", db.to_string().as_bytes()]);
        let size: usize = redis::from_redis_value(&cmd(&mut con, &[b"DBSIZE"])).unwrap();
        let entries = contents
            .dbs
            .iter()
            .filter(|d| d.index == db)
            .flat_map(|d| d.entries.iter());
        let mut n = 0;
        for entry in entries {
            n += 1;
            let key = String::from_utf8_lossy(&entry.key);
            assert_eq!(
                redis_view(&mut con, &entry.key),
                ember_view(&entry.value),
                "key {key}"
            );
            let pexpiretime: i64 =
                redis::from_redis_value(&cmd(&mut con, &[b"PEXPIRETIME", &entry.key])).unwrap();
            assert_eq!(
                entry.expire_ms.unwrap_or(-1),
                pexpiretime,
                "expire of {key}"
            );
        }
        assert_eq!(size, n, "db {db}: redis has {size} keys, ember loaded {n}");
        total += n;
    }
    assert_eq!(total, contents.key_count());
}

/// Strings of every size class and encoding, lists, hashes, sets and zsets on both
/// sides of their thresholds, an expire, and a second database.
fn fill_redis(con: &mut redis::Connection) {
    let strings: Vec<(&str, Vec<u8>)> = vec![
        ("s:int8", b"12".to_vec()),
        ("s:neg8", b"-128".to_vec()),
        ("s:int16", b"1234".to_vec()),
        ("s:int32", b"-123456789".to_vec()),
        ("s:int64", b"12345678901234".to_vec()),
        ("s:min", i64::MIN.to_string().into_bytes()),
        ("s:lead0", b"0123".to_vec()),
        ("s:empty", b"".to_vec()),
        ("s:short", b"hello".to_vec()),
        ("s:20", b"aaaaaaaaaaaaaaaaaaaa".to_vec()),
        ("s:21", b"aaaaaaaaaaaaaaaaaaaaa".to_vec()),
        ("s:binary", b"a\0b\r\n\xff".to_vec()),
        ("s:big", b"abcdefgh".repeat(5000)),
        ("s:noise", incompressible(3000, 7)),
    ];
    for (k, v) in &strings {
        cmd(con, &[b"SET", k.as_bytes(), v]);
    }
    common::fill_collections(con);
    cmd(con, &[b"PEXPIREAT", b"s:short", b"4102444800000"]);
    cmd(con, &[b"SELECT", b"3"]);
    cmd(con, &[b"SET", b"other-db", b"yes"]);
    cmd(con, &[b"SELECT", b"0"]);
}

fn save_and_read(server: &Server) -> Vec<u8> {
    let mut con = connect(server);
    let reply: String = redis::from_redis_value(&cmd(&mut con, &[b"SAVE"])).unwrap();
    assert_eq!(reply, "OK");
    fs::read(server.dir().join("dump.rdb")).expect("dump.rdb after SAVE")
}

#[test]
fn a_redis_dump_of_every_type_loads_with_the_values_redis_reports() {
    for compression in ["yes", "no"] {
        let server = Server::start_redis(&["--rdbcompression", compression]);
        fill_redis(&mut connect(&server));
        let bytes = save_and_read(&server);
        let contents = rdb::load(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(contents.aux_field(b"redis-ver"), Some(&b"7.0.15"[..]));
        assert_redis_matches(&server, &contents);
    }
}

#[test]
fn the_redis_test_assets_load_as_redis_loads_them() {
    let files = [
        "encodings.rdb",
        "hash-zipmap.rdb",
        "hash-ziplist.rdb",
        "zset-ziplist.rdb",
        "list-quicklist.rdb",
        "scriptbackup.rdb",
        "corrupt_empty_keys.rdb",
    ];
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/redis-rdb");
    for name in files {
        let bytes = fs::read(assets.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let contents = rdb::load(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let dir = TempDir::new();
        fs::write(dir.0.join("dump.rdb"), &bytes).unwrap();
        let d = dir.0.to_string_lossy().into_owned();
        let server = Server::start_redis(&["--dir", &d, "--dbfilename", "dump.rdb"]);
        assert_redis_matches(&server, &contents);
    }
}

fn hash_limits() -> HashLimits {
    HashLimits {
        entries_max: 128,
        value_bytes_max: 64,
        hasher: HashKey::new(1, 2),
    }
}

fn ember_values() -> Vec<(Vec<u8>, Value)> {
    let mut out: Vec<(Vec<u8>, Value)> = Vec::new();
    for s in [
        &b"7"[..],
        b"-300",
        b"70000",
        b"-2147483648",
        b"2147483648",
        b"0123",
        b"",
        b"text",
        b"twenty-one characters",
    ] {
        out.push((
            b"s:".iter().chain(s).copied().collect(),
            Value::from_bytes(s),
        ));
    }
    out.push((b"s:big".to_vec(), Value::from_bytes(&b"xyz".repeat(4000))));
    out.push((
        b"s:noise".to_vec(),
        Value::from_bytes(&incompressible(500, 3)),
    ));
    let mut small = List::new(-2);
    for v in [&b"a"[..], b"1", b"-99999", b"", b"hello world"] {
        small.push_back(v);
    }
    out.push((b"l:small".to_vec(), Value::List(Box::new(small))));
    let mut nodes = List::new(16);
    for i in 0..1000 {
        nodes.push_back(format!("item{i}").as_bytes());
    }
    out.push((b"l:nodes".to_vec(), Value::List(Box::new(nodes))));
    let mut lp = Hash::new();
    lp.set(b"f", b"v", &hash_limits());
    lp.set(b"n", b"12", &hash_limits());
    out.push((b"h:listpack".to_vec(), Value::Hash(Box::new(lp))));
    let mut table = Hash::new();
    for i in 0..300 {
        table.set(
            format!("f{i}").as_bytes(),
            &b"w".repeat(i % 70),
            &hash_limits(),
        );
    }
    assert!(!table.is_listpack());
    out.push((b"h:table".to_vec(), Value::Hash(Box::new(table))));
    out
}

fn ember_dump(compress: bool, checksum: bool) -> (Vec<u8>, Vec<(Vec<u8>, RdbValue)>) {
    let mut w = RdbWriter::new(compress);
    w.header();
    w.redis_aux(&AuxInfo {
        redis_ver: "7.0.15",
        ctime_secs: 1_700_000_000,
        used_mem: 1_000_000,
        repl: Some((0, "0123456789abcdef0123456789abcdef01234567", 0)),
        aof_base: false,
    });
    w.select_db(0);
    let values = ember_values();
    w.resize_db(values.len() as u64 + 4, 1);
    let mut out = w.take();
    for (i, (key, value)) in values.iter().enumerate() {
        let meta = KeyMeta {
            expire_ms: (i == 0).then_some(4_102_444_800_000),
            ..KeyMeta::default()
        };
        w.key_value(key, value, &meta).expect("writable");
    }
    let members: Vec<&[u8]> = vec![b"3", b"-1", b"70000"];
    w.key_set(
        b"set:int",
        &members,
        SetEncoding::Intset,
        &KeyMeta::default(),
    );
    let words: Vec<&[u8]> = vec![b"x", b"y", b"12"];
    w.key_set(
        b"set:table",
        &words,
        SetEncoding::Intset,
        &KeyMeta::default(),
    );
    let pairs: Vec<(&[u8], f64)> = vec![
        (b"a", -1.5),
        (b"b", 0.0),
        (b"c", 3.0),
        (b"d", f64::INFINITY),
    ];
    w.key_zset(b"z:lp", &pairs, ZSetEncoding::Listpack, &KeyMeta::default());
    w.key_zset(
        b"z:skip",
        &pairs,
        ZSetEncoding::Skiplist,
        &KeyMeta::default(),
    );
    out.extend(w.finish(checksum));
    let loaded = rdb::load(&out).unwrap_or_else(|e| panic!("ember reading its own dump: {e}"));
    let entries = loaded
        .dbs
        .into_iter()
        .flat_map(|d| d.entries)
        .map(|e| (e.key, e.value));
    (out, entries.collect())
}

fn check_rdb(path: &Path) -> String {
    let out = Command::new("redis-check-rdb")
        .arg(path)
        .output()
        .expect("redis-check-rdb must be installed (apt-get install redis-tools)");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn an_ember_dump_passes_redis_check_rdb_and_loads_into_redis() {
    for (compress, checksum) in [(true, true), (false, true), (true, false)] {
        let (bytes, written) = ember_dump(compress, checksum);
        let dir = TempDir::new();
        let path = dir.0.join("dump.rdb");
        fs::write(&path, &bytes).unwrap();
        let report = check_rdb(&path);
        assert!(
            report.contains("RDB looks OK"),
            "redis-check-rdb:\n{report}"
        );
        let d = dir.0.to_string_lossy().into_owned();
        let server = Server::start_redis(&["--dir", &d, "--dbfilename", "dump.rdb"]);
        let mut con = connect(&server);
        let size: usize = redis::from_redis_value(&cmd(&mut con, &[b"DBSIZE"])).unwrap();
        assert_eq!(size, written.len());
        for (key, value) in &written {
            let k = String::from_utf8_lossy(key);
            assert_eq!(redis_view(&mut con, key), ember_view(value), "key {k}");
        }
        let pexpiretime: i64 =
            redis::from_redis_value(&cmd(&mut con, &[b"PEXPIRETIME", &written[0].0])).unwrap();
        assert_eq!(pexpiretime, 4_102_444_800_000);
    }
}

/// Rewrites a loaded dump with Ember's writer: same aux fields, databases and keys in
/// file order.
fn rewrite(contents: &RdbContents, compress: bool) -> Vec<u8> {
    let mut w = RdbWriter::new(compress);
    w.header();
    for (k, v) in &contents.aux {
        w.aux(k, v);
    }
    for code in &contents.functions {
        w.function(code);
    }
    for db in &contents.dbs {
        w.select_db(db.index);
        if let Some((keys, expires)) = db.resize {
            w.resize_db(keys, expires);
        }
        for e in &db.entries {
            let meta = KeyMeta {
                expire_ms: e.expire_ms,
                idle_secs: e.idle_secs,
                freq: e.freq,
            };
            match &e.value {
                RdbValue::Value(v) => w.key_value(&e.key, v, &meta).expect("writable"),
                RdbValue::Set(m) => {
                    let m: Vec<&[u8]> = m.iter().map(Vec::as_slice).collect();
                    w.key_set(&e.key, &m, SetEncoding::Intset, &meta);
                }
                RdbValue::ZSet(p) => {
                    let View::ZSet(ranked) = ember_view(&e.value) else {
                        unreachable!()
                    };
                    let p2: Vec<(&[u8], f64)> =
                        ranked.iter().map(|(m, s)| (m.as_slice(), *s)).collect();
                    let enc = if p.len() > 128 {
                        ZSetEncoding::Skiplist
                    } else {
                        ZSetEncoding::Listpack
                    };
                    w.key_zset(&e.key, &p2, enc, &meta);
                }
            }
        }
    }
    w.finish(true)
}

#[test]
fn ember_rewrites_a_redis_dump_byte_for_byte() {
    // Everything whose layout is deterministic (no hash-table order), with and
    // without LZF (Ember's compressor makes liblzf's choices).
    for compression in ["no", "yes"] {
        rewrite_matches_redis(compression == "yes", compression);
    }
}

fn rewrite_matches_redis(compress: bool, compression: &str) {
    let server = Server::start_redis(&["--rdbcompression", compression]);
    let mut con = connect(&server);
    for (k, v) in [
        ("a", "1"),
        ("b", "-40000"),
        ("c", "hello"),
        ("d", "12345678901234"),
    ] {
        cmd(&mut con, &[b"SET", k.as_bytes(), v.as_bytes()]);
    }
    cmd(&mut con, &[b"SET", b"long", &b"q".repeat(20_000)]);
    cmd(
        &mut con,
        &[b"RPUSH", b"l", b"x", b"1", b"-2", b"3000000000"],
    );
    for i in 0..3000 {
        cmd(&mut con, &[b"RPUSH", b"nodes", format!("v{i}").as_bytes()]);
    }
    cmd(&mut con, &[b"HSET", b"h", b"f", b"v", b"n", b"5"]);
    cmd(&mut con, &[b"SADD", b"si", b"3", b"1", b"70000"]);
    cmd(
        &mut con,
        &[
            b"ZADD", b"z", b"1.5", b"a", b"2", b"b", b"-inf", b"c", b"1e20", b"d",
        ],
    );
    for i in 0..200 {
        let s = format!("{}.5", i);
        cmd(
            &mut con,
            &[b"ZADD", b"zs", s.as_bytes(), format!("m{i}").as_bytes()],
        );
    }
    cmd(&mut con, &[b"PEXPIREAT", b"c", b"4102444800000"]);
    let bytes = save_and_read(&server);
    let contents = rdb::load(&bytes).unwrap();
    let ours = rewrite(&contents, compress);
    if ours != bytes {
        let at = ours.iter().zip(&bytes).position(|(a, b)| a != b);
        panic!(
            "first difference at {at:?} (ours {} bytes, redis {})",
            ours.len(),
            bytes.len()
        );
    }
}

#[test]
fn dump_payloads_cross_between_redis_and_ember() {
    let server = Server::start_redis(&[]);
    let mut con = connect(&server);
    fill_redis(&mut con);
    let opts = rdb::LoadOptions::default();
    let keys = bytes_list(cmd(&mut con, &[b"KEYS", b"*"]));
    for key in &keys {
        let payload: Vec<u8> = redis::from_redis_value(&cmd(&mut con, &[b"DUMP", key])).unwrap();
        let value = rdb::restore_payload(&payload, &opts)
            .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(key)));
        assert_eq!(redis_view(&mut con, key), ember_view(&value));
    }
    for (key, value) in ember_values() {
        let payload = RdbWriter::dump_payload(&value, true).unwrap();
        let mut target = b"restored:".to_vec();
        target.extend_from_slice(&key);
        cmd(&mut con, &[b"RESTORE", &target, b"0", &payload]);
        let loaded = rdb::restore_payload(&payload, &opts).unwrap();
        assert_eq!(redis_view(&mut con, &target), ember_view(&loaded));
    }
}
