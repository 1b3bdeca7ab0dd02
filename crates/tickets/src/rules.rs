//! The rules a ticket's title and price must follow.

use gittix_shared::money::{price_cents, JsonPrice, PriceError};
use gittix_shared::validation::Validator;
use gittix_shared::ApiError;

pub const MAX_TITLE_CHARS: usize = 200;

/// A title and a price that passed validation.
pub struct ValidTicket {
    pub title: String,
    pub price_cents: i64,
}

/// Checks `title` and `price` (in dollars), reporting every failure in field order. The title
/// follows the shared text rule (only invisible characters is no title; no control characters).
pub fn validate(
    title: Option<&serde_json::Value>,
    price: Option<&JsonPrice>,
) -> Result<ValidTicket, ApiError> {
    let title = title.and_then(serde_json::Value::as_str).map(str::trim);
    let price = price_cents(price);
    let mut validator = Validator::new();
    let title = validator
        .required_text(title, "title", "Title", "Title is required")
        .unwrap_or_default();
    validator.check(
        title.chars().count() <= MAX_TITLE_CHARS,
        "title",
        "Title must be at most 200 characters",
    );
    let price_message = match price {
        Err(PriceError::NotPositive) => "Price must be greater than 0",
        Err(PriceError::TooPrecise) => "Price must have at most 2 decimal places",
        Err(PriceError::TooLarge) => "Price must be at most 1000000",
        Ok(_) => "",
    };
    validator.check(price.is_ok(), "price", price_message);
    validator.finish()?;
    Ok(ValidTicket {
        title: title.to_owned(),
        price_cents: price.unwrap_or_default(),
    })
}
