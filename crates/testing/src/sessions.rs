//! Sessions for tests: the key pair test services sign with, and signed-in users.

use std::sync::OnceLock;
use std::time::Duration;

use gittix_shared::session::{SessionKeys, Sessions, SESSION_COOKIE};

/// How long a test session lasts.
pub const TEST_SESSION_TTL: Duration = Duration::from_secs(3600);

/// The key pair of this test process: generated once, so every service a test builds (and
/// every process it starts with [`test_private_key_pem`]) trusts the same key.
pub fn test_session_keys() -> &'static SessionKeys {
    static KEYS: OnceLock<SessionKeys> = OnceLock::new();
    KEYS.get_or_init(SessionKeys::generate)
}

/// The private key, as `JWT_PRIVATE_KEY` takes it.
pub fn test_private_key_pem() -> String {
    test_session_keys()
        .private_pem()
        .expect("the test pair signs")
}

/// The public key, as `JWT_PUBLIC_KEY` takes it.
pub fn test_public_key_pem() -> String {
    test_session_keys().public_pem()
}

/// Sessions that sign with the test key (each call has its own revocations).
pub fn test_sessions() -> Sessions {
    Sessions::new(test_session_keys(), TEST_SESSION_TTL, false)
}

/// A token of `sessions` for the user that expired a minute ago.
pub fn expired_token(sessions: &Sessions, id: &str, email: &str) -> String {
    let issued = gittix_shared::time::unix_seconds() - sessions.ttl().as_secs() - 60;
    sessions
        .issue_at(id, email, issued)
        .expect("issuing a token")
}

/// A signed-in user of a test: their id and the `Cookie` header value that signs them in.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub cookie: String,
}

impl TestUser {
    pub fn new(sessions: &Sessions) -> Self {
        let id = uuid::Uuid::now_v7().to_string();
        let token = sessions
            .issue(&id, &format!("{id}@test.io"))
            .expect("issuing a token");
        Self {
            id,
            cookie: format!("{SESSION_COOKIE}={token}"),
        }
    }
}
