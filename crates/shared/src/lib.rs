//! What every GitTix service shares: the error type and its JSON shape, sign-in state, the event
//! catalogue, configuration, storage and the outbox, telemetry, and HTTP plumbing.

pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod http;
pub mod json;
pub mod outbox;
pub mod session;
pub mod telemetry;
pub mod time;
pub mod validation;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{ApiError, ApiResult, FieldError};
