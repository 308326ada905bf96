//! The policy's registers in the console (issue 6, "Registers"): confiscated
//! devices (§9.2), acceptable use agreements and who has not accepted the
//! version in force (§7.2), staff training with its overdue list (§5.3) and
//! the filtering and monitoring check log. Entries are checked by
//! `records::registers` and stored append-only; a release or a new version
//! is a new entry, never a change to an old one.
//!
//! Who reaches which register is in the route table: confiscations name
//! pupils and why their phone was taken, so never technicians or
//! governors; technicians see the filtering check log only.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use jiff::Timestamp;
use jiff::civil::Date;
use minijinja::context;
use minijinja::value::Value;
use records::RecordsError;
use records::registers::{
    Audience, ConsentKind, Entry, Register, RegisterEntry, ReleasedTo, access_reviews_due,
    awaiting_receipt, consent, current_aup, filtering_check_overdue, not_accepted, on_loan,
    reviews_overdue, still_held, technology_attention, training_expires, training_overdue,
};
use serde::Deserialize;
use store::{Store, StoreError};

use super::records::{Done, records_role, status_for, username_from};
use super::see_other;
use crate::access::Caller;
use crate::csrf::CsrfKey;
use crate::pages::{Layout, error_page, render};
use crate::{AppError, Console, Role};

/// Confiscated devices: whoever confiscates (any staff but technicians)
/// and the safeguarding leads. Administrators are not given it: it names
/// pupils and why their device was taken.
pub const CONFISCATIONS: &[Role] = &[Role::Dsl, Role::DeputyDsl, Role::Headteacher, Role::Staff];
/// Acceptable use and training: the leaders who keep them.
pub const LEADERS: &[Role] = &[
    Role::Administrator,
    Role::Dsl,
    Role::DeputyDsl,
    Role::Headteacher,
];
/// The filtering and monitoring check log: technicians run the checks.
pub const CHECKS: &[Role] = &[
    Role::Administrator,
    Role::Technician,
    Role::Dsl,
    Role::DeputyDsl,
    Role::Headteacher,
];

/// The technical registers (equipment loans, technology and apps, system
/// access): kept by technicians and administrators, read by the leaders
/// too. They name staff and pupils, so never governors.
pub const TECHNICAL: &[Role] = CHECKS;

/// Who adds to a register, where the records crate allows fewer than read
/// it: versions of an agreement (not deputies), loans and system access
/// (Appendix 3: agreed by the headteacher and the computing lead), and the
/// technology register (not deputies).
pub const AUP_VERSION_WRITERS: &[Role] = &[Role::Administrator, Role::Dsl, Role::Headteacher];
pub const LOAN_WRITERS: &[Role] = &[Role::Administrator, Role::Technician, Role::Headteacher];
pub const TECHNOLOGY_WRITERS: &[Role] = &[
    Role::Administrator,
    Role::Technician,
    Role::Dsl,
    Role::Headteacher,
];

/// The course every member of staff renews each year (§5.3).
const ANNUAL_COURSE: &str = "Safeguarding and online safety update";
/// A filtering check is overdue when none was logged in this many days.
const CHECK_EVERY_DAYS: i64 = 30;

fn today(console: &Console<impl Store>) -> Date {
    console
        .now()
        .to_zoned(console.settings.time_zone.clone())
        .date()
}

fn show(console: &Console<impl Store>, at: Timestamp) -> String {
    console.show_time(at)
}

fn parse_date(text: &str) -> Option<Date> {
    text.trim().parse().ok()
}

/// Stores an entry: its number, or the register's refusal.
async fn add<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    entry: Entry,
) -> Result<Result<i64, RecordsError>, AppError> {
    let stored = RegisterEntry {
        id: 0,
        actor: caller.username().to_owned(),
        role: records_role(caller.role),
        at: console.now(),
        entry,
    };
    match console.store.add_register_entry(&stored).await {
        Ok(id) => Ok(Ok(id)),
        Err(StoreError::Records(e)) => Ok(Err(e)),
        Err(e) => Err(e.into()),
    }
}

/// After a form: back to the register, or its page again with the refusal.
async fn outcome<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    register: Register,
    result: Result<i64, RecordsError>,
    done: &str,
) -> Result<Response, AppError> {
    match result {
        Ok(_) => Ok(see_other(
            &format!("/registers/{}?done={done}", register.id()),
            &[],
        )),
        Err(RecordsError::NotAllowed(m)) => Ok((
            StatusCode::FORBIDDEN,
            Html(error_page(StatusCode::FORBIDDEN, &m)),
        )
            .into_response()),
        Err(e) => page(console, caller, csrf, register, None, Some(e.to_string())).await,
    }
}

/// Renders one register's page.
async fn page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    register: Register,
    notice: Option<&'static str>,
    problem: Option<String>,
) -> Result<Response, AppError> {
    let entries = console.store.register_entries(register).await?;
    let (title, template, values) = match register {
        Register::ConfiscatedDevices => (
            "Confiscated devices",
            "registers_confiscated.html",
            confiscations(console, &entries).await?,
        ),
        Register::AcceptableUse => (
            "Acceptable use agreements",
            "registers_aup.html",
            acceptable_use(console, &entries).await?,
        ),
        Register::Training => (
            "Staff training",
            "registers_training.html",
            training(console, &entries).await?,
        ),
        Register::FilteringChecks => (
            "Filtering and monitoring checks",
            "registers_checks.html",
            checks(console, &entries),
        ),
        Register::EquipmentLoans => (
            "Equipment loans",
            "registers_loans.html",
            loans(console, &entries),
        ),
        Register::Technology => (
            "Technology and apps",
            "registers_technology.html",
            technology(console, &entries),
        ),
        Register::SystemAccess => (
            "Access to systems",
            "registers_access.html",
            system_access(console, &entries),
        ),
        Register::PolicyReviews => (
            "Policy reviews",
            "registers_reviews.html",
            policy_reviews(&entries, console.now()),
        ),
        Register::ParentalConsents => (
            "Parental consents",
            "registers_consents.html",
            consents(console, &entries).await?,
        ),
        Register::FileTransfers => (
            "Child-protection file transfers",
            "registers_transfers.html",
            transfers(console, &entries),
        ),
    };
    let path = format!("/registers/{}", register.id());
    let layout = Layout::new(console, Some(caller), csrf, title, &path).notice(notice);
    let status = status_for(&problem);
    let body = render(
        template,
        &layout,
        context! { problem => problem, today => today(console).to_string(), ..values },
    )?;
    Ok((status, Html(body)).into_response())
}

/// The list of people the pupil picker offers.
async fn pupils<S: Store>(console: &Console<S>) -> Result<Vec<Value>, AppError> {
    let mut people = console.store.people().await?;
    people.retain(|p| !p.disabled);
    people.sort_by(|a, b| a.display_name.cmp(&b.display_name));
    Ok(people
        .iter()
        .map(|p| context! { value => format!("{} ({})", p.display_name, p.username) })
        .collect())
}

/// Staff: the console's active accounts, by username.
async fn staff<S: Store>(console: &Console<S>) -> Result<Vec<(String, String)>, AppError> {
    Ok(console
        .store
        .console_accounts()
        .await?
        .into_iter()
        .filter(|a| !a.disabled)
        .map(|a| (a.username, a.display_name))
        .collect())
}

// ---------------------------------------------------------------------
// Confiscated devices (§9.2).

async fn confiscations<S: Store>(
    console: &Console<S>,
    entries: &[RegisterEntry],
) -> Result<Value, AppError> {
    let people = console.store.people().await?;
    let pupil_name = |u: &str| {
        people
            .iter()
            .find(|p| p.username == u)
            .map_or_else(|| u.to_owned(), |p| format!("{} ({u})", p.display_name))
    };
    let held_ids: Vec<i64> = still_held(entries, None)
        .iter()
        .map(|(id, _)| *id)
        .collect();
    let today_held: Vec<i64> = still_held(entries, Some(today(console)))
        .iter()
        .map(|(id, _)| *id)
        .collect();
    let release_of = |id: i64| {
        entries.iter().find_map(|e| match &e.entry {
            Entry::Release { confiscation, to } if *confiscation == id => Some((e, to)),
            _ => None,
        })
    };
    let rows: Vec<Value> = entries
        .iter()
        .rev()
        .filter_map(|e| match &e.entry {
            Entry::Confiscation {
                device,
                pupil,
                taken_by,
                why,
                held_at,
            } => {
                let released = release_of(e.id).map(|(r, to)| {
                    let to = match to {
                        ReleasedTo::Parent { name } => format!("a parent or carer, {name}"),
                        ReleasedTo::Pupil => "the pupil".to_owned(),
                        ReleasedTo::Police { reference } => {
                            format!("the police, reference {reference}")
                        }
                    };
                    format!("Released to {to} by {} on {}", r.actor, show(console, r.at))
                });
                Some(context! {
                    id => e.id,
                    device => device,
                    pupil => pupil_name(pupil),
                    taken_by => taken_by,
                    why => why,
                    held_at => held_at,
                    at => show(console, e.at),
                    held => held_ids.contains(&e.id),
                    released => released,
                })
            }
            _ => None,
        })
        .collect();
    Ok(context! {
        rows => rows,
        held_today => today_held.len(),
        people => pupils(console).await?,
    })
}

#[derive(Debug, Deserialize)]
pub struct ConfiscationForm {
    #[serde(default)]
    pupil: String,
    #[serde(default)]
    device: String,
    #[serde(default)]
    taken_by: String,
    #[serde(default)]
    why: String,
    #[serde(default)]
    held_at: String,
}

pub async fn confiscate<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<ConfiscationForm>,
) -> Result<Response, AppError> {
    let taken_by =
        super::optional(&form.taken_by).unwrap_or_else(|| caller.account.display_name.clone());
    // The pupil as the people register names them, never as typed.
    let pupil = match super::records::find_pupil(&console, &form.pupil).await? {
        Ok(p) => p,
        Err(problem) => {
            let register = Register::ConfiscatedDevices;
            return page(&console, &caller, &csrf, register, None, Some(problem)).await;
        }
    };
    let entry = Entry::Confiscation {
        device: form.device.trim().to_owned(),
        pupil: pupil.username,
        taken_by,
        why: form.why.trim().to_owned(),
        held_at: form.held_at.trim().to_owned(),
    };
    let result = add(&console, &caller, entry).await?;
    outcome(
        &console,
        &caller,
        &csrf,
        Register::ConfiscatedDevices,
        result,
        "saved",
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct ReleaseForm {
    /// `parent`, `pupil` or `police`.
    #[serde(default)]
    to: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    reference: String,
}

pub async fn release<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Form(form): Form<ReleaseForm>,
) -> Result<Response, AppError> {
    let to = match form.to.as_str() {
        "parent" => ReleasedTo::Parent {
            name: form.name.trim().to_owned(),
        },
        "pupil" => ReleasedTo::Pupil,
        "police" => ReleasedTo::Police {
            reference: form.reference.trim().to_owned(),
        },
        _ => {
            let problem = "Choose who the device was given to.".to_owned();
            return page(
                &console,
                &caller,
                &csrf,
                Register::ConfiscatedDevices,
                None,
                Some(problem),
            )
            .await;
        }
    };
    let entry = Entry::Release {
        confiscation: id,
        to,
    };
    let result = add(&console, &caller, entry).await?;
    outcome(
        &console,
        &caller,
        &csrf,
        Register::ConfiscatedDevices,
        result,
        "released",
    )
    .await
}

// ---------------------------------------------------------------------
// Acceptable use agreements (§7.2).

fn audience_id(a: Audience) -> &'static str {
    match a {
        Audience::Staff => "staff",
        Audience::Pupil => "pupil",
        Audience::Visitor => "visitor",
    }
}

fn audience_label(a: Audience) -> &'static str {
    match a {
        Audience::Staff => "Staff",
        Audience::Pupil => "Pupils",
        Audience::Visitor => "Visitors",
    }
}

fn audience(id: &str) -> Option<Audience> {
    [Audience::Staff, Audience::Pupil, Audience::Visitor]
        .into_iter()
        .find(|a| audience_id(*a) == id)
}

async fn acceptable_use<S: Store>(
    console: &Console<S>,
    entries: &[RegisterEntry],
) -> Result<Value, AppError> {
    let now = console.now();
    let staff = staff(console).await?;
    let staff_names: Vec<String> = staff.iter().map(|(u, _)| u.clone()).collect();
    let mut people = console.store.people().await?;
    people.retain(|p| !p.disabled);
    let pupil_names: Vec<String> = people.iter().map(|p| p.username.clone()).collect();
    let name_of = |u: &str| -> String {
        staff
            .iter()
            .find(|(s, _)| s == u)
            .map(|(_, n)| n.clone())
            .or_else(|| {
                people
                    .iter()
                    .find(|p| p.username == u)
                    .map(|p| p.display_name.clone())
            })
            .map_or_else(|| u.to_owned(), |n| format!("{n} ({u})"))
    };
    let audiences: Vec<Value> = [Audience::Staff, Audience::Pupil, Audience::Visitor]
        .into_iter()
        .map(|a| {
            let versions: Vec<Value> = entries
                .iter()
                .filter_map(|e| match &e.entry {
                    Entry::AupVersion {
                        audience,
                        version,
                        in_force_from,
                        ..
                    } if *audience == a => Some(context! {
                        version => version,
                        from => show(console, *in_force_from),
                        by => e.actor.clone(),
                        accepted => entries.iter().filter(|x| matches!(&x.entry, Entry::AupAcceptance { audience: xa, version: xv, .. } if *xa == a && xv == version)).count(),
                    }),
                    _ => None,
                })
                .collect();
            let everyone = match a {
                Audience::Staff => &staff_names,
                Audience::Pupil => &pupil_names,
                Audience::Visitor => &Vec::new(),
            };
            let missing: Vec<String> = not_accepted(entries, a, everyone, now)
                .into_iter()
                .map(name_of)
                .collect();
            context! {
                id => audience_id(a),
                label => audience_label(a),
                current => current_aup(entries, a, now),
                versions => versions,
                missing => missing,
                listed => a != Audience::Visitor,
            }
        })
        .collect();
    Ok(context! { audiences => audiences })
}

#[derive(Debug, Deserialize)]
pub struct VersionForm {
    #[serde(default)]
    audience: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    text: String,
    /// A date; today when empty.
    #[serde(default)]
    in_force_from: String,
}

pub async fn add_version<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<VersionForm>,
) -> Result<Response, AppError> {
    let register = Register::AcceptableUse;
    let Some(audience) = audience(&form.audience) else {
        let problem = "Choose who the agreement is for: staff, pupils or visitors.".to_owned();
        return page(&console, &caller, &csrf, register, None, Some(problem)).await;
    };
    let from = if form.in_force_from.trim().is_empty() {
        console.now()
    } else {
        match parse_date(&form.in_force_from).and_then(|d| {
            d.to_zoned(console.settings.time_zone.clone())
                .ok()
                .map(|z| z.timestamp())
        }) {
            Some(t) => t,
            None => {
                let problem = format!(
                    "'{}' is not a date; choose the day the version comes into force.",
                    form.in_force_from.trim()
                );
                return page(&console, &caller, &csrf, register, None, Some(problem)).await;
            }
        }
    };
    let entry = Entry::AupVersion {
        audience,
        version: form.version.trim().to_owned(),
        text: form.text.trim().to_owned(),
        in_force_from: from,
    };
    let result = add(&console, &caller, entry).await?;
    outcome(&console, &caller, &csrf, register, result, "saved").await
}

#[derive(Debug, Deserialize)]
pub struct AcceptanceForm {
    #[serde(default)]
    audience: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    how: String,
}

pub async fn add_acceptance<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<AcceptanceForm>,
) -> Result<Response, AppError> {
    let register = Register::AcceptableUse;
    let Some(audience) = audience(&form.audience) else {
        let problem = "Choose who the agreement is for: staff, pupils or visitors.".to_owned();
        return page(&console, &caller, &csrf, register, None, Some(problem)).await;
    };
    let person = username_from(&form.person).to_owned();
    let entry = Entry::AupAcceptance {
        audience,
        version: form.version.trim().to_owned(),
        person,
        how: form.how.trim().to_owned(),
    };
    let result = add(&console, &caller, entry).await?;
    outcome(&console, &caller, &csrf, register, result, "saved").await
}

// ---------------------------------------------------------------------
// Training (§5.3).

async fn training<S: Store>(
    console: &Console<S>,
    entries: &[RegisterEntry],
) -> Result<Value, AppError> {
    let now = console.now();
    let staff = staff(console).await?;
    let usernames: Vec<String> = staff.iter().map(|(u, _)| u.clone()).collect();
    let name_of = |u: &str| {
        staff
            .iter()
            .find(|(s, _)| s == u)
            .map_or_else(|| u.to_owned(), |(_, n)| format!("{n} ({u})"))
    };
    let mut courses: Vec<String> = vec![ANNUAL_COURSE.to_owned()];
    for e in entries {
        if let Entry::Training { course, .. } = &e.entry
            && !courses.contains(course)
        {
            courses.push(course.clone());
        }
    }
    let overdue: Vec<Value> = courses
        .iter()
        .map(|course| {
            let people: Vec<Value> = training_overdue(entries, course, &usernames, now)
                .into_iter()
                .map(|(who, expired)| {
                    context! {
                        name => name_of(who),
                        expired => expired.map(|d| d.to_string()),
                    }
                })
                .collect();
            context! { course => course, people => people }
        })
        .collect();
    let rows: Vec<Value> = entries
        .iter()
        .rev()
        .filter_map(|e| match &e.entry {
            Entry::Training {
                person,
                course,
                completed_on,
                valid_months,
                provider,
            } => Some(context! {
                name => name_of(person),
                course => course,
                completed_on => completed_on.to_string(),
                expires => training_expires(*completed_on, *valid_months).to_string(),
                provider => provider,
            }),
            _ => None,
        })
        .collect();
    let staff_options: Vec<Value> = staff
        .iter()
        .map(|(u, n)| context! { value => format!("{n} ({u})") })
        .collect();
    Ok(context! {
        overdue => overdue,
        rows => rows,
        staff => staff_options,
        annual => ANNUAL_COURSE,
    })
}

#[derive(Debug, Deserialize)]
pub struct TrainingForm {
    #[serde(default)]
    person: String,
    #[serde(default)]
    course: String,
    #[serde(default)]
    completed_on: String,
    #[serde(default)]
    valid_months: String,
    #[serde(default)]
    provider: String,
}

pub async fn add_training<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<TrainingForm>,
) -> Result<Response, AppError> {
    let register = Register::Training;
    let Some(completed_on) = parse_date(&form.completed_on) else {
        let problem = "Give the date the training was completed.".to_owned();
        return page(&console, &caller, &csrf, register, None, Some(problem)).await;
    };
    let Ok(valid_months) = form.valid_months.trim().parse::<i32>() else {
        let problem =
            "Say how many months the training is valid for (12 for the annual update).".to_owned();
        return page(&console, &caller, &csrf, register, None, Some(problem)).await;
    };
    let person = username_from(&form.person).to_owned();
    let entry = Entry::Training {
        person,
        course: form.course.trim().to_owned(),
        completed_on,
        valid_months,
        provider: form.provider.trim().to_owned(),
    };
    let result = add(&console, &caller, entry).await?;
    outcome(&console, &caller, &csrf, register, result, "saved").await
}

// ---------------------------------------------------------------------
// Filtering and monitoring checks.

fn checks(console: &Console<impl Store>, entries: &[RegisterEntry]) -> Value {
    let rows: Vec<Value> = entries
        .iter()
        .rev()
        .filter_map(|e| match &e.entry {
            Entry::FilteringCheck {
                tested,
                result,
                actions,
            } => Some(context! {
                at => show(console, e.at),
                by => e.actor.clone(),
                tested => tested,
                result => result,
                actions => actions,
            }),
            _ => None,
        })
        .collect();
    context! {
        rows => rows,
        overdue => filtering_check_overdue(entries, console.now(), CHECK_EVERY_DAYS),
        every => CHECK_EVERY_DAYS,
    }
}

#[derive(Debug, Deserialize)]
pub struct CheckForm {
    #[serde(default)]
    tested: String,
    #[serde(default)]
    result: String,
    #[serde(default)]
    actions: String,
}

pub async fn add_check<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<CheckForm>,
) -> Result<Response, AppError> {
    let entry = Entry::FilteringCheck {
        tested: form.tested.trim().to_owned(),
        result: form.result.trim().to_owned(),
        actions: form.actions.trim().to_owned(),
    };
    let result = add(&console, &caller, entry).await?;
    outcome(
        &console,
        &caller,
        &csrf,
        Register::FilteringChecks,
        result,
        "saved",
    )
    .await
}

// ---------------------------------------------------------------------
// The pages, one handler per register so each has its own row.

macro_rules! register_page {
    ($name:ident, $register:expr) => {
        pub async fn $name<S: Store>(
            State(console): State<Arc<Console<S>>>,
            Extension(caller): Extension<Caller>,
            Extension(csrf): Extension<CsrfKey>,
            Query(done): Query<Done>,
        ) -> Result<Response, AppError> {
            page(&console, &caller, &csrf, $register, done.notice(), None).await
        }
    };
}

register_page!(confiscated_devices, Register::ConfiscatedDevices);
register_page!(acceptable_use_page, Register::AcceptableUse);
register_page!(training_page, Register::Training);
register_page!(filtering_checks, Register::FilteringChecks);
register_page!(loans_page, Register::EquipmentLoans);
register_page!(technology_page, Register::Technology);
register_page!(access_page, Register::SystemAccess);
register_page!(reviews_page, Register::PolicyReviews);
register_page!(consents_page, Register::ParentalConsents);
register_page!(transfers_page, Register::FileTransfers);

/// The registers this role may open, for the index page.
pub async fn index<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
) -> Result<Response, AppError> {
    let all: [(&[Role], &str, &str, &str); 10] = [
        (
            CONFISCATIONS,
            "confiscated-devices",
            "Confiscated devices",
            "Devices taken from pupils, where they are held and who they were given back to (§9.2).",
        ),
        (
            LEADERS,
            "acceptable-use",
            "Acceptable use agreements",
            "Versions for staff, pupils and visitors, and who has not accepted the one in force (§7.2).",
        ),
        (
            LEADERS,
            "training",
            "Staff training",
            "Safeguarding and online safety training, and who is overdue (§5.3).",
        ),
        (
            CHECKS,
            "filtering-checks",
            "Filtering and monitoring checks",
            "When filtering and monitoring were tested, by whom, the result and what was done.",
        ),
        (
            TECHNICAL,
            "equipment-loans",
            "Equipment loans",
            "Laptops and other equipment on loan, the agreement's details and returns (Appendix 3).",
        ),
        (
            TECHNICAL,
            "technology",
            "Technology and apps",
            "Systems, apps and AI tools in use, their risk and data protection assessments and reviews (§7.11).",
        ),
        (
            TECHNICAL,
            "system-access",
            "Access to systems",
            "Who has access to which system, at what level, and when it is next reviewed (§7.5.1).",
        ),
        (
            REVIEW_READERS,
            "policy-reviews",
            "Policy reviews",
            "When each policy was last reviewed and when the next review is due (§3).",
        ),
        (
            CONFISCATIONS,
            "parental-consents",
            "Parental consents",
            "Consent for video conferencing, photographs and social media, per pupil.",
        ),
        (
            TRANSFERS,
            "file-transfers",
            "Child-protection file transfers",
            "Files sent to a pupil's new school, and whether the school has confirmed receiving them.",
        ),
    ];
    let registers: Vec<Value> = all
        .iter()
        .filter(|(roles, ..)| roles.contains(&caller.role))
        .map(|(_, id, label, purpose)| context! { id => *id, label => *label, purpose => *purpose })
        .collect();
    let layout = Layout::new(&console, Some(&caller), &csrf, "Registers", "/registers");
    let body = render(
        "registers_index.html",
        &layout,
        context! { registers => registers },
    )?;
    Ok(Html(body).into_response())
}

// ---------------------------------------------------------------------
// Equipment loans (Appendix 3), technology and apps (§7.11), access to
// systems (§7.5.1).

fn loans(console: &Console<impl Store>, entries: &[RegisterEntry]) -> Value {
    let out: Vec<Value> = on_loan(entries)
        .into_iter()
        .filter_map(|e| match &e.entry {
            Entry::Loan {
                borrower,
                make,
                model,
                serial_number,
                agreed_by,
                ..
            } => Some(context! {
                id => e.id,
                borrower => borrower,
                what => format!("{make} {model}"),
                serial_number => serial_number,
                agreed_by => agreed_by,
                at => show(console, e.at),
            }),
            _ => None,
        })
        .collect();
    let returned: Vec<Value> = entries
        .iter()
        .rev()
        .filter_map(|e| match &e.entry {
            Entry::LoanReturn {
                loan,
                received_by,
                condition,
            } => Some(context! {
                loan => loan,
                received_by => received_by,
                condition => condition,
                at => show(console, e.at),
            }),
            _ => None,
        })
        .collect();
    context! { out => out, returned => returned }
}

#[derive(Debug, Deserialize)]
pub struct LoanForm {
    #[serde(default)]
    borrower: String,
    #[serde(default)]
    make: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    serial_number: String,
    #[serde(default)]
    agreed_by: String,
    #[serde(default)]
    conditions_accepted: Option<String>,
}

pub async fn add_loan<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<LoanForm>,
) -> Result<Response, AppError> {
    let entry = Entry::Loan {
        borrower: form.borrower.trim().to_owned(),
        make: form.make.trim().to_owned(),
        model: form.model.trim().to_owned(),
        serial_number: form.serial_number.trim().to_owned(),
        agreed_by: form.agreed_by.trim().to_owned(),
        conditions_accepted: form.conditions_accepted.is_some(),
    };
    let result = add(&console, &caller, entry).await?;
    let register = Register::EquipmentLoans;
    outcome(&console, &caller, &csrf, register, result, "saved").await
}

#[derive(Debug, Deserialize)]
pub struct ReturnForm {
    #[serde(default)]
    received_by: String,
    #[serde(default)]
    condition: String,
}

pub async fn return_loan<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Form(form): Form<ReturnForm>,
) -> Result<Response, AppError> {
    let received_by =
        super::optional(&form.received_by).unwrap_or_else(|| caller.account.display_name.clone());
    let entry = Entry::LoanReturn {
        loan: id,
        received_by,
        condition: form.condition.trim().to_owned(),
    };
    let result = add(&console, &caller, entry).await?;
    let register = Register::EquipmentLoans;
    outcome(&console, &caller, &csrf, register, result, "saved").await
}

/// The latest entry for each key, oldest first.
fn latest<'a, K: PartialEq>(
    entries: &'a [RegisterEntry],
    key: impl Fn(&'a Entry) -> Option<K>,
) -> Vec<&'a RegisterEntry> {
    let mut out: Vec<(K, &RegisterEntry)> = Vec::new();
    for e in entries {
        if let Some(k) = key(&e.entry) {
            out.retain(|(o, _)| *o != k);
            out.push((k, e));
        }
    }
    out.into_iter().map(|(_, e)| e).collect()
}

fn date_or_none(d: Option<Date>) -> String {
    d.map_or_else(|| "not done".to_owned(), |d| d.to_string())
}

fn technology(console: &Console<impl Store>, entries: &[RegisterEntry]) -> Value {
    let rows: Vec<Value> = latest(entries, |e| match e {
        Entry::Technology { name, .. } => Some(name),
        _ => None,
    })
    .into_iter()
    .filter_map(|e| match &e.entry {
        Entry::Technology {
            name,
            purpose,
            owner,
            generative_ai,
            risk_assessed_on,
            data_protection_assessed_on,
            review_due,
            in_use,
        } => Some(context! {
            name => name,
            purpose => purpose,
            owner => owner,
            generative_ai => generative_ai,
            risk => date_or_none(*risk_assessed_on),
            data_protection => date_or_none(*data_protection_assessed_on),
            review_due => review_due.to_string(),
            in_use => in_use,
            by => e.actor.clone(),
            at => show(console, e.at),
        }),
        _ => None,
    })
    .collect();
    let attention: Vec<Value> = technology_attention(entries, console.now())
        .into_iter()
        .map(|(name, missing)| context! { name => name, missing => missing.join(", ") })
        .collect();
    context! { rows => rows, attention => attention }
}

#[derive(Debug, Deserialize)]
pub struct TechnologyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    generative_ai: Option<String>,
    #[serde(default)]
    risk_assessed_on: String,
    #[serde(default)]
    data_protection_assessed_on: String,
    #[serde(default)]
    review_due: String,
    #[serde(default)]
    in_use: Option<String>,
}

pub async fn add_technology<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<TechnologyForm>,
) -> Result<Response, AppError> {
    let register = Register::Technology;
    let optional_date = |text: &str| -> Result<Option<Date>, String> {
        if text.trim().is_empty() {
            Ok(None)
        } else {
            parse_date(text).map(Some).ok_or_else(|| {
                format!(
                    "'{}' is not a date; choose one from the calendar.",
                    text.trim()
                )
            })
        }
    };
    let dates = (
        optional_date(&form.risk_assessed_on),
        optional_date(&form.data_protection_assessed_on),
        parse_date(&form.review_due),
    );
    let (risk, data_protection, review_due) = match dates {
        (Ok(r), Ok(d), Some(due)) => (r, d, due),
        (Err(problem), _, _) | (_, Err(problem), _) => {
            return page(&console, &caller, &csrf, register, None, Some(problem)).await;
        }
        (_, _, None) => {
            let problem = "Give the date the next review is due.".to_owned();
            return page(&console, &caller, &csrf, register, None, Some(problem)).await;
        }
    };
    let entry = Entry::Technology {
        name: form.name.trim().to_owned(),
        purpose: form.purpose.trim().to_owned(),
        owner: form.owner.trim().to_owned(),
        generative_ai: form.generative_ai.is_some(),
        risk_assessed_on: risk,
        data_protection_assessed_on: data_protection,
        review_due,
        in_use: form.in_use.is_some(),
    };
    let result = add(&console, &caller, entry).await?;
    outcome(&console, &caller, &csrf, register, result, "saved").await
}

fn system_access(console: &Console<impl Store>, entries: &[RegisterEntry]) -> Value {
    let rows: Vec<Value> = latest(entries, |e| match e {
        Entry::SystemAccess { person, system, .. } => Some((person, system)),
        _ => None,
    })
    .into_iter()
    .filter_map(|e| match &e.entry {
        Entry::SystemAccess {
            person,
            system,
            level,
            granted: true,
            review_due,
        } => Some(context! {
            person => person,
            system => system,
            level => level,
            review_due => review_due.to_string(),
            by => e.actor.clone(),
            at => show(console, e.at),
        }),
        _ => None,
    })
    .collect();
    let due: Vec<Value> = access_reviews_due(entries, console.now())
        .into_iter()
        .filter_map(|e| match &e.entry {
            Entry::SystemAccess {
                person,
                system,
                review_due,
                ..
            } => Some(context! { person => person, system => system, review_due => review_due.to_string() }),
            _ => None,
        })
        .collect();
    context! { rows => rows, due => due }
}

#[derive(Debug, Deserialize)]
pub struct AccessForm {
    #[serde(default)]
    person: String,
    #[serde(default)]
    system: String,
    #[serde(default)]
    level: String,
    /// `grant` or `remove`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    review_due: String,
}

pub async fn add_access<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<AccessForm>,
) -> Result<Response, AppError> {
    let register = Register::SystemAccess;
    let Some(review_due) = parse_date(&form.review_due) else {
        let problem = "Give the date this access is next reviewed.".to_owned();
        return page(&console, &caller, &csrf, register, None, Some(problem)).await;
    };
    let entry = Entry::SystemAccess {
        person: username_from(&form.person).to_owned(),
        system: form.system.trim().to_owned(),
        level: form.level.trim().to_owned(),
        granted: form.action != "remove",
        review_due,
    };
    let result = add(&console, &caller, entry).await?;
    outcome(&console, &caller, &csrf, register, result, "saved").await
}

// ---------------------------------------------------------------------
// Policy reviews (§3), parental consents (§7.9.1, §8.3) and
// child-protection file transfers.

/// Policy reviews are read by everyone (governors approve policies) and
/// kept by the leaders who may add them.
pub const REVIEW_READERS: &[Role] = &Role::ALL;
pub const REVIEW_WRITERS: &[Role] = AUP_VERSION_WRITERS;
/// File transfers are part of a pupil's child-protection file.
pub const TRANSFERS: &[Role] = &Role::SAFEGUARDING;

fn policy_reviews(entries: &[RegisterEntry], now: Timestamp) -> Value {
    let rows: Vec<Value> = latest(entries, |e| match e {
        Entry::PolicyReview { policy, .. } => Some(policy),
        _ => None,
    })
    .into_iter()
    .filter_map(|e| match &e.entry {
        Entry::PolicyReview {
            policy,
            reviewed_on,
            next_due,
            notes,
        } => Some(context! {
            policy => policy,
            reviewed_on => reviewed_on.to_string(),
            next_due => next_due.to_string(),
            notes => notes,
            by => e.actor.clone(),
        }),
        _ => None,
    })
    .collect();
    let overdue: Vec<Value> = reviews_overdue(entries, now)
        .into_iter()
        .map(|(policy, due)| context! { policy => policy, due => due.to_string() })
        .collect();
    context! { rows => rows, overdue => overdue }
}

#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    policy: String,
    #[serde(default)]
    reviewed_on: String,
    #[serde(default)]
    next_due: String,
    #[serde(default)]
    notes: String,
}

pub async fn add_review<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, AppError> {
    let register = Register::PolicyReviews;
    let (Some(reviewed_on), Some(next_due)) =
        (parse_date(&form.reviewed_on), parse_date(&form.next_due))
    else {
        let problem = "Give the date of this review and the date the next one is due.".to_owned();
        return page(&console, &caller, &csrf, register, None, Some(problem)).await;
    };
    let entry = Entry::PolicyReview {
        policy: form.policy.trim().to_owned(),
        reviewed_on,
        next_due,
        notes: form.notes.trim().to_owned(),
    };
    let result = add(&console, &caller, entry).await?;
    outcome(&console, &caller, &csrf, register, result, "saved").await
}

const CONSENT_KINDS: [(ConsentKind, &str, &str); 3] = [
    (
        ConsentKind::VideoConferencing,
        "video-conferencing",
        "Video conferencing",
    ),
    (ConsentKind::Images, "images", "Photographs and video"),
    (
        ConsentKind::SocialMedia,
        "social-media",
        "The school's social media",
    ),
];

async fn consents<S: Store>(
    console: &Console<S>,
    entries: &[RegisterEntry],
) -> Result<Value, AppError> {
    let mut people = console.store.people().await?;
    people.retain(|p| !p.disabled);
    let mut pupils: Vec<&str> = Vec::new();
    for e in entries {
        if let Entry::Consent { pupil, .. } = &e.entry
            && !pupils.contains(&pupil.as_str())
        {
            pupils.push(pupil);
        }
    }
    let rows: Vec<Value> = pupils
        .iter()
        .map(|u| {
            let name = people
                .iter()
                .find(|p| p.username == *u)
                .map_or_else(|| (*u).to_owned(), |p| format!("{} ({u})", p.display_name));
            let states: Vec<Value> = CONSENT_KINDS
                .iter()
                .map(|(kind, _, label)| {
                    let state = match consent(entries, u, *kind) {
                        Some(true) => "given",
                        Some(false) => "withdrawn",
                        None => "not asked",
                    };
                    context! { label => *label, state => state }
                })
                .collect();
            context! { name => name, states => states }
        })
        .collect();
    let kinds: Vec<Value> = CONSENT_KINDS
        .iter()
        .map(|(_, id, label)| context! { id => *id, label => *label })
        .collect();
    Ok(context! { rows => rows, kinds => kinds, people => pupils_options(&people) })
}

fn pupils_options(people: &[store::Person]) -> Vec<Value> {
    people
        .iter()
        .map(|p| context! { value => format!("{} ({})", p.display_name, p.username) })
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    pupil: String,
    #[serde(default)]
    kind: String,
    /// `given` or `withdrawn`.
    #[serde(default)]
    decision: String,
    #[serde(default)]
    parent: String,
}

pub async fn add_consent<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<ConsentForm>,
) -> Result<Response, AppError> {
    let register = Register::ParentalConsents;
    let pupil = match super::records::find_pupil(&console, &form.pupil).await? {
        Ok(p) => p,
        Err(problem) => return page(&console, &caller, &csrf, register, None, Some(problem)).await,
    };
    let Some((kind, ..)) = CONSENT_KINDS.iter().find(|(_, id, _)| *id == form.kind) else {
        let problem = "Choose what the consent is for.".to_owned();
        return page(&console, &caller, &csrf, register, None, Some(problem)).await;
    };
    let entry = Entry::Consent {
        pupil: pupil.username,
        kind: *kind,
        given: form.decision != "withdrawn",
        parent: form.parent.trim().to_owned(),
    };
    let result = add(&console, &caller, entry).await?;
    outcome(&console, &caller, &csrf, register, result, "saved").await
}

fn transfers(console: &Console<impl Store>, entries: &[RegisterEntry]) -> Value {
    let waiting: Vec<i64> = awaiting_receipt(entries).iter().map(|e| e.id).collect();
    let rows: Vec<Value> = entries
        .iter()
        .rev()
        .filter_map(|e| match &e.entry {
            Entry::FileTransfer {
                pupil,
                to_school,
                method,
                sent_on,
            } => {
                let receipt = entries.iter().find_map(|r| match &r.entry {
                    Entry::FileReceipt {
                        transfer,
                        received_by,
                        received_on,
                    } if *transfer == e.id => {
                        Some(format!("Received by {received_by} on {received_on}"))
                    }
                    _ => None,
                });
                Some(context! {
                    id => e.id,
                    pupil => pupil,
                    to_school => to_school,
                    method => method,
                    sent_on => sent_on.to_string(),
                    by => e.actor.clone(),
                    at => show(console, e.at),
                    waiting => waiting.contains(&e.id),
                    receipt => receipt,
                })
            }
            _ => None,
        })
        .collect();
    context! { rows => rows, waiting => waiting.len() }
}

#[derive(Debug, Deserialize)]
pub struct TransferForm {
    #[serde(default)]
    pupil: String,
    #[serde(default)]
    to_school: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    sent_on: String,
}

pub async fn add_transfer<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<TransferForm>,
) -> Result<Response, AppError> {
    let register = Register::FileTransfers;
    let Some(sent_on) = parse_date(&form.sent_on) else {
        let problem = "Give the date the file was sent.".to_owned();
        return page(&console, &caller, &csrf, register, None, Some(problem)).await;
    };
    let entry = Entry::FileTransfer {
        pupil: username_from(&form.pupil).to_owned(),
        to_school: form.to_school.trim().to_owned(),
        method: form.method.trim().to_owned(),
        sent_on,
    };
    let result = add(&console, &caller, entry).await?;
    outcome(&console, &caller, &csrf, register, result, "saved").await
}

#[derive(Debug, Deserialize)]
pub struct ReceiptForm {
    #[serde(default)]
    received_by: String,
    #[serde(default)]
    received_on: String,
}

pub async fn add_receipt<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Form(form): Form<ReceiptForm>,
) -> Result<Response, AppError> {
    let register = Register::FileTransfers;
    let Some(received_on) = parse_date(&form.received_on) else {
        let problem = "Give the date the new school received the file.".to_owned();
        return page(&console, &caller, &csrf, register, None, Some(problem)).await;
    };
    let entry = Entry::FileReceipt {
        transfer: id,
        received_by: form.received_by.trim().to_owned(),
        received_on,
    };
    let result = add(&console, &caller, entry).await?;
    outcome(&console, &caller, &csrf, register, result, "saved").await
}
