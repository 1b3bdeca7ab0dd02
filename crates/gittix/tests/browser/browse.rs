//! The home page: search, price range, sort and paging over the tickets for sale.

use fantoccini::Locator;
use serde_json::json;

use crate::harness::{Driver, Site};

/// Lists tickets through the API, as a seller's script would: this test is about browsing.
async fn list_tickets(site: &Site, tickets: &[(&str, f64)]) {
    let client = reqwest::Client::new();
    let signed_up = client
        .post(site.url("/api/users/signup"))
        .json(&json!({"email": "venue@example.com", "password": "secret-pass"}))
        .send()
        .await
        .unwrap();
    let cookie = signed_up.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
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
    let mut tickets: Vec<(String, f64)> = (1..=14)
        .map(|n| (format!("Symphony No. {n}"), 10.0 * f64::from(n)))
        .collect();
    tickets.push(("Jazz Quartet".to_owned(), 25.5));
    let borrowed: Vec<(&str, f64)> = tickets.iter().map(|(t, p)| (t.as_str(), *p)).collect();
    list_tickets(&site, &borrowed).await;

    let driver = Driver::start().await;
    let browser = driver.browser("browse", "visitor", 1280, 900).await;
    browser.visit(&site.url("/"), "home").await;
    let first_page = titles(&browser).await;
    assert_eq!(first_page.len(), 12, "a page holds 12 tickets");
    assert_eq!(first_page[0], "Jazz Quartet", "newest first by default");
    browser.submit("a[rel=next]", "home-page-2").await;
    assert_eq!(titles(&browser).await, symphonies(&[3, 2, 1]));
    assert!(
        !browser.has("a[rel=next]").await,
        "the last page has no next page"
    );
    assert!(
        browser.has("a[href='/?sort=newest']").await,
        "and a way back to the first"
    );

    browser.visit(&site.url("/"), "home").await;
    browser.fill("#q", "SYMPHONY").await;
    browser.fill("#maxPrice", "50").await;
    browser
        .client
        .find(Locator::Css("#sort option[value=price]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .submit("form.search button", "cheapest-symphonies")
        .await;
    assert_eq!(titles(&browser).await, symphonies(&[1, 2, 3, 4, 5]));
    assert!(
        browser.path().await.contains("maxPrice=50"),
        "the search is in the address"
    );

    browser
        .visit(&site.url("/?minPrice=100&sort=-price"), "dearest-first")
        .await;
    assert_eq!(titles(&browser).await, symphonies(&[14, 13, 12, 11, 10]));
    browser.close().await;
}

fn symphonies(numbers: &[u32]) -> Vec<String> {
    numbers
        .iter()
        .map(|n| format!("Symphony No. {n}"))
        .collect()
}
