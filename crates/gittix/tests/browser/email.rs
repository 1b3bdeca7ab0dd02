//! The emails' journeys: a new account confirms its address from the welcome email, and a
//! forgotten password is reset from the emailed link, which signs out every other session.
//! The emails are read from the SMTP server the test command runs (the site sends through it
//! in both topologies).

use std::time::Duration;

use fantoccini::Locator;
use gittix_testing::mail;

use crate::harness::{Driver, Site};

/// The path and query of `link`, on the site being tested.
fn on_site(site: &Site, link: &str) -> String {
    let path = link.splitn(4, '/').nth(3).expect("a link with a path");
    site.url(&format!("/{path}"))
}

#[tokio::test]
async fn a_new_account_confirms_its_email_and_resets_a_forgotten_password_by_email() {
    let site = Site::with_smtp();
    let driver = Driver::start().await;
    let owner = driver.browser(&site, "email", "owner", 1280, 900).await;
    let email = owner.sign_up(&site, "forgetful").await;

    // The account page says the email is unconfirmed until the welcome email's link is used.
    owner
        .visit(&site.url("/account"), "account-unconfirmed")
        .await;
    assert!(owner
        .text("#email-status")
        .await
        .contains("is not confirmed yet"));
    let welcome = mail::wait_for(site.mail_dir(), &email, 1).await.remove(0);
    assert_eq!(
        welcome.subject,
        "Welcome to GitTix: please confirm your email"
    );
    let link = welcome
        .link_starting("http")
        .expect("the verification link");
    assert!(
        link.starts_with(&site.url("/auth/verify-email?token=")),
        "{link}"
    );
    owner.visit(&on_site(&site, &link), "verify-email").await;
    owner
        .submit("main button[type=submit]", "email-verified")
        .await;
    assert!(owner
        .text("#email-verified")
        .await
        .contains("Your email is confirmed"));
    owner
        .visit(&site.url("/account"), "account-confirmed")
        .await;
    assert!(owner.text("#email-status").await.contains("is confirmed"));

    // Another browser, where the owner forgot the password.
    let forgetful = driver.browser(&site, "email", "forgetful", 1280, 900).await;
    forgetful.visit(&site.url("/auth/signin"), "sign-in").await;
    forgetful
        .click_for_next_page(
            Locator::LinkText("Forgot your password?"),
            "forgot-password",
        )
        .await;
    forgetful.fill("#email", &email).await;
    forgetful
        .submit("main button[type=submit]", "reset-requested")
        .await;
    assert!(forgetful.text("#reset-sent").await.contains(&email));
    let reset = mail::wait_for(site.mail_dir(), &email, 2).await;
    let reset = reset
        .iter()
        .find(|m| m.subject == "Reset your GitTix password")
        .expect("the reset email");
    let link = reset.link_starting("http").expect("the reset link");
    assert!(
        link.starts_with(&site.url("/auth/reset-password?token=")),
        "{link}"
    );

    forgetful
        .visit(&on_site(&site, &link), "reset-password")
        .await;
    forgetful.fill("#password", "brand-new").await;
    forgetful
        .submit("main button[type=submit]", "password-reset")
        .await;
    assert_eq!(
        forgetful.path().await,
        "/",
        "the reset signs this browser in"
    );
    assert!(forgetful.text("header").await.contains("Sign out"));

    // The owner's first browser is signed out (within the second revocations take).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    owner.visit(&site.url("/"), "old-session-signed-out").await;
    assert!(
        !owner.text("header").await.contains("Sign out"),
        "the old session ended"
    );

    // The link works once.
    forgetful
        .visit(&on_site(&site, &link), "reset-link-again")
        .await;
    forgetful.fill("#password", "third-one").await;
    forgetful
        .submit("main button[type=submit]", "reset-link-refused")
        .await;
    assert!(forgetful
        .page_text()
        .await
        .contains("Invalid or expired link"));

    owner.close().await;
    forgetful.close().await;
}
