//! Wish v3 wire shapes (private) and mapping.

use chrono::{DateTime, Utc};
use serde::{Deserialize, de::DeserializeOwned};

use crate::connectors::{
    ConnectorError,
    marketplace::{Address, MarketOrder, MarketOrderItem, MarketState, parse_minor},
};

#[derive(Deserialize)]
struct Envelope {
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    data: serde_json::Value,
}

/// Opens `{code, message, data}`; maps Wish error codes onto connector errors.
pub(super) fn unwrap_envelope<T: DeserializeOwned>(
    status: u16,
    body: &[u8],
    token_call: bool,
) -> Result<T, ConnectorError> {
    // The envelope first: error responses carry `data` of another shape (or none).
    let env: Envelope = match serde_json::from_slice(body) {
        Ok(e) => e,
        Err(e) if (200..300).contains(&status) => return Err(ConnectorError::Decode(format!("Wish response: {e}"))),
        Err(_) if status >= 500 => return Err(ConnectorError::Transient(format!("HTTP {status}"))),
        Err(_) => {
            return Err(ConnectorError::Rejected { code: status.to_string(), message: "unreadable error".into() });
        }
    };
    if env.code == 0 && (200..300).contains(&status) {
        if env.data.is_null() {
            return Err(ConnectorError::Decode("Wish response without data".into()));
        }
        return serde_json::from_value(env.data).map_err(|e| ConnectorError::Decode(format!("Wish response: {e}")));
    }
    let msg = format!("Wish {}: {}", env.code, env.message);
    Err(match env.code {
        1006 | 1007 if !token_call => ConnectorError::Unauthorized(msg),
        1008 | 1002 => ConnectorError::AuthorizationInvalid(msg),
        1006 | 1007 | 10001..=10004 => ConnectorError::AuthorizationInvalid(msg),
        _ if status >= 500 => ConnectorError::Transient(msg),
        code => ConnectorError::Rejected { code: code.to_string(), message: env.message },
    })
}

#[derive(Deserialize)]
pub(super) struct TokenData {
    pub access_token: String,
    pub refresh_token: Option<String>,
    #[serde(default, deserialize_with = "flexible_time")]
    pub expiry_time: Option<DateTime<Utc>>,
    pub merchant_id: Option<String>,
}

/// `expiry_time` as an ISO-8601 string or epoch seconds.
fn flexible_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::String(s)) => DateTime::parse_from_rfc3339(&s).ok().map(|t| t.with_timezone(&Utc)),
        Some(serde_json::Value::Number(n)) => n.as_i64().and_then(|s| DateTime::from_timestamp(s, 0)),
        _ => None,
    })
}

#[derive(Deserialize)]
pub(super) struct Order {
    id: String,
    state: Option<String>,
    released_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    product_information: Option<ProductInformation>,
    order_payment: Option<OrderPayment>,
    full_address: Option<FullAddress>,
}

#[derive(Deserialize)]
struct ProductInformation {
    id: Option<String>,
    variation_id: Option<String>,
    sku: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct OrderPayment {
    general_payment_details: Option<GeneralPaymentDetails>,
}

#[derive(Deserialize)]
struct GeneralPaymentDetails {
    product_quantity: Option<i32>,
    product_price: Option<Money>,
    payment_total: Option<Money>,
}

#[derive(Deserialize)]
struct Money {
    amount: serde_json::Value,
    currency_code: String,
}

impl Money {
    fn minor(&self) -> Result<i64, ConnectorError> {
        match &self.amount {
            serde_json::Value::String(s) => parse_minor(s),
            serde_json::Value::Number(n) => parse_minor(&n.to_string()),
            _ => Err(ConnectorError::Decode("amount is not a number".into())),
        }
    }
}

#[derive(Deserialize)]
struct FullAddress {
    shipping_detail: Option<ShippingDetail>,
}

#[derive(Deserialize)]
struct ShippingDetail {
    name: Option<String>,
    street_address1: Option<String>,
    street_address2: Option<String>,
    street_address3: Option<String>,
    city: Option<String>,
    state: Option<String>,
    zipcode: Option<String>,
    country_code: Option<String>,
    phone_number: Option<Phone>,
}

#[derive(Deserialize)]
struct Phone {
    country_code: Option<String>,
    number: Option<String>,
}

/// Wish order states → ours: APPROVED is ready to ship; REQUIRE_REVIEW is held by Wish
/// (not to be shipped yet); REFUNDED and DECLINED are closed without shipping.
pub(super) fn market_state(state: Option<&str>) -> MarketState {
    match state {
        Some("SHIPPED") => MarketState::Shipped,
        Some("REFUNDED" | "DECLINED") => MarketState::Cancelled,
        Some("REQUIRE_REVIEW") => MarketState::AwaitingPayment,
        _ => MarketState::AwaitingShipment,
    }
}

impl TryFrom<Order> for MarketOrder {
    type Error = ConnectorError;

    fn try_from(o: Order) -> Result<Self, ConnectorError> {
        let ship = o
            .full_address
            .and_then(|a| a.shipping_detail)
            .ok_or_else(|| ConnectorError::Decode(format!("order {} has no shipping_detail", o.id)))?;
        let pay = o.order_payment.and_then(|p| p.general_payment_details);
        let quantity = pay.as_ref().and_then(|p| p.product_quantity).unwrap_or(1).max(1);
        let unit = pay.as_ref().and_then(|p| p.product_price.as_ref()).map(Money::minor).transpose()?.unwrap_or(0);
        let total_money = pay.as_ref().and_then(|p| p.payment_total.as_ref());
        let total = total_money.map(Money::minor).transpose()?.unwrap_or(unit * i64::from(quantity));
        let currency = total_money.map(|m| m.currency_code.clone()).unwrap_or_else(|| "USD".into());
        let product = o.product_information;
        let line2 = [ship.street_address2, ship.street_address3]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        Ok(MarketOrder {
            platform_order_id: o.id.clone(),
            state: market_state(o.state.as_deref()),
            marketplace_id: None,
            platform_status: o.state,
            buyer_name: None,
            buyer_email: None,
            recipient: Address {
                name: ship.name.unwrap_or_default(),
                company: None,
                phone: ship.phone_number.and_then(|p| match (p.country_code, p.number) {
                    (Some(c), Some(n)) => Some(format!("+{} {n}", c.trim_start_matches('+'))),
                    (None, n) => n,
                    (Some(_), None) => None,
                }),
                email: None,
                line1: ship.street_address1.unwrap_or_default(),
                line2: (!line2.is_empty()).then_some(line2),
                city: ship.city,
                state: ship.state,
                postal_code: ship.zipcode,
                country_code: ship.country_code.unwrap_or_default(),
            },
            currency,
            total_minor: total,
            shipping_minor: 0,
            ordered_at: o.released_at,
            updated_at: o.updated_at,
            items: vec![MarketOrderItem {
                // One product per Wish order: the order id identifies the line.
                platform_item_id: product
                    .as_ref()
                    .and_then(|p| p.variation_id.clone().or_else(|| p.id.clone()))
                    .unwrap_or(o.id),
                sku: product.as_ref().and_then(|p| p.sku.clone()),
                title: product.and_then(|p| p.name),
                quantity,
                unit_price_minor: unit,
            }],
        })
    }
}

/// `tracking_information[].tracking_number` of an order.
pub(super) fn tracking_numbers(order: &serde_json::Value) -> impl Iterator<Item = &str> {
    order["tracking_information"].as_array().into_iter().flatten().filter_map(|t| t["tracking_number"].as_str())
}

/// `shipping_carriers`' answer: a list of providers, each a name or an object naming it.
pub(super) fn carriers(data: &serde_json::Value) -> Vec<crate::connectors::marketplace::CarrierOption> {
    let list = data.as_array().or_else(|| data["shipping_carriers"].as_array()).or_else(|| data["carriers"].as_array());
    list.into_iter()
        .flatten()
        .filter_map(|c| {
            let name = c.as_str().map(str::to_owned).or_else(|| {
                ["name", "shipping_provider", "provider_name", "display_name"]
                    .iter()
                    .find_map(|k| c[*k].as_str().map(str::to_owned))
            })?;
            Some(crate::connectors::marketplace::CarrierOption {
                code: name.clone(),
                name,
                requires_tracking_url: false,
            })
        })
        .collect()
}
