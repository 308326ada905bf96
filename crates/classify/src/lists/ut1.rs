//! UT1 blacklists, as a folder or as the `blacklists.tar.gz` UT1 publishes.
//!
//! The layout is `<category>/domains` and `<category>/urls` (plus `usage`,
//! `expressions` and other files that schoolgate does not read). Some names
//! are aliases of others: symbolic links in the real distribution, but small
//! files holding the target's name in a git checkout made without symlink
//! support. Either way an alias is reported, never imported, so no folder is
//! read twice. Large lists may be split into `domains.0`, `domains.1`, ... in
//! git mirrors, and those parts are read as one list.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path};

use flate2::read::GzDecoder;

use super::parse::{Parsed, parse};
use super::{ImportedList, ListError, ListFormat, read_all};
use crate::taxonomy::{Category, Ut1Mapping, ut1_category};

/// Everything a UT1 folder or archive held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ut1Import {
    /// One list for each UT1 category schoolgate imports, in name order.
    pub lists: Vec<ImportedList>,
    /// UT1 folders not imported: (UT1 name, why).
    pub ignored: Vec<(String, String)>,
    /// Aliases found: (alias, the folder it names).
    pub aliases: Vec<(String, String)>,
}

/// The most schoolgate reads from one file in an archive. The largest UT1
/// list (adult/domains) is about 100 MB; this stops a hostile archive that
/// claims a huge entry from exhausting memory.
const MAX_ENTRY_BYTES: u64 = 1 << 30;

/// An alias file is a name, not a list: anything longer is some other file.
const MAX_ALIAS_FILE_BYTES: u64 = 64;

/// How long a chain of aliases may be before it is treated as a loop.
const MAX_ALIAS_HOPS: usize = 8;

const UNKNOWN: &str = "not a UT1 category schoolgate knows";
const NO_LISTS: &str = "the folder has no domains or urls file";

/// Imports a UT1 blacklists folder (the one holding `adult/`, `gambling/` and
/// so on, or its parent if that holds `blacklists/`). `progress` is told the
/// bytes read so far.
pub fn import_ut1_dir(dir: &Path, progress: &mut dyn FnMut(u64)) -> Result<Ut1Import, ListError> {
    let nested = dir.join("blacklists");
    let root = if nested.is_dir() {
        nested
    } else {
        dir.to_owned()
    };
    let read_error = |path: &Path, error| ListError::Read {
        path: path.to_owned(),
        error,
    };

    let mut layout = Layout::default();
    let entries = fs::read_dir(&root).map_err(|e| read_error(&root, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| read_error(&root, e))?;
        let path = entry.path();
        // Hidden entries (such as .git in a mirror checkout) are not UT1's.
        let Some(name) = entry
            .file_name()
            .to_str()
            .filter(|n| !n.starts_with('.'))
            .map(str::to_owned)
        else {
            continue;
        };
        let kind = entry.file_type().map_err(|e| read_error(&path, e))?;
        if kind.is_dir() {
            layout.folders.insert(name);
        } else if kind.is_symlink() {
            let target = fs::read_link(&path).map_err(|e| read_error(&path, e))?;
            if let Some(target) = link_target_name(&target) {
                layout.links.insert(name, Link::Symlink(target));
            }
        } else if kind.is_file() {
            let len = entry.metadata().map_err(|e| read_error(&path, e))?.len();
            if len <= MAX_ALIAS_FILE_BYTES {
                let bytes = fs::read(&path).map_err(|e| read_error(&path, e))?;
                if let Some(target) = alias_file_target(&bytes) {
                    layout.links.insert(name, Link::File(target));
                }
            }
        }
    }

    let mut read_so_far = 0u64;
    let mut parsed = BTreeMap::new();
    for folder in &layout.folders {
        if folder_category(folder).is_err() {
            continue;
        }
        let folder_path = root.join(folder);
        let mut files: Vec<(String, ListFormat)> = Vec::new();
        for entry in fs::read_dir(&folder_path).map_err(|e| read_error(&folder_path, e))? {
            let entry = entry.map_err(|e| read_error(&folder_path, e))?;
            let name = entry.file_name();
            if let Some(format) = name.to_str().and_then(list_file_format) {
                files.push((name.to_string_lossy().into_owned(), format));
            }
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut parts = Vec::new();
        for (file, format) in files {
            let path = folder_path.join(&file);
            let bytes = fs::File::open(&path)
                .and_then(|mut f| read_all(&mut f, read_so_far, progress))
                .map_err(|e| read_error(&path, e))?;
            read_so_far += bytes.len() as u64;
            parts.push(parse(&path.display().to_string(), &bytes, format)?);
        }
        parsed.insert(folder.clone(), parts);
    }
    layout.finish(&root.display().to_string(), parsed)
}

/// Imports a UT1 `blacklists.tar.gz` from `reader`, entirely in memory: nothing
/// is extracted to disk. `source` names the archive in reports and errors;
/// `progress` is told the compressed bytes read so far.
pub fn import_ut1_archive(
    reader: impl Read,
    source: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<Ut1Import, ListError> {
    let archive_error = |e: io::Error| ListError::Archive {
        archive: source.to_owned(),
        detail: e.to_string(),
    };
    let counting = Counting {
        inner: reader,
        read: 0,
        reported: 0,
        progress,
    };
    let mut archive = tar::Archive::new(GzDecoder::new(counting));
    let mut layout = Layout::default();
    let mut parsed: BTreeMap<String, Vec<(String, Parsed)>> = BTreeMap::new();

    for entry in archive.entries().map_err(archive_error)? {
        let mut entry = entry.map_err(archive_error)?;
        let path = entry.path().map_err(archive_error)?.into_owned();
        let Some(parts) = relative_parts(&path) else {
            continue;
        };
        if parts.iter().skip(1).any(|p| p.starts_with('.')) {
            continue;
        }
        let kind = entry.header().entry_type();
        let entry_source = format!("{source}:{}", parts.join("/"));
        // parts[0] is the top folder (`blacklists` in UT1's archive).
        match (parts.as_slice(), kind) {
            ([_, name], k) if k.is_dir() => {
                layout.folders.insert(name.clone());
            }
            ([_, name], k) if k.is_symlink() => {
                let target = entry.link_name().map_err(archive_error)?;
                if let Some(target) = target.as_deref().and_then(link_target_name) {
                    layout.links.insert(name.clone(), Link::Symlink(target));
                }
            }
            ([_, name], k) if k.is_file() && entry.size() <= MAX_ALIAS_FILE_BYTES => {
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).map_err(archive_error)?;
                if let Some(target) = alias_file_target(&bytes) {
                    layout.links.insert(name.clone(), Link::File(target));
                }
            }
            ([_, folder, file], k) if k.is_file() => {
                layout.folders.insert(folder.clone());
                let Some(format) = list_file_format(file) else {
                    continue;
                };
                // Lists schoolgate will not import are not even decompressed
                // into memory.
                if folder_category(folder).is_err() {
                    continue;
                }
                if entry.size() > MAX_ENTRY_BYTES {
                    return Err(ListError::TooLarge {
                        file: entry_source,
                        limit: MAX_ENTRY_BYTES,
                    });
                }
                let mut bytes = Vec::new();
                // The header's size is only a claim; the limit holds anyway.
                (&mut entry)
                    .take(MAX_ENTRY_BYTES + 1)
                    .read_to_end(&mut bytes)
                    .map_err(archive_error)?;
                if bytes.len() as u64 > MAX_ENTRY_BYTES {
                    return Err(ListError::TooLarge {
                        file: entry_source,
                        limit: MAX_ENTRY_BYTES,
                    });
                }
                let list = parse(&entry_source, &bytes, format)?;
                parsed
                    .entry(folder.clone())
                    .or_default()
                    .push((file.clone(), list));
            }
            _ => {}
        }
    }

    // tar stops at its end-of-archive blocks, before the gzip trailer. Its
    // CRC and length are the only check on the lists' own bytes, so read to
    // the end: a cut-off or damaged download is refused, not half imported.
    let mut gzip = archive.into_inner();
    io::copy(&mut gzip, &mut io::sink()).map_err(archive_error)?;
    let counting = gzip.into_inner();
    (counting.progress)(counting.read);

    let parsed = parsed
        .into_iter()
        .map(|(folder, mut files)| {
            // Archive order is not guaranteed; reports follow file names.
            files.sort_by(|a, b| a.0.cmp(&b.0));
            (folder, files.into_iter().map(|(_, list)| list).collect())
        })
        .collect();
    layout.finish(source, parsed)
}

/// Where an alias points.
enum Link {
    Symlink(String),
    File(String),
}

impl Link {
    fn target(&self) -> &str {
        match self {
            Link::Symlink(t) | Link::File(t) => t,
        }
    }
}

/// The names found at the top of a UT1 tree.
#[derive(Default)]
struct Layout {
    folders: BTreeSet<String>,
    links: BTreeMap<String, Link>,
}

impl Layout {
    /// Turns what was found and parsed into the import: lists for folders
    /// with a category, reasons for the rest, and the aliases.
    fn finish(
        self,
        place: &str,
        mut parsed: BTreeMap<String, Vec<Parsed>>,
    ) -> Result<Ut1Import, ListError> {
        let mut import = Ut1Import {
            lists: Vec::new(),
            ignored: Vec::new(),
            aliases: Vec::new(),
        };
        for folder in &self.folders {
            match folder_category(folder) {
                Err(reason) => import.ignored.push((folder.clone(), reason.to_owned())),
                Ok(category) => match parsed.remove(folder) {
                    Some(parts) if !parts.is_empty() => {
                        import.lists.push(merge(folder, category, parts));
                    }
                    _ => import.ignored.push((folder.clone(), NO_LISTS.to_owned())),
                },
            }
        }
        // Category folders without a single list are no UT1 distribution;
        // taking one as such would replace every UT1 list with nothing.
        if import.lists.is_empty() {
            return Err(ListError::NoUt1Categories {
                place: place.to_owned(),
            });
        }

        for (alias, link) in &self.links {
            // A real folder of the same name wins; it has been imported.
            if self.folders.contains(alias) {
                continue;
            }
            match self.resolve(link) {
                Ok(target) => import.aliases.push((alias.clone(), target.to_owned())),
                // A file that merely looks like an alias is some other file.
                Err(_) if matches!(link, Link::File(_)) => {}
                Err(reason) => import.ignored.push((alias.clone(), reason)),
            }
        }
        import.ignored.sort();
        Ok(import)
    }

    /// The folder an alias finally names, following aliases of aliases.
    fn resolve<'a>(&'a self, link: &'a Link) -> Result<&'a str, String> {
        let mut target = link.target();
        for _ in 0..MAX_ALIAS_HOPS {
            if self.folders.contains(target) {
                return Ok(target);
            }
            match self.links.get(target) {
                Some(next) => target = next.target(),
                None => return Err(format!("an alias of {target}, which is not there")),
            }
        }
        Err("a loop of aliases that never reaches a folder".to_owned())
    }
}

/// The category a UT1 folder is imported into, or why it is not.
fn folder_category(folder: &str) -> Result<Category, &'static str> {
    match ut1_category(folder) {
        Some(Ut1Mapping::Category(category)) => Ok(category),
        Some(Ut1Mapping::Ignored { reason }) => Err(reason),
        None => Err(UNKNOWN),
    }
}

/// Joins the files of one folder (domains, urls, split parts) into one list.
fn merge(folder: &str, category: Category, parts: Vec<Parsed>) -> ImportedList {
    let several = parts.len() > 1;
    let mut list = ImportedList {
        name: format!("ut1/{folder}"),
        category,
        domains: Vec::new(),
        urls: Vec::new(),
        reports: Vec::with_capacity(parts.len()),
    };
    for part in parts {
        if list.domains.is_empty() {
            list.domains = part.domains;
        } else {
            list.domains.extend(part.domains);
        }
        if list.urls.is_empty() {
            list.urls = part.urls;
        } else {
            list.urls.extend(part.urls);
        }
        list.reports.push(part.report);
    }
    if several {
        // A urls file may hold bare hosts, and split parts may overlap.
        list.domains.sort_unstable();
        list.domains.dedup();
        list.urls.sort_unstable();
        list.urls.dedup();
    }
    list
}

/// Which files in a category folder are lists, and of what format.
fn list_file_format(file: &str) -> Option<ListFormat> {
    let (stem, part) = match file.split_once('.') {
        Some((stem, part)) => (stem, Some(part)),
        None => (file, None),
    };
    // Git mirrors split the largest lists into domains.0, domains.1, ...
    if part.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    match stem {
        "domains" => Some(ListFormat::Domains),
        "urls" => Some(ListFormat::Urls),
        _ => None,
    }
}

/// The folder name an alias link points at: its last component.
fn link_target_name(target: &Path) -> Option<String> {
    match target.components().next_back()? {
        Component::Normal(name) => name.to_str().map(str::to_owned),
        _ => None,
    }
}

/// The target named by an alias file (`ads` holding `publicite`), if the
/// content looks like a folder name at all.
fn alias_file_target(bytes: &[u8]) -> Option<String> {
    let name = std::str::from_utf8(bytes).ok()?.trim();
    let plausible = !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    plausible.then(|| name.to_owned())
}

/// An archive path as plain names, without `./`; `None` for anything that
/// tries to leave the archive or is not UTF-8.
fn relative_parts(path: &Path) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::Normal(name) => parts.push(name.to_str()?.to_owned()),
            _ => return None,
        }
    }
    (!parts.is_empty()).then_some(parts)
}

/// Counts compressed bytes for the progress bar, telling it about once a MiB.
struct Counting<'a, R> {
    inner: R,
    read: u64,
    reported: u64,
    progress: &'a mut dyn FnMut(u64),
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read - self.reported >= 1 << 20 {
            self.reported = self.read;
            (self.progress)(self.read);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_files_are_recognised() {
        assert_eq!(list_file_format("domains"), Some(ListFormat::Domains));
        assert_eq!(list_file_format("domains.2"), Some(ListFormat::Domains));
        assert_eq!(list_file_format("urls"), Some(ListFormat::Urls));
        for other in [
            "usage",
            "expressions",
            "domains.",
            "domains.gz",
            "domains_diff",
            "very_restrictive_expression",
        ] {
            assert_eq!(list_file_format(other), None, "{other}");
        }
    }

    #[test]
    fn alias_targets_are_names() {
        assert_eq!(
            alias_file_target(b"publicite"),
            Some("publicite".to_owned())
        );
        assert_eq!(alias_file_target(b"adult\n"), Some("adult".to_owned()));
        assert_eq!(alias_file_target(b""), None);
        assert_eq!(alias_file_target(b"../etc"), None);
        assert_eq!(alias_file_target(b"two words"), None);
        assert_eq!(
            link_target_name(Path::new("../blacklists/adult/")),
            Some("adult".to_owned())
        );
        assert_eq!(link_target_name(Path::new("..")), None);
    }

    fn archive(files: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::default(),
        ));
        for (path, text) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            builder
                .append_data(&mut header, path, text.as_bytes())
                .expect("tar");
        }
        builder.into_inner().expect("tar").finish().expect("gzip")
    }

    fn gambling_archive() -> Vec<u8> {
        archive(&[("blacklists/gambling/domains", "casino.example\n")])
    }

    #[test]
    fn category_folders_without_lists_are_not_an_import() {
        let empty = archive(&[
            ("blacklists/gambling/usage", "black\n"),
            ("blacklists/adult/expressions", "casino\n"),
        ]);
        let err = import_ut1_archive(&empty[..], "empty.tar.gz", &mut |_| {}).unwrap_err();
        assert!(matches!(err, ListError::NoUt1Categories { .. }), "{err}");

        let unknown = archive(&[("blacklists/not-a-category/domains", "casino.example\n")]);
        let err = import_ut1_archive(&unknown[..], "unknown.tar.gz", &mut |_| {}).unwrap_err();
        assert!(matches!(err, ListError::NoUt1Categories { .. }), "{err}");

        let dir = tempfile::tempdir().expect("temporary folder");
        fs::create_dir_all(dir.path().join("gambling")).expect("mkdir");
        fs::write(dir.path().join("gambling/usage"), "black\n").expect("write");
        let err = import_ut1_dir(dir.path(), &mut |_| {}).unwrap_err();
        assert!(matches!(err, ListError::NoUt1Categories { .. }), "{err}");
    }

    #[test]
    fn an_archive_is_read_to_the_end_of_its_gzip_trailer() {
        let good = gambling_archive();
        let import = import_ut1_archive(&good[..], "good.tar.gz", &mut |_| {}).expect("import");
        assert_eq!(import.lists.len(), 1);

        // The tar is whole without the last 8 bytes (CRC and length).
        let cut = &good[..good.len() - 8];
        let err = import_ut1_archive(cut, "cut.tar.gz", &mut |_| {}).unwrap_err();
        assert!(matches!(err, ListError::Archive { .. }), "{err}");

        let mut bad_crc = good.clone();
        let at = bad_crc.len() - 8;
        bad_crc[at] ^= 0xff;
        let err = import_ut1_archive(&bad_crc[..], "crc.tar.gz", &mut |_| {}).unwrap_err();
        assert!(matches!(err, ListError::Archive { .. }), "{err}");
    }

    #[test]
    fn archive_paths_never_leave_the_archive() {
        assert_eq!(
            relative_parts(Path::new("./blacklists/ads")),
            Some(vec!["blacklists".to_owned(), "ads".to_owned()])
        );
        assert_eq!(relative_parts(Path::new("/etc/passwd")), None);
        assert_eq!(relative_parts(Path::new("blacklists/../x")), None);
    }
}
