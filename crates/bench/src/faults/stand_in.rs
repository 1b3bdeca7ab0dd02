//! What the fault suite asks of the Stripe stand-in (localstripe) directly, as Stripe's own
//! parts would: the buyer's 3-D Secure answer (Stripe.js), where its webhooks go (the
//! dashboard's setting), and every PaymentIntent it holds (the dashboard's list).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Request};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// The key the cluster gives payments; localstripe takes any test key.
const SECRET_KEY: &str = "sk_test_gittix_cluster";

#[derive(Clone)]
pub struct StandIn {
    client: Client<HttpConnector, Full<Bytes>>,
    url: String,
}

impl StandIn {
    pub fn new(url: &str) -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
            url: url.trim_end_matches('/').to_owned(),
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        form: &[(&str, &str)],
    ) -> anyhow::Result<Value> {
        let body = serde_urlencoded::to_string(form)?;
        let request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url))
            .header(AUTHORIZATION, format!("Bearer {SECRET_KEY}"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(body)))?;
        let answer = self.client.request(request).await?;
        let status = answer.status();
        let body = answer.into_body().collect().await?.to_bytes();
        anyhow::ensure!(
            status.is_success(),
            "{path}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        Ok(if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body)?
        })
    }

    /// The buyer answers the 3-D Secure check of the intent whose client secret is `secret`,
    /// as Stripe.js does for localstripe.
    pub async fn answer_challenge(&self, secret: &str, complete: bool) -> anyhow::Result<()> {
        let intent = secret
            .split("_secret_")
            .next()
            .filter(|id| id.starts_with("pi_"))
            .ok_or_else(|| anyhow::anyhow!("not a client secret: {secret}"))?;
        let path = format!("/v1/payment_intents/{intent}/_authenticate");
        let success = if complete { "true" } else { "false" };
        self.call(
            Method::POST,
            &path,
            &[("client_secret", secret), ("success", success)],
        )
        .await
        .map(drop)
    }

    /// Sends the stand-in's webhooks to `url`, signed with `secret` (replacing where they went).
    pub async fn send_webhooks_to(&self, url: &str, secret: &str) -> anyhow::Result<()> {
        self.call(
            Method::POST,
            "/_config/webhooks/gittix",
            &[("url", url), ("secret", secret)],
        )
        .await
        .map(drop)
    }

    /// Every PaymentIntent the stand-in holds.
    pub async fn payment_intents(&self) -> anyhow::Result<Vec<Value>> {
        let mut intents = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut path = "/v1/payment_intents?limit=100".to_owned();
            if let Some(last) = &after {
                path.push_str(&format!("&starting_after={last}"));
            }
            let page = self.call(Method::GET, &path, &[]).await?;
            let data = page["data"].as_array().cloned().unwrap_or_default();
            after = data
                .last()
                .and_then(|i| i["id"].as_str())
                .map(str::to_owned);
            intents.extend(data);
            if page["has_more"] != Value::Bool(true) || after.is_none() {
                return Ok(intents);
            }
        }
    }
}
