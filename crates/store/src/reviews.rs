//! Review requests both ways (§7.3.2) and the activity log's search pages.
//!
//! A [`Review`] is either a block page's "ask for this to be checked"
//! (over-blocking, from a pupil or anyone behind the filter) or a member of
//! staff's report of a site that should have been blocked (under-blocking).
//! A staff report is a filtering breach: the site was reachable when it
//! should not have been, so it is flagged for the DSL roles.

use jiff::Timestamp;
use serde::Serialize;

use crate::{ActivityEvent, PolicyRevision};

/// Which way the filter got it wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReviewKind {
    /// Blocked, but should be reachable: asked from a block page.
    OverBlocking,
    /// Reachable, but should be blocked: reported by staff.
    UnderBlocking,
}

impl ReviewKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewKind::OverBlocking => "over-blocking",
            ReviewKind::UnderBlocking => "under-blocking",
        }
    }

    pub fn parse(text: &str) -> ReviewKind {
        if text == "under-blocking" {
            ReviewKind::UnderBlocking
        } else {
            ReviewKind::OverBlocking
        }
    }
}

/// Where a review stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReviewStatus {
    Open,
    Approved,
    Declined,
}

impl ReviewStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Open => "open",
            ReviewStatus::Approved => "approved",
            ReviewStatus::Declined => "declined",
        }
    }

    pub fn parse(text: &str) -> ReviewStatus {
        match text {
            "approved" => ReviewStatus::Approved,
            "declined" => ReviewStatus::Declined,
            _ => ReviewStatus::Open,
        }
    }
}

/// A review request with everything known of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Review {
    pub id: i64,
    pub at: Timestamp,
    pub kind: ReviewKind,
    /// The block page's reference; empty for staff reports.
    pub reference: String,
    pub url: String,
    /// The profile the block was made with; empty when not known.
    pub profile: String,
    /// The rule that blocked it; empty for staff reports.
    pub rule: String,
    /// Where a block-page request came from.
    pub client_ip: String,
    /// Who the filter identified behind a block-page request.
    pub username: Option<String>,
    pub device: Option<String>,
    /// The console account that reported it (staff reports).
    pub requester: Option<String>,
    /// Who found the site (staff reports; may name a pupil).
    pub found_by: String,
    /// Why they asked, or what happened.
    pub message: String,
    pub breach: bool,
    pub status: ReviewStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub decision_reason: Option<String>,
    /// The policy revision an approval created.
    pub policy_revision: Option<i64>,
}

/// A staff report of a site that should be blocked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffReport {
    pub at: Timestamp,
    /// The console account reporting it.
    pub requester: String,
    pub url: String,
    pub device: Option<String>,
    pub found_by: String,
    pub what_happened: String,
}

/// A decision on a review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewDecision {
    pub approved: bool,
    pub by: String,
    pub at: Timestamp,
    pub reason: String,
    /// The revision the approval saved, if the policy changed.
    pub policy_revision: Option<i64>,
}

/// The policy an approval saves with its decision
/// (`Store::decide_review_changing_policy`).
#[derive(Clone, Copy, Debug)]
pub struct PolicyChange<'a> {
    pub policy: &'a policy::Policy,
    /// The revision the change was made from: nothing is saved if another
    /// has been saved since.
    pub base: i64,
    /// The revision's reason, for its history.
    pub reason: &'a str,
}

/// What became of a decision.
#[derive(Clone, Debug, PartialEq)]
pub enum Decided {
    /// Recorded, with the policy revision it saved, if the policy changed.
    Decided { revision: Option<PolicyRevision> },
    /// The review was not open (decided already, or none such): nothing
    /// was written.
    NotOpen,
}

/// Which reviews to list: open ones first, then the newest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReviewFilter {
    /// Only those this console account reported.
    pub requester: Option<String>,
    pub breaches_only: bool,
    pub open_only: bool,
    pub limit: usize,
}

/// Where a page of activity ends: the next page starts after this event.
/// Events are ordered by time and then by number, so events with the same
/// time are never skipped or repeated between pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ActivityCursor {
    pub at_us: i64,
    pub id: i64,
}

impl ActivityCursor {
    /// As it travels in a link: `AT_US.ID`.
    pub fn encode(self) -> String {
        format!("{}.{}", self.at_us, self.id)
    }

    pub fn decode(text: &str) -> Option<ActivityCursor> {
        let (at, id) = text.trim().split_once('.')?;
        Some(ActivityCursor {
            at_us: at.parse().ok()?,
            id: id.parse().ok()?,
        })
    }
}

/// An activity event with its number, for paging.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActivityRow {
    pub id: i64,
    #[serde(flatten)]
    pub event: ActivityEvent,
}

impl ActivityRow {
    pub fn cursor(&self) -> ActivityCursor {
        ActivityCursor {
            at_us: self.event.at.as_microsecond(),
            id: self.id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_travel_as_text() {
        let c = ActivityCursor {
            at_us: 1_700_000_000_000_000,
            id: 42,
        };
        assert_eq!(ActivityCursor::decode(&c.encode()), Some(c));
        assert_eq!(ActivityCursor::decode("12"), None);
        assert_eq!(ActivityCursor::decode("a.b"), None);
    }
}
