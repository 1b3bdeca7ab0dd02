//! Email verification: the page of the welcome email's link, whose button confirms the address
//! (a link alone must change nothing: mail scanners open links), and "send the link again" on
//! the account page.

use axum::extract::{Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::csrf::{CsrfForm, NoFields};
use crate::errors::{FormErrors, PageError};
use crate::views::{render, Layout};
use crate::visitor::Visitor;
use crate::Web;

#[derive(askama::Template)]
#[template(path = "verify_email.html")]
struct VerifyEmailPage {
    layout: Layout,
    token: String,
    /// The address is confirmed.
    verified: bool,
    errors: FormErrors,
}

#[derive(Deserialize)]
pub(crate) struct Link {
    #[serde(default)]
    token: String,
}

pub(crate) async fn form(
    State(web): State<Web>,
    visitor: Visitor,
    Query(link): Query<Link>,
) -> Result<Response, PageError> {
    let page = VerifyEmailPage {
        layout: web.layout(&visitor).await?,
        token: link.token,
        verified: false,
        errors: FormErrors::default(),
    };
    Ok(render(&page)?.into_response())
}

pub(crate) async fn verify(
    State(web): State<Web>,
    visitor: Visitor,
    CsrfForm(link): CsrfForm<Link>,
) -> Result<Response, PageError> {
    let reply = web
        .api()
        .send(
            &visitor,
            Method::POST,
            "/api/users/verify-email",
            Some(json!({"token": link.token})),
        )
        .await?
        .checked(&visitor)?;
    let verified = reply.is_success();
    let page = VerifyEmailPage {
        layout: web.layout(&visitor).await?,
        errors: reply.errors().shown_on(&[]),
        token: if verified { String::new() } else { link.token },
        verified,
    };
    let status = if verified {
        axum::http::StatusCode::OK
    } else {
        reply.status
    };
    // Signed in as that account, the API renewed the cookie, which now says "verified".
    Ok(super::with_cookies(
        (status, render(&page)?).into_response(),
        &reply,
    ))
}

/// "Send the link again", from the account page, which then says what happened: a link sent,
/// the address confirmed already (on another device: the API renewed this cookie to say so), or
/// the account's limit reached.
pub(crate) async fn resend(
    State(web): State<Web>,
    visitor: Visitor,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let reply = web
        .act(
            &visitor,
            Method::POST,
            "/api/users/verify-email/resend",
            None,
        )
        .await?;
    let outcome = if !reply.is_success() {
        "limited"
    } else if reply.body["emailVerified"] == true {
        "already"
    } else {
        "sent"
    };
    Ok(super::redirect_with_cookies(
        &format!("/account?verification={outcome}"),
        &reply,
    ))
}
