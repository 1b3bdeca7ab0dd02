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
#[derive(Deserialize)]
pub(crate) struct TicketBody {
    #[serde(default)]
    title: Option<serde_json::Value>,
    #[serde(default)]
    price: Option<serde_json::Value>,
}
