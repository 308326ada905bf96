//! Report periods: a week from a date, and school terms. Days begin at
//! midnight in the school's time zone (`school.timezone` in the policy,
//! carried by each period as a [`SchoolZone`]), so a week's report matches
//! the school week whatever the clocks did.

use std::sync::{Mutex, PoisonError};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::Serialize;

/// The zone of a period made without one: the policy's default
/// `school.timezone`. The commands and the console give the policy's own.
const DEFAULT_ZONE: &str = "Europe/London";

/// The school's time zone, in which days begin and times are shown. A
/// `Copy` handle, so that periods and terms made in it stay plain values:
/// each distinct zone is kept once for the life of the program (a school
/// has one and seldom changes it).
#[derive(Clone, Copy)]
pub struct SchoolZone(&'static TimeZone);

impl SchoolZone {
    pub fn new(zone: &TimeZone) -> SchoolZone {
        static KEPT: Mutex<Vec<&'static TimeZone>> = Mutex::new(Vec::new());
        let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(known) = kept.iter().find(|z| **z == zone) {
            return SchoolZone(known);
        }
        let zone: &'static TimeZone = Box::leak(Box::new(zone.clone()));
        kept.push(zone);
        SchoolZone(zone)
    }

    pub fn time_zone(self) -> &'static TimeZone {
        self.0
    }

    /// The instant a school day begins.
    pub fn day_start(self, day: Date) -> Timestamp {
        day.to_zoned(self.0.clone())
            .map(|z| z.timestamp())
            .unwrap_or_else(|_| Timestamp::UNIX_EPOCH)
    }

    /// The school's date of an instant.
    pub fn date(self, at: Timestamp) -> Date {
        at.to_zoned(self.0.clone()).date()
    }

    /// Day and time as the school reads it: "Mon 2 Nov 2026 09:14".
    pub fn time(self, at: Timestamp) -> String {
        at.to_zoned(self.0.clone())
            .strftime("%a %-d %b %Y %H:%M")
            .to_string()
    }
}

impl Default for SchoolZone {
    fn default() -> SchoolZone {
        SchoolZone::new(&TimeZone::get(DEFAULT_ZONE).unwrap_or(TimeZone::UTC))
    }
}

/// Zones are kept once each, so the same zone is the same reference.
impl PartialEq for SchoolZone {
    fn eq(&self, other: &SchoolZone) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for SchoolZone {}

impl std::fmt::Debug for SchoolZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.iana_name().unwrap_or("(unnamed zone)"))
    }
}

/// A time as a person types it, read on the school's clock in `zone`: an
/// RFC 3339 time with its offset (`2026-11-18T09:00:00Z`), a date and time
/// (`2026-11-18T09:00`, `2026-11-18 09:00`), or a date alone, meaning the
/// midnight that begins it or, with `end_of_day`, the one that ends it.
/// `None` when it is none of these.
pub fn read_time(text: &str, zone: &TimeZone, end_of_day: bool) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(at) = text.parse::<Timestamp>() {
        return Some(at);
    }
    // A date alone also reads as a date and time (its midnight), so it is
    // told apart by having no time in it.
    let civil = if text.contains(['T', 't', ' ']) {
        text.parse::<jiff::civil::DateTime>().ok()?
    } else {
        let date = text.parse::<Date>().ok()?;
        let date = if end_of_day {
            date.tomorrow().ok()?
        } else {
            date
        };
        date.to_datetime(jiff::civil::Time::midnight())
    };
    civil.to_zoned(zone.clone()).ok().map(|z| z.timestamp())
}

/// From the start of `first` to the start of the day after `last`, in
/// `zone`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    pub first: Date,
    pub last: Date,
    #[serde(skip)]
    pub zone: SchoolZone,
}

/// The instant a school day begins, in the policy's default zone (for
/// callers with no policy at hand; [`SchoolZone::day_start`] otherwise).
pub fn day_start(day: Date) -> Timestamp {
    SchoolZone::default().day_start(day)
}

/// The date of an instant in the policy's default zone (for callers with
/// no policy at hand; [`SchoolZone::date`] otherwise).
pub fn school_date(at: Timestamp) -> Date {
    SchoolZone::default().date(at)
}

impl Period {
    /// Seven days from `first`, in the policy's default zone; see
    /// [`Period::in_zone`].
    pub fn week_from(first: Date) -> Period {
        Period {
            first,
            last: first.checked_add(6.days()).unwrap_or(first),
            zone: SchoolZone::default(),
        }
    }

    /// The same days in the school's zone.
    pub fn in_zone(self, zone: SchoolZone) -> Period {
        Period { zone, ..self }
    }

    /// Parses a `YYYY-MM-DD` date, naming the problem if it is not one.
    pub fn parse_date(text: &str) -> Result<Date, String> {
        text.trim().parse::<Date>().map_err(|_| {
            format!("'{text}' is not a date; write it as year-month-day, such as 2026-11-02")
        })
    }

    /// The first instant in the period.
    pub fn from(&self) -> Timestamp {
        self.zone.day_start(self.first)
    }

    /// The first instant after the period.
    pub fn until(&self) -> Timestamp {
        self.zone
            .day_start(self.last.checked_add(1.day()).unwrap_or(self.last))
    }

    pub fn describe(&self) -> String {
        format!(
            "{} to {}",
            self.first.strftime("%A %-d %B %Y"),
            self.last.strftime("%A %-d %B %Y")
        )
    }
}

/// The three terms of an English school year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Season {
    Autumn,
    Spring,
    Summer,
}

/// A term, named as `2026-autumn`. Term dates differ between schools and
/// years, so a term here covers its holidays too: autumn is September to
/// December, spring January to March, summer April to August. Every day of
/// the year belongs to exactly one term, and the terms follow each other.
/// Its days begin in `zone`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Term {
    pub year: i16,
    pub season: Season,
    #[serde(skip)]
    pub zone: SchoolZone,
}

impl Term {
    pub fn parse(text: &str) -> Result<Term, String> {
        let bad = || {
            format!(
                "'{text}' is not a term; write the year and the term, such as 2026-autumn, 2027-spring or 2027-summer"
            )
        };
        let (year, season) = text.trim().split_once('-').ok_or_else(bad)?;
        let year: i16 = year.parse().map_err(|_| bad())?;
        if !(2000..=2200).contains(&year) {
            return Err(bad());
        }
        let season = match season.to_ascii_lowercase().as_str() {
            "autumn" => Season::Autumn,
            "spring" => Season::Spring,
            "summer" => Season::Summer,
            _ => return Err(bad()),
        };
        Ok(Term {
            year,
            season,
            zone: SchoolZone::default(),
        })
    }

    /// The same term in the school's zone (a term is read or found in the
    /// policy's default zone).
    pub fn in_zone(self, zone: SchoolZone) -> Term {
        Term { zone, ..self }
    }

    /// The term a day falls in.
    pub fn containing(day: Date) -> Term {
        let season = match day.month() {
            1..=3 => Season::Spring,
            4..=8 => Season::Summer,
            _ => Season::Autumn,
        };
        Term {
            year: day.year(),
            season,
            zone: SchoolZone::default(),
        }
    }

    pub fn id(&self) -> String {
        let season = match self.season {
            Season::Autumn => "autumn",
            Season::Spring => "spring",
            Season::Summer => "summer",
        };
        format!("{}-{season}", self.year)
    }

    /// "Autumn term 2026".
    pub fn name(&self) -> String {
        let season = match self.season {
            Season::Autumn => "Autumn",
            Season::Spring => "Spring",
            Season::Summer => "Summer",
        };
        format!("{season} term {}", self.year)
    }

    pub fn period(&self) -> Period {
        let d = |m: i8, day: i8| Date::new(self.year, m, day).unwrap_or_default();
        let (first, last) = match self.season {
            Season::Spring => (d(1, 1), d(3, 31)),
            Season::Summer => (d(4, 1), d(8, 31)),
            Season::Autumn => (d(9, 1), d(12, 31)),
        };
        Period {
            first,
            last,
            zone: self.zone,
        }
    }

    pub fn previous(&self) -> Term {
        match self.season {
            Season::Autumn => Term {
                season: Season::Summer,
                ..*self
            },
            Season::Summer => Term {
                season: Season::Spring,
                ..*self
            },
            Season::Spring => Term {
                year: self.year - 1,
                season: Season::Autumn,
                ..*self
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_times_are_read_on_the_school_s_clock() {
        let dubai = TimeZone::get("Asia/Dubai").expect("zone");
        let utc = |t: &str| t.parse::<Timestamp>().expect("time");
        assert_eq!(
            read_time("2026-11-18 09:00", &dubai, false),
            Some(utc("2026-11-18T05:00:00Z"))
        );
        assert_eq!(
            read_time("2026-11-18T09:00", &dubai, true),
            Some(utc("2026-11-18T05:00:00Z"))
        );
        assert_eq!(
            read_time("2026-11-18", &dubai, false),
            Some(utc("2026-11-17T20:00:00Z"))
        );
        assert_eq!(
            read_time("2026-11-18", &dubai, true),
            Some(utc("2026-11-18T20:00:00Z"))
        );
        assert_eq!(
            read_time(" 2026-11-18T09:00:00Z ", &dubai, false),
            Some(utc("2026-11-18T09:00:00Z"))
        );
        assert_eq!(read_time("monday", &dubai, false), None);
    }
    use jiff::civil::date;

    #[test]
    fn terms_follow_each_other() {
        let t = Term::parse("2027-spring").unwrap();
        assert_eq!(t.previous().id(), "2026-autumn");
        assert_eq!(t.previous().period().last, date(2026, 12, 31));
        assert_eq!(t.period().first, date(2027, 1, 1));
        assert_eq!(Term::containing(date(2026, 10, 5)).id(), "2026-autumn");
        assert!(
            Term::parse("2026-winter")
                .unwrap_err()
                .contains("2026-autumn")
        );
        assert!(Term::parse("autumn").is_err());
    }

    #[test]
    fn week_ends_at_london_midnight() {
        let p = Period::week_from(date(2026, 10, 19));
        assert_eq!(p.last, date(2026, 10, 25));
        // British Summer Time ends on 25 October 2026: the week is 7 days and 1 hour.
        assert_eq!(
            p.until().as_second() - p.from().as_second(),
            7 * 86_400 + 3_600
        );
        assert!(
            Period::parse_date("2026-13-01")
                .unwrap_err()
                .contains("year-month-day")
        );
    }

    #[test]
    fn a_week_in_dubai_begins_at_dubai_midnight() {
        let dubai = SchoolZone::new(&TimeZone::get("Asia/Dubai").unwrap());
        let london = Period::week_from(date(2026, 10, 19));
        let p = london.in_zone(dubai);
        assert_eq!((p.first, p.last), (london.first, london.last));
        // Midnight in Dubai (UTC+4, no summer time) is 20:00 UTC the day before.
        assert_eq!(p.from(), "2026-10-18T20:00:00Z".parse().unwrap());
        assert_eq!(london.from(), "2026-10-18T23:00:00Z".parse().unwrap());
        assert_eq!(p.until().as_second() - p.from().as_second(), 7 * 86_400);
        // A term keeps its zone as it goes back.
        let term = Term::parse("2027-spring").unwrap().in_zone(dubai);
        assert_eq!(
            term.previous().period().from(),
            "2026-08-31T20:00:00Z".parse().unwrap()
        );
        assert_eq!(dubai.time(p.from()), "Mon 19 Oct 2026 00:00");
        assert_eq!(
            dubai,
            SchoolZone::new(&TimeZone::get("Asia/Dubai").unwrap())
        );
        assert_ne!(dubai, SchoolZone::default());
    }
}
