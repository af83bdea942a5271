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
        if self.enabled {
            self.pending.push(Effect::new(db, argv));
        }
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
        if self.enabled && (dirty || call.forced) && !call.prevented {
            let argv = call.rewritten.unwrap_or_else(|| argv.to_vec());
            self.pending.push(Effect::new(db, argv));
        }
    }

    pub fn call_mut(&mut self) -> &mut CallState {
        &mut self.call
    }

    /// Effects in the unit so far, to mark a point [`Propagation::drop_since`]
    /// can return to.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Drops the unit's effects added after `mark` (a script's writes under
    /// `redis.set_repl(redis.REPL_NONE)`).
    pub fn drop_since(&mut self, mark: usize) {
        self.pending.truncate(mark);
    }

    /// Ends the execution unit: its effects go to `outbox`, wrapped in MULTI/EXEC
    /// when more than one (MULTI in the first effect's database, EXEC in the last's).
    pub fn flush_unit(&mut self, outbox: &mut Vec<Effect>) {
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

/// The command a deletion propagates as: UNLINK when the lazyfree setting that
/// governs it is on (`lazyfree-lazy-expire` for expiry), DEL otherwise.
pub fn deletion_command(lazy: bool) -> Bytes {
    Bytes::from_static(if lazy { b"UNLINK" } else { b"DEL" })
}

/// A key deleted because its deadline passed, as Redis propagates it.
pub fn expired_key_deletion(key: &[u8], lazy: bool) -> Vec<Bytes> {
    vec![deletion_command(lazy), Bytes::copy_from_slice(key)]
}

/// Effects of commands run on a whole node. Every expected stream below is what
/// redis-server 7.0.15 wrote to its AOF (`appendonlydir/*.incr.aof`, read back
/// after running the same commands with `--appendonly yes`), SELECT lines aside;
/// absolute times are shifted to the test clock.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::testkit::{TestNode, T0};
    use crate::config::Config;
    use crate::io::Input;

    /// A node with effects kept and two clients (1 and 2).
    fn node() -> TestNode {
        node_with(Config::default())
    }

    fn node_with(config: Config) -> TestNode {
        let mut t = TestNode::new(config);
        t.node.set_propagation(true);
        t.connect(1);
        t.connect(2);
        t
    }

    /// Runs each line (split on spaces) on client 1 and returns the effects they
    /// produced, one string per effect, `[db] ` prefixed when not database 0.
    fn effects(t: &mut TestNode, lines: &[&str]) -> Vec<String> {
        for line in lines {
            let args: Vec<&str> = line.split(' ').collect();
            t.cmd(1, &args);
        }
        take(t)
    }

    fn take(t: &mut TestNode) -> Vec<String> {
        t.node
            .take_effects()
            .into_iter()
            .map(|e| {
                let argv: Vec<String> = e
                    .argv
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                match e.db {
                    0 => argv.join(" "),
                    db => format!("[{db}] {}", argv.join(" ")),
                }
            })
            .collect()
    }

    fn at(offset_ms: u64) -> String {
        (T0 + offset_ms).to_string()
    }

    #[test]
    fn relative_and_second_expiries_of_set_become_pxat() {
        let mut t = node();
        let got = effects(
            &mut t,
            &[
                "set k v ex 100",
                "setex k2 100 v",
                "psetex k3 100 v",
                "set k4 v px 5 get",
                "set k5 v exat 1800000000",
                "set k6 v pxat 1800000000000",
                "set k6 w keepttl",
            ],
        );
        assert_eq!(
            got,
            [
                format!("SET k v PXAT {}", at(100_000)),
                format!("SET k2 v PXAT {}", at(100_000)),
                format!("SET k3 v PXAT {}", at(100)),
                format!("SET k4 v PXAT {}", at(5)),
                "SET k5 v PXAT 1800000000000".to_string(),
                "set k6 v pxat 1800000000000".to_string(),
                "set k6 w keepttl".to_string(),
            ]
        );
    }

    #[test]
    fn writes_that_change_nothing_propagate_nothing() {
        let mut t = node();
        t.cmd(1, &["set", "nx", "1"]);
        t.node.take_effects();
        let got = effects(
            &mut t,
            &[
                "set nx 2 nx",
                "setnx nx 3",
                "del nokey",
                "lpushx nolist a",
                "expire nokey 10",
                "getdel nokey",
                "persist nx",
                "getex nx persist",
                "spop noset",
                "lmpop 1 nolist left",
            ],
        );
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn the_expire_family_propagates_absolute_pexpireat_keeping_conditions() {
        let mut t = node();
        t.cmd(1, &["set", "n", "5"]);
        t.node.take_effects();
        let got = effects(
            &mut t,
            &[
                "expire n 100",
                "expire n 50 GT",
                "expire n 200 gt",
                "pexpire n 1000",
                "expireat n 99999999999",
                "pexpireat n 99999999999000",
                "expire n -1",
            ],
        );
        assert_eq!(
            got,
            [
                format!("PEXPIREAT n {}", at(100_000)),
                format!("PEXPIREAT n {} gt", at(200_000)),
                format!("PEXPIREAT n {}", at(1_000)),
                "PEXPIREAT n 99999999999000".to_string(),
                "pexpireat n 99999999999000".to_string(),
                "DEL n".to_string(),
            ]
        );
    }

    #[test]
    fn deletions_by_expiry_are_unlink_under_lazyfree_lazy_expire() {
        let mut t = node_with(Config {
            lazyfree_lazy_expire: true,
            ..Config::default()
        });
        t.cmd(1, &["set", "k", "1"]);
        t.cmd(1, &["set", "g", "1"]);
        t.node.take_effects();
        let got = effects(&mut t, &["expire k -1", "getex g pxat 1"]);
        assert_eq!(got, ["UNLINK k", "UNLINK g"]);
    }

    #[test]
    fn getex_getdel_and_the_float_increments_propagate_their_results() {
        let mut t = node();
        let got = effects(
            &mut t,
            &[
                "set j 1",
                "getex j ex 100",
                "getex j persist",
                "getex j persist",
                "getex j pxat 1800000000000",
                "getdel j",
                "incrbyfloat f 1.5",
                "hincrbyfloat h f 1.5",
                "set e2 v",
                "getex e2 pxat 1",
            ],
        );
        assert_eq!(
            got,
            [
                "set j 1".to_string(),
                format!("PEXPIREAT j {}", at(100_000)),
                "PERSIST j".to_string(),
                "getex j pxat 1800000000000".to_string(),
                "DEL j".to_string(),
                "SET f 1.5 KEEPTTL".to_string(),
                "HSET h f 1.5".to_string(),
                "set e2 v".to_string(),
                "DEL e2".to_string(),
            ]
        );
    }

    #[test]
    fn spop_becomes_srem_per_member_wrapped_and_del_for_the_whole_set() {
        let mut t = node();
        t.cmd(1, &["sadd", "s", "a", "b", "c", "d", "e"]);
        t.node.take_effects();
        let one = effects(&mut t, &["spop s"]);
        assert_eq!(one.len(), 1);
        assert!(one[0].starts_with("SREM s "), "{one:?}");
        let two = effects(&mut t, &["spop s 2"]);
        assert_eq!(two.len(), 4, "{two:?}");
        assert_eq!((two[0].as_str(), two[3].as_str()), ("MULTI", "EXEC"));
        assert!(two[1].starts_with("SREM s ") && two[2].starts_with("SREM s "));
        assert_eq!(effects(&mut t, &["spop s 5"]), ["DEL s"]);
        // A single SPOP that empties the set is still an SREM.
        t.cmd(1, &["sadd", "one", "x"]);
        t.node.take_effects();
        assert_eq!(effects(&mut t, &["spop one"]), ["SREM one x"]);
    }

    #[test]
    fn multi_key_and_blocking_pops_propagate_their_plain_forms() {
        let mut t = node();
        let got = effects(
            &mut t,
            &[
                "rpush l a b c d",
                "lmpop 2 nol l left count 2",
                "lmpop 1 l right",
                "lmpop 1 l left count 10",
                "zadd z 1 a 2 b 3 c",
                "zmpop 1 z min count 2",
                "zmpop 1 z max",
                "rpush l2 a",
                "blpop l2 0",
                "rpush l3 a b",
                "blmove l3 l4 left right 0",
                "brpoplpush l3 l4 0",
                "zadd z2 1 a 2 b",
                "bzpopmin z2 0",
                "bzpopmax z2 0",
                "rpush l5 a b c",
                "blmpop 0 1 l5 left count 2",
                "zadd z3 1 a 2 b",
                "bzmpop 0 1 z3 max count 5",
            ],
        );
        let expected = [
            "rpush l a b c d",
            "LPOP l 2",
            "RPOP l 1",
            "LPOP l 1",
            "zadd z 1 a 2 b 3 c",
            "ZPOPMIN z 2",
            "ZPOPMAX z 1",
            "rpush l2 a",
            "LPOP l2",
            "rpush l3 a b",
            "LMOVE l3 l4 left right",
            "RPOPLPUSH l3 l4",
            "zadd z2 1 a 2 b",
            "ZPOPMIN z2",
            "ZPOPMAX z2",
            "rpush l5 a b c",
            "LPOP l5 2",
            "zadd z3 1 a 2 b",
            "ZPOPMAX z3 2",
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn right_pops_absolute_getex_and_past_absolute_expiries() {
        let mut t = node();
        let got = effects(
            &mut t,
            &[
                "rpush l a b c",
                "brpop l 0",
                "blmpop 0 1 l right",
                "set g v",
                "getex g exat 1900000000",
                "set h v",
                "set h w px 100 get",
                "expireat h 1",
                "set i 1",
                "pexpireat i 1",
            ],
        );
        assert_eq!(
            got,
            [
                "rpush l a b c".to_string(),
                "RPOP l".to_string(),
                "RPOP l 1".to_string(),
                "set g v".to_string(),
                "PEXPIREAT g 1900000000000".to_string(),
                "set h v".to_string(),
                format!("SET h w PXAT {}", at(100)),
                "DEL h".to_string(),
                "set i 1".to_string(),
                "DEL i".to_string(),
            ]
        );
    }

    #[test]
    fn bitmap_and_hyperloglog_writes_propagate_verbatim_when_they_change_something() {
        let mut t = node();
        let got = effects(
            &mut t,
            &[
                "setbit b 3 1",
                "setbit b 3 1",
                "setbit b 100 0",
                "bitop and d b nokey",
                "bitop or d2 nokey",
                "bitfield bf set u8 0 255 get u8 0",
                "bitfield bf get u8 0",
                "bitfield bf incrby u8 0 1 overflow fail incrby u8 0 300",
                "bitfield_ro bf get u8 0",
                "pfadd h a b c",
                "pfadd h a",
                "pfcount h",
                "pfcount h",
                "pfadd h2 x",
                "pfcount h h2",
                "pfmerge h3 h h2",
                "pfmerge h3",
                "pfdebug todense h",
                "pfdebug getreg h",
            ],
        );
        assert_eq!(
            got,
            [
                "setbit b 3 1",
                "setbit b 100 0",
                "bitop and d b nokey",
                "bitfield bf set u8 0 255 get u8 0",
                "bitfield bf incrby u8 0 1 overflow fail incrby u8 0 300",
                "pfadd h a b c",
                "pfcount h",
                "pfadd h2 x",
                "pfmerge h3 h h2",
                "pfmerge h3",
                "pfdebug todense h",
            ]
        );
    }

    #[test]
    fn a_served_blocked_pop_follows_the_push_that_served_it() {
        let mut t = node();
        t.cmd(2, &["blpop", "l", "0"]);
        let got = effects(&mut t, &["rpush l a b"]);
        assert_eq!(got, ["rpush l a b", "LPOP l"]);
    }

    #[test]
    fn served_blocked_commands_propagate_their_plain_forms_after_the_write() {
        let mut t = node();
        let waits: [&[&str]; 6] = [
            &["blmpop", "0", "2", "a", "b", "left", "count", "5"],
            &["blmove", "c", "d", "left", "right", "0"],
            &["brpoplpush", "e", "f", "0"],
            &["bzmpop", "0", "1", "z", "max", "count", "3"],
            &["bzpopmax", "y", "0"],
            &["blpop", "d", "0"],
        ];
        for (i, wait) in waits.iter().enumerate() {
            let conn = 10 + i as crate::io::ConnId;
            t.connect(conn);
            t.cmd(conn, wait);
        }
        let got = effects(
            &mut t,
            &[
                "rpush b 1 2",
                "rpush c x",
                "rpush e q",
                "zadd z 1 a 2 b",
                "zadd y 1 a",
            ],
        );
        assert_eq!(
            got,
            [
                "rpush b 1 2",
                "LPOP b 2",
                "rpush c x",
                "LMOVE c d left right",
                "LPOP d",
                "rpush e q",
                "RPOPLPUSH e f",
                "zadd z 1 a 2 b",
                "ZPOPMAX z 2",
                "zadd y 1 a",
                "ZPOPMAX y",
            ]
        );
    }

    #[test]
    fn lazy_expiry_propagates_del_before_the_command_in_one_block() {
        let mut t = node();
        for key in ["a", "b", "c"] {
            t.cmd(1, &["set", key, "1", "px", "1"]);
        }
        t.node.take_effects();
        t.now += 10;
        let got = effects(&mut t, &["get a", "set b 2", "incr c"]);
        assert_eq!(
            got,
            ["DEL a", "MULTI", "DEL b", "set b 2", "EXEC", "MULTI", "DEL c", "incr c", "EXEC"]
        );
    }

    #[test]
    fn active_expiry_propagates_each_deletion_on_its_own() {
        let mut t = node();
        for key in ["a", "b"] {
            t.cmd(1, &["set", key, "1", "px", "1"]);
        }
        t.node.take_effects();
        t.now += 10;
        t.node.handle(t.now, Input::Tick);
        let mut got = take(&mut t);
        got.sort();
        assert_eq!(got, ["DEL a", "DEL b"]);
    }

    #[test]
    fn exec_wraps_two_or_more_effects_and_drops_the_queue_when_nothing_is_written() {
        let mut t = node();
        let single = effects(&mut t, &["MULTI", "SET x 1", "EXEC"]);
        assert_eq!(single, ["SET x 1"]);
        assert!(effects(&mut t, &["MULTI", "GET x", "EXEC"]).is_empty());
        let several = effects(
            &mut t,
            &[
                "MULTI", "SET y 1", "INCR y", "GET y", "SELECT 3", "SET z 1", "EXEC",
            ],
        );
        assert_eq!(
            several,
            ["MULTI", "SET y 1", "INCR y", "[3] SET z 1", "[3] EXEC"]
        );
        assert!(effects(&mut t, &["MULTI", "SET q 1", "DISCARD"]).is_empty());
    }

    #[test]
    fn exec_with_a_lazily_expired_key_and_writes_is_one_block() {
        let mut t = node();
        t.cmd(1, &["set", "d", "1", "px", "1"]);
        t.node.take_effects();
        t.now += 10;
        let got = effects(&mut t, &["MULTI", "INCR d", "RPUSH l y", "EXEC"]);
        assert_eq!(got, ["MULTI", "DEL d", "INCR d", "RPUSH l y", "EXEC"]);
    }

    #[test]
    fn flushes_and_swaps_always_propagate_as_sent() {
        let mut t = node();
        let got = effects(
            &mut t,
            &[
                "flushall",
                "flushdb",
                "swapdb 0 0",
                "select 5",
                "flushdb",
                "swapdb 1 2",
            ],
        );
        assert_eq!(
            got,
            [
                "flushall",
                "flushdb",
                "swapdb 0 0",
                "[5] flushdb",
                "[5] swapdb 1 2"
            ]
        );
    }

    /// RESTORE's payload is binary (it holds a space and non-UTF-8 bytes), so
    /// this test sends and compares argv as bytes.
    #[test]
    fn restore_propagates_an_absolute_ttl_and_a_replaced_past_key_as_del() {
        // DUMP of the string "hello" (redis-server 7.0.15).
        const PAYLOAD: &[u8] = b"\x00\x05hello\x0a\x00cr\xdfve4 \x0a";
        let mut t = node();
        t.cmd(1, &["set", "a", "hello"]);
        take(&mut t);
        let restore = |t: &mut TestNode, words: &[&[u8]]| {
            let mut req = format!("*{}\r\n", words.len()).into_bytes();
            for w in words {
                req.extend_from_slice(format!("${}\r\n", w.len()).as_bytes());
                req.extend_from_slice(w);
                req.extend_from_slice(b"\r\n");
            }
            assert_eq!(t.raw(1, &req), b"+OK\r\n");
        };
        restore(&mut t, &[b"restore", b"b", b"100000", PAYLOAD]);
        restore(&mut t, &[b"restore", b"c", b"0", PAYLOAD]);
        restore(
            &mut t,
            &[b"restore", b"a", b"1", PAYLOAD, b"replace", b"absttl"],
        );
        restore(
            &mut t,
            &[
                b"restore",
                b"c",
                b"5000",
                PAYLOAD,
                b"replace",
                b"idletime",
                b"5",
            ],
        );
        restore(&mut t, &[b"restore", b"d", b"1", PAYLOAD, b"absttl"]);
        let got: Vec<Vec<Bytes>> = t.node.take_effects().into_iter().map(|e| e.argv).collect();
        let argv = |words: &[&[u8]]| -> Vec<Bytes> {
            words.iter().map(|w| Bytes::copy_from_slice(w)).collect()
        };
        let (b_at, c_at) = (at(100_000), at(5000));
        let want = vec![
            argv(&[b"restore", b"b", b_at.as_bytes(), PAYLOAD, b"ABSTTL"]),
            argv(&[b"restore", b"c", b"0", PAYLOAD]),
            argv(&[b"DEL", b"a"]),
            argv(&[
                b"restore",
                b"c",
                c_at.as_bytes(),
                PAYLOAD,
                b"replace",
                b"idletime",
                b"5",
                b"ABSTTL",
            ]),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn keyspace_commands_propagate_verbatim() {
        let mut t = node();
        let got = effects(
            &mut t,
            &[
                "set m 1",
                "move m 1",
                "set m 2",
                "copy m m2",
                "copy m m3 db 2",
                "rename m m4",
                "renamenx m4 m5",
                "rpush sl 3 1 2",
                "sort sl store dst",
                "sort sl store dst2 limit 0 0",
                "del m5 nokey",
            ],
        );
        assert_eq!(
            got,
            [
                "set m 1",
                "move m 1",
                "set m 2",
                "copy m m2",
                "copy m m3 db 2",
                "rename m m4",
                "renamenx m4 m5",
                "rpush sl 3 1 2",
                "sort sl store dst",
                "del m5 nokey",
            ]
        );
    }

    #[test]
    fn effects_are_dropped_when_no_consumer_asked_for_them() {
        let mut t = TestNode::new(Config::default());
        t.connect(1);
        t.cmd(1, &["set", "k", "v"]);
        assert!(t.node.take_effects().is_empty());
    }

    /// Applies effects to `replica` as the AOF loader or a replica would: SELECT
    /// where the database changes, then each command.
    fn replay(replica: &mut TestNode, effects: &[Effect]) {
        let mut db = 0;
        for effect in effects {
            if effect.db != db {
                db = effect.db;
                replica.cmd(1, &["SELECT", &db.to_string()]);
            }
            let args: Vec<String> = effect
                .argv
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            replica.cmd(1, &args);
        }
    }

    /// Every live key of databases 0-2 with its type, deadline and contents, in a
    /// form that does not depend on the order a hash table keeps.
    fn dataset(t: &mut TestNode) -> Vec<String> {
        let mut seen = Vec::new();
        for db in 0..3 {
            t.cmd(2, &["SELECT", &db.to_string()]);
            let keys = t.cmd(2, &["KEYS", "*"]);
            let mut names: Vec<String> = keys
                .split("\r\n")
                .skip(1)
                .filter(|l| !l.starts_with('$') && !l.is_empty())
                .map(str::to_string)
                .collect();
            names.sort();
            for key in names {
                let kind = t.cmd(2, &["TYPE", &key]);
                let contents = match kind.as_str() {
                    "+string\r\n" => t.cmd(2, &["GET", &key]),
                    "+list\r\n" => t.cmd(2, &["LRANGE", &key, "0", "-1"]),
                    "+zset\r\n" => t.cmd(2, &["ZRANGE", &key, "0", "-1", "WITHSCORES"]),
                    "+set\r\n" => sorted_lines(t.cmd(2, &["SMEMBERS", &key])),
                    _ => sorted_lines(t.cmd(2, &["HGETALL", &key])),
                };
                let deadline = t.cmd(2, &["PEXPIRETIME", &key]);
                seen.push(format!("{db} {key} {kind} {deadline} {contents}"));
            }
        }
        seen
    }

    fn sorted_lines(reply: String) -> String {
        let mut lines: Vec<&str> = reply.split("\r\n").collect();
        lines.sort_unstable();
        lines.join(",")
    }

    #[test]
    fn replaying_the_effects_on_an_empty_node_rebuilds_the_same_dataset() {
        let mut primary = node();
        primary.connect(3);
        primary.cmd(3, &["BLPOP", "q", "0"]);
        let script = [
            "SET s1 v EX 100",
            "SETEX s2 100 v",
            "SET s3 v PX 5",
            "INCRBYFLOAT f 0.1",
            "INCRBYFLOAT f 0.2",
            "HINCRBYFLOAT h x 1.25",
            "SADD set a b c d e f g h i j 1 2 3",
            "SPOP set",
            "SPOP set 4",
            "SADD gone a b",
            "SPOP gone 10",
            "RPUSH q a b c",
            "LMPOP 1 q RIGHT COUNT 1",
            "ZADD z 1 a 2 b 3 c 4 d",
            "ZMPOP 1 z MIN COUNT 2",
            "BZPOPMAX z 0",
            "SET e v",
            "EXPIRE e 500",
            "GETEX e PX 700",
            "SET p v",
            "GETEX p EXAT 1",
            "MULTI",
            "SELECT 1",
            "RPUSH l x y",
            "BLMOVE l l2 LEFT RIGHT 0",
            "SELECT 2",
            "SET k 5",
            "EXEC",
            "SET gd x",
            "GETDEL gd",
        ];
        for line in script {
            let args: Vec<&str> = line.split(' ').collect();
            primary.cmd(1, &args);
        }
        primary.now += 10;
        primary.cmd(1, &["GET", "s3"]);
        let effects = primary.node.take_effects();
        // Another seed, so a random choice replayed as such would differ.
        let mut replica = TestNode::new(Config::default());
        replica.node = crate::node::Node::new(Config::default(), [8; 32], primary.now);
        replica.now = primary.now;
        replica.connect(1);
        replica.connect(2);
        replay(&mut replica, &effects);
        let expected = dataset(&mut primary);
        assert!(expected.len() > 10, "{expected:?}");
        assert_eq!(dataset(&mut replica), expected);
    }

    #[test]
    fn the_unit_wraps_in_multi_exec_in_the_first_and_last_databases() {
        let mut p = Propagation {
            enabled: true,
            ..Propagation::default()
        };
        let mut outbox = Vec::new();
        p.also(
            1,
            vec![Bytes::from_static(b"DEL"), Bytes::from_static(b"a")],
        );
        p.also(
            2,
            vec![Bytes::from_static(b"DEL"), Bytes::from_static(b"b")],
        );
        p.flush_unit(&mut outbox);
        let dbs: Vec<usize> = outbox.iter().map(|e| e.db).collect();
        assert_eq!(dbs, [1, 1, 2, 2]);
        assert_eq!(outbox[0].argv, [Bytes::from_static(b"MULTI")]);
        assert_eq!(outbox[3].argv, [Bytes::from_static(b"EXEC")]);
    }
}
