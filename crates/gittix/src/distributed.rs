//! Distributed mode: one service in this process, events through NATS JetStream. Services with a
//! database take it from `DATABASE_URL` (PostgreSQL); expiration keeps its timers in Redis.

use std::sync::Arc;

use anyhow::Context;
use gittix_expiration::TimerStore;
use gittix_shared::bus::jetstream::JetStreamBus;
use gittix_shared::bus::Bus;
use gittix_shared::config::{Mode, SessionRole};
use gittix_shared::db::{Backend, Db};
use gittix_shared::http::{
    health_routes, with_common_layers, with_layers_only, Dependencies, Probe, TrustProxy,
};
use gittix_shared::ratelimit::RedisLimiter;
use gittix_shared::service::{routes_of, Platform};
use gittix_web::{with_not_found, Api};
use tokio_util::sync::CancellationToken;

use crate::api_document::api_document_routes;
use crate::cli::{Cli, Service};
use crate::embedded::REVOCATIONS_UNREAD;
use crate::server::serve;

/// Where the shared rate limits live in Redis.
const RATE_LIMIT_PREFIX: &str = "gittix:limits:";

pub async fn run(cli: &Cli, service: Service) -> anyhow::Result<()> {
    let trust_proxy = TrustProxy(cli.http.trust_proxy(Mode::Distributed));
    if service == Service::Web {
        return serve_web(cli, trust_proxy).await;
    }
    let role = match service {
        Service::Auth => SessionRole::Signs,
        _ => SessionRole::Verifies,
    };
    let sessions = cli.session.sessions_for_distributed(role)?;
    let retentions = cli.retention.retentions(&cli.session);
    let jetstream = cli.distributed.jetstream(retentions.bus);
    let bus: Arc<dyn Bus> = Arc::new(JetStreamBus::connect(jetstream).await?);
    let mut platform = Platform::new(bus.clone(), sessions, Mode::Distributed);
    platform.trust_proxy = trust_proxy;
    platform.retentions = retentions;
    platform.fees = cli.fees.fees();
    platform.public_url = cli.http.public_url();
    // Every replica of a rate-limited service counts its limits in one place.
    let shared_limits = if matches!(service, Service::Auth | Service::Orders | Service::Payments) {
        let limiter = RedisLimiter::connect(&cli.expiration.redis_url, RATE_LIMIT_PREFIX).await?;
        let limiter = Arc::new(limiter);
        platform.limiter = limiter.clone();
        Some(limiter)
    } else {
        None
    };
    let revocations = platform.follow_revocations();

    let built = match service {
        Service::Auth => gittix_auth::build(&cli.auth, postgres(cli)?, &platform).await?,
        Service::Tickets => gittix_tickets::build(&cli.tickets, postgres(cli)?, &platform).await?,
        Service::Orders => gittix_orders::build(&cli.orders, postgres(cli)?, &platform).await?,
        Service::Payments => {
            if cli.payments.stripe_secret_key.is_none() {
                anyhow::bail!("STRIPE_SECRET_KEY is not set; `serve payments` charges through Stripe (or a Stripe-compatible server at STRIPE_API_BASE)");
            }
            if cli.http.public_url.is_none() {
                anyhow::bail!("PUBLIC_URL is not set; `serve payments` needs where people reach GitTix, to send sellers back there from Stripe's onboarding");
            }
            let providers = cli.payments.providers();
            gittix_payments::build(&cli.payments, providers, postgres(cli)?, &platform).await?
        }
        Service::Notifications => {
            if cli.http.public_url.is_none() {
                anyhow::bail!("PUBLIC_URL is not set; `serve notifications` needs where people reach GitTix, for the links in its emails");
            }
            let mailer = cli.notifications.mailer(None)?;
            gittix_notifications::build(&cli.notifications, mailer, postgres(cli)?, &platform)
                .await?
        }
        Service::Expiration => {
            gittix_expiration::build(&cli.expiration, TimerStore::Redis, &platform).await?
        }
        Service::Web => unreachable!("served without a bus above"),
    };
    let built = match shared_limits {
        Some(limiter) => built.with_probe("rate limits unreachable", limiter),
        None => built,
    };
    // A replica that takes requests before it has read the revocations could take a revoked
    // session.
    let built = built.with_probe(REVOCATIONS_UNREAD, revocations.read.clone());
    let mut services = vec![built];
    let app = with_common_layers(
        routes_of(&mut services, Some(bus)),
        cli.http.body_limit_bytes,
    );
    let what = format!("GitTix {service:?}");
    let host = cli.http.host(Mode::Distributed);
    let served = serve(
        app,
        host,
        cli.http.port,
        cli.http.server_limits(),
        &what,
        &platform.shutdown,
        services,
    )
    .await;
    // The follower stops with the platform's shutdown, which serve has fired.
    let _ = revocations.task.await;
    served
}

/// The web pages: no database, no bus and no session key, only the APIs behind the gateway at
/// `API_URL` (which verify the sessions) and the secret of the forms.
async fn serve_web(cli: &Cli, trust_proxy: TrustProxy) -> anyhow::Result<()> {
    let form_secret = cli.web.form_secret()?;
    let secure_cookies = cli.session.cookie_secure.unwrap_or(true);
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
    let web = gittix_web::build(&cli.web, api, &form_secret, secure_cookies, trust_proxy);
    let app = with_layers_only(
        // The gateway sends every path outside the four APIs here, `/api/openapi.json` too.
        with_not_found(
            web.merge(health_routes(dependencies))
                .merge(api_document_routes()),
            &cli.web,
        ),
        cli.http.body_limit_bytes,
    );
    // The pages have no background work to stop.
    let host = cli.http.host(Mode::Distributed);
    let shutdown = CancellationToken::new();
    serve(
        app,
        host,
        cli.http.port,
        cli.http.server_limits(),
        "GitTix Web",
        &shutdown,
        Vec::new(),
    )
    .await
}

/// The service's PostgreSQL database from `DATABASE_URL`.
fn postgres(cli: &Cli) -> anyhow::Result<Db> {
    let url = cli
        .distributed
        .database_url
        .as_deref()
        .context("DATABASE_URL is not set; `serve` needs the service's PostgreSQL database")?;
    if Backend::of_url(url)? != Backend::Postgres {
        anyhow::bail!("DATABASE_URL must be a postgres:// URL in distributed mode");
    }
    Db::connect_lazy(url, &cli.distributed.pool.settings())
}

struct ApiProbe(Api);

#[async_trait::async_trait]
impl Probe for ApiProbe {
    async fn probe(&self) -> anyhow::Result<()> {
        self.0.ping().await
    }
}
