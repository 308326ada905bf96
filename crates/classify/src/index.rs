//! The compiled index: every list entry as a 64-bit fingerprint in one
//! open-addressing table, so a lookup is a handful of probes into flat arrays.
//!
//! Two kinds of entry live in the table, hashed with different seeds:
//!
//! * **domain** entries (`example.com`) match the host and every subdomain of
//!   it, so a lookup probes each suffix of the host (`a.b.example.com`,
//!   `b.example.com`, `example.com`, `com`);
//! * **URL** entries (`example.com/path`) match that host (a leading `www.` is
//!   ignored on both sides) and every URL below the path, at `/` boundaries, so
//!   `example.com/path` matches `/path`, `/path/x` and `/path?q` but not
//!   `/pathology`. An entry with a query matches that query exactly.
//!
//! Only hosts that have URL entries are probed for them: a small second table
//! says which hosts those are, which keeps the common lookup to the domain
//! probes alone.
//!
//! Fingerprints are xxh3 with fixed seeds, stable across runs so the table can
//! be saved and reopened. Two different keys share a fingerprint with
//! probability 2^-64 per comparison; at two million lookups a second that is
//! one false match in many thousands of years, which we accept in return for
//! a table a quarter the size of one that keeps the strings.

use std::fmt;
use std::io::Write;
use std::path::Path;

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use crate::canon::{CanonUrl, HostKind};
use crate::taxonomy::{Category, CategorySet};

const DOMAIN_SEED: u64 = 0x5343_484f_4f4c_4431;
const URL_SEED: u64 = 0x5343_484f_4f4c_5531;
const URL_HOST_SEED: u64 = 0x5343_484f_4f4c_4831;

/// The file format's first bytes and version; bump the version on any change.
const MAGIC: &[u8; 8] = b"SGINDEX\0";
const VERSION: u32 = 1;

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

/// An open-addressing table of fingerprints with linear probing; zero marks
/// an empty slot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct FingerprintTable {
    fingerprints: Vec<u64>,
    labels: Vec<u32>,
}

impl FingerprintTable {
    fn with_entries(entries: &[(u64, u32)]) -> Self {
        // A load of about 0.7 keeps misses to a couple of cache lines.
        let capacity = (entries.len() * 10 / 7).max(8);
        let mut table = FingerprintTable {
            fingerprints: vec![0; capacity],
            labels: vec![0; capacity],
        };
        for &(fingerprint, label) in entries {
            let mut slot = table.home(fingerprint);
            while table.fingerprints[slot] != 0 {
                slot += 1;
                if slot == capacity {
                    slot = 0;
                }
            }
            table.fingerprints[slot] = fingerprint;
            table.labels[slot] = label;
        }
        table
    }

    /// The slot a fingerprint starts its probe at: the high half of a 128-bit
    /// product spreads it over any capacity, not only powers of two.
    #[inline]
    fn home(&self, fingerprint: u64) -> usize {
        ((fingerprint as u128 * self.fingerprints.len() as u128) >> 64) as usize
    }

    #[inline]
    fn get(&self, fingerprint: u64) -> Option<u32> {
        let capacity = self.fingerprints.len();
        if capacity == 0 {
            return None;
        }
        let mut slot = self.home(fingerprint);
        loop {
            let here = self.fingerprints[slot];
            if here == fingerprint {
                return Some(self.labels[slot]);
            }
            if here == 0 {
                return None;
            }
            slot += 1;
            if slot == capacity {
                slot = 0;
            }
        }
    }

    fn len(&self) -> usize {
        self.fingerprints.iter().filter(|&&f| f != 0).count()
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
    entries: Vec<(u64, ListId)>,
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
            self.entries
                .push((fingerprint(domain.as_bytes(), DOMAIN_SEED), id));
            info.domains += 1;
        }
        let mut key = String::new();
        for url in urls {
            let host = url_entry_key(url, &mut key).ok_or_else(|| IndexError::BadUrlEntry {
                list: name.to_owned(),
                entry: url.to_owned(),
            })?;
            self.url_hosts
                .push(fingerprint(&key.as_bytes()[..host], URL_HOST_SEED));
            self.entries
                .push((fingerprint(key.as_bytes(), URL_SEED), id));
            info.urls += 1;
        }
        self.lists.push(info);
        Ok(id)
    }

    /// Compiles the lists: entries held by the same set of lists share one
    /// label, so the table stores a fingerprint and a small number per entry.
    pub fn build(mut self) -> Index {
        self.entries.sort_unstable();
        self.entries.dedup();
        let mut labels = Labels::default();
        let mut interned: std::collections::HashMap<Vec<ListId>, u32> = Default::default();
        let mut table_entries: Vec<(u64, u32)> = Vec::with_capacity(self.entries.len());
        let mut group: Vec<ListId> = Vec::new();
        let mut i = 0;
        while i < self.entries.len() {
            let fingerprint = self.entries[i].0;
            group.clear();
            while i < self.entries.len() && self.entries[i].0 == fingerprint {
                group.push(self.entries[i].1);
                i += 1;
            }
            let label = match interned.get(&group) {
                Some(&label) => label,
                None => {
                    let label = labels.push(&group, &self.lists);
                    interned.insert(group.clone(), label);
                    label
                }
            };
            table_entries.push((fingerprint, label));
        }
        self.url_hosts.sort_unstable();
        self.url_hosts.dedup();
        let url_hosts: Vec<(u64, u32)> = self.url_hosts.iter().map(|&f| (f, 0)).collect();
        Index {
            lists: self.lists,
            labels,
            table: FingerprintTable::with_entries(&table_entries),
            url_hosts: FingerprintTable::with_entries(&url_hosts),
        }
    }
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
    table: FingerprintTable,
    url_hosts: FingerprintTable,
}

impl fmt::Debug for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Index")
            .field("lists", &self.lists.len())
            .field("slots", &self.table.fingerprints.len())
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
        self.table.len()
    }

    /// Memory held by the index's tables, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.table.fingerprints.len() * 12
            + self.url_hosts.fingerprints.len() * 12
            + self.labels.categories.len() * 8
            + self.labels.starts.len() * 4
            + self.labels.lists.len() * 2
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
        self.domain_hits(host, url.host_kind(), &mut found);
        let key_host = url_host(host);
        if self
            .url_hosts
            .get(fingerprint(key_host.as_bytes(), URL_HOST_SEED))
            .is_some()
        {
            self.url_hits(url, &mut found);
        }
        found
    }

    #[inline]
    fn domain_hits(&self, host: &str, kind: HostKind, found: &mut Classification) {
        let bytes = host.as_bytes();
        if kind != HostKind::Domain {
            // An address matches only itself.
            self.probe_domain(bytes, 0, found);
            return;
        }
        // Gather every suffix's fingerprint first so the probes, which do not
        // depend on each other, can be in flight together.
        let mut starts = [0u16; MAX_LABELS];
        let mut fingerprints = [0u64; MAX_LABELS];
        let mut n = 0;
        let mut start = 0;
        loop {
            if n == MAX_LABELS {
                break;
            }
            starts[n] = start as u16;
            fingerprints[n] = fingerprint(&bytes[start..], DOMAIN_SEED);
            n += 1;
            match bytes[start..].iter().position(|&b| b == b'.') {
                Some(dot) => start += dot + 1,
                None => break,
            }
        }
        for i in 0..n {
            if let Some(label) = self.table.get(fingerprints[i]) {
                let hit = Hit {
                    kind: EntryKind::Domain,
                    start: starts[i],
                    end: bytes.len() as u16,
                    label,
                };
                found.push(hit, self.labels.categories(label));
            }
        }
    }

    #[inline]
    fn probe_domain(&self, bytes: &[u8], start: usize, found: &mut Classification) {
        if let Some(label) = self.table.get(fingerprint(&bytes[start..], DOMAIN_SEED)) {
            let hit = Hit {
                kind: EntryKind::Domain,
                start: start as u16,
                end: bytes.len() as u16,
                label,
            };
            found.push(hit, self.labels.categories(label));
        }
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
            if let Some(label) = self.table.get(fingerprint(candidate, URL_SEED)) {
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
        let mut out = Vec::with_capacity(self.memory_bytes() + 1024);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        put_u32(&mut out, self.lists.len() as u32);
        for list in &self.lists {
            put_u32(&mut out, list.name.len() as u32);
            out.extend_from_slice(list.name.as_bytes());
            out.push(list.category.map_or(u8::MAX, Category::index));
            out.extend_from_slice(&list.domains.to_le_bytes());
            out.extend_from_slice(&list.urls.to_le_bytes());
        }
        put_u64s(&mut out, &self.labels.categories);
        put_u32s(&mut out, &self.labels.starts);
        put_u32(&mut out, self.labels.lists.len() as u32);
        for &id in &self.labels.lists {
            out.extend_from_slice(&id.to_le_bytes());
        }
        for table in [&self.table, &self.url_hosts] {
            put_u64s(&mut out, &table.fingerprints);
            put_u32s(&mut out, &table.labels);
        }
        let checksum = xxh3_64(&out);
        out.extend_from_slice(&checksum.to_le_bytes());

        let tmp = path.with_extension("tmp");
        let mut file = std::fs::File::create(&tmp).map_err(io("create"))?;
        file.write_all(&out).map_err(io("write"))?;
        file.sync_all().map_err(io("write"))?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(io("replace"))?;
        Ok(())
    }

    /// Opens an index written by [`Index::save`], checking it is whole.
    pub fn load(path: &Path) -> Result<Index, IndexError> {
        let bytes = std::fs::read(path).map_err(|source| IndexError::Io {
            action: "read",
            path: path.display().to_string(),
            source,
        })?;
        Index::from_bytes(&bytes).map_err(|reason| IndexError::Corrupt {
            path: path.display().to_string(),
            reason,
        })
    }

    fn from_bytes(bytes: &[u8]) -> Result<Index, String> {
        if bytes.len() < MAGIC.len() + 12 || &bytes[..MAGIC.len()] != MAGIC {
            return Err("it does not start like a schoolgate index".into());
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        let stored = u64::from_le_bytes(tail.try_into().map_err(|_| "short checksum")?);
        if xxh3_64(body) != stored {
            return Err("its checksum does not match".into());
        }
        let mut r = Reader {
            bytes: body,
            at: MAGIC.len(),
        };
        let version = r.u32()?;
        if version != VERSION {
            return Err(format!("format version {version}, expected {VERSION}"));
        }
        let list_count = r.u32()? as usize;
        let mut lists = Vec::with_capacity(list_count.min(1 << 16));
        for _ in 0..list_count {
            let len = r.u32()? as usize;
            let name =
                String::from_utf8(r.take(len)?.to_vec()).map_err(|_| "a list name is not UTF-8")?;
            let category = match r.take(1)?[0] {
                u8::MAX => None,
                i => Some(Category::from_index(i).ok_or("a list has an unknown category")?),
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
        let categories = r.u64s()?;
        let starts = r.u32s()?;
        let list_ids = r.u32()? as usize;
        let list_bytes = r.take(list_ids.checked_mul(2).ok_or("list ids overflow")?)?;
        let label_lists: Vec<ListId> = list_bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let labels = Labels {
            categories,
            starts,
            lists: label_lists,
        };
        let mut tables = [FingerprintTable::default(), FingerprintTable::default()];
        for table in &mut tables {
            table.fingerprints = r.u64s()?;
            table.labels = r.u32s()?;
            if table.labels.len() != table.fingerprints.len() {
                return Err("a table's two halves differ in length".into());
            }
        }
        if r.at != body.len() {
            return Err("it has bytes after the last table".into());
        }
        // Every label and list number must point inside its table, so a
        // lookup can never index out of bounds.
        let label_count = labels.categories.len();
        if labels.starts.len() != label_count + usize::from(label_count > 0)
            || labels.starts.windows(2).any(|w| w[0] > w[1])
            || labels
                .starts
                .last()
                .is_some_and(|&s| s as usize != labels.lists.len())
            || labels.lists.iter().any(|&id| id as usize >= lists.len())
            || tables[0]
                .labels
                .iter()
                .zip(&tables[0].fingerprints)
                .any(|(&l, &f)| f != 0 && l as usize >= label_count)
        {
            return Err("its labels point outside their tables".into());
        }
        let [table, url_hosts] = tables;
        Ok(Index {
            lists,
            labels,
            table,
            url_hosts,
        })
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

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u32s(out: &mut Vec<u8>, vs: &[u32]) {
    put_u64(out, vs.len() as u64);
    for v in vs {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u64s(out: &mut Vec<u8>, vs: &[u64]) {
    put_u64(out, vs.len() as u64);
    for v in vs {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).ok_or("a length overflows")?;
        let slice = self.bytes.get(self.at..end).ok_or("it ends too early")?;
        self.at = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().map_err(|_| "short read")?))
    }

    fn u32s(&mut self) -> Result<Vec<u32>, String> {
        let n = usize::try_from(self.u64()?).map_err(|_| "a length overflows")?;
        let bytes = self.take(n.checked_mul(4).ok_or("a length overflows")?)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    fn u64s(&mut self) -> Result<Vec<u64>, String> {
        let n = usize::try_from(self.u64()?).map_err(|_| "a length overflows")?;
        let bytes = self.take(n.checked_mul(8).ok_or("a length overflows")?)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect())
    }
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
