//! The OpenAPI document of the HTTP API: what every service's part shares, how the parts join,
//! and the two routes that serve the whole (`/api/openapi.json` and the page `/api/docs`).
//!
//! Each service crate derives its part from its handlers (`#[utoipa::path]` on each one); the
//! binary, which knows every service, joins them with [`document`].

mod page;
pub mod responses;

use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::OpenApi;
use utoipa::{Modify, OpenApi as _};

use crate::session::SESSION_COOKIE;

/// The name of the security scheme of routes that read the session cookie.
pub const SESSION: &str = "session";

/// Adds the session cookie as a security scheme; each service's part applies it.
pub struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The JWT the sign-up and sign-in routes set (HttpOnly; SameSite=Lax)",
            ))),
        );
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "GitTix API",
        description = "The HTTP API of GitTix, a ticket resale marketplace. Every error answer \
            has the shape `ErrorBody`. Routes marked with the `session` scheme read the cookie \
            that sign-up and sign-in set.",
        license(name = "MIT OR Apache-2.0"),
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorEntry)),
    tags(
        (name = "users", description = "Accounts and sign-in (the auth service)"),
        (name = "tickets", description = "Tickets for sale (the tickets service)"),
        (name = "orders", description = "Reservations of tickets (the orders service)"),
        (name = "payments", description = "Charges for orders (the payments service)"),
        (name = "operations", description = "Liveness, readiness and metrics of every process"),
    ),
    modifiers(&SessionCookie),
)]
struct Common;

/// The whole API's document: what every service shares, then each service's `parts`.
pub fn document(parts: impl IntoIterator<Item = OpenApi>) -> OpenApi {
    let mut whole = Common::openapi();
    whole.info.version = env!("CARGO_PKG_VERSION").to_owned();
    whole.merge(crate::http::health_openapi());
    for part in parts {
        whole.merge(part);
    }
    whole
}

/// `GET /api/openapi.json` and `GET /api/docs`, both rendered once from `document`.
pub fn routes(document: &OpenApi) -> Router {
    let json =
        Bytes::from(serde_json::to_vec(document).expect("an OpenAPI document always serializes"));
    let html = Bytes::from(page::render(document));
    Router::new()
        .route(
            "/api/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], json) }),
        )
        .route("/api/docs", get(move || async move { page_response(html) }))
}

/// The page, with the headers that keep it inert: it has no script and loads nothing.
fn page_response(html: Bytes) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        html,
    )
        .into_response()
}
