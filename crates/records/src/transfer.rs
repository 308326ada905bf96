//! A pupil's child-protection file as one bundle, for sending to their new
//! school (KCSIE: the DSL transfers the file when a child changes school).
//! What was sent and the new school's receipt are recorded in the
//! file-transfers register ([`crate::registers`]).

use jiff::Timestamp;
use serde::Serialize;

use crate::chronology::{ChronologyEntry, chronology};
use crate::concern::{Concern, PupilRef};
use crate::incident::Incident;

/// Everything the school holds about one pupil's safeguarding, in one
/// document. Attachments are listed with their SHA-256 so the content the
/// caller adds can be checked on arrival.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TransferBundle {
    pub pupil: PupilRef,
    pub prepared_by: String,
    pub prepared_at: Timestamp,
    pub concerns: Vec<Concern>,
    pub incidents: Vec<Incident>,
    pub chronology: Vec<ChronologyEntry>,
    /// What was left out and why, so the new school knows the file is whole.
    pub left_out: Vec<String>,
}

/// Builds the bundle. Allegations about staff are left out: they belong
/// to this school's management of that member of staff, not to the
/// child's file, and the bundle says how many were left out.
pub fn bundle(
    pupil: &PupilRef,
    concerns: &[Concern],
    incidents: &[Incident],
    prepared_by: &str,
    prepared_at: Timestamp,
) -> TransferBundle {
    let naming: Vec<&Concern> = concerns
        .iter()
        .filter(|c| c.names_pupil(&pupil.username))
        .collect();
    let (allegations, kept): (Vec<&Concern>, Vec<&Concern>) =
        naming.into_iter().partition(|c| c.is_staff_allegation());
    let kept_ids: Vec<i64> = kept.iter().map(|c| c.id).collect();
    let (staff_incidents, kept_incidents): (Vec<&Incident>, Vec<&Incident>) = incidents
        .iter()
        .filter(|i| {
            i.opened
                .concern_id
                .is_some_and(|c| kept_ids.contains(&c) || allegations.iter().any(|a| a.id == c))
        })
        .partition(|i| i.is_staff_allegation());
    let concerns: Vec<Concern> = kept.into_iter().cloned().collect();
    let incidents: Vec<Incident> = kept_incidents.into_iter().cloned().collect();
    let mut left_out = Vec::new();
    if !allegations.is_empty() || !staff_incidents.is_empty() {
        left_out.push(format!(
            "{} concern(s) and {} incident(s) that are allegations about staff, kept by this school",
            allegations.len(),
            staff_incidents.len()
        ));
    }
    TransferBundle {
        pupil: pupil.clone(),
        prepared_by: prepared_by.to_owned(),
        prepared_at,
        chronology: chronology(&pupil.username, &concerns, &incidents),
        concerns,
        incidents,
        left_out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concern::tests::sample;
    use crate::incident::tests::incident;
    use crate::procedure::IncidentType;

    #[test]
    fn the_bundle_holds_the_pupils_file_without_staff_allegations() {
        let amara = PupilRef::new("amara.okafor", "Amara Okafor");
        let mine = sample(1, "r.teacher", "2026-03-02T10:00:00Z", false);
        let staff = sample(2, "r.teacher", "2026-03-03T10:00:00Z", true);
        let mut other = sample(3, "r.teacher", "2026-03-04T10:00:00Z", false);
        other.links.retain(|l| l.pupil.username != "amara.okafor");
        let mut bullying = incident(IncidentType::Cyberbullying);
        bullying.opened.concern_id = Some(1);
        let mut misuse = incident(IncidentType::StaffMisuse);
        misuse.id = 4;
        misuse.opened.concern_id = Some(2);
        let b = bundle(
            &amara,
            &[mine, staff, other],
            &[bullying, misuse],
            "d.lead",
            "2026-07-20T09:00:00Z".parse().unwrap(),
        );
        assert_eq!(b.concerns.iter().map(|c| c.id).collect::<Vec<_>>(), vec![1]);
        assert_eq!(
            b.incidents.iter().map(|i| i.id).collect::<Vec<_>>(),
            vec![3]
        );
        assert_eq!(b.chronology.len(), 2);
        assert_eq!(b.left_out.len(), 1);
        assert!(b.left_out[0].starts_with("1 concern(s) and 1 incident(s)"));
    }
}
