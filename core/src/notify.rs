//! Keyspace notifications (`notify-keyspace-events`): Redis's notifyKeyspaceEvent.
//!
//! A command handler calls [`Ctx::notify`] where Redis calls notifyKeyspaceEvent,
//! with the event's class and name. Events the configuration selects are published
//! at once on `__keyspace@<db>__:<key>` (message: the event) and then on
//! `__keyevent@<db>__:<event>` (message: the key), through the ordinary Pub/Sub
//! delivery, so a RESP3 client subscribed to its own events reads them before its
//! reply, as from Redis.
//!
//! Events that arise where no client context is at hand (keys deleted by lazy
//! expiry inside a lookup, key misses, active expiry in serverCron) are queued in
//! the Pub/Sub registry and delivered by the next [`Ctx::notify`] (so an `expired`
//! precedes the event of the command that found the key expired), after the
//! command's handler, or by the cron.

use bytes::Bytes;

use crate::client::Client;
use crate::config::notify::{KEYEVENT, KEYSPACE, NEW};
use crate::node::{Clients, Ctx};
use crate::server::Server;

/// An event waiting for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub db: usize,
    pub event: &'static str,
    pub key: Bytes,
}

/// Whether events of `class` are wanted under `flags` (Redis checks the class
/// bits, then whether keyspace or keyevent channels are on).
fn wanted_by(flags: u32, class: u32) -> bool {
    flags & class != 0 && flags & (KEYSPACE | KEYEVENT) != 0
}

fn wanted(srv: &Server, class: u32) -> bool {
    wanted_by(srv.config.notify_keyspace_events, class)
}

/// Queues an event of `class` for later delivery, if the configuration wants it.
pub fn queue(srv: &mut Server, db: usize, class: u32, event: &'static str, key: &[u8]) {
    let flags = srv.config.notify_keyspace_events;
    queue_in(flags, &mut srv.pubsub, db, class, event, key);
}

/// [`queue`] with the server's parts apart, for callers holding a database borrow.
pub fn queue_in(
    flags: u32,
    pubsub: &mut crate::pubsub::PubSub,
    db: usize,
    class: u32,
    event: &'static str,
    key: &[u8],
) {
    if wanted_by(flags, class) {
        pubsub.queue_event(Event {
            db,
            event,
            key: Bytes::copy_from_slice(key),
        });
    }
}

/// Delivers every queued event; `me` is the running client, if any.
pub fn deliver_queued(srv: &mut Server, others: &mut Clients, mut me: Option<&mut Client>) {
    for event in srv.pubsub.take_events() {
        publish_event(srv, others, me.as_deref_mut(), &event);
    }
}

/// Publishes one event on its keyspace and keyevent channels, as configured now.
fn publish_event(srv: &mut Server, others: &mut Clients, mut me: Option<&mut Client>, e: &Event) {
    let flags = srv.config.notify_keyspace_events;
    if flags & KEYSPACE != 0 {
        let mut channel = format!("__keyspace@{}__:", e.db).into_bytes();
        channel.extend_from_slice(&e.key);
        let message = e.event.as_bytes();
        crate::pubsub::publish(
            &mut srv.pubsub,
            others,
            me.as_deref_mut(),
            &channel,
            message,
        );
    }
    if flags & KEYEVENT != 0 {
        let channel = format!("__keyevent@{}__:{}", e.db, e.event).into_bytes();
        crate::pubsub::publish(&mut srv.pubsub, others, me, &channel, &e.key);
    }
}

/// Turns the databases' created-key logs on or off to match whether `new` events
/// are wanted (checked before every command, so CONFIG SET takes effect at once).
pub fn log_new_keys_if_wanted(srv: &mut Server) {
    let on = wanted(srv, NEW);
    if srv
        .dbs
        .first()
        .is_some_and(|db| db.created_log.is_some() != on)
    {
        for db in &mut srv.dbs {
            db.created_log = on.then(Vec::new);
        }
    }
}

/// Queues a `new` event for every key created since the last call.
fn note_created_keys(srv: &mut Server) {
    if srv.dbs.first().is_none_or(|db| db.created_log.is_none()) {
        return;
    }
    for db in 0..srv.dbs.len() {
        let created = match &mut srv.dbs[db].created_log {
            Some(log) if !log.is_empty() => std::mem::take(log),
            _ => continue,
        };
        for key in created {
            queue(srv, db, NEW, "new", &key);
        }
    }
}

impl Ctx<'_> {
    /// Fires `event` of `class` (a `config::notify` bit) on `key` in the selected
    /// database (Redis's notifyKeyspaceEvent). Costs one check when disabled.
    #[inline]
    pub fn notify(&mut self, class: u32, event: &'static str, key: &[u8]) {
        let db = self.client.db;
        self.notify_in(db, class, event, key);
    }

    /// [`Ctx::notify`] for a key of database `db` (MOVE, COPY ... DB).
    pub fn notify_in(&mut self, db: usize, class: u32, event: &'static str, key: &[u8]) {
        if !wanted(self.srv, class) && !self.srv.pubsub.has_events() {
            return;
        }
        // Keys this command found expired, then keys it created, went first in Redis.
        crate::node::note_expired_keys(self.srv);
        note_created_keys(self.srv);
        queue(self.srv, db, class, event, key);
        self.deliver_queued_events();
    }

    /// Delivers the events queued by lookups (expired keys, key misses).
    pub fn deliver_queued_events(&mut self) {
        note_created_keys(self.srv);
        if self.srv.pubsub.has_events() {
            deliver_queued(self.srv, self.others, Some(&mut *self.client));
        }
    }
}
