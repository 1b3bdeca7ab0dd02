//! The whole API's OpenAPI document: each service's part, derived from its handlers, joined here
//! because only the binary knows every service.

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

    /// The operations the document lists: every route of the four API routers and the health
    /// routes, by method. axum cannot list a router's routes, so this list is kept by hand: a
    /// route added to a router belongs here and in its service's `paths(...)`.
    #[test]
    fn the_document_has_every_api_route() {
        let document = serde_json::to_value(api_document()).unwrap();
        let mut operations: Vec<String> = document["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .unwrap()
                    .keys()
                    .filter(|key| ["get", "post", "put", "patch", "delete"].contains(&key.as_str()))
                    .map(move |method| format!("{} {path}", method.to_uppercase()))
            })
            .collect();
        operations.sort();
        let expected = [
            "DELETE /api/orders/{id}",
            "DELETE /api/tickets/{id}",
            "GET /api/orders",
            "GET /api/orders/{id}",
            "GET /api/tickets",
            "GET /api/tickets/mine",
            "GET /api/tickets/{id}",
            "GET /api/users/currentuser",
            "GET /healthz",
            "GET /metrics",
            "GET /readyz",
            "PATCH /api/users/currentuser",
            "POST /api/orders",
            "POST /api/payments",
            "POST /api/payments/webhook",
            "POST /api/tickets",
            "POST /api/users/signin",
            "POST /api/users/signout",
            "POST /api/users/signup",
            "PUT /api/tickets/{id}",
        ];
        assert_eq!(operations, expected);
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
