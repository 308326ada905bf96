//! The filtering web proxy (DESIGN C3, C5, C6).
//!
//! An explicit forward proxy for HTTP/1.1 (keep-alive on both sides) and
//! CONNECT. Every request is identified by the gate (proxy sign-in, a
//! login-agent session, the network, else the strictest pupil profile) and
//! decided by the policy engine:
//!
//! * blocked web requests get a block page a pupil understands, with a
//!   reference and a way to ask for a review ([`pages`]); statutory hits
//!   get the standard text alone;
//! * blocked CONNECTs get a `403` whose headers and body say why; allowed
//!   ones are decided again on the TLS server name ([`sni`]), the stricter
//!   verdict winning;
//! * safe search is enforced without interception by connecting to each
//!   engine's enforcing host instead ([`upstream`] resolves every name,
//!   honouring the configured overrides), and allowed requests are sent on
//!   over HTTP/1.1 spoken by the proxy itself ([`origin`]);
//! * every request becomes one activity event, queued when its answer is
//!   done ([`event`]); traffic never waits for the log.
//!
//! With a parent proxy configured, allowed traffic goes on through it
//! ([`parent`]); the school's own addresses are still reached directly.
//!
//! Requests aimed at the proxy itself are answered by its own small site
//! ([`local`]): the PAC file, the review form and the login agent.
//!
//! [`serve`] runs it all until shutdown, then drains connections.

mod aup;
pub mod auth;
pub mod event;
mod http;
pub mod io;
mod local;
pub mod origin;
pub mod pac;
pub mod pages;
pub mod parent;
pub mod reference;
mod server;
pub mod settings;
pub mod sni;
mod tunnel;
pub mod upstream;

use std::sync::Arc;

pub use settings::{Authentication, Clock, Settings, validate};

/// Serves the proxy on `listeners` until `shutdown` is cancelled, then lets
/// requests and tunnels in flight finish within the grace period from
/// `settings` before returning.
///
/// `store` records review requests and login-agent sessions; activity goes
/// through `gate.activity`.
pub async fn serve<S: store::Store + Clone + 'static>(
    listeners: Vec<tokio::net::TcpListener>,
    gate: Arc<gate::Gate>,
    store: S,
    settings: Arc<Settings>,
    shutdown: tokio_util::sync::CancellationToken,
) -> std::io::Result<()> {
    server::run(listeners, gate, store, settings, shutdown).await
}
