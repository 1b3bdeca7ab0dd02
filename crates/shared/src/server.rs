//! The HTTP server of every GitTix process, with limits of its own so that slow or idle clients
//! cannot hold it: a connection that does not finish its request head within the header timeout
//! is closed (also an idle keep-alive connection waiting for its next request: hyper runs that
//! timer whenever it waits for a request head), a request that takes longer than the request
//! timeout answers 503, and at most `max_connections` connections are served at once; more wait
//! in the kernel's accept queue until one closes, so the process never runs out of file
//! descriptors.
//!
//! axum's own `serve` has none of these knobs, so this accept loop drives hyper directly, as
//! axum's documentation suggests for that case.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::error::ApiError;

/// How long a connection closing at shutdown may take to finish its request.
const DRAIN_DEADLINE: Duration = Duration::from_secs(30);

/// After an accept error (out of file descriptors, say), wait this long before the next.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// The limits of one listener (`HttpArgs::server_limits`).
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// A request head (and, on a kept-alive connection, the next one) must arrive within this.
    pub header_timeout: Duration,
    /// A request must be answered within this; then it is abandoned with a 503.
    pub request_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_connections: 4096,
        }
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` resolves; then stops accepting and
/// waits (at most 30 s) for the requests in flight.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let app = app.layer(axum::middleware::from_fn_with_state(
        limits.request_timeout,
        time_limit,
    ));
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = tower::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let mut request = request.map(axum::body::Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(request)
        });
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_DEADLINE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown deadline");
    }
    Ok(())
}

/// Answers 503 in the error shape for a request not answered within `limit`.
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::TimedOut.into_response(),
    }
}
