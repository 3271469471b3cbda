//! OrangeConnex (橙联) overseas warehouse: OAuth authorization code (access 3600 s, refresh
//! one year), MD5-signed `/openapi/3pp/*` calls in the `{code, message, data}` envelope,
//! SKUs, services, outbound and inbound orders, stock. The wire contract, with each choice
//! made where OC's public material is silent, is in `WIRE.md` next to this file.
//!
//! Regions are OC's own codes (`UK`, `DE`, `AU`, `AU-MEL`, `US-East`…), passed through as
//! given and as received; the mapping to ISO countries lives in `domain::warehouse::regions`.
//!
//! Creations (SKUCreation, placeOutboundOrder, inboundOrderCreation) are sent once, never
//! retried at the HTTP level: an unknown outcome comes back as `Transient`/`Decode` and the
//! domain looks the reference up before creating again (WIRE.md "Creations and lost
//! answers"). Every other call is retried on transient failures.
//!
//! Limits applied here so callers need not know them: SKU creation ≤ 200 per call, SKU
//! query lists ≤ 200 entries (one list per request, paged by 200),
//! outbound creation ≤ 50, OrdersQuery lists ≤ 100 and ≤ 1000 results per window (a full
//! window is halved and asked again), stock snapshot pages of 200, stock movement windows of
//! ≤ 7 days with ≤ 50 SKUs.

mod sign;
mod wire;

use async_trait::async_trait;
use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

pub use sign::SignMode;
use wire::{get, get_array, get_bool, get_i64, get_str};

use super::{
    CartonTracking, CreatedSku, FileData, InboundCreated, InboundLineState, InboundMethod, InboundPhase,
    InboundRequest, InboundState, ItemRefusal, ItemResult, NewWarehouseSku, OrderSource, OutboundParcel, OutboundPhase,
    OutboundQuery, OutboundRequest, OutboundState, SkuQuery, SkuReview, StockLevel, StockMovement, Warehouse,
    WarehouseService, WarehouseSku,
};
use crate::connectors::{
    ConnectorError,
    http::{HttpClient, RateLimits},
    oauth::{AppCredentials, Authorizer, TokenSet},
};

pub const SKU_BATCH: usize = 200;
/// SKUQuery v3 answers at most 200 SKUs a page [D ef-open-api.apifox.cn/api-116942643].
pub const SKU_QUERY_LIMIT: usize = 200;
/// A guard against a server that ignores `page` (the same full page forever).
const SKU_QUERY_MAX_PAGES: u32 = 500;
pub const OUTBOUND_BATCH: usize = 50;
const QUERY_LIST: usize = 100;
const QUERY_MAX_RESULTS: usize = 1000;
const DETAIL_BATCH: usize = 50;
const STOCK_PAGE: usize = 200;
const MOVEMENT_SKUS: usize = 50;
/// Movement windows are at most 7 days [D].
pub const MOVEMENT_WINDOW_DAYS: i64 = 7;
/// The refresh token lives one year from the code exchange [D]; OC does not say so in the answer.
const REFRESH_LIFETIME_DAYS: i64 = 365;

#[derive(Clone)]
pub struct OrangeConnex {
    http: HttpClient,
    /// e.g. `https://openapi-stage-hk.orangeconnex.com`
    base: String,
    client_key: String,
    secret_key: SecretString,
    mode: SignMode,
    limits: RateLimits,
}

impl std::fmt::Debug for OrangeConnex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrangeConnex").field("base", &self.base).field("mode", &self.mode).finish_non_exhaustive()
    }
}

impl OrangeConnex {
    pub fn new(http: HttpClient, base: impl Into<String>, client_key: String, secret_key: SecretString) -> Self {
        Self {
            http,
            base: base.into().trim_end_matches('/').to_owned(),
            client_key,
            secret_key,
            mode: SignMode::default(),
            limits: RateLimits::default(),
        }
    }

    pub fn with_sign_mode(mut self, mode: SignMode) -> Self {
        self.mode = mode;
        self
    }

    /// One operation key, `api`, for every signed call.
    pub fn with_rate_limits(mut self, limits: RateLimits) -> Self {
        self.limits = limits;
        self
    }

    async fn token_request(&self, app: &AppCredentials, query: &[(&str, &str)]) -> Result<TokenSet, ConnectorError> {
        let basic = STANDARD.encode(format!("{}:{}", app.client_id, app.client_secret.expose_secret()));
        // All parameters in the query string, empty body [D].
        let url = format!("{}/oauth/token?{}", self.base, serde_urlencoded::to_string(query).unwrap_or_default());
        let resp = self
            .http
            .send_once(
                self.http
                    .raw()
                    .post(url)
                    .header(reqwest::header::AUTHORIZATION, format!("Basic {basic}"))
                    .header(reqwest::header::CONTENT_LENGTH, "0"),
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
            refresh_expires_at: t.refresh_token.as_ref().map(|_| now + Duration::days(REFRESH_LIFETIME_DAYS)),
            refresh_token: t.refresh_token.map(SecretString::from),
            seller_id: None,
        })
    }

    /// One signed call; `data` is `None` for GET. Returns the envelope's `data`. Safe
    /// calls (queries, cancellation, uploads keyed by OC's number) are retried on transient
    /// failures; see [`Self::create_call`] for calls that create something.
    async fn call(
        &self,
        token: &SecretString,
        path: &str,
        data: Option<Value>,
        api_version: Option<&str>,
    ) -> Result<Value, ConnectorError> {
        self.signed(token, path, data, api_version, Delivery::Retry).await
    }

    /// A call that creates something at OC (SKUs, outbound and inbound orders): sent exactly
    /// once, never retried here. A timeout, a 5xx or a connection dropped after the request
    /// was written leaves the outcome unknown (`Transient`, or `Decode` for an unreadable
    /// answer); the caller looks the reference up before creating again.
    async fn create_call(&self, token: &SecretString, path: &str, data: Value) -> Result<Value, ConnectorError> {
        self.signed(token, path, Some(data), None, Delivery::Once).await
    }

    async fn signed(
        &self,
        token: &SecretString,
        path: &str,
        data: Option<Value>,
        api_version: Option<&str>,
        send: Delivery,
    ) -> Result<Value, ConnectorError> {
        self.limits.wait("api", &self.client_key).await?;
        let body: Vec<u8> = match &data {
            Some(d) => {
                let mut env = json!({
                    "messageId": uuid::Uuid::new_v4().simple().to_string(),
                    "timestamp": Utc::now().timestamp_millis(),
                    "data": d,
                });
                if let Some(v) = api_version {
                    env["apiVersion"] = json!(v);
                }
                serde_json::to_vec(&env).map_err(|e| ConnectorError::Decode(e.to_string()))?
            }
            None => Vec::new(),
        };
        let signature = sign::sign(self.mode, path, &body, &self.client_key, self.secret_key.expose_secret());
        let url = format!("{}{path}", self.base);
        let build = || {
            let req =
                if data.is_some() { self.http.raw().post(&url).body(body.clone()) } else { self.http.raw().get(&url) };
            req.header(reqwest::header::CONTENT_TYPE, "application/json")
                .header("Access-Token", format!("Bearer {}", token.expose_secret()))
                .header("clientKey", &self.client_key)
                .header("vAuthorization", &signature)
                .header("TimeStamp", Utc::now().timestamp_millis().to_string())
        };
        let resp = match send {
            Delivery::Retry => self.http.send_idempotent(build, refusal_of).await?,
            Delivery::Once => {
                let resp = self.http.send_once(build()).await?;
                let status = resp.status();
                if status.is_success() {
                    resp
                } else if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                    // Refused before any work: nothing was created.
                    return Err(ConnectorError::RateLimited {
                        retry_after: crate::connectors::http::retry_after(&resp)
                            .unwrap_or(std::time::Duration::from_secs(1)),
                    });
                } else if status.is_server_error() {
                    // OC may have recorded it before failing: unknown.
                    return Err(ConnectorError::Transient(format!("HTTP {status}")));
                } else {
                    return Err(refusal_of(resp).await);
                }
            }
        };
        let bytes = resp.bytes().await.map_err(|e| ConnectorError::Transient(e.without_url().to_string()))?;
        let env: wire::Envelope =
            serde_json::from_slice(&bytes).map_err(|e| ConnectorError::Decode(format!("{path}: {e}")))?;
        env.into_data()
    }

    /// One batch of a creation call, sent once ([`Self::create_call`]). A refusal of the
    /// whole batch (earlier batches stand) becomes one refusal per item in `out` and `None`;
    /// token and signature errors, and unknown outcomes, stay errors.
    async fn batch_call(
        &self,
        token: &SecretString,
        path: &str,
        body: Value,
        items: usize,
        out: &mut Vec<ItemResult<String>>,
    ) -> Result<Option<Value>, ConnectorError> {
        match self.create_call(token, path, body).await {
            Ok(d) => Ok(Some(d)),
            Err(ConnectorError::Rejected { code, message }) if code != "401" && code != "403" => {
                out.extend((0..items).map(|_| Err(ItemRefusal { code: code.clone(), message: message.clone() })));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// OrdersQuery for one window, halving it while OC says it holds over 1000 orders.
    async fn query_window(
        &self,
        token: &SecretString,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        out: &mut Vec<OutboundState>,
    ) -> Result<(), ConnectorError> {
        let mut stack = vec![(from, to)];
        while let Some((a, b)) = stack.pop() {
            let data = json!({ "startTime": sign::format_time(a), "endTime": sign::format_end(b) });
            match self.call(token, "/openapi/3pp/outbound/v2/query", Some(data), Some("2.0")).await {
                Ok(v) => {
                    let rows = outbound_rows(&v)?;
                    if rows.len() >= QUERY_MAX_RESULTS && b - a > Duration::seconds(2) {
                        let mid = a + (b - a) / 2;
                        stack.push((mid, b));
                        stack.push((a, mid));
                    } else {
                        out.extend(rows);
                    }
                }
                // OC refuses windows holding more than 1000 orders: split and ask again.
                Err(ConnectorError::Rejected { code, .. }) if code == "400" && b - a > Duration::seconds(2) => {
                    let mid = a + (b - a) / 2;
                    stack.push((mid, b));
                    stack.push((a, mid));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// How a signed call is sent.
#[derive(Clone, Copy)]
enum Delivery {
    /// Retried on transient failures and 429s (safe calls).
    Retry,
    /// Sent once (calls that create something at OC).
    Once,
}

/// A non-success answer (other than 429 and 5xx) as the error OC reports.
async fn refusal_of(resp: reqwest::Response) -> ConnectorError {
    let status = resp.status().as_u16();
    let body = resp.bytes().await.unwrap_or_default();
    let env = serde_json::from_slice::<wire::Envelope>(&body).ok();
    match (status, env) {
        (401, env) => {
            ConnectorError::Unauthorized(env.and_then(|e| e.message).unwrap_or_else(|| "access token rejected".into()))
        }
        (_, Some(env)) => env.into_data().err().unwrap_or_else(|| ConnectorError::Rejected {
            code: status.to_string(),
            message: format!("HTTP {status}"),
        }),
        (_, None) => ConnectorError::Rejected { code: status.to_string(), message: format!("HTTP {status}") },
    }
}

#[async_trait]
impl Authorizer for OrangeConnex {
    fn authorization_url(&self, app: &AppCredentials, state: &str) -> String {
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", app.client_id.as_str()),
            ("redirect_uri", app.redirect.as_str()),
            ("state", state),
        ])
        .unwrap_or_default();
        format!("{}/oauth/authorize?{query}", self.base)
    }

    async fn exchange_code(&self, app: &AppCredentials, code: &str) -> Result<TokenSet, ConnectorError> {
        // The code (with `/+=`) is sent exactly as received, URL-encoded once.
        self.token_request(
            app,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &app.redirect),
                ("client_id", &app.client_id),
            ],
        )
        .await
    }

    async fn refresh(&self, app: &AppCredentials, refresh_token: &SecretString) -> Result<TokenSet, ConnectorError> {
        let mut t = self
            .token_request(
                app,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token.expose_secret()),
                    ("client_id", &app.client_id),
                ],
            )
            .await?;
        // A refresh does not extend the refresh token's year unless OC rotates it.
        if t.refresh_token.is_none() {
            t.refresh_expires_at = None;
        }
        Ok(t)
    }
}

fn sku_body(s: &NewWarehouseSku) -> Value {
    // OC's samples tag names `en-US` / `zh-CN` (SKUCreation v3 in OC's Postman collection).
    let mut names = vec![json!({ "SKUName": s.name_en, "languageCode": "en-US" })];
    if let Some(cn) = &s.name_cn {
        names.push(json!({ "SKUName": cn, "languageCode": "zh-CN" }));
    }
    let mut v = json!({
        "referenceSKUID": s.reference,
        "SKUNameList": names,
        "SKUPictureURLList": [],
        "withBattery": s.with_battery,
        // `withBrand` is a code in OC's sample (`"WOB"`, without brand); we declare none.
        "serviceRegionList": s.regions.iter().map(|r| json!({ "serviceRegion": r, "withBrand": "WOB" })).collect::<Vec<_>>(),
    });
    if let Some(c) = &s.origin_country {
        v["countryOfOrigin"] = json!(c);
    }
    if let Some(h) = &s.hs_code {
        v["hscodeList"] =
            json!(s.hs_countries.iter().map(|c| json!({ "hscode": h, "countryCode": c })).collect::<Vec<_>>());
    }
    if let (Some(value), Some(cur)) = (s.declared_value_minor, &s.declared_currency) {
        v["declaredValue"] = json!(minor_to_number(value));
        v["declaredCurrency"] = json!(cur);
    }
    if let Some(w) = s.weight_grams {
        v["weight"] = json!(w);
    }
    v
}

fn outbound_body(o: &OutboundRequest) -> Value {
    let r = &o.recipient;
    let mut v = json!({
        "referenceNumber": o.reference,
        "serviceRegion": o.region,
        "shippingServiceCode": o.service_code,
        "consigneeName": r.name,
        "consigneeAddress1": r.line1,
        "consigneeCity": r.city.clone().unwrap_or_default(),
        "consigneeCountryCode": r.country_code,
        "productList": o.lines.iter().map(|l| {
            let mut p = json!({ "mfSkuId": l.warehouse_sku_id, "skuQuantity": l.quantity });
            if let (Some(value), Some(cur)) = (l.declared_value_minor, &l.currency) {
                p["declaredValue"] = json!(minor_to_number(value));
                p["currency"] = json!(cur);
            }
            p
        }).collect::<Vec<_>>(),
    });
    match &o.source {
        // Both ids are required for eBay orders [D seed 003 §2-4-2; OC Postman `ebayId`].
        OrderSource::Ebay { seller_id, order_id } => {
            v["orderPlatform"] = json!("eBay");
            v["ebayId"] = json!(seller_id);
            v["ebayOrderId"] = json!(order_id);
        }
        OrderSource::Other => v["orderPlatform"] = json!("OTHERS"),
    }
    for (key, value) in [
        ("consigneeAddress2", &r.line2),
        ("consigneeProvinceOrState", &r.state),
        ("consigneeZipCode", &r.postal_code),
        ("consigneePhone", &r.phone),
        ("consigneeEmail", &r.email),
        ("companyName", &r.company),
    ] {
        if let Some(x) = value.as_ref().filter(|x| !x.trim().is_empty()) {
            v[key] = json!(x);
        }
    }
    v
}

/// 1234 → 12.34 (OC's amounts are JSON numbers with two decimals).
fn minor_to_number(v: i64) -> f64 {
    // Exact for any amount below 2^53 minor units.
    v as f64 / 100.0
}

/// 1234 → "12.34"
#[cfg(test)]
fn minor_to_decimal(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// "3.45" → 345 (two decimals; more are rounded).
fn decimal_to_minor(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => s.trim().parse::<f64>().ok().map(|f| (f * 100.0).round() as i64),
        Value::Number(n) => n.as_f64().map(|f| (f * 100.0).round() as i64),
        _ => None,
    }
}

fn outbound_phase(s: &str) -> OutboundPhase {
    match s.trim().to_ascii_uppercase().replace([' ', '-'], "_").as_str() {
        "CREATED" | "NEW" | "PENDING" => OutboundPhase::Created,
        "PROCESSING" | "ALLOCATED" => OutboundPhase::Processing,
        "PICKED" | "PICKING" => OutboundPhase::Picked,
        "PACKED" => OutboundPhase::Packed,
        "SHIPPED" | "DISPATCHED" | "DELIVERED" => OutboundPhase::Shipped,
        "CANCELLED" | "CANCELED" => OutboundPhase::Cancelled,
        "EXCEPTION" | "ABNORMAL" | "ON_HOLD" => OutboundPhase::Exception,
        // OC's status list is not public (WIRE.md): anything else is still in the
        // warehouse's hands, never a reason to give the order up.
        other => {
            tracing::warn!(status = other, "unknown OrangeConnex outbound status; treated as PROCESSING");
            OutboundPhase::Processing
        }
    }
}

fn outbound_rows(data: &Value) -> Result<Vec<OutboundState>, ConnectorError> {
    let rows = match data {
        Value::Array(a) => a.as_slice(),
        Value::Null => &[],
        other => get_array(other, "orderList"),
    };
    rows.iter()
        .map(|r| {
            let order_number = get_str(r, "orderNumber")
                .ok_or_else(|| ConnectorError::Decode("outbound order without orderNumber".into()))?;
            let parcel = get_array(r, "trackingNumberList").first().and_then(|t| {
                let weight = get_i64(t, "chargeableWeight")
                    .or_else(|| get(t, "chargeableWeight").and_then(decimal_to_minor).map(|centi| centi / 100));
                let unit = get_str(t, "chargeableWeightUnit").unwrap_or_else(|| "g".into()).to_ascii_lowercase();
                let grams = match unit.as_str() {
                    "kg" => get(t, "chargeableWeight").and_then(decimal_to_minor).map(|centi_kg| centi_kg * 10),
                    _ => weight,
                };
                Some(OutboundParcel {
                    tracking_number: get_str(t, "trackingNumber")?,
                    carrier_code: get_str(t, "LMCarrierCode"),
                    carrier_name: get_str(t, "LMCarrierName"),
                    chargeable_weight_grams: grams.and_then(|g| i32::try_from(g).ok()),
                    fee_minor: get(t, "feeAmount").and_then(decimal_to_minor),
                    fee_currency: get_str(t, "feeAmountCurrency"),
                })
            });
            Ok(OutboundState {
                order_number,
                reference: get_str(r, "referenceNumber"),
                auto_fulfilled: get_bool(r, "autoFulfillmentEF").unwrap_or(false),
                platform_order_id: get_str(r, "ebayOrderId"),
                phase: get_str(r, "orderStatus")
                    .map_or(if parcel.is_some() { OutboundPhase::Packed } else { OutboundPhase::Created }, |s| {
                        outbound_phase(&s)
                    }),
                region: get_str(r, "serviceRegion"),
                created_at: get_str(r, "orderCreationTime").and_then(|s| sign::parse_time(&s)),
                parcel,
            })
        })
        .collect()
}

/// OC's error code for an inbound order it does not hold (apifox Inbound Order Detail Query
/// error example).
const INBOUND_NOT_FOUND: &str = "3A0529";

/// The rows of an inbound detail answer: `data.inboundOrderList[]` [D apifox Inbound Order
/// Detail Query]; a bare list too.
fn inbound_rows(v: &Value) -> &[Value] {
    match v {
        Value::Array(a) => a.as_slice(),
        other => get_array(other, "inboundOrderList"),
    }
}

fn inbound_state(r: &Value) -> Option<InboundState> {
    let number = get_str(r, "inboundNumber").or_else(|| get_str(r, "inboundOrderNumber"))?;
    Some(InboundState {
        inbound_number: number,
        phase: inbound_phase(&get_str(r, "status").unwrap_or_default()),
        warehouse_code: get_str(r, "warehouseCode"),
        clearance_received: get_bool(r, "clearanceDocReceived"),
        // Keys matched case-insensitively (`SKUList`/`skuList`/`skulist`).
        lines: get_array(r, "SKUList")
            .iter()
            .filter_map(|l| {
                Some(InboundLineState {
                    warehouse_sku_id: mfsku_id(l).or_else(|| get_str(l, "mfSkuId"))?,
                    carton: get_str(l, "sellerCartonNumber").or_else(|| get_str(l, "cartonNumber")),
                    quantity: line_count(l, &["quantity", "skuQuantity", "skuQty"]).unwrap_or(0),
                    received: line_count(l, &["receivedQty", "receivedQuantity", "receiveQty", "receivedSkuQty"]),
                    put_away: line_count(l, &["putAwayQty", "putAwayQuantity", "putawaySkuQty", "shelvedQty"]),
                })
            })
            .collect(),
    })
}

fn inbound_phase(s: &str) -> InboundPhase {
    match s.trim().to_ascii_lowercase().replace(['_', '-'], " ").as_str() {
        "in transit" | "shipped" => InboundPhase::InTransit,
        "receiving" | "received" | "arrived" => InboundPhase::Receiving,
        "put away" | "putaway" | "completed" => InboundPhase::PutAway,
        "cancelled" | "canceled" => InboundPhase::Cancelled,
        _ => InboundPhase::Created,
    }
}

fn label_file(v: Option<&Value>) -> Option<FileData> {
    let v = v?;
    let bytes = STANDARD.decode(get_str(v, "content")?.as_bytes()).ok()?;
    Some(FileData { file_name: get_str(v, "fileName").unwrap_or_else(|| "labels.pdf".into()), bytes })
}

fn refusal((code, message, _): wire::ItemError) -> ItemRefusal {
    ItemRefusal { code, message }
}

/// A SKU's id in OC's answers (`MFSKUID`, any casing; `OCSKUID` in newer texts).
fn mfsku_id(v: &Value) -> Option<String> {
    get_str(v, "MFSKUID").or_else(|| get_str(v, "OCSKUID"))
}

/// A review state as OC may spell it. OC's public texts do not list the values (WIRE.md), so
/// the usual spellings are accepted; anything else is `None` (the caller keeps what it knew)
/// rather than a guess that could undo an approval.
fn review_from(s: &str) -> Option<SkuReview> {
    let k = s.trim().to_ascii_uppercase().replace([' ', '-'], "_");
    Some(match k.as_str() {
        "APPROVED" | "APPROVE" | "PASS" | "PASSED" | "AUDITED" | "AUDIT_PASS" | "AUDIT_PASSED" | "ACTIVE"
        | "ACTIVATED" | "AVAILABLE" | "ENABLED" | "ENABLE" | "VERIFIED" | "NORMAL" | "审核通过" | "已审核"
        | "已通过" => SkuReview::Approved,
        "SUBMITTED" | "SUBMIT" | "PENDING" | "PENDING_REVIEW" | "PENDING_APPROVAL" | "REVIEWING" | "UNDER_REVIEW"
        | "IN_REVIEW" | "AUDITING" | "IN_AUDIT" | "WAIT_AUDIT" | "WAITING_AUDIT" | "TO_BE_REVIEWED" | "TO_AUDIT"
        | "审核中" | "待审核" | "已提交" => SkuReview::Submitted,
        "REJECTED" | "REJECT" | "FAILED" | "AUDIT_FAILED" | "AUDIT_REJECTED" | "NOT_PASS" | "NOT_PASSED" | "DENIED"
        | "DISAPPROVED" | "审核不通过" | "审核失败" | "驳回" | "已驳回" => SkuReview::Rejected,
        "DRAFT" | "DRAFTED" | "CREATED" | "NEW" | "SAVED" | "UNSUBMITTED" | "NOT_SUBMITTED" | "草稿" => {
            SkuReview::Draft
        }
        _ => {
            tracing::warn!(status = s, "unknown OrangeConnex SKU status; review state left as it was");
            return None;
        }
    })
}

/// The review state of a SKU row of SKUCreation / SKUQuery: its own status field, else the
/// most advanced status among its regions (`serviceRegionList[].status`).
fn sku_review(v: &Value) -> Option<SkuReview> {
    const KEYS: [&str; 5] = ["status", "SKUStatus", "auditStatus", "reviewStatus", "approvalStatus"];
    let own = KEYS.iter().find_map(|k| get_str(v, k)).and_then(|s| review_from(&s));
    if own.is_some() {
        return own;
    }
    let per_region: Vec<SkuReview> = get_array(v, "serviceRegionList")
        .iter()
        .filter_map(|r| KEYS.iter().find_map(|k| get_str(r, k)).and_then(|s| review_from(&s)))
        .collect();
    [SkuReview::Approved, SkuReview::Submitted, SkuReview::Rejected, SkuReview::Draft]
        .into_iter()
        .find(|r| per_region.contains(r))
}

/// The SKU rows of a SKUQuery v3 answer: `data` is the list [D apifox SKUQuery v3 example];
/// an object holding it (`skuList`, `list`…) is read too.
fn sku_rows(data: &Value) -> &[Value] {
    match data {
        Value::Array(a) => a.as_slice(),
        Value::Object(_) => ["skuList", "list", "records", "rows"]
            .iter()
            .map(|k| get_array(data, k))
            .find(|a| !a.is_empty())
            .unwrap_or_default(),
        _ => &[],
    }
}

fn warehouse_sku(r: &Value) -> Option<WarehouseSku> {
    Some(WarehouseSku {
        warehouse_sku_id: mfsku_id(r)?,
        seller_sku: get_str(r, "sellerSKUID"),
        reference: get_str(r, "referenceSKUID"),
        review: sku_review(r),
        regions: get_array(r, "serviceRegionList").iter().filter_map(|x| get_str(x, "serviceRegion")).collect(),
        updated_at: ["updateTime", "updatedTime", "modifyTime"]
            .iter()
            .find_map(|k| get_str(r, k))
            .and_then(|s| sign::parse_time(&s)),
    })
}

/// One SKUCreation v3 item's outcome: the MFSKUID (and status) unless the item says it
/// failed (`success:false` or errors).
fn sku_created(item: &Value) -> ItemResult<CreatedSku> {
    let errors = get_array(item, "errors");
    let ok = get_bool(item, "success").unwrap_or(errors.is_empty());
    match (ok, mfsku_id(item)) {
        (true, Some(id)) => Ok(CreatedSku { warehouse_sku_id: id, review: sku_review(item) }),
        _ => {
            let code = errors.first().and_then(|e| get_str(e, "code")).unwrap_or_else(|| "REJECTED".into());
            let mut message: Vec<String> = errors.iter().filter_map(|e| get_str(e, "message")).collect();
            if message.is_empty() {
                message.extend(get_str(item, "message"));
            }
            let message = if message.is_empty() { "refused without a message".to_owned() } else { message.join("; ") };
            Err(ItemRefusal { code, message })
        }
    }
}

/// SKUCreation v3's answer for one batch, in input order: matched by `referenceSKUID` when
/// every item names it, else by position (then the counts must agree).
fn sku_results(data: &Value, chunk: &[NewWarehouseSku]) -> Result<Vec<ItemResult<CreatedSku>>, ConnectorError> {
    let items: &[Value] = match data {
        Value::Array(a) => a.as_slice(),
        Value::Null => &[],
        other => sku_rows(other),
    };
    let by_reference = !items.is_empty() && items.iter().all(|i| get_str(i, "referenceSKUID").is_some());
    if !by_reference && items.len() != chunk.len() {
        return Err(ConnectorError::Decode(format!(
            "SKU creation answered {} results for {} SKUs",
            items.len(),
            chunk.len()
        )));
    }
    Ok(chunk
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let item = if by_reference {
                items.iter().find(|it| get_str(it, "referenceSKUID").as_deref() == Some(s.reference.as_str()))
            } else {
                items.get(i)
            };
            item.map_or_else(
                || {
                    Err(ItemRefusal {
                        code: "NO_RESULT".into(),
                        message: "OrangeConnex answered nothing for this SKU".into(),
                    })
                },
                sku_created,
            )
        })
        .collect())
}

/// An inbound line count under OC's names (`receivedQty`, `putAwayQty` [C evamp-ops
/// oc_client.py, list query]) or the long forms; `None` when absent.
fn line_count(l: &Value, keys: &[&str]) -> Option<i32> {
    keys.iter().find_map(|k| get_i64(l, k)).map(|q| i32::try_from(q.max(0)).unwrap_or(i32::MAX))
}

#[async_trait]
impl Warehouse for OrangeConnex {
    async fn services(&self, token: &SecretString) -> Result<Vec<WarehouseService>, ConnectorError> {
        let data = self.call(token, "/openapi/3pp/base/v1/service", None, None).await?;
        let regions = data.as_array().ok_or_else(|| ConnectorError::Decode("service list is not a list".into()))?;
        let mut out = Vec::new();
        for r in regions {
            let Some(region) = get_str(r, "serviceRegion") else { continue };
            for p in get_array(r, "productList") {
                let Some(code) = get_str(p, "shippingServiceCode") else { continue };
                let names = get_array(p, "shippingServiceNameList");
                let pick = |lang: &str| {
                    names
                        .iter()
                        .find(|n| get_str(n, "language").is_some_and(|l| l.to_ascii_lowercase().starts_with(lang)))
                        .and_then(|n| get_str(n, "shippingServiceName"))
                };
                let name = pick("en").or_else(|| names.first().and_then(|n| get_str(n, "shippingServiceName")));
                out.push(WarehouseService { region: region.clone(), name: name.unwrap_or_else(|| code.clone()), code });
            }
        }
        Ok(out)
    }

    async fn create_skus(
        &self,
        token: &SecretString,
        skus: &[NewWarehouseSku],
    ) -> Result<Vec<ItemResult<CreatedSku>>, ConnectorError> {
        let mut out: Vec<ItemResult<CreatedSku>> = Vec::with_capacity(skus.len());
        for chunk in skus.chunks(SKU_BATCH) {
            let body = Value::Array(chunk.iter().map(sku_body).collect());
            let mut refused = Vec::new();
            let Some(data) =
                self.batch_call(token, "/openapi/3pp/sku/v3/creation", body, chunk.len(), &mut refused).await?
            else {
                out.extend(refused.into_iter().map(|r| r.map(|id| CreatedSku { warehouse_sku_id: id, review: None })));
                continue;
            };
            out.extend(sku_results(&data, chunk)?);
        }
        Ok(out)
    }

    async fn query_skus(&self, token: &SecretString, q: &SkuQuery) -> Result<Vec<WarehouseSku>, ConnectorError> {
        // OC refuses a query without a list [D apifox SKUQuery v3: "SKUList requires at least one entry"].
        if q.is_empty() {
            return Err(ConnectorError::Rejected {
                code: "400".into(),
                message: "At least one of referenceSKUIDList, sellerSKUIDList, mfskulist is required".into(),
            });
        }
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let lists: [(&str, &str, &[String]); 3] = [
            ("mfskulist", "mfskuid", &q.warehouse_sku_ids),
            ("referenceSKUIDList", "referenceSKUID", &q.references),
            ("sellerSKUIDList", "sellerSKUID", &q.seller_skus),
        ];
        for (list_key, item_key, values) in lists {
            // One list per request (how OC combines several lists is not documented), ≤ 200 entries.
            for chunk in values.chunks(SKU_QUERY_LIMIT) {
                let mut previous: Vec<String> = Vec::new();
                for page in 1..=SKU_QUERY_MAX_PAGES {
                    let mut data = serde_json::Map::new();
                    data.insert(
                        list_key.to_owned(),
                        Value::Array(chunk.iter().map(|v| json!({ item_key: v })).collect()),
                    );
                    data.insert("page".into(), json!(page));
                    data.insert("limit".into(), json!(SKU_QUERY_LIMIT));
                    if let Some(since) = q.since {
                        // Dates, as OC's sample sends them (`2022-10-31+0800`); the end day is
                        // included whole.
                        let cst = |t: DateTime<Utc>| t.with_timezone(&sign::cst()).date_naive();
                        let end = q.until.unwrap_or_else(Utc::now);
                        data.insert("startTime".into(), json!(sign::format_date(cst(since))));
                        data.insert(
                            "endTime".into(),
                            json!(sign::format_date(cst(end).succ_opt().unwrap_or_else(|| cst(end)))),
                        );
                    }
                    let v = self.call(token, "/openapi/3pp/sku/v3/query", Some(Value::Object(data)), None).await?;
                    let rows = sku_rows(&v);
                    let ids: Vec<String> = rows.iter().filter_map(mfsku_id).collect();
                    for sku in rows.iter().filter_map(warehouse_sku) {
                        if seen.insert(sku.warehouse_sku_id.clone()) {
                            out.push(sku);
                        }
                    }
                    let total = ["total", "totalCount"]
                        .iter()
                        .find_map(|k| get_i64(&v, k))
                        .and_then(|t| usize::try_from(t).ok());
                    let done = rows.len() < SKU_QUERY_LIMIT
                        || total.is_some_and(|t| page as usize * SKU_QUERY_LIMIT >= t)
                        // A server that ignores `page` answers the same page again.
                        || ids == previous;
                    if done {
                        break;
                    }
                    previous = ids;
                }
            }
        }
        Ok(out)
    }

    async fn place_outbound(
        &self,
        token: &SecretString,
        orders: &[OutboundRequest],
    ) -> Result<Vec<ItemResult<String>>, ConnectorError> {
        let mut out = Vec::with_capacity(orders.len());
        for chunk in orders.chunks(OUTBOUND_BATCH) {
            let body = Value::Array(chunk.iter().map(outbound_body).collect());
            let Some(data) =
                self.batch_call(token, "/openapi/3pp/outbound/v1/creation", body, chunk.len(), &mut out).await?
            else {
                continue;
            };
            for r in wire::item_results(&data, "orderNumber", chunk.len())? {
                out.push(match r {
                    // Placed before (a retry after a timeout): that order is ours, whatever
                    // else the item complains about.
                    Err((code, _, Some(existing))) if code == "DUPLICATE_REFERENCE_NUMBER" => Ok(existing),
                    other => other.map_err(refusal),
                });
            }
        }
        Ok(out)
    }

    async fn query_outbound(
        &self,
        token: &SecretString,
        q: &OutboundQuery,
    ) -> Result<Vec<OutboundState>, ConnectorError> {
        let mut out = Vec::new();
        for chunk in q.order_numbers.chunks(QUERY_LIST) {
            let data =
                json!({ "orderNumberList": chunk.iter().map(|n| json!({ "orderNumber": n })).collect::<Vec<_>>() });
            out.extend(outbound_rows(
                &self.call(token, "/openapi/3pp/outbound/v2/query", Some(data), Some("2.0")).await?,
            )?);
        }
        for chunk in q.references.chunks(QUERY_LIST) {
            let data = json!({ "referenceNumberList": chunk.iter().map(|n| json!({ "referenceNumber": n })).collect::<Vec<_>>() });
            out.extend(outbound_rows(
                &self.call(token, "/openapi/3pp/outbound/v2/query", Some(data), Some("2.0")).await?,
            )?);
        }
        if let Some((from, to)) = q.window {
            self.query_window(token, from, to, &mut out).await?;
        }
        Ok(out)
    }

    async fn cancel_outbound(
        &self,
        token: &SecretString,
        order_number: &str,
        reason: &str,
    ) -> Result<(), ConnectorError> {
        let data = json!({
            "orderNumber": order_number,
            "cancelReason": reason,
            "cancelTime": sign::format_time(Utc::now()),
        });
        self.call(token, "/openapi/3pp/outbound/v1/cancel", Some(data), None).await.map(|_| ())
    }

    async fn create_inbound(
        &self,
        token: &SecretString,
        req: &InboundRequest,
    ) -> Result<InboundCreated, ConnectorError> {
        // EX = express (tracking uploaded, no appointment); other methods are freight with
        // a transport method (OF sea, AF air, TK truck) [D/I].
        let (shipping, transport) = match req.method {
            InboundMethod::Express => ("EX", None),
            InboundMethod::Sea => ("TK", Some("OF")),
            InboundMethod::Air => ("TK", Some("AF")),
            InboundMethod::Truck => ("TK", Some("TK")),
        };
        let mut data = json!({
            "sellerInboundNumber": req.seller_number,
            "serviceRegion": req.region,
            "shippingFrom": req.ship_from,
            "shippingMethod": shipping,
            "eta": sign::format_date(req.eta),
            "needClearanceDoc": req.need_clearance_doc,
            "cartonList": req.cartons.iter().map(|c| {
                let mut carton = json!({
                    "sellerCartonNumber": c.number,
                    "productList": c.lines.iter().map(|(id, q)| json!({ "mfskuid": id, "quantity": q })).collect::<Vec<_>>(),
                });
                if let Some(o) = &c.origin_country {
                    carton["cartonOriginCountry"] = json!(o);
                }
                carton
            }).collect::<Vec<_>>(),
        });
        if let Some(t) = transport {
            data["transportMethod"] = json!(t);
        }
        let v = self.create_call(token, "/openapi/3pp/inbound/v1/creation", data).await?;
        Ok(InboundCreated {
            inbound_number: get_str(&v, "inboundNumber")
                .ok_or_else(|| ConnectorError::Decode("inbound creation without inboundNumber".into()))?,
            sku_labels: label_file(get(&v, "skuLabel")),
            carton_labels: label_file(get(&v, "cartonLabel")),
        })
    }

    async fn upload_inbound_tracking(
        &self,
        token: &SecretString,
        inbound_number: &str,
        seller_number: &str,
        cartons: &[CartonTracking],
    ) -> Result<(), ConnectorError> {
        let data = json!({
            "inboundNumber": inbound_number,
            "referenceNumber": seller_number,
            "trackingList": cartons.iter().map(|c| json!({
                "cartonNumber": c.carton, "carrier": c.carrier, "trackingNumber": c.tracking_number,
            })).collect::<Vec<_>>(),
        });
        self.call(token, "/openapi/3pp/inbound/v1/upload/shipment-file", Some(data), None).await.map(|_| ())
    }

    async fn upload_clearance_file(
        &self,
        token: &SecretString,
        inbound_number: &str,
        file_type: &str,
        file: &FileData,
    ) -> Result<(), ConnectorError> {
        let data = json!({
            "inboundNumber": inbound_number,
            "fileList": [{ "file": STANDARD.encode(&file.bytes), "fileName": file.file_name, "fileType": file_type }],
        });
        self.call(token, "/openapi/3pp/inbound/v1/upload/customs-clearance-file", Some(data), None).await.map(|_| ())
    }

    async fn inbound_details(
        &self,
        token: &SecretString,
        inbound_numbers: &[String],
    ) -> Result<Vec<InboundState>, ConnectorError> {
        let mut out = Vec::new();
        for chunk in inbound_numbers.chunks(DETAIL_BATCH) {
            let v = self
                .call(token, "/openapi/3pp/inbound/v1/detail", Some(json!({ "inboundNumberList": chunk })), None)
                .await?;
            out.extend(inbound_rows(&v).iter().filter_map(inbound_state));
        }
        Ok(out)
    }

    async fn find_inbound(
        &self,
        token: &SecretString,
        seller_number: &str,
    ) -> Result<Option<InboundState>, ConnectorError> {
        // `sellerinboundNumberList` (lower-case i) [D apifox Inbound Order Detail Query];
        // no window: both times are optional there.
        let data = json!({ "sellerinboundNumberList": [seller_number] });
        let v = match self.call(token, "/openapi/3pp/inbound/v1/detail", Some(data), None).await {
            Ok(v) => v,
            // OC's documented answer for a number it does not hold [D]: confirmed absent.
            Err(ConnectorError::Rejected { code, .. }) if code == INBOUND_NOT_FOUND => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(inbound_rows(&v)
            .iter()
            .filter(|r| {
                // OC filtered on our one number; a row naming another one is not ours.
                ["sellerinboundNumber", "sellerInboundNo", "referenceNumber"]
                    .iter()
                    .find_map(|k| get_str(r, k))
                    .is_none_or(|n| n == seller_number)
            })
            .find_map(inbound_state))
    }

    async fn stock_levels(
        &self,
        token: &SecretString,
        warehouse_sku_ids: &[String],
    ) -> Result<Vec<StockLevel>, ConnectorError> {
        let mut out = Vec::new();
        for chunk in warehouse_sku_ids.chunks(STOCK_PAGE) {
            let mut page = 1u32;
            loop {
                let data = json!({
                    "pageNumber": page,
                    "pageSize": STOCK_PAGE,
                    "skuList": chunk.iter().map(|id| json!({ "mfSkuId": id })).collect::<Vec<_>>(),
                });
                let v = self.call(token, "/openapi/3pp/inventory/v2/snapshot", Some(data), None).await?;
                let rows = get_array(&v, "SKUList");
                let n = |r: &Value, k: &str| get_i64(r, k).and_then(|q| i32::try_from(q).ok()).unwrap_or(0);
                for r in rows {
                    let (Some(id), Some(region)) = (get_str(r, "MFSKUID"), get_str(r, "serviceRegion")) else {
                        continue;
                    };
                    out.push(StockLevel {
                        warehouse_code: get_str(r, "warehouseCode").unwrap_or_else(|| region.clone()),
                        warehouse_sku_id: id,
                        region,
                        available: n(r, "available"),
                        in_transit: n(r, "inTransit"),
                        received: n(r, "received"),
                        reserved: n(r, "reservedAllocated") + n(r, "reservedHold") + n(r, "reservedVAS"),
                        unfulfillable: n(r, "unfulfillable") + n(r, "suspend"),
                    });
                }
                // Page until a page comes back short [C].
                if rows.len() < STOCK_PAGE {
                    break;
                }
                page += 1;
            }
        }
        Ok(out)
    }

    async fn stock_movements(
        &self,
        token: &SecretString,
        warehouse_sku_ids: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<StockMovement>, ConnectorError> {
        let mut out = Vec::new();
        for (a, b) in movement_windows(from, to) {
            for chunk in warehouse_sku_ids.chunks(MOVEMENT_SKUS) {
                let data = json!({
                    "startTime": sign::format_time(a),
                    "endTime": sign::format_end(b),
                    "mfSkuList": chunk.iter().map(|id| json!({ "mfSkuId": id })).collect::<Vec<_>>(),
                });
                let v = self.call(token, "/openapi/3pp/inventory/v1/movement", Some(data), None).await?;
                for sku in v.as_array().map(Vec::as_slice).unwrap_or_default() {
                    let Some(id) = get_str(sku, "MFSKUID") else { continue };
                    for region in get_array(sku, "serviceRegionList") {
                        let region_code = get_str(region, "serviceRegion").unwrap_or_default();
                        for inv in get_array(region, "inventoryList") {
                            let status = get_str(inv, "inventoryStatus").unwrap_or_default();
                            for m in get_array(inv, "movementList") {
                                // OC spells it `moventmentID` [C]; accept the correct spelling too.
                                let Some(mid) = get_str(m, "moventmentID").or_else(|| get_str(m, "movementID")) else {
                                    continue;
                                };
                                let Some(at) = get_str(m, "updateTime").and_then(|s| sign::parse_time(&s)) else {
                                    continue;
                                };
                                out.push(StockMovement {
                                    warehouse_sku_id: id.clone(),
                                    region: region_code.clone(),
                                    inventory_status: status.clone(),
                                    id: mid,
                                    quantity: get_i64(m, "quantity").and_then(|q| i32::try_from(q).ok()).unwrap_or(0),
                                    reason: get_str(m, "reason"),
                                    order_number: get_str(m, "orderNumber"),
                                    at,
                                });
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// `[from, to)` cut into consecutive windows of at most 7 days.
pub fn movement_windows(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    // Whole seconds (OC's), so no window grows past 7 days when its end is rounded up.
    let mut a = DateTime::from_timestamp(from.timestamp(), 0).unwrap_or(from);
    while a < to {
        let b = (a + Duration::days(MOVEMENT_WINDOW_DAYS)).min(to);
        out.push((a, b));
        a = b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
    }

    #[test]
    fn thirty_days_is_five_windows() {
        let w = movement_windows(t("2026-10-01T00:00:00Z"), t("2026-10-31T00:00:00Z"));
        assert_eq!(w.len(), 5);
        assert!(w.iter().all(|(a, b)| *b - *a <= Duration::days(7)));
        assert_eq!(w[0].0, t("2026-10-01T00:00:00Z"));
        assert_eq!(w[4].1, t("2026-10-31T00:00:00Z"));
        assert!(w.windows(2).all(|p| p[0].1 == p[1].0));
        assert!(movement_windows(t("2026-10-02T00:00:00Z"), t("2026-10-01T00:00:00Z")).is_empty());
    }

    #[test]
    fn amounts_and_phases() {
        assert_eq!(minor_to_decimal(1234), "12.34");
        assert_eq!(minor_to_decimal(-5), "-0.05");
        assert_eq!(decimal_to_minor(&json!("3.45")), Some(345));
        assert_eq!(decimal_to_minor(&json!(2)), Some(200));
        assert_eq!(outbound_phase("Picked"), OutboundPhase::Picked);
        assert_eq!(outbound_phase("weird"), OutboundPhase::Processing);
        assert_eq!(outbound_phase("EXCEPTION"), OutboundPhase::Exception);
        assert_eq!(inbound_phase("Put away"), InboundPhase::PutAway);
    }

    #[test]
    fn envelope_errors() {
        let env: wire::Envelope =
            serde_json::from_value(json!({"success": false, "code": "401", "message": "expired"})).unwrap();
        assert!(matches!(env.into_data(), Err(ConnectorError::Unauthorized(_))));
        let ok: wire::Envelope = serde_json::from_value(json!({"code": 0, "message": "成功", "data": [1]})).unwrap();
        assert_eq!(ok.into_data(), Ok(json!([1])));
        let refused: wire::Envelope = serde_json::from_value(
            json!({"success": false, "code": "ORDER_PICKED", "message": "picked", "errors": [{"message": "too late"}]}),
        )
        .unwrap();
        assert_eq!(
            refused.into_data(),
            Err(ConnectorError::Rejected { code: "ORDER_PICKED".into(), message: "picked: too late".into() })
        );
    }

    fn new_sku(reference: &str) -> NewWarehouseSku {
        NewWarehouseSku {
            reference: reference.into(),
            name_en: "Mug".into(),
            name_cn: None,
            with_battery: false,
            regions: vec!["UK".into()],
            hs_countries: vec!["GB".into()],
            origin_country: None,
            hs_code: Some("691200".into()),
            declared_value_minor: None,
            declared_currency: None,
            weight_grams: None,
        }
    }

    #[test]
    fn sku_bodies_use_oc_regions() {
        let v = sku_body(&new_sku("MUG-1"));
        assert_eq!(v["serviceRegionList"][0]["serviceRegion"], "UK");
        assert_eq!(v["SKUNameList"][0]["languageCode"], "en-US");
        assert_eq!(v["hscodeList"][0]["countryCode"], "GB");
    }

    #[test]
    fn sku_creation_answers() {
        let chunk = [new_sku("A"), new_sku("B"), new_sku("C")];
        // Matched by referenceSKUID, whatever the order; status read when given.
        let data = json!([
            { "referenceSKUID": "B", "MFSKUID": "OC0000000000002", "status": "Approved" },
            { "referenceSKUID": "A", "mfskuid": "OC0000000000001" },
            { "referenceSKUID": "C", "success": false, "errors": [{ "code": "E1", "message": "bad name" }] },
        ]);
        let r = sku_results(&data, &chunk).unwrap();
        assert_eq!(r[0], Ok(CreatedSku { warehouse_sku_id: "OC0000000000001".into(), review: None }));
        assert_eq!(
            r[1],
            Ok(CreatedSku { warehouse_sku_id: "OC0000000000002".into(), review: Some(SkuReview::Approved) })
        );
        assert_eq!(r[2], Err(ItemRefusal { code: "E1".into(), message: "bad name".into() }));
        // By position when the items do not name their reference.
        let r = sku_results(&json!([{ "MFSKUID": "OC1", "status": "DRAFT" }]), &chunk[..1]).unwrap();
        assert_eq!(r[0], Ok(CreatedSku { warehouse_sku_id: "OC1".into(), review: Some(SkuReview::Draft) }));
        assert!(sku_results(&json!([]), &chunk).is_err());
    }

    #[test]
    fn sku_query_rows_and_statuses() {
        let data = json!([{ "MFSKUID": "OC1", "sellerSKUID": "MUG-1", "referenceSKUID": "MUG-1",
            "serviceRegionList": [{ "serviceRegion": "UK", "status": "APPROVED" }] }]);
        let rows: Vec<WarehouseSku> = sku_rows(&data).iter().filter_map(warehouse_sku).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].regions, vec!["UK".to_owned()]);
        assert_eq!(rows[0].review, Some(SkuReview::Approved));
        let wrapped = json!({ "total": 1, "skuList": [{ "MFSKUID": "OC2", "skuStatus": "Under Review" }] });
        let rows: Vec<WarehouseSku> = sku_rows(&wrapped).iter().filter_map(warehouse_sku).collect();
        assert_eq!(rows[0].review, Some(SkuReview::Submitted));
        assert_eq!(review_from("rejected"), Some(SkuReview::Rejected));
        assert_eq!(review_from("草稿"), Some(SkuReview::Draft));
        assert_eq!(review_from("7"), None);
    }

    #[test]
    fn inbound_line_counts() {
        let l = json!({ "mfskuid": "OC1", "skuQuantity": "40", "receivedQty": "40", "PUTAWAYQTY": 38 });
        assert_eq!(line_count(&l, &["quantity", "skuQuantity"]), Some(40));
        assert_eq!(line_count(&l, &["receivedQty", "receivedQuantity"]), Some(40));
        assert_eq!(line_count(&l, &["putAwayQty", "putAwayQuantity"]), Some(38));
        assert_eq!(line_count(&json!({ "receivedQuantity": 5 }), &["receivedQty", "receivedQuantity"]), Some(5));
        assert_eq!(line_count(&json!({}), &["putAwayQty"]), None);
    }

    #[test]
    fn ebay_orders_carry_the_ebay_ids() {
        let o = OutboundRequest {
            reference: "r1".into(),
            source: OrderSource::Ebay { seller_id: "seller".into(), order_id: "02-05696-00555".into() },
            region: "UK".into(),
            service_code: "GBDomesticStandard".into(),
            recipient: crate::connectors::marketplace::Address {
                name: "A O'Neil".into(),
                line1: "1 High St".into(),
                country_code: "GB".into(),
                city: Some("London".into()),
                ..Default::default()
            },
            lines: vec![super::super::OutboundLine {
                warehouse_sku_id: "OC0000000000001".into(),
                quantity: 2,
                declared_value_minor: None,
                currency: None,
            }],
        };
        let v = outbound_body(&o);
        assert_eq!(v["orderPlatform"], "eBay");
        assert_eq!(v["ebayOrderId"], "02-05696-00555");
        assert_eq!(v["ebayId"], "seller");
        assert_eq!(v["serviceRegion"], "UK");
        assert_eq!(v["consigneeName"], "A O'Neil");
        assert!(v.get("consigneeZipCode").is_none());
    }
}
