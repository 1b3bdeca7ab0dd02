//! Tickets for events: the seat, the printed price and the embedded event; the resale cap; and
//! sales closing when the event starts.

use std::time::Duration;

use gittix_shared::time::{iso8601, unix_millis};
use gittix_testing::{topology_tests, EventLog};
use gittix_tickets::TicketsConfig;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

topology_tests! {
    async fn a_ticket_for_an_event_shows_its_seat_and_event_and_one_without_shows_neither(topology) {
        let app = TicketsApp::spawn(topology).await;
        let mut created = EventLog::watch(app.bus(), &["ticket:created"]).await;
        let seller = app.user();
        let event = app.event_in(&seller, "Rust Fest", 10 * DAY_MS).await;
        let body = json!({"title": "Front row", "price": 45.5, "eventId": event["id"], "section": " Floor ", "row": "A", "seat": "12", "faceValue": 40});
        let (status, ticket) = status_and_json(app.post(Some(&seller), body).await).await;
        assert_eq!(status, StatusCode::CREATED, "{ticket}");
        let expected = json!({
            "id": ticket["id"], "title": "Front row", "price": 45.5, "userId": seller.id, "version": 0,
            "status": "for_sale", "totalPrice": 45.5, "eventId": event["id"], "section": "Floor", "row": "A",
            "seat": "12", "faceValue": 40,
            "event": {"id": event["id"], "name": "Rust Fest", "venue": "Arena", "city": "Lyon", "startsAt": event["startsAt"]},
        });
        assert_eq!(ticket, expected);
        assert_eq!(app.ticket(ticket["id"].as_str().unwrap()).await, expected);
        // What orders and payments need travels with the event.
        let (_, data) = created.next().await;
        assert_eq!((&data["eventId"], &data["eventStartsAt"], &data["faceValue"], &data["price"]), (&event["id"], &event["startsAt"], &json!(4000), &json!(4550)));

        // The original body is still a ticket, with nothing of an event in it.
        let plain = app.sell(&seller, "Concert", json!(20)).await;
        let keys: Vec<&str> = plain.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["id", "price", "status", "title", "totalPrice", "userId", "version"]);
        let (_, data) = created.next().await;
        assert!(data.get("eventId").is_none() && data.get("eventStartsAt").is_none(), "{data}");
    }

    async fn an_unknown_event_and_bad_seat_fields_are_refused_and_nothing_is_listed(topology) {
        let app = TicketsApp::spawn(topology).await;
        let seller = app.user();
        let unknown = uuid::Uuid::now_v7().to_string();
        for (body, expected) in [
            (json!({"title": "Seat", "price": 20, "eventId": unknown}), field_error("eventId", "No event has this id")),
            (json!({"title": "Seat", "price": 20, "eventId": "not-an-id"}), field_error("eventId", "No event has this id")),
            (json!({"title": "Seat", "price": 20, "eventId": 7}), field_error("eventId", "eventId must be an event's id")),
            (json!({"title": "Seat", "price": 20, "section": "x".repeat(21)}), field_error("section", "Section must be at most 20 characters")),
            (json!({"title": "Seat", "price": 20, "row": "\u{7}"}), field_error("row", "Row must not contain control characters")),
            (json!({"title": "Seat", "price": 20, "faceValue": 0}), field_error("faceValue", "faceValue must be greater than 0")),
            (json!({"title": "Seat", "price": 20, "faceValue": 1.005}), field_error("faceValue", "faceValue must have at most 2 decimal places")),
        ] {
            let (status, refused) = status_and_json(app.post(Some(&seller), body.clone()).await).await;
            assert_eq!((status, refused), (StatusCode::BAD_REQUEST, expected), "{body}");
        }
        assert!(app.for_sale().await.is_empty());
    }

    async fn a_price_above_the_resale_cap_is_refused_on_listing_and_on_edit(topology) {
        let config = TicketsConfig { resale_price_cap_percent: Some(120), ..TicketsConfig::default() };
        let app = TicketsApp::spawn_with(topology, config).await;
        let seller = app.user();
        let over = json!({"title": "Seat", "price": 48.01, "faceValue": 40});
        let (status, body) = status_and_json(app.post(Some(&seller), over).await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, field_error("price", "Price is above the resale cap of $48")));
        assert!(app.for_sale().await.is_empty());
        // At the cap exactly: listed. Without a printed price there is nothing to cap.
        let (status, at_cap) = status_and_json(app.post(Some(&seller), json!({"title": "Seat", "price": 48, "faceValue": 40})).await).await;
        assert_eq!(status, StatusCode::CREATED, "{at_cap}");
        app.sell(&seller, "No face value", json!(1000)).await;
        // An edit keeps the printed price it does not name, and the cap with it.
        let id = at_cap["id"].as_str().unwrap();
        let (status, body) = status_and_json(app.put(Some(&seller), id, json!({"title": "Seat", "price": 50})).await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, field_error("price", "Price is above the resale cap of $48")));
        let (status, body) = status_and_json(app.put(Some(&seller), id, json!({"title": "Seat", "price": 50, "faceValue": 50})).await).await;
        assert_eq!((status, &body["price"], &body["faceValue"]), (StatusCode::OK, &json!(50), &json!(50)));
    }

    async fn an_edit_keeps_what_it_does_not_name_and_an_empty_label_clears_it(topology) {
        let app = TicketsApp::spawn(topology).await;
        let seller = app.user();
        let event = app.event_in(&seller, "Rust Fest", 10 * DAY_MS).await;
        let body = json!({"title": "Seat", "price": 20, "eventId": event["id"], "section": "B", "row": "K", "seat": "14"});
        let (_, ticket) = status_and_json(app.post(Some(&seller), body).await).await;
        let id = ticket["id"].as_str().unwrap();
        // The original client's edit: title and price only.
        let (status, edited) = status_and_json(app.put(Some(&seller), id, json!({"title": "Better seat", "price": 25})).await).await;
        assert_eq!(status, StatusCode::OK, "{edited}");
        assert_eq!((&edited["section"], &edited["row"], &edited["seat"], &edited["event"]["name"]), (&json!("B"), &json!("K"), &json!("14"), &json!("Rust Fest")));
        let (_, edited) = status_and_json(app.put(Some(&seller), id, json!({"title": "Better seat", "price": 25, "row": ""})).await).await;
        assert!(edited.get("row").is_none(), "{edited}");
        assert_eq!(edited["seat"], json!("14"));
    }

    async fn a_corrected_event_is_shown_on_its_tickets_and_announced_with_them(topology) {
        let app = TicketsApp::spawn(topology).await;
        let creator = app.user();
        let event = app.event_in(&creator, "Rust Fest", 10 * DAY_MS).await;
        let id = event["id"].as_str().unwrap();
        let ticket = app.sell_for(&app.user(), id, json!(20)).await;
        let mut updated = EventLog::watch(app.bus(), &["ticket:updated"]).await;
        let later = iso8601(unix_millis() / 1000 * 1000 + 11 * DAY_MS);
        let body = json!({"name": "Rust Fest", "venue": "Big Arena", "city": "Lyon", "startsAt": later});
        let response = app.server.send(Method::PUT, &format!("/api/events/{id}"), Some(&creator), body).await;
        assert_eq!(response.status(), StatusCode::OK);
        let shown = app.ticket(ticket["id"].as_str().unwrap()).await;
        assert_eq!((&shown["event"]["venue"], &shown["event"]["startsAt"], &shown["version"]), (&json!("Big Arena"), &json!(later), &json!(1)));
        let (_, data) = updated.next().await;
        assert_eq!((&data["id"], &data["version"], &data["eventStartsAt"]), (&ticket["id"], &json!(1), &json!(later)));
    }

    async fn a_ticket_leaves_every_list_when_its_event_starts_and_none_is_listed_after(topology) {
        let app = TicketsApp::spawn(topology).await;
        let seller = app.user();
        let soon = app.event_in(&seller, "Starting soon", 1_500).await;
        let later = app.event_in(&seller, "Later", 10 * DAY_MS).await;
        let (soon_id, later_id) = (soon["id"].as_str().unwrap(), later["id"].as_str().unwrap());
        let leaving = app.sell_for(&seller, soon_id, json!(20)).await;
        let staying = app.sell_for(&seller, later_id, json!(30)).await;
        let plain = app.sell(&seller, "No event", json!(10)).await;
        let ids = |tickets: &[&Value]| tickets.iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        // Read once before the start, so an answer kept by the embedded cache would be served.
        let all = ids(&[&leaving, &staying, &plain]);
        assert_eq!(app.listed("").await, all);
        assert_eq!(app.listed("?sort=price").await, ids(&[&plain, &leaving, &staying]));
        let path = format!("/api/events/{soon_id}/tickets");
        assert_eq!(status_and_json(app.get(&path).await).await.1.as_array().unwrap().len(), 1);

        let starts_at = gittix_shared::time::parse_iso8601(soon["startsAt"].as_str().unwrap()).unwrap();
        tokio::time::sleep(Duration::from_millis(u64::try_from(starts_at - unix_millis()).unwrap_or(0) + 50)).await;
        assert_eq!(app.listed("").await, ids(&[&staying, &plain]));
        assert_eq!(app.listed("?sort=price").await, ids(&[&plain, &staying]));
        assert_eq!(status_and_json(app.get(&path).await).await, (StatusCode::OK, json!([])));
        let (_, shown) = status_and_json(app.get(&format!("/api/events/{soon_id}")).await).await;
        assert_eq!((&shown["ticketsForSale"], shown.get("lowestPrice")), (&json!(0), None));
        // The ticket itself is still shown, as every ticket is.
        assert_eq!(app.ticket(leaving["id"].as_str().unwrap()).await["status"], json!("for_sale"));
        let (status, body) = status_and_json(app.post(Some(&seller), json!({"title": "Seat", "price": 20, "eventId": soon_id})).await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, field_error("eventId", "The event has started")));
    }
}
