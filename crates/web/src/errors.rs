//! What goes wrong on a page, and the errors a form shows next to its fields.

use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::Value;

use crate::views::{render, Layout};

/// Why a page cannot be shown as asked.
#[derive(Debug)]
pub(crate) enum PageError {
    /// Signed out: go to sign in, then come back to this path.
    SignInRequired(String),
    /// Signed in, but the thing belongs to another account.
    NotYours,
    NotFound,
    /// The form's CSRF token is missing or does not match the visitor's cookie.
    FormExpired,
    /// A body that is not a form.
    BadForm,
    /// A service cannot be reached or its database is down.
    Unavailable,
    Internal(anyhow::Error),
}

impl PageError {
    pub(crate) fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }
}

impl From<askama::Error> for PageError {
    fn from(error: askama::Error) -> Self {
        Self::internal(error)
    }
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    heading: &'static str,
    message: &'static str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, heading, message) = match self {
            Self::SignInRequired(page) => {
                return Redirect::to(&format!("/auth/signin?next={}", encode(&page)))
                    .into_response()
            }
            Self::NotYours => (
                StatusCode::FORBIDDEN,
                "Not yours",
                "This page belongs to another account.",
            ),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing at this address. The ticket or order may have been removed.",
            ),
            Self::FormExpired => (
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form could not be verified. Go back, reload the page and try again.",
            ),
            Self::BadForm => (
                StatusCode::BAD_REQUEST,
                "Bad request",
                "The form could not be read.",
            ),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporarily unavailable",
                "GitTix cannot reach one of its services right now. Please try again shortly.",
            ),
            Self::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The page could not be shown. Please try again.",
                )
            }
        };
        let page = ErrorPage {
            layout: Layout::neutral(),
            heading,
            message,
        };
        match render(&page) {
            Ok(html) => (status, html).into_response(),
            Err(_) => (status, Html(message)).into_response(),
        }
    }
}

/// Unknown paths: a page for people, the API's JSON 404 under `/api` for programs.
pub(crate) async fn fallback(uri: Uri, policy: crate::security_headers::Policy) -> Response {
    if uri.path() == "/api" || uri.path().starts_with("/api/") {
        gittix_shared::http::not_found().await.into_response()
    } else {
        // Outside the pages' layers, so the headers are added here.
        crate::security_headers::add(
            axum::extract::State(policy),
            PageError::NotFound.into_response(),
        )
        .await
    }
}

/// Percent-encodes a path for a query parameter.
pub(crate) fn encode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|pair| pair.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// The errors of a refused form: those naming a field go next to it, the rest at the top.
#[derive(Debug, Default, Clone)]
pub(crate) struct FormErrors {
    by_field: Vec<(String, String)>,
    general: Vec<String>,
}

impl FormErrors {
    /// Reads the API's `{"errors": [{"message", "field"?}]}`.
    pub(crate) fn from_api(body: &Value) -> Self {
        let mut errors = Self::default();
        for error in body["errors"].as_array().into_iter().flatten() {
            let message = error["message"].as_str().unwrap_or("Something went wrong");
            match error["field"].as_str() {
                Some(field) => errors.add_to_field(field, message),
                None => errors.add(message),
            }
        }
        if errors.is_empty() {
            errors.add("The request was refused.");
        }
        errors
    }

    pub(crate) fn add(&mut self, message: &str) {
        self.general.push(message.to_owned());
    }

    pub(crate) fn add_to_field(&mut self, field: &str, message: &str) {
        self.by_field.push((field.to_owned(), message.to_owned()));
    }

    /// Moves the errors of fields the form does not show to the top, so none goes unseen.
    pub(crate) fn shown_on(mut self, fields: &[&str]) -> Self {
        let (shown, hidden): (Vec<_>, Vec<_>) = std::mem::take(&mut self.by_field)
            .into_iter()
            .partition(|(field, _)| fields.contains(&field.as_str()));
        self.by_field = shown;
        self.general
            .extend(hidden.into_iter().map(|(_, message)| message));
        self
    }

    /// Moves the errors that name no field onto `field` (a card decline belongs to the card).
    pub(crate) fn attach_general_to(mut self, field: &str) -> Self {
        for message in std::mem::take(&mut self.general) {
            self.add_to_field(field, &message);
        }
        self
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_field.is_empty() && self.general.is_empty()
    }

    /// The messages for `field`, joined.
    pub(crate) fn field(&self, field: &str) -> Option<String> {
        let messages: Vec<&str> = self
            .by_field
            .iter()
            .filter(|(name, _)| name == field)
            .map(|(_, message)| message.as_str())
            .collect();
        (!messages.is_empty()).then(|| messages.join(" "))
    }

    pub(crate) fn general(&self) -> &[String] {
        &self.general
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn field_errors_go_to_their_field_and_the_rest_to_the_top() {
        let errors = FormErrors::from_api(&json!({"errors": [
            {"message": "Email must be valid", "field": "email"},
            {"message": "Too short", "field": "password"},
            {"message": "Also wrong", "field": "password"},
            {"message": "Email in use"},
        ]}));
        assert_eq!(
            errors.field("email").as_deref(),
            Some("Email must be valid")
        );
        assert_eq!(
            errors.field("password").as_deref(),
            Some("Too short Also wrong")
        );
        assert_eq!(errors.field("title"), None);
        assert_eq!(errors.general(), ["Email in use"]);
        let moved = errors.attach_general_to("email");
        assert_eq!(
            moved.field("email").as_deref(),
            Some("Email must be valid Email in use")
        );
        assert!(moved.general().is_empty());
    }

    #[test]
    fn errors_of_fields_not_on_the_form_go_to_the_top() {
        let errors = FormErrors::from_api(&json!({"errors": [
            {"message": "bad min", "field": "minPrice"},
            {"message": "bad cursor", "field": "cursor"},
        ]}))
        .shown_on(&["minPrice", "maxPrice"]);
        assert_eq!(errors.field("minPrice").as_deref(), Some("bad min"));
        assert_eq!(errors.field("cursor"), None);
        assert_eq!(errors.general(), ["bad cursor"]);
    }

    #[test]
    fn a_refusal_without_errors_still_says_something() {
        assert!(!FormErrors::from_api(&json!({})).is_empty());
    }

    #[test]
    fn encodes_a_return_path() {
        assert_eq!(encode("/orders/1?x=a b&y"), "%2Forders%2F1%3Fx%3Da+b%26y");
    }
}
