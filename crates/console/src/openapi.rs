//! The OpenAPI 3.1 document for the JSON API, served at
//! `/api/v1/openapi.json`.
//!
//! The document is made from the route table, so it cannot miss a route or
//! disagree with it about who may call one: every `/api/v1` row becomes an
//! operation with its purpose as the summary, its path parameters, the
//! roles that may call it (`x-roles`) and the error answers every call can
//! give. Each area's module adds what the table cannot know, the request
//! and response bodies, as OpenAPI operation fragments ([`Operation`]),
//! merged over the generated operation.

use serde_json::{Map, Value, json};

use crate::Role;
use crate::routes::{Access, Kind, RouteEntry};

/// What an area says about one of its API routes: method, path (as in the
/// route table) and an OpenAPI operation object to merge in.
pub type Operation = (&'static str, &'static str, Value);

/// A JSON Schema `$ref` to a schema in `components.schemas`.
pub fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A `200` answer carrying `schema` as JSON.
pub fn json_answer(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

/// A JSON request body.
pub fn json_body(schema: Value) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

/// Every area's operation fragments.
fn operations() -> Vec<Operation> {
    let mut all = crate::handlers::api::api_schemas();
    all.extend(crate::handlers::filtering_api::api_schemas());
    all.extend(crate::handlers::reviews::api_schemas());
    all.extend(crate::handlers::people_api::api_schemas());
    all.extend(crate::handlers::alerts::api_schemas());
    all
}

/// Shared schemas: the error body, and what every area registers.
fn schemas() -> Map<String, Value> {
    let mut schemas = Map::new();
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": { "type": "string", "description": "What went wrong and what to do next, in plain English." },
                "reference": { "type": ["string", "null"], "description": "For internal failures: the reference that also appears in the operator's log." }
            }
        }),
    );
    schemas.insert(
        "Role".into(),
        json!({
            "type": "string",
            "enum": Role::ALL.iter().map(|r| r.to_string()).collect::<Vec<_>>()
        }),
    );
    schemas.extend(crate::handlers::api::component_schemas());
    schemas
}

/// Parameters named in a path such as `/api/v1/tokens/{id}`.
fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let schema = if name == "id" || name == "number" {
                json!({ "type": "integer" })
            } else {
                json!({ "type": "string" })
            };
            json!({ "name": name, "in": "path", "required": true, "schema": schema })
        })
        .collect()
}

/// Merges `extra` over `base`, objects key by key, anything else replaced.
fn merge(base: &mut Value, extra: Value) {
    match (base, extra) {
        (Value::Object(base), Value::Object(extra)) => {
            for (key, value) in extra {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, extra) => *base = extra,
    }
}

fn roles(access: Access) -> Vec<String> {
    Role::ALL
        .iter()
        .filter(|role| access.admits(**role))
        .map(|role| role.to_string())
        .collect()
}

fn error(description: &str) -> Value {
    json_answer(description, schema_ref("Error"))
}

/// The whole document for these routes.
pub fn document(entries: &[RouteEntry], server_url: &str) -> Value {
    let extras = operations();
    let mut paths = Map::new();
    for entry in entries.iter().filter(|e| e.kind == Kind::Api) {
        let method = entry.method.as_str().to_ascii_lowercase();
        let mut operation = json!({
            "summary": entry.purpose,
            "operationId": operation_id(&method, entry.path),
            "x-roles": roles(entry.access),
            "responses": {
                "200": { "description": "Done." },
                "400": error("The request cannot be used; the message says which field and why."),
                "401": error("No valid token or session: send `Authorization: Bearer sgp_…`."),
                "403": error("The account's role does not reach this route, or a browser call came without its CSRF token."),
                "404": error("There is nothing at this address.")
            }
        });
        let parameters = path_parameters(entry.path);
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        if entry.access == Access::Anyone {
            operation["security"] = json!([]);
        }
        for (m, p, extra) in &extras {
            if m.eq_ignore_ascii_case(&method) && *p == entry.path {
                let mut extra = extra.clone();
                // The table's purpose is the summary; an area's own words
                // become the description.
                if let Some(summary) = extra.as_object_mut().and_then(|o| o.remove("summary"))
                    && extra.get("description").is_none()
                {
                    extra["description"] = summary;
                }
                merge(&mut operation, extra);
            }
        }
        let item = paths
            .entry(entry.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        item[method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "schoolgate console API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "What the console's pages do, for scripts. Make a personal token on the console's \"API tokens\" page and send it as `Authorization: Bearer sgp_…`. Each operation's `x-roles` lists the roles that may call it; the token acts with its owner's role."
        },
        "servers": [{ "url": server_url }],
        "security": [{ "token": [] }],
        "components": {
            "securitySchemes": {
                "token": { "type": "http", "scheme": "bearer", "description": "A personal API token (sgp_…)." }
            },
            "schemas": Value::Object(schemas())
        },
        "paths": Value::Object(paths)
    })
}

/// `get /api/v1/tokens/{id}` → `get_tokens_id`.
fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_owned();
    for part in path.trim_start_matches("/api/v1").split('/') {
        let part = part.trim_start_matches('{').trim_end_matches('}');
        if !part.is_empty() {
            id.push('_');
            id.extend(
                part.chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
            );
        }
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_are_plain_names() {
        assert_eq!(operation_id("get", "/api/v1/tokens/{id}"), "get_tokens_id");
        assert_eq!(
            operation_id("post", "/api/v1/openapi.json"),
            "post_openapi_json"
        );
    }

    #[test]
    fn merging_keeps_generated_answers_and_adds_bodies() {
        let mut base = json!({ "responses": { "200": { "description": "Done." }, "404": {} } });
        merge(
            &mut base,
            json!({ "responses": { "200": { "content": {} } }, "requestBody": {} }),
        );
        assert_eq!(base["responses"]["200"]["description"], "Done.");
        assert!(base["responses"]["200"]["content"].is_object());
        assert!(base["responses"]["404"].is_object());
        assert!(base["requestBody"].is_object());
    }

    #[test]
    fn path_parameters_are_named_and_typed() {
        let p = path_parameters("/api/v1/people/{username}/tokens/{id}");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0]["name"], "username");
        assert_eq!(p[0]["schema"]["type"], "string");
        assert_eq!(p[1]["schema"]["type"], "integer");
    }
}
