//! What every network edge (the proxy, the DNS filter) shares on the hot path:
//!
//! * the policy in force, compiled with its lists ([`policy::Engine`]),
//!   swapped whole on reload so a request sees one consistent version;
//! * who is behind an address ([`identity`]);
//! * the activity log queue, which traffic never waits on ([`activity`]);
//! * counters for the metrics endpoint ([`metrics`]);
//! * search terms visible in URLs ([`search`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use arc_swap::ArcSwap;
use jiff::Timestamp;
use policy::Engine;

pub mod activity;
pub mod identity;
pub mod metrics;
pub mod search;

pub use activity::{ActivityCounts, ActivityLog, QueueSettings};
pub use identity::{Basis, IdentityTable, Session, Who};
pub use metrics::{Metrics, Unreachable};

/// The shared state; one per running schoolgate, behind an `Arc`.
pub struct Gate {
    engine: ArcSwap<Engine>,
    identity: ArcSwap<IdentityTable>,
    sessions: RwLock<HashMap<IpAddr, Session>>,
    pub activity: ActivityLog,
    pub metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate").finish_non_exhaustive()
    }
}

impl Gate {
    pub fn new(engine: Engine, identity: IdentityTable, activity: ActivityLog) -> Gate {
        Gate {
            engine: ArcSwap::from_pointee(engine),
            identity: ArcSwap::from_pointee(identity),
            sessions: RwLock::new(HashMap::new()),
            activity,
            metrics: Arc::default(),
        }
    }

    /// The policy in force. Hold the `Arc` for the whole of one request so
    /// a reload part-way through cannot mix two versions.
    pub fn engine(&self) -> Arc<Engine> {
        self.engine.load_full()
    }

    /// Puts a new policy or list set in force for every request that starts
    /// from now on.
    pub fn set_engine(&self, engine: Engine) {
        self.engine.store(Arc::new(engine));
    }

    pub fn set_identity(&self, identity: IdentityTable) {
        self.identity.store(Arc::new(identity));
    }

    /// Records the login agent's word that `session.user` is at `address`.
    pub fn start_session(&self, address: IpAddr, session: Session) {
        let mut sessions = self.sessions.write().unwrap_or_else(|e| e.into_inner());
        let now = Timestamp::now();
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(address, session);
    }

    /// Forgets a session, as at log-off.
    pub fn end_session(&self, address: IpAddr) {
        let mut sessions = self.sessions.write().unwrap_or_else(|e| e.into_inner());
        sessions.remove(&address);
    }

    /// Who is behind `address` at `now`; `user` is someone the proxy has
    /// authenticated itself.
    pub fn identify(&self, address: IpAddr, user: Option<&str>, now: Timestamp) -> Who {
        let session = {
            let sessions = self.sessions.read().unwrap_or_else(|e| e.into_inner());
            sessions.get(&address).cloned()
        };
        self.identity
            .load()
            .identify(address, user, session.as_ref(), now)
    }

    /// The profile index `who` is filtered with in `engine`. A profile that no
    /// longer exists falls back to the one for unidentified people, the
    /// strictest, so a policy change never opens filtering up.
    pub fn profile_for(engine: &Engine, who: &Who) -> usize {
        who.profile
            .as_deref()
            .and_then(|id| engine.profile_index(Some(id)).ok())
            .or_else(|| engine.profile_index(None).ok())
            .unwrap_or(0)
    }

    /// Checks a proxy password against the stored argon2id hash. This is
    /// deliberately slow (tens of milliseconds): callers cache the result.
    pub fn verify_password(&self, user: &str, password: &str) -> bool {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let identity = self.identity.load();
        let Some(stored) = identity.password_hash(user) else {
            return false;
        };
        PasswordHash::new(stored)
            .map(|hash| {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
            })
            .unwrap_or(false)
    }
}

/// Hashes a password with argon2id and a random salt, for storing.
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}
