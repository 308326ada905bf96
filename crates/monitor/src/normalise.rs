//! Folding text for phrase matching, applied the same way to library phrases
//! and to what pupils type.
//!
//! Folded text is letters only, with no spaces, and a set of word boundaries:
//!
//! - case is folded, and so are accents and other marks on Latin, Greek and
//!   Cyrillic letters ("Suïcide" is "suicide"); compatibility forms such as
//!   full-width or "mathematical bold" letters become plain letters;
//! - Arabic-script letters that keyboards and writers swap are folded to one
//!   form (the alef forms, Arabic and Urdu kaf, yeh and heh, ta marbuta), and
//!   short-vowel marks and the tatweel are dropped; other scripts (Bengali,
//!   Gurmukhi, Devanagari...) keep their vowel signs, which carry meaning;
//! - digits and symbols that stand for letters inside a word become those
//!   letters ("s3lf h4rm", "k!ll", "$uicide"); a digit or symbol on its own
//!   ("year 7", "help!") is a separator;
//! - a run of the same letter inside a word is one letter ("kiiiill" and
//!   "kill" are both "kil");
//! - three or more single letters in a row are one word ("s e l f" is "self");
//! - spaces, hyphens and punctuation vanish, but where each word started is
//!   remembered, so a phrase must begin and end on a word boundary: "kill"
//!   is found in "kill it" and in "kil l", never inside "skill"; and
//!   "self harm" is found in "self-harm", "selfharm" and "s e l f h a r m".
//!
//! The digit `1` and the symbols `!` and `|` stand for either `i` or `l`:
//! text holding one is folded both ways ([`One`]).

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// Which letter `1`, `!` and `|` stand for when they sit inside a word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum One {
    I,
    L,
}

/// Text after folding: letters only, with word boundaries.
#[derive(Clone, Debug, Default)]
pub(crate) struct Folded {
    /// The folded letters, words run together.
    pub text: String,
    /// `bounds[i]` says whether byte offset `i` of `text` is where a word
    /// starts or ends; it has `text.len() + 1` entries.
    bounds: Vec<bool>,
    /// Whether folding read a `1`, `!` or `|` as a letter, so that folding
    /// with the other [`One`] could give a different text.
    pub ambiguous: bool,
    units: Vec<Unit>,
    words: Vec<(usize, usize)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Letter(char),
    /// A digit or symbol that may stand for a letter.
    Leet(u8),
    Separator,
}

impl Folded {
    /// Whether `start..end` of the folded text begins and ends on a word
    /// boundary.
    pub fn on_boundaries(&self, start: usize, end: usize) -> bool {
        self.bounds.get(start).copied().unwrap_or(false)
            && self.bounds.get(end).copied().unwrap_or(false)
    }

    /// Folds `input` into this value, reusing its buffers.
    pub fn fold(&mut self, input: &str, one: One) {
        self.text.clear();
        self.bounds.clear();
        self.ambiguous = false;
        self.units.clear();
        self.words.clear();
        for c in input.chars() {
            push_char(&mut self.units, c);
        }
        self.ambiguous = resolve_leet(&mut self.units, one);
        self.find_words();
        self.emit();
    }

    fn find_words(&mut self) {
        let mut start = None;
        for (i, unit) in self.units.iter().enumerate() {
            match (unit, start) {
                (Unit::Letter(_), None) => start = Some(i),
                (Unit::Letter(_), Some(_)) => {}
                (_, Some(s)) => {
                    self.words.push((s, i));
                    start = None;
                }
                (_, None) => {}
            }
        }
        if let Some(s) = start {
            self.words.push((s, self.units.len()));
        }
    }

    /// Writes the letters of each word, collapsing runs, and marks where
    /// words start and end. Three or more one-letter words in a row are
    /// joined. A run also collapses across a word break ("want to" is
    /// "wanto"), so that spelling a phrase out letter by letter gives the
    /// same text; the shared letter then both ends one word and starts the
    /// next.
    fn emit(&mut self) {
        let single = |w: &(usize, usize)| w.1 - w.0 == 1;
        let mut boundary_at = Vec::with_capacity(self.words.len() * 2 + 1);
        let mut last: Option<char> = None;
        let mut i = 0;
        while i < self.words.len() {
            // A run of one-letter words long enough to be a spelt-out word.
            let mut run_end = i;
            while run_end < self.words.len() && single(&self.words[run_end]) {
                run_end += 1;
            }
            let group = if run_end - i >= 3 { run_end } else { i + 1 };
            boundary_at.push(self.text.len());
            let mut first = true;
            for &(s, e) in &self.words[i..group] {
                for unit in &self.units[s..e] {
                    if let Unit::Letter(c) = *unit {
                        if last == Some(c) {
                            if first {
                                boundary_at.push(self.text.len() - c.len_utf8());
                            }
                        } else {
                            self.text.push(c);
                            last = Some(c);
                        }
                        first = false;
                    }
                }
            }
            i = group;
        }
        boundary_at.push(self.text.len());
        self.bounds.resize(self.text.len() + 1, false);
        for at in boundary_at {
            self.bounds[at] = true;
        }
    }
}

/// Characters that are dropped without leaving a word break: zero-width
/// characters and the soft hyphen, which can hide a word from a filter.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}' | '\u{0640}'
    )
}

/// Marks dropped after decomposition: Latin, Greek and Cyrillic accents, and
/// Arabic short vowels, which are usually left out anyway.
fn dropped_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{064B}'..='\u{065F}' | '\u{0670}')
}

/// Letters with no decomposition that writers and keyboards use in place of
/// another, folded to one form. Returns up to two letters.
fn fold_letter(c: char) -> (char, Option<char>) {
    match c {
        'ł' => ('l', None),
        'ß' => ('s', Some('s')),
        'æ' => ('a', Some('e')),
        'œ' => ('o', Some('e')),
        'ø' => ('o', None),
        'đ' | 'ð' => ('d', None),
        'ı' => ('i', None),
        'þ' => ('t', Some('h')),
        // Arabic script: hamza and madda forms of alef, Urdu and Persian
        // letters typed on Arabic keyboards and the other way round.
        'أ' | 'إ' | 'آ' | 'ٱ' => ('ا', None),
        'ة' | 'ہ' | 'ۃ' | 'ھ' => ('ه', None),
        'ى' | 'ی' | 'ے' | 'ئ' | 'ۓ' => ('ي', None),
        'ک' => ('ك', None),
        'ؤ' => ('و', None),
        _ => (c, None),
    }
}

fn push_char(units: &mut Vec<Unit>, c: char) {
    if c.is_ascii() {
        push_ascii(units, c as u8);
        return;
    }
    if invisible(c) {
        return;
    }
    for lower in c.to_lowercase() {
        decompose_compatible(lower, |d| {
            if d.is_ascii() {
                push_ascii(units, d as u8);
            } else if invisible(d) || dropped_mark(d) {
            } else if d.is_alphabetic() || is_combining_mark(d) {
                let (first, second) = fold_letter(d);
                units.push(Unit::Letter(first));
                if let Some(second) = second {
                    units.push(Unit::Letter(second));
                }
            } else {
                units.push(Unit::Separator);
            }
        });
    }
}

fn push_ascii(units: &mut Vec<Unit>, b: u8) {
    units.push(match b {
        b'a'..=b'z' => Unit::Letter(b as char),
        b'A'..=b'Z' => Unit::Letter(b.to_ascii_lowercase() as char),
        b'0' | b'1' | b'3' | b'4' | b'5' | b'7' | b'8' | b'9' => Unit::Leet(b),
        b'@' | b'$' | b'!' | b'|' => Unit::Leet(b),
        _ => Unit::Separator,
    });
}

fn leet_letter(b: u8, one: One) -> char {
    match b {
        b'0' => 'o',
        b'3' => 'e',
        b'4' | b'@' => 'a',
        b'5' | b'$' => 's',
        b'7' => 't',
        b'8' => 'b',
        b'9' => 'g',
        _ => match one {
            One::I => 'i',
            One::L => 'l',
        },
    }
}

/// Turns each run of digits and symbols into letters when it sits against
/// a letter, and into separators when it stands alone. Symbols at the end of
/// a word ("help!") stay punctuation. Returns whether a `1`, `!` or `|` was
/// read as a letter.
fn resolve_leet(units: &mut [Unit], one: One) -> bool {
    let mut ambiguous = false;
    let mut i = 0;
    while i < units.len() {
        if !matches!(units[i], Unit::Leet(_)) {
            i += 1;
            continue;
        }
        let start = i;
        while i < units.len() && matches!(units[i], Unit::Leet(_)) {
            i += 1;
        }
        let before = start > 0 && matches!(units[start - 1], Unit::Letter(_));
        let after = i < units.len() && matches!(units[i], Unit::Letter(_));
        let mut end = i;
        if !after {
            while end > start && matches!(units[end - 1], Unit::Leet(b'!' | b'|')) {
                units[end - 1] = Unit::Separator;
                end -= 1;
            }
        }
        for unit in &mut units[start..end] {
            if let Unit::Leet(b) = *unit {
                *unit = if before || after {
                    ambiguous |= matches!(b, b'1' | b'!' | b'|');
                    Unit::Letter(leet_letter(b, one))
                } else {
                    Unit::Separator
                };
            }
        }
    }
    ambiguous
}

/// Folds `input` on its own, reading `1` as `i`: for phrases and tests.
pub(crate) fn fold(input: &str) -> Folded {
    let mut folded = Folded::default();
    folded.fold(input, One::I);
    folded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(input: &str) -> String {
        fold(input).text
    }

    /// The folded text split at every boundary.
    fn words(input: &str) -> Vec<String> {
        let f = fold(input);
        let at: Vec<usize> = (0..f.bounds.len()).filter(|i| f.bounds[*i]).collect();
        at.windows(2)
            .map(|w| f.text[w[0]..w[1]].to_owned())
            .collect()
    }

    #[test]
    fn case_accents_and_compatibility_forms_fold() {
        assert_eq!(text("SUÏCIDE"), "suicide");
        assert_eq!(text("Samobójstwo"), "samobojstwo");
        assert_eq!(text("sinucidere ș ț"), "sinuciderest");
        assert_eq!(text("Łódź"), "lodz");
        assert_eq!(text("ｋｉｌｌ"), "kil");
        assert_eq!(text("𝐤𝐢𝐥𝐥"), "kil");
        assert_eq!(text("s\u{200B}elf"), "self");
    }

    #[test]
    fn runs_collapse_within_words_only() {
        assert_eq!(text("kiiiiilllll"), "kil");
        assert_eq!(text("kill"), "kil");
        assert_eq!(text("kill lions"), "kilions");
        let f = fold("kill lions");
        assert!(f.on_boundaries(0, 3), "kill");
        assert!(f.on_boundaries(2, 7), "lions");
        assert_eq!(text("i want to"), text("i w a n t t o"));
    }

    #[test]
    fn leet_inside_words_only() {
        assert_eq!(text("s3lf h4rm"), "selfharm");
        assert_eq!(text("k!ll"), "kil");
        assert_eq!(text("$uicide"), "suicide");
        assert_eq!(words("year 7 help!"), ["year", "help"]);
        assert_eq!(words("n00ds"), ["nods"]);
        let mut f = Folded::default();
        f.fold("se1f", One::L);
        assert_eq!(f.text, "self");
        assert!(f.ambiguous);
        f.fold("self", One::L);
        assert!(!f.ambiguous);
    }

    #[test]
    fn spelt_out_words_join() {
        assert_eq!(words("s e l f h a r m"), ["selfharm"]);
        assert_eq!(words("self h a r m"), ["self", "harm"]);
        assert_eq!(words("i am a pupil"), ["i", "am", "a", "pupil"]);
    }

    #[test]
    fn boundaries_mark_word_edges() {
        let f = fold("a skill");
        assert_eq!(f.text, "askil");
        assert!(f.on_boundaries(0, 1));
        assert!(f.on_boundaries(1, 5));
        assert!(!f.on_boundaries(2, 5));
        assert!(!f.on_boundaries(1, 4));
    }

    #[test]
    fn arabic_script_variants_fold() {
        // Urdu keheh and farsi yeh against Arabic kaf and yeh.
        assert_eq!(text("خودکشی"), text("خودكشي"));
        assert_eq!(text("أنا"), text("انا"));
        assert_eq!(text("مَوت"), text("موت"));
    }

    #[test]
    fn indic_vowel_signs_stay() {
        assert!(text("আত্মহত্যা").chars().count() > 4);
        assert_ne!(text("मार"), text("मर"));
    }
}
