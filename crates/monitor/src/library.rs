//! Phrase libraries: categories, phrases with a severity and a language,
//! exclusions and help sites, read from TOML files (`docs/monitoring.md`).
//!
//! A library is built from one or more files; categories may be defined in
//! any of them and phrases may name any category defined in the set. Every
//! mistake is reported with the file, the line and the field, so a DSL or
//! technician editing a library can put it right.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::normalise::fold;

/// The starter library written for schoolgate, one file per language.
pub const STARTER_FILES: &[(&str, &str)] = &[
    ("categories.toml", include_str!("../data/categories.toml")),
    ("en.toml", include_str!("../data/en.toml")),
    ("pl.toml", include_str!("../data/pl.toml")),
    ("ro.toml", include_str!("../data/ro.toml")),
    ("ur.toml", include_str!("../data/ur.toml")),
    ("ar.toml", include_str!("../data/ar.toml")),
];

/// How serious a match is, from 1 (worth a look in a digest) to 5 (a child
/// may be at risk now).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Severity(u8);

impl Severity {
    pub const LOWEST: Severity = Severity(1);
    pub const HIGHEST: Severity = Severity(5);

    /// A severity from 1 to 5.
    pub fn new(level: u8) -> Option<Severity> {
        (1..=5).contains(&level).then_some(Severity(level))
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A kind of harm a library watches for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    /// Stable id, such as `self-harm`; stored with alerts.
    pub id: String,
    /// The name staff read.
    pub name: String,
    /// What the category covers.
    pub description: String,
    /// What a DSL should consider when an alert in this category arrives.
    pub guidance: String,
}

/// The position of a phrase in its library.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PhraseId(pub u32);

/// One phrase to look for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phrase {
    pub id: PhraseId,
    /// The phrase as written in the library.
    pub text: String,
    /// Index into [`Library::categories`].
    pub category: usize,
    pub severity: Severity,
    /// A language tag such as `en`, `pl` or `ur-Latn`.
    pub language: String,
    /// Whether misspellings are matched too; off for short or ambiguous
    /// phrases whose misspellings are everyday words.
    pub misspellings: bool,
    /// The file and line it came from, for people tuning the library.
    pub source: String,
}

impl Phrase {
    /// A stable key for storing with alerts and counting false positives:
    /// category, language and the phrase itself.
    pub fn key(&self, library: &Library) -> String {
        format!(
            "{}/{}/{}",
            library.categories[self.category].id, self.language, self.text
        )
    }
}

/// Words whose presence means a match is not a concern, such as a help
/// service's name or a lesson.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exclusion {
    pub text: String,
    /// Index into [`Library::categories`]; `None` for every category.
    pub category: Option<usize>,
    /// Whether it quiets severity-5 phrases too. Off unless the library
    /// says so: help-seeking words ("childline", "support") must never hide
    /// a child asking how to end their life; a game's name beside "kill"
    /// may.
    pub even_severity_5: bool,
    pub source: String,
}

/// A whole phrase library, checked and ready to compile into a
/// [`Matcher`](crate::Matcher).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Library {
    pub categories: Vec<Category>,
    pub phrases: Vec<Phrase>,
    pub exclusions: Vec<Exclusion>,
    /// Hosts (and their subdomains) of help services: nothing seen on them
    /// raises a phrase alert.
    pub help_sites: Vec<String>,
}

/// A mistake in a library file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}, line {line}{}: {problem}", field.as_ref().map(|f| format!(", field \"{f}\"")).unwrap_or_default())]
pub struct LibraryError {
    pub file: String,
    pub line: usize,
    pub field: Option<String>,
    pub problem: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    language: Option<Spanned<String>>,
    #[serde(default)]
    category: Vec<CategoryToml>,
    #[serde(default)]
    phrases: Vec<PhrasesToml>,
    #[serde(default)]
    exclusions: Vec<ExclusionsToml>,
    #[serde(default)]
    help_sites: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryToml {
    id: Spanned<String>,
    name: Spanned<String>,
    description: Spanned<String>,
    guidance: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhrasesToml {
    category: Spanned<String>,
    severity: Spanned<i64>,
    language: Option<Spanned<String>>,
    misspellings: Option<bool>,
    phrases: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExclusionsToml {
    category: Option<Spanned<String>>,
    phrases: Vec<Spanned<String>>,
    #[serde(default)]
    even_severity_5: bool,
}

struct Source<'a> {
    name: &'a str,
    text: &'a str,
}

impl Source<'_> {
    fn line(&self, at: usize) -> usize {
        let at = at.min(self.text.len());
        self.text.as_bytes()[..at]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn error(&self, span: Range<usize>, field: &str, problem: impl Into<String>) -> LibraryError {
        LibraryError {
            file: self.name.to_owned(),
            line: self.line(span.start),
            field: Some(field.to_owned()),
            problem: problem.into(),
        }
    }

    fn place(&self, span: &Range<usize>) -> String {
        format!("{}, line {}", self.name, self.line(span.start))
    }
}

fn valid_language(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn valid_host(host: &str) -> bool {
    host.contains('.')
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// Explains a TOML error, with a hint for the likeliest slip: a whole-file
/// key written after a table, where TOML reads it as part of that table.
fn syntax_problem(message: &str) -> String {
    let message = message.trim().trim_end_matches('.');
    if message.contains("unknown field `help_sites`")
        || message.contains("unknown field `language`")
    {
        format!(
            "{message}. Keys for the whole file (language, help_sites) must come before the first [[...]] table"
        )
    } else {
        format!("{message}. Check the TOML there")
    }
}

fn check_language(source: &Source<'_>, language: &Spanned<String>) -> Result<(), LibraryError> {
    if valid_language(language.get_ref()) {
        return Ok(());
    }
    Err(source.error(
        language.span(),
        "language",
        format!(
            "\"{}\" is not a language tag such as en, pl or ur-Latn",
            language.get_ref()
        ),
    ))
}

/// A phrase or exclusion must leave at least two letters once folded.
fn check_text(
    source: &Source<'_>,
    text: &Spanned<String>,
    field: &str,
) -> Result<(), LibraryError> {
    if fold(text.get_ref()).text.chars().count() < 2 {
        return Err(source.error(
            text.span(),
            field,
            format!(
                "\"{}\" has fewer than two letters to match; write the phrase in words",
                text.get_ref()
            ),
        ));
    }
    Ok(())
}

impl Library {
    /// The starter library shipped with schoolgate.
    pub fn starter() -> Library {
        // The shipped files are checked by this crate's tests.
        Library::from_files(STARTER_FILES).expect("the starter phrase library is valid")
    }

    /// Reads a library from `(file name, contents)` pairs. Categories from
    /// every file are known before phrases are checked.
    pub fn from_files(files: &[(&str, &str)]) -> Result<Library, LibraryError> {
        let mut parsed = Vec::with_capacity(files.len());
        for (name, text) in files {
            let source = Source { name, text };
            let file: FileToml = toml::from_str(text).map_err(|e| LibraryError {
                file: (*name).to_owned(),
                line: e.span().map(|s| source.line(s.start)).unwrap_or(1),
                field: None,
                problem: syntax_problem(e.message()),
            })?;
            parsed.push((source, file));
        }

        let mut library = Library::default();
        let mut category_index = BTreeMap::new();
        for (source, file) in &parsed {
            for category in &file.category {
                let id = category.id.get_ref();
                if !valid_id(id) {
                    return Err(source.error(
                        category.id.span(),
                        "id",
                        format!("\"{id}\" is not a category id; use lower-case letters, digits and hyphens"),
                    ));
                }
                for (field, value) in [
                    ("name", &category.name),
                    ("description", &category.description),
                    ("guidance", &category.guidance),
                ] {
                    if value.get_ref().trim().is_empty() {
                        return Err(source.error(value.span(), field, "must not be empty"));
                    }
                }
                if category_index
                    .insert(id.clone(), library.categories.len())
                    .is_some()
                {
                    return Err(source.error(
                        category.id.span(),
                        "id",
                        format!("category \"{id}\" is defined twice; keep one definition"),
                    ));
                }
                library.categories.push(Category {
                    id: id.clone(),
                    name: category.name.get_ref().trim().to_owned(),
                    description: category.description.get_ref().trim().to_owned(),
                    guidance: category.guidance.get_ref().trim().to_owned(),
                });
            }
        }

        let find_category = |source: &Source<'_>, id: &Spanned<String>| {
            category_index.get(id.get_ref()).copied().ok_or_else(|| {
                source.error(
                    id.span(),
                    "category",
                    format!(
                        "there is no category \"{}\"; define it with [[category]] or use one of: {}",
                        id.get_ref(),
                        category_index.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                )
            })
        };

        let mut seen = HashSet::new();
        for (source, file) in &parsed {
            if let Some(language) = &file.language {
                check_language(source, language)?;
            }
            for group in &file.phrases {
                let category = find_category(source, &group.category)?;
                let severity = u8::try_from(*group.severity.get_ref())
                    .ok()
                    .and_then(Severity::new)
                    .ok_or_else(|| {
                        source.error(
                            group.severity.span(),
                            "severity",
                            format!(
                                "must be a whole number from 1 to 5, not {}",
                                group.severity.get_ref()
                            ),
                        )
                    })?;
                let language = group.language.as_ref().or(file.language.as_ref()).ok_or_else(|| {
                    source.error(
                        group.category.span(),
                        "language",
                        "these phrases have no language; add language = \"en\" (or another tag) here or at the top of the file",
                    )
                })?;
                check_language(source, language)?;
                for text in &group.phrases {
                    check_text(source, text, "phrases")?;
                    let folded = fold(text.get_ref()).text;
                    if !seen.insert((category, language.get_ref().clone(), folded)) {
                        return Err(source.error(
                            text.span(),
                            "phrases",
                            format!(
                                "\"{}\" is already in category {} for this language (perhaps spelt differently); remove one",
                                text.get_ref(),
                                group.category.get_ref()
                            ),
                        ));
                    }
                    let id = PhraseId(library.phrases.len() as u32);
                    library.phrases.push(Phrase {
                        id,
                        text: text.get_ref().trim().to_owned(),
                        category,
                        severity,
                        language: language.get_ref().clone(),
                        misspellings: group.misspellings.unwrap_or(true),
                        source: source.place(&text.span()),
                    });
                }
            }
            for group in &file.exclusions {
                let category = match &group.category {
                    Some(id) => Some(find_category(source, id)?),
                    None => None,
                };
                for text in &group.phrases {
                    check_text(source, text, "phrases")?;
                    library.exclusions.push(Exclusion {
                        text: text.get_ref().trim().to_owned(),
                        category,
                        even_severity_5: group.even_severity_5,
                        source: source.place(&text.span()),
                    });
                }
            }
            for host in &file.help_sites {
                let name = host
                    .get_ref()
                    .trim()
                    .trim_end_matches('.')
                    .to_ascii_lowercase();
                if !valid_host(&name) {
                    return Err(source.error(
                        host.span(),
                        "help_sites",
                        format!(
                            "\"{}\" is not a host name such as childline.org.uk",
                            host.get_ref()
                        ),
                    ));
                }
                library.help_sites.push(name);
            }
        }
        library.help_sites.sort();
        library.help_sites.dedup();
        Ok(library)
    }

    /// The category with this id.
    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    /// Whether `host` is a help site or one of its subdomains.
    pub fn is_help_site(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        self.help_sites.iter().any(|site| {
            host.len() >= site.len()
                && host[host.len() - site.len()..].eq_ignore_ascii_case(site)
                && (host.len() == site.len()
                    || host.as_bytes()[host.len() - site.len() - 1] == b'.')
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATEGORIES: &str = r#"
[[category]]
id = "bullying"
name = "Bullying"
description = "Being hurt or frightened by others."
guidance = "Talk to the pupil."
"#;

    fn read(text: &str) -> Result<Library, LibraryError> {
        Library::from_files(&[("categories.toml", CATEGORIES), ("test.toml", text)])
    }

    #[test]
    fn a_small_library_reads() {
        let library = read(
            "language = \"en\"\nhelp_sites = [\"Childline.org.uk\"]\n[[phrases]]\ncategory = \"bullying\"\nseverity = 3\nphrases = [\"everyone hates me\"]\n\
             [[exclusions]]\nphrases = [\"anti bullying week\"]\n",
        )
        .expect("library");
        assert_eq!(library.phrases.len(), 1);
        assert_eq!(library.phrases[0].severity, Severity::new(3).unwrap());
        assert_eq!(
            library.phrases[0].key(&library),
            "bullying/en/everyone hates me"
        );
        assert_eq!(library.phrases[0].source, "test.toml, line 6");
        assert!(library.is_help_site("www.childline.org.uk"));
        assert!(library.is_help_site("childline.org.uk"));
        assert!(!library.is_help_site("notchildline.org.uk"));
    }

    #[test]
    fn mistakes_name_file_line_and_field() {
        let err = read("language = \"en\"\n[[phrases]]\ncategory = \"bullying\"\nseverity = 7\nphrases = [\"x y\"]\n")
            .unwrap_err();
        assert_eq!(
            (err.file.as_str(), err.line, err.field.as_deref()),
            ("test.toml", 4, Some("severity"))
        );
        assert!(err.to_string().starts_with(
            "test.toml, line 4, field \"severity\": must be a whole number from 1 to 5, not 7"
        ));

        let err = read("language = \"en\"\n\n[[phrases]]\ncategory = \"bulying\"\nseverity = 2\nphrases = [\"ab\"]\n")
            .unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (4, Some("category")));
        assert!(err.problem.contains("bullying"), "{err}");

        let err = read("[[phrases]]\ncategory = \"bullying\"\nseverity = 2\nphrases = [\"ab\"]\n")
            .unwrap_err();
        assert_eq!(err.field.as_deref(), Some("language"));

        let err = read("language = \"en\"\n[[phrases]]\ncategory = \"bullying\"\nseverity = 2\nphrases = [\n  \"ok phrase\",\n  \"!!\",\n]\n")
            .unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (7, Some("phrases")));

        let err = read("language = \"en\"\n[[phrases]]\ncategory = \"bullying\"\nseverity = 2\nphrases = [\"Hate me\", \"hate  ME\"]\n")
            .unwrap_err();
        assert!(err.problem.contains("already"), "{err}");

        let err = read("language = \"English\"\n").unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (1, Some("language")));

        let err = read("help_sites = [\"https://childline.org.uk\"]\n").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("help_sites"));

        let err = read("language = \"en\"\n[[phrases]]\ncategory = \"bullying\"\nseverty = 2\n")
            .unwrap_err();
        assert_eq!(err.line, 4);
        assert!(err.problem.contains("severty"), "{err}");

        let err = read("language = \"en\"\n[[phrases]\n").unwrap_err();
        assert_eq!(err.line, 2);

        let err = read(
            "[[exclusions]]\nphrases = [\"anti bullying\"]\nhelp_sites = [\"childline.org.uk\"]\n",
        )
        .unwrap_err();
        assert!(
            err.problem.contains("before the first [[...]] table"),
            "{err}"
        );
    }

    #[test]
    fn categories_defined_twice_are_refused() {
        let err =
            Library::from_files(&[("a.toml", CATEGORIES), ("b.toml", CATEGORIES)]).unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("b.toml", 3));
    }

    #[test]
    fn the_starter_library_reads() {
        let library = Library::from_files(STARTER_FILES).unwrap_or_else(|e| panic!("{e}"));
        for id in [
            "self-harm",
            "grooming",
            "extremism",
            "bullying",
            "drugs",
            "weapons-violence",
            "pornography",
            "hate",
        ] {
            let category = library
                .categories
                .iter()
                .position(|c| c.id == id)
                .expect(id);
            let english = library
                .phrases
                .iter()
                .filter(|p| p.category == category && p.language == "en")
                .count();
            assert!(english >= 25, "{id} has only {english} English phrases");
        }
        let languages: HashSet<&str> = library
            .phrases
            .iter()
            .map(|p| p.language.as_str())
            .collect();
        assert!(languages.len() >= 5, "{languages:?}");
    }
}
