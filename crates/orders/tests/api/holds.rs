//! Holds (issue #17): a buyer holds at most `MAX_HELD_TICKETS` unpaid orders, however many
//! arrive at once, and cannot take a ticket again right after their hold on it expired.

use gittix_shared::events::OrderExpired;
use gittix_testing::{publish_event, topology_tests, EventLog};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

/// `MAX_HELD_TICKETS` by default.
const MAX_HELD: usize = 10;

topology_tests! {
    async fn eleven_concurrent_holds_by_one_buyer_give_exactly_ten(topology) {
        let app = OrdersApp::spawn(topology).await;
        let seller = app.user();
        let mut tickets = Vec::new();
        for n in 0..=MAX_HELD {
            tickets.push(app.ticket_listed(&seller, &format!("Seat {n}"), 1000).await);
        }
        let buyer = app.user();
        let answers = futures_util::future::join_all(tickets.iter().map(|ticket| async {
            let response = app.reserve(&buyer, ticket).await;
            (response.status(), response.json::<Value>().await.unwrap())
        }))
        .await;
        let held: Vec<&Value> = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).map(|(_, b)| b).collect();
        let refused: Vec<&Value> = answers.iter().filter(|(s, _)| *s == StatusCode::BAD_REQUEST).map(|(_, b)| b).collect();
        assert_eq!((held.len(), refused.len()), (MAX_HELD, 1), "{answers:?}");
        assert_eq!(refused[0], &error("You already hold 10 unpaid orders; pay for or cancel one first"));

        // Cancelling one frees a place: the ticket that was refused can be held now.
        let cancelled = held[0]["id"].as_str().unwrap();
        assert_eq!(app.delete(Some(&buyer), cancelled).await.status(), StatusCode::NO_CONTENT);
        let mut unheld = Vec::new();
        for ticket in &tickets {
            if app.active_orders_for(ticket).await == 0 {
                unheld.push(ticket.clone());
            }
        }
        assert_eq!(unheld.len(), 2, "the refused ticket and the cancelled one");
        assert_eq!(app.reserve(&buyer, &unheld[0]).await.status(), StatusCode::CREATED);
        assert_eq!(app.reserve(&buyer, &unheld[1]).await.status(), StatusCode::BAD_REQUEST);
        // Another buyer is not limited by the first one's holds.
        assert_eq!(app.reserve(&app.user(), &unheld[1]).await.status(), StatusCode::CREATED);
    }

    async fn a_buyer_whose_hold_expired_cannot_take_the_ticket_again_at_once(topology) {
        let app = OrdersApp::spawn(topology).await;
        let mut events = EventLog::watch(app.bus(), &["order:cancelled"]).await;
        let ticket = app.ticket_listed(&app.user(), "Concert", 1000).await;
        let buyer = app.user();
        let order = app.reserved(&buyer, &ticket).await;
        publish_event(app.bus(), &OrderExpired { order_id: order["id"].as_str().unwrap().to_owned() }).await;
        events.next().await;

        let again = app.reserve(&buyer, &ticket).await;
        let (status, body) = status_and_json(again).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, error("Your hold on this ticket expired; you can reserve it again in 5 minutes")));
        // The hold itself is released, and anyone else may take the ticket at once.
        assert_eq!(app.reserve(&app.user(), &ticket).await.status(), StatusCode::CREATED);
    }
}
