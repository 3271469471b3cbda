//! Pure checks for catalogue SKUs: the code, the customs declaration (申报信息) and the
//! picking info (配货信息). Every check trims its input and treats an empty string as
//! "not set"; failures are field-level [`UserError`]s at `at` + the field's input path,
//! so a form (or a spreadsheet row) can show every problem at once. Nothing here panics.

use entity::sku;

use crate::error::{UserError, UserErrorCode};

pub const MAX_CODE: usize = 100;
pub const MAX_NAME: usize = 500;
pub const MAX_DECL_NAME: usize = 200;
pub const MAX_PICKING_INFO: usize = 500;
pub const MAX_VALUE_MINOR: i64 = 100_000_000;
pub const MAX_WEIGHT_GRAMS: i32 = 1_000_000;

/// A SKU's customs declaration as given (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclarationInput {
    /// English declared name (printable ASCII: customs forms are printed in English).
    pub name_en: Option<String>,
    /// Chinese declared name.
    pub name_cn: Option<String>,
    /// Declared value per unit, in minor units of `currency`.
    pub value_minor: Option<i64>,
    /// ISO 4217 code; required when a value is given.
    pub currency: Option<String>,
    pub weight_grams: Option<i32>,
    /// 6-10 digits; dots and spaces are ignored (`6912.00` → `691200`).
    pub hs_code: Option<String>,
    /// ISO 3166-1 alpha-2 country of origin.
    pub origin_country: Option<String>,
}

/// A whole SKU as given to `create` or one row of `bulk_upsert`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkuInput {
    pub code: String,
    pub name: Option<String>,
    pub declaration: DeclarationInput,
    pub picking_info: Option<String>,
}

/// A partial update. For every field `None` leaves it unchanged; for the nullable ones
/// `Some(None)` — or `Some(Some(""))`, since empty means "not set" — clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkuPatch {
    pub code: Option<String>,
    pub name: Option<Option<String>>,
    pub decl_name_en: Option<Option<String>>,
    pub decl_name_cn: Option<Option<String>>,
    pub decl_value_minor: Option<Option<i64>>,
    pub decl_currency: Option<Option<String>>,
    pub weight_grams: Option<Option<i32>>,
    pub hs_code: Option<Option<String>>,
    pub origin_country: Option<Option<String>>,
    pub picking_info: Option<Option<String>>,
}

/// A checked, normalised SKU, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanSku {
    pub code: String,
    pub name: Option<String>,
    pub decl_name_en: Option<String>,
    pub decl_name_cn: Option<String>,
    pub decl_value_minor: Option<i64>,
    pub decl_currency: Option<String>,
    pub weight_grams: Option<i32>,
    pub hs_code: Option<String>,
    pub origin_country: Option<String>,
    pub picking_info: Option<String>,
}

/// The outcome of one field check: the normalised value, or (code, message).
pub type Check<T> = Result<T, (UserErrorCode, String)>;

fn invalid<T>(message: impl Into<String>) -> Check<T> {
    Err((UserErrorCode::Invalid, message.into()))
}

/// The SKU code: trimmed, 1-100 characters, no control characters.
pub fn code(raw: &str) -> Check<String> {
    let c = raw.trim();
    if c.is_empty() {
        return Err((UserErrorCode::Required, "Give the SKU code.".to_owned()));
    }
    if c.chars().count() > MAX_CODE {
        return invalid(format!("Must be at most {MAX_CODE} characters."));
    }
    if c.chars().any(char::is_control) {
        return invalid("Must not contain control characters.");
    }
    Ok(c.to_owned())
}

/// Optional free text: trimmed (empty = not set), at most `max` characters, no control
/// characters (line breaks and tabs allowed when `multiline`).
pub fn text(raw: Option<&str>, max: usize, multiline: bool) -> Check<Option<String>> {
    let Some(t) = raw.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    if t.chars().count() > max {
        return invalid(format!("Must be at most {max} characters."));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if t.chars().any(|c| c.is_control() && !allowed(c)) {
        return invalid("Must not contain control characters.");
    }
    Ok(Some(t.to_owned()))
}

fn is_cjk(c: char) -> bool {
    matches!(
        u32::from(c),
        0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF
    )
}

/// The English declared name: at most 200 printable ASCII characters.
pub fn name_en(raw: Option<&str>) -> Check<Option<String>> {
    let Some(n) = text(raw, MAX_DECL_NAME, false)? else { return Ok(None) };
    if n.chars().any(is_cjk) {
        return invalid(
            "Customs forms are printed in English: the English declared name must not contain Chinese \
             (or other CJK) characters; put the Chinese name in nameCn.",
        );
    }
    if !n.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return invalid("Customs forms are printed in English: use printable ASCII characters only.");
    }
    Ok(Some(n))
}

/// The declared value per unit, in minor units: 0 to 100,000,000.
pub fn value_minor(v: Option<i64>) -> Check<Option<i64>> {
    match v {
        Some(v) if v < 0 => invalid("The declared value must not be negative."),
        Some(v) if v > MAX_VALUE_MINOR => invalid(format!("The declared value must be at most {MAX_VALUE_MINOR}.")),
        other => Ok(other),
    }
}

/// Exactly `len` ASCII letters, upper-cased; empty = not set.
fn letters(raw: Option<&str>, len: usize) -> Option<Result<String, ()>> {
    let t = raw.map(str::trim).filter(|t| !t.is_empty())?;
    let ok = t.len() == len && t.bytes().all(|b| b.is_ascii_alphabetic());
    Some(if ok { Ok(t.to_ascii_uppercase()) } else { Err(()) })
}

/// An ISO 4217 currency code (three letters, upper-cased).
pub fn currency(raw: Option<&str>) -> Check<Option<String>> {
    match letters(raw, 3) {
        None => Ok(None),
        Some(Ok(c)) => Ok(Some(c)),
        Some(Err(())) => invalid("Use a three-letter ISO 4217 currency code (e.g. USD)."),
    }
}

/// An ISO 3166-1 alpha-2 country code (two letters, upper-cased).
pub fn country(raw: Option<&str>) -> Check<Option<String>> {
    match letters(raw, 2) {
        None => Ok(None),
        Some(Ok(c)) => Ok(Some(c)),
        Some(Err(())) => invalid("Use a two-letter ISO 3166 country code (e.g. CN)."),
    }
}

/// The unit weight: 1 to 1,000,000 grams.
pub fn weight_grams(v: Option<i32>) -> Check<Option<i32>> {
    match v {
        Some(w) if !(1..=MAX_WEIGHT_GRAMS).contains(&w) => {
            invalid(format!("The weight must be between 1 and {MAX_WEIGHT_GRAMS} grams."))
        }
        other => Ok(other),
    }
}

/// An HS code: dots and spaces removed, then 6 to 10 digits.
pub fn hs_code(raw: Option<&str>) -> Check<Option<String>> {
    let Some(t) = raw.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    let digits: String = t.chars().filter(|c| *c != '.' && !c.is_whitespace()).collect();
    if (6..=10).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Some(digits))
    } else {
        invalid("Use an HS code of 6 to 10 digits (dots and spaces are ignored).")
    }
}

/// Every field's outcome, assembled into one result by [`assemble`].
struct Checks {
    code: Check<String>,
    name: Check<Option<String>>,
    name_en: Check<Option<String>>,
    name_cn: Check<Option<String>>,
    value: Check<Option<i64>>,
    currency: Check<Option<String>>,
    weight: Check<Option<i32>>,
    hs_code: Check<Option<String>>,
    origin: Check<Option<String>>,
    picking_info: Check<Option<String>>,
}

fn path(at: &[String], rest: &[&str]) -> Vec<String> {
    at.iter().cloned().chain(rest.iter().map(|s| (*s).to_owned())).collect()
}

fn keep<T>(r: Check<T>, at: &[String], rest: &[&str], errors: &mut Vec<UserError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err((code, message)) => {
            errors.push(UserError { code, field: path(at, rest), message });
            None
        }
    }
}

fn assemble(c: Checks, at: &[String]) -> Result<CleanSku, Vec<UserError>> {
    let mut e = Vec::new();
    let code = keep(c.code, at, &["code"], &mut e);
    let name = keep(c.name, at, &["name"], &mut e);
    let name_en = keep(c.name_en, at, &["declaration", "nameEn"], &mut e);
    let name_cn = keep(c.name_cn, at, &["declaration", "nameCn"], &mut e);
    let value = keep(c.value, at, &["declaration", "valueMinor"], &mut e);
    let currency = keep(c.currency, at, &["declaration", "currency"], &mut e);
    let weight = keep(c.weight, at, &["declaration", "weightGrams"], &mut e);
    let hs_code = keep(c.hs_code, at, &["declaration", "hsCode"], &mut e);
    let origin = keep(c.origin, at, &["declaration", "originCountry"], &mut e);
    let picking_info = keep(c.picking_info, at, &["pickingInfo"], &mut e);
    if matches!(value, Some(Some(_))) && matches!(currency, Some(None)) {
        e.push(UserError {
            code: UserErrorCode::Required,
            field: path(at, &["declaration", "currency"]),
            message: "A declared value needs its currency (e.g. USD).".into(),
        });
    }
    match (code, name, name_en, name_cn, value, currency, weight, hs_code, origin, picking_info) {
        (
            Some(code),
            Some(name),
            Some(decl_name_en),
            Some(decl_name_cn),
            Some(decl_value_minor),
            Some(decl_currency),
            Some(weight_grams),
            Some(hs_code),
            Some(origin_country),
            Some(picking_info),
        ) if e.is_empty() => Ok(CleanSku {
            code,
            name,
            decl_name_en,
            decl_name_cn,
            decl_value_minor,
            decl_currency,
            weight_grams,
            hs_code,
            origin_country,
            picking_info,
        }),
        _ => Err(e),
    }
}

/// Checks a whole SKU; error paths are `at` + the field (e.g. `["input", "declaration", "hsCode"]`).
pub fn check_input(i: &SkuInput, at: &[String]) -> Result<CleanSku, Vec<UserError>> {
    let d = &i.declaration;
    assemble(
        Checks {
            code: code(&i.code),
            name: text(i.name.as_deref(), MAX_NAME, false),
            name_en: name_en(d.name_en.as_deref()),
            name_cn: text(d.name_cn.as_deref(), MAX_DECL_NAME, false),
            value: value_minor(d.value_minor),
            currency: currency(d.currency.as_deref()),
            weight: weight_grams(d.weight_grams),
            hs_code: hs_code(d.hs_code.as_deref()),
            origin: country(d.origin_country.as_deref()),
            picking_info: text(i.picking_info.as_deref(), MAX_PICKING_INFO, true),
        },
        at,
    )
}

/// Applies a patch to the stored SKU and checks the result. Only the fields the patch
/// touches are checked (stored values are kept as they are), plus the rule that a
/// declared value needs its currency, which is checked on the merged result.
pub fn check_patch(current: &sku::Model, p: &SkuPatch, at: &[String]) -> Result<CleanSku, Vec<UserError>> {
    fn or<T>(touched: Option<Check<T>>, current: T) -> Check<T> {
        touched.unwrap_or(Ok(current))
    }
    assemble(
        Checks {
            code: or(p.code.as_deref().map(code), current.code.clone()),
            name: or(p.name.as_ref().map(|v| text(v.as_deref(), MAX_NAME, false)), current.name.clone()),
            name_en: or(p.decl_name_en.as_ref().map(|v| name_en(v.as_deref())), current.decl_name_en.clone()),
            name_cn: or(
                p.decl_name_cn.as_ref().map(|v| text(v.as_deref(), MAX_DECL_NAME, false)),
                current.decl_name_cn.clone(),
            ),
            value: or(p.decl_value_minor.map(value_minor), current.decl_value_minor),
            currency: or(p.decl_currency.as_ref().map(|v| currency(v.as_deref())), current.decl_currency.clone()),
            weight: or(p.weight_grams.map(weight_grams), current.weight_grams),
            hs_code: or(p.hs_code.as_ref().map(|v| hs_code(v.as_deref())), current.hs_code.clone()),
            origin: or(p.origin_country.as_ref().map(|v| country(v.as_deref())), current.origin_country.clone()),
            picking_info: or(
                p.picking_info.as_ref().map(|v| text(v.as_deref(), MAX_PICKING_INFO, true)),
                current.picking_info.clone(),
            ),
        },
        at,
    )
}

/// True when the declaration has what every channel needs: English name, value, weight.
pub fn declaration_complete(s: &sku::Model) -> bool {
    s.decl_name_en.is_some() && s.decl_value_minor.is_some() && s.weight_grams.is_some()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use entity::enums::WarehouseSkuStatus;
    use uuid::Uuid;

    use super::*;

    fn at() -> Vec<String> {
        vec!["input".to_owned()]
    }

    fn full() -> SkuInput {
        SkuInput {
            code: "  MUG-01 ".into(),
            name: Some("Ceramic mug".into()),
            declaration: DeclarationInput {
                name_en: Some(" Ceramic mug ".into()),
                name_cn: Some("陶瓷杯".into()),
                value_minor: Some(500),
                currency: Some("usd".into()),
                weight_grams: Some(300),
                hs_code: Some("6912.00 10".into()),
                origin_country: Some("cn".into()),
            },
            picking_info: Some("Shelf A3\nblue box".into()),
        }
    }

    fn fields(r: Result<CleanSku, Vec<UserError>>) -> Vec<(UserErrorCode, String)> {
        r.err().unwrap_or_default().into_iter().map(|e| (e.code, e.field.join("."))).collect()
    }

    #[test]
    fn normalises_a_full_sku() {
        let c = check_input(&full(), &at()).ok();
        let c = c.as_ref();
        assert_eq!(c.map(|c| c.code.as_str()), Some("MUG-01"));
        assert_eq!(c.and_then(|c| c.decl_name_en.as_deref()), Some("Ceramic mug"));
        assert_eq!(c.and_then(|c| c.decl_currency.as_deref()), Some("USD"));
        assert_eq!(c.and_then(|c| c.hs_code.as_deref()), Some("69120010"));
        assert_eq!(c.and_then(|c| c.origin_country.as_deref()), Some("CN"));
        assert_eq!(c.and_then(|c| c.picking_info.as_deref()), Some("Shelf A3\nblue box"));
    }

    #[test]
    fn empty_strings_mean_not_set() {
        let i = SkuInput {
            code: "X".into(),
            name: Some("  ".into()),
            declaration: DeclarationInput {
                name_en: Some(String::new()),
                currency: Some(" ".into()),
                hs_code: Some("".into()),
                origin_country: Some(" ".into()),
                ..Default::default()
            },
            picking_info: Some(String::new()),
        };
        let c = check_input(&i, &at()).ok();
        assert!(c.is_some_and(|c| c.name.is_none()
            && c.decl_name_en.is_none()
            && c.decl_currency.is_none()
            && c.hs_code.is_none()
            && c.origin_country.is_none()
            && c.picking_info.is_none()));
    }

    #[test]
    fn codes() {
        assert_eq!(code(" A-1 "), Ok("A-1".to_owned()));
        assert!(matches!(code("   "), Err((UserErrorCode::Required, _))));
        assert!(code(&"x".repeat(101)).is_err());
        assert!(code(&"货".repeat(100)).is_ok());
        assert!(code("A\u{7}B").is_err());
    }

    #[test]
    fn english_names_are_printable_ascii() {
        assert!(name_en(Some("USB cable, 1m (black) & adapter #2")).is_ok());
        let cjk = name_en(Some("陶瓷杯 mug"));
        assert!(cjk.as_ref().is_err_and(|(_, m)| m.contains("Chinese")), "{cjk:?}");
        assert!(name_en(Some("Café")).is_err());
        assert!(name_en(Some("tab\there")).is_err());
        assert!(name_en(Some(&"a".repeat(201))).is_err());
        assert!(name_en(Some(&"a".repeat(200))).is_ok());
    }

    #[test]
    fn numbers() {
        assert_eq!(value_minor(Some(0)), Ok(Some(0)));
        assert!(value_minor(Some(-1)).is_err());
        assert!(value_minor(Some(MAX_VALUE_MINOR)).is_ok());
        assert!(value_minor(Some(MAX_VALUE_MINOR + 1)).is_err());
        assert!(weight_grams(Some(0)).is_err());
        assert!(weight_grams(Some(1)).is_ok());
        assert!(weight_grams(Some(MAX_WEIGHT_GRAMS)).is_ok());
        assert!(weight_grams(Some(MAX_WEIGHT_GRAMS + 1)).is_err());
    }

    #[test]
    fn codes_of_currencies_countries_and_hs() {
        assert_eq!(currency(Some(" eur ")), Ok(Some("EUR".to_owned())));
        for bad in ["US", "USDD", "U$D", "€UR", "12A"] {
            assert!(currency(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(country(Some("de")), Ok(Some("DE".to_owned())));
        for bad in ["D", "DEU", "D1", "中国"] {
            assert!(country(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(hs_code(Some("6912.00")), Ok(Some("691200".to_owned())));
        assert_eq!(hs_code(Some("8471 30 01 00")), Ok(Some("8471300100".to_owned())));
        for bad in ["12345", "12345678901", "6912.0A", "...", "69-12-00"] {
            assert!(hs_code(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn value_needs_currency_and_errors_carry_paths() {
        let mut i = full();
        i.declaration.currency = None;
        let want = vec![(UserErrorCode::Required, "input.declaration.currency".to_owned())];
        assert_eq!(fields(check_input(&i, &at())), want);
        let mut i = full();
        i.declaration.value_minor = Some(-5);
        i.declaration.name_en = Some("杯子".into());
        i.declaration.hs_code = Some("12".into());
        let row = vec!["input".to_owned(), "skus".to_owned(), "3".to_owned()];
        assert_eq!(
            fields(check_input(&i, &row)),
            vec![
                (UserErrorCode::Invalid, "input.skus.3.declaration.nameEn".to_owned()),
                (UserErrorCode::Invalid, "input.skus.3.declaration.valueMinor".to_owned()),
                (UserErrorCode::Invalid, "input.skus.3.declaration.hsCode".to_owned()),
            ]
        );
    }

    fn stored() -> sku::Model {
        let now = Utc::now();
        sku::Model {
            id: Uuid::nil(),
            organization_id: Uuid::nil(),
            code: "OLD".into(),
            // Synced from an order title: not re-checked unless the patch touches it.
            name: Some("x".repeat(600)),
            decl_name_en: Some("Mug".into()),
            decl_name_cn: None,
            decl_value_minor: Some(500),
            decl_currency: Some("USD".into()),
            weight_grams: Some(300),
            hs_code: None,
            origin_country: None,
            picking_info: None,
            warehouse_account_id: None,
            warehouse_sku_id: None,
            warehouse_seller_sku: None,
            warehouse_status: WarehouseSkuStatus::NotSubmitted,
            warehouse_synced_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn patches() {
        let s = stored();
        let p = SkuPatch { weight_grams: Some(Some(250)), hs_code: Some(Some("6912.00".into())), ..Default::default() };
        let c = check_patch(&s, &p, &at()).ok();
        assert!(c.as_ref().is_some_and(|c| c.weight_grams == Some(250) && c.hs_code.as_deref() == Some("691200")));
        assert!(c.as_ref().is_some_and(|c| c.code == "OLD" && c.decl_name_en.as_deref() == Some("Mug")));
        // Clearing: null or empty string.
        let p = SkuPatch { decl_name_en: Some(None), weight_grams: Some(None), ..Default::default() };
        assert!(check_patch(&s, &p, &at()).is_ok_and(|c| c.decl_name_en.is_none() && c.weight_grams.is_none()));
        let p = SkuPatch { decl_name_en: Some(Some(" ".into())), ..Default::default() };
        assert!(check_patch(&s, &p, &at()).is_ok_and(|c| c.decl_name_en.is_none()));
        // Clearing the currency while a value remains is refused; clearing both is fine.
        let p = SkuPatch { decl_currency: Some(None), ..Default::default() };
        let want = vec![(UserErrorCode::Required, "input.declaration.currency".to_owned())];
        assert_eq!(fields(check_patch(&s, &p, &at())), want);
        let p = SkuPatch { decl_currency: Some(None), decl_value_minor: Some(None), ..Default::default() };
        assert!(check_patch(&s, &p, &at()).is_ok());
        // A touched field is checked.
        let p = SkuPatch { code: Some(" ".into()), name: Some(Some("y".repeat(501))), ..Default::default() };
        assert_eq!(
            fields(check_patch(&s, &p, &at())),
            vec![(UserErrorCode::Required, "input.code".to_owned()), (UserErrorCode::Invalid, "input.name".to_owned())]
        );
    }

    #[test]
    fn completeness() {
        let mut s = stored();
        assert!(declaration_complete(&s));
        s.weight_grams = None;
        assert!(!declaration_complete(&s));
    }
}
