//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis's multi.c).
//!
//! MULTI puts the client in a state where the node queues its commands instead of
//! running them (see `Node::execute`); a command refused while queueing (unknown,
//! wrong arity, not allowed in a transaction...) marks the transaction so EXEC
//! aborts it. EXEC runs the queue as nested calls, each reply in place, and its
//! effects leave as one MULTI/EXEC block. WATCH records keys; any write to one of them
//! (by any client, expiry and flushes included) marks the watching clients so their
//! next EXEC does nothing and replies a null array.

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::command::{Acl, CommandSpec, Flag, Group, KeySpec};
use crate::db::{Db, Millis};
use crate::error::CmdResult;
use crate::io::ConnId;
use crate::node::Ctx;
use crate::planted::Bug;

pub const MULTI_NESTED: &str = "ERR MULTI calls can not be nested";
pub const EXEC_WITHOUT_MULTI: &str = "ERR EXEC without MULTI";
pub const DISCARD_WITHOUT_MULTI: &str = "ERR DISCARD without MULTI";
pub const WATCH_INSIDE_MULTI: &str = "ERR WATCH inside MULTI is not allowed";
pub const EXEC_ABORT: &str = "EXECABORT Transaction discarded because of previous errors.";
pub const NOT_ALLOWED_IN_MULTI: &str = "ERR Command not allowed inside a transaction";

const TXN_FLAGS: &[Flag] = &[
    Flag::Noscript,
    Flag::Loading,
    Flag::Stale,
    Flag::Fast,
    Flag::AllowBusy,
];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "multi",
        arity: 1,
        flags: TXN_FLAGS,
        acl: &[Acl::Transaction],
        group: Group::Transactions,
        since: "1.2.0",
        summary: "Mark the start of a transaction block",
        handler: Some(multi),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "exec",
        arity: 1,
        flags: &[
            Flag::Noscript,
            Flag::Loading,
            Flag::Stale,
            Flag::SkipSlowlog,
        ],
        acl: &[Acl::Transaction],
        group: Group::Transactions,
        since: "1.2.0",
        summary: "Execute all commands issued after MULTI",
        complexity: "Depends on commands in the transaction",
        handler: Some(exec),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "discard",
        arity: 1,
        flags: TXN_FLAGS,
        acl: &[Acl::Transaction],
        group: Group::Transactions,
        since: "2.0.0",
        summary: "Discard all commands issued after MULTI",
        complexity: "O(N), when N is the number of queued commands",
        handler: Some(discard),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "watch",
        arity: -2,
        flags: TXN_FLAGS,
        acl: &[Acl::Transaction],
        first_key: 1,
        last_key: -1,
        step: 1,
        key_specs: &[KeySpec::range(&["RO"], 1, -1)],
        group: Group::Transactions,
        since: "2.2.0",
        summary: "Watch the given keys to determine execution of the MULTI/EXEC block",
        complexity: "O(1) for every key.",
        handler: Some(watch),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "unwatch",
        arity: 1,
        flags: TXN_FLAGS,
        acl: &[Acl::Transaction],
        group: Group::Transactions,
        since: "2.2.0",
        summary: "Forget about all watched keys",
        handler: Some(unwatch),
        ..CommandSpec::DEFAULT
    },
];

/// Whether a command runs at once inside MULTI instead of being queued.
pub fn runs_inside_multi(cmd: &CommandSpec) -> bool {
    matches!(
        cmd.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// MULTI
fn multi(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(MULTI_NESTED.into());
    }
    ctx.client.multi = Some(Box::default());
    ctx.out().ok();
    Ok(())
}

/// DISCARD
fn discard(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    if ctx.client.multi.is_none() {
        return Err(DISCARD_WITHOUT_MULTI.into());
    }
    discard_transaction(ctx);
    ctx.out().ok();
    Ok(())
}

/// Leaves MULTI, forgetting the queue and every watched key (discardTransaction).
pub fn discard_transaction(ctx: &mut Ctx<'_>) {
    ctx.client.multi = None;
    ctx.srv.watches.unwatch_all(ctx.client.conn);
}

/// EXEC
fn exec(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    let Some(aborted) = ctx.client.multi.as_ref().map(|m| m.aborted) else {
        return Err(EXEC_WITHOUT_MULTI.into());
    };
    // EXEC itself never propagates: its commands' effects do, as one block.
    ctx.prevent_propagation();
    let conn = ctx.client.conn;
    let check_expired = !ctx.srv.planted.is(Bug::WatchIgnoresExpiry);
    let dirty_cas = ctx.srv.watches.is_dirty(conn)
        || (check_expired
            && ctx
                .srv
                .watches
                .watched_key_expired(conn, &ctx.srv.dbs, ctx.now));
    ctx.srv.watches.unwatch_all(conn);
    if aborted {
        ctx.client.multi = None;
        return Err(EXEC_ABORT.into());
    }
    if dirty_cas {
        ctx.client.multi = None;
        ctx.out().null_array();
        return Ok(());
    }
    run_queue(ctx);
    ctx.client.multi = None;
    Ok(())
}

/// Runs the queued commands, each reply (or error) in place. Blocking commands
/// reply as on a timeout instead of blocking.
/// The client stays in MULTI meanwhile, as CLIENT LIST shows inside Redis's EXEC.
fn run_queue(ctx: &mut Ctx<'_>) {
    let count = ctx.client.multi.as_ref().map_or(0, |m| m.commands.len());
    ctx.out().array(count);
    ctx.client.in_exec = true;
    for i in 0..count {
        let queued = ctx.client.multi.as_ref().and_then(|m| m.commands.get(i));
        let Some((cmd, argv)) = queued.cloned() else {
            break;
        };
        if let Err(e) = ctx.call(cmd, &argv) {
            ctx.srv.stats.total_error_replies += 1;
            ctx.srv.stats.count_error(e.message());
            ctx.out().error(e.message());
        }
    }
    ctx.client.in_exec = false;
}

/// WATCH key [key ...]
fn watch(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(WATCH_INSIDE_MULTI.into());
    }
    let conn = ctx.client.conn;
    // Once a watched key changed, watching more cannot make EXEC succeed.
    if !ctx.srv.watches.is_dirty(conn) {
        let db = ctx.client.db;
        for key in &args[1..] {
            let expired = is_expired(&ctx.srv.dbs[db], key, ctx.now);
            ctx.srv.watches.watch(conn, db, key, expired);
        }
    }
    ctx.out().ok();
    Ok(())
}

/// UNWATCH
fn unwatch(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    ctx.srv.watches.unwatch_all(ctx.client.conn);
    ctx.srv.watches.clear_dirty(ctx.client.conn);
    ctx.out().ok();
    Ok(())
}

/// Whether `key` exists in `db` but its deadline has passed (Redis's keyIsExpired).
fn is_expired(db: &Db, key: &[u8], now: Millis) -> bool {
    db.peek(key).is_some_and(|e| e.is_expired_at(now))
}

/// One watched key of a client.
#[derive(Debug, Clone)]
struct Watched {
    db: usize,
    key: Bytes,
    /// The key had already expired (without being deleted) when watched, so its
    /// deletion by expiry changes nothing logically.
    expired: bool,
}

/// A client's watch state.
#[derive(Debug, Default)]
struct ClientWatches {
    keys: Vec<Watched>,
    /// A watched key changed: the next EXEC fails (Redis's CLIENT_DIRTY_CAS).
    dirty: bool,
}

/// Every watched key and who watches it (Redis's `watched_keys` per database and
/// each client's list).
#[derive(Debug, Default)]
pub struct Watches {
    by_key: BTreeMap<(usize, Bytes), Vec<ConnId>>,
    by_client: BTreeMap<ConnId, ClientWatches>,
}

impl Watches {
    /// True when no key is watched: the write path then costs one check.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Keys `conn` watches (Redis 7.0 has no CLIENT LIST field for it; tests use it).
    pub fn watched_count(&self, conn: ConnId) -> usize {
        self.by_client.get(&conn).map_or(0, |c| c.keys.len())
    }

    pub fn is_dirty(&self, conn: ConnId) -> bool {
        self.by_client.get(&conn).is_some_and(|c| c.dirty)
    }

    fn clear_dirty(&mut self, conn: ConnId) {
        if let Some(c) = self.by_client.get_mut(&conn) {
            c.dirty = false;
        }
        self.forget_if_idle(conn);
    }

    fn watch(&mut self, conn: ConnId, db: usize, key: &[u8], expired: bool) {
        let client = self.by_client.entry(conn).or_default();
        if client.keys.iter().any(|w| w.db == db && w.key == key) {
            return;
        }
        let key = Bytes::copy_from_slice(key);
        client.keys.push(Watched {
            db,
            key: key.clone(),
            expired,
        });
        self.by_key.entry((db, key)).or_default().push(conn);
    }

    /// Forgets the keys `conn` watches (the dirty mark stays until EXEC, DISCARD,
    /// UNWATCH or RESET clear it).
    pub fn unwatch_all(&mut self, conn: ConnId) {
        let Some(client) = self.by_client.get_mut(&conn) else {
            return;
        };
        for w in client.keys.drain(..) {
            let slot = (w.db, w.key);
            if let Some(watchers) = self.by_key.get_mut(&slot) {
                watchers.retain(|&c| c != conn);
                if watchers.is_empty() {
                    self.by_key.remove(&slot);
                }
            }
        }
        // Leaving a transaction clears the dirty mark too.
        client.dirty = false;
        self.by_client.remove(&conn);
    }

    /// A client disconnected or ran RESET.
    pub fn forget(&mut self, conn: ConnId) {
        self.unwatch_all(conn);
    }

    fn forget_if_idle(&mut self, conn: ConnId) {
        if self
            .by_client
            .get(&conn)
            .is_some_and(|c| c.keys.is_empty() && !c.dirty)
        {
            self.by_client.remove(&conn);
        }
    }

    /// Marks `conn` dirty and drops its watched keys, which can no longer matter.
    fn invalidate(&mut self, conn: ConnId) {
        self.unwatch_all(conn);
        self.by_client.entry(conn).or_default().dirty = true;
    }

    /// `key` in `db` was written (Redis's touchWatchedKey); `exists` says whether it
    /// exists now. A key that had expired when watched and is now deleted has not
    /// logically changed.
    pub fn touch(&mut self, db: usize, key: &[u8], exists: bool) {
        let slot = (db, Bytes::copy_from_slice(key));
        let Some(watchers) = self.by_key.get(&slot).cloned() else {
            return;
        };
        for conn in watchers {
            let Some(client) = self.by_client.get_mut(&conn) else {
                continue;
            };
            let Some(w) = client.keys.iter_mut().find(|w| w.db == db && w.key == key) else {
                continue;
            };
            if w.expired && !exists {
                w.expired = false;
                continue;
            }
            self.invalidate(conn);
        }
    }

    /// Database `emptied` is flushed, or swapped with `replaced_with`
    /// (Redis's touchAllWatchedKeysInDb), called before the change.
    pub fn touch_all_in_db(
        &mut self,
        dbs: &[Db],
        emptied: usize,
        replaced_with: Option<usize>,
        now: Millis,
    ) {
        let slots: Vec<(usize, Bytes)> = self
            .by_key
            .range((emptied, Bytes::new())..)
            .take_while(|((db, _), _)| *db == emptied)
            .map(|(slot, _)| slot.clone())
            .collect();
        for (db, key) in slots {
            let in_emptied = dbs[emptied].peek(&key).is_some();
            let other = replaced_with.map(|r| &dbs[r]);
            let in_other = other.is_some_and(|d| d.peek(&key).is_some());
            if !in_emptied && !in_other {
                continue;
            }
            let watchers = self
                .by_key
                .get(&(db, key.clone()))
                .cloned()
                .unwrap_or_default();
            for conn in watchers {
                if self.touch_one_in_flush(conn, db, &key, in_emptied, other, now) {
                    self.invalidate(conn);
                }
            }
        }
    }

    /// One watcher's verdict for [`Watches::touch_all_in_db`]: true if it changed.
    fn touch_one_in_flush(
        &mut self,
        conn: ConnId,
        db: usize,
        key: &[u8],
        in_emptied: bool,
        other: Option<&Db>,
        now: Millis,
    ) -> bool {
        let Some(w) = self
            .by_client
            .get_mut(&conn)
            .and_then(|c| c.keys.iter_mut().find(|w| w.db == db && w.key == key))
        else {
            return false;
        };
        let in_other = other.is_some_and(|d| d.peek(key).is_some());
        if w.expired {
            if !in_other {
                w.expired = false;
                return false;
            }
            if other.is_some_and(|d| is_expired(d, key, now)) {
                return false;
            }
        } else if !in_emptied && other.is_some_and(|d| is_expired(d, key, now)) {
            w.expired = true;
            return false;
        }
        true
    }

    /// Whether a key `conn` watches, live when watched, has since expired without
    /// being deleted (EXEC checks this: Redis's isWatchedKeyExpired).
    fn watched_key_expired(&self, conn: ConnId, dbs: &[Db], now: Millis) -> bool {
        self.by_client.get(&conn).is_some_and(|c| {
            c.keys
                .iter()
                .any(|w| !w.expired && is_expired(&dbs[w.db], &w.key, now))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::testkit::TestNode;
    use crate::config::Config;

    fn node() -> TestNode {
        let mut t = TestNode::new(Config::default());
        t.connect(1);
        t.connect(2);
        t
    }

    fn watches(t: &TestNode) -> &Watches {
        t.node.watches()
    }

    /// Runs a line split on spaces on `conn`, returning the reply.
    fn run(t: &mut TestNode, conn: ConnId, line: &str) -> String {
        let args: Vec<&str> = line.split(' ').collect();
        t.cmd(conn, &args)
    }

    #[test]
    fn queued_commands_run_at_exec_with_errors_in_place() {
        let mut t = node();
        assert_eq!(run(&mut t, 1, "MULTI"), "+OK\r\n");
        assert_eq!(run(&mut t, 1, "SET k v"), "+QUEUED\r\n");
        assert_eq!(run(&mut t, 1, "INCR k"), "+QUEUED\r\n");
        assert_eq!(run(&mut t, 1, "GET k"), "+QUEUED\r\n");
        assert_eq!(
            run(&mut t, 1, "EXEC"),
            "*3\r\n+OK\r\n-ERR value is not an integer or out of range\r\n$1\r\nv\r\n"
        );
    }

    #[test]
    fn a_refused_command_while_queueing_aborts_exec() {
        let mut t = node();
        run(&mut t, 1, "MULTI");
        run(&mut t, 1, "SET k v");
        assert!(run(&mut t, 1, "SET k").starts_with("-ERR wrong number"));
        assert_eq!(run(&mut t, 1, "EXEC"), format!("-{EXEC_ABORT}\r\n"));
        assert_eq!(run(&mut t, 1, "EXISTS k"), ":0\r\n");
        run(&mut t, 1, "MULTI");
        assert_eq!(
            run(&mut t, 1, "SHUTDOWN"),
            format!("-{NOT_ALLOWED_IN_MULTI}\r\n")
        );
        assert_eq!(run(&mut t, 1, "EXEC"), format!("-{EXEC_ABORT}\r\n"));
    }

    #[test]
    fn exec_with_wrong_arity_aborts_even_outside_multi() {
        let mut t = node();
        let abort = "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n";
        assert_eq!(run(&mut t, 1, "EXEC x"), abort);
        run(&mut t, 1, "MULTI");
        assert_eq!(run(&mut t, 1, "EXEC x"), abort);
        assert_eq!(run(&mut t, 1, "EXEC"), format!("-{EXEC_WITHOUT_MULTI}\r\n"));
    }

    #[test]
    fn an_unauthenticated_exec_aborts_with_noauth_as_the_reason() {
        // Bytes as redis-server 7.0.15 with requirepass sent them.
        let mut t = TestNode::new(Config {
            requirepass: Some("pw".into()),
            ..Config::default()
        });
        t.connect(1);
        let replies = t.raw(
            1,
            b"EXEC\r\nMULTI\r\nEXEC x\r\nAUTH pw\r\nMULTI\r\nSET a\r\nEXEC\r\n",
        );
        let expected = "-EXECABORT Transaction discarded because of: NOAUTH Authentication required.\r\n\
            -NOAUTH Authentication required.\r\n\
            -EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n\
            +OK\r\n+OK\r\n-ERR wrong number of arguments for 'set' command\r\n\
            -EXECABORT Transaction discarded because of previous errors.\r\n";
        assert_eq!(String::from_utf8_lossy(&replies), expected);
    }

    #[test]
    fn a_write_by_another_client_fails_exec_but_a_failed_write_does_not() {
        let mut t = node();
        run(&mut t, 1, "SET k a");
        run(&mut t, 1, "WATCH k");
        run(&mut t, 2, "SET k b NX");
        run(&mut t, 2, "LPUSH k x");
        run(&mut t, 1, "MULTI");
        run(&mut t, 1, "GET k");
        assert_eq!(run(&mut t, 1, "EXEC"), "*1\r\n$1\r\na\r\n");
        run(&mut t, 1, "WATCH k");
        run(&mut t, 2, "APPEND k b");
        run(&mut t, 1, "MULTI");
        run(&mut t, 1, "GET k");
        assert_eq!(run(&mut t, 1, "EXEC"), "*-1\r\n");
        // EXEC forgot the watch either way.
        assert_eq!(watches(&t).watched_count(1), 0);
    }

    #[test]
    fn a_watched_key_that_expires_fails_exec_unless_it_had_expired_already() {
        let mut t = node();
        run(&mut t, 1, "SET k v PX 10");
        run(&mut t, 1, "WATCH k");
        t.now += 20;
        run(&mut t, 1, "MULTI");
        run(&mut t, 1, "PING");
        assert_eq!(run(&mut t, 1, "EXEC"), "*-1\r\n");
        // Watched after its deadline: its deletion by another client's lookup is
        // no logical change.
        run(&mut t, 1, "SET j v PX 10");
        t.now += 20;
        run(&mut t, 1, "WATCH j");
        assert_eq!(run(&mut t, 2, "GET j"), "$-1\r\n");
        run(&mut t, 1, "MULTI");
        run(&mut t, 1, "PING");
        assert_eq!(run(&mut t, 1, "EXEC"), "*1\r\n+PONG\r\n");
    }

    #[test]
    fn flushdb_touches_only_watched_keys_that_existed() {
        let mut t = node();
        run(&mut t, 1, "WATCH missing");
        run(&mut t, 2, "FLUSHDB");
        run(&mut t, 1, "MULTI");
        assert_eq!(run(&mut t, 1, "EXEC"), "*0\r\n");
        run(&mut t, 1, "SET k v");
        run(&mut t, 1, "WATCH k");
        run(&mut t, 2, "FLUSHALL");
        run(&mut t, 1, "MULTI");
        assert_eq!(run(&mut t, 1, "EXEC"), "*-1\r\n");
    }

    #[test]
    fn swapdb_touches_keys_present_in_either_database() {
        let mut t = node();
        run(&mut t, 2, "SELECT 1");
        run(&mut t, 2, "SET k other");
        run(&mut t, 1, "WATCH k");
        run(&mut t, 2, "SWAPDB 0 1");
        run(&mut t, 1, "MULTI");
        assert_eq!(run(&mut t, 1, "EXEC"), "*-1\r\n");
    }

    #[test]
    fn client_list_shows_multi_count_and_the_x_and_d_flags() {
        let mut t = node();
        run(&mut t, 1, "SET k v");
        run(&mut t, 1, "WATCH k");
        run(&mut t, 2, "SET k w");
        run(&mut t, 1, "MULTI");
        run(&mut t, 1, "SET a 1");
        let list = run(&mut t, 2, "CLIENT LIST");
        let line = list
            .lines()
            .find(|l| l.contains("id=3 "))
            .expect("client 1");
        assert!(line.contains(" flags=xd "), "{line}");
        assert!(line.contains(" multi=1 "), "{line}");
        assert!(line.contains(" multi-mem=29 "), "{line}");
        run(&mut t, 1, "DISCARD");
        let list = run(&mut t, 2, "CLIENT LIST");
        let line = list
            .lines()
            .find(|l| l.contains("id=3 "))
            .expect("client 1");
        assert!(
            line.contains(" flags=N ") && line.contains(" multi=-1 "),
            "{line}"
        );
    }

    #[test]
    fn reset_and_disconnect_forget_the_transaction_and_the_watches() {
        let mut t = node();
        run(&mut t, 1, "WATCH a b");
        run(&mut t, 1, "MULTI");
        assert_eq!(run(&mut t, 1, "RESET"), "+RESET\r\n");
        assert_eq!(watches(&t).watched_count(1), 0);
        assert_eq!(run(&mut t, 1, "EXEC"), format!("-{EXEC_WITHOUT_MULTI}\r\n"));
        run(&mut t, 2, "WATCH a");
        t.node.handle(t.now, crate::io::Input::Closed { conn: 2 });
        assert!(watches(&t).is_empty());
    }

    #[test]
    fn blocking_commands_inside_exec_reply_as_on_timeout() {
        let mut t = node();
        run(&mut t, 1, "MULTI");
        run(&mut t, 1, "BLPOP l 0");
        run(&mut t, 1, "BLMOVE l d LEFT RIGHT 0");
        run(&mut t, 1, "BZPOPMIN z 0");
        assert_eq!(run(&mut t, 1, "EXEC"), "*3\r\n*-1\r\n$-1\r\n*-1\r\n");
    }
}
