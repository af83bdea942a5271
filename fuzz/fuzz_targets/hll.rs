//! HyperLogLog values from untrusted sources (SET, SETRANGE, RESTORE): whatever the
//! bytes, the paths PFCOUNT, PFADD, PFMERGE and PFDEBUG take never panic, and the
//! readers agree on whether the registers are corrupt.
#![no_main]

use ember_core::types::hll::{self, Encoding, DENSE_BYTES, REGISTERS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    // Mostly well-formed headers, so the register readers are what gets exercised.
    let mut value = match mode % 4 {
        0 => rest.to_vec(),
        1 => [b"HYLL\x01".as_slice(), rest].concat(),
        _ => {
            let mut v = [b"HYLL\x00".as_slice(), rest].concat();
            v.resize(DENSE_BYTES, mode);
            v
        }
    };
    let Some(encoding) = hll::encoding_of(&value) else {
        return;
    };
    let _ = hll::cached_cardinality(&value);
    let counted = hll::count(&value);
    let mut max = [0u8; REGISTERS];
    let merged = hll::merge_into(&mut max, &value);
    assert_eq!(counted.is_ok(), merged.is_ok());
    if encoding == Encoding::Sparse {
        let _ = hll::decode_sparse(&value);
    }
    let mut dense = value.clone();
    let converted = hll::to_dense(&mut dense);
    assert_eq!(converted.is_ok(), counted.is_ok());
    if converted.is_ok() {
        assert_eq!(hll::count(&dense), counted);
        assert_eq!(hll::count_registers(&max), counted.unwrap_or(0));
        let _ = hll::dense_registers(&dense);
    }
    // PFADD and PFMERGE writes, with a sparse limit from the input.
    let sparse_max = u64::from(mode) * 8;
    for element in rest.chunks(3).take(16) {
        if hll::add(&mut value, element, sparse_max).is_err() {
            break;
        }
    }
    for (i, &v) in max.iter().enumerate().filter(|(_, &v)| v != 0).take(64) {
        let _ = hll::set_register(&mut value, i, v.min(51), sparse_max);
    }
    let _ = hll::count(&value);
    hll::invalidate_cache(&mut value);
});
