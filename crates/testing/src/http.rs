//! Serving a service on a free port, sending it requests as somebody or nobody, and reading
//! what an answer sets.

use std::net::SocketAddr;

use axum::Router;
use reqwest::{Method, RequestBuilder, Response};
use tokio::net::TcpListener;

use crate::sessions::TestUser;

/// An app listening on a free loopback port for the rest of the test.
pub struct TestServer {
    pub address: SocketAddr,
    pub client: reqwest::Client,
}

impl TestServer {
    pub async fn spawn(app: Router) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding port 0");
        let address = listener.local_addr().expect("local address");
        // The server every GitTix process runs, with its default limits.
        tokio::spawn(async move {
            let limits = gittix_shared::server::ServerLimits::default();
            gittix_shared::server::serve(listener, app, limits, std::future::pending())
                .await
                .expect("test server failed");
        });
        Self {
            address,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// A request to `path`, with the session cookie of `who` when somebody sends it.
    pub fn request(&self, method: Method, path: &str, who: impl Caller) -> RequestBuilder {
        let request = self.client.request(method, self.url(path));
        match who.cookie() {
            Some(cookie) => request.header(reqwest::header::COOKIE, cookie),
            None => request,
        }
    }

    pub async fn get(&self, path: &str, who: impl Caller) -> Response {
        send(self.request(Method::GET, path, who)).await
    }

    pub async fn delete(&self, path: &str, who: impl Caller) -> Response {
        send(self.request(Method::DELETE, path, who)).await
    }

    /// `method path` with `body`: a JSON value, or text sent as written.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        who: impl Caller,
        body: impl Into<Body>,
    ) -> Response {
        let request = self.request(method, path, who);
        let request = match body.into() {
            Body::Json(value) => request.json(&value),
            Body::Raw(text) => request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(text),
        };
        send(request).await
    }
}

/// What a test sends: a JSON value, or text sent as written with a JSON content type (for what
/// `json!` cannot keep, such as exact prices or malformed documents).
pub enum Body {
    Json(serde_json::Value),
    Raw(String),
}

impl From<serde_json::Value> for Body {
    fn from(value: serde_json::Value) -> Self {
        Self::Json(value)
    }
}

impl From<&str> for Body {
    fn from(text: &str) -> Self {
        Self::Raw(text.to_owned())
    }
}

impl From<&String> for Body {
    fn from(text: &String) -> Self {
        Self::Raw(text.clone())
    }
}

/// The status and JSON body of a response (`null` for a body that is not JSON).
pub async fn status_and_json(response: Response) -> (reqwest::StatusCode, serde_json::Value) {
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

async fn send(request: RequestBuilder) -> Response {
    request.send().await.expect("request failed")
}

/// Who sends a request: a test user, a `Cookie` header value, or nobody (`None`).
pub trait Caller {
    fn cookie(&self) -> Option<&str>;
}

impl Caller for Option<&TestUser> {
    fn cookie(&self) -> Option<&str> {
        self.map(|user| user.cookie.as_str())
    }
}

impl Caller for Option<&str> {
    fn cookie(&self) -> Option<&str> {
        *self
    }
}

impl Caller for &TestUser {
    fn cookie(&self) -> Option<&str> {
        Some(&self.cookie)
    }
}

/// The `name=value` pair of the session cookie a response sets, if any.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    set_cookie_headers(response)
        .into_iter()
        .find(|c| c.starts_with(&format!("{}=", gittix_shared::session::SESSION_COOKIE)))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
}

/// Every `Set-Cookie` header of a response, whole.
pub fn set_cookie_headers(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}
