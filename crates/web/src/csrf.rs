//! Cross-site request forgery protection with a signed double-submit cookie.
//!
//! Every visitor gets a random `csrf` cookie, and every form carries a token: the HMAC of that
//! cookie under a server key. Another site can make the browser send the cookie but cannot read
//! it, so it cannot write the matching token into a forged form; and because the token is
//! signed, a cookie planted from elsewhere is useless without the key. Unlike a session-bound
//! token this also protects the sign-up and sign-in forms of visitors not yet signed in.

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
    let existing = jar
        .get(COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|nonce| is_well_formed(nonce));
    let fresh = existing.is_none();
    let nonce = existing.unwrap_or_else(new_nonce);
    request
        .extensions_mut()
        .insert(FormToken(token_for(&web.settings().form_key, &nonce)));
    let mut response = next.run(request).await;
    if fresh {
        let cookie = Cookie::build((COOKIE, nonce))
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
        let nonce = jar.get(COOKIE).map(|c| c.value().to_owned());
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
            (Some(nonce), Some(token)) => verify(&web.settings().form_key, &nonce, token),
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

/// The fields of a form that is only a button.
#[derive(serde::Deserialize)]
pub(crate) struct NoFields {}

fn new_nonce() -> String {
    let mut bytes = [0u8; NONCE_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn is_well_formed(nonce: &str) -> bool {
    nonce.len() == NONCE_BYTES * 2 && nonce.bytes().all(|b| b.is_ascii_hexdigit())
}

fn mac(key: &[u8; 32], nonce: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts 32-byte keys");
    mac.update(nonce.as_bytes());
    mac
}

fn token_for(key: &[u8; 32], nonce: &str) -> String {
    hex::encode(mac(key, nonce).finalize().into_bytes())
}

/// Compares in constant time, so the token cannot be guessed a byte at a time.
fn verify(key: &[u8; 32], nonce: &str, token: &str) -> bool {
    let Ok(token) = hex::decode(token) else {
        return false;
    };
    mac(key, nonce).verify_slice(&token).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn a_token_verifies_only_for_its_own_cookie_and_key() {
        let nonce = new_nonce();
        let token = token_for(&KEY, &nonce);
        assert!(verify(&KEY, &nonce, &token));
        assert!(
            !verify(&KEY, &new_nonce(), &token),
            "another visitor's cookie"
        );
        assert!(!verify(&[8; 32], &nonce, &token), "another key");
        assert!(
            !verify(&KEY, &nonce, &token[..token.len() - 2]),
            "a truncated token"
        );
        assert!(!verify(&KEY, &nonce, "zz"), "not hex");
        assert!(!verify(&KEY, &nonce, ""), "empty");
    }

    #[test]
    fn only_well_formed_cookies_are_kept() {
        assert!(is_well_formed(&new_nonce()));
        assert!(!is_well_formed("short"));
        assert!(!is_well_formed(&"g".repeat(64)));
    }
}
