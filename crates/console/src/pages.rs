//! Page rendering: minijinja templates compiled into the binary, escaped as
//! HTML, all laid out by `base.html` (header, navigation drawn from the
//! route table for the caller's role, main, footer).

use std::sync::OnceLock;

use axum::http::{Method, StatusCode};
use minijinja::value::Serde;
use minijinja::{Environment, Value, context};
use serde::Serialize;
use store::Store;

use crate::access::{Caller, Stage};
use crate::csrf::CsrfKey;
use crate::routes::Kind;
use crate::{AppError, Console};

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    // Reports and the filter self-test.
    ("report.html", include_str!("../templates/report.html")),
    ("selftest.html", include_str!("../templates/selftest.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("sign_in.html", include_str!("../templates/sign_in.html")),
    ("code.html", include_str!("../templates/code.html")),
    ("setup.html", include_str!("../templates/setup.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("account.html", include_str!("../templates/account.html")),
    (
        "two_factor.html",
        include_str!("../templates/two_factor.html"),
    ),
    ("tokens.html", include_str!("../templates/tokens.html")),
    ("accounts.html", include_str!("../templates/accounts.html")),
    (
        "account_detail.html",
        include_str!("../templates/account_detail.html"),
    ),
    ("link.html", include_str!("../templates/link.html")),
    // The filtering policy.
    ("policy.html", include_str!("../templates/policy.html")),
    (
        "policy_profile.html",
        include_str!("../templates/policy_profile.html"),
    ),
    (
        "policy_history.html",
        include_str!("../templates/policy_history.html"),
    ),
    (
        "policy_revision.html",
        include_str!("../templates/policy_revision.html"),
    ),
    (
        "policy_test.html",
        include_str!("../templates/policy_test.html"),
    ),
    // Safeguarding records and the policy's registers.
    (
        "records_raise.html",
        include_str!("../templates/records_raise.html"),
    ),
    (
        "records_mine.html",
        include_str!("../templates/records_mine.html"),
    ),
    (
        "records_mine_detail.html",
        include_str!("../templates/records_mine_detail.html"),
    ),
    (
        "records_concern_fields.html",
        include_str!("../templates/records_concern_fields.html"),
    ),
    (
        "records_read_log.html",
        include_str!("../templates/records_read_log.html"),
    ),
    (
        "records_hold.html",
        include_str!("../templates/records_hold.html"),
    ),
    (
        "records_inbox.html",
        include_str!("../templates/records_inbox.html"),
    ),
    (
        "records_concern.html",
        include_str!("../templates/records_concern.html"),
    ),
    (
        "records_incidents.html",
        include_str!("../templates/records_incidents.html"),
    ),
    (
        "records_incident.html",
        include_str!("../templates/records_incident.html"),
    ),
    (
        "records_directory.html",
        include_str!("../templates/records_directory.html"),
    ),
    (
        "records_pupil_reason.html",
        include_str!("../templates/records_pupil_reason.html"),
    ),
    (
        "records_pupil.html",
        include_str!("../templates/records_pupil.html"),
    ),
    (
        "registers_reviews.html",
        include_str!("../templates/registers_reviews.html"),
    ),
    (
        "registers_consents.html",
        include_str!("../templates/registers_consents.html"),
    ),
    (
        "registers_transfers.html",
        include_str!("../templates/registers_transfers.html"),
    ),
    (
        "records_find.html",
        include_str!("../templates/records_find.html"),
    ),
    (
        "records_categories.html",
        include_str!("../templates/records_categories.html"),
    ),
    (
        "registers_index.html",
        include_str!("../templates/registers_index.html"),
    ),
    (
        "registers_problem.html",
        include_str!("../templates/registers_problem.html"),
    ),
    (
        "registers_confiscated.html",
        include_str!("../templates/registers_confiscated.html"),
    ),
    (
        "registers_aup.html",
        include_str!("../templates/registers_aup.html"),
    ),
    (
        "registers_training.html",
        include_str!("../templates/registers_training.html"),
    ),
    (
        "registers_checks.html",
        include_str!("../templates/registers_checks.html"),
    ),
    (
        "registers_loans.html",
        include_str!("../templates/registers_loans.html"),
    ),
    (
        "registers_technology.html",
        include_str!("../templates/registers_technology.html"),
    ),
    (
        "registers_access.html",
        include_str!("../templates/registers_access.html"),
    ),
    // Review requests and activity.
    // People and devices.
    (
        "form_errors.html",
        include_str!("../templates/form_errors.html"),
    ),
    ("reviews.html", include_str!("../templates/reviews.html")),
    ("review.html", include_str!("../templates/review.html")),
    (
        "review_breach.html",
        include_str!("../templates/review_breach.html"),
    ),
    (
        "review_report.html",
        include_str!("../templates/review_report.html"),
    ),
    (
        "reviews_mine.html",
        include_str!("../templates/reviews_mine.html"),
    ),
    ("activity.html", include_str!("../templates/activity.html")),
    (
        "activity_person.html",
        include_str!("../templates/activity_person.html"),
    ),
    ("people.html", include_str!("../templates/people.html")),
    ("person.html", include_str!("../templates/person.html")),
    (
        "people_import.html",
        include_str!("../templates/people_import.html"),
    ),
    (
        "people_mapping.html",
        include_str!("../templates/people_mapping.html"),
    ),
    (
        "people_preview.html",
        include_str!("../templates/people_preview.html"),
    ),
    (
        "people_imported.html",
        include_str!("../templates/people_imported.html"),
    ),
    ("devices.html", include_str!("../templates/devices.html")),
    ("networks.html", include_str!("../templates/networks.html")),
    // Alerts (monitoring).
    ("alerts.html", include_str!("../templates/alerts.html")),
    ("alert.html", include_str!("../templates/alert.html")),
    (
        "alerts_rates.html",
        include_str!("../templates/alerts_rates.html"),
    ),
    (
        "alerts_library.html",
        include_str!("../templates/alerts_library.html"),
    ),
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!("console template {name} is broken: {e}");
            }
        }
        env
    })
}

/// A link in the navigation.
#[derive(Clone, Debug, Serialize)]
pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub purpose: &'static str,
    pub current: bool,
}

/// Who is signed in, as the header shows them.
#[derive(Clone, Debug, Serialize)]
pub struct Someone {
    pub username: String,
    pub display_name: String,
    pub role: &'static str,
    pub enrolled: bool,
}

/// What every page's layout needs.
#[derive(Clone, Debug, Serialize)]
pub struct Layout {
    pub title: String,
    pub csrf: String,
    pub someone: Option<Someone>,
    pub nav: Vec<NavItem>,
    /// A short confirmation after a change ("Token revoked.").
    pub notice: Option<&'static str>,
}

impl Layout {
    /// The layout for `caller` on the page at `path`.
    pub fn new<S: Store>(
        console: &Console<S>,
        caller: Option<&Caller>,
        csrf: &CsrfKey,
        title: &str,
        path: &str,
    ) -> Layout {
        let nav = match caller {
            Some(c) if c.stage == Stage::Full => console
                .route_entries()
                .iter()
                .filter(|e| e.kind == Kind::Page && e.method == Method::GET)
                .filter(|e| e.access.admits(c.role))
                .filter_map(|e| {
                    e.menu.map(|label| NavItem {
                        label,
                        href: e.path,
                        purpose: e.purpose,
                        current: e.path == path,
                    })
                })
                .collect(),
            _ => Vec::new(),
        };
        Layout {
            title: title.to_owned(),
            csrf: csrf.token(),
            someone: caller
                .filter(|c| c.stage != Stage::AwaitingCode)
                .map(|c| Someone {
                    username: c.account.username.clone(),
                    display_name: c.account.display_name.clone(),
                    role: c.role.label(),
                    enrolled: c.stage == Stage::Full,
                }),
            nav,
            notice: None,
        }
    }

    pub fn notice(mut self, notice: Option<&'static str>) -> Layout {
        self.notice = notice;
        self
    }
}

/// Renders a page: the layout as `page`, and the page's own values.
pub fn render(template: &str, layout: &Layout, values: Value) -> Result<String, AppError> {
    let env = environment();
    let template = env
        .get_template(template)
        .map_err(|e| AppError::internal(format!("template {template}: {e}")))?;
    template
        .render(context! { page => Serde(layout), ..values })
        .map_err(|e| AppError::internal(format!("rendering {}: {e:#}", template.name())))
}

/// The error page, with no navigation (nothing is known of the caller).
pub fn error_page(status: StatusCode, message: &str) -> String {
    let title = match status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::BAD_REQUEST => "That did not work",
        s if s.is_server_error() => "Something went wrong",
        _ => "That did not work",
    };
    let layout = Layout {
        title: title.to_owned(),
        csrf: String::new(),
        someone: None,
        nav: Vec::new(),
        notice: None,
    };
    environment()
        .get_template("error.html")
        .and_then(|t| t.render(context! { page => Serde(&layout), message => message }))
        .unwrap_or_else(|_| format!("<!doctype html><title>{title}</title><p>{title}.</p>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let env = environment();
        for (name, _) in TEMPLATES {
            env.get_template(name).expect(name);
        }
    }

    #[test]
    fn error_pages_escape_what_they_show() {
        let page = error_page(StatusCode::BAD_REQUEST, "<script>x</script>");
        assert!(page.contains("&lt;script&gt;"), "{page}");
        assert!(!page.contains("<script>x"), "{page}");
    }
}
