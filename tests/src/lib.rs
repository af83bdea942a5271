//! End-to-end and differential tests for Ember.
//!
//! The harness starts real servers on free loopback ports and talks raw RESP to them.
//! Differential scripts (`tests/scripts/*.txt`, format in [`script`]) run against a
//! fresh `redis-server`, the oracle, and a fresh `ember-server`; every reply must be
//! equal byte for byte.
//!
//! ```no_run
//! use ember_tests::{RawConn, Server};
//!
//! let server = Server::start_ember(&["--hz", "100"]);
//! let mut conn = RawConn::connect(server.port());
//! conn.send_command(&["SET", "k", "v"]);
//! assert_eq!(conn.read_reply(), b"+OK\r\n");
//! ember_tests::run_script_file("tests/scripts/smoke.txt");
//! ```
//!
//! `EMBER_TEST_BIN=/path/to/server` runs the harness against another binary instead of
//! building `ember-server` (with `/usr/bin/redis-server`, every script must pass).

pub mod abuse;
pub mod conn;
pub mod escape;
pub mod resp;
pub mod runner;
pub mod script;
pub mod server;
pub mod tokenize;

pub use conn::{RawConn, ReadError};
pub use runner::{run_script, run_script_file, Mismatch};
pub use script::Script;
pub use server::{ember_binary, free_port, Memory, Server, ServerKind};
