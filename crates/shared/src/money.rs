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

/// [`serialize_dollars`] for an amount that may be absent (skip it when `None`).
pub fn serialize_optional_dollars<S: Serializer>(
    cents: &Option<i64>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match cents {
        Some(cents) => serialize_dollars(cents, serializer),
        None => serializer.serialize_none(),
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

/// A price as the request wrote it: the JSON text of the value, a number's digits exactly as
/// sent (`19.99`, `1e1`, `1.0000000000000001`) or a string (`"19.99"`, as the original client
/// sends). Never read through `f64`, which would round `1.0000000000000001` to `1`.
///
/// It holds serde_json's `RawValue` (the `raw_value` feature, which changes nothing else), so it
/// can be read only by serde_json itself, as [`crate::json::JsonBody`] does.
#[derive(Debug, serde::Deserialize)]
#[serde(transparent)]
pub struct JsonPrice(Box<serde_json::value::RawValue>);

impl JsonPrice {
    /// The price in cents: a JSON number, or a string holding one (trimmed); anything else
    /// (`null`, `true`, an object) is [`PriceError::NotPositive`], as a missing price is.
    pub fn cents(&self) -> Result<i64, PriceError> {
        let text = self.0.get();
        match text.as_bytes().first() {
            Some(b'"') => match serde_json::from_str::<String>(text) {
                Ok(string) => parse_dollars(&string),
                Err(_) => Err(PriceError::NotPositive),
            },
            Some(b'-' | b'0'..=b'9') => parse_dollars(text),
            _ => Err(PriceError::NotPositive),
        }
    }
}

impl JsonPrice {
    /// Whether the field was written as `null` (for an optional price: not given).
    pub fn is_null(&self) -> bool {
        self.0.get() == "null"
    }
}

/// `cents` as a person reads dollars: `45`, `45.50`.
pub fn dollars_text(cents: i64) -> String {
    if cents % 100 == 0 {
        format!("{}", cents / 100)
    } else {
        format!("{}.{:02}", cents / 100, (cents % 100).abs())
    }
}

/// Reads an optional price field: missing is [`PriceError::NotPositive`].
pub fn price_cents(price: Option<&JsonPrice>) -> Result<i64, PriceError> {
    price.map_or(Err(PriceError::NotPositive), JsonPrice::cents)
}

/// Reads a price written in dollars (a JSON number's text, a string's content, a query
/// parameter) into cents, exactly: the decimal value of the text must be whole cents, above 0
/// and at most [`MAX_PRICE_CENTS`].
///
/// The text is trimmed, then read as Rust reads a float, without `inf` and `NaN`: an optional
/// sign, digits with an optional point (`20`, `19.99`, `.5`, `+.5`, `5.`), and an optional
/// exponent (`1e2`, `1.5E1`, `1999e-2`). Refused, in this order: not such a number, zero or
/// negative ([`PriceError::NotPositive`]); above the limit ([`PriceError::TooLarge`]); a
/// fraction of a cent ([`PriceError::TooPrecise`], `10.001`, `1.000000001e0`).
pub fn parse_dollars(text: &str) -> Result<i64, PriceError> {
    let decimal = Decimal::parse(text.trim()).ok_or(PriceError::NotPositive)?;
    if decimal.digits.is_empty() || decimal.negative {
        return Err(PriceError::NotPositive);
    }
    decimal.to_cents()
}

/// A number written in decimal: `digits` × 10^`scale`, with neither leading nor trailing zeros in
/// `digits` (no digits: zero).
struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    scale: i64,
}

/// How far an exponent is read: far beyond any price in either direction, and small enough that
/// adding a body's worth of digits cannot overflow.
const EXPONENT_LIMIT: i64 = 1 << 40;

impl Decimal {
    fn parse(text: &str) -> Option<Self> {
        let (negative, unsigned) = split_sign(text);
        let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
            Some((mantissa, exponent)) => (mantissa, Some(exponent)),
            None => (unsigned, None),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction)
        {
            return None;
        }
        let exponent = match exponent {
            Some(exponent) => read_exponent(exponent)?,
            None => 0,
        };
        let mut digits: Vec<u8> = whole
            .bytes()
            .chain(fraction.bytes())
            .skip_while(|&b| b == b'0')
            .map(|b| b - b'0')
            .collect();
        let fraction_len = i64::try_from(fraction.len()).ok()?;
        let mut scale = exponent - fraction_len;
        while digits.last() == Some(&0) {
            digits.pop();
            scale += 1;
        }
        Some(Self {
            negative,
            digits,
            scale,
        })
    }

    /// The value in cents, or why it is not a price (it is above 0).
    fn to_cents(&self) -> Result<i64, PriceError> {
        // cents = digits × 10^cents_scale; `magnitude` digits are left of the point.
        let cents_scale = self.scale + 2;
        let magnitude = i64::try_from(self.digits.len()).unwrap_or(i64::MAX) + cents_scale;
        // MAX_PRICE_CENTS has 9 digits: 10 or more are above it.
        if magnitude > 9 {
            return Err(PriceError::TooLarge);
        }
        // At most 9 digits now, so the whole number of cents fits.
        let whole_digits = usize::try_from(magnitude.max(0)).unwrap_or(0);
        let whole = self
            .digits
            .iter()
            .take(whole_digits)
            .fold(0i64, |n, &d| n * 10 + i64::from(d))
            * 10i64.pow(u32::try_from(cents_scale.max(0)).unwrap_or(0));
        let exact = cents_scale >= 0;
        if whole > MAX_PRICE_CENTS || (!exact && whole >= MAX_PRICE_CENTS) {
            Err(PriceError::TooLarge)
        } else if !exact {
            Err(PriceError::TooPrecise)
        } else {
            Ok(whole)
        }
    }
}

/// Whether `text` starts with `-`, and the rest after an optional sign.
fn split_sign(text: &str) -> (bool, &str) {
    match text.strip_prefix('-') {
        Some(unsigned) => (true, unsigned),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    }
}

/// An exponent's digits, with an optional sign, clamped to ±[`EXPONENT_LIMIT`].
fn read_exponent(text: &str) -> Option<i64> {
    let (negative, digits) = split_sign(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value = digits.bytes().fold(0i64, |n, b| {
        (n * 10 + i64::from(b - b'0')).min(EXPONENT_LIMIT)
    });
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The price in a JSON body's field written as `json` (the text as sent).
    fn parse(json: &str) -> Result<i64, PriceError> {
        serde_json::from_str::<JsonPrice>(json)
            .expect("valid JSON")
            .cents()
    }

    #[test]
    fn reads_dollars_into_cents() {
        assert_eq!(parse("20"), Ok(2000));
        assert_eq!(parse("19.99"), Ok(1999));
        assert_eq!(parse("0.01"), Ok(1));
        assert_eq!(parse("10.5"), Ok(1050));
        assert_eq!(parse("10.500000"), Ok(1050));
        assert_eq!(parse(r#""12.30""#), Ok(1230));
        assert_eq!(parse(r#"" 12.30 ""#), Ok(1230));
        assert_eq!(parse("1e2"), Ok(10000));
        assert_eq!(parse("1e1"), Ok(1000));
        assert_eq!(parse("1E+1"), Ok(1000));
        assert_eq!(parse("1999e-2"), Ok(1999));
        assert_eq!(parse("0.1999e2"), Ok(1999));
        assert_eq!(parse(r#""1.5E1""#), Ok(1500));
        assert_eq!(parse(r#"".5""#), Ok(50));
        assert_eq!(parse(r#""+.5""#), Ok(50));
        assert_eq!(parse(r#""5.""#), Ok(500));
        assert_eq!(parse(r#""007""#), Ok(700));
        assert_eq!(parse("1000000"), Ok(MAX_PRICE_CENTS));
        assert_eq!(parse("1e6"), Ok(MAX_PRICE_CENTS));
        assert_eq!(parse("100000000e-2"), Ok(MAX_PRICE_CENTS));
    }

    #[test]
    fn refuses_missing_non_positive_and_too_precise_prices() {
        assert_eq!(price_cents(None), Err(PriceError::NotPositive));
        for json in [
            "0",
            "-10",
            "-0",
            "0.000",
            "-0.5",
            "null",
            "true",
            "{}",
            "[1]",
            r#""abc""#,
            r#""""#,
            r#""inf""#,
            r#""NaN""#,
            r#""infinity""#,
            r#""1_000""#,
            r#"".""#,
            r#""e5""#,
            r#""5e""#,
            r#""1.2.3""#,
            r#""--1""#,
            r#""+-1""#,
            r#""0x10""#,
            r#""1,5""#,
            "-1e-9",
        ] {
            assert_eq!(parse(json), Err(PriceError::NotPositive), "{json}");
        }
        for json in [
            "10.001",
            r#""1.234""#,
            "1e-9",
            r#""1e-8""#,
            "0.001",
            "0.009",
            // Refused since prices are no longer read through f64, which rounded them to $1.00.
            "1.0000000000000001",
            "1.000000001",
            r#""1.000000001e0""#,
            "1.000000001e0",
            "19.999999999999999",
            "1e-400",
        ] {
            assert_eq!(parse(json), Err(PriceError::TooPrecise), "{json}");
        }
        for json in [
            "1e12",
            "1000000.01",
            "1000000.001",
            "1000001",
            "1e400",
            r#""1e99999999999999999999""#,
            "1000000.0000000001",
        ] {
            assert_eq!(parse(json), Err(PriceError::TooLarge), "{json}");
        }
        assert_eq!(parse("999999.999"), Err(PriceError::TooPrecise));
        assert_eq!(
            parse("0e99999999999999999999"),
            Err(PriceError::NotPositive)
        );
    }

    #[test]
    fn query_parameters_are_read_as_text() {
        assert_eq!(parse_dollars("19.99"), Ok(1999));
        assert_eq!(parse_dollars(" 5 "), Ok(500));
        assert_eq!(parse_dollars("5\0"), Err(PriceError::NotPositive));
        assert_eq!(parse_dollars(""), Err(PriceError::NotPositive));
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

    fn parse_json(value: &serde_json::Value) -> Result<i64, PriceError> {
        serde_json::from_str::<JsonPrice>(&value.to_string())
            .unwrap()
            .cents()
    }

    /// What `mantissa` × 10^`exponent` is as a price, computed with integers: the oracle the
    /// parser is checked against.
    fn oracle(mantissa: u64, exponent: i32) -> Result<i64, PriceError> {
        if mantissa == 0 {
            return Err(PriceError::NotPositive);
        }
        let max = i128::from(MAX_PRICE_CENTS);
        let shift = exponent + 2;
        if shift >= 0 {
            let cents = 10i128
                .checked_pow(shift.unsigned_abs())
                .and_then(|p| p.checked_mul(i128::from(mantissa)));
            match cents {
                Some(cents) if cents <= max => Ok(i64::try_from(cents).unwrap()),
                _ => Err(PriceError::TooLarge),
            }
        } else {
            let divisor = 10i128.pow(shift.unsigned_abs());
            let (whole, rest) = (
                i128::from(mantissa) / divisor,
                i128::from(mantissa) % divisor,
            );
            if whole > max || (rest != 0 && whole >= max) {
                Err(PriceError::TooLarge)
            } else if rest != 0 {
                Err(PriceError::TooPrecise)
            } else {
                Ok(i64::try_from(whole).unwrap())
            }
        }
    }

    proptest! {
        #[test]
        fn any_text_or_number_is_refused_or_read_into_range(text in any::<String>(), number in any::<f64>()) {
            for value in [json!(text), json!(number)] {
                if let Ok(cents) = parse_json(&value) {
                    prop_assert!((1..=MAX_PRICE_CENTS).contains(&cents), "{value} read as {cents}");
                }
            }
            if let Ok(cents) = parse_dollars(&text) {
                prop_assert!((1..=MAX_PRICE_CENTS).contains(&cents), "{text:?} read as {cents}");
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
            prop_assert_eq!(parse_json(&json!(written)), Ok(cents), "{}", written);
            // As a JSON number (the form the API documents), through f64 like any client.
            let number = cents as f64 / 100.0;
            prop_assert_eq!(parse_json(&json!(number)), Ok(cents), "{}", number);
        }

        #[test]
        fn three_decimals_that_are_not_zero_are_refused(cents in 1..=MAX_PRICE_CENTS, thousandth in 1..10i64) {
            let written = format!("{}.{:02}{thousandth}", cents / 100, cents % 100);
            prop_assert_eq!(parse_dollars(&written), Err(PriceError::TooPrecise));
            // Also as a JSON number written with that many digits.
            let expected = if cents == MAX_PRICE_CENTS { PriceError::TooLarge } else { PriceError::TooPrecise };
            prop_assert_eq!(serde_json::from_str::<JsonPrice>(&written).unwrap().cents(), Err(expected));
        }

        /// Any decimal, written with its point anywhere and an exponent that puts it back, as a
        /// JSON number or a string, reads as the integer arithmetic says: the exact cents, or
        /// the reason it is not a price.
        #[test]
        fn any_exponent_form_reads_as_its_exact_value(
            mantissa in prop_oneof![0..1000u64, 0..=u64::MAX / 1000],
            exponent in -24..12i32,
            point in 0..20usize,
            leading_zeros in 0..3usize,
            upper in any::<bool>(),
            quoted in any::<bool>(),
        ) {
            // Leading zeros only in a string: a JSON number may not have them.
            let zeros = if quoted { leading_zeros } else { 0 };
            let digits = format!("{}{mantissa}", "0".repeat(zeros));
            // The point after `point` digits (none after the last) divides by 10^moved, which
            // the written exponent puts back.
            let point = point.clamp(1, digits.len());
            let moved = i32::try_from(digits.len() - point).unwrap();
            let e = if upper { "E" } else { "e" };
            let written = if moved == 0 {
                format!("{digits}{e}{exponent}")
            } else {
                format!("{}.{}{e}{}", &digits[..point], &digits[point..], exponent + moved)
            };
            let json = if quoted { format!("\"{written}\"") } else { written.clone() };
            let read = serde_json::from_str::<JsonPrice>(&json).unwrap().cents();
            prop_assert_eq!(read, oracle(mantissa, exponent), "{}", json);
        }
    }
}
