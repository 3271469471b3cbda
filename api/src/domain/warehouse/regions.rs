//! OrangeConnex's region codes and ISO countries: the ONE mapping between them.
//!
//! OC names its fulfilment regions with its own codes (`serviceRegion`), used alike by SKU
//! creation (`serviceRegionList`), getServiceList, stockSnapshot, placeOutboundOrder and
//! inboundOrderCreation: `UK, DE, AU, AU-MEL, US-East, US-South, US-West` (getServiceList's
//! saved answer and the StockSnapshot v2 sample in OC's Postman collection,
//! `oocco2019/evamp-ops:docs/OC reference/OC openAPI-Stage.postman_collection.json`). `GB` is
//! not one of them (OC refuses it), and plain `US` matches nothing.
//!
//! Everything sent to OC uses OC's code; the GraphQL API takes OC's code, or an ISO country
//! with exactly one OC region (`GB` → `UK`); channels made from OC services reach ISO
//! countries (`UK` → `GB`).

/// (OC region code, ISO 3166-1 alpha-2 country of the warehouse).
pub const OC_REGIONS: [(&str, &str); 7] = [
    ("UK", "GB"),
    ("DE", "DE"),
    ("AU", "AU"),
    ("AU-MEL", "AU"),
    ("US-East", "US"),
    ("US-South", "US"),
    ("US-West", "US"),
];

/// OC's region codes, in OC's spelling.
pub fn codes() -> impl Iterator<Item = &'static str> {
    OC_REGIONS.iter().map(|(c, _)| *c)
}

/// OC's code for `input`: an OC code in any letter case (`uk`, `us-east`), or an ISO country
/// that has exactly one OC region (`GB` → `UK`). `None` for anything else, including a
/// country with several regions (`US`).
pub fn oc_region(input: &str) -> Option<&'static str> {
    let s = input.trim();
    if let Some((code, _)) = OC_REGIONS.iter().find(|(c, _)| c.eq_ignore_ascii_case(s)) {
        return Some(code);
    }
    let mut of_country = OC_REGIONS.iter().filter(|(_, cc)| cc.eq_ignore_ascii_case(s));
    match (of_country.next(), of_country.next()) {
        (Some((code, _)), None) => Some(code),
        _ => None,
    }
}

/// The ISO country of an OC region (`UK` → `GB`, `AU-MEL` → `AU`); also accepts what
/// [`oc_region`] accepts (`GB` → `GB`). `None` for an unknown code.
pub fn country_of(region: &str) -> Option<&'static str> {
    let s = region.trim();
    OC_REGIONS
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(s))
        .or_else(|| OC_REGIONS.iter().find(|(_, cc)| cc.eq_ignore_ascii_case(s)))
        .map(|(_, cc)| *cc)
}

/// The OC regions in a country (`US` → US-East, US-South, US-West); empty for none.
pub fn regions_of_country(country: &str) -> Vec<&'static str> {
    let s = country.trim();
    OC_REGIONS.iter().filter(|(_, cc)| cc.eq_ignore_ascii_case(s)).map(|(c, _)| *c).collect()
}

/// What a filter on a region matches: OC codes for an OC code or a country (`US` → the three
/// US regions); the input itself (upper-cased) when it is neither.
pub fn filter_codes(input: &str) -> Vec<String> {
    if let Some(code) = oc_region(input) {
        return vec![code.to_owned()];
    }
    let of_country = regions_of_country(input);
    if of_country.is_empty() {
        vec![input.trim().to_owned()]
    } else {
        of_country.into_iter().map(str::to_owned).collect()
    }
}

/// A region OC sent us, in OC's spelling when we know it (`uk` → `UK`; a legacy `GB` →
/// `UK`); otherwise as sent.
pub fn normalise(region: &str) -> String {
    oc_region(region).map_or_else(|| region.trim().to_owned(), str::to_owned)
}

/// The region an outbound order is placed in: the service's region (the warehouse that
/// ships it, whatever the destination); when the channel does not name a usable one
/// (channels synced before regions were OC's codes), the only OC region of the destination
/// country. `None` when neither settles it.
pub fn outbound_region(service_region: Option<&str>, destination_country: &str) -> Option<&'static str> {
    service_region.and_then(oc_region).or_else(|| oc_region(destination_country))
}

/// Parses regions given by a user (OC codes, or unambiguous countries): OC codes without
/// duplicates, in input order; or the first input that names no single OC region.
pub fn parse_list(inputs: &[String]) -> Result<Vec<&'static str>, String> {
    let mut out: Vec<&'static str> = Vec::new();
    for r in inputs {
        let code = oc_region(r).ok_or_else(|| r.trim().to_owned())?;
        if !out.contains(&code) {
            out.push(code);
        }
    }
    Ok(out)
}

/// "UK, DE, AU, AU-MEL, US-East, US-South, US-West" (for messages and docs).
pub fn listing() -> String {
    codes().collect::<Vec<_>>().join(", ")
}

/// Why `input` is not a region, for a user error.
pub fn unknown_message(input: &str) -> String {
    let of_country = regions_of_country(input);
    if of_country.len() > 1 {
        format!("{:?} has several OrangeConnex regions; name one of {}.", input.trim(), of_country.join(", "))
    } else {
        format!("Unknown OrangeConnex region {:?}; use one of {} (GB stands for UK).", input.trim(), listing())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oc_codes_and_countries() {
        assert_eq!(oc_region("UK"), Some("UK"));
        assert_eq!(oc_region("uk"), Some("UK"));
        assert_eq!(oc_region("GB"), Some("UK"));
        assert_eq!(oc_region(" gb "), Some("UK"));
        assert_eq!(oc_region("DE"), Some("DE"));
        assert_eq!(oc_region("AU"), Some("AU"));
        assert_eq!(oc_region("AU-MEL"), Some("AU-MEL"));
        assert_eq!(oc_region("us-east"), Some("US-East"));
        assert_eq!(oc_region("US-West"), Some("US-West"));
        // A country with several regions, or none, is not a region.
        assert_eq!(oc_region("US"), None);
        assert_eq!(oc_region("FR"), None);
        assert_eq!(oc_region(""), None);
    }

    #[test]
    fn countries_of_regions() {
        assert_eq!(country_of("UK"), Some("GB"));
        assert_eq!(country_of("GB"), Some("GB"));
        assert_eq!(country_of("DE"), Some("DE"));
        assert_eq!(country_of("AU-MEL"), Some("AU"));
        assert_eq!(country_of("AU"), Some("AU"));
        assert_eq!(country_of("US-South"), Some("US"));
        assert_eq!(country_of("XX"), None);
        assert_eq!(regions_of_country("US"), vec!["US-East", "US-South", "US-West"]);
        assert_eq!(regions_of_country("au"), vec!["AU", "AU-MEL"]);
        assert_eq!(regions_of_country("GB"), vec!["UK"]);
        assert!(regions_of_country("FR").is_empty());
        // Every region maps to a country and back to itself.
        for (code, cc) in OC_REGIONS {
            assert_eq!(country_of(code), Some(cc));
            assert!(regions_of_country(cc).contains(&code));
            assert_eq!(oc_region(code), Some(code));
        }
    }

    #[test]
    fn parsing_filters_and_outbound() {
        assert_eq!(parse_list(&["GB".into(), "UK".into(), "de".into()]), Ok(vec!["UK", "DE"]));
        assert_eq!(parse_list(&["US".into()]), Err("US".into()));
        assert_eq!(filter_codes("GB"), vec!["UK"]);
        assert_eq!(filter_codes("US"), vec!["US-East", "US-South", "US-West"]);
        assert_eq!(filter_codes("ZZ"), vec!["ZZ"]);
        assert_eq!(normalise("GB"), "UK");
        assert_eq!(normalise("us-west"), "US-West");
        assert_eq!(normalise("Mars"), "Mars");
        // The service's region wins; a legacy country-coded channel still maps.
        assert_eq!(outbound_region(Some("UK"), "DE"), Some("UK"));
        assert_eq!(outbound_region(Some("GB"), "GB"), Some("UK"));
        assert_eq!(outbound_region(Some("US-East"), "US"), Some("US-East"));
        assert_eq!(outbound_region(None, "GB"), Some("UK"));
        assert_eq!(outbound_region(Some("US"), "US"), None);
        assert!(unknown_message("US").contains("US-East"));
        assert!(unknown_message("GBR").contains("UK, DE"));
    }
}
