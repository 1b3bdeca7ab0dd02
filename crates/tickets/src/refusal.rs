//! Every way the tickets domain refuses a request. What each one answers over HTTP is decided in
//! `routes/refusal.rs`, and only there.

use gittix_shared::domain::TicketStatus;
use gittix_shared::error::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No ticket has this id.
    NoSuchTicket,
    /// The ticket is another user's.
    SomeoneElses,
    /// Only a ticket for sale can be edited; this one is reserved, sold or withdrawn.
    NotEditable(TicketStatus),
    /// Only a ticket for sale can be withdrawn; this one is reserved or sold.
    NotWithdrawable(TicketStatus),
    /// No event has this id.
    NoSuchEvent,
    /// An event with the same name, venue and start exists.
    EventExists,
    /// The event is another user's.
    NotTheEventsCreator,
    /// A ticket for the event has sold: what the buyer bought stays as it was.
    EventHasSales,
    /// The seller withdrew the ticket: no file is taken for it.
    Withdrawn,
    /// The ticket's file reached its buyer: it can no longer be replaced.
    AlreadyDelivered,
    /// The delivery deadline passed: the buyer was (or is being) refunded.
    DeadlinePassed,
}

impl From<Refusal> for DomainError<Refusal> {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}
