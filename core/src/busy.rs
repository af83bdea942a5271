//! Serving other clients while a script runs long (Redis's scriptInterrupt and
//! processEventsWhileBlocked).
//!
//! The core has no clock and a running script holds `&mut Ctx`, so the script
//! cannot be paused across `Node::handle` calls. Instead the Lua count hook
//! (`script/mod.rs`) calls [`poll`] every [`HOOK_INSTRUCTIONS`] instructions: it
//! asks the host's [`crate::config::BusyPollHook`] for the time and, once the
//! script has run `busy-reply-threshold` ms, exchanges I/O with the host without
//! blocking. The inputs that arrive are served here in "busy" mode: requests are
//! framed as usual, commands flagged `allow-busy` run, others get -BUSY (and
//! flag a transaction, as rejectCommand does). The script's own caller is not
//! read (Redis protects it): the host leaves it alone ([`BusyIo::protected`]),
//! and whatever of it arrives anyway waits in [`BusyState::deferred`] until the
//! script ends. SCRIPT KILL / FUNCTION KILL set [`Running::kill`], which the
//! count hook turns into the error that ends the script.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::client::Client;
use crate::command::{transaction, Flag};
use crate::db::Millis;
use crate::error::{self, CmdError, CmdResult};
use crate::io::{BusyIo, ConnId, Input, LogLevel, Output};
use crate::node::{self, Clients, Ctx};
use crate::resp::{frame, Limits};
use crate::server::Server;

/// Lua instructions between two calls of the count hook (Redis's 100000).
pub const HOOK_INSTRUCTIONS: u32 = 100_000;

/// Exchanges with the host per hook call at most, so a flood of requests cannot
/// starve the script.
const EXCHANGE_ROUNDS_MAX: usize = 8;

/// The script in execution, as SCRIPT KILL and FUNCTION STATS see it (Redis's
/// scriptRunCtx).
#[derive(Debug)]
pub struct Running {
    /// The client that called the script.
    pub caller: ConnId,
    /// EVAL/EVALSHA (true) or FCALL (false): decides which KILL may stop it.
    pub is_eval: bool,
    /// The script's SHA-1 or the function's name.
    pub name: String,
    /// The calling command's arguments (FUNCTION STATS).
    pub command: Vec<Bytes>,
    pub started: Millis,
    /// The host's clock at the last poll.
    pub now: Millis,
    /// The script called a write command (SCRIPT_WRITE_DIRTY): it cannot be killed.
    pub wrote: bool,
    /// SCRIPT KILL / FUNCTION KILL asked for the end of the script.
    pub kill: bool,
    /// The script ran past `busy-reply-threshold`: other clients are served.
    pub timed_out: bool,
    /// The functions engine's counts when the run began (FUNCTION STATS; the
    /// engine is out of the server while a function runs).
    pub libraries: usize,
    pub functions: usize,
}

/// Busy-mode state in the server.
#[derive(Debug, Default)]
pub struct BusyState {
    pub running: Option<Running>,
    /// Inputs for the script's caller, fed again once the script ends.
    pub deferred: Vec<Input>,
    /// The exchange with the host: outputs not yet handed over, inputs received.
    io: BusyIo,
}

impl BusyState {
    /// Whether a script is running past the threshold (only then do commands
    /// see a running script: they cannot be read otherwise).
    pub fn timed_out(&self) -> Option<&Running> {
        self.running.as_ref().filter(|r| r.timed_out)
    }
}

/// The -BUSY error for the running script's kind.
pub fn busy_error(is_eval: bool) -> &'static str {
    if is_eval {
        error::BUSY_EVAL
    } else {
        error::BUSY_FUNCTION
    }
}

/// What the script's run records when it begins.
pub struct Start<'a> {
    pub is_eval: bool,
    pub name: &'a str,
    pub command: &'a [Bytes],
    pub libraries: usize,
    pub functions: usize,
}

/// Records the script that starts running (nested runs cannot happen: every
/// scripting command is `noscript`).
pub fn begin(ctx: &mut Ctx<'_>, start: Start<'_>) {
    ctx.srv.busy.running = Some(Running {
        caller: ctx.client.conn,
        is_eval: start.is_eval,
        name: start.name.to_string(),
        command: start.command.to_vec(),
        started: ctx.now,
        now: ctx.now,
        wrote: false,
        kill: false,
        timed_out: false,
        libraries: start.libraries,
        functions: start.functions,
    });
}

/// The script ended: replies not yet handed to the host join the node's outputs.
pub fn end(ctx: &mut Ctx<'_>) {
    ctx.srv.busy.running = None;
    let leftover = std::mem::take(&mut ctx.srv.busy.io.outputs);
    ctx.outputs.extend(leftover);
}

/// Notes that the running script called a write command.
pub fn note_write(srv: &mut Server) {
    if let Some(run) = srv.busy.running.as_mut() {
        run.wrote = true;
    }
}

/// The host's clock, read in the middle of an event (the core's `now` is the
/// time the event began): the busy-poll hook asked for the time alone.
#[derive(Clone, Copy)]
pub struct HostClock(crate::config::BusyPollHook);

impl HostClock {
    pub fn now(&self) -> Millis {
        (self.0)(&mut BusyIo::default())
    }
}

/// The host's clock, when the host offers one (the simulator does not).
pub fn host_clock(srv: &Server) -> Option<HostClock> {
    srv.config.hooks.busy_poll.map(HostClock)
}

/// The count hook's work: looks at the host's clock and, past the threshold,
/// serves other clients. True when the script must be killed.
pub fn poll(ctx: &mut Ctx<'_>) -> bool {
    let Some(hook) = ctx.srv.config.hooks.busy_poll else {
        return false;
    };
    if ctx.srv.busy.running.as_ref().is_some_and(|r| r.kill) {
        return true;
    }
    let mut io = std::mem::take(&mut ctx.srv.busy.io);
    io.exchange = false;
    io.protected = Some(ctx.client.conn);
    let now = hook(&mut io);
    if !enter_busy_mode(ctx.srv, now, &mut io.outputs) {
        ctx.srv.busy.io = io;
        return false;
    }
    for _ in 0..EXCHANGE_ROUNDS_MAX {
        io.exchange = true;
        let now = hook(&mut io);
        if io.inputs.is_empty() {
            break;
        }
        if let Some(run) = ctx.srv.busy.running.as_mut() {
            run.now = now;
        }
        for input in std::mem::take(&mut io.inputs) {
            serve(ctx, now, input, &mut io.outputs);
        }
    }
    ctx.srv.busy.io = io;
    ctx.srv.busy.running.as_ref().is_some_and(|r| r.kill)
}

/// Past `busy-reply-threshold` the script is timed out (logged once, as Redis
/// does); false while it is still within the threshold.
fn enter_busy_mode(srv: &mut Server, now: Millis, outputs: &mut VecDeque<Output>) -> bool {
    let threshold = u64::try_from(srv.config.busy_reply_threshold).unwrap_or(0);
    let loglevel = srv.config.loglevel;
    let Some(run) = srv.busy.running.as_mut() else {
        return false;
    };
    run.now = now;
    if run.timed_out {
        return true;
    }
    let elapsed = now.saturating_sub(run.started);
    if elapsed < threshold {
        return false;
    }
    run.timed_out = true;
    if LogLevel::Warning >= loglevel {
        let kill = if run.is_eval { "SCRIPT" } else { "FUNCTION" };
        outputs.push_back(Output::Log {
            level: LogLevel::Warning,
            line: format!(
                "Slow script detected: still in execution after {elapsed} milliseconds. \
                 You can try killing the script using the {kill} KILL command. \
                 Script name is: {}.",
                run.name
            ),
        });
    }
    true
}

/// Serves one input that arrived while the script runs.
fn serve(ctx: &mut Ctx<'_>, now: Millis, input: Input, outputs: &mut VecDeque<Output>) {
    let caller = ctx.client.conn;
    match input {
        Input::Accepted { conn, peer, local } => accept(ctx, now, conn, peer, local, outputs),
        Input::Received { conn, bytes } if conn != caller => {
            received(ctx, now, conn, bytes, outputs)
        }
        Input::Closed { conn } if conn != caller => {
            ctx.others.remove(&conn);
            ctx.srv.blocking.remove(conn);
            ctx.srv.watches.forget(conn);
            ctx.srv.pubsub.forget(conn);
        }
        // The caller's input (a host that reads it despite `BusyIo::protected`).
        other => ctx.srv.busy.deferred.push(other),
    }
}

/// A new connection (Node::on_accepted; the caller is out of the table, so it
/// counts for one).
fn accept(
    ctx: &mut Ctx<'_>,
    now: Millis,
    conn: ConnId,
    peer: String,
    local: String,
    outputs: &mut VecDeque<Output>,
) {
    let srv = &mut *ctx.srv;
    srv.stats.total_connections_received += 1;
    if ctx.others.len() + 1 >= srv.config.maxclients as usize {
        srv.stats.rejected_connections += 1;
        outputs.push_back(Output::Send {
            conn,
            bytes: Bytes::from_static(node::MAX_CLIENTS_REPLY),
        });
        outputs.push_back(Output::Close { conn });
        return;
    }
    let id = srv.next_client_id();
    let mut client = Client::new(id, conn, peer, local, now);
    client.authenticated = srv.config.requirepass.is_none();
    ctx.others.insert(conn, Box::new(client));
}

/// Bytes from another client: its whole requests run in busy mode unless it is
/// blocked, in which case they wait in its pending input.
fn received(
    ctx: &mut Ctx<'_>,
    now: Millis,
    conn: ConnId,
    bytes: Bytes,
    outputs: &mut VecDeque<Output>,
) {
    let Some(mut client) = ctx.others.remove(&conn) else {
        return;
    };
    if !client.close_after_reply {
        crate::node::count_input(ctx.srv, &mut client, bytes.len(), now);
        client.pending.extend_from_slice(&bytes);
        if !client.blocked {
            run_pending(ctx.srv, ctx.others, outputs, now, &mut client);
        }
        if client.pending.len() as u64 > ctx.srv.config.client_query_buffer_limit {
            client.pending.clear();
            client.close_after_reply = true;
        }
    }
    node::flush_client(ctx.srv, ctx.others, outputs, client);
}

/// Runs the client's whole pending requests in busy mode.
fn run_pending(
    srv: &mut Server,
    others: &mut Clients,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    client: &mut Client,
) {
    while !client.pending.is_empty() && !client.close_after_reply {
        let limits = Limits {
            bulk_bytes_max: srv.config.proto_max_bulk_len,
            unauthenticated: !client.authenticated,
        };
        let framed = match frame(&client.pending, limits) {
            Ok(Some(framed)) => framed,
            Ok(None) => return,
            Err(e) => return node::protocol_error(srv, outputs, client, e),
        };
        let chunk = client.pending.split_to(framed.consumed()).freeze();
        let args = framed.into_args(&chunk);
        if args.is_empty() {
            continue;
        }
        let reply_start = client.out.len();
        if let Err(e) = dispatch(srv, others, outputs, now, client, args) {
            srv.stats.total_error_replies += 1;
            srv.stats.count_error(e.message());
            client.out.error(e.message());
        }
        node::apply_reply_mode(client, reply_start);
    }
}

/// Node::dispatch in busy mode: the same checks, then -BUSY for commands that
/// are not `allow-busy` (processCommand's isInsideYieldingLongCommand check,
/// after the others), queueing inside MULTI, else the command runs. The running
/// script's unit of effects is left alone: allow-busy commands write nothing.
/// EXEC is not allow-busy, so a transaction never runs inside the script: it
/// ends in EXECABORT, as rejectCommand's execCommandAbort answers.
fn dispatch(
    srv: &mut Server,
    others: &mut Clients,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    client: &mut Client,
    args: Vec<Bytes>,
) -> CmdResult {
    let cmd = match node::resolve(&args) {
        Ok(cmd) => cmd,
        Err(rejected) => return node::refuse(srv, others, outputs, now, client, rejected),
    };
    let refused = node::refusal(srv, client, cmd).or_else(|| {
        let is_eval = srv.busy.running.as_ref().is_none_or(|r| r.is_eval);
        (!cmd.has_flag(Flag::AllowBusy)).then(|| CmdError::Static(busy_error(is_eval)))
    });
    if let Some(e) = refused {
        return node::refuse(srv, others, outputs, now, client, (Some(cmd), e));
    }
    client.last_cmd = cmd.name;
    client.last_spec = Some(cmd);
    if client.multi.is_some() && !transaction::runs_inside_multi(cmd) {
        return node::queue(srv, client, cmd, args);
    }
    let mut ctx = Ctx {
        srv,
        client,
        others,
        outputs,
        now,
        cmd,
    };
    ctx.call(cmd, &args)
}

/// SCRIPT KILL (`is_eval`) / FUNCTION KILL as Redis's scriptKill answers them.
pub fn kill(srv: &mut Server, is_eval: bool) -> CmdResult {
    let Some(run) = srv.busy.running.as_mut().filter(|r| r.timed_out) else {
        return Err(crate::command::scripting::NOT_BUSY.into());
    };
    if run.wrote {
        return Err(error::UNKILLABLE.into());
    }
    if is_eval != run.is_eval {
        return Err(busy_error(run.is_eval).into());
    }
    run.kill = true;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use bytes::Bytes;

    use crate::command::testkit::{TestNode, T0};
    use crate::config::Config;
    use crate::db::Millis;
    use crate::error;
    use crate::io::{BusyIo, ConnId, Input, Output};

    /// A scripted host: its clock moves 40 ms per call; each exchange hands over
    /// the next batch of inputs and records what the core sent.
    #[derive(Default)]
    struct FakeHost {
        now: Millis,
        batches: VecDeque<Vec<Input>>,
        sent: Vec<Output>,
        /// The connection the core last asked it not to read.
        protected: Option<ConnId>,
    }

    thread_local! {
        static HOST: RefCell<FakeHost> = RefCell::default();
    }

    fn fake_poll(io: &mut BusyIo) -> Millis {
        HOST.with(|host| {
            let mut host = host.borrow_mut();
            host.now += 40;
            if io.exchange {
                host.protected = io.protected;
                host.sent.extend(io.outputs.drain(..));
                io.inputs
                    .extend(host.batches.pop_front().unwrap_or_default());
            }
            host.now
        })
    }

    fn request(conn: ConnId, args: &[&str]) -> Input {
        let mut req = format!("*{}\r\n", args.len());
        for arg in args {
            req.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        Input::Received {
            conn,
            bytes: Bytes::from(req),
        }
    }

    /// A node with busy-reply-threshold 100 and the fake host, clients 1 and 2
    /// connected; `batches` are what arrives at each exchange.
    fn busy_node(batches: Vec<Vec<Input>>) -> TestNode {
        HOST.with(|host| {
            *host.borrow_mut() = FakeHost {
                now: T0,
                batches: batches.into(),
                sent: Vec::new(),
                protected: None,
            }
        });
        let mut config = Config {
            busy_reply_threshold: 100,
            ..Config::default()
        };
        config.hooks.busy_poll = Some(fake_poll);
        let mut t = TestNode::new(config);
        t.connect(1);
        t.connect(2);
        t
    }

    /// What the fake host sent to `conn`, as text.
    fn sent_to(conn: ConnId) -> String {
        HOST.with(|host| {
            let mut text = Vec::new();
            for out in &host.borrow().sent {
                if let Output::Send { conn: to, bytes } = out {
                    if *to == conn {
                        text.extend_from_slice(bytes);
                    }
                }
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    }

    fn host_stopped() -> bool {
        HOST.with(|host| {
            host.borrow()
                .sent
                .iter()
                .any(|o| matches!(o, Output::Stop { .. }))
        })
    }

    fn err(text: &str) -> String {
        format!("-{text}\r\n")
    }

    const LOOP: &str = "while true do end";

    #[test]
    fn others_get_busy_allow_busy_commands_run_and_script_kill_stops_the_script() {
        let accepted = Input::Accepted {
            conn: 3,
            peer: "127.0.0.1:50003".into(),
            local: "127.0.0.1:6379".into(),
        };
        let mut t = busy_node(vec![
            vec![
                request(2, &["PING"]),
                request(2, &["AUTH", "x"]),
                request(2, &["FUNCTION", "KILL"]),
                request(2, &["FUNCTION", "STATS"]),
                accepted,
                request(3, &["PING"]),
                // The caller's own input (the host was asked not to read it)
                // waits for its script.
                request(1, &["PING"]),
            ],
            vec![request(2, &["SCRIPT", "KILL"])],
        ]);
        let reply = t.cmd(1, &["EVAL", LOOP, "0"]);
        let sha = crate::script::sha1_hex(LOOP.as_bytes());
        assert_eq!(
            reply,
            format!(
                "-{} script: {sha}, on @user_script:1.\r\n+PONG\r\n",
                error::SCRIPT_KILLED
            )
        );
        let busy = err(error::BUSY_EVAL);
        assert_eq!(
            sent_to(2),
            format!(
                "{busy}{}{busy}{busy}+OK\r\n",
                err(error::AUTH_NOT_CONFIGURED)
            )
        );
        assert_eq!(sent_to(3), busy);
        assert_eq!(HOST.with(|host| host.borrow().protected), Some(1));
        // Clients accepted meanwhile work normally afterwards.
        assert_eq!(t.cmd(3, &["SET", "k", "v"]), "+OK\r\n");
        assert_eq!(t.cmd(2, &["GET", "k"]), "$1\r\nv\r\n");
        assert_eq!(
            t.cmd(2, &["SCRIPT", "KILL"]),
            err(crate::command::scripting::NOT_BUSY)
        );
    }

    #[test]
    fn a_loop_inside_a_coroutine_gets_busy_and_is_killed() {
        // Through coroutine.wrap the kill ends the script; through coroutine.resume
        // it ends the coroutine, which reports false, as in Redis.
        for (script, reply) in [
            ("coroutine.wrap(function() while true do end end)()", None),
            (
                "local co = coroutine.create(function() coroutine.yield(1) while true do end end) \
                 coroutine.resume(co) local ok = coroutine.resume(co) return ok",
                Some("$-1\r\n"),
            ),
        ] {
            let mut t = busy_node(vec![
                vec![request(2, &["PING"])],
                vec![request(2, &["SCRIPT", "KILL"])],
            ]);
            let got = t.cmd(1, &["EVAL", script, "0"]);
            match reply {
                Some(reply) => assert_eq!(got, reply, "{script}"),
                None => assert!(
                    got.starts_with(&err(error::SCRIPT_KILLED)[..40]),
                    "{script}: {got}"
                ),
            }
            assert_eq!(sent_to(2), format!("{}+OK\r\n", err(error::BUSY_EVAL)));
        }
    }

    #[test]
    fn coroutines_still_yield_resume_and_report_errors() {
        let mut t = busy_node(vec![]);
        let script = "local co = coroutine.create(function(a) local b = coroutine.yield(a + 1) error('boom') end) \
             local ok1, v1 = coroutine.resume(co, 1) local ok2, v2 = coroutine.resume(co, 5) \
             local ok3, v3 = coroutine.resume(co) \
             local w = coroutine.wrap(function() coroutine.yield('x') end) \
             return {tostring(ok1), v1, tostring(ok2), v2, tostring(ok3), v3, coroutine.status(co), w()}";
        assert_eq!(
            t.cmd(1, &["EVAL", script, "0"]),
            "*8\r\n$4\r\ntrue\r\n:2\r\n$5\r\nfalse\r\n$19\r\nuser_script:1: boom\r\n\
             $5\r\nfalse\r\n$28\r\ncannot resume dead coroutine\r\n$4\r\ndead\r\n$1\r\nx\r\n"
        );
    }

    #[test]
    fn a_kill_cannot_be_caught_by_pcall() {
        let mut t = busy_node(vec![vec![request(2, &["SCRIPT", "KILL"])]]);
        let script = "while true do pcall(function() while true do end end) end";
        let reply = t.cmd(1, &["EVAL", script, "0"]);
        assert!(
            reply.starts_with(&err(error::SCRIPT_KILLED)[..40]),
            "{reply}"
        );
        assert_eq!(sent_to(2), "+OK\r\n");
    }

    #[test]
    fn a_script_that_wrote_is_unkillable_and_only_shutdown_nosave_stops_the_server() {
        let mut t = busy_node(vec![
            vec![request(2, &["SCRIPT", "KILL"])],
            vec![request(2, &["SHUTDOWN"])],
            vec![request(2, &["SHUTDOWN", "NOSAVE"])],
        ]);
        // Bounded, so the test ends: the fake host does not exit on Stop.
        let script = "redis.call('set','x','1') for i = 1, 5000000 do end return 7";
        assert_eq!(t.cmd(1, &["EVAL", script, "0"]), ":7\r\n");
        assert_eq!(
            sent_to(2),
            format!("{}{}", err(error::UNKILLABLE), err(error::BUSY_EVAL))
        );
        assert!(host_stopped());
    }

    #[test]
    fn function_kill_stops_a_function_and_script_kill_does_not() {
        let mut t = busy_node(vec![
            vec![request(2, &["SCRIPT", "KILL"])],
            vec![request(2, &["FUNCTION", "STATS"])],
            vec![request(2, &["FUNCTION", "KILL"])],
        ]);
        let lib =
            "#!lua name=lib\nredis.register_function('loop', function()\n while true do end\nend)";
        assert_eq!(t.cmd(1, &["FUNCTION", "LOAD", lib]), "$3\r\nlib\r\n");
        assert_eq!(
            t.cmd(1, &["FCALL", "loop", "0"]),
            format!(
                "-{} script: loop, on @user_function:3.\r\n",
                error::SCRIPT_KILLED
            )
        );
        let sent = sent_to(2);
        let stats = "*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$4\r\nloop\r\n\
            $7\r\ncommand\r\n*3\r\n$5\r\nFCALL\r\n$4\r\nloop\r\n$1\r\n0\r\n$11\r\nduration_ms\r\n:";
        let (before, after) = sent.split_once(stats).expect(&sent);
        assert_eq!(before, err(error::BUSY_FUNCTION));
        assert!(after.ends_with(
            "\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:1\r\n\
             $15\r\nfunctions_count\r\n:1\r\n+OK\r\n"
        ));
    }

    #[test]
    fn a_transaction_is_flagged_by_busy_and_an_exec_is_aborted() {
        let mut t = busy_node(vec![
            vec![
                request(2, &["MULTI"]),
                request(2, &["GET", "x"]),
                request(2, &["EXEC"]),
                // A transaction begun before the script: EXEC is not allow-busy.
                request(3, &["EXEC"]),
                request(3, &["GET", "k"]),
                // EXEC without MULTI is refused the same way (execCommandAbort).
                request(4, &["EXEC"]),
            ],
            vec![request(2, &["SCRIPT", "KILL"])],
        ]);
        t.connect(3);
        t.connect(4);
        assert_eq!(t.cmd(3, &["MULTI"]), "+OK\r\n");
        assert_eq!(t.cmd(3, &["SET", "k", "v"]), "+QUEUED\r\n");
        t.cmd(1, &["EVAL", LOOP, "0"]);
        let busy = error::BUSY_EVAL;
        let abort = format!("-EXECABORT Transaction discarded because of: {busy}\r\n");
        assert_eq!(sent_to(2), format!("+OK\r\n-{busy}\r\n{abort}+OK\r\n"));
        assert_eq!(sent_to(3), format!("{abort}-{busy}\r\n"));
        assert_eq!(sent_to(4), abort);
        // The discarded transaction wrote nothing and left no MULTI behind.
        assert_eq!(t.cmd(3, &["GET", "k"]), "$-1\r\n");
    }

    #[test]
    fn without_the_hook_a_script_runs_to_its_end() {
        let mut t = TestNode::new(Config::default());
        t.connect(1);
        let script = "for i = 1, 1000000 do end return 1";
        assert_eq!(t.cmd(1, &["EVAL", script, "0"]), ":1\r\n");
        assert_eq!(
            t.cmd(1, &["SCRIPT", "KILL"]),
            err(crate::command::scripting::NOT_BUSY)
        );
    }
}
