//! The decline cap under concurrency (issue #16): however many declined payments arrive at once,
//! an order records at most `MAX_DECLINED_ATTEMPTS` failed attempts, announces each once, and
//! sends no other attempt to the card provider.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use gittix_payments::provider::{Authorization, AuthorizeRequest, Intent, Unavailable};
use gittix_shared::db::Migrations;
use gittix_shared::domain::MAX_DECLINED_ATTEMPTS;
use gittix_testing::fresh_database;
use sqlx::migrate::Migrator;

use super::*;

/// The topology's provider, counting the authorizations sent to it.
struct Counting {
    provider: Arc<dyn PaymentProvider>,
    charges: AtomicUsize,
}

impl Counting {
    fn sent(&self) -> usize {
        self.charges.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl PaymentProvider for Counting {
    async fn authorize(&self, request: &AuthorizeRequest) -> Result<Authorization, Unavailable> {
        self.charges.fetch_add(1, Ordering::SeqCst);
        self.provider.authorize(request).await
    }

    async fn retrieve(&self, intent: &str) -> Result<Intent, Unavailable> {
        self.provider.retrieve(intent).await
    }

    async fn capture(&self, intent: &str, key: &str) -> Result<Intent, Unavailable> {
        self.provider.capture(intent, key).await
    }

    async fn cancel(&self, intent: &str, key: &str) -> Result<Intent, Unavailable> {
        self.provider.cancel(intent, key).await
    }

    async fn refund(&self, intent: &str, key: &str) -> Result<String, Unavailable> {
        self.provider.refund(intent, key).await
    }
}

const ROUNDS: usize = 20;
const AT_ONCE: usize = 40;

fn cap() -> usize {
    usize::try_from(MAX_DECLINED_ATTEMPTS).unwrap()
}

topology_tests! {
    async fn concurrent_declines_record_at_most_the_cap(topology) {
        let provider = Arc::new(Counting {
            provider: match topology {
                Topology::Embedded => Arc::new(SimulatedStripe::default()),
                Topology::Distributed => Arc::new(StripeProvider::new(&stripe_url(), "sk_test_gittix")),
            },
            charges: AtomicUsize::new(0),
        });
        let app = PaymentsApp::spawn_with(topology, provider.clone()).await;
        let mut events = EventLog::watch(app.bus(), &["charge:failed"]).await;
        let buyer = app.user();
        let declined = (StatusCode::BAD_REQUEST, error("Your card was declined."));
        let too_many = (StatusCode::BAD_REQUEST, error("Too many declined payments for this order"));
        let in_progress = (StatusCode::BAD_REQUEST, error("A payment for this order is already in progress"));
        let mut orders = Vec::new();
        let mut declined_at_once = Vec::new();
        for round in 0..ROUNDS {
            let order = app.order_created(&buyer, 2000, 60_000).await;
            let body = json!({"token": "tok_chargeDeclined", "orderId": order});
            let sent_before = provider.sent();
            let mut answers = futures_util::future::join_all(
                (0..AT_ONCE).map(|_| app.pay(Some(&buyer), body.clone())),
            )
            .await;
            declined_at_once.push(answers.iter().filter(|a| **a == declined).count());
            // Whatever the burst left of the cap, one payment at a time until the cap answers,
            // so every round ends with the cap reached.
            loop {
                let answer = app.pay(Some(&buyer), body.clone()).await;
                let done = answer == too_many;
                answers.push(answer);
                if done {
                    break;
                }
                assert!(answers.len() <= AT_ONCE + cap() + 1, "round {round}: the cap never answered: {answers:?}");
            }
            for answer in &answers {
                assert!([&declined, &too_many, &in_progress].contains(&answer), "round {round}: {answer:?}");
            }
            assert_eq!(answers.iter().filter(|a| **a == declined).count(), cap(), "round {round}: {answers:?}");
            let recorded: Vec<_> = (1..=i64::from(MAX_DECLINED_ATTEMPTS)).map(|n| ("failed".to_owned(), 2000, n)).collect();
            assert_eq!(app.charges(&order).await, recorded, "round {round}");
            assert_eq!(provider.sent() - sent_before, cap(), "round {round}: only the attempts within the cap reach the provider");
            orders.push(order);
        }
        // Each recorded decline is announced once, with its attempt number. The observer reads
        // them only now, so the bus may hand some over twice (delivery is at least once): a
        // repeat carries the same attempt's id, and counts once.
        let mut announced: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        let mut attempts_seen = std::collections::BTreeSet::new();
        while let Some((_, data)) = events.next_within(Duration::from_secs(2)).await {
            if attempts_seen.insert(data["id"].as_str().unwrap().to_owned()) {
                announced.entry(data["orderId"].as_str().unwrap().to_owned()).or_default().push(data["attempt"].as_i64().unwrap());
            }
        }
        assert_eq!(attempts_seen.len(), ROUNDS * cap());
        for order in &orders {
            let mut attempts = announced.remove(order).unwrap_or_default();
            attempts.sort_unstable();
            assert_eq!(attempts, (1..=i64::from(MAX_DECLINED_ATTEMPTS)).collect::<Vec<_>>(), "charge:failed of order {order}");
        }
        assert!(announced.is_empty(), "{announced:?}");
        eprintln!("declines answered within each burst of {AT_ONCE}: {declined_at_once:?}");
    }

    async fn attempts_recorded_past_the_cap_before_it_was_enforced_survive_the_migration(topology) {
        let database = fresh_database(topology.backend()).await;
        let db = &database.db;
        db.migrate(&before(102)).await.unwrap();
        // What the old count-then-insert could leave: a fourth failed attempt, or a fourth
        // that succeeded (refunded below).
        let rows = [
            ("raced", 1, "failed"), ("raced", 2, "failed"), ("raced", 3, "failed"), ("raced", 4, "failed"),
            ("raced_paid", 1, "failed"), ("raced_paid", 2, "failed"), ("raced_paid", 3, "failed"), ("raced_paid", 4, "completed"),
            ("paid", 1, "failed"), ("paid", 2, "completed"),
        ];
        for (order, attempt, status) in rows {
            insert_charge(db, order, attempt, status).await.unwrap();
        }
        db.migrate(&gittix_payments::MIGRATIONS).await.unwrap();

        let over_cap: Vec<(String, i64)> = sqlx::query_as("SELECT order_id, attempt FROM charges WHERE over_cap ORDER BY order_id, attempt")
            .fetch_all(db.pool()).await.unwrap();
        assert_eq!(over_cap, [("raced".to_owned(), 4), ("raced_paid".to_owned(), 4)]);
        let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM charges").fetch_one(db.pool()).await.unwrap();
        assert_eq!(kept, 10);
        // A row past the cap is still settled as before.
        let refunded = sqlx::query("UPDATE charges SET status = 'refunded' WHERE order_id = 'raced_paid' AND attempt = 4")
            .execute(db.pool()).await.unwrap();
        assert_eq!(refunded.rows_affected(), 1);

        // No new attempt can go past the cap, for a raced order or a new one.
        let refused = insert_charge(db, "raced", 5, "created").await.unwrap_err();
        assert!(refused.as_database_error().is_some_and(|e| e.is_check_violation()), "{refused:?}");
        for attempt in 1..=3 {
            insert_charge(db, "new", attempt, "failed").await.unwrap();
        }
        let refused = insert_charge(db, "new", 4, "created").await.unwrap_err();
        assert!(refused.as_database_error().is_some_and(|e| e.is_check_violation()), "{refused:?}");
        // The one-live-attempt index survived the rebuild (SQLite).
        insert_charge(db, "live", 1, "created").await.unwrap();
        let refused = insert_charge(db, "live", 2, "created").await.unwrap_err();
        assert!(refused.as_database_error().is_some_and(|e| e.is_unique_violation()), "{refused:?}");
    }
}

/// The payments migrations numbered below `version`.
fn before(version: i64) -> Migrations {
    let upto = |all: &Migrator| Migrator {
        migrations: Cow::Owned(
            all.iter()
                .filter(|m| m.version < version)
                .cloned()
                .collect(),
        ),
        ..Migrator::DEFAULT
    };
    Migrations {
        sqlite: upto(&gittix_payments::MIGRATIONS.sqlite),
        postgres: upto(&gittix_payments::MIGRATIONS.postgres),
    }
}

async fn insert_charge(
    db: &Db,
    order: &str,
    attempt: i64,
    status: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO charges (id, order_id, attempt, status, amount, token, idempotency_key, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 2000, 'tok_chargeDeclined', $5, 0, 0)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(order)
    .bind(attempt)
    .bind(status)
    .bind(format!("gittix-charge-{order}-{attempt}"))
    .execute(db.pool())
    .await
    .map(drop)
}
