//! Decisions: a pure function of the profile, the URL (or host) and the time.
//!
//! Precedence, first match wins (documented in `docs/policy-format.md` and
//! tested below):
//!
//! | # | stage | verdict |
//! |---|---|---|
//! | 1 | statutory lists (IWF, CTIRU) | block; nothing overrides it |
//! | 2 | the profile's deny overrides | block |
//! | 3 | the profile's allow overrides | allow |
//! | 4 | walled garden: anything not allowed above | block |
//! | 5 | schedules in force: categories they block or allow | block or allow |
//! | 6 | bare IP addresses, when the profile blocks them | block |
//! | 7 | blocked categories | block |
//! | 8 | nothing blocks it | allow |
//!
//! An allowed request to a search engine becomes "allow with safe search
//! enforced" when the profile enforces safe search for that engine.

use std::sync::Arc;

use classify::canon::{CanonUrl, HostKind};
use classify::index::{Classification, Hit, Index, IndexBuilder};
use classify::statutory::{StatutoryKind, StatutoryList};
use classify::taxonomy::{Category, CategorySet};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::model::{Day, OverrideEntry, Policy, PolicyError, Profile, parse_override};
use crate::safesearch::SearchEngine;

/// The lists a policy is applied with: the category index and the statutory lists.
#[derive(Debug, Default)]
pub struct Lists {
    pub index: Index,
    pub statutory: Vec<StatutoryList>,
}

/// What happens to a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Allow,
    Block,
    /// Allowed, but sent to the engine's enforced safe-search host.
    SafeSearch,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Block => "block",
            Verdict::SafeSearch => "safe-search",
        }
    }
}

/// The rule that decided, kept small and free of allocation for the hot path;
/// [`Engine::explain`] spells it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    Statutory(StatutoryKind),
    Deny(Hit),
    Allow(Hit),
    WalledGarden,
    /// A schedule in force allowed a category the profile blocks.
    ScheduleAllows {
        schedule: u16,
        category: Category,
    },
    /// A schedule in force blocked a category the profile allows.
    ScheduleBlocks {
        schedule: u16,
        category: Category,
    },
    IpAddress,
    Category(Category),
    NotBlocked,
}

/// A decision and what it rests on.
#[derive(Clone, Copy, Debug)]
pub struct Decision {
    pub verdict: Verdict,
    pub rule: Rule,
    /// The profile's position in the policy.
    pub profile: usize,
    /// Every category the lists put the URL in.
    pub categories: CategorySet,
    pub classification: Classification,
    /// For [`Verdict::SafeSearch`]: the engine and its enforced host.
    pub safe_search: Option<(SearchEngine, &'static str)>,
}

/// A decision spelled out for people and for `--json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub url: String,
    pub profile: String,
    pub verdict: &'static str,
    /// A short, stable name for the rule: `statutory:iwf`, `deny:example.com`,
    /// `allow:example.com`, `walled-garden`, `schedule:Lunch`,
    /// `ip-address`, `category:gambling`, `default`.
    pub rule: String,
    /// A sentence a teacher understands.
    pub reason: String,
    pub categories: Vec<&'static str>,
    pub matches: Vec<ExplainedMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe_search_host: Option<&'static str>,
    /// For statutory blocks: the standard text the block page shows, alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_text: Option<&'static str>,
}

/// A list entry that matched, with the lists holding it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExplainedMatch {
    pub entry: String,
    pub lists: Vec<String>,
}

struct CompiledProfile {
    allow: Index,
    deny: Index,
    schedules: Vec<CompiledSchedule>,
}

struct CompiledSchedule {
    days: u8,
    from: u16,
    to: u16,
}

fn day_bit(day: Day) -> u8 {
    1 << (day as u8)
}

/// What a decision is about: a whole URL, or a host alone (DNS, CONNECT).
#[derive(Clone, Copy)]
enum Target<'a> {
    Url(&'a CanonUrl),
    Host(&'a str, HostKind),
}

impl Target<'_> {
    fn host(&self) -> &str {
        match self {
            Target::Url(u) => u.host(),
            Target::Host(h, _) => h,
        }
    }

    fn host_kind(&self) -> HostKind {
        match self {
            Target::Url(u) => u.host_kind(),
            Target::Host(_, k) => *k,
        }
    }
}

fn describe<'i>(target: Target<'_>, index: &'i Index, hit: &Hit) -> classify::index::HitDetail<'i> {
    match target {
        Target::Url(url) => index.describe(url, hit),
        Target::Host(host, _) => index.describe_host(host, hit),
    }
}

/// A policy compiled for fast decisions, with the lists it applies.
pub struct Engine {
    policy: Policy,
    timezone: TimeZone,
    profiles: Vec<CompiledProfile>,
    lists: Arc<Lists>,
    unidentified: usize,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("profiles", &self.policy.profiles.len())
            .field("index", &self.lists.index)
            .finish()
    }
}

fn compile_overrides(
    profile: &Profile,
    which: &str,
    entries: &[String],
) -> Result<Index, PolicyError> {
    let mut domains = Vec::new();
    let mut urls = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        match parse_override(entry) {
            Ok(OverrideEntry::Domain(d)) => domains.push(d),
            Ok(OverrideEntry::Url(u)) => urls.push(u),
            Err(why) => {
                return Err(PolicyError::Invalid {
                    place: format!("profile {}: {which}[{i}]", profile.id),
                    problem: format!("'{entry}' is not a domain or URL: {why}"),
                });
            }
        }
    }
    let mut builder = IndexBuilder::new();
    builder
        .add_list(
            &format!("{which} overrides of profile {}", profile.id),
            None,
            domains.iter().map(String::as_str),
            urls.iter().map(String::as_str),
        )
        .map_err(|e| PolicyError::Invalid {
            place: format!("profile {}: {which}", profile.id),
            problem: e.to_string(),
        })?;
    Ok(builder.build())
}

impl Engine {
    /// Validates and compiles a policy against a set of lists.
    pub fn new(policy: Policy, lists: Arc<Lists>) -> Result<Engine, PolicyError> {
        policy.validate()?;
        let timezone = policy.time_zone()?;
        let mut profiles = Vec::with_capacity(policy.profiles.len());
        for profile in &policy.profiles {
            profiles.push(CompiledProfile {
                allow: compile_overrides(profile, "allow", &profile.allow)?,
                deny: compile_overrides(profile, "deny", &profile.deny)?,
                schedules: profile
                    .schedules
                    .iter()
                    .map(|s| CompiledSchedule {
                        days: s.days.iter().fold(0, |acc, &d| acc | day_bit(d)),
                        from: s.from.minutes(),
                        to: s.to.minutes(),
                    })
                    .collect(),
            });
        }
        let unidentified = policy.profile_index(&policy.school.unidentified_profile)?;
        Ok(Engine {
            policy,
            timezone,
            profiles,
            lists,
            unidentified,
        })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn lists(&self) -> &Lists {
        &self.lists
    }

    /// The school's time zone (`school.timezone`): schedules are read in
    /// it, and every date and time people read is shown in it.
    pub fn time_zone(&self) -> &TimeZone {
        &self.timezone
    }

    /// The profile for an id, or for people schoolgate cannot identify.
    pub fn profile_index(&self, id: Option<&str>) -> Result<usize, PolicyError> {
        match id {
            Some(id) => self.policy.profile_index(id),
            None => Ok(self.unidentified),
        }
    }

    /// Decides on a full URL.
    pub fn decide(&self, profile: usize, url: &CanonUrl, at: Timestamp) -> Decision {
        self.decide_target(profile, Target::Url(url), at)
    }

    /// Decides on a host alone, as DNS and CONNECT see it: URL-level entries
    /// cannot apply, so only domain entries and whole-host statutory entries do.
    pub fn decide_host(
        &self,
        profile: usize,
        host: &str,
        kind: HostKind,
        at: Timestamp,
    ) -> Decision {
        self.decide_target(profile, Target::Host(host, kind), at)
    }

    fn decide_target(&self, profile_index: usize, target: Target<'_>, at: Timestamp) -> Decision {
        let profile = &self.policy.profiles[profile_index];
        let compiled = &self.profiles[profile_index];
        let classify = |index: &Index| match target {
            Target::Url(url) => index.classify(url),
            Target::Host(host, kind) => index.classify_host(host, kind),
        };
        let classification = classify(&self.lists.index);
        let categories = classification.categories;
        let decision = |verdict, rule| Decision {
            verdict,
            rule,
            profile: profile_index,
            categories,
            classification,
            safe_search: None,
        };

        // 1. Statutory lists, before anything else.
        for list in &self.lists.statutory {
            let hit = match target {
                Target::Url(url) => list.matches(url),
                Target::Host(host, kind) => list.matches_host(host, kind),
            };
            if hit {
                return decision(Verdict::Block, Rule::Statutory(list.kind()));
            }
        }
        // 2. and 3. Overrides.
        if let Some(hit) = classify(&compiled.deny).hits().first() {
            return decision(Verdict::Block, Rule::Deny(*hit));
        }
        if let Some(hit) = classify(&compiled.allow).hits().first() {
            return self.with_safe_search(
                profile,
                target,
                decision(Verdict::Allow, Rule::Allow(*hit)),
            );
        }
        // 4. Walled garden.
        if profile.walled_garden {
            return decision(Verdict::Block, Rule::WalledGarden);
        }
        // 5. Schedules in force.
        let mut blocked = profile.blocked_categories;
        if !compiled.schedules.is_empty() && !categories.is_empty() {
            let local = self.timezone.to_datetime(at);
            let day = day_bit(Day::from_weekday(local.weekday()));
            let minute = local.hour() as u16 * 60 + local.minute() as u16;
            let mut allowed_by: Option<(u16, CategorySet)> = None;
            for (i, schedule) in compiled.schedules.iter().enumerate() {
                if schedule.days & day == 0 || minute < schedule.from || minute >= schedule.to {
                    continue;
                }
                let rules = &profile.schedules[i];
                if let Some(category) = categories
                    .intersection(rules.block_categories)
                    .iter()
                    .next()
                {
                    return decision(
                        Verdict::Block,
                        Rule::ScheduleBlocks {
                            schedule: i as u16,
                            category,
                        },
                    );
                }
                if allowed_by.is_none() && categories.intersects(rules.allow_categories) {
                    allowed_by = Some((i as u16, rules.allow_categories));
                }
                blocked = CategorySet::from_bits(blocked.bits() & !rules.allow_categories.bits());
            }
            if let Some((schedule, allows)) = allowed_by {
                let still_blocked = categories.intersects(blocked);
                let freed = categories
                    .intersection(profile.blocked_categories)
                    .intersection(allows);
                if let (false, Some(category)) = (still_blocked, freed.iter().next()) {
                    let allowed =
                        decision(Verdict::Allow, Rule::ScheduleAllows { schedule, category });
                    return self.with_safe_search(profile, target, allowed);
                }
            }
        }
        // 6. Bare IP addresses.
        if profile.block_ip_addresses && target.host_kind() != HostKind::Domain {
            return decision(Verdict::Block, Rule::IpAddress);
        }
        // 7. Categories: the first in taxonomy order, so harmful ones are named first.
        if let Some(category) = categories.intersection(blocked).iter().next() {
            return decision(Verdict::Block, Rule::Category(category));
        }
        // 8. Nothing blocks it.
        self.with_safe_search(profile, target, decision(Verdict::Allow, Rule::NotBlocked))
    }

    fn with_safe_search(
        &self,
        profile: &Profile,
        target: Target<'_>,
        mut decision: Decision,
    ) -> Decision {
        if let Some(engine) = SearchEngine::for_host(target.host())
            && let Some(host) = engine.enforced_host(profile.safe_search)
        {
            decision.verdict = Verdict::SafeSearch;
            decision.safe_search = Some((engine, host));
        }
        decision
    }

    /// Spells a decision out. Statutory decisions name the list and nothing
    /// of its contents.
    pub fn explain(&self, url: &CanonUrl, decision: &Decision) -> Explanation {
        self.explain_target(Target::Url(url), url.as_key(), decision)
    }

    /// Spells out a decision from [`Engine::decide_host`].
    pub fn explain_host(&self, host: &str, kind: HostKind, decision: &Decision) -> Explanation {
        self.explain_target(Target::Host(host, kind), host, decision)
    }

    fn explain_target(&self, target: Target<'_>, shown: &str, decision: &Decision) -> Explanation {
        let profile = &self.policy.profiles[decision.profile];
        let compiled = &self.profiles[decision.profile];
        let override_entry = |index: &Index, hit: &Hit| describe(target, index, hit).entry;
        let schedule_name = |i: u16| profile.schedules[i as usize].name.clone();
        let (rule, reason) = match decision.rule {
            Rule::Statutory(kind) => (
                format!("statutory:{}", kind.id()),
                format!(
                    "It is on the {} list, which no setting can override.",
                    kind.name()
                ),
            ),
            Rule::Deny(hit) => {
                let entry = override_entry(&compiled.deny, &hit);
                (
                    format!("deny:{entry}"),
                    format!("The {} profile blocks {entry}.", profile.name),
                )
            }
            Rule::Allow(hit) => {
                let entry = override_entry(&compiled.allow, &hit);
                (
                    format!("allow:{entry}"),
                    format!("The {} profile allows {entry}.", profile.name),
                )
            }
            Rule::WalledGarden => (
                "walled-garden".to_owned(),
                format!(
                    "The {} profile allows only approved sites, and this is not one of them.",
                    profile.name
                ),
            ),
            Rule::ScheduleAllows { schedule, category } => {
                let name = schedule_name(schedule);
                (
                    format!("schedule:{name}"),
                    format!("{} is allowed during {name}.", category.name()),
                )
            }
            Rule::ScheduleBlocks { schedule, category } => {
                let name = schedule_name(schedule);
                (
                    format!("schedule:{name}"),
                    format!("{} is blocked during {name}.", category.name()),
                )
            }
            Rule::IpAddress => (
                "ip-address".to_owned(),
                format!(
                    "The {} profile blocks sites reached by a bare IP address, which can get around the filter.",
                    profile.name
                ),
            ),
            Rule::Category(category) => (
                format!("category:{}", category.id()),
                format!("{}: {}", category.name(), category.description()),
            ),
            Rule::NotBlocked => (
                "default".to_owned(),
                "No rule of this profile blocks it.".to_owned(),
            ),
        };
        let reason = match decision.safe_search {
            Some((engine, host)) => format!(
                "{reason} {} safe search is enforced (sent to {host}).",
                engine.name()
            ),
            None => reason,
        };
        let matches = decision
            .classification
            .hits()
            .iter()
            .map(|hit| {
                let detail = describe(target, &self.lists.index, hit);
                ExplainedMatch {
                    entry: detail.entry,
                    lists: detail
                        .lists
                        .iter()
                        .map(|l| match l.category {
                            Some(c) => format!("{} ({})", l.name, c.id()),
                            None => l.name.clone(),
                        })
                        .collect(),
                }
            })
            .collect();
        Explanation {
            url: shown.to_owned(),
            profile: profile.id.clone(),
            verdict: decision.verdict.as_str(),
            rule,
            reason,
            categories: decision.categories.iter().map(Category::id).collect(),
            matches,
            safe_search_host: decision.safe_search.map(|(_, host)| host),
            block_text: match decision.rule {
                Rule::Statutory(kind) => Some(classify::statutory::block_text(kind)),
                _ => None,
            },
        }
    }
}
