//! The GitTix an end-to-end test talks to: by default a `gittix` in embedded mode started for
//! the test; inside `scripts/cluster` the distributed cluster behind nginx, shared by every test
//! (so tests use unique emails and titles there).

use gittix_shared::fees::{FeeRate, Fees};

use crate::gittix::Gittix;

/// Set by `scripts/cluster`: the gateway of the running cluster.
const BASE_URL_VAR: &str = "GITTIX_E2E_BASE_URL";
/// Set by `scripts/cluster`: how long the cluster's orders hold their tickets.
const LOCK_SECONDS_VAR: &str = "GITTIX_E2E_LOCK_SECONDS";
const DEFAULT_LOCK_SECONDS: u64 = 15 * 60;
/// Set by `scripts/cluster`: the cluster's buyer fee.
const BUYER_FEE_VAR: &str = "GITTIX_E2E_BUYER_FEE_PERCENT";
/// The buyer fee of the embedded sites: one that rounds (12.5% of $49.50 is $6.1875), so every
/// page test sees all-in totals that differ from the prices.
const EMBEDDED_BUYER_FEE: &str = "12.5";
/// Set by `scripts/cluster`: the cluster's seller fee.
const SELLER_FEE_VAR: &str = "GITTIX_E2E_SELLER_FEE_PERCENT";
/// The seller fee of the embedded sites, so payouts differ from prices.
const EMBEDDED_SELLER_FEE: &str = "10";
/// The payout hold of the embedded sites, in hours: 1.8 seconds, so a journey sees its payout
/// paid.
const EMBEDDED_PAYOUT_HOLD_HOURS: &str = "0.0005";
/// Set by `scripts/cluster`: the Maildir where its SMTP server keeps what notifications sent.
const SMTP_MAILDIR_VAR: &str = "GITTIX_E2E_SMTP_MAILDIR";

pub struct Site {
    base_url: String,
    lock_seconds: u64,
    fees: Fees,
    /// Where the emails the site sent can be read (`.eml` files, or a Maildir).
    mail_dir: std::path::PathBuf,
    _embedded: Option<(Gittix, tempfile::TempDir)>,
}

/// Where an embedded site's emails go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mail {
    /// `.eml` files in its data directory, as `cargo run` does without SMTP_URL.
    Files,
    /// The test command's SMTP server.
    Smtp,
}

impl Site {
    pub fn start() -> Self {
        Self::with_lock_seconds(DEFAULT_LOCK_SECONDS)
    }

    /// An embedded GitTix whose orders hold a ticket for `seconds`; in the cluster, the
    /// cluster's own lock window applies (see [`Site::lock_seconds`]).
    pub fn with_lock_seconds(seconds: u64) -> Self {
        Self::embedded_or_cluster(seconds, Mail::Files)
    }

    /// An embedded GitTix that sends its emails through the test command's SMTP server (in the
    /// cluster, notifications always does).
    #[allow(dead_code, reason = "only the browser tests read emails")]
    pub fn with_smtp() -> Self {
        Self::embedded_or_cluster(DEFAULT_LOCK_SECONDS, Mail::Smtp)
    }

    fn embedded_or_cluster(seconds: u64, mail: Mail) -> Self {
        if let Ok(base_url) = std::env::var(BASE_URL_VAR) {
            let lock_seconds = std::env::var(LOCK_SECONDS_VAR)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(DEFAULT_LOCK_SECONDS);
            let rate = |var: &str| -> FeeRate {
                let percent = std::env::var(var).unwrap_or_else(|_| "0".to_owned());
                percent.parse().expect("the cluster's fees")
            };
            return Self {
                base_url,
                lock_seconds,
                fees: Fees {
                    buyer: rate(BUYER_FEE_VAR),
                    seller: rate(SELLER_FEE_VAR),
                },
                mail_dir: std::env::var(SMTP_MAILDIR_VAR)
                    .expect("scripts/cluster names its SMTP server's Maildir")
                    .into(),
                _embedded: None,
            };
        }
        let data = tempfile::tempdir().unwrap();
        let lock = seconds.to_string();
        // A port chosen here, so the links in its emails can name it.
        let port = gittix_testing::free_port().to_string();
        let public_url = format!("http://127.0.0.1:{port}");
        let mut env = vec![
            ("PORT", port.as_str()),
            ("PUBLIC_URL", public_url.as_str()),
            ("ORDER_LOCK_SECONDS", lock.as_str()),
            ("BUYER_FEE_PERCENT", EMBEDDED_BUYER_FEE),
            ("SELLER_FEE_PERCENT", EMBEDDED_SELLER_FEE),
            ("PAYOUT_HOLD_HOURS", EMBEDDED_PAYOUT_HOLD_HOURS),
        ];
        let smtp_url = (mail == Mail::Smtp).then(gittix_testing::mail::smtp_url);
        let mail_dir = match &smtp_url {
            None => data.path().join("data").join("mail"),
            Some(url) => {
                env.push(("SMTP_URL", url.as_str()));
                gittix_testing::mail::smtp_maildir()
            }
        };
        let gittix = Gittix::start(&[], &env, data.path());
        Self {
            base_url: gittix.base_url.clone(),
            lock_seconds: seconds,
            fees: Fees {
                buyer: EMBEDDED_BUYER_FEE.parse().unwrap(),
                seller: EMBEDDED_SELLER_FEE.parse().unwrap(),
            },
            mail_dir,
            _embedded: Some((gittix, data)),
        }
    }

    /// What a buyer pays for a ticket listed at `cents`, as the pages write it (`$55.69`).
    #[allow(dead_code, reason = "not every test binary checks prices")]
    pub fn buyer_pays(&self, cents: i64) -> String {
        dollars(self.fees.total(cents))
    }

    /// The buyer fee on a ticket listed at `cents`.
    #[allow(dead_code, reason = "not every test binary checks prices")]
    pub fn buyer_fee_cents(&self, cents: i64) -> i64 {
        self.fees.buyer.of(cents)
    }

    /// What the seller of a ticket sold at `cents` is paid, as the pages write it.
    #[allow(dead_code, reason = "only the payout journey checks payouts")]
    pub fn seller_receives(&self, cents: i64) -> String {
        dollars(cents - self.fees.seller.of(cents))
    }

    /// Where the emails this site sends can be read back (`gittix_testing::mail`).
    #[allow(dead_code, reason = "only the browser tests read emails")]
    pub fn mail_dir(&self) -> &std::path::Path {
        &self.mail_dir
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

/// `cents` as the pages write an amount: `$55.69`.
pub fn dollars(cents: i64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

/// An email no other test (or earlier run against the same cluster) has used.
pub fn unique_email(name: &str) -> String {
    format!(
        "{name}-{}@example.com",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}
