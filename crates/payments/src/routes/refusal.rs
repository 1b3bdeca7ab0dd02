//! How each refusal of the domain is answered.

use gittix_shared::ApiError;

use crate::refusal::Refusal;

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::UnknownOrder | Refusal::UnknownPayment => Self::NotFound,
            Refusal::NotTheBuyer => Self::NotAuthorized,
            Refusal::NotConfirmed => {
                Self::bad_request("The ticket is not confirmed for this order yet; try again")
            }
            Refusal::OrderCancelled => Self::bad_request("Cannot pay for an cancelled order"),
            Refusal::AlreadyPaid => Self::bad_request("Order has already been paid"),
            Refusal::OrderExpired => Self::bad_request("Order has expired"),
            Refusal::TooManyDeclines => {
                Self::bad_request("Too many declined payments for this order")
            }
            Refusal::AttemptInProgress => {
                Self::bad_request("A payment for this order is already in progress")
            }
            Refusal::Declined(message) => Self::BadRequest(message),
            Refusal::OutcomeUnknown => Self::ProviderUnavailable,
            Refusal::WebhooksNotConfigured => {
                Self::bad_request("Webhooks are not configured (STRIPE_WEBHOOK_SECRET)")
            }
            Refusal::BadSignature => Self::bad_request("Invalid webhook signature"),
            Refusal::NotAStripeEvent => Self::bad_request("Webhook body is not a Stripe event"),
            Refusal::ChargeNotSettled => Self::bad_request("Charge not settled yet; retry later"),
            Refusal::StripeDown => Self::StripeUnavailable,
            Refusal::NoSellerAccount => Self::NotFound,
        }
    }
}
