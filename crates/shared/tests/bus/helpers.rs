use std::time::Duration;

use gittix_shared::bus::{Delivery, DeliverySettings, Message, Subscription};
use gittix_shared::db::{Backend, Db, Migrations};
use gittix_testing::{fresh_database, TestDatabase};
use sqlx::migrate::Migrator;

/// Waits for the next delivery, failing the test after `within`.
pub async fn receive(subscription: &mut Box<dyn Subscription>, within: Duration) -> Delivery {
    tokio::time::timeout(within, subscription.next())
        .await
        .expect("no delivery in time")
        .expect("the subscription failed")
}

/// Fails the test if anything is delivered within `window`.
pub async fn assert_quiet(subscription: &mut Box<dyn Subscription>, window: Duration) {
    if let Ok(delivery) = tokio::time::timeout(window, subscription.next()).await {
        let delivery = delivery.expect("the subscription failed");
        panic!(
            "unexpected delivery of {} (attempt {})",
            delivery.message.id, delivery.attempt
        );
    }
}

pub fn message(id: &str, subject: &str, payload: &str) -> Message {
    Message::new(id, subject, payload.as_bytes().to_vec())
}

pub fn subjects(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

pub fn ack_wait(duration: Duration) -> DeliverySettings {
    DeliverySettings {
        ack_wait: duration,
        ..DeliverySettings::default()
    }
}

static NO_SERVICE_TABLES: Migrations = Migrations {
    sqlite: Migrator::DEFAULT,
    postgres: Migrator::DEFAULT,
};

/// A service database with the shared tables (outbox, inbox) and a replica table for tests.
pub async fn service_database(backend: Backend) -> TestDatabase {
    let database = fresh_database(backend).await;
    database.db.migrate(&NO_SERVICE_TABLES).await.unwrap();
    sqlx::query(
        "CREATE TABLE records (id TEXT PRIMARY KEY, version BIGINT NOT NULL, value TEXT NOT NULL)",
    )
    .execute(database.db.pool())
    .await
    .unwrap();
    sqlx::query("CREATE TABLE applied (event_id TEXT NOT NULL, worker BIGINT NOT NULL)")
        .execute(database.db.pool())
        .await
        .unwrap();
    database
}

pub async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}
