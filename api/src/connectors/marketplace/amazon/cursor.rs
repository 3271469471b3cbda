//! The opaque download cursor: a small JSON naming the region being read, the exact
//! `searchOrders` query sent first (Amazon wants every parameter repeated with the
//! `paginationToken`), the token, and the regions still to read.

use serde::{Deserialize, Serialize};

use super::regions::Region;

/// Max `marketplaceIds` per `searchOrders` call (orders_2026-01-01.json `maxItems: 50`).
pub const MAX_MARKETPLACES: usize = 50;
/// `maxResultsPerPage`: "between 1 and 100. Default: 100" (orders_2026-01-01.json).
pub const PAGE_SIZE: u32 = 100;
/// Datasets asked of `searchOrders` (order items are always returned): the address, the
/// buyer, the fulfillment status, the totals and the buyer cancellation requests.
pub const INCLUDED_DATA: [&str; 5] = ["RECIPIENT", "BUYER", "FULFILLMENT", "PROCEEDS", "CANCELLATION"];

const VERSION: u8 = 1;

/// The query parameters of the first `searchOrders` request of a region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Query {
    pub marketplace_ids: Vec<String>,
    pub last_updated_after: String,
    pub included_data: Vec<String>,
    pub max_results_per_page: u32,
}

impl Query {
    pub fn new(marketplace_ids: Vec<String>, last_updated_after: &str) -> Self {
        Self {
            marketplace_ids,
            last_updated_after: last_updated_after.to_owned(),
            included_data: INCLUDED_DATA.iter().map(|s| (*s).to_owned()).collect(),
            max_results_per_page: PAGE_SIZE,
        }
    }

    /// The query string, arrays comma-separated (Swagger 2.0 default `collectionFormat`
    /// `csv`; the model sets none).
    pub fn params(&self, pagination_token: Option<&str>) -> Vec<(&'static str, String)> {
        let mut q = vec![
            ("marketplaceIds", self.marketplace_ids.join(",")),
            ("lastUpdatedAfter", self.last_updated_after.clone()),
            ("maxResultsPerPage", self.max_results_per_page.to_string()),
            ("includedData", self.included_data.join(",")),
        ];
        if let Some(t) = pagination_token {
            q.push(("paginationToken", t.to_owned()));
        }
        q
    }
}

/// A region still to read, with the marketplaces to ask for there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Leg {
    pub region: Region,
    pub marketplace_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cursor {
    pub v: u8,
    pub region: Region,
    pub query: Query,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination_token: Option<String>,
    /// This region was already read again once after Amazon refused a token: a second
    /// refusal fails the download instead of looping.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restarted: bool,
    #[serde(default)]
    pub then: Vec<Leg>,
}

impl Cursor {
    /// The start of a download: the first leg with a fresh query; `None` when there is
    /// nothing to read.
    pub fn start(legs: Vec<Leg>, last_updated_after: &str) -> Option<Self> {
        let mut legs = legs.into_iter();
        let first = legs.next()?;
        Some(Self {
            v: VERSION,
            region: first.region,
            query: Query::new(first.marketplace_ids, last_updated_after),
            pagination_token: None,
            restarted: false,
            then: legs.collect(),
        })
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// `None` for anything this version did not write (e.g. a v0 `NextToken` left over).
    pub fn decode(s: &str) -> Option<Self> {
        serde_json::from_str::<Self>(s).ok().filter(|c| c.v == VERSION && !c.query.marketplace_ids.is_empty())
    }

    /// Where to go after a page: the same query with Amazon's `nextToken`, else the next
    /// region with a fresh query (same `lastUpdatedAfter`), else the end.
    pub fn after(&self, next_token: Option<String>) -> Option<Self> {
        if let Some(t) = next_token.filter(|t| !t.is_empty()) {
            return Some(Self { pagination_token: Some(t), ..self.clone() });
        }
        let mut rest = self.then.clone().into_iter();
        let leg = rest.next()?;
        Some(Self {
            v: VERSION,
            region: leg.region,
            query: Query { marketplace_ids: leg.marketplace_ids, ..self.query.clone() },
            pagination_token: None,
            restarted: false,
            then: rest.collect(),
        })
    }
}

/// One leg per region (NA, EU, FE), split into chunks of at most `MAX_MARKETPLACES`.
pub fn legs(grouped: Vec<(Region, Vec<String>)>) -> Vec<Leg> {
    grouped
        .into_iter()
        .flat_map(|(region, ids)| {
            ids.chunks(MAX_MARKETPLACES).map(|c| Leg { region, marketplace_ids: c.to_vec() }).collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn walks_pages_then_regions() {
        let plan =
            legs(vec![(Region::Na, ids(&["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"])), (Region::Fe, ids(&["A1VC38T7YXB528"]))]);
        let c = Cursor::start(plan, "2026-01-01T00:00:00Z").unwrap();
        assert_eq!(c.region, Region::Na);
        assert_eq!(c.pagination_token, None);
        assert_eq!(
            c.query.params(None),
            vec![
                ("marketplaceIds", "ATVPDKIKX0DER,A2EUQ1WTGCTBG2".to_owned()),
                ("lastUpdatedAfter", "2026-01-01T00:00:00Z".to_owned()),
                ("maxResultsPerPage", "100".to_owned()),
                ("includedData", "RECIPIENT,BUYER,FULFILLMENT,PROCEEDS,CANCELLATION".to_owned()),
            ]
        );

        let p2 = c.after(Some("tok1".into())).unwrap();
        assert_eq!(p2.region, Region::Na);
        assert_eq!(p2.query, c.query);
        assert_eq!(p2.pagination_token.as_deref(), Some("tok1"));
        assert_eq!(p2.query.params(Some("tok1")).last(), Some(&("paginationToken", "tok1".to_owned())));

        // Round trip through the persisted string.
        let s = p2.encode();
        assert!(s.contains("\"region\":\"NA\"") && s.contains("\"paginationToken\":\"tok1\""), "{s}");
        assert_eq!(Cursor::decode(&s), Some(p2.clone()));

        let fe = p2.after(None).unwrap();
        assert_eq!(fe.region, Region::Fe);
        assert_eq!(fe.pagination_token, None);
        assert_eq!(fe.query.marketplace_ids, ids(&["A1VC38T7YXB528"]));
        assert_eq!(fe.query.last_updated_after, "2026-01-01T00:00:00Z");
        assert!(fe.then.is_empty());
        assert_eq!(fe.after(Some(String::new())), None);
        assert_eq!(fe.after(None), None);
    }

    #[test]
    fn nothing_to_read_and_foreign_cursors() {
        assert_eq!(Cursor::start(Vec::new(), "2026-01-01T00:00:00Z"), None);
        assert_eq!(Cursor::decode("2YgYW55IGNhcm5hbCBwbGVhc3VyZS4"), None);
        assert_eq!(Cursor::decode("{\"v\":9}"), None);
    }

    #[test]
    fn chunks_of_fifty() {
        let many: Vec<String> = (0..120).map(|i| format!("M{i}")).collect();
        let l = legs(vec![(Region::Eu, many)]);
        assert_eq!(l.iter().map(|l| l.marketplace_ids.len()).collect::<Vec<_>>(), vec![50, 50, 20]);
        assert!(l.iter().all(|l| l.region == Region::Eu));
    }
}
