//! The servers the README test command starts, found through environment variables. A missing
//! one is a failure, never a skipped test.

pub const POSTGRES_URL_VAR: &str = "GITTIX_TEST_POSTGRES_URL";
pub const NATS_URL_VAR: &str = "GITTIX_TEST_NATS_URL";
pub const REDIS_URL_VAR: &str = "GITTIX_TEST_REDIS_URL";
pub const STRIPE_URL_VAR: &str = "GITTIX_TEST_STRIPE_URL";
pub const STRIPE_CONNECT_URL_VAR: &str = "GITTIX_TEST_STRIPE_CONNECT_URL";
pub const SMTP_URL_VAR: &str = "GITTIX_TEST_SMTP_URL";
pub const SMTP_MAILDIR_VAR: &str = "GITTIX_TEST_SMTP_MAILDIR";

/// The value of `name`, or a panic naming the command that sets it.
pub fn required_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with the README test command (scripts/test), which starts the servers they need")
    })
}

/// The PostgreSQL server the test command started (a URL without a database).
pub fn postgres_url() -> String {
    required_var(POSTGRES_URL_VAR)
}

/// The NATS server with JetStream the test command started.
pub fn nats_url() -> String {
    required_var(NATS_URL_VAR)
}

/// The Redis server the test command started.
pub fn redis_url() -> String {
    required_var(REDIS_URL_VAR)
}

/// The Stripe-compatible server the test command started.
pub fn stripe_url() -> String {
    required_var(STRIPE_URL_VAR)
}

/// The server the test command started for Stripe's Connect accounts (stripe-stateful-mock).
pub fn stripe_connect_url() -> String {
    required_var(STRIPE_CONNECT_URL_VAR)
}
