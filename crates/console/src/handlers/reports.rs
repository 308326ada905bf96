//! Reports and the filter self-test in the console (DESIGN.md C11,
//! `docs/reports.md`).
//!
//! - `/reports/weekly`: §7.3.4's weekly report of attempts to reach
//!   restricted material, names and all, for the DSL roles and the
//!   headteacher; `/reports/weekly.csv` downloads it.
//! - `/reports/governors`: §3's termly report, anonymised with small
//!   numbers hidden (the `reports` crate), for governors, the headteacher
//!   and the DSL; `/reports/governors.pdf` prints it with Chromium.
//! - `/checks/selftest`: runs the filter self-test for a profile through
//!   the engine in force and records it in the filtering and monitoring
//!   check log, for administrators, technicians and the DSL.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use jiff::ToSpan;
use minijinja::context;
use minijinja::value::Serde;
use reports::period::SchoolZone;
use reports::selftest::{Observed, Outcome, ProfileResult, cases};
use reports::{Period, Term, governors::governors_report, weekly::weekly_report};
use serde::{Deserialize, Serialize};
use store::Store;

use super::records::records_role;
use crate::access::Caller;
use crate::csrf::CsrfKey;
use crate::pages::{Layout, render};
use crate::{AppError, Console};

#[derive(Debug, Default, Deserialize)]
pub struct WeekQuery {
    #[serde(default)]
    pub from: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct TermQuery {
    #[serde(default)]
    pub term: String,
}

fn school<S>(console: &Console<S>) -> String {
    if console.settings.school_name.trim().is_empty() {
        "Our school".to_owned()
    } else {
        console.settings.school_name.clone()
    }
}

fn zone<S: Store>(console: &Console<S>) -> SchoolZone {
    SchoolZone::new(&console.time_zone())
}

/// The week asked for, or the last full week (Monday to Sunday), in the
/// school's time zone.
fn week<S: Store>(console: &Console<S>, query: &WeekQuery) -> Result<Period, String> {
    let zone = zone(console);
    if query.from.trim().is_empty() {
        let today = zone.date(console.now());
        let back = i64::from(today.weekday().to_monday_zero_offset()) + 7;
        return Ok(
            Period::week_from(today.checked_sub(back.days()).unwrap_or(today)).in_zone(zone),
        );
    }
    Period::parse_date(&query.from).map(|first| Period::week_from(first).in_zone(zone))
}

/// The term asked for, or the last one, in the school's time zone.
fn term<S: Store>(console: &Console<S>, query: &TermQuery) -> Result<Term, String> {
    let zone = zone(console);
    if query.term.trim().is_empty() {
        return Ok(Term::containing(zone.date(console.now()))
            .previous()
            .in_zone(zone));
    }
    Term::parse(&query.term).map(|term| term.in_zone(zone))
}

fn download(body: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// A report page's form: where it goes, its one field and the download.
struct ReportForm {
    title: &'static str,
    action: &'static str,
    field: &'static str,
    label: &'static str,
    hint: &'static str,
    download: &'static str,
    download_label: &'static str,
}

const WEEKLY: ReportForm = ReportForm {
    title: "Weekly report",
    action: "/reports/weekly",
    field: "from",
    label: "Week starting",
    hint: "The first day of the seven, such as 2026-11-02. Leave empty for last week.",
    download: "/reports/weekly.csv",
    download_label: "Download as CSV",
};

const GOVERNORS: ReportForm = ReportForm {
    title: "Report to governors",
    action: "/reports/governors",
    field: "term",
    label: "Term",
    hint: "Such as 2026-autumn, 2027-spring or 2027-summer. Leave empty for the last term.",
    download: "/reports/governors.pdf",
    download_label: "Download as PDF",
};

/// The page: the form with `value`, and either the report or the error.
fn report_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    form: &ReportForm,
    value: &str,
    report: Result<String, String>,
) -> Result<Response, AppError> {
    let layout = Layout::new(console, Some(caller), csrf, form.title, form.action);
    let fine = report.is_ok();
    let (body, error) = match report {
        Ok(body) => (body, None),
        Err(e) => (String::new(), Some(e)),
    };
    let page = render(
        "report.html",
        &layout,
        context! {
            action => form.action, field => form.field, label => form.label, hint => form.hint,
            value, error,
            download => fine.then(|| format!("{}?{}={value}", form.download, form.field)),
            download_label => form.download_label,
            body,
        },
    )?;
    Ok(super::reviews::form_page(page, fine))
}

pub async fn weekly<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Query(query): Query<WeekQuery>,
) -> Result<Response, AppError> {
    let period = match week(&console, &query) {
        Ok(p) => p,
        Err(e) => return report_page(&console, &caller, &csrf, &WEEKLY, &query.from, Err(e)),
    };
    let input = store::reports::weekly_input(&console.store, period, &school(&console)).await?;
    let body = weekly_report(period, &input).html_body();
    report_page(
        &console,
        &caller,
        &csrf,
        &WEEKLY,
        &period.first.to_string(),
        Ok(body),
    )
}

pub async fn weekly_csv<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Query(query): Query<WeekQuery>,
) -> Result<Response, AppError> {
    let period = week(&console, &query).map_err(AppError::bad_request)?;
    let input = store::reports::weekly_input(&console.store, period, &school(&console)).await?;
    let report = weekly_report(period, &input);
    Ok(download(
        report.to_csv().into_bytes(),
        "text/csv; charset=utf-8",
        &format!("restricted-attempts-{}.csv", period.first),
    ))
}

pub async fn governors<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Query(query): Query<TermQuery>,
) -> Result<Response, AppError> {
    let term = match term(&console, &query) {
        Ok(t) => t,
        Err(e) => return report_page(&console, &caller, &csrf, &GOVERNORS, &query.term, Err(e)),
    };
    let input = store::reports::governors_input(&console.store, term, &school(&console)).await?;
    let body = governors_report(&input).html_body();
    report_page(&console, &caller, &csrf, &GOVERNORS, &term.id(), Ok(body))
}

pub async fn governors_pdf<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Query(query): Query<TermQuery>,
) -> Result<Response, AppError> {
    let term = term(&console, &query).map_err(AppError::bad_request)?;
    let input = store::reports::governors_input(&console.store, term, &school(&console)).await?;
    let html = governors_report(&input).to_html();
    let pdf = tokio::task::spawn_blocking(move || crate::pdf::print_pdf(&html))
        .await
        .map_err(|e| AppError::internal(format!("printing the report: {e}")))?
        .map_err(AppError::bad_request)?;
    Ok(download(
        pdf,
        "application/pdf",
        &format!("governors-report-{}.pdf", term.id()),
    ))
}

/// The self-test's view of one decision.
pub fn observe(
    checker: &dyn crate::UrlChecker,
    url: &str,
    profile: &str,
    at: jiff::Timestamp,
) -> Result<Observed, String> {
    checker.check(url, profile, at).map(|e| Observed {
        verdict: e.verdict.to_owned(),
        rule: e.rule,
        categories: e.categories.iter().map(|c| c.to_string()).collect(),
    })
}

/// The console's role as the records domain names it.
#[derive(Debug, Default, Deserialize)]
pub struct SelftestForm {
    #[serde(default)]
    pub profile: String,
}

#[derive(Debug, Serialize)]
struct ResultView {
    check: String,
    url: String,
    outcome: &'static str,
    detail: String,
    passed: bool,
}

async fn pupil_profiles<S: Store>(console: &Console<S>) -> Result<Vec<(String, String)>, AppError> {
    let Some(revision) = console.store.current_policy().await? else {
        return Ok(Vec::new());
    };
    let policy = revision
        .policy()
        .map_err(|e| AppError::internal(format!("the policy in force: {e}")))?;
    Ok(policy
        .profiles
        .iter()
        .map(|p| (p.id.clone(), p.name.clone()))
        .collect())
}

/// The self-test page, with a run's results when there is one.
async fn selftest_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    chosen: &str,
    result: Option<&ProfileResult>,
) -> Result<Response, AppError> {
    let layout = Layout::new(
        console,
        Some(caller),
        csrf,
        "Filter self-test",
        "/checks/selftest",
    );
    let profiles = pupil_profiles(console).await?;
    let results: Vec<ResultView> = result
        .map(|r| r.results.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|r| ResultView {
            check: r.case.check.clone(),
            url: r.case.url.clone().unwrap_or_default(),
            outcome: r.outcome.word(),
            detail: r.outcome.detail().to_owned(),
            passed: r.outcome == Outcome::Pass,
        })
        .collect();
    let body = render(
        "selftest.html",
        &layout,
        context! {
            profiles => Serde(&profiles),
            chosen,
            results => Serde(&results),
            summary => result.map(ProfileResult::summary).unwrap_or_default(),
            passed => result.is_some_and(ProfileResult::passed),
        },
    )?;
    Ok(super::reviews::form_page(body, true))
}

pub async fn selftest_form<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
) -> Result<Response, AppError> {
    selftest_page(&console, &caller, &csrf, "", None).await
}

pub async fn selftest_run<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<SelftestForm>,
) -> Result<Response, AppError> {
    let profiles = pupil_profiles(&console).await?;
    if !profiles.iter().any(|(id, _)| *id == form.profile) {
        return Err(AppError::bad_request(format!(
            "'{}' is not a profile in the policy; choose one from the list",
            form.profile
        )));
    }
    let checker = console.checker().cloned().ok_or_else(|| {
        AppError::bad_request("the console is running without the filter, so nothing can be tested; start it with `schoolgate serve`")
    })?;
    let now = console.now();
    let result = ProfileResult::run(
        &form.profile,
        &cases(&BTreeMap::new(), &console.settings.school_platforms),
        |url| observe(checker.as_ref(), url, &form.profile, now),
    );
    store::reports::record_selftest(
        &console.store,
        &result,
        &caller.account.username,
        records_role(caller.role),
        now,
    )
    .await?;
    selftest_page(&console, &caller, &csrf, &form.profile, Some(&result)).await
}
