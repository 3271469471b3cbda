//! Amazon Selling Partner API with Login-with-Amazon tokens (no AWS SigV4 since
//! 2 Oct 2023; the seed's AWS key fields are legacy and not needed).
//!
//! Rules followed (`shared/connectors.md` §3; amzn/selling-partner-api-models ordersV0.json;
//! developer-docs.amazon.com sp-api-endpoints, marketplace-ids, website authorization workflow):
//! - consent `{sellercentral}/apps/authorize/consent?application_id&state&version=beta`;
//!   the callback receives `state`, `selling_partner_id`, `spapi_oauth_code`;
//! - LWA `POST {lwa}/auth/o2/token` form `grant_type=authorization_code&code&redirect_uri&client_id&client_secret`
//!   or `grant_type=refresh_token&refresh_token&client_id&client_secret` → `{access_token, expires_in: 3600, refresh_token}`;
//! - calls carry `x-amz-access-token`; regional hosts (NA/EU/FE);
//! - `GET /orders/v0/orders?MarketplaceIds&LastUpdatedAfter&MaxResultsPerPage≤100` then
//!   `NextToken`; lines from `GET /orders/v0/orders/{id}/orderItems` (also `NextToken`-paged);
//! - `POST /orders/v0/orders/{id}/shipmentConfirmation` → 204;
//! - errors `{"errors":[{"code","message","details"}]}`, 429 when throttled.

mod wire;

use async_trait::async_trait;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::{AccountRef, AppCredentials, Authorizer, MarketOrder, Marketplace, OrderPage, Shipment, TokenSet};
use crate::connectors::{
    ConnectorError,
    http::{HttpClient, RateLimits},
};

pub const DEFAULT_MARKETPLACE: &str = "ATVPDKIKX0DER";
const PAGE_SIZE: &str = "100";

#[derive(Debug, Clone)]
pub struct Amazon {
    http: HttpClient,
    application_id: String,
    /// Seller Central host for consent, e.g. `https://sellercentral.amazon.com`.
    consent_base: String,
    /// e.g. `https://api.amazon.com`.
    lwa_base: String,
    /// SP-API host, e.g. `https://sellingpartnerapi-na.amazon.com`.
    api_base: String,
    limits: RateLimits,
}

impl Amazon {
    pub fn new(
        http: HttpClient,
        application_id: impl Into<String>,
        consent_base: impl Into<String>,
        lwa_base: impl Into<String>,
        api_base: impl Into<String>,
    ) -> Self {
        Self {
            http,
            application_id: application_id.into(),
            consent_base: consent_base.into(),
            lwa_base: lwa_base.into(),
            api_base: api_base.into(),
            limits: RateLimits::default(),
        }
    }

    /// Operations: `getOrders`, `getOrderItems`, `confirmShipment` (SP-API usage plans).
    pub fn with_rate_limits(mut self, limits: RateLimits) -> Self {
        self.limits = limits;
        self
    }

    async fn lwa(&self, form: &[(&str, &str)]) -> Result<TokenSet, ConnectorError> {
        let resp =
            self.http.send_once(self.http.raw().post(format!("{}/auth/o2/token", self.lwa_base)).form(form)).await?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| ConnectorError::Transient(e.without_url().to_string()))?;
        let t = wire::token(status, &body)?;
        Ok(TokenSet {
            access_token: SecretString::from(t.access_token),
            access_expires_at: Utc::now() + Duration::seconds(t.expires_in.unwrap_or(3600)),
            refresh_token: t.refresh_token.map(SecretString::from),
            // Sellers re-authorize every 365 days.
            refresh_expires_at: None,
            seller_id: None,
        })
    }

    async fn get(
        &self,
        token: &SecretString,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<serde_json::Value, ConnectorError> {
        let url = format!("{}{path}", self.api_base);
        let resp = self
            .http
            .send_idempotent(
                || self.http.raw().get(&url).header("x-amz-access-token", token.expose_secret()).query(query),
                |r| async move {
                    let status = r.status().as_u16();
                    let body = r.bytes().await.unwrap_or_default();
                    wire::api_error(status, &body)
                },
            )
            .await?;
        let body = resp.bytes().await.map_err(|e| ConnectorError::Transient(e.without_url().to_string()))?;
        serde_json::from_slice(&body).map_err(|e| ConnectorError::Decode(format!("SP-API response: {e}")))
    }
}

#[async_trait]
impl Authorizer for Amazon {
    fn authorization_url(&self, _app: &AppCredentials, state: &str) -> String {
        let q = serde_urlencoded::to_string([
            ("application_id", self.application_id.as_str()),
            ("state", state),
            ("version", "beta"),
        ])
        .unwrap_or_default();
        format!("{}/apps/authorize/consent?{q}", self.consent_base)
    }

    async fn exchange_code(&self, app: &AppCredentials, code: &str) -> Result<TokenSet, ConnectorError> {
        self.lwa(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &app.redirect),
            ("client_id", &app.client_id),
            ("client_secret", app.client_secret.expose_secret()),
        ])
        .await
    }

    async fn refresh(&self, app: &AppCredentials, refresh_token: &SecretString) -> Result<TokenSet, ConnectorError> {
        self.lwa(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
            ("client_id", &app.client_id),
            ("client_secret", app.client_secret.expose_secret()),
        ])
        .await
    }
}

#[async_trait]
impl Marketplace for Amazon {
    async fn fetch_orders(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
        since: DateTime<Utc>,
        cursor: Option<&str>,
    ) -> Result<OrderPage, ConnectorError> {
        let marketplace = account.marketplace_id.as_deref().unwrap_or(DEFAULT_MARKETPLACE);
        let after = since.to_rfc3339_opts(SecondsFormat::Secs, true);
        let query: Vec<(&str, &str)> = match cursor {
            Some(token) => vec![("MarketplaceIds", marketplace), ("NextToken", token)],
            None => {
                vec![("MarketplaceIds", marketplace), ("LastUpdatedAfter", &after), ("MaxResultsPerPage", PAGE_SIZE)]
            }
        };
        self.limits.wait("getOrders", &account.key).await;
        let v = self.get(access_token, "/orders/v0/orders", &query).await?;
        let page: wire::OrdersResponse =
            serde_json::from_value(v).map_err(|e| ConnectorError::Decode(format!("getOrders: {e}")))?;
        let mut orders: Vec<MarketOrder> = Vec::with_capacity(page.payload.orders.len());
        for o in page.payload.orders {
            let mut items = Vec::new();
            let mut next: Option<String> = None;
            loop {
                let path = format!("/orders/v0/orders/{}/orderItems", o.amazon_order_id);
                let q: Vec<(&str, &str)> = next.as_deref().map(|t| vec![("NextToken", t)]).unwrap_or_default();
                self.limits.wait("getOrderItems", &account.key).await;
                let v = self.get(access_token, &path, &q).await?;
                let r: wire::OrderItemsResponse =
                    serde_json::from_value(v).map_err(|e| ConnectorError::Decode(format!("getOrderItems: {e}")))?;
                items.extend(r.payload.order_items);
                match r.payload.next_token {
                    Some(t) => next = Some(t),
                    None => break,
                }
            }
            orders.push(wire::to_market_order(o, items)?);
        }
        Ok(OrderPage { orders, next: page.payload.next_token })
    }

    async fn write_tracking(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
        shipment: &Shipment,
    ) -> Result<String, ConnectorError> {
        let body = serde_json::json!({
            "marketplaceId": account.marketplace_id.as_deref().unwrap_or(DEFAULT_MARKETPLACE),
            "packageDetail": {
                "packageReferenceId": "1",
                "carrierCode": shipment.carrier_code,
                "trackingNumber": shipment.tracking_number,
                "shipDate": shipment.shipped_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                "orderItems": shipment.items.iter().map(|(id, q)| serde_json::json!({ "orderItemId": id, "quantity": q })).collect::<Vec<_>>(),
            }
        });
        self.limits.wait("confirmShipment", &account.key).await;
        let url = format!("{}/orders/v0/orders/{}/shipmentConfirmation", self.api_base, shipment.platform_order_id);
        let resp = self
            .http
            .send_once(self.http.raw().post(url).header("x-amz-access-token", access_token.expose_secret()).json(&body))
            .await?;
        let status = resp.status().as_u16();
        if status == 204 || status == 200 {
            return Ok(shipment.tracking_number.clone());
        }
        let body = resp.bytes().await.unwrap_or_default();
        Err(if status >= 500 {
            ConnectorError::Transient(format!("HTTP {status}"))
        } else {
            wire::api_error(status, &body)
        })
    }
}
