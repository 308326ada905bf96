//! The filtering policy as a school writes it: the school, and its profiles.
//!
//! The same structures are the TOML format of `schoolgate policy export` and
//! `import` (documented in `docs/policy-format.md`). Unknown keys are refused,
//! and [`Policy::validate`] checks everything serde cannot: that ids are
//! unique, that the default profile exists and is a pupil profile, that every
//! override is a domain or URL, that schedules make sense.

use std::fmt;
use std::str::FromStr;

use classify::canon::CanonUrl;
use classify::taxonomy::CategorySet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A whole filtering policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub school: School,
    #[serde(rename = "profile", default)]
    pub profiles: Vec<Profile>,
}

/// The school the policy belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct School {
    /// Shown on block pages.
    pub name: String,
    /// The IANA time zone schedules are read in.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// The profile for anyone schoolgate cannot identify: the strictest pupil
    /// profile, so an unknown user is never given more than a child would be.
    pub unidentified_profile: String,
}

/// The `school.timezone` of a policy that names none.
pub fn default_timezone() -> String {
    "Europe/London".to_owned()
}

/// Who a profile is for. The DfE standard asks for separate staff and pupil
/// filtering at least, and for guests to be filtered too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    Pupil,
    Staff,
    Guest,
}

/// A filtering profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// A short id: lower-case letters, digits and hyphens.
    pub id: String,
    pub name: String,
    pub audience: Audience,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Only sites on the `allow` list are reachable (§7.1: EYFS and KS1 use
    /// only specific, approved online materials).
    #[serde(default)]
    pub walled_garden: bool,
    #[serde(default)]
    pub blocked_categories: CategorySet,
    /// Domains (covering their subdomains) or URL prefixes always allowed,
    /// unless a deny override or a statutory list says otherwise.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Domains or URL prefixes always blocked, unless a statutory list
    /// already blocks them.
    #[serde(default)]
    pub deny: Vec<String>,
    /// Block sites addressed by a bare IP address, which would otherwise slip
    /// past every domain list.
    #[serde(default)]
    pub block_ip_addresses: bool,
    #[serde(default)]
    pub safe_search: SafeSearch,
    /// People on this profile must agree to the acceptable use agreement
    /// for their audience before they can browse (§7.2); until then the
    /// proxy shows them the agreement instead. Help sites stay reachable.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_acceptable_use: bool,
    #[serde(rename = "schedule", default, skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<Schedule>,
}

/// Safe search per engine family; YouTube is set apart from web search
/// because schools often want it moderate where search is strict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafeSearch {
    /// Google, Bing, DuckDuckGo and the other web search engines.
    pub search: SearchLevel,
    pub youtube: YoutubeLevel,
}

impl Default for SafeSearch {
    fn default() -> Self {
        SafeSearch {
            search: SearchLevel::Enforced,
            youtube: YoutubeLevel::Strict,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchLevel {
    Enforced,
    Off,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum YoutubeLevel {
    Strict,
    Moderate,
    Off,
}

/// A time window in which some categories are allowed or blocked, such as
/// staff personal use at break and lunch (Appendix 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub name: String,
    pub days: Vec<Day>,
    pub from: ClockTime,
    pub to: ClockTime,
    /// Categories this window allows even though the profile blocks them.
    #[serde(default)]
    pub allow_categories: CategorySet,
    /// Categories this window blocks even though the profile allows them.
    #[serde(default)]
    pub block_categories: CategorySet,
}

/// A day of the week, written `mon` to `sun`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    pub const WEEKDAYS: [Day; 5] = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri];

    pub fn from_weekday(w: jiff::civil::Weekday) -> Day {
        use jiff::civil::Weekday as W;
        match w {
            W::Monday => Day::Mon,
            W::Tuesday => Day::Tue,
            W::Wednesday => Day::Wed,
            W::Thursday => Day::Thu,
            W::Friday => Day::Fri,
            W::Saturday => Day::Sat,
            W::Sunday => Day::Sun,
        }
    }
}

/// A time of day to the minute, written `HH:MM` (24-hour clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(u16);

impl ClockTime {
    pub fn new(hour: u8, minute: u8) -> Option<ClockTime> {
        (hour < 24 && minute < 60).then(|| ClockTime(hour as u16 * 60 + minute as u16))
    }

    /// Minutes since midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl FromStr for ClockTime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("'{s}' is not a time of day; write it as HH:MM, for example 12:30");
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u8 = h.parse().map_err(|_| bad())?;
        let m: u8 = m.parse().map_err(|_| bad())?;
        ClockTime::new(h, m).ok_or_else(bad)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What is wrong with a policy, naming the place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the policy is not valid TOML or does not fit the format: {0}")]
    Format(String),
    #[error("{place}: {problem}")]
    Invalid { place: String, problem: String },
    #[error("there is no profile '{0}'; `schoolgate policy show` lists the profiles")]
    UnknownProfile(String),
}

impl PolicyError {
    fn invalid(place: impl Into<String>, problem: impl Into<String>) -> PolicyError {
        PolicyError::Invalid {
            place: place.into(),
            problem: problem.into(),
        }
    }
}

/// An override entry: a domain (covering its subdomains) or a URL prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OverrideEntry {
    Domain(String),
    Url(String),
}

/// Reads an override as written in a profile. A bare host is a domain entry;
/// anything with a `/` after the host is a URL prefix.
pub fn parse_override(text: &str) -> Result<OverrideEntry, String> {
    let trimmed = text.trim();
    let after_scheme = trimmed.split_once("://").map_or(trimmed, |(_, rest)| rest);
    let url = CanonUrl::parse(trimmed).map_err(|e| e.to_string())?;
    if after_scheme.contains('/') || url.query().is_some() {
        Ok(OverrideEntry::Url(url.as_key().to_owned()))
    } else {
        Ok(OverrideEntry::Domain(url.host().to_owned()))
    }
}

impl Policy {
    /// The school's time zone (`school.timezone`): schedules are read in
    /// it, and every date and time people read is shown in it.
    pub fn time_zone(&self) -> Result<jiff::tz::TimeZone, PolicyError> {
        jiff::tz::TimeZone::get(&self.school.timezone).map_err(|e| PolicyError::Invalid {
            place: "school.timezone".into(),
            problem: e.to_string(),
        })
    }

    /// Reads a policy from TOML and validates it.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy =
            toml::from_str(text).map_err(|e| PolicyError::Format(e.to_string()))?;
        policy.validate()?;
        Ok(policy)
    }

    /// Writes the policy as TOML in the documented format.
    pub fn to_toml(&self) -> String {
        // Serialising plain data structures to TOML cannot fail: every field
        // is a string, number, bool, array or table.
        toml::to_string_pretty(self)
            .unwrap_or_else(|e| format!("# could not write the policy: {e}\n"))
    }

    pub fn profile(&self, id: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.id == id)
    }

    pub fn profile_index(&self, id: &str) -> Result<usize, PolicyError> {
        self.profiles
            .iter()
            .position(|p| p.id == id)
            .ok_or_else(|| PolicyError::UnknownProfile(id.to_owned()))
    }

    /// Checks everything the format alone cannot.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.school.name.trim().is_empty() {
            return Err(PolicyError::invalid(
                "school.name",
                "the school's name is empty",
            ));
        }
        if jiff::tz::TimeZone::get(&self.school.timezone).is_err() {
            return Err(PolicyError::invalid(
                "school.timezone",
                format!(
                    "'{}' is not a time zone name; use one such as Europe/London",
                    self.school.timezone
                ),
            ));
        }
        if self.profiles.is_empty() {
            return Err(PolicyError::invalid(
                "profile",
                "the policy has no profiles",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, profile) in self.profiles.iter().enumerate() {
            let place = format!("profile[{i}] ({})", profile.id);
            if profile.id.is_empty()
                || !profile
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(PolicyError::invalid(
                    format!("{place}.id"),
                    "an id may hold only lower-case letters, digits and hyphens",
                ));
            }
            if !seen.insert(profile.id.as_str()) {
                return Err(PolicyError::invalid(
                    format!("{place}.id"),
                    "another profile has the same id",
                ));
            }
            if profile.name.trim().is_empty() {
                return Err(PolicyError::invalid(
                    format!("{place}.name"),
                    "the name is empty",
                ));
            }
            for (field, entries) in [("allow", &profile.allow), ("deny", &profile.deny)] {
                for (j, entry) in entries.iter().enumerate() {
                    parse_override(entry).map_err(|why| {
                        PolicyError::invalid(
                            format!("{place}.{field}[{j}]"),
                            format!("'{entry}' is not a domain or URL: {why}"),
                        )
                    })?;
                }
            }
            if profile.walled_garden && profile.allow.is_empty() {
                return Err(PolicyError::invalid(
                    format!("{place}.walled_garden"),
                    "a walled garden with nothing on its allow list would block every site; add the approved sites to allow",
                ));
            }
            for (j, schedule) in profile.schedules.iter().enumerate() {
                let place = format!("{place}.schedule[{j}] ({})", schedule.name);
                if schedule.days.is_empty() {
                    return Err(PolicyError::invalid(
                        format!("{place}.days"),
                        "no days are given",
                    ));
                }
                if schedule.from >= schedule.to {
                    return Err(PolicyError::invalid(
                        place,
                        format!(
                            "it starts at {} but ends at {}; the end must be later",
                            schedule.from, schedule.to
                        ),
                    ));
                }
                if schedule.allow_categories.is_empty() && schedule.block_categories.is_empty() {
                    return Err(PolicyError::invalid(
                        place,
                        "it neither allows nor blocks any category, so it does nothing",
                    ));
                }
                if schedule
                    .allow_categories
                    .intersects(schedule.block_categories)
                {
                    return Err(PolicyError::invalid(
                        place,
                        "a category is both allowed and blocked",
                    ));
                }
            }
        }
        match self.profile(&self.school.unidentified_profile) {
            None => Err(PolicyError::invalid(
                "school.unidentified_profile",
                format!("there is no profile '{}'", self.school.unidentified_profile),
            )),
            Some(p) if p.audience != Audience::Pupil => Err(PolicyError::invalid(
                "school.unidentified_profile",
                format!(
                    "'{}' is a {} profile; people schoolgate cannot identify must get a pupil profile",
                    p.id,
                    match p.audience {
                        Audience::Staff => "staff",
                        _ => "guest",
                    }
                ),
            )),
            Some(_) => Ok(()),
        }
    }
}

/// Which of a profile's override lists an entry goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OverrideList {
    /// Always allowed (unless denied or on a statutory list).
    Allow,
    /// Always blocked.
    Deny,
}

impl OverrideList {
    /// The field's name in the policy format.
    pub fn field(self) -> &'static str {
        match self {
            OverrideList::Allow => "allow",
            OverrideList::Deny => "deny",
        }
    }
}

/// Reads an override a person has just typed, more strictly than
/// [`parse_override`] reads a stored policy: the host must look like a site
/// on the internet (a name with a dot, or an IP address), so a slip such as
/// `http//bad` is caught rather than saved as a site called `http`. Returns
/// the entry as it is stored: `example.com`, or `example.com/page` for a
/// URL prefix.
pub fn typed_override(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("it is empty; enter a site such as example.com".to_owned());
    }
    let lower = trimmed.to_ascii_lowercase();
    if ["http//", "https//", "http:/", "https:/"]
        .iter()
        .any(|typo| lower.starts_with(typo))
        && !lower.starts_with("http://")
        && !lower.starts_with("https://")
    {
        return Err(format!(
            "'{trimmed}' looks like a mistyped address; it should start http:// or https://, or just give the site, such as example.com"
        ));
    }
    let url =
        CanonUrl::parse(trimmed).map_err(|e| format!("'{trimmed}' is not a site address: {e}"))?;
    if url.host_kind() == classify::canon::HostKind::Domain {
        let host = url.host();
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        let labels: Vec<&str> = host.split('.').collect();
        let tld = labels.last().copied().unwrap_or_default();
        if labels.len() < 2
            || !labels.iter().all(|l| label_ok(l))
            || tld.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(format!(
                "'{trimmed}' is not a site address: '{host}' is not a domain name such as example.com"
            ));
        }
    }
    Ok(match parse_override(trimmed)? {
        OverrideEntry::Domain(d) => d,
        OverrideEntry::Url(u) => u,
    })
}

impl Policy {
    /// A copy of the policy with `entry` (as a person typed it) added to a
    /// profile's allow or deny list, checked with [`typed_override`]. The
    /// console's override form changes the policy this way; the caller
    /// saves the result with its reason.
    pub fn with_override(
        &self,
        profile: &str,
        list: OverrideList,
        entry: &str,
    ) -> Result<Policy, PolicyError> {
        self.edit_overrides(profile, list, |entries, place| {
            let entry = typed_override(entry).map_err(|why| PolicyError::invalid(place, why))?;
            let wanted = parse_override(&entry).ok();
            if entries.iter().any(|e| parse_override(e).ok() == wanted) {
                return Err(PolicyError::invalid(
                    place,
                    format!("{entry} is already on the {} list", list.field()),
                ));
            }
            entries.push(entry);
            Ok(())
        })
    }

    /// A copy of the policy in which every profile named has `entry` (in
    /// its stored form, see [`typed_override`]) on `list`, and off the other
    /// list, so an allow never stands beside a deny for the same site; and
    /// whether anything changed. A site already there, however it was
    /// written, is not added twice. An approved review request changes the
    /// policy this way. Refused when the result is not a valid policy (a
    /// walled garden left with nothing allowed, say).
    pub fn with_decided_override(
        &self,
        profiles: &[String],
        list: OverrideList,
        entry: &str,
    ) -> Result<(Policy, bool), PolicyError> {
        let wanted = parse_override(entry).ok();
        let same =
            |e: &String| e == entry || (wanted.is_some() && parse_override(e).ok() == wanted);
        let mut policy = self.clone();
        let mut changed = false;
        for profile in policy
            .profiles
            .iter_mut()
            .filter(|p| profiles.contains(&p.id))
        {
            let (add, other) = match list {
                OverrideList::Allow => (&mut profile.allow, &mut profile.deny),
                OverrideList::Deny => (&mut profile.deny, &mut profile.allow),
            };
            let before = other.len();
            other.retain(|e| !same(e));
            changed |= other.len() != before;
            if !add.iter().any(same) {
                add.push(entry.to_owned());
                changed = true;
            }
        }
        policy.validate()?;
        Ok((policy, changed))
    }

    /// A copy of the policy without `entry` on a profile's allow or deny
    /// list (matched as stored, or as the same site written another way).
    pub fn without_override(
        &self,
        profile: &str,
        list: OverrideList,
        entry: &str,
    ) -> Result<Policy, PolicyError> {
        self.edit_overrides(profile, list, |entries, place| {
            let wanted = parse_override(entry).ok();
            let before = entries.len();
            entries
                .retain(|e| e != entry && (wanted.is_none() || parse_override(e).ok() != wanted));
            if entries.len() == before {
                return Err(PolicyError::invalid(
                    place,
                    format!("{entry} is not on the {} list", list.field()),
                ));
            }
            Ok(())
        })
    }

    /// A copy of the policy with one override list edited, then validated.
    fn edit_overrides(
        &self,
        profile: &str,
        list: OverrideList,
        edit: impl FnOnce(&mut Vec<String>, &str) -> Result<(), PolicyError>,
    ) -> Result<Policy, PolicyError> {
        let index = self.profile_index(profile)?;
        let place = format!("profile[{index}] ({profile}).{}", list.field());
        let mut policy = self.clone();
        let p = &mut policy.profiles[index];
        edit(
            match list {
                OverrideList::Allow => &mut p.allow,
                OverrideList::Deny => &mut p.deny,
            },
            &place,
        )?;
        policy.validate()?;
        Ok(policy)
    }
}

#[cfg(test)]
mod override_tests {
    use super::*;
    use crate::defaults::default_policy;

    #[test]
    fn a_decided_override_goes_to_the_named_profiles_and_off_the_other_list() {
        let policy = default_policy();
        let first = vec![policy.profiles[0].id.clone()];
        let site = "games.example".to_owned();
        let decide =
            |p: &Policy, list| p.with_decided_override(&first, list, &site).expect("valid");
        let (allowed, changed) = decide(&policy, OverrideList::Allow);
        assert!(changed);
        assert!(allowed.profiles[0].allow.contains(&site));
        assert!(
            allowed.profiles[1..]
                .iter()
                .all(|p| !p.allow.contains(&site))
        );
        let (_, again) = decide(&allowed, OverrideList::Allow);
        assert!(!again, "adding it twice changes nothing");
        // The same site written another way is the same site.
        let mut written = policy.clone();
        written.profiles[0].allow.push("Games.Example".to_owned());
        let (_, again) = decide(&written, OverrideList::Allow);
        assert!(!again, "{:?}", written.profiles[0].allow);
        let (denied, changed) = decide(&written, OverrideList::Deny);
        assert!(changed);
        assert_eq!(
            denied.profiles[0]
                .deny
                .iter()
                .filter(|e| **e == site)
                .count(),
            1
        );
        assert_eq!(denied.profiles[0].allow, policy.profiles[0].allow);
        // A walled garden is never left with nothing allowed.
        let mut garden = policy.clone();
        garden.profiles[0].allow = vec![site.clone()];
        assert!(garden.profiles[0].walled_garden);
        let refused = garden.with_decided_override(&first, OverrideList::Deny, &site);
        assert!(
            matches!(&refused, Err(e) if e.to_string().contains("walled garden")),
            "{refused:?}"
        );
    }

    #[test]
    fn an_override_is_added_in_its_stored_form_and_only_once() {
        let policy = default_policy();
        let changed = policy
            .with_override("ks2", OverrideList::Allow, " https://Scratch.MIT.edu ")
            .expect("added");
        let ks2 = changed.profile("ks2").expect("ks2");
        assert_eq!(
            ks2.allow.last().map(String::as_str),
            Some("scratch.mit.edu")
        );
        assert_eq!(
            ks2.allow.len(),
            policy.profile("ks2").expect("ks2").allow.len() + 1
        );
        let again = changed.with_override("ks2", OverrideList::Allow, "scratch.mit.edu");
        assert!(
            matches!(&again, Err(PolicyError::Invalid { problem, .. }) if problem.contains("already")),
            "{again:?}"
        );
        let page = changed
            .with_override(
                "ks2",
                OverrideList::Deny,
                "https://www.example.org/games?x=1",
            )
            .expect("a URL");
        assert_eq!(
            page.profile("ks2")
                .expect("ks2")
                .deny
                .last()
                .map(String::as_str),
            Some("www.example.org/games?x=1")
        );
        let removed = page
            .without_override("ks2", OverrideList::Allow, "HTTPS://Scratch.mit.edu")
            .expect("removed");
        assert_eq!(
            removed.profile("ks2"),
            policy
                .profile("ks2")
                .map(|p| {
                    let mut p = p.clone();
                    p.deny.push("www.example.org/games?x=1".into());
                    p
                })
                .as_ref()
        );
        assert!(
            removed
                .without_override("ks2", OverrideList::Allow, "scratch.mit.edu")
                .is_err()
        );
    }

    #[test]
    fn a_mistyped_override_names_the_field_and_says_what_is_wrong() {
        let policy = default_policy();
        for (typed, says) in [
            ("http//bad", "mistyped"),
            ("bad", "not a domain name"),
            ("", "empty"),
            ("not a site", "not a site address"),
            ("-x-.com", "not a domain name"),
        ] {
            let e = policy
                .with_override("ks2", OverrideList::Deny, typed)
                .expect_err(typed)
                .to_string();
            assert!(e.contains("profile[") && e.contains("(ks2).deny"), "{e}");
            assert!(e.contains(says), "{typed}: {e}");
        }
        assert!(matches!(
            policy.with_override("nobody", OverrideList::Deny, "example.com"),
            Err(PolicyError::UnknownProfile(_))
        ));
        assert_eq!(typed_override("10.1.2.3").as_deref(), Ok("10.1.2.3"));
    }
}
