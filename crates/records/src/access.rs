//! Who may read and change safeguarding records, as pure functions.
//!
//! * A member of staff (any role without safeguarding access) sees the
//!   concerns they raised, and nobody else's.
//! * The DSL, deputies and the headteacher see every concern and incident,
//!   except that allegations about staff are seen only by the headteacher
//!   and the DSL. Issue 6 says "visible only to the headteacher and DSL";
//!   we follow it literally, so deputy DSLs do not see them.
//! * Opening a pupil's whole record (their chronology) when you are not
//!   linked to that pupil needs a reason, which the read log keeps.
//! * Every read that is allowed produces a [`ReadLogEntry`] for the caller
//!   to store; a read that cannot be logged must not be shown.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::concern::Concern;
use crate::incident::Incident;
use crate::{RecordsError, Role};

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub username: String,
    pub role: Role,
}

impl Viewer {
    pub fn new(username: &str, role: Role) -> Viewer {
        Viewer {
            username: username.to_owned(),
            role,
        }
    }
}

/// What was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "id")]
pub enum ReadTarget {
    Concern(i64),
    Incident(i64),
    /// A pupil's chronology, by username.
    Pupil(String),
    Attachment(i64),
}

impl ReadTarget {
    /// The kind and the identifier, as stored.
    pub fn parts(&self) -> (&'static str, String) {
        match self {
            ReadTarget::Concern(id) => ("concern", id.to_string()),
            ReadTarget::Incident(id) => ("incident", id.to_string()),
            ReadTarget::Pupil(u) => ("pupil", u.clone()),
            ReadTarget::Attachment(id) => ("attachment", id.to_string()),
        }
    }

    pub fn from_parts(kind: &str, id: &str) -> Result<ReadTarget, RecordsError> {
        let number = || {
            id.parse::<i64>()
                .map_err(|_| RecordsError::Invalid(format!("'{id}' is not a record number")))
        };
        Ok(match kind {
            "concern" => ReadTarget::Concern(number()?),
            "incident" => ReadTarget::Incident(number()?),
            "pupil" => ReadTarget::Pupil(id.to_owned()),
            "attachment" => ReadTarget::Attachment(number()?),
            _ => {
                return Err(RecordsError::Unknown {
                    what: "kind of record read",
                    value: kind.to_owned(),
                });
            }
        })
    }
}

/// One read of one record: who, when, what, and why when a reason was asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadLogEntry {
    pub at: Timestamp,
    pub reader: String,
    pub role: Role,
    pub target: ReadTarget,
    pub reason: Option<String>,
}

/// The outcome of asking to read: granted with the entry to log, or why not.
pub type Access = Result<ReadLogEntry, RecordsError>;

fn entry(viewer: &Viewer, target: ReadTarget, at: Timestamp, reason: Option<&str>) -> ReadLogEntry {
    ReadLogEntry {
        at,
        reader: viewer.username.clone(),
        role: viewer.role,
        target,
        reason: reason.map(|r| r.trim().to_owned()),
    }
}

fn not_yours() -> RecordsError {
    RecordsError::NotAllowed(
        "you can see the concerns you raised, not other people's; ask the DSL if you need to know more".into(),
    )
}

fn staff_allegation() -> RecordsError {
    RecordsError::NotAllowed(
        "this is an allegation about a member of staff: only the headteacher and the DSL can see it".into(),
    )
}

/// Whether the viewer sees this concern at all (for lists; opening it goes
/// through [`read_concern`] so the read is logged).
pub fn sees_concern(viewer: &Viewer, concern: &Concern) -> bool {
    read_concern(viewer, concern, Timestamp::UNIX_EPOCH).is_ok()
}

/// Opening a concern.
pub fn read_concern(viewer: &Viewer, concern: &Concern, at: Timestamp) -> Access {
    let target = ReadTarget::Concern(concern.id);
    if concern.raised.raised_by == viewer.username {
        return Ok(entry(viewer, target, at, None));
    }
    if !viewer.role.reads_safeguarding() {
        return Err(not_yours());
    }
    if concern.is_staff_allegation() && !viewer.role.reads_staff_allegations() {
        return Err(staff_allegation());
    }
    Ok(entry(viewer, target, at, None))
}

/// The part of a concern the viewer is shown once [`read_concern`] allowed
/// it. Safeguarding roles see it all. Whoever raised it, in any other role,
/// sees what they wrote and their own corrections, not what the DSL has
/// decided or added since: for technicians especially, that would be
/// safeguarding content (DESIGN.md, "Non-negotiables").
pub fn concern_for(viewer: &Viewer, concern: &Concern) -> Concern {
    if viewer.role.reads_safeguarding() {
        return concern.clone();
    }
    let mine = |actor: &str| actor == viewer.username;
    Concern {
        id: concern.id,
        raised: concern.raised.clone(),
        links: concern
            .links
            .iter()
            .filter(|l| mine(&l.actor))
            .cloned()
            .collect(),
        categories: Vec::new(),
        amendments: concern
            .amendments
            .iter()
            .filter(|a| mine(&a.actor))
            .cloned()
            .collect(),
    }
}

/// Whether the viewer may amend the concern: whoever raised it, or a
/// safeguarding role that may read it.
pub fn may_amend_concern(viewer: &Viewer, concern: &Concern) -> bool {
    if concern.raised.raised_by == viewer.username {
        return true;
    }
    if concern.is_staff_allegation() {
        viewer.role.reads_staff_allegations()
    } else {
        viewer.role.is_dsl_role()
    }
}

/// Opening an incident (or one of its attachments, with `attachment`).
pub fn read_incident(
    viewer: &Viewer,
    incident: &Incident,
    attachment: Option<i64>,
    at: Timestamp,
) -> Access {
    if !viewer.role.reads_safeguarding() {
        return Err(RecordsError::NotAllowed(
            "incidents are seen by the DSL, deputy DSLs and the headteacher only".into(),
        ));
    }
    if incident.is_staff_allegation() && !viewer.role.reads_staff_allegations() {
        return Err(staff_allegation());
    }
    let target = match attachment {
        Some(id) => ReadTarget::Attachment(id),
        None => ReadTarget::Incident(incident.id),
    };
    Ok(entry(viewer, target, at, None))
}

/// The staff linked to a pupil: whoever raised a concern naming them, and
/// whoever has acted on one of those concerns or its incidents.
pub fn linked_staff(pupil: &str, concerns: &[Concern], incidents: &[Incident]) -> Vec<String> {
    let mut people: Vec<String> = Vec::new();
    let mut add = |who: &str| {
        if !people.iter().any(|p| p == who) {
            people.push(who.to_owned());
        }
    };
    for c in concerns.iter().filter(|c| c.names_pupil(pupil)) {
        add(&c.raised.raised_by);
        c.links.iter().for_each(|l| add(&l.actor));
        c.categories.iter().for_each(|d| add(&d.actor));
        c.amendments.iter().for_each(|a| add(&a.actor));
        for i in incidents
            .iter()
            .filter(|i| i.opened.concern_id == Some(c.id))
        {
            add(&i.opened.opened_by);
            i.steps.iter().for_each(|s| add(&s.actor));
            i.referrals.iter().for_each(|r| add(&r.made.made_by));
        }
    }
    people
}

/// Opening a pupil's record. Only safeguarding roles may; one not linked to
/// the pupil must give a reason ([`RecordsError::NeedsReason`] until then).
pub fn open_pupil_record(
    viewer: &Viewer,
    pupil: &str,
    linked: &[String],
    reason: Option<&str>,
    at: Timestamp,
) -> Access {
    if !viewer.role.reads_safeguarding() {
        return Err(RecordsError::NotAllowed(
            "a pupil's safeguarding record is seen by the DSL, deputy DSLs and the headteacher only"
                .into(),
        ));
    }
    let target = ReadTarget::Pupil(pupil.to_owned());
    let reason = reason.filter(|r| !r.trim().is_empty());
    if linked.iter().any(|p| p == &viewer.username) {
        return Ok(entry(viewer, target, at, reason));
    }
    match reason {
        Some(r) => Ok(entry(viewer, target, at, Some(r))),
        None => Err(RecordsError::NeedsReason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concern::tests::sample;
    use crate::incident::tests::incident;
    use crate::procedure::{IiocCase, IncidentType};

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn concern(id: i64, by: &str, about_staff: bool) -> Concern {
        sample(id, by, "2026-03-02T10:00:00Z", about_staff)
    }

    #[test]
    fn staff_read_what_they_raised_and_nothing_else() {
        let mine = concern(1, "r.teacher", false);
        let theirs = concern(2, "o.teacher", false);
        let me = Viewer::new("r.teacher", Role::Staff);
        let now = at("2026-03-02T12:00:00Z");
        let logged = read_concern(&me, &mine, now).expect("own concern");
        assert_eq!(
            logged,
            ReadLogEntry {
                at: now,
                reader: "r.teacher".into(),
                role: Role::Staff,
                target: ReadTarget::Concern(1),
                reason: None,
            }
        );
        assert!(matches!(
            read_concern(&me, &theirs, now),
            Err(RecordsError::NotAllowed(_))
        ));
        for role in [Role::Technician, Role::Governor, Role::Administrator] {
            assert!(read_concern(&Viewer::new("x", role), &theirs, now).is_err());
        }
        assert!(may_amend_concern(&me, &mine) && !may_amend_concern(&me, &theirs));
    }

    #[test]
    fn a_raiser_without_safeguarding_access_sees_only_their_own_part() {
        use crate::amendment::{Amendment, RecordKind, RecordRef};
        use crate::concern::CategoryDecision;
        let mut c = concern(1, "t.tech", false);
        c.categories.push(CategoryDecision {
            concern_id: 1,
            category: "nudes".into(),
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: at("2026-03-02T11:00:00Z"),
            reason: "Images involved".into(),
        });
        let amendment = |actor: &str| Amendment {
            record: RecordRef {
                kind: RecordKind::Concern,
                id: 1,
            },
            field: "location".into(),
            before: "Library".into(),
            after: format!("Corrected by {actor}"),
            why: "wrong".into(),
            actor: actor.into(),
            role: Role::Dsl,
            at: at("2026-03-02T12:00:00Z"),
        };
        c.amendments.push(amendment("t.tech"));
        c.amendments.push(amendment("d.lead"));
        let tech = Viewer::new("t.tech", Role::Technician);
        let seen = concern_for(&tech, &c);
        assert!(seen.categories.is_empty());
        assert_eq!(seen.amendments, vec![amendment("t.tech")]);
        assert_eq!(seen.current_pupils(), c.current_pupils());
        assert_eq!(concern_for(&Viewer::new("d", Role::DeputyDsl), &c), c);
    }

    #[test]
    fn allegations_about_staff_are_for_the_headteacher_and_dsl_only() {
        let allegation = concern(3, "r.teacher", true);
        let now = at("2026-03-02T12:00:00Z");
        assert!(read_concern(&Viewer::new("h", Role::Headteacher), &allegation, now).is_ok());
        assert!(read_concern(&Viewer::new("d", Role::Dsl), &allegation, now).is_ok());
        let deputy = Viewer::new("dep", Role::DeputyDsl);
        assert!(read_concern(&deputy, &allegation, now).is_err());
        assert!(read_concern(&deputy, &concern(4, "r.teacher", false), now).is_ok());
        assert!(!may_amend_concern(&deputy, &allegation));

        for kind in [
            IncidentType::StaffMisuse,
            IncidentType::IndecentImages(IiocCase::StaffPossession),
        ] {
            let i = incident(kind);
            let err = read_incident(&deputy, &i, None, now).unwrap_err();
            assert!(err.to_string().contains("headteacher and the DSL"));
            assert!(read_incident(&Viewer::new("h", Role::Headteacher), &i, None, now).is_ok());
            assert!(read_incident(&Viewer::new("d", Role::Dsl), &i, Some(9), now).is_ok());
        }
        let nudes = incident(IncidentType::SharingNudes);
        assert_eq!(
            read_incident(&deputy, &nudes, Some(9), now).unwrap().target,
            ReadTarget::Attachment(9)
        );
        assert!(read_incident(&Viewer::new("t", Role::Staff), &nudes, None, now).is_err());
    }

    #[test]
    fn opening_an_unlinked_pupils_record_needs_a_reason() {
        let concerns = [concern(1, "r.teacher", false)];
        let mut i = incident(IncidentType::Cyberbullying);
        i.opened.concern_id = Some(1);
        i.opened.opened_by = "dep.one".into();
        let linked = linked_staff("amara.okafor", &concerns, &[i]);
        assert_eq!(linked, vec!["r.teacher".to_owned(), "dep.one".to_owned()]);
        let now = at("2026-03-02T12:00:00Z");
        let dep = Viewer::new("dep.one", Role::DeputyDsl);
        let e = open_pupil_record(&dep, "amara.okafor", &linked, None, now).expect("linked");
        assert_eq!(e.target, ReadTarget::Pupil("amara.okafor".into()));
        let other = Viewer::new("dep.two", Role::DeputyDsl);
        assert_eq!(
            open_pupil_record(&other, "amara.okafor", &linked, None, now),
            Err(RecordsError::NeedsReason)
        );
        assert_eq!(
            open_pupil_record(&other, "amara.okafor", &linked, Some("  "), now),
            Err(RecordsError::NeedsReason)
        );
        let e = open_pupil_record(
            &other,
            "amara.okafor",
            &linked,
            Some("Covering for dep.one"),
            now,
        )
        .expect("with a reason");
        assert_eq!(e.reason.as_deref(), Some("Covering for dep.one"));
        let teacher = Viewer::new("r.teacher", Role::Staff);
        assert!(matches!(
            open_pupil_record(&teacher, "amara.okafor", &linked, Some("curious"), now),
            Err(RecordsError::NotAllowed(_))
        ));
    }

    #[test]
    fn read_targets_round_trip() {
        for t in [
            ReadTarget::Concern(1),
            ReadTarget::Incident(2),
            ReadTarget::Pupil("amara.okafor".into()),
            ReadTarget::Attachment(3),
        ] {
            let (kind, id) = t.parts();
            assert_eq!(ReadTarget::from_parts(kind, &id), Ok(t));
        }
        assert!(ReadTarget::from_parts("concern", "x").is_err());
    }
}
