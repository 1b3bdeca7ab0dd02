//! A card that asks for 3-D Secure, through the pages: in simulator mode (embedded) GitTix's
//! page plays the bank's test check; with Stripe's keys (the cluster) Stripe.js plays it, as
//! localstripe's Stripe.js stands in for Stripe's.

use std::time::Duration;

use crate::harness::{Browser, Driver, Site};

const DESKTOP: (u32, u32) = (1280, 900);
/// Stripe's test card that asks for 3-D Secure on every payment.
const ASKS_FOR_3DS: &str = "4000 0027 6000 3184";

/// A seller lists a ticket; a new buyer orders it and pays with the card that asks for 3-D
/// Secure, which opens the check. Returns the buyer, the order's path and the check's.
async fn challenged(site: &Site, driver: &Driver, test: &str) -> (Browser, String, String) {
    let seller = driver
        .browser(site, test, "seller", DESKTOP.0, DESKTOP.1)
        .await;
    seller.sign_up(site, "seller").await;
    let ticket_page = seller.sell(site, "Secure Symphony", "42").await;
    seller.close().await;

    let buyer = driver
        .browser(site, test, "buyer", DESKTOP.0, DESKTOP.1)
        .await;
    buyer.sign_up(site, "buyer").await;
    buyer.visit(&site.url(&ticket_page), "ticket").await;
    buyer.submit("main button[type=submit]", "order").await;
    let order = buyer.path().await;
    buyer.enter_card(ASKS_FOR_3DS).await;
    buyer.submit("#payment-form button", "challenge").await;
    let path = buyer.path().await;
    assert!(
        path.starts_with("/payments/") && path.ends_with("/challenge"),
        "the card asks for 3-D Secure: {path}"
    );
    assert!(buyer.text("h1").await.contains("Confirm your payment"));
    assert!(buyer.page_text().await.contains(&site.buyer_pays(4200)));
    (buyer, order, path)
}

/// Waits until the order's payment attempts, as the buyer's browser reads them from the API,
/// have the statuses `expected` (the capture follows the order's completion by a moment).
async fn attempts_become(buyer: &Browser, order: &str, expected: &[&str]) {
    let id = order.trim_start_matches("/orders/");
    let started = std::time::Instant::now();
    loop {
        let statuses = buyer
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch('/api/payments?orderId=' + arguments[0]).then(r => r.json())
                   .then(list => done(list.map(a => a.status)));",
                vec![serde_json::json!(id)],
            )
            .await
            .unwrap();
        let statuses: Vec<String> = serde_json::from_value(statuses).unwrap();
        if statuses == expected {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the attempts are {statuses:?}, not {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_card_that_asks_for_3_d_secure_pays_once_the_check_is_completed() {
    let site = Site::start();
    let driver = Driver::start().await;
    let (buyer, order, _) = challenged(&site, &driver, "3ds_completed").await;
    buyer.answer_challenge(true, "completed").await;
    assert_eq!(buyer.path().await.split('?').next(), Some(order.as_str()));
    buyer.wait_for_text("#order-status", "Order complete").await;
    assert!(buyer.page_text().await.contains("The ticket is yours."));
    attempts_become(&buyer, &order, &["completed"]).await;
    buyer.close().await;
}

#[tokio::test]
async fn a_failed_check_is_a_declined_attempt_and_the_order_can_still_be_paid() {
    let site = Site::start();
    let driver = Driver::start().await;
    let (buyer, order, _) = challenged(&site, &driver, "3ds_failed").await;
    buyer.answer_challenge(false, "failed").await;
    // Back on the order, with the bank's refusal on the form.
    assert_eq!(buyer.text("h1").await, "Order for Secure Symphony");
    assert!(!buyer.text("#card-error").await.is_empty());
    assert_eq!(buyer.text("#order-status").await, "Awaiting payment");
    attempts_become(&buyer, &order, &["failed"]).await;

    buyer.enter_card("4242 4242 4242 4242").await;
    buyer.submit("#payment-form button", "paid").await;
    buyer.wait_for_text("#order-status", "Order complete").await;
    attempts_become(&buyer, &order, &["failed", "completed"]).await;
    buyer.close().await;
}

#[tokio::test]
async fn a_check_left_open_ends_with_the_order_and_charges_nothing() {
    let site = Site::with_lock_seconds(5);
    let driver = Driver::start().await;
    let (buyer, order, challenge) = challenged(&site, &driver, "3ds_abandoned").await;
    // The buyer walks away from the check; the lock runs out as if nobody had paid.
    let lock = Duration::from_secs(site.lock_seconds());
    tokio::time::sleep(lock).await;
    buyer.visit(&site.url(&order), "order").await;
    buyer
        .wait_for_text_within("#order-status", "Order Expired", Duration::from_secs(15))
        .await;
    assert!(!buyer.has("#payment-form").await);
    // The hold on the card is released: the attempt failed, nothing was captured.
    attempts_become(&buyer, &order, &["failed"]).await;
    // The check's page now sends the buyer to the order.
    buyer.visit(&site.url(&challenge), "challenge-after").await;
    assert_eq!(buyer.path().await, order);
    buyer.close().await;
}
