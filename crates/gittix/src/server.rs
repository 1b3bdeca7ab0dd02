//! Binding the port and serving, the same for both modes.

use std::net::IpAddr;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;

/// Binds `host:port`, prints where GitTix listens (a plain line for the person or script that
/// started it; the JSON logs follow), and serves until SIGTERM or Ctrl-C.
pub async fn listen(app: Router, host: IpAddr, port: u16, what: &str) -> anyhow::Result<()> {
    let listener = TcpListener::bind((host, port))
        .await
        .with_context(|| format!("binding {host}:{port}"))?;
    let address = listener.local_addr()?;
    println!("{what} listening on http://{address}");
    tracing::info!(%address, "{what} started");
    gittix_shared::http::serve(listener, app).await?;
    tracing::info!("{what} stopped");
    Ok(())
}
