//! Words and numbers of the domain that more than one service uses: the statuses events carry,
//! why an order was cancelled, and the limits every service applies the same way. Each status
//! has one spelling, for the API, the events and the databases (see [`crate::wire_enum!`]).

crate::wire_enum! {
    /// Where a ticket stands (design, section 5).
    pub enum TicketStatus {
        ForSale = "for_sale",
        /// An active order holds it.
        Reserved = "reserved",
        /// Its order completed.
        Sold = "sold",
        /// Its seller took it off the market.
        Withdrawn = "withdrawn",
    }
}

crate::wire_enum! {
    /// An order's life: `created`, (`awaiting:payment`,) then `complete` or `cancelled`.
    pub enum OrderStatus {
        Created = "created",
        AwaitingPayment = "awaiting:payment",
        Complete = "complete",
        Cancelled = "cancelled",
    }
}

impl OrderStatus {
    /// Complete or cancelled: nothing changes it any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Complete | Self::Cancelled)
    }
}

crate::wire_enum! {
    /// Why an order ended without a sale (`order:cancelled`'s `reason`).
    pub enum CancelReason {
        /// The buyer cancelled it.
        Cancelled = "cancelled",
        /// Its lock window ran out unpaid.
        Expired = "expired",
        /// Its card was declined [`MAX_DECLINED_ATTEMPTS`] times.
        PaymentFailed = "payment_failed",
        /// The seller changed or withdrew the ticket before the tickets service confirmed the
        /// reservation: the buyer may order again at the new terms.
        TicketChanged = "ticket_changed",
    }
}

crate::wire_enum! {
    /// Where the delivery of a sold ticket stands (design, section 5): the seller's file reached
    /// the buyer, or is still awaited, or the deadline passed without it (the buyer is refunded).
    pub enum Delivery {
        Awaiting = "awaiting",
        Delivered = "delivered",
        Undelivered = "undelivered",
    }
}

/// Declined payment attempts after which an order is cancelled (`payment_failed`): payments
/// refuses a further attempt, and orders cancels on the attempt that reaches it.
pub const MAX_DECLINED_ATTEMPTS: u32 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_one_spelling() {
        for status in OrderStatus::ALL {
            let json = serde_json::to_string(status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(serde_json::from_str::<OrderStatus>(&json).unwrap(), *status);
            assert_eq!(OrderStatus::parse(status.as_str()), Some(*status));
        }
        assert_eq!(OrderStatus::AwaitingPayment.as_str(), "awaiting:payment");
        assert_eq!(TicketStatus::parse("for_sale"), Some(TicketStatus::ForSale));
        assert!(serde_json::from_str::<TicketStatus>("\"on_sale\"").is_err());
        assert_eq!(
            CancelReason::parse("payment_failed"),
            Some(CancelReason::PaymentFailed)
        );
    }
}
