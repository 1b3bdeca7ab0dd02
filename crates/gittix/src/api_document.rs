//! The whole API's OpenAPI document: each service's part, derived from the routes it declares,
//! joined here because only the binary knows every service.

use gittix_shared::openapi;
use utoipa::openapi::OpenApi;

pub fn api_document() -> OpenApi {
    openapi::document([
        gittix_auth::openapi(),
        gittix_tickets::openapi(),
        gittix_orders::openapi(),
        gittix_payments::openapi(),
    ])
}

/// `/api/openapi.json` and its page `/api/docs`.
pub fn api_document_routes() -> axum::Router {
    openapi::routes(&api_document())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed copy of the document, so a change to the contract shows in review.
    const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

    /// The document equals `docs/openapi.json`. After a deliberate change to the API, rewrite it
    /// with `GITTIX_UPDATE_OPENAPI=1 cargo nextest run -p gittix the_document_is_the_snapshot`
    /// and review the diff.
    #[test]
    fn the_document_is_the_snapshot() {
        // serde_json's maps are sorted, so the file does not depend on the order routes merge in.
        let document = serde_json::to_value(api_document()).unwrap();
        let rendered = serde_json::to_string_pretty(&document).unwrap() + "\n";
        if std::env::var_os("GITTIX_UPDATE_OPENAPI").is_some() {
            std::fs::write(SNAPSHOT, &rendered).unwrap();
        }
        let committed = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
        let committed: serde_json::Value =
            serde_json::from_str(&committed).unwrap_or(serde_json::Value::Null);
        assert!(
            committed == document,
            "the OpenAPI document differs from docs/openapi.json; if the change is meant, \
             rewrite it with GITTIX_UPDATE_OPENAPI=1 and review the diff"
        );
    }

    /// Every error answer of the API (4xx and 5xx) is documented with the one error shape.
    #[test]
    fn every_error_answer_has_the_error_shape() {
        let document = serde_json::to_value(api_document()).unwrap();
        for (path, item) in document["paths"].as_object().unwrap() {
            if !path.starts_with("/api/") {
                continue;
            }
            for (method, operation) in item.as_object().unwrap() {
                for (status, response) in operation["responses"].as_object().unwrap() {
                    if status.starts_with('4') || status.starts_with('5') {
                        assert_eq!(
                            response["content"]["application/json"]["schema"]["$ref"],
                            "#/components/schemas/ErrorBody",
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
    }
}
