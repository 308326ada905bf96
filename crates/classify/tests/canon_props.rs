//! Property tests of the canonicaliser: spellings that reach the same
//! address must give the same key, and keys must be fixed points.

use classify::canon::{CanonUrl, HostKind, canonical_host};
use proptest::prelude::*;

/// A URL built from parts, so that tests can respell one part at a time.
#[derive(Clone, Debug)]
struct Parts {
    scheme: &'static str,
    host: String,
    port: Option<u16>,
    segments: Vec<String>,
    trailing_slash: bool,
    query: Option<String>,
}

impl Parts {
    fn render(&self) -> String {
        self.render_with(&self.host, "", self.port_text(), "/")
    }

    fn port_text(&self) -> String {
        self.port.map(|p| format!(":{p}")).unwrap_or_default()
    }

    fn render_with(&self, host: &str, userinfo: &str, port: String, sep: &str) -> String {
        let mut s = format!("{}{userinfo}{host}{port}", self.scheme);
        for seg in &self.segments {
            s.push_str(sep);
            s.push_str(seg);
        }
        if self.trailing_slash || self.segments.is_empty() {
            s.push_str(sep);
        }
        if let Some(q) = &self.query {
            s.push('?');
            s.push_str(q);
        }
        s
    }
}

fn scheme() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "", "http://", "https://", "HTTP://", "Https://", "ws://", "wss://", "ftp://",
    ])
}

fn domain() -> impl Strategy<Value = String> {
    (
        prop::collection::vec("[a-zA-Z0-9_][a-zA-Z0-9_-]{0,9}", 0..4),
        "[a-zA-Z]{2,6}",
    )
        .prop_map(|(mut labels, tld)| {
            labels.push(tld);
            labels.join(".")
        })
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9._~!$&'()*+,;=:@-]{1,8}",
        1 => "[a-zA-Z0-9%. \"<>{}`|^éü€]{1,8}",
        1 => prop::sample::select(vec![".", "..", "%2e", "%2E%2e", "%2f", "%41"]).prop_map(String::from),
    ]
}

fn parts() -> impl Strategy<Value = Parts> {
    (
        scheme(),
        domain(),
        prop::option::weighted(0.3, 1u16..=65535),
        prop::collection::vec(segment(), 0..5),
        any::<bool>(),
        prop::option::weighted(0.5, "[a-zA-Z0-9=&%/?._~ +\\\\-]{0,16}"),
    )
        .prop_map(
            |(scheme, host, port, segments, trailing_slash, query)| Parts {
                scheme,
                host,
                port,
                segments,
                trailing_slash,
                query,
            },
        )
}

fn key_of(input: &str) -> Result<String, String> {
    CanonUrl::parse(input)
        .map(|u| u.as_key().to_owned())
        .map_err(|e| format!("{input:?}: {e}"))
}

/// Percent-encodes the unreserved characters chosen by `pick`, leaving alone
/// the two characters after any '%' (they may be an escape's hex digits).
fn encode_unreserved(s: &str, pick: &[bool], upper_hex: bool) -> String {
    let mut out = String::new();
    let mut protected = 0u8;
    for (i, c) in s.chars().enumerate() {
        let unreserved = c.is_ascii_alphanumeric() || "-._~".contains(c);
        if protected == 0 && unreserved && pick.get(i % pick.len().max(1)).copied().unwrap_or(false)
        {
            if upper_hex {
                out.push_str(&format!("%{:02X}", c as u32));
            } else {
                out.push_str(&format!("%{:02x}", c as u32));
            }
        } else {
            out.push(c);
        }
        protected = if c == '%' {
            2
        } else {
            protected.saturating_sub(1)
        };
    }
    out
}

/// Spells one IPv4 part in decimal, hex or octal.
fn spell_part(value: u32, style: u8) -> String {
    match style % 4 {
        0 => value.to_string(),
        1 => format!("0x{value:x}"),
        2 => format!("0X{value:X}"),
        _ => format!("0{value:o}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn generated_urls_parse(p in parts()) {
        let url = p.render();
        prop_assert!(CanonUrl::parse(&url).is_ok(), "{}", key_of(&url).unwrap_err());
    }

    #[test]
    fn keys_are_fixed_points(p in parts()) {
        let url = p.render();
        let key = key_of(&url).map_err(TestCaseError::fail)?;
        prop_assert_eq!(key_of(&key).map_err(TestCaseError::fail)?, key);
    }

    #[test]
    fn keys_of_any_text_are_fixed_points(s in "(?s).{0,40}|[a-zA-Z0-9:/\\\\@%.\\[\\]?#\t -]{0,40}") {
        if let Ok(u) = CanonUrl::parse(&s) {
            let again = CanonUrl::parse(u.as_key());
            prop_assert!(again.is_ok(), "key {:?} of {:?} does not parse", u.as_key(), s);
            if let Ok(again) = again {
                prop_assert_eq!(again.as_key(), u.as_key());
            }
        }
    }

    #[test]
    fn case_does_not_matter(p in parts(), flips in prop::collection::vec(any::<bool>(), 1..32)) {
        let url = p.render();
        let key = key_of(&url).map_err(TestCaseError::fail)?;
        prop_assert_eq!(key_of(&url.to_ascii_uppercase()).map_err(TestCaseError::fail)?, key.clone());
        prop_assert_eq!(key_of(&url.to_ascii_lowercase()).map_err(TestCaseError::fail)?, key.clone());
        let mixed: String = url
            .chars()
            .enumerate()
            .map(|(i, c)| if flips[i % flips.len()] { c.to_ascii_uppercase() } else { c })
            .collect();
        prop_assert_eq!(key_of(&mixed).map_err(TestCaseError::fail)?, key);
    }

    #[test]
    fn userinfo_does_not_matter(p in parts(), user in "[a-zA-Z0-9._~!$&'()*+,;=%-]{0,8}", password in prop::option::of("[a-zA-Z0-9._~!$&'()*+,;=:%@-]{0,8}")) {
        let key = key_of(&p.render()).map_err(TestCaseError::fail)?;
        let userinfo = match &password {
            Some(pw) => format!("{user}:{pw}@"),
            None => format!("{user}@"),
        };
        let with = p.render_with(&p.host, &userinfo, p.port_text(), "/");
        prop_assert_eq!(key_of(&with).map_err(TestCaseError::fail)?, key);
    }

    #[test]
    fn default_and_empty_ports_do_not_matter(p in parts()) {
        let p = Parts { port: None, ..p };
        let key = key_of(&p.render()).map_err(TestCaseError::fail)?;
        let mut ports = vec![":80", ":443", ":0080"];
        // Without a scheme, `http:/` reads as a scheme with no host (as in
        // WHATWG), so an empty port is only neutral for other host names.
        if !(p.scheme.is_empty() && ["http", "https", "ws", "wss", "ftp"].iter().any(|s| s.eq_ignore_ascii_case(&p.host))) {
            ports.push(":");
        }
        if p.scheme.eq_ignore_ascii_case("ftp://") {
            ports.push(":21");
        }
        for port in ports {
            let with = p.render_with(&p.host, "", port.to_owned(), "/");
            prop_assert_eq!(key_of(&with).map_err(TestCaseError::fail)?, key.clone(), "{}", with);
        }
    }

    #[test]
    fn a_trailing_dot_does_not_matter(p in parts()) {
        let key = key_of(&p.render()).map_err(TestCaseError::fail)?;
        let with = p.render_with(&format!("{}.", p.host), "", p.port_text(), "/");
        prop_assert_eq!(key_of(&with).map_err(TestCaseError::fail)?, key);
    }

    #[test]
    fn dot_segments_do_not_matter(p in parts(), at in any::<prop::sample::Index>(), detour in "[a-z]{1,6}", dots in prop::sample::select(vec![".", "%2e", "%2E"])) {
        let key = key_of(&p.render()).map_err(TestCaseError::fail)?;
        // Insert `./` or `detour/../` before some segment (or at the end).
        let mut q = p.clone();
        let i = at.index(q.segments.len() + 1);
        let up = format!("{dots}{dots}");
        if i == q.segments.len() {
            // At the end a dot segment leaves a trailing slash, so only
            // insert where a segment follows, or where one already ends.
            if q.trailing_slash || q.segments.is_empty() {
                q.segments.push(dots.to_owned());
                q.trailing_slash = true;
            }
        } else {
            q.segments.insert(i, up);
            q.segments.insert(i, detour);
            q.segments.insert(i, dots.to_owned());
        }
        prop_assert_eq!(key_of(&q.render()).map_err(TestCaseError::fail)?, key);
    }

    #[test]
    fn redundant_and_back_slashes_do_not_matter(p in parts(), sep in prop::sample::select(vec!["//", "\\", "/\\/", "///"])) {
        let key = key_of(&p.render()).map_err(TestCaseError::fail)?;
        let with = p.render_with(&p.host, "", p.port_text(), sep);
        prop_assert_eq!(key_of(&with).map_err(TestCaseError::fail)?, key);
    }

    #[test]
    fn encoding_unreserved_characters_does_not_matter(p in parts(), pick in prop::collection::vec(any::<bool>(), 1..16), upper in any::<bool>()) {
        let key = key_of(&p.render()).map_err(TestCaseError::fail)?;
        let mut q = p.clone();
        q.host = encode_unreserved(&p.host, &pick, upper);
        q.segments = p.segments.iter().map(|s| encode_unreserved(s, &pick, upper)).collect();
        q.query = p.query.as_ref().map(|s| encode_unreserved(s, &pick, upper));
        prop_assert_eq!(key_of(&q.render()).map_err(TestCaseError::fail)?, key);
    }

    #[test]
    fn hosts_agree_with_canonical_host(p in parts()) {
        let u = CanonUrl::parse(&p.render()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(canonical_host(&p.host).map_err(|e| TestCaseError::fail(e.to_string()))?, u.host());
        prop_assert_eq!(canonical_host(u.host()).map_err(|e| TestCaseError::fail(e.to_string()))?, u.host());
    }

    #[test]
    fn ipv4_in_any_spelling_is_the_dotted_quad(addr in any::<u32>(), parts in 1usize..=4, styles in prop::collection::vec(any::<u8>(), 4), zeros in 0usize..3, dot in any::<bool>()) {
        let octets = addr.to_be_bytes();
        // The first parts - 1 octets each get a part; the last part holds the rest.
        let mut spelled: Vec<String> = octets[..parts - 1]
            .iter()
            .zip(&styles)
            .map(|(&o, &s)| spell_part(u32::from(o), s))
            .collect();
        let rest = octets[parts - 1..].iter().fold(0u32, |acc, &o| acc << 8 | u32::from(o));
        let last = spell_part(rest, styles[3]);
        // Extra leading zeros never change a hex or octal value.
        let last = match last.strip_prefix("0x").or_else(|| last.strip_prefix("0X")) {
            Some(hex) => format!("0x{}{hex}", "0".repeat(zeros)),
            None if last.len() > 1 && last.starts_with('0') => format!("{}{last}", "0".repeat(zeros)),
            None => last,
        };
        spelled.push(last);
        let mut host = spelled.join(".");
        if dot {
            host.push('.');
        }
        let quad = std::net::Ipv4Addr::from(addr).to_string();
        prop_assert_eq!(canonical_host(&host).map_err(|e| TestCaseError::fail(e.to_string()))?, quad.clone());
        let u = CanonUrl::parse(&format!("http://{host}/x")).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(u.host(), quad.as_str());
        prop_assert_eq!(u.host_kind(), HostKind::Ipv4);
    }

    #[test]
    fn ipv4_mapped_ipv6_is_ipv4(addr in any::<u32>()) {
        let v4 = std::net::Ipv4Addr::from(addr);
        let v6 = v4.to_ipv6_mapped();
        let u = CanonUrl::parse(&format!("http://[{v6}]/")).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(u.host(), v4.to_string());
        prop_assert_eq!(u.host_kind(), HostKind::Ipv4);
        let segs = v6.segments();
        let long = format!("[{:X}:{:x}:{:x}:{:x}:{:x}:{:X}:{:x}:{:x}]", segs[0], segs[1], segs[2], segs[3], segs[4], segs[5], segs[6], segs[7]);
        prop_assert_eq!(canonical_host(&long).map_err(|e| TestCaseError::fail(e.to_string()))?, v4.to_string());
    }

    #[test]
    fn ipv6_round_trips(addr in any::<u128>()) {
        let v6 = std::net::Ipv6Addr::from(addr);
        prop_assume!(v6.to_ipv4_mapped().is_none());
        let u = CanonUrl::parse(&format!("https://[{v6}]:8443/")).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(u.host(), format!("[{v6}]"));
        prop_assert_eq!(u.host_kind(), HostKind::Ipv6);
        prop_assert_eq!(u.port(), Some(8443));
    }

    #[test]
    fn no_input_panics(s in any::<String>()) {
        if let Ok(u) = CanonUrl::parse(&s) {
            prop_assert!(u.path().starts_with('/'));
            prop_assert!(u.as_key().is_ascii());
            prop_assert!(!u.as_key().bytes().any(|b| b.is_ascii_uppercase()));
            prop_assert_ne!(u.query(), Some(""));
        }
        let _ = canonical_host(&s);
    }

    #[test]
    fn no_url_like_input_panics(s in "[hHtTpPsS:/\\\\@%.0-9a-fA-FxX\\[\\]?#:é。 -]{0,48}") {
        if let Ok(u) = CanonUrl::parse(&s) {
            prop_assert_eq!(key_of(u.as_key()).map_err(TestCaseError::fail)?, u.as_key().to_owned());
            prop_assert_eq!(canonical_host(u.host()).map_err(|e| TestCaseError::fail(e.to_string()))?, u.host());
        }
        if let Ok(h) = canonical_host(&s) {
            prop_assert_eq!(canonical_host(&h).map_err(|e| TestCaseError::fail(e.to_string()))?, h);
        }
    }
}
