//! Review requests both ways (§7.3.2). A block page's "ask for this to be
//! checked" is an over-blocking request; a member of staff's report of a
//! site that should have been blocked is an under-blocking request and a
//! filtering breach. Reviewers (administrators, technicians and the DSL
//! roles) approve or decline with a reason; approving changes the policy
//! (an allow entry for an over-block, a deny entry for an under-block) as
//! an audited change whose reason is "Review #N: …", and the request keeps
//! the revision it made.
//!
//! Who sees what. A breach report carries who found the site and what
//! happened, which may name a pupil and describe harm: that is safeguarding
//! content, shown on `/reviews/{id}/breach` to the DSL roles only. The
//! technician still sees the URL, the device, who reported it and when, so
//! the filter can be fixed without the story. Block-page requests name the
//! pupil who asked, so every review route is refused to governors and
//! staff; staff see only their own reports (`/reviews/mine`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form, Json};
use minijinja::context;
use minijinja::value::Serde;
use policy::Policy;
use policy::model::{OverrideEntry, OverrideList, parse_override};
use serde::{Deserialize, Serialize};
use store::{
    Decided, PolicyChange, Review, ReviewDecision, ReviewFilter, ReviewKind, ReviewStatus,
    StaffReport, Store,
};

use super::{Done, see_other};
use crate::access::Caller;
use crate::csrf::CsrfKey;
use crate::pages::{Layout, render};
use crate::{ApiError, AppError, Console, Role};

/// How many reviews a list shows.
const LIST_LIMIT: usize = 200;
const MAX_URL: usize = 2000;
const MAX_TEXT: usize = 4000;
const MAX_SHORT: usize = 200;

/// "Every profile" in the decision form.
const EVERY_PROFILE: &str = "*";

fn notice(done: &Done) -> Option<&'static str> {
    Some(match done.done.as_deref()? {
        "reported" => {
            "Thank you. Your report has been recorded and the safeguarding team and technicians can see it."
        }
        "approved" => "The request is approved and the policy has been changed.",
        "approved-unchanged" => {
            "The request is approved. The policy already did this, so nothing in it changed."
        }
        "declined" => "The request is declined. The person who asked can see the outcome.",
        _ => return None,
    })
}

fn sees_breach_detail(role: Role) -> bool {
    Role::SAFEGUARDING.contains(&role)
}

/// The host of a URL as typed: `https://Games.example:443/x` → `games.example`.
fn host_of(url: &str) -> String {
    let rest = url.trim().split_once("://").map_or(url.trim(), |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host
    } else {
        host.split(':').next().unwrap_or("")
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// A review as pages and the API show it to `role`.
#[derive(Debug, Serialize)]
pub struct ReviewView {
    pub id: i64,
    pub at: jiff::Timestamp,
    pub when: String,
    /// `over-blocking` or `under-blocking`.
    pub kind: ReviewKind,
    pub kind_label: &'static str,
    pub url: String,
    pub host: String,
    pub profile: String,
    pub reference: String,
    /// Who asked: a console account, a person the filter knew, or an address.
    pub requester: String,
    pub device: Option<String>,
    pub breach: bool,
    pub status: ReviewStatus,
    pub status_label: &'static str,
    pub decided_by: Option<String>,
    pub decided_when: Option<String>,
    pub decision_reason: Option<String>,
    pub policy_revision: Option<i64>,
    /// Why they asked (block pages), shown to every reviewer.
    pub message: Option<String>,
    /// Breach detail: only for the DSL roles and the reporter.
    pub found_by: Option<String>,
    pub what_happened: Option<String>,
}

fn view<S: Store>(console: &Console<S>, r: &Review, detail: bool) -> ReviewView {
    let breach_story = r.kind == ReviewKind::UnderBlocking;
    ReviewView {
        id: r.id,
        at: r.at,
        when: console.show_time(r.at),
        kind: r.kind,
        kind_label: match r.kind {
            ReviewKind::OverBlocking => "Blocked, asked to unblock",
            ReviewKind::UnderBlocking => "Reachable, reported to block",
        },
        url: r.url.clone(),
        host: host_of(&r.url),
        profile: r.profile.clone(),
        reference: r.reference.clone(),
        requester: match (&r.requester, &r.username) {
            (Some(account), _) => account.clone(),
            (None, Some(person)) => person.clone(),
            (None, None) => format!("someone at {}", r.client_ip),
        },
        device: r.device.clone(),
        breach: r.breach,
        status: r.status,
        status_label: match r.status {
            ReviewStatus::Open => "Open",
            ReviewStatus::Approved => "Approved",
            ReviewStatus::Declined => "Declined",
        },
        decided_by: r.decided_by.clone(),
        decided_when: r.decided_at.map(|at| console.show_time(at)),
        decision_reason: r.decision_reason.clone(),
        policy_revision: r.policy_revision,
        message: (!breach_story && !r.message.is_empty()).then(|| r.message.clone()),
        found_by: (breach_story && detail).then(|| r.found_by.clone()),
        what_happened: (breach_story && detail).then(|| r.message.clone()),
    }
}

// ---------------------------------------------------------------------------
// Deciding.

/// What a reviewer decided, from a form or the API.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct DecisionForm {
    /// `approve` or `decline`.
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub reason: String,
    /// The profile to change on approval (`*` for every profile); the
    /// request's own profile when empty.
    #[serde(default)]
    pub profile: String,
    /// The site to allow or deny: a domain or a URL prefix; the request's
    /// host when empty.
    #[serde(default)]
    pub site: String,
}

/// Decides a review: on approval, the policy change first (so the revision
/// can be recorded with the decision). Errors name the field.
async fn decide<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    id: i64,
    form: &DecisionForm,
) -> Result<Result<(Review, bool), Vec<(&'static str, String)>>, AppError> {
    let Some(review) = console.store.review(id).await? else {
        return Err(AppError::not_found());
    };
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    if review.status != ReviewStatus::Open {
        errors.push((
            "decision",
            format!(
                "Request #{id} has already been {}. Nothing was changed.",
                review.status.as_str()
            ),
        ));
        return Ok(Err(errors));
    }
    let approved = match form.decision.as_str() {
        "approve" => true,
        "decline" => false,
        _ => {
            errors.push(("decision", "Choose whether to approve or decline.".into()));
            false
        }
    };
    let reason = form.reason.trim();
    if reason.is_empty() {
        errors.push((
            "reason",
            "Give a reason for the decision. It is kept in the audit trail and shown to the person who asked."
                .into(),
        ));
    } else if reason.chars().count() > MAX_TEXT {
        errors.push(("reason", "Keep the reason under 4,000 characters.".into()));
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let decision = ReviewDecision {
        approved,
        by: caller.username().to_owned(),
        at: console.now(),
        reason: reason.to_owned(),
        policy_revision: None,
    };
    let change = if approved {
        match approval_change(console, &review, form).await? {
            Ok(change) => change,
            Err(errors) => return Ok(Err(errors)),
        }
    } else {
        None
    };
    let decided = match &change {
        // A decline, or an approval the policy already says.
        None => {
            if console.store.decide_review(id, &decision).await? {
                Decided::Decided { revision: None }
            } else {
                Decided::NotOpen
            }
        }
        // The policy and the decision are saved together, from the
        // revision just read: a change saved meanwhile by someone else is
        // never undone.
        Some((updated, base)) => {
            let revision_reason = format!("Review #{id}: {reason}");
            let change = PolicyChange {
                policy: updated,
                base: *base,
                reason: &revision_reason,
            };
            match console
                .store
                .decide_review_changing_policy(id, &decision, &change)
                .await
            {
                Ok(decided) => decided,
                Err(store::StoreError::StaleRevision { current, .. }) => {
                    return Ok(Err(vec![(
                        "decision",
                        format!(
                            "Someone else changed the policy (now revision {current}) just as you decided, so nothing was saved. Decide again."
                        ),
                    )]));
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let changed = match decided {
        Decided::Decided { revision } => revision.is_some(),
        Decided::NotOpen => {
            return Ok(Err(vec![(
                "decision",
                format!("Request #{id} was decided by someone else a moment ago."),
            )]));
        }
    };
    let review = find(console, id).await?;
    Ok(Ok((review, changed)))
}

/// The policy an approval makes, and the revision it was made from; `None`
/// when the policy already says it.
async fn approval_change<S: Store>(
    console: &Console<S>,
    review: &Review,
    form: &DecisionForm,
) -> Result<Result<Option<(Policy, i64)>, Vec<(&'static str, String)>>, AppError> {
    let site = if form.site.trim().is_empty() {
        host_of(&review.url)
    } else {
        form.site.trim().to_owned()
    };
    let entry = match parse_override(&site) {
        Ok(OverrideEntry::Domain(d)) => d,
        Ok(OverrideEntry::Url(u)) => u,
        Err(problem) => {
            return Ok(Err(vec![(
                "site",
                format!(
                    "'{site}' is not a site the filter can use ({problem}). Enter a domain such as games.example."
                ),
            )]));
        }
    };
    let Some(current) = console.store.current_policy().await? else {
        return Err(AppError::bad_request(
            "There is no filtering policy yet, so nothing can be approved. Ask your technician to set one up.",
        ));
    };
    let policy = current.policy()?;
    let profile = if form.profile.trim().is_empty() {
        review.profile.clone()
    } else {
        form.profile.trim().to_owned()
    };
    let profiles: Vec<String> = if profile == EVERY_PROFILE {
        policy.profiles.iter().map(|p| p.id.clone()).collect()
    } else if policy.profile(&profile).is_some() {
        vec![profile]
    } else {
        return Ok(Err(vec![(
            "profile",
            "Choose the profile to change (or every profile).".into(),
        )]));
    };
    let list = if review.kind == ReviewKind::OverBlocking {
        OverrideList::Allow
    } else {
        OverrideList::Deny
    };
    let (updated, any) = match policy.with_decided_override(&profiles, list, &entry) {
        Ok(changed) => changed,
        Err(e) => {
            return Ok(Err(vec![(
                "site",
                format!(
                    "Approving this would leave the policy unusable, so nothing was saved: {e}. Change the profile's settings on the Filtering page first, or decline."
                ),
            )]));
        }
    };
    Ok(Ok(any.then_some((updated, current.number))))
}

// ---------------------------------------------------------------------------
// Pages.

/// A page with a form: 400 when it comes back with problems to fix.
pub(super) fn form_page(body: String, fine: bool) -> Response {
    let status = if fine {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    (status, Html(body)).into_response()
}

async fn find<S: Store>(console: &Console<S>, id: i64) -> Result<Review, AppError> {
    console
        .store
        .review(id)
        .await?
        .ok_or_else(AppError::not_found)
}

#[derive(Debug, Default, Deserialize)]
pub struct ListFilter {
    /// `1`: breaches only.
    #[serde(default)]
    breaches: String,
}

pub async fn list<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Query(filter): Query<ListFilter>,
    Query(done): Query<Done>,
) -> Result<Html<String>, AppError> {
    let breaches_only = filter.breaches == "1";
    let reviews = console
        .store
        .reviews(&ReviewFilter {
            breaches_only,
            limit: LIST_LIMIT,
            ..ReviewFilter::default()
        })
        .await?;
    let views: Vec<ReviewView> = reviews.iter().map(|r| view(&console, r, false)).collect();
    let open_breaches = reviews
        .iter()
        .filter(|r| r.breach && r.status == ReviewStatus::Open)
        .count();
    let layout = Layout::new(
        &console,
        Some(&caller),
        &csrf,
        "Review requests",
        "/reviews",
    )
    .notice(notice(&done));
    let body = render(
        "reviews.html",
        &layout,
        context! {
            reviews => Serde(&views),
            breaches_only => breaches_only,
            open_breaches => open_breaches,
            safeguarding => sees_breach_detail(caller.role),
        },
    )?;
    Ok(Html(body))
}

async fn detail_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    review: &Review,
    form: &DecisionForm,
    errors: &[(&str, String)],
    notice_text: Option<&'static str>,
) -> Result<Response, AppError> {
    let profiles: Vec<minijinja::Value> = match console.store.current_policy().await? {
        Some(current) => current
            .policy()?
            .profiles
            .iter()
            .map(|p| context! { id => &p.id, name => &p.name })
            .collect(),
        None => Vec::new(),
    };
    let shown = view(console, review, false);
    let layout = Layout::new(
        console,
        Some(caller),
        csrf,
        &format!("Review request #{}", review.id),
        "/reviews",
    )
    .notice(notice_text);
    let chosen_profile = if form.profile.is_empty() {
        review.profile.clone()
    } else {
        form.profile.clone()
    };
    let site = if form.site.is_empty() {
        host_of(&review.url)
    } else {
        form.site.clone()
    };
    let body = render(
        "review.html",
        &layout,
        context! {
            r => Serde(&shown),
            profiles => profiles,
            every_profile => EVERY_PROFILE,
            chosen_profile => chosen_profile,
            site => site,
            form => Serde(form),
            errors => super::form_errors(errors),
            safeguarding => sees_breach_detail(caller.role),
            approve_does => if review.kind == ReviewKind::OverBlocking {
                "Approving adds the site to the profile's allow list, so it is no longer blocked."
            } else {
                "Approving adds the site to the profile's deny list, so it is blocked from now on."
            },
        },
    )?;
    Ok(form_page(body, errors.is_empty()))
}

pub async fn detail<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    let review = find(&console, id).await?;
    detail_page(
        &console,
        &caller,
        &csrf,
        &review,
        &DecisionForm::default(),
        &[],
        notice(&done),
    )
    .await
}

/// Who found the site and what happened: for the DSL roles only.
pub async fn breach<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let review = console
        .store
        .review(id)
        .await?
        .filter(|r| r.kind == ReviewKind::UnderBlocking)
        .ok_or_else(AppError::not_found)?;
    let layout = Layout::new(
        &console,
        Some(&caller),
        &csrf,
        &format!("Filtering breach #{id}"),
        "/reviews",
    );
    let body = render(
        "review_breach.html",
        &layout,
        context! { r => Serde(&view(&console, &review, true)) },
    )?;
    Ok(Html(body))
}

pub async fn decide_form<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, AppError> {
    match decide(&console, &caller, id, &form).await? {
        Ok((review, changed)) => {
            let done = match (review.status, changed) {
                (ReviewStatus::Approved, true) => "approved",
                (ReviewStatus::Approved, false) => "approved-unchanged",
                _ => "declined",
            };
            Ok(see_other(&format!("/reviews/{id}?done={done}"), &[]))
        }
        Err(errors) => {
            let review = find(&console, id).await?;
            detail_page(&console, &caller, &csrf, &review, &form, &errors, None).await
        }
    }
}

/// The staff report form's fields.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct ReportForm {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub device: String,
    #[serde(default)]
    pub found_by: String,
    #[serde(default)]
    pub what_happened: String,
}

fn check_report(form: &ReportForm) -> Vec<(&'static str, String)> {
    let mut errors = Vec::new();
    let url = form.url.trim();
    if url.is_empty() {
        errors.push((
            "url",
            "Enter the address of the site, such as https://games.example/page. Copy it from the browser's address bar if you can.".to_owned(),
        ));
    } else if url.len() > MAX_URL {
        errors.push((
            "url",
            "That address is too long to keep; shorten it to the site's main address.".to_owned(),
        ));
    } else if host_of(url).is_empty() || parse_override(&host_of(url)).is_err() {
        errors.push((
            "url",
            format!("'{url}' does not look like a web address. Enter it as it appears in the browser, such as games.example."),
        ));
    }
    if form.what_happened.trim().is_empty() {
        errors.push((
            "what_happened",
            "Say briefly what happened: what was seen, and what was done.".to_owned(),
        ));
    } else if form.what_happened.chars().count() > MAX_TEXT {
        errors.push((
            "what_happened",
            "Keep this under 4,000 characters; the DSL can ask for more.".to_owned(),
        ));
    }
    if form.device.chars().count() > MAX_SHORT {
        errors.push((
            "device",
            "Keep the device name under 200 characters.".to_owned(),
        ));
    }
    if form.found_by.chars().count() > MAX_SHORT {
        errors.push(("found_by", "Keep this under 200 characters.".to_owned()));
    }
    errors
}

async fn record_report<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    form: &ReportForm,
) -> Result<i64, AppError> {
    Ok(console
        .store
        .add_staff_report(&StaffReport {
            at: console.now(),
            requester: caller.username().to_owned(),
            url: form.url.trim().to_owned(),
            device: super::optional(&form.device),
            found_by: form.found_by.trim().to_owned(),
            what_happened: form.what_happened.trim().to_owned(),
        })
        .await?)
}

fn report_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    form: &ReportForm,
    errors: &[(&str, String)],
) -> Result<Response, AppError> {
    let layout = Layout::new(
        console,
        Some(caller),
        csrf,
        "Report a site that should be blocked",
        "/reviews/report",
    );
    let body = render(
        "review_report.html",
        &layout,
        context! { form => Serde(form), errors => super::form_errors(errors) },
    )?;
    Ok(form_page(body, errors.is_empty()))
}

pub async fn report_form<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
) -> Result<Response, AppError> {
    report_page(&console, &caller, &csrf, &ReportForm::default(), &[])
}

pub async fn report<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<ReportForm>,
) -> Result<Response, AppError> {
    let errors = check_report(&form);
    if !errors.is_empty() {
        return report_page(&console, &caller, &csrf, &form, &errors);
    }
    record_report(&console, &caller, &form).await?;
    Ok(see_other("/reviews/mine?done=reported", &[]))
}

/// The caller's own reports and their outcomes.
pub async fn mine<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Query(done): Query<Done>,
) -> Result<Html<String>, AppError> {
    let reviews = console
        .store
        .reviews(&ReviewFilter {
            requester: Some(caller.username().to_owned()),
            limit: LIST_LIMIT,
            ..ReviewFilter::default()
        })
        .await?;
    // Their own words come back to them.
    let views: Vec<ReviewView> = reviews.iter().map(|r| view(&console, r, true)).collect();
    let layout = Layout::new(
        &console,
        Some(&caller),
        &csrf,
        "Your reports",
        "/reviews/mine",
    )
    .notice(notice(&done));
    let body = render(
        "reviews_mine.html",
        &layout,
        context! { reviews => Serde(&views) },
    )?;
    Ok(Html(body))
}

/// Open filtering breaches, for the DSL roles' home page.
pub async fn open_breaches<S: Store>(console: &Console<S>) -> Result<usize, AppError> {
    Ok(console
        .store
        .reviews(&ReviewFilter {
            breaches_only: true,
            open_only: true,
            limit: LIST_LIMIT,
            ..ReviewFilter::default()
        })
        .await?
        .len())
}

// ---------------------------------------------------------------------------
// The JSON API.

pub async fn api_list<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<ReviewView>>, ApiError> {
    let reviews = console
        .store
        .reviews(&ReviewFilter {
            limit: LIST_LIMIT,
            ..ReviewFilter::default()
        })
        .await?;
    let detail = sees_breach_detail(caller.role);
    Ok(Json(
        reviews.iter().map(|r| view(&console, r, detail)).collect(),
    ))
}

/// The answer to a form the API refused: each problem with its field.
#[derive(Debug, Serialize)]
pub struct FieldErrors {
    pub error: String,
    pub fields: Vec<FieldError>,
}

#[derive(Debug, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

pub(super) fn field_errors(errors: Vec<(&'static str, String)>) -> Response {
    let body = FieldErrors {
        error: errors
            .iter()
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        fields: errors
            .into_iter()
            .map(|(field, message)| FieldError { field, message })
            .collect(),
    };
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

pub async fn api_decide<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Json(form): Json<DecisionForm>,
) -> Result<Response, ApiError> {
    match decide(&console, &caller, id, &form).await? {
        Ok((review, _)) => {
            Ok(Json(view(&console, &review, sees_breach_detail(caller.role))).into_response())
        }
        Err(errors) => Ok(field_errors(errors)),
    }
}

pub async fn api_report<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Json(form): Json<ReportForm>,
) -> Result<Response, ApiError> {
    let errors = check_report(&form);
    if !errors.is_empty() {
        return Ok(field_errors(errors));
    }
    let id = record_report(&console, &caller, &form).await?;
    let review = find(&console, id).await?;
    Ok((StatusCode::CREATED, Json(view(&console, &review, true))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_come_out_of_urls() {
        assert_eq!(host_of("https://Games.Example:443/x?y"), "games.example");
        assert_eq!(host_of("games.example/page"), "games.example");
        assert_eq!(host_of("http://user@bad.example."), "bad.example");
        assert_eq!(host_of(""), "");
    }
}

// ---------------------------------------------------------------------------
// OpenAPI.

/// The OpenAPI 3.1 operations of the review and activity API routes.
pub fn api_schemas() -> Vec<(&'static str, &'static str, serde_json::Value)> {
    use serde_json::json;
    let error = json!({
        "description": "Refused: not signed in (401), not allowed (403), or a problem with the query (400).",
        "content": { "application/json": { "schema": {
            "type": "object",
            "properties": { "error": { "type": "string" }, "reference": { "type": ["string", "null"] } },
            "required": ["error"]
        } } }
    });
    let field_errors = json!({
        "description": "What was sent cannot be used; each problem names its field.",
        "content": { "application/json": { "schema": {
            "type": "object",
            "properties": {
                "error": { "type": "string" },
                "fields": { "type": "array", "items": {
                    "type": "object",
                    "properties": { "field": { "type": "string" }, "message": { "type": "string" } },
                    "required": ["field", "message"]
                } }
            },
            "required": ["error", "fields"]
        } } }
    });
    let review = json!({
        "type": "object",
        "properties": {
            "id": { "type": "integer" },
            "at": { "type": "string", "format": "date-time" },
            "when": { "type": "string", "description": "The time as the school reads it." },
            "kind": { "enum": ["over-blocking", "under-blocking"] },
            "kind_label": { "type": "string" },
            "url": { "type": "string" },
            "host": { "type": "string" },
            "profile": { "type": "string" },
            "reference": { "type": "string", "description": "The block page's reference; empty for staff reports." },
            "requester": { "type": "string" },
            "device": { "type": ["string", "null"] },
            "breach": { "type": "boolean", "description": "A staff report that a site that should be blocked was reachable." },
            "status": { "enum": ["open", "approved", "declined"] },
            "status_label": { "type": "string" },
            "decided_by": { "type": ["string", "null"] },
            "decided_when": { "type": ["string", "null"] },
            "decision_reason": { "type": ["string", "null"] },
            "policy_revision": { "type": ["integer", "null"], "description": "The policy revision an approval created." },
            "message": { "type": ["string", "null"], "description": "Why a block page's asker wants the page." },
            "found_by": { "type": ["string", "null"], "description": "Breach reports, for the DSL roles only (null for others)." },
            "what_happened": { "type": ["string", "null"], "description": "Breach reports, for the DSL roles only (null for others)." }
        },
        "required": ["id", "at", "kind", "url", "host", "requester", "breach", "status"]
    });
    let event = json!({
        "type": "object",
        "properties": {
            "id": { "type": "integer" },
            "at": { "type": "string", "format": "date-time" },
            "source": { "enum": ["proxy", "dns"] },
            "client_ip": { "type": "string" },
            "username": { "type": ["string", "null"] },
            "device": { "type": ["string", "null"] },
            "profile": { "type": "string" },
            "method": { "type": "string" },
            "url": { "type": "string" },
            "host": { "type": "string" },
            "search_term": { "type": ["string", "null"] },
            "categories": { "type": "string", "description": "Category ids, comma-separated." },
            "verdict": { "enum": ["allow", "block", "safe-search"] },
            "rule": { "type": "string" },
            "status": { "type": ["integer", "null"] },
            "bytes": { "type": "integer" },
            "duration_ms": { "type": "integer" },
            "reference": { "type": ["string", "null"] }
        },
        "required": ["id", "at", "source", "client_ip", "profile", "url", "host", "verdict", "rule"]
    });
    let text_param = |name: &str, description: &str| json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": "string" } });
    vec![
        (
            "GET",
            "/api/v1/activity",
            json!({
                "summary": "A page of the activity log, newest first.",
                "parameters": [
                    text_param("person", "A username."),
                    text_param("device", "A device name."),
                    text_param("ip", "An IP address."),
                    text_param("from", "From this time in the school's time zone: 2026-03-03T09:00 or 2026-03-03."),
                    text_param("to", "Until this time (a date alone means the end of that day)."),
                    text_param("category", "A category id, such as gambling."),
                    text_param("verdict", "allow, block or safe-search."),
                    text_param("source", "proxy or dns."),
                    text_param("before", "The previous page's `older`, for the next page."),
                    { "name": "limit", "in": "query", "required": false, "description": "Events per page, 1 to 500 (50 if not given).", "schema": { "type": "integer", "minimum": 1, "maximum": 500 } }
                ],
                "responses": {
                    "200": { "description": "Events, and the cursor of the next page.", "content": { "application/json": { "schema": {
                        "type": "object",
                        "properties": {
                            "events": { "type": "array", "items": event },
                            "older": { "type": ["string", "null"], "description": "Pass as `before`; null on the last page." }
                        },
                        "required": ["events", "older"]
                    } } } },
                    "400": error.clone(), "401": error.clone(), "403": error.clone()
                }
            }),
        ),
        (
            "GET",
            "/api/v1/reviews",
            json!({
                "summary": "Review requests, open ones first, then the newest (200 at most).",
                "responses": {
                    "200": { "description": "The requests.", "content": { "application/json": { "schema": { "type": "array", "items": review.clone() } } } },
                    "401": error.clone(), "403": error.clone()
                }
            }),
        ),
        (
            "POST",
            "/api/v1/reviews",
            json!({
                "summary": "Reports a site that should be blocked: a filtering breach for the DSL.",
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object",
                    "properties": {
                        "url": { "type": "string", "description": "The site's address." },
                        "device": { "type": "string" },
                        "found_by": { "type": "string", "description": "Who found it." },
                        "what_happened": { "type": "string" }
                    },
                    "required": ["url", "what_happened"]
                } } } },
                "responses": {
                    "201": { "description": "The report as recorded.", "content": { "application/json": { "schema": review.clone() } } },
                    "422": field_errors.clone(), "401": error.clone(), "403": error.clone()
                }
            }),
        ),
        (
            "POST",
            "/api/v1/reviews/{id}/decision",
            json!({
                "summary": "Approves or declines a review request. Approval adds the site to the profile's allow list (over-blocking) or deny list (under-blocking) as a policy change with the reason \"Review #N: REASON\".",
                "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } } ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object",
                    "properties": {
                        "decision": { "enum": ["approve", "decline"] },
                        "reason": { "type": "string", "description": "Required; shown to the person who asked." },
                        "profile": { "type": "string", "description": "The profile to change; the request's own when empty; * for every profile." },
                        "site": { "type": "string", "description": "A domain or URL prefix; the request's host when empty." }
                    },
                    "required": ["decision", "reason"]
                } } } },
                "responses": {
                    "200": { "description": "The request with its decision.", "content": { "application/json": { "schema": review } } },
                    "422": field_errors, "401": error.clone(), "403": error.clone(), "404": error
                }
            }),
        ),
    ]
}

#[cfg(test)]
mod schema_tests {
    #[test]
    fn every_api_route_is_described() {
        let schemas = super::api_schemas();
        let table = crate::routes::table::<store::sqlite::SqliteStore>();
        for (method, path, operation) in &schemas {
            assert!(operation["summary"].is_string(), "{method} {path}");
            assert!(
                table
                    .iter()
                    .any(|r| r.entry.method.as_str() == *method && r.entry.path == *path),
                "{method} {path} is not in the route table"
            );
        }
        assert_eq!(schemas.len(), 4);
    }
}
