//! Accounts and tickets the scenarios need, made through the API as any client would.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use crate::client::Http;
use crate::load::{drive, drive_collecting, Plan};
use crate::stats::Run;
use crate::target::Databases;

/// A signed-up user: its cookie header value (`session=…`).
#[derive(Debug, Clone)]
pub struct Account {
    pub cookie: String,
}

/// Words that ticket titles are made of, so a search matches a known share of them.
pub const TITLE_WORDS: [&str; 20] = [
    "opera", "jazz", "rock", "ballet", "comedy", "derby", "final", "symphony", "choir", "musical",
    "circus", "tango", "blues", "festival", "premiere", "recital", "cup", "league", "gala",
    "quartet",
];

/// Signs up one account, with an address unique to this run.
pub async fn sign_up(http: &Http, label: &str) -> anyhow::Result<Account> {
    let email = format!(
        "{label}-{}@bench.example.com",
        uuid::Uuid::new_v4().simple()
    );
    let reply = http
        .post(
            "/api/users/signup",
            None,
            &json!({"email": email, "password": "bench-password"}),
        )
        .await?
        .expect(201)?;
    Ok(Account {
        cookie: reply.session.context("sign-up set no session cookie")?,
    })
}

/// Signs up `count` accounts, 8 at a time (each is an argon2 hash on the server).
pub async fn sign_up_many(http: &Http, label: &str, count: usize) -> anyhow::Result<Vec<Account>> {
    let accounts = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let run = drive(Plan::operations(8, count as u64), {
        let (http, accounts, label) = (http.clone(), accounts.clone(), label.to_owned());
        move |_, _| {
            let (http, accounts, label) = (http.clone(), accounts.clone(), label.clone());
            async move {
                let account = sign_up(&http, &label).await?;
                accounts.lock().expect("not poisoned").push(account);
                Ok(())
            }
        }
    })
    .await;
    fail_on_errors(&run, "signing up accounts")?;
    Ok(Arc::try_unwrap(accounts)
        .expect("the load is over")
        .into_inner()
        .expect("not poisoned"))
}

/// The title of the `n`th listed ticket: a word of [`TITLE_WORDS`] and a number.
pub fn title(n: u64) -> String {
    format!("{} night {n}", TITLE_WORDS[n as usize % TITLE_WORDS.len()])
}

/// The price of the `n`th listed ticket, in dollars: $5.00 to $104.99.
pub fn price(n: u64) -> f64 {
    // Cents divided once, so the number is the nearest to its two-decimal value and is written
    // with two decimals at most.
    (500 + n.wrapping_mul(7919) % 10_000) as f64 / 100.0
}

/// Lists tickets as `seller` with `plan`'s clients (POST /api/tickets): the sell scenario.
/// Returns the load's measurements and the new tickets' ids, in no particular order.
pub async fn sell(http: &Http, seller: &Account, plan: Plan) -> (Run, Vec<String>) {
    let (http, cookie) = (http.clone(), seller.cookie.clone());
    drive_collecting(plan, move |_, n| {
        let (http, cookie) = (http.clone(), cookie.clone());
        async move {
            let body = json!({"title": title(n), "price": price(n)});
            let reply = http.post("/api/tickets", Some(&cookie), &body).await?;
            reply.expect(201)?.field("id")
        }
    })
    .await
}

/// Lists `count` tickets and waits until the orders replica holds them all, so they can be
/// ordered.
pub async fn tickets_for_sale(
    http: &Http,
    seller: &Account,
    databases: &Databases,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let (run, ids) = sell(http, seller, Plan::operations(16, count as u64)).await;
    fail_on_errors(&run, "listing tickets")?;
    wait_for_replica(databases, &ids).await?;
    Ok(ids)
}

/// Waits until the orders service's replica holds every ticket of `ids` (at most ten minutes:
/// after the 100,000 tickets of the sell scenario it has a backlog to work through).
pub async fn wait_for_replica(databases: &Databases, ids: &[String]) -> anyhow::Result<()> {
    // They go into the query's text: only ids the API gave, and only if they are UUIDs.
    anyhow::ensure!(
        ids.iter().all(|id| uuid::Uuid::parse_str(id).is_ok()),
        "a ticket id that is not a UUID"
    );
    let deadline = Instant::now() + Duration::from_secs(600);
    for chunk in ids.chunks(500) {
        let list = chunk
            .iter()
            .map(|id| format!("'{id}'"))
            .collect::<Vec<_>>()
            .join(",");
        loop {
            let (known,): (i64,) = sqlx::query_as(&format!(
                "SELECT count(*) FROM tickets WHERE id IN ({list})"
            ))
            .fetch_one(databases.orders.pool())
            .await?;
            if known as usize == chunk.len() {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the orders replica holds {known} of {} new tickets after ten minutes",
                chunk.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Ok(())
}

/// Set-up must not fail quietly: a scenario measured on half its fixtures measures nothing.
pub fn fail_on_errors(run: &Run, what: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        run.errors == 0,
        "{what}: {} errors, the first: {}",
        run.errors,
        run.first_error.as_deref().unwrap_or("?")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_have_at_most_two_decimals_as_written() {
        for n in 0..20_000 {
            let written = serde_json::json!(price(n)).to_string();
            let decimals = written.split_once('.').map_or(0, |(_, d)| d.len());
            assert!(decimals <= 2, "ticket {n} costs {written}");
        }
    }
}
