//! A JSON body extractor whose failures use the GitTix error shape.

use std::marker::PhantomData;

use axum::extract::{FromRequest, Request};
use serde::de::{self, DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Unexpected, Visitor};
use serde::{Deserialize, Deserializer};

use crate::error::ApiError;

/// Like `axum::Json`, but a malformed body is a 400 and an oversized one a 413, both rendered as
/// `{"errors": [...]}`, and a body that is not a JSON object (`["title", 5]`, `5`, `"x"`,
/// `null`) is a 400 "Request body must be a JSON object": serde would otherwise read a struct
/// from an array, field by field in order.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(ObjectOnly(value)) =
            axum::Json::<ObjectOnly<T>>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

/// `T` read from a JSON object only: any other valid JSON is a data error ("invalid type:
/// sequence, expected a JSON object"), which [`ApiError`] answers as "Request body must be a JSON
/// object".
struct ObjectOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Object<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for Object<T> {
            type Value = T;

            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }

            /// Read to its end first, so an array that is not valid JSON (`[1,`) is still
            /// "not valid JSON". Other values are refused by the defaults.
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Err(de::Error::invalid_type(Unexpected::Seq, &self))
            }
        }

        deserializer
            .deserialize_any(Object(PhantomData))
            .map(ObjectOnly)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::header;
    use axum::response::IntoResponse;
    use serde_json::value::RawValue;

    #[derive(Debug, Deserialize)]
    struct Ticket {
        #[serde(default)]
        title: Option<serde_json::Value>,
        #[serde(default)]
        price: Option<Box<RawValue>>,
    }

    async fn read(body: &str) -> Result<Ticket, (u16, serde_json::Value)> {
        let request = Request::builder()
            .method("POST")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        match JsonBody::<Ticket>::from_request(request, &()).await {
            Ok(JsonBody(ticket)) => Ok(ticket),
            Err(error) => {
                let response = error.into_response();
                let status = response.status().as_u16();
                let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
                    .await
                    .unwrap();
                Err((status, serde_json::from_slice(&bytes).unwrap()))
            }
        }
    }

    #[tokio::test]
    async fn a_body_that_is_not_an_object_is_refused() {
        let not_an_object =
            serde_json::json!({"errors": [{"message": "Request body must be a JSON object"}]});
        for body in [r#"["title", 5]"#, "[]", "5", r#""x""#, "null", "true"] {
            assert_eq!(
                read(body).await.unwrap_err(),
                (400, not_an_object.clone()),
                "{body}"
            );
        }
        let not_json =
            serde_json::json!({"errors": [{"message": "Request body is not valid JSON"}]});
        for body in ["[1,", "[1 2]", "{", "", "{} {}", r#"{"title": }"#] {
            assert_eq!(
                read(body).await.unwrap_err(),
                (400, not_json.clone()),
                "{body}"
            );
        }
    }

    /// Prices are read from the number's text as sent (`crate::money`), through the same
    /// extractor: the wrapper must not hide the raw value from serde_json.
    #[tokio::test]
    async fn an_object_is_read_with_its_raw_values() {
        let ticket = read(r#" { "title": "t", "price": 1.0000000000000001 } "#)
            .await
            .unwrap();
        assert_eq!(ticket.title, Some(serde_json::json!("t")));
        assert_eq!(ticket.price.unwrap().get(), "1.0000000000000001");
        let ticket = read(r#"{"price": "19.99"}"#).await.unwrap();
        assert_eq!(ticket.price.unwrap().get(), r#""19.99""#);
        assert!(read("{}").await.unwrap().price.is_none());
    }
}
