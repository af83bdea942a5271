//! MONITOR: a client that receives every command the server runs, one status line
//! each, formatted as Redis's replicationFeedMonitors does:
//! `+<seconds>.<micros> [<db> <ip:port>] "arg" "arg"`. The monitors live in the
//! Pub/Sub registry, which already delivers output caused by other clients.

use bytes::Bytes;

use super::{CommandSpec, Flag, Group};
use crate::error::CmdResult;
use crate::node::Ctx;

/// What a monitor gets for a command that reads or writes keys (Redis flags
/// monitors as replicas).
pub const REPLICA_KEYSPACE: &str = "ERR Replica can't interact with the keyspace";
/// Where a monitor line says a script's command came from (replicationFeedMonitors
/// writes `lua` for the script client instead of its address).
const SCRIPT_SOURCE: &str = "lua";
const DENY_BLOCKING: &str = "ERR MONITOR isn't allowed for DENY BLOCKING client";

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "monitor",
    arity: 1,
    flags: &[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale],
    group: Group::Server,
    since: "1.0.0",
    summary: "Listen for all requests received by the server in real time",
    handler: Some(monitor),
    ..CommandSpec::DEFAULT
}];

/// MONITOR. A second MONITOR answers nothing, as in Redis; inside EXEC (where a
/// reply per command is expected) it is refused.
fn monitor(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    if ctx.client.in_exec {
        return Err(DENY_BLOCKING.into());
    }
    if ctx.srv.pubsub.add_monitor(ctx.client.conn) {
        ctx.out().ok();
    }
    Ok(())
}

/// Whether Redis refuses `cmd` from a monitor: anything that reads, writes or may
/// replicate.
pub fn touches_keyspace(cmd: &CommandSpec) -> bool {
    cmd.has_flag(Flag::Write) || cmd.has_flag(Flag::Readonly) || cmd.has_flag(Flag::MayReplicate)
}

/// Sends the line for a command that just ran to every monitor (Redis's call():
/// not for admin or skip_monitor commands, nor for re-runs of blocked ones, which
/// do not come through here). A command a script ran shows with the source `lua`
/// and the database the script has selected, as Redis's script client does.
pub fn feed(ctx: &mut Ctx<'_>, cmd: &CommandSpec, args: &[Bytes]) {
    if ctx.srv.pubsub.monitors().is_empty()
        || cmd.has_flag(Flag::Admin)
        || cmd.has_flag(Flag::SkipMonitor)
    {
        return;
    }
    let from_script = runs_script(ctx.cmd) && !std::ptr::eq(ctx.cmd, cmd);
    send_line(ctx, args, from_script);
}

/// Before a script-running command (EVAL, EVALSHA, FCALL and their _RO forms,
/// skip_monitor in the table): its line, so the script's commands follow it.
/// Redis's evalCommand and fcallCommand feed the monitors themselves first, so
/// the line shows even when the script then fails or is not found.
pub fn feed_before_running(ctx: &mut Ctx<'_>, cmd: &CommandSpec, args: &[Bytes]) {
    if !ctx.srv.pubsub.monitors().is_empty() && runs_script(cmd) {
        send_line(ctx, args, false);
    }
}

/// Whether `cmd` runs a script whose `redis.call`s come through `Ctx::call`.
fn runs_script(cmd: &CommandSpec) -> bool {
    matches!(
        cmd.name,
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro"
    )
}

/// Delivers one line for `args` to every monitor.
fn send_line(ctx: &mut Ctx<'_>, args: &[Bytes], from_script: bool) {
    let shown = redacted(args);
    let source = if from_script {
        SCRIPT_SOURCE
    } else {
        &ctx.client.peer
    };
    let line = monitor_line(ctx.now, ctx.client.db, source, &shown);
    for conn in ctx.srv.pubsub.monitors().to_vec() {
        crate::pubsub::deliver_to(
            &mut ctx.srv.pubsub,
            ctx.others,
            Some(&mut *ctx.client),
            conn,
            |out| out.raw(&line),
        );
    }
}

/// The arguments as a monitor sees them: passwords replaced by `(redacted)`, as
/// Redis's redactClientCommandArgument does for AUTH and for HELLO's AUTH option
/// (up to the first option HELLO cannot parse).
fn redacted(args: &[Bytes]) -> std::borrow::Cow<'_, [Bytes]> {
    const REDACTED: Bytes = Bytes::from_static(b"(redacted)");
    let name = args.first().map_or(&b""[..], |a| &a[..]);
    if name.eq_ignore_ascii_case(b"auth") {
        let mut shown = args.to_vec();
        shown[1..].fill(REDACTED);
        return shown.into();
    }
    if !name.eq_ignore_ascii_case(b"hello") {
        return args.into();
    }
    let mut shown = args.to_vec();
    let mut j = 2;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if args[j].eq_ignore_ascii_case(b"AUTH") && more >= 2 {
            shown[j + 1] = REDACTED;
            shown[j + 2] = REDACTED;
            j += 3;
        } else if args[j].eq_ignore_ascii_case(b"SETNAME") && more >= 1 {
            j += 2;
        } else {
            break;
        }
    }
    shown.into()
}

/// `+<seconds>.<micros> [<db> <addr>] "arg" ...\r\n`; the core's clock has
/// millisecond resolution, so the last three digits are zero.
pub fn monitor_line(now_ms: u64, db: usize, addr: &str, args: &[Bytes]) -> Vec<u8> {
    let mut line = format!(
        "+{}.{:06} [{db} {addr}]",
        now_ms / 1000,
        (now_ms % 1000) * 1000
    )
    .into_bytes();
    for arg in args {
        line.push(b' ');
        push_repr(&mut line, arg);
    }
    line.extend_from_slice(b"\r\n");
    line
}

/// Redis's sdscatrepr: a double-quoted string with C escapes, `\xHH` for bytes
/// that are not printable ASCII.
pub(crate) fn push_repr(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for &b in bytes {
        match b {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::testkit::TestNode;
    use crate::config::Config;

    #[test]
    fn arguments_are_quoted_as_sdscatrepr_does() {
        let args = [
            Bytes::from_static(b"set"),
            Bytes::from_static(b"a\x00\"\\\n\r\t\x07\x08\xff b"),
        ];
        let line = monitor_line(1_700_000_000_123, 2, "127.0.0.1:5000", &args);
        assert_eq!(
            line,
            b"+1700000000.123000 [2 127.0.0.1:5000] \"set\" \"a\\x00\\\"\\\\\\n\\r\\t\\a\\b\\xff b\"\r\n"
        );
    }

    #[test]
    fn a_monitor_sees_other_clients_commands_but_not_admin_ones() {
        let mut t = TestNode::new(Config::default());
        t.connect(1);
        t.connect(2);
        assert_eq!(t.cmd(1, &["MONITOR"]), "+OK\r\n");
        assert_eq!(t.cmd(1, &["MONITOR"]), "");
        t.cmd(2, &["SET", "k", "v"]);
        t.cmd(2, &["CONFIG", "GET", "port"]);
        t.cmd(2, &["NOSUCH"]);
        assert_eq!(
            t.take_sent(1),
            "+1700000000.000000 [0 127.0.0.1:50002] \"SET\" \"k\" \"v\"\r\n"
        );
        assert_eq!(
            t.cmd(1, &["GET", "k"]),
            "-ERR Replica can't interact with the keyspace\r\n"
        );
        assert_eq!(t.cmd(1, &["RESET"]), "+RESET\r\n");
        t.cmd(2, &["SET", "k", "v"]);
        assert_eq!(t.take_sent(1), "");
    }

    #[test]
    fn a_scripts_commands_follow_its_eval_line_as_lua_in_the_scripts_database() {
        let mut t = TestNode::new(Config::default());
        t.connect(1);
        t.connect(2);
        t.cmd(1, &["MONITOR"]);
        let script = "redis.call('select','3') return redis.call('nosuch')";
        t.cmd(2, &["EVAL", script, "0"]);
        assert_eq!(
            t.take_sent(1),
            format!(
                "+1700000000.000000 [0 127.0.0.1:50002] \"EVAL\" \"{script}\" \"0\"\r\n\
                 +1700000000.000000 [3 lua] \"select\" \"3\"\r\n"
            )
        );
    }
}
