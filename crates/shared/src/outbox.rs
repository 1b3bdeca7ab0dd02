//! The transactional outbox: an event is stored in the same transaction as the change it
//! announces, so a change is never committed without its event (a relay publishes them).

use sqlx::AnyConnection;

use crate::events::Event;
use crate::time::unix_millis;

/// Stores `event` in the outbox on `conn`, which should be inside the transaction making the
/// change. Returns the event's id, which becomes the bus message id and drops duplicates.
pub async fn enqueue<E: Event>(conn: &mut AnyConnection, event: &E) -> Result<String, sqlx::Error> {
    let event_id = uuid::Uuid::now_v7().to_string();
    let payload = serde_json::to_string(event).map_err(|e| sqlx::Error::Encode(e.into()))?;
    sqlx::query(
        "INSERT INTO outbox (event_id, subject, payload, occurred_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&event_id)
    .bind(E::SUBJECT)
    .bind(payload)
    .bind(unix_millis())
    .execute(conn)
    .await?;
    Ok(event_id)
}

/// An event waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingEvent {
    pub event_id: String,
    pub subject: String,
    pub payload: String,
    pub occurred_at: i64,
}

/// The unpublished events, oldest first, at most `limit` of them.
pub async fn pending(
    conn: &mut AnyConnection,
    limit: i64,
) -> Result<Vec<PendingEvent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT event_id, subject, payload, occurred_at FROM outbox \
         WHERE published_at IS NULL ORDER BY position LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}
