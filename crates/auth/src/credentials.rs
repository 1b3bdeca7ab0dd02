//! The rules for emails and passwords, shared by sign-up and account changes.

use gittix_shared::validation::{is_valid_email, Validator};

pub const EMAIL_MESSAGE: &str = "Email must be valid";
pub const PASSWORD_MESSAGE: &str = "Password must be between 4 and 20 characters";

/// Passwords are trimmed before they are checked, hashed or compared, as in the original.
pub fn normalize_password(password: Option<String>) -> Option<String> {
    password.map(|p| p.trim().to_owned())
}

pub fn normalize_email(email: Option<String>) -> Option<String> {
    email.map(|e| e.trim().to_owned())
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
