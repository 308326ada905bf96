//! Runs the starter library over text files, one search per line, and
//! counts lines matched as written and lines matched only through a
//! generated misspelling, with the phrases behind them: a way to see what
//! misspellings cost in precision on text known to be innocent.
//!
//! cargo run -p monitor --example measure -- FILE...

use std::collections::BTreeMap;

use monitor::Matcher;

fn main() {
    let matcher = Matcher::starter();
    let library = matcher.library();
    let (mut lines, mut exact, mut misspelt_only) = (0usize, 0usize, 0usize);
    let mut phrases: BTreeMap<(String, bool), usize> = BTreeMap::new();
    for path in std::env::args().skip(1) {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("cannot read {path}: {e}");
                std::process::exit(1);
            }
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            lines += 1;
            let found = matcher.find(line);
            if found.is_empty() {
                continue;
            }
            if found.iter().all(|m| m.misspelt) {
                misspelt_only += 1;
            } else {
                exact += 1;
            }
            for m in found {
                let phrase = library.phrases[m.phrase.0 as usize].key(library);
                *phrases.entry((phrase, m.misspelt)).or_default() += 1;
            }
        }
    }
    println!(
        "{lines} lines; {exact} matched as written; {misspelt_only} matched only through a misspelling"
    );
    for ((phrase, misspelt), count) in phrases {
        println!(
            "{count:6}  {}{phrase}",
            if misspelt { "misspelt: " } else { "" }
        );
    }
}
