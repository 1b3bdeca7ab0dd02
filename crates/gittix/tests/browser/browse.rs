//! The home page: search, price range, sort and paging over the tickets for sale.

use fantoccini::Locator;
use gittix_testing::session_cookie;
use serde_json::json;

use crate::harness::{unique_email, Driver, Site};

/// Lists tickets through the API, as a seller's script would: this test is about browsing.
async fn list_tickets(site: &Site, tickets: &[(&str, f64)]) {
    let client = reqwest::Client::new();
    let signed_up = client
        .post(site.url("/api/users/signup"))
        .json(&json!({"email": unique_email("venue"), "password": "secret-pass"}))
        .send()
        .await
        .unwrap();
    let cookie = session_cookie(&signed_up).expect("sign-up sets the session cookie");
    for (title, price) in tickets {
        let created = client
            .post(site.url("/api/tickets"))
            .header("cookie", &cookie)
            .json(&json!({"title": title, "price": price}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }
}

async fn titles(browser: &crate::harness::Browser) -> Vec<String> {
    let mut titles = Vec::new();
    for card in browser
        .client
        .find_all(Locator::Css(".card-title"))
        .await
        .unwrap()
    {
        titles.push(card.text().await.unwrap());
    }
    titles
}

#[tokio::test]
async fn the_home_page_searches_filters_sorts_and_pages() {
    let site = Site::start();
    // The cluster is shared with the other tests: a tag in the titles, searched for, keeps
    // their tickets out of this test's pages.
    let tag = match site.kind() {
        "cluster" => format!("{} ", &uuid::Uuid::new_v4().simple().to_string()[..8]),
        _ => String::new(),
    };
    let mut tickets: Vec<(String, f64)> = (1..=14)
        .map(|n| (format!("{tag}Symphony No. {n}"), 10.0 * f64::from(n)))
        .collect();
    tickets.push((format!("{tag}Jazz Quartet"), 25.5));
    let borrowed: Vec<(&str, f64)> = tickets.iter().map(|(t, p)| (t.as_str(), *p)).collect();
    list_tickets(&site, &borrowed).await;

    let driver = Driver::start().await;
    let browser = driver.browser(&site, "browse", "visitor", 1280, 900).await;
    let tag_query = tag.trim();
    browser
        .visit(&site.url(&format!("/?q={tag_query}")), "home")
        .await;
    let first_page = titles(&browser).await;
    assert_eq!(first_page.len(), 12, "a page holds 12 tickets");
    assert_eq!(
        first_page[0],
        format!("{tag}Jazz Quartet"),
        "newest first by default"
    );
    browser.submit("a[rel=next]", "home-page-2").await;
    assert_eq!(titles(&browser).await, symphonies(&[3, 2, 1], &tag));
    assert!(
        !browser.has("a[rel=next]").await,
        "the last page has no next page"
    );
    assert!(
        browser.has("a[href^='/?']").await,
        "and a way back to the first"
    );

    browser.visit(&site.url("/"), "home").await;
    browser.fill("#q", "SYMPHONY").await;
    // The bound is on what a buyer pays: Symphony No. 5's total, fee included, is within it.
    let max_total = site.buyer_pays(5000);
    let max_total = max_total.trim_start_matches('$');
    browser.fill("#maxPrice", max_total).await;
    browser
        .client
        .find(Locator::Css("#sort option[value=price]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .submit("#ticket-search button", "cheapest-symphonies")
        .await;
    assert_eq!(titles(&browser).await, symphonies(&[1, 2, 3, 4, 5], &tag));
    assert!(
        browser
            .path()
            .await
            .contains(&format!("maxPrice={max_total}")),
        "the search is in the address"
    );

    let min_total = site.buyer_pays(10_000);
    let min_total = min_total.trim_start_matches('$');
    browser
        .visit(
            &site.url(&format!("/?q={tag_query}&minPrice={min_total}&sort=-price")),
            "dearest-first",
        )
        .await;
    assert_eq!(
        titles(&browser).await,
        symphonies(&[14, 13, 12, 11, 10], &tag)
    );
    browser.close().await;
}

fn symphonies(numbers: &[u32], tag: &str) -> Vec<String> {
    numbers
        .iter()
        .map(|n| format!("{tag}Symphony No. {n}"))
        .collect()
}
