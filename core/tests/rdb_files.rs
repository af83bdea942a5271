//! Real Redis files (../shared/testdata/redis-rdb, from Redis's own test assets) load
//! with the contents Redis gives them; corrupt, truncated or bit-flipped files are
//! refused with an offset, never a panic.

use std::path::PathBuf;

use ember_core::rdb::{self, RdbContents, RdbErrorKind, RdbValue};
use ember_core::value::Value;

const VALID: [&str; 8] = [
    "encodings.rdb",
    "hash-zipmap.rdb",
    "hash-ziplist.rdb",
    "zset-ziplist.rdb",
    "list-quicklist.rdb",
    "scriptbackup.rdb",
    "rdb-preamble.aof",
    "corrupt_empty_keys.rdb",
];

fn testdata(name: &str) -> Vec<u8> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/testdata/redis-rdb"
    ));
    let path = dir.join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn load(name: &str) -> RdbContents {
    rdb::load(&testdata(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn value<'a>(c: &'a RdbContents, key: &str) -> &'a RdbValue {
    c.dbs
        .iter()
        .flat_map(|db| &db.entries)
        .find(|e| e.key == key.as_bytes())
        .map(|e| &e.value)
        .unwrap_or_else(|| panic!("no key {key}"))
}

fn string(v: &RdbValue) -> Vec<u8> {
    match v {
        RdbValue::Value(v) => v.as_string_bytes(&mut [0; 20]).expect("a string").to_vec(),
        other => panic!("not a string: {other:?}"),
    }
}

fn list(v: &RdbValue) -> Vec<Vec<u8>> {
    match v {
        RdbValue::Value(Value::List(l)) => l.iter().map(|x| x.to_vec()).collect(),
        other => panic!("not a list: {other:?}"),
    }
}

fn hash(v: &RdbValue) -> Vec<(Vec<u8>, Vec<u8>)> {
    match v {
        RdbValue::Value(Value::Hash(h)) => {
            let mut pairs: Vec<_> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
            pairs.sort();
            pairs
        }
        other => panic!("not a hash: {other:?}"),
    }
}

fn pairs(items: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    items
        .iter()
        .map(|(a, b)| (a.as_bytes().to_vec(), b.as_bytes().to_vec()))
        .collect()
}

#[test]
fn the_old_encodings_file_loads_every_key() {
    let c = load("encodings.rdb");
    assert_eq!(c.version, 4);
    assert_eq!(c.key_count(), 13);
    assert_eq!(string(value(&c, "number")), b"10");
    assert_eq!(string(value(&c, "string")), b"Hello World");
    assert!(string(value(&c, "compressible")).iter().all(|&b| b == b'a'));
    let zipped: Vec<&[u8]> = vec![b"1", b"2", b"3", b"a", b"b", b"c", b"100000", b"6000000000"];
    assert_eq!(list(value(&c, "list_zipped")), zipped);
    assert_eq!(list(value(&c, "list")).len(), 24);
    assert_eq!(
        hash(value(&c, "hash_zipped")),
        pairs(&[("a", "1"), ("b", "2"), ("c", "3")])
    );
    assert_eq!(
        value(&c, "set_zipped_3"),
        &RdbValue::Set(
            [
                "1000000000",
                "2000000000",
                "3000000000",
                "4000000000",
                "5000000000",
                "6000000000"
            ]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect()
        )
    );
    let RdbValue::ZSet(z) = value(&c, "zset_zipped") else {
        panic!("zset_zipped is not a zset");
    };
    assert_eq!(
        z,
        &vec![
            (b"a".to_vec(), 1.0),
            (b"b".to_vec(), 2.0),
            (b"c".to_vec(), 3.0)
        ]
    );
}

#[test]
fn zipmap_ziplist_and_quicklist_files_load() {
    let f1f2 = pairs(&[("f1", "v1"), ("f2", "v2")]);
    assert_eq!(hash(value(&load("hash-zipmap.rdb"), "hash")), f1f2);
    assert_eq!(hash(value(&load("hash-ziplist.rdb"), "hash")), f1f2);
    let z = load("zset-ziplist.rdb");
    assert_eq!(
        value(&z, "zset"),
        &RdbValue::ZSet(vec![(b"one".to_vec(), 1.0), (b"two".to_vec(), 2.0)])
    );
    let q = load("list-quicklist.rdb");
    assert_eq!(list(value(&q, "list")), vec![b"7".to_vec()]);
    assert_eq!(string(value(&q, "x")), b"7");
}

#[test]
fn a_lua_script_aux_field_is_kept() {
    let c = load("scriptbackup.rdb");
    assert_eq!(c.key_count(), 0);
    assert_eq!(
        c.aux_field(b"lua"),
        Some(&b"return redis.call('set', 'foo', 'bar')"[..])
    );
}

#[test]
fn an_aof_preamble_ends_where_the_commands_start() {
    let bytes = testdata("rdb-preamble.aof");
    let c = rdb::load(&bytes).unwrap();
    assert_eq!(c.aux_field(b"aof-preamble"), Some(&b"1"[..]));
    assert_eq!(string(value(&c, "k1")), b"v1");
    assert_eq!(string(value(&c, "k2")), b"v2");
    assert_eq!(bytes.get(c.end_offset), Some(&b'*'));
}

#[test]
fn empty_collections_are_skipped_as_redis_skips_them() {
    let c = load("corrupt_empty_keys.rdb");
    assert_eq!(c.key_count(), 0);
    assert_eq!(c.empty_keys_skipped, 9);
}

#[test]
fn a_corrupt_ziplist_is_refused_with_its_offset() {
    let err = rdb::load(&testdata("corrupt_ziplist.rdb")).unwrap_err();
    assert!(matches!(err.kind, RdbErrorKind::BadZiplist(_)), "{err}");
    assert!(err.offset > 9);
}

#[test]
fn every_truncation_of_every_file_is_an_error() {
    for name in VALID {
        let bytes = testdata(name);
        let end = rdb::load(&bytes).unwrap().end_offset;
        for n in 0..end {
            assert!(rdb::load(&bytes[..n]).is_err(), "{name} cut at {n}");
        }
    }
}

#[test]
fn bit_flips_never_panic_and_checksummed_files_notice_them() {
    for name in VALID {
        let bytes = testdata(name);
        let c = rdb::load(&bytes).unwrap();
        let end = c.end_offset;
        let checksummed = c.version >= 5 && bytes[end - 8..end] != [0; 8];
        for i in 9..end - 8 {
            for bit in [0x01, 0x80, 0x40] {
                let mut bad = bytes.clone();
                bad[i] ^= bit;
                let result = rdb::load(&bad);
                if checksummed && name != "rdb-preamble.aof" {
                    assert!(
                        result.is_err(),
                        "{name}: flip {bit:#x} at {i} went unnoticed"
                    );
                }
            }
        }
    }
}

#[test]
fn a_wrong_checksum_is_reported_and_a_zero_one_is_accepted() {
    let mut bytes = testdata("hash-ziplist.rdb");
    let end = bytes.len();
    bytes[end - 1] ^= 1;
    let err = rdb::load(&bytes).unwrap_err();
    assert!(matches!(err.kind, RdbErrorKind::ChecksumMismatch { .. }));
    assert_eq!(err.offset, end - 8);
    bytes[end - 8..].fill(0);
    assert!(rdb::load(&bytes).is_ok());
}
