//! Sessions that ended before their tokens expire: what `session:revoked` says, kept in memory
//! by every replica of every service until the tokens it names expire anyway.
//!
//! Each process follows `session:revoked` with a consumer group of its own (every replica must
//! see every revocation, so they cannot share one), starting from the revocations of the last
//! token lifetime: a replica that was down when a session was revoked reads it when it starts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::bus::{Bus, DeliverySettings, GroupStart};
use crate::events::{Event, SessionRevoked};
use crate::time::unix_millis;

/// How often the follower retries after the bus failed it.
const RETRY: Duration = Duration::from_millis(500);

/// The revocations one process knows, shared by every [`super::Sessions`] cloned from one.
#[derive(Default)]
pub(crate) struct Revoked {
    /// Revoked session ids, each with the time (unix ms) its token expires.
    sessions: HashMap<String, i64>,
    /// Per user, the time (unix ms) before which every session is revoked.
    users: HashMap<String, i64>,
    /// When the expired entries were last dropped.
    pruned_at: i64,
}

impl Revoked {
    /// Whether the session `sid` of `user`, issued at `issued_ms`, is revoked.
    pub(crate) fn covers(&self, user: &str, sid: &str, issued_ms: i64) -> bool {
        self.sessions.contains_key(sid)
            || self
                .users
                .get(user)
                .is_some_and(|before| issued_ms < *before)
    }

    /// Records `revoked`; entries whose tokens have all expired (after `ttl`) are dropped.
    pub(crate) fn apply(&mut self, revoked: &SessionRevoked, ttl: Duration) {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let now = unix_millis();
        if let Some(sid) = &revoked.sid {
            // Its token was issued at most a lifetime ago, so it expires within one from now.
            let expires = super::issued_ms(sid).unwrap_or(now) + ttl_ms;
            if expires > now {
                self.sessions.insert(sid.clone(), expires);
            }
        }
        if let Some(before) = revoked.before {
            let entry = self.users.entry(revoked.user_id.clone()).or_insert(before);
            *entry = (*entry).max(before);
        }
        if now - self.pruned_at > 60_000 {
            self.sessions.retain(|_, expires| *expires > now);
            self.users
                .retain(|_, before| before.saturating_add(ttl_ms) > now);
            self.pruned_at = now;
        }
    }
}

pub(crate) type SharedRevoked = Arc<RwLock<Revoked>>;

/// Whether a process's follower has read every revocation published before it started: until
/// then a revoked session could still be taken, so the process is not ready (`/readyz`).
#[derive(Default)]
pub struct RevocationsRead(AtomicBool);

impl RevocationsRead {
    pub fn is_read(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn set(&self) {
        self.0.store(true, Ordering::Release);
    }
}

#[async_trait::async_trait]
impl crate::http::Probe for RevocationsRead {
    async fn probe(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.is_read(), "the revoked sessions are not read yet");
        Ok(())
    }
}

/// Follows `session:revoked` on `bus` into `sessions` until `shutdown`, in a consumer group of
/// this process's own that starts with the revocations of the last token lifetime. `read` is
/// set once the follower has applied every revocation published before it started.
pub fn follow(
    sessions: super::Sessions,
    bus: Arc<dyn Bus>,
    shutdown: CancellationToken,
    read: Arc<RevocationsRead>,
) -> JoinHandle<()> {
    let group = format!("session-revocations-{}", uuid::Uuid::now_v7().simple());
    let since = unix_millis() - i64::try_from(sessions.ttl().as_millis()).unwrap_or(i64::MAX);
    let settings = DeliverySettings {
        start: GroupStart::PublishedSince(since),
        // A process that is gone leaves its group behind; the bus forgets it after this long.
        forget_when_idle: Some(Duration::from_secs(10 * 60)),
        ..DeliverySettings::default()
    };
    tokio::spawn(async move {
        let subjects = [SessionRevoked::SUBJECT.to_owned()];
        while !shutdown.is_cancelled() {
            let mut subscription = match bus.subscribe(&group, &subjects, &settings).await {
                Ok(subscription) => subscription,
                Err(e) => {
                    tracing::warn!(error = %e, "following session:revoked failed; retrying");

                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(RETRY) => continue,
                    }
                }
            };
            loop {
                // Asked after each revocation applied until the answer is yes. A failed answer
                // is asked again soon, not after the next revocation: with none coming, the
                // process would stay unready.
                if !read.is_read() {
                    match subscription.caught_up().await {
                        Ok(true) => read.set(),
                        Ok(false) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "asking whether session:revoked is read failed; asking again");
                            tokio::select! {
                                () = shutdown.cancelled() => return,
                                () = tokio::time::sleep(RETRY) => continue,
                            }
                        }
                    }
                }
                let delivery = tokio::select! {
                    () = shutdown.cancelled() => return,
                    delivery = subscription.next() => delivery,
                };
                let delivery = match delivery {
                    Ok(delivery) => delivery,
                    Err(e) => {
                        tracing::warn!(error = %e, "reading session:revoked failed; retrying");
                        break;
                    }
                };
                match serde_json::from_slice::<SessionRevoked>(&delivery.message.payload) {
                    Ok(revoked) => sessions.revoke(&revoked),
                    // Nothing to apply; logged, and not delivered again.
                    Err(e) => {
                        tracing::error!(error = %e, "a session:revoked message that does not parse")
                    }
                }
                if let Err(e) = delivery.ack().await {
                    tracing::warn!(error = %e, "acknowledging session:revoked failed");
                }
            }
        }
    })
}
