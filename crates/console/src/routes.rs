//! THE route table: every page and API route, the roles that may reach it,
//! and its handler. The router is built from this table and nothing else,
//! so a route cannot exist without an access rule; navigation and each
//! role's home page are drawn from it too. `tests/matrix.rs` holds the whole
//! role × route matrix and fails when this table and it disagree.
//!
//! Rules of thumb for new routes: safeguarding content goes to
//! [`Role::SAFEGUARDING`] only (never technicians); governors get routes
//! with aggregates only, never one that names a child.

use std::sync::Arc;

use axum::Router;
use axum::handler::Handler;
use axum::http::{HeaderValue, Method, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use store::Store;

use crate::handlers::{
    account, accounts, activity, api, assets, filtering, filtering_api, home, reviews, setup,
    sign_in,
};
use crate::{AppError, Console, Role, access, csrf};

/// Who may reach a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not: sign-in, set-up links, stylesheets.
    Anyone,
    /// Someone who has given the password and owes the two-factor code.
    AwaitingCode,
    /// Any signed-in account, even one that still has to set up two-factor
    /// sign-in: enrolment and signing out.
    SignedIn,
    /// Fully signed-in accounts with one of these roles.
    Roles(&'static [Role]),
}

impl Access {
    /// Whether a fully signed-in account with `role` gets in.
    pub fn admits(self, role: Role) -> bool {
        match self {
            Access::Anyone | Access::SignedIn => true,
            Access::AwaitingCode => false,
            Access::Roles(roles) => roles.contains(&role),
        }
    }
}

/// What a route shows, so rules about content hold for every route: the
/// table's own test refuses safeguarding content to technicians, governors
/// and staff, accounts to all but administrators, and anything naming
/// pupils to governors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shows {
    /// Forms, actions and public pages: nothing about anyone else.
    Nothing,
    /// The caller's own account.
    OwnAccount,
    /// Console accounts (staff names and roles).
    Accounts,
    /// The filtering policy, lists, devices and networks.
    Filtering,
    /// Browsing activity and requests that name pupils.
    PupilActivity,
    /// Concerns, incidents and other safeguarding records.
    Safeguarding,
    /// Counts and trends only, never a name; under five shown as "fewer than 5".
    Aggregates,
}

impl Shows {
    /// Whether a role may ever be given a route showing this.
    pub fn allowed_for(self, role: Role) -> bool {
        match self {
            Shows::Safeguarding => Role::SAFEGUARDING.contains(&role),
            Shows::PupilActivity => role != Role::Governor,
            Shows::Accounts => role == Role::Administrator,
            _ => true,
        }
    }
}

/// Pages answer in HTML and send people to sign in; the API answers in JSON
/// and accepts personal tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Page,
    Api,
}

/// One row of the table, without its handler.
#[derive(Clone, Debug)]
pub struct RouteEntry {
    pub method: Method,
    /// In axum's syntax: `/accounts/{username}`.
    pub path: &'static str,
    pub access: Access,
    pub kind: Kind,
    /// A label for navigation and the home page (GET pages only).
    pub menu: Option<&'static str>,
    /// What the route is for, in a sentence.
    pub purpose: &'static str,
    pub shows: Shows,
}

/// A row with its handler.
pub struct Route<S> {
    pub entry: RouteEntry,
    service: MethodRouter<Arc<Console<S>>>,
}

const ALL: &[Role] = &Role::ALL;
const ADMIN: &[Role] = &[Role::Administrator];
const POLICY_EDIT: &[Role] = filtering::EDITORS;
const POLICY_VIEW: &[Role] = filtering::VIEWERS;
/// Review requests: those who run filtering and the safeguarding team.
const REVIEWERS: &[Role] = &[
    Role::Administrator,
    Role::Technician,
    Role::Dsl,
    Role::DeputyDsl,
    Role::Headteacher,
];
/// The activity log: the safeguarding team and technicians (see
/// `handlers::activity` for why not administrators).
const ACTIVITY: &[Role] = &[
    Role::Technician,
    Role::Dsl,
    Role::DeputyDsl,
    Role::Headteacher,
];
const SAFEGUARDING: &[Role] = &Role::SAFEGUARDING;
/// Legal holds: the DSL and the headteacher only (records::retention).
const HOLDERS: &[Role] = &[Role::Dsl, Role::Headteacher];

// Reports and the filter self-test: the weekly report names pupils (the
// DSL roles and the headteacher); the governors' report is aggregates only;
// the self-test is run by those who look after filtering and the DSL.
use crate::handlers::reports;
const WEEKLY_REPORT: &[Role] = &[Role::Dsl, Role::DeputyDsl, Role::Headteacher];
const GOVERNORS_REPORT: &[Role] = &[Role::Dsl, Role::Headteacher, Role::Governor];
const SELFTEST: &[Role] = &[Role::Administrator, Role::Technician, Role::Dsl];

// People and devices: who changes people, devices and networks, and who may
// see people (those who change them, and the safeguarding leads).
use crate::handlers::{alerts, devices, people, people_api};
use store::{Device, Network};
const PEOPLE_MANAGE: &[Role] = &Role::FILTERING;
const PEOPLE_VIEW: &[Role] = &[
    Role::Administrator,
    Role::Technician,
    Role::Dsl,
    Role::DeputyDsl,
    Role::Headteacher,
];

// Safeguarding records: every member of staff raises concerns and sees
// their own; the DSL, deputies and headteacher see the rest.
use crate::handlers::records;
const STAFF_MEMBERS: &[Role] = records::STAFF_MEMBERS;
// The policy's registers: confiscations name pupils (never technicians or
// governors); agreements and training name staff and pupils (the leaders
// who keep them); technicians log and read the filtering checks.
use crate::handlers::registers;
const CONFISCATIONS: &[Role] = registers::CONFISCATIONS;
const REGISTER_LEADERS: &[Role] = registers::LEADERS;
const CHECKS: &[Role] = registers::CHECKS;
const TECHNICAL: &[Role] = registers::TECHNICAL;
const AUP_VERSION_WRITERS: &[Role] = registers::AUP_VERSION_WRITERS;
const LOAN_WRITERS: &[Role] = registers::LOAN_WRITERS;
const TECHNOLOGY_WRITERS: &[Role] = registers::TECHNOLOGY_WRITERS;
const REVIEW_READERS: &[Role] = registers::REVIEW_READERS;
const REVIEW_WRITERS: &[Role] = registers::REVIEW_WRITERS;
const TRANSFERS: &[Role] = registers::TRANSFERS;

fn route<S, H, T>(
    method: Method,
    path: &'static str,
    access: Access,
    shows: Shows,
    menu: Option<&'static str>,
    purpose: &'static str,
    handler: H,
) -> Route<S>
where
    S: Store + 'static,
    H: Handler<T, Arc<Console<S>>>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
    Route {
        entry: RouteEntry {
            kind: if path.starts_with("/api/") {
                Kind::Api
            } else {
                Kind::Page
            },
            method,
            path,
            access,
            menu,
            purpose,
            shows,
        },
        service: on(filter, handler),
    }
}

/// The table. One route a line, kept as a table on purpose.
#[rustfmt::skip]
pub fn table<S: Store + 'static>() -> Vec<Route<S>> {
    use Access::{Anyone, AwaitingCode, Roles, SignedIn};
    use Shows::{Accounts, Filtering, Nothing, OwnAccount, PupilActivity, Safeguarding};
    let (get, post, put, delete) = (Method::GET, Method::POST, Method::PUT, Method::DELETE);
    vec![
        // Signing in and out.
        route(get.clone(),    "/sign-in",                     Anyone,       Nothing, None, "The sign-in form.", sign_in::form::<S>),
        route(post.clone(),   "/sign-in",                     Anyone,       Nothing, None, "Checks a username and password.", sign_in::submit::<S>),
        route(get.clone(),    "/sign-in/code",                AwaitingCode, Nothing, None, "Asks for the two-factor code.", sign_in::code_form::<S>),
        route(post.clone(),   "/sign-in/code",                AwaitingCode, Nothing, None, "Checks the two-factor code.", sign_in::code_submit::<S>),
        route(post.clone(),   "/sign-out",                    SignedIn,     Nothing, None, "Signs this browser out.", sign_in::sign_out::<S>),
        route(post.clone(),   "/sign-out-everywhere",         SignedIn,     Nothing, None, "Signs the account out on every device.", sign_in::sign_out_everywhere::<S>),
        route(get.clone(),    "/setup/{token}",               Anyone,       Nothing, None, "A one-time set-up link: the first administrator, or a new account's password.", setup::form::<S>),
        route(post.clone(),   "/setup/{token}",               Anyone,       Nothing, None, "Uses a one-time set-up link.", setup::submit::<S>),
        route(get.clone(),    "/assets/{file}",               Anyone,       Nothing, None, "The stylesheet and the vendored scripts.", assets::file),
        // Everyone's own account.
        route(get.clone(),    "/",                            Roles(ALL),   OwnAccount, Some("Home"), "What you can do here.", home::page::<S>),
        route(get.clone(),    "/account",                     Roles(ALL),   OwnAccount, Some("Your account"), "Your details, your password and where you are signed in.", account::page::<S>),
        route(post.clone(),   "/account/password",            Roles(ALL),   OwnAccount, None, "Changes your password.", account::change_password::<S>),
        route(get.clone(),    "/account/two-factor",          SignedIn,     OwnAccount, None, "Sets up two-factor sign-in.", account::two_factor_form::<S>),
        route(post.clone(),   "/account/two-factor",          SignedIn,     OwnAccount, None, "Confirms two-factor sign-in with a code.", account::two_factor_submit::<S>),
        route(get.clone(),    "/account/tokens",              Roles(ALL),   OwnAccount, Some("API tokens"), "Personal tokens for scripts that use the API.", account::tokens::<S>),
        route(post.clone(),   "/account/tokens",              Roles(ALL),   OwnAccount, None, "Makes a personal API token.", account::create_token::<S>),
        route(post.clone(),   "/account/tokens/{id}/revoke",  Roles(ALL),   OwnAccount, None, "Revokes a personal API token.", account::revoke_token::<S>),
        // Accounts, for administrators.
        route(get.clone(),    "/accounts",                    Roles(ADMIN), Accounts, Some("Accounts"), "Who can use the console, and their roles.", accounts::list::<S>),
        route(post.clone(),   "/accounts",                    Roles(ADMIN), Accounts, None, "Adds an account and makes its set-up link.", accounts::create::<S>),
        route(get.clone(),    "/accounts/{username}",         Roles(ADMIN), Accounts, None, "One account, with what can be done to it.", accounts::detail::<S>),
        route(post.clone(),   "/accounts/{username}/disable", Roles(ADMIN), Accounts, None, "Disables an account and signs it out.", accounts::disable::<S>),
        route(post.clone(),   "/accounts/{username}/enable",  Roles(ADMIN), Accounts, None, "Enables a disabled account.", accounts::enable::<S>),
        route(post.clone(),   "/accounts/{username}/reset-two-factor", Roles(ADMIN), Accounts, None, "Resets two-factor sign-in (a lost phone).", accounts::reset_two_factor::<S>),
        route(post.clone(),   "/accounts/{username}/unlock",  Roles(ADMIN), Accounts, None, "Lifts a lock-out after failed sign-ins.", accounts::unlock::<S>),
        route(post.clone(),   "/accounts/{username}/setup-link", Roles(ADMIN), Accounts, None, "Makes a new set-up link (a forgotten password).", accounts::new_link::<S>),
        // The JSON API.
        route(get.clone(),    "/api/v1/me",                   Roles(ALL),   OwnAccount, None, "The account the token or session belongs to.", api::me),
        route(get.clone(),    "/api/v1/tokens",               Roles(ALL),   OwnAccount, None, "Your personal API tokens.", api::tokens::<S>),
        route(delete.clone(), "/api/v1/tokens/{id}",          Roles(ALL),   OwnAccount, None, "Revokes one of your personal API tokens.", api::revoke_token::<S>),
        route(get.clone(),    "/api/v1/accounts",             Roles(ADMIN), Accounts, None, "Every console account.", api::accounts::<S>),
        route(get.clone(),    "/api/v1/openapi.json",         Anyone,       Nothing, None, "The OpenAPI document describing this API.", api::openapi::<S>),
        // The filtering policy: administrators and technicians change it; the DSL, deputies and headteacher see it.
        route(get.clone(),    "/policy",                      Roles(POLICY_VIEW), Filtering, Some("Filtering policy"), "The profiles at a glance, the lists in force and the statutory lists' status.", filtering::overview::<S>),
        route(get.clone(),    "/policy/profiles/{id}",        Roles(POLICY_VIEW), Filtering, None, "One profile: categories, safe search, overrides and time windows.", filtering::profile::<S>),
        route(post.clone(),   "/policy/profiles/{id}/settings", Roles(POLICY_EDIT), Filtering, None, "Changes a profile's blocked categories, safe search, IP address blocking and walled garden, with a reason.", filtering::save_settings::<S>),
        route(post.clone(),   "/policy/profiles/{id}/overrides", Roles(POLICY_EDIT), Filtering, None, "Adds a site to a profile's always-allowed or always-blocked list, with a reason.", filtering::add_override::<S>),
        route(post.clone(),   "/policy/profiles/{id}/overrides/remove", Roles(POLICY_EDIT), Filtering, None, "Removes a site from a profile's allowed or blocked list, with a reason.", filtering::remove_override::<S>),
        route(post.clone(),   "/policy/profiles/{id}/schedules", Roles(POLICY_EDIT), Filtering, None, "Adds or changes a time window of a profile, with a reason.", filtering::save_schedule::<S>),
        route(post.clone(),   "/policy/profiles/{id}/schedules/remove", Roles(POLICY_EDIT), Filtering, None, "Removes a time window of a profile, with a reason.", filtering::remove_schedule::<S>),
        route(get.clone(),    "/policy/history",              Roles(POLICY_VIEW), Filtering, Some("Policy history"), "Every change to the policy: who, when, why and what.", filtering::history::<S>),
        route(get.clone(),    "/policy/history/{number}",     Roles(POLICY_VIEW), Filtering, None, "One revision of the policy in full, with what it changed.", filtering::revision::<S>),
        route(get.clone(),    "/policy/test",                 Roles(POLICY_VIEW), Filtering, Some("Test a URL"), "The verdict and its explanation for an address, for a profile or a person.", filtering::test_url::<S>),
        route(get.clone(),    "/api/v1/policy",               Roles(POLICY_VIEW), Filtering, None, "The policy in force: its revision, as TOML and as JSON.", filtering_api::get_policy::<S>),
        route(put.clone(),    "/api/v1/policy",               Roles(POLICY_EDIT), Filtering, None, "Replaces the policy from a known revision, with a reason.", filtering_api::put_policy::<S>),
        route(get.clone(),    "/api/v1/policy/history",       Roles(POLICY_VIEW), Filtering, None, "Revisions of the policy, newest first.", filtering_api::history::<S>),
        route(post.clone(),   "/api/v1/check",                Roles(POLICY_VIEW), Filtering, None, "Tests a URL for a profile or a person, as schoolgate check does.", filtering_api::check::<S>),
        route(get.clone(),    "/api/v1/lists",                Roles(POLICY_VIEW), Filtering, None, "The lists in force and the statutory lists' status.", filtering_api::lists::<S>),
        // Safeguarding records. Raising a concern and "Concerns you raised" name pupils (the picker, what you wrote), so never governors; everything else is safeguarding content.
        route(get.clone(),    "/concerns/new",                Roles(STAFF_MEMBERS), Shows::PupilActivity, Some("Raise a concern"), "Tell the DSL about a worry about a child, in under a minute.", records::raise_form::<S>),
        route(post.clone(),   "/concerns",                    Roles(STAFF_MEMBERS), Shows::PupilActivity, None, "Raises a concern; the DSL and deputies see it at once.", records::raise::<S>),
        route(get.clone(),    "/my-concerns",                 Roles(STAFF_MEMBERS), Shows::PupilActivity, Some("Concerns you raised"), "The concerns you raised, and nobody else's.", records::mine::<S>),
        route(get.clone(),    "/my-concerns/{id}",            Roles(STAFF_MEMBERS), Shows::PupilActivity, None, "One concern you raised: what you wrote.", records::mine_detail::<S>),
        route(get.clone(),    "/concerns",                    Roles(SAFEGUARDING), Shows::Safeguarding, Some("Concerns"), "New concerns waiting for the DSL, and every earlier one.", records::inbox::<S>),
        route(get.clone(),    "/concerns/{id}",               Roles(SAFEGUARDING), Shows::Safeguarding, None, "One concern: its children, category, corrections, incidents and read log.", records::concern::<S>),
        route(post.clone(),   "/concerns/{id}/category",      Roles(SAFEGUARDING), Shows::Safeguarding, None, "Sets a concern's final category, with a reason (DSL and deputies).", records::set_category::<S>),
        route(post.clone(),   "/concerns/{id}/pupils",        Roles(SAFEGUARDING), Shows::Safeguarding, None, "Links or unlinks a child, with a reason (DSL and deputies).", records::change_link::<S>),
        route(post.clone(),   "/concerns/{id}/amend",         Roles(SAFEGUARDING), Shows::Safeguarding, None, "Corrects a concern; the original is kept and shown.", records::amend_concern::<S>),
        route(post.clone(),   "/concerns/{id}/incident",      Roles(SAFEGUARDING), Shows::Safeguarding, None, "Turns a concern into an incident of a §11 type.", records::open_incident::<S>),
        route(get.clone(),    "/incidents",                   Roles(SAFEGUARDING), Shows::Safeguarding, Some("Incidents"), "Open and closed incidents, and referrals overdue for a response.", records::incidents::<S>),
        route(get.clone(),    "/incidents/{id}",              Roles(SAFEGUARDING), Shows::Safeguarding, None, "One incident: its checklist, referrals, documents and closing.", records::incident::<S>),
        route(post.clone(),   "/incidents/{id}/steps",        Roles(SAFEGUARDING), Shows::Safeguarding, None, "Records a decision on a checklist step, with its reason.", records::record_step::<S>),
        route(post.clone(),   "/incidents/{id}/referrals",    Roles(SAFEGUARDING), Shows::Safeguarding, None, "Records a referral to an agency in the directory, with a follow-up date.", records::refer::<S>),
        route(post.clone(),   "/incidents/{id}/referrals/{referral}/response", Roles(SAFEGUARDING), Shows::Safeguarding, None, "Records what an agency decided or advised.", records::answer_referral::<S>),
        route(post.clone(),   "/incidents/{id}/attachments",  Roles(SAFEGUARDING), Shows::Safeguarding, None, "Attaches a document (refused for nudes and indecent images, §11.2).", records::attach::<S>),
        route(get.clone(),    "/incidents/{id}/attachments/{attachment}", Roles(SAFEGUARDING), Shows::Safeguarding, None, "Downloads an attached document; the read is logged.", records::attachment::<S>),
        route(post.clone(),   "/incidents/{id}/close",        Roles(SAFEGUARDING), Shows::Safeguarding, None, "Closes an incident with its outcome and lessons learnt.", records::close::<S>),
        route(post.clone(),   "/incidents/{id}/amend",        Roles(SAFEGUARDING), Shows::Safeguarding, None, "Corrects an incident's summary or a referral; the original is kept and shown.", records::amend_incident::<S>),
        route(post.clone(),   "/incidents/{id}/hold",         Roles(HOLDERS), Shows::Safeguarding, None, "Puts an incident under legal hold, or lifts the hold, with a reason.", records::hold_incident::<S>),
        route(post.clone(),   "/concerns/{id}/hold",          Roles(HOLDERS), Shows::Safeguarding, None, "Puts a concern under legal hold, or lifts the hold, with a reason.", records::hold_concern::<S>),
        route(get.clone(),    "/referral-directory",          Roles(SAFEGUARDING), Shows::Safeguarding, Some("Referral directory"), "Police, LADO, children's social care, Prevent, IWF and CEOP contacts.", records::directory::<S>),
        route(post.clone(),   "/referral-directory",          Roles(SAFEGUARDING), Shows::Safeguarding, None, "Adds an entry to the referral directory.", records::save_contact::<S>),
        route(post.clone(),   "/referral-directory/national", Roles(SAFEGUARDING), Shows::Safeguarding, None, "Adds the national numbers (999, 101, IWF, CEOP).", records::add_national::<S>),
        route(post.clone(),   "/referral-directory/{id}/withdraw", Roles(SAFEGUARDING), Shows::Safeguarding, None, "Withdraws a directory entry; referrals that used it keep it.", records::withdraw_contact::<S>),
        route(get.clone(),    "/pupils",                      Roles(SAFEGUARDING), Shows::Safeguarding, Some("Pupils' records"), "Find a pupil's safeguarding record by name.", records::find::<S>),
        route(get.clone(),    "/pupils/{username}",           Roles(SAFEGUARDING), Shows::Safeguarding, None, "A pupil's chronology; asks for a reason if you are not linked to them.", records::pupil::<S>),
        route(post.clone(),   "/pupils/{username}",           Roles(SAFEGUARDING), Shows::Safeguarding, None, "Opens a pupil's chronology with the reason the read log keeps.", records::pupil_with_reason::<S>),
        route(post.clone(),   "/pupils/{username}/file",      Roles(SAFEGUARDING), Shows::Safeguarding, None, "Downloads a pupil's child-protection file for their new school (allegations about staff left out); the reason is logged.", records::export_file::<S>),
        route(get.clone(),    "/concern-categories",          Roles(SAFEGUARDING), Shows::Safeguarding, Some("Concern categories"), "The categories staff choose from when raising a concern, with their guidance.", records::categories::<S>),
        route(post.clone(),   "/concern-categories",          Roles(records::CATEGORY_EDITORS), Shows::Safeguarding, None, "Saves a new version of the concern categories (DSL and deputies).", records::save_categories::<S>),
        // The policy's registers. Confiscations, agreements and training name people, so Shows::PupilActivity (never governors); the check log is about filtering.
        route(get.clone(),    "/registers",                   Roles(ALL), Nothing, Some("Registers"), "The registers your role keeps: devices, agreements, training, filtering checks.", registers::index::<S>),
        route(get.clone(),    "/registers/confiscated-devices", Roles(CONFISCATIONS), Shows::PupilActivity, None, "Confiscated devices, those still held today, and who they were given back to (§9.2).", registers::confiscated_devices::<S>),
        route(post.clone(),   "/registers/confiscated-devices", Roles(CONFISCATIONS), Shows::PupilActivity, None, "Logs a confiscated device.", registers::add_entry::<S, registers::ConfiscationForm>),
        route(post.clone(),   "/registers/confiscated-devices/{id}/release", Roles(CONFISCATIONS), Shows::PupilActivity, None, "Records who a device was given back to (the police: safeguarding leads only).", registers::add_entry_for::<S, registers::ReleaseForm>),
        route(get.clone(),    "/registers/acceptable-use",    Roles(REGISTER_LEADERS), Shows::PupilActivity, None, "Acceptable use agreements, and who has not accepted the version in force (§7.2).", registers::acceptable_use_page::<S>),
        route(post.clone(),   "/registers/acceptable-use/versions", Roles(AUP_VERSION_WRITERS), Shows::PupilActivity, None, "Adds a version of an agreement.", registers::add_entry::<S, registers::VersionForm>),
        route(post.clone(),   "/registers/acceptable-use/acceptances", Roles(REGISTER_LEADERS), Shows::PupilActivity, None, "Records that someone accepted an agreement.", registers::add_entry::<S, registers::AcceptanceForm>),
        route(get.clone(),    "/registers/training",          Roles(REGISTER_LEADERS), Shows::PupilActivity, None, "Staff training and who is overdue (§5.3).", registers::training_page::<S>),
        route(post.clone(),   "/registers/training",          Roles(REGISTER_LEADERS), Shows::PupilActivity, None, "Records training completed.", registers::add_entry::<S, registers::TrainingForm>),
        route(get.clone(),    "/registers/filtering-checks",  Roles(CHECKS), Filtering, None, "The filtering and monitoring check log.", registers::filtering_checks::<S>),
        route(post.clone(),   "/registers/filtering-checks",  Roles(CHECKS), Filtering, None, "Logs a filtering and monitoring check.", registers::add_entry::<S, registers::CheckForm>),
        route(get.clone(),    "/registers/equipment-loans",   Roles(TECHNICAL), Shows::PupilActivity, None, "Equipment on loan with the agreement's details, and returns (Appendix 3).", registers::loans_page::<S>),
        route(post.clone(),   "/registers/equipment-loans",   Roles(LOAN_WRITERS), Shows::PupilActivity, None, "Records a loan (headteacher, administrator or technician).", registers::add_entry::<S, registers::LoanForm>),
        route(post.clone(),   "/registers/equipment-loans/{id}/return", Roles(LOAN_WRITERS), Shows::PupilActivity, None, "Records a loan's return.", registers::add_entry_for::<S, registers::ReturnForm>),
        route(get.clone(),    "/registers/technology",        Roles(TECHNICAL), Shows::PupilActivity, None, "Systems, apps and AI tools with their assessments and review dates (§7.11).", registers::technology_page::<S>),
        route(post.clone(),   "/registers/technology",        Roles(TECHNOLOGY_WRITERS), Shows::PupilActivity, None, "Adds or updates a system or app in the register.", registers::add_entry::<S, registers::TechnologyForm>),
        route(get.clone(),    "/registers/system-access",     Roles(TECHNICAL), Shows::PupilActivity, None, "Who has access to which system, and reviews due (§7.5.1).", registers::access_page::<S>),
        route(post.clone(),   "/registers/system-access",     Roles(LOAN_WRITERS), Shows::PupilActivity, None, "Records access granted or removed.", registers::add_entry::<S, registers::AccessForm>),
        route(get.clone(),    "/registers/policy-reviews",    Roles(REVIEW_READERS), Nothing, None, "When each policy was reviewed and is next due (§3); names no one.", registers::reviews_page::<S>),
        route(post.clone(),   "/registers/policy-reviews",    Roles(REVIEW_WRITERS), Nothing, None, "Records a policy review and when the next is due.", registers::add_entry::<S, registers::ReviewForm>),
        route(get.clone(),    "/registers/parental-consents", Roles(CONFISCATIONS), Shows::PupilActivity, None, "Each pupil's consents for video conferencing, images and social media.", registers::consents_page::<S>),
        route(post.clone(),   "/registers/parental-consents", Roles(CONFISCATIONS), Shows::PupilActivity, None, "Records consent given or withdrawn by a parent or carer.", registers::add_entry::<S, registers::ConsentForm>),
        route(get.clone(),    "/registers/file-transfers",    Roles(TRANSFERS), Shows::Safeguarding, None, "Child-protection files sent to new schools, and receipts awaited.", registers::transfers_page::<S>),
        route(post.clone(),   "/registers/file-transfers",    Roles(TRANSFERS), Shows::Safeguarding, None, "Records a child-protection file sent to a new school.", registers::add_entry::<S, registers::TransferForm>),
        route(post.clone(),   "/registers/file-transfers/{id}/receipt", Roles(TRANSFERS), Shows::Safeguarding, None, "Records the new school's receipt of a file.", registers::add_entry_for::<S, registers::ReceiptForm>),
        // Review requests, both ways (§7.3.2): block pages and staff reports.
        route(get.clone(),    "/reviews",                     Roles(REVIEWERS), PupilActivity, Some("Review requests"), "Requests to unblock a page and reports of sites that should be blocked, open ones first.", reviews::list::<S>),
        route(get.clone(),    "/reviews/report",              Roles(ALL),   Nothing, Some("Report a site"), "Report a site that should be blocked.", reviews::report_form::<S>),
        route(post.clone(),   "/reviews/report",              Roles(ALL),   Nothing, None, "Records a report of a site that should be blocked (a filtering breach).", reviews::report::<S>),
        route(get.clone(),    "/reviews/mine",                Roles(ALL),   OwnAccount, Some("Your reports"), "Sites you reported and what was decided.", reviews::mine::<S>),
        route(get.clone(),    "/reviews/{id}",                Roles(REVIEWERS), PupilActivity, None, "One request, with approve or decline; breach detail is not shown here.", reviews::detail::<S>),
        route(get.clone(),    "/reviews/{id}/breach",         Roles(SAFEGUARDING), Safeguarding, None, "Who found a reported site and what happened.", reviews::breach::<S>),
        route(post.clone(),   "/reviews/{id}/decision",       Roles(REVIEWERS), Filtering, None, "Approves (changing the policy, with the reason) or declines a request.", reviews::decide_form::<S>),
        // The activity log.
        route(get.clone(),    "/activity",                    Roles(ACTIVITY), PupilActivity, Some("Activity"), "Search what the filter allowed and blocked, by person, device, time, category and decision.", activity::search::<S>),
        route(get.clone(),    "/activity.csv",                Roles(ACTIVITY), PupilActivity, None, "The current activity search as a CSV file.", activity::csv::<S>),
        route(get.clone(),    "/activity/people/{username}",  Roles(ACTIVITY), PupilActivity, None, "One person's activity, day by day.", activity::person::<S>),
        // The JSON API: reviews and activity.
        route(get.clone(),    "/api/v1/activity",             Roles(ACTIVITY), PupilActivity, None, "A page of activity, newest first, with the same filters as the page; `before` takes the previous page's `older`.", activity::api_search::<S>),
        route(get.clone(),    "/api/v1/reviews",              Roles(REVIEWERS), PupilActivity, None, "Review requests, open ones first; breach detail only for the safeguarding team.", reviews::api_list::<S>),
        route(post.clone(),   "/api/v1/reviews",              Roles(ALL),   Nothing, None, "Reports a site that should be blocked (a filtering breach).", reviews::api_report::<S>),
        route(post.clone(),   "/api/v1/reviews/{id}/decision", Roles(REVIEWERS), Filtering, None, "Approves or declines a review request with a reason; approval changes the policy.", reviews::api_decide::<S>),
        // Reports and the filter self-test (issue 7, docs/reports.md).
        route(Method::GET,   "/reports/weekly",              Roles(WEEKLY_REPORT), Shows::PupilActivity, Some("Weekly report"), "Attempts to reach restricted material in a week, by person, with repeated and circumvention attempts highlighted (§7.3.4).", reports::weekly::<S>),
        route(Method::GET,   "/reports/weekly.csv",          Roles(WEEKLY_REPORT), Shows::PupilActivity, None, "The weekly report as a CSV file.", reports::weekly_csv::<S>),
        route(Method::GET,   "/reports/governors",           Roles(GOVERNORS_REPORT), Shows::Aggregates, Some("Report to governors"), "The termly online safety report to governors: counts and trends only, small numbers hidden (§3).", reports::governors::<S>),
        route(Method::GET,   "/reports/governors.pdf",       Roles(GOVERNORS_REPORT), Shows::Aggregates, None, "The report to governors as a PDF.", reports::governors_pdf::<S>),
        route(Method::GET,   "/checks/selftest",             Roles(SELFTEST), Shows::Filtering, Some("Filter self-test"), "Test that a profile blocks what it must and lets help sites through.", reports::selftest_form::<S>),
        route(Method::POST,  "/checks/selftest",             Roles(SELFTEST), Shows::Filtering, None, "Runs the filter self-test for a profile and records it in the check log.", reports::selftest_run::<S>),
        // People and devices: people (with the MIS import), the device registry and networks.
        route(Method::GET,   "/people",                      Roles(PEOPLE_VIEW),   Shows::PupilActivity, Some("People"), "Pupils and staff the filter knows, searched by name, year group or class.", people::list::<S>),
        route(Method::GET,   "/people/import",               Roles(PEOPLE_MANAGE), Shows::PupilActivity, None, "Import pupils or staff from a CSV file your MIS exports.", people::import_form::<S>),
        route(Method::POST,  "/people/import",               Roles(PEOPLE_MANAGE), Shows::PupilActivity, None, "Reads an uploaded or pasted file and guesses its columns.", people::upload::<S>),
        route(Method::POST,  "/people/import/preview",       Roles(PEOPLE_MANAGE), Shows::PupilActivity, None, "Shows what an import would add and change, and its rows with problems.", people::preview::<S>),
        route(Method::POST,  "/people/import/confirm",       Roles(PEOPLE_MANAGE), Shows::PupilActivity, None, "Applies an import in one go and offers leavers.", people::confirm::<S>),
        route(Method::POST,  "/people/leavers",              Roles(PEOPLE_MANAGE), Shows::PupilActivity, None, "Disables the leavers chosen after an import (never deletes).", people::leavers::<S>),
        route(Method::GET,   "/people/{username}",           Roles(PEOPLE_VIEW),   Shows::PupilActivity, None, "One person: their details, profile and status.", people::detail::<S>),
        route(Method::POST,  "/people/{username}",           Roles(PEOPLE_MANAGE), Shows::PupilActivity, None, "Changes a person's profile by hand, with a reason.", people::change::<S>),
        route(Method::POST,  "/people/{username}/disable",   Roles(PEOPLE_MANAGE), Shows::PupilActivity, None, "Disables a leaver (never deletes, §7.10).", people::disable::<S>),
        route(Method::POST,  "/people/{username}/enable",    Roles(PEOPLE_MANAGE), Shows::PupilActivity, None, "Re-enables a disabled person.", people::enable::<S>),
        route(Method::GET,   "/devices",                     Roles(PEOPLE_MANAGE), Shows::Filtering, Some("Devices"), "The device registry: names for addresses, owners, school-owned or personal.", devices::list::<S, Device>),
        route(Method::POST,  "/devices",                     Roles(PEOPLE_MANAGE), Shows::Filtering, None, "Adds a device.", devices::add::<S, Device>),
        route(Method::GET,   "/devices/{name}",              Roles(PEOPLE_MANAGE), Shows::Filtering, None, "One device, to edit.", devices::one::<S, Device>),
        route(Method::POST,  "/devices/{name}",              Roles(PEOPLE_MANAGE), Shows::Filtering, None, "Saves changes to a device.", devices::edit::<S, Device>),
        route(Method::POST,  "/devices/{name}/remove",       Roles(PEOPLE_MANAGE), Shows::Filtering, None, "Removes a device from the registry.", devices::remove::<S, Device>),
        route(Method::GET,   "/networks",                    Roles(PEOPLE_MANAGE), Shows::Filtering, Some("Networks"), "Address ranges and their profiles, such as guest Wi-Fi.", devices::list::<S, Network>),
        route(Method::POST,  "/networks",                    Roles(PEOPLE_MANAGE), Shows::Filtering, None, "Adds a network.", devices::add::<S, Network>),
        route(Method::GET,   "/networks/{name}",             Roles(PEOPLE_MANAGE), Shows::Filtering, None, "One network, to edit.", devices::one::<S, Network>),
        route(Method::POST,  "/networks/{name}",             Roles(PEOPLE_MANAGE), Shows::Filtering, None, "Saves changes to a network.", devices::edit::<S, Network>),
        route(Method::POST,  "/networks/{name}/remove",      Roles(PEOPLE_MANAGE), Shows::Filtering, None, "Removes a network.", devices::remove::<S, Network>),
        route(Method::GET,   "/api/v1/people",               Roles(PEOPLE_VIEW),   Shows::PupilActivity, None, "People, searched by name, year group, class, kind and status, a page at a time.", people_api::people::<S>),
        route(Method::GET,   "/api/v1/people/{username}",    Roles(PEOPLE_VIEW),   Shows::PupilActivity, None, "One person.", people_api::person::<S>),
        route(Method::PATCH, "/api/v1/people/{username}",    Roles(PEOPLE_MANAGE), Shows::PupilActivity, None, "Changes a person's profile, or disables or re-enables them, with a reason.", people_api::change_person::<S>),
        route(Method::GET,   "/api/v1/devices",              Roles(PEOPLE_MANAGE), Shows::Filtering, None, "The device registry.", people_api::list::<S, Device>),
        route(Method::POST,  "/api/v1/devices",              Roles(PEOPLE_MANAGE), Shows::Filtering, None, "Adds a device or replaces the one with the same name.", people_api::save::<S, Device>),
        route(Method::DELETE, "/api/v1/devices/{name}",      Roles(PEOPLE_MANAGE), Shows::Filtering, None, "Removes a device.", people_api::remove::<S, Device>),
        route(Method::GET,   "/api/v1/networks",             Roles(PEOPLE_MANAGE), Shows::Filtering, None, "Networks and their profiles.", people_api::list::<S, Network>),
        route(Method::POST,  "/api/v1/networks",             Roles(PEOPLE_MANAGE), Shows::Filtering, None, "Adds a network or replaces the one with the same name.", people_api::save::<S, Network>),
        route(Method::DELETE, "/api/v1/networks/{name}",     Roles(PEOPLE_MANAGE), Shows::Filtering, None, "Removes a network.", people_api::remove::<S, Network>),
        // Alerts (monitoring): the safeguarding team only.
        route(Method::GET,   "/alerts",                      Roles(SAFEGUARDING), Shows::Safeguarding, Some("Alerts"), "Monitoring alerts, new ones first, by state, category and severity.", alerts::list::<S>),
        route(Method::GET,   "/alerts/rates",                Roles(SAFEGUARDING), Shows::Safeguarding, None, "How often alerts were false positives, per phrase and category.", alerts::rates::<S>),
        route(Method::GET,   "/alerts/library",              Roles(SAFEGUARDING), Shows::Safeguarding, None, "The phrase library monitoring uses, with its history.", alerts::library_view::<S>),
        route(Method::POST,  "/alerts/library",              Roles(SAFEGUARDING), Shows::Safeguarding, None, "Saves a checked change to the phrase library, with a reason.", alerts::library_save::<S>),
        route(Method::GET,   "/alerts/{id}",                 Roles(SAFEGUARDING), Shows::Safeguarding, None, "One alert: who, which device, when, what, and its decisions.", alerts::detail::<S>),
        route(Method::POST,  "/alerts/{id}/triage",          Roles(SAFEGUARDING), Shows::Safeguarding, None, "Marks an alert reviewed or a false positive, or escalates it to a concern.", alerts::triage_form::<S>),
        route(Method::GET,   "/api/v1/alerts",               Roles(SAFEGUARDING), Shows::Safeguarding, None, "Monitoring alerts, newest first, by state, category and severity; `before` takes the previous page's `older`.", alerts::api_list::<S>),
        route(Method::POST,  "/api/v1/alerts/{id}/triage",   Roles(SAFEGUARDING), Shows::Safeguarding, None, "Records a triage decision; escalating raises a concern with the alert's evidence.", alerts::api_triage::<S>),
    ]
}

/// Headers on every answer: nothing from other sites, no framing, no
/// caching of pages that may name people, no referrer leaking set-up links.
async fn security_headers(request: axum::extract::Request, next: middleware::Next) -> Response {
    let is_asset = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !is_asset {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        crate::ApiError(AppError::not_found()).into_response()
    } else {
        AppError::not_found().into_response()
    }
}

/// The console as a `Router`, built from [`table`] only.
pub fn app<S: Store + 'static>(console: Arc<Console<S>>) -> Router {
    let routes = table::<S>();
    let _ = console
        .routes
        .set(routes.iter().map(|r| r.entry.clone()).collect());
    let mut router: Router<Arc<Console<S>>> = Router::new();
    for Route { entry, service } in routes {
        let state = console.clone();
        let (access, kind) = (entry.access, entry.kind);
        let guarded = service.route_layer(middleware::from_fn(move |request, next| {
            access::enforce(state.clone(), access, kind, request, next)
        }));
        router = router.route(entry.path, guarded);
    }
    router
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            console.clone(),
            csrf::protect::<S>,
        ))
        .layer(middleware::from_fn(security_headers))
        .with_state(console)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_route_shows_a_role_what_it_must_not_see() {
        for Route { entry, .. } in table::<store::sqlite::SqliteStore>() {
            for role in Role::ALL {
                if let Access::Roles(_) = entry.access
                    && entry.access.admits(role)
                {
                    assert!(
                        entry.shows.allowed_for(role),
                        "{} {} shows {:?} to {role}",
                        entry.method,
                        entry.path,
                        entry.shows
                    );
                }
            }
            if !matches!(entry.access, Access::Roles(_)) {
                assert!(
                    matches!(entry.shows, Shows::Nothing | Shows::OwnAccount),
                    "{} is open to more than roles but shows {:?}",
                    entry.path,
                    entry.shows
                );
            }
        }
    }

    #[test]
    fn the_content_rules_keep_technicians_and_governors_out() {
        assert!(!Shows::Safeguarding.allowed_for(Role::Technician));
        assert!(!Shows::Safeguarding.allowed_for(Role::Governor));
        assert!(!Shows::Safeguarding.allowed_for(Role::Staff));
        assert!(Shows::Safeguarding.allowed_for(Role::Dsl));
        assert!(!Shows::PupilActivity.allowed_for(Role::Governor));
        assert!(Shows::Aggregates.allowed_for(Role::Governor));
        assert!(!Shows::Accounts.allowed_for(Role::Technician));
    }
}
