//! Distributed mode: one service in this process, events through NATS JetStream. Services with a
//! database take it from `DATABASE_URL` (PostgreSQL); expiration keeps its timers in Redis.

use std::sync::Arc;

use anyhow::Context;
use gittix_auth::AuthService;
use gittix_expiration::timers::redis::RedisTimers;
use gittix_expiration::timers::Timers;
use gittix_expiration::ExpirationService;
use gittix_orders::OrdersService;
use gittix_payments::PaymentsService;
use gittix_shared::bus::jetstream::JetStreamBus;
use gittix_shared::bus::Bus;
use gittix_shared::config::Mode;
use gittix_shared::db::{Backend, Db};
use gittix_shared::http::{
    health_routes, with_common_layers, with_layers_only, Dependencies, Probe, TrustProxy,
};
use gittix_shared::listener::ListenerSettings;
use gittix_shared::session::Sessions;
use gittix_tickets::TicketsService;
use gittix_web::{with_not_found, Api, WebSettings};

use crate::api_document::api_document_routes;
use crate::cli::{Cli, Service};
use crate::server::{listen, Relays};

pub async fn run(cli: &Cli, service: Service) -> anyhow::Result<()> {
    let sessions = cli.session.sessions_for_distributed()?;
    if service == Service::Web {
        return serve_web(cli, &sessions).await;
    }
    let trust_proxy = TrustProxy(cli.http.trust_proxy(Mode::Distributed));
    let bus: Arc<dyn Bus> = Arc::new(JetStreamBus::connect(cli.distributed.jetstream()).await?);
    let listeners = ListenerSettings::default();
    let mut dependencies = Dependencies {
        bus: Some(bus.clone()),
        ..Dependencies::default()
    };

    // The listener and timer tasks live as long as the process serves.
    let (routes, _tasks) = match service {
        Service::Auth => {
            let db = postgres(cli, &mut dependencies)?;
            let auth = AuthService::start(db, sessions, &cli.auth, trust_proxy).await?;
            (auth.router(), Vec::new())
        }
        Service::Tickets => {
            let tickets =
                TicketsService::start(postgres(cli, &mut dependencies)?, sessions).await?;
            let tasks = tickets.listener(bus.clone(), listeners).start().await?;
            (tickets.router(), tasks)
        }
        Service::Orders => {
            let db = postgres(cli, &mut dependencies)?;
            let orders = OrdersService::start(db, sessions, &cli.orders).await?;
            let tasks = orders.listener(bus.clone(), listeners).start().await?;
            (orders.router(), tasks)
        }
        Service::Payments => {
            if cli.payments.stripe_secret_key.is_none() {
                anyhow::bail!("STRIPE_SECRET_KEY is not set; `serve payments` charges through Stripe (or a Stripe-compatible server at STRIPE_API_BASE)");
            }
            let db = postgres(cli, &mut dependencies)?;
            let payments = PaymentsService::start(
                db,
                sessions,
                cli.payments.provider(),
                cli.payments.stripe_webhook_secret.clone(),
            )
            .await?;
            let mut tasks = payments.listener(bus.clone(), listeners).start().await?;
            tasks.push(payments.spawn_reconciliation());
            (payments.router(), tasks)
        }
        Service::Expiration => {
            let d = &cli.distributed;
            let timers: Arc<dyn Timers> =
                Arc::new(RedisTimers::connect(&d.redis_url, d.redis_timers_key.clone()).await?);
            dependencies
                .others
                .push(("redis unreachable", Arc::new(TimersProbe(timers.clone()))));
            let expiration = ExpirationService::new(timers, bus.clone());
            let mut tasks = expiration.listener(listeners).start().await?;
            tasks.push(expiration.spawn_firing());
            (axum::Router::new(), tasks)
        }
        Service::Web => unreachable!("served without a bus above"),
    };
    let relays = Relays::start(&dependencies.databases, &bus);
    let app = with_common_layers(
        routes.merge(health_routes(dependencies)),
        cli.http.body_limit_bytes,
    );

    let what = format!("GitTix {service:?}");
    listen(app, cli.http.host(Mode::Distributed), cli.http.port, &what).await?;
    relays.flush().await;
    Ok(())
}

/// The web pages: no database and no bus, only the APIs behind the gateway at `API_URL`.
async fn serve_web(cli: &Cli, sessions: &Sessions) -> anyhow::Result<()> {
    let api_url = cli
        .web
        .api_url
        .as_deref()
        .context("API_URL is not set; `serve web` calls the APIs through the gateway")?;
    let api = Api::remote(api_url)?;
    let dependencies = Dependencies {
        others: vec![("API unreachable", Arc::new(ApiProbe(api.clone())))],
        ..Dependencies::default()
    };
    let web = gittix_web::router(WebSettings {
        api,
        form_key: sessions.derive_key(gittix_web::FORM_KEY_PURPOSE),
        secure_cookies: sessions.secure_cookies(),
        trust_proxy: cli.http.trust_proxy(Mode::Distributed),
        stripe_publishable_key: cli.web.stripe_publishable_key.clone(),
    });
    let app = with_layers_only(
        // The gateway sends every path outside the four APIs here, `/api/openapi.json` too.
        with_not_found(
            web.merge(health_routes(dependencies))
                .merge(api_document_routes()),
        ),
        cli.http.body_limit_bytes,
    );
    listen(
        app,
        cli.http.host(Mode::Distributed),
        cli.http.port,
        "GitTix Web",
    )
    .await
}

/// The service's PostgreSQL database from `DATABASE_URL`, added to what `/readyz` checks.
fn postgres(cli: &Cli, dependencies: &mut Dependencies) -> anyhow::Result<Db> {
    let url = cli
        .distributed
        .database_url
        .as_deref()
        .context("DATABASE_URL is not set; `serve` needs the service's PostgreSQL database")?;
    if Backend::of_url(url)? != Backend::Postgres {
        anyhow::bail!("DATABASE_URL must be a postgres:// URL in distributed mode");
    }
    let db = Db::connect_lazy(url, &cli.distributed.pool.settings())?;
    dependencies.databases.push(db.clone());
    Ok(db)
}

struct ApiProbe(Api);

#[async_trait::async_trait]
impl Probe for ApiProbe {
    async fn probe(&self) -> anyhow::Result<()> {
        self.0.ping().await
    }
}

struct TimersProbe(Arc<dyn Timers>);

#[async_trait::async_trait]
impl Probe for TimersProbe {
    async fn probe(&self) -> anyhow::Result<()> {
        self.0.ping().await
    }
}
