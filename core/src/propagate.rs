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
