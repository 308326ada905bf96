//! Profiles, rules and decisions.
//!
//! * [`model`] is the policy a school writes (and its TOML format);
//! * [`defaults`] is the policy a fresh install starts with;
//! * [`engine`] compiles a policy with its lists and decides, as a pure
//!   function of (profile, URL, time), returning a verdict and its explanation;
//! * [`safesearch`] knows the search engines and their enforced hosts;
//! * [`diff`] turns two policies into the readable change the audit trail keeps.
//!
//! No sockets, no async, no database: everything here is tested on its own.

pub mod defaults;
pub mod diff;
pub mod engine;
pub mod model;
pub mod safesearch;

pub use engine::{Decision, Engine, Explanation, Lists, Rule, Verdict};
pub use model::{Policy, PolicyError, Profile};
