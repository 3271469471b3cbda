//! UPU S10 item identifiers (UPU standard S10-12): two-letter service indicator, an
//! 8-digit serial number, a check digit and the ISO 3166-1 alpha-2 country code of the
//! issuing post, e.g. `RR123456785GB`.
//!
//! Check digit: weights 8 6 4 2 3 5 9 7 over the serial digits, `11 - (sum mod 11)`,
//! where 10 becomes 0 and 11 becomes 5.

/// The largest 8-digit serial number.
pub const MAX_SERIAL: i64 = 99_999_999;

const WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];

/// The check digit of an 8-digit serial number (`None` outside 0..=99_999_999).
pub fn check_digit(serial: i64) -> Option<u32> {
    if !(0..=MAX_SERIAL).contains(&serial) {
        return None;
    }
    let digits = format!("{serial:08}");
    let sum: u32 = digits.bytes().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    Some(match 11 - (sum % 11) {
        10 => 0,
        11 => 5,
        c => c,
    })
}

/// Formats an S10 identifier; `None` when the parts are malformed.
pub fn format(prefix: &str, serial: i64, country: &str) -> Option<String> {
    let two_letters = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase());
    if !two_letters(prefix) || !two_letters(country) {
        return None;
    }
    let check = check_digit(serial)?;
    Some(format!("{prefix}{serial:08}{check}{country}"))
}

/// True when `id` is a well-formed S10 identifier with a correct check digit.
pub fn is_valid(id: &str) -> bool {
    let b = id.as_bytes();
    if b.len() != 13
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..11].iter().all(u8::is_ascii_digit)
        || !b[11..].iter().all(u8::is_ascii_uppercase)
    {
        return false;
    }
    let serial: i64 = id[2..10].parse().unwrap_or(-1);
    check_digit(serial) == Some(u32::from(b[10] - b'0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_valid_numbers() {
        // Published examples (the S10 sample `RR123456785GB`, Wikipedia's `AA473124829GB`)
        // and two computed by hand.
        for id in ["RR123456785GB", "AA473124829GB", "EE123456785CN", "LX000000005CN", "RA000000014CN"] {
            assert!(is_valid(id), "{id}");
        }
        assert_eq!(format("RR", 12_345_678, "GB").as_deref(), Some("RR123456785GB"));
        assert_eq!(format("AA", 47_312_482, "GB").as_deref(), Some("AA473124829GB"));
    }

    #[test]
    fn special_remainders() {
        // sum mod 11 == 1 → 10 → 0; sum mod 11 == 0 → 11 → 5.
        assert_eq!(check_digit(0), Some(5));
        let ten = (0..1000).find(|s| {
            let d = format!("{s:08}");
            d.bytes().zip(WEIGHTS).map(|(c, w)| u32::from(c - b'0') * w).sum::<u32>() % 11 == 1
        });
        assert_eq!(ten.and_then(check_digit), Some(0));
    }

    #[test]
    fn rejects_bad_ids() {
        assert!(!is_valid("RR123456784GB"), "wrong check digit");
        assert!(!is_valid("RR12345678GB"));
        assert!(!is_valid("rr123456785GB"));
        assert!(!is_valid("RR123456785G1"));
        assert_eq!(format("R", 1, "GB"), None);
        assert_eq!(format("RR", 100_000_000, "GB"), None);
        assert_eq!(format("RR", -1, "GB"), None);
    }
}
