//! The safeguarding records domain (DESIGN.md C9): concerns, incidents and
//! the procedures of the online safety policy's §10–11, referrals to the
//! agencies a school works with, amendments, who may read and change what,
//! each pupil's chronology and how long records are kept.
//!
//! * [`concern`]: a concern as a member of staff raises it, the DSL-owned
//!   categories, pupils linked and unlinked;
//! * [`procedure`]: the incident types of §11 and each one's checklist;
//! * [`incident`]: an incident, its recorded steps, attachments and closure;
//! * [`referral`]: the school's directory of agencies and referrals with
//!   their due dates;
//! * [`amendment`]: corrections, which never replace what was written;
//! * [`access`]: who may read or change what, and the read-log entry every
//!   read produces;
//! * [`chronology`]: one pupil's concerns, actions and referrals in order;
//! * [`retention`]: how long each kind of record is kept and what a purge
//!   at a given time would remove;
//! * [`registers`]: the policy's registers (acceptable use, confiscated
//!   devices, loans, training, consents, technology, reviews, checks,
//!   system access, file transfers);
//! * [`transfer`]: a pupil's child-protection file as one bundle for
//!   their new school.
//!
//! Nothing here touches a socket, a clock or a database: callers pass the
//! time and the stored rows, and store what comes back. Records are
//! append-only: every change is a new fact (a step recorded, a pupil
//! unlinked, an amendment), and the current state is folded from them.

#![forbid(unsafe_code)]

pub mod access;
pub mod amendment;
pub mod chronology;
pub mod concern;
pub mod incident;
pub mod procedure;
pub mod referral;
pub mod registers;
pub mod retention;
pub mod role;
pub mod transfer;

pub use access::{Access, ReadLogEntry, ReadTarget, Viewer};
pub use amendment::{Amendment, RecordKind, RecordRef};
pub use chronology::{ChronologyEntry, ChronologyKind};
pub use concern::{
    Category, CategoryDecision, Concern, Involvement, NewConcern, PupilLinkChange, PupilRef,
};
pub use incident::{
    AttachmentMeta, Closure, Decision, Incident, NewAttachment, NewIncident, StepRecord,
};
pub use procedure::{IiocCase, IncidentType, ProcedureStep};
pub use referral::{Agency, DirectoryContact, NewReferral, Referral, ReferralResponse};
pub use retention::{LegalHold, PurgePlan, RetentionClass, RetentionItem, RetentionSchedule};
pub use role::Role;

/// The zone for the few callers with no policy at hand (the store's own
/// checks): the policy's default `school.timezone`. Everything else is
/// given the school's zone from the policy.
pub(crate) fn default_zone() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Europe/London").unwrap_or(jiff::tz::TimeZone::UTC)
}

/// Why a records action was refused. Every message is for the member of
/// staff who tried it, and says what to do instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordsError {
    #[error("there is no {what} '{value}'")]
    Unknown { what: &'static str, value: String },
    #[error("{field} is empty: {hint}")]
    Missing {
        field: &'static str,
        hint: &'static str,
    },
    #[error(
        "'{name}' is not a full name: choose the pupil from the list by their full first name and surname, never initials, so the right child is recorded"
    )]
    NotAFullName { name: String },
    /// The role or person may not do this; the text says who may.
    #[error("{0}")]
    NotAllowed(String),
    /// The request does not make sense as given; the text says why.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    AttachmentRefused(&'static str),
    #[error(
        "this incident cannot be closed yet: record a decision for every step of its checklist first ({})",
        .0.join("; ")
    )]
    StepsOutstanding(Vec<String>),
    #[error("incident {0} is already closed; correct it with an amendment instead")]
    AlreadyClosed(i64),
    #[error(
        "you are not linked to this pupil: give a reason for opening their record, which will be kept in the read log"
    )]
    NeedsReason,
}

/// A required text field: trimmed, and refused when empty.
pub(crate) fn required(
    field: &'static str,
    value: &str,
    hint: &'static str,
) -> Result<(), RecordsError> {
    if value.trim().is_empty() {
        Err(RecordsError::Missing { field, hint })
    } else {
        Ok(())
    }
}
