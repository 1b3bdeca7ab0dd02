//! The buyers' list: search, price range, sort and keyset paging with a Link header.

use gittix_testing::topology_tests;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

topology_tests! {
    async fn filters_sorts_and_pages(topology) {
        let app = TicketsApp::spawn(topology).await;
        let seller = app.user();
        let mut ids = std::collections::HashMap::new();
        for (title, price) in [("Rock Concert", 50), ("Jazz night", 20), ("rock opera", 80), ("Ballet", 35), ("ROCKY musical", 20)] {
            ids.insert(title, app.sell(&seller, title, json!(price)).await["id"].as_str().unwrap().to_owned());
        }
        let id = |title: &str| ids[title].clone();

        assert_eq!(app.listed("?q=rock").await, [id("Rock Concert"), id("rock opera"), id("ROCKY musical")]);
        let cheap_by_price = [id("Jazz night"), id("ROCKY musical"), id("Ballet")];
        assert_eq!(app.listed("?minPrice=20&maxPrice=35&sort=price").await, cheap_by_price);
        assert_eq!(app.listed("?sort=-price&limit=2").await, [id("rock opera"), id("Rock Concert")]);
        assert_eq!(app.listed("?sort=newest&limit=1").await, [id("ROCKY musical")]);

        // Paging by price: follow the Link header to the end.
        let mut seen = Vec::new();
        let mut next = Some("/api/tickets?sort=price&limit=2".to_owned());
        while let Some(path) = next {
            let response = app.get(&path).await;
            assert_eq!(response.status(), StatusCode::OK);
            next = response.headers().get("link").map(|link| {
                let link = link.to_str().unwrap();
                assert!(link.ends_with("rel=\"next\""), "{link}");
                link[1..link.find('>').unwrap()].to_owned()
            });
            let page: Vec<serde_json::Value> = response.json().await.unwrap();
            assert!(page.len() <= 2);
            seen.extend(page.iter().map(|t| t["id"].as_str().unwrap().to_owned()));
        }
        let by_price = [id("Jazz night"), id("ROCKY musical"), id("Ballet"), id("Rock Concert"), id("rock opera")];
        assert_eq!(seen, by_price);
    }

    async fn refuses_bad_parameters(topology) {
        let app = TicketsApp::spawn(topology).await;
        for query in ["?minPrice=abc", "?maxPrice=-1", "?sort=cheapest", "?limit=0", "?limit=1000", "?sort=price&cursor=nonsense"] {
            let (status, body) = status_and_json(app.get(&format!("/api/tickets{query}")).await).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
            assert!(body["errors"][0]["field"].is_string(), "{query}: {body}");
        }
    }
}
