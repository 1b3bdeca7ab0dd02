//! What every GitTix answer and request passes through, whatever the service:
//!
//! - an answer to a request that carries the session cookie, or that sets a cookie, is private:
//!   `Cache-Control: no-store` (unless it says how to cache itself, as the public assets do), so
//!   neither a shared cache nor the back button shows one user's orders to another;
//! - a state-changing request that carries the session cookie but comes from another site's
//!   page (its `Origin` names another host, or `null`) is refused with 403, sign-out included:
//!   `SameSite=Lax` already keeps the cookie off most such requests, and this refuses the rest
//!   (a sibling subdomain, an old browser);
//! - a client's `X-Request-Id` is kept only when it is short and plain (at most 64 letters,
//!   digits and `-_.:`); any other is replaced by a new one, so a client cannot fill the logs or
//!   forge lines with it.

use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, HOST, ORIGIN, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;

use crate::error::ApiError;
use crate::session::SESSION_COOKIE;

/// The longest client request id kept.
pub const MAX_REQUEST_ID_LEN: usize = 64;

pub(crate) async fn no_store_when_private(request: Request, next: Next) -> Response {
    let signed_in = has_session_cookie(request.headers());
    let mut response = next.run(request).await;
    // An answer that says how to cache itself (the pages' public assets) is left as it is.
    let private = signed_in || response.headers().contains_key(SET_COOKIE);
    if private && !response.headers().contains_key(CACHE_CONTROL) {
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

pub(crate) async fn refuse_cross_site_writes(request: Request, next: Next) -> Response {
    let writes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if writes && has_session_cookie(request.headers()) && is_cross_site(request.headers()) {
        return ApiError::CrossSite.into_response();
    }
    next.run(request).await
}

pub(crate) async fn drop_unfit_request_id(mut request: Request, next: Next) -> Response {
    let fit = request
        .headers()
        .get(crate::http::REQUEST_ID.as_str())
        .map(|id| is_fit_request_id(id.as_bytes()));
    if fit == Some(false) {
        request
            .headers_mut()
            .remove(crate::http::REQUEST_ID.as_str());
    }
    next.run(request).await
}

fn is_fit_request_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Whether the request carries a non-empty session cookie (read as the session extractor
/// reads it).
fn has_session_cookie(headers: &HeaderMap) -> bool {
    CookieJar::from_headers(headers)
        .get(SESSION_COOKIE)
        .is_some_and(|cookie| !cookie.value().is_empty())
}

/// Whether `Origin` names a host other than the one asked (`Host`). Ports are not compared:
/// cookies are not kept per port either, and a gateway may drop the port from `Host`. No
/// `Origin` (a same-origin GET-made form in an old browser, a script, a server) is not
/// cross-site.
fn is_cross_site(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return false;
    };
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
        .map(|(_, authority)| host_of(authority));
    let host = headers
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .map(host_of);
    match (origin_host, host) {
        (Some(origin), Some(host)) => !origin.eq_ignore_ascii_case(host),
        // `Origin: null` (a sandboxed frame, a cross-site redirect) or no `Host`.
        _ => true,
    }
}

/// The host of an authority (`host[:port]`, `[v6]:port`), without the port.
fn host_of(authority: &str) -> &str {
    let authority = authority.trim_end_matches('/');
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    authority.split(':').next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn a_foreign_or_null_origin_is_cross_site_and_the_same_host_is_not() {
        let host = ("host", "shop.example:8080");
        for (origin, cross) in [
            ("https://shop.example", false),
            ("http://SHOP.example:3000", false),
            ("https://evil.example", true),
            ("https://shop.example.evil.example", true),
            ("null", true),
            ("garbage", true),
        ] {
            assert_eq!(
                is_cross_site(&headers(&[host, ("origin", origin)])),
                cross,
                "{origin}"
            );
        }
        assert!(!is_cross_site(&headers(&[host])));
        assert!(is_cross_site(&headers(&[(
            "origin",
            "https://shop.example"
        )])));
        let v6 = headers(&[("host", "[::1]:3000"), ("origin", "http://[::1]:4000")]);
        assert!(!is_cross_site(&v6));
    }

    #[test]
    fn only_a_non_empty_session_cookie_counts() {
        assert!(has_session_cookie(&headers(&[(
            "cookie",
            "a=b; session=t"
        )])));
        assert!(!has_session_cookie(&headers(&[(
            "cookie",
            "session=; csrf=x"
        )])));
        assert!(!has_session_cookie(&headers(&[("cookie", "sessions=t")])));
        assert!(!has_session_cookie(&headers(&[])));
    }

    #[test]
    fn request_ids_are_kept_only_short_and_plain() {
        assert!(is_fit_request_id(b"c71a272b-9eeb-43d2-8b58-70de73f0c5ac"));
        assert!(is_fit_request_id(b"gateway:1.2_3"));
        assert!(!is_fit_request_id(b""));
        assert!(!is_fit_request_id(&[b'a'; MAX_REQUEST_ID_LEN + 1]));
        assert!(!is_fit_request_id(b"id with spaces"));
        assert!(!is_fit_request_id("\u{202e}evil".as_bytes()));
    }
}
