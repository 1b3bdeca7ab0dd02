//! Delivery: the seller's file, checked, kept and handed only to the buyer of the completed
//! order; the deadline for a ticket sold without it.

use gittix_shared::domain::{CancelReason, OrderStatus};
use gittix_shared::events::{
    DeliveryDue, OrderCancelled, OrderCompleted, OrderCreated, OrderedTicket, TicketRef,
};
use gittix_testing::{eventually, publish_event, topology_tests, EventLog, TestUser};
use gittix_tickets::TicketsConfig;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

const PDF: &[u8] = b"%PDF-1.7\n% a ticket\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

impl TicketsApp {
    async fn upload(
        &self,
        who: Option<&TestUser>,
        id: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Response {
        self.server
            .request(Method::PUT, &format!("/api/tickets/{id}/file"), who)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn download(&self, who: Option<&TestUser>, id: &str) -> Response {
        self.server
            .get(&format!("/api/tickets/{id}/file"), who)
            .await
    }

    /// The orders service's events for `buyer` reserving and paying for the ticket.
    async fn bought(&self, buyer: &TestUser, ticket: &Value, order: &str) {
        let id = ticket["id"].as_str().unwrap();
        let created = OrderCreated {
            id: order.into(),
            version: 0,
            status: OrderStatus::Created,
            user_id: buyer.id.clone(),
            expires_at: "2030-01-01T00:00:00.000Z".into(),
            ticket: OrderedTicket {
                id: id.into(),
                price: 2000,
                version: ticket["version"].as_i64(),
            },
            total: None,
        };
        publish_event(self.bus(), &created).await;
        self.status_is(id, "reserved").await;
        let completed = OrderCompleted {
            id: order.into(),
            version: 2,
            ticket: TicketRef { id: id.into() },
            user_id: Some(buyer.id.clone()),
            total: None,
        };
        publish_event(self.bus(), &completed).await;
        self.status_is(id, "sold").await;
    }

    async fn status_is(&self, id: &str, status: &str) -> Value {
        eventually(&format!("ticket {id} {status}"), || async {
            let ticket = self.ticket(id).await;
            (ticket["status"] == status).then_some(ticket)
        })
        .await
    }

    /// The caller's tickets from `path` (`/api/tickets/mine` or `/bought`), by id.
    async fn own(&self, who: &TestUser, path: &str, id: &str) -> Value {
        let (status, list) = status_and_json(self.get_as(Some(who), path).await).await;
        assert_eq!(status, StatusCode::OK);
        list.as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    }
}

async fn bytes_of(response: Response) -> (StatusCode, Vec<u8>) {
    (response.status(), response.bytes().await.unwrap().to_vec())
}

topology_tests! {
    async fn only_the_seller_uploads_and_only_a_file_that_is_what_it_says(topology) {
        let app = TicketsApp::spawn(topology).await;
        let (seller, stranger) = (app.user(), app.user());
        let ticket = app.sell(&seller, "Seat", json!(20)).await;
        let id = ticket["id"].as_str().unwrap();
        assert_eq!(app.upload(None, id, "application/pdf", PDF.to_vec()).await.status(), StatusCode::UNAUTHORIZED);
        let (status, body) = status_and_json(app.upload(Some(&stranger), id, "application/pdf", PDF.to_vec()).await).await;
        assert_eq!((status, body), (StatusCode::UNAUTHORIZED, error("Not authorized")));
        // Whose ticket it is decides before the file does (the design's order).
        let (status, body) = status_and_json(app.upload(Some(&stranger), id, "image/png", PDF.to_vec()).await).await;
        assert_eq!((status, body), (StatusCode::UNAUTHORIZED, error("Not authorized")));
        let unknown = uuid::Uuid::now_v7().to_string();
        assert_eq!(app.upload(Some(&seller), &unknown, "application/pdf", PDF.to_vec()).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.upload(Some(&seller), &unknown, "text/html", b"<html>".to_vec()).await.status(), StatusCode::NOT_FOUND);
        let lies = field_error("file", "The file is not what its Content-Type says, or cannot be read");
        for (content_type, body, expected) in [
            ("application/pdf", PNG.to_vec(), lies.clone()),
            ("image/png", PDF.to_vec(), lies.clone()),
            ("image/jpeg", b"<html>".to_vec(), lies.clone()),
            ("application/pdf", Vec::new(), lies),
            ("text/html", b"<html>".to_vec(), field_error("file", "The file must be a PDF, PNG or JPEG (Content-Type application/pdf, image/png or image/jpeg)")),
        ] {
            let (status, refused) = status_and_json(app.upload(Some(&seller), id, content_type, body).await).await;
            assert_eq!((status, refused), (StatusCode::BAD_REQUEST, expected), "{content_type}");
        }
        let mut too_big = PDF.to_vec();
        too_big.resize(5 * 1024 * 1024 + 1, b' ');
        let (status, body) = status_and_json(app.upload(Some(&seller), id, "application/pdf", too_big).await).await;
        assert_eq!((status, body), (StatusCode::PAYLOAD_TOO_LARGE, error("Request body is too large")));
        assert_eq!(app.own(&seller, "/api/tickets/mine", id).await["hasFile"], json!(false), "nothing refused was kept");
        // Exactly 5 MB is a ticket.
        let mut largest = PDF.to_vec();
        largest.resize(5 * 1024 * 1024, b' ');
        assert_eq!(app.upload(Some(&seller), id, "application/pdf", largest.clone()).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(bytes_of(app.download(Some(&seller), id).await).await, (StatusCode::OK, largest));
        // Replaced while for sale.
        assert_eq!(app.upload(Some(&seller), id, "image/png", PNG.to_vec()).await.status(), StatusCode::NO_CONTENT);
        let response = app.download(Some(&seller), id).await;
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header("content-type").as_deref(), Some("image/png"));
        assert_eq!(header("cache-control").as_deref(), Some("no-store"));
        assert_eq!(header("content-disposition"), Some(format!("attachment; filename=\"ticket-{id}.png\"")));
        assert_eq!(response.bytes().await.unwrap().as_ref(), PNG);
        assert_eq!(app.own(&seller, "/api/tickets/mine", id).await["hasFile"], json!(true));
    }

    async fn the_file_is_the_buyers_once_the_order_completes_and_nobody_elses(topology) {
        let app = TicketsApp::spawn(topology).await;
        let mut delivered = EventLog::watch(app.bus(), &["ticket:delivered", "delivery:scheduled"]).await;
        let (seller, buyer, stranger) = (app.user(), app.user(), app.user());
        let ticket = app.sell(&seller, "Seat", json!(20)).await;
        let id = ticket["id"].as_str().unwrap();
        assert_eq!(app.upload(Some(&seller), id, "application/pdf", PDF.to_vec()).await.status(), StatusCode::NO_CONTENT);
        let not_found = (StatusCode::NOT_FOUND, error("Not Found"));
        assert_eq!(app.download(None, id).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(status_and_json(app.download(Some(&stranger), id).await).await, not_found);
        assert_eq!(status_and_json(app.download(Some(&buyer), id).await).await, not_found, "before the sale");
        // A reservation that was cancelled gives its buyer nothing either.
        let dropped = uuid::Uuid::now_v7().to_string();
        let reserved = OrderCreated {
            id: dropped.clone(),
            version: 0,
            status: OrderStatus::Created,
            user_id: stranger.id.clone(),
            expires_at: "2030-01-01T00:00:00.000Z".into(),
            ticket: OrderedTicket { id: id.into(), price: 2000, version: ticket["version"].as_i64() },
            total: None,
        };
        publish_event(app.bus(), &reserved).await;
        app.status_is(id, "reserved").await;
        assert_eq!(status_and_json(app.download(Some(&stranger), id).await).await, not_found, "while reserved");
        let cancelled = OrderCancelled { id: dropped, version: 1, ticket: TicketRef { id: id.into() }, reason: CancelReason::Cancelled };
        publish_event(app.bus(), &cancelled).await;
        let ticket = app.status_is(id, "for_sale").await;
        assert_eq!(status_and_json(app.download(Some(&stranger), id).await).await, not_found, "once cancelled");

        let order = uuid::Uuid::now_v7().to_string();
        app.bought(&buyer, &ticket, &order).await;
        let (subject, data) = delivered.next().await;
        assert_eq!((subject.as_str(), data), ("ticket:delivered", json!({"id": id, "orderId": order, "buyerId": buyer.id, "sellerId": seller.id, "atSale": true})));
        assert_eq!(bytes_of(app.download(Some(&buyer), id).await).await, (StatusCode::OK, PDF.to_vec()));
        assert_eq!(bytes_of(app.download(Some(&seller), id).await).await, (StatusCode::OK, PDF.to_vec()));
        assert_eq!(status_and_json(app.download(Some(&stranger), id).await).await, not_found);
        let own = app.own(&buyer, "/api/tickets/bought", id).await;
        assert_eq!((&own["delivery"], own.get("hasFile")), (&json!("delivered"), None));
        assert_eq!(app.own(&stranger, "/api/tickets/bought", id).await, Value::Null);
        let (status, body) = status_and_json(app.upload(Some(&seller), id, "image/png", PNG.to_vec()).await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, error("The ticket has been delivered")));
        delivered.expect_none(std::time::Duration::from_millis(300)).await;
    }

    async fn a_ticket_sold_without_its_file_is_delivered_when_the_seller_uploads_it(topology) {
        let app = TicketsApp::spawn(topology).await;
        let mut log = EventLog::watch(app.bus(), &["ticket:delivered", "delivery:scheduled"]).await;
        let (seller, buyer) = (app.user(), app.user());
        let ticket = app.sell(&seller, "Seat", json!(20)).await;
        let id = ticket["id"].as_str().unwrap();
        let order = uuid::Uuid::now_v7().to_string();
        let sold_at = gittix_shared::time::unix_millis();
        app.bought(&buyer, &ticket, &order).await;
        let (subject, data) = log.next().await;
        assert_eq!((subject.as_str(), &data["ticketId"], &data["orderId"]), ("delivery:scheduled", &json!(id), &json!(order)));
        // 48 hours by default.
        let due_at = data["dueAt"].as_i64().unwrap();
        assert!((due_at - sold_at - 48 * 3_600_000).abs() < 60_000, "{data}");
        let mine = app.own(&seller, "/api/tickets/mine", id).await;
        assert_eq!((&mine["delivery"], &mine["deliveryDueAt"]), (&json!("awaiting"), &json!(gittix_shared::time::iso8601(due_at))));
        assert_eq!(status_and_json(app.download(Some(&buyer), id).await).await.0, StatusCode::NOT_FOUND, "nothing to download yet");

        assert_eq!(app.upload(Some(&seller), id, "application/pdf", PDF.to_vec()).await.status(), StatusCode::NO_CONTENT);
        let (subject, data) = log.next().await;
        assert_eq!((subject.as_str(), &data["atSale"]), ("ticket:delivered", &json!(false)), "delivered by the upload, not the sale");
        assert_eq!(bytes_of(app.download(Some(&buyer), id).await).await, (StatusCode::OK, PDF.to_vec()));
        assert_eq!(app.ticket(id).await["version"], json!(3), "delivered: one more version");
        // Its deadline passing now changes nothing.
        publish_event(app.bus(), &DeliveryDue { ticket_id: id.into(), order_id: order.clone() }).await;
        log.expect_none(std::time::Duration::from_millis(300)).await;
        assert_eq!(app.own(&buyer, "/api/tickets/bought", id).await["delivery"], json!("delivered"));
    }

    async fn a_missed_deadline_makes_the_ticket_undelivered_and_refuses_a_late_upload(topology) {
        // A deadline of about a second, so an upload after it comes before any timer.
        let config = TicketsConfig { delivery_deadline_hours: 0.0003, ..TicketsConfig::default() };
        let app = TicketsApp::spawn_with(topology, config).await;
        let mut log = EventLog::watch(app.bus(), &["ticket:undelivered", "ticket:delivered"]).await;
        let (seller, buyer) = (app.user(), app.user());
        let ticket = app.sell(&seller, "Seat", json!(20)).await;
        let id = ticket["id"].as_str().unwrap();
        let order = uuid::Uuid::now_v7().to_string();
        app.bought(&buyer, &ticket, &order).await;
        tokio::time::sleep(std::time::Duration::from_millis(1_300)).await;
        let (status, body) = status_and_json(app.upload(Some(&seller), id, "application/pdf", PDF.to_vec()).await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, error("The delivery deadline has passed")));
        assert_eq!(app.own(&buyer, "/api/tickets/bought", id).await["delivery"], json!("awaiting"), "the timer decides, once it fires");

        // The expiration service's timer fires.
        publish_event(app.bus(), &DeliveryDue { ticket_id: id.into(), order_id: order.clone() }).await;
        let (subject, data) = log.next().await;
        assert_eq!((subject.as_str(), data), ("ticket:undelivered", json!({"id": id, "orderId": order, "buyerId": buyer.id, "sellerId": seller.id})));
        let bought = app.own(&buyer, "/api/tickets/bought", id).await;
        assert_eq!((&bought["delivery"], bought.get("deliveryDueAt")), (&json!("undelivered"), None));
        let (status, body) = status_and_json(app.upload(Some(&seller), id, "application/pdf", PDF.to_vec()).await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, error("The delivery deadline has passed")));
        assert_eq!(status_and_json(app.download(Some(&buyer), id).await).await.0, StatusCode::NOT_FOUND);
        // Fired twice: nothing more.
        publish_event(app.bus(), &DeliveryDue { ticket_id: id.into(), order_id: order }).await;
        log.expect_none(std::time::Duration::from_millis(300)).await;
    }

    async fn a_withdrawn_ticket_takes_no_file(topology) {
        let app = TicketsApp::spawn(topology).await;
        let seller = app.user();
        let ticket = app.sell(&seller, "Seat", json!(20)).await;
        let id = ticket["id"].as_str().unwrap();
        app.delete(Some(&seller), id).await;
        let (status, body) = status_and_json(app.upload(Some(&seller), id, "application/pdf", PDF.to_vec()).await).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, error("The ticket was withdrawn")));
    }
}
