//! The incident types of the online safety policy's §11 and the checklist
//! each one brings: the steps the policy and the national guidance name,
//! written as plain instructions for the DSL. Section numbers refer to the
//! school's online safety policy (the Kent/Derbyshire model policy the
//! seeds hold); "UKCIS" is the advice "Sharing nudes and semi-nudes: advice
//! for education settings working with children and young people";
//! "KCSIE" is "Keeping children safe in education".

use serde::{Deserialize, Serialize};

use crate::RecordsError;

/// The three cases of §11.4, each with its own procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IiocCase {
    /// A pupil or member of staff came across images by accident.
    InadvertentExposure,
    /// Images were found on a device the school provides.
    FoundOnSchoolDevice,
    /// A member of staff has images on a device the school provides.
    StaffPossession,
}

/// The kinds of incident §11 (and §7.3.2 for filtering) gives procedures for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IncidentType {
    /// §11.2: youth-produced sexual imagery.
    SharingNudes,
    /// §11.3, including criminal exploitation.
    OnlineSexualAbuseExploitation,
    /// §11.4.
    IndecentImages(IiocCase),
    /// §11.5.
    Cyberbullying,
    /// §11.6.
    OnlineHate,
    /// §11.7.
    RadicalisationExtremism,
    /// §11.1: sexual violence and sexual harassment between children online.
    OnlineSexualHarassment,
    /// §7.3.2: unsuitable material got past the filter.
    FilteringBreach,
    /// An allegation that a member of staff misused technology with or
    /// about children: managing allegations against staff, the LADO.
    StaffMisuse,
}

impl IncidentType {
    pub const ALL: [IncidentType; 11] = [
        IncidentType::SharingNudes,
        IncidentType::OnlineSexualAbuseExploitation,
        IncidentType::IndecentImages(IiocCase::InadvertentExposure),
        IncidentType::IndecentImages(IiocCase::FoundOnSchoolDevice),
        IncidentType::IndecentImages(IiocCase::StaffPossession),
        IncidentType::Cyberbullying,
        IncidentType::OnlineHate,
        IncidentType::RadicalisationExtremism,
        IncidentType::OnlineSexualHarassment,
        IncidentType::FilteringBreach,
        IncidentType::StaffMisuse,
    ];

    /// As stored.
    pub fn id(self) -> &'static str {
        match self {
            IncidentType::SharingNudes => "sharing-nudes",
            IncidentType::OnlineSexualAbuseExploitation => "online-sexual-abuse-exploitation",
            IncidentType::IndecentImages(IiocCase::InadvertentExposure) => {
                "indecent-images-inadvertent-exposure"
            }
            IncidentType::IndecentImages(IiocCase::FoundOnSchoolDevice) => {
                "indecent-images-school-device"
            }
            IncidentType::IndecentImages(IiocCase::StaffPossession) => {
                "indecent-images-staff-possession"
            }
            IncidentType::Cyberbullying => "cyberbullying",
            IncidentType::OnlineHate => "online-hate",
            IncidentType::RadicalisationExtremism => "radicalisation-extremism",
            IncidentType::OnlineSexualHarassment => "online-sexual-harassment",
            IncidentType::FilteringBreach => "filtering-breach",
            IncidentType::StaffMisuse => "staff-misuse",
        }
    }

    pub fn from_id(id: &str) -> Result<IncidentType, RecordsError> {
        IncidentType::ALL
            .into_iter()
            .find(|t| t.id() == id)
            .ok_or_else(|| RecordsError::Unknown {
                what: "incident type",
                value: id.to_owned(),
            })
    }

    /// As a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            IncidentType::SharingNudes => "Sharing nudes and semi-nudes",
            IncidentType::OnlineSexualAbuseExploitation => {
                "Online child sexual abuse and exploitation"
            }
            IncidentType::IndecentImages(IiocCase::InadvertentExposure) => {
                "Indecent images of children: seen by accident"
            }
            IncidentType::IndecentImages(IiocCase::FoundOnSchoolDevice) => {
                "Indecent images of children: found on a school device"
            }
            IncidentType::IndecentImages(IiocCase::StaffPossession) => {
                "Indecent images of children: held by a member of staff"
            }
            IncidentType::Cyberbullying => "Cyberbullying",
            IncidentType::OnlineHate => "Online hate",
            IncidentType::RadicalisationExtremism => "Radicalisation and extremism",
            IncidentType::OnlineSexualHarassment => "Online sexual harassment between children",
            IncidentType::FilteringBreach => "Filtering breach",
            IncidentType::StaffMisuse => "Allegation about a member of staff (LADO)",
        }
    }

    /// The policy section the procedure comes from.
    pub fn section(self) -> &'static str {
        match self {
            IncidentType::SharingNudes => "§11.2",
            IncidentType::OnlineSexualAbuseExploitation => "§11.3",
            IncidentType::IndecentImages(_) => "§11.4",
            IncidentType::Cyberbullying => "§11.5",
            IncidentType::OnlineHate => "§11.6",
            IncidentType::RadicalisationExtremism => "§11.7",
            IncidentType::OnlineSexualHarassment => "§11.1",
            IncidentType::FilteringBreach => "§7.3.2",
            IncidentType::StaffMisuse => "§11.4, §11.7 and managing allegations against staff",
        }
    }

    /// Allegations about staff: seen only by the headteacher and the DSL.
    pub fn is_staff_allegation(self) -> bool {
        matches!(
            self,
            IncidentType::StaffMisuse | IncidentType::IndecentImages(IiocCase::StaffPossession)
        )
    }

    /// §11.2: the school never copies, saves or shares the images in these
    /// incidents, so it keeps no attachments for them at all.
    pub fn refuses_attachments(self) -> bool {
        matches!(
            self,
            IncidentType::SharingNudes | IncidentType::IndecentImages(_)
        )
    }

    /// The checklist for this type of incident, in the order to work it.
    pub fn procedure(self) -> Vec<ProcedureStep> {
        let keys: &[&str] = match self {
            IncidentType::SharingNudes => &[
                "tell-dsl",
                "do-not-view",
                "secure-device",
                "isolate-on-network",
                "initial-review",
                "five-questions",
                "talk-to-children",
                "risk-assessment",
                "inform-parents",
                "referral-decision",
                "support",
                "report-remove",
                "sanctions",
                "deletion",
                "review-handling",
            ],
            IncidentType::OnlineSexualAbuseExploitation => &[
                "tell-dsl",
                "do-not-view",
                "secure-device-if-needed",
                "police-now",
                "children-social-care",
                "risk-assessment",
                "inform-parents",
                "support",
                "ceop-report",
                "other-settings-police-first",
                "review-handling",
            ],
            IncidentType::IndecentImages(IiocCase::InadvertentExposure) => &[
                "tell-dsl",
                "do-not-view",
                "report-urls-iwf",
                "delete-copies",
                "support-person-exposed",
                "inform-parents-as-appropriate",
                "review-handling",
            ],
            IncidentType::IndecentImages(IiocCase::FoundOnSchoolDevice) => &[
                "tell-dsl",
                "do-not-view",
                "quarantine-device",
                "report-urls-iwf",
                "police-and-social-care",
                "copies-only-for-police",
                "delete-copies-after-police",
                "inform-parents-as-appropriate",
                "review-handling",
            ],
            IncidentType::IndecentImages(IiocCase::StaffPossession) => &[
                "tell-headteacher-now",
                "do-not-view",
                "do-not-alert-staff",
                "quarantine-device-for-police",
                "lado-referral",
                "police-on-lado-advice",
                "follow-lado-advice",
                "review-handling",
            ],
            IncidentType::Cyberbullying => &[
                "tell-dsl",
                "preserve-evidence",
                "support",
                "block-and-report",
                "anti-bullying-policy",
                "inform-parents",
                "police-if-crime",
                "review-handling",
            ],
            IncidentType::OnlineHate => &[
                "tell-dsl",
                "preserve-evidence",
                "support",
                "anti-bullying-policy",
                "police-if-crime",
                "police-advice-if-unsure",
                "inform-parents",
                "review-handling",
            ],
            IncidentType::RadicalisationExtremism => &[
                "tell-dsl-or-headteacher",
                "immediate-danger",
                "prevent-referral",
                "report-extremist-content",
                "check-filtering",
                "inform-parents-unless-risk",
                "support",
                "review-handling",
            ],
            IncidentType::OnlineSexualHarassment => &[
                "tell-dsl",
                "do-not-view",
                "devices-by-dfe-advice",
                "support-all-children",
                "block-and-report",
                "risk-assessment",
                "sanctions",
                "inform-parents",
                "referral-decision",
                "other-settings",
                "police-first-if-crime",
                "review-handling",
            ],
            IncidentType::FilteringBreach => &[
                "screen-off-and-report",
                "record-url",
                "tell-dsl-and-technician",
                "block-and-review-filter",
                "illegal-content-reported",
                "inform-parents-of-breach",
                "log-filter-check",
                "review-handling",
            ],
            IncidentType::StaffMisuse => &[
                "tell-headteacher-now",
                "do-not-alert-staff",
                "secure-evidence",
                "lado-referral",
                "police-on-lado-advice",
                "follow-lado-advice",
                "support",
                "review-handling",
            ],
        };
        keys.iter()
            .map(|key| step(key).unwrap_or_else(|| panic!("step '{key}' is not written")))
            .collect()
    }

    /// One step of this type's procedure, by key.
    pub fn step(self, key: &str) -> Result<ProcedureStep, RecordsError> {
        self.procedure()
            .into_iter()
            .find(|s| s.key == key)
            .ok_or_else(|| {
                RecordsError::Invalid(format!(
                    "'{key}' is not a step of the {} procedure",
                    self.label().to_lowercase()
                ))
            })
    }
}

/// One step of a procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ProcedureStep {
    pub key: &'static str,
    /// What to do, as the DSL reads it on the checklist.
    pub text: &'static str,
    /// Where the step comes from.
    pub source: &'static str,
}

const fn s(key: &'static str, text: &'static str, source: &'static str) -> ProcedureStep {
    ProcedureStep { key, text, source }
}

/// Every step any procedure uses. Shared steps are written once so that
/// the same instruction reads the same on every checklist.
const STEPS: &[ProcedureStep] = &[
    s(
        "tell-dsl",
        "The DSL (or a deputy) has been told, the same day. The member of staff who heard about it does not investigate further.",
        "§10, §11",
    ),
    s(
        "tell-dsl-or-headteacher",
        "The DSL (or a deputy) has been told at once. If the worry is about a member of staff, the headteacher has been told instead.",
        "§11.7",
    ),
    s(
        "tell-headteacher-now",
        "The headteacher has been told at once, in line with the policy for managing allegations against staff. If the allegation is about the headteacher, the chair of governors has been told.",
        "§11.4; KCSIE part 4",
    ),
    s(
        "do-not-view",
        "Nobody views, copies, prints, saves, shares or forwards the images, and no child has been asked to show or send them. If viewing could not be avoided, only the DSL viewed them, with another senior member of staff present, and the reason is recorded here.",
        "§11.2; UKCIS",
    ),
    s(
        "secure-device",
        "The device has been confiscated, switched off or put in flight mode, and locked away securely. It is logged in the confiscated devices register.",
        "§11.2, §9.2; UKCIS",
    ),
    s(
        "secure-device-if-needed",
        "Any device involved has been confiscated and stored securely, if that is appropriate, without looking through it.",
        "§11.3",
    ),
    s(
        "isolate-on-network",
        "If the images were taken or shared on the school's network or devices, access has been blocked for everyone and the images isolated.",
        "§11.2",
    ),
    s(
        "initial-review",
        "An initial review meeting has been held with the right staff to decide whether there is an immediate risk and whether to involve other agencies.",
        "UKCIS",
    ),
    s(
        "five-questions",
        "The five questions have been asked. Refer to the police and/or children's social care immediately if: an adult is involved; a child may have been coerced, blackmailed or groomed, or may not be able to consent (for example because of special educational needs); the images show sexual acts unusual for the child's stage of development, or violence; the images show sexual acts and any child in them is under 13; or a child is at immediate risk of harm because of the sharing (for example self-harm or suicidal thoughts).",
        "UKCIS",
    ),
    s(
        "talk-to-children",
        "The children involved have been spoken to, without viewing the images, to understand what happened, who has the images and where they have been shared, and to reassure them.",
        "UKCIS",
    ),
    s(
        "risk-assessment",
        "A risk assessment has been done, considering how vulnerable each child involved is, including checks with other agencies where needed.",
        "§11.2, §11.3",
    ),
    s(
        "inform-parents",
        "Parents or carers have been told about the incident and how it is being handled, unless telling them would put a child at greater risk. If they were not told, the reason is recorded here.",
        "§10, §11.2; UKCIS",
    ),
    s(
        "inform-parents-as-appropriate",
        "Parents or carers have been told, as appropriate. If they were not, the reason is recorded here.",
        "§11.4",
    ),
    s(
        "inform-parents-unless-risk",
        "Parents or carers have been told, unless the concern is about them or telling them would increase the risk to the child. If they were not, the reason is recorded here.",
        "§11.7; Prevent duty guidance",
    ),
    s(
        "inform-parents-of-breach",
        "The parents or carers of any child involved in the filtering breach have been told.",
        "§7.3.2",
    ),
    s(
        "referral-decision",
        "The decision whether to refer to children's social care and/or the police has been made and recorded here with its reason, including a decision not to refer.",
        "§11.1, §11.2; UKCIS",
    ),
    s(
        "support",
        "Support has been offered to the children involved, such as pastoral support or counselling.",
        "§11.1–11.3",
    ),
    s(
        "support-all-children",
        "Safeguards and support have been put in place for every child involved, including the child accused.",
        "§11.1",
    ),
    s(
        "support-person-exposed",
        "The person who saw the images has been offered support.",
        "§11.4",
    ),
    s(
        "report-remove",
        "The child has been told how to get the images taken down from the internet (Childline and the IWF's Report Remove service) if they have been posted online.",
        "UKCIS",
    ),
    s(
        "block-and-report",
        "The children have been given advice on blocking, reporting and removing the content online.",
        "§11.1",
    ),
    s(
        "sanctions",
        "Any sanction follows the behaviour policy and takes care not to cause further harm to a child who has been a victim.",
        "§11.1, §11.2",
    ),
    s(
        "deletion",
        "Deleting the images has been considered. Images are deleted only once the DSL is sure no other agency needs to be involved, and that deleting them will not put a child at risk or harm an investigation.",
        "§11.2; UKCIS",
    ),
    s(
        "police-now",
        "The police have been told straight away: 101, or 999 if a child is in immediate danger. If it was unclear whether a crime had been committed, the police's advice was sought on 101.",
        "§11.3",
    ),
    s(
        "children-social-care",
        "A referral to children's social care has been made, or the decision not to refer is recorded here with its reason.",
        "§11.3",
    ),
    s(
        "ceop-report",
        "Where it helps, the child has been involved in deciding what happens next and shown how to report to CEOP.",
        "§11.3",
    ),
    s(
        "other-settings-police-first",
        "If children at other schools may have been targeted, the police were asked first, so that no investigation is put at risk.",
        "§11.3",
    ),
    s(
        "report-urls-iwf",
        "The addresses (URLs) of the web pages holding the images have been reported to the Internet Watch Foundation. The images themselves were not copied to do this.",
        "§11.4",
    ),
    s(
        "delete-copies",
        "Any copies that exist, for example in emails, have been deleted.",
        "§11.4",
    ),
    s(
        "quarantine-device",
        "The device has been taken out of use and stored securely, untouched, until the police have advised.",
        "§11.4",
    ),
    s(
        "police-and-social-care",
        "The police have been told (101, or 999 if there is an immediate risk of harm), and children's social care as appropriate.",
        "§11.4",
    ),
    s(
        "copies-only-for-police",
        "No copies are kept unless the police ask for them; any kept at their request are stored where nobody else can reach them.",
        "§11.4",
    ),
    s(
        "delete-copies-after-police",
        "Once the police have advised, any other copies (for example in emails) have been deleted.",
        "§11.4",
    ),
    s(
        "do-not-alert-staff",
        "The member of staff has not been told about the allegation or questioned before the LADO (and police, if involved) have advised.",
        "KCSIE part 4",
    ),
    s(
        "quarantine-device-for-police",
        "The devices involved have been taken out of use and kept securely until police advice has been sought.",
        "§11.4",
    ),
    s(
        "secure-evidence",
        "Evidence (devices, accounts, messages) has been secured without searching it, so that the LADO and police can decide what to do.",
        "KCSIE part 4",
    ),
    s(
        "lado-referral",
        "The Local Authority Designated Officer (LADO) has been told within one working day.",
        "§11.4; KCSIE part 4",
    ),
    s(
        "police-on-lado-advice",
        "The police have been told if the LADO advised it, or at once (999) if a child is in immediate danger.",
        "§11.4; KCSIE part 4",
    ),
    s(
        "follow-lado-advice",
        "The LADO's advice has been followed and recorded here, including any decision about suspension and what the member of staff is told.",
        "KCSIE part 4",
    ),
    s(
        "preserve-evidence",
        "Evidence has been kept: screenshots or printouts of the messages or posts, with dates, usernames and where they were posted. This is not done for sexual images of children.",
        "§11.5, §11.6",
    ),
    s(
        "anti-bullying-policy",
        "The incident has been dealt with under the anti-bullying and behaviour policies.",
        "§11.5, §11.6",
    ),
    s(
        "police-if-crime",
        "The police have been contacted if a crime is suspected (threats, harassment, hate crime), or the decision not to is recorded here with its reason.",
        "§11.6",
    ),
    s(
        "police-advice-if-unsure",
        "Where it was unclear how to respond or whether a crime had been committed, advice was sought from the police.",
        "§11.6",
    ),
    s(
        "immediate-danger",
        "If anyone is in immediate danger, the police have been called on 999.",
        "§10; Prevent duty guidance",
    ),
    s(
        "prevent-referral",
        "A referral to Prevent (which may lead to Channel) has been made through the local pathway, or the decision not to refer is recorded here with its reason.",
        "§11.7",
    ),
    s(
        "report-extremist-content",
        "Extremist material found online has been reported to the government's online reporting service and to the police as appropriate.",
        "§7.3.2, §11.7",
    ),
    s(
        "check-filtering",
        "The filter has been checked to make sure it blocks the material, and the check is in the filtering check log.",
        "§7.3.1, §11.7",
    ),
    s(
        "devices-by-dfe-advice",
        "Any content on pupils' devices has been handled in line with the DfE advice on searching, screening and confiscation.",
        "§11.1",
    ),
    s(
        "other-settings",
        "If children at another school are involved, their DSL has been contacted to work together.",
        "§11.1",
    ),
    s(
        "police-first-if-crime",
        "If a crime has been committed, the police were spoken to first so that no investigation is put at risk.",
        "§11.1",
    ),
    s(
        "screen-off-and-report",
        "The screen was turned off (the browser left open, so the address is not lost) and the child reported it to a member of staff.",
        "§7.3.2",
    ),
    s(
        "record-url",
        "The address (URL) of the site has been recorded here, without visiting it again.",
        "§7.3.2",
    ),
    s(
        "tell-dsl-and-technician",
        "The DSL (or a deputy) and the technical staff have been told.",
        "§7.3.2",
    ),
    s(
        "block-and-review-filter",
        "The site has been blocked and the filtering policy reviewed, with the change and its reason logged.",
        "§7.3.1, §7.3.2",
    ),
    s(
        "illegal-content-reported",
        "If the material may be illegal, it has been reported straight away to the IWF, the police or CEOP, as appropriate.",
        "§7.3.2",
    ),
    s(
        "log-filter-check",
        "A check that the filter now works has been done and written in the filtering check log.",
        "§7.3.1; DfE filtering and monitoring standards",
    ),
    s(
        "review-handling",
        "The handling of the incident has been reviewed and any changes to policies or procedures made.",
        "§10",
    ),
];

/// Every procedure as Markdown, for docs/records.md (a test keeps the two
/// the same) and anywhere else the checklists are printed.
pub fn procedures_markdown() -> String {
    let mut out = String::new();
    for t in IncidentType::ALL {
        out.push_str(&format!(
            "### {} (`{}`, {})\n\n",
            t.label(),
            t.id(),
            t.section()
        ));
        for (n, s) in t.procedure().iter().enumerate() {
            out.push_str(&format!(
                "{}. {} *({}; `{}`)*\n",
                n + 1,
                s.text,
                s.source,
                s.key
            ));
        }
        out.push('\n');
    }
    out
}

fn step(key: &str) -> Option<ProcedureStep> {
    STEPS.iter().find(|s| s.key == key).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(t: IncidentType) -> Vec<&'static str> {
        t.procedure().iter().map(|s| s.key).collect()
    }

    #[test]
    fn every_type_has_a_checklist_whose_steps_are_written_and_distinct() {
        for t in IncidentType::ALL {
            let steps = t.procedure();
            assert!(steps.len() >= 5, "{} has a thin procedure", t.id());
            for (i, s) in steps.iter().enumerate() {
                assert!(!s.text.is_empty() && !s.source.is_empty());
                assert!(!steps[..i].iter().any(|o| o.key == s.key), "{}", s.key);
            }
            assert_eq!(keys(t).last(), Some(&"review-handling"), "{}", t.id());
            assert_eq!(IncidentType::from_id(t.id()), Ok(t));
        }
        for s in STEPS {
            assert!(
                IncidentType::ALL.iter().any(|t| keys(*t).contains(&s.key)),
                "step '{}' is written but no procedure uses it",
                s.key
            );
        }
    }

    #[test]
    fn sharing_nudes_has_the_steps_the_guidance_requires() {
        let k = keys(IncidentType::SharingNudes);
        for required in [
            "do-not-view",
            "secure-device",
            "five-questions",
            "inform-parents",
            "referral-decision",
            "deletion",
        ] {
            assert!(k.contains(&required), "{required}");
        }
        let five = IncidentType::SharingNudes.step("five-questions").unwrap();
        for question in [
            "an adult",
            "coerced",
            "violence",
            "under 13",
            "immediate risk",
        ] {
            assert!(five.text.contains(question), "{question}");
        }
        let view = IncidentType::SharingNudes.step("do-not-view").unwrap();
        for word in ["views", "copies", "prints", "shares"] {
            assert!(view.text.contains(word));
        }
        let parents = IncidentType::SharingNudes.step("inform-parents").unwrap();
        assert!(parents.text.contains("unless"));
        let decision = IncidentType::SharingNudes
            .step("referral-decision")
            .unwrap();
        assert!(decision.text.contains("decision not to refer"));
    }

    #[test]
    fn the_indecent_image_cases_differ_as_the_policy_says() {
        let exposure = keys(IncidentType::IndecentImages(IiocCase::InadvertentExposure));
        assert!(exposure.contains(&"report-urls-iwf") && exposure.contains(&"delete-copies"));
        let device = keys(IncidentType::IndecentImages(IiocCase::FoundOnSchoolDevice));
        assert!(device.contains(&"police-and-social-care"));
        assert!(device.contains(&"copies-only-for-police"));
        let staff = keys(IncidentType::IndecentImages(IiocCase::StaffPossession));
        assert!(staff.contains(&"tell-headteacher-now") && staff.contains(&"lado-referral"));
        assert!(staff.contains(&"quarantine-device-for-police"));
        assert!(IncidentType::IndecentImages(IiocCase::StaffPossession).is_staff_allegation());
        assert!(!IncidentType::IndecentImages(IiocCase::FoundOnSchoolDevice).is_staff_allegation());
    }

    #[test]
    fn other_procedures_carry_their_key_steps() {
        assert!(keys(IncidentType::OnlineSexualAbuseExploitation).contains(&"police-now"));
        assert!(keys(IncidentType::RadicalisationExtremism).contains(&"prevent-referral"));
        assert!(keys(IncidentType::StaffMisuse).contains(&"lado-referral"));
        assert!(keys(IncidentType::FilteringBreach).contains(&"inform-parents-of-breach"));
        assert!(keys(IncidentType::OnlineHate).contains(&"police-if-crime"));
        assert!(keys(IncidentType::Cyberbullying).contains(&"preserve-evidence"));
        assert!(keys(IncidentType::OnlineSexualHarassment).contains(&"referral-decision"));
        assert!(IncidentType::SharingNudes.step("lado-referral").is_err());
        assert!(IncidentType::from_id("sexting").is_err());
    }

    /// docs/records.md carries the procedures exactly as the code has them.
    /// Run with SCHOOLGATE_WRITE_DOCS=1 to rewrite that part of the file.
    #[test]
    fn docs_records_md_lists_the_procedures_as_written() {
        const BEGIN: &str = "<!-- procedures: generated from crates/records/src/procedure.rs -->\n";
        const END: &str = "<!-- end of procedures -->";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/records.md");
        let doc = std::fs::read_to_string(path).expect("docs/records.md");
        let start = doc.find(BEGIN).expect("begin marker") + BEGIN.len();
        let end = doc.find(END).expect("end marker");
        let expected = procedures_markdown();
        if std::env::var_os("SCHOOLGATE_WRITE_DOCS").is_some() {
            let written = format!("{}{}{}", &doc[..start], expected, &doc[end..]);
            std::fs::write(path, written).expect("write docs/records.md");
            return;
        }
        assert!(
            doc[start..end] == expected,
            "docs/records.md is out of date: run SCHOOLGATE_WRITE_DOCS=1 cargo test -p records"
        );
    }
}
