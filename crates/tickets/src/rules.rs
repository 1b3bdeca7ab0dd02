//! The rules a ticket's title and price must follow.

use gittix_shared::money::{parse_dollars, PriceError};
use gittix_shared::validation::Validator;
use gittix_shared::ApiError;

pub const MAX_TITLE_CHARS: usize = 200;

/// A title and a price that passed validation.
pub struct ValidTicket {
    pub title: String,
    pub price_cents: i64,
}

/// Checks `title` and `price` (in dollars), reporting every failure in field order.
pub fn validate(
    title: Option<&serde_json::Value>,
    price: Option<&serde_json::Value>,
) -> Result<ValidTicket, ApiError> {
    let title = title
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .unwrap_or_default();
    let price = parse_dollars(price);
    let mut validator = Validator::new();
    validator.check(!title.is_empty(), "title", "Title is required");
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
