//! Server commands: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, SAVE, BGSAVE, LASTSAVE,
//! SHUTDOWN.
//! INFO lives in `info.rs` and DEBUG in `debug.rs`.

use bytes::Bytes;

use super::args::{int_or, is};
use super::{Acl, CommandSpec, Flag, Group};
use crate::error::{CmdError, CmdResult, DB_INDEX_OUT_OF_RANGE, SYNTAX};
use crate::io::LogLevel;
use crate::io::Output;
use crate::node::Ctx;
use crate::persist::{self, Waiter};

const INVALID_FIRST_DB: &str = "ERR invalid first DB index";
const INVALID_SECOND_DB: &str = "ERR invalid second DB index";
const NO_SHUTDOWN_IN_PROGRESS: &str = "ERR No shutdown in progress.";
const BGSAVE_CHILD_ACTIVE: &str = "ERR Another child process is active (AOF?): can't BGSAVE \
    right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.";

const ALL_SHARDS_SUCCEED: &[&str] = &["request_policy:all_shards", "response_policy:all_succeeded"];
const FLUSH_HISTORY: &[(&str, &str)] = &[
    ("4.0.0", "Added the `ASYNC` flushing mode modifier."),
    ("6.2.0", "Added the `SYNC` flushing mode modifier."),
];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "dbsize",
        arity: 1,
        flags: &[Flag::Readonly, Flag::Fast],
        acl: &[Acl::Keyspace],
        tips: &["request_policy:all_shards", "response_policy:agg_sum"],
        group: Group::Server,
        summary: "Returns the number of keys in the database.",
        handler: Some(dbsize),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "flushdb",
        arity: -1,
        flags: &[Flag::Write],
        acl: &[Acl::Keyspace, Acl::Dangerous],
        tips: ALL_SHARDS_SUCCEED,
        group: Group::Server,
        summary: "Removes all keys from the current database.",
        history: FLUSH_HISTORY,
        complexity: "O(N) where N is the number of keys in the selected database",
        handler: Some(flushdb),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "flushall",
        arity: -1,
        flags: &[Flag::Write],
        acl: &[Acl::Keyspace, Acl::Dangerous],
        tips: ALL_SHARDS_SUCCEED,
        group: Group::Server,
        summary: "Removes all keys from all databases.",
        history: FLUSH_HISTORY,
        complexity: "O(N) where N is the total number of keys in all databases",
        handler: Some(flushall),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "swapdb",
        arity: 3,
        flags: &[Flag::Write, Flag::Fast],
        acl: &[Acl::Keyspace, Acl::Dangerous],
        group: Group::Server,
        since: "4.0.0",
        summary: "Swaps two databases.",
        complexity: "O(N) where N is the count of clients watching or blocking on keys from \
            both databases.",
        handler: Some(swapdb),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "time",
        arity: 1,
        flags: &[Flag::Loading, Flag::Stale, Flag::Fast],
        tips: &["nondeterministic_output"],
        group: Group::Server,
        since: "2.6.0",
        summary: "Returns the server time.",
        handler: Some(time),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "save",
        arity: 1,
        flags: &[
            Flag::Admin,
            Flag::Noscript,
            Flag::NoAsyncLoading,
            Flag::NoMulti,
        ],
        group: Group::Server,
        summary: "Synchronously save the dataset to disk",
        complexity: "O(N) where N is the total number of keys in all databases",
        handler: Some(save),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bgsave",
        arity: -1,
        flags: &[Flag::Admin, Flag::Noscript, Flag::NoAsyncLoading],
        group: Group::Server,
        summary: "Asynchronously save the dataset to disk",
        history: &[("3.2.2", "Added the `SCHEDULE` option.")],
        complexity: "O(1)",
        handler: Some(bgsave),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bgrewriteaof",
        arity: 1,
        flags: &[Flag::Admin, Flag::Noscript, Flag::NoAsyncLoading],
        group: Group::Server,
        since: "1.0.0",
        summary: "Asynchronously rewrites the append-only file to disk.",
        complexity: "O(1)",
        handler: Some(bgrewriteaof),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lastsave",
        arity: 1,
        flags: &[Flag::Loading, Flag::Stale, Flag::Fast],
        acl: &[Acl::Admin, Acl::Dangerous],
        tips: &["nondeterministic_output"],
        group: Group::Server,
        summary: "Returns the Unix timestamp of the last successful save to disk.",
        handler: Some(lastsave),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "shutdown",
        arity: -1,
        flags: &[
            Flag::Admin,
            Flag::Noscript,
            Flag::Loading,
            Flag::Stale,
            Flag::NoMulti,
            Flag::AllowBusy,
        ],
        group: Group::Server,
        summary: "Synchronously saves the database(s) to disk and shuts down the server.",
        history: &[("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers.")],
        complexity: "O(N) when saving, where N is the total number of keys in all databases \
            when saving data, otherwise O(1)",
        handler: Some(shutdown),
        ..CommandSpec::DEFAULT
    },
];

/// DBSIZE: keys in the selected database, counting expired keys not yet removed.
fn dbsize(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    let n = ctx.db().len() as i64;
    ctx.out().int(n);
    Ok(())
}

/// The optional ASYNC|SYNC of FLUSHDB and FLUSHALL. Ember always frees at once.
fn check_flush_mode(args: &[Bytes]) -> CmdResult {
    match args {
        [_] => Ok(()),
        [_, mode] if is(mode, "ASYNC") || is(mode, "SYNC") => Ok(()),
        _ => Err(SYNTAX.into()),
    }
}

/// FLUSHDB [ASYNC|SYNC]
fn flushdb(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    check_flush_mode(args)?;
    ctx.touch_watched_in_db(ctx.client.db, None);
    ctx.force_propagation();
    let db = ctx.db();
    let removed = db.len() as u64;
    db.clear();
    ctx.signal_waited_keys_in_db(ctx.client.db);
    ctx.srv.dirty += removed;
    ctx.out().ok();
    Ok(())
}

/// FLUSHALL [ASYNC|SYNC]: as Redis 7.0, a running BGSAVE is killed and, when save
/// points are configured, the now empty dataset is saved at once.
fn flushall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    check_flush_mode(args)?;
    for db in 0..ctx.srv.dbs.len() {
        ctx.touch_watched_in_db(db, None);
    }
    ctx.force_propagation();
    let removed: u64 = ctx.srv.dbs.iter().map(|db| db.len() as u64).sum();
    persist::kill_bgsave(ctx.srv, ctx.outputs);
    ctx.srv.reset_databases();
    for db in 0..ctx.srv.dbs.len() {
        ctx.signal_waited_keys_in_db(db);
    }
    ctx.srv.dirty += removed;
    if !ctx.srv.config.save_params.is_empty() {
        persist::start_save(ctx.srv, ctx.outputs, ctx.now, false, Vec::new());
    }
    ctx.srv.dirty += 1;
    ctx.out().ok();
    Ok(())
}

/// SAVE: the snapshot is written at once; the reply waits until the dump is in
/// place (+OK), or the bare -ERR if writing it failed.
fn save(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    if ctx.srv.persist.bgsave_in_progress() {
        return Err(persist::BGSAVE_IN_PROGRESS.into());
    }
    let waiter = Waiter::Reply(ctx.client.conn);
    if !persist::start_save(ctx.srv, ctx.outputs, ctx.now, false, vec![waiter]) {
        persist::wait_for_running_save(ctx.srv, waiter);
    }
    ctx.client.blocked = true;
    Ok(())
}

/// BGSAVE [SCHEDULE]
fn bgsave(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let schedule = match args {
        [_] => false,
        [_, arg] if is(arg, "SCHEDULE") => true,
        _ => return Err(SYNTAX.into()),
    };
    if ctx.srv.persist.bgsave_in_progress() {
        return Err(persist::BGSAVE_IN_PROGRESS.into());
    }
    // Inside EXEC Redis never forks: the save is scheduled for serverCron.
    let in_exec = ctx.client.in_exec;
    let busy = ctx.srv.persist.save_in_progress() || ctx.srv.aof.rewrite_in_progress();
    if busy || in_exec {
        if !schedule && !in_exec {
            return Err(BGSAVE_CHILD_ACTIVE.into());
        }
        ctx.srv.persist.bgsave_scheduled = true;
        ctx.out().status(persist::BGSAVE_SCHEDULED);
        return Ok(());
    }
    persist::start_save(ctx.srv, ctx.outputs, ctx.now, true, Vec::new());
    ctx.out().status(persist::BGSAVE_STARTED);
    Ok(())
}

/// BGREWRITEAOF: a rewrite starts now, or is scheduled while a save runs (or
/// inside EXEC).
fn bgrewriteaof(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    let in_exec = ctx.client.in_exec;
    let started = crate::aof::rewrite::bgrewriteaof(ctx.srv, ctx.outputs, ctx.now, in_exec)?;
    ctx.out().status(if started {
        crate::aof::rewrite::STARTED
    } else {
        crate::aof::rewrite::SCHEDULED
    });
    Ok(())
}

/// SWAPDB index1 index2
fn swapdb(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let first = db_index_arg(&args[1], INVALID_FIRST_DB)?;
    let second = db_index_arg(&args[2], INVALID_SECOND_DB)?;
    let count = ctx.srv.dbs.len() as i64;
    if !(0..count).contains(&first) || !(0..count).contains(&second) {
        return Err(DB_INDEX_OUT_OF_RANGE.into());
    }
    ctx.touch_watched_in_db(first as usize, Some(second as usize));
    ctx.touch_watched_in_db(second as usize, Some(first as usize));
    ctx.force_propagation();
    ctx.srv.dbs.swap(first as usize, second as usize);
    // Clients blocked on keys of either database may now find data there, or
    // (XREADGROUP) have lost their stream.
    ctx.signal_waited_keys_in_db(first as usize);
    ctx.signal_waited_keys_in_db(second as usize);
    ctx.srv.dirty += 1;
    ctx.out().ok();
    Ok(())
}

/// A database index argument: a C int, or `err`.
fn db_index_arg(arg: &[u8], err: &'static str) -> Result<i64, CmdError> {
    let n = int_or(arg, err)?;
    if i32::try_from(n).is_err() {
        return Err(err.into());
    }
    Ok(n)
}

/// TIME: seconds and microseconds, as two bulk strings.
fn time(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    let now = ctx.now;
    let out = ctx.out();
    out.array(2);
    out.bulk_i64((now / 1000) as i64);
    out.bulk_i64((now % 1000 * 1000) as i64);
    Ok(())
}

/// LASTSAVE: when the last save succeeded (the start time before any).
fn lastsave(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    let at = ctx.srv.persist.lastsave_secs as i64;
    ctx.out().int(at);
    Ok(())
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: on success there is no reply; the
/// process stops and every connection closes.
fn shutdown(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (mut nosave, mut save, mut other, mut abort) = (false, false, false, false);
    let mut force = false;
    for arg in &args[1..] {
        if is(arg, "NOSAVE") {
            nosave = true;
        } else if is(arg, "SAVE") {
            save = true;
        } else if is(arg, "NOW") || is(arg, "FORCE") {
            force |= is(arg, "FORCE");
            other = true;
        } else if is(arg, "ABORT") {
            abort = true;
        } else {
            return Err(SYNTAX.into());
        }
    }
    if (abort && (nosave || save || other)) || (nosave && save) {
        return Err(SYNTAX.into());
    }
    if abort {
        return Err(NO_SHUTDOWN_IN_PROGRESS.into());
    }
    if let Some(run) = ctx.srv.busy.timed_out() {
        // While a script runs long only SHUTDOWN NOSAVE stops the server, at once:
        // nothing is saved or flushed behind the script's back.
        if !nosave {
            return Err(crate::busy::busy_error(run.is_eval).into());
        }
        log_warning(ctx, "User requested shutdown...");
        log_warning(ctx, "Redis is now ready to exit, bye bye...");
        ctx.srv.shutdown_requested = Some(0);
        return Ok(());
    }
    log_warning(ctx, "User requested shutdown...");
    let save = save || (!nosave && !ctx.srv.config.save_params.is_empty());
    let conn = Some(ctx.client.conn);
    match persist::shutdown(ctx.srv, ctx.outputs, ctx.now, save, conn, force) {
        // The final save is on its way: the node stops (or replies) when it ends.
        None => ctx.client.blocked = true,
        Some(_) => {
            log_warning(ctx, "Redis is now ready to exit, bye bye...");
            ctx.srv.shutdown_requested = Some(0);
        }
    }
    Ok(())
}

fn log_warning(ctx: &mut Ctx<'_>, line: &str) {
    if LogLevel::Warning >= ctx.srv.config.loglevel {
        ctx.outputs.push_back(Output::Log {
            level: LogLevel::Warning,
            line: line.into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::command::testkit::{TestNode, T0};
    use crate::config::Config;
    use crate::io::Output;

    fn node() -> TestNode {
        let mut t = TestNode::new(Config::default());
        t.connect(1);
        t
    }

    #[test]
    fn swapdb_swaps_contents_under_connected_clients() {
        let mut t = node();
        t.cmd(1, &["SET", "a", "1"]);
        assert_eq!(t.cmd(1, &["SWAPDB", "0", "1"]), "+OK\r\n");
        assert_eq!(t.cmd(1, &["DBSIZE"]), ":0\r\n");
        t.cmd(1, &["SELECT", "1"]);
        assert_eq!(t.cmd(1, &["GET", "a"]), "$1\r\n1\r\n");
        assert_eq!(
            t.cmd(1, &["SWAPDB", "x", "1"]),
            "-ERR invalid first DB index\r\n"
        );
        assert_eq!(
            t.cmd(1, &["SWAPDB", "0", "x"]),
            "-ERR invalid second DB index\r\n"
        );
        assert_eq!(
            t.cmd(1, &["SWAPDB", "0", "16"]),
            "-ERR DB index is out of range\r\n"
        );
    }

    #[test]
    fn flushdb_empties_one_database_and_flushall_every_one() {
        let mut t = node();
        t.cmd(1, &["SET", "a", "1"]);
        t.cmd(1, &["SELECT", "2"]);
        t.cmd(1, &["SET", "b", "1"]);
        assert_eq!(
            t.cmd(1, &["FLUSHDB", "async", "x"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(t.cmd(1, &["FLUSHDB", "SYNC"]), "+OK\r\n");
        assert_eq!(t.cmd(1, &["DBSIZE"]), ":0\r\n");
        t.cmd(1, &["SELECT", "0"]);
        assert_eq!(t.cmd(1, &["DBSIZE"]), ":1\r\n");
        assert_eq!(t.cmd(1, &["FLUSHALL", "ASYNC"]), "+OK\r\n");
        assert_eq!(t.cmd(1, &["DBSIZE"]), ":0\r\n");
    }

    #[test]
    fn time_and_lastsave_come_from_the_node_clock() {
        let mut t = node();
        t.now = T0 + 1_234;
        assert_eq!(
            t.cmd(1, &["TIME"]),
            "*2\r\n$10\r\n1700000001\r\n$6\r\n234000\r\n"
        );
        assert_eq!(t.cmd(1, &["LASTSAVE"]), ":1700000000\r\n");
    }

    #[test]
    fn shutdown_stops_the_node_without_a_reply() {
        let mut t = TestNode::new(Config {
            save_params: Vec::new(),
            ..Config::default()
        });
        t.connect(1);
        assert_eq!(
            t.cmd(1, &["SHUTDOWN", "NOSAVE", "SAVE"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.cmd(1, &["SHUTDOWN", "ABORT"]),
            "-ERR No shutdown in progress.\r\n"
        );
        assert_eq!(t.cmd(1, &["SHUTDOWN", "NOW", "FORCE"]), "");
        assert!(t.effects.contains(&Output::Stop { code: 0 }));
    }
}
