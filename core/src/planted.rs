//! Planted bugs: deliberate faults the simulator's mutation check must catch.
//!
//! A checker that never fails proves nothing. With the `planted-bugs` feature, a node
//! can be told to misbehave in one known way ([`Node::plant`](crate::Node::plant)),
//! and `ember-sim`'s mutation test requires a swarm to catch each bug within a stated
//! number of seeds. Without the feature [`Planted`] is empty and every check is a
//! constant `false`, so release builds carry none of this.

/// One deliberate fault. Each names the real bug it imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bug {
    /// Reads (`Ctx::lookup_read`: GET, EXISTS, TYPE...) skip lazy expiry and see a
    /// key past its deadline.
    LazyExpirySkippedOnRead,
    /// The active expiry cycle runs on the highest clock the node has seen instead of
    /// its current clock, so after the clock is set back it deletes keys early.
    ActiveExpiryOnStaleClock,
    /// Keys expire at their deadline millisecond instead of after it (the off-by-one
    /// the simulator once found in the core).
    ExpiryAtDeadline,
    /// EXEC ignores that a watched key expired since WATCH (while still stored),
    /// and runs the transaction.
    WatchIgnoresExpiry,
    /// An RDB save renames the temp file into place without fsyncing it first, so a
    /// power loss can leave an empty or torn dump.rdb.
    SaveSkipsFsync,
    /// Under `appendfsync always` replies leave once their AOF bytes are written,
    /// not once they are fsynced (a power loss then loses acknowledged writes).
    ReplyBeforeFsync,
    /// Loading keeps a torn AOF tail in the file instead of cutting it, so the next
    /// appends land after garbage and the following restart cannot read the file.
    AofKeepsTornTail,
}

impl Bug {
    pub const ALL: [Bug; 7] = [
        Bug::LazyExpirySkippedOnRead,
        Bug::ActiveExpiryOnStaleClock,
        Bug::ExpiryAtDeadline,
        Bug::WatchIgnoresExpiry,
        Bug::SaveSkipsFsync,
        Bug::ReplyBeforeFsync,
        Bug::AofKeepsTornTail,
    ];

    /// The bug called `name` (its variant's name, as `{:?}` prints it).
    pub fn from_name(name: &str) -> Option<Bug> {
        Bug::ALL.into_iter().find(|b| format!("{b:?}") == name)
    }
}

/// The bug planted in a node, if any.
#[derive(Debug, Clone, Copy, Default)]
pub struct Planted {
    #[cfg(feature = "planted-bugs")]
    bug: Option<Bug>,
}

impl Planted {
    /// Whether `bug` is planted (always false without the feature).
    #[inline(always)]
    pub fn is(&self, bug: Bug) -> bool {
        #[cfg(feature = "planted-bugs")]
        {
            self.bug == Some(bug)
        }
        #[cfg(not(feature = "planted-bugs"))]
        {
            let _ = bug;
            false
        }
    }

    #[cfg(feature = "planted-bugs")]
    pub fn set(&mut self, bug: Option<Bug>) {
        self.bug = bug;
    }
}
