//! Monitoring without I/O: what in pupils' activity should reach the
//! designated safeguarding lead (DSL), how fast, and how often.
//!
//! - [`library`]: phrase libraries (categories, phrases with a severity and a
//!   language, exclusions, help sites) read from TOML, and the starter
//!   library written for schoolgate (`data/`).
//! - [`matcher`]: finding phrases in search terms despite case, accents,
//!   letter substitutions, repeated letters, spacing and misspellings, with
//!   `normalise` folding both sides the same way.
//! - [`signal`]: what an activity event says: a phrase in a search term, a
//!   blocked attempt, repeated attempts, a way round the filter.
//! - [`alert`]: rules that turn signals into alerts with a severity and a
//!   route (at once to the DSL and deputies, with an out-of-hours contact
//!   order, or a daily or weekly digest), throttling repeats.
//! - [`triage`]: an alert's states (new, reviewed, false positive, escalated
//!   to a concern) and false-positive rates for tuning libraries.
//! - [`digest`]: alerts for a period grouped by category and person.
//!
//! Nothing here reads a clock: the time is always passed in, so rules are
//! tested with any time of day.

#![forbid(unsafe_code)]

pub mod alert;
pub mod digest;
pub mod library;
pub mod matcher;
mod normalise;
pub mod signal;
pub mod triage;

pub use alert::{
    Alert, AlertId, Contact, ContactRole, Monitor, Outcome, Period, Reason, Route, Rules,
    SchoolHours,
};
pub use digest::Digest;
pub use library::{Category, Library, LibraryError, Phrase, PhraseId, Severity};
pub use matcher::{Matcher, PhraseMatch, TooLarge};
pub use signal::{Activity, Signal, SignalKind, SignalSettings, Subject, Watcher};
pub use triage::{FalsePositiveRates, TriageDecision, TriageError, TriageState};
