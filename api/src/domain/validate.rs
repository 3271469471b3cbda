//! Small, pure input checks shared by domain operations.

use crate::error::{DomainError, UserError, UserErrorCode};

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
