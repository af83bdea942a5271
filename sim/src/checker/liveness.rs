//! Liveness: once faults stop, every request still on an open connection is answered
//! within a bound (network round trip, the longest blocking timeout it may wait behind,
//! clock drift and margin). Requests lost to a broken connection are exempt: the client
//! saw the break.

use std::collections::BTreeMap;

use super::{Checker, Observation, RequestId};
use crate::probes::Probes;

pub struct LivenessChecker {
    /// How long a request may wait once faults stopped, virtual us.
    bound_us: u64,
    quiet_since: Option<u64>,
    /// Unanswered requests: when they were sent and by whom.
    pending: BTreeMap<RequestId, (u64, usize)>,
}

impl LivenessChecker {
    pub fn new(bound_us: u64) -> LivenessChecker {
        LivenessChecker {
            bound_us,
            quiet_since: None,
            pending: BTreeMap::new(),
        }
    }

    fn deadline(&self, sent: u64) -> Option<u64> {
        self.quiet_since.map(|q| sent.max(q) + self.bound_us)
    }
}

impl Checker for LivenessChecker {
    fn name(&self) -> &'static str {
        "liveness"
    }

    fn observe(&mut self, obs: &Observation<'_>, _probes: &mut Probes) -> Result<(), String> {
        match *obs {
            Observation::Sent { client, id, vt, .. } => {
                self.pending.insert(id, (vt, client));
            }
            Observation::Lost { id, .. } => {
                self.pending.remove(&id);
            }
            Observation::Acked { id, vt, client } => {
                if let Some((sent, _)) = self.pending.remove(&id) {
                    if let Some(deadline) = self.deadline(sent) {
                        if vt > deadline {
                            return Err(format!(
                                "client {client} request #{id} sent at {} ms answered at {} ms, after the bound {} ms",
                                sent / 1000,
                                vt / 1000,
                                deadline / 1000
                            ));
                        }
                    }
                }
            }
            Observation::FaultsStopped { vt } => self.quiet_since = Some(vt),
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self, end_vt: u64) -> Result<(), String> {
        for (&id, &(sent, client)) in &self.pending {
            if let Some(deadline) = self.deadline(sent) {
                if deadline < end_vt {
                    return Err(format!(
                        "client {client} request #{id} sent at {} ms was never answered (bound {} ms, run ended at {} ms)",
                        sent / 1000,
                        deadline / 1000,
                        end_vt / 1000
                    ));
                }
            }
        }
        Ok(())
    }
}
