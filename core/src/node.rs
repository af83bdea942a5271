//! The node: one Ember server as a pure state machine. Inputs arrive through
//! [`Node::handle`]; everything the node wants done is drained with
//! [`Node::poll_output`] in the order it was produced; [`Node::poll_timeout`] says when
//! it next needs a [`Input::Tick`].

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;

use crate::blocking::{BlockOn, Blocked};
use crate::client::{Client, ReplyMode};
use crate::command::{self, transaction, CommandSpec, Flag};
use crate::config::Config;
use crate::db::{Db, Entry, Millis, Touch};
use crate::error::{self, CmdError, CmdResult};
use crate::expire_cycle;
use crate::io::{ConnId, Input, LogLevel, Output, Signal};
use crate::planted::Bug;
use crate::propagate;
use crate::resp::{frame, Limits, ReplyBuf};
use crate::server::{CallOutcome, Server};

/// Connected clients by connection.
pub type Clients = BTreeMap<ConnId, Box<Client>>;

/// How much of an oversized query buffer the log line quotes (Redis quotes 64).
const QUERY_LOG_BYTES_MAX: usize = 64;

/// Error a client gets when `maxclients` is reached, before the connection closes.
pub(crate) const MAX_CLIENTS_REPLY: &[u8] = b"-ERR max number of clients reached\r\n";

pub struct Node {
    srv: Server,
    clients: Clients,
    outputs: VecDeque<Output>,
    /// When serverCron runs next.
    cron_at: Millis,
    /// Clients just served or timed out of a blocking command, whose pending input
    /// runs once the current event is done (Redis's unblocked_clients).
    unblocked: VecDeque<ConnId>,
    /// The time of the last input, for `poll_timeout` to ask for a prompt tick.
    now: Millis,
    /// Events handled so far; the current one's number while it runs.
    events: u64,
}

/// What a command handler sees: the shared server state, its own client, the other
/// clients (CLIENT LIST/KILL), the output queue, and the current time.
pub struct Ctx<'a> {
    pub srv: &'a mut Server,
    pub client: &'a mut Client,
    pub others: &'a mut Clients,
    pub outputs: &'a mut VecDeque<Output>,
    pub now: Millis,
    /// The command being run (its table row).
    pub cmd: &'static CommandSpec,
}

impl Node {
    /// A node with the given configuration. `seed` drives every random choice (hash
    /// keys, run id, RANDOMKEY, expiry sampling); `now` is the node's clock at start.
    pub fn new(config: Config, seed: [u8; 32], now: Millis) -> Self {
        Node {
            srv: Server::new(config, seed, now),
            clients: Clients::new(),
            outputs: VecDeque::new(),
            cron_at: now,
            unblocked: VecDeque::new(),
            now,
            events: 0,
        }
    }

    /// Starts the node's work at process start: reads the AOF when `appendonly` is
    /// on (it wins over the dump, as in Redis), else the dump (`dir`/`dbfilename`);
    /// clients get -LOADING until it is in.
    pub fn start(&mut self, _now: Millis) {
        if self.srv.config.appendonly {
            crate::aof::start_loading(&mut self.srv, &mut self.outputs);
        } else {
            crate::persist::start_loading(&mut self.srv, &mut self.outputs);
            crate::aof::read_manifest(&mut self.srv, &mut self.outputs);
        }
    }

    /// Plants a deliberate fault (see [`crate::planted`]), or removes it with `None`.
    #[cfg(feature = "planted-bugs")]
    pub fn plant(&mut self, bug: Option<Bug>) {
        self.srv.planted.set(bug);
        for db in &mut self.srv.dbs {
            db.planted.set(bug);
        }
    }

    /// Save jobs started and completed so far (SAVE, BGSAVE, save points...): the
    /// simulator's durability checker learns from these when an image was taken and
    /// when it reached the disk.
    pub fn save_counts(&self) -> (u64, u64) {
        self.srv.persist.save_counts()
    }

    /// Whether a save is being written (the simulator counts crashes during one).
    pub fn save_in_progress(&self) -> bool {
        self.srv.persist.save_in_progress()
    }

    /// Events handled so far: the number of the last `handle` call.
    pub fn events_handled(&self) -> u64 {
        self.events
    }

    /// Makes the node record which event produced each reply that the AOF held
    /// back (see [`crate::aof::ReplyOrigin`]); [`Node::take_reply_origins`] hands
    /// them out. The simulator uses it to check replies at their command's clock.
    pub fn track_reply_origins(&mut self) {
        self.srv.aof.track_origins();
    }

    /// The origins of held replies released since the last call, in output order.
    pub fn take_reply_origins(&mut self) -> Vec<crate::aof::ReplyOrigin> {
        self.srv.aof.take_origins()
    }

    /// Whether an AOF rewrite (BGREWRITEAOF or an automatic one) is under way.
    pub fn aof_rewrite_in_progress(&self) -> bool {
        self.srv.aof.rewrite_in_progress()
    }

    /// Lets the host report allocated bytes for INFO's `used_memory`.
    pub fn set_memory_probe(&mut self, probe: fn() -> usize) {
        self.srv.memory_probe = Some(probe);
    }

    /// Lets the host report the process facts INFO shows (pid, os, executable...).
    pub fn set_host_info(&mut self, host: crate::server::HostInfo) {
        self.srv.host = host;
    }

    pub fn config(&self) -> &Config {
        &self.srv.config
    }

    /// Feeds one event at time `now` (the node's wall clock, Unix ms).
    pub fn handle(&mut self, now: Millis, input: Input) {
        self.now = self.now.max(now);
        self.events += 1;
        let mark = self.outputs.len();
        match input {
            Input::Accepted { conn, peer, local } => self.on_accepted(now, conn, peer, local),
            Input::Received { conn, bytes } => self.on_received(now, conn, bytes),
            Input::Closed { conn } => {
                self.clients.remove(&conn);
                self.srv.blocking.remove(conn);
                self.srv.watches.forget(conn);
                self.srv.pubsub.forget(conn);
            }
            Input::Tick => {
                if self.cron_is_due(now) {
                    self.server_cron(now);
                    // Streams the expiry cycle deleted end XREADGROUP waits.
                    signal_gone_streams(&mut self.srv);
                    if self.srv.blocking.has_ready() {
                        self.serve_blocked(now);
                    }
                }
                self.time_out_blocked(now);
                crate::persist::tick(&mut self.srv, &mut self.outputs);
                crate::aof::tick(&mut self.srv, &mut self.outputs, now);
            }
            Input::Signal(signal) => self.on_signal(now, signal),
            Input::OutputBacklog { conn, bytes } => self.on_output_backlog(now, conn, bytes),
            Input::DiskDone { id, result } => self.on_disk_done(now, id, result),
            // Outgoing connections arrive with replication; until then nothing asks
            // for them.
            Input::Connected { .. } | Input::ConnectFailed { .. } => {}
        }
        self.resume_unblocked(now);
        self.flush_pubsub_receivers();
        crate::aof::after_event(&mut self.srv, &mut self.outputs, mark, now, self.events);
        if !self.srv.propagation.enabled {
            self.srv.effects.clear();
        }
        // What the script's caller sent while its script ran long, in order.
        for input in std::mem::take(&mut self.srv.busy.deferred) {
            self.handle(now, input);
        }
    }

    /// Keeps the propagated effects in `Server::effects` for a consumer (the AOF,
    /// replicas, tests) to drain; without one they are dropped after every event.
    pub fn set_propagation(&mut self, enabled: bool) {
        self.srv.propagation.enabled = enabled;
    }

    /// The server state (for tests).
    #[cfg(test)]
    pub(crate) fn server(&self) -> &Server {
        &self.srv
    }

    /// The watched keys (for tests).
    #[cfg(test)]
    pub(crate) fn watches(&self) -> &crate::command::transaction::Watches {
        &self.srv.watches
    }

    /// Takes the effects propagated so far (see [`crate::propagate`]).
    pub fn take_effects(&mut self) -> Vec<crate::propagate::Effect> {
        std::mem::take(&mut self.srv.effects)
    }

    /// The next thing the node wants done, in the order produced.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When the node next needs [`Input::Tick`].
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        if self.srv.persist.wants_prompt_tick() || self.srv.aof.wants_prompt_tick() {
            return Some(self.now);
        }
        match self.srv.blocking.next_deadline() {
            Some(at) => Some(at.min(self.cron_at)),
            None => Some(self.cron_at),
        }
    }

    /// SIGINT/SIGTERM: shut down as SHUTDOWN would, with the final save when save
    /// points are configured.
    fn on_signal(&mut self, now: Millis, signal: Signal) {
        let name = match signal {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        };
        self.log(
            LogLevel::Warning,
            format!("Received {name} scheduling shutdown..."),
        );
        let save = !self.srv.config.save_params.is_empty();
        if let Some(done) =
            crate::persist::shutdown(&mut self.srv, &mut self.outputs, now, save, None, false)
        {
            self.answer_save_waiters(done);
        }
    }

    /// Routes a finished disk request to the subsystem that asked for it, by id.
    /// (The AOF routes its own requests here too.)
    fn on_disk_done(
        &mut self,
        now: Millis,
        id: crate::io::DiskOpId,
        result: Result<crate::io::DiskData, crate::io::DiskError>,
    ) {
        if self.srv.persist.owns(id) {
            let outcome =
                crate::persist::on_disk_done(&mut self.srv, &mut self.outputs, now, id, result);
            if let crate::persist::DiskOutcome::Saved(done) = outcome {
                self.answer_save_waiters(done);
            }
        } else if self.srv.aof.owns(id) {
            let outcome =
                crate::aof::on_disk_done(&mut self.srv, &mut self.outputs, now, id, result);
            if let crate::aof::DiskOutcome::Replay(file) = outcome {
                let replayed = self.replay_aof_file(now, &file);
                crate::aof::file_replayed(&mut self.srv, &mut self.outputs, now, file, replayed);
            }
        }
    }

    /// Loads one AOF file read at start: its RDB preamble, then its commands, run as
    /// Redis's fake AOF client runs them (no checks, no replies, never blocked).
    fn replay_aof_file(
        &mut self,
        now: Millis,
        file: &crate::aof::LoadFile,
    ) -> crate::aof::Replayed {
        let start = match crate::aof::load_preamble(&mut self.srv, &mut self.outputs, file, now) {
            Ok(start) => start,
            Err(failed) => return failed,
        };
        let mut client = Client::new(
            0,
            crate::client::AOF_LOADER_CONN,
            String::new(),
            String::new(),
            now,
        );
        client.authenticated = true;
        let replayed = crate::aof::replay_commands(&file.name, &file.bytes, start, &mut |args| {
            self.replay_command(now, &mut client, args)
        });
        self.srv.effects.clear();
        replayed
    }

    fn replay_command(
        &mut self,
        now: Millis,
        client: &mut Client,
        args: Vec<Bytes>,
    ) -> Result<(), crate::aof::Rejected> {
        let name = || String::from_utf8_lossy(&args[0]).into_owned();
        let cmd = match resolve(&args) {
            Ok(cmd) => cmd,
            Err((None, _)) => return Err(crate::aof::Rejected::UnknownCommand(name())),
            Err((Some(_), _)) => return Err(crate::aof::Rejected::WrongArity(name())),
        };
        if client.multi.is_some() && !transaction::runs_inside_multi(cmd) {
            let _ = queue(&mut self.srv, client, cmd, args);
        } else {
            let _ = self.ctx(now, client, cmd).run_propagating(cmd, &args);
            self.srv.propagation.flush_unit(&mut self.srv.effects);
        }
        client.out.take();
        if client.blocked {
            self.srv.blocking.remove(client.conn);
            client.blocked = false;
        }
        Ok(())
    }

    /// Tells everyone who waited for a save how it ended: SAVE-like clients get
    /// their reply and resume; a pending shutdown stops the process (or, when the
    /// save failed and it is not forced, reports the failure and carries on).
    pub(crate) fn answer_save_waiters(&mut self, done: crate::persist::SaveDone) {
        use crate::persist::Waiter;
        for waiter in done.waiters {
            match waiter {
                Waiter::Reply(conn) => {
                    let reply: Result<(), &str> = if done.ok {
                        Ok(())
                    } else {
                        Err(crate::persist::SAVE_FAILED)
                    };
                    self.resume_waiting_client(conn, reply);
                }
                Waiter::Reload(conn) => {
                    let reply = if done.ok {
                        Ok(())
                    } else {
                        Err(crate::persist::RELOAD_FAILED)
                    };
                    self.resume_waiting_client(conn, reply);
                }
                Waiter::Shutdown { conn, force } if done.ok || force => {
                    let _ = conn;
                    self.log(
                        LogLevel::Warning,
                        "Redis is now ready to exit, bye bye...".into(),
                    );
                    self.outputs.push_back(Output::Stop { code: 0 });
                }
                Waiter::Shutdown {
                    conn: Some(conn), ..
                } => {
                    self.log(
                        LogLevel::Warning,
                        "Error trying to save the DB, can't exit.".into(),
                    );
                    self.log(LogLevel::Warning, "Errors trying to shut down the server. Check the logs for more information.".into());
                    self.resume_waiting_client(conn, Err(crate::persist::SHUTDOWN_FAILED));
                }
                Waiter::Shutdown { conn: None, .. } => {
                    self.log(
                        LogLevel::Warning,
                        "Error trying to save the DB, can't exit.".into(),
                    );
                    self.log(LogLevel::Warning, "SIGTERM received but errors trying to shut down the server, check the logs for more information".into());
                }
            }
        }
    }

    /// Replies to a client that waited for a save and lets its input run again.
    fn resume_waiting_client(&mut self, conn: ConnId, reply: Result<(), &str>) {
        let Some(mut client) = self.clients.remove(&conn) else {
            return;
        };
        client.blocked = false;
        if client.reply_mode != ReplyMode::Off {
            match reply {
                Ok(()) => client.out.ok(),
                Err(message) => {
                    self.srv.stats.total_error_replies += 1;
                    self.srv.stats.count_error(message.as_bytes());
                    client.out.error(message);
                }
            }
        }
        self.flush(client);
        self.unblocked.push_back(conn);
    }

    fn on_accepted(&mut self, now: Millis, conn: ConnId, peer: String, local: String) {
        self.srv.stats.total_connections_received += 1;
        if self.clients.len() >= self.srv.config.maxclients as usize {
            self.srv.stats.rejected_connections += 1;
            self.outputs.push_back(Output::Send {
                conn,
                bytes: Bytes::from_static(MAX_CLIENTS_REPLY),
            });
            self.outputs.push_back(Output::Close { conn });
            return;
        }
        let id = self.srv.next_client_id();
        let mut client = Client::new(id, conn, peer, local, now);
        client.authenticated = self.srv.config.requirepass.is_none();
        self.clients.insert(conn, Box::new(client));
    }

    fn on_received(&mut self, now: Millis, conn: ConnId, bytes: Bytes) {
        // The client leaves the table while its batch runs, so handlers can hold it
        // and the other clients at once.
        let Some(mut client) = self.clients.remove(&conn) else {
            return;
        };
        if !client.close_after_reply {
            count_input(&mut self.srv, &mut client, bytes.len(), now);
            let query_bytes = client.pending.len() as u64 + bytes.len() as u64;
            if query_bytes > self.srv.config.client_query_buffer_limit {
                client.pending.extend_from_slice(&bytes);
                self.close_for_query_buffer_limit(&mut client, now);
            } else if client.blocked {
                // Redis keeps reading a blocked client's input but runs none of it.
                client.pending.extend_from_slice(&bytes);
            } else if client.pending.is_empty() {
                self.run_from_bytes(now, &mut client, bytes);
            } else {
                client.pending.extend_from_slice(&bytes);
                self.run_pending(now, &mut client);
            }
        }
        self.flush(client);
    }

    /// Runs every whole request in `bytes` without copying; keeps the partial tail.
    fn run_from_bytes(&mut self, now: Millis, client: &mut Client, mut bytes: Bytes) {
        while !bytes.is_empty() && !client.close_after_reply {
            match frame(&bytes, self.limits(client)) {
                Ok(Some(framed)) => {
                    let consumed = framed.consumed();
                    let args = framed.into_args(&bytes);
                    bytes = bytes.slice(consumed..);
                    self.execute(now, client, args);
                    if client.blocked {
                        client.pending.extend_from_slice(&bytes);
                        return;
                    }
                }
                Ok(None) => {
                    client.pending.extend_from_slice(&bytes);
                    return;
                }
                Err(e) => return self.protocol_error(client, e),
            }
        }
    }

    /// Runs the whole requests now complete in the client's pending buffer. Only a
    /// request that is complete is split off, so a large argument arriving in many
    /// reads is never copied more than once.
    fn run_pending(&mut self, now: Millis, client: &mut Client) {
        while !client.pending.is_empty() && !client.close_after_reply && !client.blocked {
            match frame(&client.pending, self.limits(client)) {
                Ok(Some(framed)) => {
                    let chunk = client.pending.split_to(framed.consumed()).freeze();
                    let args = framed.into_args(&chunk);
                    self.execute(now, client, args);
                }
                Ok(None) => return,
                Err(e) => return self.protocol_error(client, e),
            }
        }
    }

    fn limits(&self, client: &Client) -> Limits {
        Limits {
            bulk_bytes_max: self.srv.config.proto_max_bulk_len,
            unauthenticated: !client.authenticated,
        }
    }

    fn protocol_error(&mut self, client: &mut Client, e: crate::resp::ProtocolError) {
        protocol_error(&mut self.srv, &mut self.outputs, client, e);
    }

    /// A client whose unparsed input (what it had plus what just arrived) passes
    /// `client-query-buffer-limit` is disconnected before any of it runs, its
    /// output dropped, as Redis's readQueryFromClient frees it.
    fn close_for_query_buffer_limit(&mut self, client: &mut Client, now: Millis) {
        let info = command::client::client_info_string(client, now, &self.srv);
        let mut initial = Vec::new();
        let head = &client.pending[..client.pending.len().min(QUERY_LOG_BYTES_MAX)];
        command::monitor::push_repr(&mut initial, head);
        self.log(
            LogLevel::Warning,
            format!(
                "Closing client that reached max query buffer length: {info} (qbuf initial bytes: {})",
                String::from_utf8_lossy(&initial)
            ),
        );
        close_asap(client);
    }

    /// Hands the client's pending reply to the runtime as one write, then either
    /// closes the connection or puts the client back.
    fn flush(&mut self, mut client: Box<Client>) {
        if client.out.len() as u64 + client.obuf_backlog > crate::client::REPLY_CHUNK_BYTES {
            self.check_output_limit(&mut client, self.now);
        }
        flush_client(&mut self.srv, &mut self.clients, &mut self.outputs, client);
    }

    /// Looks the command up, checks arity and authentication, and runs it.
    fn execute(&mut self, now: Millis, client: &mut Client, args: Vec<Bytes>) {
        if args.is_empty() {
            return;
        }
        let reply_start = client.out.len();
        let result = self.dispatch(now, client, args);
        if let Err(e) = result {
            self.srv.stats.total_error_replies += 1;
            self.srv.stats.count_error(e.message());
            client.out.error(e.message());
        }
        apply_reply_mode(client, reply_start);
        if client.out.len() as u64 + client.obuf_backlog > crate::client::REPLY_CHUNK_BYTES {
            self.check_output_limit(client, now);
        }
        self.flush_woken();
        if self.srv.blocking.has_ready() {
            self.serve_blocked(now);
            crate::pubsub::deliver_stashed(&mut self.srv.pubsub, client);
        }
    }

    /// Resolves and checks a request, then runs it, or queues it inside MULTI. A
    /// request refused inside MULTI makes the transaction abort at EXEC.
    fn dispatch(&mut self, now: Millis, client: &mut Client, args: Vec<Bytes>) -> CmdResult {
        let cmd = match resolve(&args) {
            Ok(cmd) => cmd,
            Err(rejected) => return self.refuse(now, client, rejected),
        };
        if let Some(e) = refusal_before_oom(&self.srv, client, cmd) {
            return self.refuse(now, client, (Some(cmd), e));
        }
        if let Some(e) = crate::evict::oom_refusal(&mut self.ctx(now, client, cmd), cmd, &args) {
            return self.refuse(now, client, (Some(cmd), e));
        }
        if let Some(e) = refusal_after_oom(&self.srv, client, cmd) {
            return self.refuse(now, client, (Some(cmd), e));
        }
        client.last_cmd = cmd.name;
        client.last_spec = Some(cmd);
        if client.multi.is_some() && !transaction::runs_inside_multi(cmd) {
            return queue(&mut self.srv, client, cmd, args);
        }
        let result = self.ctx(now, client, cmd).call(cmd, &args);
        self.srv.propagation.flush_unit(&mut self.srv.effects);
        result
    }

    fn refuse(&mut self, now: Millis, client: &mut Client, rejected: Rejected) -> CmdResult {
        refuse(
            &mut self.srv,
            &mut self.clients,
            &mut self.outputs,
            now,
            client,
            rejected,
        )
    }

    fn ctx<'a>(
        &'a mut self,
        now: Millis,
        client: &'a mut Client,
        cmd: &'static CommandSpec,
    ) -> Ctx<'a> {
        Ctx {
            srv: &mut self.srv,
            client,
            others: &mut self.clients,
            outputs: &mut self.outputs,
            now,
            cmd,
        }
    }

    /// The runtime reported `conn`'s unwritten output: it is counted against the
    /// client's output buffer limit at once (and by cron while over a soft limit).
    fn on_output_backlog(&mut self, now: Millis, conn: ConnId, bytes: u64) {
        let Some(mut client) = self.clients.remove(&conn) else {
            return;
        };
        // Below the threshold the runtime stops reporting: the figure would go
        // stale, so it counts as nothing.
        client.obuf_backlog = if bytes >= crate::io::OUTPUT_BACKLOG_REPORT_BYTES {
            bytes
        } else {
            0
        };
        self.check_output_limit(&mut client, now);
        self.flush(client);
    }

    /// The `client-output-buffer-limit` class that applies to a client: pubsub for
    /// subscribers, normal for everyone else (monitors included, as in Redis).
    fn output_limit_of(&self, client: &Client) -> crate::config::ObufLimit {
        let class = if self.srv.pubsub.is_subscriber(client.conn) {
            crate::config::OBUF_PUBSUB
        } else {
            crate::config::OBUF_NORMAL
        };
        self.srv.config.client_output_buffer_limit[class]
    }

    /// Whether the client must authenticate and has not (Redis's authRequired).
    fn auth_required(&self, client: &Client) -> bool {
        !client.authenticated && self.srv.config.requirepass.is_some()
    }

    /// Whether an output buffer limit applies to `conn`: a host whose socket
    /// cannot take its replies should then keep reading its requests, as Redis
    /// does, so the limit can end the connection; with none, holding its input
    /// back bounds its output instead.
    pub fn output_limited(&self, conn: ConnId) -> bool {
        let Some(client) = self.clients.get(&conn) else {
            return false;
        };
        let limit = self.output_limit_of(client);
        self.auth_required(client) || limit.hard_bytes > 0 || limit.soft_bytes > 0
    }

    /// Redis's closeClientOnOutputBufferLimitReached as output grows: a client over
    /// its limit is marked to be disconnected (its output dropped, nothing more of
    /// its input run) and logged. True if it was.
    fn check_output_limit(&mut self, client: &mut Client, now: Millis) -> bool {
        if client.close_asap {
            return true;
        }
        let limit = self.output_limit_of(client);
        let auth_required = self.auth_required(client);
        if !client.output_limit_reached(limit, auth_required, now) {
            return false;
        }
        let info = command::client::client_info_string(client, now, &self.srv);
        self.log(
            LogLevel::Warning,
            format!(
                "Client {info} scheduled to be closed ASAP for overcoming of output buffer limits."
            ),
        );
        close_asap(client);
        true
    }

    /// serverCron's check of clients over a soft output limit: one that stayed
    /// over it longer than its seconds is disconnected even if it gets no more
    /// output (Redis's clientsCron).
    fn close_clients_over_soft_output_limits(&mut self, now: Millis) {
        let over: Vec<ConnId> = self
            .clients
            .values()
            .filter(|c| c.obuf_soft_since.is_some())
            .map(|c| c.conn)
            .collect();
        for conn in over {
            let Some(mut client) = self.clients.remove(&conn) else {
                continue;
            };
            let limit = self.output_limit_of(&client);
            let auth_required = self.auth_required(&client);
            if client.output_limit_reached(limit, auth_required, now) {
                let info = command::client::client_info_string(&client, now, &self.srv);
                self.log(
                    LogLevel::Warning,
                    format!("Client {info} closed for overcoming of output buffer limits."),
                );
                close_asap(&mut client);
            }
            self.flush(client);
        }
    }

    /// Sends the messages other clients' commands wrote into subscribers' buffers.
    fn flush_pubsub_receivers(&mut self) {
        for conn in self.srv.pubsub.take_touched() {
            if let Some(receiver) = self.clients.remove(&conn) {
                self.flush(receiver);
            }
        }
    }

    /// Sends the replies of clients another command unblocked (CLIENT UNBLOCK).
    fn flush_woken(&mut self) {
        for conn in self.srv.blocking.take_woken() {
            if let Some(woken) = self.clients.remove(&conn) {
                self.flush(woken);
                self.unblocked.push_back(conn);
            }
        }
    }

    /// Serves clients blocked on the keys signalled ready, key by key in signal
    /// order and oldest waiter first, by re-running their commands (Redis's
    /// handleClientsBlockedOnKeys). A served command may make more keys ready
    /// (BLMOVE pushing to its destination); those are served in the same loop.
    /// Waiters with a `gone_error` (XREADGROUP) whose key no longer holds their
    /// type get that error instead (unblockDeletedStreamReadgroupClients).
    fn serve_blocked(&mut self, now: Millis) {
        while let Some((db, key)) = self.srv.blocking.pop_ready() {
            self.srv.blocking.set_serving_key(Some(key.clone()));
            for conn in self.srv.blocking.waiters(db, &key) {
                let Some(b) = self.srv.blocking.get(conn) else {
                    continue;
                };
                let (wait_type, gone_error) = (b.wait_type, b.gone_error);
                let holds = self.srv.dbs[db]
                    .peek(&key)
                    .filter(|_| self.srv.dbs[db].is_live(&key, now))
                    .map(|entry| entry.value.value_type());
                match (holds, gone_error) {
                    (Some(t), _) if t == wait_type => self.rerun_blocked(now, conn),
                    (_, Some(message)) => self.fail_blocked(conn, message),
                    // Nothing left to serve anyone waiting on this key.
                    (None, None) if !self.srv.blocking.has_gone_waiters() => break,
                    _ => {}
                }
            }
        }
        self.srv.blocking.set_serving_key(None);
    }

    /// Ends a blocked client's wait with an error reply (XREADGROUP whose stream
    /// went away); its pending input resumes.
    fn fail_blocked(&mut self, conn: ConnId, message: &str) {
        let Some(mut client) = self.clients.remove(&conn) else {
            return;
        };
        let cmd = self.srv.blocking.remove(conn).map(|b| b.cmd);
        client.blocked = false;
        self.srv.stats.total_error_replies += 1;
        self.srv.stats.count_error(message.as_bytes());
        self.srv
            .stats
            .count_command(cmd, CallOutcome::FailedWhenUnblocked);
        let reply_start = client.out.len();
        client.out.error(message);
        if client.reply_mode == ReplyMode::Off {
            client.out.truncate(reply_start);
        }
        self.flush(client);
        self.unblocked.push_back(conn);
    }

    /// Re-runs a blocked client's command. If it would block again the client keeps
    /// its place; otherwise it is unparked, its reply goes out and its pending input
    /// is queued to resume.
    fn rerun_blocked(&mut self, now: Millis, conn: ConnId) {
        let Some(Blocked { argv, cmd, .. }) = self.srv.blocking.get(conn).cloned() else {
            return;
        };
        // The client running the current batch is never blocked, so a blocked
        // client is always in the table.
        let Some(mut client) = self.clients.remove(&conn) else {
            return;
        };
        let reply_start = client.out.len();
        self.srv.blocking.start_serving(conn);
        let result = self.ctx(now, &mut client, cmd).run_propagating(cmd, &argv);
        self.srv.propagation.flush_unit(&mut self.srv.effects);
        let again = self.srv.blocking.finish_serving();
        if again && result.is_ok() {
            client.out.truncate(reply_start);
            self.clients.insert(conn, client);
            return;
        }
        self.srv.blocking.remove(conn);
        client.blocked = false;
        if let Err(e) = result {
            self.srv.stats.total_error_replies += 1;
            self.srv.stats.count_error(e.message());
            self.srv
                .stats
                .count_command(Some(cmd), CallOutcome::FailedWhenUnblocked);
            client.out.error(e.message());
        }
        if client.reply_mode == ReplyMode::Off {
            client.out.drop_replies_from(reply_start);
        }
        self.flush(client);
        self.unblocked.push_back(conn);
    }

    /// Sends the timeout reply to every blocked client whose deadline has come.
    fn time_out_blocked(&mut self, now: Millis) {
        for conn in self.srv.blocking.expired(now) {
            let Some(blocked) = self.srv.blocking.remove(conn) else {
                continue;
            };
            let Some(mut client) = self.clients.remove(&conn) else {
                continue;
            };
            client.blocked = false;
            if client.reply_mode != ReplyMode::Off {
                (blocked.on_timeout)(&mut client.out);
            }
            self.flush(client);
            self.unblocked.push_back(conn);
        }
    }

    /// Runs the pending input of clients that were just unblocked (Redis's
    /// processUnblockedClients). Each pass consumes input, so this ends.
    fn resume_unblocked(&mut self, now: Millis) {
        while let Some(conn) = self.unblocked.pop_front() {
            let Some(mut client) = self.clients.remove(&conn) else {
                continue;
            };
            if !client.blocked && !client.close_after_reply {
                self.run_pending(now, &mut client);
            }
            self.flush(client);
        }
    }

    /// Milliseconds between serverCron runs (`1000 / hz`).
    fn cron_period(&self) -> Millis {
        1000 / u64::from(self.srv.config.hz.clamp(1, 500))
    }

    /// Whether serverCron should run at `now`: its time has come, or the wall clock
    /// went back by more than one period since it was scheduled. Redis schedules its
    /// timers on the monotonic clock, so a clock set back does not stall its cron;
    /// the core only sees the wall clock, so it reschedules from the new time instead.
    fn cron_is_due(&self, now: Millis) -> bool {
        now >= self.cron_at || self.cron_at > now.saturating_add(self.cron_period())
    }

    /// serverCron: active expiry, table resizing, client timeouts; then schedules
    /// itself again `1000 / hz` ms later.
    fn server_cron(&mut self, now: Millis) {
        let expiry_clock = if self.srv.planted.is(Bug::ActiveExpiryOnStaleClock) {
            self.now
        } else {
            now
        };
        expire_cycle::run(&mut self.srv, expiry_clock);
        // Each key the cycle deleted propagates on its own, never wrapped.
        for db in 0..self.srv.dbs.len() {
            for key in std::mem::take(&mut self.srv.dbs[db].expired_log) {
                note_expired_key(&mut self.srv, db, &key);
                self.srv.propagation.flush_unit(&mut self.srv.effects);
            }
        }
        crate::notify::deliver_queued(&mut self.srv, &mut self.clients, None);
        crate::persist::cron(&mut self.srv, &mut self.outputs, now);
        crate::aof::cron(&mut self.srv, &mut self.outputs, now);
        for db in &mut self.srv.dbs {
            db.shrink_tables();
        }
        self.close_idle_clients(now);
        self.close_clients_over_soft_output_limits(now);
        self.cron_at = now + self.cron_period();
    }

    /// Closes clients idle longer than `timeout` seconds (0 disables it).
    fn close_idle_clients(&mut self, now: Millis) {
        let timeout_ms = self.srv.config.timeout_secs.saturating_mul(1000);
        if timeout_ms == 0 {
            return;
        }
        let idle: Vec<ConnId> = self
            .clients
            .values()
            .filter(|c| !c.blocked && !self.srv.pubsub.keeps_alive(c.conn))
            .filter(|c| now.saturating_sub(c.last_interaction) > timeout_ms)
            .map(|c| c.conn)
            .collect();
        for conn in idle {
            self.clients.remove(&conn);
            self.srv.watches.forget(conn);
            self.outputs.push_back(Output::Close { conn });
        }
    }

    fn log(&mut self, level: LogLevel, line: String) {
        if level >= self.srv.config.loglevel {
            self.outputs.push_back(Output::Log { level, line });
        }
    }
}

/// Finds the table row for a request: the command, or for containers the
/// subcommand; checks arity. Errors are Redis's, in Redis's order.
pub(crate) fn resolve(args: &[Bytes]) -> Result<&'static CommandSpec, Rejected> {
    let Some(cmd) = command::lookup(&args[0]) else {
        return Err((None, error::unknown_command(args)));
    };
    if cmd.subcommands.is_empty() {
        return if cmd.arity_ok(args.len()) {
            Ok(cmd)
        } else {
            Err((Some(cmd), error::wrong_arity(cmd.name)))
        };
    }
    if args.len() < 2 {
        // A container alone is an arity error, unless it has a handler of its own
        // (COMMAND with no arguments lists every command).
        return match cmd.handler {
            Some(_) if cmd.arity_ok(args.len()) => Ok(cmd),
            _ => Err((Some(cmd), error::wrong_arity(cmd.name))),
        };
    }
    let Some(sub) = command::lookup_sub(cmd, &args[1]) else {
        // Redis finds no command at all here, so no counters move.
        return Err((None, error::unknown_subcommand(&args[1], cmd.name)));
    };
    if sub.arity_ok(args.len()) {
        Ok(sub)
    } else {
        let name = format!("{}|{}", cmd.name, sub.name);
        Err((Some(sub), error::wrong_arity(&name)))
    }
}

/// A key deleted by expiry: it propagates as DEL/UNLINK and counts as a write for
/// WATCH (Redis's deleteExpiredKeyAndPropagate).
fn note_expired_key(srv: &mut Server, db: usize, key: &[u8]) {
    let argv = propagate::expired_key_deletion(key, srv.config.lazyfree_lazy_expire);
    srv.propagation.also(db, argv);
    if !srv.watches.is_empty() {
        srv.watches.touch(db, key, false);
    }
    crate::notify::queue(srv, db, crate::config::notify::EXPIRED, "expired", key);
}

/// Takes every key the databases deleted by expiry since the last call.
pub(crate) fn note_expired_keys(srv: &mut Server) {
    for db in 0..srv.dbs.len() {
        if srv.dbs[db].expired_log.is_empty() {
            continue;
        }
        for key in std::mem::take(&mut srv.dbs[db].expired_log) {
            note_expired_key(srv, db, &key);
        }
    }
}

/// Signals the keys that stopped holding a stream since the last call (see
/// `Db::gone_streams`), for blocked XREADGROUP readers. Cheap when none did.
pub(crate) fn signal_gone_streams(srv: &mut Server) {
    let Server { dbs, blocking, .. } = srv;
    for (index, db) in dbs.iter_mut().enumerate() {
        if db.gone_streams.is_empty() {
            continue;
        }
        for key in std::mem::take(&mut db.gone_streams) {
            blocking.signal(index, &key);
        }
    }
}

/// Why a resolved command may not run for this client now (debug denied, NOAUTH,
/// persistence refusals, subscribed context, monitor), in Redis's order. Busy
/// mode uses this; `Node::dispatch` checks memory (`evict`) between the two
/// halves, where Redis's processCommand does.
pub(crate) fn refusal(
    srv: &Server,
    client: &Client,
    cmd: &'static CommandSpec,
) -> Option<CmdError> {
    refusal_before_oom(srv, client, cmd).or_else(|| refusal_after_oom(srv, client, cmd))
}

/// The checks Redis makes before maxmemory's: debug denied, NOAUTH.
fn refusal_before_oom(
    srv: &Server,
    client: &Client,
    cmd: &'static CommandSpec,
) -> Option<CmdError> {
    if command::debug::denied(cmd, &srv.config, &client.peer) {
        return Some(CmdError::Static(command::debug::DEBUG_NOT_ALLOWED));
    }
    if !cmd.has_flag(Flag::NoAuth) && !client.authenticated {
        return Some(CmdError::Static(error::NOAUTH));
    }
    None
}

/// The checks Redis makes after maxmemory's: persistence, subscribed context,
/// monitor.
fn refusal_after_oom(srv: &Server, client: &Client, cmd: &'static CommandSpec) -> Option<CmdError> {
    if let Some(e) = crate::persist::refusal(srv, cmd) {
        return Some(e);
    }
    if command::pubsub::refused_in_subscribed_context(
        srv.pubsub.is_subscriber(client.conn),
        client.out.is_resp3(),
        cmd,
    ) {
        return Some(command::pubsub::subscribed_context_error(cmd));
    }
    if srv.pubsub.is_monitor(client.conn) && command::monitor::touches_keyspace(cmd) {
        return Some(CmdError::Static(command::monitor::REPLICA_KEYSPACE));
    }
    None
}

/// Refuses a request as Redis's rejectCommand does: counted as rejected, the
/// transaction (if any) flagged to abort, a refused EXEC ending it.
pub(crate) fn refuse(
    srv: &mut Server,
    others: &mut Clients,
    outputs: &mut VecDeque<Output>,
    now: Millis,
    client: &mut Client,
    (cmd, e): Rejected,
) -> CmdResult {
    srv.stats.count_command(cmd, CallOutcome::Rejected);
    if let Some(state) = client.multi.as_mut() {
        state.aborted = true;
    }
    match cmd {
        // A refused EXEC ends the transaction, in MULTI or not (execCommandAbort).
        Some(cmd) if cmd.name == "exec" => {
            let mut ctx = Ctx {
                srv,
                client,
                others,
                outputs,
                now,
                cmd,
            };
            transaction::discard_transaction(&mut ctx);
            let message = e.message();
            let reason = message.strip_prefix(b"ERR ").unwrap_or(message);
            let mut abort = b"EXECABORT Transaction discarded because of: ".to_vec();
            abort.extend_from_slice(reason);
            Err(CmdError::Bytes(abort))
        }
        _ => Err(e),
    }
}

/// Queues a command of a client inside MULTI, or refuses it (no-multi commands).
pub(crate) fn queue(
    srv: &mut Server,
    client: &mut Client,
    cmd: &'static CommandSpec,
    args: Vec<Bytes>,
) -> CmdResult {
    let Some(state) = client.multi.as_mut() else {
        return Ok(());
    };
    if cmd.has_flag(Flag::NoMulti) {
        state.aborted = true;
        srv.stats.count_command(Some(cmd), CallOutcome::Rejected);
        return Err(CmdError::Static(transaction::NOT_ALLOWED_IN_MULTI));
    }
    state.commands.push((cmd, args));
    client.out.status("QUEUED");
    Ok(())
}

/// Hands the client's pending reply to the runtime as one write, then either
/// closes the connection or puts the client back in `clients`.
pub(crate) fn flush_client(
    srv: &mut Server,
    clients: &mut Clients,
    outputs: &mut VecDeque<Output>,
    mut client: Box<Client>,
) {
    if client.close_asap {
        // Over its output limit: what it has not read is dropped with it.
        srv.watches.forget(client.conn);
        srv.pubsub.forget(client.conn);
        srv.blocking.remove(client.conn);
        outputs.push_back(Output::Disconnect { conn: client.conn });
        return;
    }
    if !client.out.is_empty() {
        let bytes = client.out.take();
        client.tot_net_out += bytes.len() as u64;
        srv.stats.total_net_output_bytes += bytes.len() as u64;
        srv.stats.total_writes_processed += 1;
        outputs.push_back(Output::Send {
            conn: client.conn,
            bytes,
        });
    }
    if client.close_after_reply {
        srv.watches.forget(client.conn);
        srv.pubsub.forget(client.conn);
        outputs.push_back(Output::Close { conn: client.conn });
    } else {
        clients.insert(client.conn, client);
    }
    if let Some(code) = srv.shutdown_requested.take() {
        outputs.push_back(Output::Stop { code });
    }
}

/// See [`Client::close_asap`].
fn close_asap(client: &mut Client) {
    client.close_asap();
}

/// Redis replies with the protocol error and closes after writing it. Under
/// CLIENT REPLY OFF or SKIP the error is counted but not sent, as Redis's
/// reply gate drops it (Redis then keeps the silent connection open until the
/// client leaves; Ember closes it).
pub(crate) fn protocol_error(
    srv: &mut Server,
    outputs: &mut VecDeque<Output>,
    client: &mut Client,
    e: crate::resp::ProtocolError,
) {
    let message = e.message();
    srv.stats.total_error_replies += 1;
    srv.stats.count_error(message.as_bytes());
    if client.reply_mode == crate::client::ReplyMode::On {
        client.out.error(&message);
    }
    client.close_after_reply = true;
    client.pending.clear();
    if LogLevel::Verbose >= srv.config.loglevel {
        outputs.push_back(Output::Log {
            level: LogLevel::Verbose,
            line: format!(
                "Protocol error from client: id={} addr={}",
                client.id, client.peer
            ),
        });
    }
}

/// A request refused before running: the command it named, if any (INFO
/// commandstats counts it as a rejected call), and the error.
pub(crate) type Rejected = (Option<&'static CommandSpec>, CmdError);

/// CLIENT REPLY OFF/SKIP: drop what the command wrote, but for its pushes.
pub(crate) fn apply_reply_mode(client: &mut Client, reply_start: usize) {
    match client.reply_mode {
        ReplyMode::On => {}
        ReplyMode::Off => client.out.drop_replies_from(reply_start),
        ReplyMode::SkipNext => client.set_reply_mode(ReplyMode::Skipping),
        ReplyMode::Skipping => {
            client.out.drop_replies_from(reply_start);
            client.set_reply_mode(ReplyMode::On);
        }
    }
}

impl Ctx<'_> {
    /// Runs a command as Redis's call() does: counts it, runs its handler, and adds
    /// its effects to the execution unit in progress. EXEC runs its queue this way.
    pub fn call(&mut self, cmd: &'static CommandSpec, args: &[Bytes]) -> CmdResult {
        if let Some(e) = crate::evict::script_call_refusal(self, cmd, args) {
            self.srv
                .stats
                .count_command(Some(cmd), CallOutcome::Rejected);
            return Err(e);
        }
        self.srv.stats.total_commands_processed += 1;
        self.client.tot_cmds += 1;
        command::monitor::feed_before_running(self, cmd, args);
        let result = self.run_propagating(cmd, args);
        command::monitor::feed(self, cmd, args);
        let quiet = std::mem::take(&mut self.srv.stats.failed_quietly);
        let outcome = match result {
            Ok(()) if !quiet => CallOutcome::Succeeded,
            _ => CallOutcome::Failed,
        };
        self.srv.stats.count_command(Some(cmd), outcome);
        result
    }

    /// Runs a command's handler; if it changed the dataset (`dirty` moved) its argv,
    /// or what the handler rewrote it to, joins the unit, after the keys it deleted
    /// by expiry and the effects it added itself.
    pub fn run_propagating(&mut self, cmd: &'static CommandSpec, args: &[Bytes]) -> CmdResult {
        let Some(handler) = cmd.handler else {
            return Err(error::unknown_subcommand(&args[1], cmd.name));
        };
        let outer_cmd = std::mem::replace(&mut self.cmd, cmd);
        let dirty_before = self.srv.dirty;
        let expired_before = self.srv.keyspace_stats.expired_keys;
        let outer = self.srv.propagation.begin_call();
        crate::notify::log_new_keys_if_wanted(self.srv);
        let result = handler(self, args);
        if self.srv.keyspace_stats.expired_keys != expired_before {
            note_expired_keys(self.srv);
        }
        signal_gone_streams(self.srv);
        self.deliver_queued_events();
        let dirty = self.srv.dirty != dirty_before;
        self.srv
            .propagation
            .end_call(outer, dirty, self.client.db, args);
        self.cmd = outer_cmd;
        result
    }

    /// Propagates `argv` instead of the command as sent (Redis's
    /// rewriteClientCommandVector): SETEX as SET ... PXAT, SPOP as SREM...
    pub fn rewrite_argv(&mut self, argv: Vec<Bytes>) {
        self.srv.propagation.call_mut().rewritten = Some(argv);
    }

    /// Propagates the command with argument `i` replaced (Redis's
    /// rewriteClientCommandArgument); `args` is what the handler got.
    pub fn rewrite_arg(&mut self, args: &[Bytes], i: usize, value: Bytes) {
        let call = self.srv.propagation.call_mut();
        let argv = call.rewritten.get_or_insert_with(|| args.to_vec());
        if i < argv.len() {
            argv[i] = value;
        }
    }

    /// Propagates this call's argv even if it changed nothing (FLUSHDB on an empty
    /// database: Redis's forceCommandPropagation).
    pub fn force_propagation(&mut self) {
        self.srv.propagation.call_mut().forced = true;
    }

    /// Propagates nothing of this call's own argv (preventCommandPropagation).
    pub fn prevent_propagation(&mut self) {
        self.srv.propagation.call_mut().prevented = true;
    }

    /// Adds an effect in the selected database, after the keys deleted by expiry so
    /// far (Redis's alsoPropagate).
    pub fn also_propagate(&mut self, argv: Vec<Bytes>) {
        note_expired_keys(self.srv);
        self.srv.propagation.also(self.client.db, argv);
    }

    /// Database `emptied` is about to be flushed, or swapped with `replaced_with`:
    /// clients watching its keys see the change (touchAllWatchedKeysInDb).
    pub fn touch_watched_in_db(&mut self, emptied: usize, replaced_with: Option<usize>) {
        if !self.srv.watches.is_empty() {
            let srv = &mut *self.srv;
            srv.watches
                .touch_all_in_db(&srv.dbs, emptied, replaced_with, self.now);
        }
    }

    /// Publishes `message` on `channel` to its subscribers and matching patterns'
    /// (the running client included); returns how many received it.
    pub fn publish(&mut self, channel: &[u8], message: &[u8]) -> usize {
        crate::pubsub::publish(
            &mut self.srv.pubsub,
            self.others,
            Some(&mut *self.client),
            channel,
            message,
        )
    }

    /// The client's reply buffer.
    #[inline]
    pub fn out(&mut self) -> &mut ReplyBuf {
        &mut self.client.out
    }

    /// The client's selected database.
    #[inline]
    pub fn db(&mut self) -> &mut Db {
        &mut self.srv.dbs[self.client.db]
    }

    /// Looks a key up for reading: expires it if due, refreshes its access data,
    /// counts a keyspace hit or miss (Redis's lookupKeyRead).
    pub fn lookup_read(&mut self, key: &[u8]) -> Option<&Entry> {
        let policy = self.srv.access_policy();
        let draw = self.srv.access_draw();
        let srv = &mut *self.srv;
        let stats = &mut srv.keyspace_stats;
        let db = &mut srv.dbs[self.client.db];
        let found = if srv.planted.is(Bug::LazyExpirySkippedOnRead) {
            db.peek(key)
        } else {
            db.lookup_read(key, self.now, Touch::Yes, policy, stats, draw)
        };
        if found.is_some() {
            srv.keyspace_stats.keyspace_hits += 1;
        } else {
            srv.keyspace_stats.keyspace_misses += 1;
            let db = self.client.db;
            let flags = srv.config.notify_keyspace_events;
            let miss = crate::config::notify::KEY_MISS;
            crate::notify::queue_in(flags, &mut srv.pubsub, db, miss, "keymiss", key);
        }
        found
    }

    /// Looks a key up before modifying it (Redis's lookupKeyWrite): expires it if
    /// due and refreshes its access data, but counts no hit or miss.
    pub fn lookup_write(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.lookup(key, Touch::Yes)
    }

    /// Looks a key up without touching its access data (OBJECT, TTL, TYPE).
    pub fn lookup_peek(&mut self, key: &[u8]) -> Option<&Entry> {
        let policy = self.srv.access_policy();
        let srv = &mut *self.srv;
        let stats = &mut srv.keyspace_stats;
        srv.dbs[self.client.db].lookup_read(key, self.now, Touch::No, policy, stats, 0)
    }

    /// A write lookup that leaves access data alone: for changing a key the
    /// command already looked up, or an encoding change a read makes (SORT).
    pub fn lookup_write_untouched(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.lookup(key, Touch::No)
    }

    /// Lends a value out of the keyspace for a read that needs the whole context at
    /// once (it draws random numbers while replying); [`Ctx::restore_lent`] puts it
    /// back before the command ends. Nothing changes in between, so a snapshot need
    /// not copy it (it only runs between commands).
    pub fn lend_for_read(&mut self, key: &[u8]) -> Option<crate::value::Value> {
        self.srv.dbs[self.client.db].lend_value(key)
    }

    /// Puts back a value taken with [`Ctx::lend_for_read`].
    pub fn restore_lent(&mut self, key: &[u8], value: crate::value::Value) {
        self.srv.dbs[self.client.db].restore_value(key, value);
    }

    fn lookup(&mut self, key: &[u8], touch: Touch) -> Option<&mut Entry> {
        let policy = self.srv.access_policy();
        let draw = self.srv.access_draw();
        let srv = &mut *self.srv;
        srv.dbs[self.client.db].lookup(key, self.now, touch, policy, &mut srv.keyspace_stats, draw)
    }

    /// Records that a key changed: Redis's signalModifiedKey + dirty++. WATCH,
    /// keyspace notifications and client-side caching hang off this point.
    pub fn modified(&mut self, key: &[u8]) {
        self.modified_in(self.client.db, key);
    }

    /// [`Ctx::modified`] for a key of database `db` (COPY ... DB n).
    pub fn modified_in(&mut self, db: usize, key: &[u8]) {
        self.srv.dirty += 1;
        self.touch_watched(db, key);
    }

    /// Tells clients watching `key` in `db` that it changed, without counting a
    /// change (MOVE touches the key in both databases but counts one).
    pub fn touch_watched(&mut self, db: usize, key: &[u8]) {
        if !self.srv.watches.is_empty() {
            let exists = self.srv.dbs[db].peek(key).is_some();
            self.srv.watches.touch(db, key, exists);
        }
    }

    /// Tells blocked clients that `key` (in the selected database) may now serve
    /// them: call after adding elements to a list, sorted set or stream, or creating
    /// such a key. They are served after the current command (Redis's
    /// signalKeyAsReady). Costs one check when nobody is blocked.
    #[inline]
    pub fn signal_key_ready(&mut self, key: &[u8]) {
        self.srv.blocking.signal(self.client.db, key);
    }

    /// Parks the current client until one of `on.keys` holds an `on.wait_type`
    /// value or `on.deadline` passes; the handler then returns `Ok(())` having
    /// written nothing. `argv` is the command re-run to serve it (usually the
    /// handler's own `args`). While the node re-runs a blocked client's command, a
    /// second call just keeps the client blocked where it was.
    ///
    /// Redis never blocks a client running EXEC (or, later, a script:
    /// CLIENT_DENY_BLOCKING): there this writes the `on_timeout` reply instead and
    /// parks nothing. BLMOVE/BRPOPLPUSH reply a null bulk string there rather than
    /// their timeout's null array, so they check `client.in_exec` themselves.
    pub fn block(&mut self, argv: &[Bytes], on: BlockOn<'_>) {
        if self.client.in_exec {
            (on.on_timeout)(&mut self.client.out);
            return;
        }
        // Each key once; the order does not matter, the re-run reads `argv`.
        let mut keys = on.keys.to_vec();
        keys.sort_unstable();
        keys.dedup();
        let blocked = Blocked {
            db: self.client.db,
            keys,
            deadline: on.deadline,
            wait_type: on.wait_type,
            argv: argv.to_vec(),
            cmd: self.cmd,
            on_timeout: on.on_timeout,
            gone_error: on.gone_error,
        };
        if self.srv.blocking.block(self.client.conn, blocked) {
            self.client.blocked = true;
        }
    }

    /// Signals every key some client waits on in database `db`, after FLUSHDB,
    /// FLUSHALL or SWAPDB changed what is under them: keys that now exist may serve
    /// their waiters (Redis's scanDatabaseForReadyKeys), and keys that no longer
    /// hold a stream end XREADGROUP waits (scanDatabaseForDeletedStreams).
    /// Signalling a key that changed neither way is harmless: its waiters are
    /// checked and keep waiting.
    pub fn signal_waited_keys_in_db(&mut self, db: usize) {
        for key in self.srv.blocking.waited_keys(db) {
            self.srv.blocking.signal(db, &key);
        }
    }

    /// Ends another client's wait (CLIENT UNBLOCK): with `error` it gets that error
    /// reply, otherwise the reply its command gives on a timeout. Its reply goes out
    /// and its pending input resumes after the current command. False if `conn` is
    /// not a blocked client.
    pub fn unblock_client(&mut self, conn: ConnId, error: Option<&str>) -> bool {
        let Some(client) = self.others.get_mut(&conn) else {
            return false;
        };
        let Some(blocked) = self.srv.blocking.remove(conn) else {
            return false;
        };
        client.blocked = false;
        // Redis counts every CLIENT UNBLOCK as a failed call of the blocked command.
        self.srv
            .stats
            .count_command(Some(blocked.cmd), CallOutcome::FailedWhenUnblocked);
        if let Some(message) = error {
            // Counted even when the target's replies are off, and, as Redis
            // counts an error written while a command runs, against the CLIENT
            // UNBLOCK that wrote it too.
            self.srv.stats.total_error_replies += 1;
            self.srv.stats.count_error(message.as_bytes());
            self.srv.stats.failed_quietly = true;
        }
        if client.reply_mode != ReplyMode::Off {
            match error {
                Some(message) => client.out.error(message),
                None => (blocked.on_timeout)(&mut client.out),
            }
        }
        self.srv.blocking.push_woken(conn);
        true
    }
}

/// One read from a client, for INFO and CLIENT LIST (Redis's readQueryFromClient).
pub(crate) fn count_input(srv: &mut Server, client: &mut Client, len: usize, now: Millis) {
    client.tot_net_in += len as u64;
    srv.stats.total_net_input_bytes += len as u64;
    srv.stats.total_reads_processed += 1;
    client.last_interaction = now;
}

#[cfg(test)]
mod blocking_tests {
    use super::*;

    const NOW: Millis = 1_700_000_000_000;

    fn node_with_clients(conns: &[ConnId]) -> Node {
        let mut node = Node::new(Config::default(), [1; 32], NOW);
        for &conn in conns {
            let peer = format!("127.0.0.1:{conn}");
            node.handle(
                NOW,
                Input::Accepted {
                    conn,
                    peer,
                    local: "127.0.0.1:6379".into(),
                },
            );
        }
        node
    }

    fn send(node: &mut Node, conn: ConnId, request: &'static [u8]) {
        node.handle(
            NOW,
            Input::Received {
                conn,
                bytes: Bytes::from_static(request),
            },
        );
    }

    fn sent(node: &mut Node) -> Vec<(ConnId, Bytes)> {
        std::iter::from_fn(|| node.poll_output())
            .filter_map(|o| match o {
                Output::Send { conn, bytes } => Some((conn, bytes)),
                _ => None,
            })
            .collect()
    }

    /// Runs `f` as if it were a command of client `conn`.
    fn as_client(node: &mut Node, conn: ConnId, f: impl FnOnce(&mut Ctx<'_>)) {
        let mut client = node.clients.remove(&conn).expect("client");
        let mut ctx = Ctx {
            srv: &mut node.srv,
            client: &mut client,
            others: &mut node.clients,
            outputs: &mut node.outputs,
            now: NOW,
            cmd: &CommandSpec::DEFAULT,
        };
        f(&mut ctx);
        node.clients.insert(conn, client);
        node.flush_woken();
        if node.srv.blocking.has_ready() {
            node.serve_blocked(NOW);
        }
        node.resume_unblocked(NOW);
    }

    #[test]
    fn keys_that_appear_under_waiters_are_signalled_after_a_database_swap() {
        let mut node = node_with_clients(&[1, 2]);
        send(&mut node, 1, b"*3\r\n$5\r\nBRPOP\r\n$1\r\nk\r\n$1\r\n0\r\n");
        let mut list = crate::types::List::new(-2);
        list.push_back(b"moved");
        let policy = node.srv.access_policy();
        let value = crate::value::Value::List(Box::new(list));
        node.srv.dbs[0].insert_new(b"k", value, None, NOW, policy);
        as_client(&mut node, 2, |ctx| ctx.signal_waited_keys_in_db(0));
        let served = Bytes::from_static(b"*2\r\n$1\r\nk\r\n$5\r\nmoved\r\n");
        assert_eq!(sent(&mut node), [(1, served)]);
    }

    #[test]
    fn a_blocked_client_keeps_its_pipelined_input_for_later() {
        let mut node = node_with_clients(&[1, 2]);
        send(
            &mut node,
            1,
            b"*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n",
        );
        assert!(sent(&mut node).is_empty());
        send(&mut node, 1, b"*1\r\n$4\r\nPING\r\n");
        assert!(sent(&mut node).is_empty());
        send(&mut node, 2, b"*3\r\n$5\r\nRPUSH\r\n$1\r\nk\r\n$1\r\nv\r\n");
        let out = sent(&mut node);
        assert_eq!(
            out[0],
            (1, Bytes::from_static(b"*2\r\n$1\r\nk\r\n$1\r\nv\r\n"))
        );
        assert_eq!(out[1], (2, Bytes::from_static(b":1\r\n")));
        assert_eq!(out[2], (1, Bytes::from_static(b"+PONG\r\n+PONG\r\n")));
    }

    #[test]
    fn cron_keeps_running_after_the_clock_is_set_back() {
        let mut node = node_with_clients(&[1]);
        node.handle(NOW, Input::Tick);
        let period = node.cron_at - NOW;
        let back = NOW - 3_600_000;
        assert!(!node.cron_is_due(NOW + period - 1));
        assert!(node.cron_is_due(back), "an hour back must not stall cron");
        node.handle(back, Input::Tick);
        assert_eq!(node.cron_at, back + period);
    }

    #[test]
    fn poll_timeout_includes_the_earliest_blocked_deadline() {
        let mut node = node_with_clients(&[1]);
        node.handle(NOW, Input::Tick);
        let cron = node.poll_timeout().expect("cron");
        send(
            &mut node,
            1,
            b"*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$5\r\n0.002\r\n",
        );
        assert_eq!(node.poll_timeout(), Some(cron.min(NOW + 2)));
        node.handle(NOW + 2, Input::Tick);
        assert_eq!(sent(&mut node), [(1, Bytes::from_static(b"*-1\r\n"))]);
        assert_eq!(node.srv.blocking.blocked_count(), 0);
    }

    #[test]
    fn unblock_client_sends_the_timeout_reply_or_the_error_and_resumes_input() {
        let mut node = node_with_clients(&[1, 2, 3]);
        send(
            &mut node,
            1,
            b"*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n",
        );
        send(
            &mut node,
            2,
            b"*6\r\n$6\r\nBLMOVE\r\n$1\r\nk\r\n$1\r\nd\r\n$4\r\nLEFT\r\n$4\r\nLEFT\r\n$1\r\n0\r\n",
        );
        assert!(sent(&mut node).is_empty());
        as_client(&mut node, 3, |ctx| {
            assert!(ctx.unblock_client(1, None));
            assert!(!ctx.unblock_client(1, None));
            assert!(ctx.unblock_client(2, Some("UNBLOCKED client unblocked via CLIENT UNBLOCK")));
            assert!(!ctx.unblock_client(99, None));
        });
        let out = sent(&mut node);
        assert!(
            out.contains(&(1, Bytes::from_static(b"*-1\r\n"))),
            "{out:?}"
        );
        assert!(
            out.contains(&(1, Bytes::from_static(b"+PONG\r\n"))),
            "{out:?}"
        );
        let error = Bytes::from_static(b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
        assert!(out.contains(&(2, error)), "{out:?}");
        assert_eq!(node.srv.blocking.blocked_count(), 0);
    }

    #[test]
    fn a_deleted_stream_ends_a_blocked_xreadgroup_but_not_a_blocked_xread() {
        let mut node = node_with_clients(&[1, 2, 3]);
        send(
            &mut node,
            3,
            b"*6\r\n$6\r\nXGROUP\r\n$6\r\nCREATE\r\n$1\r\ns\r\n$1\r\ng\r\n$1\r\n$\r\n$8\r\nMKSTREAM\r\n",
        );
        send(
            &mut node,
            1,
            b"*9\r\n$10\r\nXREADGROUP\r\n$5\r\nGROUP\r\n$1\r\ng\r\n$1\r\nc\r\n$5\r\nBLOCK\r\n$1\r\n0\r\n$7\r\nSTREAMS\r\n$1\r\ns\r\n$1\r\n>\r\n*1\r\n$4\r\nPING\r\n",
        );
        send(
            &mut node,
            2,
            b"*6\r\n$5\r\nXREAD\r\n$5\r\nBLOCK\r\n$1\r\n0\r\n$7\r\nSTREAMS\r\n$1\r\ns\r\n$1\r\n$\r\n",
        );
        let _ = sent(&mut node);
        send(&mut node, 3, b"*2\r\n$3\r\nDEL\r\n$1\r\ns\r\n");
        let out = sent(&mut node);
        let error = Bytes::from_static(b"-UNBLOCKED the stream key no longer exists\r\n");
        assert!(out.contains(&(1, error)), "{out:?}");
        assert!(
            out.contains(&(1, Bytes::from_static(b"+PONG\r\n"))),
            "{out:?}"
        );
        assert!(node.srv.blocking.is_blocked(2));
        assert!(!node.srv.blocking.is_blocked(1));
        assert!(!node.srv.blocking.has_gone_waiters());
    }

    #[test]
    fn a_batch_whose_replies_pass_the_normal_hard_limit_stops_and_is_disconnected() {
        let mut config = Config::default();
        config.client_output_buffer_limit[crate::config::OBUF_NORMAL].hard_bytes = 32 * 1024;
        let mut node = Node::new(config, [1; 32], NOW);
        for conn in [1, 2] {
            node.handle(
                NOW,
                Input::Accepted {
                    conn,
                    peer: format!("127.0.0.1:{conn}"),
                    local: "127.0.0.1:6379".into(),
                },
            );
        }
        let mut set = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$20000\r\n".to_vec();
        set.extend_from_slice(&[b'v'; 20_000]);
        set.extend_from_slice(b"\r\n");
        node.handle(
            NOW,
            Input::Received {
                conn: 2,
                bytes: set.into(),
            },
        );
        let _ = sent(&mut node);
        // One 20KB reply fits; with the second the output passes the static
        // buffer by 32KB: nothing is sent and the rest of the batch never runs.
        let get = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
        let mut batch = get.repeat(3);
        batch.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$4\r\ndone\r\n$1\r\n1\r\n");
        node.handle(
            NOW,
            Input::Received {
                conn: 1,
                bytes: batch.into(),
            },
        );
        let outputs: Vec<Output> = std::iter::from_fn(|| node.poll_output()).collect();
        assert!(
            outputs.contains(&Output::Disconnect { conn: 1 }),
            "{outputs:?}"
        );
        assert!(
            !outputs.iter().any(|o| matches!(o, Output::Send { .. })),
            "{outputs:?}"
        );
        assert!(node.srv.dbs[0].peek(b"done").is_none());
        assert!(!node.clients.contains_key(&1));
    }

    #[test]
    fn closing_a_blocked_connection_forgets_its_wait() {
        let mut node = node_with_clients(&[1, 2]);
        send(&mut node, 1, b"*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n5\r\n");
        node.handle(NOW, Input::Closed { conn: 1 });
        assert_eq!(node.srv.blocking.blocked_count(), 0);
        assert!(node.srv.blocking.next_deadline().is_none());
        send(&mut node, 2, b"*3\r\n$5\r\nRPUSH\r\n$1\r\nk\r\n$1\r\nv\r\n");
        assert_eq!(sent(&mut node), [(2, Bytes::from_static(b":1\r\n"))]);
    }
}
