//! ember-core: a Redis-compatible server as a pure state machine.
//!
//! The core is deterministic and performs no I/O: it never touches sockets, files,
//! threads or clocks. Time arrives as an argument to [`Node::handle`] and randomness
//! from a seed given to [`Node::new`]; everything the node wants done leaves as an
//! [`Output`] drained with [`Node::poll_output`].
//!
//! ```
//! use bytes::Bytes;
//! use ember_core::{Config, Input, Node, Output};
//!
//! let mut node = Node::new(Config::default(), [7; 32], 1_700_000_000_000);
//! let now = 1_700_000_000_000;
//! node.handle(now, Input::Accepted { conn: 1, peer: "127.0.0.1:5000".into(), local: "127.0.0.1:6379".into() });
//! node.handle(now, Input::Received { conn: 1, bytes: Bytes::from_static(b"*1\r\n$4\r\nPING\r\n") });
//! assert_eq!(node.poll_output(), Some(Output::Send { conn: 1, bytes: Bytes::from_static(b"+PONG\r\n") }));
//! ```

pub mod aof;
pub mod blocking;
pub mod busy;
pub mod client;
pub mod command;
pub mod config;
pub mod config_table;
pub mod db;
pub mod dict;
pub mod error;
pub mod evict;
mod expire_cycle;
pub mod hash;
pub mod io;
pub mod listpack;
pub mod node;
pub mod notify;
pub mod persist;
pub mod planted;
pub mod propagate;
pub mod pubsub;
pub mod rdb;
pub mod resp;
pub mod script;
pub mod server;
pub mod types;
pub mod util;
pub mod value;

// The Lua library mlua runs on: lua-src's Lua 5.1.5 with Ember's security
// patches (see the `ember-lua` crate). Named here so that it is linked.
use ember_lua as _;

pub use config::Config;
pub use io::{ConnId, DiskData, DiskError, DiskOp, DiskOpId, Input, LogLevel, Output, Signal};
pub use node::Node;
