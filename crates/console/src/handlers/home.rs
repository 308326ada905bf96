//! Each role's home page: what the role is for, and the pages it can reach
//! (drawn from the route table, so it never offers what it would refuse).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Html;
use minijinja::context;
use store::Store;

use super::Done;
use crate::access::Caller;
use crate::csrf::CsrfKey;
use crate::pages::{Layout, render};
use crate::{AppError, Console};

pub async fn page<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Query(done): Query<Done>,
) -> Result<Html<String>, AppError> {
    let layout = Layout::new(&console, Some(&caller), &csrf, "Home", "/").notice(done.notice());
    // The DSL and deputies are told of new concerns here at once.
    let new_concerns = super::records::new_concerns(&console, &caller).await?;
    // Filtering breaches reported by staff stand out for the DSL roles.
    let open_breaches = if crate::Role::SAFEGUARDING.contains(&caller.role) {
        super::reviews::open_breaches(&console).await?
    } else {
        0
    };
    // So do monitoring alerts waiting for a decision.
    let new_alerts = if crate::Role::SAFEGUARDING.contains(&caller.role) {
        super::alerts::new_alerts(&console).await?
    } else {
        0
    };
    let body = render(
        "home.html",
        &layout,
        context! {
            summary => caller.role.summary(),
            role => caller.role.label(),
            two_factor => caller.account.totp_enabled,
            new_concerns => new_concerns,
            open_breaches => open_breaches,
            new_alerts => new_alerts,
        },
    )?;
    Ok(Html(body))
}
