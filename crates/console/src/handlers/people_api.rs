//! The JSON API for people, devices and networks: what the pages do, for
//! scripts with a personal token. [`api_schemas`] describes the bodies for
//! the OpenAPI document.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{PersonChange, PersonRecord, Store, StoreError};

use super::devices::Entry;
use super::people::{PeopleFilter, profiles, unknown_profile};
use crate::access::Caller;
use crate::{ApiError, AppError, Console};

/// At most this many people a call.
const MOST_PER_PAGE: usize = 500;

fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(v)| v).map_err(|e| {
        ApiError(AppError::bad_request(format!(
            "The body is not the JSON this call expects: {}. See the API description.",
            e.body_text()
        )))
    })
}

fn invalid(errors: Vec<(&'static str, String)>) -> ApiError {
    let text: Vec<String> = errors.iter().map(|(f, m)| format!("{f}: {m}")).collect();
    ApiError(AppError::bad_request(text.join(" ")))
}

/// `GET /api/v1/people` takes the page's filters plus `per_page`.
#[derive(Debug, Default, Deserialize)]
pub struct PerPage {
    pub per_page: Option<usize>,
}

#[derive(Debug, Serialize)]
pub struct PeopleAnswer {
    pub people: Vec<PersonRecord>,
    pub total: u64,
    pub page: usize,
    pub per_page: usize,
}

pub async fn people<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Query(filter): Query<PeopleFilter>,
    Query(per_page): Query<PerPage>,
) -> Result<Json<PeopleAnswer>, ApiError> {
    let per_page = per_page
        .per_page
        .unwrap_or(super::people::PER_PAGE)
        .clamp(1, MOST_PER_PAGE);
    let found = console.store.search_people(&filter.query(per_page)).await?;
    Ok(Json(PeopleAnswer {
        people: found.people,
        total: found.total,
        page: filter.page.unwrap_or(1).max(1),
        per_page,
    }))
}

pub async fn person<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Path(username): Path<String>,
) -> Result<Json<PersonRecord>, ApiError> {
    Ok(Json(
        console
            .store
            .person_record(&username)
            .await?
            .ok_or_else(AppError::not_found)?,
    ))
}

/// `PATCH /api/v1/people/{username}`: a new profile (set by hand), back to
/// the import's profile, disabled or enabled; always with a reason.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PersonPatch {
    pub profile: Option<String>,
    #[serde(default)]
    pub profile_from_import: bool,
    pub disabled: Option<bool>,
    pub reason: String,
}

pub async fn change_person<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Path(username): Path<String>,
    patch: Result<Json<PersonPatch>, JsonRejection>,
) -> Result<Json<PersonRecord>, ApiError> {
    let patch = body(patch)?;
    let person = console
        .store
        .person_record(&username)
        .await?
        .ok_or_else(AppError::not_found)?;
    if patch.reason.trim().is_empty() {
        return Err(AppError::bad_request(
            "reason: give a reason for the change; it is kept in the audit trail (§7.3.1).",
        )
        .into());
    }
    if patch.profile.is_none() && !patch.profile_from_import && patch.disabled.is_none() {
        return Err(AppError::bad_request(
            "Nothing to change: send profile, profile_from_import or disabled.",
        )
        .into());
    }
    if let Some(profile) = &patch.profile
        && let Some(problem) = unknown_profile(&profiles(&console).await?, profile)
    {
        return Err(AppError::bad_request(format!("profile: {problem}")).into());
    }
    if patch.profile.is_some() || patch.profile_from_import {
        let change = PersonChange {
            profile: patch.profile.clone(),
            profile_from_import: patch.profile_from_import,
            ..PersonChange::default()
        };
        match console
            .store
            .change_person(&person.username, &change, caller.username(), &patch.reason)
            .await
        {
            Ok(()) | Err(StoreError::NoChange) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(disabled) = patch.disabled {
        console
            .store
            .set_people_disabled(
                std::slice::from_ref(&person.username),
                disabled,
                caller.username(),
                &patch.reason,
            )
            .await?;
    }
    Ok(Json(
        console
            .store
            .person_record(&person.username)
            .await?
            .ok_or_else(AppError::not_found)?,
    ))
}

/// `GET /api/v1/devices` and `/api/v1/networks`.
pub async fn list<S: Store, E: Entry>(
    State(console): State<Arc<Console<S>>>,
) -> Result<Json<Vec<E>>, ApiError> {
    Ok(Json(E::all(&console.store).await?))
}

/// `POST /api/v1/devices` and `/api/v1/networks`: checked as the pages
/// check them, then added or replaced.
pub async fn save<S: Store, E: Entry>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    input: Result<Json<E::Input>, JsonRejection>,
) -> Result<(StatusCode, Json<E>), ApiError> {
    let form = E::from_input(body(input)?);
    let entry = E::check(&form, &profiles(&console).await?).map_err(invalid)?;
    entry.save(&console.store, caller.username()).await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// `DELETE /api/v1/devices/{name}` and `/api/v1/networks/{name}`.
pub async fn remove<S: Store, E: Entry>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    E::remove(&console.store, &name, caller.username()).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn person_schema() -> serde_json::Value {
    let text = json!({ "type": "string" });
    let maybe = json!({ "type": ["string", "null"] });
    json!({
        "type": "object",
        "required": ["username", "display_name", "profile", "disabled", "given_name", "family_name", "kind", "profile_set_by_hand", "can_sign_in", "created_at"],
        "properties": {
            "username": text, "display_name": text, "profile": text,
            "disabled": { "type": "boolean" },
            "mis_id": maybe, "given_name": text, "family_name": text,
            "year_group": { "type": ["string", "null"], "description": "Nursery, Reception, Year 1 … Year 13; none for staff" },
            "class_group": maybe, "email": maybe,
            "kind": { "enum": ["pupil", "staff"] },
            "profile_set_by_hand": { "type": "boolean", "description": "imports keep a profile set by hand" },
            "disabled_at": { "type": ["string", "null"], "format": "date-time" },
            "disabled_by": maybe,
            "can_sign_in": { "type": "boolean" },
            "created_at": { "type": "string", "format": "date-time" }
        }
    })
}

fn device_schema() -> serde_json::Value {
    json!({
        "type": "object",
        "required": ["name", "address", "school_owned"],
        "properties": {
            "name": { "type": "string", "maxLength": 100 },
            "kind": { "type": "string", "description": "laptop, tablet, desktop, phone …" },
            "address": { "type": "string", "description": "an IP address (10.0.5.17) or range (10.0.5.0/24)" },
            "owner": { "type": "string" },
            "school_owned": { "type": "boolean" }
        }
    })
}

fn network_schema() -> serde_json::Value {
    json!({
        "type": "object",
        "required": ["name", "ranges", "profile"],
        "properties": {
            "name": { "type": "string", "maxLength": 100 },
            "ranges": { "type": "array", "items": { "type": "string" }, "description": "address ranges such as 10.20.0.0/16" },
            "profile": { "type": "string", "description": "a profile id of the policy in force, such as guest" }
        }
    })
}

fn answer(description: &str, schema: serde_json::Value) -> serde_json::Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn error_answer(description: &str) -> serde_json::Value {
    answer(
        description,
        json!({ "type": "object", "properties": { "error": { "type": "string" }, "reference": { "type": ["string", "null"] } } }),
    )
}

fn request(schema: serde_json::Value) -> serde_json::Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

fn name_parameter(name: &str, description: &str) -> serde_json::Value {
    json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" }, "description": description })
}

fn query(name: &str, schema: serde_json::Value, description: &str) -> serde_json::Value {
    json!({ "name": name, "in": "query", "required": false, "schema": schema, "description": description })
}

/// OpenAPI 3.1 operation objects for the people, device and network API.
pub fn api_schemas() -> Vec<(&'static str, &'static str, serde_json::Value)> {
    let text = json!({ "type": "string" });
    vec![
        (
            "get",
            "/api/v1/people",
            json!({
                "summary": "People, searched and paged",
                "parameters": [
                    query("q", text.clone(), "part of a name, username or email, or an exact MIS id"),
                    query("year", text.clone(), "a year group, such as Year 5"),
                    query("class", text.clone(), "a class or registration group"),
                    query("kind", json!({ "enum": ["pupil", "staff"] }), "pupils or staff"),
                    query("status", json!({ "enum": ["active", "disabled", "all"] }), "active (the default), disabled (leavers) or all"),
                    query("page", json!({ "type": "integer", "minimum": 1 }), "the page, from 1"),
                    query("per_page", json!({ "type": "integer", "minimum": 1, "maximum": MOST_PER_PAGE }), "people a page (50 unless given)")
                ],
                "responses": {
                    "200": answer("One page of people and how many match", json!({
                        "type": "object",
                        "required": ["people", "total", "page", "per_page"],
                        "properties": {
                            "people": { "type": "array", "items": person_schema() },
                            "total": { "type": "integer" },
                            "page": { "type": "integer" },
                            "per_page": { "type": "integer" }
                        }
                    }))
                }
            }),
        ),
        (
            "get",
            "/api/v1/people/{username}",
            json!({
                "summary": "One person",
                "parameters": [name_parameter("username", "their username")],
                "responses": { "200": answer("The person", person_schema()), "404": error_answer("No such person") }
            }),
        ),
        (
            "patch",
            "/api/v1/people/{username}",
            json!({
                "summary": "Changes a person's profile (set by hand, so imports keep it), or disables or re-enables them; never deletes",
                "parameters": [name_parameter("username", "their username")],
                "requestBody": request(json!({
                    "type": "object",
                    "required": ["reason"],
                    "additionalProperties": false,
                    "properties": {
                        "profile": { "type": "string", "description": "a profile id of the policy in force" },
                        "profile_from_import": { "type": "boolean", "description": "let imports set the profile again" },
                        "disabled": { "type": "boolean", "description": "true for a leaver, false to re-enable" },
                        "reason": { "type": "string", "minLength": 1, "description": "kept in the audit trail" }
                    }
                })),
                "responses": {
                    "200": answer("The person after the change", person_schema()),
                    "400": error_answer("No reason, nothing to change, or an unknown profile"),
                    "404": error_answer("No such person")
                }
            }),
        ),
    ]
    .into_iter()
    .chain(registry(
        "/api/v1/devices",
        "/api/v1/devices/{name}",
        "device",
        "The device registry",
        device_schema(),
    ))
    .chain(registry(
        "/api/v1/networks",
        "/api/v1/networks/{name}",
        "network",
        "Networks and their profiles",
        network_schema(),
    ))
    .collect()
}

/// List, add-or-replace and remove, for devices and networks alike.
fn registry(
    list: &'static str,
    one: &'static str,
    what: &str,
    summary: &str,
    schema: serde_json::Value,
) -> [(&'static str, &'static str, serde_json::Value); 3] {
    [
        (
            "get",
            list,
            json!({
                "summary": summary,
                "responses": { "200": answer(&format!("Every {what}, by name"), json!({ "type": "array", "items": schema.clone() })) }
            }),
        ),
        (
            "post",
            list,
            json!({
                "summary": format!("Adds a {what}, or replaces the one with the same name"),
                "requestBody": request(schema.clone()),
                "responses": {
                    "201": answer(&format!("The {what} as saved (addresses as ranges)"), schema),
                    "400": error_answer("A field is not usable; the message names it")
                }
            }),
        ),
        (
            "delete",
            one,
            json!({
                "summary": format!("Removes a {what}"),
                "parameters": [name_parameter("name", &format!("the {what}'s name"))],
                "responses": { "204": { "description": "Removed" }, "404": error_answer(&format!("No such {what}")) }
            }),
        ),
    ]
}
