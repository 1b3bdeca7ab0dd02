//! HTTP plumbing shared by every service: the layers around its routes, health probes, the
//! client address, and serving with graceful shutdown.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, Request, StatusCode};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::bus::Bus;
use crate::db::Db;
use crate::error::ApiError;
use crate::guards;
use crate::openapi::responses::NotThroughTheGateway;

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps a service's (or several merged services') routes with what every GitTix server does:
/// 404 in the error shape for unknown routes and methods, the body size limit, a request id on
/// every request and response, and a log line per request carrying that id.
pub fn with_common_layers(router: Router, body_limit_bytes: usize) -> Router {
    with_layers_only(
        router
            .fallback(not_found)
            .method_not_allowed_fallback(not_found),
        body_limit_bytes,
    )
}

/// [`with_common_layers`] for a router that brings its own fallback (the web pages answer
/// unknown paths with a page, and [`not_found`] only under `/api`).
pub fn with_layers_only(router: Router, body_limit_bytes: usize) -> Router {
    router
        .layer(DefaultBodyLimit::max(body_limit_bytes))
        // Inside the trace and the request id, so a refusal is logged and carries its id.
        .layer(axum::middleware::from_fn(guards::refuse_cross_site_writes))
        .layer(axum::middleware::from_fn(guards::no_store_when_private))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let context = context_of(request);
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %context.request_id,
                        trace_id = %context.trace_id,
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(axum::middleware::from_fn(scope_request_id))
        // Outside the layers above, so they see the id; a client's unfit id is dropped first.
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::from_fn(guards::drop_unfit_request_id))
}

/// What identifies the request being handled: the outbox copies it into event headers so a
/// request can be followed across services.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub trace_id: String,
}

tokio::task_local! {
    static CURRENT_REQUEST: RequestContext;
}

/// The request being handled on this task, if any.
pub fn current_request() -> Option<RequestContext> {
    CURRENT_REQUEST.try_with(Clone::clone).ok()
}

fn context_of<B>(request: &Request<B>) -> RequestContext {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let request_id = header(REQUEST_ID.as_str()).unwrap_or_default().to_owned();
    let trace_id = crate::trace::trace_id_for(header("traceparent"), &request_id);
    RequestContext {
        request_id,
        trace_id,
    }
}

async fn scope_request_id(
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let context = context_of(&request);
    CURRENT_REQUEST.scope(context, next.run(request)).await
}

/// The API's answer to an unknown route or method: 404 in the error shape.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// What `/readyz` checks: the databases the process owns, the bus it talks to, and anything else
/// it cannot work without (named, for the answer).
#[derive(Clone, Default)]
pub struct Dependencies {
    pub databases: Vec<Db>,
    pub bus: Option<Arc<dyn Bus>>,
    pub others: Vec<(&'static str, Arc<dyn Probe>)>,
}

/// Something `/readyz` can ask whether it answers.
#[async_trait::async_trait]
pub trait Probe: Send + Sync + 'static {
    async fn probe(&self) -> anyhow::Result<()>;
}

/// `/healthz` (the process answers), `/readyz` (its databases and bus answer) and `/metrics`,
/// for the cluster only: asked through a gateway they answer 404 ([`inside_only`]).
pub fn health_routes(dependencies: Dependencies) -> Router {
    crate::metrics::install();
    Router::from(health_router().with_state(dependencies))
        .layer(axum::middleware::from_fn(inside_only))
}

/// 404 for a request that came through a gateway. nginx and ingress-nginx add
/// `X-Forwarded-For` to every request they pass on, and a client cannot take it off, while
/// kubelet's probes and Prometheus reach the pod directly. So the web service's operations
/// routes, on the port the gateway sends every page path to, stay out of the internet's reach.
async fn inside_only(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let headers = request.headers();
    if headers.contains_key("x-forwarded-for") || headers.contains_key("forwarded") {
        return axum::response::IntoResponse::into_response(ApiError::NotFound);
    }
    next.run(request).await
}

/// The health routes' part of the OpenAPI document.
pub fn health_openapi() -> utoipa::openapi::OpenApi {
    health_router().into_openapi()
}

fn health_router() -> OpenApiRouter<Dependencies> {
    OpenApiRouter::new()
        .routes(routes!(liveness))
        .routes(routes!(readiness))
        .routes(routes!(metrics))
}

/// `GET /healthz`.
#[utoipa::path(get, path = "/healthz", operation_id = "liveness", tag = "operations",
    responses((status = 200, description = "The process answers", body = String, content_type = "text/plain"), NotThroughTheGateway))]
pub(crate) async fn liveness() -> &'static str {
    "ok"
}

/// `GET /metrics`.
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain"), NotThroughTheGateway))]
pub(crate) async fn metrics() -> String {
    crate::metrics::render()
}

/// `GET /readyz`.
#[utoipa::path(get, path = "/readyz", operation_id = "readiness", tag = "operations", responses(
    (status = 200, description = "The databases and the bus answer", body = String, content_type = "text/plain"),
    (status = 503, description = "What does not answer", body = String, content_type = "text/plain"),
    NotThroughTheGateway,
))]
pub(crate) async fn readiness(
    State(dependencies): State<Dependencies>,
) -> Result<&'static str, (StatusCode, &'static str)> {
    for db in &dependencies.databases {
        db.ping()
            .await
            .map_err(|_| (StatusCode::SERVICE_UNAVAILABLE, "database unreachable"))?;
    }
    if let Some(bus) = &dependencies.bus {
        bus.ping()
            .await
            .map_err(|_| (StatusCode::SERVICE_UNAVAILABLE, "event bus unreachable"))?;
    }
    for (name, dependency) in &dependencies.others {
        if dependency.probe().await.is_err() {
            return Err((StatusCode::SERVICE_UNAVAILABLE, name));
        }
    }
    Ok("ready")
}

/// Serves `app` until SIGTERM or Ctrl-C, then stops accepting and finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: crate::server::ServerLimits,
) -> std::io::Result<()> {
    crate::server::serve(listener, app, limits, shutdown_signal()).await
}

/// Resolves on the first SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Whether `X-Forwarded-For` may be believed (only behind a gateway that sets it).
#[derive(Debug, Clone, Copy)]
pub struct TrustProxy(pub bool);

/// The address of the client that sent the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl<S> FromRequestParts<S> for ClientIp
where
    TrustProxy: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("server started without connect info"))
            })?;
        if !TrustProxy::from_ref(state).0 {
            return Ok(Self(peer));
        }
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        Ok(Self(client_address(peer, forwarded)))
    }
}

/// The client of a request that came from `peer` carrying `X-Forwarded-For: forwarded`, behind
/// a trusted gateway.
///
/// Each proxy appends the address it was called from, so only the right end of the list is
/// known to be true: anything to the left of it is what the client itself sent. The list is read
/// from the right, passing over internal addresses (the gateway, the web pods that forward a
/// visitor's address), and the first outside address is the client. A peer that is itself
/// outside is a client talking directly: it cannot speak for anybody else.
pub fn client_address(peer: IpAddr, forwarded: Option<&str>) -> IpAddr {
    let mut client = peer.to_canonical();
    if !is_internal(client) {
        return client;
    }
    for entry in forwarded.unwrap_or_default().rsplit(',') {
        let Ok(address) = entry.trim().parse::<IpAddr>() else {
            break;
        };
        client = address.to_canonical();
        if !is_internal(client) {
            break;
        }
    }
    client
}

/// Loopback, private (RFC 1918), link-local or IPv6 unique-local: where GitTix's own gateways
/// and pods live. A client inside these networks can still name any address it likes.
fn is_internal(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_client_that_connects_directly_cannot_name_another_address() {
        assert_eq!(
            client_address(ip("203.0.113.7"), Some("198.51.100.1")),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn behind_the_gateway_the_address_it_appended_is_the_client() {
        assert_eq!(
            client_address(ip("10.0.0.2"), Some("203.0.113.7")),
            ip("203.0.113.7")
        );
    }

    /// The bug this replaced: the first entry was believed, and a client chose it.
    #[test]
    fn what_a_client_wrote_before_the_gateways_entry_is_ignored() {
        assert_eq!(
            client_address(ip("10.0.0.2"), Some("192.0.2.99, 203.0.113.7")),
            ip("203.0.113.7")
        );
        assert_eq!(
            client_address(ip("127.0.0.1"), Some("not an address, 203.0.113.7")),
            ip("203.0.113.7")
        );
    }

    /// The web pods call the APIs through the gateway, forwarding the visitor's address: the
    /// gateway then appends the pod's. The visitor is the client, so each has its own limit.
    #[test]
    fn a_visitor_forwarded_by_the_web_pods_is_the_client() {
        assert_eq!(
            client_address(ip("10.0.0.2"), Some("198.51.100.9, 10.1.2.3")),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn an_entry_that_is_not_an_address_ends_the_walk() {
        assert_eq!(
            client_address(ip("10.0.0.2"), Some("203.0.113.7:443")),
            ip("10.0.0.2")
        );
        assert_eq!(client_address(ip("10.0.0.2"), None), ip("10.0.0.2"));
        assert_eq!(
            client_address(ip("::ffff:10.0.0.2"), Some("::ffff:203.0.113.7")),
            ip("203.0.113.7")
        );
    }

    proptest! {
        /// Whatever the header says, the answer is the peer or an address the header holds, and
        /// an outside peer is always itself.
        #[test]
        fn the_client_is_the_peer_or_an_address_the_header_holds(
            peer in any::<IpAddr>(),
            entries in proptest::collection::vec(any::<IpAddr>(), 0..5),
            junk in proptest::option::of("[ -+\\--~]{0,20}"),
        ) {
            let mut header: Vec<String> = entries.iter().map(ToString::to_string).collect();
            if let Some(junk) = &junk {
                header.insert(0, junk.clone());
            }
            let header = header.join(",");
            let client = client_address(peer, Some(&header));
            let canonical: Vec<IpAddr> = entries.iter().map(|e| e.to_canonical()).collect();
            prop_assert!(client == peer.to_canonical() || canonical.contains(&client)
                || junk.as_deref().and_then(|j| j.trim().parse::<IpAddr>().ok()).map(|j| j.to_canonical()) == Some(client));
            if !is_internal(peer.to_canonical()) {
                prop_assert_eq!(client, peer.to_canonical());
            }
            // The last outside entry, when there is one and everything after it parsed.
            if is_internal(peer.to_canonical()) {
                if let Some(last_outside) = canonical.iter().rev().find(|e| !is_internal(**e)) {
                    prop_assert_eq!(client, *last_outside);
                }
            }
        }
    }
}
