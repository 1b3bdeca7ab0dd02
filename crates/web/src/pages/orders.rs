//! The buyer's orders, and one order's page: the countdown, the payment form, cancelling.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::checked_id;
use crate::card::test_instrument;
use crate::csrf::{CsrfForm, NoFields};
use crate::errors::{FormErrors, PageError};
use crate::views::{render, Layout, Order};
use crate::visitor::Visitor;
use crate::Web;

/// How long a payment waits for the order to show complete before going to its page anyway
/// (the page then says the payment is being confirmed, and updates itself).
const CONFIRMATION_WAIT: Duration = Duration::from_secs(3);

#[derive(askama::Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    layout: Layout,
    orders: Vec<Order>,
}

pub(crate) async fn list(State(web): State<Web>, visitor: Visitor) -> Result<Response, PageError> {
    let (layout, _) = web.signed_in_layout(&visitor).await?;
    let mut orders: Vec<Order> = web
        .api()
        .get(&visitor, "/api/orders")
        .await?
        .checked(&visitor)?
        .json()?;
    // Newest first: the order just made is the one the buyer looks for.
    orders.reverse();
    Ok(render(&OrdersPage { layout, orders })?.into_response())
}

#[derive(askama::Template)]
#[template(path = "order.html")]
struct OrderPage {
    layout: Layout,
    order: Order,
    errors: FormErrors,
    /// The charge went through; the order completes when the orders service hears of it.
    confirming: bool,
    stripe_publishable_key: Option<String>,
    stripe_js_url: String,
}

#[derive(Deserialize)]
pub(crate) struct Shown {
    #[serde(default)]
    paid: Option<String>,
}

async fn order_page(
    web: &Web,
    visitor: &Visitor,
    id: &str,
    errors: FormErrors,
    paid: bool,
) -> Result<OrderPage, PageError> {
    let (layout, _) = web.signed_in_layout(visitor).await?;
    let order = fetch(web, visitor, id).await?;
    Ok(OrderPage {
        confirming: paid && !order.is_complete(),
        layout,
        order,
        errors,
        stripe_publishable_key: web.settings().stripe_publishable_key.clone(),
        stripe_js_url: web.settings().stripe_js_url.clone(),
    })
}

/// The order's page answering a form that failed: `errors` on it, with `status`.
pub(super) async fn refused(
    web: &Web,
    visitor: &Visitor,
    id: &str,
    errors: FormErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let page = order_page(web, visitor, id, errors, false).await?;
    Ok((status, render(&page)?).into_response())
}

pub(super) async fn fetch(web: &Web, visitor: &Visitor, id: &str) -> Result<Order, PageError> {
    web.api()
        .get(visitor, &format!("/api/orders/{id}"))
        .await?
        .checked(visitor)?
        .json()
}

pub(crate) async fn show(
    State(web): State<Web>,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(shown): Query<Shown>,
) -> Result<Response, PageError> {
    let id = checked_id(&id)?;
    let page = order_page(
        &web,
        &visitor,
        id,
        FormErrors::default(),
        shown.paid.is_some(),
    )
    .await?;
    Ok(render(&page)?.into_response())
}

/// The payment form: a Stripe token from Stripe Elements, or one of Stripe's test card
/// numbers when no publishable key is configured.
#[derive(Deserialize)]
pub(crate) struct Payment {
    #[serde(default)]
    card: String,
    #[serde(default)]
    token: String,
}

pub(crate) async fn pay(
    State(web): State<Web>,
    visitor: Visitor,
    Path(id): Path<String>,
    CsrfForm(payment): CsrfForm<Payment>,
) -> Result<Response, PageError> {
    let id = checked_id(&id)?;
    let visitor = visitor.returning_to(&format!("/orders/{id}"));
    let instrument = if web.settings().stripe_publishable_key.is_some() {
        Some(payment.token.trim().to_owned()).filter(|t| !t.is_empty())
    } else {
        test_instrument(&payment.card).map(str::to_owned)
    };
    let Some(instrument) = instrument else {
        let mut errors = FormErrors::default();
        let message = if web.settings().stripe_publishable_key.is_some() {
            "Enter your card details."
        } else {
            "Use one of Stripe's test card numbers, such as 4242 4242 4242 4242."
        };
        errors.add_to_field("card", message);
        return refused(&web, &visitor, id, errors, StatusCode::BAD_REQUEST).await;
    };
    let body = if instrument.starts_with("pm_") {
        json!({"paymentMethod": instrument, "orderId": id})
    } else {
        json!({"token": instrument, "orderId": id})
    };
    let reply = web
        .act(&visitor, Method::POST, "/api/payments", Some(body))
        .await?;
    if !reply.is_success() {
        let errors = reply.errors().attach_general_to("card");
        return refused(&web, &visitor, id, errors, reply.status).await;
    }
    if reply.status == StatusCode::ACCEPTED {
        // The card asks for 3-D Secure: the buyer answers the challenge on its own page.
        let attempt = reply.body["id"].as_str().unwrap_or_default();
        return Ok(
            Redirect::to(&format!("/payments/{}/challenge", checked_id(attempt)?)).into_response(),
        );
    }
    Ok(paid(&web, &visitor, id).await)
}

/// Where a buyer goes once the payment went through: the order completes as soon as the
/// orders service hears of it, normally within milliseconds. Waiting a moment here lets the
/// order's page say so; otherwise it says the payment is being confirmed, and updates itself.
pub(super) async fn paid(web: &Web, visitor: &Visitor, id: &str) -> Response {
    let deadline = tokio::time::Instant::now() + CONFIRMATION_WAIT;
    while tokio::time::Instant::now() < deadline {
        // A failure to look is not a failed payment: the page below says it is confirming.
        if fetch(web, visitor, id)
            .await
            .is_ok_and(|order| order.is_complete())
        {
            return Redirect::to(&format!("/orders/{id}")).into_response();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Redirect::to(&format!("/orders/{id}?paid=1")).into_response()
}

pub(crate) async fn cancel(
    State(web): State<Web>,
    visitor: Visitor,
    Path(id): Path<String>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let id = checked_id(&id)?;
    let visitor = visitor.returning_to(&format!("/orders/{id}"));
    let reply = web
        .act(&visitor, Method::DELETE, &format!("/api/orders/{id}"), None)
        .await?;
    if reply.is_success() {
        return Ok(Redirect::to(&format!("/orders/{id}")).into_response());
    }
    refused(&web, &visitor, id, reply.errors(), reply.status).await
}
