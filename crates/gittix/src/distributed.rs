//! Distributed mode: one service in this process, its PostgreSQL database from `DATABASE_URL`,
//! events through NATS JetStream.

use std::sync::Arc;

use anyhow::Context;
use gittix_auth::AuthService;
use gittix_orders::OrdersService;
use gittix_shared::bus::jetstream::JetStreamBus;
use gittix_shared::bus::Bus;
use gittix_shared::config::Mode;
use gittix_shared::db::{Backend, Db};
use gittix_shared::http::{health_routes, with_common_layers, Dependencies, TrustProxy};
use gittix_shared::listener::ListenerSettings;
use gittix_tickets::TicketsService;

use crate::cli::{Cli, Service};
use crate::server::{listen, Relays};

pub async fn run(cli: &Cli, service: Service) -> anyhow::Result<()> {
    let sessions = cli.session.sessions_for_distributed()?;
    let url = cli
        .distributed
        .database_url
        .as_deref()
        .context("DATABASE_URL is not set; `serve` needs the service's PostgreSQL database")?;
    if Backend::of_url(url)? != Backend::Postgres {
        anyhow::bail!("DATABASE_URL must be a postgres:// URL in distributed mode");
    }
    let db = Db::connect_lazy(url, &cli.distributed.pool.settings())?;
    let trust_proxy = TrustProxy(cli.http.trust_proxy(Mode::Distributed));
    let bus: Arc<dyn Bus> = Arc::new(JetStreamBus::connect(cli.distributed.jetstream()).await?);

    let listeners = ListenerSettings::default();
    // Listener handles live as long as the process serves.
    let (routes, _listener) = match service {
        Service::Auth => {
            let auth = AuthService::start(db.clone(), sessions, &cli.auth, trust_proxy).await?;
            (auth.router(), Vec::new())
        }
        Service::Tickets => {
            let tickets = TicketsService::start(db.clone(), sessions).await?;
            let listener = tickets.listener(bus.clone(), listeners).start().await?;
            (tickets.router(), listener)
        }
        Service::Orders => {
            let orders = OrdersService::start(db.clone(), sessions, &cli.orders).await?;
            let listener = orders.listener(bus.clone(), listeners).start().await?;
            (orders.router(), listener)
        }
    };
    let databases = vec![db];
    let relays = Relays::start(&databases, &bus);
    let dependencies = Dependencies {
        databases,
        bus: Some(bus),
    };
    let app = with_common_layers(
        routes.merge(health_routes(dependencies)),
        cli.http.body_limit_bytes,
    );

    let what = format!("GitTix {service:?}");
    listen(app, cli.http.host(Mode::Distributed), cli.http.port, &what).await?;
    relays.flush().await;
    Ok(())
}
