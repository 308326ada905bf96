//! Search terms visible in a URL, for the activity log (the DfE standard asks
//! for "the search term or content blocked").

use classify::canon::CanonUrl;

/// The query parameter that carries the search on each engine's search page.
fn parameter(host: &str, path: &str) -> Option<&'static str> {
    let bare = host.strip_prefix("www.").unwrap_or(host);
    let google = bare.starts_with("google.");
    match (bare, path) {
        (_, "/search") if google => Some("q"),
        ("bing.com", "/search" | "/images/search" | "/videos/search") => Some("q"),
        ("duckduckgo.com" | "html.duckduckgo.com" | "safe.duckduckgo.com", "/" | "/html") => {
            Some("q")
        }
        ("youtube.com" | "m.youtube.com", "/results") => Some("search_query"),
        ("search.yahoo.com" | "uk.search.yahoo.com", "/search") => Some("p"),
        ("ecosia.org", "/search") => Some("q"),
        ("yandex.com" | "yandex.ru", "/search") => Some("text"),
        ("search.brave.com", "/search") => Some("q"),
        ("qwant.com", "/") => Some("q"),
        ("startpage.com", "/do/search" | "/sp/search") => Some("query"),
        (_, "/w/index.php") if bare.ends_with("wikipedia.org") => Some("search"),
        _ => None,
    }
}

/// Decodes `+` and `%xx` escapes, as search forms encode their terms.
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The search term of a search-engine URL, if one is visible.
pub fn search_term(url: &CanonUrl) -> Option<String> {
    let name = parameter(url.host(), url.path())?;
    let query = url.query()?;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| decode(value))
        .filter(|term| !term.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(url: &str) -> Option<String> {
        search_term(&CanonUrl::parse(url).expect("url"))
    }

    #[test]
    fn terms_are_taken_from_each_engine() {
        assert_eq!(
            term("https://www.google.co.uk/search?q=how+to+make+slime&hl=en").as_deref(),
            Some("how to make slime")
        );
        assert_eq!(
            term("https://www.bing.com/search?form=x&q=volcano%20facts").as_deref(),
            Some("volcano facts")
        );
        assert_eq!(
            term("https://duckduckgo.com/?q=caf%C3%A9&ia=web").as_deref(),
            Some("café")
        );
        assert_eq!(
            term("https://www.youtube.com/results?search_query=minecraft").as_deref(),
            Some("minecraft")
        );
        assert_eq!(
            term("https://uk.search.yahoo.com/search?p=tides").as_deref(),
            Some("tides")
        );
        assert_eq!(
            term("https://en.wikipedia.org/w/index.php?search=otters").as_deref(),
            Some("otters")
        );
    }

    #[test]
    fn other_urls_have_no_term() {
        assert_eq!(term("https://www.google.com/maps?q=london"), None);
        assert_eq!(term("https://www.example.org/search?q=x"), None);
        assert_eq!(term("https://www.google.com/search?q="), None);
        assert_eq!(
            term("https://www.google.com/search?q=%zz"),
            Some("%zz".into())
        );
    }
}
