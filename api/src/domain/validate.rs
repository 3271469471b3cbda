//! Small, pure input checks shared by domain operations.

use chrono::{DateTime, Datelike, Utc};

use crate::error::{DomainError, UserError, UserErrorCode};

/// A date a filter compares stored dates with: years 0 to 9999, the range RFC 3339
/// writes. chrono reads years up to ±262,143, but PostgreSQL's `timestamptz` stops at
/// 4713 BC, so a bound like `-009999-01-01T00:00:00Z` would reach the database as an
/// error instead of matching nothing.
pub fn instant(t: Option<DateTime<Utc>>, field: &str) -> Result<Option<DateTime<Utc>>, DomainError> {
    match t {
        Some(t) if !(0..=9999).contains(&t.year()) => {
            Err(DomainError::bad_input(field, "use a date between the years 0 and 9999"))
        }
        t => Ok(t),
    }
}

/// Normalises and checks an email address (lower-cased, trimmed, one `@`, a dot in the
/// domain, no whitespace, ≤ 320 chars). Deliverability is not our business here.
pub fn email(raw: &str, field: &[&str]) -> Result<String, UserError> {
    let e = raw.trim().to_lowercase();
    let valid = e.len() <= 320
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && match e.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if valid { Ok(e) } else { Err(UserError::new(UserErrorCode::Invalid, field, "Enter a valid email address.")) }
}

/// A trimmed, non-empty display name of at most `max` characters.
pub fn name(raw: &str, max: usize, field: &[&str]) -> Result<String, UserError> {
    let n = raw.trim();
    if n.is_empty() {
        return Err(UserError::new(UserErrorCode::Required, field, "Must not be empty."));
    }
    if n.chars().count() > max || n.chars().any(char::is_control) {
        return Err(UserError::new(
            UserErrorCode::Invalid,
            field,
            format!("Must be at most {max} printable characters."),
        ));
    }
    Ok(n.to_owned())
}

/// An optional free-text field: trimmed, `None` when blank, at most `max` characters (the
/// column's width, which PostgreSQL enforces and SQLite does not).
pub fn optional(raw: Option<String>, max: usize, field: &[&str]) -> Result<Option<String>, UserError> {
    let Some(v) = raw.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max {
        return Err(UserError::new(UserErrorCode::Invalid, field, format!("Must be at most {max} characters.")));
    }
    Ok(Some(v))
}

/// Collects several checks into one `DomainError::User` so a form shows every problem at once.
pub fn collect<T>(results: Vec<Result<T, UserError>>) -> Result<Vec<T>, DomainError> {
    let mut ok = Vec::new();
    let mut errs = Vec::new();
    for r in results {
        match r {
            Ok(v) => ok.push(v),
            Err(e) => errs.push(e),
        }
    }
    if errs.is_empty() { Ok(ok) } else { Err(DomainError::User(errs)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_texts() {
        assert_eq!(optional(None, 5, &["f"]).unwrap(), None);
        assert_eq!(optional(Some("  ".into()), 5, &["f"]).unwrap(), None);
        assert_eq!(optional(Some(" 📦📦📦📦📦 ".into()), 5, &["f"]).unwrap().as_deref(), Some("📦📦📦📦📦"));
        let e = optional(Some("123456".into()), 5, &["input", "f"]).unwrap_err();
        assert_eq!((e.code, e.field), (UserErrorCode::Invalid, vec!["input".to_owned(), "f".to_owned()]));
    }

    #[test]
    fn instants() {
        let at = |s: &str| Some(DateTime::parse_from_rfc3339(s).unwrap().to_utc());
        for ok in ["0000-01-01T00:00:00Z", "2026-12-06T10:00:00Z", "9999-12-31T23:59:59Z"] {
            assert_eq!(instant(at(ok), "from").unwrap(), at(ok));
        }
        assert_eq!(instant(None, "from").unwrap(), None);
        let far = |y: i32| chrono::NaiveDate::from_ymd_opt(y, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc();
        for bad in [-9999, -1, 10_000, 200_000] {
            assert!(matches!(instant(Some(far(bad)), "from"), Err(DomainError::BadInput { .. })), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(email("  Ann@Example.COM ", &["e"]).ok().as_deref(), Some("ann@example.com"));
        for bad in ["", "a", "a@b", "a@@b.c", "a b@c.d", "@b.c", "a@.c", "a@b.c."] {
            assert!(email(bad, &["e"]).is_err(), "{bad}");
        }
    }

    #[test]
    fn names() {
        assert!(name("   ", 10, &["n"]).is_err());
        assert!(name("Ünïcode 店铺 O'Brien & Co", 100, &["n"]).is_ok());
        assert!(name(&"x".repeat(11), 10, &["n"]).is_err());
    }
}
