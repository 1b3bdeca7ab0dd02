//! The read scenarios: the sign-in check and browsing.

use anyhow::Context;

use crate::client::Http;
use crate::fixtures::{Account, TITLE_WORDS};
use crate::load::{drive, Plan};
use crate::stats::Run;

/// GET /api/users/currentuser with a session cookie: every page and client asks it.
pub async fn sign_in_check(http: &Http, account: &Account, plan: Plan) -> Run {
    let (http, cookie) = (http.clone(), account.cookie.clone());
    drive(plan, move |_, _| {
        let (http, cookie) = (http.clone(), cookie.clone());
        async move {
            let reply = http
                .get("/api/users/currentuser", Some(&cookie))
                .await?
                .expect(200)?;
            anyhow::ensure!(
                reply.json()?["currentUser"]["id"].is_string(),
                "the cookie was not accepted"
            );
            Ok(())
        }
    })
    .await
}

/// GET /api/tickets, the original route: every ticket for sale in one answer, which must hold
/// `expected` tickets.
pub async fn browse_all(http: &Http, expected: usize, plan: Plan) -> Run {
    let http = http.clone();
    drive(plan, move |_, _| {
        let http = http.clone();
        async move {
            let reply = http.get("/api/tickets", None).await?.expect(200)?;
            // Counted without building the tickets: the client's work is not what is measured.
            let listed = serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(&reply.body)
                .context("not an array")?
                .len();
            anyhow::ensure!(
                listed == expected,
                "listed {listed} tickets, expected {expected}"
            );
            Ok(())
        }
    })
    .await
}

/// One page of a filtered query: a word of the titles, a price range, sorted by price.
pub async fn browse_filtered(http: &Http, plan: Plan) -> Run {
    let http = http.clone();
    drive(plan, move |_, n| {
        let http = http.clone();
        async move {
            let word = TITLE_WORDS[n as usize % TITLE_WORDS.len()];
            let low = 10 + n % 50;
            let path = format!(
                "/api/tickets?q={word}&minPrice={low}&maxPrice={}&sort=price&limit=20",
                low + 20
            );
            let reply = http.get(&path, None).await?.expect(200)?;
            let page = reply.json()?;
            let page = page.as_array().context("not an array")?;
            anyhow::ensure!(page.len() <= 20, "{path} gave a page of {}", page.len());
            Ok(())
        }
    })
    .await
}
