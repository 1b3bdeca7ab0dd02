//! Answers many routes share, each described once. A route lists them in its
//! `#[utoipa::path(responses(...))]` beside its own answers.

use utoipa::IntoResponses;

use crate::error::ErrorBody;

/// 401: the route needs a signed-in user.
#[derive(IntoResponses)]
#[response(status = 401, description = "Signed out")]
pub struct SignedOut(pub ErrorBody<'static>);

/// 413: the request body is over `BODY_LIMIT_BYTES`.
#[derive(IntoResponses)]
#[response(status = 413, description = "The body is over the size limit")]
pub struct BodyTooLarge(pub ErrorBody<'static>);

/// 429: a rate limit ran out; `Retry-After` says when to come back.
#[derive(IntoResponses)]
#[response(status = 429, description = "Too many attempts; see Retry-After")]
pub struct TooManyRequests(pub ErrorBody<'static>);

/// 503: the service's own database does not answer.
#[derive(IntoResponses)]
#[response(status = 503, description = "The service's database cannot be reached")]
pub struct DatabaseUnavailable(pub ErrorBody<'static>);

/// 404 for the operations routes asked through a gateway: they answer the cluster (probes,
/// Prometheus) only, never the internet.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "Asked through a gateway (the request carries X-Forwarded-For): operations routes answer only inside the cluster"
)]
pub struct NotThroughTheGateway(pub ErrorBody<'static>);
