//! Deterministic, realistic sample data shared by the fake marketplaces: recipients in
//! several countries whose names and addresses carry `'`, `&`, `"`, accents, CJK and
//! emoji (the characters seed 000's FAQ says broke the old upstream calls), SKUs and
//! titles. Fakes use it to build their own wire payloads.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};

pub struct Recipient {
    pub buyer: String,
    pub name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub state: Option<String>,
    pub postal_code: String,
    pub country: String,
    pub phone: String,
    pub email: String,
}

/// name, line1, line2, city, state, postal code, country
type Person =
    (&'static str, &'static str, Option<&'static str>, &'static str, Option<&'static str>, &'static str, &'static str);

const PEOPLE: &[Person] = &[
    ("Seán O'Brien", "12 O'Connell St", Some("Apt 4"), "Dublin", None, "D01 F5P2", "IE"),
    ("Ben & Jerry's Outlet", "30 Main St \"Rear\"", None, "Burlington", Some("VT"), "05401", "US"),
    ("José Álvarez Muñoz", "Calle de Alcalá 42, 3º Izq.", None, "Madrid", Some("Madrid"), "28014", "ES"),
    ("Zoë Müller-Lüdenscheidt", "Königsallee 1", Some("c/o Bäckerei Groß"), "Düsseldorf", Some("NRW"), "40212", "DE"),
    ("李小龙", "中山路 88号 3楼", None, "上海市", Some("上海"), "200000", "CN"),
    (
        "山田 太郎",
        "東京都千代田区丸の内1-9-1",
        Some("グラントウキョウ 5F"),
        "千代田区",
        Some("東京都"),
        "100-0005",
        "JP",
    ),
    ("Chloé D'Arcy", "5 Rue de l'Église", None, "Paris", None, "75004", "FR"),
    ("Mike <Mick> O'Neil 🚚", "221B Baker Street", None, "London", None, "NW1 6XE", "GB"),
    ("Łukasz Żółć", "ul. Świętokrzyska 31/33", None, "Warszawa", None, "00-049", "PL"),
    ("Olivia Smith", "1 Macquarie St", Some("Level 2"), "Sydney", Some("NSW"), "2000", "AU"),
    ("Renée Lévesque", "100 Rue Saint-Jacques", None, "Montréal", Some("QC"), "H2Y 1L6", "CA"),
    ("Giulia D'Angelo", "Via dell'Orso 7", None, "Roma", Some("RM"), "00186", "IT"),
];

const PRODUCTS: &[(&str, &str)] = &[
    ("PHONE-CASE-BLK", "Silicone phone case, black"),
    ("USB-C-CABLE-1M", "USB-C to USB-C cable 1 m"),
    ("LED-STRIP-5M", "LED strip 5 m RGB"),
    ("YOGA-MAT-PRP", "Yoga mat 6 mm, purple"),
    ("BT-EARBUDS-W", "Bluetooth earbuds, white"),
    ("KITCHEN-SCALE", "Digital kitchen scale 5 kg"),
    ("WATCH-BAND-22", "Watch band 22 mm, leather"),
    ("TEA-SET-CN", "Porcelain tea set 茶具 (6 pcs)"),
];

/// Sample orders are spread over the days before the fake started (within every
/// platform's download window), at whole hours so runs are easy to compare.
pub fn base_time() -> DateTime<Utc> {
    let start = Utc::now() - Duration::days(7);
    Utc.with_ymd_and_hms(start.year(), start.month(), start.day(), start.hour(), 0, 0).single().unwrap_or(start)
}

pub fn recipient(i: usize) -> Recipient {
    let p = PEOPLE[i % PEOPLE.len()];
    Recipient {
        buyer: format!("buyer_{i:05}"),
        name: p.0.to_owned(),
        line1: p.1.to_owned(),
        line2: p.2.map(str::to_owned),
        city: p.3.to_owned(),
        state: p.4.map(str::to_owned),
        postal_code: p.5.to_owned(),
        country: p.6.to_owned(),
        phone: format!("+1 555 {:04}", i % 10_000),
        email: format!("buyer{i}@example.com"),
    }
}

pub fn sku(i: usize) -> String {
    PRODUCTS[i % PRODUCTS.len()].0.to_owned()
}

pub fn title(i: usize) -> String {
    PRODUCTS[i % PRODUCTS.len()].1.to_owned()
}

// Small wire helpers the fakes share. They hold no provider rule: each fake decides
// its own shapes, encodings and errors.

/// Splits a seeded phone like `+1 555 0042` into the calling code without `+` and the
/// national number without spaces: `("1", "5550042")`.
pub fn phone_parts(phone: &str) -> (String, String) {
    let trimmed = phone.trim().trim_start_matches('+');
    let (cc, rest) = trimmed.split_once(' ').unwrap_or(("", trimmed));
    (cc.to_owned(), rest.chars().filter(|c| !c.is_whitespace()).collect())
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::fill(&mut b[..]);
    hex::encode(b)
}

/// `len` random characters from `[A-Za-z0-9]`.
pub fn random_alnum(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut b = vec![0u8; len];
    rand::fill(&mut b[..]);
    b.iter().map(|x| CHARS[usize::from(*x) % CHARS.len()] as char).collect()
}

/// Escapes text for an HTML attribute or body.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Appends query parameters to a redirect URI, with `&` when it already has a `?`.
pub fn append_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = uri.to_owned();
    let mut sep = if uri.ends_with('?') || uri.ends_with('&') {
        None
    } else if uri.contains('?') {
        Some('&')
    } else {
        Some('?')
    };
    for (k, v) in pairs {
        if let Some(c) = sep {
            out.push(c);
        }
        out.push_str(&url_encode(k));
        out.push('=');
        out.push_str(&url_encode(v));
        sep = Some('&');
    }
    out
}

/// Cents as a decimal string: `1234` → `"12.34"`.
pub fn cents(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}
