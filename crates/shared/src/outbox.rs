//! The transactional outbox: an event is stored in the same transaction as the change it
//! announces, so a change is never committed without its event. [`crate::relay`] publishes them.

use std::collections::BTreeMap;

use sqlx::{Any, AnyConnection, Transaction};

use crate::bus::{header, Message};
use crate::db::Db;
use crate::events::Event;
use crate::time::unix_millis;

/// Stores `event` in the outbox on `conn`, which should be inside the transaction making the
/// change. Returns the event's id, which becomes the bus message id and drops duplicates.
pub async fn enqueue<E: Event>(conn: &mut AnyConnection, event: &E) -> Result<String, sqlx::Error> {
    let event_id = uuid::Uuid::now_v7().to_string();
    let payload = serde_json::to_string(event).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let mut headers = BTreeMap::new();
    if let Some(request) = crate::http::current_request() {
        headers.insert(header::REQUEST_ID.to_owned(), request.request_id);
        headers.insert(
            header::TRACEPARENT.to_owned(),
            crate::trace::traceparent(&request.trace_id),
        );
    }
    let headers = serde_json::to_string(&headers).map_err(|e| sqlx::Error::Encode(e.into()))?;
    sqlx::query(
        "INSERT INTO outbox (event_id, subject, payload, headers, occurred_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&event_id)
    .bind(E::SUBJECT)
    .bind(payload)
    .bind(headers)
    .bind(unix_millis())
    .execute(conn)
    .await?;
    Ok(event_id)
}

/// Commits a transaction that enqueued events and wakes the relay, so they go out at once
/// rather than at its next poll.
pub async fn commit(tx: Transaction<'_, Any>, db: &Db) -> Result<(), sqlx::Error> {
    tx.commit().await?;
    db.outbox_signal().notify_one();
    Ok(())
}

/// An event waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingEvent {
    pub position: i64,
    pub event_id: String,
    pub subject: String,
    pub payload: String,
    pub headers: String,
    pub occurred_at: i64,
}

impl PendingEvent {
    /// The bus message for this event: its id is the event id, so a second publish is dropped.
    pub fn to_message(&self) -> Result<Message, serde_json::Error> {
        let mut headers: BTreeMap<String, String> = serde_json::from_str(&self.headers)?;
        headers.insert(header::OCCURRED_AT.to_owned(), self.occurred_at.to_string());
        Ok(Message {
            id: self.event_id.clone(),
            subject: self.subject.clone(),
            payload: self.payload.clone().into_bytes(),
            headers,
        })
    }
}

/// The unpublished events, oldest first, at most `limit` of them.
pub async fn pending(
    conn: &mut AnyConnection,
    limit: i64,
) -> Result<Vec<PendingEvent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT position, event_id, subject, payload, headers, occurred_at FROM outbox \
         ORDER BY position LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Removes events the bus has stored, by position, in one statement. (Not "every position up
/// to the last": a transaction that took a lower position may commit after this batch was
/// read, and its event is not published yet.)
pub async fn remove(db: &Db, positions: &[i64]) -> Result<(), sqlx::Error> {
    if positions.is_empty() {
        return Ok(());
    }
    let list = positions
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    sqlx::query(&format!("DELETE FROM outbox WHERE position IN ({list})"))
        .execute(db.pool())
        .await
        .map(drop)
}
