//! AliExpress Open Platform (IOP gateway).
//!
//! Rules followed (`shared/connectors.md` §4; AliExpress open platform articles 120687
//! (authorization), 120683 (fulfillment flow), apiId 42269/42270/42707; the IOP SDK `sign()`):
//! - seller consent `{base}/oauth/authorize?response_type=code&force_auth=true&redirect_uri&client_id=<app_key>&state`;
//!   each seller brings their own app key and secret (seed 000 §1);
//! - `POST {base}/rest/auth/token/create` (`code`) and `/rest/auth/token/refresh`
//!   (`refresh_token`), signed with the API path prepended;
//! - business calls `POST {base}/sync` with `method`, `app_key`, `timestamp` (ms),
//!   `sign_method=sha256`, `access_token`, `format=json`, JSON-string parameters
//!   (`param0`, `param1`), and `sign` = upper-hex HMAC-SHA256(secret, [path] + k1v1k2v2… over
//!   the parameters sorted by name, `sign` excluded);
//! - `aliexpress.solution.order.get` pages with `current_page`/`page_size ≤ 50` filtered by
//!   `modified_date_start` in US Pacific time; the list carries no address, so each
//!   order is completed with `aliexpress.solution.order.info.get`;
//! - `aliexpress.solution.order.fulfill` writes the tracking number back with a
//!   `service_name` from the seller's `aliexpress.logistics.redefining.listlogisticsservice`
//!   (and `tracking_website` for OTHER services); `order.info.get` names the declared
//!   `logistics_no`s (reconciliation);
//! - errors `{"error_response":{"code","msg","sub_code","sub_msg"}}`.

mod pacific;
mod sign;
mod wire;

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::{
    AccountRef, AppCredentials, Authorizer, CarrierOption, MarketOrder, Marketplace, OrderPage, Shipment, TokenSet,
};
use crate::connectors::{
    ConnectorError,
    http::{HttpClient, RateLimits},
};

const PAGE_SIZE: u32 = 50;

pub use sign::SignMethod;

#[derive(Debug, Clone)]
pub struct AliExpress {
    http: HttpClient,
    /// e.g. `https://api-sg.aliexpress.com`
    base: String,
    sign_method: SignMethod,
    limits: RateLimits,
}

impl AliExpress {
    pub fn new(http: HttpClient, base: impl Into<String>) -> Self {
        Self { http, base: base.into(), sign_method: SignMethod::default(), limits: RateLimits::default() }
    }

    /// Operation: `api` (every business call on /sync).
    pub fn with_rate_limits(mut self, limits: RateLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sign with the legacy MD5 method instead of HMAC-SHA256 (older app registrations).
    pub fn with_sign_method(mut self, m: SignMethod) -> Self {
        self.sign_method = m;
        self
    }

    fn common(&self, app_key: &str) -> BTreeMap<String, String> {
        let mut p = BTreeMap::new();
        p.insert("app_key".into(), app_key.to_owned());
        p.insert("timestamp".into(), Utc::now().timestamp_millis().to_string());
        p.insert("sign_method".into(), self.sign_method.name().into());
        p
    }

    async fn auth_call(
        &self,
        app: &AppCredentials,
        path: &str,
        extra: &[(&str, &str)],
    ) -> Result<TokenSet, ConnectorError> {
        let mut params = self.common(&app.client_id);
        for (k, v) in extra {
            params.insert((*k).to_owned(), (*v).to_owned());
        }
        let sign = self.sign_method.sign(app.client_secret.expose_secret(), Some(path), &params);
        params.insert("sign".into(), sign);
        let resp = self.http.send_once(self.http.raw().post(format!("{}/rest{path}", self.base)).form(&params)).await?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| ConnectorError::Transient(e.without_url().to_string()))?;
        let t = wire::token(status, &body)?;
        let now = Utc::now();
        Ok(TokenSet {
            access_token: SecretString::from(t.access_token),
            access_expires_at: now + Duration::seconds(t.expires_in.unwrap_or(86_400)),
            refresh_token: t.refresh_token.map(SecretString::from),
            refresh_expires_at: t.refresh_expires_in.map(|s| now + Duration::seconds(s)),
            seller_id: t.seller_id.map(|v| v.to_string().trim_matches('"').to_owned()),
        })
    }

    /// A signed business call on `/sync`; idempotent reads only (retried).
    async fn business(
        &self,
        key: &str,
        app: &AppCredentials,
        access_token: &SecretString,
        method: &str,
        params: &[(&str, String)],
        idempotent: bool,
    ) -> Result<serde_json::Value, ConnectorError> {
        self.limits.wait("api", key).await?;
        let build = || {
            let mut p = self.common(&app.client_id);
            p.insert("method".into(), method.to_owned());
            p.insert("access_token".into(), access_token.expose_secret().to_owned());
            p.insert("format".into(), "json".into());
            p.insert("simplify".into(), "false".into());
            for (k, v) in params {
                p.insert((*k).to_owned(), v.clone());
            }
            let sign = self.sign_method.sign(app.client_secret.expose_secret(), None, &p);
            p.insert("sign".into(), sign);
            self.http.raw().post(format!("{}/sync", self.base)).form(&p)
        };
        let resp = if idempotent {
            self.http
                .send_idempotent(build, |r| async move {
                    let status = r.status().as_u16();
                    let body = r.bytes().await.unwrap_or_default();
                    wire::response(status, &body, "")
                        .err()
                        .unwrap_or(ConnectorError::Transient(format!("HTTP {status}")))
                })
                .await?
        } else {
            self.http.send_once(build()).await?
        };
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| ConnectorError::Transient(e.without_url().to_string()))?;
        wire::response(status, &body, method)
    }
}

fn app_of(account: &AccountRef) -> Result<&AppCredentials, ConnectorError> {
    account
        .app
        .as_ref()
        .ok_or_else(|| ConnectorError::AuthorizationInvalid("the account has no AliExpress app key".into()))
}

#[async_trait]
impl Authorizer for AliExpress {
    fn authorization_url(&self, app: &AppCredentials, state: &str) -> String {
        let q = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("force_auth", "true"),
            ("redirect_uri", app.redirect.as_str()),
            ("client_id", app.client_id.as_str()),
            ("state", state),
        ])
        .unwrap_or_default();
        format!("{}/oauth/authorize?{q}", self.base)
    }

    async fn exchange_code(&self, app: &AppCredentials, code: &str) -> Result<TokenSet, ConnectorError> {
        self.auth_call(app, "/auth/token/create", &[("code", code)]).await
    }

    async fn refresh(&self, app: &AppCredentials, refresh_token: &SecretString) -> Result<TokenSet, ConnectorError> {
        self.auth_call(app, "/auth/token/refresh", &[("refresh_token", refresh_token.expose_secret())]).await
    }
}

#[async_trait]
impl Marketplace for AliExpress {
    async fn fetch_orders(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
        since: DateTime<Utc>,
        cursor: Option<&str>,
    ) -> Result<OrderPage, ConnectorError> {
        let app = app_of(account)?;
        // Two passes: open orders (order.get leaves FINISH out unless asked), then FINISH
        // ones, which is how a cancellation or completion after download shows. Cursor:
        // `N` (open pass, page N) or `finish:N`.
        let (finish, page): (bool, u32) = match cursor {
            Some(c) => {
                let (finish, n) = c.strip_prefix("finish:").map_or((false, c), |n| (true, n));
                (finish, n.parse().map_err(|_| ConnectorError::Decode(format!("bad cursor {c:?}")))?)
            }
            None => (false, 1),
        };
        let mut param0 = serde_json::json!({
            "current_page": page,
            "page_size": PAGE_SIZE,
            "modified_date_start": pacific::format(since),
            "modified_date_end": pacific::format(Utc::now() + Duration::minutes(1)),
        });
        if finish {
            param0["order_status"] = serde_json::json!("FINISH");
        }
        let v = self
            .business(
                &account.key,
                app,
                access_token,
                "aliexpress.solution.order.get",
                &[("param0", param0.to_string())],
                true,
            )
            .await?;
        let list: wire::OrderList =
            serde_json::from_value(v).map_err(|e| ConnectorError::Decode(format!("order.get: {e}")))?;
        let mut orders = Vec::with_capacity(list.orders.len());
        let has_more = match (list.total_page, list.total_count) {
            (Some(total_pages), _) => i64::from(page) < total_pages,
            (None, Some(total)) => i64::from(page) * i64::from(PAGE_SIZE) < total,
            (None, None) => list.orders.len() >= PAGE_SIZE as usize,
        };
        for summary in list.orders {
            let param1 = serde_json::json!({ "order_id": summary.order_id_string() });
            let detail = self
                .business(
                    &account.key,
                    app,
                    access_token,
                    "aliexpress.solution.order.info.get",
                    &[("param1", param1.to_string())],
                    true,
                )
                .await?;
            let detail: wire::OrderDetail =
                serde_json::from_value(detail).map_err(|e| ConnectorError::Decode(format!("order.info.get: {e}")))?;
            orders.push(wire::to_market_order(summary, detail)?);
        }
        orders.sort_by_key(|o: &MarketOrder| o.updated_at);
        let next = match (has_more, finish) {
            (true, false) => Some((page + 1).to_string()),
            (true, true) => Some(format!("finish:{}", page + 1)),
            (false, false) => Some("finish:1".to_owned()),
            (false, true) => None,
        };
        Ok(OrderPage { orders, next })
    }

    async fn write_tracking(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
        shipment: &Shipment,
    ) -> Result<String, ConnectorError> {
        let app = app_of(account)?;
        let mut params = vec![
            ("service_name", shipment.carrier.code.clone()),
            ("out_ref", shipment.platform_order_id.clone()),
            ("send_type", "all".to_owned()),
            ("logistics_no", shipment.tracking_number.clone()),
        ];
        if let Some(url) = &shipment.carrier.tracking_url {
            params.push(("tracking_website", url.clone()));
        }
        let v =
            self.business(&account.key, app, access_token, "aliexpress.solution.order.fulfill", &params, false).await?;
        if v["result_success"].as_bool() == Some(true) || v["result_success"].as_str() == Some("true") {
            Ok(shipment.tracking_number.clone())
        } else {
            Err(ConnectorError::Rejected {
                code: v["result_error_code"].as_str().unwrap_or("fulfill_failed").to_owned(),
                message: v["result_error_desc"].as_str().unwrap_or("AliExpress refused the fulfillment").to_owned(),
            })
        }
    }

    async fn find_tracking(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
        shipment: &Shipment,
    ) -> Result<Option<String>, ConnectorError> {
        let app = app_of(account)?;
        let param1 = serde_json::json!({ "order_id": shipment.platform_order_id });
        let detail = self
            .business(
                &account.key,
                app,
                access_token,
                "aliexpress.solution.order.info.get",
                &[("param1", param1.to_string())],
                true,
            )
            .await?;
        let mut declared = Vec::new();
        wire::declared_tracking(&detail, &mut declared);
        Ok(declared.into_iter().find(|t| *t == shipment.tracking_number))
    }

    async fn carriers(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
    ) -> Result<Option<Vec<CarrierOption>>, ConnectorError> {
        let app = app_of(account)?;
        let v = self.business(&account.key, app, access_token, wire::LIST_LOGISTICS_SERVICE, &[], true).await?;
        Ok(Some(wire::logistics_services(&v)?))
    }
}
