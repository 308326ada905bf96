//! Importing block and allow lists: UT1 folders and archives, plain domain
//! lists, hosts files and URL lists.
//!
//! Every entry goes through the canonicaliser ([`crate::canon`]) on the way in,
//! so an imported list holds exactly the keys a lookup will build. A line that
//! is not a domain or URL is *junk*: it is counted and the first few are kept
//! with their line numbers so a technician can see what went wrong, but one bad
//! line never stops a list loading. A file that is mostly junk is refused
//! instead, because that is almost always the wrong file or the wrong format,
//! and silently loading a fraction of it would filter less than the school
//! thinks it does.
//!
//! The formats:
//!
//! * `domains`: one domain on each line. `#` starts a comment. `*.example.com`
//!   and `.example.com` mean `example.com` (a domain entry always covers its
//!   subdomains). IPv4 addresses are accepted.
//! * `hosts`: a hosts file, `0.0.0.0 a.example b.example # comment`. The
//!   address is ignored; names such as `localhost` are skipped.
//! * `urls`: one URL on each line, with or without a scheme (UT1's have none).
//!   `#` starts a comment at the start of a line or after a space; elsewhere
//!   it is part of the URL. A line that is only a host becomes a domain entry.
//! * `ut1`: the folder layout of the UT1 blacklists, `<category>/domains` and
//!   `<category>/urls`, either as a folder ([`import_ut1_dir`]) or as the
//!   `blacklists.tar.gz` that UT1 publishes ([`import_ut1_archive`]).

mod parse;
mod ut1;

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::taxonomy::Category;

pub use ut1::{Ut1Import, import_ut1_archive, import_ut1_dir};

/// How many junk lines a report keeps, so a huge bad file cannot fill memory.
pub const JUNK_KEPT: usize = 20;

/// How much of a junk line a report keeps.
pub const JUNK_TEXT_CHARS: usize = 200;

/// The layout of a list file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListFormat {
    /// A UT1 blacklists folder or archive (not a single file).
    Ut1,
    /// One domain on each line.
    Domains,
    /// A hosts file: an address, then one or more names.
    Hosts,
    /// One URL on each line, with or without a scheme.
    Urls,
}

impl ListFormat {
    /// The name used on the command line and in configuration.
    pub fn id(self) -> &'static str {
        match self {
            ListFormat::Ut1 => "ut1",
            ListFormat::Domains => "domains",
            ListFormat::Hosts => "hosts",
            ListFormat::Urls => "urls",
        }
    }

    /// What one entry of this format is, for messages: "is not {what}".
    fn entry_noun(self) -> &'static str {
        match self {
            ListFormat::Ut1 | ListFormat::Domains => "a domain name",
            ListFormat::Hosts => "a hosts-file entry",
            ListFormat::Urls => "a URL",
        }
    }
}

impl fmt::Display for ListFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for ListFormat {
    type Err = ListError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ut1" => Ok(ListFormat::Ut1),
            "domains" => Ok(ListFormat::Domains),
            "hosts" => Ok(ListFormat::Hosts),
            "urls" => Ok(ListFormat::Urls),
            _ => Err(ListError::UnknownFormat(s.to_owned())),
        }
    }
}

/// One list, ready to compile into the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedList {
    /// `ut1/<folder>` for UT1, otherwise the file's stem.
    pub name: String,
    pub category: Category,
    /// Canonical hosts ([`crate::canon::canonical_host`]), sorted, no repeats.
    pub domains: Vec<String>,
    /// Canonical URL keys ([`crate::canon::CanonUrl::as_key`]), sorted, no repeats.
    pub urls: Vec<String>,
    /// One report for each file read: one for a plain file, and for a UT1
    /// folder one each for `domains` and `urls`.
    pub reports: Vec<ImportReport>,
}

impl ImportedList {
    /// Junk lines across all the files of this list.
    pub fn junk_count(&self) -> usize {
        self.reports.iter().map(|r| r.junk_count).sum()
    }
}

/// What happened to each line of one file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// The file's path, or `archive.tar.gz:blacklists/<folder>/domains`.
    pub source: String,
    /// Lines in the file, blank and comment lines included.
    pub lines: usize,
    /// Distinct entries kept.
    pub entries: usize,
    /// Entries dropped because the file already had them (after canonicalising,
    /// so `Example.com` repeats `example.com`).
    pub duplicates: usize,
    /// Blank lines, comment lines and names such as `localhost` that no list
    /// should hold.
    pub skipped: usize,
    /// Lines (or, in a hosts file, names) that are not a domain or URL.
    pub junk_count: usize,
    /// The first [`JUNK_KEPT`] of them.
    pub junk: Vec<JunkLine>,
}

/// A line that could not be read as an entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JunkLine {
    /// 1-based.
    pub line: usize,
    /// At most [`JUNK_TEXT_CHARS`] characters; bytes that are not UTF-8 are
    /// shown as U+FFFD.
    pub text: String,
    /// Why it was refused, usually the canonicaliser's message.
    pub reason: String,
}

/// Why a list could not be imported. Every message names the file and says
/// what to do next.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("could not read {}: {error}; check that it exists and that schoolgate may read it", path.display())]
    Read { path: PathBuf, error: io::Error },

    #[error(
        "could not read the archive {archive}: {detail}; check that it is a UT1 blacklists.tar.gz and download it again if it may be damaged"
    )]
    Archive { archive: String, detail: String },

    #[error(
        "{file} is larger than {limit} bytes, more than schoolgate reads from one list file; split it into smaller lists"
    )]
    TooLarge { file: String, limit: u64 },

    #[error(
        "line {line} of {file} is not {noun}: '{text}' ({reason}); {junk} of its {checked} entries \
         are like this, so the file was refused. Check that it is the right file and that its format is '{format}'",
        noun = format.entry_noun()
    )]
    MostlyJunk {
        file: String,
        format: ListFormat,
        line: usize,
        text: String,
        reason: String,
        junk: usize,
        checked: usize,
    },

    #[error("'{0}' is not a list format; use one of ut1, domains, hosts or urls")]
    UnknownFormat(String),

    #[error(
        "{file}: the ut1 format is a folder of lists, not one file; import the UT1 blacklists folder or its .tar.gz archive instead"
    )]
    Ut1IsAFolder { file: String },

    #[error(
        "{place} holds no UT1 categories (folders such as gambling/ with a domains or urls file); check that it is the UT1 blacklists folder or archive"
    )]
    NoUt1Categories { place: String },
}

/// Reads and parses one list file. `progress` is told the bytes read so far.
pub fn import_file(
    path: &Path,
    format: ListFormat,
    category: Category,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportedList, ListError> {
    let source = path.display().to_string();
    if format == ListFormat::Ut1 {
        return Err(ListError::Ut1IsAFolder { file: source });
    }
    let mut file = File::open(path).map_err(|error| ListError::Read {
        path: path.to_owned(),
        error,
    })?;
    let bytes = read_all(&mut file, 0, progress).map_err(|error| ListError::Read {
        path: path.to_owned(),
        error,
    })?;
    parse_list(&source, &bytes, format, category)
}

/// Parses the bytes of one list file. `source` names it in the report and in
/// errors. This is the core of every importer, and what the fuzz target drives.
pub fn parse_list(
    source: &str,
    bytes: &[u8],
    format: ListFormat,
    category: Category,
) -> Result<ImportedList, ListError> {
    if format == ListFormat::Ut1 {
        return Err(ListError::Ut1IsAFolder {
            file: source.to_owned(),
        });
    }
    let parsed = parse::parse(source, bytes, format)?;
    Ok(ImportedList {
        name: stem(source),
        category,
        domains: parsed.domains,
        urls: parsed.urls,
        reports: vec![parsed.report],
    })
}

/// The file name without its extension: `lists/gambling.txt` is `gambling`.
fn stem(source: &str) -> String {
    Path::new(source)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| source.to_owned())
}

/// Reads to the end in chunks so a progress bar moves on large lists.
fn read_all(
    reader: &mut dyn Read,
    already: u64,
    progress: &mut dyn FnMut(u64),
) -> io::Result<Vec<u8>> {
    const CHUNK: u64 = 1 << 20;
    let mut bytes = Vec::new();
    loop {
        let n = Read::take(&mut *reader, CHUNK).read_to_end(&mut bytes)?;
        if n == 0 {
            return Ok(bytes);
        }
        progress(already + bytes.len() as u64);
    }
}
