//! The OpenAPI document: served to anyone, and describing every API route
//! in the table with the roles that may call it.

mod common;

use common::School;
use serde_json::Value;

#[tokio::test]
async fn the_document_describes_every_api_route_and_who_may_call_it() {
    let school = School::new().await;
    let page = school.browser().get("/api/v1/openapi.json").await;
    assert_eq!(page.status, axum::http::StatusCode::OK, "{}", page.body);
    let doc: Value = serde_json::from_str(&page.body).expect("JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], "http://console.test/");
    let api_routes: Vec<_> = console::routes::table::<store::sqlite::SqliteStore>()
        .into_iter()
        .filter(|r| r.entry.path.starts_with("/api/"))
        .map(|r| r.entry)
        .collect();
    assert!(api_routes.len() >= 5);
    for entry in &api_routes {
        let method = entry.method.as_str().to_ascii_lowercase();
        let operation = &doc["paths"][entry.path][&method];
        assert!(
            operation.is_object(),
            "{} {} is missing from the OpenAPI document",
            entry.method,
            entry.path
        );
        assert_eq!(operation["summary"], entry.purpose);
        for role in console::Role::ALL {
            let listed = operation["x-roles"]
                .as_array()
                .expect("x-roles")
                .contains(&Value::String(role.to_string()));
            assert_eq!(listed, entry.access.admits(role), "{} {role}", entry.path);
        }
        // Every $ref points at a schema that exists.
        check_refs(operation, &doc);
    }
    let accounts = &doc["paths"]["/api/v1/accounts"]["get"];
    assert_eq!(accounts["x-roles"], serde_json::json!(["administrator"]));
    assert_eq!(
        accounts["responses"]["200"]["content"]["application/json"]["schema"]["items"]["$ref"],
        "#/components/schemas/AccountSummary"
    );
    let revoke = &doc["paths"]["/api/v1/tokens/{id}"]["delete"];
    assert_eq!(revoke["parameters"][0]["name"], "id");
    assert_eq!(revoke["parameters"][0]["schema"]["type"], "integer");
}

fn check_refs(value: &Value, doc: &Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                let name = target
                    .strip_prefix("#/components/schemas/")
                    .expect("local schema reference");
                assert!(
                    doc["components"]["schemas"][name].is_object(),
                    "{target} is referred to but not defined"
                );
            }
            map.values().for_each(|v| check_refs(v, doc));
        }
        Value::Array(items) => items.iter().for_each(|v| check_refs(v, doc)),
        _ => {}
    }
}
