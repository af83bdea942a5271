use super::*;
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test hex"))
        .collect()
}

fn build(items: &[&[u8]]) -> Listpack {
    let mut lp = Listpack::new();
    for v in items {
        lp.push_back(v);
    }
    lp
}

fn elements(lp: &Listpack) -> Vec<Vec<u8>> {
    lp.iter().map(|v| v.to_vec()).collect()
}

/// Walks a listpack every way the API allows and checks they agree.
fn check_consistent(lp: &Listpack) -> Vec<Vec<u8>> {
    let forward = elements(lp);
    let mut backward: Vec<Vec<u8>> = lp.iter_rev().map(|v| v.to_vec()).collect();
    backward.reverse();
    assert_eq!(forward, backward);
    assert_eq!(lp.len(), forward.len());
    assert_eq!(lp.is_empty(), forward.is_empty());
    let mut offsets = Vec::new();
    let mut off = lp.first();
    while let Some(o) = off {
        offsets.push(o);
        off = lp.next(o);
    }
    assert_eq!(offsets.len(), forward.len());
    let mut back_offsets = Vec::new();
    let mut off = lp.last();
    while let Some(o) = off {
        back_offsets.push(o);
        off = lp.prev(o);
    }
    back_offsets.reverse();
    assert_eq!(offsets, back_offsets);
    for (i, &o) in offsets.iter().enumerate() {
        assert_eq!(lp.get(o).to_vec(), forward[i]);
        assert_eq!(lp.seek(i as i64), Some(o));
        assert_eq!(lp.seek(i as i64 - forward.len() as i64), Some(o));
    }
    assert_eq!(lp.seek(forward.len() as i64), None);
    assert_eq!(lp.seek(-(forward.len() as i64) - 1), None);
    let bytes = lp.as_bytes();
    assert_eq!(u32_at(bytes, 0) as usize, bytes.len());
    assert_eq!(lp.bytes_len(), bytes.len());
    assert_eq!(*bytes.last().unwrap(), TERMINATOR);
    forward
}

// ---- Oracles: DUMP payloads from redis-server 7.0.15 (rdbcompression no). ----

#[test]
fn small_hash_matches_redis_bytes_exactly() {
    let redis = hex(
        "850000001a0081610201018162028568656c6c6f06816302dffb02816402c0c802816502ded4028166\
         02f270110104816702f3c0ab76ff05816802f4005ed0b20000000009816902f4ffffffffffffff7f0981\
         6a02f4000000000000008009816b0282303103816c028001816d029431323334353637383930313233\
         3435363738393015ff",
    );
    let items: [&[u8]; 26] = [
        b"a",
        b"1",
        b"b",
        b"hello",
        b"c",
        b"-5",
        b"d",
        b"200",
        b"e",
        b"-300",
        b"f",
        b"70000",
        b"g",
        b"-9000000",
        b"h",
        b"3000000000",
        b"i",
        b"9223372036854775807",
        b"j",
        b"-9223372036854775808",
        b"k",
        b"01",
        b"l",
        b"",
        b"m",
        b"12345678901234567890",
    ];
    let lp = build(&items);
    assert_eq!(lp.as_bytes(), &redis[..]);
    let loaded = Listpack::from_bytes(redis).unwrap();
    let expect: Vec<Vec<u8>> = items.iter().map(|v| v.to_vec()).collect();
    assert_eq!(check_consistent(&loaded), expect);
}

#[test]
fn list_of_integers_at_every_encoding_boundary_matches_redis_bytes() {
    let redis = hex(
        "51000000110001018161027f01c08002dfff02d00002cfff02f1001003f1008003f1ff7f03f200800004\
         f200008004f2ffff7f04f30000800005f3ffffff7f05f30000008005f4000000800000000009ff",
    );
    let items = [
        "1",
        "a",
        "127",
        "128",
        "-1",
        "-4096",
        "4095",
        "4096",
        "-32768",
        "32767",
        "32768",
        "-8388608",
        "8388607",
        "8388608",
        "2147483647",
        "-2147483648",
        "2147483648",
    ];
    let items: Vec<&[u8]> = items.iter().map(|s| s.as_bytes()).collect();
    let lp = build(&items);
    assert_eq!(lp.as_bytes(), &redis[..]);
    let loaded = Listpack::from_bytes(redis).unwrap();
    assert_eq!(check_consistent(&loaded), items);
    assert_eq!(loaded.get(loaded.seek(5).unwrap()), LpValue::Int(-4096));
    assert_eq!(loaded.get(loaded.seek(1).unwrap()), LpValue::Str(b"a"));
}

#[test]
fn zset_with_fractional_score_matches_redis_bytes() {
    let redis = hex("1f0000000800816302dffd02816102010181620283322e35048164026401ff");
    let items: [&[u8]; 8] = [b"c", b"-3", b"a", b"1", b"b", b"2.5", b"d", b"100"];
    assert_eq!(build(&items).as_bytes(), &redis[..]);
    assert!(Listpack::from_bytes(redis).is_ok());
}

#[test]
fn strings_of_63_and_64_bytes_use_6_and_12_bit_lengths_as_redis() {
    let mut redis = hex("9500000004008373363304bf");
    redis.extend([b'x'; 63]);
    redis.extend(hex("408373363404e040"));
    redis.extend([b'y'; 64]);
    redis.extend(hex("42ff"));
    let (x, y) = (vec![b'x'; 63], vec![b'y'; 64]);
    let lp = build(&[b"s63", &x, b"s64", &y]);
    assert_eq!(lp.as_bytes(), &redis[..]);
    assert!(Listpack::from_bytes(redis).is_ok());
}

#[test]
fn strings_of_4095_and_4096_bytes_use_12_and_32_bit_lengths_as_redis() {
    let mut redis = hex("a72000000600");
    redis.extend(hex("85733430393506efff"));
    redis.extend([b'p'; 4095]);
    redis.extend(hex("2081857334303936"));
    redis.extend(hex("06f000100000"));
    redis.extend([b'q'; 4096]);
    redis.extend(hex("2085847331323705e07e"));
    redis.extend([b'r'; 126]);
    redis.extend(hex("0180ff"));
    let (p, q, r) = (vec![b'p'; 4095], vec![b'q'; 4096], vec![b'r'; 126]);
    let lp = build(&[b"s4095", &p, b"s4096", &q, b"s127", &r]);
    assert_eq!(lp.as_bytes(), &redis[..]);
    assert!(Listpack::from_bytes(redis).is_ok());
}

#[test]
fn an_entry_of_exactly_16383_bytes_takes_a_three_byte_backlen_as_in_redis() {
    let mut redis = hex("0c4000000200817602f0fa3f0000");
    redis.extend([b'z'; 16378]);
    redis.extend(hex("00ffffff"));
    let z = vec![b'z'; 16378];
    assert_eq!(build(&[b"v", &z]).as_bytes(), &redis[..]);
    assert!(Listpack::from_bytes(redis).is_ok());

    let mut redis = hex("0a4000000200817602f0f93f0000");
    redis.extend([b'z'; 16377]);
    redis.extend(hex("7ffeff"));
    let z = vec![b'z'; 16377];
    assert_eq!(build(&[b"v", &z]).as_bytes(), &redis[..]);
    assert!(Listpack::from_bytes(redis).is_ok());
}

// ---- Behaviour ----

#[test]
fn new_listpack_is_seven_bytes_and_empty() {
    let lp = Listpack::new();
    assert_eq!(lp.as_bytes(), &[7, 0, 0, 0, 0, 0, 0xFF]);
    assert!(lp.is_empty());
    assert_eq!(lp.len(), 0);
    assert_eq!(lp.first(), None);
    assert_eq!(lp.last(), None);
    assert_eq!(lp.seek(0), None);
    assert_eq!(lp.seek(-1), None);
    assert_eq!(lp.iter().count(), 0);
}

#[test]
fn canonical_integer_strings_are_stored_as_integers_and_others_as_strings() {
    let lp = build(&[
        b"5",
        b"05",
        b"-0",
        b"+1",
        b" 1",
        b"9223372036854775808",
        b"-12",
    ]);
    let got: Vec<LpValue<'_>> = lp.iter().collect();
    assert_eq!(got[0], LpValue::Int(5));
    assert_eq!(got[1], LpValue::Str(b"05"));
    assert_eq!(got[2], LpValue::Str(b"-0"));
    assert_eq!(got[3], LpValue::Str(b"+1"));
    assert_eq!(got[4], LpValue::Str(b" 1"));
    assert_eq!(got[5], LpValue::Str(b"9223372036854775808"));
    assert_eq!(got[6], LpValue::Int(-12));
}

#[test]
fn push_back_int_encodes_like_the_decimal_string() {
    for v in [
        0,
        127,
        128,
        -1,
        -4096,
        4095,
        4096,
        i64::MIN,
        i64::MAX,
        1 << 40,
    ] {
        let mut a = Listpack::new();
        a.push_back_int(v);
        let b = build(&[v.to_string().as_bytes()]);
        assert_eq!(a.as_bytes(), b.as_bytes(), "{v}");
        assert_eq!(a.get(a.first().unwrap()), LpValue::Int(v));
    }
}

#[test]
fn lp_value_converts_to_client_bytes_and_compares_like_lpfind() {
    let mut buf = [0; 20];
    assert_eq!(LpValue::Int(-42).to_bytes(&mut buf), b"-42");
    assert_eq!(LpValue::Str(b"x").to_bytes(&mut buf), b"x");
    assert!(LpValue::Int(7).eq_bytes(b"7"));
    assert!(!LpValue::Int(7).eq_bytes(b"07"));
    assert!(LpValue::Str(b"07").eq_bytes(b"07"));
    assert!(!LpValue::Str(b"7").eq_bytes(b"07"));
}

#[test]
fn insert_before_and_after_place_elements_around_an_entry() {
    let mut lp = build(&[b"a", b"c"]);
    let c = lp.seek(1).unwrap();
    lp.insert_before(c, b"b");
    let a = lp.first().unwrap();
    lp.insert_after(a, b"ab");
    let last = lp.last().unwrap();
    lp.insert_after(last, b"d");
    lp.push_front(b"0");
    assert_eq!(
        check_consistent(&lp),
        [&b"0"[..], b"a", b"ab", b"b", b"c", b"d"]
    );
}

#[test]
fn replace_keeps_the_offset_and_changes_size_as_needed() {
    let mut lp = build(&[b"a", b"b", b"c"]);
    let b = lp.seek(1).unwrap();
    let long = vec![b'L'; 5000];
    lp.replace(b, &long);
    assert_eq!(lp.get(b), LpValue::Str(&long));
    lp.replace(b, b"12345");
    assert_eq!(lp.get(b), LpValue::Int(12345));
    assert_eq!(check_consistent(&lp), [&b"a"[..], b"12345", b"c"]);
    assert_eq!(lp.as_bytes(), build(&[b"a", b"12345", b"c"]).as_bytes());
}

#[test]
fn delete_returns_the_offset_of_the_following_entry() {
    let mut lp = build(&[b"a", b"b", b"c"]);
    let b = lp.seek(1).unwrap();
    let next = lp.delete(b);
    assert_eq!(next, Some(b));
    assert_eq!(lp.get(b), LpValue::Str(b"c"));
    assert_eq!(lp.delete(b), None);
    assert_eq!(check_consistent(&lp), [b"a"]);
    assert_eq!(lp.delete(lp.first().unwrap()), None);
    assert_eq!(lp.as_bytes(), Listpack::new().as_bytes());
}

#[test]
fn delete_range_removes_up_to_count_elements_from_an_index() {
    let mut lp = build(&[b"0", b"1", b"2", b"3", b"4"]);
    lp.delete_range(1, 2);
    assert_eq!(check_consistent(&lp), [b"0", b"3", b"4"]);
    lp.delete_range(2, 100);
    assert_eq!(check_consistent(&lp), [b"0", b"3"]);
    lp.delete_range(5, 1);
    lp.delete_range(0, 0);
    assert_eq!(check_consistent(&lp), [b"0", b"3"]);
    lp.delete_range(0, 2);
    assert_eq!(lp.as_bytes(), Listpack::new().as_bytes());
}

#[test]
fn find_compares_every_skip_plus_one_entry() {
    // field/value pairs: find with skip 1 only looks at fields.
    let lp = build(&[b"f1", b"v", b"v", b"10", b"f3", b"v"]);
    let first = lp.first().unwrap();
    assert_eq!(lp.find(first, b"v", 1), Some(lp.seek(2).unwrap()));
    assert_eq!(lp.find(first, b"10", 1), None);
    assert_eq!(lp.find(first, b"10", 0), Some(lp.seek(3).unwrap()));
    assert_eq!(lp.find(first, b"010", 0), None);
    assert_eq!(
        lp.find(lp.seek(1).unwrap(), b"10", 1),
        Some(lp.seek(3).unwrap())
    );
    assert_eq!(lp.find(first, b"missing", 0), None);
}

#[test]
fn count_becomes_unknown_at_65535_elements_and_exact_again_below() {
    let mut lp = Listpack::new();
    for _ in 0..65534 {
        lp.push_back(b"1");
    }
    assert_eq!(lp.header_count(), 65534);
    lp.push_back(b"1");
    assert_eq!(lp.header_count(), COUNT_UNKNOWN);
    assert_eq!(lp.len(), 65535);
    lp.push_front(b"x");
    assert_eq!(lp.len(), 65536);
    assert_eq!(lp.seek(-1), lp.last());
    assert_eq!(lp.get(lp.seek(0).unwrap()), LpValue::Str(b"x"));
    let copy = Listpack::from_bytes(lp.as_bytes().to_vec()).unwrap();
    assert_eq!(copy.len(), 65536);
    lp.delete_range(0, 2);
    assert_eq!(lp.header_count(), 65534);
    assert_eq!(lp.len(), 65534);
}

#[test]
fn an_unknown_count_header_is_accepted_for_few_elements_and_fixed_by_an_edit() {
    let mut bytes = build(&[b"a", b"b"]).as_bytes().to_vec();
    bytes[4] = 0xFF;
    bytes[5] = 0xFF;
    let mut lp = Listpack::from_bytes(bytes).unwrap();
    assert_eq!(lp.len(), 2);
    lp.push_back(b"c");
    assert_eq!(lp.header_count(), 3);
}

#[test]
fn capacity_stays_tight_after_growth_and_after_big_deletes() {
    let mut lp = Listpack::new();
    for i in 0..100 {
        lp.push_back(format!("member:{i}").as_bytes());
    }
    assert!(lp.buf.capacity() <= lp.bytes_len() + lp.bytes_len() / 2);
    lp.delete_range(0, 90);
    assert!(lp.buf.capacity() <= lp.bytes_len() + lp.bytes_len() / 2);
    let big = vec![b'b'; 10_000];
    lp.push_back(&big);
    lp.delete(lp.last().unwrap());
    assert!(lp.buf.capacity() <= lp.bytes_len() + lp.bytes_len() / 2);
}

// ---- Untrusted input ----

#[test]
fn from_bytes_rejects_each_kind_of_corruption_with_its_offset() {
    use ListpackErrorKind::*;
    let good = build(&[b"abc", b"1000"]).as_bytes().to_vec();
    let kind = |b: Vec<u8>| {
        Listpack::from_bytes(b)
            .map(|_| ())
            .map_err(|e| (e.kind, e.offset))
    };
    assert_eq!(kind(vec![]), Err((TooShort, 0)));
    assert_eq!(kind(vec![6, 0, 0, 0, 0, 0]), Err((TooShort, 0)));
    let mut b = good.clone();
    b[0] += 1;
    assert_eq!(kind(b), Err((TotalBytesMismatch, 0)));
    let mut b = good.clone();
    *b.last_mut().unwrap() = 0;
    assert_eq!(kind(b), Err((MissingTerminator, good.len() - 1)));
    let mut b = good.clone();
    b[5] = 1;
    assert_eq!(kind(b), Err((CountMismatch, 4)));
    let mut b = good.clone();
    b[4] = 3;
    assert_eq!(kind(b), Err((CountMismatch, 4)));
    let mut b = good.clone();
    b[6] = 0xF7;
    assert_eq!(kind(b), Err((BadEncoding, 6)));
    let mut b = good.clone();
    b[6] = 0xFF;
    assert_eq!(kind(b), Err((EarlyTerminator, 6)));
    let mut b = good.clone();
    b[6] = 0x80 | 40;
    assert_eq!(kind(b), Err((EntryOutOfBounds, 6)));
    let mut b = good.clone();
    b[10] = 5;
    assert_eq!(kind(b), Err((BadBacklen, 10)));
    // A lone 32-bit string header claiming 4 GiB.
    let b = vec![12, 0, 0, 0, 1, 0, 0xF0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
    assert_eq!(kind(b), Err((EntryOutOfBounds, 6)));
    assert!(kind(good).is_ok());
}

#[test]
fn from_bytes_accepts_non_canonical_encodings_redis_can_read() {
    // "7" stored as a 12-bit string and 5 stored as an int64.
    let mut b = vec![0, 0, 0, 0, 2, 0, 0xE0, 1, b'7', 3, 0xF4];
    b.extend(5i64.to_le_bytes());
    b.extend([9, 0xFF]);
    let total = b.len() as u32;
    b[..4].copy_from_slice(&total.to_le_bytes());
    let lp = Listpack::from_bytes(b).unwrap();
    let got: Vec<LpValue<'_>> = lp.iter().collect();
    assert_eq!(got, [LpValue::Str(b"7"), LpValue::Int(5)]);
    assert_eq!(lp.find(lp.first().unwrap(), b"5", 0), lp.seek(1));
}

fn with_header(mut body: Vec<u8>, count: u16) -> Vec<u8> {
    let mut b = vec![0; 6];
    b.append(&mut body);
    b.push(TERMINATOR);
    let total = b.len() as u32;
    b[..4].copy_from_slice(&total.to_le_bytes());
    b[4..6].copy_from_slice(&count.to_le_bytes());
    b
}

fn value_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => (-200i64..200).prop_map(|v| v.to_string().into_bytes()),
        3 => any::<i64>().prop_map(|v| v.to_string().into_bytes()),
        2 => prop_oneof![
            Just(-4097i64), Just(4096), Just(-32769), Just(32768), Just(-8388609),
            Just(8388608), Just(i32::MIN as i64 - 1), Just(i32::MAX as i64 + 1),
        ].prop_map(|v| v.to_string().into_bytes()),
        4 => proptest::collection::vec(any::<u8>(), 0..12),
        1 => prop_oneof![Just(b"01".to_vec()), Just(b"-0".to_vec()), Just(b"+5".to_vec()),
            Just(b"9223372036854775808".to_vec())],
        1 => (50usize..140).prop_map(|n| vec![b'm'; n]),
        1 => prop_oneof![Just(4095usize), Just(4096), Just(16378), Just(300)]
            .prop_map(|n| vec![b'L'; n]),
    ]
}

#[derive(Clone, Debug)]
enum Op {
    PushBack(Vec<u8>),
    PushFront(Vec<u8>),
    PushInt(i64),
    InsertBefore(usize, Vec<u8>),
    InsertAfter(usize, Vec<u8>),
    Replace(usize, Vec<u8>),
    Delete(usize),
    DeleteRange(usize, usize),
    Find(usize, Vec<u8>, usize),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => value_strategy().prop_map(Op::PushBack),
        2 => value_strategy().prop_map(Op::PushFront),
        1 => any::<i64>().prop_map(Op::PushInt),
        2 => (any::<usize>(), value_strategy()).prop_map(|(i, v)| Op::InsertBefore(i, v)),
        2 => (any::<usize>(), value_strategy()).prop_map(|(i, v)| Op::InsertAfter(i, v)),
        2 => (any::<usize>(), value_strategy()).prop_map(|(i, v)| Op::Replace(i, v)),
        2 => any::<usize>().prop_map(Op::Delete),
        1 => (any::<usize>(), 0usize..5).prop_map(|(i, n)| Op::DeleteRange(i, n)),
        2 => (any::<usize>(), value_strategy(), 0usize..3).prop_map(|(i, v, s)| Op::Find(i, v, s)),
    ]
}

fn apply(lp: &mut Listpack, model: &mut Vec<Vec<u8>>, op: Op) {
    let n = model.len();
    let pick = |i: usize| if n == 0 { None } else { Some(i % n) };
    match op {
        Op::PushBack(v) => {
            lp.push_back(&v);
            model.push(v);
        }
        Op::PushFront(v) => {
            lp.push_front(&v);
            model.insert(0, v);
        }
        Op::PushInt(v) => {
            lp.push_back_int(v);
            model.push(v.to_string().into_bytes());
        }
        Op::InsertBefore(i, v) => {
            if let Some(i) = pick(i) {
                lp.insert_before(lp.seek(i as i64).unwrap(), &v);
                model.insert(i, v);
            }
        }
        Op::InsertAfter(i, v) => {
            if let Some(i) = pick(i) {
                lp.insert_after(lp.seek(i as i64).unwrap(), &v);
                model.insert(i + 1, v);
            }
        }
        Op::Replace(i, v) => {
            if let Some(i) = pick(i) {
                let off = lp.seek(i as i64).unwrap();
                lp.replace(off, &v);
                assert_eq!(lp.get(off).to_vec(), v);
                model[i] = v;
            }
        }
        Op::Delete(i) => {
            if let Some(i) = pick(i) {
                let off = lp.seek(-(n as i64) + i as i64).unwrap();
                let next = lp.delete(off);
                model.remove(i);
                assert_eq!(next, (i < model.len()).then_some(off));
            }
        }
        Op::DeleteRange(i, count) => {
            let i = i % (n + 1);
            lp.delete_range(i, count);
            model.drain(i..(i + count).min(n));
        }
        Op::Find(i, v, skip) => {
            if let Some(i) = pick(i) {
                let got = lp.find(lp.seek(i as i64).unwrap(), &v, skip);
                let want = (i..n).step_by(skip + 1).find(|&j| model[j] == v);
                assert_eq!(got, want.map(|j| lp.seek(j as i64).unwrap()));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_edits_agree_with_a_vec_model(ops in proptest::collection::vec(op_strategy(), 1..60)) {
        let mut lp = Listpack::new();
        let mut model: Vec<Vec<u8>> = Vec::new();
        for op in ops {
            apply(&mut lp, &mut model, op);
            prop_assert_eq!(&check_consistent(&lp), &model);
        }
        let copy = Listpack::from_bytes(lp.as_bytes().to_vec()).unwrap();
        prop_assert_eq!(&check_consistent(&copy), &model);
        let items: Vec<&[u8]> = model.iter().map(|v| v.as_slice()).collect();
        // Edits leave the same bytes as building the final list from scratch.
        let rebuilt = build(&items);
        prop_assert_eq!(rebuilt.as_bytes(), lp.as_bytes());
    }

    #[test]
    fn random_bytes_never_panic_from_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(lp) = Listpack::from_bytes(bytes) {
            check_consistent(&lp);
        }
    }

    #[test]
    fn random_entry_bytes_behind_a_valid_header_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..48),
        count in prop_oneof![0u16..6, Just(COUNT_UNKNOWN)],
    ) {
        if let Ok(lp) = Listpack::from_bytes(with_header(body, count)) {
            check_consistent(&lp);
        }
    }

    #[test]
    fn mutated_valid_listpacks_are_rejected_or_consistent(
        items in proptest::collection::vec(value_strategy(), 0..8),
        mutations in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let refs: Vec<&[u8]> = items.iter().map(|v| v.as_slice()).collect();
        let mut bytes = build(&refs).as_bytes().to_vec();
        for (at, b) in mutations {
            let at = at % bytes.len();
            bytes[at] = b;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut % (bytes.len() + 1));
        }
        if let Ok(lp) = Listpack::from_bytes(bytes) {
            let got = check_consistent(&lp);
            // Every accepted entry is a whole entry: the sizes add up to the body.
            let sum: usize = lp.first().map_or(0, |mut o| {
                let mut s = 0;
                loop {
                    s += lp.entry_size(o);
                    match lp.next(o) { Some(n) => o = n, None => break s }
                }
            });
            prop_assert_eq!(sum + HEADER_BYTES + 1, lp.bytes_len());
            prop_assert_eq!(got.len(), lp.len());
        }
    }
}
