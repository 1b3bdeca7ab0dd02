//! The one place a refusal of the tickets domain becomes an HTTP answer.

use gittix_shared::domain::TicketStatus;
use gittix_shared::ApiError;

use crate::refusal::Refusal;

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NoSuchTicket | Refusal::NoSuchEvent => Self::NotFound,
            Refusal::EventExists => Self::bad_request("This event already exists"),
            Refusal::NotTheEventsCreator => Self::NotAuthorized,
            Refusal::EventHasSales => {
                Self::bad_request("An event with sold tickets cannot be changed")
            }
            Refusal::SomeoneElses => Self::NotAuthorized,
            Refusal::NotEditable(TicketStatus::Withdrawn) => {
                Self::bad_request("Cannot edit a withdrawn ticket")
            }
            // Sold too, as the API has always answered.
            Refusal::NotEditable(_) => Self::bad_request("Cannot edit a reserved ticket"),
            Refusal::NotWithdrawable(TicketStatus::Sold) => {
                Self::bad_request("Cannot withdraw a sold ticket")
            }
            Refusal::NotWithdrawable(_) => Self::bad_request("Cannot withdraw a reserved ticket"),
            Refusal::Withdrawn => Self::bad_request("The ticket was withdrawn"),
            Refusal::AlreadyDelivered => Self::bad_request("The ticket has been delivered"),
            Refusal::DeadlinePassed => Self::bad_request("The delivery deadline has passed"),
        }
    }
}
