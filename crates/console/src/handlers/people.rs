//! People: the list (searched and paged by the database, so 50,000 people
//! are no slower than 50), one person with their profile, leavers disabled
//! and re-enabled (never deleted, §7.10), and the CSV import from the
//! school's MIS: upload, check the columns, preview, confirm, then choose
//! leavers. Administrators and technicians change things; the DSL, deputy
//! DSLs and the headteacher may look.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};
use store::{PeopleQuery, PeopleStatus, PersonChange, PersonKind, PersonRecord, Store, StoreError};

use super::{Done, see_other};
use crate::access::Caller;
use crate::csrf::CsrfKey;
use crate::pages::{Layout, render};
use crate::people_import::{self as import, Field, Mapping, ProfileRules};
use crate::{AppError, Console, Role, multipart};

/// People a page.
pub const PER_PAGE: usize = 50;

/// Whether the caller may change people, devices and networks.
pub fn manages(caller: &Caller) -> bool {
    Role::FILTERING.contains(&caller.role)
}

/// A path segment with everything but unreserved characters escaped, for
/// links to names with spaces or slashes in them.
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The profiles of the policy in force: (id, name).
pub async fn profiles<S: Store>(console: &Console<S>) -> Result<Vec<(String, String)>, AppError> {
    let Some(revision) = console.store.current_policy().await? else {
        return Ok(Vec::new());
    };
    let policy = revision.policy().map_err(AppError::from)?;
    Ok(policy
        .profiles
        .iter()
        .map(|p| (p.id.clone(), p.name.clone()))
        .collect())
}

fn profile_choices(profiles: &[(String, String)]) -> Vec<minijinja::Value> {
    profiles
        .iter()
        .map(|(id, name)| context! { id => id, name => name })
        .collect()
}

/// "there is no profile 'x'; the profiles are: …", or none when it exists.
pub fn unknown_profile(profiles: &[(String, String)], wanted: &str) -> Option<String> {
    if profiles.iter().any(|(id, _)| id == wanted) {
        return None;
    }
    let ids: Vec<&str> = profiles.iter().map(|(id, _)| id.as_str()).collect();
    Some(if ids.is_empty() {
        "There is no filtering policy yet, so no profile can be chosen. Set up the policy first."
            .to_owned()
    } else {
        format!(
            "There is no profile '{wanted}' in the policy in force. Choose one of: {}.",
            ids.join(", ")
        )
    })
}

/// The list's filters, from the query string.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct PeopleFilter {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub year: String,
    #[serde(default)]
    pub class: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub page: Option<usize>,
}

impl PeopleFilter {
    pub fn query(&self, per_page: usize) -> PeopleQuery {
        let page = self.page.unwrap_or(1).max(1);
        PeopleQuery {
            text: super::optional(&self.q),
            year_group: super::optional(&self.year),
            class_group: super::optional(&self.class),
            kind: PersonKind::parse(&self.kind),
            status: match self.status.as_str() {
                "disabled" => PeopleStatus::Disabled,
                "all" => PeopleStatus::All,
                _ => PeopleStatus::Active,
            },
            offset: (page - 1).saturating_mul(per_page),
            limit: per_page,
        }
    }

    /// The query string for another page of the same search.
    fn page_link(&self, page: usize) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("q", &self.q),
            ("year", &self.year),
            ("class", &self.class),
            ("kind", &self.kind),
            ("status", &self.status),
        ] {
            if !value.is_empty() {
                query.append_pair(key, value);
            }
        }
        query.append_pair("page", &page.to_string());
        format!("/people?{}", query.finish())
    }
}

#[derive(Serialize)]
struct PersonRow {
    href: String,
    /// Their timeline in the activity log.
    activity: String,
    username: String,
    display_name: String,
    year_group: Option<String>,
    class_group: Option<String>,
    kind: &'static str,
    profile: String,
    status: &'static str,
}

fn row(p: &PersonRecord) -> PersonRow {
    PersonRow {
        href: format!("/people/{}", segment(&p.username)),
        activity: format!("/activity/people/{}", segment(&p.username)),
        username: p.username.clone(),
        display_name: p.display_name.clone(),
        year_group: p.year_group.clone(),
        class_group: p.class_group.clone(),
        kind: match p.kind {
            PersonKind::Pupil => "Pupil",
            PersonKind::Staff => "Staff",
        },
        profile: p.profile.clone(),
        status: if p.disabled { "Disabled" } else { "Active" },
    }
}

pub async fn list<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Query(filter): Query<PeopleFilter>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    let query = filter.query(PER_PAGE);
    let found = console.store.search_people(&query).await?;
    let (years, classes) = console.store.people_groups().await?;
    let page = filter.page.unwrap_or(1).max(1);
    let total = usize::try_from(found.total).unwrap_or(usize::MAX);
    let pages = total.div_ceil(PER_PAGE).max(1);
    let layout =
        Layout::new(&console, Some(&caller), &csrf, "People", "/people").notice(done.notice());
    let body = render(
        "people.html",
        &layout,
        context! {
            people => Serde(found.people.iter().map(row).collect::<Vec<_>>()),
            filter => Serde(&filter),
            years => years,
            classes => classes,
            total => total,
            first => if total == 0 { 0 } else { query.offset + 1 },
            last => query.offset + found.people.len(),
            page_number => page,
            pages => pages,
            previous => (page > 1).then(|| filter.page_link(page - 1)),
            next => (page < pages).then(|| filter.page_link(page + 1)),
            manages => manages(&caller),
        },
    )?;
    Ok(Html(body).into_response())
}

async fn found<S: Store>(console: &Console<S>, username: &str) -> Result<PersonRecord, AppError> {
    console
        .store
        .person_record(username)
        .await?
        .ok_or_else(AppError::not_found)
}

async fn detail_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    person: &PersonRecord,
    notice: Option<&'static str>,
    errors: &[(&str, String)],
    status: StatusCode,
) -> Result<Response, AppError> {
    let profiles = profiles(console).await?;
    let layout =
        Layout::new(console, Some(caller), csrf, &person.display_name, "/people").notice(notice);
    let body = render(
        "person.html",
        &layout,
        context! {
            person => Serde(person),
            href => format!("/people/{}", segment(&person.username)),
            activity => format!("/activity/people/{}", segment(&person.username)),
            kind => match person.kind { PersonKind::Pupil => "Pupil", PersonKind::Staff => "Staff" },
            disabled_at => person.disabled_at.map(|at| console.show_time(at)),
            added => console.show_time(person.created_at),
            profiles => profile_choices(&profiles),
            manages => manages(caller),
            // Safeguarding roles only: retention of child protection files counts from it.
            date_of_birth => Role::SAFEGUARDING
                .contains(&caller.role)
                .then(|| person.date_of_birth.map_or_else(|| "Not recorded".to_owned(), |d| d.strftime("%d/%m/%Y").to_string())),
            errors => super::form_errors(errors),
        },
    )?;
    Ok((status, Html(body)).into_response())
}

pub async fn detail<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(username): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    let person = found(&console, &username).await?;
    detail_page(
        &console,
        &caller,
        &csrf,
        &person,
        done.notice(),
        &[],
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    profile: String,
    #[serde(default)]
    reason: String,
}

/// The value of the profile choice that hands the profile back to imports.
const FROM_IMPORT: &str = "from-import";

pub async fn change<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(username): Path<String>,
    Form(form): Form<ProfileForm>,
) -> Result<Response, AppError> {
    let person = found(&console, &username).await?;
    let profiles = profiles(&console).await?;
    let mut errors: Vec<(&str, String)> = Vec::new();
    let wanted = form.profile.trim();
    if wanted != FROM_IMPORT
        && let Some(problem) = unknown_profile(&profiles, wanted)
    {
        errors.push(("profile", problem));
    }
    if form.reason.trim().is_empty() {
        errors.push((
            "reason",
            "Give a reason for the change; it is kept in the audit trail (§7.3.1).".into(),
        ));
    }
    if errors.is_empty() {
        let change = if wanted == FROM_IMPORT {
            PersonChange {
                profile_from_import: true,
                ..PersonChange::default()
            }
        } else {
            PersonChange {
                profile: Some(wanted.to_owned()),
                ..PersonChange::default()
            }
        };
        match console
            .store
            .change_person(&person.username, &change, caller.username(), &form.reason)
            .await
        {
            Ok(()) => {
                return Ok(see_other(
                    &format!("/people/{}?done=person-changed", segment(&person.username)),
                    &[],
                ));
            }
            Err(StoreError::NoChange) => errors.push((
                "profile",
                "That is the profile they have already, so nothing changed.".into(),
            )),
            Err(e) => return Err(e.into()),
        }
    }
    detail_page(
        &console,
        &caller,
        &csrf,
        &person,
        None,
        &errors,
        StatusCode::BAD_REQUEST,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn set_disabled<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    username: &str,
    disabled: bool,
    reason: &str,
) -> Result<Response, AppError> {
    let person = found(console, username).await?;
    let reason = match (reason.trim(), disabled) {
        ("", true) => "Left the school",
        ("", false) => "Back at the school",
        (given, _) => given,
    };
    console
        .store
        .set_people_disabled(
            std::slice::from_ref(&person.username),
            disabled,
            caller.username(),
            reason,
        )
        .await?;
    let done = if disabled {
        "person-disabled"
    } else {
        "person-enabled"
    };
    Ok(see_other(
        &format!("/people/{}?done={done}", segment(&person.username)),
        &[],
    ))
}

pub async fn disable<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Path(username): Path<String>,
    Form(form): Form<ReasonForm>,
) -> Result<Response, AppError> {
    set_disabled(&console, &caller, &username, true, &form.reason).await
}

pub async fn enable<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Path(username): Path<String>,
    Form(form): Form<ReasonForm>,
) -> Result<Response, AppError> {
    set_disabled(&console, &caller, &username, false, &form.reason).await
}

// The import.

fn upload_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    problem: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let layout = Layout::new(
        console,
        Some(caller),
        csrf,
        "Import people from your MIS",
        "/people",
    );
    let body = render(
        "people_import.html",
        &layout,
        context! {
            problem => problem,
            limit_mb => import::UPLOAD_LIMIT / (1024 * 1024),
        },
    )?;
    Ok((status, Html(body)).into_response())
}

pub async fn import_form<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
) -> Result<Response, AppError> {
    upload_page(&console, &caller, &csrf, None, StatusCode::OK)
}

/// The multipart form every import step posts. The body is read here, not
/// by an extractor, so the limit is the upload limit (the CSRF layer has
/// already refused anything larger), not axum's 2 MB default.
async fn read_form(headers: &HeaderMap, body: Body) -> Result<multipart::Form, AppError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !multipart::is_multipart(content_type) {
        return Err(AppError::bad_request(
            "Send the import from the import page: choose the file there and press the button.",
        ));
    }
    let body = axum::body::to_bytes(body, crate::csrf::MULTIPART_LIMIT)
        .await
        .map_err(|_| {
            AppError::too_large(format!(
                "That file is larger than {} MB, so nothing was read. Split it into smaller files and upload each one.",
                import::UPLOAD_LIMIT / (1024 * 1024)
            ))
        })?;
    multipart::parse(content_type, &body).map_err(|e| AppError::bad_request(e.to_string()))
}

/// What the later steps carry from one page to the next.
#[derive(Clone, Debug, Serialize)]
struct Carried {
    csv: String,
    source: String,
    kind: &'static str,
    secondary: String,
    full: bool,
    encoding: String,
}

fn kind_of(text: &str) -> PersonKind {
    PersonKind::parse(text).unwrap_or(PersonKind::Pupil)
}

pub async fn upload<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let form = read_form(&headers, body).await?;
    let file = form.part("file").filter(|p| !p.data.is_empty());
    let pasted = form.text("pasted").filter(|t| !t.trim().is_empty());
    let (bytes, source) = match (file, pasted) {
        (Some(file), _) => (
            file.data.clone(),
            file.filename
                .clone()
                .filter(|f| !f.is_empty())
                .unwrap_or_else(|| "an uploaded file".into()),
        ),
        (None, Some(text)) => (text.into_bytes(), "pasted text".to_owned()),
        (None, None) => {
            return upload_page(
                &console,
                &caller,
                &csrf,
                Some("Choose a CSV file, or paste the rows into the box.".into()),
                StatusCode::BAD_REQUEST,
            );
        }
    };
    let table = match import::read(&bytes) {
        Ok(table) => table,
        Err(e) => {
            return upload_page(
                &console,
                &caller,
                &csrf,
                Some(format!("{source}: {e}")),
                StatusCode::BAD_REQUEST,
            );
        }
    };
    let kind = kind_of(&form.text("kind").unwrap_or_default());
    let profiles = profiles(&console).await?;
    let ids: Vec<String> = profiles.iter().map(|(id, _)| id.clone()).collect();
    // Carry the text as it was read, so every later step reads the same
    // rows with the same numbers.
    let carried = Carried {
        csv: import::decode(&bytes).0,
        source,
        kind: kind.as_str(),
        secondary: import::default_secondary(&ids),
        full: false,
        encoding: table.encoding.to_owned(),
    };
    let mapping = import::guess(&table.headings);
    mapping_page(
        &console,
        &caller,
        &csrf,
        &carried,
        &table,
        &mapping,
        &profiles,
        &[],
    )
}

#[allow(clippy::too_many_arguments)]
fn mapping_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    carried: &Carried,
    table: &import::Table,
    mapping: &Mapping,
    profiles: &[(String, String)],
    problems: &[String],
) -> Result<Response, AppError> {
    let columns: Vec<minijinja::Value> = table
        .headings
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let sample = table
                .rows
                .first()
                .and_then(|(_, f)| f.get(i))
                .cloned()
                .unwrap_or_default();
            context! { index => i, heading => h, sample => sample }
        })
        .collect();
    let fields: Vec<minijinja::Value> = Field::ALL
        .iter()
        .map(|f| context! { id => f.id(), label => f.label(), column => mapping.column(*f) })
        .collect();
    let layout = Layout::new(console, Some(caller), csrf, "Check the columns", "/people");
    let body = render(
        "people_mapping.html",
        &layout,
        context! {
            carried => Serde(carried),
            columns => columns,
            fields => fields,
            rows => table.rows.len(),
            delimiter => match table.delimiter { ';' => "semicolons", '\t' => "tabs", _ => "commas" },
            profiles => profile_choices(profiles),
            usernames => import::username_source(mapping).describe(),
            problems => problems.to_vec(),
        },
    )?;
    Ok((
        if problems.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        },
        Html(body),
    )
        .into_response())
}

/// The file, mapping and rules as the later steps' forms give them.
struct Step {
    carried: Carried,
    table: import::Table,
    mapping: Mapping,
    rules: ProfileRules,
}

fn read_step(form: &multipart::Form) -> Result<Step, AppError> {
    let csv = form.text("csv").unwrap_or_default();
    let table = import::read(csv.as_bytes()).map_err(|e| {
        AppError::bad_request(format!(
            "The file could not be read again ({e}). Start the import again."
        ))
    })?;
    let mut mapping = HashMap::new();
    for field in Field::ALL {
        let chosen = form
            .text(&format!("column_{}", field.id()))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|i| *i < table.headings.len());
        if let Some(i) = chosen {
            mapping.insert(field, i);
        }
    }
    let kind = kind_of(&form.text("kind").unwrap_or_default());
    let secondary = form
        .text("secondary")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "ks2".into());
    Ok(Step {
        carried: Carried {
            csv,
            source: form
                .text("source")
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "an uploaded file".into()),
            kind: kind.as_str(),
            secondary: secondary.clone(),
            full: form.text("full").is_some_and(|v| v == "yes"),
            encoding: form.text("encoding").unwrap_or_else(|| "UTF-8".into()),
        },
        table,
        mapping: Mapping(mapping),
        rules: ProfileRules { kind, secondary },
    })
}

/// Problems with the choices as a whole: profiles that do not exist.
fn rule_problems(rules: &ProfileRules, profiles: &[(String, String)]) -> Vec<String> {
    let mut problems: Vec<String> = rules
        .profiles()
        .iter()
        .filter_map(|p| unknown_profile(profiles, p))
        .collect();
    problems.dedup();
    problems
}

/// A later step's form, read, with the profiles in force and any problem
/// with the choices as a whole.
async fn checked_step<S: Store>(
    console: &Console<S>,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Step, Vec<(String, String)>, Vec<String>), AppError> {
    let form = read_form(headers, body).await?;
    let step = read_step(&form)?;
    let profiles = profiles(console).await?;
    let problems = rule_problems(&step.rules, &profiles);
    Ok((step, profiles, problems))
}

const SHOWN: usize = 500;

pub async fn preview<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let (step, profiles, problems) = checked_step(&console, &headers, body).await?;
    if !problems.is_empty() {
        return mapping_page(
            &console,
            &caller,
            &csrf,
            &step.carried,
            &step.table,
            &step.mapping,
            &profiles,
            &problems,
        );
    }
    let plan = import::plan(&step.table, &step.mapping, &step.rules);
    let existing = console.store.person_records().await?;
    let preview = import::compare(&plan, &existing, step.rules.kind);
    let added: Vec<minijinja::Value> = preview
        .added
        .iter()
        .take(SHOWN)
        .map(|(row, p)| {
            context! {
                row => row, username => &p.username, name => p.display_name(),
                year => &p.year_group, class => &p.class_group, profile => &p.profile,
            }
        })
        .collect();
    let errors: Vec<String> = plan.errors.iter().map(ToString::to_string).collect();
    let leavers: Vec<minijinja::Value> = preview
        .leavers
        .iter()
        .take(SHOWN)
        .map(|p| context! { username => &p.username, name => &p.display_name, year => &p.year_group })
        .collect();
    let layout = Layout::new(
        &console,
        Some(&caller),
        &csrf,
        "Preview the import",
        "/people",
    );
    let mapping: Vec<minijinja::Value> = Field::ALL
        .iter()
        .map(|f| context! { id => f.id(), column => step.mapping.column(*f) })
        .collect();
    let body = render(
        "people_preview.html",
        &layout,
        context! {
            carried => Serde(&step.carried),
            mapping => mapping,
            usernames => import::username_source(&step.mapping).describe(),
            good => plan.people.len(),
            added => added,
            added_count => preview.added.len(),
            changed => Serde(preview.changed.iter().take(SHOWN).collect::<Vec<_>>()),
            changed_count => preview.changed.len(),
            unchanged => preview.unchanged,
            errors => errors,
            leavers => leavers,
            leaver_count => preview.leavers.len(),
            shown => SHOWN,
        },
    )?;
    Ok(Html(body).into_response())
}

pub async fn confirm<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let (step, _, problems) = checked_step(&console, &headers, body).await?;
    if !problems.is_empty() {
        return Err(AppError::bad_request(problems.join(" ")));
    }
    let plan = import::plan(&step.table, &step.mapping, &step.rules);
    if plan.people.is_empty() {
        return Err(AppError::bad_request(
            "No row of the file can be imported, so nothing was changed. Go back, fix the rows the preview lists and upload the file again.",
        ));
    }
    let people: Vec<_> = plan.people.iter().map(|(_, p)| p.clone()).collect();
    let outcome = console
        .store
        .import_people(&people, caller.username(), &step.carried.source)
        .await?;
    let leavers = if step.carried.full {
        let existing = console.store.person_records().await?;
        import::compare(&plan, &existing, step.rules.kind).leavers
    } else {
        Vec::new()
    };
    let leavers: Vec<minijinja::Value> = leavers
        .iter()
        .map(|p| context! { username => &p.username, name => &p.display_name, year => &p.year_group, class => &p.class_group })
        .collect();
    let layout = Layout::new(&console, Some(&caller), &csrf, "Import done", "/people");
    let body = render(
        "people_imported.html",
        &layout,
        context! {
            outcome => Serde(outcome),
            skipped => plan.errors.len(),
            source => &step.carried.source,
            leavers => leavers,
        },
    )?;
    Ok(Html(body).into_response())
}

/// Disables the leavers ticked after a full import: repeated `username`
/// fields and a reason.
pub async fn leavers<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Response, AppError> {
    let mut usernames = Vec::new();
    let mut reason = String::new();
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "username" => usernames.push(value.into_owned()),
            "reason" => reason = value.into_owned(),
            _ => {}
        }
    }
    if usernames.is_empty() {
        return Ok(see_other("/people?done=no-leavers", &[]));
    }
    let reason = match reason.trim() {
        "" => "Left the school: not in the MIS import",
        given => given,
    };
    console
        .store
        .set_people_disabled(&usernames, true, caller.username(), reason)
        .await?;
    Ok(see_other(
        "/people?done=leavers-disabled&status=disabled",
        &[],
    ))
}
