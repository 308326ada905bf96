//! Sign-in throttling: after too many failures in a window, a username (real
//! or not, so a lock-out says nothing about which usernames exist) or an
//! address is refused for a while. Pure arithmetic over failure times, so it
//! is tested without waiting.

use jiff::{SignedDuration, Timestamp};

/// How many failures in how long lock what for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub failures: usize,
    pub window: SignedDuration,
    pub lock_for: SignedDuration,
}

impl Limit {
    /// An account: 5 failures in 15 minutes lock it for 15 minutes.
    pub const ACCOUNT: Limit = Limit {
        failures: 5,
        window: SignedDuration::from_mins(15),
        lock_for: SignedDuration::from_mins(15),
    };

    /// An address: generous, because a whole school may sit behind one.
    pub const ADDRESS: Limit = Limit {
        failures: 50,
        window: SignedDuration::from_mins(15),
        lock_for: SignedDuration::from_mins(15),
    };

    /// How far back failures can matter to a lock at `now`.
    pub fn look_back(&self, now: Timestamp) -> Timestamp {
        now.checked_sub(self.window + self.lock_for)
            .unwrap_or(Timestamp::MIN)
    }

    /// Until when a lock holds at `now`, given failure times oldest first:
    /// whenever `failures` of them fall within `window`, the lock runs for
    /// `lock_for` from the last of them.
    pub fn locked_until(&self, failures: &[Timestamp], now: Timestamp) -> Option<Timestamp> {
        if self.failures == 0 || failures.len() < self.failures {
            return None;
        }
        let mut until: Option<Timestamp> = None;
        for i in (self.failures - 1)..failures.len() {
            let first = failures[i + 1 - self.failures];
            let last = failures[i];
            if last.duration_since(first) <= self.window {
                let end = last.checked_add(self.lock_for).unwrap_or(Timestamp::MAX);
                until = Some(until.map_or(end, |u| u.max(end)));
            }
        }
        until.filter(|u| *u > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::ToSpan;

    fn at(minute: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000).expect("time") + minute.minutes()
    }

    #[test]
    fn five_failures_in_fifteen_minutes_lock_for_fifteen() {
        let limit = Limit::ACCOUNT;
        let four = [at(0), at(1), at(2), at(3)];
        assert_eq!(limit.locked_until(&four, at(4)), None);
        let five = [at(0), at(1), at(2), at(3), at(4)];
        assert_eq!(limit.locked_until(&five, at(4)), Some(at(19)));
        assert_eq!(limit.locked_until(&five, at(18)), Some(at(19)));
        assert_eq!(limit.locked_until(&five, at(19)), None);
    }

    #[test]
    fn failures_spread_over_more_than_the_window_do_not_lock() {
        let limit = Limit::ACCOUNT;
        let spread = [at(0), at(4), at(8), at(12), at(16)];
        assert_eq!(limit.locked_until(&spread, at(16)), None);
        let then_burst = [at(0), at(4), at(8), at(12), at(16), at(17)];
        assert_eq!(limit.locked_until(&then_burst, at(17)), Some(at(32)));
    }

    #[test]
    fn the_look_back_covers_window_and_lock() {
        assert_eq!(Limit::ACCOUNT.look_back(at(30)), at(0));
    }
}
