use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::Json;
use gittix_shared::{ApiError, ApiResult};

use crate::listing::{next_link, ListParams, ListQuery};
use crate::store::TicketStore;
use crate::ticket::Ticket;

/// `GET /api/tickets`: the tickets for sale (see `listing` for the optional parameters).
pub(crate) async fn list(
    State(tickets): State<TicketStore>,
    RawQuery(query): RawQuery,
) -> ApiResult<(HeaderMap, Json<Vec<Ticket>>)> {
    let params: ListParams = serde_urlencoded::from_str(query.as_deref().unwrap_or_default())
        .map_err(|_| ApiError::bad_request("Query string is not valid"))?;
    let (page, next) = ListQuery::parse(&params)?.run(tickets.db()).await?;
    let mut headers = HeaderMap::new();
    if let Some(cursor) = next {
        if let Ok(link) = HeaderValue::from_str(&next_link(&params, cursor)) {
            headers.insert(header::LINK, link);
        }
    }
    Ok((headers, Json(page)))
}
