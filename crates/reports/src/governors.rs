//! §3: the headteacher's termly report to the governing body on online
//! safety practice and incidents. Governors never see names, so the input
//! carries counts only, and every count goes through `suppress`.

use jiff::civil::Date;
use serde::Serialize;

use crate::chart::bars;
use crate::html::{escape, page};
use crate::period::Term;
use crate::suppress::{FEWER_THAN_5, Shown, change, coverage};

/// A count this term and last term.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CountRow {
    pub label: String,
    pub now: u64,
    pub before: u64,
}

/// How many of a group are covered (trained, signed the agreement).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub covered: u64,
    pub total: u64,
}

/// A policy and when its next review is due.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewDue {
    pub policy: String,
    pub due: Date,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GovernorsInput {
    pub school: String,
    pub term: Term,
    /// Incidents opened, by type, this term and last.
    pub incidents: Vec<CountRow>,
    /// Blocked attempts, by category, this term and last.
    pub blocked: Vec<CountRow>,
    /// Filtering and monitoring checks recorded this term, and how many
    /// found a problem.
    pub checks_done: u64,
    pub checks_failed: u64,
    pub last_check: Option<Date>,
    /// Staff with training in date at the end of the term.
    pub training: Coverage,
    /// People who accepted the agreement in force at the end of the term.
    pub acceptable_use: Coverage,
    /// Each policy's next review, as recorded by the end of the term.
    pub reviews: Vec<ReviewDue>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Line {
    pub label: String,
    pub now: Shown,
    pub before: Shown,
    pub change: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GovernorsReport {
    pub school: String,
    pub term: Term,
    pub previous: Term,
    pub incidents: Vec<Line>,
    pub incidents_total: Line,
    pub blocked: Vec<Line>,
    pub blocked_total: Line,
    pub checks_done: Shown,
    pub checks_failed: Shown,
    pub last_check: Option<Date>,
    pub training: String,
    pub acceptable_use: String,
    /// Policy, due date, overdue at the end of the term.
    pub reviews: Vec<(String, Date, bool)>,
}

fn lines(rows: &[CountRow]) -> (Vec<Line>, Line) {
    let mut rows = rows.to_vec();
    rows.sort_by(|a, b| a.label.cmp(&b.label));
    let lines = rows
        .iter()
        .map(|r| Line {
            label: r.label.clone(),
            now: Shown::of(r.now),
            before: Shown::of(r.before),
            change: change(r.now, r.before),
        })
        .collect();
    let now: Vec<u64> = rows.iter().map(|r| r.now).collect();
    let before: Vec<u64> = rows.iter().map(|r| r.before).collect();
    let (now_total, before_total) = (Shown::total(&now), Shown::total(&before));
    let total = Line {
        label: "All".into(),
        change: if now_total.is_hidden() || before_total.is_hidden() {
            "not shown (small numbers)".into()
        } else {
            change(now.iter().sum(), before.iter().sum())
        },
        now: now_total,
        before: before_total,
    };
    (lines, total)
}

/// Builds the report: the same input always gives the same report.
pub fn governors_report(input: &GovernorsInput) -> GovernorsReport {
    let (incidents, incidents_total) = lines(&input.incidents);
    let (blocked, blocked_total) = lines(&input.blocked);
    let term_end = input.term.period().last;
    let mut reviews: Vec<(String, Date, bool)> = input
        .reviews
        .iter()
        .map(|r| (r.policy.clone(), r.due, r.due <= term_end))
        .collect();
    reviews.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    GovernorsReport {
        school: input.school.clone(),
        term: input.term,
        previous: input.term.previous(),
        incidents,
        incidents_total,
        blocked,
        blocked_total,
        checks_done: Shown::of(input.checks_done),
        checks_failed: Shown::of(input.checks_failed.min(input.checks_done)),
        last_check: input.last_check,
        training: coverage(input.training.covered, input.training.total),
        acceptable_use: coverage(input.acceptable_use.covered, input.acceptable_use.total),
        reviews,
    }
}

fn table(
    caption: &str,
    what: &str,
    report: &GovernorsReport,
    lines: &[Line],
    total: &Line,
) -> String {
    let mut t = format!(
        "<table>\n<caption class=\"note\">{}</caption>\n<thead><tr><th scope=\"col\">{}</th><th scope=\"col\" class=\"n\">{}</th>\
         <th scope=\"col\" class=\"n\">{}</th><th scope=\"col\">Change</th></tr></thead>\n<tbody>\n",
        escape(caption),
        escape(what),
        escape(&report.term.name()),
        escape(&report.previous.name())
    );
    for l in lines.iter().chain(std::iter::once(total)) {
        let cell = if std::ptr::eq(l, total) {
            "th scope=\"row\""
        } else {
            "td"
        };
        let end = if std::ptr::eq(l, total) { "th" } else { "td" };
        t.push_str(&format!(
            "<tr><{cell}>{}</{end}><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>\n",
            escape(&l.label),
            escape(&l.now.text()),
            escape(&l.before.text()),
            escape(&l.change)
        ));
    }
    t.push_str("</tbody>\n</table>\n");
    t
}

impl GovernorsReport {
    pub fn title(&self) -> String {
        format!("Online safety report to governors: {}", self.term.name())
    }

    pub fn html_body(&self) -> String {
        let period = self.term.period();
        let mut b = format!(
            "<h1>{}</h1>\n<p class=\"meta\">{} · {} · compared with the {}</p>\n\
             <p class=\"note\">This report names nobody. Any count from 1 to 4 is shown as \"{FEWER_THAN_5}\", \
             and totals and changes that could reveal such a count are shown as a range or not at all.</p>\n",
            escape(&self.title()),
            escape(&self.school),
            escape(&period.describe()),
            escape(&self.previous.name().to_lowercase())
        );
        b.push_str("<h2>Safeguarding incidents by type</h2>\n");
        if self.incidents.is_empty() {
            b.push_str("<p>No online safety incidents were recorded in either term.</p>\n");
        } else {
            b.push_str(&bars(
                &format!("Incidents by type, {}", self.term.name()),
                &self
                    .incidents
                    .iter()
                    .map(|l| (l.label.clone(), l.now))
                    .collect::<Vec<_>>(),
            ));
            b.push_str(&table(
                "Incidents opened",
                "Type",
                self,
                &self.incidents,
                &self.incidents_total,
            ));
        }
        b.push_str("<h2>Filtering and monitoring checks</h2>\n");
        b.push_str(&format!(
            "<p>Checks recorded this term: <strong>{}</strong>. Checks that found a problem: <strong>{}</strong>. Last check: {}.</p>\n",
            escape(&self.checks_done.text()),
            escape(&self.checks_failed.text()),
            self.last_check
                .map(|d| d.strftime("%-d %B %Y").to_string())
                .unwrap_or_else(|| "none recorded".into())
        ));
        b.push_str("<h2>Training and acceptable use</h2>\n");
        b.push_str(&format!(
            "<table>\n<tbody>\n<tr><th scope=\"row\">Staff with online safety training in date</th><td>{}</td></tr>\n\
             <tr><th scope=\"row\">People who accepted the acceptable use agreement in force</th><td>{}</td></tr>\n</tbody>\n</table>\n",
            escape(&self.training),
            escape(&self.acceptable_use)
        ));
        b.push_str("<h2>Policy reviews</h2>\n");
        if self.reviews.is_empty() {
            b.push_str("<p>No policy reviews are recorded. Record each review in the policy reviews register.</p>\n");
        } else {
            b.push_str("<table>\n<thead><tr><th scope=\"col\">Policy</th><th scope=\"col\">Next review due</th><th scope=\"col\">At the end of the term</th></tr></thead>\n<tbody>\n");
            for (policy, due, overdue) in &self.reviews {
                b.push_str(&format!(
                    "<tr{}><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                    if *overdue { " class=\"flag\"" } else { "" },
                    escape(policy),
                    due.strftime("%-d %B %Y"),
                    if *overdue {
                        "due or overdue"
                    } else {
                        "not yet due"
                    }
                ));
            }
            b.push_str("</tbody>\n</table>\n");
        }
        b.push_str("<h2>Blocked attempts by category</h2>\n");
        if self.blocked.is_empty() {
            b.push_str("<p>No blocked attempts were recorded in either term.</p>\n");
        } else {
            b.push_str(&bars(
                &format!("Blocked attempts by category, {}", self.term.name()),
                &self
                    .blocked
                    .iter()
                    .map(|l| (l.label.clone(), l.now))
                    .collect::<Vec<_>>(),
            ));
            b.push_str(&table(
                "Blocked attempts",
                "Category",
                self,
                &self.blocked,
                &self.blocked_total,
            ));
        }
        b
    }

    /// The print-ready page (A4, print CSS): the PDF is printed from it.
    pub fn to_html(&self) -> String {
        page(&self.title(), &self.html_body())
    }

    /// Every figure as CSV, suppressed the same way.
    pub fn to_csv(&self) -> String {
        let mut out = crate::csv::row(&[
            "Section",
            "Item",
            &self.term.name(),
            &self.previous.name(),
            "Change",
        ]);
        for (section, lines, total) in [
            ("Incidents", &self.incidents, &self.incidents_total),
            ("Blocked attempts", &self.blocked, &self.blocked_total),
        ] {
            for l in lines.iter().chain(std::iter::once(total)) {
                out.push_str(&crate::csv::row(&[
                    section.to_owned(),
                    l.label.clone(),
                    l.now.text(),
                    l.before.text(),
                    l.change.clone(),
                ]));
            }
        }
        let single = |item: &str, value: String| {
            crate::csv::row(&[
                "Checks and coverage".to_owned(),
                item.to_owned(),
                value,
                String::new(),
                String::new(),
            ])
        };
        out.push_str(&single("Checks recorded", self.checks_done.text()));
        out.push_str(&single(
            "Checks that found a problem",
            self.checks_failed.text(),
        ));
        out.push_str(&single("Staff training in date", self.training.clone()));
        out.push_str(&single(
            "Acceptable use accepted",
            self.acceptable_use.clone(),
        ));
        for (policy, due, overdue) in &self.reviews {
            out.push_str(&crate::csv::row(&[
                "Policy reviews".to_owned(),
                policy.clone(),
                due.to_string(),
                String::new(),
                if *overdue {
                    "due or overdue"
                } else {
                    "not yet due"
                }
                .to_owned(),
            ]));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn input(hidden: u64) -> GovernorsInput {
        GovernorsInput {
            school: "Stanley Crook Primary".into(),
            term: Term::parse("2026-autumn").unwrap(),
            incidents: vec![
                CountRow {
                    label: "Cyberbullying".into(),
                    now: 12,
                    before: 7,
                },
                CountRow {
                    label: "Filtering breach".into(),
                    now: hidden,
                    before: 0,
                },
                CountRow {
                    label: "Online hate".into(),
                    now: 0,
                    before: 6,
                },
            ],
            blocked: vec![
                CountRow {
                    label: "pornography".into(),
                    now: 240,
                    before: 198,
                },
                CountRow {
                    label: "gambling".into(),
                    now: hidden,
                    before: 5,
                },
            ],
            checks_done: 6,
            checks_failed: hidden,
            last_check: Some(date(2026, 12, 1)),
            training: Coverage {
                covered: 40 - hidden,
                total: 40,
            },
            acceptable_use: Coverage {
                covered: 300,
                total: 320,
            },
            reviews: vec![
                ReviewDue {
                    policy: "Online safety policy".into(),
                    due: date(2026, 11, 1),
                },
                ReviewDue {
                    policy: "Acceptable use".into(),
                    due: date(2027, 6, 1),
                },
            ],
        }
    }

    #[test]
    fn small_numbers_hidden_everywhere() {
        let r = governors_report(&input(3));
        let html = r.to_html();
        let csv = r.to_csv();
        let breach = r
            .incidents
            .iter()
            .find(|l| l.label == "Filtering breach")
            .unwrap();
        assert_eq!(breach.now.text(), "fewer than 5");
        assert_eq!(breach.change, "not shown (small numbers)");
        let hate = r
            .incidents
            .iter()
            .find(|l| l.label == "Online hate")
            .unwrap();
        assert_eq!(
            (hate.now.text(), hate.before.text(), hate.change.as_str()),
            ("0".into(), "6".into(), "down 6")
        );
        // 12 + 3 + 0 would give 15: shown as the range only.
        assert_eq!(r.incidents_total.now.text(), "between 13 and 16");
        assert!(!html.contains(">15<") && !csv.contains(",15,"));
        assert_eq!(r.checks_failed.text(), "fewer than 5");
        assert_eq!(r.training, "all but fewer than 5 of 40");
        assert_eq!(r.acceptable_use, "300 of 320 (93%)");
        assert!(
            csv.contains("Incidents,Filtering breach,fewer than 5,0,not shown (small numbers)\r\n"),
            "{csv}"
        );
        assert!(csv.contains("Blocked attempts,pornography,240,198,up 42\r\n"));
        assert!(html.contains("<svg") && html.contains("fewer than 5"));
    }

    #[test]
    fn no_back_calculation_from_any_hidden_value() {
        // Whatever the hidden count (1 to 4), governors see exactly the same report.
        let seen: Vec<(String, String)> = (1..5)
            .map(|n| {
                let r = governors_report(&input(n));
                (r.to_html(), r.to_csv())
            })
            .collect();
        assert!(
            seen.windows(2).all(|w| w[0] == w[1]),
            "a hidden count changed what governors see"
        );
        // and 0 or 5 do show.
        assert_ne!(governors_report(&input(0)).to_csv(), seen[0].1);
        assert!(
            governors_report(&input(5))
                .to_csv()
                .contains("Incidents,Filtering breach,5,0,up 5")
        );
    }

    #[test]
    fn names_reviews_due() {
        let r = governors_report(&input(0));
        assert_eq!(
            r.reviews[0],
            ("Online safety policy".into(), date(2026, 11, 1), true)
        );
        assert!(!r.reviews[1].2);
        assert_eq!(r.previous.id(), "2026-summer");
    }
}
