//! Stripe's test card numbers, for the payment form when no Stripe publishable key is set (the
//! simulator, or a Stripe stand-in in tests). Each maps to the test token (`tok_...`) or test
//! payment method (`pm_...`) Stripe documents for it; real card numbers never pass through
//! GitTix.

/// The test token or payment method for a test card number typed with or without spaces and
/// dashes.
pub(crate) fn test_instrument(card_number: &str) -> Option<&'static str> {
    let digits: String = card_number
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    let token = match digits.as_str() {
        "4242424242424242" => "tok_visa",
        "4000056655665556" => "tok_visa_debit",
        "5555555555554444" => "tok_mastercard",
        "378282246310005" => "tok_amex",
        "6011111111111117" => "tok_discover",
        "4000000000000002" => "tok_chargeDeclined",
        "4000000000009995" => "tok_chargeDeclinedInsufficientFunds",
        "4000000000000069" => "tok_chargeDeclinedExpiredCard",
        "4000000000000127" => "tok_chargeDeclinedIncorrectCvc",
        "4000000000000119" => "tok_chargeDeclinedProcessingError",
        // Stripe has no token for its 3-D Secure cards, only payment methods.
        "4000002760003184" => "pm_card_authenticationRequired",
        _ => return None,
    };
    Some(token)
}

#[cfg(test)]
mod tests {
    use super::test_instrument;

    #[test]
    fn maps_the_test_numbers_however_they_are_spaced() {
        assert_eq!(test_instrument("4242 4242 4242 4242"), Some("tok_visa"));
        assert_eq!(
            test_instrument("4000-0000-0000-0002"),
            Some("tok_chargeDeclined")
        );
        assert_eq!(
            test_instrument("4000000000009995"),
            Some("tok_chargeDeclinedInsufficientFunds")
        );
        assert_eq!(
            test_instrument("4000 0027 6000 3184"),
            Some("pm_card_authenticationRequired")
        );
    }

    #[test]
    fn refuses_anything_else() {
        assert_eq!(test_instrument("4242 4242 4242 4241"), None);
        assert_eq!(test_instrument(""), None);
        assert_eq!(test_instrument("tok_visa"), None);
    }
}
