//! Connection commands: PING, ECHO, QUIT, RESET, AUTH, HELLO, SELECT. CLIENT lives in
//! `client.rs`.

use bytes::Bytes;

use super::args::{int_or, is};
use super::keys::NOT_INT32;
use super::{Acl, CommandSpec, Flag, Group};
use crate::client::ReplyMode;
use crate::config_table::REDIS_VERSION;
use crate::error::{
    self, CmdError, CmdResult, AUTH_NOT_CONFIGURED, DB_INDEX_OUT_OF_RANGE, NOT_INTEGER, SYNTAX,
    WRONGPASS,
};
use crate::node::Ctx;
use crate::resp::Protocol;

const NOPROTO: &str = "NOPROTO unsupported protocol version";
const PROTOVER_NOT_INTEGER: &str = "ERR Protocol version is not an integer or out of range";
const HELLO_NOAUTH: &str = "NOAUTH HELLO must be called with the client already authenticated, \
    otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and \
    select the RESP protocol version at the same time";
pub(crate) const BAD_CLIENT_NAME: &str =
    "ERR Client names cannot contain spaces, newlines or special characters.";

/// Flags shared by the commands a client may send before authenticating.
const NO_AUTH_FLAGS: &[Flag] = &[
    Flag::Noscript,
    Flag::Loading,
    Flag::Stale,
    Flag::Fast,
    Flag::NoAuth,
    Flag::AllowBusy,
];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "ping",
        arity: -1,
        flags: &[Flag::Fast],
        acl: &[Acl::Connection],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        group: Group::Connection,
        summary: "Returns the server's liveliness response.",
        handler: Some(ping),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "echo",
        arity: 2,
        flags: &[Flag::Loading, Flag::Stale, Flag::Fast],
        acl: &[Acl::Connection],
        group: Group::Connection,
        summary: "Returns the given string.",
        handler: Some(echo),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "quit",
        arity: -1,
        flags: NO_AUTH_FLAGS,
        acl: &[Acl::Connection],
        group: Group::Connection,
        summary: "Closes the connection.",
        handler: Some(quit),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "reset",
        arity: 1,
        flags: NO_AUTH_FLAGS,
        acl: &[Acl::Connection],
        group: Group::Connection,
        since: "6.2.0",
        summary: "Resets the connection to its initial state.",
        handler: Some(reset),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "auth",
        arity: -2,
        flags: NO_AUTH_FLAGS,
        acl: &[Acl::Connection],
        group: Group::Connection,
        summary: "Authenticates the connection.",
        complexity: "O(N) where N is the number of passwords defined for the user",
        history: &[("6.0.0", "Added ACL style (username and password).")],
        handler: Some(auth),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hello",
        arity: -1,
        flags: NO_AUTH_FLAGS,
        acl: &[Acl::Connection],
        group: Group::Connection,
        since: "6.0.0",
        summary: "Picks the protocol version, optionally authenticates and names the connection.",
        history: &[(
            "6.2.0",
            "`protover` made optional; when called without arguments the command reports \
             the current connection's context.",
        )],
        handler: Some(hello),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "select",
        arity: 2,
        flags: &[Flag::Loading, Flag::Stale, Flag::Fast],
        acl: &[Acl::Connection],
        group: Group::Connection,
        summary: "Changes the selected database.",
        handler: Some(select),
        ..CommandSpec::DEFAULT
    },
];

/// PING [message]
fn ping(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    // A RESP2 subscriber can only read arrays, so Redis answers it with one.
    if !ctx.client.out.is_resp3() && ctx.srv.pubsub.is_subscriber(ctx.client.conn) {
        return pubsub_pong(ctx, args);
    }
    match args.len() {
        1 => ctx.out().status("PONG"),
        2 => ctx.out().bulk(&args[1]),
        _ => return Err(error::wrong_arity("ping")),
    }
    Ok(())
}

/// PING from a RESP2 subscriber: `pong` and the message (empty without one).
fn pubsub_pong(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len() > 2 {
        return Err(error::wrong_arity("ping"));
    }
    let out = ctx.out();
    out.array(2);
    out.bulk(b"pong");
    out.bulk(args.get(1).map_or(&b""[..], |m| &m[..]));
    Ok(())
}

/// ECHO message
fn echo(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    ctx.out().bulk(&args[1]);
    Ok(())
}

/// QUIT: replies +OK, then the connection closes.
fn quit(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    ctx.out().ok();
    ctx.client.close_after_reply = true;
    Ok(())
}

/// RESET: back to a fresh connection's state (database 0, no name, RESP2, replies
/// on, authenticated only if the default user needs no password).
fn reset(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    crate::command::transaction::discard_transaction(ctx);
    ctx.srv.pubsub.forget(ctx.client.conn);
    let client = &mut *ctx.client;
    client.db = 0;
    client.name = None;
    client.out.proto = Protocol::Resp2;
    // Redis clears OFF and a pending SKIP, but not the skip already applying to this
    // very command, so RESET right after CLIENT REPLY SKIP goes unanswered.
    if client.reply_mode != ReplyMode::Skipping {
        client.set_reply_mode(ReplyMode::On);
    }
    client.no_evict = false;
    client.authenticated = ctx.srv.config.requirepass.is_none();
    client.out.status("RESET");
    Ok(())
}

/// AUTH [username] password
fn auth(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (user, pass) = match args {
        [_, pass] => {
            if ctx.srv.config.requirepass.is_none() {
                return Err(AUTH_NOT_CONFIGURED.into());
            }
            (&b"default"[..], pass)
        }
        [_, user, pass] => (&user[..], pass),
        _ => return Err(SYNTAX.into()),
    };
    authenticate(ctx, user, pass)?;
    ctx.out().ok();
    Ok(())
}

/// Checks a username and password against the default user (the only user until
/// ACLs land): it takes any password when `requirepass` is unset.
fn authenticate(ctx: &mut Ctx<'_>, user: &[u8], pass: &[u8]) -> CmdResult {
    let accepted = user == b"default"
        && match &ctx.srv.config.requirepass {
            None => true,
            Some(expected) => expected.as_slice() == pass,
        };
    if !accepted {
        return Err(WRONGPASS.into());
    }
    ctx.client.authenticated = true;
    Ok(())
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
fn hello(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let proto = match args.get(1) {
        None => None,
        Some(arg) => match int_or(arg, PROTOVER_NOT_INTEGER)? {
            2 => Some(Protocol::Resp2),
            3 => Some(Protocol::Resp3),
            _ => return Err(NOPROTO.into()),
        },
    };
    let mut credentials = None;
    let mut name = None;
    let mut j = 2;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if is(&args[j], "AUTH") && more >= 2 {
            credentials = Some((&args[j + 1], &args[j + 2]));
            j += 3;
        } else if is(&args[j], "SETNAME") && more >= 1 {
            if !valid_client_name(&args[j + 1]) {
                return Err(BAD_CLIENT_NAME.into());
            }
            name = Some(&args[j + 1]);
            j += 2;
        } else {
            return Err(super::client::quoting_error(
                "ERR Syntax error in HELLO option '",
                &args[j],
                "'",
            ));
        }
    }
    if let Some((user, pass)) = credentials {
        authenticate(ctx, user, pass)?;
    }
    if !ctx.client.authenticated {
        return Err(HELLO_NOAUTH.into());
    }
    if let Some(name) = name {
        set_client_name(ctx, name);
    }
    if let Some(proto) = proto {
        ctx.client.out.proto = proto;
    }
    hello_reply(ctx);
    Ok(())
}

fn hello_reply(ctx: &mut Ctx<'_>) {
    let id = ctx.client.id as i64;
    let out = ctx.out();
    let proto = if out.is_resp3() { 3 } else { 2 };
    out.map(7);
    for (field, value) in [("server", "redis"), ("version", REDIS_VERSION)] {
        out.bulk(field.as_bytes());
        out.bulk(value.as_bytes());
    }
    out.bulk(b"proto");
    out.int(proto);
    out.bulk(b"id");
    out.int(id);
    for (field, value) in [("mode", "standalone"), ("role", "master")] {
        out.bulk(field.as_bytes());
        out.bulk(value.as_bytes());
    }
    out.bulk(b"modules");
    out.array(0);
}

/// Redis accepts names made of printable ASCII without spaces ('!' to '~').
pub(crate) fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

/// Names the client; the empty name removes it.
pub(crate) fn set_client_name(ctx: &mut Ctx<'_>, name: &Bytes) {
    ctx.client.name = (!name.is_empty()).then(|| name.clone());
}

/// SELECT index
fn select(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let index = int_or(&args[1], NOT_INTEGER)?;
    let index = i32::try_from(index).map_err(|_| CmdError::Static(NOT_INT32))?;
    let index = usize::try_from(index).map_err(|_| CmdError::Static(DB_INDEX_OUT_OF_RANGE))?;
    if index >= ctx.srv.dbs.len() {
        return Err(DB_INDEX_OUT_OF_RANGE.into());
    }
    ctx.client.db = index;
    ctx.out().ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::command::testkit::TestNode;
    use crate::config::Config;

    fn with_password() -> TestNode {
        let mut t = TestNode::new(Config {
            requirepass: Some(b"pw".to_vec()),
            ..Config::default()
        });
        t.connect(1);
        t
    }

    #[test]
    fn hello_3_switches_to_resp3_and_reset_switches_back() {
        let mut t = TestNode::new(Config::default());
        t.connect(1);
        let hello = t.cmd(1, &["HELLO", "3"]);
        assert!(
            hello.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"),
            "{hello}"
        );
        assert!(
            hello.contains("$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:3\r\n"),
            "{hello}"
        );
        assert!(hello.ends_with("$7\r\nmodules\r\n*0\r\n"), "{hello}");
        assert_eq!(t.cmd(1, &["GET", "missing"]), "_\r\n");
        assert_eq!(t.cmd(1, &["RESET"]), "+RESET\r\n");
        assert_eq!(t.cmd(1, &["GET", "missing"]), "$-1\r\n");
    }

    #[test]
    fn hello_rejects_bad_versions_and_options() {
        let mut t = TestNode::new(Config::default());
        t.connect(1);
        assert_eq!(
            t.cmd(1, &["HELLO", "4"]),
            "-NOPROTO unsupported protocol version\r\n"
        );
        assert_eq!(
            t.cmd(1, &["HELLO", "x"]),
            "-ERR Protocol version is not an integer or out of range\r\n"
        );
        assert_eq!(
            t.cmd(1, &["HELLO", "2", "AUTH", "default"]),
            "-ERR Syntax error in HELLO option 'AUTH'\r\n"
        );
        assert_eq!(
            t.cmd(1, &["HELLO", "2", "SETNAME", "a b"]),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
        );
    }

    #[test]
    fn auth_checks_requirepass_and_reset_forgets_it() {
        let mut t = with_password();
        assert_eq!(t.cmd(1, &["PING"]), "-NOAUTH Authentication required.\r\n");
        assert_eq!(
            t.cmd(1, &["AUTH", "nope"]),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        assert_eq!(
            t.cmd(1, &["AUTH", "someone", "pw"]),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        assert_eq!(t.cmd(1, &["AUTH", "pw"]), "+OK\r\n");
        assert_eq!(t.cmd(1, &["PING"]), "+PONG\r\n");
        assert_eq!(t.cmd(1, &["RESET"]), "+RESET\r\n");
        assert_eq!(t.cmd(1, &["PING"]), "-NOAUTH Authentication required.\r\n");
        assert_eq!(t.cmd(1, &["AUTH", "default", "pw"]), "+OK\r\n");
        assert_eq!(t.cmd(1, &["PING"]), "+PONG\r\n");
    }

    #[test]
    fn auth_without_a_password_configured_takes_only_the_two_argument_form() {
        let mut t = TestNode::new(Config::default());
        t.connect(1);
        assert!(t
            .cmd(1, &["AUTH", "x"])
            .starts_with("-ERR AUTH <password> called without"));
        assert_eq!(t.cmd(1, &["AUTH", "default", "anything"]), "+OK\r\n");
        assert_eq!(t.cmd(1, &["AUTH", "a", "b", "c"]), "-ERR syntax error\r\n");
    }

    #[test]
    fn hello_auth_authenticates_and_names_in_one_step() {
        let mut t = with_password();
        assert!(t
            .cmd(1, &["HELLO", "3"])
            .starts_with("-NOAUTH HELLO must be called"));
        let hello = t.cmd(1, &["HELLO", "3", "AUTH", "default", "pw", "SETNAME", "me"]);
        assert!(hello.starts_with("%7\r\n"), "{hello}");
        assert_eq!(t.cmd(1, &["CLIENT", "GETNAME"]), "$2\r\nme\r\n");
    }

    #[test]
    fn select_rejects_out_of_range_and_non_int32_indexes() {
        let mut t = TestNode::new(Config::default());
        t.connect(1);
        assert_eq!(t.cmd(1, &["SELECT", "15"]), "+OK\r\n");
        assert_eq!(
            t.cmd(1, &["SELECT", "16"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            t.cmd(1, &["SELECT", "-1"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            t.cmd(1, &["SELECT", "4294967296"]),
            "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
        );
        assert_eq!(
            t.cmd(1, &["SELECT", "1.5"]),
            "-ERR value is not an integer or out of range\r\n"
        );
    }

    #[test]
    fn quit_replies_then_closes_without_running_the_rest() {
        let mut t = TestNode::new(Config::default());
        t.connect(1);
        assert_eq!(t.raw(1, b"QUIT\r\nSET k v\r\n"), b"+OK\r\n");
        assert!(t.closed(1));
    }
}
