//! Swarm exploration: many seeds, each its own world. Reports every failing seed with
//! the exact command that replays it, the probes that never fired, and throughput
//! (seeds per second, simulated seconds per wall second).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::probes::Probes;
use crate::{run_seed, RunOptions};

#[derive(Debug, Clone)]
pub struct SwarmOptions {
    pub from: u64,
    pub seeds: u64,
    /// Stop starting new seeds after this long.
    pub time_limit: Option<Duration>,
    /// Run every n-th seed twice and compare trace hashes (0: never).
    pub determinism_every: u64,
}

#[derive(Debug, Clone)]
pub struct Failure {
    pub seed: u64,
    pub reason: String,
}

impl Failure {
    pub fn replay_command(&self) -> String {
        format!("cargo run -p ember-sim --release -- --seed {}", self.seed)
    }
}

#[derive(Debug, Clone, Default)]
pub struct SwarmReport {
    pub ran: u64,
    pub failures: Vec<Failure>,
    pub probes: Probes,
    pub sim_ms: u64,
    pub wall: Duration,
    pub requests: u64,
}

impl SwarmReport {
    pub fn seeds_per_sec(&self) -> f64 {
        self.ran as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    pub fn sim_secs_per_wall_sec(&self) -> f64 {
        self.sim_ms as f64 / 1000.0 / self.wall.as_secs_f64().max(1e-9)
    }
}

/// Runs one seed, turning a panic in the simulator itself into a failure.
fn run_guarded(seed: u64) -> Result<crate::Outcome, String> {
    catch_unwind(AssertUnwindSafe(|| run_seed(seed, RunOptions::default()))).map_err(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        format!("[simulator] panicked: {msg}")
    })
}

/// Explores `options.seeds` seeds; `on_seed` sees each seed's result as it finishes.
pub fn swarm(
    options: &SwarmOptions,
    mut on_seed: impl FnMut(u64, &Result<crate::Outcome, String>),
) -> SwarmReport {
    let start = Instant::now();
    let mut report = SwarmReport::default();
    for seed in options.from..options.from.saturating_add(options.seeds) {
        if options.time_limit.is_some_and(|t| start.elapsed() >= t) {
            break;
        }
        let result = run_guarded(seed);
        report.ran += 1;
        on_seed(seed, &result);
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(reason) => {
                report.failures.push(Failure { seed, reason });
                continue;
            }
        };
        report.probes.merge(&outcome.probes);
        report.sim_ms += outcome.sim_ms;
        report.requests += outcome.requests;
        if let Some(v) = &outcome.violation {
            report.failures.push(Failure {
                seed,
                reason: v.to_string(),
            });
        } else if options.determinism_every > 0 && seed % options.determinism_every == 0 {
            if let Ok(again) = run_guarded(seed) {
                if again.trace_hash != outcome.trace_hash {
                    let reason = format!(
                        "[determinism] trace hash {:016x} then {:016x}",
                        outcome.trace_hash, again.trace_hash
                    );
                    report.failures.push(Failure { seed, reason });
                }
            }
        }
    }
    report.wall = start.elapsed();
    report
}
