//! "Test a URL": the console asks the engine in force for a verdict and its
//! explanation, exactly as `schoolgate check` does. The console holds no
//! compiled index of its own; whoever runs it hands it a [`UrlChecker`]
//! (`serve` gives one that always asks the engine the filter is using, so
//! answers follow every reload).

use classify::canon::CanonUrl;
use jiff::Timestamp;
use policy::{Engine, Explanation};

/// Decides on a URL for a profile at a time, and explains the decision.
pub trait UrlChecker: Send + Sync {
    /// `Err` holds a sentence for the person asking (an unknown profile, a
    /// URL that cannot be read).
    fn check(&self, url: &str, profile: &str, at: Timestamp) -> Result<Explanation, String>;
}

/// The decision and explanation `schoolgate check` gives for `url`.
pub fn explain_url(
    engine: &Engine,
    url: &str,
    profile: &str,
    at: Timestamp,
) -> Result<Explanation, String> {
    let index = engine
        .profile_index(Some(profile))
        .map_err(|e| e.to_string())?;
    let url = CanonUrl::parse(url.trim())
        .map_err(|e| format!("'{}' is not a URL schoolgate can check: {e}", url.trim()))?;
    let decision = engine.decide(index, &url, at);
    Ok(engine.explain(&url, &decision))
}

impl UrlChecker for Engine {
    fn check(&self, url: &str, profile: &str, at: Timestamp) -> Result<Explanation, String> {
        explain_url(self, url, profile, at)
    }
}

pub use crate::handlers::reports::observe;
