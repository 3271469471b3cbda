//! eBay wire shapes (private to this connector) and their mapping to domain types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::connectors::{
    ConnectorError,
    marketplace::{Address, MarketOrder, MarketOrderItem, MarketState, Shipment, parse_minor},
};

#[derive(Deserialize)]
pub(super) struct TokenResponse {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: Option<String>,
    pub refresh_token_expires_in: Option<i64>,
}

#[derive(Deserialize)]
struct TokenError {
    error: String,
    error_description: Option<String>,
}

pub(super) fn token_error(status: u16, body: &[u8]) -> ConnectorError {
    match serde_json::from_slice::<TokenError>(body) {
        Ok(e) if e.error == "invalid_grant" || e.error == "invalid_client" => ConnectorError::AuthorizationInvalid(
            format!("eBay: {} ({})", e.error_description.unwrap_or_default(), e.error),
        ),
        Ok(e) => ConnectorError::Rejected { code: e.error, message: e.error_description.unwrap_or_default() },
        Err(_) if status >= 500 => ConnectorError::Transient(format!("HTTP {status}")),
        Err(_) => ConnectorError::Decode(format!("token endpoint answered HTTP {status}")),
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorDetail>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorDetail {
    error_id: Option<i64>,
    message: Option<String>,
}

pub(super) fn api_error(status: u16, body: &[u8]) -> ConnectorError {
    let first = serde_json::from_slice::<ErrorBody>(body).ok().and_then(|b| b.errors.into_iter().next());
    let (code, message) = match first {
        Some(e) => (e.error_id.map(|c| c.to_string()).unwrap_or_default(), e.message.unwrap_or_default()),
        None => (String::new(), format!("HTTP {status}")),
    };
    match status {
        401 => ConnectorError::Unauthorized(format!("eBay {code}: {message}")),
        403 => ConnectorError::AuthorizationInvalid(format!("eBay {code}: {message}")),
        _ => ConnectorError::Rejected { code, message },
    }
}

#[derive(Deserialize)]
pub(super) struct OrderSearchPagedCollection {
    #[serde(default)]
    pub orders: Vec<Order>,
    pub next: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Order {
    order_id: String,
    creation_date: Option<DateTime<Utc>>,
    last_modified_date: DateTime<Utc>,
    order_fulfillment_status: Option<String>,
    order_payment_status: Option<String>,
    cancel_status: Option<CancelStatus>,
    buyer: Option<Buyer>,
    pricing_summary: Option<PricingSummary>,
    #[serde(default)]
    fulfillment_start_instructions: Vec<FulfillmentStartInstruction>,
    #[serde(default)]
    line_items: Vec<LineItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CancelStatus {
    cancel_state: Option<String>,
}

/// eBay's order state → ours: `cancelStatus.cancelState` (CANCELED, IN_PROGRESS,
/// NONE_REQUESTED), `orderPaymentStatus` (FAILED, FULLY_REFUNDED, PAID, PARTIALLY_REFUNDED,
/// PENDING) and `orderFulfillmentStatus` (FULFILLED, IN_PROGRESS, NOT_STARTED), in that order.
fn market_state(cancel: Option<&str>, payment: Option<&str>, fulfillment: Option<&str>) -> MarketState {
    match (cancel, payment, fulfillment) {
        (Some("CANCELED"), _, _) | (_, Some("FULLY_REFUNDED"), _) => MarketState::Cancelled,
        (Some("IN_PROGRESS"), _, _) => MarketState::CancelRequested,
        (_, _, Some("FULFILLED")) => MarketState::Shipped,
        (_, Some("PENDING" | "FAILED"), _) => MarketState::AwaitingPayment,
        _ => MarketState::AwaitingShipment,
    }
}

#[derive(Deserialize)]
struct Buyer {
    username: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PricingSummary {
    total: Option<Amount>,
    delivery_cost: Option<Amount>,
}

#[derive(Deserialize)]
struct Amount {
    value: String,
    currency: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FulfillmentStartInstruction {
    shipping_step: Option<ShippingStep>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShippingStep {
    ship_to: Option<ShipTo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShipTo {
    full_name: Option<String>,
    company_name: Option<String>,
    contact_address: Option<ContactAddress>,
    primary_phone: Option<Phone>,
    email: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContactAddress {
    address_line1: Option<String>,
    address_line2: Option<String>,
    city: Option<String>,
    state_or_province: Option<String>,
    postal_code: Option<String>,
    country_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Phone {
    phone_number: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineItem {
    line_item_id: String,
    sku: Option<String>,
    title: Option<String>,
    quantity: i32,
    line_item_cost: Option<Amount>,
}

impl TryFrom<Order> for MarketOrder {
    type Error = ConnectorError;

    fn try_from(o: Order) -> Result<Self, ConnectorError> {
        let ship_to = o
            .fulfillment_start_instructions
            .into_iter()
            .find_map(|f| f.shipping_step.and_then(|s| s.ship_to))
            .ok_or_else(|| ConnectorError::Decode(format!("order {} has no shipTo", o.order_id)))?;
        let addr = ship_to
            .contact_address
            .ok_or_else(|| ConnectorError::Decode(format!("order {} has no contactAddress", o.order_id)))?;
        let total = o.pricing_summary.as_ref().and_then(|p| p.total.as_ref());
        let currency = total.map(|t| t.currency.clone()).unwrap_or_else(|| "USD".into());
        let mut items = Vec::with_capacity(o.line_items.len());
        for li in o.line_items {
            let cost = li.line_item_cost.as_ref().map(|c| parse_minor(&c.value)).transpose()?.unwrap_or(0);
            let quantity = li.quantity.max(1);
            items.push(MarketOrderItem {
                platform_item_id: li.line_item_id,
                sku: li.sku.filter(|s| !s.is_empty()),
                title: li.title,
                quantity,
                // lineItemCost is the line total: the unit price is the line total / quantity.
                unit_price_minor: cost / i64::from(quantity),
            });
        }
        Ok(MarketOrder {
            recipient: Address {
                name: ship_to.full_name.unwrap_or_default(),
                company: ship_to.company_name,
                phone: ship_to.primary_phone.and_then(|p| p.phone_number),
                email: ship_to.email,
                line1: addr.address_line1.unwrap_or_default(),
                line2: addr.address_line2.filter(|s| !s.is_empty()),
                city: addr.city,
                state: addr.state_or_province,
                postal_code: addr.postal_code,
                country_code: addr.country_code.unwrap_or_default(),
            },
            total_minor: total.map(|t| parse_minor(&t.value)).transpose()?.unwrap_or(0),
            shipping_minor: o
                .pricing_summary
                .as_ref()
                .and_then(|p| p.delivery_cost.as_ref())
                .map(|d| parse_minor(&d.value))
                .transpose()?
                .unwrap_or(0),
            currency,
            state: market_state(
                o.cancel_status.as_ref().and_then(|c| c.cancel_state.as_deref()),
                o.order_payment_status.as_deref(),
                o.order_fulfillment_status.as_deref(),
            ),
            marketplace_id: None,
            platform_order_id: o.order_id,
            platform_status: o.order_fulfillment_status,
            buyer_name: o.buyer.and_then(|b| b.username),
            buyer_email: None,
            ordered_at: o.creation_date,
            updated_at: o.last_modified_date,
            items,
        })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ShippingFulfillmentRequest {
    line_items: Vec<LineItemReference>,
    shipped_date: String,
    shipping_carrier_code: String,
    tracking_number: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LineItemReference {
    line_item_id: String,
    quantity: i32,
}

impl From<&Shipment> for ShippingFulfillmentRequest {
    fn from(s: &Shipment) -> Self {
        Self {
            line_items: s
                .items
                .iter()
                .map(|(id, q)| LineItemReference { line_item_id: id.clone(), quantity: *q })
                .collect(),
            shipped_date: s.shipped_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            shipping_carrier_code: s.carrier.code.clone(),
            tracking_number: s.tracking_number.clone(),
        }
    }
}

/// getShippingFulfillments' answer: `{fulfillments[{fulfillmentId, shipmentTrackingNumber, …}], total}`.
#[derive(Deserialize)]
pub(super) struct ShippingFulfillmentPagedCollection {
    #[serde(default)]
    pub fulfillments: Vec<ShippingFulfillment>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ShippingFulfillment {
    pub fulfillment_id: Option<String>,
    pub shipment_tracking_number: Option<String>,
}

/// Commerce Identity `getUser`: the seller's eBay user id is `username`.
#[derive(Deserialize)]
pub(super) struct User {
    pub username: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states() {
        assert_eq!(
            market_state(Some("NONE_REQUESTED"), Some("PAID"), Some("NOT_STARTED")),
            MarketState::AwaitingShipment
        );
        assert_eq!(market_state(None, Some("PAID"), Some("IN_PROGRESS")), MarketState::AwaitingShipment);
        assert_eq!(market_state(None, Some("PAID"), Some("FULFILLED")), MarketState::Shipped);
        assert_eq!(market_state(Some("CANCELED"), Some("PAID"), Some("NOT_STARTED")), MarketState::Cancelled);
        assert_eq!(market_state(Some("IN_PROGRESS"), Some("PAID"), Some("NOT_STARTED")), MarketState::CancelRequested);
        assert_eq!(market_state(None, Some("FULLY_REFUNDED"), Some("NOT_STARTED")), MarketState::Cancelled);
        assert_eq!(market_state(None, Some("PENDING"), Some("NOT_STARTED")), MarketState::AwaitingPayment);
    }
}
