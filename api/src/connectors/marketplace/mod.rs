//! The `Marketplace` role: seller authorization, tokens, paged order download since a
//! watermark, and tracking write-back. One module per platform; each keeps its wire
//! DTOs private and maps them to the types below.

pub mod aliexpress;
pub mod amazon;
pub mod ebay;
pub mod wish;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;

use super::ConnectorError;

pub use crate::connectors::oauth::{AppCredentials, Authorizer, TokenSet};

/// What a connector needs to know about the account it acts for (besides the token).
#[derive(Debug, Clone, Default)]
pub struct AccountRef {
    /// Our account id: the key for per-seller rate limits.
    pub key: String,
    /// The seller's id on the platform (Amazon selling partner id, AliExpress seller id…).
    pub seller_id: Option<String>,
    /// Amazon marketplace id (e.g. ATVPDKIKX0DER) given when the account was connected.
    pub marketplace_id: Option<String>,
    /// Every marketplace the seller sells in (Amazon: from `getMarketplaceParticipations`
    /// when connected, or the account's configured list). Empty: `marketplace_id` alone.
    pub marketplace_ids: Vec<String>,
    /// Platform region (Amazon NA/EU/FE).
    pub region: Option<String>,
    /// Per-seller app credentials (AliExpress signs every call with the app secret).
    pub app: Option<AppCredentials>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketOrderItem {
    pub platform_item_id: String,
    pub sku: Option<String>,
    pub title: Option<String>,
    pub quantity: i32,
    pub unit_price_minor: i64,
}

/// Where the order stands on the marketplace, mapped by each connector from its own
/// statuses. Only `AwaitingShipment` orders can be pushed; the others are imported in a
/// state that says why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketState {
    /// Not paid / under review: not to be shipped yet.
    AwaitingPayment,
    AwaitingShipment,
    /// Shipped (or fulfilled) on the marketplace, by Shipgate or outside it.
    Shipped,
    /// The buyer asked to cancel or for a refund; not to be shipped while it is open.
    CancelRequested,
    /// Cancelled, refunded or closed without shipping.
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketOrder {
    pub platform_order_id: String,
    pub platform_status: Option<String>,
    pub state: MarketState,
    /// The marketplace the order was placed in, where the platform has several per seller
    /// (Amazon); needed again to confirm the shipment.
    pub marketplace_id: Option<String>,
    pub buyer_name: Option<String>,
    pub buyer_email: Option<String>,
    pub recipient: Address,
    pub currency: String,
    pub total_minor: i64,
    pub shipping_minor: i64,
    pub ordered_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub items: Vec<MarketOrderItem>,
}

/// One page of orders and where the next one starts (an opaque, platform-specific cursor
/// persisted between pages so a download resumes where it stopped).
#[derive(Debug, Clone)]
pub struct OrderPage {
    pub orders: Vec<MarketOrder>,
    pub next: Option<String>,
}

/// The carrier as one marketplace knows it: its own identifier (eBay shipping carrier
/// code, AliExpress `service_name`, Wish `shipping_provider`, Amazon `carrierCode`), the
/// display name (Amazon `carrierName` with `Other`) and a tracking URL where required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carrier {
    pub code: String,
    pub name: Option<String>,
    pub tracking_url: Option<String>,
}

/// One carrier a seller's account may use, from the platform's per-seller list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CarrierOption {
    pub code: String,
    pub name: String,
    /// The platform wants a tracking website with this carrier (AliExpress `other`).
    #[serde(default)]
    pub requires_tracking_url: bool,
}

/// Facts about the connected seller, read once after authorization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFacts {
    /// The seller's user id as the platform shows it (eBay username: OrangeConnex's `ebayId`).
    pub user_name: Option<String>,
    /// Every marketplace the seller participates in (Amazon).
    pub marketplace_ids: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Shipment {
    pub platform_order_id: String,
    /// The order's marketplace (Amazon), when the platform has several.
    pub marketplace_id: Option<String>,
    pub carrier: Carrier,
    pub tracking_number: String,
    pub shipped_at: DateTime<Utc>,
    pub items: Vec<(String, i32)>,
}

#[async_trait]
pub trait Marketplace: Authorizer {
    /// Orders modified since `since`, one page; `cursor` is the previous page's `next`.
    async fn fetch_orders(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
        since: DateTime<Utc>,
        cursor: Option<&str>,
    ) -> Result<OrderPage, ConnectorError>;
    /// Tells the platform the order shipped with this tracking number. Returns the
    /// platform's reference for the fulfillment.
    async fn write_tracking(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
        shipment: &Shipment,
    ) -> Result<String, ConnectorError>;
    /// Reads the marketplace's own record of the order's shipments: `Some(reference)` when
    /// one with this tracking number is already there. Called before resending a write
    /// whose outcome is unknown (timeout, 5xx, dropped connection).
    async fn find_tracking(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
        shipment: &Shipment,
    ) -> Result<Option<String>, ConnectorError>;
    /// The carriers this seller's account may use, where the platform keeps a per-seller
    /// list (AliExpress `listlogisticsservice`, Wish `shipping_carriers`); `None` where it
    /// does not (eBay, Amazon: documented code lists).
    async fn carriers(
        &self,
        _access_token: &SecretString,
        _account: &AccountRef,
    ) -> Result<Option<Vec<CarrierOption>>, ConnectorError> {
        Ok(None)
    }
    /// Facts read once after the seller authorized (eBay username, Amazon marketplaces).
    async fn account_facts(
        &self,
        _access_token: &SecretString,
        _account: &AccountRef,
    ) -> Result<AccountFacts, ConnectorError> {
        Ok(AccountFacts::default())
    }
}

/// Decimal string ("12.34") → minor units (1234), for 2-decimal currencies.
pub fn parse_minor(amount: &str) -> Result<i64, ConnectorError> {
    let s = amount.trim();
    let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
    {
        return Err(ConnectorError::Decode(format!("not an amount: {amount:?}")));
    }
    let int: i64 = int.parse().map_err(|_| ConnectorError::Decode(format!("amount out of range: {amount:?}")))?;
    let frac: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
    let v = int
        .checked_mul(100)
        .and_then(|v| v.checked_add(frac))
        .ok_or_else(|| ConnectorError::Decode("amount out of range".into()))?;
    Ok(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::parse_minor;

    #[test]
    fn amounts() {
        assert_eq!(parse_minor("12.34"), Ok(1234));
        assert_eq!(parse_minor("12.3"), Ok(1230));
        assert_eq!(parse_minor("7"), Ok(700));
        assert_eq!(parse_minor("-0.05"), Ok(-5));
        assert!(parse_minor("1.234").is_err());
        assert!(parse_minor("abc").is_err());
        assert!(parse_minor("").is_err());
    }
}
