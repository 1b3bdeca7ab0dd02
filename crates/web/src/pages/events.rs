//! An event's page with its tickets by price, and creating an event to sell for.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::checked_id;
use crate::csrf::CsrfForm;
use crate::errors::{FormErrors, PageError};
use crate::views::{render, Event, Layout, Ticket};
use crate::visitor::Visitor;
use crate::Web;

#[derive(askama::Template)]
#[template(path = "event.html")]
struct EventPage {
    layout: Layout,
    event: Event,
    tickets: Vec<Ticket>,
}

pub(crate) async fn show(
    State(web): State<Web>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = checked_id(&id)?;
    let event: Event = web
        .api()
        .get(&visitor, &format!("/api/events/{id}"))
        .await?
        .checked(&visitor)?
        .json()?;
    let tickets = web
        .api()
        .get(&visitor, &format!("/api/events/{id}/tickets"))
        .await?
        .checked(&visitor)?
        .json()?;
    let page = EventPage {
        layout: web.layout(&visitor).await?,
        event,
        tickets,
    };
    Ok(render(&page)?.into_response())
}

#[derive(askama::Template)]
#[template(path = "event_form.html")]
struct EventFormPage {
    layout: Layout,
    form: EventForm,
    errors: FormErrors,
}

/// The new event's fields. The start is a local date and time (`datetime-local`) and its UTC
/// offset, which the page's script fills in from the browser and a visitor without JavaScript
/// types (UTC by default).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    venue: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    offset: String,
}

impl EventForm {
    /// `2027-06-01T20:00` and `+02:00` as the API reads a start: `2027-06-01T20:00:00+02:00`.
    fn starts_at(&self) -> String {
        let local = self.starts_at.trim();
        let with_seconds = if local.len() == 16 {
            format!("{local}:00")
        } else {
            local.to_owned()
        };
        let offset = match self.offset.trim() {
            "" | "Z" | "z" => "Z",
            offset => offset,
        };
        format!("{with_seconds}{offset}")
    }
}

pub(crate) async fn new_form(
    State(web): State<Web>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let (layout, _) = web.signed_in_layout(&visitor).await?;
    let page = EventFormPage {
        layout,
        form: EventForm {
            offset: "+00:00".to_owned(),
            ..EventForm::default()
        },
        errors: FormErrors::default(),
    };
    Ok(render(&page)?.into_response())
}

/// Creates the event, then goes on to selling a ticket for it.
pub(crate) async fn create(
    State(web): State<Web>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<EventForm>,
) -> Result<Response, PageError> {
    let visitor = visitor.returning_to("/events/new");
    let body = json!({"name": form.name, "venue": form.venue, "city": form.city, "startsAt": form.starts_at()});
    let reply = web
        .act(&visitor, Method::POST, "/api/events", Some(body))
        .await?;
    if reply.is_success() {
        let event: Event = reply.json()?;
        return Ok(Redirect::to(&format!("/tickets/new?event={}", event.id)).into_response());
    }
    let page = EventFormPage {
        layout: web.layout(&visitor).await?,
        errors: reply
            .errors()
            .shown_on(&["name", "venue", "city", "startsAt"]),
        form,
    };
    Ok((reply.status, render(&page)?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_is_the_local_time_with_its_offset() {
        let form = |starts_at: &str, offset: &str| EventForm {
            starts_at: starts_at.into(),
            offset: offset.into(),
            ..EventForm::default()
        };
        assert_eq!(
            form("2027-06-01T20:00", "+02:00").starts_at(),
            "2027-06-01T20:00:00+02:00"
        );
        assert_eq!(
            form("2027-06-01T20:00:30", "").starts_at(),
            "2027-06-01T20:00:30Z"
        );
        // Whatever is typed goes to the API, which says what is wrong with it.
        assert_eq!(form("tomorrow", "+00:00").starts_at(), "tomorrow+00:00");
    }
}
