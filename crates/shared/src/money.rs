//! Money: stored and sent in events as integer cents, shown in the API as a JSON number of dollars
//! (`20`, `19.99`), as the original did.

use serde::Serializer;

/// The largest price accepted, in cents ($1,000,000).
pub const MAX_PRICE_CENTS: i64 = 100_000_000;

/// Serializes cents as dollars: a whole number when there are no cents, else two decimals.
pub fn serialize_dollars<S: Serializer>(cents: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    if cents % 100 == 0 {
        serializer.serialize_i64(cents / 100)
    } else {
        // Exact enough: the nearest double to n/100 prints as the two-decimal number.
        #[allow(clippy::cast_precision_loss)]
        serializer.serialize_f64(*cents as f64 / 100.0)
    }
}

/// Why a price was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceError {
    /// Missing, not a number, zero or negative.
    NotPositive,
    /// More than two decimal places.
    TooPrecise,
    /// Above [`MAX_PRICE_CENTS`].
    TooLarge,
}

/// Reads a price in dollars from a JSON number or numeric string into cents.
pub fn parse_dollars(value: Option<&serde_json::Value>) -> Result<i64, PriceError> {
    let text = match value {
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(serde_json::Value::String(s)) => s.trim().to_owned(),
        _ => return Err(PriceError::NotPositive),
    };
    let number: f64 = text.parse().map_err(|_| PriceError::NotPositive)?;
    if !number.is_finite() || number <= 0.0 {
        return Err(PriceError::NotPositive);
    }
    if number * 100.0 > MAX_PRICE_CENTS as f64 {
        return Err(PriceError::TooLarge);
    }
    // Decimals are counted on the written form ("10.50" has two; "1e-3" is refused below).
    let plain = !text.contains(['e', 'E']);
    let decimals = text
        .split_once('.')
        .map_or(0, |(_, fraction)| fraction.trim_end_matches('0').len());
    if !plain || decimals > 2 {
        return if plain {
            Err(PriceError::TooPrecise)
        } else {
            scientific_to_cents(number)
        };
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let whole: i64 = whole.parse().map_err(|_| PriceError::NotPositive)?;
    let fraction = format!("{:0<2}", fraction.trim_end_matches('0'));
    let cents: i64 = fraction.parse().map_err(|_| PriceError::NotPositive)?;
    Ok(whole * 100 + cents)
}

/// A price written in exponent form (`1e2`, `1.5E1`), accepted when it is whole cents.
fn scientific_to_cents(number: f64) -> Result<i64, PriceError> {
    let cents = (number * 100.0).round();
    // Under a cent (`1e-9`) rounds to 0 cents, within the tolerance: too precise, not free.
    if cents < 1.0 || (number * 100.0 - cents).abs() > 1e-6 {
        return Err(PriceError::TooPrecise);
    }
    // In range: checked against MAX_PRICE_CENTS above.
    #[allow(clippy::cast_possible_truncation)]
    Ok(cents as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: serde_json::Value) -> Result<i64, PriceError> {
        parse_dollars(Some(&value))
    }

    #[test]
    fn reads_dollars_into_cents() {
        assert_eq!(parse(json!(20)), Ok(2000));
        assert_eq!(parse(json!(19.99)), Ok(1999));
        assert_eq!(parse(json!(0.01)), Ok(1));
        assert_eq!(parse(json!(10.5)), Ok(1050));
        assert_eq!(parse(json!("12.30")), Ok(1230));
        assert_eq!(parse(json!(1e2)), Ok(10000));
    }

    #[test]
    fn refuses_missing_non_positive_and_too_precise_prices() {
        assert_eq!(parse_dollars(None), Err(PriceError::NotPositive));
        assert_eq!(parse(json!(0)), Err(PriceError::NotPositive));
        assert_eq!(parse(json!(-10)), Err(PriceError::NotPositive));
        assert_eq!(parse(json!("abc")), Err(PriceError::NotPositive));
        assert_eq!(parse(json!(null)), Err(PriceError::NotPositive));
        assert_eq!(parse(json!(10.001)), Err(PriceError::TooPrecise));
        assert_eq!(parse(json!("1.234")), Err(PriceError::TooPrecise));
        assert_eq!(parse(json!(1e12)), Err(PriceError::TooLarge));
        assert_eq!(parse(json!(1e-9)), Err(PriceError::TooPrecise));
        assert_eq!(parse(json!("1e-8")), Err(PriceError::TooPrecise));
    }

    #[test]
    fn shows_cents_as_dollars() {
        #[derive(serde::Serialize)]
        struct P(#[serde(serialize_with = "serialize_dollars")] i64);
        assert_eq!(serde_json::to_string(&P(2000)).unwrap(), "20");
        assert_eq!(serde_json::to_string(&P(1999)).unwrap(), "19.99");
        assert_eq!(serde_json::to_string(&P(1050)).unwrap(), "10.5");
        assert_eq!(serde_json::to_string(&P(1)).unwrap(), "0.01");
    }
}
