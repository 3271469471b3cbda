//! US Pacific time, as AliExpress order dates use (`yyyy-MM-dd HH:mm:ss`), without a
//! time-zone database: PST (UTC−8) with US daylight time (UTC−7) from the second Sunday
//! of March 02:00 to the first Sunday of November 02:00 local (Energy Policy Act 2005).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};

const FORMAT: &str = "%Y-%m-%d %H:%M:%S";

fn nth_sunday(year: i32, month: u32, n: u32) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let offset = (7 + 7 - first.weekday().num_days_from_monday() - 1) % 7; // days to first Sunday
    first.checked_add_signed(Duration::days(i64::from(offset + 7 * (n - 1))))
}

/// UTC offset in hours for a UTC instant.
fn offset_hours(utc: DateTime<Utc>) -> i64 {
    let y = utc.year();
    let (Some(start), Some(end)) = (nth_sunday(y, 3, 2), nth_sunday(y, 11, 1)) else { return -8 };
    // 02:00 PST = 10:00 UTC (start); 02:00 PDT = 09:00 UTC (end).
    let start_utc = Utc.from_utc_datetime(&start.and_hms_opt(10, 0, 0).unwrap_or_default());
    let end_utc = Utc.from_utc_datetime(&end.and_hms_opt(9, 0, 0).unwrap_or_default());
    if utc >= start_utc && utc < end_utc { -7 } else { -8 }
}

pub fn format(utc: DateTime<Utc>) -> String {
    (utc + Duration::hours(offset_hours(utc))).format(FORMAT).to_string()
}

/// Parses a Pacific local time; an ambiguous hour (November) resolves to daylight time.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let local = NaiveDateTime::parse_from_str(s.trim(), FORMAT).ok()?;
    for guess in [7, 8] {
        let utc = Utc.from_utc_datetime(&(local + Duration::hours(guess)));
        if offset_hours(utc) == -guess {
            return Some(utc);
        }
    }
    Some(Utc.from_utc_datetime(&(local + Duration::hours(8))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
    }

    #[test]
    fn dst_boundaries_2026() {
        // DST 2026: 8 March 10:00 UTC to 1 November 09:00 UTC.
        assert_eq!(format(utc("2026-01-15T12:00:00Z")), "2026-01-15 04:00:00");
        assert_eq!(format(utc("2026-07-01T12:00:00Z")), "2026-07-01 05:00:00");
        assert_eq!(format(utc("2026-03-08T09:59:59Z")), "2026-03-08 01:59:59");
        assert_eq!(format(utc("2026-03-08T10:00:00Z")), "2026-03-08 03:00:00");
        assert_eq!(format(utc("2026-11-01T08:59:59Z")), "2026-11-01 01:59:59");
        assert_eq!(format(utc("2026-11-01T09:00:00Z")), "2026-11-01 01:00:00");
        for t in ["2026-01-15T12:00:00Z", "2026-07-01T12:00:00Z", "2026-12-31T23:59:59Z"] {
            assert_eq!(parse(&format(utc(t))), Some(utc(t)));
        }
    }
}
