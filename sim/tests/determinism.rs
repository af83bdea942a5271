//! A run is a function of its seed: the same seed gives the same trace, bit for bit.

use ember_sim::{run_seed, RunOptions};

#[test]
fn the_same_seed_twice_gives_the_same_trace_hash() {
    for seed in [3, 11, 42] {
        let first = run_seed(seed, RunOptions::default());
        let second = run_seed(seed, RunOptions::default());
        assert_eq!(first.trace_hash, second.trace_hash, "seed {seed}");
        assert_eq!(first.events, second.events, "seed {seed}");
        assert_eq!(first.probes, second.probes, "seed {seed}");
        assert!(first.executed > 0, "seed {seed} ran no request");
    }
}

#[test]
fn different_seeds_give_different_traces() {
    let hashes: Vec<u64> = (100..106)
        .map(|s| run_seed(s, RunOptions::default()).trace_hash)
        .collect();
    let mut unique = hashes.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), hashes.len(), "{hashes:x?}");
}

#[test]
fn settings_are_a_function_of_the_seed() {
    let a = ember_sim::Settings::from_seed(9).to_string();
    let b = ember_sim::Settings::from_seed(9).to_string();
    assert_eq!(a, b);
    assert_ne!(a, ember_sim::Settings::from_seed(10).to_string());
    assert!(a.contains("sub-seeds: network"), "{a}");
}
