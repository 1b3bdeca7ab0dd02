//! The ledger (design, section 8): for every order that took money,
//! `charged = refunded + paid_out + held + fees`, to the cent, once it is settled. Read from the
//! payments database alone, for the tests, the bench's correctness counters and the fault
//! suite; docs/money.md says how an operator reconciles it with Stripe's balance.
//!
//! Each term comes from its own record, so the equation checks them against each other:
//! `charged` and `refunded` from the captured payments, `paid_out` and `held` from the payouts
//! (a sale not delivered yet, which has no payout, holds the seller's share of the order's
//! price), and `fees` from the order's buyer fee and the sale's seller fee while the sale
//! stands. A refunded sale keeps no fee and pays nothing out.

use std::collections::BTreeMap;

use gittix_shared::db::Db;
use gittix_shared::domain::OrderStatus;

use crate::payouts::store::PayoutStatus;
use crate::store::ChargeStatus;

/// One order's money, in cents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerLine {
    pub order_id: String,
    /// Captured from the buyer (refunded or not).
    pub charged: i64,
    /// Given back to the buyer.
    pub refunded: i64,
    /// Transferred to the seller and not taken back.
    pub paid_out: i64,
    /// The seller's share, not transferred yet.
    pub held: i64,
    /// What the platform keeps: the buyer fee and the seller fee of a sale that stands.
    pub fees: i64,
    /// Why the order's money is still moving (a payment in flight, a refund or a reversal under
    /// way); `None` once settled, when the equation must hold.
    pub unsettled: Option<&'static str>,
    /// Why the payout disagrees with the order's terms (its amount and fee are not the order's
    /// price split by the sale's seller fee), if it does: unbalanced, whatever the sums say.
    pub disagreement: Option<&'static str>,
}

impl LedgerLine {
    pub fn balances(&self) -> bool {
        self.disagreement.is_none()
            && self.charged == self.refunded + self.paid_out + self.held + self.fees
    }
}

/// What the ledger says of every order.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    /// Orders that took money (or have a payout), by id.
    pub lines: Vec<LedgerLine>,
}

impl Ledger {
    /// Settled orders whose equation does not hold.
    pub fn unbalanced(&self) -> impl Iterator<Item = &LedgerLine> {
        self.lines
            .iter()
            .filter(|line| line.unsettled.is_none() && !line.balances())
    }

    pub fn unsettled(&self) -> impl Iterator<Item = &LedgerLine> {
        self.lines.iter().filter(|line| line.unsettled.is_some())
    }

    pub fn total(&self) -> LedgerLine {
        let mut sum = LedgerLine::default();
        for line in &self.lines {
            sum.charged += line.charged;
            sum.refunded += line.refunded;
            sum.paid_out += line.paid_out;
            sum.held += line.held;
            sum.fees += line.fees;
        }
        sum
    }
}

/// An order's terms, as the replica holds them.
#[derive(sqlx::FromRow)]
struct Terms {
    id: String,
    status: OrderStatus,
    price_cents: i64,
    buyer_fee_cents: i64,
    seller_fee_cents: Option<i64>,
    undelivered_at: Option<i64>,
}

/// An order's payout, as far as the ledger reads it.
#[derive(Clone, Copy)]
struct PayoutMoney {
    status: PayoutStatus,
    amount: i64,
    seller_fee: i64,
    reversal_wanted: bool,
}

#[derive(Default)]
struct OrderMoney {
    terms: Option<Terms>,
    captured: i64,
    refunded: i64,
    in_flight: bool,
    payout: Option<PayoutMoney>,
}

/// Reads the ledger of a payments database migrated by [`crate::build`].
pub async fn read(db: &Db) -> anyhow::Result<Ledger> {
    let mut orders: BTreeMap<String, OrderMoney> = BTreeMap::new();
    let charges: Vec<(String, ChargeStatus, i64)> =
        sqlx::query_as("SELECT order_id, status, amount FROM charges")
            .fetch_all(db.pool())
            .await?;
    for (order_id, status, amount) in charges {
        let money = orders.entry(order_id).or_default();
        match status {
            ChargeStatus::Completed => money.captured += amount,
            ChargeStatus::Refunded => {
                money.captured += amount;
                money.refunded += amount;
            }
            ChargeStatus::Created | ChargeStatus::RequiresAction | ChargeStatus::Authorized => {
                money.in_flight = true;
            }
            ChargeStatus::Failed => {}
        }
    }
    let payouts: Vec<(String, PayoutStatus, i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT order_id, status, amount, seller_fee, reversal_wanted_at FROM payouts",
    )
    .fetch_all(db.pool())
    .await?;
    for (order_id, status, amount, seller_fee, reversal_wanted_at) in payouts {
        orders.entry(order_id).or_default().payout = Some(PayoutMoney {
            status,
            amount,
            seller_fee,
            reversal_wanted: reversal_wanted_at.is_some(),
        });
    }
    let replica: Vec<Terms> = sqlx::query_as(
        "SELECT id, status, price_cents, buyer_fee_cents, seller_fee_cents, undelivered_at FROM orders",
    )
    .fetch_all(db.pool())
    .await?;
    for terms in replica {
        if let Some(money) = orders.get_mut(&terms.id) {
            money.terms = Some(terms);
        }
    }
    let lines = orders
        .into_iter()
        .filter(|(_, money)| money.captured > 0 || money.payout.is_some() || money.in_flight)
        .map(|(order_id, money)| line(order_id, &money))
        .collect();
    Ok(Ledger { lines })
}

fn line(order_id: String, money: &OrderMoney) -> LedgerLine {
    let mut line = LedgerLine {
        order_id,
        charged: money.captured,
        refunded: money.refunded,
        ..LedgerLine::default()
    };
    let sale_stands = money.captured > money.refunded;
    let Some(terms) = &money.terms else {
        line.unsettled = Some("payments does not know the order");
        return line;
    };
    let (status, buyer_fee) = (terms.status, terms.buyer_fee_cents);
    let undelivered = terms.undelivered_at.is_some();
    match money.payout {
        Some(payout) if payout.status == PayoutStatus::Paid => {
            line.paid_out = payout.amount;
            if sale_stands {
                line.fees = buyer_fee + payout.seller_fee;
            } else if payout.reversal_wanted {
                line.unsettled = Some("the refunded sale's transfer is being reversed");
            }
        }
        Some(payout) if matches!(payout.status, PayoutStatus::Held | PayoutStatus::Failed) => {
            line.held = payout.amount;
            line.fees = buyer_fee + payout.seller_fee;
        }
        Some(payout) if payout.status == PayoutStatus::Cancelled && payout.reversal_wanted => {
            line.unsettled = Some("a refunded sale's unanswered transfer is being looked up");
        }
        Some(_) => {}
        None if sale_stands && status == OrderStatus::Complete && !undelivered => {
            // Sold, its delivery awaited: the seller's share is held from the order's price.
            let seller_fee = terms.seller_fee_cents.unwrap_or(0);
            line.held = terms.price_cents - seller_fee;
            line.fees = buyer_fee + seller_fee;
        }
        None => {}
    }
    if let Some(payout) = money.payout {
        let seller_fee = terms.seller_fee_cents.unwrap_or(0);
        if payout.seller_fee != seller_fee || payout.amount + payout.seller_fee != terms.price_cents
        {
            line.disagreement =
                Some("the payout is not the order's price less the sale's seller fee");
        }
    }
    if money.in_flight {
        line.unsettled = Some("a payment attempt is in flight");
    } else if sale_stands && (status == OrderStatus::Cancelled || undelivered) {
        line.unsettled = Some("the payment of a sale that did not happen is being refunded");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(status: OrderStatus) -> Option<Terms> {
        // A $20 sale with a $2.50 buyer fee and a $1 seller fee.
        Some(Terms {
            id: "o".into(),
            status,
            price_cents: 2000,
            buyer_fee_cents: 250,
            seller_fee_cents: Some(100),
            undelivered_at: None,
        })
    }

    fn money(
        captured: i64,
        refunded: i64,
        payout: Option<(PayoutStatus, i64, i64, bool)>,
    ) -> OrderMoney {
        OrderMoney {
            terms: terms(OrderStatus::Complete),
            captured,
            refunded,
            in_flight: false,
            payout: payout.map(
                |(status, amount, seller_fee, reversal_wanted)| PayoutMoney {
                    status,
                    amount,
                    seller_fee,
                    reversal_wanted,
                },
            ),
        }
    }

    #[test]
    fn every_settled_sale_balances_and_a_wrong_record_does_not() {
        let held = line(
            "o".into(),
            &money(2250, 0, Some((PayoutStatus::Held, 1900, 100, false))),
        );
        assert_eq!((held.held, held.fees, held.unsettled), (1900, 350, None));
        assert!(held.balances());
        let paid = line(
            "o".into(),
            &money(2250, 0, Some((PayoutStatus::Paid, 1900, 100, false))),
        );
        assert!(paid.balances() && paid.paid_out == 1900);
        let awaiting = line("o".into(), &money(2250, 0, None));
        assert!(awaiting.balances() && awaiting.held == 1900);
        let cancelled = line(
            "o".into(),
            &money(
                2250,
                2250,
                Some((PayoutStatus::Cancelled, 1900, 100, false)),
            ),
        );
        assert!(cancelled.balances() && cancelled.fees == 0);
        let reversed = line(
            "o".into(),
            &money(2250, 2250, Some((PayoutStatus::Reversed, 1900, 100, true))),
        );
        assert!(reversed.balances());

        // A payout of the wrong amount, a refund that left the payout standing, a charge of the
        // wrong total, a payout that took more fee than the sale's (the sums alone would agree):
        // each is caught.
        assert!(!line(
            "o".into(),
            &money(2250, 0, Some((PayoutStatus::Paid, 2000, 100, false)))
        )
        .balances());
        assert!(!line(
            "o".into(),
            &money(2250, 2250, Some((PayoutStatus::Held, 1900, 100, false)))
        )
        .balances());
        assert!(!line("o".into(), &money(2000, 0, None)).balances());
        let overcharged = line(
            "o".into(),
            &money(2250, 0, Some((PayoutStatus::Held, 1800, 200, false))),
        );
        assert_eq!(overcharged.charged, overcharged.held + overcharged.fees);
        assert!(!overcharged.balances());
    }

    #[test]
    fn money_still_moving_is_unsettled_not_unbalanced() {
        let looked_up = line(
            "o".into(),
            &money(2250, 2250, Some((PayoutStatus::Cancelled, 1900, 100, true))),
        );
        assert!(looked_up.unsettled.is_some());
        let reversing = line(
            "o".into(),
            &money(2250, 2250, Some((PayoutStatus::Paid, 1900, 100, true))),
        );
        assert!(reversing.unsettled.is_some());
        let mut refunding = money(2250, 0, None);
        refunding.terms = terms(OrderStatus::Cancelled);
        assert!(line("o".into(), &refunding).unsettled.is_some());
    }
}
