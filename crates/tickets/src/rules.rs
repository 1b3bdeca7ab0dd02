//! The rules a ticket's fields must follow: its title and price (the original's), and the seat,
//! printed price and event it may have; and the resale cap.

use gittix_shared::id::is_id;
use gittix_shared::money::{price_cents, JsonPrice, PriceError};
use gittix_shared::validation::{is_blank, Validator};
use gittix_shared::ApiError;

pub const MAX_TITLE_CHARS: usize = 200;
/// Section, row and seat: short labels such as "Balcony", "K" or "14".
pub const MAX_SEAT_CHARS: usize = 20;

/// The fields of `POST /api/tickets` and `PUT /api/tickets/:id` that passed validation. For an
/// optional field `None` means "not given" (kept as it is by an edit); a seat label given as
/// empty text is `Some("")`, which clears it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ValidTicket {
    pub title: String,
    pub price_cents: i64,
    pub event_id: Option<String>,
    pub section: Option<String>,
    pub row: Option<String>,
    pub seat: Option<String>,
    pub face_value_cents: Option<i64>,
}

/// The body as sent, each field read leniently (any JSON), checked by [`validate`].
#[derive(Debug, Default)]
pub struct TicketFields<'a> {
    pub title: Option<&'a serde_json::Value>,
    pub price: Option<&'a JsonPrice>,
    pub event_id: Option<&'a serde_json::Value>,
    pub section: Option<&'a serde_json::Value>,
    pub row: Option<&'a serde_json::Value>,
    pub seat: Option<&'a serde_json::Value>,
    pub face_value: Option<&'a JsonPrice>,
}

fn price_message(price: Result<i64, PriceError>, label: &str) -> String {
    match price {
        Err(PriceError::NotPositive) => format!("{label} must be greater than 0"),
        Err(PriceError::TooPrecise) => format!("{label} must have at most 2 decimal places"),
        Err(PriceError::TooLarge) => format!("{label} must be at most 1000000"),
        Ok(_) => String::new(),
    }
}

/// Checks every field, reporting each failure in field order. The title follows the shared
/// text rule (only invisible characters is no title; no control characters); so do the seat
/// labels, which are optional. `null` is the same as a missing optional field.
pub fn validate(fields: &TicketFields<'_>) -> Result<ValidTicket, ApiError> {
    let mut validator = Validator::new();
    let title = fields
        .title
        .and_then(serde_json::Value::as_str)
        .map(str::trim);
    let title = validator
        .required_text(title, "title", "Title", "Title is required")
        .unwrap_or_default();
    validator.check(
        title.chars().count() <= MAX_TITLE_CHARS,
        "title",
        "Title must be at most 200 characters",
    );
    let price = price_cents(fields.price);
    validator.check(price.is_ok(), "price", &price_message(price, "Price"));

    fn given(value: Option<&serde_json::Value>) -> Option<&serde_json::Value> {
        value.filter(|v| !v.is_null())
    }
    let event_id = given(fields.event_id).map(|v| v.as_str().map(str::trim));
    validator.check(
        !matches!(event_id, Some(None)),
        "eventId",
        "eventId must be an event's id",
    );
    let event_id = event_id.flatten();
    let mut label = |value: Option<&serde_json::Value>, field: &str, name: &str| {
        let text = given(value).map(|v| v.as_str().map(str::trim));
        let text = text?;
        let Some(text) = text else {
            validator.check(false, field, &format!("{name} must be text"));
            return None;
        };
        let clean = validator.no_control_characters(Some(text), field, name);
        let short = text.chars().count() <= MAX_SEAT_CHARS;
        validator.check(
            short,
            field,
            &format!("{name} must be at most {MAX_SEAT_CHARS} characters"),
        );
        let text = if is_blank(text) { "" } else { text };
        (clean && short).then(|| text.to_owned())
    };
    let section = label(fields.section, "section", "Section");
    let row = label(fields.row, "row", "Row");
    let seat = label(fields.seat, "seat", "Seat");
    let face_value = fields
        .face_value
        .filter(|v| !v.is_null())
        .map(JsonPrice::cents);
    if let Some(face_value) = face_value {
        validator.check(
            face_value.is_ok(),
            "faceValue",
            &price_message(face_value, "faceValue"),
        );
    }
    validator.finish()?;
    Ok(ValidTicket {
        title: title.to_owned(),
        price_cents: price.unwrap_or_default(),
        // An id that is not one names no event: refused as such by the route.
        event_id: event_id.map(|id| {
            if is_id(id) {
                id.to_owned()
            } else {
                String::new()
            }
        }),
        section,
        row,
        seat,
        face_value_cents: face_value.and_then(Result::ok),
    })
}

/// The resale cap (`RESALE_PRICE_CAP_PERCENT`): with a printed price, a ticket may be listed at
/// most at `cap_percent` of it. Refuses a price above the cap, naming the cap in dollars.
pub fn within_resale_cap(
    price_cents: i64,
    face_value_cents: Option<i64>,
    cap_percent: Option<u32>,
) -> Result<(), ApiError> {
    let (Some(face), Some(cap)) = (face_value_cents, cap_percent) else {
        return Ok(());
    };
    // In hundredths of a cent, so the comparison is exact: no rounding decides a refusal.
    let cap = i128::from(cap);
    if i128::from(price_cents) * 100 <= i128::from(face) * cap {
        return Ok(());
    }
    let cap_cents = i64::try_from(i128::from(face) * cap / 100).unwrap_or(i64::MAX);
    let mut validator = Validator::new();
    validator.check(
        false,
        "price",
        &format!(
            "Price is above the resale cap of ${}",
            gittix_shared::money::dollars_text(cap_cents)
        ),
    );
    validator.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each refused rule as (field, message).
    fn failures(error: ApiError) -> Vec<(String, String)> {
        match error {
            ApiError::Validation(fields) => {
                fields.into_iter().map(|f| (f.field, f.message)).collect()
            }
            other => panic!("not a validation error: {other:?}"),
        }
    }

    fn failure(field: &str, message: &str) -> Vec<(String, String)> {
        vec![(field.to_owned(), message.to_owned())]
    }

    fn price(text: &str) -> JsonPrice {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn the_original_body_is_still_a_ticket() {
        let title = serde_json::json!("Concert");
        let price = price("20");
        let valid = validate(&TicketFields {
            title: Some(&title),
            price: Some(&price),
            ..TicketFields::default()
        })
        .unwrap();
        assert_eq!(
            valid,
            ValidTicket {
                title: "Concert".into(),
                price_cents: 2000,
                ..ValidTicket::default()
            }
        );
    }

    #[test]
    fn seat_labels_are_short_text_and_empty_clears_them() {
        let (title, price) = (serde_json::json!("Concert"), price("20"));
        let (section, row, seat) = (
            serde_json::json!(" Balcony "),
            serde_json::json!(""),
            serde_json::json!("x".repeat(21)),
        );
        let refused = validate(&TicketFields {
            title: Some(&title),
            price: Some(&price),
            section: Some(&section),
            row: Some(&row),
            seat: Some(&seat),
            ..TicketFields::default()
        })
        .unwrap_err();
        assert_eq!(
            failures(refused),
            failure("seat", "Seat must be at most 20 characters")
        );
        let number = serde_json::json!(14);
        let refused = validate(&TicketFields {
            title: Some(&title),
            price: Some(&price),
            seat: Some(&number),
            ..TicketFields::default()
        })
        .unwrap_err();
        assert_eq!(failures(refused), failure("seat", "Seat must be text"));
        let valid = validate(&TicketFields {
            title: Some(&title),
            price: Some(&price),
            section: Some(&section),
            row: Some(&row),
            ..TicketFields::default()
        })
        .unwrap();
        assert_eq!(
            (valid.section.as_deref(), valid.row.as_deref(), valid.seat),
            (Some("Balcony"), Some(""), None)
        );
    }

    #[test]
    fn the_cap_refuses_only_a_price_above_it() {
        assert!(within_resale_cap(5000, Some(4000), Some(125)).is_ok());
        let refused = within_resale_cap(5001, Some(4000), Some(125)).unwrap_err();
        assert_eq!(
            failures(refused),
            failure("price", "Price is above the resale cap of $50")
        );
        // A cap that is not whole cents is shown rounded down, and decided exactly.
        let refused = within_resale_cap(1234, Some(1233), Some(100)).unwrap_err();
        assert_eq!(
            failures(refused),
            failure("price", "Price is above the resale cap of $12.33")
        );
        assert!(within_resale_cap(1, Some(1), Some(110)).is_ok());
        assert!(within_resale_cap(2, Some(1), Some(110)).is_err());
        // No cap, or no printed price: anything goes.
        assert!(within_resale_cap(100_000, None, Some(100)).is_ok());
        assert!(within_resale_cap(100_000, Some(1), None).is_ok());
    }
}
