//! The mutation check: with each planted bug (`ember_core::planted::Bug`) in every
//! node, a swarm from seed 0 must fail within the bug's stated budget of seeds, and
//! for the reason that bug should cause. A checker that cannot catch these would
//! also miss the real bugs they imitate.
//!
//! Needs the feature: `cargo test -p ember-sim --release --features planted-bugs
//! --test mutations -- --nocapture` (CI runs it; the figures go to sim/README.md).

#![cfg(feature = "planted-bugs")]

use ember_core::planted::Bug;
use ember_sim::{run_seed, RunOptions};

/// The seeds each bug may take to be caught, and the checkers allowed to catch it.
/// Budgets sit well above the seeds it took when measured (sim/README.md), so a
/// budget overrun means a checker or the workload lost its reach.
fn expectation(bug: Bug) -> (u64, &'static [&'static str]) {
    match bug {
        Bug::LazyExpirySkippedOnRead => (50, &["expiry", "model"]),
        Bug::ActiveExpiryOnStaleClock => (250, &["expiry"]),
        Bug::ExpiryAtDeadline => (300, &["model", "expiry"]),
        Bug::WatchIgnoresExpiry => (200, &["expiry"]),
        Bug::SaveSkipsFsync => (50, &["durability", "model"]),
        Bug::ReplyBeforeFsync => (300, &["durability"]),
        Bug::AofKeepsTornTail => (200, &["durability"]),
    }
}

/// The first seed from 0 whose run fails with `bug` planted, with the violation.
fn first_failing_seed(bug: Bug, budget: u64) -> Option<(u64, String, &'static str)> {
    (0..budget).find_map(|seed| {
        let options = RunOptions {
            planted: Some(bug),
            ..RunOptions::default()
        };
        let outcome = run_seed(seed, options);
        outcome.violation.map(|v| (seed, v.to_string(), v.checker))
    })
}

#[test]
fn every_planted_bug_is_caught_within_its_budget() {
    let mut missed = Vec::new();
    for bug in Bug::ALL {
        let (budget, checkers) = expectation(bug);
        match first_failing_seed(bug, budget) {
            Some((seed, why, checker)) => {
                println!(
                    "{bug:?}: caught by seed {seed} ({} seeds run): {why}",
                    seed + 1
                );
                if !checkers.contains(&checker) {
                    missed.push(format!(
                        "{bug:?}: seed {seed} failed for another reason: {why}"
                    ));
                }
            }
            None => missed.push(format!("{bug:?}: not caught within {budget} seeds")),
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

#[test]
fn without_a_planted_bug_the_same_seeds_pass() {
    // The budgets above mean something only if these seeds pass on the real core.
    for seed in 0..40 {
        let outcome = run_seed(seed, RunOptions::default());
        assert!(
            outcome.violation.is_none(),
            "seed {seed}: {:?}",
            outcome.violation
        );
    }
}
