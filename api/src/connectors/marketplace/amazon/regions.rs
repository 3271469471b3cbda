//! SP-API selling regions and Amazon's marketplace → region table
//! (developer-docs.amazon.com/sp-api/docs/marketplace-ids and /sp-api-endpoints).

use serde::{Deserialize, Serialize};

/// A selling region: each has its own SP-API host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Region {
    #[serde(rename = "NA")]
    Na,
    #[serde(rename = "EU")]
    Eu,
    #[serde(rename = "FE")]
    Fe,
}

impl Region {
    pub const ALL: [Region; 3] = [Region::Na, Region::Eu, Region::Fe];

    /// `NA`, `EU`, `FE` (any case) or the AWS region of the host.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "NA" | "US-EAST-1" => Some(Self::Na),
            "EU" | "EU-WEST-1" => Some(Self::Eu),
            "FE" | "US-WEST-2" => Some(Self::Fe),
            _ => None,
        }
    }
}

/// (marketplace id, country code, region, currency). Ids and regions are Amazon's
/// marketplace-ids page; the currency (ISO 4217 of the country) is only a fallback for
/// an order that carries no amount at all.
const MARKETPLACES: &[(&str, &str, Region, &str)] = &[
    ("A2EUQ1WTGCTBG2", "CA", Region::Na, "CAD"),
    ("ATVPDKIKX0DER", "US", Region::Na, "USD"),
    ("A1AM78C64UM0Y8", "MX", Region::Na, "MXN"),
    ("A2Q3Y263D00KWC", "BR", Region::Na, "BRL"),
    ("A28R8C7NBKEWEA", "IE", Region::Eu, "EUR"),
    ("A1RKKUPIHCS9HS", "ES", Region::Eu, "EUR"),
    ("A1F83G8C2ARO7P", "UK", Region::Eu, "GBP"),
    ("A13V1IB3VIYZZH", "FR", Region::Eu, "EUR"),
    ("AMEN7PMS3EDWL", "BE", Region::Eu, "EUR"),
    ("A1805IZSGTT6HS", "NL", Region::Eu, "EUR"),
    ("A1PA6795UKMFR9", "DE", Region::Eu, "EUR"),
    ("APJ6JRA9NG5V4", "IT", Region::Eu, "EUR"),
    ("A2NODRKZP88ZB9", "SE", Region::Eu, "SEK"),
    ("AE08WJ6YKNBMC", "ZA", Region::Eu, "ZAR"),
    ("A1C3SOZRARQ6R3", "PL", Region::Eu, "PLN"),
    ("ARBP9OOSHTCHU", "EG", Region::Eu, "EGP"),
    ("A33AVAJ2PDY3EV", "TR", Region::Eu, "TRY"),
    ("A17E79C6D8DWNP", "SA", Region::Eu, "SAR"),
    ("A2VIGQ35RCS4UG", "AE", Region::Eu, "AED"),
    ("A21TJRUUN4KGV", "IN", Region::Eu, "INR"),
    ("A19VAU5U5O7RUS", "SG", Region::Fe, "SGD"),
    ("A39IBJ37TRP1C6", "AU", Region::Fe, "AUD"),
    ("A1VC38T7YXB528", "JP", Region::Fe, "JPY"),
];

/// The documented region of a marketplace; `None` for an id not in Amazon's table.
pub fn region_of(marketplace_id: &str) -> Option<Region> {
    MARKETPLACES.iter().find(|m| m.0 == marketplace_id.trim()).map(|m| m.2)
}

/// The marketplace's currency, for orders that carry no amount to read it from.
pub fn currency_of(marketplace_id: &str) -> Option<&'static str> {
    MARKETPLACES.iter().find(|m| m.0 == marketplace_id.trim()).map(|m| m.3)
}

/// Groups marketplaces by region, in the order NA, EU, FE, each list in its first-seen
/// order without duplicates. An id missing from Amazon's table (participations can name
/// non-retail marketplaces) is left out with a warning: sent to a region that does not
/// serve it, Amazon would refuse the whole query on every download.
pub fn group(marketplace_ids: &[String]) -> Vec<(Region, Vec<String>)> {
    let mut out: Vec<(Region, Vec<String>)> = Region::ALL.iter().map(|r| (*r, Vec::new())).collect();
    for id in marketplace_ids {
        let id = id.trim();
        if id.is_empty() {
            continue;
        }
        let Some(region) = region_of(id) else {
            tracing::warn!(marketplace = id, "not an Amazon marketplace id Shipgate knows; not downloaded");
            continue;
        };
        if let Some((_, ids)) = out.iter_mut().find(|(r, _)| *r == region)
            && !ids.iter().any(|x| x == id)
        {
            ids.push(id.to_owned());
        }
    }
    out.retain(|(_, ids)| !ids.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert_eq!(region_of("ATVPDKIKX0DER"), Some(Region::Na));
        assert_eq!(region_of("A2Q3Y263D00KWC"), Some(Region::Na));
        assert_eq!(region_of("A21TJRUUN4KGV"), Some(Region::Eu));
        assert_eq!(region_of("A2VIGQ35RCS4UG"), Some(Region::Eu));
        assert_eq!(region_of("A1VC38T7YXB528"), Some(Region::Fe));
        assert_eq!(region_of("NOPE"), None);
        assert_eq!(currency_of("A1VC38T7YXB528"), Some("JPY"));
        assert_eq!(Region::parse("eu"), Some(Region::Eu));
        assert_eq!(Region::parse("us-west-2"), Some(Region::Fe));
        assert_eq!(Region::parse("xx"), None);
    }

    #[test]
    fn grouping() {
        let ids: Vec<String> =
            ["A1PA6795UKMFR9", "ATVPDKIKX0DER", "A1VC38T7YXB528", "A2EUQ1WTGCTBG2", "A1PA6795UKMFR9", "UNKNOWN1", " "]
                .into_iter()
                .map(String::from)
                .collect();
        let g = group(&ids);
        assert_eq!(
            g,
            vec![
                (Region::Na, vec!["ATVPDKIKX0DER".to_owned(), "A2EUQ1WTGCTBG2".to_owned()]),
                (Region::Eu, vec!["A1PA6795UKMFR9".to_owned()]),
                (Region::Fe, vec!["A1VC38T7YXB528".to_owned()]),
            ]
        );
        assert!(group(&[]).is_empty());
    }
}
