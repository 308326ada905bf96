//! The compiled index: every list entry as a 64-bit fingerprint in
//! open-addressing tables, so a lookup is a handful of probes into flat arrays.
//!
//! Two kinds of entry, hashed with different seeds:
//!
//! * **domain** entries (`example.com`) match the host and every subdomain of
//!   it, so a lookup probes each suffix of the host (`a.b.example.com`,
//!   `b.example.com`, `example.com`, `com`);
//! * **URL** entries (`example.com/path`) match that host (a leading `www.` is
//!   ignored on both sides) and every URL below the path, at `/` boundaries, so
//!   `example.com/path` matches `/path`, `/path/x` and `/path?q` but not
//!   `/pathology`. An entry with a query matches that query exactly.
//!
//! Only hosts that have URL entries are probed for them: a small table of
//! their fingerprints (the same as the host's own domain fingerprint, which a
//! lookup has already computed) says which hosts those are, which keeps the
//! common lookup to the domain probes alone.
//!
//! The tables are laid out for memory, which is what a lookup in five million
//! entries waits on. Each table is an array of 64-byte buckets, one cache line
//! each, holding five fingerprints with their labels, so a probe reads one
//! line whether it hits or misses (a bucket says when entries spilled past it,
//! so most misses stop at the first line too). In front of each table is a
//! small Bloom filter (14 bits an entry, about 1% false positives) that stays
//! in the processor's cache: most suffixes of most hosts are in no list, and
//! the filter says so without going to main memory. Domain entries, URL
//! entries and entries without a dot (top-level domains such as `xxx`) have a
//! table each, so the last suffix of every host and the URL entries, which are
//! few, are looked up in small tables. The buckets a host's suffixes need are
//! all asked for before any is examined, so their cache misses overlap
//! instead of following one another. The filters are rebuilt when an index is
//! opened, not saved.
//!
//! Fingerprints are xxh3 with fixed seeds, stable across runs so the table can
//! be saved and reopened. Two different keys share a fingerprint with
//! probability 2^-64 per comparison; at two million lookups a second that is
//! one false match in many thousands of years, which we accept in return for
//! a table a quarter the size of one that keeps the strings.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use xxhash_rust::xxh3::{Xxh3Default, xxh3_64_with_seed};

use crate::canon::{CanonUrl, HostKind};
use crate::taxonomy::{Category, CategorySet};

const DOMAIN_SEED: u64 = 0x5343_484f_4f4c_4431;
const URL_SEED: u64 = 0x5343_484f_4f4c_5531;

/// The file format's first bytes and version; bump the version on any change.
const MAGIC: &[u8; 8] = b"SGINDEX\0";
const VERSION: u32 = 3;

/// The most hits a lookup reports one by one; categories are still gathered
/// from every hit beyond it.
pub const MAX_HITS: usize = 8;

/// A list's number within an index.
pub type ListId = u16;

/// What the index knows of a list it was built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListInfo {
    /// The list's name, such as `ut1/gambling` or `overrides/ks2/allow`.
    pub name: String,
    /// The category the list puts its entries in; none for override lists.
    pub category: Option<Category>,
    /// How many domain entries it added.
    pub domains: u64,
    /// How many URL entries it added.
    pub urls: u64,
}

/// Why an index could not be built, saved or opened.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("could not {action} the index file {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the index file {path} is damaged or from another version ({reason}); rebuild it with `schoolgate lists rebuild`"
    )]
    Corrupt { path: String, reason: String },
    #[error("an index can hold at most {max} lists; merge some lists before importing more")]
    TooManyLists { max: usize },
    #[error("'{entry}' in list {list} is not a canonical URL entry (it has no '/')")]
    BadUrlEntry { list: String, entry: String },
}

/// Whether a hit came from a domain entry or a URL entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    Domain,
    Url,
}

/// One entry that matched, located within the URL that was looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub kind: EntryKind,
    /// Domain: the entry is `host[start..]`. URL: the entry is the match key
    /// (host without `www.`, then path and query) from `start` to `end`.
    start: u16,
    end: u16,
    label: u32,
}

/// What a lookup found: the union of the categories and the hits themselves.
#[derive(Clone, Copy, Debug)]
pub struct Classification {
    pub categories: CategorySet,
    hits: [Hit; MAX_HITS],
    len: u8,
    /// More entries matched than [`MAX_HITS`]; their categories are included.
    pub truncated: bool,
}

impl Classification {
    const EMPTY_HIT: Hit = Hit {
        kind: EntryKind::Domain,
        start: 0,
        end: 0,
        label: 0,
    };

    fn new() -> Self {
        Classification {
            categories: CategorySet::default(),
            hits: [Self::EMPTY_HIT; MAX_HITS],
            len: 0,
            truncated: false,
        }
    }

    /// The entries that matched, most specific domain first then URL prefixes
    /// from shortest to longest.
    pub fn hits(&self) -> &[Hit] {
        &self.hits[..self.len as usize]
    }

    /// Whether any entry matched.
    pub fn is_listed(&self) -> bool {
        self.len > 0
    }

    fn push(&mut self, hit: Hit, categories: CategorySet) {
        self.categories = self.categories.union(categories);
        if (self.len as usize) < MAX_HITS {
            self.hits[self.len as usize] = hit;
            self.len += 1;
        } else {
            self.truncated = true;
        }
    }
}

/// A hit spelled out for an explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HitDetail<'a> {
    pub kind: EntryKind,
    /// The list entry as it matched, such as `example.com` or `example.com/path`.
    pub entry: String,
    /// Every list that holds the entry.
    pub lists: Vec<&'a ListInfo>,
}

/// Slots in a bucket: five fingerprints, their labels and the overflow mark
/// fill one 64-byte cache line exactly.
const BUCKET_SLOTS: usize = 5;

/// One cache line of a [`FingerprintTable`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, align(64))]
struct Bucket {
    /// Zero marks an empty slot.
    fingerprints: [u64; BUCKET_SLOTS],
    labels: [u32; BUCKET_SLOTS],
    /// 1 when an entry that started its probe here or earlier was placed in a
    /// later bucket, so a lookup that misses here must look on; 0 ends it.
    overflow: u32,
}

/// Bytes of one bucket in the saved file.
const BUCKET_BYTES: usize = 64;

/// An open-addressing table of fingerprints in buckets of one cache line,
/// probed bucket by bucket, with a filter in front of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct FingerprintTable {
    buckets: Vec<Bucket>,
    len: usize,
    /// Rebuilt from the buckets, never saved.
    filter: Prefilter,
}

/// Where among `count` buckets (or filter words) a fingerprint belongs: the
/// high half of a 128-bit product spreads it over any count, not only powers
/// of two.
#[inline]
fn home(fingerprint: u64, count: usize) -> usize {
    ((fingerprint as u128 * count as u128) >> 64) as usize
}

impl FingerprintTable {
    /// A table of distinct fingerprints and their labels.
    fn with_entries(entries: &[(u64, u32)]) -> Self {
        if entries.is_empty() {
            return FingerprintTable::default();
        }
        // A load of 3/4 leaves most buckets with room, so most lookups read
        // one line; there is always a bucket with room, which ends every probe.
        let count = (entries.len() * 4 / 3 + 1).div_ceil(BUCKET_SLOTS);
        let mut buckets = vec![Bucket::default(); count];
        for &(fingerprint, label) in entries {
            let mut at = home(fingerprint, count);
            loop {
                let bucket = &mut buckets[at];
                if let Some(slot) = bucket.fingerprints.iter().position(|&f| f == 0) {
                    bucket.fingerprints[slot] = fingerprint;
                    bucket.labels[slot] = label;
                    break;
                }
                bucket.overflow = 1;
                at += 1;
                if at == count {
                    at = 0;
                }
            }
        }
        let mut table = FingerprintTable {
            buckets,
            len: entries.len(),
            filter: Prefilter::default(),
        };
        table.filter = Prefilter::for_table(&table);
        table
    }

    /// False when the table certainly does not hold the fingerprint, which
    /// the filter answers from cache; call it before [`FingerprintTable::get`]
    /// where most lookups miss.
    #[inline]
    fn may_contain(&self, fingerprint: u64) -> bool {
        self.filter.may_contain(fingerprint)
    }

    #[inline]
    fn get(&self, fingerprint: u64) -> Option<u32> {
        let count = self.buckets.len();
        if count == 0 {
            return None;
        }
        let mut at = home(fingerprint, count);
        loop {
            let bucket = &self.buckets[at];
            for slot in 0..BUCKET_SLOTS {
                if bucket.fingerprints[slot] == fingerprint {
                    return Some(bucket.labels[slot]);
                }
            }
            if bucket.overflow == 0 {
                return None;
            }
            at += 1;
            if at == count {
                at = 0;
            }
        }
    }

    /// Reads a word of the bucket a lookup of `fingerprint` starts at. The
    /// caller folds the words into [`std::hint::black_box`]: the reads go out
    /// to memory together, and the lookups that follow find the lines cached.
    #[inline]
    fn touch(&self, fingerprint: u64) -> u64 {
        let count = self.buckets.len();
        if count == 0 {
            return 0;
        }
        self.buckets[home(fingerprint, count)].fingerprints[0]
    }

    fn len(&self) -> usize {
        self.len
    }

    fn memory_bytes(&self) -> usize {
        self.buckets.len() * std::mem::size_of::<Bucket>() + self.filter.memory_bytes()
    }
}

/// A blocked Bloom filter over a table's fingerprints, small enough to stay
/// in the processor's cache: most suffixes of most hosts are in no list, and
/// the filter says so without a trip to main memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Prefilter {
    /// One 64-bit block per word.
    words: Vec<u64>,
}

impl Prefilter {
    /// Bits of filter per entry: about 1% of absent keys pass at 14, and
    /// five million entries take 8.3 MiB.
    const BITS_PER_ENTRY: usize = 14;

    fn for_table(table: &FingerprintTable) -> Self {
        if table.len == 0 {
            return Prefilter::default();
        }
        let words = (table.len * Self::BITS_PER_ENTRY).div_ceil(64);
        let mut filter = Prefilter {
            words: vec![0; words],
        };
        for bucket in &table.buckets {
            for &f in &bucket.fingerprints {
                if f != 0 {
                    let (word, mask) = filter.place(f);
                    filter.words[word] |= mask;
                }
            }
        }
        filter
    }

    /// The word and the three bits a fingerprint sets. The word comes from
    /// the fingerprint's top bits, the bits from its bottom ones.
    #[inline]
    fn place(&self, fingerprint: u64) -> (usize, u64) {
        let word = home(fingerprint, self.words.len());
        let mask = (1u64 << (fingerprint & 63))
            | (1u64 << ((fingerprint >> 6) & 63))
            | (1u64 << ((fingerprint >> 12) & 63));
        (word, mask)
    }

    /// False when the fingerprint is certainly not in the table.
    #[inline]
    fn may_contain(&self, fingerprint: u64) -> bool {
        if self.words.is_empty() {
            return false;
        }
        let (word, mask) = self.place(fingerprint);
        self.words[word] & mask == mask
    }

    fn memory_bytes(&self) -> usize {
        self.words.len() * 8
    }
}

/// A fingerprint is never zero, which marks empty slots.
#[inline]
fn fingerprint(bytes: &[u8], seed: u64) -> u64 {
    match xxh3_64_with_seed(bytes, seed) {
        0 => 1,
        f => f,
    }
}

/// The part of a host that URL entries are keyed on: without a leading `www.`.
#[inline]
fn url_host(host: &str) -> &str {
    host.strip_prefix("www.").unwrap_or(host)
}

/// Collects lists and compiles them into an [`Index`].
#[derive(Debug, Default)]
pub struct IndexBuilder {
    lists: Vec<ListInfo>,
    /// Domain entries with a dot.
    domains: Vec<(u64, ListId)>,
    /// Domain entries without one: top-level domains, bare IPv6 addresses.
    short_domains: Vec<(u64, ListId)>,
    urls: Vec<(u64, ListId)>,
    url_hosts: Vec<u64>,
}

impl IndexBuilder {
    pub fn new() -> Self {
        IndexBuilder::default()
    }

    /// Adds a list. `domains` are canonical hosts; `urls` are canonical URL
    /// keys (`CanonUrl::as_key`, `host[:port]/path[?query]`).
    pub fn add_list<'a>(
        &mut self,
        name: &str,
        category: Option<Category>,
        domains: impl IntoIterator<Item = &'a str>,
        urls: impl IntoIterator<Item = &'a str>,
    ) -> Result<ListId, IndexError> {
        let id = ListId::try_from(self.lists.len()).map_err(|_| IndexError::TooManyLists {
            max: ListId::MAX as usize + 1,
        })?;
        let mut info = ListInfo {
            name: name.to_owned(),
            category,
            domains: 0,
            urls: 0,
        };
        for domain in domains {
            let entry = (fingerprint(domain.as_bytes(), DOMAIN_SEED), id);
            if has_dot(domain.as_bytes()) {
                self.domains.push(entry);
            } else {
                self.short_domains.push(entry);
            }
            info.domains += 1;
        }
        let mut key = String::new();
        for url in urls {
            let host = url_entry_key(url, &mut key).ok_or_else(|| IndexError::BadUrlEntry {
                list: name.to_owned(),
                entry: url.to_owned(),
            })?;
            self.url_hosts
                .push(fingerprint(&key.as_bytes()[..host], DOMAIN_SEED));
            self.urls.push((fingerprint(key.as_bytes(), URL_SEED), id));
            info.urls += 1;
        }
        self.lists.push(info);
        Ok(id)
    }

    /// Compiles the lists: entries held by the same set of lists share one
    /// label, so the table stores a fingerprint and a small number per entry.
    pub fn build(mut self) -> Index {
        let mut labeller = Labeller::default();
        let domains = labeller.table(&mut self.domains, &self.lists);
        let short_domains = labeller.table(&mut self.short_domains, &self.lists);
        let urls = labeller.table(&mut self.urls, &self.lists);
        self.url_hosts.sort_unstable();
        self.url_hosts.dedup();
        let url_hosts: Vec<(u64, u32)> = self.url_hosts.iter().map(|&f| (f, 0)).collect();
        Index {
            lists: self.lists,
            labels: labeller.labels,
            domains,
            short_domains,
            urls,
            url_hosts: FingerprintTable::with_entries(&url_hosts),
        }
    }
}

/// Gives each distinct set of lists one label, across all the tables.
#[derive(Default)]
struct Labeller {
    labels: Labels,
    interned: std::collections::HashMap<Vec<ListId>, u32>,
}

impl Labeller {
    /// Groups `entries` by fingerprint and builds their table.
    fn table(&mut self, entries: &mut Vec<(u64, ListId)>, lists: &[ListInfo]) -> FingerprintTable {
        entries.sort_unstable();
        entries.dedup();
        let mut table_entries: Vec<(u64, u32)> = Vec::with_capacity(entries.len());
        let mut group: Vec<ListId> = Vec::new();
        let mut i = 0;
        while i < entries.len() {
            let fingerprint = entries[i].0;
            group.clear();
            while i < entries.len() && entries[i].0 == fingerprint {
                group.push(entries[i].1);
                i += 1;
            }
            let label = match self.interned.get(&group) {
                Some(&label) => label,
                None => {
                    let label = self.labels.push(&group, lists);
                    self.interned.insert(group.clone(), label);
                    label
                }
            };
            table_entries.push((fingerprint, label));
        }
        *entries = Vec::new();
        FingerprintTable::with_entries(&table_entries)
    }
}

/// Whether a domain entry or suffix has a dot, which decides its table.
#[inline]
fn has_dot(bytes: &[u8]) -> bool {
    bytes.contains(&b'.')
}

/// Turns a canonical URL entry into its match key (host without `www.`, then
/// the path without a trailing `/`, then `?query`), written into `key`.
/// Returns where the host ends, or `None` when the entry has no `/`.
fn url_entry_key(url: &str, key: &mut String) -> Option<usize> {
    let slash = url.find('/')?;
    let (authority, rest) = url.split_at(slash);
    // A port plays no part in matching: drop it (IPv6 hosts keep their colons).
    let host = match authority.rfind(':') {
        Some(colon) if !authority[colon..].contains(']') => &authority[..colon],
        _ => authority,
    };
    let host = url_host(host);
    let (path, query) = match rest.find('?') {
        Some(q) => (&rest[..q], Some(&rest[q..])),
        None => (rest, None),
    };
    let path = path.trim_end_matches('/');
    key.clear();
    key.push_str(host);
    key.push_str(path);
    if let Some(query) = query {
        if path.is_empty() {
            key.push('/');
        }
        key.push_str(query);
    }
    Some(host.len())
}

/// The label table: for each label, its categories and the lists behind it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Labels {
    categories: Vec<u64>,
    starts: Vec<u32>,
    lists: Vec<ListId>,
}

impl Labels {
    fn push(&mut self, group: &[ListId], lists: &[ListInfo]) -> u32 {
        if self.starts.is_empty() {
            self.starts.push(0);
        }
        let categories: CategorySet = group
            .iter()
            .filter_map(|&id| lists[id as usize].category)
            .collect();
        self.categories.push(categories.bits());
        self.lists.extend_from_slice(group);
        self.starts.push(self.lists.len() as u32);
        (self.categories.len() - 1) as u32
    }

    #[inline]
    fn categories(&self, label: u32) -> CategorySet {
        CategorySet::from_bits(self.categories[label as usize])
    }

    fn lists(&self, label: u32) -> &[ListId] {
        let start = self.starts[label as usize] as usize;
        let end = self.starts[label as usize + 1] as usize;
        &self.lists[start..end]
    }
}

/// The compiled index of every list; see the module documentation.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Index {
    lists: Vec<ListInfo>,
    labels: Labels,
    /// Domain entries with a dot.
    domains: FingerprintTable,
    /// Domain entries without a dot, looked up for the last label of a host.
    short_domains: FingerprintTable,
    urls: FingerprintTable,
    /// Hosts (without `www.`) that have URL entries; labels unused.
    url_hosts: FingerprintTable,
}

impl fmt::Debug for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Index")
            .field("lists", &self.lists.len())
            .field("entries", &self.entries())
            .finish()
    }
}

/// Most labels a host can have (253 bytes, one-letter labels).
const MAX_LABELS: usize = 127;

impl Index {
    /// The lists the index was built from.
    pub fn lists(&self) -> &[ListInfo] {
        &self.lists
    }

    /// How many distinct entries the index holds.
    pub fn entries(&self) -> usize {
        self.domains.len() + self.short_domains.len() + self.urls.len()
    }

    /// Memory held by the index's tables, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.tables()
            .iter()
            .map(|t| t.memory_bytes())
            .sum::<usize>()
            + self.labels.categories.len() * 8
            + self.labels.starts.len() * 4
            + self.labels.lists.len() * 2
    }

    fn tables(&self) -> [&FingerprintTable; 4] {
        [
            &self.domains,
            &self.short_domains,
            &self.urls,
            &self.url_hosts,
        ]
    }

    /// The table a domain entry or suffix lives in.
    #[inline]
    fn domain_table(&self, bytes: &[u8]) -> &FingerprintTable {
        if has_dot(bytes) {
            &self.domains
        } else {
            &self.short_domains
        }
    }

    /// Classifies a canonical host (no path), as the DNS filter and CONNECT do.
    pub fn classify_host(&self, host: &str, kind: HostKind) -> Classification {
        let mut found = Classification::new();
        self.domain_hits(host, kind, &mut found);
        found
    }

    /// Classifies a canonical URL: its host's domain entries, then URL entries.
    pub fn classify(&self, url: &CanonUrl) -> Classification {
        let mut found = Classification::new();
        let host = url.host();
        let url_host = self.domain_hits(host, url.host_kind(), &mut found);
        if self.url_hosts.may_contain(url_host) && self.url_hosts.get(url_host).is_some() {
            self.url_hits(url, &mut found);
        }
        found
    }

    #[inline]
    /// Adds the host's domain hits to `found`, and returns the fingerprint
    /// of the host without `www.`, which says whether it has URL entries.
    fn domain_hits(&self, host: &str, kind: HostKind, found: &mut Classification) -> u64 {
        let bytes = host.as_bytes();
        if kind != HostKind::Domain {
            // An address matches only itself.
            let f = self.probe_domain(bytes, 0, found);
            return match bytes.strip_prefix(b"www.") {
                Some(rest) => fingerprint(rest, DOMAIN_SEED),
                None => f,
            };
        }
        // Three passes, so that no probe waits on another's cache miss: every
        // suffix's fingerprint; then every filter word, with no branch on
        // what they hold; then a read of the bucket of every suffix the
        // filter lets through. Only then are the buckets examined.
        let mut starts = [0u16; MAX_LABELS];
        let mut fingerprints = [0u64; MAX_LABELS];
        let mut n = 0;
        let mut start = 0;
        // The suffix after the last dot (if the host has one) is looked up in
        // the small table of entries without a dot.
        let mut last_is_short = false;
        while n < MAX_LABELS {
            starts[n] = start as u16;
            fingerprints[n] = fingerprint(&bytes[start..], DOMAIN_SEED);
            n += 1;
            match bytes[start..].iter().position(|&b| b == b'.') {
                Some(dot) => start += dot + 1,
                None => {
                    last_is_short = true;
                    break;
                }
            }
        }
        let long = n - usize::from(last_is_short);
        let mut pass = [false; MAX_LABELS];
        for i in 0..long {
            pass[i] = self.domains.may_contain(fingerprints[i]);
        }
        let mut touched = 0;
        for i in 0..long {
            if pass[i] {
                touched ^= self.domains.touch(fingerprints[i]);
            }
        }
        std::hint::black_box(touched);
        for i in 0..n {
            let label = if i < long {
                if !pass[i] {
                    continue;
                }
                self.domains.get(fingerprints[i])
            } else {
                self.short_domains.get(fingerprints[i])
            };
            if let Some(label) = label {
                let hit = Hit {
                    kind: EntryKind::Domain,
                    start: starts[i],
                    end: bytes.len() as u16,
                    label,
                };
                found.push(hit, self.labels.categories(label));
            }
        }
        // The host without `www.` is one of the suffixes already hashed.
        if n > 1 && starts[1] == 4 && bytes.starts_with(b"www.") {
            fingerprints[1]
        } else {
            fingerprints[0]
        }
    }

    /// Adds the hit of `bytes[start..]`, if any; returns its fingerprint.
    #[inline]
    fn probe_domain(&self, bytes: &[u8], start: usize, found: &mut Classification) -> u64 {
        let key = &bytes[start..];
        let table = self.domain_table(key);
        let f = fingerprint(key, DOMAIN_SEED);
        if let Some(label) = table.may_contain(f).then(|| table.get(f)).flatten() {
            let hit = Hit {
                kind: EntryKind::Domain,
                start: start as u16,
                end: bytes.len() as u16,
                label,
            };
            found.push(hit, self.labels.categories(label));
        }
        f
    }

    fn url_hits(&self, url: &CanonUrl, found: &mut Classification) {
        let mut owned = String::new();
        let key = url_match_key(url, &mut owned);
        let bytes = key.as_bytes();
        let host_end = url_host(url.host()).len();
        let path_end = match url.query() {
            Some(q) => bytes.len() - q.len() - 1,
            None => bytes.len(),
        };
        let mut trimmed_end = path_end;
        while trimmed_end > host_end && bytes[trimmed_end - 1] == b'/' {
            trimmed_end -= 1;
        }
        let probe = |candidate: &[u8], end: usize, found: &mut Classification| {
            let f = fingerprint(candidate, URL_SEED);
            if let Some(label) = self.urls.may_contain(f).then(|| self.urls.get(f)).flatten() {
                let hit = Hit {
                    kind: EntryKind::Url,
                    start: 0,
                    end: end as u16,
                    label,
                };
                found.push(hit, self.labels.categories(label));
            }
        };
        // The host alone (a root entry), then each path prefix at a '/'.
        probe(&bytes[..host_end], host_end, found);
        for i in host_end + 1..trimmed_end {
            if bytes[i] == b'/' {
                probe(&bytes[..i], i, found);
            }
        }
        if trimmed_end > host_end {
            probe(&bytes[..trimmed_end], trimmed_end, found);
        }
        // Entries with a query are keyed on the path without its trailing
        // slash (or a lone `/`), then `?` and the query.
        if let Some(query) = url.query().filter(|q| !q.is_empty()) {
            let contiguous = if trimmed_end == host_end {
                path_end == host_end + 1
            } else {
                trimmed_end == path_end
            };
            if contiguous {
                probe(bytes, bytes.len(), found);
            } else {
                let path_part = if trimmed_end == host_end {
                    host_end + 1
                } else {
                    trimmed_end
                };
                let mut candidate = Vec::with_capacity(bytes.len());
                candidate.extend_from_slice(&bytes[..host_end]);
                if trimmed_end == host_end {
                    candidate.push(b'/');
                } else {
                    candidate.extend_from_slice(&bytes[host_end..path_part]);
                }
                candidate.push(b'?');
                candidate.extend_from_slice(query.as_bytes());
                probe(&candidate, bytes.len(), found);
            }
        }
    }

    /// Spells out a hit: the entry that matched and the lists that hold it.
    pub fn describe(&self, url: &CanonUrl, hit: &Hit) -> HitDetail<'_> {
        let entry = match hit.kind {
            EntryKind::Domain => url.host()[hit.start as usize..].to_owned(),
            EntryKind::Url => {
                let mut owned = String::new();
                let key = url_match_key(url, &mut owned);
                key.get(hit.start as usize..hit.end as usize)
                    .unwrap_or(key)
                    .to_owned()
            }
        };
        HitDetail {
            kind: hit.kind,
            entry,
            lists: self
                .labels
                .lists(hit.label)
                .iter()
                .map(|&id| &self.lists[id as usize])
                .collect(),
        }
    }

    /// Spells out a hit from [`Index::classify_host`].
    pub fn describe_host(&self, host: &str, hit: &Hit) -> HitDetail<'_> {
        HitDetail {
            kind: hit.kind,
            entry: host.get(hit.start as usize..).unwrap_or(host).to_owned(),
            lists: self
                .labels
                .lists(hit.label)
                .iter()
                .map(|&id| &self.lists[id as usize])
                .collect(),
        }
    }

    /// Writes the index to `path` through a temporary file and a rename, so a
    /// reader never sees half an index.
    pub fn save(&self, path: &Path) -> Result<(), IndexError> {
        let io = |action| {
            let path = path.display().to_string();
            move |source| IndexError::Io {
                action,
                path,
                source,
            }
        };
        let tmp = path.with_extension("tmp");
        let file = File::create(&tmp).map_err(io("create"))?;
        let mut out = Sink {
            file: BufWriter::with_capacity(1 << 16, file),
            hasher: Xxh3Default::new(),
        };
        self.write_body(&mut out).map_err(io("write"))?;
        let checksum = out.hasher.digest();
        let mut file = out
            .file
            .into_inner()
            .map_err(|e| io("write")(e.into_error()))?;
        file.write_all(&checksum.to_le_bytes())
            .map_err(io("write"))?;
        file.sync_all().map_err(io("write"))?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(io("replace"))?;
        Ok(())
    }

    fn write_body(&self, out: &mut Sink) -> std::io::Result<()> {
        out.put(MAGIC)?;
        out.put(&VERSION.to_le_bytes())?;
        out.put(&(self.lists.len() as u32).to_le_bytes())?;
        for list in &self.lists {
            out.put(&(list.name.len() as u32).to_le_bytes())?;
            out.put(list.name.as_bytes())?;
            out.put(&[list.category.map_or(u8::MAX, Category::index)])?;
            out.put(&list.domains.to_le_bytes())?;
            out.put(&list.urls.to_le_bytes())?;
        }
        out.put(&(self.labels.categories.len() as u64).to_le_bytes())?;
        for v in &self.labels.categories {
            out.put(&v.to_le_bytes())?;
        }
        out.put(&(self.labels.starts.len() as u64).to_le_bytes())?;
        for v in &self.labels.starts {
            out.put(&v.to_le_bytes())?;
        }
        out.put(&(self.labels.lists.len() as u64).to_le_bytes())?;
        for v in &self.labels.lists {
            out.put(&v.to_le_bytes())?;
        }
        for table in self.tables() {
            out.put(&(table.buckets.len() as u64).to_le_bytes())?;
            out.put(&(table.len as u64).to_le_bytes())?;
            let mut bytes = [0u8; BUCKET_BYTES];
            for bucket in &table.buckets {
                for (i, f) in bucket.fingerprints.iter().enumerate() {
                    bytes[i * 8..i * 8 + 8].copy_from_slice(&f.to_le_bytes());
                }
                let labels_at = BUCKET_SLOTS * 8;
                for (i, l) in bucket.labels.iter().enumerate() {
                    let at = labels_at + i * 4;
                    bytes[at..at + 4].copy_from_slice(&l.to_le_bytes());
                }
                bytes[BUCKET_BYTES - 4..].copy_from_slice(&bucket.overflow.to_le_bytes());
                out.put(&bytes)?;
            }
        }
        Ok(())
    }

    /// Opens an index written by [`Index::save`], checking it is whole. The
    /// file is read in pieces straight into the tables, so opening needs
    /// little more memory than the index itself.
    pub fn load(path: &Path) -> Result<Index, IndexError> {
        let io = |source| IndexError::Io {
            action: "read",
            path: path.display().to_string(),
            source,
        };
        let corrupt = |reason| IndexError::Corrupt {
            path: path.display().to_string(),
            reason,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len < (MAGIC.len() + 12) as u64 {
            return Err(corrupt("it does not start like a schoolgate index".into()));
        }
        let mut source = Source {
            file: BufReader::with_capacity(1 << 16, file),
            hasher: Xxh3Default::new(),
            left: len - 8,
        };
        let index = match Index::read_body(&mut source) {
            Ok(index) => index,
            Err(LoadError::Io(e)) => return Err(io(e)),
            Err(LoadError::Corrupt(reason)) => return Err(corrupt(reason)),
        };
        let mut stored = [0u8; 8];
        source.file.read_exact(&mut stored).map_err(io)?;
        if source.hasher.digest() != u64::from_le_bytes(stored) {
            return Err(corrupt("its checksum does not match".into()));
        }
        index.check().map_err(corrupt)?;
        let mut index = index;
        for table in [
            &mut index.domains,
            &mut index.short_domains,
            &mut index.urls,
            &mut index.url_hosts,
        ] {
            table.filter = Prefilter::for_table(table);
        }
        Ok(index)
    }

    fn read_body(r: &mut Source) -> Result<Index, LoadError> {
        let mut magic = [0u8; 8];
        r.take(&mut magic)?;
        if &magic != MAGIC {
            return Err(LoadError::corrupt(
                "it does not start like a schoolgate index",
            ));
        }
        let version = r.u32()?;
        if version != VERSION {
            return Err(LoadError::Corrupt(format!(
                "format version {version}, expected {VERSION}"
            )));
        }
        let list_count = r.u32()? as usize;
        let mut lists = Vec::with_capacity(list_count.min(1 << 16));
        for _ in 0..list_count {
            let len = r.u32()? as usize;
            let mut name = vec![0u8; r.check_len(len, 1)?];
            r.take(&mut name)?;
            let name = String::from_utf8(name)
                .map_err(|_| LoadError::corrupt("a list name is not UTF-8"))?;
            let mut category = [0u8];
            r.take(&mut category)?;
            let category = match category[0] {
                u8::MAX => None,
                i => Some(
                    Category::from_index(i)
                        .ok_or(LoadError::corrupt("a list has an unknown category"))?,
                ),
            };
            let domains = r.u64()?;
            let urls = r.u64()?;
            lists.push(ListInfo {
                name,
                category,
                domains,
                urls,
            });
        }
        let n = r.count(8)?;
        let categories = (0..n).map(|_| r.u64()).collect::<Result<_, _>>()?;
        let n = r.count(4)?;
        let starts = (0..n).map(|_| r.u32()).collect::<Result<_, _>>()?;
        let n = r.count(2)?;
        let label_lists = (0..n).map(|_| r.u16()).collect::<Result<_, _>>()?;
        let labels = Labels {
            categories,
            starts,
            lists: label_lists,
        };
        let mut tables: [FingerprintTable; 4] = Default::default();
        for table in &mut tables {
            let count = r.count(BUCKET_BYTES)?;
            table.len =
                usize::try_from(r.u64()?).map_err(|_| LoadError::corrupt("a length overflows"))?;
            table.buckets = Vec::with_capacity(count);
            let mut chunk = vec![0u8; BUCKET_BYTES * 1024];
            let mut left = count;
            while left > 0 {
                let now = left.min(1024);
                let bytes = &mut chunk[..now * BUCKET_BYTES];
                r.take(bytes)?;
                table
                    .buckets
                    .extend(bytes.chunks_exact(BUCKET_BYTES).map(bucket_from_bytes));
                left -= now;
            }
        }
        if r.left != 0 {
            return Err(LoadError::corrupt("it has bytes after the last table"));
        }

        let [domains, short_domains, urls, url_hosts] = tables;
        Ok(Index {
            lists,
            labels,
            domains,
            short_domains,
            urls,
            url_hosts,
        })
    }

    /// Checks that every label and list number points inside its table and
    /// that every probe ends, so a damaged file can never make a lookup index
    /// out of bounds or loop.
    fn check(&self) -> Result<(), String> {
        let labels = &self.labels;
        let label_count = labels.categories.len();
        if labels.starts.len() != label_count + usize::from(label_count > 0)
            || labels.starts.windows(2).any(|w| w[0] > w[1])
            || labels
                .starts
                .last()
                .is_some_and(|&s| s as usize != labels.lists.len())
            || labels
                .lists
                .iter()
                .any(|&id| id as usize >= self.lists.len())
        {
            return Err("its labels point outside their tables".into());
        }
        for (i, table) in self.tables().into_iter().enumerate() {
            let labelled = i < 3;
            let mut len = 0;
            let mut ends = false;
            for bucket in &table.buckets {
                for (&f, &l) in bucket.fingerprints.iter().zip(&bucket.labels) {
                    if f != 0 {
                        len += 1;
                        if labelled && l as usize >= label_count {
                            return Err("its labels point outside their tables".into());
                        }
                    }
                }
                match bucket.overflow {
                    0 => ends = true,
                    1 => {}
                    _ => return Err("a bucket has a bad overflow mark".into()),
                }
            }
            if len != table.len {
                return Err("a table holds a different number of entries than it says".into());
            }
            if !table.buckets.is_empty() && !ends {
                return Err("a table has no bucket that ends a probe".into());
            }
        }
        Ok(())
    }
}

fn bucket_from_bytes(bytes: &[u8]) -> Bucket {
    let u64_at = |at: usize| {
        u64::from_le_bytes([
            bytes[at],
            bytes[at + 1],
            bytes[at + 2],
            bytes[at + 3],
            bytes[at + 4],
            bytes[at + 5],
            bytes[at + 6],
            bytes[at + 7],
        ])
    };
    let u32_at =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    Bucket {
        fingerprints: std::array::from_fn(|i| u64_at(i * 8)),
        labels: std::array::from_fn(|i| u32_at(BUCKET_SLOTS * 8 + i * 4)),
        overflow: u32_at(BUCKET_BYTES - 4),
    }
}

/// Where a saved index is written: the file, and the checksum so far.
struct Sink {
    file: BufWriter<File>,
    hasher: Xxh3Default,
}

impl Sink {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hasher.update(bytes);
        self.file.write_all(bytes)
    }
}

enum LoadError {
    Io(std::io::Error),
    Corrupt(String),
}

impl LoadError {
    fn corrupt(reason: &str) -> Self {
        LoadError::Corrupt(reason.to_owned())
    }
}

/// A saved index being read: the file, the checksum so far and how many
/// bytes are left before the checksum.
struct Source {
    file: BufReader<File>,
    hasher: Xxh3Default,
    left: u64,
}

impl Source {
    fn take(&mut self, out: &mut [u8]) -> Result<(), LoadError> {
        if out.len() as u64 > self.left {
            return Err(LoadError::corrupt("it ends too early"));
        }
        self.file.read_exact(out).map_err(LoadError::Io)?;
        self.hasher.update(out);
        self.left -= out.len() as u64;
        Ok(())
    }

    /// A length of `n` items of `size` bytes, refused if the file is too
    /// short to hold them, so a damaged length cannot exhaust memory.
    fn check_len(&self, n: usize, size: usize) -> Result<usize, LoadError> {
        match n.checked_mul(size) {
            Some(bytes) if bytes as u64 <= self.left => Ok(n),
            _ => Err(LoadError::corrupt("it ends too early")),
        }
    }

    /// A count saved as a u64, checked as [`Source::check_len`] does.
    fn count(&mut self, size: usize) -> Result<usize, LoadError> {
        let n =
            usize::try_from(self.u64()?).map_err(|_| LoadError::corrupt("a length overflows"))?;
        self.check_len(n, size)
    }

    fn u16(&mut self) -> Result<u16, LoadError> {
        let mut b = [0u8; 2];
        self.take(&mut b)?;
        Ok(u16::from_le_bytes(b))
    }

    fn u32(&mut self) -> Result<u32, LoadError> {
        let mut b = [0u8; 4];
        self.take(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> Result<u64, LoadError> {
        let mut b = [0u8; 8];
        self.take(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
}

/// The key URL entries are matched against: the host without `www.`, the
/// path and the query, without the port.
fn url_match_key<'a>(url: &'a CanonUrl, owned: &'a mut String) -> &'a str {
    let key = url.as_key();
    let host = url.host();
    let skip = host.len() - url_host(host).len();
    if url.port().is_none() {
        return &key[skip..];
    }
    owned.clear();
    owned.push_str(&host[skip..]);
    owned.push_str(url.path());
    if let Some(q) = url.query() {
        owned.push('?');
        owned.push_str(q);
    }
    owned
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(id: &str) -> Option<Category> {
        Some(Category::from_id(id).expect("known category"))
    }

    fn sample() -> Index {
        let mut b = IndexBuilder::new();
        b.add_list(
            "ut1/gambling",
            cat("gambling"),
            ["casino.example", "bet.example.co.uk"],
            ["news.example/betting", "www.tips.example/odds/today?team=1"],
        )
        .expect("add");
        b.add_list(
            "ut1/adult",
            cat("pornography"),
            ["casino.example", "x.example"],
            [],
        )
        .expect("add");
        b.add_list("ut1/blog", cat("blogs"), ["example.org"], ["example.org/"])
            .expect("add");
        b.build()
    }

    fn classify(index: &Index, url: &str) -> Vec<String> {
        let url = CanonUrl::parse(url).expect("canonical");
        let found = index.classify(&url);
        let mut cats: Vec<String> = found.categories.iter().map(|c| c.id().to_owned()).collect();
        cats.sort();
        cats
    }

    #[test]
    fn domains_match_themselves_and_subdomains_only() {
        let index = sample();
        assert_eq!(
            classify(&index, "http://casino.example/"),
            ["gambling", "pornography"]
        );
        assert_eq!(
            classify(&index, "http://a.b.casino.example/x"),
            ["gambling", "pornography"]
        );
        assert!(classify(&index, "http://notcasino.example/").is_empty());
        assert!(classify(&index, "http://casino.example.evil/").is_empty());
        assert!(classify(&index, "http://example.co.uk/").is_empty());
        assert_eq!(
            classify(&index, "http://www.bet.example.co.uk/"),
            ["gambling"]
        );
    }

    #[test]
    fn url_entries_match_at_segment_boundaries() {
        let index = sample();
        assert_eq!(
            classify(&index, "http://news.example/betting"),
            ["gambling"]
        );
        assert_eq!(
            classify(&index, "http://news.example/betting/"),
            ["gambling"]
        );
        assert_eq!(
            classify(&index, "http://news.example/betting/odds.html"),
            ["gambling"]
        );
        assert_eq!(
            classify(&index, "http://www.news.example/betting?x=1"),
            ["gambling"]
        );
        assert!(classify(&index, "http://news.example/bettingtips").is_empty());
        assert!(classify(&index, "http://news.example/").is_empty());
        assert!(classify(&index, "http://sub.news.example/betting").is_empty());
    }

    #[test]
    fn url_entries_with_a_query_match_that_query() {
        let index = sample();
        assert_eq!(
            classify(&index, "http://tips.example/odds/today?team=1"),
            ["gambling"]
        );
        assert_eq!(
            classify(&index, "http://www.tips.example/odds/today/?team=1"),
            ["gambling"]
        );
        assert!(classify(&index, "http://tips.example/odds/today?team=2").is_empty());
        assert!(classify(&index, "http://tips.example/odds/today").is_empty());
    }

    #[test]
    fn a_root_url_entry_covers_the_host_exactly() {
        let index = sample();
        let url = CanonUrl::parse("http://example.org/anything").expect("url");
        let found = index.classify(&url);
        assert_eq!(
            found.hits().len(),
            2,
            "domain entry and root URL entry: {found:?}"
        );
        assert_eq!(classify(&index, "http://www.example.org/a"), ["blogs"]);
    }

    #[test]
    fn describe_names_the_entry_and_its_lists() {
        let index = sample();
        let url = CanonUrl::parse("http://www.a.casino.example/page").expect("url");
        let found = index.classify(&url);
        let details: Vec<_> = found
            .hits()
            .iter()
            .map(|h| index.describe(&url, h))
            .collect();
        assert_eq!(details.len(), 1);
        assert_eq!(details[0].entry, "casino.example");
        let names: Vec<_> = details[0].lists.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["ut1/gambling", "ut1/adult"]);

        let url = CanonUrl::parse("http://news.example/betting/x").expect("url");
        let found = index.classify(&url);
        let detail = index.describe(&url, &found.hits()[0]);
        assert_eq!(detail.entry, "news.example/betting");
        assert_eq!(detail.kind, EntryKind::Url);
    }

    #[test]
    fn save_and_load_give_the_same_index() {
        let index = sample();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("index.bin");
        index.save(&path).expect("save");
        let loaded = Index::load(&path).expect("load");
        assert_eq!(loaded, index);
        assert_eq!(classify(&loaded, "http://x.example/"), ["pornography"]);
    }

    #[test]
    fn a_damaged_file_is_refused() {
        let index = sample();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("index.bin");
        index.save(&path).expect("save");
        let mut bytes = std::fs::read(&path).expect("read");
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x40;
        std::fs::write(&path, &bytes).expect("write");
        let err = Index::load(&path).expect_err("damaged");
        assert!(err.to_string().contains("damaged"), "{err}");
        std::fs::write(&path, &bytes[..10]).expect("write");
        assert!(Index::load(&path).is_err());
    }

    #[test]
    fn empty_index_finds_nothing() {
        let index = IndexBuilder::new().build();
        assert!(classify(&index, "http://example.com/").is_empty());
    }

    #[test]
    fn a_large_index_finds_every_entry_and_nothing_else() {
        let mut generator = crate::synthetic::Generator::new(3);
        let lists = generator.lists(30_000);
        let mut b = IndexBuilder::new();
        for list in &lists {
            b.add_list(
                &list.name,
                Some(list.category),
                list.domains.iter().map(String::as_str),
                list.urls.iter().map(String::as_str),
            )
            .expect("add");
        }
        let index = b.build();
        assert_eq!(index.entries(), 30_000);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("index.bin");
        index.save(&path).expect("save");
        let loaded = Index::load(&path).expect("load");
        assert_eq!(loaded, index);
        for list in &lists {
            let category = list.category;
            for domain in &list.domains {
                for host in [domain.clone(), format!("sub.{domain}")] {
                    let found = loaded.classify_host(&host, HostKind::Domain);
                    assert!(found.categories.contains(category), "{host}");
                }
            }
            for entry in &list.urls {
                let url = CanonUrl::parse(&format!("http://{entry}")).expect("url");
                assert!(
                    loaded.classify(&url).categories.contains(category),
                    "{entry}"
                );
            }
        }
        let mut elsewhere = crate::synthetic::Generator::new(4);
        let mut listed = 0;
        for _ in 0..30_000 {
            let url = CanonUrl::parse(&elsewhere.request_elsewhere()).expect("url");
            // A made-up host may be a subdomain of a listed one; count only
            // hits on the host itself, which the generator never repeats.
            let found = loaded.classify(&url);
            listed += found.hits().iter().filter(|h| h.start == 0).count();
        }
        assert!(listed < 100, "{listed} of 30,000 unlisted hosts matched");
    }

    #[test]
    fn entries_without_a_dot_cover_every_host_below_them() {
        let mut b = IndexBuilder::new();
        b.add_list("tlds", cat("pornography"), ["xxx"], [])
            .expect("add");
        let index = b.build();
        assert_eq!(classify(&index, "http://a.b.xxx/"), ["pornography"]);
        assert_eq!(classify(&index, "http://xxx/"), ["pornography"]);
        assert!(classify(&index, "http://xxx.com/").is_empty());
        assert!(classify(&index, "http://a.xxx.example/").is_empty());
        let found = index.classify_host("[2001:db8::1]", HostKind::Ipv6);
        assert!(!found.is_listed());
    }

    #[test]
    fn full_buckets_overflow_into_the_next_and_wrap_round() {
        // Forty fingerprints that all start at the last of ten buckets: their
        // probes fill it, wrap to the first and run on from there.
        let entries: Vec<(u64, u32)> = (1..=40u64).map(|i| (u64::MAX - i, i as u32)).collect();
        let table = FingerprintTable::with_entries(&entries);
        assert_eq!(table.buckets.len(), 11);
        assert_eq!(home(u64::MAX - 1, table.buckets.len()), 10);
        for &(f, label) in &entries {
            assert_eq!(table.get(f), Some(label));
        }
        assert_eq!(table.get(u64::MAX - 41), None);
        assert_eq!(table.get(1), None);
        assert!(table.buckets.iter().any(|b| b.overflow == 0));
    }

    #[test]
    fn the_prefilter_never_rules_out_an_entry() {
        let entries: Vec<(u64, u32)> = (0..10_000u64)
            .map(|i| (fingerprint(&i.to_le_bytes(), 9), 0))
            .collect();
        let table = FingerprintTable::with_entries(&entries);
        let filter = Prefilter::for_table(&table);
        assert!(entries.iter().all(|&(f, _)| filter.may_contain(f)));
        let passed = (10_000..110_000u64)
            .filter(|i| filter.may_contain(fingerprint(&i.to_le_bytes(), 9)))
            .count();
        assert!(passed < 5_000, "{passed} of 100,000 absent keys passed");
    }

    #[test]
    fn an_index_whose_probes_would_not_end_is_refused() {
        let mut index = sample();
        assert_eq!(index.check(), Ok(()));
        for bucket in &mut index.domains.buckets {
            bucket.overflow = 1;
        }
        assert!(index.check().is_err());
        let mut index = sample();
        index.urls.len += 1;
        assert!(index.check().is_err());
    }

    #[test]
    fn many_hits_are_truncated_but_categories_kept() {
        let mut b = IndexBuilder::new();
        let host = "a.b.c.d.e.f.g.h.i.j.example";
        let mut suffixes = Vec::new();
        let mut rest = host;
        loop {
            suffixes.push(rest.to_owned());
            match rest.find('.') {
                Some(d) => rest = &rest[d + 1..],
                None => break,
            }
        }
        b.add_list("one", cat("games"), suffixes.iter().map(String::as_str), [])
            .expect("add");
        b.add_list("two", cat("chat"), ["example"], [])
            .expect("add");
        let index = b.build();
        let url = CanonUrl::parse(&format!("http://{host}/")).expect("url");
        let found = index.classify(&url);
        assert!(found.truncated);
        assert_eq!(found.hits().len(), MAX_HITS);
        assert!(
            found
                .categories
                .contains(Category::from_id("chat").expect("chat"))
        );
    }
}
