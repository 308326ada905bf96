//! `parse_list` on arbitrary bytes, in every single-file format: it never
//! panics, and everything it produces is already canonical, sorted and unique,
//! so a lookup that canonicalises its input meets the entry.
#![no_main]

use classify::canon::{CanonUrl, canonical_host};
use classify::lists::{ListFormat, parse_list};
use classify::taxonomy::Category;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let category = Category::all()[0];
    for format in [ListFormat::Domains, ListFormat::Hosts, ListFormat::Urls] {
        let Ok(list) = parse_list("fuzz/list", data, format, category) else {
            continue;
        };
        for domain in &list.domains {
            match canonical_host(domain) {
                Ok(again) => assert_eq!(&again, domain, "{format}: domain is not canonical"),
                Err(e) => panic!("{format}: kept domain {domain:?} does not canonicalise: {e}"),
            }
        }
        for url in &list.urls {
            match CanonUrl::parse(url) {
                Ok(again) => assert_eq!(again.as_key(), url, "{format}: URL is not canonical"),
                Err(e) => panic!("{format}: kept URL {url:?} does not canonicalise: {e}"),
            }
        }
        assert!(
            list.domains.windows(2).all(|w| w[0] < w[1]),
            "domains sorted and unique"
        );
        assert!(
            list.urls.windows(2).all(|w| w[0] < w[1]),
            "urls sorted and unique"
        );

        let [report] = list.reports.as_slice() else {
            panic!("one file gives one report");
        };
        assert_eq!(report.entries, list.domains.len() + list.urls.len());
        assert!(report.junk.len() <= 20 && report.junk.len() <= report.junk_count);
        let lines = data.split(|&b| b == b'\n').count();
        assert!(report.lines <= lines);
        for junk in &report.junk {
            assert!((1..=report.lines).contains(&junk.line));
            assert!(junk.text.chars().count() <= 200);
        }
    }
    assert!(parse_list("fuzz/list", data, ListFormat::Ut1, category).is_err());
});
