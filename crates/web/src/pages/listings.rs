//! The seller's listings, grouped by where each ticket stands.

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::errors::PageError;
use crate::views::{render, Layout, Ticket};
use crate::visitor::Visitor;
use crate::Web;

#[derive(askama::Template)]
#[template(path = "listings.html")]
struct ListingsPage {
    layout: Layout,
    groups: Vec<Group>,
}

struct Group {
    heading: &'static str,
    anchor: &'static str,
    tickets: Vec<Ticket>,
}

pub(crate) async fn list(State(web): State<Web>, visitor: Visitor) -> Result<Response, PageError> {
    let (layout, _) = web.signed_in_layout(&visitor).await?;
    let tickets: Vec<Ticket> = web
        .api()
        .get(&visitor, "/api/tickets/mine")
        .await?
        .checked(&visitor)?
        .json()?;
    let groups = [
        ("For sale", "for_sale"),
        ("Reserved", "reserved"),
        ("Sold", "sold"),
        ("Withdrawn", "withdrawn"),
    ]
    .into_iter()
    .map(|(heading, status)| Group {
        heading,
        anchor: status,
        tickets: tickets
            .iter()
            .filter(|t| t.status == status)
            .cloned()
            .collect(),
    })
    .collect();
    Ok(render(&ListingsPage { layout, groups })?.into_response())
}
