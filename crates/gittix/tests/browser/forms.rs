//! Refused forms show the API's errors next to their fields and keep what was typed.

use crate::harness::{Driver, Site};

#[tokio::test]
async fn validation_errors_show_next_to_their_fields() {
    let site = Site::start();
    let driver = Driver::start().await;
    let browser = driver
        .browser(&site, "validation", "visitor", 1280, 900)
        .await;

    browser.visit(&site.url("/auth/signup"), "sign-up").await;
    browser.fill("#email", "not-an-email").await;
    browser.fill("#password", "abc").await;
    browser
        .submit("main button[type=submit]", "sign-up-refused")
        .await;
    assert_eq!(browser.text("#email-error").await, "Email must be valid");
    assert_eq!(
        browser.text("#password-error").await,
        "Password must be between 4 and 20 characters"
    );
    assert_eq!(
        browser
            .client
            .find(fantoccini::Locator::Css("#email"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("not-an-email"),
        "what was typed stays"
    );

    let email = browser.sign_up(&site, "seller").await;
    browser.visit(&site.url("/tickets/new"), "sell").await;
    browser.fill("#title", "").await;
    browser.fill("#price", "-5").await;
    browser
        .submit("#ticket-form button[type=submit]", "sell-refused")
        .await;
    assert_eq!(browser.text("#title-error").await, "Title is required");
    assert_eq!(
        browser.text("#price-error").await,
        "Price must be greater than 0"
    );

    // Edit refuses the same way, on the edit form.
    let ticket = browser.sell(&site, "Chess Open", "12").await;
    browser
        .visit(&site.url(&format!("{ticket}/edit")), "edit")
        .await;
    browser.fill("#price", "12.345").await;
    browser
        .submit("#ticket-form button[type=submit]", "edit-refused")
        .await;
    assert!(browser.text("#price-error").await.contains("decimal"));

    // The same email again: the message goes to the email field.
    browser.submit("header form button", "signed-out").await;
    browser
        .visit(&site.url("/auth/signup"), "sign-up-again")
        .await;
    browser.fill("#email", &email).await;
    browser.fill("#password", "secret-pass").await;
    browser
        .submit("main button[type=submit]", "email-in-use")
        .await;
    assert_eq!(browser.text("#email-error").await, "Email in use");

    browser.visit(&site.url("/auth/signin"), "sign-in").await;
    browser.fill("#email", &email).await;
    browser.fill("#password", "wrong-pass").await;
    browser
        .submit("main button[type=submit]", "sign-in-refused")
        .await;
    assert_eq!(browser.text("[role=alert]").await, "Invalid credentials");

    browser
        .visit(&site.url("/?minPrice=abc"), "bad-filter")
        .await;
    assert!(browser.text("#minPrice-error").await.contains("minPrice"));
    browser.close().await;
}
