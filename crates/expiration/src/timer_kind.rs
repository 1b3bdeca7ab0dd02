//! What a stored timer is for, written into its key: an order's lock (the key is the order id,
//! as it always was, so timers stored by an older version still fire), a sold ticket's delivery
//! deadline (`delivery:{ticketId}:{orderId}`) or a seller's payout release (`payout:{payoutId}`). Each kind fires its own event, with a message id
//! derived from the key, so firing twice is dropped by the bus.

use gittix_shared::bus::{header, Message};
use gittix_shared::events::{DeliveryDue, Event, OrderExpired, PayoutDue};

const DELIVERY_PREFIX: &str = "delivery:";
const PAYOUT_PREFIX: &str = "payout:";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerKind {
    /// `order:expired` when the order's lock window ends.
    OrderLock { order_id: String },
    /// `delivery:due` when a sold ticket's delivery deadline passes.
    Delivery { ticket_id: String, order_id: String },
    /// `payout:due` when a seller's payout may be released.
    Payout { payout_id: String },
}

impl TimerKind {
    pub fn key(&self) -> String {
        match self {
            Self::OrderLock { order_id } => order_id.clone(),
            Self::Delivery {
                ticket_id,
                order_id,
            } => format!("{DELIVERY_PREFIX}{ticket_id}:{order_id}"),
            Self::Payout { payout_id } => format!("{PAYOUT_PREFIX}{payout_id}"),
        }
    }

    /// The timer a stored key names. Ids are UUIDs, with no `:` in them.
    pub fn from_key(key: &str) -> Option<Self> {
        if let Some(payout_id) = key.strip_prefix(PAYOUT_PREFIX) {
            return (!payout_id.is_empty() && !payout_id.contains(':')).then(|| Self::Payout {
                payout_id: payout_id.to_owned(),
            });
        }
        match key.strip_prefix(DELIVERY_PREFIX) {
            Some(rest) => {
                let (ticket_id, order_id) = rest.split_once(':')?;
                Some(Self::Delivery {
                    ticket_id: ticket_id.to_owned(),
                    order_id: order_id.to_owned(),
                })
            }
            None if !key.contains(':') => Some(Self::OrderLock {
                order_id: key.to_owned(),
            }),
            None => None,
        }
    }

    /// The event this timer fires, at `now` (ms): like every event, it says when it happened.
    pub fn message(&self, now: i64) -> anyhow::Result<Message> {
        let mut message = match self {
            Self::OrderLock { order_id } => {
                let event = OrderExpired {
                    order_id: order_id.clone(),
                };
                Message::new(
                    format!("order-expired.{order_id}"),
                    OrderExpired::SUBJECT,
                    serde_json::to_vec(&event)?,
                )
            }
            Self::Delivery {
                ticket_id,
                order_id,
            } => {
                let event = DeliveryDue {
                    ticket_id: ticket_id.clone(),
                    order_id: order_id.clone(),
                };
                Message::new(
                    format!("delivery-due.{ticket_id}.{order_id}"),
                    DeliveryDue::SUBJECT,
                    serde_json::to_vec(&event)?,
                )
            }
            Self::Payout { payout_id } => {
                let event = PayoutDue {
                    id: payout_id.clone(),
                };
                Message::new(
                    format!("payout-due.{payout_id}"),
                    PayoutDue::SUBJECT,
                    serde_json::to_vec(&event)?,
                )
            }
        };
        message
            .headers
            .insert(header::OCCURRED_AT.to_owned(), now.to_string());
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_reads_back_as_its_timer() {
        let id = "0192d3a4-0000-7000-8000-000000000001";
        for kind in [
            TimerKind::OrderLock {
                order_id: id.into(),
            },
            TimerKind::Delivery {
                ticket_id: id.into(),
                order_id: "0192d3a4-0000-7000-8000-000000000002".into(),
            },
            TimerKind::Payout {
                payout_id: id.into(),
            },
        ] {
            assert_eq!(TimerKind::from_key(&kind.key()), Some(kind));
        }
        // An order lock's key is the order id alone, as older versions stored it.
        assert_eq!(
            TimerKind::from_key(id),
            Some(TimerKind::OrderLock {
                order_id: id.into()
            })
        );
        assert_eq!(TimerKind::from_key("refund:x"), None);
        assert_eq!(TimerKind::from_key("payout:"), None);
    }
}
