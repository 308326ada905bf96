//! The policy's registers (DESIGN.md C10, issue 6 "Registers"):
//! acceptable use agreements and their acceptances (§7.2), confiscated
//! devices (§9.2), equipment loans (Appendix 3), staff training (§5.3),
//! parental consents (§7.9.1, §8.3), the technology and apps register
//! (§7.11), policy reviews (§3) and the filtering and monitoring check log
//! (DfE filtering and monitoring standards; §7.3.1), the access register
//! (§7.5.1) and child-protection file transfers.
//!
//! Like the safeguarding records, registers are append-only: a device
//! released, a loan returned or a consent withdrawn is a new entry, and the
//! state now is folded from the entries in order. Each register says who
//! may write to it and who may read it.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};
use serde::{Deserialize, Serialize};

use crate::{RecordsError, Role, required};

/// The registers, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Register {
    AcceptableUse,
    ConfiscatedDevices,
    EquipmentLoans,
    Training,
    ParentalConsents,
    Technology,
    PolicyReviews,
    FilteringChecks,
    SystemAccess,
    FileTransfers,
}

impl Register {
    pub const ALL: [Register; 10] = [
        Register::AcceptableUse,
        Register::ConfiscatedDevices,
        Register::EquipmentLoans,
        Register::Training,
        Register::ParentalConsents,
        Register::Technology,
        Register::PolicyReviews,
        Register::FilteringChecks,
        Register::SystemAccess,
        Register::FileTransfers,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Register::AcceptableUse => "acceptable-use",
            Register::ConfiscatedDevices => "confiscated-devices",
            Register::EquipmentLoans => "equipment-loans",
            Register::Training => "training",
            Register::ParentalConsents => "parental-consents",
            Register::Technology => "technology",
            Register::PolicyReviews => "policy-reviews",
            Register::FilteringChecks => "filtering-checks",
            Register::SystemAccess => "system-access",
            Register::FileTransfers => "file-transfers",
        }
    }

    pub fn from_id(id: &str) -> Result<Register, RecordsError> {
        Register::ALL
            .into_iter()
            .find(|r| r.id() == id)
            .ok_or_else(|| RecordsError::Unknown {
                what: "register",
                value: id.to_owned(),
            })
    }

    /// Who may read the register. Confiscations name pupils and why their
    /// device was taken, and consents name pupils: never technicians or
    /// governors. Governors see the registers that carry no pupil names.
    pub fn may_read(self, role: Role) -> bool {
        use Role::*;
        match self {
            Register::FileTransfers => matches!(role, Dsl | DeputyDsl | Headteacher),
            Register::ConfiscatedDevices | Register::ParentalConsents => {
                matches!(role, Dsl | DeputyDsl | Headteacher | Staff)
            }
            Register::AcceptableUse
            | Register::EquipmentLoans
            | Register::Technology
            | Register::SystemAccess => role != Governor,
            Register::Training | Register::PolicyReviews | Register::FilteringChecks => true,
        }
    }
}

/// Who an acceptable use agreement is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Audience {
    Staff,
    Pupil,
    Visitor,
}

/// What a parent or carer consents to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentKind {
    VideoConferencing,
    Images,
    SocialMedia,
}

/// Where a confiscated device went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "to")]
pub enum ReleasedTo {
    /// A parent or carer, by name (§9.2: at the end of the day).
    Parent {
        name: String,
    },
    Pupil,
    /// §9.2: material may be illegal or evidence of an offence.
    Police {
        reference: String,
    },
}

/// One entry in a register.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum Entry {
    /// A version of an agreement, in force from a date (§7.2).
    AupVersion {
        audience: Audience,
        version: String,
        text: String,
        in_force_from: Timestamp,
    },
    /// A person accepted a version (signed, or clicked through).
    AupAcceptance {
        audience: Audience,
        version: String,
        person: String,
        how: String,
    },
    /// §9.2: who, what, when, why, where held.
    Confiscation {
        device: String,
        pupil: String,
        taken_by: String,
        why: String,
        held_at: String,
    },
    Release {
        confiscation: i64,
        to: ReleasedTo,
    },
    /// Appendix 3: the loan agreement's fields.
    Loan {
        borrower: String,
        make: String,
        model: String,
        serial_number: String,
        agreed_by: String,
        conditions_accepted: bool,
    },
    LoanReturn {
        loan: i64,
        received_by: String,
        condition: String,
    },
    /// §5.3: a course completed; it expires after `valid_months`.
    Training {
        person: String,
        course: String,
        completed_on: Date,
        valid_months: i32,
        provider: String,
    },
    Consent {
        pupil: String,
        kind: ConsentKind,
        given: bool,
        parent: String,
    },
    /// §7.11: a system, app or generative-AI tool and its assessments.
    Technology {
        name: String,
        purpose: String,
        owner: String,
        generative_ai: bool,
        risk_assessed_on: Option<Date>,
        data_protection_assessed_on: Option<Date>,
        review_due: Date,
        in_use: bool,
    },
    /// §3: a policy reviewed, and when it is next due.
    PolicyReview {
        policy: String,
        reviewed_on: Date,
        next_due: Date,
        notes: String,
    },
    /// A check that filtering and monitoring work: what was tested, the
    /// result and what was done about it.
    FilteringCheck {
        tested: String,
        result: String,
        actions: String,
    },
    /// §7.5.1: who has access to which system, at what level, reviewed
    /// periodically. The latest entry for a person and system is in force.
    SystemAccess {
        person: String,
        system: String,
        level: String,
        granted: bool,
        review_due: Date,
    },
    /// A pupil's child-protection file sent to their new school.
    FileTransfer {
        pupil: String,
        to_school: String,
        method: String,
        sent_on: Date,
    },
    /// The new school confirmed it received the file.
    FileReceipt {
        transfer: i64,
        received_by: String,
        received_on: Date,
    },
}

impl Entry {
    pub fn register(&self) -> Register {
        match self {
            Entry::AupVersion { .. } | Entry::AupAcceptance { .. } => Register::AcceptableUse,
            Entry::Confiscation { .. } | Entry::Release { .. } => Register::ConfiscatedDevices,
            Entry::Loan { .. } | Entry::LoanReturn { .. } => Register::EquipmentLoans,
            Entry::Training { .. } => Register::Training,
            Entry::Consent { .. } => Register::ParentalConsents,
            Entry::Technology { .. } => Register::Technology,
            Entry::PolicyReview { .. } => Register::PolicyReviews,
            Entry::FilteringCheck { .. } => Register::FilteringChecks,
            Entry::SystemAccess { .. } => Register::SystemAccess,
            Entry::FileTransfer { .. } | Entry::FileReceipt { .. } => Register::FileTransfers,
        }
    }

    /// Who may add this kind of entry.
    fn may_write(&self, role: Role, actor: &str) -> bool {
        use Role::*;
        let leaders = matches!(role, Dsl | Headteacher | Administrator);
        match self {
            Entry::AupVersion { .. } | Entry::PolicyReview { .. } => leaders,
            // A person accepts for themselves; staff record a paper form.
            Entry::AupAcceptance { person, .. } => person == actor || role != Governor,
            Entry::Confiscation { .. } | Entry::Consent { .. } => {
                !matches!(role, Governor | Technician)
            }
            Entry::Release { to, .. } => match to {
                ReleasedTo::Police { .. } => matches!(role, Dsl | DeputyDsl | Headteacher),
                _ => !matches!(role, Governor | Technician),
            },
            // Appendix 3: agreed by the headteacher and the computing lead.
            Entry::Loan { .. } | Entry::LoanReturn { .. } => {
                matches!(role, Headteacher | Administrator | Technician)
            }
            Entry::Training { .. } => matches!(role, Dsl | DeputyDsl | Headteacher | Administrator),
            Entry::Technology { .. } => {
                matches!(role, Administrator | Technician | Headteacher | Dsl)
            }
            Entry::FilteringCheck { .. } => role != Governor && role != Staff,
            Entry::SystemAccess { .. } => matches!(role, Administrator | Technician | Headteacher),
            Entry::FileTransfer { .. } | Entry::FileReceipt { .. } => {
                matches!(role, Dsl | DeputyDsl | Headteacher)
            }
        }
    }
}

/// An entry as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterEntry {
    /// Zero until stored.
    pub id: i64,
    pub actor: String,
    pub role: Role,
    pub at: Timestamp,
    pub entry: Entry,
}

/// The school's date of an instant, in its time zone.
fn date(at: Timestamp, zone: &TimeZone) -> Date {
    at.to_zoned(zone.clone()).date()
}

impl RegisterEntry {
    /// [`RegisterEntry::validate_in`] the policy's default time zone.
    pub fn validate(&self, existing: &[RegisterEntry]) -> Result<(), RecordsError> {
        self.validate_in(existing, &crate::default_zone())
    }

    /// Checks a new entry against the register as it stands (`existing`:
    /// every entry of the same register, oldest first). Dates are the
    /// school's, in `zone`.
    pub fn validate_in(
        &self,
        existing: &[RegisterEntry],
        zone: &TimeZone,
    ) -> Result<(), RecordsError> {
        if !self.entry.may_write(self.role, &self.actor) {
            return Err(RecordsError::NotAllowed(format!(
                "your role cannot add to the {} register; ask the DSL or the headteacher",
                self.entry.register().id()
            )));
        }
        match &self.entry {
            Entry::AupVersion {
                audience,
                version,
                text,
                ..
            } => {
                required("the version", version, "name the version, such as 2026-1")?;
                required("the agreement's text", text, "paste the agreement in full")?;
                if versions(existing, *audience).any(|(v, _)| v == version) {
                    return Err(RecordsError::Invalid(format!(
                        "version '{version}' already exists; give the new version another name"
                    )));
                }
            }
            Entry::AupAcceptance {
                audience,
                version,
                person,
                how,
            } => {
                required("the person", person, "choose who accepted")?;
                required("how it was accepted", how, "say how: signed form, online")?;
                if !versions(existing, *audience).any(|(v, _)| v == version) {
                    return Err(RecordsError::Unknown {
                        what: "agreement version",
                        value: version.clone(),
                    });
                }
            }
            Entry::Confiscation {
                device,
                pupil,
                taken_by,
                why,
                held_at,
            } => {
                required("the device", device, "describe it: make, colour, case")?;
                required("the pupil", pupil, "choose whose device it is")?;
                required("who took it", taken_by, "name the member of staff")?;
                required("why", why, "say why it was confiscated")?;
                required("where it is held", held_at, "say where: the office safe")?;
            }
            Entry::Release { confiscation, to } => {
                let held = still_held(existing, None);
                if !held.iter().any(|(id, _)| id == confiscation) {
                    return Err(RecordsError::Invalid(format!(
                        "device {confiscation} is not being held; check the register"
                    )));
                }
                match to {
                    ReleasedTo::Parent { name } => {
                        required("the parent's name", name, "name who collected it")?
                    }
                    ReleasedTo::Police { reference } => required(
                        "the police reference",
                        reference,
                        "record the officer's or crime reference",
                    )?,
                    ReleasedTo::Pupil => {}
                }
            }
            Entry::Loan {
                borrower,
                make,
                model,
                serial_number,
                agreed_by,
                conditions_accepted,
            } => {
                required("the borrower", borrower, "choose who borrows it")?;
                required("the make", make, "copy it from the equipment")?;
                required("the model", model, "copy it from the equipment")?;
                required("the serial number", serial_number, "copy it from the label")?;
                required(
                    "who agreed it",
                    agreed_by,
                    "name the headteacher or computing lead",
                )?;
                if !conditions_accepted {
                    return Err(RecordsError::Invalid(
                        "the borrower must accept the loan conditions (Appendix 3) before taking the equipment".into(),
                    ));
                }
                if on_loan(existing)
                    .iter()
                    .any(|l| loan_serial(l) == Some(serial_number.as_str()))
                {
                    return Err(RecordsError::Invalid(format!(
                        "serial number {serial_number} is already on loan; record its return first"
                    )));
                }
            }
            Entry::LoanReturn {
                loan, received_by, ..
            } => {
                required("who received it", received_by, "name who took it back")?;
                if !on_loan(existing).iter().any(|l| l.id == *loan) {
                    return Err(RecordsError::Invalid(format!(
                        "loan {loan} is not out; check the register"
                    )));
                }
            }
            Entry::Training {
                person,
                course,
                valid_months,
                completed_on,
                ..
            } => {
                required("the person", person, "choose who was trained")?;
                required("the course", course, "name the course")?;
                if !(1..=60).contains(valid_months) {
                    return Err(RecordsError::Invalid(
                        "training must be valid for between 1 and 60 months (12 for annual safeguarding and online safety updates)".into(),
                    ));
                }
                if *completed_on > date(self.at, zone) {
                    return Err(RecordsError::Invalid(
                        "the training date is in the future; record it once it is done".into(),
                    ));
                }
            }
            Entry::Consent { pupil, parent, .. } => {
                required("the pupil", pupil, "choose the pupil")?;
                required(
                    "the parent or carer",
                    parent,
                    "name who gave or withdrew consent",
                )?;
            }
            Entry::Technology {
                name,
                purpose,
                owner,
                ..
            } => {
                required("the name", name, "name the system or app")?;
                required("the purpose", purpose, "say what it is used for")?;
                required("the owner", owner, "name who is responsible for it")?;
            }
            Entry::PolicyReview {
                policy,
                reviewed_on,
                next_due,
                ..
            } => {
                required("the policy", policy, "name the policy reviewed")?;
                if next_due <= reviewed_on {
                    return Err(RecordsError::Invalid(
                        "the next review must be after this one".into(),
                    ));
                }
            }
            Entry::FilteringCheck {
                tested,
                result,
                actions,
            } => {
                required(
                    "what was tested",
                    tested,
                    "say which sites, devices or users",
                )?;
                required("the result", result, "say what happened")?;
                required(
                    "the actions",
                    actions,
                    "say what was done, or write 'none needed'",
                )?;
            }
            Entry::SystemAccess {
                person,
                system,
                level,
                ..
            } => {
                required("the person", person, "choose whose access it is")?;
                required("the system", system, "name the system")?;
                required(
                    "the level",
                    level,
                    "say what they can do: read, edit, administer",
                )?;
            }
            Entry::FileTransfer {
                pupil,
                to_school,
                method,
                ..
            } => {
                required("the pupil", pupil, "choose whose file it is")?;
                required("the new school", to_school, "name the school and its DSL")?;
                required(
                    "how it was sent",
                    method,
                    "say how: secure transfer service, by hand",
                )?;
            }
            Entry::FileReceipt {
                transfer,
                received_by,
                ..
            } => {
                required("who received it", received_by, "name the new school's DSL")?;
                if !awaiting_receipt(existing).iter().any(|t| t.id == *transfer) {
                    return Err(RecordsError::Invalid(format!(
                        "transfer {transfer} is not awaiting a receipt; check the register"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Entries that `opens` picks and no entry closes (`closes` gives the
/// entry an entry closes: a release names its confiscation).
fn unclosed(
    entries: &[RegisterEntry],
    opens: fn(&Entry) -> bool,
    closes: fn(&Entry) -> Option<i64>,
) -> Vec<&RegisterEntry> {
    entries
        .iter()
        .filter(|e| opens(&e.entry))
        .filter(|o| !entries.iter().any(|e| closes(&e.entry) == Some(o.id)))
        .collect()
}

/// The latest entry for each key (entries `key` gives none for are left out).
pub fn latest_by<'a, K: PartialEq>(
    entries: &'a [RegisterEntry],
    key: impl Fn(&'a Entry) -> Option<K>,
) -> Vec<&'a RegisterEntry> {
    let mut latest: Vec<(K, &RegisterEntry)> = Vec::new();
    for e in entries {
        if let Some(k) = key(&e.entry) {
            latest.retain(|(o, _)| *o != k);
            latest.push((k, e));
        }
    }
    latest.into_iter().map(|(_, e)| e).collect()
}

/// Access in force (the latest grant or removal for each person and
/// system) whose review is due at `at`, in the school's zone (§7.5.1).
pub fn access_reviews_due<'a>(entries: &'a [RegisterEntry], at: &Zoned) -> Vec<&'a RegisterEntry> {
    let today = at.date();
    let mut latest = latest_by(entries, |e| match e {
        Entry::SystemAccess { person, system, .. } => Some((person, system)),
        _ => None,
    });
    latest.retain(|e| {
        matches!(&e.entry, Entry::SystemAccess { granted: true, review_due, .. } if *review_due <= today)
    });
    latest
}

/// Files sent whose receipt the new school has not confirmed.
pub fn awaiting_receipt(entries: &[RegisterEntry]) -> Vec<&RegisterEntry> {
    unclosed(
        entries,
        |e| matches!(e, Entry::FileTransfer { .. }),
        |e| match e {
            Entry::FileReceipt { transfer, .. } => Some(*transfer),
            _ => None,
        },
    )
}

fn versions(
    entries: &[RegisterEntry],
    audience: Audience,
) -> impl Iterator<Item = (&String, Timestamp)> {
    entries.iter().filter_map(move |e| match &e.entry {
        Entry::AupVersion {
            audience: a,
            version,
            in_force_from,
            ..
        } if *a == audience => Some((version, *in_force_from)),
        _ => None,
    })
}

/// The version in force for an audience at `at`: the latest to come into force.
pub fn current_aup(entries: &[RegisterEntry], audience: Audience, at: Timestamp) -> Option<&str> {
    versions(entries, audience)
        .filter(|(_, from)| *from <= at)
        .max_by_key(|(_, from)| *from)
        .map(|(v, _)| v.as_str())
}

/// Of `people`, those who have not accepted the version in force (§7.2:
/// before access). Everyone, when no version is in force yet, is none.
pub fn not_accepted<'a>(
    entries: &[RegisterEntry],
    audience: Audience,
    people: &'a [String],
    at: Timestamp,
) -> Vec<&'a str> {
    let Some(current) = current_aup(entries, audience, at) else {
        return Vec::new();
    };
    people
        .iter()
        .filter(|p| {
            !entries.iter().any(|e| {
                matches!(&e.entry, Entry::AupAcceptance { audience: a, version, person, .. }
                    if *a == audience && version == current && person == *p)
            })
        })
        .map(String::as_str)
        .collect()
}

/// Devices confiscated and not released (on or before `day` in the
/// school's time zone `zone`, if given): what the office must account for
/// at the end of the day.
pub fn still_held_in<'a>(
    entries: &'a [RegisterEntry],
    day: Option<Date>,
    zone: &TimeZone,
) -> Vec<(i64, &'a RegisterEntry)> {
    unclosed(
        entries,
        |e| matches!(e, Entry::Confiscation { .. }),
        |e| match e {
            Entry::Release { confiscation, .. } => Some(*confiscation),
            _ => None,
        },
    )
    .into_iter()
    .filter(|e| day.is_none_or(|d| date(e.at, zone) <= d))
    .map(|e| (e.id, e))
    .collect()
}

/// [`still_held_in`] the policy's default time zone, for callers with no
/// policy at hand.
pub fn still_held(entries: &[RegisterEntry], day: Option<Date>) -> Vec<(i64, &RegisterEntry)> {
    still_held_in(entries, day, &crate::default_zone())
}

fn loan_serial(e: &RegisterEntry) -> Option<&str> {
    match &e.entry {
        Entry::Loan { serial_number, .. } => Some(serial_number),
        _ => None,
    }
}

/// Equipment out on loan now.
pub fn on_loan(entries: &[RegisterEntry]) -> Vec<&RegisterEntry> {
    unclosed(
        entries,
        |e| matches!(e, Entry::Loan { .. }),
        |e| match e {
            Entry::LoanReturn { loan, .. } => Some(*loan),
            _ => None,
        },
    )
}

/// When a training record runs out.
pub fn training_expires(completed_on: Date, valid_months: i32) -> Date {
    completed_on
        .checked_add(valid_months.months())
        .unwrap_or(Date::MAX)
}

/// Of `people`, those whose `course` has expired at `at`, in the school's
/// zone, or was never done (§5.3: updated at least annually), with the
/// date it ran out if it did.
pub fn training_overdue<'a>(
    entries: &[RegisterEntry],
    course: &str,
    people: &'a [String],
    at: &Zoned,
) -> Vec<(&'a str, Option<Date>)> {
    let today = at.date();
    people
        .iter()
        .filter_map(|p| {
            let latest = entries
                .iter()
                .filter_map(|e| match &e.entry {
                    Entry::Training {
                        person,
                        course: c,
                        completed_on,
                        valid_months,
                        ..
                    } if person == p && c == course => {
                        Some(training_expires(*completed_on, *valid_months))
                    }
                    _ => None,
                })
                .max();
            match latest {
                Some(expires) if expires > today => None,
                other => Some((p.as_str(), other)),
            }
        })
        .collect()
}

/// The consent in force for a pupil: the latest decision, or none asked.
pub fn consent(entries: &[RegisterEntry], pupil: &str, kind: ConsentKind) -> Option<bool> {
    entries.iter().rev().find_map(|e| match &e.entry {
        Entry::Consent {
            pupil: p,
            kind: k,
            given,
            ..
        } if p == pupil && *k == kind => Some(*given),
        _ => None,
    })
}

/// Technology in use whose review is due, or that lacks a risk assessment
/// or a data protection assessment (§7.11), by name, with what is missing;
/// `at` in the school's zone.
pub fn technology_attention<'a>(
    entries: &'a [RegisterEntry],
    at: &Zoned,
) -> Vec<(&'a str, Vec<&'static str>)> {
    let today = at.date();
    latest_by(entries, |e| match e {
        Entry::Technology { name, .. } => Some(name),
        _ => None,
    })
    .into_iter()
    .filter_map(|e| match &e.entry {
        Entry::Technology {
            name,
            in_use: true,
            risk_assessed_on,
            data_protection_assessed_on,
            review_due,
            ..
        } => {
            let mut missing = Vec::new();
            if risk_assessed_on.is_none() {
                missing.push("risk assessment");
            }
            if data_protection_assessed_on.is_none() {
                missing.push("data protection impact assessment");
            }
            if *review_due <= today {
                missing.push("review");
            }
            (!missing.is_empty()).then_some((name.as_str(), missing))
        }
        _ => None,
    })
    .collect()
}

/// Policies whose next review date has passed at `at`, in the school's
/// zone (§3), with that date.
pub fn reviews_overdue<'a>(entries: &'a [RegisterEntry], at: &Zoned) -> Vec<(&'a str, Date)> {
    let today = at.date();
    latest_by(entries, |e| match e {
        Entry::PolicyReview { policy, .. } => Some(policy),
        _ => None,
    })
    .into_iter()
    .filter_map(|e| match &e.entry {
        Entry::PolicyReview {
            policy, next_due, ..
        } if *next_due <= today => Some((policy.as_str(), *next_due)),
        _ => None,
    })
    .collect()
}

/// Whether the filtering and monitoring checks are overdue: none in the
/// last `every_days` days, counted in the school's zone (`at`'s).
pub fn filtering_check_overdue(entries: &[RegisterEntry], at: &Zoned, every_days: i64) -> bool {
    let since = at
        .date()
        .checked_sub(every_days.days())
        .unwrap_or(Date::MIN);
    !entries.iter().any(|e| {
        matches!(e.entry, Entry::FilteringCheck { .. }) && date(e.at, at.time_zone()) > since
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An instant as the school sees it, in London.
    fn london(s: &str) -> Zoned {
        at(s).to_zoned(TimeZone::get("Europe/London").expect("zone"))
    }

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn entry(id: i64, actor: &str, role: Role, when: &str, entry: Entry) -> RegisterEntry {
        RegisterEntry {
            id,
            actor: actor.into(),
            role,
            at: at(when),
            entry,
        }
    }

    /// Validates each entry against the ones before it, as the store does.
    fn build(entries: Vec<RegisterEntry>) -> Vec<RegisterEntry> {
        let mut out: Vec<RegisterEntry> = Vec::new();
        for e in entries {
            e.validate(&out)
                .unwrap_or_else(|err| panic!("entry {}: {err}", e.id));
            out.push(e);
        }
        out
    }

    fn aup(id: i64, version: &str, from: &str) -> RegisterEntry {
        entry(
            id,
            "h.teacher",
            Role::Headteacher,
            from,
            Entry::AupVersion {
                audience: Audience::Pupil,
                version: version.into(),
                text: "I will ask before I use the internet.".into(),
                in_force_from: at(from),
            },
        )
    }

    fn accept(id: i64, person: &str, version: &str) -> RegisterEntry {
        entry(
            id,
            person,
            Role::Staff,
            "2026-09-02T09:00:00Z",
            Entry::AupAcceptance {
                audience: Audience::Pupil,
                version: version.into(),
                person: person.into(),
                how: "online".into(),
            },
        )
    }

    #[test]
    fn who_has_not_accepted_the_current_agreement() {
        let r = build(vec![
            aup(1, "2025", "2025-09-01T00:00:00Z"),
            accept(2, "amara.okafor", "2025"),
            aup(3, "2026", "2026-09-01T00:00:00Z"),
            accept(4, "tobias.lindqvist", "2026"),
        ]);
        let people = ["amara.okafor".to_owned(), "tobias.lindqvist".to_owned()];
        assert_eq!(
            current_aup(&r, Audience::Pupil, at("2026-08-31T12:00:00Z")),
            Some("2025")
        );
        assert_eq!(
            not_accepted(&r, Audience::Pupil, &people, at("2026-08-31T12:00:00Z")),
            vec!["tobias.lindqvist"]
        );
        assert_eq!(
            not_accepted(&r, Audience::Pupil, &people, at("2026-09-03T12:00:00Z")),
            vec!["amara.okafor"]
        );
        assert!(not_accepted(&r, Audience::Staff, &people, at("2026-09-03T12:00:00Z")).is_empty());
        assert!(accept(5, "x", "1999").validate(&r).is_err());
        assert!(aup(6, "2026", "2027-01-01T00:00:00Z").validate(&r).is_err());
        let mut by_staff = aup(7, "2027", "2027-01-01T00:00:00Z");
        by_staff.role = Role::Staff;
        assert!(matches!(
            by_staff.validate(&r),
            Err(RecordsError::NotAllowed(_))
        ));
    }

    fn confiscate(id: i64, when: &str) -> RegisterEntry {
        entry(
            id,
            "r.teacher",
            Role::Staff,
            when,
            Entry::Confiscation {
                device: "Blue phone in a black case".into(),
                pupil: "amara.okafor".into(),
                taken_by: "r.teacher".into(),
                why: "Used in a lesson after a warning".into(),
                held_at: "Office safe".into(),
            },
        )
    }

    #[test]
    fn confiscated_devices_still_held_and_released() {
        let release = |id, of, to| {
            entry(
                id,
                "o.office",
                Role::Staff,
                "2026-03-02T15:30:00Z",
                Entry::Release {
                    confiscation: of,
                    to,
                },
            )
        };
        let r = build(vec![
            confiscate(1, "2026-03-02T10:00:00Z"),
            confiscate(2, "2026-03-02T11:00:00Z"),
            release(
                3,
                1,
                ReleasedTo::Parent {
                    name: "Grace Okafor".into(),
                },
            ),
        ]);
        let held: Vec<i64> = still_held(&r, Some("2026-03-02".parse().unwrap()))
            .iter()
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(held, vec![2]);
        assert!(still_held(&r, Some("2026-03-01".parse().unwrap())).is_empty());
        // 22:30 UTC on 1 March is already 2 March in Dubai.
        let late = build(vec![confiscate(1, "2026-03-01T22:30:00Z")]);
        let first = Some("2026-03-01".parse().unwrap());
        let dubai = TimeZone::get("Asia/Dubai").expect("zone");
        assert_eq!(still_held(&late, first).len(), 1, "1 March in London");
        assert!(still_held_in(&late, first, &dubai).is_empty());
        assert!(
            release(4, 1, ReleasedTo::Pupil).validate(&r).is_err(),
            "already released"
        );
        assert!(
            release(4, 2, ReleasedTo::Parent { name: " ".into() })
                .validate(&r)
                .is_err()
        );
        // Handing to the police is for the DSL roles and the headteacher.
        let police = release(
            4,
            2,
            ReleasedTo::Police {
                reference: "CR/7".into(),
            },
        );
        assert!(matches!(
            police.validate(&r),
            Err(RecordsError::NotAllowed(_))
        ));
        let mut by_dsl = police.clone();
        by_dsl.role = Role::Dsl;
        by_dsl.validate(&r).expect("dsl hands to police");
        let mut by_technician = confiscate(5, "2026-03-03T10:00:00Z");
        by_technician.role = Role::Technician;
        assert!(by_technician.validate(&r).is_err());
        assert!(!Register::ConfiscatedDevices.may_read(Role::Technician));
        assert!(!Register::ConfiscatedDevices.may_read(Role::Governor));
    }

    #[test]
    fn loans_follow_appendix_3_and_come_back() {
        let loan = |id, serial: &str, accepted| {
            entry(
                id,
                "h.teacher",
                Role::Headteacher,
                "2026-01-10T09:00:00Z",
                Entry::Loan {
                    borrower: "r.teacher".into(),
                    make: "Lenovo".into(),
                    model: "ThinkPad E14".into(),
                    serial_number: serial.into(),
                    agreed_by: "h.teacher".into(),
                    conditions_accepted: accepted,
                },
            )
        };
        let r = build(vec![loan(1, "PF-123", true)]);
        assert!(loan(2, "PF-999", false).validate(&r).is_err());
        assert!(loan(2, "PF-123", true).validate(&r).is_err(), "already out");
        let back = entry(
            2,
            "h.teacher",
            Role::Headteacher,
            "2026-07-20T09:00:00Z",
            Entry::LoanReturn {
                loan: 1,
                received_by: "h.teacher".into(),
                condition: "Good".into(),
            },
        );
        let r = build([r, vec![back.clone()]].concat());
        assert!(on_loan(&r).is_empty());
        assert!(back.validate(&r).is_err(), "returned twice");
    }

    #[test]
    fn training_expires_after_a_year_and_is_listed_when_overdue() {
        let trained = |id, person: &str, on: &str| {
            entry(
                id,
                "d.lead",
                Role::Dsl,
                "2026-03-01T09:00:00Z",
                Entry::Training {
                    person: person.into(),
                    course: "Online safety update".into(),
                    completed_on: on.parse().unwrap(),
                    valid_months: 12,
                    provider: "Local authority".into(),
                },
            )
        };
        let r = build(vec![
            trained(1, "r.teacher", "2025-03-01"),
            trained(2, "o.teacher", "2026-02-01"),
        ]);
        let people = [
            "r.teacher".to_owned(),
            "o.teacher".to_owned(),
            "n.new".to_owned(),
        ];
        let overdue = training_overdue(
            &r,
            "Online safety update",
            &people,
            &london("2026-03-01T12:00:00Z"),
        );
        assert_eq!(
            overdue,
            vec![
                ("r.teacher", Some("2026-03-01".parse().unwrap())),
                ("n.new", None)
            ]
        );
        assert!(
            trained(3, "x", "2027-01-01").validate(&r).is_err(),
            "future"
        );
    }

    #[test]
    fn consents_follow_the_latest_decision() {
        let decide = |id, given| {
            entry(
                id,
                "o.office",
                Role::Staff,
                "2026-03-01T09:00:00Z",
                Entry::Consent {
                    pupil: "amara.okafor".into(),
                    kind: ConsentKind::Images,
                    given,
                    parent: "Grace Okafor".into(),
                },
            )
        };
        let r = build(vec![decide(1, true), decide(2, false)]);
        assert_eq!(
            consent(&r, "amara.okafor", ConsentKind::Images),
            Some(false)
        );
        assert_eq!(consent(&r, "amara.okafor", ConsentKind::SocialMedia), None);
    }

    #[test]
    fn technology_reviews_and_checks_fall_due() {
        let tech = |id, name: &str, dpia: Option<&str>, due: &str| {
            entry(
                id,
                "t.tech",
                Role::Technician,
                "2026-01-01T09:00:00Z",
                Entry::Technology {
                    name: name.into(),
                    purpose: "Lesson planning".into(),
                    owner: "Computing lead".into(),
                    generative_ai: true,
                    risk_assessed_on: Some("2025-12-01".parse().unwrap()),
                    data_protection_assessed_on: dpia.map(|d| d.parse().unwrap()),
                    review_due: due.parse().unwrap(),
                    in_use: true,
                },
            )
        };
        let r = build(vec![
            tech(1, "Chat assistant", None, "2026-12-01"),
            tech(2, "Chat assistant", Some("2026-01-01"), "2026-12-01"),
            tech(3, "Maths app", Some("2025-01-01"), "2026-02-01"),
        ]);
        assert_eq!(
            technology_attention(&r, &london("2026-03-01T00:00:00Z")),
            vec![("Maths app", vec!["review"])]
        );
        let review = |id, policy: &str, due: &str| {
            entry(
                id,
                "h.teacher",
                Role::Headteacher,
                "2025-03-01T09:00:00Z",
                Entry::PolicyReview {
                    policy: policy.into(),
                    reviewed_on: "2025-03-01".parse().unwrap(),
                    next_due: due.parse().unwrap(),
                    notes: String::new(),
                },
            )
        };
        let p = build(vec![
            review(1, "Online safety", "2026-03-01"),
            review(2, "Mobile phones", "2027-03-01"),
        ]);
        assert_eq!(
            reviews_overdue(&p, &london("2026-03-02T00:00:00Z")),
            vec![("Online safety", "2026-03-01".parse().unwrap())]
        );
        assert!(review(3, "x", "2025-01-01").validate(&p).is_err());
        let check = entry(
            1,
            "t.tech",
            Role::Technician,
            "2026-01-10T09:00:00Z",
            Entry::FilteringCheck {
                tested: "testfiltering.com from a Year 5 laptop".into(),
                result: "All test categories blocked".into(),
                actions: "none needed".into(),
            },
        );
        let c = build(vec![check]);
        assert!(!filtering_check_overdue(
            &c,
            &london("2026-03-01T00:00:00Z"),
            90
        ));
        assert!(filtering_check_overdue(
            &c,
            &london("2026-05-01T00:00:00Z"),
            90
        ));
        assert!(filtering_check_overdue(
            &[],
            &london("2026-05-01T00:00:00Z"),
            90
        ));
        // At 01:00 UTC on 10 April it is 10 April in London, when the
        // check of 10 January falls 90 days back, but still 9 April in
        // New York.
        let new_york =
            at("2026-04-10T01:00:00Z").to_zoned(TimeZone::get("America/New_York").expect("zone"));
        assert!(filtering_check_overdue(
            &c,
            &london("2026-04-10T01:00:00Z"),
            90
        ));
        assert!(!filtering_check_overdue(&c, &new_york, 90));
    }

    #[test]
    fn access_reviews_and_file_transfers() {
        let access = |id, granted, due: &str| {
            entry(
                id,
                "a.admin",
                Role::Administrator,
                "2025-09-01T09:00:00Z",
                Entry::SystemAccess {
                    person: "r.teacher".into(),
                    system: "Pupil records".into(),
                    level: "read".into(),
                    granted,
                    review_due: due.parse().unwrap(),
                },
            )
        };
        let a = build(vec![access(1, true, "2026-01-01")]);
        assert_eq!(
            access_reviews_due(&a, &london("2026-02-01T00:00:00Z")).len(),
            1
        );
        let a = build([a, vec![access(2, true, "2027-01-01")]].concat());
        assert!(access_reviews_due(&a, &london("2026-02-01T00:00:00Z")).is_empty());
        let a = build([a, vec![access(3, false, "2026-01-01")]].concat());
        assert!(
            access_reviews_due(&a, &london("2026-02-01T00:00:00Z")).is_empty(),
            "removed"
        );

        let sent = entry(
            1,
            "d.lead",
            Role::Dsl,
            "2026-07-20T09:00:00Z",
            Entry::FileTransfer {
                pupil: "amara.okafor".into(),
                to_school: "Hilltop Academy (DSL: Ms Rivers)".into(),
                method: "Secure transfer service".into(),
                sent_on: "2026-07-20".parse().unwrap(),
            },
        );
        let t = build(vec![sent]);
        assert_eq!(awaiting_receipt(&t).len(), 1);
        let receipt = entry(
            2,
            "d.lead",
            Role::Dsl,
            "2026-07-22T09:00:00Z",
            Entry::FileReceipt {
                transfer: 1,
                received_by: "Ms Rivers".into(),
                received_on: "2026-07-22".parse().unwrap(),
            },
        );
        let t = build([t, vec![receipt.clone()]].concat());
        assert!(awaiting_receipt(&t).is_empty());
        assert!(receipt.validate(&t).is_err(), "received twice");
        assert!(!Register::FileTransfers.may_read(Role::Staff));
    }
}
