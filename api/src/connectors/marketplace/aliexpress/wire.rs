//! AliExpress wire shapes (private) and mapping.

use serde::Deserialize;
use serde_json::Value;

use super::pacific;
use crate::connectors::{
    ConnectorError,
    marketplace::{Address, CarrierOption, MarketOrder, MarketOrderItem, MarketState, parse_minor},
};

#[derive(Deserialize)]
struct ErrorResponse {
    code: Option<Value>,
    msg: Option<String>,
    sub_code: Option<String>,
    sub_msg: Option<String>,
}

fn classify(e: ErrorResponse) -> ConnectorError {
    let code = e.code.map(|c| c.to_string().trim_matches('"').to_owned()).unwrap_or_default();
    let msg = format!(
        "AliExpress {code}{}: {}",
        e.sub_code.as_deref().map(|s| format!("/{s}")).unwrap_or_default(),
        e.sub_msg.or(e.msg).unwrap_or_default()
    );
    match code.as_str() {
        "IllegalAccessToken" | "AccessTokenExpired" | "27" => ConnectorError::Unauthorized(msg),
        "IllegalRefreshToken" | "InvalidAppKey" | "IncompleteSignature" | "InvalidCode" | "AppUnauthorized" => {
            ConnectorError::AuthorizationInvalid(msg)
        }
        "ApiCallLimit" | "AppCallLimit" => {
            ConnectorError::RateLimited { retry_after: std::time::Duration::from_secs(1) }
        }
        "ServiceUnavailable" | "15" => ConnectorError::Transient(msg),
        _ => ConnectorError::Rejected { code, message: msg },
    }
}

#[derive(Deserialize)]
pub(super) struct Token {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
    pub refresh_expires_in: Option<i64>,
    pub seller_id: Option<Value>,
}

/// Token responses are flat (`{access_token, …, code: "0"}`), errors either flat
/// (`{code, message}`) or `{error_response: …}`.
pub(super) fn token(status: u16, body: &[u8]) -> Result<Token, ConnectorError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        if status >= 500 {
            ConnectorError::Transient(format!("HTTP {status}"))
        } else {
            ConnectorError::Decode(format!("token response: {e}"))
        }
    })?;
    if let Some(err) = v.get("error_response") {
        return Err(classify(serde_json::from_value(err.clone()).map_err(|e| ConnectorError::Decode(e.to_string()))?));
    }
    let code = v.get("code").map(|c| c.to_string().trim_matches('"').to_owned()).unwrap_or_else(|| "0".into());
    if code != "0" || v.get("access_token").is_none() {
        return Err(classify(ErrorResponse {
            code: Some(Value::String(code)),
            msg: v.get("message").and_then(Value::as_str).map(str::to_owned),
            sub_code: None,
            sub_msg: None,
        }));
    }
    serde_json::from_value(v).map_err(|e| ConnectorError::Decode(format!("token response: {e}")))
}

/// Opens `{<method>_response: {result: …}}` and returns `result`.
pub(super) fn response(status: u16, body: &[u8], method: &str) -> Result<Value, ConnectorError> {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) if status >= 500 => return Err(ConnectorError::Transient(format!("HTTP {status}"))),
        Err(e) => return Err(ConnectorError::Decode(format!("AliExpress response: {e}"))),
    };
    if let Some(err) = v.get("error_response") {
        return Err(classify(serde_json::from_value(err.clone()).map_err(|e| ConnectorError::Decode(e.to_string()))?));
    }
    let key = format!("{}_response", method.replace('.', "_"));
    let r = v.get(&key).ok_or_else(|| ConnectorError::Decode(format!("AliExpress response without {key}")))?;
    // Methods wrap their answer in `result`, except listlogisticsservice, which puts
    // `result_list`/`result_success` straight in the response object. A missing `result`
    // elsewhere is an error, never an empty page.
    match r.get("result") {
        Some(result) => Ok(result.clone()),
        None if method == LIST_LOGISTICS_SERVICE => Ok(r.clone()),
        None => Err(ConnectorError::Decode(format!("AliExpress response without {key}.result"))),
    }
}

#[derive(Deserialize)]
pub(super) struct OrderList {
    #[serde(default, rename = "target_list", deserialize_with = "order_dtos")]
    pub orders: Vec<OrderSummary>,
    pub total_count: Option<i64>,
    pub total_page: Option<i64>,
}

fn order_dtos<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<OrderSummary>, D::Error> {
    #[derive(Deserialize)]
    struct TargetList {
        #[serde(default)]
        order_dto: Vec<OrderSummary>,
    }
    Ok(Option::<TargetList>::deserialize(d)?.map(|t| t.order_dto).unwrap_or_default())
}

#[derive(Deserialize)]
pub(super) struct OrderSummary {
    order_id: Value,
    order_status: Option<String>,
    gmt_create: Option<String>,
    gmt_update: Option<String>,
    pay_amount: Option<Money>,
    product_list: Option<ProductList>,
}

impl OrderSummary {
    pub fn order_id_string(&self) -> String {
        self.order_id.to_string().trim_matches('"').to_owned()
    }
}

#[derive(Deserialize)]
struct ProductList {
    #[serde(default)]
    order_product_dto: Vec<Product>,
}

#[derive(Deserialize)]
struct Product {
    sku_code: Option<String>,
    product_name: Option<String>,
    product_count: Option<Value>,
    product_unit_price: Option<Money>,
    child_id: Option<Value>,
}

#[derive(Deserialize)]
struct Money {
    amount: Value,
    currency_code: Option<String>,
}

impl Money {
    fn minor(&self) -> Result<i64, ConnectorError> {
        parse_minor(self.amount.to_string().trim_matches('"'))
    }
}

#[derive(Deserialize)]
pub(super) struct OrderDetail {
    data: Option<DetailData>,
}

#[derive(Deserialize)]
struct DetailData {
    receipt_address: Option<ReceiptAddress>,
    buyer_info: Option<BuyerInfo>,
    order_end_reason: Option<String>,
    logistics_status: Option<String>,
}

/// AliExpress order statuses → ours (`order_status`, with `order_end_reason` and
/// `logistics_status` telling a closed order that shipped from one that did not).
pub(super) fn market_state(status: Option<&str>, end_reason: Option<&str>, logistics: Option<&str>) -> MarketState {
    let shipped = matches!(logistics, Some("SELLER_SEND_GOODS" | "SELLER_SEND_PART_GOODS" | "BUYER_ACCEPT_GOODS"));
    match status {
        Some("PLACE_ORDER_SUCCESS" | "RISK_CONTROL" | "WAIT_SELLER_EXAMINE_MONEY") => MarketState::AwaitingPayment,
        Some("WAIT_SELLER_SEND_GOODS" | "SELLER_PART_SEND_GOODS") => MarketState::AwaitingShipment,
        Some("WAIT_BUYER_ACCEPT_GOODS" | "FUND_PROCESSING") => MarketState::Shipped,
        Some("IN_CANCEL") => MarketState::CancelRequested,
        Some("IN_ISSUE" | "IN_FROZEN") if shipped => MarketState::Shipped,
        Some("IN_ISSUE" | "IN_FROZEN") => MarketState::CancelRequested,
        // Closed by a cancellation (e.g. `cancel_order_close_trade`), even after a part shipped.
        Some("FINISH") if end_reason.is_some_and(|r| r.contains("cancel") || r.contains("close")) => {
            MarketState::Cancelled
        }
        Some("FINISH") if shipped || (end_reason.is_none() && logistics.is_none()) => MarketState::Shipped,
        Some("FINISH") => MarketState::Cancelled,
        _ => MarketState::AwaitingShipment,
    }
}

/// Every `logistics_no` the order's detail names (its declared shipments), wherever the
/// detail nests them (`logistic_info_list`…).
pub(super) fn declared_tracking(detail: &Value, out: &mut Vec<String>) {
    match detail {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "logistics_no" {
                    if let Some(s) = v.as_str() {
                        out.push(s.to_owned());
                    }
                } else {
                    declared_tracking(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| declared_tracking(v, out)),
        _ => {}
    }
}

pub(super) const LIST_LOGISTICS_SERVICE: &str = "aliexpress.logistics.redefining.listlogisticsservice";

/// `listlogisticsservice`: `result_list` (an array, or `{aeop_logistics_service_result: […]}`)
/// of `{service_name, display_name, …}`; `result_success: false` is an error, not an
/// empty list.
pub(super) fn logistics_services(v: &Value) -> Result<Vec<CarrierOption>, ConnectorError> {
    let ok = v["result_success"].as_bool().or_else(|| v["result_success"].as_str().map(|s| s == "true"));
    if ok == Some(false) {
        return Err(ConnectorError::Rejected {
            code: "result_success=false".into(),
            message: v["error_desc"].as_str().unwrap_or("AliExpress did not list the logistics services").to_owned(),
        });
    }
    let list = &v["result_list"];
    let items = list.as_array().or_else(|| list["aeop_logistics_service_result"].as_array());
    Ok(items
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let code = s["service_name"].as_str()?.to_owned();
            let name = s["display_name"].as_str().map(str::to_owned).unwrap_or_else(|| code.clone());
            let requires_tracking_url = code.eq_ignore_ascii_case("other") || code.starts_with("OTHER_");
            Some(CarrierOption { code, name, requires_tracking_url })
        })
        .collect())
}

#[derive(Deserialize)]
struct ReceiptAddress {
    contact_person: Option<String>,
    /// The street, as order.info.get's documented example names it (older samples: `address`).
    detail_address: Option<String>,
    address: Option<String>,
    address2: Option<String>,
    city: Option<String>,
    province: Option<String>,
    zip: Option<String>,
    country: Option<String>,
    phone_country: Option<String>,
    mobile_no: Option<String>,
}

#[derive(Deserialize)]
struct BuyerInfo {
    #[serde(alias = "buyer_login_id")]
    login_id: Option<String>,
    #[serde(alias = "buyer_first_name")]
    first_name: Option<String>,
    #[serde(alias = "buyer_last_name")]
    last_name: Option<String>,
}

pub(super) fn to_market_order(s: OrderSummary, d: OrderDetail) -> Result<MarketOrder, ConnectorError> {
    let id = s.order_id_string();
    let data = d.data.ok_or_else(|| ConnectorError::Decode(format!("order {id}: info.get has no data")))?;
    let addr =
        data.receipt_address.ok_or_else(|| ConnectorError::Decode(format!("order {id} has no receipt_address")))?;
    let updated_at = s
        .gmt_update
        .as_deref()
        .or(s.gmt_create.as_deref())
        .and_then(pacific::parse)
        .ok_or_else(|| ConnectorError::Decode(format!("order {id} has no readable gmt_update")))?;
    let mut items = Vec::new();
    for (n, p) in s.product_list.map(|l| l.order_product_dto).unwrap_or_default().into_iter().enumerate() {
        let quantity: i32 =
            p.product_count.as_ref().map(|c| c.to_string().trim_matches('"').parse().unwrap_or(1)).unwrap_or(1);
        items.push(MarketOrderItem {
            platform_item_id: p
                .child_id
                .map(|c| c.to_string().trim_matches('"').to_owned())
                .unwrap_or_else(|| format!("{id}-{n}")),
            sku: p.sku_code.filter(|s| !s.is_empty()),
            title: p.product_name,
            quantity: quantity.max(1),
            unit_price_minor: p.product_unit_price.as_ref().map(Money::minor).transpose()?.unwrap_or(0),
        });
    }
    let buyer = data.buyer_info;
    Ok(MarketOrder {
        state: market_state(
            s.order_status.as_deref(),
            data.order_end_reason.as_deref(),
            data.logistics_status.as_deref(),
        ),
        marketplace_id: None,
        platform_order_id: id,
        platform_status: s.order_status,
        buyer_name: buyer.as_ref().and_then(|b| match (&b.first_name, &b.last_name) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            _ => b.login_id.clone(),
        }),
        buyer_email: None,
        recipient: Address {
            name: addr.contact_person.unwrap_or_default(),
            company: None,
            phone: match (addr.phone_country, addr.mobile_no) {
                (Some(c), Some(n)) if !c.is_empty() => Some(format!("+{} {n}", c.trim_start_matches('+'))),
                (_, n) => n,
            },
            email: None,
            line1: addr.detail_address.filter(|a| !a.is_empty()).or(addr.address).unwrap_or_default(),
            line2: addr.address2.filter(|s| !s.is_empty()),
            city: addr.city,
            state: addr.province,
            postal_code: addr.zip,
            country_code: addr.country.unwrap_or_default(),
        },
        currency: s.pay_amount.as_ref().and_then(|m| m.currency_code.clone()).unwrap_or_else(|| "USD".into()),
        total_minor: s.pay_amount.as_ref().map(Money::minor).transpose()?.unwrap_or(0),
        shipping_minor: 0,
        ordered_at: s.gmt_create.as_deref().and_then(pacific::parse),
        updated_at,
        items,
    })
}
