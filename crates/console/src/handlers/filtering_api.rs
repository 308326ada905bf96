//! The filtering policy in the JSON API: the current revision (TOML and
//! JSON), replacing it with a reason from a known base revision, its
//! history, "test a URL", and the lists in force with the statutory lists'
//! status. Access is the pages': administrators and technicians change the
//! policy; the DSL, deputy DSLs and the headteacher read it.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::{Extension, Json};
use bytes::Bytes;
use jiff::Timestamp;
use policy::Policy;
use policy::model::typed_override;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use store::Store;

use super::filtering::{
    ListView, Outcome, StatutoryView, VerdictView, current, lists_in_force, parse_time,
    profile_for_test, save_change, verdict_view,
};
use crate::access::Caller;
use crate::{ApiError, AppError, Console};

/// A revision of the policy, whole.
#[derive(Debug, Serialize)]
pub struct PolicyDocument {
    pub revision: i64,
    pub at: Timestamp,
    pub actor: String,
    pub reason: String,
    /// The policy in its TOML format (`docs/policy-format.md`).
    pub document: String,
    /// The same policy as JSON, in the same shape.
    pub policy: Policy,
}

/// A new policy: as TOML in `document`, or as JSON in `policy` (one of the
/// two), with the reason and the revision it was made from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyChange {
    pub base_revision: i64,
    pub reason: String,
    #[serde(default)]
    pub document: Option<String>,
    #[serde(default)]
    pub policy: Option<Value>,
}

/// One revision in the history.
#[derive(Debug, Serialize)]
pub struct RevisionSummary {
    pub revision: i64,
    pub at: Timestamp,
    pub actor: String,
    pub reason: String,
    pub changes: Vec<String>,
}

impl From<store::PolicyRevision> for RevisionSummary {
    fn from(r: store::PolicyRevision) -> RevisionSummary {
        RevisionSummary {
            revision: r.number,
            at: r.at,
            actor: r.actor,
            reason: r.reason,
            changes: r.changes,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    pub limit: Option<usize>,
}

/// A URL to test: for a profile or for a person (by username), at a time
/// (RFC 3339; now when left out).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    pub url: String,
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub at: Option<String>,
}

/// The lists in force and the statutory lists' status.
#[derive(Debug, Serialize)]
pub struct ListsAnswer {
    pub lists: Vec<ListView>,
    pub statutory: Vec<StatutoryView>,
    /// Always true: statutory lists are checked first for everyone.
    pub statutory_always_on: bool,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError(AppError::bad_request(message))
}

// GET /api/v1/policy
pub async fn get_policy<S: Store>(
    State(console): State<Arc<Console<S>>>,
) -> Result<Json<PolicyDocument>, ApiError> {
    let (revision, policy) = current(&console).await?;
    Ok(Json(PolicyDocument {
        revision: revision.number,
        at: revision.at,
        actor: revision.actor,
        reason: revision.reason,
        document: revision.document,
        policy,
    }))
}

/// Reads the new policy from a change, naming the field that is wrong.
fn new_policy(change: &PolicyChange) -> Result<Policy, ApiError> {
    match (&change.document, &change.policy) {
        (Some(text), None) => Policy::from_toml(text).map_err(|e| bad(format!("document: {e}"))),
        (None, Some(value)) => {
            let policy: Policy =
                serde_json::from_value(value.clone()).map_err(|e| bad(format!("policy: {e}")))?;
            policy.validate().map_err(|e| bad(format!("policy: {e}")))?;
            Ok(policy)
        }
        _ => Err(bad(
            "Send the new policy either as TOML in 'document' or as JSON in 'policy', not both and not neither.",
        )),
    }
}

/// Entries new to an allow or deny list are checked as strictly as the
/// pages check them, so a slip such as `http//bad` is refused.
fn check_new_overrides(old: &Policy, new: &Policy) -> Result<(), ApiError> {
    for (i, profile) in new.profiles.iter().enumerate() {
        let before = old.profile(&profile.id);
        for (field, entries, old_entries) in [
            ("allow", &profile.allow, before.map(|p| &p.allow)),
            ("deny", &profile.deny, before.map(|p| &p.deny)),
        ] {
            for (j, entry) in entries.iter().enumerate() {
                if old_entries.is_some_and(|o| o.contains(entry)) {
                    continue;
                }
                typed_override(entry).map_err(|why| {
                    bad(format!("profile[{i}] ({}).{field}[{j}]: {why}", profile.id))
                })?;
            }
        }
    }
    Ok(())
}

// PUT /api/v1/policy
pub async fn put_policy<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Json<RevisionSummary>, ApiError> {
    let change: PolicyChange = serde_json::from_slice(&body).map_err(|e| {
        bad(format!(
            "The body must be JSON with base_revision, reason and document (TOML) or policy (JSON): {e}"
        ))
    })?;
    let policy = new_policy(&change)?;
    let (_, old) = current(&console).await?;
    check_new_overrides(&old, &policy)?;
    match save_change(
        &console,
        &caller,
        &policy,
        change.base_revision,
        &change.reason,
        "reason",
        |_| "policy",
    )
    .await?
    {
        Outcome::Saved(revision) => Ok(Json(revision.into())),
        Outcome::Refused { errors, status, .. } => {
            let message = errors
                .into_iter()
                .map(|(field, message)| format!("{field}: {message}"))
                .collect::<Vec<_>>()
                .join(" ");
            Err(ApiError(if status == axum::http::StatusCode::CONFLICT {
                AppError::conflict(message)
            } else {
                AppError::bad_request(message)
            }))
        }
    }
}

// GET /api/v1/policy/history
pub async fn history<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<Vec<RevisionSummary>>, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let revisions = console.store.policy_history(limit).await?;
    Ok(Json(revisions.into_iter().map(Into::into).collect()))
}

// POST /api/v1/check
pub async fn check<S: Store>(
    State(console): State<Arc<Console<S>>>,
    body: Bytes,
) -> Result<Json<VerdictView>, ApiError> {
    let request: CheckRequest = serde_json::from_slice(&body).map_err(|e| {
        bad(format!(
            "The body must be JSON with url, and profile or username (and at, optionally): {e}"
        ))
    })?;
    let Some(checker) = console.checker() else {
        return Err(ApiError(AppError::unavailable(
            "Checking URLs is not available: this console is not running beside the filter.",
        )));
    };
    let (_, policy) = current(&console).await?;
    let (profile, person) = profile_for_test(
        &console,
        &policy,
        request.profile.as_deref().unwrap_or_default(),
        request.username.as_deref().unwrap_or_default(),
    )
    .await
    .map_err(|(field, message)| {
        bad(format!(
            "{}: {message}",
            if field == "person" { "username" } else { field }
        ))
    })?;
    let at = parse_time(&console, request.at.as_deref().unwrap_or_default())
        .map_err(|e| bad(format!("at: {e}")))?;
    let explanation = checker
        .check(&request.url, &profile, at)
        .map_err(|e| bad(format!("url: {e}")))?;
    Ok(Json(verdict_view(explanation, person, at.to_string())))
}

// GET /api/v1/lists
pub async fn lists<S: Store>(
    State(console): State<Arc<Console<S>>>,
) -> Result<Json<ListsAnswer>, ApiError> {
    let (lists, statutory) = lists_in_force(&console).await?;
    Ok(Json(ListsAnswer {
        lists,
        statutory,
        statutory_always_on: true,
    }))
}

fn body(schema: Value) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

fn answer(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn error(description: &str) -> Value {
    answer(
        description,
        json!({ "type": "object", "properties": { "error": { "type": "string" }, "reference": { "type": ["string", "null"] } }, "required": ["error"] }),
    )
}

/// The OpenAPI 3.1 operations of this module's routes.
pub fn api_schemas() -> Vec<(&'static str, &'static str, Value)> {
    let revision = json!({
        "type": "object",
        "properties": {
            "revision": { "type": "integer" },
            "at": { "type": "string", "format": "date-time" },
            "actor": { "type": "string" },
            "reason": { "type": "string" },
            "changes": { "type": "array", "items": { "type": "string" }, "description": "What changed from the revision before, one readable line each." }
        },
        "required": ["revision", "at", "actor", "reason", "changes"]
    });
    let policy = json!({
        "type": "object",
        "description": "The policy in the shape of docs/policy-format.md: school, and profile (an array of profiles). Unknown keys are refused.",
        "properties": {
            "school": { "type": "object" },
            "profile": { "type": "array", "items": { "type": "object" } }
        },
        "required": ["school"]
    });
    let verdict = json!({
        "type": "object",
        "properties": {
            "verdict": { "enum": ["allow", "block", "safe-search"] },
            "verdict_text": { "type": "string" },
            "profile": { "type": "string" },
            "person": { "type": ["string", "null"] },
            "at": { "type": "string", "format": "date-time" },
            "rule": { "type": "string", "description": "statutory:iwf, deny:ENTRY, allow:ENTRY, walled-garden, schedule:NAME, ip-address, category:ID or default" },
            "reason": { "type": "string" },
            "categories": { "type": "array", "items": { "type": "string" } },
            "matches": { "type": "array", "items": { "type": "object", "properties": { "entry": { "type": "string" }, "lists": { "type": "array", "items": { "type": "string" } } } }, "description": "Empty for statutory verdicts: their entries are never shown." },
            "statutory": { "type": "boolean" },
            "block_text": { "type": ["string", "null"] },
            "safe_search_host": { "type": ["string", "null"] }
        },
        "required": ["verdict", "profile", "rule", "reason", "categories", "matches", "statutory"]
    });
    vec![
        (
            "GET",
            "/api/v1/policy",
            json!({
                "summary": "The filtering policy in force: its revision, as TOML and as JSON.",
                "responses": {
                    "200": answer("The current revision.", json!({
                        "type": "object",
                        "properties": {
                            "revision": { "type": "integer" },
                            "at": { "type": "string", "format": "date-time" },
                            "actor": { "type": "string" },
                            "reason": { "type": "string" },
                            "document": { "type": "string", "description": "The policy as TOML." },
                            "policy": policy.clone()
                        },
                        "required": ["revision", "at", "actor", "reason", "document", "policy"]
                    })),
                    "503": error("There is no policy yet.")
                }
            }),
        ),
        (
            "PUT",
            "/api/v1/policy",
            json!({
                "summary": "Replaces the filtering policy, with a reason, from a known revision.",
                "description": "Refused when the reason is empty, when nothing would change, when the policy is not valid (the message names the field), or when base_revision is no longer the newest (409). Statutory lists cannot be switched off: the format has no such setting and unknown keys are refused.",
                "requestBody": body(json!({
                    "type": "object",
                    "properties": {
                        "base_revision": { "type": "integer", "description": "The revision this change was made from." },
                        "reason": { "type": "string", "minLength": 1, "description": "The risk assessment of the change (§7.3.1)." },
                        "document": { "type": "string", "description": "The new policy as TOML." },
                        "policy": policy
                    },
                    "required": ["base_revision", "reason"],
                    "additionalProperties": false
                })),
                "responses": {
                    "200": answer("The new revision.", revision.clone()),
                    "400": error("The change was refused; the message names the field."),
                    "409": error("Someone saved a newer revision first; nothing was saved.")
                }
            }),
        ),
        (
            "GET",
            "/api/v1/policy/history",
            json!({
                "summary": "Revisions of the policy, newest first, with who, when, why and what changed.",
                "parameters": [{ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 } }],
                "responses": { "200": answer("The revisions.", json!({ "type": "array", "items": revision })) }
            }),
        ),
        (
            "POST",
            "/api/v1/check",
            json!({
                "summary": "Tests a URL against the engine in force, for a profile or a person, as schoolgate check does.",
                "requestBody": body(json!({
                    "type": "object",
                    "properties": {
                        "url": { "type": "string" },
                        "profile": { "type": "string" },
                        "username": { "type": "string", "description": "A person's username; their profile is used." },
                        "at": { "type": "string", "description": "RFC 3339, or a date and time in the school's time zone; now when left out." }
                    },
                    "required": ["url"],
                    "additionalProperties": false
                })),
                "responses": {
                    "200": answer("The verdict and its explanation.", verdict),
                    "400": error("The request was refused; the message names the field."),
                    "503": error("Checking is not available here.")
                }
            }),
        ),
        (
            "GET",
            "/api/v1/lists",
            json!({
                "summary": "The category lists in force, and the statutory lists' status (never their contents).",
                "responses": {
                    "200": answer("The lists.", json!({
                        "type": "object",
                        "properties": {
                            "lists": { "type": "array", "items": { "type": "object", "properties": {
                                "name": { "type": "string" }, "category": { "type": "string" },
                                "entries": { "type": "integer" }, "source": { "type": "string" },
                                "loaded": { "type": "string", "description": "When, in the school's time." } } } },
                            "statutory": { "type": "array", "items": { "type": "object", "properties": {
                                "kind": { "type": "string" }, "name": { "type": "string" }, "loaded": { "type": "boolean" },
                                "entries": { "type": ["integer", "null"] }, "fingerprint": { "type": ["string", "null"] },
                                "updated": { "type": ["string", "null"] } } } },
                            "statutory_always_on": { "const": true }
                        }
                    }))
                }
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_describes_its_answers() {
        let schemas = api_schemas();
        assert_eq!(schemas.len(), 5);
        for (method, path, operation) in schemas {
            assert!(path.starts_with("/api/v1/"), "{path}");
            assert!(operation["responses"]["200"].is_object(), "{method} {path}");
            assert!(operation["summary"].is_string(), "{method} {path}");
        }
    }
}
