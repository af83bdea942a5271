//! Model equivalence: every reply a node gives equals the reference model's reply for
//! the same command at the same node clock, applied in the node's execution order.
//! Only for runs whose command mix the model covers and whose clocks never go back.

use super::{command_name, Checker, Observation};
use crate::model::{self, Model};
use crate::probes::{Probe, Probes};
use crate::resp::Reply;

pub struct ModelChecker {
    models: Vec<Model>,
    /// Per node, the model as of the save in progress.
    saving: Vec<Option<Model>>,
    /// Per node, the model as of its last completed save: what a restart recovers.
    saved: Vec<Model>,
    /// The nodes keep an AOF: a restart recovers what reached the file, which may
    /// hold commands whose replies never left (or, under `everysec`/`no` after a
    /// power loss, lack acknowledged ones), so a restarted node is no longer checked.
    aof: bool,
    /// Per node, whether it restarted over an AOF.
    unchecked: Vec<bool>,
}

impl ModelChecker {
    pub fn new(nodes: usize, aof: bool) -> ModelChecker {
        ModelChecker {
            models: vec![Model::new(); nodes],
            saving: vec![None; nodes],
            saved: vec![Model::new(); nodes],
            aof,
            unchecked: vec![false; nodes],
        }
    }
}

impl Checker for ModelChecker {
    fn name(&self) -> &'static str {
        "model"
    }

    fn observe(&mut self, obs: &Observation<'_>, probes: &mut Probes) -> Result<(), String> {
        match obs {
            // A restarted node recovers its last completed save (empty without one);
            // keys that expired meanwhile are dropped by the node's load and by the
            // model's lazy expiry alike.
            Observation::Restarted { node, .. } if self.aof => {
                self.unchecked[*node] = true;
            }
            Observation::Restarted { node, .. } => {
                self.models[*node] = self.saved[*node].clone();
                self.saving[*node] = None;
            }
            Observation::SaveStarted { node, .. } => {
                self.saving[*node] = Some(self.models[*node].clone());
            }
            Observation::SaveCompleted { node, .. } => {
                if let Some(image) = self.saving[*node].take() {
                    self.saved[*node] = image;
                }
            }
            Observation::Exec(e) => {
                if e.request.kind.closes_connection() {
                    return Ok(());
                }
                if self.unchecked[e.node] {
                    return Ok(());
                }
                if matches!(e.reply, Reply::Error(m) if m.starts_with("MISCONF ")) {
                    // Refused before it ran: the AOF could not be written.
                    return Ok(());
                }
                if matches!(e.reply, Reply::Error(m) if m.starts_with("LOADING ")) {
                    // Refused before it ran, while the dump was being read.
                    probes.hit(Probe::LoadingRefused);
                    return Ok(());
                }
                let name = &e.request.args[0];
                if !model::supports(name) && !command_name(e.request).starts_with("foo") {
                    return Err(format!(
                        "the model does not cover {}",
                        command_name(e.request)
                    ));
                }
                let expected = self.models[e.node].apply(&e.request.args, e.node_ms);
                probes.hit(Probe::ModelChecked);
                let (want, got) = if model::unordered_reply(name) {
                    (
                        model::normalize(name, &expected),
                        model::normalize(name, e.reply),
                    )
                } else {
                    (expected, e.reply.clone())
                };
                if want.to_bytes() != got.to_bytes() {
                    return Err(format!(
                        "node {} client {} request #{} `{}` at node clock {}: expected {} got {}",
                        e.node,
                        e.client,
                        e.id,
                        crate::resp::show_args(&e.request.args),
                        e.node_ms,
                        want,
                        got
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}
