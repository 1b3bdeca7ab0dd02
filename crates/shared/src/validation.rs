//! Collecting validation failures in field order, and reading request fields leniently.
//!
//! A body whose field has the wrong JSON type (`{"email": 5}`) is a validation failure of that
//! field, not a malformed request, so request structs read their fields with [`lenient_string`].

use serde::{Deserialize, Deserializer};

use crate::error::{ApiError, FieldError};

/// Gathers every failing rule of a request, then turns them into one 400 response.
#[derive(Debug, Default)]
pub struct Validator {
    failures: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `message` against `field` unless `holds` is true.
    pub fn check(&mut self, holds: bool, field: &str, message: &str) -> &mut Self {
        if !holds {
            self.failures.push(FieldError {
                message: message.to_owned(),
                field: field.to_owned(),
            });
        }
        self
    }

    /// `Ok(())` when every rule held, otherwise the 400 listing each failure.
    pub fn finish(&mut self) -> Result<(), ApiError> {
        if self.failures.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(std::mem::take(&mut self.failures)))
        }
    }
}

/// Deserializes any JSON value, keeping it only when it is a string.
pub fn lenient_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    })
}

/// True for an address a mail server could deliver to: valid by RFC 5322 and with a dotted domain,
/// as the original's validator required (`user@localhost` and address literals are refused).
pub fn is_valid_email(email: &str) -> bool {
    const MAX_EMAIL_LEN: usize = 254;
    if email.len() > MAX_EMAIL_LEN || !email_address::EmailAddress::is_valid(email) {
        return false;
    }
    let domain = email.rsplit_once('@').map_or("", |(_, domain)| domain);
    domain.contains('.') && !domain.starts_with('[')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for email in [
            "test@test.com",
            "a.b+tag@mail.example.co.uk",
            "x@dom-ain.io",
        ] {
            assert!(is_valid_email(email), "{email} should be valid");
        }
    }

    #[test]
    fn refuses_malformed_addresses() {
        for email in [
            "",
            "test",
            "test@",
            "@test.com",
            "a@localhost",
            "a b@test.com",
            "a@@test.com",
            "a@test..com",
            "a@[1.2.3.4]",
            ".a@test.com",
        ] {
            assert!(!is_valid_email(email), "{email:?} should be invalid");
        }
    }

    #[test]
    fn validator_reports_every_failure_in_order() {
        let err = Validator::new()
            .check(false, "email", "Email must be valid")
            .check(true, "title", "unused")
            .check(false, "password", "Password bad")
            .finish()
            .unwrap_err();
        let ApiError::Validation(failures) = err else {
            panic!("not a validation error")
        };
        let fields: Vec<_> = failures.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["email", "password"]);
    }

    #[test]
    fn lenient_string_drops_non_strings() {
        #[derive(Deserialize)]
        struct Body {
            #[serde(default, deserialize_with = "lenient_string")]
            email: Option<String>,
        }
        let parse = |json: &str| serde_json::from_str::<Body>(json).unwrap().email;
        assert_eq!(parse(r#"{"email":"a@b.co"}"#).as_deref(), Some("a@b.co"));
        assert_eq!(parse(r#"{"email":5}"#), None);
        assert_eq!(parse(r#"{"email":null}"#), None);
        assert_eq!(parse(r#"{}"#), None);
    }
}
