//! What a waybill sends to the carrier: recipient, parcel and declaration lines, frozen
//! at push time (or as the user edited it). Built from the order and its catalogue SKUs,
//! normalised per the channel's address policy (the original is kept beside it), and
//! checked against the channel's rules before any provider call. Pure: no I/O.

use entity::{channel, enums::AddressPolicy, order, order_item, sku};
use serde::{Deserialize, Serialize};

use crate::{
    domain::channels::{self, RequiredField},
    error::{UserError, UserErrorCode},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub name: String,
    pub company: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: String,
}

/// One declaration line: a catalogue SKU (when the order line has one) and its customs data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub sku_code: Option<String>,
    /// The order line's own title/seller SKU, to name a line that has no catalogue SKU.
    pub platform_sku: Option<String>,
    pub quantity: i32,
    pub name_en: Option<String>,
    pub name_cn: Option<String>,
    /// Declared value per unit, minor units.
    pub unit_value_minor: Option<i64>,
    pub currency: Option<String>,
    /// Weight per unit, grams.
    pub unit_weight_grams: Option<i32>,
    pub hs_code: Option<String>,
    pub origin_country: Option<String>,
    /// 配货信息: printed on the label for the packer.
    pub picking_info: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub recipient: Recipient,
    pub lines: Vec<Line>,
    /// The recipient as the marketplace sent it, when the channel's policy changed it.
    pub original_recipient: Option<Recipient>,
    /// Which recipient fields the policy changed (e.g. `line1`).
    #[serde(default)]
    pub normalised_fields: Vec<String>,
    /// A user edited the recipient (`updateWaybill`): later pushes keep it.
    #[serde(default)]
    pub recipient_edited: bool,
    /// A user edited the declaration lines: later pushes keep them.
    #[serde(default)]
    pub lines_edited: bool,
}

impl Snapshot {
    /// Keeps what a user edited on a previous snapshot of the same order; the rest stays
    /// as freshly built.
    pub fn apply_edits(&mut self, prev: Snapshot) {
        if prev.recipient_edited {
            // The recipient as the user typed it (before any policy normalisation).
            self.recipient = prev.original_recipient.unwrap_or(prev.recipient);
            self.recipient_edited = true;
        }
        if prev.lines_edited {
            self.lines = prev.lines;
            self.lines_edited = true;
        }
    }

    pub fn weight_grams(&self) -> i64 {
        self.lines.iter().map(|l| i64::from(l.unit_weight_grams.unwrap_or(0)) * i64::from(l.quantity)).sum()
    }
    pub fn value_minor(&self) -> i64 {
        self.lines
            .iter()
            .map(|l| l.unit_value_minor.unwrap_or(0).saturating_mul(i64::from(l.quantity)))
            .fold(0i64, i64::saturating_add)
    }
    pub fn currency(&self) -> Option<&str> {
        self.lines.iter().find_map(|l| l.currency.as_deref())
    }
}

pub fn recipient_of(o: &order::Model) -> Recipient {
    Recipient {
        name: o.recipient_name.clone(),
        company: o.recipient_company.clone(),
        phone: o.recipient_phone.clone(),
        email: o.recipient_email.clone(),
        line1: o.address_line1.clone(),
        line2: o.address_line2.clone(),
        city: o.city.clone(),
        state: o.state.clone(),
        postal_code: o.postal_code.clone(),
        country_code: o.country_code.clone(),
    }
}

/// The snapshot of an order as it stands: recipient and one line per order line.
pub fn build(o: &order::Model, items: &[(&order_item::Model, Option<&sku::Model>)]) -> Snapshot {
    let lines = items
        .iter()
        .map(|(item, sku)| match sku {
            Some(s) => Line {
                sku_code: Some(s.code.clone()),
                platform_sku: item.platform_sku.clone(),
                quantity: item.quantity,
                name_en: s.decl_name_en.clone(),
                name_cn: s.decl_name_cn.clone(),
                unit_value_minor: s.decl_value_minor,
                currency: s.decl_currency.clone(),
                unit_weight_grams: s.weight_grams,
                hs_code: s.hs_code.clone(),
                origin_country: s.origin_country.clone(),
                picking_info: s.picking_info.clone(),
            },
            None => Line {
                platform_sku: item.platform_sku.clone().or_else(|| item.title.clone()),
                quantity: item.quantity,
                ..Line::default()
            },
        })
        .collect();
    Snapshot { recipient: recipient_of(o), lines, ..Snapshot::default() }
}

/// Applies the channel's address policy. LATIN_ONLY carriers get a transliterated copy
/// (`'`, `&` and other ASCII are kept as they are: they are data, not a problem to
/// remove); the original is kept in `original_recipient` and the changed fields listed.
pub fn normalise(mut s: Snapshot, policy: AddressPolicy) -> Snapshot {
    if policy != AddressPolicy::LatinOnly {
        return s;
    }
    let original = s.original_recipient.clone().unwrap_or_else(|| s.recipient.clone());
    let mut changed = Vec::new();
    let mut fix = |name: &str, v: &mut String| {
        if !v.is_ascii() {
            let t = latin(v);
            if t != *v {
                *v = t;
                changed.push(name.to_owned());
            }
        }
    };
    let r = &mut s.recipient;
    fix("name", &mut r.name);
    fix("line1", &mut r.line1);
    for (name, v) in [
        ("company", &mut r.company),
        ("line2", &mut r.line2),
        ("city", &mut r.city),
        ("state", &mut r.state),
        ("postalCode", &mut r.postal_code),
    ] {
        if let Some(v) = v.as_mut() {
            fix(name, v);
        }
    }
    if !changed.is_empty() {
        s.original_recipient = Some(original);
        s.normalised_fields = changed;
    }
    s
}

/// Transliterates to printable ASCII (e.g. `Müller` → `Muller`, `中山路` → `Zhong Shan Lu`);
/// characters with no transliteration (emoji) are dropped, whitespace collapsed.
pub fn latin(s: &str) -> String {
    // Pictographs would become words ("gift"); they carry no address information.
    let kept: String = s
        .chars()
        .filter(|c| {
            let u = u32::from(*c);
            !(u >= 0x1F000 || (0x2600..=0x27BF).contains(&u) || u == 0xFE0F || u == 0x200D)
        })
        .collect();
    let t = deunicode::deunicode_with_tofu(&kept, "");
    let mut out = String::with_capacity(t.len());
    for word in t.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.chars().filter(|c| !c.is_control()).collect()
}

fn blank(v: &Option<String>) -> bool {
    v.as_deref().is_none_or(|s| s.trim().is_empty())
}

fn e(code: UserErrorCode, message: String) -> UserError {
    UserError::new(code, &["input", "orderIds"], message)
}

fn line_name(l: &Line, i: usize) -> String {
    l.sku_code.clone().or_else(|| l.platform_sku.clone()).unwrap_or_else(|| format!("line {}", i + 1))
}

/// The FAQ's push checks, before any provider call. Every problem is reported (each with
/// its code) so the operator fixes them in one go; an empty list means the snapshot may
/// be sent.
pub fn check(s: &Snapshot, c: &channel::Model) -> Vec<UserError> {
    let mut out = Vec::new();
    if !c.active {
        out.push(e(UserErrorCode::ChannelUnavailable, format!("Channel {} is inactive; choose another.", c.code)));
    }
    let r = &s.recipient;
    let dest = channels::destinations(c);
    if !dest.is_empty() && !dest.contains(&r.country_code) {
        out.push(e(
            UserErrorCode::DestinationNotServed,
            format!("Channel {} does not ship to {}; choose another channel.", c.code, r.country_code),
        ));
    }
    let mut missing_addr: Vec<&str> = Vec::new();
    if r.name.trim().is_empty() {
        missing_addr.push("recipient name");
    }
    if r.line1.trim().is_empty() {
        missing_addr.push("address line 1");
    }
    if blank(&r.city) {
        missing_addr.push("city");
    }
    if r.country_code.len() != 2 {
        missing_addr.push("country");
    }
    let required = channels::required_fields(c);
    for (f, v) in [
        (RequiredField::RecipientPhone, &r.phone),
        (RequiredField::RecipientEmail, &r.email),
        (RequiredField::RecipientPostalCode, &r.postal_code),
        (RequiredField::RecipientState, &r.state),
    ] {
        if required.contains(&f) && blank(v) {
            missing_addr.push(f.label());
        }
    }
    if !missing_addr.is_empty() {
        out.push(e(
            UserErrorCode::AddressIncomplete,
            format!("The address lacks: {} (required by {}).", missing_addr.join(", "), c.code),
        ));
    }
    if s.lines.is_empty() {
        out.push(e(UserErrorCode::DeclarationMissing, "The order has no lines to declare.".into()));
    }
    for (i, l) in s.lines.iter().enumerate() {
        let name = line_name(l, i);
        let has_any = !blank(&l.name_en) || !blank(&l.name_cn) || l.unit_value_minor.is_some();
        if l.sku_code.is_none() && !has_any {
            out.push(e(
                UserErrorCode::DeclarationMissing,
                format!("Line {name} has no catalogue SKU, so no declaration; fix the line's SKU or sync SKUs."),
            ));
            continue;
        }
        if !has_any {
            out.push(e(UserErrorCode::DeclarationMissing, format!("SKU {name} has no declaration (无申报信息).")));
            continue;
        }
        if blank(&l.name_en) {
            out.push(e(
                UserErrorCode::DeclarationNameEnMissing,
                format!("SKU {name} has no English declared name (申报英文名为空)."),
            ));
        }
        let mut missing: Vec<&str> = Vec::new();
        if l.unit_value_minor.is_none() || blank(&l.currency) {
            missing.push("declared value");
        }
        if l.unit_weight_grams.is_none() {
            missing.push("weight");
        }
        for (f, v) in [
            (RequiredField::DeclarationNameCn, &l.name_cn),
            (RequiredField::HsCode, &l.hs_code),
            (RequiredField::OriginCountry, &l.origin_country),
        ] {
            if required.contains(&f) && blank(v) {
                missing.push(f.label());
            }
        }
        if !missing.is_empty() {
            out.push(e(
                UserErrorCode::DeclarationFieldMissing,
                format!("SKU {name} lacks: {} (required by {}).", missing.join(", "), c.code),
            ));
        }
    }
    let currencies: std::collections::BTreeSet<&str> = s.lines.iter().filter_map(|l| l.currency.as_deref()).collect();
    if currencies.len() > 1 {
        out.push(e(
            UserErrorCode::DeclarationFieldMissing,
            format!("Declared values mix currencies ({}); declare every line in one.", join(&currencies)),
        ));
    }
    if let Some(max) = c.max_weight_grams {
        let w = s.weight_grams();
        if w > i64::from(max) {
            out.push(e(
                UserErrorCode::WeightLimitExceeded,
                format!("The parcel weighs {w} g; channel {} takes at most {max} g.", c.code),
            ));
        }
    }
    if let (Some(max), Some(cur)) = (c.max_value_minor, c.value_currency.as_deref()) {
        let v = s.value_minor();
        match s.currency() {
            Some(pc) if pc == cur && v > max => out.push(e(
                UserErrorCode::ValueLimitExceeded,
                format!(
                    "Declared value {} {cur} is above channel {}'s limit of {} {cur}.",
                    minor(v),
                    c.code,
                    minor(max)
                ),
            )),
            Some(pc) if pc != cur && currencies.len() == 1 => out.push(e(
                UserErrorCode::ValueLimitExceeded,
                format!("Channel {} limits declared value in {cur}; the declaration is in {pc}.", c.code),
            )),
            _ => {}
        }
    }
    out
}

fn join(set: &std::collections::BTreeSet<&str>) -> String {
    set.iter().copied().collect::<Vec<_>>().join(", ")
}

fn minor(v: i64) -> String {
    format!("{}.{:02}", v / 100, (v % 100).abs())
}

/// The carrier's own acceptance check for a NETWORK channel (what the carrier's system
/// would refuse): address lines longer than its label allows, or non-Latin text on a
/// Latin-only carrier (possible only when an edited snapshot reintroduced it).
pub fn carrier_refusal(s: &Snapshot, c: &channel::Model) -> Option<String> {
    let r = &s.recipient;
    let fields = [
        ("name", Some(&r.name)),
        ("company", r.company.as_ref()),
        ("address line 1", Some(&r.line1)),
        ("address line 2", r.line2.as_ref()),
        ("city", r.city.as_ref()),
        ("state", r.state.as_ref()),
    ];
    if let Some(max) = c.address_line_max.and_then(|m| usize::try_from(m).ok()) {
        for (name, v) in fields {
            if let Some(v) = v
                && v.chars().count() > max
            {
                return Some(format!(
                    "Carrier refused the forecast: {name} is {} characters, the label takes at most {max}; \
                     edit the unconfirmed waybill and push again.",
                    v.chars().count()
                ));
            }
        }
    }
    if c.address_policy == AddressPolicy::LatinOnly {
        for (name, v) in fields {
            if v.is_some_and(|v| !v.is_ascii()) {
                return Some(format!("Carrier refused the forecast: {name} has characters outside Latin."));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use entity::enums::{ChannelProvider, TrackingSource};
    use uuid::Uuid;

    fn channel(dest: &[&str]) -> channel::Model {
        channel::Model {
            id: Uuid::nil(),
            organization_id: None,
            code: "CH".into(),
            name: "Ch".into(),
            provider: ChannelProvider::Network,
            destination_countries: serde_json::json!(dest),
            max_weight_grams: Some(2000),
            max_value_minor: Some(10_000),
            value_currency: Some("USD".into()),
            required_fields: serde_json::json!(["RECIPIENT_POSTAL_CODE"]),
            address_policy: AddressPolicy::AsIs,
            tracking_source: TrackingSource::Range,
            tracking_prefix: Some("RR".into()),
            tracking_suffix: Some("CN".into()),
            range_start: Some(0),
            range_end: Some(10),
            range_next: Some(0),
            service_code: None,
            region: None,
            warehouse_account_id: None,
            active: true,
            address_line_max: Some(35),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn snapshot() -> Snapshot {
        Snapshot {
            recipient: Recipient {
                name: "Seán O'Brien".into(),
                line1: "12 O'Connell St".into(),
                city: Some("Dublin".into()),
                postal_code: Some("D01 F5P2".into()),
                country_code: "IE".into(),
                ..Recipient::default()
            },
            lines: vec![Line {
                sku_code: Some("MUG-1".into()),
                quantity: 2,
                name_en: Some("Ceramic mug".into()),
                unit_value_minor: Some(1_500),
                currency: Some("USD".into()),
                unit_weight_grams: Some(400),
                ..Line::default()
            }],
            ..Snapshot::default()
        }
    }

    fn codes(v: &[UserError]) -> Vec<UserErrorCode> {
        v.iter().map(|e| e.code).collect()
    }

    #[test]
    fn valid_snapshot_passes() {
        assert!(check(&snapshot(), &channel(&[])).is_empty());
        assert!(check(&snapshot(), &channel(&["IE", "GB"])).is_empty());
    }

    #[test]
    fn faq_errors_have_codes() {
        assert_eq!(codes(&check(&snapshot(), &channel(&["US"]))), [UserErrorCode::DestinationNotServed]);
        let mut s = snapshot();
        s.lines[0].name_en = None;
        let errs = check(&s, &channel(&[]));
        assert_eq!(codes(&errs), [UserErrorCode::DeclarationNameEnMissing]);
        assert!(errs[0].message.contains("MUG-1"), "names the SKU");
        let mut s = snapshot();
        s.lines[0] = Line { sku_code: Some("MUG-1".into()), quantity: 1, ..Line::default() };
        assert_eq!(codes(&check(&s, &channel(&[]))), [UserErrorCode::DeclarationMissing]);
        let mut s = snapshot();
        s.lines[0] = Line { platform_sku: Some("SELLER-1".into()), quantity: 1, ..Line::default() };
        assert_eq!(codes(&check(&s, &channel(&[]))), [UserErrorCode::DeclarationMissing]);
        // A line declared by hand (manual or edited waybill) needs no catalogue SKU.
        let mut s = snapshot();
        s.lines[0].sku_code = None;
        assert!(check(&s, &channel(&[])).is_empty());
        let mut s = snapshot();
        s.lines[0].quantity = 7;
        assert_eq!(
            codes(&check(&s, &channel(&[]))),
            [UserErrorCode::WeightLimitExceeded, UserErrorCode::ValueLimitExceeded]
        );
        let mut s = snapshot();
        s.recipient.postal_code = None;
        s.recipient.city = Some(" ".into());
        let errs = check(&s, &channel(&[]));
        assert_eq!(codes(&errs), [UserErrorCode::AddressIncomplete]);
        assert!(errs[0].message.contains("city") && errs[0].message.contains("postal code"));
        let mut c = channel(&[]);
        c.active = false;
        assert_eq!(codes(&check(&snapshot(), &c)), [UserErrorCode::ChannelUnavailable]);
    }

    #[test]
    fn latin_only_keeps_the_original() {
        let mut s = snapshot();
        s.recipient.name = "Zoë Müller 🎁".into();
        s.recipient.line1 = "中山路 88号".into();
        let n = normalise(s.clone(), AddressPolicy::LatinOnly);
        assert!(n.recipient.name.is_ascii() && n.recipient.line1.is_ascii());
        assert_eq!(n.recipient.name, "Zoe Muller");
        assert_eq!(n.original_recipient.as_ref().map(|r| r.line1.as_str()), Some("中山路 88号"));
        assert_eq!(n.normalised_fields, ["name", "line1"]);
        // AS_IS sends exactly what was stored, quotes and all.
        let same = normalise(s.clone(), AddressPolicy::AsIs);
        assert_eq!(same, s);
        // Plain ASCII with `'` and `&` is not touched even on Latin-only channels.
        let ascii = normalise(snapshot(), AddressPolicy::LatinOnly);
        assert_eq!(ascii.recipient.name, "Seán O'Brien".replace('á', "a"));
    }

    #[test]
    fn carrier_refuses_long_lines() {
        let mut s = snapshot();
        assert_eq!(carrier_refusal(&s, &channel(&[])), None);
        s.recipient.line1 = "x".repeat(36);
        assert!(carrier_refusal(&s, &channel(&[])).is_some_and(|m| m.contains("36 characters")));
    }
}
