//! Pub/Sub state: which connections listen to which channels, patterns and shard
//! channels, and delivery of messages into the listeners' reply buffers.
//!
//! Everything is keyed by connection, as in `blocking.rs`, so a connection that goes
//! away is forgotten with one call ([`PubSub::forget`]) and CLIENT LIST reads the
//! counts without the client holding any state. A message for a client other than
//! the one running goes into that client's reply buffer and the connection is noted
//! in `touched`; the node sends those buffers once the current event is done (so a
//! pipeline of PUBLISHes reaches a subscriber as one write).
//!
//! Orders: a channel's subscribers and a client's patterns are kept in subscription
//! order, as Redis's lists keep them (PUNSUBSCRIBE with no argument answers in that
//! order). A client's channels and the server's patterns are kept sorted; Redis
//! iterates hash tables there, whose order is unspecified.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use crate::client::{Client, ReplyMode};
use crate::io::ConnId;
use crate::node::Clients;
use crate::resp::ReplyBuf;
use crate::util::glob::glob_match;

/// The three subscription spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    /// The first element of a subscribe confirmation.
    pub fn subscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    /// The first element of an unsubscribe confirmation.
    pub fn unsubscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

/// One client's subscriptions.
#[derive(Debug, Default)]
struct ClientSubs {
    channels: BTreeSet<Bytes>,
    /// In subscription order (Redis keeps a list).
    patterns: Vec<Bytes>,
    shard: BTreeSet<Bytes>,
}

impl ClientSubs {
    fn total(&self) -> usize {
        self.channels.len() + self.patterns.len() + self.shard.len()
    }

    /// Redis's count in (P)SUBSCRIBE / (P)UNSUBSCRIBE replies is channels plus
    /// patterns; shard replies count shard channels only.
    fn count_for(&self, kind: Kind) -> usize {
        match kind {
            Kind::Channel | Kind::Pattern => self.channels.len() + self.patterns.len(),
            Kind::Shard => self.shard.len(),
        }
    }

    fn add(&mut self, kind: Kind, name: &Bytes) -> bool {
        match kind {
            Kind::Channel => self.channels.insert(name.clone()),
            Kind::Shard => self.shard.insert(name.clone()),
            Kind::Pattern if self.patterns.contains(name) => false,
            Kind::Pattern => {
                self.patterns.push(name.clone());
                true
            }
        }
    }

    fn remove(&mut self, kind: Kind, name: &[u8]) -> bool {
        match kind {
            Kind::Channel => self.channels.remove(name),
            Kind::Shard => self.shard.remove(name),
            Kind::Pattern => match self.patterns.iter().position(|p| p == name) {
                Some(i) => {
                    self.patterns.remove(i);
                    true
                }
                None => false,
            },
        }
    }

    fn names(&self, kind: Kind) -> Vec<Bytes> {
        match kind {
            Kind::Channel => self.channels.iter().cloned().collect(),
            Kind::Pattern => self.patterns.clone(),
            Kind::Shard => self.shard.iter().cloned().collect(),
        }
    }
}

/// Per-client subscription counts (CLIENT LIST `sub=`, `psub=`, `ssub=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub channels: usize,
    pub patterns: usize,
    pub shard: usize,
}

/// A message kept for a client out of the table: its RESP2 and RESP3 forms, and
/// whether it is a push.
type Stashed = (ConnId, Bytes, Bytes, bool);

/// Messages for clients other than the running one.
#[derive(Debug, Default)]
struct Outbox {
    /// Clients whose reply buffers got messages since the node last sent them.
    touched: Vec<ConnId>,
    /// Messages for a client that was out of the client table when they were
    /// produced (the client whose push is serving blocked clients), in RESP2 and in
    /// RESP3, for the node to append once the client is back; flagged when they
    /// are pushes, which CLIENT REPLY OFF does not silence.
    stashed: Vec<Stashed>,
}

/// The server's Pub/Sub registry.
#[derive(Debug, Default)]
pub struct PubSub {
    /// channel -> subscribers in subscription order.
    channels: BTreeMap<Bytes, Vec<ConnId>>,
    /// pattern -> subscribers in subscription order.
    patterns: BTreeMap<Bytes, Vec<ConnId>>,
    /// shard channel -> subscribers in subscription order.
    shard: BTreeMap<Bytes, Vec<ConnId>>,
    clients: BTreeMap<ConnId, ClientSubs>,
    /// Where messages for clients other than the running one went.
    outbox: Outbox,
    /// Keyspace events waiting for a client context to be delivered (`notify`).
    events: Vec<crate::notify::Event>,
    /// MONITOR clients, in the order they started: like subscribers, they receive
    /// output caused by other clients' commands (`command/monitor.rs`).
    monitors: Vec<ConnId>,
}

impl PubSub {
    fn space(&mut self, kind: Kind) -> &mut BTreeMap<Bytes, Vec<ConnId>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    fn space_ref(&self, kind: Kind) -> &BTreeMap<Bytes, Vec<ConnId>> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }

    /// Whether the connection is in Pub/Sub mode (Redis's CLIENT_PUBSUB flag: it
    /// holds any subscription of any kind).
    pub fn is_subscriber(&self, conn: ConnId) -> bool {
        self.clients.get(&conn).is_some_and(|s| s.total() > 0)
    }

    pub fn counts(&self, conn: ConnId) -> Counts {
        match self.clients.get(&conn) {
            Some(s) => Counts {
                channels: s.channels.len(),
                patterns: s.patterns.len(),
                shard: s.shard.len(),
            },
            None => Counts::default(),
        }
    }

    /// The count a confirmation of `kind` reports for `conn`.
    pub fn count_for(&self, conn: ConnId, kind: Kind) -> usize {
        self.clients.get(&conn).map_or(0, |s| s.count_for(kind))
    }

    /// Subscribes `conn` to `name`; returns the count its confirmation reports.
    pub fn subscribe(&mut self, conn: ConnId, kind: Kind, name: &Bytes) -> usize {
        let subs = self.clients.entry(conn).or_default();
        if subs.add(kind, name) {
            self.space(kind).entry(name.clone()).or_default().push(conn);
        }
        self.count_for(conn, kind)
    }

    /// Unsubscribes `conn` from `name` (subscribed or not); returns the count its
    /// confirmation reports.
    pub fn unsubscribe(&mut self, conn: ConnId, kind: Kind, name: &[u8]) -> usize {
        let removed = self
            .clients
            .get_mut(&conn)
            .is_some_and(|s| s.remove(kind, name));
        if removed {
            let space = self.space(kind);
            if let Some(subscribers) = space.get_mut(name) {
                subscribers.retain(|&c| c != conn);
                if subscribers.is_empty() {
                    space.remove(name);
                }
            }
        }
        if self.clients.get(&conn).is_some_and(|s| s.total() == 0) {
            self.clients.remove(&conn);
        }
        self.count_for(conn, kind)
    }

    /// What `conn` is subscribed to in one space (patterns in subscription order).
    pub fn subscriptions(&self, conn: ConnId, kind: Kind) -> Vec<Bytes> {
        self.clients
            .get(&conn)
            .map(|s| s.names(kind))
            .unwrap_or_default()
    }

    pub fn is_monitor(&self, conn: ConnId) -> bool {
        self.monitors.contains(&conn)
    }

    /// Makes `conn` a monitor; false if it already was one.
    pub fn add_monitor(&mut self, conn: ConnId) -> bool {
        if self.is_monitor(conn) {
            return false;
        }
        self.monitors.push(conn);
        true
    }

    pub fn monitors(&self) -> &[ConnId] {
        &self.monitors
    }

    /// Subscribers and monitors are never closed for idleness (Redis exempts
    /// CLIENT_PUBSUB and replica-flagged clients from `timeout`).
    pub fn keeps_alive(&self, conn: ConnId) -> bool {
        self.is_subscriber(conn) || self.is_monitor(conn)
    }

    /// Drops every subscription of `conn`, and its monitor (disconnection, RESET).
    pub fn forget(&mut self, conn: ConnId) {
        self.monitors.retain(|&c| c != conn);
        self.outbox.stashed.retain(|s| s.0 != conn);
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            for name in self.subscriptions(conn, kind) {
                self.unsubscribe(conn, kind, &name);
            }
        }
        self.clients.remove(&conn);
    }

    /// Active channels (or shard channels) matching `pattern` (all with `None`).
    pub fn active(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        self.space_ref(kind)
            .keys()
            .filter(|name| pattern.is_none_or(|p| glob_match(p, name, false)))
            .cloned()
            .collect()
    }

    /// Subscribers of one channel (or shard channel, or pattern).
    pub fn subscriber_count(&self, kind: Kind, name: &[u8]) -> usize {
        self.space_ref(kind).get(name).map_or(0, Vec::len)
    }

    /// Channels (or shard channels) with at least one subscriber (INFO stats).
    pub fn active_count(&self, kind: Kind) -> usize {
        self.space_ref(kind).len()
    }

    /// Distinct patterns anyone is subscribed to (PUBSUB NUMPAT).
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Takes the clients whose buffers got messages, each once.
    pub fn take_touched(&mut self) -> Vec<ConnId> {
        let mut touched = std::mem::take(&mut self.outbox.touched);
        touched.sort_unstable();
        touched.dedup();
        touched
    }

    pub fn queue_event(&mut self, event: crate::notify::Event) {
        self.events.push(event);
    }

    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    pub fn take_events(&mut self) -> Vec<crate::notify::Event> {
        std::mem::take(&mut self.events)
    }

    /// Whether anyone listens at all: publishing is free when nobody does.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }
}

/// Publishes `message` on `channel` (Redis's pubsubPublishMessage): first to the
/// channel's subscribers, then to each matching pattern's. `me` is the running
/// client (not in `others`), if any. Returns the number of receivers.
pub fn publish(
    pubsub: &mut PubSub,
    others: &mut Clients,
    mut me: Option<&mut Client>,
    channel: &[u8],
    message: &[u8],
) -> usize {
    if pubsub.is_empty() {
        return 0;
    }
    let mut receivers = 0;
    if let Some(subscribers) = pubsub.channels.get(channel) {
        for &conn in subscribers {
            receivers += 1;
            deliver(
                &mut pubsub.outbox,
                others,
                me.as_deref_mut(),
                conn,
                true,
                |out| write_message(out, b"message", None, channel, message),
            );
        }
    }
    for (pattern, subscribers) in &pubsub.patterns {
        if !glob_match(pattern, channel, false) {
            continue;
        }
        for &conn in subscribers {
            receivers += 1;
            deliver(
                &mut pubsub.outbox,
                others,
                me.as_deref_mut(),
                conn,
                true,
                |out| write_message(out, b"pmessage", Some(pattern), channel, message),
            );
        }
    }
    receivers
}

/// Publishes on a shard channel (SPUBLISH): only its own subscribers hear it.
pub fn publish_shard(
    pubsub: &mut PubSub,
    others: &mut Clients,
    mut me: Option<&mut Client>,
    channel: &[u8],
    message: &[u8],
) -> usize {
    let Some(subscribers) = pubsub.shard.get(channel) else {
        return 0;
    };
    for &conn in subscribers {
        deliver(
            &mut pubsub.outbox,
            others,
            me.as_deref_mut(),
            conn,
            true,
            |out| write_message(out, b"smessage", None, channel, message),
        );
    }
    subscribers.len()
}

/// Writes into `conn`'s reply buffer as [`deliver`] does, for other producers of
/// unsolicited output that is not a push (MONITOR lines: CLIENT REPLY OFF
/// silences them).
pub fn deliver_to(
    pubsub: &mut PubSub,
    others: &mut Clients,
    me: Option<&mut Client>,
    conn: ConnId,
    write: impl Fn(&mut ReplyBuf),
) {
    deliver(&mut pubsub.outbox, others, me, conn, false, write);
}

/// Appends to `client`'s reply buffer the messages produced for it while it was
/// out of the client table (see [`Outbox`]).
pub fn deliver_stashed(pubsub: &mut PubSub, client: &mut Client) {
    if pubsub.outbox.stashed.is_empty() {
        return;
    }
    let conn = client.conn;
    let resp3 = client.out.is_resp3();
    for (_, resp2_bytes, resp3_bytes, push) in pubsub.outbox.stashed.iter().filter(|s| s.0 == conn)
    {
        if *push || client.reply_mode != ReplyMode::Off {
            client
                .out
                .raw(if resp3 { resp3_bytes } else { resp2_bytes });
        }
    }
    pubsub.outbox.stashed.retain(|s| s.0 != conn);
}

/// Writes a message into `conn`'s reply buffer: the running client's directly, any
/// other's noting it for the node to send; one for a connection out of the table
/// (being served from a blocked command) is stashed. A `push` (Pub/Sub message)
/// reaches a client with CLIENT REPLY OFF, as Redis's CLIENT_PUSHING lets it
/// through; anything else does not.
fn deliver(
    outbox: &mut Outbox,
    others: &mut Clients,
    me: Option<&mut Client>,
    conn: ConnId,
    push: bool,
    write: impl Fn(&mut ReplyBuf),
) {
    let client = match me {
        Some(me) if me.conn == conn => me,
        _ => match others.get_mut(&conn) {
            Some(other) => {
                outbox.touched.push(conn);
                other
            }
            None => return stash(outbox, conn, push, write),
        },
    };
    if push || client.reply_mode != ReplyMode::Off {
        write(&mut client.out);
    }
}

/// Keeps a message for a client out of the table in both protocols, since which
/// one it speaks is only known once it is back.
fn stash(outbox: &mut Outbox, conn: ConnId, push: bool, write: impl Fn(&mut ReplyBuf)) {
    let mut resp2 = ReplyBuf::new();
    let mut resp3 = ReplyBuf::new();
    resp3.proto = crate::resp::Protocol::Resp3;
    write(&mut resp2);
    write(&mut resp3);
    outbox
        .stashed
        .push((conn, resp2.take(), resp3.take(), push));
}

/// `message channel payload`, or `pmessage pattern channel payload`: a push in
/// RESP3, an array in RESP2.
fn write_message(
    out: &mut ReplyBuf,
    word: &[u8],
    pattern: Option<&[u8]>,
    channel: &[u8],
    message: &[u8],
) {
    out.push_message(|out| {
        out.push(if pattern.is_some() { 4 } else { 3 });
        out.bulk(word);
        if let Some(pattern) = pattern {
            out.bulk(pattern);
        }
        out.bulk(channel);
        out.bulk(message);
    });
}

/// A (un)subscribe confirmation: `word name count`, the name null when an
/// unsubscribe-all found nothing to unsubscribe from.
/// A push, so CLIENT REPLY OFF/SKIP do not silence it.
pub fn write_confirmation(out: &mut ReplyBuf, word: &[u8], name: Option<&[u8]>, count: usize) {
    out.push_message(|out| {
        out.push(3);
        out.bulk(word);
        match name {
            Some(name) => out.bulk(name),
            None => out.null(),
        }
        out.int(count as i64);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn counts_follow_redis_channel_plus_pattern_rule() {
        let mut ps = PubSub::default();
        assert_eq!(ps.subscribe(1, Kind::Channel, &b("a")), 1);
        assert_eq!(ps.subscribe(1, Kind::Channel, &b("a")), 1);
        assert_eq!(ps.subscribe(1, Kind::Pattern, &b("a*")), 2);
        assert_eq!(ps.subscribe(1, Kind::Shard, &b("s")), 1);
        assert!(ps.is_subscriber(1));
        assert_eq!(ps.unsubscribe(1, Kind::Channel, b"zz"), 2);
        assert_eq!(ps.unsubscribe(1, Kind::Channel, b"a"), 1);
        assert_eq!(ps.unsubscribe(1, Kind::Pattern, b"a*"), 0);
        assert!(ps.is_subscriber(1), "a shard channel keeps Pub/Sub mode");
        assert_eq!(ps.unsubscribe(1, Kind::Shard, b"s"), 0);
        assert!(!ps.is_subscriber(1));
        assert!(ps.is_empty());
    }

    #[test]
    fn forget_leaves_no_trace_of_a_connection() {
        let mut ps = PubSub::default();
        ps.subscribe(1, Kind::Channel, &b("a"));
        ps.subscribe(2, Kind::Channel, &b("a"));
        ps.subscribe(1, Kind::Pattern, &b("*"));
        ps.forget(1);
        assert_eq!(ps.subscriber_count(Kind::Channel, b"a"), 1);
        assert_eq!(ps.pattern_count(), 0);
        assert_eq!(ps.counts(1), Counts::default());
    }

    #[test]
    fn patterns_keep_subscription_order() {
        let mut ps = PubSub::default();
        for p in ["z*", "a*", "m*"] {
            ps.subscribe(1, Kind::Pattern, &b(p));
        }
        assert_eq!(
            ps.subscriptions(1, Kind::Pattern),
            vec![b("z*"), b("a*"), b("m*")]
        );
    }
}
