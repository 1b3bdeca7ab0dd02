//! Selling, showing, buying, editing and withdrawing a ticket.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::checked_id;
use crate::csrf::{CsrfForm, NoFields};
use crate::errors::{FormErrors, PageError};
use crate::views::{render, Layout, Ticket};
use crate::visitor::Visitor;
use crate::Web;

/// The sell form and the edit form.
#[derive(askama::Template)]
#[template(path = "ticket_form.html")]
struct TicketFormPage {
    layout: Layout,
    /// `None` when selling a new ticket.
    ticket_id: Option<String>,
    title: String,
    price: String,
    errors: FormErrors,
}

impl TicketFormPage {
    fn action(&self) -> String {
        match &self.ticket_id {
            Some(id) => format!("/tickets/{id}/edit"),
            None => "/tickets/new".to_owned(),
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct TicketForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    price: String,
}

pub(crate) async fn sell_form(
    State(web): State<Web>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let (layout, _) = web.signed_in_layout(&visitor).await?;
    let page = TicketFormPage {
        layout,
        ticket_id: None,
        title: String::new(),
        price: String::new(),
        errors: FormErrors::default(),
    };
    Ok(render(&page)?.into_response())
}

pub(crate) async fn sell(
    State(web): State<Web>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<TicketForm>,
) -> Result<Response, PageError> {
    let visitor = visitor.returning_to("/tickets/new");
    let reply = web
        .act(&visitor, Method::POST, "/api/tickets", Some(body(&form)))
        .await?;
    if reply.is_success() {
        let ticket: Ticket = reply.json()?;
        return Ok(Redirect::to(&format!("/tickets/{}", ticket.id)).into_response());
    }
    let page = TicketFormPage {
        layout: web.layout(&visitor).await?,
        ticket_id: None,
        title: form.title,
        price: form.price,
        errors: reply.errors(),
    };
    Ok((reply.status, render(&page)?).into_response())
}

fn body(form: &TicketForm) -> Value {
    // The API reads a price given as text the same as a number, with the same rules.
    json!({"title": form.title, "price": form.price.trim()})
}

#[derive(askama::Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    layout: Layout,
    ticket: Ticket,
    errors: FormErrors,
}

impl TicketPage {
    fn is_sellers(&self) -> bool {
        self.layout
            .user
            .as_ref()
            .is_some_and(|user| user.id == self.ticket.user_id)
    }
}

async fn ticket_page(
    web: &Web,
    visitor: &Visitor,
    id: &str,
    errors: FormErrors,
) -> Result<TicketPage, PageError> {
    let ticket = web
        .api()
        .get(visitor, &format!("/api/tickets/{id}"))
        .await?
        .checked(visitor)?
        .json()?;
    Ok(TicketPage {
        layout: web.layout(visitor).await?,
        ticket,
        errors,
    })
}

pub(crate) async fn show(
    State(web): State<Web>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = checked_id(&id)?;
    let page = ticket_page(&web, &visitor, id, FormErrors::default()).await?;
    Ok(render(&page)?.into_response())
}

/// Purchase: reserves the ticket with `POST /api/orders` and goes to the order's page.
pub(crate) async fn purchase(
    State(web): State<Web>,
    visitor: Visitor,
    Path(id): Path<String>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let id = checked_id(&id)?;
    let visitor = visitor.returning_to(&format!("/tickets/{id}"));
    let reply = web
        .act(
            &visitor,
            Method::POST,
            "/api/orders",
            Some(json!({"ticketId": id})),
        )
        .await?;
    if reply.is_success() {
        let order: Value = reply.json()?;
        let order_id = order["id"].as_str().unwrap_or_default();
        return Ok(Redirect::to(&format!("/orders/{order_id}")).into_response());
    }
    let page = ticket_page(&web, &visitor, id, reply.errors()).await?;
    Ok((reply.status, render(&page)?).into_response())
}

pub(crate) async fn edit_form(
    State(web): State<Web>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = checked_id(&id)?;
    let (layout, user) = web.signed_in_layout(&visitor).await?;
    let ticket: Ticket = web
        .api()
        .get(&visitor, &format!("/api/tickets/{id}"))
        .await?
        .checked(&visitor)?
        .json()?;
    if ticket.user_id != user.id {
        return Err(PageError::NotYours);
    }
    let page = TicketFormPage {
        layout,
        ticket_id: Some(ticket.id.clone()),
        price: ticket.price_input(),
        title: ticket.title,
        errors: FormErrors::default(),
    };
    Ok(render(&page)?.into_response())
}

pub(crate) async fn edit(
    State(web): State<Web>,
    visitor: Visitor,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<TicketForm>,
) -> Result<Response, PageError> {
    let id = checked_id(&id)?;
    let visitor = visitor.returning_to(&format!("/tickets/{id}/edit"));
    let reply = web
        .act(
            &visitor,
            Method::PUT,
            &format!("/api/tickets/{id}"),
            Some(body(&form)),
        )
        .await?;
    if reply.is_success() {
        return Ok(Redirect::to(&format!("/tickets/{id}")).into_response());
    }
    let page = TicketFormPage {
        layout: web.layout(&visitor).await?,
        ticket_id: Some(id.to_owned()),
        title: form.title,
        price: form.price,
        errors: reply.errors(),
    };
    Ok((reply.status, render(&page)?).into_response())
}

/// Withdraw: the seller takes a ticket that is for sale off the market.
pub(crate) async fn withdraw(
    State(web): State<Web>,
    visitor: Visitor,
    Path(id): Path<String>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let id = checked_id(&id)?;
    let visitor = visitor.returning_to(&format!("/tickets/{id}"));
    let reply = web
        .act(
            &visitor,
            Method::DELETE,
            &format!("/api/tickets/{id}"),
            None,
        )
        .await?;
    if reply.is_success() {
        return Ok(Redirect::to("/listings").into_response());
    }
    let page = ticket_page(&web, &visitor, id, reply.errors()).await?;
    Ok((reply.status, render(&page)?).into_response())
}
