//! The buying scenarios: reserve, event propagation, and the whole funnel.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Mutex;

use crate::client::{Http, Reply};
use crate::fixtures::{self, sign_up, Account};
use crate::load::{drive, Plan};
use crate::stats::{Distribution, Run};

/// How often a client looks again while it waits for an event's effect.
const POLL_INTERVAL: Duration = Duration::from_millis(1);

pub async fn order(http: &Http, buyer: &Account, ticket: &str) -> anyhow::Result<Reply> {
    http.post(
        "/api/orders",
        Some(&buyer.cookie),
        &json!({"ticketId": ticket}),
    )
    .await
}

pub async fn pay(http: &Http, buyer: &Account, order: &str) -> anyhow::Result<Reply> {
    http.post(
        "/api/payments",
        Some(&buyer.cookie),
        &json!({"token": "tok_visa", "orderId": order}),
    )
    .await
}

/// Asks `path` until its `status` is `wanted` (at most 10 s); returns when it saw it.
async fn wait_for_status(
    http: &Http,
    path: &str,
    cookie: Option<&str>,
    wanted: &str,
) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = http.get(path, cookie).await?.expect(200)?;
        if reply.field("status")? == wanted {
            return Ok(Instant::now());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{path} is not {wanted} after 10 s"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Sends a POST until it is not 404 (at most 10 s), which it is while the service's replica has
/// not yet seen the record it names: a ticket just listed, an order just made. Expects 201.
async fn until_known<F, Fut>(send: F) -> anyhow::Result<Reply>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Reply>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = send().await?;
        if reply.status.as_u16() != 404 || Instant::now() > deadline {
            return reply.expect(201);
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// POST /api/orders on distinct tickets, one buyer per client.
pub async fn reserve(http: &Http, buyers: &[Account], tickets: Vec<String>, plan: Plan) -> Run {
    let plan = Plan {
        operations: Some(
            plan.operations
                .unwrap_or(u64::MAX)
                .min(tickets.len() as u64),
        ),
        ..plan
    };
    let (http, buyers, tickets) = (http.clone(), buyers.to_vec(), Arc::new(tickets));
    drive(plan, move |client, n| {
        let (http, buyer, tickets) = (
            http.clone(),
            buyers[client % buyers.len()].clone(),
            tickets.clone(),
        );
        async move {
            order(&http, &buyer, &tickets[n as usize])
                .await?
                .expect(201)
                .map(drop)
        }
    })
    .await
}

/// How long an answered request takes to show in another service's API.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Propagation {
    pub in_flight: usize,
    /// Reserve answered → the ticket shows `reserved` in the tickets API.
    pub reserved: Distribution,
    /// Pay answered → the order shows `complete` in the orders API.
    pub completed: Distribution,
    /// Each sample is rounded up to the next look, taken every this many milliseconds.
    pub poll_interval_ms: f64,
}

/// `in_flight` clients, each reserving a fresh ticket and paying for it `rounds` times, timing
/// both events' effects.
pub async fn propagation(
    http: &Http,
    buyers: &[Account],
    tickets: Vec<String>,
    in_flight: usize,
    rounds: usize,
) -> anyhow::Result<Propagation> {
    let samples = Arc::new(Mutex::new((Vec::new(), Vec::new())));
    let tickets = Arc::new(tickets);
    let plan = Plan::operations(in_flight, (in_flight * rounds).min(tickets.len()) as u64);
    let run = drive(plan, {
        let (http, buyers, samples) = (http.clone(), buyers.to_vec(), samples.clone());
        move |client, n| {
            let (http, buyer) = (http.clone(), buyers[client % buyers.len()].clone());
            let (tickets, samples) = (tickets.clone(), samples.clone());
            async move {
                let ticket = &tickets[n as usize];
                let order_id = order(&http, &buyer, ticket)
                    .await?
                    .expect(201)?
                    .field("id")?;
                let answered = Instant::now();
                let seen =
                    wait_for_status(&http, &format!("/api/tickets/{ticket}"), None, "reserved")
                        .await?;
                let reserved_ms = (seen - answered).as_secs_f64() * 1000.0;
                until_known(|| pay(&http, &buyer, &order_id)).await?;
                let answered = Instant::now();
                let path = format!("/api/orders/{order_id}");
                let seen = wait_for_status(&http, &path, Some(&buyer.cookie), "complete").await?;
                let completed_ms = (seen - answered).as_secs_f64() * 1000.0;
                let mut samples = samples.lock().await;
                samples.0.push(reserved_ms);
                samples.1.push(completed_ms);
                Ok(())
            }
        }
    })
    .await;
    fixtures::fail_on_errors(&run, "measuring propagation")?;
    let samples = samples.lock().await;
    Ok(Propagation {
        in_flight,
        reserved: Distribution::of_millis(samples.0.iter().copied()),
        completed: Distribution::of_millis(samples.1.iter().copied()),
        poll_interval_ms: POLL_INTERVAL.as_secs_f64() * 1000.0,
    })
}

/// The whole funnel, one operation per new buyer: sign up, a seller lists a ticket, the buyer
/// reserves it (as soon as orders knows it), pays, and sees the order complete.
pub async fn funnel(http: &Http, seller: &Account, plan: Plan) -> Run {
    let (http, seller) = (http.clone(), seller.clone());
    drive(plan, move |_, n| {
        let (http, seller) = (http.clone(), seller.clone());
        async move {
            let buyer = sign_up(&http, "funnel").await?;
            let body = json!({"title": fixtures::title(n), "price": fixtures::price(n)});
            let ticket = http
                .post("/api/tickets", Some(&seller.cookie), &body)
                .await?
                .expect(201)?
                .field("id")?;
            // 404 until the orders replica has the new ticket.
            let order_id = until_known(|| order(&http, &buyer, &ticket))
                .await?
                .field("id")?;
            until_known(|| pay(&http, &buyer, &order_id)).await?;
            let path = format!("/api/orders/{order_id}");
            wait_for_status(&http, &path, Some(&buyer.cookie), "complete").await?;
            Ok(())
        }
    })
    .await
}
