//! The purchase load that runs through every fault: buyers reserve fresh tickets and pay, decline,
//! cancel or walk away, as people do, retrying as a patient client would; some pay with a card
//! that asks for 3-D Secure and answer the check at once, or only once the order's lock has
//! ended. Every other seller uploads the ticket's file as they list it, some others once the
//! ticket is sold, and each buyer downloads it once paid; the other sales are never delivered. Failures while a fault lasts are expected and counted; what
//! must hold afterwards is checked by `checks`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::stand_in::StandIn;
use crate::client::Http;
use crate::fixtures::Account;

/// The ticket's file every other seller uploads: a small PDF.
const TICKET_FILE: &[u8] = b"%PDF-1.4\n% fault suite ticket\n%%EOF\n";

/// Who plays the bank's 3-D Secure check for the buyers.
#[derive(Clone)]
pub enum Challenges {
    /// The simulator's: GitTix's own route answers it (embedded mode).
    Simulator,
    /// The Stripe stand-in's, as Stripe.js would (the cluster).
    StandIn(StandIn),
}

/// What the load saw, for the report.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Purchases begun (a ticket listed for the buyer).
    pub begun: u64,
    /// Payments the API accepted (201).
    pub paid: u64,
    /// When each accepted payment was answered.
    pub paid_at: Vec<Instant>,
    /// The orders those payments were for, in the same order.
    pub paid_orders: Vec<String>,
    /// 3-D Secure checks completed at once, and just as the order's lock ended.
    pub challenges_in_time: u64,
    pub challenges_late: u64,
    /// Tickets whose file their buyer downloaded after paying, byte for byte.
    pub downloaded: u64,
    /// Answers other than the expected ones, by "step status" (`pay 503`, `list error`, ...).
    pub unexpected: BTreeMap<String, u64>,
}

pub struct Load {
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// Starts one worker per buyer; each sells through one of the `sellers`.
    pub fn start(
        http: &Http,
        sellers: &[Account],
        buyers: &[Account],
        challenges: &Challenges,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Mutex::new(Tally::default()));
        let round = Arc::new(AtomicU64::new(0));
        let workers = buyers
            .iter()
            .enumerate()
            .map(|(i, buyer)| {
                let worker = Worker {
                    http: http.clone(),
                    seller: sellers[i % sellers.len()].clone(),
                    buyer: buyer.clone(),
                    tally: tally.clone(),
                    challenges: challenges.clone(),
                };
                let (stop, round) = (stop.clone(), round.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::SeqCst) {
                        worker.purchase(round.fetch_add(1, Ordering::SeqCst)).await;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                })
            })
            .collect();
        Self {
            stop,
            tally,
            workers,
        }
    }

    /// The orders whose payment was accepted before `at`.
    pub fn paid_before(&self, at: Instant) -> Vec<String> {
        let tally = self.tally.lock().expect("not poisoned");
        tally
            .paid_at
            .iter()
            .zip(&tally.paid_orders)
            .filter(|(paid_at, _)| **paid_at < at)
            .map(|(_, order)| order.clone())
            .collect()
    }

    /// Lets each worker finish its purchase, then returns the tally.
    pub async fn stop(self) -> Tally {
        self.stop.store(true, Ordering::SeqCst);
        for worker in self.workers {
            let _ = worker.await;
        }
        let tally = self.tally.lock().expect("not poisoned").clone();
        tally
    }
}

struct Worker {
    http: Http,
    seller: Account,
    buyer: Account,
    tally: Arc<Mutex<Tally>>,
    challenges: Challenges,
}

/// How long a step keeps retrying answers that mean "not yet" (a replica behind, a fault).
const PATIENCE: Duration = Duration::from_secs(20);

impl Worker {
    async fn purchase(&self, round: u64) {
        let listed = self
            .http
            .post(
                "/api/tickets",
                Some(&self.seller.cookie),
                &json!({"title": format!("fault suite {round}"), "price": 10 + round % 90}),
            )
            .await;
        let ticket = match listed {
            Ok(reply) if reply.status == 201 => match reply.field("id") {
                Ok(id) => id,
                Err(_) => return self.unexpected("list", "bad body"),
            },
            Ok(reply) => return self.unexpected("list", reply.status.as_str()),
            Err(_) => return self.unexpected("list", "no answer"),
        };
        self.tally.lock().expect("not poisoned").begun += 1;
        // Every other seller uploads the ticket's file at once: that sale is delivered when it
        // completes. The others never do, and their buyers are refunded at the deadline.
        let with_file = round.is_multiple_of(2);
        if with_file && !self.upload(&ticket).await {
            return;
        }
        // The orders service learns of the ticket through an event: 404 until it has.
        let body = json!({"ticketId": ticket});
        let Some(reserved) = self
            .retrying("reserve", 201, &[404], || {
                self.http
                    .post("/api/orders", Some(&self.buyer.cookie), &body)
            })
            .await
        else {
            return;
        };
        let Some(order) = reserved["id"].as_str().map(str::to_owned) else {
            return self.unexpected("reserve", "bad body");
        };
        match round % 10 {
            // Declined: the order stays open until it expires.
            7 => {
                self.pay(&order, "tok_chargeDeclined", 400).await;
            }
            8 => {
                let path = format!("/api/orders/{order}");
                let cancelled = self
                    .http
                    .send(hyper::Method::DELETE, &path, Some(&self.buyer.cookie), None)
                    .await;
                match cancelled {
                    Ok(reply) if reply.status == 204 => {}
                    Ok(reply) => self.unexpected("cancel", reply.status.as_str()),
                    Err(_) => self.unexpected("cancel", "no answer"),
                }
            }
            // The seller changes the price, or withdraws the ticket, the moment it is ordered:
            // whichever the tickets service sees first wins, and the buyer pays only for a
            // reservation it confirmed.
            3 | 5 => {
                let path = format!("/api/tickets/{ticket}");
                let seller = Some(self.seller.cookie.as_str());
                let changed = if round % 10 == 3 {
                    let terms =
                        json!({"title": format!("fault suite {round}"), "price": 11 + round % 90});
                    self.http
                        .send(hyper::Method::PUT, &path, seller, Some(&terms))
                        .await
                } else {
                    self.http
                        .send(hyper::Method::DELETE, &path, seller, None)
                        .await
                };
                match changed {
                    // 400: the reservation came first, so the seller may not change it.
                    Ok(reply) if [200, 204, 400].contains(&reply.status.as_u16()) => {}
                    Ok(reply) => self.unexpected("change", reply.status.as_str()),
                    Err(_) => self.unexpected("change", "no answer"),
                }
                self.pay_unless_refused(&order).await;
            }
            // Walks away: the order expires.
            9 => {}
            // 3-D Secure, answered at once every other time, otherwise as the lock ends.
            6 => {
                let lock_ends = reserved["expiresAt"]
                    .as_str()
                    .and_then(gittix_shared::time::parse_iso8601);
                let late = (round / 10) % 2 == 1;
                self.pay_with_3_d_secure(&order, lock_ends.filter(|_| late))
                    .await;
            }
            _ => {
                // Only a buyer told "paid" looks for the ticket (one refused under a fault got
                // nothing, and waiting for it would only stall this buyer).
                if !self.pay(&order, "tok_visa", 201).await {
                    return;
                }
                // One seller in four of those without a file uploads it once the ticket is
                // sold, racing the sale's arrival and well before its deadline.
                let late_file = round % 4 == 1;
                if late_file && !self.upload(&ticket).await {
                    return;
                }
                if with_file || late_file {
                    self.download(&ticket).await;
                }
            }
        }
    }

    /// The seller uploads the ticket's file; whether it was taken.
    async fn upload(&self, ticket: &str) -> bool {
        let path = format!("/api/tickets/{ticket}/file");
        self.retrying_for_status("upload", 204, || {
            let file = Some(("application/pdf", bytes::Bytes::from_static(TICKET_FILE)));
            self.http
                .send_bytes(hyper::Method::PUT, &path, Some(&self.seller.cookie), file)
        })
        .await
    }

    /// The buyer of a paid order downloads the ticket's file once the sale reaches the tickets
    /// service (404 until it has), and it must be the seller's file.
    async fn download(&self, ticket: &str) {
        let path = format!("/api/tickets/{ticket}/file");
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self.http.get(&path, Some(&self.buyer.cookie)).await {
                Ok(reply) if reply.status == 200 && reply.body.as_ref() == TICKET_FILE => {
                    self.tally.lock().expect("not poisoned").downloaded += 1;
                    return;
                }
                Ok(reply) if reply.status == 200 => {
                    return self.unexpected("download", "other bytes")
                }
                Ok(reply) if ![404, 502, 503].contains(&reply.status.as_u16()) => {
                    return self.unexpected("download", reply.status.as_str())
                }
                _ if Instant::now() > deadline => {
                    return self.unexpected("download", "never delivered")
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// [`Self::retrying`] for an answer with no body to read: whether `expected` came.
    async fn retrying_for_status<F, Fut>(&self, step: &str, expected: u16, send: F) -> bool
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<crate::client::Reply>>,
    {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let outcome = send().await;
            let retry = match &outcome {
                Ok(reply) if reply.status == expected => return true,
                Ok(reply) => [502, 503].contains(&reply.status.as_u16()),
                Err(_) => true,
            };
            if !retry || Instant::now() > deadline {
                let what = match &outcome {
                    Ok(reply) => reply.status.as_str().to_owned(),
                    Err(_) => "no answer".to_owned(),
                };
                self.unexpected(step, &what);
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Pays for `order` with `token`; whether the API answered `expected`.
    async fn pay(&self, order: &str, token: &str, expected: u16) -> bool {
        let body = json!({"token": token, "orderId": order});
        // 404: payments has not seen the order yet. A 503 (the card processor did not answer)
        // or no answer is not retried: the charge is settled by payments itself.
        // (Retrying would be safe too: a second attempt is refused while one is unsettled.)
        let paid = self
            .retrying("pay", expected, &[404], || {
                self.http
                    .post("/api/payments", Some(&self.buyer.cookie), &body)
            })
            .await;
        if paid.is_some() && expected == 201 {
            self.paid(order);
        }
        paid.is_some()
    }

    /// Pays with Stripe's test card that asks for 3-D Secure and completes the check: at once,
    /// or at `late` (unix ms: the end of the order's lock), when the order ends as the answer
    /// comes, and whatever the card's bank held must be released. Then asks for the payment, as
    /// the page does after Stripe.js.
    async fn pay_with_3_d_secure(&self, order: &str, late: Option<i64>) {
        let body = json!({"paymentMethod": "pm_card_authenticationRequired", "orderId": order});
        let Some(challenge) = self
            .retrying("pay", 202, &[404], || {
                self.http
                    .post("/api/payments", Some(&self.buyer.cookie), &body)
            })
            .await
        else {
            return;
        };
        let (Some(id), Some(secret)) =
            (challenge["id"].as_str(), challenge["clientSecret"].as_str())
        else {
            return self.unexpected("pay", "bad body");
        };
        if let Some(lock_ends) = late {
            let wait = lock_ends - gittix_shared::time::unix_millis();
            tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;
        }
        let answered = match &self.challenges {
            Challenges::StandIn(stand_in) => stand_in.answer_challenge(secret, true).await.is_ok(),
            Challenges::Simulator => {
                let path = format!("/api/payments/{id}/challenge");
                let answer = json!({"complete": true});
                let reply = self
                    .http
                    .post(&path, Some(&self.buyer.cookie), &answer)
                    .await;
                reply.is_ok_and(|r| r.status == 201)
            }
        };
        if late.is_some() {
            // Refused, or answered and then released: the order has ended either way.
            self.tally.lock().expect("not poisoned").challenges_late += 1;
            return;
        }
        self.tally.lock().expect("not poisoned").challenges_in_time += 1;
        if !answered {
            return self.unexpected("challenge", "refused");
        }
        let shown = self
            .http
            .get(&format!("/api/payments/{id}"), Some(&self.buyer.cookie))
            .await;
        match shown.and_then(|reply| reply.json()) {
            Ok(attempt)
                if ["authorized", "completed"]
                    .contains(&attempt["status"].as_str().unwrap_or_default()) =>
            {
                self.paid(order);
            }
            Ok(attempt) => self.unexpected(
                "challenge",
                attempt["status"].as_str().unwrap_or("bad body"),
            ),
            Err(_) => self.unexpected("challenge", "no answer"),
        }
    }

    fn paid(&self, order: &str) {
        let mut tally = self.tally.lock().expect("not poisoned");
        tally.paid += 1;
        tally.paid_at.push(Instant::now());
        tally.paid_orders.push(order.to_owned());
    }

    /// Pays for an order whose seller raced it: 201 when the reservation was confirmed, 400 when
    /// the seller's change won and the order was cancelled (`ticket_changed`).
    async fn pay_unless_refused(&self, order: &str) {
        let body = json!({"token": "tok_visa", "orderId": order});
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self
                .http
                .post("/api/payments", Some(&self.buyer.cookie), &body)
                .await
            {
                Ok(reply) if reply.status == 201 => return self.paid(order),
                Ok(reply) if reply.status == 400 => return,
                Ok(reply)
                    if [404, 502].contains(&reply.status.as_u16()) && Instant::now() < deadline => {
                }
                Ok(reply) => return self.unexpected("pay", reply.status.as_str()),
                Err(_) => return self.unexpected("pay", "no answer"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends a request until it answers `expected`, retrying the statuses in `again`, 502 (the
    /// gateway's upstream is down) and, except for a payment, 503 and no answer, for
    /// [`PATIENCE`]. Anything
    /// else ends the purchase and is counted.
    async fn retrying<F, Fut>(
        &self,
        step: &str,
        expected: u16,
        again: &[u16],
        send: F,
    ) -> Option<Value>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<crate::client::Reply>>,
    {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let outcome = send().await;
            let retry = match &outcome {
                Ok(reply) if reply.status == expected => return reply.json().ok(),
                Ok(reply) => {
                    let status = reply.status.as_u16();
                    // 502: the gateway found no replica up; the request reached no service.
                    again.contains(&status) || status == 502 || (step != "pay" && status == 503)
                }
                Err(_) => step != "pay",
            };
            if !retry || Instant::now() > deadline {
                let what = match &outcome {
                    Ok(reply) => reply.status.as_str().to_owned(),
                    Err(_) => "no answer".to_owned(),
                };
                self.unexpected(step, &what);
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn unexpected(&self, step: &str, what: &str) {
        *self
            .tally
            .lock()
            .expect("not poisoned")
            .unexpected
            .entry(format!("{step} {what}"))
            .or_default() += 1;
    }
}
