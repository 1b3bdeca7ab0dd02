//! Rate limits behind one port, so every replica of a service can share one budget: in process
//! memory for embedded mode (one process), in Redis for distributed mode. Both adapters run the
//! same algorithm, GCRA (the generic cell rate algorithm): a key may take `max` hits at once,
//! and then one more each `per / max`; a refused hit is not counted and says how long to wait.
//! `crates/shared/tests/ratelimit` holds both to one conformance suite.

use std::collections::HashMap;
use std::fmt::Display;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use crate::time::unix_millis;

/// At most `max` hits at once, refilled evenly over `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub per: Duration,
}

impl Limit {
    pub const fn per_minute(max: u32) -> Self {
        Self {
            max,
            per: Duration::from_secs(60),
        }
    }

    /// The time one hit costs, and how far ahead of now the budget may be spent (ms).
    fn shape(self) -> (i64, i64) {
        let per = i64::try_from(self.per.as_millis()).unwrap_or(i64::MAX);
        let interval = (per / i64::from(self.max.max(1))).max(1);
        (interval, per - interval)
    }
}

/// What a hit is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Over the limit: nothing was counted; the next hit is allowed after this long.
    Refused {
        retry_after: Duration,
    },
}

#[async_trait]
pub trait Limiter: Send + Sync + 'static {
    /// Counts one hit on `key` under `limit`, or refuses it.
    async fn hit(&self, key: &str, limit: Limit) -> anyhow::Result<Decision>;
}

/// One limit a route applies to each caller (a user, a client address): the per-minute budget
/// `limit` under the name `name`, which keeps its keys apart from every other limit's. Over
/// the budget, the route answers 429 with `Retry-After`.
#[derive(Clone)]
pub struct Budget {
    limiter: Arc<dyn Limiter>,
    name: &'static str,
    limit: Limit,
}

impl Budget {
    pub fn per_minute(limiter: Arc<dyn Limiter>, name: &'static str, max: NonZeroU32) -> Self {
        Self {
            limiter,
            name,
            limit: Limit::per_minute(max.get()),
        }
    }

    /// Spends one hit of `caller`'s budget, or refuses with 429 (`Retry-After` in whole
    /// seconds, at least 1). A limiter that cannot be reached is a 500: the request is not let
    /// through uncounted.
    pub async fn spend(&self, caller: impl Display) -> Result<(), crate::ApiError> {
        let key = format!("{}:{caller}", self.name);
        match self.limiter.hit(&key, self.limit).await {
            Ok(Decision::Allowed) => Ok(()),
            Ok(Decision::Refused { retry_after }) => {
                Err(crate::ApiError::too_many_requests(retry_after))
            }
            Err(cause) => Err(crate::ApiError::internal(cause)),
        }
    }
}

/// GCRA on one key's theoretical arrival time `tat` (ms): the new `tat` when allowed, or the
/// wait when refused.
fn gcra(tat: Option<i64>, now: i64, limit: Limit) -> Result<i64, i64> {
    let (interval, tolerance) = limit.shape();
    let tat = tat.unwrap_or(now).max(now);
    let allowed_at = tat - tolerance;
    if allowed_at > now {
        Err(allowed_at - now)
    } else {
        Ok(tat + interval)
    }
}

fn refused(wait_ms: i64) -> Decision {
    Decision::Refused {
        retry_after: Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0)),
    }
}

/// The limiter of one process: for embedded mode, where one process is every replica.
#[derive(Default)]
pub struct LocalLimiter {
    keys: Mutex<LocalKeys>,
}

#[derive(Default)]
struct LocalKeys {
    tats: HashMap<String, i64>,
    /// When keys whose budget is whole again were last dropped.
    swept_at: i64,
}

#[async_trait]
impl Limiter for LocalLimiter {
    async fn hit(&self, key: &str, limit: Limit) -> anyhow::Result<Decision> {
        let now = unix_millis();
        let mut keys = self
            .keys
            .lock()
            .expect("the limiter lock is never poisoned");
        // A key whose tat has passed has its whole budget back: it need not be kept.
        if now - keys.swept_at > 60_000 {
            keys.tats.retain(|_, tat| *tat > now);
            keys.swept_at = now;
        }
        let tat = keys.tats.get(key).copied();
        Ok(match gcra(tat, now, limit) {
            Ok(next) => {
                keys.tats.insert(key.to_owned(), next);
                Decision::Allowed
            }
            Err(wait) => refused(wait),
        })
    }
}

/// The limiter every replica shares, in Redis: one script per hit, run atomically by Redis
/// with Redis's clock, so replicas with skewed clocks still agree. Each key expires when its
/// budget is whole again.
pub struct RedisLimiter {
    connection: redis::aio::ConnectionManager,
    prefix: String,
    script: redis::Script,
}

/// GCRA as above, on the key `KEYS[1]`: ARGV are the interval and the tolerance (ms). Returns
/// 0 when allowed, else the wait in ms.
const GCRA_SCRIPT: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allowed_at = tat - tolerance
if allowed_at > now then return allowed_at - now end
local next = tat + interval
redis.call('SET', KEYS[1], next, 'PX', next - now)
return 0
";

impl RedisLimiter {
    /// Connects to `url`; keys are stored under `prefix`.
    pub async fn connect(url: &str, prefix: impl Into<String>) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let connection = redis::aio::ConnectionManager::new(client).await?;
        Ok(Self {
            connection,
            prefix: prefix.into(),
            script: redis::Script::new(GCRA_SCRIPT),
        })
    }
}

#[async_trait]
impl Limiter for RedisLimiter {
    async fn hit(&self, key: &str, limit: Limit) -> anyhow::Result<Decision> {
        let (interval, tolerance) = limit.shape();
        let key = format!("{}{key}", self.prefix);
        let mut invocation = self.script.key(&key);
        invocation.arg(interval).arg(tolerance);
        let mut connection = self.connection.clone();
        let wait: i64 = match invocation.invoke_async(&mut connection).await {
            Ok(wait) => wait,
            // The connection manager reconnects after the call that found the connection
            // broken (Redis restarted), but that call fails: without this second try, the
            // first request after a restart answered 500 (found by the fault suite). A hit
            // counted by a first try whose answer was lost costs the caller one hit, no more.
            Err(error) if error.is_io_error() || error.is_connection_dropped() => {
                invocation.invoke_async(&mut connection).await?
            }
            Err(error) => return Err(error.into()),
        };
        Ok(if wait > 0 {
            refused(wait)
        } else {
            Decision::Allowed
        })
    }
}

#[async_trait]
impl crate::http::Probe for RedisLimiter {
    async fn probe(&self) -> anyhow::Result<()> {
        let mut connection = self.connection.clone();
        let _: String = redis::cmd("PING").query_async(&mut connection).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(limiter: &Arc<LocalLimiter>, name: &'static str, max: u32) -> Budget {
        Budget::per_minute(limiter.clone(), name, NonZeroU32::new(max).unwrap())
    }

    #[tokio::test]
    async fn a_spent_budget_answers_429_with_a_wait_of_at_least_a_second() {
        let limiter = Arc::new(LocalLimiter::default());
        let orders = budget(&limiter, "orders", 2);
        orders.spend("ann").await.unwrap();
        orders.spend("ann").await.unwrap();
        match orders.spend("ann").await {
            Err(crate::ApiError::TooManyRequests { retry_after_secs }) => {
                assert!((1..=30).contains(&retry_after_secs), "{retry_after_secs}");
            }
            other => panic!("expected 429, got {other:?}"),
        }
        // Another caller, and the same caller under another limit, have budgets of their own.
        orders.spend("bob").await.unwrap();
        budget(&limiter, "payments", 1).spend("ann").await.unwrap();
    }
}
