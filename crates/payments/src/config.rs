//! The payments service's settings: which card processor it charges through, the secret that
//! authenticates Stripe's webhook calls, and how sellers' payouts are held and retried.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use crate::provider::stripe::{StripeProvider, CALL_TIMEOUT};
use crate::provider::Providers;

const DEFAULT_STRIPE_API_BASE: &str = "https://api.stripe.com";

/// Payment attempts per buyer per minute unless told otherwise.
const DEFAULT_PAYMENTS_PER_USER_PER_MINUTE: u32 = 10;

/// Payment attempts per client address per minute unless told otherwise: above the per-user
/// budget, so a few people behind one address can still pay, and low enough that one machine
/// cycling through fresh accounts cannot test stolen cards at speed.
const DEFAULT_PAYMENTS_PER_CLIENT_PER_MINUTE: u32 = 30;

/// How long after it began an attempt still in flight is given up on: a day, about as long as
/// Stripe keeps an idempotency key, past which asking again could no longer find the first answer.
const DEFAULT_RECONCILE_GIVE_UP_SECONDS: u64 = 24 * 60 * 60;

/// How long a delivered sale's payout is held after its event starts (or after delivery, for a
/// ticket without an event), unless told otherwise: the design's default.
const DEFAULT_PAYOUT_HOLD_HOURS: f64 = 24.0;

/// The first wait after a failed transfer, unless told otherwise; each later failure doubles it,
/// up to [`crate::payouts::LONGEST_RETRY_WAIT`].
const DEFAULT_PAYOUT_RETRY_SECONDS: u64 = 60;

/// A payout hold: hours, possibly fractional (tests hold for seconds), never negative.
fn hold_hours(text: &str) -> Result<f64, String> {
    let hours: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of hours"))?;
    if hours.is_finite() && (0.0..=24.0 * 366.0).contains(&hours) {
        Ok(hours)
    } else {
        Err(format!("{text:?} is not between 0 and a year of hours"))
    }
}

fn non_zero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).expect("the defaults are not zero")
}

/// Settings of the payments service.
#[derive(Debug, Clone, clap::Args)]
pub struct PaymentsConfig {
    /// Stripe's secret key. Without it, embedded mode uses a simulator of Stripe's test mode
    /// (`tok_visa` pays, `tok_chargeDeclined` is declined); `serve payments` requires it.
    #[arg(long, env = "STRIPE_SECRET_KEY", hide_env_values = true)]
    pub stripe_secret_key: Option<String>,
    /// Stripe's API base URL; point it at a Stripe-compatible server to stand in for Stripe.
    #[arg(long, env = "STRIPE_API_BASE", default_value = DEFAULT_STRIPE_API_BASE)]
    pub stripe_api_base: String,
    /// The API base URL of Stripe Connect's calls (sellers' accounts, transfers), when a
    /// stand-in serves them apart from the payments; default: STRIPE_API_BASE.
    #[arg(long, env = "STRIPE_CONNECT_API_BASE")]
    pub stripe_connect_api_base: Option<String>,
    /// The signing secret of the Stripe webhook endpoint (`whsec_...`); without it the webhook
    /// route refuses every call.
    #[arg(long, env = "STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
    pub stripe_webhook_secret: Option<String>,
    /// The signing secret of the Connect webhook endpoint, which carries the connected
    /// accounts' events (`account.updated`) to the same route; a call signed with either
    /// secret is taken.
    #[arg(long, env = "STRIPE_CONNECT_WEBHOOK_SECRET", hide_env_values = true)]
    pub stripe_connect_webhook_secret: Option<String>,
    /// How long a call to Stripe may take before its outcome counts as unknown (and is settled
    /// later by asking again with the same idempotency key).
    #[arg(long, env = "STRIPE_TIMEOUT_SECONDS", default_value_t = CALL_TIMEOUT.as_secs())]
    pub stripe_timeout_seconds: u64,
    /// Payment attempts one buyer may make per minute, shared by every replica (Redis in
    /// distributed mode); one more is refused with 429.
    #[arg(long, env = "PAYMENTS_PER_USER_PER_MINUTE", default_value_t = non_zero(DEFAULT_PAYMENTS_PER_USER_PER_MINUTE))]
    pub payments_per_user_per_minute: NonZeroU32,
    /// Payment attempts per client address per minute, whoever is signed in (card testing
    /// spreads over many accounts); one more is refused with 429.
    #[arg(long, env = "PAYMENTS_PER_CLIENT_PER_MINUTE", default_value_t = non_zero(DEFAULT_PAYMENTS_PER_CLIENT_PER_MINUTE))]
    pub payments_per_client_per_minute: NonZeroU32,
    /// How long after it began a payment attempt still unsettled (outcome unknown, challenge
    /// open, money held) is given up on: dead-lettered for an operator and counted in
    /// `gittix_payments_given_up_total`, and no longer asked about.
    #[arg(long, env = "RECONCILE_GIVE_UP_SECONDS", default_value_t = DEFAULT_RECONCILE_GIVE_UP_SECONDS)]
    pub reconcile_give_up_seconds: u64,
    /// How long a seller's payout is held after the ticket's event starts, or after delivery
    /// for a ticket without an event (never released before delivery), in hours; fractions
    /// are allowed.
    #[arg(long, env = "PAYOUT_HOLD_HOURS", default_value_t = DEFAULT_PAYOUT_HOLD_HOURS, value_parser = hold_hours)]
    pub payout_hold_hours: f64,
    /// The wait after a payout's transfer fails, in seconds; it doubles with each further
    /// failure, up to an hour.
    #[arg(long, env = "PAYOUT_RETRY_SECONDS", default_value_t = DEFAULT_PAYOUT_RETRY_SECONDS)]
    pub payout_retry_seconds: u64,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            stripe_secret_key: None,
            stripe_api_base: DEFAULT_STRIPE_API_BASE.to_owned(),
            stripe_connect_api_base: None,
            stripe_webhook_secret: None,
            stripe_connect_webhook_secret: None,
            stripe_timeout_seconds: CALL_TIMEOUT.as_secs(),
            payments_per_user_per_minute: non_zero(DEFAULT_PAYMENTS_PER_USER_PER_MINUTE),
            payments_per_client_per_minute: non_zero(DEFAULT_PAYMENTS_PER_CLIENT_PER_MINUTE),
            reconcile_give_up_seconds: DEFAULT_RECONCILE_GIVE_UP_SECONDS,
            payout_hold_hours: DEFAULT_PAYOUT_HOLD_HOURS,
            payout_retry_seconds: DEFAULT_PAYOUT_RETRY_SECONDS,
        }
    }
}

impl PaymentsConfig {
    /// [`Self::payout_hold_hours`] as a duration.
    pub fn payout_hold(&self) -> Duration {
        Duration::from_secs_f64(self.payout_hold_hours * 3600.0)
    }

    /// Stripe when a key is set, else one simulator for both halves.
    pub fn providers(&self) -> Providers {
        let Some(key) = &self.stripe_secret_key else {
            return Providers::simulated();
        };
        let stripe = |base: &str| {
            Arc::new(
                StripeProvider::new(base, key)
                    .with_timeout(Duration::from_secs(self.stripe_timeout_seconds.max(1))),
            )
        };
        let payments = stripe(&self.stripe_api_base);
        let accounts = match &self.stripe_connect_api_base {
            Some(base) => stripe(base),
            None => payments.clone(),
        };
        Providers { payments, accounts }
    }
}
