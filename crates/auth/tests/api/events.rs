//! Auth's events leave through the service's own outbox relay and reach the bus, in both
//! topologies.

use std::time::Duration;

use gittix_shared::bus::{header, Bus, DeliverySettings, Subscription};
use gittix_shared::events::{Event, UserCreated, UserUpdated};
use gittix_testing::Topology;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

async fn observe(bus: &dyn Bus) -> Box<dyn Subscription> {
    let subjects = [
        UserCreated::SUBJECT.to_owned(),
        UserUpdated::SUBJECT.to_owned(),
    ];
    bus.subscribe("observer", &subjects, &DeliverySettings::default())
        .await
        .unwrap()
}

/// The next event: subject, data, request id, and the trace id of its `traceparent`.
async fn next_event(
    subscription: &mut Box<dyn Subscription>,
) -> (String, Value, Option<String>, Option<String>) {
    let delivery = tokio::time::timeout(Duration::from_secs(10), subscription.next())
        .await
        .expect("no event reached the bus")
        .unwrap();
    let message = delivery.message.clone();
    delivery.ack().await.unwrap();
    let request_id = message.header(header::REQUEST_ID).map(str::to_owned);
    let trace_id = message
        .header(header::TRACEPARENT)
        .and_then(gittix_shared::trace::trace_id_of);
    (
        message.subject,
        serde_json::from_slice(&message.payload).unwrap(),
        request_id,
        trace_id,
    )
}

async fn user_events_reach_the_bus(topology: Topology) {
    let app = TestApp::relayed(topology).await;
    let mut events = observe(app.platform.bus.bus.as_ref()).await;

    let response = app.signup("test@test.com", "password").await;
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let cookie = gittix_testing::session_cookie(&response).unwrap();
    let user: Value = response.json().await.unwrap();
    let (subject, data, carried_id, trace_id) = next_event(&mut events).await;
    assert_eq!(subject, "user:created");
    assert_eq!(
        data,
        json!({"id": user["id"], "email": "test@test.com", "version": 0})
    );
    assert_eq!(
        carried_id.as_deref(),
        Some(request_id.as_str()),
        "the request id travels with the event"
    );
    assert_eq!(
        trace_id,
        Some(request_id.replace('-', "")),
        "without a traceparent, the trace is the request's id"
    );

    // A gateway's trace context is continued by the event.
    let change = json!({"currentPassword": "password", "email": "new@test.com"});
    let patched = app
        .service
        .client
        .patch(app.service.url("/api/users/currentuser"))
        .header("cookie", &cookie)
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .json(&change)
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    let (subject, data, _, trace_id) = next_event(&mut events).await;
    assert_eq!(
        trace_id.as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(subject, "user:updated");
    assert_eq!(
        data,
        json!({"id": user["id"], "email": "new@test.com", "version": 1})
    );
    // The relay deletes each row just after the bus stored it: wait for that.
    gittix_testing::eventually("the relay to empty the outbox", || async {
        app.outbox().await.is_empty().then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_events_reach_the_embedded_bus_from_sqlite() {
    user_events_reach_the_bus(Topology::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_events_reach_jetstream_from_postgres() {
    user_events_reach_the_bus(Topology::Distributed).await;
}
