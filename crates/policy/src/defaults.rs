//! The policy a fresh install starts with, derived from the seed Online
//! Safety Policies (Kent template): a walled garden for EYFS and KS1 (§7.1),
//! Key Stage 2, staff with personal use at break and lunch (Appendix 1), and
//! guests. A school changes it with `schoolgate policy import`.

use crate::model::{
    Audience, ClockTime, Day, Policy, Profile, SafeSearch, Schedule, School, SearchLevel,
    YoutubeLevel,
};
use classify::taxonomy::{Category, CategorySet, Group};

/// Help and education sites that stay reachable for every pupil: over-blocking
/// is a failure too (§7.3.1), and a child looking for help must find it.
pub const HELP_SITES: &[&str] = &[
    "childline.org.uk",
    "nspcc.org.uk",
    "nhs.uk",
    "ceop.police.uk",
    "thinkuknow.co.uk",
    "saferinternet.org.uk",
    "internetmatters.org",
    "youngminds.org.uk",
    "samaritans.org",
    "papyrus-uk.org",
    "beateatingdisorders.org.uk",
    "brook.org.uk",
    "kidscape.org.uk",
    "anti-bullyingalliance.org.uk",
    "iwf.org.uk",
    "report-harmful-content.com",
];

/// Approved learning sites for the EYFS and KS1 walled garden, on top of the
/// help sites. The school adds its own learning platforms.
const EARLY_YEARS_SITES: &[&str] = &[
    "bbc.co.uk/bitesize",
    "bbc.co.uk/cbeebies",
    "bbci.co.uk",
    "topmarks.co.uk",
    "phonicsplay.co.uk",
    "ictgames.com",
    "oxfordowl.co.uk",
    "dkfindout.com",
    "swiggle.org.uk",
    "natgeokids.com",
];

fn category(id: &str) -> Category {
    Category::from_id(id)
        .unwrap_or_else(|| panic!("the default policy names an unknown category '{id}'"))
}

fn set(ids: &[&str]) -> CategorySet {
    ids.iter().map(|id| category(id)).collect()
}

/// Every category of a group: the UK Safer Internet Centre categories are the
/// `Harmful` group, and every way round the filter is `Circumvention`.
fn group(group: Group) -> CategorySet {
    Category::all()
        .iter()
        .copied()
        .filter(|c| c.group() == group)
        .collect()
}

const PUPIL_EXTRA: &[&str] = &[
    "adult-themes",
    "dating",
    "social-networking",
    "chat",
    "forums",
    "webmail",
    "games",
    "shopping",
    "generative-ai",
    "file-hosting",
    "advertising",
    "url-shortener",
    "dynamic-dns",
    "cheating",
    "cryptocurrency",
    "cults",
    "manga",
];

/// Personal-use categories staff may reach at break and lunch only.
const STAFF_PERSONAL_USE: &[&str] = &["social-networking", "webmail", "shopping", "games"];

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn time(h: u8, m: u8) -> ClockTime {
    ClockTime::new(h, m).unwrap_or_else(|| panic!("bad default time {h}:{m}"))
}

/// The shipped default policy.
pub fn default_policy() -> Policy {
    let harmful = group(Group::Harmful);
    let circumvention = group(Group::Circumvention);
    let pupil_blocked = harmful.union(circumvention).union(set(PUPIL_EXTRA));
    let mut early_years_allow = strings(EARLY_YEARS_SITES);
    early_years_allow.extend(strings(HELP_SITES));

    // Staff teach about misinformation, and IT staff may need remote access.
    let mut staff_blocked = harmful
        .union(circumvention)
        .union(set(&["dating", "adult-themes"]))
        .union(set(STAFF_PERSONAL_USE));
    staff_blocked.remove(category("misinformation"));
    staff_blocked.remove(category("remote-access"));

    Policy {
        school: School {
            name: "Our school".to_owned(),
            timezone: "Europe/London".to_owned(),
            unidentified_profile: "eyfs-ks1".to_owned(),
        },
        profiles: vec![
            Profile {
                id: "eyfs-ks1".to_owned(),
                name: "EYFS and Key Stage 1".to_owned(),
                audience: Audience::Pupil,
                description: "Reception to Year 2: only approved sites, used with an adult (policy §7.1). Add the school's own learning platforms to the allow list.".to_owned(),
                walled_garden: true,
                blocked_categories: pupil_blocked,
                allow: early_years_allow,
                deny: Vec::new(),
                block_ip_addresses: true,
                require_acceptable_use: false,
                safe_search: SafeSearch {
                    search: SearchLevel::Enforced,
                    youtube: YoutubeLevel::Strict,
                },
                schedules: Vec::new(),
            },
            Profile {
                id: "ks2".to_owned(),
                name: "Key Stage 2".to_owned(),
                audience: Audience::Pupil,
                description: "Years 3 to 6: harmful content, ways round the filter and sites not suited to primary pupils are blocked.".to_owned(),
                walled_garden: false,
                blocked_categories: pupil_blocked,
                allow: strings(HELP_SITES),
                deny: Vec::new(),
                block_ip_addresses: true,
                require_acceptable_use: false,
                safe_search: SafeSearch {
                    search: SearchLevel::Enforced,
                    youtube: YoutubeLevel::Strict,
                },
                schedules: Vec::new(),
            },
            Profile {
                id: "staff".to_owned(),
                name: "Staff".to_owned(),
                audience: Audience::Staff,
                description: "Teachers and support staff: harmful content blocked; personal use at break and lunch (staff acceptable use agreement).".to_owned(),
                walled_garden: false,
                blocked_categories: staff_blocked,
                allow: Vec::new(),
                deny: Vec::new(),
                block_ip_addresses: false,
                require_acceptable_use: false,
                safe_search: SafeSearch {
                    search: SearchLevel::Enforced,
                    youtube: YoutubeLevel::Moderate,
                },
                schedules: vec![
                    Schedule {
                        name: "Morning break".to_owned(),
                        days: Day::WEEKDAYS.to_vec(),
                        from: time(10, 30),
                        to: time(10, 45),
                        allow_categories: set(STAFF_PERSONAL_USE),
                        block_categories: CategorySet::default(),
                    },
                    Schedule {
                        name: "Lunch".to_owned(),
                        days: Day::WEEKDAYS.to_vec(),
                        from: time(12, 0),
                        to: time(13, 0),
                        allow_categories: set(STAFF_PERSONAL_USE),
                        block_categories: CategorySet::default(),
                    },
                ],
            },
            Profile {
                id: "guest".to_owned(),
                name: "Guests and personal devices".to_owned(),
                audience: Audience::Guest,
                description: "Visitors and bring-your-own devices on the guest network: harmful content and ways round the filter blocked.".to_owned(),
                walled_garden: false,
                blocked_categories: harmful.union(circumvention).union(set(&["adult-themes", "dating"])),
                allow: strings(HELP_SITES),
                deny: Vec::new(),
                block_ip_addresses: true,
                require_acceptable_use: false,
                safe_search: SafeSearch {
                    search: SearchLevel::Enforced,
                    youtube: YoutubeLevel::Moderate,
                },
                schedules: Vec::new(),
            },
        ],
    }
}
