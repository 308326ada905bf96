//! Monitoring alerts for the safeguarding team (the DSL, deputies and the
//! headteacher; never technicians, staff or governors): the list, newest
//! first; one alert with who, which device, when and what, links to the
//! activity around it and the triage decisions (reviewed, false positive
//! with a reason, escalated to a concern, which raises the concern in the
//! safeguarding records with the alert's evidence); false-positive rates
//! per phrase and category; and the phrase library, edited with a reason
//! under the audit trail. The running monitor in `serve` notices a saved
//! library and reloads it.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form, Json};
use jiff::{SignedDuration, Timestamp};
use minijinja::context;
use minijinja::value::Serde;
use monitor::triage::{FalsePositiveRates, Tally, Triaged, decide};
use monitor::{Library, Matcher, TriageDecision, TriageState};
use records::{NewConcern, PupilRef};
use serde::{Deserialize, Serialize};
use store::{AlertFilter, AlertTriage, Store, StoreError, StoredAlert};

use super::records::records_role;
use super::{Done, see_other};
use crate::access::Caller;
use crate::csrf::CsrfKey;
use crate::pages::{Layout, render};
use crate::{ApiError, AppError, Console};

/// Alerts a page shows.
const PAGE: usize = 50;
/// The activity shown around an alert: this long either side.
const AROUND: SignedDuration = SignedDuration::from_mins(30);
const MAX_REASON: usize = 4000;
/// A library file's text at most.
const MAX_LIBRARY_FILE: usize = 512 * 1024;

fn notice(done: &Done) -> Option<&'static str> {
    Some(match done.done.as_deref()? {
        "reviewed" => "Marked as reviewed.",
        "false-positive" => {
            "Marked as a false positive. It counts towards the phrase's false-positive rate."
        }
        "escalated" => {
            "Escalated: a concern has been raised in the safeguarding records with the alert's evidence."
        }
        "library-saved" => {
            "The phrase library is saved with your reason. Monitoring uses it within a few seconds."
        }
        _ => return None,
    })
}

fn state_label(state: &str) -> String {
    TriageState::from_id(state).map_or_else(|| state.to_owned(), |s| s.to_string())
}

fn signal_label(signal: &str) -> &'static str {
    match signal {
        "phrase" => "A worrying search",
        "blocked" => "A blocked site",
        "repeated" => "Repeated blocked attempts",
        "circumvention" => "A way round the filter",
        _ => "Something else",
    }
}

fn routing_label(routing: &str) -> &'static str {
    match routing {
        "immediate" => "Sent at once to the DSL and deputies",
        "out-of-hours" => "Sent at once to the out-of-hours contacts",
        "daily" => "In the daily digest",
        _ => "In the weekly digest",
    }
}

/// An alert as pages and the API show it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AlertView {
    pub id: i64,
    /// `new`, `reviewed`, `false-positive` or `escalated`.
    pub state: String,
    pub state_label: String,
    pub severity: u8,
    pub category: String,
    pub category_label: String,
    /// `phrase`, `blocked`, `repeated` or `circumvention`.
    pub signal: String,
    pub signal_label: String,
    /// What happened, in a sentence.
    pub what: String,
    pub person: Option<String>,
    pub device: Option<String>,
    pub client_ip: String,
    pub phrase_key: Option<String>,
    pub term: Option<String>,
    pub url: Option<String>,
    pub first_at: Timestamp,
    pub last_at: Timestamp,
    pub when: String,
    pub count: u32,
    pub routing: String,
    pub routing_label: String,
    pub concern: Option<i64>,
    /// The activity page around the alert.
    pub activity_link: String,
}

fn what(alert: &StoredAlert, category: &str) -> String {
    let a = &alert.alert;
    match (&a.term, &a.phrase, &a.url) {
        (Some(term), Some(phrase), _) => {
            format!("Searched for \"{term}\" (the phrase \"{phrase}\", {category})")
        }
        (_, _, Some(url)) if a.signal == "circumvention" => {
            format!("Tried to get round the filter ({category}): {url}")
        }
        (_, _, Some(url)) => format!("Tried to reach a blocked site ({category}): {url}"),
        _ => format!("Repeated attempts to reach blocked sites ({category})"),
    }
}

fn local(console: &Console<impl Store>, at: Timestamp) -> String {
    at.to_zoned(console.time_zone())
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

fn view<S: Store>(console: &Console<S>, library: &Library, alert: &StoredAlert) -> AlertView {
    let a = &alert.alert;
    let category = library
        .category(&a.category)
        .map_or_else(|| a.category.clone(), |c| c.name.clone());
    let from = a.first_at.saturating_sub(AROUND).unwrap_or(a.first_at);
    let to = a.last_at.saturating_add(AROUND).unwrap_or(a.last_at);
    let who = match (&a.person, &a.device) {
        (Some(person), _) => format!("person={}", encode(person)),
        (None, Some(device)) => format!("device={}", encode(device)),
        (None, None) => format!("ip={}", encode(&a.client_ip)),
    };
    AlertView {
        id: a.id,
        state: alert.state.clone(),
        state_label: state_label(&alert.state),
        severity: a.severity,
        category: a.category.clone(),
        signal: a.signal.clone(),
        signal_label: signal_label(&a.signal).to_owned(),
        what: what(alert, &category),
        category_label: category,
        person: a.person.clone(),
        device: a.device.clone(),
        client_ip: a.client_ip.clone(),
        phrase_key: a.phrase_key.clone(),
        term: a.term.clone(),
        url: a.url.clone(),
        first_at: a.first_at,
        last_at: a.last_at,
        when: if a.first_at == a.last_at {
            console.show_time(a.first_at)
        } else {
            format!(
                "{} to {}",
                console.show_time(a.first_at),
                console.show_time(a.last_at)
            )
        },
        count: a.count,
        routing: a.routing.clone(),
        routing_label: routing_label(&a.routing).to_owned(),
        concern: alert.concern,
        activity_link: format!(
            "/activity?{who}&from={}&to={}",
            encode(&local(console, from)),
            encode(&local(console, to))
        ),
    }
}

/// Percent-encodes a query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The phrase library files in force, and their revision (0: the starter
/// library shipped with schoolgate).
async fn library_files<S: Store>(
    console: &Console<S>,
) -> Result<(i64, Vec<(String, String)>), AppError> {
    Ok(match console.store.phrase_library().await? {
        Some(revision) => (revision.number, revision.files),
        None => (
            0,
            monitor::library::STARTER_FILES
                .iter()
                .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
                .collect(),
        ),
    })
}

fn library_from(files: &[(String, String)]) -> Result<Library, monitor::LibraryError> {
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    Library::from_files(&files)
}

/// The library in force, for category names; the starter one if the saved
/// library cannot be read (it was checked when saved).
async fn library<S: Store>(console: &Console<S>) -> Result<Library, AppError> {
    let (_, files) = library_files(console).await?;
    Ok(library_from(&files).unwrap_or_else(|_| Library::starter()))
}

async fn find<S: Store>(console: &Console<S>, id: i64) -> Result<StoredAlert, AppError> {
    console
        .store
        .alert(id)
        .await?
        .ok_or_else(AppError::not_found)
}

// ---------------------------------------------------------------------------
// Triage.

/// A triage decision, from the form or the API.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct TriageForm {
    /// `reviewed`, `false-positive` or `escalated`.
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub reason: String,
}

/// The concern an escalated alert raises, carrying its evidence.
async fn concern_for<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    alert: &StoredAlert,
    reason: &str,
) -> Result<NewConcern, AppError> {
    let library = library(console).await?;
    let shown = view(console, &library, alert);
    let a = &alert.alert;
    let mut pupils = Vec::new();
    if let Some(person) = &a.person {
        let name = console
            .store
            .person_record(person)
            .await?
            .map_or_else(|| person.clone(), |p| p.display_name);
        pupils.push(PupilRef::new(person, &name));
    }
    let evidence = format!(
        "Raised from monitoring alert #{id} (severity {severity} of 5).\n\
         What: {what}\n\
         Who: {who}; device {device} ({ip})\n\
         When: {when}; {count} time(s)\n\
         Activity log events {first} to {last}; the activity around it: {link}",
        id = a.id,
        severity = a.severity,
        what = shown.what,
        who = a.person.as_deref().unwrap_or("not signed in"),
        device = a.device.as_deref().unwrap_or("unknown"),
        ip = a.client_ip,
        when = shown.when,
        count = a.count,
        first = a.first_event,
        last = a.last_event,
        link = shown.activity_link,
    );
    Ok(NewConcern {
        raised_by: caller.username().to_owned(),
        raised_by_role: records_role(caller.role),
        raised_at: console.now(),
        pupils,
        others_involved: Vec::new(),
        child_words: evidence,
        immediate_action: reason.trim().to_owned(),
        happened_at: a.first_at,
        location: match &a.url {
            Some(url) => format!("Online: {url}"),
            None => "Online, on a school device or network".to_owned(),
        },
        suggested_category: None,
        about_staff: false,
    })
}

/// Makes a triage decision; problems name their field.
async fn triage<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    id: i64,
    form: &TriageForm,
) -> Result<Result<StoredAlert, Vec<(&'static str, String)>>, AppError> {
    let alert = find(console, id).await?;
    let from = TriageState::from_id(&alert.state).unwrap_or(TriageState::New);
    let Some(to) = TriageState::from_id(form.decision.trim()).filter(|s| s.is_triaged()) else {
        return Ok(Err(vec![(
            "decision",
            "Choose reviewed, false positive or escalate to a concern.".into(),
        )]));
    };
    if form.reason.chars().count() > MAX_REASON {
        return Ok(Err(vec![(
            "reason",
            "Keep the reason under 4,000 characters.".into(),
        )]));
    }
    let decision = TriageDecision {
        to,
        actor: caller.username().to_owned(),
        reason: form.reason.trim().to_owned(),
        at: console.now(),
    };
    if let Err(e) = decide(from, &decision) {
        let field = if matches!(e, monitor::TriageError::NoReason(_)) {
            "reason"
        } else {
            "decision"
        };
        return Ok(Err(vec![(
            field,
            format!("{}.", capitalise(&e.to_string())),
        )]));
    }
    let stored = AlertTriage {
        alert: id,
        state: to.id().to_owned(),
        actor: decision.actor.clone(),
        at: decision.at,
        reason: decision.reason.clone(),
        concern: None,
    };
    let applied = if to == TriageState::Escalated {
        let concern = concern_for(console, caller, &alert, &decision.reason).await?;
        match console
            .store
            .escalate_alert(from.id(), &concern, &stored)
            .await
        {
            Ok(number) => number.is_some(),
            Err(StoreError::Records(e)) => {
                return Ok(Err(vec![(
                    "decision",
                    format!("The concern could not be raised: {e}"),
                )]));
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        console.store.triage_alert(from.id(), &stored).await?
    };
    if !applied {
        return Ok(Err(vec![(
            "decision",
            "Someone else decided about this alert a moment ago. Look at it again.".into(),
        )]));
    }
    Ok(Ok(find(console, id).await?))
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().collect::<String>() + chars.as_str()
    })
}

// ---------------------------------------------------------------------------
// Pages.

/// The list's filters and page.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct ListQuery {
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub category: String,
    /// This severity or higher (1 to 5).
    #[serde(default)]
    pub severity: String,
    /// Alerts older than this one (the next page).
    #[serde(default)]
    pub before: Option<i64>,
}

fn filter(query: &ListQuery) -> Result<AlertFilter, (&'static str, String)> {
    let state = match query.state.trim() {
        "" | "all" => None,
        s if TriageState::from_id(s).is_some() => Some(s.to_owned()),
        s => {
            return Err((
                "state",
                format!("\"{s}\" is not a state; use new, reviewed, false-positive or escalated"),
            ));
        }
    };
    let min_severity = match query.severity.trim() {
        "" => None,
        s => match s.parse::<u8>() {
            Ok(n) if (1..=5).contains(&n) => Some(n),
            _ => {
                return Err((
                    "severity",
                    format!("\"{s}\" is not a severity; use a number from 1 to 5"),
                ));
            }
        },
    };
    Ok(AlertFilter {
        state,
        category: super::optional(&query.category),
        min_severity,
        before: query.before,
        limit: PAGE,
    })
}

/// New alerts first (the default filter is "new"), then the rest on
/// request.
pub async fn list<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Query(mut query): Query<ListQuery>,
) -> Result<Response, AppError> {
    if query.state.is_empty() {
        query.state = "new".into();
    }
    let filter = filter(&query).map_err(|(_, m)| AppError::bad_request(format!("{m}.")))?;
    let alerts = console.store.alerts(&filter).await?;
    let library = library(&console).await?;
    let views: Vec<AlertView> = alerts.iter().map(|a| view(&console, &library, a)).collect();
    let older = (alerts.len() == PAGE)
        .then(|| alerts.last().map(|a| a.alert.id))
        .flatten();
    let categories: Vec<minijinja::Value> = library
        .categories
        .iter()
        .map(|c| context! { id => &c.id, name => &c.name })
        .chain(std::iter::once(
            context! { id => "repeated-attempts", name => "Repeated blocked attempts" },
        ))
        .collect();
    let layout = Layout::new(&console, Some(&caller), &csrf, "Alerts", "/alerts");
    let body = render(
        "alerts.html",
        &layout,
        context! {
            alerts => Serde(&views),
            query => Serde(&query),
            categories => categories,
            older => older,
        },
    )?;
    Ok(Html(body).into_response())
}

async fn detail_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    alert: &StoredAlert,
    form: &TriageForm,
    errors: &[(&str, String)],
    notice_text: Option<&'static str>,
) -> Result<Response, AppError> {
    let library = library(console).await?;
    let shown = view(console, &library, alert);
    let history: Vec<minijinja::Value> = console
        .store
        .alert_triage_history(alert.alert.id)
        .await?
        .iter()
        .map(|h| {
            context! {
                state => state_label(&h.state),
                actor => &h.actor,
                when => console.show_time(h.at),
                reason => &h.reason,
                concern => h.concern,
            }
        })
        .collect();
    let from = TriageState::from_id(&alert.state).unwrap_or(TriageState::New);
    let choices: Vec<minijinja::Value> = [
        (TriageState::Reviewed, "Reviewed: nothing more to do"),
        (
            TriageState::FalsePositive,
            "False positive: not a worry (give a reason)",
        ),
        (
            TriageState::Escalated,
            "Escalate to a concern (give a reason)",
        ),
    ]
    .into_iter()
    .filter(|(to, _)| from != TriageState::Escalated && *to != from)
    .map(|(to, label)| context! { id => to.id(), label => label })
    .collect();
    let guidance = library
        .category(&alert.alert.category)
        .map(|c| c.guidance.clone());
    let layout = Layout::new(
        console,
        Some(caller),
        csrf,
        &format!("Alert #{}", alert.alert.id),
        "/alerts",
    )
    .notice(notice_text);
    let body = render(
        "alert.html",
        &layout,
        context! {
            a => Serde(&shown),
            history => history,
            choices => choices,
            guidance => guidance,
            form => Serde(form),
            errors => super::form_errors(errors),
        },
    )?;
    Ok(super::reviews::form_page(body, errors.is_empty()))
}

pub async fn detail<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    let alert = find(&console, id).await?;
    detail_page(
        &console,
        &caller,
        &csrf,
        &alert,
        &TriageForm::default(),
        &[],
        notice(&done),
    )
    .await
}

pub async fn triage_form<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Form(form): Form<TriageForm>,
) -> Result<Response, AppError> {
    match triage(&console, &caller, id, &form).await? {
        Ok(alert) => Ok(see_other(
            &format!("/alerts/{id}?done={}", alert.state),
            &[],
        )),
        Err(errors) => {
            let alert = find(&console, id).await?;
            detail_page(&console, &caller, &csrf, &alert, &form, &errors, None).await
        }
    }
}

/// One row of the rates table.
#[derive(Debug, Serialize)]
struct RateRow {
    key: String,
    triaged: u32,
    false_positives: u32,
    /// A whole percentage.
    percent: u32,
}

fn rows(tallies: &std::collections::BTreeMap<String, Tally>) -> Vec<RateRow> {
    tallies
        .iter()
        .map(|(key, t)| RateRow {
            key: key.clone(),
            triaged: t.triaged,
            false_positives: t.false_positives,
            percent: t.rate().map_or(0, |r| (r * 100.0).round() as u32),
        })
        .collect()
}

pub async fn rates<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
) -> Result<Response, AppError> {
    let outcomes = console.store.alert_outcomes().await?;
    let rates = FalsePositiveRates::from_alerts(outcomes.iter().filter_map(|o| {
        Some(Triaged {
            category: &o.category,
            phrase: o.phrase_key.as_deref(),
            state: TriageState::from_id(&o.state)?,
        })
    }));
    let by_category = rows(&rates.by_category);
    let by_phrase = rows(&rates.by_phrase);
    // The noisiest: most false positives, then the highest rate.
    let mut noisiest: Vec<&RateRow> = by_phrase.iter().filter(|r| r.false_positives > 0).collect();
    noisiest.sort_by(|a, b| {
        b.false_positives
            .cmp(&a.false_positives)
            .then(b.percent.cmp(&a.percent))
    });
    noisiest.truncate(10);
    let layout = Layout::new(
        &console,
        Some(&caller),
        &csrf,
        "False-positive rates",
        "/alerts/rates",
    );
    let body = render(
        "alerts_rates.html",
        &layout,
        context! {
            by_category => Serde(&by_category),
            by_phrase => Serde(&by_phrase),
            noisiest => Serde(&noisiest),
        },
    )?;
    Ok(Html(body).into_response())
}

// ---------------------------------------------------------------------------
// The phrase library.

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct LibraryQuery {
    #[serde(default)]
    pub file: String,
}

/// A change to one file of the library.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct LibraryForm {
    #[serde(default)]
    pub file: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub reason: String,
}

fn valid_file_name(name: &str) -> bool {
    name.strip_suffix(".toml").is_some_and(|stem| {
        !stem.is_empty()
            && stem.len() <= 40
            && stem
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    })
}

async fn library_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    form: &LibraryForm,
    errors: &[(&str, String)],
    notice_text: Option<&'static str>,
) -> Result<Response, AppError> {
    let (revision, files) = library_files(console).await?;
    let chosen = if form.file.is_empty() {
        files.first().map(|(n, _)| n.clone()).unwrap_or_default()
    } else {
        form.file.clone()
    };
    let text = if errors.is_empty() {
        files
            .iter()
            .find(|(n, _)| *n == chosen)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    } else {
        form.text.clone()
    };
    let history: Vec<minijinja::Value> = console
        .store
        .phrase_library_history(20)
        .await?
        .iter()
        .map(|r| {
            context! {
                number => r.number,
                actor => &r.actor,
                when => console.show_time(r.at),
                reason => &r.reason,
            }
        })
        .collect();
    let layout = Layout::new(
        console,
        Some(caller),
        csrf,
        "Phrase library",
        "/alerts/library",
    )
    .notice(notice_text);
    let body = render(
        "alerts_library.html",
        &layout,
        context! {
            revision => revision,
            files => files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            chosen => chosen,
            text => text,
            reason => &form.reason,
            history => history,
            errors => super::form_errors(errors),
        },
    )?;
    Ok(super::reviews::form_page(body, errors.is_empty()))
}

pub async fn library_view<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Query(query): Query<LibraryQuery>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    let form = LibraryForm {
        file: query.file,
        ..LibraryForm::default()
    };
    library_page(&console, &caller, &csrf, &form, &[], notice(&done)).await
}

/// Saves one file of the library, if the whole library still reads and
/// compiles; otherwise nothing changes and the problem is named with its
/// file, line and field.
pub async fn library_save<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<LibraryForm>,
) -> Result<Response, AppError> {
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let name = form.file.trim();
    if !valid_file_name(name) {
        errors.push((
            "file",
            "Name the file in small letters, digits and hyphens, ending .toml (for example en.toml)."
                .into(),
        ));
    }
    if form.text.len() > MAX_LIBRARY_FILE {
        errors.push((
            "text",
            "The file is too large; keep it under 512 KB.".into(),
        ));
    }
    if form.reason.trim().is_empty() {
        errors.push((
            "reason",
            "Give a reason for the change. It is kept with the library's history and in the audit trail."
                .into(),
        ));
    } else if form.reason.chars().count() > MAX_REASON {
        errors.push(("reason", "Keep the reason under 4,000 characters.".into()));
    }
    let (_, mut files) = library_files(&console).await?;
    if errors.is_empty() {
        let text = form.text.replace("\r\n", "\n");
        match files.iter_mut().find(|(n, _)| n == name) {
            Some(file) => file.1 = text,
            None => files.push((name.to_owned(), text)),
        }
        match library_from(&files) {
            Ok(library) => {
                if let Err(e) = Matcher::new(library) {
                    errors.push(("text", format!("{e}")));
                }
            }
            Err(e) => errors.push((
                "text",
                format!("{e}. Nothing was saved; correct it and save again."),
            )),
        }
    }
    if !errors.is_empty() {
        return library_page(&console, &caller, &csrf, &form, &errors, None).await;
    }
    console
        .store
        .save_phrase_library(&files, caller.username(), form.reason.trim(), console.now())
        .await?;
    Ok(see_other(
        &format!("/alerts/library?file={}&done=library-saved", encode(name)),
        &[],
    ))
}

/// How many alerts are waiting for triage, for the home page.
pub async fn new_alerts<S: Store>(console: &Console<S>) -> Result<i64, AppError> {
    Ok(console.store.count_alerts("new").await?)
}

// ---------------------------------------------------------------------------
// The JSON API.

/// A page of alerts.
#[derive(Debug, Serialize, Deserialize)]
pub struct AlertsPage {
    pub alerts: Vec<AlertView>,
    /// Pass as `before` for the next page; none on the last page.
    pub older: Option<i64>,
}

/// Alerts, newest first, every state unless `state` narrows it.
pub async fn api_list<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let filter = match filter(&query) {
        Ok(filter) => filter,
        Err(problem) => return Ok(super::reviews::field_errors(vec![problem])),
    };
    let alerts = console.store.alerts(&filter).await?;
    let library = library(&console).await?;
    Ok(Json(AlertsPage {
        older: (alerts.len() == PAGE)
            .then(|| alerts.last().map(|a| a.alert.id))
            .flatten(),
        alerts: alerts.iter().map(|a| view(&console, &library, a)).collect(),
    })
    .into_response())
}

pub async fn api_triage<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Json(form): Json<TriageForm>,
) -> Result<Response, ApiError> {
    match triage(&console, &caller, id, &form).await? {
        Ok(alert) => {
            let library = library(&console).await?;
            Ok(Json(view(&console, &library, &alert)).into_response())
        }
        Err(errors) => Ok(super::reviews::field_errors(errors)),
    }
}

/// OpenAPI operations for the alerts API.
pub fn api_schemas() -> Vec<(&'static str, &'static str, serde_json::Value)> {
    use serde_json::json;
    let error = json!({
        "description": "Refused: not signed in (401), not allowed (403) or no such alert (404).",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
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
    let alert = json!({
        "type": "object",
        "properties": {
            "id": { "type": "integer" },
            "state": { "enum": ["new", "reviewed", "false-positive", "escalated"] },
            "state_label": { "type": "string" },
            "severity": { "type": "integer", "minimum": 1, "maximum": 5 },
            "category": { "type": "string", "description": "The category id (the phrase library's, a filtering category, or repeated-attempts)." },
            "category_label": { "type": "string" },
            "signal": { "enum": ["phrase", "blocked", "repeated", "circumvention"] },
            "signal_label": { "type": "string" },
            "what": { "type": "string", "description": "What happened, in a sentence." },
            "person": { "type": ["string", "null"] },
            "device": { "type": ["string", "null"] },
            "client_ip": { "type": "string" },
            "phrase_key": { "type": ["string", "null"], "description": "category/language/phrase, for phrase alerts." },
            "term": { "type": ["string", "null"], "description": "The search term, for phrase alerts." },
            "url": { "type": ["string", "null"] },
            "first_at": { "type": "string", "format": "date-time" },
            "last_at": { "type": "string", "format": "date-time" },
            "when": { "type": "string" },
            "count": { "type": "integer", "description": "Events folded into the alert, the first included." },
            "routing": { "enum": ["immediate", "out-of-hours", "daily", "weekly"] },
            "routing_label": { "type": "string" },
            "concern": { "type": ["integer", "null"], "description": "The concern it was escalated to." },
            "activity_link": { "type": "string", "description": "The console's activity page around the alert." }
        },
        "required": ["id", "state", "severity", "category", "signal", "what", "client_ip", "first_at", "last_at", "count", "routing", "activity_link"]
    });
    vec![
        (
            "GET",
            "/api/v1/alerts",
            json!({
                "summary": "Monitoring alerts, newest first.",
                "parameters": [
                    { "name": "state", "in": "query", "schema": { "enum": ["new", "reviewed", "false-positive", "escalated"] } },
                    { "name": "category", "in": "query", "schema": { "type": "string" } },
                    { "name": "severity", "in": "query", "description": "This severity or higher.", "schema": { "type": "integer", "minimum": 1, "maximum": 5 } },
                    { "name": "before", "in": "query", "description": "The previous page's `older`.", "schema": { "type": "integer" } }
                ],
                "responses": {
                    "200": { "description": "A page of alerts.", "content": { "application/json": { "schema": {
                        "type": "object",
                        "properties": {
                            "alerts": { "type": "array", "items": alert },
                            "older": { "type": ["integer", "null"] }
                        },
                        "required": ["alerts"]
                    } } } },
                    "401": error, "403": error, "422": field_errors
                }
            }),
        ),
        (
            "POST",
            "/api/v1/alerts/{id}/triage",
            json!({
                "summary": "Records a triage decision; escalating raises a concern with the alert's evidence.",
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object",
                    "properties": {
                        "decision": { "enum": ["reviewed", "false-positive", "escalated"] },
                        "reason": { "type": "string", "description": "Needed for all but a first review." }
                    },
                    "required": ["decision"]
                } } } },
                "responses": {
                    "200": { "description": "The alert after the decision.", "content": { "application/json": { "schema": alert } } },
                    "401": error, "403": error, "404": error, "422": field_errors
                }
            }),
        ),
    ]
}
