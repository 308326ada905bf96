//! Search engines and the hosts that enforce their safe search.
//!
//! Each engine runs a host that always answers with safe search on; sending a
//! school's traffic there (by DNS or by the proxy's choice of upstream)
//! enforces it without reading the traffic. Engines without such a host are
//! not listed: there is nothing to send them to.

use crate::model::{SafeSearch, SearchLevel, YoutubeLevel};

/// A search engine schoolgate can enforce safe search on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SearchEngine {
    Google,
    Bing,
    YouTube,
    DuckDuckGo,
    Yandex,
    Pixabay,
}

impl SearchEngine {
    pub fn name(self) -> &'static str {
        match self {
            SearchEngine::Google => "Google",
            SearchEngine::Bing => "Bing",
            SearchEngine::YouTube => "YouTube",
            SearchEngine::DuckDuckGo => "DuckDuckGo",
            SearchEngine::Yandex => "Yandex",
            SearchEngine::Pixabay => "Pixabay",
        }
    }

    /// Which engine a canonical host belongs to, if any. Only the hosts that
    /// serve searches are included, so e.g. Google's mail or maps are not
    /// redirected.
    pub fn for_host(host: &str) -> Option<SearchEngine> {
        let bare = host.strip_prefix("www.").unwrap_or(host);
        if is_google_search(bare) {
            return Some(SearchEngine::Google);
        }
        match bare {
            "bing.com" => Some(SearchEngine::Bing),
            "youtube.com"
            | "m.youtube.com"
            | "youtubei.googleapis.com"
            | "youtube.googleapis.com"
            | "youtube-nocookie.com" => Some(SearchEngine::YouTube),
            "duckduckgo.com" | "start.duckduckgo.com" | "html.duckduckgo.com" => {
                Some(SearchEngine::DuckDuckGo)
            }
            "yandex.com" | "yandex.ru" | "yandex.ua" | "yandex.by" | "yandex.kz"
            | "yandex.com.tr" => Some(SearchEngine::Yandex),
            "pixabay.com" => Some(SearchEngine::Pixabay),
            _ => None,
        }
    }

    /// The host that enforces safe search, for a profile's settings; `None`
    /// when the profile leaves this engine alone.
    pub fn enforced_host(self, settings: SafeSearch) -> Option<&'static str> {
        if self == SearchEngine::YouTube {
            return match settings.youtube {
                YoutubeLevel::Strict => Some("restrict.youtube.com"),
                YoutubeLevel::Moderate => Some("restrictmoderate.youtube.com"),
                YoutubeLevel::Off => None,
            };
        }
        if settings.search == SearchLevel::Off {
            return None;
        }
        Some(match self {
            SearchEngine::Google => "forcesafesearch.google.com",
            SearchEngine::Bing => "strict.bing.com",
            SearchEngine::DuckDuckGo => "safe.duckduckgo.com",
            SearchEngine::Yandex => "familysearch.yandex.ru",
            SearchEngine::Pixabay => "safesearch.pixabay.com",
            SearchEngine::YouTube => return None,
        })
    }
}

/// Google search on any of its country domains: `google.com`, `google.de`,
/// `google.co.uk`, `google.com.au`, `google.cat`, with or without `www.`.
fn is_google_search(bare: &str) -> bool {
    let Some(tld) = bare.strip_prefix("google.") else {
        return false;
    };
    let labels: Vec<&str> = tld.split('.').collect();
    let two_letters = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_lowercase());
    match labels.as_slice() {
        ["com"] | ["cat"] => true,
        [cc] => two_letters(cc),
        ["co" | "com", cc] => two_letters(cc),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_country_domains_are_recognised() {
        for host in [
            "google.com",
            "www.google.com",
            "www.google.co.uk",
            "google.de",
            "www.google.com.au",
            "google.cat",
        ] {
            assert_eq!(
                SearchEngine::for_host(host),
                Some(SearchEngine::Google),
                "{host}"
            );
        }
        for host in [
            "mail.google.com",
            "google.example.com",
            "notgoogle.com",
            "google.co.uk.evil",
            "google.museum",
        ] {
            assert_eq!(SearchEngine::for_host(host), None, "{host}");
        }
    }

    #[test]
    fn youtube_level_is_separate_from_search() {
        let settings = SafeSearch {
            search: SearchLevel::Off,
            youtube: YoutubeLevel::Moderate,
        };
        assert_eq!(SearchEngine::Google.enforced_host(settings), None);
        assert_eq!(
            SearchEngine::YouTube.enforced_host(settings),
            Some("restrictmoderate.youtube.com")
        );
        let strict = SafeSearch::default();
        assert_eq!(
            SearchEngine::Bing.enforced_host(strict),
            Some("strict.bing.com")
        );
        assert_eq!(
            SearchEngine::YouTube.enforced_host(strict),
            Some("restrict.youtube.com")
        );
    }
}
