//! Binding the port, serving, and relaying outboxes: the same for both modes.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use gittix_shared::bus::Bus;
use gittix_shared::db::Db;
use gittix_shared::relay::{self, RelaySettings};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

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

/// The outbox relays of the services in this process, one per service database.
pub struct Relays {
    relays: Vec<(Db, JoinHandle<()>)>,
    bus: Arc<dyn Bus>,
}

impl Relays {
    pub fn start(databases: &[Db], bus: &Arc<dyn Bus>) -> Self {
        let relays = databases
            .iter()
            .map(|db| {
                (
                    db.clone(),
                    relay::spawn(db.clone(), bus.clone(), RelaySettings::default()),
                )
            })
            .collect();
        Self {
            relays,
            bus: bus.clone(),
        }
    }

    /// Stops the relays and publishes what their outboxes still hold, so a clean shutdown
    /// leaves no event behind.
    pub async fn flush(self) {
        for (db, relay) in self.relays {
            relay.abort();
            relay::flush(&db, self.bus.as_ref(), Duration::from_secs(5)).await;
        }
    }
}
