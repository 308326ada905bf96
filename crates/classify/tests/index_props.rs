//! Property tests of the compiled index: listed domains match themselves and
//! their subdomains and nothing else; URL entries match at path boundaries;
//! saving and reopening changes nothing.

use classify::canon::CanonUrl;
use classify::index::{Index, IndexBuilder};
use classify::taxonomy::Category;
use proptest::prelude::*;

fn label() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,6}"
}

fn domain() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(label(), 1..3),
        prop::sample::select(vec!["com", "org", "co.uk", "example"]),
    )
        .prop_map(|(labels, tld)| format!("{}.{tld}", labels.join(".")))
}

fn build(domains: &[String], urls: &[String]) -> Index {
    let mut b = IndexBuilder::new();
    b.add_list(
        "test",
        Category::from_id("games"),
        domains.iter().map(String::as_str),
        urls.iter().map(String::as_str),
    )
    .expect("add");
    b.build()
}

fn listed(index: &Index, url: &str) -> bool {
    index
        .classify(&CanonUrl::parse(url).expect("url"))
        .is_listed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn domains_match_themselves_and_subdomains(domains in prop::collection::vec(domain(), 1..40), sub in label(), path in "(/[a-z]{1,5}){0,3}") {
        let index = build(&domains, &[]);
        for d in &domains {
            { let url = format!("http://{d}{path}"); prop_assert!(listed(&index, &url), "{}", url); }
            { let url = format!("https://{sub}.{d}/"); prop_assert!(listed(&index, &url), "{}", url); }
        }
    }

    #[test]
    fn unlisted_domains_do_not_match(domains in prop::collection::vec(domain(), 1..40), other in domain()) {
        let index = build(&domains, &[]);
        let covered = domains.iter().any(|d| other == *d || other.ends_with(&format!(".{d}")));
        { let url = format!("http://{other}/"); prop_assert_eq!(listed(&index, &url), covered, "{}", url); }
        // A name that merely ends with a listed name's letters is not covered.
        for d in &domains {
            let glued = format!("x{d}");
            let covered = domains.iter().any(|e| glued == *e || glued.ends_with(&format!(".{e}")));
            { let url = format!("http://{glued}/"); prop_assert_eq!(listed(&index, &url), covered, "{}", url); }
        }
    }

    #[test]
    fn url_entries_match_below_their_path_only(host in domain(), segments in prop::collection::vec("[a-z]{1,6}", 1..4), extra in "[a-z]{1,4}") {
        let path = segments.join("/");
        let index = build(&[], &[format!("{host}/{path}")]);
        { let url = format!("http://{host}/{path}"); prop_assert!(listed(&index, &url), "{}", url); }
        { let url = format!("http://www.{host}/{path}/"); prop_assert!(listed(&index, &url), "{}", url); }
        { let url = format!("http://{host}/{path}/{extra}?q=1"); prop_assert!(listed(&index, &url), "{}", url); }
        { let url = format!("http://{host}/{path}{extra}"); prop_assert!(!listed(&index, &url), "{}", url); }
        { let url = format!("http://{host}/"); prop_assert!(!listed(&index, &url), "{}", url); }
    }

    #[test]
    fn saving_and_reopening_changes_nothing(domains in prop::collection::vec(domain(), 0..60)) {
        let index = build(&domains, &[]);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("index.bin");
        index.save(&path).expect("save");
        prop_assert_eq!(Index::load(&path).expect("load"), index);
    }
}
