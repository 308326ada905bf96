//! Monitoring alerts as stored: what the monitor raised (who, which device,
//! when, what, the events it stands for and how it was routed), every
//! triage decision about it (append-only), how far the monitor has read the
//! activity log, and the phrase library in force with its history.
//!
//! The monitor crate decides; the store only keeps. The console checks a
//! triage decision with `monitor::triage::decide` and the store applies it
//! only if the alert is still in the state the decision was made from.

use jiff::Timestamp;
use serde::Serialize;

/// An alert the monitor raised, ready to store. `id` is the monitor's own
/// number for it (one past the last stored alert when the monitor started).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewAlert {
    pub id: i64,
    pub raised_at: Timestamp,
    pub person: Option<String>,
    pub device: Option<String>,
    pub client_ip: String,
    pub category: String,
    /// From 1 to 5.
    pub severity: u8,
    /// `phrase`, `blocked`, `repeated` or `circumvention`.
    pub signal: String,
    /// For phrase alerts: the phrase's stable key, the phrase as written and
    /// the search term it was found in.
    pub phrase_key: Option<String>,
    pub phrase: Option<String>,
    pub term: Option<String>,
    /// For blocked and circumvention alerts: the address asked for.
    pub url: Option<String>,
    pub count: u32,
    pub first_at: Timestamp,
    pub last_at: Timestamp,
    pub first_event: i64,
    pub last_event: i64,
    /// `immediate`, `out-of-hours`, `daily` or `weekly`.
    pub routing: String,
}

/// A repeat folded into an alert already stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertFold {
    pub alert: i64,
    pub count: u32,
    pub last_at: Timestamp,
    pub event: i64,
}

/// What one pass of the monitor over the activity log produced, stored in
/// one transaction together with how far it read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlertBatch {
    pub raised: Vec<NewAlert>,
    pub folded: Vec<AlertFold>,
    /// The last activity id read.
    pub cursor: i64,
}

/// One read of the activity log for the monitor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MonitorRead {
    /// The events that can raise a signal, oldest first, with their ids.
    pub events: Vec<(i64, crate::records::ActivityEvent)>,
    /// Every event up to this id was looked at (the next cursor).
    pub read_to: i64,
    /// The newest event in the log when it was read: what is left after
    /// `read_to` is the monitor's backlog.
    pub newest: i64,
}

/// A stored alert with where it is in triage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredAlert {
    #[serde(flatten)]
    pub alert: NewAlert,
    /// `new`, `reviewed`, `false-positive` or `escalated`.
    pub state: String,
    /// The concern it was escalated to.
    pub concern: Option<i64>,
}

/// One triage decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AlertTriage {
    pub alert: i64,
    /// The state decided on.
    pub state: String,
    pub actor: String,
    pub at: Timestamp,
    pub reason: String,
    pub concern: Option<i64>,
}

/// Which alerts to list: newest first, each field narrowing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlertFilter {
    pub state: Option<String>,
    pub category: Option<String>,
    /// This severity or higher.
    pub min_severity: Option<u8>,
    /// Only alerts with a smaller id (the next page).
    pub before: Option<i64>,
    pub limit: usize,
}

/// One triaged-or-not alert, as false-positive rates need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertOutcome {
    pub category: String,
    pub phrase_key: Option<String>,
    pub state: String,
}

/// One saved version of the phrase library.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LibraryRevision {
    pub number: i64,
    pub at: Timestamp,
    pub actor: String,
    pub reason: String,
    /// `(file name, TOML text)`, in the order they are read.
    pub files: Vec<(String, String)>,
}
