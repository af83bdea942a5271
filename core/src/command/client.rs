//! CLIENT and its subcommands: identity (ID, SETNAME, GETNAME), introspection (LIST,
//! INFO), control (KILL, REPLY, NO-EVICT, PAUSE, UNPAUSE, UNBLOCK) and the
//! client-side caching switches (TRACKING, TRACKINGINFO, CACHING, GETREDIR).

use std::io::Write;

use bytes::Bytes;

use super::args::{int, int_or, is};
use super::connection::{set_client_name, valid_client_name, BAD_CLIENT_NAME};
use super::{all_commands, Acl, CommandSpec, Flag, Group};
use crate::blocking::TIMEOUT_NOT_INTEGER;
use crate::client::{Client, ReplyMode};
use crate::db::Millis;
use crate::error::{CmdError, CmdResult, SYNTAX, TIMEOUT_NEGATIVE};
use crate::io::Output;
use crate::node::Ctx;
use crate::server::ClientPause;

const INVALID_CLIENT_ID: &str = "ERR Invalid client ID";
const NO_SUCH_CLIENT: &str = "ERR No such client";
const CLIENT_ID_NOT_POSITIVE: &str = "ERR client-id should be greater than 0";
const PAUSE_BAD_MODE: &str = "ERR CLIENT PAUSE mode must be WRITE or ALL";
const UNBLOCK_BAD_REASON: &str = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR";
/// What CLIENT UNBLOCK ... ERROR sends the unblocked client.
const UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
const CACHING_WITHOUT_TRACKING: &str = "ERR CLIENT CACHING can be called only when the client \
    is in tracking mode with OPTIN or OPTOUT mode enabled";
const NO_SUCH_REDIRECT: &str = "ERR The client ID you want redirect to does not exist";
const SINGLE_REDIRECT: &str = "ERR A client can only redirect to a single other client";
/// Ember does not send invalidation messages yet, so it refuses to turn tracking on
/// rather than let a client cache stale values.
const TRACKING_UNSUPPORTED: &str = "ERR CLIENT TRACKING ON is not supported yet";

const HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "HELP",
    "    Prints this help.",
];

const SUB_FLAGS: &[Flag] = &[Flag::Noscript, Flag::Loading, Flag::Stale];
const ADMIN_SUB_FLAGS: &[Flag] = &[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale];
const NONDETERMINISTIC: &[&str] = &["nondeterministic_output"];
const PER_CLIENT: &str = "O(N) where N is the number of client connections";

/// A CLIENT subcommand row; every one is in the connection category and group.
const fn sub(name: &'static str, arity: i32, flags: &'static [Flag]) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        acl: &[Acl::Connection],
        group: Group::Connection,
        ..CommandSpec::DEFAULT
    }
}

/// In the order Redis 7.0 lists them in COMMAND INFO CLIENT.
static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        since: "2.6.9",
        summary: "Sets the connection name.",
        handler: Some(setname),
        ..sub("setname", 3, SUB_FLAGS)
    },
    CommandSpec {
        since: "2.9.50",
        summary: "Suspends commands processing.",
        history: &[(
            "6.2.0",
            "`CLIENT PAUSE WRITE` mode added along with the `mode` option.",
        )],
        handler: Some(pause),
        ..sub("pause", -3, ADMIN_SUB_FLAGS)
    },
    CommandSpec {
        since: "2.4.0",
        summary: "Lists open connections.",
        history: &[
            ("2.8.12", "Added unique client `id` field."),
            ("5.0.0", "Added optional `TYPE` filter."),
            ("6.0.0", "Added `user` field."),
            (
                "6.2.0",
                "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional \
                 `ID` filter.",
            ),
            (
                "7.0.0",
                "Added `resp`, `multi-mem`, `rbs` and `rbp` fields.",
            ),
            ("7.0.3", "Added `ssub` field."),
        ],
        complexity: PER_CLIENT,
        tips: NONDETERMINISTIC,
        handler: Some(list),
        ..sub("list", -2, ADMIN_SUB_FLAGS)
    },
    CommandSpec {
        since: "5.0.0",
        summary: "Unblocks a client blocked by a blocking command.",
        complexity: "O(log N) where N is the number of client connections",
        handler: Some(unblock),
        ..sub("unblock", -3, ADMIN_SUB_FLAGS)
    },
    CommandSpec {
        since: "7.0.0",
        summary: "Sets the client eviction mode of the connection.",
        handler: Some(no_evict),
        ..sub("no-evict", 3, ADMIN_SUB_FLAGS)
    },
    CommandSpec {
        since: "6.0.0",
        summary: "Instructs the server whether to track the keys in the next request.",
        handler: Some(caching),
        ..sub("caching", 3, SUB_FLAGS)
    },
    CommandSpec {
        since: "2.4.0",
        summary: "Terminates open connections.",
        history: &[
            ("2.8.12", "Added new filter format."),
            ("2.8.12", "`ID` option."),
            ("3.2.0", "Added `master` type in for `TYPE` option."),
            (
                "5.0.0",
                "Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward \
                 compatibility.",
            ),
            ("6.2.0", "`LADDR` option."),
        ],
        complexity: PER_CLIENT,
        handler: Some(kill),
        ..sub("kill", -3, ADMIN_SUB_FLAGS)
    },
    CommandSpec {
        since: "3.2.0",
        summary: "Instructs the server whether to reply to commands.",
        handler: Some(reply),
        ..sub("reply", 3, SUB_FLAGS)
    },
    CommandSpec {
        since: "6.2.0",
        summary: "Resumes processing commands from paused clients.",
        complexity: "O(N) Where N is the number of paused clients",
        handler: Some(unpause),
        ..sub("unpause", 2, ADMIN_SUB_FLAGS)
    },
    CommandSpec {
        since: "6.2.0",
        summary: "Returns information about the connection.",
        tips: NONDETERMINISTIC,
        handler: Some(info),
        ..sub("info", 2, SUB_FLAGS)
    },
    CommandSpec {
        since: "5.0.0",
        summary: "Returns helpful text about the different subcommands.",
        handler: Some(help),
        ..sub("help", 2, &[Flag::Loading, Flag::Stale])
    },
    CommandSpec {
        since: "6.2.0",
        summary: "Returns information about server-assisted client-side caching.",
        handler: Some(trackinginfo),
        ..sub("trackinginfo", 2, SUB_FLAGS)
    },
    CommandSpec {
        since: "5.0.0",
        summary: "Returns the unique client ID of the connection.",
        handler: Some(id),
        ..sub("id", 2, SUB_FLAGS)
    },
    CommandSpec {
        since: "2.6.9",
        summary: "Returns the name of the connection.",
        handler: Some(getname),
        ..sub("getname", 2, SUB_FLAGS)
    },
    CommandSpec {
        since: "6.0.0",
        summary: "Controls server-assisted client-side caching for the connection.",
        complexity: "O(1). Some options may introduce additional complexity.",
        handler: Some(tracking),
        ..sub("tracking", -3, SUB_FLAGS)
    },
    CommandSpec {
        since: "6.0.0",
        summary: "Returns the client ID to which the connection's tracking notifications \
            are redirected.",
        handler: Some(getredir),
        ..sub("getredir", 2, SUB_FLAGS)
    },
];

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "client",
    arity: -2,
    group: Group::Connection,
    since: "2.4.0",
    summary: "A container for client connection commands.",
    complexity: "Depends on subcommand.",
    subcommands: SUBCOMMANDS,
    ..CommandSpec::DEFAULT
}];

/// CLIENT ID
fn id(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    let id = ctx.client.id as i64;
    ctx.out().int(id);
    Ok(())
}

/// CLIENT SETNAME connection-name
fn setname(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if !valid_client_name(&args[2]) {
        return Err(BAD_CLIENT_NAME.into());
    }
    set_client_name(ctx, &args[2]);
    ctx.out().ok();
    Ok(())
}

/// CLIENT GETNAME
fn getname(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    match ctx.client.name.clone() {
        Some(name) => ctx.out().bulk(&name),
        None => ctx.out().null(),
    }
    Ok(())
}

/// Client types as CLIENT LIST/KILL TYPE name them. Replication and pub/sub add the
/// others; every client is normal until then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    Pubsub,
    Master,
}

fn client_type(name: &[u8]) -> Result<ClientType, CmdError> {
    let kind = if is(name, "NORMAL") {
        ClientType::Normal
    } else if is(name, "REPLICA") || is(name, "SLAVE") {
        ClientType::Replica
    } else if is(name, "PUBSUB") {
        ClientType::Pubsub
    } else if is(name, "MASTER") {
        ClientType::Master
    } else {
        return Err(quoting_error("ERR Unknown client type '", name, "'"));
    };
    Ok(kind)
}

fn type_of(client: &Client, pubsub: &crate::pubsub::PubSub) -> ClientType {
    if pubsub.is_subscriber(client.conn) {
        return ClientType::Pubsub;
    }
    ClientType::Normal
}

/// CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]]
fn list(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mut text = Vec::new();
    if args.len() == 4 && is(&args[2], "TYPE") {
        let wanted = client_type(&args[3])?;
        for client in clients_in_order(ctx) {
            if type_of(client, &ctx.srv.pubsub) == wanted {
                write_client_line(
                    &mut text,
                    client,
                    ctx.now,
                    &*ctx.srv,
                    running(ctx, client, args),
                );
            }
        }
    } else if args.len() > 3 && is(&args[2], "ID") {
        let ids = args[3..]
            .iter()
            .map(|arg| int_or(arg, INVALID_CLIENT_ID))
            .collect::<Result<Vec<i64>, CmdError>>()?;
        for id in ids {
            if let Some(client) = clients_in_order(ctx).find(|c| c.id as i64 == id) {
                write_client_line(
                    &mut text,
                    client,
                    ctx.now,
                    &*ctx.srv,
                    running(ctx, client, args),
                );
            }
        }
    } else if args.len() != 2 {
        return Err(SYNTAX.into());
    } else {
        for client in clients_in_order(ctx) {
            write_client_line(
                &mut text,
                client,
                ctx.now,
                &*ctx.srv,
                running(ctx, client, args),
            );
        }
    }
    ctx.out().verbatim(&text);
    Ok(())
}

/// CLIENT INFO
fn info(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mut text = Vec::new();
    write_client_line(&mut text, ctx.client, ctx.now, &*ctx.srv, Some(args));
    ctx.out().verbatim(&text);
    Ok(())
}

/// One client's CLIENT LIST line without its newline, as Redis's
/// catClientInfoString writes it into log lines.
pub(crate) fn client_info_string(c: &Client, now: Millis, srv: &crate::server::Server) -> String {
    let mut line = Vec::new();
    write_client_line(&mut line, c, now, srv, None);
    line.pop();
    String::from_utf8_lossy(&line).into_owned()
}

/// The running command's arguments when `client` is the one running it.
fn running<'a>(ctx: &Ctx<'_>, client: &Client, args: &'a [Bytes]) -> Option<&'a [Bytes]> {
    (client.id == ctx.client.id).then_some(args)
}

/// Every client, the current one included, in connection order (Redis's list).
fn clients_in_order<'c>(ctx: &'c Ctx<'_>) -> impl Iterator<Item = &'c Client> {
    let mut all: Vec<&Client> = ctx.others.values().map(|c| &**c).collect();
    all.push(&*ctx.client);
    all.sort_by_key(|c| c.id);
    all.into_iter()
}

/// One CLIENT LIST line with Redis 7.0's fields in its order. `running` is the
/// current client's command, which its query buffer still holds in Redis.
fn write_client_line(
    out: &mut Vec<u8>,
    c: &Client,
    now: Millis,
    srv: &crate::server::Server,
    running: Option<&[Bytes]>,
) {
    let subs = srv.pubsub.counts(c.conn);
    let (qbuf, argv_mem) = if let Some(args) = running {
        let argv_mem: usize = args.iter().map(|a| a.len()).sum();
        (multibulk_len(args) + c.pending.len(), argv_mem)
    } else {
        (c.pending.len(), 0)
    };
    let qbuf_free = c.pending.capacity().saturating_sub(c.pending.len());
    let reply_bytes = c.out.len();
    let (multi, multi_mem) = match &c.multi {
        Some(m) => (m.commands.len() as i64, multi_mem(m)),
        None => (-1, 0),
    };
    let tot_mem = qbuf + qbuf_free + argv_mem + reply_bytes + multi_mem;
    let _ = write!(
        out,
        "id={} addr={} laddr={} fd={} name=",
        c.id, c.peer, c.local, c.conn
    );
    out.extend_from_slice(c.name.as_deref().unwrap_or_default());
    let _ = write!(
        out,
        " age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={multi} qbuf={qbuf} \
         qbuf-free={qbuf_free} argv-mem={argv_mem} multi-mem={multi_mem} rbs={reply_bytes} rbp={reply_bytes} \
         obl=0 oll=0 omem=0 tot-mem={tot_mem} events=r cmd={} user=default redir=-1 resp={}",
        now.saturating_sub(c.created_at) / 1000,
        now.saturating_sub(c.last_interaction) / 1000,
        flags(c, srv),
        c.db,
        subs.channels,
        subs.patterns,
        subs.shard,
        full_name(c),
        if c.out.is_resp3() { 3 } else { 2 },
    );
    out.push(b'\n');
}

/// CLIENT LIST's `multi-mem`: the queued arguments' bytes plus one pointer per
/// argument, as Redis 7.0 counts them.
fn multi_mem(m: &crate::client::MultiState) -> usize {
    let argc: usize = m.commands.iter().map(|(_, argv)| argv.len()).sum();
    m.argv_bytes() + argc * std::mem::size_of::<usize>()
}

/// The bytes a request takes in the multibulk protocol.
fn multibulk_len(args: &[Bytes]) -> usize {
    let header = |n: usize| n.to_string().len() + 3;
    header(args.len())
        + args
            .iter()
            .map(|a| header(a.len()) + a.len() + 2)
            .sum::<usize>()
}

/// CLIENT LIST's `flags=`: the letters for the states Ember has, or N.
fn flags(c: &Client, srv: &crate::server::Server) -> String {
    let dirty_cas = srv.watches.is_dirty(c.conn);
    let mut flags = String::new();
    if srv.pubsub.is_monitor(c.conn) {
        flags.push('O');
    }
    if srv.pubsub.is_subscriber(c.conn) {
        flags.push('P');
    }
    if c.multi.is_some() {
        flags.push('x');
    }
    if c.blocked {
        flags.push('b');
    }
    if dirty_cas {
        flags.push('d');
    }
    if c.close_after_reply {
        flags.push('c');
    }
    if c.no_evict {
        flags.push('e');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    flags
}

/// `get`, or `client|list` for a subcommand; `NULL` before the first command.
fn full_name(c: &Client) -> String {
    match c.last_spec {
        Some(spec) => spec_full_name(spec),
        None => c.last_cmd.to_owned(),
    }
}

/// A row's name as Redis reports it: `container|sub` for subcommands.
pub(crate) fn spec_full_name(spec: &'static CommandSpec) -> String {
    for container in all_commands() {
        if container.subcommands.iter().any(|s| std::ptr::eq(s, spec)) {
            return format!("{}|{}", container.name, spec.name);
        }
    }
    spec.name.to_owned()
}

/// CLIENT KILL ip:port
/// CLIENT KILL [ID id] [TYPE type] [USER name] [ADDR ip:port] [LADDR ip:port] [SKIPME yes|no]
fn kill(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mut filter = KillFilter::default();
    if args.len() == 3 {
        // The old form: one address, and a client may kill itself.
        filter.addr = Some(&args[2]);
        filter.skip_me = false;
    } else {
        parse_kill_filter(&mut filter, &args[2..])?;
    }
    let killed = kill_matching(ctx, &filter);
    match (args.len(), killed) {
        (3, 0) => return Err(NO_SUCH_CLIENT.into()),
        (3, _) => ctx.out().ok(),
        _ => ctx.out().int(killed as i64),
    }
    Ok(())
}

struct KillFilter<'a> {
    id: Option<u64>,
    kind: Option<ClientType>,
    addr: Option<&'a [u8]>,
    laddr: Option<&'a [u8]>,
    skip_me: bool,
}

impl Default for KillFilter<'_> {
    fn default() -> Self {
        KillFilter {
            id: None,
            kind: None,
            addr: None,
            laddr: None,
            skip_me: true,
        }
    }
}

impl KillFilter<'_> {
    fn matches(&self, c: &Client, pubsub: &crate::pubsub::PubSub) -> bool {
        self.id.is_none_or(|id| c.id == id)
            && self.kind.is_none_or(|kind| type_of(c, pubsub) == kind)
            && self.addr.is_none_or(|addr| c.peer.as_bytes() == addr)
            && self.laddr.is_none_or(|laddr| c.local.as_bytes() == laddr)
    }
}

fn parse_kill_filter<'a>(filter: &mut KillFilter<'a>, opts: &'a [Bytes]) -> CmdResult {
    for pair in opts.chunks(2) {
        let [name, value] = pair else {
            return Err(SYNTAX.into());
        };
        if is(name, "ID") {
            match int(value) {
                Ok(id) if id >= 1 => filter.id = Some(id as u64),
                _ => return Err(CLIENT_ID_NOT_POSITIVE.into()),
            }
        } else if is(name, "TYPE") {
            filter.kind = Some(client_type(value)?);
        } else if is(name, "ADDR") {
            filter.addr = Some(value);
        } else if is(name, "LADDR") {
            filter.laddr = Some(value);
        } else if is(name, "USER") {
            // Only the default user exists until ACLs land.
            if &value[..] != b"default" {
                return Err(quoting_error("ERR No such user '", value, "'"));
            }
        } else if is(name, "SKIPME") {
            filter.skip_me = if is(value, "YES") {
                true
            } else if is(value, "NO") {
                false
            } else {
                return Err(SYNTAX.into());
            };
        } else {
            return Err(SYNTAX.into());
        }
    }
    Ok(())
}

/// Closes the other clients that match; the current one closes after its reply.
fn kill_matching(ctx: &mut Ctx<'_>, filter: &KillFilter<'_>) -> usize {
    let victims: Vec<_> = ctx
        .others
        .values()
        .filter(|c| filter.matches(c, &ctx.srv.pubsub))
        .map(|c| c.conn)
        .collect();
    for conn in &victims {
        ctx.others.remove(conn);
        ctx.srv.watches.forget(*conn);
        ctx.srv.pubsub.forget(*conn);
        ctx.outputs.push_back(Output::Close { conn: *conn });
    }
    let mut killed = victims.len();
    if !filter.skip_me && filter.matches(ctx.client, &ctx.srv.pubsub) {
        ctx.client.close_after_reply = true;
        killed += 1;
    }
    killed
}

/// CLIENT REPLY ON|OFF|SKIP
fn reply(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mode = &args[2];
    if is(mode, "ON") {
        ctx.client.set_reply_mode(ReplyMode::On);
        ctx.out().ok();
    } else if is(mode, "OFF") {
        ctx.client.set_reply_mode(ReplyMode::Off);
    } else if is(mode, "SKIP") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.set_reply_mode(ReplyMode::SkipNext);
        }
    } else {
        return Err(SYNTAX.into());
    }
    Ok(())
}

/// CLIENT NO-EVICT ON|OFF
fn no_evict(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    ctx.client.no_evict = on_off(&args[2])?;
    ctx.out().ok();
    Ok(())
}

fn on_off(arg: &[u8]) -> Result<bool, CmdError> {
    if is(arg, "ON") {
        Ok(true)
    } else if is(arg, "OFF") {
        Ok(false)
    } else {
        Err(SYNTAX.into())
    }
}

/// `ERR unknown subcommand or wrong number of arguments for '<sub>'. Try CLIENT HELP.`
pub(crate) fn sub_syntax_error(args: &[Bytes]) -> CmdError {
    let sub = &args[1];
    let nul = sub.iter().position(|&b| b == 0).unwrap_or(sub.len());
    let mut container = args[0].to_ascii_uppercase();
    container.splice(0..0, b"'. Try ".iter().copied());
    container.extend_from_slice(b" HELP.");
    let suffix = String::from_utf8_lossy(&container);
    quoting_error(
        "ERR unknown subcommand or wrong number of arguments for '",
        &sub[..nul.min(128)],
        &suffix,
    )
}

/// An error that quotes client bytes verbatim: `prefix`, the bytes up to any NUL (as
/// C's `%s` prints them), `suffix`.
pub(crate) fn quoting_error(prefix: &str, quoted: &[u8], suffix: &str) -> CmdError {
    let nul = quoted.iter().position(|&b| b == 0).unwrap_or(quoted.len());
    let mut msg = prefix.as_bytes().to_vec();
    msg.extend_from_slice(&quoted[..nul]);
    msg.extend_from_slice(suffix.as_bytes());
    CmdError::Bytes(msg)
}

/// CLIENT PAUSE timeout [WRITE|ALL]: recorded; clients are not held back yet.
fn pause(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len() > 4 {
        return Err(sub_syntax_error(args));
    }
    let timeout = int_or(&args[2], TIMEOUT_NOT_INTEGER)?;
    if timeout < 0 {
        return Err(TIMEOUT_NEGATIVE.into());
    }
    let writes_only = match args.get(3) {
        None => false,
        Some(mode) if is(mode, "WRITE") => true,
        Some(mode) if is(mode, "ALL") => false,
        Some(_) => return Err(PAUSE_BAD_MODE.into()),
    };
    ctx.srv.client_pause = Some(ClientPause {
        until: ctx.now.saturating_add(timeout as u64),
        writes_only,
    });
    ctx.out().ok();
    Ok(())
}

/// CLIENT UNPAUSE
fn unpause(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    ctx.srv.client_pause = None;
    ctx.out().ok();
    Ok(())
}

/// CLIENT UNBLOCK client-id [TIMEOUT|ERROR]: 1 if that client was blocked and is
/// now answered as on a timeout (or with an UNBLOCKED error), else 0.
fn unblock(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len() > 4 {
        return Err(sub_syntax_error(args));
    }
    let mut error = None;
    if let Some(reason) = args.get(3) {
        if is(reason, "ERROR") {
            error = Some(UNBLOCKED);
        } else if !is(reason, "TIMEOUT") {
            return Err(UNBLOCK_BAD_REASON.into());
        }
    }
    let id = int(&args[2])?;
    let target = ctx
        .others
        .values()
        .find(|c| i64::try_from(c.id) == Ok(id))
        .map(|c| c.conn);
    let unblocked = target.is_some_and(|conn| ctx.unblock_client(conn, error));
    ctx.out().int(i64::from(unblocked));
    Ok(())
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX prefix ...] [BCAST] [OPTIN] [OPTOUT]
/// [NOLOOP]: options are checked; only OFF is supported.
fn tracking(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let on = on_off(&args[2])?;
    let mut redirect = None;
    let mut j = 3;
    while j < args.len() {
        let has_value = j + 1 < args.len();
        let opt = &args[j];
        if is(opt, "REDIRECT") && has_value {
            if redirect.is_some() {
                return Err(SINGLE_REDIRECT.into());
            }
            let id = int(&args[j + 1])?;
            let exists =
                ctx.client.id as i64 == id || ctx.others.values().any(|c| c.id as i64 == id);
            if !exists {
                return Err(NO_SUCH_REDIRECT.into());
            }
            redirect = Some(id);
            j += 1;
        } else if is(opt, "PREFIX") && has_value {
            j += 1;
        } else if !(is(opt, "BCAST") || is(opt, "OPTIN") || is(opt, "OPTOUT") || is(opt, "NOLOOP"))
        {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    if on {
        return Err(TRACKING_UNSUPPORTED.into());
    }
    ctx.out().ok();
    Ok(())
}

/// CLIENT TRACKINGINFO: tracking is always off.
fn trackinginfo(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    let out = ctx.out();
    out.map(3);
    out.bulk(b"flags");
    out.set(1);
    out.bulk(b"off");
    out.bulk(b"redirect");
    out.int(-1);
    out.bulk(b"prefixes");
    out.array(0);
    Ok(())
}

/// CLIENT CACHING YES|NO: only valid while tracking in OPTIN/OPTOUT mode.
fn caching(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    Err(CACHING_WITHOUT_TRACKING.into())
}

/// CLIENT GETREDIR: -1, as tracking is off.
fn getredir(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    ctx.out().int(-1);
    Ok(())
}

/// CLIENT HELP
fn help(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    write_help(ctx, HELP);
    Ok(())
}

/// A HELP reply: every line as a status reply in one array.
pub(crate) fn write_help(ctx: &mut Ctx<'_>, lines: &[&str]) {
    let out = ctx.out();
    out.array(lines.len());
    for line in lines {
        out.status(line);
    }
}

#[cfg(test)]
mod tests {
    use crate::command::testkit::TestNode;
    use crate::config::Config;

    fn three_clients() -> TestNode {
        let mut t = TestNode::new(Config::default());
        for conn in 1..=3 {
            t.connect(conn);
        }
        t
    }

    fn bulk_text(reply: &str) -> &str {
        reply.split_once("\r\n").map_or("", |(_, rest)| rest)
    }

    #[test]
    fn client_list_shows_every_client_in_id_order_with_redis_fields() {
        let mut t = three_clients();
        t.cmd(2, &["CLIENT", "SETNAME", "second"]);
        t.cmd(3, &["GET", "k"]);
        let reply = t.cmd(1, &["CLIENT", "LIST"]);
        let lines: Vec<&str> = bulk_text(&reply).trim_end().split('\n').collect();
        assert_eq!(lines.len(), 3, "{reply}");
        assert!(lines[0].starts_with("id=3 addr=127.0.0.1:50001 laddr=127.0.0.1:6379 fd=1 name= age=0 idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=26 "), "{}", lines[0]);
        assert!(
            lines[0].ends_with(" events=r cmd=client|list user=default redir=-1 resp=2"),
            "{}",
            lines[0]
        );
        assert!(lines[1].contains(" name=second ") && lines[1].contains(" cmd=client|setname "));
        assert!(lines[2].starts_with("id=5 ") && lines[2].contains(" cmd=get "));
        let fields: Vec<&str> = lines[0]
            .split(' ')
            .map(|f| f.split('=').next().unwrap_or(""))
            .collect();
        assert_eq!(
            fields.join(" "),
            "id addr laddr fd name age idle flags db sub psub ssub multi qbuf qbuf-free argv-mem \
             multi-mem rbs rbp obl oll omem tot-mem events cmd user redir resp"
        );
    }

    #[test]
    fn client_list_filters_by_id_and_type() {
        let mut t = three_clients();
        let reply = t.cmd(1, &["CLIENT", "LIST", "ID", "5", "99", "4"]);
        let ids: Vec<&str> = bulk_text(&reply)
            .lines()
            .filter(|l| l.starts_with("id="))
            .filter_map(|l| l.split(' ').next())
            .collect();
        assert_eq!(ids, ["id=5", "id=4"]);
        assert_eq!(
            t.cmd(1, &["CLIENT", "LIST", "TYPE", "pubsub"]),
            "$0\r\n\r\n"
        );
        assert_eq!(
            t.cmd(1, &["CLIENT", "LIST", "TYPE", "nope"]),
            "-ERR Unknown client type 'nope'\r\n"
        );
        assert_eq!(
            t.cmd(1, &["CLIENT", "LIST", "ID", "x"]),
            "-ERR Invalid client ID\r\n"
        );
    }

    #[test]
    fn client_kill_by_id_closes_the_other_connection() {
        let mut t = three_clients();
        assert_eq!(t.cmd(1, &["CLIENT", "KILL", "ID", "4"]), ":1\r\n");
        assert!(t.closed(2));
        assert_eq!(t.cmd(1, &["CLIENT", "KILL", "ID", "4"]), ":0\r\n");
        assert_eq!(t.cmd(1, &["CLIENT", "KILL", "TYPE", "normal"]), ":1\r\n");
        assert!(t.closed(3) && !t.closed(1));
    }

    #[test]
    fn client_kill_old_form_can_kill_oneself_after_replying() {
        let mut t = three_clients();
        assert_eq!(t.cmd(1, &["CLIENT", "KILL", "127.0.0.1:50001"]), "+OK\r\n");
        assert!(t.closed(1));
        assert_eq!(
            t.cmd(2, &["CLIENT", "KILL", "1.2.3.4:5"]),
            "-ERR No such client\r\n"
        );
    }

    #[test]
    fn client_reply_off_and_skip_silence_replies() {
        let mut t = three_clients();
        assert_eq!(t.cmd(1, &["CLIENT", "REPLY", "OFF"]), "");
        assert_eq!(t.cmd(1, &["PING"]), "");
        assert_eq!(t.cmd(1, &["CLIENT", "REPLY", "SKIP"]), "");
        assert_eq!(t.cmd(1, &["PING"]), "");
        assert_eq!(t.cmd(1, &["CLIENT", "REPLY", "ON"]), "+OK\r\n");
        assert_eq!(t.cmd(1, &["CLIENT", "REPLY", "SKIP"]), "");
        assert_eq!(t.cmd(1, &["PING"]), "");
        assert_eq!(t.cmd(1, &["PING"]), "+PONG\r\n");
        // RESET ends OFF and answers, but not when it is the command being skipped.
        t.cmd(1, &["CLIENT", "REPLY", "OFF"]);
        assert_eq!(t.cmd(1, &["RESET"]), "+RESET\r\n");
        t.cmd(1, &["CLIENT", "REPLY", "SKIP"]);
        assert_eq!(t.cmd(1, &["RESET"]), "");
        assert_eq!(t.cmd(1, &["PING"]), "+PONG\r\n");
    }

    #[test]
    fn a_protocol_error_under_reply_off_or_skip_is_not_sent() {
        for mode in ["OFF", "SKIP"] {
            let mut t = three_clients();
            assert_eq!(t.cmd(1, &["CLIENT", "REPLY", mode]), "");
            assert_eq!(t.raw(1, b"*1\r\n$x\r\n"), b"");
            assert!(t.closed(1), "{mode}");
        }
    }

    #[test]
    fn client_names_must_be_printable_without_spaces() {
        let mut t = three_clients();
        assert_eq!(t.cmd(1, &["CLIENT", "SETNAME", "ok~name"]), "+OK\r\n");
        assert_eq!(t.cmd(1, &["CLIENT", "GETNAME"]), "$7\r\nok~name\r\n");
        assert!(t
            .cmd(1, &["CLIENT", "SETNAME", "caf\u{e9}"])
            .starts_with("-ERR Client names"));
        assert_eq!(t.cmd(1, &["CLIENT", "SETNAME", ""]), "+OK\r\n");
        assert_eq!(t.cmd(1, &["CLIENT", "GETNAME"]), "$-1\r\n");
    }

    #[test]
    fn client_pause_checks_its_arguments_and_is_recorded() {
        let mut t = three_clients();
        assert_eq!(
            t.cmd(1, &["CLIENT", "PAUSE", "-1"]),
            "-ERR timeout is negative\r\n"
        );
        assert_eq!(
            t.cmd(1, &["CLIENT", "PAUSE", "10", "x"]),
            "-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n"
        );
        assert_eq!(
            t.cmd(1, &["CLIENT", "PAUSE", "10", "WRITE", "x"]),
            "-ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.\r\n"
        );
        assert_eq!(t.cmd(1, &["CLIENT", "PAUSE", "10", "write"]), "+OK\r\n");
        assert_eq!(t.cmd(1, &["CLIENT", "UNPAUSE"]), "+OK\r\n");
    }
}
