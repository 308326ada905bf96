//! Small-number suppression for the governors' report (§3; governors never
//! see names, and a count of one or two pupils can name them).
//!
//! The rule: a count of 1 to 4 is shown as "fewer than 5"; 0 and 5 or more
//! are shown as they are. Suppression would be undone if a reader could
//! work a hidden count out from the numbers around it, so:
//!
//! - a total over parts of which any is hidden is never shown exactly: it
//!   is shown as the range it must lie in given what is shown ("between 12
//!   and 18"), which is all a reader could work out anyway;
//! - a change against the previous term is shown only when neither term's
//!   count is hidden;
//! - "N of T" coverage (training, acceptable use) is shown only when both N
//!   and the remainder T − N are 0 or at least 5; otherwise the small side
//!   is hidden too ("all but fewer than 5 of 40");
//! - charts draw a hidden count as a pale bar reaching 5 labelled "fewer
//!   than 5", never at its true height.

use serde::Serialize;

pub const FEWER_THAN_5: &str = "fewer than 5";

/// A count as governors see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "shown")]
pub enum Shown {
    Exact {
        value: u64,
    },
    FewerThan5,
    /// A total over hidden parts: the range it must lie in.
    Between {
        low: u64,
        high: u64,
    },
}

impl Shown {
    pub fn of(count: u64) -> Shown {
        if (1..5).contains(&count) {
            Shown::FewerThan5
        } else {
            Shown::Exact { value: count }
        }
    }

    /// The total of `parts`, never exact when a part is hidden.
    pub fn total(parts: &[u64]) -> Shown {
        let total: u64 = parts.iter().sum();
        let hidden = parts.iter().filter(|&&p| (1..5).contains(&p)).count() as u64;
        if hidden == 0 {
            return Shown::of(total);
        }
        let shown: u64 = parts.iter().filter(|&&p| !(1..5).contains(&p)).sum();
        let (low, high) = (shown + hidden, shown + 4 * hidden);
        if high < 5 {
            Shown::FewerThan5
        } else {
            Shown::Between { low, high }
        }
    }

    pub fn is_hidden(&self) -> bool {
        !matches!(self, Shown::Exact { .. })
    }

    pub fn text(&self) -> String {
        match self {
            Shown::Exact { value } => value.to_string(),
            Shown::FewerThan5 => FEWER_THAN_5.to_owned(),
            Shown::Between { low, high } => format!("between {low} and {high}"),
        }
    }
}

/// The change from the previous term, or why it is not shown.
pub fn change(now: u64, before: u64) -> String {
    if Shown::of(now).is_hidden() || Shown::of(before).is_hidden() {
        return "not shown (small numbers)".to_owned();
    }
    match now.cmp(&before) {
        std::cmp::Ordering::Greater => format!("up {}", now - before),
        std::cmp::Ordering::Less => format!("down {}", before - now),
        std::cmp::Ordering::Equal => "no change".to_owned(),
    }
}

/// "N of T" with both sides protected.
pub fn coverage(covered: u64, total: u64) -> String {
    let covered = covered.min(total);
    let rest = total - covered;
    let total_text = Shown::of(total).text();
    if Shown::of(total).is_hidden() {
        return format!("{FEWER_THAN_5} people in all; not broken down");
    }
    if Shown::of(covered).is_hidden() {
        return format!("{FEWER_THAN_5} of {total_text}");
    }
    if Shown::of(rest).is_hidden() {
        return format!("all but {FEWER_THAN_5} of {total_text}");
    }
    let percent = (covered * 100).checked_div(total).unwrap_or(0);
    format!("{covered} of {total_text} ({percent}%)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_to_four_hidden() {
        assert_eq!(Shown::of(0).text(), "0");
        for n in 1..5 {
            assert_eq!(Shown::of(n).text(), FEWER_THAN_5);
        }
        assert_eq!(Shown::of(5).text(), "5");
        assert_eq!(Shown::of(120).text(), "120");
    }

    #[test]
    fn totals_cannot_reveal_a_hidden_part() {
        assert_eq!(Shown::total(&[10, 7, 0]).text(), "17");
        // 10 + 3: the exact 13 would give the 3 away.
        assert_eq!(Shown::total(&[10, 3]).text(), "between 11 and 14");
        // The same shown parts with any hidden value give the same text.
        for hidden in 1..5 {
            assert_eq!(Shown::total(&[10, hidden]), Shown::total(&[10, 1]));
        }
        assert_eq!(Shown::total(&[1, 2]).text(), "between 2 and 8");
        assert_eq!(Shown::total(&[1]).text(), FEWER_THAN_5);
    }

    #[test]
    fn changes_and_coverage() {
        assert_eq!(change(12, 7), "up 5");
        assert_eq!(change(7, 12), "down 5");
        assert_eq!(change(0, 3), "not shown (small numbers)");
        assert_eq!(change(9, 9), "no change");
        assert_eq!(coverage(30, 40), "30 of 40 (75%)");
        assert_eq!(coverage(37, 40), "all but fewer than 5 of 40");
        assert_eq!(coverage(2, 40), "fewer than 5 of 40");
        assert_eq!(coverage(40, 40), "40 of 40 (100%)");
        assert!(coverage(3, 3).starts_with(FEWER_THAN_5));
    }
}
