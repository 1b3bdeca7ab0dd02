//! A seller sets up payouts from the Payouts page. In embedded mode (the simulator) GitTix's own
//! page plays Stripe's hosted onboarding and the account is enabled; in the cluster, Stripe's
//! adapter makes the account at the stand-in, which has no onboarding links, so the page says
//! to try again shortly and the account waits (docs/payments.md).

use crate::harness::{Driver, Site};

#[tokio::test]
async fn a_seller_sets_up_payouts_from_the_payouts_page() {
    let site = Site::start();
    let driver = Driver::start().await;
    let seller = driver.browser(&site, "payouts", "seller", 1280, 900).await;
    seller.sign_up(&site, "seller").await;
    seller.visit(&site.url("/payouts"), "payouts-none").await;
    assert_eq!(seller.text("h1").await, "Payouts");
    assert!(seller
        .text("#account-status")
        .await
        .contains("set up a payout account"));
    seller.submit("#payouts form button", "onboarding").await;
    if site.kind() == "cluster" {
        // Stripe's 503, as the pages show every one: try again shortly.
        assert_eq!(seller.path().await, "/payouts/account");
        assert_eq!(seller.text("h1").await, "Temporarily unavailable");
        seller.visit(&site.url("/payouts"), "payouts-pending").await;
        assert!(seller
            .text("#account-status")
            .await
            .contains("waiting for its onboarding"));
        assert_eq!(
            seller.text("#payouts form button").await,
            "Continue onboarding"
        );
        seller.close().await;
        return;
    }
    assert!(seller.path().await.starts_with("/payouts/onboarding/acct_"));
    assert_eq!(seller.text("h1").await, "Payout account onboarding");
    // Leaving the form half way: the account waits for it.
    seller.visit(&site.url("/payouts"), "payouts-pending").await;
    assert!(seller
        .text("#account-status")
        .await
        .contains("waiting for its onboarding"));
    seller
        .submit("#payouts form button", "onboarding-again")
        .await;
    seller
        .submit("#onboarding form button", "payouts-enabled")
        .await;
    assert_eq!(seller.path().await, "/payouts");
    assert!(seller
        .text("#account-status")
        .await
        .contains("Payouts are set up"));
    assert!(!seller.has("#payouts form").await, "nothing more to set up");
    seller.close().await;
}
