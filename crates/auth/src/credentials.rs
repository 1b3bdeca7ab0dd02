//! The rules for emails and passwords, shared by sign-up and account changes.

use gittix_shared::validation::{is_valid_email, Validator};

pub const EMAIL_MESSAGE: &str = "Email must be valid";
pub const PASSWORD_MESSAGE: &str = "Password must be between 4 and 20 characters";

/// Passwords are trimmed before they are checked, hashed or compared, as in the original.
pub fn normalize_password(password: Option<String>) -> Option<String> {
    password.map(|p| p.trim().to_owned())
}

/// One spelling per address, so look-alike spellings of one address are one account: trimmed,
/// in Unicode NFC (a precomposed "é" and "e" + combining accent are one), and the domain in its
/// ASCII form (IDNA: `bücher.example` is `xn--bcher-kva.example`, lowercased). The local part
/// keeps its case, as it is sent; accounts are matched by the lowercased whole (`email_key`).
pub fn normalize_email(email: Option<String>) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    email.map(|e| {
        let e: String = e.trim().nfc().collect();
        match e.rsplit_once('@') {
            Some((local, domain)) => match idna::domain_to_ascii(domain) {
                Ok(ascii) if !ascii.is_empty() => format!("{local}@{ascii}"),
                // Not a domain IDNA can spell: left for the validation to refuse.
                _ => e,
            },
            None => e,
        }
    })
}

/// An email: valid (which refuses control characters, and text of invisible characters).
pub fn check_email(validator: &mut Validator, email: Option<&str>) {
    validator.check(email.is_some_and(is_valid_email), "email", EMAIL_MESSAGE);
}

/// A new password: the shared text rule (only invisible characters is none, so too short; a
/// control character is "Password must not contain control characters"), then 4 to 20
/// characters.
pub fn check_new_password(validator: &mut Validator, field: &str, password: Option<&str>) {
    if let Some(password) = validator.required_text(password, field, "Password", PASSWORD_MESSAGE) {
        let length_ok = (4..=20).contains(&password.chars().count());
        validator.check(length_ok, field, PASSWORD_MESSAGE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(email: &str) -> String {
        normalize_email(Some(email.to_owned())).unwrap()
    }

    #[test]
    fn look_alike_spellings_of_one_address_are_one() {
        assert_eq!(
            normalized(" jose\u{301}@example.com "),
            "jos\u{e9}@example.com"
        );
        assert_eq!(
            normalized("ana@B\u{fc}cher.Example"),
            "ana@xn--bcher-kva.example"
        );
        assert_eq!(
            normalized("ana@xn--bcher-kva.example"),
            "ana@xn--bcher-kva.example"
        );
        // Full-width letters in the domain are mapped to their ASCII form by IDNA.
        assert_eq!(normalized("ana@\u{ff45}xample.com"), "ana@example.com");
        assert_eq!(normalized("Test@Test.com"), "Test@test.com");
    }
}
