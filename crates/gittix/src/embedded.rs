//! Embedded mode: every service in this process, each with its own SQLite file, talking through
//! the embedded bus (its own SQLite file too), on one port.

use std::sync::Arc;

use anyhow::Context;
use gittix_auth::AuthService;
use gittix_shared::bus::embedded::EmbeddedBus;
use gittix_shared::bus::Bus;
use gittix_shared::config::Mode;
use gittix_shared::db::Db;
use gittix_shared::http::{health_routes, with_common_layers, Dependencies, TrustProxy};

use crate::cli::Cli;
use crate::server::{listen, Relays};

pub async fn run(cli: &Cli) -> anyhow::Result<()> {
    let data_dir = &cli.embedded.data_dir;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
    let data_dir = data_dir.canonicalize()?;
    let sessions = cli.session.sessions_for_embedded(&data_dir)?;
    let trust_proxy = TrustProxy(cli.http.trust_proxy(Mode::Embedded));
    let bus: Arc<dyn Bus> = Arc::new(EmbeddedBus::open(&data_dir.join("bus.db")).await?);

    // Each service keeps its own database, as it would in distributed mode.
    let auth_db = Db::open_sqlite_file(&data_dir.join("auth.db"))?;
    let auth = AuthService::start(auth_db.clone(), sessions, &cli.auth, trust_proxy).await?;

    let databases = vec![auth_db];
    let relays = Relays::start(&databases, &bus);
    let dependencies = Dependencies {
        databases,
        bus: Some(bus),
    };
    let app = with_common_layers(
        auth.router().merge(health_routes(dependencies)),
        cli.http.body_limit_bytes,
    );

    println!("GitTix data directory: {}", data_dir.display());
    listen(app, cli.http.host(Mode::Embedded), cli.http.port, "GitTix").await?;
    relays.flush().await;
    Ok(())
}
