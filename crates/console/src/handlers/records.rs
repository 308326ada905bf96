//! Safeguarding records in the console (issue 6): raising a concern, the
//! DSL's inbox and concern page, incidents with their §11 checklists,
//! referrals and the referral directory, attachments (refused for nudes and
//! indecent images, §11.2), closing with an outcome and lessons learnt, and
//! each pupil's chronology.
//!
//! Every rule comes from the `records` crate: reads go through
//! `records::access` and are written to the read log before anything is
//! shown; writes are checked again by the store. Refusals are shown on the
//! page in the records crate's own words.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use jiff::Timestamp;
use jiff::civil::DateTime;
use minijinja::context;
use minijinja::value::{Serde, Value};
use records::access::{self, Viewer};
use records::amendment::{Amendment, RecordKind, RecordRef};
use records::chronology::{chronology, visible_to};
use records::concern::AMENDABLE_FIELDS;
use records::incident::Decision;
use records::procedure::IncidentType;
use records::referral::{Agency, DirectoryContact, default_due_in, national_contacts};
use records::{
    CategoryDecision, Closure, Concern, Incident, Involvement, NewAttachment, NewConcern,
    NewIncident, NewReferral, PupilLinkChange, PupilRef, ReadLogEntry, ReadTarget, RecordsError,
    ReferralResponse, StepRecord,
};
use serde::{Deserialize, Serialize};
use store::{Store, StoreError};

use super::see_other;
use crate::access::Caller;
use crate::csrf::CsrfKey;
use crate::pages::{Layout, error_page, render};
use crate::{AppError, Console, Role};

/// Everyone who works at the school: they raise concerns. Governors do not.
pub const STAFF_MEMBERS: &[Role] = &[
    Role::Administrator,
    Role::Technician,
    Role::Dsl,
    Role::DeputyDsl,
    Role::Headteacher,
    Role::Staff,
];

/// The console's role as the records crate names it.
pub fn records_role(role: Role) -> records::Role {
    match role {
        Role::Administrator => records::Role::Administrator,
        Role::Technician => records::Role::Technician,
        Role::Dsl => records::Role::Dsl,
        Role::DeputyDsl => records::Role::DeputyDsl,
        Role::Headteacher => records::Role::Headteacher,
        Role::Staff => records::Role::Staff,
        Role::Governor => records::Role::Governor,
    }
}

fn viewer(caller: &Caller) -> Viewer {
    Viewer::new(caller.username(), records_role(caller.role))
}

/// A page refusing with the records crate's reason, as 403.
fn not_allowed(message: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        Html(error_page(StatusCode::FORBIDDEN, message)),
    )
        .into_response()
}

/// A store error: a records rule's refusal is the person's to fix (its
/// message says how), anything else is ours.
fn rule_or_fault(e: StoreError) -> Result<RecordsError, AppError> {
    match e {
        StoreError::Records(r) => Ok(r),
        e => Err(e.into()),
    }
}

/// A page showing a refusal answers 400; otherwise 200.
pub(super) fn status_for(problem: &Option<String>) -> StatusCode {
    if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    }
}

/// The username in what a picker gave: "Amara Okafor (amara.okafor)", or
/// a bare username typed by hand.
pub(super) fn username_from(typed: &str) -> &str {
    let typed = typed.trim();
    match typed.rsplit_once(" (") {
        Some((_, rest)) if rest.ends_with(')') => rest.trim_end_matches(')').trim(),
        _ => typed,
    }
}

/// `?done=…` after a records or register change: fixed text, never text
/// from the URL.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    done: Option<String>,
}

impl Done {
    pub(super) fn notice(&self) -> Option<&'static str> {
        Some(match self.done.as_deref()? {
            "raised" => {
                "Your concern has been sent to the DSL and deputy DSLs. Thank you: you did the right thing."
            }
            "category" => "The category is set.",
            "categories" => "The categories are saved. Concerns keep the category they were given.",
            "linked" => "The pupil is linked to the concern.",
            "unlinked" => "The pupil is unlinked. The earlier link is kept in the history.",
            "amended" => "The correction is saved. What was written before is kept and shown.",
            "opened" => "The incident is open. Work through its checklist below.",
            "step" => "The decision is recorded.",
            "referral" => "The referral is recorded with its follow-up date.",
            "response" => "The agency's response is recorded.",
            "attached" => "The document is attached.",
            "closed" => "The incident is closed.",
            "contact" => "The directory entry is saved.",
            "withdrawn" => "The directory entry is withdrawn. Referrals that used it keep it.",
            "saved" => "Saved in the register.",
            "released" => "The release is recorded.",
            "held" => {
                "The record is under legal hold: no purge will remove it until the hold is lifted."
            }
            "hold-lifted" => {
                "The legal hold is lifted. The record follows its retention period again."
            }
            _ => return None,
        })
    }
}

fn show(console: &Console<impl Store>, at: Timestamp) -> String {
    console.show_time(at)
}

/// The people register as the pupil picker offers it: full names, each
/// with the username that tells two children of the same name apart.
async fn people_options<S: Store>(console: &Console<S>) -> Result<Vec<Value>, AppError> {
    let mut people = console.store.people().await?;
    people.retain(|p| !p.disabled);
    people.sort_by(|a, b| a.display_name.cmp(&b.display_name));
    Ok(people
        .iter()
        .map(|p| {
            context! {
                value => format!("{} ({})", p.display_name, p.username),
                username => p.username.clone(),
                name => p.display_name.clone(),
            }
        })
        .collect())
}

/// A pupil as typed or chosen in the picker, found in the people register.
/// The name always comes from the register, never from what was typed.
pub(super) fn pupil_in(people: &[store::Person], typed: &str) -> Result<PupilRef, String> {
    let typed = typed.trim();
    let username = username_from(typed);
    match people
        .iter()
        .find(|p| p.username == username && !p.disabled)
    {
        Some(p) => Ok(PupilRef::new(&p.username, &p.display_name)),
        None => Err(format!(
            "'{typed}' is not in the people list. Start typing the pupil's name and choose them from the list."
        )),
    }
}

async fn find_pupil<S: Store>(
    console: &Console<S>,
    typed: &str,
) -> Result<Result<PupilRef, String>, AppError> {
    Ok(pupil_in(&console.store.people().await?, typed))
}

fn local_input(console: &Console<impl Store>, at: Timestamp) -> String {
    at.to_zoned(console.time_zone())
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

fn parse_local(console: &Console<impl Store>, text: &str) -> Option<Timestamp> {
    let civil: DateTime = text.trim().parse().ok()?;
    civil
        .to_zoned(console.time_zone())
        .ok()
        .map(|z| z.timestamp())
}

// ---------------------------------------------------------------------
// Raising a concern, and the concerns you raised.

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct ConcernForm {
    #[serde(default)]
    pupil_1: String,
    #[serde(default)]
    pupil_2: String,
    #[serde(default)]
    pupil_3: String,
    #[serde(default)]
    other_1: String,
    #[serde(default)]
    other_2: String,
    #[serde(default)]
    other_3: String,
    #[serde(default)]
    child_words: String,
    #[serde(default)]
    immediate_action: String,
    #[serde(default)]
    happened_at: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    suggested_category: String,
    #[serde(default)]
    about_staff: Option<String>,
}

async fn raise_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    form: &ConcernForm,
    errors: &[(&str, String)],
    status: StatusCode,
) -> Result<Response, AppError> {
    let categories = console.store.concern_categories().await?;
    let layout = Layout::new(
        console,
        Some(caller),
        csrf,
        "Raise a concern",
        "/concerns/new",
    );
    let body = render(
        "records_raise.html",
        &layout,
        context! {
            form => Serde(form),
            errors => super::form_errors(errors),
            people => people_options(console).await?,
            categories => Serde(&categories),
        },
    )?;
    Ok((status, Html(body)).into_response())
}

pub async fn raise_form<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
) -> Result<Response, AppError> {
    let form = ConcernForm {
        happened_at: local_input(&console, console.now()),
        ..ConcernForm::default()
    };
    raise_page(&console, &caller, &csrf, &form, &[], StatusCode::OK).await
}

pub async fn raise<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<ConcernForm>,
) -> Result<Response, AppError> {
    let mut errors: Vec<(&str, String)> = Vec::new();
    let mut pupils = Vec::new();
    let mut others = Vec::new();
    let picked = [
        ("pupil_1", &form.pupil_1, true),
        ("pupil_2", &form.pupil_2, true),
        ("pupil_3", &form.pupil_3, true),
        ("other_1", &form.other_1, false),
        ("other_2", &form.other_2, false),
        ("other_3", &form.other_3, false),
    ];
    for (field, typed, subject) in picked {
        if typed.trim().is_empty() {
            continue;
        }
        match find_pupil(&console, typed).await? {
            Ok(p) if subject => pupils.push(p),
            Ok(p) => others.push(p),
            Err(message) => errors.push((field, message)),
        }
    }
    let now = console.now();
    let happened_at = match parse_local(&console, &form.happened_at) {
        Some(at) => at,
        None => {
            errors.push((
                "happened_at",
                "Give the date and time it happened, such as 2 March 2026 at 10:30.".into(),
            ));
            now
        }
    };
    let concern = NewConcern {
        raised_by: caller.username().to_owned(),
        raised_by_role: records_role(caller.role),
        raised_at: now,
        pupils,
        others_involved: others,
        child_words: form.child_words.trim().to_owned(),
        immediate_action: form.immediate_action.trim().to_owned(),
        happened_at,
        location: form.location.trim().to_owned(),
        suggested_category: super::optional(&form.suggested_category),
        about_staff: form.about_staff.is_some(),
    };
    if !errors.is_empty() {
        // Say everything else that is missing too, so one more try does it.
        let categories = console.store.concern_categories().await?;
        if let Err(refusal) = concern.validate(&categories) {
            let field = field_of(&refusal);
            if !errors.iter().any(|(f, _)| *f == field) {
                errors.push((field, refusal.to_string()));
            }
        }
    } else {
        match console.store.raise_concern(&concern).await {
            Ok(id) => {
                // The concern is saved; a failure to queue the email must not
                // hide that from the person who raised it.
                if let Err(e) = tell_dsls(&console, &caller, id, now).await {
                    tracing::error!("concern {id} saved, but the DSL email was not queued: {e}");
                }
                return Ok(see_other(&format!("/my-concerns/{id}?done=raised"), &[]));
            }
            Err(e) => {
                let refusal = rule_or_fault(e)?;
                errors.push((field_of(&refusal), refusal.to_string()));
            }
        }
    }
    raise_page(
        &console,
        &caller,
        &csrf,
        &form,
        &errors,
        StatusCode::BAD_REQUEST,
    )
    .await
}

/// Queues one email to each DSL and deputy DSL who has an address, saying
/// a concern is waiting. Email is not a safe place for safeguarding
/// content, so the message names no child and carries nothing that was
/// written: only who raised it, when, and where to read it.
async fn tell_dsls<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    id: i64,
    now: Timestamp,
) -> Result<(), String> {
    let link = format!("{}/concerns/{id}", console.settings.public_url);
    let raised_by = caller.username();
    let when = show(console, now);
    let accounts = console
        .store
        .console_accounts()
        .await
        .map_err(|e| e.to_string())?;
    for account in accounts {
        let dsl = matches!(
            account.role.parse::<Role>(),
            Ok(Role::Dsl | Role::DeputyDsl)
        );
        let Some(email) = account.email.as_deref().map(str::trim) else {
            continue;
        };
        if !dsl || account.disabled || email.is_empty() {
            continue;
        }
        let message = notify::Message {
            to: vec![email.to_owned()],
            subject: format!("New safeguarding concern #{id}"),
            text: format!(
                "{raised_by} raised a safeguarding concern on {when}.\n\n\
                 Open the console to read it: {link}\n\n\
                 This email does not say who the concern is about or what it says; \
                 keep it that way if you forward it.\n"
            ),
            html: None,
            attachments: Vec::new(),
            kind: "concern".into(),
            severity: 4,
            dedup_key: Some(format!("concern-{id}-{}", account.username)),
        };
        let payload = serde_json::to_string(&message).map_err(|e| e.to_string())?;
        let entry = store::NewOutboxEntry {
            channel: store::Channel::Email,
            destination: email.to_owned(),
            kind: message.kind.clone(),
            severity: message.severity,
            dedup_key: message.dedup_key.clone(),
            summary: message.subject.clone(),
            payload,
            created_at: now,
        };
        console
            .store
            .enqueue_outbox(&entry)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Which field of the concern form a refusal is about, for the link in
/// the error summary.
fn field_of(e: &RecordsError) -> &'static str {
    let text = e.to_string();
    for (needle, field) in [
        ("what happened", "child_words"),
        ("immediate action", "immediate_action"),
        ("where it happened", "location"),
        ("time it happened", "happened_at"),
        ("category", "suggested_category"),
    ] {
        if text.contains(needle) {
            return field;
        }
    }
    "pupil_1"
}

#[derive(Serialize)]
struct ConcernRow {
    id: i64,
    raised: String,
    raised_by: String,
    pupils: Vec<String>,
    location: String,
    category: Option<String>,
    suggested: Option<String>,
    staff_allegation: bool,
    new: bool,
    incidents: usize,
}

fn concern_row(
    console: &Console<impl Store>,
    c: &Concern,
    incidents: &[Incident],
    labels: &BTreeMap<String, String>,
) -> ConcernRow {
    let label = |k: &str| labels.get(k).cloned().unwrap_or_else(|| k.to_owned());
    let opened = incidents
        .iter()
        .filter(|i| i.opened.concern_id == Some(c.id))
        .count();
    ConcernRow {
        id: c.id,
        raised: show(console, c.raised.raised_at),
        raised_by: c.raised.raised_by.clone(),
        pupils: c
            .current_pupils()
            .iter()
            .map(|(p, _)| p.full_name.clone())
            .collect(),
        location: c.field("location").unwrap_or_default(),
        category: c.category().map(label),
        suggested: c.raised.suggested_category.as_deref().map(label),
        staff_allegation: c.is_staff_allegation(),
        new: is_new(c, incidents),
        incidents: opened,
    }
}

/// A concern nobody with safeguarding access has acted on yet: no final
/// category and no incident.
fn is_new(c: &Concern, incidents: &[Incident]) -> bool {
    c.categories.is_empty() && !incidents.iter().any(|i| i.opened.concern_id == Some(c.id))
}

async fn category_labels<S: Store>(
    console: &Console<S>,
) -> Result<BTreeMap<String, String>, AppError> {
    Ok(console
        .store
        .concern_categories()
        .await?
        .into_iter()
        .map(|c| (c.key, c.label))
        .collect())
}

/// The concerns the caller raised (any staff role; never anyone else's).
pub async fn mine<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
) -> Result<Response, AppError> {
    let concerns = console.store.concerns().await?;
    let labels = category_labels(&console).await?;
    let rows: Vec<ConcernRow> = concerns
        .iter()
        .rev()
        .filter(|c| c.raised.raised_by == caller.username())
        .map(|c| {
            concern_row(
                &console,
                &access::concern_for(&viewer(&caller), c),
                &[],
                &labels,
            )
        })
        .collect();
    let layout = Layout::new(
        &console,
        Some(&caller),
        &csrf,
        "Concerns you raised",
        "/my-concerns",
    );
    let body = render(
        "records_mine.html",
        &layout,
        context! { rows => Serde(&rows) },
    )?;
    Ok(Html(body).into_response())
}

/// Logs a read, then lets the page be shown; a read that cannot be logged
/// is not shown.
async fn log<S: Store>(console: &Console<S>, entry: &ReadLogEntry) -> Result<(), AppError> {
    console.store.log_record_read(entry).await?;
    Ok(())
}

#[derive(Serialize)]
struct ReadView {
    at: String,
    reader: String,
    role: String,
    reason: Option<String>,
}

/// The read log of a record, for the DSL and the headteacher.
async fn read_log<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    target: &ReadTarget,
) -> Result<Option<Vec<ReadView>>, AppError> {
    if !matches!(caller.role, Role::Dsl | Role::Headteacher) {
        return Ok(None);
    }
    Ok(Some(
        console
            .store
            .record_read_log(target)
            .await?
            .iter()
            .rev()
            .map(|e| ReadView {
                at: show(console, e.at),
                reader: e.reader.clone(),
                role: e.role.id().to_owned(),
                reason: e.reason.clone(),
            })
            .collect(),
    ))
}

#[derive(Serialize)]
struct AmendmentView {
    field: String,
    before: String,
    after: String,
    why: String,
    actor: String,
    at: String,
}

fn amendment_views(console: &Console<impl Store>, list: &[Amendment]) -> Vec<AmendmentView> {
    list.iter()
        .map(|a| AmendmentView {
            field: field_label(&a.field).to_owned(),
            before: a.before.clone(),
            after: a.after.clone(),
            why: a.why.clone(),
            actor: a.actor.clone(),
            at: show(console, a.at),
        })
        .collect()
}

fn field_label(field: &str) -> &str {
    match field {
        "child_words" => "What happened",
        "immediate_action" => "Immediate action taken",
        "location" => "Where",
        "happened_at" => "When it happened",
        "summary" => "Summary",
        "reference" => "Reference",
        "due_at" => "Follow-up date",
        other => other,
    }
}

/// The concern as its fields read now, with what was raised.
fn concern_view(console: &Console<impl Store>, c: &Concern) -> Value {
    let happened = c
        .field("happened_at")
        .and_then(|t| t.parse::<Timestamp>().ok())
        .unwrap_or(c.raised.happened_at);
    let pupils: Vec<Value> = c
        .current_pupils()
        .iter()
        .map(|(p, inv)| {
            context! {
                username => p.username.clone(),
                name => p.full_name.clone(),
                involvement => match inv { Involvement::Subject => "The concern is about them", Involvement::Involved => "Also involved" },
            }
        })
        .collect();
    let links: Vec<Value> = c
        .links
        .iter()
        .map(|l| {
            context! {
                name => l.pupil.full_name.clone(),
                linked => l.linked,
                actor => l.actor.clone(),
                at => show(console, l.at),
                reason => l.reason.clone(),
            }
        })
        .collect();
    context! {
        id => c.id,
        raised_by => c.raised.raised_by.clone(),
        raised_at => show(console, c.raised.raised_at),
        happened_at => show(console, happened),
        child_words => c.field("child_words"),
        immediate_action => c.field("immediate_action"),
        location => c.field("location"),
        about_staff => c.raised.about_staff,
        staff_allegation => c.is_staff_allegation(),
        pupils => pupils,
        links => links,
        amendments => Serde(amendment_views(console, &c.amendments)),
    }
}

/// One concern you raised: what you wrote, and your own corrections.
pub async fn mine_detail<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    let Some(concern) = console.store.concern(id).await? else {
        return Err(AppError::not_found());
    };
    let v = viewer(&caller);
    if concern.raised.raised_by != caller.username() {
        return Ok(not_allowed(
            "You can see the concerns you raised, not other people's. Ask the DSL if you need to know more.",
        ));
    }
    let entry = match access::read_concern(&v, &concern, console.now()) {
        Ok(e) => e,
        Err(e) => return Ok(not_allowed(&e.to_string())),
    };
    log(&console, &entry).await?;
    let seen = access::concern_for(&v, &concern);
    let layout = Layout::new(
        &console,
        Some(&caller),
        &csrf,
        &format!("Concern {id}"),
        "/my-concerns",
    )
    .notice(done.notice());
    let body = render(
        "records_mine_detail.html",
        &layout,
        context! {
            concern => concern_view(&console, &seen),
            safeguarding => Role::SAFEGUARDING.contains(&caller.role),
        },
    )?;
    Ok(Html(body).into_response())
}

// ---------------------------------------------------------------------
// The DSL's inbox and the concern page.

/// The DSL's inbox: new concerns first, then the rest, allegations about
/// staff only for the headteacher and the DSL.
pub async fn inbox<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
) -> Result<Response, AppError> {
    let v = viewer(&caller);
    let concerns = console.store.concerns().await?;
    let incidents = console.store.incidents().await?;
    let labels = category_labels(&console).await?;
    let visible: Vec<ConcernRow> = concerns
        .iter()
        .rev()
        .filter(|c| access::sees_concern(&v, c))
        .map(|c| concern_row(&console, c, &incidents, &labels))
        .collect();
    let (new, earlier): (Vec<ConcernRow>, Vec<ConcernRow>) =
        visible.into_iter().partition(|r| r.new);
    let layout = Layout::new(&console, Some(&caller), &csrf, "Concerns", "/concerns");
    let body = render(
        "records_inbox.html",
        &layout,
        context! { new => Serde(&new), earlier => Serde(&earlier) },
    )?;
    Ok(Html(body).into_response())
}

/// How many concerns are waiting for this DSL role (for the home page).
pub async fn new_concerns<S: Store>(
    console: &Console<S>,
    caller: &Caller,
) -> Result<usize, AppError> {
    if !Role::SAFEGUARDING.contains(&caller.role) {
        return Ok(0);
    }
    let v = viewer(caller);
    let concerns = console.store.concerns().await?;
    let incidents = console.store.incidents().await?;
    Ok(concerns
        .iter()
        .filter(|c| access::sees_concern(&v, c) && is_new(c, &incidents))
        .count())
}

async fn load_concern<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    id: i64,
) -> Result<Result<(Concern, ReadLogEntry), Response>, AppError> {
    let Some(concern) = console.store.concern(id).await? else {
        return Err(AppError::not_found());
    };
    Ok(
        match access::read_concern(&viewer(caller), &concern, console.now()) {
            Ok(entry) => Ok((concern, entry)),
            Err(e) => Err(not_allowed(&e.to_string())),
        },
    )
}

async fn concern_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    id: i64,
    notice: Option<&'static str>,
    problem: Option<String>,
) -> Result<Response, AppError> {
    let (concern, entry) = match load_concern(console, caller, id).await? {
        Ok(found) => found,
        Err(refused) => return Ok(refused),
    };
    log(console, &entry).await?;
    let categories = console.store.concern_categories().await?;
    let incidents: Vec<Value> = console
        .store
        .incidents()
        .await?
        .iter()
        .filter(|i| i.opened.concern_id == Some(id))
        .map(|i| {
            context! {
                id => i.id,
                kind => i.kind().label(),
                closed => i.closure.is_some(),
            }
        })
        .collect();
    let decisions: Vec<Value> = concern
        .categories
        .iter()
        .map(|d| {
            context! {
                label => categories.iter().find(|c| c.key == d.category).map_or(d.category.as_str(), |c| c.label.as_str()),
                actor => d.actor.clone(),
                at => show(console, d.at),
                reason => d.reason.clone(),
            }
        })
        .collect();
    let kinds: Vec<Value> = IncidentType::ALL
        .iter()
        .filter(|k| caller.role != Role::DeputyDsl || !k.is_staff_allegation())
        .map(|k| context! { id => k.id(), label => k.label(), section => k.section() })
        .collect();
    let fields: Vec<Value> = AMENDABLE_FIELDS
        .iter()
        .map(|f| context! { id => *f, label => field_label(f) })
        .collect();
    let layout = Layout::new(
        console,
        Some(caller),
        csrf,
        &format!("Concern {id}"),
        "/concerns",
    )
    .notice(notice);
    let status = status_for(&problem);
    let body = render(
        "records_concern.html",
        &layout,
        context! {
            concern => concern_view(console, &concern),
            suggested => concern.raised.suggested_category.as_ref().and_then(|k| categories.iter().find(|c| &c.key == k)).map(|c| c.label.clone()),
            current_category => concern.category(),
            decisions => decisions,
            categories => Serde(&categories),
            incidents => incidents,
            kinds => kinds,
            fields => fields,
            people => people_options(console).await?,
            dsl_role => matches!(caller.role, Role::Dsl | Role::DeputyDsl),
            may_amend => access::may_amend_concern(&viewer(caller), &concern),
            may_open => matches!(caller.role, Role::Dsl | Role::DeputyDsl) || (caller.role == Role::Headteacher && concern.is_staff_allegation()),
            problem => problem,
            reads => Serde(&read_log(console, caller, &ReadTarget::Concern(id)).await?),
            held => held(console, RecordKind::Concern, id).await?,
            may_hold => matches!(caller.role, Role::Dsl | Role::Headteacher),
        },
    )?;
    Ok((status, Html(body)).into_response())
}

pub async fn concern<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    concern_page(&console, &caller, &csrf, id, done.notice(), None).await
}

/// The two kinds of record with a page of their own.
#[derive(Clone, Copy)]
enum Page {
    Concern,
    Incident,
}

/// After a change to a concern or incident: back to it, or its page again
/// with the records crate's refusal.
async fn outcome<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    (page, id): (Page, i64),
    result: Result<(), StoreError>,
    done: &str,
) -> Result<Response, AppError> {
    let refusal = match result {
        Ok(()) => {
            let path = match page {
                Page::Concern => "concerns",
                Page::Incident => "incidents",
            };
            return Ok(see_other(&format!("/{path}/{id}?done={done}"), &[]));
        }
        Err(e) => rule_or_fault(e)?,
    };
    if let RecordsError::NotAllowed(m) = &refusal {
        return Ok(not_allowed(m));
    }
    let problem = Some(refusal.to_string());
    match page {
        Page::Concern => concern_page(console, caller, csrf, id, None, problem).await,
        Page::Incident => incident_page(console, caller, csrf, id, None, problem).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct CategoryForm {
    #[serde(default)]
    category: String,
    #[serde(default)]
    reason: String,
}

pub async fn set_category<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Form(form): Form<CategoryForm>,
) -> Result<Response, AppError> {
    if let Err(refused) = load_concern(&console, &caller, id).await? {
        return Ok(refused);
    }
    let decision = CategoryDecision {
        concern_id: id,
        category: form.category.trim().to_owned(),
        actor: caller.username().to_owned(),
        role: records_role(caller.role),
        at: console.now(),
        reason: form.reason.trim().to_owned(),
    };
    let result = console.store.set_concern_category(&decision).await;
    outcome(
        &console,
        &caller,
        &csrf,
        (Page::Concern, id),
        result,
        "category",
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    pupil: String,
    #[serde(default)]
    involvement: String,
    /// "link" or "unlink".
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
}

pub async fn change_link<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Form(form): Form<LinkForm>,
) -> Result<Response, AppError> {
    let concern = match load_concern(&console, &caller, id).await? {
        Ok((c, _)) => c,
        Err(refused) => return Ok(refused),
    };
    let linked = form.action != "unlink";
    let pupil = if linked {
        match find_pupil(&console, &form.pupil).await? {
            Ok(p) => p,
            Err(message) => {
                return concern_page(&console, &caller, &csrf, id, None, Some(message)).await;
            }
        }
    } else {
        match concern
            .current_pupils()
            .into_iter()
            .find(|(p, _)| p.username == form.pupil.trim())
        {
            Some((p, _)) => p,
            None => {
                let message = format!("'{}' is not linked to this concern.", form.pupil.trim());
                return concern_page(&console, &caller, &csrf, id, None, Some(message)).await;
            }
        }
    };
    let involvement = Involvement::from_id(&form.involvement).unwrap_or(Involvement::Subject);
    let change = PupilLinkChange {
        concern_id: id,
        pupil,
        involvement,
        linked,
        actor: caller.username().to_owned(),
        role: records_role(caller.role),
        at: console.now(),
        reason: form.reason.trim().to_owned(),
    };
    let result = console.store.change_pupil_link(&change).await;
    let done = if linked { "linked" } else { "unlinked" };
    outcome(&console, &caller, &csrf, (Page::Concern, id), result, done).await
}

#[derive(Debug, Deserialize)]
pub struct AmendForm {
    #[serde(default)]
    field: String,
    #[serde(default)]
    after: String,
    #[serde(default)]
    why: String,
}

pub async fn amend_concern<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Form(form): Form<AmendForm>,
) -> Result<Response, AppError> {
    if let Err(refused) = load_concern(&console, &caller, id).await? {
        return Ok(refused);
    }
    let mut after = form.after.trim().to_owned();
    if form.field == "happened_at"
        && let Some(at) = parse_local(&console, &after)
    {
        after = at.to_string();
    }
    let amendment = Amendment {
        record: RecordRef {
            kind: RecordKind::Concern,
            id,
        },
        field: form.field.trim().to_owned(),
        before: String::new(),
        after,
        why: form.why.trim().to_owned(),
        actor: caller.username().to_owned(),
        role: records_role(caller.role),
        at: console.now(),
    };
    let result = console.store.amend_record(&amendment).await.map(|_| ());
    outcome(
        &console,
        &caller,
        &csrf,
        (Page::Concern, id),
        result,
        "amended",
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct OpenForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    summary: String,
}

pub async fn open_incident<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Form(form): Form<OpenForm>,
) -> Result<Response, AppError> {
    let concern = match load_concern(&console, &caller, id).await? {
        Ok((c, _)) => c,
        Err(refused) => return Ok(refused),
    };
    let kind = match IncidentType::from_id(form.kind.trim()) {
        Ok(k) => k,
        Err(_) => {
            let message = "Choose the type of incident from the list.".to_owned();
            return concern_page(&console, &caller, &csrf, id, None, Some(message)).await;
        }
    };
    let new = NewIncident {
        concern_id: Some(id),
        kind,
        opened_by: caller.username().to_owned(),
        role: records_role(caller.role),
        opened_at: console.now(),
        summary: form.summary.trim().to_owned(),
        about_staff: concern.is_staff_allegation(),
    };
    match console.store.open_incident(&new).await {
        Ok(incident) => Ok(see_other(
            &format!("/incidents/{incident}?done=opened"),
            &[],
        )),
        Err(e) => {
            outcome(
                &console,
                &caller,
                &csrf,
                (Page::Concern, id),
                Err(e),
                "opened",
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------
// Incidents.

#[derive(Serialize)]
struct ReferralView {
    id: i64,
    incident: i64,
    agency: &'static str,
    contact: String,
    made_by: String,
    made_at: String,
    due: String,
    overdue: bool,
    reference: String,
    summary: String,
    response: Option<String>,
    response_by: Option<String>,
    response_at: Option<String>,
}

fn referral_views(
    console: &Console<impl Store>,
    incident: &Incident,
    directory: &[DirectoryContact],
    now: Timestamp,
) -> Vec<ReferralView> {
    incident
        .referrals
        .iter()
        .map(|r| {
            let due = incident
                .field(
                    RecordRef {
                        kind: RecordKind::Referral,
                        id: r.id,
                    },
                    "due_at",
                )
                .and_then(|t| t.parse::<Timestamp>().ok())
                .unwrap_or(r.made.due_at);
            ReferralView {
                id: r.id,
                incident: incident.id,
                agency: r.made.agency.label(),
                contact: directory
                    .iter()
                    .find(|c| c.id == r.made.contact_id)
                    .map_or_else(|| r.made.agency.label().to_owned(), |c| c.name.clone()),
                made_by: r.made.made_by.clone(),
                made_at: show(console, r.made.made_at),
                due: show(console, due),
                overdue: r.response.is_none() && now > due,
                reference: r.made.reference.clone(),
                summary: r.made.summary.clone(),
                response: r.response.as_ref().map(|x| x.outcome.clone()),
                response_by: r.response.as_ref().map(|x| x.actor.clone()),
                response_at: r.response.as_ref().map(|x| show(console, x.at)),
            }
        })
        .collect()
}

/// Incidents the caller may see, newest first, and every overdue referral.
pub async fn incidents<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
) -> Result<Response, AppError> {
    let v = viewer(&caller);
    let now = console.now();
    let all = console.store.incidents().await?;
    let directory = console.store.referral_directory().await?;
    let visible: Vec<&Incident> = all
        .iter()
        .rev()
        .filter(|i| access::read_incident(&v, i, None, now).is_ok())
        .collect();
    let rows: Vec<Value> = visible
        .iter()
        .map(|i| {
            context! {
                id => i.id,
                kind => i.kind().label(),
                summary => i.opened.summary.clone(),
                opened => show(&console, i.opened.opened_at),
                closed => i.closure.is_some(),
                outstanding => i.outstanding().len(),
            }
        })
        .collect();
    let overdue: Vec<ReferralView> = visible
        .iter()
        .flat_map(|i| referral_views(&console, i, &directory, now))
        .filter(|r| r.overdue)
        .collect();
    let layout = Layout::new(&console, Some(&caller), &csrf, "Incidents", "/incidents");
    let body = render(
        "records_incidents.html",
        &layout,
        context! { rows => rows, overdue => Serde(&overdue) },
    )?;
    Ok(Html(body).into_response())
}

async fn load_incident<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    id: i64,
) -> Result<Result<(Incident, ReadLogEntry), Response>, AppError> {
    let Some(incident) = console.store.incident(id).await? else {
        return Err(AppError::not_found());
    };
    Ok(
        match access::read_incident(&viewer(caller), &incident, None, console.now()) {
            Ok(entry) => Ok((incident, entry)),
            Err(e) => Err(not_allowed(&e.to_string())),
        },
    )
}

async fn incident_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    id: i64,
    notice: Option<&'static str>,
    problem: Option<String>,
) -> Result<Response, AppError> {
    let (incident, entry) = match load_incident(console, caller, id).await? {
        Ok(found) => found,
        Err(refused) => return Ok(refused),
    };
    log(console, &entry).await?;
    let now = console.now();
    let directory = console.store.referral_directory().await?;
    let checklist: Vec<Value> = incident
        .checklist()
        .iter()
        .enumerate()
        .map(|(n, (step, latest))| {
            let history: Vec<Value> = incident
                .steps
                .iter()
                .filter(|r| r.step == step.key)
                .map(|r| {
                    context! {
                        decision => r.decision.label(),
                        reason => r.reason.clone(),
                        actor => r.actor.clone(),
                        at => show(console, r.at),
                    }
                })
                .collect();
            context! {
                number => n + 1,
                key => step.key,
                text => step.text,
                source => step.source,
                decided => latest.map(|r| r.decision.id()),
                decision => latest.map(|r| r.decision.label()),
                history => history,
            }
        })
        .collect();
    let attachments: Vec<Value> = incident
        .attachments
        .iter()
        .map(|a| {
            context! {
                id => a.id,
                file_name => a.file_name.clone(),
                description => a.description.clone(),
                size_kb => a.size.div_ceil(1024),
                sha256 => a.sha256.clone(),
                added_by => a.added_by.clone(),
                added_at => show(console, a.added_at),
            }
        })
        .collect();
    let contacts: Vec<Value> = directory
        .iter()
        .map(|c| context! { id => c.id, label => format!("{}: {}", c.agency.label(), c.name) })
        .collect();
    let closure = incident.closure.as_ref().map(|c| {
        context! {
            outcome => c.outcome.clone(),
            lessons => c.lessons.clone(),
            actor => c.actor.clone(),
            at => show(console, c.at),
        }
    });
    let layout = Layout::new(
        console,
        Some(caller),
        csrf,
        &format!("Incident {id}: {}", incident.kind().label()),
        "/incidents",
    )
    .notice(notice);
    let status = status_for(&problem);
    let body = render(
        "records_incident.html",
        &layout,
        context! {
            id => id,
            kind => incident.kind().label(),
            section => incident.kind().section(),
            summary => incident.field(RecordRef { kind: RecordKind::Incident, id }, "summary"),
            opened_by => incident.opened.opened_by.clone(),
            opened_at => show(console, incident.opened.opened_at),
            concern => incident.opened.concern_id,
            staff_allegation => incident.is_staff_allegation(),
            open => incident.closure.is_none(),
            may_work => incident.may_work(records_role(caller.role)) && incident.closure.is_none(),
            may_amend => incident.may_work(records_role(caller.role)),
            checklist => checklist,
            outstanding => incident.outstanding().len(),
            decisions => [Decision::Done, Decision::NotApplicable, Decision::DecidedNot].map(|d| context! { id => d.id(), label => d.label() }),
            referrals => Serde(&referral_views(console, &incident, &directory, now)),
            contacts => contacts,
            refuses_attachments => incident.kind().refuses_attachments(),
            no_attachments => records::incident::NO_ATTACHMENTS_EXPLANATION,
            attachments => attachments,
            closure => closure,
            amendments => Serde(amendment_views(console, &incident.amendments)),
            problem => problem,
            reads => Serde(&read_log(console, caller, &ReadTarget::Incident(id)).await?),
            held => held(console, RecordKind::Incident, id).await?,
            may_hold => matches!(caller.role, Role::Dsl | Role::Headteacher),
        },
    )?;
    Ok((status, Html(body)).into_response())
}

pub async fn incident<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    incident_page(&console, &caller, &csrf, id, done.notice(), None).await
}

#[derive(Debug, Deserialize)]
pub struct StepForm {
    #[serde(default)]
    step: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

pub async fn record_step<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Form(form): Form<StepForm>,
) -> Result<Response, AppError> {
    if let Err(refused) = load_incident(&console, &caller, id).await? {
        return Ok(refused);
    }
    let Ok(decision) = Decision::from_id(form.decision.trim()) else {
        let message = "Choose a decision for the step: done, not applicable, or decided not to.";
        return incident_page(&console, &caller, &csrf, id, None, Some(message.into())).await;
    };
    let record = StepRecord {
        incident_id: id,
        step: form.step.trim().to_owned(),
        decision,
        reason: form.reason.trim().to_owned(),
        actor: caller.username().to_owned(),
        role: records_role(caller.role),
        at: console.now(),
    };
    let result = console.store.record_step(&record).await;
    outcome(
        &console,
        &caller,
        &csrf,
        (Page::Incident, id),
        result,
        "step",
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct ReferralForm {
    #[serde(default)]
    contact: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    summary: String,
    /// Optional: the agency's default follow-up when empty.
    #[serde(default)]
    due: String,
}

pub async fn refer<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Form(form): Form<ReferralForm>,
) -> Result<Response, AppError> {
    if let Err(refused) = load_incident(&console, &caller, id).await? {
        return Ok(refused);
    }
    let directory = console.store.referral_directory().await?;
    let Some(contact) = form
        .contact
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|c| directory.iter().find(|d| d.id == c))
    else {
        let message = "Choose who you referred to from the directory. If they are not there, add them on the referral directory page first.";
        return incident_page(&console, &caller, &csrf, id, None, Some(message.into())).await;
    };
    let now = console.now();
    let due = if form.due.trim().is_empty() {
        default_due_in(contact.agency, &now.to_zoned(console.time_zone()))
    } else {
        match parse_local(&console, &form.due) {
            Some(at) => at,
            None => {
                let message = "The follow-up date is not a date and time; choose one, or leave it empty for the usual follow-up.";
                return incident_page(&console, &caller, &csrf, id, None, Some(message.into()))
                    .await;
            }
        }
    };
    let referral = NewReferral {
        incident_id: id,
        agency: contact.agency,
        contact_id: contact.id,
        made_by: caller.username().to_owned(),
        role: records_role(caller.role),
        made_at: now,
        due_at: due,
        reference: form.reference.trim().to_owned(),
        summary: form.summary.trim().to_owned(),
    };
    let result = console.store.make_referral(&referral).await.map(|_| ());
    outcome(
        &console,
        &caller,
        &csrf,
        (Page::Incident, id),
        result,
        "referral",
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct ResponseForm {
    #[serde(default)]
    outcome: String,
}

pub async fn answer_referral<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path((id, referral)): Path<(i64, i64)>,
    Form(form): Form<ResponseForm>,
) -> Result<Response, AppError> {
    if let Err(refused) = load_incident(&console, &caller, id).await? {
        return Ok(refused);
    }
    let response = ReferralResponse {
        referral_id: referral,
        outcome: form.outcome.trim().to_owned(),
        actor: caller.username().to_owned(),
        role: records_role(caller.role),
        at: console.now(),
    };
    let result = console.store.answer_referral(&response).await;
    outcome(
        &console,
        &caller,
        &csrf,
        (Page::Incident, id),
        result,
        "response",
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    lessons: String,
}

pub async fn close<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Form(form): Form<CloseForm>,
) -> Result<Response, AppError> {
    if let Err(refused) = load_incident(&console, &caller, id).await? {
        return Ok(refused);
    }
    let closure = Closure {
        incident_id: id,
        outcome: form.outcome.trim().to_owned(),
        lessons: form.lessons.trim().to_owned(),
        actor: caller.username().to_owned(),
        role: records_role(caller.role),
        at: console.now(),
    };
    let result = console.store.close_incident(&closure).await;
    outcome(
        &console,
        &caller,
        &csrf,
        (Page::Incident, id),
        result,
        "closed",
    )
    .await
}

/// The body of an upload: the file, its description and the form token.
/// Read here with the attachment limit (axum's default would stop at 2 MB).
pub(crate) const ATTACHMENT_LIMIT: usize = records::incident::MAX_ATTACHMENT_BYTES as usize;
const UPLOAD_LIMIT: usize = ATTACHMENT_LIMIT + 256 * 1024;

pub async fn attach<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let incident = match load_incident(&console, &caller, id).await? {
        Ok((i, _)) => i,
        Err(refused) => return Ok(refused),
    };
    // §11.2: refused before the body is even read, so no image is kept,
    // not even in memory longer than the request.
    if incident.kind().refuses_attachments() {
        let message = records::incident::NO_ATTACHMENTS_EXPLANATION.to_owned();
        return incident_page(&console, &caller, &csrf, id, None, Some(message)).await;
    }
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let problem = |m: &str| Some(m.to_owned());
    let Ok(bytes) = axum::body::to_bytes(body, UPLOAD_LIMIT).await else {
        return incident_page(
            &console,
            &caller,
            &csrf,
            id,
            None,
            problem("That file is larger than 20 MB, so nothing was kept. Attach a smaller copy or a summary."),
        )
        .await;
    };
    let Ok(form) = crate::multipart::parse(&content_type, &bytes) else {
        return incident_page(
            &console,
            &caller,
            &csrf,
            id,
            None,
            problem(
                "The upload could not be read. Choose the file again and send the form once more.",
            ),
        )
        .await;
    };
    let Some(file) = form.part("file") else {
        return incident_page(
            &console,
            &caller,
            &csrf,
            id,
            None,
            problem("Choose a file to attach."),
        )
        .await;
    };
    let file_name = file
        .filename
        .clone()
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .to_owned();
    let new = NewAttachment {
        incident_id: id,
        media_type: media_type(&file_name).to_owned(),
        file_name,
        description: form
            .text("description")
            .unwrap_or_default()
            .trim()
            .to_owned(),
        added_by: caller.username().to_owned(),
        role: records_role(caller.role),
        added_at: console.now(),
    };
    let result = console
        .store
        .add_attachment(&new, &file.data)
        .await
        .map(|_| ());
    outcome(
        &console,
        &caller,
        &csrf,
        (Page::Incident, id),
        result,
        "attached",
    )
    .await
}

/// The media type kept with a document, from its name; anything unknown
/// is kept as plain bytes and downloaded, never shown in the browser.
fn media_type(file_name: &str) -> &'static str {
    let lower = file_name.to_ascii_lowercase();
    let ext = lower.rsplit('.').next().unwrap_or_default();
    match ext {
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "eml" => "message/rfc822",
        _ => "application/octet-stream",
    }
}

/// Downloads an attachment; the read is logged as the attachment's.
pub async fn attachment<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Path((id, attachment)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let Some(incident) = console.store.incident(id).await? else {
        return Err(AppError::not_found());
    };
    if !incident.attachments.iter().any(|a| a.id == attachment) {
        return Err(AppError::not_found());
    }
    let entry =
        match access::read_incident(&viewer(&caller), &incident, Some(attachment), console.now()) {
            Ok(e) => e,
            Err(e) => return Ok(not_allowed(&e.to_string())),
        };
    let Some((meta, content)) = console.store.attachment(attachment).await? else {
        return Err(AppError::not_found());
    };
    log(&console, &entry).await?;
    let mut response = content.into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let safe: String = meta
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        headers.insert(CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

// ---------------------------------------------------------------------
// The referral directory.

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct ContactForm {
    #[serde(default)]
    agency: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    web: String,
    #[serde(default)]
    notes: String,
}

async fn directory_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    notice: Option<&'static str>,
    form: &ContactForm,
    problem: Option<String>,
) -> Result<Response, AppError> {
    let directory = console.store.referral_directory().await?;
    let rows: Vec<Value> = directory
        .iter()
        .map(|c| {
            context! {
                id => c.id,
                agency => c.agency.label(),
                name => c.name.clone(),
                phone => c.phone.clone(),
                email => c.email.clone(),
                web => c.web.clone(),
                notes => c.notes.clone(),
                updated_by => c.updated_by.clone(),
                updated_at => show(console, c.updated_at),
            }
        })
        .collect();
    let missing: Vec<&str> = Agency::ALL
        .iter()
        .filter(|a| !directory.iter().any(|c| c.agency == **a))
        .map(|a| a.label())
        .collect();
    let agencies: Vec<Value> = Agency::ALL
        .iter()
        .map(|a| context! { id => a.id(), label => a.label() })
        .collect();
    let layout = Layout::new(
        console,
        Some(caller),
        csrf,
        "Referral directory",
        "/referral-directory",
    )
    .notice(notice);
    let status = status_for(&problem);
    let body = render(
        "records_directory.html",
        &layout,
        context! {
            rows => rows,
            missing => missing,
            agencies => agencies,
            form => Serde(form),
            problem => problem,
            may_edit => matches!(caller.role, Role::Dsl | Role::DeputyDsl | Role::Headteacher),
        },
    )?;
    Ok((status, Html(body)).into_response())
}

pub async fn directory<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    directory_page(
        &console,
        &caller,
        &csrf,
        done.notice(),
        &ContactForm::default(),
        None,
    )
    .await
}

pub async fn save_contact<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<ContactForm>,
) -> Result<Response, AppError> {
    let Ok(agency) = Agency::from_id(form.agency.trim()) else {
        let message = "Choose which agency this entry is for.".to_owned();
        return directory_page(&console, &caller, &csrf, None, &form, Some(message)).await;
    };
    let contact = DirectoryContact {
        id: 0,
        agency,
        name: form.name.trim().to_owned(),
        phone: form.phone.trim().to_owned(),
        email: form.email.trim().to_owned(),
        web: form.web.trim().to_owned(),
        notes: form.notes.trim().to_owned(),
        updated_by: caller.username().to_owned(),
        updated_at: console.now(),
    };
    match console
        .store
        .save_referral_contact(&contact, records_role(caller.role))
        .await
    {
        Ok(_) => Ok(see_other("/referral-directory?done=contact", &[])),
        Err(e) => {
            let refusal = rule_or_fault(e)?;
            directory_page(
                &console,
                &caller,
                &csrf,
                None,
                &form,
                Some(refusal.to_string()),
            )
            .await
        }
    }
}

/// Adds the national entries (999, 101, the IWF and CEOP) not yet in the
/// directory.
pub async fn add_national<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, AppError> {
    let existing = console.store.referral_directory().await?;
    for contact in national_contacts(caller.username(), console.now()) {
        if existing.iter().any(|c| c.agency == contact.agency) {
            continue;
        }
        if let Err(e) = console
            .store
            .save_referral_contact(&contact, records_role(caller.role))
            .await
        {
            let refusal = rule_or_fault(e)?;
            return Ok(not_allowed(&refusal.to_string()));
        }
    }
    Ok(see_other("/referral-directory?done=contact", &[]))
}

// ---------------------------------------------------------------------
// A pupil's record: their chronology.

#[derive(Debug, Default, Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn pupil_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    username: &str,
    reason: Option<&str>,
) -> Result<Response, AppError> {
    let people = console.store.people().await?;
    let name = people
        .iter()
        .find(|p| p.username == username)
        .map(|p| p.display_name.clone());
    let concerns = console.store.concerns().await?;
    let incidents = console.store.incidents().await?;
    if name.is_none() && !concerns.iter().any(|c| c.names_pupil(username)) {
        return Err(AppError::not_found());
    }
    let name = name.unwrap_or_else(|| username.to_owned());
    let v = viewer(caller);
    let linked = access::linked_staff(username, &concerns, &incidents);
    let now = console.now();
    let layout = Layout::new(
        console,
        Some(caller),
        csrf,
        &format!("{name}: safeguarding record"),
        "/pupils",
    );
    let entry = match access::open_pupil_record(&v, username, &linked, reason, now) {
        Ok(entry) => entry,
        Err(RecordsError::NeedsReason) => {
            let status = if reason.is_some() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            let body = render(
                "records_pupil_reason.html",
                &layout,
                context! { username => username, name => name, asked => reason.is_some() },
            )?;
            return Ok((status, Html(body)).into_response());
        }
        Err(e) => return Ok(not_allowed(&e.to_string())),
    };
    log(console, &entry).await?;
    let entries: Vec<Value> = visible_to(&v, chronology(username, &concerns, &incidents))
        .iter()
        .map(|e| {
            let href = match e.record.kind {
                RecordKind::Concern => format!("/concerns/{}", e.record.id),
                RecordKind::Incident => format!("/incidents/{}", e.record.id),
                RecordKind::Referral => incidents
                    .iter()
                    .find(|i| i.referrals.iter().any(|r| r.id == e.record.id))
                    .map_or_else(String::new, |i| format!("/incidents/{}", i.id)),
            };
            context! {
                at => show(console, e.at),
                summary => e.summary.clone(),
                actor => e.actor.clone(),
                href => href,
                record => e.record.to_string(),
            }
        })
        .collect();
    let body = render(
        "records_pupil.html",
        &layout,
        context! {
            username => username,
            name => name,
            entries => entries,
            reads => Serde(&read_log(console, caller, &ReadTarget::Pupil(username.to_owned())).await?),
        },
    )?;
    Ok(Html(body).into_response())
}

pub async fn pupil<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(username): Path<String>,
) -> Result<Response, AppError> {
    pupil_page(&console, &caller, &csrf, &username, None).await
}

/// Opening a pupil's record with the reason the read log keeps.
pub async fn pupil_with_reason<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(username): Path<String>,
    Form(form): Form<ReasonForm>,
) -> Result<Response, AppError> {
    pupil_page(
        &console,
        &caller,
        &csrf,
        &username,
        Some(form.reason.as_str()),
    )
    .await
}

// ---------------------------------------------------------------------
// The concern categories the DSL owns.

/// Who changes the concern categories: the DSL and deputies.
pub const CATEGORY_EDITORS: &[Role] = &[Role::Dsl, Role::DeputyDsl];

async fn categories_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    set: &[records::Category],
    notice: Option<&'static str>,
    problem: Option<String>,
) -> Result<Response, AppError> {
    let layout = Layout::new(
        console,
        Some(caller),
        csrf,
        "Concern categories",
        "/concern-categories",
    )
    .notice(notice);
    let body = render(
        "records_categories.html",
        &layout,
        context! {
            categories => Serde(set),
            next => set.len(),
            max => records::concern::MAX_CATEGORIES,
            may_edit => CATEGORY_EDITORS.contains(&caller.role),
            problem => problem.clone(),
        },
    )?;
    Ok((status_for(&problem), Html(body)).into_response())
}

pub async fn categories<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    let set = console.store.concern_categories().await?;
    categories_page(&console, &caller, &csrf, &set, done.notice(), None).await
}

/// Saves the whole set as a new version: rows are `key_N`, `label_N`,
/// `guidance_N` and `remove_N`; a row with nothing in it is left out.
pub async fn save_categories<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let value = |name: String| {
        fields
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim().to_owned())
    };
    let mut set = Vec::new();
    for n in 0..=records::concern::MAX_CATEGORIES {
        let Some(key) = value(format!("key_{n}")) else {
            continue;
        };
        let label = value(format!("label_{n}")).unwrap_or_default();
        let guidance = value(format!("guidance_{n}")).unwrap_or_default();
        let removed = value(format!("remove_{n}")).is_some();
        if removed || (key.is_empty() && label.is_empty() && guidance.is_empty()) {
            continue;
        }
        // A new category's key, from its name when none was given.
        let key = if key.is_empty() {
            let words: Vec<String> = label
                .to_lowercase()
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect();
            words.join("-")
        } else {
            key
        };
        set.push(records::Category {
            key,
            label,
            guidance,
        });
    }
    match console
        .store
        .set_concern_categories(
            &set,
            caller.username(),
            records_role(caller.role),
            console.now(),
        )
        .await
    {
        Ok(()) => Ok(see_other("/concern-categories?done=categories", &[])),
        Err(e) => {
            let refusal = rule_or_fault(e)?;
            categories_page(
                &console,
                &caller,
                &csrf,
                &set,
                None,
                Some(refusal.to_string()),
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------
// Corrections to an incident or its referrals, and withdrawing a
// directory entry.

#[derive(Debug, Deserialize)]
pub struct IncidentAmendForm {
    /// `incident:summary`, or `referral:N:FIELD`.
    #[serde(default)]
    target: String,
    #[serde(default)]
    after: String,
    #[serde(default)]
    why: String,
}

pub async fn amend_incident<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Form(form): Form<IncidentAmendForm>,
) -> Result<Response, AppError> {
    if let Err(refused) = load_incident(&console, &caller, id).await? {
        return Ok(refused);
    }
    let parts: Vec<&str> = form.target.split(':').collect();
    let (record, field) = match parts.as_slice() {
        ["incident", field] => (
            RecordRef {
                kind: RecordKind::Incident,
                id,
            },
            *field,
        ),
        ["referral", n, field] if n.parse::<i64>().is_ok() => (
            RecordRef {
                kind: RecordKind::Referral,
                id: n.parse().unwrap_or_default(),
            },
            *field,
        ),
        _ => {
            let message = "Choose what to correct from the list.".to_owned();
            return incident_page(&console, &caller, &csrf, id, None, Some(message)).await;
        }
    };
    let mut after = form.after.trim().to_owned();
    if field.ends_with("_at")
        && let Some(at) = parse_local(&console, &after)
    {
        after = at.to_string();
    }
    let amendment = Amendment {
        record,
        field: field.to_owned(),
        before: String::new(),
        after,
        why: form.why.trim().to_owned(),
        actor: caller.username().to_owned(),
        role: records_role(caller.role),
        at: console.now(),
    };
    let result = console.store.amend_record(&amendment).await.map(|_| ());
    outcome(
        &console,
        &caller,
        &csrf,
        (Page::Incident, id),
        result,
        "amended",
    )
    .await
}

/// Withdraws a directory entry; referrals that used it keep it.
pub async fn withdraw_contact<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let directory = console.store.referral_directory().await?;
    let Some(contact) = directory.into_iter().find(|c| c.id == id) else {
        return Err(AppError::not_found());
    };
    let contact = DirectoryContact {
        updated_by: caller.username().to_owned(),
        updated_at: console.now(),
        ..contact
    };
    match console
        .store
        .withdraw_referral_contact(&contact, records_role(caller.role))
        .await
    {
        Ok(()) => Ok(see_other("/referral-directory?done=withdrawn", &[])),
        Err(e) => {
            let refusal = rule_or_fault(e)?;
            let form = ContactForm::default();
            directory_page(
                &console,
                &caller,
                &csrf,
                None,
                &form,
                Some(refusal.to_string()),
            )
            .await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct FindForm {
    #[serde(default)]
    pupil: Option<String>,
}

/// Finds a pupil's record by name: the picker, then their chronology
/// (which asks for a reason first if you are not linked to them).
pub async fn find<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Query(form): Query<FindForm>,
) -> Result<Response, AppError> {
    let mut problem = None;
    if let Some(typed) = form.pupil.as_deref().filter(|t| !t.trim().is_empty()) {
        let people = console.store.people().await?;
        match pupil_in(&people, typed) {
            Ok(p) if super::valid_username(&p.username) => {
                return Ok(see_other(&format!("/pupils/{}", p.username), &[]));
            }
            Ok(_) => problem = Some(format!("'{typed}' cannot be opened here.")),
            Err(message) => problem = Some(message),
        }
    }
    let layout = Layout::new(&console, Some(&caller), &csrf, "Pupils' records", "/pupils");
    let body = render(
        "records_find.html",
        &layout,
        context! { people => people_options(&console).await?, problem => problem.clone(), typed => form.pupil },
    )?;
    Ok((status_for(&problem), Html(body)).into_response())
}

/// A pupil's child-protection file as one JSON document for their new
/// school (`records::transfer`). Always asks why (the new school), which
/// the read log keeps; allegations about staff are left out and counted.
pub async fn export_file<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Path(username): Path<String>,
    Form(form): Form<ReasonForm>,
) -> Result<Response, AppError> {
    let people = console.store.people().await?;
    let Some(person) = people.iter().find(|p| p.username == username) else {
        return Err(AppError::not_found());
    };
    if form.reason.trim().is_empty() {
        return Err(AppError::bad_request(
            "Say which school the file is going to: it is kept in the read log. Go back and fill it in.",
        ));
    }
    let concerns = console.store.concerns().await?;
    let incidents = console.store.incidents().await?;
    let linked = access::linked_staff(&username, &concerns, &incidents);
    let now = console.now();
    let why = format!(
        "Prepared the child-protection file for transfer: {}",
        form.reason.trim()
    );
    let entry =
        match access::open_pupil_record(&viewer(&caller), &username, &linked, Some(&why), now) {
            Ok(entry) => entry,
            Err(e) => return Ok(not_allowed(&e.to_string())),
        };
    log(&console, &entry).await?;
    let pupil = PupilRef::new(&person.username, &person.display_name);
    let bundle = records::transfer::bundle(&pupil, &concerns, &incidents, caller.username(), now);
    let json = serde_json::to_vec_pretty(&bundle)
        .map_err(|e| AppError::internal(format!("the transfer bundle: {e}")))?;
    let mut response = json.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"child-protection-file-{username}.json\""
    )) {
        headers.insert(CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

// Legal holds: the DSL or the headteacher keeps a record past its retention
// period while an investigation, inquiry or claim needs it (records::retention).

#[derive(Debug, Deserialize)]
pub struct HoldForm {
    /// `on` to hold, `off` to lift.
    #[serde(default)]
    hold: String,
    #[serde(default)]
    reason: String,
}

async fn set_hold<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    (page, id): (Page, i64),
    form: HoldForm,
) -> Result<Response, AppError> {
    let refused = match page {
        Page::Concern => load_concern(console, caller, id).await?.err(),
        Page::Incident => load_incident(console, caller, id).await?.err(),
    };
    if let Some(refused) = refused {
        return Ok(refused);
    }
    let kind = match page {
        Page::Concern => RecordKind::Concern,
        Page::Incident => RecordKind::Incident,
    };
    let hold = records::LegalHold {
        record: RecordRef { kind, id },
        hold: form.hold == "on",
        actor: caller.username().to_owned(),
        role: records_role(caller.role),
        at: console.now(),
        reason: form.reason.trim().to_owned(),
    };
    let result = console.store.set_legal_hold(&hold).await;
    let done = if hold.hold { "held" } else { "hold-lifted" };
    outcome(console, caller, csrf, (page, id), result, done).await
}

/// Whether a record is under legal hold now.
async fn held<S: Store>(console: &Console<S>, kind: RecordKind, id: i64) -> Result<bool, AppError> {
    Ok(console
        .store
        .legal_holds()
        .await?
        .iter()
        .any(|h| h.hold && h.record.kind == kind && h.record.id == id))
}

pub async fn hold_concern<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Form(form): Form<HoldForm>,
) -> Result<Response, AppError> {
    set_hold(&console, &caller, &csrf, (Page::Concern, id), form).await
}

pub async fn hold_incident<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Form(form): Form<HoldForm>,
) -> Result<Response, AppError> {
    set_hold(&console, &caller, &csrf, (Page::Incident, id), form).await
}
