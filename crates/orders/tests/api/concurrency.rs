//! Zero oversell: the unique index over active orders decides every race.

use futures_util::stream::{self, StreamExt};
use gittix_testing::topology_tests;
use reqwest::StatusCode;

use crate::helpers::*;

topology_tests! {
    async fn two_hundred_buyers_racing_for_one_ticket_get_exactly_one_order(topology) {
        let app = OrdersApp::spawn(topology).await;
        let ticket = app.ticket_listed(&app.user(), "Hot ticket", 5000).await;
        let buyers: Vec<_> = (0..200).map(|_| app.user()).collect();
        let statuses: Vec<StatusCode> = futures_util::future::join_all(buyers.iter().map(|buyer| async {
            let response = app.reserve(buyer, &ticket).await;
            let status = response.status();
            if status == StatusCode::BAD_REQUEST {
                let body: serde_json::Value = response.json().await.unwrap();
                assert_eq!(body, error("Ticket is already reserved"));
            }
            status
        }))
        .await;
        let winners = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
        let losers = statuses.iter().filter(|s| **s == StatusCode::BAD_REQUEST).count();
        assert_eq!((winners, losers), (1, 199), "{statuses:?}");
        assert_eq!(app.active_orders_for(&ticket).await, 1);
    }

    async fn a_thousand_buyers_racing_for_a_hundred_tickets_get_a_hundred_orders(topology) {
        let app = OrdersApp::spawn(topology).await;
        let seller = app.user();
        let mut tickets = Vec::new();
        for n in 0..100 {
            tickets.push(app.ticket_listed(&seller, &format!("Seat {n}"), 1000 + n).await);
        }
        let buyers: Vec<_> = (0..1000).map(|_| app.user()).collect();
        let (app, tickets) = (&app, &tickets);
        let created = stream::iter(buyers.iter().enumerate())
            .map(|(n, buyer)| async move {
                let ticket = &tickets[n % tickets.len()];
                app.reserve(buyer, ticket).await.status()
            })
            .buffer_unordered(250)
            .filter(|status| std::future::ready(*status == StatusCode::CREATED))
            .count()
            .await;
        assert_eq!(created, 100);
        let active: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE status <> 'cancelled'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        let tickets_held: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT ticket_id) FROM orders WHERE status <> 'cancelled'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        assert_eq!((active, tickets_held), (100, 100), "exactly one active order per ticket");
    }
}
