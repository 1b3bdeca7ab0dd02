//! The seller's listings, grouped by where each ticket stands, each with its file: uploaded
//! from here, and for a sale, its delivery and deadline.

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::errors::{FormErrors, PageError};
use crate::views::{render, Layout, Ticket};
use crate::visitor::Visitor;
use crate::Web;

#[derive(askama::Template)]
#[template(path = "listings.html")]
struct ListingsPage {
    layout: Layout,
    groups: Vec<Group>,
    errors: FormErrors,
}

struct Group {
    heading: &'static str,
    anchor: &'static str,
    tickets: Vec<Ticket>,
}

pub(crate) async fn list(State(web): State<Web>, visitor: Visitor) -> Result<Response, PageError> {
    Ok(page(&web, &visitor, FormErrors::default())
        .await?
        .into_response())
}

/// The listings page, with `errors` from a refused upload at the top.
pub(crate) async fn page(
    web: &Web,
    visitor: &Visitor,
    errors: FormErrors,
) -> Result<axum::response::Html<String>, PageError> {
    let (layout, _) = web.signed_in_layout(visitor).await?;
    let tickets: Vec<Ticket> = web
        .api()
        .get(visitor, "/api/tickets/mine")
        .await?
        .checked(visitor)?
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
    render(&ListingsPage {
        layout,
        groups,
        errors,
    })
}
