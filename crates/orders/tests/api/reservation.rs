//! The reservation both owners agree on (design, section 5): the tickets service confirms an
//! order by reserving the ticket for it, and a seller's change since the order's version refuses it.

use gittix_shared::domain::TicketStatus;
use gittix_testing::{eventually, topology_tests, EventLog};

use crate::helpers::*;

topology_tests! {
    async fn the_ticket_reserved_for_an_order_confirms_it(topology) {
        let app = OrdersApp::spawn(topology).await;
        let mut events = EventLog::watch(app.bus(), &["order:confirmed"]).await;
        let seller = app.user();
        let ticket = app.ticket_listed(&seller, "Seat", 2000).await;
        let order = app.reserved(&app.user(), &ticket).await;
        let id = order["id"].as_str().unwrap();
        assert_eq!(order["status"], "created");
        app.ticket_held(&seller, &ticket, 1, Some(id)).await;
        let (_, confirmed) = events.next().await;
        assert_eq!((confirmed["id"].as_str(), confirmed["version"].as_i64()), (Some(id), Some(1)));
        assert_eq!(app.order_status(id).await, ("awaiting:payment".to_owned(), None));
    }

    async fn a_sellers_change_since_the_orders_version_cancels_it_as_ticket_changed(topology) {
        let app = OrdersApp::spawn(topology).await;
        let mut events = EventLog::watch(app.bus(), &["order:cancelled"]).await;
        let seller = app.user();
        let ticket = app.ticket_listed(&seller, "Seat", 2000).await;
        let order = app.reserved(&app.user(), &ticket).await;
        let id = order["id"].as_str().unwrap().to_owned();
        // The seller's price change won at the tickets service, which refused the order.
        app.ticket_updated(&seller, &ticket, 1, "Seat", 9900, TicketStatus::ForSale).await;
        let (_, cancelled) = events.next().await;
        assert_eq!((cancelled["id"].as_str(), cancelled["reason"].as_str()), (Some(id.as_str()), Some("ticket_changed")));
        assert_eq!(app.order_status(&id).await, ("cancelled".to_owned(), Some("ticket_changed".to_owned())));
        // The buyer may order again, at the new terms.
        let again = app.reserved(&app.user(), &ticket).await;
        assert_eq!(again["ticket"]["price"], 99);
    }

    async fn a_release_seen_after_the_next_order_refuses_nobody(topology) {
        let app = OrdersApp::spawn(topology).await;
        let seller = app.user();
        let ticket = app.ticket_listed(&seller, "Seat", 2000).await;
        let first_buyer = app.user();
        let first = app.reserved(&first_buyer, &ticket).await;
        let first_id = first["id"].as_str().unwrap();
        app.ticket_held(&seller, &ticket, 1, Some(first_id)).await;
        app.replica_version_is(&ticket, 1).await;
        assert_eq!(app.delete(Some(&first_buyer), first_id).await.status(), 204);
        // Ordered from the replica at version 1 (still showing the first order's reservation).
        let second = app.reserved(&app.user(), &ticket).await;
        let second_id = second["id"].as_str().unwrap().to_owned();
        assert_eq!(second["ticket"]["version"], 1);
        // The release arrives: a version bump, not a change of terms.
        app.ticket_held(&seller, &ticket, 2, None).await;
        app.replica_version_is(&ticket, 2).await;
        assert_eq!(app.order_status(&second_id).await, ("created".to_owned(), None));
        app.ticket_held(&seller, &ticket, 3, Some(&second_id)).await;
        eventually("the second order to be confirmed", || async {
            (app.order_status(&second_id).await.0 == "awaiting:payment").then_some(())
        })
        .await;
    }
}
