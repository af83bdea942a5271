//! Everything one run does is decided here from its seed (swarm testing: each seed
//! picks its own fault probabilities, client count, workload mix, key space and
//! durations, so a swarm explores many different worlds rather than one average one).

use std::fmt;

use crate::disk::DiskFaults;
use crate::rng::Rng;
use crate::workload::{WorkloadConfig, FAMILIES};

/// Streams of the run seed. Each component seeds its own generators from its sub-seed.
const STREAM_SETTINGS: u64 = 1;

/// Independent seeds for each component, drawn from the run seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubSeeds {
    pub network: u64,
    pub disk: u64,
    pub clock: u64,
    pub workload: u64,
    pub nodes: u64,
    pub faults: u64,
}

/// Network behaviour (virtual microseconds).
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkSettings {
    pub latency_us_min: u64,
    pub latency_us_max: u64,
    /// Chance a segment takes the long tail (up to `tail_us_max`).
    pub tail_probability: f64,
    pub tail_us_max: u64,
    /// Chance a new connection is slow (its latencies multiplied by `slow_factor`).
    pub slow_link_probability: f64,
    pub slow_factor: u64,
    /// Largest piece a request or reply is cut into (1 exercises byte-by-byte framing).
    pub split_bytes_max: u64,
}

/// Mean time between faults of each kind, in virtual ms (`None`: the kind is off).
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSettings {
    pub reset_every_ms: Option<u64>,
    pub partition_every_ms: Option<u64>,
    pub partition_ms_max: u64,
    pub stall_every_ms: Option<u64>,
    pub stall_ms_max: u64,
    pub clock_jump_every_ms: Option<u64>,
    pub clock_jump_ms_max: u64,
    /// Whether clock jumps may go backward (the model checker needs them forward only).
    pub clock_jump_backward: bool,
    pub crash_every_ms: Option<u64>,
    pub restart_ms_max: u64,
    /// Chance that a node loses power while an fsync it asked for is in flight (a
    /// crash aimed at the window where written bytes are not yet durable).
    pub crash_in_fsync_probability: f64,
}

impl FaultSettings {
    pub fn none() -> FaultSettings {
        FaultSettings {
            reset_every_ms: None,
            partition_every_ms: None,
            partition_ms_max: 0,
            stall_every_ms: None,
            stall_ms_max: 0,
            clock_jump_every_ms: None,
            clock_jump_ms_max: 0,
            clock_jump_backward: false,
            crash_every_ms: None,
            restart_ms_max: 0,
            crash_in_fsync_probability: 0.0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub seed: u64,
    pub seeds: SubSeeds,
    pub nodes: usize,
    pub clients: usize,
    /// Virtual ms during which faults happen; then the world quiets down.
    pub fault_ms: u64,
    /// Virtual ms after faults stop, for liveness.
    pub quiet_ms: u64,
    /// Largest pipeline a client sends before waiting for replies.
    pub pipeline_max: u64,
    pub think_ms_max: u64,
    pub hz: u32,
    pub clock_skew_ms_max: u64,
    pub clock_drift_ppm_max: u64,
    pub network: NetworkSettings,
    pub disk: DiskFaults,
    pub faults: FaultSettings,
    pub workload: WorkloadConfig,
    /// The nodes' RDB `save` points (`None`: no persistence, a crash loses all).
    pub save: Option<&'static str>,
    /// `appendonly yes` with this `appendfsync` policy (`None`: no AOF).
    pub appendfsync: Option<&'static str>,
    /// `auto-aof-rewrite-min-size` in bytes: small in some seeds, so automatic
    /// rewrites (and crashes in the middle of one) happen within a run.
    pub aof_rewrite_min_bytes: u64,
}

/// Save points short enough to fire within a run (seconds, changes).
const SAVE_POINTS: &[&str] = &["1 1", "1 20", "2 1 1 100", "4 5"];

fn maybe(rng: &mut Rng, p: f64, lo: u64, hi: u64) -> Option<u64> {
    rng.chance(p).then(|| rng.range(lo, hi))
}

impl Settings {
    /// Draws every setting of the run from `seed`.
    pub fn from_seed(seed: u64) -> Settings {
        let mut rng = Rng::new(seed, STREAM_SETTINGS);
        let seeds = SubSeeds {
            network: rng.u64(),
            disk: rng.u64(),
            clock: rng.u64(),
            workload: rng.u64(),
            nodes: rng.u64(),
            faults: rng.u64(),
        };
        let network = NetworkSettings {
            latency_us_min: rng.range(0, 200),
            latency_us_max: rng.range(200, 20_000),
            tail_probability: *rng.pick(&[0.0, 0.01, 0.1]),
            tail_us_max: rng.range(20_000, 300_000),
            slow_link_probability: *rng.pick(&[0.0, 0.1, 0.5]),
            slow_factor: rng.range(2, 20),
            split_bytes_max: *rng.pick(&[1, 3, 16, 64, 4096]),
        };
        let disk = DiskFaults {
            capacity_bytes: *rng.pick(&[u64::MAX, 1 << 20, 4096]),
            torn_write_probability: *rng.pick(&[0.0, 0.3, 1.0]),
            fsync_error_probability: *rng.pick(&[0.0, 0.0, 0.05]),
            latency_us_min: rng.range(10, 100),
            latency_us_max: rng.range(100, 20_000),
        };
        let faults = Self::draw_faults(&mut rng);
        let workload = Self::draw_workload(&mut rng);
        let nodes = rng.range(1, 2) as usize;
        let clients = rng.range(1, 8) as usize;
        let fault_ms = rng.range(2_000, 20_000);
        let pipeline_max = *rng.pick(&[1, 1, 2, 5]);
        let think_ms_max = *rng.pick(&[0, 5, 50, 300]);
        let hz = *rng.pick(&[1, 10, 10, 100]);
        let clock_skew_ms_max = *rng.pick(&[0, 50, 5_000]);
        let clock_drift_ppm_max = *rng.pick(&[0, 100, 50_000]);
        // Drawn last, so adding it kept every other setting of a seed as it was.
        let save = rng.chance(0.6).then(|| *rng.pick(SAVE_POINTS));
        // A slow disk in some seeds keeps saves in flight long enough for crashes to
        // land in the middle of one.
        let mut disk = disk;
        if rng.chance(0.3) {
            disk.latency_us_max *= 20;
        }
        let appendfsync = rng
            .chance(0.4)
            .then(|| *rng.pick(&["always", "always", "everysec", "no"]));
        let mut workload = workload;
        // With an AOF there is a promise to check, so the durable lists are always
        // in the mix.
        workload.durable_probability = if appendfsync.is_some() {
            *rng.pick(&[0.05, 0.1, 0.2])
        } else {
            *rng.pick(&[0.0, 0.05, 0.2])
        };
        let mut faults = faults;
        if faults.crash_every_ms.is_some() || rng.chance(0.3) {
            faults.crash_in_fsync_probability = *rng.pick(&[0.0, 0.02, 0.1]);
        }
        let aof_rewrite_min_bytes = *rng.pick(&[64 << 20, 2_048, 16_384]);
        Settings {
            seed,
            seeds,
            nodes,
            clients,
            fault_ms,
            quiet_ms: 5_000,
            pipeline_max,
            think_ms_max,
            hz,
            clock_skew_ms_max,
            clock_drift_ppm_max,
            network,
            disk,
            faults,
            workload,
            save,
            appendfsync,
            aof_rewrite_min_bytes,
        }
    }

    fn draw_faults(rng: &mut Rng) -> FaultSettings {
        if rng.chance(0.25) {
            return FaultSettings::none();
        }
        FaultSettings {
            reset_every_ms: maybe(rng, 0.5, 200, 5_000),
            partition_every_ms: maybe(rng, 0.4, 500, 5_000),
            partition_ms_max: rng.range(10, 3_000),
            stall_every_ms: maybe(rng, 0.4, 300, 5_000),
            stall_ms_max: rng.range(10, 2_000),
            clock_jump_every_ms: maybe(rng, 0.5, 300, 5_000),
            clock_jump_ms_max: *rng.pick(&[10, 1_000, 20_000]),
            clock_jump_backward: rng.chance(0.5),
            crash_every_ms: maybe(rng, 0.3, 1_000, 10_000),
            restart_ms_max: rng.range(1, 2_000),
            crash_in_fsync_probability: 0.0,
        }
    }

    fn draw_workload(rng: &mut Rng) -> WorkloadConfig {
        let mut weights = [0u32; 9];
        for w in weights.iter_mut() {
            *w = if rng.chance(0.7) {
                rng.range(1, 10) as u32
            } else {
                0
            };
        }
        if weights.iter().all(|&w| w == 0) {
            weights[0] = 1;
        }
        // Half the runs keep to commands the reference model answers exactly.
        if rng.chance(0.5) {
            weights[6] = 0;
            weights[7] = 0;
        }
        if weights.iter().all(|&w| w == 0) {
            weights[0] = 1;
        }
        WorkloadConfig {
            weights,
            keyspace: *rng.pick(&[1, 2, 5, 20, 100]),
            shared_key_probability: *rng.pick(&[0.0, 0.05, 0.3]),
            inline_probability: *rng.pick(&[0.0, 0.2]),
            ttl_ms_max: *rng.pick(&[50, 1_000, 10_000]),
            block_ms_max: *rng.pick(&[10, 500, 3_000]),
            durable_probability: 0.0,
        }
    }

    /// Whether the reference model can check this run: a deterministic command mix and
    /// clocks that never go back (active expiry at a later clock reading than a lazy
    /// lookup would see is then invisible). Replies an AOF holds back are checked at
    /// the clock their command ran at (`Node::track_reply_origins`).
    pub fn model_checked(&self) -> bool {
        self.workload.deterministic()
            && !(self.faults.clock_jump_every_ms.is_some() && self.faults.clock_jump_backward)
    }

    pub fn end_ms(&self) -> u64 {
        self.fault_ms + self.quiet_ms
    }
}

fn every(v: Option<u64>) -> String {
    v.map_or("off".into(), |ms| format!("every ~{ms} ms"))
}

impl fmt::Display for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.seeds;
        writeln!(f, "seed {}", self.seed)?;
        writeln!(
            f,
            "  sub-seeds: network {} disk {} clock {} workload {} nodes {} faults {}",
            s.network, s.disk, s.clock, s.workload, s.nodes, s.faults
        )?;
        writeln!(
            f,
            "  nodes {} clients {} hz {} pipeline<= {} think<= {} ms",
            self.nodes, self.clients, self.hz, self.pipeline_max, self.think_ms_max
        )?;
        writeln!(
            f,
            "  faults for {} ms, then quiet for {} ms",
            self.fault_ms, self.quiet_ms
        )?;
        writeln!(
            f,
            "  clocks: skew<= {} ms, drift<= {} ppm",
            self.clock_skew_ms_max, self.clock_drift_ppm_max
        )?;
        let n = &self.network;
        writeln!(f, "  network: latency {}..{} us, tail {} up to {} us, slow links {} x{}, split<= {} bytes", n.latency_us_min, n.latency_us_max, n.tail_probability, n.tail_us_max, n.slow_link_probability, n.slow_factor, n.split_bytes_max)?;
        let d = &self.disk;
        let cap = if d.capacity_bytes == u64::MAX {
            "unlimited".into()
        } else {
            d.capacity_bytes.to_string()
        };
        writeln!(
            f,
            "  disk: capacity {cap}, torn {} fsync-error {} latency {}..{} us; save points {}",
            d.torn_write_probability,
            d.fsync_error_probability,
            d.latency_us_min,
            d.latency_us_max,
            self.save.map_or("off".into(), |s| format!("\"{s}\"")),
        )?;
        writeln!(
            f,
            "  aof: {}",
            self.appendfsync.map_or("off".into(), |p| format!(
                "appendfsync {p}, auto-aof-rewrite-min-size {}",
                self.aof_rewrite_min_bytes
            ))
        )?;
        let x = &self.faults;
        writeln!(
            f,
            "  resets {}; partitions {} (<= {} ms); stalled readers {} (<= {} ms)",
            every(x.reset_every_ms),
            every(x.partition_every_ms),
            x.partition_ms_max,
            every(x.stall_every_ms),
            x.stall_ms_max
        )?;
        writeln!(
            f,
            "  clock jumps {} (<= {} ms, backward {}); crashes {} (down <= {} ms), in fsync {}",
            every(x.clock_jump_every_ms),
            x.clock_jump_ms_max,
            x.clock_jump_backward,
            every(x.crash_every_ms),
            x.restart_ms_max,
            x.crash_in_fsync_probability
        )?;
        let w = &self.workload;
        let mix: Vec<String> = FAMILIES
            .iter()
            .zip(w.weights)
            .map(|(fam, wt)| format!("{fam:?}={wt}"))
            .collect();
        writeln!(f, "  workload: {}", mix.join(" "))?;
        writeln!(
            f,
            "  keys {} per type, shared {} inline {} ttl<= {} ms block<= {} ms",
            w.keyspace,
            w.shared_key_probability,
            w.inline_probability,
            w.ttl_ms_max,
            w.block_ms_max
        )?;
        write!(
            f,
            "  checkers: model {}, expiry on, liveness on",
            if self.model_checked() {
                "on"
            } else {
                "off (non-deterministic mix or backward clock jumps)"
            }
        )
    }
}
