//! `maxmemory` eviction, as Redis 7.0's evict.c (performEvictions) and the
//! maxmemory part of processCommand.
//!
//! The core measures no memory: the host reports allocated bytes through the
//! memory probe (`Node::set_memory_probe`). Before a command that may grow memory
//! (`denyoom`, or any command queued inside MULTI) runs, [`oom_refusal`] evicts
//! keys one at a time by `maxmemory-policy` while the probe reports more than
//! `maxmemory`, and refuses the command with Redis's OOM error when nothing more
//! can be evicted. Without a probe (the simulator) used memory reads as 0, so
//! nothing is ever evicted or refused there.
//!
//! Candidates come from Redis's eviction pool: for the LRU, LFU and TTL policies
//! each database contributes `maxmemory-samples` keys taken from consecutive
//! buckets at a random place of its main table (allkeys-*) or its volatile index
//! (volatile-*); the pool keeps the [`POOL_SIZE`] best across samples and calls,
//! and the best one that still exists is evicted. The random policies take one
//! random key, visiting databases in turn.
//!
//! An evicted key is deleted as a normal deletion: DEL (UNLINK with
//! `lazyfree-lazy-eviction`) propagates as its own execution unit, clients
//! watching it are invalidated, the `evicted` keyspace event (class `e`) fires,
//! and INFO stats `evicted_keys` counts it.
//!
//! Redis bounds one eviction run by time (`maxmemory-eviction-tenacity`) and
//! finishes in a timer; the core has no clock, so the bound is a number of keys
//! (one per microsecond of Redis's limit, at least 16), and what is left is
//! evicted before the next command that needs memory.
//!
//! Scripts follow Redis 7.0: an EVAL/FCALL whose script declares flags is
//! `denyoom` unless it declares `allow-oom` or `no-writes`; a script without a
//! shebang is not, but its first write of a `denyoom` command gets the OOM error
//! when the command that started it found memory over the limit
//! ([`script_call_refusal`]).

use bytes::Bytes;
use rand_chacha::rand_core::RngCore;
use rand_chacha::ChaCha8Rng;

use crate::command::{CommandSpec, Flag};
use crate::config::MaxmemoryPolicy;
use crate::db::{self, Millis};
use crate::error::{self, CmdError};
use crate::node::Ctx;
use crate::script::ScriptFlags;
use crate::server::Server;

/// Candidates the pool keeps across runs (EVPOOL_SIZE).
pub const POOL_SIZE: usize = 16;

/// Sampling rounds one pick may take before giving up: a round can find nothing
/// when its buckets happen to be empty, the next starts elsewhere.
const PICK_ROUNDS_MAX: usize = 64;

/// Eviction state kept in the server.
#[derive(Debug)]
pub struct Evict {
    /// The best candidates seen so far, ascending by score: the last is evicted
    /// first. Entries may be stale (deleted since); they are checked when picked.
    pool: Vec<Candidate>,
    /// The database the random policies try after the last one (Redis's next_db).
    next_db: usize,
    /// Draws for sample positions and random victims.
    rng: ChaCha8Rng,
    /// Keys evicted since start (INFO stats `evicted_keys`).
    pub evicted_keys: u64,
    /// Whether the command being processed found memory over the limit with
    /// nothing to evict (Redis's pre_command_oom_state); scripts check it.
    pub pre_command_oom: bool,
    /// The script in progress, for [`script_call_refusal`].
    script: ScriptRun,
}

/// What eviction needs to know of the script in progress.
#[derive(Debug, Default, Clone, Copy)]
struct ScriptRun {
    /// The script declared `allow-oom` (SCRIPT_ALLOW_OOM).
    allow_oom: bool,
    /// The script already ran a write command (SCRIPT_WRITE_DIRTY): from then on
    /// it is never refused, since it cannot be stopped halfway.
    wrote: bool,
}

#[derive(Debug, Clone)]
struct Candidate {
    /// Higher is a better victim: idle ms (LRU), 255 - counter (LFU),
    /// u64::MAX - deadline (TTL).
    score: u64,
    db: usize,
    key: Bytes,
}

/// How an eviction run ended (Redis's EVICT_OK / EVICT_RUNNING / EVICT_FAIL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No limit, or used memory is within it.
    Ok,
    /// Still over the limit, but the run's budget is spent while keys remain: the
    /// command may run, the next one evicts more.
    Running,
    /// Over the limit and nothing (more) can be evicted.
    Fail,
}

impl Evict {
    pub fn new(rng: ChaCha8Rng) -> Self {
        Evict {
            pool: Vec::with_capacity(POOL_SIZE),
            next_db: 0,
            rng,
            evicted_keys: 0,
            pre_command_oom: false,
            script: ScriptRun::default(),
        }
    }
}

/// processCommand's maxmemory step for a resolved command about to run or be
/// queued: evicts what it must, records the verdict for scripts, and returns the
/// OOM error if the command may not run. Not for the AOF's fake client or busy
/// mode (the callers do not call it there).
pub fn oom_refusal(
    ctx: &mut Ctx<'_>,
    cmd: &'static CommandSpec,
    args: &[Bytes],
) -> Option<CmdError> {
    if ctx.srv.config.maxmemory == 0 {
        ctx.srv.evict.pre_command_oom = false;
        return None;
    }
    let out_of_memory = perform_evictions(ctx) == Outcome::Fail;
    ctx.srv.evict.pre_command_oom = out_of_memory;
    (out_of_memory && refused_on_oom(ctx, cmd, args)).then_some(CmdError::Static(error::OOM))
}

/// Whether a command is refused while out of memory: `denyoom` ones (for scripts
/// by their declared flags, for EXEC by what it queued), and inside MULTI
/// everything but EXEC, DISCARD, QUIT and RESET, since queueing takes memory too.
fn refused_on_oom(ctx: &Ctx<'_>, cmd: &'static CommandSpec, args: &[Bytes]) -> bool {
    if let Some(multi) = ctx.client.multi.as_ref() {
        return match cmd.name {
            "exec" => multi
                .commands
                .iter()
                .any(|(queued, argv)| denies_oom(ctx.srv, queued, argv)),
            "discard" | "quit" | "reset" => false,
            _ => true,
        };
    }
    denies_oom(ctx.srv, cmd, args)
}

/// The command's `denyoom` flag as Redis's getCommandFlags sees it: a script
/// command takes it from the script's declared flags.
fn denies_oom(srv: &Server, cmd: &'static CommandSpec, args: &[Bytes]) -> bool {
    match declared_script_flags(srv, cmd, args) {
        Some(flags) => !(flags.allow_oom || flags.no_writes),
        None => cmd.has_flag(Flag::Denyoom),
    }
}

/// The flags a script declares for EVAL/EVALSHA(_RO) and FCALL(_RO) (Redis's
/// evalGetCommandFlags, fcallGetCommandFlags); None for other commands, unknown
/// scripts and shebang-less scripts (Redis's compatibility mode).
pub(crate) fn declared_script_flags(
    srv: &Server,
    cmd: &'static CommandSpec,
    args: &[Bytes],
) -> Option<ScriptFlags> {
    let name = args.get(1)?;
    let flags = match cmd.name {
        "eval" | "eval_ro" => {
            let sha = crate::script::sha1_hex(name);
            match srv.scripts.engine.as_ref().and_then(|e| e.flags(&sha)) {
                Some(flags) => flags,
                None => crate::script::parse_shebang(name).ok()?.0,
            }
        }
        "evalsha" | "evalsha_ro" => {
            let sha = String::from_utf8_lossy(name).to_ascii_lowercase();
            srv.scripts.engine.as_ref()?.flags(&sha)?
        }
        "fcall" | "fcall_ro" => {
            let name = String::from_utf8_lossy(name);
            let (_, mut flags) = srv.scripts.functions.as_ref()?.function(&name)?;
            // Functions always declare their flags.
            flags.shebang = true;
            flags
        }
        _ => return None,
    };
    flags.shebang.then_some(flags)
}

/// Redis's scriptVerifyOOM, for a command a script calls through `Ctx::call`:
/// the script's first write of a `denyoom` command gets the OOM error when the
/// command that started the script found memory over the limit, unless the
/// script declared `allow-oom`. A script command itself (EVAL, FCALL...) starts
/// the record of a new run.
pub fn script_call_refusal(
    ctx: &mut Ctx<'_>,
    cmd: &'static CommandSpec,
    args: &[Bytes],
) -> Option<CmdError> {
    if ctx.srv.config.maxmemory == 0 {
        return None;
    }
    let Some(run) = ctx.srv.busy.running.as_ref() else {
        let declared = declared_script_flags(ctx.srv, cmd, args);
        ctx.srv.evict.script = ScriptRun {
            allow_oom: declared.is_some_and(|f| f.allow_oom),
            wrote: false,
        };
        return None;
    };
    if run.caller != ctx.client.conn {
        // Another client served while the script runs long (busy mode).
        return None;
    }
    let run = ctx.srv.evict.script;
    let refused = ctx.srv.config.maxmemory != 0
        && !run.allow_oom
        && !run.wrote
        && ctx.srv.evict.pre_command_oom
        && cmd.has_flag(Flag::Denyoom);
    if refused {
        return Some(CmdError::Static(error::OOM));
    }
    if cmd.has_flag(Flag::Write) {
        ctx.srv.evict.script.wrote = true;
    }
    None
}

/// Whether the host reports more memory in use than `maxmemory` allows.
fn over_limit(srv: &Server) -> bool {
    let limit = srv.config.maxmemory;
    limit != 0 && srv.used_memory() as u64 > limit
}

/// Keys one run may evict: Redis's time limit for `maxmemory-eviction-tenacity`
/// (evictionTimeLimitUs) read as one key per microsecond, checked every 16 keys
/// as Redis checks its clock; None at 100 (no limit).
fn key_budget(tenacity: u32) -> Option<u64> {
    let micros = match tenacity {
        0..=10 => 50 * u64::from(tenacity),
        11..=99 => (500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64,
        _ => return None,
    };
    Some(micros.div_ceil(16).max(1) * 16)
}

/// Evicts keys by the policy until used memory is within `maxmemory` (Redis's
/// performEvictions).
pub fn perform_evictions(ctx: &mut Ctx<'_>) -> Outcome {
    if !over_limit(ctx.srv) {
        return Outcome::Ok;
    }
    if ctx.srv.config.maxmemory_policy == MaxmemoryPolicy::Noeviction {
        return Outcome::Fail;
    }
    let budget = key_budget(ctx.srv.config.maxmemory_eviction_tenacity);
    let mut evicted = 0u64;
    while over_limit(ctx.srv) {
        if budget.is_some_and(|b| evicted >= b) {
            return Outcome::Running;
        }
        let Some((db, key)) = pick_victim(ctx.srv, ctx.now) else {
            return Outcome::Fail;
        };
        evict_key(ctx, db, key);
        evicted += 1;
    }
    Outcome::Ok
}

/// Deletes an evicted key as Redis does: WATCH invalidated, the `evicted` event,
/// the DEL/UNLINK propagated as its own execution unit.
fn evict_key(ctx: &mut Ctx<'_>, db: usize, key: Bytes) {
    let srv = &mut *ctx.srv;
    if srv.dbs[db].remove(&key).is_none() {
        return;
    }
    srv.evict.evicted_keys += 1;
    if !srv.watches.is_empty() {
        srv.watches.touch(db, &key, false);
    }
    ctx.notify_in(db, crate::config::notify::EVICTED, "evicted", &key);
    let srv = &mut *ctx.srv;
    let lazy = srv.config.lazyfree_lazy_eviction;
    srv.propagation
        .also(db, vec![crate::propagate::deletion_command(lazy), key]);
    srv.propagation.flush_unit(&mut srv.effects);
}

/// The next key to evict under the policy, if any key qualifies.
fn pick_victim(srv: &mut Server, now: Millis) -> Option<(usize, Bytes)> {
    match srv.config.maxmemory_policy {
        MaxmemoryPolicy::Noeviction => None,
        MaxmemoryPolicy::AllkeysRandom | MaxmemoryPolicy::VolatileRandom => random_victim(srv),
        _ => pooled_victim(srv, now),
    }
}

/// A random key of the next database that has candidates.
fn random_victim(srv: &mut Server) -> Option<(usize, Bytes)> {
    let volatile = srv.config.maxmemory_policy.is_volatile();
    let count = srv.dbs.len();
    for _ in 0..count {
        srv.evict.next_db = (srv.evict.next_db + 1) % count;
        let j = srv.evict.next_db;
        let db = &srv.dbs[j];
        let rng = &mut srv.evict.rng;
        let pick = |n: u64| rng.next_u64() % n;
        let key = if volatile {
            db.random_volatile_key(pick)
        } else {
            db.random_entry(pick).map(db::Entry::key)
        };
        if let Some(key) = key {
            return Some((j, Bytes::copy_from_slice(key)));
        }
    }
    None
}

/// The best candidate of the pool after sampling every database (Redis's
/// evictionPoolPopulate loop in performEvictions).
fn pooled_victim(srv: &mut Server, now: Millis) -> Option<(usize, Bytes)> {
    let volatile = srv.config.maxmemory_policy.is_volatile();
    for _ in 0..PICK_ROUNDS_MAX {
        let mut total = 0;
        for db in 0..srv.dbs.len() {
            let size = candidates_in(srv, db, volatile);
            if size != 0 {
                populate_pool(srv, db, now);
                total += size;
            }
        }
        if total == 0 {
            return None;
        }
        while let Some(c) = srv.evict.pool.pop() {
            if is_still_candidate(srv, c.db, &c.key, volatile) {
                return Some((c.db, c.key));
            }
        }
    }
    None
}

fn candidates_in(srv: &Server, db: usize, volatile: bool) -> usize {
    if volatile {
        srv.dbs[db].volatile_len()
    } else {
        srv.dbs[db].len()
    }
}

/// A pooled key may have been deleted (or lost its TTL) since it was sampled.
fn is_still_candidate(srv: &Server, db: usize, key: &[u8], volatile: bool) -> bool {
    srv.dbs
        .get(db)
        .and_then(|d| d.peek(key))
        .is_some_and(|e| !volatile || e.expire_at().is_some())
}

/// Samples `maxmemory-samples` keys of database `db` into the pool.
fn populate_pool(srv: &mut Server, db: usize, now: Millis) {
    let policy = srv.config.maxmemory_policy;
    let decay = srv.config.lfu_decay_time;
    let samples = srv.config.maxmemory_samples as usize;
    let start = srv.evict.rng.next_u64() as usize;
    let mut sampled = Vec::with_capacity(samples);
    srv.dbs[db].sample_keys(policy.is_volatile(), start, samples, |e| {
        sampled.push(Candidate {
            score: score(policy, e, now, decay),
            db,
            key: Bytes::copy_from_slice(e.key()),
        });
    });
    for c in sampled {
        pool_insert(&mut srv.evict.pool, c);
    }
}

/// How good a victim a key is under the policy: higher is evicted first.
fn score(policy: MaxmemoryPolicy, e: &db::Entry, now: Millis, decay: u32) -> u64 {
    match policy {
        MaxmemoryPolicy::VolatileTtl => u64::MAX - e.expire_at().unwrap_or(u64::MAX),
        p if p.is_lfu() => 255 - u64::from(db::lfu_counter(e.access, now, decay).min(255)),
        _ => db::idle_ms(e.access, now),
    }
}

/// Inserts a candidate keeping the pool sorted; a full pool drops its worst
/// entry to make room, and ignores a candidate worse than all it holds (as
/// evictionPoolPopulate).
fn pool_insert(pool: &mut Vec<Candidate>, c: Candidate) {
    let k = pool
        .iter()
        .position(|p| p.score >= c.score)
        .unwrap_or(pool.len());
    if pool.len() < POOL_SIZE {
        pool.insert(k, c);
    } else if k > 0 {
        pool.remove(0);
        pool.insert(k - 1, c);
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::command::testkit::TestNode;
    use crate::config::Config;

    const OOM_REPLY: &str = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
    const LIMIT: u64 = 1_000_000;

    thread_local! {
        /// Probe calls left that report memory over the limit.
        static OVER_CALLS: Cell<u64> = const { Cell::new(0) };
    }

    /// The fake memory probe: over the limit while calls are left, then under.
    fn probe() -> usize {
        OVER_CALLS.with(|c| match c.get() {
            0 => 1_000,
            n => {
                c.set(n - 1);
                2_000_000
            }
        })
    }

    /// The next command finds memory over the limit until `keys` keys are evicted
    /// (one probe call before the loop, one per eviction).
    fn over_until_evicted(keys: u64) {
        OVER_CALLS.with(|c| c.set(keys + 1));
    }

    fn always_over() {
        OVER_CALLS.with(|c| c.set(u64::MAX));
    }

    fn under() {
        OVER_CALLS.with(|c| c.set(0));
    }

    /// A node under `policy` with samples covering every key, clients 1 and 2.
    fn node(policy: &str) -> TestNode {
        under();
        let mut t = TestNode::new(Config::default());
        t.node.set_memory_probe(probe);
        t.connect(1);
        t.connect(2);
        for (name, value) in [
            ("maxmemory-policy", policy),
            ("maxmemory-samples", "64"),
            ("maxmemory", &LIMIT.to_string()),
        ] {
            assert_eq!(t.cmd(1, &["CONFIG", "SET", name, value]), "+OK\r\n");
        }
        t
    }

    fn exists(t: &mut TestNode, key: &str) -> bool {
        t.cmd(1, &["EXISTS", key]) == ":1\r\n"
    }

    fn evicted_keys(t: &TestNode) -> u64 {
        t.node.server().evict.evicted_keys
    }

    #[test]
    fn noeviction_refuses_denyoom_commands_with_redis_text_and_runs_the_others() {
        let mut t = node("noeviction");
        t.cmd(1, &["SET", "k", "v"]);
        always_over();
        assert_eq!(t.cmd(1, &["SET", "x", "y"]), OOM_REPLY);
        assert_eq!(t.cmd(1, &["GET", "k"]), "$1\r\nv\r\n");
        assert_eq!(t.cmd(1, &["DEL", "k"]), ":1\r\n");
        assert_eq!(evicted_keys(&t), 0);
        under();
        assert_eq!(t.cmd(1, &["SET", "x", "y"]), "+OK\r\n");
    }

    #[test]
    fn allkeys_lru_evicts_the_idlest_key_first() {
        let mut t = node("allkeys-lru");
        t.cmd(1, &["SET", "old", "1"]);
        t.now += 10_000;
        t.cmd(1, &["SET", "mid", "1"]);
        t.now += 10_000;
        t.cmd(1, &["SET", "new", "1"]);
        t.now += 10_000;
        over_until_evicted(1);
        assert_eq!(t.cmd(1, &["SET", "x", "1"]), "+OK\r\n");
        assert!(!exists(&mut t, "old"));
        assert!(exists(&mut t, "mid") && exists(&mut t, "new"));
        // EXISTS does not touch keys: "mid" is the idlest now. (The pool keeps
        // candidates with the scores they were sampled with, as Redis's does, so
        // the order is only exact while accesses do not reorder pooled keys.)
        over_until_evicted(1);
        t.cmd(1, &["SET", "y", "1"]);
        assert!(!exists(&mut t, "mid"));
        assert!(exists(&mut t, "new") && exists(&mut t, "x"));
        assert_eq!(evicted_keys(&t), 2);
    }

    #[test]
    fn allkeys_lfu_evicts_the_least_used_key() {
        let mut t = node("allkeys-lfu");
        // Factor 0: every access increments the counter, so counts are exact.
        t.cmd(1, &["CONFIG", "SET", "lfu-log-factor", "0"]);
        for key in ["cold", "warm", "hot"] {
            t.cmd(1, &["SET", key, "1"]);
        }
        for _ in 0..5 {
            t.cmd(1, &["GET", "hot"]);
        }
        for _ in 0..2 {
            t.cmd(1, &["GET", "warm"]);
        }
        over_until_evicted(1);
        t.cmd(1, &["SET", "x", "1"]);
        let alive: Vec<bool> = ["cold", "warm", "hot"]
            .iter()
            .map(|k| t.node.server().dbs[0].peek(k.as_bytes()).is_some())
            .collect();
        assert_eq!(alive, [false, true, true]);
    }

    #[test]
    fn volatile_ttl_evicts_the_soonest_deadline_and_never_a_persistent_key() {
        let mut t = node("volatile-ttl");
        t.cmd(1, &["SET", "forever", "1"]);
        t.cmd(1, &["SET", "later", "1", "EX", "200"]);
        t.cmd(1, &["SET", "soon", "1", "EX", "50"]);
        t.cmd(1, &["SET", "mid", "1", "EX", "100"]);
        over_until_evicted(1);
        t.cmd(1, &["GET", "forever"]);
        assert!(!exists(&mut t, "soon"));
        over_until_evicted(2);
        t.cmd(1, &["GET", "forever"]);
        assert!(!exists(&mut t, "mid") && !exists(&mut t, "later"));
        // Only a key without TTL is left: nothing to evict, so OOM.
        always_over();
        assert_eq!(t.cmd(1, &["SET", "x", "1"]), OOM_REPLY);
        under();
        assert!(exists(&mut t, "forever"));
        assert_eq!(evicted_keys(&t), 3);
    }

    #[test]
    fn volatile_lru_and_random_only_take_keys_with_a_ttl() {
        for policy in ["volatile-lru", "volatile-lfu", "volatile-random"] {
            let mut t = node(policy);
            t.cmd(1, &["SET", "persistent", "1"]);
            t.now += 60_000;
            t.cmd(1, &["SET", "vol", "1", "EX", "100"]);
            over_until_evicted(1);
            assert_eq!(t.cmd(1, &["SET", "x", "1"]), "+OK\r\n", "{policy}");
            assert!(!exists(&mut t, "vol"), "{policy}");
            always_over();
            assert_eq!(t.cmd(1, &["SET", "y", "1"]), OOM_REPLY, "{policy}");
            under();
            assert!(
                exists(&mut t, "persistent") && exists(&mut t, "x"),
                "{policy}"
            );
        }
    }

    #[test]
    fn allkeys_random_evicts_until_under_the_limit_across_databases() {
        let mut t = node("allkeys-random");
        for i in 0..5 {
            t.cmd(1, &["SET", &format!("a{i}"), "1"]);
        }
        t.cmd(1, &["SELECT", "3"]);
        for i in 0..5 {
            t.cmd(1, &["SET", &format!("b{i}"), "1"]);
        }
        over_until_evicted(4);
        t.cmd(1, &["PING"]);
        let left: usize = t.node.server().dbs.iter().map(|d| d.len()).sum();
        assert_eq!(left, 6);
        assert_eq!(evicted_keys(&t), 4);
        always_over();
        assert_eq!(t.cmd(1, &["SET", "x", "1"]), OOM_REPLY);
        under();
        assert_eq!(
            t.node.server().dbs.iter().map(|d| d.len()).sum::<usize>(),
            0
        );
    }

    #[test]
    fn an_eviction_fires_the_evicted_event() {
        let mut t = node("allkeys-lru");
        t.cmd(1, &["CONFIG", "SET", "notify-keyspace-events", "Ee"]);
        t.cmd(1, &["SET", "victim", "1"]);
        t.cmd(2, &["SUBSCRIBE", "__keyevent@0__:evicted"]);
        over_until_evicted(1);
        t.cmd(1, &["SET", "x", "1"]);
        assert_eq!(
            t.take_sent(2),
            "*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:evicted\r\n$6\r\nvictim\r\n"
        );
    }

    #[test]
    fn an_eviction_aborts_a_transaction_watching_the_key() {
        let mut t = node("allkeys-random");
        t.cmd(1, &["SET", "watched", "1"]);
        t.cmd(1, &["WATCH", "watched"]);
        t.cmd(1, &["MULTI"]);
        t.cmd(1, &["INCR", "counter"]);
        over_until_evicted(1);
        assert_eq!(t.cmd(2, &["SET", "other", "1"]), "+OK\r\n");
        assert!(t.node.server().dbs[0].peek(b"watched").is_none());
        assert_eq!(t.cmd(1, &["EXEC"]), "*-1\r\n");
    }

    #[test]
    fn an_eviction_propagates_as_its_own_del() {
        let mut t = node("allkeys-lru");
        t.node.set_propagation(true);
        t.cmd(1, &["SET", "victim", "1"]);
        t.node.take_effects();
        over_until_evicted(1);
        t.cmd(1, &["SET", "x", "1"]);
        let effects: Vec<Vec<Bytes>> = t.node.take_effects().into_iter().map(|e| e.argv).collect();
        assert_eq!(
            effects,
            [
                vec![Bytes::from("DEL"), Bytes::from("victim")],
                vec![Bytes::from("SET"), Bytes::from("x"), Bytes::from("1")],
            ]
        );
        t.cmd(1, &["CONFIG", "SET", "lazyfree-lazy-eviction", "yes"]);
        over_until_evicted(1);
        t.cmd(1, &["GET", "x"]);
        let effects = t.node.take_effects();
        assert_eq!(effects[0].argv[0], Bytes::from("UNLINK"));
    }

    #[test]
    fn inside_multi_every_command_but_exec_and_discard_is_refused_when_out_of_memory() {
        let mut t = node("noeviction");
        always_over();
        assert_eq!(t.cmd(1, &["MULTI"]), "+OK\r\n");
        assert_eq!(t.cmd(1, &["GET", "k"]), OOM_REPLY);
        assert_eq!(
            t.cmd(1, &["EXEC"]),
            "-EXECABORT Transaction discarded because of previous errors.\r\n"
        );
        t.cmd(1, &["MULTI"]);
        assert_eq!(t.cmd(1, &["DEL", "k"]), OOM_REPLY);
        assert_eq!(t.cmd(1, &["DISCARD"]), "+OK\r\n");
        // Memory ran out between queueing and EXEC: a queued write aborts it.
        under();
        t.cmd(1, &["MULTI"]);
        assert_eq!(t.cmd(1, &["SET", "k", "v"]), "+QUEUED\r\n");
        always_over();
        assert_eq!(
            t.cmd(1, &["EXEC"]),
            "-EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.\r\n"
        );
        // Reads only: EXEC runs.
        under();
        t.cmd(1, &["MULTI"]);
        t.cmd(1, &["GET", "k"]);
        always_over();
        assert_eq!(t.cmd(1, &["EXEC"]), "*1\r\n$-1\r\n");
    }

    #[test]
    fn scripts_are_refused_by_their_flags_or_at_their_first_write() {
        let mut t = node("noeviction");
        always_over();
        let set = "return redis.call('set','x','1')";
        let sha = crate::script::sha1_hex(set.as_bytes());
        assert_eq!(
            t.cmd(1, &["EVAL", set, "0"]),
            format!(
                "-OOM command not allowed when used memory > 'maxmemory'. script: {sha}, on @user_script:1.\r\n"
            )
        );
        assert_eq!(
            t.cmd(1, &["EVAL", "return redis.pcall('set','x','1')", "0"]),
            OOM_REPLY
        );
        // Non-denyoom writes still run, and after a first write nothing is refused.
        t.cmd(1, &["SET", "k", "v"]);
        assert_eq!(
            t.cmd(
                1,
                &[
                    "EVAL",
                    "redis.call('get','x'); return redis.call('del','x')",
                    "0"
                ]
            ),
            ":0\r\n"
        );
        assert_eq!(t.cmd(1, &["EVAL", "#!lua\nreturn 1", "0"]), OOM_REPLY);
        assert_eq!(
            t.cmd(1, &["EVAL", "#!lua flags=no-writes\nreturn 1", "0"]),
            ":1\r\n"
        );
        assert_eq!(
            t.cmd(
                1,
                &[
                    "EVAL",
                    "#!lua flags=allow-oom\nreturn redis.call('set','x','1')",
                    "0"
                ]
            ),
            "+OK\r\n"
        );
    }

    #[test]
    fn tenacity_bounds_one_run_by_keys() {
        assert_eq!(key_budget(0), Some(16));
        assert_eq!(key_budget(10), Some(512));
        assert_eq!(key_budget(100), None);
        let mut t = node("allkeys-random");
        t.cmd(1, &["CONFIG", "SET", "maxmemory-eviction-tenacity", "0"]);
        for i in 0..40 {
            t.cmd(1, &["SET", &format!("k{i}"), "1"]);
        }
        always_over();
        // 16 keys per command while keys remain; the command still runs.
        assert_eq!(t.cmd(1, &["SET", "x", "1"]), "+OK\r\n");
        assert_eq!(evicted_keys(&t), 16);
        under();
    }

    #[test]
    fn the_pool_keeps_the_best_candidates_in_order() {
        let mut pool = Vec::new();
        for score in (0..20u64).rev() {
            pool_insert(
                &mut pool,
                Candidate {
                    score: score * 10,
                    db: 0,
                    key: Bytes::from(score.to_string()),
                },
            );
        }
        let scores: Vec<u64> = pool.iter().map(|c| c.score).collect();
        assert_eq!(scores, (4..20).map(|s| s * 10).collect::<Vec<_>>());
        pool_insert(
            &mut pool,
            Candidate {
                score: 1,
                db: 0,
                key: Bytes::from("worse"),
            },
        );
        assert_eq!(pool[0].score, 40);
    }
}
