//! Embedded mode: every service in this process, each with its own SQLite file, talking through
//! the embedded bus (its own SQLite file too), on one port.

use std::sync::Arc;

use anyhow::Context;
use gittix_auth::AuthService;
use gittix_expiration::timers::sql::SqlTimers;
use gittix_expiration::ExpirationService;
use gittix_orders::OrdersService;
use gittix_payments::PaymentsService;
use gittix_shared::bus::embedded::EmbeddedBus;
use gittix_shared::bus::Bus;
use gittix_shared::config::Mode;
use gittix_shared::db::Db;
use gittix_shared::http::{health_routes, with_layers_only, Dependencies, TrustProxy};
use gittix_shared::listener::ListenerSettings;
use gittix_tickets::TicketsService;
use gittix_web::{with_not_found, Api, WebSettings};

use crate::api_document::api_document_routes;
use crate::cli::Cli;
use crate::server::{listen, Relays};

pub async fn run(cli: &Cli) -> anyhow::Result<()> {
    let data_dir = &cli.embedded.data_dir;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
    let data_dir = data_dir.canonicalize()?;
    let sessions = cli.session.sessions_for_embedded(&data_dir)?;
    let trust_proxy = TrustProxy(cli.http.trust_proxy(Mode::Embedded));
    let embedded_bus = EmbeddedBus::open(&data_dir.join("bus.db")).await?;
    // A week of history, like the JetStream stream in distributed mode.
    let _pruning = embedded_bus.spawn_pruning(std::time::Duration::from_secs(7 * 24 * 60 * 60));
    let bus: Arc<dyn Bus> = Arc::new(embedded_bus);

    // Each service keeps its own database, as it would in distributed mode.
    let auth_db = Db::open_sqlite_file(&data_dir.join("auth.db"))?;
    let tickets_db = Db::open_sqlite_file(&data_dir.join("tickets.db"))?;
    let orders_db = Db::open_sqlite_file(&data_dir.join("orders.db"))?;
    let expiration_db = Db::open_sqlite_file(&data_dir.join("expiration.db"))?;
    let payments_db = Db::open_sqlite_file(&data_dir.join("payments.db"))?;
    expiration_db
        .migrate(&gittix_expiration::MIGRATIONS)
        .await?;
    let auth =
        AuthService::start(auth_db.clone(), sessions.clone(), &cli.auth, trust_proxy).await?;
    // This process is the only writer of tickets.db, so the list of tickets for sale can be
    // kept between changes.
    let tickets = TicketsService::start(tickets_db.clone(), sessions.clone())
        .await?
        .caching_for_sale();
    let orders = OrdersService::start(orders_db.clone(), sessions.clone(), &cli.orders).await?;
    let _tickets_listener = tickets
        .listener(bus.clone(), ListenerSettings::default())
        .start()
        .await?;
    let _orders_listener = orders
        .listener(bus.clone(), ListenerSettings::default())
        .start()
        .await?;
    let expiration =
        ExpirationService::new(Arc::new(SqlTimers::new(expiration_db.clone())), bus.clone());
    let _expiration_listener = expiration
        .listener(ListenerSettings::default())
        .start()
        .await?;
    let _expiration_firing = expiration.spawn_firing();
    let payments = PaymentsService::start(
        payments_db.clone(),
        sessions.clone(),
        cli.payments.provider(),
        cli.payments.stripe_webhook_secret.clone(),
    )
    .await?;
    let _payments_listener = payments
        .listener(bus.clone(), ListenerSettings::default())
        .start()
        .await?;
    let _reconciliation = payments.spawn_reconciliation();
    if cli.payments.stripe_secret_key.is_none() {
        println!(
            "Payments: Stripe simulator (no STRIPE_SECRET_KEY); pay with the test token tok_visa"
        );
    }

    let databases = vec![auth_db, tickets_db, orders_db, expiration_db, payments_db];
    let relays = Relays::start(&databases, &bus);
    let dependencies = Dependencies {
        databases,
        bus: Some(bus),
        others: Vec::new(),
    };
    let api = auth
        .router()
        .merge(tickets.router())
        .merge(orders.router())
        .merge(payments.router());
    // The pages call the same API routes, in this process.
    let web = gittix_web::router(WebSettings {
        api: Api::InProcess(api.clone()),
        form_key: sessions.derive_key(gittix_web::FORM_KEY_PURPOSE),
        secure_cookies: sessions.secure_cookies(),
        trust_proxy: cli.http.trust_proxy(Mode::Embedded),
        stripe_publishable_key: cli.web.stripe_publishable_key.clone(),
    });
    let routes = api
        .merge(health_routes(dependencies))
        .merge(api_document_routes())
        .merge(web);
    let app = with_layers_only(with_not_found(routes), cli.http.body_limit_bytes);

    println!("GitTix data directory: {}", data_dir.display());
    listen(app, cli.http.host(Mode::Embedded), cli.http.port, "GitTix").await?;
    relays.flush().await;
    Ok(())
}
