//! Settings every service shares, read from environment variables (each also has a flag).
//!
//! Embedded mode needs none of them. Distributed mode needs `DATABASE_URL` and the session keys
//! (`JWT_PRIVATE_KEY` for auth, `JWT_PUBLIC_KEY` for the others).
//! `gittix --help` prints every variable with its default, because clap renders these structs.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use rand::RngCore;

use crate::db::PoolSettings;
use crate::fees::{FeeRate, Fees};
use crate::session::{SessionKeys, Sessions};

/// Which way GitTix runs; some defaults differ between the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every service in one process, SQLite files in a data directory.
    Embedded,
    /// One service per process behind a gateway, PostgreSQL and NATS.
    Distributed,
}

#[derive(Debug, Clone, clap::Args)]
pub struct HttpArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,
    /// Address to listen on. Default: 127.0.0.1 in embedded mode, 0.0.0.0 with `serve`.
    #[arg(long, env = "HOST")]
    pub host: Option<IpAddr>,
    /// Largest request body accepted, in bytes; a larger one gets 413.
    #[arg(long, env = "BODY_LIMIT_BYTES", default_value_t = 64 * 1024)]
    pub body_limit_bytes: usize,
    /// Behind a gateway (nginx or an ingress), take the client's address from `X-Forwarded-For`,
    /// read from the right past internal addresses (the gateway's own entries), and only when the
    /// connection itself comes from an internal address. Default: false in embedded mode, true
    /// with `serve`.
    #[arg(long, env = "TRUST_PROXY")]
    pub trust_proxy: Option<bool>,
    /// A connection must send a request's head within this many seconds, and a kept-alive
    /// connection its next request's head; otherwise it is closed.
    #[arg(long, env = "HTTP_HEADER_TIMEOUT_SECONDS", default_value_t = 10)]
    pub http_header_timeout_seconds: u64,
    /// A request not answered within this many seconds gets 503 "The request took too long".
    /// Keep it above STRIPE_TIMEOUT_SECONDS.
    #[arg(long, env = "REQUEST_TIMEOUT_SECONDS", default_value_t = 60)]
    pub request_timeout_seconds: u64,
    /// Connections served at once; more wait in the accept queue. Keep it under the process's
    /// file limit (`ulimit -n`).
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// The address people reach GitTix at (`https://tickets.example.com`), for the links GitTix
    /// hands out: where Stripe's onboarding sends a seller back. Default: http://127.0.0.1 and
    /// PORT.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,
}

impl HttpArgs {
    pub fn host(&self, mode: Mode) -> IpAddr {
        self.host.unwrap_or(match mode {
            Mode::Embedded => IpAddr::from([127, 0, 0, 1]),
            Mode::Distributed => IpAddr::from([0, 0, 0, 0]),
        })
    }

    pub fn trust_proxy(&self, mode: Mode) -> bool {
        self.trust_proxy.unwrap_or(mode == Mode::Distributed)
    }

    /// [`Self::public_url`] without a trailing slash, or this machine's address and port.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://127.0.0.1:{}", self.port),
        }
    }

    pub fn server_limits(&self) -> crate::server::ServerLimits {
        crate::server::ServerLimits {
            header_timeout: Duration::from_secs(self.http_header_timeout_seconds.max(1)),
            request_timeout: Duration::from_secs(self.request_timeout_seconds.max(1)),
            max_connections: self.max_connections.max(1),
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct SessionArgs {
    /// auth only: the Ed25519 private key that signs session tokens, as PKCS#8 PEM
    /// (`gittix session-keys` or `openssl genpkey -algorithm ed25519` makes one). Required by
    /// `serve auth` and refused by every other service. Embedded mode keeps its own in the data
    /// directory.
    #[arg(long, env = "JWT_PRIVATE_KEY", hide_env_values = true)]
    pub jwt_private_key: Option<String>,
    /// The public keys that verify session tokens, PEM blocks one after another: during a key
    /// rotation the old and the new one. Required by `serve` for every service but auth (auth
    /// trusts its own key, and these too).
    #[arg(long, env = "JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<String>,
    /// How long a sign-in lasts, in seconds.
    #[arg(long, env = "JWT_TTL_SECONDS", default_value_t = 24 * 60 * 60)]
    pub jwt_ttl_seconds: u64,
    /// Mark the session cookie Secure (HTTPS only). Default: false in embedded mode, true with `serve`.
    #[arg(long, env = "COOKIE_SECURE")]
    pub cookie_secure: Option<bool>,
}

/// Whether a service signs sessions (auth) or only verifies them (every other).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRole {
    Signs,
    Verifies,
}

impl SessionArgs {
    /// Sessions for `gittix serve`: refuses to start without the keys `role` needs, with a
    /// malformed one, or with a private key in a service that must not sign.
    pub fn sessions_for_distributed(&self, role: SessionRole) -> anyhow::Result<Sessions> {
        let private = self
            .jwt_private_key
            .as_deref()
            .filter(|k| !k.trim().is_empty());
        let public = self
            .jwt_public_key
            .as_deref()
            .filter(|k| !k.trim().is_empty());
        match (role, private, public) {
            (SessionRole::Signs, None, _) => {
                bail!("JWT_PRIVATE_KEY is not set; auth signs sessions with an Ed25519 key (`gittix session-keys` makes a pair)")
            }
            (SessionRole::Verifies, Some(_), _) => {
                bail!("JWT_PRIVATE_KEY is set, but only auth may hold the key that signs sessions; give this service JWT_PUBLIC_KEY alone")
            }
            (SessionRole::Verifies, None, None) => {
                bail!("JWT_PUBLIC_KEY is not set; every service verifies sessions with auth's public key")
            }
            _ => {}
        }
        let keys = SessionKeys::from_pem(private, public)?;
        Ok(self.sessions(&keys, Mode::Distributed))
    }

    /// Sessions for embedded mode, with the private key: the keys from the environment when
    /// set, otherwise a pair kept in `data_dir` so sign-ins survive a restart. Auth gets these;
    /// the other services get their [`Sessions::verifier`].
    pub fn sessions_for_embedded(&self, data_dir: &Path) -> anyhow::Result<Sessions> {
        let keys = match self.jwt_private_key.as_deref() {
            Some(private) => SessionKeys::from_pem(Some(private), self.jwt_public_key.as_deref())?,
            None => SessionKeys::load_or_create(data_dir)?,
        };
        Ok(self.sessions(&keys, Mode::Embedded))
    }

    fn sessions(&self, keys: &SessionKeys, mode: Mode) -> Sessions {
        let secure = self.cookie_secure.unwrap_or(mode == Mode::Distributed);
        Sessions::new(keys, Duration::from_secs(self.jwt_ttl_seconds), secure)
    }
}

/// A random secret of 64 bytes kept in `path` (created 0600 on first use), for keys embedded
/// mode makes itself (the form key, say).
pub fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(key) = std::fs::read(path) {
        if key.len() >= MIN_SECRET_BYTES {
            return Ok(key);
        }
    }
    let mut key = vec![0u8; 64];
    rand::rng().fill_bytes(&mut key);
    write_private_file(path, &key).with_context(|| format!("writing {}", path.display()))?;
    Ok(key)
}

/// The shortest secret accepted for a symmetric key (an HMAC key wants at least its output).
pub const MIN_SECRET_BYTES: usize = 32;

/// Values that appear in examples and tutorials; a server using one as a secret would accept
/// forgeries.
const WELL_KNOWN_SECRETS: &[&str] = &[
    "secret",
    "changeme",
    "change-me",
    "asdf",
    "password",
    "please-change-this-in-production",
];

/// Refuses a secret named `name` that is short or a well-known example value.
pub fn check_secret(name: &str, secret: &str) -> anyhow::Result<()> {
    if secret.len() < MIN_SECRET_BYTES {
        bail!(
            "{name} is {} bytes; it must be at least {MIN_SECRET_BYTES}",
            secret.len()
        );
    }
    if WELL_KNOWN_SECRETS
        .iter()
        .any(|k| k.eq_ignore_ascii_case(secret.trim()))
    {
        bail!("{name} is a well-known example value; generate one, e.g. `openssl rand -hex 32`");
    }
    Ok(())
}

pub(crate) fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents)
}

#[derive(Debug, Clone, clap::Args)]
pub struct PoolArgs {
    /// Most connections a service keeps open to its PostgreSQL database.
    #[arg(long, env = "DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,
    /// How long a request waits for a database connection before answering 503, in milliseconds.
    #[arg(long, env = "DB_ACQUIRE_TIMEOUT_MS", default_value_t = 3000)]
    pub db_acquire_timeout_ms: u64,
}

impl PoolArgs {
    pub fn settings(&self) -> PoolSettings {
        PoolSettings {
            max_connections: self.db_max_connections,
            acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms),
        }
    }
}

/// The platform's fees. Every service that prices, charges or pays reads the same two values:
/// in distributed mode give each of them the same settings (the Kubernetes manifests share
/// one ConfigMap).
#[derive(Debug, Clone, clap::Args)]
pub struct FeeArgs {
    /// What a buyer pays on top of the listing price, as a percentage of it (at most 2
    /// decimals), rounded half up to the cent. Every price shown to a buyer includes it.
    #[arg(long, env = "BUYER_FEE_PERCENT", default_value_t = FeeRate::ZERO)]
    pub buyer_fee_percent: FeeRate,
    /// What the platform keeps of the listing price when it pays the seller, as a percentage
    /// (at most 2 decimals), rounded half up to the cent.
    #[arg(long, env = "SELLER_FEE_PERCENT", default_value_t = FeeRate::ZERO)]
    pub seller_fee_percent: FeeRate,
}

impl FeeArgs {
    pub fn fees(&self) -> Fees {
        Fees {
            buyer: self.buyer_fee_percent,
            seller: self.seller_fee_percent,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, for log collectors.
    Json,
    /// Human-readable lines.
    Text,
}

#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    /// Log line format. Verbosity follows RUST_LOG (default: info).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RetentionArgs {
    /// How long the bus keeps events, in seconds (the embedded log's retention; JetStream's
    /// max_age for the stream). Keep it at least JWT_TTL_SECONDS: a replica that starts reads
    /// the revocations of the last token lifetime from the bus. The tables that remember
    /// events (each service's inbox, tickets' ended orders) keep their rows a day longer, or
    /// twice as long when this is under a day, and are pruned a tenth of it apart (hourly at
    /// most).
    #[arg(long, env = "BUS_RETENTION_SECONDS", default_value_t = crate::pruning::BUS_RETENTION.as_secs())]
    pub bus_retention_seconds: u64,
}

impl RetentionArgs {
    /// The retentions, warning when the bus would forget revocations before the tokens they
    /// name expire.
    pub fn retentions(&self, sessions: &SessionArgs) -> crate::pruning::Retentions {
        let bus = Duration::from_secs(self.bus_retention_seconds.max(1));
        if bus.as_secs() < sessions.jwt_ttl_seconds {
            tracing::warn!(
                bus_retention_seconds = bus.as_secs(),
                jwt_ttl_seconds = sessions.jwt_ttl_seconds,
                "BUS_RETENTION_SECONDS is under JWT_TTL_SECONDS: a replica that starts cannot read revocations older than the bus keeps"
            );
        }
        crate::pruning::Retentions { bus }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(private: Option<String>, public: Option<String>) -> SessionArgs {
        SessionArgs {
            jwt_private_key: private,
            jwt_public_key: public,
            jwt_ttl_seconds: 60,
            cookie_secure: None,
        }
    }

    #[test]
    fn serve_takes_only_the_keys_its_role_needs() {
        let keys = SessionKeys::generate();
        let (private, public) = (keys.private_pem(), Some(keys.public_pem()));
        let signs = |p: Option<String>, q: Option<String>| {
            args(p, q).sessions_for_distributed(SessionRole::Signs)
        };
        let verifies = |p: Option<String>, q: Option<String>| {
            args(p, q).sessions_for_distributed(SessionRole::Verifies)
        };
        assert!(signs(None, public.clone()).is_err());
        assert!(signs(Some("malformed".into()), None).is_err());
        assert!(signs(private.clone(), None)
            .unwrap()
            .issue("u", "a@b.co")
            .is_ok());
        assert!(verifies(None, None).is_err());
        assert!(verifies(private.clone(), public.clone()).is_err());
        assert!(verifies(None, Some("malformed".into())).is_err());
        let verifier = verifies(None, public).unwrap();
        assert!(verifier.issue("u", "a@b.co").is_err());
        let token = signs(private, None).unwrap().issue("u", "a@b.co").unwrap();
        assert!(verifier.verify(&token).is_some());
    }

    #[test]
    fn a_short_or_well_known_secret_is_refused() {
        assert!(check_secret("FORM_KEY", "short").is_err());
        assert!(check_secret("FORM_KEY", "please-change-this-in-production").is_err());
        assert!(check_secret("FORM_KEY", &"k".repeat(32)).is_ok());
    }

    #[test]
    fn embedded_mode_keeps_its_generated_key_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let first = args(None, None).sessions_for_embedded(dir.path()).unwrap();
        let token = first.issue("u1", "a@b.co").unwrap();
        let second = args(None, None).sessions_for_embedded(dir.path()).unwrap();
        assert!(
            second.verify(&token).is_some(),
            "a restart must not sign everybody out"
        );
    }
}
