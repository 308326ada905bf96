//! Fuzzes the canonicaliser: no input may panic, and every key it produces
//! must parse back to itself (otherwise two spellings could miss each other).
#![no_main]

use classify::canon::{CanonUrl, canonical_host};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(url) = CanonUrl::parse(input) {
        let key = url.as_key();
        assert!(key.is_ascii(), "key {key:?} is not ASCII");
        assert!(
            !key.bytes().any(|b| b.is_ascii_uppercase()),
            "key {key:?} has upper case"
        );
        assert!(
            url.path().starts_with('/'),
            "path of {key:?} does not start with '/'"
        );
        assert_ne!(url.query(), Some(""), "empty query kept in {key:?}");
        match CanonUrl::parse(key) {
            Ok(again) => assert_eq!(again.as_key(), key, "key of {input:?} is not a fixed point"),
            Err(e) => panic!("key {key:?} of {input:?} does not parse: {e}"),
        }
        // The index is built with canonical_host and queried with host().
        match canonical_host(url.host()) {
            Ok(host) => assert_eq!(host, url.host(), "host of {input:?} is not a fixed point"),
            Err(e) => panic!("host {:?} of {input:?} is refused: {e}", url.host()),
        }
    }
    if let Ok(host) = canonical_host(input) {
        assert_eq!(
            canonical_host(&host).as_deref(),
            Ok(host.as_str()),
            "canonical host of {input:?} is not a fixed point"
        );
        // A host alone also parses as a URL with that host.
        if let Ok(url) = CanonUrl::parse(input) {
            assert_eq!(url.host(), host, "host and URL disagree on {input:?}");
        }
    }
});
