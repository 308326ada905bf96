//! People as the console shows and imports them: the fuller record behind
//! [`crate::Person`] (which the filter uses), a search over it that pages
//! in SQL, and an import applied in one transaction.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Pupil or member of staff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PersonKind {
    Pupil,
    Staff,
}

impl PersonKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonKind::Pupil => "pupil",
            PersonKind::Staff => "staff",
        }
    }

    pub fn parse(text: &str) -> Option<PersonKind> {
        match text.trim().to_ascii_lowercase().as_str() {
            "pupil" | "pupils" | "student" | "students" => Some(PersonKind::Pupil),
            "staff" => Some(PersonKind::Staff),
            _ => None,
        }
    }
}

/// Everything the console knows about someone schoolgate filters for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PersonRecord {
    pub username: String,
    /// The full name shown everywhere: given and family name, never initials.
    pub display_name: String,
    pub profile: String,
    pub disabled: bool,
    /// The MIS identifier: a UPN, admission number or staff code.
    pub mis_id: Option<String>,
    pub given_name: String,
    pub family_name: String,
    /// `Nursery`, `Reception`, `Year 1` … `Year 13`; none for staff.
    pub year_group: Option<String>,
    /// The class or registration group.
    pub class_group: Option<String>,
    pub email: Option<String>,
    pub kind: PersonKind,
    /// Someone chose the profile by hand; imports leave it alone.
    pub profile_set_by_hand: bool,
    pub disabled_at: Option<Timestamp>,
    pub disabled_by: Option<String>,
    /// Whether a proxy sign-in password is set (the hash is never shown).
    pub can_sign_in: bool,
    pub created_at: Timestamp,
}

/// Active, disabled (leavers) or both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeopleStatus {
    #[default]
    Active,
    Disabled,
    All,
}

/// What to look for among people; every field narrows the search.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeopleQuery {
    /// Part of a name, a username, an email or an MIS id.
    pub text: Option<String>,
    pub year_group: Option<String>,
    pub class_group: Option<String>,
    pub kind: Option<PersonKind>,
    pub status: PeopleStatus,
    /// How many to skip, then at most `limit`.
    pub offset: usize,
    pub limit: usize,
}

/// One page of people and how many match in all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PeoplePage {
    pub people: Vec<PersonRecord>,
    pub total: u64,
}

/// A change to one person made by hand in the console.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersonChange {
    /// A new profile; it is marked as set by hand so imports keep it.
    pub profile: Option<String>,
    /// Go back to the profile an import gives (clears "set by hand").
    pub profile_from_import: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// `Some(None)` clears it.
    pub year_group: Option<Option<String>>,
    pub class_group: Option<Option<String>>,
    pub email: Option<Option<String>>,
}

/// One person as an import file gives them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportedPerson {
    pub username: String,
    pub mis_id: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub year_group: Option<String>,
    pub class_group: Option<String>,
    pub email: Option<String>,
    pub kind: PersonKind,
    /// The profile the year group (or staff) gives; kept out when the
    /// person's profile was set by hand.
    pub profile: String,
}

impl ImportedPerson {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.given_name.trim(), self.family_name.trim())
    }
}

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    pub added: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// Changed people whose hand-set profile was kept.
    pub kept_profiles: u64,
}
