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
