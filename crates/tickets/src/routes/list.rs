use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use gittix_shared::error::ErrorBody;
use gittix_shared::fees::Fees;
use gittix_shared::openapi::responses::DatabaseUnavailable;
use gittix_shared::time::unix_millis;
use gittix_shared::{ApiError, ApiResult};

use crate::listing::{next_link, ListParams, ListQuery};
use crate::store::TicketStore;
use crate::ticket::{tickets_json, TicketJson};

#[utoipa::path(get, path = "/api/tickets", operation_id = "listTickets", tag = "tickets", params(ListParams), responses(
    (status = 200, description = "With no parameters, every ticket for sale, oldest first; with any, one page of them", body = Vec<TicketJson>,
        headers(("Link" = String, description = "The next page, as `<...>; rel=\"next\"`, when there may be more"))),
    (status = 400, description = "A parameter is invalid", body = ErrorBody),
    DatabaseUnavailable,
))]
/// `GET /api/tickets`: the tickets for sale (see `listing` for the optional parameters).
pub(crate) async fn list(
    State(tickets): State<TicketStore>,
    State(fees): State<Fees>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let query = query.unwrap_or_default();
    if query.is_empty() {
        return all_for_sale(&tickets, &fees).await;
    }
    let params: ListParams = serde_urlencoded::from_str(&query)
        .map_err(|_| ApiError::bad_request("Query string is not valid"))?;
    let (page, next) = ListQuery::parse(&params, &fees)?.run(tickets.db()).await?;
    let headers = super::next_page_headers(next.map(|cursor| next_link(&params, cursor)));
    Ok((headers, Json(tickets_json(&page, &fees))).into_response())
}

/// The original route: every ticket for sale, oldest first, in one answer.
async fn all_for_sale(tickets: &TicketStore, fees: &Fees) -> ApiResult<Response> {
    let body = tickets
        .for_sale()
        .get_or_build(unix_millis(), || async {
            let (all, _) = ListQuery::parse(&ListParams::default(), fees)?
                .run(tickets.db())
                .await?;
            let json = serde_json::to_vec(&tickets_json(&all, fees)).map_err(ApiError::internal)?;
            // The answer holds until the first of its tickets' events starts.
            let until = all.iter().filter_map(|t| t.event_starts_at).min();
            Ok::<_, ApiError>((Bytes::from(json), until))
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
