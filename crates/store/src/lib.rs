//! Storage for what schoolgate must remember: the filtering policy and its
//! history, the lists in force, what is known of the statutory lists, and
//! the audit trail.
//!
//! [`Store`] is the interface callers use; [`sqlite::SqliteStore`] is the
//! embedded backend every install starts with. A PostgreSQL backend for
//! trusts with many filter nodes implements the same trait with its own
//! migrations, so callers never change.
//!
//! Every change to the policy is recorded with who, when, what changed (the
//! readable lines of [`policy::diff`]) and why; a reason is required
//! (§7.3.1: changes are risk assessed, logged and recorded). The history and
//! the audit trail are append-only, enforced by the database itself.
//!
//! The console keeps its staff accounts, sessions, set-up links and API
//! tokens here too ([`console`]); changes to accounts and tokens go into the
//! audit trail, sign-ins do not.
//!
//! The safeguarding records (concerns, incidents, referrals, the read log;
//! `crates/records` holds their rules) are kept append-only: the store
//! checks the records crate's rules inside each write, and the database's
//! triggers refuse any UPDATE or DELETE (migration 0006).
//!
//! The outbox ([`outbox`]) keeps every message waiting to leave and what
//! became of it: sent, waiting to be tried again, or given up on with the
//! reason. Nothing is dropped silently.

use std::future::Future;

use ::records::registers::{Register, RegisterEntry};
use ::records::{
    Amendment, AttachmentMeta, Category, CategoryDecision, Closure, Concern, DirectoryContact,
    Incident, LegalHold, NewAttachment, NewConcern, NewIncident, NewReferral, PupilLinkChange,
    ReadLogEntry, ReadTarget, ReferralResponse, Role, StepRecord,
};
use jiff::Timestamp;
use policy::Policy;
use serde::Serialize;

pub mod alerts;
pub mod console;
pub mod outbox;
pub mod people;
pub mod records;
pub mod reports;
pub mod reviews;
pub mod sqlite;
mod sqlite_alerts;
mod sqlite_console;
mod sqlite_digests;
mod sqlite_outbox;
mod sqlite_people;
mod sqlite_policy;
mod sqlite_records;
mod sqlite_reports;
mod sqlite_retention;
mod sqlite_reviews;

pub use alerts::{
    AlertBatch, AlertFilter, AlertFold, AlertOutcome, AlertTriage, LibraryRevision, MonitorRead,
    NewAlert, StoredAlert,
};
pub use console::{ApiToken, ConsoleAccount, ConsoleSession, Hidden, NewConsoleAccount, SetupLink};
pub use outbox::{Channel, NewOutboxEntry, OutboxEntry, OutboxState};
pub use people::{
    ImportOutcome, ImportedPerson, PeoplePage, PeopleQuery, PeopleStatus, PersonChange, PersonKind,
    PersonRecord,
};
pub use records::{
    ActivityEvent, ActivityQuery, Device, LoginSession, Network, Person, ReviewRequest, Source,
};
pub use reviews::{
    ActivityCursor, ActivityRow, Decided, PolicyChange, Review, ReviewDecision, ReviewFilter,
    ReviewKind, ReviewStatus, StaffReport,
};
pub use sqlite_retention::PurgeReport;

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database could not be opened at {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("the database could not be brought up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("a reason is required for every policy change (§7.3.1); give one with --reason")]
    ReasonRequired,
    #[error("nothing would change: the new policy is the same as the current one")]
    NoChange,
    #[error(
        "the policy was changed (revision {current}) since this change was started from revision {base}; nothing was saved. Look at the newer revision and make the change again"
    )]
    StaleRevision { base: i64, current: i64 },
    #[error("the stored policy revision {number} could not be read: {problem}")]
    BadRevision { number: i64, problem: String },
    #[error("{what} '{name}' already exists; choose another name or remove the old one first")]
    Exists { what: &'static str, name: String },
    #[error("there is no {what} '{name}'")]
    NotFound { what: &'static str, name: String },
    /// A safeguarding records rule refused the change (crates/records).
    #[error("{0}")]
    Records(#[from] ::records::RecordsError),
}

/// One saved version of the policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyRevision {
    pub number: i64,
    pub at: Timestamp,
    pub actor: String,
    pub reason: String,
    /// What changed from the revision before, one readable line each.
    pub changes: Vec<String>,
    /// The whole policy in the TOML format.
    pub document: String,
}

impl PolicyRevision {
    pub fn policy(&self) -> Result<Policy, StoreError> {
        Policy::from_toml(&self.document).map_err(|e| StoreError::BadRevision {
            number: self.number,
            problem: e.to_string(),
        })
    }
}

/// A category list in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListRecord {
    pub name: String,
    /// The category id, or none for lists that carry several (never the case
    /// for imported lists today, kept for lists a trust shares).
    pub category: Option<String>,
    pub format: String,
    pub source: String,
    pub domains: i64,
    pub urls: i64,
    pub junk: i64,
    pub imported_at: Timestamp,
    pub actor: String,
}

/// What anyone may know of a statutory list: never its contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatutoryRecord {
    pub kind: String,
    pub entries: i64,
    pub fingerprint: String,
    /// `urls` or `hashes`: the form the list was loaded from.
    pub form: String,
    pub loaded_at: Timestamp,
    pub actor: String,
}

/// One line of the audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

/// The storage interface. Methods return `Send` futures so they can be
/// called from any task.
pub trait Store: Send + Sync {
    /// The policy in force, or none on a store that has never had one.
    fn current_policy(
        &self,
    ) -> impl Future<Output = Result<Option<PolicyRevision>, StoreError>> + Send;

    /// Saves a new revision of the policy, recording who, when, what and why.
    /// Refuses an empty reason and a change that changes nothing.
    fn save_policy(
        &self,
        policy: &Policy,
        actor: &str,
        reason: &str,
    ) -> impl Future<Output = Result<PolicyRevision, StoreError>> + Send;

    /// The newest `limit` revisions, newest first.
    fn policy_history(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<PolicyRevision>, StoreError>> + Send;

    /// Records a list import, replacing the record of a list with the same name.
    fn record_list(
        &self,
        record: &ListRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Forgets lists, for example UT1 categories that a newer UT1 no longer has.
    fn remove_lists(
        &self,
        names: &[String],
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The lists in force, by name.
    fn lists(&self) -> impl Future<Output = Result<Vec<ListRecord>, StoreError>> + Send;

    /// Records a statutory list load (count, fingerprint, when; never contents).
    fn record_statutory(
        &self,
        record: &StatutoryRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn statutory(&self) -> impl Future<Output = Result<Vec<StatutoryRecord>, StoreError>> + Send;

    /// The newest `limit` audit entries, newest first.
    fn audit_trail(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send;

    /// The newest audit entry's number: every change to what filtering uses
    /// (policy, lists, people, devices, networks) adds one, so a running
    /// filter reloads when this moves.
    fn audit_high_water(&self) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Adds a person, or replaces one with the same username.
    fn save_person(
        &self,
        person: &Person,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn people(&self) -> impl Future<Output = Result<Vec<Person>, StoreError>> + Send;
    /// Leavers are disabled, never deleted (§7.10).
    fn disable_person(
        &self,
        username: &str,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn save_device(
        &self,
        device: &Device,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn devices(&self) -> impl Future<Output = Result<Vec<Device>, StoreError>> + Send;
    fn remove_device(
        &self,
        name: &str,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn save_network(
        &self,
        network: &Network,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn networks(&self) -> impl Future<Output = Result<Vec<Network>, StoreError>> + Send;
    fn remove_network(
        &self,
        name: &str,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records a login session, replacing any for the same address.
    fn save_session(
        &self,
        session: &LoginSession,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Sessions that have not expired at `now`.
    fn sessions(
        &self,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<LoginSession>, StoreError>> + Send;

    fn save_review_request(
        &self,
        request: &ReviewRequest,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    fn review_requests(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<ReviewRequest>, StoreError>> + Send;

    /// Writes a batch of activity events in one transaction.
    fn record_activity(
        &self,
        events: &[ActivityEvent],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn search_activity(
        &self,
        query: &ActivityQuery,
    ) -> impl Future<Output = Result<Vec<ActivityEvent>, StoreError>> + Send;
    /// Removes activity older than `before`; returns how many events went.
    fn purge_activity(
        &self,
        before: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    // The console: accounts, sessions, set-up links, API tokens.

    /// Every console account, by username.
    fn console_accounts(
        &self,
    ) -> impl Future<Output = Result<Vec<ConsoleAccount>, StoreError>> + Send;
    /// The account with this username (any case), if there is one.
    fn console_account(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<Option<ConsoleAccount>, StoreError>> + Send;
    /// Adds an account; refuses a username already taken.
    fn add_console_account(
        &self,
        account: &NewConsoleAccount,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Whether an enabled administrator with a password exists: until one
    /// does, `serve` offers a first-run link.
    fn administrator_exists(&self) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn set_console_password(
        &self,
        username: &str,
        password_hash: &Hidden,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Disables (ending every session) or re-enables an account.
    fn set_console_account_disabled(
        &self,
        username: &str,
        disabled: bool,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Keeps a new TOTP secret for an account that is enrolling; two-factor
    /// sign-in is not on until [`Store::confirm_two_factor`].
    fn begin_two_factor(
        &self,
        username: &str,
        secret: &Hidden,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Turns two-factor sign-in on, remembering the step of the code that
    /// confirmed it.
    fn confirm_two_factor(
        &self,
        username: &str,
        step: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Forgets an account's TOTP secret (a lost phone) and ends its sessions;
    /// it enrols again at its next sign-in.
    fn reset_two_factor(
        &self,
        username: &str,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Accepts a code's time step once: false if this step or a later one
    /// was accepted before (a replayed code).
    fn accept_code_step(
        &self,
        username: &str,
        step: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Counts a failed sign-in for the username as typed (real or not) and
    /// the address it came from.
    fn record_sign_in_failure(
        &self,
        username: &str,
        client_ip: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// When this username failed to sign in, since `since`, oldest first.
    fn sign_in_failures(
        &self,
        username: &str,
        since: Timestamp,
    ) -> impl Future<Output = Result<Vec<Timestamp>, StoreError>> + Send;
    /// When sign-ins from this address failed, since `since`, oldest first.
    fn sign_in_failures_from(
        &self,
        client_ip: &str,
        since: Timestamp,
    ) -> impl Future<Output = Result<Vec<Timestamp>, StoreError>> + Send;
    /// Marks an account locked until `until` (for administrators to see).
    fn lock_console_account(
        &self,
        username: &str,
        until: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// A good sign-in: clears the failure count and any lock.
    fn record_sign_in(
        &self,
        username: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// An administrator lifts a lock-out: the failures are forgotten.
    fn unlock_console_account(
        &self,
        username: &str,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn start_console_session(
        &self,
        session: &ConsoleSession,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn console_session(
        &self,
        id_hash: &str,
    ) -> impl Future<Output = Result<Option<ConsoleSession>, StoreError>> + Send;
    /// Notes that a session was used at `at`, for the idle timeout.
    fn touch_console_session(
        &self,
        id_hash: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn end_console_session(
        &self,
        id_hash: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Signs an account out everywhere; returns how many sessions ended.
    fn end_console_sessions(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// An account's sessions that have not reached their absolute end.
    fn console_sessions_of(
        &self,
        username: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<ConsoleSession>, StoreError>> + Send;

    fn add_setup_link(
        &self,
        link: &SetupLink,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn setup_link(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<SetupLink>, StoreError>> + Send;
    /// Uses a link once: true if it was unused and unexpired at `at`.
    fn use_setup_link(
        &self,
        token_hash: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Ends the unused links for an account, or the first-run links (`None`),
    /// so only the newest one works.
    fn withdraw_setup_links(
        &self,
        username: Option<&str>,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Keeps a new API token (its hash); returns its number.
    fn add_api_token(
        &self,
        token: &ApiToken,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    fn api_tokens_of(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<Vec<ApiToken>, StoreError>> + Send;
    /// The token with this hash, revoked or not.
    fn api_token(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<ApiToken>, StoreError>> + Send;
    fn touch_api_token(
        &self,
        id: i64,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Revokes one of an account's tokens.
    fn revoke_api_token(
        &self,
        username: &str,
        id: i64,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    // The filtering policy in the console: one revision by number, and
    // saving a change made from a known revision.

    /// Revision `number`, if there is one.
    fn policy_revision(
        &self,
        number: i64,
    ) -> impl Future<Output = Result<Option<PolicyRevision>, StoreError>> + Send;

    /// Saves as [`Store::save_policy`] does, but only while `base` is still
    /// the newest revision: a change started from an older revision is
    /// refused with [`StoreError::StaleRevision`], so two people editing at
    /// once never silently overwrite each other.
    fn save_policy_on(
        &self,
        policy: &Policy,
        actor: &str,
        reason: &str,
        base: i64,
    ) -> impl Future<Output = Result<PolicyRevision, StoreError>> + Send;

    // Safeguarding records (crates/records; migration 0006). Append-only:
    // every method adds rows, none changes or removes one. Each write checks
    // the records crate's rules inside its transaction and returns
    // `StoreError::Records` when they refuse. Reads return everything;
    // callers decide who sees what with `records::access` and store the
    // read-log entry it gives them with `log_record_read`.

    /// The concern categories in use (the shipped defaults until the DSL
    /// changes them).
    fn concern_categories(&self) -> impl Future<Output = Result<Vec<Category>, StoreError>> + Send;
    /// Replaces the category set with a new version (DSL roles only).
    fn set_concern_categories(
        &self,
        set: &[Category],
        actor: &str,
        role: Role,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Stores a new concern with its pupils; returns its number.
    fn raise_concern(
        &self,
        concern: &NewConcern,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    fn concern(&self, id: i64) -> impl Future<Output = Result<Option<Concern>, StoreError>> + Send;
    /// Every concern, oldest first.
    fn concerns(&self) -> impl Future<Output = Result<Vec<Concern>, StoreError>> + Send;
    fn set_concern_category(
        &self,
        decision: &CategoryDecision,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Links or unlinks a pupil (DSL roles only, with a reason).
    fn change_pupil_link(
        &self,
        change: &PupilLinkChange,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Stores a correction; `before` is read from the record, not trusted
    /// from the caller. Returns the amendment as stored.
    fn amend_record(
        &self,
        amendment: &Amendment,
    ) -> impl Future<Output = Result<Amendment, StoreError>> + Send;
    /// Opens an incident; returns its number.
    fn open_incident(
        &self,
        incident: &NewIncident,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    fn incident(
        &self,
        id: i64,
    ) -> impl Future<Output = Result<Option<Incident>, StoreError>> + Send;
    /// Every incident, oldest first.
    fn incidents(&self) -> impl Future<Output = Result<Vec<Incident>, StoreError>> + Send;
    fn record_step(&self, step: &StepRecord)
    -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Closes an incident: an outcome, lessons learnt, every step decided.
    fn close_incident(
        &self,
        closure: &Closure,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Keeps a document; refused for nudes and indecent-image incidents.
    fn add_attachment(
        &self,
        attachment: &NewAttachment,
        content: &[u8],
    ) -> impl Future<Output = Result<AttachmentMeta, StoreError>> + Send;
    fn attachment(
        &self,
        id: i64,
    ) -> impl Future<Output = Result<Option<(AttachmentMeta, Vec<u8>)>, StoreError>> + Send;
    /// Adds a directory entry (`id` 0) or a new version of entry `id`;
    /// returns the new row's number.
    fn save_referral_contact(
        &self,
        contact: &DirectoryContact,
        role: Role,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Withdraws entry `contact.id` (kept for the referrals that used it).
    fn withdraw_referral_contact(
        &self,
        contact: &DirectoryContact,
        role: Role,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The directory entries in force.
    fn referral_directory(
        &self,
    ) -> impl Future<Output = Result<Vec<DirectoryContact>, StoreError>> + Send;
    fn make_referral(
        &self,
        referral: &NewReferral,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    fn answer_referral(
        &self,
        response: &ReferralResponse,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn log_record_read(
        &self,
        entry: &ReadLogEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every read of one record, oldest first.
    fn record_read_log(
        &self,
        target: &ReadTarget,
    ) -> impl Future<Output = Result<Vec<ReadLogEntry>, StoreError>> + Send;
    fn set_legal_hold(
        &self,
        hold: &LegalHold,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The legal holds in force.
    fn legal_holds(&self) -> impl Future<Output = Result<Vec<LegalHold>, StoreError>> + Send;
    /// Adds an entry to one of the policy's registers, checked against
    /// the register as it stands; returns its number.
    fn add_register_entry(
        &self,
        entry: &RegisterEntry,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Every entry of a register, oldest first.
    fn register_entries(
        &self,
        register: Register,
    ) -> impl Future<Output = Result<Vec<RegisterEntry>, StoreError>> + Send;

    // Review requests (both ways) and the activity log's search pages.

    fn review(&self, id: i64) -> impl Future<Output = Result<Option<Review>, StoreError>> + Send;
    /// The newest request made with this block-page reference.
    fn review_by_reference(
        &self,
        reference: &str,
    ) -> impl Future<Output = Result<Option<Review>, StoreError>> + Send;
    /// Reviews, open ones first, then the newest.
    fn reviews(
        &self,
        filter: &ReviewFilter,
    ) -> impl Future<Output = Result<Vec<Review>, StoreError>> + Send;
    /// Records a staff report of a site that should be blocked (a filtering
    /// breach); returns its number.
    fn add_staff_report(
        &self,
        report: &StaffReport,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Records a decision on an open review; false if it was not open (it
    /// was decided already, or there is no such review).
    fn decide_review(
        &self,
        id: i64,
        decision: &ReviewDecision,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Records an approval and saves the policy it makes in one
    /// transaction, so neither happens without the other. The decision's
    /// `policy_revision` becomes the revision saved (none when the policy
    /// is unchanged). Refused with [`StoreError::StaleRevision`], and
    /// nothing written, when a revision newer than `change.base` exists.
    fn decide_review_changing_policy(
        &self,
        id: i64,
        decision: &ReviewDecision,
        change: &PolicyChange<'_>,
    ) -> impl Future<Output = Result<Decided, StoreError>> + Send;
    /// A page of activity, newest first, after `before` (keyset paging: as
    /// fast deep in the log as at its start).
    fn activity_page(
        &self,
        query: &ActivityQuery,
        before: Option<ActivityCursor>,
    ) -> impl Future<Output = Result<Vec<ActivityRow>, StoreError>> + Send;

    // People and devices (the console): the fuller person record, a search
    // that pages in SQL, changes by hand with a reason, and imports.

    /// The fuller record of one person, if there is one.
    fn person_record(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<Option<PersonRecord>, StoreError>> + Send;
    /// Every person's fuller record, by username (to compare an import with).
    fn person_records(&self) -> impl Future<Output = Result<Vec<PersonRecord>, StoreError>> + Send;
    /// One page of the people matching `query`, by family name then given
    /// name, with how many match in all; filtered and paged by the database.
    fn search_people(
        &self,
        query: &PeopleQuery,
    ) -> impl Future<Output = Result<PeoplePage, StoreError>> + Send;
    /// The year groups and the classes people are in, for the filters.
    fn people_groups(
        &self,
    ) -> impl Future<Output = Result<(Vec<String>, Vec<String>), StoreError>> + Send;
    /// Changes one person by hand; the reason goes into the audit trail. A
    /// new profile is marked as set by hand, so imports keep it.
    fn change_person(
        &self,
        username: &str,
        change: &PersonChange,
        actor: &str,
        reason: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Disables (leavers, §7.10: never deleted) or re-enables people, noting
    /// when and by whom, in one transaction; refuses all if one is unknown.
    /// Returns how many changed.
    fn set_people_disabled(
        &self,
        usernames: &[String],
        disabled: bool,
        actor: &str,
        reason: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Adds and updates people from an import in one transaction (nothing
    /// is stored if any of it fails), keeping hand-set profiles, with one
    /// audit entry giving the counts.
    fn import_people(
        &self,
        people: &[ImportedPerson],
        actor: &str,
        source: &str,
    ) -> impl Future<Output = Result<ImportOutcome, StoreError>> + Send;

    // Outbox: messages waiting to leave (alert emails, reports, webhook
    // calls), one row per destination, kept after they are sent or fail.

    /// Queues a message; returns its number, or none when a message with the
    /// same dedup key for the same destination was queued before.
    fn enqueue_outbox(
        &self,
        entry: &NewOutboxEntry,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;
    /// Claims up to `limit` messages due at `now` (most severe first) until
    /// `lease_until`: a sender that stops mid-way leaves them to be tried
    /// again once the claim lapses.
    fn claim_outbox(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxEntry>, StoreError>> + Send;
    /// Records that a message left at `at`.
    fn outbox_sent(
        &self,
        id: i64,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Records a failed attempt and why: it is tried again at `retry_at`, or,
    /// with none, given up on and kept as failed.
    fn outbox_failed(
        &self,
        id: i64,
        at: Timestamp,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The newest `limit` messages, newest first, whatever their state.
    fn outbox_entries(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxEntry>, StoreError>> + Send;

    // Alerts (crates/monitor; migration 0011): alerts the warm path raised,
    // their triage history (append-only), how far the monitor has read the
    // activity log, and the phrase library in force with its revisions.

    /// The activity after id `after` the monitor can raise a signal from
    /// (a search term, a block, or one of the `circumvention` categories),
    /// oldest first, at most `limit`, with ids; and how far the read got.
    /// Plain allowed browsing is passed over without being decoded.
    fn monitor_read(
        &self,
        after: i64,
        limit: usize,
        circumvention: &[String],
    ) -> impl Future<Output = Result<MonitorRead, StoreError>> + Send;
    /// The last activity id the monitor has read (0 before it read any).
    fn monitor_cursor(&self) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// The highest alert id stored (0 when there are none).
    fn last_alert_id(&self) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Stores new alerts, folds repeats into stored ones and moves the
    /// cursor, all in one transaction.
    fn record_alerts(
        &self,
        batch: &AlertBatch,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn alert(
        &self,
        id: i64,
    ) -> impl Future<Output = Result<Option<StoredAlert>, StoreError>> + Send;
    /// Alerts matching `filter`, newest first.
    fn alerts(
        &self,
        filter: &AlertFilter,
    ) -> impl Future<Output = Result<Vec<StoredAlert>, StoreError>> + Send;
    /// How many alerts are in this triage state.
    fn count_alerts(&self, state: &str) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Applies a triage decision if the alert is still in state `from`;
    /// false when it is not (someone else decided first, or no such alert).
    fn triage_alert(
        &self,
        from: &str,
        decision: &AlertTriage,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Raises `concern` from an alert in state `from` and marks the alert
    /// escalated to it; returns the concern's number, or none when the alert
    /// was no longer in state `from` (nothing is stored then).
    fn escalate_alert(
        &self,
        from: &str,
        concern: &NewConcern,
        decision: &AlertTriage,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;
    /// Every triage decision about one alert, oldest first.
    fn alert_triage_history(
        &self,
        alert: i64,
    ) -> impl Future<Output = Result<Vec<AlertTriage>, StoreError>> + Send;
    /// Every alert's category, phrase and state, for false-positive rates.
    fn alert_outcomes(&self) -> impl Future<Output = Result<Vec<AlertOutcome>, StoreError>> + Send;
    /// The phrase library in force; none means the starter library.
    fn phrase_library(
        &self,
    ) -> impl Future<Output = Result<Option<LibraryRevision>, StoreError>> + Send;
    /// The newest `limit` library revisions, newest first.
    fn phrase_library_history(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<LibraryRevision>, StoreError>> + Send;
    /// Saves a new library (checked by the caller) with who and why, and
    /// an audit entry; returns its revision number.
    fn save_phrase_library(
        &self,
        files: &[(String, String)],
        actor: &str,
        reason: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    // Retention (records::retention; migration 0013). The only deletion of
    // safeguarding records: exactly what the plan lists, nothing under
    // legal hold, in one transaction with its report.
    /// Removes what `plan` lists and stores a report naming each record and
    /// why (never its content); on any error nothing is removed.
    fn purge_records(
        &self,
        plan: &::records::retention::PurgePlan,
        actor: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<PurgeReport, StoreError>> + Send;
    /// The newest `limit` purge reports, newest first.
    fn purge_reports(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<PurgeReport>, StoreError>> + Send;

    // Reports (DESIGN.md C11): blocked attempts counted in SQL for the
    // weekly report and the governors' report (see `reports`).

    /// Blocked attempts in `[from, until)` per person (or address) and set
    /// of categories, per person and site, and the search terms of blocked
    /// and safe-search requests per person.
    fn weekly_report_rows(
        &self,
        from: Timestamp,
        until: Timestamp,
    ) -> impl Future<Output = Result<reports::WeeklyRows, StoreError>> + Send;
    /// Blocked attempts in `[from, until)` per set of categories, as the
    /// log keeps them (comma-separated).
    fn blocked_by_categories(
        &self,
        from: Timestamp,
        until: Timestamp,
    ) -> impl Future<Output = Result<Vec<(String, u64)>, StoreError>> + Send;

    // Digests (crates/schoolgate/src/schedule.rs): the alerts a daily or
    // weekly digest covers, and whether a scheduled message (a digest, the
    // weekly report) was already queued.

    /// Alerts raised in `[from, until)` with this routing (`daily`,
    /// `weekly`, ...), oldest first.
    fn alerts_raised(
        &self,
        from: Timestamp,
        until: Timestamp,
        routing: &str,
    ) -> impl Future<Output = Result<Vec<StoredAlert>, StoreError>> + Send;
    /// Whether a message with this dedup key was ever queued in the
    /// outbox, for any destination, whatever became of it.
    fn outbox_has_key(
        &self,
        dedup_key: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
