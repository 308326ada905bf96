//! The activity log: search by person, device, address, time (in the
//! school's time zone), category, verdict and source; a person's timeline;
//! the current search as CSV.
//!
//! Who sees it: the DSL roles and the headteacher (monitoring is theirs,
//! DfE standard 4) and technicians (checking the filter works and acting on
//! over- and under-blocking, standard 3, needs the addresses and devices).
//! Not administrators: running accounts needs no pupil's browsing, so the
//! role does not carry it (least privilege). Never staff or governors.
//!
//! Pages are keyset-paged, newest first: the "older" link carries the last
//! event's (time, number), so a page deep in the log costs what the first
//! does and events with the same time are never skipped or repeated. The
//! CSV is streamed a thousand events at a time, never built in memory.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Json};
use jiff::Timestamp;
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};
use store::{ActivityCursor, ActivityQuery, ActivityRow, Source, Store};

use crate::access::Caller;
use crate::csrf::CsrfKey;
use crate::pages::{Layout, render};
use crate::{ApiError, AppError, Console};

/// Events a search page shows.
const PAGE: usize = 50;
/// Events a person's timeline shows at a time.
const TIMELINE_PAGE: usize = 200;
/// Events the API gives at most per call.
const API_MAX: usize = 500;
/// Events read from the store per CSV slice.
const CSV_SLICE: usize = 1000;
/// The most a CSV export holds.
const CSV_MAX: usize = 1_000_000;

/// The search form, as it travels in the address (and the API's query).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ActivitySearch {
    /// The person's username.
    #[serde(default)]
    pub person: String,
    #[serde(default)]
    pub device: String,
    #[serde(default)]
    pub ip: String,
    /// From this time, in the school's time zone: `2026-03-03T09:00` or `2026-03-03`.
    #[serde(default)]
    pub from: String,
    /// Up to this time (a date alone means the end of that day).
    #[serde(default)]
    pub to: String,
    /// A category id, such as `gambling`.
    #[serde(default)]
    pub category: String,
    /// `allow`, `block` or `safe-search`.
    #[serde(default)]
    pub verdict: String,
    /// `proxy` or `dns`.
    #[serde(default)]
    pub source: String,
    /// Only events older than this cursor (`AT_US.ID`, from "older").
    #[serde(default)]
    pub before: String,
    /// The API's page size.
    #[serde(default)]
    pub limit: Option<usize>,
}

/// What is wrong with a form, field by field.
type FieldProblems = Vec<(&'static str, String)>;

/// A time typed in the school's time zone.
fn school_time<S: Store>(console: &Console<S>, text: &str, end_of_day: bool) -> Option<Timestamp> {
    reports::period::read_time(text, &console.time_zone(), end_of_day)
}

fn words(text: &str) -> Option<String> {
    super::optional(text)
}

impl ActivitySearch {
    /// The store's query and cursor, or what is wrong, by field.
    fn query<S: Store>(
        &self,
        console: &Console<S>,
        limit: usize,
    ) -> Result<(ActivityQuery, Option<ActivityCursor>), FieldProblems> {
        let mut errors = Vec::new();
        let mut time = |field: &'static str, text: &str, end: bool| {
            if text.trim().is_empty() {
                return None;
            }
            let at = school_time(console, text, end);
            if at.is_none() {
                errors.push((
                    field,
                    format!(
                        "'{}' is not a date and time; use the picker, or type it as 2026-03-03 or 2026-03-03T09:30.",
                        text.trim()
                    ),
                ));
            }
            at
        };
        let from = time("from", &self.from, false);
        let to = time("to", &self.to, true);
        let ip = words(&self.ip);
        if let Some(ip) = &ip
            && ip.parse::<std::net::IpAddr>().is_err()
        {
            errors.push((
                "ip",
                format!("'{ip}' is not an IP address; type one such as 10.0.5.17."),
            ));
        }
        let verdict = words(&self.verdict);
        if let Some(v) = &verdict
            && !["allow", "block", "safe-search"].contains(&v.as_str())
        {
            errors.push(("verdict", "Choose allowed, blocked or safe search.".into()));
        }
        let source = match self.source.trim() {
            "" => None,
            "proxy" => Some(Source::Proxy),
            "dns" => Some(Source::Dns),
            _ => {
                errors.push(("source", "Choose the web proxy or the DNS filter.".into()));
                None
            }
        };
        let category = words(&self.category).map(|c| c.to_ascii_lowercase());
        let before = match self.before.trim() {
            "" => None,
            text => match ActivityCursor::decode(text) {
                Some(c) => Some(c),
                None => {
                    errors.push((
                        "before",
                        "The link to older events was damaged; start the search again.".into(),
                    ));
                    None
                }
            },
        };
        if let (Some(from), Some(to)) = (from, to)
            && from >= to
        {
            errors.push((
                "to",
                "The end of the time range must be after its start.".into(),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok((
            ActivityQuery {
                username: words(&self.person),
                device: words(&self.device),
                client_ip: ip,
                from,
                to,
                verdict,
                category,
                source,
                limit,
            },
            before,
        ))
    }

    /// The address of this search with another cursor.
    fn link(&self, path: &str, before: Option<ActivityCursor>) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("person", &self.person),
            ("device", &self.device),
            ("ip", &self.ip),
            ("from", &self.from),
            ("to", &self.to),
            ("category", &self.category),
            ("verdict", &self.verdict),
            ("source", &self.source),
        ] {
            if !value.trim().is_empty() {
                query.append_pair(name, value.trim());
            }
        }
        if let Some(c) = before {
            query.append_pair("before", &c.encode());
        }
        let query = query.finish();
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        }
    }
}

/// One row as the pages show it.
#[derive(Debug, Serialize)]
struct EventView {
    when: String,
    day: String,
    clock: String,
    source: &'static str,
    person: Option<String>,
    /// The person's timeline.
    person_link: Option<String>,
    device: Option<String>,
    ip: String,
    profile: String,
    url: String,
    host: String,
    search_term: Option<String>,
    categories: String,
    verdict: String,
    blocked: bool,
    rule: String,
}

fn event_view<S: Store>(console: &Console<S>, row: &ActivityRow) -> EventView {
    let e = &row.event;
    let zoned = e.at.to_zoned(console.time_zone());
    EventView {
        when: console.show_time(e.at),
        day: zoned.strftime("%A %-d %B %Y").to_string(),
        clock: zoned.strftime("%H:%M:%S").to_string(),
        source: match e.source {
            Source::Proxy => "Web",
            Source::Dns => "DNS",
        },
        person: e.username.clone(),
        person_link: e
            .username
            .as_deref()
            .map(|u| format!("/activity/people/{}", urlencode(u))),
        device: e.device.clone(),
        ip: e.client_ip.clone(),
        profile: e.profile.clone(),
        url: e.url.clone(),
        host: e.host.clone(),
        search_term: e.search_term.clone(),
        categories: e.categories.replace(',', ", "),
        verdict: match e.verdict.as_str() {
            "block" => "Blocked".into(),
            "allow" => "Allowed".into(),
            "safe-search" => "Safe search".into(),
            other => other.to_owned(),
        },
        blocked: e.verdict == "block",
        rule: e.rule.clone(),
    }
}

/// A page of rows and the cursor of the next, if there is one.
async fn page_of<S: Store>(
    console: &Console<S>,
    query: &ActivityQuery,
    before: Option<ActivityCursor>,
) -> Result<(Vec<ActivityRow>, Option<ActivityCursor>), AppError> {
    let wanted = query.limit;
    let mut rows = console
        .store
        .activity_page(
            &ActivityQuery {
                limit: wanted + 1,
                ..query.clone()
            },
            before,
        )
        .await?;
    let more = rows.len() > wanted;
    rows.truncate(wanted);
    let next = if more {
        rows.last().map(ActivityRow::cursor)
    } else {
        None
    };
    Ok((rows, next))
}

pub async fn search<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Query(form): Query<ActivitySearch>,
) -> Result<Response, AppError> {
    let layout = Layout::new(&console, Some(&caller), &csrf, "Activity", "/activity");
    let (events, older, errors) = match form.query(&console, PAGE) {
        Ok((query, before)) => {
            let (rows, next) = page_of(&console, &query, before).await?;
            let events: Vec<EventView> = rows.iter().map(|r| event_view(&console, r)).collect();
            (
                events,
                next.map(|c| form.link("/activity", Some(c))),
                Vec::new(),
            )
        }
        Err(errors) => (Vec::new(), None, errors),
    };
    let body = render(
        "activity.html",
        &layout,
        context! {
            form => Serde(&form),
            events => Serde(&events),
            older => older,
            newest => (!form.before.is_empty()).then(|| form.link("/activity", None)),
            csv => form.link("/activity.csv", None),
            errors => super::form_errors(&errors),
            searched => !form.link("", None).is_empty(),
        },
    )?;
    Ok(super::reviews::form_page(body, errors.is_empty()))
}

#[derive(Debug, Serialize)]
struct DayView {
    day: String,
    events: Vec<EventView>,
    blocked: usize,
}

pub async fn person<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(username): Path<String>,
    Query(form): Query<ActivitySearch>,
) -> Result<Response, AppError> {
    let form = ActivitySearch {
        person: username.clone(),
        ..form
    };
    let (query, before) = form
        .query(&console, TIMELINE_PAGE)
        .map_err(|errors| AppError::bad_request(errors[0].1.clone()))?;
    let (rows, next) = page_of(&console, &query, before).await?;
    let mut days: Vec<DayView> = Vec::new();
    for row in &rows {
        let event = event_view(&console, row);
        match days.last_mut() {
            Some(day) if day.day == event.day => {
                day.blocked += usize::from(event.blocked);
                day.events.push(event);
            }
            _ => days.push(DayView {
                day: event.day.clone(),
                blocked: usize::from(event.blocked),
                events: vec![event],
            }),
        }
    }
    let path = format!("/activity/people/{}", urlencode(&username));
    let older = next.map(|c| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("before", &c.encode());
        format!("{path}?{}", q.finish())
    });
    let layout = Layout::new(
        &console,
        Some(&caller),
        &csrf,
        &format!("Activity of {username}"),
        "/activity",
    );
    let body = render(
        "activity_person.html",
        &layout,
        context! {
            username => &username,
            days => Serde(&days),
            older => older,
            newest => (!form.before.is_empty()).then_some(path),
            csv => form.link("/activity.csv", None),
        },
    )?;
    Ok(Html(body).into_response())
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

// ---------------------------------------------------------------------------
// CSV.

/// One CSV cell (RFC 4180): quoted when it holds a comma, quote or line
/// break; a cell that a spreadsheet would read as a formula (starting with
/// = + - @, or a tab or carriage return) gets a leading apostrophe first.
pub fn csv_cell(text: &str, out: &mut String) {
    let guarded = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let needs_quotes = guarded && text.contains([',', '"', '\n', '\r'])
        || text.contains([',', '"', '\n', '\r'])
        || text.starts_with(' ')
        || text.ends_with(' ');
    if needs_quotes {
        out.push('"');
    }
    if guarded {
        out.push('\'');
    }
    for c in text.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if needs_quotes {
        out.push('"');
    }
}

const CSV_HEADER: &str = "time (school),time (UTC),source,person,device,ip address,profile,method,url,host,search term,categories,verdict,rule,status,bytes,duration ms,reference\r\n";

fn csv_line<S: Store>(console: &Console<S>, row: &ActivityRow, out: &mut String) {
    let e = &row.event;
    let local =
        e.at.to_zoned(console.time_zone())
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string();
    let cells: [&str; 18] = [
        &local,
        &e.at.to_string(),
        e.source.as_str(),
        e.username.as_deref().unwrap_or(""),
        e.device.as_deref().unwrap_or(""),
        &e.client_ip,
        &e.profile,
        &e.method,
        &e.url,
        &e.host,
        e.search_term.as_deref().unwrap_or(""),
        &e.categories,
        &e.verdict,
        &e.rule,
        &e.status.map(|s| s.to_string()).unwrap_or_default(),
        &e.bytes.to_string(),
        &e.duration_ms.to_string(),
        e.reference.as_deref().unwrap_or(""),
    ];
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_cell(cell, out);
    }
    out.push_str("\r\n");
}

/// A response body fed slice by slice from a task.
struct Streamed(tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl axum::body::HttpBody for Streamed {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, std::io::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|next| next.map(|slice| slice.map(hyper::body::Frame::data)))
    }
}

pub async fn csv<S: Store + 'static>(
    State(console): State<Arc<Console<S>>>,
    Query(form): Query<ActivitySearch>,
) -> Result<Response, AppError> {
    let (query, before) = form
        .query(&console, CSV_SLICE)
        .map_err(|errors| AppError::bad_request(errors[0].1.clone()))?;
    // The first slice is read before answering, so a failing store gives a
    // proper error page rather than a cut-off file.
    let first = console.store.activity_page(&query, before).await?;
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        let mut rows = first;
        let mut sent = 0;
        let mut out = String::from(CSV_HEADER);
        loop {
            for row in &rows {
                csv_line(&console, row, &mut out);
            }
            sent += rows.len();
            let full = rows.len() == query.limit;
            let cursor = rows.last().map(ActivityRow::cursor);
            if sender
                .send(Ok(Bytes::from(std::mem::take(&mut out))))
                .await
                .is_err()
            {
                return; // the browser went away
            }
            if !full || sent >= CSV_MAX {
                return;
            }
            rows = match console.store.activity_page(&query, cursor).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!("the activity export stopped part-way: {e}");
                    let _ = sender
                        .send(Err(std::io::Error::other("the store failed")))
                        .await;
                    return;
                }
            };
        }
    });
    let mut response = Body::new(Streamed(receiver)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"activity.csv\""),
    );
    Ok(response)
}

// ---------------------------------------------------------------------------
// The JSON API.

/// A page of activity from the API.
#[derive(Debug, Serialize)]
pub struct ActivityPage {
    pub events: Vec<ActivityRow>,
    /// Pass as `before` for the next, older page; none at the end.
    pub older: Option<String>,
}

pub async fn api_search<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Query(form): Query<ActivitySearch>,
) -> Result<Json<ActivityPage>, ApiError> {
    let limit = form.limit.unwrap_or(PAGE).clamp(1, API_MAX);
    let (query, before) = form.query(&console, limit).map_err(|errors| {
        AppError::bad_request(
            errors
                .iter()
                .map(|(field, message)| format!("{field}: {message}"))
                .collect::<Vec<_>>()
                .join(" "),
        )
    })?;
    let (events, next) = page_of(&console, &query, before).await?;
    Ok(Json(ActivityPage {
        events,
        older: next.map(ActivityCursor::encode),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(text: &str) -> String {
        let mut out = String::new();
        csv_cell(text, &mut out);
        out
    }

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell(""), "");
    }
}
