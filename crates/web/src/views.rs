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
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Ticket {
    pub id: String,
    pub title: String,
    pub price: f64,
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub status: String,
}

impl Ticket {
    pub(crate) fn price_label(&self) -> String {
        dollars(self.price)
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
}

impl Order {
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
                user_id: String::new(),
                status: String::new(),
            },
        }
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
