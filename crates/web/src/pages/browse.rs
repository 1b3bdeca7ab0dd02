//! The home page: tickets for sale, with search, a price range, sorting and paging.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::errors::{FormErrors, PageError};
use crate::views::{render, Layout, Ticket};
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
    let query = serde_urlencoded::to_string(&search).map_err(PageError::internal)?;
    let path = format!("/api/tickets?limit={PAGE_SIZE}&{query}");
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
