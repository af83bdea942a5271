//! A node driven in tests without sockets: connect clients, send raw requests or
//! commands, read back what each connection was sent.

use bytes::Bytes;

use crate::config::Config;
use crate::db::Millis;
use crate::io::{ConnId, Input, Output};
use crate::node::Node;
use crate::server::HostInfo;

/// 2023-11-14T22:13:20Z, a fixed clock for tests.
pub const T0: Millis = 1_700_000_000_000;

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
}
