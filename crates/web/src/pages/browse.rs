//! The home page: upcoming events (search, city, dates) first, then the tickets for sale, with
//! search, a price range, sorting and paging.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::errors::{FormErrors, PageError};
use crate::views::{render, Event, Layout, Ticket};
use crate::visitor::Visitor;
use crate::Web;

const PAGE_SIZE: &str = "12";

/// The search form's fields, also the home page's query string.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Search {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    q: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    min_price: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    max_price: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    sort: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    cursor: String,
    /// The upcoming events' search: words, a city and a range of days (UTC).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    events: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    city: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    from: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    to: String,
}

/// How many upcoming events the home page shows.
const EVENTS_SHOWN: &str = "8";

impl Search {
    /// The events API's query for the events part of the form: a day `from` starts at its
    /// midnight, a day `to` ends at its last second (UTC).
    fn events_query(&self) -> Result<String, PageError> {
        let mut pairs = vec![("limit", EVENTS_SHOWN.to_owned())];
        let day = |text: &str, time: &str| {
            let text = text.trim();
            (!text.is_empty()).then(|| format!("{text}T{time}Z"))
        };
        for (name, value) in [
            (
                "q",
                Some(self.events.trim().to_owned()).filter(|v| !v.is_empty()),
            ),
            (
                "city",
                Some(self.city.trim().to_owned()).filter(|v| !v.is_empty()),
            ),
            ("from", day(&self.from, "00:00:00")),
            ("to", day(&self.to, "23:59:59")),
        ] {
            if let Some(value) = value {
                pairs.push((name, value));
            }
        }
        serde_urlencoded::to_string(pairs).map_err(PageError::internal)
    }

    /// The tickets API's part of the query: the fields of the ticket search only.
    fn tickets_query(&self) -> Result<String, PageError> {
        let tickets = Search {
            events: String::new(),
            city: String::new(),
            from: String::new(),
            to: String::new(),
            ..self.clone()
        };
        serde_urlencoded::to_string(&tickets).map_err(PageError::internal)
    }
}

const SORTS: [(&str, &str); 4] = [
    ("newest", "Newest first"),
    ("oldest", "Oldest first"),
    ("price", "Price, low to high"),
    ("-price", "Price, high to low"),
];

pub(crate) struct SortOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(askama::Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    /// Upcoming events, soonest first, as searched.
    events: Vec<Event>,
    event_errors: FormErrors,
    search: Search,
    sorts: Vec<SortOption>,
    tickets: Vec<Ticket>,
    errors: FormErrors,
    next_page: Option<String>,
    first_page: Option<String>,
}

pub(crate) async fn home(
    State(web): State<Web>,
    visitor: Visitor,
    Query(mut search): Query<Search>,
) -> Result<Response, PageError> {
    for field in [&mut search.q, &mut search.min_price, &mut search.max_price] {
        *field = field.trim().to_owned();
    }
    if !SORTS.iter().any(|(value, _)| *value == search.sort) {
        search.sort = "newest".to_owned();
    }
    let events_reply = web
        .api()
        .get(&visitor, &format!("/api/events?{}", search.events_query()?))
        .await?
        .checked(&visitor)?;
    let (events, event_errors) = if events_reply.is_success() {
        (events_reply.json()?, FormErrors::default())
    } else {
        (Vec::new(), events_reply.errors().shown_on(&["from", "to"]))
    };
    let path = format!("/api/tickets?limit={PAGE_SIZE}&{}", search.tickets_query()?);
    let reply = web.api().get(&visitor, &path).await?.checked(&visitor)?;
    let (tickets, errors, next_cursor) = if reply.is_success() {
        let next = reply
            .headers
            .get(header::LINK)
            .and_then(|link| link.to_str().ok())
            .and_then(cursor_of_next_link);
        (reply.json()?, FormErrors::default(), next)
    } else {
        let errors = reply.errors().shown_on(&["minPrice", "maxPrice"]);
        (Vec::new(), errors, None)
    };
    let page_with = |cursor: String| {
        let page = Search {
            cursor,
            ..search.clone()
        };
        serde_urlencoded::to_string(&page).map(|query| format!("/?{query}"))
    };
    let next_page = next_cursor
        .map(page_with)
        .transpose()
        .map_err(PageError::internal)?;
    let first_page = (!search.cursor.is_empty())
        .then(|| page_with(String::new()))
        .transpose()
        .map_err(PageError::internal)?;
    let sorts = SORTS
        .iter()
        .map(|&(value, label)| SortOption {
            value,
            label,
            selected: value == search.sort,
        })
        .collect();
    let page = HomePage {
        layout: web.layout(&visitor).await?,
        events,
        event_errors,
        search,
        sorts,
        tickets,
        errors,
        next_page,
        first_page,
    };
    Ok(render(&page)?.into_response())
}

/// The `cursor` parameter of the API's `Link: </api/tickets?...>; rel="next"`.
fn cursor_of_next_link(link: &str) -> Option<String> {
    let target = link.strip_prefix('<')?.split_once('>')?.0;
    let query = target.split_once('?')?.1;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs
        .into_iter()
        .find(|(name, _)| name == "cursor")
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::cursor_of_next_link;

    #[test]
    fn reads_the_cursor_of_the_next_page() {
        let link = r#"</api/tickets?sort=price&limit=12&cursor=2000_0192-ab>; rel="next""#;
        assert_eq!(cursor_of_next_link(link).as_deref(), Some("2000_0192-ab"));
        assert_eq!(
            cursor_of_next_link("</api/tickets?limit=12>; rel=\"next\""),
            None
        );
        assert_eq!(cursor_of_next_link("garbage"), None);
    }
}
