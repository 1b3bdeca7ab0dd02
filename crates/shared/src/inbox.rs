//! The inbox: the ids of events a service has applied, recorded in the same transaction as the
//! effect. Delivery is at least once; this makes each effect happen once.

use sqlx::AnyConnection;

use crate::time::unix_millis;

/// Records `event_id` as applied. Returns false when it already was: the caller should then
/// skip the effect (and acknowledge the delivery).
///
/// Call it first inside the transaction that applies the event. Concurrent deliveries of one
/// event race on the primary key: one records it, the other waits for that transaction and then
/// finds it recorded.
pub async fn record(conn: &mut AnyConnection, event_id: &str) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query("INSERT INTO inbox (event_id, applied_at) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING")
        .bind(event_id)
        .bind(unix_millis())
        .execute(conn)
        .await?;
    Ok(inserted.rows_affected() == 1)
}
