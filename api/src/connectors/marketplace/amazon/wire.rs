//! SP-API / LWA wire shapes (private) and mapping. Orders: amzn/selling-partner-api-models
//! `models/orders-api-model/orders_2026-01-01.json` (camelCase, no `payload` wrapper);
//! sellers: `models/sellers-api-model/sellers.json`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

use super::regions;
use crate::connectors::{
    ConnectorError,
    marketplace::{Address, MarketOrder, MarketOrderItem, MarketState, parse_minor},
};

#[derive(Deserialize)]
pub(super) struct Token {
    pub access_token: String,
    pub expires_in: Option<i64>,
    pub refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
    error_description: Option<String>,
}

pub(super) fn token(status: u16, body: &[u8]) -> Result<Token, ConnectorError> {
    if (200..300).contains(&status) {
        return serde_json::from_slice(body).map_err(|e| ConnectorError::Decode(format!("LWA token: {e}")));
    }
    Err(match serde_json::from_slice::<OAuthError>(body) {
        Ok(e) if matches!(e.error.as_str(), "invalid_grant" | "invalid_client" | "unauthorized_client") => {
            ConnectorError::AuthorizationInvalid(format!(
                "Amazon LWA: {} ({})",
                e.error_description.unwrap_or_default(),
                e.error
            ))
        }
        Ok(e) => ConnectorError::Rejected { code: e.error, message: e.error_description.unwrap_or_default() },
        Err(_) if status >= 500 => ConnectorError::Transient(format!("HTTP {status}")),
        Err(_) => ConnectorError::Decode(format!("LWA answered HTTP {status}")),
    })
}

#[derive(Deserialize)]
struct ErrorList {
    #[serde(default)]
    errors: Vec<ApiErr>,
}

#[derive(Deserialize)]
struct ApiErr {
    code: Option<String>,
    message: Option<String>,
}

pub(super) fn api_error(status: u16, body: &[u8]) -> ConnectorError {
    let first = serde_json::from_slice::<ErrorList>(body).ok().and_then(|l| l.errors.into_iter().next());
    let code = first.as_ref().and_then(|e| e.code.clone()).unwrap_or_default();
    let message = first.and_then(|e| e.message).unwrap_or_else(|| format!("HTTP {status}"));
    match status {
        // SP-API answers a bad or expired LWA token with 403 Unauthorized.
        401 | 403 => ConnectorError::Unauthorized(format!("Amazon {code}: {message}")),
        _ => ConnectorError::Rejected { code, message },
    }
}

// ---- Orders API v2026-01-01 -------------------------------------------------------

/// `SearchOrdersResponse`: `orders` (required) and `pagination.nextToken`, absent on the
/// last page.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SearchOrdersResponse {
    #[serde(default, deserialize_with = "null_default")]
    pub orders: Vec<Order>,
    pub pagination: Option<Pagination>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Pagination {
    pub next_token: Option<String>,
}

/// `GetOrderResponse`: `{ "order": Order }`.
#[derive(Deserialize)]
pub(super) struct GetOrderResponse {
    pub order: Order,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Order {
    pub order_id: String,
    created_time: Option<DateTime<Utc>>,
    last_updated_time: DateTime<Utc>,
    sales_channel: Option<SalesChannel>,
    buyer: Option<Buyer>,
    recipient: Option<Recipient>,
    proceeds: Option<OrderProceeds>,
    fulfillment: Option<OrderFulfillment>,
    #[serde(default, deserialize_with = "null_default")]
    order_items: Vec<OrderItem>,
    #[serde(default, deserialize_with = "null_default")]
    pub packages: Vec<OrderPackage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SalesChannel {
    marketplace_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Buyer {
    buyer_name: Option<String>,
    buyer_email: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recipient {
    delivery_address: Option<CustomerAddress>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CustomerAddress {
    name: Option<String>,
    company_name: Option<String>,
    address_line1: Option<String>,
    address_line2: Option<String>,
    address_line3: Option<String>,
    city: Option<String>,
    district_or_county: Option<String>,
    state_or_region: Option<String>,
    municipality: Option<String>,
    postal_code: Option<String>,
    country_code: Option<String>,
    phone: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderProceeds {
    grand_total: Option<Money>,
    #[serde(default, deserialize_with = "null_default")]
    breakdowns: Vec<ProceedsBreakdown>,
}

/// `OrderProceedsBreakdown` / `ItemProceedsBreakdown`: `type` (`ITEM`, `SHIPPING`, …) and
/// `subtotal`.
#[derive(Deserialize)]
struct ProceedsBreakdown {
    #[serde(rename = "type")]
    kind: Option<String>,
    subtotal: Option<Money>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderFulfillment {
    fulfillment_status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderItem {
    order_item_id: String,
    #[serde(default)]
    quantity_ordered: Option<i32>,
    product: Option<ItemProduct>,
    proceeds: Option<ItemProceeds>,
    cancellation: Option<ItemCancellation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemProduct {
    title: Option<String>,
    seller_sku: Option<String>,
    price: Option<ItemPrice>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemPrice {
    unit_price: Option<Money>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemProceeds {
    #[serde(default, deserialize_with = "null_default")]
    breakdowns: Vec<ProceedsBreakdown>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemCancellation {
    cancellation_request: Option<CancellationRequest>,
    cancellation_execution: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct CancellationRequest {
    requester: Option<String>,
}

/// `OrderPackage` (includedData `PACKAGES`, merchant-fulfilled orders only).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct OrderPackage {
    pub package_reference_id: Option<String>,
    pub tracking_number: Option<String>,
}

/// `Money`: `amount` is a `Decimal` (a string), `currencyCode` ISO 4217.
#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub(super) struct Money {
    #[serde(deserialize_with = "decimal")]
    amount: String,
    currency_code: String,
}

fn null_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The model types `Decimal` as a string; a bare JSON number is read too.
fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!("amount is not a decimal: {other}"))),
    }
}

/// ISO 4217 currencies with no minor unit: their amounts are stored in whole units.
const ZERO_DECIMAL: &[&str] =
    &["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"];

/// Minor units of a `Money`: cents for 2-decimal currencies, whole yen for JPY.
pub(super) fn money_minor(m: &Money) -> Result<i64, ConnectorError> {
    minor_units(&m.amount, &m.currency_code)
}

pub(super) fn minor_units(amount: &str, currency: &str) -> Result<i64, ConnectorError> {
    let hundredths = parse_minor(amount)?;
    if ZERO_DECIMAL.iter().any(|c| c.eq_ignore_ascii_case(currency.trim())) {
        // "19940" or "19940.00" yen → 19940; a stray fraction is rounded half away from 0.
        let (q, r) = (hundredths / 100, hundredths % 100);
        return Ok(if r >= 50 {
            q + 1
        } else if r <= -50 {
            q - 1
        } else {
            q
        });
    }
    Ok(hundredths)
}

/// Amazon's fulfillment status → our state; `cancel_requested` is an open buyer
/// cancellation request on an item.
pub(super) fn market_state(fulfillment_status: Option<&str>, cancel_requested: bool) -> MarketState {
    let state = match fulfillment_status.map(str::trim) {
        Some("UNSHIPPED" | "PARTIALLY_SHIPPED") => MarketState::AwaitingShipment,
        Some("SHIPPED") => MarketState::Shipped,
        // UNFULFILLABLE: "cannot be fulfilled" (Amazon-fulfilled, non-Amazon-site orders).
        Some("CANCELLED" | "UNFULFILLABLE") => MarketState::Cancelled,
        // PENDING, PENDING_AVAILABILITY, absent or unknown: not to be shipped yet.
        _ => MarketState::AwaitingPayment,
    };
    match state {
        MarketState::AwaitingPayment | MarketState::AwaitingShipment if cancel_requested => {
            MarketState::CancelRequested
        }
        s => s,
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn breakdown_total(b: &[ProceedsBreakdown], kind: &str) -> Result<Option<i64>, ConnectorError> {
    let mut total: Option<i64> = None;
    for x in b.iter().filter(|x| x.kind.as_deref() == Some(kind)) {
        if let Some(m) = &x.subtotal {
            total = Some(total.unwrap_or(0) + money_minor(m)?);
        }
    }
    Ok(total)
}

/// Maps one order. `fallback_marketplace`: the marketplace asked for when the query had
/// just one and the order does not name its own.
pub(super) fn to_market_order(o: Order, fallback_marketplace: Option<&str>) -> Result<MarketOrder, ConnectorError> {
    let marketplace_id =
        o.sales_channel.and_then(|s| non_empty(s.marketplace_id)).or_else(|| fallback_marketplace.map(str::to_owned));
    let cancel_requested = o.order_items.iter().any(|i| {
        i.cancellation.as_ref().is_some_and(|c| {
            c.cancellation_execution.is_none()
                && c.cancellation_request
                    .as_ref()
                    .is_some_and(|r| r.requester.as_deref().is_none_or(|q| q.eq_ignore_ascii_case("BUYER")))
        })
    });
    let status = o.fulfillment.and_then(|f| non_empty(f.fulfillment_status));
    let state = market_state(status.as_deref(), cancel_requested);

    let mut currency = o.proceeds.as_ref().and_then(|p| p.grand_total.as_ref()).map(|m| m.currency_code.clone());
    let mut lines = Vec::with_capacity(o.order_items.len());
    let mut items_total: i64 = 0;
    let mut items_shipping: Option<i64> = None;
    for i in o.order_items {
        let quantity = i.quantity_ordered.unwrap_or(0).max(1);
        let (title, sku, unit_price) = match i.product {
            Some(p) => (p.title, p.seller_sku, p.price.and_then(|pr| pr.unit_price)),
            None => (None, None, None),
        };
        let breakdowns = i.proceeds.map(|p| p.breakdowns).unwrap_or_default();
        let unit_price_minor = match &unit_price {
            Some(m) => {
                currency.get_or_insert_with(|| m.currency_code.clone());
                money_minor(m)?
            }
            // No unit price: the item's ITEM proceeds over its quantity.
            None => breakdown_total(&breakdowns, "ITEM")?.unwrap_or(0) / i64::from(quantity),
        };
        if let Some(s) = breakdown_total(&breakdowns, "SHIPPING")? {
            items_shipping = Some(items_shipping.unwrap_or(0) + s);
        }
        items_total += unit_price_minor * i64::from(quantity);
        lines.push(MarketOrderItem {
            platform_item_id: i.order_item_id,
            sku: non_empty(sku),
            title: non_empty(title),
            quantity,
            unit_price_minor,
        });
    }
    let (grand_total, order_shipping) = match &o.proceeds {
        Some(p) => (p.grand_total.as_ref().map(money_minor).transpose()?, breakdown_total(&p.breakdowns, "SHIPPING")?),
        None => (None, None),
    };
    let shipping_minor = order_shipping.or(items_shipping).unwrap_or(0);
    let currency = currency
        .or_else(|| marketplace_id.as_deref().and_then(regions::currency_of).map(str::to_owned))
        .unwrap_or_else(|| "USD".into());

    let recipient = match o.recipient.and_then(|r| r.delivery_address) {
        Some(a) => {
            let line2 =
                [a.address_line2, a.address_line3].into_iter().filter_map(non_empty).collect::<Vec<_>>().join(", ");
            Address {
                name: non_empty(a.name).unwrap_or_default(),
                company: non_empty(a.company_name),
                phone: non_empty(a.phone),
                email: None,
                line1: non_empty(a.address_line1).unwrap_or_default(),
                line2: (!line2.is_empty()).then_some(line2),
                city: non_empty(a.city)
                    .or_else(|| non_empty(a.municipality))
                    .or_else(|| non_empty(a.district_or_county)),
                state: non_empty(a.state_or_region),
                postal_code: non_empty(a.postal_code),
                country_code: non_empty(a.country_code).unwrap_or_default(),
            }
        }
        // No address (no PII role for this marketplace, or an Amazon-fulfilled order):
        // imported without one; pushing it is refused by the address checks.
        None => Address::default(),
    };
    let (buyer_name, buyer_email) = match o.buyer {
        Some(b) => (non_empty(b.buyer_name), non_empty(b.buyer_email)),
        None => (None, None),
    };
    Ok(MarketOrder {
        platform_order_id: o.order_id,
        platform_status: status,
        state,
        marketplace_id,
        buyer_name,
        buyer_email,
        recipient,
        currency,
        total_minor: grand_total.unwrap_or(items_total + shipping_minor),
        shipping_minor,
        ordered_at: o.created_time,
        updated_at: o.last_updated_time,
        items: lines,
    })
}

// ---- Sellers API v1 ---------------------------------------------------------------

/// `GetMarketplaceParticipationsResponse`: `payload` is a list of
/// `{marketplace{id,…}, participation{isParticipating, hasSuspendedListings}, storeName}`.
#[derive(Deserialize)]
pub(super) struct ParticipationsResponse {
    #[serde(default, deserialize_with = "null_default")]
    payload: Vec<Participation>,
}

#[derive(Deserialize)]
struct Participation {
    marketplace: ParticipationMarketplace,
    participation: Option<ParticipationFlags>,
}

#[derive(Deserialize)]
struct ParticipationMarketplace {
    id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ParticipationFlags {
    is_participating: bool,
}

impl ParticipationsResponse {
    /// Ids of the marketplaces the seller participates in (`isParticipating: true`).
    pub fn participating(self) -> Vec<String> {
        self.payload
            .into_iter()
            .filter(|p| p.participation.as_ref().is_none_or(|f| f.is_participating))
            .map(|p| p.marketplace.id)
            .filter(|id| !id.trim().is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states() {
        use MarketState::*;
        assert_eq!(market_state(Some("PENDING"), false), AwaitingPayment);
        assert_eq!(market_state(Some("PENDING_AVAILABILITY"), false), AwaitingPayment);
        assert_eq!(market_state(Some("UNSHIPPED"), false), AwaitingShipment);
        assert_eq!(market_state(Some("PARTIALLY_SHIPPED"), false), AwaitingShipment);
        assert_eq!(market_state(Some("SHIPPED"), false), Shipped);
        assert_eq!(market_state(Some("CANCELLED"), false), Cancelled);
        assert_eq!(market_state(Some("UNFULFILLABLE"), false), Cancelled);
        assert_eq!(market_state(None, false), AwaitingPayment);
        assert_eq!(market_state(Some("UNSHIPPED"), true), CancelRequested);
        assert_eq!(market_state(Some("PENDING"), true), CancelRequested);
        assert_eq!(market_state(Some("SHIPPED"), true), Shipped);
        assert_eq!(market_state(Some("CANCELLED"), true), Cancelled);
    }

    #[test]
    fn amounts_by_currency() {
        assert_eq!(minor_units("19940", "JPY"), Ok(19940));
        assert_eq!(minor_units("19940.00", "JPY"), Ok(19940));
        assert_eq!(minor_units("34.99", "GBP"), Ok(3499));
        assert_eq!(minor_units("1599.9", "BRL"), Ok(159990));
        assert!(minor_units("x", "USD").is_err());
    }

    // Shaped after the JP example of orders_2026-01-01.json (searchOrders 200).
    const JP: &str = r#"{
      "orders": [{
        "orderId": "250-1234567-8901234",
        "createdTime": "2024-12-25T02:30:00Z",
        "lastUpdatedTime": "2024-12-25T06:45:00Z",
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": "A1VC38T7YXB528", "marketplaceName": "Amazon.co.jp"},
        "buyer": {"buyerName": "John Smith", "buyerEmail": "buyer-email@marketplace.amazon.co.jp"},
        "recipient": {"deliveryAddress": {"name": "John Smith", "addressLine1": "123 Business Park",
          "addressLine2": "Suite 456", "city": "Tokyo", "postalCode": "150-0002", "countryCode": "JP",
          "addressType": "RESIDENTIAL"}},
        "proceeds": {"grandTotal": {"amount": "19940", "currencyCode": "JPY"}},
        "fulfillment": {"fulfillmentStatus": "UNSHIPPED", "fulfilledBy": "MERCHANT"},
        "orderItems": [
          {"orderItemId": "25012345678901", "quantityOrdered": 1,
           "product": {"asin": "B08C1W5N87", "title": "Echo Dot", "sellerSku": "ECHO-DOT-4-JP",
             "price": {"unitPrice": {"amount": "5980", "currencyCode": "JPY"}}}},
          {"orderItemId": "25012345678902", "quantityOrdered": 2,
           "product": {"asin": "B07PFFMP9P", "title": "Fire TV Stick", "sellerSku": "FIRE-TV-4K-MAX-JP",
             "price": {"unitPrice": {"amount": "6980", "currencyCode": "JPY"}}},
           "cancellation": {"cancellationRequest": {"requester": "BUYER", "cancelReason": "changed mind"}}}
        ]
      }],
      "pagination": {"nextToken": "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4"},
      "lastUpdatedBefore": "2024-12-25T15:00:00Z"
    }"#;

    #[test]
    fn maps_a_search_page() {
        let page: SearchOrdersResponse = serde_json::from_str(JP).unwrap();
        assert_eq!(page.pagination.and_then(|p| p.next_token).as_deref(), Some("2YgYW55IGNhcm5hbCBwbGVhc3VyZS4"));
        let o = to_market_order(page.orders.into_iter().next().unwrap(), None).unwrap();
        assert_eq!(o.platform_order_id, "250-1234567-8901234");
        assert_eq!(o.marketplace_id.as_deref(), Some("A1VC38T7YXB528"));
        assert_eq!(o.platform_status.as_deref(), Some("UNSHIPPED"));
        assert_eq!(o.state, MarketState::CancelRequested);
        assert_eq!(o.currency, "JPY");
        assert_eq!(o.total_minor, 19940);
        assert_eq!(o.items.len(), 2);
        assert_eq!(o.items[1].unit_price_minor, 6980);
        assert_eq!(o.items[1].quantity, 2);
        assert_eq!(o.items[0].sku.as_deref(), Some("ECHO-DOT-4-JP"));
        assert_eq!(o.recipient.line2.as_deref(), Some("Suite 456"));
        assert_eq!(o.recipient.country_code, "JP");
        assert_eq!(o.buyer_name.as_deref(), Some("John Smith"));
    }

    #[test]
    fn minimal_order_and_packages() {
        let o: GetOrderResponse = serde_json::from_str(
            r#"{"order": {"orderId": "1", "createdTime": "2026-01-02T00:00:00Z",
                "lastUpdatedTime": "2026-01-02T00:00:00Z", "salesChannel": {"channelName": "AMAZON"},
                "orderItems": [], "packages": [{"packageReferenceId": "7", "trackingNumber": "1Z9"}]}}"#,
        )
        .unwrap();
        assert_eq!(o.order.packages[0].tracking_number.as_deref(), Some("1Z9"));
        let m = to_market_order(o.order, Some("A1PA6795UKMFR9")).unwrap();
        assert_eq!(m.state, MarketState::AwaitingPayment);
        assert_eq!(m.marketplace_id.as_deref(), Some("A1PA6795UKMFR9"));
        assert_eq!(m.currency, "EUR");
        assert_eq!(m.recipient, Address::default());
    }

    #[test]
    fn participations() {
        let r: ParticipationsResponse = serde_json::from_str(
            r#"{"payload": [
              {"marketplace": {"id": "ATVPDKIKX0DER", "name": "Amazon.com", "countryCode": "US",
                "defaultCurrencyCode": "USD", "defaultLanguageCode": "en_US", "domainName": "www.amazon.com"},
               "participation": {"isParticipating": true, "hasSuspendedListings": false}, "storeName": "S"},
              {"marketplace": {"id": "A2EUQ1WTGCTBG2", "name": "Amazon.ca", "countryCode": "CA",
                "defaultCurrencyCode": "CAD", "defaultLanguageCode": "en_CA", "domainName": "www.amazon.ca"},
               "participation": {"isParticipating": false, "hasSuspendedListings": false}, "storeName": "S"}
            ]}"#,
        )
        .unwrap();
        assert_eq!(r.participating(), vec!["ATVPDKIKX0DER".to_owned()]);
    }
}
