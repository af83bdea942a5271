//! Connection commands: PING, ECHO, QUIT, RESET, AUTH, HELLO, SELECT, CLIENT.

use bytes::Bytes;

use super::{Acl, CommandSpec, Flag, Group};
use crate::error::CmdResult;
use crate::node::Ctx;

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "ping",
    arity: -1,
    flags: &[Flag::Fast],
    acl: &[Acl::Connection],
    tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
    group: Group::Connection,
    summary: "Returns the server's liveliness response.",
    handler: Some(ping),
    ..CommandSpec::DEFAULT
}];

/// PING [message]
fn ping(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    match args.len() {
        1 => ctx.out().status("PONG"),
        2 => ctx.out().bulk(&args[1]),
        _ => return Err(crate::error::wrong_arity("ping")),
    }
    Ok(())
}
