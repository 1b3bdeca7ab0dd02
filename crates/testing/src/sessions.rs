//! Sessions for tests: the key test services sign with, and signed-in users.

/// A token signed with `key` that expired a minute ago.
pub fn expired_token(key: &[u8], id: &str, email: &str) -> String {
    let now = gittix_shared::time::unix_seconds();
    let payload = gittix_shared::session::UserPayload {
        id: id.to_owned(),
        email: email.to_owned(),
        iat: now - 3600,
        exp: now - 60,
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &payload,
        &jsonwebtoken::EncodingKey::from_secret(key),
    )
    .expect("encoding a token")
}

/// The session key of test apps.
pub const TEST_JWT_KEY: &[u8] = b"test-key-test-key-test-key-test-key!";

pub fn test_sessions() -> gittix_shared::session::Sessions {
    gittix_shared::session::Sessions::new(TEST_JWT_KEY, std::time::Duration::from_secs(3600), false)
}

/// A signed-in user of a test: their id and the `Cookie` header value that signs them in.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub cookie: String,
}

impl TestUser {
    pub fn new(sessions: &gittix_shared::session::Sessions) -> Self {
        let id = uuid::Uuid::now_v7().to_string();
        let token = sessions
            .issue(&id, &format!("{id}@test.io"))
            .expect("issuing a token");
        Self {
            id,
            cookie: format!("{}={token}", gittix_shared::session::SESSION_COOKIE),
        }
    }
}
