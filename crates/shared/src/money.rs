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
    // ".5" and "+.5" are numbers too: no digit before the point is a whole of 0.
    let whole = whole.strip_prefix('+').unwrap_or(whole);
    let whole: i64 = match whole {
        "" => 0,
        digits => digits.parse().map_err(|_| PriceError::NotPositive)?,
    };
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

/// Properties over generated inputs: the price parser reads what a person writes and never
/// accepts what it cannot store.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    proptest! {
        #[test]
        fn any_text_or_number_is_refused_or_read_into_range(text in any::<String>(), number in any::<f64>()) {
            for value in [json!(text), json!(number)] {
                if let Ok(cents) = parse_dollars(Some(&value)) {
                    prop_assert!((1..=MAX_PRICE_CENTS).contains(&cents), "{value} read as {cents}");
                }
            }
        }

        #[test]
        fn every_price_in_range_is_read_as_written(
            // Under a dollar half the time: written without a whole part (".05"), a case a
            // uniform draw over the range would almost never reach.
            cents in prop_oneof![1..100i64, 1..=MAX_PRICE_CENTS],
            plus in any::<bool>(),
            trailing_zeros in 0..3usize,
        ) {
            let (whole, fraction) = (cents / 100, cents % 100);
            let sign = if plus { "+" } else { "" };
            let written = if whole == 0 {
                format!("{sign}.{fraction:02}{}", "0".repeat(trailing_zeros))
            } else {
                format!("{sign}{whole}.{fraction:02}{}", "0".repeat(trailing_zeros))
            };
            prop_assert_eq!(parse_dollars(Some(&json!(written))), Ok(cents), "{}", written);
            // As a JSON number (the form the API documents), through f64 like any client.
            let number = cents as f64 / 100.0;
            prop_assert_eq!(parse_dollars(Some(&json!(number))), Ok(cents), "{}", number);
        }

        #[test]
        fn three_decimals_that_are_not_zero_are_refused(cents in 1..=MAX_PRICE_CENTS, thousandth in 1..10i64) {
            let written = format!("{}.{:02}{thousandth}", cents / 100, cents % 100);
            prop_assert_eq!(parse_dollars(Some(&json!(written))), Err(PriceError::TooPrecise));
        }
    }
}
