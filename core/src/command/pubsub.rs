//! Pub/Sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH,
//! SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, PUBSUB. The registry and message delivery
//! live in `crate::pubsub`; the RESP2 subscribed-context rule is checked by the node
//! before dispatch ([`refused_in_subscribed_context`]).

use bytes::Bytes;

use super::{CommandSpec, Flag, Group, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::node::Ctx;
use crate::pubsub::{self, write_confirmation, Kind};

const SUBSCRIBE_FLAGS: &[Flag] = &[Flag::Pubsub, Flag::Noscript, Flag::Loading, Flag::Stale];
const PUBLISH_FLAGS: &[Flag] = &[
    Flag::Pubsub,
    Flag::Loading,
    Flag::Stale,
    Flag::Fast,
    Flag::MayReplicate,
];
const INFO_FLAGS: &[Flag] = &[Flag::Pubsub, Flag::Loading, Flag::Stale];

/// Shard channels are reported as key specs that are not keys (cluster routing).
const SHARD_CHANNELS: &[KeySpec] = &[KeySpec::range(&["NOT_KEY"], 1, -1)];
const SHARD_CHANNEL: &[KeySpec] = &[KeySpec::first(&["NOT_KEY"])];

const SSUBSCRIBE_DENIED: &str = "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client";

const fn subscribe_row(
    name: &'static str,
    arity: i32,
    summary: &'static str,
    complexity: &'static str,
    handler: super::Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags: SUBSCRIBE_FLAGS,
        group: Group::Pubsub,
        since: "2.0.0",
        summary,
        complexity,
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

const fn pubsub_sub(
    name: &'static str,
    arity: i32,
    since: &'static str,
    summary: &'static str,
    complexity: &'static str,
    handler: super::Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags: INFO_FLAGS,
        group: Group::Pubsub,
        since,
        summary,
        complexity,
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

pub static COMMANDS: &[CommandSpec] = &[
    subscribe_row(
        "subscribe",
        -2,
        "Listen for messages published to the given channels",
        "O(N) where N is the number of channels to subscribe to.",
        subscribe,
    ),
    subscribe_row(
        "unsubscribe",
        -1,
        "Stop listening for messages posted to the given channels",
        "O(N) where N is the number of clients already subscribed to a channel.",
        unsubscribe,
    ),
    subscribe_row(
        "psubscribe",
        -2,
        "Listen for messages published to channels matching the given patterns",
        "O(N) where N is the number of patterns the client is already subscribed to.",
        psubscribe,
    ),
    subscribe_row(
        "punsubscribe",
        -1,
        "Stop listening for messages posted to channels matching the given patterns",
        "O(N+M) where N is the number of patterns the client is already subscribed and M is \
         the number of total patterns subscribed in the system (by any client).",
        punsubscribe,
    ),
    CommandSpec {
        name: "publish",
        arity: 3,
        flags: PUBLISH_FLAGS,
        group: Group::Pubsub,
        since: "2.0.0",
        summary: "Post a message to a channel",
        complexity: "O(N+M) where N is the number of clients subscribed to the receiving \
                     channel and M is the total number of subscribed patterns (by any client).",
        handler: Some(publish),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "ssubscribe",
        first_key: 1,
        last_key: -1,
        step: 1,
        key_specs: SHARD_CHANNELS,
        since: "7.0.0",
        ..subscribe_row(
            "ssubscribe",
            -2,
            "Listen for messages published to the given shard channels",
            "O(N) where N is the number of shard channels to subscribe to.",
            ssubscribe,
        )
    },
    CommandSpec {
        name: "sunsubscribe",
        first_key: 1,
        last_key: -1,
        step: 1,
        key_specs: SHARD_CHANNELS,
        since: "7.0.0",
        ..subscribe_row(
            "sunsubscribe",
            -1,
            "Stop listening for messages posted to the given shard channels",
            "O(N) where N is the number of clients already subscribed to a shard channel.",
            sunsubscribe,
        )
    },
    CommandSpec {
        name: "spublish",
        arity: 3,
        flags: PUBLISH_FLAGS,
        first_key: 1,
        last_key: 1,
        step: 1,
        key_specs: SHARD_CHANNEL,
        group: Group::Pubsub,
        since: "7.0.0",
        summary: "Post a message to a shard channel",
        complexity: "O(N) where N is the number of clients subscribed to the receiving shard \
                     channel.",
        handler: Some(spublish),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pubsub",
        arity: -2,
        group: Group::Pubsub,
        since: "2.8.0",
        summary: "A container for Pub/Sub commands",
        complexity: "Depends on subcommand.",
        subcommands: &[
            pubsub_sub(
                "channels",
                -2,
                "2.8.0",
                "List active channels",
                "O(N) where N is the number of active channels, and assuming constant time \
                 pattern matching (relatively short channels and patterns)",
                pubsub_channels,
            ),
            CommandSpec {
                name: "help",
                arity: 2,
                flags: &[Flag::Loading, Flag::Stale],
                group: Group::Pubsub,
                since: "6.2.0",
                summary: "Show helpful text about the different subcommands",
                handler: Some(pubsub_help),
                ..CommandSpec::DEFAULT
            },
            pubsub_sub(
                "numpat",
                2,
                "2.8.0",
                "Get the count of unique patterns pattern subscriptions",
                "O(1)",
                pubsub_numpat,
            ),
            pubsub_sub(
                "numsub",
                -2,
                "2.8.0",
                "Get the count of subscribers for channels",
                "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
                pubsub_numsub,
            ),
            pubsub_sub(
                "shardchannels",
                -2,
                "7.0.0",
                "List active shard channels",
                "O(N) where N is the number of active shard channels, and assuming constant \
                 time pattern matching (relatively short shard channels).",
                pubsub_shardchannels,
            ),
            pubsub_sub(
                "shardnumsub",
                -2,
                "7.0.0",
                "Get the count of subscribers for shard channels",
                "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested \
                 shard channels",
                pubsub_shardnumsub,
            ),
        ],
        ..CommandSpec::DEFAULT
    },
];

/// Whether `cmd` is refused because the client is subscribed and speaks RESP2:
/// only (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT and RESET run there. RESP3
/// clients may run anything.
pub fn refused_in_subscribed_context(ctx_subscribed: bool, resp3: bool, cmd: &CommandSpec) -> bool {
    const ALLOWED: &[&str] = &[
        "ping",
        "subscribe",
        "ssubscribe",
        "unsubscribe",
        "sunsubscribe",
        "psubscribe",
        "punsubscribe",
        "quit",
        "reset",
    ];
    if !ctx_subscribed || resp3 {
        return false;
    }
    // Compare rows, not names: SLOWLOG RESET is no RESET.
    let top_level = super::lookup(cmd.name.as_bytes()).is_some_and(|top| std::ptr::eq(top, cmd));
    !(top_level && ALLOWED.contains(&cmd.name))
}

/// The error a refused command gets, naming it as Redis's fullname does.
pub fn subscribed_context_error(cmd: &'static CommandSpec) -> CmdError {
    CmdError::Owned(format!(
        "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET \
         are allowed in this context",
        super::client::spec_full_name(cmd)
    ))
}

/// SUBSCRIBE channel [channel ...]
fn subscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    subscribe_each(ctx, Kind::Channel, &args[1..]);
    Ok(())
}

/// PSUBSCRIBE pattern [pattern ...]
fn psubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    subscribe_each(ctx, Kind::Pattern, &args[1..]);
    Ok(())
}

/// SSUBSCRIBE shardchannel [shardchannel ...]. Redis refuses it where a client
/// may not block (inside EXEC), unlike SUBSCRIBE.
fn ssubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if ctx.client.in_exec {
        return Err(SSUBSCRIBE_DENIED.into());
    }
    subscribe_each(ctx, Kind::Shard, &args[1..]);
    Ok(())
}

/// One confirmation per name, in argument order, repeated names included.
fn subscribe_each(ctx: &mut Ctx<'_>, kind: Kind, names: &[Bytes]) {
    let conn = ctx.client.conn;
    for name in names {
        let count = ctx.srv.pubsub.subscribe(conn, kind, name);
        write_confirmation(
            &mut ctx.client.out,
            kind.subscribe_word(),
            Some(name),
            count,
        );
    }
}

/// UNSUBSCRIBE [channel [channel ...]]
fn unsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    unsubscribe_each(ctx, Kind::Channel, &args[1..]);
    Ok(())
}

/// PUNSUBSCRIBE [pattern [pattern ...]]
fn punsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    unsubscribe_each(ctx, Kind::Pattern, &args[1..]);
    Ok(())
}

/// SUNSUBSCRIBE [shardchannel [shardchannel ...]]
fn sunsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    unsubscribe_each(ctx, Kind::Shard, &args[1..]);
    Ok(())
}

/// Unsubscribes from the names given, or with none from everything of `kind`; with
/// nothing to unsubscribe from, one confirmation with a null name.
fn unsubscribe_each(ctx: &mut Ctx<'_>, kind: Kind, names: &[Bytes]) {
    let conn = ctx.client.conn;
    let names = if names.is_empty() {
        let all = ctx.srv.pubsub.subscriptions(conn, kind);
        if all.is_empty() {
            let count = ctx.srv.pubsub.count_for(conn, kind);
            write_confirmation(&mut ctx.client.out, kind.unsubscribe_word(), None, count);
            return;
        }
        all
    } else {
        names.to_vec()
    };
    for name in &names {
        let count = ctx.srv.pubsub.unsubscribe(conn, kind, name);
        write_confirmation(
            &mut ctx.client.out,
            kind.unsubscribe_word(),
            Some(name),
            count,
        );
    }
}

/// PUBLISH channel message
fn publish(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let receivers = ctx.publish(&args[1], &args[2]);
    ctx.out().int(receivers as i64);
    Ok(())
}

/// SPUBLISH shardchannel message
fn spublish(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let receivers = pubsub::publish_shard(
        &mut ctx.srv.pubsub,
        ctx.others,
        Some(ctx.client),
        &args[1],
        &args[2],
    );
    ctx.out().int(receivers as i64);
    Ok(())
}

/// PUBSUB CHANNELS [pattern]
fn pubsub_channels(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    list_active(ctx, Kind::Channel, args)
}

/// PUBSUB SHARDCHANNELS [pattern]
fn pubsub_shardchannels(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    list_active(ctx, Kind::Shard, args)
}

fn list_active(ctx: &mut Ctx<'_>, kind: Kind, args: &[Bytes]) -> CmdResult {
    if args.len() > 3 {
        return Err(super::client::sub_syntax_error(args));
    }
    let pattern = args.get(2).map(|p| &p[..]);
    let names = ctx.srv.pubsub.active(kind, pattern);
    let out = ctx.out();
    out.array(names.len());
    for name in &names {
        out.bulk(name);
    }
    Ok(())
}

/// PUBSUB NUMSUB [channel [channel ...]]
fn pubsub_numsub(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    count_subscribers(ctx, Kind::Channel, &args[2..]);
    Ok(())
}

/// PUBSUB SHARDNUMSUB [shardchannel [shardchannel ...]]
fn pubsub_shardnumsub(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    count_subscribers(ctx, Kind::Shard, &args[2..]);
    Ok(())
}

/// A flat array of name, count pairs (an array in RESP3 too, as Redis sends it).
fn count_subscribers(ctx: &mut Ctx<'_>, kind: Kind, names: &[Bytes]) {
    let counts: Vec<usize> = names
        .iter()
        .map(|name| ctx.srv.pubsub.subscriber_count(kind, name))
        .collect();
    let out = ctx.out();
    out.array(names.len() * 2);
    for (name, count) in names.iter().zip(counts) {
        out.bulk(name);
        out.int(count as i64);
    }
}

/// PUBSUB NUMPAT
fn pubsub_numpat(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    let count = ctx.srv.pubsub.pattern_count();
    ctx.out().int(count as i64);
    Ok(())
}

const PUBSUB_HELP: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

/// PUBSUB HELP
fn pubsub_help(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    super::client::write_help(ctx, PUBSUB_HELP);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::command::testkit::TestNode;
    use crate::config::Config;

    fn two_clients() -> TestNode {
        let mut t = TestNode::new(Config::default());
        t.connect(1);
        t.connect(2);
        t
    }

    #[test]
    fn a_subscriber_gets_channel_and_pattern_messages_in_order() {
        let mut t = two_clients();
        t.cmd(1, &["SUBSCRIBE", "news"]);
        t.cmd(1, &["PSUBSCRIBE", "n*"]);
        assert_eq!(t.cmd(2, &["PUBLISH", "news", "hi"]), ":2\r\n");
        assert_eq!(
            t.take_sent(1),
            "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n\
             *4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
        );
    }

    #[test]
    fn resp2_subscribers_may_only_run_the_subscription_commands() {
        let mut t = two_clients();
        t.cmd(1, &["SUBSCRIBE", "a"]);
        assert_eq!(
            t.cmd(1, &["CONFIG", "GET", "x"]),
            "-ERR Can't execute 'config|get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING \
             / QUIT / RESET are allowed in this context\r\n"
        );
        assert_eq!(t.cmd(1, &["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
        assert_eq!(t.cmd(1, &["RESET"]), "+RESET\r\n");
        assert_eq!(t.cmd(1, &["PING"]), "+PONG\r\n");
        assert_eq!(t.cmd(2, &["PUBLISH", "a", "x"]), ":0\r\n");
    }

    #[test]
    fn a_closed_subscriber_is_forgotten() {
        let mut t = two_clients();
        t.cmd(1, &["SUBSCRIBE", "a"]);
        t.close(1);
        assert_eq!(
            t.cmd(2, &["PUBSUB", "NUMSUB", "a"]),
            "*2\r\n$1\r\na\r\n:0\r\n"
        );
    }

    #[test]
    fn client_info_shows_subscription_counts_and_the_pubsub_flag() {
        let mut t = two_clients();
        t.cmd(1, &["HELLO", "3"]);
        t.cmd(1, &["SUBSCRIBE", "a"]);
        t.cmd(1, &["PSUBSCRIBE", "b*", "c*"]);
        t.cmd(1, &["SSUBSCRIBE", "s"]);
        let info = t.cmd(1, &["CLIENT", "INFO"]);
        assert!(
            info.contains(" flags=P db=0 sub=1 psub=2 ssub=1 "),
            "{info}"
        );
        assert!(t
            .cmd(2, &["CLIENT", "LIST", "TYPE", "pubsub"])
            .contains("id=3 "));
        t.cmd(1, &["RESET"]);
        let info = t.cmd(1, &["CLIENT", "INFO"]);
        assert!(
            info.contains(" flags=N db=0 sub=0 psub=0 ssub=0 "),
            "{info}"
        );
    }

    #[test]
    fn info_stats_counts_active_channels_and_patterns() {
        let mut t = two_clients();
        t.cmd(1, &["SUBSCRIBE", "a", "b"]);
        t.cmd(1, &["PSUBSCRIBE", "p*"]);
        t.cmd(1, &["SSUBSCRIBE", "s"]);
        t.cmd(2, &["SUBSCRIBE", "a"]);
        t.connect(3);
        let info = t.cmd(3, &["INFO", "stats"]);
        assert!(
            info.contains(
                "\r\npubsub_channels:2\r\npubsub_patterns:1\r\npubsubshard_channels:1\r\n"
            ),
            "{info}"
        );
    }

    #[test]
    fn a_subscriber_over_the_hard_output_limit_is_disconnected_and_forgotten() {
        use crate::io::{Input, Output};
        let mut t = two_clients();
        t.cmd(
            2,
            &[
                "CONFIG",
                "SET",
                "client-output-buffer-limit",
                "pubsub 65536 0 0",
            ],
        );
        t.cmd(1, &["SUBSCRIBE", "a"]);
        let now = t.now;
        // Not a subscriber: the normal class, no limit.
        t.node.handle(
            now,
            Input::OutputBacklog {
                conn: 2,
                bytes: 50_000,
            },
        );
        // Counted as Redis counts: beyond its 16KB static buffer, in 16KB blocks.
        t.node.handle(
            now,
            Input::OutputBacklog {
                conn: 1,
                bytes: 65_536,
            },
        );
        assert!(std::iter::from_fn(|| t.node.poll_output())
            .all(|o| !matches!(o, Output::Disconnect { .. })));
        t.node.handle(
            now,
            Input::OutputBacklog {
                conn: 1,
                bytes: 81_921,
            },
        );
        let outputs: Vec<Output> = std::iter::from_fn(|| t.node.poll_output()).collect();
        assert!(
            outputs.contains(&Output::Disconnect { conn: 1 }),
            "{outputs:?}"
        );
        assert_eq!(
            t.cmd(2, &["PUBSUB", "NUMSUB", "a"]),
            "*2\r\n$1\r\na\r\n:0\r\n"
        );
    }
}
