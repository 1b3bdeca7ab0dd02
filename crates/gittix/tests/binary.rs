//! The `gittix` binary as a user runs it: embedded mode with no setup, `serve auth` with
//! PostgreSQL, refusal to start without a real key, graceful shutdown.

#[path = "support/gittix.rs"]
mod gittix;

use std::process::Command;
use std::time::Duration;

use std::sync::Arc;

use gittix::Gittix;
use gittix_shared::bus::embedded::EmbeddedBus;
use gittix_shared::bus::jetstream::JetStreamBus;
use gittix_shared::bus::{Bus, DeliverySettings};
use gittix_testing::{
    create_postgres_database, eventually, jetstream_test_settings, session_cookie,
    test_private_key_pem, test_public_key_pem, test_sessions, TestUser, NATS_URL_VAR,
    POSTGRES_URL_VAR,
};
use serde_json::json;

/// The keys `serve auth` takes, and the one every other service takes.
fn private_key() -> String {
    test_private_key_pem()
}

fn public_key() -> String {
    test_public_key_pem()
}

fn run_to_exit(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gittix"))
        .args(args)
        .env_clear()
        .env("PORT", "0")
        .env("LOG_FORMAT", "text")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

/// The email of the first `user:created` on `bus`.
async fn user_created_on(bus: Arc<dyn Bus>) -> String {
    let mut sub = bus
        .subscribe(
            "test-observer",
            &["user:created".to_owned()],
            &DeliverySettings::default(),
        )
        .await
        .unwrap();
    let delivery = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .unwrap()
        .unwrap();
    let event: serde_json::Value = serde_json::from_slice(&delivery.message.payload).unwrap();
    event["email"].as_str().unwrap().to_owned()
}

async fn signup(base: &str, email: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/api/users/signup"))
        .json(&json!({"email": email, "password": "password"}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn embedded_mode_needs_no_setup_and_keeps_data_and_sessions_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let first = Gittix::start(&[], &[], dir.path());
    let response = signup(&first.base_url, "test@test.com").await;
    assert_eq!(response.status(), 201);
    let cookie = session_cookie(&response).unwrap();
    assert!(first.terminate(), "SIGTERM should stop gittix cleanly");
    // The databases and the keys are the owner's alone.
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir.path().join("data")).unwrap() {
        let entry = entry.unwrap();
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&entry.metadata().unwrap().permissions());
        files.push((entry.file_name().into_string().unwrap(), mode & 0o777));
    }
    files.sort();
    for name in [
        "auth.db",
        "bus.db",
        "form.key",
        "orders.db",
        "session-signing-key.pem",
    ] {
        assert!(
            files.iter().any(|(file, _)| file == name),
            "{name} in {files:?}"
        );
    }
    // Private: the files 0600, the directory of emails (which hold sign-in links) 0700.
    assert!(
        files
            .iter()
            .all(|(name, mode)| *mode == if name == "mail" { 0o700 } else { 0o600 }),
        "{files:?}"
    );
    let bus = EmbeddedBus::open(&dir.path().join("data/bus.db"))
        .await
        .unwrap();
    let email = user_created_on(Arc::new(bus)).await;
    assert_eq!(
        email, "test@test.com",
        "user:created reached the embedded bus"
    );
    assert!(
        dir.path().join("data/auth.db").exists(),
        "the default data directory is ./data"
    );

    let second = Gittix::start(&["run"], &[], dir.path());
    let client = reqwest::Client::new();
    let me: serde_json::Value = client
        .get(format!("{}/api/users/currentuser", second.base_url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        me["currentUser"]["email"], "test@test.com",
        "the session survives a restart"
    );
    assert_eq!(
        signup(&second.base_url, "test@test.com").await.status(),
        400,
        "the account survives too"
    );
    assert!(second.terminate());
}

/// Each argon2id hash takes 19 MiB. Hashed on a thread per request, 40 sign-ups at once took
/// 40 buffers at once, and the allocator kept them afterwards: the process passed 600 MiB.
#[tokio::test]
async fn a_burst_of_sign_ups_keeps_embedded_mode_small() {
    let dir = tempfile::tempdir().unwrap();
    // All 40 come from this one client: lift its sign-up limit.
    let gittix = Gittix::start(&[], &[("SIGNUPS_PER_CLIENT_PER_MINUTE", "100")], dir.path());
    let sign_ups: Vec<_> = (0..40)
        .map(|i| {
            let base = gittix.base_url.clone();
            tokio::spawn(async move { signup(&base, &format!("burst{i}@test.com")).await.status() })
        })
        .collect();
    for sign_up in sign_ups {
        assert_eq!(sign_up.await.unwrap(), 201);
    }
    let peak = gittix.peak_resident_mib();
    assert!(
        peak < 150.0,
        "40 sign-ups at once took gittix to {peak:.0} MiB"
    );
}

#[test]
fn serve_refuses_to_start_without_its_session_key() {
    let url = "postgres://nobody@127.0.0.1:1/none";
    let (private, public) = (private_key(), public_key());
    let refusals = [
        ("auth", vec![], "JWT_PRIVATE_KEY is not set"),
        (
            "auth",
            vec![("JWT_PUBLIC_KEY", public.as_str())],
            "JWT_PRIVATE_KEY is not set",
        ),
        (
            "auth",
            vec![("JWT_PRIVATE_KEY", "not a key")],
            "not an Ed25519 private key",
        ),
        // A public key where the private one belongs.
        (
            "auth",
            vec![("JWT_PRIVATE_KEY", public.as_str())],
            "not an Ed25519 private key",
        ),
        ("tickets", vec![], "JWT_PUBLIC_KEY is not set"),
        (
            "orders",
            vec![(
                "JWT_PUBLIC_KEY",
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            )],
            "not an Ed25519 public key",
        ),
        // Only auth may hold the key that mints sessions.
        (
            "payments",
            vec![
                ("JWT_PRIVATE_KEY", private.as_str()),
                ("JWT_PUBLIC_KEY", public.as_str()),
            ],
            "only auth may hold",
        ),
        (
            "web",
            vec![("API_URL", "http://127.0.0.1:1")],
            "FORM_KEY is not set",
        ),
        (
            "web",
            vec![("API_URL", "http://127.0.0.1:1"), ("FORM_KEY", "short")],
            "at least 32",
        ),
    ];
    for (service, keys, expected) in refusals {
        let mut env = vec![("DATABASE_URL", url)];
        env.extend(keys);
        let (ok, output) = run_to_exit(&["serve", service], &env);
        assert!(
            !ok && output.contains(expected),
            "serve {service}: {output}"
        );
    }
}

/// Everything secret a run handles: keys from the environment, a password, a session token, a
/// card token and a webhook signature. None of it may appear in the log, even at debug level.
#[tokio::test]
async fn nothing_secret_reaches_the_log() {
    let private = private_key();
    const STRIPE_KEY: &str = "sk_test_must_never_be_logged_4242";
    const WEBHOOK: &str = "whsec_must_never_be_logged_4242";
    const PASSWORD: &str = "pw-never-logged";
    let data = tempfile::tempdir().unwrap();
    let gittix = Gittix::start(
        &[],
        &[
            ("DATA_DIR", data.path().to_str().unwrap()),
            ("JWT_PRIVATE_KEY", private.as_str()),
            ("STRIPE_SECRET_KEY", STRIPE_KEY),
            // Nothing listens there: the payment fails, and its error is logged.
            ("STRIPE_API_BASE", "http://127.0.0.1:1"),
            ("STRIPE_TIMEOUT_SECONDS", "2"),
            ("STRIPE_WEBHOOK_SECRET", WEBHOOK),
            ("RUST_LOG", "debug"),
        ],
        data.path(),
    );
    let base = &gittix.base_url;
    let client = reqwest::Client::new();
    let credentials = json!({"email": "secret@example.com", "password": PASSWORD});
    let signed_up = client
        .post(format!("{base}/api/users/signup"))
        .json(&credentials)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status(), 201);
    let cookie = session_cookie(&signed_up).expect("a session cookie");
    let token = cookie.trim_start_matches("session=").to_owned();
    let wrong = json!({"email": "secret@example.com", "password": format!("{PASSWORD}-wrong")});
    let refused = client
        .post(format!("{base}/api/users/signin"))
        .json(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let change = json!({"currentPassword": PASSWORD, "password": "pw-new-never-logged"});
    let changed = client
        .patch(format!("{base}/api/users/currentuser"))
        .header("cookie", &cookie)
        .json(&change)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    // The change ended every other session, the one it was made with too.
    let cookie = session_cookie(&changed).expect("a new session cookie");
    let listed = client
        .post(format!("{base}/api/tickets"))
        .header("cookie", &cookie)
        .json(&json!({"title": "concert", "price": 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 201);
    let ticket: serde_json::Value = listed.json().await.unwrap();
    let buyer = client
        .post(format!("{base}/api/users/signup"))
        .json(&json!({"email": "buyer@example.com", "password": "pw-buyer-unlogged"}))
        .send()
        .await
        .unwrap();
    let buyer = session_cookie(&buyer).expect("a session cookie");
    let order: serde_json::Value = eventually("the orders service to know the ticket", || async {
        let reply = client
            .post(format!("{base}/api/orders"))
            .header("cookie", &buyer)
            .json(&json!({"ticketId": ticket["id"]}))
            .send()
            .await
            .ok()?;
        (reply.status() == 201).then_some(reply.json().await.ok()?)
    })
    .await;
    // Stripe does not answer, so the card processor's error is logged (and the outcome unknown).
    let pay = json!({"token": "tok_never_logged", "orderId": order["id"]});
    let status = eventually("payments to know the order", || async {
        let reply = client
            .post(format!("{base}/api/payments"))
            .header("cookie", &buyer)
            .json(&pay)
            .send()
            .await
            .ok()?;
        (reply.status() != 404).then_some(reply.status())
    })
    .await;
    assert_eq!(status, 503);
    let forged = client
        .post(format!("{base}/api/payments/webhook"))
        .header("stripe-signature", "t=1,v1=deadbeefnever")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    let (stopped, log) = gittix.terminate_and_read_log();
    assert!(stopped, "gittix stops cleanly");
    assert!(
        log.contains("/api/users/signup"),
        "the log holds the requests: {log}"
    );
    for secret in [
        // The key's base64 line: the secret part of the PEM.
        private.lines().nth(1).unwrap(),
        STRIPE_KEY,
        WEBHOOK,
        PASSWORD,
        "pw-new-never-logged",
        &token,
        buyer.trim_start_matches("session="),
        "pw-buyer-unlogged",
        "tok_never_logged",
        "deadbeefnever",
    ] {
        assert!(!log.contains(secret), "{secret} is in the log:\n{log}");
    }
}

#[test]
fn serve_refuses_to_start_without_a_postgres_url() {
    let key = private_key();
    let (ok, output) = run_to_exit(&["serve", "auth"], &[("JWT_PRIVATE_KEY", key.as_str())]);
    assert!(
        !ok && output.contains("DATABASE_URL is not set"),
        "{output}"
    );
    let (ok, output) = run_to_exit(
        &["serve", "auth"],
        &[
            ("JWT_PRIVATE_KEY", key.as_str()),
            ("DATABASE_URL", "sqlite://x.db"),
        ],
    );
    assert!(!ok && output.contains("postgres://"), "{output}");
}

#[tokio::test]
async fn serve_auth_runs_the_auth_api_on_postgres_and_jetstream() {
    let server = std::env::var(POSTGRES_URL_VAR).expect("run through scripts/test");
    let url = create_postgres_database(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let nats_url = std::env::var(NATS_URL_VAR).expect("run through scripts/test");
    let nats = jetstream_test_settings(&nats_url);
    let private = private_key();
    let redis = gittix_testing::redis_url();
    let env = [
        ("JWT_PRIVATE_KEY", private.as_str()),
        ("DATABASE_URL", url.as_str()),
        // Where every replica of auth counts its rate limits.
        ("REDIS_URL", redis.as_str()),
        ("HOST", "127.0.0.1"),
        ("NATS_URL", nats.url.as_str()),
        ("NATS_STREAM", nats.stream.as_str()),
        ("NATS_SUBJECT_PREFIX", nats.subject_prefix.as_str()),
    ];
    let auth = Gittix::start(&["serve", "auth"], &env, dir.path());
    let response = signup(&auth.base_url, "test@test.com").await;
    assert_eq!(response.status(), 201);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("Secure"),
        "distributed mode marks the cookie Secure: {cookie}"
    );
    let ready = reqwest::get(format!("{}/readyz", auth.base_url))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let bus = Arc::new(JetStreamBus::connect(nats).await.unwrap());
    assert_eq!(
        user_created_on(bus).await,
        "test@test.com",
        "user:created reached JetStream"
    );
    // The relay counts an event once its outbox row is gone, a moment after the subscriber above
    // may already have it.
    eventually("gittix_events_published_total in /metrics", || async {
        let metrics = reqwest::get(format!("{}/metrics", auth.base_url))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        metrics
            .contains("gittix_events_published_total")
            .then_some(())
    })
    .await;
    assert!(auth.terminate());
}

#[test]
fn help_documents_every_command_and_variable() {
    let (ok, help) = run_to_exit(&["--help"], &[]);
    assert!(ok);
    for word in [
        "serve",
        "run",
        "PORT",
        "HOST",
        "DATA_DIR",
        "DATABASE_URL",
        "JWT_PRIVATE_KEY",
        "JWT_PUBLIC_KEY",
        "FORM_KEY",
        "JWT_TTL_SECONDS",
        "COOKIE_SECURE",
        "BODY_LIMIT_BYTES",
        "TRUST_PROXY",
        "DB_MAX_CONNECTIONS",
        "DB_ACQUIRE_TIMEOUT_MS",
        "NATS_URL",
        "NATS_STREAM",
        "NATS_SUBJECT_PREFIX",
        "REDIS_URL",
        "REDIS_TIMERS_KEY",
        "ORDER_LOCK_SECONDS",
        "STRIPE_SECRET_KEY",
        "STRIPE_API_BASE",
        "STRIPE_WEBHOOK_SECRET",
        "SIGNIN_ATTEMPTS_PER_ACCOUNT_PER_MINUTE",
        "SIGNIN_ATTEMPTS_PER_CLIENT_PER_MINUTE",
        "LOG_FORMAT",
        "RUST_LOG",
    ] {
        assert!(help.contains(word), "--help does not mention {word}");
    }
}

#[tokio::test]
async fn serve_tickets_orders_and_expiration_cooperate_through_jetstream() {
    let server = std::env::var(POSTGRES_URL_VAR).expect("run through scripts/test");
    let nats =
        jetstream_test_settings(&std::env::var(NATS_URL_VAR).expect("run through scripts/test"));
    let dir = tempfile::tempdir().unwrap();
    let mut processes = Vec::new();
    let redis = gittix_testing::redis_url();
    let timers_key = format!("test:timers:{}", nats.stream);
    let public = public_key();
    for service in ["tickets", "orders", "expiration"] {
        let url = create_postgres_database(&server).await;
        let env = [
            ("JWT_PUBLIC_KEY", public.as_str()),
            ("DATABASE_URL", url.as_str()),
            ("ORDER_LOCK_SECONDS", "2"),
            ("REDIS_URL", redis.as_str()),
            ("REDIS_TIMERS_KEY", timers_key.as_str()),
            ("HOST", "127.0.0.1"),
            ("NATS_URL", nats.url.as_str()),
            ("NATS_STREAM", nats.stream.as_str()),
            ("NATS_SUBJECT_PREFIX", nats.subject_prefix.as_str()),
        ];
        processes.push(Gittix::start(&["serve", service], &env, dir.path()));
    }
    let (tickets, orders) = (&processes[0].base_url, &processes[1].base_url);
    let sessions = test_sessions();
    let (seller, buyer) = (TestUser::new(&sessions), TestUser::new(&sessions));
    let client = reqwest::Client::new();

    let ticket: serde_json::Value = client
        .post(format!("{tickets}/api/tickets"))
        .header("cookie", &seller.cookie)
        .json(&json!({"title": "Show", "price": 30}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = ticket["id"].as_str().unwrap();
    let order: serde_json::Value = eventually("orders to learn the ticket", || async {
        let response = client
            .post(format!("{orders}/api/orders"))
            .header("cookie", &buyer.cookie)
            .json(&json!({"ticketId": id}))
            .send()
            .await
            .unwrap();
        (response.status() == 201).then_some(response.json().await.unwrap())
    })
    .await;
    let reserved = eventually("tickets to see the reservation", || async {
        let ticket: serde_json::Value = reqwest::get(format!("{tickets}/api/tickets/{id}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (ticket["status"] == "reserved").then_some(ticket)
    })
    .await;
    assert_eq!(reserved["orderId"], order["id"]);
    // Nobody pays: the expiration process fires after two seconds, orders cancels, tickets releases.
    eventually("the reservation to expire", || async {
        let ticket: serde_json::Value = reqwest::get(format!("{tickets}/api/tickets/{id}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (ticket["status"] == "for_sale").then_some(())
    })
    .await;
    let ready = reqwest::get(format!("{}/readyz", processes[2].base_url))
        .await
        .unwrap();
    assert_eq!(
        ready.status(),
        200,
        "expiration is ready: Redis and NATS answer"
    );
    for process in processes {
        assert!(process.terminate());
    }
}

/// How long until the server closes `stream`, which sends `drip` (if any) every 500 ms.
async fn closed_after(stream: &mut tokio::net::TcpStream, drip: Option<&[u8]>) -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let started = std::time::Instant::now();
    let mut buffer = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buffer));
        match read.await {
            // Closed (or reset): the end of the connection.
            Ok(Ok(0) | Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
            Err(_) => {}
        }
        if let Some(drip) = drip {
            if stream.write_all(drip).await.is_err() {
                return started.elapsed();
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the connection stayed open"
        );
    }
}

/// The server's own limits (issue #17): a client dripping its headers, or an idle kept-alive
/// connection, is closed after the header timeout, and connections past the cap wait instead of
/// exhausting the process's files, so a normal request still gets through.
#[tokio::test]
async fn slow_and_idle_connections_are_closed_and_connections_are_capped() {
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpStream;
    let data = tempfile::tempdir().unwrap();
    let gittix = Gittix::start(
        &[],
        &[
            ("DATA_DIR", data.path().to_str().unwrap()),
            ("HTTP_HEADER_TIMEOUT_SECONDS", "2"),
            ("MAX_CONNECTIONS", "8"),
        ],
        data.path(),
    );
    let address = gittix.base_url.trim_start_matches("http://").to_owned();

    // One header line every 500 ms: the head never completes.
    let mut slow = TcpStream::connect(&address).await.unwrap();
    slow.write_all(b"GET /api/tickets HTTP/1.1\r\nHost: gittix\r\n")
        .await
        .unwrap();
    let lasted = closed_after(&mut slow, Some(b"X-Slow: 1\r\n")).await;
    assert!(
        lasted >= Duration::from_millis(1500) && lasted < Duration::from_secs(5),
        "a slow head lasted {lasted:?}"
    );

    // A kept-alive connection that asks nothing more after its answer.
    let mut idle = TcpStream::connect(&address).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: gittix\r\n\r\n")
        .await
        .unwrap();
    let lasted = closed_after(&mut idle, None).await;
    assert!(
        lasted >= Duration::from_millis(1500) && lasted < Duration::from_secs(5),
        "an idle connection lasted {lasted:?}"
    );

    // Twice the cap of silent connections: the ones past it wait in the accept queue, and a
    // request behind them is answered once the silent ones time out.
    let mut silent = Vec::new();
    for _ in 0..16 {
        silent.push(TcpStream::connect(&address).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let answered = reqwest::Client::new()
        .get(format!("{}/healthz", gittix.base_url))
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .expect("a request behind the capped connections is answered");
    assert_eq!(answered.status(), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "answered before the cap freed a slot: the cap did not hold"
    );
    drop(silent);
}

/// An embedded GitTix killed with SIGKILL while its sellers' payouts are held loses none of
/// them: restarted on the same data directory, it pays each delivered sale once, the price less
/// the seller fee, and the ledger balances to the cent (design, sections 5 and 8).
#[tokio::test]
async fn a_killed_embedded_gittix_pays_every_held_payout_after_its_restart_and_the_ledger_balances()
{
    let dir = tempfile::tempdir().unwrap();
    // Payouts held 14.4 s after delivery: long enough to kill the process while they wait.
    let env = [
        ("BUYER_FEE_PERCENT", "12.5"),
        ("SELLER_FEE_PERCENT", "10"),
        ("PAYOUT_HOLD_HOURS", "0.004"),
    ];
    let first = Gittix::start(&[], &env, dir.path());
    let base = first.base_url.clone();
    let client = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, cookie: &str| {
        client
            .request(method, format!("{base}{path}"))
            .header("cookie", cookie)
    };
    let seller = session_cookie(&signup(&base, "seller@test.com").await).unwrap();
    let buyer = session_cookie(&signup(&base, "buyer@test.com").await).unwrap();
    for path in ["/api/payouts/account", "/api/payouts/account/onboarding"] {
        let answer = call(reqwest::Method::POST, path, &seller)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{path}");
    }
    let prices = [20, 35, 50];
    for price in prices {
        let ticket: serde_json::Value = call(reqwest::Method::POST, "/api/tickets", &seller)
            .json(&json!({"title": "Kept", "price": price}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ticket = ticket["id"].as_str().unwrap().to_owned();
        let uploaded = call(
            reqwest::Method::PUT,
            &format!("/api/tickets/{ticket}/file"),
            &seller,
        )
        .header("content-type", "application/pdf")
        .body(&b"%PDF-1.4\n% kept\n"[..])
        .send()
        .await
        .unwrap();
        assert_eq!(uploaded.status(), 204);
        let order = eventually("the order to be taken", || async {
            let answer = call(reqwest::Method::POST, "/api/orders", &buyer)
                .json(&json!({"ticketId": ticket}))
                .send()
                .await
                .unwrap();
            if answer.status() != 201 {
                return None;
            }
            let order: serde_json::Value = answer.json().await.unwrap();
            order["id"].as_str().map(str::to_owned)
        })
        .await;
        let paid = call(reqwest::Method::POST, "/api/payments", &buyer)
            .json(&json!({"token": "tok_visa", "orderId": order}))
            .send()
            .await
            .unwrap();
        assert_eq!(paid.status(), 201);
    }
    let payouts = |base: String, seller: String| async move {
        let listed: serde_json::Value = reqwest::Client::new()
            .get(format!("{base}/api/payouts"))
            .header("cookie", &seller)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        listed.as_array().unwrap().clone()
    };
    let held = eventually("every sale's payout to be held", || async {
        let listed = payouts(base.clone(), seller.clone()).await;
        (listed.len() == prices.len() && listed.iter().all(|p| p["status"] == "held"))
            .then_some(listed)
    })
    .await;
    assert_eq!(held.len(), 3);
    // SIGKILL, as a crash: nothing is flushed or handed over.
    drop(first);

    let second = Gittix::start(&[], &env, dir.path());
    // Released 14.4 s after each delivery, whatever the restart took.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(45);
    let paid = loop {
        let listed = payouts(second.base_url.clone(), seller.clone()).await;
        if listed.len() == prices.len() && listed.iter().all(|p| p["status"] == "paid") {
            break listed;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not all paid: {listed:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let mut amounts: Vec<f64> = paid.iter().map(|p| p["amount"].as_f64().unwrap()).collect();
    amounts.sort_by(f64::total_cmp);
    assert_eq!(amounts, [18.0, 31.5, 45.0]);
    assert!(second.terminate());

    let db = gittix_shared::db::Db::open_sqlite_file(&dir.path().join("data/payments.db")).unwrap();
    let ledger = gittix_payments::ledger::read(&db).await.unwrap();
    assert_eq!(
        ledger.unbalanced().count() + ledger.unsettled().count(),
        0,
        "{ledger:#?}"
    );
    let total = ledger.total();
    // $105 of tickets: $118.13 charged (12.5% each, rounded half up: $2.50, $4.38, $6.25),
    // $94.50 paid out, $10.50 + $13.13 kept.
    assert_eq!(
        (total.charged, total.paid_out, total.held, total.fees),
        (11813, 9450, 0, 2363)
    );
}
