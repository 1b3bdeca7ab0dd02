//! `/api/docs`: the OpenAPI document as one plain HTML page, rendered on the server.
//!
//! Browsable without JavaScript or anything fetched from elsewhere, so it works offline and under
//! the strictest content security policy. It walks the document's JSON form: every operation by
//! tag, its parameters, body and answers, then every schema with its properties.

use std::fmt::Write;

use serde_json::Value;
use utoipa::openapi::OpenApi;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

pub(super) fn render(document: &OpenApi) -> String {
    let doc = serde_json::to_value(document).expect("an OpenAPI document always serializes");
    let text = |pointer: &str| doc.pointer(pointer).and_then(Value::as_str).unwrap_or("");
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} {version}</title><style>{STYLE}</style></head><body><main>\
         <h1>{title} <small>{version}</small></h1><p>{description}</p>\
         <p>The machine-readable document: <a href=\"/api/openapi.json\">/api/openapi.json</a> \
         (OpenAPI {openapi}).</p>",
        title = escape(text("/info/title")),
        version = escape(text("/info/version")),
        description = escape(text("/info/description")),
        openapi = escape(text("/openapi")),
    );
    for tag in doc["tags"].as_array().into_iter().flatten() {
        let name = tag["name"].as_str().unwrap_or_default();
        let _ = write!(
            html,
            "<h2 id=\"tag-{id}\">{name}</h2><p>{description}</p>",
            id = escape(name),
            name = escape(name),
            description = escape(tag["description"].as_str().unwrap_or_default()),
        );
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in METHODS {
                let operation = &item[method];
                let tagged = operation["tags"]
                    .as_array()
                    .is_some_and(|tags| tags.iter().any(|t| t == name));
                if tagged {
                    render_operation(&mut html, method, path, operation);
                }
            }
        }
    }
    html.push_str("<h2 id=\"schemas\">Schemas</h2>");
    for (name, schema) in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let _ = write!(
            html,
            "<section id=\"schema-{name}\"><h3>{name}</h3>",
            name = escape(name)
        );
        render_schema(&mut html, schema);
        html.push_str("</section>");
    }
    html.push_str("</main></body></html>");
    html
}

fn render_operation(html: &mut String, method: &str, path: &str, operation: &Value) {
    let _ = write!(
        html,
        "<section class=\"operation\"><h3><span class=\"method\">{method}</span> <code>{path}</code></h3>\
         <p>{description}</p>",
        method = method.to_uppercase(),
        path = escape(path),
        description = escape(description_of(operation)),
    );
    if operation["security"].is_array() {
        html.push_str("<p><em>Reads the session cookie.</em></p>");
    }
    let parameters = operation["parameters"].as_array();
    if let Some(parameters) = parameters.filter(|p| !p.is_empty()) {
        html.push_str(
            "<table><caption>Parameters</caption><tr><th>name</th><th>in</th><th>type</th>\
             <th>required</th><th>description</th></tr>",
        );
        for parameter in parameters {
            let _ = write!(
                html,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(parameter["name"].as_str().unwrap_or_default()),
                escape(parameter["in"].as_str().unwrap_or_default()),
                type_of(&parameter["schema"]),
                if parameter["required"] == true {
                    "yes"
                } else {
                    "no"
                },
                escape(parameter["description"].as_str().unwrap_or_default()),
            );
        }
        html.push_str("</table>");
    }
    for (media, content) in operation["requestBody"]["content"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let _ = write!(
            html,
            "<p>Body ({}): {}</p>",
            escape(media),
            type_of(&content["schema"])
        );
    }
    html.push_str(
        "<table><caption>Answers</caption><tr><th>status</th><th>meaning</th><th>body</th></tr>",
    );
    for (status, response) in operation["responses"].as_object().into_iter().flatten() {
        let bodies: Vec<String> = response["content"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(media, content)| format!("{} ({})", type_of(&content["schema"]), escape(media)))
            .collect();
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(status),
            escape(response["description"].as_str().unwrap_or_default()),
            bodies.join(", "),
        );
    }
    html.push_str("</table></section>");
}

fn render_schema(html: &mut String, schema: &Value) {
    let _ = write!(html, "<p>{}</p>", escape(description_of(schema)));
    let Some(properties) = schema["properties"].as_object() else {
        let _ = write!(html, "<p>{}</p>", type_of(schema));
        return;
    };
    let required = |name: &str| {
        schema["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|n| n == name))
    };
    html.push_str(
        "<table><tr><th>property</th><th>type</th><th>required</th><th>description</th></tr>",
    );
    for (name, property) in properties {
        let _ = write!(
            html,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            type_of(property),
            if required(name) { "yes" } else { "no" },
            escape(description_of(property)),
        );
    }
    html.push_str("</table>");
}

fn description_of(value: &Value) -> &str {
    value["description"]
        .as_str()
        .or_else(|| value["summary"].as_str())
        .unwrap_or_default()
}

/// A schema in a few words, as HTML: a link for a reference, `array of ...`, or its JSON type.
fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!("<a href=\"#schema-{0}\">{0}</a>", escape(name));
    }
    if let Some(choices) = schema["oneOf"].as_array() {
        let choices: Vec<String> = choices.iter().map(type_of).collect();
        return choices.join(" or ");
    }
    let kinds: Vec<&str> = match &schema["type"] {
        Value::String(kind) => vec![kind.as_str()],
        Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).collect(),
        _ => vec!["any"],
    };
    let kinds: Vec<String> = kinds
        .into_iter()
        .map(|kind| match kind {
            "array" => format!("array of {}", type_of(&schema["items"])),
            other => escape(other),
        })
        .collect();
    kinds.join(" or ")
}

/// Text as HTML text or attribute value.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;line-height:1.5;margin:0;color:#1b1b1b}\
main{max-width:60rem;margin:0 auto;padding:1rem}h2{border-bottom:1px solid #ccc;margin-top:2.5rem}\
table{border-collapse:collapse;margin:.5rem 0;width:100%}caption{text-align:left;font-weight:600}\
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}\
.method{font-family:monospace;background:#224;color:#fff;padding:0 .4rem;border-radius:3px}\
.operation{margin:1.5rem 0}a{color:#0645ad}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_the_document_cannot_become_markup() {
        assert_eq!(
            escape("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn a_schema_is_named_in_a_few_words() {
        let schema =
            serde_json::json!({"type": "array", "items": {"$ref": "#/components/schemas/Ticket"}});
        assert_eq!(
            type_of(&schema),
            "array of <a href=\"#schema-Ticket\">Ticket</a>"
        );
        assert_eq!(
            type_of(&serde_json::json!({"type": ["string", "null"]})),
            "string or null"
        );
    }
}
