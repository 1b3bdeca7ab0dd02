use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gittix_shared::error::ErrorBody;
use gittix_shared::id::PathId;
use gittix_shared::openapi::responses::{DatabaseUnavailable, SignedOut};
use gittix_shared::session::RequireUser;
use gittix_shared::validation::Validator;
use gittix_shared::{ApiError, ApiResult};

use crate::file_rules::{FileKind, MAX_FILE_BYTES};
use crate::store::TicketStore;

#[utoipa::path(put, path = "/api/tickets/{id}/file", operation_id = "uploadTicketFile", tag = "tickets", security(("session" = [])),
    params(("id" = String, Path, description = "The ticket's id")),
    request_body(description = "The ticket itself: a PDF, PNG or JPEG of at most 5 MB", content(
        (Vec<u8> = "application/pdf"), (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"))),
    responses(
    (status = 204, description = "Kept (replacing an earlier file); a sold ticket awaiting its file is delivered now: publishes ticket:delivered"),
    (status = 400, description = "Not a PDF, PNG or JPEG, or its bytes are not what its type says; or the ticket is withdrawn, delivered, or past its deadline; or the body could not be read", body = ErrorBody),
    (status = 401, description = "Signed out, or another user's ticket", body = ErrorBody),
    (status = 404, description = "No ticket has this id", body = ErrorBody),
    (status = 413, description = "Over 5 MB", body = ErrorBody),
    DatabaseUnavailable,
))]
/// `PUT /api/tickets/:id/file`: the seller uploads the ticket's file, the body as it is. Checked
/// in the design's order: signed in, the ticket exists, it is the caller's, the file, the
/// ticket's state (in the store, with the ticket locked), the size.
pub(crate) async fn upload(
    State(tickets): State<TicketStore>,
    RequireUser(seller): RequireUser,
    id: PathId,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<StatusCode> {
    let id = id.get()?;
    // Whose ticket it is comes first (404, then 401), before a byte of the file is read.
    tickets.may_upload(id, &seller.id).await?;
    let bytes = read_file(body).await?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let kind = FileKind::from_content_type(content_type);
    let mut validator = Validator::new();
    match kind {
        None => validator.check(
            false,
            "file",
            "The file must be a PDF, PNG or JPEG (Content-Type application/pdf, image/png or image/jpeg)",
        ),
        Some(kind) => validator.check(
            kind.matches(&bytes),
            "file",
            "The file is not what its Content-Type says, or cannot be read",
        ),
    };
    validator.finish()?;
    let kind = kind.ok_or(ApiError::NotFound)?;
    tickets.upload(id, &seller.id, kind, &bytes).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body, read here against the file's own limit (not the service's much smaller one), and
/// refused as soon as it grows past it. It is read up to the limit even when `Content-Length`
/// already says it is over: a client that sends its whole body before reading the answer (most
/// do) then gets the 413 rather than a connection closed under it.
async fn read_file(body: Body) -> ApiResult<bytes::Bytes> {
    axum::body::to_bytes(body, MAX_FILE_BYTES)
        .await
        .map_err(|error| {
            let inner = error.into_inner();
            if inner
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                ApiError::PayloadTooLarge
            } else {
                ApiError::bad_request("Could not read the request body")
            }
        })
}

#[utoipa::path(get, path = "/api/tickets/{id}/file", operation_id = "downloadTicketFile", tag = "tickets", security(("session" = [])),
    params(("id" = String, Path, description = "The ticket's id")),
    responses(
    (status = 200, description = "The file, as an attachment, never cached", content(
        (Vec<u8> = "application/pdf"), (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"))),
    SignedOut,
    (status = 404, description = "No file, or not the caller's: only the seller, and the buyer once delivered, may have it", body = ErrorBody),
    DatabaseUnavailable,
))]
/// `GET /api/tickets/:id/file`: the seller's file, for its seller and, once delivered, its buyer.
pub(crate) async fn download(
    State(tickets): State<TicketStore>,
    RequireUser(user): RequireUser,
    id: PathId,
) -> ApiResult<Response> {
    let (ticket, file) = tickets
        .file_for(id.get()?, &user.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let extension =
        FileKind::from_content_type(&file.content_type).map_or("bin", FileKind::extension);
    let disposition = format!("attachment; filename=\"ticket-{}.{extension}\"", ticket.id);
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        file.body,
    )
        .into_response())
}
