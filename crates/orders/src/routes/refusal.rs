//! How each refusal of the orders domain is answered: the only place one becomes HTTP.

use gittix_shared::ApiError;

use crate::refusal::Refusal;

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NoSuchTicket | Refusal::NoSuchOrder => ApiError::NotFound,
            Refusal::OwnTicket => ApiError::bad_request("You cannot buy your own ticket"),
            Refusal::AlreadyReserved => ApiError::bad_request("Ticket is already reserved"),
            Refusal::EventStarted => ApiError::bad_request("The event has started"),
            Refusal::NotYourOrder => ApiError::NotAuthorized,
            Refusal::OrderComplete => ApiError::bad_request("Cannot cancel a completed order"),
            Refusal::TooManyHeld { max } => ApiError::bad_request(format!(
                "You already hold {max} unpaid orders; pay for or cancel one first"
            )),
            Refusal::CoolingDown { seconds } => ApiError::bad_request(format!(
                "Your hold on this ticket expired; you can reserve it again in {} minute{}",
                seconds.div_ceil(60),
                if seconds.div_ceil(60) == 1 { "" } else { "s" }
            )),
        }
    }
}
