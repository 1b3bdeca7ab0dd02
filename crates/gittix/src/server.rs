//! Serving the services of this process on one port, and stopping them: the same for both modes.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use gittix_shared::server::ServerLimits;
use gittix_shared::service::Service;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// How long the background tasks of a stopping service may take: the relay flushes its outbox
/// within five seconds, and a listener finishes the message in hand.
const STOP_DEADLINE: Duration = Duration::from_secs(10);

/// Binds `host:port`, prints where GitTix listens (a plain line for the person or script that
/// started it; the JSON logs follow), and serves until SIGTERM or Ctrl-C. Then it stops taking
/// requests, finishes those in flight, fires `shutdown` and waits for every
/// service's tasks, so the outboxes are flushed and no message is left half handled.
pub async fn serve(
    app: Router,
    host: IpAddr,
    port: u16,
    limits: ServerLimits,
    what: &str,
    shutdown: &CancellationToken,
    services: Vec<Service>,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind((host, port))
        .await
        .with_context(|| format!("binding {host}:{port}"))?;
    let address = listener.local_addr()?;
    println!("{what} listening on http://{address}");
    tracing::info!(%address, "{what} started");
    let served = gittix_shared::http::serve(listener, app, limits).await;
    shutdown.cancel();
    for service in services {
        service.stop(STOP_DEADLINE).await;
    }
    served?;
    tracing::info!("{what} stopped");
    Ok(())
}
