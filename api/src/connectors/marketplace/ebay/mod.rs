//! eBay: OAuth authorization-code grant with a RuName, Basic-auth token endpoint, Sell
//! Fulfillment API `getOrders` and `createShippingFulfillment`.
//!
//! Rules followed (see `shared/connectors.md` §2):
//! - consent `GET {auth}/oauth2/authorize?client_id&redirect_uri=<RuName>&response_type=code&scope&state`
//!   (eBay KB 5075; `redirect_uri` is the RuName, not a URL);
//! - token `POST {api}/identity/v1/oauth2/token`, form body, `Authorization: Basic
//!   base64(client_id:client_secret)`; access 7200 s, refresh ≈ 18 months (developer.ebay.com
//!   oauth-auth-code-grant-request / oauth-refresh-token-request);
//! - `GET /sell/fulfillment/v1/order?filter=lastmodifieddate:[<iso>..]&limit&offset`, following
//!   `next` until absent (sell_fulfillment_v1_oas3 v1.19.2);
//! - `POST /sell/fulfillment/v1/order/{orderId}/shipping_fulfillment` → 201 + `Location`;
//!   `GET` the same path lists the order's fulfillments (reconciliation);
//! - Commerce Identity `GET {apiz}/commerce/identity/v1/user/` → `username` (the eBay user id
//!   OrangeConnex wants as `ebayId`); needs the `commerce.identity.readonly` scope.
//!
//! Sources and choices: `WIRE.md` beside this file.
//! - errors `{"errors":[{"errorId","message"}]}`; token errors `{"error","error_description"}`.

mod wire;

use async_trait::async_trait;
use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::{
    AccountFacts, AccountRef, AppCredentials, Authorizer, MarketOrder, Marketplace, OrderPage, Shipment, TokenSet,
};
use crate::connectors::{
    ConnectorError,
    http::{HttpClient, RateLimits},
};

pub const SCOPES: &str = "https://api.ebay.com/oauth/api_scope https://api.ebay.com/oauth/api_scope/sell.fulfillment https://api.ebay.com/oauth/api_scope/commerce.identity.readonly";
/// getOrders' largest page (`limit`: default 50, maximum 200).
const PAGE_SIZE: u32 = 200;

#[derive(Debug, Clone)]
pub struct Ebay {
    http: HttpClient,
    /// e.g. `https://auth.ebay.com`
    auth_base: String,
    /// e.g. `https://api.ebay.com`
    api_base: String,
    /// The Identity API host, e.g. `https://apiz.ebay.com`.
    identity_base: String,
    limits: RateLimits,
}

impl Ebay {
    pub fn new(http: HttpClient, auth_base: impl Into<String>, api_base: impl Into<String>) -> Self {
        let api_base = api_base.into();
        Self {
            http,
            auth_base: auth_base.into(),
            identity_base: api_base.clone(),
            api_base,
            limits: RateLimits::default(),
        }
    }

    /// The Identity API host (`https://apiz.ebay.com` in production; the same host as the
    /// other calls by default).
    pub fn with_identity_base(mut self, base: impl Into<String>) -> Self {
        self.identity_base = base.into();
        self
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        access_token: &SecretString,
        url: &str,
        what: &str,
    ) -> Result<T, ConnectorError> {
        let resp = self
            .http
            .send_idempotent(
                || self.http.raw().get(url).bearer_auth(access_token.expose_secret()),
                |r| async move {
                    let status = r.status().as_u16();
                    let body = r.bytes().await.unwrap_or_default();
                    wire::api_error(status, &body)
                },
            )
            .await?;
        let body = resp.bytes().await.map_err(|e| ConnectorError::Transient(e.without_url().to_string()))?;
        serde_json::from_slice(&body).map_err(|e| ConnectorError::Decode(format!("{what}: {e}")))
    }

    /// Operations: `getOrders`, `createShippingFulfillment`.
    pub fn with_rate_limits(mut self, limits: RateLimits) -> Self {
        self.limits = limits;
        self
    }

    async fn token_request(&self, app: &AppCredentials, form: &[(&str, &str)]) -> Result<TokenSet, ConnectorError> {
        let basic = STANDARD.encode(format!("{}:{}", app.client_id, app.client_secret.expose_secret()));
        let resp = self
            .http
            .send_once(
                self.http
                    .raw()
                    .post(format!("{}/identity/v1/oauth2/token", self.api_base))
                    .header(reqwest::header::AUTHORIZATION, format!("Basic {basic}"))
                    .form(form),
            )
            .await?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| ConnectorError::Transient(e.without_url().to_string()))?;
        if !status.is_success() {
            return Err(wire::token_error(status.as_u16(), &body));
        }
        let t: wire::TokenResponse =
            serde_json::from_slice(&body).map_err(|e| ConnectorError::Decode(format!("token response: {e}")))?;
        let now = Utc::now();
        Ok(TokenSet {
            access_token: SecretString::from(t.access_token),
            access_expires_at: now + Duration::seconds(t.expires_in),
            refresh_token: t.refresh_token.map(SecretString::from),
            refresh_expires_at: t.refresh_token_expires_in.map(|s| now + Duration::seconds(s)),
            seller_id: None,
        })
    }
}

#[async_trait]
impl Authorizer for Ebay {
    fn authorization_url(&self, app: &AppCredentials, state: &str) -> String {
        let mut url = format!("{}/oauth2/authorize", self.auth_base);
        let query = serde_urlencoded::to_string([
            ("client_id", app.client_id.as_str()),
            ("redirect_uri", app.redirect.as_str()),
            ("response_type", "code"),
            ("scope", SCOPES),
            ("state", state),
        ])
        .unwrap_or_default();
        url.push('?');
        url.push_str(&query);
        url
    }

    async fn exchange_code(&self, app: &AppCredentials, code: &str) -> Result<TokenSet, ConnectorError> {
        self.token_request(
            app,
            &[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", &app.redirect)],
        )
        .await
    }

    async fn refresh(&self, app: &AppCredentials, refresh_token: &SecretString) -> Result<TokenSet, ConnectorError> {
        self.token_request(
            app,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh_token.expose_secret()), ("scope", SCOPES)],
        )
        .await
    }
}

#[async_trait]
impl Marketplace for Ebay {
    async fn fetch_orders(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
        since: DateTime<Utc>,
        cursor: Option<&str>,
    ) -> Result<OrderPage, ConnectorError> {
        self.limits.wait("getOrders", &account.key).await?;
        // The cursor is eBay's own `next` URL (absolute), which carries filter and offset.
        let url = match cursor {
            Some(next) => next.to_owned(),
            None => {
                let filter = format!("lastmodifieddate:[{}..]", since.to_rfc3339_opts(SecondsFormat::Millis, true));
                let query = serde_urlencoded::to_string([
                    ("filter", filter.as_str()),
                    ("limit", &PAGE_SIZE.to_string()),
                    ("offset", "0"),
                ])
                .unwrap_or_default();
                format!("{}/sell/fulfillment/v1/order?{query}", self.api_base)
            }
        };
        // The bearer token only ever goes to the configured API origin.
        let same_origin = match (reqwest::Url::parse(&url), reqwest::Url::parse(&self.api_base)) {
            (Ok(a), Ok(b)) => {
                a.scheme() == b.scheme()
                    && a.host_str() == b.host_str()
                    && a.port_or_known_default() == b.port_or_known_default()
            }
            _ => false,
        };
        if !same_origin {
            return Err(ConnectorError::Decode("next link points outside the eBay API".into()));
        }
        let resp = self
            .http
            .send_idempotent(
                || self.http.raw().get(&url).bearer_auth(access_token.expose_secret()),
                |r| async move {
                    let status = r.status().as_u16();
                    let body = r.bytes().await.unwrap_or_default();
                    wire::api_error(status, &body)
                },
            )
            .await?;
        let body = resp.bytes().await.map_err(|e| ConnectorError::Transient(e.without_url().to_string()))?;
        let page: wire::OrderSearchPagedCollection =
            serde_json::from_slice(&body).map_err(|e| ConnectorError::Decode(format!("getOrders page: {e}")))?;
        let orders = page.orders.into_iter().map(MarketOrder::try_from).collect::<Result<Vec<_>, _>>()?;
        Ok(OrderPage { orders, next: page.next })
    }

    async fn write_tracking(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
        shipment: &Shipment,
    ) -> Result<String, ConnectorError> {
        self.limits.wait("createShippingFulfillment", &account.key).await?;
        let body = wire::ShippingFulfillmentRequest::from(shipment);
        let url = format!(
            "{}/sell/fulfillment/v1/order/{}/shipping_fulfillment",
            self.api_base,
            urlencode_path(&shipment.platform_order_id)
        );
        let resp = self
            .http
            .send_once(self.http.raw().post(url).bearer_auth(access_token.expose_secret()).json(&body))
            .await?;
        let status = resp.status().as_u16();
        if status == 201 || status == 200 {
            let location =
                resp.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
            return Ok(location.rsplit('/').next().unwrap_or_default().to_owned());
        }
        if status == 429 {
            return Err(ConnectorError::RateLimited {
                retry_after: crate::connectors::http::retry_after(&resp).unwrap_or(std::time::Duration::from_secs(60)),
            });
        }
        let body = resp.bytes().await.unwrap_or_default();
        Err(if status >= 500 {
            ConnectorError::Transient(format!("HTTP {status}"))
        } else {
            wire::api_error(status, &body)
        })
    }

    async fn find_tracking(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
        shipment: &Shipment,
    ) -> Result<Option<String>, ConnectorError> {
        self.limits.wait("getShippingFulfillments", &account.key).await?;
        let url = format!(
            "{}/sell/fulfillment/v1/order/{}/shipping_fulfillment",
            self.api_base,
            urlencode_path(&shipment.platform_order_id)
        );
        let list: wire::ShippingFulfillmentPagedCollection =
            self.get_json(access_token, &url, "getShippingFulfillments").await?;
        Ok(list
            .fulfillments
            .into_iter()
            .find(|f| f.shipment_tracking_number.as_deref() == Some(shipment.tracking_number.as_str()))
            .map(|f| f.fulfillment_id.unwrap_or_else(|| shipment.tracking_number.clone())))
    }

    async fn account_facts(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
    ) -> Result<AccountFacts, ConnectorError> {
        self.limits.wait("getUser", &account.key).await?;
        let url = format!("{}/commerce/identity/v1/user/", self.identity_base);
        let user: wire::User = self.get_json(access_token, &url, "getUser").await?;
        Ok(AccountFacts { user_name: user.username.filter(|u| !u.is_empty()), marketplace_ids: Vec::new() })
    }
}

fn urlencode_path(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
