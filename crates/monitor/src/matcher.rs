//! Finding library phrases in text: one Aho-Corasick automaton over the
//! folded forms (module `normalise`) of every phrase, its misspellings and
//! every exclusion, with a word-boundary check on each hit.
//!
//! Misspellings are generated, not guessed at match time: for each word of
//! five letters or more, every form with one letter left out and every form
//! with two neighbouring letters swapped, keeping the first letter (people
//! rarely mistype it) and never dropping the last (which would turn "nudes"
//! into "nude" and "horny" into "horn"), and every form with one letter
//! swapped for one that sounds alike ("suiside", "overdoze"). Other slips
//! are written into the library as phrases.

use std::cell::RefCell;
use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::library::{Library, PhraseId, Severity};
use crate::normalise::{Folded, One, fold};

/// Words shorter than this are matched exactly.
const MISSPELLING_MIN_LETTERS: usize = 5;

/// Letters written for one another because they sound alike ("suiside",
/// "overdoze", "cutting myselff"); one swap per phrase, never the first
/// letter. Vowels are left out: swapping them turns too many words into
/// other words.
const SOUNDS_ALIKE: &[(char, &[char])] = &[
    ('c', &['s', 'k']),
    ('s', &['c', 'z']),
    ('z', &['s']),
    ('k', &['c']),
    ('y', &['i']),
    ('i', &['y']),
];

/// A phrase found in a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhraseMatch {
    pub phrase: PhraseId,
    /// Index into [`Library::categories`].
    pub category: usize,
    pub severity: Severity,
    pub language: String,
    /// Whether it was found as a misspelling rather than as written.
    pub misspelt: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Phrase {
        phrase: u32,
        misspelt: bool,
    },
    /// An exclusion for one category, or for all (`None`).
    /// An exclusion for one category or all (`None`), and whether it
    /// quiets severity 5 too.
    Exclusion(Option<usize>, bool),
}

/// A library too large to compile.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the phrase library is too large to compile ({0}); remove phrases or turn misspellings off for some groups"
)]
pub struct TooLarge(String);

/// A library compiled for matching.
#[derive(Clone, Debug)]
pub struct Matcher {
    library: Library,
    automaton: AhoCorasick,
    /// For each automaton pattern, what finding it means.
    targets: Vec<Vec<Target>>,
    pattern_count: usize,
}

thread_local! {
    static SCRATCH: RefCell<(Folded, Vec<Target>)> = RefCell::new((Folded::default(), Vec::new()));
}

/// The folded forms of a phrase with one edit in one of its long words.
fn misspellings(phrase: &str) -> Vec<String> {
    let words: Vec<&str> = phrase.split_whitespace().collect();
    let mut out = Vec::new();
    for (at, word) in words.iter().enumerate() {
        // Edits are made to the word as written ("noose", not its folded
        // "nose"), as that is what a pupil mistypes.
        let letters: Vec<char> = word.chars().flat_map(char::to_lowercase).collect();
        if letters.iter().filter(|c| c.is_alphabetic()).count() < MISSPELLING_MIN_LETTERS {
            continue;
        }
        let mut push = |edited: Vec<char>| {
            let edited: String = edited.into_iter().collect();
            let mut variant = words.clone();
            variant[at] = &edited;
            out.push(fold(&variant.join(" ")).text);
        };
        for skip in 1..letters.len() - 1 {
            let mut edited = letters.clone();
            edited.remove(skip);
            push(edited);
        }
        for swap in 1..letters.len() - 1 {
            let mut edited = letters.clone();
            edited.swap(swap, swap + 1);
            push(edited);
        }
        for (at, letter) in letters.iter().enumerate().skip(1) {
            for (from, to) in SOUNDS_ALIKE {
                if from == letter {
                    for to in *to {
                        let mut edited = letters.clone();
                        edited[at] = *to;
                        push(edited);
                    }
                }
            }
        }
    }
    out
}

impl Matcher {
    /// Compiles a library. Fails only for a library far larger than any
    /// school needs.
    pub fn new(library: Library) -> Result<Matcher, TooLarge> {
        let mut by_text: HashMap<String, Vec<Target>> = HashMap::new();
        for phrase in &library.phrases {
            let folded = fold(&phrase.text);
            by_text
                .entry(folded.text.clone())
                .or_default()
                .push(Target::Phrase {
                    phrase: phrase.id.0,
                    misspelt: false,
                });
        }
        for exclusion in &library.exclusions {
            by_text
                .entry(fold(&exclusion.text).text)
                .or_default()
                .push(Target::Exclusion(
                    exclusion.category,
                    exclusion.even_severity_5,
                ));
        }
        // Misspellings never stand in for a phrase or exclusion as written.
        let mut misspelt: HashMap<String, Vec<Target>> = HashMap::new();
        for phrase in library.phrases.iter().filter(|p| p.misspellings) {
            for variant in misspellings(&phrase.text) {
                if !by_text.contains_key(&variant) {
                    let targets = misspelt.entry(variant).or_default();
                    let target = Target::Phrase {
                        phrase: phrase.id.0,
                        misspelt: true,
                    };
                    if !targets.contains(&target) {
                        targets.push(target);
                    }
                }
            }
        }
        by_text.extend(misspelt);
        let mut patterns: Vec<(String, Vec<Target>)> = by_text.into_iter().collect();
        patterns.sort_by(|a, b| a.0.cmp(&b.0));
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(patterns.iter().map(|(text, _)| text.as_bytes()))
            .or_else(|_| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(patterns.iter().map(|(text, _)| text.as_bytes()))
            })
            .map_err(|e| TooLarge(e.to_string()))?;
        let pattern_count = patterns.len();
        Ok(Matcher {
            library,
            automaton,
            targets: patterns.into_iter().map(|(_, t)| t).collect(),
            pattern_count,
        })
    }

    /// The starter library, compiled.
    pub fn starter() -> Matcher {
        Matcher::new(Library::starter()).expect("the starter library compiles")
    }

    pub fn library(&self) -> &Library {
        &self.library
    }

    /// How many strings the automaton holds (phrases, misspellings and
    /// exclusions after folding).
    pub fn pattern_count(&self) -> usize {
        self.pattern_count
    }

    /// The phrases found in `text`, most severe first, after exclusions.
    /// A phrase found both as written and misspelt is reported once, as
    /// written.
    pub fn find(&self, text: &str) -> Vec<PhraseMatch> {
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let (folded, hits) = &mut *scratch;
            hits.clear();
            folded.fold(text, One::I);
            self.collect(folded, hits);
            if folded.ambiguous {
                folded.fold(text, One::L);
                self.collect(folded, hits);
            }
            self.resolve(hits)
        })
    }

    /// Whether `text` holds any library phrase (after exclusions).
    pub fn is_match(&self, text: &str) -> bool {
        !self.find(text).is_empty()
    }

    fn collect(&self, folded: &Folded, hits: &mut Vec<Target>) {
        for hit in self.automaton.find_overlapping_iter(folded.text.as_str()) {
            if folded.on_boundaries(hit.start(), hit.end()) {
                hits.extend_from_slice(&self.targets[hit.pattern().as_usize()]);
            }
        }
    }

    fn resolve(&self, hits: &[Target]) -> Vec<PhraseMatch> {
        // (category or all, whether severity 5 too)
        let mut excluded: Vec<(Option<usize>, bool)> = Vec::new();
        for hit in hits {
            if let Target::Exclusion(category, highest) = *hit {
                excluded.push((category, highest));
            }
        }
        let mut found: Vec<PhraseMatch> = Vec::new();
        for hit in hits {
            let Target::Phrase { phrase, misspelt } = *hit else {
                continue;
            };
            let phrase = &self.library.phrases[phrase as usize];
            // An exclusion quiets the everyday noise of a lesson or a help
            // page, but not the most severe phrases unless it says so:
            // "childline how to kill myself" is a child in danger.
            let quiet = excluded.iter().any(|&(category, highest)| {
                category.is_none_or(|c| c == phrase.category)
                    && (highest || phrase.severity < Severity::HIGHEST)
            });
            if quiet {
                continue;
            }
            match found.iter_mut().find(|m| m.phrase == phrase.id) {
                Some(existing) => existing.misspelt &= misspelt,
                None => found.push(PhraseMatch {
                    phrase: phrase.id,
                    category: phrase.category,
                    severity: phrase.severity,
                    language: phrase.language.clone(),
                    misspelt,
                }),
            }
        }
        found.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.phrase.cmp(&b.phrase)));
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variants(phrase: &str) -> Vec<String> {
        misspellings(phrase)
    }

    #[test]
    fn misspellings_keep_the_first_letter_and_skip_short_words() {
        let v = variants("cut myself");
        assert!(v.contains(&"cutmself".to_owned()));
        assert!(v.contains(&"cutmyslef".to_owned()));
        assert!(!v.iter().any(|s| s.starts_with("ct")));
        assert!(!v.contains(&"cutyself".to_owned()));
        assert!(!v.contains(&"cutmysel".to_owned()));
        assert!(variants("kill").is_empty());
    }
}
