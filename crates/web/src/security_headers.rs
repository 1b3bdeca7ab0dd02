//! Headers every page carries: no framing, no type sniffing, and scripts and styles only from
//! GitTix itself (and Stripe.js, whose Elements run in Stripe's own frames).

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;

/// Where Stripe.js comes from unless `STRIPE_JS_URL` says otherwise.
pub const STRIPE_JS_URL: &str = "https://js.stripe.com/v3/";
const STRIPE_JS_ORIGIN: &str = "https://js.stripe.com";
/// Where "Set up payouts" sends a seller: Stripe's hosted onboarding. A form's redirect to it
/// is covered by `form-action`, which would otherwise stop it.
const STRIPE_CONNECT_ORIGIN: &str = "https://connect.stripe.com";

/// The Content-Security-Policy of the pages: GitTix, plus wherever Stripe.js is loaded from
/// (js.stripe.com, or a Stripe stand-in that serves its own Stripe.js and answers its calls).
#[derive(Clone)]
pub(crate) struct Policy(HeaderValue);

impl Policy {
    pub(crate) fn new(stripe_js_url: &str) -> Self {
        let origin = origin(stripe_js_url);
        // Stripe.js loads parts of itself from subdomains of js.stripe.com.
        let stripe = if origin == STRIPE_JS_ORIGIN {
            format!("{origin} https://*.js.stripe.com")
        } else {
            origin.to_owned()
        };
        let policy = format!(
            "default-src 'self'; script-src 'self' {stripe}; \
             frame-src {stripe} https://hooks.stripe.com; \
             connect-src 'self' https://api.stripe.com {stripe}; img-src 'self' data:; style-src 'self'; \
             base-uri 'none'; form-action 'self' {STRIPE_CONNECT_ORIGIN}; frame-ancestors 'none'"
        );
        // An origin with characters a header cannot carry falls back to Stripe's own.
        let value = HeaderValue::from_str(&policy).unwrap_or_else(|_| Self::new(STRIPE_JS_URL).0);
        Self(value)
    }
}

/// `scheme://host[:port]` of a URL (the whole text when it has no path).
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |at| at + 3);
    match url[after_scheme..].find('/') {
        Some(slash) => &url[..after_scheme + slash],
        None => url,
    }
}

pub(crate) async fn add(State(policy): State<Policy>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(policy.0);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "same-origin");
    response
}

fn set(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    headers
        .entry(name)
        .or_insert(HeaderValue::from_static(value));
}

#[cfg(test)]
mod tests {
    use super::{origin, Policy, STRIPE_JS_URL};

    #[test]
    fn the_origin_of_stripe_js_is_allowed_for_scripts_and_calls() {
        assert_eq!(origin(STRIPE_JS_URL), "https://js.stripe.com");
        let stripes = Policy::new(STRIPE_JS_URL);
        assert!(stripes
            .0
            .to_str()
            .unwrap()
            .contains("script-src 'self' https://js.stripe.com https://*.js.stripe.com;"));
        assert_eq!(
            origin("http://127.0.0.1:8420/js.stripe.com/v3/"),
            "http://127.0.0.1:8420"
        );
        let policy = Policy::new("http://127.0.0.1:8420/js.stripe.com/v3/");
        let policy = policy.0.to_str().unwrap();
        assert!(policy.contains("script-src 'self' http://127.0.0.1:8420;"));
        assert!(policy.contains("connect-src 'self' https://api.stripe.com http://127.0.0.1:8420;"));
        // The payouts form redirects to Stripe's hosted onboarding; nowhere else.
        assert!(policy.contains("form-action 'self' https://connect.stripe.com;"));
    }

    #[test]
    fn a_url_no_header_can_carry_falls_back_to_stripes() {
        let policy = Policy::new("https://bad\nhost/v3/");
        assert!(policy
            .0
            .to_str()
            .unwrap()
            .contains("script-src 'self' https://js.stripe.com https://*.js.stripe.com;"));
    }
}
