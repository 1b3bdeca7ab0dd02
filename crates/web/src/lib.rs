//! The web service: server-rendered pages for buying and selling, at every path outside `/api`.
//!
//! It owns no data. Every page asks the services' HTTP APIs with the visitor's session cookie,
//! through the same routes a script would use: in embedded mode by calling the API router in
//! this process, in distributed mode over HTTP through the gateway. Forms work without
//! JavaScript and carry a CSRF token; two small scripts only enhance (the order countdown and
//! live status, and Stripe Elements when a publishable key is configured).

mod api;
mod assets;
mod card;
mod config;
mod csrf;
mod errors;
mod pages;
mod security_headers;
mod views;
mod visitor;

use std::sync::Arc;

use axum::Router;
use gittix_shared::http::TrustProxy;

pub use api::Api;
pub use config::WebConfig;

use security_headers::Policy;

/// What the pages need: the way to the APIs, the key of the form tokens, and how payments
/// take cards.
#[derive(Clone)]
pub(crate) struct WebSettings {
    pub api: Api,
    /// Signs the CSRF tokens (derived from `FORM_KEY`, or embedded mode's own secret).
    pub form_key: [u8; 32],
    /// Whether the CSRF cookie carries `Secure` (as the session cookie does).
    pub secure_cookies: bool,
    /// Whether `X-Forwarded-For` may be believed (`TRUST_PROXY`): the visitor's address is then
    /// read from it as the services read it (from the right, past internal addresses), and
    /// passed on to the APIs for their per-client limits.
    pub trust_proxy: bool,
    /// With a Stripe publishable key the payment form uses Stripe Elements; without one it
    /// takes Stripe's test card numbers (the simulator, or a Stripe stand-in).
    pub stripe_publishable_key: Option<String>,
    /// Where the pages load Stripe.js from.
    pub stripe_js_url: String,
    /// The pages' Content-Security-Policy, which lets Stripe.js in from there.
    pub policy: Policy,
}

/// What the form key is derived for, so the secret it comes from could serve another purpose
/// without the two sharing a key.
const FORM_KEY_PURPOSE: &[u8] = b"gittix web form tokens";

#[derive(Clone)]
pub(crate) struct Web {
    inner: Arc<WebSettings>,
}

impl Web {
    pub(crate) fn api(&self) -> &Api {
        &self.inner.api
    }

    pub(crate) fn settings(&self) -> &WebSettings {
        &self.inner
    }
}

/// The web service: the pages and their assets, reaching the APIs through `api` (in-process in
/// embedded mode, over HTTP with `serve web`). Both modes call this. Merge it with the API routes
/// (in embedded mode) and finish with [`with_not_found`], then
/// `gittix_shared::http::with_layers_only`.
///
/// The pages verify no session themselves (the APIs do), so they hold no session key: only
/// `form_secret`, the secret of their CSRF tokens, and whether cookies are `Secure`.
pub fn build(
    config: &WebConfig,
    api: Api,
    form_secret: &[u8],
    secure_cookies: bool,
    trust_proxy: TrustProxy,
) -> Router {
    router(WebSettings {
        api,
        form_key: form_key(form_secret),
        secure_cookies,
        trust_proxy: trust_proxy.0,
        stripe_publishable_key: config.stripe_publishable_key.clone(),
        stripe_js_url: config.stripe_js_url.clone(),
        policy: Policy::new(&config.stripe_js_url),
    })
}

fn form_key(secret: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(FORM_KEY_PURPOSE);
    mac.finalize().into_bytes().into()
}

fn router(settings: WebSettings) -> Router {
    let web = Web {
        inner: Arc::new(settings),
    };
    pages::routes()
        .merge(assets::routes())
        .layer(axum::middleware::from_fn_with_state(
            web.clone(),
            csrf::issue_cookie,
        ))
        .layer(axum::middleware::map_response_with_state(
            web.settings().policy.clone(),
            security_headers::add,
        ))
        .with_state(web)
}

/// Unknown paths and methods: a page for people (with the pages' headers), the API's JSON 404
/// under `/api`.
pub fn with_not_found(router: Router, config: &WebConfig) -> Router {
    let policy = Policy::new(&config.stripe_js_url);
    let on_method = policy.clone();
    router
        .fallback(move |uri| errors::fallback(uri, policy.clone()))
        .method_not_allowed_fallback(move |uri| errors::fallback(uri, on_method.clone()))
}
