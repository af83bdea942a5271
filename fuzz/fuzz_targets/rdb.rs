//! RDB files from untrusted sources: `load` never panics, and whatever it accepts
//! survives a write with `RdbWriter` and a second load with the same keys.
#![no_main]

use ember_core::rdb::{self, KeyMeta, RdbValue, RdbWriter, SetEncoding, ZSetEncoding};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Mutated files rarely keep a valid checksum: skip it to reach the round trip.
    let options = rdb::LoadOptions {
        verify_checksum: false,
        ..rdb::LoadOptions::default()
    };
    let Ok(contents) = rdb::load_with(data, &options) else {
        return;
    };
    let mut w = RdbWriter::new(true);
    w.header();
    for (k, v) in &contents.aux {
        w.aux(k, v);
    }
    for db in &contents.dbs {
        w.select_db(db.index);
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
                    let p: Vec<(&[u8], f64)> = p.iter().map(|(m, s)| (m.as_slice(), *s)).collect();
                    w.key_zset(&e.key, &p, ZSetEncoding::Listpack, &meta);
                }
            }
        }
    }
    let bytes = w.finish(true);
    let again = rdb::load(&bytes).expect("ember reads what it wrote");
    assert_eq!(again.key_count(), contents.key_count());
    assert_eq!(again.aux, contents.aux);
});
