//! Wish Merchant API v3.
//!
//! Rules followed (`shared/connectors.md` §5, Wish v3 OpenAPI 3.0.65 and
//! merchant.wish.com/documentation/api/v3/oauth):
//! - consent `GET {base}/v3/oauth/authorize?client_id=` (the only parameter; the app's
//!   registered redirect URI receives `code`, single-use, 5 minutes) — so the redirect URI
//!   we ask the seller to register carries the account's `state`;
//! - `POST {base}/api/v3/oauth/access_token` JSON `{client_id, client_secret, code,
//!   grant_type: authorization_code, redirect_uri}`; refresh `GET
//!   {base}/api/v3/oauth/refresh_token?client_id&client_secret&refresh_token&grant_type=refresh_token`
//!   (revokes the current access tokens); access tokens last 30 days;
//! - every response is enveloped `{code, message, data}`; codes 1006/1007/1008 are token
//!   problems, 10001-10004 credential/code problems;
//! - `GET /api/v3/orders?updated_at_min&sort_by=updated_at.asc&limit` is keyset-paged on
//!   `updated_at` with inclusive bounds: the next page starts at the last item's
//!   timestamp, and orders already seen at that timestamp are dropped (de-duplication by id);
//! - `PUT /api/v3/orders/{id}/tracking {tracking_number, shipping_provider, origin_country}`
//!   is asynchronous (`processing_status`); `shipping_provider` must be one of
//!   `GET /api/v3/orders/shipping_carriers`; `GET /api/v3/orders/{id}` shows
//!   `tracking_information` (reconciliation).
//!
//! Sources and choices: `WIRE.md` beside this file.

mod wire;

use async_trait::async_trait;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{
    AccountRef, AppCredentials, Authorizer, CarrierOption, MarketOrder, Marketplace, OrderPage, Shipment, TokenSet,
};
use crate::connectors::{
    ConnectorError,
    http::{HttpClient, RateLimits},
};

const PAGE_SIZE: usize = 100;

#[derive(Debug, Clone)]
pub struct Wish {
    http: HttpClient,
    /// e.g. `https://merchant.wish.com`
    base: String,
    limits: RateLimits,
}

/// Resume point between pages: the timestamp to restart at and the ids already taken there.
#[derive(Serialize, Deserialize, Default)]
struct Cursor {
    min: String,
    seen: Vec<String>,
}

impl Wish {
    pub fn new(http: HttpClient, base: impl Into<String>) -> Self {
        Self { http, base: base.into(), limits: RateLimits::default() }
    }

    /// Operations: `orders`, `tracking`.
    pub fn with_rate_limits(mut self, limits: RateLimits) -> Self {
        self.limits = limits;
        self
    }

    async fn token(&self, req: reqwest::RequestBuilder) -> Result<TokenSet, ConnectorError> {
        let resp = self.http.send_once(req).await?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| ConnectorError::Transient(e.without_url().to_string()))?;
        let data: wire::TokenData = wire::unwrap_envelope(status, &body, true)?;
        Ok(TokenSet {
            access_token: SecretString::from(data.access_token),
            access_expires_at: data.expiry_time.unwrap_or_else(|| Utc::now() + Duration::days(30)),
            refresh_token: data.refresh_token.map(SecretString::from),
            refresh_expires_at: None,
            seller_id: data.merchant_id,
        })
    }
}

#[async_trait]
impl Authorizer for Wish {
    fn authorization_url(&self, app: &AppCredentials, _state: &str) -> String {
        // Wish takes only client_id; the state travels inside the registered redirect URI.
        format!("{}/v3/oauth/authorize?client_id={}", self.base, urlencode(&app.client_id))
    }

    async fn exchange_code(&self, app: &AppCredentials, code: &str) -> Result<TokenSet, ConnectorError> {
        let body = serde_json::json!({
            "client_id": app.client_id,
            "client_secret": app.client_secret.expose_secret(),
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": app.redirect,
        });
        self.token(self.http.raw().post(format!("{}/api/v3/oauth/access_token", self.base)).json(&body)).await
    }

    async fn refresh(&self, app: &AppCredentials, refresh_token: &SecretString) -> Result<TokenSet, ConnectorError> {
        let req = self.http.raw().get(format!("{}/api/v3/oauth/refresh_token", self.base)).query(&[
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.expose_secret()),
            ("refresh_token", refresh_token.expose_secret()),
            ("grant_type", "refresh_token"),
        ]);
        self.token(req).await
    }
}

#[async_trait]
impl Marketplace for Wish {
    async fn fetch_orders(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
        since: DateTime<Utc>,
        cursor: Option<&str>,
    ) -> Result<OrderPage, ConnectorError> {
        self.limits.wait("orders", &account.key).await?;
        let cursor: Cursor = match cursor {
            Some(c) => serde_json::from_str(c).map_err(|e| ConnectorError::Decode(format!("bad cursor: {e}")))?,
            None => Cursor { min: since.to_rfc3339_opts(SecondsFormat::Millis, true), seen: Vec::new() },
        };
        let url = format!("{}/api/v3/orders", self.base);
        let limit = PAGE_SIZE.to_string();
        let data = self
            .get_data(
                access_token,
                &url,
                &[("updated_at_min", cursor.min.as_str()), ("sort_by", "updated_at.asc"), ("limit", limit.as_str())],
            )
            .await?;
        let raw: Vec<wire::Order> =
            serde_json::from_value(data).map_err(|e| ConnectorError::Decode(format!("orders page: {e}")))?;
        let full_page = raw.len() >= PAGE_SIZE;
        let mut orders = Vec::with_capacity(raw.len());
        for o in raw {
            let o = MarketOrder::try_from(o)?;
            let at_min = o.updated_at.to_rfc3339_opts(SecondsFormat::Millis, true) == cursor.min;
            if at_min && cursor.seen.contains(&o.platform_order_id) {
                continue;
            }
            orders.push(o);
        }
        let next = if full_page {
            let last = orders.last().map(|o| o.updated_at).ok_or_else(|| {
                ConnectorError::Decode("a full page of orders all seen before: cannot advance".into())
            })?;
            let min = last.to_rfc3339_opts(SecondsFormat::Millis, true);
            let mut seen: Vec<String> =
                orders.iter().filter(|o| o.updated_at == last).map(|o| o.platform_order_id.clone()).collect();
            if min == cursor.min {
                seen.extend(cursor.seen.iter().cloned());
            }
            Some(serde_json::to_string(&Cursor { min, seen }).map_err(|e| ConnectorError::Decode(e.to_string()))?)
        } else {
            None
        };
        Ok(OrderPage { orders, next })
    }

    async fn write_tracking(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
        shipment: &Shipment,
    ) -> Result<String, ConnectorError> {
        self.limits.wait("tracking", &account.key).await?;
        let body = serde_json::json!({
            "tracking_number": shipment.tracking_number,
            "shipping_provider": shipment.carrier.code,
            "origin_country": "CN",
        });
        let url = format!("{}/api/v3/orders/{}/tracking", self.base, urlencode(&shipment.platform_order_id));
        let resp =
            self.http.send_once(self.http.raw().put(url).bearer_auth(access_token.expose_secret()).json(&body)).await?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| ConnectorError::Transient(e.without_url().to_string()))?;
        let order: serde_json::Value = wire::unwrap_envelope(status, &bytes, false)?;
        Ok(order["processing_status"].as_str().unwrap_or("IN_PROGRESS").to_owned())
    }

    async fn find_tracking(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
        shipment: &Shipment,
    ) -> Result<Option<String>, ConnectorError> {
        self.limits.wait("orders", &account.key).await?;
        let url = format!("{}/api/v3/orders/{}", self.base, urlencode(&shipment.platform_order_id));
        let order = self.get_data(access_token, &url, &[]).await?;
        // The write is asynchronous: a tracking number Wish failed to process is not written.
        let status = order["processing_status"].as_str().unwrap_or("SUCCEEDED");
        Ok((status != "FAILED" && wire::tracking_numbers(&order).any(|t| t == shipment.tracking_number))
            .then(|| status.to_owned()))
    }

    async fn carriers(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
    ) -> Result<Option<Vec<CarrierOption>>, ConnectorError> {
        self.limits.wait("orders", &account.key).await?;
        let url = format!("{}/api/v3/orders/shipping_carriers", self.base);
        let data = self.get_data(access_token, &url, &[("order_type", "GENERAL")]).await?;
        Ok(Some(wire::carriers(&data)))
    }
}

impl Wish {
    async fn get_data(
        &self,
        access_token: &SecretString,
        url: &str,
        query: &[(&str, &str)],
    ) -> Result<serde_json::Value, ConnectorError> {
        let resp = self
            .http
            .send_idempotent(
                || self.http.raw().get(url).bearer_auth(access_token.expose_secret()).query(query),
                |r| async move {
                    let status = r.status().as_u16();
                    let body = r.bytes().await.unwrap_or_default();
                    wire::unwrap_envelope::<serde_json::Value>(status, &body, false).err().unwrap_or_else(|| {
                        ConnectorError::Rejected { code: status.to_string(), message: "unexpected response".into() }
                    })
                },
            )
            .await?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| ConnectorError::Transient(e.without_url().to_string()))?;
        wire::unwrap_envelope(status, &body, false)
    }
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|v| v.trim_start_matches('=').to_owned()).unwrap_or_default()
}
