//! Tables that only remember are pruned by age (`gittix_shared::pruning`), on both backends.

use std::time::Duration;

use gittix_shared::db::Migrations;
use gittix_shared::pruning::{prune, Keep, Retention, Retentions};
use gittix_shared::time::unix_millis;
use gittix_testing::{backend_tests, fresh_database};

/// No service schema: the shared tables (outbox, inbox) alone.
static NONE: Migrations = Migrations {
    sqlite: sqlx::migrate::Migrator::DEFAULT,
    postgres: sqlx::migrate::Migrator::DEFAULT,
};

/// Records each `(event id, applied at)` in the inbox.
async fn applied(db: &gittix_shared::db::Db, rows: &[(&str, i64)]) {
    for (id, at) in rows {
        sqlx::query("INSERT INTO inbox (event_id, applied_at) VALUES ($1, $2)")
            .bind(*id)
            .bind(*at)
            .execute(db.pool())
            .await
            .unwrap();
    }
}

/// The event ids in the inbox, in order.
async fn inbox(db: &gittix_shared::db::Db) -> Vec<String> {
    sqlx::query_scalar("SELECT event_id FROM inbox ORDER BY event_id")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

backend_tests! {
    async fn rows_older_than_the_retention_are_deleted_and_the_rest_kept(backend) {
        let database = fresh_database(backend).await;
        let db = &database.db;
        db.migrate(&NONE).await.unwrap();
        let day = 24 * 60 * 60 * 1000;
        let now = unix_millis();
        applied(db, &[("old", now - 9 * day), ("edge", now - 7 * day), ("new", now - 1000)]).await;
        let deleted = prune(db, &[Retention::INBOX], Retentions::DEFAULT).await.unwrap();
        assert_eq!(deleted, [1]);
        assert_eq!(inbox(db).await, ["edge", "new"]);
        // A bus that keeps a minute of messages needs two minutes of inbox (BUS_RETENTION_SECONDS).
        let minute = Retentions { bus: Duration::from_secs(60) };
        applied(db, &[("three-minutes", now - 180_000), ("one-minute", now - 60_000)]).await;
        assert_eq!(prune(db, &[Retention::INBOX], minute).await.unwrap(), [2], "edge and three-minutes");
        assert_eq!(inbox(db).await, ["new", "one-minute"]);
        // A retention of zero forgets everything in the past.
        let all = Retention { keep: Keep::For(Duration::ZERO), ..Retention::INBOX };
        assert_eq!(prune(db, &[all], Retentions::DEFAULT).await.unwrap(), [2]);
    }
}
