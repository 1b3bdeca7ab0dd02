//! The event catalogue: every message between services as a Rust type with its subject.
//!
//! Subjects keep the original system's names. Money is integer cents; versions are the owner's
//! record version, so replicas can apply updates in order.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A message one service publishes and others may consume.
pub trait Event: Serialize + DeserializeOwned + Send + Sync + 'static {
    const SUBJECT: &'static str;
}

/// A user signed up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCreated {
    pub id: String,
    pub email: String,
    pub version: i64,
}

impl Event for UserCreated {
    const SUBJECT: &'static str = "user:created";
}

/// A user changed their email or password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserUpdated {
    pub id: String,
    pub email: String,
    pub version: i64,
}

impl Event for UserUpdated {
    const SUBJECT: &'static str = "user:updated";
}
