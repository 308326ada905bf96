//! How long safeguarding records are kept, and what a purge at a given
//! time would remove and why.
//!
//! Defaults follow the IRMS "Information Management Toolkit for Schools":
//!
//! | record | kept until | toolkit entry |
//! |---|---|---|
//! | child protection (concerns and incidents naming a pupil) | date of birth + 25 years | child protection files |
//! | allegations about staff | 10 years after the allegation (the toolkit says until normal retirement age or 10 years, whichever is longer: raise it or set a legal hold when retirement is later) | allegations of a child protection nature against a member of staff |
//! | incidents naming no pupil (a filtering breach found in a check) | 6 years after it was closed, or opened if never closed | incident reporting, adults (date of incident + 6 years) |
//!
//! A record under legal hold (an investigation, an inquiry, a claim) is
//! never removed, whatever its dates. A child protection record whose
//! pupil's date of birth is not known is kept, and the plan says so.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::Serialize;

use crate::amendment::{RecordKind, RecordRef};
use crate::concern::Concern;
use crate::incident::Incident;
use crate::{RecordsError, Role, required};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RetentionClass {
    ChildProtection,
    StaffAllegation,
    IncidentWithoutPupil,
}

impl RetentionClass {
    pub const ALL: [RetentionClass; 3] = [
        RetentionClass::ChildProtection,
        RetentionClass::StaffAllegation,
        RetentionClass::IncidentWithoutPupil,
    ];

    pub fn label(self) -> &'static str {
        match self {
            RetentionClass::ChildProtection => "child protection record",
            RetentionClass::StaffAllegation => "allegation about a member of staff",
            RetentionClass::IncidentWithoutPupil => "incident naming no pupil",
        }
    }
}

/// The date a retention period counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Anchor {
    /// The pupil's date of birth.
    DateOfBirth,
    /// When the record was made.
    Created,
    /// When it was closed, or made if never closed.
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RetentionRule {
    pub class: RetentionClass,
    pub anchor: Anchor,
    pub years: i16,
}

/// The school's retention periods, one per class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RetentionSchedule {
    rules: Vec<RetentionRule>,
}

impl Default for RetentionSchedule {
    fn default() -> RetentionSchedule {
        RetentionSchedule {
            rules: vec![
                RetentionRule {
                    class: RetentionClass::ChildProtection,
                    anchor: Anchor::DateOfBirth,
                    years: 25,
                },
                RetentionRule {
                    class: RetentionClass::StaffAllegation,
                    anchor: Anchor::Created,
                    years: 10,
                },
                RetentionRule {
                    class: RetentionClass::IncidentWithoutPupil,
                    anchor: Anchor::Closed,
                    years: 6,
                },
            ],
        }
    }
}

impl RetentionSchedule {
    pub fn rule(&self, class: RetentionClass) -> RetentionRule {
        self.rules
            .iter()
            .copied()
            .find(|r| r.class == class)
            .unwrap_or_else(|| {
                RetentionSchedule::default()
                    .rules
                    .into_iter()
                    .find(|r| r.class == class)
                    .unwrap_or(RetentionRule {
                        class,
                        anchor: Anchor::Created,
                        years: 25,
                    })
            })
    }

    /// Changes one period. The toolkit's periods for child protection and
    /// allegations are minimums: a school may keep records longer, not shorter.
    pub fn set(&mut self, rule: RetentionRule) -> Result<(), RecordsError> {
        let default = RetentionSchedule::default().rule(rule.class);
        if rule.years > 100 {
            return Err(RecordsError::Invalid(format!(
                "{} years is more than any record needs; choose 100 or fewer",
                rule.years
            )));
        }
        let is_minimum = matches!(
            rule.class,
            RetentionClass::ChildProtection | RetentionClass::StaffAllegation
        );
        if (is_minimum && rule.anchor == default.anchor && rule.years < default.years)
            || rule.years < 1
        {
            return Err(RecordsError::Invalid(format!(
                "a {} must be kept at least {} years; the records management toolkit sets that minimum",
                rule.class.label(),
                default.years.max(1)
            )));
        }
        if is_minimum && rule.anchor != default.anchor {
            return Err(RecordsError::Invalid(format!(
                "a {}'s period counts from the same date as the toolkit's; change the number of years instead",
                rule.class.label()
            )));
        }
        self.rules.retain(|r| r.class != rule.class);
        self.rules.push(rule);
        Ok(())
    }
}

/// A legal hold put on or lifted: the latest for a record is in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LegalHold {
    pub record: RecordRef,
    pub hold: bool,
    pub actor: String,
    pub role: Role,
    pub at: Timestamp,
    pub reason: String,
}

impl LegalHold {
    pub fn validate(&self) -> Result<(), RecordsError> {
        if !(self.role == Role::Dsl || self.role == Role::Headteacher) {
            return Err(RecordsError::NotAllowed(
                "only the DSL or the headteacher may put a record under legal hold or lift it"
                    .into(),
            ));
        }
        required(
            "the reason",
            &self.reason,
            "say why: the investigation, inquiry or claim, or why the hold is lifted",
        )
    }
}

/// One record as the purge sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RetentionItem {
    pub record: RecordRef,
    pub class: RetentionClass,
    pub created: Timestamp,
    pub closed: Option<Timestamp>,
    /// The pupil's date of birth, for child protection records.
    pub date_of_birth: Option<Date>,
    pub legal_hold: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PurgeLine {
    pub record: RecordRef,
    pub why: String,
}

/// What a purge at a given time would remove, and what it keeps and why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PurgePlan {
    pub remove: Vec<PurgeLine>,
    pub keep: Vec<PurgeLine>,
}

fn date(at: Timestamp) -> Date {
    at.to_zoned(TimeZone::UTC).date()
}

/// The retention items for stored concerns and incidents (referrals,
/// steps, amendments and attachments go with their incident or concern).
///
/// A concern naming several pupils is kept for the youngest of them: the
/// latest date of birth counts, and if any pupil's is not known the
/// record is kept. Allegations about staff, and incidents from them, are
/// [`RetentionClass::StaffAllegation`]; an incident with no concern is
/// [`RetentionClass::IncidentWithoutPupil`].
pub fn items(
    concerns: &[Concern],
    incidents: &[Incident],
    holds: &[LegalHold],
    date_of_birth: impl Fn(&str) -> Option<Date>,
) -> Vec<RetentionItem> {
    let held = |record: RecordRef| {
        holds
            .iter()
            .rev()
            .find(|h| h.record == record)
            .is_some_and(|h| h.hold)
    };
    let class_and_birth = |c: &Concern| {
        if c.is_staff_allegation() {
            return (RetentionClass::StaffAllegation, None);
        }
        let births: Option<Vec<Date>> = c
            .current_pupils()
            .iter()
            .map(|(p, _)| date_of_birth(&p.username))
            .collect();
        (
            RetentionClass::ChildProtection,
            births.and_then(|b| b.into_iter().max()),
        )
    };
    let mut out = Vec::new();
    for c in concerns {
        let record = RecordRef {
            kind: RecordKind::Concern,
            id: c.id,
        };
        let (class, born) = class_and_birth(c);
        out.push(RetentionItem {
            record,
            class,
            created: c.raised.raised_at,
            closed: None,
            date_of_birth: born,
            legal_hold: held(record),
        });
    }
    for i in incidents {
        let record = RecordRef {
            kind: RecordKind::Incident,
            id: i.id,
        };
        let concern = i
            .opened
            .concern_id
            .and_then(|id| concerns.iter().find(|c| c.id == id));
        let (class, born) = match concern {
            Some(c) => class_and_birth(c),
            None if i.is_staff_allegation() => (RetentionClass::StaffAllegation, None),
            None => (RetentionClass::IncidentWithoutPupil, None),
        };
        out.push(RetentionItem {
            record,
            class,
            created: i.opened.opened_at,
            closed: i.closure.as_ref().map(|c| c.at),
            date_of_birth: born,
            // A hold on the concern holds the incidents that grew from it.
            legal_hold: held(record)
                || concern.is_some_and(|c| {
                    held(RecordRef {
                        kind: RecordKind::Concern,
                        id: c.id,
                    })
                }),
        });
    }
    out
}

/// The date from which the record may be removed, or why it cannot be known.
pub fn removable_from(schedule: &RetentionSchedule, item: &RetentionItem) -> Result<Date, String> {
    let rule = schedule.rule(item.class);
    let start = match rule.anchor {
        Anchor::DateOfBirth => item
            .date_of_birth
            .ok_or_else(|| "the pupil's date of birth is not recorded, so the end of its retention period is not known; record it in the people register".to_owned())?,
        Anchor::Created => date(item.created),
        Anchor::Closed => date(item.closed.unwrap_or(item.created)),
    };
    start
        .checked_add(i64::from(rule.years).years())
        .map_err(|_| "its retention period ends beyond the calendar".to_owned())
}

/// What a purge run at `at` would remove. Pure: nothing is removed here.
pub fn purge_plan(
    schedule: &RetentionSchedule,
    items: &[RetentionItem],
    at: Timestamp,
) -> PurgePlan {
    let today = date(at);
    let mut plan = PurgePlan::default();
    for item in items {
        let rule = schedule.rule(item.class);
        let line = |why: String| PurgeLine {
            record: item.record,
            why,
        };
        let anchor = match rule.anchor {
            Anchor::DateOfBirth => "the pupil's date of birth",
            Anchor::Created => "the date it was made",
            Anchor::Closed => "the date it was closed",
        };
        match removable_from(schedule, item) {
            Err(why) => plan.keep.push(line(why)),
            Ok(end) if item.legal_hold => plan.keep.push(line(format!(
                "under legal hold (its retention period {} on {end})",
                if end <= today { "ended" } else { "ends" }
            ))),
            Ok(end) if end <= today => plan.remove.push(line(format!(
                "{} kept {} years from {anchor}; the period ended on {end}",
                item.class.label(),
                rule.years
            ))),
            Ok(end) => plan.keep.push(line(format!("kept until {end}"))),
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amendment::RecordKind;

    fn item(
        id: i64,
        class: RetentionClass,
        created: &str,
        dob: Option<&str>,
        hold: bool,
    ) -> RetentionItem {
        RetentionItem {
            record: RecordRef {
                kind: RecordKind::Concern,
                id,
            },
            class,
            created: created.parse().unwrap(),
            closed: None,
            date_of_birth: dob.map(|d| d.parse().unwrap()),
            legal_hold: hold,
        }
    }

    #[test]
    fn the_purge_plan_follows_the_toolkit_and_respects_legal_hold() {
        let schedule = RetentionSchedule::default();
        let items = [
            // Born 2001-05-01: child protection kept until 2026-05-01.
            item(
                1,
                RetentionClass::ChildProtection,
                "2012-01-10T10:00:00Z",
                Some("2001-05-01"),
                false,
            ),
            item(
                2,
                RetentionClass::ChildProtection,
                "2012-01-10T10:00:00Z",
                Some("2001-05-02"),
                false,
            ),
            item(
                3,
                RetentionClass::ChildProtection,
                "2012-01-10T10:00:00Z",
                Some("2001-05-01"),
                true,
            ),
            item(
                4,
                RetentionClass::ChildProtection,
                "2012-01-10T10:00:00Z",
                None,
                false,
            ),
            item(
                5,
                RetentionClass::StaffAllegation,
                "2016-04-30T10:00:00Z",
                None,
                false,
            ),
            item(
                6,
                RetentionClass::StaffAllegation,
                "2016-05-02T10:00:00Z",
                None,
                false,
            ),
            item(
                7,
                RetentionClass::IncidentWithoutPupil,
                "2020-01-01T10:00:00Z",
                None,
                false,
            ),
        ];
        let plan = purge_plan(&schedule, &items, "2026-05-01T12:00:00Z".parse().unwrap());
        let removed: Vec<i64> = plan.remove.iter().map(|l| l.record.id).collect();
        assert_eq!(removed, vec![1, 5, 7]);
        assert!(
            plan.remove[0].why.contains("25 years") && plan.remove[0].why.contains("2026-05-01")
        );
        let why = |id| {
            plan.keep
                .iter()
                .find(|l| l.record.id == id)
                .unwrap()
                .why
                .clone()
        };
        assert_eq!(why(2), "kept until 2026-05-02");
        assert!(why(3).contains("legal hold"));
        assert!(why(4).contains("date of birth is not recorded"));
        assert_eq!(plan.keep.len() + plan.remove.len(), items.len());
    }

    #[test]
    fn closing_date_counts_for_incidents_without_a_pupil() {
        let mut i = item(
            1,
            RetentionClass::IncidentWithoutPupil,
            "2018-01-01T00:00:00Z",
            None,
            false,
        );
        i.closed = Some("2021-06-01T00:00:00Z".parse().unwrap());
        let s = RetentionSchedule::default();
        assert_eq!(removable_from(&s, &i), Ok("2027-06-01".parse().unwrap()));
    }

    #[test]
    fn periods_are_configurable_but_not_below_the_toolkits_minimums() {
        let mut s = RetentionSchedule::default();
        s.set(RetentionRule {
            class: RetentionClass::ChildProtection,
            anchor: Anchor::DateOfBirth,
            years: 35,
        })
        .expect("longer is fine");
        assert_eq!(s.rule(RetentionClass::ChildProtection).years, 35);
        assert!(
            s.set(RetentionRule {
                class: RetentionClass::ChildProtection,
                anchor: Anchor::DateOfBirth,
                years: 20,
            })
            .is_err()
        );
        assert!(
            s.set(RetentionRule {
                class: RetentionClass::StaffAllegation,
                anchor: Anchor::DateOfBirth,
                years: 70,
            })
            .is_err()
        );
        s.set(RetentionRule {
            class: RetentionClass::IncidentWithoutPupil,
            anchor: Anchor::Created,
            years: 3,
        })
        .expect("the school decides for other incidents");
        assert!(
            s.set(RetentionRule {
                class: RetentionClass::IncidentWithoutPupil,
                anchor: Anchor::Created,
                years: 0,
            })
            .is_err()
        );
    }

    #[test]
    fn legal_holds_are_set_by_the_dsl_or_headteacher_with_a_reason() {
        let mut hold = LegalHold {
            record: RecordRef {
                kind: RecordKind::Incident,
                id: 1,
            },
            hold: true,
            actor: "h".into(),
            role: Role::Headteacher,
            at: "2026-03-01T00:00:00Z".parse().unwrap(),
            reason: "Claim received".into(),
        };
        hold.validate().expect("headteacher");
        hold.role = Role::DeputyDsl;
        assert!(hold.validate().is_err());
        hold.role = Role::Dsl;
        hold.reason = " ".into();
        assert!(hold.validate().is_err());
    }

    #[test]
    fn items_are_built_from_stored_records_for_the_youngest_pupil() {
        use crate::concern::tests::sample;
        use crate::incident::tests::incident;
        use crate::procedure::IncidentType;
        let both = sample(1, "r.teacher", "2026-03-02T10:00:00Z", false);
        let staff = sample(2, "r.teacher", "2026-03-02T10:00:00Z", true);
        let mut linked = incident(IncidentType::Cyberbullying);
        linked.opened.concern_id = Some(1);
        let mut alone = incident(IncidentType::FilteringBreach);
        alone.id = 4;
        alone.opened.concern_id = None;
        let hold = LegalHold {
            record: RecordRef {
                kind: RecordKind::Concern,
                id: 1,
            },
            hold: true,
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: "2026-04-01T00:00:00Z".parse().unwrap(),
            reason: "Claim".into(),
        };
        let born = |u: &str| match u {
            "amara.okafor" => Some("2012-01-01".parse().unwrap()),
            "tobias.lindqvist" => Some("2013-06-01".parse().unwrap()),
            _ => None,
        };
        let items = items(&[both.clone(), staff], &[linked, alone], &[hold], born);
        let classes: Vec<RetentionClass> = items.iter().map(|i| i.class).collect();
        assert_eq!(
            classes,
            vec![
                RetentionClass::ChildProtection,
                RetentionClass::StaffAllegation,
                RetentionClass::ChildProtection,
                RetentionClass::IncidentWithoutPupil,
            ]
        );
        assert_eq!(items[0].date_of_birth, Some("2013-06-01".parse().unwrap()));
        assert!(items[0].legal_hold && items[2].legal_hold && !items[3].legal_hold);
        let unknown = super::items(&[both], &[], &[], |u| {
            (u == "amara.okafor").then(|| "2012-01-01".parse().unwrap())
        });
        assert_eq!(
            unknown[0].date_of_birth, None,
            "one pupil's birth date missing"
        );
    }
}
