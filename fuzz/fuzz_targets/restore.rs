//! DUMP payloads from untrusted clients (RESTORE): `restore_payload` and
//! `into_value` never panic, and whatever loads survives DUMP's writer: the
//! re-dumped payload loads to the same contents, and (outside hash-table
//! encodings, whose order follows the table) re-dumps to the same bytes.
#![no_main]

use ember_core::rdb::{self, crc64, LoadOptions, RdbWriter};
use ember_core::types::stream::StreamId;
use ember_core::value::Value;
use libfuzzer_sys::fuzz_target;

/// RDB version 10 as a DUMP footer writes it.
const VERSION: [u8; 2] = [10, 0];

/// The contents of a value in a form independent of its encoding: the type's
/// name and its elements (hash pairs and set members sorted).
fn canonical(value: &Value) -> (&'static str, Vec<Vec<u8>>) {
    let mut scratch = [0u8; 20];
    match value {
        Value::List(l) => ("list", l.iter().map(|v| v.to_vec()).collect()),
        Value::Hash(h) => {
            let mut pairs: Vec<Vec<u8>> = h
                .iter()
                .map(|(f, v)| [f.to_vec(), b"=".to_vec(), v.to_vec()].concat())
                .collect();
            pairs.sort();
            ("hash", pairs)
        }
        Value::Set(s) => {
            let mut members: Vec<Vec<u8>> = s.iter().map(|m| m.to_vec()).collect();
            members.sort();
            ("set", members)
        }
        Value::ZSet(z) => (
            "zset",
            z.iter()
                .map(|(m, score)| [m.to_vec(), score.to_bits().to_le_bytes().to_vec()].concat())
                .collect(),
        ),
        Value::Stream(s) => (
            "stream",
            s.range(StreamId::MIN, StreamId::MAX, false, 0)
                .into_iter()
                .map(|e| {
                    let mut flat = e.id.to_bytes();
                    for (f, v) in e.fields {
                        flat.extend_from_slice(&[b"|".to_vec(), f, b"=".to_vec(), v].concat());
                    }
                    flat
                })
                .collect(),
        ),
        other => (
            "string",
            vec![other
                .as_string_bytes(&mut scratch)
                .unwrap_or_default()
                .to_vec()],
        ),
    }
}

fn hashed_order(value: &Value) -> bool {
    value.encoding_name() == "hashtable"
}

/// `body` with a valid footer, so mutations reach the value decoder.
fn with_footer(body: &[u8]) -> Vec<u8> {
    let mut payload = body.to_vec();
    payload.extend_from_slice(&VERSION);
    let crc = crc64(&payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    payload
}

fn load(payload: &[u8], opts: &LoadOptions) -> Option<Value> {
    rdb::restore_payload(payload, opts)
        .ok()
        .map(|v| v.into_value(opts))
}

/// Thresholds so small that most loaded values convert to their big encodings.
fn tiny_thresholds() -> LoadOptions {
    LoadOptions {
        list_max_listpack_size: 2,
        hash_max_listpack_entries: 1,
        hash_max_listpack_value: 4,
        set_max_intset_entries: 1,
        zset_max_listpack_entries: 1,
        zset_max_listpack_value: 4,
        ..LoadOptions::default()
    }
}

fuzz_target!(|data: &[u8]| {
    // As sent: footer checks included.
    let _ = load(data, &LoadOptions::default());
    let payload = with_footer(data);
    for opts in [LoadOptions::default(), tiny_thresholds()] {
        round_trip(&payload, &opts);
    }
});

fn round_trip(payload: &[u8], opts: &LoadOptions) {
    let Some(value) = load(payload, opts) else {
        return;
    };
    for compress in [true, false] {
        let again = RdbWriter::dump_payload(&value, compress).expect("dumpable");
        let reloaded = load(&again, opts).expect("Ember reads the payload it wrote");
        assert_eq!(canonical(&reloaded), canonical(&value));
        if !hashed_order(&value) {
            let third = RdbWriter::dump_payload(&reloaded, compress).expect("dumpable");
            assert!(third == again, "re-dump differs");
        }
    }
}
