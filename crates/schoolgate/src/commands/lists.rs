//! `schoolgate lists`: import, status, update and rebuild.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use anyhow::{Context, Result};
use classify::lists::{
    ImportReport, ImportedList, ListFormat, Ut1Import, import_file, import_ut1_archive,
    import_ut1_dir,
};
use classify::statutory::{StatutoryKind, StatutoryList};
use classify::taxonomy::Category;
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use store::{StatutoryRecord, Store};

use crate::cli::{FormatArg, ImportArgs, ListsCommand, StatutoryArg, UpdateArgs};
use crate::datadir::{DataDir, check_list_name};
use crate::exit::Failure;

pub async fn run(dir: &DataDir, command: &ListsCommand, actor: &str) -> Result<()> {
    match command {
        ListsCommand::Import(args) => import(dir, args, actor).await,
        ListsCommand::Status { json } => status(dir, *json).await,
        ListsCommand::Update(args) => update(dir, args, actor).await,
        ListsCommand::Rebuild => {
            let started = Instant::now();
            let index = dir.rebuild_index()?;
            out!(
                "Rebuilt the index: {} entries from {} lists in {:.2} s.",
                index.entries(),
                index.lists().len(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

/// A byte progress bar on a terminal; nothing when output is piped.
fn progress_bar(total: Option<u64>, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match total {
        Some(total) => ProgressBar::new(total),
        None => ProgressBar::no_length(),
    };
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

fn print_reports(reports: &[ImportReport]) {
    for r in reports {
        if r.junk_count == 0 {
            continue;
        }
        eprintln!(
            "{}: {} junk lines skipped ({} entries kept, {} duplicates, {} blank or comment lines)",
            r.source, r.junk_count, r.entries, r.duplicates, r.skipped
        );
        for j in &r.junk {
            eprintln!("  line {}: '{}' ({})", j.line, j.text, j.reason);
        }
        if r.junk_count > r.junk.len() {
            eprintln!("  and {} more", r.junk_count - r.junk.len());
        }
    }
}

fn summarise_ut1(import: &Ut1Import) {
    let domains: usize = import.lists.iter().map(|l| l.domains.len()).sum();
    let urls: usize = import.lists.iter().map(|l| l.urls.len()).sum();
    out!(
        "Imported {} UT1 categories: {domains} domains and {urls} URLs.",
        import.lists.len()
    );
    for (name, why) in &import.ignored {
        out!("  not imported: {name} ({why})");
    }
    for list in &import.lists {
        print_reports(&list.reports);
    }
}

fn category(args: &ImportArgs) -> Result<Category> {
    let id = args.category.as_deref().ok_or_else(|| {
        Failure::usage("--category is required for a domains, hosts or urls list; `docs/taxonomy.md` lists the ids, such as gambling")
    })?;
    Category::from_id(id).ok_or_else(|| {
        let ids: Vec<&str> = Category::all().iter().map(|c| c.id()).collect();
        Failure::usage(format!(
            "'{id}' is not a category; use one of: {}",
            ids.join(", ")
        ))
        .into()
    })
}

async fn import(dir: &DataDir, args: &ImportArgs, actor: &str) -> Result<()> {
    if let Some(kind) = args.statutory {
        return import_statutory(dir, kind, args, actor).await;
    }
    let format = match args.format {
        Some(FormatArg::Ut1) => ListFormat::Ut1,
        Some(FormatArg::Domains) => ListFormat::Domains,
        Some(FormatArg::Hosts) => ListFormat::Hosts,
        Some(FormatArg::Urls) => ListFormat::Urls,
        None => {
            return Err(Failure::usage(
                "give --format ut1|domains|hosts|urls, or --statutory iwf|ctiru",
            )
            .into());
        }
    };
    let started = Instant::now();
    let size = std::fs::metadata(&args.path)
        .with_context(|| format!("could not read {}; check the path", args.path.display()))?;
    let bar = progress_bar((!size.is_dir()).then_some(size.len()), "Importing");
    let mut progress = |n: u64| bar.set_position(n);
    if format == ListFormat::Ut1 {
        if args.category.is_some() || args.name.is_some() {
            return Err(Failure::usage("a UT1 import takes its categories and names from UT1 itself; leave out --category and --name").into());
        }
        let import = if size.is_dir() {
            import_ut1_dir(&args.path, &mut progress)?
        } else {
            let file = std::fs::File::open(&args.path)
                .with_context(|| format!("could not read {}", args.path.display()))?;
            import_ut1_archive(
                std::io::BufReader::new(file),
                &args.path.display().to_string(),
                &mut progress,
            )?
        };
        bar.finish_and_clear();
        let parsed = started.elapsed();
        let index = dir
            .replace_ut1(&import, "ut1", &args.path.display().to_string(), actor)
            .await?;
        summarise_ut1(&import);
        out!(
            "The index holds {} entries from {} lists (read in {:.2} s, index built and saved in {:.2} s).",
            index.entries(),
            index.lists().len(),
            parsed.as_secs_f64(),
            (started.elapsed() - parsed).as_secs_f64()
        );
        return Ok(());
    }
    let category = category(args)?;
    let mut list: ImportedList = import_file(&args.path, format, category, &mut progress)?;
    bar.finish_and_clear();
    let name = match &args.name {
        Some(name) => name.clone(),
        None => {
            let stem = args
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().to_lowercase())
                .unwrap_or_default()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect::<String>();
            format!("local/{stem}")
        }
    };
    check_list_name(&name)?;
    if name.starts_with("ut1/") {
        return Err(Failure::usage(
            "names starting ut1/ are kept for the UT1 lists; choose another --name",
        )
        .into());
    }
    list.name = name;
    let index = dir
        .replace_list(&list, format.id(), &args.path.display().to_string(), actor)
        .await?;
    print_reports(&list.reports);
    out!(
        "Imported {} as {} ({}): {} domains and {} URLs in {:.2} s. The index holds {} entries.",
        args.path.display(),
        list.name,
        category.id(),
        list.domains.len(),
        list.urls.len(),
        started.elapsed().as_secs_f64(),
        index.entries()
    );
    Ok(())
}

async fn import_statutory(
    dir: &DataDir,
    kind: StatutoryArg,
    args: &ImportArgs,
    actor: &str,
) -> Result<()> {
    let kind = match kind {
        StatutoryArg::Iwf => StatutoryKind::Iwf,
        StatutoryArg::Ctiru => StatutoryKind::Ctiru,
    };
    if args.category.is_some() || args.name.is_some() {
        return Err(Failure::usage(
            "a statutory list has no category or name of its own; leave out --category and --name",
        )
        .into());
    }
    let bytes = std::fs::read(&args.path)
        .with_context(|| format!("could not read {}; check the path", args.path.display()))?;
    let list = StatutoryList::parse(kind, &args.path.display().to_string(), &bytes)?;
    let (mut hashes, mut urls) = (0usize, 0usize);
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.trim_ascii();
        if line.is_empty() || line.starts_with(b"#") {
            continue;
        }
        if line.len() == 64 && line.iter().all(u8::is_ascii_hexdigit) {
            hashes += 1;
        } else {
            urls += 1;
        }
    }
    let form = match (hashes, urls) {
        (_, 0) => "hashes",
        (0, _) => "urls",
        _ => "urls and hashes",
    };
    list.save(&dir.statutory_path(kind))?;
    dir.store
        .record_statutory(&StatutoryRecord {
            kind: kind.id().to_owned(),
            entries: list.count() as i64,
            fingerprint: list.fingerprint(),
            form: form.to_owned(),
            loaded_at: Timestamp::now(),
            actor: actor.to_owned(),
        })
        .await?;
    // Only a count and a fingerprint: the contents are never shown (DESIGN C1).
    out!(
        "Loaded the {} list: {} entries, fingerprint {}. Its contents are kept only as hashes and are never shown.",
        kind.name(),
        list.count(),
        list.fingerprint()
    );
    Ok(())
}

async fn status(dir: &DataDir, json: bool) -> Result<()> {
    let records = dir.store.lists().await?;
    let statutory = dir.store.statutory().await?;
    let index = dir.load_index()?;
    let index_bytes = std::fs::metadata(dir.index_path())
        .map(|m| m.len())
        .unwrap_or(0);
    let loaded: Vec<StatutoryList> = dir.load_statutory()?;
    if json {
        let value = serde_json::json!({
            "lists": records,
            "index": { "entries": index.entries(), "lists": index.lists().len(), "file_bytes": index_bytes },
            "statutory": StatutoryKind::ALL.iter().map(|k| {
                let record = statutory.iter().find(|r| r.kind == k.id());
                serde_json::json!({
                    "kind": k.id(),
                    "name": k.name(),
                    "entries": loaded.iter().find(|l| l.kind() == *k).map_or(0, StatutoryList::count),
                    "fingerprint": record.map(|r| r.fingerprint.clone()),
                    "loaded_at": record.map(|r| r.loaded_at.to_string()),
                })
            }).collect::<Vec<_>>(),
        });
        out!("{value}");
        return Ok(());
    }
    let zone = super::shown_zone(dir).await?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<32} {:<22} {:>9} {:>7} {:>6}  imported ({})",
        "list",
        "category",
        "domains",
        "urls",
        "junk",
        crate::monitoring::zone_name(&zone)
    )?;
    for r in &records {
        writeln!(
            out,
            "{:<32} {:<22} {:>9} {:>7} {:>6}  {} by {} from {}",
            r.name,
            r.category.as_deref().unwrap_or("-"),
            r.domains,
            r.urls,
            r.junk,
            super::clock(r.imported_at, &zone),
            r.actor,
            r.source
        )?;
    }
    let domains: i64 = records.iter().map(|r| r.domains).sum();
    let urls: i64 = records.iter().map(|r| r.urls).sum();
    writeln!(
        out,
        "{} lists: {domains} domains and {urls} URLs.",
        records.len()
    )?;
    writeln!(
        out,
        "Index: {} distinct entries, {:.1} MB on disk.",
        index.entries(),
        index_bytes as f64 / 1e6
    )?;
    writeln!(out, "\nStatutory lists (contents never shown):")?;
    for kind in StatutoryKind::ALL {
        match statutory.iter().find(|r| r.kind == kind.id()) {
            Some(r) => writeln!(
                out,
                "  {:<42} {} entries, fingerprint {}, loaded {} by {} (from {})",
                kind.name(),
                r.entries,
                r.fingerprint,
                super::clock(r.loaded_at, &zone),
                r.actor,
                r.form
            )?,
            None => writeln!(
                out,
                "  {:<42} NOT LOADED: import it with `schoolgate lists import --statutory {} FILE`",
                kind.name(),
                kind.id()
            )?,
        }
    }
    Ok(())
}

async fn update(dir: &DataDir, args: &UpdateArgs, actor: &str) -> Result<()> {
    let started = Instant::now();
    let download = dir.root.join("ut1-download.tar.gz");
    let bar = progress_bar(None, "Downloading");
    let result = crate::fetch::download(
        &args.from,
        args.ca_file.as_deref(),
        &download,
        &mut |done, total| {
            if let Some(total) = total {
                bar.set_length(total);
            }
            bar.set_position(done);
        },
    );
    bar.finish_and_clear();
    let bytes = match result {
        Ok(bytes) => bytes,
        Err(e) => {
            let _ = std::fs::remove_file(&download);
            return Err(e.context("the lists were not updated; the ones in force are unchanged"));
        }
    };
    let file = std::fs::File::open(&download)
        .with_context(|| format!("could not read {}", download.display()))?;
    let imported = import_ut1_archive(std::io::BufReader::new(file), &args.from, &mut |_| {});
    let _ = std::fs::remove_file(&download);
    let import = imported
        .context("the download did not import cleanly, so the lists in force are unchanged")?;
    // A download that imports cleanly but holds far less than before (a
    // truncated mirror, a test file) would quietly open filtering up.
    let current: i64 = dir
        .store
        .lists()
        .await?
        .iter()
        .filter(|r| r.name.starts_with("ut1/"))
        .map(|r| r.domains + r.urls)
        .sum();
    let new: i64 = import
        .lists
        .iter()
        .map(|l| (l.domains.len() + l.urls.len()) as i64)
        .sum();
    if !args.allow_shrink && new * 2 < current {
        return Err(Failure::data(format!(
            "the download from {} holds {new} entries where the UT1 lists in force hold {current}, so the lists in force are unchanged; \
             if that is expected, run the update again with --allow-shrink",
            args.from
        ))
        .into());
    }
    let index = dir.replace_ut1(&import, "ut1", &args.from, actor).await?;
    summarise_ut1(&import);
    out!(
        "Updated from {} ({:.1} MB) in {:.1} s. The index holds {} entries.",
        args.from,
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        index.entries()
    );
    Ok(())
}
