//! Running a consumer group: decode each delivery into its event type, run the service's
//! handler, and settle the delivery. A message that keeps failing goes to the group's
//! dead-letter subject with its error after a bounded number of deliveries, so nothing retries
//! forever and a poison message never blocks the ones behind it.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::bus::{dead_letter_subject, header, Bus, Delivery, DeliverySettings, Message};
use crate::events::Event;

/// What a handler made of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Applied, or recognised as already applied: acknowledge.
    Done,
    /// Cannot be applied yet (a predecessor is missing): deliver again later.
    NotYet,
}

/// An event as a handler receives it.
#[derive(Debug, Clone)]
pub struct Received<E> {
    /// The event id: record it in the inbox with the effect.
    pub id: String,
    pub data: E,
    /// Which delivery this is, from 1.
    pub attempt: u32,
}

#[derive(Debug, Clone)]
pub struct ListenerSettings {
    pub delivery: DeliverySettings,
    /// Deliveries after which a failing message is dead-lettered.
    pub max_deliveries: u32,
    /// The delay before the second delivery; it doubles each time up to `max_retry_delay`.
    pub first_retry_delay: Duration,
    pub max_retry_delay: Duration,
    /// Members of the group this process runs, each handling one message at a time.
    pub workers: usize,
}

impl Default for ListenerSettings {
    fn default() -> Self {
        Self {
            delivery: DeliverySettings::default(),
            // 100 ms doubling to a minute, 25 deliveries: a message keeps trying for about 20
            // minutes, so an outage of a database or Redis shorter than that dead-letters nothing.
            max_deliveries: 25,
            first_retry_delay: Duration::from_millis(100),
            max_retry_delay: Duration::from_secs(60),
            workers: 4,
        }
    }
}

impl ListenerSettings {
    fn retry_delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(20);
        (self.first_retry_delay * 2u32.pow(doublings)).min(self.max_retry_delay)
    }
}

/// How long a handler's delivery is kept from redelivery by heartbeats: far longer than any
/// handler needs (a Stripe call gives up after `STRIPE_TIMEOUT_SECONDS`, 30 s by default).
const MAX_HANDLING: Duration = Duration::from_secs(120);

type HandlerFuture = Pin<Box<dyn Future<Output = Result<Outcome, HandlerError>> + Send>>;
type Handler = Arc<dyn Fn(Message, u32) -> HandlerFuture + Send + Sync>;

enum HandlerError {
    /// The payload is not the event it claims to be: retrying cannot help.
    Undecodable(serde_json::Error),
    Failed(anyhow::Error),
}

/// A consumer group of one service, with a handler per subject.
pub struct Listener {
    bus: Arc<dyn Bus>,
    group: String,
    settings: ListenerSettings,
    handlers: HashMap<String, Handler>,
}

impl Listener {
    pub fn new(bus: Arc<dyn Bus>, group: impl Into<String>, settings: ListenerSettings) -> Self {
        Self {
            bus,
            group: group.into(),
            settings,
            handlers: HashMap::new(),
        }
    }

    /// Handles every `E` with `handler`.
    pub fn on<E, F, Fut>(mut self, handler: F) -> Self
    where
        E: Event,
        F: Fn(Received<E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<Outcome>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let erased: Handler = Arc::new(move |message: Message, attempt: u32| {
            let handler = handler.clone();
            Box::pin(async move {
                let data: E =
                    serde_json::from_slice(&message.payload).map_err(HandlerError::Undecodable)?;
                let received = Received {
                    id: message.id,
                    data,
                    attempt,
                };
                handler(received).await.map_err(HandlerError::Failed)
            })
        });
        self.handlers.insert(E::SUBJECT.to_owned(), erased);
        self
    }

    /// Joins the group with `workers` members and handles messages until `shutdown` fires; a
    /// member then finishes the message in hand and stops before taking the next.
    pub async fn start(self, shutdown: CancellationToken) -> anyhow::Result<Vec<JoinHandle<()>>> {
        let subjects: Vec<String> = self.handlers.keys().cloned().collect();
        let shared = Arc::new(self);
        let mut workers = Vec::new();
        for _ in 0..shared.settings.workers.max(1) {
            let mut subscription = shared
                .bus
                .subscribe(&shared.group, &subjects, &shared.settings.delivery)
                .await?;
            let listener = shared.clone();
            let shutdown = shutdown.clone();
            workers.push(tokio::spawn(async move {
                loop {
                    // A delivery taken but not handled when the shutdown fires comes back after
                    // its ack wait, to this process's successor or another replica.
                    let next = tokio::select! {
                        biased;
                        () = shutdown.cancelled() => return,
                        next = subscription.next() => next,
                    };
                    match next {
                        Ok(delivery) => listener.settle(delivery).await,
                        Err(error) => {
                            tracing::error!(group = %listener.group, %error, "consumer stopped receiving; retrying");
                            tokio::select! {
                                () = shutdown.cancelled() => return,
                                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                            }
                        }
                    }
                }
            }));
        }
        Ok(workers)
    }

    async fn settle(&self, delivery: Delivery) {
        let message = &delivery.message;
        let span = tracing::info_span!(
            "event",
            group = %self.group,
            subject = %message.subject,
            event_id = %message.id,
            attempt = delivery.attempt,
                        request_id = message.header(header::REQUEST_ID).unwrap_or_default(),
            trace_id = message
                .header(header::TRACEPARENT)
                .and_then(crate::trace::trace_id_of)
                .unwrap_or_default(),
        );
        let result = self.handle(delivery).instrument(span.clone()).await;
        if let Err(error) = result {
            // The delivery stays unsettled and comes back after its ack wait.
            span.in_scope(|| tracing::error!(%error, "could not settle a delivery"));
        }
    }

    async fn handle(&self, delivery: Delivery) -> anyhow::Result<()> {
        let max = self.settings.max_deliveries;
        if delivery.attempt > max {
            // Delivered more often than allowed without being settled: the handler crashed or
            // hung each time. Give up without running it again.
            let reason = format!("not settled after {max} deliveries");
            return self.dead_letter(delivery, &reason).await;
        }
        let Some(handler) = self.handlers.get(&delivery.message.subject) else {
            return self
                .dead_letter(delivery, "no handler for this subject")
                .await;
        };
        crate::metrics::delivered(&self.group, &delivery.message.subject, delivery.attempt);
        match self.with_heartbeats(&delivery, handler).await {
            Ok(Outcome::Done) => delivery.ack().await,
            Ok(Outcome::NotYet) if delivery.attempt < max => {
                tracing::debug!("not applicable yet; will retry");
                let delay = self.settings.retry_delay(delivery.attempt);
                delivery.nak(delay).await
            }
            Ok(Outcome::NotYet) => {
                let reason = format!(
                    "still not applicable after {max} deliveries (a predecessor never arrived)"
                );
                self.dead_letter(delivery, &reason).await
            }
            Err(HandlerError::Undecodable(error)) => {
                self.dead_letter(delivery, &format!("undecodable payload: {error}"))
                    .await
            }
            Err(HandlerError::Failed(error)) if delivery.attempt < max => {
                tracing::warn!(error = format!("{error:#}"), "handler failed; will retry");
                let delay = self.settings.retry_delay(delivery.attempt);
                delivery.nak(delay).await
            }
            Err(HandlerError::Failed(error)) => {
                self.dead_letter(delivery, &format!("{error:#}")).await
            }
        }
    }

    /// Runs the handler, telling the bus every quarter of the ack wait that the delivery is still
    /// being worked on, so a slow handler (a card processor taking its time) keeps its message
    /// while the ack wait stays short enough for a crashed member's messages to come back soon.
    async fn with_heartbeats(
        &self,
        delivery: &Delivery,
        handler: &Handler,
    ) -> Result<Outcome, HandlerError> {
        let work = handler(delivery.message.clone(), delivery.attempt);
        tokio::pin!(work);
        let beat = (self.settings.delivery.ack_wait / 4).max(Duration::from_millis(50));
        // A handler that hangs stops being vouched for: its message is then delivered again,
        // counts towards the dead-letter bound, and nothing is held forever.
        let vouch_until = tokio::time::Instant::now() + MAX_HANDLING;
        loop {
            tokio::select! {
                outcome = &mut work => return outcome,
                () = tokio::time::sleep(beat) => {
                    if tokio::time::Instant::now() >= vouch_until {
                        return work.await;
                    }
                    if let Err(error) = delivery.in_progress().await {
                        tracing::warn!(%error, "could not extend a delivery's ack wait");
                    }
                }
            }
        }
    }

    /// Publishes the message to the group's dead-letter subject with the reason, then
    /// terminates the delivery. If the publish fails, the delivery is left to come back.
    async fn dead_letter(&self, delivery: Delivery, reason: &str) -> anyhow::Result<()> {
        let original = &delivery.message;
        let mut headers = original.headers.clone();
        headers.insert(header::DEAD_LETTER_ERROR.to_owned(), reason.to_owned());
        headers.insert(
            header::ORIGINAL_SUBJECT.to_owned(),
            original.subject.clone(),
        );
        headers.insert(header::DELIVERIES.to_owned(), delivery.attempt.to_string());
        let letter = Message {
            id: format!("{}.dead.{}", original.id, self.group),
            subject: dead_letter_subject(&self.group),
            payload: original.payload.clone(),
            headers,
        };
        self.bus.publish(&letter).await?;
        tracing::error!(reason, "message dead-lettered");
        crate::metrics::dead_lettered(&self.group, &original.subject);
        delivery.term().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_double_up_to_the_cap() {
        let settings = ListenerSettings {
            first_retry_delay: Duration::from_millis(100),
            max_retry_delay: Duration::from_millis(500),
            ..ListenerSettings::default()
        };
        let delays: Vec<u128> = (1..=5)
            .map(|a| settings.retry_delay(a).as_millis())
            .collect();
        assert_eq!(delays, [100, 200, 400, 500, 500]);
    }
}
