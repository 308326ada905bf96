//! Corrections. Nothing written in a safeguarding record is replaced or
//! deleted: a correction is an amendment saying who, when, why and what
//! the field read before and after (DESIGN.md, "Non-negotiables").

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{RecordsError, Role, required};

/// The kinds of record that can be amended, read and kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordKind {
    Concern,
    Incident,
    Referral,
}

impl RecordKind {
    pub fn id(self) -> &'static str {
        match self {
            RecordKind::Concern => "concern",
            RecordKind::Incident => "incident",
            RecordKind::Referral => "referral",
        }
    }

    pub fn from_id(id: &str) -> Result<RecordKind, RecordsError> {
        match id {
            "concern" => Ok(RecordKind::Concern),
            "incident" => Ok(RecordKind::Incident),
            "referral" => Ok(RecordKind::Referral),
            _ => Err(RecordsError::Unknown {
                what: "kind of record",
                value: id.to_owned(),
            }),
        }
    }

    /// The fields an amendment may correct.
    pub fn amendable_fields(self) -> &'static [&'static str] {
        match self {
            RecordKind::Concern => &crate::concern::AMENDABLE_FIELDS,
            RecordKind::Incident => &["summary"],
            RecordKind::Referral => &["reference", "summary", "due_at"],
        }
    }
}

/// One record: its kind and number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordRef {
    pub kind: RecordKind,
    pub id: i64,
}

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.id(), self.id)
    }
}

/// A correction to one field of one record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amendment {
    pub record: RecordRef,
    pub field: String,
    /// What the field read before this amendment.
    pub before: String,
    pub after: String,
    pub why: String,
    pub actor: String,
    pub role: Role,
    pub at: Timestamp,
}

impl Amendment {
    /// Checks an amendment. `may_change` is the caller's answer, from
    /// [`crate::access`], to whether this person may change the record.
    pub fn validate(&self, may_change: bool) -> Result<(), RecordsError> {
        if !may_change {
            return Err(RecordsError::NotAllowed(format!(
                "you may not amend {}; ask the DSL to make the correction",
                self.record
            )));
        }
        if !self
            .record
            .kind
            .amendable_fields()
            .contains(&self.field.as_str())
        {
            return Err(RecordsError::Invalid(format!(
                "'{}' cannot be amended on a {}; the fields that can are: {}",
                self.field,
                self.record.kind.id(),
                self.record.kind.amendable_fields().join(", ")
            )));
        }
        required(
            "why",
            &self.why,
            "say why the correction is needed; it is kept with the record",
        )?;
        required(
            "the corrected text",
            &self.after,
            "write what the field should say",
        )?;
        if self.after == self.before {
            return Err(RecordsError::Invalid(
                "the correction is the same as what is already written; nothing to amend".into(),
            ));
        }
        if self.field.ends_with("_at") && self.after.parse::<Timestamp>().is_err() {
            return Err(RecordsError::Invalid(format!(
                "'{}' is not a date and time; write it like 2026-03-01T19:30:00Z",
                self.after
            )));
        }
        Ok(())
    }
}

/// A field as it reads now: the text of the last amendment to it, or the
/// original when it was never amended.
pub fn current(
    amendments: &[Amendment],
    record: RecordRef,
    field: &str,
    original: String,
) -> String {
    amendments
        .iter()
        .rev()
        .find(|a| a.record == record && a.field == field)
        .map_or(original, |a| a.after.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concern::Concern;
    use crate::concern::tests::sample;

    const WORDS: &str = "He said 'send me a picture or I'll tell everyone'.";

    fn concern() -> Concern {
        sample(1, "r.teacher", "2026-03-02T10:00:00Z", false)
    }

    fn amendment(after: &str, why: &str) -> Amendment {
        Amendment {
            record: RecordRef {
                kind: RecordKind::Concern,
                id: 1,
            },
            field: "child_words".into(),
            before: WORDS.into(),
            after: after.into(),
            why: why.into(),
            actor: "r.teacher".into(),
            role: Role::Staff,
            at: "2026-03-02T10:30:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn amendments_add_to_the_record_and_keep_the_original() {
        let mut c = concern();
        let a = amendment(
            "He said 'send me a photo or I'll tell everyone'.",
            "I wrote down the wrong word",
        );
        a.validate(true).expect("valid");
        c.amendments.push(a);
        assert_eq!(
            c.field("child_words").as_deref(),
            Some("He said 'send me a photo or I'll tell everyone'.")
        );
        // The words as raised are still there, unchanged.
        assert_eq!(c.raised.child_words, WORDS);
        let mut b = amendment("He asked for a video.", "Checked with her again");
        b.before = c.field("child_words").unwrap();
        b.validate(true).expect("second");
        c.amendments.push(b);
        assert_eq!(c.amendments.len(), 2);
        assert_eq!(
            c.field("child_words").as_deref(),
            Some("He asked for a video.")
        );
        assert_eq!(
            c.field("location").as_deref(),
            Some("At home, on a messaging app")
        );
    }

    #[test]
    fn an_amendment_needs_a_reason_a_change_and_permission() {
        assert!(matches!(
            amendment("new", " ").validate(true),
            Err(RecordsError::Missing { field: "why", .. })
        ));
        assert!(amendment(WORDS, "typo").validate(true).is_err());
        assert!(matches!(
            amendment("new", "typo").validate(false),
            Err(RecordsError::NotAllowed(_))
        ));
        let mut other = amendment("new", "typo");
        other.field = "raised_by".into();
        assert!(
            other
                .validate(true)
                .unwrap_err()
                .to_string()
                .contains("cannot be amended")
        );
        let mut when = amendment("yesterday", "wrong day");
        when.field = "happened_at".into();
        assert!(when.validate(true).is_err());
        when.after = "2026-03-01T18:00:00Z".into();
        when.validate(true).expect("a timestamp");
    }
}
