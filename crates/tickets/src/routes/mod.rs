//! `/api/tickets*`: one module per route.

mod create;
mod list;
mod mine;
mod show;
mod update;
mod withdraw;

use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use crate::TicketsState;

pub(crate) fn router() -> Router<TicketsState> {
    Router::new()
        .route("/api/tickets", get(list::list).post(create::create))
        // A static segment wins over `{id}`; ticket ids are UUIDs, never "mine".
        .route("/api/tickets/mine", get(mine::mine))
        .route(
            "/api/tickets/{id}",
            get(show::show)
                .put(update::update)
                .delete(withdraw::withdraw),
        )
}

/// The body of create and update: fields read leniently, then validated by `rules`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct TicketBody {
    /// Not empty once trimmed, at most 200 characters.
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    title: Option<serde_json::Value>,
    /// In dollars: more than 0, at most 1000000, at most 2 decimals (a numeric string is read too).
    #[serde(default)]
    #[schema(value_type = f64, required = true, exclusive_minimum = 0, maximum = 1000000, example = 19.99)]
    price: Option<serde_json::Value>,
}

/// The tickets service's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list::list,
        create::create,
        mine::mine,
        show::show,
        update::update,
        withdraw::withdraw,
    ),
    components(schemas(crate::listing::SortParam))
)]
pub(crate) struct TicketsApi;
