//! The event bus: publish with a message id, durable consumer groups, explicit acknowledgement.
//!
//! Two adapters implement it with the same semantics, checked by one conformance suite
//! (`tests/bus`): [`jetstream::JetStreamBus`] (NATS JetStream, distributed mode) and
//! [`embedded::EmbeddedBus`] (a durable log in SQLite, embedded mode).
//!
//! Semantics every adapter keeps:
//! - a message id seen before is dropped at publish (the outbox relay may publish twice);
//! - each consumer group gets every message on its subjects, shared among the group's members;
//! - a delivery not acknowledged within `ack_wait` is delivered again, with `attempt` + 1;
//! - `nak(delay)` redelivers no sooner than `delay`; `term` never redelivers;
//! - `in_progress` restarts the delivery's ack wait: a handler still at work keeps its message,
//!   so the ack wait can be short and a crashed member's messages come back soon;
//! - the adapters never give up on a message by themselves: [`crate::listener`] decides when a
//!   message has failed too often and moves it to the dead-letter subject.

pub mod embedded;
pub mod jetstream;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;

/// Header names GitTix puts on messages.
pub mod header {
    /// The id of the request that caused the event, so logs can follow it across services.
    pub const REQUEST_ID: &str = "x-request-id";
    /// W3C trace context of the request that caused the event.
    pub const TRACEPARENT: &str = "traceparent";
    /// When the event happened, in milliseconds since the Unix epoch.
    pub const OCCURRED_AT: &str = "gittix-occurred-at";
    /// On a dead letter: why the message was given up.
    pub const DEAD_LETTER_ERROR: &str = "gittix-error";
    /// On a dead letter: the subject it was first published on.
    pub const ORIGINAL_SUBJECT: &str = "gittix-original-subject";
    /// On a dead letter: how many times it was delivered.
    pub const DELIVERIES: &str = "gittix-deliveries";
}

/// A message as published and as delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Unique per event; a second publish with the same id is dropped.
    pub id: String,
    pub subject: String,
    pub payload: Vec<u8>,
    pub headers: BTreeMap<String, String>,
}

impl Message {
    pub fn new(
        id: impl Into<String>,
        subject: impl Into<String>,
        payload: impl Into<Vec<u8>>,
    ) -> Self {
        Self {
            id: id.into(),
            subject: subject.into(),
            payload: payload.into(),
            headers: BTreeMap::new(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// The subject holding the messages a consumer group gave up on.
pub fn dead_letter_subject(group: &str) -> String {
    format!("dead-letter.{group}")
}

/// How a consumer group's deliveries behave.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// How long a delivery may stay unacknowledged before it is delivered again.
    pub ack_wait: Duration,
    /// Where a group that does not exist yet starts reading.
    pub start: GroupStart,
    /// A group of one process (a replica's own reader, say), forgotten by the bus once it has
    /// been idle this long: JetStream deletes the consumer; the embedded log, which belongs to
    /// one process, drops such groups when it is opened again.
    pub forget_when_idle: Option<Duration>,
}

/// Where a new consumer group starts in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupStart {
    /// With the oldest message kept.
    Beginning,
    /// With the first message published at or after this time (unix milliseconds).
    PublishedSince(i64),
}

impl Default for DeliverySettings {
    fn default() -> Self {
        // Short, so what a crashed process (or a NATS server killed with the delivery on the
        // wire) held is delivered again within seconds; a handler that takes longer keeps its
        // message with `in_progress` heartbeats (the listener sends them). At 4 s, a delivery
        // lost in a `kill -9` of NATS came back 4 s after the restart, plus the reconnect: the
        // fault suite's 5 s for work in flight to resume was missed by 0.1 s once.
        Self {
            ack_wait: Duration::from_secs(2),
            start: GroupStart::Beginning,
            forget_when_idle: None,
        }
    }
}

#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Stores the message durably (returns once it is); a repeated id is dropped.
    async fn publish(&self, message: &Message) -> anyhow::Result<()>;

    /// Publishes `messages` in order, as [`Bus::publish`] does each. Adapters that can store
    /// several at the cost of one (one transaction, acknowledgements awaited together) do so:
    /// the relay sends an outbox's backlog this way.
    async fn publish_all(&self, messages: &[Message]) -> anyhow::Result<()> {
        for message in messages {
            self.publish(message).await?;
        }
        Ok(())
    }

    /// Joins the consumer group `group` for `subjects`, creating the group (from
    /// `settings.start`) if it does not exist. Each call is one more member sharing the group's work.
    async fn subscribe(
        &self,
        group: &str,
        subjects: &[String],
        settings: &DeliverySettings,
    ) -> anyhow::Result<Box<dyn Subscription>>;

    /// Succeeds when the bus answers now (for `/readyz`).
    async fn ping(&self) -> anyhow::Result<()>;
}

#[async_trait]
pub trait Subscription: Send {
    /// The next delivery for this member; waits until there is one.
    async fn next(&mut self) -> anyhow::Result<Delivery>;

    /// Whether the group has been handed, and has acknowledged, every message published on
    /// its subjects so far: nothing new in the log, nothing delivered and unacknowledged,
    /// nothing waiting in this member. A reader that must not answer before it has read what
    /// was published (a replica's revocations) asks this.
    async fn caught_up(&mut self) -> anyhow::Result<bool>;
}

/// One delivery of a message to one member of a group.
pub struct Delivery {
    pub message: Message,
    /// 1 on the first delivery, then 2, 3, ...
    pub attempt: u32,
    acknowledger: Box<dyn Acknowledge>,
}

impl Delivery {
    pub fn new(message: Message, attempt: u32, acknowledger: Box<dyn Acknowledge>) -> Self {
        Self {
            message,
            attempt,
            acknowledger,
        }
    }

    /// Done with: never delivered to this group again.
    pub async fn ack(self) -> anyhow::Result<()> {
        self.acknowledger.ack().await
    }

    /// Not now: deliver again, no sooner than `delay`.
    pub async fn nak(self, delay: Duration) -> anyhow::Result<()> {
        self.acknowledger.nak(delay).await
    }

    /// Given up on (after it was dead-lettered): never delivered again.
    pub async fn term(self) -> anyhow::Result<()> {
        self.acknowledger.term().await
    }

    /// Still at work: the ack wait starts again from now.
    pub async fn in_progress(&self) -> anyhow::Result<()> {
        self.acknowledger.in_progress().await
    }
}

/// How an adapter settles one delivery.
#[async_trait]
pub trait Acknowledge: Send + Sync {
    async fn ack(&self) -> anyhow::Result<()>;
    async fn nak(&self, delay: Duration) -> anyhow::Result<()>;
    async fn term(&self) -> anyhow::Result<()>;
    async fn in_progress(&self) -> anyhow::Result<()>;
}
