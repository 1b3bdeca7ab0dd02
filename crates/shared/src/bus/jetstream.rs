//! The NATS JetStream adapter: one stream with file storage holding every GitTix subject under a
//! prefix, a duplicate window keyed on the message id, and durable pull consumers with explicit
//! acks. Works with NATS 2.9 (Debian's) and later: a consumer filters one subject there, so a
//! group is one durable consumer per subject, and a member pulls from each of them.

use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy, PullConsumer};
use async_nats::jetstream::stream::{Config as StreamConfig, StorageType};
use async_nats::jetstream::{self, AckKind};
use async_trait::async_trait;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Acknowledge, Bus, Delivery, DeliverySettings, GroupStart, Message, Subscription};

#[derive(Debug, Clone)]
pub struct JetStreamSettings {
    pub url: String,
    /// The stream holding every GitTix message.
    pub stream: String,
    /// Prepended to every subject on the wire, so one NATS can host several deployments:
    /// `ticket:created` travels as `gittix.ticket:created`. Must end with a dot.
    pub subject_prefix: String,
    /// How long the stream remembers message ids to drop repeated publishes.
    pub duplicate_window: Duration,
    /// How long the stream keeps messages (a consumer group created later starts from them).
    pub max_age: Duration,
}

impl JetStreamSettings {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            stream: "GITTIX".into(),
            subject_prefix: "gittix.".into(),
            duplicate_window: Duration::from_secs(10 * 60),
            max_age: Duration::from_secs(7 * 24 * 60 * 60),
        }
    }
}

/// How many messages a member pulls at once; kept small so buffered messages do not sit out
/// their ack wait while earlier ones are handled.
const PULL_BATCH: usize = 16;

#[derive(Clone)]
pub struct JetStreamBus {
    client: async_nats::Client,
    context: jetstream::Context,
    settings: JetStreamSettings,
}

/// The longest wait between two attempts to reach a NATS server that went away.
const RECONNECT_DELAY_CAP: Duration = Duration::from_millis(500);

/// How long a publish waits for the server to say it stored the message (and a JetStream API
/// call for its answer). The client's default is 5 s: a publish written to a server killed with
/// `kill -9` waited out those 5 s before the relay sent it again, and the fault suite saw work
/// in flight resume 5.1 s after the restart. Giving up sooner costs nothing: the relay sends the
/// message again under the same id, and the stream drops the copy.
const REPLY_WAIT: Duration = Duration::from_secs(2);

impl JetStreamBus {
    /// Connects (retrying until the server answers) and creates the stream if it is missing.
    pub async fn connect(settings: JetStreamSettings) -> anyhow::Result<Self> {
        anyhow::ensure!(
            settings.subject_prefix.ends_with('.'),
            "the NATS subject prefix must end with a dot"
        );
        let client = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            // The client's own backoff grows to 4 s; a restarted server is found again within
            // half a second, so the work it interrupted resumes soon.
            .reconnect_delay_callback(|attempts| {
                let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
                (Duration::from_millis(50).saturating_mul(attempts)).min(RECONNECT_DELAY_CAP)
            })
            .connect(&settings.url)
            .await
            .with_context(|| format!("connecting to NATS at {}", settings.url))?;
        let context = jetstream::ContextBuilder::new()
            .timeout(REPLY_WAIT)
            .build(client.clone());
        let mut stream = context
            .get_or_create_stream(StreamConfig {
                name: settings.stream.clone(),
                subjects: vec![format!("{}>", settings.subject_prefix)],
                storage: StorageType::File,
                duplicate_window: settings.duplicate_window,
                max_age: settings.max_age,
                ..Default::default()
            })
            .await
            .map_err(|e| {
                anyhow::anyhow!("creating the JetStream stream {}: {e}", settings.stream)
            })?;
        // A stream made with another retention takes this one: the inbox's retention follows
        // it, and must outlast what the stream keeps.
        let mut config = stream
            .info()
            .await
            .map_err(|e| anyhow::anyhow!("reading the JetStream stream {}: {e}", settings.stream))?
            .config
            .clone();
        if config.max_age != settings.max_age {
            tracing::info!(stream = %settings.stream, from = ?config.max_age, to = ?settings.max_age, "changing the stream's retention");
            config.max_age = settings.max_age;
            context.update_stream(config).await.map_err(|e| {
                anyhow::anyhow!("updating the JetStream stream {}: {e}", settings.stream)
            })?;
        }
        Ok(Self {
            client,
            context,
            settings,
        })
    }

    fn wire_subject(&self, subject: &str) -> String {
        format!("{}{subject}", self.settings.subject_prefix)
    }
}

#[async_trait]
impl Bus for JetStreamBus {
    async fn publish(&self, message: &Message) -> anyhow::Result<()> {
        self.publish_all(std::slice::from_ref(message)).await
    }

    /// Sends every message, then waits for the server's acknowledgements together: one round
    /// trip for the lot rather than one each. NATS keeps one connection's messages in order.
    async fn publish_all(&self, messages: &[Message]) -> anyhow::Result<()> {
        let mut acknowledgements = Vec::with_capacity(messages.len());
        for message in messages {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(async_nats::header::NATS_MESSAGE_ID, message.id.as_str());
            for (name, value) in &message.headers {
                headers.insert(name.as_str(), value.as_str());
            }
            let acknowledgement = self
                .context
                .publish_with_headers(
                    self.wire_subject(&message.subject),
                    headers,
                    message.payload.clone().into(),
                )
                .await
                .map_err(|e| anyhow::anyhow!("publishing {}: {e}", message.subject))?;
            acknowledgements.push((&message.subject, acknowledgement));
        }
        for (subject, acknowledgement) in acknowledgements {
            acknowledgement
                .await
                .map_err(|e| anyhow::anyhow!("JetStream did not store {subject}: {e}"))?;
        }
        Ok(())
    }

    async fn subscribe(
        &self,
        group: &str,
        subjects: &[String],
        settings: &DeliverySettings,
    ) -> anyhow::Result<Box<dyn Subscription>> {
        let stream = self
            .context
            .get_stream(&self.settings.stream)
            .await
            .map_err(|e| anyhow::anyhow!("opening the stream: {e}"))?;
        let (sender, receiver) = mpsc::channel(1);
        let mut pullers = Vec::new();
        let mut consumers = Vec::new();
        for subject in subjects {
            let durable = consumer_name(group, subject);
            let consumer: PullConsumer = stream
                .get_or_create_consumer(
                    &durable,
                    pull::Config {
                        durable_name: Some(durable.clone()),
                        filter_subject: self.wire_subject(subject),
                        ack_policy: AckPolicy::Explicit,
                        ack_wait: settings.ack_wait,
                        deliver_policy: deliver_policy(settings.start)?,
                        // Unlimited: the listener dead-letters a message that failed too often.
                        max_deliver: -1,
                        // Zero keeps a durable consumer for ever.
                        inactive_threshold: settings.forget_when_idle.unwrap_or_default(),
                        ..Default::default()
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("creating consumer {durable}: {e}"))?;
            let prefix = self.settings.subject_prefix.clone();
            consumers.push(consumer.clone());
            pullers.push(tokio::spawn(pull_forever(consumer, prefix, sender.clone())));
        }
        Ok(Box::new(JetStreamSubscription {
            receiver,
            pullers,
            consumers,
        }))
    }

    async fn ping(&self) -> anyhow::Result<()> {
        match self.client.connection_state() {
            async_nats::connection::State::Connected => Ok(()),
            state => anyhow::bail!("NATS connection is {state:?}"),
        }
    }
}

fn deliver_policy(start: GroupStart) -> anyhow::Result<DeliverPolicy> {
    Ok(match start {
        GroupStart::Beginning => DeliverPolicy::All,
        GroupStart::PublishedSince(at) => DeliverPolicy::ByStartTime {
            start_time: time::OffsetDateTime::from_unix_timestamp_nanos(
                i128::from(at) * 1_000_000,
            )?,
        },
    })
}

/// A durable consumer name for a group and subject (NATS allows no dots or wildcards in it).
fn consumer_name(group: &str, subject: &str) -> String {
    format!("{group}__{subject}").replace(['.', '*', '>', ' ', ':'], "_")
}

/// Pulls from `consumer` and hands each message to the subscription, starting over after any
/// error (a restarted server, a missed heartbeat): unacknowledged messages come back by
/// themselves after their ack wait, so nothing is lost by starting over.
async fn pull_forever(consumer: PullConsumer, prefix: String, sender: mpsc::Sender<Delivery>) {
    loop {
        let messages = consumer
            .stream()
            .max_messages_per_batch(PULL_BATCH)
            .heartbeat(Duration::from_secs(5))
            .expires(Duration::from_secs(30))
            .messages()
            .await;
        match messages {
            Ok(mut messages) => {
                while let Some(next) = messages.next().await {
                    match next {
                        Ok(message) => match to_delivery(message, &prefix) {
                            Ok(delivery) => {
                                if sender.send(delivery).await.is_err() {
                                    return; // the subscription is gone
                                }
                            }
                            Err(error) => tracing::error!(%error, "unreadable JetStream message"),
                        },
                        Err(error) => {
                            tracing::warn!(%error, "JetStream pull interrupted; starting over");
                            break;
                        }
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot pull from JetStream; retrying"),
        }
        if sender.is_closed() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn to_delivery(message: jetstream::Message, prefix: &str) -> anyhow::Result<Delivery> {
    let (attempt, sequence) = match message.info() {
        Ok(info) => (info.delivered, info.stream_sequence),
        Err(error) => {
            tracing::warn!(%error, "a JetStream message without delivery information");
            (1, 0)
        }
    };
    let mut headers = std::collections::BTreeMap::new();
    let mut id = None;
    if let Some(map) = &message.headers {
        for (name, values) in map.iter() {
            let Some(value) = values.first() else {
                continue;
            };
            if *name == async_nats::header::NATS_MESSAGE_ID {
                id = Some(value.as_str().to_owned());
            } else {
                headers.insert(name.to_string(), value.as_str().to_owned());
            }
        }
    }
    let subject = message.subject.as_str();
    let ours = Message {
        // Published without an id (by hand, say): the stream sequence names it, so the listener
        // can still settle or dead-letter it instead of seeing it come back forever.
        id: id.unwrap_or_else(|| format!("stream-sequence-{sequence}")),
        subject: subject.strip_prefix(prefix).unwrap_or(subject).to_owned(),
        payload: message.payload.to_vec(),
        headers,
    };
    let attempt = u32::try_from(attempt).unwrap_or(u32::MAX);
    Ok(Delivery::new(
        ours,
        attempt,
        Box::new(JetStreamAck(message)),
    ))
}

struct JetStreamSubscription {
    receiver: mpsc::Receiver<Delivery>,
    pullers: Vec<JoinHandle<()>>,
    /// The group's consumers, one per subject, asked how much they still owe.
    consumers: Vec<PullConsumer>,
}

impl Drop for JetStreamSubscription {
    fn drop(&mut self) {
        for puller in &self.pullers {
            puller.abort();
        }
    }
}

#[async_trait]
impl Subscription for JetStreamSubscription {
    async fn caught_up(&mut self) -> anyhow::Result<bool> {
        if !self.receiver.is_empty() {
            return Ok(false);
        }
        for consumer in &mut self.consumers {
            let info = consumer
                .info()
                .await
                .map_err(|e| anyhow::anyhow!("reading a JetStream consumer's state: {e}"))?;
            if info.num_pending > 0 || info.num_ack_pending > 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn next(&mut self) -> anyhow::Result<Delivery> {
        self.receiver
            .recv()
            .await
            .context("the subscription's pullers stopped")
    }
}

struct JetStreamAck(jetstream::Message);

impl JetStreamAck {
    /// Waits for the server to confirm, so an acknowledged message is never delivered again.
    async fn settle(&self, kind: AckKind) -> anyhow::Result<()> {
        self.0
            .double_ack_with(kind)
            .await
            .map_err(|e| anyhow::anyhow!("acknowledging a JetStream message: {e}"))
    }
}

#[async_trait]
impl Acknowledge for JetStreamAck {
    async fn ack(&self) -> anyhow::Result<()> {
        self.settle(AckKind::Ack).await
    }

    async fn nak(&self, delay: Duration) -> anyhow::Result<()> {
        self.settle(AckKind::Nak(Some(delay))).await
    }

    async fn term(&self) -> anyhow::Result<()> {
        self.settle(AckKind::Term).await
    }

    async fn in_progress(&self) -> anyhow::Result<()> {
        // Not waited for: a lost heartbeat costs at most a redelivery, which the inbox absorbs.
        self.0
            .ack_with(AckKind::Progress)
            .await
            .map_err(|e| anyhow::anyhow!("telling JetStream a message is in progress: {e}"))
    }
}
