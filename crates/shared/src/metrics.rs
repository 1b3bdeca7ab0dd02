//! Prometheus metrics: the event machinery's counters, served at `/metrics`.

use std::sync::OnceLock;

use metrics::{counter, gauge};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::time::unix_millis;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder (once) and renders every metric in Prometheus' text format.
pub fn render() -> String {
    HANDLE
        .get_or_init(|| PrometheusBuilder::new().install_recorder().ok())
        .as_ref()
        .map(PrometheusHandle::render)
        .unwrap_or_default()
}

/// Installs the recorder now, so metrics recorded before the first scrape are kept.
pub fn install() {
    let _ = render();
}

pub fn published(subject: &str) {
    counter!("gittix_events_published_total", "subject" => subject.to_owned()).increment(1);
}

pub fn delivered(group: &str, subject: &str, attempt: u32) {
    let labels = [("group", group.to_owned()), ("subject", subject.to_owned())];
    counter!("gittix_events_delivered_total", &labels).increment(1);
    if attempt > 1 {
        counter!("gittix_events_redelivered_total", &labels).increment(1);
    }
}

pub fn dead_lettered(group: &str, subject: &str) {
    let labels = [("group", group.to_owned()), ("subject", subject.to_owned())];
    counter!("gittix_events_dead_lettered_total", &labels).increment(1);
}

/// Reconciliation gave up on a payment attempt still in flight long after it began (it was
/// dead-lettered for an operator).
pub fn payment_given_up() {
    counter!("gittix_payments_given_up_total").increment(1);
}

/// A transfer of a seller's payout failed (it is retried with backoff).
pub fn payout_transfer_failed() {
    counter!("gittix_payout_transfer_failures_total").increment(1);
}

/// Stripe reported a dispute (a chargeback) on one of the platform's charges.
pub fn dispute_reported() {
    counter!("gittix_disputes_total").increment(1);
}

/// An email of `kind` reached the mail server (or its file).
pub fn email_sent(kind: &'static str) {
    counter!("gittix_emails_sent_total", "kind" => kind).increment(1);
}

/// The mail server failed an email for now; it is tried again later.
pub fn email_deferred(kind: &'static str) {
    counter!("gittix_emails_deferred_total", "kind" => kind).increment(1);
}

/// An email was given up: refused for good, or unsent after every retry.
pub fn email_failed(kind: &'static str) {
    counter!("gittix_emails_failed_total", "kind" => kind).increment(1);
}

/// How old the oldest unpublished outbox event is, in seconds (0 when the outbox is empty).
pub fn outbox_lag(oldest_occurred_at_ms: Option<i64>) {
    let lag_ms = oldest_occurred_at_ms.map_or(0, |at| (unix_millis() - at).max(0));
    // Lossless enough: the lag is far below 2^52 ms.
    #[allow(clippy::cast_precision_loss)]
    gauge!("gittix_outbox_lag_seconds").set(lag_ms as f64 / 1000.0);
}
