//! Headers every page carries: no framing, no type sniffing, and scripts and styles only from
//! GitTix itself (and Stripe, whose Elements run in Stripe's own frames).

use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;

const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; script-src 'self' https://js.stripe.com; \
     frame-src https://js.stripe.com https://hooks.stripe.com; \
     connect-src 'self' https://api.stripe.com; img-src 'self' data:; style-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub(crate) async fn add(mut response: Response) -> Response {
    let headers = response.headers_mut();
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        CONTENT_SECURITY_POLICY,
    );
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
