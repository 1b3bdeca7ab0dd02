//! The expiration service's settings. Embedded mode keeps the timers in the service's own
//! database and needs none of them; `gittix serve expiration` keeps them in Redis.

const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";
const DEFAULT_REDIS_TIMERS_KEY: &str = "gittix:expiration:timers";

/// Settings of the expiration service.
#[derive(Debug, Clone, clap::Args)]
pub struct ExpirationConfig {
    /// The Redis of `serve expiration` (its timers: run it with appendonly persistence) and of
    /// `serve auth` (the rate limits every replica shares).
    #[arg(long, env = "REDIS_URL", default_value = DEFAULT_REDIS_URL)]
    pub redis_url: String,

    /// `serve expiration`: the Redis key of the timers' sorted set.
    #[arg(long, env = "REDIS_TIMERS_KEY", default_value = DEFAULT_REDIS_TIMERS_KEY)]
    pub redis_timers_key: String,
}

impl Default for ExpirationConfig {
    fn default() -> Self {
        Self {
            redis_url: DEFAULT_REDIS_URL.to_owned(),
            redis_timers_key: DEFAULT_REDIS_TIMERS_KEY.to_owned(),
        }
    }
}
