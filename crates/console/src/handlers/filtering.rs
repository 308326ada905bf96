//! The filtering policy: the profiles at a glance with the lists in force
//! and the statutory lists' status, one profile's settings, overrides and
//! schedules, the history of every change, and "Test a URL".
//!
//! Administrators and technicians change the policy; the DSL, deputy DSLs
//! and the headteacher see it. Every change needs a reason (§7.3.1: the
//! risk assessment) and is saved as a new revision with its readable
//! difference. Each form carries the revision it was based on, and the
//! store refuses a save made from an older one, so two people editing at
//! once cannot silently overwrite each other. Statutory lists are shown as
//! status only; nothing here, or anywhere, can switch them off.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use bytes::Bytes;
use classify::statutory::StatutoryKind;
use classify::taxonomy::{Category, CategorySet, Group};
use jiff::Timestamp;
use minijinja::context;
use minijinja::value::Serde;
use policy::model::{
    Audience, ClockTime, Day, OverrideList, Profile, SafeSearch, Schedule, SearchLevel,
    YoutubeLevel,
};
use policy::{Explanation, Policy, PolicyError};
use serde::{Deserialize, Serialize};
use store::{PolicyRevision, Store, StoreError};

use super::see_other;
use crate::access::Caller;
use crate::csrf::CsrfKey;
use crate::pages::{Layout, render};
use crate::{AppError, Console, Role};

/// Who may change the policy.
pub const EDITORS: &[Role] = &[Role::Administrator, Role::Technician];
/// Who may see it.
pub const VIEWERS: &[Role] = &[
    Role::Administrator,
    Role::Technician,
    Role::Dsl,
    Role::DeputyDsl,
    Role::Headteacher,
];

/// The label of every reason field (§7.3.1).
pub const REASON_LABEL: &str = "Reason for this change (your risk assessment, §7.3.1)";

/// How many revisions the history page shows.
const HISTORY_SHOWN: usize = 200;

// What the pages show.

#[derive(Debug, Serialize)]
pub struct ProfileSummary {
    pub id: String,
    pub name: String,
    pub audience: &'static str,
    pub description: String,
    pub walled_garden: bool,
    pub blocked: usize,
    pub blocked_names: Vec<&'static str>,
    pub safe_search: String,
    pub block_ip_addresses: bool,
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    pub schedules: Vec<ScheduleSummary>,
}

#[derive(Debug, Serialize)]
pub struct ScheduleSummary {
    pub name: String,
    /// The name as it goes in a link's query.
    pub query: String,
    pub when: String,
    pub allows: Vec<&'static str>,
    pub blocks: Vec<&'static str>,
}

pub fn audience(a: Audience) -> &'static str {
    match a {
        Audience::Pupil => "Pupils",
        Audience::Staff => "Staff",
        Audience::Guest => "Guests",
    }
}

pub fn safe_search_text(s: SafeSearch) -> String {
    let search = match s.search {
        SearchLevel::Enforced => "Safe search enforced",
        SearchLevel::Off => "Safe search off",
    };
    let youtube = match s.youtube {
        YoutubeLevel::Strict => "YouTube strict",
        YoutubeLevel::Moderate => "YouTube moderate",
        YoutubeLevel::Off => "YouTube unrestricted",
    };
    format!("{search}; {youtube}")
}

fn day_id(d: Day) -> &'static str {
    match d {
        Day::Mon => "mon",
        Day::Tue => "tue",
        Day::Wed => "wed",
        Day::Thu => "thu",
        Day::Fri => "fri",
        Day::Sat => "sat",
        Day::Sun => "sun",
    }
}

const DAYS: [(Day, &str); 7] = [
    (Day::Mon, "Monday"),
    (Day::Tue, "Tuesday"),
    (Day::Wed, "Wednesday"),
    (Day::Thu, "Thursday"),
    (Day::Fri, "Friday"),
    (Day::Sat, "Saturday"),
    (Day::Sun, "Sunday"),
];

fn day_from_id(id: &str) -> Option<Day> {
    DAYS.iter().map(|(d, _)| *d).find(|d| day_id(*d) == id)
}

fn days_text(days: &[Day]) -> String {
    if days == Day::WEEKDAYS {
        return "Monday to Friday".to_owned();
    }
    DAYS.iter()
        .filter(|(d, _)| days.contains(d))
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn names(set: CategorySet) -> Vec<&'static str> {
    set.iter().map(Category::name).collect()
}

pub fn summary(p: &Profile) -> ProfileSummary {
    ProfileSummary {
        id: p.id.clone(),
        name: p.name.clone(),
        audience: audience(p.audience),
        description: p.description.clone(),
        walled_garden: p.walled_garden,
        blocked: p.blocked_categories.len(),
        blocked_names: names(p.blocked_categories),
        safe_search: safe_search_text(p.safe_search),
        block_ip_addresses: p.block_ip_addresses,
        allow: p.allow.clone(),
        deny: p.deny.clone(),
        schedules: p
            .schedules
            .iter()
            .map(|s| ScheduleSummary {
                name: s.name.clone(),
                query: form_urlencoded::byte_serialize(s.name.as_bytes()).collect(),
                when: format!("{}, {} to {}", days_text(&s.days), s.from, s.to),
                allows: names(s.allow_categories),
                blocks: names(s.block_categories),
            })
            .collect(),
    }
}

/// A category with its place in the taxonomy, for the checkbox groups.
#[derive(Debug, Serialize)]
struct CategoryView {
    id: &'static str,
    name: &'static str,
    description: &'static str,
    /// In the UK Safer Internet Centre's harmful-content list, which a
    /// school's filter must be able to block.
    mandatory: bool,
}

#[derive(Debug, Serialize)]
struct GroupView {
    id: &'static str,
    name: &'static str,
    categories: Vec<CategoryView>,
}

fn groups() -> Vec<GroupView> {
    Group::all()
        .iter()
        .map(|g| GroupView {
            id: g.id(),
            name: g.name(),
            categories: Category::all()
                .iter()
                .filter(|c| c.group() == *g)
                .map(|c| CategoryView {
                    id: c.id(),
                    name: c.name(),
                    description: c.description(),
                    mandatory: *g == Group::Harmful,
                })
                .collect(),
        })
        .collect()
}

/// A list in force, as the overview shows it.
#[derive(Debug, Serialize)]
pub struct ListView {
    pub name: String,
    pub category: String,
    pub entries: i64,
    pub source: String,
    pub loaded: String,
}

/// A statutory list's status: never its contents.
#[derive(Debug, Serialize)]
pub struct StatutoryView {
    pub kind: &'static str,
    pub name: &'static str,
    pub loaded: bool,
    pub entries: Option<i64>,
    pub fingerprint: Option<String>,
    pub updated: Option<String>,
}

pub async fn lists_in_force<S: Store>(
    console: &Console<S>,
) -> Result<(Vec<ListView>, Vec<StatutoryView>), AppError> {
    let lists = console
        .store
        .lists()
        .await?
        .into_iter()
        .map(|l| ListView {
            category: l
                .category
                .as_deref()
                .and_then(Category::from_id)
                .map_or_else(|| "Several".to_owned(), |c| c.name().to_owned()),
            entries: l.domains + l.urls,
            source: l.source,
            loaded: console.show_time(l.imported_at),
            name: l.name,
        })
        .collect();
    let records = console.store.statutory().await?;
    let statutory = StatutoryKind::ALL
        .iter()
        .map(|kind| {
            let record = records.iter().find(|r| r.kind == kind.id());
            StatutoryView {
                kind: kind.id(),
                name: kind.name(),
                loaded: record.is_some(),
                entries: record.map(|r| r.entries),
                fingerprint: record.map(|r| r.fingerprint.clone()),
                updated: record.map(|r| console.show_time(r.loaded_at)),
            }
        })
        .collect();
    Ok((lists, statutory))
}

/// The policy in force and its revision.
pub async fn current<S: Store>(console: &Console<S>) -> Result<(PolicyRevision, Policy), AppError> {
    let revision = console.store.current_policy().await?.ok_or_else(|| {
        AppError::unavailable(
            "There is no filtering policy yet. A technician can import one with `schoolgate policy import`.",
        )
    })?;
    let policy = revision.policy().map_err(AppError::internal)?;
    Ok((revision, policy))
}

fn can_edit(caller: &Caller) -> bool {
    EDITORS.contains(&caller.role)
}

/// `?saved=N` after a change.
#[derive(Debug, Default, Deserialize)]
pub struct Saved {
    pub saved: Option<i64>,
    /// A schedule to load into the schedule form.
    pub schedule: Option<String>,
}

// GET /policy

pub async fn overview<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
) -> Result<Response, AppError> {
    let (revision, policy) = current(&console).await?;
    let (lists, statutory) = lists_in_force(&console).await?;
    let profiles: Vec<ProfileSummary> = policy.profiles.iter().map(summary).collect();
    let layout = Layout::new(
        &console,
        Some(&caller),
        &csrf,
        "Filtering policy",
        "/policy",
    );
    let body = render(
        "policy.html",
        &layout,
        context! {
            school => &policy.school.name,
            unidentified => &policy.school.unidentified_profile,
            revision => revision.number,
            changed => console.show_time(revision.at),
            changed_by => &revision.actor,
            total_categories => Category::all().len(),
            profiles => Serde(&profiles),
            lists => Serde(&lists),
            statutory => Serde(&statutory),
            can_edit => can_edit(&caller),
        },
    )?;
    Ok(Html(body).into_response())
}

// The profile page and its forms.

/// A form body, with repeated fields (checkboxes) kept.
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Fields {
        Fields(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    pub fn on(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

#[derive(Debug, Default, Serialize)]
struct SettingsForm {
    categories: Vec<String>,
    search: String,
    youtube: String,
    block_ip_addresses: bool,
    walled_garden: bool,
    reason: String,
}

impl SettingsForm {
    fn of(p: &Profile) -> SettingsForm {
        SettingsForm {
            categories: p
                .blocked_categories
                .iter()
                .map(|c| c.id().to_owned())
                .collect(),
            search: search_id(p.safe_search.search).to_owned(),
            youtube: youtube_id(p.safe_search.youtube).to_owned(),
            block_ip_addresses: p.block_ip_addresses,
            walled_garden: p.walled_garden,
            reason: String::new(),
        }
    }
}

fn search_id(s: SearchLevel) -> &'static str {
    match s {
        SearchLevel::Enforced => "enforced",
        SearchLevel::Off => "off",
    }
}

fn youtube_id(y: YoutubeLevel) -> &'static str {
    match y {
        YoutubeLevel::Strict => "strict",
        YoutubeLevel::Moderate => "moderate",
        YoutubeLevel::Off => "off",
    }
}

#[derive(Debug, Default, Serialize)]
struct OverrideForm {
    list: String,
    entry: String,
    reason: String,
}

#[derive(Debug, Default, Serialize)]
struct RemoveForm {
    item: String,
    reason: String,
}

#[derive(Debug, Default, Serialize)]
struct ScheduleForm {
    original: String,
    name: String,
    days: Vec<String>,
    from: String,
    to: String,
    allow: Vec<String>,
    block: Vec<String>,
    reason: String,
}

impl ScheduleForm {
    fn of(s: &Schedule) -> ScheduleForm {
        let ids = |set: CategorySet| set.iter().map(|c| c.id().to_owned()).collect();
        ScheduleForm {
            original: s.name.clone(),
            name: s.name.clone(),
            days: s.days.iter().map(|d| day_id(*d).to_owned()).collect(),
            from: s.from.to_string(),
            to: s.to.to_string(),
            allow: ids(s.allow_categories),
            block: ids(s.block_categories),
            reason: String::new(),
        }
    }
}

/// Everything the profile page's forms hold: what is saved, or what the
/// person sent when it could not be saved (so nothing they typed is lost).
#[derive(Default)]
struct Forms {
    settings: Option<SettingsForm>,
    add_override: OverrideForm,
    remove_override: RemoveForm,
    schedule: Option<ScheduleForm>,
    remove_schedule: RemoveForm,
    /// Which form the errors belong to.
    failed: Option<&'static str>,
    errors: Vec<(&'static str, String)>,
    /// The revision the forms are based on, when not the current one.
    base: Option<i64>,
}

#[allow(clippy::too_many_arguments)]
async fn profile_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    id: &str,
    forms: Forms,
    saved: &Saved,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (revision, policy) = current(console).await?;
    let profile = policy.profile(id).ok_or_else(AppError::not_found)?;
    let settings = forms.settings.unwrap_or_else(|| SettingsForm::of(profile));
    let schedule = forms.schedule.unwrap_or_else(|| {
        saved
            .schedule
            .as_deref()
            .and_then(|name| profile.schedules.iter().find(|s| s.name == name))
            .map(ScheduleForm::of)
            .unwrap_or_else(|| ScheduleForm {
                days: Day::WEEKDAYS
                    .iter()
                    .map(|d| day_id(*d).to_owned())
                    .collect(),
                ..ScheduleForm::default()
            })
    });
    let days: Vec<minijinja::Value> = DAYS
        .iter()
        .map(|(d, name)| context! { id => day_id(*d), name => *name })
        .collect();
    let title = format!("Profile: {}", profile.name);
    let layout = Layout::new(console, Some(caller), csrf, &title, "/policy");
    let body = render(
        "policy_profile.html",
        &layout,
        context! {
            profile => Serde(summary(profile)),
            revision => revision.number,
            base => forms.base.unwrap_or(revision.number),
            saved => saved.saved,
            can_edit => can_edit(caller),
            groups => Serde(groups()),
            days => days,
            settings => Serde(&settings),
            add_override => Serde(&forms.add_override),
            remove_override => Serde(&forms.remove_override),
            schedule => Serde(&schedule),
            remove_schedule => Serde(&forms.remove_schedule),
            failed => forms.failed,
            errors => super::form_errors(&forms.errors),
            reason_label => REASON_LABEL,
        },
    )?;
    Ok((status, Html(body)).into_response())
}

pub async fn profile<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<String>,
    Query(saved): Query<Saved>,
) -> Result<Response, AppError> {
    profile_page(
        &console,
        &caller,
        &csrf,
        &id,
        Forms::default(),
        &saved,
        StatusCode::OK,
    )
    .await
}

/// What became of a change.
pub enum Outcome {
    Saved(PolicyRevision),
    /// Refused, with what to tell the person, by field; and for a stale
    /// base, the newest revision.
    Refused {
        errors: Vec<(&'static str, String)>,
        newest: Option<i64>,
        status: StatusCode,
    },
}

/// Where a policy error belongs among a form's fields.
pub fn policy_error_field(
    e: &PolicyError,
    fields: &[(&str, &'static str)],
    default: &'static str,
) -> &'static str {
    let place = match e {
        PolicyError::Invalid { place, .. } => place.as_str(),
        _ => "",
    };
    fields
        .iter()
        .find(|(marker, _)| place.contains(marker))
        .map_or(default, |(_, field)| field)
}

/// Checks a changed policy the way `schoolgate policy import` does (valid,
/// and compiles) and saves it from revision `base` with the reason.
pub async fn save_change<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    policy: &Policy,
    base: i64,
    reason: &str,
    reason_field: &'static str,
    place_field: impl Fn(&PolicyError) -> &'static str,
) -> Result<Outcome, AppError> {
    let refused = |field: &'static str, message: String| Outcome::Refused {
        errors: vec![(field, message)],
        newest: None,
        status: StatusCode::BAD_REQUEST,
    };
    if let Err(e) = policy.validate().and_then(|()| {
        policy::Engine::new(policy.clone(), Arc::new(policy::Lists::default())).map(|_| ())
    }) {
        return Ok(refused(place_field(&e), e.to_string()));
    }
    match console
        .store
        .save_policy_on(policy, caller.username(), reason, base)
        .await
    {
        Ok(revision) => Ok(Outcome::Saved(revision)),
        Err(StoreError::ReasonRequired) => Ok(refused(
            reason_field,
            "Give a reason for this change: your risk assessment of it (§7.3.1). Nothing was saved.".into(),
        )),
        Err(StoreError::NoChange) => Ok(refused(
            reason_field,
            "Nothing would change: the policy already says this. Nothing was saved.".into(),
        )),
        Err(StoreError::StaleRevision { current, .. }) => Ok(Outcome::Refused {
            errors: vec![(
                reason_field,
                format!(
                    "Someone else changed the policy (now revision {current}) after you opened this page, so your change was not saved. \
                     Your entries are still in the form. Check the newest settings on this page, then save again if your change is still right."
                ),
            )],
            newest: Some(current),
            status: StatusCode::CONFLICT,
        }),
        Err(e) => Err(e.into()),
    }
}

fn base_of(fields: &Fields) -> Option<i64> {
    fields.get("base").parse().ok()
}

/// The profile's position, or not found.
fn profile_index(policy: &Policy, id: &str) -> Result<usize, AppError> {
    policy
        .profiles
        .iter()
        .position(|p| p.id == id)
        .ok_or_else(AppError::not_found)
}

fn categories(
    ids: &[String],
    field: &'static str,
    errors: &mut Vec<(&'static str, String)>,
) -> CategorySet {
    let mut set = CategorySet::new();
    for id in ids {
        match Category::from_id(id) {
            Some(c) => {
                set.insert(c);
            }
            None => errors.push((
                field,
                format!("'{id}' is not one of schoolgate's categories."),
            )),
        }
    }
    set
}

/// What one of the profile page's forms asks for: the changed policy (or
/// what is wrong), and the form as sent, to show again if it is refused.
struct FormChange {
    forms: Forms,
    /// Which form: `settings`, `override`, `remove-override`, `schedule`
    /// or `remove-schedule`; its reason field is `FORM-reason`.
    form: &'static str,
    change: Result<Policy, Vec<(&'static str, String)>>,
    /// Where a problem the whole policy's check finds is shown.
    place_field: fn(&PolicyError) -> &'static str,
}

/// Runs a profile form: reads it, builds the change on the policy in
/// force, and saves it with its reason from the revision the form was
/// based on; or shows the page again with what went wrong and everything
/// the person sent.
async fn change_profile<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    id: &str,
    body: &[u8],
    build: fn(&Fields, &Policy, usize) -> FormChange,
) -> Result<Response, AppError> {
    let fields = Fields::parse(body);
    let (_, policy) = current(console).await?;
    let index = profile_index(&policy, id)?;
    let FormChange {
        mut forms,
        form,
        change,
        place_field,
    } = build(&fields, &policy, index);
    let reason_field = match form {
        "settings" => "settings-reason",
        "override" => "override-reason",
        "remove-override" => "remove-override-reason",
        "schedule" => "schedule-reason",
        _ => "remove-schedule-reason",
    };
    let reason = fields.get("reason");
    let mut errors = match &change {
        Ok(_) => Vec::new(),
        Err(errors) => errors.clone(),
    };
    if reason.is_empty() {
        errors.push((
            reason_field,
            "Give a reason for this change: your risk assessment of it (§7.3.1). Nothing was saved.".into(),
        ));
    }
    let base = base_of(&fields);
    if base.is_none() {
        errors.push((
            reason_field,
            "This form did not say which revision it was based on. Reload the page and make the change again.".into(),
        ));
    }
    let mut status = StatusCode::BAD_REQUEST;
    forms.base = base;
    if let (Ok(policy), true, Some(base)) = (&change, errors.is_empty(), base) {
        match save_change(
            console,
            caller,
            policy,
            base,
            &reason,
            reason_field,
            place_field,
        )
        .await?
        {
            Outcome::Saved(revision) => {
                return Ok(see_other(
                    &format!("/policy/profiles/{id}?saved={}", revision.number),
                    &[],
                ));
            }
            Outcome::Refused {
                errors: e,
                newest,
                status: s,
            } => {
                errors = e;
                status = s;
                forms.base = newest.or(Some(base));
            }
        }
    }
    forms.failed = Some(form);
    forms.errors = errors;
    profile_page(console, caller, csrf, id, forms, &Saved::default(), status).await
}

macro_rules! profile_form {
    ($(#[$doc:meta])* $name:ident, $build:ident) => {
        $(#[$doc])*
        pub async fn $name<S: Store>(
            State(console): State<Arc<Console<S>>>,
            Extension(caller): Extension<Caller>,
            Extension(csrf): Extension<CsrfKey>,
            Path(id): Path<String>,
            body: Bytes,
        ) -> Result<Response, AppError> {
            change_profile(&console, &caller, &csrf, &id, &body, $build).await
        }
    };
}

profile_form!(
    /// POST /policy/profiles/{id}/settings
    save_settings,
    settings_change
);
profile_form!(
    /// POST /policy/profiles/{id}/overrides
    add_override,
    add_override_change
);
profile_form!(
    /// POST /policy/profiles/{id}/overrides/remove
    remove_override,
    remove_override_change
);
profile_form!(
    /// POST /policy/profiles/{id}/schedules
    save_schedule,
    schedule_change
);
profile_form!(
    /// POST /policy/profiles/{id}/schedules/remove
    remove_schedule,
    remove_schedule_change
);

fn settings_change(fields: &Fields, policy: &Policy, index: usize) -> FormChange {
    let form = SettingsForm {
        categories: fields.all("category"),
        search: fields.get("search"),
        youtube: fields.get("youtube"),
        block_ip_addresses: fields.on("block_ip_addresses"),
        walled_garden: fields.on("walled_garden"),
        reason: fields.get("reason"),
    };
    let mut errors = Vec::new();
    let blocked = categories(&form.categories, "settings-categories", &mut errors);
    let search = match form.search.as_str() {
        "enforced" => Some(SearchLevel::Enforced),
        "off" => Some(SearchLevel::Off),
        _ => None,
    };
    let youtube = match form.youtube.as_str() {
        "strict" => Some(YoutubeLevel::Strict),
        "moderate" => Some(YoutubeLevel::Moderate),
        "off" => Some(YoutubeLevel::Off),
        _ => None,
    };
    if search.is_none() {
        errors.push((
            "settings-search",
            "Choose whether safe search is enforced.".into(),
        ));
    }
    if youtube.is_none() {
        errors.push(("settings-youtube", "Choose a YouTube restriction.".into()));
    }
    let change = match (search, youtube) {
        (Some(search), Some(youtube)) if errors.is_empty() => {
            let mut changed = policy.clone();
            let p = &mut changed.profiles[index];
            p.blocked_categories = blocked;
            p.safe_search = SafeSearch { search, youtube };
            p.block_ip_addresses = form.block_ip_addresses;
            p.walled_garden = form.walled_garden;
            Ok(changed)
        }
        _ => Err(errors),
    };
    FormChange {
        forms: Forms {
            settings: Some(form),
            ..Forms::default()
        },
        form: "settings",
        change,
        place_field: |e| {
            policy_error_field(
                e,
                &[(".walled_garden", "settings-walled_garden")],
                "settings-categories",
            )
        },
    }
}

fn override_list(text: &str) -> Option<OverrideList> {
    match text {
        "allow" => Some(OverrideList::Allow),
        "deny" => Some(OverrideList::Deny),
        _ => None,
    }
}

/// The problem alone, without the place (a form names its own field).
fn problem(e: &PolicyError) -> String {
    match e {
        PolicyError::Invalid { problem, .. } => problem.clone(),
        e => e.to_string(),
    }
}

fn add_override_change(fields: &Fields, policy: &Policy, index: usize) -> FormChange {
    let form = OverrideForm {
        list: fields.get("list"),
        entry: fields.get("entry"),
        reason: fields.get("reason"),
    };
    let id = &policy.profiles[index].id;
    let change = match override_list(&form.list) {
        None => Err(vec![(
            "override-list",
            "Choose whether the site is always allowed or always blocked.".to_owned(),
        )]),
        Some(list) => policy
            .with_override(id, list, &form.entry)
            .map_err(|e| vec![("override-entry", format!("Site or page: {}", problem(&e)))]),
    };
    FormChange {
        forms: Forms {
            add_override: form,
            ..Forms::default()
        },
        form: "override",
        change,
        place_field: |_| "override-entry",
    }
}

fn remove_override_change(fields: &Fields, policy: &Policy, index: usize) -> FormChange {
    let form = RemoveForm {
        item: fields.get("item"),
        reason: fields.get("reason"),
    };
    let id = &policy.profiles[index].id;
    let change = match form
        .item
        .split_once(' ')
        .and_then(|(list, entry)| Some((override_list(list)?, entry)))
    {
        None => Err(vec![(
            "remove-override-item",
            "Choose the entry to remove.".to_owned(),
        )]),
        Some((list, entry)) => policy
            .without_override(id, list, entry)
            .map_err(|e| vec![("remove-override-item", problem(&e))]),
    };
    FormChange {
        forms: Forms {
            remove_override: form,
            ..Forms::default()
        },
        form: "remove-override",
        change,
        place_field: |_| "remove-override-item",
    }
}

fn schedule_change(fields: &Fields, policy: &Policy, index: usize) -> FormChange {
    let form = ScheduleForm {
        original: fields.get("original"),
        name: fields.get("name"),
        days: fields.all("day"),
        from: fields.get("from"),
        to: fields.get("to"),
        allow: fields.all("allow"),
        block: fields.all("block"),
        reason: fields.get("reason"),
    };
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let schedules = &policy.profiles[index].schedules;
    if form.name.is_empty() {
        errors.push((
            "schedule-name",
            "Give the time window a name, such as Lunch.".into(),
        ));
    } else if form.name != form.original && schedules.iter().any(|s| s.name == form.name) {
        errors.push((
            "schedule-name",
            format!(
                "This profile already has a time window called {}; choose another name.",
                form.name
            ),
        ));
    }
    if !form.original.is_empty() && !schedules.iter().any(|s| s.name == form.original) {
        errors.push((
            "schedule-name",
            format!(
                "The time window {} is no longer in this profile; someone may have removed it.",
                form.original
            ),
        ));
    }
    let mut days = Vec::new();
    for d in &form.days {
        match day_from_id(d) {
            Some(day) => days.push(day),
            None => errors.push(("schedule-days", format!("'{d}' is not a day of the week."))),
        }
    }
    if days.is_empty() {
        errors.push(("schedule-days", "Choose at least one day.".into()));
    }
    let from = form.from.parse::<ClockTime>();
    let to = form.to.parse::<ClockTime>();
    if let Err(e) = &from {
        errors.push(("schedule-from", format!("From: {e}.")));
    }
    if let Err(e) = &to {
        errors.push(("schedule-to", format!("To: {e}.")));
    }
    let allow = categories(&form.allow, "schedule-allow", &mut errors);
    let block = categories(&form.block, "schedule-block", &mut errors);
    let change = match (from, to) {
        (Ok(from), Ok(to)) if errors.is_empty() => {
            let schedule = Schedule {
                name: form.name.clone(),
                days,
                from,
                to,
                allow_categories: allow,
                block_categories: block,
            };
            let mut changed = policy.clone();
            let list = &mut changed.profiles[index].schedules;
            match list
                .iter_mut()
                .find(|s| !form.original.is_empty() && s.name == form.original)
            {
                Some(existing) => *existing = schedule,
                None => list.push(schedule),
            }
            Ok(changed)
        }
        _ => Err(errors),
    };
    FormChange {
        forms: Forms {
            schedule: Some(form),
            ..Forms::default()
        },
        form: "schedule",
        change,
        place_field: |e| policy_error_field(e, &[(".days", "schedule-days")], "schedule-from"),
    }
}

fn remove_schedule_change(fields: &Fields, policy: &Policy, index: usize) -> FormChange {
    let form = RemoveForm {
        item: fields.get("item"),
        reason: fields.get("reason"),
    };
    let mut changed = policy.clone();
    let schedules = &mut changed.profiles[index].schedules;
    let before = schedules.len();
    schedules.retain(|s| s.name != form.item);
    let change = if schedules.len() == before {
        Err(vec![(
            "remove-schedule-item",
            "Choose the time window to remove.".to_owned(),
        )])
    } else {
        Ok(changed)
    };
    FormChange {
        forms: Forms {
            remove_schedule: form,
            ..Forms::default()
        },
        form: "remove-schedule",
        change,
        place_field: |_| "remove-schedule-item",
    }
}

// GET /policy/history and /policy/history/{number}

#[derive(Debug, Serialize)]
struct RevisionView {
    number: i64,
    at: String,
    actor: String,
    reason: String,
    changes: Vec<String>,
}

fn revision_view<S: Store>(console: &Console<S>, r: &PolicyRevision) -> RevisionView {
    RevisionView {
        number: r.number,
        at: console.show_time(r.at),
        actor: r.actor.clone(),
        reason: r.reason.clone(),
        changes: r.changes.clone(),
    }
}

pub async fn history<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
) -> Result<Response, AppError> {
    let revisions: Vec<RevisionView> = console
        .store
        .policy_history(HISTORY_SHOWN)
        .await?
        .iter()
        .map(|r| revision_view(&console, r))
        .collect();
    let layout = Layout::new(
        &console,
        Some(&caller),
        &csrf,
        "Policy history",
        "/policy/history",
    );
    let body = render(
        "policy_history.html",
        &layout,
        context! {
            revisions => Serde(&revisions),
            limit => HISTORY_SHOWN,
        },
    )?;
    Ok(Html(body).into_response())
}

pub async fn revision<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(number): Path<String>,
) -> Result<Response, AppError> {
    let number: i64 = number.parse().map_err(|_| AppError::not_found())?;
    let revision = console
        .store
        .policy_revision(number)
        .await?
        .ok_or_else(AppError::not_found)?;
    let newest = console.store.current_policy().await?.map(|r| r.number);
    let title = format!("Policy revision {number}");
    let layout = Layout::new(&console, Some(&caller), &csrf, &title, "/policy/history");
    let body = render(
        "policy_revision.html",
        &layout,
        context! {
            revision => Serde(revision_view(&console, &revision)),
            document => &revision.document,
            in_force => newest == Some(number),
        },
    )?;
    Ok(Html(body).into_response())
}

// GET /policy/test

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct TestQuery {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub profile: String,
    #[serde(default)]
    pub person: String,
    #[serde(default)]
    pub at: String,
}

/// An explanation as the console shows it: a statutory verdict names only
/// the list, never an entry.
#[derive(Debug, Serialize)]
pub struct VerdictView {
    pub verdict: &'static str,
    pub verdict_text: &'static str,
    pub profile: String,
    /// Whose profile it was, when asked for a person.
    pub person: Option<String>,
    pub at: String,
    pub rule: String,
    pub reason: String,
    pub categories: Vec<&'static str>,
    pub matches: Vec<policy::engine::ExplainedMatch>,
    pub statutory: bool,
    pub block_text: Option<&'static str>,
    pub safe_search_host: Option<&'static str>,
}

pub fn verdict_view(e: Explanation, person: Option<String>, at: String) -> VerdictView {
    let statutory = e.rule.starts_with("statutory:");
    VerdictView {
        verdict: e.verdict,
        verdict_text: match e.verdict {
            "block" => "Blocked",
            "safe-search" => "Allowed, with safe search enforced",
            _ => "Allowed",
        },
        profile: e.profile,
        person,
        at,
        rule: e.rule,
        reason: e.reason,
        categories: if statutory {
            Vec::new()
        } else {
            e.categories
                .iter()
                .filter_map(|id| Category::from_id(id))
                .map(Category::name)
                .collect()
        },
        // §: statutory lists are shown only as "it is on the list".
        matches: if statutory { Vec::new() } else { e.matches },
        statutory,
        block_text: e.block_text,
        safe_search_host: e.safe_search_host,
    }
}

/// Which profile a test is for: the one named, or a person's.
pub async fn profile_for_test<S: Store>(
    console: &Console<S>,
    policy: &Policy,
    profile: &str,
    person: &str,
) -> Result<(String, Option<String>), (&'static str, String)> {
    match (profile.trim(), person.trim()) {
        ("", "") => Err((
            "profile",
            "Choose a profile, or give a person's username.".into(),
        )),
        (p, u) if !p.is_empty() && !u.is_empty() => Err((
            "profile",
            "Choose a profile or give a person, not both.".into(),
        )),
        (p, _) if !p.is_empty() => match policy.profile(p) {
            Some(_) => Ok((p.to_owned(), None)),
            None => Err(("profile", format!("There is no profile '{p}'."))),
        },
        (_, u) => {
            let people = console.store.people().await.map_err(|e| {
                (
                    "person",
                    format!("The list of people could not be read: {e}"),
                )
            })?;
            let found = people.iter().find(|p| p.username.eq_ignore_ascii_case(u));
            match found {
                None => Err((
                    "person",
                    format!(
                        "There is no person with the username '{u}'. Check the spelling on the people page."
                    ),
                )),
                // A leaver is filtered as someone unknown.
                Some(p) if p.disabled => Ok((
                    policy.school.unidentified_profile.clone(),
                    Some(format!(
                        "{} ({}) is disabled, so they are filtered as someone unknown",
                        p.display_name, p.username
                    )),
                )),
                Some(p) => Ok((
                    p.profile.clone(),
                    Some(format!("{} ({})", p.display_name, p.username)),
                )),
            }
        }
    }
}

/// A time as typed: RFC 3339, or a date and time in the school's time zone
/// (`2026-11-18T12:15`, as a browser's date-and-time box sends it).
pub fn parse_time<S: Store>(console: &Console<S>, text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(console.now());
    }
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at);
    }
    text.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(console.time_zone()).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| {
            format!("'{text}' is not a date and time; write it like 2026-11-18 12:15, or leave it empty for now")
        })
}

pub async fn test_url<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Query(query): Query<TestQuery>,
) -> Result<Response, AppError> {
    let (_, policy) = current(&console).await?;
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let mut result = None;
    let available = console.checker().is_some();
    let asked =
        !query.url.trim().is_empty() || !query.profile.is_empty() || !query.person.is_empty();
    if asked && available {
        if query.url.trim().is_empty() {
            errors.push((
                "url",
                "Enter the address to test, such as www.example.com.".into(),
            ));
        }
        let at = parse_time(&console, &query.at)
            .map_err(|e| errors.push(("at", e)))
            .ok();
        let chosen = profile_for_test(&console, &policy, &query.profile, &query.person)
            .await
            .map_err(|e| errors.push(e))
            .ok();
        if let (Some((profile, person)), Some(at), Some(checker), true) =
            (chosen, at, console.checker(), errors.is_empty())
        {
            match checker.check(&query.url, &profile, at) {
                Ok(explanation) => {
                    result = Some(verdict_view(explanation, person, console.show_time(at)))
                }
                Err(e) => errors.push(("url", e)),
            }
        }
    }
    let profiles: Vec<minijinja::Value> = policy
        .profiles
        .iter()
        .map(|p| context! { id => &p.id, name => &p.name })
        .collect();
    let layout = Layout::new(&console, Some(&caller), &csrf, "Test a URL", "/policy/test");
    let body = render(
        "policy_test.html",
        &layout,
        context! {
            available => available,
            form => Serde(&query),
            profiles => profiles,
            result => Serde(&result),
            errors => super::form_errors(&errors),
        },
    )?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok((status, Html(body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_is_in_exactly_one_group_and_harmful_ones_are_marked() {
        let all: usize = groups().iter().map(|g| g.categories.len()).sum();
        assert_eq!(all, Category::all().len());
        let harmful = groups()
            .into_iter()
            .find(|g| g.id == "harmful")
            .expect("harmful");
        assert!(harmful.categories.iter().all(|c| c.mandatory));
        assert!(harmful.categories.iter().any(|c| c.id == "gambling"));
    }

    #[test]
    fn repeated_fields_are_all_kept() {
        let f = Fields::parse(b"category=gambling&category=dating&reason=+why+&walled_garden=on");
        assert_eq!(f.all("category"), ["gambling", "dating"]);
        assert_eq!(f.get("reason"), "why");
        assert!(f.on("walled_garden"));
        assert!(!f.on("block_ip_addresses"));
    }

    #[test]
    fn days_read_as_people_say_them() {
        assert_eq!(days_text(&Day::WEEKDAYS), "Monday to Friday");
        assert_eq!(days_text(&[Day::Sat, Day::Mon]), "Monday, Saturday");
    }
}
