//! The one error type of every GitTix HTTP API.
//!
//! Each variant knows its status code and renders the body every client of the original system
//! expects: `{"errors":[{"message": "...", "field": "..."}]}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One failing validation rule: the field it is about and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub message: String,
    pub field: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 with one entry per failing rule, in the order of the fields.
    #[error("invalid request parameters")]
    Validation(Vec<FieldError>),
    /// 400 for a request that is well formed but breaks a rule of the domain.
    #[error("{0}")]
    BadRequest(String),
    /// 401: signed out, or the resource belongs to somebody else.
    #[error("Not authorized")]
    NotAuthorized,
    /// 403: a state-changing request with the session cookie from another site's page.
    #[error("Cross-site request refused")]
    CrossSite,
    /// 404: an unknown route, or an id that names nothing.
    #[error("Not Found")]
    NotFound,
    /// 413: the body is larger than the configured limit.
    #[error("Request body is too large")]
    PayloadTooLarge,
    /// 429: too many attempts; the client may retry after the given number of seconds.
    #[error("Too many attempts, try again later")]
    TooManyRequests { retry_after_secs: u64 },
    /// 503: the service's own database cannot be reached.
    #[error("Error connecting to database")]
    DatabaseUnavailable,
    /// 503: the card processor did not answer, so whether the card was charged is not known yet.
    #[error("The card processor did not answer; the payment will be settled shortly")]
    ProviderUnavailable,
    /// 503: Stripe did not answer a call that changes no money (a seller's account, say).
    #[error("Stripe did not answer; try again in a moment")]
    StripeUnavailable,
    /// 503: the request took longer than the server allows (`REQUEST_TIMEOUT_SECONDS`).
    #[error("The request took too long")]
    TimedOut,
    /// 500: anything unexpected. The cause goes to the log, never to the client.
    #[error("Something went wrong")]
    Internal(#[source] anyhow::Error),
}

/// The body of every error answer (the OpenAPI document's `ErrorBody`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    errors: Vec<ErrorEntry<'a>>,
}

/// One error: what is wrong and, for a validation error, which field it is about.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorEntry<'a> {
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    /// 429 telling the client to come back after `retry_after`. `Retry-After` counts whole
    /// seconds; a wait under one second still says 1.
    pub fn too_many_requests(retry_after: std::time::Duration) -> Self {
        Self::TooManyRequests {
            retry_after_secs: retry_after.as_secs().max(1),
        }
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotAuthorized => StatusCode::UNAUTHORIZED,
            Self::CrossSite => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::DatabaseUnavailable
            | Self::ProviderUnavailable
            | Self::StripeUnavailable
            | Self::TimedOut => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn entries(&self) -> Vec<ErrorEntry<'_>> {
        match self {
            Self::Validation(fields) => fields
                .iter()
                .map(|f| ErrorEntry {
                    message: &f.message,
                    field: Some(&f.field),
                })
                .collect(),
            Self::BadRequest(message) => vec![ErrorEntry {
                message,
                field: None,
            }],
            _ => vec![ErrorEntry {
                message: self.static_message(),
                field: None,
            }],
        }
    }

    fn static_message(&self) -> &'static str {
        match self {
            Self::NotAuthorized => "Not authorized",
            Self::CrossSite => "Cross-site request refused",
            Self::NotFound => "Not Found",
            Self::PayloadTooLarge => "Request body is too large",
            Self::TooManyRequests { .. } => "Too many attempts, try again later",
            Self::DatabaseUnavailable => "Error connecting to database",
            Self::ProviderUnavailable => {
                "The card processor did not answer; the payment will be settled shortly"
            }
            Self::StripeUnavailable => "Stripe did not answer; try again in a moment",
            Self::TimedOut => "The request took too long",
            _ => "Something went wrong",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed")
            }
            Self::DatabaseUnavailable => tracing::warn!("database unreachable"),
            _ => {}
        }
        let body = ErrorBody {
            errors: self.entries(),
        };
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let Self::TooManyRequests { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        if crate::db::is_connection_error(&error) {
            Self::DatabaseUnavailable
        } else {
            Self::Internal(error.into())
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection::*;
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            _ => Self::BadRequest(
                match rejection {
                    MissingJsonContentType(_) => {
                        "Expected a JSON body (Content-Type: application/json)"
                    }
                    JsonSyntaxError(_) => "Request body is not valid JSON",
                    JsonDataError(_) => "Request body must be a JSON object",
                    _ => "Could not read the request body",
                }
                .to_owned(),
            ),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// How a domain operation of a service fails: the rules refused it (`R`, the service's one
/// refusal type, which says nothing of HTTP), or its storage failed. The service's `routes/`
/// turns `R` into an [`ApiError`] (`impl From<R> for ApiError`), so a handler answers with `?`.
#[derive(Debug, thiserror::Error)]
pub enum DomainError<R> {
    #[error("refused")]
    Refused(R),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// The result of a domain operation.
pub type DomainResult<T, R> = Result<T, DomainError<R>>;

impl<R: Into<ApiError>> From<DomainError<R>> for ApiError {
    fn from(error: DomainError<R>) -> Self {
        match error {
            DomainError::Refused(refusal) => refusal.into(),
            DomainError::Storage(error) => error.into(),
            DomainError::Other(error) => Self::Internal(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn render(error: ApiError) -> (StatusCode, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let bytes = to_bytes(response.into_body(), 1 << 16).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn validation_errors_keep_their_order_and_name_their_field() {
        let (status, body) = render(ApiError::Validation(vec![
            FieldError {
                message: "Email must be valid".into(),
                field: "email".into(),
            },
            FieldError {
                message: "Password too short".into(),
                field: "password".into(),
            },
        ]))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            serde_json::json!({"errors": [
                {"message": "Email must be valid", "field": "email"},
                {"message": "Password too short", "field": "password"},
            ]})
        );
    }

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let (status, body) = render(ApiError::internal(anyhow::anyhow!("secret detail"))).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body,
            serde_json::json!({"errors": [{"message": "Something went wrong"}]})
        );
    }

    #[tokio::test]
    async fn each_kind_has_its_status_and_message() {
        let cases = [
            (ApiError::NotAuthorized, 401, "Not authorized"),
            (ApiError::NotFound, 404, "Not Found"),
            (ApiError::PayloadTooLarge, 413, "Request body is too large"),
            (
                ApiError::DatabaseUnavailable,
                503,
                "Error connecting to database",
            ),
            (ApiError::bad_request("Email in use"), 400, "Email in use"),
        ];
        for (error, status, message) in cases {
            let (got_status, body) = render(error).await;
            assert_eq!(got_status.as_u16(), status);
            assert_eq!(body, serde_json::json!({"errors": [{"message": message}]}));
        }
    }
}
