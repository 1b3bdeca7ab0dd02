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

pub fn check_email(validator: &mut Validator, email: Option<&str>) {
    validator.check(email.is_some_and(is_valid_email), "email", EMAIL_MESSAGE);
}

pub fn check_new_password(validator: &mut Validator, field: &str, password: Option<&str>) {
    let length_ok = password.is_some_and(|p| (4..=20).contains(&p.chars().count()));
    validator.check(length_ok, field, PASSWORD_MESSAGE);
}
