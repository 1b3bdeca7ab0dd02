//! The 3-D Secure step of a payment whose card asks for it. With Stripe's keys, Stripe.js plays
//! the bank's challenge in the page and the form then asks payments for the outcome; in
//! simulator mode this page plays Stripe's test challenge itself: "Complete" or "Fail".

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::checked_id;
use super::orders::{fetch, paid, refused};
use crate::csrf::CsrfForm;
use crate::errors::{FormErrors, PageError};
use crate::views::{render, Layout, Order};
use crate::visitor::Visitor;
use crate::Web;

/// A payment attempt as `GET /api/payments/:id` answers it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Attempt {
    order_id: String,
    status: String,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    failure_reason: Option<String>,
}

impl Attempt {
    fn waits_for_the_buyer(&self) -> bool {
        self.status == "requires_action"
    }

    /// The money is held or taken: the order completes (or has).
    fn went_through(&self) -> bool {
        matches!(self.status.as_str(), "authorized" | "completed")
    }
}

#[derive(askama::Template)]
#[template(path = "challenge.html")]
struct ChallengePage {
    layout: Layout,
    payment_id: String,
    order: Order,
    client_secret: String,
    stripe_publishable_key: Option<String>,
    stripe_js_url: String,
    errors: FormErrors,
    /// Stripe.js starts the check as the page opens (not when it is offered again).
    start_at_once: bool,
}

async fn attempt(web: &Web, visitor: &Visitor, id: &str) -> Result<Attempt, PageError> {
    web.api()
        .get(visitor, &format!("/api/payments/{id}"))
        .await?
        .checked(visitor)?
        .json()
}

pub(crate) async fn show(
    State(web): State<Web>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = checked_id(&id)?;
    let visitor = visitor.returning_to(&format!("/payments/{id}/challenge"));
    let attempt = attempt(&web, &visitor, id).await?;
    if !attempt.waits_for_the_buyer() {
        // Answered already (or never asked): the order's page says where the payment stands.
        let order_id = checked_id(&attempt.order_id)?;
        return Ok(Redirect::to(&format!("/orders/{order_id}")).into_response());
    }
    let page = challenge_page(&web, &visitor, id, attempt, FormErrors::default(), true).await?;
    Ok(render(&page)?.into_response())
}

/// `complete` or `fail`: the buyer's answer to the simulator's test challenge. `done`: Stripe.js
/// has played the challenge; payments asks Stripe how it ended.
#[derive(Deserialize)]
pub(crate) struct Answer {
    #[serde(default)]
    answer: String,
}

pub(crate) async fn answer(
    State(web): State<Web>,
    visitor: Visitor,
    Path(id): Path<String>,
    CsrfForm(answer): CsrfForm<Answer>,
) -> Result<Response, PageError> {
    let id = checked_id(&id)?;
    let visitor = visitor.returning_to(&format!("/payments/{id}/challenge"));
    let before = attempt(&web, &visitor, id).await?;
    let order_id = checked_id(&before.order_id)?.to_owned();
    let complete = match answer.answer.as_str() {
        "complete" => true,
        "fail" => false,
        // Stripe.js answered: `before` is what Stripe says now.
        _ => return outcome(&web, &visitor, id, before).await,
    };
    let reply = web
        .act(
            &visitor,
            Method::POST,
            &format!("/api/payments/{id}/challenge"),
            Some(json!({"complete": complete})),
        )
        .await?;
    if reply.is_success() {
        return Ok(paid(&web, &visitor, &order_id).await);
    }
    // Declined (a failed challenge), or the payment could not be settled at once: the order's
    // page shows why, and the order can be paid again while it is open.
    let errors = reply.errors().attach_general_to("card");
    refused(&web, &visitor, &order_id, errors, reply.status).await
}

/// After Stripe.js: where the attempt stands decides the next page.
async fn outcome(
    web: &Web,
    visitor: &Visitor,
    id: &str,
    attempt: Attempt,
) -> Result<Response, PageError> {
    let order_id = checked_id(&attempt.order_id)?.to_owned();
    if attempt.went_through() {
        return Ok(paid(web, visitor, &order_id).await);
    }
    let mut errors = FormErrors::default();
    if attempt.waits_for_the_buyer() {
        // The check was closed or did not load: offered again, not started by itself, so a
        // check that fails at once cannot send the buyer round in circles.
        errors.add_to_field("challenge", "Your bank has not confirmed the payment yet.");
        let page = challenge_page(web, visitor, id, attempt, errors, false).await?;
        return Ok((StatusCode::CONFLICT, render(&page)?).into_response());
    }
    let reason = attempt
        .failure_reason
        .unwrap_or_else(|| "The payment was not completed.".to_owned());
    errors.add_to_field("card", &reason);
    refused(web, visitor, &order_id, errors, StatusCode::BAD_REQUEST).await
}

async fn challenge_page(
    web: &Web,
    visitor: &Visitor,
    id: &str,
    attempt: Attempt,
    errors: FormErrors,
    start_at_once: bool,
) -> Result<ChallengePage, PageError> {
    let (layout, _) = web.signed_in_layout(visitor).await?;
    Ok(ChallengePage {
        layout,
        payment_id: id.to_owned(),
        order: fetch(web, visitor, checked_id(&attempt.order_id)?).await?,
        client_secret: attempt.client_secret.unwrap_or_default(),
        stripe_publishable_key: web.settings().stripe_publishable_key.clone(),
        stripe_js_url: web.settings().stripe_js_url.clone(),
        errors,
        start_at_once,
    })
}
