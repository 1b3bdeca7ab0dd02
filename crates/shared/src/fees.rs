//! The platform's fees (design, section 8): a buyer pays the price plus the buyer fee, a seller
//! receives the price minus the seller fee, each a percentage of the price rounded half up to
//! the cent. Orders fixes the buyer's total when the order is made; tickets shows it beforehand;
//! payments charges it and pays the seller's share.

use std::fmt;
use std::str::FromStr;

/// Hundredths of a percent in a whole price (100%).
const BASIS_POINTS_IN_WHOLE: i128 = 10_000;

/// A fee as a percentage of a price, held exactly in hundredths of a percent: `12.5` is 1250.
/// Written as a decimal number from 0 to 100 with at most two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeeRate {
    basis_points: u16,
}

impl FeeRate {
    pub const ZERO: Self = Self { basis_points: 0 };

    /// `basis_points` hundredths of a percent; `None` above 100%.
    pub fn from_basis_points(basis_points: u16) -> Option<Self> {
        (i128::from(basis_points) <= BASIS_POINTS_IN_WHOLE).then_some(Self { basis_points })
    }

    pub fn basis_points(self) -> u16 {
        self.basis_points
    }

    /// The fee on `cents` (not negative), rounded half up to the cent.
    pub fn of(self, cents: i64) -> i64 {
        let exact = i128::from(cents.max(0)) * i128::from(self.basis_points);
        let rounded = (exact + BASIS_POINTS_IN_WHOLE / 2) / BASIS_POINTS_IN_WHOLE;
        // At most the price itself, which is an i64.
        i64::try_from(rounded).unwrap_or(i64::MAX)
    }
}

impl FromStr for FeeRate {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let refuse =
            || format!("{text:?} is not a percentage from 0 to 100 with at most 2 decimals");
        let (whole, fraction) = match text.trim().split_once('.') {
            // A point must have digits after it: "5." is refused as ".5" is.
            Some((_, "")) => return Err(refuse()),
            Some(parts) => parts,
            None => (text.trim(), ""),
        };
        let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || whole.len() > 3
            || fraction.len() > 2
            || !digits(whole)
            || !digits(fraction)
        {
            return Err(refuse());
        }
        let whole: u16 = whole.parse().map_err(|_| refuse())?;
        let hundredths: u16 = format!("{fraction:0<2}").parse().map_err(|_| refuse())?;
        whole
            .checked_mul(100)
            .and_then(|points| points.checked_add(hundredths))
            .and_then(Self::from_basis_points)
            .ok_or_else(refuse)
    }
}

impl fmt::Display for FeeRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, hundredths) = (self.basis_points / 100, self.basis_points % 100);
        match hundredths {
            0 => write!(f, "{whole}"),
            n if n % 10 == 0 => write!(f, "{whole}.{}", n / 10),
            n => write!(f, "{whole}.{n:02}"),
        }
    }
}

/// Both fees of the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fees {
    pub buyer: FeeRate,
    pub seller: FeeRate,
}

impl Fees {
    /// What a buyer pays for a ticket listed at `price` (cents): the all-in total.
    pub fn total(&self, price: i64) -> i64 {
        price.saturating_add(self.buyer.of(price))
    }

    /// The lowest listing price whose total is at least `total`: a buyer's "from $X" as a
    /// bound on prices. Totals grow with the price, so the bound is exact.
    pub fn lowest_price_totalling_at_least(&self, total: i64) -> i64 {
        // The total is at least the price, so the answer lies in 0..=total.
        let (mut low, mut high) = (0, total.max(0));
        while low < high {
            let middle = low + (high - low) / 2;
            if self.total(middle) >= total {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        low
    }

    /// The highest listing price whose total is at most `total`: a buyer's "up to $X".
    pub fn highest_price_totalling_at_most(&self, total: i64) -> i64 {
        self.lowest_price_totalling_at_least(total.saturating_add(1)) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(text: &str) -> FeeRate {
        text.parse().unwrap()
    }

    #[test]
    fn a_rate_is_read_exactly_and_written_back() {
        for (text, points, shown) in [
            ("0", 0, "0"),
            ("10", 1000, "10"),
            ("12.5", 1250, "12.5"),
            ("7.25", 725, "7.25"),
            (" 3.05 ", 305, "3.05"),
            ("100", 10_000, "100"),
            ("100.00", 10_000, "100"),
            ("0.01", 1, "0.01"),
        ] {
            assert_eq!(rate(text).basis_points(), points, "{text}");
            assert_eq!(rate(text).to_string(), shown, "{text}");
        }
        for text in [
            "", "-1", "100.01", "101", "1.234", "1e1", "abc", ".5", "5.", "1,5", "65536",
        ] {
            assert!(text.parse::<FeeRate>().is_err(), "{text:?}");
        }
    }

    #[test]
    fn fees_round_half_up_to_the_cent() {
        assert_eq!(rate("10").of(1999), 200); // 199.9
        assert_eq!(rate("5").of(10), 1); // 0.5, up
        assert_eq!(rate("5").of(9), 0); // 0.45, down
        assert_eq!(rate("2.5").of(100), 3); // 2.5, up
        assert_eq!(rate("0").of(123_456), 0);
        assert_eq!(rate("100").of(4550), 4550);
        let fees = Fees {
            buyer: rate("10"),
            seller: FeeRate::ZERO,
        };
        assert_eq!(fees.total(4550), 5005);
    }
}

/// The rounding and the price bounds over generated prices and rates.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::money::MAX_PRICE_CENTS;

    fn any_rate() -> impl Strategy<Value = FeeRate> {
        (0..=10_000u16).prop_map(|points| FeeRate::from_basis_points(points).unwrap())
    }

    proptest! {
        #[test]
        fn a_fee_is_the_nearest_cent_with_halves_rounded_up(cents in 0..=MAX_PRICE_CENTS, rate in any_rate()) {
            // In ten-thousandths of a cent: the exact fee, and the error of the rounded one.
            let exact = i128::from(cents) * i128::from(rate.basis_points());
            let error = i128::from(rate.of(cents)) * BASIS_POINTS_IN_WHOLE - exact;
            // Within half a cent; a half exactly is rounded up.
            let half = BASIS_POINTS_IN_WHOLE / 2;
            prop_assert!(error > -half && error <= half,
                "{rate}% of {cents} cents is {}, off by {error}", rate.of(cents));
            prop_assert!(rate.of(cents) <= cents);
            prop_assert!(rate.of(cents + 1) >= rate.of(cents));
        }

        #[test]
        fn total_bounds_pick_exactly_the_prices_within_them(total in 1..=MAX_PRICE_CENTS, buyer in any_rate()) {
            let fees = Fees { buyer, seller: FeeRate::ZERO };
            let low = fees.lowest_price_totalling_at_least(total);
            prop_assert!(fees.total(low) >= total);
            prop_assert!(low == 0 || fees.total(low - 1) < total);
            let high = fees.highest_price_totalling_at_most(total);
            prop_assert!(fees.total(high) <= total);
            prop_assert!(fees.total(high + 1) > total);
        }
    }
}
