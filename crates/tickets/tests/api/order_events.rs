//! Order events reserve, release and sell tickets.

use std::time::Duration;

use gittix_shared::domain::{CancelReason, OrderStatus};
use gittix_shared::events::{
    OrderCancelled, OrderCompleted, OrderCreated, OrderedTicket, TicketRef,
};
use gittix_testing::topology_tests;
use gittix_testing::{eventually, publish_event, EventLog};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// `order:created` as orders would publish it now: made at the ticket's current version and price.
async fn created(app: &TicketsApp, order: &str, ticket: &str) -> OrderCreated {
    let seen = app.ticket(ticket).await;
    OrderCreated {
        id: order.into(),
        version: 0,
        status: OrderStatus::Created,
        user_id: "buyer".into(),
        expires_at: "2030-01-01T00:00:00.000Z".into(),
        ticket: OrderedTicket {
            id: ticket.into(),
            price: (seen["price"].as_f64().unwrap() * 100.0).round() as i64,
            version: seen["version"].as_i64(),
        },
        total: None,
    }
}

fn cancelled(order: &str, ticket: &str) -> OrderCancelled {
    OrderCancelled {
        id: order.into(),
        version: 1,
        ticket: TicketRef { id: ticket.into() },
        reason: CancelReason::Cancelled,
    }
}

async fn wait_for(app: &TicketsApp, id: &str, status: &str, order: Option<&str>) -> Value {
    eventually(&format!("ticket {status} by {order:?}"), || async {
        let ticket = app.ticket(id).await;
        let holder = ticket.get("orderId").and_then(Value::as_str);
        (ticket["status"] == status && holder == order).then_some(ticket)
    })
    .await
}

topology_tests! {
    async fn the_list_of_tickets_for_sale_follows_every_change(topology) {
        let app = TicketsApp::spawn(topology).await;
        let seller = app.user();
        // Each look comes after a change made after the previous look: an answer kept from
        // before a change must never be served after it.
        assert!(app.for_sale().await.is_empty());
        let id = app.sell(&seller, "Concert", json!(20)).await["id"].as_str().unwrap().to_owned();
        assert_eq!(app.for_sale().await, [(id.clone(), json!(20))], "listed");
        let edit = app.put(Some(&seller), &id, json!({"title": "Concert", "price": 25})).await;
        assert_eq!(edit.status(), StatusCode::OK);
        assert_eq!(app.for_sale().await, [(id.clone(), json!(25))], "the new price");
        publish_event(app.bus(), &created(&app, "order-1", &id).await).await;
        wait_for(&app, &id, "reserved", Some("order-1")).await;
        assert!(app.for_sale().await.is_empty(), "reserved by an order event");
        publish_event(app.bus(), &cancelled("order-1", &id)).await;
        wait_for(&app, &id, "for_sale", None).await;
        assert_eq!(app.for_sale().await, [(id.clone(), json!(25))], "released");
        assert_eq!(app.delete(Some(&seller), &id).await.status(), StatusCode::NO_CONTENT);
        assert!(app.for_sale().await.is_empty(), "withdrawn");
    }

    async fn order_created_reserves_and_then_edits_are_refused(topology) {
        let app = TicketsApp::spawn(topology).await;
        let mut events = EventLog::watch(app.bus(), &["ticket:updated"]).await;
        let seller = app.user();
        let id = app.sell(&seller, "Concert", json!(20)).await["id"].as_str().unwrap().to_owned();
        publish_event(app.bus(), &created(&app, "order-1", &id).await).await;
        let ticket = wait_for(&app, &id, "reserved", Some("order-1")).await;
        assert_eq!(ticket["version"], 1);
        assert!(app.listed("").await.is_empty(), "a reserved ticket is hidden from the list");
        let edit = app.put(Some(&seller), &id, json!({"title": "t", "price": 1})).await;
        assert_eq!(status_and_json(edit).await, (StatusCode::BAD_REQUEST, error("Cannot edit a reserved ticket")));
        let withdraw = app.delete(Some(&seller), &id).await;
        assert_eq!(status_and_json(withdraw).await, (StatusCode::BAD_REQUEST, error("Cannot withdraw a reserved ticket")));
        let (_, data) = events.next().await;
        assert_eq!((data["status"].clone(), data["orderId"].clone(), data["version"].clone()), (json!("reserved"), json!("order-1"), json!(1)));
    }

    async fn order_cancelled_releases_only_the_order_holding_the_ticket(topology) {
        let app = TicketsApp::spawn(topology).await;
        let id = app.sell(&app.user(), "Concert", json!(20)).await["id"].as_str().unwrap().to_owned();
        let bus = app.bus();
        publish_event(bus, &created(&app, "order-a", &id).await).await;
        wait_for(&app, &id, "reserved", Some("order-a")).await;
        publish_event(bus, &cancelled("order-a", &id)).await;
        wait_for(&app, &id, "for_sale", None).await;
        publish_event(bus, &created(&app, "order-b", &id).await).await;
        wait_for(&app, &id, "reserved", Some("order-b")).await;
        // A late order:cancelled for the older order changes nothing.
        publish_event(bus, &cancelled("order-a", &id)).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let ticket = app.ticket(&id).await;
        assert_eq!((ticket["status"].clone(), ticket["orderId"].clone(), ticket["version"].clone()), (json!("reserved"), json!("order-b"), json!(3)));
    }

    async fn a_newer_order_waits_for_the_end_of_the_older_one(topology) {
        let app = TicketsApp::spawn(topology).await;
        let id = app.sell(&app.user(), "Concert", json!(20)).await["id"].as_str().unwrap().to_owned();
        let bus = app.bus();
        publish_event(bus, &created(&app, "order-a", &id).await).await;
        wait_for(&app, &id, "reserved", Some("order-a")).await;
        // order-b's creation overtakes order-a's cancellation on the bus.
        publish_event(bus, &created(&app, "order-b", &id).await).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(app.ticket(&id).await["orderId"], "order-a", "order-b must wait");
        publish_event(bus, &cancelled("order-a", &id)).await;
        wait_for(&app, &id, "reserved", Some("order-b")).await;
        // A late order:created for an order already ended reserves nothing.
        publish_event(bus, &cancelled("order-b", &id)).await;
        wait_for(&app, &id, "for_sale", None).await;
        publish_event(bus, &created(&app, "order-a", &id).await).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(app.ticket(&id).await["status"], "for_sale");
    }

    async fn order_completed_sells_the_ticket(topology) {
        let app = TicketsApp::spawn(topology).await;
        let seller = app.user();
        let id = app.sell(&seller, "Concert", json!(20)).await["id"].as_str().unwrap().to_owned();
        let bus = app.bus();
        publish_event(bus, &created(&app, "order-1", &id).await).await;
        wait_for(&app, &id, "reserved", Some("order-1")).await;
        publish_event(bus, &OrderCompleted { id: "order-1".into(), version: 1, ticket: TicketRef { id: id.clone() }, user_id: None, total: None }).await;
        wait_for(&app, &id, "sold", Some("order-1")).await;
        let edit = app.put(Some(&seller), &id, json!({"title": "t", "price": 1})).await;
        assert_eq!(status_and_json(edit).await, (StatusCode::BAD_REQUEST, error("Cannot edit a reserved ticket")));
        // A cancellation arriving after the sale changes nothing.
        publish_event(bus, &cancelled("order-1", &id)).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(app.ticket(&id).await["status"], "sold");
    }

    async fn a_redelivered_order_event_is_applied_once(topology) {
        let app = TicketsApp::spawn(topology).await;
        let id = app.sell(&app.user(), "Concert", json!(20)).await["id"].as_str().unwrap().to_owned();
        let bus = app.bus();
        let event = created(&app, "order-1", &id).await;
        let message = gittix_shared::bus::Message::new("same-event", "order:created", serde_json::to_vec(&event).unwrap());
        bus.publish(&message).await.unwrap();
        wait_for(&app, &id, "reserved", Some("order-1")).await;
        // The same event again under the same id (a relay that died before deleting it).
        bus.publish(&message).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(app.ticket(&id).await["version"], 1);
    }
}

mod concurrency {
    use super::*;

    topology_tests! {
        async fn an_orders_creation_and_cancellation_handled_together_leave_the_ticket_for_sale(topology) {
            let app = TicketsApp::spawn(topology).await;
            let seller = app.user();
            let mut ids = Vec::new();
            for n in 0..20 {
                ids.push(app.sell(&seller, &format!("Seat {n}"), json!(20)).await["id"].as_str().unwrap().to_owned());
            }
            let bus = app.bus();
            // The listener's workers take both events of one order at the same moment.
            for (n, id) in ids.iter().enumerate() {
                let order = format!("order-{n}");
                publish_event(bus, &created(&app, &order, id).await).await;
                publish_event(bus, &cancelled(&order, id)).await;
            }
            for id in &ids {
                let ticket = wait_for(&app, id, "for_sale", None).await;
                let version = ticket["version"].as_i64().unwrap();
                assert!(version == 0 || version == 2, "reserved and released, or never reserved: {ticket}");
            }
            // And it stays so.
            tokio::time::sleep(Duration::from_millis(500)).await;
            assert_eq!(app.listed("").await.len(), 20);
        }
    }
}
