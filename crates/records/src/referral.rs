//! Referrals to the agencies a school works with, and the directory of
//! contacts the school fills in for them (its own LADO, children's social
//! care front door and Prevent team; the national numbers for the police,
//! the IWF and CEOP).
//!
//! Each referral has a date by which the school expects to hear back or
//! follow it up; a referral past that date with no response is overdue.

use jiff::civil::Weekday;
use jiff::{SignedDuration, Timestamp, ToSpan, Zoned};
use serde::{Deserialize, Serialize};

use crate::{RecordsError, Role, required};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Agency {
    /// Police, non-emergency (101).
    Police101,
    /// Police, emergency (999): a child in immediate danger.
    Police999,
    /// The Local Authority Designated Officer: allegations about staff.
    Lado,
    /// Children's social care front door (MASH, Starting Point…).
    ChildrensSocialCare,
    /// The local Prevent team (Channel).
    Prevent,
    /// The Internet Watch Foundation: web addresses of child sexual abuse images.
    Iwf,
    /// CEOP: online sexual abuse and grooming.
    Ceop,
}

impl Agency {
    pub const ALL: [Agency; 7] = [
        Agency::Police101,
        Agency::Police999,
        Agency::Lado,
        Agency::ChildrensSocialCare,
        Agency::Prevent,
        Agency::Iwf,
        Agency::Ceop,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Agency::Police101 => "police-101",
            Agency::Police999 => "police-999",
            Agency::Lado => "lado",
            Agency::ChildrensSocialCare => "childrens-social-care",
            Agency::Prevent => "prevent",
            Agency::Iwf => "iwf",
            Agency::Ceop => "ceop",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Agency::Police101 => "Police (101, non-emergency)",
            Agency::Police999 => "Police (999, emergency)",
            Agency::Lado => "Local Authority Designated Officer (LADO)",
            Agency::ChildrensSocialCare => "Children's social care front door",
            Agency::Prevent => "Prevent",
            Agency::Iwf => "Internet Watch Foundation (IWF)",
            Agency::Ceop => "CEOP",
        }
    }

    pub fn from_id(id: &str) -> Result<Agency, RecordsError> {
        Agency::ALL
            .into_iter()
            .find(|a| a.id() == id)
            .ok_or_else(|| RecordsError::Unknown {
                what: "agency",
                value: id.to_owned(),
            })
    }

    /// How long the school waits before following a referral up, unless
    /// the DSL sets another date. Children's social care decide what to do
    /// within one working day of a referral (Working Together), and the
    /// LADO is told within one working day (KCSIE); for a 999 call the DSL
    /// checks the same day what happened next.
    pub fn follow_up(self) -> FollowUp {
        match self {
            Agency::Police999 => FollowUp::Hours(4),
            Agency::Lado | Agency::ChildrensSocialCare => FollowUp::WorkingDays(1),
            Agency::Police101 => FollowUp::WorkingDays(2),
            Agency::Prevent | Agency::Iwf | Agency::Ceop => FollowUp::WorkingDays(5),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FollowUp {
    Hours(i64),
    WorkingDays(i64),
}

/// `days` working days (Monday to Friday) after `from`, counted in the
/// time zone `from` is in (the school's). Bank holidays are not known
/// here: a referral made before one falls due a day early, which errs on
/// the side of chasing it.
pub fn add_working_days(from: &Zoned, days: i64) -> Timestamp {
    let mut at = from.clone();
    let mut left = days;
    while left > 0 {
        at = match at.checked_add(1.day()) {
            Ok(next) => next,
            Err(_) => return at.timestamp(),
        };
        if !matches!(at.weekday(), Weekday::Saturday | Weekday::Sunday) {
            left -= 1;
        }
    }
    at.timestamp()
}

/// The date a referral made at `made_at`, in the school's time zone, is
/// due for follow-up by default.
pub fn default_due_in(agency: Agency, made_at: &Zoned) -> Timestamp {
    match agency.follow_up() {
        FollowUp::Hours(h) => made_at.timestamp() + SignedDuration::from_hours(h),
        FollowUp::WorkingDays(d) => add_working_days(made_at, d),
    }
}

/// [`default_due_in`] the policy's default time zone, for callers with no
/// policy at hand.
pub fn default_due(agency: Agency, made_at: Timestamp) -> Timestamp {
    default_due_in(agency, &made_at.to_zoned(crate::default_zone()))
}

/// One entry in the school's directory of agencies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryContact {
    /// Zero until stored.
    pub id: i64,
    pub agency: Agency,
    /// The team or person: "Derbyshire LADO", "Starting Point".
    pub name: String,
    pub phone: String,
    pub email: String,
    /// A web address for online referral forms or reporting.
    pub web: String,
    /// When to use it, out-of-hours numbers, what to have ready.
    pub notes: String,
    pub updated_by: String,
    pub updated_at: Timestamp,
}

impl DirectoryContact {
    pub fn validate(&self, role: Role) -> Result<(), RecordsError> {
        if !(role.is_dsl_role() || role == Role::Headteacher) {
            return Err(RecordsError::NotAllowed(
                "only the DSL, a deputy DSL or the headteacher may change the referral directory"
                    .into(),
            ));
        }
        required("the name", &self.name, "name the team or person")?;
        if [&self.phone, &self.email, &self.web]
            .iter()
            .all(|v| v.trim().is_empty())
        {
            return Err(RecordsError::Missing {
                field: "the contact details",
                hint: "give a phone number, an email address or a web address",
            });
        }
        if !self.email.trim().is_empty() && !self.email.contains('@') {
            return Err(RecordsError::Invalid(format!(
                "'{}' is not an email address",
                self.email
            )));
        }
        Ok(())
    }
}

/// The national contacts every school in England shares; the local ones
/// (LADO, children's social care, Prevent) are the school's to fill in.
pub fn national_contacts(by: &str, at: Timestamp) -> Vec<DirectoryContact> {
    let c = |agency, name: &str, phone: &str, web: &str, notes: &str| DirectoryContact {
        id: 0,
        agency,
        name: name.to_owned(),
        phone: phone.to_owned(),
        email: String::new(),
        web: web.to_owned(),
        notes: notes.to_owned(),
        updated_by: by.to_owned(),
        updated_at: at,
    };
    vec![
        c(
            Agency::Police999,
            "Police emergency",
            "999",
            "",
            "A child is in immediate danger or a crime is happening now.",
        ),
        c(
            Agency::Police101,
            "Police non-emergency",
            "101",
            "",
            "Reporting a crime, or asking for advice when unsure whether one has been committed.",
        ),
        c(
            Agency::Iwf,
            "Internet Watch Foundation",
            "",
            "https://report.iwf.org.uk/",
            "Report the web address only. Never copy, download or send the images.",
        ),
        c(
            Agency::Ceop,
            "CEOP Safety Centre",
            "",
            "https://www.ceop.police.uk/Safety-Centre/",
            "Online sexual abuse or grooming. Call 999 instead if a child is in immediate danger.",
        ),
    ]
}

/// A referral as the DSL records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReferral {
    pub incident_id: i64,
    pub agency: Agency,
    /// The directory entry used.
    pub contact_id: i64,
    pub made_by: String,
    pub role: Role,
    pub made_at: Timestamp,
    /// When to follow it up; [`default_due`] unless the DSL chose.
    pub due_at: Timestamp,
    /// The agency's reference number, if they gave one.
    pub reference: String,
    /// What was reported and any advice given.
    pub summary: String,
}

impl NewReferral {
    /// Checks a referral against the directory entry it names. Whether
    /// this person may work the incident is checked by the incident.
    pub fn validate(&self, contact: &DirectoryContact) -> Result<(), RecordsError> {
        if contact.id != self.contact_id || contact.agency != self.agency {
            return Err(RecordsError::Invalid(format!(
                "the directory entry '{}' is for {}, not {}; choose an entry for the agency you referred to",
                contact.name,
                contact.agency.label(),
                self.agency.label()
            )));
        }
        required(
            "the summary",
            &self.summary,
            "say what was reported and any advice given",
        )?;
        if self.due_at < self.made_at {
            return Err(RecordsError::Invalid(
                "the follow-up date is before the referral was made; choose a later date".into(),
            ));
        }
        Ok(())
    }
}

/// What came back from the agency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralResponse {
    pub referral_id: i64,
    pub outcome: String,
    pub actor: String,
    pub role: Role,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    pub id: i64,
    pub made: NewReferral,
    pub response: Option<ReferralResponse>,
}

impl Referral {
    /// Past its follow-up date with no response recorded.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.response.is_none() && now > self.made.due_at
    }
}

/// The overdue referrals at `now`, the longest overdue first.
pub fn overdue(referrals: &[Referral], now: Timestamp) -> Vec<&Referral> {
    let mut late: Vec<&Referral> = referrals.iter().filter(|r| r.is_overdue(now)).collect();
    late.sort_by_key(|r| r.made.due_at);
    late
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn contact(agency: Agency) -> DirectoryContact {
        DirectoryContact {
            id: 4,
            agency,
            name: "County LADO".into(),
            phone: "01234 567890".into(),
            email: "lado@county.example".into(),
            web: String::new(),
            notes: String::new(),
            updated_by: "d.lead".into(),
            updated_at: at("2026-01-05T09:00:00Z"),
        }
    }

    fn referral(id: i64, agency: Agency, made: &str) -> Referral {
        let made_at = at(made);
        Referral {
            id,
            made: NewReferral {
                incident_id: 3,
                agency,
                contact_id: 4,
                made_by: "d.lead".into(),
                role: Role::Dsl,
                made_at,
                due_at: default_due(agency, made_at),
                reference: String::new(),
                summary: "Reported the allegation".into(),
            },
            response: None,
        }
    }

    fn in_zone(text: &str, zone: &str) -> Zoned {
        at(text).to_zoned(jiff::tz::TimeZone::get(zone).expect("zone"))
    }

    #[test]
    fn working_days_skip_the_weekend() {
        // Friday 6 March 2026, 15:00 UK time.
        let friday = in_zone("2026-03-06T15:00:00Z", "Europe/London");
        assert_eq!(add_working_days(&friday, 1), at("2026-03-09T15:00:00Z"));
        assert_eq!(add_working_days(&friday, 5), at("2026-03-13T15:00:00Z"));
        let wednesday = in_zone("2026-03-04T10:00:00Z", "Europe/London");
        assert_eq!(add_working_days(&wednesday, 2), at("2026-03-06T10:00:00Z"));
    }

    #[test]
    fn working_days_are_counted_in_the_schools_zone() {
        // 21:00 on Friday 6 March in London is already Saturday 01:00 in
        // Dubai: a LADO referral then is due at 21:00 on Monday in London,
        // but at 01:00 on Monday in Dubai, the first working day after it
        // was made at the weekend.
        let made = "2026-03-06T21:00:00Z";
        assert_eq!(
            default_due_in(Agency::Lado, &in_zone(made, "Europe/London")),
            at("2026-03-09T21:00:00Z")
        );
        assert_eq!(
            default_due_in(Agency::Lado, &in_zone(made, "Asia/Dubai")),
            at("2026-03-08T21:00:00Z")
        );
        assert_eq!(
            default_due(Agency::Lado, at(made)),
            at("2026-03-09T21:00:00Z")
        );
        // Hours are hours anywhere.
        assert_eq!(
            default_due_in(Agency::Police999, &in_zone(made, "Asia/Dubai")),
            at("2026-03-07T01:00:00Z")
        );
    }

    #[test]
    fn overdue_referrals_are_found_with_a_given_clock() {
        let lado = referral(1, Agency::Lado, "2026-03-06T15:00:00Z");
        let police = referral(2, Agency::Police999, "2026-03-09T08:00:00Z");
        let mut answered = referral(3, Agency::ChildrensSocialCare, "2026-03-02T09:00:00Z");
        answered.response = Some(ReferralResponse {
            referral_id: 3,
            outcome: "No further action; early help offered".into(),
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: at("2026-03-03T09:00:00Z"),
        });
        let all = [lado, police, answered];
        // Monday 9 March 11:00: the 999 call (due 12:00) is not yet late;
        // the LADO referral (due Monday 15:00) is not either.
        assert!(overdue(&all, at("2026-03-09T11:00:00Z")).is_empty());
        let late: Vec<i64> = overdue(&all, at("2026-03-09T16:00:00Z"))
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(late, vec![2, 1]);
        assert!(!all[2].is_overdue(at("2027-01-01T00:00:00Z")));
    }

    #[test]
    fn referrals_use_a_matching_directory_entry() {
        let r = referral(1, Agency::Lado, "2026-03-06T15:00:00Z");
        r.made.validate(&contact(Agency::Lado)).expect("matches");
        assert!(r.made.validate(&contact(Agency::Prevent)).is_err());
        let mut early = r.made.clone();
        early.due_at = at("2026-03-01T00:00:00Z");
        assert!(early.validate(&contact(Agency::Lado)).is_err());
    }

    #[test]
    fn the_directory_needs_a_way_to_reach_the_agency() {
        let mut c = contact(Agency::Lado);
        c.validate(Role::Dsl).expect("valid");
        assert!(c.validate(Role::Staff).is_err());
        c.phone.clear();
        c.email.clear();
        assert!(c.validate(Role::Dsl).is_err());
        c.email = "not-an-address".into();
        assert!(c.validate(Role::Dsl).is_err());
        for n in national_contacts("setup", at("2026-01-01T00:00:00Z")) {
            assert_eq!(n.validate(Role::Dsl), Ok(()), "{}", n.agency.id());
        }
    }
}
