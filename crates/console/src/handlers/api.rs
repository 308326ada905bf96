//! The JSON API under `/api/v1`: what the pages do, for scripts. Calls
//! authenticate with a personal token (`Authorization: Bearer sgp_…`), or
//! with the browser session plus the `X-CSRF-Token` header for htmx.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Serialize;
use store::Store;

use crate::access::Caller;
use crate::{ApiError, Console, Role};

#[derive(Debug, Serialize)]
pub struct Me {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub two_factor: bool,
    /// `token` or `session`.
    pub signed_in_with: &'static str,
}

pub async fn me(Extension(caller): Extension<Caller>) -> Json<Me> {
    Json(Me {
        username: caller.account.username.clone(),
        display_name: caller.account.display_name.clone(),
        role: caller.role,
        two_factor: caller.account.totp_enabled,
        signed_in_with: if caller.session.is_some() {
            "session"
        } else {
            "token"
        },
    })
}

#[derive(Debug, Serialize)]
pub struct TokenSummary {
    pub id: i64,
    pub name: String,
    pub created_at: jiff::Timestamp,
    pub last_used: Option<jiff::Timestamp>,
    pub revoked_at: Option<jiff::Timestamp>,
}

pub async fn tokens<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<TokenSummary>>, ApiError> {
    let tokens = console
        .store
        .api_tokens_of(caller.username())
        .await?
        .into_iter()
        .map(|t| TokenSummary {
            id: t.id,
            name: t.name,
            created_at: t.created_at,
            last_used: t.last_used,
            revoked_at: t.revoked_at,
        })
        .collect();
    Ok(Json(tokens))
}

pub async fn revoke_token<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    console
        .store
        .revoke_api_token(caller.username(), id, caller.username())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize)]
pub struct AccountSummary {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: String,
    pub person: Option<String>,
    pub disabled: bool,
    pub two_factor: bool,
    pub last_sign_in: Option<jiff::Timestamp>,
}

pub async fn accounts<S: Store>(
    State(console): State<Arc<Console<S>>>,
) -> Result<Json<Vec<AccountSummary>>, ApiError> {
    let accounts = console
        .store
        .console_accounts()
        .await?
        .into_iter()
        .map(|a| AccountSummary {
            username: a.username,
            display_name: a.display_name,
            email: a.email,
            role: a.role,
            person: a.person,
            disabled: a.disabled,
            two_factor: a.totp_enabled,
            last_sign_in: a.last_sign_in,
        })
        .collect();
    Ok(Json(accounts))
}

/// The OpenAPI document for every API route (see [`crate::openapi`]).
pub async fn openapi<S: Store>(State(console): State<Arc<Console<S>>>) -> Json<serde_json::Value> {
    Json(crate::openapi::document(
        console.route_entries(),
        &format!("{}/", console.settings.public_url),
    ))
}

/// The bodies of this module's routes, for the OpenAPI document.
pub fn api_schemas() -> Vec<crate::openapi::Operation> {
    use crate::openapi::{json_answer, schema_ref};
    let list = |name: &str| serde_json::json!({ "type": "array", "items": schema_ref(name) });
    vec![
        (
            "GET",
            "/api/v1/me",
            serde_json::json!({ "responses": { "200": json_answer("The calling account.", schema_ref("Me")) } }),
        ),
        (
            "GET",
            "/api/v1/tokens",
            serde_json::json!({ "responses": { "200": json_answer("Your tokens, revoked ones included.", list("TokenSummary")) } }),
        ),
        (
            "DELETE",
            "/api/v1/tokens/{id}",
            serde_json::json!({ "responses": { "204": { "description": "Revoked." } } }),
        ),
        (
            "GET",
            "/api/v1/accounts",
            serde_json::json!({ "responses": { "200": json_answer("Every console account.", list("AccountSummary")) } }),
        ),
        (
            "GET",
            "/api/v1/openapi.json",
            serde_json::json!({ "responses": { "200": { "description": "This document.", "content": { "application/json": {} } } } }),
        ),
    ]
}

/// The schemas this module's answers use.
pub fn component_schemas() -> serde_json::Map<String, serde_json::Value> {
    use serde_json::json;
    let time = json!({ "type": "string", "format": "date-time" });
    let optional_time = json!({ "type": ["string", "null"], "format": "date-time" });
    let mut schemas = serde_json::Map::new();
    schemas.insert(
        "Me".into(),
        json!({
            "type": "object",
            "required": ["username", "display_name", "role", "two_factor", "signed_in_with"],
            "properties": {
                "username": { "type": "string" },
                "display_name": { "type": "string" },
                "role": crate::openapi::schema_ref("Role"),
                "two_factor": { "type": "boolean" },
                "signed_in_with": { "type": "string", "enum": ["token", "session"] }
            }
        }),
    );
    schemas.insert(
        "TokenSummary".into(),
        json!({
            "type": "object",
            "required": ["id", "name", "created_at"],
            "properties": {
                "id": { "type": "integer" },
                "name": { "type": "string" },
                "created_at": time,
                "last_used": optional_time,
                "revoked_at": optional_time
            }
        }),
    );
    schemas.insert(
        "AccountSummary".into(),
        json!({
            "type": "object",
            "required": ["username", "display_name", "role", "disabled", "two_factor"],
            "properties": {
                "username": { "type": "string" },
                "display_name": { "type": "string" },
                "email": { "type": ["string", "null"] },
                "role": { "type": "string" },
                "person": { "type": ["string", "null"] },
                "disabled": { "type": "boolean" },
                "two_factor": { "type": "boolean" },
                "last_sign_in": optional_time
            }
        }),
    );
    schemas
}
