//! Sign-in state: a signed JWT in an HttpOnly cookie, and the extractors that read it.
//!
//! A missing, tampered or expired cookie means "signed out". It is never an error by itself; only
//! routes that need a user turn it into a 401 (through [`RequireUser`]).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use cookie::CookieBuilder;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::time::unix_seconds;

/// The cookie holding the JWT. The original client never reads it, so only its name is shared.
pub const SESSION_COOKIE: &str = "session";

/// What a session token says about its holder: the JWT payload of the design.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserPayload {
    pub id: String,
    pub email: String,
    pub iat: u64,
    pub exp: u64,
}

/// Issues and checks session tokens and builds the cookies that carry them.
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<SessionsInner>,
}

struct SessionsInner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
    secure_cookie: bool,
    /// Kept only to derive keys for other purposes (see [`Sessions::derive_key`]).
    secret: Vec<u8>,
}

impl Sessions {
    pub fn new(key: &[u8], ttl: Duration, secure_cookie: bool) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // A token is dead the second it expires; no grace period.
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat"]);
        Self {
            inner: Arc::new(SessionsInner {
                encoding: EncodingKey::from_secret(key),
                decoding: DecodingKey::from_secret(key),
                validation,
                ttl,
                secure_cookie,
                secret: key.to_vec(),
            }),
        }
    }

    /// A signed token for the user, valid for the configured lifetime from now.
    pub fn issue(&self, id: &str, email: &str) -> Result<String, ApiError> {
        let iat = unix_seconds();
        let payload = UserPayload {
            id: id.to_owned(),
            email: email.to_owned(),
            iat,
            exp: iat + self.inner.ttl.as_secs(),
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &payload,
            &self.inner.encoding,
        )
        .map_err(ApiError::internal)
    }

    /// The payload of a token that is genuine and not expired.
    pub fn verify(&self, token: &str) -> Option<UserPayload> {
        jsonwebtoken::decode::<UserPayload>(token, &self.inner.decoding, &self.inner.validation)
            .ok()
            .map(|data| data.claims)
    }

    /// A key for `purpose` (signing form tokens, say) derived from the session key, so the
    /// operator manages one secret and no two purposes share a key.
    pub fn derive_key(&self, purpose: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&self.inner.secret)
            .expect("HMAC accepts keys of any length");
        mac.update(b"gittix derived key: ");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Whether cookies carry the `Secure` flag (everywhere but local development).
    pub fn secure_cookies(&self) -> bool {
        self.inner.secure_cookie
    }

    /// The cookie that signs the user in.
    pub fn sign_in_cookie(&self, token: String) -> Cookie<'static> {
        let max_age = time_duration(self.inner.ttl);
        self.base_cookie(token).max_age(max_age).build()
    }

    /// The cookie that replaces the session cookie with an expired, empty one.
    pub fn sign_out_cookie(&self) -> Cookie<'static> {
        self.base_cookie(String::new())
            .max_age(cookie::time::Duration::ZERO)
            .expires(cookie::time::OffsetDateTime::UNIX_EPOCH)
            .build()
    }

    fn base_cookie(&self, value: String) -> CookieBuilder<'static> {
        Cookie::build((SESSION_COOKIE, value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.inner.secure_cookie)
    }
}

fn time_duration(ttl: Duration) -> cookie::time::Duration {
    cookie::time::Duration::seconds(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX))
}

/// The signed-in user, if any. Never rejects.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Option<UserPayload>);

impl<S> FromRequestParts<S> for CurrentUser
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let sessions = Sessions::from_ref(state);
        let jar = CookieJar::from_headers(&parts.headers);
        let user = jar
            .get(SESSION_COOKIE)
            .and_then(|cookie| sessions.verify(cookie.value()));
        Ok(Self(user))
    }
}

/// The signed-in user; a request without one is refused with 401.
#[derive(Debug, Clone)]
pub struct RequireUser(pub UserPayload);

impl<S> FromRequestParts<S> for RequireUser
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|never| match never {});
        user.map(Self).ok_or(ApiError::NotAuthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions() -> Sessions {
        Sessions::new(
            b"0123456789abcdef0123456789abcdef",
            Duration::from_secs(60),
            true,
        )
    }

    #[test]
    fn an_issued_token_verifies_to_its_user() {
        let s = sessions();
        let token = s.issue("u1", "a@b.co").unwrap();
        let user = s.verify(&token).expect("token should verify");
        assert_eq!((user.id.as_str(), user.email.as_str()), ("u1", "a@b.co"));
        assert_eq!(user.exp, user.iat + 60);
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let other = Sessions::new(
            b"another-key-another-key-another-k",
            Duration::from_secs(60),
            true,
        );
        let token = other.issue("u1", "a@b.co").unwrap();
        assert!(sessions().verify(&token).is_none());
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let s = sessions();
        let token = s.issue("u1", "a@b.co").unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].chars().rev().collect();
        assert!(s.verify(&parts.join(".")).is_none());
    }

    #[test]
    fn cookies_carry_the_flags_of_the_design() {
        let cookie = sessions().sign_in_cookie("t".into()).to_string();
        for flag in [
            "session=t",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Max-Age=60",
        ] {
            assert!(cookie.contains(flag), "{cookie} lacks {flag}");
        }
        let cleared = sessions().sign_out_cookie().to_string();
        assert!(cleared.starts_with("session=;"), "{cleared}");
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
    }
}
