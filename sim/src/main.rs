//! `ember-sim`: run one seed (`--seed N`, with `--trace` for the event log) or explore
//! many (`swarm --seeds K [--from S] [--time-limit SECS]`).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use ember_sim::probes::Probe;
use ember_sim::swarm::{swarm, SwarmOptions};
use ember_sim::{run_settings, RunOptions, Settings};

const USAGE: &str = "usage:
  ember-sim --seed N [--trace] [--plant BUG]
                                        replay one run, printing every setting
                                        (--plant needs --features planted-bugs)
  ember-sim swarm --seeds K [--from S] [--time-limit SECS] [--check-determinism N]
                                        explore K seeds from S (default: time-based)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args) {
        Ok(Command::One { seed, options }) => run_one(seed, options),
        Ok(Command::Swarm(options)) => run_swarm(&options),
        Err(e) => {
            eprintln!("ember-sim: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

enum Command {
    One { seed: u64, options: RunOptions },
    Swarm(SwarmOptions),
}

fn value<T: std::str::FromStr>(args: &[String], i: usize, flag: &str) -> Result<T, String> {
    args.get(i + 1)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{flag} needs a number"))
}

fn parse(args: &[String]) -> Result<Command, String> {
    let swarm_mode = args.first().map(String::as_str) == Some("swarm");
    let mut seed = None;
    let mut run = RunOptions::default();
    let mut options = SwarmOptions {
        from: 0,
        seeds: 100,
        time_limit: None,
        determinism_every: 10,
    };
    let mut i = usize::from(swarm_mode);
    while i < args.len() {
        match args[i].as_str() {
            "--seed" => seed = Some(value(args, i, "--seed")?),
            "--trace" => {
                run.trace = true;
                i += 1;
                continue;
            }
            #[cfg(feature = "planted-bugs")]
            "--plant" => {
                let name = args.get(i + 1).map(String::as_str).unwrap_or_default();
                let bug = ember_core::planted::Bug::from_name(name)
                    .ok_or_else(|| format!("no planted bug {name:?}"))?;
                run.planted = Some(bug);
            }
            "--seeds" => options.seeds = value(args, i, "--seeds")?,
            "--from" => options.from = value(args, i, "--from")?,
            "--time-limit" => {
                options.time_limit = Some(Duration::from_secs_f64(value(args, i, "--time-limit")?))
            }
            "--check-determinism" => {
                options.determinism_every = value(args, i, "--check-determinism")?
            }
            other => return Err(format!("unknown argument {other}")),
        }
        i += 2;
    }
    if swarm_mode {
        return Ok(Command::Swarm(options));
    }
    seed.map(|seed| Command::One { seed, options: run })
        .ok_or_else(|| "give --seed N or swarm".into())
}

fn run_one(seed: u64, options: RunOptions) -> ExitCode {
    let (features, plant) = replay_flags(&options);
    let settings = Settings::from_seed(seed);
    println!("{settings}");
    let start = Instant::now();
    let outcome = run_settings(settings, options);
    let wall = start.elapsed().as_secs_f64();
    println!(
        "ran {} ms of virtual time in {:.3} s ({:.0} simulated s per wall s): {} events, {} requests, {} executed",
        outcome.sim_ms,
        wall,
        outcome.sim_ms as f64 / 1000.0 / wall.max(1e-9),
        outcome.events,
        outcome.requests,
        outcome.executed
    );
    println!("probes: {}", outcome.probes);
    println!("trace hash {:016x}", outcome.trace_hash);
    match outcome.violation {
        None => {
            println!("seed {seed}: ok");
            ExitCode::SUCCESS
        }
        Some(v) => {
            println!("seed {seed}: FAILED {v}");
            println!(
                "replay: cargo run -p ember-sim --release{features} -- --seed {seed} --trace{plant}"
            );
            ExitCode::FAILURE
        }
    }
}

/// The cargo features and ember-sim flags that replay a run with these options.
fn replay_flags(options: &RunOptions) -> (String, String) {
    #[cfg(feature = "planted-bugs")]
    if let Some(bug) = options.planted {
        return (
            " --features planted-bugs".into(),
            format!(" --plant {bug:?}"),
        );
    }
    let _ = options;
    (String::new(), String::new())
}

fn run_swarm(options: &SwarmOptions) -> ExitCode {
    let report = swarm(options, |seed, result| {
        if let Ok(o) = result {
            if let Some(v) = &o.violation {
                println!("seed {seed}: FAILED {v}");
            }
        } else if let Err(e) = result {
            println!("seed {seed}: FAILED {e}");
        }
    });
    println!(
        "swarm: {} seeds from {} in {:.1} s ({:.1} seeds/s, {:.0} simulated s per wall s, {} requests)",
        report.ran,
        options.from,
        report.wall.as_secs_f64(),
        report.seeds_per_sec(),
        report.sim_secs_per_wall_sec(),
        report.requests
    );
    println!("probes: {}", report.probes);
    let missing: Vec<&str> = report
        .probes
        .missing()
        .iter()
        .map(|p: &Probe| p.name())
        .collect();
    if !missing.is_empty() {
        println!("probes that never fired: {}", missing.join(" "));
    }
    if report.failures.is_empty() {
        println!("no failures");
        return ExitCode::SUCCESS;
    }
    println!("{} failures:", report.failures.len());
    for f in &report.failures {
        println!(
            "  seed {}: {}\n    replay: {}",
            f.seed,
            f.reason,
            f.replay_command()
        );
    }
    ExitCode::FAILURE
}
