//! OrangeConnex request signing and time formats (WIRE.md "Signed calls").
//!
//! `vAuthorization` = lower-case hex MD5 of `path|body|clientKey|secretKey`: `path` is the
//! bare URL path, `body` the exact bytes sent (empty in `PathOnly` mode, as OC's Postman
//! scripts do, and for GET).

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, TimeZone, Utc};
use md5::{Digest, Md5};

/// Whether the request body takes part in the signature (OC's official formula is only an
/// image in its guide; both variants are in use, so it is a setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignMode {
    #[default]
    PathAndBody,
    PathOnly,
}

impl std::str::FromStr for SignMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "path_and_body" => Ok(Self::PathAndBody),
            "path_only" => Ok(Self::PathOnly),
            other => Err(format!("unknown OrangeConnex sign mode {other:?} (path_and_body or path_only)")),
        }
    }
}

pub fn sign(mode: SignMode, path: &str, body: &[u8], client_key: &str, secret_key: &str) -> String {
    let mut h = Md5::new();
    h.update(path.as_bytes());
    h.update(b"|");
    if mode == SignMode::PathAndBody {
        h.update(body);
    }
    h.update(b"|");
    h.update(client_key.as_bytes());
    h.update(b"|");
    h.update(secret_key.as_bytes());
    hex::encode(h.finalize())
}

/// OC's business time zone (China Standard Time) for the times we send.
pub fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or(Utc.fix())
}

/// `2022-10-31T08:00:00+0800`
pub fn format_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&cst()).format("%Y-%m-%dT%H:%M:%S%z").to_string()
}

/// The end of a window in OC's whole seconds, rounded up so the window keeps everything
/// before `t` (a plain format would cut the last fraction of a second off).
pub fn format_end(t: DateTime<Utc>) -> String {
    let whole = t.timestamp();
    let up = if t.timestamp_subsec_nanos() > 0 { whole + 1 } else { whole };
    format_time(DateTime::from_timestamp(up, 0).unwrap_or(t))
}

/// `2022-10-31+0800`
pub fn format_date(d: NaiveDate) -> String {
    format!("{}+0800", d.format("%Y-%m-%d"))
}

/// Reads OC times: `yyyy-MM-ddTHH:mm:ss±hhmm` (also with a colon in the offset, a space for
/// the `T`, or RFC 3339) and dates `yyyy-MM-dd±hhmm` (midnight at that offset).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    for f in ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%:z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.with_timezone(&Utc));
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    // Date with offset: split the trailing ±hhmm.
    if s.len() == 15 {
        let (date, off) = s.split_at(10);
        let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
        let sign = match off.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let hh: i32 = off.get(1..3)?.parse().ok()?;
        let mm: i32 = off.get(3..5)?.parse().ok()?;
        let offset = FixedOffset::east_opt(sign * (hh * 3600 + mm * 60))?;
        return offset.from_local_datetime(&d.and_hms_opt(0, 0, 0)?).single().map(|t| t.with_timezone(&Utc));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_vectors() {
        // printf '%s' '/openapi/3pp/base/v1/service||k|s' | md5sum
        assert_eq!(
            sign(SignMode::PathAndBody, "/openapi/3pp/base/v1/service", b"", "k", "s"),
            md5_hex("/openapi/3pp/base/v1/service||k|s")
        );
        assert_eq!(sign(SignMode::PathAndBody, "/p", b"{\"a\":1}", "k", "s"), md5_hex("/p|{\"a\":1}|k|s"));
        assert_eq!(sign(SignMode::PathOnly, "/p", b"{\"a\":1}", "k", "s"), md5_hex("/p||k|s"));
        // Fixed vector computed with md5sum, independent of this code.
        assert_eq!(
            sign(SignMode::PathOnly, "/openapi/3pp/base/v1/service", b"", "k", "s"),
            "9eb9fe6447325cf46868004652b6a976"
        );
    }

    fn md5_hex(s: &str) -> String {
        hex::encode(Md5::digest(s.as_bytes()))
    }

    #[test]
    fn times() {
        let t = DateTime::parse_from_rfc3339("2026-11-23T01:02:03Z").map(|t| t.with_timezone(&Utc)).ok();
        let t = t.unwrap_or_default();
        assert_eq!(format_time(t), "2026-11-23T09:02:03+0800");
        assert_eq!(parse_time("2026-11-23T09:02:03+0800"), Some(t));
        assert_eq!(parse_time("2026-11-23T09:02:03+08:00"), Some(t));
        assert_eq!(
            parse_time("2026-11-23+0800"),
            DateTime::parse_from_rfc3339("2026-11-22T16:00:00Z").map(|t| t.with_timezone(&Utc)).ok()
        );
        assert_eq!(format_date(NaiveDate::from_ymd_opt(2025, 12, 27).unwrap_or_default()), "2025-12-27+0800");
        assert_eq!(parse_time("yesterday"), None);
        let frac = DateTime::parse_from_rfc3339("2026-11-23T01:02:03.400Z").map(|t| t.with_timezone(&Utc)).unwrap();
        assert_eq!(format_end(frac), "2026-11-23T09:02:04+0800");
        assert_eq!(format_end(t), "2026-11-23T09:02:03+0800");
    }
}
