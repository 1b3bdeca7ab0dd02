//! Ids as the services make them, and reading them from requests.
//!
//! Every id a service creates is a UUID (version 7, `uuid::Uuid::now_v7`) in its canonical text:
//! 36 characters, lowercase hexadecimal and hyphens (`0190d6a8-2b1c-7e4f-9a3b-5c6d7e8f9a0b`).
//! Clients send back the ids they were given. Anything else names nothing, so it is answered 404,
//! the answer for an unknown id, without asking the database: a NUL byte, a 5 kB string or
//! `../x` never reaches a query.

use std::convert::Infallible;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use crate::error::ApiError;

/// True when `text` is a UUID written as the services write their ids (any version; lowercase,
/// hyphenated; not braced, not `urn:uuid:`, not without hyphens).
pub fn is_id(text: &str) -> bool {
    text.len() == 36
        && uuid::Uuid::try_parse(text).is_ok_and(|id| id.hyphenated().to_string() == text)
}

/// `text` when it is an id, otherwise 404 "Not Found", the answer for an id that names nothing.
/// For ids in request bodies (`ticketId`, `orderId`), once the body passed validation.
pub fn known_id(text: &str) -> Result<&str, ApiError> {
    if is_id(text) {
        Ok(text)
    } else {
        Err(ApiError::NotFound)
    }
}

/// The `{id}` segment of a route's path. Reading it never fails, so the handler checks what the
/// design checks first (signed in, a valid body) and then calls [`PathId::get`], which answers
/// 404 for anything that is not an id (also a segment that is not UTF-8 once decoded).
#[derive(Debug, Clone)]
pub struct PathId(Option<String>);

impl PathId {
    /// The id, or 404 "Not Found" before any query.
    pub fn get(&self) -> Result<&str, ApiError> {
        self.0.as_deref().ok_or(ApiError::NotFound)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let id = Path::<String>::from_request_parts(parts, state)
            .await
            .ok()
            .map(|Path(id)| id)
            .filter(|id| is_id(id));
        Ok(Self(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_ids_the_services_make_are_ids() {
        for _ in 0..100 {
            assert!(is_id(&uuid::Uuid::now_v7().to_string()));
            assert!(is_id(&uuid::Uuid::new_v4().to_string()));
        }
        assert!(is_id("01a20182-670f-73dc-87cf-f726bf86520f"));
    }

    #[test]
    fn other_spellings_and_other_text_are_not() {
        let id = "01a20182-670f-73dc-87cf-f726bf86520f";
        for text in [
            String::new(),
            "\0".to_owned(),
            "not-an-id".to_owned(),
            "mine".to_owned(),
            id.to_uppercase(),
            format!("{{{id}}}"),
            format!("urn:uuid:{id}"),
            id.replace('-', ""),
            format!(" {id}"),
            format!("{id}\0"),
            format!("{}\0{}", &id[..35], &id[36..]),
            id.replacen('0', "g", 1),
        ] {
            assert!(!is_id(&text), "{text:?} is not an id");
            assert!(matches!(known_id(&text), Err(ApiError::NotFound)));
        }
        assert_eq!(known_id(id).unwrap(), id);
    }

    proptest! {
        /// Every UUID written canonically is an id; changing any one character of it to one
        /// outside lowercase hexadecimal makes it none.
        #[test]
        fn an_id_is_exactly_a_canonical_uuid(bits in any::<u128>(), at in 0..36usize, c in any::<char>()) {
            let id = uuid::Uuid::from_u128(bits).to_string();
            prop_assert!(is_id(&id));
            let mut changed: Vec<char> = id.chars().collect();
            changed[at] = c;
            let changed: String = changed.into_iter().collect();
            let expected = changed == id || (![8, 13, 18, 23].contains(&at) && matches!(c, '0'..='9' | 'a'..='f'));
            prop_assert_eq!(is_id(&changed), expected, "{:?}", changed);
        }

        /// Whatever the text, it is an id only if it reads back as the same UUID.
        #[test]
        fn any_text_is_an_id_only_when_canonical(text in "\\PC{0,40}|[0-9a-fA-F-]{36}") {
            if is_id(&text) {
                prop_assert_eq!(uuid::Uuid::parse_str(&text).unwrap().to_string(), text);
            }
        }
    }
}
