//! The pages' way to the services: the same HTTP routes a script would call, with the visitor's
//! session cookie.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tower::ServiceExt;

use crate::errors::{FormErrors, PageError};
use crate::visitor::Visitor;

/// Largest API answer the pages read (a page of tickets is far smaller).
const MAX_REPLY_BYTES: usize = 8 * 1024 * 1024;

#[derive(Clone)]
pub enum Api {
    /// Embedded mode: the API routes of this process, called without a network hop.
    InProcess(Router),
    /// Distributed mode: the gateway in front of the services.
    Remote {
        client: reqwest::Client,
        base_url: String,
    },
}

/// An API's answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body read as JSON (`null` when it is not).
    pub body: Value,
    /// The body as it came, for an answer that is a file.
    pub bytes: axum::body::Bytes,
}

/// What a request sends: JSON, or a file as it is.
pub(crate) enum Payload {
    Json(Value),
    File {
        content_type: String,
        bytes: axum::body::Bytes,
    },
}

impl Payload {
    fn content_type(&self) -> &str {
        match self {
            Self::Json(_) => "application/json",
            Self::File { content_type, .. } => content_type,
        }
    }

    fn into_bytes(self) -> axum::body::Bytes {
        match self {
            Self::Json(json) => json.to_string().into(),
            Self::File { bytes, .. } => bytes,
        }
    }
}

impl Api {
    /// Talks to the gateway at `base_url` (e.g. `http://gateway:8080`).
    pub fn remote(base_url: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self::Remote {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Whether the APIs answer (for `/readyz` of `serve web`): the auth API's current-user
    /// route answers 200 to anyone while auth and the gateway are up.
    pub async fn ping(&self) -> anyhow::Result<()> {
        let visitor = Visitor::anonymous();
        let reply = self
            .get(&visitor, "/api/users/currentuser")
            .await
            .map_err(|_| anyhow::anyhow!("the API cannot be reached"))?;
        anyhow::ensure!(
            reply.status.is_success(),
            "the API answered {}",
            reply.status
        );
        Ok(())
    }

    pub(crate) async fn get(&self, visitor: &Visitor, path: &str) -> Result<Reply, PageError> {
        self.send(visitor, Method::GET, path, None).await
    }

    /// Sends one request as `visitor`. Only a failure to reach the API is an error here; the
    /// caller decides what each status means (see [`Reply::checked`]).
    pub(crate) async fn send(
        &self,
        visitor: &Visitor,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Reply, PageError> {
        self.send_payload(visitor, method, path, body.map(Payload::Json))
            .await
    }

    /// [`Api::send`] with any payload.
    pub(crate) async fn send_payload(
        &self,
        visitor: &Visitor,
        method: Method,
        path: &str,
        body: Option<Payload>,
    ) -> Result<Reply, PageError> {
        match self {
            Self::InProcess(router) => in_process(router, visitor, method, path, body).await,
            Self::Remote { client, base_url } => {
                remote(client, base_url, visitor, method, path, body).await
            }
        }
    }
}

async fn in_process(
    router: &Router,
    visitor: &Visitor,
    method: Method,
    path: &str,
    body: Option<Payload>,
) -> Result<Reply, PageError> {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(session) = &visitor.session {
        request = request.header(header::COOKIE, format!("session={session}"));
    }
    if let Some(id) = &visitor.request_id {
        request = request.header("x-request-id", id);
    }
    let body = match body {
        Some(payload) => {
            request = request.header(header::CONTENT_TYPE, payload.content_type());
            Body::from(payload.into_bytes())
        }
        None => Body::empty(),
    };
    let mut request = request.body(body).map_err(PageError::internal)?;
    // The API's rate limits count by client address, as if the browser had called it.
    let address = visitor.address.unwrap_or(IpAddr::from([127, 0, 0, 1]));
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(address, 0)));
    let response = router
        .clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {});
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_REPLY_BYTES)
        .await
        .map_err(PageError::internal)?;
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        bytes,
    })
}

async fn remote(
    client: &reqwest::Client,
    base_url: &str,
    visitor: &Visitor,
    method: Method,
    path: &str,
    body: Option<Payload>,
) -> Result<Reply, PageError> {
    let mut request = client.request(method, format!("{base_url}{path}"));
    if let Some(session) = &visitor.session {
        request = request.header(header::COOKIE, format!("session={session}"));
    }
    if let Some(id) = &visitor.request_id {
        request = request.header("x-request-id", id);
    }
    if let Some(address) = visitor.address {
        request = request.header("x-forwarded-for", address.to_string());
    }
    if let Some(payload) = body {
        request = request
            .header(header::CONTENT_TYPE, payload.content_type())
            .body(payload.into_bytes());
    }
    let response = request.send().await.map_err(|error| {
        tracing::warn!(%error, "the API cannot be reached");
        PageError::Unavailable
    })?;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.map_err(|error| {
        tracing::warn!(%error, "the API's answer was cut off");
        PageError::Unavailable
    })?;
    Ok(Reply {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        bytes,
    })
}

impl Reply {
    /// Turns the answers no form can show into the page's error: 401 asks to sign in (or says
    /// the thing is someone else's), 404 is a missing page, 5xx is trouble. Success and 400
    /// stay with the caller.
    pub(crate) fn checked(self, visitor: &Visitor) -> Result<Self, PageError> {
        match self.status {
            StatusCode::UNAUTHORIZED if visitor.session.is_some() => Err(PageError::NotYours),
            StatusCode::UNAUTHORIZED => Err(PageError::SignInRequired(visitor.page.clone())),
            StatusCode::NOT_FOUND => Err(PageError::NotFound),
            StatusCode::SERVICE_UNAVAILABLE => Err(PageError::Unavailable),
            status if status.is_server_error() => Err(PageError::internal(anyhow::anyhow!(
                "the API answered {status}"
            ))),
            StatusCode::TOO_MANY_REQUESTS | StatusCode::PAYLOAD_TOO_LARGE => Ok(self),
            status if status.is_success() || status == StatusCode::BAD_REQUEST => Ok(self),
            status => Err(PageError::internal(anyhow::anyhow!(
                "unexpected answer from the API: {status}"
            ))),
        }
    }

    pub(crate) fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The body as `T`, for a successful answer.
    pub(crate) fn json<T: DeserializeOwned>(self) -> Result<T, PageError> {
        serde_json::from_value(self.body).map_err(PageError::internal)
    }

    /// The errors of a refused request, by field.
    pub(crate) fn errors(&self) -> FormErrors {
        FormErrors::from_api(&self.body)
    }

    /// The `Set-Cookie` headers, passed on to the browser after sign-in and sign-out.
    pub(crate) fn set_cookies(&self) -> impl Iterator<Item = &axum::http::HeaderValue> {
        self.headers.get_all(header::SET_COOKIE).iter()
    }
}
