//! A session signed out while a replica is down (issue #17): the replica reads the revocation
//! when it comes back, and refuses the session within a second of answering ready.

use std::time::{Duration, Instant};

use serde_json::json;

use super::checks::Check;
use super::cluster::{argument, Cluster};
use crate::client::Http;
use crate::fixtures::sign_up;

/// How soon after the replica is ready again the revoked session must be refused.
const WITHIN: Duration = Duration::from_secs(1);

/// Kills `name`, signs a session out through the gateway `http` while it is down, starts it
/// again, and checks how soon it refuses that session.
pub async fn revoked_while_down(
    cluster: &Cluster,
    http: &Http,
    name: &str,
    patience: Duration,
) -> anyhow::Result<Check> {
    let command = cluster.command(name)?;
    let port = argument(&command, "PORT=")
        .ok_or_else(|| anyhow::anyhow!("no PORT= in {name}'s command"))?;
    let replica = Http::new(&format!("http://127.0.0.1:{port}"));
    let path = write_path(name)?;
    let account = sign_up(http, "fault-revoked").await?;
    anyhow::ensure!(
        takes(&replica, path, &account.cookie).await?,
        "{name} refused a session that was never signed out"
    );
    cluster.signal(name, "KILL").await?;
    http.post("/api/users/signout", Some(&account.cookie), &json!({}))
        .await?
        .expect(200)?;
    cluster.start(name)?;
    cluster.wait_ready(name, patience).await?;
    let ready = Instant::now();
    loop {
        // What a check sees is the state when it was sent: a check sent in time counts.
        let sent = ready.elapsed();
        if !takes(&replica, path, &account.cookie).await? {
            return Ok(Check {
                name: "a session signed out while the replica was down is refused once it is back",
                held: true,
                detail: format!("refused {} ms after it was ready", sent.as_millis()),
            });
        }
        if sent > WITHIN {
            return Ok(Check {
                name: "a session signed out while the replica was down is refused once it is back",
                held: false,
                detail: format!("still taken {} ms after it was ready", sent.as_millis()),
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether the replica takes the session: an empty write to its route is 400 when signed in
/// (or 429 once the user's budget is spent, counted only for a session that was taken), 401
/// when not. It changes nothing either way.
async fn takes(replica: &Http, path: &str, cookie: &str) -> anyhow::Result<bool> {
    let reply = replica.post(path, Some(cookie), &json!({})).await?;
    match reply.status.as_u16() {
        400 | 429 => Ok(true),
        401 => Ok(false),
        other => anyhow::bail!("an empty write to {path} answered {other}"),
    }
}

/// The write route of a replica of tickets, orders or payments (`orders-2`: `/api/orders`).
fn write_path(name: &str) -> anyhow::Result<&'static str> {
    match name.split('-').next() {
        Some("tickets") => Ok("/api/tickets"),
        Some("orders") => Ok("/api/orders"),
        Some("payments") => Ok("/api/payments"),
        _ => anyhow::bail!("{name} takes no session"),
    }
}
