//! Listpack blobs from untrusted sources (RDB, RESTORE): `from_bytes` never panics, and
//! whatever it accepts can be walked from both ends to the same elements.
#![no_main]

use ember_core::listpack::Listpack;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(lp) = Listpack::from_bytes(data.to_vec()) else {
        return;
    };
    let forward: Vec<Vec<u8>> = lp.iter().map(|v| v.to_vec()).collect();
    let mut backward: Vec<Vec<u8>> = lp.iter_rev().map(|v| v.to_vec()).collect();
    backward.reverse();
    assert_eq!(forward, backward);
    assert_eq!(lp.len(), forward.len());
    let mut off = lp.last();
    let mut n = 0;
    while let Some(o) = off {
        n += 1;
        off = lp.prev(o);
    }
    assert_eq!(n, forward.len());
    if let Some(first) = lp.first() {
        let _ = lp.find(first, b"1", 1);
    }
    // An accepted blob stays valid through an edit.
    let mut lp = lp;
    lp.push_back(b"fuzz");
    assert!(Listpack::from_bytes(lp.as_bytes().to_vec()).is_ok());
});
