//! Collecting validation failures in field order, reading request fields leniently, and the one
//! input rule every text field of every service follows.
//!
//! A body whose field has the wrong JSON type (`{"email": 5}`) is a validation failure of that
//! field, not a malformed request, so request structs read their fields with [`lenient_string`].
//!
//! **The text rule** ([`Validator::required_text`], [`Validator::no_control_characters`]), for
//! every field and query parameter, applied to the text as the field uses it (after trimming, for
//! the fields that trim):
//! - text made only of invisible characters ([`is_invisible`]: whitespace, zero-width and other
//!   default-ignorable or format characters) counts as empty: "Title is required";
//! - a control character (Unicode category Cc, U+0000–U+001F and U+007F–U+009F, tab and line
//!   feed included) is refused: "<Field> must not contain control characters". Every field is
//!   single-line; a multi-line field, if one is added, would allow line feed and tab alone.
//!
//! A field whose own rule already refuses such text keeps its message (an email with a control
//! character is "Email must be valid", a price "Price must be greater than 0"). Ids follow
//! [`crate::id`], prices [`crate::money`], bodies [`crate::json`].

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

    /// The text rule for a required field: missing or blank text (only invisible characters)
    /// fails with `required`, and text holding a control character with "<label> must not
    /// contain control characters". Returns the text when it passed both, for the field's own
    /// rules.
    pub fn required_text<'a>(
        &mut self,
        text: Option<&'a str>,
        field: &str,
        label: &str,
        required: &str,
    ) -> Option<&'a str> {
        let present = text.filter(|t| !is_blank(t));
        self.check(present.is_some(), field, required);
        present.filter(|t| self.no_control_characters(Some(t), field, label))
    }

    /// The text rule for an optional field: records "<label> must not contain control
    /// characters" against `field` when `text` holds one. True when it holds none.
    pub fn no_control_characters(&mut self, text: Option<&str>, field: &str, label: &str) -> bool {
        let clean = !text.is_some_and(has_control_characters);
        self.check(clean, field, &control_characters_message(label));
        clean
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

/// The message for a field holding a control character: "<label> must not contain control
/// characters".
pub fn control_characters_message(label: &str) -> String {
    format!("{label} must not contain control characters")
}

/// True when `text` holds a control character (Unicode category Cc). PostgreSQL cannot store
/// U+0000 in text, and SQLite's `LIKE` stops reading a pattern at it.
pub fn has_control_characters(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// True when `text` is empty or made only of invisible characters, so it counts as empty.
pub fn is_blank(text: &str) -> bool {
    text.chars().all(is_invisible)
}

/// A character that shows nothing: whitespace (the Unicode White_Space property), a
/// default-ignorable code point (zero-width space, joiners, word joiner, byte-order mark, soft
/// hyphen, variation selectors, bidirectional marks, Hangul fillers, tags...), another
/// invisible format character (interlinear annotation and Egyptian hieroglyph format controls),
/// or the blank Braille pattern, which renders as a space.
///
/// The visible format characters (the prepended concatenation marks such as U+0600 ARABIC
/// NUMBER SIGN) do not count. Control characters do not either, except the whitespace ones
/// (tab, line feed...): they are refused by their own rule.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(c,
            // Default_Ignorable_Code_Point (Unicode 15.1, DerivedCoreProperties.txt).
            '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
            // Invisible format characters (Cf) that are not default-ignorable.
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{13430}'..='\u{1343F}'
            // BRAILLE PATTERN BLANK.
            | '\u{2800}')
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
    // A control character is never part of an address one can type (RFC 5322 keeps some in
    // quoted local parts only as obsolete syntax).
    if email.len() > MAX_EMAIL_LEN
        || has_control_characters(email)
        || !email_address::EmailAddress::is_valid(email)
    {
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
    fn refuses_control_characters_in_addresses() {
        for email in [
            "a\0@test.com",
            "a@test.com\0",
            "\"a\u{7}b\"@test.com",
            "a@te\u{85}st.com",
        ] {
            assert!(!is_valid_email(email), "{email:?} should be invalid");
        }
    }

    #[test]
    fn invisible_text_is_blank() {
        for text in [
            "",
            " ",
            "\t\n\r",
            "\u{200B}",
            "\u{200B}\u{200C}\u{200D}",
            "\u{2060}\u{FEFF}",
            "\u{00A0}\u{3000}\u{2028}",
            "\u{00AD}\u{034F}\u{180E}\u{3164}\u{FFA0}\u{115F}",
            "\u{202E}\u{2066}\u{FE0F}\u{E0041}\u{E0100}",
            "\u{1D173}\u{FFF9}\u{13430}\u{2800}",
        ] {
            assert!(is_blank(text), "{text:?} is blank");
        }
        for text in [
            "a",
            "\u{200B}a\u{200B}",
            ".",
            "\u{0600}",
            "\0",
            "\u{7F}",
            "\u{1F600}",
            "é",
        ] {
            assert!(!is_blank(text), "{text:?} is not blank");
        }
    }

    #[test]
    fn the_text_rule_names_the_field() {
        let mut validator = Validator::new();
        assert_eq!(
            validator.required_text(Some("Opera"), "title", "Title", "Title is required"),
            Some("Opera")
        );
        assert_eq!(
            validator.required_text(
                Some("\u{200B}\u{FEFF}"),
                "title",
                "Title",
                "Title is required"
            ),
            None
        );
        assert_eq!(
            validator.required_text(None, "title", "Title", "Title is required"),
            None
        );
        assert_eq!(
            validator.required_text(Some("Op\0era"), "title", "Title", "Title is required"),
            None
        );
        assert!(!validator.no_control_characters(Some("\u{1B}[2J"), "q", "q"));
        assert!(validator.no_control_characters(Some("opera"), "q", "q"));
        assert!(validator.no_control_characters(None, "q", "q"));
        let ApiError::Validation(failures) = validator.finish().unwrap_err() else {
            panic!("not a validation error")
        };
        let failures: Vec<_> = failures
            .iter()
            .map(|f| (f.field.as_str(), f.message.as_str()))
            .collect();
        assert_eq!(
            failures,
            [
                ("title", "Title is required"),
                ("title", "Title is required"),
                ("title", "Title must not contain control characters"),
                ("q", "q must not contain control characters"),
            ]
        );
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

/// Properties over generated text: the rule refuses exactly the control characters, and only
/// text with nothing visible is blank.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Invisible characters, from every range the rule lists.
    fn invisible() -> impl Strategy<Value = char> {
        prop::sample::select(vec![
            ' ',
            '\t',
            '\n',
            '\u{A0}',
            '\u{1680}',
            '\u{2003}',
            '\u{2028}',
            '\u{3000}',
            '\u{AD}',
            '\u{34F}',
            '\u{61C}',
            '\u{1160}',
            '\u{17B5}',
            '\u{180B}',
            '\u{200B}',
            '\u{200D}',
            '\u{200F}',
            '\u{202A}',
            '\u{2060}',
            '\u{2064}',
            '\u{206F}',
            '\u{3164}',
            '\u{FE00}',
            '\u{FEFF}',
            '\u{FFA0}',
            '\u{FFFB}',
            '\u{1BCA3}',
            '\u{1D17A}',
            '\u{E0001}',
            '\u{E01EF}',
            '\u{1343F}',
            '\u{2800}',
        ])
    }

    proptest! {
        #[test]
        fn text_of_invisible_characters_is_blank_and_one_visible_character_is_not(
            text in proptest::collection::vec(invisible(), 0..12),
            visible in "[\\p{L}\\p{N}\\p{P}\\p{S}]",
            at in any::<prop::sample::Index>(),
        ) {
            let blank: String = text.iter().collect();
            prop_assert!(is_blank(&blank), "{blank:?}");
            let mut shown = text.clone();
            shown.insert(at.index(text.len() + 1), visible.chars().next().unwrap());
            let shown: String = shown.into_iter().collect();
            prop_assert!(!is_blank(&shown), "{shown:?}");
        }

        #[test]
        fn a_control_character_anywhere_is_refused(
            before in "\\PC{0,10}",
            control in prop_oneof![0u32..0x20, 0x7Fu32..0xA0].prop_map(|c| char::from_u32(c).unwrap()),
            after in "\\PC{0,10}",
        ) {
            prop_assert!(!has_control_characters(&before) && !has_control_characters(&after));
            let text = format!("{before}{control}{after}");
            let mut validator = Validator::new();
            prop_assert!(!validator.no_control_characters(Some(&text), "title", "Title"));
            prop_assert_eq!(validator.required_text(Some(&text), "title", "Title", "Title is required"), None);
            prop_assert!(validator.finish().is_err());
        }
    }
}
