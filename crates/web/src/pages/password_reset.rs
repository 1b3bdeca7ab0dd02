//! Password reset: ask for a link by email, then choose a new password from the link. Both
//! forms post to the auth API; the answer to a request is the same whether or not the address
//! has an account, and so is this page's.

use axum::extract::{Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::redirect_with_cookies;
use crate::csrf::CsrfForm;
use crate::errors::{FormErrors, PageError};
use crate::views::{render, Layout};
use crate::visitor::Visitor;
use crate::Web;

#[derive(askama::Template)]
#[template(path = "forgot_password.html")]
struct ForgotPasswordPage {
    layout: Layout,
    email: String,
    /// The request was taken: the page says a link is on its way if the address has an account.
    sent: bool,
    errors: FormErrors,
}

#[derive(Deserialize)]
pub(crate) struct ResetRequest {
    #[serde(default)]
    email: String,
}

pub(crate) async fn request_form(
    State(web): State<Web>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let page = ForgotPasswordPage {
        layout: web.layout(&visitor).await?,
        email: String::new(),
        sent: false,
        errors: FormErrors::default(),
    };
    Ok(render(&page)?.into_response())
}

pub(crate) async fn request(
    State(web): State<Web>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<ResetRequest>,
) -> Result<Response, PageError> {
    let reply = web
        .api()
        .send(
            &visitor,
            Method::POST,
            "/api/users/password-reset",
            Some(json!({"email": form.email})),
        )
        .await?
        .checked(&visitor)?;
    let page = ForgotPasswordPage {
        layout: web.layout(&visitor).await?,
        sent: reply.is_success(),
        errors: reply.errors().shown_on(&["email"]),
        email: form.email,
    };
    let status = if page.sent {
        axum::http::StatusCode::OK
    } else {
        reply.status
    };
    Ok((status, render(&page)?).into_response())
}

#[derive(askama::Template)]
#[template(path = "reset_password.html")]
struct ResetPasswordPage {
    layout: Layout,
    token: String,
    errors: FormErrors,
}

#[derive(Deserialize)]
pub(crate) struct Link {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub(crate) struct NewPassword {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

/// The page of the emailed link: the token rides along in the form, unchecked until it is used.
pub(crate) async fn reset_form(
    State(web): State<Web>,
    visitor: Visitor,
    Query(link): Query<Link>,
) -> Result<Response, PageError> {
    let page = ResetPasswordPage {
        layout: web.layout(&visitor).await?,
        token: link.token,
        errors: FormErrors::default(),
    };
    Ok(render(&page)?.into_response())
}

/// Sets the new password; the API signs this browser in (every other session ends) and the
/// visitor lands on the home page.
pub(crate) async fn reset(
    State(web): State<Web>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<NewPassword>,
) -> Result<Response, PageError> {
    let reply = web
        .api()
        .send(
            &visitor,
            Method::POST,
            "/api/users/password-reset/confirm",
            Some(json!({"token": form.token, "password": form.password})),
        )
        .await?
        .checked(&visitor)?;
    if reply.is_success() {
        return Ok(redirect_with_cookies("/", &reply));
    }
    let page = ResetPasswordPage {
        layout: web.layout(&visitor).await?,
        errors: reply.errors().shown_on(&["password"]),
        token: form.token,
    };
    Ok((reply.status, render(&page)?).into_response())
}
