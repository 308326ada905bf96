//! The data folder: the database, the compiled index, the lists it was built
//! from, and the statutory lists (as hashes only).
//!
//! ```text
//! DIR/schoolgate.db          policy, its history, list records, audit trail
//! DIR/index.bin              the compiled index of every list
//! DIR/lists/*.list           each list's canonical entries, to rebuild from
//! DIR/statutory/iwf.sgs      statutory lists, hashes only
//! ```
//!
//! A fresh folder is set up on first use with the shipped default policy and
//! the bundled starter lists, so schoolgate filters real sites at once.

use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use classify::index::{Index, IndexBuilder};
use classify::lists::{ImportedList, Ut1Import, import_ut1_archive};
use classify::statutory::{StatutoryKind, StatutoryList};
use classify::taxonomy::Category;
use jiff::Timestamp;
use policy::defaults::default_policy;
use policy::{Engine, Lists};
use store::sqlite::SqliteStore;
use store::{ListRecord, Store};

use crate::exit::Failure;

/// The starter lists: a subset of the UT1 blacklists of Université Toulouse
/// Capitole, CC BY-SA 4.0 (see data/starter/README.md).
pub const STARTER_ARCHIVE: &[u8] = include_bytes!("../../../data/starter/blacklists.tar.gz");
pub const STARTER_SOURCE: &str = "the bundled starter lists (UT1, CC BY-SA 4.0)";

/// The first line of a saved list file; bump on any change of format.
const LIST_FILE_HEADER: &str = "# schoolgate list 1";

#[derive(Clone)]
pub struct DataDir {
    pub root: PathBuf,
    pub store: SqliteStore,
}

/// A list as kept in the data folder.
pub struct SavedList {
    pub name: String,
    pub category: Option<Category>,
    pub domains: Vec<String>,
    pub urls: Vec<String>,
}

impl DataDir {
    pub fn db_path(root: &Path) -> PathBuf {
        root.join("schoolgate.db")
    }

    pub fn index_path(&self) -> PathBuf {
        self.root.join("index.bin")
    }

    pub fn lists_dir(&self) -> PathBuf {
        self.root.join("lists")
    }

    pub fn statutory_path(&self, kind: StatutoryKind) -> PathBuf {
        self.root
            .join("statutory")
            .join(format!("{}.sgs", kind.id()))
    }

    /// Opens the data folder, setting it up first if it is new.
    pub async fn open(root: &Path, actor: &str) -> Result<DataDir> {
        let fresh = !DataDir::db_path(root).exists();
        fs::create_dir_all(root.join("lists"))
            .and_then(|()| fs::create_dir_all(root.join("statutory")))
            .with_context(|| {
                format!(
                    "could not create the data folder {}; check the path and its permissions",
                    root.display()
                )
            })?;
        let store = SqliteStore::open(&DataDir::db_path(root)).await?;
        let dir = DataDir {
            root: root.to_owned(),
            store,
        };
        if fresh || dir.store.current_policy().await?.is_none() {
            dir.initialise(actor).await?;
        }
        Ok(dir)
    }

    async fn initialise(&self, actor: &str) -> Result<()> {
        eprintln!(
            "Setting up a new schoolgate data folder at {} with the default policy and {STARTER_SOURCE}.",
            self.root.display()
        );
        self.store
            .save_policy(
                &default_policy(),
                actor,
                "First set-up: the shipped default policy, derived from the school's Online Safety Policy (Kent template)",
            )
            .await?;
        if self.saved_lists()?.is_empty() {
            let import = import_ut1_archive(
                STARTER_ARCHIVE,
                "starter:blacklists.tar.gz",
                &mut |_| {},
            )
            .context(
                "the bundled starter lists could not be read; this copy of schoolgate is damaged",
            )?;
            self.replace_ut1(&import, "ut1", STARTER_SOURCE, actor)
                .await?;
        }
        Ok(())
    }

    /// Replaces every UT1 list with a new import and rebuilds the index.
    /// The new lists are written beside the old ones and swapped in only
    /// once they and the index are complete.
    pub async fn replace_ut1(
        &self,
        import: &Ut1Import,
        format: &str,
        source: &str,
        actor: &str,
    ) -> Result<Index> {
        let kept: Vec<SavedList> = self
            .saved_lists()?
            .into_iter()
            .filter(|l| !l.name.starts_with("ut1/"))
            .collect();
        let mut all: Vec<SavedList> = import.lists.iter().map(saved).collect();
        let new_names: Vec<String> = all.iter().map(|l| l.name.clone()).collect();
        all.extend(kept);
        let index = self.swap_lists(&all)?;
        let now = Timestamp::now();
        let old_names: Vec<String> = self
            .store
            .lists()
            .await?
            .into_iter()
            .map(|r| r.name)
            .filter(|n| n.starts_with("ut1/") && !new_names.contains(n))
            .collect();
        if !old_names.is_empty() {
            self.store.remove_lists(&old_names, actor).await?;
        }
        for list in &import.lists {
            self.store
                .record_list(&record(list, format, source, now, actor))
                .await?;
        }
        Ok(index)
    }

    /// Adds or replaces one list and rebuilds the index.
    pub async fn replace_list(
        &self,
        list: &ImportedList,
        format: &str,
        source: &str,
        actor: &str,
    ) -> Result<Index> {
        let mut all: Vec<SavedList> = self
            .saved_lists()?
            .into_iter()
            .filter(|l| l.name != list.name)
            .collect();
        all.push(saved(list));
        let index = self.swap_lists(&all)?;
        self.store
            .record_list(&record(list, format, source, Timestamp::now(), actor))
            .await?;
        Ok(index)
    }

    /// Writes the lists to a new folder, builds and saves the index from
    /// them, then swaps the folder in. A failure part-way leaves the old
    /// lists and index as they were.
    fn swap_lists(&self, lists: &[SavedList]) -> Result<Index> {
        let staging = self.root.join("lists.new");
        if staging.exists() {
            fs::remove_dir_all(&staging)
                .with_context(|| format!("could not clear {}", staging.display()))?;
        }
        fs::create_dir_all(&staging)
            .with_context(|| format!("could not create {}", staging.display()))?;
        for list in lists {
            write_list(&staging, list)?;
        }
        let index = build_index(lists)?;
        let new_index = self.root.join("index.new.bin");
        index.save(&new_index)?;
        let old = self.root.join("lists.old");
        if old.exists() {
            fs::remove_dir_all(&old)
                .with_context(|| format!("could not clear {}", old.display()))?;
        }
        let current = self.lists_dir();
        if current.exists() {
            fs::rename(&current, &old)
                .with_context(|| format!("could not move {} aside", current.display()))?;
        }
        fs::rename(&staging, &current)
            .with_context(|| format!("could not put the new lists in {}", current.display()))?;
        fs::rename(&new_index, self.index_path())
            .context("could not put the new index in place")?;
        let _ = fs::remove_dir_all(&old);
        Ok(index)
    }

    /// Rebuilds the index from the saved lists.
    pub fn rebuild_index(&self) -> Result<Index> {
        let lists = self.saved_lists()?;
        let index = build_index(&lists)?;
        index.save(&self.index_path())?;
        Ok(index)
    }

    /// Every saved list, by name.
    pub fn saved_lists(&self) -> Result<Vec<SavedList>> {
        let mut lists = Vec::new();
        let dir = self.lists_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(lists),
            Err(e) => return Err(e).with_context(|| format!("could not read {}", dir.display())),
        };
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "list") {
                lists.push(read_list(&path)?);
            }
        }
        lists.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(lists)
    }

    /// Loads the index, or rebuilds it from the saved lists when it is
    /// missing. A damaged index is an error: filtering must not carry on as
    /// if the lists were empty.
    pub fn load_index(&self) -> Result<Index> {
        let path = self.index_path();
        if !path.exists() {
            return self.rebuild_index();
        }
        Ok(Index::load(&path)?)
    }

    pub fn load_statutory(&self) -> Result<Vec<StatutoryList>> {
        StatutoryKind::ALL
            .iter()
            .map(|&kind| Ok(StatutoryList::load(kind, &self.statutory_path(kind))?))
            .collect()
    }

    /// The school's time zone: `school.timezone` in the policy in force.
    pub async fn school_zone(&self) -> Result<jiff::tz::TimeZone> {
        let revision = self
            .store
            .current_policy()
            .await?
            .context("the data folder has no policy; import one with `schoolgate policy import FILE --reason TEXT`")?;
        Ok(revision.policy()?.time_zone()?)
    }

    /// The policy in force compiled with the lists: what every decision uses.
    pub async fn engine(&self) -> Result<Engine> {
        let revision = self
            .store
            .current_policy()
            .await?
            .context("the data folder has no policy; import one with `schoolgate policy import FILE --reason TEXT`")?;
        let policy = revision.policy()?;
        let lists = Lists {
            index: self.load_index()?,
            statutory: self.load_statutory()?,
        };
        Ok(Engine::new(policy, Arc::new(lists))?)
    }
}

fn saved(list: &ImportedList) -> SavedList {
    SavedList {
        name: list.name.clone(),
        category: Some(list.category),
        domains: list.domains.clone(),
        urls: list.urls.clone(),
    }
}

fn record(
    list: &ImportedList,
    format: &str,
    source: &str,
    at: Timestamp,
    actor: &str,
) -> ListRecord {
    ListRecord {
        name: list.name.clone(),
        category: Some(list.category.id().to_owned()),
        format: format.to_owned(),
        source: source.to_owned(),
        domains: list.domains.len() as i64,
        urls: list.urls.len() as i64,
        junk: list.junk_count() as i64,
        imported_at: at,
        actor: actor.to_owned(),
    }
}

/// List names become file names: `ut1/gambling` is `ut1~gambling.list`.
fn list_file_name(name: &str) -> String {
    format!("{}.list", name.replace('/', "~"))
}

/// Checks a list name a person gave: short, plain characters, so it is safe
/// as a file name and readable in reports.
pub fn check_list_name(name: &str) -> Result<(), Failure> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.' | b'/')
        })
        && !name.contains("//")
        && !name.starts_with('/')
        && !name.ends_with('/');
    if ok {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "'{name}' is not a usable list name; use lower-case letters, digits, '-', '_', '.' and '/', such as local/blocked-games"
        )))
    }
}

fn write_list(dir: &Path, list: &SavedList) -> Result<()> {
    let path = dir.join(list_file_name(&list.name));
    let file =
        fs::File::create(&path).with_context(|| format!("could not create {}", path.display()))?;
    let mut out = BufWriter::new(file);
    writeln!(out, "{LIST_FILE_HEADER}")?;
    writeln!(out, "name {}", list.name)?;
    writeln!(out, "category {}", list.category.map_or("-", Category::id))?;
    for domain in &list.domains {
        writeln!(out, "d {domain}")?;
    }
    for url in &list.urls {
        writeln!(out, "u {url}")?;
    }
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .with_context(|| format!("could not write {}", path.display()))?;
    Ok(())
}

fn read_list(path: &Path) -> Result<SavedList> {
    let file =
        fs::File::open(path).with_context(|| format!("could not read {}", path.display()))?;
    let mut lines = BufReader::new(file).lines();
    let damaged = |line: usize, why: &str| {
        anyhow::anyhow!(
            "line {line} of {} {why}; the saved list is damaged: import it again or run `schoolgate lists update`",
            path.display()
        )
    };
    if lines.next().transpose()?.as_deref() != Some(LIST_FILE_HEADER) {
        return Err(damaged(1, "is not a schoolgate list header"));
    }
    let name = lines
        .next()
        .transpose()?
        .and_then(|l| l.strip_prefix("name ").map(str::to_owned))
        .ok_or_else(|| damaged(2, "does not give the list's name"))?;
    let category = match lines
        .next()
        .transpose()?
        .as_deref()
        .and_then(|l| l.strip_prefix("category "))
    {
        Some("-") => None,
        Some(id) => {
            Some(Category::from_id(id).ok_or_else(|| damaged(3, "names an unknown category"))?)
        }
        None => return Err(damaged(3, "does not give the list's category")),
    };
    let mut list = SavedList {
        name,
        category,
        domains: Vec::new(),
        urls: Vec::new(),
    };
    for (i, line) in lines.enumerate() {
        let line = line?;
        match line.split_once(' ') {
            Some(("d", d)) => list.domains.push(d.to_owned()),
            Some(("u", u)) => list.urls.push(u.to_owned()),
            _ => return Err(damaged(i + 4, "is not an entry")),
        }
    }
    Ok(list)
}

fn build_index(lists: &[SavedList]) -> Result<Index> {
    let mut builder = IndexBuilder::new();
    for list in lists {
        builder.add_list(
            &list.name,
            list.category,
            list.domains.iter().map(String::as_str),
            list.urls.iter().map(String::as_str),
        )?;
    }
    if lists.is_empty() {
        bail!(
            "there are no lists to build the index from; run `schoolgate lists update` or import a list"
        );
    }
    Ok(builder.build())
}
