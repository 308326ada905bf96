//! The reports' benchmark (issue 7's target: the weekly report for a
//! 1,000-pupil school with 10 million events in at most 5 seconds). Reads a
//! store seeded by `crates/console/examples/bench_console.rs seed` and
//! times, end to end, the weekly report (SQL counts, people, the report,
//! its HTML and CSV) for each of the last full weeks, and the governors'
//! report for the current term. Run by `scripts/bench-reports.sh`.

use std::path::Path;
use std::time::Instant;

use jiff::{Timestamp, ToSpan};
use reports::governors::governors_report;
use reports::weekly::weekly_report;
use reports::{Period, Term};
use store::sqlite::SqliteStore;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let db = args.first().ok_or("usage: bench_reports DB [WEEKS]")?;
    let weeks: i64 = args.get(1).map_or(Ok(4), |w| w.parse())?;
    let store = SqliteStore::open(Path::new(db)).await?;
    let today = reports::period::school_date(Timestamp::now());
    let monday = today.checked_sub(i64::from(today.weekday().to_monday_zero_offset()).days())?;
    println!("| report | period | blocked attempts | people | time |");
    println!("|---|---|---|---|---|");
    let mut worst = 0.0f64;
    for back in 1..=weeks {
        let period = Period::week_from(monday.checked_sub((7 * back).days())?);
        let started = Instant::now();
        let input = store::reports::weekly_input(&store, period, "Bench school").await?;
        let report = weekly_report(period, &input);
        let (html, csv) = (report.to_html(), report.to_csv());
        let took = started.elapsed().as_secs_f64();
        worst = worst.max(took);
        println!(
            "| weekly (HTML {} kB, CSV {} kB) | {} | {} | {} | {:.2} s |",
            html.len() / 1024,
            csv.len() / 1024,
            period.first,
            report.total_attempts,
            report.people.len(),
            took
        );
    }
    let term = Term::containing(today);
    let started = Instant::now();
    let input = store::reports::governors_input(&store, term, "Bench school").await?;
    let report = governors_report(&input);
    let html = report.to_html();
    println!(
        "| governors (HTML {} kB) | {} | {} | – | {:.2} s |",
        html.len() / 1024,
        term.id(),
        report.blocked_total.now.text(),
        started.elapsed().as_secs_f64()
    );
    println!();
    println!("Slowest weekly report: {worst:.2} s (target: at most 5 s).");
    Ok(())
}
