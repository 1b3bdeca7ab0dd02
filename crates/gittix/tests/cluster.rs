//! The distributed cluster of `scripts/cluster`, through nginx: purchases go on while one orders
//! replica is killed with SIGKILL, and nothing is lost; revocations and rate limits hold on
//! every replica. `scripts/test` runs this inside the cluster, after the other end-to-end
//! suites (the kills would disturb them).

#[path = "support/gittix.rs"]
mod gittix;
#[path = "support/site.rs"]
mod site;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gittix_testing::session_cookie;
use reqwest::StatusCode;
use serde_json::{json, Value};
use site::{unique_email, Site};

const CLUSTER_DIR_VAR: &str = "GITTIX_E2E_CLUSTER_DIR";
const TICKETS: usize = 40;
const BUYERS: usize = 8;
/// Purchases completed before the replica is killed.
const KILL_AFTER: usize = 12;

/// One signed-in account talking to the gateway, retrying what a dying replica drops.
#[derive(Clone)]
struct Account {
    client: reqwest::Client,
    base: String,
    cookie: String,
}

impl Account {
    async fn sign_up(site: &Site) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let response = client
            .post(site.url("/api/users/signup"))
            .json(&json!({"email": unique_email("load"), "password": "secret-pass"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let cookie = session_cookie(&response).expect("sign-up sets the session cookie");
        Self {
            client,
            base: site.url(""),
            cookie,
        }
    }

    /// Sends once; `None` when the answer never came (a killed replica drops the connection).
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Option<(StatusCode, Value)> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &self.cookie);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.ok()?;
        let status = response.status();
        Some((status, response.json().await.unwrap_or(Value::Null)))
    }

    async fn get(&self, path: &str) -> Value {
        for _ in 0..50 {
            if let Some((StatusCode::OK, body)) = self.send(reqwest::Method::GET, path, None).await
            {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("GET {path} kept failing");
    }

    /// Reserves `ticket` and returns the order id. A request lost in flight may still have
    /// made the order, so after a failure the buyer's own orders are checked first.
    async fn reserve(&self, ticket: &str) -> String {
        let started = Instant::now();
        loop {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "could not reserve {ticket}"
            );
            let answer = self
                .send(
                    reqwest::Method::POST,
                    "/api/orders",
                    Some(json!({"ticketId": ticket})),
                )
                .await;
            match answer {
                Some((StatusCode::CREATED, order)) => {
                    return order["id"].as_str().unwrap().to_owned()
                }
                // The orders replica of tickets has not seen the ticket yet.
                Some((StatusCode::NOT_FOUND, _)) => {}
                Some((StatusCode::BAD_REQUEST, error)) => {
                    let mine = self.open_order_for(ticket).await;
                    return mine.unwrap_or_else(|| panic!("{ticket} refused: {error}"));
                }
                // 502/503 or no answer: the replica died under this request.
                _ => {
                    if let Some(order) = self.open_order_for(ticket).await {
                        return order;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn open_order_for(&self, ticket: &str) -> Option<String> {
        let orders = self.get("/api/orders").await;
        orders
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["ticket"]["id"] == ticket && o["status"] != "cancelled")
            .map(|o| o["id"].as_str().unwrap().to_owned())
    }

    /// Pays for `order` with the test card, retrying until payments has answered 201, or
    /// says the order is already paid (an earlier attempt whose answer was lost). An order whose
    /// confirmation was in the killed replica's hands comes back after its ack wait, longer than
    /// payments waits for it: "not confirmed yet; try again" is retried, as it asks.
    async fn pay(&self, order: &str) {
        let started = Instant::now();
        loop {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "could not pay {order}"
            );
            let body = json!({"token": "tok_visa", "orderId": order});
            match self
                .send(reqwest::Method::POST, "/api/payments", Some(body))
                .await
            {
                Some((StatusCode::CREATED, _)) => return,
                Some((StatusCode::BAD_REQUEST, error))
                    if error.to_string().contains("already been paid") =>
                {
                    return
                }
                Some((StatusCode::BAD_REQUEST, error))
                    if error
                        .to_string()
                        .contains("not confirmed for this order yet") =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Some((StatusCode::BAD_REQUEST, error)) => panic!("paying {order}: {error}"),
                // 404 while payments has not heard of the order yet; 5xx or nothing: retry.
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
}

fn cluster_dir() -> PathBuf {
    PathBuf::from(std::env::var(CLUSTER_DIR_VAR).unwrap_or_else(|_| {
        panic!(
            "{CLUSTER_DIR_VAR} is not set: run this inside scripts/cluster, as scripts/test does"
        )
    }))
}

fn kill_replica(dir: &std::path::Path, name: &str) {
    let pid = std::fs::read_to_string(dir.join(format!("pids/{name}.pid"))).unwrap();
    let status = std::process::Command::new("kill")
        .args(["-KILL", pid.trim()])
        .status()
        .unwrap();
    assert!(status.success(), "killing {name} ({})", pid.trim());
}

/// Starts a killed replica again with the command line the cluster script recorded.
fn restart_replica(dir: &std::path::Path, name: &str) {
    let command = std::fs::read_to_string(dir.join(format!("pids/{name}.command"))).unwrap();
    let log = dir.join(format!("logs/{name}.log"));
    let pid_file = dir.join(format!("pids/{name}.pid"));
    let script = format!(
        "{command} >>'{}' 2>&1 & echo $! >'{}'",
        log.display(),
        pid_file.display()
    );
    let status = std::process::Command::new("bash")
        .args(["-c", &script])
        .status()
        .unwrap();
    assert!(status.success());
}

/// The port a process of the cluster listens on, from the command line the script recorded.
fn port_of(dir: &std::path::Path, name: &str) -> String {
    let command = std::fs::read_to_string(dir.join(format!("pids/{name}.command"))).unwrap();
    command
        .split_whitespace()
        .find_map(|word| word.strip_prefix("PORT="))
        .unwrap()
        .to_owned()
}

/// Waits until nothing listens on `name`'s port any more (the killed process is gone).
async fn gone(dir: &std::path::Path, name: &str) {
    let address = format!("127.0.0.1:{}", port_of(dir, name));
    let started = Instant::now();
    while tokio::net::TcpStream::connect(&address).await.is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{name} is still listening"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `name` answers `/readyz` on its own port.
async fn ready_again(dir: &std::path::Path, name: &str) {
    let url = format!("http://127.0.0.1:{}/readyz", port_of(dir, name));
    let started = Instant::now();
    while !reqwest::get(&url)
        .await
        .is_ok_and(|r| r.status() == StatusCode::OK)
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{name} did not come back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether `name` (asked on its own port, not through the gateway) takes `cookie`: auth says who
/// is signed in; the others answer an empty write with 400 when signed in, 401 when not (or 429
/// once the user's rate limit is spent, which is only counted for a session that was taken).
async fn takes(dir: &std::path::Path, name: &str, cookie: &str) -> bool {
    let base = format!("http://127.0.0.1:{}", port_of(dir, name));
    let client = reqwest::Client::new();
    if name == "auth" {
        let me: Value = client
            .get(format!("{base}/api/users/currentuser"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        return !me["currentUser"].is_null();
    }
    let path = match name.split('-').next().unwrap() {
        "tickets" => "/api/tickets",
        "orders" => "/api/orders",
        _ => "/api/payments",
    };
    let status = client
        .post(format!("{base}{path}"))
        .header("cookie", cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .status();
    assert!(
        matches!(
            status,
            StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS
        ),
        "{name}: {status}"
    );
    status != StatusCode::UNAUTHORIZED
}

/// Issue #17 through the gateway: the operations routes are not reachable from outside, and a
/// signed-out session is refused by every replica of every service within a second, including
/// a tickets replica that was down when the revocation was published (it reads it on start).
#[tokio::test]
async fn a_revoked_session_is_refused_by_every_replica_even_one_that_was_down() {
    let dir = cluster_dir();
    let site = Site::start();
    for path in ["/metrics", "/healthz", "/readyz"] {
        let status = reqwest::get(site.url(path)).await.unwrap().status();
        assert_eq!(status, StatusCode::NOT_FOUND, "{path} through the gateway");
    }

    let stolen = Account::sign_up(&site).await.cookie;
    let replicas = [
        "auth",
        "tickets-1",
        "tickets-2",
        "orders-1",
        "orders-2",
        "payments",
    ];
    for name in replicas {
        assert!(
            takes(&dir, name, &stolen).await,
            "{name} before the sign-out"
        );
    }
    kill_replica(&dir, "tickets-2");
    gone(&dir, "tickets-2").await;
    let signed_out = reqwest::Client::new()
        .post(site.url("/api/users/signout"))
        .header("cookie", &stolen)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), StatusCode::OK);
    let since = Instant::now();
    for name in replicas.iter().filter(|name| **name != "tickets-2") {
        loop {
            let sent = since.elapsed();
            if !takes(&dir, name, &stolen).await {
                break;
            }
            assert!(
                sent < Duration::from_secs(1),
                "{name} still took the session {sent:?} after sign-out"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    restart_replica(&dir, "tickets-2");
    ready_again(&dir, "tickets-2").await;
    let since = Instant::now();
    loop {
        let sent = since.elapsed();
        if !takes(&dir, "tickets-2", &stolen).await {
            break;
        }
        assert!(
            sent < Duration::from_secs(1),
            "tickets-2 took the session {sent:?} after it came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Issue #17: both orders replicas count a buyer's orders in one Redis budget, 30 a minute
/// (`scripts/cluster`'s default, as production's). Attempts alternate between the replicas, on
/// their own ports: landing on both does not double the budget.
#[tokio::test]
async fn the_order_limit_holds_across_both_orders_replicas() {
    const PER_MINUTE: usize = 30;
    let dir = cluster_dir();
    let site = Site::start();
    let buyer = Account::sign_up(&site).await;
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for n in 0..=PER_MINUTE {
        let replica = if n % 2 == 0 { "orders-1" } else { "orders-2" };
        let status = client
            .post(format!(
                "http://127.0.0.1:{}/api/orders",
                port_of(&dir, replica)
            ))
            .header("cookie", &buyer.cookie)
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .status();
        statuses.push(status);
    }
    let mut expected = vec![StatusCode::BAD_REQUEST; PER_MINUTE];
    expected.push(StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(statuses, expected);
}

#[tokio::test]
async fn purchases_go_on_while_an_orders_replica_is_killed_and_nothing_is_lost() {
    let dir = cluster_dir();
    let site = Site::start();
    let seller = Account::sign_up(&site).await;
    let mut tickets = Vec::new();
    for n in 0..TICKETS {
        let (status, ticket) = seller
            .send(
                reqwest::Method::POST,
                "/api/tickets",
                Some(json!({"title": format!("Load test seat {n}"), "price": 10 + n})),
            )
            .await
            .unwrap();
        assert_eq!(status, StatusCode::CREATED);
        tickets.push(ticket["id"].as_str().unwrap().to_owned());
    }

    let completed = Arc::new(AtomicUsize::new(0));
    let mut buyers = Vec::new();
    for b in 0..BUYERS {
        let buyer = Account::sign_up(&site).await;
        let mine: Vec<String> = tickets.iter().skip(b).step_by(BUYERS).cloned().collect();
        let completed = completed.clone();
        buyers.push(tokio::spawn(async move {
            for ticket in &mine {
                let order = buyer.reserve(ticket).await;
                buyer.pay(&order).await;
                completed.fetch_add(1, Ordering::SeqCst);
            }
            buyer
        }));
    }

    // Mid-run, the first orders replica dies without warning.
    let started = Instant::now();
    while completed.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "purchases stalled before the kill"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    kill_replica(&dir, "orders-1");
    let at_kill = completed.load(Ordering::SeqCst);
    assert!(
        at_kill < TICKETS,
        "the kill came after every purchase ({at_kill})"
    );

    let mut accounts = Vec::new();
    for buyer in buyers {
        accounts.push(buyer.await.expect("a buyer failed"));
    }
    assert_eq!(completed.load(Ordering::SeqCst), TICKETS);

    // Every paid order completes and every ticket is sold once, with one replica gone.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut complete_per_ticket = std::collections::HashMap::<String, usize>::new();
        let mut open = 0;
        for account in &accounts {
            for order in account.get("/api/orders").await.as_array().unwrap() {
                match order["status"].as_str().unwrap() {
                    "complete" => {
                        *complete_per_ticket
                            .entry(order["ticket"]["id"].as_str().unwrap().to_owned())
                            .or_default() += 1;
                    }
                    "cancelled" => {}
                    _ => open += 1,
                }
            }
        }
        let mut sold = 0;
        for ticket in &tickets {
            if seller.get(&format!("/api/tickets/{ticket}")).await["status"] == "sold" {
                sold += 1;
            }
        }
        assert!(
            complete_per_ticket.values().all(|&n| n == 1),
            "a ticket sold twice"
        );
        if complete_per_ticket.len() == TICKETS && sold == TICKETS && open == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after the kill: {} of {TICKETS} orders complete, {sold} tickets sold, {open} open",
            complete_per_ticket.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // The replica comes back and serves again.
    restart_replica(&dir, "orders-1");
    ready_again(&dir, "orders-1").await;
}
