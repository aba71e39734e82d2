//! UTC calendar time for file names and `created` headers.
//!
//! Only formatting of "now" is needed, so a civil-from-days conversion
//! (Howard Hinnant's algorithm) replaces a date-time dependency.

use std::time::{SystemTime, UNIX_EPOCH};

/// A UTC timestamp broken into calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UtcTime {
    pub(crate) epoch: u64,
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
}

impl UtcTime {
    pub(crate) fn now() -> UtcTime {
        let epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        UtcTime::from_epoch(epoch)
    }

    pub(crate) fn from_epoch(epoch: u64) -> UtcTime {
        let days = epoch / 86_400;
        let secs = epoch % 86_400;
        let (year, month, day) = civil_from_days(days);
        UtcTime {
            epoch,
            year,
            month,
            day,
            hour: u32::try_from(secs / 3600).unwrap_or(0),
            minute: u32::try_from(secs % 3600 / 60).unwrap_or(0),
            second: u32::try_from(secs % 60).unwrap_or(0),
        }
    }

    /// `2026-11-21T14:30:00Z`
    pub(crate) fn rfc3339(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: u64) -> (i64, u32, u32) {
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(UtcTime::from_epoch(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(
            UtcTime::from_epoch(951_782_400).rfc3339(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            UtcTime::from_epoch(1_795_271_400).rfc3339(),
            "2026-11-21T14:30:00Z"
        );
    }
}
