//! SP-API / LWA wire shapes (private) and mapping.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::connectors::{
    ConnectorError,
    marketplace::{Address, MarketOrder, MarketOrderItem, parse_minor},
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

#[derive(Deserialize)]
pub(super) struct OrdersResponse {
    pub payload: OrdersPayload,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct OrdersPayload {
    #[serde(default)]
    pub orders: Vec<Order>,
    pub next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Order {
    pub amazon_order_id: String,
    purchase_date: Option<DateTime<Utc>>,
    last_update_date: DateTime<Utc>,
    order_status: Option<String>,
    order_total: Option<Money>,
    shipping_address: Option<ShippingAddress>,
    buyer_info: Option<BuyerInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Money {
    currency_code: String,
    amount: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ShippingAddress {
    name: Option<String>,
    address_line1: Option<String>,
    address_line2: Option<String>,
    address_line3: Option<String>,
    city: Option<String>,
    state_or_region: Option<String>,
    postal_code: Option<String>,
    country_code: Option<String>,
    phone: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BuyerInfo {
    buyer_email: Option<String>,
    buyer_name: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct OrderItemsResponse {
    pub payload: OrderItemsPayload,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct OrderItemsPayload {
    #[serde(default)]
    pub order_items: Vec<OrderItem>,
    pub next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct OrderItem {
    // PascalCase would give `SellerSku`; SP-API spells it `SellerSKU`.
    #[serde(rename = "SellerSKU")]
    seller_sku: Option<String>,
    order_item_id: String,
    title: Option<String>,
    quantity_ordered: i32,
    item_price: Option<Money>,
}

pub(super) fn to_market_order(o: Order, items: Vec<OrderItem>) -> Result<MarketOrder, ConnectorError> {
    let a = o
        .shipping_address
        .ok_or_else(|| ConnectorError::Decode(format!("order {} has no ShippingAddress", o.amazon_order_id)))?;
    let mut lines = Vec::with_capacity(items.len());
    for i in items {
        let quantity = i.quantity_ordered.max(1);
        // ItemPrice is the line total (price × quantity).
        let line = i.item_price.as_ref().map(|m| parse_minor(&m.amount)).transpose()?.unwrap_or(0);
        lines.push(MarketOrderItem {
            platform_item_id: i.order_item_id,
            sku: i.seller_sku,
            title: i.title,
            quantity,
            unit_price_minor: line / i64::from(quantity),
        });
    }
    let line2 = [a.address_line2, a.address_line3]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    Ok(MarketOrder {
        platform_order_id: o.amazon_order_id,
        platform_status: o.order_status,
        buyer_name: o.buyer_info.as_ref().and_then(|b| b.buyer_name.clone()),
        buyer_email: o.buyer_info.and_then(|b| b.buyer_email),
        recipient: Address {
            name: a.name.unwrap_or_default(),
            company: None,
            phone: a.phone,
            email: None,
            line1: a.address_line1.unwrap_or_default(),
            line2: (!line2.is_empty()).then_some(line2),
            city: a.city,
            state: a.state_or_region,
            postal_code: a.postal_code,
            country_code: a.country_code.unwrap_or_default(),
        },
        currency: o.order_total.as_ref().map(|m| m.currency_code.clone()).unwrap_or_else(|| "USD".into()),
        total_minor: o.order_total.as_ref().map(|m| parse_minor(&m.amount)).transpose()?.unwrap_or(0),
        shipping_minor: 0,
        ordered_at: o.purchase_date,
        updated_at: o.last_update_date,
        items: lines,
    })
}
