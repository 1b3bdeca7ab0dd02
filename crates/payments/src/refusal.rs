//! Every way the payments service refuses a request, in the domain's words; `routes/` alone
//! decides how each one is answered.

use gittix_shared::DomainError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No order has this id (yet: payments learns of orders through events).
    UnknownOrder,
    /// No payment attempt has this id (or, for a challenge, GitTix does not play it: Stripe.js
    /// does).
    UnknownPayment,
    /// The order is another user's.
    NotTheBuyer,
    /// The tickets service has not confirmed the reservation (yet): the order cannot be paid.
    NotConfirmed,
    OrderCancelled,
    AlreadyPaid,
    OrderExpired,
    /// The order's card was declined `MAX_DECLINED_ATTEMPTS` times.
    TooManyDeclines,
    /// Another attempt for the order has not been settled yet.
    AttemptInProgress,
    /// The card was declined, with the processor's message for the buyer.
    Declined(String),
    /// The processor did not answer, so whether the card was charged is not known yet; the
    /// reconciliation loop asks again and settles the attempt.
    OutcomeUnknown,
    /// No webhook signing secret is configured.
    WebhooksNotConfigured,
    /// The webhook's signature is missing, wrong or stale.
    BadSignature,
    NotAStripeEvent,
    /// A webhook is about an attempt whose outcome is not known here yet: Stripe sends it again.
    ChargeNotSettled,
    /// Stripe did not answer a call about a seller's account; nothing changed.
    StripeDown,
    /// The caller has no seller account (yet), or GitTix does not play its onboarding (Stripe's
    /// hosted form does).
    NoSellerAccount,
}

impl From<Refusal> for DomainError<Refusal> {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}
