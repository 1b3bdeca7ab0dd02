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

backend_tests! {
    async fn rows_older_than_the_retention_are_deleted_and_the_rest_kept(backend) {
        let database = fresh_database(backend).await;
        let db = &database.db;
        db.migrate(&NONE).await.unwrap();
        let day = 24 * 60 * 60 * 1000;
        let now = unix_millis();
        for (id, at) in [("old", now - 9 * day), ("edge", now - 7 * day), ("new", now - 1000)] {
            sqlx::query("INSERT INTO inbox (event_id, applied_at) VALUES ($1, $2)")
                .bind(id)
                .bind(at)
                .execute(db.pool())
                .await
                .unwrap();
        }
        let deleted = prune(db, &[Retention::INBOX], Retentions::DEFAULT).await.unwrap();
        assert_eq!(deleted, [1]);
        let kept: Vec<String> = sqlx::query_scalar("SELECT event_id FROM inbox ORDER BY event_id")
            .fetch_all(db.pool())
            .await
            .unwrap();
        assert_eq!(kept, ["edge", "new"]);
        // A bus that keeps a minute of messages needs two minutes of inbox (BUS_RETENTION_SECONDS).
        let minute = Retentions { bus: Duration::from_secs(60) };
        for (id, at) in [("three-minutes", now - 180_000), ("one-minute", now - 60_000)] {
            sqlx::query("INSERT INTO inbox (event_id, applied_at) VALUES ($1, $2)")
                .bind(id)
                .bind(at)
                .execute(db.pool())
                .await
                .unwrap();
        }
        assert_eq!(prune(db, &[Retention::INBOX], minute).await.unwrap(), [2], "edge and three-minutes");
        let kept: Vec<String> = sqlx::query_scalar("SELECT event_id FROM inbox ORDER BY event_id")
            .fetch_all(db.pool())
            .await
            .unwrap();
        assert_eq!(kept, ["new", "one-minute"]);
        // A retention of zero forgets everything in the past.
        let all = Retention { keep: Keep::For(Duration::ZERO), ..Retention::INBOX };
        assert_eq!(prune(db, &[all], Retentions::DEFAULT).await.unwrap(), [2]);
    }
}
