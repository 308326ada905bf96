//! Interim taxonomy with the agreed API; the full one (names, descriptions, UT1 mapping) replaces it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const IDS: &[&str] = &[
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
    "vpn",
    "proxy",
    "dns-over-https",
    "remote-access",
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
];

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Category(u8);

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Group {
    Harmful,
    Circumvention,
    Operational,
    Information,
}

static ALL: std::sync::LazyLock<Vec<Category>> =
    std::sync::LazyLock::new(|| (0..IDS.len() as u8).map(Category).collect());

impl Category {
    pub fn all() -> &'static [Category] {
        &ALL
    }
    pub fn from_id(id: &str) -> Option<Category> {
        IDS.iter().position(|i| *i == id).map(|i| Category(i as u8))
    }
    pub fn id(self) -> &'static str {
        IDS[self.0 as usize]
    }
    pub fn name(self) -> &'static str {
        IDS[self.0 as usize]
    }
    pub fn description(self) -> &'static str {
        IDS[self.0 as usize]
    }
    pub fn group(self) -> Group {
        match self.0 {
            0..=12 => Group::Harmful,
            13..=16 => Group::Circumvention,
            17..=36 => Group::Operational,
            _ => Group::Information,
        }
    }
    pub fn index(self) -> u8 {
        self.0
    }
    pub fn from_index(i: u8) -> Option<Category> {
        ((i as usize) < IDS.len()).then_some(Category(i))
    }
}

impl Serialize for Category {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}
impl<'de> Deserialize<'de> for Category {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Category::from_id(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown category '{s}'")))
    }
}

#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, Debug)]
pub struct CategorySet(u64);

impl CategorySet {
    pub fn insert(&mut self, c: Category) {
        self.0 |= 1 << c.0
    }
    pub fn remove(&mut self, c: Category) {
        self.0 &= !(1 << c.0)
    }
    pub fn contains(self, c: Category) -> bool {
        self.0 & (1 << c.0) != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }
    pub fn union(self, o: CategorySet) -> CategorySet {
        CategorySet(self.0 | o.0)
    }
    pub fn intersection(self, o: CategorySet) -> CategorySet {
        CategorySet(self.0 & o.0)
    }
    pub fn intersects(self, o: CategorySet) -> bool {
        self.0 & o.0 != 0
    }
    pub fn iter(self) -> impl Iterator<Item = Category> {
        (0..64u8)
            .filter(move |i| self.0 & (1 << i) != 0)
            .map(Category)
    }
    pub fn bits(self) -> u64 {
        self.0
    }
    pub fn from_bits(b: u64) -> CategorySet {
        CategorySet(b)
    }
}

impl FromIterator<Category> for CategorySet {
    fn from_iter<T: IntoIterator<Item = Category>>(it: T) -> Self {
        let mut s = CategorySet::default();
        for c in it {
            s.insert(c)
        }
        s
    }
}
impl Serialize for CategorySet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}
impl<'de> Deserialize<'de> for CategorySet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<Category>::deserialize(d)?.into_iter().collect())
    }
}
