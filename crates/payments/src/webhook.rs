//! Stripe webhooks: `POST /api/payments/webhook`. The `Stripe-Signature` header is checked
//! (HMAC-SHA256 of `"{t}.{body}"` with the endpoint secret, `t` within five minutes), each event id
//! is stored to drop redeliveries, and refunds and disputes made outside GitTix are recorded.
//!
//! Verification uses the hmac and sha2 crates directly: async-stripe's own helper needs its
//! `webhook-events` feature, which compiles every Stripe event type for two fields we read.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// How old a signature may be: Stripe's own default tolerance.
pub const TOLERANCE_SECONDS: i64 = 300;

/// Why a webhook was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum SignatureError {
    Missing,
    Malformed,
    Stale,
    Mismatch,
}

/// Checks `header` (`t=...,v1=...[,v1=...]`) against `body` and `secret` at time `now` (seconds).
pub fn verify(
    secret: &str,
    header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    // Anyone can sign with an empty key: a secret set to "" must not make forgeries verify.
    if secret.trim().is_empty() {
        return Err(SignatureError::Mismatch);
    }
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", signature)) => signatures.push(signature),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    // abs_diff: `now - timestamp` overflows for a timestamp near i64::MIN (a forged header).
    if now.abs_diff(timestamp) > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    for signature in signatures {
        let Ok(expected) = hex::decode(signature) else {
            continue;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
            .map_err(|_| SignatureError::Malformed)?;
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        // Constant-time comparison.
        if mac.verify_slice(&expected).is_ok() {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

/// The header Stripe would send for `body` at `timestamp`, for tests and tools.
pub fn sign(secret: &str, body: &[u8], timestamp: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let signature = hex::encode(mac.finalize().into_bytes());
    format!("t={timestamp},v1={signature}")
}

/// The parts of a Stripe event GitTix reads.
#[derive(Debug, Deserialize)]
pub struct StripeEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub data: EventData,
}

#[derive(Debug, Deserialize)]
pub struct EventData {
    pub object: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";

    #[test]
    fn a_signature_made_with_the_secret_verifies() {
        let body = br#"{"id":"evt_1"}"#;
        let header = sign(SECRET, body, 1_000);
        assert_eq!(verify(SECRET, Some(&header), body, 1_010), Ok(()));
    }

    #[test]
    fn a_tampered_body_another_secret_or_an_old_signature_is_refused() {
        let body = br#"{"id":"evt_1"}"#;
        let header = sign(SECRET, body, 1_000);
        assert_eq!(
            verify(SECRET, Some(&header), br#"{"id":"evt_2"}"#, 1_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("whsec_other", Some(&header), body, 1_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, Some(&header), body, 1_000 + TOLERANCE_SECONDS + 1),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(SECRET, None, body, 1_000),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(SECRET, Some("t=1000"), body, 1_000),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn nothing_verifies_against_an_empty_secret() {
        let body = br#"{"id":"evt_1"}"#;
        for secret in ["", " "] {
            let header = sign(secret, body, 1_000);
            assert_eq!(
                verify(secret, Some(&header), body, 1_000),
                Err(SignatureError::Mismatch),
                "{secret:?}"
            );
        }
    }

    #[test]
    fn any_one_of_several_signatures_may_match() {
        let body = b"{}";
        let good = sign(SECRET, body, 1_000);
        let v1 = good.split_once(",v1=").unwrap().1;
        let header = format!("t=1000,v1={},v1={v1}", "00".repeat(32));
        assert_eq!(verify(SECRET, Some(&header), body, 1_000), Ok(()));
    }
}

/// Properties over generated headers: a forged or garbled `Stripe-Signature` is refused and never
/// panics the route; a genuine one verifies within the tolerance and only then.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(body);
        format!(
            "t={timestamp},v1={}",
            hex::encode(mac.finalize().into_bytes())
        )
    }

    proptest! {
        #[test]
        fn a_made_up_header_is_refused(header in "[ -~]{0,120}", now in any::<i64>(), body in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert!(verify("whsec_test", Some(&header), &body, now).is_err());
        }

        #[test]
        fn extreme_timestamps_are_refused_not_overflowed(t in prop_oneof![Just(i64::MIN), Just(i64::MAX), any::<i64>()], now in any::<i64>()) {
            let header = format!("t={t},v1=00");
            let body: &[u8] = b"{}";
            let expected = if now.abs_diff(t) > 300 {
                SignatureError::Stale
            } else {
                SignatureError::Mismatch
            };
            prop_assert_eq!(verify("whsec_test", Some(&header), body, now), Err(expected));
        }

        #[test]
        fn a_genuine_signature_verifies_within_the_tolerance_only(
            body in proptest::collection::vec(any::<u8>(), 0..64),
            signed_at in 0..4_000_000_000i64,
            skew in -1_000..1_000i64,
        ) {
            let header = sign("whsec_test", signed_at, &body);
            let outcome = verify("whsec_test", Some(&header), &body, signed_at + skew);
            if skew.abs() <= TOLERANCE_SECONDS {
                prop_assert_eq!(outcome, Ok(()));
            } else {
                prop_assert_eq!(outcome, Err(SignatureError::Stale));
            }
            prop_assert!(verify("whsec_other", Some(&header), &body, signed_at).is_err());
        }
    }
}
