//! ember-sim: a deterministic simulator for Ember.
//!
//! One `u64` seed decides everything a run does: the world's settings (swarm testing:
//! fault probabilities, client count, workload mix, key space, durations), the network's
//! latencies and splits, each node's clock, disk faults, the workload and the nodes' own
//! seeds. Nodes are real `ember_core::Node`s fed in one thread by virtual time, so a
//! failing seed replays bit for bit.
//!
//! ```
//! let outcome = ember_sim::run_seed(7, ember_sim::RunOptions::default());
//! assert_eq!(outcome.seed, 7);
//! ```

pub mod abuse;
pub mod checker;
pub mod clock;
pub mod disk;
pub mod model;
pub mod network;
pub mod probes;
pub mod resp;
pub mod rng;
pub mod settings;
pub mod swarm;
pub mod trace;
pub mod workload;
pub mod world;

pub use settings::Settings;
pub use world::{Outcome, RunOptions, World};

/// Runs one seed with the settings it derives.
pub fn run_seed(seed: u64, options: RunOptions) -> Outcome {
    World::new(Settings::from_seed(seed), options).run()
}

/// Runs one seed with settings adjusted by the caller (tests pin parts of a world).
pub fn run_settings(settings: Settings, options: RunOptions) -> Outcome {
    World::new(settings, options).run()
}
