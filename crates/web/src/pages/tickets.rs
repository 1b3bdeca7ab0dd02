//! Selling (for an event, found or added), showing, buying, editing and withdrawing a ticket.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::checked_id;
use crate::csrf::{CsrfForm, NoFields};
use crate::errors::{FormErrors, PageError};
use crate::views::{render, Event, Layout, Ticket};
use crate::visitor::Visitor;
use crate::Web;

/// The sell form and the edit form.
#[derive(askama::Template)]
#[template(path = "ticket_form.html")]
struct TicketFormPage {
    layout: Layout,
    /// `None` when selling a new ticket.
    ticket_id: Option<String>,
    form: TicketForm,
    /// The event the ticket is for, when the seller chose one.
    event: Option<Event>,
    /// While choosing: what the seller searched for and the events found.
    find: String,
    found: Vec<Event>,
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

/// The form's fields (the event's id is a hidden field once chosen).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TicketForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    event_id: String,
    #[serde(default)]
    section: String,
    #[serde(default)]
    row: String,
    #[serde(default)]
    seat: String,
    #[serde(default)]
    face_value: String,
}

/// `/tickets/new?event=<id>` sells for that event; `?find=<words>` searches for the event.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SellQuery {
    #[serde(default)]
    event: String,
    #[serde(default)]
    find: String,
}

pub(crate) async fn sell_form(
    State(web): State<Web>,
    visitor: Visitor,
    Query(query): Query<SellQuery>,
) -> Result<Response, PageError> {
    let (layout, _) = web.signed_in_layout(&visitor).await?;
    let event = chosen_event(&web, &visitor, &query.event).await?;
    let find = query.find.trim().to_owned();
    let found = if find.is_empty() || event.is_some() {
        Vec::new()
    } else {
        let search = serde_urlencoded::to_string([("q", find.as_str()), ("limit", "10")])
            .map_err(PageError::internal)?;
        let reply = web
            .api()
            .get(&visitor, &format!("/api/events?{search}"))
            .await?
            .checked(&visitor)?;
        if reply.is_success() {
            reply.json()?
        } else {
            Vec::new()
        }
    };
    let page = TicketFormPage {
        layout,
        ticket_id: None,
        form: TicketForm {
            event_id: event.as_ref().map(|e| e.id.clone()).unwrap_or_default(),
            ..TicketForm::default()
        },
        event,
        find,
        found,
        errors: FormErrors::default(),
    };
    Ok(render(&page)?.into_response())
}

/// The event `id` names, if any (an unknown one is a 404 page).
async fn chosen_event(web: &Web, visitor: &Visitor, id: &str) -> Result<Option<Event>, PageError> {
    if id.trim().is_empty() {
        return Ok(None);
    }
    let id = checked_id(id.trim())?;
    let event = web
        .api()
        .get(visitor, &format!("/api/events/{id}"))
        .await?
        .checked(visitor)?
        .json()?;
    Ok(Some(event))
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
    let event = chosen_event(&web, &visitor, &form.event_id).await?;
    let page = TicketFormPage {
        layout: web.layout(&visitor).await?,
        ticket_id: None,
        form,
        event,
        find: String::new(),
        found: Vec::new(),
        errors: reply.errors().shown_on(SHOWN),
    };
    Ok((reply.status, render(&page)?).into_response())
}

/// The fields the form shows next to their errors.
const SHOWN: &[&str] = &["title", "price", "section", "row", "seat", "faceValue"];

fn body(form: &TicketForm) -> Value {
    // The API reads a price given as text the same as a number, with the same rules. The
    // seat's labels go as typed (empty clears one on an edit); an empty face value or event is
    // none.
    let mut body = json!({
        "title": form.title,
        "price": form.price.trim(),
        "section": form.section,
        "row": form.row,
        "seat": form.seat,
    });
    if !form.face_value.trim().is_empty() {
        body["faceValue"] = json!(form.face_value.trim());
    }
    if !form.event_id.trim().is_empty() {
        body["eventId"] = json!(form.event_id.trim());
    }
    body
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
    let form = TicketForm {
        price: ticket.price_input(),
        face_value: ticket.face_value.map(|f| f.to_string()).unwrap_or_default(),
        section: ticket.section.clone().unwrap_or_default(),
        row: ticket.row.clone().unwrap_or_default(),
        seat: ticket.seat.clone().unwrap_or_default(),
        title: ticket.title.clone(),
        event_id: String::new(),
    };
    let page = TicketFormPage {
        layout,
        ticket_id: Some(ticket.id.clone()),
        form,
        event: None,
        find: String::new(),
        found: Vec::new(),
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
        form,
        event: None,
        find: String::new(),
        found: Vec::new(),
        errors: reply.errors().shown_on(SHOWN),
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
