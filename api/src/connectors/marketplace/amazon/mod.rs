//! Amazon Selling Partner API with Login-with-Amazon tokens (no AWS SigV4 since
//! 2 Oct 2023; the seed's AWS key fields are legacy and not needed).
//!
//! Rules followed (amzn/selling-partner-api-models `orders_2026-01-01.json`, `ordersV0.json`
//! (confirmShipment), `sellers.json`; developer-docs.amazon.com sp-api-endpoints,
//! marketplace-ids, orders-api-migration-guide, website authorization workflow):
//! - consent `{sellercentral}/apps/authorize/consent?application_id&state&version=beta`;
//!   the callback receives `state`, `selling_partner_id`, `spapi_oauth_code`;
//! - LWA `POST {lwa}/auth/o2/token` form `grant_type=authorization_code&code&redirect_uri&client_id&client_secret`
//!   or `grant_type=refresh_token&refresh_token&client_id&client_secret` → `{access_token, expires_in: 3600, refresh_token}`;
//! - calls carry `x-amz-access-token`; one host per selling region (NA, EU, FE); each
//!   marketplace belongs to one region;
//! - orders: `GET /orders/2026-01-01/orders?marketplaceIds(≤50)&lastUpdatedAfter&maxResultsPerPage(≤100)&includedData`
//!   → `{orders[], pagination.nextToken}`; the next page repeats every parameter plus
//!   `paginationToken` (valid 24 h); items always included, PII by role (no RDT);
//! - `GET /orders/2026-01-01/orders/{orderId}?includedData=PACKAGES` → `{order{packages[]}}`;
//! - `POST /orders/v0/orders/{orderId}/shipmentConfirmation` → 204;
//! - `GET /sellers/v1/marketplaceParticipations` → `{payload[{marketplace{id}, participation{isParticipating}}]}`;
//! - errors `{"errors":[{"code","message","details"}]}`, 403 for a bad/expired token, 429 when throttled.

mod cursor;
mod regions;
mod wire;

use std::sync::atomic::{AtomicU16, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use secrecy::{ExposeSecret, SecretString};

use self::{cursor::Cursor, regions::Region};
use super::{
    AccountFacts, AccountRef, AppCredentials, Authorizer, MarketOrder, Marketplace, OrderPage, Shipment, TokenSet,
};
use crate::connectors::{
    ConnectorError,
    http::{HttpClient, RateLimits},
};

pub const DEFAULT_MARKETPLACE: &str = "ATVPDKIKX0DER";

/// The SP-API base URL of each selling region, e.g. `https://sellingpartnerapi-na.amazon.com`.
#[derive(Debug, Clone)]
pub struct SpApiHosts {
    pub na: String,
    pub eu: String,
    pub fe: String,
}

impl SpApiHosts {
    fn get(&self, region: Region) -> &str {
        match region {
            Region::Na => &self.na,
            Region::Eu => &self.eu,
            Region::Fe => &self.fe,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Amazon {
    http: HttpClient,
    application_id: String,
    /// Seller Central host for consent, e.g. `https://sellercentral.amazon.com`.
    consent_base: String,
    /// e.g. `https://api.amazon.com`.
    lwa_base: String,
    hosts: SpApiHosts,
    limits: RateLimits,
}

/// A refused call: the HTTP status when Amazon answered with a 4xx, and the error.
type Refusal = (Option<u16>, ConnectorError);

impl Amazon {
    pub fn new(
        http: HttpClient,
        application_id: impl Into<String>,
        consent_base: impl Into<String>,
        lwa_base: impl Into<String>,
        hosts: SpApiHosts,
    ) -> Self {
        Self {
            http,
            application_id: application_id.into(),
            consent_base: consent_base.into(),
            lwa_base: lwa_base.into(),
            hosts,
            limits: RateLimits::default(),
        }
    }

    /// Operations: `searchOrders`, `getOrder`, `getMarketplaceParticipations`,
    /// `confirmShipment` (SP-API usage plans).
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

    /// An idempotent GET (retried on 5xx/429/transport errors).
    async fn get(
        &self,
        token: &SecretString,
        url: &str,
        query: &[(&str, String)],
    ) -> Result<serde_json::Value, Refusal> {
        let refused = AtomicU16::new(0);
        let resp = self
            .http
            .send_idempotent(
                || self.http.raw().get(url).header("x-amz-access-token", token.expose_secret()).query(query),
                |r| {
                    let status = r.status().as_u16();
                    refused.store(status, Ordering::Relaxed);
                    async move {
                        let body = r.bytes().await.unwrap_or_default();
                        wire::api_error(status, &body)
                    }
                },
            )
            .await
            .map_err(|e| {
                let s = refused.load(Ordering::Relaxed);
                ((s != 0).then_some(s), e)
            })?;
        let body = resp.bytes().await.map_err(|e| (None, ConnectorError::Transient(e.without_url().to_string())))?;
        serde_json::from_slice(&body).map_err(|e| (None, ConnectorError::Decode(format!("SP-API response: {e}"))))
    }

    /// One `searchOrders` page. A follow-up whose `paginationToken` Amazon refuses (400:
    /// expired after 24 h, or otherwise unusable) reads the region again from the start of
    /// the same query: ingest is idempotent, so re-reading is safe.
    /// Once per region: a second refusal fails the download (the cursor remembers).
    async fn search(
        &self,
        token: &SecretString,
        account: &AccountRef,
        cur: &mut Cursor,
    ) -> Result<wire::SearchOrdersResponse, ConnectorError> {
        let url = format!("{}/orders/2026-01-01/orders", self.hosts.get(cur.region));
        self.limits.wait("searchOrders", &account.key).await?;
        let v = match self.get(token, &url, &cur.query.params(cur.pagination_token.as_deref())).await {
            Ok(v) => v,
            Err((Some(400), e)) if cur.pagination_token.is_some() && !cur.restarted => {
                tracing::info!(error = %e, region = ?cur.region, "Amazon refused the pagination token; reading the region again");
                cur.restarted = true;
                cur.pagination_token = None;
                self.limits.wait("searchOrders", &account.key).await?;
                self.get(token, &url, &cur.query.params(None)).await.map_err(|(_, e)| e)?
            }
            Err((_, e)) => return Err(e),
        };
        serde_json::from_value(v).map_err(|e| ConnectorError::Decode(format!("searchOrders: {e}")))
    }

    /// The host for one order: its marketplace's region, else the account's.
    fn order_host(&self, account: &AccountRef, marketplace_id: Option<&str>) -> &str {
        self.hosts.get(marketplace_id.and_then(regions::region_of).unwrap_or_else(|| home_region(account)))
    }
}

/// Every marketplace to download: the account's list, else its marketplace, else US.
fn marketplaces(account: &AccountRef) -> Vec<String> {
    if account.marketplace_ids.iter().any(|m| !m.trim().is_empty()) {
        return account.marketplace_ids.clone();
    }
    vec![account_marketplace(account)]
}

fn account_marketplace(account: &AccountRef) -> String {
    account
        .marketplace_id
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .or_else(|| account.marketplace_ids.iter().map(|m| m.trim()).find(|m| !m.is_empty()))
        .unwrap_or(DEFAULT_MARKETPLACE)
        .to_owned()
}

/// The account's own region: as stored, else its marketplace's, else NA.
fn home_region(account: &AccountRef) -> Region {
    account
        .region
        .as_deref()
        .and_then(Region::parse)
        .or_else(|| regions::region_of(&account_marketplace(account)))
        .unwrap_or(Region::Na)
}

/// A positive number (as `PackageReferenceId` requires) derived from the tracking number,
/// so a resent confirmation names the same package instead of adding one.
fn package_reference(tracking_number: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in tracking_number.trim().to_ascii_uppercase().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % 999_999_999 + 1).to_string()
}

fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
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
        let start = || {
            let grouped = regions::group(&marketplaces(account));
            Cursor::start(cursor::legs(grouped), &since.to_rfc3339_opts(SecondsFormat::Secs, true))
        };
        let cur = match cursor.map(Cursor::decode) {
            Some(Some(c)) => Some(c),
            Some(None) => {
                tracing::warn!(account = %account.key, "unreadable Amazon download cursor; starting the download again");
                start()
            }
            None => start(),
        };
        let Some(mut cur) = cur else {
            return Ok(OrderPage { orders: Vec::new(), next: None });
        };
        let page = self.search(access_token, account, &mut cur).await?;
        let only = match cur.query.marketplace_ids.as_slice() {
            [one] => Some(one.as_str()),
            _ => None,
        };
        let orders =
            page.orders.into_iter().map(|o| wire::to_market_order(o, only)).collect::<Result<Vec<MarketOrder>, _>>()?;
        let next = cur.after(page.pagination.and_then(|p| p.next_token)).map(|c| c.encode());
        Ok(OrderPage { orders, next })
    }

    async fn write_tracking(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
        shipment: &Shipment,
    ) -> Result<String, ConnectorError> {
        let marketplace_id = shipment
            .marketplace_id
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| account_marketplace(account));
        let code = shipment.carrier.code.trim();
        let mut package = serde_json::json!({
            "packageReferenceId": package_reference(&shipment.tracking_number),
            "carrierCode": code,
            "trackingNumber": shipment.tracking_number,
            "shipDate": shipment.shipped_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            "orderItems": shipment.items.iter().map(|(id, q)| serde_json::json!({ "orderItemId": id, "quantity": q })).collect::<Vec<_>>(),
        });
        if code.eq_ignore_ascii_case("Other") {
            // `carrierName` is required when `carrierCode` is "Other".
            let Some(name) = shipment.carrier.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) else {
                return Err(ConnectorError::Rejected {
                    code: "CarrierNameRequired".into(),
                    message: "Amazon needs the carrier name when the carrier code is Other".into(),
                });
            };
            package["carrierName"] = serde_json::Value::from(name);
        }
        let body = serde_json::json!({ "marketplaceId": marketplace_id, "packageDetail": package });
        let reference = package_reference(&shipment.tracking_number);
        self.limits.wait("confirmShipment", &account.key).await?;
        let url = format!(
            "{}/orders/v0/orders/{}/shipmentConfirmation",
            self.order_host(account, Some(&marketplace_id)),
            path_segment(&shipment.platform_order_id)
        );
        let resp = self
            .http
            .send_once(self.http.raw().post(url).header("x-amz-access-token", access_token.expose_secret()).json(&body))
            .await?;
        let status = resp.status().as_u16();
        if status == 204 || status == 200 {
            return Ok(reference);
        }
        if status == 429 {
            return Err(ConnectorError::RateLimited {
                retry_after: crate::connectors::http::retry_after(&resp).unwrap_or(std::time::Duration::from_secs(1)),
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
        let url = format!(
            "{}/orders/2026-01-01/orders/{}",
            self.order_host(account, shipment.marketplace_id.as_deref().or(account.marketplace_id.as_deref())),
            path_segment(&shipment.platform_order_id)
        );
        self.limits.wait("getOrder", &account.key).await?;
        let v = match self.get(access_token, &url, &[("includedData", "PACKAGES".to_owned())]).await {
            Ok(v) => v,
            Err((Some(404), _)) => return Ok(None),
            Err((_, e)) => return Err(e),
        };
        let r: wire::GetOrderResponse =
            serde_json::from_value(v).map_err(|e| ConnectorError::Decode(format!("getOrder: {e}")))?;
        let wanted = shipment.tracking_number.trim();
        Ok(r.order
            .packages
            .into_iter()
            .find(|p| p.tracking_number.as_deref().is_some_and(|t| t.trim().eq_ignore_ascii_case(wanted)))
            .map(|p| p.package_reference_id.filter(|r| !r.is_empty()).unwrap_or_else(|| package_reference(wanted))))
    }

    async fn account_facts(
        &self,
        access_token: &SecretString,
        account: &AccountRef,
    ) -> Result<AccountFacts, ConnectorError> {
        let mut ids: Vec<String> = Vec::new();
        let mut refusals = Vec::new();
        for region in Region::ALL {
            let url = format!("{}/sellers/v1/marketplaceParticipations", self.hosts.get(region));
            self.limits.wait("getMarketplaceParticipations", &account.key).await?;
            match self.get(access_token, &url, &[]).await {
                Ok(v) => {
                    let r: wire::ParticipationsResponse = serde_json::from_value(v)
                        .map_err(|e| ConnectorError::Decode(format!("getMarketplaceParticipations: {e}")))?;
                    for id in r.participating() {
                        if !ids.contains(&id) {
                            ids.push(id);
                        }
                    }
                }
                // The seller is not authorized in that region: it contributes nothing.
                Err((Some(401 | 403), e)) => {
                    tracing::info!(region = ?region, error = %e, "Amazon region refused the token");
                    refusals.push(e);
                }
                Err((_, e)) => return Err(e),
            }
        }
        if refusals.len() == Region::ALL.len()
            && let Some(e) = refusals.pop()
        {
            // Refused everywhere: the token itself is bad.
            return Err(e);
        }
        Ok(AccountFacts { user_name: None, marketplace_ids: ids })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_reference_is_positive_and_stable() {
        let a = package_reference("1Z999AA10123456784");
        assert_eq!(a, package_reference(" 1z999aa10123456784 "));
        let n: u64 = a.parse().unwrap();
        assert!((1..=999_999_999).contains(&n));
        assert_ne!(a, package_reference("1Z999AA10123456785"));
    }

    #[test]
    fn account_marketplaces_and_region() {
        let mut acc = AccountRef::default();
        assert_eq!(marketplaces(&acc), vec![DEFAULT_MARKETPLACE.to_owned()]);
        assert_eq!(home_region(&acc), Region::Na);
        acc.marketplace_id = Some("A1PA6795UKMFR9".into());
        assert_eq!(marketplaces(&acc), vec!["A1PA6795UKMFR9".to_owned()]);
        assert_eq!(home_region(&acc), Region::Eu);
        acc.marketplace_ids = vec!["A1VC38T7YXB528".into(), "ATVPDKIKX0DER".into()];
        assert_eq!(marketplaces(&acc).len(), 2);
        acc.region = Some("FE".into());
        assert_eq!(home_region(&acc), Region::Fe);
        assert_eq!(path_segment("123-456 7/8"), "123-456%207%2F8");
    }
}
