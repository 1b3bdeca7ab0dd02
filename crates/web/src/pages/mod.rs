//! The pages, one module per part of the site.

mod account;
mod browse;
mod challenge;
mod delivery;
mod events;
mod listings;
mod orders;
mod password_reset;
mod payouts;
mod tickets;
mod verify_email;

use axum::http::{header, Method};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use crate::api::Reply;
use crate::errors::PageError;
use crate::views::{Layout, User};
use crate::visitor::Visitor;
use crate::Web;

pub(crate) fn routes() -> Router<Web> {
    Router::new()
        .route("/", get(browse::home))
        .route(
            "/auth/signup",
            get(account::signup_form).post(account::signup),
        )
        .route(
            "/auth/signin",
            get(account::signin_form).post(account::signin),
        )
        .route("/account", get(account::account_page))
        // The account page also answers here, where the original client's sign-out page was.
        .route(
            "/auth/signout",
            get(account::account_page).post(account::signout),
        )
        .route(
            "/auth/signout-everywhere",
            post(account::signout_everywhere),
        )
        .route(
            "/auth/forgot-password",
            get(password_reset::request_form).post(password_reset::request),
        )
        .route(
            "/auth/reset-password",
            get(password_reset::reset_form).post(password_reset::reset),
        )
        .route(
            "/auth/verify-email",
            get(verify_email::form).post(verify_email::verify),
        )
        .route("/auth/verify-email/resend", post(verify_email::resend))
        .route("/tickets/new", get(tickets::sell_form).post(tickets::sell))
        .route("/tickets/{id}", get(tickets::show))
        .route("/tickets/{id}/purchase", post(tickets::purchase))
        .route(
            "/tickets/{id}/edit",
            get(tickets::edit_form).post(tickets::edit),
        )
        .route("/tickets/{id}/withdraw", post(tickets::withdraw))
        .route("/orders", get(orders::list))
        .route("/orders/{id}", get(orders::show))
        .route("/orders/{id}/pay", post(orders::pay))
        .route("/orders/{id}/cancel", post(orders::cancel))
        .route(
            "/payments/{id}/challenge",
            get(challenge::show).post(challenge::answer),
        )
        .route("/listings", get(listings::list))
        .route("/tickets/{id}/file", delivery::file_route())
        .route("/my-tickets", get(delivery::my_tickets))
        .route("/events/new", get(events::new_form).post(events::create))
        .route("/events/{id}", get(events::show))
        .route("/payouts", get(payouts::show))
        .route("/payouts/account", post(payouts::start))
        .route(
            "/payouts/onboarding/{account}",
            get(payouts::onboarding_form).post(payouts::complete_onboarding),
        )
}

impl Web {
    /// The header for this visitor: who is signed in, according to the auth API.
    pub(crate) async fn layout(&self, visitor: &Visitor) -> Result<Layout, PageError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct CurrentUser {
            current_user: Option<User>,
        }
        let user = if visitor.session.is_some() {
            let reply = self
                .api()
                .get(visitor, "/api/users/currentuser")
                .await?
                .checked(visitor)?;
            reply.json::<CurrentUser>()?.current_user
        } else {
            None
        };
        Ok(Layout {
            user,
            form_token: visitor.form_token.clone(),
            show_nav: true,
        })
    }

    /// Sends a change on behalf of a signed-in visitor: visitors not signed in go to sign in
    /// first (and come back to their page), and answers no form can show become the page's
    /// error. What is left is success or a refusal to show on the form.
    pub(crate) async fn act(
        &self,
        visitor: &Visitor,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Reply, PageError> {
        self.require_sign_in(visitor).await?;
        self.api()
            .send(visitor, method, path, body)
            .await?
            .checked(visitor)
    }

    /// Sends visitors who are not signed in (no session, or an expired or foreign one) to sign
    /// in first, so that a 401 from the API afterwards can only mean someone else's thing.
    pub(crate) async fn require_sign_in(&self, visitor: &Visitor) -> Result<(), PageError> {
        self.signed_in_layout(visitor).await.map(drop)
    }

    /// The layout of a page only signed-in visitors may see; others go to sign in first.
    pub(crate) async fn signed_in_layout(
        &self,
        visitor: &Visitor,
    ) -> Result<(Layout, User), PageError> {
        let layout = self.layout(visitor).await?;
        match layout.user.clone() {
            Some(user) => Ok((layout, user)),
            None => Err(PageError::SignInRequired(visitor.page.clone())),
        }
    }
}

/// Ids from the address bar go into API paths: only the characters of a UUID may pass, so a
/// crafted id cannot add a query or climb to another route.
pub(crate) fn checked_id(id: &str) -> Result<&str, PageError> {
    let plain = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    plain.then_some(id).ok_or(PageError::NotFound)
}

/// 303 to `to`, passing on the cookies the API set (sign-in, sign-out).
pub(crate) fn redirect_with_cookies(to: &str, reply: &Reply) -> Response {
    with_cookies(Redirect::to(to).into_response(), reply)
}

/// `response`, passing on the cookies the API set in `reply`.
pub(crate) fn with_cookies(mut response: Response, reply: &Reply) -> Response {
    for cookie in reply.set_cookies() {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookie.clone());
    }
    response
}

/// Where to go after signing in: only a path on this site, never another site.
pub(crate) fn local_path(next: Option<&str>) -> String {
    match next {
        // Browsers drop tabs and newlines from addresses, so `/\t/evil.example` would become
        // `//evil.example`: only visible ASCII passes.
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && path.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_could_reach_another_route_are_refused() {
        assert!(checked_id("0192f7a4-1c2b-7d3e-8f90-123456789abc").is_ok());
        for bad in [
            "",
            "a?b=1",
            "../users",
            "a/b",
            "a%2Fb",
            "a b",
            &"a".repeat(65),
        ] {
            assert!(checked_id(bad).is_err(), "{bad:?} passed");
        }
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path(Some("/orders/1?x=2")), "/orders/1?x=2");
        for away in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "orders",
        ] {
            assert_eq!(local_path(Some(away)), "/", "{away}");
        }
        assert_eq!(local_path(None), "/");
    }
}
