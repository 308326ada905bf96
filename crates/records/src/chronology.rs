//! A pupil's chronology: the concerns that name them, what was done about
//! each (steps, amendments, referrals and their responses) and how each
//! incident closed, in time order.

use jiff::Timestamp;
use serde::Serialize;

use crate::access::Viewer;
use crate::amendment::{RecordKind, RecordRef};
use crate::concern::Concern;
use crate::incident::Incident;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChronologyKind {
    ConcernRaised,
    CategorySet,
    PupilLinked,
    PupilUnlinked,
    Amended,
    IncidentOpened,
    StepRecorded,
    ReferralMade,
    ReferralAnswered,
    IncidentClosed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChronologyEntry {
    pub at: Timestamp,
    pub kind: ChronologyKind,
    pub record: RecordRef,
    pub actor: String,
    pub summary: String,
    /// Part of an allegation about staff (seen by the headteacher and DSL only).
    pub staff_allegation: bool,
}

/// Everything recorded about `pupil`, oldest first. Concerns are included
/// while they name the pupil (one the pupil was wrongly linked to and then
/// unlinked from is not theirs); incidents when their concern is included.
pub fn chronology(
    pupil: &str,
    concerns: &[Concern],
    incidents: &[Incident],
) -> Vec<ChronologyEntry> {
    let mut out = Vec::new();
    for c in concerns.iter().filter(|c| c.names_pupil(pupil)) {
        let record = RecordRef {
            kind: RecordKind::Concern,
            id: c.id,
        };
        let mut push = pusher(&mut out, record, c.is_staff_allegation());
        push(
            c.raised.raised_at,
            ChronologyKind::ConcernRaised,
            &c.raised.raised_by,
            format!(
                "Concern raised ({}): {}",
                c.raised.location, c.raised.child_words
            ),
        );
        for l in c
            .links
            .iter()
            .filter(|l| l.pupil.username == pupil && l.at > c.raised.raised_at)
        {
            let kind = if l.linked {
                ChronologyKind::PupilLinked
            } else {
                ChronologyKind::PupilUnlinked
            };
            push(l.at, kind, &l.actor, l.reason.clone());
        }
        for d in &c.categories {
            push(
                d.at,
                ChronologyKind::CategorySet,
                &d.actor,
                format!("Category set to '{}': {}", d.category, d.reason),
            );
        }
        for a in &c.amendments {
            push(
                a.at,
                ChronologyKind::Amended,
                &a.actor,
                format!("Amended {}: {}", a.field, a.why),
            );
        }
        drop(push);
        for i in incidents
            .iter()
            .filter(|i| i.opened.concern_id == Some(c.id))
        {
            incident_entries(i, &mut out);
        }
    }
    out.sort_by_key(|e| e.at);
    out
}

/// Adds entries about one record.
fn pusher(
    out: &mut Vec<ChronologyEntry>,
    record: RecordRef,
    staff_allegation: bool,
) -> impl FnMut(Timestamp, ChronologyKind, &str, String) + '_ {
    move |at, kind, actor, summary| {
        out.push(ChronologyEntry {
            at,
            kind,
            record,
            actor: actor.to_owned(),
            summary,
            staff_allegation,
        })
    }
}

fn incident_entries(i: &Incident, out: &mut Vec<ChronologyEntry>) {
    let record = RecordRef {
        kind: RecordKind::Incident,
        id: i.id,
    };
    let mut push = pusher(out, record, i.is_staff_allegation());
    push(
        i.opened.opened_at,
        ChronologyKind::IncidentOpened,
        &i.opened.opened_by,
        format!("{} incident opened: {}", i.kind().label(), i.opened.summary),
    );
    for s in &i.steps {
        // The step's first sentence names it well enough in a timeline.
        let text = i.kind().step(&s.step).map_or(s.step.clone(), |p| {
            p.text
                .split(". ")
                .next()
                .unwrap_or(p.text)
                .trim_end_matches('.')
                .to_owned()
        });
        push(
            s.at,
            ChronologyKind::StepRecorded,
            &s.actor,
            format!("{text}: {} ({})", s.decision.label(), s.reason),
        );
    }
    for a in &i.amendments {
        push(
            a.at,
            ChronologyKind::Amended,
            &a.actor,
            format!("Amended {}: {}", a.field, a.why),
        );
    }
    for r in &i.referrals {
        push(
            r.made.made_at,
            ChronologyKind::ReferralMade,
            &r.made.made_by,
            format!("Referred to {}: {}", r.made.agency.label(), r.made.summary),
        );
        if let Some(resp) = &r.response {
            push(
                resp.at,
                ChronologyKind::ReferralAnswered,
                &resp.actor,
                format!("{} replied: {}", r.made.agency.label(), resp.outcome),
            );
        }
    }
    if let Some(c) = &i.closure {
        push(
            c.at,
            ChronologyKind::IncidentClosed,
            &c.actor,
            format!(
                "Closed. Outcome: {}. Lessons learnt: {}",
                c.outcome, c.lessons
            ),
        );
    }
}

/// The entries this viewer may see: allegations about staff are left out
/// for anyone but the headteacher and the DSL.
pub fn visible_to(viewer: &Viewer, entries: Vec<ChronologyEntry>) -> Vec<ChronologyEntry> {
    entries
        .into_iter()
        .filter(|e| !e.staff_allegation || viewer.role.reads_staff_allegations())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;
    use crate::concern::PupilRef;
    use crate::concern::tests::sample;
    use crate::incident::tests::{at, incident};
    use crate::incident::{Closure, Decision, StepRecord};
    use crate::procedure::IncidentType;
    use crate::referral::{Agency, NewReferral, Referral};

    fn concern(id: i64, raised: &str, about_staff: bool) -> Concern {
        sample(id, "r.teacher", raised, about_staff)
    }

    #[test]
    fn the_chronology_is_in_time_order_across_records() {
        let first = concern(1, "2026-03-02T10:00:00Z", false);
        let second = concern(2, "2026-02-01T10:00:00Z", false);
        let mut other = concern(5, "2026-03-03T10:00:00Z", false);
        other.links[0].pupil = PupilRef::new("someone.else", "Someone Else");
        let mut i = incident(IncidentType::Cyberbullying);
        i.opened.concern_id = Some(1);
        i.steps.push(StepRecord {
            incident_id: 3,
            step: "support".into(),
            decision: Decision::Done,
            reason: "Met her tutor".into(),
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: at("2026-03-04T09:00:00Z"),
        });
        i.referrals.push(Referral {
            id: 1,
            made: NewReferral {
                incident_id: 3,
                agency: Agency::Police101,
                contact_id: 1,
                made_by: "d.lead".into(),
                role: Role::Dsl,
                made_at: at("2026-03-03T09:00:00Z"),
                due_at: at("2026-03-05T09:00:00Z"),
                reference: "CR/1".into(),
                summary: "Threats".into(),
            },
            response: None,
        });
        i.closure = Some(Closure {
            incident_id: 3,
            outcome: "Resolved".into(),
            lessons: "None".into(),
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: at("2026-03-10T09:00:00Z"),
        });
        let entries = chronology("amara.okafor", &[first, second, other], &[i]);
        let kinds: Vec<ChronologyKind> = entries.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            vec![
                ChronologyKind::ConcernRaised,
                ChronologyKind::ConcernRaised,
                ChronologyKind::IncidentOpened,
                ChronologyKind::ReferralMade,
                ChronologyKind::StepRecorded,
                ChronologyKind::IncidentClosed,
            ]
        );
        assert_eq!(entries[0].record.id, 2, "oldest first");
        let mut wrong = concern(6, "2026-03-05T10:00:00Z", false);
        let mut unlink = wrong.links[0].clone();
        unlink.linked = false;
        unlink.at = at("2026-03-05T11:00:00Z");
        wrong.links.push(unlink);
        assert!(chronology("amara.okafor", &[wrong], &[]).is_empty());
        assert!(entries.windows(2).all(|w| w[0].at <= w[1].at));
    }

    #[test]
    fn deputies_do_not_see_staff_allegations_in_a_chronology() {
        let entries = chronology(
            "amara.okafor",
            &[
                concern(1, "2026-03-02T10:00:00Z", true),
                concern(2, "2026-03-03T10:00:00Z", false),
            ],
            &[],
        );
        assert_eq!(entries.len(), 2);
        assert_eq!(
            visible_to(&Viewer::new("d", Role::DeputyDsl), entries.clone()).len(),
            1
        );
        assert_eq!(
            visible_to(&Viewer::new("h", Role::Headteacher), entries).len(),
            2
        );
    }
}
