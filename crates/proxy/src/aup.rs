//! Acceptable use before access (§7.2): on a profile with
//! `require_acceptable_use`, a person who has not agreed to the version in
//! force for their audience is shown the agreement instead of the web, until
//! they agree. Help sites stay reachable throughout.
//!
//! The versions and acceptances come from the acceptable use register in the
//! store, held here in memory so the check on every request is a set lookup;
//! they are read again every few seconds and updated at once on agreement.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use policy::model::Audience as ProfileAudience;
use policy::{Engine, Profile};
use records::registers::{Audience, Entry, Register, RegisterEntry};

/// How often the register is read again, so a new version re-gates people.
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(3);

/// One version of an agreement.
struct Version {
    audience: Audience,
    version: String,
    text: String,
    in_force_from: Timestamp,
}

#[derive(Default)]
struct State {
    versions: Arc<Vec<Version>>,
    /// (person, audience, version) agreed.
    accepted: HashSet<(String, Audience, String)>,
}

/// The agreement a person still has to accept.
pub struct Pending {
    pub person: String,
    pub audience: Audience,
    pub version: String,
    pub text: String,
}

#[derive(Default)]
pub struct Agreements {
    state: RwLock<Arc<State>>,
}

impl Agreements {
    /// Replaces what is held with the register as it stands.
    pub fn load(&self, entries: &[RegisterEntry]) {
        let mut versions = Vec::new();
        let mut accepted = HashSet::new();
        for e in entries {
            match &e.entry {
                Entry::AupVersion {
                    audience,
                    version,
                    text,
                    in_force_from,
                } => versions.push(Version {
                    audience: *audience,
                    version: version.clone(),
                    text: text.clone(),
                    in_force_from: *in_force_from,
                }),
                Entry::AupAcceptance {
                    audience,
                    version,
                    person,
                    ..
                } => {
                    accepted.insert((person.clone(), *audience, version.clone()));
                }
                _ => {}
            }
        }
        let state = State {
            versions: Arc::new(versions),
            accepted,
        };
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(state);
    }

    /// Reads the register from the store; on failure what is held stays.
    pub async fn reload<S: store::Store>(&self, store: &S) {
        match store.register_entries(Register::AcceptableUse).await {
            Ok(entries) => self.load(&entries),
            Err(e) => tracing::warn!(error = %e, "the acceptable use register could not be read"),
        }
    }

    /// Notes an agreement at once, before the next reload.
    pub fn accepted(&self, pending: &Pending) {
        let mut guard = self.state.write().unwrap_or_else(|e| e.into_inner());
        let mut accepted = guard.accepted.clone();
        accepted.insert((
            pending.person.clone(),
            pending.audience,
            pending.version.clone(),
        ));
        let versions = guard.versions.clone();
        *guard = Arc::new(State { versions, accepted });
    }

    /// What `person` on `profile` must agree to before browsing, if anything.
    /// Unidentified people are not asked (there is no one to record).
    pub fn pending(
        &self,
        engine: &Engine,
        profile: usize,
        person: Option<&str>,
        now: Timestamp,
    ) -> Option<Pending> {
        let profile: &Profile = engine.policy().profiles.get(profile)?;
        if !profile.require_acceptable_use {
            return None;
        }
        let person = person?;
        let audience = match profile.audience {
            ProfileAudience::Pupil => Audience::Pupil,
            ProfileAudience::Staff => Audience::Staff,
            ProfileAudience::Guest => Audience::Visitor,
        };
        let state = self.state.read().unwrap_or_else(|e| e.into_inner()).clone();
        let current = state
            .versions
            .iter()
            .filter(|v| v.audience == audience && v.in_force_from <= now)
            .max_by_key(|v| v.in_force_from)?;
        let key = (person.to_owned(), audience, current.version.clone());
        if state.accepted.contains(&key) {
            return None;
        }
        Some(Pending {
            person: person.to_owned(),
            audience,
            version: current.version.clone(),
            text: current.text.clone(),
        })
    }
}

/// Whether `host` is one of the help sites every child must reach (§7.3.1:
/// over-blocking is a failure too), or a subdomain of one.
pub fn is_help_site(host: &str) -> bool {
    policy::defaults::HELP_SITES.iter().any(|site| {
        host == *site
            || host
                .strip_suffix(site)
                .is_some_and(|rest| rest.ends_with('.'))
    })
}
