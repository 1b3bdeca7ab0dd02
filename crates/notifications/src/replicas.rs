//! What the emails name, copied from the events of the services that own it: users' addresses
//! (auth), tickets and events (tickets), orders as created (orders), and which sales have their
//! delivery decided. Each record is kept at the newest version seen: an email reads only the
//! latest state, so a version skipped (or applied after its successor) changes no email, and
//! these copies need neither the inbox nor the strict ordering of the shared replicas.

use sqlx::AnyConnection;

/// A record the service keeps a copy of.
#[async_trait::async_trait]
pub(crate) trait Replica: Send + Sync + 'static {
    /// Stores this version unless a newer one is held.
    async fn store(&self, conn: &mut AnyConnection) -> sqlx::Result<()>;
}

/// A user's address, at a version.
#[derive(Debug, Clone)]
pub(crate) struct UserRow {
    pub id: String,
    pub email: String,
    pub version: i64,
}

impl UserRow {
    pub fn new(id: String, email: String, version: i64) -> Self {
        Self { id, email, version }
    }
}

#[async_trait::async_trait]
impl Replica for UserRow {
    async fn store(&self, conn: &mut AnyConnection) -> sqlx::Result<()> {
        upsert_user(conn, &self.id, &self.email, self.version).await
    }
}

async fn upsert_user(
    conn: &mut AnyConnection,
    id: &str,
    email: &str,
    version: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO users (id, email, version) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET email = excluded.email, version = excluded.version \
         WHERE users.version < excluded.version",
    )
    .bind(id)
    .bind(email)
    .bind(version)
    .execute(conn)
    .await?;
    Ok(())
}

/// The address of the user `id`, as of the newest `user:*` applied.
pub(crate) async fn user_email(conn: &mut AnyConnection, id: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// An event tickets are sold for, as its emails describe it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct EventRow {
    pub id: String,
    pub name: String,
    pub venue: String,
    pub city: String,
    pub starts_at: String,
    pub version: i64,
}

impl EventRow {
    pub fn new(
        id: String,
        version: i64,
        name: String,
        venue: String,
        city: String,
        starts_at: String,
    ) -> Self {
        Self {
            id,
            name,
            venue,
            city,
            starts_at,
            version,
        }
    }
}

#[async_trait::async_trait]
impl Replica for EventRow {
    async fn store(&self, conn: &mut AnyConnection) -> sqlx::Result<()> {
        upsert_event(conn, self).await
    }
}

async fn upsert_event(conn: &mut AnyConnection, event: &EventRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO events (id, name, venue, city, starts_at, version) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, venue = excluded.venue, city = excluded.city, \
         starts_at = excluded.starts_at, version = excluded.version WHERE events.version < excluded.version",
    )
    .bind(&event.id)
    .bind(&event.name)
    .bind(&event.venue)
    .bind(&event.city)
    .bind(&event.starts_at)
    .bind(event.version)
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn event(conn: &mut AnyConnection, id: &str) -> sqlx::Result<Option<EventRow>> {
    sqlx::query_as("SELECT id, name, venue, city, starts_at, version FROM events WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct TicketRow {
    pub id: String,
    pub title: String,
    pub seller_id: String,
    pub event_id: Option<String>,
    pub version: i64,
}

impl TicketRow {
    pub fn new(
        id: String,
        version: i64,
        title: String,
        seller_id: String,
        event_id: Option<String>,
    ) -> Self {
        Self {
            id,
            title,
            seller_id,
            event_id,
            version,
        }
    }
}

#[async_trait::async_trait]
impl Replica for TicketRow {
    async fn store(&self, conn: &mut AnyConnection) -> sqlx::Result<()> {
        upsert_ticket(conn, self).await
    }
}

async fn upsert_ticket(conn: &mut AnyConnection, ticket: &TicketRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO tickets (id, title, seller_id, event_id, version) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, seller_id = excluded.seller_id, \
         event_id = excluded.event_id, version = excluded.version WHERE tickets.version < excluded.version",
    )
    .bind(&ticket.id)
    .bind(&ticket.title)
    .bind(&ticket.seller_id)
    .bind(&ticket.event_id)
    .bind(ticket.version)
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn ticket(conn: &mut AnyConnection, id: &str) -> sqlx::Result<Option<TicketRow>> {
    sqlx::query_as("SELECT id, title, seller_id, event_id, version FROM tickets WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// An order as it was created: its buyer, ticket, price and all-in total (cents).
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct OrderRow {
    pub id: String,
    pub buyer_id: String,
    pub ticket_id: String,
    pub price: i64,
    pub total: i64,
}

#[async_trait::async_trait]
impl Replica for OrderRow {
    async fn store(&self, conn: &mut AnyConnection) -> sqlx::Result<()> {
        insert_order(conn, self).await
    }
}

async fn insert_order(conn: &mut AnyConnection, order: &OrderRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO orders (id, buyer_id, ticket_id, price, total) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&order.id)
    .bind(&order.buyer_id)
    .bind(&order.ticket_id)
    .bind(order.price)
    .bind(order.total)
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn order(conn: &mut AnyConnection, id: &str) -> sqlx::Result<Option<OrderRow>> {
    sqlx::query_as("SELECT id, buyer_id, ticket_id, price, total FROM orders WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The sale `order_id` is delivered or undelivered: its seller needs no more reminders.
pub(crate) async fn delivery_decided(conn: &mut AnyConnection, order_id: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO deliveries_decided (order_id) VALUES ($1) ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(order_id)
    .execute(conn)
    .await?;
    Ok(())
}
