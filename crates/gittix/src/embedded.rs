//! Embedded mode: every service in this process, each with its own SQLite file, talking through
//! the embedded bus (its own SQLite file too), on one port.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use gittix_expiration::TimerStore;
use gittix_shared::bus::embedded::EmbeddedBus;
use gittix_shared::bus::Bus;
use gittix_shared::config::Mode;
use gittix_shared::db::Db;
use gittix_shared::http::{with_layers_only, TrustProxy};
use gittix_shared::service::{routes_of, Platform};
use gittix_web::{with_not_found, Api};

use crate::api_document::api_document_routes;
use crate::cli::Cli;
use crate::server::serve;

/// What `/readyz` says while the revoked sessions of the last token lifetime are being read.
pub const REVOCATIONS_UNREAD: &str = "revoked sessions not read yet";

pub async fn run(cli: &Cli) -> anyhow::Result<()> {
    let data_dir = data_dir(&cli.embedded.data_dir)?;
    // Auth signs with the private key; the other services get the verifier, which shares what
    // is revoked but cannot mint a session.
    let signing = cli.session.sessions_for_embedded(&data_dir)?;
    let form_secret = cli.web.embedded_form_secret(&data_dir)?;
    let retentions = cli.retention.retentions(&cli.session);
    let embedded_bus = EmbeddedBus::open(&data_dir.join("bus.db")).await?;
    let pruning = embedded_bus.spawn_pruning(retentions);
    let bus: Arc<dyn Bus> = Arc::new(embedded_bus);
    let mut platform = Platform::new(bus.clone(), signing.verifier(), Mode::Embedded);
    platform.trust_proxy = TrustProxy(cli.http.trust_proxy(Mode::Embedded));
    platform.retentions = retentions;
    platform.fees = cli.fees.fees();
    platform.public_url = cli.http.public_url();
    let revocations = platform.follow_revocations();

    // Without a mail server, each email is a file to open under the data directory.
    let mail_dir = data_dir.join("mail");
    let mailer = cli.notifications.mailer(Some(&mail_dir))?;
    match &cli.notifications.smtp_url {
        Some(_) => println!("Email: through the SMTP server of SMTP_URL"),
        None => println!(
            "Email: written as .eml files in {} (no SMTP_URL)",
            mail_dir.display()
        ),
    }

    // Each service keeps its own database, as it would in distributed mode.
    let db = |service: &str| Db::open_sqlite_file(&data_dir.join(format!("{service}.db")));
    let mut services = vec![
        // Not ready until every revocation published before the start is read.
        gittix_auth::build(&cli.auth, db("auth")?, &platform.with_sessions(signing))
            .await?
            .with_probe(REVOCATIONS_UNREAD, revocations.read.clone()),
        gittix_tickets::build(&cli.tickets, db("tickets")?, &platform).await?,
        gittix_orders::build(&cli.orders, db("orders")?, &platform).await?,
        gittix_expiration::build(
            &cli.expiration,
            TimerStore::Sql(db("expiration")?),
            &platform,
        )
        .await?,
        gittix_payments::build(
            &cli.payments,
            cli.payments.providers(),
            db("payments")?,
            &platform,
        )
        .await?,
        gittix_notifications::build(&cli.notifications, mailer, db("notifications")?, &platform)
            .await?,
    ];
    if cli.payments.stripe_secret_key.is_none() {
        println!(
            "Payments: Stripe simulator (no STRIPE_SECRET_KEY); pay with the test token tok_visa"
        );
    }

    let api = routes_of(&mut services, Some(bus));
    // The pages call the same API routes, in this process.
    let web = gittix_web::build(
        &cli.web,
        Api::InProcess(api.clone()),
        &form_secret,
        platform.sessions.secure_cookies(),
        platform.trust_proxy,
    );
    let routes = api.merge(api_document_routes()).merge(web);
    let app = with_layers_only(with_not_found(routes, &cli.web), cli.http.body_limit_bytes);

    println!("GitTix data directory: {}", data_dir.display());
    let host = cli.http.host(Mode::Embedded);
    let served = serve(
        app,
        host,
        cli.http.port,
        cli.http.server_limits(),
        "GitTix",
        &platform.shutdown,
        services,
    )
    .await;
    pruning.abort();
    // The follower stops with the platform's shutdown, which serve has fired.
    let _ = revocations.task.await;
    served
}

/// The data directory, created on first run, as an absolute path (it is printed).
fn data_dir(configured: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(configured)
        .with_context(|| format!("creating the data directory {}", configured.display()))?;
    Ok(configured.canonicalize()?)
}
