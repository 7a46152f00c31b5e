//! Limits on failed logins, per account and per address, over a sliding window.

use time::Duration;

pub const FAILURE_WINDOW: Duration = Duration::minutes(15);
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
/// A browser session lapses after this long without use.
pub const SESSION_IDLE: Duration = Duration::hours(12);

/// Whether another attempt may be made, given the failures inside the window.
pub fn attempt_allowed(account_failures: i64, address_failures: i64) -> bool {
    account_failures < MAX_FAILURES_PER_ACCOUNT && address_failures < MAX_FAILURES_PER_ADDRESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        let cases = [(0, 0, true), (4, 19, true), (5, 0, false), (0, 20, false)];
        for (account, address, expected) in cases {
            assert_eq!(
                attempt_allowed(account, address),
                expected,
                "{account} {address}"
            );
        }
    }
}
