//! The flash sale: many buyers released at the same instant on few tickets. Exactly one buyer
//! may win each ticket; every other one must hear "Ticket is already reserved".

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::Barrier;

use crate::client::Http;
use crate::fixtures::Account;
use crate::scenarios::buying::order;
use crate::stats::Distribution;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FlashRound {
    pub buyers: usize,
    pub tickets: usize,
    /// Orders made (201).
    pub winners: u64,
    /// Tickets that did not end with exactly one winner: must be 0.
    pub tickets_without_exactly_one_winner: u64,
    /// Buyers told "Ticket is already reserved".
    pub refused: u64,
    /// Any other answer, or none.
    pub errors: u64,
    pub first_error: Option<String>,
    pub latency: Distribution,
    pub elapsed_s: f64,
}

/// One round: buyer `i` goes for ticket `i % tickets.len()`, all at once.
pub async fn round(http: &Http, buyers: &[Account], tickets: &[String]) -> FlashRound {
    let barrier = Arc::new(Barrier::new(buyers.len()));
    let started = std::time::Instant::now();
    let attempts: Vec<_> = buyers
        .iter()
        .enumerate()
        .map(|(i, buyer)| {
            let (http, buyer, barrier) = (http.clone(), buyer.clone(), barrier.clone());
            let ticket = tickets[i % tickets.len()].clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let sent = std::time::Instant::now();
                let outcome = order(&http, &buyer, &ticket).await;
                (ticket, sent.elapsed(), outcome)
            })
        })
        .collect();
    let mut result = FlashRound {
        buyers: buyers.len(),
        tickets: tickets.len(),
        ..FlashRound::default()
    };
    let mut winners: HashMap<String, u64> = tickets.iter().map(|t| (t.clone(), 0)).collect();
    let mut latencies = crate::stats::micros_histogram();
    for attempt in attempts {
        let (ticket, took, outcome) = attempt.await.expect("a buyer task panicked");
        let refused =
            |body: &[u8]| String::from_utf8_lossy(body).contains("Ticket is already reserved");
        match outcome {
            Ok(reply) if reply.status.as_u16() == 201 => {
                result.winners += 1;
                *winners.entry(ticket).or_default() += 1;
            }
            Ok(reply) if reply.status.as_u16() == 400 && refused(&reply.body) => {
                result.refused += 1
            }
            other => {
                result.errors += 1;
                result.first_error.get_or_insert_with(|| match other {
                    Ok(reply) => {
                        format!("{}: {}", reply.status, String::from_utf8_lossy(&reply.body))
                    }
                    Err(error) => format!("{error:#}"),
                });
                continue;
            }
        }
        latencies.saturating_record(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
    }
    result.tickets_without_exactly_one_winner =
        winners.values().filter(|&&w| w != 1).count() as u64;
    result.latency = Distribution::of(&latencies);
    result.elapsed_s = started.elapsed().as_secs_f64();
    result
}
