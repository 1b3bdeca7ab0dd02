//! The GitTix an end-to-end test talks to: by default a `gittix` in embedded mode started for
//! the test; inside `scripts/cluster` the distributed cluster behind nginx, shared by every test
//! (so tests use unique emails and titles there).

use crate::gittix::Gittix;

/// Set by `scripts/cluster`: the gateway of the running cluster.
const BASE_URL_VAR: &str = "GITTIX_E2E_BASE_URL";
/// Set by `scripts/cluster`: how long the cluster's orders hold their tickets.
const LOCK_SECONDS_VAR: &str = "GITTIX_E2E_LOCK_SECONDS";
const DEFAULT_LOCK_SECONDS: u64 = 15 * 60;

pub struct Site {
    base_url: String,
    lock_seconds: u64,
    _embedded: Option<(Gittix, tempfile::TempDir)>,
}

impl Site {
    pub fn start() -> Self {
        Self::with_lock_seconds(DEFAULT_LOCK_SECONDS)
    }

    /// An embedded GitTix whose orders hold a ticket for `seconds`; in the cluster, the
    /// cluster's own lock window applies (see [`Site::lock_seconds`]).
    pub fn with_lock_seconds(seconds: u64) -> Self {
        if let Ok(base_url) = std::env::var(BASE_URL_VAR) {
            let lock_seconds = std::env::var(LOCK_SECONDS_VAR)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(DEFAULT_LOCK_SECONDS);
            return Self {
                base_url,
                lock_seconds,
                _embedded: None,
            };
        }
        let data = tempfile::tempdir().unwrap();
        let lock = seconds.to_string();
        let gittix = Gittix::start(&[], &[("ORDER_LOCK_SECONDS", &lock)], data.path());
        Self {
            base_url: gittix.base_url.clone(),
            lock_seconds: seconds,
            _embedded: Some((gittix, data)),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    #[allow(
        dead_code,
        reason = "only the browser tests wait for a lock to run out"
    )]
    pub fn lock_seconds(&self) -> u64 {
        self.lock_seconds
    }

    /// `"embedded"` or `"cluster"`, to keep their screenshots apart.
    #[allow(dead_code, reason = "only the browser tests take screenshots")]
    pub fn kind(&self) -> &'static str {
        if self._embedded.is_some() {
            "embedded"
        } else {
            "cluster"
        }
    }
}

/// An email no other test (or earlier run against the same cluster) has used.
pub fn unique_email(name: &str) -> String {
    format!(
        "{name}-{}@example.com",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}
