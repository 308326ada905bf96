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
    awaiting_receipt, consent, current_aup, filtering_check_overdue, latest_by, not_accepted,
    on_loan, reviews_overdue, still_held_in, technology_attention, training_expires,
    training_overdue,
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
    console.school_now().date()
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
            policy_reviews(&entries, &console.school_now()),
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
    let now = console.school_now();
    let held_ids: Vec<i64> = still_held_in(entries, None, now.time_zone())
        .iter()
        .map(|(id, _)| *id)
        .collect();
    let today_held: Vec<i64> = still_held_in(entries, Some(now.date()), now.time_zone())
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

// ---------------------------------------------------------------------
// Training (§5.3).

async fn training<S: Store>(
    console: &Console<S>,
    entries: &[RegisterEntry],
) -> Result<Value, AppError> {
    let now = console.school_now();
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
            let people: Vec<Value> = training_overdue(entries, course, &usernames, &now)
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
        overdue => filtering_check_overdue(entries, &console.school_now(), CHECK_EVERY_DAYS),
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

#[derive(Debug, Deserialize)]
pub struct ReturnForm {
    #[serde(default)]
    received_by: String,
    #[serde(default)]
    condition: String,
}

fn date_or_none(d: Option<Date>) -> String {
    d.map_or_else(|| "not done".to_owned(), |d| d.to_string())
}

fn technology(console: &Console<impl Store>, entries: &[RegisterEntry]) -> Value {
    let rows: Vec<Value> = latest_by(entries, |e| match e {
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
    let attention: Vec<Value> = technology_attention(entries, &console.school_now())
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

fn system_access(console: &Console<impl Store>, entries: &[RegisterEntry]) -> Value {
    let rows: Vec<Value> = latest_by(entries, |e| match e {
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
    let due: Vec<Value> = access_reviews_due(entries, &console.school_now())
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

// ---------------------------------------------------------------------
// Policy reviews (§3), parental consents (§7.9.1, §8.3) and
// child-protection file transfers.

/// Policy reviews are read by everyone (governors approve policies) and
/// kept by the leaders who may add them.
pub const REVIEW_READERS: &[Role] = &Role::ALL;
pub const REVIEW_WRITERS: &[Role] = AUP_VERSION_WRITERS;
/// File transfers are part of a pupil's child-protection file.
pub const TRANSFERS: &[Role] = &Role::SAFEGUARDING;

fn policy_reviews(entries: &[RegisterEntry], now: &jiff::Zoned) -> Value {
    let rows: Vec<Value> = latest_by(entries, |e| match e {
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

#[derive(Debug, Deserialize)]
pub struct ReceiptForm {
    #[serde(default)]
    received_by: String,
    #[serde(default)]
    received_on: String,
}

// ---------------------------------------------------------------------
// Adding to a register: each form says which register it adds to and
// turns itself into an entry, or says what to put right first. One pair
// of handlers serves them all.

/// What a register form may need besides its own fields.
pub struct Context {
    people: Vec<store::Person>,
    time_zone: jiff::tz::TimeZone,
    now: Timestamp,
    /// The signed-in member of staff's name, for "taken by" and the like.
    name: String,
    /// The entry a release, return or receipt is for (from the path).
    id: i64,
}

impl Context {
    /// A pupil picked from the people register, by username.
    fn pupil(&self, typed: &str) -> Result<String, String> {
        super::records::pupil_in(&self.people, typed).map(|p| p.username)
    }

    fn date(&self, text: &str, what: &str) -> Result<Date, String> {
        parse_date(text).ok_or_else(|| format!("Give {what}."))
    }
}

pub trait RegisterForm: serde::de::DeserializeOwned + Send + 'static {
    const REGISTER: Register;
    /// The notice shown once it is saved.
    const DONE: &'static str = "saved";
    fn entry(self, ctx: &Context) -> Result<Entry, String>;
}

async fn submit<S: Store, F: RegisterForm>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    form: F,
    id: i64,
) -> Result<Response, AppError> {
    let ctx = Context {
        people: console.store.people().await?,
        time_zone: console.time_zone(),
        now: console.now(),
        name: caller.account.display_name.clone(),
        id,
    };
    let entry = match form.entry(&ctx) {
        Ok(entry) => entry,
        Err(problem) => return page(console, caller, csrf, F::REGISTER, None, Some(problem)).await,
    };
    let result = add(console, caller, entry).await?;
    outcome(console, caller, csrf, F::REGISTER, result, F::DONE).await
}

/// Adds an entry from a register's form.
pub async fn add_entry<S: Store, F: RegisterForm>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<F>,
) -> Result<Response, AppError> {
    submit(&console, &caller, &csrf, form, 0).await
}

/// Adds an entry about entry `id`: a release, a return, a receipt.
pub async fn add_entry_for<S: Store, F: RegisterForm>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(id): Path<i64>,
    Form(form): Form<F>,
) -> Result<Response, AppError> {
    submit(&console, &caller, &csrf, form, id).await
}

fn text(s: &str) -> String {
    s.trim().to_owned()
}

impl RegisterForm for ConfiscationForm {
    const REGISTER: Register = Register::ConfiscatedDevices;
    fn entry(self, ctx: &Context) -> Result<Entry, String> {
        Ok(Entry::Confiscation {
            device: text(&self.device),
            // The pupil as the people register names them, never as typed.
            pupil: ctx.pupil(&self.pupil)?,
            taken_by: super::optional(&self.taken_by).unwrap_or_else(|| ctx.name.clone()),
            why: text(&self.why),
            held_at: text(&self.held_at),
        })
    }
}

impl RegisterForm for ReleaseForm {
    const REGISTER: Register = Register::ConfiscatedDevices;
    const DONE: &'static str = "released";
    fn entry(self, ctx: &Context) -> Result<Entry, String> {
        let to = match self.to.as_str() {
            "parent" => ReleasedTo::Parent {
                name: text(&self.name),
            },
            "pupil" => ReleasedTo::Pupil,
            "police" => ReleasedTo::Police {
                reference: text(&self.reference),
            },
            _ => return Err("Choose who the device was given to.".to_owned()),
        };
        Ok(Entry::Release {
            confiscation: ctx.id,
            to,
        })
    }
}

fn audience_from(id: &str) -> Result<Audience, String> {
    audience(id)
        .ok_or_else(|| "Choose who the agreement is for: staff, pupils or visitors.".to_owned())
}

impl RegisterForm for VersionForm {
    const REGISTER: Register = Register::AcceptableUse;
    fn entry(self, ctx: &Context) -> Result<Entry, String> {
        let audience = audience_from(&self.audience)?;
        let in_force_from = if self.in_force_from.trim().is_empty() {
            ctx.now
        } else {
            ctx.date(&self.in_force_from, "the day the version comes into force")?
                .to_zoned(ctx.time_zone.clone())
                .map_err(|e| e.to_string())?
                .timestamp()
        };
        Ok(Entry::AupVersion {
            audience,
            version: text(&self.version),
            text: text(&self.text),
            in_force_from,
        })
    }
}

impl RegisterForm for AcceptanceForm {
    const REGISTER: Register = Register::AcceptableUse;
    fn entry(self, _: &Context) -> Result<Entry, String> {
        Ok(Entry::AupAcceptance {
            audience: audience_from(&self.audience)?,
            version: text(&self.version),
            person: username_from(&self.person).to_owned(),
            how: text(&self.how),
        })
    }
}

impl RegisterForm for TrainingForm {
    const REGISTER: Register = Register::Training;
    fn entry(self, ctx: &Context) -> Result<Entry, String> {
        let completed_on = ctx.date(&self.completed_on, "the date the training was completed")?;
        let valid_months = self.valid_months.trim().parse::<i32>().map_err(|_| {
            "Say how many months the training is valid for (12 for the annual update).".to_owned()
        })?;
        Ok(Entry::Training {
            person: username_from(&self.person).to_owned(),
            course: text(&self.course),
            completed_on,
            valid_months,
            provider: text(&self.provider),
        })
    }
}

impl RegisterForm for CheckForm {
    const REGISTER: Register = Register::FilteringChecks;
    fn entry(self, _: &Context) -> Result<Entry, String> {
        Ok(Entry::FilteringCheck {
            tested: text(&self.tested),
            result: text(&self.result),
            actions: text(&self.actions),
        })
    }
}

impl RegisterForm for LoanForm {
    const REGISTER: Register = Register::EquipmentLoans;
    fn entry(self, _: &Context) -> Result<Entry, String> {
        Ok(Entry::Loan {
            borrower: text(&self.borrower),
            make: text(&self.make),
            model: text(&self.model),
            serial_number: text(&self.serial_number),
            agreed_by: text(&self.agreed_by),
            conditions_accepted: self.conditions_accepted.is_some(),
        })
    }
}

impl RegisterForm for ReturnForm {
    const REGISTER: Register = Register::EquipmentLoans;
    fn entry(self, ctx: &Context) -> Result<Entry, String> {
        Ok(Entry::LoanReturn {
            loan: ctx.id,
            received_by: super::optional(&self.received_by).unwrap_or_else(|| ctx.name.clone()),
            condition: text(&self.condition),
        })
    }
}

impl RegisterForm for TechnologyForm {
    const REGISTER: Register = Register::Technology;
    fn entry(self, ctx: &Context) -> Result<Entry, String> {
        let optional_date = |t: &str, what: &str| {
            (!t.trim().is_empty())
                .then(|| ctx.date(t, what))
                .transpose()
        };
        Ok(Entry::Technology {
            name: text(&self.name),
            purpose: text(&self.purpose),
            owner: text(&self.owner),
            generative_ai: self.generative_ai.is_some(),
            risk_assessed_on: optional_date(
                &self.risk_assessed_on,
                "the date of the risk assessment as a date",
            )?,
            data_protection_assessed_on: optional_date(
                &self.data_protection_assessed_on,
                "the date of the data protection impact assessment as a date",
            )?,
            review_due: ctx.date(&self.review_due, "the date the next review is due")?,
            in_use: self.in_use.is_some(),
        })
    }
}

impl RegisterForm for AccessForm {
    const REGISTER: Register = Register::SystemAccess;
    fn entry(self, ctx: &Context) -> Result<Entry, String> {
        Ok(Entry::SystemAccess {
            person: username_from(&self.person).to_owned(),
            system: text(&self.system),
            level: text(&self.level),
            granted: self.action != "remove",
            review_due: ctx.date(&self.review_due, "the date this access is next reviewed")?,
        })
    }
}

impl RegisterForm for ReviewForm {
    const REGISTER: Register = Register::PolicyReviews;
    fn entry(self, ctx: &Context) -> Result<Entry, String> {
        Ok(Entry::PolicyReview {
            policy: text(&self.policy),
            reviewed_on: ctx.date(&self.reviewed_on, "the date of this review")?,
            next_due: ctx.date(&self.next_due, "the date the next review is due")?,
            notes: text(&self.notes),
        })
    }
}

impl RegisterForm for ConsentForm {
    const REGISTER: Register = Register::ParentalConsents;
    fn entry(self, ctx: &Context) -> Result<Entry, String> {
        let Some((kind, ..)) = CONSENT_KINDS.iter().find(|(_, id, _)| *id == self.kind) else {
            return Err("Choose what the consent is for.".to_owned());
        };
        Ok(Entry::Consent {
            pupil: ctx.pupil(&self.pupil)?,
            kind: *kind,
            given: self.decision != "withdrawn",
            parent: text(&self.parent),
        })
    }
}

impl RegisterForm for TransferForm {
    const REGISTER: Register = Register::FileTransfers;
    fn entry(self, ctx: &Context) -> Result<Entry, String> {
        Ok(Entry::FileTransfer {
            pupil: username_from(&self.pupil).to_owned(),
            to_school: text(&self.to_school),
            method: text(&self.method),
            sent_on: ctx.date(&self.sent_on, "the date the file was sent")?,
        })
    }
}

impl RegisterForm for ReceiptForm {
    const REGISTER: Register = Register::FileTransfers;
    fn entry(self, ctx: &Context) -> Result<Entry, String> {
        Ok(Entry::FileReceipt {
            transfer: ctx.id,
            received_by: text(&self.received_by),
            received_on: ctx.date(
                &self.received_on,
                "the date the new school received the file",
            )?,
        })
    }
}
