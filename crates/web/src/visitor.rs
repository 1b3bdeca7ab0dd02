//! Who is asking for a page: their session cookie (passed on to the APIs), their address (for
//! the APIs' rate limits), the request id (so one page view can be followed into the services'
//! logs), the token for their forms, and the page they asked for (to come back after signing in).

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderValue;
use axum_extra::extract::cookie::CookieJar;
use gittix_shared::http::client_address;
use gittix_shared::session::SESSION_COOKIE;

use crate::csrf::FormToken;
use crate::Web;

#[derive(Debug, Clone)]
pub(crate) struct Visitor {
    /// The session token, if the browser sent one (valid or not: the APIs decide).
    pub session: Option<String>,
    /// The browser's address: the connection's, or behind a trusted gateway the one
    /// `X-Forwarded-For` vouches for, as the services themselves read it (`client_address`).
    pub address: Option<IpAddr>,
    pub request_id: Option<HeaderValue>,
    pub form_token: String,
    /// Path and query of this page.
    pub page: String,
}

impl FromRequestParts<Web> for Visitor {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        let address = match peer {
            Some(peer) if web.settings().trust_proxy => Some(client_address(peer, forwarded)),
            peer => peer,
        };
        let session = CookieJar::from_headers(&parts.headers)
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_owned())
            // A JWT is base64url and dots; anything else cannot be one, and would not fit in
            // the header passed on to the APIs.
            .filter(|token| {
                !token.is_empty()
                    && token
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            });
        Ok(Self {
            session,
            address,
            request_id: parts.headers.get("x-request-id").cloned(),
            form_token: parts
                .extensions
                .get::<FormToken>()
                .map(|FormToken(token)| token.clone())
                .unwrap_or_default(),
            page: parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
        })
    }
}

impl Visitor {
    /// Nobody in particular: for the readiness probe.
    pub(crate) fn anonymous() -> Self {
        Self {
            session: None,
            address: None,
            request_id: None,
            form_token: String::new(),
            page: "/".to_owned(),
        }
    }

    /// The same visitor, to be sent back to `page` after signing in: a form's own address
    /// takes only POST, so the way back is the page that showed the form.
    pub(crate) fn returning_to(mut self, page: &str) -> Self {
        page.clone_into(&mut self.page);
        self
    }
}
