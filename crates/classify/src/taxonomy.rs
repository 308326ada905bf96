//! schoolgate's own categories, and how UT1's category names map onto them.
//!
//! The harmful group is the UK Safer Internet Centre's list of content a
//! school's filter must be able to block ("Appropriate filtering"); the
//! circumvention group is the DfE standard's VPNs, proxies and DNS over HTTPS.
//! Everything else is there so a school can shape access by age and role
//! (operational) or keep help and learning reachable (information).
//!
//! Ids are stable: policies, logs and reports store them. A category may be
//! added; an id is never renamed or reused. The display order is the order of
//! the table below, and [`Category::index`] is a position in it, so new
//! categories go at the end of the table.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// One of schoolgate's content categories.
///
/// A small copyable index into the taxonomy; `Ord` follows display order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Category(u8);

/// The four kinds of category, in the order a console lists them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Group {
    /// The UK Safer Internet Centre's harmful-content categories.
    Harmful,
    /// Ways round the filter: VPNs, proxies, DNS over HTTPS, remote access.
    Circumvention,
    /// Content a school may restrict by age, role or time of day.
    Operational,
    /// Neutral or helpful content, listed so it can be reported on or allowed.
    Information,
}

impl Group {
    /// Every group, in display order.
    pub fn all() -> &'static [Group] {
        &[
            Group::Harmful,
            Group::Circumvention,
            Group::Operational,
            Group::Information,
        ]
    }

    /// A stable lower-case id.
    pub fn id(self) -> &'static str {
        match self {
            Group::Harmful => "harmful",
            Group::Circumvention => "circumvention",
            Group::Operational => "operational",
            Group::Information => "information",
        }
    }

    /// The group's name in plain English.
    pub fn name(self) -> &'static str {
        match self {
            Group::Harmful => "Harmful",
            Group::Circumvention => "Circumvention",
            Group::Operational => "Operational",
            Group::Information => "Information",
        }
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

struct Definition {
    id: &'static str,
    name: &'static str,
    group: Group,
    description: &'static str,
}

const fn def(
    id: &'static str,
    name: &'static str,
    group: Group,
    description: &'static str,
) -> Definition {
    Definition {
        id,
        name,
        group,
        description,
    }
}

use Group::{Circumvention, Harmful, Information, Operational};

// Descriptions appear on block pages: one sentence that a nine-year-old can
// read and that a teacher would not be embarrassed to show.
const DEFINITIONS: &[Definition] = &[
    // UK Safer Internet Centre, "Appropriate filtering", content categories.
    def(
        "discrimination",
        "Discrimination",
        Harmful,
        "Sites that treat people unfairly because of who they are, such as their race, religion, disability, sex or sexuality.",
    ),
    def(
        "drugs",
        "Drugs",
        Harmful,
        "Sites that sell illegal drugs or encourage people to take them.",
    ),
    def(
        "extremism",
        "Extremism",
        Harmful,
        "Sites that try to draw people into extreme ideas, terrorism or violent groups.",
    ),
    def(
        "gambling",
        "Gambling",
        Harmful,
        "Sites where people bet money on games, sport or chance.",
    ),
    def(
        "hate-speech",
        "Hate speech",
        Harmful,
        "Sites that are full of hate or aggression towards people or groups.",
    ),
    def(
        "malware-hacking",
        "Malware and hacking",
        Harmful,
        "Sites that can harm computers, steal passwords or teach people to break into systems.",
    ),
    def(
        "pornography",
        "Pornography",
        Harmful,
        "Sites with sexual pictures or videos meant only for adults.",
    ),
    def(
        "piracy",
        "Piracy",
        Harmful,
        "Sites that share films, music, games or software without permission from the people who made them.",
    ),
    def(
        "self-harm",
        "Self-harm",
        Harmful,
        "Sites that encourage people to hurt themselves, including suicide and eating disorders.",
    ),
    def(
        "violence",
        "Violence",
        Harmful,
        "Sites that show or encourage hurting people or animals.",
    ),
    def(
        "misinformation",
        "Misinformation",
        Harmful,
        "Sites known for spreading false or misleading stories as if they were true.",
    ),
    def(
        "harmful-content",
        "Harmful content",
        Harmful,
        "Sites with dangerous content, such as instructions for making weapons or dangerous substances.",
    ),
    def(
        "violence-against-women-and-girls",
        "Violence against women and girls",
        Harmful,
        "Sites that encourage hatred, abuse or violence towards women and girls.",
    ),
    // Circumvention: the DfE standard names VPNs, proxies and DNS over HTTPS.
    def(
        "vpn",
        "VPN",
        Circumvention,
        "Services that hide where internet traffic goes, so the school's filter cannot keep people safe.",
    ),
    def(
        "proxy",
        "Proxy",
        Circumvention,
        "Sites that open other websites for you, getting round the school's filter.",
    ),
    def(
        "dns-over-https",
        "DNS over HTTPS",
        Circumvention,
        "Services that look up website addresses in secret, getting round the school's filter.",
    ),
    def(
        "remote-access",
        "Remote access",
        Circumvention,
        "Tools that let someone control a computer from somewhere else.",
    ),
    // Operational: restricted by age, role or time rather than always harmful.
    def(
        "adult-themes",
        "Adult themes",
        Operational,
        "Sites meant for grown-ups, such as lingerie shops or sites that mix adult content with other things.",
    ),
    def(
        "dating",
        "Dating",
        Operational,
        "Sites for adults looking for a boyfriend, girlfriend or partner.",
    ),
    def(
        "social-networking",
        "Social networking",
        Operational,
        "Sites where people share posts, photos and videos with friends and strangers.",
    ),
    def(
        "chat",
        "Chat",
        Operational,
        "Sites for talking to other people by message, often strangers.",
    ),
    def(
        "forums",
        "Forums",
        Operational,
        "Sites where people post messages and reply to each other about a topic.",
    ),
    def(
        "webmail",
        "Webmail",
        Operational,
        "Email you read and send in a web browser.",
    ),
    def(
        "games",
        "Games",
        Operational,
        "Sites for playing games online.",
    ),
    def(
        "streaming",
        "Streaming",
        Operational,
        "Sites for watching videos or listening to music and radio online.",
    ),
    def(
        "shopping",
        "Shopping",
        Operational,
        "Sites for buying things online.",
    ),
    def(
        "generative-ai",
        "Generative AI",
        Operational,
        "Tools where a computer writes text or makes pictures for you.",
    ),
    def(
        "file-hosting",
        "File hosting",
        Operational,
        "Sites for storing and sharing files with other people.",
    ),
    def(
        "downloads",
        "Downloads",
        Operational,
        "Sites for downloading programs and apps.",
    ),
    def(
        "advertising",
        "Advertising",
        Operational,
        "Adverts, pop-ups and sites that track what you do to sell things to you.",
    ),
    def(
        "url-shortener",
        "URL shortener",
        Operational,
        "Short links that hide which website they really go to.",
    ),
    def(
        "dynamic-dns",
        "Dynamic DNS",
        Operational,
        "Addresses anyone can set up quickly for any computer, often used to hide where a site really is.",
    ),
    def(
        "cheating",
        "Cheating",
        Operational,
        "Sites that give answers to homework, tests or exams.",
    ),
    def(
        "cryptocurrency",
        "Cryptocurrency",
        Operational,
        "Sites about buying, selling or making digital money such as Bitcoin.",
    ),
    def(
        "mobile-phones",
        "Mobile phones",
        Operational,
        "Sites for ringtones, wallpapers and add-ons for mobile phones.",
    ),
    def(
        "web-hosting",
        "Web hosting",
        Operational,
        "Services where anyone can put up their own website.",
    ),
    def(
        "job-search",
        "Job search",
        Operational,
        "Sites for finding and applying for jobs.",
    ),
    // Information: neutral or helpful; listed so it can be allowed and reported.
    def(
        "education",
        "Education",
        Information,
        "Sites for learning, for pupils, teachers and schools.",
    ),
    def(
        "sex-education",
        "Sex education",
        Information,
        "Sites that teach about growing up, bodies, relationships and staying healthy.",
    ),
    def(
        "news",
        "News",
        Information,
        "Newspapers, magazines and news sites.",
    ),
    def(
        "sport",
        "Sport",
        Information,
        "Sites about sport, teams and matches.",
    ),
    def(
        "finance",
        "Finance",
        Information,
        "Banks and sites about money and saving.",
    ),
    def(
        "celebrity",
        "Celebrity",
        Information,
        "Sites about famous people and gossip about them.",
    ),
    def(
        "blogs",
        "Blogs",
        Information,
        "Sites where people write posts about their lives or interests.",
    ),
    def(
        "manga",
        "Manga",
        Information,
        "Sites for reading Japanese-style comics and cartoons.",
    ),
    def(
        "astrology",
        "Astrology",
        Information,
        "Sites about horoscopes and telling the future from the stars.",
    ),
    def(
        "cults",
        "Cults",
        Information,
        "Groups that can pressure people to follow them and cut them off from family and friends.",
    ),
    def(
        "religion",
        "Religion",
        Information,
        "Sites of religious groups and about faith.",
    ),
    def(
        "translation",
        "Translation",
        Information,
        "Tools that change words from one language into another.",
    ),
    def(
        "software-updates",
        "Software updates",
        Information,
        "Sites that keep computers up to date and protect them from viruses.",
    ),
    def(
        "cooking",
        "Cooking",
        Information,
        "Recipes and sites about food and cooking.",
    ),
];

const COUNT: usize = DEFINITIONS.len();

// Category::index is a bit position in CategorySet, so the table must fit in
// 64 bits.
const _: () = assert!(COUNT <= 64);

/// Every category, built at compile time so `all()` can hand out a static slice.
static ALL: [Category; COUNT] = {
    let mut all = [Category(0); COUNT];
    let mut i = 0;
    while i < COUNT {
        all[i] = Category(i as u8);
        i += 1;
    }
    all
};

impl Category {
    /// Every category, in display order.
    pub fn all() -> &'static [Category] {
        &ALL
    }

    /// The category with this id, if there is one. Ids are case-sensitive.
    pub fn from_id(id: &str) -> Option<Category> {
        DEFINITIONS
            .iter()
            .position(|d| d.id == id)
            .map(|i| Category(i as u8))
    }

    /// The stable kebab-case id stored in policies and logs.
    pub fn id(self) -> &'static str {
        self.definition().id
    }

    /// The name in plain English, for people.
    pub fn name(self) -> &'static str {
        self.definition().name
    }

    /// One sentence for block pages that both a pupil and a teacher understand.
    pub fn description(self) -> &'static str {
        self.definition().description
    }

    pub fn group(self) -> Group {
        self.definition().group
    }

    /// The position in [`Category::all`], below 64; the bit in a [`CategorySet`].
    pub fn index(self) -> u8 {
        self.0
    }

    pub fn from_index(i: u8) -> Option<Category> {
        (usize::from(i) < COUNT).then_some(Category(i))
    }

    fn definition(self) -> &'static Definition {
        // A Category is only ever made from a valid index, so this cannot miss.
        &DEFINITIONS[usize::from(self.0)]
    }

    /// Every id, comma-separated, for error messages that must say what is valid.
    fn valid_ids() -> String {
        DEFINITIONS
            .iter()
            .map(|d| d.id)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The error for a category id that does not exist.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{id}' is not a schoolgate category; use one of: {valid}", valid = Category::valid_ids())]
pub struct UnknownCategory {
    pub id: String,
}

impl std::str::FromStr for Category {
    type Err = UnknownCategory;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::from_id(s).ok_or_else(|| UnknownCategory { id: s.to_owned() })
    }
}

impl Serialize for Category {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for Category {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;

        impl Visitor<'_> for IdVisitor {
            type Value = Category;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a schoolgate category id such as \"gambling\"")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Category, E> {
                v.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(IdVisitor)
    }
}

/// A set of categories, one bit each: what a list entry is, or what a profile blocks.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, Debug)]
pub struct CategorySet(u64);

impl CategorySet {
    pub const EMPTY: CategorySet = CategorySet(0);

    pub const fn new() -> CategorySet {
        CategorySet(0)
    }

    /// Adds a category; true if it was not already there.
    pub fn insert(&mut self, c: Category) -> bool {
        let had = self.contains(c);
        self.0 |= Self::bit(c);
        !had
    }

    /// Removes a category; true if it was there.
    pub fn remove(&mut self, c: Category) -> bool {
        let had = self.contains(c);
        self.0 &= !Self::bit(c);
        had
    }

    pub fn contains(self, c: Category) -> bool {
        self.0 & Self::bit(c) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn union(self, other: CategorySet) -> CategorySet {
        CategorySet(self.0 | other.0)
    }

    pub fn intersection(self, other: CategorySet) -> CategorySet {
        CategorySet(self.0 & other.0)
    }

    pub fn intersects(self, other: CategorySet) -> bool {
        self.0 & other.0 != 0
    }

    /// The categories in display order.
    pub fn iter(self) -> impl Iterator<Item = Category> {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            if rest == 0 {
                return None;
            }
            let i = rest.trailing_zeros() as u8;
            rest &= rest - 1;
            Some(Category(i))
        })
    }

    /// The raw bits, for compact storage in an index.
    pub fn bits(self) -> u64 {
        self.0
    }

    /// A set from stored bits. Bits that name no category are dropped, so a
    /// corrupt or newer index cannot make a category out of nothing.
    pub fn from_bits(bits: u64) -> CategorySet {
        const KNOWN: u64 = u64::MAX >> (64 - COUNT);
        CategorySet(bits & KNOWN)
    }

    fn bit(c: Category) -> u64 {
        1u64 << c.0
    }
}

impl FromIterator<Category> for CategorySet {
    fn from_iter<I: IntoIterator<Item = Category>>(iter: I) -> Self {
        let mut set = CategorySet::new();
        for c in iter {
            set.insert(c);
        }
        set
    }
}

impl Extend<Category> for CategorySet {
    fn extend<I: IntoIterator<Item = Category>>(&mut self, iter: I) {
        for c in iter {
            self.insert(c);
        }
    }
}

impl Serialize for CategorySet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for c in self.iter() {
            seq.serialize_element(&c)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for CategorySet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SetVisitor;

        impl<'de> Visitor<'de> for SetVisitor {
            type Value = CategorySet;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of schoolgate category ids such as [\"gambling\", \"games\"]")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CategorySet, A::Error> {
                let mut set = CategorySet::new();
                while let Some(c) = seq.next_element::<Category>()? {
                    set.insert(c);
                }
                Ok(set)
            }
        }

        deserializer.deserialize_seq(SetVisitor)
    }
}

/// What schoolgate does with one of UT1's category names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ut1Mapping {
    /// The UT1 list's entries go into this category.
    Category(Category),
    /// The UT1 list is not imported, for this reason.
    Ignored { reason: &'static str },
}

// How each UT1 name is read. Kept as ids so the table reads like the docs.
enum Ut1Target {
    To(&'static str),
    Skip(&'static str),
}

use Ut1Target::{Skip, To};

/// Every category name in the UT1 distribution (its folders, its aliases and
/// the names in `global_usage`), sorted by name.
///
/// An alias (a symbolic link such as `porn -> adult`) maps where its target
/// does, because it is the same list under another name.
const UT1: &[(&str, Ut1Target)] = &[
    ("ads", To("advertising")), // alias of publicite
    ("adult", To("pornography")),
    ("aggressive", To("hate-speech")), // alias of agressif
    // UT1: "racist, antisemitic sites, inciting hatred".
    ("agressif", To("hate-speech")),
    ("ai", To("generative-ai")),
    // Sites licensed by ARJEL, the French regulator of online gambling.
    ("arjel", To("gambling")),
    ("associations_religieuses", To("religion")),
    ("astrology", To("astrology")),
    ("audio-video", To("streaming")),
    ("bank", To("finance")),
    ("bitcoin", To("cryptocurrency")),
    ("blog", To("blogs")),
    ("celebrity", To("celebrity")),
    ("chat", To("chat")),
    // UT1's white list of sites for children.
    ("child", To("education")),
    // UT1: "sites to disinfect, update and protect computers".
    ("cleaning", To("software-updates")),
    ("cooking", To("cooking")),
    ("cryptojacking", To("malware-hacking")),
    // UT1: "how to make bombs and other dangerous material".
    ("dangerous_material", To("harmful-content")),
    ("dating", To("dating")),
    ("ddos", To("malware-hacking")),
    ("dialer", To("malware-hacking")),
    ("doh", To("dns-over-https")),
    ("download", To("downloads")),
    ("drogue", To("drugs")),
    ("drugs", To("drugs")), // alias of drogue
    ("dynamic-dns", To("dynamic-dns")),
    ("educational_games", To("education")),
    // A white list for the French PIX digital-skills exam.
    ("examen_pix", To("education")),
    // Exceptions to the French university libraries' white list.
    ("exceptions_liste_bu", To("education")),
    ("fakenews", To("misinformation")),
    ("filehosting", To("file-hosting")),
    ("financial", To("finance")),
    ("forums", To("forums")),
    ("gambling", To("gambling")),
    ("games", To("games")),
    ("hacking", To("malware-hacking")),
    ("jobsearch", To("job-search")),
    ("lingerie", To("adult-themes")),
    // UT1's general white list: mostly education and public-service sites.
    ("liste_blanche", To("education")),
    // The French university libraries' white list of educational sites.
    ("liste_bu", To("education")),
    // In UT1 `mail` is an alias of `forums`, not of `webmail`.
    ("mail", To("forums")),
    ("malware", To("malware-hacking")),
    ("manga", To("manga")),
    ("marketingware", To("advertising")),
    ("mixed_adult", To("adult-themes")),
    ("mobile-phone", To("mobile-phones")),
    ("phishing", To("malware-hacking")),
    ("porn", To("pornography")), // alias of adult
    ("press", To("news")),
    ("proxy", To("proxy")), // alias of redirector
    ("publicite", To("advertising")),
    ("radio", To("streaming")),
    (
        "reaffected",
        Skip("sites whose domain changed owner; the list says nothing about what they hold now"),
    ),
    // Web proxies and other sites that fetch any page for the visitor.
    ("redirector", To("proxy")),
    ("remote-control", To("remote-access")),
    ("residential-proxies", To("proxy")),
    ("sect", To("cults")),
    ("sexual_education", To("sex-education")),
    ("shopping", To("shopping")),
    ("shortener", To("url-shortener")),
    ("social_networks", To("social-networking")),
    (
        "special",
        Skip(
            "a UT1 house list of one site and one pattern with no stated meaning; it fits no category",
        ),
    ),
    ("sports", To("sport")),
    ("stalkerware", To("malware-hacking")),
    ("strict_redirector", To("proxy")),
    ("strong_redirector", To("proxy")),
    ("translation", To("translation")),
    ("tricheur", To("cheating")),
    ("tricheur_pix", To("cheating")),
    ("update", To("software-updates")),
    ("violence", To("hate-speech")), // alias of agressif, so the same list
    ("vpn", To("vpn")),
    ("warez", To("piracy")),
    ("webhosting", To("web-hosting")),
    ("webmail", To("webmail")),
];

/// How schoolgate reads a UT1 category name; `None` for a name UT1 does not have.
pub fn ut1_category(ut1_name: &str) -> Option<Ut1Mapping> {
    UT1.iter()
        .find(|(name, _)| *name == ut1_name)
        .map(|(_, target)| resolve(target))
}

/// Every UT1 name schoolgate knows, with its mapping, sorted by name.
pub fn ut1_names() -> impl Iterator<Item = (&'static str, Ut1Mapping)> {
    UT1.iter().map(|(name, target)| (*name, resolve(target)))
}

fn resolve(target: &Ut1Target) -> Ut1Mapping {
    match target {
        // The table is checked by a unit test, so every id is known.
        To(id) => Category::from_id(id).map_or(
            Ut1Mapping::Ignored {
                reason: "mapped to a category schoolgate does not have",
            },
            Ut1Mapping::Category,
        ),
        Skip(reason) => Ut1Mapping::Ignored { reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UT1 snapshot in `data/README.md` (olbat/ut1-blacklists 804da92):
    /// every folder name, every alias, and every `NAME:` in `global_usage`.
    const UT1_FOLDERS: &[&str] = &[
        "adult",
        "agressif",
        "ai",
        "arjel",
        "associations_religieuses",
        "astrology",
        "audio-video",
        "bank",
        "bitcoin",
        "blog",
        "celebrity",
        "chat",
        "child",
        "cleaning",
        "cooking",
        "cryptojacking",
        "dangerous_material",
        "dating",
        "ddos",
        "dialer",
        "doh",
        "download",
        "drogue",
        "dynamic-dns",
        "educational_games",
        "examen_pix",
        "exceptions_liste_bu",
        "fakenews",
        "filehosting",
        "financial",
        "forums",
        "gambling",
        "games",
        "hacking",
        "jobsearch",
        "lingerie",
        "liste_blanche",
        "liste_bu",
        "malware",
        "manga",
        "marketingware",
        "mixed_adult",
        "mobile-phone",
        "phishing",
        "press",
        "publicite",
        "radio",
        "reaffected",
        "redirector",
        "remote-control",
        "residential-proxies",
        "sect",
        "sexual_education",
        "shopping",
        "shortener",
        "social_networks",
        "special",
        "sports",
        "stalkerware",
        "strict_redirector",
        "strong_redirector",
        "translation",
        "tricheur",
        "tricheur_pix",
        "update",
        "vpn",
        "warez",
        "webhosting",
        "webmail",
    ];

    const UT1_ALIASES: &[(&str, &str)] = &[
        ("ads", "publicite"),
        ("aggressive", "agressif"),
        ("drugs", "drogue"),
        ("mail", "forums"),
        ("porn", "adult"),
        ("proxy", "redirector"),
        ("violence", "agressif"),
    ];

    const UT1_GLOBAL_USAGE: &[&str] = &[
        "adult",
        "agressif",
        "audio-video",
        "blog",
        "cleaning",
        "dangerous_material",
        "download",
        "drogue",
        "financial",
        "forums",
        "gambling",
        "hacking",
        "liste_bu",
        "mobile-phone",
        "phishing",
        "publicite",
        "radio",
        "redirector",
        "strict_redirector",
        "strong_redirector",
        "tricheur",
        "warez",
        "webmail",
        "games",
        "educational_games",
        "mixed_adult",
        "filehosting",
        "reaffected",
        "sexual_education",
        "shopping",
        "dating",
        "marketingware",
        "astrology",
        "sect",
        "celebrity",
        "manga",
        "child",
        "malware",
        "press",
        "chat",
        "remote-control",
        "social_networks",
        "jobsearch",
        "sports",
        "bank",
        "arjel",
        "cooking",
        "lingerie",
        "translation",
        "bitcoin",
        "dialer",
        "ddos",
        "update",
        "associations_religieuses",
        "shortener",
        "cryptojacking",
        "vpn",
        "stalkerware",
        "doh",
        "examen_pix",
        "tricheur_pix",
        "residential-proxies",
        "fakenews",
        "dynamic-dns",
        "webhosting",
        "ai",
    ];

    fn cat(id: &str) -> Category {
        Category::from_id(id).unwrap_or_else(|| panic!("no category {id}"))
    }

    #[test]
    fn every_ut1_name_has_a_mapping() {
        let names = UT1_FOLDERS
            .iter()
            .chain(UT1_GLOBAL_USAGE)
            .chain(UT1_ALIASES.iter().map(|(alias, _)| alias));
        for name in names {
            assert!(
                ut1_category(name).is_some(),
                "UT1 name {name} has no mapping"
            );
        }
    }

    #[test]
    fn the_mapping_table_names_only_real_categories_and_is_sorted() {
        for (name, target) in UT1 {
            if let To(id) = target {
                assert!(
                    Category::from_id(id).is_some(),
                    "{name} maps to unknown {id}"
                );
            }
        }
        assert!(UT1.windows(2).all(|w| w[0].0 < w[1].0), "keep UT1 sorted");
        let known: Vec<&str> = UT1_FOLDERS
            .iter()
            .chain(UT1_ALIASES.iter().map(|(alias, _)| alias))
            .copied()
            .collect();
        for (name, _) in UT1 {
            assert!(known.contains(name), "{name} is not a UT1 name");
        }
    }

    #[test]
    fn an_alias_maps_where_its_target_does() {
        for (alias, target) in UT1_ALIASES {
            assert_eq!(ut1_category(alias), ut1_category(target), "{alias}");
        }
    }

    #[test]
    fn the_brief_mappings_hold() {
        let expect = [
            ("adult", "pornography"),
            ("porn", "pornography"),
            ("agressif", "hate-speech"),
            ("drogue", "drugs"),
            ("malware", "malware-hacking"),
            ("phishing", "malware-hacking"),
            ("hacking", "malware-hacking"),
            ("cryptojacking", "malware-hacking"),
            ("ddos", "malware-hacking"),
            ("stalkerware", "malware-hacking"),
            ("dialer", "malware-hacking"),
            ("warez", "piracy"),
            ("fakenews", "misinformation"),
            ("dangerous_material", "harmful-content"),
            ("redirector", "proxy"),
            ("strict_redirector", "proxy"),
            ("strong_redirector", "proxy"),
            ("residential-proxies", "proxy"),
            ("doh", "dns-over-https"),
            ("remote-control", "remote-access"),
            ("mixed_adult", "adult-themes"),
            ("lingerie", "adult-themes"),
            ("publicite", "advertising"),
            ("marketingware", "advertising"),
            ("tricheur", "cheating"),
            ("tricheur_pix", "cheating"),
            ("child", "education"),
            ("educational_games", "education"),
            ("liste_blanche", "education"),
            ("liste_bu", "education"),
            ("exceptions_liste_bu", "education"),
            ("examen_pix", "education"),
            ("sexual_education", "sex-education"),
            ("sect", "cults"),
            ("associations_religieuses", "religion"),
        ];
        for (ut1, ours) in expect {
            assert_eq!(
                ut1_category(ut1),
                Some(Ut1Mapping::Category(cat(ours))),
                "{ut1}"
            );
        }
        for ignored in ["reaffected", "special"] {
            assert!(
                matches!(ut1_category(ignored), Some(Ut1Mapping::Ignored { reason }) if !reason.is_empty())
            );
        }
        assert_eq!(ut1_category("not-a-ut1-name"), None);
        assert_eq!(ut1_category("Adult"), None, "UT1 names are lower case");
    }

    #[test]
    fn the_agreed_ids_exist_in_their_groups() {
        let groups: [(Group, &[&str]); 4] = [
            (
                Harmful,
                &[
                    "discrimination",
                    "drugs",
                    "extremism",
                    "gambling",
                    "hate-speech",
                    "malware-hacking",
                    "pornography",
                    "piracy",
                    "self-harm",
                    "violence",
                    "misinformation",
                    "harmful-content",
                    "violence-against-women-and-girls",
                ],
            ),
            (
                Circumvention,
                &["vpn", "proxy", "dns-over-https", "remote-access"],
            ),
            (
                Operational,
                &[
                    "adult-themes",
                    "dating",
                    "social-networking",
                    "chat",
                    "forums",
                    "webmail",
                    "games",
                    "streaming",
                    "shopping",
                    "generative-ai",
                    "file-hosting",
                    "downloads",
                    "advertising",
                    "url-shortener",
                    "dynamic-dns",
                    "cheating",
                    "cryptocurrency",
                    "mobile-phones",
                    "web-hosting",
                    "job-search",
                ],
            ),
            (
                Information,
                &[
                    "education",
                    "sex-education",
                    "news",
                    "sport",
                    "finance",
                    "celebrity",
                    "blogs",
                    "manga",
                    "astrology",
                    "cults",
                    "religion",
                    "translation",
                    "software-updates",
                    "cooking",
                ],
            ),
        ];
        let mut total = 0;
        for (group, ids) in groups {
            for id in ids {
                assert_eq!(cat(id).group(), group, "{id}");
                total += 1;
            }
        }
        assert_eq!(total, Category::all().len());
    }

    #[test]
    fn ids_names_and_indexes_are_consistent() {
        let mut seen_ids = std::collections::HashSet::new();
        let mut seen_names = std::collections::HashSet::new();
        for (i, &c) in Category::all().iter().enumerate() {
            assert_eq!(usize::from(c.index()), i);
            assert_eq!(Category::from_index(c.index()), Some(c));
            assert_eq!(Category::from_id(c.id()), Some(c));
            assert!(seen_ids.insert(c.id()), "duplicate id {}", c.id());
            assert!(seen_names.insert(c.name()), "duplicate name {}", c.name());
            assert!(
                c.id()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{} is not kebab-case",
                c.id()
            );
            let d = c.description();
            assert!(d.ends_with('.') && !d.contains('\n'), "{}: {d}", c.id());
        }
        assert!(Category::all().len() < 64);
        assert_eq!(Category::from_index(Category::all().len() as u8), None);
        assert_eq!(Category::from_index(255), None);
        // Display order groups the categories together, harmful first.
        let groups: Vec<Group> = Category::all().iter().map(|c| c.group()).collect();
        assert!(groups.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn category_sets_behave_like_sets() {
        let (g, p, e) = (cat("gambling"), cat("pornography"), cat("education"));
        let mut set = CategorySet::new();
        assert!(set.is_empty());
        assert!(set.insert(p));
        assert!(set.insert(g));
        assert!(!set.insert(g));
        assert_eq!(set.len(), 2);
        assert!(set.contains(g) && !set.contains(e));
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![g, p], "display order");
        let other: CategorySet = [e, g].into_iter().collect();
        assert_eq!(set.intersection(other).iter().collect::<Vec<_>>(), vec![g]);
        assert_eq!(set.union(other).len(), 3);
        assert!(set.intersects(other));
        assert!(set.remove(g));
        assert!(!set.remove(g));
        assert!(!set.intersects(other));
        assert_eq!(CategorySet::from_bits(set.bits()), set);
        assert_eq!(
            CategorySet::from_bits(u64::MAX).len(),
            Category::all().len()
        );
        let all: CategorySet = Category::all().iter().copied().collect();
        assert_eq!(all.iter().collect::<Vec<_>>(), Category::all());
    }

    #[test]
    fn unknown_ids_are_refused_with_the_valid_ones() {
        let err = "gamblin".parse::<Category>().unwrap_err().to_string();
        assert!(err.starts_with(
            "'gamblin' is not a schoolgate category; use one of: discrimination, drugs,"
        ));
        assert!(err.contains("gambling"));
    }

    #[test]
    fn serde_uses_ids() {
        let set: CategorySet = [cat("vpn"), cat("gambling")].into_iter().collect();
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(json, r#"["gambling","vpn"]"#);
        assert_eq!(serde_json::from_str::<CategorySet>(&json).unwrap(), set);
        assert_eq!(
            serde_json::to_string(&cat("self-harm")).unwrap(),
            r#""self-harm""#
        );
        assert_eq!(
            serde_json::from_str::<Category>(r#""self-harm""#).unwrap(),
            cat("self-harm")
        );
        let err = serde_json::from_str::<CategorySet>(r#"["games","porn"]"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'porn' is not a schoolgate category; use one of:"),
            "{err}"
        );
        assert!(err.contains("pornography"), "{err}");
        assert!(serde_json::from_str::<Category>("3").is_err());
    }
}
