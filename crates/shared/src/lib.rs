//! What every GitTix service shares: the error type and its JSON shape, sign-in state, the event
//! catalogue, configuration, storage and the outbox, telemetry, HTTP plumbing, and the input rules
//! every route applies (`validation`, `id`, `money`, `json`).

pub mod bus;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod fees;
pub mod guards;
pub mod http;
pub mod id;
pub mod inbox;
pub mod json;
pub mod listener;
pub mod metrics;
pub mod money;
pub mod openapi;
pub mod outbox;
pub mod pruning;
pub mod ratelimit;
pub mod relay;
pub mod replica;
pub mod server;
pub mod service;
pub mod session;
pub mod telemetry;
pub mod time;
pub mod trace;
pub mod validation;
mod wire_enum;

pub use error::{ApiError, ApiResult, DomainError, DomainResult, FieldError};
