//! People as the console shows and imports them: the fuller record behind
//! [`crate::Person`] (which the filter uses), a search over it that pages
//! in SQL, and an import applied in one transaction.

use jiff::Timestamp;
use jiff::civil::Date;
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
    /// From the MIS import; child protection records are kept from it
    /// (records::retention). Shown to DSL roles only, so never serialised
    /// (the people API and technicians' pages serialise this record).
    #[serde(skip)]
    pub date_of_birth: Option<Date>,
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
    pub date_of_birth: Option<Date>,
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

/// "Given Family", or `otherwise` when both are empty.
pub fn full_name(given: &str, family: &str, otherwise: &str) -> String {
    let name = format!("{} {}", given.trim(), family.trim());
    let name = name.trim();
    if name.is_empty() {
        otherwise.to_owned()
    } else {
        name.to_owned()
    }
}

fn shown(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("none")
}

impl PersonRecord {
    /// This person as an import would leave them: the file's names, year
    /// group, class and kind; its MIS id and email where it gives them; the
    /// year group's profile unless the profile was set by hand.
    pub fn merged_with(&self, p: &ImportedPerson) -> PersonRecord {
        let mut after = self.clone();
        after.display_name = full_name(&p.given_name, &p.family_name, &self.display_name);
        after.given_name = p.given_name.trim().to_owned();
        after.family_name = p.family_name.trim().to_owned();
        after.mis_id = p.mis_id.clone().or_else(|| self.mis_id.clone());
        after.year_group = p.year_group.clone();
        after.class_group = p.class_group.clone();
        after.email = p.email.clone().or_else(|| self.email.clone());
        after.kind = p.kind;
        after.date_of_birth = p.date_of_birth.or(self.date_of_birth);
        if !self.profile_set_by_hand {
            after.profile = p.profile.clone();
        }
        after
    }

    /// What differs from this record in `after`, one readable line each:
    /// "year group 'Year 5' → 'Year 6'".
    pub fn differences(&self, after: &PersonRecord) -> Vec<String> {
        let mut lines = Vec::new();
        let mut text = |what: &str, a: &str, b: &str| {
            if a != b {
                lines.push(format!("{what} '{a}' → '{b}'"));
            }
        };
        text("given name", &self.given_name, &after.given_name);
        text("family name", &self.family_name, &after.family_name);
        text(
            "year group",
            shown(&self.year_group),
            shown(&after.year_group),
        );
        text("class", shown(&self.class_group), shown(&after.class_group));
        text("email", shown(&self.email), shown(&after.email));
        text("MIS id", shown(&self.mis_id), shown(&after.mis_id));
        text("kind", self.kind.as_str(), after.kind.as_str());
        text("profile", &self.profile, &after.profile);
        if self.date_of_birth != after.date_of_birth {
            // The audit is read by technicians: say that it changed, not what it is.
            lines.push("date of birth changed".to_owned());
        }
        if self.profile_set_by_hand != after.profile_set_by_hand {
            lines.push(if after.profile_set_by_hand {
                "profile now set by hand (imports keep it)".to_owned()
            } else {
                "profile follows imports again".to_owned()
            });
        }
        lines
    }
}
