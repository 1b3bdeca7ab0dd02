//! A relay between the Stripe stand-in's webhooks and payments (through the gateway) that can
//! be told to lose them, deliver each twice, or hold them and deliver them in reverse order, as
//! Stripe's own deliveries may be lost, repeated and out of order.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::CONTENT_TYPE;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Delivery {
    Forward = 0,
    /// Acknowledged to Stripe and never delivered.
    Lost = 1,
    /// Delivered twice.
    Duplicated = 2,
    /// Held, then delivered newest first, every two seconds and when the fault ends.
    Reordered = 3,
}

/// What the relay did, for the report.
#[derive(Debug, Default, Clone, Copy)]
pub struct Deliveries {
    pub received: u64,
    pub lost: u64,
    pub delivered: u64,
    /// Deliveries payments answered with a 5xx (a 4xx is an answer: "send it again later").
    pub failed: u64,
}

#[derive(Clone)]
pub struct FaultyWebhooks {
    relay: Relay,
    pub url: String,
}

#[derive(Clone)]
struct Relay {
    delivery: Arc<AtomicU8>,
    target: String,
    client: Client<HttpConnector, Full<Bytes>>,
    held: Arc<Mutex<Vec<Webhook>>>,
    counts: Arc<[AtomicU64; 4]>,
}

#[derive(Clone)]
struct Webhook {
    signature: String,
    body: Bytes,
}

const RECEIVED: usize = 0;
const LOST: usize = 1;
const DELIVERED: usize = 2;
const FAILED: usize = 3;

impl FaultyWebhooks {
    pub fn set(&self, delivery: Delivery) {
        self.relay.delivery.store(delivery as u8, Ordering::SeqCst);
    }

    /// Delivers what is held (newest first), as the end of a reordering fault.
    pub async fn flush(&self) {
        self.relay.deliver_held().await;
    }

    pub fn deliveries(&self) -> Deliveries {
        let count = |i: usize| self.relay.counts[i].load(Ordering::SeqCst);
        Deliveries {
            received: count(RECEIVED),
            lost: count(LOST),
            delivered: count(DELIVERED),
            failed: count(FAILED),
        }
    }
}

/// Listens on a free port of 127.0.0.1 and passes each webhook on to `target` (payments'
/// webhook route) until told otherwise.
pub async fn start(target: &str) -> anyhow::Result<FaultyWebhooks> {
    let relay = Relay {
        delivery: Arc::new(AtomicU8::new(Delivery::Forward as u8)),
        target: target.to_owned(),
        client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
        held: Arc::new(Mutex::new(Vec::new())),
        counts: Arc::new(Default::default()),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/webhook", listener.local_addr()?);
    let app = axum::Router::new()
        .fallback(receive)
        .with_state(relay.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let reorderer = relay.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            reorderer.deliver_held().await;
        }
    });
    Ok(FaultyWebhooks { relay, url })
}

async fn receive(State(relay): State<Relay>, request: Request) -> StatusCode {
    let (parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return StatusCode::BAD_REQUEST;
    };
    let webhook = Webhook {
        signature: signature(&parts.headers),
        body,
    };
    relay.counts[RECEIVED].fetch_add(1, Ordering::SeqCst);
    match relay.delivery.load(Ordering::SeqCst) {
        d if d == Delivery::Lost as u8 => {
            relay.counts[LOST].fetch_add(1, Ordering::SeqCst);
            StatusCode::OK
        }
        d if d == Delivery::Duplicated as u8 => {
            relay.deliver(&webhook).await;
            relay.deliver(&webhook).await
        }
        d if d == Delivery::Reordered as u8 => {
            relay.held.lock().expect("not poisoned").push(webhook);
            StatusCode::OK
        }
        _ => relay.deliver(&webhook).await,
    }
}

fn signature(headers: &HeaderMap) -> String {
    headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

impl Relay {
    async fn deliver(&self, webhook: &Webhook) -> StatusCode {
        let request = hyper::Request::post(&self.target)
            .header(CONTENT_TYPE, "application/json")
            .header("stripe-signature", &webhook.signature)
            .body(Full::new(webhook.body.clone()));
        let status = match request {
            Ok(request) => match self.client.request(request).await {
                Ok(answer) => answer.status(),
                Err(_) => StatusCode::BAD_GATEWAY,
            },
            Err(_) => StatusCode::BAD_REQUEST,
        };
        self.counts[DELIVERED].fetch_add(1, Ordering::SeqCst);
        if status.is_server_error() {
            self.counts[FAILED].fetch_add(1, Ordering::SeqCst);
        }
        status
    }

    async fn deliver_held(&self) {
        let held = std::mem::take(&mut *self.held.lock().expect("not poisoned"));
        for webhook in held.iter().rev() {
            self.deliver(webhook).await;
        }
    }
}
