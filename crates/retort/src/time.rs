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

    /// `20261121T143000Z`, for file names.
    pub(crate) fn compact(&self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// Whether `text` is an RFC 3339 date-time: `2026-11-21T14:30:00Z`, with
/// optional fractions of a second and a `Z` or `±HH:MM` offset (a space or
/// a lowercase `t` for the `T`, as the RFC allows); each field in range.
pub(crate) fn is_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(range)?;
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let fields = (|| {
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
        let separators = b.get(4) == Some(&b'-')
            && b.get(7) == Some(&b'-')
            && matches!(b.get(10), Some(b'T' | b't' | b' '))
            && b.get(13) == Some(&b':')
            && b.get(16) == Some(&b':');
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let in_range = (1..=12).contains(&month)
            && (1..=days).contains(&day)
            && hour < 24
            && minute < 60
            && second <= 60;
        (separators && in_range).then_some(())
    })();
    if fields.is_none() {
        return false;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &fraction[digits..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            let hours = [*h1, *h2];
            let minutes = [*m1, *m2];
            hours.iter().chain(&minutes).all(u8::is_ascii_digit)
                && hours < *b"24"
                && minutes < *b"60"
        }
        _ => false,
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
    fn rfc3339_date_times() {
        for good in [
            "2026-11-21T14:30:00Z",
            "2026-11-21t14:30:00z",
            "2026-11-21 14:30:00Z",
            "2024-02-29T23:59:60Z",
            "2026-11-21T14:30:00.123456+01:00",
            "2026-11-21T14:30:00-23:59",
        ] {
            assert!(is_rfc3339(good), "{good}");
        }
        for bad in [
            "",
            "not-a-date",
            "yesterday",
            "2026-11-21",
            "2026-11-21T14:30:00",
            "2026-13-45T99:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-11-21T24:00:00Z",
            "2026-11-21T14:60:00Z",
            "2026-11-21T14:30:00.Z",
            "2026-11-21T14:30:00+0100",
            "2026-11-21T14:30:00+24:00",
            "2026-11-21T14:30:00Z trailing",
            "２０２６-11-21T14:30:00Z",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

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
