//! A bus of each test's own, and watching or publishing events on it.

use std::sync::Arc;

use gittix_shared::bus::embedded::EmbeddedBus;
use gittix_shared::bus::jetstream::{JetStreamBus, JetStreamSettings};
use gittix_shared::bus::{Bus, DeliverySettings, Message, Subscription};
use gittix_shared::events::Event;
use gittix_shared::listener::ListenerSettings;
use tempfile::TempDir;

use crate::env::nats_url;

/// The bus adapters, for tests that must hold on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusKind {
    Embedded,
    JetStream,
}

/// A bus of the test's own: a fresh SQLite log, or a fresh stream under a unique subject prefix
/// on the test command's NATS server.
pub struct TestBus {
    pub bus: Arc<dyn Bus>,
    dir: Option<TempDir>,
}

impl TestBus {
    pub async fn new(kind: BusKind) -> Self {
        match kind {
            BusKind::Embedded => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let bus = EmbeddedBus::open(&dir.path().join("bus.db"))
                    .await
                    .expect("opening the embedded bus");
                Self {
                    bus: Arc::new(bus),
                    dir: Some(dir),
                }
            }
            BusKind::JetStream => Self::jetstream(&nats_url()).await,
        }
    }

    /// A fresh stream on the NATS server at `url`.
    pub async fn jetstream(url: &str) -> Self {
        let bus = JetStreamBus::connect(jetstream_test_settings(url))
            .await
            .expect("connecting to NATS");
        Self {
            bus: Arc::new(bus),
            dir: None,
        }
    }

    /// For the embedded bus: the same log opened again, as a restarted process would.
    pub async fn reopen(&self) -> Arc<dyn Bus> {
        let dir = self
            .dir
            .as_ref()
            .expect("only the embedded bus is reopened");
        let bus = EmbeddedBus::open(&dir.path().join("bus.db"))
            .await
            .expect("reopening the embedded bus");
        Arc::new(bus)
    }
}

/// Settings for a stream no other test shares.
pub fn jetstream_test_settings(url: &str) -> JetStreamSettings {
    let unique = uuid::Uuid::new_v4().simple().to_string();
    JetStreamSettings {
        stream: format!("TEST_{unique}"),
        subject_prefix: format!("test{unique}."),
        max_age: std::time::Duration::from_secs(3600),
        ..JetStreamSettings::new(url)
    }
}

/// Watches events on a bus from a consumer group of its own.
pub struct EventLog {
    subscription: Box<dyn Subscription>,
}

impl EventLog {
    pub async fn watch(bus: &dyn Bus, subjects: &[&str]) -> Self {
        let group = format!("observer-{}", uuid::Uuid::new_v4().simple());
        let subjects: Vec<String> = subjects.iter().map(|s| (*s).to_owned()).collect();
        let subscription = bus
            .subscribe(&group, &subjects, &DeliverySettings::default())
            .await
            .expect("subscribing an observer");
        Self { subscription }
    }

    /// The next event (subject and JSON data), failing the test after ten seconds.
    pub async fn next(&mut self) -> (String, serde_json::Value) {
        let delivery =
            tokio::time::timeout(std::time::Duration::from_secs(10), self.subscription.next())
                .await
                .expect("no event arrived")
                .expect("the observer's subscription failed");
        let message = delivery.message.clone();
        delivery.ack().await.expect("acknowledging");
        let data = serde_json::from_slice(&message.payload).expect("a JSON event");
        (message.subject, data)
    }

    /// The next event within `window`, or `None`.
    pub async fn next_within(
        &mut self,
        window: std::time::Duration,
    ) -> Option<(String, serde_json::Value)> {
        let delivery = tokio::time::timeout(window, self.subscription.next())
            .await
            .ok()?
            .expect("the observer's subscription failed");
        let message = delivery.message.clone();
        delivery.ack().await.expect("acknowledging");
        let data = serde_json::from_slice(&message.payload).expect("a JSON event");
        Some((message.subject, data))
    }

    /// Fails the test if an event arrives within `window`.
    pub async fn expect_none(&mut self, window: std::time::Duration) {
        if let Ok(Ok(delivery)) = tokio::time::timeout(window, self.subscription.next()).await {
            panic!(
                "unexpected event {}: {}",
                delivery.message.subject,
                String::from_utf8_lossy(&delivery.message.payload)
            );
        }
    }
}

/// Publishes `event` on `bus` with a fresh id, as its owning service's relay would; returns the id.
pub async fn publish_event<E: Event>(bus: &dyn Bus, event: &E) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let payload = serde_json::to_vec(event).expect("serializing an event");
    bus.publish(&Message::new(id.clone(), E::SUBJECT, payload))
        .await
        .expect("publishing an event");
    id
}

/// Listener settings for tests: the defaults, with short retry delays.
pub fn quick_listener_settings() -> ListenerSettings {
    ListenerSettings {
        first_retry_delay: std::time::Duration::from_millis(20),
        max_retry_delay: std::time::Duration::from_millis(200),
        max_deliveries: 50,
        ..ListenerSettings::default()
    }
}
