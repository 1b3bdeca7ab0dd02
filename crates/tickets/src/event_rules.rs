//! The rules an event's name, venue, city and start must follow.

use gittix_shared::time::{parse_iso8601, unix_millis};
use gittix_shared::validation::Validator;
use gittix_shared::ApiError;

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_CITY_CHARS: usize = 100;
/// How far ahead an event may start: two years (of 365.25 days).
pub const MAX_AHEAD_MS: i64 = 2 * 36_525 * 864_000;

/// An event that passed validation.
#[derive(Debug, PartialEq, Eq)]
pub struct ValidEvent {
    pub name: String,
    pub venue: String,
    pub city: String,
    /// Unix milliseconds.
    pub starts_at: i64,
}

/// The trimmed text of a JSON string field, if it is one.
fn text(value: Option<&serde_json::Value>) -> Option<&str> {
    value.and_then(serde_json::Value::as_str).map(str::trim)
}

/// Checks the fields of `POST /api/events`, reporting every failure in field order, against the
/// time `now` (unix ms). Texts follow the shared text rule (only invisible characters is
/// nothing; no control characters); `startsAt` is an ISO-8601 time with its offset.
pub fn validate(
    name: Option<&serde_json::Value>,
    venue: Option<&serde_json::Value>,
    city: Option<&serde_json::Value>,
    starts_at: Option<&serde_json::Value>,
    now: i64,
) -> Result<ValidEvent, ApiError> {
    let mut validator = Validator::new();
    let mut field = |value, field: &str, label: &str, max: usize| {
        let text = validator
            .required_text(text(value), field, label, &format!("{label} is required"))
            .unwrap_or_default()
            .to_owned();
        validator.check(
            text.chars().count() <= max,
            field,
            &format!("{label} must be at most {max} characters"),
        );
        text
    };
    let name = field(name, "name", "Name", MAX_NAME_CHARS);
    let venue = field(venue, "venue", "Venue", MAX_NAME_CHARS);
    let city = field(city, "city", "City", MAX_CITY_CHARS);
    let starts = text(starts_at).and_then(parse_iso8601);
    match starts {
        None => validator.check(
            false,
            "startsAt",
            "startsAt must be a date and time with its offset, such as 2027-06-01T20:00:00+02:00",
        ),
        Some(at) => validator
            .check(at > now, "startsAt", "The event must start in the future")
            .check(
                at <= now + MAX_AHEAD_MS,
                "startsAt",
                "The event must start within 2 years",
            ),
    };
    validator.finish()?;
    Ok(ValidEvent {
        name,
        venue,
        city,
        starts_at: starts.unwrap_or_default(),
    })
}

/// [`validate`] against the clock.
pub fn validate_now(
    name: Option<&serde_json::Value>,
    venue: Option<&serde_json::Value>,
    city: Option<&serde_json::Value>,
    starts_at: Option<&serde_json::Value>,
) -> Result<ValidEvent, ApiError> {
    validate(name, venue, city, starts_at, unix_millis())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn messages(error: ApiError) -> String {
        format!("{error:?}")
    }

    #[test]
    fn a_valid_event_is_trimmed_and_its_start_read_with_its_offset() {
        let valid = validate(
            Some(&json!("  Rust Fest ")),
            Some(&json!("Arena")),
            Some(&json!("Lyon")),
            Some(&json!("2027-06-01T20:00:00+02:00")),
            NOW,
        )
        .unwrap();
        assert_eq!(valid.name, "Rust Fest");
        assert_eq!(Some(valid.starts_at), parse_iso8601("2027-06-01T18:00:00Z"));
    }

    #[test]
    fn every_field_is_checked() {
        let refused = validate(
            None,
            Some(&json!(" ")),
            Some(&json!("x".repeat(101))),
            None,
            NOW,
        )
        .unwrap_err();
        let text = messages(refused);
        for expected in [
            "Name is required",
            "Venue is required",
            "City must be at most 100 characters",
            "startsAt must be a date and time with its offset",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
    }

    #[test]
    fn the_start_is_in_the_future_within_two_years_and_has_an_offset() {
        let at = |starts: &str| {
            validate(
                Some(&json!("n")),
                Some(&json!("v")),
                Some(&json!("c")),
                Some(&json!(starts)),
                NOW,
            )
            .map_err(messages)
        };
        assert!(at("2027-02-01T00:00:00Z").is_ok());
        // `NOW` itself has begun.
        assert!(at("2027-01-15T08:00:00Z")
            .unwrap_err()
            .contains("in the future"));
        assert!(at("2026-01-01T00:00:00Z")
            .unwrap_err()
            .contains("in the future"));
        assert!(at("2029-02-01T00:00:00Z")
            .unwrap_err()
            .contains("within 2 years"));
        assert!(at("2027-06-01T20:00:00")
            .unwrap_err()
            .contains("with its offset"));
        assert!(at("2027-06-01").unwrap_err().contains("with its offset"));
    }
}
