//! RESP: request framing ([`decode`]) and reply encoding ([`encode`]).

pub mod decode;
pub mod encode;

pub use decode::{frame, Framed, Limits, ProtocolError};
pub use encode::{Protocol, ReplyBuf};
