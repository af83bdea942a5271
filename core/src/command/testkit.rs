//! The command tests' harnesses, at two levels:
//!
//! * [`TestNode`]: a whole node driven without sockets: connect clients, send raw
//!   requests or commands, read back what each connection was sent (framing,
//!   dispatch, AUTH, reply modes and flushing included).
//! * [`Harness`]: one command handler at a time against a bare server and client,
//!   so a test can look at the keyspace and counters between commands and set the
//!   clock by hand, with no cron or active expiry running in between.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::client::Client;
use crate::command::{lookup, lookup_sub};
use crate::config::Config;
use crate::db::{Entry, Millis};
use crate::io::{ConnId, Input, Output};
use crate::node::{Clients, Ctx, Node};
use crate::server::{HostInfo, Server};
use crate::value::Value;

/// 2023-11-14T22:13:20Z, a fixed clock for tests.
pub const T0: Millis = 1_700_000_000_000;

/// A command line split on single spaces into arguments (`"SET k v"`). Two spaces
/// in a row make an empty argument.
pub fn argv(line: &str) -> Vec<Bytes> {
    line.split(' ')
        .map(|w| Bytes::copy_from_slice(w.as_bytes()))
        .collect()
}

pub struct TestNode {
    pub node: Node,
    pub now: Millis,
    /// Outputs other than `Send`, in order (Close, Sleep, Stop, Log...).
    pub effects: Vec<Output>,
}

impl TestNode {
    pub fn new(config: Config) -> Self {
        let mut node = Node::new(config, [7; 32], T0);
        node.set_memory_probe(|| 1_048_576);
        node.set_host_info(HostInfo {
            os: "Linux 6.1.0 x86_64".into(),
            process_id: 4242,
            executable: "/usr/bin/ember-server".into(),
            config_file: String::new(),
            total_system_memory: 8 * 1024 * 1024 * 1024,
            mem_allocator: "libc".into(),
        });
        TestNode {
            node,
            now: T0,
            effects: Vec::new(),
        }
    }

    pub fn connect(&mut self, conn: ConnId) {
        self.node.handle(
            self.now,
            Input::Accepted {
                conn,
                peer: format!("127.0.0.1:{}", 50_000 + conn),
                local: "127.0.0.1:6379".into(),
            },
        );
    }

    /// Sends raw bytes on `conn`; returns everything sent back to it.
    pub fn raw(&mut self, conn: ConnId, bytes: &[u8]) -> Vec<u8> {
        self.node.handle(
            self.now,
            Input::Received {
                conn,
                bytes: Bytes::copy_from_slice(bytes),
            },
        );
        let mut reply = Vec::new();
        while let Some(out) = self.node.poll_output() {
            match out {
                Output::Send { conn: to, bytes } if to == conn => reply.extend_from_slice(&bytes),
                other => self.effects.push(other),
            }
        }
        reply
    }

    /// Sends one command as a multibulk request; returns the reply as text.
    pub fn cmd(&mut self, conn: ConnId, args: &[&str]) -> String {
        let mut req = format!("*{}\r\n", args.len());
        for arg in args {
            req.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        String::from_utf8_lossy(&self.raw(conn, req.as_bytes())).into_owned()
    }

    pub fn closed(&self, conn: ConnId) -> bool {
        self.effects.contains(&Output::Close { conn })
    }

    /// What other commands sent to `conn` since it last ran one (Pub/Sub messages),
    /// as text; taken from the recorded outputs.
    pub fn take_sent(&mut self, conn: ConnId) -> String {
        let mut sent = Vec::new();
        self.effects.retain(|out| match out {
            Output::Send { conn: to, bytes } if *to == conn => {
                sent.extend_from_slice(bytes);
                false
            }
            _ => true,
        });
        String::from_utf8_lossy(&sent).into_owned()
    }

    /// The peer closes `conn`.
    pub fn close(&mut self, conn: ConnId) {
        self.node.handle(self.now, Input::Closed { conn });
    }
}

/// Runs command handlers directly against a server and one client (id 1, database
/// 0), as the node would after its checks, and returns the reply bytes as text.
pub struct Harness {
    pub srv: Server,
    pub client: Client,
    others: Clients,
    outputs: VecDeque<Output>,
    /// The clock handlers see; tests move it by hand.
    pub now: Millis,
}

impl Harness {
    pub fn new() -> Self {
        Self::with_config(Config::default())
    }

    pub fn with_config(config: Config) -> Self {
        Harness {
            srv: Server::new(config, [9; 32], T0),
            client: Client::new(1, 1, "127.0.0.1:1".into(), "127.0.0.1:2".into(), T0),
            others: Clients::new(),
            outputs: VecDeque::new(),
            now: T0,
        }
    }

    /// Runs one command given as a line (see [`argv`]); returns its RESP reply.
    pub fn run(&mut self, line: &str) -> String {
        self.run_args(&argv(line))
    }

    /// Runs one command (a subcommand when the first argument names a container);
    /// the command must exist and its arity fit, as dispatch checks before this.
    pub fn run_args(&mut self, args: &[Bytes]) -> String {
        let mut cmd = lookup(&args[0]).expect("known command");
        if !cmd.subcommands.is_empty() {
            cmd = lookup_sub(cmd, &args[1]).expect("known subcommand");
        }
        assert!(cmd.arity_ok(args.len()), "arity of {:?}", args);
        let handler = cmd.handler.expect("handler");
        let mut ctx = Ctx {
            srv: &mut self.srv,
            client: &mut self.client,
            others: &mut self.others,
            outputs: &mut self.outputs,
            now: self.now,
            cmd,
        };
        if let Err(e) = handler(&mut ctx, args) {
            ctx.out().error(e.message());
        }
        String::from_utf8_lossy(&self.client.out.take()).into_owned()
    }

    /// Stores a string key in the selected database, with an optional deadline.
    pub fn set(&mut self, key: &str, value: &str, expire_at: Option<Millis>) {
        let policy = self.srv.access_policy();
        let db = &mut self.srv.dbs[self.client.db];
        db.remove(key.as_bytes());
        let value = Value::from_bytes(value.as_bytes());
        db.insert_new(key.as_bytes(), value, expire_at, self.now, policy);
    }

    /// `OBJECT ENCODING` of a key in database 0, without touching it.
    pub fn encoding(&self, key: &str) -> Option<&'static str> {
        self.srv.dbs[0]
            .peek(key.as_bytes())
            .map(|e| e.value.encoding_name())
    }

    /// The deadline of a key in database 0, without touching it.
    pub fn expire_at(&self, key: &str) -> Option<Millis> {
        self.srv.dbs[0]
            .peek(key.as_bytes())
            .and_then(Entry::expire_at)
    }

    /// (keyspace_hits, keyspace_misses).
    pub fn hits_misses(&self) -> (u64, u64) {
        let s = &self.srv.keyspace_stats;
        (s.keyspace_hits, s.keyspace_misses)
    }
}
