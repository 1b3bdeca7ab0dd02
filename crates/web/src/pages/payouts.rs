//! Payouts: whether the seller can be paid, the way to set it up (Stripe's hosted onboarding,
//! or in simulator mode GitTix's page that plays it), and each sale's payout.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::csrf::{CsrfForm, NoFields};
use crate::errors::{FormErrors, PageError};
use crate::views::{dollars, render, when_label, Layout};
use crate::visitor::Visitor;
use crate::Web;

#[derive(askama::Template)]
#[template(path = "payouts.html")]
struct PayoutsPage {
    layout: Layout,
    /// `none`, `pending` or `enabled`.
    status: String,
    /// Stripe's onboarding link had expired: the seller came back to get a new one.
    link_expired: bool,
    payouts: Vec<Payout>,
    errors: FormErrors,
}

/// One of the seller's payouts, as `GET /api/payouts` gives it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payout {
    ticket_id: String,
    amount: f64,
    fee: f64,
    status: String,
    release_at: String,
    paid_at: Option<String>,
    reason: Option<String>,
}

impl Payout {
    fn amount_label(&self) -> String {
        dollars(self.amount)
    }

    fn fee_label(&self) -> String {
        dollars(self.fee)
    }

    fn status_label(&self) -> &'static str {
        match self.status.as_str() {
            "held" => "Held",
            "paid" => "Paid",
            "failed" => "Retrying",
            "cancelled" => "Cancelled (refunded)",
            "reversed" => "Reversed (refunded)",
            _ => "Unknown",
        }
    }

    /// When the money went, or when it is due to.
    fn when_label(&self) -> String {
        match &self.paid_at {
            Some(paid_at) => format!("Paid {}", when_label(paid_at)),
            None => format!("Released {}", when_label(&self.release_at)),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "onboarding.html")]
struct OnboardingPage {
    layout: Layout,
    account: String,
}

#[derive(Deserialize)]
struct AccountState {
    status: String,
}

#[derive(Deserialize)]
struct OnboardingLink {
    url: String,
}

#[derive(Deserialize)]
pub(crate) struct Back {
    onboarding: Option<String>,
}

pub(crate) async fn show(
    State(web): State<Web>,
    visitor: Visitor,
    Query(back): Query<Back>,
) -> Result<Response, PageError> {
    let expired = back.onboarding.as_deref() == Some("expired");
    Ok(page(&web, &visitor, expired, FormErrors::default())
        .await?
        .into_response())
}

async fn page(
    web: &Web,
    visitor: &Visitor,
    link_expired: bool,
    errors: FormErrors,
) -> Result<axum::response::Html<String>, PageError> {
    let (layout, _) = web.signed_in_layout(visitor).await?;
    let account: AccountState = web
        .api()
        .get(visitor, "/api/payouts/account")
        .await?
        .checked(visitor)?
        .json()?;
    let payouts: Vec<Payout> = web
        .api()
        .get(visitor, "/api/payouts")
        .await?
        .checked(visitor)?
        .json()?;
    render(&PayoutsPage {
        layout,
        status: account.status,
        link_expired,
        payouts,
        errors,
    })
}

/// "Set up payouts" / "Continue": to the onboarding link the API gives.
pub(crate) async fn start(
    State(web): State<Web>,
    visitor: Visitor,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let visitor = visitor.returning_to("/payouts");
    let reply = web
        .act(&visitor, Method::POST, "/api/payouts/account", None)
        .await?;
    if reply.is_success() {
        let link: OnboardingLink = reply.json()?;
        return Ok(Redirect::to(&link.url).into_response());
    }
    let status = reply.status;
    let page = page(&web, &visitor, false, reply.errors()).await?;
    Ok((status, page).into_response())
}

/// The simulator's onboarding, in place of Stripe's hosted form.
pub(crate) async fn onboarding_form(
    State(web): State<Web>,
    visitor: Visitor,
    Path(account): Path<String>,
) -> Result<Response, PageError> {
    let account = account_id(&account)?;
    let (layout, _) = web.signed_in_layout(&visitor).await?;
    Ok(render(&OnboardingPage {
        layout,
        account: account.to_owned(),
    })?
    .into_response())
}

/// "Complete" on the simulator's onboarding: the seller's account is enabled.
pub(crate) async fn complete_onboarding(
    State(web): State<Web>,
    visitor: Visitor,
    Path(account): Path<String>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    account_id(&account)?;
    let visitor = visitor.returning_to("/payouts");
    let reply = web
        .act(
            &visitor,
            Method::POST,
            "/api/payouts/account/onboarding",
            None,
        )
        .await?;
    if reply.is_success() {
        return Ok(Redirect::to("/payouts").into_response());
    }
    let status = reply.status;
    let page = page(&web, &visitor, false, reply.errors()).await?;
    Ok((status, page).into_response())
}

/// A Stripe account id from the address bar: letters, digits and underscores.
fn account_id(id: &str) -> Result<&str, PageError> {
    let plain = id.starts_with("acct_")
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    plain.then_some(id).ok_or(PageError::NotFound)
}
