//! The HTTP client of the load: hyper's pooled HTTP/1.1 client, light enough that the load it
//! drives measures the server, not the client (both share the machine's cores).

use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// One answer, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Bytes,
    /// The `session=…` pair of a `Set-Cookie`, ready to send back.
    pub session: Option<String>,
}

impl Reply {
    pub fn json(&self) -> anyhow::Result<Value> {
        serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "{} answered with a body that is not JSON: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The string field `name` of a JSON object body.
    pub fn field(&self, name: &str) -> anyhow::Result<String> {
        self.json()?[name]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no \"{name}\" in {}", String::from_utf8_lossy(&self.body)))
    }

    /// Fails unless the status is `expected`, quoting the body.
    pub fn expect(self, expected: u16) -> anyhow::Result<Self> {
        anyhow::ensure!(
            self.status.as_u16() == expected,
            "expected {expected}, got {}: {}",
            self.status,
            String::from_utf8_lossy(&self.body)
        );
        Ok(self)
    }
}

/// A client of one server, by base URL (`http://127.0.0.1:3000`).
#[derive(Clone)]
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

impl Http {
    pub fn new(base: &str) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(usize::MAX)
            .build(connector);
        Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> anyhow::Result<Reply> {
        self.send(Method::GET, path, cookie, None).await
    }

    pub async fn post(
        &self,
        path: &str,
        cookie: Option<&str>,
        body: &Value,
    ) -> anyhow::Result<Reply> {
        self.send(Method::POST, path, cookie, Some(body)).await
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        body: Option<&Value>,
    ) -> anyhow::Result<Reply> {
        let body = match body {
            Some(json) => Some(("application/json", Bytes::from(serde_json::to_vec(json)?))),
            None => None,
        };
        self.send_bytes(method, path, cookie, body).await
    }

    /// `method path` with a body of `(content type, bytes)`, a ticket's file say.
    pub async fn send_bytes(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        body: Option<(&str, Bytes)>,
    ) -> anyhow::Result<Reply> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        let body = match body {
            Some((content_type, bytes)) => {
                request = request.header(CONTENT_TYPE, content_type);
                Full::new(bytes)
            }
            None => Full::new(Bytes::new()),
        };
        let response = tokio::time::timeout(
            Duration::from_secs(30),
            self.client.request(request.body(body)?),
        )
        .await
        .context("no answer within 30 s")??;
        let status = response.status();
        let session = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .find(|pair| pair.starts_with("session="))
            .map(str::to_owned);
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Reply {
            status,
            body,
            session,
        })
    }
}
