//! A small swarm as CI runs it: every seed's world must pass every checker. A failure
//! prints the seed and the command that replays it.

use ember_sim::probes::Probe;
use ember_sim::swarm::{swarm, SwarmOptions};

#[test]
fn a_small_swarm_passes_every_checker() {
    let options = SwarmOptions {
        from: 1_000,
        seeds: 32,
        time_limit: None,
        determinism_every: 8,
    };
    let report = swarm(&options, |_, _| {});
    let failures: Vec<String> = report
        .failures
        .iter()
        .map(|f| {
            format!(
                "seed {}: {}\n  replay: {}",
                f.seed,
                f.reason,
                f.replay_command()
            )
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(report.ran, 32);
    // The swarm reaches faults and interleavings, not only the happy path.
    for probe in [
        Probe::ModelChecked,
        Probe::SplitRequest,
        Probe::ConnectionReset,
        Probe::ClockJumpForward,
        Probe::BlockedTimedOut,
        Probe::WrongType,
        Probe::SaveCompleted,
    ] {
        assert!(
            report.probes.get(probe) > 0,
            "{} never fired: {}",
            probe.name(),
            report.probes
        );
    }
}
