//! A complete order shows how its ticket's delivery stands, as the tickets service reports it.

use gittix_shared::domain::{Delivery, TicketStatus};
use gittix_shared::events::{ChargeAuthorized, SaleTerms, TicketUpdated};
use gittix_testing::{eventually, publish_event, topology_tests};
use serde_json::{json, Value};

use crate::helpers::*;

impl OrdersApp {
    /// The tickets service's `ticket:updated` for the sold ticket at `version`.
    async fn ticket_delivery(
        &self,
        seller: &str,
        ticket: &str,
        order: &str,
        version: i64,
        delivery: Delivery,
    ) {
        let event = TicketUpdated {
            id: ticket.into(),
            version,
            title: "Seat".into(),
            price: 2000,
            user_id: seller.into(),
            status: TicketStatus::Sold,
            order_id: Some(order.into()),
            terms_version: Some(0),
            terms: SaleTerms::default(),
            delivery: Some(delivery),
        };
        publish_event(self.bus(), &event).await;
    }
}

topology_tests! {
    async fn a_complete_order_shows_its_tickets_delivery(topology) {
        let app = OrdersApp::spawn(topology).await;
        let (order, ticket, buyer) = app.payable().await;
        let path = format!("/api/orders/{order}");
        let shown = async |app: &OrdersApp| status_and_json(app.get(Some(&buyer), &path).await).await.1;
        assert_eq!(shown(&app).await.get("delivery"), None, "not before it is complete");
        let authorized = ChargeAuthorized { id: "charge-1".into(), order_id: order.clone(), attempt: 1, amount: 2000, stripe_id: "pi_1".into() };
        publish_event(app.bus(), &authorized).await;
        eventually("the order complete", || async { (shown(&app).await["status"] == "complete").then_some(()) }).await;
        let seller: String = sqlx::query_scalar("SELECT seller_id FROM tickets WHERE id = $1").bind(&ticket).fetch_one(app.db.pool()).await.unwrap();
        for (version, delivery, expected) in [(2, Delivery::Awaiting, "awaiting"), (3, Delivery::Undelivered, "undelivered")] {
            app.ticket_delivery(&seller, &ticket, &order, version, delivery).await;
            let order: Value = eventually(&format!("delivery {expected}"), || async {
                let order = shown(&app).await;
                (order["delivery"] == expected).then_some(order)
            })
            .await;
            assert_eq!((&order["status"], &order["version"]), (&json!("complete"), &json!(2)), "the order itself is unchanged");
        }
    }
}
