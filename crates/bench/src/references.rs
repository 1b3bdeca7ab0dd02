//! Reference limits, measured in the same run as the scenarios so the report can give ratios that
//! hold on any machine: the HTTP ceiling (a bare axum handler under the same load), the
//! database's own rate for reserve's writes (no HTTP), and raw argon2id hashing (the sign-up
//! ceiling).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use gittix_shared::db::{Db, PoolSettings};
use gittix_shared::events::{OrderCreated, OrderedTicket};
use gittix_shared::outbox;
use serde_json::json;

use crate::client::Http;
use crate::load::{drive, Plan};
use crate::stats::Run;

/// Serves the bare handler on 127.0.0.1 (any port), printing its address: the body of the
/// `bare-axum` command, run as a process of its own like gittix.
pub async fn serve_bare_axum() -> anyhow::Result<()> {
    let app = axum::Router::new().route(
        "/api/users/currentuser",
        axum::routing::get(|| async { axum::Json(json!({ "currentUser": null })) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// The bare handler in a process of its own, stopped when dropped.
pub struct BareAxum {
    child: Child,
    pub http: Http,
}

impl BareAxum {
    pub fn start() -> anyhow::Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("bare-axum")
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the bare axum server")?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line)?;
        let address = line
            .trim()
            .strip_prefix("listening on ")
            .with_context(|| format!("the bare axum server said {line:?}"))?;
        Ok(Self {
            http: Http::new(address),
            child,
        })
    }
}

impl Drop for BareAxum {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GET /api/users/currentuser on the bare handler: the HTTP ceiling of the sign-in check.
pub async fn http_ceiling(clients: usize, duration: Duration) -> anyhow::Result<Run> {
    let bare = BareAxum::start()?;
    let http = bare.http.clone();
    let run = drive(Plan::timed(clients, duration), move |_, _| {
        let http = http.clone();
        async move {
            http.get("/api/users/currentuser", Some("session=none"))
                .await?
                .expect(200)
                .map(drop)
        }
    })
    .await;
    drop(bare);
    Ok(run)
}

/// argon2id hashes per second with the parameters auth uses (the argon2 crate's defaults), on
/// one thread per core, as auth hashes on tokio's blocking pool.
pub async fn argon2_ceiling(duration: Duration) -> anyhow::Result<f64> {
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let hashed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let hashed = hashed.clone();
            tokio::task::spawn_blocking(move || {
                while started.elapsed() < duration {
                    let salt = SaltString::generate(&mut OsRng);
                    Argon2::default()
                        .hash_password(b"bench-password", &salt)
                        .expect("hashing");
                    hashed.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await?;
    }
    Ok(hashed.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

/// A database of the orders schema for the reference, of the kind the mode uses: a SQLite file
/// opened as gittix opens its own, or a new database on the cluster's PostgreSQL with the
/// connections both orders replicas have between them.
pub async fn reference_database(
    postgres_url: Option<&str>,
    scratch: &std::path::Path,
) -> anyhow::Result<Db> {
    let db = match postgres_url {
        None => Db::open_sqlite_file(&scratch.join("reference-orders.db"))?,
        Some(server) => {
            let name = format!("bench_reference_{}", uuid::Uuid::new_v4().simple());
            let admin = Db::connect_lazy(&format!("{server}/postgres"), &PoolSettings::default())?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(admin.pool())
                .await?;
            let settings = PoolSettings {
                max_connections: 2 * PoolSettings::default().max_connections,
                ..PoolSettings::default()
            };
            Db::connect_lazy(&format!("{server}/{name}"), &settings)?
        }
    };
    db.migrate(&gittix_orders::MIGRATIONS).await?;
    Ok(db)
}

/// Reserve's writes with no HTTP: read the ticket from the replica, insert the order, enqueue
/// `order:created`, commit; on distinct tickets, from `clients` tasks at once.
pub async fn database_ceiling(db: Db, clients: usize, duration: Duration) -> anyhow::Result<Run> {
    const TICKETS: usize = 200_000;
    seed_replica(&db, TICKETS).await?;
    let plan = Plan::bounded(clients, TICKETS as u64, duration);
    Ok(drive(plan, move |client, n| {
        let db = db.clone();
        async move { reserve_writes(&db, &format!("client-{client}"), &ticket_id(n)).await }
    })
    .await)
}

fn ticket_id(n: u64) -> String {
    format!("reference-ticket-{n:08}")
}

async fn seed_replica(db: &Db, tickets: usize) -> anyhow::Result<()> {
    let mut tx = db.pool().begin().await?;
    for chunk in (0..tickets as u64).collect::<Vec<_>>().chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|n| {
                format!(
                    "('{}', 'Reference ticket', 2000, 'seller', 'for_sale', 0)",
                    ticket_id(*n)
                )
            })
            .collect();
        sqlx::query(&format!(
            "INSERT INTO tickets (id, title, price_cents, seller_id, status, version) VALUES {}",
            values.join(", ")
        ))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn reserve_writes(db: &Db, buyer: &str, ticket_id: &str) -> anyhow::Result<()> {
    let (title, price_cents, version): (String, i64, i64) =
        sqlx::query_as("SELECT title, price_cents, version FROM tickets WHERE id = $1")
            .bind(ticket_id)
            .fetch_one(db.pool())
            .await?;
    let now = gittix_shared::time::unix_millis();
    let expires_at = now + 900_000;
    let id = uuid::Uuid::now_v7().to_string();
    let mut tx = db.pool().begin().await?;
    sqlx::query(
        "INSERT INTO orders (id, user_id, status, expires_at, version, ticket_id, ticket_title, \
         ticket_price_cents, ticket_version, created_at, updated_at) \
         VALUES ($1, $2, 'created', $3, 0, $4, $5, $6, $7, $8, $8)",
    )
    .bind(&id)
    .bind(buyer)
    .bind(expires_at)
    .bind(ticket_id)
    .bind(&title)
    .bind(price_cents)
    .bind(version)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let event = OrderCreated {
        id,
        version: 0,
        status: gittix_shared::domain::OrderStatus::Created,
        user_id: buyer.to_owned(),
        expires_at: gittix_shared::time::iso8601(expires_at),
        ticket: OrderedTicket {
            id: ticket_id.to_owned(),
            price: price_cents,
            version: Some(0),
        },
        total: Some(price_cents),
    };
    outbox::enqueue(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(())
}
