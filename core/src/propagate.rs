//! Effects: the command stream a node's writes produce for the AOF and for
//! replicas (Redis's propagate/alsoPropagate).
//!
//! Effects, not commands, are propagated: relative expiry becomes absolute,
//! SPOP becomes SREM, a blocking pop its non-blocking form, a script its writes, so
//! a reload or a replica applying the stream reaches the same dataset. Every
//! top-level command's effects are appended to [`Server::effects`] (the outbox) once
//! the command is done, wrapped in MULTI/EXEC when there is more than one; the
//! AOF and replication drain the outbox and add SELECT where the database changes.
//!
//! [`Server::effects`]: crate::server::Server::effects

use bytes::Bytes;

/// One command as the AOF and replicas receive it, in database `db`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    pub db: usize,
    pub argv: Vec<Bytes>,
}

impl Effect {
    pub fn new(db: usize, argv: Vec<Bytes>) -> Self {
        Effect { db, argv }
    }
}

/// What one command call asked for its own propagation.
#[derive(Debug, Default, Clone)]
pub struct CallState {
    /// Propagate this argv instead of the one the client sent (Redis's
    /// rewriteClientCommandVector/Argument).
    pub rewritten: Option<Vec<Bytes>>,
    /// Propagate nothing of the call's own argv (preventCommandPropagation); effects
    /// added with [`Propagation::also`] still go.
    pub prevented: bool,
    /// Propagate even if the call changed nothing (forceCommandPropagation).
    pub forced: bool,
}

/// The effects of the execution unit in progress (Redis's `also_propagate`): a
/// top-level command with what it deleted by expiry on the way, the queued commands
/// of an EXEC, or a blocked client's served command. When the unit ends they move to
/// the outbox, wrapped in MULTI/EXEC when there is more than one.
#[derive(Debug, Default)]
pub struct Propagation {
    /// Whether effects are kept for a consumer (the AOF, replicas, tests).
    pub enabled: bool,
    pending: Vec<Effect>,
    /// The call running now; calls nest (EXEC runs its queued commands as calls).
    call: CallState,
}

impl Propagation {
    /// Adds an effect to the unit in progress (Redis's alsoPropagate).
    pub fn also(&mut self, db: usize, argv: Vec<Bytes>) {
        self.pending.push(Effect::new(db, argv));
    }

    /// Starts a call; returns the enclosing call's state for [`Propagation::end_call`].
    pub fn begin_call(&mut self) -> CallState {
        std::mem::take(&mut self.call)
    }

    /// Ends a call: if it changed the dataset (`dirty`) and did not prevent it, its
    /// own argv (or the rewritten one) joins the unit in `db`, after whatever the
    /// call added itself, as Redis's call() does.
    pub fn end_call(&mut self, outer: CallState, dirty: bool, db: usize, argv: &[Bytes]) {
        let call = std::mem::replace(&mut self.call, outer);
        if (dirty || call.forced) && !call.prevented {
            let argv = call.rewritten.unwrap_or_else(|| argv.to_vec());
            self.pending.push(Effect::new(db, argv));
        }
    }

    pub fn call_mut(&mut self) -> &mut CallState {
        &mut self.call
    }

    /// Ends the execution unit: its effects go to `outbox`, wrapped in MULTI/EXEC
    /// when more than one (MULTI in the first effect's database, EXEC in the last's).
    pub fn flush_unit(&mut self, outbox: &mut Vec<Effect>) {
        if !self.enabled {
            self.pending.clear();
            return;
        }
        match self.pending.len() {
            0 => {}
            1 => outbox.append(&mut self.pending),
            _ => {
                let first = self.pending[0].db;
                let last = self.pending[self.pending.len() - 1].db;
                outbox.push(Effect::new(first, vec![Bytes::from_static(b"MULTI")]));
                outbox.append(&mut self.pending);
                outbox.push(Effect::new(last, vec![Bytes::from_static(b"EXEC")]));
            }
        }
    }
}

/// A key deleted because its deadline passed, as Redis propagates it: UNLINK under
/// `lazyfree-lazy-expire`, DEL otherwise.
pub fn expired_key_deletion(key: &[u8], lazy: bool) -> Vec<Bytes> {
    let name: &'static [u8] = if lazy { b"UNLINK" } else { b"DEL" };
    vec![Bytes::from_static(name), Bytes::copy_from_slice(key)]
}
