//! Durability: what a restarted node recovered is what its persistence promised.
//!
//! Each client pushes 1, 2, 3, ... to its own list `d:<client>` (`RPUSH`) and reads it
//! back now and then (`LRANGE d:<client> 0 -1`). Nothing else writes those keys, so
//! after a crash the first read before the client's next push shows what survived:
//!
//! * nothing reordered or lost in the middle: the list is increasing, and of the pushes
//!   the crashed incarnation answered, every one below the largest that survived is
//!   there too (the recovered state is a prefix of the executed history);
//! * nothing acknowledged lost: every push answered before the crash is there under
//!   `appendfsync always` (the node holds replies until the fsync), every push answered
//!   more than two seconds before the crash under `everysec` (Redis's bound), and
//!   what an earlier crash had to keep stays kept. Under `everysec` a failed write
//!   (full disk) lets Redis answer writes it has not written, so the promise stops two
//!   seconds before the incarnation's first disk error.
//!
//! Only `FLUSHDB`/`FLUSHALL` can legitimately empty the lists; a node that was sent
//! one (answered or not: it may have run) is no longer checked.

use std::collections::{BTreeMap, BTreeSet};

use super::{Checker, Exec, Observation};
use crate::probes::{Probe, Probes};
use crate::resp::Reply;
use crate::workload::{durable_push, durable_read};

/// Under `everysec`, answered writes older than this survive a crash (Redis: up to
/// two seconds can be lost when an fsync is slow).
const EVERYSEC_LOSS_US_MAX: u64 = 2_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Promise {
    /// RDB only, AOF with `appendfsync no`, or nothing: no write is promised.
    Nothing,
    Everysec,
    Always,
}

impl Promise {
    pub fn from_appendfsync(policy: Option<&str>) -> Promise {
        match policy {
            Some("always") => Promise::Always,
            Some("everysec") => Promise::Everysec,
            _ => Promise::Nothing,
        }
    }
}

#[derive(Default)]
struct DurableList {
    /// Pushes the node's current incarnation answered, in order: (virtual time, seq).
    answered: Vec<(u64, u64)>,
    /// Pushes promised to survive every crash so far.
    durable: BTreeSet<u64>,
    /// After a restart, until the next push: what the first read is checked against.
    pending: Option<Recovery>,
}

/// What a read after a restart must show.
struct Recovery {
    must_hold: BTreeSet<u64>,
    /// The pushes the crashed incarnation answered (the no-holes check).
    answered: BTreeSet<u64>,
}

pub struct DurabilityChecker {
    promise: Promise,
    lists: BTreeMap<(usize, usize), DurableList>,
    flushed: Vec<bool>,
    /// Per node, when its current incarnation first saw a disk request fail.
    disk_failed_at: Vec<Option<u64>>,
}

impl DurabilityChecker {
    pub fn new(nodes: usize, promise: Promise) -> DurabilityChecker {
        DurabilityChecker {
            promise,
            lists: BTreeMap::new(),
            flushed: vec![false; nodes],
            disk_failed_at: vec![None; nodes],
        }
    }

    /// A crash at `vt`: what each of the node's lists must hold once it is back.
    fn crashed(&mut self, node: usize, vt: u64) {
        let failed_at = self.disk_failed_at[node].take();
        let horizon = match self.promise {
            Promise::Nothing => None,
            Promise::Always => Some(vt),
            Promise::Everysec => {
                let until = failed_at.map_or(vt, |at| at.min(vt));
                Some(until.saturating_sub(EVERYSEC_LOSS_US_MAX))
            }
        };
        for ((n, _), list) in self.lists.iter_mut() {
            if *n != node {
                continue;
            }
            if let Some(horizon) = horizon {
                let promised = list.answered.iter().filter(|(at, _)| *at <= horizon);
                list.durable.extend(promised.map(|(_, seq)| *seq));
            }
            let answered = list.answered.drain(..).map(|(_, seq)| seq).collect();
            list.pending = Some(Recovery {
                must_hold: list.durable.clone(),
                answered,
            });
        }
    }

    fn on_exec(&mut self, e: &Exec<'_>, probes: &mut Probes) -> Result<(), String> {
        let args = &e.request.args;
        if let Some((client, seq)) = durable_push(args) {
            if matches!(e.reply, Reply::Int(_)) {
                let list = self.lists.entry((e.node, client)).or_default();
                list.answered.push((e.vt, seq));
                list.pending = None;
            }
            return Ok(());
        }
        let Some(client) = durable_read(args) else {
            return Ok(());
        };
        if self.flushed[e.node] {
            return Ok(());
        }
        let Some(list) = self.lists.get_mut(&(e.node, client)) else {
            return Ok(());
        };
        let Some(recovery) = list.pending.take() else {
            return Ok(());
        };
        let Reply::Array(items) = e.reply else {
            return Ok(());
        };
        let got: Vec<u64> = items
            .iter()
            .filter_map(|r| match r {
                Reply::Bulk(Some(b)) => std::str::from_utf8(b).ok()?.parse().ok(),
                _ => None,
            })
            .collect();
        probes.hit(Probe::DurabilityChecked);
        check_recovered(e, client, &got, &recovery)
    }
}

/// The checks of the module doc on the list `got` read after a restart.
fn check_recovered(
    e: &Exec<'_>,
    client: usize,
    got: &[u64],
    recovery: &Recovery,
) -> Result<(), String> {
    let at = format!(
        "node {} list d:{client} read at node clock {}",
        e.node, e.node_ms
    );
    if got.windows(2).any(|w| w[0] >= w[1]) {
        return Err(format!("{at} is out of order after a restart: {got:?}"));
    }
    if let Some(lost) = recovery
        .must_hold
        .iter()
        .find(|s| got.binary_search(s).is_err())
    {
        return Err(format!(
            "{at} lost push {lost}, acknowledged before the crash under this appendfsync policy: {got:?}"
        ));
    }
    let answered = &recovery.answered;
    let top = got.iter().rev().find(|s| answered.contains(s)).copied();
    let top = top.unwrap_or(0);
    if let Some(hole) = answered
        .range(..top)
        .find(|s| got.binary_search(s).is_err())
    {
        return Err(format!(
            "{at} has a hole: push {hole} was answered before push {top}, which survived, but it did not: {got:?}"
        ));
    }
    Ok(())
}

impl Checker for DurabilityChecker {
    fn name(&self) -> &'static str {
        "durability"
    }

    fn observe(&mut self, obs: &Observation<'_>, probes: &mut Probes) -> Result<(), String> {
        match obs {
            Observation::Exec(e) => self.on_exec(e, probes),
            Observation::Sent {
                node, flush: true, ..
            } => {
                // It may run without an answer (the node can stop before replying),
                // so the lists on that node are no longer checked from here on.
                self.flushed[*node] = true;
                Ok(())
            }
            Observation::Crashed { node, vt, .. } => {
                self.crashed(*node, *vt);
                Ok(())
            }
            Observation::DiskFailed { node, vt } => {
                self.disk_failed_at[*node].get_or_insert(*vt);
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
