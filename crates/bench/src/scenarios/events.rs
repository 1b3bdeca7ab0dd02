//! The events scenarios (issue #19): browsing and searching upcoming events over the big
//! catalogue of events, an event's page with its tickets, and a ticket's file going up and
//! coming down.

use anyhow::Context;
use bytes::Bytes;
use serde_json::json;

use crate::client::Http;
use crate::fixtures::{price, Account, TITLE_WORDS};
use crate::load::{drive, drive_collecting, Plan};
use crate::stats::Run;

/// The cities events are in: a search by city finds about one event in eight.
const CITIES: [&str; 8] = [
    "Lyon", "Paris", "Berlin", "Madrid", "Rome", "Vienna", "Oslo", "Porto",
];

/// Events start across the next year, so the catalogue stays upcoming for the whole run.
const SPREAD_DAYS: u64 = 360;

/// The size of the ticket file uploaded and downloaded: 1 MB.
pub const FILE_BYTES: usize = 1024 * 1024;

/// Creates events as `creator` with `plan` (POST /api/events); returns the load and their ids.
pub async fn create(http: &Http, creator: &Account, plan: Plan) -> (Run, Vec<String>) {
    let now_ms = gittix_shared::time::unix_millis();
    let (http, cookie) = (http.clone(), creator.cookie.clone());
    drive_collecting(plan, move |_, n| {
        let (http, cookie) = (http.clone(), cookie.clone());
        async move {
            // Whole minutes a day and more apart, so no two events are the same event.
            let offset_ms = i64::try_from((1 + n % SPREAD_DAYS) * 86_400_000 + n * 60_000)?;
            let body = json!({
                "name": format!("{} live {n}", TITLE_WORDS[n as usize % TITLE_WORDS.len()]),
                "venue": format!("Hall {}", n % 97),
                "city": CITIES[n as usize % CITIES.len()],
                "startsAt": gittix_shared::time::iso8601(now_ms + offset_ms),
            });
            let reply = http.post("/api/events", Some(&cookie), &body).await?;
            reply.expect(201)?.field("id")
        }
    })
    .await
}

/// Lists tickets for `event` as `seller` (POST /api/tickets with `eventId` and a seat); returns
/// the load and their ids.
pub async fn sell_for(
    http: &Http,
    seller: &Account,
    event: &str,
    plan: Plan,
) -> (Run, Vec<String>) {
    let (http, cookie, event) = (http.clone(), seller.cookie.clone(), event.to_owned());
    drive_collecting(plan, move |_, n| {
        let (http, cookie, event) = (http.clone(), cookie.clone(), event.clone());
        async move {
            let body = json!({
                "title": format!("Seat {n}"), "price": price(n), "eventId": event,
                "section": format!("S{}", n / 500), "row": format!("{}", n / 20 % 25), "seat": format!("{}", n % 20),
            });
            let reply = http.post("/api/tickets", Some(&cookie), &body).await?;
            reply.expect(201)?.field("id")
        }
    })
    .await
}

/// GET /api/events from a day of the coming half year (from now when there are fewer than a
/// thousand `events`): one page (20) of upcoming events, soonest first, which must be full.
pub async fn browse_upcoming(http: &Http, events: usize, plan: Plan) -> Run {
    let http = http.clone();
    let now_ms = gittix_shared::time::unix_millis();
    let days = if events >= 1_000 { SPREAD_DAYS / 2 } else { 1 };
    drive(plan, move |_, n| {
        let http = http.clone();
        async move {
            let day = n % days;
            let from = gittix_shared::time::iso8601(now_ms + i64::try_from(day * 86_400_000)?);
            let path = format!("/api/events?from={}&limit=20", from.replace('+', "%2B"));
            let page = http.get(&path, None).await?.expect(200)?.json()?;
            let page = page.as_array().context("not an array")?;
            anyhow::ensure!(page.len() == 20, "{path} gave a page of {}", page.len());
            Ok(())
        }
    })
    .await
}

/// GET /api/events?q=&city=: a word of the names in one city, the first page.
pub async fn search_upcoming(http: &Http, plan: Plan) -> Run {
    let http = http.clone();
    drive(plan, move |_, n| {
        let http = http.clone();
        async move {
            let word = TITLE_WORDS[n as usize % TITLE_WORDS.len()];
            let city = CITIES[n as usize / TITLE_WORDS.len() % CITIES.len()];
            let path = format!("/api/events?q={word}&city={city}&limit=20");
            let page = http.get(&path, None).await?.expect(200)?.json()?;
            let page = page.as_array().context("not an array")?;
            anyhow::ensure!(page.len() <= 20, "{path} gave a page of {}", page.len());
            Ok(())
        }
    })
    .await
}

/// GET /api/events/:id/tickets: the event's page, every ticket for sale cheapest first, which
/// must hold `expected`.
pub async fn event_tickets(http: &Http, event: &str, expected: usize, plan: Plan) -> Run {
    let (http, path) = (http.clone(), format!("/api/events/{event}/tickets"));
    drive(plan, move |_, _| {
        let (http, path) = (http.clone(), path.clone());
        async move {
            let reply = http.get(&path, None).await?.expect(200)?;
            let listed = serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(&reply.body)
                .context("not an array")?
                .len();
            anyhow::ensure!(listed == expected, "listed {listed}, expected {expected}");
            Ok(())
        }
    })
    .await
}

/// A PDF of [`FILE_BYTES`]: the signature, then filler.
pub fn ticket_file() -> Bytes {
    let mut file = b"%PDF-1.4\n".to_vec();
    file.resize(FILE_BYTES, b' ');
    Bytes::from(file)
}

/// PUT /api/tickets/:id/file with a 1 MB PDF, each client replacing the file of its own ticket
/// of `tickets` (so the database holds one file per client, whatever the run's length).
pub async fn upload(http: &Http, seller: &Account, tickets: &[String], plan: Plan) -> Run {
    let (http, cookie, tickets, file) = (
        http.clone(),
        seller.cookie.clone(),
        tickets.to_vec(),
        ticket_file(),
    );
    drive(plan, move |client, _| {
        let (http, cookie, file) = (http.clone(), cookie.clone(), file.clone());
        let path = format!("/api/tickets/{}/file", tickets[client % tickets.len()]);
        async move {
            let body = Some(("application/pdf", file));
            http.send_bytes(hyper::Method::PUT, &path, Some(&cookie), body)
                .await?
                .expect(204)?;
            Ok(())
        }
    })
    .await
}

/// GET /api/tickets/:id/file as the seller: the 1 MB file, whole.
pub async fn download(http: &Http, seller: &Account, tickets: &[String], plan: Plan) -> Run {
    let (http, cookie, tickets) = (http.clone(), seller.cookie.clone(), tickets.to_vec());
    drive(plan, move |client, _| {
        let (http, cookie) = (http.clone(), cookie.clone());
        let path = format!("/api/tickets/{}/file", tickets[client % tickets.len()]);
        async move {
            let reply = http.get(&path, Some(&cookie)).await?.expect(200)?;
            anyhow::ensure!(reply.body.len() == FILE_BYTES, "{} bytes", reply.body.len());
            Ok(())
        }
    })
    .await
}
