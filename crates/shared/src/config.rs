//! Settings every service shares, read from environment variables (each also has a flag).
//!
//! Embedded mode needs none of them. Distributed mode needs `DATABASE_URL` and a real `JWT_KEY`.
//! `gittix --help` prints every variable with its default, because clap renders these structs.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use rand::RngCore;

use crate::db::PoolSettings;
use crate::session::Sessions;

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
}

#[derive(Debug, Clone, clap::Args)]
pub struct SessionArgs {
    /// Secret for signing session tokens (HS256), at least 32 bytes, the same for every service.
    /// Required with `serve`; embedded mode creates a random one and keeps it in the data directory.
    #[arg(long, env = "JWT_KEY", hide_env_values = true)]
    pub jwt_key: Option<String>,
    /// How long a sign-in lasts, in seconds.
    #[arg(long, env = "JWT_TTL_SECONDS", default_value_t = 24 * 60 * 60)]
    pub jwt_ttl_seconds: u64,
    /// Mark the session cookie Secure (HTTPS only). Default: false in embedded mode, true with `serve`.
    #[arg(long, env = "COOKIE_SECURE")]
    pub cookie_secure: Option<bool>,
}

/// The shortest signing key accepted: HS256 wants at least as many bytes as its output.
pub const MIN_JWT_KEY_BYTES: usize = 32;

/// Keys that appear in examples and tutorials; a server using one would accept forged sessions.
const WELL_KNOWN_KEYS: &[&str] = &[
    "secret",
    "changeme",
    "change-me",
    "jwt_key",
    "asdf",
    "password",
    "please-change-this-jwt-key-in-production",
];

impl SessionArgs {
    /// Sessions for distributed mode: refuses to start without a real key.
    pub fn sessions_for_distributed(&self) -> anyhow::Result<Sessions> {
        let Some(key) = self.jwt_key.as_deref() else {
            bail!("JWT_KEY is not set; distributed mode needs a secret of at least {MIN_JWT_KEY_BYTES} bytes shared by every service");
        };
        check_jwt_key(key)?;
        Ok(self.sessions(key.as_bytes(), Mode::Distributed))
    }

    /// Sessions for embedded mode: `JWT_KEY` when set, otherwise a random key kept in
    /// `data_dir/jwt.key` so sign-ins survive a restart.
    pub fn sessions_for_embedded(&self, data_dir: &Path) -> anyhow::Result<Sessions> {
        let key = match self.jwt_key.as_deref() {
            Some(key) => {
                check_jwt_key(key)?;
                key.as_bytes().to_vec()
            }
            None => load_or_create_key(&data_dir.join("jwt.key"))?,
        };
        Ok(self.sessions(&key, Mode::Embedded))
    }

    fn sessions(&self, key: &[u8], mode: Mode) -> Sessions {
        let secure = self.cookie_secure.unwrap_or(mode == Mode::Distributed);
        Sessions::new(key, Duration::from_secs(self.jwt_ttl_seconds), secure)
    }
}

fn check_jwt_key(key: &str) -> anyhow::Result<()> {
    if key.len() < MIN_JWT_KEY_BYTES {
        bail!(
            "JWT_KEY is {} bytes; it must be at least {MIN_JWT_KEY_BYTES}",
            key.len()
        );
    }
    if WELL_KNOWN_KEYS
        .iter()
        .any(|k| k.eq_ignore_ascii_case(key.trim()))
    {
        bail!("JWT_KEY is a well-known example value; generate one, e.g. `openssl rand -hex 32`");
    }
    Ok(())
}

fn load_or_create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(key) = std::fs::read(path) {
        if key.len() >= MIN_JWT_KEY_BYTES {
            return Ok(key);
        }
    }
    let mut key = vec![0u8; 64];
    rand::rng().fill_bytes(&mut key);
    write_private_file(path, &key).with_context(|| format!("writing {}", path.display()))?;
    Ok(key)
}

fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(key: Option<&str>) -> SessionArgs {
        SessionArgs {
            jwt_key: key.map(str::to_owned),
            jwt_ttl_seconds: 60,
            cookie_secure: None,
        }
    }

    #[test]
    fn distributed_mode_refuses_a_missing_short_or_well_known_key() {
        assert!(args(None).sessions_for_distributed().is_err());
        assert!(args(Some("short")).sessions_for_distributed().is_err());
        let known = "please-change-this-jwt-key-in-production";
        assert!(args(Some(known)).sessions_for_distributed().is_err());
        assert!(args(Some(&"k".repeat(32)))
            .sessions_for_distributed()
            .is_ok());
    }

    #[test]
    fn embedded_mode_keeps_its_generated_key_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let first = args(None).sessions_for_embedded(dir.path()).unwrap();
        let token = first.issue("u1", "a@b.co").unwrap();
        let second = args(None).sessions_for_embedded(dir.path()).unwrap();
        assert!(
            second.verify(&token).is_some(),
            "a restart must not sign everybody out"
        );
    }
}
