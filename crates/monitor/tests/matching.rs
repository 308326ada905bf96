//! Phrase matching against the whole starter library: every phrase survives
//! disguise, exclusions silence, and ordinary searches stay quiet.

use std::sync::LazyLock;

use monitor::{Library, Matcher, Severity};
use proptest::prelude::*;

static MATCHER: LazyLock<Matcher> = LazyLock::new(Matcher::starter);

fn library() -> &'static Library {
    MATCHER.library()
}

/// Whether `text` finds phrase `index` (other phrases may be found too).
fn finds(text: &str, index: usize) -> bool {
    MATCHER
        .find(text)
        .iter()
        .any(|m| m.phrase.0 as usize == index)
}

/// Searches pupils make every day, many holding letters of library phrases.
const INNOCENT: &[&str] = &[
    "Scunthorpe United results",
    "skill tree minecraft",
    "skills for life",
    "assessment criteria for year 9 geography",
    "class photo day",
    "grass growing experiment",
    "therapist near me",
    "the rapist in a novel?",
    "classic novels for teenagers",
    "passing the ball in netball",
    "embassy in London",
    "cocktail sausages recipe",
    "bass guitar lessons",
    "essex county council",
    "sussex university open day",
    "middlesex hospital",
    "analysis of a poem",
    "analyse the results",
    "canal boats holidays",
    "shuttlecock badminton rules",
    "cockpit of a plane",
    "hancock museum",
    "peacock feathers",
    "arsenal fixtures",
    "pakistan cricket team",
    "niger river geography",
    "raccoon facts for kids",
    "kill bill soundtrack",
    "skillet pancakes",
    "killer whale facts",
    "how to kill weeds in the garden",
    "weed killer for patios",
    "die casting",
    "studies of the diet of a hummingbird",
    "the great depression 1929",
    "suicide squad cast",
    "romeo and juliet suicide scene analysis",
    "world war 2 nazi propaganda posters history",
    "self harm support for teenagers",
    "how to help a friend who self harms",
    "suicide prevention day assembly",
    "childline i want to talk to someone",
    "faggots and peas recipe",
    "a chink in the armour meaning",
    "sex education lesson year 10",
    "sexual health clinic opening times",
    "anti bullying week 2026",
    "talk to frank cannabis facts",
    "county lines lesson plan pshe",
    "knife crime awareness week",
    "how to make slime",
    "photosynthesis worksheet",
    "quadratic equations gcse",
    "what is a noun",
    "bbc bitesize shakespeare",
    "music homework mozart",
    "retardant paint",
    "flame retardant materials",
    // School subjects and everyday searches.
    "year 7 english poetry anthology",
    "macbeth act 1 scene 7 analysis",
    "of mice and men themes",
    "an inspector calls character analysis",
    "history the battle of hastings 1066",
    "causes of the first world war",
    "the cold war for kids",
    "geography coastal erosion case study",
    "volcanoes and earthquakes ks3",
    "biology cell structure diagram",
    "chemistry the periodic table quiz",
    "physics forces and motion revision",
    "maths times tables practice",
    "long division method",
    "french verbs etre and avoir",
    "spanish numbers 1 to 100",
    "religious studies the five pillars of islam",
    "sikh festivals vaisakhi",
    "design technology cam mechanisms",
    "food technology bread recipe",
    "pe netball rules positions",
    "music theory grade 1",
    "art gcse sketchbook ideas",
    "computer science python for loops",
    "drama monologues for girls",
    "pshe healthy relationships lesson",
    "how do plants grow",
    "cute puppies",
    "football highlights last night",
    "roblox codes",
    "fortnite new season",
    "how to draw a horse",
    "weather tomorrow in leeds",
    "bus times to the leisure centre",
    "happy birthday song",
    "pass the parcel game ideas",
    "massive attack band",
    "cassette tape history",
    "shiitake mushrooms recipe",
    "sextant navigation history",
    "essex wildlife trust",
    "the hanging gardens of babylon",
    "killarney national park",
    "manslaughter definition law",
    "cocktail party effect psychology",
    "dyslexia support",
    "how to cut a mango",
    "i want to die my hair pink",
    "skillet chicken",
    "matching socks",
    // Folding runs of letters makes some words meet: a slur that folds to
    // "con" was left out of the library for this reason.
    "con artist",
    // Games, history and toys that share words with library phrases.
    "how to make a bath bomb",
    "how to kill someone in minecraft",
    "arms race war cold war revision",
    "white power ranger toy",
    "pros and cons",
    "jak zrobić naleśniki",
    "przepis na pierogi",
    "reteta de clatite",
    "urdu alphabet for children",
    "قرآن للاطفال",
    // One-letter slips of library phrases that are everyday words, found by
    // running `examples/measure.rs` over school policies and project docs.
    "setting up a new class",
    "how to sort a list in python",
    "i tried my best",
    "bing search",
];

#[test]
fn innocent_searches_find_nothing() {
    let mut noisy = Vec::new();
    for text in INNOCENT {
        let found = MATCHER.find(text);
        if !found.is_empty() {
            let phrases: Vec<&str> = found
                .iter()
                .map(|m| library().phrases[m.phrase.0 as usize].text.as_str())
                .collect();
            noisy.push(format!("{text:?} -> {phrases:?}"));
        }
    }
    assert!(noisy.is_empty(), "false alarms:\n{}", noisy.join("\n"));
}

#[test]
fn disguised_searches_are_found() {
    let cases: &[(&str, &str)] = &[
        ("HOW TO KILL MYSELF", "how to kill myself"),
        ("how 2 k!ll my5elf", "kill myself"),
        ("how to kiiiiill myselfff", "how to kill myself"),
        ("s3lf h4rm", "self harm"),
        ("s e l f h a r m", "self harm"),
        ("self-harm", "self harm"),
        ("selfharm", "self harm"),
        ("se1f harm", "self harm"),
        ("suïcide", "suicide"),
        ("sucide", "suicide"),
        ("suicdie", "suicide"),
        ("suiside", "suicide"),
        ("i am being bulied", "i am being bullied"),
        ("i want to d i e", "i want to die"),
        ("$end nudes", "send nudes"),
        ("jak sie zabic", "jak się zabić"),
        ("JAK SIĘ ZABIĆ", "jak się zabić"),
        ("cum sa ma sinucid", "cum să mă sinucid"),
        ("خودكشي كيسے كريں", "خودکشی کیسے کریں"),
        ("أريد أن أموت", "اريد ان اموت"),
        ("ｓｕｉｃｉｄｅ", "suicide"),
        ("kill\u{200B}myself", "kill myself"),
    ];
    for (text, phrase) in cases {
        let index = library()
            .phrases
            .iter()
            .position(|p| p.text == *phrase)
            .unwrap_or_else(|| panic!("{phrase} is in the library"));
        assert!(finds(text, index), "{text:?} should find {phrase:?}");
    }
}

#[test]
fn words_inside_other_words_do_not_match() {
    for text in [
        "skill", "skills", "skilled", "class", "assess", "grassy", "kills",
    ] {
        assert!(MATCHER.find(text).is_empty(), "{text}");
    }
}

#[test]
fn matches_carry_category_severity_and_language() {
    let found = MATCHER.find("how to kill myself");
    let top = &found[0];
    assert_eq!(library().categories[top.category].id, "self-harm");
    assert_eq!(top.severity.get(), 5);
    assert_eq!(top.language, "en");
    assert!(!top.misspelt);
    assert!(found.windows(2).all(|w| w[0].severity >= w[1].severity));
    let misspelt = MATCHER.find("sucide");
    assert!(misspelt.iter().all(|m| m.misspelt));
}

#[test]
fn every_exclusion_silences_its_category_below_severity_5() {
    let library = library();
    for exclusion in &library.exclusions {
        // A phrase of the excluded category (or any phrase) that the
        // exclusion may quiet, plus the exclusion, in one text.
        let phrase = library
            .phrases
            .iter()
            .find(|p| {
                exclusion.category.is_none_or(|c| c == p.category)
                    && (exclusion.even_severity_5 || p.severity < Severity::HIGHEST)
            })
            .expect("a phrase to silence");
        let alone = MATCHER.find(&phrase.text);
        assert!(
            alone.iter().any(|m| m.phrase == phrase.id),
            "{}",
            phrase.text
        );
        let text = format!("{} {}", phrase.text, exclusion.text);
        let found = MATCHER.find(&text);
        assert!(
            found
                .iter()
                .all(|m| exclusion.category.is_some_and(|c| c != m.category)
                    || m.severity == Severity::HIGHEST && !exclusion.even_severity_5),
            "{text:?} still matched {found:?} ({})",
            exclusion.source
        );
    }
}

#[test]
fn help_seeking_words_never_hide_a_child_in_danger() {
    for text in [
        "childline how to kill myself",
        "how to kill myself self harm support",
        "samaritans best way to kill myself",
    ] {
        let found = MATCHER.find(text);
        assert!(
            found.iter().any(|m| m.severity == Severity::HIGHEST),
            "{text:?} raised nothing at severity 5: {found:?}"
        );
    }
    // A game beside "kill" is play, because that exclusion says so.
    assert!(MATCHER.find("how to kill someone in minecraft").is_empty());
}

/// Letters as pupils disguise them.
fn accent(c: char) -> char {
    match c {
        'a' => 'á',
        'e' => 'ë',
        'i' => 'î',
        'o' => 'ö',
        'u' => 'ü',
        'c' => 'ç',
        'n' => 'ñ',
        's' => 'š',
        _ => c,
    }
}

fn leet(c: char, one_for: char) -> char {
    match c {
        'a' => '4',
        'e' => '3',
        'o' => '0',
        's' => '$',
        't' => '7',
        'b' => '8',
        c if c == one_for => '1',
        _ => c,
    }
}

#[derive(Clone, Debug)]
enum Disguise {
    Upper,
    Accents,
    Leet {
        one_for: char,
    },
    Repeat {
        every: usize,
        times: usize,
    },
    Hyphens,
    NoSpaces,
    SpeltOut,
    Misspell {
        word: usize,
        at: usize,
        swap: bool,
    },
    /// A letter swapped for one that sounds alike (c/s/k/z, i/y).
    SoundAlike {
        word: usize,
        at: usize,
    },
}

fn disguise() -> impl Strategy<Value = Disguise> {
    prop_oneof![
        Just(Disguise::Upper),
        Just(Disguise::Accents),
        prop_oneof![Just('i'), Just('l')].prop_map(|one_for| Disguise::Leet { one_for }),
        (1usize..4, 1usize..5).prop_map(|(every, times)| Disguise::Repeat { every, times }),
        Just(Disguise::Hyphens),
        Just(Disguise::NoSpaces),
        Just(Disguise::SpeltOut),
        (0usize..8, 1usize..20, any::<bool>()).prop_map(|(word, at, swap)| Disguise::Misspell {
            word,
            at,
            swap
        }),
        (0usize..8, 0usize..20).prop_map(|(word, at)| Disguise::SoundAlike { word, at }),
    ]
}

/// The phrase's words, and the index of its `n`th (modulo) word of five
/// ASCII letters or more, if it has one.
fn long_word(words: &[&str], n: usize) -> Option<(Vec<String>, usize)> {
    let long: Vec<usize> = (0..words.len())
        .filter(|i| words[*i].len() >= 5 && words[*i].bytes().all(|b| b.is_ascii_alphabetic()))
        .collect();
    let target = *long.get(n % long.len().max(1))?;
    Some((words.iter().map(|w| w.to_string()).collect(), target))
}

/// Applies a disguise to a phrase, as written in the library. Leet and
/// spelling slips apply to ASCII words of two letters or more only, as a
/// digit on its own is read as a number.
fn apply(phrase: &str, disguise: &Disguise) -> String {
    let words: Vec<&str> = phrase.split_whitespace().collect();
    match disguise {
        Disguise::Upper => phrase.to_uppercase(),
        Disguise::Accents => phrase.chars().map(accent).collect(),
        Disguise::Leet { one_for } => words
            .iter()
            .map(|w| {
                // Pupils keep a letter or two: a word of digits is a number.
                if w.chars().count() >= 2 && w.bytes().all(|b| b.is_ascii_alphabetic()) {
                    w.chars()
                        .enumerate()
                        .map(|(i, c)| if i == 0 { c } else { leet(c, *one_for) })
                        .collect()
                } else {
                    w.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
        Disguise::Repeat { every, times } => phrase
            .chars()
            .enumerate()
            .flat_map(|(i, c)| {
                let n = if c.is_alphabetic() && i % every == 0 {
                    times + 1
                } else {
                    1
                };
                std::iter::repeat_n(c, n)
            })
            .collect(),
        Disguise::Hyphens => words.join("-"),
        Disguise::NoSpaces => words.concat(),
        Disguise::SpeltOut => {
            let letters: Vec<String> = phrase
                .chars()
                .filter(|c| !c.is_whitespace())
                .map(String::from)
                .collect();
            letters.join(" ")
        }
        Disguise::SoundAlike { word, at } => {
            let alike = |c: char| match c {
                'c' => Some('s'),
                's' => Some('z'),
                'z' => Some('s'),
                'k' => Some('c'),
                'y' => Some('i'),
                'i' => Some('y'),
                _ => None,
            };
            let Some((mut words, target)) = long_word(&words, *word) else {
                return phrase.to_owned();
            };
            let mut letters: Vec<char> = words[target].chars().collect();
            let places: Vec<usize> = (1..letters.len())
                .filter(|i| alike(letters[*i]).is_some())
                .collect();
            if let Some(&place) = places.get(at % places.len().max(1)) {
                letters[place] = alike(letters[place]).expect("a sound-alike letter");
            }
            words[target] = letters.into_iter().collect();
            words.join(" ")
        }
        Disguise::Misspell { word, at, swap } => {
            let Some((mut words, target)) = long_word(&words, *word) else {
                return phrase.to_owned();
            };
            let mut letters: Vec<char> = words[target].chars().collect();
            // Inside the word: never the first letter, never drop the last.
            let at = 1 + at % (letters.len() - 2);
            if *swap {
                letters.swap(at, at + 1);
            } else {
                letters.remove(at);
            }
            words[target] = letters.into_iter().collect();
            words.join(" ")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn every_phrase_survives_disguise(index in 0usize..10_000, disguise in disguise()) {
        let library = library();
        let index = index % library.phrases.len();
        let phrase = &library.phrases[index];
        prop_assume!(disguise_applies(phrase, &disguise));
        let text = apply(&phrase.text, &disguise);
        // A disguise may turn one spelling into another listed spelling
        // ("khudkhushi" less an h is "khudkushi"): then that phrase, of the
        // same category and at least the same severity, is what is heard.
        let heard = finds(&text, index)
            || MATCHER.find(&text).iter().any(|m| {
                m.category == phrase.category && m.severity >= phrase.severity && !m.misspelt
            });
        prop_assert!(
            heard,
            "{:?} ({:?}) did not find {:?} ({})",
            text, disguise, phrase.text, phrase.source
        );
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = MATCHER.find(&text);
    }

    #[test]
    fn arbitrary_library_files_never_panic(text in any::<String>()) {
        let _ = Library::from_files(&[("fuzz.toml", &text)]);
    }

    #[test]
    fn library_like_files_never_panic(
        severity in any::<i64>(),
        language in "[a-zA-Z-]{0,12}",
        phrase in any::<String>(),
        category in "[a-z-]{0,12}",
    ) {
        let text = format!(
            "language = {language:?}\n[[category]]\nid = \"self-harm\"\nname = \"n\"\ndescription = \"d\"\nguidance = \"g\"\n\
             [[phrases]]\ncategory = {category:?}\nseverity = {severity}\nphrases = [{phrase:?}]\n"
        );
        if let Ok(library) = Library::from_files(&[("fuzz.toml", &text)]) {
            // A library that reads compiles, and each phrase finds itself.
            let matcher = Matcher::new(library).expect("a one-phrase library compiles");
            for phrase in &matcher.library().phrases {
                prop_assert!(
                    matcher.find(&phrase.text).iter().any(|m| m.phrase == phrase.id),
                    "{:?} does not find itself", phrase.text
                );
            }
        }
    }
}

proptest! {
    // Each case compiles a library, so fewer cases.
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn any_phrase_finds_itself_and_its_disguises(
        phrase in "[a-zA-Z0-9 @$!|.-]{2,24}|[ąęółżśćńĄĘÓŁŻŚĆŃa-z ]{2,24}|[ابتثجحخدذرسشصضطظعغفقكلمنهويةىأإآکیہے ]{2,24}",
        disguise in disguise(),
    ) {
        let text = format!(
            "language = \"xx\"\n[[category]]\nid = \"c\"\nname = \"n\"\ndescription = \"d\"\nguidance = \"g\"\n\
             [[phrases]]\ncategory = \"c\"\nseverity = 3\nphrases = [{phrase:?}]\n"
        );
        if let Ok(library) = Library::from_files(&[("fuzz.toml", &text)]) {
            let matcher = Matcher::new(library).expect("a one-phrase library compiles");
            let phrase = &matcher.library().phrases[0];
            prop_assert!(
                matcher.find(&phrase.text).iter().any(|m| m.phrase == phrase.id),
                "{:?} does not find itself", phrase.text
            );
            // Disguises that keep every letter visible still match.
            if matches!(disguise, Disguise::Upper | Disguise::Repeat { .. } | Disguise::Hyphens) {
                let disguised = apply(&phrase.text, &disguise);
                prop_assert!(
                    matcher.find(&disguised).iter().any(|m| m.phrase == phrase.id),
                    "{:?} ({:?}) does not find {:?}", disguised, disguise, phrase.text
                );
            }
        }
    }
}

/// Every phrase, checked exhaustively under each fixed disguise (the
/// property test above samples; this walks them all).
#[test]
fn every_phrase_under_every_plain_disguise() {
    let library = library();
    let mut missed = Vec::new();
    for (index, phrase) in library.phrases.iter().enumerate() {
        for disguise in [
            Disguise::Upper,
            Disguise::Accents,
            Disguise::Leet { one_for: 'i' },
            Disguise::Leet { one_for: 'l' },
            Disguise::Repeat { every: 1, times: 2 },
            Disguise::Hyphens,
            Disguise::NoSpaces,
            Disguise::SpeltOut,
            Disguise::Misspell {
                word: 0,
                at: 1,
                swap: false,
            },
            Disguise::Misspell {
                word: 1,
                at: 2,
                swap: true,
            },
        ] {
            if disguise_applies(phrase, &disguise) {
                let text = apply(&phrase.text, &disguise);
                if !finds(&text, index) {
                    missed.push(format!("{text:?} ({disguise:?}) missed {:?}", phrase.text));
                }
            }
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

/// Misspellings are only promised where the library allows them; a number
/// in a phrase ("under 18") only matches as a separate number.
fn disguise_applies(phrase: &monitor::Phrase, disguise: &Disguise) -> bool {
    match disguise {
        Disguise::Misspell { .. } | Disguise::SoundAlike { .. } => phrase.misspellings,
        Disguise::NoSpaces | Disguise::SpeltOut | Disguise::Leet { .. } => {
            !phrase.text.bytes().any(|b| b.is_ascii_digit())
        }
        _ => true,
    }
}
