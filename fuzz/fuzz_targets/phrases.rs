//! Fuzzes phrase libraries and phrase matching: no library file and no
//! search term may panic, and a library that reads must compile and match
//! its own phrases.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use monitor::{Library, Matcher};

static STARTER: LazyLock<Matcher> = LazyLock::new(Matcher::starter);

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    for found in STARTER.find(input) {
        assert!((found.phrase.0 as usize) < STARTER.library().phrases.len());
    }
    if let Ok(library) = Library::from_files(&[("fuzz.toml", input)]) {
        let matcher = Matcher::new(library).expect("a small library compiles");
        // Without exclusions, every phrase finds itself.
        if matcher.library().exclusions.is_empty() {
            for phrase in &matcher.library().phrases {
                assert!(
                    matcher.find(&phrase.text).iter().any(|m| m.phrase == phrase.id),
                    "{:?} does not find itself",
                    phrase.text
                );
            }
        }
    }
});
