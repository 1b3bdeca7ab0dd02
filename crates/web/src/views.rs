//! What the templates show: the layout around every page, and tickets and orders as the APIs
//! send them, with their labels worked out here rather than in the templates.

use askama::Template;
use axum::response::Html;
use serde::Deserialize;

use crate::errors::PageError;

pub(crate) fn render(page: &impl Template) -> Result<Html<String>, PageError> {
    Ok(Html(page.render()?))
}

/// The signed-in user, as `GET /api/users/currentuser` tells.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct User {
    pub id: String,
    pub email: String,
    /// Whether the account confirmed its email (the account page offers the link again).
    #[serde(rename = "emailVerified", default)]
    pub email_verified: bool,
}

/// The header and the form token every page needs.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub user: Option<User>,
    pub form_token: String,
    /// False on error pages, where the visitor's state is not known: the header shows only
    /// the way home.
    pub show_nav: bool,
}

impl Layout {
    pub(crate) fn neutral() -> Self {
        Self {
            user: None,
            form_token: String::new(),
            show_nav: false,
        }
    }

    pub(crate) fn is_signed_in(&self) -> bool {
        self.user.is_some()
    }
}

/// A ticket as the tickets API sends it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Ticket {
    pub id: String,
    pub title: String,
    pub price: f64,
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub status: String,
    /// What a buyer pays (the price when an older API leaves it out).
    #[serde(default)]
    pub total_price: Option<f64>,
    #[serde(default)]
    pub section: Option<String>,
    #[serde(default)]
    pub row: Option<String>,
    #[serde(default)]
    pub seat: Option<String>,
    #[serde(default)]
    pub face_value: Option<f64>,
    #[serde(default)]
    pub event: Option<TicketEvent>,
    /// Shown to its seller and buyer only: `awaiting`, `delivered` or `undelivered`.
    #[serde(default)]
    pub delivery: Option<String>,
    #[serde(default)]
    pub delivery_due_at: Option<String>,
    /// Shown to its seller only.
    #[serde(default)]
    pub has_file: Option<bool>,
}

/// The event a ticket is for, as the ticket embeds it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TicketEvent {
    pub id: String,
    pub name: String,
    pub venue: String,
    pub city: String,
    pub starts_at: String,
}

impl TicketEvent {
    pub(crate) fn when_label(&self) -> String {
        when_label(&self.starts_at)
    }
}

/// An event as the events API sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Event {
    pub id: String,
    pub name: String,
    pub venue: String,
    pub city: String,
    pub starts_at: String,
    #[serde(default)]
    pub tickets_for_sale: i64,
    #[serde(default)]
    pub lowest_price: Option<f64>,
}

impl Event {
    pub(crate) fn when_label(&self) -> String {
        when_label(&self.starts_at)
    }

    /// "3 tickets from $45.00", or "No tickets for sale yet".
    pub(crate) fn offer_label(&self) -> String {
        match (self.tickets_for_sale, self.lowest_price) {
            (0, _) | (_, None) => "No tickets for sale yet".to_owned(),
            (1, Some(price)) => format!("1 ticket at {}", dollars(price)),
            (n, Some(price)) => format!("{n} tickets from {}", dollars(price)),
        }
    }
}

/// An ISO-8601 time as a person reads it: `Tue 1 Jun 2027, 18:00 UTC`.
pub(crate) fn when_label(iso: &str) -> String {
    gittix_shared::time::parse_iso8601(iso)
        .map_or_else(|| iso.to_owned(), gittix_shared::time::readable)
}

impl Ticket {
    /// What the buyer pays, first wherever a buyer sees a price (all-in pricing).
    pub(crate) fn price_label(&self) -> String {
        dollars(self.total_price.unwrap_or(self.price))
    }

    /// What the seller asked, for the seller's own views.
    pub(crate) fn asking_label(&self) -> String {
        dollars(self.price)
    }

    /// "Includes a $6.19 service fee", when the total is more than the price.
    pub(crate) fn fee_note(&self) -> Option<String> {
        let fee = self.total_price.unwrap_or(self.price) - self.price;
        // Both are whole cents; anything under half a cent is the doubles' noise.
        (fee >= 0.005).then(|| format!("Includes a {} service fee", dollars(fee)))
    }

    /// "Section B, row K, seat 14", from what is given.
    pub(crate) fn seat_label(&self) -> Option<String> {
        let parts: Vec<String> = [
            ("Section", &self.section),
            ("row", &self.row),
            ("seat", &self.seat),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name} {v}")))
        .collect();
        (!parts.is_empty()).then(|| {
            let mut label = parts.join(", ");
            if let Some(first) = label.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            label
        })
    }

    pub(crate) fn face_value_label(&self) -> Option<String> {
        self.face_value.map(dollars)
    }

    /// Where the ticket's delivery stands, for its seller or buyer.
    pub(crate) fn delivery_label(&self) -> Option<String> {
        let due = self.delivery_due_at.as_deref().map(when_label);
        match (self.delivery.as_deref(), due) {
            (Some("awaiting"), Some(due)) => {
                Some(format!("Awaiting the ticket's file, due by {due}"))
            }
            (Some("awaiting"), None) => Some("Awaiting the ticket's file".to_owned()),
            (Some("delivered"), _) => Some("Delivered".to_owned()),
            (Some("undelivered"), _) => {
                Some("Not delivered in time: the buyer was refunded".to_owned())
            }
            _ => None,
        }
    }

    pub(crate) fn is_delivered(&self) -> bool {
        self.delivery.as_deref() == Some("delivered")
    }

    /// Whether its seller may (still) upload its file: listed, reserved, or sold and awaited.
    pub(crate) fn takes_a_file(&self) -> bool {
        match self.status.as_str() {
            "for_sale" | "reserved" => true,
            "sold" => self.delivery.as_deref() == Some("awaiting"),
            _ => false,
        }
    }

    /// The price as the edit form shows it: `20`, `19.9`.
    pub(crate) fn price_input(&self) -> String {
        self.price.to_string()
    }

    pub(crate) fn status_label(&self) -> &'static str {
        match self.status.as_str() {
            "for_sale" => "For sale",
            "reserved" => "Reserved",
            "sold" => "Sold",
            "withdrawn" => "Withdrawn",
            _ => "Unknown",
        }
    }

    pub(crate) fn is_for_sale(&self) -> bool {
        self.status == "for_sale"
    }
}

/// An order as the orders API sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Order {
    pub id: String,
    pub status: String,
    pub expires_at: String,
    pub ticket: Ticket,
    /// What the buyer pays (the ticket's price when an older API leaves it out).
    #[serde(default)]
    pub total: Option<f64>,
    #[serde(default)]
    pub fees: Option<OrderFees>,
    /// Once complete: `awaiting`, `delivered` or `undelivered`.
    #[serde(default)]
    pub delivery: Option<String>,
}

/// What the buyer pays on top of the ticket's price.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct OrderFees {
    pub buyer: f64,
}

impl Order {
    /// What the buyer pays, all in.
    pub(crate) fn total_label(&self) -> String {
        dollars(self.total.unwrap_or(self.ticket.price))
    }

    /// "Ticket $45.50 + service fee $4.55" when there is a fee.
    pub(crate) fn fee_breakdown(&self) -> Option<String> {
        let fee = self.fees.as_ref().map_or(0.0, |fees| fees.buyer);
        (fee > 0.0).then(|| {
            format!(
                "Ticket {} + service fee {}",
                dollars(self.ticket.price),
                dollars(fee)
            )
        })
    }

    /// Seconds until the lock runs out (negative once it has).
    pub(crate) fn seconds_left(&self) -> i64 {
        let expires = gittix_shared::time::parse_iso8601(&self.expires_at).unwrap_or(0);
        (expires - gittix_shared::time::unix_millis()).div_euclid(1000)
    }

    pub(crate) fn is_payable(&self) -> bool {
        matches!(self.status.as_str(), "created" | "awaiting:payment") && self.seconds_left() > 0
    }

    pub(crate) fn is_complete(&self) -> bool {
        self.status == "complete"
    }

    /// What the buyer of a complete order is told about the ticket itself.
    pub(crate) fn delivery_label(&self) -> Option<&'static str> {
        match self.delivery.as_deref()? {
            "awaiting" => Some("The seller has not uploaded the ticket yet; you can download it here once they do. If they miss the deadline, you are refunded in full."),
            "delivered" => Some("Your ticket is ready."),
            "undelivered" => Some("The seller did not deliver the ticket in time: your payment has been refunded in full."),
            _ => None,
        }
    }

    pub(crate) fn is_delivered(&self) -> bool {
        self.delivery.as_deref() == Some("delivered")
    }

    /// Whether the order ended because its time ran out (or is about to be cancelled for it).
    pub(crate) fn is_expired(&self) -> bool {
        !self.is_complete() && self.seconds_left() <= 0
    }

    pub(crate) fn status_label(&self) -> &'static str {
        match self.status.as_str() {
            _ if self.is_expired() => "Order Expired",
            "created" | "awaiting:payment" => "Awaiting payment",
            "complete" => "Order complete",
            "cancelled" => "Cancelled",
            _ => "Unknown",
        }
    }

    /// `14:59`, for the countdown as first rendered.
    pub(crate) fn time_left_label(&self) -> String {
        let left = self.seconds_left().max(0);
        format!("{}:{:02}", left / 60, left % 60)
    }
}

pub(crate) fn dollars(amount: f64) -> String {
    format!("${amount:.2}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seat_reads_as_a_person_writes_it() {
        let seat = |section: Option<&str>, row: Option<&str>, seat: Option<&str>| {
            Ticket {
                section: section.map(str::to_owned),
                row: row.map(str::to_owned),
                seat: seat.map(str::to_owned),
                ..Ticket::default()
            }
            .seat_label()
        };
        assert_eq!(
            seat(Some("B"), Some("K"), Some("14")).as_deref(),
            Some("Section B, row K, seat 14")
        );
        assert_eq!(
            seat(None, Some("K"), Some("14")).as_deref(),
            Some("Row K, seat 14")
        );
        assert_eq!(seat(None, None, None), None);
        assert_eq!(
            when_label("2027-06-01T18:00:00.000Z"),
            "Tue 1 Jun 2027, 18:00 UTC"
        );
    }

    fn order(status: &str, expires_in_ms: i64) -> Order {
        let at = gittix_shared::time::unix_millis() + expires_in_ms;
        Order {
            id: "o".into(),
            status: status.into(),
            expires_at: gittix_shared::time::iso8601(at),
            ticket: Ticket {
                id: "t".into(),
                title: "Show".into(),
                price: 19.9,
                ..Ticket::default()
            },
            total: None,
            fees: None,
            delivery: None,
        }
    }

    #[test]
    fn a_buyer_sees_the_total_first_and_the_fee_inside_it() {
        let older_api = order("created", 60_000);
        assert_eq!(older_api.total_label(), "$19.90");
        assert_eq!(older_api.fee_breakdown(), None);
        let with_fee = Order {
            total: Some(22.39),
            fees: Some(OrderFees { buyer: 2.49 }),
            ..order("created", 60_000)
        };
        assert_eq!(with_fee.total_label(), "$22.39");
        assert_eq!(
            with_fee.fee_breakdown().as_deref(),
            Some("Ticket $19.90 + service fee $2.49")
        );
        let ticket = |total_price| Ticket {
            price: 49.5,
            total_price,
            ..Ticket::default()
        };
        assert_eq!(ticket(Some(55.69)).price_label(), "$55.69");
        assert_eq!(ticket(Some(55.69)).asking_label(), "$49.50");
        assert_eq!(
            ticket(Some(55.69)).fee_note().as_deref(),
            Some("Includes a $6.19 service fee")
        );
        assert_eq!(ticket(Some(49.5)).fee_note(), None);
        assert_eq!(ticket(None).fee_note(), None);
    }

    #[test]
    fn an_order_past_its_lock_reads_expired_unless_it_completed() {
        assert_eq!(order("created", 90_500).status_label(), "Awaiting payment");
        assert_eq!(order("created", 90_500).time_left_label(), "1:30");
        assert!(order("created", 90_500).is_payable());
        assert_eq!(order("created", -1).status_label(), "Order Expired");
        assert!(!order("created", -1).is_payable());
        assert_eq!(order("cancelled", -1).status_label(), "Order Expired");
        assert_eq!(order("cancelled", 60_000).status_label(), "Cancelled");
        assert_eq!(order("complete", -1).status_label(), "Order complete");
        assert_eq!(order("created", -1).time_left_label(), "0:00");
    }

    #[test]
    fn prices_show_in_dollars_and_cents() {
        assert_eq!(dollars(20.0), "$20.00");
        assert_eq!(dollars(19.9), "$19.90");
    }
}
