//! The ticket itself: the seller uploads its file from their listings, the buyer downloads it
//! from "My tickets" or the order's page once delivered.

use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, MethodRouter};

use super::checked_id;
use crate::api::Payload;
use crate::csrf::check_token;
use crate::errors::{FormErrors, PageError};
use crate::pages::listings;
use crate::views::{render, Layout, Ticket};
use crate::visitor::Visitor;
use crate::Web;

/// The largest upload form taken: the API's 5 MB for the file, and room for the form around it.
const MAX_UPLOAD_FORM_BYTES: usize = 5 * 1024 * 1024 + 64 * 1024;

/// `GET /tickets/{id}/file` downloads, `POST` uploads (with a body limit of its own: the
/// site's is far smaller).
pub(crate) fn file_route() -> MethodRouter<Web> {
    get(download)
        .post(upload)
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_FORM_BYTES))
}

/// The upload form (`multipart/form-data`: `csrf`, then `file`) from the seller's listings.
async fn upload(
    State(web): State<Web>,
    visitor: Visitor,
    Path(id): Path<String>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Result<Response, PageError> {
    let id = checked_id(&id)?;
    let visitor = visitor.returning_to("/listings");
    let (mut token, mut file) = (None, None);
    while let Some(field) = form.next_field().await.map_err(|_| PageError::BadForm)? {
        match field.name() {
            Some("csrf") => token = Some(field.text().await.map_err(|_| PageError::BadForm)?),
            Some("file") => {
                let content_type = field.content_type().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(|_| PageError::BadForm)?;
                file = Some((content_type, bytes));
            }
            _ => {}
        }
    }
    check_token(&web, &headers, token.as_deref())?;
    let mut errors = FormErrors::default();
    match file {
        Some((content_type, bytes)) if !bytes.is_empty() => {
            let payload = Payload::File {
                content_type,
                bytes,
            };
            web.require_sign_in(&visitor).await?;
            let path = format!("/api/tickets/{id}/file");
            let reply = web
                .api()
                .send_payload(&visitor, Method::PUT, &path, Some(payload))
                .await?
                .checked(&visitor)?;
            if reply.is_success() {
                return Ok(Redirect::to(&format!("/listings#ticket-{id}")).into_response());
            }
            errors = reply.errors();
        }
        _ => errors.add("Choose the ticket's file (a PDF, PNG or JPEG) to upload."),
    }
    let status = StatusCode::BAD_REQUEST;
    Ok((status, listings::page(&web, &visitor, errors).await?).into_response())
}

/// The file, as the API gives it to its seller and (once delivered) its buyer; anyone else
/// finds nothing.
async fn download(
    State(web): State<Web>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = checked_id(&id)?;
    let visitor = visitor.returning_to("/my-tickets");
    web.require_sign_in(&visitor).await?;
    let reply = web
        .api()
        .get(&visitor, &format!("/api/tickets/{id}/file"))
        .await?
        .checked(&visitor)?;
    if !reply.is_success() {
        return Err(PageError::NotFound);
    }
    let mut response = reply.bytes.into_response();
    for name in [header::CONTENT_TYPE, header::CONTENT_DISPOSITION] {
        if let Some(value) = reply.headers.get(&name) {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(askama::Template)]
#[template(path = "my_tickets.html")]
struct MyTicketsPage {
    layout: Layout,
    tickets: Vec<Ticket>,
}

/// The buyer's tickets, each with its delivery and, once delivered, its download.
pub(crate) async fn my_tickets(
    State(web): State<Web>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let (layout, _) = web.signed_in_layout(&visitor).await?;
    let tickets = web
        .api()
        .get(&visitor, "/api/tickets/bought")
        .await?
        .checked(&visitor)?
        .json()?;
    Ok(render(&MyTicketsPage { layout, tickets })?.into_response())
}
