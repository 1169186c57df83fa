//! Conversions between the injected clock, JWT seconds and database timestamps.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use jwt_verify::Clock;

use crate::error::SignError;

/// One reading of the clock, in the two forms issuance needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Now {
    /// Whole seconds since the epoch (`iat`, `nbf`).
    pub(crate) secs: i64,
    /// Millisecond-precision instant (database `created_at`, `last_activity_at`, ...).
    pub(crate) at: DateTime<Utc>,
}

impl Now {
    /// Reads `clock` once.
    pub(crate) fn read(clock: &dyn Clock) -> Result<Self, SignError> {
        let ms = clock.now_ms();
        let at = DateTime::from_timestamp_millis(ms).ok_or(SignError::ClockOutOfRange)?;
        Ok(Self {
            secs: ms.div_euclid(1000),
            at,
        })
    }

    /// `secs + ttl`, as an expiry in unix seconds.
    pub(crate) fn plus(self, ttl: Duration) -> Result<i64, SignError> {
        self.secs
            .checked_add(ttl_secs(ttl))
            .ok_or(SignError::ClockOutOfRange)
    }
}

/// A lifetime in whole seconds (saturating; validated lifetimes are far below the limit).
pub(crate) fn ttl_secs(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)
}

/// Unix seconds as a database timestamp.
pub(crate) fn at_secs(secs: i64) -> Result<DateTime<Utc>, SignError> {
    DateTime::from_timestamp(secs, 0).ok_or(SignError::ClockOutOfRange)
}

/// Unix seconds formatted as the contract's timestamps: RFC 3339, seconds precision, UTC `Z`
/// (`2006-01-02T15:04:05Z`, contract §1).
pub fn rfc3339_secs(secs: i64) -> Option<String> {
    DateTime::from_timestamp(secs, 0).map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwt_verify::ManualClock;

    #[test]
    fn formats_seconds_precision_utc_z() {
        assert_eq!(
            rfc3339_secs(1_700_000_000).as_deref(),
            Some("2023-11-14T22:13:20Z")
        );
    }

    #[test]
    fn now_keeps_milliseconds_for_the_database_and_floors_seconds() {
        let clock = ManualClock::new(1_700_000_000_999);
        let now = Now::read(&clock).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(now.secs, 1_700_000_000);
        assert_eq!(now.at.timestamp_millis(), 1_700_000_000_999);
        assert_eq!(now.plus(Duration::from_secs(900)).ok(), Some(1_700_000_900));
    }
}
