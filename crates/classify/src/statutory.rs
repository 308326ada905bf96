//! Statutory lists: the Internet Watch Foundation's list of child sexual abuse
//! URLs and the Counter Terrorism Internet Referral Unit's list.
//!
//! They are matched before every other rule and nothing can override them
//! (DESIGN.md, C1). Their contents are never shown or exported: a list is held
//! only as SHA-256 hashes of canonical URL keys, whether it was loaded from
//! plain URLs or from hashes, and what anyone can see of it is its count, a
//! fingerprint and when it was loaded. `Debug` shows no more than that.
//!
//! The key hashed is the lower-case `host/path?query` of the canonical URL
//! (see [`statutory_key`]): the port is left out, and a trailing `/` on a path
//! other than `/` itself is dropped. An entry whose path is `/` covers the
//! whole host and its subdomains; an entry with a longer path covers that
//! path and everything below it on that host; an entry with a query covers
//! that URL exactly.

use std::collections::HashSet;
use std::fmt;
use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::canon::{CanonUrl, HostKind};

/// Which statutory list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StatutoryKind {
    Iwf,
    Ctiru,
}

impl StatutoryKind {
    pub const ALL: [StatutoryKind; 2] = [StatutoryKind::Iwf, StatutoryKind::Ctiru];

    /// The short id used on the command line and in file names.
    pub fn id(self) -> &'static str {
        match self {
            StatutoryKind::Iwf => "iwf",
            StatutoryKind::Ctiru => "ctiru",
        }
    }

    /// The body that publishes the list.
    pub fn name(self) -> &'static str {
        match self {
            StatutoryKind::Iwf => "Internet Watch Foundation",
            StatutoryKind::Ctiru => "Counter Terrorism Internet Referral Unit",
        }
    }

    pub fn from_id(id: &str) -> Option<StatutoryKind> {
        StatutoryKind::ALL.into_iter().find(|k| k.id() == id)
    }
}

/// The project's own test entry for each list, for the filter self-test
/// (`schoolgate selftest`, `docs/reports.md`): a host under `.invalid`,
/// which can never be a real site (RFC 2606). Every list that holds
/// entries matches it, so a test can show a list is loaded and enforced
/// without anyone ever handling a real entry. An empty list (never
/// imported) does not match it, so the test then fails, as it should.
pub fn test_host(kind: StatutoryKind) -> &'static str {
    match kind {
        StatutoryKind::Iwf => "iwf-test.schoolgate.invalid",
        StatutoryKind::Ctiru => "ctiru-test.schoolgate.invalid",
    }
}

/// The text a statutory block shows, and nothing else.
///
/// For the IWF this opens with the standard text the IWF asks every member
/// that blocks its list to show, word for word, then says where to turn:
/// the school for a block in error, and Stop It Now for anyone worried about
/// their own behaviour (IWF splash pages point there). CTIRU hits get the
/// equivalent wording.
pub fn block_text(kind: StatutoryKind) -> &'static str {
    match kind {
        StatutoryKind::Iwf => {
            "Access has been denied by your internet access provider because this page may contain \
             indecent images of children as identified by the Internet Watch Foundation. \
             If you think this page has been blocked in error, please contact your school's \
             Designated Safeguarding Lead, or the Internet Watch Foundation at https://www.iwf.org.uk/. \
             If you are worried about your own or someone else's thoughts or behaviour towards children, \
             Stop It Now offers confidential help at https://www.stopitnow.org.uk/."
        }
        StatutoryKind::Ctiru => {
            "Access has been denied by your internet access provider because this page may contain \
             unlawful terrorist material as identified by the Counter Terrorism Internet Referral Unit. \
             If you think this page has been blocked in error, please contact your school's \
             Designated Safeguarding Lead."
        }
    }
}

/// Why a statutory list could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum StatutoryError {
    #[error("could not {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error(
        "line {line} of {path} is neither a URL nor a 64-character SHA-256 hash ({reason}); fix or remove it and import the list again (the line itself is not shown, as statutory entries never are)"
    )]
    BadLine {
        path: String,
        line: usize,
        reason: String,
    },
    #[error("{path} holds no entries; a statutory list is never replaced by an empty one")]
    Empty { path: String },
    #[error(
        "the saved {kind} list {path} is damaged ({reason}); import the list again with `schoolgate lists import --statutory {kind}`"
    )]
    Corrupt {
        kind: &'static str,
        path: String,
        reason: String,
    },
}

type Hash = [u8; 32];

/// A statutory list, held only as hashes; see the module documentation.
#[derive(Clone, PartialEq, Eq)]
pub struct StatutoryList {
    kind: StatutoryKind,
    hashes: HashSet<Hash>,
    fingerprint: Hash,
}

impl fmt::Debug for StatutoryList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the entries: only what anyone may see.
        f.debug_struct("StatutoryList")
            .field("kind", &self.kind)
            .field("count", &self.hashes.len())
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

/// The key a statutory entry or candidate is hashed from.
pub fn statutory_key(host: &str, path: &str, query: Option<&str>) -> String {
    let mut key = String::with_capacity(host.len() + path.len() + 16);
    key.push_str(host);
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        key.push('/');
    } else {
        key.push_str(trimmed);
    }
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        key.push('?');
        key.push_str(q);
    }
    key
}

fn sha256(key: &str) -> Hash {
    Sha256::digest(key.as_bytes()).into()
}

/// The hash of [`statutory_key`] for these parts, without building the key.
fn key_digest(host: &str, path: &str, query: Option<&str>) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(host.as_bytes());
    let trimmed = path.trim_end_matches('/');
    hasher.update(if trimmed.is_empty() { "/" } else { trimmed }.as_bytes());
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        hasher.update(b"?");
        hasher.update(q.as_bytes());
    }
    hasher.finalize().into()
}

impl StatutoryList {
    /// An empty list of the given kind: matches nothing.
    pub fn empty(kind: StatutoryKind) -> Self {
        let mut list = StatutoryList {
            kind,
            hashes: HashSet::new(),
            fingerprint: [0; 32],
        };
        list.fingerprint = list.compute_fingerprint();
        list
    }

    /// Reads a list file: one canonical URL or one hex SHA-256 hash a line,
    /// `#` comments and blank lines skipped. Any bad line refuses the whole
    /// file, because a statutory list must load exactly as published.
    pub fn parse(kind: StatutoryKind, source: &str, text: &[u8]) -> Result<Self, StatutoryError> {
        let mut hashes = HashSet::new();
        let mut url = CanonUrl::default();
        for (n, raw) in text.split(|&b| b == b'\n').enumerate() {
            let bad = |reason: String| StatutoryError::BadLine {
                path: source.to_owned(),
                line: n + 1,
                reason,
            };
            let line = std::str::from_utf8(raw)
                .map_err(|_| bad("it is not UTF-8 text".into()))?
                .trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.len() == 64 && line.bytes().all(|b| b.is_ascii_hexdigit()) {
                let mut hash = [0u8; 32];
                hex::decode_to_slice(line, &mut hash).map_err(|e| bad(e.to_string()))?;
                hashes.insert(hash);
            } else {
                // The canonicaliser's message quotes its input, and a
                // statutory entry must never be shown: say only what is wrong.
                url.parse_into(line)
                    .map_err(|_| bad("it could not be read as a URL".into()))?;
                hashes.insert(sha256(&statutory_key(url.host(), url.path(), url.query())));
            }
        }
        if hashes.is_empty() {
            return Err(StatutoryError::Empty {
                path: source.to_owned(),
            });
        }
        let mut list = StatutoryList {
            kind,
            hashes,
            fingerprint: [0; 32],
        };
        list.fingerprint = list.compute_fingerprint();
        Ok(list)
    }

    fn sorted(&self) -> Vec<Hash> {
        let mut sorted: Vec<Hash> = self.hashes.iter().copied().collect();
        sorted.sort_unstable();
        sorted
    }

    fn compute_fingerprint(&self) -> Hash {
        let mut hasher = Sha256::new();
        hasher.update(self.kind.id().as_bytes());
        for hash in self.sorted() {
            hasher.update(hash);
        }
        hasher.finalize().into()
    }

    pub fn kind(&self) -> StatutoryKind {
        self.kind
    }

    /// How many entries the list holds.
    pub fn count(&self) -> usize {
        self.hashes.len()
    }

    /// A short fingerprint of the whole list: the same list gives the same
    /// fingerprint, so two filter nodes can be compared without showing it.
    pub fn fingerprint(&self) -> String {
        hex::encode(&self.fingerprint[..8])
    }

    /// Whether the URL is on the list.
    pub fn matches(&self, url: &CanonUrl) -> bool {
        if self.hashes.is_empty() {
            return false;
        }
        let host = url.host();
        if host == test_host(self.kind) {
            return true;
        }
        // Whole-host entries cover every subdomain.
        let mut start = 0;
        loop {
            if self.hashes.contains(&key_digest(&host[start..], "/", None)) {
                return true;
            }
            if url.host_kind() != HostKind::Domain {
                break;
            }
            match host[start..].find('.') {
                Some(dot) => start += dot + 1,
                None => break,
            }
        }
        // Path entries cover their path and everything below it.
        let path = url.path();
        for (i, b) in path.bytes().enumerate().skip(1) {
            if b == b'/' && self.hashes.contains(&key_digest(host, &path[..i], None)) {
                return true;
            }
        }
        if path.len() > 1 && self.hashes.contains(&key_digest(host, path, None)) {
            return true;
        }
        url.query().is_some_and(|q| {
            !q.is_empty() && self.hashes.contains(&key_digest(host, path, Some(q)))
        })
    }

    /// Whether a host alone (as the DNS filter and CONNECT see it) is covered
    /// by a whole-host entry.
    pub fn matches_host(&self, host: &str, kind: HostKind) -> bool {
        if self.hashes.is_empty() {
            return false;
        }
        if host == test_host(self.kind) {
            return true;
        }
        let mut start = 0;
        loop {
            if self.hashes.contains(&key_digest(&host[start..], "/", None)) {
                return true;
            }
            if kind != HostKind::Domain {
                return false;
            }
            match host[start..].find('.') {
                Some(dot) => start += dot + 1,
                None => return false,
            }
        }
    }

    /// Saves the hashes (never the URLs) through a temporary file and a rename.
    pub fn save(&self, path: &Path) -> Result<(), StatutoryError> {
        let io = |action| {
            let path = path.display().to_string();
            move |source| StatutoryError::Io {
                action,
                path,
                source,
            }
        };
        let mut out = Vec::with_capacity(16 + 32 * self.hashes.len() + 32);
        out.extend_from_slice(b"SGSTAT1\0");
        out.extend_from_slice(&(self.hashes.len() as u64).to_le_bytes());
        for hash in self.sorted() {
            out.extend_from_slice(&hash);
        }
        out.extend_from_slice(&self.fingerprint);
        let tmp = path.with_extension("tmp");
        let mut file = std::fs::File::create(&tmp).map_err(io("create"))?;
        file.write_all(&out).map_err(io("write"))?;
        file.sync_all().map_err(io("write"))?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(io("replace"))
    }

    /// Opens a list saved by [`StatutoryList::save`]; a missing file is an
    /// empty list (nothing was ever imported), a damaged one an error.
    pub fn load(kind: StatutoryKind, path: &Path) -> Result<Self, StatutoryError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(StatutoryList::empty(kind));
            }
            Err(source) => {
                return Err(StatutoryError::Io {
                    action: "read",
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        let corrupt = |reason: &str| StatutoryError::Corrupt {
            kind: kind.id(),
            path: path.display().to_string(),
            reason: reason.to_owned(),
        };
        if bytes.len() < 48 || &bytes[..8] != b"SGSTAT1\0" {
            return Err(corrupt("it does not start like a saved statutory list"));
        }
        let count = u64::from_le_bytes(bytes[8..16].try_into().map_err(|_| corrupt("short"))?);
        let expected = usize::try_from(count)
            .ok()
            .and_then(|c| c.checked_mul(32))
            .and_then(|b| b.checked_add(48));
        if expected != Some(bytes.len()) {
            return Err(corrupt("its length does not match its count"));
        }
        let body = &bytes[16..bytes.len() - 32];
        let hashes: HashSet<Hash> = body
            .chunks_exact(32)
            .map(|c| c.try_into().unwrap_or([0; 32]))
            .collect();
        let mut list = StatutoryList {
            kind,
            hashes,
            fingerprint: [0; 32],
        };
        list.fingerprint = list.compute_fingerprint();
        if list.fingerprint[..] != bytes[bytes.len() - 32..] {
            return Err(corrupt("its fingerprint does not match its contents"));
        }
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(lines: &str) -> StatutoryList {
        StatutoryList::parse(StatutoryKind::Iwf, "test", lines.as_bytes()).expect("parse")
    }

    fn hit(list: &StatutoryList, url: &str) -> bool {
        list.matches(&CanonUrl::parse(url).expect("url"))
    }

    #[test]
    fn path_entries_cover_their_path_and_below() {
        let l = list("# comment\nbad.example/gallery/\n\nother.example/a/b.html\n");
        assert!(hit(&l, "http://bad.example/gallery"));
        assert!(hit(&l, "http://bad.example/gallery/1.jpg"));
        assert!(hit(&l, "https://BAD.example:443/gallery/x/y?z=1"));
        assert!(!hit(&l, "http://bad.example/galleryx"));
        assert!(!hit(&l, "http://bad.example/"));
        assert!(hit(&l, "http://other.example/a/b.html"));
        assert!(!hit(&l, "http://other.example/a/"));
        assert!(!hit(&l, "http://sub.bad.example/gallery"));
    }

    #[test]
    fn whole_host_entries_cover_subdomains() {
        let l = list("whole.example\n");
        assert!(hit(&l, "http://whole.example/"));
        assert!(hit(&l, "http://deep.sub.whole.example/x"));
        assert!(!hit(&l, "http://notwhole.example/"));
        assert!(l.matches_host("a.whole.example", HostKind::Domain));
    }

    #[test]
    fn query_entries_match_exactly() {
        let l = list("q.example/view.php?id=7\n");
        assert!(hit(&l, "http://q.example/view.php?id=7"));
        assert!(!hit(&l, "http://q.example/view.php?id=8"));
        assert!(!hit(&l, "http://q.example/view.php"));
    }

    #[test]
    fn hashed_lists_match_like_plain_ones() {
        let key = statutory_key("hashed.example", "/p/", None);
        let hash = hex::encode(sha256(&key));
        let l = list(&format!("{hash}\n"));
        assert!(hit(&l, "http://hashed.example/p/q"));
        assert_eq!(l.count(), 1);
        // The same entry loaded plainly gives the same fingerprint.
        assert_eq!(l.fingerprint(), list("hashed.example/p\n").fingerprint());
    }

    #[test]
    fn the_digest_is_the_hash_of_the_key() {
        for (host, path, query) in [
            ("a.example", "/", None),
            ("a.example", "/x/y/", None),
            ("a.example", "/x", Some("q=1")),
            ("a.example", "/", Some("")),
        ] {
            assert_eq!(
                key_digest(host, path, query),
                sha256(&statutory_key(host, path, query))
            );
        }
    }

    #[test]
    fn debug_never_shows_entries() {
        let l = list("secret-entry.example/x\n");
        let shown = format!("{l:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("count: 1"));
    }

    #[test]
    fn bad_lines_and_empty_files_are_refused() {
        let err = StatutoryList::parse(
            StatutoryKind::Ctiru,
            "ctiru.txt",
            b"ok.example/a\nhttp://secret*entry.example/\n",
        )
        .expect_err("bad");
        assert!(err.to_string().contains("line 2 of ctiru.txt"), "{err}");
        assert!(
            !err.to_string().contains("secret"),
            "the entry was shown: {err}"
        );
        let err = StatutoryList::parse(StatutoryKind::Iwf, "iwf.txt", b"# only a comment\n")
            .expect_err("empty");
        assert!(
            err.to_string().contains("never replaced by an empty one"),
            "{err}"
        );
    }

    #[test]
    fn saved_lists_reopen_and_damage_is_found() {
        let l = list("a.example/x\nb.example\n");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("iwf.sgs");
        l.save(&path).expect("save");
        let raw = std::fs::read(&path).expect("read");
        assert!(
            !raw.windows(9).any(|w| w == b"a.example"),
            "plain text saved"
        );
        let loaded = StatutoryList::load(StatutoryKind::Iwf, &path).expect("load");
        assert_eq!(loaded, l);
        let mut damaged = raw.clone();
        damaged[20] ^= 1;
        std::fs::write(&path, damaged).expect("write");
        assert!(StatutoryList::load(StatutoryKind::Iwf, &path).is_err());
        let missing =
            StatutoryList::load(StatutoryKind::Iwf, &dir.path().join("none")).expect("missing");
        assert_eq!(missing.count(), 0);
    }

    #[test]
    fn the_test_entry_matches_only_a_loaded_list() {
        let url = CanonUrl::parse("http://iwf-test.schoolgate.invalid/").expect("url");
        assert!(!StatutoryList::empty(StatutoryKind::Iwf).matches(&url));
        let list = StatutoryList::parse(StatutoryKind::Iwf, "t", b"http://listed.example/page\n")
            .expect("list");
        assert!(list.matches(&url));
        assert!(list.matches_host("iwf-test.schoolgate.invalid", HostKind::Domain));
        assert_eq!(list.count(), 1, "the test entry is not counted as an entry");
        let ctiru =
            StatutoryList::parse(StatutoryKind::Ctiru, "t", b"http://listed.example/page\n")
                .expect("list");
        assert!(!ctiru.matches(&url), "each list has its own test entry");
    }
}
