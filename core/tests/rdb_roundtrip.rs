//! The writer's bytes: exact encodings where Redis's are known, and everything it
//! writes loads back to the same values.

use ember_core::hash::HashKey;
use ember_core::rdb::{
    self, crc64, KeyMeta, RdbErrorKind, RdbValue, RdbWriter, SetEncoding, ZSetEncoding,
};
use ember_core::types::hash::HashLimits;
use ember_core::types::{Hash, List};
use ember_core::value::Value;
use proptest::prelude::*;

fn limits() -> HashLimits {
    HashLimits {
        entries_max: 8,
        value_bytes_max: 16,
        hasher: HashKey::new(3, 4),
    }
}

/// A whole file holding `values` in database 0.
fn dump(values: &[(&[u8], Value)], compress: bool) -> Vec<u8> {
    let mut w = RdbWriter::new(compress);
    w.header();
    w.select_db(0);
    for (k, v) in values {
        w.key_value(k, v, &KeyMeta::default()).unwrap();
    }
    w.finish(true)
}

fn reload(bytes: &[u8]) -> Vec<(Vec<u8>, RdbValue)> {
    let c = rdb::load(bytes).unwrap_or_else(|e| panic!("{e}"));
    c.dbs
        .into_iter()
        .flat_map(|d| d.entries)
        .map(|e| (e.key, e.value))
        .collect()
}

/// Lists compare by elements (the loaded list has the loader's node size).
fn same(written: &Value, loaded: &RdbValue) -> bool {
    match (written, loaded) {
        (Value::List(a), RdbValue::Value(Value::List(b))) => a
            .iter()
            .map(|v| v.to_vec())
            .eq(b.iter().map(|v| v.to_vec())),
        (a, RdbValue::Value(b)) => a == b,
        _ => false,
    }
}

/// The bytes of one string key's value in a file.
fn string_bytes(s: &[u8], compress: bool) -> Vec<u8> {
    let file = dump(&[(b"k", Value::from_bytes(s))], compress);
    // header (9) + SELECTDB 0 (2) + type (1) + key (2); EOF (1) + checksum (8).
    file[14..file.len() - 9].to_vec()
}

#[test]
fn short_canonical_integers_use_the_integer_encodings() {
    assert_eq!(string_bytes(b"12", false), [0xC0, 12]);
    assert_eq!(string_bytes(b"-128", false), [0xC0, 0x80]);
    assert_eq!(string_bytes(b"1234", false), [0xC1, 0xD2, 0x04]);
    assert_eq!(string_bytes(b"-2147483648", false), [0xC2, 0, 0, 0, 0x80]);
    assert_eq!(string_bytes(b"2147483648", false)[0], 10);
    assert_eq!(string_bytes(b"0123", false), b"\x040123");
}

#[test]
fn long_strings_compress_only_when_asked_and_when_it_pays() {
    let long = b"a".repeat(100);
    assert_eq!(string_bytes(&long, true)[0], 0xC3);
    assert_eq!(string_bytes(&long, false)[..2], [0x40, 100]);
    let twenty = b"a".repeat(20);
    assert_eq!(string_bytes(&twenty, true)[0], 20);
}

#[test]
fn lengths_use_the_6_14_and_32_bit_forms() {
    assert_eq!(string_bytes(&[b'x'; 63], false)[0], 63);
    assert_eq!(string_bytes(&[b'x'; 64], false)[..2], [0x40, 64]);
    assert_eq!(
        string_bytes(&[b'x'; 16384], false)[..5],
        [0x80, 0, 0, 0x40, 0]
    );
}

#[test]
fn a_file_written_in_pieces_equals_one_written_at_once() {
    let values: Vec<(&[u8], Value)> = vec![(b"a", Value::from_bytes(b"1")), (b"b", Value::Int(-5))];
    let whole = dump(&values, true);
    let mut w = RdbWriter::new(true);
    w.header();
    let mut pieces = w.take();
    w.select_db(0);
    for (k, v) in &values {
        w.key_value(k, v, &KeyMeta::default()).unwrap();
        pieces.extend(w.take());
    }
    pieces.extend(w.finish(true));
    assert_eq!(pieces, whole);
    let n = whole.len();
    assert_eq!(whole[n - 8..], crc64(&whole[..n - 8]).to_le_bytes());
}

#[test]
fn key_metadata_survives_a_round_trip() {
    let mut w = RdbWriter::new(false);
    w.header();
    w.select_db(5);
    w.resize_db(1, 1);
    let meta = KeyMeta {
        expire_ms: Some(1_900_000_000_123),
        idle_secs: Some(77),
        freq: Some(9),
    };
    w.key_value(b"k", &Value::from_bytes(b"v"), &meta).unwrap();
    w.function(b"#!lua name=lib\n");
    let c = rdb::load(&w.finish(false)).unwrap();
    let db = &c.dbs[0];
    assert_eq!((db.index, db.resize), (5, Some((1, 1))));
    let e = &db.entries[0];
    assert_eq!(
        (e.expire_ms, e.idle_secs, e.freq),
        (Some(1_900_000_000_123), Some(77), Some(9))
    );
    assert_eq!(c.functions, vec![b"#!lua name=lib\n".to_vec()]);
}

#[test]
fn lists_and_hashes_of_both_encodings_round_trip() {
    let mut list = List::new(4);
    for i in 0..50 {
        list.push_back(format!("{i}").as_bytes());
        list.push_back(format!("item {i}").as_bytes());
    }
    let mut small = Hash::new();
    small.set(b"f", b"1", &limits());
    let mut big = Hash::new();
    for i in 0..20 {
        big.set(format!("f{i}").as_bytes(), &b"v".repeat(i), &limits());
    }
    assert!(small.is_listpack() && !big.is_listpack());
    let values = vec![
        (&b"l"[..], Value::List(Box::new(list))),
        (b"hs", Value::Hash(Box::new(small))),
        (b"hb", Value::Hash(Box::new(big))),
    ];
    let got = reload(&dump(&values, true));
    for ((k, v), (gk, gv)) in values.iter().zip(&got) {
        assert_eq!(&k.to_vec(), gk);
        assert!(same(v, gv), "{v:?} != {gv:?}");
    }
}

#[test]
fn sets_and_sorted_sets_round_trip_in_each_encoding() {
    let ints: Vec<&[u8]> = vec![b"5", b"-70000", b"9000000000"];
    let words: Vec<&[u8]> = vec![b"x", b"7"];
    let pairs: Vec<(&[u8], f64)> = vec![(b"lo", f64::NEG_INFINITY), (b"m", 0.5), (b"n", 1e300)];
    let mut w = RdbWriter::new(true);
    w.header();
    w.key_set(b"si", &ints, SetEncoding::Intset, &KeyMeta::default());
    w.key_set(b"sw", &words, SetEncoding::Intset, &KeyMeta::default());
    w.key_zset(b"zl", &pairs, ZSetEncoding::Listpack, &KeyMeta::default());
    w.key_zset(b"zs", &pairs, ZSetEncoding::Skiplist, &KeyMeta::default());
    let got = reload(&w.finish(true));
    let owned = |p: &[(&[u8], f64)]| p.iter().map(|(m, s)| (m.to_vec(), *s)).collect::<Vec<_>>();
    assert_eq!(
        got[0].1,
        RdbValue::Set(vec![
            b"-70000".to_vec(),
            b"5".to_vec(),
            b"9000000000".to_vec()
        ])
    );
    assert_eq!(got[1].1, RdbValue::Set(vec![b"x".to_vec(), b"7".to_vec()]));
    assert_eq!(got[2].1, RdbValue::ZSet(owned(&pairs)));
    let mut reversed = owned(&pairs);
    reversed.reverse();
    assert_eq!(got[3].1, RdbValue::ZSet(reversed));
}

/// A minimal file: header, then `body`, then EOF and a zero checksum.
fn file(body: &[u8]) -> Vec<u8> {
    let mut out = b"REDIS0010".to_vec();
    out.extend_from_slice(body);
    out.push(0xFF);
    out.extend_from_slice(&[0; 8]);
    out
}

#[test]
fn a_bad_stream_is_refused_not_loaded() {
    // Type 19 with one block whose key is 3 bytes, then one whose listpack is empty.
    for body in [
        &[0xFE, 0, 19, 1, b'k', 1, 3, b'a', b'b', b'c'][..],
        &[
            0xFE, 0, 19, 1, b'k', 1, 16, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 7, 7, 0,
            0, 0, 0, 0, 0xFF,
        ],
        &[0xFE, 0, 21, 1, b'k', 0],
    ] {
        assert!(rdb::load(&file(body)).is_err(), "{body:?}");
    }
}

#[test]
fn modules_and_unknown_types_are_refused_by_name_and_offset() {
    for t in [8u8, 22, 200] {
        let err = rdb::load(&file(&[0xFE, 0, t, 1, b'k', 0])).unwrap_err();
        assert_eq!(
            (err.offset, err.kind),
            (11, RdbErrorKind::UnsupportedValueType(t))
        );
    }
    // A module id packs a 9-character name into its top 54 bits.
    let name_bits: u64 = b"ABCDEFGHI"
        .iter()
        .map(|c| u64::from(c - b'A'))
        .fold(0, |a, c| a << 6 | c);
    let mut body = vec![0xF7, 0x81];
    body.extend_from_slice(&(name_bits << 10).to_be_bytes());
    let err = rdb::load(&file(&body)).unwrap_err();
    assert_eq!(
        err.kind,
        RdbErrorKind::ModuleData {
            name: "ABCDEFGHI".into()
        }
    );
    assert_eq!(err.offset, 9);
}

#[test]
fn bad_headers_are_refused() {
    assert_eq!(
        rdb::load(b"REDIT0010\xff").unwrap_err().kind,
        RdbErrorKind::BadMagic
    );
    assert_eq!(rdb::load(b"RED").unwrap_err().kind, RdbErrorKind::BadMagic);
    let v11 = rdb::load(b"REDIS0011\xff\0\0\0\0\0\0\0\0").unwrap_err();
    assert_eq!(v11.kind, RdbErrorKind::UnsupportedVersion(11));
}

#[test]
fn lengths_beyond_the_file_are_refused_before_allocating() {
    // A plain set claiming 2^32 members.
    let err = rdb::load(&file(&[2, 1, b'k', 0x80, 1, 0, 0, 0])).unwrap_err();
    assert_eq!(err.kind, RdbErrorKind::LengthTooLarge(1 << 24));
    // An LZF string claiming a huge uncompressed size.
    let err = rdb::load(&file(&[0, 1, b'k', 0xC3, 2, 0x80, 0x7F, 0, 0, 0, 0, b'a'])).unwrap_err();
    assert!(matches!(err.kind, RdbErrorKind::LengthTooLarge(_)), "{err}");
}

#[test]
fn duplicates_and_nan_scores_are_refused() {
    let dup_set = file(&[2, 1, b'k', 2, 1, b'a', 1, b'a']);
    assert_eq!(
        rdb::load(&dup_set).unwrap_err().kind,
        RdbErrorKind::Duplicate
    );
    let nan = file(&[3, 1, b'k', 1, 1, b'a', 253]);
    assert_eq!(rdb::load(&nan).unwrap_err().kind, RdbErrorKind::BadScore);
    let dup_hash = file(&[4, 1, b'k', 2, 1, b'f', 1, b'1', 1, b'f', 1, b'2']);
    assert_eq!(
        rdb::load(&dup_hash).unwrap_err().kind,
        RdbErrorKind::Duplicate
    );
}

proptest! {
    #[test]
    fn any_strings_lists_and_hashes_round_trip(
        strings in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..80), 1..20),
        compress in any::<bool>(),
    ) {
        let mut list = List::new(3);
        let mut h = Hash::new();
        for s in &strings {
            list.push_back(s);
            h.set(s, s, &limits());
        }
        let mut values: Vec<(&[u8], Value)> = vec![
            (b"l", Value::List(Box::new(list))),
            (b"h", Value::Hash(Box::new(h))),
        ];
        let keys: Vec<Vec<u8>> = (0..strings.len()).map(|i| format!("s{i}").into_bytes()).collect();
        for (k, s) in keys.iter().zip(&strings) {
            values.push((k, Value::from_bytes(s)));
        }
        let got = reload(&dump(&values, compress));
        prop_assert_eq!(got.len(), values.len());
        for ((k, v), (gk, gv)) in values.iter().zip(&got) {
            prop_assert_eq!(&k.to_vec(), gk);
            prop_assert!(same(v, gv), "{:?} != {:?}", v, gv);
        }
    }
}

#[test]
fn dump_payloads_round_trip_and_bad_footers_are_refused() {
    let opts = rdb::LoadOptions::default();
    let mut h = Hash::new();
    h.set(b"f", b"v", &limits());
    for v in [
        Value::from_bytes(b"hello"),
        Value::Int(7),
        Value::Hash(Box::new(h)),
    ] {
        let payload = RdbWriter::dump_payload(&v, true).unwrap();
        assert!(same(&v, &rdb::restore_payload(&payload, &opts).unwrap()));
        let mut bad = payload.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        let err = rdb::restore_payload(&bad, &opts).unwrap_err();
        assert_eq!(err.kind, RdbErrorKind::BadDumpFooter);
        bad[n - 1] ^= 1;
        bad[n - 10] = 11;
        assert_eq!(
            rdb::restore_payload(&bad, &opts).unwrap_err().kind,
            RdbErrorKind::BadDumpFooter
        );
    }
    for short in [&b""[..], b"\0\x0a\0\0\0\0\0\0\0\0"] {
        assert!(rdb::restore_payload(short, &opts).is_err());
    }
}

/// Sets and sorted sets held as values are written in the encoding they hold and
/// load back with the same members (and scores).
#[test]
fn set_and_zset_values_write_in_their_own_encoding() {
    use ember_core::types::set::SetLimits;
    use ember_core::types::zset::Limits;
    use ember_core::types::{Set, ZSet};
    use ember_core::util::smallbytes::SmallBytes;
    let hasher = HashKey::new(1, 2);
    let set_of = |members: &[&[u8]], max_intset_entries| {
        let mut set = Set::for_first(members[0], hasher);
        for m in members {
            set.insert(
                m,
                SetLimits {
                    max_intset_entries,
                    hasher,
                },
            );
        }
        set
    };
    let ints = set_of(&[b"3", b"-1", b"70000"], 512);
    let table = set_of(&[b"a", b"2"], 512);
    let zset_of = |entries| {
        let items = vec![
            (SmallBytes::new(b"a"), -2.5),
            (SmallBytes::new(b"b"), 0.0),
            (SmallBytes::new(b"c"), f64::INFINITY),
        ];
        ZSet::from_sorted(items, Limits { entries, value: 64 }, hasher)
    };
    let (packed, skiplist) = (zset_of(128), zset_of(0));
    assert_eq!(
        (packed.encoding_name(), skiplist.encoding_name()),
        ("listpack", "skiplist")
    );
    let values = [
        (&b"si"[..], Value::Set(Box::new(ints))),
        (&b"st"[..], Value::Set(Box::new(table))),
        (&b"zl"[..], Value::ZSet(Box::new(packed))),
        (&b"zs"[..], Value::ZSet(Box::new(skiplist))),
    ];
    let file = dump(&values, true);
    // Type bytes as Redis 7.0 writes them: intset 11, set 2, zset listpack 17, zset 5.
    let got = reload(&file);
    let sorted = |v: &RdbValue| match v {
        RdbValue::Set(m) => {
            let mut m = m.clone();
            m.sort();
            m
        }
        other => panic!("not a set: {other:?}"),
    };
    assert_eq!(
        sorted(&got[0].1),
        vec![b"-1".to_vec(), b"3".to_vec(), b"70000".to_vec()]
    );
    assert_eq!(sorted(&got[1].1), vec![b"2".to_vec(), b"a".to_vec()]);
    let pairs = vec![
        (b"a".to_vec(), -2.5),
        (b"b".to_vec(), 0.0),
        (b"c".to_vec(), f64::INFINITY),
    ];
    assert_eq!(got[2].1, RdbValue::ZSet(pairs.clone()));
    let mut reversed = pairs;
    reversed.reverse();
    assert_eq!(got[3].1, RdbValue::ZSet(reversed));
    let types: Vec<u8> = [b"si", b"st", b"zl", b"zs"]
        .iter()
        .map(|k| {
            let at = file
                .windows(3)
                .position(|w| w[1..] == k[..] && w[0] == 2)
                .unwrap();
            file[at - 1]
        })
        .collect();
    assert_eq!(types, vec![11, 2, 17, 5]);
}

/// Loaded sets and sorted sets become values in the encoding the thresholds call
/// for, as Redis's loader converts them.
#[test]
fn loaded_sets_and_zsets_take_the_encoding_of_the_thresholds() {
    let opts = |max: u64| rdb::LoadOptions {
        set_max_intset_entries: max,
        zset_max_listpack_entries: max,
        ..rdb::LoadOptions::default()
    };
    let ints = RdbValue::Set(vec![b"3".to_vec(), b"1".to_vec(), b"2".to_vec()]);
    let mixed = RdbValue::Set(vec![b"3".to_vec(), b"x".to_vec()]);
    let zset = || {
        RdbValue::ZSet(vec![
            (b"b".to_vec(), 2.0),
            (b"a".to_vec(), 1.0),
            (b"c".to_vec(), 1.0),
        ])
    };
    let name = |v: Value| v.encoding_name();
    assert_eq!(name(ints.clone().into_value(&opts(3))), "intset");
    assert_eq!(name(ints.into_value(&opts(2))), "hashtable");
    assert_eq!(name(mixed.into_value(&opts(8))), "hashtable");
    assert_eq!(name(zset().into_value(&opts(3))), "listpack");
    assert_eq!(name(zset().into_value(&opts(2))), "skiplist");
    let Value::ZSet(z) = zset().into_value(&opts(3)) else {
        panic!("not a zset")
    };
    let mut order = Vec::new();
    z.for_each(|m, s| order.push((m.to_vec(), s)));
    assert_eq!(
        order,
        vec![
            (b"a".to_vec(), 1.0),
            (b"c".to_vec(), 1.0),
            (b"b".to_vec(), 2.0)
        ]
    );
}
