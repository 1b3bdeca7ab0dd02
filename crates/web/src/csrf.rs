//! Cross-site request forgery protection with a signed double-submit cookie.
//!
//! Every visitor gets a random cookie, and every form carries a token: the HMAC, under a server
//! key, of that cookie and of the visitor's session token. Another site can make the browser
//! send the cookies but cannot read them, so it cannot write the matching token into a forged
//! form. Binding the session means a cookie planted from elsewhere (a sibling subdomain, say)
//! together with a token the attacker got for it is useless against a signed-in victim; with
//! `Secure` cookies the cookie is also named `__Host-csrf`, which browsers let only this host
//! set. Unlike a token kept server-side this needs no storage, and it protects the sign-up and
//! sign-in forms of visitors not yet signed in.

use axum::extract::{FromRequest, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::de::DeserializeOwned;
use sha2::Sha256;

use crate::errors::PageError;
use crate::Web;

const COOKIE: &str = "csrf";
/// The cookie's name with `Secure` cookies: only this host, over HTTPS, can set it.
const HOST_ONLY_COOKIE: &str = "__Host-csrf";
/// The hidden form field holding the token.
const FIELD: &str = "csrf";
const NONCE_BYTES: usize = 32;

/// The token this visitor's forms carry (put in the request by [`issue_cookie`]).
#[derive(Debug, Clone)]
pub(crate) struct FormToken(pub String);

/// Gives a visitor without a (well-formed) `csrf` cookie a new one, and hands the handlers the
/// matching form token.
pub(crate) async fn issue_cookie(
    State(web): State<Web>,
    jar: CookieJar,
    mut request: Request,
    next: Next,
) -> Response {
    let name = cookie_name(&web);
    let existing = jar
        .get(name)
        .map(|c| c.value().to_owned())
        .filter(|nonce| is_well_formed(nonce));
    let fresh = existing.is_none();
    let nonce = existing.unwrap_or_else(new_nonce);
    let token = token_for(&web.settings().form_key, &nonce, session_of(&jar));
    request.extensions_mut().insert(FormToken(token));
    let mut response = next.run(request).await;
    if fresh {
        let cookie = Cookie::build((name, nonce))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(web.settings().secure_cookies)
            .build();
        if let Ok(value) = cookie.to_string().parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// A form body whose CSRF token matches the visitor's cookie.
pub(crate) struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Web> for CsrfForm<T> {
    type Rejection = PageError;

    async fn from_request(request: Request, web: &Web) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(request.headers());
        let nonce = jar.get(cookie_name(web)).map(|c| c.value().to_owned());
        let session = session_of(&jar).to_owned();
        let body = axum::body::Bytes::from_request(request, web)
            .await
            .map_err(|_| PageError::BadForm)?;
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&body).map_err(|_| PageError::BadForm)?;
        let token = fields
            .iter()
            .find(|(name, _)| name == FIELD)
            .map(|(_, v)| v);
        let genuine = match (nonce, token) {
            (Some(nonce), Some(token)) => verify(&web.settings().form_key, &nonce, &session, token),
            _ => false,
        };
        if !genuine {
            return Err(PageError::FormExpired);
        }
        serde_urlencoded::from_bytes(&body)
            .map(CsrfForm)
            .map_err(|_| PageError::BadForm)
    }
}

/// Checks the token of a form that is not URL-encoded (a file upload is `multipart/form-data`,
/// read by its handler): the same rule as [`CsrfForm`].
pub(crate) fn check_token(
    web: &Web,
    headers: &axum::http::HeaderMap,
    token: Option<&str>,
) -> Result<(), PageError> {
    let jar = CookieJar::from_headers(headers);
    let nonce = jar.get(cookie_name(web)).map(|c| c.value().to_owned());
    let genuine = match (nonce, token) {
        (Some(nonce), Some(token)) => {
            verify(&web.settings().form_key, &nonce, session_of(&jar), token)
        }
        _ => false,
    };
    if genuine {
        Ok(())
    } else {
        Err(PageError::FormExpired)
    }
}

/// The fields of a form that is only a button.
#[derive(serde::Deserialize)]
pub(crate) struct NoFields {}

fn cookie_name(web: &Web) -> &'static str {
    if web.settings().secure_cookies {
        HOST_ONLY_COOKIE
    } else {
        COOKIE
    }
}

/// The session token the browser sent, or nothing.
fn session_of(jar: &CookieJar) -> &str {
    jar.get(gittix_shared::session::SESSION_COOKIE)
        .map_or("", |c| c.value())
}

fn new_nonce() -> String {
    let mut bytes = [0u8; NONCE_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn is_well_formed(nonce: &str) -> bool {
    nonce.len() == NONCE_BYTES * 2 && nonce.bytes().all(|b| b.is_ascii_hexdigit())
}

fn mac(key: &[u8; 32], nonce: &str, session: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts 32-byte keys");
    mac.update(nonce.as_bytes());
    // The nonce is hex, so a zero byte cannot be part of it: the two parts cannot run together.
    mac.update(&[0]);
    mac.update(session.as_bytes());
    mac
}

fn token_for(key: &[u8; 32], nonce: &str, session: &str) -> String {
    hex::encode(mac(key, nonce, session).finalize().into_bytes())
}

/// Compares in constant time, so the token cannot be guessed a byte at a time.
fn verify(key: &[u8; 32], nonce: &str, session: &str, token: &str) -> bool {
    let Ok(token) = hex::decode(token) else {
        return false;
    };
    mac(key, nonce, session).verify_slice(&token).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn a_token_verifies_only_for_its_own_cookie_session_and_key() {
        let nonce = new_nonce();
        let token = token_for(&KEY, &nonce, "session-a");
        assert!(verify(&KEY, &nonce, "session-a", &token));
        assert!(
            !verify(&KEY, &new_nonce(), "session-a", &token),
            "another visitor's cookie"
        );
        assert!(
            !verify(&KEY, &nonce, "session-b", &token),
            "another session"
        );
        assert!(!verify(&KEY, &nonce, "", &token), "signed out");
        assert!(
            !verify(&[8; 32], &nonce, "session-a", &token),
            "another key"
        );
        let truncated = &token[..token.len() - 2];
        assert!(
            !verify(&KEY, &nonce, "session-a", truncated),
            "a truncated token"
        );
        assert!(!verify(&KEY, &nonce, "session-a", "zz"), "not hex");
        assert!(!verify(&KEY, &nonce, "session-a", ""), "empty");
    }

    #[test]
    fn only_well_formed_cookies_are_kept() {
        assert!(is_well_formed(&new_nonce()));
        assert!(!is_well_formed("short"));
        assert!(!is_well_formed(&"g".repeat(64)));
    }
}
