//! Triage: what a DSL decided about an alert, and how often each phrase and
//! category turns out to be a false alarm, so libraries can be tuned.
//!
//! Each decision is made by a named person, with a reason where the
//! decision needs one:
//!
//! - new: to reviewed, false positive, or escalated to a concern;
//! - reviewed: to false positive, or escalated;
//! - false positive: back to reviewed (reopened), or escalated;
//! - escalated: final.
//!
//! A false positive may be reopened as reviewed (someone thought again); an
//! escalated alert is final, because the concern it created carries on in
//! the safeguarding records, where corrections are amendments.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;

/// Where an alert is in triage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TriageState {
    New,
    Reviewed,
    FalsePositive,
    /// Escalated to a concern, which holds the evidence from now on.
    Escalated,
}

impl TriageState {
    /// A stable id for storing.
    pub fn id(self) -> &'static str {
        match self {
            TriageState::New => "new",
            TriageState::Reviewed => "reviewed",
            TriageState::FalsePositive => "false-positive",
            TriageState::Escalated => "escalated",
        }
    }

    pub fn from_id(id: &str) -> Option<TriageState> {
        [
            TriageState::New,
            TriageState::Reviewed,
            TriageState::FalsePositive,
            TriageState::Escalated,
        ]
        .into_iter()
        .find(|s| s.id() == id)
    }

    /// Whether someone has decided about the alert.
    pub fn is_triaged(self) -> bool {
        self != TriageState::New
    }
}

impl fmt::Display for TriageState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TriageState::New => "new",
            TriageState::Reviewed => "reviewed",
            TriageState::FalsePositive => "false positive",
            TriageState::Escalated => "escalated to a concern",
        })
    }
}

/// One decision about an alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TriageDecision {
    pub to: TriageState,
    /// The console account deciding.
    pub actor: String,
    pub reason: String,
    pub at: Timestamp,
}

/// Why a decision cannot be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TriageError {
    #[error("this alert is already {0}")]
    Unchanged(TriageState),
    #[error("an alert cannot go from {from} to {to}")]
    NotAllowed { from: TriageState, to: TriageState },
    #[error("this alert was escalated to a concern; record any change on the concern instead")]
    Final,
    #[error("say who is making this decision")]
    NoActor,
    #[error("give a reason for marking it {0}, so others can see why")]
    NoReason(TriageState),
}

/// Checks a decision against the current state and returns the new state.
pub fn decide(from: TriageState, decision: &TriageDecision) -> Result<TriageState, TriageError> {
    use TriageState::*;
    let to = decision.to;
    if from == Escalated {
        return Err(TriageError::Final);
    }
    if from == to {
        return Err(TriageError::Unchanged(from));
    }
    let allowed = matches!(
        (from, to),
        (New, Reviewed | FalsePositive | Escalated)
            | (Reviewed, FalsePositive | Escalated)
            | (FalsePositive, Reviewed | Escalated)
    );
    if !allowed {
        return Err(TriageError::NotAllowed { from, to });
    }
    if decision.actor.trim().is_empty() {
        return Err(TriageError::NoActor);
    }
    // Reviewing needs no explanation; calling something a false alarm,
    // changing one's mind or escalating does.
    let needs_reason = to != Reviewed || from == FalsePositive;
    if needs_reason && decision.reason.trim().is_empty() {
        return Err(TriageError::NoReason(to));
    }
    Ok(to)
}

/// Triaged alerts that were, and were not, false alarms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub triaged: u32,
    pub false_positives: u32,
}

impl Tally {
    /// The share of triaged alerts that were false positives, from 0 to 1;
    /// `None` before any were triaged.
    pub fn rate(&self) -> Option<f64> {
        (self.triaged > 0).then(|| f64::from(self.false_positives) / f64::from(self.triaged))
    }

    fn add(&mut self, state: TriageState) {
        if state.is_triaged() {
            self.triaged += 1;
            if state == TriageState::FalsePositive {
                self.false_positives += 1;
            }
        }
    }
}

/// One alert's outcome, as the rates need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Triaged<'a> {
    pub category: &'a str,
    /// The phrase key, for phrase alerts.
    pub phrase: Option<&'a str>,
    pub state: TriageState,
}

impl<'a> From<&'a crate::alert::Alert> for Triaged<'a> {
    fn from(alert: &'a crate::alert::Alert) -> Self {
        Triaged {
            category: &alert.category,
            phrase: match &alert.reason {
                crate::alert::Reason::Phrase { key, .. } => Some(key),
                _ => None,
            },
            state: alert.state,
        }
    }
}

/// False-positive rates per phrase and per category. Untriaged alerts are
/// left out: they say nothing yet.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FalsePositiveRates {
    pub by_phrase: BTreeMap<String, Tally>,
    pub by_category: BTreeMap<String, Tally>,
}

impl FalsePositiveRates {
    pub fn from_alerts<'a>(alerts: impl IntoIterator<Item = Triaged<'a>>) -> FalsePositiveRates {
        let mut rates = FalsePositiveRates::default();
        for alert in alerts {
            if !alert.state.is_triaged() {
                continue;
            }
            rates
                .by_category
                .entry(alert.category.to_owned())
                .or_default()
                .add(alert.state);
            if let Some(phrase) = alert.phrase {
                rates
                    .by_phrase
                    .entry(phrase.to_owned())
                    .or_default()
                    .add(alert.state);
            }
        }
        rates
    }

    /// Phrases triaged at least `min_triaged` times whose false-positive
    /// rate is at least `threshold`, worst first: candidates for tuning.
    pub fn noisy_phrases(&self, min_triaged: u32, threshold: f64) -> Vec<(&str, Tally)> {
        let mut noisy: Vec<(&str, Tally)> = self
            .by_phrase
            .iter()
            .filter(|(_, t)| t.triaged >= min_triaged && t.rate().is_some_and(|r| r >= threshold))
            .map(|(k, t)| (k.as_str(), *t))
            .collect();
        noisy.sort_by(|a, b| {
            b.1.rate()
                .partial_cmp(&a.1.rate())
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(b.1.triaged.cmp(&a.1.triaged))
        });
        noisy
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TriageState::*;

    fn by(to: TriageState, reason: &str) -> TriageDecision {
        TriageDecision {
            to,
            actor: "dsl.jones".into(),
            reason: reason.into(),
            at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_allowed_moves() {
        assert_eq!(decide(New, &by(Reviewed, "")), Ok(Reviewed));
        assert_eq!(
            decide(New, &by(FalsePositive, "song lyrics")),
            Ok(FalsePositive)
        );
        assert_eq!(decide(New, &by(Escalated, "spoke to pupil")), Ok(Escalated));
        assert_eq!(
            decide(Reviewed, &by(Escalated, "second search")),
            Ok(Escalated)
        );
        assert_eq!(
            decide(Reviewed, &by(FalsePositive, "homework")),
            Ok(FalsePositive)
        );
        assert_eq!(
            decide(FalsePositive, &by(Reviewed, "looked again")),
            Ok(Reviewed)
        );
        assert_eq!(
            decide(FalsePositive, &by(Escalated, "new disclosure")),
            Ok(Escalated)
        );
    }

    #[test]
    fn the_refused_moves() {
        assert_eq!(
            decide(Escalated, &by(Reviewed, "x")),
            Err(TriageError::Final)
        );
        assert_eq!(
            decide(Escalated, &by(FalsePositive, "x")),
            Err(TriageError::Final)
        );
        assert_eq!(
            decide(Reviewed, &by(Reviewed, "x")),
            Err(TriageError::Unchanged(Reviewed))
        );
        assert_eq!(
            decide(Reviewed, &by(New, "x")),
            Err(TriageError::NotAllowed {
                from: Reviewed,
                to: New
            })
        );
        assert_eq!(
            decide(New, &by(FalsePositive, "  ")),
            Err(TriageError::NoReason(FalsePositive))
        );
        assert_eq!(
            decide(New, &by(Escalated, "")),
            Err(TriageError::NoReason(Escalated))
        );
        assert_eq!(
            decide(FalsePositive, &by(Reviewed, "")),
            Err(TriageError::NoReason(Reviewed))
        );
        let mut nobody = by(Reviewed, "");
        nobody.actor = " ".into();
        assert_eq!(decide(New, &nobody), Err(TriageError::NoActor));
        assert_eq!(
            TriageError::Final.to_string(),
            "this alert was escalated to a concern; record any change on the concern instead"
        );
    }

    #[test]
    fn state_ids_round_trip() {
        for state in [New, Reviewed, FalsePositive, Escalated] {
            assert_eq!(TriageState::from_id(state.id()), Some(state));
        }
        assert_eq!(TriageState::from_id("closed"), None);
    }

    #[test]
    fn false_positive_rates_per_phrase_and_category() {
        let alerts = [
            Triaged {
                category: "self-harm",
                phrase: Some("self-harm/en/suicide"),
                state: FalsePositive,
            },
            Triaged {
                category: "self-harm",
                phrase: Some("self-harm/en/suicide"),
                state: FalsePositive,
            },
            Triaged {
                category: "self-harm",
                phrase: Some("self-harm/en/suicide"),
                state: Reviewed,
            },
            Triaged {
                category: "self-harm",
                phrase: Some("self-harm/en/suicide"),
                state: New,
            },
            Triaged {
                category: "self-harm",
                phrase: Some("self-harm/en/i want to die"),
                state: Escalated,
            },
            Triaged {
                category: "pornography",
                phrase: None,
                state: Reviewed,
            },
        ];
        let rates = FalsePositiveRates::from_alerts(alerts);
        let suicide = rates.by_phrase["self-harm/en/suicide"];
        assert_eq!(
            suicide,
            Tally {
                triaged: 3,
                false_positives: 2
            }
        );
        assert!((suicide.rate().unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(
            rates.by_category["self-harm"],
            Tally {
                triaged: 4,
                false_positives: 2
            }
        );
        assert_eq!(rates.by_category["pornography"].rate(), Some(0.0));
        assert_eq!(Tally::default().rate(), None);
        let noisy = rates.noisy_phrases(2, 0.5);
        assert_eq!(noisy.len(), 1);
        assert_eq!(noisy[0].0, "self-harm/en/suicide");
        assert!(rates.noisy_phrases(4, 0.5).is_empty());
    }
}
