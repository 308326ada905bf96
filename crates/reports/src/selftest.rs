//! The filter self-test, like the national "test filtering" service: for a
//! profile, entries that must be blocked (a statutory test entry, adult
//! content, hate, self-harm, gambling, circumvention) and help and
//! education sites that must stay reachable (Childline, the NHS, CEOP and
//! Think U Know, a sexual-health education site, the school's own
//! platforms). The caller decides each URL with the policy in force; this
//! module chooses the URLs, judges the answers and words the result for the
//! filtering and monitoring check log.
//!
//! The blocked entries are real entries of the bundled starter lists
//! (`data/starter`), so the test means something on a fresh install with
//! no network. When the lists hold nothing for a category (the starter
//! lists have no self-harm list), the test says the lists lack coverage:
//! that is a finding, never a pass.

use std::collections::BTreeMap;

use serde::Serialize;

/// The project's own statutory test entries (see `classify::statutory`):
/// names under `.invalid`, which can never be a real site (RFC 2606), that
/// every loaded statutory list matches. Never a real abuse URL.
pub const IWF_TEST_URL: &str = "http://iwf-test.schoolgate.invalid/";
pub const CTIRU_TEST_URL: &str = "http://ctiru-test.schoolgate.invalid/";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    Blocked,
    Reachable,
}

/// One thing the test tries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Case {
    /// What is being shown, in the school's words.
    pub check: String,
    /// The category the URL must be listed in, if any.
    pub category: Option<String>,
    /// The URL tried; none when the lists hold nothing to try.
    pub url: Option<String>,
    pub expect: Expect,
    pub statutory: bool,
}

/// The policy's answer for one URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    /// `allow`, `block` or `safe-search`.
    pub verdict: String,
    pub rule: String,
    pub categories: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "detail")]
pub enum Outcome {
    Pass,
    Fail(String),
    /// The lists hold nothing to test with: a finding, not a pass.
    NoCoverage(String),
}

impl Outcome {
    /// What went wrong and what to do; empty for a pass.
    pub fn detail(&self) -> &str {
        match self {
            Outcome::Pass => "",
            Outcome::Fail(d) | Outcome::NoCoverage(d) => d,
        }
    }

    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Pass => "passed",
            Outcome::Fail(_) => "FAILED",
            Outcome::NoCoverage(_) => "NO COVERAGE",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaseResult {
    pub case: Case,
    pub outcome: Outcome,
}

/// A profile's results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProfileResult {
    pub profile: String,
    pub results: Vec<CaseResult>,
}

/// Entries from the starter lists, per category (checked against the
/// bundled archive by this crate's tests in `crates/schoolgate`).
const MUST_BLOCK: [(&str, &str, &str); 6] = [
    (
        "Adult content is blocked",
        "pornography",
        "https://020sextoy.com/sk",
    ),
    ("Hate is blocked", "hate-speech", "https://stormfront.org/"),
    ("Self-harm content is blocked", "self-harm", ""),
    ("Gambling is blocked", "gambling", "https://www.bet365.com/"),
    ("A VPN is blocked", "vpn", "https://nordvpn.com/"),
    ("A web proxy is blocked", "proxy", "https://kproxy.com/"),
];

const MUST_ALLOW: [(&str, &str); 5] = [
    ("Childline is reachable", "https://www.childline.org.uk/"),
    ("The NHS is reachable", "https://www.nhs.uk/"),
    (
        "CEOP (reporting abuse) is reachable",
        "https://www.ceop.police.uk/",
    ),
    ("Think U Know is reachable", "https://www.thinkuknow.co.uk/"),
    (
        "Sexual-health education (Brook) is reachable",
        "https://www.brook.org.uk/",
    ),
];

/// The cases to try. `samples` gives a listed URL per category for the
/// categories the fixed entries have none for (the caller takes them from
/// the saved lists); `school_platforms` are the school's own sites.
pub fn cases(samples: &BTreeMap<String, String>, school_platforms: &[String]) -> Vec<Case> {
    let mut cases = vec![
        Case {
            check: "The IWF test entry is blocked".into(),
            category: None,
            url: Some(IWF_TEST_URL.into()),
            expect: Expect::Blocked,
            statutory: true,
        },
        Case {
            check: "The CTIRU test entry is blocked".into(),
            category: None,
            url: Some(CTIRU_TEST_URL.into()),
            expect: Expect::Blocked,
            statutory: true,
        },
    ];
    for (check, category, url) in MUST_BLOCK {
        let url = (!url.is_empty())
            .then(|| url.to_owned())
            .or_else(|| samples.get(category).cloned());
        cases.push(Case {
            check: check.into(),
            category: Some(category.into()),
            url,
            expect: Expect::Blocked,
            statutory: false,
        });
    }
    for (check, url) in MUST_ALLOW {
        cases.push(Case {
            check: check.into(),
            category: None,
            url: Some(url.into()),
            expect: Expect::Reachable,
            statutory: false,
        });
    }
    for url in school_platforms {
        cases.push(Case {
            check: format!("The school's platform {url} is reachable"),
            category: None,
            url: Some(url.clone()),
            expect: Expect::Reachable,
            statutory: false,
        });
    }
    cases
}

/// Judges one answer.
pub fn judge(case: &Case, observed: Result<&Observed, &str>) -> Outcome {
    let Some(url) = &case.url else {
        return Outcome::NoCoverage(format!(
            "the lists hold no {} entry to test with; add a list for it",
            case.category.as_deref().unwrap_or("such")
        ));
    };
    let observed = match observed {
        Ok(o) => o,
        Err(e) => return Outcome::Fail(format!("{url} could not be checked: {e}")),
    };
    match case.expect {
        Expect::Blocked if case.statutory => {
            if observed.verdict == "block" && observed.rule.starts_with("statutory:") {
                Outcome::Pass
            } else {
                Outcome::Fail(format!(
                    "{url} was not blocked by the statutory list (answer: {} by {}); import the list with `schoolgate lists import --statutory`",
                    observed.verdict, observed.rule
                ))
            }
        }
        Expect::Blocked => {
            let category = case.category.as_deref().unwrap_or("");
            if observed.verdict == "block" {
                Outcome::Pass
            } else if !category.is_empty() && !observed.categories.iter().any(|c| c == category) {
                Outcome::NoCoverage(format!(
                    "{url} is not in any {category} list any more, so the lists may lack {category} coverage; import a list for it"
                ))
            } else {
                Outcome::Fail(format!(
                    "{url} ({category}) was let through (answer: {} by {}); change the profile so {category} is blocked",
                    observed.verdict, observed.rule
                ))
            }
        }
        Expect::Reachable => {
            if observed.verdict == "block" {
                Outcome::Fail(format!(
                    "{url} was blocked (by {}); allow it in the policy: over-blocking keeps pupils from help",
                    observed.rule
                ))
            } else {
                Outcome::Pass
            }
        }
    }
}

impl ProfileResult {
    /// Runs every case through `decide`.
    pub fn run(
        profile: &str,
        cases: &[Case],
        mut decide: impl FnMut(&str) -> Result<Observed, String>,
    ) -> ProfileResult {
        let results = cases
            .iter()
            .map(|case| {
                let observed = case.url.as_deref().map(&mut decide);
                let outcome = match &observed {
                    None => judge(case, Err("")),
                    Some(Ok(o)) => judge(case, Ok(o)),
                    Some(Err(e)) => judge(case, Err(e)),
                };
                CaseResult {
                    case: case.clone(),
                    outcome,
                }
            })
            .collect();
        ProfileResult {
            profile: profile.to_owned(),
            results,
        }
    }

    pub fn passed(&self) -> bool {
        self.results.iter().all(|r| r.outcome == Outcome::Pass)
    }

    fn count(&self, word: &str) -> usize {
        self.results
            .iter()
            .filter(|r| r.outcome.word() == word)
            .count()
    }

    /// "ks2: 12 passed, 1 failed, 1 without coverage".
    pub fn summary(&self) -> String {
        format!(
            "{}: {} passed, {} failed, {} without list coverage",
            self.profile,
            self.count("passed"),
            self.count("FAILED"),
            self.count("NO COVERAGE")
        )
    }

    /// The check log entry: what was tested, the result, what to do.
    pub fn register_fields(&self) -> (String, String, String) {
        let tested = format!(
            "Filter self-test of profile {}: {} checks (statutory test entries, adult content, hate, self-harm, gambling, circumvention; help and education sites reachable)",
            self.profile,
            self.results.len()
        );
        let problems: Vec<String> = self
            .results
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::Pass => None,
                Outcome::Fail(d) | Outcome::NoCoverage(d) => Some(format!("{}: {d}", r.case.check)),
            })
            .collect();
        if problems.is_empty() {
            (
                tested,
                format!("passed: {}", self.summary()),
                "none needed".into(),
            )
        } else {
            (
                tested,
                format!("failed: {}", self.summary()),
                problems.join("; "),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(verdict: &str, rule: &str, categories: &[&str]) -> Observed {
        Observed {
            verdict: verdict.into(),
            rule: rule.into(),
            categories: categories.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn a_profile_that_lets_adult_content_through_fails() {
        let cases = cases(
            &BTreeMap::new(),
            &["https://learning.school.example/".into()],
        );
        let result = ProfileResult::run("ks2", &cases, |url| {
            Ok(if url.contains("schoolgate.invalid") {
                answer("block", "statutory:iwf", &[])
            } else if url.contains("020sextoy") {
                answer("allow", "default", &["pornography"])
            } else if url.contains("childline")
                || url.contains("nhs")
                || url.contains("ceop")
                || url.contains("thinkuknow")
                || url.contains("brook")
                || url.contains("school.example")
            {
                answer("allow", "default", &[])
            } else {
                answer("block", "category:x", &["x"])
            })
        });
        assert!(!result.passed());
        let adult = result
            .results
            .iter()
            .find(|r| r.case.category.as_deref() == Some("pornography"))
            .unwrap();
        assert!(matches!(&adult.outcome, Outcome::Fail(d) if d.contains("let through")));
        let harm = result
            .results
            .iter()
            .find(|r| r.case.category.as_deref() == Some("self-harm"))
            .unwrap();
        assert!(
            matches!(harm.outcome, Outcome::NoCoverage(_)),
            "no starter self-harm list: a finding"
        );
        assert!(
            result
                .summary()
                .contains("1 failed, 1 without list coverage")
        );
        let (_, outcome, actions) = result.register_fields();
        assert!(outcome.starts_with("failed:"));
        assert!(actions.contains("Adult content is blocked"));
    }

    #[test]
    fn over_blocking_help_sites_fails_and_samples_fill_gaps() {
        let mut samples = BTreeMap::new();
        samples.insert("self-harm".to_owned(), "https://harm.example/".to_owned());
        let cases = cases(&samples, &[]);
        let result = ProfileResult::run("ks2", &cases, |url| {
            Ok(if url.contains("schoolgate.invalid") {
                answer("block", "statutory:ctiru", &[])
            } else {
                answer("block", "category:y", &[])
            })
        });
        let childline = result
            .results
            .iter()
            .find(|r| r.case.check.contains("Childline"))
            .unwrap();
        assert!(matches!(childline.outcome, Outcome::Fail(_)));
        let harm = result
            .results
            .iter()
            .find(|r| r.case.category.as_deref() == Some("self-harm"))
            .unwrap();
        assert_eq!(harm.outcome, Outcome::Pass);
    }
}
