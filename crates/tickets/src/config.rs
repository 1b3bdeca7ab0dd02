//! Every setting of the tickets service, with its flag, environment variable and default.

use std::time::Duration;

/// How long a seller has to deliver a sold ticket without its file unless told otherwise.
const DEFAULT_DELIVERY_DEADLINE_HOURS: f64 = 48.0;

/// Settings of the tickets service.
#[derive(Debug, Clone, clap::Args)]
pub struct TicketsConfig {
    /// With a printed price (`faceValue`), the highest price a ticket may be listed at, as a
    /// percentage of it (for example 110); unset, no cap.
    #[arg(long, env = "RESALE_PRICE_CAP_PERCENT")]
    pub resale_price_cap_percent: Option<u32>,
    /// How long after the sale the seller of a ticket without its file has to upload it, in
    /// hours (fractions allowed); one hour before its event starts if that is sooner. A ticket
    /// not delivered by then is undelivered and its buyer refunded.
    #[arg(long, env = "DELIVERY_DEADLINE_HOURS", default_value_t = DEFAULT_DELIVERY_DEADLINE_HOURS, value_parser = positive_hours)]
    pub delivery_deadline_hours: f64,
}

impl Default for TicketsConfig {
    fn default() -> Self {
        Self {
            resale_price_cap_percent: None,
            delivery_deadline_hours: DEFAULT_DELIVERY_DEADLINE_HOURS,
        }
    }
}

impl TicketsConfig {
    pub(crate) fn delivery_rules(&self) -> DeliveryRules {
        DeliveryRules {
            after_sale: Duration::from_secs_f64(self.delivery_deadline_hours * 3600.0),
            before_start: BEFORE_START,
        }
    }
}

/// A ticket for an event must be delivered at the latest this long before the event starts.
const BEFORE_START: Duration = Duration::from_secs(3600);

/// When a sold ticket must be delivered by.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeliveryRules {
    pub after_sale: Duration,
    pub before_start: Duration,
}

impl DeliveryRules {
    /// The deadline (unix ms) of a ticket sold at `sold_at`, for an event starting at
    /// `event_starts_at` if any.
    pub fn deadline(&self, sold_at: i64, event_starts_at: Option<i64>) -> i64 {
        let millis = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let after_sale = sold_at.saturating_add(millis(self.after_sale));
        match event_starts_at {
            Some(starts_at) => after_sale.min(starts_at.saturating_sub(millis(self.before_start))),
            None => after_sale,
        }
    }
}

/// Hours as a positive, finite number of at most ten years.
fn positive_hours(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(hours) if hours.is_finite() && hours > 0.0 && hours <= 87_660.0 => Ok(hours),
        _ => Err(format!("{text:?} is not a number of hours above 0")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_is_the_sooner_of_the_wait_and_an_hour_before_the_start() {
        let rules = TicketsConfig::default().delivery_rules();
        let hour = 3_600_000;
        assert_eq!(rules.deadline(0, None), 48 * hour);
        assert_eq!(rules.deadline(0, Some(100 * hour)), 48 * hour);
        assert_eq!(rules.deadline(0, Some(10 * hour)), 9 * hour);
    }

    #[test]
    fn hours_must_be_positive() {
        assert_eq!(positive_hours("0.5"), Ok(0.5));
        assert!(positive_hours("0").is_err());
        assert!(positive_hours("-1").is_err());
        assert!(positive_hours("NaN").is_err());
        assert!(positive_hours("inf").is_err());
    }
}
