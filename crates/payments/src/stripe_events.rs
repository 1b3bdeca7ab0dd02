//! What Stripe's webhook reports about our payments. A PaymentIntent that changed
//! (`payment_intent.*`: a 3-D Secure challenge answered, a hold captured or cancelled) moves its
//! attempt on, from what Stripe says the intent is now, so the events may come in any order; a
//! refund made in Stripe's dashboard marks the charge refunded (and publishes
//! `charge:refunded`); a dispute is recorded. Each event is applied once, however often Stripe
//! delivers it.

use gittix_shared::DomainResult;

use crate::payments::Payments;
use crate::provider::accounts::Account;
use crate::refusal::Refusal;
use crate::seller_accounts::SellerAccounts;
use crate::store::{ChargeStatus, PaymentStore};
use crate::webhook::{verify, StripeEvent};

#[derive(Clone)]
pub(crate) struct StripeEvents {
    payments: Payments,
    accounts: SellerAccounts,
    store: PaymentStore,
    /// The signing secrets of the webhook endpoints (the platform's, and Connect's when set);
    /// without one every call is refused.
    secrets: Vec<String>,
}

/// What became of a webhook call.
pub(crate) enum Receipt {
    Applied,
    /// Received before: nothing changed.
    Duplicate,
}

impl StripeEvents {
    pub(crate) fn new(payments: Payments, accounts: SellerAccounts, secrets: Vec<String>) -> Self {
        Self {
            store: payments.store.clone(),
            payments,
            accounts,
            secrets,
        }
    }

    /// Checks `signature` (the `Stripe-Signature` header) against `body` at `now` (unix
    /// seconds), then applies the event the body carries.
    pub(crate) async fn receive(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> DomainResult<Receipt, Refusal> {
        if self.secrets.is_empty() {
            return Err(Refusal::WebhooksNotConfigured.into());
        }
        let signed = self
            .secrets
            .iter()
            .any(|secret| verify(secret, signature, body, now).is_ok());
        if !signed {
            return Err(Refusal::BadSignature.into());
        }
        let event: StripeEvent =
            serde_json::from_slice(body).map_err(|_| Refusal::NotAStripeEvent)?;
        if self.store.webhook_event_seen(&event.id).await? {
            return Ok(Receipt::Duplicate);
        }
        let object = &event.data.object;
        match event.kind.as_str() {
            "payment_intent.succeeded"
            | "payment_intent.amount_capturable_updated"
            | "payment_intent.payment_failed"
            | "payment_intent.canceled"
            | "payment_intent.requires_action" => self.intent_changed(object).await?,
            "charge.refunded" => self.refunded(object).await?,
            "account.updated" => {
                self.accounts.updated(&account_of(object)).await?;
            }
            "charge.dispute.created" | "charge.dispute.updated" | "charge.dispute.closed" => {
                if event.kind == "charge.dispute.created" {
                    gittix_shared::metrics::dispute_reported();
                }
                self.disputed(object).await?;
            }
            other => tracing::debug!(kind = other, "webhook event ignored"),
        }
        // Recorded after its effect (which is idempotent), so a crash in between only repeats it.
        self.store
            .record_webhook_event(&event.id, &event.kind)
            .await?;
        Ok(Receipt::Applied)
    }

    /// One of our intents changed: its attempt goes on from what Stripe says of it now. An
    /// attempt whose first call to Stripe has not returned yet is left to that call (or to
    /// reconciliation, if its process died).
    async fn intent_changed(&self, intent: &serde_json::Value) -> Result<(), sqlx::Error> {
        let ours = match intent
            .pointer("/metadata/gittix_charge_id")
            .and_then(serde_json::Value::as_str)
        {
            Some(id) => self.store.charge_by_id(id).await?,
            None => self.store.charge_by_stripe_id(&text(intent, "id")).await?,
        };
        if let Some(ours) = ours {
            if matches!(
                ours.status,
                ChargeStatus::RequiresAction | ChargeStatus::Authorized
            ) {
                self.payments.advance(&ours.id).await?;
            }
        }
        Ok(())
    }

    /// A charge refunded in Stripe: ours (found by the charge's `payment_intent`) moves to
    /// refunded.
    async fn refunded(&self, charge: &serde_json::Value) -> DomainResult<(), Refusal> {
        // Our attempt's id when Stripe copied the intent's metadata, else the intent, which is
        // what GitTix records as the attempt's Stripe id.
        let ours = match charge
            .pointer("/metadata/gittix_charge_id")
            .and_then(serde_json::Value::as_str)
        {
            Some(id) => self.store.charge_by_id(id).await?,
            None => {
                self.store
                    .charge_by_stripe_id(&text(charge, "payment_intent"))
                    .await?
            }
        };
        let Some(ours) = ours else {
            return Ok(());
        };
        if charge.get("refunded").and_then(serde_json::Value::as_bool) == Some(false) {
            // A partial refund from Stripe's dashboard: GitTix refunds whole totals only, and
            // its records (the charge, the payout, the ledger) cannot hold part of one. Left for
            // an operator (docs/money.md), acknowledged so Stripe stops sending it.
            tracing::error!(charge_id = %ours.id, order_id = %ours.order_id,
                amount_refunded = ?charge.get("amount_refunded"),
                "a partial refund was made in Stripe's dashboard; GitTix records whole refunds only");
            return Ok(());
        }
        if matches!(
            ours.status,
            ChargeStatus::Created | ChargeStatus::RequiresAction | ChargeStatus::Authorized
        ) {
            // Our attempt is not settled yet; refuse so Stripe sends it again.
            return Err(Refusal::ChargeNotSettled.into());
        }
        let refund_id = charge
            .pointer("/refunds/data/0/id")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("refunded-in-stripe");
        // Only a completed charge moves to refunded; one refunded by GitTix stays as is.
        Ok(self.store.refunded(&ours, refund_id).await?)
    }

    async fn disputed(&self, dispute: &serde_json::Value) -> Result<(), sqlx::Error> {
        let amount = dispute
            .get("amount")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or_default();
        self.store
            .record_dispute(
                &text(dispute, "id"),
                &text(dispute, "charge"),
                &text(dispute, "reason"),
                &text(dispute, "status"),
                amount,
            )
            .await?;
        tracing::warn!(dispute = %text(dispute, "id"), charge = %text(dispute, "charge"), "a charge is disputed");
        Ok(())
    }
}

/// A connected account, as `account.updated` carries it.
fn account_of(object: &serde_json::Value) -> Account {
    let flag = |field: &str| {
        object
            .get(field)
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    };
    Account {
        id: text(object, "id"),
        payouts_enabled: flag("payouts_enabled"),
        details_submitted: flag("details_submitted"),
    }
}

/// A text field of a Stripe object, empty when absent.
fn text(object: &serde_json::Value, field: &str) -> String {
    object
        .get(field)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned()
}
