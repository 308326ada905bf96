//! An incident: a concern the DSL has turned into one of the §11 types,
//! the decisions recorded against its checklist, the documents attached to
//! it and how it was closed.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::amendment::{Amendment, RecordKind, RecordRef, current};
use crate::procedure::{IncidentType, ProcedureStep};
use crate::referral::{DirectoryContact, NewReferral, Referral, ReferralResponse};
use crate::{RecordsError, Role, required};

/// What the DSL writes when opening an incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewIncident {
    /// The concern it grew from; none for an incident found another way
    /// (a filtering check, a report from outside the school).
    pub concern_id: Option<i64>,
    pub kind: IncidentType,
    pub opened_by: String,
    pub role: Role,
    pub opened_at: Timestamp,
    pub summary: String,
    /// The concern behind it is about a member of staff.
    pub about_staff: bool,
}

impl NewIncident {
    pub fn validate(&self) -> Result<(), RecordsError> {
        let allowed = self.role.is_dsl_role()
            || (self.role == Role::Headteacher
                && (self.about_staff || self.kind.is_staff_allegation()));
        if !allowed {
            return Err(RecordsError::NotAllowed(
                "only the DSL or a deputy DSL may open an incident (the headteacher may for allegations about staff); tell the DSL about it".into(),
            ));
        }
        if self.role == Role::DeputyDsl && (self.about_staff || self.kind.is_staff_allegation()) {
            return Err(RecordsError::NotAllowed(
                "allegations about staff are handled by the headteacher and the DSL only; pass it to them".into(),
            ));
        }
        required(
            "the summary",
            &self.summary,
            "say in a sentence or two what the incident is",
        )
    }
}

/// What was decided about one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    Done,
    NotApplicable,
    /// Considered and decided against (for example, not to refer).
    DecidedNot,
}

impl Decision {
    pub fn id(self) -> &'static str {
        match self {
            Decision::Done => "done",
            Decision::NotApplicable => "not-applicable",
            Decision::DecidedNot => "decided-not",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Decision::Done => "Done",
            Decision::NotApplicable => "Not applicable",
            Decision::DecidedNot => "Decided not to",
        }
    }

    pub fn from_id(id: &str) -> Result<Decision, RecordsError> {
        [
            Decision::Done,
            Decision::NotApplicable,
            Decision::DecidedNot,
        ]
        .into_iter()
        .find(|d| d.id() == id)
        .ok_or_else(|| RecordsError::Unknown {
            what: "decision",
            value: id.to_owned(),
        })
    }
}

/// A decision recorded against one step: who, when, what and why. A later
/// record for the same step supersedes an earlier one, which is kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub incident_id: i64,
    pub step: String,
    pub decision: Decision,
    pub reason: String,
    pub actor: String,
    pub role: Role,
    pub at: Timestamp,
}

/// How an incident was closed (§10: debrief, lessons learnt).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub incident_id: i64,
    pub outcome: String,
    pub lessons: String,
    pub actor: String,
    pub role: Role,
    pub at: Timestamp,
}

/// A document to attach: what it is, never the content itself here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAttachment {
    pub incident_id: i64,
    pub file_name: String,
    pub media_type: String,
    pub description: String,
    pub added_by: String,
    pub role: Role,
    pub added_at: Timestamp,
}

/// An attachment as stored: the description, size and SHA-256 of the content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentMeta {
    pub id: i64,
    pub incident_id: i64,
    pub file_name: String,
    pub media_type: String,
    pub description: String,
    pub size: u64,
    pub sha256: String,
    pub added_by: String,
    pub added_at: Timestamp,
}

/// Largest document accepted: letters, reports and screenshots, not video.
pub const MAX_ATTACHMENT_BYTES: u64 = 20 * 1024 * 1024;

/// What a member of staff reads when an attachment is refused.
pub const NO_ATTACHMENTS_EXPLANATION: &str = "Nothing can be attached to this incident. The school's policy (§11.2) is never to copy, save or share images that may be indecent images of children, and that includes saving them here. Describe what was seen in words instead, and keep any device securely locked away until the police or the DSL say otherwise.";

/// An incident as stored, with everything recorded against it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: i64,
    pub opened: NewIncident,
    /// Every step decision, oldest first.
    pub steps: Vec<StepRecord>,
    pub referrals: Vec<Referral>,
    pub attachments: Vec<AttachmentMeta>,
    pub amendments: Vec<Amendment>,
    pub closure: Option<Closure>,
}

impl Incident {
    pub fn kind(&self) -> IncidentType {
        self.opened.kind
    }

    /// Seen only by the headteacher and the DSL.
    pub fn is_staff_allegation(&self) -> bool {
        self.opened.about_staff || self.opened.kind.is_staff_allegation()
    }

    /// Whether this person may record steps, refer, attach and close.
    pub fn may_work(&self, role: Role) -> bool {
        if self.is_staff_allegation() {
            role.reads_staff_allegations()
        } else {
            role.is_dsl_role()
        }
    }

    fn must_work(&self, role: Role) -> Result<(), RecordsError> {
        if !self.may_work(role) {
            return Err(RecordsError::NotAllowed(if self.is_staff_allegation() {
                "allegations about staff are worked by the headteacher and the DSL only".into()
            } else {
                "only the DSL or a deputy DSL may work an incident's procedure".into()
            }));
        }
        if let Some(closure) = &self.closure {
            return Err(RecordsError::AlreadyClosed(closure.incident_id));
        }
        Ok(())
    }

    /// The checklist with the decision in force for each step.
    pub fn checklist(&self) -> Vec<(ProcedureStep, Option<&StepRecord>)> {
        self.kind()
            .procedure()
            .into_iter()
            .map(|step| {
                let latest = self.steps.iter().rev().find(|r| r.step == step.key);
                (step, latest)
            })
            .collect()
    }

    /// The steps nobody has recorded a decision for yet.
    pub fn outstanding(&self) -> Vec<ProcedureStep> {
        self.checklist()
            .into_iter()
            .filter(|(_, r)| r.is_none())
            .map(|(s, _)| s)
            .collect()
    }

    /// Checks a step decision before it is stored.
    pub fn check_step(&self, record: &StepRecord) -> Result<(), RecordsError> {
        self.must_work(record.role)?;
        self.kind().step(&record.step)?;
        let hint = match record.decision {
            Decision::Done => "say briefly what was done",
            Decision::NotApplicable => "say why this step does not apply",
            Decision::DecidedNot => "say why it was decided not to do this",
        };
        required("the reason", &record.reason, hint)
    }

    /// Checks an attachment: refused outright for nudes and indecent
    /// images (§11.2); otherwise a described document of sensible size.
    pub fn check_attachment(&self, new: &NewAttachment, size: u64) -> Result<(), RecordsError> {
        if self.kind().refuses_attachments() {
            return Err(RecordsError::AttachmentRefused(NO_ATTACHMENTS_EXPLANATION));
        }
        self.must_work(new.role)?;
        required(
            "the file name",
            &new.file_name,
            "choose the file to attach again",
        )?;
        required(
            "the description",
            &new.description,
            "say what the document is",
        )?;
        if size == 0 {
            return Err(RecordsError::Invalid(format!(
                "'{}' is empty; choose the file again",
                new.file_name
            )));
        }
        if size > MAX_ATTACHMENT_BYTES {
            return Err(RecordsError::Invalid(format!(
                "'{}' is larger than 20 MB; attach a smaller copy or a summary",
                new.file_name
            )));
        }
        Ok(())
    }

    /// Checks that an incident may close: an outcome, the lessons learnt
    /// (§10) and a decision for every step.
    pub fn check_close(&self, closure: &Closure) -> Result<(), RecordsError> {
        self.must_work(closure.role)?;
        required(
            "the outcome",
            &closure.outcome,
            "say how the incident ended before closing it",
        )?;
        required(
            "the lessons learnt",
            &closure.lessons,
            "write what the school has learnt, or 'none, handled as the policy says' (§10)",
        )?;
        let outstanding = self.outstanding();
        if !outstanding.is_empty() {
            return Err(RecordsError::StepsOutstanding(
                outstanding.iter().map(|s| s.key.to_owned()).collect(),
            ));
        }
        Ok(())
    }

    /// Checks a referral: the incident is open, this person may work it,
    /// and the referral names a matching directory entry.
    pub fn check_referral(
        &self,
        referral: &NewReferral,
        contact: &DirectoryContact,
    ) -> Result<(), RecordsError> {
        self.must_work(referral.role)?;
        referral.validate(contact)
    }

    /// Checks an agency's response. It may come after the incident closed.
    pub fn check_response(&self, response: &ReferralResponse) -> Result<(), RecordsError> {
        if !self.may_work(response.role) {
            return Err(RecordsError::NotAllowed(
                "only whoever may work this incident may record what an agency said".into(),
            ));
        }
        let referral = self
            .referrals
            .iter()
            .find(|r| r.id == response.referral_id)
            .ok_or_else(|| RecordsError::Unknown {
                what: "referral",
                value: response.referral_id.to_string(),
            })?;
        if referral.response.is_some() {
            return Err(RecordsError::Invalid(
                "a response is already recorded for this referral; add an amendment to correct it"
                    .into(),
            ));
        }
        required(
            "the response",
            &response.outcome,
            "write what the agency decided or advised",
        )
    }

    /// A field of the incident, or of one of its referrals, as it reads
    /// now (amendments to both are kept with the incident).
    pub fn field(&self, record: RecordRef, name: &str) -> Option<String> {
        let original = match record.kind {
            RecordKind::Incident if record.id == self.id && name == "summary" => {
                self.opened.summary.clone()
            }
            RecordKind::Referral => {
                let r = self.referrals.iter().find(|r| r.id == record.id)?;
                match name {
                    "reference" => r.made.reference.clone(),
                    "summary" => r.made.summary.clone(),
                    "due_at" => r.made.due_at.to_string(),
                    _ => return None,
                }
            }
            _ => return None,
        };
        Some(current(&self.amendments, record, name, original))
    }

    pub fn is_closed(&self) -> bool {
        self.closure.is_some()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::procedure::IiocCase;

    pub(crate) fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    pub(crate) fn incident(kind: IncidentType) -> Incident {
        Incident {
            id: 3,
            opened: NewIncident {
                concern_id: Some(7),
                kind,
                opened_by: "d.lead".into(),
                role: Role::Dsl,
                opened_at: at("2026-03-02T11:00:00Z"),
                summary: "Images shared in a group chat".into(),
                about_staff: false,
            },
            steps: vec![],
            referrals: vec![],
            attachments: vec![],
            amendments: vec![],
            closure: None,
        }
    }

    fn record(step: &str, decision: Decision, reason: &str) -> StepRecord {
        StepRecord {
            incident_id: 3,
            step: step.into(),
            decision,
            reason: reason.into(),
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: at("2026-03-02T12:00:00Z"),
        }
    }

    fn closure(outcome: &str, lessons: &str) -> Closure {
        Closure {
            incident_id: 3,
            outcome: outcome.into(),
            lessons: lessons.into(),
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: at("2026-03-09T12:00:00Z"),
        }
    }

    fn attachment() -> NewAttachment {
        NewAttachment {
            incident_id: 3,
            file_name: "police-letter.pdf".into(),
            media_type: "application/pdf".into(),
            description: "Letter from the police".into(),
            added_by: "d.lead".into(),
            role: Role::Dsl,
            added_at: at("2026-03-03T09:00:00Z"),
        }
    }

    #[test]
    fn opening_an_incident_needs_the_right_role() {
        let mut new = incident(IncidentType::SharingNudes).opened;
        new.validate().expect("dsl");
        new.role = Role::Staff;
        assert!(matches!(new.validate(), Err(RecordsError::NotAllowed(_))));
        new.role = Role::Headteacher;
        assert!(
            new.validate().is_err(),
            "headteacher only for staff allegations"
        );
        new.kind = IncidentType::StaffMisuse;
        new.validate().expect("headteacher, staff misuse");
        new.role = Role::DeputyDsl;
        assert!(
            new.validate().is_err(),
            "deputies do not handle staff allegations"
        );
        new.role = Role::Dsl;
        new.summary = " ".into();
        assert!(new.validate().is_err());
    }

    #[test]
    fn attachments_are_refused_for_nudes_and_indecent_images_with_the_reason() {
        for kind in [
            IncidentType::SharingNudes,
            IncidentType::IndecentImages(IiocCase::InadvertentExposure),
            IncidentType::IndecentImages(IiocCase::FoundOnSchoolDevice),
            IncidentType::IndecentImages(IiocCase::StaffPossession),
        ] {
            let err = incident(kind)
                .check_attachment(&attachment(), 1000)
                .expect_err(kind.id());
            assert_eq!(
                err,
                RecordsError::AttachmentRefused(NO_ATTACHMENTS_EXPLANATION)
            );
            assert!(err.to_string().contains("§11.2"));
        }
        let bullying = incident(IncidentType::Cyberbullying);
        bullying
            .check_attachment(&attachment(), 1000)
            .expect("allowed");
        assert!(bullying.check_attachment(&attachment(), 0).is_err());
        assert!(
            bullying
                .check_attachment(&attachment(), MAX_ATTACHMENT_BYTES + 1)
                .is_err()
        );
        let mut by_staff = attachment();
        by_staff.role = Role::Staff;
        assert!(bullying.check_attachment(&by_staff, 10).is_err());
    }

    #[test]
    fn steps_record_decisions_with_reasons_and_later_ones_supersede() {
        let mut i = incident(IncidentType::SharingNudes);
        let first = record("referral-decision", Decision::DecidedNot, "");
        assert!(
            i.check_step(&first)
                .unwrap_err()
                .to_string()
                .contains("decided not")
        );
        let first = record(
            "referral-decision",
            Decision::DecidedNot,
            "None of the five questions applies; both 15, consensual, not shared further",
        );
        i.check_step(&first)
            .expect("a decision not to refer, with reason");
        i.steps.push(first);
        let later = record(
            "referral-decision",
            Decision::Done,
            "Referred to children's social care after a second image came to light",
        );
        i.check_step(&later).expect("later decision");
        i.steps.push(later);
        let (_, latest) = i
            .checklist()
            .into_iter()
            .find(|(s, _)| s.key == "referral-decision")
            .unwrap();
        assert_eq!(latest.unwrap().decision, Decision::Done);
        assert_eq!(i.steps.len(), 2, "the earlier decision is kept");
        assert!(
            i.check_step(&record("lado-referral", Decision::Done, "x"))
                .is_err()
        );
        let mut by_staff = record("support", Decision::Done, "x");
        by_staff.role = Role::Staff;
        assert!(i.check_step(&by_staff).is_err());
    }

    #[test]
    fn closing_needs_an_outcome_lessons_and_every_step_decided() {
        let mut i = incident(IncidentType::Cyberbullying);
        assert!(matches!(
            i.check_close(&closure("", "x")),
            Err(RecordsError::Missing {
                field: "the outcome",
                ..
            })
        ));
        assert!(matches!(
            i.check_close(&closure("Resolved", " ")),
            Err(RecordsError::Missing {
                field: "the lessons learnt",
                ..
            })
        ));
        let err = i
            .check_close(&closure("Resolved", "Teach group-chat etiquette in Year 7"))
            .unwrap_err();
        assert!(matches!(&err, RecordsError::StepsOutstanding(s) if s.len() == 8));
        for step in IncidentType::Cyberbullying.procedure() {
            i.steps
                .push(record(step.key, Decision::Done, "done as written"));
        }
        let c = closure("Resolved", "Teach group-chat etiquette in Year 7");
        i.check_close(&c).expect("closes");
        i.closure = Some(c.clone());
        assert_eq!(i.check_close(&c), Err(RecordsError::AlreadyClosed(3)));
        assert_eq!(
            i.check_step(&record("support", Decision::Done, "more")),
            Err(RecordsError::AlreadyClosed(3))
        );
    }

    #[test]
    fn staff_allegations_are_worked_by_the_headteacher_and_dsl_only() {
        let i = incident(IncidentType::StaffMisuse);
        assert!(i.may_work(Role::Headteacher) && i.may_work(Role::Dsl));
        assert!(!i.may_work(Role::DeputyDsl) && !i.may_work(Role::Staff));
        let nudes = incident(IncidentType::SharingNudes);
        assert!(nudes.may_work(Role::DeputyDsl) && !nudes.may_work(Role::Headteacher));
    }

    #[test]
    fn referrals_and_responses_are_checked_against_the_incident() {
        use crate::referral::{Agency, DirectoryContact, NewReferral, Referral, ReferralResponse};
        let mut i = incident(IncidentType::OnlineSexualAbuseExploitation);
        let contact = DirectoryContact {
            id: 1,
            agency: Agency::Police101,
            name: "Police non-emergency".into(),
            phone: "101".into(),
            email: String::new(),
            web: String::new(),
            notes: String::new(),
            updated_by: "d.lead".into(),
            updated_at: at("2026-01-01T00:00:00Z"),
        };
        let referral = NewReferral {
            incident_id: 3,
            agency: Agency::Police101,
            contact_id: 1,
            made_by: "d.lead".into(),
            role: Role::DeputyDsl,
            made_at: at("2026-03-02T12:00:00Z"),
            due_at: at("2026-03-04T12:00:00Z"),
            reference: "CAD 123".into(),
            summary: "Reported the adult's messages".into(),
        };
        i.check_referral(&referral, &contact)
            .expect("deputy refers");
        let by_staff = NewReferral {
            role: Role::Staff,
            ..referral.clone()
        };
        assert!(matches!(
            i.check_referral(&by_staff, &contact),
            Err(RecordsError::NotAllowed(_))
        ));
        i.referrals.push(Referral {
            id: 5,
            made: referral,
            response: None,
        });
        let mut response = ReferralResponse {
            referral_id: 5,
            outcome: "Officer assigned; do not speak to the family yet".into(),
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: at("2026-03-03T09:00:00Z"),
        };
        // A response may come after the incident closed.
        i.closure = Some(closure("Police took over", "Faster referral next time"));
        i.check_response(&response).expect("late response");
        response.referral_id = 6;
        assert!(i.check_response(&response).is_err());
        response.referral_id = 5;
        response.outcome.clear();
        assert!(i.check_response(&response).is_err());
        let record = RecordRef {
            kind: RecordKind::Referral,
            id: 5,
        };
        assert_eq!(i.field(record, "reference").as_deref(), Some("CAD 123"));
        assert_eq!(i.field(record, "made_by"), None);
        let summary = RecordRef {
            kind: RecordKind::Incident,
            id: 3,
        };
        assert_eq!(
            i.field(summary, "summary").as_deref(),
            Some("Images shared in a group chat")
        );
    }
}
