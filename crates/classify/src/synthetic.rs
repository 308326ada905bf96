//! Deterministic synthetic lists and request mixes, for benchmarks at scale.
//!
//! The real lists stop well short of the performance targets: the UT1 copy
//! the project benchmarks with holds about 680,000 entries, and the targets
//! are set for an index of five million. This module makes up the difference
//! with entries shaped like real ones (two to four labels, real top-level
//! domains, about one URL entry in twenty with one to three path segments) and
//! builds request mixes that hit and miss them the way a school's traffic
//! would. Everything comes from a fixed seed through a small splitmix64
//! generator, so every run and every machine sees the same entries.
//!
//! Nothing in the filter itself uses this module.

use std::collections::HashSet;

use xxhash_rust::xxh3::xxh3_64;

use crate::index::{Index, IndexBuilder};
use crate::lists::ImportedList;
use crate::taxonomy::Category;

/// The seed the benchmarks use, so their numbers are comparable run to run.
pub const DEFAULT_SEED: u64 = 0x5343_484f_4f4c_4741;

/// splitmix64: tiny, fast and good enough to shape test data.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn percent(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }

    /// Picks from `(item, weight)` pairs.
    fn weighted<'a>(&mut self, items: &'a [(&'a str, u32)]) -> &'a str {
        let total: u32 = items.iter().map(|&(_, w)| w).sum();
        let mut at = self.below(total as usize) as u32;
        for &(item, weight) in items {
            if at < weight {
                return item;
            }
            at -= weight;
        }
        items[items.len() - 1].0
    }
}

/// Top-level domains weighted roughly as they appear in block lists. The
/// two-label ones (`co.uk`) count towards a domain's labels.
const TLDS: &[(&str, u32)] = &[
    ("com", 400),
    ("net", 80),
    ("org", 50),
    ("ru", 45),
    ("de", 35),
    ("info", 35),
    ("fr", 30),
    ("co.uk", 25),
    ("nl", 15),
    ("it", 15),
    ("pl", 15),
    ("br", 10),
    ("com.br", 12),
    ("es", 12),
    ("xyz", 15),
    ("top", 15),
    ("online", 10),
    ("site", 8),
    ("biz", 10),
    ("io", 8),
    ("co", 8),
    ("me", 6),
    ("tv", 6),
    ("cc", 5),
    ("us", 6),
    ("eu", 5),
    ("jp", 6),
    ("co.jp", 3),
    ("cn", 8),
    ("com.cn", 3),
    ("in", 6),
    ("co.in", 2),
    ("com.au", 5),
    ("ca", 5),
    ("ch", 4),
    ("be", 4),
    ("at", 3),
    ("cz", 4),
    ("se", 3),
    ("dk", 3),
    ("ro", 3),
    ("hu", 3),
    ("ua", 4),
    ("tk", 5),
    ("club", 4),
    ("live", 4),
    ("org.uk", 3),
    ("uk", 3),
    ("co.za", 2),
    ("ws", 2),
    ("to", 2),
    ("gg", 1),
    ("fm", 1),
];

/// Words that domain names are made of.
const WORDS: &[&str] = &[
    "best", "free", "top", "my", "the", "online", "web", "net", "site", "world", "city", "home",
    "live", "play", "game", "games", "win", "bet", "casino", "poker", "slots", "lucky", "jackpot",
    "bingo", "sport", "sports", "odds", "tips", "video", "videos", "tube", "movie", "movies",
    "film", "stream", "tv", "music", "mp3", "radio", "photo", "pics", "gallery", "cam", "chat",
    "date", "dating", "love", "friends", "meet", "social", "blog", "news", "daily", "times",
    "post", "press", "media", "shop", "store", "deals", "cheap", "sale", "market", "buy", "pay",
    "cash", "money", "loan", "crypto", "coin", "trade", "forex", "bank", "secure", "login",
    "account", "update", "verify", "support", "help", "service", "cloud", "host", "server",
    "proxy", "vpn", "hide", "anon", "unblock", "tunnel", "gate", "mirror", "torrent", "download",
    "files", "share", "upload", "soft", "apps", "app", "android", "mobile", "phone", "tech",
    "code", "hack", "crack", "keygen", "serial", "warez", "anime", "manga", "comic", "fan", "club",
    "team", "group", "link", "links", "click", "ads", "ad", "track", "stats", "metric", "pixel",
    "promo", "offer", "bonus", "prize", "gift", "quiz", "test", "health", "diet", "pill", "pharma",
    "med", "shop24", "express", "direct", "plus", "pro", "max", "hub", "zone", "land", "spot",
    "place", "point", "center", "base", "box", "lab", "studio", "works", "team", "travel", "hotel",
    "car", "auto", "moto", "bike", "food", "recipe", "wine", "beer", "smoke", "vape", "weed",
    "green", "red", "blue", "black", "gold", "star", "sun", "moon", "fire", "ice", "dragon",
    "tiger", "wolf", "king", "queen", "angel", "devil", "dark", "night", "party", "fun", "crazy",
    "funny", "cool", "hot", "new", "old", "big", "mega", "super", "ultra", "real", "true", "fast",
    "easy", "smart", "global", "euro", "asia", "africa", "paris", "london", "berlin", "moscow",
    "tokyo", "york", "school", "kids", "teen", "student", "learn", "edu", "wiki", "info", "guide",
    "review", "forum", "board", "talk", "voice",
];

/// First labels of subdomains.
const SUBDOMAINS: &[(&str, u32)] = &[
    ("www", 300),
    ("m", 40),
    ("mobile", 10),
    ("cdn", 25),
    ("static", 20),
    ("img", 20),
    ("images", 10),
    ("media", 15),
    ("api", 20),
    ("mail", 15),
    ("webmail", 5),
    ("shop", 15),
    ("blog", 20),
    ("news", 10),
    ("forum", 10),
    ("app", 15),
    ("login", 10),
    ("secure", 10),
    ("video", 10),
    ("live", 10),
    ("en", 15),
    ("fr", 8),
    ("de", 8),
    ("ru", 8),
    ("uk", 5),
    ("us", 5),
    ("ads", 15),
    ("track", 10),
    ("s1", 5),
    ("s2", 5),
    ("dl", 8),
];

const SYLLABLE_START: &[&str] = &[
    "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br",
    "ch", "cl", "cr", "dr", "fl", "gr", "kr", "pl", "pr", "sh", "sk", "sl", "sp", "st", "th", "tr",
    "",
];
const SYLLABLE_VOWEL: &[&str] = &[
    "a", "e", "i", "o", "u", "a", "e", "o", "ai", "ea", "ee", "oo", "ou", "ia", "y",
];
const SYLLABLE_END: &[&str] = &[
    "", "", "", "n", "r", "s", "t", "x", "l", "m", "ck", "ng", "st", "nd",
];

/// Path segments of URL entries and requests.
const PATH_WORDS: &[&str] = &[
    "index",
    "home",
    "news",
    "article",
    "articles",
    "post",
    "posts",
    "forum",
    "thread",
    "topic",
    "video",
    "videos",
    "watch",
    "play",
    "games",
    "game",
    "download",
    "downloads",
    "files",
    "file",
    "user",
    "users",
    "profile",
    "members",
    "gallery",
    "photos",
    "images",
    "img",
    "static",
    "assets",
    "js",
    "css",
    "search",
    "results",
    "category",
    "tag",
    "tags",
    "page",
    "pages",
    "blog",
    "wiki",
    "en",
    "fr",
    "de",
    "proxy",
    "browse",
    "casino",
    "bet",
    "poker",
    "sport",
    "shop",
    "product",
    "products",
    "cart",
    "login",
    "account",
    "signup",
    "register",
    "chat",
    "room",
    "live",
    "stream",
    "embed",
    "share",
    "go",
    "out",
    "redirect",
    "link",
    "click",
    "ads",
    "banner",
    "promo",
    "offer",
    "free",
    "cheats",
    "hack",
    "tools",
    "apps",
    "api",
    "v1",
    "v2",
];
const PATH_ENDINGS: &[(&str, u32)] = &[
    ("", 60),
    (".html", 15),
    (".php", 10),
    (".htm", 4),
    (".aspx", 3),
    (".jpg", 4),
    (".js", 2),
    (".css", 2),
];
const QUERY_KEYS: &[&str] = &[
    "q",
    "id",
    "p",
    "page",
    "s",
    "ref",
    "utm_source",
    "lang",
    "t",
    "v",
    "cat",
    "sort",
    "session",
    "search",
    "u",
    "url",
    "from",
    "hl",
    "start",
    "limit",
];

/// Well-known sites a school's traffic is mostly made of. Some may be listed
/// (UT1 files video sites, social networks, webmail); the benchmarks count
/// what actually matched rather than assuming.
const EVERYDAY_HOSTS: &[&str] = &[
    "www.google.com",
    "www.google.co.uk",
    "docs.google.com",
    "classroom.google.com",
    "drive.google.com",
    "accounts.google.com",
    "www.bbc.co.uk",
    "www.bbc.com",
    "en.wikipedia.org",
    "en.m.wikipedia.org",
    "www.gov.uk",
    "login.microsoftonline.com",
    "outlook.office365.com",
    "teams.microsoft.com",
    "www.microsoft.com",
    "www.office.com",
    "www.apple.com",
    "www.amazon.co.uk",
    "www.theguardian.com",
    "www.nationalgeographic.com",
    "www.tes.com",
    "www.twinkl.co.uk",
    "www.purplemash.com",
    "play.numbots.com",
    "ttrockstars.com",
    "www.spellingshed.com",
    "www.mathletics.com",
    "www.sumdog.com",
    "www.duolingo.com",
    "scratch.mit.edu",
    "code.org",
    "www.khanacademy.org",
    "www.britannica.com",
    "kids.britannica.com",
    "www.metoffice.gov.uk",
    "www.nhs.uk",
    "www.childline.org.uk",
    "fonts.googleapis.com",
    "fonts.gstatic.com",
    "ajax.googleapis.com",
    "cdn.jsdelivr.net",
    "cdnjs.cloudflare.com",
    "update.googleapis.com",
    "ocsp.digicert.com",
    "ctldl.windowsupdate.com",
    "www.gstatic.com",
    "ssl.gstatic.com",
    "clients2.google.com",
    "safebrowsing.googleapis.com",
    "www.w3schools.com",
];

/// A synthetic list: one category's made-up entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntheticList {
    pub name: String,
    pub category: Category,
    /// Canonical hosts.
    pub domains: Vec<String>,
    /// Canonical URL keys, `host/path`.
    pub urls: Vec<String>,
}

/// Categories of the synthetic lists and their shares, roughly UT1's own
/// proportions once its largest lists (adult, phishing, malware) are counted.
const LIST_SHARES: &[(&str, u32)] = &[
    ("pornography", 48),
    ("malware-hacking", 18),
    ("advertising", 8),
    ("gambling", 5),
    ("shopping", 3),
    ("games", 3),
    ("dating", 2),
    ("drugs", 1),
    ("proxy", 2),
    ("vpn", 1),
    ("piracy", 2),
    ("social-networking", 1),
    ("streaming", 2),
    ("news", 2),
    ("cryptocurrency", 1),
    ("url-shortener", 1),
];

/// Makes up list entries and requests. Entries are distinct from each other
/// and from any entry given to [`Generator::reserve`].
#[derive(Debug)]
pub struct Generator {
    rng: Rng,
    seen: HashSet<u64>,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Generator {
            rng: Rng::new(seed),
            seen: HashSet::new(),
        }
    }

    /// Marks an existing entry (a canonical host or URL key) so the generator
    /// never makes it up again. Returns whether it was new, so a caller can
    /// count the distinct entries of lists that overlap.
    pub fn reserve(&mut self, entry: &str) -> bool {
        self.fresh(entry)
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    fn word(&mut self, out: &mut String) {
        let rng = &mut self.rng;
        match rng.below(100) {
            // Two words, sometimes hyphenated: `freegames`, `best-casino`.
            0..=39 => {
                out.push_str(rng.pick_str(WORDS));
                if rng.percent(25) {
                    out.push('-');
                }
                out.push_str(rng.pick_str(WORDS));
            }
            // A word and a number: `casino777`, `bet365`.
            40..=54 => {
                out.push_str(rng.pick_str(WORDS));
                if rng.percent(20) {
                    out.push('-');
                }
                let digits = 1 + rng.below(4);
                for _ in 0..digits {
                    out.push((b'0' + rng.below(10) as u8) as char);
                }
            }
            // Three words: `freeonlinegames`.
            55..=69 => {
                for i in 0..3 {
                    if i > 0 && rng.percent(15) {
                        out.push('-');
                    }
                    out.push_str(rng.pick_str(WORDS));
                }
            }
            // A made-up brand of two to four syllables: `brantoxa`.
            _ => {
                let syllables = 2 + rng.below(3);
                for _ in 0..syllables {
                    out.push_str(rng.pick_str(SYLLABLE_START));
                    out.push_str(rng.pick_str(SYLLABLE_VOWEL));
                    out.push_str(rng.pick_str(SYLLABLE_END));
                }
            }
        }
    }

    /// A registrable name: one label and a TLD, such as `freegames24.co.uk`.
    fn registrable(&mut self, out: &mut String) {
        self.word(out);
        out.push('.');
        out.push_str(self.rng.weighted(TLDS));
    }

    /// A host of two to four labels (about 55%, 33% and 12%).
    pub fn domain(&mut self) -> String {
        let mut out = String::with_capacity(32);
        let labels = match self.rng.below(100) {
            0..=54 => 2,
            55..=87 => 3,
            _ => 4,
        };
        let mut name = String::with_capacity(24);
        self.registrable(&mut name);
        let mut have = name.bytes().filter(|&b| b == b'.').count() + 1;
        while have < labels {
            if have + 1 == labels {
                out.push_str(self.rng.weighted(SUBDOMAINS));
            } else {
                self.word(&mut out);
            }
            out.push('.');
            have += 1;
        }
        out.push_str(&name);
        out
    }

    /// One to `max` path segments, each `/word`, `/word-word`, `/123` or the like.
    fn path(&mut self, out: &mut String, min: usize, max: usize) {
        let segments = min + self.rng.below(max - min + 1);
        for i in 0..segments {
            out.push('/');
            let rng = &mut self.rng;
            match rng.below(10) {
                0..=4 => out.push_str(rng.pick_str(PATH_WORDS)),
                5..=6 => {
                    out.push_str(rng.pick_str(PATH_WORDS));
                    out.push('-');
                    out.push_str(rng.pick_str(WORDS));
                }
                7 => {
                    let n = rng.below(1_000_000);
                    out.push_str(&n.to_string());
                }
                8 => {
                    out.push_str(rng.pick_str(WORDS));
                    out.push_str(&rng.below(1000).to_string());
                }
                _ => out.push_str(rng.pick_str(WORDS)),
            }
            if i + 1 == segments {
                out.push_str(rng.weighted(PATH_ENDINGS));
            }
        }
    }

    /// A URL entry: a host and one to three path segments, sometimes with a
    /// trailing `/` as UT1's own URL lists often have.
    fn url_entry(&mut self, host: &str) -> String {
        let mut out = String::with_capacity(host.len() + 32);
        out.push_str(host);
        self.path(&mut out, 1, 3);
        if !out.ends_with(".html") && !out.ends_with(".php") && self.rng.percent(30) {
            out.push('/');
        }
        out
    }

    /// Whether an entry is new. The index matches URL entries without a
    /// leading `www.` or a trailing `/`, so those do not make an entry new.
    fn fresh(&mut self, entry: &str) -> bool {
        let key = match entry.find('/') {
            Some(slash) => {
                let key = &entry[..(slash + 1).max(entry.trim_end_matches('/').len())];
                key.strip_prefix("www.").unwrap_or(key)
            }
            None => entry,
        };
        self.seen.insert(xxh3_64(key.as_bytes()))
    }

    /// `count` distinct entries spread over lists by category, about one in
    /// twenty of them URL entries (one to three for each of their hosts).
    pub fn lists(&mut self, count: usize) -> Vec<SyntheticList> {
        let total_share: u32 = LIST_SHARES.iter().map(|&(_, s)| s).sum();
        let mut lists: Vec<SyntheticList> = LIST_SHARES
            .iter()
            .map(|&(id, _)| SyntheticList {
                name: format!("synthetic/{id}"),
                category: Category::from_id(id)
                    .unwrap_or_else(|| panic!("synthetic list category '{id}' is unknown")),
                domains: Vec::new(),
                urls: Vec::new(),
            })
            .collect();
        let shares: Vec<(usize, u32)> = LIST_SHARES
            .iter()
            .enumerate()
            .map(|(i, &(_, s))| (i, s))
            .collect();
        let mut made = 0;
        while made < count {
            let mut at = self.rng.below(total_share as usize) as u32;
            let mut list = shares.len() - 1;
            for &(i, share) in &shares {
                if at < share {
                    list = i;
                    break;
                }
                at -= share;
            }
            let host = self.domain();
            if self.rng.percent(4) {
                // A URL-entry host: itself unlisted, with a few listed paths.
                let host = if self.rng.percent(30) && !host.starts_with("www.") {
                    format!("www.{host}")
                } else {
                    host
                };
                let paths = 1 + self.rng.below(2) + usize::from(self.rng.percent(20));
                for _ in 0..paths {
                    if made == count {
                        break;
                    }
                    let url = self.url_entry(&host);
                    if self.fresh(&url) {
                        lists[list].urls.push(url);
                        made += 1;
                    }
                }
            } else if self.fresh(&host) {
                lists[list].domains.push(host);
                made += 1;
            }
        }
        lists
    }

    /// A request path with perhaps a query: `/`, `/news/article-123.html`,
    /// `/search?q=games&page=2`.
    fn request_tail(&mut self, out: &mut String) {
        if self.rng.percent(20) {
            out.push('/');
        } else {
            self.path(out, 1, 4);
        }
        if self.rng.percent(30) {
            let params = 1 + self.rng.below(3);
            for i in 0..params {
                out.push(if i == 0 { '?' } else { '&' });
                out.push_str(self.rng.pick_str(QUERY_KEYS));
                out.push('=');
                if self.rng.percent(50) {
                    out.push_str(self.rng.pick_str(WORDS));
                } else {
                    out.push_str(&self.rng.below(100_000).to_string());
                }
            }
        }
    }

    fn scheme(&mut self, out: &mut String) {
        out.push_str(if self.rng.percent(70) {
            "https://"
        } else {
            "http://"
        });
    }

    /// Writes a host as a browser might send it: now and then in capitals.
    fn push_host(&mut self, out: &mut String, host: &str) {
        if self.rng.percent(5) {
            out.push_str(&host.to_ascii_uppercase());
        } else {
            out.push_str(host);
        }
    }

    /// A request for a listed domain: the domain itself or a subdomain of it.
    pub fn request_on_domain(&mut self, domain: &str) -> String {
        let mut out = String::with_capacity(domain.len() + 48);
        self.scheme(&mut out);
        // An address (UT1 lists some) has no subdomains.
        let address = domain.ends_with(|c: char| c.is_ascii_digit());
        if !address && self.rng.percent(50) {
            let sub = if self.rng.percent(50) {
                "www"
            } else {
                self.rng.weighted(SUBDOMAINS)
            };
            out.push_str(sub);
            out.push('.');
        }
        self.push_host(&mut out, domain);
        self.request_tail(&mut out);
        out
    }

    /// A request under a listed URL entry: the entry itself, a page below it
    /// or the entry with a query.
    pub fn request_on_url(&mut self, entry: &str) -> String {
        let mut out = String::with_capacity(entry.len() + 48);
        self.scheme(&mut out);
        let (host, path) = entry.split_at(entry.find('/').unwrap_or(entry.len()));
        self.push_host(&mut out, host);
        out.push_str(path);
        match self.rng.below(10) {
            0..=3 => {}
            4..=6 => {
                let trimmed = out.trim_end_matches('/').len();
                out.truncate(trimmed);
                self.path(&mut out, 1, 2);
            }
            _ => {
                out.push_str("?id=");
                out.push_str(&self.rng.below(100_000).to_string());
            }
        }
        out
    }

    /// A request that no list should hold: a made-up site the lists do not
    /// name, or an everyday site.
    pub fn request_elsewhere(&mut self) -> String {
        let mut out = String::with_capacity(80);
        self.scheme(&mut out);
        if self.rng.percent(30) {
            let host = self.rng.pick_str(EVERYDAY_HOSTS);
            self.push_host(&mut out, host);
        } else {
            loop {
                let host = self.domain();
                if !self.seen.contains(&xxh3_64(host.as_bytes())) {
                    self.push_host(&mut out, &host);
                    break;
                }
            }
        }
        self.request_tail(&mut out);
        out
    }
}

/// A request mix: about half requests on listed entries (a third each on
/// listed domains, their subdomains and listed URL prefixes) and half
/// elsewhere, shuffled. `domains` and `urls` are samples of listed entries.
pub fn request_mix(
    generator: &mut Generator,
    domains: &[&str],
    urls: &[&str],
    count: usize,
) -> Vec<String> {
    let mut requests = Vec::with_capacity(count);
    for _ in 0..count {
        let roll = generator.rng.below(100);
        let request = if roll < 50 || (domains.is_empty() && urls.is_empty()) {
            generator.request_elsewhere()
        } else if roll < 83 || urls.is_empty() {
            let domain = *generator.rng.pick(domains);
            generator.request_on_domain(domain)
        } else {
            let url = *generator.rng.pick(urls);
            generator.request_on_url(url)
        };
        requests.push(request);
    }
    requests
}

/// Every `step`th item, for sampling listed entries without copying them all.
pub fn sample<'a>(items: &'a [String], step: usize, out: &mut Vec<&'a str>) {
    out.extend(items.iter().step_by(step.max(1)).map(String::as_str));
}

/// The lists of a benchmark index: real ones (UT1) when there are any, topped
/// up with synthetic entries to a number of distinct entries.
#[derive(Debug)]
pub struct ScaleLists {
    pub real: Vec<ImportedList>,
    /// Entries of the real lists, each counted once however many lists hold it.
    pub real_distinct: usize,
    pub synthetic: Vec<SyntheticList>,
    generator: Generator,
}

impl ScaleLists {
    /// `real` lists plus synthetic ones from `seed`, `entries` distinct
    /// entries in all (as the index counts them).
    pub fn new(real: Vec<ImportedList>, entries: usize, seed: u64) -> Self {
        let mut generator = Generator::new(seed);
        let mut real_distinct = 0;
        for list in &real {
            for entry in list.domains.iter().chain(&list.urls) {
                real_distinct += usize::from(generator.reserve(entry));
            }
        }
        let synthetic = generator.lists(entries.saturating_sub(real_distinct));
        ScaleLists {
            real,
            real_distinct,
            synthetic,
            generator,
        }
    }

    /// Every list as `(name, category, domains, urls)`.
    fn each(&self) -> impl Iterator<Item = (&str, Category, &[String], &[String])> {
        let real = self
            .real
            .iter()
            .map(|l| (l.name.as_str(), l.category, &l.domains[..], &l.urls[..]));
        let synthetic = self
            .synthetic
            .iter()
            .map(|l| (l.name.as_str(), l.category, &l.domains[..], &l.urls[..]));
        real.chain(synthetic)
    }

    /// How many domain and URL entries the lists hold, repeats across lists included.
    pub fn counts(&self) -> (usize, usize) {
        self.each().fold((0, 0), |(d, u), (_, _, ds, us)| {
            (d + ds.len(), u + us.len())
        })
    }

    /// Compiles every list into one index.
    pub fn build_index(&self) -> Index {
        let mut builder = IndexBuilder::new();
        for (name, category, domains, urls) in self.each() {
            builder
                .add_list(
                    name,
                    Some(category),
                    domains.iter().map(String::as_str),
                    urls.iter().map(String::as_str),
                )
                .unwrap_or_else(|e| panic!("list {name} does not compile: {e}"));
        }
        builder.build()
    }

    /// A [`request_mix`] of `count` requests on entries sampled evenly from
    /// every list, real and synthetic.
    pub fn requests(&mut self, count: usize) -> Vec<String> {
        let (all_domains, all_urls) = self.counts();
        let domain_step = (all_domains / 200_000).max(1);
        let url_step = (all_urls / 50_000).max(1);
        let (mut domains, mut urls) = (Vec::new(), Vec::new());
        let lists = self
            .real
            .iter()
            .map(|l| (&l.domains, &l.urls))
            .chain(self.synthetic.iter().map(|l| (&l.domains, &l.urls)));
        for (d, u) in lists {
            sample(d, domain_step, &mut domains);
            sample(u, url_step, &mut urls);
        }
        request_mix(&mut self.generator, &domains, &urls, count)
    }

    /// Up to `count` URL entries spread over the lists, to stand in for a
    /// statutory list of that size.
    pub fn url_sample(&self, count: usize) -> Vec<String> {
        let (_, urls) = self.counts();
        self.each()
            .flat_map(|(_, _, _, urls)| urls.iter())
            .step_by((urls / count.max(1)).max(1))
            .take(count)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canon::{CanonUrl, canonical_host};

    #[test]
    fn the_same_seed_gives_the_same_lists() {
        let a = Generator::new(7).lists(2_000);
        let b = Generator::new(7).lists(2_000);
        assert_eq!(a, b);
        let c = Generator::new(8).lists(2_000);
        assert_ne!(a, c);
    }

    #[test]
    fn entries_are_distinct_canonical_and_shaped_like_real_ones() {
        let lists = Generator::new(DEFAULT_SEED).lists(20_000);
        let mut all = HashSet::new();
        let (mut domains, mut urls) = (0, 0);
        let mut labels = [0usize; 8];
        for list in &lists {
            for d in &list.domains {
                assert!(all.insert(d.clone()), "{d} twice");
                assert_eq!(canonical_host(d).as_deref(), Ok(d.as_str()));
                labels[d.split('.').count().min(7)] += 1;
                domains += 1;
            }
            for u in &list.urls {
                assert!(all.insert(u.clone()), "{u} twice");
                let parsed = CanonUrl::parse(u).expect("a URL entry parses");
                assert!(!parsed.path().is_empty() && parsed.path() != "/", "{u}");
                urls += 1;
            }
        }
        assert_eq!(domains + urls, 20_000);
        let url_share = urls as f64 / 20_000.0;
        assert!((0.03..0.08).contains(&url_share), "{url_share}");
        assert_eq!(labels[0] + labels[1] + labels[5] + labels[6] + labels[7], 0);
        assert!(labels[2] > labels[3] && labels[3] > labels[4] && labels[4] > 0);
    }

    #[test]
    fn requests_parse() {
        let mut generator = Generator::new(1);
        let lists = generator.lists(1_000);
        let mut domains = Vec::new();
        let mut urls = Vec::new();
        for list in &lists {
            sample(&list.domains, 1, &mut domains);
            sample(&list.urls, 1, &mut urls);
        }
        let mut url = CanonUrl::default();
        for request in request_mix(&mut generator, &domains, &urls, 2_000) {
            url.parse_into(&request)
                .unwrap_or_else(|e| panic!("{request}: {e}"));
        }
    }
}
