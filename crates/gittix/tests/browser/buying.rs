//! Selling and buying through the pages, as two people in two browsers.

use crate::harness::{Driver, Site};
use crate::site::dollars;

const DESKTOP: (u32, u32) = (1280, 900);
/// A phone-sized window, for the pages' small-screen layout.
const PHONE: (u32, u32) = (390, 844);

#[tokio::test]
async fn a_seller_lists_a_ticket_and_a_buyer_finds_buys_and_pays_for_it() {
    let site = Site::start();
    let driver = Driver::start().await;
    let test = "buy_and_pay";
    let seller = driver
        .browser(&site, test, "seller", DESKTOP.0, DESKTOP.1)
        .await;
    seller.sign_up(&site, "seller").await;
    let ticket_page = seller.sell(&site, "Rust Conf 2027", "49.50").await;
    // The seller sees what they asked beside what a buyer pays.
    assert!(seller
        .page_text()
        .await
        .contains("This is your listing, at $49.50."));
    assert!(seller.page_text().await.contains(&site.buyer_pays(4950)));

    let buyer = driver.browser(&site, test, "buyer", PHONE.0, PHONE.1).await;
    buyer.sign_up(&site, "buyer").await;
    buyer.fill("#q", "rust conf").await;
    buyer.submit("#ticket-search button", "search").await;
    assert!(buyer.text(".ticket-grid").await.contains("Rust Conf 2027"));
    buyer
        .client
        .find(fantoccini::Locator::LinkText("Rust Conf 2027"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    buyer.wait_for_text("h1", "Rust Conf 2027").await;
    assert_eq!(buyer.path().await, ticket_page);
    buyer.screenshot("ticket").await;

    buyer.submit("main button[type=submit]", "order").await;
    assert!(
        buyer.path().await.starts_with("/orders/"),
        "Purchase opens the order"
    );
    let order_page = buyer.path().await;
    assert_eq!(buyer.text("#order-status").await, "Awaiting payment");
    // All in: the total first, the fee broken down beneath it, the same total on the button.
    assert_eq!(buyer.text("#order-total").await, site.buyer_pays(4950));
    let fee = site.buyer_fee_cents(4950);
    assert!(fee > 0, "the test sites charge a buyer fee");
    assert_eq!(
        buyer.text("#order-fees").await,
        format!("Ticket $49.50 + service fee {}", dollars(fee))
    );
    assert!(buyer
        .text("#payment-form button")
        .await
        .ends_with(&site.buyer_pays(4950)));
    let time_left = buyer.text("#countdown").await;
    let (minutes, seconds) = time_left.split_once(':').unwrap();
    let left = minutes.parse::<u64>().unwrap() * 60 + seconds.parse::<u64>().unwrap();
    let lock = site.lock_seconds();
    assert!(
        left <= lock && left + 10 >= lock,
        "countdown shows {time_left} of {lock} s"
    );

    // The buyer types the card at once, and is slower than the page's status check (every 2 s):
    // what was typed stays, though the tickets service confirmed the reservation meanwhile.
    buyer.enter_card("4242 4242 4242 4242").await;
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    assert_eq!(
        buyer.card_number_entered().await.replace(' ', ""),
        "4242424242424242",
        "the card number was lost"
    );

    // While the buyer pays, the ticket shows reserved to everyone, and off the home page.
    seller
        .visit(&site.url(&ticket_page), "ticket-reserved")
        .await;
    seller.wait_for_text("#ticket-status", "Reserved").await;

    // The original client's way to pay: a card token (`tok_visa` for this test card in
    // simulator mode; the one Stripe.js makes with Stripe's keys), sent as `{token, orderId}`.
    buyer.submit("#payment-form button", "paid").await;
    buyer.wait_for_text("#order-status", "Order complete").await;
    assert!(buyer.page_text().await.contains("The ticket is yours."));
    buyer.screenshot("order-complete").await;

    buyer.visit(&site.url("/orders"), "my-orders").await;
    assert!(buyer.text("table").await.contains("Order complete"));
    buyer
        .visit(&site.url("/?q=rust+conf"), "search-after-sale")
        .await;
    assert!(
        !buyer.has(".ticket-grid").await,
        "a sold ticket is no longer for sale"
    );
    assert!(buyer.page_text().await.contains("No tickets match."));

    seller.visit(&site.url("/listings"), "listings").await;
    seller.wait_for_text("#sold", "Rust Conf 2027").await;
    assert!(!seller.text("#for_sale").await.contains("Rust Conf 2027"));
    seller
        .visit(&site.url(&order_page), "someone-elses-order")
        .await;
    assert!(seller
        .page_text()
        .await
        .contains("belongs to another account"));
    buyer.close().await;
    seller.close().await;
}

#[tokio::test]
async fn a_declined_card_shows_its_message_and_the_order_can_still_be_paid() {
    let site = Site::start();
    let driver = Driver::start().await;
    let test = "declined_card";
    let seller = driver
        .browser(&site, test, "seller", DESKTOP.0, DESKTOP.1)
        .await;
    seller.sign_up(&site, "seller").await;
    let ticket_page = seller.sell(&site, "Jazz Night", "20").await;
    seller.close().await;

    let buyer = driver
        .browser(&site, test, "buyer", DESKTOP.0, DESKTOP.1)
        .await;
    buyer.sign_up(&site, "buyer").await;
    buyer.visit(&site.url(&ticket_page), "ticket").await;
    buyer.submit("main button[type=submit]", "order").await;

    buyer.enter_card("4000 0000 0000 0002").await;
    buyer.submit("#payment-form button", "declined").await;
    assert_eq!(buyer.text("#card-error").await, "Your card was declined.");
    assert_eq!(buyer.text("#order-status").await, "Awaiting payment");

    buyer.enter_card("1234 5678").await;
    if buyer.takes_test_card_numbers().await {
        buyer
            .submit("#payment-form button", "not-a-test-card")
            .await;
        assert!(buyer
            .text("#card-error")
            .await
            .contains("test card numbers"));
    } else {
        // Stripe.js refuses the number in the page; nothing is sent to GitTix.
        let before = buyer.path().await;
        buyer
            .client
            .find(fantoccini::Locator::Css("#payment-form button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // (Shown in the words of localstripe's Stripe.js; Stripe's own has its own.)
        buyer.wait_for_text("#card-error", "Bad request").await;
        assert_eq!(buyer.path().await, before);
        buyer.screenshot("not-a-card").await;
    }

    buyer.enter_card("4242424242424242").await;
    buyer.submit("#payment-form button", "paid").await;
    buyer.wait_for_text("#order-status", "Order complete").await;
    buyer.close().await;
}

#[tokio::test]
async fn an_order_left_unpaid_shows_order_expired_and_releases_the_ticket() {
    let site = Site::with_lock_seconds(5);
    let driver = Driver::start().await;
    let test = "order_expired";
    let seller = driver
        .browser(&site, test, "seller", DESKTOP.0, DESKTOP.1)
        .await;
    seller.sign_up(&site, "seller").await;
    let ticket_page = seller.sell(&site, "Opera Matinee", "35").await;

    let buyer = driver
        .browser(&site, test, "buyer", DESKTOP.0, DESKTOP.1)
        .await;
    buyer.sign_up(&site, "buyer").await;
    buyer.visit(&site.url(&ticket_page), "ticket").await;
    buyer.submit("main button[type=submit]", "order").await;
    assert!(buyer.has("#payment-form").await);

    // The countdown runs out in the page, without a reload.
    let lock = std::time::Duration::from_secs(site.lock_seconds());
    buyer
        .wait_for_text_within(
            "#order-status",
            "Order Expired",
            lock + std::time::Duration::from_secs(10),
        )
        .await;
    buyer.screenshot("expired-live").await;
    // Hidden by the script, or gone if the page already reloaded on the cancellation.
    assert!(
        !buyer.is_shown("#payment-form").await,
        "the payment form is gone"
    );

    // Reloaded, the server says the same and offers no payment form.
    buyer
        .visit(&site.url(&buyer.path().await), "expired-reloaded")
        .await;
    assert_eq!(buyer.text("#order-status").await, "Order Expired");
    assert!(!buyer.has("#payment-form").await);

    // The expiry reaches the tickets service: the ticket is for sale again.
    let started = std::time::Instant::now();
    loop {
        seller
            .visit(&site.url(&ticket_page), "ticket-released")
            .await;
        if seller.text("#ticket-status").await == "For sale" {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "ticket never released"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    buyer.close().await;
    seller.close().await;
}
