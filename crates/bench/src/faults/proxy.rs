//! A proxy in front of the Stripe stand-in that can be told to fail: to answer 500, to answer
//! nothing at all (payments' own timeout then gives up), or to refuse captures alone. Payments is pointed at it for
//! the whole fault suite.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::StatusCode;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Behaviour {
    Forward = 0,
    /// Every call answers 500 with Stripe's error shape.
    Error = 1,
    /// Every call is held without an answer for a minute.
    Silent = 2,
    /// Captures answer 500; every other call goes through. Authorizations succeed and their
    /// orders complete, and the money stays held until Stripe takes captures again.
    CapturesFail = 3,
}

#[derive(Clone)]
pub struct FaultyStripe {
    behaviour: Arc<AtomicU8>,
    pub url: String,
}

impl FaultyStripe {
    pub fn set(&self, behaviour: Behaviour) {
        self.behaviour.store(behaviour as u8, Ordering::SeqCst);
    }
}

#[derive(Clone)]
struct Proxy {
    behaviour: Arc<AtomicU8>,
    upstream: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// Listens on a free port of 127.0.0.1, forwarding to `upstream` until told otherwise.
pub async fn start(upstream: &str) -> anyhow::Result<FaultyStripe> {
    let behaviour = Arc::new(AtomicU8::new(Behaviour::Forward as u8));
    let proxy = Proxy {
        behaviour: behaviour.clone(),
        upstream: upstream.trim_end_matches('/').to_owned(),
        client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(FaultyStripe { behaviour, url })
}

async fn forward(State(proxy): State<Proxy>, request: Request) -> Response {
    match proxy.behaviour.load(Ordering::SeqCst) {
        b if b == Behaviour::Error as u8 => return stripe_error(),
        b if b == Behaviour::Silent as u8 => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            return stripe_error();
        }
        b if b == Behaviour::CapturesFail as u8 && request.uri().path().ends_with("/capture") => {
            return stripe_error();
        }
        _ => {}
    }
    match pass_on(&proxy, request).await {
        Ok(response) => response,
        Err(error) => (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    }
}

async fn pass_on(proxy: &Proxy, request: Request) -> anyhow::Result<Response> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut upstream = hyper::Request::builder()
        .method(parts.method)
        .uri(format!("{}{path}", proxy.upstream));
    for (name, value) in &parts.headers {
        if name != hyper::header::HOST {
            upstream = upstream.header(name, value);
        }
    }
    let body = body.collect().await?.to_bytes();
    let answer = proxy
        .client
        .request(upstream.body(Full::new(body))?)
        .await?;
    let (parts, body) = answer.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(Response::from_parts(parts, Body::from(body)))
}

fn stripe_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(hyper::header::CONTENT_TYPE, "application/json")],
        r#"{"error":{"type":"api_error","message":"injected by the GitTix fault suite"}}"#,
    )
        .into_response()
}
