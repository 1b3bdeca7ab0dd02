//! The load driver: a fixed number of clients, each sending its next request as soon as the last
//! one is answered (a closed loop), until a request count or a deadline is reached.
//! Latencies go into an HDR histogram (microseconds); completions are counted per second of the
//! run for the throughput-over-time plot.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::stats::{Distribution, Run};

/// How long a load lasts: a number of operations, a time, or whichever comes first.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub clients: usize,
    pub operations: Option<u64>,
    pub duration: Option<Duration>,
}

impl Plan {
    pub fn operations(clients: usize, operations: u64) -> Self {
        Self {
            clients,
            operations: Some(operations),
            duration: None,
        }
    }

    pub fn timed(clients: usize, duration: Duration) -> Self {
        Self {
            clients,
            operations: None,
            duration: Some(duration),
        }
    }

    /// At most `operations`, and at most `duration`.
    pub fn bounded(clients: usize, operations: u64, duration: Duration) -> Self {
        Self {
            clients,
            operations: Some(operations),
            duration: Some(duration),
        }
    }
}

/// What one client's share of the load recorded.
struct ClientRecord {
    latencies: Histogram<u64>,
    per_second: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

/// Runs `operation(client, n)` under `plan`, `n` counting operations across all clients from 0.
/// An operation that returns an error counts as an error; its latency is not recorded.
pub async fn drive<F, Fut>(plan: Plan, operation: F) -> Run
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let operation = Arc::new(operation);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = plan.duration.map(|d| started + d);
    let limit = plan.operations.unwrap_or(u64::MAX);
    let clients: Vec<_> = (0..plan.clients)
        .map(|client| {
            let operation = operation.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut record = ClientRecord {
                    latencies: crate::stats::micros_histogram(),
                    per_second: Vec::new(),
                    errors: 0,
                    first_error: None,
                };
                loop {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        break;
                    }
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= limit {
                        break;
                    }
                    let sent = Instant::now();
                    let outcome = operation(client, n).await;
                    let answered = Instant::now();
                    match outcome {
                        Ok(()) => {
                            let micros = (answered - sent).as_micros();
                            record
                                .latencies
                                .saturating_record(u64::try_from(micros).unwrap_or(u64::MAX));
                            let second = (answered - started).as_secs() as usize;
                            if record.per_second.len() <= second {
                                record.per_second.resize(second + 1, 0);
                            }
                            record.per_second[second] += 1;
                        }
                        Err(error) => {
                            record.errors += 1;
                            record
                                .first_error
                                .get_or_insert_with(|| format!("{error:#}"));
                        }
                    }
                }
                record
            })
        })
        .collect();
    let mut latencies = crate::stats::micros_histogram();
    let mut per_second = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for client in clients {
        let record = client.await.expect("a load client panicked");
        latencies.add(&record.latencies).expect("same precision");
        if per_second.len() < record.per_second.len() {
            per_second.resize(record.per_second.len(), 0);
        }
        for (total, count) in per_second.iter_mut().zip(&record.per_second) {
            *total += count;
        }
        errors += record.errors;
        if first_error.is_none() {
            first_error = record.first_error;
        }
    }
    Run {
        clients: plan.clients,
        elapsed_s: started.elapsed().as_secs_f64(),
        errors,
        first_error,
        latency: Distribution::of(&latencies),
        per_second,
    }
}

/// [`drive`] for operations that each create something: collects the id each one returns (in no
/// particular order) beside the load's measurements.
pub async fn drive_collecting<F, Fut>(plan: Plan, operation: F) -> (Run, Vec<String>)
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<String>> + Send,
{
    let ids = Arc::new(Mutex::new(Vec::new()));
    let run = drive(plan, {
        let ids = ids.clone();
        move |client, n| {
            let (ids, created) = (ids.clone(), operation(client, n));
            async move {
                let id = created.await?;
                ids.lock().expect("not poisoned").push(id);
                Ok(())
            }
        }
    })
    .await;
    let ids = Arc::try_unwrap(ids)
        .expect("the load is over")
        .into_inner()
        .expect("not poisoned");
    (run, ids)
}
