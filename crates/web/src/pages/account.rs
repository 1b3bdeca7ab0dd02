//! Sign up, sign in and sign out: forms posting to the auth API, whose cookie is passed on.

use axum::extract::{Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{local_path, redirect_with_cookies};
use crate::csrf::{CsrfForm, NoFields};
use crate::errors::{FormErrors, PageError};
use crate::views::{render, Layout};
use crate::visitor::Visitor;
use crate::Web;

#[derive(askama::Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    kind: Kind,
    email: String,
    next: String,
    errors: FormErrors,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    SignUp,
    SignIn,
}

impl AccountPage {
    fn heading(&self) -> &'static str {
        match self.kind {
            Kind::SignUp => "Sign up",
            Kind::SignIn => "Sign in",
        }
    }

    fn action(&self) -> &'static str {
        match self.kind {
            Kind::SignUp => "/auth/signup",
            Kind::SignIn => "/auth/signin",
        }
    }

    fn is_sign_up(&self) -> bool {
        self.kind == Kind::SignUp
    }

    /// The ids of the hint and the error under the password field, for screen readers.
    fn password_described_by(&self) -> Option<String> {
        let ids: Vec<&str> = [
            self.is_sign_up().then_some("password-hint"),
            self.errors.field("password").map(|_| "password-error"),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!ids.is_empty()).then(|| ids.join(" "))
    }
}

#[derive(Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub(crate) async fn signup_form(
    State(web): State<Web>,
    visitor: Visitor,
    Query(next): Query<Next>,
) -> Result<Response, PageError> {
    form(&web, &visitor, Kind::SignUp, next.next).await
}

pub(crate) async fn signin_form(
    State(web): State<Web>,
    visitor: Visitor,
    Query(next): Query<Next>,
) -> Result<Response, PageError> {
    form(&web, &visitor, Kind::SignIn, next.next).await
}

async fn form(
    web: &Web,
    visitor: &Visitor,
    kind: Kind,
    next: Option<String>,
) -> Result<Response, PageError> {
    let page = AccountPage {
        layout: web.layout(visitor).await?,
        kind,
        email: String::new(),
        next: local_path(next.as_deref()),
        errors: FormErrors::default(),
    };
    Ok(render(&page)?.into_response())
}

pub(crate) async fn signup(
    State(web): State<Web>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<Credentials>,
) -> Result<Response, PageError> {
    submit(&web, &visitor, Kind::SignUp, form).await
}

pub(crate) async fn signin(
    State(web): State<Web>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<Credentials>,
) -> Result<Response, PageError> {
    submit(&web, &visitor, Kind::SignIn, form).await
}

async fn submit(
    web: &Web,
    visitor: &Visitor,
    kind: Kind,
    form: Credentials,
) -> Result<Response, PageError> {
    let path = match kind {
        Kind::SignUp => "/api/users/signup",
        Kind::SignIn => "/api/users/signin",
    };
    let body = json!({"email": form.email, "password": form.password});
    let reply = web
        .api()
        .send(visitor, Method::POST, path, Some(body))
        .await?
        .checked(visitor)?;
    let next = local_path(form.next.as_deref());
    if reply.is_success() {
        return Ok(redirect_with_cookies(&next, &reply));
    }
    let mut errors = reply.errors();
    if kind == Kind::SignUp {
        // "Email in use" is about the email field.
        errors = errors.attach_general_to("email");
    }
    let page = AccountPage {
        layout: web.layout(visitor).await?,
        kind,
        email: form.email,
        next,
        errors,
    };
    Ok((reply.status, render(&page)?).into_response())
}

/// The account page: the email and whether it is confirmed, and signing out.
#[derive(askama::Template)]
#[template(path = "signout.html")]
struct SignOutPage {
    layout: Layout,
    /// What became of "send the link again": `sent` or `limited`.
    verification: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct AccountQuery {
    verification: Option<String>,
}

pub(crate) async fn account_page(
    State(web): State<Web>,
    visitor: Visitor,
    Query(query): Query<AccountQuery>,
) -> Result<Response, PageError> {
    let page = SignOutPage {
        layout: web.layout(&visitor).await?,
        verification: query.verification,
    };
    Ok(render(&page)?.into_response())
}

pub(crate) async fn signout(
    State(web): State<Web>,
    visitor: Visitor,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    end_sessions(&web, &visitor, "/api/users/signout").await
}

/// Ends every session of the account, on every device, this one included.
pub(crate) async fn signout_everywhere(
    State(web): State<Web>,
    visitor: Visitor,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    end_sessions(&web, &visitor, "/api/users/signout-everywhere").await
}

async fn end_sessions(web: &Web, visitor: &Visitor, path: &str) -> Result<Response, PageError> {
    let reply = web
        .api()
        .send(visitor, Method::POST, path, None)
        .await?
        .checked(visitor)?;
    Ok(redirect_with_cookies("/", &reply))
}
