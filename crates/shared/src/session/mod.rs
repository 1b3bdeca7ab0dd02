//! Sign-in state: a JWT signed with Ed25519 in an HttpOnly cookie, and the extractors that read it.
//!
//! A missing, tampered, expired or revoked cookie means "signed out". It is never an error by
//! itself; only routes that need a user turn it into a 401 (through [`RequireUser`]).
//!
//! Only auth holds the private key ([`keys`]); every service verifies with the public keys and
//! refuses the sessions `session:revoked` names ([`revocation`]).

pub mod keys;
pub mod revocation;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use cookie::CookieBuilder;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub use keys::SessionKeys;

use crate::error::ApiError;
use crate::events::SessionRevoked;
use crate::time::unix_seconds;
use revocation::SharedRevoked;

/// The cookie holding the JWT. The original client never reads it, so only its name is shared.
pub const SESSION_COOKIE: &str = "session";

/// What a session token says about its holder: the JWT payload of the design.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserPayload {
    pub id: String,
    pub email: String,
    pub iat: u64,
    pub exp: u64,
    /// The session's id (a UUIDv7, so it also says when the session began, to the millisecond):
    /// what a sign-out revokes.
    pub sid: String,
    /// Whether the account had confirmed its email when the session began (or was last
    /// renewed, as verifying the email does): `currentUser.emailVerified`. Absent from tokens
    /// issued before it existed, which read as unverified.
    #[serde(rename = "emailVerified", default)]
    pub email_verified: bool,
}

/// Issues and checks session tokens and builds the cookies that carry them.
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<SessionsInner>,
    revoked: SharedRevoked,
}

struct SessionsInner {
    /// Auth's private key with its `kid`; `None` in every other service.
    signing: Option<(String, EncodingKey)>,
    /// The trusted public keys by `kid`.
    trusted: HashMap<String, DecodingKey>,
    validation: Validation,
    ttl: Duration,
    secure_cookie: bool,
}

impl Sessions {
    pub fn new(keys: &SessionKeys, ttl: Duration, secure_cookie: bool) -> Self {
        // EdDSA alone: a token that claims HS256 (signed with the public key as a secret, say)
        // or any other algorithm is refused before its signature is looked at.
        let mut validation = Validation::new(Algorithm::EdDSA);
        // A token is dead the second it expires; no grace period.
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat"]);
        let signing = keys.signing.as_ref().map(|key| {
            let der = key.to_pkcs8_der().expect("an Ed25519 key encodes");
            (
                keys::key_id(&key.verifying_key()),
                EncodingKey::from_ed_der(der.as_bytes()),
            )
        });
        let trusted = keys
            .trusted
            .iter()
            .map(|key| (keys::key_id(key), DecodingKey::from_ed_der(key.as_bytes())))
            .collect();
        Self {
            inner: Arc::new(SessionsInner {
                signing,
                trusted,
                validation,
                ttl,
                secure_cookie,
            }),
            revoked: SharedRevoked::default(),
        }
    }

    /// These sessions without the private key, sharing what is revoked: what a service other
    /// than auth gets in a process that runs them all.
    pub fn verifier(&self) -> Self {
        Self {
            inner: Arc::new(SessionsInner {
                signing: None,
                trusted: self.inner.trusted.clone(),
                validation: self.inner.validation.clone(),
                ttl: self.inner.ttl,
                secure_cookie: self.inner.secure_cookie,
            }),
            revoked: self.revoked.clone(),
        }
    }

    /// A signed token for a new session of the user, valid for the configured lifetime, of an
    /// account whose email is not verified.
    pub fn issue(&self, id: &str, email: &str) -> Result<String, ApiError> {
        self.issue_with(id, email, false)
    }

    /// A token as [`issue`](Self::issue) makes it, saying whether the account's email is
    /// verified.
    pub fn issue_with(
        &self,
        id: &str,
        email: &str,
        email_verified: bool,
    ) -> Result<String, ApiError> {
        self.sign(id, email, email_verified, unix_seconds())
    }

    /// A token as [`issue`](Self::issue) makes it, issued at `iat` (unix seconds): tests use it
    /// for tokens that have expired.
    pub fn issue_at(&self, id: &str, email: &str, iat: u64) -> Result<String, ApiError> {
        self.sign(id, email, false, iat)
    }

    /// The token of the session `payload` again (the same session: its id, start and end),
    /// saying whether the account's email is verified, for a change the cookie must show at
    /// once. Signing out revokes it, as it revokes the token it replaces.
    pub fn renewed(&self, payload: &UserPayload, email_verified: bool) -> Result<String, ApiError> {
        self.encode(&UserPayload {
            email_verified,
            ..payload.clone()
        })
    }

    fn sign(
        &self,
        id: &str,
        email: &str,
        email_verified: bool,
        iat: u64,
    ) -> Result<String, ApiError> {
        self.encode(&UserPayload {
            id: id.to_owned(),
            email: email.to_owned(),
            iat,
            exp: iat + self.inner.ttl.as_secs(),
            sid: uuid::Uuid::now_v7().to_string(),
            email_verified,
        })
    }

    fn encode(&self, payload: &UserPayload) -> Result<String, ApiError> {
        let Some((kid, key)) = &self.inner.signing else {
            return Err(ApiError::internal(anyhow::anyhow!(
                "this service holds no session signing key"
            )));
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.clone());
        jsonwebtoken::encode(&header, payload, key).map_err(ApiError::internal)
    }

    /// The payload of a token that is genuine, not expired and not revoked.
    pub fn verify(&self, token: &str) -> Option<UserPayload> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let key = self.inner.trusted.get(header.kid.as_deref()?)?;
        let user = jsonwebtoken::decode::<UserPayload>(token, key, &self.inner.validation)
            .ok()?
            .claims;
        let issued = issued_ms(&user.sid)?;
        let revoked = self
            .revoked
            .read()
            .expect("the revocations lock is never poisoned");
        (!revoked.covers(&user.id, &user.sid, issued)).then_some(user)
    }

    /// Refuses the sessions `revoked` names from now on, in every clone of these sessions.
    pub fn revoke(&self, revoked: &SessionRevoked) {
        self.revoked
            .write()
            .expect("the revocations lock is never poisoned")
            .apply(revoked, self.inner.ttl);
    }

    /// How long a session lasts.
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
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

/// When the session `sid` began, in unix milliseconds: sids are UUIDv7s, whose first 48 bits
/// are that time. `None` for anything else, which no token of ours carries.
pub(crate) fn issued_ms(sid: &str) -> Option<i64> {
    let uuid = uuid::Uuid::parse_str(sid).ok()?;
    let (seconds, nanos) = uuid.get_timestamp()?.to_unix();
    i64::try_from(seconds * 1000 + u64::from(nanos / 1_000_000)).ok()
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
        Sessions::new(&SessionKeys::generate(), Duration::from_secs(60), true)
    }

    #[test]
    fn an_issued_token_verifies_to_its_user() {
        let s = sessions();
        let token = s.issue("u1", "a@b.co").unwrap();
        let user = s.verify(&token).expect("token should verify");
        assert_eq!((user.id.as_str(), user.email.as_str()), ("u1", "a@b.co"));
        assert_eq!(user.exp, user.iat + 60);
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert!(header.kid.is_some());
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let other = sessions();
        let token = other.issue("u1", "a@b.co").unwrap();
        assert!(sessions().verify(&token).is_none());
    }

    #[test]
    fn a_verifier_verifies_but_cannot_sign() {
        let s = sessions();
        let verifier = s.verifier();
        assert!(verifier.issue("u1", "a@b.co").is_err());
        assert!(verifier.verify(&s.issue("u1", "a@b.co").unwrap()).is_some());
    }

    #[test]
    fn rotation_keeps_the_sessions_of_the_old_key() {
        let (old, new) = (SessionKeys::generate(), SessionKeys::generate());
        let ttl = Duration::from_secs(60);
        let before = Sessions::new(&old, ttl, true)
            .issue("u1", "a@b.co")
            .unwrap();
        // Step 1 of the rotation: every service trusts both public keys; auth signs with the new.
        let both = format!("{}{}", old.public_pem(), new.public_pem());
        let keys = SessionKeys::from_pem(new.private_pem().as_deref(), Some(&both)).unwrap();
        let rotated = Sessions::new(&keys, ttl, true);
        let after = rotated.issue("u1", "a@b.co").unwrap();
        let verifier = Sessions::new(
            &SessionKeys::from_pem(None, Some(&both)).unwrap(),
            ttl,
            true,
        );
        assert!(verifier.verify(&before).is_some() && verifier.verify(&after).is_some());
        // Step 2, once the old tokens have expired: the old key is no longer trusted.
        let new_only = Sessions::new(&new.public_only(), ttl, true);
        assert!(new_only.verify(&before).is_none() && new_only.verify(&after).is_some());
    }

    /// Forgeries a verifier must refuse: HS256 keyed with the public key (the classic confusion
    /// attack), `none`, and an unknown or missing `kid`.
    #[test]
    fn forged_tokens_are_refused() {
        let keys = SessionKeys::generate();
        let s = Sessions::new(&keys, Duration::from_secs(60), true);
        let now = unix_seconds();
        let claims = serde_json::json!({"id": "u1", "email": "a@b.co", "iat": now, "exp": now + 60,
            "sid": uuid::Uuid::now_v7().to_string()});
        let kid = keys::key_id(&keys.trusted[0]);
        let mut hs = Header::new(Algorithm::HS256);
        hs.kid = Some(kid.clone());
        for secret in [
            keys.public_pem().into_bytes(),
            keys.trusted[0].as_bytes().to_vec(),
        ] {
            let forged =
                jsonwebtoken::encode(&hs, &claims, &EncodingKey::from_secret(&secret)).unwrap();
            assert!(s.verify(&forged).is_none());
        }
        let genuine = s.issue("u1", "a@b.co").unwrap();
        let parts: Vec<&str> = genuine.split('.').collect();
        let b64 = |json: &[u8]| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
        };
        let none_header = b64(br#"{"alg":"none","kid":"x"}"#);
        assert!(s.verify(&format!("{none_header}.{}.", parts[1])).is_none());
        let other_kid = b64(br#"{"alg":"EdDSA","kid":"0000000000000000"}"#);
        assert!(s
            .verify(&format!("{other_kid}.{}.{}", parts[1], parts[2]))
            .is_none());
        let no_kid = b64(br#"{"alg":"EdDSA"}"#);
        assert!(s
            .verify(&format!("{no_kid}.{}.{}", parts[1], parts[2]))
            .is_none());
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
    fn a_revoked_session_is_refused_and_the_others_kept() {
        let s = sessions();
        let verifier = s.verifier();
        let (first, second) = (
            s.issue("u1", "a@b.co").unwrap(),
            s.issue("u1", "a@b.co").unwrap(),
        );
        let sid = s.verify(&first).unwrap().sid;
        s.revoke(&SessionRevoked {
            user_id: "u1".into(),
            sid: Some(sid),
            before: None,
        });
        assert!(s.verify(&first).is_none() && verifier.verify(&first).is_none());
        assert!(verifier.verify(&second).is_some());
        // Every session issued before a time: the ones after it are kept.
        std::thread::sleep(Duration::from_millis(2));
        let before = crate::time::unix_millis();
        std::thread::sleep(Duration::from_millis(2));
        let later = s.issue("u1", "a@b.co").unwrap();
        let other_user = s.issue("u2", "b@b.co").unwrap();
        s.revoke(&SessionRevoked {
            user_id: "u1".into(),
            sid: None,
            before: Some(before),
        });
        assert!(verifier.verify(&second).is_none());
        assert!(verifier.verify(&later).is_some() && verifier.verify(&other_user).is_some());
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
