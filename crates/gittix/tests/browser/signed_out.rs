//! Pages for signed-in visitors send everyone else to sign in, and back afterwards.

use crate::harness::{Driver, Site};

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_and_back() {
    let site = Site::start();
    let driver = Driver::start().await;
    let browser = driver
        .browser(&site, "signed_out", "visitor", 1280, 900)
        .await;

    browser.visit(&site.url("/"), "home-signed-out").await;
    let header = browser.text("header").await;
    assert!(header.contains("Sign in") && header.contains("Sign up"));
    assert!(!header.contains("Sell tickets"));

    for page in ["/tickets/new", "/orders", "/listings"] {
        browser.visit(&site.url(page), "sent-to-sign-in").await;
        let expected = format!("/auth/signin?next={}", page.replace('/', "%2F"));
        assert_eq!(browser.path().await, expected, "{page}");
    }

    // Signing up first, then coming back through sign in, lands on the page asked for.
    let email = browser.sign_up(&site, "member").await;
    browser.submit("header form button", "signed-out").await;
    assert!(browser.text("header").await.contains("Sign in"));
    browser.visit(&site.url("/listings"), "sign-in-first").await;
    browser.fill("#email", &email).await;
    browser.fill("#password", "secret-pass").await;
    browser
        .submit("main button[type=submit]", "back-to-listings")
        .await;
    assert_eq!(browser.path().await, "/listings");
    assert_eq!(browser.text("h1").await, "My listings");
    browser.close().await;
}
