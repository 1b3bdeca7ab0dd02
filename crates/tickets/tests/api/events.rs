//! `/api/events*`: creating an event, the upcoming list with its search, city, dates and pages,
//! one event, and its tickets for sale.

use gittix_shared::time::{iso8601, unix_millis};
use gittix_testing::{topology_tests, EventLog, TestUser};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

impl TicketsApp {
    /// `PUT` `path`.
    async fn put_event(
        &self,
        user: Option<&TestUser>,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        status_and_json(self.server.send(Method::PUT, path, user, body).await).await
    }

    /// Creates an event starting `days` from now; returns its JSON.
    async fn event(
        &self,
        user: &TestUser,
        name: &str,
        venue: &str,
        city: &str,
        days: i64,
    ) -> Value {
        let starts = iso8601(unix_millis() + days * DAY_MS);
        let body = json!({"name": name, "venue": venue, "city": city, "startsAt": starts});
        let (status, event) = self.post_event(Some(user), body).await;
        assert_eq!(status, StatusCode::CREATED, "{event}");
        event
    }

    /// The names `GET /api/events<query>` lists, with its `Link` header.
    async fn upcoming(&self, query: &str) -> (Vec<String>, Option<String>) {
        let response = self.get(&format!("/api/events{query}")).await;
        assert_eq!(response.status(), StatusCode::OK, "{query}");
        let link = response
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_owned());
        let events: Vec<Value> = response.json().await.unwrap();
        (
            events
                .iter()
                .map(|e| e["name"].as_str().unwrap().to_owned())
                .collect(),
            link,
        )
    }
}

/// A start `days` from now, to the second, written as UTC (`...Z`) and as the same instant with
/// a +02:00 offset.
fn start_in(days: i64) -> (String, String) {
    let at = (unix_millis() / 1000 + days * 86_400) * 1000;
    let utc = iso8601(at);
    let plus_two = iso8601(at + 2 * 3_600_000).replace(".000Z", "+02:00");
    (utc, plus_two)
}

/// The path and query of a `Link: <...>; rel="next"` header.
fn next_page(link: &str) -> String {
    link.trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .trim_start_matches("/api/events")
        .to_owned()
}

topology_tests! {
    async fn an_event_is_created_by_a_signed_in_user_and_announced(topology) {
        let app = TicketsApp::spawn(topology).await;
        let mut created = EventLog::watch(app.bus(), &["event:created"]).await;
        let (utc, with_offset) = start_in(30);
        let body = json!({"name": " Rust Fest ", "venue": "Arena", "city": "Lyon", "startsAt": with_offset});
        assert_eq!(app.post_event(None, body.clone()).await, (StatusCode::UNAUTHORIZED, error("Not authorized")));
        let user = app.user();
        let (status, event) = app.post_event(Some(&user), body).await;
        assert_eq!(status, StatusCode::CREATED, "{event}");
        let id = event["id"].as_str().unwrap();
        assert_eq!(event, json!({"id": id, "name": "Rust Fest", "venue": "Arena", "city": "Lyon",
            "startsAt": utc, "createdBy": user.id, "version": 0, "ticketsForSale": 0}));
        let (_, data) = created.next().await;
        assert_eq!(data, json!({"id": id, "version": 0, "name": "Rust Fest", "venue": "Arena", "city": "Lyon",
            "startsAt": utc, "createdBy": user.id}));
        let (status, shown) = status_and_json(app.get(&format!("/api/events/{id}")).await).await;
        assert_eq!((status, shown), (StatusCode::OK, event));
    }

    async fn every_field_of_an_event_is_checked_and_nothing_is_created(topology) {
        let app = TicketsApp::spawn(topology).await;
        let user = app.user();
        let (soon, with_offset) = start_in(30);
        let soon_without_offset = with_offset.replace("+02:00", "");
        let far = iso8601(unix_millis() + 800 * DAY_MS);
        let past = iso8601(unix_millis() - DAY_MS);
        for (body, field, message) in [
            (json!({"venue": "v", "city": "c", "startsAt": soon}), "name", "Name is required"),
            (json!({"name": "n", "venue": "x".repeat(201), "city": "c", "startsAt": soon}), "venue", "Venue must be at most 200 characters"),
            (json!({"name": "n", "venue": "v", "city": "\u{200b}", "startsAt": soon}), "city", "City is required"),
            (json!({"name": "n", "venue": "v", "city": "c", "startsAt": soon_without_offset}), "startsAt", "startsAt must be a date and time with its offset, such as 2027-06-01T20:00:00+02:00"),
            (json!({"name": "n", "venue": "v", "city": "c", "startsAt": 1_800_000_000}), "startsAt", "startsAt must be a date and time with its offset, such as 2027-06-01T20:00:00+02:00"),
            (json!({"name": "n", "venue": "v", "city": "c", "startsAt": past}), "startsAt", "The event must start in the future"),
            (json!({"name": "n", "venue": "v", "city": "c", "startsAt": far}), "startsAt", "The event must start within 2 years"),
        ] {
            let refused = app.post_event(Some(&user), body.clone()).await;
            assert_eq!(refused, (StatusCode::BAD_REQUEST, field_error(field, message)), "{body}");
        }
        let (status, _) = app.post_event(Some(&user), json!("not an object")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(app.upcoming("").await.0, Vec::<String>::new());
    }

    async fn the_same_event_twice_is_refused_whatever_its_case(topology) {
        let app = TicketsApp::spawn(topology).await;
        let user = app.user();
        let (utc, with_offset) = start_in(30);
        let body = |name: &str, venue: &str| json!({"name": name, "venue": venue, "city": "Lyon", "startsAt": with_offset});
        assert_eq!(app.post_event(Some(&user), body("Rust Fest", "Arena")).await.0, StatusCode::CREATED);
        let again = app.post_event(Some(&app.user()), body("RUST fest", "arena")).await;
        assert_eq!(again, (StatusCode::BAD_REQUEST, error("This event already exists")));
        // Another venue, or the same instant written with another offset, is another event or the same.
        assert_eq!(app.post_event(Some(&user), body("Rust Fest", "Stadium")).await.0, StatusCode::CREATED);
        let same_instant = json!({"name": "Rust Fest", "venue": "Arena", "city": "Lyon", "startsAt": utc});
        assert_eq!(app.post_event(Some(&user), same_instant).await, (StatusCode::BAD_REQUEST, error("This event already exists")));
    }

    async fn upcoming_events_come_soonest_first_by_search_city_and_dates(topology) {
        let app = TicketsApp::spawn(topology).await;
        let user = app.user();
        app.event(&user, "Jazz Night", "Blue Note", "Paris", 30).await;
        app.event(&user, "Rust Fest", "Arena", "Lyon", 10).await;
        app.event(&user, "Opera Gala", "Opéra", "LYON", 20).await;
        // Started an hour ago: it is no longer upcoming.
        sqlx::query("INSERT INTO events (id, name, venue, city, name_key, venue_key, city_key, starts_at, created_by, version, created_at, updated_at) \
                     VALUES ($1, 'Yesterday Live', 'Hall', 'Lyon', 'yesterday live', 'hall', 'lyon', $2, 'u', 0, 0, 0)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(unix_millis() - 3_600_000)
            .execute(app.db().pool())
            .await
            .unwrap();
        assert_eq!(app.upcoming("").await.0, ["Rust Fest", "Opera Gala", "Jazz Night"]);
        assert_eq!(app.upcoming("?city=lyon").await.0, ["Rust Fest", "Opera Gala"]);
        assert_eq!(app.upcoming("?q=NOTE").await.0, ["Jazz Night"], "the venue is searched");
        assert_eq!(app.upcoming("?q=lyon").await.0, ["Rust Fest", "Opera Gala"], "the city is searched");
        assert_eq!(app.upcoming("?q=gala").await.0, ["Opera Gala"], "the name is searched");
        app.event(&user, "100% Rock", "Cave", "Brest", 40).await;
        app.event(&user, "1000 Voices", "Cave", "Brest", 41).await;
        app.event(&user, "a_b", "Cave", "Brest", 42).await;
        app.event(&user, "axb", "Cave", "Brest", 43).await;
        assert_eq!(app.upcoming("?q=100%25").await.0, ["100% Rock"], "% is a character");
        assert_eq!(app.upcoming("?q=a_b").await.0, ["a_b"], "_ is a character");
        let from = iso8601(unix_millis() + 15 * DAY_MS);
        let to = iso8601(unix_millis() + 25 * DAY_MS);
        let query = serde_urlencoded::to_string([("from", from.as_str()), ("to", to.as_str())]).unwrap();
        assert_eq!(app.upcoming(&format!("?{query}")).await.0, ["Opera Gala"]);
        let (status, body) = status_and_json(app.get("/api/events?from=tomorrow").await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, field_error("from", "from must be a date and time with its offset")));
        let backwards = serde_urlencoded::to_string([("from", to.as_str()), ("to", from.as_str())]).unwrap();
        let (status, body) = status_and_json(app.get(&format!("/api/events?{backwards}")).await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, field_error("to", "to must be at or after from")));
    }

    async fn upcoming_events_come_in_pages_linked_to_the_next(topology) {
        let app = TicketsApp::spawn(topology).await;
        let user = app.user();
        for day in 1..=5 {
            app.event(&user, &format!("Show {day}"), "Hall", "Nice", day).await;
        }
        let (first, link) = app.upcoming("?limit=2").await;
        assert_eq!(first, ["Show 1", "Show 2"]);
        let (second, link) = app.upcoming(&next_page(&link.unwrap())).await;
        assert_eq!(second, ["Show 3", "Show 4"]);
        let (third, link) = app.upcoming(&next_page(&link.unwrap())).await;
        assert_eq!((third, link), (vec!["Show 5".to_owned()], None));
        let (status, _) = status_and_json(app.get("/api/events?cursor=12_nope").await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = status_and_json(app.get("/api/events?limit=101").await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    async fn an_events_tickets_for_sale_come_cheapest_first_with_the_lowest_price(topology) {
        let app = TicketsApp::spawn(topology).await;
        let user = app.user();
        let event = app.event(&user, "Rust Fest", "Arena", "Lyon", 10).await;
        let id = event["id"].as_str().unwrap();
        let (status, tickets) = status_and_json(app.get(&format!("/api/events/{id}/tickets")).await).await;
        assert_eq!((status, tickets), (StatusCode::OK, json!([])));
        let seller = app.user();
        let mut listed = Vec::new();
        for price in [json!(80), json!(45.5), json!(60)] {
            listed.push(app.sell_for(&seller, id, price).await);
        }
        // A ticket for no event is not one of its tickets.
        app.sell(&seller, "Other", json!(10)).await;
        // Withdrawn: no longer for sale, and no longer counted.
        let withdrawn = listed[1]["id"].as_str().unwrap();
        app.delete(Some(&seller), withdrawn).await;
        let (_, tickets) = status_and_json(app.get(&format!("/api/events/{id}/tickets")).await).await;
        let prices: Vec<&Value> = tickets.as_array().unwrap().iter().map(|t| &t["price"]).collect();
        assert_eq!(prices, [&json!(60), &json!(80)]);
        let (_, shown) = status_and_json(app.get(&format!("/api/events/{id}")).await).await;
        assert_eq!((&shown["ticketsForSale"], &shown["lowestPrice"]), (&json!(2), &json!(60)));
        assert_eq!(app.upcoming("").await.0, ["Rust Fest"]);
    }

    async fn an_unknown_event_is_a_404(topology) {
        let app = TicketsApp::spawn(topology).await;
        let unknown = uuid::Uuid::now_v7();
        for path in [format!("/api/events/{unknown}"), format!("/api/events/{unknown}/tickets"), "/api/events/not-an-id".to_owned()] {
            let (status, body) = status_and_json(app.get(&path).await).await;
            assert_eq!((status, body), (StatusCode::NOT_FOUND, error("Not Found")), "{path}");
        }
    }

    async fn its_creator_corrects_an_event_until_a_ticket_for_it_sells(topology) {
        let app = TicketsApp::spawn(topology).await;
        let mut updated = EventLog::watch(app.bus(), &["event:updated"]).await;
        let (creator, stranger) = (app.user(), app.user());
        let event = app.event(&creator, "Rust Fest", "Arena", "Lyon", 10).await;
        let other = app.event(&creator, "Jazz Night", "Blue Note", "Paris", 12).await;
        let id = event["id"].as_str().unwrap();
        let path = format!("/api/events/{id}");
        let (utc, with_offset) = start_in(11);
        let corrected = json!({"name": "Rust Fest 2", "venue": "Arena", "city": "Lyon", "startsAt": with_offset});
        assert_eq!(app.put_event(None, &path, corrected.clone()).await, (StatusCode::UNAUTHORIZED, error("Not authorized")));
        assert_eq!(app.put_event(Some(&stranger), &path, corrected.clone()).await, (StatusCode::UNAUTHORIZED, error("Not authorized")));
        let unknown = format!("/api/events/{}", uuid::Uuid::now_v7());
        assert_eq!(app.put_event(Some(&creator), &unknown, corrected.clone()).await, (StatusCode::NOT_FOUND, error("Not Found")));
        let (status, body) = app.put_event(Some(&creator), &path, json!({"name": ""})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

        let (status, shown) = app.put_event(Some(&creator), &path, corrected).await;
        assert_eq!(status, StatusCode::OK, "{shown}");
        assert_eq!((&shown["name"], &shown["startsAt"], &shown["version"]), (&json!("Rust Fest 2"), &json!(utc), &json!(1)));
        let (_, data) = updated.next().await;
        assert_eq!((&data["id"], &data["version"], &data["name"]), (&json!(id), &json!(1), &json!("Rust Fest 2")));

        // Made the same as another event: refused.
        let twin = json!({"name": "jazz night", "venue": "blue note", "city": "Paris", "startsAt": other["startsAt"]});
        assert_eq!(app.put_event(Some(&creator), &path, twin).await, (StatusCode::BAD_REQUEST, error("This event already exists")));

        // A ticket for it sold: the event stays as the buyer saw it.
        let ticket = app.sell_for(&app.user(), id, json!(20)).await;
        let ticket = ticket["id"].as_str().unwrap();
        sqlx::query("UPDATE tickets SET status = 'sold' WHERE id = $1").bind(ticket).execute(app.db().pool()).await.unwrap();
        let late = json!({"name": "Rust Fest 3", "venue": "Arena", "city": "Lyon", "startsAt": utc});
        assert_eq!(app.put_event(Some(&creator), &path, late).await, (StatusCode::BAD_REQUEST, error("An event with sold tickets cannot be changed")));
        let (_, shown) = status_and_json(app.get(&path).await).await;
        assert_eq!((&shown["name"], &shown["version"]), (&json!("Rust Fest 2"), &json!(1)));
        updated.expect_none(std::time::Duration::from_millis(300)).await;
    }
}
