//! §7.3.4: "weekly logs are sent to [the named person], detailing any
//! attempts to access restricted materials". For a period: who tried
//! (name, year and class where known), which categories, how often, first
//! and last time, the sites most tried and the search terms seen, with
//! repeated and circumvention attempts highlighted, and totals.
//!
//! The store hands over rows already counted in SQL (one per person and
//! set of categories, per person and site, per person and search term);
//! this module only arranges them.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::html::{escape, page};
use crate::period::Period;

/// Attempts in one category this many times or more in the period are
/// "repeated".
pub const REPEATED_ATTEMPTS: u64 = 5;

/// Categories whose only purpose is getting round the filter.
pub const CIRCUMVENTION: [&str; 4] = ["vpn", "proxy", "dns-over-https", "remote-access"];

/// How many sites and search terms to list per person.
pub const TOP: usize = 5;

/// Blocked attempts by one person (or address, when nobody was signed in)
/// with one set of categories.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttemptRow {
    /// The username, or `address 10.0.0.7` when nobody was identified.
    pub who: String,
    pub username: Option<String>,
    /// Category ids, comma-separated, as the activity log keeps them.
    pub categories: String,
    pub attempts: u64,
    pub first: Timestamp,
    pub last: Timestamp,
}

/// Blocked attempts by one person at one site.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SiteRow {
    pub who: String,
    pub host: String,
    pub attempts: u64,
}

/// A search term one person used in a blocked or safe-search request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SearchRow {
    pub who: String,
    pub term: String,
    pub attempts: u64,
}

/// What the school knows about a person, from the people list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PersonInfo {
    pub username: String,
    pub display_name: String,
    pub year_group: Option<String>,
    pub class_group: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct WeeklyInput {
    pub school: String,
    pub attempts: Vec<AttemptRow>,
    pub sites: Vec<SiteRow>,
    pub searches: Vec<SearchRow>,
    pub people: Vec<PersonInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CategoryLine {
    pub category: String,
    pub attempts: u64,
    pub first: Timestamp,
    pub last: Timestamp,
    pub repeated: bool,
    pub circumvention: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PersonSummary {
    pub who: String,
    pub username: Option<String>,
    /// The name from the people list, else the username or address.
    pub name: String,
    pub year_group: Option<String>,
    pub class_group: Option<String>,
    pub attempts: u64,
    pub first: Timestamp,
    pub last: Timestamp,
    pub categories: Vec<CategoryLine>,
    pub top_sites: Vec<(String, u64)>,
    pub search_terms: Vec<(String, u64)>,
    pub repeated: bool,
    pub circumvention: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WeeklyReport {
    pub school: String,
    pub period: Period,
    /// Most attempts first.
    pub people: Vec<PersonSummary>,
    /// Attempts per category over everyone, most first.
    pub categories: Vec<(String, u64)>,
    pub total_attempts: u64,
    pub people_flagged: usize,
}

fn split_categories(categories: &str) -> Vec<String> {
    let list: Vec<String> = categories
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    if list.is_empty() {
        vec!["uncategorised".to_owned()]
    } else {
        list
    }
}

fn top(mut rows: Vec<(String, u64)>) -> Vec<(String, u64)> {
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows.truncate(TOP);
    rows
}

/// Arranges a period's rows into the report.
pub fn weekly_report(period: Period, input: &WeeklyInput) -> WeeklyReport {
    let info: BTreeMap<&str, &PersonInfo> = input
        .people
        .iter()
        .map(|p| (p.username.as_str(), p))
        .collect();
    let mut people: BTreeMap<&str, PersonSummary> = BTreeMap::new();
    let mut per_category: BTreeMap<(&str, String), CategoryLine> = BTreeMap::new();
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for row in &input.attempts {
        let known = row.username.as_deref().and_then(|u| info.get(u));
        let person = people.entry(&row.who).or_insert_with(|| PersonSummary {
            who: row.who.clone(),
            username: row.username.clone(),
            name: known
                .map(|p| p.display_name.clone())
                .unwrap_or_else(|| row.who.clone()),
            year_group: known.and_then(|p| p.year_group.clone()),
            class_group: known.and_then(|p| p.class_group.clone()),
            attempts: 0,
            first: row.first,
            last: row.last,
            categories: Vec::new(),
            top_sites: Vec::new(),
            search_terms: Vec::new(),
            repeated: false,
            circumvention: false,
        });
        person.attempts += row.attempts;
        person.first = person.first.min(row.first);
        person.last = person.last.max(row.last);
        for category in split_categories(&row.categories) {
            *totals.entry(category.clone()).or_default() += row.attempts;
            let line = per_category
                .entry((row.who.as_str(), category.clone()))
                .or_insert_with(|| CategoryLine {
                    circumvention: CIRCUMVENTION.contains(&category.as_str()),
                    category,
                    attempts: 0,
                    first: row.first,
                    last: row.last,
                    repeated: false,
                });
            line.attempts += row.attempts;
            line.first = line.first.min(row.first);
            line.last = line.last.max(row.last);
        }
    }
    for ((who, _), mut line) in per_category {
        line.repeated = line.attempts >= REPEATED_ATTEMPTS;
        if let Some(person) = people.get_mut(who) {
            person.repeated |= line.repeated;
            person.circumvention |= line.circumvention;
            person.categories.push(line);
        }
    }
    let mut sites: BTreeMap<&str, Vec<(String, u64)>> = BTreeMap::new();
    for s in &input.sites {
        sites
            .entry(&s.who)
            .or_default()
            .push((s.host.clone(), s.attempts));
    }
    let mut terms: BTreeMap<&str, Vec<(String, u64)>> = BTreeMap::new();
    for s in &input.searches {
        terms
            .entry(&s.who)
            .or_default()
            .push((s.term.clone(), s.attempts));
    }
    let mut people: Vec<PersonSummary> = people
        .into_values()
        .map(|mut p| {
            p.categories.sort_by(|a, b| {
                b.attempts
                    .cmp(&a.attempts)
                    .then_with(|| a.category.cmp(&b.category))
            });
            p.top_sites = top(sites.remove(p.who.as_str()).unwrap_or_default());
            p.search_terms = top(terms.remove(p.who.as_str()).unwrap_or_default());
            p
        })
        .collect();
    people.sort_by(|a, b| {
        b.attempts
            .cmp(&a.attempts)
            .then_with(|| a.name.cmp(&b.name))
    });
    let mut categories: Vec<(String, u64)> = totals.into_iter().collect();
    categories.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    WeeklyReport {
        school: input.school.clone(),
        period,
        total_attempts: people.iter().map(|p| p.attempts).sum(),
        people_flagged: people
            .iter()
            .filter(|p| p.repeated || p.circumvention)
            .count(),
        people,
        categories,
    }
}

fn listed(items: &[(String, u64)]) -> String {
    items
        .iter()
        .map(|(what, n)| format!("{what} ({n})"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl WeeklyReport {
    pub fn title(&self) -> String {
        format!(
            "Attempts to reach restricted material: {}",
            self.period.describe()
        )
    }

    /// One line per person and category.
    pub fn to_csv(&self) -> String {
        let mut out = crate::csv::row(&[
            "Person",
            "Username or address",
            "Year group",
            "Class",
            "Category",
            "Attempts",
            "First",
            "Last",
            "Repeated",
            "Circumvention",
            "Sites most tried",
            "Search terms seen",
        ]);
        for p in &self.people {
            for c in &p.categories {
                out.push_str(&crate::csv::row(&[
                    p.name.clone(),
                    p.who.clone(),
                    p.year_group.clone().unwrap_or_default(),
                    p.class_group.clone().unwrap_or_default(),
                    c.category.clone(),
                    c.attempts.to_string(),
                    self.period.zone.time(c.first),
                    self.period.zone.time(c.last),
                    if c.repeated { "yes" } else { "no" }.to_owned(),
                    if c.circumvention { "yes" } else { "no" }.to_owned(),
                    listed(&p.top_sites),
                    listed(&p.search_terms),
                ]));
            }
        }
        out
    }

    /// The page body, without the frame, to sit inside the console.
    pub fn html_body(&self) -> String {
        let mut b = format!(
            "<h1>{}</h1>\n<p class=\"meta\">{} · {} attempts by {} people or devices · {} highlighted</p>\n",
            escape(&self.title()),
            escape(&self.school),
            self.total_attempts,
            self.people.len(),
            self.people_flagged
        );
        if self.people.is_empty() {
            b.push_str(
                "<p>No attempts to reach restricted material were recorded in this period.</p>\n",
            );
            return b;
        }
        b.push_str(&format!(
            "<p class=\"note\">Highlighted: <span class=\"badge\">repeated</span> means {REPEATED_ATTEMPTS} or more attempts in one category; \
             <span class=\"badge\">circumvention</span> means trying a VPN, proxy, encrypted DNS or remote access to get round the filter.</p>\n\
             <h2>By category</h2>\n<table>\n<thead><tr><th scope=\"col\">Category</th><th scope=\"col\" class=\"n\">Attempts</th></tr></thead>\n<tbody>\n"
        ));
        for (category, n) in &self.categories {
            b.push_str(&format!(
                "<tr><td>{}</td><td class=\"n\">{n}</td></tr>\n",
                escape(category)
            ));
        }
        b.push_str(&format!(
            "</tbody>\n<tfoot><tr><th scope=\"row\">All attempts</th><td class=\"n\">{}</td></tr></tfoot>\n</table>\n",
            self.total_attempts
        ));
        b.push_str(
            "<h2>By person</h2>\n<table>\n<thead><tr><th scope=\"col\">Person</th><th scope=\"col\">Year and class</th>\
             <th scope=\"col\">Category</th><th scope=\"col\" class=\"n\">Attempts</th><th scope=\"col\">First</th><th scope=\"col\">Last</th>\
             <th scope=\"col\">Sites most tried</th><th scope=\"col\">Search terms seen</th></tr></thead>\n<tbody>\n",
        );
        for p in &self.people {
            let rows = p.categories.len().max(1);
            let group = [p.year_group.as_deref(), p.class_group.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
            for (i, c) in p.categories.iter().enumerate() {
                let flag = c.repeated || c.circumvention;
                b.push_str(if flag { "<tr class=\"flag\">" } else { "<tr>" });
                if i == 0 {
                    b.push_str(&format!(
                        "<td rowspan=\"{rows}\"><strong>{}</strong><br>{}<br>{} attempts</td><td rowspan=\"{rows}\">{}</td>",
                        escape(&p.name),
                        escape(&p.who),
                        p.attempts,
                        escape(&group)
                    ));
                }
                let mut badges = String::new();
                if c.repeated {
                    badges.push_str(" <span class=\"badge\">repeated</span>");
                }
                if c.circumvention {
                    badges.push_str(" <span class=\"badge\">circumvention</span>");
                }
                b.push_str(&format!(
                    "<td>{}{badges}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td>",
                    escape(&c.category),
                    c.attempts,
                    escape(&self.period.zone.time(c.first)),
                    escape(&self.period.zone.time(c.last))
                ));
                if i == 0 {
                    b.push_str(&format!(
                        "<td rowspan=\"{rows}\">{}</td><td rowspan=\"{rows}\">{}</td>",
                        escape(&listed(&p.top_sites)),
                        escape(&listed(&p.search_terms))
                    ));
                }
                b.push_str("</tr>\n");
            }
        }
        b.push_str("</tbody>\n</table>\n");
        b
    }

    /// A whole printable page.
    pub fn to_html(&self) -> String {
        page(&self.title(), &self.html_body())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn at(day: i8, hour: i8) -> Timestamp {
        crate::period::day_start(date(2026, 11, day))
            + jiff::SignedDuration::from_hours(hour.into())
    }

    fn row(
        who: &str,
        categories: &str,
        attempts: u64,
        first: Timestamp,
        last: Timestamp,
    ) -> AttemptRow {
        AttemptRow {
            who: who.into(),
            username: (!who.starts_with("address ")).then(|| who.to_owned()),
            categories: categories.into(),
            attempts,
            first,
            last,
        }
    }

    pub(crate) fn seeded_week() -> WeeklyInput {
        WeeklyInput {
            school: "Dallimore Primary".into(),
            attempts: vec![
                row("amy.p", "pornography", 3, at(2, 9), at(4, 10)),
                row("amy.p", "pornography,adult-themes", 4, at(3, 11), at(5, 14)),
                row("amy.p", "vpn", 1, at(6, 13), at(6, 13)),
                row("ben.k", "gambling", 2, at(2, 10), at(2, 11)),
                row("address 10.0.0.9", "", 1, at(5, 8), at(5, 8)),
            ],
            sites: vec![
                SiteRow {
                    who: "amy.p".into(),
                    host: "adult.example".into(),
                    attempts: 6,
                },
                SiteRow {
                    who: "amy.p".into(),
                    host: "=cmd|' /C calc'!A0".into(),
                    attempts: 1,
                },
                SiteRow {
                    who: "amy.p".into(),
                    host: "vpn.example".into(),
                    attempts: 1,
                },
                SiteRow {
                    who: "ben.k".into(),
                    host: "bet.example".into(),
                    attempts: 2,
                },
            ],
            searches: vec![SearchRow {
                who: "ben.k".into(),
                term: "odds, \"tonight\"".into(),
                attempts: 2,
            }],
            people: vec![PersonInfo {
                username: "amy.p".into(),
                display_name: "Amy Pond".into(),
                year_group: Some("Year 6".into()),
                class_group: Some("6R".into()),
            }],
        }
    }

    #[test]
    fn groups_counts_and_highlights() {
        let r = weekly_report(Period::week_from(date(2026, 11, 2)), &seeded_week());
        assert_eq!(r.total_attempts, 11);
        assert_eq!(r.people.len(), 3);
        let amy = &r.people[0];
        assert_eq!((amy.name.as_str(), amy.attempts), ("Amy Pond", 8));
        assert_eq!(amy.year_group.as_deref(), Some("Year 6"));
        assert_eq!((amy.first, amy.last), (at(2, 9), at(6, 13)));
        let porn = amy
            .categories
            .iter()
            .find(|c| c.category == "pornography")
            .unwrap();
        assert_eq!((porn.attempts, porn.repeated), (7, true));
        assert_eq!((porn.first, porn.last), (at(2, 9), at(5, 14)));
        assert!(amy.repeated && amy.circumvention);
        assert_eq!(amy.top_sites[0], ("adult.example".to_owned(), 6));
        let ben = r.people.iter().find(|p| p.who == "ben.k").unwrap();
        assert!(!ben.repeated && !ben.circumvention);
        assert_eq!(
            ben.name, "ben.k",
            "no people-list entry: the username stands"
        );
        assert_eq!(ben.search_terms, vec![("odds, \"tonight\"".to_owned(), 2)]);
        assert_eq!(r.people_flagged, 1);
        assert!(r.categories.contains(&("uncategorised".to_owned(), 1)));
        assert_eq!(r.categories[0], ("pornography".to_owned(), 7));
    }

    #[test]
    fn csv_is_rfc4180_and_inert() {
        let r = weekly_report(Period::week_from(date(2026, 11, 2)), &seeded_week());
        let csv = r.to_csv();
        assert!(csv.starts_with("Person,Username or address,Year group,"));
        assert!(csv.ends_with("\r\n"));
        // one header plus one line per person and category: amy 3, ben 1, address 1
        assert_eq!(csv.matches("\r\n").count(), 6);
        assert!(csv.contains("\"odds, \"\"tonight\"\" (2)\""), "{csv}");
        // the site list begins with an ordinary host, but a cell that would begin with = is inert
        let injected = SiteRow {
            who: "ben.k".into(),
            host: "=1+1".into(),
            attempts: 9,
        };
        let mut input = seeded_week();
        input.sites.push(injected);
        let csv = weekly_report(Period::week_from(date(2026, 11, 2)), &input).to_csv();
        assert!(csv.contains(",'=1+1 (9); bet.example (2),"), "{csv}");
    }

    #[test]
    fn html_escapes_and_flags() {
        let mut input = seeded_week();
        input.searches.push(SearchRow {
            who: "amy.p".into(),
            term: "<b>x</b>".into(),
            attempts: 1,
        });
        let html = weekly_report(Period::week_from(date(2026, 11, 2)), &input).to_html();
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert!(!html.contains("<b>x</b>"));
        assert!(html.contains("<tr class=\"flag\">"));
        assert!(html.contains("@media print"));
        assert!(html.contains("Monday 2 November 2026 to Sunday 8 November 2026"));
    }

    #[test]
    fn same_rows_same_report() {
        let p = Period::week_from(date(2026, 11, 2));
        let mut shuffled = seeded_week();
        shuffled.attempts.reverse();
        shuffled.sites.reverse();
        assert_eq!(
            weekly_report(p, &seeded_week()),
            weekly_report(p, &shuffled)
        );
        assert_eq!(
            weekly_report(p, &seeded_week()).to_csv(),
            weekly_report(p, &shuffled).to_csv()
        );
    }

    #[test]
    fn times_are_shown_in_the_schools_zone() {
        let week = Period::week_from(date(2026, 11, 2));
        let london = weekly_report(week, &seeded_week()).to_csv();
        // 09:00 in London on Monday 2 November (GMT) is 04:00 in New York.
        assert!(london.contains("Mon 2 Nov 2026 09:00"), "{london}");
        let zone =
            crate::period::SchoolZone::new(&jiff::tz::TimeZone::get("America/New_York").unwrap());
        let new_york = weekly_report(week.in_zone(zone), &seeded_week());
        let csv = new_york.to_csv();
        assert!(csv.contains("Mon 2 Nov 2026 04:00"), "{csv}");
        assert!(!csv.contains("Mon 2 Nov 2026 09:00"), "{csv}");
        assert!(new_york.to_html().contains("Mon 2 Nov 2026 04:00"));
    }
}
