//! The reports the policies ask for (DESIGN.md C11), as pure functions of a
//! period's data: rows in, report structures out, rendered to HTML and CSV.
//!
//! - `weekly`: §7.3.4's weekly log of attempts to reach restricted
//!   material, for the named recipients: who, which categories, how often,
//!   when, the sites and search terms, with repeated and circumvention
//!   attempts highlighted.
//! - `governors`: §3's termly report to the governing body: incidents by
//!   type with the trend against the previous term, filtering and
//!   monitoring checks, training, acceptable-use coverage, reviews due and
//!   blocked attempts by category. Anonymised, and every count from 1 to 4
//!   is shown as "fewer than 5" (`suppress`).
//! - `period`: weeks and school terms.
//! - `csv`, `html`, `chart`: RFC 4180 CSV safe from formula injection,
//!   HTML escaping, inline SVG bar charts.
//!
//! Nothing here reads a clock, a file or a database, so a report for a
//! past period is the same every time it is made from the same rows.

#![forbid(unsafe_code)]

pub mod chart;
pub mod csv;
pub mod governors;
pub mod html;
pub mod period;
pub mod selftest;
pub mod suppress;
pub mod weekly;

pub use governors::{GovernorsInput, GovernorsReport};
pub use period::{Period, Term};
pub use weekly::{WeeklyInput, WeeklyReport};
