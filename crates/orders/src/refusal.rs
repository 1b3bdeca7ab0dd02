//! Every way the orders domain refuses a request. `routes/` alone says how each is answered.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The replica does not know the ticket, or its seller withdrew it.
    NoSuchTicket,
    /// The buyer is the ticket's seller.
    OwnTicket,
    /// Another active order holds the ticket, or it is sold.
    AlreadyReserved,
    /// The ticket's event has started: its sale is closed.
    EventStarted,
    /// No order has this id.
    NoSuchOrder,
    /// The order is another user's.
    NotYourOrder,
    /// The order is complete: it can no longer be cancelled.
    OrderComplete,
    /// The buyer already holds the most unpaid orders allowed (`MAX_HELD_TICKETS`).
    TooManyHeld { max: i64 },
    /// The buyer's hold on this ticket expired moments ago; they may take it again after this
    /// many seconds.
    CoolingDown { seconds: u64 },
}
