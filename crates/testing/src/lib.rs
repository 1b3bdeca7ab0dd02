//! Test support for every GitTix crate, one concern per module: fresh databases, servers of a
//! test's own, buses and events, the adapter matrix, services served on port 0, sessions and
//! polling. The servers themselves come from the README test command (`scripts/test`); a test
//! that cannot find one fails, it is never skipped.

pub mod app;
pub mod bus;
pub mod databases;
pub mod env;
pub mod http;
pub mod mail;
pub mod matrix;
pub mod polling;
pub mod servers;
pub mod sessions;

pub use app::{Spawned, TestPlatform, TestService, TEST_BODY_LIMIT};
pub use bus::{
    jetstream_test_settings, publish_event, quick_listener_settings, BusKind, EventLog, TestBus,
};
pub use databases::{
    create_postgres_database, fresh_database, fresh_database_with, TestDatabase, BACKENDS,
};
pub use env::{
    nats_url, postgres_url, redis_url, stripe_connect_url, stripe_url, NATS_URL_VAR,
    POSTGRES_URL_VAR, REDIS_URL_VAR, STRIPE_CONNECT_URL_VAR, STRIPE_URL_VAR,
};
pub use http::{session_cookie, set_cookie_headers, status_and_json, Body, Caller, TestServer};
pub use matrix::Topology;
pub use polling::eventually;
pub use servers::{free_port, PrivateNats, PrivatePostgres, PrivateRedis};
pub use sessions::{
    expired_token, test_private_key_pem, test_public_key_pem, test_session_keys, test_sessions,
    TestUser, TEST_SESSION_TTL,
};

/// For the matrix macros.
#[doc(hidden)]
pub use gittix_shared::db::Backend;
