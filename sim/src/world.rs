//! The world: nodes, clients and the links between them, driven in one thread by
//! virtual time. Everything happens as an event popped from one queue ordered by
//! (time, sequence), and every random choice comes from a generator seeded from the
//! run seed, so a run is a function of its seed.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};

use bytes::Bytes;
use ember_core::{Config, ConnId, DiskOp, DiskOpId, Input, Node, Output};

use crate::checker::durability::{DurabilityChecker, Promise};
use crate::checker::expiry::ExpiryChecker;
use crate::checker::liveness::LivenessChecker;
use crate::checker::model::ModelChecker;
use crate::checker::{Checker, Exec, Observation, RequestId, Violation};
use crate::clock::{Clock, EPOCH_MS, US_PER_MS};
use crate::disk::Disk;
use crate::network::{Network, Payload, Pipe};
use crate::probes::{Probe, Probes};
use crate::resp::{decode, show_args, Reply};
use crate::rng::Rng;
use crate::settings::Settings;
use crate::trace::Trace;
use crate::workload::{Request, RequestKind, Workload};

/// How a run is observed and (for tests of the checkers) sabotaged.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Print every event as it happens.
    pub trace: bool,
    /// Replace the reply to this request (by id) with a wrong one, to show that the
    /// checkers notice. Tests only.
    pub corrupt_reply_of: Option<RequestId>,
    /// A deliberate fault planted in every node (the mutation check).
    #[cfg(feature = "planted-bugs")]
    pub planted: Option<ember_core::planted::Bug>,
}

/// What one run did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub seed: u64,
    pub trace_hash: u64,
    /// The first violation, which also ended the run.
    pub violation: Option<Violation>,
    pub probes: Probes,
    /// Virtual time the run covered, ms.
    pub sim_ms: u64,
    pub events: u64,
    pub requests: u64,
    pub executed: u64,
}

#[derive(Debug)]
enum Event {
    /// A client's timer: connect, or send its next batch.
    ClientWake {
        client: usize,
        generation: u64,
    },
    /// A connection attempt reaches its node.
    Accept {
        conn: ConnId,
    },
    /// The node's acceptance reaches the client.
    Connected {
        conn: ConnId,
    },
    Deliver {
        conn: ConnId,
        to_node: bool,
    },
    NodeTick {
        node: usize,
    },
    DiskDone {
        node: usize,
        incarnation: u64,
    },
    NodeInput {
        node: usize,
        incarnation: u64,
        input: Input,
    },
    Fault(FaultKind),
    /// A crash aimed at an fsync in flight: the node loses power before it completes.
    CrashInFsync {
        node: usize,
        incarnation: u64,
    },
    Restart {
        node: usize,
    },
    FaultsStop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FaultKind {
    Reset,
    Partition,
    Stall,
    ClockJump,
    Crash,
}

struct Scheduled {
    at: u64,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    /// Reversed: the heap pops the earliest (time, sequence) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

struct NodeSlot {
    node: Option<Node>,
    incarnation: u64,
    clock: Clock,
    disk: Disk,
    disk_queue: VecDeque<(DiskOpId, DiskOp)>,
    disk_free_at: u64,
    /// The tick event in the queue (virtual time), if any.
    tick_at: Option<u64>,
    /// Seeds for each incarnation's `Node`.
    seeds: Rng,
    /// DEBUG SLEEP: the node reads nothing until then.
    busy_until: u64,
    /// The node's save counts (started, completed) last seen.
    saves: (u64, u64),
    /// Disk requests of this incarnation that failed (fsync error, full disk).
    disk_errors: u64,
    /// Per event of this incarnation whose replies may still be held by the AOF:
    /// the connection whose bytes it received (for `flush_execs`).
    event_inputs: BTreeMap<u64, Option<ConnId>>,
}

/// The event of a node that produced a reply: its number and the node's clock then.
/// With an AOF a reply may leave events later than its command ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Origin {
    event: u64,
    node_ms: u64,
}

/// A connection the client side has dropped while the node may still answer
/// requests it ran before it saw the close (replies the AOF held): its replies are
/// decoded for the checkers and go nowhere.
struct Ghost {
    incarnation: u64,
    at_node: VecDeque<RequestId>,
    node_out: Vec<u8>,
}

struct Conn {
    client: usize,
    node: usize,
    incarnation: u64,
    slow: u64,
    to_node: Pipe,
    to_client: Pipe,
    /// Requests not yet answered by the node, in order.
    at_node: VecDeque<RequestId>,
    /// Requests whose reply the client has not read yet, in order.
    at_client: VecDeque<RequestId>,
    node_out: Vec<u8>,
    client_in: Vec<u8>,
    /// The node has not closed (or forgotten) its side.
    node_open: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientState {
    Disconnected,
    Connecting,
    Connected,
}

struct ClientSlot {
    node: usize,
    conn: Option<ConnId>,
    state: ClientState,
    workload: Workload,
    rng: Rng,
    generation: u64,
    partitioned_until: u64,
    stalled_until: u64,
}

struct RequestRecord {
    client: usize,
    request: Request,
    /// The reply bytes the node produced (after any test sabotage).
    reply: Option<Vec<u8>>,
}

pub struct World {
    settings: Settings,
    options: RunOptions,
    vt: u64,
    seq: u64,
    queue: BinaryHeap<Scheduled>,
    nodes: Vec<NodeSlot>,
    clients: Vec<ClientSlot>,
    conns: BTreeMap<ConnId, Conn>,
    next_conn: ConnId,
    requests: Vec<RequestRecord>,
    network: Network,
    faults: Rng,
    checkers: Vec<Box<dyn Checker>>,
    probes: Probes,
    trace: Trace,
    violation: Option<Violation>,
    events: u64,
    executed: u64,
    faults_on: bool,
    /// Replies decoded during the current `feed`, in output order, not yet shown to
    /// the checkers (see `flush_execs`).
    execs: Vec<(RequestId, ConnId, Reply, Origin)>,
    /// Dropped connections whose node side may still send replies.
    ghosts: BTreeMap<ConnId, Ghost>,
}

/// Bound on the events of one run (a busy run has a few hundred thousand).
const EVENTS_MAX: u64 = 20_000_000;

/// Stream numbers within a component's sub-seed.
const STREAM_NETWORK: u64 = 0;
const STREAM_FAULTS: u64 = 0;

impl World {
    pub fn new(settings: Settings, options: RunOptions) -> World {
        let s = &settings;
        let mut clock_rng = Rng::new(s.seeds.clock, 0);
        let nodes = (0..s.nodes)
            .map(|i| {
                let skew =
                    clock_rng.range(0, 2 * s.clock_skew_ms_max) as i64 - s.clock_skew_ms_max as i64;
                let drift = clock_rng.range(0, 2 * s.clock_drift_ppm_max) as i64
                    - s.clock_drift_ppm_max as i64;
                NodeSlot {
                    node: None,
                    incarnation: 0,
                    clock: Clock::new(skew, drift),
                    disk: Disk::new(s.disk.clone(), Rng::new(s.seeds.disk, i as u64)),
                    disk_queue: VecDeque::new(),
                    disk_free_at: 0,
                    tick_at: None,
                    seeds: Rng::new(s.seeds.nodes, i as u64),
                    busy_until: 0,
                    saves: (0, 0),
                    disk_errors: 0,
                    event_inputs: BTreeMap::new(),
                }
            })
            .collect();
        let clients = (0..s.clients)
            .map(|i| ClientSlot {
                node: i % s.nodes,
                conn: None,
                state: ClientState::Disconnected,
                workload: Workload::new(
                    s.workload.clone(),
                    Rng::new(s.seeds.workload, 2 * i as u64),
                    i,
                ),
                rng: Rng::new(s.seeds.workload, 2 * i as u64 + 1),
                generation: 0,
                partitioned_until: 0,
                stalled_until: 0,
            })
            .collect();
        let network = Network::new(s.network.clone(), Rng::new(s.seeds.network, STREAM_NETWORK));
        let mut checkers: Vec<Box<dyn Checker>> = vec![
            Box::new(ExpiryChecker::new(s.nodes)),
            Box::new(DurabilityChecker::new(
                s.nodes,
                Promise::from_appendfsync(s.appendfsync),
            )),
            Box::new(LivenessChecker::new(liveness_bound_us(s, &network))),
        ];
        if s.model_checked() {
            checkers.push(Box::new(ModelChecker::new(
                s.nodes,
                s.appendfsync.is_some(),
            )));
        }
        World {
            faults: Rng::new(s.seeds.faults, STREAM_FAULTS),
            trace: Trace::new(options.trace),
            settings,
            options,
            vt: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            nodes,
            clients,
            conns: BTreeMap::new(),
            next_conn: 1,
            requests: Vec::new(),
            network,
            checkers,
            probes: Probes::new(),
            violation: None,
            events: 0,
            executed: 0,
            faults_on: true,
            execs: Vec::new(),
            ghosts: BTreeMap::new(),
        }
    }

    fn schedule(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.queue.push(Scheduled {
            at,
            seq: self.seq,
            event,
        });
    }

    /// Runs the world to its end (or its first violation).
    pub fn run(mut self) -> Outcome {
        for n in 0..self.nodes.len() {
            self.start_node(n);
        }
        for c in 0..self.clients.len() {
            self.wake_client(c, 0);
        }
        self.schedule_first_faults();
        let fault_end = self.settings.fault_ms * US_PER_MS;
        self.schedule(fault_end, Event::FaultsStop);
        let end = self.settings.end_ms() * US_PER_MS;
        while let Some(next) = self.queue.pop() {
            if next.at > end || self.violation.is_some() {
                break;
            }
            self.vt = next.at;
            self.events += 1;
            if self.events > EVENTS_MAX {
                let message =
                    format!("more than {EVENTS_MAX} events: a livelock in the node or the world");
                self.fail("runaway", message);
                break;
            }
            self.handle(next.event);
        }
        self.vt = self.vt.max(end);
        if self.violation.is_none() {
            for i in 0..self.checkers.len() {
                if let Err(message) = self.checkers[i].finish(end) {
                    let checker = self.checkers[i].name();
                    self.violation = Some(Violation {
                        checker,
                        vt: end,
                        message,
                    });
                    break;
                }
            }
        }
        self.finish_probes();
        Outcome {
            seed: self.settings.seed,
            trace_hash: self.trace.hash(),
            violation: self.violation,
            probes: self.probes,
            sim_ms: self.vt / US_PER_MS,
            events: self.events,
            requests: self.requests.len() as u64,
            executed: self.executed,
        }
    }

    fn finish_probes(&mut self) {
        for slot in &self.nodes {
            let c = &slot.disk.counts;
            self.probes.add(Probe::DiskTornWrite, c.torn_writes);
            self.probes.add(Probe::DiskUnsyncedLoss, c.unsynced_losses);
            self.probes.add(Probe::DiskFsyncError, c.fsync_errors);
            self.probes.add(Probe::DiskFull, c.disk_full);
        }
    }

    fn observe(&mut self, obs: Observation<'_>) {
        dispatch(
            &mut self.checkers,
            &mut self.probes,
            &mut self.violation,
            self.vt,
            &obs,
        );
    }

    fn fail(&mut self, checker: &'static str, message: String) {
        if self.violation.is_none() {
            self.violation = Some(Violation {
                checker,
                vt: self.vt,
                message,
            });
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::ClientWake { client, generation } => {
                if self.clients[client].generation == generation {
                    self.client_wake(client);
                }
            }
            Event::Accept { conn } => self.accept(conn),
            Event::Connected { conn } => self.connected(conn),
            Event::Deliver { conn, to_node } => self.deliver(conn, to_node),
            Event::NodeTick { node } => {
                if self.nodes[node].tick_at == Some(self.vt) {
                    self.nodes[node].tick_at = None;
                    self.trace.event(self.vt, format_args!("n{node} tick"));
                    self.feed(node, Input::Tick);
                }
            }
            Event::DiskDone { node, incarnation } => self.disk_done(node, incarnation),
            Event::NodeInput {
                node,
                incarnation,
                input,
            } => {
                if self.nodes[node].incarnation == incarnation && self.nodes[node].node.is_some() {
                    self.feed(node, input);
                }
            }
            Event::Fault(kind) => self.fault(kind),
            Event::CrashInFsync { node, incarnation } => {
                if self.faults_on && self.nodes[node].incarnation == incarnation {
                    self.probes.hit(Probe::CrashDuringFsync);
                    self.crash_node(node, true);
                }
            }
            Event::Restart { node } => self.restart(node),
            Event::FaultsStop => {
                self.faults_on = false;
                self.trace.event(self.vt, format_args!("faults stop"));
                let vt = self.vt;
                self.observe(Observation::FaultsStopped { vt });
            }
        }
    }

    // ----- nodes -----

    fn start_node(&mut self, n: usize) {
        let vt = self.vt;
        let slot = &mut self.nodes[n];
        let config = node_config(&self.settings);
        let seed = slot.seeds.seed32();
        let now = slot.clock.now(vt);
        slot.incarnation += 1;
        let mut node = Node::new(config, seed, now);
        node.track_reply_origins();
        #[cfg(feature = "planted-bugs")]
        node.plant(self.options.planted);
        // As the runtime does: read the dump (an empty start when there is none).
        node.start(now);
        slot.node = Some(node);
        slot.tick_at = None;
        slot.busy_until = 0;
        slot.saves = (0, 0);
        slot.event_inputs.clear();
        slot.disk_errors = 0;
        self.trace.event(
            vt,
            format_args!(
                "n{n} start (incarnation {}) at node clock {now}",
                slot.incarnation
            ),
        );
        let incarnation = slot.incarnation;
        self.ghosts.retain(|_, g| g.incarnation == incarnation);
        self.drain(
            n,
            Origin {
                event: 0,
                node_ms: now,
            },
        );
    }

    /// Hands one input to a node, then carries out what it asks for.
    fn feed(&mut self, n: usize, input: Input) {
        let vt = self.vt;
        let slot = &mut self.nodes[n];
        let now = slot.clock.now(vt);
        let Some(node) = slot.node.as_mut() else {
            return;
        };
        self.trace.input(vt, n, now, &input);
        let input_conn = match &input {
            Input::Received { conn, .. } => Some(*conn),
            _ => None,
        };
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| node.handle(now, input))) {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            self.fail("panic", format!("node {n} panicked: {msg}"));
            return;
        }
        let event = node.events_handled();
        slot.event_inputs.insert(event, input_conn);
        self.drain(
            n,
            Origin {
                event,
                node_ms: now,
            },
        );
        self.flush_execs(n);
        self.note_saves(n);
    }

    /// Tells the checkers when a node's save began (its image is the dataset after
    /// the `Exec`s just shown) and when it reached the disk.
    fn note_saves(&mut self, n: usize) {
        let slot = &mut self.nodes[n];
        let Some(node) = slot.node.as_ref() else {
            return;
        };
        let (started, completed) = node.save_counts();
        let (seen_started, seen_completed) =
            std::mem::replace(&mut slot.saves, (started, completed));
        let vt = self.vt;
        if completed > seen_completed {
            self.probes.hit(Probe::SaveCompleted);
            self.trace.event(vt, format_args!("n{n} save completed"));
            self.observe(Observation::SaveCompleted { node: n, vt });
        }
        if started > seen_started {
            self.trace.event(vt, format_args!("n{n} save started"));
            self.observe(Observation::SaveStarted { node: n, vt });
        }
    }

    /// Shows the replies of one `feed` to the checkers in the node's execution order.
    fn flush_execs(&mut self, n: usize) {
        let mut execs = std::mem::take(&mut self.execs);
        // Replies the AOF held leave in the order their events ran, but a feed may
        // release several events' replies at once: each event's are ordered alone.
        execs.sort_by_key(|(_, _, _, origin)| origin.event);
        let Some(last) = execs.last().map(|e| e.3.event) else {
            return;
        };
        let mut rest = execs.into_iter().peekable();
        while let Some(first) = rest.next() {
            let event = first.3.event;
            let mut group = vec![first];
            while let Some(next) = rest.next_if(|e| e.3.event == event) {
                group.push(next);
            }
            let input_conn = self.nodes[n].event_inputs.get(&event).copied().flatten();
            let current = self.nodes[n].node.as_ref().map(Node::events_handled);
            if current.is_some_and(|c| c > event) {
                self.probes.hit(Probe::HeldRepliesReleased);
            }
            for (id, _, reply, origin) in self.in_execution_order(group, input_conn) {
                self.on_exec(n, id, reply, origin.node_ms);
                if self.violation.is_some() {
                    return;
                }
            }
        }
        // Held replies leave in event order: nothing older than `last` is coming.
        self.nodes[n].event_inputs.retain(|e, _| *e > last);
    }

    /// One event's replies in the order their commands ran. Output order is that
    /// order except for clients woken from a blocking command: the node runs a woken
    /// command right after the command that made its key ready (as Redis does), but
    /// flushes its reply before the waker's batch. So a woken reply moves to just
    /// after the first reply of a command that pushed to one of its keys (or to the
    /// end: woken by a timeout).
    fn in_execution_order(
        &self,
        execs: Vec<(RequestId, ConnId, Reply, Origin)>,
        input_conn: Option<ConnId>,
    ) -> Vec<(RequestId, ConnId, Reply, Origin)> {
        let mut ordered: Vec<usize> = Vec::with_capacity(execs.len());
        let mut woken = Vec::new();
        let mut seen_conns = Vec::new();
        for (i, (id, conn, _, _)) in execs.iter().enumerate() {
            let first_of_conn = !seen_conns.contains(conn);
            seen_conns.push(*conn);
            let blocking = matches!(
                self.requests[*id as usize].request.kind,
                RequestKind::Blocking { .. }
            );
            if blocking && first_of_conn && Some(*conn) != input_conn {
                woken.push(i);
            } else {
                ordered.push(i);
            }
        }
        for w in woken {
            let waits_on = &self.requests[execs[w].0 as usize].request.args;
            let waker = ordered.iter().position(|&i| {
                let (id, _, reply, _) = &execs[i];
                let args = &self.requests[*id as usize].request.args;
                !reply.is_error()
                    && pushes(args)
                    && args[1..].iter().any(|a| waits_on[1..].contains(a))
            });
            match waker {
                Some(p) => ordered.insert(p + 1, w),
                None => ordered.push(w),
            }
        }
        let mut execs: Vec<Option<_>> = execs.into_iter().map(Some).collect();
        ordered
            .into_iter()
            .map(|i| execs[i].take().expect("each reply once"))
            .collect()
    }

    /// Carries out the node's outputs from the event `current`. Replies the AOF held
    /// and released now keep the event that produced them.
    fn drain(&mut self, n: usize, current: Origin) {
        let mut released: BTreeMap<ConnId, VecDeque<Origin>> = BTreeMap::new();
        if let Some(node) = self.nodes[n].node.as_mut() {
            for o in node.take_reply_origins() {
                released.entry(o.conn).or_default().push_back(Origin {
                    event: o.event,
                    node_ms: o.now,
                });
            }
        }
        loop {
            let Some(node) = self.nodes[n].node.as_mut() else {
                return;
            };
            let Some(output) = node.poll_output() else {
                break;
            };
            let origin = match &output {
                Output::Send { conn, .. } => released
                    .get_mut(conn)
                    .and_then(VecDeque::pop_front)
                    .unwrap_or(current),
                _ => current,
            };
            self.output(n, output, origin);
            if self.violation.is_some() {
                return;
            }
        }
        self.schedule_tick(n);
    }

    /// Ticks the node when `poll_timeout` says, and at least once a second as the
    /// tokio runtime does (its timer sleeps at most one second).
    fn schedule_tick(&mut self, n: usize) {
        let vt = self.vt;
        let slot = &mut self.nodes[n];
        let Some(node) = slot.node.as_ref() else {
            return;
        };
        let mut at = vt + 1000 * US_PER_MS;
        if let Some(deadline) = node.poll_timeout() {
            at = at.min(slot.clock.vt_when(vt, deadline).max(vt + US_PER_MS));
        }
        if slot.tick_at.is_some_and(|t| t <= at && t >= vt) {
            return;
        }
        slot.tick_at = Some(at);
        self.schedule(at, Event::NodeTick { node: n });
    }

    fn output(&mut self, n: usize, output: Output, origin: Origin) {
        let vt = self.vt;
        match output {
            Output::Send { conn, bytes } => self.node_send(n, conn, &bytes, origin),
            Output::Close { conn } | Output::Disconnect { conn } => {
                self.trace.event(vt, format_args!("n{n} close c#{conn}"));
                if let Some(c) = self.conns.get_mut(&conn) {
                    if c.node_open {
                        c.node_open = false;
                        let at = vt + self.network.latency_us(c.slow);
                        c.to_client.push(at, Payload::Fin);
                        self.kick(conn, false);
                    }
                }
            }
            Output::Connect { conn, addr } => {
                // Node-to-node links arrive with replication; until then no peer listens.
                let incarnation = self.nodes[n].incarnation;
                let input = Input::ConnectFailed {
                    conn,
                    error: format!("connect to {addr}: Connection refused"),
                };
                let at = vt + self.network.latency_us(1);
                self.schedule(
                    at,
                    Event::NodeInput {
                        node: n,
                        incarnation,
                        input,
                    },
                );
            }
            Output::Disk { id, op } => {
                self.trace.event(vt, format_args!("n{n} disk #{id} {op:?}"));
                let is_fsync = matches!(op, DiskOp::Fsync { .. });
                let slot = &mut self.nodes[n];
                let at = slot.disk_free_at.max(vt) + slot.disk.latency_us();
                slot.disk_free_at = at;
                slot.disk_queue.push_back((id, op));
                let incarnation = slot.incarnation;
                let aim = is_fsync
                    && self.faults_on
                    && self
                        .faults
                        .chance(self.settings.faults.crash_in_fsync_probability);
                if aim {
                    let crash_at = self.faults.range(vt, at.saturating_sub(1).max(vt));
                    self.schedule(
                        crash_at,
                        Event::CrashInFsync {
                            node: n,
                            incarnation,
                        },
                    );
                }
                self.schedule(
                    at,
                    Event::DiskDone {
                        node: n,
                        incarnation,
                    },
                );
            }
            Output::Log { level, line } => {
                if line.starts_with("Done loading RDB, keys loaded: ")
                    && !line.starts_with("Done loading RDB, keys loaded: 0,")
                {
                    self.probes.hit(Probe::DumpLoaded);
                }
                if line.starts_with("!!! Truncating the AOF ") {
                    self.probes.hit(Probe::AofTornTailLoaded);
                }
                if line.starts_with("Background AOF rewrite finished successfully") {
                    self.probes.hit(Probe::AofRewriteCompleted);
                }
                self.trace
                    .event(vt, format_args!("n{n} log {level:?} {line}"));
            }
            Output::Sleep { ms } => self.nodes[n].busy_until = vt + ms * US_PER_MS,
            Output::Stop { code } => {
                self.trace.event(vt, format_args!("n{n} stop {code}"));
                if code != 0 && self.nodes[n].disk_errors == 0 {
                    // Nothing in the workload stops a node on purpose, and the disk did
                    // not fail it (Redis exits when an fsync fails under `always`): it
                    // could not load what it wrote itself.
                    self.fail(
                        "durability",
                        format!("node {n} stopped with exit code {code} (it could not load its own files)"),
                    );
                    return;
                }
                self.take_down(n, false);
                let at = vt + self.faults.range(1, 1000) * US_PER_MS;
                self.schedule(at, Event::Restart { node: n });
            }
        }
    }

    fn disk_done(&mut self, n: usize, incarnation: u64) {
        let slot = &mut self.nodes[n];
        if slot.incarnation != incarnation || slot.node.is_none() {
            return;
        }
        let Some((id, op)) = slot.disk_queue.pop_front() else {
            return;
        };
        let result = slot.disk.apply(&op);
        if result.is_err() {
            slot.disk_errors += 1;
            let vt = self.vt;
            self.observe(Observation::DiskFailed { node: n, vt });
        }
        self.feed(n, Input::DiskDone { id, result });
    }

    /// Replies on a connection the client dropped: shown to the checkers (the
    /// commands ran), delivered to no one.
    fn ghost_send(&mut self, n: usize, conn: ConnId, bytes: &Bytes, origin: Origin) {
        let Some(g) = self.ghosts.get_mut(&conn) else {
            return;
        };
        g.node_out.extend_from_slice(bytes);
        loop {
            let g = self.ghosts.get_mut(&conn).expect("checked above");
            match next_reply(n, conn, &mut g.node_out, &mut g.at_node) {
                Ok(Some((id, reply, _))) => {
                    self.executed += 1;
                    self.execs.push((id, conn, reply, origin));
                }
                Ok(None) => return,
                Err(why) => return self.fail("protocol", why),
            }
        }
    }

    /// The node's replies, decoded as they leave it: each whole reply answers the
    /// oldest request the node has not answered on that connection.
    fn node_send(&mut self, n: usize, conn: ConnId, bytes: &Bytes, origin: Origin) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return self.ghost_send(n, conn, bytes, origin);
        };
        if !c.node_open {
            return;
        }
        c.node_out.extend_from_slice(bytes);
        let mut forward = Vec::new();
        loop {
            let c = self.conns.get_mut(&conn).expect("checked above");
            let (id, reply, raw) = match next_reply(n, conn, &mut c.node_out, &mut c.at_node) {
                Ok(Some(next)) => next,
                Ok(None) => break,
                Err(why) => return self.fail("protocol", why),
            };
            let (reply, raw) = if self.options.corrupt_reply_of == Some(id) {
                let wrong = corrupt(&reply);
                let bytes = wrong.to_bytes();
                (wrong, bytes)
            } else {
                (reply, raw)
            };
            forward.extend_from_slice(&raw);
            self.executed += 1;
            self.requests[id as usize].reply = Some(raw);
            self.execs.push((id, conn, reply, origin));
        }
        if forward.is_empty() {
            return;
        }
        let vt = self.vt;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let slow = c.slow;
        for piece in self.network.split(&forward) {
            let at = vt + self.network.latency_us(slow);
            c.to_client.push(at, Payload::Bytes(piece));
        }
        self.kick(conn, false);
    }

    fn on_exec(&mut self, n: usize, id: RequestId, reply: Reply, node_ms: u64) {
        let vt = self.vt;
        let client = self.requests[id as usize].client;
        self.trace.event(
            vt,
            format_args!("n{n} -> cl{client} #{id} {reply} (node clock {node_ms})"),
        );
        if let RequestKind::Blocking { .. } = self.requests[id as usize].request.kind {
            self.probes.hit(if reply == Reply::NullArray {
                Probe::BlockedTimedOut
            } else {
                Probe::BlockedServed
            });
        }
        if self.requests[id as usize].request.args[0].eq_ignore_ascii_case(b"exec") {
            match &reply {
                Reply::Array(_) => self.probes.hit(Probe::TransactionExecuted),
                Reply::NullArray => self.probes.hit(Probe::TransactionAborted),
                _ => {}
            }
        }
        match &reply {
            Reply::Error(e) if e.starts_with("ERR wrong number") => {
                self.probes.hit(Probe::ArityError)
            }
            Reply::Error(e) if e.starts_with("ERR unknown command") => {
                self.probes.hit(Probe::UnknownCommand)
            }
            Reply::Error(e) if e.starts_with("ERR Protocol error") => {
                self.probes.hit(Probe::ProtocolError)
            }
            _ => {}
        }
        self.probe_scripts_and_streams(id, &reply);
        if self.requests[id as usize].request.abuse.is_some() {
            self.probes.hit(Probe::AbuseAnswered);
        }
        let request = &self.requests[id as usize].request;
        let exec = Exec {
            node: n,
            client,
            id,
            request,
            reply: &reply,
            node_ms,
            vt,
        };
        dispatch(
            &mut self.checkers,
            &mut self.probes,
            &mut self.violation,
            vt,
            &Observation::Exec(exec),
        );
    }

    fn probe_scripts_and_streams(&mut self, id: RequestId, reply: &Reply) {
        let request = &self.requests[id as usize].request;
        let name = String::from_utf8_lossy(&request.args[0]).to_ascii_lowercase();
        let writes = request.args.len() > 1 && request.args[1].starts_with(b"redis.call('SET'");
        let probe = match (name.as_str(), reply) {
            ("eval", Reply::Error(_)) if writes => Probe::ScriptFailedAfterWrite,
            ("eval", Reply::Int(_)) if writes => Probe::ScriptWrote,
            ("evalsha", Reply::Error(e)) if e.starts_with("NOSCRIPT") => Probe::ScriptCacheMissed,
            ("fcall", Reply::Bulk(_) | Reply::Int(_)) => Probe::FunctionCalled,
            ("xread", Reply::Array(_)) => Probe::StreamBlockServed,
            _ => return,
        };
        self.probes.hit(probe);
    }

    fn take_down(&mut self, n: usize, power_loss: bool) {
        if self.nodes[n]
            .node
            .as_ref()
            .is_some_and(Node::save_in_progress)
        {
            self.probes.hit(Probe::CrashDuringSave);
        }
        if self.nodes[n]
            .node
            .as_ref()
            .is_some_and(Node::aof_rewrite_in_progress)
        {
            self.probes.hit(Probe::CrashDuringAofRewrite);
        }
        let slot = &mut self.nodes[n];
        slot.node = None;
        slot.disk_queue.clear();
        slot.tick_at = None;
        if power_loss {
            slot.disk.crash();
        }
        let conns: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| c.node == n)
            .map(|(&id, _)| id)
            .collect();
        for conn in conns {
            self.break_conn(conn, false);
        }
        let vt = self.vt;
        self.observe(Observation::Crashed {
            node: n,
            power_loss,
            vt,
        });
    }

    fn restart(&mut self, n: usize) {
        if self.nodes[n].node.is_some() {
            return;
        }
        self.probes.hit(Probe::NodeRestart);
        self.start_node(n);
        let vt = self.vt;
        self.observe(Observation::Restarted { node: n, vt });
    }

    // ----- clients and connections -----

    fn wake_client(&mut self, client: usize, after_us: u64) {
        let c = &mut self.clients[client];
        c.generation += 1;
        let generation = c.generation;
        self.schedule(self.vt + after_us, Event::ClientWake { client, generation });
    }

    fn client_wake(&mut self, client: usize) {
        match self.clients[client].state {
            ClientState::Disconnected => self.connect(client),
            ClientState::Connecting => {}
            ClientState::Connected => self.send_batch(client),
        }
    }

    fn connect(&mut self, client: usize) {
        let conn = self.next_conn;
        self.next_conn += 1;
        let node = self.clients[client].node;
        let slow = self.network.slowdown();
        if slow > 1 {
            self.probes.hit(Probe::SlowLink);
        }
        self.conns.insert(
            conn,
            Conn {
                client,
                node,
                incarnation: self.nodes[node].incarnation,
                slow,
                to_node: Pipe::default(),
                to_client: Pipe::default(),
                at_node: VecDeque::new(),
                at_client: VecDeque::new(),
                node_out: Vec::new(),
                client_in: Vec::new(),
                node_open: false,
            },
        );
        let c = &mut self.clients[client];
        c.conn = Some(conn);
        c.state = ClientState::Connecting;
        let at = self.vt.max(c.partitioned_until) + self.network.latency_us(slow);
        self.trace.event(
            self.vt,
            format_args!("cl{client} connect c#{conn} to n{node}"),
        );
        self.schedule(at, Event::Accept { conn });
    }

    fn accept(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let (client, n, slow) = (c.client, c.node, c.slow);
        if self.nodes[n].node.is_none() {
            // Connection refused: try again later.
            self.conns.remove(&conn);
            self.disconnected(client);
            return;
        }
        let incarnation = self.nodes[n].incarnation;
        let c = self.conns.get_mut(&conn).expect("checked above");
        c.node_open = true;
        c.incarnation = incarnation;
        let peer = format!("10.1.0.{}:{}", client + 1, 40000 + conn);
        let local = format!("10.0.0.{}:6379", n + 1);
        self.feed(n, Input::Accepted { conn, peer, local });
        let at = self.vt + self.network.latency_us(slow);
        self.schedule(at, Event::Connected { conn });
    }

    fn connected(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let client = c.client;
        if self.clients[client].conn == Some(conn)
            && self.clients[client].state == ClientState::Connecting
        {
            self.clients[client].state = ClientState::Connected;
            self.clients[client].workload.reconnected();
            self.wake_client(client, 0);
        }
    }

    /// The client lost its connection: it reconnects after a short pause.
    fn disconnected(&mut self, client: usize) {
        let vt = self.vt;
        self.observe(Observation::Disconnected { client, vt });
        let c = &mut self.clients[client];
        c.conn = None;
        c.state = ClientState::Disconnected;
        let pause = c.rng.range(1, 100) * US_PER_MS;
        self.wake_client(client, pause);
    }

    fn send_batch(&mut self, client: usize) {
        let Some(conn) = self.clients[client].conn else {
            return;
        };
        let client_ms = EPOCH_MS + self.vt / US_PER_MS;
        let count = self.clients[client]
            .rng
            .range(1, self.settings.pipeline_max);
        let mut wire = Vec::new();
        let mut ends = Vec::new();
        for _ in 0..count {
            let request = self.clients[client].workload.next(client_ms);
            let id = self.requests.len() as RequestId;
            if request.wire.first() != Some(&b'*') {
                self.probes.hit(Probe::InlineCommand);
            }
            wire.extend_from_slice(&request.wire);
            ends.push(wire.len());
            self.trace.event(
                self.vt,
                format_args!("cl{client} -> c#{conn} #{id} {}", show_args(&request.args)),
            );
            let stop = request.kind.closes_connection();
            self.requests.push(RequestRecord {
                client,
                request,
                reply: None,
            });
            let c = self
                .conns
                .get_mut(&conn)
                .expect("a connected client has its connection");
            c.at_node.push_back(id);
            c.at_client.push_back(id);
            let vt = self.vt;
            let request = &self.requests[id as usize].request;
            let kind = request.kind;
            let flush = request.args.first().is_some_and(|c| {
                c.eq_ignore_ascii_case(b"flushdb") || c.eq_ignore_ascii_case(b"flushall")
            });
            let node = c.node;
            self.observe(Observation::Sent {
                client,
                node,
                id,
                kind,
                flush,
                vt,
            });
            if stop {
                break;
            }
        }
        self.send_bytes(conn, &wire, &ends);
    }

    fn send_bytes(&mut self, conn: ConnId, wire: &[u8], ends: &[usize]) {
        let pieces = self.network.split(wire);
        let mut offset = 0;
        let (mut split, mut batched) = (false, false);
        for piece in &pieces {
            let (start, end) = (offset, offset + piece.len());
            let whole = ends.iter().filter(|&&e| e > start && e <= end).count();
            let begins_inside = ends.iter().any(|&e| e > start && e < end) || start == 0;
            batched |= whole >= 2;
            split |= end < wire.len() && !ends.contains(&end) && begins_inside;
            offset = end;
        }
        if split || (pieces.len() > ends.len()) {
            self.probes.hit(Probe::SplitRequest);
        }
        if batched {
            self.probes.hit(Probe::PipelinedBatch);
        }
        let vt = self.vt;
        let c = self.conns.get_mut(&conn).expect("caller checked");
        let slow = c.slow;
        for piece in pieces {
            let at = vt + self.network.latency_us(slow);
            c.to_node.push(at, Payload::Bytes(piece));
        }
        self.kick(conn, true);
    }

    /// Makes sure the head of a pipe has a delivery event.
    fn kick(&mut self, conn: ConnId, to_node: bool) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let client = &self.clients[c.client];
        let hold = if to_node {
            client.partitioned_until.max(self.nodes[c.node].busy_until)
        } else {
            client.partitioned_until.max(client.stalled_until)
        };
        let pipe = if to_node {
            &mut c.to_node
        } else {
            &mut c.to_client
        };
        let Some(head) = pipe.segments.front() else {
            return;
        };
        let at = head.at.max(hold).max(self.vt);
        if pipe.scheduled_at.is_some_and(|s| s <= at) {
            return;
        }
        pipe.scheduled_at = Some(at);
        self.schedule(at, Event::Deliver { conn, to_node });
    }

    fn deliver(&mut self, conn: ConnId, to_node: bool) {
        let vt = self.vt;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let client = &self.clients[c.client];
        let (partitioned, stalled) = (client.partitioned_until > vt, client.stalled_until > vt);
        let busy = self.nodes[c.node].busy_until > vt;
        let pipe = if to_node {
            &mut c.to_node
        } else {
            &mut c.to_client
        };
        if pipe.scheduled_at != Some(vt) {
            return;
        }
        pipe.scheduled_at = None;
        let due = pipe.segments.front().is_some_and(|s| s.at <= vt);
        let held = partitioned || (to_node && busy) || (!to_node && stalled);
        if !due || held {
            if due {
                self.probes.hit(if partitioned {
                    Probe::DelayedByPartition
                } else if stalled {
                    Probe::DelayedByStall
                } else {
                    Probe::SlowLink
                });
            }
            return self.kick(conn, to_node);
        }
        let segment = pipe.segments.pop_front().expect("due");
        let (client, n) = (c.client, c.node);
        if to_node {
            if let Payload::Bytes(bytes) = segment.payload {
                if c.node_open && self.nodes[n].incarnation == c.incarnation {
                    self.feed(
                        n,
                        Input::Received {
                            conn,
                            bytes: Bytes::from(bytes),
                        },
                    );
                }
            }
        } else {
            self.client_receive(client, conn, segment.payload);
        }
        self.kick(conn, to_node);
    }

    fn client_receive(&mut self, client: usize, conn: ConnId, payload: Payload) {
        let bytes = match payload {
            Payload::Fin => {
                self.trace
                    .event(self.vt, format_args!("cl{client} sees c#{conn} closed"));
                return self.break_conn(conn, false);
            }
            Payload::Bytes(bytes) => bytes,
        };
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.client_in.extend_from_slice(&bytes);
        loop {
            let c = self.conns.get_mut(&conn).expect("still open");
            let (reply, used) = match decode(&c.client_in) {
                Ok(Some(done)) => done,
                Ok(None) => break,
                Err(e) => {
                    return self.fail(
                        "network",
                        format!("client {client} read garbage on c#{conn}: {}", e.0),
                    )
                }
            };
            let raw: Vec<u8> = c.client_in.drain(..used).collect();
            let Some(id) = c.at_client.pop_front() else {
                return self.fail(
                    "network",
                    format!("client {client} got {reply} with no request pending"),
                );
            };
            if self.requests[id as usize].reply.as_deref() != Some(raw.as_slice()) {
                return self.fail(
                    "network",
                    format!("client {client} request #{id} got {reply}, not what the node sent"),
                );
            }
            let vt = self.vt;
            self.observe(Observation::Acked { client, id, vt });
        }
        let c = self.conns.get(&conn).expect("still open");
        if c.at_client.is_empty() {
            let think = self.clients[client]
                .rng
                .range(0, self.settings.think_ms_max)
                * US_PER_MS;
            self.wake_client(client, think + 1);
        }
    }

    /// The connection is gone for both sides: the node forgets it (if `tell_node`
    /// and the node is up), the client loses whatever was unanswered and reconnects.
    fn break_conn(&mut self, conn: ConnId, tell_node: bool) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        let vt = self.vt;
        let node_up = c.node_open && self.nodes[c.node].incarnation == c.incarnation;
        if node_up && !c.at_node.is_empty() {
            self.ghosts.insert(
                conn,
                Ghost {
                    incarnation: c.incarnation,
                    at_node: c.at_node.clone(),
                    node_out: c.node_out.clone(),
                },
            );
        }
        if tell_node && node_up {
            self.feed(c.node, Input::Closed { conn });
        }
        for &id in &c.at_client {
            if matches!(
                self.requests[id as usize].request.kind,
                RequestKind::Blocking { .. }
            ) && c.at_node.contains(&id)
            {
                self.probes.hit(Probe::BlockedClientDisconnected);
            }
            self.observe(Observation::Lost {
                client: c.client,
                id,
                vt,
            });
        }
        if self.clients[c.client].conn == Some(conn) {
            self.disconnected(c.client);
        }
    }

    // ----- faults -----

    fn fault_mean_ms(&self, kind: FaultKind) -> Option<u64> {
        let f = &self.settings.faults;
        match kind {
            FaultKind::Reset => f.reset_every_ms,
            FaultKind::Partition => f.partition_every_ms,
            FaultKind::Stall => f.stall_every_ms,
            FaultKind::ClockJump => f.clock_jump_every_ms,
            FaultKind::Crash => f.crash_every_ms,
        }
    }

    fn schedule_fault(&mut self, kind: FaultKind) {
        if let Some(mean) = self.fault_mean_ms(kind) {
            let at = self.vt + self.faults.exp(mean * US_PER_MS);
            if at < self.settings.fault_ms * US_PER_MS {
                self.schedule(at, Event::Fault(kind));
            }
        }
    }

    fn schedule_first_faults(&mut self) {
        for kind in [
            FaultKind::Reset,
            FaultKind::Partition,
            FaultKind::Stall,
            FaultKind::ClockJump,
            FaultKind::Crash,
        ] {
            self.schedule_fault(kind);
        }
    }

    fn fault(&mut self, kind: FaultKind) {
        if !self.faults_on {
            return;
        }
        let fault_end = self.settings.fault_ms * US_PER_MS;
        let vt = self.vt;
        match kind {
            FaultKind::Reset => {
                let open: Vec<ConnId> = self.conns.keys().copied().collect();
                if !open.is_empty() {
                    let conn = open[self.faults.index(open.len())];
                    let c = &self.conns[&conn];
                    self.probes.hit(Probe::ConnectionReset);
                    if !c.at_client.is_empty() {
                        self.probes.hit(Probe::ResetMidRequest);
                    }
                    self.trace.event(vt, format_args!("fault: reset c#{conn}"));
                    self.break_conn(conn, true);
                }
            }
            FaultKind::Partition => {
                let client = self.faults.index(self.clients.len());
                let until = (vt
                    + self.faults.range(1, self.settings.faults.partition_ms_max) * US_PER_MS)
                    .min(fault_end);
                self.clients[client].partitioned_until = until;
                self.probes.hit(Probe::PartitionStarted);
                self.trace.event(
                    vt,
                    format_args!("fault: partition cl{client} until {} ms", until / US_PER_MS),
                );
            }
            FaultKind::Stall => {
                let client = self.faults.index(self.clients.len());
                let until = (vt
                    + self.faults.range(1, self.settings.faults.stall_ms_max) * US_PER_MS)
                    .min(fault_end);
                self.clients[client].stalled_until = until;
                self.probes.hit(Probe::StallStarted);
                self.trace.event(
                    vt,
                    format_args!(
                        "fault: cl{client} stops reading until {} ms",
                        until / US_PER_MS
                    ),
                );
            }
            FaultKind::ClockJump => self.clock_jump(),
            FaultKind::Crash => self.crash(),
        }
        self.schedule_fault(kind);
    }

    fn clock_jump(&mut self) {
        let n = self.faults.index(self.nodes.len());
        let f = &self.settings.faults;
        let size = self.faults.range(1, f.clock_jump_ms_max) as i64;
        let backward = f.clock_jump_backward && self.faults.chance(0.5);
        let delta = if backward { -size } else { size };
        let vt = self.vt;
        let from_ms = self.nodes[n].clock.now(vt);
        self.nodes[n].clock.jump(delta);
        let to_ms = self.nodes[n].clock.now(vt);
        self.probes.hit(if backward {
            Probe::ClockJumpBackward
        } else {
            Probe::ClockJumpForward
        });
        self.trace
            .event(vt, format_args!("fault: n{n} clock jumps {delta} ms"));
        self.observe(Observation::ClockJumped {
            node: n,
            from_ms,
            to_ms,
        });
        // The node's next timer moved with its clock.
        self.nodes[n].tick_at = None;
        self.schedule_tick(n);
    }

    fn crash(&mut self) {
        let n = self.faults.index(self.nodes.len());
        if self.nodes[n].node.is_none() {
            return;
        }
        let power_loss = self.faults.chance(0.5);
        self.crash_node(n, power_loss);
    }

    /// Node `n` goes down (losing its page cache on a power loss) and comes back
    /// within `restart_ms_max`.
    fn crash_node(&mut self, n: usize, power_loss: bool) {
        if self.nodes[n].node.is_none() {
            return;
        }
        self.probes.hit(Probe::NodeCrash);
        self.trace.event(
            self.vt,
            format_args!("fault: n{n} crashes (power loss {power_loss})"),
        );
        self.take_down(n, power_loss);
        let down = self
            .faults
            .range(1, self.settings.faults.restart_ms_max.max(1))
            * US_PER_MS;
        let at = (self.vt + down)
            .min(self.settings.fault_ms * US_PER_MS)
            .max(self.vt + 1);
        self.schedule(at, Event::Restart { node: n });
    }
}

/// A reply that is certainly different from `reply` (checker tests).
/// A node's configuration for this run.
fn node_config(settings: &Settings) -> Config {
    let mut config = Config::default();
    let set = |config: &mut Config, name: &str, value: &str| {
        if let Err(e) = config.set(name, value) {
            panic!("{name} {value}: {e}");
        }
    };
    set(&mut config, "hz", &settings.hz.to_string());
    set(&mut config, "save", settings.save.unwrap_or(""));
    // A failed save (fsync error, full disk) must not turn writes into -MISCONF:
    // the model answers writes as if the disk were healthy.
    set(&mut config, "stop-writes-on-bgsave-error", "no");
    if let Some(policy) = settings.appendfsync {
        set(&mut config, "appendonly", "yes");
        set(&mut config, "appendfsync", policy);
        let min_size = settings.aof_rewrite_min_bytes.to_string();
        set(&mut config, "auto-aof-rewrite-min-size", &min_size);
    }
    config
}

fn corrupt(reply: &Reply) -> Reply {
    match reply {
        Reply::Int(n) => Reply::Int(n.wrapping_add(1)),
        Reply::Bulk(Some(b)) => {
            let mut b = b.clone();
            b.push(b'!');
            Reply::Bulk(Some(b))
        }
        Reply::Bulk(None) => Reply::bulk(b"ghost"),
        Reply::Status(_) => Reply::Status("NOTOK".into()),
        Reply::Error(_) => Reply::ok(),
        Reply::Array(items) if items.is_empty() => Reply::Array(vec![Reply::Int(0)]),
        Reply::Array(items) => Reply::Array(items[1..].to_vec()),
        Reply::NullArray | Reply::Other(_) => Reply::Int(0),
    }
}

/// How long a request may wait once faults stopped.
fn liveness_bound_us(s: &Settings, network: &Network) -> u64 {
    let round_trip = 4 * network.latency_us_max();
    let block = s.workload.block_ms_max * s.pipeline_max * US_PER_MS;
    let drift = block / 10;
    let jump = if s.faults.clock_jump_backward {
        s.faults.clock_jump_ms_max * US_PER_MS
    } else {
        0
    };
    round_trip + block + drift + jump + 2_000 * US_PER_MS
}

/// Shows one observation to every checker; the first complaint becomes the run's
/// violation (and the world stops at the next event).
fn dispatch(
    checkers: &mut [Box<dyn Checker>],
    probes: &mut Probes,
    violation: &mut Option<Violation>,
    vt: u64,
    obs: &Observation<'_>,
) {
    if violation.is_some() {
        return;
    }
    for checker in checkers.iter_mut() {
        if let Err(message) = checker.observe(obs, probes) {
            *violation = Some(Violation {
                checker: checker.name(),
                vt,
                message,
            });
            return;
        }
    }
}

/// Whether a command can make a key ready for a blocked client (push to a list or a
/// sorted set, or create one).
/// The next whole reply in `out` (taken out) and the pending request it answers.
fn next_reply(
    n: usize,
    conn: ConnId,
    out: &mut Vec<u8>,
    pending: &mut VecDeque<RequestId>,
) -> Result<Option<(RequestId, Reply, Vec<u8>)>, String> {
    let (reply, used) = match decode(out) {
        Ok(Some(done)) => done,
        Ok(None) => return Ok(None),
        Err(e) => {
            return Err(format!(
                "node {n} sent a malformed reply on c#{conn}: {}",
                e.0
            ))
        }
    };
    let raw: Vec<u8> = out.drain(..used).collect();
    let Some(id) = pending.pop_front() else {
        return Err(format!(
            "node {n} replied {reply} on c#{conn} with no request pending"
        ));
    };
    Ok(Some((id, reply, raw)))
}

fn pushes(args: &[Vec<u8>]) -> bool {
    const PUSHERS: &[&str] = &[
        "lpush",
        "rpush",
        "lpushx",
        "rpushx",
        "linsert",
        "lmove",
        "rpoplpush",
        "blmove",
        "brpoplpush",
        "zadd",
        "zincrby",
        "zunionstore",
        "zinterstore",
        "zdiffstore",
        "zrangestore",
        "copy",
        "rename",
        "renamenx",
        "restore",
        "xadd",
        "eval",
        "evalsha",
        "fcall",
        "sort",
    ];
    let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
    args.len() > 1 && PUSHERS.contains(&name.as_str())
}
